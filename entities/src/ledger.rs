//! `ledger`: the append-only record of every balance change; a balance is the sum of its rows.

use sea_orm::entity::prelude::*;

/// One balance change of one player.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub player_id: i64,
    /// Signed change of the balance.
    pub amount: i64,
    /// What moved the coins: `taps`, `passive`, `upgrade`, `boost`, `refill` (zero coins), `daily`,
    /// `task`, `referral`, `welcome`, `claim`, `claim_refund`, `grant`.
    pub kind: String,
    /// Identifies the cause within its kind (a tap batch's seq, a task id…); unique per player and kind.
    pub reference: String,
    pub balance_after: i64,
    pub created_at: i64,
}

/// Relations of `ledger`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::player::Entity",
        from = "Column::PlayerId",
        to = "super::player::Column::Id"
    )]
    Player,
}

impl Related<super::player::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Player.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
