//! tapwave's integration tests: the real app over HTTP, on SQLite + in-process stores and on
//! PostgreSQL + Redis. One test binary (each file under `tests/` would link everything again).

mod support;

mod assets;
mod auth;
mod claims;
mod cli;
mod errors;
mod instances;
mod leaderboard;
mod payouts;
mod limits;
mod taps;
mod wallets;
