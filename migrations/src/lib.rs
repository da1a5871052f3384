//! tapwave's schema as sea-orm migrations that run unchanged on PostgreSQL and SQLite.
//!
//! Migrations are only ever added, never edited once released: a running game has applied them.

pub use sea_orm_migration::prelude::*;

mod m20261203_000001_players_and_ledger;
mod m20261203_000010_bot;
mod m20261203_000020_wallets_claims;
mod m20261203_000030_economy;
mod m20261203_000040_boosts;
mod m20261203_000050_tasks;
mod m20261203_000060_daily_loops;
mod m20261203_000070_flags;
mod m20261204_000080_export_cursors;

/// Every migration of tapwave, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261203_000001_players_and_ledger::Migration),
            Box::new(m20261203_000010_bot::Migration),
            Box::new(m20261203_000020_wallets_claims::Migration),
            Box::new(m20261203_000030_economy::Migration),
            Box::new(m20261203_000040_boosts::Migration),
            Box::new(m20261203_000050_tasks::Migration),
            Box::new(m20261203_000060_daily_loops::Migration),
            Box::new(m20261203_000070_flags::Migration),
            Box::new(m20261204_000080_export_cursors::Migration),
        ]
    }
}

use sea_orm_migration::sea_orm::{DatabaseConnection, DbBackend, TransactionTrait};

/// Any 64-bit number unique to tapwave: the PostgreSQL advisory lock that serialises migrations.
const MIGRATION_LOCK: i64 = 0x7461_7077_6176_6501;

/// Applies every pending migration, safe when many instances start at once.
///
/// On PostgreSQL the whole run happens in one transaction that first takes a transaction-scoped
/// advisory lock: a second instance waits for the first to commit, then finds nothing pending.
/// SQLite is the single-process embedded default and serialises writers itself.
pub async fn apply_pending(db: &DatabaseConnection) -> Result<(), DbErr> {
    match db.get_database_backend() {
        DbBackend::Postgres => {
            let txn = db.begin().await?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .await?;
            Migrator::up(&txn, None).await?;
            txn.commit().await
        }
        _ => Migrator::up(db, None).await,
    }
}

/// Each migration's name and whether it has been applied, in order.
pub async fn status(db: &DatabaseConnection) -> Result<Vec<(String, bool)>, DbErr> {
    Migrator::install(db).await?;
    Ok(Migrator::get_migration_with_status(db)
        .await?
        .iter()
        .map(|m| {
            (
                m.name().to_owned(),
                matches!(m.status(), sea_orm_migration::MigrationStatus::Applied),
            )
        })
        .collect())
}
