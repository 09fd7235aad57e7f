//! `GET/PATCH /admin/users[/{id}]`: list and filter users, change a role, deactivate.

use crate::auth::extract::AdminUser;
use crate::auth::store::{self, User};
use crate::error::{AppError, Result};
use crate::http::{ok, ApiResult, Json, PathId, Query};
use crate::state::AppState;
use axum::extract::State;
use mongodb::bson::{doc, oid::ObjectId, Document};
use oddxer_shared::api::{AdminChangeOut, AdminUserOut, ErrorEnvelope, Page, UserOut, UserPatch};
use oddxer_shared::{search, Role};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_users))
        .routes(routes!(get_user, patch_user))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserFilter {
    /// A phone number (any spelling: it is normalized) or a username; a username prefix of 3 or
    /// more characters also matches. At most 100 characters.
    pub q: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    pub limit: Option<i64>,
    /// The last id of the previous page.
    pub cursor: Option<String>,
}

/// Plain rule: what an admin may change on a user.
pub fn check_patch(admin: &User, target: &User, patch: &UserPatch) -> Result<()> {
    if patch.role.is_none() && patch.is_active.is_none() {
        return Err(AppError::validation(
            "Nothing to change: give role and/or isActive",
            "body",
            "empty",
        ));
    }
    if patch.reason.as_deref().is_some_and(|r| {
        r.trim().is_empty() || r.chars().count() > 500 || r.chars().any(char::is_control)
    }) {
        return Err(AppError::validation(
            "reason must be 1 to 500 characters, not all blank, without control characters",
            "reason",
            "1..=500 characters",
        ));
    }
    if admin.id == target.id
        && (patch.is_active == Some(false) || patch.role.is_some_and(|r| r != Role::Admin))
    {
        return Err(AppError::conflict(
            "SELF_LOCKOUT",
            "Administrators cannot deactivate or demote themselves",
        ));
    }
    Ok(())
}

#[utoipa::path(get, path = "/admin/users", tag = "admin", security(("bearer" = [])), params(UserFilter), responses(
    (status = 200, description = "Users, oldest first, in cursor pages", body = Page<UserOut>),
    (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all)]
async fn list_users(
    State(state): State<AppState>,
    _admin: AdminUser,
    Query(q): Query<UserFilter>,
) -> ApiResult<Page<UserOut>> {
    let limit = crate::http::PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    let mut filter = Document::new();
    if q.q.as_deref().is_some_and(search::is_too_long) {
        let message = format!("q {}", search::TOO_LONG);
        return Err(AppError::validation(message, "q", search::TOO_LONG));
    }
    if let Some(raw) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        filter.extend(search_filter(&state, raw));
    }
    if let Some(role) = q.role {
        filter.insert("role", role.as_str());
    }
    if let Some(active) = q.active {
        filter.insert("isActive", active);
    }
    let after = match &q.cursor {
        Some(c) => Some(ObjectId::parse_str(c).map_err(|_| {
            AppError::validation("cursor is not one this server issued", "cursor", "invalid")
        })?),
        None => None,
    };
    let users = store::page(&state.db, filter, after, limit).await?;
    let next_cursor = if users.len() as i64 == limit {
        users.last().map(|u| u.id.to_hex())
    } else {
        None
    };
    Ok(ok(Page {
        items: users.iter().map(User::to_out).collect(),
        next_cursor,
    }))
}

/// The users `q` names: a phone number (normalized: equality on the unique `phoneNumber`), else a
/// username (equality on the unique `username`) or, from 3 characters, a username prefix (a scan
/// of the usernames: an operator's search, not a user's).
fn search_filter(state: &AppState, q: &str) -> Document {
    if let Some(phone) = crate::phone::PhoneNumber::parse(q, state.config.default_region) {
        return doc! { "phoneNumber": phone.as_str() };
    }
    let name = q.to_lowercase();
    if name.chars().count() >= 3 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        doc! { "username": { "$regex": format!("^{name}") } }
    } else {
        doc! { "username": name }
    }
}

#[utoipa::path(get, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), responses(
    (status = 200, description = "The user with their wallet, newest purchases, sales and payments, and the last admin change", body = AdminUserOut),
    (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope), (status = 404, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(id = %id))]
async fn get_user(
    State(state): State<AppState>,
    _admin: AdminUser,
    PathId(id): PathId,
) -> ApiResult<AdminUserOut> {
    Ok(ok(detail(&state, id).await?))
}

/// Everything an admin looks at to help a user, read at once.
async fn detail(state: &AppState, id: ObjectId) -> Result<AdminUserOut> {
    let (user, change) = tokio::join!(
        store::find_by_id(&state.db, id),
        super::store::last_change(&state.db, id)
    );
    let user = user?.ok_or(AppError::NotFound("user"))?;
    let recent = crate::http::PageQuery {
        limit: Some(20),
        cursor: None,
    };
    let (wallet, purchases, sales, payments) = tokio::join!(
        crate::wallet::service::wallet(state, id),
        crate::purchases::service::purchases_of(state, id, None, 20),
        crate::purchases::sales::summary(state, id, &recent),
        crate::wallet::service::payments(state, id, None, 20)
    );
    Ok(AdminUserOut {
        user: user.to_out(),
        last_admin_change: change?.map(|c| AdminChangeOut {
            by: c.by.map(|o| o.to_hex()).unwrap_or_default(),
            at: crate::clock::rfc3339(c.at),
            reason: c.reason,
        }),
        wallet: wallet?,
        purchases: purchases?.items,
        sales: sales?,
        payments: payments?.0,
    })
}

#[utoipa::path(patch, path = "/admin/users/{id}", tag = "admin", security(("bearer" = [])), params(("id" = String, Path)), request_body = UserPatch,
    responses((status = 200, body = UserOut), (status = 400, description = "INVALID_ID: the id is not 24 hex", body = ErrorEnvelope), (status = 401, body = ErrorEnvelope), (status = 403, body = ErrorEnvelope),
        (status = 404, body = ErrorEnvelope), (status = 409, body = ErrorEnvelope), (status = 422, body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %admin.id, id = %id))]
async fn patch_user(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    PathId(id): PathId,
    Json(patch): Json<UserPatch>,
) -> ApiResult<UserOut> {
    let mut target = store::find_by_id(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("user"))?;
    check_patch(&admin, &target, &patch)?;
    let mut changes = Document::new();
    if let Some(role) = patch.role {
        changes.insert("role", role.as_str());
        target.role = role;
    }
    if let Some(active) = patch.is_active {
        changes.insert("isActive", active);
        target.is_active = active;
    }
    store::set_fields(&state.db, target.id, changes.clone()).await?;
    super::store::record_change(
        &state.db,
        target.id,
        admin.id,
        changes,
        patch.reason.as_deref().map(str::trim),
    )
    .await?;
    // Takes effect at once on this process; other processes re-read within USER_CACHE_TTL (1 s).
    state.users.forget(target.id);
    if patch.is_active == Some(false) {
        // Requests are refused from now on (every request re-reads the user); open sockets are
        // closed by the hub, on every instance.
        state.hub.user_deactivated(target.id);
    }
    tracing::info!(admin = %admin.id, user = %target.id, "user changed by admin");
    Ok(ok(target.to_out()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(role: Role) -> User {
        User {
            id: ObjectId::new(),
            phone_number: "+256700000009".into(),
            username: "someone".into(),
            role,
            is_verified: true,
            is_active: true,
            created_at: mongodb::bson::DateTime::now(),
        }
    }

    #[test]
    fn an_admin_cannot_lock_themselves_out() {
        let admin = user(Role::Admin);
        let deactivate = UserPatch {
            is_active: Some(false),
            ..Default::default()
        };
        assert!(check_patch(&admin, &admin, &deactivate).is_err());
        let demote = UserPatch {
            role: Some(Role::Buyer),
            ..Default::default()
        };
        assert!(check_patch(&admin, &admin, &demote).is_err());
        assert!(check_patch(&admin, &user(Role::Buyer), &deactivate).is_ok());
        assert!(check_patch(&admin, &user(Role::Buyer), &UserPatch::default()).is_err());
    }
}
