//! `cipher_guesses`: a player's guesses at the daily cipher, per UTC day.

use sea_orm::entity::prelude::*;

/// One player's guesses on one UTC day.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "cipher_guesses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub player_id: i64,
    /// Days since the unix epoch (UTC).
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: i64,
    /// Guesses made that day.
    pub guesses: i64,
}

/// Relations of `cipher_guesses`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
