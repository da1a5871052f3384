//! `player_upgrades`: the level of each upgrade card a player has bought.

use sea_orm::entity::prelude::*;

/// One card of one player, at a level of 1 or more (a card never bought has no row).
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "player_upgrades")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub player_id: i64,
    /// The card's id in the game file.
    #[sea_orm(primary_key, auto_increment = false)]
    pub upgrade_id: String,
    pub level: i64,
    pub updated_at: i64,
}

/// Relations of `player_upgrades`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
