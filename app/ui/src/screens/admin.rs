//! Administration: users (search by phone or username, detail, role, deactivate with a recorded
//! reason), payments by reference, resolving a code by hand (picked from the review queue or a
//! seller's sales, confirmed first), and the money reconcile. Errors show where the action was
//! taken, not in the page banner.

use dioxus::prelude::*;
use oddxer_shared::api::{CodeOut, ReconcileReport, ResolutionOut, UserOut};
use oddxer_shared::client::{AdminResolveIn, AdminUpdateUserIn, AdminUsersIn, CommandError};
use oddxer_shared::{Outcome, Role};

use crate::format;
use crate::ipc;
use crate::state::{set_if_mounted, spawn_command, AppState};
use crate::widgets::{Empty, Spinner};

use super::admin_detail::{PaymentsLookupCard, PickedCode, UserDetailCard};

#[derive(Debug, Clone, Default, PartialEq)]
struct Users {
    filter: AdminUsersIn,
    items: Vec<UserOut>,
    next_cursor: Option<String>,
    loading: bool,
    loaded: bool,
    error: Option<CommandError>,
}

fn load_users(mut users: Signal<Users>, filter: AdminUsersIn, more: bool) {
    let cursor = if more {
        users.peek().next_cursor.clone()
    } else {
        None
    };
    if more && (cursor.is_none() || users.peek().loading) {
        return;
    }
    {
        let mut u = users.write();
        if !more {
            *u = Users {
                filter: filter.clone(),
                ..Users::default()
            };
        }
        u.loading = true;
    }
    let input = AdminUsersIn {
        cursor,
        ..filter.clone()
    };
    spawn(async move {
        let result = ipc::admin_users(&input).await;
        let mut u = users.write();
        if u.filter != filter {
            return;
        }
        u.loading = false;
        u.loaded = true;
        match result {
            Ok(page) => {
                for user in page.items {
                    if !u.items.iter().any(|x| x.id == user.id) {
                        u.items.push(user);
                    }
                }
                u.next_cursor = page.next_cursor;
                u.error = None;
            }
            Err(e) => u.error = Some(e),
        }
    });
}

#[component]
pub fn Admin() -> Element {
    let state = use_context::<AppState>();
    if state.role() != Role::Admin {
        return rsx! {
            main { class: "page", Empty { id: "admin-forbidden", title: "Admins only", text: "This screen is for Oddxer's administrators." } }
        };
    }
    rsx! { AdminScreen {} }
}

#[component]
fn AdminScreen() -> Element {
    let mut selected = use_signal(|| None::<String>);
    let picked = use_signal(|| None::<PickedCode>);
    let resolve_id = use_signal(String::new);
    rsx! {
        main { class: "page admin", id: "admin",
            div { class: "page-head",
                div {
                    h2 { "Admin" }
                    p { class: "muted", "Users, payments, manual resolutions and the money reconcile." }
                }
            }
            div { class: "admin-grid",
                div { class: "admin-main",
                    if let Some(id) = selected() {
                        UserDetailCard { key: "{id}", id: id.clone(),
                            on_close: move |_| selected.set(None),
                            on_pick: move |code: PickedCode| {
                                let (mut picked, mut resolve_id) = (picked, resolve_id);
                                resolve_id.set(code.id.clone());
                                picked.set(Some(code));
                            },
                        }
                    }
                    UsersCard { selected }
                }
                div { class: "admin-side",
                    ResolveCard { picked, code_id: resolve_id }
                    PaymentsLookupCard {}
                    ReconcileCard {}
                }
            }
        }
    }
}

#[component]
fn UsersCard(selected: Signal<Option<String>>) -> Element {
    let users = use_signal(Users::default);
    let mut query = use_signal(String::new);
    use_hook(move || load_users(users, AdminUsersIn::default(), false));
    let u = users.read();
    let filter = u.filter.clone();
    let role_filter = filter.clone();
    let active_filter = filter.clone();
    let more_filter = filter.clone();
    let search_filter = filter.clone();
    let search = move |evt: FormEvent| {
        evt.prevent_default();
        let q = query.peek().trim().to_owned();
        load_users(
            users,
            AdminUsersIn {
                q: (!q.is_empty()).then_some(q),
                cursor: None,
                ..search_filter.clone()
            },
            false,
        );
    };

    rsx! {
        section { class: "card table-card", id: "admin-users-card",
            form { class: "search-row pad", id: "admin-user-search-form", onsubmit: search, novalidate: true,
                input { id: "admin-user-search", r#type: "search", placeholder: "Phone number or username",
                    aria_label: "Search users by phone number or username",
                    value: "{query}", oninput: move |e| query.set(e.value()) }
                button { class: "btn btn-secondary btn-small", id: "admin-user-search-submit", r#type: "submit", "Search" }
            }
            div { class: "card-head pad",
                h3 { "Users" }
                div { class: "filters-inline",
                    select { id: "admin-role-filter", class: "select select-small",
                        onchange: move |e| {
                            let role = Role::parse(&e.value());
                            load_users(users, AdminUsersIn { role, cursor: None, ..role_filter.clone() }, false);
                        },
                        option { value: "", selected: filter.role.is_none(), "All roles" }
                        for r in [Role::Buyer, Role::Seller, Role::Admin] {
                            option { key: "{r.as_str()}", value: r.as_str(), selected: filter.role == Some(r), {format::role(r)} }
                        }
                    }
                    select { id: "admin-active-filter", class: "select select-small",
                        onchange: move |e| {
                            let active = match e.value().as_str() { "true" => Some(true), "false" => Some(false), _ => None };
                            load_users(users, AdminUsersIn { active, cursor: None, ..active_filter.clone() }, false);
                        },
                        option { value: "", selected: filter.active.is_none(), "Active or deactivated" }
                        option { value: "true", selected: filter.active == Some(true), "Active" }
                        option { value: "false", selected: filter.active == Some(false), "Deactivated" }
                    }
                }
            }
            if let Some(e) = u.error.as_ref() {
                p { class: "note note-error pad", id: "admin-users-error", "{e.message}" }
            }
            if u.loaded && u.items.is_empty() && u.error.is_none() {
                Empty { id: "admin-users-empty", title: "No users match", text: "Try another filter." }
            }
            if !u.items.is_empty() {
                div { class: "table-scroll",
                    table { class: "table stack-sm", id: "admin-users-table",
                        thead {
                            tr {
                                th { "User" }
                                th { class: "hide-sm", "Phone" }
                                th { "Role" }
                                th { "Status" }
                            }
                        }
                        tbody {
                            for user in u.items.iter() {
                                UserRow { key: "{user.id}", user: user.clone(), users, selected }
                            }
                        }
                    }
                }
            }
            if u.loading {
                Spinner { label: "Loading users…" }
            } else if u.next_cursor.is_some() {
                div { class: "load-more",
                    button { class: "btn btn-secondary", id: "admin-users-more", r#type: "button",
                        onclick: move |_| load_users(users, more_filter.clone(), true), "Show more" }
                }
            }
        }
    }
}

#[component]
fn UserRow(user: UserOut, users: Signal<Users>, selected: Signal<Option<String>>) -> Element {
    let state = use_context::<AppState>();
    let busy = state.is_busy();
    let me = state
        .snapshot
        .read()
        .as_ref()
        .and_then(|s| s.user.as_ref().map(|u| u.id.clone()));
    let is_me = me.as_deref() == Some(user.id.as_str());
    let mut confirming = use_signal(|| false);
    let mut reason = use_signal(String::new);
    let mut row_error = use_signal(|| None::<String>);

    let mut update = move |input: AdminUpdateUserIn| {
        row_error.set(None);
        spawn_command(async move {
            match state
                .attempt("Updating the user", ipc::admin_update_user(&input))
                .await
            {
                Some(Ok(updated)) => {
                    let mut users = users;
                    if let Ok(mut u) = users.try_write() {
                        if let Some(row) = u.items.iter_mut().find(|x| x.id == updated.id) {
                            *row = updated;
                        }
                    };
                    set_if_mounted(confirming, false);
                    set_if_mounted(reason, String::new());
                }
                // Said on the row the admin acted on, not in the page banner.
                Some(Err(e)) => {
                    let text = e
                        .field("reason")
                        .map(|r| format!("Reason: {r}"))
                        .unwrap_or(e.message);
                    set_if_mounted(row_error, Some(text));
                }
                None => {}
            }
        });
    };
    let role_id = user.id.clone();
    let active_id = user.id.clone();
    let open_id = user.id.clone();
    let active = user.is_active;
    let confirm = move |_| {
        let why = reason.peek().trim().to_owned();
        if why.is_empty() {
            return row_error.set(Some(
                "Say why: the reason is recorded with the change.".to_owned(),
            ));
        }
        update(AdminUpdateUserIn {
            id: active_id.clone(),
            role: None,
            is_active: Some(!active),
            reason: Some(why),
        });
    };

    rsx! {
        tr { id: "admin-user-{user.id}", class: if user.is_active { "" } else { "inactive" },
            td {
                button { class: "link-plain strong", id: "admin-open-{user.id}", r#type: "button",
                    onclick: move |_| selected.set(Some(open_id.clone())), "@{user.username}" }
                p { class: "muted small hide-sm", "Joined {format::timestamp(&user.created_at)}" }
            }
            td { class: "hide-sm mono small", "{user.phone_number}" }
            td {
                select { id: "admin-role-{user.id}", class: "select select-small", disabled: busy || is_me,
                    onchange: move |e| {
                        if let Some(role) = Role::parse(&e.value()) {
                            update(AdminUpdateUserIn { id: role_id.clone(), role: Some(role), is_active: None, reason: None });
                        }
                    },
                    for r in [Role::Buyer, Role::Seller, Role::Admin] {
                        option { key: "{r.as_str()}", value: r.as_str(), selected: user.role == r, {format::role(r)} }
                    }
                }
            }
            td {
                div { class: "inline-actions",
                    span { class: if active { "status status-active" } else { "status status-muted" },
                        id: "admin-active-{user.id}",
                        if active { "Active" } else { "Deactivated" }
                    }
                    if !confirming() {
                        button { class: if active { "btn btn-danger-soft btn-small" } else { "btn btn-secondary btn-small" },
                            id: "admin-toggle-{user.id}", r#type: "button", disabled: busy || is_me,
                            onclick: move |_| { row_error.set(None); confirming.set(true) },
                            if active { "Deactivate" } else { "Reactivate" }
                        }
                    }
                }
            }
        }
        // The confirmation gets a row of its own, the table's full width: inside the status cell
        // it was squeezed into a narrow column.
        if confirming() || row_error().is_some() {
            tr { class: "confirm-row", id: "admin-confirm-row-{user.id}",
                td { colspan: "4",
                    if confirming() {
                        div { class: "confirm-box", id: "admin-confirm-box-{user.id}",
                            label { r#for: "admin-reason-{user.id}", class: "small",
                                if active { "Why deactivate @{user.username}? (recorded)" } else { "Why reactivate @{user.username}? (recorded)" }
                            }
                            input { id: "admin-reason-{user.id}", r#type: "text", maxlength: "500", disabled: busy,
                                value: "{reason}", oninput: move |e| { reason.set(e.value()); row_error.set(None) } }
                            div { class: "inline-actions",
                                button { class: if active { "btn btn-danger btn-small" } else { "btn btn-primary btn-small" },
                                    id: "admin-confirm-{user.id}", r#type: "button", disabled: busy, onclick: confirm,
                                    if active { "Deactivate" } else { "Reactivate" }
                                }
                                button { class: "btn btn-ghost-dark btn-small", id: "admin-keep-{user.id}", r#type: "button",
                                    onclick: move |_| { confirming.set(false); row_error.set(None) }, "Keep as is" }
                            }
                        }
                    }
                    if let Some(text) = row_error() {
                        p { class: "note note-error small", id: "admin-user-error-{user.id}", "{text}" }
                    }
                }
            }
        }
    }
}

/// What VOID, WON and LOST do to the money, said before the admin confirms.
fn outcome_effect(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Void => "Every buyer is refunded in full.",
        Outcome::Won | Outcome::Lost => "The seller is paid the price minus the platform fee.",
    }
}

#[component]
fn ResolveCard(picked: Signal<Option<PickedCode>>, code_id: Signal<String>) -> Element {
    let state = use_context::<AppState>();
    let mut code_id = code_id;
    let mut outcome = use_signal(|| Outcome::Void);
    let mut reason = use_signal(String::new);
    let mut hint = use_signal(|| None::<String>);
    let mut confirming = use_signal(|| false);
    let mut failed = use_signal(|| None::<CommandError>);
    let mut done = use_signal(|| None::<ResolutionOut>);
    let mut queue = use_signal(|| None::<Result<Vec<CodeOut>, CommandError>>);
    use_hook(move || {
        spawn(async move {
            let answer = ipc::admin_review_queue(None).await.map(|page| page.items);
            queue.set(Some(answer));
        });
    });
    let busy = state.is_busy();
    // A code picked elsewhere (a seller's sales in the user detail) lands here.
    let chosen = picked.read().clone();
    let mut pick = move |code: PickedCode| {
        code_id.set(code.id.clone());
        picked.set(Some(code));
        confirming.set(false);
        hint.set(None);
        failed.set(None);
    };

    let submit = move |evt: FormEvent| {
        evt.prevent_default();
        let id = code_id.peek().trim().to_lowercase();
        let id = if id.is_empty() {
            picked
                .peek()
                .as_ref()
                .map(|p| p.id.clone())
                .unwrap_or_default()
        } else {
            id
        };
        if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return hint.set(Some("Pick a code from the review queue or a seller's sales (or enter its 24-character id).".to_owned()));
        }
        let why = reason.peek().trim().to_owned();
        if why.is_empty() {
            return hint.set(Some(
                "Say why: the reason is recorded with the decision.".to_owned(),
            ));
        }
        hint.set(None);
        done.set(None);
        failed.set(None);
        if !*confirming.peek() {
            code_id.set(id);
            return confirming.set(true);
        }
        let input = AdminResolveIn {
            id,
            outcome: *outcome.peek(),
            reason: Some(why),
        };
        spawn_command(async move {
            match state
                .attempt("Resolving the code", ipc::admin_resolve(&input))
                .await
            {
                Some(Ok(resolution)) => {
                    if let Ok(mut q) = queue.try_write() {
                        if let Some(Ok(items)) = q.as_mut() {
                            items.retain(|c| c.id != resolution.code_id);
                        }
                    };
                    set_if_mounted(done, Some(resolution));
                    set_if_mounted(code_id, String::new());
                    set_if_mounted(reason, String::new());
                    set_if_mounted(confirming, false);
                }
                Some(Err(error)) => {
                    set_if_mounted(failed, Some(error));
                    set_if_mounted(confirming, false);
                }
                None => {}
            }
        });
    };
    let chosen_title = chosen
        .as_ref()
        .filter(|p| p.id == code_id.read().trim().to_lowercase())
        .map(|p| p.title.clone());

    rsx! {
        section { class: "card", id: "resolve-card",
            h3 { "Resolve a code" }
            p { class: "muted small", "Decide a code under review (a tie or no votes), or void a fraudulent one. Pick it below or from a seller's sales in a user's detail." }
            match queue() {
                None => rsx! { Spinner { label: "Loading the review queue…" } },
                Some(Err(e)) => rsx! { p { class: "note note-error", id: "review-error", "{e.message}" } },
                Some(Ok(items)) if items.is_empty() => rsx! {
                    p { class: "muted small", id: "review-empty", "No codes are waiting for review." }
                },
                Some(Ok(items)) => rsx! {
                    ul { class: "rows", id: "review-queue",
                        for code in items {
                            ReviewRow { key: "{code.id}", code: code.clone(), on_pick: move |c: PickedCode| pick(c) }
                        }
                    }
                },
            }
            form { id: "resolve-form", onsubmit: submit, novalidate: true,
                if let Some(title) = chosen_title.as_ref() {
                    p { class: "picked", id: "resolve-picked", "Code: " strong { "{title}" } }
                }
                label { r#for: "resolve-code-id", "Code id" }
                input { id: "resolve-code-id", class: "mono", r#type: "text", placeholder: "Picked above, or a 24-character id", disabled: busy,
                    value: "{code_id}", oninput: move |e| { code_id.set(e.value()); confirming.set(false) } }
                span { class: "label", "Outcome" }
                div { class: "segmented seg-3", role: "radiogroup",
                    for (o, id) in [(Outcome::Won, "resolve-won"), (Outcome::Lost, "resolve-lost"), (Outcome::Void, "resolve-void")] {
                        button { key: "{id}", r#type: "button", id: id,
                            class: if outcome() == o { "seg active" } else { "seg" },
                            aria_checked: outcome() == o,
                            onclick: move |_| { outcome.set(o); confirming.set(false) },
                            {o.as_str()}
                        }
                    }
                }
                label { r#for: "resolve-reason", "Reason (recorded)" }
                input { id: "resolve-reason", r#type: "text", maxlength: "500", disabled: busy,
                    placeholder: "e.g. the booking code does not exist at the bookmaker",
                    value: "{reason}", oninput: move |e| reason.set(e.value()) }
                if let Some(text) = hint() {
                    p { class: "field-error", id: "resolve-hint", "{text}" }
                }
                if let Some(e) = failed() {
                    p { class: "note note-error", id: "resolve-error", strong { "Not resolved. " } "{e.message}" }
                }
                if let Some(r) = done() {
                    p { class: "note note-ok", id: "resolve-result",
                        "Code {r.code_id} resolved {r.outcome.as_str()} ({r.win_votes} win / {r.loss_votes} loss votes)." }
                }
                if confirming() {
                    div { class: "confirm-box", id: "resolve-confirm",
                        p { class: "small",
                            strong { "Resolve {chosen_title.clone().unwrap_or_else(|| code_id.read().clone())} as {outcome().as_str()}? " }
                            {outcome_effect(outcome())}
                            " This cannot be undone."
                        }
                        div { class: "inline-actions",
                            button { class: "btn btn-danger btn-small", id: "resolve-confirm-yes", r#type: "submit", disabled: busy,
                                "Yes, resolve" }
                            button { class: "btn btn-ghost-dark btn-small", id: "resolve-confirm-no", r#type: "button",
                                onclick: move |_| confirming.set(false), "Not now" }
                        }
                    }
                } else {
                    button { class: "btn btn-primary btn-block", id: "resolve-submit", r#type: "submit", disabled: busy,
                        "Resolve…"
                    }
                }
            }
        }
    }
}

#[component]
fn ReviewRow(code: CodeOut, on_pick: EventHandler<PickedCode>) -> Element {
    let picked = PickedCode {
        id: code.id.clone(),
        title: code.title.clone(),
    };
    rsx! {
        li { class: "row", id: "review-{code.id}",
            div { class: "row-main",
                p { class: "strong", "{code.title}" }
                p { class: "muted small", "@{code.seller_username} · {code.win_votes} win / {code.loss_votes} loss · {code.sales_count} buyer(s)" }
            }
            button { class: "btn btn-secondary btn-small", id: "review-pick-{code.id}", r#type: "button",
                onclick: move |_| on_pick.call(picked.clone()), "Pick" }
        }
    }
}

#[component]
fn ReconcileCard() -> Element {
    let state = use_context::<AppState>();
    let report = use_signal(|| None::<ReconcileReport>);
    let busy = state.is_busy();
    let run = move |_| {
        spawn_command(async move {
            if let Some(r) = state
                .run("Reconciling the ledger", ipc::admin_reconcile())
                .await
            {
                set_if_mounted(report, Some(r));
            }
        });
    };
    rsx! {
        section { class: "card", id: "reconcile-card",
            div { class: "card-head",
                h3 { "Reconcile" }
                button { class: "btn btn-secondary btn-small", id: "reconcile-run", r#type: "button", disabled: busy,
                    onclick: run, if busy { "Running…" } else { "Run checks" } }
            }
            p { class: "muted small", "Checks every money invariant over the ledger. Read-only." }
            if let Some(r) = report() {
                div { id: "reconcile-report", class: "reconcile",
                    if r.ok {
                        p { class: "note note-ok", id: "reconcile-ok", strong { "All invariants hold." } }
                    } else {
                        p { class: "note note-error", id: "reconcile-failed",
                            strong { "{r.violations.len()} violation(s) found." } }
                    }
                    dl { class: "summary",
                        dt { "Accounts" } dd { {format::count(r.accounts as i64)} }
                        dt { "Entries" } dd { {format::count(r.entries as i64)} }
                        dt { "Transfers" } dd { {format::count(r.transfers as i64)} }
                        dt { "In flight" } dd { {format::count(r.in_flight as i64)} }
                        dt { "Entries sum" } dd { {format::count(r.entries_sum)} }
                    }
                    if !r.violations.is_empty() {
                        ul { class: "rows", id: "reconcile-violations",
                            for (i, v) in r.violations.iter().enumerate() {
                                li { key: "{i}", class: "row violation",
                                    div { class: "row-main",
                                        p { class: "strong mono small", "{v.invariant}" }
                                        p { class: "small", "{v.detail}" }
                                        p { class: "muted small mono", "{v.subject}" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
