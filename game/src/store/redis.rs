//! The Redis connection shared by the Redis-backed stores: a pool and the key prefix.
//!
//! Every key tapwave writes starts with the prefix (`REDIS_KEY_PREFIX`), so several games, or
//! several test runs, can share one Redis without seeing each other.

use super::StoreError;
use deadpool_redis::{Config, Pool, Runtime};

/// A pool of Redis connections and the prefix of every key.
#[derive(Clone)]
pub struct RedisConn {
    pool: Pool,
    prefix: String,
}

impl RedisConn {
    /// Builds the pool (connections open lazily) for `url`, e.g. `redis://127.0.0.1:6379`.
    pub fn new(url: &str, prefix: &str, max_size: usize) -> Result<Self, StoreError> {
        let mut cfg = Config::from_url(url);
        cfg.pool = Some(deadpool_redis::PoolConfig::new(max_size));
        let pool = cfg
            .create_pool(Some(Runtime::Tokio1))
            .map_err(|e| StoreError(e.to_string()))?;
        Ok(Self {
            pool,
            prefix: prefix.to_owned(),
        })
    }

    /// A connection from the pool.
    pub async fn get(&self) -> Result<deadpool_redis::Connection, StoreError> {
        Ok(self.pool.get().await?)
    }

    /// The full key for a name.
    pub fn key(&self, name: &str) -> String {
        format!("{}{}", self.prefix, name)
    }

    /// Answers when Redis answers `PING`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.get().await?;
        let _: String = deadpool_redis::redis::cmd("PING")
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}
