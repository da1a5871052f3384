//! `/api/v1/wallet`: the player's TON wallet, its TON Connect proof, and the TON Connect manifest.

use crate::error::ApiError;
use crate::extract::{JsonBody, Player};
use crate::AppState;
use axum::extract::State;
use axum::Json;
use game::ton::TonProof;
use game::wallets::{ProofPayload, WalletView};
use serde::Deserialize;
use serde_json::{json, Value};

/// `GET /api/v1/wallet`: the wallet, or 404 `no_wallet`.
pub async fn get(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<WalletView>, ApiError> {
    state
        .game
        .wallet(player.id)
        .await?
        .map(Json)
        .ok_or_else(|| ApiError::Refused {
            status: axum::http::StatusCode::NOT_FOUND,
            code: "no_wallet",
            message: "No wallet is connected yet.".into(),
            retry_after: None,
        })
}

/// The body of `PUT /api/v1/wallet`.
#[derive(Deserialize)]
pub struct SetWallet {
    address: Option<Value>,
}

/// `PUT /api/v1/wallet`: `{"address"}` in any accepted form → the normalised address.
pub async fn put(
    State(state): State<AppState>,
    player: Player,
    JsonBody(body): JsonBody<SetWallet>,
) -> Result<Json<WalletView>, ApiError> {
    let address = match &body.address {
        Some(Value::String(s)) => s.as_str(),
        // Missing or not text: the same answer as an empty address.
        _ => "",
    };
    Ok(Json(state.game.set_wallet(player.id, address).await?))
}

/// `POST /api/v1/wallet/proof/payload`: a single-use payload for TON Connect's `ton_proof`.
pub async fn payload(
    State(state): State<AppState>,
    player: Player,
) -> Result<Json<ProofPayload>, ApiError> {
    Ok(Json(state.game.issue_proof_payload(player.id).await?))
}

/// The body of `POST /api/v1/wallet/proof`, as TON Connect's `account` and `ton_proof` give it.
#[derive(Deserialize)]
pub struct ProveWallet {
    address: String,
    #[serde(default, alias = "publicKey")]
    public_key: Option<String>,
    proof: TonProof,
}

/// `POST /api/v1/wallet/proof`: verifies the proof and stores the wallet as proven.
pub async fn prove(
    State(state): State<AppState>,
    player: Player,
    JsonBody(body): JsonBody<ProveWallet>,
) -> Result<Json<WalletView>, ApiError> {
    let view = state
        .game
        .prove_wallet(
            player.id,
            &body.address,
            body.public_key.as_deref(),
            &body.proof,
            &state.options.proof_domains,
        )
        .await?;
    Ok(Json(view))
}

/// `GET /tonconnect-manifest.json`: what TON Connect wallets show about the game.
pub async fn manifest(State(state): State<AppState>) -> Json<Value> {
    let url = state.options.webapp_url.trim_end_matches('/');
    Json(json!({
        "url": url,
        "name": state.options.app_name,
        "iconUrl": format!("{url}/assets/{}/icon.png", state.assets.version()),
    }))
}
