//! Anti-cheat: flags raised on players, and the history of wallet links.
//!
//! `player_flags` holds the detector's suspicions; a partial unique index on `(player_id,
//! reason) WHERE cleared_at IS NULL` (PostgreSQL and SQLite both have them) keeps one open flag
//! per player and reason, so the detector inserts with `ON CONFLICT DO NOTHING` and concurrent
//! detections make one row, while cleared flags stay as history. `wallet_links` remembers every
//! wallet a player ever linked (wallets are unique per player at any instant, so several accounts
//! behind one wallet show only over time); it starts with the wallets linked now.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum PlayerFlags {
    Table,
    Id,
    PlayerId,
    Reason,
    Detail,
    CreatedAt,
    ClearedAt,
    ClearedBy,
}

#[derive(DeriveIden)]
enum WalletLinks {
    Table,
    PlayerId,
    Workchain,
    Hash,
    LinkedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(PlayerFlags::Table)
                    .col(
                        ColumnDef::new(PlayerFlags::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(PlayerFlags::PlayerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PlayerFlags::Reason).string().not_null())
                    .col(ColumnDef::new(PlayerFlags::Detail).text().not_null())
                    .col(
                        ColumnDef::new(PlayerFlags::CreatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(PlayerFlags::ClearedAt).big_integer())
                    .col(ColumnDef::new(PlayerFlags::ClearedBy).big_integer())
                    .to_owned(),
            )
            .await?;
        // sea-query cannot say `WHERE` on an index; this statement is the same on both backends.
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX player_flags_open_key ON player_flags (player_id, reason) \
                 WHERE cleared_at IS NULL",
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("player_flags_created_idx")
                    .table(PlayerFlags::Table)
                    .col(PlayerFlags::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WalletLinks::Table)
                    .col(
                        ColumnDef::new(WalletLinks::PlayerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(WalletLinks::Workchain).integer().not_null())
                    .col(ColumnDef::new(WalletLinks::Hash).string().not_null())
                    .col(
                        ColumnDef::new(WalletLinks::LinkedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(WalletLinks::PlayerId)
                            .col(WalletLinks::Workchain)
                            .col(WalletLinks::Hash),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("wallet_links_wallet_idx")
                    .table(WalletLinks::Table)
                    .col(WalletLinks::Workchain)
                    .col(WalletLinks::Hash)
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "INSERT INTO wallet_links (player_id, workchain, hash, linked_at) \
                 SELECT player_id, workchain, hash, created_at FROM wallets",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WalletLinks::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(PlayerFlags::Table).to_owned())
            .await
    }
}
