//! A short-lived cache of verified sessions: init data already checked and its player written.
//!
//! The Mini App sends the same init data with every call for as long as it is open. Checking the
//! signature is cheap, but creating or refreshing the player row is a database write; the cache
//! lets the second and later calls skip both. Keys are the SHA-256 of the raw init data, so a
//! changed byte is a different session; entries never outlive the init data's own validity.

use super::{redis::RedisConn, StoreError};
use async_trait::async_trait;
use deadpool_redis::redis::AsyncCommands;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A remembered session: its player, and the game-clock second its init data expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Session {
    /// Telegram user id.
    pub player: i64,
    /// Unix seconds (game clock) after which the init data is no longer valid.
    pub expires_at: i64,
}

/// Remembers which player a verified init data string belongs to.
#[async_trait]
pub trait SessionCache: Send + Sync {
    /// A session seen recently.
    async fn get(&self, session: &[u8; 32]) -> Result<Option<Session>, StoreError>;
    /// Remembers a session for `ttl`.
    async fn put(
        &self,
        session: &[u8; 32],
        value: Session,
        ttl: Duration,
    ) -> Result<(), StoreError>;
}

/// Sessions in this process, bounded in size.
#[derive(Default)]
pub struct MemorySessions {
    map: Mutex<HashMap<[u8; 32], (Session, Instant)>>,
}

const MEMORY_CAP: usize = 200_000;

#[async_trait]
impl SessionCache for MemorySessions {
    async fn get(&self, session: &[u8; 32]) -> Result<Option<Session>, StoreError> {
        let map = self.map.lock().expect("sessions lock");
        Ok(map
            .get(session)
            .filter(|(_, until)| *until > Instant::now())
            .map(|(s, _)| *s))
    }

    async fn put(
        &self,
        session: &[u8; 32],
        value: Session,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let now = Instant::now();
        let mut map = self.map.lock().expect("sessions lock");
        if map.len() >= MEMORY_CAP {
            map.retain(|_, (_, until)| *until > now);
            if map.len() >= MEMORY_CAP {
                map.clear();
            }
        }
        map.insert(*session, (value, now + ttl));
        Ok(())
    }
}

/// Sessions in the shared Redis, with Redis expiry.
pub struct RedisSessions {
    conn: RedisConn,
}

impl RedisSessions {
    /// Sessions on `conn`.
    pub fn new(conn: RedisConn) -> Self {
        Self { conn }
    }

    fn key(&self, session: &[u8; 32]) -> String {
        self.conn.key(&format!("sess:{}", hex::encode(session)))
    }
}

#[async_trait]
impl SessionCache for RedisSessions {
    async fn get(&self, session: &[u8; 32]) -> Result<Option<Session>, StoreError> {
        let mut c = self.conn.get().await?;
        let value: Option<String> = c.get(self.key(session)).await?;
        Ok(value.and_then(|v| {
            let (player, expires_at) = v.split_once(':')?;
            Some(Session {
                player: player.parse().ok()?,
                expires_at: expires_at.parse().ok()?,
            })
        }))
    }

    async fn put(
        &self,
        session: &[u8; 32],
        value: Session,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut c = self.conn.get().await?;
        let ms = ttl.as_millis().max(1) as u64;
        let _: () = c
            .pset_ex(
                self.key(session),
                format!("{}:{}", value.player, value.expires_at),
                ms,
            )
            .await?;
        Ok(())
    }
}
