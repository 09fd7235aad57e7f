//! One bad id, one answer: every route with an id in its path answers a malformed id with
//! 400 `INVALID_ID` naming the path parameter.

use crate::helpers::{unique_username, TestApp};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn every_route_with_an_id_in_its_path_answers_a_malformed_id_with_400_invalid_id() {
    let admin_phone = crate::helpers::unique_phone();
    let app = TestApp::spawn_with(&[("ADMIN_PHONE_NUMBERS", &admin_phone)]).await;
    app.register(&admin_phone, &unique_username()).await;
    // An admin passes every role check, so the id is what each route judges.
    let admin = app.sign_in(&admin_phone).await;
    let doc: serde_json::Value = app
        .http
        .get(app.url("/openapi.json"))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let mut checked = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(param) = ["id", "sellerId"]
            .into_iter()
            .find(|p| path.contains(&format!("{{{p}}}")))
        else {
            continue;
        };
        for method in item
            .as_object()
            .expect("item")
            .keys()
            .filter(|m| ["get", "post", "patch", "put", "delete"].contains(&m.as_str()))
        {
            for bad in ["abc", "0123456789abcdef0123456", "zzzzzzzzzzzzzzzzzzzzzzzz"] {
                let concrete = path.replace(&format!("{{{param}}}"), bad);
                let r = app
                    .http
                    .request(
                        Method::from_bytes(method.to_uppercase().as_bytes()).expect("method"),
                        app.url(&concrete),
                    )
                    .bearer_auth(&admin.access)
                    .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                    .json(&json!({}))
                    .send()
                    .await
                    .expect("send");
                let status = r.status().as_u16();
                let body: serde_json::Value = r.json().await.unwrap_or_default();
                assert_eq!(
                    (status, body["error"]["code"].as_str()),
                    (400, Some("INVALID_ID")),
                    "{method} {concrete}: {body}"
                );
                assert_eq!(
                    body["error"]["details"]["parameter"], param,
                    "{method} {concrete}: {body}"
                );
            }
            checked.push(format!("{method} {path}"));
        }
    }
    for route in [
        "get /codes/{id}",
        "post /codes/{id}/purchase",
        "patch /admin/users/{id}",
        "post /codes/{id}/votes",
        "get /leaderboard/{sellerId}",
    ] {
        assert!(
            checked.iter().any(|c| c == route),
            "{route} not checked; checked {checked:?}"
        );
    }
}
