//! A capped share of friends' earnings, on two levels.
//!
//! A player is owed `[referrals] share_bps` of what each friend they invited has earned, and
//! `second_share_bps` of what each of those friends' friends has earned, at most `share_cap` coins
//! from any one of them, ever. "Earned" is the friend's coins ever earned less what that friend
//! collected as shares themselves, so a chain of friends pays two levels and no more. Banned
//! friends feed nothing.
//!
//! Nothing is written while friends play: the share is worked out when the player collects
//! (`POST /api/v1/referrals/collect`), from the friends' rows and `referral_shares`, which holds
//! per (player, friend) the coins collected so far. A collection is one transaction: a
//! compare-and-swap on the player's row, one conditional update per friend from the amount read
//! (or a first row, unique per pair), and a `share` ledger row — any interleaving of collections
//! pays each coin of a share once.

use crate::economy::{back_off, is_unique_violation, ledger_row, MAX_ATTEMPTS};
use crate::{Game, GameError};
use entities::{ledger, player, referral_share};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;
use std::collections::HashMap;

/// Ids per `IN (…)` list.
const CHUNK: usize = 500;

/// What a collection paid.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct Collected {
    /// Coins credited by this call (0: nothing was due).
    pub collected: i64,
    /// Balance after.
    pub balance: i64,
}

/// The share owed from one friend now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Due {
    friend: i64,
    /// Collected so far (`None`: never).
    collected: Option<i64>,
    /// Owed now beyond what was collected.
    due: i64,
}

/// The share of `earned` at `bps` basis points, at most `cap`.
pub fn share_of(earned: i64, bps: i64, cap: i64) -> i64 {
    let share = i128::from(earned.max(0)) * i128::from(bps) / 10_000;
    share.min(i128::from(cap)) as i64
}

impl Game {
    /// `(id, total_earned, banned)` of the players invited by any of `referrers`.
    async fn invited_by(&self, referrers: &[i64]) -> Result<Vec<(i64, i64, bool)>, GameError> {
        let mut out = Vec::new();
        for chunk in referrers.chunks(CHUNK) {
            out.extend(
                player::Entity::find()
                    .select_only()
                    .column(player::Column::Id)
                    .column(player::Column::TotalEarned)
                    .column(player::Column::Banned)
                    .filter(player::Column::ReferrerId.is_in(chunk.iter().copied()))
                    .into_tuple::<(i64, i64, bool)>()
                    .all(self.db())
                    .await?,
            );
        }
        Ok(out)
    }

    /// Coins each of `players` collected as shares of their own friends.
    async fn share_income(&self, players: &[i64]) -> Result<HashMap<i64, i64>, GameError> {
        let mut out: HashMap<i64, i64> = HashMap::new();
        for chunk in players.chunks(CHUNK) {
            let rows = referral_share::Entity::find()
                .select_only()
                .column(referral_share::Column::PlayerId)
                .column(referral_share::Column::Collected)
                .filter(referral_share::Column::PlayerId.is_in(chunk.iter().copied()))
                .into_tuple::<(i64, i64)>()
                .all(self.db())
                .await?;
            for (p, c) in rows {
                *out.entry(p).or_default() += c;
            }
        }
        Ok(out)
    }

    /// What `id` collected from each friend so far.
    pub(crate) async fn shares_collected(&self, id: i64) -> Result<HashMap<i64, i64>, GameError> {
        Ok(referral_share::Entity::find()
            .select_only()
            .column(referral_share::Column::FriendId)
            .column(referral_share::Column::Collected)
            .filter(referral_share::Column::PlayerId.eq(id))
            .into_tuple::<(i64, i64)>()
            .all(self.db())
            .await?
            .into_iter()
            .collect())
    }

    /// The shares owed to `id` now, friend by friend (only those with something due), given what
    /// `id` collected from each so far.
    async fn shares_due(
        &self,
        id: i64,
        collected: &HashMap<i64, i64>,
    ) -> Result<Vec<Due>, GameError> {
        let cfg = &self.config().referrals;
        if (cfg.share_bps == 0 && cfg.second_share_bps == 0) || cfg.share_cap == 0 {
            return Ok(Vec::new());
        }
        let first = self.invited_by(&[id]).await?;
        let first_ids: Vec<i64> = first.iter().map(|f| f.0).collect();
        let second = if cfg.second_share_bps > 0 {
            self.invited_by(&first_ids).await?
        } else {
            Vec::new()
        };
        let feeding: Vec<(i64, i64, i64)> = first
            .iter()
            .map(|f| (f, cfg.share_bps))
            .chain(second.iter().map(|f| (f, cfg.second_share_bps)))
            .filter(|((_, _, banned), bps)| !banned && *bps > 0)
            .map(|((f, earned, _), bps)| (*f, *earned, bps))
            .collect();
        let ids: Vec<i64> = feeding.iter().map(|f| f.0).collect();
        let their_shares = self.share_income(&ids).await?;
        Ok(feeding
            .into_iter()
            .filter_map(|(friend, earned, bps)| {
                let own = their_shares.get(&friend).copied().unwrap_or(0);
                let owed = share_of(earned - own, bps, cfg.share_cap);
                let had = collected.get(&friend).copied();
                let due = owed - had.unwrap_or(0);
                (due > 0).then_some(Due {
                    friend,
                    collected: had,
                    due,
                })
            })
            .collect())
    }

    /// Coins `id` could collect from friends' earnings now, given what they collected so far.
    pub(crate) async fn share_due(
        &self,
        id: i64,
        collected: &HashMap<i64, i64>,
    ) -> Result<i64, GameError> {
        Ok(self
            .shares_due(id, collected)
            .await?
            .iter()
            .fold(0i64, |sum, d| sum.saturating_add(d.due)))
    }

    /// Collects every share owed to the player now (see the module header).
    pub async fn collect_shares(&self, id: i64) -> Result<Collected, GameError> {
        for attempt in 0..MAX_ATTEMPTS {
            let p = self.playing(id).await?;
            let collected = self.shares_collected(id).await?;
            let dues = self.shares_due(id, &collected).await?;
            let total = dues.iter().fold(0i64, |sum, d| sum.saturating_add(d.due));
            if total == 0 {
                return Ok(Collected {
                    collected: 0,
                    balance: p.balance,
                });
            }
            let now = self.now_ms();
            let next = player::Model {
                balance: p.balance.saturating_add(total),
                total_earned: p.total_earned.saturating_add(total),
                version: p.version + 1,
                updated_at: now,
                ..p.clone()
            };
            let _writer = self.sqlite_writer().await;
            let txn = self.db().begin().await?;
            match self.collect_in(&txn, &p, &next, &dues).await {
                Ok(true) => {}
                Ok(false) => {
                    txn.rollback().await?;
                    drop(_writer);
                    back_off(attempt).await;
                    continue;
                }
                Err(e) => {
                    txn.rollback().await?;
                    return Err(e);
                }
            }
            txn.commit().await?;
            drop(_writer);
            metrics::counter!("referral_share_coins_total").increment(total as u64);
            self.after_commit(&next).await;
            return Ok(Collected {
                collected: total,
                balance: next.balance,
            });
        }
        Err(GameError::Contended)
    }

    /// The collection's writes inside `txn`; false when the row or a share moved meanwhile.
    async fn collect_in(
        &self,
        txn: &DatabaseTransaction,
        p: &player::Model,
        next: &player::Model,
        dues: &[Due],
    ) -> Result<bool, GameError> {
        if !self.swap_player(txn, p.version, next).await? {
            return Ok(false);
        }
        let now = next.updated_at;
        for d in dues {
            match d.collected {
                Some(had) => {
                    let raised = referral_share::Entity::update_many()
                        .col_expr(referral_share::Column::Collected, Expr::value(had + d.due))
                        .col_expr(referral_share::Column::UpdatedAt, Expr::value(now))
                        .filter(referral_share::Column::PlayerId.eq(p.id))
                        .filter(referral_share::Column::FriendId.eq(d.friend))
                        .filter(referral_share::Column::Collected.eq(had))
                        .exec(txn)
                        .await?;
                    if raised.rows_affected != 1 {
                        return Ok(false);
                    }
                }
                None => {
                    let first = referral_share::Entity::insert(referral_share::ActiveModel {
                        player_id: Set(p.id),
                        friend_id: Set(d.friend),
                        collected: Set(d.due),
                        updated_at: Set(now),
                    })
                    .exec_without_returning(txn)
                    .await
                    .map_err(GameError::from);
                    match first {
                        Ok(_) => {}
                        Err(e) if is_unique_violation(&e) => return Ok(false),
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        let total = next.balance - p.balance;
        ledger::Entity::insert(ledger_row(
            p.id,
            total,
            "share",
            next.version.to_string(),
            next.balance,
            now,
        ))
        .exec_without_returning(txn)
        .await?;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::share_of;

    #[test]
    fn shares_are_capped_and_never_negative() {
        assert_eq!(share_of(10_000, 1_000, 1_000_000), 1_000);
        assert_eq!(share_of(10_000, 250, 1_000_000), 250);
        assert_eq!(share_of(99, 1_000, 1_000_000), 9);
        assert_eq!(share_of(50_000_000, 1_000, 1_000_000), 1_000_000);
        assert_eq!(share_of(-5, 1_000, 1_000_000), 0);
        assert_eq!(share_of(i64::MAX, 10_000, i64::MAX), i64::MAX);
    }
}
