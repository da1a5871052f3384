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
    /// Milliseconds between consecutive taps as the Mini App measured them (optional).
    gaps: Option<Value>,
}

/// `POST /api/v1/taps`.
pub async fn taps(
    State(state): State<AppState>,
    player: Player,
    JsonBody(body): JsonBody<TapBody>,
) -> Result<Json<TapResult>, ApiError> {
    let count = body.count.as_ref().and_then(Value::as_i64);
    let seq = body.seq.as_ref().and_then(Value::as_i64);
    let mut batch = TapBatch::parse(count, seq, state.game.config().taps.max_batch)
        .map_err(game::GameError::from)?;
    match &body.gaps {
        None => {}
        Some(Value::Array(items)) => {
            let gaps: Vec<Option<f64>> = items.iter().map(Value::as_f64).collect();
            batch = batch.with_gaps(&gaps).map_err(game::GameError::from)?;
        }
        Some(_) => return Err(game::GameError::from(game::TapBatchError::InvalidGaps).into()),
    }
    Ok(Json(state.game.tap(player.id, batch).await?))
}

/// `GET /api/v1/leaderboard?limit=n&board=global|week|league`, n in 1..=100 (default 100); `week`
/// orders by coins earned this ISO week (UTC), `league` the caller's league by coins ever earned.
pub async fn leaderboard(
    State(state): State<AppState>,
    player: Player,
    RawQuery(query): RawQuery,
) -> Result<Json<LeaderboardView>, ApiError> {
    let mut limit = 100;
    let mut which = game::Board::Global;
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
            which = match value.as_ref() {
                "global" => game::Board::Global,
                "week" => game::Board::Week,
                "league" => game::Board::League,
                _ => {
                    return Err(ApiError::Invalid(
                        "invalid_board",
                        "board must be global, week or league.".into(),
                    ))
                }
            };
        }
    }
    Ok(Json(
        state.game.leaderboard_of(player.id, limit, which).await?,
    ))
}
