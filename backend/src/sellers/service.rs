//! Profile, record, performance and follow use cases. Every figure is computed on read from the
//! deciding documents: the leaderboard row (incremental, rewritten at each finalization from the
//! per-code contributions), the contributions themselves (one per finalized code) and the seller's
//! codes, each read by equality on an indexed `seller`.

use super::rules::{self, Finalized, Tally};
use super::store;
use crate::auth::store::{self as users, User};
use crate::clock;
use crate::codes::store::{self as codes, Code};
use crate::error::{AppError, Result};
pub use crate::leaderboard::rules::Period;
use crate::leaderboard::{service as leaderboard, store as contributions};
use crate::realtime::HubEvent;
use crate::state::AppState;
use mongodb::bson::{doc, oid::ObjectId, DateTime};
use oddxer_shared::api::{
    CodeOut, FollowOut, FollowedSellerOut, Page, PerformancePointOut, SellerProfileOut,
    SellerStatsOut, SportRecordOut,
};
use oddxer_shared::{CodeStatus, Role};
use std::collections::HashMap;

/// The seller (any account that may list: SELLER or ADMIN); 404 for a buyer or an unknown id.
async fn seller(state: &AppState, id: ObjectId) -> Result<User> {
    match users::find_by_id(&state.db, id).await? {
        Some(u) if u.role != Role::Buyer => Ok(u),
        _ => Err(AppError::NotFound("seller")),
    }
}

/// Every code the seller listed, newest first (equality on the indexed `seller`; the seller's
/// listings bound it).
async fn listings(state: &AppState, seller: ObjectId) -> Result<Vec<Code>> {
    Ok(codes::find_many(
        &state.db,
        doc! { "seller": seller },
        doc! { "createdAt": -1, "_id": -1 },
        0,
    )
    .await?)
}

/// The seller's finalized codes in finalization order: one per contribution (inserted exactly once
/// per code at finalization), with the sport from the listing.
fn record_of(recorded: Vec<contributions::Recorded>, listed: &[Code]) -> Vec<Finalized> {
    let sports: HashMap<ObjectId, oddxer_shared::Sport> =
        listed.iter().map(|c| (c.id, c.listing.sport)).collect();
    rules::in_order(
        recorded
            .into_iter()
            .filter_map(|r| {
                Some(Finalized {
                    code: r.code,
                    sport: *sports.get(&r.code)?,
                    outcome: r.outcome,
                    odds: r.odds,
                    finalized_at: r.at,
                })
            })
            .collect(),
    )
}

fn sport_out(t: &Tally, sport: oddxer_shared::Sport) -> SportRecordOut {
    SportRecordOut {
        sport,
        wins: t.wins,
        losses: t.losses,
        voids: t.voids,
        profit_units: t.profit_units(),
        yield_ratio: t.yield_ratio(),
    }
}

/// `GET /sellers/{id}`. Errors: 404 when the id is not a seller's.
pub async fn profile(
    state: &AppState,
    id: ObjectId,
    viewer: Option<&User>,
) -> Result<SellerProfileOut> {
    let user = seller(state, id).await?;
    let following = async {
        match viewer {
            Some(v) => store::is_following(&state.db, v.id, id).await,
            None => Ok(false),
        }
    };
    let (row, recorded, listed, followers, following) = tokio::join!(
        leaderboard::one(state, id),
        contributions::recorded(&state.db, id),
        listings(state, id),
        store::follower_count(&state.db, id),
        following
    );
    let (row, listed) = (row?, listed?);
    let record = record_of(recorded?, &listed);
    let summary = rules::summarize(&record);
    let now = clock::now();
    let live = listed
        .iter()
        .filter(|c| {
            matches!(
                crate::codes::rules::effective_status(c.status, c.listing.expires_at, now),
                CodeStatus::Active | CodeStatus::SoldOut
            )
        })
        .count() as i64;
    Ok(SellerProfileOut {
        id: id.to_hex(),
        username: user.username,
        joined_at: clock::rfc3339(user.created_at),
        stats: SellerStatsOut {
            total_sales: row.total_sales,
            total_wins: row.total_wins,
            total_losses: row.total_losses,
            total_voids: row.total_voids,
            win_rate: row.win_rate,
            average_roi: row.average_roi,
            yield_ratio: summary.total.yield_ratio(),
            profit_units: summary.total.profit_units(),
            current_streak: summary.current_streak,
            longest_streak: summary.longest_streak,
            total_revenue: row.total_revenue,
            rank: row.rank,
        },
        by_sport: summary
            .by_sport
            .values()
            .map(|(sport, t)| sport_out(t, *sport))
            .collect(),
        record_size: record.len() as i64,
        live_listings: live,
        followers: followers?,
        following: following?,
    })
}

/// `GET /sellers/{id}/codes`: the record newest first. A finalized code (WON, LOST, VOID) shows
/// its booking code, which anyone can then check at the bookmaker; a live one (on sale or awaiting
/// its result) never does; cancelled codes are not part of the record. Paged by `limit` and an
/// opaque cursor (`{createdAt millis}_{id}` of the last item).
pub async fn record(
    state: &AppState,
    id: ObjectId,
    limit: i64,
    cursor: Option<&str>,
) -> Result<Page<CodeOut>> {
    seller(state, id).await?;
    let after = match cursor {
        None => None,
        Some(raw) => Some(parse_cursor(raw).ok_or_else(|| {
            AppError::validation("cursor is not one this server issued", "cursor", "invalid")
        })?),
    };
    let now = clock::now();
    let shown: Vec<Code> = listings(state, id)
        .await?
        .into_iter()
        .filter(|c| c.status != CodeStatus::Cancelled)
        .filter(|c| after.is_none_or(|(at, last)| (c.created_at, c.id) < (at, last)))
        .take(limit as usize + 1)
        .collect();
    let more = shown.len() as i64 > limit;
    let items: Vec<CodeOut> = shown
        .iter()
        .take(limit as usize)
        .map(|c| {
            let finalized = matches!(
                c.status,
                CodeStatus::Won | CodeStatus::Lost | CodeStatus::Void
            );
            c.to_out(
                &state.config.currency,
                state.config.voting_window,
                now,
                finalized,
            )
        })
        .collect();
    let next_cursor = if more {
        shown
            .get(limit as usize - 1)
            .map(|c| format!("{}_{}", c.created_at.timestamp_millis(), c.id.to_hex()))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

fn parse_cursor(raw: &str) -> Option<(DateTime, ObjectId)> {
    let (millis, hex) = raw.split_once('_')?;
    Some((
        DateTime::from_millis(millis.parse().ok()?),
        ObjectId::parse_str(hex).ok()?,
    ))
}

/// `GET /sellers/{id}/performance?period=`: one point per finalized code in the period, in
/// finalization order, with the running profit and yield (continuing the all-time line).
pub async fn performance(
    state: &AppState,
    id: ObjectId,
    period: Period,
) -> Result<Vec<PerformancePointOut>> {
    seller(state, id).await?;
    let (recorded, listed) =
        tokio::join!(contributions::recorded(&state.db, id), listings(state, id));
    let record = record_of(recorded?, &listed?);
    Ok(rules::performance(
        &record,
        crate::leaderboard::rules::since(period, clock::now()),
    )
    .into_iter()
    .map(|(f, running)| PerformancePointOut {
        code_id: f.code.to_hex(),
        finalized_at: clock::rfc3339(f.finalized_at),
        outcome: f.outcome,
        odds: crate::codes::rules::odds_to_decimal(f.odds),
        cumulative_profit_units: running.profit_units(),
        cumulative_yield: running.yield_ratio(),
    })
    .collect())
}

/// `PUT /sellers/{id}/follow` (`follow` true) and `DELETE` (false): idempotent. Errors: 404 not a
/// seller; 409 `CANNOT_FOLLOW_YOURSELF`.
pub async fn set_following(
    state: &AppState,
    follower: &User,
    id: ObjectId,
    follow: bool,
) -> Result<FollowOut> {
    if follower.id == id {
        return Err(AppError::conflict(
            "CANNOT_FOLLOW_YOURSELF",
            "You cannot follow yourself",
        ));
    }
    seller(state, id).await?;
    if follow {
        store::follow(&state.db, follower.id, id).await?;
    } else {
        store::unfollow(&state.db, follower.id, id).await?;
    }
    Ok(FollowOut {
        seller_id: id.to_hex(),
        following: follow,
        followers: store::follower_count(&state.db, id).await?,
    })
}

/// `GET /me/following`: a page (`limit` 1 to 100) of the sellers the user follows, most recently
/// followed first, after `cursor` (the `nextCursor` of the previous page). One read for the page,
/// then the sellers' names by `_id`, all at once. Errors: 422 for a cursor this server did not
/// issue.
pub async fn following(
    state: &AppState,
    follower: ObjectId,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<FollowedSellerOut>> {
    let after = match cursor {
        Some(c) => Some(crate::db::after_cursor_by(c, "seller").ok_or_else(|| {
            AppError::validation("cursor is not one this server issued", "cursor", "invalid")
        })?),
        None => None,
    };
    let follows = store::following(&state.db, follower, after, limit).await?;
    let sellers = futures_util::future::try_join_all(
        follows
            .iter()
            .map(|(seller, _)| users::find_by_id(&state.db, *seller)),
    )
    .await?;
    let items = follows
        .iter()
        .zip(sellers)
        .filter_map(|((seller, at), user)| {
            // A follow of a user that no longer exists is left out (nothing to show or open).
            user.map(|u| FollowedSellerOut {
                seller_id: seller.to_hex(),
                username: u.username,
                followed_at: clock::rfc3339(*at),
            })
        })
        .collect();
    let next_cursor = match follows.last() {
        Some((seller, at)) if follows.len() as i64 == limit => {
            Some(crate::db::page_cursor(*at, *seller))
        }
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

/// On every instance: resolves [`HubEvent::FollowersOf`] into the followers and delivers the
/// event to this instance's sockets ([`HubEvent::ToFollowers`]): the followers' marked as
/// followed, the sport subscribers' plain.
pub fn spawn_follower_fanout(state: &AppState) -> tokio::task::JoinHandle<()> {
    use tokio::sync::broadcast::error::RecvError;
    let (mut events, state) = (state.hub.subscribe(), state.clone());
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(HubEvent::FollowersOf {
                    seller,
                    sport,
                    event,
                }) => {
                    let Ok(seller) = ObjectId::parse_str(&seller) else {
                        continue;
                    };
                    // Delivered even without followers: the sport's subscribers get it from here.
                    let users = match store::followers(&state.db, seller).await {
                        Ok(ids) => ids.into_iter().map(ObjectId::to_hex).collect(),
                        Err(e) => {
                            tracing::warn!(%seller, error = %e, "followers not told of a new code");
                            vec![]
                        }
                    };
                    state.hub.deliver_locally(HubEvent::ToFollowers {
                        users,
                        sport,
                        event,
                    });
                }
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
        }
    })
}
