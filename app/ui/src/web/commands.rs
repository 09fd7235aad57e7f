//! The web core's commands that touch its local state (session, offline copy, outbox, money
//! keys). Online-only commands are one [`Call`] each, in `crate::ipc`.

use oddxer_shared::api::{
    CodeOut, FollowOut, FollowedSellerOut, LeaderboardEntryOut, Page, PaymentIn, PaymentOut,
    PerformancePointOut, PurchaseOut, PurchaseResultOut, SellerProfileOut, TransactionOut, UserOut,
    VerifyOtpIn, VoteIn, VoteOut, WalletOut,
};
use oddxer_shared::client::{
    BrowseIn, BrowseOut, CastVoteIn, CommandError, ConnectionState, CursorIn, LeaderboardIn,
    OutboxItemOut, OutboxState, SellerProfileView, VoteResultOut, WalletPaymentsOut,
};
use oddxer_shared::VoteType;
use oddxer_sync::{replay_verdict, ReplayFailure, ReplayVerdict};

use super::error::{Result, WebError};
use super::http::Call;
use super::session::{self, WebTokens, TRANSPORT_HEADER};
use super::{changed, ensure_loaded, path_id, set_connection, sync, with, CachedPage};

type R<T> = std::result::Result<T, CommandError>;

/// At start: the refresh cookie turned into a session, and syncing. When the server cannot be
/// reached, the cached user (offline) and a sync loop that keeps trying.
pub async fn resume() -> R<Option<UserOut>> {
    ensure_loaded().await;
    match session::refresh(None).await {
        Ok(_) => {
            set_connection(ConnectionState::Connecting, None);
            sync::start();
            refresh_wallet_in_background();
            Ok(super::cached_user())
        }
        Err(WebError::Unauthenticated) => Ok(None),
        Err(e) if e.is_unreachable() => match super::cached_user() {
            Some(user) => {
                set_connection(
                    ConnectionState::Offline,
                    Some("The server cannot be reached.".into()),
                );
                sync::start();
                Ok(Some(user))
            }
            None => Err(e.into()),
        },
        Err(e) => Err(e.into()),
    }
}

/// Exchanges the OTP for a session; the refresh token goes into the backend's HttpOnly cookie.
pub async fn verify_otp(input: &VerifyOtpIn) -> R<UserOut> {
    let body = VerifyOtpIn {
        phone_number: input.phone_number.clone(),
        otp: input.otp.trim().to_owned(),
    };
    let tokens: WebTokens = Call::post("/auth/verify-otp")
        .header(TRANSPORT_HEADER, "cookie")
        .json(&body)
        .fetch()
        .await?;
    let user = tokens.user.ok_or(WebError::Api {
        status: 200,
        code: "PROTOCOL".into(),
        message: "The server did not say who signed in.".into(),
        fields: Default::default(),
    })?;
    session::set_access(tokens.access_token);
    super::adopt_user(&user);
    set_connection(ConnectionState::Connecting, None);
    sync::start();
    refresh_wallet_in_background();
    Ok(user)
}

/// Ends the session here and, when reachable, on the server (the cookie is revoked and
/// cleared there). The user's data on this device is wiped.
pub async fn sign_out() -> R<()> {
    sync::stop();
    if session::access().is_some() {
        let r: Result<serde_json::Value> = Call::post("/auth/logout")
            .json(&serde_json::json!({}))
            .signed_in()
            .fetch()
            .await;
        if let Err(e) = r {
            // Best effort: offline, the cookie's token simply expires on the server.
            super::log_info(&format!("server-side logout skipped: {e}"));
        }
    }
    session::clear();
    with(|s| {
        s.doc = Default::default();
        s.sync_progress = None;
    });
    set_connection(ConnectionState::Idle, None);
    changed();
    Ok(())
}

/// `GET /wallet` into the local copy (brings `held`, which the ledger stream does not carry).
async fn refresh_wallet() -> Result<()> {
    let wallet: WalletOut = Call::get("/wallet").signed_in().fetch().await?;
    if session::access().is_none() {
        // Signed out while it was in flight: the answer belongs to nobody now.
        return Ok(());
    }
    if with(|s| s.doc.streams.put_wallet(&wallet)) {
        changed();
    }
    Ok(())
}

fn refresh_wallet_in_background() {
    wasm_bindgen_futures::spawn_local(async {
        if let Err(e) = refresh_wallet().await {
            super::log_info(&format!("background wallet refresh failed: {e}"));
        }
    });
}

/// The request may or may not have reached the server: keep its key for a retry.
fn outcome_unknown(e: &WebError) -> bool {
    e.is_unreachable()
        || matches!(
            e,
            WebError::Api {
                status: 500..=599,
                ..
            } | WebError::Protocol { .. }
        )
}

/// A money call with an `Idempotency-Key` made once per user action (`action` names it and its
/// body) and reused while its outcome is unknown, so the server moves the money at most once.
/// Never queued: offline it fails with the offline message.
async fn money_call<T: serde::de::DeserializeOwned>(action: &str, call: Call) -> Result<T> {
    let key = with(|s| {
        s.doc
            .money_keys
            .entry(action.to_owned())
            .or_insert_with(super::new_key)
            .clone()
    });
    let result = call
        .header("Idempotency-Key", key)
        .signed_in()
        .fetch()
        .await;
    let unknown = matches!(&result, Err(e) if outcome_unknown(e));
    if !unknown {
        with(|s| s.doc.money_keys.remove(action));
    }
    changed();
    result
}

/// `POST /wallet/deposits` or `/wallet/withdrawals` (202 PENDING).
pub async fn payment(path: &str, kind: &str, input: &PaymentIn) -> R<TransactionOut> {
    let action = format!(
        "{kind}:{}:{}:{}",
        input.amount,
        input.payment_method.as_str(),
        input.phone_number
    );
    let tx: TransactionOut = money_call(&action, Call::post(path).json(input)).await?;
    refresh_wallet_in_background();
    Ok(tx)
}

/// `POST /auth/become-seller`; the cached user follows.
pub async fn become_seller() -> R<UserOut> {
    let user: UserOut = Call::post("/auth/become-seller")
        .signed_in()
        .fetch()
        .await?;
    super::adopt_user(&user);
    Ok(user)
}

/// `GET /codes`; the first page of each query is kept, and served (`fromCache`) when the
/// server cannot be reached.
/// `GET /leaderboard`: the first page of each query is kept beside the marketplace pages for
/// reading offline, as the native core keeps it in SQLite; when the server cannot be reached the
/// kept page answers (the error when there is none).
pub async fn leaderboard(q: &LeaderboardIn) -> R<Page<LeaderboardEntryOut>> {
    let key = serde_json::to_string(q).unwrap_or_default();
    match Call::get("/leaderboard")
        .query(q)
        .fetch::<Page<LeaderboardEntryOut>>()
        .await
    {
        Ok(page) => {
            if q.cursor.is_none() {
                with(|s| {
                    s.market.boards.retain(|(k, _)| *k != key);
                    s.market.boards.push((key, page.clone()));
                    let excess = s
                        .market
                        .boards
                        .len()
                        .saturating_sub(super::MARKET_PAGES_KEPT);
                    s.market.boards.drain(..excess);
                });
                super::schedule_save();
            }
            Ok(page)
        }
        Err(e) if e.is_unreachable() && q.cursor.is_none() => with(|s| {
            s.market
                .boards
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, p)| p.clone())
        })
        .ok_or_else(|| e.into()),
        Err(e) => Err(e.into()),
    }
}

pub async fn browse_codes(q: &BrowseIn) -> R<BrowseOut> {
    match Call::get("/codes").query(q).fetch::<Page<CodeOut>>().await {
        Ok(page) => {
            with(|s| {
                for c in &page.items {
                    s.market.codes.insert(c.id.clone(), c.clone());
                }
                if q.cursor.is_none() {
                    let key = serde_json::to_string(q).unwrap_or_default();
                    s.market.pages.retain(|(k, _)| *k != key);
                    s.market.pages.push((
                        key,
                        CachedPage {
                            items: page.items.clone(),
                            next_cursor: page.next_cursor.clone(),
                            cached_at: super::now_rfc3339(),
                        },
                    ));
                    let excess = s
                        .market
                        .pages
                        .len()
                        .saturating_sub(super::MARKET_PAGES_KEPT);
                    s.market.pages.drain(..excess);
                }
            });
            super::schedule_save();
            Ok(BrowseOut {
                items: page.items,
                next_cursor: page.next_cursor,
                from_cache: false,
                cached_at: None,
            })
        }
        Err(e) if e.is_unreachable() => {
            let mut first = q.clone();
            first.cursor = None;
            let key = serde_json::to_string(&first).unwrap_or_default();
            let cached = with(|s| {
                s.market
                    .pages
                    .iter()
                    .find(|(k, _)| *k == key)
                    .map(|(_, p)| p.clone())
            });
            match cached {
                // A later page offline: nothing more kept.
                Some(_) if q.cursor.is_some() => Ok(BrowseOut {
                    items: Vec::new(),
                    next_cursor: None,
                    from_cache: true,
                    cached_at: None,
                }),
                Some(p) => Ok(BrowseOut {
                    items: p.items,
                    next_cursor: None,
                    from_cache: true,
                    cached_at: Some(p.cached_at),
                }),
                None => Ok(BrowseOut {
                    items: Vec::new(),
                    next_cursor: None,
                    from_cache: true,
                    cached_at: None,
                }),
            }
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /codes/{id}`, signed in when possible. Offline: my purchase of it (with the code) or
/// the marketplace copy.
pub async fn code_detail(id: &str) -> R<CodeOut> {
    let id = path_id(id)?;
    match Call::get(&format!("/codes/{id}"))
        .maybe_signed_in()
        .fetch::<CodeOut>()
        .await
    {
        Ok(code) => {
            with(|s| s.market.codes.insert(code.id.clone(), code.clone()));
            super::schedule_save();
            Ok(code)
        }
        Err(e) if e.is_unreachable() => with(|s| {
            s.doc
                .streams
                .purchase_of_code(id)
                .map(|p| p.code)
                .or_else(|| s.market.codes.get(id).cloned())
        })
        .ok_or_else(|| e.into()),
        Err(e) => Err(e.into()),
    }
}

/// `POST /codes/{id}/purchase`. Never queued. The purchase is kept at once (its stream row
/// replaces it when it arrives).
pub async fn purchase_code(id: &str) -> R<PurchaseResultOut> {
    let id = path_id(id)?;
    let result: PurchaseResultOut = money_call(
        &format!("purchase:{id}"),
        Call::post(&format!("/codes/{id}/purchase")),
    )
    .await?;
    let kept = with(|s| {
        let a = s.doc.streams.put_purchase_if_absent(&result.purchase);
        let b = s.doc.streams.put_wallet(&result.wallet);
        a || b
    });
    if kept {
        changed();
    }
    Ok(result)
}

/// My purchases with their codes, from the device.
pub fn my_purchases() -> Vec<PurchaseOut> {
    with(|s| s.doc.streams.purchases(None))
}

async fn post_vote(code_id: &str, vote: VoteType) -> Result<VoteOut> {
    Call::post(&format!("/codes/{code_id}/votes"))
        .json(&VoteIn { vote_type: vote })
        .signed_in()
        .fetch()
        .await
}

fn vote_delivered(code_id: &str, vote: VoteType) {
    if with(|s| s.doc.streams.record_my_vote(code_id, vote)) {
        changed();
    }
}

/// `POST /codes/{id}/votes`; queued in the outbox (`queued: true`) when the server cannot be
/// reached, and delivered when the sync connection is back.
pub async fn cast_vote(input: &CastVoteIn) -> R<VoteResultOut> {
    let code_id = path_id(&input.code_id)?;
    match post_vote(code_id, input.vote_type).await {
        Ok(v) => {
            vote_delivered(code_id, input.vote_type);
            Ok(VoteResultOut {
                vote: Some(v),
                queued: false,
            })
        }
        Err(e) if e.is_unreachable() => {
            with(|s| {
                let already = s
                    .doc
                    .outbox
                    .iter()
                    .any(|i| i.code_id == code_id && i.state == OutboxState::Pending);
                if !already {
                    s.doc.outbox.push(OutboxItemOut {
                        id: super::new_key(),
                        kind: "VOTE".into(),
                        code_id: code_id.to_owned(),
                        vote_type: input.vote_type,
                        state: OutboxState::Pending,
                        attempts: 0,
                        last_error: None,
                        created_at: super::now_rfc3339(),
                    });
                }
            });
            changed();
            Ok(VoteResultOut {
                vote: None,
                queued: true,
            })
        }
        Err(e) => Err(e.into()),
    }
}

fn replay_failure(e: &WebError) -> ReplayFailure {
    match e {
        _ if e.is_unreachable() => ReplayFailure::Unreachable,
        WebError::Unauthenticated => ReplayFailure::Unauthenticated,
        WebError::Api { status, code, .. } => ReplayFailure::Api {
            status: *status,
            code: code.clone(),
        },
        _ => ReplayFailure::Protocol,
    }
}

thread_local! {
    static REPLAYING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Sends the pending votes oldest first, one replay at a time, by the shared replay rules.
pub(super) async fn replay_outbox() {
    if REPLAYING.with(|r| r.replace(true)) {
        return;
    }
    let pending: Vec<OutboxItemOut> = with(|s| {
        s.doc
            .outbox
            .iter()
            .filter(|i| i.state == OutboxState::Pending)
            .cloned()
            .collect()
    });
    for item in pending {
        let outcome = post_vote(&item.code_id, item.vote_type).await;
        let verdict = match &outcome {
            Ok(_) => replay_verdict(Ok(())),
            Err(e) => replay_verdict(Err(&replay_failure(e))),
        };
        let message = outcome.as_ref().err().map(WebError::user_message);
        with(|s| {
            let slot = s.doc.outbox.iter().position(|i| i.id == item.id);
            match (verdict, slot) {
                (ReplayVerdict::Delivered, Some(i)) => {
                    s.doc.outbox.remove(i);
                }
                (ReplayVerdict::TryLater, Some(i)) => {
                    s.doc.outbox[i].attempts += 1;
                    s.doc.outbox[i].last_error = message.clone();
                }
                (ReplayVerdict::Refused, Some(i)) => {
                    s.doc.outbox[i].attempts += 1;
                    s.doc.outbox[i].state = OutboxState::Failed;
                    s.doc.outbox[i].last_error = message.clone();
                }
                (_, None) => {}
            }
        });
        if outcome.is_ok() {
            vote_delivered(&item.code_id, item.vote_type);
        }
        changed();
        if verdict == ReplayVerdict::TryLater {
            break;
        }
    }
    REPLAYING.with(|r| r.set(false));
}

/// Whether any vote waits for delivery.
pub(super) fn outbox_pending() -> bool {
    with(|s| s.doc.outbox.iter().any(|i| i.state == OutboxState::Pending))
}

/// A tipster's profile, first record page and performance, kept for offline reading.
pub async fn seller_profile(id: &str) -> R<SellerProfileView> {
    let id = path_id(id)?;
    let live = async {
        let profile_call = Call::get(&format!("/sellers/{id}")).maybe_signed_in();
        let record_call =
            Call::get(&format!("/sellers/{id}/codes")).query(&CursorIn { cursor: None });
        let performance_call = Call::get(&format!("/sellers/{id}/performance"));
        // Three independent reads: one wait, not three in a row.
        let (profile, record, performance) = futures_util::future::try_join3(
            profile_call.fetch::<SellerProfileOut>(),
            record_call.fetch::<Page<CodeOut>>(),
            performance_call.fetch::<Vec<PerformancePointOut>>(),
        )
        .await?;
        Ok::<_, WebError>(SellerProfileView {
            profile,
            record: record.items,
            record_next_cursor: record.next_cursor,
            performance,
            from_cache: false,
            cached_at: None,
        })
    };
    match live.await {
        Ok(view) => {
            with(|s| {
                let mut kept = view.clone();
                kept.cached_at = Some(super::now_rfc3339());
                s.doc.profiles.insert(id.to_owned(), kept);
            });
            super::schedule_save();
            Ok(view)
        }
        Err(e) if e.is_unreachable() => with(|s| s.doc.profiles.get(id).cloned())
            .map(|mut v| {
                v.from_cache = true;
                v
            })
            .ok_or_else(|| e.into()),
        Err(e) => Err(e.into()),
    }
}

/// A tipster's figures alone; offline, the kept profile's.
pub async fn seller_summary(id: &str) -> R<SellerProfileOut> {
    let id = path_id(id)?;
    match Call::get(&format!("/sellers/{id}"))
        .maybe_signed_in()
        .fetch::<SellerProfileOut>()
        .await
    {
        Err(e) if e.is_unreachable() => {
            with(|s| s.doc.profiles.get(id).map(|v| v.profile.clone())).ok_or_else(|| e.into())
        }
        other => other.map_err(Into::into),
    }
}

/// `PUT` / `DELETE /sellers/{id}/follow`; the kept profile follows. Never queued.
pub async fn follow_seller(id: &str, follow: bool) -> R<FollowOut> {
    let path = format!("/sellers/{}/follow", path_id(id)?);
    let call = if follow {
        Call::put(&path)
    } else {
        Call::delete(&path)
    };
    let out: FollowOut = call.signed_in().fetch().await?;
    with(|s| {
        if let Some(v) = s.doc.profiles.get_mut(&out.seller_id) {
            v.profile.following = out.following;
            v.profile.followers = out.followers;
        }
    });
    super::schedule_save();
    Ok(out)
}

/// The tipsters I follow (`GET /me/following`); offline, the list last read.
pub async fn my_following() -> R<Vec<FollowedSellerOut>> {
    // One page of the largest size, as the native core asks.
    match Call::get("/me/following?limit=100")
        .signed_in()
        .fetch::<Page<FollowedSellerOut>>()
        .await
        .map(|page| page.items)
    {
        Ok(list) => {
            with(|s| s.doc.following = Some(list.clone()));
            super::schedule_save();
            Ok(list)
        }
        Err(e) if e.is_unreachable() => with(|s| s.doc.following.clone()).ok_or_else(|| e.into()),
        Err(e) => Err(e.into()),
    }
}

/// Marks notification `id` read, or all of them (`None`). Unknown ids change nothing.
pub fn mark_notifications_read(id: Option<&str>) {
    let changed_any = with(|s| {
        let mut any = false;
        for n in s.doc.notifications.iter_mut() {
            if !n.read && id.is_none_or(|id| n.id == id) {
                n.read = true;
                any = true;
            }
        }
        any
    });
    if changed_any {
        changed();
    }
}

/// My deposits and withdrawals, newest first (`GET /wallet/payments`, one page of 50, as the
/// native core asks); offline, the list last read (`fromCache`).
pub async fn wallet_payments() -> R<WalletPaymentsOut> {
    match Call::get("/wallet/payments?limit=50")
        .signed_in()
        .fetch::<Page<PaymentOut>>()
        .await
    {
        Ok(page) => {
            with(|s| s.doc.payments = page.items.clone());
            super::schedule_save();
            Ok(WalletPaymentsOut {
                items: page.items,
                from_cache: false,
            })
        }
        Err(e) if e.is_unreachable() => Ok(WalletPaymentsOut {
            items: with(|s| s.doc.payments.clone()),
            from_cache: true,
        }),
        Err(e) => Err(e.into()),
    }
}
