//! Broadcasts: a message an admin sends to every player, stored as a job and delivered by the
//! worker at a rate Telegram accepts.
//!
//! A broadcast walks the players in id order behind a cursor. Each player's delivery is a row
//! unique on `(broadcast, player)`, inserted (claimed) before the message goes out and marked
//! after: a second worker, or the same one resumed after a crash, finds the claim and skips the
//! player. That makes delivery at most once — a crash between the claim and Telegram's answer
//! leaves the row `claimed`, reported as uncertain and never sent again — which is the side to
//! err on when a message cannot be taken back. Banned and unreachable players are skipped. The
//! sending itself goes through a [`Courier`], so this crate knows nothing of Telegram.

use crate::{Game, GameError};
use async_trait::async_trait;
use entities::{audit_log, broadcast, broadcast_delivery, player, unreachable_player};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, TransactionTrait,
};
use serde_json::json;
use std::time::Duration;

/// The longest broadcast text (Telegram's limit for one message).
pub const MAX_TEXT_CHARS: usize = 4096;

/// What happened to one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Delivered.
    Sent,
    /// Flood control: nothing was sent; try again after this long.
    RetryAfter(Duration),
    /// The player cannot be reached (blocked the bot, chat gone, account deleted): the reason.
    Unreachable(String),
    /// The messenger could not be reached; nothing was sent, so trying again is safe.
    NotSent(String),
    /// Refused for another reason, or the outcome is unknown: not tried again.
    Failed(String),
}

/// Sends broadcast messages and progress reports (the bot implements it over Telegram).
#[async_trait]
pub trait Courier: Send + Sync {
    /// Sends `text` to `player`'s private chat.
    async fn deliver(&self, player: i64, text: &str) -> Delivery;
    /// Tells the broadcast's admin how far it has got.
    async fn report(&self, progress: &BroadcastProgress);
}

/// A broadcast the worker still has to deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BroadcastJob {
    /// Its id.
    pub id: i64,
    /// The message.
    pub text: String,
    /// Every player with an id at or below this one has been dealt with.
    pub cursor: i64,
}

/// How far a broadcast has got.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BroadcastProgress {
    /// Its id.
    pub id: i64,
    /// The admin who sent it.
    pub admin_id: i64,
    /// The admin's Telegram language.
    pub admin_language: Option<String>,
    /// Players it was meant for when created.
    pub total: i64,
    /// Messages delivered.
    pub sent: i64,
    /// Players found unreachable.
    pub unreachable: i64,
    /// Messages refused for other reasons.
    pub failed: i64,
    /// Claimed but not confirmed (in flight, or lost in a crash; never sent twice).
    pub uncertain: i64,
    /// Every player has been dealt with.
    pub done: bool,
}

/// The final state of one delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Delivered.
    Sent,
    /// The player cannot be reached; they are skipped by later broadcasts until they `/start`.
    Unreachable,
    /// Not delivered, not tried again.
    Failed,
}

impl DeliveryStatus {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Unreachable => "unreachable",
            DeliveryStatus::Failed => "failed",
        }
    }
}

/// Players a broadcast is for: not banned, not known to be unreachable.
fn recipients() -> Select<player::Entity> {
    player::Entity::find()
        .filter(player::Column::Banned.eq(false))
        .filter(
            player::Column::Id.not_in_subquery(
                Query::select()
                    .column(unreachable_player::Column::PlayerId)
                    .from(unreachable_player::Entity)
                    .to_owned(),
            ),
        )
}

impl Game {
    /// Stores a broadcast for the worker to deliver; audited as `broadcast`. Returns its progress.
    pub async fn create_broadcast(
        &self,
        admin: i64,
        admin_language: Option<&str>,
        text: &str,
    ) -> Result<BroadcastProgress, GameError> {
        let text = text.trim();
        let chars = text.chars().count();
        if chars == 0 || chars > MAX_TEXT_CHARS {
            return Err(GameError::InvalidText);
        }
        let now = self.now_ms();
        let _writer = self.sqlite_writer().await;
        let txn = self.inner.db.begin().await?;
        let total = recipients().count(&txn).await? as i64;
        let id = broadcast::Entity::insert(broadcast::ActiveModel {
            admin_id: Set(admin),
            admin_language: Set(admin_language.map(str::to_owned)),
            text: Set(text.to_owned()),
            total: Set(total),
            cursor: Set(0),
            status: Set("running".to_owned()),
            created_at: Set(now),
            finished_at: Set(None),
            ..Default::default()
        })
        .exec(&txn)
        .await?
        .last_insert_id;
        audit_log::Entity::insert(audit_log::ActiveModel {
            admin_id: Set(admin),
            action: Set("broadcast".to_owned()),
            target_id: Set(None),
            detail: Set(json!({ "broadcast": id, "chars": chars, "total": total }).to_string()),
            created_at: Set(now),
            ..Default::default()
        })
        .exec_without_returning(&txn)
        .await?;
        txn.commit().await?;
        Ok(BroadcastProgress {
            id,
            admin_id: admin,
            admin_language: admin_language.map(str::to_owned),
            total,
            ..Default::default()
        })
    }

    /// Broadcasts not yet delivered to everyone, oldest first.
    pub async fn running_broadcasts(&self) -> Result<Vec<BroadcastJob>, GameError> {
        Ok(broadcast::Entity::find()
            .filter(broadcast::Column::Status.eq("running"))
            .order_by_asc(broadcast::Column::Id)
            .all(&self.inner.db)
            .await?
            .into_iter()
            .map(|b| BroadcastJob {
                id: b.id,
                text: b.text,
                cursor: b.cursor,
            })
            .collect())
    }

    /// The next `limit` recipients of `broadcast` after player id `after`, in id order, leaving
    /// out those whose delivery is already claimed.
    pub async fn broadcast_recipients(
        &self,
        broadcast: i64,
        after: i64,
        limit: u64,
    ) -> Result<Vec<i64>, GameError> {
        Ok(recipients()
            .select_only()
            .column(player::Column::Id)
            .filter(player::Column::Id.gt(after))
            .filter(
                player::Column::Id.not_in_subquery(
                    Query::select()
                        .column(broadcast_delivery::Column::PlayerId)
                        .from(broadcast_delivery::Entity)
                        .and_where(broadcast_delivery::Column::BroadcastId.eq(broadcast))
                        .to_owned(),
                ),
            )
            .order_by_asc(player::Column::Id)
            .limit(limit)
            .into_tuple::<i64>()
            .all(&self.inner.db)
            .await?)
    }

    /// Claims the delivery of `broadcast` to `player`: `false` if it was claimed before (by a
    /// crashed run or another worker), and the message must then not be sent.
    pub async fn claim_delivery(&self, broadcast: i64, player: i64) -> Result<bool, GameError> {
        let _writer = self.sqlite_writer().await;
        let inserted = broadcast_delivery::Entity::insert(broadcast_delivery::ActiveModel {
            broadcast_id: Set(broadcast),
            player_id: Set(player),
            status: Set("claimed".to_owned()),
            claimed_at: Set(self.now_ms()),
            finished_at: Set(None),
        })
        .on_conflict(
            OnConflict::columns([
                broadcast_delivery::Column::BroadcastId,
                broadcast_delivery::Column::PlayerId,
            ])
            .do_nothing()
            .to_owned(),
        )
        .exec_without_returning(&self.inner.db)
        .await?;
        Ok(inserted == 1)
    }

    /// Records how a claimed delivery ended; an unreachable player is remembered as such.
    pub async fn finish_delivery(
        &self,
        broadcast: i64,
        player: i64,
        status: DeliveryStatus,
        reason: &str,
    ) -> Result<(), GameError> {
        let now = self.now_ms();
        let _writer = self.sqlite_writer().await;
        let txn = self.inner.db.begin().await?;
        broadcast_delivery::Entity::update_many()
            .col_expr(
                broadcast_delivery::Column::Status,
                Expr::value(status.as_str()),
            )
            .col_expr(broadcast_delivery::Column::FinishedAt, Expr::value(now))
            .filter(broadcast_delivery::Column::BroadcastId.eq(broadcast))
            .filter(broadcast_delivery::Column::PlayerId.eq(player))
            .filter(broadcast_delivery::Column::Status.eq("claimed"))
            .exec(&txn)
            .await?;
        if status == DeliveryStatus::Unreachable {
            self.mark_unreachable_in(&txn, player, reason, now).await?;
        }
        txn.commit().await?;
        Ok(())
    }

    /// Gives back a claim whose message was certainly not sent (stopping while Telegram asked
    /// to wait), so the resumed broadcast sends it.
    pub async fn release_delivery(&self, broadcast: i64, player: i64) -> Result<(), GameError> {
        let _writer = self.sqlite_writer().await;
        broadcast_delivery::Entity::delete_many()
            .filter(broadcast_delivery::Column::BroadcastId.eq(broadcast))
            .filter(broadcast_delivery::Column::PlayerId.eq(player))
            .filter(broadcast_delivery::Column::Status.eq("claimed"))
            .exec(&self.inner.db)
            .await?;
        Ok(())
    }

    /// Remembers that the bot cannot message `player` (until they `/start` again).
    pub async fn mark_unreachable(&self, player: i64, reason: &str) -> Result<(), GameError> {
        let _writer = self.sqlite_writer().await;
        self.mark_unreachable_in(&self.inner.db, player, reason, self.now_ms())
            .await
    }

    async fn mark_unreachable_in<C: ConnectionTrait>(
        &self,
        db: &C,
        player: i64,
        reason: &str,
        now: i64,
    ) -> Result<(), GameError> {
        unreachable_player::Entity::insert(unreachable_player::ActiveModel {
            player_id: Set(player),
            reason: Set(reason.to_owned()),
            since: Set(now),
        })
        .on_conflict(
            OnConflict::column(unreachable_player::Column::PlayerId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
        Ok(())
    }

    /// Whether the bot knows it cannot message `player`.
    pub async fn is_unreachable(&self, player: i64) -> Result<bool, GameError> {
        Ok(unreachable_player::Entity::find_by_id(player)
            .one(&self.inner.db)
            .await?
            .is_some())
    }

    /// Moves a broadcast's cursor forward to `cursor` (never back: workers may race).
    pub async fn advance_broadcast(&self, broadcast: i64, cursor: i64) -> Result<(), GameError> {
        let _writer = self.sqlite_writer().await;
        broadcast::Entity::update_many()
            .col_expr(broadcast::Column::Cursor, Expr::value(cursor))
            .filter(broadcast::Column::Id.eq(broadcast))
            .filter(broadcast::Column::Cursor.lt(cursor))
            .exec(&self.inner.db)
            .await?;
        Ok(())
    }

    /// Marks a broadcast delivered; `true` for the one caller that did it (it sends the report).
    pub async fn finish_broadcast(&self, broadcast: i64) -> Result<bool, GameError> {
        let _writer = self.sqlite_writer().await;
        let updated = broadcast::Entity::update_many()
            .col_expr(broadcast::Column::Status, Expr::value("done"))
            .col_expr(broadcast::Column::FinishedAt, Expr::value(self.now_ms()))
            .filter(broadcast::Column::Id.eq(broadcast))
            .filter(broadcast::Column::Status.eq("running"))
            .exec(&self.inner.db)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// How far a broadcast has got, counted from its delivery rows.
    pub async fn broadcast_progress(&self, id: i64) -> Result<BroadcastProgress, GameError> {
        let db = &self.inner.db;
        let b = broadcast::Entity::find_by_id(id)
            .one(db)
            .await?
            .ok_or(GameError::UnknownBroadcast)?;
        let counts: Vec<(String, i64)> = broadcast_delivery::Entity::find()
            .select_only()
            .column(broadcast_delivery::Column::Status)
            .column_as(Expr::cust("CAST(COUNT(*) AS BIGINT)"), "n")
            .filter(broadcast_delivery::Column::BroadcastId.eq(id))
            .group_by(broadcast_delivery::Column::Status)
            .into_tuple()
            .all(db)
            .await?;
        let mut p = BroadcastProgress {
            id,
            admin_id: b.admin_id,
            admin_language: b.admin_language,
            total: b.total,
            done: b.status == "done",
            ..Default::default()
        };
        for (status, n) in counts {
            match status.as_str() {
                "sent" => p.sent = n,
                "unreachable" => p.unreachable = n,
                "failed" => p.failed = n,
                _ => p.uncertain += n,
            }
        }
        Ok(p)
    }
}
