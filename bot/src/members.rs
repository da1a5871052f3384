//! Channel membership for the game's channel tasks: the Bot API's `getChatMember`, over reqwest.
//!
//! One plain HTTP call with the bot's token (`POST {TELEGRAM_API_URL}/bot{token}/getChatMember`),
//! so the API process can check a task without running the bot. Members are `creator`,
//! `administrator`, `member`, and `restricted` users who are still in the chat (`is_member`);
//! `left` and `kicked` are not. An error answer from Telegram (the bot is not an administrator of
//! the channel: 400 "member list is inaccessible"; no such chat) is a refusal the player is told
//! about; flood control, a server error or no answer at all is Telegram being unreachable.

use async_trait::async_trait;
use game::{ChatMembers, MembershipError};
use serde::Deserialize;
use serde_json::{json, Value};
use std::time::Duration;

/// Asks the Bot API whether a user is in a chat.
pub struct TelegramMembers {
    client: reqwest::Client,
    endpoint: String,
}

impl TelegramMembers {
    /// Checks through the Bot API at `api_url` (`TELEGRAM_API_URL`) with the bot's `token`.
    pub fn new(api_url: &str, token: &str) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()?;
        Ok(TelegramMembers {
            client,
            endpoint: format!("{}/bot{token}/getChatMember", api_url.trim_end_matches('/')),
        })
    }
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    result: Option<Member>,
    error_code: Option<u16>,
    description: Option<String>,
}

#[derive(Deserialize)]
struct Member {
    status: String,
    is_member: Option<bool>,
}

/// Whether a `ChatMember` status (and `is_member`, for `restricted`) counts as being in the chat.
pub fn counts_as_member(status: &str, is_member: Option<bool>) -> bool {
    match status {
        "creator" | "administrator" | "member" => true,
        "restricted" => is_member.unwrap_or(false),
        _ => false,
    }
}

#[async_trait]
impl ChatMembers for TelegramMembers {
    async fn is_member(&self, chat: &str, user: i64) -> Result<bool, MembershipError> {
        let chat_id: Value = match chat.parse::<i64>() {
            Ok(id) => json!(id),
            Err(_) => json!(chat),
        };
        let unreachable =
            |e: reqwest::Error| MembershipError::Unreachable(e.without_url().to_string());
        let response = self
            .client
            .post(&self.endpoint)
            .json(&json!({"chat_id": chat_id, "user_id": user}))
            .send()
            .await
            .map_err(unreachable)?;
        let status = response.status();
        let answer: Answer = response.json().await.map_err(|_| {
            MembershipError::Unreachable(format!("an answer that is not the Bot API's ({status})"))
        })?;
        match answer {
            Answer {
                ok: true,
                result: Some(m),
                ..
            } => Ok(counts_as_member(&m.status, m.is_member)),
            Answer {
                error_code,
                description,
                ..
            } => {
                let code = error_code.unwrap_or(status.as_u16());
                let why = description.unwrap_or_else(|| format!("error {code}"));
                if code == 429 || code >= 500 {
                    Err(MembershipError::Unreachable(why))
                } else {
                    Err(MembershipError::Refused(why))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::counts_as_member;

    #[test]
    fn members_are_in_the_chat_and_leavers_are_not() {
        for status in ["creator", "administrator", "member"] {
            assert!(counts_as_member(status, None), "{status}");
        }
        assert!(counts_as_member("restricted", Some(true)));
        assert!(!counts_as_member("restricted", Some(false)));
        assert!(!counts_as_member("left", None));
        assert!(!counts_as_member("kicked", None));
        assert!(!counts_as_member("something_new", Some(true)));
    }
}
