//! The demo data of `SEED_DEMO=true`: a realistic marketplace, built through the real flows, once.

use crate::helpers::TestApp;

#[tokio::test]
async fn the_demo_seed_builds_a_marketplace_with_history_and_running_it_again_changes_nothing() {
    let app =
        TestApp::spawn_with(&[("SEED_DEMO", "true"), ("LEADERBOARD_MIN_FINALIZED", "3")]).await;
    let codes = app.get("/codes?limit=100", None).await;
    let items = codes.data()["items"].as_array().expect("items").clone();
    assert!(items.len() >= 25, "codes on sale: {}", items.len());
    let sports: std::collections::HashSet<&str> =
        items.iter().filter_map(|c| c["sport"].as_str()).collect();
    let bookmakers: std::collections::HashSet<&str> = items
        .iter()
        .filter_map(|c| c["bookmaker"].as_str())
        .collect();
    assert!(
        sports.len() >= 3 && bookmakers.len() >= 3,
        "{sports:?} {bookmakers:?}"
    );

    let board = app.get("/leaderboard", None).await;
    let rows = board.data()["items"].as_array().expect("rows").clone();
    assert!(rows.len() >= 5, "{}", board.body);
    assert!(
        rows.iter().filter(|r| r["rank"].is_number()).count() >= 4,
        "ranked sellers: {}",
        board.body
    );
    assert!(rows.iter().any(|r| r["totalSales"].as_i64() > Some(0)));
    let awaiting = app.get("/codes?status=AWAITING_RESULT", None).await;
    assert!(awaiting.data()["items"].as_array().expect("items").len() >= 5);

    let before = counts(&app).await;
    assert_eq!(
        before
            .iter()
            .find(|(c, _)| *c == "code_resolutions")
            .map(|(_, n)| *n),
        Some(36)
    );
    oddxer_backend::seed::seed_demo(&app.state)
        .await
        .expect("seed again");
    assert_eq!(
        counts(&app).await,
        before,
        "a second run writes nothing new"
    );
    app.assert_reconciled().await;
}

async fn counts(app: &TestApp) -> Vec<(&'static str, u64)> {
    let mut v = vec![];
    for c in [
        "users",
        "bettingcodes",
        "purchases",
        "votes",
        "code_resolutions",
        "leaderboard_contributions",
        "ledger_entries",
        "transactions",
    ] {
        v.push((c, app.count(c).await));
    }
    v
}
