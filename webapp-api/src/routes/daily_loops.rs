//! `/api/v1/combo` and `/api/v1/cipher`: the daily combo and the daily cipher.

use crate::error::ApiError;
use crate::extract::{JsonBody, Player};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use game::{CipherView, ComboView, RewardView};
use serde::Deserialize;
use serde_json::Value;

/// `GET /api/v1/combo`: today's combo, the cards found so far.
pub async fn combo(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<ComboView>, ApiError> {
    Ok(Json(state.game.combo(player.id).await?))
}

/// `POST /api/v1/combo`: today's combo reward, once, when every card was bought today.
pub async fn claim_combo(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<RewardView>, ApiError> {
    Ok(Json(state.game.claim_combo(player.id).await?))
}

/// `GET /api/v1/cipher`: today's cipher, its length and the guesses left.
pub async fn cipher(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<CipherView>, ApiError> {
    Ok(Json(state.game.cipher(player.id).await?))
}

/// The body of `POST /api/v1/cipher`.
#[derive(Deserialize)]
pub struct Guess {
    word: Option<Value>,
}

/// `POST /api/v1/cipher` `{"word"}`: the reward for today's word, once a day.
pub async fn solve_cipher(
    State(state): State<AppState>,
    player: Player,
    JsonBody(body): JsonBody<Guess>,
) -> Result<Json<RewardView>, ApiError> {
    let word = match &body.word {
        Some(Value::String(s)) => s.as_str(),
        // Missing or not text: the same answer as an empty guess.
        _ => "",
    };
    Ok(Json(state.game.solve_cipher(player.id, word).await?))
}
