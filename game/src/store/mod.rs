//! The stores the services act through: the database (the record) and the shared fast stores.
//!
//! The fast stores — rate limiter, session cache, leaderboard — are traits with two
//! implementations each: Redis, shared by every instance (`REDIS_URL` set), and in-process, for
//! the embedded default. The services hold `Arc<dyn …>` and cannot tell them apart, which is what
//! lets one test suite run on both.

pub mod db;
pub mod leaderboard;
pub mod limiter;
pub mod redis;
pub mod sessions;
pub mod suspicion;

pub use leaderboard::{BoardRow, Leaderboard, MemoryLeaderboard, RedisLeaderboard};
pub use limiter::{Decision, MemoryLimiter, Rate, RateLimiter, RedisLimiter};
pub use sessions::{MemorySessions, RedisSessions, Session, SessionCache};
pub use suspicion::{MemorySuspicion, RedisSuspicion, SuspicionStore};

/// A fast store failed (Redis unreachable, a script error).
#[derive(Debug, thiserror::Error)]
#[error("shared store: {0}")]
pub struct StoreError(pub String);

impl From<deadpool_redis::redis::RedisError> for StoreError {
    fn from(e: deadpool_redis::redis::RedisError) -> Self {
        StoreError(e.to_string())
    }
}

impl From<deadpool_redis::PoolError> for StoreError {
    fn from(e: deadpool_redis::PoolError) -> Self {
        StoreError(e.to_string())
    }
}
