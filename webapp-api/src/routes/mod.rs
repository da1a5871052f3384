//! Handlers grouped by resource, one file each.

pub mod assets;
pub mod dev;
pub mod health;
pub mod players;
