//! Opening the database: PostgreSQL in production, SQLite as the embedded default.
//!
//! SQLite gets write-ahead logging and a busy timeout, without which concurrent writers fail with
//! "database is locked"; `synchronous = NORMAL` is the WAL setting that keeps commits durable
//! against process crashes at a fraction of the cost of `FULL`.

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use std::time::Duration;

/// Opens a pool of `max_connections` to `url` (`postgres://…` or `sqlite://…`).
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(max_connections)
        .min_connections(1)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    Database::connect(opts).await
}
