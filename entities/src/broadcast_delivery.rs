//! `broadcast_deliveries`: one row per broadcast and player, claimed before the message is sent.

use sea_orm::entity::prelude::*;

/// The delivery of one broadcast to one player.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "broadcast_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub broadcast_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub player_id: i64,
    /// `claimed` (being sent, or lost in a crash), `sent`, `unreachable`, `failed`.
    pub status: String,
    pub claimed_at: i64,
    pub finished_at: Option<i64>,
}

/// Relations of `broadcast_deliveries`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::broadcast::Entity",
        from = "Column::BroadcastId",
        to = "super::broadcast::Column::Id"
    )]
    Broadcast,
}

impl Related<super::broadcast::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Broadcast.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
