//! `Harness`: a fresh game on either backend, the fake Bot API, and the real bot running against
//! it (long polling, or webhook mode served on a loopback port), plus the API when a test needs
//! to see what the Mini App sees.

pub use bot::fake_api::{Failure, FakeTelegram, Recorded, TgUser, When};
use game::{Game, InitDataKey, Settings, SystemClock};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
pub use testkit::{Backend, Stores};
use tokio::sync::watch;

/// The bot token of every test.
pub const TOKEN: &str = "123456:TEST-bot_token_for_tapwave";
/// The admin of every test.
pub const ADMIN: i64 = 900_001;
/// Where the Play button points.
pub const WEBAPP: &str = "https://game.example.com/";
/// Where webhook mode says Telegram posts.
pub const WEBHOOK_URL: &str = "https://bot.example.com/telegram/webhook";
/// The webhook secret of the tests.
pub const SECRET: &str = "s3cret_Token-42";
/// Limits roomy enough that only the test about limits meets them.
pub const ROOMY: &str = "[bot]\ncommands_per_second = 1000\ncommands_burst = 1000\n";

/// Opens a migrated game on `stores`.
pub async fn open_game(stores: &Stores, game_toml: &str) -> Game {
    let db = game::store::db::connect(&stores.database_url, 4)
        .await
        .expect("database");
    migrations::apply_pending(&db).await.expect("migrations");
    db.close().await.ok();
    let settings = Settings {
        database_url: stores.database_url.clone(),
        redis_url: stores.redis_url.clone(),
        redis_prefix: stores.prefix.clone(),
        init_key: InitDataKey::for_bot_token(TOKEN),
        init_data_max_age: 86_400,
        game: game::GameConfig::parse(game_toml).expect("test game file"),
        db_max_connections: 8,
    };
    Game::open(&settings, Arc::new(SystemClock))
        .await
        .expect("game opens")
}

/// How a harness starts.
pub struct Options {
    /// The game file.
    pub game_toml: &'static str,
    /// Webhook mode instead of long polling.
    pub webhook: bool,
    /// Whether the bot runs at all (broadcast tests may only need the fake and the game).
    pub bot: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            game_toml: ROOMY,
            webhook: false,
            bot: true,
        }
    }
}

/// A game, the fake Bot API, and the bot.
pub struct Harness {
    /// The fake Bot API.
    pub fake: FakeTelegram,
    /// The game the bot plays.
    pub game: Game,
    /// The stores behind it.
    pub stores: Stores,
    /// In webhook mode: `http://127.0.0.1:<port>/telegram/webhook`.
    pub webhook: Option<String>,
    stop: Option<watch::Sender<bool>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

/// The bot's configuration against `fake`.
pub fn bot_config(fake: &FakeTelegram, webhook: bool) -> bot::BotConfig {
    bot::BotConfig {
        token: TOKEN.into(),
        api_url: fake.url().into(),
        webapp_url: WEBAPP.into(),
        admins: vec![ADMIN],
        webhook: webhook.then(|| bot::WebhookConfig {
            url: WEBHOOK_URL.into(),
            secret: SECRET.into(),
        }),
    }
}

/// Starts a harness with default options.
pub async fn harness(backend: Backend) -> Harness {
    harness_with(backend, Options::default(), |_| {}).await
}

/// Starts a harness; `prepare` scripts the fake before the bot first calls it.
pub async fn harness_with(
    backend: Backend,
    options: Options,
    prepare: impl FnOnce(&FakeTelegram),
) -> Harness {
    let stores = Stores::fresh(backend).await;
    let game = open_game(&stores, options.game_toml).await;
    let fake = FakeTelegram::start(TOKEN).await;
    prepare(&fake);
    let mut h = Harness {
        fake,
        game,
        stores,
        webhook: None,
        stop: None,
        task: None,
    };
    if options.bot {
        let (tx, rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let cfg = bot_config(&h.fake, options.webhook);
        let launched =
            bot::launch(h.game.clone(), &cfg, stopped(rx.clone())).expect("the bot launches");
        let mut task = tokio::spawn(launched.run);
        if let Some(router) = launched.webhook {
            // As `tapwave bot` does: the route is served until the same shutdown.
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = axum::serve(listener, router).with_graceful_shutdown(stopped(rx));
            h.webhook = Some(format!("http://{addr}/telegram/webhook"));
            let bot_run = task;
            task = tokio::spawn(async move {
                let (served, ran) = tokio::join!(server, bot_run);
                served.expect("the webhook server");
                ran.expect("the bot");
            });
        }
        h.stop = Some(tx);
        h.task = Some(task);
    }
    h
}

impl Harness {
    /// `user` writes `text`; returns the bot's answer (the next message to their chat).
    pub async fn say(&self, user: &TgUser, text: &str) -> Recorded {
        let before = self.fake.messages_to(user.id).len();
        self.fake.send(user, text);
        let all = self.fake.wait_messages(user.id, before + 1).await;
        all[before].clone()
    }

    /// The players' ledger sum.
    pub async fn ledger_sum(&self, player: i64) -> i64 {
        use entities::ledger;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        ledger::Entity::find()
            .filter(ledger::Column::PlayerId.eq(player))
            .all(self.game.db())
            .await
            .unwrap()
            .iter()
            .map(|r| r.amount)
            .sum()
    }

    /// The audit log, oldest first.
    pub async fn audit(&self) -> Vec<entities::audit_log::Model> {
        use sea_orm::{EntityTrait, QueryOrder};
        entities::audit_log::Entity::find()
            .order_by_asc(entities::audit_log::Column::Id)
            .all(self.game.db())
            .await
            .unwrap()
    }

    /// Stops the bot as SIGTERM would and waits for it (a bot that does not stop fails the test).
    pub async fn stop(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(true);
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(30), task)
                .await
                .expect("the bot stops on request")
                .expect("the bot task ends cleanly");
        }
        self.game.db().clone().close().await.ok();
        self.stores.remove().await;
    }
}

/// The Play button of a sent message: the `web_app` URL of its first inline button.
pub fn web_app_url(r: &Recorded) -> Option<String> {
    r.body["reply_markup"]["inline_keyboard"][0][0]["web_app"]["url"]
        .as_str()
        .map(str::to_owned)
}

/// The first inline button's `url`, if any.
pub fn button_url(r: &Recorded) -> Option<String> {
    r.body["reply_markup"]["inline_keyboard"][0][0]["url"]
        .as_str()
        .map(str::to_owned)
}

/// Signed init data for the API, as the Mini App would send it.
pub fn init_data(game: &Game, id: i64) -> String {
    let now = game.now_ms() / 1000;
    game.init_key().sign_user(
        &json!({"id": id, "first_name": "Player", "language_code": "en"}),
        now,
    )
}

/// Starts the HTTP API on a loopback port over `game`; returns its base URL.
pub async fn spawn_api(game: &Game) -> String {
    let state = webapp_api::AppState::new(game.clone(), webapp_api::ApiOptions::default());
    let router = webapp_api::router(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await;
    });
    format!("http://{addr}")
}

/// `GET /api/v1/me` as player `id`: status and body.
pub async fn api_me(base: &str, game: &Game, id: i64) -> (u16, Value) {
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v1/me"))
        .header("authorization", format!("tma {}", init_data(game, id)))
        .send()
        .await
        .expect("the API answers");
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}
