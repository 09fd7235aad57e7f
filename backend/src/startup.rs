//! Building the application: database, indexes, state, router, listener, workers.

use crate::auth::jwt::JwtKeys;
use crate::auth::sms::{AfricasTalkingSms, OutboxSms, SmsSender};
use crate::config::{Config, PaymentProviderKind, SmsProviderKind};
use crate::db::Db;
use crate::error::error_response;
use crate::ledger::Ledger;
use crate::openapi::ApiDoc;
use crate::payments::sandbox::SandboxProvider;
use crate::payments::PaymentProvider;
use crate::ratelimit::{Bucket, RateLimiter};
use crate::realtime::Hub;
use crate::state::AppState;
use anyhow::Context;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};
use axum::routing::get;
use axum::Router;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
/// JSON bodies are small; anything bigger is refused with 413 before it is parsed.
const MAX_BODY_BYTES: usize = 64 * 1024;

pub struct Application {
    listener: tokio::net::TcpListener,
    router: Router,
    port: u16,
    pub state: AppState,
}

impl Application {
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let db = Db::connect(&config.mongodb_uri, &config.db_name)
            .await
            .context("invalid MONGODB_URI")?;
        wait_for_database(&db).await?;
        db.ensure_indexes().await.context("creating indexes")?;
        let state = build_state(config, db).await?;
        if state.config.seed_demo {
            crate::seed::seed_demo(&state)
                .await
                .context("seeding demo data")?;
        }
        let listener =
            tokio::net::TcpListener::bind((state.config.host.as_str(), state.config.port))
                .await
                .with_context(|| format!("binding {}:{}", state.config.host, state.config.port))?;
        let port = listener.local_addr()?.port();
        if let Some(path) = &state.config.port_file {
            std::fs::write(path, port.to_string())
                .with_context(|| format!("writing PORT_FILE {path}"))?;
        }
        tracing::info!("listening on {}:{port}", state.config.host);
        let router = router(state.clone());
        Ok(Application {
            listener,
            router,
            port,
            state,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let recovery = crate::recovery::spawn(self.state.clone());
        let marketplace = crate::resolution::worker::spawn(self.state.clone());
        let forgetting = spawn_user_cache_invalidation(&self.state);
        let fanout = crate::sellers::service::spawn_follower_fanout(&self.state);
        let limits = self.state.limits.clone();
        let housekeeping = tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(60));
            loop {
                tick.tick().await;
                limits.housekeeping();
            }
        });
        let result = axum::serve(
            self.listener,
            self.router
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown_signal())
        .await;
        recovery.abort();
        marketplace.abort();
        fanout.abort();
        housekeeping.abort();
        forgetting.abort();
        result.context("server error")
    }
}

async fn wait_for_database(db: &Db) -> anyhow::Result<()> {
    let mut last = None;
    for _ in 0..20 {
        match db.ping().await {
            Ok(()) => return Ok(()),
            Err(e) => last = Some(e),
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(anyhow::anyhow!(
        "the database does not answer: {}",
        last.map(|e| e.to_string()).unwrap_or_default()
    ))
}

pub async fn build_state(config: Config, db: Db) -> anyhow::Result<AppState> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .context("http client")?;
    let sms: Arc<dyn SmsSender> = match config.sms_provider {
        SmsProviderKind::Outbox => Arc::new(OutboxSms { db: db.clone() }),
        SmsProviderKind::AfricasTalking => Arc::new(AfricasTalkingSms {
            http,
            url: config.sms_api_url.clone(),
            username: config.sms_username.clone(),
            api_key: config
                .sms_api_key
                .clone()
                .context("SMS_API_KEY is required for SMS_PROVIDER=africastalking")?,
            sender_id: config.sms_sender_id.clone(),
        }),
    };
    let payments: Arc<dyn PaymentProvider> = match config.payment_provider {
        PaymentProviderKind::Sandbox => Arc::new(SandboxProvider { db: db.clone() }),
        PaymentProviderKind::MobileMoney => Arc::new(
            crate::payments::mobile_money::MobileMoney::from_config(&config)
                .context("payment http client")?,
        ),
    };
    let limits = vec![
        (Bucket::AuthIp, config.rate_auth_ip),
        (Bucket::AuthPhone, config.rate_auth_phone),
        (Bucket::MoneyUser, config.rate_money_user),
    ];
    let limits = match &config.redis_url {
        Some(url) => RateLimiter::redis(url, &config.db_name, limits)
            .await
            .context("connecting to REDIS_URL")?,
        None => RateLimiter::local(limits),
    };
    let leaderboard = crate::leaderboard::cache::LeaderboardCache::new(config.market_cache_ttl);
    Ok(AppState {
        limits,
        market: crate::codes::cache::MarketCache::new(config.market_cache_ttl),
        seller_records: Arc::new(crate::leaderboard::cache::RecordFloors {
            db: db.clone(),
            cache: leaderboard.clone(),
            min_finalized: config.leaderboard_min_finalized,
        }),
        leaderboard,
        pending: crate::purchases::pending::PendingPurchases::default(),
        users: crate::auth::cache::UserCache::new(config.user_cache_ttl),
        sessions: crate::auth::cache::RevokedSessions::new(config.jwt_access_expiry),
        findings: Default::default(),
        jwt: JwtKeys::new(&config.jwt_secret, config.jwt_access_expiry),
        ledger: Ledger::new(db.clone()),
        hub: match &config.redis_url {
            Some(url) => Hub::with_redis(url)
                .await
                .context("subscribing to REDIS_URL")?,
            None => Hub::new(),
        },
        config: Arc::new(config),
        db,
        sms,
        payments,
    })
}

/// A deactivation on any instance (through the hub, and Redis between instances) drops the user
/// from this instance's user cache at once, rather than after its `USER_CACHE_TTL`; an ended
/// session's access tokens are refused from then on.
fn spawn_user_cache_invalidation(state: &AppState) -> tokio::task::JoinHandle<()> {
    use crate::realtime::HubEvent;
    use tokio::sync::broadcast::error::RecvError;
    let (mut events, users, sessions) = (
        state.hub.subscribe(),
        state.users.clone(),
        state.sessions.clone(),
    );
    tokio::spawn(async move {
        loop {
            match events.recv().await {
                Ok(HubEvent::UserDeactivated { user }) => {
                    if let Ok(id) = mongodb::bson::oid::ObjectId::parse_str(&user) {
                        users.forget(id);
                    }
                }
                Ok(HubEvent::SessionRevoked { session, .. }) => sessions.revoke(&session),
                Ok(_) => {}
                // Missed messages: forget everyone rather than miss a deactivation.
                Err(RecvError::Lagged(_)) => users.clear(),
                Err(RecvError::Closed) => return,
            }
        }
    })
}

/// Every route of the API, with its OpenAPI description, relative to `/api/v1`.
pub fn api_routes(dev_routes: bool) -> OpenApiRouter<AppState> {
    let mut api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(crate::health::router())
        .merge(crate::auth::routes::router())
        .merge(crate::wallet::routes::router())
        .merge(crate::wallet::callbacks::router())
        .merge(crate::realtime::router())
        .merge(crate::admin::router())
        .merge(crate::purchases::routes::router())
        .merge(crate::codes::routes::router())
        .merge(crate::resolution::routes::router())
        .merge(crate::leaderboard::routes::router())
        .merge(crate::sellers::routes::router());
    if dev_routes {
        api = api
            .merge(crate::dev::routes::router())
            .merge(crate::resolution::sandbox::dev_router());
    }
    api
}

pub fn openapi_document(dev_routes: bool) -> utoipa::openapi::OpenApi {
    let (_, mut doc) = api_routes(dev_routes).split_for_parts();
    doc.paths.paths.insert(
        "/openapi.json".into(),
        plain_get("This document", "OpenAPI 3 document"),
    );
    doc.paths.paths.insert(
        "/metrics".into(),
        plain_get(
            "Prometheus metrics",
            "Metrics in the Prometheus text format",
        ),
    );
    doc.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    doc
}

/// Routes served outside the annotated routers, documented by hand.
fn plain_get(summary: &str, response: &str) -> utoipa::openapi::PathItem {
    use utoipa::openapi::path::{HttpMethod, OperationBuilder};
    use utoipa::openapi::ResponseBuilder;
    let op = OperationBuilder::new()
        .tag("ops")
        .summary(Some(summary))
        .response("200", ResponseBuilder::new().description(response).build())
        .build();
    utoipa::openapi::PathItem::new(HttpMethod::Get, op)
}

pub fn router(state: AppState) -> Router {
    let dev_routes = state.config.dev_routes_enabled();
    let (api, _) = api_routes(dev_routes).split_for_parts();
    let doc = Arc::new(crate::openapi::wire_document(
        openapi_document(dev_routes),
        &state.config,
    ));
    let api = api
        .route("/openapi.json", get(move || async move { axum::Json(doc.as_ref().clone()) }))
        .route("/metrics", get(crate::telemetry::render_metrics))
        .route_layer(axum::middleware::from_fn_with_state(state.clone(), crate::telemetry::track))
        // Outside `track`: its round-trip count is task-local and must begin inside the task.
        .route_layer(axum::middleware::from_fn(crate::http::finish_writes));
    // The configured origins, plus the backend's own (`API_URL`), whose web app calls the API.
    let origins: Vec<HeaderValue> = crate::web::allowed_origins(&state.config)
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static("idempotency-key"),
            HeaderName::from_static("x-session-transport"),
        ])
        .expose_headers([REQUEST_ID, header::RETRY_AFTER]);
    let web = crate::web::WebApp::locate(state.config.web_dist.as_deref()).map(Arc::new);
    Router::new()
        .nest("/api/v1", api)
        // Outside `/api`, GET and HEAD are the web app's (DESIGN.md section 7); everything else,
        // and any unknown API path, is the JSON 404 of the API.
        .fallback(move |req: axum::extract::Request| {
            let web = web.clone();
            async move {
                match web {
                    Some(web) if crate::web::is_web_request(req.method(), req.uri().path()) => web.serve(req).await,
                    _ => error_response(StatusCode::NOT_FOUND, "NOT_FOUND", "No such route".into(), None),
                }
            }
        })
        .method_not_allowed_fallback(|| async {
            error_response(StatusCode::METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED", "Method not allowed on this route".into(), None)
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(cors)
        .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &axum::http::Request<_>| {
            let id = req.headers().get(REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("-");
            // The path only: query strings may carry phone numbers.
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        // If the handler cannot be installed, never stop on it (rather than stopping at once).
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = terminate => {} }
}
