//! The tables of tapwave as sea-orm entities, one module a table.
//!
//! Times are unix milliseconds in `BIGINT` columns rather than database timestamp types: the same
//! value means the same instant on PostgreSQL and SQLite, and the game rules work in milliseconds.
//! Coins and energy are whole numbers (`i64`).

pub mod ledger;
pub mod player;

pub mod audit_log;
pub mod broadcast;
pub mod broadcast_delivery;
pub mod unreachable_player;

pub mod claim;
pub mod claim_day;
pub mod game_setting;
pub mod ton_proof_payload;
pub mod wallet;

pub mod player_upgrade;
pub mod task_start;

pub mod cipher_guess;
pub mod referral_share;

pub mod player_flag;
pub mod wallet_link;
