//! The daily cipher's guesses and the referral share collected per friend.
//!
//! The combo and the cipher pay through ledger rows unique per player, kind and day (`combo` /
//! `cipher`, `<day>`), so they need no table for the payment. `cipher_guesses` counts a player's
//! guesses per UTC day, raised by one conditional update so concurrent guesses cannot exceed the
//! day's allowance. `referral_shares` holds, per player and friend (or friend's friend), the coins
//! collected from that friend's earnings so far; a collection raises it with a conditional update
//! from the amount read, so no interleaving collects one share twice.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Players {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CipherGuesses {
    Table,
    PlayerId,
    Day,
    Guesses,
}

#[derive(DeriveIden)]
enum ReferralShares {
    Table,
    PlayerId,
    FriendId,
    Collected,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CipherGuesses::Table)
                    .col(
                        ColumnDef::new(CipherGuesses::PlayerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CipherGuesses::Day).big_integer().not_null())
                    .col(
                        ColumnDef::new(CipherGuesses::Guesses)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(CipherGuesses::PlayerId)
                            .col(CipherGuesses::Day),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("cipher_guesses_player_fk")
                            .from(CipherGuesses::Table, CipherGuesses::PlayerId)
                            .to(Players::Table, Players::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ReferralShares::Table)
                    .col(
                        ColumnDef::new(ReferralShares::PlayerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReferralShares::FriendId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReferralShares::Collected)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ReferralShares::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ReferralShares::PlayerId)
                            .col(ReferralShares::FriendId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("referral_shares_player_fk")
                            .from(ReferralShares::Table, ReferralShares::PlayerId)
                            .to(Players::Table, Players::Id),
                    )
                    .to_owned(),
            )
            .await?;
        // A player's income from shares is read per friend when their referrer collects.
        manager
            .create_index(
                Index::create()
                    .name("referral_shares_friend")
                    .table(ReferralShares::Table)
                    .col(ReferralShares::FriendId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ReferralShares::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(CipherGuesses::Table).to_owned())
            .await
    }
}
