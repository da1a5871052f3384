//! Telegram Mini App init data: parsed once at the edge into an [`InitData`] that cannot be forged.
//!
//! The algorithm is Telegram's (FACTS.md): form-decode, drop `hash`, keep every other field
//! (`signature` included), sort by key, join `key=value` with newlines, and compare
//! `HMAC_SHA256(HMAC_SHA256("WebAppData", bot_token), check_string)` with `hash` in constant time.
//! The same module signs init data, for the local demo login, the tests and the load generator.

use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far in the future an `auth_date` may be (clock skew between Telegram and us).
pub const MAX_FUTURE_SKEW_SECS: i64 = 60;

/// The key that checks and signs init data for one bot token.
#[derive(Clone)]
pub struct InitDataKey {
    secret: [u8; 32],
}

impl std::fmt::Debug for InitDataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InitDataKey(..)")
    }
}

/// The Telegram user as the init data's `user` field describes them.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct TelegramUser {
    /// Telegram user id.
    pub id: i64,
    /// First name (may be empty for odd accounts).
    #[serde(default)]
    pub first_name: String,
    /// Last name.
    pub last_name: Option<String>,
    /// `@username` without the `@`.
    pub username: Option<String>,
    /// IETF language tag of the user's Telegram client.
    pub language_code: Option<String>,
    /// Telegram Premium.
    #[serde(default)]
    pub is_premium: bool,
}

/// Verified init data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InitData {
    /// The user who opened the Mini App.
    pub user: TelegramUser,
    /// Unix seconds when Telegram signed it.
    pub auth_date: i64,
    /// The `startapp` payload, signed with the rest.
    pub start_param: Option<String>,
}

/// Why init data was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum InitDataError {
    /// Not a well-formed form-encoded string with a hex `hash`, an `auth_date` and a `user`.
    #[error("the init data is malformed")]
    Malformed,
    /// The hash does not match: another bot's data, or a field was changed.
    #[error("the init data signature does not match")]
    BadSignature,
    /// Older than the allowed age.
    #[error("the init data has expired; reopen the app")]
    Expired,
    /// Dated in the future beyond the allowed skew.
    #[error("the init data is dated in the future")]
    FromFuture,
}

impl InitDataKey {
    /// The key for a bot token: `HMAC_SHA256(key = "WebAppData", msg = token)`.
    pub fn for_bot_token(token: &str) -> Self {
        let mut mac = HmacSha256::new_from_slice(b"WebAppData").expect("any key length works");
        mac.update(token.as_bytes());
        Self {
            secret: mac.finalize().into_bytes().into(),
        }
    }

    /// The derived secret, for checking against Telegram's test vector.
    pub fn secret_hex(&self) -> String {
        hex::encode(self.secret)
    }

    /// A secret value for `label`, the same on every instance with this bot token and unknowable
    /// without it (the daily combo and cipher are drawn from it). A label holds no `=`, so it can
    /// never be the data-check string of signed init data.
    pub fn derive(&self, label: &str) -> [u8; 32] {
        debug_assert!(!label.contains('='));
        self.mac_of(&format!("tapwave-derive:{label}"))
            .finalize()
            .into_bytes()
            .into()
    }

    fn mac_of(&self, check_string: &str) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("any key length works");
        mac.update(check_string.as_bytes());
        mac
    }

    /// Checks the signature only, without the age: `auth_date` and `user` must still be present.
    pub fn verify_signature(&self, raw: &str) -> Result<InitData, InitDataError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut hash = None;
        for (key, value) in form_urlencoded::parse(raw.as_bytes()) {
            if key == "hash" {
                if hash.is_some() {
                    return Err(InitDataError::Malformed);
                }
                hash = Some(value.into_owned());
            } else {
                if pairs.iter().any(|(k, _)| *k == key) {
                    // Two values for one key would make "which one was signed" ambiguous.
                    return Err(InitDataError::Malformed);
                }
                pairs.push((key.into_owned(), value.into_owned()));
            }
        }
        let hash = hash.ok_or(InitDataError::Malformed)?;
        let expected = hex::decode(hash).map_err(|_| InitDataError::Malformed)?;
        if expected.len() != 32 {
            return Err(InitDataError::Malformed);
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        // `verify_slice` compares in constant time.
        self.mac_of(&check_string(&pairs))
            .verify_slice(&expected)
            .map_err(|_| InitDataError::BadSignature)?;
        let field = |name: &str| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
        };
        let auth_date = field("auth_date")
            .and_then(|v| v.parse::<i64>().ok())
            .ok_or(InitDataError::Malformed)?;
        let user: TelegramUser = field("user")
            .and_then(|v| serde_json::from_str(v).ok())
            .ok_or(InitDataError::Malformed)?;
        Ok(InitData {
            user,
            auth_date,
            start_param: field("start_param").map(str::to_owned),
        })
    }

    /// Checks signature and age at `now` (unix seconds).
    pub fn verify(
        &self,
        raw: &str,
        now: i64,
        max_age_secs: i64,
    ) -> Result<InitData, InitDataError> {
        let data = self.verify_signature(raw)?;
        if data.auth_date > now + MAX_FUTURE_SKEW_SECS {
            return Err(InitDataError::FromFuture);
        }
        if now - data.auth_date > max_age_secs {
            return Err(InitDataError::Expired);
        }
        Ok(data)
    }

    /// Signs fields (without `hash`) the way Telegram does and returns the encoded init data.
    pub fn sign(&self, fields: &[(&str, &str)]) -> String {
        let mut pairs: Vec<(String, String)> = fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let hash = hex::encode(self.mac_of(&check_string(&pairs)).finalize().into_bytes());
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            out.append_pair(k, v);
        }
        out.append_pair("hash", &hash);
        out.finish()
    }

    /// Signs init data for a user at `auth_date` (unix seconds).
    pub fn sign_user(&self, user: &serde_json::Value, auth_date: i64) -> String {
        let user = user.to_string();
        let auth_date = auth_date.to_string();
        self.sign(&[
            ("auth_date", &auth_date),
            ("user", &user),
            ("chat_type", "private"),
        ])
    }
}

fn check_string(sorted: &[(String, String)]) -> String {
    let mut out = String::new();
    for (i, (k, v)) in sorted.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "7342037359:AAFZehRPBRs8Seg40oDjTMIW8uTGPuW1zfQ";
    const VECTOR: &str = "user=%7B%22id%22%3A279058397%2C%22first_name%22%3A%22Vladislav%20%2B%20-%20%3F%20%5C%2F%22%2C%22last_name%22%3A%22Kibenko%22%2C%22username%22%3A%22vdkfrost%22%2C%22language_code%22%3A%22ru%22%2C%22is_premium%22%3Atrue%2C%22allows_write_to_pm%22%3Atrue%2C%22photo_url%22%3A%22https%3A%5C%2F%5C%2Ft.me%5C%2Fi%5C%2Fuserpic%5C%2F320%5C%2F4FPEE4tmP3ATHa57u6MqTDih13LTOiMoKoLDRG4PnSA.svg%22%7D&chat_instance=8134722200314281151&chat_type=private&auth_date=1733584787&hash=2174df5b000556d044f3f020384e879c8efcab55ddea2ced4eb752e93e7080d6&signature=zL-ucjNyREiHDE8aihFwpfR9aggP2xiAo3NSpfe-p7IbCisNlDKlo7Kb6G4D0Ao2mBrSgEk4maLSdv6MLIlADQ";

    #[test]
    fn the_telegram_test_vector_validates() {
        let key = InitDataKey::for_bot_token(TOKEN);
        assert_eq!(
            key.secret_hex(),
            "c0881d6d547967540dcb06d7378a2c2b2c79a8f915ae70a4a37a8a04de0da32b"
        );
        let data = key.verify_signature(VECTOR).unwrap();
        assert_eq!(data.user.id, 279058397);
        assert_eq!(data.user.first_name, "Vladislav + - ? /");
        assert_eq!(data.user.language_code.as_deref(), Some("ru"));
        assert!(data.user.is_premium);
        assert_eq!(data.auth_date, 1733584787);
        // The age check applies on top.
        assert_eq!(
            key.verify(VECTOR, 1733584787 + 86_401, 86_400),
            Err(InitDataError::Expired)
        );
        assert!(key.verify(VECTOR, 1733584787 + 10, 86_400).is_ok());
    }

    #[test]
    fn signature_is_part_of_the_check_string() {
        let key = InitDataKey::for_bot_token(TOKEN);
        let without = VECTOR.split("&signature=").next().unwrap();
        assert_eq!(
            key.verify_signature(without),
            Err(InitDataError::BadSignature)
        );
    }

    #[test]
    fn another_bots_token_or_a_changed_field_is_refused() {
        let other = InitDataKey::for_bot_token("1234:other");
        assert_eq!(
            other.verify_signature(VECTOR),
            Err(InitDataError::BadSignature)
        );
        let key = InitDataKey::for_bot_token(TOKEN);
        let tampered = VECTOR.replace("auth_date=1733584787", "auth_date=1733584788");
        assert_eq!(
            key.verify_signature(&tampered),
            Err(InitDataError::BadSignature)
        );
    }

    #[test]
    fn malformed_input_is_refused_not_panicked_on() {
        let key = InitDataKey::for_bot_token(TOKEN);
        for raw in [
            "",
            "garbage",
            "hash=zz",
            "hash=abcd",
            "a=1&a=2&hash=00",
            "%%%&&&==",
            "user=%7B&hash=",
        ] {
            assert_eq!(
                key.verify_signature(raw),
                Err(InitDataError::Malformed),
                "{raw}"
            );
        }
    }

    #[test]
    fn signed_data_round_trips_with_unicode_and_plus_signs() {
        let key = InitDataKey::for_bot_token("42:secret");
        let user = serde_json::json!({"id": 7, "first_name": "Жанна + ✨ & co", "username": "a+b"});
        let raw = key.sign_user(&user, 1_700_000_000);
        let data = key.verify(&raw, 1_700_000_100, 86_400).unwrap();
        assert_eq!(data.user.first_name, "Жанна + ✨ & co");
        assert_eq!(data.user.username.as_deref(), Some("a+b"));
        assert_eq!(
            key.verify(&raw, 1_700_000_000 - 61, 86_400),
            Err(InitDataError::FromFuture)
        );
    }
}
