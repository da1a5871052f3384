//! `task_starts`: when a player first checked a `link` task (its delay runs from then).

use sea_orm::entity::prelude::*;

/// The first check of one link task by one player.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "task_starts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub player_id: i64,
    /// The task's id in the game file.
    #[sea_orm(primary_key, auto_increment = false)]
    pub task_id: String,
    /// Unix ms of the first check.
    pub started_at: i64,
}

/// Relations of `task_starts`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
