//! `spawn_app()`: the real application on a random port with a fresh database, on either backend.
//!
//! Every test gets its own database — a SQLite file in a temporary folder, or a new PostgreSQL
//! database — and, on the PostgreSQL backend, its own Redis key prefix, so tests run in parallel
//! without seeing each other. PostgreSQL and Redis must be reachable: a test on that backend fails
//! loudly instead of skipping (the test command starts them; see `scripts/test.sh`).

use deadpool_redis::redis::AsyncCommands;
use game::{Clock, Game, InitDataKey, ManualClock, SystemClock};
use reqwest::{header::HeaderMap, Client, StatusCode};
use sea_orm::{ConnectionTrait, Database};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use tapwave::config::{Command, Config};
use tokio::sync::oneshot;

/// The bot token the tests sign init data with.
pub const TOKEN: &str = "123456:TEST-token_for_tapwave";

/// Which stores an app runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + in-process stores.
    Sqlite,
    /// PostgreSQL + Redis.
    Postgres,
}

fn pg_admin_url() -> String {
    std::env::var("TAPWAVE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

fn redis_url() -> String {
    std::env::var("TAPWAVE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

fn random_name(prefix: &str) -> String {
    format!("{prefix}{:016x}", rand::random::<u64>())
}

/// Where an app's data lives; shared by apps that should see the same game.
#[derive(Clone, Debug)]
pub struct Stores {
    /// Database URL.
    pub database_url: String,
    /// Redis URL (PostgreSQL backend only).
    pub redis_url: Option<String>,
    /// Redis key prefix.
    pub prefix: String,
    pg_database: Option<String>,
    dir: Option<PathBuf>,
}

impl Stores {
    /// Fresh, empty stores for one test.
    pub async fn fresh(backend: Backend) -> Stores {
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(random_name("tapwave-test-"));
                std::fs::create_dir_all(&dir).unwrap();
                Stores {
                    database_url: format!("sqlite://{}/tapwave.db?mode=rwc", dir.display()),
                    redis_url: None,
                    prefix: "unused:".into(),
                    pg_database: None,
                    dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let admin = pg_admin_url();
                let db = Database::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is not reachable at {admin} ({e}); run the tests with scripts/test.sh, which starts it")
                });
                let name = random_name("tapwave_t_");
                db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                db.close().await.ok();
                let base = admin.rsplit_once('/').map(|(b, _)| b.to_owned()).unwrap();
                let redis = redis_url();
                let client = deadpool_redis::redis::Client::open(redis.as_str()).unwrap();
                let mut conn = client.get_multiplexed_async_connection().await.unwrap_or_else(|e| {
                    panic!("Redis is not reachable at {redis} ({e}); run the tests with scripts/test.sh, which starts it")
                });
                let _: String = deadpool_redis::redis::cmd("PING")
                    .query_async(&mut conn)
                    .await
                    .unwrap();
                Stores {
                    database_url: format!("{base}/{name}"),
                    redis_url: Some(redis),
                    prefix: format!("{}:", random_name("tapwave-test-")),
                    pg_database: Some(name),
                    dir: None,
                }
            }
        }
    }

    /// Removes the database, folder and Redis keys.
    pub async fn remove(self) {
        if let Some(name) = &self.pg_database {
            if let Ok(db) = Database::connect(&pg_admin_url()).await {
                let _ = db
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await;
                db.close().await.ok();
            }
        }
        if let Some(url) = &self.redis_url {
            if let Ok(client) = deadpool_redis::redis::Client::open(url.as_str()) {
                if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                    let keys: Vec<String> = conn
                        .keys(format!("{}*", self.prefix))
                        .await
                        .unwrap_or_default();
                    if !keys.is_empty() {
                        let _: Result<(), _> = conn.del(keys).await;
                    }
                }
            }
        }
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// How to start an app.
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
}

/// Generous limits, so that only the tests about limits meet them.
pub const ROOMY: &str = "[limits]\nplayer_per_second = 10000\nplayer_burst = 10000\nip_per_second = 100000\nip_burst = 100000\n";

impl Default for Options {
    fn default() -> Self {
        Options {
            game_toml: ROOMY,
            bot_token: Some(TOKEN),
            trusted_proxies: 0,
            max_age: 86_400,
            clock: None,
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

/// Runs a test body once per backend: `both_backends!(name, …)` makes `name::sqlite` and
/// `name::postgres` from `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    super::$name($crate::support::Backend::Postgres).await
                }
            }
        )*
    };
}
