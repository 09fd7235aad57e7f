//! Code use cases: create, read (with the reveal rule), edit, cancel, browse.

use super::query::{self, cursor_of, encode_cursor, Browse, CodeQuery};
use super::rules::{self, Limits, Problems};
use super::sales;
use super::store::{self, Code};
use crate::auth::store::User;
use crate::clock;
use crate::error::{AppError, Result};
use crate::state::AppState;
use mongodb::bson::{oid::ObjectId, DateTime};
use oddxer_shared::api::{CodeIn, CodeOptionsOut, CodeOut, CodePatch, Page};
use oddxer_shared::sync::LiveEvent;
use oddxer_shared::{CodeStatus, Money, Role, Sport};

/// A 422 whose message names every field and its problem ("expiresAt must be within 30 days"),
/// so even a client that does not read `details.fields` tells the person what to fix.
pub fn problems_error(p: Problems) -> AppError {
    let message = p
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let fields: serde_json::Map<String, serde_json::Value> = p
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into()))
        .collect();
    let message = if message.is_empty() {
        "Some fields are invalid".to_owned()
    } else {
        message
    };
    AppError::Validation {
        message,
        details: Some(serde_json::json!({ "fields": fields })),
    }
}

pub fn view(state: &AppState, code: &Code, now: DateTime, reveal: bool) -> CodeOut {
    code.to_out(
        &state.config.currency,
        state.config.voting_window,
        now,
        reveal,
    )
}

/// The public view for events and lists: never the secret code.
pub fn public_json(state: &AppState, code: &Code) -> serde_json::Value {
    serde_json::to_value(view(state, code, clock::now(), false)).unwrap_or_default()
}

pub async fn load(state: &AppState, id: ObjectId) -> Result<Code> {
    store::find(&state.db, id)
        .await?
        .ok_or(AppError::NotFound("betting code"))
}

pub async fn create(state: &AppState, seller: &User, input: &CodeIn) -> Result<CodeOut> {
    let now = clock::now();
    let listing = rules::validate_new(input, now, &Limits::from_config(&state.config))
        .map_err(problems_error)?;
    let d = store::new_code_doc(ObjectId::new(), seller.id, &seller.username, &listing, now);
    let code: Code = mongodb::bson::from_document(d.clone()).map_err(|e| {
        AppError::Internal(anyhow::Error::from(e).context("new code document does not read back"))
    })?;
    store::insert(&state.db, d).await?;
    state.market.upsert(&code).await;
    // One publication reaches both the sport's subscribers and the seller's followers (marked
    // followed there), so a follower subscribed to the sport is told once.
    state.hub.to_followers_of(
        seller.id,
        listing.sport.as_str(),
        LiveEvent::CodeCreated(public_json(state, &code)),
    );
    Ok(view(state, &code, now, true))
}

/// After a change to a live listing (a sale, an edit, a cancellation): the market cache takes the
/// new copy and the sport's subscribers get `code:updated` with its public view (places left,
/// status), so every open marketplace shows it without a refresh.
pub async fn announce_update(state: &AppState, code: &Code) {
    state.market.upsert(code).await;
    state.hub.to_sport(
        code.listing.sport.as_str(),
        LiveEvent::CodeUpdated(public_json(state, code)),
    );
}

/// Whether the viewer may see the secret code: its seller, an admin, or a buyer.
pub async fn may_reveal(state: &AppState, code: &Code, viewer: Option<&User>) -> Result<bool> {
    Ok(match viewer {
        None => false,
        Some(u) if u.id == code.seller || u.role == Role::Admin => true,
        Some(u) => sales::is_buyer(&state.db, code.id, u.id).await?,
    })
}

pub async fn detail(state: &AppState, viewer: Option<&User>, id: ObjectId) -> Result<CodeOut> {
    // A purchase of this code answered by this process shows up in its labels and reveal rule.
    state.pending.settle_code(id).await;
    let code = load(state, id).await?;
    let reveal = may_reveal(state, &code, viewer).await?;
    let mut out = view(state, &code, clock::now(), reveal);
    if let Some(u) = viewer {
        out.my_vote = store::my_vote(&state.db, id, u.id).await?;
    }
    Ok(out)
}

async fn owned_and_editable(state: &AppState, user: &User, id: ObjectId) -> Result<Code> {
    let code = load(state, id).await?;
    if code.seller != user.id {
        return Err(AppError::Forbidden(
            "Only the seller of this code can change it",
        ));
    }
    if store::is_cancelled(&state.db, id).await? {
        return Err(AppError::conflict(
            "CODE_NOT_EDITABLE",
            "This code is cancelled",
        ));
    }
    let sales = if sales::has_purchases(&state.db, id).await? {
        code.sales_count.max(1)
    } else {
        0
    };
    rules::editable(code.status, code.listing.expires_at, clock::now(), sales).map_err(|m| {
        AppError::conflict(
            if sales > 0 {
                "HAS_SALES"
            } else {
                "CODE_NOT_EDITABLE"
            },
            m,
        )
    })?;
    Ok(code)
}

/// Edits an ACTIVE code with no sales, protected like [`cancel`]: the edit marker
/// `{code}:{version + 1}` is inserted before looking for purchases, and a purchase checks for that
/// marker after taking its place (`purchases::service`), so a buyer never pays the price it read
/// and receives another listing: either the edit sees the purchase (409 `HAS_SALES`) or the
/// purchase sees the edit (409 `CODE_CHANGED`). Concurrent edits of one code: the second is 409
/// `CODE_CHANGED`.
pub async fn update(
    state: &AppState,
    user: &User,
    id: ObjectId,
    patch: &CodePatch,
) -> Result<CodeOut> {
    let code = owned_and_editable(state, user, id).await?;
    let now = clock::now();
    let next = rules::apply_patch(
        &code.listing,
        patch,
        now,
        &Limits::from_config(&state.config),
    )
    .map_err(problems_error)?;
    if next != code.listing {
        let version = code.listing_version + 1;
        if !store::insert_edit(&state.db, id, version, user.id).await? {
            // A marker older than the recovery delay whose version never reached the code is an
            // edit cut short by a crash (an edit takes milliseconds): clear it and take its place.
            let stale = clock::before(now, state.config.recovery_after);
            let abandoned = store::edit_after(&state.db, id, code.listing_version)
                .await?
                .is_some_and(|at| at < stale);
            let retaken = abandoned && {
                store::delete_edit(&state.db, id, version).await?;
                store::insert_edit(&state.db, id, version, user.id).await?
            };
            if !retaken {
                return Err(AppError::conflict(
                    "CODE_CHANGED",
                    "This code was changed meanwhile; reload it and try again",
                ));
            }
        }
        if sales::has_purchases(&state.db, id).await? {
            store::delete_edit(&state.db, id, version).await?;
            return Err(AppError::conflict(
                "HAS_SALES",
                "This code has sales and can no longer be changed",
            ));
        }
        let mut fields = store::listing_fields(&next);
        fields.insert("listingVersion", version);
        store::set_labels(&state.db, id, fields).await?;
        // A cancellation decided meanwhile stands: our whole-document write may have put the old
        // status back, so put CANCELLED back and say so.
        if store::is_cancelled(&state.db, id).await? {
            store::ensure_status(&state.db, id, CodeStatus::Cancelled).await?;
            if let Some(cancelled) = store::find(&state.db, id).await? {
                announce_update(state, &cancelled).await;
            }
            return Err(AppError::conflict(
                "CODE_NOT_EDITABLE",
                "This code was cancelled meanwhile",
            ));
        }
    }
    let updated = load(state, id).await?;
    announce_update(state, &updated).await;
    Ok(view(state, &updated, now, true))
}

/// Cancels an ACTIVE code with no sales. The cancellation is an insert `{_id: code}`; after it,
/// a purchase found means the two raced: the cancellation is withdrawn and refused. The purchase
/// flow does the mirror check (a cancellation found after taking its slot refuses the purchase),
/// so at most one of the two wins.
pub async fn cancel(state: &AppState, user: &User, id: ObjectId) -> Result<CodeOut> {
    owned_and_editable(state, user, id).await?;
    if !store::insert_cancellation(&state.db, id, user.id).await? {
        return Err(AppError::conflict(
            "CODE_NOT_EDITABLE",
            "This code is already cancelled",
        ));
    }
    if sales::has_purchases(&state.db, id).await? {
        store::delete_cancellation(&state.db, id).await?;
        return Err(AppError::conflict(
            "HAS_SALES",
            "This code has sales and can no longer be cancelled",
        ));
    }
    store::ensure_status(&state.db, id, CodeStatus::Cancelled).await?;
    let code = load(state, id).await?;
    announce_update(state, &code).await;
    Ok(view(state, &code, clock::now(), true))
}

/// One page of a browse; `reveal` only for the seller's own list.
pub async fn browse(state: &AppState, b: &Browse, reveal: bool) -> Result<Page<CodeOut>> {
    let now = clock::now();
    let mut codes = if state.market.serves(b) {
        state.market.browse(&state.db, b, now).await?
    } else {
        store::find_many(
            &state.db,
            b.filter(now),
            query::sort_doc(b.sort),
            b.limit + 1,
        )
        .await?
    };
    let next_cursor = if codes.len() as i64 > b.limit {
        codes.truncate(b.limit as usize);
        codes
            .last()
            .map(|c| encode_cursor(b.sort, cursor_of(b.sort, c)))
    } else {
        None
    };
    Ok(Page {
        items: codes.iter().map(|c| view(state, c, now, reveal)).collect(),
        next_cursor,
    })
}

/// `GET /codes`: a record floor (`minWinRate`, `minYield`) becomes the set of tipsters who pass
/// it, asked of the leaderboard first.
pub async fn list(state: &AppState, q: &CodeQuery) -> Result<Page<CodeOut>> {
    let mut b = Browse::parse(q, Some(CodeStatus::Active), &state.config.bookmakers)?;
    if let Some(floor) = b.record {
        let passing = state.seller_records.passing(floor).await?;
        b.restrict_sellers(passing);
    }
    browse(state, &b, false).await
}

/// `GET /seller/codes`: the seller's own listings; a record floor means nothing here and is
/// ignored, a search applies.
pub async fn seller_list(state: &AppState, seller: &User, q: &CodeQuery) -> Result<Page<CodeOut>> {
    let mut b = Browse::parse(q, None, &state.config.bookmakers)?;
    b.record = None;
    b.seller = Some(seller.id);
    browse(state, &b, true).await
}

pub fn options(state: &AppState) -> CodeOptionsOut {
    let c = &state.config;
    CodeOptionsOut {
        sports: Sport::ALL.to_vec(),
        bookmakers: c.bookmakers.clone(),
        min_price: Money::new(c.code_price_min.max(1), &c.currency),
        max_price: Money::new(c.code_price_max, &c.currency),
        min_odds: rules::odds_to_decimal(rules::MIN_ODDS),
        max_odds: rules::odds_to_decimal(rules::MAX_ODDS),
        max_buyers_limit: c.code_max_buyers,
        voting_window_seconds: c.voting_window.as_secs() as i64,
        max_expiry_horizon_seconds: c.code_expiry_horizon.as_secs() as i64,
    }
}
