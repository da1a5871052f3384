//! tapwave's Telegram bot: player commands, the Mini App's Play button, referrals, admin
//! commands and broadcasts, over long polling or webhooks.
//!
//! The bot is an adapter like the HTTP API: [`handlers::schema`] is the whole bot as one dptree
//! handler tree, each endpoint calls one `game` service, and the words come from the locale files
//! ([`i18n`]). [`launch`] prepares a bot for one process and hands back a future that runs it
//! until shutdown, plus — in webhook mode — the route Telegram posts to, guarded by the secret
//! check in [`webhook`], for the caller to serve on `BIND` (alone for `tapwave bot`, beside the
//! API for `tapwave serve`). Start-up never gives up on Telegram: it retries with back-off until
//! the Bot API answers, so the rest of the process (the API in `serve`) keeps working meanwhile.
//! [`courier::TelegramCourier`] is how the worker sends broadcasts through the same Bot API, and
//! [`members::TelegramMembers`] how the API checks the game's channel tasks.

pub mod commands;
pub mod courier;
pub mod handlers;
pub mod i18n;
pub mod members;
pub mod startup;
pub mod webhook;

#[cfg(feature = "fake-api")]
pub mod fake_api;

pub use courier::TelegramCourier;
pub use handlers::schema;
pub use i18n::{Lang, Texts};
pub use members::TelegramMembers;

use game::Game;
use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use teloxide::requests::RequesterExt;

/// The Bot API client the bot uses: teloxide's, remembering `getMe` once it has answered.
pub type TgBot = teloxide::adaptors::CacheMe<teloxide::Bot>;

/// How the bot is configured (from the environment, checked by the binary).
#[derive(Clone, Debug)]
pub struct BotConfig {
    /// `BOT_TOKEN`.
    pub token: String,
    /// `TELEGRAM_API_URL`.
    pub api_url: String,
    /// `WEBAPP_URL`: what the Play button opens.
    pub webapp_url: String,
    /// `ADMIN_IDS`.
    pub admins: Vec<i64>,
    /// Webhook mode (`WEBHOOK_URL` and `WEBHOOK_SECRET`); long polling when `None`.
    pub webhook: Option<WebhookConfig>,
}

/// Webhook mode: where Telegram posts updates, and the secret it sends with them.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// The public URL; its path is the route served.
    pub url: String,
    /// Checked against `X-Telegram-Bot-Api-Secret-Token` (1–256 of `A-Za-z0-9_-`).
    pub secret: String,
}

/// What the endpoints need to know besides the game.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The Mini App's URL.
    pub webapp_url: reqwest::Url,
    admins: HashSet<i64>,
}

impl Settings {
    /// Whether `user` may use admin commands.
    pub fn is_admin(&self, user: i64) -> bool {
        self.admins.contains(&user)
    }

    /// The admins' ids.
    pub fn admins(&self) -> impl Iterator<Item = i64> + '_ {
        self.admins.iter().copied()
    }
}

/// A configuration the bot cannot run with.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LaunchError {
    /// A URL that does not parse or cannot be used.
    #[error("{var}: {problem}")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// What is wrong.
        problem: String,
    },
}

fn invalid(var: &'static str, problem: impl Into<String>) -> LaunchError {
    LaunchError::Invalid {
        var,
        problem: problem.into(),
    }
}

/// Checks a webhook secret as Telegram (and teloxide, which panics otherwise) requires.
pub fn valid_secret(secret: &str) -> bool {
    (1..=256).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The route a webhook URL is served on: its path, which must not clash with the API's own.
pub fn webhook_path(url: &str) -> Result<String, LaunchError> {
    let parsed =
        reqwest::Url::parse(url).map_err(|e| invalid("WEBHOOK_URL", format!("{e}: {url:?}")))?;
    let path = parsed.path().to_owned();
    let clashes = path == "/"
        || ["/api/", "/assets/"].iter().any(|p| path.starts_with(p))
        || ["/index.html", "/healthz", "/readyz", "/metrics"].contains(&path.as_str());
    if clashes {
        return Err(invalid(
            "WEBHOOK_URL",
            format!("needs a path of its own, like /telegram/webhook, got {path:?}"),
        ));
    }
    Ok(path)
}

/// The Bot API client for `cfg`.
pub fn client(cfg: &BotConfig) -> Result<TgBot, LaunchError> {
    let api = reqwest::Url::parse(&cfg.api_url)
        .map_err(|e| invalid("TELEGRAM_API_URL", format!("{e}: {:?}", cfg.api_url)))?;
    Ok(teloxide::Bot::new(&cfg.token).set_api_url(api).cache_me())
}

/// A bot ready to run.
pub struct Launched {
    /// Webhook mode: the route Telegram posts to, to be served on `BIND`.
    pub webhook: Option<axum::Router>,
    /// Runs the bot until the shutdown future given to [`launch`] resolves.
    pub run: Pin<Box<dyn Future<Output = ()> + Send>>,
}

/// Prepares the bot (see the module header).
pub fn launch(
    game: Game,
    cfg: &BotConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<Launched, LaunchError> {
    let bot = client(cfg)?;
    let webapp_url = reqwest::Url::parse(&cfg.webapp_url)
        .map_err(|e| invalid("WEBAPP_URL", format!("{e}: {:?}", cfg.webapp_url)))?;
    let settings = Arc::new(Settings {
        webapp_url,
        admins: cfg.admins.iter().copied().collect(),
    });
    let texts = Texts::embedded();
    let deps = teloxide::dptree::deps![game, settings.clone(), texts.clone()];
    match &cfg.webhook {
        None => Ok(Launched {
            webhook: None,
            run: Box::pin(startup::run_polling(bot, settings, texts, deps, shutdown)),
        }),
        Some(wh) => {
            if !valid_secret(&wh.secret) {
                return Err(invalid(
                    "WEBHOOK_SECRET",
                    "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -",
                ));
            }
            let path = webhook_path(&wh.url)?;
            let url = reqwest::Url::parse(&wh.url).expect("checked by webhook_path");
            let options = teloxide::update_listeners::webhooks::Options::new(
                ([127, 0, 0, 1], 0).into(),
                url.clone(),
            )
            .path(path)
            .secret_token(wh.secret.clone());
            let (listener, _stopped, router) =
                teloxide::update_listeners::webhooks::axum_no_setup(options);
            let router = webhook::guard(router, &wh.secret);
            let secret = wh.secret.clone();
            Ok(Launched {
                webhook: Some(router),
                run: Box::pin(startup::run_webhook(
                    bot, settings, texts, deps, listener, url, secret, shutdown,
                )),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_paths_keep_clear_of_the_api() {
        assert_eq!(
            webhook_path("https://bot.example.com/telegram/webhook").unwrap(),
            "/telegram/webhook"
        );
        for bad in [
            "https://bot.example.com",
            "https://bot.example.com/",
            "https://bot.example.com/api/v1/hook",
            "https://bot.example.com/healthz",
            "not a url",
        ] {
            assert!(webhook_path(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn secrets_are_what_telegram_accepts() {
        assert!(valid_secret("abc_DEF-123"));
        assert!(!valid_secret(""));
        assert!(!valid_secret("has space"));
        assert!(!valid_secret(&"a".repeat(257)));
    }
}
