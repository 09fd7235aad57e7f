//! Leaderboard use cases: the exactly-once update at finalization, the recomputation from scratch,
//! and the ranked, paged reads.

use super::cursor::{
    bad_cursor, decode_parts, encode_rank_cursor, num, oid, order, rank_sort, sort_field, sort_key,
    sort_tag, RankKey,
};
use super::rules::{bps_to_percent, rank_cmp, Contribution, Period, Row, Terms};
use super::store;
use crate::clock;
use crate::codes::resolutions::Resolution;
use crate::codes::store::Code;
use crate::error::{AppError, Result};
use crate::state::AppState;
use mongodb::bson::{doc, oid::ObjectId, DateTime, Document};
use oddxer_shared::api::{LeaderboardEntryOut, Page};
use oddxer_shared::Money;
use serde::Deserialize;
use std::collections::HashMap;

/// The incremental update at finalization, exactly once per code: the code's contribution is
/// inserted under `{_id: codeId}` (a second run finds it there), then the seller's row is rewritten
/// from the seller's contributions. Never a `$inc`.
pub async fn record(state: &AppState, code: &Code, res: &Resolution) -> Result<()> {
    let prices = store::sale_prices(&state.db, &[code.id])
        .await?
        .remove(&code.id)
        .unwrap_or_default();
    let c = Contribution::new(
        code.id,
        code.seller,
        &code.seller_username,
        res.outcome,
        code.listing.odds,
        &prices,
        Terms::from_config(&state.config),
    )
    .in_sport(code.listing.sport);
    store::insert_contribution(&state.db, &c).await?;
    refresh_row(state, code.seller, &code.seller_username).await?;
    Ok(())
}

/// Rewrites the seller's row from their contributions until the stored row equals sums taken after
/// the write (two finalizations of one seller may each write; the later sums win).
pub async fn refresh_row(state: &AppState, seller: ObjectId, username: &str) -> Result<Row> {
    let mut sums = store::seller_sums(&state.db, seller, username).await?;
    for _ in 0..8 {
        store::write_row(&state.db, &sums).await?;
        let stored = store::read_row(&state.db, seller).await?.map(|(r, _)| r);
        let again = store::seller_sums(&state.db, seller, username).await?;
        if stored.as_ref() == Some(&again) {
            return Ok(again);
        }
        sums = again;
    }
    Ok(sums)
}

/// The leaderboard recomputed from the source documents alone (resolutions, codes, completed
/// purchases), sorted in rank order. It must equal the stored rows.
pub async fn recompute_all(state: &AppState) -> Result<Vec<Row>> {
    let db = &state.db;
    let outcomes = store::all_outcomes(db).await?;
    let ids: Vec<ObjectId> = outcomes.keys().copied().collect();
    let prices = store::sale_prices(db, &ids).await?;
    let terms = Terms::from_config(&state.config);
    let mut rows: HashMap<ObjectId, Row> = HashMap::new();
    for chunk in ids.chunks(1000) {
        for d in store::listed(db, chunk).await? {
            let (id, seller, username, odds) = (d.id, d.seller, d.seller_username.as_str(), d.odds);
            let Some(outcome) = outcomes.get(&id) else {
                continue;
            };
            let empty = vec![];
            let c = Contribution::new(
                id,
                seller,
                username,
                *outcome,
                odds,
                prices.get(&id).unwrap_or(&empty),
                terms,
            );
            rows.entry(seller)
                .or_insert_with(|| Row::new(seller, username))
                .add(&c);
        }
    }
    let mut rows: Vec<Row> = rows.into_values().collect();
    rows.sort_by(rank_cmp);
    Ok(rows)
}

/// Every stored row in rank order (for comparing with `recompute_all`).
pub async fn stored_rows(state: &AppState) -> Result<Vec<Row>> {
    let mut rows: Vec<Row> = store::find_rows(&state.db, doc! {}, doc! {}, None, None)
        .await?
        .into_iter()
        .map(|(r, _)| r)
        .collect();
    rows.sort_by(rank_cmp);
    Ok(rows)
}

pub use oddxer_shared::api::LeaderSort;

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LeaderboardQuery {
    /// rank (default: ranked sellers in rank order, then unranked ones), winRate, totalSales,
    /// totalRevenue, yield.
    pub sort: Option<LeaderSort>,
    /// all (default), 30d, 7d: only codes finalized in the window count.
    pub period: Option<Period>,
    /// Only codes of this sport count.
    pub sport: Option<oddxer_shared::Sport>,
    /// 1 to 100, default 20.
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

fn entry(
    state: &AppState,
    row: &Row,
    rank: Option<i64>,
    updated_at: DateTime,
) -> LeaderboardEntryOut {
    LeaderboardEntryOut {
        seller_id: row.seller.to_hex(),
        username: row.username.clone(),
        rank,
        total_sales: row.total_sales,
        total_wins: row.wins,
        total_losses: row.losses,
        total_voids: row.voids,
        win_rate: bps_to_percent(row.win_rate_bps()),
        average_roi: bps_to_percent(row.average_roi_bps()),
        total_revenue: Money::new(row.revenue, &state.config.currency),
        updated_at: clock::rfc3339(updated_at),
    }
}

fn min_results(state: &AppState) -> i64 {
    i64::from(state.config.leaderboard_min_finalized)
}

pub async fn page(state: &AppState, q: &LeaderboardQuery) -> Result<Page<LeaderboardEntryOut>> {
    let limit = crate::http::PageQuery {
        limit: q.limit,
        cursor: None,
    }
    .limit()?;
    let sort = q.sort.unwrap_or_default();
    let period = q.period.unwrap_or_default();
    if period != Period::All || q.sport.is_some() {
        return windowed_page(state, sort, period, q.sport, q.cursor.as_deref(), limit).await;
    }
    match sort {
        LeaderSort::Rank => rank_page(state, q.cursor.as_deref(), limit).await,
        other => key_page(state, other, q.cursor.as_deref(), limit).await,
    }
}

async fn rank_page(
    state: &AppState,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<LeaderboardEntryOut>> {
    let min = min_results(state);
    let (mut phase, mut after, mut last_rank) = match cursor {
        None => (1u8, None, 0i64),
        Some(raw) => {
            let p = decode_parts(raw, sort_tag(LeaderSort::Rank))?;
            let phase = match num(&p, 1)? {
                1 => 1u8,
                2 => 2u8,
                _ => return Err(bad_cursor()),
            };
            let key = RankKey {
                win_rate: num(&p, 2)?,
                sales: num(&p, 3)?,
                revenue: num(&p, 4)?,
                id: oid(&p, 5)?,
            };
            (phase, Some(key), num(&p, 6)?)
        }
    };
    let cached = state.leaderboard.rows(&state.db).await?;
    let mut items = vec![];
    let mut last: Option<(u8, RankKey)> = None;
    let mut more = false;
    while phase <= 2 {
        let need = limit - items.len() as i64;
        let mut filter = if phase == 1 {
            doc! { "results": { "$gte": min } }
        } else {
            doc! { "results": { "$lt": min } }
        };
        if let Some(k) = after {
            filter.extend(k.beyond(true));
        }
        let rows = match &cached {
            Some(all) => {
                let ranked = phase == 1;
                // The cached rows are in rank order already: stop after the page.
                all.iter()
                    .filter(|(r, _)| (r.results() >= min) == ranked)
                    .filter(|(r, _)| {
                        after
                            .as_ref()
                            .is_none_or(|k| order(&RankKey::of(r)) > order(k))
                    })
                    .take(need as usize + 1)
                    .cloned()
                    .collect::<Vec<(Row, DateTime)>>()
            }
            None => store::find_rows(&state.db, filter, rank_sort(), Some(need + 1), None).await?,
        };
        for (row, updated) in rows.iter().take(need as usize) {
            let rank = if phase == 1 {
                last_rank += 1;
                Some(last_rank)
            } else {
                None
            };
            items.push(entry(state, row, rank, *updated));
            last = Some((phase, RankKey::of(row)));
        }
        if rows.len() as i64 > need {
            more = true;
            break;
        }
        phase += 1;
        after = None;
    }
    let next_cursor = if more {
        last.map(|(p, k)| encode_rank_cursor(p, k, last_rank))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// Ranks of every ranked seller, from one read of the ranked rows' keys.
async fn rank_map(state: &AppState) -> Result<HashMap<ObjectId, i64>> {
    let rows = match state.leaderboard.rows(&state.db).await? {
        Some(all) => all
            .iter()
            .filter(|(r, _)| r.results() >= min_results(state))
            .cloned()
            .collect(),
        None => {
            let projection = doc! { "seller": 1, "winRate": 1, "totalSales": 1, "totalRevenue": 1 };
            store::find_rows(
                &state.db,
                doc! { "results": { "$gte": min_results(state) } },
                rank_sort(),
                None,
                Some(projection),
            )
            .await?
        }
    };
    Ok(rows
        .iter()
        .enumerate()
        .map(|(i, (r, _))| (r.seller, i as i64 + 1))
        .collect())
}

async fn key_page(
    state: &AppState,
    sort: LeaderSort,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<LeaderboardEntryOut>> {
    let field = sort_field(sort);
    let key_of = |r: &Row| sort_key(sort, r);
    let mut filter = Document::new();
    let mut after: Option<(i64, ObjectId)> = None;
    if let Some(raw) = cursor {
        let p = decode_parts(raw, sort_tag(sort))?;
        let (key, id) = (num(&p, 1)?, oid(&p, 2)?);
        filter =
            doc! { "$or": [ { field: { "$lt": key } }, { field: key, "_id": { "$gt": id } } ] };
        after = Some((key, id));
    }
    let mut rows = match state.leaderboard.rows(&state.db).await? {
        Some(all) => {
            let mut rows: Vec<(Row, DateTime)> = all
                .iter()
                .filter(|(r, _)| {
                    after.is_none_or(|(key, id)| {
                        key_of(r) < key || (key_of(r) == key && r.seller > id)
                    })
                })
                .cloned()
                .collect();
            rows.sort_by_key(|(r, _)| (-key_of(r), r.seller));
            rows.truncate(limit as usize + 1);
            rows
        }
        None => {
            store::find_rows(
                &state.db,
                filter,
                doc! { field: -1, "_id": 1 },
                Some(limit + 1),
                None,
            )
            .await?
        }
    };
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let ranks = rank_map(state).await?;
    let next_cursor = if more {
        rows.last().map(|(r, _)| {
            hex::encode(format!(
                "{}:{}:{}",
                sort_tag(sort),
                key_of(r),
                r.seller.to_hex()
            ))
        })
    } else {
        None
    };
    let items = rows
        .iter()
        .map(|(r, u)| entry(state, r, ranks.get(&r.seller).copied(), *u))
        .collect();
    Ok(Page { items, next_cursor })
}

/// The leaderboard of a window (`period`) or a sport: rows summed from the contributions of codes
/// finalized in it (read per UTC day, or per sport, by equality on an indexed field), ranked
/// among themselves like the all-time board, then sorted as asked. Paged by offset: the window's
/// rows are few and computed per request.
async fn windowed_page(
    state: &AppState,
    sort: LeaderSort,
    period: Period,
    sport: Option<oddxer_shared::Sport>,
    cursor: Option<&str>,
    limit: i64,
) -> Result<Page<LeaderboardEntryOut>> {
    let tag = format!(
        "p:{}:{}:{}",
        sort_tag(sort),
        period.days().unwrap_or(0),
        sport.map_or("", |s| s.as_str())
    );
    let offset = match cursor {
        None => 0,
        Some(raw) => {
            let parts = decode_parts(raw, "p")?;
            if parts.len() != 5 || parts[..4].join(":") != tag {
                return Err(bad_cursor());
            }
            num(&parts, 4)?.max(0) as usize
        }
    };
    let now = clock::now();
    let since = super::rules::since(period, now);
    let docs = match (period.days(), sport) {
        (Some(days), _) => {
            let today = store::day_of(now);
            store::contributions_on_days(&state.db, (today - days)..=today).await?
        }
        (None, Some(s)) => store::contributions_in_sport(&state.db, s.as_str()).await?,
        (None, None) => return Err(AppError::internal("windowed leaderboard without a window")),
    };
    let mut rows: HashMap<ObjectId, (Row, DateTime)> = HashMap::new();
    for c in &docs {
        let at = c.created_at;
        if since.is_some_and(|t| at < t) || sport.is_some_and(|s| c.sport != Some(s)) {
            continue;
        }
        let Some(seller) = c.seller else {
            continue;
        };
        let entry = rows
            .entry(seller)
            .or_insert_with(|| (Row::new(seller, &c.username), at));
        c.add_to(&mut entry.0);
        entry.1 = entry.1.max(at);
    }
    let mut rows: Vec<(Row, DateTime)> = rows.into_values().collect();
    let min = min_results(state);
    rows.sort_by(|a, b| {
        (b.0.results() >= min)
            .cmp(&(a.0.results() >= min))
            .then(rank_cmp(&a.0, &b.0))
    });
    let ranks: HashMap<ObjectId, i64> = rows
        .iter()
        .filter(|(r, _)| r.results() >= min)
        .enumerate()
        .map(|(i, (r, _))| (r.seller, i as i64 + 1))
        .collect();
    if sort != LeaderSort::Rank {
        rows.sort_by_key(|(r, _)| (-sort_key(sort, r), r.seller));
    }
    let more = rows.len() > offset + limit as usize;
    let items = rows
        .iter()
        .skip(offset)
        .take(limit as usize)
        .map(|(r, at)| entry(state, r, ranks.get(&r.seller).copied(), *at))
        .collect();
    let next_cursor = more.then(|| hex::encode(format!("{tag}:{}", offset + limit as usize)));
    Ok(Page { items, next_cursor })
}

/// One seller's stats; a seller with nothing finalized yet gets a row of zeros.
pub async fn one(state: &AppState, seller: ObjectId) -> Result<LeaderboardEntryOut> {
    let (row, updated) = match store::read_row(&state.db, seller).await? {
        Some(found) => found,
        None => {
            let user = crate::auth::store::find_by_id(&state.db, seller)
                .await?
                .ok_or(AppError::NotFound("seller"))?;
            (Row::new(seller, &user.username), user.created_at)
        }
    };
    let rank = if row.ranked(state.config.leaderboard_min_finalized) {
        let mine = order(&RankKey::of(&row));
        match state.leaderboard.rows(&state.db).await? {
            Some(all) => Some(
                all.iter()
                    .filter(|(r, _)| {
                        r.results() >= min_results(state) && order(&RankKey::of(r)) < mine
                    })
                    .count() as i64
                    + 1,
            ),
            None => {
                let mut better = doc! { "results": { "$gte": min_results(state) } };
                better.extend(RankKey::of(&row).beyond(false));
                Some(store::count_rows(&state.db, better).await? + 1)
            }
        }
    } else {
        None
    };
    Ok(entry(state, &row, rank, updated))
}

/// Rewrites every row from `recompute_all` (used by the demo seed; an operator's repair tool).
pub async fn rebuild(state: &AppState) -> Result<usize> {
    let rows = recompute_all(state).await?;
    for r in &rows {
        store::write_row(&state.db, r).await?;
    }
    Ok(rows.len())
}
