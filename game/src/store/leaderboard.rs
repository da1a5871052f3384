//! The global leaderboard: players ordered by balance, with ranks that share ties.
//!
//! Writes carry the player's row version, and a write older than the one already recorded is
//! ignored: two instances committing batches for one player may report in either order, and the
//! board still ends on the newest balance. Rank is `1 + players with a strictly higher balance`.
//! In Redis it is a sorted set (scores are exact for balances below 2^53) plus a hash of versions,
//! updated together by one Lua script.
//!
//! The weekly board orders players by coins earned in one ISO week (UTC). Each write carries the
//! player's row version and coins ever earned; the board keeps the last of both it saw per player
//! and adds the growth since then to the week's score, so a replayed or late write adds nothing
//! and a lost write is made up by the next one (at-least-once attempts, counted exactly once; only
//! a write lost at the turn of a week may land in the next week). In Redis each week is its own
//! sorted set (`lb:week:<2026-W49>`, expiring after five weeks) beside one hash of the last writes.
//!
//! The boards are filled from the database when they are empty: at start-up and, by the worker,
//! whenever a Redis that restarted or failed over comes back without them. Each player is put
//! back as of one row version with their coins ever earned and this week's earnings summed from
//! the ledger in the same statement, and filling ends by marking the store seeded (`lb:seeded`).
//! A player first seen by a seeded board is new and counts all their coins into the week; on a
//! board not yet seeded a write for a player it does not know is left to the filling (which reads
//! the newer row or is overtaken by the next write), so a lost Redis neither forgets this week's
//! coins nor counts a player's coins of earlier weeks again.
//!
//! The same writes keep a board of coins ever earned (`lb:total`), from which the league boards
//! are read: a league is a range of coins ever earned (`[leagues]`), so its board is the slice of
//! `lb:total` between its threshold and the next one. Removing a player (a ban) takes them off the
//! global, total and current week's boards; an unban puts them back with their week read from the
//! ledger.

use super::{redis::RedisConn, StoreError};
use async_trait::async_trait;
use deadpool_redis::redis::{AsyncCommands, Script};
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;

/// Players by balance.
#[async_trait]
pub trait Leaderboard: Send + Sync {
    /// Records a player's balance as of row `version`, unless a newer version is recorded.
    async fn record(&self, player: i64, version: i64, balance: i64) -> Result<(), StoreError>;
    /// Takes a player (banned, deleted) off the global, total and `week`'s boards.
    async fn remove(&self, player: i64, week: &str) -> Result<(), StoreError>;
    /// The `limit` highest balances, highest first: `(player, balance)`.
    async fn top(&self, limit: usize) -> Result<Vec<(i64, i64)>, StoreError>;
    /// `1 +` the number of players with a balance strictly higher than `balance`.
    async fn rank_of(&self, balance: i64) -> Result<u64, StoreError>;
    /// Whether the boards were filled from the database since the store was last empty.
    async fn is_seeded(&self) -> Result<bool, StoreError>;
    /// Marks the boards filled from the database.
    async fn mark_seeded(&self) -> Result<(), StoreError>;
    /// Adds to `week`'s score the coins earned since the last write, as of row `version` with
    /// `total_earned` coins ever earned; nothing unless `version` is newer than the last write.
    async fn record_earned(
        &self,
        week: &str,
        player: i64,
        version: i64,
        total_earned: i64,
    ) -> Result<(), StoreError>;
    /// The `limit` highest scores of `week`, highest first: `(player, coins earned)`.
    async fn week_top(&self, week: &str, limit: usize) -> Result<Vec<(i64, i64)>, StoreError>;
    /// A player's coins earned in `week` (0 if none).
    async fn week_score(&self, week: &str, player: i64) -> Result<i64, StoreError>;
    /// `1 +` the number of players who earned strictly more than `score` in `week`.
    async fn week_rank_of(&self, week: &str, score: i64) -> Result<u64, StoreError>;
    /// The `limit` highest totals of coins ever earned in `[min, below)` (`below: None`: no upper
    /// bound), highest first: `(player, coins ever earned)`.
    async fn total_top(
        &self,
        min: i64,
        below: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, i64)>, StoreError>;
    /// `1 +` the number of players whose coins ever earned are strictly above `score` and below
    /// `below` (`None`: no bound).
    async fn total_rank_of(&self, score: i64, below: Option<i64>) -> Result<u64, StoreError>;
    /// Puts players back on every board as of their rows (filling the boards from the database,
    /// or lifting a ban): the balance on the global board (when above 0), coins ever earned, and
    /// this `week`'s earnings. A board that holds a write as new as a row's version keeps it.
    async fn restore(&self, week: &str, rows: &[BoardRow]) -> Result<(), StoreError>;
}

/// A player as one statement read them from the database, to put back on the boards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoardRow {
    pub player: i64,
    /// The row version the other fields are of.
    pub version: i64,
    pub balance: i64,
    pub total_earned: i64,
    /// Coins of `total_earned` earned in the week being restored.
    pub week_earned: i64,
}

/// Players put back per Redis round trip.
const RESTORE_CHUNK: usize = 500;

#[derive(Default)]
struct Board {
    order: BTreeSet<(std::cmp::Reverse<i64>, i64)>,
    players: HashMap<i64, (i64, i64)>,
}

impl Board {
    fn top(&self, limit: usize) -> Vec<(i64, i64)> {
        self.order
            .iter()
            .take(limit)
            .map(|(std::cmp::Reverse(bal), id)| (*id, *bal))
            .collect()
    }

    fn rank_of(&self, score: i64) -> u64 {
        // Entries sort by descending score, so those strictly higher come before (score, MIN).
        let higher = self
            .order
            .range(..(std::cmp::Reverse(score), i64::MIN))
            .count();
        1 + higher as u64
    }
}

impl Board {
    fn set(&mut self, player: i64, score: i64) {
        if let Some(&(_, old)) = self.players.get(&player) {
            self.order.remove(&(std::cmp::Reverse(old), player));
        }
        self.players.insert(player, (0, score));
        self.order.insert((std::cmp::Reverse(score), player));
    }

    fn forget(&mut self, player: i64) {
        if let Some((_, old)) = self.players.remove(&player) {
            self.order.remove(&(std::cmp::Reverse(old), player));
        }
    }
}

/// The board in this process.
#[derive(Default)]
pub struct MemoryLeaderboard {
    board: Mutex<Board>,
    weeks: Mutex<Weeks>,
}

#[derive(Default)]
struct Weeks {
    /// The last write per player: `(version, total_earned)`.
    last: HashMap<i64, (i64, i64)>,
    /// Per week, players by coins earned (the version in `Board` is unused here).
    boards: HashMap<String, Board>,
    /// Players by coins ever earned.
    total: Board,
    /// Filled from the database.
    seeded: bool,
}

#[async_trait]
impl Leaderboard for MemoryLeaderboard {
    async fn record(&self, player: i64, version: i64, balance: i64) -> Result<(), StoreError> {
        let mut b = self.board.lock().expect("board lock");
        if let Some(&(v, old)) = b.players.get(&player) {
            if v >= version {
                return Ok(());
            }
            b.order.remove(&(std::cmp::Reverse(old), player));
        }
        b.players.insert(player, (version, balance));
        b.order.insert((std::cmp::Reverse(balance), player));
        Ok(())
    }

    async fn remove(&self, player: i64, week: &str) -> Result<(), StoreError> {
        self.board.lock().expect("board lock").forget(player);
        let mut w = self.weeks.lock().expect("weeks lock");
        w.total.forget(player);
        if let Some(b) = w.boards.get_mut(week) {
            b.forget(player);
        }
        Ok(())
    }

    async fn top(&self, limit: usize) -> Result<Vec<(i64, i64)>, StoreError> {
        Ok(self.board.lock().expect("board lock").top(limit))
    }

    async fn rank_of(&self, balance: i64) -> Result<u64, StoreError> {
        Ok(self.board.lock().expect("board lock").rank_of(balance))
    }

    async fn is_seeded(&self) -> Result<bool, StoreError> {
        Ok(self.weeks.lock().expect("weeks lock").seeded)
    }

    async fn mark_seeded(&self) -> Result<(), StoreError> {
        self.weeks.lock().expect("weeks lock").seeded = true;
        Ok(())
    }

    async fn record_earned(
        &self,
        week: &str,
        player: i64,
        version: i64,
        total_earned: i64,
    ) -> Result<(), StoreError> {
        let mut w = self.weeks.lock().expect("weeks lock");
        let base = match w.last.get(&player) {
            Some(&(v, _)) if v >= version => return Ok(()),
            Some(&(_, earned)) => earned,
            // Not filled yet: the filling brings this player with their week from the database.
            None if !w.seeded => return Ok(()),
            None => 0,
        };
        w.last.insert(player, (version, total_earned));
        w.total.set(player, total_earned);
        let grown = total_earned - base;
        if grown > 0 {
            // Only the current week is ever read: past weeks go (Redis lets them expire).
            w.boards.retain(|k, _| k == week);
            let b = w.boards.entry(week.to_owned()).or_default();
            let old = b.players.get(&player).map_or(0, |&(_, s)| s);
            b.order.remove(&(std::cmp::Reverse(old), player));
            b.players.insert(player, (0, old + grown));
            b.order.insert((std::cmp::Reverse(old + grown), player));
        }
        Ok(())
    }

    async fn week_top(&self, week: &str, limit: usize) -> Result<Vec<(i64, i64)>, StoreError> {
        let w = self.weeks.lock().expect("weeks lock");
        Ok(w.boards.get(week).map_or_else(Vec::new, |b| b.top(limit)))
    }

    async fn week_score(&self, week: &str, player: i64) -> Result<i64, StoreError> {
        let w = self.weeks.lock().expect("weeks lock");
        Ok(w.boards
            .get(week)
            .and_then(|b| b.players.get(&player))
            .map_or(0, |&(_, s)| s))
    }

    async fn week_rank_of(&self, week: &str, score: i64) -> Result<u64, StoreError> {
        let w = self.weeks.lock().expect("weeks lock");
        Ok(w.boards.get(week).map_or(1, |b| b.rank_of(score)))
    }

    async fn restore(&self, week: &str, rows: &[BoardRow]) -> Result<(), StoreError> {
        for r in rows.iter().filter(|r| r.balance > 0) {
            self.record(r.player, r.version, r.balance).await?;
        }
        let mut w = self.weeks.lock().expect("weeks lock");
        w.boards.retain(|k, _| k == week);
        for r in rows {
            if matches!(w.last.get(&r.player), Some(&(v, _)) if v >= r.version) {
                continue;
            }
            w.last.insert(r.player, (r.version, r.total_earned));
            w.total.set(r.player, r.total_earned);
            let b = w.boards.entry(week.to_owned()).or_default();
            if r.week_earned > 0 {
                b.set(r.player, r.week_earned);
            } else {
                b.forget(r.player);
            }
        }
        Ok(())
    }

    async fn total_top(
        &self,
        min: i64,
        below: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        let w = self.weeks.lock().expect("weeks lock");
        // Descending order: the slice starts after every total at or above `below`.
        let start = below.map_or((std::cmp::Reverse(i64::MAX), i64::MIN), |b| {
            (std::cmp::Reverse(b), i64::MAX)
        });
        Ok(w.total
            .order
            .range(start..)
            .filter(|(std::cmp::Reverse(s), _)| below.is_none_or(|b| *s < b))
            .take_while(|(std::cmp::Reverse(s), _)| *s >= min)
            .take(limit)
            .map(|(std::cmp::Reverse(s), id)| (*id, *s))
            .collect())
    }

    async fn total_rank_of(&self, score: i64, below: Option<i64>) -> Result<u64, StoreError> {
        let w = self.weeks.lock().expect("weeks lock");
        let higher = w
            .total
            .order
            .range(..(std::cmp::Reverse(score), i64::MIN))
            .filter(|(std::cmp::Reverse(s), _)| below.is_none_or(|b| *s < b))
            .count();
        Ok(1 + higher as u64)
    }
}

/// The board in the shared Redis.
pub struct RedisLeaderboard {
    conn: RedisConn,
    record: Script,
    record_earned: Script,
    restore_earned: Script,
}

/// Weekly boards expire five weeks after their last write.
const WEEK_TTL_SECS: i64 = 5 * 7 * 86_400;

const RECORD_EARNED: &str = r#"
local current = redis.call('HGET', KEYS[1], ARGV[1])
local base = 0
if current then
  local sep = string.find(current, ':', 1, true)
  if tonumber(string.sub(current, 1, sep - 1)) >= tonumber(ARGV[2]) then return 0 end
  base = tonumber(string.sub(current, sep + 1))
elseif redis.call('EXISTS', KEYS[4]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
local grown = tonumber(ARGV[3]) - base
if grown > 0 then
  redis.call('ZINCRBY', KEYS[2], grown, ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[4])
end
return 1
"#;

const RESTORE_EARNED: &str = r#"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local sep = string.find(current, ':', 1, true)
  if tonumber(string.sub(current, 1, sep - 1)) >= tonumber(ARGV[2]) then return 0 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
if tonumber(ARGV[4]) > 0 then
  redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
  redis.call('EXPIRE', KEYS[2], ARGV[5])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
end
return 1
"#;

const RECORD: &str = r#"
local current = redis.call('HGET', KEYS[2], ARGV[1])
if current and tonumber(current) >= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
return 1
"#;

impl RedisLeaderboard {
    /// The board on `conn`.
    pub fn new(conn: RedisConn) -> Self {
        Self {
            conn,
            record: Script::new(RECORD),
            record_earned: Script::new(RECORD_EARNED),
            restore_earned: Script::new(RESTORE_EARNED),
        }
    }

    fn week_key(&self, week: &str) -> String {
        self.conn.key(&format!("lb:week:{week}"))
    }

    fn keys(&self) -> (String, String) {
        (
            self.conn.key("lb:global"),
            self.conn.key("lb:global:versions"),
        )
    }
}

#[async_trait]
impl Leaderboard for RedisLeaderboard {
    async fn record(&self, player: i64, version: i64, balance: i64) -> Result<(), StoreError> {
        let (board, versions) = self.keys();
        let mut c = self.conn.get().await?;
        let _: i64 = self
            .record
            .key(board)
            .key(versions)
            .arg(player)
            .arg(version)
            .arg(balance)
            .invoke_async(&mut c)
            .await?;
        Ok(())
    }

    async fn remove(&self, player: i64, week: &str) -> Result<(), StoreError> {
        let (board, versions) = self.keys();
        let mut c = self.conn.get().await?;
        let _: () = deadpool_redis::redis::pipe()
            .atomic()
            .zrem(&board, player)
            .ignore()
            .hdel(&versions, player)
            .ignore()
            .zrem(self.conn.key("lb:total"), player)
            .ignore()
            .zrem(self.week_key(week), player)
            .ignore()
            .query_async(&mut c)
            .await?;
        Ok(())
    }

    async fn top(&self, limit: usize) -> Result<Vec<(i64, i64)>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let (board, _) = self.keys();
        let mut c = self.conn.get().await?;
        let rows: Vec<(i64, f64)> = c.zrevrange_withscores(board, 0, limit as isize - 1).await?;
        Ok(rows
            .into_iter()
            .map(|(id, score)| (id, score as i64))
            .collect())
    }

    async fn rank_of(&self, balance: i64) -> Result<u64, StoreError> {
        let (board, _) = self.keys();
        let mut c = self.conn.get().await?;
        let higher: u64 = c.zcount(board, format!("({balance}"), "+inf").await?;
        Ok(1 + higher)
    }

    async fn is_seeded(&self) -> Result<bool, StoreError> {
        let mut c = self.conn.get().await?;
        Ok(c.exists(self.conn.key("lb:seeded")).await?)
    }

    async fn mark_seeded(&self) -> Result<(), StoreError> {
        let mut c = self.conn.get().await?;
        let _: () = c.set(self.conn.key("lb:seeded"), 1).await?;
        Ok(())
    }

    async fn record_earned(
        &self,
        week: &str,
        player: i64,
        version: i64,
        total_earned: i64,
    ) -> Result<(), StoreError> {
        let mut c = self.conn.get().await?;
        let _: i64 = self
            .record_earned
            .key(self.conn.key("lb:earned"))
            .key(self.week_key(week))
            .key(self.conn.key("lb:total"))
            .key(self.conn.key("lb:seeded"))
            .arg(player)
            .arg(version)
            .arg(total_earned)
            .arg(WEEK_TTL_SECS)
            .invoke_async(&mut c)
            .await?;
        Ok(())
    }

    async fn week_top(&self, week: &str, limit: usize) -> Result<Vec<(i64, i64)>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut c = self.conn.get().await?;
        let rows: Vec<(i64, f64)> = c
            .zrevrange_withscores(self.week_key(week), 0, limit as isize - 1)
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, score)| (id, score as i64))
            .collect())
    }

    async fn week_score(&self, week: &str, player: i64) -> Result<i64, StoreError> {
        let mut c = self.conn.get().await?;
        let score: Option<f64> = c.zscore(self.week_key(week), player).await?;
        Ok(score.map_or(0, |s| s as i64))
    }

    async fn week_rank_of(&self, week: &str, score: i64) -> Result<u64, StoreError> {
        let mut c = self.conn.get().await?;
        let higher: u64 = c
            .zcount(self.week_key(week), format!("({score}"), "+inf")
            .await?;
        Ok(1 + higher)
    }

    async fn restore(&self, week: &str, rows: &[BoardRow]) -> Result<(), StoreError> {
        let (board, versions) = self.keys();
        let (earned, total, week) = (
            self.conn.key("lb:earned"),
            self.conn.key("lb:total"),
            self.week_key(week),
        );
        let mut c = self.conn.get().await?;
        // One round trip per chunk: the scripts are loaded first, as a pipeline does not retry
        // a script Redis does not know.
        for chunk in rows.chunks(RESTORE_CHUNK) {
            let mut pipe = deadpool_redis::redis::pipe();
            pipe.load_script(&self.record)
                .ignore()
                .load_script(&self.restore_earned)
                .ignore();
            for r in chunk {
                if r.balance > 0 {
                    pipe.invoke_script(
                        self.record
                            .key(&board)
                            .key(&versions)
                            .arg(r.player)
                            .arg(r.version)
                            .arg(r.balance),
                    )
                    .ignore();
                }
                pipe.invoke_script(
                    self.restore_earned
                        .key(&earned)
                        .key(&week)
                        .key(&total)
                        .arg(r.player)
                        .arg(r.version)
                        .arg(r.total_earned)
                        .arg(r.week_earned)
                        .arg(WEEK_TTL_SECS),
                )
                .ignore();
            }
            let () = pipe.query_async(&mut c).await?;
        }
        Ok(())
    }

    async fn total_top(
        &self,
        min: i64,
        below: Option<i64>,
        limit: usize,
    ) -> Result<Vec<(i64, i64)>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let top = below.map_or_else(|| "+inf".to_owned(), |b| format!("({b}"));
        let mut c = self.conn.get().await?;
        let rows: Vec<(i64, f64)> = c
            .zrevrangebyscore_limit_withscores(
                self.conn.key("lb:total"),
                top,
                min,
                0,
                limit as isize,
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, score)| (id, score as i64))
            .collect())
    }

    async fn total_rank_of(&self, score: i64, below: Option<i64>) -> Result<u64, StoreError> {
        let top = below.map_or_else(|| "+inf".to_owned(), |b| format!("({b}"));
        let mut c = self.conn.get().await?;
        let higher: u64 = c
            .zcount(self.conn.key("lb:total"), format!("({score}"), top)
            .await?;
        Ok(1 + higher)
    }
}
