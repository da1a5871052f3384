//! The warehouse export: the ledger, every coin that moved, as Parquet files under
//! `WAREHOUSE_URL` for analytics (Athena, DuckDB, Spark…).
//!
//! Files are `ledger/date=<UTC day of the first row>/ledger-<first id>-<last id>.parquet`, one
//! row group each, Snappy-compressed, with the columns `id`, `player_id`, `amount`, `kind`,
//! `reference`, `balance_after` and `created_at` (a UTC timestamp in milliseconds). Which rows go
//! out, in what order and how several workers share it is the game's
//! [`export_ledger`](game::Game::export_ledger): each row once, in id order, rows younger than
//! the lag held back; after a crash between a file and its record the rows come again in the next
//! file, so readers deduplicate by `id`.

use crate::objects::Objects;
use crate::Shutdown;
use entities::ledger;
use game::{ExportStep, Game};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::sync::Arc;
use std::time::Duration;

/// The files' schema.
pub const SCHEMA: &str = "message ledger {
  REQUIRED INT64 id;
  REQUIRED INT64 player_id;
  REQUIRED INT64 amount;
  REQUIRED BINARY kind (STRING);
  REQUIRED BINARY reference (STRING);
  REQUIRED INT64 balance_after;
  REQUIRED INT64 created_at (TIMESTAMP(MILLIS,true));
}";

/// How the export runs.
#[derive(Clone, Debug)]
pub struct WarehouseSettings {
    /// Where files go.
    pub objects: Arc<Objects>,
    /// Time between steps when the last one found less than a full file.
    pub every: Duration,
    /// Rows younger than this wait (see [`game::exports`]).
    pub lag: Duration,
    /// Rows per file at most.
    pub rows_per_file: u64,
}

impl WarehouseSettings {
    /// The defaults for `objects`: a step a minute, a five-minute lag, 100,000 rows per file.
    pub fn new(objects: Arc<Objects>) -> Self {
        Self {
            objects,
            every: Duration::from_secs(60),
            lag: Duration::from_secs(300),
            rows_per_file: 100_000,
        }
    }
}

/// The key of the file holding `rows` (in id order, not empty).
pub fn file_key(rows: &[ledger::Model]) -> String {
    let (first, last) = (&rows[0], &rows[rows.len() - 1]);
    let (y, m, d) = game::rules::civil_date(first.created_at.div_euclid(86_400_000));
    format!(
        "ledger/date={y:04}-{m:02}-{d:02}/ledger-{:020}-{:020}.parquet",
        first.id, last.id
    )
}

/// `rows` as a Parquet file.
pub fn to_parquet(rows: &[ledger::Model]) -> Result<Vec<u8>, parquet::errors::ParquetError> {
    let schema = Arc::new(parse_message_type(SCHEMA)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by("tapwave".to_owned())
            .build(),
    );
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema, props)?;
    let mut group = writer.next_row_group()?;
    let longs = |f: fn(&ledger::Model) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
    let texts = |f: fn(&ledger::Model) -> &str| {
        rows.iter()
            .map(|r| ByteArray::from(f(r)))
            .collect::<Vec<ByteArray>>()
    };
    let mut index = 0;
    while let Some(mut column) = group.next_column()? {
        match index {
            0..=2 | 5 | 6 => {
                let values = match index {
                    0 => longs(|r| r.id),
                    1 => longs(|r| r.player_id),
                    2 => longs(|r| r.amount),
                    5 => longs(|r| r.balance_after),
                    _ => longs(|r| r.created_at),
                };
                column
                    .typed::<Int64Type>()
                    .write_batch(&values, None, None)?;
            }
            _ => {
                let values = if index == 3 {
                    texts(|r| r.kind.as_str())
                } else {
                    texts(|r| r.reference.as_str())
                };
                column
                    .typed::<ByteArrayType>()
                    .write_batch(&values, None, None)?;
            }
        }
        column.close()?;
        index += 1;
    }
    group.close()?;
    writer.close()?;
    Ok(out)
}

/// One export step: a file of the next rows, if any are old enough.
pub async fn step(
    game: &Game,
    settings: &WarehouseSettings,
) -> Result<ExportStep, game::GameError> {
    let objects = settings.objects.clone();
    game.export_ledger(
        settings.lag.as_millis() as i64,
        settings.rows_per_file,
        |rows| async move {
            let body = to_parquet(&rows).map_err(|e| e.to_string())?;
            objects
                .put(&file_key(&rows), body, "application/vnd.apache.parquet")
                .await
                .map_err(|e| e.to_string())
        },
    )
    .await
}

/// Exports until `stop`: at once again after a full file, else after `every`.
pub async fn run(game: Game, settings: WarehouseSettings, mut stop: Shutdown) {
    loop {
        let full = match step(&game, &settings).await {
            Ok(ExportStep::Wrote(n)) => {
                metrics::counter!("warehouse_ledger_rows_total").increment(n as u64);
                n as u64 >= settings.rows_per_file
            }
            Ok(ExportStep::WriteFailed(e)) => {
                tracing::warn!(error = %e, "warehouse file not written; tried again later");
                false
            }
            Ok(ExportStep::Busy | ExportStep::Nothing) => false,
            Err(e) => {
                tracing::warn!(error = %e, "warehouse export failed; tried again later");
                false
            }
        };
        if let Ok(last) = game.ledger_exported_until().await {
            metrics::gauge!("warehouse_ledger_exported_id").set(last as f64);
        }
        if stop.is_requested() || (!full && !stop.sleep(settings.every).await) {
            break;
        }
    }
}
