//! `ton_proof_payloads`: single-use, expiring nonces the server issues for TON Connect proofs.

use sea_orm::entity::prelude::*;

/// An issued payload.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ton_proof_payloads")]
pub struct Model {
    /// The nonce, hex.
    #[sea_orm(primary_key, auto_increment = false)]
    pub payload: String,
    /// The player it was issued to.
    pub player_id: i64,
    /// Unix ms after which it is refused.
    pub expires_at: i64,
}

/// Relations of `ton_proof_payloads`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
