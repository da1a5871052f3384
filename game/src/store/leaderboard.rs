//! The global leaderboard: players ordered by balance, with ranks that share ties.
//!
//! Writes carry the player's row version, and a write older than the one already recorded is
//! ignored: two instances committing batches for one player may report in either order, and the
//! board still ends on the newest balance. Rank is `1 + players with a strictly higher balance`.
//! In Redis it is a sorted set (scores are exact for balances below 2^53) plus a hash of versions,
//! updated together by one Lua script.

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
    /// Forgets a player (banned, deleted).
    async fn remove(&self, player: i64) -> Result<(), StoreError>;
    /// The `limit` highest balances, highest first: `(player, balance)`.
    async fn top(&self, limit: usize) -> Result<Vec<(i64, i64)>, StoreError>;
    /// `1 +` the number of players with a balance strictly higher than `balance`.
    async fn rank_of(&self, balance: i64) -> Result<u64, StoreError>;
    /// How many players are on the board.
    async fn count(&self) -> Result<u64, StoreError>;
}

#[derive(Default)]
struct Board {
    order: BTreeSet<(std::cmp::Reverse<i64>, i64)>,
    players: HashMap<i64, (i64, i64)>,
}

/// The board in this process.
#[derive(Default)]
pub struct MemoryLeaderboard {
    board: Mutex<Board>,
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

    async fn remove(&self, player: i64) -> Result<(), StoreError> {
        let mut b = self.board.lock().expect("board lock");
        if let Some((_, old)) = b.players.remove(&player) {
            b.order.remove(&(std::cmp::Reverse(old), player));
        }
        Ok(())
    }

    async fn top(&self, limit: usize) -> Result<Vec<(i64, i64)>, StoreError> {
        let b = self.board.lock().expect("board lock");
        Ok(b.order
            .iter()
            .take(limit)
            .map(|(std::cmp::Reverse(bal), id)| (*id, *bal))
            .collect())
    }

    async fn rank_of(&self, balance: i64) -> Result<u64, StoreError> {
        let b = self.board.lock().expect("board lock");
        // Entries sort by descending balance, so those strictly higher come before (balance, MIN).
        let higher = b
            .order
            .range(..(std::cmp::Reverse(balance), i64::MIN))
            .count();
        Ok(1 + higher as u64)
    }

    async fn count(&self) -> Result<u64, StoreError> {
        Ok(self.board.lock().expect("board lock").players.len() as u64)
    }
}

/// The board in the shared Redis.
pub struct RedisLeaderboard {
    conn: RedisConn,
    record: Script,
}

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
        }
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

    async fn remove(&self, player: i64) -> Result<(), StoreError> {
        let (board, versions) = self.keys();
        let mut c = self.conn.get().await?;
        let _: () = deadpool_redis::redis::pipe()
            .atomic()
            .zrem(&board, player)
            .ignore()
            .hdel(&versions, player)
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

    async fn count(&self) -> Result<u64, StoreError> {
        let (board, _) = self.keys();
        let mut c = self.conn.get().await?;
        Ok(c.zcard(board).await?)
    }
}
