//! `player_flags`: why the anti-cheat detector thinks a player is not playing by hand.
//!
//! A flag is opened by the detector and closed by an admin (`cleared_at`, `cleared_by`); a
//! partial unique index keeps at most one open flag per player and reason, so concurrent
//! detections of the same thing make one row.

use sea_orm::entity::prelude::*;

/// One suspicion about one player.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "player_flags")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The player flagged.
    pub player_id: i64,
    /// `ceiling_rate`, `regular_intervals`, `shared_wallet` or `untimed_taps`.
    pub reason: String,
    /// What was measured, for the admin reading `/suspects`.
    pub detail: String,
    /// Unix ms the flag was raised.
    pub created_at: i64,
    /// Unix ms an admin cleared it; `None` while open.
    pub cleared_at: Option<i64>,
    /// The admin who cleared it.
    pub cleared_by: Option<i64>,
}

/// Relations of `player_flags`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
