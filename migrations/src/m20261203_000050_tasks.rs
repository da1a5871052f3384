//! Tasks: when a player first checked each `link` task, the instant its delay runs from.
//!
//! A task's payment needs no table of its own: it is the ledger row `task` / `<task id>`, unique
//! per player, so a task pays once. `task_starts` only remembers the first check of a link task,
//! keyed by `(player_id, task_id)` so concurrent first checks keep one instant.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Players {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum TaskStarts {
    Table,
    PlayerId,
    TaskId,
    StartedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TaskStarts::Table)
                    .col(
                        ColumnDef::new(TaskStarts::PlayerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(TaskStarts::TaskId).string().not_null())
                    .col(
                        ColumnDef::new(TaskStarts::StartedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(TaskStarts::PlayerId)
                            .col(TaskStarts::TaskId),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("task_starts_player_fk")
                            .from(TaskStarts::Table, TaskStarts::PlayerId)
                            .to(Players::Table, Players::Id),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TaskStarts::Table).to_owned())
            .await
    }
}
