//! Wallets, `ton_proof` payloads, claims and their daily totals, and game-wide switches.
//!
//! A wallet belongs to one player (unique `(workchain, hash)`); a claim is unique per
//! `(player, idempotency_key)`; `claim_days` holds per-player and global (player 0) daily totals
//! so that caps are enforced by one conditional upsert; `players.last_claim_at` carries the
//! cool-down inside the debit's own conditional update.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Players {
    Table,
    Id,
    LastClaimAt,
}

#[derive(DeriveIden)]
enum Wallets {
    Table,
    PlayerId,
    Workchain,
    Hash,
    Address,
    Proven,
    PublicKey,
    WalletKind,
    ProvenAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum TonProofPayloads {
    Table,
    Payload,
    PlayerId,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Claims {
    Table,
    Id,
    PlayerId,
    Amount,
    Status,
    IdempotencyKey,
    Address,
    Day,
    LeaseOwner,
    LeaseUntil,
    Attempts,
    SubmittedAt,
    ValidUntil,
    BatchId,
    TxHash,
    Error,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ClaimDays {
    Table,
    Day,
    PlayerId,
    Total,
}

#[derive(DeriveIden)]
enum GameSettings {
    Table,
    Key,
    Value,
    UpdatedBy,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Players::Table)
                    .add_column(ColumnDef::new(Players::LastClaimAt).big_integer())
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Wallets::Table)
                    .col(
                        ColumnDef::new(Wallets::PlayerId)
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Wallets::Workchain).integer().not_null())
                    .col(ColumnDef::new(Wallets::Hash).string().not_null())
                    .col(ColumnDef::new(Wallets::Address).string().not_null())
                    .col(
                        ColumnDef::new(Wallets::Proven)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(ColumnDef::new(Wallets::PublicKey).string())
                    .col(ColumnDef::new(Wallets::WalletKind).string())
                    .col(ColumnDef::new(Wallets::ProvenAt).big_integer())
                    .col(ColumnDef::new(Wallets::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Wallets::UpdatedAt).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("wallets_player_fk")
                            .from(Wallets::Table, Wallets::PlayerId)
                            .to(Players::Table, Players::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("wallets_address_key")
                    .table(Wallets::Table)
                    .col(Wallets::Workchain)
                    .col(Wallets::Hash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(TonProofPayloads::Table)
                    .col(
                        ColumnDef::new(TonProofPayloads::Payload)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(TonProofPayloads::PlayerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TonProofPayloads::ExpiresAt)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Claims::Table)
                    .col(
                        ColumnDef::new(Claims::Id)
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Claims::PlayerId).big_integer().not_null())
                    .col(
                        ColumnDef::new(Claims::Amount)
                            .big_integer()
                            .not_null()
                            .check(Expr::col(Claims::Amount).gt(0)),
                    )
                    .col(ColumnDef::new(Claims::Status).string().not_null())
                    .col(ColumnDef::new(Claims::IdempotencyKey).string().not_null())
                    .col(ColumnDef::new(Claims::Address).string().not_null())
                    .col(ColumnDef::new(Claims::Day).big_integer().not_null())
                    .col(ColumnDef::new(Claims::LeaseOwner).string())
                    .col(ColumnDef::new(Claims::LeaseUntil).big_integer())
                    .col(
                        ColumnDef::new(Claims::Attempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Claims::SubmittedAt).big_integer())
                    .col(ColumnDef::new(Claims::ValidUntil).big_integer())
                    .col(ColumnDef::new(Claims::BatchId).string())
                    .col(ColumnDef::new(Claims::TxHash).string())
                    .col(ColumnDef::new(Claims::Error).string())
                    .col(ColumnDef::new(Claims::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Claims::UpdatedAt).big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("claims_player_fk")
                            .from(Claims::Table, Claims::PlayerId)
                            .to(Players::Table, Players::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("claims_player_idempotency_key")
                    .table(Claims::Table)
                    .col(Claims::PlayerId)
                    .col(Claims::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("claims_status_idx")
                    .table(Claims::Table)
                    .col(Claims::Status)
                    .col(Claims::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("claims_batch_idx")
                    .table(Claims::Table)
                    .col(Claims::BatchId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ClaimDays::Table)
                    .col(ColumnDef::new(ClaimDays::Day).big_integer().not_null())
                    .col(ColumnDef::new(ClaimDays::PlayerId).big_integer().not_null())
                    .col(ColumnDef::new(ClaimDays::Total).big_integer().not_null())
                    .primary_key(Index::create().col(ClaimDays::Day).col(ClaimDays::PlayerId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(GameSettings::Table)
                    .col(
                        ColumnDef::new(GameSettings::Key)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(GameSettings::Value).string().not_null())
                    .col(ColumnDef::new(GameSettings::UpdatedBy).big_integer())
                    .col(
                        ColumnDef::new(GameSettings::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            GameSettings::Table.into_iden(),
            ClaimDays::Table.into_iden(),
            Claims::Table.into_iden(),
            TonProofPayloads::Table.into_iden(),
            Wallets::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Players::Table)
                    .drop_column(Players::LastClaimAt)
                    .to_owned(),
            )
            .await
    }
}
