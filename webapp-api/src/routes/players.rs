//! `/api/v1/me`, `/api/v1/taps` and `/api/v1/leaderboard`: the player, the tap loop and the board.

use crate::error::ApiError;
use crate::extract::{JsonBody, Player};
use crate::AppState;
use axum::extract::{RawQuery, State};
use axum::Json;
use game::{LeaderboardView, PlayerView, TapBatch, TapResult};
use serde::Deserialize;
use serde_json::Value;

/// `GET /api/v1/me`.
pub async fn me(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<PlayerView>, ApiError> {
    Ok(Json(state.game.me(player.id).await?))
}

/// The body of a tap batch, read loosely so that each bad field gets its own error code.
#[derive(Deserialize)]
pub struct TapBody {
    count: Option<Value>,
    seq: Option<Value>,
}

/// `POST /api/v1/taps`.
pub async fn taps(
    State(state): State<AppState>,
    player: Player,
    JsonBody(body): JsonBody<TapBody>,
) -> Result<Json<TapResult>, ApiError> {
    let count = body.count.as_ref().and_then(Value::as_i64);
    let seq = body.seq.as_ref().and_then(Value::as_i64);
    let batch = TapBatch::parse(count, seq, state.game.config().taps.max_batch)
        .map_err(game::GameError::from)?;
    Ok(Json(state.game.tap(player.id, batch).await?))
}

/// `GET /api/v1/leaderboard?limit=n&board=global|week`, n in 1..=100 (default 100); `week` orders
/// by coins earned this ISO week (UTC).
pub async fn leaderboard(
    State(state): State<AppState>,
    player: Player,
    RawQuery(query): RawQuery,
) -> Result<Json<LeaderboardView>, ApiError> {
    let mut limit = 100;
    let mut week = false;
    for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key == "limit" {
            limit = value
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .ok_or_else(|| {
                    ApiError::Invalid(
                        "invalid_limit",
                        "limit must be a whole number from 1 to 100.".into(),
                    )
                })?;
        } else if key == "board" {
            week = match value.as_ref() {
                "global" => false,
                "week" => true,
                _ => {
                    return Err(ApiError::Invalid(
                        "invalid_board",
                        "board must be global or week.".into(),
                    ))
                }
            };
        }
    }
    if week {
        return Ok(Json(state.game.week_leaderboard(player.id, limit).await?));
    }
    Ok(Json(state.game.leaderboard(player.id, limit).await?))
}
