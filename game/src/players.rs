//! Player services: sign-in from init data, the player's state, tap batches and the leaderboard.
//!
//! A tap batch is applied by reading the row, running [`rules::apply_taps`] with the server's
//! `now`, and writing the result with one conditional `UPDATE … WHERE id = ? AND version = ?` in
//! the same transaction as its ledger row. If another request changed the player in between, the
//! update matches no row and the batch is recomputed from the fresh state: energy can never be
//! spent twice and a `seq` can never be applied twice, on one instance or many.

use crate::rules::{self, Refill, TapBatch, TapOutcome, TapState};
use crate::store::BoardRow;
use crate::{Game, GameError, TelegramUser};
use entities::{ledger, player};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Statement, TransactionTrait,
};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::Duration;

/// How long a verified session is remembered at most.
const SESSION_TTL_SECS: i64 = 300;
/// Attempts at a compare-and-swap before answering "contended".
const MAX_ATTEMPTS: u32 = 200;

/// Coins the player of the `players` row being read earned since `start` (unix ms), summed from
/// the ledger in the statement that reads the row, so that both are of one snapshot.
fn earned_since(start: i64) -> sea_orm::sea_query::SimpleExpr {
    let kinds: Vec<String> = crate::economy::EARNING_KINDS
        .iter()
        .map(|k| format!("'{k}'"))
        .collect();
    // Only constants and an integer go into the text (placeholders differ between backends).
    Expr::cust(format!(
        "CAST(COALESCE((SELECT SUM(l.amount) FROM ledger l WHERE l.player_id = players.id \
         AND l.kind IN ({}) AND l.created_at >= {start}), 0) AS BIGINT)",
        kinds.join(", ")
    ))
}

/// A player as the Mini App sees them.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct PlayerView {
    /// Telegram id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// Telegram client language.
    pub language_code: Option<String>,
    /// Telegram Premium.
    pub is_premium: bool,
    /// Coins.
    pub balance: i64,
    /// Energy now.
    pub energy: i64,
    /// Energy cap.
    pub max_energy: i64,
    /// Energy regenerated per second.
    pub energy_per_sec: i64,
    /// Coins (and energy) per tap.
    pub tap_power: i64,
    /// Passive income per hour.
    pub passive_per_hour: i64,
    /// Passive income credited by this call (coins earned while away); 0 otherwise.
    pub while_away: i64,
    /// Level by coins ever earned.
    pub level: u32,
    /// League's name by coins ever earned.
    pub league: String,
    /// Coins ever earned.
    pub total_earned: i64,
    /// The last tap batch applied.
    pub last_seq: i64,
    /// The server's clock, unix ms.
    pub server_time: i64,
}

/// The answer to a tap batch.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct TapResult {
    /// Taps accepted.
    pub accepted: i64,
    /// Balance after.
    pub balance: i64,
    /// Energy after.
    pub energy: i64,
    /// The batch's seq.
    pub seq: i64,
    /// Whether the seq had been applied already (nothing changed).
    pub duplicate: bool,
}

/// One line of the leaderboard.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LeaderboardEntry {
    /// `1 +` players with a strictly higher balance.
    pub rank: u64,
    /// Telegram id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Coins.
    pub balance: i64,
}

/// The caller's own place.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct MyRank {
    /// `1 +` players with a strictly higher balance.
    pub rank: u64,
    /// Coins.
    pub balance: i64,
}

/// The leaderboard with the caller's place.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct LeaderboardView {
    /// The best players, best first.
    pub top: Vec<LeaderboardEntry>,
    /// The caller.
    pub me: MyRank,
    /// The league whose board this is (`board=league` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub league: Option<String>,
}

/// Which leaderboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Board {
    /// Everyone by balance.
    Global,
    /// Coins earned this ISO week (UTC).
    Week,
    /// The caller's league by coins ever earned.
    League,
}

pub(crate) fn state_of(p: &player::Model) -> TapState {
    TapState {
        balance: p.balance,
        total_earned: p.total_earned,
        energy: Refill {
            milli: p.energy_milli,
            at: p.energy_at,
        },
        max_energy: p.max_energy,
        energy_per_sec: p.energy_per_sec,
        tap_power: p.tap_power,
        allowance: Refill {
            milli: p.tap_allowance_milli,
            at: p.tap_allowance_at,
        },
        last_seq: p.last_seq,
    }
}

pub(crate) fn display_name(p: &player::Model) -> String {
    let name = match &p.last_name {
        Some(last) if !last.is_empty() => format!("{} {}", p.first_name, last),
        _ => p.first_name.clone(),
    };
    if !name.trim().is_empty() {
        name
    } else if let Some(u) = &p.username {
        u.clone()
    } else {
        format!("Player {}", p.id)
    }
}

impl Game {
    /// Verifies `Authorization: tma` init data and returns its player, creating or refreshing the
    /// player's row on first sight of this init data.
    pub async fn authenticate(&self, raw: &str) -> Result<i64, GameError> {
        let digest: [u8; 32] = Sha256::digest(raw.as_bytes()).into();
        let now = self.now_ms();
        if let Some(session) = self.inner.sessions.get(&digest).await? {
            if now / 1000 <= session.expires_at {
                return Ok(session.player);
            }
        }
        let data = self.inner.key.verify(raw, now / 1000, self.inner.max_age)?;
        self.sign_in_player(&data.user, data.start_param.as_deref(), now)
            .await?;
        let expires_at = data.auth_date + self.inner.max_age;
        let ttl = (expires_at - now / 1000).clamp(1, SESSION_TTL_SECS);
        let session = crate::store::Session {
            player: data.user.id,
            expires_at,
        };
        self.inner
            .sessions
            .put(&digest, session, Duration::from_secs(ttl as u64))
            .await?;
        Ok(data.user.id)
    }

    /// Creates a player with full energy and no coins, or refreshes the profile of a known one.
    pub async fn upsert_player(&self, user: &TelegramUser, now: i64) -> Result<(), GameError> {
        let s = TapState::new_player(now, &self.inner.cfg);
        let row = player::ActiveModel {
            id: Set(user.id),
            first_name: Set(user.first_name.clone()),
            last_name: Set(user.last_name.clone()),
            username: Set(user.username.clone()),
            language_code: Set(user.language_code.clone()),
            is_premium: Set(user.is_premium),
            balance: Set(0),
            total_earned: Set(0),
            energy_milli: Set(s.energy.milli),
            energy_at: Set(s.energy.at),
            max_energy: Set(s.max_energy),
            energy_per_sec: Set(s.energy_per_sec),
            tap_power: Set(s.tap_power),
            tap_allowance_milli: Set(s.allowance.milli),
            tap_allowance_at: Set(s.allowance.at),
            last_seq: Set(0),
            version: Set(0),
            banned: Set(false),
            referrer_id: Set(None),
            last_claim_at: Set(None),
            passive_per_hour: Set(0),
            passive_at: Set(now),
            daily_streak: Set(0),
            daily_day: Set(None),
            multitap_level: Set(0),
            energy_limit_level: Set(0),
            refills_day: Set(None),
            refills_used: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let _writer = self.sqlite_writer().await;
        player::Entity::insert(row)
            .on_conflict(
                OnConflict::column(player::Column::Id)
                    .update_columns([
                        player::Column::FirstName,
                        player::Column::LastName,
                        player::Column::Username,
                        player::Column::LanguageCode,
                        player::Column::IsPremium,
                        player::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&self.inner.db)
            .await?;
        Ok(())
    }

    /// Loads a player who may play: not banned.
    pub(crate) async fn playing(&self, id: i64) -> Result<player::Model, GameError> {
        let p = player::Entity::find_by_id(id)
            .one(&self.inner.db)
            .await?
            .ok_or(GameError::UnknownPlayer)?;
        if p.banned {
            return Err(GameError::Banned);
        }
        Ok(p)
    }

    /// The player's state now, after crediting the passive income earned while away (and, on a
    /// referred friend's first visit, the referral bonus).
    pub async fn me(&self, id: i64) -> Result<PlayerView, GameError> {
        let (p, while_away) = self.collect_passive(id).await?;
        let p = self.activate_referral(p).await?;
        Ok(self.view_of(p, self.now_ms(), while_away))
    }

    /// The Mini App's view of a player's row at `now`.
    pub(crate) fn view_of(&self, p: player::Model, now: i64, while_away: i64) -> PlayerView {
        PlayerView {
            id: p.id,
            balance: p.balance,
            energy: state_of(&p).energy_now(now),
            max_energy: p.max_energy,
            energy_per_sec: p.energy_per_sec,
            tap_power: p.tap_power,
            passive_per_hour: p.passive_per_hour,
            while_away,
            level: rules::level_for(p.total_earned, &self.inner.cfg),
            league: rules::league_for(p.total_earned, &self.inner.cfg).to_owned(),
            total_earned: p.total_earned,
            last_seq: p.last_seq,
            server_time: now,
            first_name: p.first_name,
            last_name: p.last_name,
            username: p.username,
            language_code: p.language_code,
            is_premium: p.is_premium,
        }
    }

    /// Applies a batch of taps (see the module header).
    pub async fn tap(&self, id: i64, batch: TapBatch) -> Result<TapResult, GameError> {
        for attempt in 0..MAX_ATTEMPTS {
            let p = self.playing(id).await?;
            let now = self.now_ms();
            let state = state_of(&p);
            let (accepted, coins, next) =
                match rules::apply_taps(&state, batch, now, &self.inner.cfg) {
                    TapOutcome::Duplicate => {
                        metrics::counter!("tap_batches_total", "result" => "duplicate")
                            .increment(1);
                        return Ok(TapResult {
                            accepted: 0,
                            balance: p.balance,
                            energy: state.energy_now(now),
                            seq: batch.seq(),
                            duplicate: true,
                        });
                    }
                    TapOutcome::Applied {
                        accepted,
                        coins,
                        state,
                    } => (accepted, coins, state),
                };
            if !self
                .store_taps(id, p.version, &next, coins, batch.seq(), now)
                .await?
            {
                metrics::counter!("tap_cas_retries_total").increment(1);
                // Jittered back-off so that contenders for one player spread out.
                let jitter = rand::random::<u64>() % (1 + u64::from(attempt.min(6)) * 2);
                tokio::time::sleep(Duration::from_millis(jitter)).await;
                continue;
            }
            metrics::counter!("tap_batches_total", "result" => "applied").increment(1);
            metrics::counter!("taps_accepted_total").increment(accepted as u64);
            metrics::counter!("taps_refused_total").increment((batch.count() - accepted) as u64);
            self.watch_taps(id, &state, batch, now).await;
            if coins > 0 {
                if let Err(e) = self
                    .inner
                    .board
                    .record(id, p.version + 1, next.balance)
                    .await
                {
                    // The database has the truth; the next batch records the newer balance.
                    tracing::warn!(error = %e, player = id, "leaderboard update failed");
                }
                self.week_record(id, p.version + 1, next.total_earned).await;
            }
            return Ok(TapResult {
                accepted,
                balance: next.balance,
                energy: next.energy.units(),
                seq: batch.seq(),
                duplicate: false,
            });
        }
        Err(GameError::Contended)
    }

    /// Writes a batch's result if the row is still at `version`, with its ledger row when it earned
    /// coins. Returns false when another change got there first (nothing was written).
    async fn store_taps(
        &self,
        id: i64,
        version: i64,
        next: &TapState,
        coins: i64,
        seq: i64,
        now: i64,
    ) -> Result<bool, GameError> {
        let update = player::Entity::update_many()
            .col_expr(player::Column::Balance, Expr::value(next.balance))
            .col_expr(player::Column::TotalEarned, Expr::value(next.total_earned))
            .col_expr(player::Column::EnergyMilli, Expr::value(next.energy.milli))
            .col_expr(player::Column::EnergyAt, Expr::value(next.energy.at))
            .col_expr(
                player::Column::TapAllowanceMilli,
                Expr::value(next.allowance.milli),
            )
            .col_expr(
                player::Column::TapAllowanceAt,
                Expr::value(next.allowance.at),
            )
            .col_expr(player::Column::LastSeq, Expr::value(next.last_seq))
            .col_expr(player::Column::Version, Expr::value(version + 1))
            .col_expr(player::Column::UpdatedAt, Expr::value(now))
            .filter(player::Column::Id.eq(id))
            .filter(player::Column::Version.eq(version));
        let _writer = self.sqlite_writer().await;
        if coins == 0 {
            // Only the seq, energy clock and allowance move: no ledger row, one statement.
            return Ok(update.exec(&self.inner.db).await?.rows_affected == 1);
        }
        if self.inner.db.get_database_backend() == DbBackend::Postgres {
            // One statement, atomic on its own: the conditional update and, only if it matched,
            // the ledger row. One round trip instead of four on the hottest path.
            let stmt = Statement::from_sql_and_values(
                DbBackend::Postgres,
                "WITH updated AS (
                    UPDATE players SET balance = $1, total_earned = $2, energy_milli = $3, energy_at = $4,
                        tap_allowance_milli = $5, tap_allowance_at = $6, last_seq = $7, version = $8,
                        updated_at = $9
                    WHERE id = $10 AND version = $11
                    RETURNING id)
                 INSERT INTO ledger (player_id, amount, kind, reference, balance_after, created_at)
                 SELECT id, $12, 'taps', $13, $1, $9 FROM updated",
                [
                    next.balance.into(),
                    next.total_earned.into(),
                    next.energy.milli.into(),
                    next.energy.at.into(),
                    next.allowance.milli.into(),
                    next.allowance.at.into(),
                    next.last_seq.into(),
                    (version + 1).into(),
                    now.into(),
                    id.into(),
                    version.into(),
                    coins.into(),
                    seq.to_string().into(),
                ],
            );
            return Ok(self.inner.db.execute(stmt).await?.rows_affected() == 1);
        }
        let txn = self.inner.db.begin().await?;
        if update.exec(&txn).await?.rows_affected != 1 {
            txn.rollback().await?;
            return Ok(false);
        }
        ledger::Entity::insert(ledger::ActiveModel {
            player_id: Set(id),
            amount: Set(coins),
            kind: Set("taps".to_owned()),
            reference: Set(seq.to_string()),
            balance_after: Set(next.balance),
            created_at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(true)
    }

    /// Records a balance on the leaderboard as of a row version (late writes are ignored).
    pub(crate) async fn board_record(
        &self,
        id: i64,
        version: i64,
        balance: i64,
    ) -> Result<(), crate::StoreError> {
        self.inner.board.record(id, version, balance).await
    }

    /// Puts the players `select` finds (banned ones left out) back on every board as of their
    /// rows now: the balance, coins ever earned, and this week's earnings summed from the ledger
    /// in the same statement. Returns their ids in the order read.
    pub(crate) async fn restore_on_boards(
        &self,
        select: sea_orm::Select<player::Entity>,
    ) -> Result<Vec<i64>, GameError> {
        let now = self.now_ms();
        let week = rules::iso_week(now);
        let rows: Vec<(i64, i64, i64, i64, i64)> = select
            .select_only()
            .columns([
                player::Column::Id,
                player::Column::Version,
                player::Column::Balance,
                player::Column::TotalEarned,
            ])
            .column_as(earned_since(rules::week_start(now)), "week_earned")
            .filter(player::Column::Banned.eq(false))
            .into_tuple()
            .all(&self.inner.db)
            .await?;
        let rows: Vec<BoardRow> = rows
            .into_iter()
            .map(
                |(player, version, balance, total_earned, week_earned)| BoardRow {
                    player,
                    version,
                    balance,
                    total_earned,
                    week_earned,
                },
            )
            .collect();
        self.inner.board.restore(&week, &rows).await?;
        Ok(rows.iter().map(|r| r.player).collect())
    }

    /// Adds the coins earned since the last write to this week's board (a failure is logged: the
    /// next write of this player makes it up).
    pub(crate) async fn week_record(&self, id: i64, version: i64, total_earned: i64) {
        let week = rules::iso_week(self.now_ms());
        let board = &self.inner.board;
        if let Err(e) = board.record_earned(&week, id, version, total_earned).await {
            tracing::warn!(error = %e, player = id, "weekly leaderboard update failed");
        }
    }

    /// The `limit` best players and the caller's own rank.
    pub async fn leaderboard(&self, id: i64, limit: usize) -> Result<LeaderboardView, GameError> {
        self.leaderboard_of(id, limit, Board::Global).await
    }

    /// A board by kind: global by balance; this week by coins earned; the caller's league by coins
    /// ever earned (the rows' `balance` is then coins ever earned).
    pub async fn leaderboard_of(
        &self,
        id: i64,
        limit: usize,
        which: Board,
    ) -> Result<LeaderboardView, GameError> {
        let me = self.playing(id).await?;
        let board = &self.inner.board;
        let this_week = rules::iso_week(self.now_ms());
        let (min, below) = rules::league_bounds(me.total_earned, self.config());
        let (top, mine) = match which {
            Board::Global => (board.top(limit).await?, me.balance),
            Board::Week => (
                board.week_top(&this_week, limit).await?,
                board.week_score(&this_week, id).await?,
            ),
            Board::League => (board.total_top(min, below, limit).await?, me.total_earned),
        };
        let ids: Vec<i64> = top.iter().map(|(id, _)| *id).collect();
        let names: HashMap<i64, String> = if ids.is_empty() {
            HashMap::new()
        } else {
            player::Entity::find()
                .filter(player::Column::Id.is_in(ids))
                .all(&self.inner.db)
                .await?
                .iter()
                .map(|p| (p.id, display_name(p)))
                .collect()
        };
        let mut entries = Vec::with_capacity(top.len());
        let mut previous: Option<(i64, u64)> = None;
        for (i, (pid, balance)) in top.into_iter().enumerate() {
            // Everyone above is in the list, so the first position of a balance is its rank.
            let rank = match previous {
                Some((b, r)) if b == balance => r,
                _ => i as u64 + 1,
            };
            previous = Some((balance, rank));
            let name = names
                .get(&pid)
                .cloned()
                .unwrap_or_else(|| format!("Player {pid}"));
            entries.push(LeaderboardEntry {
                rank,
                id: pid,
                name,
                balance,
            });
        }
        let rank = match which {
            Board::Global => board.rank_of(mine).await?,
            Board::Week => board.week_rank_of(&this_week, mine).await?,
            Board::League => board.total_rank_of(mine, below).await?,
        };
        Ok(LeaderboardView {
            top: entries,
            me: MyRank {
                rank,
                balance: mine,
            },
            league: (which == Board::League)
                .then(|| rules::league_for(me.total_earned, self.config()).to_owned()),
        })
    }

    /// Fills the leaderboards from the database unless they are seeded already: a restarted
    /// process, a fresh Redis, or one that restarted or failed over and came back empty. Safe
    /// beside live traffic and beside another instance doing the same (every write is versioned).
    /// Returns how many players were recorded.
    pub async fn seed_leaderboard(&self) -> Result<u64, GameError> {
        if self.inner.board.is_seeded().await? {
            return Ok(0);
        }
        let mut after = i64::MIN;
        let mut seeded = 0;
        loop {
            let page = player::Entity::find()
                .filter(player::Column::Id.gt(after))
                .filter(player::Column::TotalEarned.gt(0))
                .order_by_asc(player::Column::Id)
                .limit(5_000);
            let ids = self.restore_on_boards(page).await?;
            let Some(&last) = ids.last() else { break };
            after = last;
            seeded += ids.len() as u64;
        }
        self.inner.board.mark_seeded().await?;
        Ok(seeded)
    }
}
