//! `/api/v1/boosts`: free energy refills, multitap and energy-limit levels.

use crate::error::ApiError;
use crate::extract::Player;
use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use game::{BoostView, PlayerView};

/// `GET /api/v1/boosts`: each boost with the player's level, next cost and refills left.
pub async fn list(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<Vec<BoostView>>, ApiError> {
    Ok(Json(state.game.boosts(player.id).await?))
}

/// `POST /api/v1/boosts/{id}/buy`: the player's state after a refill or the boost's next level.
pub async fn buy(
    State(state): State<AppState>,
    player: Player,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<PlayerView>, ApiError> {
    let Path(id) = id.map_err(|_| ApiError::NotFound)?;
    Ok(Json(state.game.buy_boost(player.id, &id).await?))
}
