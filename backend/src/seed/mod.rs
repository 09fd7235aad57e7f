//! Demo data for `SEED_DEMO=true` (the run command): an admin, a seller and a buyer with money.
//! Idempotent: every document has a fixed id or unique key, so re-running changes nothing.

pub mod marketplace;

use crate::auth::store::{self, InsertUser};
use crate::ledger::{accounts, derived_id, Leg};
use crate::state::AppState;
use crate::wallet::store::{insert_or_get, Transaction};
use mongodb::bson::{doc, oid::ObjectId};
use oddxer_shared::{PaymentMethod, Role, TransactionType};

pub const DEMO_USERS: &[(&str, &str, Role)] = &[
    ("+256700000001", "demo_admin", Role::Admin),
    ("+256700000002", "demo_seller", Role::Seller),
    ("+256700000003", "demo_buyer", Role::Buyer),
];

/// Opening balance of the demo buyer and seller, in minor units.
const DEMO_OPENING_BALANCE: i64 = 200_000;

pub async fn seed_demo(state: &AppState) -> anyhow::Result<()> {
    let db = &state.db;
    for (phone, username, role) in DEMO_USERS {
        let user = match store::insert_user(db, phone, username, *role).await? {
            InsertUser::Created(u) => u,
            _ => match store::find_by_phone(db, phone).await? {
                Some(u) => u,
                None => continue, // the username belongs to someone else; leave it alone
            },
        };
        store::set_fields(db, user.id, doc! { "isVerified": true }).await?;
        accounts::ensure_wallet(db, user.id, &state.config.currency).await?;
        if *role != Role::Admin {
            fund(state, user.id, username).await?;
        }
    }
    marketplace::seed_marketplace(state).await?;
    tracing::info!(
        "demo data ready: admin +256700000001, seller +256700000002, buyer +256700000003"
    );
    Ok(())
}

/// A completed sandbox deposit, through the same ledger transfer as a real one.
pub async fn fund(state: &AppState, user: ObjectId, label: &str) -> anyhow::Result<()> {
    let id = derived_id(&format!("seed-deposit:{label}"));
    let clearing = accounts::provider_clearing_for(PaymentMethod::MtnMomo.as_str(), id);
    accounts::ensure(&state.db, &clearing, None, &state.config.currency).await?;
    let legs = vec![
        Leg {
            account: clearing,
            amount: -DEMO_OPENING_BALANCE,
        },
        Leg {
            account: accounts::wallet(user),
            amount: DEMO_OPENING_BALANCE,
        },
    ];
    let mut tx = Transaction::new(
        id,
        TransactionType::Deposit,
        user,
        DEMO_OPENING_BALANCE,
        &state.config.currency,
        legs,
        "Demo opening deposit".into(),
    );
    tx.reference = format!("seed-{}", id.to_hex());
    tx.payment_method = Some(PaymentMethod::MtnMomo);
    insert_or_get(&state.db, &tx).await?;
    state
        .ledger
        .transfers()
        .drive(&tx.transfer_spec(), TransactionType::Deposit.as_str())
        .await?;
    Ok(())
}
