//! `spawn_app()`: the real application on a random port with fresh stores (from `testkit`), on
//! either backend.

use game::{Clock, Game, InitDataKey, ManualClock, SystemClock};
use reqwest::{header::HeaderMap, Client, StatusCode};
use serde_json::{json, Value};
use std::sync::Arc;
use tapwave::config::{Command, Config};
pub use testkit::{Backend, Stores};
use tokio::sync::oneshot;

/// The bot token the tests sign init data with.
pub const TOKEN: &str = "123456:TEST-token_for_tapwave";

/// How to start an app.
#[derive(Clone)]
pub struct Options {
    /// A game file's text.
    pub game_toml: &'static str,
    /// `BOT_TOKEN`; `None` enables the demo login.
    pub bot_token: Option<&'static str>,
    /// `TRUSTED_PROXIES`.
    pub trusted_proxies: usize,
    /// `INIT_DATA_MAX_AGE`.
    pub max_age: i64,
    /// A clock to use instead of the system's.
    pub clock: Option<Arc<ManualClock>>,
    /// `TELEGRAM_API_URL` (a fake Bot API's), instead of Telegram's.
    pub telegram_api_url: Option<String>,
}

/// Generous limits, so that only the tests about limits meet them.
pub const ROOMY: &str = "[limits]\nplayer_per_second = 10000\nplayer_burst = 10000\nip_per_second = 100000\nip_burst = 100000\n";

/// The defaults with the game file `toml`, on a clock the test moves, set to 2027-01-15 08:00 UTC
/// (the day has hours left either way).
pub fn clocked(toml: &'static str) -> (Options, Arc<ManualClock>) {
    clocked_at(toml, 1_800_000_000_000)
}

/// [`clocked`], the clock set to `ms` (unix milliseconds).
pub fn clocked_at(toml: &'static str, ms: i64) -> (Options, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(ms));
    (
        Options {
            game_toml: toml,
            clock: Some(clock.clone()),
            ..Options::default()
        },
        clock,
    )
}

impl Options {
    /// The defaults with another game file.
    pub fn game(game_toml: &'static str) -> Options {
        Options {
            game_toml,
            ..Options::default()
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            game_toml: ROOMY,
            bot_token: Some(TOKEN),
            trusted_proxies: 0,
            max_age: 86_400,
            clock: None,
            telegram_api_url: None,
        }
    }
}

/// A running app and a client for it.
pub struct TestApp {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The app's game services (for looking at the database behind the API).
    pub game: Game,
    /// The key that signs init data for this app.
    pub key: InitDataKey,
    /// HTTP client.
    pub client: Client,
    clock: Arc<dyn Clock>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// A response, read.
#[derive(Debug)]
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body as JSON (`Value::Null` if not JSON).
    pub body: Value,
}

impl Answer {
    /// Asserts this is API.md's error body with `status` and `code`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(self.status.as_u16(), status, "status of {:?}", self.body);
        assert_eq!(self.body["error"]["code"], code, "code of {:?}", self.body);
        let message = self.body["error"]["message"].as_str().unwrap_or_default();
        assert!(
            !message.is_empty(),
            "an error has a message: {:?}",
            self.body
        );
        assert_eq!(
            self.body.as_object().map(|o| o.len()),
            Some(1),
            "only `error` in {:?}",
            self.body
        );
    }
}

/// Starts an app on fresh stores.
pub async fn spawn_app(backend: Backend) -> (TestApp, Stores) {
    spawn_with(backend, Options::default()).await
}

/// Starts an app on fresh stores with options.
pub async fn spawn_with(backend: Backend, options: Options) -> (TestApp, Stores) {
    let stores = Stores::fresh(backend).await;
    let app = start(&stores, options).await;
    (app, stores)
}

/// Starts an app on existing stores (a second instance of the same game).
pub async fn start(stores: &Stores, options: Options) -> TestApp {
    let mut cfg = Config::defaults(Command::Serve);
    cfg.database_url = stores.database_url.clone();
    cfg.redis_url = stores.redis_url.clone();
    cfg.redis_key_prefix = stores.prefix.clone();
    cfg.bot_token = options.bot_token.map(str::to_owned);
    cfg.game = game::GameConfig::parse(options.game_toml).expect("test game file");
    cfg.trusted_proxies = options.trusted_proxies;
    if let Some(url) = &options.telegram_api_url {
        cfg.telegram_api_url = url.clone();
    }
    cfg.init_data_max_age = options.max_age;
    cfg.db_max_connections = 10;
    let clock: Arc<dyn Clock> = match &options.clock {
        Some(c) => c.clone(),
        None => Arc::new(SystemClock),
    };
    let app = tapwave::App::start_with_clock(&cfg, clock.clone())
        .await
        .expect("app starts");
    let game = app.game.clone();
    let key = game.init_key().clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(app.serve(listener, async move {
        let _ = rx.await;
    }));
    TestApp {
        base: format!("http://{addr}"),
        game,
        key,
        client: Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .unwrap(),
        clock,
        shutdown: Some(tx),
        task: Some(task),
    }
}

impl TestApp {
    /// Init data for a user, signed now by this app's clock.
    pub fn init_data(&self, id: i64, first_name: &str) -> String {
        self.key.sign_user(
            &json!({"id": id, "first_name": first_name, "language_code": "en"}),
            self.clock.now_ms() / 1000,
        )
    }

    /// `Authorization` value for a user.
    pub fn auth(&self, id: i64) -> String {
        format!("tma {}", self.init_data(id, &format!("Player{id}")))
    }

    /// Sends a request; `auth` is the whole `Authorization` value.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .client
            .request(method, format!("{}{}", self.base, path));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let res = req.send().await.expect("request sent");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.bytes().await.unwrap_or_default();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `GET` with a player's auth.
    pub async fn get(&self, path: &str, player: i64) -> Answer {
        self.call("GET", path, Some(&self.auth(player)), None).await
    }

    /// `POST /api/v1/taps`.
    pub async fn taps(&self, player: i64, count: i64, seq: i64) -> Answer {
        self.call(
            "POST",
            "/api/v1/taps",
            Some(&self.auth(player)),
            Some(json!({"count": count, "seq": seq})),
        )
        .await
    }

    /// Gives `player` `coins` by tapping (the game file must allow a batch that large) and a
    /// wallet of their own.
    pub async fn fund_with_wallet(&self, player: i64, coins: i64) {
        let taps = self.taps(player, coins, 1).await;
        assert_eq!(taps.body["balance"], coins, "{:?}", taps.body);
        let body = json!({"address": wallet_of(player)});
        let w = self
            .call(
                "PUT",
                "/api/v1/wallet",
                Some(&self.auth(player)),
                Some(body),
            )
            .await;
        assert_eq!(w.status, 200, "{:?}", w.body);
    }

    /// Starts `friend` as a player invited by `referrer`, as the bot's `/start ref_…` does, and
    /// checks that the invitation was bound.
    pub async fn invite(&self, referrer: i64, friend: i64, name: &str, premium: bool) {
        let user = game::TelegramUser {
            id: friend,
            first_name: name.to_owned(),
            last_name: None,
            username: None,
            language_code: None,
            is_premium: premium,
        };
        let started = self.game.start_player(&user, Some(referrer)).await.unwrap();
        assert_eq!(started.referrer, Some(referrer));
    }

    /// The sum of a player's ledger, read from the database.
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

    /// Checks a player's books and answers their balance: `GET /me`'s balance is never negative
    /// and equals the sum of the ledger, and its coins ever earned equal the ledger's earning rows.
    pub async fn books(&self, player: i64) -> i64 {
        use entities::ledger;
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let me = self.get("/api/v1/me", player).await;
        assert_eq!(me.status, 200, "{:?}", me.body);
        let balance = me.body["balance"].as_i64().unwrap();
        assert!(balance >= 0, "player {player}: {balance}");
        assert_eq!(balance, self.ledger_sum(player).await, "player {player}");
        let earned: i64 = ledger::Entity::find()
            .filter(ledger::Column::PlayerId.eq(player))
            .filter(ledger::Column::Kind.is_in(game::economy::EARNING_KINDS.iter().copied()))
            .all(self.game.db())
            .await
            .unwrap()
            .iter()
            .map(|r| r.amount)
            .sum();
        assert_eq!(me.body["total_earned"], earned, "player {player}");
        balance
    }

    /// Stops the server (graceful) and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap().unwrap();
        }
    }
}

/// A standard wallet address of each player's own (raw form).
pub fn wallet_of(player: i64) -> String {
    let mut seed = [0u8; 32];
    seed[..8].copy_from_slice(&player.to_le_bytes());
    game::ton::TestWallet::new(
        seed,
        game::ton::WalletKind::V4R2,
        game::ton::Workchain::Basechain,
    )
    .address()
    .to_raw()
}
