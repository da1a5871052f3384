//! Admin actions from the bot: ban, unban, grant, statistics — each written to the audit log.
//!
//! Every action writes its `audit_log` row in the same transaction as its change, so the log
//! holds exactly the actions that happened. A ban bumps the player's row version (in-flight tap
//! batches then retry and meet the ban) and takes the player off the leaderboard. A grant is a
//! balance change like any other: a compare-and-swap on the row version plus a `grant` ledger
//! row whose reference names the admin and the admin's message, so a redelivered update never
//! grants twice (the ledger's unique `(player, kind, reference)` key refuses it).

use crate::{Game, GameError};
use entities::{audit_log, broadcast, claim, ledger, player};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QuerySelect, TransactionTrait,
};
use serde_json::json;
use std::time::Duration;

/// The largest single grant, so a typo cannot mint an absurd balance.
pub const MAX_GRANT: i64 = 1_000_000_000_000;
/// Attempts at a compare-and-swap before answering "contended".
const MAX_ATTEMPTS: u32 = 100;
const DAY_MS: i64 = 86_400_000;

/// The game in numbers, for `/stats`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    /// Players ever.
    pub players: u64,
    /// Players active since midnight UTC.
    pub active_today: u64,
    /// Banned players.
    pub banned: u64,
    /// Tap batches that earned coins since midnight UTC.
    pub tap_batches_today: u64,
    /// Coins earned by tapping since midnight UTC.
    pub tap_coins_today: i64,
    /// Coins that entered balances since midnight UTC, all sources.
    pub coins_today: i64,
    /// Broadcasts still being delivered.
    pub running_broadcasts: u64,
    /// Claims not paid out yet (`pending`, `processing` or `exported`).
    pub pending_claims: u64,
}

/// What a ban or unban found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BanChange {
    /// The player's standing changed.
    Changed,
    /// The player already stood so; nothing changed.
    Unchanged,
}

/// What a grant did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Granted {
    /// The player's balance after the grant.
    pub balance: i64,
    /// This grant had been applied already (the same admin message); nothing changed.
    pub duplicate: bool,
}

pub(crate) async fn audit<C: ConnectionTrait>(
    db: &C,
    admin: i64,
    action: &str,
    target: Option<i64>,
    detail: serde_json::Value,
    now: i64,
) -> Result<(), GameError> {
    audit_log::Entity::insert(audit_log::ActiveModel {
        admin_id: Set(admin),
        action: Set(action.to_owned()),
        target_id: Set(target),
        detail: Set(detail.to_string()),
        created_at: Set(now),
        ..Default::default()
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

impl Game {
    /// Bans `target` (see the module header); the API then answers it 403 `banned`.
    pub async fn ban(&self, admin: i64, target: i64) -> Result<BanChange, GameError> {
        let change = self.set_banned(admin, target, true).await?;
        let week = crate::rules::iso_week(self.now_ms());
        if let Err(e) = self.inner.board.remove(target, &week).await {
            tracing::warn!(error = %e, player = target, "leaderboard removal failed");
        }
        Ok(change)
    }

    /// Lifts a ban and puts the player back on the leaderboard.
    pub async fn unban(&self, admin: i64, target: i64) -> Result<BanChange, GameError> {
        let change = self.set_banned(admin, target, false).await?;
        // Back on every board, with this week's coins earned before the ban.
        if let Err(e) = self
            .restore_on_boards(player::Entity::find_by_id(target))
            .await
        {
            tracing::warn!(error = %e, player = target, "leaderboard update failed");
        }
        Ok(change)
    }

    async fn set_banned(
        &self,
        admin: i64,
        target: i64,
        banned: bool,
    ) -> Result<BanChange, GameError> {
        let now = self.now_ms();
        let _writer = self.sqlite_writer().await;
        let txn = self.inner.db.begin().await?;
        let updated = player::Entity::update_many()
            .col_expr(player::Column::Banned, Expr::value(banned))
            .col_expr(
                player::Column::Version,
                Expr::col(player::Column::Version).add(1),
            )
            .col_expr(player::Column::UpdatedAt, Expr::value(now))
            .filter(player::Column::Id.eq(target))
            .filter(player::Column::Banned.eq(!banned))
            .exec(&txn)
            .await?;
        let change = if updated.rows_affected == 1 {
            BanChange::Changed
        } else if player::Entity::find_by_id(target)
            .one(&txn)
            .await?
            .is_some()
        {
            BanChange::Unchanged
        } else {
            txn.rollback().await?;
            return Err(GameError::UnknownPlayer);
        };
        let action = if banned { "ban" } else { "unban" };
        let detail = json!({ "changed": change == BanChange::Changed });
        audit(&txn, admin, action, Some(target), detail, now).await?;
        txn.commit().await?;
        Ok(change)
    }

    /// Adds `amount` coins to `target`'s balance, once per `(admin, grant_id)`.
    pub async fn grant(
        &self,
        admin: i64,
        target: i64,
        amount: i64,
        grant_id: &str,
    ) -> Result<Granted, GameError> {
        if !(1..=MAX_GRANT).contains(&amount) {
            return Err(GameError::InvalidAmount);
        }
        let reference = format!("admin:{admin}:{grant_id}");
        let db = &self.inner.db;
        for attempt in 0..MAX_ATTEMPTS {
            let p = player::Entity::find_by_id(target)
                .one(db)
                .await?
                .ok_or(GameError::UnknownPlayer)?;
            let already = ledger::Entity::find()
                .filter(ledger::Column::PlayerId.eq(target))
                .filter(ledger::Column::Kind.eq("grant"))
                .filter(ledger::Column::Reference.eq(reference.as_str()))
                .one(db)
                .await?;
            if already.is_some() {
                return Ok(Granted {
                    balance: p.balance,
                    duplicate: true,
                });
            }
            let balance = p
                .balance
                .checked_add(amount)
                .ok_or(GameError::InvalidAmount)?;
            let now = self.now_ms();
            let _writer = self.sqlite_writer().await;
            let txn = db.begin().await?;
            let updated = player::Entity::update_many()
                .col_expr(player::Column::Balance, Expr::value(balance))
                .col_expr(player::Column::Version, Expr::value(p.version + 1))
                .col_expr(player::Column::UpdatedAt, Expr::value(now))
                .filter(player::Column::Id.eq(target))
                .filter(player::Column::Version.eq(p.version))
                .exec(&txn)
                .await?;
            if updated.rows_affected != 1 {
                txn.rollback().await?;
                let jitter = rand::random::<u64>() % (1 + u64::from(attempt.min(6)) * 2);
                tokio::time::sleep(Duration::from_millis(jitter)).await;
                continue;
            }
            let row = ledger::Entity::insert(ledger::ActiveModel {
                player_id: Set(target),
                amount: Set(amount),
                kind: Set("grant".to_owned()),
                reference: Set(reference.clone()),
                balance_after: Set(balance),
                created_at: Set(now),
                ..Default::default()
            })
            .exec_without_returning(&txn)
            .await;
            if row.is_err() {
                // The same grant committed in between (its unique reference): apply it once.
                txn.rollback().await?;
                continue;
            }
            let detail = json!({ "amount": amount, "reference": reference, "balance": balance });
            audit(&txn, admin, "grant", Some(target), detail, now).await?;
            txn.commit().await?;
            if !p.banned {
                if let Err(e) = self
                    .inner
                    .board
                    .record(target, p.version + 1, balance)
                    .await
                {
                    tracing::warn!(error = %e, player = target, "leaderboard update failed");
                }
            }
            return Ok(Granted {
                balance,
                duplicate: false,
            });
        }
        Err(GameError::Contended)
    }

    /// The game in numbers; the call is audited as `stats`.
    pub async fn stats(&self, admin: i64) -> Result<Stats, GameError> {
        let db = &self.inner.db;
        let now = self.now_ms();
        let midnight = now - now.rem_euclid(DAY_MS);
        let players = player::Entity::find().count(db).await?;
        let active_today = player::Entity::find()
            .filter(player::Column::UpdatedAt.gte(midnight))
            .count(db)
            .await?;
        let banned = player::Entity::find()
            .filter(player::Column::Banned.eq(true))
            .count(db)
            .await?;
        let tap_batches_today = ledger::Entity::find()
            .filter(ledger::Column::Kind.eq("taps"))
            .filter(ledger::Column::CreatedAt.gte(midnight))
            .count(db)
            .await?;
        let sum = |kind: Option<&'static str>| async move {
            let mut q = ledger::Entity::find()
                .select_only()
                .column_as(
                    Expr::cust("CAST(COALESCE(SUM(amount), 0) AS BIGINT)"),
                    "total",
                )
                .filter(ledger::Column::CreatedAt.gte(midnight))
                .filter(ledger::Column::Amount.gt(0));
            if let Some(kind) = kind {
                q = q.filter(ledger::Column::Kind.eq(kind));
            }
            q.into_tuple::<i64>().one(db).await.map(|v| v.unwrap_or(0))
        };
        let tap_coins_today = sum(Some("taps")).await?;
        let coins_today = sum(None).await?;
        let running_broadcasts = broadcast::Entity::find()
            .filter(broadcast::Column::Status.eq("running"))
            .count(db)
            .await?;
        let pending_claims = claim::Entity::find()
            .filter(claim::Column::Status.is_in(["pending", "processing", "exported"]))
            .count(db)
            .await?;
        let _writer = self.sqlite_writer().await;
        audit(db, admin, "stats", None, json!({}), now).await?;
        Ok(Stats {
            players,
            active_today,
            banned,
            tap_batches_today,
            tap_coins_today,
            coins_today,
            running_broadcasts,
            pending_claims,
        })
    }
}
