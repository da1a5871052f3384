//! Filling the leaderboards from the database: what a process does at start on an empty
//! in-process board, and what the worker does after Redis lost its keys.
//!
//! It makes `--players` players, each with a ledger row of last week and one of this week, in a
//! fresh database, then measures players put back per second:
//! - on PostgreSQL + Redis, the Redis writes alone, one player per round trip against pipelined in
//!   chunks (how the boards are filled now), on fresh key prefixes;
//! - the whole fill (`Game::seed_leaderboard`: pages of players with this week's ledger sums, then
//!   the board writes) on PostgreSQL + Redis and on SQLite + in-process.
//!
//! Every fill is checked: the number of players put back and one player's weekly score. Ratios
//! within one run are what to compare; the machine is shared. Results go to a section of
//! `bench/RESULTS.md` under `## Notes`.

#[path = "../fixture.rs"]
mod fixture;
#[path = "../results.rs"]
mod results;

use anyhow::ensure;
use clap::Parser;
use fixture::{drop_database, fill_database, fresh_database, open};
use game::store::leaderboard::BoardRow;
use game::store::redis::RedisConn;
use game::store::{Leaderboard, RedisLeaderboard};
use game::Game;
use std::time::Instant;

const HEADING: &str = "### Leaderboard filling (at start, and after Redis lost its keys)";

/// Measures how fast the leaderboards are filled from the database.
#[derive(Parser, Debug)]
struct Args {
    /// Players in the database.
    #[arg(long, default_value_t = 50_000)]
    players: i64,
    #[command(flatten)]
    services: results::Services,
}

/// Players per second of a whole fill on a board that is empty, checked.
async fn whole_fill(game: &Game, n: i64) -> anyhow::Result<f64> {
    let started = Instant::now();
    let filled = game.seed_leaderboard().await?;
    let rate = filled as f64 / started.elapsed().as_secs_f64();
    ensure!(filled == n as u64, "filled {filled} players of {n}");
    let me = game
        .leaderboard_of(1_000_000 + n / 2, 1, game::Board::Week)
        .await?;
    ensure!(
        me.me.balance == n / 2 + 1,
        "week score {} for player {}",
        me.me.balance,
        n / 2
    );
    Ok(rate)
}

fn board_rows(n: i64) -> Vec<BoardRow> {
    (0..n)
        .map(|i| BoardRow {
            player: 1_000_000 + i,
            version: 3,
            balance: 51 + i,
            total_earned: 51 + i,
            week_earned: i + 1,
        })
        .collect()
}

/// Players per second written to a fresh Redis board `chunk` at a time, checked.
async fn redis_writes(args: &Args, prefix: &str, chunk: usize) -> anyhow::Result<f64> {
    let board = RedisLeaderboard::new(RedisConn::new(&args.services.redis, prefix, 4)?);
    let rows = board_rows(args.players);
    let started = Instant::now();
    for part in rows.chunks(chunk) {
        board.restore("2026-W50", part).await?;
    }
    let rate = rows.len() as f64 / started.elapsed().as_secs_f64();
    let top = board.week_top("2026-W50", 1).await?;
    ensure!(
        top == [(1_000_000 + args.players - 1, args.players)],
        "week top {top:?}"
    );
    Ok(rate)
}

fn drop_redis_keys(args: &Args, prefix: &str) {
    let script = format!(
        "redis-cli -u '{0}' --scan --pattern '{prefix}*' | xargs -r -n 500 redis-cli -u '{0}' del >/dev/null",
        args.services.redis
    );
    let _ = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .status();
}

struct Measured {
    one_by_one: f64,
    pipelined: f64,
    pg_fill: f64,
    sqlite_fill: f64,
}

async fn measure(args: &Args) -> anyhow::Result<Measured> {
    let tag = format!("fill_{:x}", rand::random::<u32>());
    let work = std::env::temp_dir().join(format!("tapwave-{tag}"));
    let none = |_| None;
    // PostgreSQL + Redis.
    let url = fresh_database(Some(&args.services.postgres), &work, &tag).await?;
    let prefixes: Vec<String> = (0..4).map(|k| format!("tapwave-{tag}-{k}:")).collect();
    let result = async {
        let writer = open(&url, Some(&args.services.redis), &prefixes[0]).await?;
        fill_database(&writer, args.players, none).await?;
        eprintln!("fillbench: {} players in PostgreSQL", args.players);
        let one_by_one = redis_writes(args, &prefixes[1], 1).await?;
        let pipelined = redis_writes(args, &prefixes[2], usize::MAX).await?;
        // A fresh prefix is a Redis that lost its keys.
        let fresh = open(&url, Some(&args.services.redis), &prefixes[3]).await?;
        let pg_fill = whole_fill(&fresh, args.players).await?;
        anyhow::Ok((one_by_one, pipelined, pg_fill))
    }
    .await;
    for p in &prefixes {
        drop_redis_keys(args, p);
    }
    drop_database(&args.services.postgres, &tag).await.ok();
    let (one_by_one, pipelined, pg_fill) = result?;

    // SQLite + in-process: a second process on the same file finds its board empty.
    let url = fresh_database(None, &work, &tag).await?;
    let result = async {
        let writer = open(&url, None, "unused:").await?;
        fill_database(&writer, args.players, none).await?;
        writer.db().clone().close().await.ok();
        let fresh = open(&url, None, "unused:").await?;
        whole_fill(&fresh, args.players).await
    }
    .await;
    std::fs::remove_dir_all(&work).ok();
    Ok(Measured {
        one_by_one,
        pipelined,
        pg_fill,
        sqlite_fill: result?,
    })
}

fn section(args: &Args, m: &Measured) -> String {
    let mut md = format!("{HEADING}\n\n");
    md.push_str(
        "Written by `target/release/fillbench` (bench/src/bin/fillbench.rs): players put back on the global, league\n\
         and weekly boards per second. Each player has a ledger row of last week and one of this week; every fill\n\
         is checked (players counted, one weekly score). The Redis writes alone are measured one player per round\n\
         trip and pipelined 500 players per round trip (as the fill does now); the fill before made two round\n\
         trips per player, so the first line flatters it. The whole fill adds reading the players in pages of\n\
         5,000 with this week's ledger sums; real players have many ledger rows a week, and the sum reads each\n\
         of them, so on a large game the database part grows with the week's ledger.\n\n",
    );
    md.push_str(&format!(
        "Run: {} players, {} cores.\n\n",
        args.players,
        results::cores()
    ));
    md.push_str("| measure | players/s | ratio |\n|---|---|---|\n");
    md.push_str(&format!(
        "| Redis writes, one round trip per player | {:.0} | 1.00 |\n",
        m.one_by_one
    ));
    md.push_str(&format!(
        "| Redis writes, pipelined | {:.0} | **{:.2}** of one by one |\n",
        m.pipelined,
        m.pipelined / m.one_by_one
    ));
    md.push_str(&format!(
        "| whole fill, PostgreSQL + Redis | {:.0} | **{:.2}** of the pipelined writes |\n",
        m.pg_fill,
        m.pg_fill / m.pipelined
    ));
    md.push_str(&format!(
        "| whole fill, SQLite + in-process | {:.0} | **{:.2}** of the PostgreSQL + Redis fill |\n",
        m.sqlite_fill,
        m.sqlite_fill / m.pg_fill
    ));
    md
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = results::runtime()?;
    let m = runtime.block_on(measure(&args))?;
    eprintln!(
        "fillbench: one by one {:.0}/s, pipelined {:.0}/s, PostgreSQL + Redis fill {:.0}/s, SQLite fill {:.0}/s",
        m.one_by_one, m.pipelined, m.pg_fill, m.sqlite_fill
    );
    results::write_section(&args.services.out, HEADING, &section(&args, &m))?;
    eprintln!("fillbench: wrote {}", args.services.out.display());
    Ok(())
}
