//! tapwave's integration tests: the real app over HTTP, on SQLite + in-process stores and on
//! PostgreSQL + Redis. One test binary (each file under `tests/` would link everything again).

mod support;

mod anticheat;
mod assets;
mod auth;
mod bot;
mod claims;
mod cli;
mod daily_loops;
mod economy;
mod economy_more;
mod errors;
mod fake_s3;
mod instances;
mod leaderboard;
mod limits;
mod payouts;
mod referrals;
mod taps;
mod wallets;
mod warehouse;
