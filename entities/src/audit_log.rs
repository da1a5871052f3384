//! `audit_log`: every admin action from the bot, who did what to whom, append-only.

use sea_orm::entity::prelude::*;

/// One admin action.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The admin's Telegram id.
    pub admin_id: i64,
    /// `ban`, `unban`, `grant`, `broadcast`, `stats`.
    pub action: String,
    /// The player acted on, if any.
    pub target_id: Option<i64>,
    /// The action's arguments and result as a JSON object.
    pub detail: String,
    pub created_at: i64,
}

/// `audit_log` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
