//! The demo marketplace for `SEED_DEMO=true`: several tipsters, sports and bookmakers, codes on sale,
//! codes waiting for votes, one waiting for an admin, and a finalized history so the leaderboard is
//! populated. Everything goes through the real flows (purchase with escrow, votes, resolution,
//! settlement); ids derive from fixed labels and a seeded generator, so running it again changes
//! nothing.

use crate::auth::store::{self as users, InsertUser, User};
use crate::clock;
use crate::codes::rules::{self, Listing};
use crate::codes::store;
use crate::idempotency::{IdempotencyKey, HEADER};
use crate::ledger::{accounts, derived_id};
use crate::resolution::finalize::{self, DecidedBy};
use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue};
use mongodb::bson::{doc, DateTime};
use oddxer_shared::{Outcome, Role, Sport, VoteType};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::time::Duration;

const TIPSTERS: &[(&str, &str)] = &[
    ("+256700000020", "kampala_kings"),
    ("+256700000021", "odds_oracle"),
    ("+256700000022", "goal_getter"),
    ("+256700000023", "court_vision"),
    ("+256700000024", "pitch_prophet"),
];
const BETTORS: &[(&str, &str)] = &[
    ("+256700000030", "bettor_amina"),
    ("+256700000031", "bettor_brian"),
    ("+256700000032", "bettor_carol"),
    ("+256700000033", "bettor_david"),
    ("+256700000034", "bettor_esther"),
    ("+256700000035", "bettor_frank"),
];
const TITLES: &[(Sport, &[&str])] = &[
    (
        Sport::Football,
        &[
            "EPL weekend accumulator",
            "Both teams to score x4",
            "Home wins treble",
            "Over 2.5 goals banker",
            "Champions League doubles",
            "Uganda Premier League picks",
        ],
    ),
    (
        Sport::Basketball,
        &[
            "NBA player points combo",
            "EuroLeague handicap double",
            "NBA totals over",
        ],
    ),
    (
        Sport::Tennis,
        &["ATP favourites treble", "WTA straight sets double"],
    ),
    (
        Sport::Cricket,
        &["T20 winner and top batter", "IPL evening double"],
    ),
    (Sport::Rugby, &["Six Nations handicaps"]),
    (Sport::Esports, &["CS2 map winners", "Dota 2 series double"]),
];

fn user_key(label: &str, user: &User) -> Option<IdempotencyKey> {
    let mut headers = HeaderMap::new();
    headers.insert(HEADER, HeaderValue::from_str(label).ok()?);
    IdempotencyKey::from_headers(&headers, user.id).ok()
}

async fn user(
    state: &AppState,
    phone: &str,
    username: &str,
    role: Role,
) -> anyhow::Result<Option<User>> {
    let u = match users::insert_user(&state.db, phone, username, role).await? {
        InsertUser::Created(u) => u,
        _ => match users::find_by_phone(&state.db, phone).await? {
            Some(u) => u,
            None => return Ok(None),
        },
    };
    users::set_fields(&state.db, u.id, doc! { "isVerified": true }).await?;
    accounts::ensure_wallet(&state.db, u.id, &state.config.currency).await?;
    Ok(Some(u))
}

fn listing(rng: &mut StdRng, state: &AppState, expires_at: DateTime) -> Listing {
    let (sport, titles) = TITLES[rng.gen_range(0..TITLES.len())];
    let title = titles[rng.gen_range(0..titles.len())];
    let books = &state.config.bookmakers;
    let legs = rng.gen_range(2..=6);
    let odds = rng.gen_range(130..=2_500) * legs / 3;
    let price_steps = [1_000, 1_500, 2_000, 2_500, 3_000, 5_000, 7_500, 10_000];
    Listing {
        sport,
        title: title.to_owned(),
        description: format!(
            "{legs} selections, researched form and team news. Stake responsibly."
        ),
        odds: odds.clamp(rules::MIN_ODDS, 100_000),
        bookmaker: books
            .get(rng.gen_range(0..books.len().max(1)))
            .cloned()
            .unwrap_or_else(|| "SportyBet".into()),
        price: price_steps[rng.gen_range(0..price_steps.len())].clamp(
            state.config.code_price_min.max(1),
            state.config.code_price_max,
        ),
        code: format!(
            "{}{:06}",
            ["BC", "SB", "BW", "XB"][rng.gen_range(0..4)],
            rng.gen_range(0..1_000_000)
        ),
        expires_at,
        max_buyers: [1, 1, 1, 2, 3, 5][rng.gen_range(0..6)],
    }
}

/// Seeds the marketplace; called by [`super::seed_demo`].
pub async fn seed_marketplace(state: &AppState) -> anyhow::Result<()> {
    let mut sellers = vec![];
    for (phone, name) in TIPSTERS {
        if let Some(u) = user(state, phone, name, Role::Seller).await? {
            sellers.push(u);
        }
    }
    if let Some(s) = users::find_by_phone(&state.db, "+256700000002").await? {
        sellers.push(s);
    }
    let mut bettors = vec![];
    for (phone, name) in BETTORS {
        if let Some(u) = user(state, phone, name, Role::Buyer).await? {
            super::fund(state, u.id, name).await?;
            bettors.push(u);
        }
    }
    if sellers.is_empty() || bettors.is_empty() {
        return Ok(());
    }
    let demo_buyer = users::find_by_phone(&state.db, "+256700000003").await?;
    let mut rng = StdRng::seed_from_u64(0x0dd_8e7);
    let now = clock::now();
    let hour = Duration::from_secs(3600);

    // History: finalized codes of the past three weeks, decided by their buyers' votes.
    for n in 0..36 {
        let seller = &sellers[n % sellers.len()];
        let kicked_off = clock::before(now, hour * rng.gen_range(30u32..500));
        let l = listing(&mut rng, state, kicked_off);
        let buyers = rng.gen_range(1..=l.max_buyers.min(3)) as usize;
        let win_rate = [0.75, 0.6, 0.55, 0.45, 0.35, 0.5][n % sellers.len()];
        let outcome = if rng.gen_bool(0.05) {
            Outcome::Void
        } else if rng.gen_bool(win_rate) {
            Outcome::Won
        } else {
            Outcome::Lost
        };
        let who: Vec<usize> = (0..buyers)
            .map(|i| (n * 7 + i * 2) % bettors.len())
            .collect();
        history_code(
            state,
            &format!("demo-history-{n}"),
            seller,
            l,
            &who.iter().map(|i| bettors[*i].clone()).collect::<Vec<_>>(),
            outcome,
        )
        .await?;
    }
    // Kicked off within the voting window: buyers (the demo buyer among them) can still vote.
    for n in 0..4 {
        let seller = &sellers[n % sellers.len()];
        let l = listing(&mut rng, state, clock::before(now, hour * (n as u32 + 1)));
        let mut buyers = vec![bettors[n % bettors.len()].clone()];
        buyers.extend(demo_buyer.clone());
        awaiting_code(
            state,
            &format!("demo-awaiting-{n}"),
            seller,
            Listing { max_buyers: 3, ..l },
            &buyers,
            None,
        )
        .await?;
    }
    // A tie: waiting for an admin in the review queue.
    let l = listing(&mut rng, state, clock::before(now, hour * 30));
    let tie = [bettors[0].clone(), bettors[1].clone()];
    awaiting_code(
        state,
        "demo-review-0",
        &sellers[0],
        Listing { max_buyers: 2, ..l },
        &tie,
        Some(&[VoteType::Win, VoteType::Loss]),
    )
    .await?;
    // On sale now, kick-off within the next three days.
    for n in 0..30 {
        let seller = &sellers[n % sellers.len()];
        let kick_off = clock::after(now, Duration::from_secs(rng.gen_range(2 * 3600..72 * 3600)));
        let l = listing(&mut rng, state, kick_off);
        let id = derived_id(&format!("demo-active-{n}"));
        store::insert(
            &state.db,
            store::new_code_doc(
                id,
                seller.id,
                &seller.username,
                &l,
                clock::before(now, hour * (n as u32 % 5)),
            ),
        )
        .await?;
    }
    crate::resolution::worker::run_once(state, now).await?;
    tracing::info!(
        sellers = sellers.len(),
        bettors = bettors.len(),
        "demo marketplace ready"
    );
    Ok(())
}

/// Lists a code that is still on sale, has `buyers` buy it through the real purchase, then moves
/// its kick-off to `expires_at` (in the past). Returns false when it was seeded before.
async fn bought_code(
    state: &AppState,
    label: &str,
    seller: &User,
    l: &Listing,
    buyers: &[User],
) -> anyhow::Result<Option<mongodb::bson::oid::ObjectId>> {
    let id = derived_id(label);
    if crate::codes::resolutions::find_resolution(&state.db, id)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let created = clock::before(l.expires_at, Duration::from_secs(6 * 3600));
    let on_sale = Listing {
        expires_at: clock::after(clock::now(), Duration::from_secs(600)),
        ..l.clone()
    };
    if store::insert(
        &state.db,
        store::new_code_doc(id, seller.id, &seller.username, &on_sale, created),
    )
    .await?
    {
        for b in buyers {
            let Some(key) = user_key(&format!("{label}-purchase"), b) else {
                continue;
            };
            match crate::purchases::service::purchase_code(state, b, &key, id).await {
                // The seed goes on only once the purchase is wholly written.
                Ok((_, follow_up)) => follow_up.await,
                Err(e) => tracing::warn!(code = label, error = %e, "demo purchase refused"),
            }
        }
        store::set_labels(&state.db, id, doc! { "expiresAt": l.expires_at }).await?;
    }
    Ok(Some(id))
}

async fn cast_votes(
    state: &AppState,
    id: mongodb::bson::oid::ObjectId,
    buyers: &[User],
    votes: &[VoteType],
) -> anyhow::Result<()> {
    for (b, v) in buyers.iter().zip(votes) {
        if crate::codes::sales::is_buyer(&state.db, id, b.id).await? {
            crate::votes::store::insert(&state.db, id, b.id, *v, clock::now()).await?;
        }
    }
    crate::votes::store::refresh_counters(&state.db, id).await?;
    Ok(())
}

async fn history_code(
    state: &AppState,
    label: &str,
    seller: &User,
    l: Listing,
    buyers: &[User],
    outcome: Outcome,
) -> anyhow::Result<()> {
    let Some(id) = bought_code(state, label, seller, &l, buyers).await? else {
        return Ok(());
    };
    // Every buyer votes the result, but one dissents now and then.
    let (agree, dissent) = match outcome {
        Outcome::Won => (VoteType::Win, VoteType::Loss),
        _ => (VoteType::Loss, VoteType::Win),
    };
    let votes: Vec<VoteType> = (0..buyers.len())
        .map(|i| if i == 2 { dissent } else { agree })
        .collect();
    if outcome != Outcome::Void {
        cast_votes(state, id, buyers, &votes).await?;
    }
    let Some(code) = store::find(&state.db, id).await? else {
        return Ok(());
    };
    let by = if outcome == Outcome::Void {
        DecidedBy::Admin
    } else {
        DecidedBy::Majority
    };
    finalize::resolve(state, &code, outcome, by, None).await?;
    Ok(())
}

async fn awaiting_code(
    state: &AppState,
    label: &str,
    seller: &User,
    l: Listing,
    buyers: &[User],
    votes: Option<&[VoteType]>,
) -> anyhow::Result<()> {
    let Some(id) = bought_code(state, label, seller, &l, buyers).await? else {
        return Ok(());
    };
    if let Some(v) = votes {
        cast_votes(state, id, buyers, v).await?;
        store::set_labels(&state.db, id, doc! { "needsReview": true }).await?;
    }
    Ok(())
}
