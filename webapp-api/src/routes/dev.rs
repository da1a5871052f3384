//! `POST /api/v1/dev/login`: init data for a demo player, signed with a key made at start.
//!
//! Exists only when no `BOT_TOKEN` is configured: then no real Telegram user can sign in, so
//! handing out signed init data for any id harms nobody and lets the Mini App run in a browser.

use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::AppState;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// Who to sign in as; both optional.
#[derive(Deserialize)]
pub struct DevLogin {
    id: Option<Value>,
    first_name: Option<Value>,
    language_code: Option<Value>,
    start_param: Option<Value>,
}

/// `POST /api/v1/dev/login`.
pub async fn login(
    State(state): State<AppState>,
    JsonBody(body): JsonBody<DevLogin>,
) -> Result<Json<Value>, ApiError> {
    if !state.options.dev_login {
        return Err(ApiError::NotFound);
    }
    let id = match body.id {
        None | Some(Value::Null) => {
            1_000_000_000_000 + (rand::random::<u64>() % 1_000_000_000_000) as i64
        }
        Some(v) => v.as_i64().filter(|id| *id > 0).ok_or_else(|| {
            ApiError::Invalid("invalid_id", "id must be a positive whole number.".into())
        })?,
    };
    let text = |v: Option<Value>, default: &str, max: usize| -> Result<String, ApiError> {
        match v {
            None | Some(Value::Null) => Ok(default.to_owned()),
            Some(Value::String(s)) if s.chars().count() <= max => Ok(s),
            Some(_) => Err(ApiError::Invalid(
                "invalid_name",
                format!("Names are text of at most {max} characters."),
            )),
        }
    };
    let first_name = text(body.first_name, "Demo", 64)?;
    let language_code = text(body.language_code, "en", 16)?;
    let start_param = text(body.start_param, "", 64)?;
    let user = json!({"id": id, "first_name": first_name, "language_code": language_code});
    let user = user.to_string();
    let auth_date = (state.game.now_ms() / 1000).to_string();
    let mut fields = vec![
        ("auth_date", auth_date.as_str()),
        ("user", user.as_str()),
        ("chat_type", "private"),
    ];
    // As a `t.me/<bot>/<app>?startapp=ref_<id>` link would carry it (a demo referral).
    if !start_param.is_empty() {
        fields.push(("start_param", start_param.as_str()));
    }
    let init_data = state.game.init_key().sign(&fields);
    Ok(Json(json!({"init_data": init_data})))
}
