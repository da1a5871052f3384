//! Boosts: multitap and energy-limit levels, and the day's free full-energy refills.
//!
//! The levels and the refills used on the current UTC day live on `players` beside `tap_power`
//! and `max_energy`, which they raise, so one compare-and-swap on `players.version` changes them
//! together with the balance. The ledger's unique `(player, kind, reference)` is the second lock:
//! a paid level (`boost`, `<boost>:<level>`) and a refill (`refill`, `<day>:<n>`) exist once.
//! SQLite adds one column a statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Players {
    Table,
    MultitapLevel,
    EnergyLimitLevel,
    RefillsDay,
    RefillsUsed,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(Players::MultitapLevel)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Players::EnergyLimitLevel)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Players::RefillsDay).big_integer().to_owned(),
            ColumnDef::new(Players::RefillsUsed)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Players::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Players::MultitapLevel,
            Players::EnergyLimitLevel,
            Players::RefillsDay,
            Players::RefillsUsed,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Players::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
