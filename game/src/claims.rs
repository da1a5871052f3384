//! Claims: coins leaving the game for a player's TON wallet, and the payout state machine.
//!
//! Making a claim is one transaction: a conditional debit (`… WHERE balance >= amount` and the
//! cool-down), the daily caps as conditional upserts, the claim row (unique per idempotency key)
//! and its ledger row. Any failure rolls all of it back, so a balance never goes below zero and one
//! key makes one claim and one debit however many times and however concurrently it is sent.
//!
//! Payouts move claims `pending → processing → sent` (or `→ exported → sent` through a treasury
//! export). Workers lease claims with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so several run at
//! once without sharing a claim; a transfer handed to the chain is recorded first (`submitted_at`,
//! `valid_until`), so a worker that crashed reconciles with the chain before sending again. A payout
//! that fails is refunded through the ledger, once.

use crate::{Game, GameError};
use entities::{claim, game_setting, ledger, player, wallet};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect, SqlErr, Statement, TransactionTrait, Value,
};
use serde::Serialize;

/// The game setting that pauses new claims.
pub const CLAIMS_PAUSED: &str = "claims_paused";
/// Longest idempotency key.
pub const MAX_KEY_LEN: usize = 64;
/// Largest amount one claim may carry (keeps every sum far from overflow).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// Why a claim could not be made or moved on.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimError {
    /// The amount is not a positive whole number.
    #[error("amount must be a whole number of coins, 1 or more")]
    InvalidAmount,
    /// The idempotency key is empty, too long or has odd characters.
    #[error("idempotency_key must be 1 to 64 characters of A-Z, a-z, 0-9, '-', '_', ':' or '.'")]
    InvalidKey,
    /// The key was used before for a different amount.
    #[error("this idempotency_key was already used for a different claim")]
    KeyReused,
    /// Below `claims.min_amount`.
    #[error("the smallest claim is {min} coins")]
    BelowMinimum {
        /// The configured minimum.
        min: i64,
    },
    /// The player has no wallet.
    #[error("connect a wallet before claiming")]
    NoWallet,
    /// The game requires a proven wallet and this one is not.
    #[error("prove that you own the wallet (connect it with TON Connect) before claiming")]
    WalletNotProven,
    /// Not enough coins.
    #[error("the balance is too low for this claim")]
    InsufficientBalance,
    /// An admin paused claims.
    #[error("claims are paused for now; your coins are safe")]
    Paused,
    /// The player has an open anti-cheat flag and the game excludes flagged players from claims.
    #[error("claims from this account are on hold while it is reviewed; your coins are safe, and support can tell you more")]
    Flagged,
    /// Over the player's daily cap.
    #[error("this claim would pass today's limit of {cap} coins per player")]
    PlayerDailyCap {
        /// The cap.
        cap: i64,
    },
    /// Over the game's daily cap.
    #[error("today's claims are used up for the whole game; try again tomorrow")]
    GlobalDailyCap,
    /// Too soon after the previous claim.
    #[error("wait a little before the next claim")]
    Cooldown {
        /// Seconds to wait.
        retry_after_secs: u64,
    },
    /// No claim or batch by that id in a state that allows the change.
    #[error("no such claim or batch in a state that allows this")]
    NotFound,
}

/// A claim as its player sees it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ClaimView {
    /// Claim id.
    pub id: i64,
    /// Coins.
    pub amount: i64,
    /// `pending`, `processing`, `exported`, `sent` or `refunded`.
    pub status: String,
    /// Destination.
    pub address: String,
    /// The transfer's transaction hash, once sent.
    pub tx_hash: Option<String>,
    /// Why it was refunded.
    pub error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// The player's balance after the claim (only in the answer that made it, or repeated it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub balance: Option<i64>,
}

fn view(c: &claim::Model, balance: Option<i64>) -> ClaimView {
    ClaimView {
        id: c.id,
        amount: c.amount,
        status: c.status.clone(),
        address: c.address.clone(),
        tx_hash: c.tx_hash.clone(),
        error: c.error.clone(),
        created_at: c.created_at,
        balance,
    }
}

/// A claim leased to a worker for payout.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeasedClaim {
    /// Claim id.
    pub id: i64,
    /// The player.
    pub player_id: i64,
    /// Coins.
    pub amount: i64,
    /// Destination (normalised user-friendly form).
    pub address: String,
    /// When a transfer was handed to the chain, if one was.
    pub submitted_at: Option<i64>,
    /// After this instant (unix ms) a submitted transfer can no longer land.
    pub valid_until: Option<i64>,
    /// Payout attempts so far (this one included).
    pub attempts: i32,
}

fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'))
}

/// The UTC day (days since the epoch) of a unix-ms instant.
pub fn utc_day(ms: i64) -> i64 {
    ms.div_euclid(86_400_000)
}

impl Game {
    /// Whether an admin paused claims.
    pub async fn claims_paused(&self) -> Result<bool, GameError> {
        Ok(game_setting::Entity::find_by_id(CLAIMS_PAUSED)
            .one(self.db())
            .await?
            .is_some_and(|s| s.value == "true"))
    }

    /// Pauses or resumes new claims for every instance (payouts of existing claims go on); the
    /// admin's action is audited in the same transaction.
    pub async fn set_claims_paused(&self, admin: i64, paused: bool) -> Result<(), GameError> {
        let now = self.now_ms();
        let _writer = self.sqlite_writer().await;
        let txn = self.db().begin().await?;
        game_setting::Entity::insert(game_setting::ActiveModel {
            key: Set(CLAIMS_PAUSED.to_owned()),
            value: Set(paused.to_string()),
            updated_by: Set(Some(admin)),
            updated_at: Set(now),
        })
        .on_conflict(
            sea_orm::sea_query::OnConflict::column(game_setting::Column::Key)
                .update_columns([
                    game_setting::Column::Value,
                    game_setting::Column::UpdatedBy,
                    game_setting::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
        let action = if paused {
            "claims_pause"
        } else {
            "claims_resume"
        };
        crate::admin::audit(&txn, admin, action, None, serde_json::json!({}), now).await?;
        txn.commit().await?;
        Ok(())
    }

    /// The player's claims, newest first (at most 100).
    pub async fn claims_of(&self, player: i64) -> Result<Vec<ClaimView>, GameError> {
        self.playing(player).await?;
        Ok(claim::Entity::find()
            .filter(claim::Column::PlayerId.eq(player))
            .order_by_desc(claim::Column::Id)
            .limit(100)
            .all(self.db())
            .await?
            .iter()
            .map(|c| view(c, None))
            .collect())
    }

    async fn existing_claim(
        &self,
        player: i64,
        key: &str,
        amount: i64,
    ) -> Result<Option<ClaimView>, GameError> {
        let Some(c) = claim::Entity::find()
            .filter(claim::Column::PlayerId.eq(player))
            .filter(claim::Column::IdempotencyKey.eq(key))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        if c.amount != amount {
            return Err(ClaimError::KeyReused.into());
        }
        let balance = player::Entity::find_by_id(player)
            .one(self.db())
            .await?
            .map(|p| p.balance);
        Ok(Some(view(&c, balance)))
    }

    /// Makes a claim of `amount` coins under `key`. Returns the claim and whether this call made it
    /// (false: the key had made it before, and the same claim is answered).
    pub async fn create_claim(
        &self,
        player: i64,
        amount: Option<i64>,
        key: Option<&str>,
    ) -> Result<(ClaimView, bool), GameError> {
        let amount = amount
            .filter(|a| (1..=MAX_AMOUNT).contains(a))
            .ok_or(ClaimError::InvalidAmount)?;
        let key = key
            .filter(|k| is_valid_key(k))
            .ok_or(ClaimError::InvalidKey)?;
        self.playing(player).await?;
        if let Some(existing) = self.existing_claim(player, key, amount).await? {
            return Ok((existing, false));
        }
        let cfg = self.config().claims.clone();
        if amount < cfg.min_amount {
            return Err(ClaimError::BelowMinimum {
                min: cfg.min_amount,
            }
            .into());
        }
        if self.claims_paused().await? {
            return Err(ClaimError::Paused.into());
        }
        if cfg.exclude_flagged && self.is_flagged(player).await? {
            return Err(ClaimError::Flagged.into());
        }
        let w = wallet::Entity::find_by_id(player)
            .one(self.db())
            .await?
            .ok_or(ClaimError::NoWallet)?;
        if cfg.require_proven_wallet && !w.proven {
            return Err(ClaimError::WalletNotProven.into());
        }
        if cfg.player_daily_cap > 0 && amount > cfg.player_daily_cap {
            return Err(ClaimError::PlayerDailyCap {
                cap: cfg.player_daily_cap,
            }
            .into());
        }
        if cfg.global_daily_cap > 0 && amount > cfg.global_daily_cap {
            return Err(ClaimError::GlobalDailyCap.into());
        }
        let now = self.now_ms();
        let day = utc_day(now);
        let _writer = self.sqlite_writer().await;
        let txn = self.db().begin().await?;
        match self
            .claim_in(&txn, player, amount, key, &w.address, day, now)
            .await
        {
            Ok((claim, balance, version)) => {
                txn.commit().await?;
                if let Err(e) = self.board_record(player, version, balance).await {
                    tracing::warn!(error = %e, player, "leaderboard update failed");
                }
                metrics::counter!("claims_created_total").increment(1);
                Ok((view(&claim, Some(balance)), true))
            }
            Err(GameError::Database(e))
                if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) =>
            {
                // The same key, concurrently: the other request made the claim; answer it.
                txn.rollback().await?;
                drop(_writer);
                match self.existing_claim(player, key, amount).await? {
                    Some(existing) => Ok((existing, false)),
                    None => Err(GameError::Database(e)),
                }
            }
            Err(e) => {
                txn.rollback().await?;
                drop(_writer);
                // A request with the same key may have won the race for the balance (or the
                // cool-down, or the cap): then this request is a repeat and gets that claim.
                if let GameError::Claim(_) = e {
                    if let Some(existing) = self.existing_claim(player, key, amount).await? {
                        return Ok((existing, false));
                    }
                }
                Err(e)
            }
        }
    }

    /// The claim's writes, inside the caller's transaction.
    #[allow(clippy::too_many_arguments)]
    async fn claim_in(
        &self,
        txn: &DatabaseTransaction,
        player: i64,
        amount: i64,
        key: &str,
        address: &str,
        day: i64,
        now: i64,
    ) -> Result<(claim::Model, i64, i64), GameError> {
        let cfg = &self.config().claims;
        let backend = txn.get_database_backend();
        // The debit: enough coins, not banned, past the cool-down — or nothing happens.
        let cooldown_ms = cfg.cooldown_secs * 1000;
        let debit = Query::update()
            .table(player::Entity)
            .value(
                player::Column::Balance,
                Expr::col(player::Column::Balance).sub(amount),
            )
            .value(
                player::Column::Version,
                Expr::col(player::Column::Version).add(1),
            )
            .value(player::Column::LastClaimAt, now)
            .value(player::Column::UpdatedAt, now)
            .and_where(player::Column::Id.eq(player))
            .and_where(player::Column::Balance.gte(amount))
            .and_where(player::Column::Banned.eq(false))
            .returning(
                Query::returning().columns([player::Column::Balance, player::Column::Version]),
            )
            .to_owned();
        let mut debit = debit;
        if cooldown_ms > 0 {
            debit.and_where(
                player::Column::LastClaimAt
                    .is_null()
                    .or(player::Column::LastClaimAt.lte(now - cooldown_ms)),
            );
        }
        let Some(row) = txn.query_one(backend.build(&debit)).await? else {
            let p = player::Entity::find_by_id(player)
                .one(txn)
                .await?
                .ok_or(GameError::UnknownPlayer)?;
            return Err(if p.banned {
                GameError::Banned
            } else if p.balance < amount {
                ClaimError::InsufficientBalance.into()
            } else {
                let wait = p.last_claim_at.unwrap_or(now) + cooldown_ms - now;
                ClaimError::Cooldown {
                    retry_after_secs: (wait.max(1000) as u64).div_ceil(1000),
                }
                .into()
            });
        };
        let balance: i64 = row.try_get("", "balance")?;
        let version: i64 = row.try_get("", "version")?;
        // Daily caps: one conditional upsert each; a total that would pass the cap changes nothing.
        if cfg.player_daily_cap > 0
            && !add_to_day(txn, day, player, amount, cfg.player_daily_cap).await?
        {
            return Err(ClaimError::PlayerDailyCap {
                cap: cfg.player_daily_cap,
            }
            .into());
        }
        if cfg.global_daily_cap > 0
            && !add_to_day(txn, day, 0, amount, cfg.global_daily_cap).await?
        {
            return Err(ClaimError::GlobalDailyCap.into());
        }
        let claim = claim::Entity::insert(claim::ActiveModel {
            player_id: Set(player),
            amount: Set(amount),
            status: Set("pending".to_owned()),
            idempotency_key: Set(key.to_owned()),
            address: Set(address.to_owned()),
            day: Set(day),
            attempts: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        })
        .exec_with_returning(txn)
        .await?;
        ledger::Entity::insert(ledger::ActiveModel {
            player_id: Set(player),
            amount: Set(-amount),
            kind: Set("claim".to_owned()),
            reference: Set(claim.id.to_string()),
            balance_after: Set(balance),
            created_at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(txn)
        .await?;
        Ok((claim, balance, version))
    }

    /// Leases up to `limit` claims for payout to `owner` for `lease_ms`: new ones, and ones whose
    /// previous worker's lease ran out (those handed to the chain come with `submitted_at`, to be
    /// reconciled before anything is sent again).
    pub async fn lease_claims(
        &self,
        owner: &str,
        limit: u64,
        lease_ms: i64,
    ) -> Result<Vec<LeasedClaim>, GameError> {
        let now = self.now_ms();
        let backend = self.db().get_database_backend();
        let lock = if backend == DbBackend::Postgres {
            "FOR UPDATE SKIP LOCKED"
        } else {
            ""
        };
        let p = |i: usize| {
            if backend == DbBackend::Postgres {
                format!("${i}")
            } else {
                "?".to_owned()
            }
        };
        let sql = format!(
            "UPDATE claims SET status = 'processing', lease_owner = {}, lease_until = {}, \
             attempts = attempts + 1, updated_at = {} \
             WHERE id IN (SELECT id FROM claims WHERE status = 'pending' \
                OR (status = 'processing' AND lease_until < {}) ORDER BY id LIMIT {} {lock}) \
             RETURNING id, player_id, amount, address, submitted_at, valid_until, attempts",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5)
        );
        let values: Vec<Value> = vec![
            owner.into(),
            (now + lease_ms).into(),
            now.into(),
            now.into(),
            (limit as i64).into(),
        ];
        let _writer = self.sqlite_writer().await;
        let rows = self
            .db()
            .query_all(Statement::from_sql_and_values(backend, sql, values))
            .await?;
        let mut leased = rows
            .iter()
            .map(|r| {
                Ok(LeasedClaim {
                    id: r.try_get("", "id")?,
                    player_id: r.try_get("", "player_id")?,
                    amount: r.try_get("", "amount")?,
                    address: r.try_get("", "address")?,
                    submitted_at: r.try_get("", "submitted_at")?,
                    valid_until: r.try_get("", "valid_until")?,
                    attempts: r.try_get("", "attempts")?,
                })
            })
            .collect::<Result<Vec<_>, sea_orm::DbErr>>()?;
        leased.sort_by_key(|c| c.id);
        Ok(leased)
    }

    async fn move_claim(
        &self,
        id: i64,
        owner: Option<&str>,
        from: &[&str],
        set: Vec<(claim::Column, sea_orm::sea_query::SimpleExpr)>,
    ) -> Result<bool, GameError> {
        let mut update = claim::Entity::update_many()
            .col_expr(claim::Column::UpdatedAt, Expr::value(self.now_ms()))
            .filter(claim::Column::Id.eq(id))
            .filter(claim::Column::Status.is_in(from.iter().copied()));
        if let Some(owner) = owner {
            update = update.filter(claim::Column::LeaseOwner.eq(owner));
        }
        for (col, value) in set {
            update = update.col_expr(col, value);
        }
        let _writer = self.sqlite_writer().await;
        Ok(update.exec(self.db()).await?.rows_affected == 1)
    }

    /// Records that a transfer for the claim is about to be handed to the chain and cannot land
    /// after `valid_until`. Written before sending, so a crash after it is reconciled, not resent.
    pub async fn mark_claim_submitted(
        &self,
        id: i64,
        owner: &str,
        valid_until: i64,
    ) -> Result<bool, GameError> {
        let now = self.now_ms();
        self.move_claim(
            id,
            Some(owner),
            &["processing"],
            vec![
                (claim::Column::SubmittedAt, Expr::value(now)),
                (claim::Column::ValidUntil, Expr::value(valid_until)),
            ],
        )
        .await
    }

    /// Forgets a submission that provably never landed (its `valid_until` passed with no
    /// transaction on chain), so the claim may be sent again.
    pub async fn clear_claim_submission(&self, id: i64, owner: &str) -> Result<bool, GameError> {
        self.move_claim(
            id,
            Some(owner),
            &["processing"],
            vec![
                (claim::Column::SubmittedAt, Expr::value(Option::<i64>::None)),
                (claim::Column::ValidUntil, Expr::value(Option::<i64>::None)),
            ],
        )
        .await
    }

    /// Marks a leased claim sent with its transaction hash.
    pub async fn mark_claim_sent(
        &self,
        id: i64,
        owner: &str,
        tx_hash: &str,
    ) -> Result<bool, GameError> {
        let done = self
            .move_claim(
                id,
                Some(owner),
                &["processing"],
                vec![
                    (claim::Column::Status, Expr::value("sent")),
                    (claim::Column::TxHash, Expr::value(tx_hash)),
                    (
                        claim::Column::LeaseOwner,
                        Expr::value(Option::<String>::None),
                    ),
                ],
            )
            .await?;
        if done {
            metrics::counter!("claims_sent_total").increment(1);
        }
        Ok(done)
    }

    /// Marks leased claims exported in treasury batch `batch_id`.
    pub async fn mark_claims_exported(
        &self,
        ids: &[i64],
        owner: &str,
        batch_id: &str,
    ) -> Result<u64, GameError> {
        let _writer = self.sqlite_writer().await;
        let res = claim::Entity::update_many()
            .col_expr(claim::Column::Status, Expr::value("exported"))
            .col_expr(claim::Column::BatchId, Expr::value(batch_id))
            .col_expr(
                claim::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(claim::Column::UpdatedAt, Expr::value(self.now_ms()))
            .filter(claim::Column::Id.is_in(ids.iter().copied()))
            .filter(claim::Column::Status.eq("processing"))
            .filter(claim::Column::LeaseOwner.eq(owner))
            .exec(self.db())
            .await?;
        Ok(res.rows_affected)
    }

    /// An admin records that the treasury paid export batch `batch_id` in transaction `tx_hash`
    /// (audited). Returns how many claims moved to `sent`.
    pub async fn mark_batch_sent(
        &self,
        admin: i64,
        batch_id: &str,
        tx_hash: &str,
    ) -> Result<u64, GameError> {
        let now = self.now_ms();
        let _writer = self.sqlite_writer().await;
        let txn = self.db().begin().await?;
        let res = claim::Entity::update_many()
            .col_expr(claim::Column::Status, Expr::value("sent"))
            .col_expr(claim::Column::TxHash, Expr::value(tx_hash))
            .col_expr(claim::Column::UpdatedAt, Expr::value(now))
            .filter(claim::Column::BatchId.eq(batch_id))
            .filter(claim::Column::Status.eq("exported"))
            .exec(&txn)
            .await?;
        if res.rows_affected == 0 {
            txn.rollback().await?;
            return Err(ClaimError::NotFound.into());
        }
        let detail =
            serde_json::json!({"batch": batch_id, "tx_hash": tx_hash, "claims": res.rows_affected});
        crate::admin::audit(&txn, admin, "payout_sent", None, detail, now).await?;
        txn.commit().await?;
        metrics::counter!("claims_sent_total").increment(res.rows_affected);
        Ok(res.rows_affected)
    }

    /// Refunds a claim whose payout failed: the claim becomes `refunded` and the coins return
    /// through the ledger, in one transaction, once. Returns the claim, or `None` if it was not in
    /// a refundable state (already sent or refunded).
    pub async fn refund_claim(
        &self,
        id: i64,
        reason: &str,
    ) -> Result<Option<claim::Model>, GameError> {
        let now = self.now_ms();
        let _writer = self.sqlite_writer().await;
        let txn = self.db().begin().await?;
        let moved = claim::Entity::update_many()
            .col_expr(claim::Column::Status, Expr::value("refunded"))
            .col_expr(claim::Column::Error, Expr::value(reason))
            .col_expr(
                claim::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(claim::Column::UpdatedAt, Expr::value(now))
            .filter(claim::Column::Id.eq(id))
            .filter(claim::Column::Status.is_in(["pending", "processing", "exported"]))
            .exec(&txn)
            .await?;
        if moved.rows_affected != 1 {
            txn.rollback().await?;
            return Ok(None);
        }
        let c = claim::Entity::find_by_id(id)
            .one(&txn)
            .await?
            .ok_or(ClaimError::NotFound)?;
        let credit = Query::update()
            .table(player::Entity)
            .value(
                player::Column::Balance,
                Expr::col(player::Column::Balance).add(c.amount),
            )
            .value(
                player::Column::Version,
                Expr::col(player::Column::Version).add(1),
            )
            .value(player::Column::UpdatedAt, now)
            .and_where(player::Column::Id.eq(c.player_id))
            .returning(
                Query::returning().columns([player::Column::Balance, player::Column::Version]),
            )
            .to_owned();
        let backend = txn.get_database_backend();
        let row = txn
            .query_one(backend.build(&credit))
            .await?
            .ok_or(GameError::UnknownPlayer)?;
        let balance: i64 = row.try_get("", "balance")?;
        let version: i64 = row.try_get("", "version")?;
        ledger::Entity::insert(ledger::ActiveModel {
            player_id: Set(c.player_id),
            amount: Set(c.amount),
            kind: Set("claim_refund".to_owned()),
            reference: Set(c.id.to_string()),
            balance_after: Set(balance),
            created_at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        metrics::counter!("claims_refunded_total").increment(1);
        if let Err(e) = self.board_record(c.player_id, version, balance).await {
            tracing::warn!(error = %e, "leaderboard update failed");
        }
        Ok(Some(c))
    }

    /// The limits a player's claim form shows, with what is left of today's caps for them.
    pub async fn claim_limits(&self, player: i64) -> Result<serde_json::Value, GameError> {
        use entities::claim_day;
        let p = self.playing(player).await?;
        let c = &self.config().claims;
        let now = self.now_ms();
        let day = utc_day(now);
        let total = |who: i64| async move {
            Ok::<i64, GameError>(
                claim_day::Entity::find_by_id((day, who))
                    .one(self.db())
                    .await?
                    .map_or(0, |d| d.total),
            )
        };
        let left = |cap: i64, used: i64| {
            if cap > 0 {
                Some((cap - used).max(0))
            } else {
                None
            }
        };
        let cooldown_left = p
            .last_claim_at
            .map_or(0, |at| (at + c.cooldown_secs * 1000 - now).max(0))
            .div_euclid(1000);
        Ok(serde_json::json!({
            "min_amount": c.min_amount,
            "player_daily_cap": c.player_daily_cap,
            "player_daily_left": left(c.player_daily_cap, total(player).await?),
            "global_daily_left": left(c.global_daily_cap, total(0).await?),
            "cooldown_secs": c.cooldown_secs,
            "cooldown_left_secs": cooldown_left,
            "require_proven_wallet": c.require_proven_wallet,
            "paused": self.claims_paused().await?,
            "flagged": c.exclude_flagged && self.is_flagged(player).await?,
            "balance": p.balance,
        }))
    }

    /// The claims of an export batch still waiting for the treasury, in id order.
    pub async fn exported_claims(&self, batch_id: &str) -> Result<Vec<LeasedClaim>, GameError> {
        Ok(claim::Entity::find()
            .filter(claim::Column::BatchId.eq(batch_id))
            .filter(claim::Column::Status.eq("exported"))
            .order_by_asc(claim::Column::Id)
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| LeasedClaim {
                id: c.id,
                player_id: c.player_id,
                amount: c.amount,
                address: c.address,
                submitted_at: c.submitted_at,
                valid_until: c.valid_until,
                attempts: c.attempts,
            })
            .collect())
    }

    /// Export batches whose claims still wait for the treasury.
    pub async fn export_batches_waiting(&self) -> Result<Vec<String>, GameError> {
        let rows = claim::Entity::find()
            .select_only()
            .column(claim::Column::BatchId)
            .distinct()
            .filter(claim::Column::Status.eq("exported"))
            .into_tuple::<Option<String>>()
            .all(self.db())
            .await?;
        Ok(rows.into_iter().flatten().collect())
    }

    /// Claims waiting for payout (pending or processing), for alarms and `/stats`.
    pub async fn pending_claims(&self) -> Result<u64, GameError> {
        use sea_orm::PaginatorTrait;
        Ok(claim::Entity::find()
            .filter(claim::Column::Status.is_in(["pending", "processing"]))
            .count(self.db())
            .await?)
    }
}

/// Adds `amount` to a day's total unless that passes `cap`; false when it would.
async fn add_to_day(
    txn: &DatabaseTransaction,
    day: i64,
    player: i64,
    amount: i64,
    cap: i64,
) -> Result<bool, GameError> {
    let backend = txn.get_database_backend();
    let (a, b, c, d) = if backend == DbBackend::Postgres {
        ("$1", "$2", "$3", "$4")
    } else {
        ("?", "?", "?", "?")
    };
    let sql = format!(
        "INSERT INTO claim_days (day, player_id, total) VALUES ({a}, {b}, {c}) \
         ON CONFLICT (day, player_id) DO UPDATE SET total = claim_days.total + excluded.total \
         WHERE claim_days.total + excluded.total <= {d}"
    );
    let res = txn
        .execute(Statement::from_sql_and_values(
            backend,
            sql,
            [day.into(), player.into(), amount.into(), cap.into()],
        ))
        .await?;
    Ok(res.rows_affected() == 1)
}
