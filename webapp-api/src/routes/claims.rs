//! `/api/v1/claims`: moving coins out of the game to the player's TON wallet.

use crate::error::ApiError;
use crate::extract::{JsonBody, Player};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use game::claims::ClaimView;
use serde::Deserialize;
use serde_json::Value;

/// The body of `POST /api/v1/claims`.
#[derive(Deserialize)]
pub struct NewClaim {
    amount: Option<Value>,
    idempotency_key: Option<Value>,
}

/// `POST /api/v1/claims`: 201 with the new claim, or 200 with the claim the same key made before.
pub async fn create(
    State(state): State<AppState>,
    player: Player,
    JsonBody(body): JsonBody<NewClaim>,
) -> Result<(StatusCode, Json<ClaimView>), ApiError> {
    let amount = body.amount.as_ref().and_then(Value::as_i64);
    let key = body.idempotency_key.as_ref().and_then(Value::as_str);
    let (claim, created) = state.game.create_claim(player.id, amount, key).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(claim),
    ))
}

/// `GET /api/v1/claims`: the player's claims, newest first.
pub async fn list(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<Vec<ClaimView>>, ApiError> {
    Ok(Json(state.game.claims_of(player.id).await?))
}

/// `GET /api/v1/claims/limits`: what the claim form shows (minimum, caps, cool-down, pause).
pub async fn limits(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(state.game.claim_limits(player.id).await?))
}
