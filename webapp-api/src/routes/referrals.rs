//! `/api/v1/referrals`: the invite link and the friends it brought.

use crate::error::ApiError;
use crate::extract::Player;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use game::ReferralsView;

/// `GET /api/v1/referrals`.
pub async fn list(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<ReferralsView>, ApiError> {
    let bot = state.options.bot_username.as_deref();
    Ok(Json(state.game.referrals(player.id, bot).await?))
}

/// `POST /api/v1/referrals/collect`: the share of friends' earnings owed now.
pub async fn collect(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<game::Collected>, ApiError> {
    Ok(Json(state.game.collect_shares(player.id).await?))
}
