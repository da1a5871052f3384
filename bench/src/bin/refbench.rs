//! Referral shares for players who invited many: what `GET /api/v1/referrals` and a collection
//! (`POST /api/v1/referrals/collect`) cost as a player's tree of friends grows, beside the same
//! player's `GET /me` in the same run.
//!
//! For each size it makes a fresh database where player 1 invited `size` friends and those friends
//! invited nine times as many (the second level), everyone with coins earned, and measures the
//! game's calls directly (no HTTP): the referrals view, the first collection (every friend's share
//! row is new), and a later one (nothing due; the reads alone). Every first collection is checked
//! against the shares worked out here. Ratios within one run are what to compare; the machine is
//! shared. Results go to a section of `bench/RESULTS.md` under `## Notes`.

#[path = "../fixture.rs"]
mod fixture;
#[path = "../results.rs"]
mod results;

use anyhow::ensure;
use clap::Parser;
use fixture::{drop_database, fill_database, fresh_database, open};
use std::time::{Duration, Instant};

const HEADING: &str = "### Referral shares of a large tree of friends";

/// Measures the referral views and collections against the size of a player's tree.
#[derive(Parser, Debug)]
struct Args {
    /// Friends of player 1 (first level), one tree each; the second level is nine times as many.
    #[arg(long, value_delimiter = ',', default_value = "100,1000,10000")]
    sizes: Vec<i64>,
    /// Backends: `sqlite`, `postgres`.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    #[command(flatten)]
    services: results::Services,
}

struct Row {
    backend: &'static str,
    size: i64,
    me: Duration,
    view: Duration,
    first: Duration,
    again: Duration,
}

/// The mean of `n` runs of `f`.
async fn mean<F, Fut>(n: u32, mut f: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let started = Instant::now();
    for _ in 0..n {
        f().await?;
    }
    Ok(started.elapsed() / n)
}

/// The coins player 1 is owed with the game file's defaults (10 % and 2.5 %, capped per friend).
fn owed(size: i64) -> i64 {
    let n = size * 10;
    (0..n)
        .map(|i| {
            let bps = if i < size { 1_000 } else { 250 };
            game::shares::share_of(51 + i, bps, 1_000_000)
        })
        .sum()
}

async fn measure(args: &Args, backend: &str, size: i64) -> anyhow::Result<Row> {
    let tag = format!("ref_{:x}", rand::random::<u32>());
    let work = std::env::temp_dir().join(format!("tapwave-{tag}"));
    let postgres = (backend == "postgres").then_some(args.services.postgres.as_str());
    let url = fresh_database(postgres, &work, &tag).await?;
    let result = async {
        let redis = postgres.map(|_| args.services.redis.as_str());
        let game = open(&url, redis, &format!("tapwave-{tag}:")).await?;
        // Players 0..size were invited by 1; each later one by one of those.
        let referrer = |i: i64| Some(if i < size { 1 } else { 1_000_000 + i % size });
        fill_database(&game, size * 10, referrer).await?;
        // Player 1's own `/me`: a friend's would be their first visit, which pays referral bonuses.
        let g = &game;
        let me = mean(20, || async move {
            g.me(1).await?;
            Ok(())
        })
        .await?;
        let view = mean(5, || async move {
            let v = g.referrals(1, None).await?;
            ensure!(v.count == size as u64, "{} friends", v.count);
            Ok(())
        })
        .await?;
        let started = Instant::now();
        let got = game.collect_shares(1).await?;
        let first = started.elapsed();
        ensure!(
            got.collected == owed(size),
            "collected {} of {}",
            got.collected,
            owed(size)
        );
        let again = mean(5, || async move {
            let got = g.collect_shares(1).await?;
            ensure!(got.collected == 0, "collected {} again", got.collected);
            Ok(())
        })
        .await?;
        anyhow::Ok(Row {
            backend: if postgres.is_some() {
                "PostgreSQL + Redis"
            } else {
                "SQLite + in-process"
            },
            size,
            me,
            view,
            first,
            again,
        })
    }
    .await;
    if postgres.is_some() {
        drop_database(&args.services.postgres, &tag).await.ok();
    }
    std::fs::remove_dir_all(&work).ok();
    result
}

fn section(rows: &[Row]) -> String {
    let mut md = format!("{HEADING}\n\n");
    md.push_str(
        "Written by `target/release/refbench` (bench/src/bin/refbench.rs): player 1 invited the friends of the\n\
         first column and they invited nine times as many; times are the game's calls without HTTP, divided by\n\
         player 1's own `GET /me` in the same run. `GET /referrals` reads both levels (one statement per\n\
         level, each friend's own share income alongside); the first collection also writes every friend's\n\
         share row (upserts of a thousand rows); a later one finds nothing due.\n\n",
    );
    md.push_str(&format!("Run: {} cores.\n\n", results::cores()));
    md.push_str("| backend | friends (+ second level) | `GET /referrals` ÷ `/me` | first collection ÷ `/me` | later collection ÷ `/me` |\n");
    md.push_str("|---|---|---|---|---|\n");
    for r in rows {
        let ratio = |d: Duration| d.as_secs_f64() / r.me.as_secs_f64();
        md.push_str(&format!(
            "| {} | {} (+ {}) | {:.0} | {:.0} | {:.0} |\n",
            r.backend,
            r.size,
            r.size * 9,
            ratio(r.view),
            ratio(r.first),
            ratio(r.again)
        ));
    }
    md.push_str(
        "\nThe cost grows about linearly with the tree: a player with a hundred thousand people under them\n\
         pays hundreds of `/me` calls' worth of database work for each look at the Friends tab, which is why the\n\
         Mini App reads it only when that tab opens.\n",
    );
    md
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = results::runtime()?;
    let mut rows = Vec::new();
    for backend in &args.backends {
        for &size in &args.sizes {
            let row = runtime.block_on(measure(&args, backend, size))?;
            eprintln!(
                "refbench: {} {}: /me {:?}, view {:?}, first {:?}, again {:?}",
                row.backend, size, row.me, row.view, row.first, row.again
            );
            rows.push(row);
        }
    }
    results::write_section(&args.services.out, HEADING, &section(&rows))?;
    eprintln!("refbench: wrote {}", args.services.out.display());
    Ok(())
}
