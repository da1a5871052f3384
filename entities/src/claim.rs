//! `claims`: coins leaving the game for a player's TON wallet, and where each one stands.
//!
//! `pending → processing → sent`, or with the `export` adapter `processing → exported → sent`;
//! a payout that fails is `refunded` through the ledger. `submitted_at`/`valid_until` record a
//! transfer handed to the chain, so that after a crash it is reconciled, never sent twice.

use sea_orm::entity::prelude::*;

/// One claim.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "claims")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub player_id: i64,
    /// Coins claimed (debited when the claim was made).
    pub amount: i64,
    /// `pending`, `processing`, `exported`, `sent` or `refunded`.
    pub status: String,
    /// The client's key: one key makes one claim.
    pub idempotency_key: String,
    /// Destination, normalised, as it was when the claim was made.
    pub address: String,
    /// UTC day (days since the epoch) the claim counts against.
    pub day: i64,
    /// The worker holding it, and until when (unix ms).
    pub lease_owner: Option<String>,
    pub lease_until: Option<i64>,
    /// Payout attempts.
    pub attempts: i32,
    /// When a transfer was handed to the chain, and the instant after which it can no longer land.
    pub submitted_at: Option<i64>,
    pub valid_until: Option<i64>,
    /// The export batch it went out in.
    pub batch_id: Option<String>,
    /// The transfer's transaction hash once sent.
    pub tx_hash: Option<String>,
    /// Why the payout failed, for refunded claims.
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Relations of `claims`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
