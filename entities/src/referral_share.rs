//! `referral_shares`: coins a player has collected from one friend's (or friend's friend's)
//! earnings.

use sea_orm::entity::prelude::*;

/// What `player_id` collected from `friend_id`'s earnings so far.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "referral_shares")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub player_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub friend_id: i64,
    /// Coins collected from this friend, ever.
    pub collected: i64,
    /// Unix ms of the last collection.
    pub updated_at: i64,
}

/// Relations of `referral_shares`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
