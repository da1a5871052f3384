//! The anti-cheat detector's running state per player, shared by every instance.
//!
//! Three signals need memory between tap batches: how many batches in a row were at the human
//! ceiling (a streak), the running sums of the tap intervals the Mini App reported (count, sum,
//! sum of squares — enough for a mean and a spread), and how many taps in a row came in batches
//! of two or more without intervals (the Mini App always sends them; a script talking to the API
//! straight need not). Each observation updates all three and
//! says when a threshold is crossed; the state that crossed it is reset in the same step, so
//! memory stays O(1) per player and, however many batches of one player race on however many
//! instances, each crossing is reported to exactly one of them. In Redis the step is one Lua
//! script on a hash `ac:<player>` that expires after an hour without batches; in-process it is
//! a map under a lock.

use super::{redis::RedisConn, StoreError};
use crate::rules::GapSums;
use async_trait::async_trait;
use deadpool_redis::redis::Script;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// State untouched this long is forgotten (a streak broken by an hour's pause is broken).
const IDLE: Duration = Duration::from_secs(3600);

/// What one applied tap batch showed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Observation {
    /// The batch was at the human ceiling.
    pub at_ceiling: bool,
    /// The intervals the batch reported.
    pub gaps: GapSums,
    /// Taps of a batch of two or more that came without intervals (0 otherwise).
    pub untimed: i64,
}

/// The thresholds an observation is judged against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// Consecutive batches at the ceiling that make a crossing.
    pub ceiling_batches: i64,
    /// Intervals collected before they are judged.
    pub min_gaps: i64,
    /// Untimed taps in a row that make a crossing (0: never).
    pub untimed_taps: i64,
}

/// What crossed a threshold with this observation (the state behind it is reset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Crossing {
    /// The streak of batches at the ceiling reached `ceiling_batches`.
    pub ceiling: bool,
    /// The intervals collected reached `min_gaps`: here they are, to judge.
    pub gaps: Option<GapSums>,
    /// Taps in a row without intervals reached `untimed_taps`.
    pub untimed: bool,
}

/// Per-player detector state.
#[async_trait]
pub trait SuspicionStore: Send + Sync {
    /// Adds one batch's observation for `player` and reports any threshold crossed.
    async fn observe(
        &self,
        player: i64,
        obs: Observation,
        limits: Thresholds,
    ) -> Result<Crossing, StoreError>;
}

#[derive(Clone, Copy)]
struct Entry {
    streak: i64,
    gaps: GapSums,
    untimed: i64,
    touched: Instant,
}

/// The detector's state in this process.
#[derive(Default)]
pub struct MemorySuspicion {
    players: Mutex<HashMap<i64, Entry>>,
}

#[async_trait]
impl SuspicionStore for MemorySuspicion {
    async fn observe(
        &self,
        player: i64,
        obs: Observation,
        limits: Thresholds,
    ) -> Result<Crossing, StoreError> {
        let now = Instant::now();
        let mut players = self.players.lock().expect("suspicion lock");
        if players.len() > 100_000 {
            players.retain(|_, e| now.duration_since(e.touched) < IDLE);
        }
        let e = players.entry(player).or_insert(Entry {
            streak: 0,
            gaps: GapSums::default(),
            untimed: 0,
            touched: now,
        });
        if now.duration_since(e.touched) >= IDLE {
            e.streak = 0;
            e.gaps = GapSums::default();
            e.untimed = 0;
        }
        e.touched = now;
        let mut crossing = Crossing::default();
        e.streak = if obs.at_ceiling { e.streak + 1 } else { 0 };
        if e.streak >= limits.ceiling_batches {
            e.streak = 0;
            crossing.ceiling = true;
        }
        if obs.gaps.n > 0 {
            e.gaps.n += obs.gaps.n;
            e.gaps.sum += obs.gaps.sum;
            e.gaps.sq += obs.gaps.sq;
            if e.gaps.n >= limits.min_gaps {
                crossing.gaps = Some(std::mem::take(&mut e.gaps));
            }
            e.untimed = 0;
        } else if obs.untimed > 0 {
            e.untimed += obs.untimed;
            if limits.untimed_taps > 0 && e.untimed >= limits.untimed_taps {
                e.untimed = 0;
                crossing.untimed = true;
            }
        }
        Ok(crossing)
    }
}

/// The detector's state in the shared Redis, one hash per player.
pub struct RedisSuspicion {
    conn: RedisConn,
    script: Script,
}

const OBSERVE: &str = r#"
local key = KEYS[1]
local streak = 0
if ARGV[1] == '1' then
  streak = redis.call('HINCRBY', key, 's', 1)
else
  redis.call('HSET', key, 's', 0)
end
local ceiling = 0
if streak >= tonumber(ARGV[5]) then
  redis.call('HSET', key, 's', 0)
  ceiling = 1
end
local n, sum, sq = 0, 0, 0
local untimed = 0
if tonumber(ARGV[2]) > 0 then
  n = redis.call('HINCRBY', key, 'n', ARGV[2])
  sum = redis.call('HINCRBY', key, 'sum', ARGV[3])
  sq = redis.call('HINCRBY', key, 'sq', ARGV[4])
  if n >= tonumber(ARGV[6]) then
    redis.call('HDEL', key, 'n', 'sum', 'sq')
  else
    n, sum, sq = 0, 0, 0
  end
  redis.call('HDEL', key, 'u')
elseif tonumber(ARGV[8]) > 0 then
  local u = redis.call('HINCRBY', key, 'u', ARGV[8])
  if tonumber(ARGV[9]) > 0 and u >= tonumber(ARGV[9]) then
    redis.call('HDEL', key, 'u')
    untimed = 1
  end
end
redis.call('EXPIRE', key, ARGV[7])
return {ceiling, n, sum, sq, untimed}
"#;

impl RedisSuspicion {
    /// The detector's state on `conn`.
    pub fn new(conn: RedisConn) -> Self {
        Self {
            conn,
            script: Script::new(OBSERVE),
        }
    }
}

#[async_trait]
impl SuspicionStore for RedisSuspicion {
    async fn observe(
        &self,
        player: i64,
        obs: Observation,
        limits: Thresholds,
    ) -> Result<Crossing, StoreError> {
        let mut c = self.conn.get().await?;
        let (ceiling, n, sum, sq, untimed): (i64, i64, i64, i64, i64) = self
            .script
            .key(self.conn.key(&format!("ac:{player}")))
            .arg(i64::from(obs.at_ceiling))
            .arg(obs.gaps.n)
            .arg(obs.gaps.sum)
            .arg(obs.gaps.sq)
            .arg(limits.ceiling_batches)
            .arg(limits.min_gaps)
            .arg(IDLE.as_secs())
            .arg(obs.untimed)
            .arg(limits.untimed_taps)
            .invoke_async(&mut c)
            .await?;
        Ok(Crossing {
            ceiling: ceiling == 1,
            gaps: (n > 0).then_some(GapSums { n, sum, sq }),
            untimed: untimed == 1,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Thresholds = Thresholds {
        ceiling_batches: 3,
        min_gaps: 4,
        untimed_taps: 10,
    };

    fn gaps(n: i64, each: i64) -> GapSums {
        GapSums {
            n,
            sum: n * each,
            sq: n * each * each,
        }
    }

    #[tokio::test]
    async fn a_streak_crosses_once_and_starts_again() {
        let s = MemorySuspicion::default();
        let at = Observation {
            at_ceiling: true,
            ..Observation::default()
        };
        let calm = Observation::default();
        assert!(!s.observe(1, at, LIMITS).await.unwrap().ceiling);
        assert!(!s.observe(1, at, LIMITS).await.unwrap().ceiling);
        // A calm batch breaks the streak.
        assert!(!s.observe(1, calm, LIMITS).await.unwrap().ceiling);
        for _ in 0..2 {
            assert!(!s.observe(1, at, LIMITS).await.unwrap().ceiling);
        }
        assert!(s.observe(1, at, LIMITS).await.unwrap().ceiling);
        assert!(!s.observe(1, at, LIMITS).await.unwrap().ceiling);
        // Other players are counted apart.
        assert!(!s.observe(2, at, LIMITS).await.unwrap().ceiling);
    }

    #[tokio::test]
    async fn gaps_are_handed_over_once_enough_are_collected() {
        let s = MemorySuspicion::default();
        let obs = |g| Observation {
            gaps: g,
            ..Observation::default()
        };
        assert_eq!(
            s.observe(1, obs(gaps(3, 50)), LIMITS).await.unwrap().gaps,
            None
        );
        let judged = s.observe(1, obs(gaps(2, 50)), LIMITS).await.unwrap().gaps;
        assert_eq!(judged, Some(gaps(5, 50)));
        assert_eq!(
            s.observe(1, obs(gaps(1, 50)), LIMITS).await.unwrap().gaps,
            None
        );
    }

    #[tokio::test]
    async fn untimed_taps_cross_once_and_timed_batches_start_the_count_again() {
        let s = MemorySuspicion::default();
        let untimed = |n| Observation {
            untimed: n,
            ..Observation::default()
        };
        assert!(!s.observe(1, untimed(6), LIMITS).await.unwrap().untimed);
        // A batch that carries intervals starts the count again.
        let timed = Observation {
            gaps: gaps(3, 80),
            ..Observation::default()
        };
        assert!(!s.observe(1, timed, LIMITS).await.unwrap().untimed);
        assert!(!s.observe(1, untimed(6), LIMITS).await.unwrap().untimed);
        assert!(s.observe(1, untimed(4), LIMITS).await.unwrap().untimed);
        assert!(!s.observe(1, untimed(9), LIMITS).await.unwrap().untimed);
        // 0: the signal is off.
        let off = Thresholds {
            untimed_taps: 0,
            ..LIMITS
        };
        assert!(!s.observe(2, untimed(1_000_000), off).await.unwrap().untimed);
    }
}
