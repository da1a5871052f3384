//! `wallet_links`: every wallet a player has ever linked, so that one wallet passed between
//! several accounts over time (set, replaced, set by the next) can be seen.

use sea_orm::entity::prelude::*;

/// One player having linked one wallet (first time only).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wallet_links")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub player_id: i64,
    /// The wallet's workchain.
    #[sea_orm(primary_key, auto_increment = false)]
    pub workchain: i32,
    /// The wallet's account hash, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub hash: String,
    /// Unix ms of the first link.
    pub linked_at: i64,
}

/// Relations of `wallet_links`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
