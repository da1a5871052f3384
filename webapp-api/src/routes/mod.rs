//! Handlers grouped by resource, one file each.

pub mod assets;
pub mod boosts;
pub mod claims;
pub mod daily;
pub mod daily_loops;
pub mod dev;
pub mod health;
pub mod players;
pub mod referrals;
pub mod tasks;
pub mod upgrades;
pub mod wallet;
