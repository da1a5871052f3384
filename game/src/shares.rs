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
//! per (player, friend) the coins collected so far. Friends are read one statement per level
//! with their own share income alongside. A collection is one transaction: a compare-and-swap on
//! the player's row first, then the friends' new totals upserted a thousand per statement, and a
//! `share` ledger row. Only collections write a player's `referral_shares`, each behind that
//! swap, so any interleaving of collections pays each coin of a share once.

use crate::economy::{back_off, ledger_row, MAX_ATTEMPTS};
use crate::{Game, GameError};
use entities::{ledger, player, referral_share};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect,
    TransactionTrait,
};
use serde::Serialize;
use std::collections::HashMap;

/// Friends' rows per statement of a collection.
const WRITE_CHUNK: usize = 1_000;

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
    /// `(id, total_earned, share income)` of the players `referrer` invited (`level` 1) or their
    /// friends invited (`level` 2), banned ones left out; share income is what each collected as
    /// shares of their own friends. One statement, whatever the number of friends.
    async fn feeding(&self, referrer: i64, level: u8) -> Result<Vec<(i64, i64, i64)>, GameError> {
        let own = Expr::cust(
            "CAST(COALESCE((SELECT SUM(s.collected) FROM referral_shares s \
             WHERE s.player_id = players.id), 0) AS BIGINT)",
        );
        let select = player::Entity::find()
            .select_only()
            .column(player::Column::Id)
            .column(player::Column::TotalEarned)
            .column_as(own, "own")
            .filter(player::Column::Banned.eq(false));
        let select = if level == 1 {
            select.filter(player::Column::ReferrerId.eq(referrer))
        } else {
            select.filter(
                player::Column::ReferrerId.in_subquery(
                    Query::select()
                        .column(player::Column::Id)
                        .from(player::Entity)
                        .and_where(player::Column::ReferrerId.eq(referrer))
                        .to_owned(),
                ),
            )
        };
        Ok(select.into_tuple().all(self.db()).await?)
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
        let mut feeding = Vec::new();
        for (level, bps) in [(1, cfg.share_bps), (2, cfg.second_share_bps)] {
            if bps > 0 {
                let friends = self.feeding(id, level).await?;
                feeding.extend(friends.into_iter().map(|f| (f, bps)));
            }
        }
        Ok(feeding
            .into_iter()
            .filter_map(|((friend, earned, own), bps)| {
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
        // The swap above holds the player's row until commit, and every write of the player's
        // `referral_shares` happens behind such a swap: the amounts this collection read are
        // those stored at the version it swapped, so each friend's new total is written as is,
        // many rows per statement.
        for chunk in dues.chunks(WRITE_CHUNK) {
            let rows = chunk.iter().map(|d| referral_share::ActiveModel {
                player_id: Set(p.id),
                friend_id: Set(d.friend),
                collected: Set(d.collected.unwrap_or(0) + d.due),
                updated_at: Set(now),
            });
            referral_share::Entity::insert_many(rows)
                .on_conflict(
                    OnConflict::columns([
                        referral_share::Column::PlayerId,
                        referral_share::Column::FriendId,
                    ])
                    .update_columns([
                        referral_share::Column::Collected,
                        referral_share::Column::UpdatedAt,
                    ])
                    .to_owned(),
                )
                .exec_without_returning(txn)
                .await?;
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
