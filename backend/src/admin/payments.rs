//! `GET /admin/payments`: look up deposits and withdrawals (a stuck deposit by its provider
//! reference, a user's payments, everything PENDING), newest first.

use crate::auth::extract::AdminUser;
use crate::error::{AppError, Result};
use crate::http::{ok, ApiResult, Query};
use crate::state::AppState;
use crate::wallet::{service, store};
use axum::extract::State;
use mongodb::bson::{doc, oid::ObjectId, Document};
use oddxer_shared::api::{ErrorEnvelope, Page, PaymentOut};
use oddxer_shared::{TransactionStatus, TransactionType};
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_payments))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PaymentFilter {
    /// PENDING, COMPLETED, FAILED or REVERSED.
    pub status: Option<TransactionStatus>,
    /// The provider reference (exact).
    pub reference: Option<String>,
    /// A user id (24 hex).
    pub user: Option<String>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    /// nextCursor of the previous page.
    pub cursor: Option<String>,
}

/// Plain rule: the equality filter for the payments read from a query's `user` and `status`.
pub fn filter_of(user: Option<ObjectId>, status: Option<TransactionStatus>) -> Document {
    let mut filter = Document::new();
    if let Some(u) = user {
        filter.insert("user", u);
    }
    if let Some(s) = status {
        filter.insert("status", s.as_str());
    }
    filter
}

async fn search(state: &AppState, q: &PaymentFilter) -> Result<Page<PaymentOut>> {
    let limit = crate::http::PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    let user = match &q.user {
        None => None,
        Some(raw) => Some(ObjectId::parse_str(raw).map_err(|_| {
            AppError::validation(
                "user must be a user id (24 hex characters)",
                "user",
                "24 hex",
            )
        })?),
    };
    if let Some(reference) = &q.reference {
        // The reference is unique: one indexed lookup; the other filters must agree with it.
        let found = store::find_by_reference(&state.db, reference.trim())
            .await?
            .filter(|t| {
                matches!(
                    t.kind,
                    TransactionType::Deposit | TransactionType::Withdrawal
                ) && user.is_none_or(|u| t.user == u)
                    && q.status.is_none_or(|s| t.status == s)
            });
        return Ok(Page {
            items: found.iter().map(service::payment_out).collect(),
            next_cursor: None,
        });
    }
    let (items, next_cursor) =
        service::payments_where(state, filter_of(user, q.status), q.cursor.as_deref(), limit)
            .await?;
    Ok(Page { items, next_cursor })
}

#[utoipa::path(get, path = "/admin/payments", tag = "admin", security(("bearer" = [])), params(PaymentFilter), responses(
    (status = 200, description = "Deposits and withdrawals, newest first", body = Page<PaymentOut>),
    (status = 401, body = ErrorEnvelope), (status = 403, description = "Not an admin", body = ErrorEnvelope),
    (status = 422, description = "Invalid status, user, limit or cursor", body = ErrorEnvelope)))]
#[tracing::instrument(skip_all, fields(caller = %_admin.id))]
async fn list_payments(
    State(state): State<AppState>,
    AdminUser(_admin): AdminUser,
    Query(q): Query<PaymentFilter>,
) -> ApiResult<Page<PaymentOut>> {
    Ok(ok(search(&state, &q).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_names_only_what_was_asked() {
        let u = ObjectId::new();
        assert_eq!(filter_of(None, None), doc! {});
        assert_eq!(
            filter_of(Some(u), Some(TransactionStatus::Failed)),
            doc! { "user": u, "status": "FAILED" }
        );
    }
}
