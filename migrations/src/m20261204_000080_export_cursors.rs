//! Warehouse exports: how far each export of the record has gone (`ledger`: the last ledger id
//! written to the warehouse).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ExportCursors {
    Table,
    Name,
    LastId,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ExportCursors::Table)
                    .col(
                        ColumnDef::new(ExportCursors::Name)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ExportCursors::LastId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ExportCursors::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ExportCursors::Table).to_owned())
            .await
    }
}
