//! The webhook's guard: an update is accepted only with the right secret-token header.
//!
//! Telegram sends the secret given to `setWebhook` in `X-Telegram-Bot-Api-Secret-Token` with
//! every update. The check runs as a layer in front of teloxide's route, before the body is even
//! read, and compares in constant time (teloxide's own check does neither): a missing header is
//! answered 401, a wrong one 403, and the update never reaches the dispatcher.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The header Telegram puts the secret in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// Puts the secret check in front of every route of `router`.
pub fn guard(router: Router, secret: &str) -> Router {
    let secret: Arc<[u8]> = Arc::from(secret.as_bytes());
    router.layer(middleware::from_fn_with_state(secret, check))
}

async fn check(State(secret): State<Arc<[u8]>>, req: Request, next: Next) -> Response {
    let Some(given) = req.headers().get(SECRET_HEADER) else {
        log_refused("missing");
        return StatusCode::UNAUTHORIZED.into_response();
    };
    // Only the secret's length can leak through timing, and the length is no secret.
    if !bool::from(given.as_bytes().ct_eq(&secret)) {
        log_refused("wrong");
        return StatusCode::FORBIDDEN.into_response();
    }
    next.run(req).await
}

fn log_refused(why: &'static str) {
    tracing::warn!(why, "webhook update refused: bad secret token");
}
