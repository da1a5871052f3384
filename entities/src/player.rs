//! `players`: one row a Telegram user who opened the game, with the state the rules act on.

use sea_orm::entity::prelude::*;

/// A player as stored: profile from Telegram, balance, energy and tap-rate state.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "players")]
pub struct Model {
    /// The Telegram user id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub first_name: String,
    pub last_name: Option<String>,
    pub username: Option<String>,
    pub language_code: Option<String>,
    pub is_premium: bool,
    /// Coins now; always the sum of the player's ledger.
    pub balance: i64,
    /// Coins ever earned (never decreases); levels follow it.
    pub total_earned: i64,
    /// Energy in thousandths as of `energy_at`; regeneration since then is computed, not stored.
    pub energy_milli: i64,
    pub energy_at: i64,
    pub max_energy: i64,
    pub energy_per_sec: i64,
    pub tap_power: i64,
    /// The human-rate token bucket, in thousandths of a tap, as of `tap_allowance_at`.
    pub tap_allowance_milli: i64,
    pub tap_allowance_at: i64,
    /// The last tap batch number applied.
    pub last_seq: i64,
    /// Incremented on every change of the game state: the compare-and-swap token.
    pub version: i64,
    pub banned: bool,
    pub referrer_id: Option<i64>,
    /// When the player last made a claim (unix ms), for the cool-down.
    pub last_claim_at: Option<i64>,
    /// Passive income per hour: the sum of the player's upgrade cards' income.
    pub passive_per_hour: i64,
    /// Unix ms from which passive income accrues (not yet credited).
    pub passive_at: i64,
    /// The day of the daily streak last claimed (1 on the first claim); 0 before any.
    pub daily_streak: i64,
    /// The UTC day (days since the epoch) of the last daily claim.
    pub daily_day: Option<i64>,
    /// Multitap boost levels bought (each raised `tap_power`).
    pub multitap_level: i64,
    /// Energy-limit boost levels bought (each raised `max_energy`).
    pub energy_limit_level: i64,
    /// The UTC day `refills_used` counts for.
    pub refills_day: Option<i64>,
    /// Free full-energy refills used on `refills_day`.
    pub refills_used: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Relations of `players`.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::ledger::Entity")]
    Ledger,
}

impl Related<super::ledger::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Ledger.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
