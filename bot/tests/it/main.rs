//! The bot's integration tests: the real bot (and the worker's broadcasts) against a fake Bot API
//! on loopback, on SQLite + in-process stores and on PostgreSQL + Redis. One test binary.

mod support;

mod admin;
mod anticheat;
mod broadcasts;
mod players;
mod resilience;
mod start;
mod webhook;
