//! The one error type of the HTTP layer and the JSON body every failure answers with.
//!
//! Each variant documents its status. Internal causes are logged with the request's id and never
//! shown to the client; a 500 means a bug in tapwave, never a client mistake.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use game::claims::ClaimError;
use game::economy::EconomyError;
use game::wallets::WalletError;
use game::{GameError, InitDataError, TapBatchError};
use serde_json::json;

/// Everything a handler can answer instead of success.
#[derive(Debug)]
pub enum ApiError {
    /// 401: no `Authorization` header.
    MissingAuth,
    /// 401: an `Authorization` header that is not `tma <init data>`.
    WrongScheme,
    /// 401: init data refused (malformed, forged, expired, from the future).
    InitData(InitDataError),
    /// 403: the player is banned.
    Banned,
    /// 404: no such route, resource or player.
    NotFound,
    /// 405: the route exists, the method does not.
    MethodNotAllowed,
    /// 413: the body is larger than the limit.
    PayloadTooLarge,
    /// 400: the body is not the JSON object expected.
    InvalidJson(String),
    /// 400: a field or query parameter is out of range: (code, message).
    Invalid(&'static str, String),
    /// 429: too many calls; retry after this many seconds.
    RateLimited(u64),
    /// 503: a dependency is unreachable or one player is too contended; retry after seconds.
    Unavailable(u64),
    /// A refusal by the game's rules with its own status and code (409 `insufficient_balance`,
    /// 422 `invalid_address`…), and a wait when retrying later makes sense.
    Refused {
        /// HTTP status.
        status: StatusCode,
        /// Machine-readable code.
        code: &'static str,
        /// One sentence for a person.
        message: String,
        /// Seconds for `Retry-After`.
        retry_after: Option<u64>,
    },
    /// 500: a bug; the cause is logged, not shown.
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str, String) {
        use ApiError::*;
        match self {
            MissingAuth => (
                StatusCode::UNAUTHORIZED,
                "missing_auth",
                "Send the Mini App's init data as `Authorization: tma <initData>`.".into(),
            ),
            WrongScheme => (
                StatusCode::UNAUTHORIZED,
                "invalid_auth_scheme",
                "The Authorization header must use the `tma` scheme.".into(),
            ),
            InitData(e) => {
                let code = match e {
                    InitDataError::Malformed => "invalid_init_data",
                    InitDataError::BadSignature => "invalid_signature",
                    InitDataError::Expired => "init_data_expired",
                    InitDataError::FromFuture => "init_data_from_future",
                };
                (
                    StatusCode::UNAUTHORIZED,
                    code,
                    format!("{}.", capitalise(&e.to_string())),
                )
            }
            Banned => (
                StatusCode::FORBIDDEN,
                "banned",
                "This player is banned from the game.".into(),
            ),
            NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "There is nothing here.".into(),
            ),
            MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "This path does not accept that method.".into(),
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large.".into(),
            ),
            InvalidJson(why) => (
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The body is not the JSON expected: {why}."),
            ),
            Invalid(code, message) => (StatusCode::BAD_REQUEST, code, message.clone()),
            RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests; slow down a little.".into(),
            ),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The game is briefly unavailable; try again in a moment.".into(),
            ),
            Refused {
                status,
                code,
                message,
                ..
            } => (*status, code, message.clone()),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side.".into(),
            ),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The JSON error body of API.md.
pub fn error_body(code: &str, message: &str) -> serde_json::Value {
    json!({"error": {"code": code, "message": message}})
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = self.parts();
        if let ApiError::Internal(cause) = &self {
            tracing::error!(%cause, "internal error");
        }
        let mut res = (status, Json(error_body(code, &message))).into_response();
        if let ApiError::RateLimited(secs)
        | ApiError::Unavailable(secs)
        | ApiError::Refused {
            retry_after: Some(secs),
            ..
        } = self
        {
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
        }
        res
    }
}

impl From<GameError> for ApiError {
    fn from(e: GameError) -> Self {
        if e.is_unavailable() {
            tracing::warn!(error = %e, "dependency unavailable");
            return ApiError::Unavailable(1);
        }
        match e {
            GameError::Auth(e) => ApiError::InitData(e),
            GameError::Banned => ApiError::Banned,
            GameError::UnknownPlayer => ApiError::NotFound,
            GameError::InvalidTaps(e @ TapBatchError::InvalidCount { .. }) => {
                ApiError::Invalid("invalid_count", format!("{}.", capitalise(&e.to_string())))
            }
            GameError::InvalidTaps(e @ TapBatchError::InvalidSeq) => {
                ApiError::Invalid("invalid_seq", format!("{}.", capitalise(&e.to_string())))
            }
            GameError::InvalidTaps(e @ TapBatchError::InvalidGaps) => refused(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_gaps",
                e.to_string(),
            ),
            GameError::Claim(e) => claim_refusal(e),
            GameError::Wallet(e) => wallet_refusal(e),
            GameError::Economy(e) => economy_refusal(e),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

fn refused(status: StatusCode, code: &'static str, message: String) -> ApiError {
    ApiError::Refused {
        status,
        code,
        message: sentence(&message),
        retry_after: None,
    }
}

fn sentence(s: &str) -> String {
    let s = capitalise(s);
    if s.ends_with('.') {
        s
    } else {
        format!("{s}.")
    }
}

fn claim_refusal(e: ClaimError) -> ApiError {
    let message = e.to_string();
    match e {
        ClaimError::InvalidAmount => refused(StatusCode::BAD_REQUEST, "invalid_amount", message),
        ClaimError::InvalidKey => {
            refused(StatusCode::BAD_REQUEST, "invalid_idempotency_key", message)
        }
        ClaimError::KeyReused => refused(StatusCode::CONFLICT, "idempotency_key_reused", message),
        ClaimError::BelowMinimum { .. } => {
            refused(StatusCode::UNPROCESSABLE_ENTITY, "below_minimum", message)
        }
        ClaimError::NoWallet => refused(StatusCode::CONFLICT, "no_wallet", message),
        ClaimError::WalletNotProven => refused(StatusCode::CONFLICT, "wallet_not_proven", message),
        ClaimError::InsufficientBalance => {
            refused(StatusCode::CONFLICT, "insufficient_balance", message)
        }
        ClaimError::Paused => refused(StatusCode::CONFLICT, "claims_paused", message),
        ClaimError::Flagged => refused(StatusCode::FORBIDDEN, "claims_blocked", message),
        ClaimError::PlayerDailyCap { .. } => {
            refused(StatusCode::CONFLICT, "daily_cap_reached", message)
        }
        ClaimError::GlobalDailyCap => refused(StatusCode::CONFLICT, "global_cap_reached", message),
        ClaimError::Cooldown { retry_after_secs } => ApiError::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "claim_cooldown",
            message: sentence(&message),
            retry_after: Some(retry_after_secs),
        },
        ClaimError::NotFound => ApiError::NotFound,
    }
}

fn economy_refusal(e: EconomyError) -> ApiError {
    let message = e.to_string();
    match e {
        EconomyError::UnknownUpgrade => refused(StatusCode::NOT_FOUND, "not_found", message),
        EconomyError::MaxLevel => refused(StatusCode::CONFLICT, "max_level", message),
        EconomyError::InsufficientBalance => {
            refused(StatusCode::CONFLICT, "insufficient_balance", message)
        }
        EconomyError::AlreadyClaimed => refused(StatusCode::CONFLICT, "already_claimed", message),
        EconomyError::UnknownBoost => refused(StatusCode::NOT_FOUND, "not_found", message),
        EconomyError::NoRefillsLeft => refused(StatusCode::CONFLICT, "no_refills_left", message),
        EconomyError::UnknownTask => refused(StatusCode::NOT_FOUND, "not_found", message),
        EconomyError::ChannelUncheckable => {
            refused(StatusCode::CONFLICT, "channel_check_failed", message)
        }
        EconomyError::TelegramUnreachable => ApiError::Unavailable(5),
        EconomyError::ComboOff | EconomyError::CipherOff => ApiError::NotFound,
        EconomyError::ComboIncomplete => refused(StatusCode::CONFLICT, "combo_incomplete", message),
        EconomyError::InvalidWord => refused(StatusCode::BAD_REQUEST, "invalid_word", message),
        EconomyError::WrongWord { .. } => {
            refused(StatusCode::UNPROCESSABLE_ENTITY, "wrong_word", message)
        }
        EconomyError::NoAttemptsLeft { retry_after_secs } => ApiError::Refused {
            status: StatusCode::TOO_MANY_REQUESTS,
            code: "no_attempts_left",
            message: sentence(&message),
            retry_after: Some(retry_after_secs),
        },
    }
}

fn wallet_refusal(e: WalletError) -> ApiError {
    let message = e.to_string();
    match e {
        WalletError::InvalidAddress(_) => {
            refused(StatusCode::UNPROCESSABLE_ENTITY, "invalid_address", message)
        }
        WalletError::Taken => refused(StatusCode::CONFLICT, "wallet_taken", message),
        WalletError::UnknownPayload | WalletError::InvalidProof(_) => {
            refused(StatusCode::UNPROCESSABLE_ENTITY, "invalid_proof", message)
        }
    }
}
