//! The bot's benchmark: updates per second through the dispatcher in webhook mode, against the
//! fake Bot API, measured beside a bare Bot API round trip in the same run.
//!
//! It runs everything in one process on loopback: the game on fresh stores (a SQLite file, or a
//! fresh PostgreSQL database with Redis), the fake Bot API (counting, not recording), the real bot
//! in webhook mode, and an HTTP server for its route. Each update is a player's command posted
//! with the secret header; it counts once the bot's answer reaches the fake. A window of updates
//! in flight keeps the dispatcher busy without flooding its queue. The floor is a bare
//! `sendMessage` to the fake with the same concurrency: what one update costs at least besides
//! the bot's own work. Ratios within one run are what to compare; the machine is shared. Results
//! go to a section of `bench/RESULTS.md` under `## Notes` (the `bench` binary keeps that part).

#[path = "../results.rs"]
mod results;

use anyhow::{bail, Context};
use bot::fake_api::{FakeTelegram, TgUser};
use clap::Parser;
use game::{Game, InitDataKey, Settings, SystemClock};
use sea_orm::ConnectionTrait;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const TOKEN: &str = "424242:bench_token_for_tapwave_bot";
const SECRET: &str = "bench_secret";

/// Measures updates per second through the bot's dispatcher in webhook mode.
#[derive(Parser, Debug)]
struct Args {
    /// Distinct players writing to the bot.
    #[arg(long, default_value_t = 2000)]
    players: i64,
    /// Updates sent per measured phase.
    #[arg(long, default_value_t = 30000)]
    updates: u64,
    /// Updates posted but not yet answered, at most.
    #[arg(long, default_value_t = 256)]
    window: u64,
    /// Requests in flight for the bare round trip.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Backends: `sqlite`, `postgres` (PostgreSQL + Redis).
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    #[command(flatten)]
    services: results::Services,
}

struct Row {
    backend: &'static str,
    floor: f64,
    play: f64,
    balance: f64,
}

struct Opened {
    game: Game,
    pg_database: Option<String>,
    label: &'static str,
}

async fn open(args: &Args, backend: &str, work: &std::path::Path) -> anyhow::Result<Opened> {
    let (url, redis, prefix, pg_database, label) = match backend {
        "sqlite" => (
            format!("sqlite://{}/bot.db?mode=rwc", work.display()),
            None,
            "unused:".to_owned(),
            None,
            "SQLite + in-process",
        ),
        "postgres" => {
            let admin = game::store::db::connect(&args.services.postgres, 1)
                .await
                .context("PostgreSQL")?;
            let name = format!("tapwave_botbench_{:x}", rand::random::<u32>());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            admin.close().await.ok();
            let base = args
                .services
                .postgres
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&args.services.postgres);
            (
                format!("{base}/{name}"),
                Some(args.services.redis.clone()),
                format!("tapwave-botbench-{:x}:", rand::random::<u32>()),
                Some(name),
                "PostgreSQL + Redis",
            )
        }
        other => bail!("unknown backend {other:?} (sqlite, postgres)"),
    };
    let db = game::store::db::connect(&url, 2).await?;
    migrations::apply_pending(&db).await?;
    db.close().await.ok();
    let settings = Settings {
        database_url: url,
        redis_url: redis,
        redis_prefix: prefix,
        init_key: InitDataKey::for_bot_token(TOKEN),
        init_data_max_age: 86_400,
        game: game::GameConfig::parse(
            "[bot]\ncommands_per_second = 100000\ncommands_burst = 100000\n",
        )?,
        db_max_connections: 16,
    };
    let game = Game::open(&settings, Arc::new(SystemClock)).await?;
    Ok(Opened {
        game,
        pg_database,
        label,
    })
}

/// Posts `n` updates of `text` from rotating players, at most `window` unanswered; updates/s.
async fn drive(
    client: &reqwest::Client,
    url: &str,
    fake: &FakeTelegram,
    users: &[TgUser],
    text: &str,
    n: u64,
    window: u64,
) -> anyhow::Result<f64> {
    let answered = || fake.calls("sendMessage") as u64;
    let base = answered();
    let bodies: Vec<serde_json::Value> = (0..n)
        .map(|i| fake.message_update(&users[i as usize % users.len()], text))
        .collect();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(300);
    let mut posted = 0u64;
    let mut flight = tokio::task::JoinSet::new();
    while answered() - base < n {
        if Instant::now() > deadline {
            bail!(
                "the bot answered {} of {n} updates in 300 s",
                answered() - base
            );
        }
        let behind = posted - (answered() - base).min(posted);
        if (posted as usize) < bodies.len() && behind < window && flight.len() < 64 {
            let (client, url) = (client.clone(), url.to_owned());
            let body = bodies[posted as usize].clone();
            posted += 1;
            flight.spawn(async move {
                let ok = client
                    .post(url)
                    .header("x-telegram-bot-api-secret-token", SECRET)
                    .json(&body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success());
                if !ok {
                    eprintln!("botbench: an update was refused");
                }
            });
        } else if flight.join_next().await.is_none() {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    while flight.join_next().await.is_some() {}
    Ok(n as f64 / started.elapsed().as_secs_f64())
}

/// The floor: bare `sendMessage` round trips to the fake, `concurrency` at a time, `n` in all.
async fn floor(client: &reqwest::Client, fake: &FakeTelegram, concurrency: usize, n: u64) -> f64 {
    let url = format!("{}/bot{TOKEN}/SendMessage", fake.url());
    let left = Arc::new(AtomicU64::new(n));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let (client, url, left) = (client.clone(), url.clone(), left.clone());
        tasks.spawn(async move {
            while left
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |l| l.checked_sub(1))
                .is_ok()
            {
                let _ = client
                    .post(&url)
                    .json(&serde_json::json!({"chat_id": 1, "text": "floor"}))
                    .send()
                    .await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    n as f64 / started.elapsed().as_secs_f64()
}

async fn measure(args: &Args, backend: &str) -> anyhow::Result<Row> {
    let work = std::env::temp_dir().join(format!("tapwave-botbench-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&work)?;
    let opened = open(args, backend, &work).await?;
    let game = opened.game.clone();
    let fake = FakeTelegram::start_with(TOKEN, false).await;
    let cfg = bot::BotConfig {
        token: TOKEN.into(),
        api_url: fake.url().into(),
        webapp_url: "https://game.example.com/".into(),
        admins: vec![],
        webhook: Some(bot::WebhookConfig {
            url: "https://bot.example.com/telegram/webhook".into(),
            secret: SECRET.into(),
        }),
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let launched = bot::launch(game.clone(), &cfg, stopped(stop_rx.clone()))?;
    let router = launched.webhook.context("webhook mode")?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/telegram/webhook", listener.local_addr()?);
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(stopped(stop_rx))
            .await
    });
    let bot_task = tokio::spawn(launched.run);
    while fake.calls("setWebhook") == 0 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let users: Vec<TgUser> = (0..args.players)
        .map(|i| {
            let lang = if i % 2 == 0 { "en" } else { "ru" };
            TgUser::new(6_000_000 + i, &format!("Bench{i}"), lang)
        })
        .collect();
    // Every player starts the bot once (creating them), untimed; then the measured phases.
    let players = args.players as u64;
    drive(&client, &url, &fake, &users, "/start", players, args.window).await?;
    let floor = floor(&client, &fake, args.concurrency, args.updates).await;
    let play = drive(
        &client,
        &url,
        &fake,
        &users,
        "/play",
        args.updates,
        args.window,
    )
    .await?;
    let balance = drive(
        &client,
        &url,
        &fake,
        &users,
        "/balance",
        args.updates,
        args.window,
    )
    .await?;
    let _ = stop_tx.send(true);
    let _ = bot_task.await;
    let _ = server.await;
    game.db().clone().close().await.ok();
    if let Some(name) = opened.pg_database {
        let admin = game::store::db::connect(&args.services.postgres, 1).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .ok();
        admin.close().await.ok();
    }
    std::fs::remove_dir_all(&work).ok();
    Ok(Row {
        backend: opened.label,
        floor,
        play,
        balance,
    })
}

const HEADING: &str = "### Bot: updates through the dispatcher (webhook mode)";

fn section(args: &Args, rows: &[Row]) -> String {
    let mut md = format!("{HEADING}\n\n");
    md.push_str(
        "Written by `target/release/botbench` (bench/src/bin/botbench.rs): the real bot in webhook mode, in one\n\
         process with the fake Bot API, the game and the load; an update counts when its answer reaches the\n\
         fake. The floor is a bare `sendMessage` round trip to the fake: every update costs one webhook POST,\n\
         one answer to the Bot API and the bot's own work (command limit, standing, the command), so read the\n\
         ratios.\n\n",
    );
    md.push_str(&format!(
        "Run: {} players, {} updates per phase, at most {} unanswered, {} cores.\n\n",
        args.players,
        args.updates,
        args.window,
        results::cores()
    ));
    md.push_str("| backend | bare Bot API calls/s | `/play` updates/s | `/balance` updates/s | `/play` ÷ floor | `/balance` ÷ floor |\n");
    md.push_str("|---|---|---|---|---|---|\n");
    for r in rows {
        md.push_str(&format!(
            "| {} | {:.0} | {:.0} | {:.0} | **{:.2}** | **{:.2}** |\n",
            r.backend,
            r.floor,
            r.play,
            r.balance,
            r.play / r.floor,
            r.balance / r.floor
        ));
    }
    md
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = results::runtime()?;
    let mut rows = Vec::new();
    for backend in &args.backends {
        eprintln!("botbench: {backend} …");
        let row = runtime.block_on(measure(&args, backend))?;
        eprintln!(
            "botbench: {}: floor {:.0}/s, /play {:.0}/s ({:.2}), /balance {:.0}/s ({:.2})",
            row.backend,
            row.floor,
            row.play,
            row.play / row.floor,
            row.balance,
            row.balance / row.floor
        );
        rows.push(row);
    }
    results::write_section(&args.services.out, HEADING, &section(&args, &rows))?;
    eprintln!("botbench: wrote {}", args.services.out.display());
    Ok(())
}
