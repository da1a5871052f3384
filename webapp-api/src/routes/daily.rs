//! `/api/v1/daily`: the daily reward streak.

use crate::error::ApiError;
use crate::extract::Player;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use game::DailyView;

/// `POST /api/v1/daily`: today's reward, once per UTC day.
pub async fn claim(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<DailyView>, ApiError> {
    Ok(Json(state.game.claim_daily(player.id).await?))
}
