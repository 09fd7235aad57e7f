use crate::helpers::{unique_phone, unique_username, Session, TestApp};
use serde_json::json;

struct Market {
    app: TestApp,
    admin: Session,
    seller: Session,
}

async fn market(overrides: &[(&str, &str)]) -> Market {
    let admin_phone = unique_phone();
    let mut all = vec![("ADMIN_PHONE_NUMBERS", admin_phone.as_str())];
    all.extend_from_slice(overrides);
    let app = TestApp::spawn_with(&all).await;
    app.register(&admin_phone, &unique_username()).await;
    let admin = app.sign_in(&admin_phone).await;
    let seller = app.signed_in_user("SELLER").await;
    Market { app, admin, seller }
}

impl Market {
    /// A code bought by `n` buyers (each starting with `funds`), then resolved by the admin.
    async fn sold_and_resolved(
        &self,
        price: i64,
        n: usize,
        funds: i64,
        outcome: &str,
    ) -> Vec<Session> {
        let code = self.app.create_code(&self.seller, price, n as i64).await;
        let mut buyers = vec![];
        for _ in 0..n {
            let b = self.app.signed_in_user("BUYER").await;
            self.app.funded(&b, funds).await;
            assert_eq!(self.app.purchase(&b, &code).await.status.as_u16(), 200);
            buyers.push(b);
        }
        // Results are known after kick-off: the games have started.
        self.app
            .expire_code(&code, std::time::Duration::from_secs(60))
            .await;
        let r = self
            .app
            .post(
                &format!("/admin/codes/{code}/resolve"),
                Some(&self.admin.access),
                &json!({ "outcome": outcome }),
            )
            .await;
        assert!(r.status.is_success(), "{}", r.body);
        // Resolving again (another admin, a retry) settles nothing twice.
        self.app
            .post(
                &format!("/admin/codes/{code}/resolve"),
                Some(&self.admin.access),
                &json!({ "outcome": outcome }),
            )
            .await;
        buyers
    }

    /// The platform's fees: the sum over the fee account's shards.
    async fn fees(&self) -> i64 {
        let mut total = 0;
        for n in 0..oddxer_backend::ledger::accounts::PLATFORM_SHARDS {
            total += self
                .app
                .state
                .ledger
                .entries
                .head(&format!("fees:{n}"))
                .await
                .expect("fees head")
                .balance;
        }
        total
    }
}

#[tokio::test]
async fn a_won_code_pays_the_seller_the_price_minus_the_fee_and_the_fee_to_the_platform() {
    let m = market(&[]).await;
    let buyers = m.sold_and_resolved(10_000, 2, 12_000, "WON").await;
    assert_eq!(m.app.balance(&m.seller).await, 2 * 9_000);
    assert_eq!(m.fees().await, 2 * 1_000);
    for b in &buyers {
        assert_eq!(m.app.balance(b).await, 2_000);
    }
    let sales = m.app.get("/seller/sales", Some(&m.seller.access)).await;
    assert_eq!(sales.data()["totalPaidOut"]["amount"], 18_000);
    assert_eq!(sales.data()["totalHeld"]["amount"], 0);
    m.app.assert_reconciled().await;
}

#[tokio::test]
async fn a_lost_code_also_pays_the_seller_under_the_standard_policy() {
    let m = market(&[]).await;
    m.sold_and_resolved(5_000, 1, 5_000, "LOST").await;
    assert_eq!(m.app.balance(&m.seller).await, 4_500);
    assert_eq!(m.fees().await, 500);
    m.app.assert_reconciled().await;
}

#[tokio::test]
async fn a_lost_code_is_refunded_under_refund_on_loss_but_a_won_one_is_paid() {
    let m = market(&[("SETTLEMENT_POLICY", "REFUND_ON_LOSS")]).await;
    let lost = m.sold_and_resolved(5_000, 1, 5_000, "LOST").await;
    assert_eq!(m.app.balance(&lost[0]).await, 5_000);
    assert_eq!(m.app.balance(&m.seller).await, 0);
    m.sold_and_resolved(5_000, 1, 5_000, "WON").await;
    assert_eq!(m.app.balance(&m.seller).await, 4_500);
    m.app.assert_reconciled().await;
}

#[tokio::test]
async fn a_void_code_refunds_every_buyer_in_full() {
    let m = market(&[]).await;
    let buyers = m.sold_and_resolved(7_000, 3, 7_000, "VOID").await;
    for b in &buyers {
        assert_eq!(m.app.balance(b).await, 7_000);
        let history = m.app.get("/wallet/transactions", Some(&b.access)).await;
        assert_eq!(history.data()["items"][0]["type"], "REFUND");
    }
    assert_eq!(m.app.balance(&m.seller).await, 0);
    assert_eq!(m.fees().await, 0);
    m.app.assert_reconciled().await;
}

#[tokio::test]
async fn fees_on_odd_amounts_round_down_and_the_total_is_conserved() {
    let m = market(&[("PLATFORM_FEE_BPS", "333"), ("CODE_PRICE_MIN", "1")]).await;
    m.sold_and_resolved(1_001, 1, 1_001, "WON").await;
    // 1001 * 3.33% = 33.33 -> fee 33, seller 968.
    assert_eq!(m.fees().await, 33);
    assert_eq!(m.app.balance(&m.seller).await, 968);
    m.app.assert_reconciled().await;
}

#[tokio::test]
async fn the_sellers_payout_and_the_buyers_refund_name_the_code_in_the_wallet() {
    let m = market(&[]).await;
    let buyer = m.sold_and_resolved(6_000, 1, 6_000, "WON").await.remove(0);
    let history = m
        .app
        .get("/wallet/transactions", Some(&m.seller.access))
        .await;
    let payout = &history.data()["items"][0];
    assert_eq!(payout["type"], "SALE_PAYOUT", "{payout}");
    let description = payout["description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with("Sale payout — Weekend acca ") && description.ends_with(" (Won)"),
        "{description}"
    );
    // The buyer's purchase entry names the same code.
    let title = description
        .trim_start_matches("Sale payout — ")
        .trim_end_matches(" (Won)");
    let bought = m.app.get("/wallet/transactions", Some(&buyer.access)).await;
    assert_eq!(
        bought.data()["items"][0]["description"],
        format!("Purchase: {title}")
    );

    let voided = m.sold_and_resolved(2_000, 1, 2_000, "VOID").await.remove(0);
    let refunds = m
        .app
        .get("/wallet/transactions", Some(&voided.access))
        .await;
    let refund = refunds.data()["items"][0]["description"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        refund.starts_with("Refund — Weekend acca ") && refund.ends_with(" (code voided)"),
        "{refund}"
    );
}
