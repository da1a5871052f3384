//! `claim_days`: coins claimed per UTC day, per player and in total (player 0), for the caps.

use sea_orm::entity::prelude::*;

/// One day's total for one player (or for everyone, as player 0).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claim_days")]
pub struct Model {
    /// Days since the epoch (UTC).
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: i64,
    /// The player, or 0 for the global total.
    #[sea_orm(primary_key, auto_increment = false)]
    pub player_id: i64,
    /// Coins claimed.
    pub total: i64,
}

/// Relations of `claim_days`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
