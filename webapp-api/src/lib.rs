//! The HTTP side of tapwave: the Mini App's API (`/api/v1/*`), its files, health and metrics.
//!
//! Handlers stay thin — parse, call one [`game::Game`] method, answer — and every failure is an
//! [`error::ApiError`] rendered as API.md's JSON error body. Layers, from the outside in: panic
//! catcher (a panic is a bug, but still answers JSON), request id + access log + metrics, and, on
//! `/api`, the per-address rate limit; the per-player limit runs in the [`extract::Player`]
//! extractor once the player is known.

pub mod error;
pub mod extract;
pub mod observe;
pub mod routes;

use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use error::ApiError;
use game::{ChatMembers, Game, Rate};
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::Arc;

/// The largest request body accepted; tap batches and logins are a few dozen bytes.
pub const BODY_LIMIT: usize = 16 * 1024;

/// Options of the HTTP layer.
#[derive(Clone, Debug, Default)]
pub struct ApiOptions {
    /// Proxies in front (`TRUSTED_PROXIES`): how far from the right of `X-Forwarded-For` to read.
    pub trusted_proxies: usize,
    /// Whether `POST /api/v1/dev/login` is available (no `BOT_TOKEN` configured).
    pub dev_login: bool,
    /// The Mini App's public URL (`WEBAPP_URL`), for the TON Connect manifest.
    pub webapp_url: String,
    /// The game's name in the TON Connect manifest.
    pub app_name: String,
    /// Domains a `ton_proof` may name (`claims.proof_domains`, else the host of `WEBAPP_URL`).
    pub proof_domains: Vec<String>,
    /// The bot's username (`BOT_USERNAME`), for `t.me` invite links.
    pub bot_username: Option<String>,
}

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The game services.
    pub game: Game,
    /// Options of this layer.
    pub options: Arc<ApiOptions>,
    /// Renders `/metrics`.
    pub metrics: PrometheusHandle,
    /// The Mini App's files.
    pub assets: Arc<routes::assets::Assets>,
    /// Checks channel tasks (the bot's token on the Bot API); `None` without a bot.
    pub chat_members: Option<Arc<dyn ChatMembers>>,
}

impl AppState {
    /// State for a game with the embedded Mini App and the process's metrics recorder.
    pub fn new(game: Game, options: ApiOptions) -> Self {
        AppState {
            game,
            options: Arc::new(options),
            metrics: observe::prometheus(),
            assets: Arc::new(routes::assets::Assets::embedded()),
            chat_members: None,
        }
    }
}

async fn ip_limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    if let Some(ip) = extract::client_ip(&parts, state.options.trusted_proxies) {
        let l = &state.game.config().limits;
        let rate = Rate {
            per_second: l.ip_per_second,
            burst: l.ip_burst,
        };
        if let Err(e) = extract::limit(&state, &format!("ip:{ip}"), rate).await {
            return e.into_response();
        }
    }
    next.run(Request::from_parts(parts, body)).await
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("handler panicked");
    ApiError::Internal("panic".into()).into_response()
}

/// The whole HTTP router.
pub fn router(state: AppState) -> Router {
    use routes::*;
    let api = Router::new()
        .route("/me", get(players::me))
        .route("/taps", post(players::taps))
        .route("/leaderboard", get(players::leaderboard))
        .route("/dev/login", post(dev::login))
        .route("/wallet", get(wallet::get).put(wallet::put))
        .route("/wallet/proof/payload", post(wallet::payload))
        .route("/wallet/proof", post(wallet::prove))
        .route("/claims", get(claims::list).post(claims::create))
        .route("/claims/limits", get(claims::limits))
        .route("/upgrades", get(upgrades::list))
        .route("/upgrades/{id}/buy", post(upgrades::buy))
        .route("/boosts", get(boosts::list))
        .route("/boosts/{id}/buy", post(boosts::buy))
        .route("/daily", post(daily::claim))
        .route("/referrals", get(referrals::list))
        .route("/referrals/collect", post(referrals::collect))
        .route(
            "/combo",
            get(daily_loops::combo).post(daily_loops::claim_combo),
        )
        .route(
            "/cipher",
            get(daily_loops::cipher).post(daily_loops::solve_cipher),
        )
        .route("/tasks", get(tasks::list))
        .route("/tasks/{id}/check", post(tasks::check))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(state.clone(), ip_limit));
    Router::new()
        .nest("/api/v1", api)
        .route("/", get(assets::index))
        .route("/index.html", get(assets::index))
        .route("/assets/{version}/{file}", get(assets::file))
        .route("/tonconnect-manifest.json", get(wallet::manifest))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(observe::observe))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            panic_response,
        ))
        .with_state(state)
}
