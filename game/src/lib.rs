//! tapwave's game: the rules, and the services that apply them through the stores.
//!
//! Adapters (the HTTP API now; the bot and the worker later) hold one [`Game`] and call one method
//! per request. The rules in [`rules`] are pure; this crate's services load state, call a rule with
//! the server clock's `now`, and store the result with a compare-and-swap on the player's row
//! version, so no interleaving of requests on one instance or many can apply a result computed
//! from stale state.

pub mod admin;
pub mod anticheat;
pub mod boosts;
pub mod broadcasts;
pub mod claims;
pub mod clock;
pub mod config;
pub mod daily_loops;
pub mod economy;
pub mod exports;
pub mod init_data;
pub mod rules;
pub mod shares;
pub mod store;
pub mod tasks;
pub mod ton;
pub mod wallets;

mod players;
mod referrals;

pub use admin::{BanChange, Granted, Stats};
pub use anticheat::{FlagReason, Suspect};
pub use boosts::BoostView;
pub use broadcasts::{BroadcastJob, BroadcastProgress, Courier, Delivery, DeliveryStatus};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::GameConfig;
pub use daily_loops::{CipherView, ComboView, RewardView};
pub use economy::{DailyView, EconomyError, FriendView, ReferralsView, UpgradeView};
pub use exports::ExportStep;
pub use init_data::{InitData, InitDataError, InitDataKey, TelegramUser};
pub use players::{Board, LeaderboardEntry, LeaderboardView, MyRank, PlayerView, TapResult};
pub use referrals::{parse_referral, Standing, Started};
pub use rules::{GapSums, TapBatch, TapBatchError};
pub use shares::Collected;
pub use store::{Decision, Rate, StoreError};
pub use tasks::{ChatMembers, MembershipError, TaskCheck, TaskView};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use std::sync::Arc;
use store::redis::RedisConn;
use store::{Leaderboard, RateLimiter, SessionCache, SuspicionStore};

/// What a [`Game`] is opened with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// `postgres://…` or `sqlite://…`.
    pub database_url: String,
    /// `redis://…`; `None` for the in-process stores.
    pub redis_url: Option<String>,
    /// Prefix of every Redis key.
    pub redis_prefix: String,
    /// Checks (and, for the demo login, signs) init data.
    pub init_key: InitDataKey,
    /// Seconds an init data signature stays valid.
    pub init_data_max_age: i64,
    /// The economy and limits.
    pub game: GameConfig,
    /// Database pool size.
    pub db_max_connections: u32,
}

/// Why a game operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GameError {
    /// Init data missing its signature, expired, or forged.
    #[error(transparent)]
    Auth(#[from] InitDataError),
    /// The player is banned.
    #[error("this player is banned")]
    Banned,
    /// No such player.
    #[error("no such player")]
    UnknownPlayer,
    /// A tap batch that cannot be read.
    #[error(transparent)]
    InvalidTaps(#[from] TapBatchError),
    /// Too many concurrent changes to one player; the client should retry.
    #[error("too many concurrent changes to this player; try again")]
    Contended,
    /// Redis failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A grant amount outside `1..=admin::MAX_GRANT`, or one that would overflow the balance.
    #[error("the amount must be a whole number from 1 to 1000000000000")]
    InvalidAmount,
    /// A broadcast text that is empty or longer than one Telegram message.
    #[error("the text must have 1 to 4096 characters")]
    InvalidText,
    /// No such broadcast.
    #[error("no such broadcast")]
    UnknownBroadcast,
    /// A claim refused or a payout step not allowed.
    #[error(transparent)]
    Claim(#[from] claims::ClaimError),
    /// A wallet refused.
    #[error(transparent)]
    Wallet(#[from] wallets::WalletError),
    /// An upgrade or reward refused.
    #[error(transparent)]
    Economy(#[from] economy::EconomyError),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] DbErr),
}

impl GameError {
    /// Whether the failure is a dependency being unreachable (answer 503) rather than a bug.
    pub fn is_unavailable(&self) -> bool {
        match self {
            GameError::Store(_) | GameError::Contended => true,
            GameError::Database(e) => matches!(e, DbErr::ConnectionAcquire(_) | DbErr::Conn(_)),
            _ => false,
        }
    }
}

/// The game: configuration, clock and stores, cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Game {
    inner: Arc<Inner>,
}

struct Inner {
    db: DatabaseConnection,
    redis: Option<RedisConn>,
    cfg: GameConfig,
    key: InitDataKey,
    max_age: i64,
    clock: Arc<dyn Clock>,
    sessions: Arc<dyn SessionCache>,
    limiter: Arc<dyn RateLimiter>,
    board: Arc<dyn Leaderboard>,
    /// The anti-cheat detector's per-player state.
    suspicion: Arc<dyn SuspicionStore>,
    /// Serialises writes on SQLite, which has one writer at a time anyway: waiting here is
    /// cheaper and fairer than SQLite's busy handler, which sleeps up to 100 ms between tries.
    sqlite_writes: tokio::sync::Mutex<()>,
    /// Channel membership answers of the last minute (tasks).
    members: tasks::MemberCache,
}

impl Game {
    /// Connects to the database and, if configured, Redis; builds the stores. Does not migrate.
    pub async fn open(settings: &Settings, clock: Arc<dyn Clock>) -> Result<Game, GameError> {
        let db = store::db::connect(&settings.database_url, settings.db_max_connections).await?;
        let redis = match &settings.redis_url {
            Some(url) => {
                let conn = RedisConn::new(url, &settings.redis_prefix, 64)?;
                conn.ping().await?;
                Some(conn)
            }
            None => None,
        };
        Ok(Self::with_parts(db, redis, settings, clock))
    }

    /// Builds a game over an open database and optional Redis.
    pub fn with_parts(
        db: DatabaseConnection,
        redis: Option<RedisConn>,
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> Game {
        let (sessions, limiter, board): (
            Arc<dyn SessionCache>,
            Arc<dyn RateLimiter>,
            Arc<dyn Leaderboard>,
        ) = match &redis {
            Some(conn) => (
                Arc::new(store::RedisSessions::new(conn.clone())),
                Arc::new(store::RedisLimiter::new(conn.clone())),
                Arc::new(store::RedisLeaderboard::new(conn.clone())),
            ),
            None => (
                Arc::new(store::MemorySessions::default()),
                Arc::new(store::MemoryLimiter::default()),
                Arc::new(store::MemoryLeaderboard::default()),
            ),
        };
        let suspicion: Arc<dyn SuspicionStore> = match &redis {
            Some(conn) => Arc::new(store::RedisSuspicion::new(conn.clone())),
            None => Arc::new(store::MemorySuspicion::default()),
        };
        Game {
            inner: Arc::new(Inner {
                db,
                redis,
                cfg: settings.game.clone(),
                key: settings.init_key.clone(),
                max_age: settings.init_data_max_age,
                clock,
                sessions,
                limiter,
                board,
                suspicion,
                sqlite_writes: tokio::sync::Mutex::new(()),
                members: tasks::MemberCache::default(),
            }),
        }
    }

    /// The game file in force.
    pub fn config(&self) -> &GameConfig {
        &self.inner.cfg
    }

    /// The database (the record).
    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.db
    }

    /// The key that checks init data.
    pub fn init_key(&self) -> &InitDataKey {
        &self.inner.key
    }

    /// Now, by the game's clock, in unix ms.
    pub fn now_ms(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// Whether Redis is in use (the shared stores) rather than the in-process ones.
    pub fn uses_redis(&self) -> bool {
        self.inner.redis.is_some()
    }

    /// On SQLite, the process-wide write turn, held for the whole write; `None` elsewhere.
    pub async fn sqlite_writer(&self) -> Option<tokio::sync::MutexGuard<'_, ()>> {
        match self.inner.db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => Some(self.inner.sqlite_writes.lock().await),
            _ => None,
        }
    }

    /// Counts one call against `rate` for `key` (`p:<id>` for players, `ip:<addr>` for addresses).
    pub async fn check_rate(&self, key: &str, rate: Rate) -> Result<Decision, GameError> {
        Ok(self.inner.limiter.check(key, rate).await?)
    }

    /// Answers when the database, and Redis if configured, answer.
    pub async fn ready(&self) -> Result<(), GameError> {
        self.inner.db.ping().await?;
        if let Some(redis) = &self.inner.redis {
            redis.ping().await?;
        }
        Ok(())
    }
}
