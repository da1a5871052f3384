//! Exports of the record to the warehouse: the ledger, in id order, each row once.
//!
//! `export_cursors` keeps the last ledger id written to the warehouse. One export step reads the
//! rows after it, hands them to a writer (the worker writes a Parquet file), and only then moves
//! the cursor. On PostgreSQL the step holds the cursor's row with `FOR UPDATE SKIP LOCKED` from
//! the read to the move, so of several workers one exports at a time and the others skip the
//! round; on SQLite (one process) the move is a compare-and-swap. A crash between the file and the
//! move writes those rows again into the next file: rows carry their ledger id to deduplicate by.
//!
//! Ledger ids are handed out when a row is inserted, not when its transaction commits, so a row
//! with a lower id can become visible after one with a higher id. A step therefore exports only
//! the leading rows older than `lag` and stops at the first younger one: a row is missed only if
//! its transaction stayed open longer than `lag` (ours last milliseconds).

use crate::{Game, GameError};
use entities::ledger;
use sea_orm::ColumnTrait;
use sea_orm::{
    ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
    TransactionTrait, Value,
};
use std::future::Future;

/// The cursor of the ledger export.
const LEDGER: &str = "ledger";

/// How an export step ended.
#[derive(Debug, PartialEq, Eq)]
pub enum ExportStep {
    /// Another worker is exporting now.
    Busy,
    /// Nothing old enough to export.
    Nothing,
    /// This many rows were written and the cursor moved past them.
    Wrote(usize),
    /// The writer failed; the cursor stays, and the rows are tried again.
    WriteFailed(String),
}

impl Game {
    /// The last ledger id written to the warehouse (0 before the first export).
    pub async fn ledger_exported_until(&self) -> Result<i64, GameError> {
        let backend = self.db().get_database_backend();
        let row = self
            .db()
            .query_one(Statement::from_sql_and_values(
                backend,
                format!(
                    "SELECT last_id FROM export_cursors WHERE name = {}",
                    placeholder(backend, 1)
                ),
                [LEDGER.into()],
            ))
            .await?;
        Ok(match row {
            Some(r) => r.try_get("", "last_id")?,
            None => 0,
        })
    }

    /// Exports up to `limit` ledger rows after the cursor that are older than `lag_ms`, through
    /// `write` (see the module header).
    pub async fn export_ledger<W, Fut>(
        &self,
        lag_ms: i64,
        limit: u64,
        write: W,
    ) -> Result<ExportStep, GameError>
    where
        W: FnOnce(Vec<ledger::Model>) -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        let db = self.db();
        let backend = db.get_database_backend();
        let now = self.now_ms();
        {
            let _writer = self.sqlite_writer().await;
            db.execute(Statement::from_sql_and_values(
                backend,
                format!(
                    "INSERT INTO export_cursors (name, last_id, updated_at) VALUES ({}, 0, {}) \
                     ON CONFLICT (name) DO NOTHING",
                    placeholder(backend, 1),
                    placeholder(backend, 2)
                ),
                [LEDGER.into(), now.into()],
            ))
            .await?;
        }
        let cutoff = now - lag_ms;
        if backend == DbBackend::Postgres {
            let txn = db.begin().await?;
            let Some(row) = txn
                .query_one(Statement::from_sql_and_values(
                    backend,
                    "SELECT last_id FROM export_cursors WHERE name = $1 FOR UPDATE SKIP LOCKED",
                    [LEDGER.into()],
                ))
                .await?
            else {
                txn.rollback().await?;
                return Ok(ExportStep::Busy);
            };
            let after: i64 = row.try_get("", "last_id")?;
            let rows = ripe(
                ledger::Entity::find()
                    .filter(ledger::Column::Id.gt(after))
                    .order_by_asc(ledger::Column::Id)
                    .limit(limit)
                    .all(&txn)
                    .await?,
                cutoff,
            );
            let Some(last) = rows.last().map(|r| r.id) else {
                txn.rollback().await?;
                return Ok(ExportStep::Nothing);
            };
            let n = rows.len();
            if let Err(e) = write(rows).await {
                txn.rollback().await?;
                return Ok(ExportStep::WriteFailed(e));
            }
            if !move_cursor(&txn, backend, after, last, now).await? {
                // Cannot happen while the row is held; kept as a guard.
                tracing::warn!(after, last, "the ledger cursor moved under its lock");
            }
            txn.commit().await?;
            return Ok(ExportStep::Wrote(n));
        }
        let after = self.ledger_exported_until().await?;
        let rows = ripe(
            ledger::Entity::find()
                .filter(ledger::Column::Id.gt(after))
                .order_by_asc(ledger::Column::Id)
                .limit(limit)
                .all(db)
                .await?,
            cutoff,
        );
        let Some(last) = rows.last().map(|r| r.id) else {
            return Ok(ExportStep::Nothing);
        };
        let n = rows.len();
        if let Err(e) = write(rows).await {
            return Ok(ExportStep::WriteFailed(e));
        }
        let _writer = self.sqlite_writer().await;
        if !move_cursor(db, backend, after, last, now).await? {
            tracing::warn!(after, last, "another export moved the ledger cursor first");
        }
        Ok(ExportStep::Wrote(n))
    }
}

/// The leading rows older than `cutoff` (see the module header).
fn ripe(rows: Vec<ledger::Model>, cutoff: i64) -> Vec<ledger::Model> {
    rows.into_iter()
        .take_while(|r| r.created_at < cutoff)
        .collect()
}

/// Moves the ledger cursor from `after` to `last`; false if it was no longer at `after`.
async fn move_cursor(
    db: &impl ConnectionTrait,
    backend: DbBackend,
    after: i64,
    last: i64,
    now: i64,
) -> Result<bool, GameError> {
    let values: [Value; 4] = [last.into(), now.into(), LEDGER.into(), after.into()];
    let moved = db
        .execute(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE export_cursors SET last_id = {}, updated_at = {} WHERE name = {} AND last_id = {}",
                placeholder(backend, 1),
                placeholder(backend, 2),
                placeholder(backend, 3),
                placeholder(backend, 4)
            ),
            values,
        ))
        .await?;
    Ok(moved.rows_affected() == 1)
}

fn placeholder(backend: DbBackend, i: usize) -> String {
    if backend == DbBackend::Postgres {
        format!("${i}")
    } else {
        "?".to_owned()
    }
}
