//! `/api/v1/upgrades`: the upgrade cards and buying their next level.

use crate::error::ApiError;
use crate::extract::Player;
use crate::AppState;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::Json;
use game::{PlayerView, UpgradeView};

/// `GET /api/v1/upgrades`: every card with the player's level, next cost and income.
pub async fn list(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<Vec<UpgradeView>>, ApiError> {
    Ok(Json(state.game.upgrades(player.id).await?))
}

/// `POST /api/v1/upgrades/{id}/buy`: the player's state after buying the card's next level.
pub async fn buy(
    State(state): State<AppState>,
    player: Player,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<PlayerView>, ApiError> {
    // An id that is not even text (`%FF`) names no card either.
    let Path(id) = id.map_err(|_| ApiError::NotFound)?;
    Ok(Json(state.game.buy_upgrade(player.id, &id).await?))
}
