//! The bot's tables: the admin audit log, broadcasts with one delivery row per player, and the
//! players the bot can no longer reach.
//!
//! A delivery row is claimed (inserted, unique on `(broadcast, player)`) before its message is
//! sent and marked after, so a broadcast resumed after a crash never messages anyone twice.
//! Unreachable players get a table of their own rather than a `players` column: the bot's view
//! of a chat is not game state, and keeping it apart leaves the players row (and its
//! compare-and-swap version) to the game.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Players {
    Table,
    ReferrerId,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    AdminId,
    Action,
    TargetId,
    Detail,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Broadcasts {
    Table,
    Id,
    AdminId,
    AdminLanguage,
    Text,
    Total,
    Cursor,
    Status,
    CreatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum BroadcastDeliveries {
    Table,
    BroadcastId,
    PlayerId,
    Status,
    ClaimedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum UnreachablePlayers {
    Table,
    PlayerId,
    Reason,
    Since,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `/invite` counts a player's friends.
        manager
            .create_index(
                Index::create()
                    .name("players_referrer_idx")
                    .table(Players::Table)
                    .col(Players::ReferrerId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .col(
                        ColumnDef::new(AuditLog::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(AuditLog::AdminId).big_integer().not_null())
                    .col(ColumnDef::new(AuditLog::Action).string().not_null())
                    .col(ColumnDef::new(AuditLog::TargetId).big_integer())
                    .col(ColumnDef::new(AuditLog::Detail).text().not_null())
                    .col(ColumnDef::new(AuditLog::CreatedAt).big_integer().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("audit_log_created_at_idx")
                    .table(AuditLog::Table)
                    .col(AuditLog::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Broadcasts::Table)
                    .col(
                        ColumnDef::new(Broadcasts::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Broadcasts::AdminId).big_integer().not_null())
                    .col(ColumnDef::new(Broadcasts::AdminLanguage).string())
                    .col(ColumnDef::new(Broadcasts::Text).text().not_null())
                    .col(ColumnDef::new(Broadcasts::Total).big_integer().not_null())
                    .col(
                        ColumnDef::new(Broadcasts::Cursor)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Broadcasts::Status).string().not_null())
                    .col(
                        ColumnDef::new(Broadcasts::CreatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Broadcasts::FinishedAt).big_integer())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("broadcasts_status_idx")
                    .table(Broadcasts::Table)
                    .col(Broadcasts::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(BroadcastDeliveries::Table)
                    .col(
                        ColumnDef::new(BroadcastDeliveries::BroadcastId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BroadcastDeliveries::PlayerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BroadcastDeliveries::Status)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(BroadcastDeliveries::ClaimedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(BroadcastDeliveries::FinishedAt).big_integer())
                    // One delivery per player and broadcast, whatever crashes in between.
                    .primary_key(
                        Index::create()
                            .col(BroadcastDeliveries::BroadcastId)
                            .col(BroadcastDeliveries::PlayerId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("broadcast_deliveries_broadcast_fk")
                            .from(BroadcastDeliveries::Table, BroadcastDeliveries::BroadcastId)
                            .to(Broadcasts::Table, Broadcasts::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("broadcast_deliveries_status_idx")
                    .table(BroadcastDeliveries::Table)
                    .col(BroadcastDeliveries::BroadcastId)
                    .col(BroadcastDeliveries::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(UnreachablePlayers::Table)
                    .col(
                        ColumnDef::new(UnreachablePlayers::PlayerId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(UnreachablePlayers::Reason)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UnreachablePlayers::Since)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            UnreachablePlayers::Table.into_iden(),
            BroadcastDeliveries::Table.into_iden(),
            Broadcasts::Table.into_iden(),
            AuditLog::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("players_referrer_idx")
                    .table(Players::Table)
                    .to_owned(),
            )
            .await
    }
}
