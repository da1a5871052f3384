//! `unreachable_players`: players the bot cannot message (they blocked it, or their chat is gone).

use sea_orm::entity::prelude::*;

/// A player broadcasts skip until they talk to the bot again.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "unreachable_players")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub player_id: i64,
    /// Telegram's words, e.g. `blocked`, `chat_not_found`, `deactivated`.
    pub reason: String,
    pub since: i64,
}

/// `unreachable_players` has no relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
