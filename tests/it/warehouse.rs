//! The worker's warehouse export: the ledger as Parquet files, every row once and in order, young
//! rows held back, several workers at once, an S3 bucket, and a failed write tried again.

use crate::fake_s3::FakeS3;
use crate::support::{clocked, spawn_with, Backend, TestApp};
use entities::ledger;
use futures::future::join_all;
use game::{ExportStep, ManualClock};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::RowAccessor;
use sea_orm::{EntityTrait, QueryOrder};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use testkit::both_backends;
use worker::objects::Objects;
use worker::warehouse::{step, WarehouseSettings};

both_backends!(
    the_ledger_goes_out_once_in_order_and_young_rows_wait,
    workers_at_once_export_each_row_once,
    a_failed_write_is_tried_again_and_an_s3_bucket_is_written,
);

const GAME: &str = "[energy]\nmax = 100000\n[taps]\nburst = 100000\nmax_batch = 100000\n[limits]\nplayer_per_second = 10000\nplayer_burst = 10000\nip_per_second = 100000\nip_burst = 100000\n";

fn settings(objects: Objects) -> WarehouseSettings {
    WarehouseSettings {
        lag: Duration::from_secs(60),
        rows_per_file: 4,
        ..WarehouseSettings::new(Arc::new(objects))
    }
}

fn temp_dir() -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tapwave-warehouse-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `(id, player, amount, kind, reference, balance_after, created_at)` of a Parquet file's rows.
type Row = (i64, i64, i64, String, String, i64, i64);

fn read_parquet(path: &Path) -> Vec<Row> {
    let reader = SerializedFileReader::try_from(path).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| {
            let r = r.unwrap();
            (
                r.get_long(0).unwrap(),
                r.get_long(1).unwrap(),
                r.get_long(2).unwrap(),
                r.get_string(3).unwrap().clone(),
                r.get_string(4).unwrap().clone(),
                r.get_long(5).unwrap(),
                r.get_timestamp_millis(6).unwrap(),
            )
        })
        .collect()
}

/// Every row of every file under `dir/ledger`, files in name order.
fn exported(dir: &Path) -> Vec<Row> {
    let mut files = Vec::new();
    let Ok(days) = std::fs::read_dir(dir.join("ledger")) else {
        return Vec::new();
    };
    for day in days {
        let day = day.unwrap().path();
        assert!(day
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("date="));
        for f in std::fs::read_dir(&day).unwrap() {
            files.push(f.unwrap().path());
        }
    }
    files.sort();
    files.iter().flat_map(|f| read_parquet(f)).collect()
}

async fn ledger_rows(app: &TestApp) -> Vec<Row> {
    ledger::Entity::find()
        .order_by_asc(ledger::Column::Id)
        .all(app.game.db())
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                r.id,
                r.player_id,
                r.amount,
                r.kind,
                r.reference,
                r.balance_after,
                r.created_at,
            )
        })
        .collect()
}

async fn tap_round(app: &TestApp, clock: &ManualClock, seq: i64) {
    for p in [1, 2, 3] {
        assert_eq!(app.taps(p, p * 10 + seq, seq).await.status, 200);
        clock.advance(1_000);
    }
}

/// Steps until one finds nothing; the rows of each `Wrote`.
async fn drain(app: &TestApp, s: &WarehouseSettings) -> Vec<usize> {
    let mut wrote = Vec::new();
    loop {
        match step(&app.game, s).await.unwrap() {
            ExportStep::Wrote(n) => wrote.push(n),
            ExportStep::Nothing => return wrote,
            other => panic!("{other:?}"),
        }
    }
}

async fn the_ledger_goes_out_once_in_order_and_young_rows_wait(backend: Backend) {
    let (options, clock) = clocked(GAME);
    let (app, stores) = spawn_with(backend, options).await;
    let dir = temp_dir();
    let s = settings(Objects::Dir(dir.clone()));
    for seq in 1..=3 {
        tap_round(&app, &clock, seq).await;
    }
    // Nothing is a minute old yet.
    assert_eq!(step(&app.game, &s).await.unwrap(), ExportStep::Nothing);
    clock.advance(60_000);
    assert_eq!(drain(&app, &s).await, [4, 4, 1], "9 rows, 4 per file");
    assert_eq!(exported(&dir), ledger_rows(&app).await);
    assert_eq!(
        app.game.ledger_exported_until().await.unwrap(),
        ledger_rows(&app).await[8].0
    );

    // Rows younger than the lag wait for it; the older ones go.
    tap_round(&app, &clock, 4).await;
    clock.advance(30_000);
    tap_round(&app, &clock, 5).await;
    clock.advance(31_000);
    assert_eq!(
        drain(&app, &s).await,
        [3],
        "round 4 is a minute old, round 5 is not"
    );
    clock.advance(60_000);
    assert_eq!(drain(&app, &s).await, [3]);
    let all = ledger_rows(&app).await;
    assert_eq!(all.len(), 15);
    assert_eq!(
        exported(&dir),
        all,
        "each row once, in id order, as recorded"
    );
    assert!(all.iter().all(|r| r.3 == "taps"));
    std::fs::remove_dir_all(&dir).ok();
    app.stop().await;
    stores.remove().await;
}

async fn workers_at_once_export_each_row_once(backend: Backend) {
    let (options, clock) = clocked(GAME);
    let (app, stores) = spawn_with(backend, options).await;
    let dir = temp_dir();
    let s = settings(Objects::Dir(dir.clone()));
    for seq in 1..=8 {
        tap_round(&app, &clock, seq).await;
    }
    clock.advance(60_000);
    if backend == Backend::Postgres {
        // While one worker writes a file, another finds the export busy instead of reading the
        // same rows (which, with rows committing meanwhile, could differ and go out twice).
        let (inside_tx, inside) = tokio::sync::oneshot::channel::<()>();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let game = app.game.clone();
        let first = tokio::spawn(async move {
            game.export_ledger(60_000, 4, |rows| async move {
                inside_tx.send(()).unwrap();
                released.await.unwrap();
                assert_eq!(rows.len(), 4);
                Ok(())
            })
            .await
            .unwrap()
        });
        inside.await.unwrap();
        assert_eq!(step(&app.game, &s).await.unwrap(), ExportStep::Busy);
        release.send(()).unwrap();
        assert_eq!(first.await.unwrap(), ExportStep::Wrote(4));
        // The test's writer kept that file to itself: the folder starts after its 4 rows.
        assert!(exported(&dir).is_empty());
        // Four workers step together until nothing is left: one exports at a time.
        loop {
            let steps = join_all((0..4).map(|_| step(&app.game, &s))).await;
            let steps: Vec<ExportStep> = steps.into_iter().map(Result::unwrap).collect();
            assert!(
                steps.iter().all(|s| matches!(
                    s,
                    ExportStep::Wrote(_) | ExportStep::Busy | ExportStep::Nothing
                )),
                "{steps:?}"
            );
            if steps.iter().all(|s| *s == ExportStep::Nothing) {
                break;
            }
        }
    } else {
        // SQLite is the one-process default: one worker.
        assert_eq!(drain(&app, &s).await, [4, 4, 4, 4, 4, 4]);
    }
    let rows = exported(&dir);
    let all = ledger_rows(&app).await;
    let skipped = if backend == Backend::Postgres { 4 } else { 0 };
    assert_eq!(rows, all[skipped..], "24 rows, none twice");
    std::fs::remove_dir_all(&dir).ok();
    app.stop().await;
    stores.remove().await;
}

async fn a_failed_write_is_tried_again_and_an_s3_bucket_is_written(backend: Backend) {
    let (options, clock) = clocked(GAME);
    let (app, stores) = spawn_with(backend, options).await;
    tap_round(&app, &clock, 1).await;
    clock.advance(60_000);
    // A warehouse folder that cannot be made: nothing moves.
    let blocked = temp_dir().join("a-file");
    std::fs::write(&blocked, b"not a folder").unwrap();
    let failing = settings(Objects::Dir(blocked.clone()));
    assert!(matches!(
        step(&app.game, &failing).await.unwrap(),
        ExportStep::WriteFailed(_)
    ));
    assert_eq!(app.game.ledger_exported_until().await.unwrap(), 0);

    let s3 = FakeS3::start().await;
    let bucket = s3.settings();
    let s = settings(Objects::from_url("s3://analytics-bucket/tapwave", &bucket).unwrap());
    assert_eq!(drain(&app, &s).await, [3]);
    let keys = s3.keys();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(
        keys[0].starts_with("analytics-bucket/tapwave/ledger/date=2027-01-15/ledger-"),
        "{keys:?}"
    );
    let file = temp_dir().join("got.parquet");
    std::fs::write(&file, s3.object(&keys[0]).unwrap()).unwrap();
    assert_eq!(read_parquet(&file), ledger_rows(&app).await);
    assert!(s3.inner.lock().unwrap().refused.is_empty());
    app.stop().await;
    stores.remove().await;
}
