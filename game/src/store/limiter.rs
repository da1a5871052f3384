//! Rate limits by GCRA (the generic cell rate algorithm), per player and per client address.
//!
//! GCRA keeps one number per key — the theoretical arrival time (TAT) of the next call — so a
//! check is one read and one write. In Redis both happen inside one Lua script, using Redis's own
//! clock, so every instance shares the same limit and no two calls can interleave between the
//! read and the write. A call is allowed when `TAT - now <= burst × interval`; it then pushes
//! the TAT one interval further.

use super::{redis::RedisConn, StoreError};
use async_trait::async_trait;
use deadpool_redis::redis::Script;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// A sustained rate with a burst above it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rate {
    /// Calls per second, sustained.
    pub per_second: u32,
    /// Calls allowed above the rate at once.
    pub burst: u32,
}

impl Rate {
    fn interval_us(self) -> u64 {
        1_000_000 / u64::from(self.per_second.max(1))
    }

    fn tolerance_us(self) -> u64 {
        self.interval_us() * u64::from(self.burst)
    }
}

/// A limiter's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refused; try again after this many milliseconds.
    Deny {
        /// Milliseconds until a call would be allowed.
        retry_after_ms: u64,
    },
}

/// Counts calls against a [`Rate`] per key.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one call for `key` and says whether it may go ahead.
    async fn check(&self, key: &str, rate: Rate) -> Result<Decision, StoreError>;
}

/// GCRA over a map in this process.
#[derive(Default)]
pub struct MemoryLimiter {
    start: std::sync::OnceLock<Instant>,
    tats: Mutex<HashMap<String, u64>>,
}

impl MemoryLimiter {
    fn now_us(&self) -> u64 {
        self.start.get_or_init(Instant::now).elapsed().as_micros() as u64
    }
}

#[async_trait]
impl RateLimiter for MemoryLimiter {
    async fn check(&self, key: &str, rate: Rate) -> Result<Decision, StoreError> {
        let now = self.now_us();
        let mut tats = self.tats.lock().expect("limiter lock");
        if tats.len() > 100_000 {
            // Forget keys whose TAT has passed: they are back to a full burst anyway.
            tats.retain(|_, tat| *tat > now);
        }
        let tat = tats.get(key).copied().unwrap_or(now).max(now);
        let allow_at = tat.saturating_sub(rate.tolerance_us());
        if now < allow_at {
            return Ok(Decision::Deny {
                retry_after_ms: (allow_at - now).div_ceil(1000),
            });
        }
        tats.insert(key.to_owned(), tat + rate.interval_us());
        Ok(Decision::Allow)
    }
}

/// GCRA in one Lua script on the shared Redis.
pub struct RedisLimiter {
    conn: RedisConn,
    script: Script,
}

const GCRA: &str = r#"
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allow_at = tat - tolerance
if now < allow_at then
  return allow_at - now
end
local new_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)
return 0
"#;

impl RedisLimiter {
    /// A limiter on `conn`.
    pub fn new(conn: RedisConn) -> Self {
        Self {
            conn,
            script: Script::new(GCRA),
        }
    }
}

#[async_trait]
impl RateLimiter for RedisLimiter {
    async fn check(&self, key: &str, rate: Rate) -> Result<Decision, StoreError> {
        let mut c = self.conn.get().await?;
        let wait_us: u64 = self
            .script
            .key(self.conn.key(&format!("rl:{key}")))
            .arg(rate.interval_us())
            .arg(rate.tolerance_us())
            .invoke_async(&mut c)
            .await?;
        Ok(if wait_us == 0 {
            Decision::Allow
        } else {
            Decision::Deny {
                retry_after_ms: wait_us.div_ceil(1000),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_burst_then_refusal_with_a_wait() {
        let l = MemoryLimiter::default();
        let rate = Rate {
            per_second: 1,
            burst: 3,
        };
        for _ in 0..4 {
            assert_eq!(l.check("p", rate).await.unwrap(), Decision::Allow);
        }
        match l.check("p", rate).await.unwrap() {
            Decision::Deny { retry_after_ms } => {
                assert!(retry_after_ms > 0 && retry_after_ms <= 1000)
            }
            Decision::Allow => panic!("the fifth call within a second must be refused"),
        }
        // Other keys are counted apart.
        assert_eq!(l.check("q", rate).await.unwrap(), Decision::Allow);
    }
}
