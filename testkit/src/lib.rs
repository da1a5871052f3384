//! Test support shared by tapwave's crates: fresh, isolated stores on either backend.
//!
//! Every test gets its own database — a SQLite file in a temporary folder, or a new PostgreSQL
//! database — and, on the PostgreSQL backend, its own Redis key prefix, so tests run in parallel
//! without seeing each other. PostgreSQL and Redis must be reachable: a test on that backend fails
//! loudly instead of skipping (the test command, `scripts/test.sh`, starts them).
//! `TAPWAVE_TEST_DATABASE_URL` and `TAPWAVE_TEST_REDIS_URL` point elsewhere.

pub mod crowd;

use deadpool_redis::redis::AsyncCommands;
use sea_orm::{ConnectionTrait, Database};
use std::path::PathBuf;

/// Which stores an app runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite file + in-process stores.
    Sqlite,
    /// PostgreSQL + Redis.
    Postgres,
}

pub fn pg_admin_url() -> String {
    std::env::var("TAPWAVE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TAPWAVE_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

pub fn random_name(prefix: &str) -> String {
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

    /// Deletes this deployment's keys from Redis, as a Redis restarted without persistence
    /// loses them; answers how many there were (0 without Redis).
    pub async fn clear_redis(&self) -> usize {
        let Some(url) = &self.redis_url else { return 0 };
        let Ok(client) = deadpool_redis::redis::Client::open(url.as_str()) else {
            return 0;
        };
        let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
            return 0;
        };
        let keys: Vec<String> = conn
            .keys(format!("{}*", self.prefix))
            .await
            .unwrap_or_default();
        if keys.is_empty() {
            return 0;
        }
        let n = keys.len();
        let _: Result<(), _> = conn.del(keys).await;
        n
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
        self.clear_redis().await;
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
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
                    super::$name($crate::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    super::$name($crate::Backend::Postgres).await
                }
            }
        )*
    };
}
