//! Admin users panel: the list (search by phone or username, role and activity filters, paging)
//! and each user's row (role, deactivate or reactivate with a recorded reason).

use dioxus::prelude::*;
use oddxer_shared::api::UserOut;
use oddxer_shared::client::{AdminUpdateUserIn, AdminUsersIn, CommandError};
use oddxer_shared::Role;

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
pub fn UsersCard(selected: Signal<Option<String>>) -> Element {
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
