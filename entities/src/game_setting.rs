//! `game_settings`: switches admins flip at run time (such as pausing claims), shared by instances.

use sea_orm::entity::prelude::*;

/// One switch.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "game_settings")]
pub struct Model {
    /// Its name, e.g. `claims_paused`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    /// Its value, as text.
    pub value: String,
    /// The admin who set it.
    pub updated_by: Option<i64>,
    pub updated_at: i64,
}

/// Relations of `game_settings`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
