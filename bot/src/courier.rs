//! How the worker reaches players: broadcast messages and progress reports over the Bot API.
//!
//! [`TelegramCourier`] turns each Bot API answer into a [`Delivery`] the worker can act on: flood
//! control (429) becomes a wait, "blocked by the user" and its kin mark the player unreachable,
//! a connection that never opened is safe to try again, and anything else — including a timeout,
//! after which Telegram may or may not have delivered — is not retried, so nobody gets a message
//! twice. With `allow_paid_broadcast` the messages are sent under Telegram's paid broadcast
//! limit (up to 1000/s, billed in Stars).

use crate::i18n::{Lang, Texts};
use crate::TgBot;
use async_trait::async_trait;
use game::{BroadcastProgress, Courier, Delivery};
use teloxide::prelude::*;
use teloxide::types::{InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo};
use teloxide::{ApiError, RequestError};

/// Sends broadcasts and reports through the Bot API.
pub struct TelegramCourier {
    bot: TgBot,
    texts: Texts,
    webapp_url: reqwest::Url,
    paid: bool,
}

impl TelegramCourier {
    /// A courier over `bot`; broadcasts carry a Play button to `webapp_url`.
    pub fn new(bot: TgBot, webapp_url: reqwest::Url, paid: bool) -> Self {
        TelegramCourier {
            bot,
            texts: Texts::embedded(),
            webapp_url,
            paid,
        }
    }
}

/// What a Bot API error means for a delivery.
pub fn classify(e: &RequestError) -> Delivery {
    match e {
        RequestError::RetryAfter(s) => Delivery::RetryAfter(s.duration()),
        RequestError::Api(api) => match api {
            ApiError::BotBlocked => Delivery::Unreachable("blocked".into()),
            ApiError::ChatNotFound => Delivery::Unreachable("chat_not_found".into()),
            ApiError::UserDeactivated => Delivery::Unreachable("deactivated".into()),
            ApiError::CantInitiateConversation => Delivery::Unreachable("never_started".into()),
            ApiError::BotKicked
            | ApiError::BotKickedFromSupergroup
            | ApiError::BotKickedFromChannel => Delivery::Unreachable("kicked".into()),
            ApiError::CantTalkWithBots => Delivery::Unreachable("bot".into()),
            other => Delivery::Failed(other.to_string()),
        },
        RequestError::Network(n) if n.is_connect() => Delivery::NotSent(n.to_string()),
        other => Delivery::Failed(other.to_string()),
    }
}

#[async_trait]
impl Courier for TelegramCourier {
    async fn deliver(&self, player: i64, text: &str) -> Delivery {
        let lang = Lang::En;
        let button = InlineKeyboardButton::web_app(
            self.texts.get(lang, "msg.play_button"),
            WebAppInfo {
                url: self.webapp_url.clone(),
            },
        );
        let mut req = self
            .bot
            .send_message(ChatId(player), text)
            .reply_markup(InlineKeyboardMarkup::new([[button]]));
        if self.paid {
            req = req.allow_paid_broadcast(true);
        }
        match req.await {
            Ok(_) => Delivery::Sent,
            Err(e) => classify(&e),
        }
    }

    async fn report(&self, p: &BroadcastProgress) {
        let lang = Lang::from_code(p.admin_language.as_deref());
        let done = p.sent + p.unreachable + p.failed + p.uncertain;
        let key = if p.done {
            "msg.broadcast_done"
        } else {
            "msg.broadcast_progress"
        };
        let text = self.texts.fill(
            lang,
            key,
            &[
                ("id", &p.id),
                ("done", &done),
                ("total", &p.total),
                ("sent", &p.sent),
                ("unreachable", &p.unreachable),
                ("failed", &p.failed),
                ("uncertain", &p.uncertain),
            ],
        );
        if let Err(e) = self.bot.send_message(ChatId(p.admin_id), text).await {
            tracing::warn!(error = %e, admin = p.admin_id, "cannot report broadcast progress");
        }
    }
}
