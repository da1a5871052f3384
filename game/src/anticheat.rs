//! Anti-cheat: flag players who do not look like people tapping by hand, for an admin to judge.
//!
//! Three signals, each cheap on the hot path:
//!
//! - **Ceiling rate.** The tap rules already refuse taps above the human ceiling; an autoclicker
//!   shows as batch after batch that reaches `anticheat.ceiling_share` of what the ceiling allowed
//!   since the previous batch (or is cut by it). `anticheat.ceiling_batches` such batches in a row
//!   raise `ceiling_rate`. The count the client claims is judged, not what energy let through, so
//!   a bot that drained its energy still shows.
//! - **Regular intervals.** The Mini App may send the milliseconds between taps (`gaps`). People
//!   tap unevenly; a script does not. Once `anticheat.regular_min_taps` intervals are collected
//!   their coefficient of variation is judged against `anticheat.regular_max_cv`, then the window
//!   starts afresh.
//! - **Untimed taps.** The Mini App sends the intervals with every batch of two or more taps; a
//!   script posting to the API straight need not. `anticheat.untimed_taps` taps in a row in such
//!   batches without `gaps` raise `untimed_taps` (a batch with intervals starts the count again).
//! - **Shared wallet.** A wallet belongs to one player at a time, so farms pass one wallet from
//!   account to account; `wallet_links` remembers every link, and `anticheat.accounts_per_wallet`
//!   distinct players behind one wallet flag each of them (`shared_wallet`).
//!
//! The running state lives in a [`SuspicionStore`](crate::store::SuspicionStore) (Redis, shared
//! by every instance, or in-process), updated after a batch commits, never inside its
//! transaction: a failing detector is logged and never costs a player a tap. Flags are rare
//! writes, `INSERT … ON CONFLICT DO NOTHING` against a partial unique index on open flags, so
//! concurrent detections of one thing make one flag. A flag changes nothing by itself; an admin
//! reads `/suspects`, bans or clears, and `claims.exclude_flagged` holds flagged players' claims.

use crate::config::{AnticheatConfig, GameConfig};
use crate::rules::{GapSums, TapBatch, TapState};
use crate::store::suspicion::{Observation, Thresholds};
use crate::{Game, GameError};
use entities::{player, player_flag, wallet_link};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, TransactionTrait,
};
use serde::Serialize;
use std::collections::HashMap;

/// Why a player was flagged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagReason {
    /// Sustained tapping at the human ceiling.
    CeilingRate,
    /// Machine-regular intervals between taps.
    RegularIntervals,
    /// One wallet behind many accounts.
    SharedWallet,
    /// Many taps sent without the intervals the Mini App measures.
    UntimedTaps,
}

impl FlagReason {
    /// The reason as stored and shown: `ceiling_rate`, `regular_intervals`, `shared_wallet`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagReason::CeilingRate => "ceiling_rate",
            FlagReason::RegularIntervals => "regular_intervals",
            FlagReason::SharedWallet => "shared_wallet",
            FlagReason::UntimedTaps => "untimed_taps",
        }
    }
}

/// An open flag, for admins.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Suspect {
    /// The player's Telegram id.
    pub player_id: i64,
    /// The player's display name.
    pub name: String,
    /// `ceiling_rate`, `regular_intervals`, `shared_wallet` or `untimed_taps`.
    pub reason: String,
    /// What was measured.
    pub detail: String,
    /// Unix ms the flag was raised.
    pub created_at: i64,
}

/// Whether a batch of `count` taps at `now`, on the state `before` it, is at the human ceiling:
/// the ceiling refused some of it, or it reaches `ceiling_share` of what the ceiling allowed since
/// the previous batch.
pub fn at_ceiling(before: &TapState, count: i64, now: i64, cfg: &GameConfig) -> bool {
    let t = &cfg.taps;
    let allowance = before
        .allowance
        .at_time(now, t.max_per_second, t.burst.max(t.max_per_second));
    if count > allowance.units() {
        return true;
    }
    // Thousandths of a tap, like the allowance itself.
    let allowed_milli = now
        .saturating_sub(before.allowance.at)
        .max(0)
        .saturating_mul(t.max_per_second);
    count as f64 * 1000.0 >= cfg.anticheat.ceiling_share * allowed_milli as f64
}

/// Whether collected intervals are too even for a hand.
pub fn machine_regular(gaps: &GapSums, cfg: &AnticheatConfig) -> bool {
    gaps.n >= 2 && gaps.cv() < cfg.regular_max_cv
}

impl Game {
    /// Feeds an applied tap batch to the detector and raises the flags it calls for. Failures
    /// are logged: the batch has committed and stands.
    pub(crate) async fn watch_taps(
        &self,
        player: i64,
        before: &TapState,
        batch: TapBatch,
        now: i64,
    ) {
        let cfg = &self.config().anticheat;
        if !cfg.enabled {
            return;
        }
        let gaps = batch.gaps();
        let obs = Observation {
            at_ceiling: at_ceiling(before, batch.count(), now, self.config()),
            gaps,
            untimed: if gaps.n == 0 && batch.count() >= 2 {
                batch.count()
            } else {
                0
            },
        };
        let limits = Thresholds {
            ceiling_batches: cfg.ceiling_batches,
            min_gaps: cfg.regular_min_taps,
            untimed_taps: cfg.untimed_taps,
        };
        let crossing = match self.inner.suspicion.observe(player, obs, limits).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, player, "anti-cheat state unavailable");
                return;
            }
        };
        if crossing.ceiling {
            let detail = format!(
                "{} tap batches in a row at the ceiling of {} taps/s",
                cfg.ceiling_batches,
                self.config().taps.max_per_second
            );
            self.flag_logged(player, FlagReason::CeilingRate, detail)
                .await;
        }
        if crossing.untimed {
            let detail = format!(
                "{} taps in a row sent without their intervals, which the Mini App always measures",
                cfg.untimed_taps
            );
            self.flag_logged(player, FlagReason::UntimedTaps, detail)
                .await;
        }
        if let Some(gaps) = crossing.gaps {
            if machine_regular(&gaps, cfg) {
                let detail = format!(
                    "{} tap intervals averaging {:.0} ms with a variation of {:.3}",
                    gaps.n,
                    gaps.mean(),
                    gaps.cv()
                );
                self.flag_logged(player, FlagReason::RegularIntervals, detail)
                    .await;
            }
        }
    }

    /// Records that `player` linked a wallet and flags everyone behind it once enough distinct
    /// players have. Failures are logged: the wallet change stands.
    pub(crate) async fn watch_wallet(&self, player: i64, workchain: i32, hash: &str) {
        if !self.config().anticheat.enabled {
            return;
        }
        if let Err(e) = self.record_wallet_link(player, workchain, hash).await {
            tracing::warn!(error = %e, player, "wallet link not recorded");
        }
    }

    async fn record_wallet_link(
        &self,
        player: i64,
        workchain: i32,
        hash: &str,
    ) -> Result<(), GameError> {
        let inserted = {
            let _writer = self.sqlite_writer().await;
            wallet_link::Entity::insert(wallet_link::ActiveModel {
                player_id: Set(player),
                workchain: Set(workchain),
                hash: Set(hash.to_owned()),
                linked_at: Set(self.now_ms()),
            })
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(self.db())
            .await?
        };
        if inserted == 0 {
            // This player had linked this wallet before: nobody new is behind it.
            return Ok(());
        }
        let players: Vec<i64> = wallet_link::Entity::find()
            .select_only()
            .column(wallet_link::Column::PlayerId)
            .filter(wallet_link::Column::Workchain.eq(workchain))
            .filter(wallet_link::Column::Hash.eq(hash))
            .into_tuple()
            .all(self.db())
            .await?;
        let needed = self.config().anticheat.accounts_per_wallet;
        if (players.len() as i64) < needed {
            return Ok(());
        }
        let detail = format!(
            "wallet {workchain}:{hash} linked by {} accounts",
            players.len()
        );
        for p in players {
            self.raise_flag(p, FlagReason::SharedWallet, &detail)
                .await?;
        }
        Ok(())
    }

    async fn flag_logged(&self, player: i64, reason: FlagReason, detail: String) {
        if let Err(e) = self.raise_flag(player, reason, &detail).await {
            tracing::warn!(error = %e, player, reason = reason.as_str(), "flag not recorded");
        }
    }

    /// Opens a flag unless one for the same reason is open; returns whether this call opened it.
    pub async fn raise_flag(
        &self,
        player: i64,
        reason: FlagReason,
        detail: &str,
    ) -> Result<bool, GameError> {
        let inserted = {
            let _writer = self.sqlite_writer().await;
            player_flag::Entity::insert(player_flag::ActiveModel {
                player_id: Set(player),
                reason: Set(reason.as_str().to_owned()),
                detail: Set(detail.to_owned()),
                created_at: Set(self.now_ms()),
                cleared_at: Set(None),
                cleared_by: Set(None),
                ..Default::default()
            })
            // The partial unique index on open flags is the target; no target names it on both.
            .on_conflict(OnConflict::new().do_nothing().to_owned())
            .exec_without_returning(self.db())
            .await?
        };
        if inserted == 1 {
            metrics::counter!("anticheat_flags_total", "reason" => reason.as_str()).increment(1);
            tracing::warn!(player, reason = reason.as_str(), detail, "player flagged");
        }
        Ok(inserted == 1)
    }

    /// Whether the player has an open flag.
    pub async fn is_flagged(&self, player: i64) -> Result<bool, GameError> {
        Ok(player_flag::Entity::find()
            .filter(player_flag::Column::PlayerId.eq(player))
            .filter(player_flag::Column::ClearedAt.is_null())
            .count(self.db())
            .await?
            > 0)
    }

    /// The reasons of the player's open flags, in the order they were raised.
    pub async fn open_flags(&self, player: i64) -> Result<Vec<String>, GameError> {
        Ok(player_flag::Entity::find()
            .filter(player_flag::Column::PlayerId.eq(player))
            .filter(player_flag::Column::ClearedAt.is_null())
            .order_by_asc(player_flag::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(|f| f.reason)
            .collect())
    }

    /// Open flags, newest first, at most `limit`, with the players' names.
    pub async fn suspects(&self, limit: u64) -> Result<Vec<Suspect>, GameError> {
        let flags = player_flag::Entity::find()
            .filter(player_flag::Column::ClearedAt.is_null())
            .order_by_desc(player_flag::Column::CreatedAt)
            .order_by_desc(player_flag::Column::Id)
            .limit(limit)
            .all(self.db())
            .await?;
        let mut ids: Vec<i64> = flags.iter().map(|f| f.player_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let names: HashMap<i64, String> = if ids.is_empty() {
            HashMap::new()
        } else {
            player::Entity::find()
                .filter(player::Column::Id.is_in(ids))
                .all(self.db())
                .await?
                .iter()
                .map(|p| (p.id, crate::players::display_name(p)))
                .collect()
        };
        Ok(flags
            .into_iter()
            .map(|f| Suspect {
                name: names
                    .get(&f.player_id)
                    .cloned()
                    .unwrap_or_else(|| format!("Player {}", f.player_id)),
                player_id: f.player_id,
                reason: f.reason,
                detail: f.detail,
                created_at: f.created_at,
            })
            .collect())
    }

    /// Clears the player's open flags as `admin`, audited in the same transaction; returns how
    /// many were open.
    pub async fn clear_flags(&self, admin: i64, target: i64) -> Result<u64, GameError> {
        let now = self.now_ms();
        let _writer = self.sqlite_writer().await;
        let txn = self.db().begin().await?;
        if player::Entity::find_by_id(target)
            .one(&txn)
            .await?
            .is_none()
        {
            txn.rollback().await?;
            return Err(GameError::UnknownPlayer);
        }
        let cleared = player_flag::Entity::update_many()
            .col_expr(player_flag::Column::ClearedAt, Expr::value(now))
            .col_expr(player_flag::Column::ClearedBy, Expr::value(admin))
            .filter(player_flag::Column::PlayerId.eq(target))
            .filter(player_flag::Column::ClearedAt.is_null())
            .exec(&txn)
            .await?
            .rows_affected;
        crate::admin::audit(
            &txn,
            admin,
            "clear_flags",
            Some(target),
            serde_json::json!({ "cleared": cleared }),
            now,
        )
        .await?;
        txn.commit().await?;
        Ok(cleared)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Refill;

    fn state(allowance_units: i64, at: i64) -> TapState {
        let cfg = GameConfig::default();
        TapState {
            allowance: Refill::whole(allowance_units, at),
            ..TapState::new_player(at, &cfg)
        }
    }

    #[test]
    fn the_ceiling_is_judged_against_what_it_allowed_since_the_last_batch() {
        let cfg = GameConfig::default(); // 20 taps/s, burst 100, share 0.9
        let s = state(0, 0);
        // A second later the ceiling allowed 20: 18 or more is at the ceiling, 10 is a person.
        assert!(at_ceiling(&s, 20, 1000, &cfg));
        assert!(at_ceiling(&s, 18, 1000, &cfg));
        assert!(!at_ceiling(&s, 17, 1000, &cfg));
        assert!(!at_ceiling(&s, 10, 1000, &cfg));
        // Cut by the ceiling: at it, however long the wait.
        let full = state(100, 0);
        assert!(at_ceiling(&full, 150, 1000, &cfg));
        // After a long pause a full burst is not a sustained rate.
        assert!(!at_ceiling(&full, 100, 60_000, &cfg));
    }

    #[test]
    fn even_intervals_are_machine_regular_and_uneven_ones_are_not() {
        let cfg = AnticheatConfig::default();
        let sums = |gaps: &[i64]| GapSums {
            n: gaps.len() as i64,
            sum: gaps.iter().sum(),
            sq: gaps.iter().map(|g| g * g).sum(),
        };
        assert!(machine_regular(&sums(&[50; 200]), &cfg));
        assert!(machine_regular(&sums(&[50, 51, 49, 50, 50, 51]), &cfg));
        assert!(!machine_regular(&sums(&[80, 140, 95, 210, 120, 60]), &cfg));
        assert!(machine_regular(&sums(&[0, 0, 0]), &cfg));
    }
}
