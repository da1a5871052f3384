//! Extractors: the authenticated [`Player`], the client address, and a JSON body whose every
//! failure is an [`ApiError`].
//!
//! Authentication is an extractor so that a handler taking `Player` cannot run for an
//! unauthenticated request; it also counts the call against the player's rate limit, shared by
//! every instance when Redis is configured.

use crate::error::ApiError;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use game::{Decision, Rate};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, SocketAddr};

/// The player who sent the request, from verified init data.
#[derive(Clone, Copy, Debug)]
pub struct Player {
    /// Telegram user id.
    pub id: i64,
}

impl FromRequestParts<AppState> for Player {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let value = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or(ApiError::MissingAuth)?;
        let value = value.to_str().map_err(|_| ApiError::WrongScheme)?;
        let (scheme, init_data) = value.split_once(' ').unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("tma") {
            return Err(ApiError::WrongScheme);
        }
        let id = state.game.authenticate(init_data.trim()).await?;
        let limits = &state.game.config().limits;
        let rate = Rate {
            per_second: limits.player_per_second,
            burst: limits.player_burst,
        };
        limit(state, &format!("p:{id}"), rate).await?;
        Ok(Player { id })
    }
}

/// Counts a call for `key`, refusing with 429 and the wait when over the rate.
pub async fn limit(state: &AppState, key: &str, rate: Rate) -> Result<(), ApiError> {
    match state.game.check_rate(key, rate).await? {
        Decision::Allow => Ok(()),
        Decision::Deny { retry_after_ms } => {
            metrics::counter!("rate_limited_total").increment(1);
            Err(ApiError::RateLimited(retry_after_ms.div_ceil(1000).max(1)))
        }
    }
}

/// The client's address: the socket's, or, behind `trusted_proxies` proxies, the address that many
/// hops from the right of `X-Forwarded-For` (each proxy appends the address it received from).
pub fn client_ip(parts: &Parts, trusted_proxies: usize) -> Option<IpAddr> {
    let socket = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if trusted_proxies == 0 {
        return socket;
    }
    let hops: Vec<&str> = parts
        .headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if hops.len() < trusted_proxies {
        // The request did not come through every proxy; the socket is all we can trust.
        return socket;
    }
    hops[hops.len() - trusted_proxies].parse().ok().or(socket)
}

/// A JSON body, limited in size; any content type is read as JSON (beacons send `text/plain`).
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::InvalidJson("the body could not be read".into())
            }
        })?;
        let bytes = if bytes.is_empty() {
            Bytes::from_static(b"{}")
        } else {
            bytes
        };
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|_| ApiError::InvalidJson("it is not valid JSON".into()))?;
        // Every body of the API is an object (serde would also read a struct from an array).
        if !value.is_object() {
            return Err(ApiError::InvalidJson("it must be a JSON object".into()));
        }
        serde_json::from_value(value)
            .map(JsonBody)
            .map_err(|_| ApiError::InvalidJson("a field has the wrong type".into()))
    }
}
