//! `broadcasts`: a message an admin sends to every player, delivered by the worker.

use sea_orm::entity::prelude::*;

/// One broadcast and how far its delivery has gone.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "broadcasts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The admin who sent it; progress reports go to this chat.
    pub admin_id: i64,
    /// The admin's Telegram language, for the reports.
    pub admin_language: Option<String>,
    #[sea_orm(column_type = "Text")]
    pub text: String,
    /// Players it was meant for when it was created.
    pub total: i64,
    /// Every player with an id at or below this one has been dealt with.
    pub cursor: i64,
    /// `running` or `done`.
    pub status: String,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

/// Relations of `broadcasts`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::broadcast_delivery::Entity")]
    Deliveries,
}

impl Related<super::broadcast_delivery::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Deliveries.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
