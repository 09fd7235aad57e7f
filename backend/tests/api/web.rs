//! The web app served at `/` (DESIGN.md section 7): the built UI beside an unchanged API.

use crate::helpers::TestApp;
use serde_json::json;
use std::path::PathBuf;

const BUNDLE: &str = "bundle-0123456789abcdef";
const INDEX: &str = "<!doctype html><html><head><link rel=\"manifest\" href=\"manifest.webmanifest\"></head><body><div id=\"main\"></div><script type=\"module\" src=\"bootstrap.js\"></script></body></html>";
/// The first bytes of every wasm module: `\0asm` and version 1.
const WASM: &[u8] = b"\0asm\x01\0\0\0";

/// A built UI as `scripts/build-ui.sh` lays it out, in a fresh folder.
fn dist() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("oddxer-web-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join(BUNDLE)).expect("mkdir");
    std::fs::write(dir.join("index.html"), INDEX).expect("write");
    std::fs::write(
        dir.join("bootstrap.js"),
        format!("import init from \"./{BUNDLE}/oddxer_ui.js\";\ninit();\n"),
    )
    .expect("write");
    std::fs::write(dir.join("sw.js"), "const CACHE = \"oddxer-shell-1\";\n").expect("write");
    std::fs::write(
        dir.join("manifest.webmanifest"),
        json!({ "name": "Oddxer", "start_url": "/", "display": "standalone" }).to_string(),
    )
    .expect("write");
    std::fs::write(
        dir.join(BUNDLE).join("oddxer_ui.js"),
        "export default async function init() {}\n",
    )
    .expect("write");
    std::fs::write(dir.join(BUNDLE).join("oddxer_ui_bg.wasm"), WASM).expect("write");
    dir
}

async fn web_app() -> TestApp {
    let dir = dist();
    TestApp::spawn_with(&[("WEB_DIST", dir.to_str().expect("utf-8 path"))]).await
}

async fn get(app: &TestApp, path: &str) -> reqwest::Response {
    app.http.get(app.site_url(path)).send().await.expect("send")
}

fn header<'a>(r: &'a reqwest::Response, name: &str) -> &'a str {
    r.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

#[tokio::test]
async fn the_app_opens_at_the_root_with_a_policy_that_admits_wasm_and_the_socket_only() {
    let app = web_app().await;
    let r = get(&app, "/").await;
    assert_eq!(r.status(), 200);
    assert!(
        header(&r, "content-type").starts_with("text/html"),
        "{:?}",
        r.headers()
    );
    let csp = header(&r, "content-security-policy").to_owned();
    assert!(
        csp.contains("script-src 'self' 'wasm-unsafe-eval'"),
        "{csp}"
    );
    let socket = format!("ws://127.0.0.1:{}", app.port);
    assert!(
        csp.contains(&format!(
            "connect-src 'self' {socket} wss://127.0.0.1:{}",
            app.port
        )),
        "{csp}"
    );
    assert!(
        csp.contains("default-src 'self'")
            && csp.contains("object-src 'none'")
            && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert!(
        !csp.contains("'unsafe-eval'") && !csp.contains("script-src 'self' 'unsafe-inline'"),
        "{csp}"
    );
    assert_eq!(header(&r, "cache-control"), "no-cache");
    assert_eq!(header(&r, "x-content-type-options"), "nosniff");
    assert!(r.text().await.expect("body").contains("<div id=\"main\">"));
}

#[tokio::test]
async fn a_deep_link_gets_the_app_and_a_missing_file_does_not() {
    let app = web_app().await;
    for path in [
        "/codes/6650a1b2c3d4e5f6a7b8c9d0",
        "/wallet",
        "/sellers/6650a1b2c3d4e5f6a7b8c9d0/",
    ] {
        let r = get(&app, path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            header(&r, "content-type").starts_with("text/html"),
            "{path}"
        );
        assert_eq!(header(&r, "cache-control"), "no-cache", "{path}");
        assert_eq!(r.text().await.expect("body"), INDEX, "{path}");
    }
    // A script that is not there is a 404, never the page: a browser would run HTML as JS.
    let r = get(&app, &format!("/{BUNDLE}/oddxer_ui-old.js")).await;
    assert_eq!(r.status(), 404);
    assert!(!header(&r, "content-type").starts_with("text/html"));
}

#[tokio::test]
async fn the_wasm_is_served_as_wasm_and_cached_for_good_while_the_shell_is_revalidated() {
    let app = web_app().await;
    let wasm = get(&app, &format!("/{BUNDLE}/oddxer_ui_bg.wasm")).await;
    assert_eq!(wasm.status(), 200);
    assert_eq!(header(&wasm, "content-type"), "application/wasm");
    assert_eq!(
        header(&wasm, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(&wasm.bytes().await.expect("body")[..], WASM);
    let glue = get(&app, &format!("/{BUNDLE}/oddxer_ui.js")).await;
    assert!(
        header(&glue, "content-type").contains("javascript"),
        "{:?}",
        glue.headers()
    );
    assert_eq!(
        header(&glue, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    for (path, kind) in [
        ("/sw.js", "javascript"),
        ("/bootstrap.js", "javascript"),
        ("/manifest.webmanifest", "manifest+json"),
        ("/index.html", "text/html"),
    ] {
        let r = get(&app, path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(
            header(&r, "content-type").contains(kind),
            "{path}: {:?}",
            r.headers()
        );
        assert_eq!(header(&r, "cache-control"), "no-cache", "{path}");
    }
    // Revalidation costs no body: the file has not changed since.
    let first = get(&app, "/sw.js").await;
    let modified = header(&first, "last-modified").to_owned();
    assert!(!modified.is_empty());
    let again = app
        .http
        .get(app.site_url("/sw.js"))
        .header("if-modified-since", modified)
        .send()
        .await
        .expect("send");
    assert_eq!(again.status(), 304);
}

#[tokio::test]
async fn the_api_is_unchanged_beside_the_app() {
    let app = web_app().await;
    for path in ["/api/v1/no-such-route", "/api/nothing", "/api"] {
        let r = app.http.get(app.site_url(path)).send().await.expect("send");
        assert_eq!(r.status(), 404, "{path}");
        let body: serde_json::Value = r.json().await.expect("a JSON envelope");
        assert_eq!(body["success"], json!(false), "{path}");
        assert_eq!(body["error"]["code"], "NOT_FOUND", "{path}");
    }
    // Writes outside the API are no page loads: the API's JSON 404.
    let r = app
        .http
        .post(app.site_url("/codes"))
        .json(&json!({}))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["error"]["code"],
        "NOT_FOUND"
    );
    let health = app.get("/health", None).await;
    assert_eq!(health.status, 200, "{}", health.body);
    // API answers keep the API's strict policy.
    let r = app.http.get(app.url("/health")).send().await.expect("send");
    assert_eq!(
        header(&r, "content-security-policy"),
        "default-src 'none'; frame-ancestors 'none'"
    );
}

#[tokio::test]
async fn without_a_built_ui_the_api_still_runs_and_the_root_says_not_found() {
    let missing = std::env::temp_dir().join(format!(
        "oddxer-web-missing-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let app = TestApp::spawn_with(&[("WEB_DIST", missing.to_str().expect("utf-8"))]).await;
    let r = get(&app, "/").await;
    assert_eq!(r.status(), 404);
    assert_eq!(
        r.json::<serde_json::Value>().await.expect("json")["success"],
        json!(false)
    );
    assert_eq!(app.get("/health", None).await.status, 200);
}

#[tokio::test]
async fn the_served_origin_passes_cors() {
    let dir = dist();
    let app = TestApp::spawn_with(&[
        ("WEB_DIST", dir.to_str().expect("utf-8")),
        ("API_URL", "https://oddxer.example"),
    ])
    .await;
    let r = app
        .http
        .get(app.url("/health"))
        .header("Origin", "https://oddxer.example")
        .send()
        .await
        .expect("send");
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        "https://oddxer.example"
    );
    // The desktop shells' origins are still admitted; others still are not.
    let r = app
        .http
        .get(app.url("/health"))
        .header("Origin", "tauri://localhost")
        .send()
        .await
        .expect("send");
    assert_eq!(
        header(&r, "access-control-allow-origin"),
        "tauri://localhost"
    );
    let r = app
        .http
        .get(app.url("/health"))
        .header("Origin", "https://evil.example")
        .send()
        .await
        .expect("send");
    assert!(r.headers().get("access-control-allow-origin").is_none());
}
