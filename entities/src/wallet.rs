//! `wallets`: the TON wallet a player claims to, at most one each, each owned by one player.

use sea_orm::entity::prelude::*;

/// A player's wallet.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "wallets")]
pub struct Model {
    /// The owner.
    #[sea_orm(primary_key, auto_increment = false)]
    pub player_id: i64,
    /// 0 (basechain) or -1 (masterchain).
    pub workchain: i32,
    /// Account id, 64 lowercase hex digits.
    pub hash: String,
    /// The normalised user-friendly form shown to the player.
    pub address: String,
    /// Whether the player proved ownership with `ton_proof`.
    pub proven: bool,
    /// The wallet's public key (hex), when proven.
    pub public_key: Option<String>,
    /// The wallet contract (`v4r2`, `v5r1`…), when proven.
    pub wallet_kind: Option<String>,
    /// When it was proven (unix ms).
    pub proven_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Relations of `wallets`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
