//! Starting and stopping the bot: reach Telegram, publish the commands and the menu button,
//! then dispatch updates from long polling or the webhook until shutdown.
//!
//! Reaching Telegram retries with exponential back-off (1 s doubling to a minute) for as long as
//! it takes, and every step gives way to shutdown. Publishing commands and the menu button is
//! best effort: a failure is logged and the bot runs on. Shutdown stops the update listener;
//! the dispatcher then finishes the updates it holds and returns.

use crate::commands::{names, AdminCommand, PlayerCommand};
use crate::handlers::{schema, BotError};
use crate::i18n::{Lang, Texts};
use crate::{Settings, TgBot};
use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use teloxide::dispatching::Dispatcher;
use teloxide::dptree::di::DependencyMap;
use teloxide::prelude::*;
use teloxide::types::{
    AllowedUpdate, BotCommand, BotCommandScope, Me, MenuButton, Recipient, WebAppInfo,
};
use teloxide::update_listeners::{Polling, UpdateListener};

/// The wait before try number `attempt + 1` of something that failed `attempt` times.
pub fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(1u64 << attempt.min(6)).min(Duration::from_secs(60))
}

/// Calls `f` until it succeeds, waiting [`backoff`] between failures.
async fn retry<T, E: std::fmt::Display, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut attempt = 0;
    loop {
        match f().await {
            Ok(v) => return v,
            Err(e) => {
                let wait = backoff(attempt);
                tracing::warn!(error = %e, wait_s = wait.as_secs(), "{what} failed; retrying");
                tokio::time::sleep(wait).await;
                attempt += 1;
            }
        }
    }
}

/// Waits for the Bot API to answer `getMe` (remembered by the client from then on).
pub async fn reach(bot: &TgBot) -> Me {
    let me = retry("reaching the Bot API (getMe)", || bot.get_me().send()).await;
    tracing::info!(bot = me.username(), "Bot API reached");
    me
}

fn command_list(texts: &Texts, lang: Lang, admin: bool) -> Vec<BotCommand> {
    let mut all = names::<PlayerCommand>();
    if admin {
        all.extend(names::<AdminCommand>());
    }
    all.into_iter()
        .map(|name| {
            let description = texts.get(lang, &format!("cmd.{name}"));
            BotCommand::new(name, description)
        })
        .collect()
}

/// Sets the command list (for everyone, per language; admins also see theirs) and the chat menu
/// button that opens the Mini App. Failures are logged, not fatal.
pub async fn publish(bot: &TgBot, settings: &Settings, texts: &Texts) {
    for lang in Lang::ALL {
        let mut req = bot.set_my_commands(command_list(texts, lang, false));
        if lang != Lang::En {
            req = req.language_code(lang.code());
        }
        if let Err(e) = req.await {
            tracing::warn!(error = %e, lang = lang.code(), "cannot set the command list");
        }
        for admin in settings.admins() {
            let mut req =
                bot.set_my_commands(command_list(texts, lang, true))
                    .scope(BotCommandScope::Chat {
                        chat_id: Recipient::Id(ChatId(admin)),
                    });
            if lang != Lang::En {
                req = req.language_code(lang.code());
            }
            // An admin who has never opened the bot has no chat yet: Telegram says so; fine.
            if let Err(e) = req.await {
                tracing::info!(error = %e, admin, "cannot set an admin's command list");
            }
        }
    }
    let button = MenuButton::WebApp {
        text: texts.get(Lang::En, "msg.menu_button"),
        web_app: WebAppInfo {
            url: settings.webapp_url.clone(),
        },
    };
    if let Err(e) = bot.set_chat_menu_button().menu_button(button).await {
        tracing::warn!(error = %e, "cannot set the menu button");
    }
}

/// Long polling: reach Telegram, publish, then dispatch until `shutdown`.
pub async fn run_polling(
    bot: TgBot,
    settings: Arc<Settings>,
    texts: Texts,
    deps: DependencyMap,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    let ready = async {
        reach(&bot).await;
        publish(&bot, &settings, &texts).await;
        Polling::builder(bot.clone())
            .timeout(Duration::from_secs(10))
            .delete_webhook()
            .await
            .build()
    };
    let listener = tokio::select! {
        l = ready => l,
        _ = &mut shutdown => return,
    };
    tracing::info!(mode = "long polling", "bot running");
    dispatch(bot, deps, listener, shutdown).await;
}

/// Webhook mode: reach Telegram, publish, set the webhook, then dispatch what the route
/// receives until `shutdown`.
#[allow(clippy::too_many_arguments)]
pub async fn run_webhook<L>(
    bot: TgBot,
    settings: Arc<Settings>,
    texts: Texts,
    deps: DependencyMap,
    listener: L,
    url: reqwest::Url,
    secret: String,
    shutdown: impl Future<Output = ()> + Send + 'static,
) where
    L: UpdateListener + Send,
    L::Err: Debug + Send + 'static,
{
    let mut shutdown = std::pin::pin!(shutdown);
    let ready = async {
        reach(&bot).await;
        publish(&bot, &settings, &texts).await;
        retry("setting the webhook", || {
            bot.set_webhook(url.clone())
                .secret_token(secret.clone())
                .allowed_updates(vec![AllowedUpdate::Message])
                .send()
        })
        .await;
    };
    tokio::select! {
        _ = ready => {},
        _ = &mut shutdown => return,
    }
    tracing::info!(mode = "webhook", url = %url, "bot running");
    dispatch(bot, deps, listener, shutdown).await;
}

async fn dispatch<L>(
    bot: TgBot,
    deps: DependencyMap,
    mut listener: L,
    shutdown: std::pin::Pin<&mut (impl Future<Output = ()> + Send)>,
) where
    L: UpdateListener + Send,
    L::Err: Debug + Send + 'static,
{
    let stop = listener.stop_token();
    let mut dispatcher = Dispatcher::builder(bot, schema())
        .dependencies(deps)
        .default_handler(|_| async {})
        .error_handler(Arc::new(|e: BotError| async move {
            tracing::warn!(error = %e, "bot could not answer");
        }))
        .build();
    let listener_errors = Arc::new(|e: L::Err| async move {
        tracing::warn!(error = ?e, "bot cannot get updates; retrying");
    });
    let run = dispatcher.try_dispatch_with_listener(listener, listener_errors);
    let mut run = std::pin::pin!(run);
    tokio::select! {
        r = &mut run => {
            if let Err(e) = r {
                tracing::error!(error = %e, "bot stopped");
            }
            return;
        }
        _ = shutdown => {}
    }
    tracing::info!("bot stopping");
    stop.stop();
    if let Err(e) = run.await {
        tracing::warn!(error = %e, "bot stopped with an error");
    }
    tracing::info!("bot stopped");
}

#[cfg(test)]
mod tests {
    use super::backoff;
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_a_minute() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(6), Duration::from_secs(60));
        assert_eq!(backoff(60), Duration::from_secs(60));
    }
}
