//! The economy's first slice: upgrade levels, passive income and the daily streak.
//!
//! `player_upgrades` holds one row per player and card that has been bought at least once, keyed
//! by `(player_id, upgrade_id)`, so a level exists once. The player's passive income per hour and
//! the instant from which it accrues live on `players` beside the balance, as does the daily
//! streak (`daily_streak`, the UTC day of the last claim in `daily_day`): each is changed by the
//! same compare-and-swap on `players.version` as the balance. SQLite adds one column a statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Players {
    Table,
    Id,
    PassivePerHour,
    PassiveAt,
    DailyStreak,
    DailyDay,
}

#[derive(DeriveIden)]
enum PlayerUpgrades {
    Table,
    PlayerId,
    UpgradeId,
    Level,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            ColumnDef::new(Players::PassivePerHour)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Players::PassiveAt)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Players::DailyStreak)
                .big_integer()
                .not_null()
                .default(0)
                .to_owned(),
            ColumnDef::new(Players::DailyDay).big_integer().to_owned(),
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
        manager
            .create_table(
                Table::create()
                    .table(PlayerUpgrades::Table)
                    .col(
                        ColumnDef::new(PlayerUpgrades::PlayerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PlayerUpgrades::UpgradeId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(PlayerUpgrades::Level)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(PlayerUpgrades::Level).gt(0)),
                    )
                    .col(
                        ColumnDef::new(PlayerUpgrades::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(PlayerUpgrades::PlayerId)
                            .col(PlayerUpgrades::UpgradeId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("player_upgrades_player_fk")
                            .from(PlayerUpgrades::Table, PlayerUpgrades::PlayerId)
                            .to(Players::Table, Players::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(PlayerUpgrades::Table).to_owned())
            .await?;
        for column in [
            Players::PassivePerHour,
            Players::PassiveAt,
            Players::DailyStreak,
            Players::DailyDay,
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
