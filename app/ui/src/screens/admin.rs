//! Administration: users (role, deactivate), resolving a code by hand, and the money reconcile.

use dioxus::prelude::*;
use oddxer_shared::api::{CodeOut, ReconcileReport, ResolutionOut, UserOut};
use oddxer_shared::client::{AdminResolveIn, AdminUpdateUserIn, AdminUsersIn, CommandError};
use oddxer_shared::{Outcome, Role};

use crate::format;
use crate::ipc;
use crate::state::{set_if_mounted, spawn_command, AppState};
use crate::widgets::{Empty, Spinner};

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
    rsx! {
        main { class: "page admin", id: "admin",
            div { class: "page-head",
                div {
                    h2 { "Admin" }
                    p { class: "muted", "Users, manual resolutions and the money reconcile." }
                }
            }
            div { class: "admin-grid",
                UsersCard {}
                div { class: "admin-side",
                    ResolveCard {}
                    ReconcileCard {}
                }
            }
        }
    }
}

#[component]
fn UsersCard() -> Element {
    let users = use_signal(Users::default);
    use_hook(move || load_users(users, AdminUsersIn::default(), false));
    let u = users.read();
    let filter = u.filter.clone();
    let role_filter = filter.clone();
    let active_filter = filter.clone();
    let more_filter = filter.clone();

    rsx! {
        section { class: "card table-card", id: "admin-users-card",
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
                        option { value: "", selected: filter.active.is_none(), "Active and not" }
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
                                UserRow { key: "{user.id}", user: user.clone(), users }
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
fn UserRow(user: UserOut, users: Signal<Users>) -> Element {
    let state = use_context::<AppState>();
    let busy = state.is_busy();
    let me = state
        .snapshot
        .read()
        .as_ref()
        .and_then(|s| s.user.as_ref().map(|u| u.id.clone()));
    let is_me = me.as_deref() == Some(user.id.as_str());

    let update = move |input: AdminUpdateUserIn| {
        spawn_command(async move {
            if let Some(updated) = state
                .run("Updating the user", ipc::admin_update_user(&input))
                .await
            {
                let mut users = users;
                if let Ok(mut u) = users.try_write() {
                    if let Some(row) = u.items.iter_mut().find(|x| x.id == updated.id) {
                        *row = updated;
                    }
                };
            }
        });
    };
    let role_id = user.id.clone();
    let active_id = user.id.clone();
    let active = user.is_active;

    rsx! {
        tr { id: "admin-user-{user.id}", class: if user.is_active { "" } else { "inactive" },
            td {
                p { class: "strong", "@{user.username}" }
                p { class: "muted small hide-sm", "Joined {format::timestamp(&user.created_at)}" }
            }
            td { class: "hide-sm mono small", "{user.phone_number}" }
            td {
                select { id: "admin-role-{user.id}", class: "select select-small", disabled: busy || is_me,
                    onchange: move |e| {
                        if let Some(role) = Role::parse(&e.value()) {
                            update(AdminUpdateUserIn { id: role_id.clone(), role: Some(role), is_active: None });
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
                    button { class: if active { "btn btn-danger-soft btn-small" } else { "btn btn-secondary btn-small" },
                        id: "admin-toggle-{user.id}", r#type: "button", disabled: busy || is_me,
                        onclick: move |_| update(AdminUpdateUserIn { id: active_id.clone(), role: None, is_active: Some(!active) }),
                        if active { "Deactivate" } else { "Reactivate" }
                    }
                }
            }
        }
    }
}

#[component]
fn ResolveCard() -> Element {
    let state = use_context::<AppState>();
    let mut code_id = use_signal(String::new);
    let mut outcome = use_signal(|| Outcome::Void);
    let mut hint = use_signal(|| None::<String>);
    let mut done = use_signal(|| None::<ResolutionOut>);
    let mut queue = use_signal(|| None::<Result<Vec<CodeOut>, CommandError>>);
    use_hook(move || {
        spawn(async move {
            let answer = ipc::admin_review_queue(None).await.map(|page| page.items);
            queue.set(Some(answer));
        });
    });
    let busy = state.is_busy();

    let submit = move |evt: FormEvent| {
        evt.prevent_default();
        let id = code_id.peek().trim().to_lowercase();
        if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return hint.set(Some("A code id is 24 hexadecimal characters.".to_owned()));
        }
        hint.set(None);
        done.set(None);
        let input = AdminResolveIn {
            id,
            outcome: *outcome.peek(),
        };
        spawn_command(async move {
            if let Some(resolution) = state
                .run("Resolving the code", ipc::admin_resolve(&input))
                .await
            {
                if let Ok(mut q) = queue.try_write() {
                    if let Some(Ok(items)) = q.as_mut() {
                        items.retain(|c| c.id != resolution.code_id);
                    }
                };
                set_if_mounted(done, Some(resolution));
                set_if_mounted(code_id, String::new());
            }
        });
    };

    rsx! {
        section { class: "card", id: "resolve-card",
            h3 { "Resolve a code" }
            p { class: "muted small", "Decide a code under review (a tie or no votes), or void a fraudulent one. VOID refunds every buyer." }
            match queue() {
                None => rsx! { Spinner { label: "Loading the review queue…" } },
                Some(Err(e)) => rsx! { p { class: "note note-error", id: "review-error", "{e.message}" } },
                Some(Ok(items)) if items.is_empty() => rsx! {
                    p { class: "muted small", id: "review-empty", "No codes are waiting for review." }
                },
                Some(Ok(items)) => rsx! {
                    ul { class: "rows", id: "review-queue",
                        for code in items {
                            ReviewRow { key: "{code.id}", code: code.clone(), on_pick: move |id: String| code_id.set(id) }
                        }
                    }
                },
            }
            form { id: "resolve-form", onsubmit: submit, novalidate: true,
                label { r#for: "resolve-code-id", "Code id" }
                input { id: "resolve-code-id", class: "mono", r#type: "text", placeholder: "24-character id", disabled: busy,
                    value: "{code_id}", oninput: move |e| code_id.set(e.value()) }
                span { class: "label", "Outcome" }
                div { class: "segmented seg-3", role: "radiogroup",
                    for (o, id) in [(Outcome::Won, "resolve-won"), (Outcome::Lost, "resolve-lost"), (Outcome::Void, "resolve-void")] {
                        button { key: "{id}", r#type: "button", id: id,
                            class: if outcome() == o { "seg active" } else { "seg" },
                            aria_checked: outcome() == o,
                            onclick: move |_| outcome.set(o),
                            {o.as_str()}
                        }
                    }
                }
                if let Some(text) = hint() {
                    p { class: "field-error", id: "resolve-hint", "{text}" }
                }
                if let Some(r) = done() {
                    p { class: "note note-ok", id: "resolve-result",
                        "Code {r.code_id} resolved {r.outcome.as_str()} ({r.win_votes} win / {r.loss_votes} loss votes)." }
                }
                button { class: "btn btn-primary btn-block", id: "resolve-submit", r#type: "submit", disabled: busy,
                    "Resolve"
                }
            }
        }
    }
}

#[component]
fn ReviewRow(code: CodeOut, on_pick: EventHandler<String>) -> Element {
    let id = code.id.clone();
    rsx! {
        li { class: "row", id: "review-{code.id}",
            div { class: "row-main",
                p { class: "strong", "{code.title}" }
                p { class: "muted small mono", "{code.id}" }
                p { class: "muted small", "@{code.seller_username} · {code.win_votes} win / {code.loss_votes} loss · {code.sales_count} buyer(s)" }
            }
            button { class: "btn btn-secondary btn-small", id: "review-pick-{code.id}", r#type: "button",
                onclick: move |_| on_pick.call(id.clone()), "Pick" }
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
