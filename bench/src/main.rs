//! tapwave's load generator: tap batches per second against the bare `/healthz`, in one run.
//!
//! It starts the real `tapwave api` binary once per backend (SQLite + in-process stores, then
//! PostgreSQL + Redis), signs init data for thousands of players with the bot token it gave the
//! server, signs them all in, then drives `/healthz` and `POST /api/v1/taps` for the same time with
//! the same concurrency. The machine is shared and noisy, so what it reports is the ratio of the
//! two measured in one run, never a lone absolute figure. Traffic goes to 127.0.0.1 only, and every
//! phase stops by itself.

use anyhow::{bail, Context};
use clap::Parser;
use game::InitDataKey;
use sea_orm::ConnectionTrait;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TOKEN: &str = "424242:bench_token_for_tapwave";

/// Measures tap batches per second against `/healthz` on both backends.
#[derive(Parser, Debug)]
struct Args {
    /// The tapwave binary (build it with `cargo build --release`).
    #[arg(long, default_value = "target/release/tapwave")]
    bin: PathBuf,
    /// Players signed in and tapping.
    #[arg(long, default_value_t = 5000)]
    players: i64,
    /// Seconds each measured phase runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Taps per batch.
    #[arg(long, default_value_t = 10)]
    batch: i64,
    /// Backends to measure: `sqlite`, `postgres` (PostgreSQL + Redis).
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// PostgreSQL server (a fresh database is created on it and dropped after).
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    postgres: String,
    /// Redis server (keys under a fresh prefix, deleted after).
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis: String,
    /// Anti-cheat settings to measure each backend with: `on` (the default game), `off`
    /// (`[anticheat] enabled = false`). Tap batches carry `gaps` either way.
    #[arg(long, value_delimiter = ',', default_value = "on")]
    anticheat: Vec<String>,
    /// Where to write the results table (Markdown).
    #[arg(long, default_value = "bench/RESULTS.md")]
    out: PathBuf,
}

/// What one phase measured.
struct Phase {
    requests: u64,
    errors: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Phase {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn start_server(
    args: &Args,
    env: &[(&str, String)],
    work: &std::path::Path,
    anticheat: bool,
) -> anyhow::Result<Server> {
    let port = free_port()?;
    let limits = "[limits]\nplayer_per_second = 100000\nplayer_burst = 100000\nip_per_second = 1000000\nip_burst = 1000000\n";
    let game_file = work.join("game.toml");
    std::fs::write(
        &game_file,
        format!("{limits}[anticheat]\nenabled = {anticheat}\n"),
    )?;
    let mut cmd = Command::new(&args.bin);
    cmd.arg("api")
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("BOT_TOKEN", TOKEN)
        .env("GAME_CONFIG", &game_file)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "warn")
        .env_remove("REDIS_URL")
        .current_dir(work)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd
        .spawn()
        .with_context(|| format!("cannot start {}", args.bin.display()))?;
    let server = Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await {
            if r.status().is_success() {
                return Ok(server);
            }
        }
        if Instant::now() > deadline {
            bail!("the server did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `make_request` from `concurrency` tasks for `seconds`; counts and times every answer.
async fn drive<F, Fut>(concurrency: usize, seconds: u64, make_request: F) -> Phase
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let make_request = Arc::new(make_request);
    let counter = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let stop_at = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (make_request, counter, errors) =
            (make_request.clone(), counter.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < stop_at {
                let n = counter.fetch_add(1, Ordering::Relaxed);
                let t = Instant::now();
                if !make_request(n).await {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                latencies.push(t.elapsed().as_micros() as u32);
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    let seconds = started.elapsed().as_secs_f64();
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0) as f64
            / 1000.0
    };
    Phase {
        requests: all.len() as u64,
        errors: errors.load(Ordering::Relaxed),
        seconds,
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
    }
}

struct Row {
    backend: String,
    health: Phase,
    taps: Phase,
    accepted: i64,
}

async fn measure(args: &Args, backend: &str, anticheat: bool) -> anyhow::Result<Row> {
    let work = std::env::temp_dir().join(format!("tapwave-bench-{:x}", rand::random::<u64>()));
    std::fs::create_dir_all(&work)?;
    let mut env = Vec::new();
    let mut pg_db = None;
    let mut prefix = None;
    let label = match backend {
        "sqlite" => {
            env.push((
                "DATABASE_URL",
                format!("sqlite://{}/bench.db?mode=rwc", work.display()),
            ));
            "SQLite + in-process"
        }
        "postgres" => {
            let admin = game::store::db::connect(&args.postgres, 1)
                .await
                .context("PostgreSQL for the bench")?;
            let name = format!("tapwave_bench_{:x}", rand::random::<u32>());
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            admin.close().await.ok();
            let base = args
                .postgres
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&args.postgres);
            env.push(("DATABASE_URL", format!("{base}/{name}")));
            env.push(("REDIS_URL", args.redis.clone()));
            let p = format!("tapwave-bench-{:x}:", rand::random::<u32>());
            env.push(("REDIS_KEY_PREFIX", p.clone()));
            pg_db = Some(name);
            prefix = Some(p);
            "PostgreSQL + Redis"
        }
        other => bail!("unknown backend {other:?} (sqlite, postgres)"),
    };
    let server = start_server(args, &env, &work, anticheat).await?;
    let base = Arc::new(server.base.clone());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency * 2)
        .build()?;

    // Sign every player in (this creates them), in parallel, untimed.
    let key = InitDataKey::for_bot_token(TOKEN);
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs() as i64;
    let auths: Arc<Vec<String>> = Arc::new(
        (0..args.players)
            .map(|i| {
                let user =
                    serde_json::json!({"id": 5_000_000 + i, "first_name": format!("Bench{i}")});
                format!("tma {}", key.sign_user(&user, now))
            })
            .collect(),
    );
    {
        let (client, base, auths) = (client.clone(), base.clone(), auths.clone());
        let players = args.players as u64;
        let signed = Arc::new(AtomicU64::new(0));
        let s = signed.clone();
        let warm = drive(args.concurrency, 3600, move |_| {
            let (client, base, auths, s) = (client.clone(), base.clone(), auths.clone(), s.clone());
            async move {
                let i = s.fetch_add(1, Ordering::Relaxed);
                if i >= players {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                    return true;
                }
                client
                    .get(format!("{base}/api/v1/me"))
                    .header("authorization", &auths[i as usize])
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        });
        // The sign-in phase ends when every player is in; `drive` would run an hour otherwise.
        let deadline = Instant::now() + Duration::from_secs(600);
        let handle = tokio::spawn(warm);
        while signed.load(Ordering::Relaxed) < players + args.concurrency as u64
            && Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        handle.abort();
    }

    let health = {
        let (client, base) = (client.clone(), base.clone());
        drive(args.concurrency, args.seconds, move |_| {
            let (client, base) = (client.clone(), base.clone());
            async move {
                client
                    .get(format!("{base}/healthz"))
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
            }
        })
        .await
    };

    let seqs: Arc<Vec<AtomicI64>> =
        Arc::new((0..args.players).map(|_| AtomicI64::new(0)).collect());
    let accepted = Arc::new(AtomicI64::new(0));
    let taps = {
        let (client, base, auths, seqs, acc) = (
            client.clone(),
            base.clone(),
            auths.clone(),
            seqs.clone(),
            accepted.clone(),
        );
        let (players, batch) = (args.players as u64, args.batch);
        drive(args.concurrency, args.seconds, move |n| {
            let (client, base, auths, seqs, acc) = (
                client.clone(),
                base.clone(),
                auths.clone(),
                seqs.clone(),
                acc.clone(),
            );
            async move {
                let p = (n % players) as usize;
                let seq = seqs[p].fetch_add(1, Ordering::Relaxed) + 1;
                // Human-like intervals between the batch's taps, as the Mini App measures them.
                let gaps: Vec<u64> = (1..batch)
                    .map(|_| 60 + rand::random::<u64>() % 80)
                    .collect();
                let res = client
                    .post(format!("{base}/api/v1/taps"))
                    .header("authorization", &auths[p])
                    .json(&serde_json::json!({"count": batch, "seq": seq, "gaps": gaps}))
                    .send()
                    .await;
                match res {
                    Ok(r) if r.status().is_success() => {
                        if let Ok(v) = r.json::<serde_json::Value>().await {
                            acc.fetch_add(v["accepted"].as_i64().unwrap_or(0), Ordering::Relaxed);
                        }
                        true
                    }
                    _ => false,
                }
            }
        })
        .await
    };
    drop(server);

    if let Some(name) = pg_db {
        let admin = game::store::db::connect(&args.postgres, 1).await?;
        admin
            .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .ok();
        admin.close().await.ok();
    }
    if let Some(p) = prefix {
        // Redis keys: sessions expire by themselves; the board and limiter keys are removed here.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("redis-cli -u '{}' --scan --pattern '{p}*' | xargs -r -n 500 redis-cli -u '{}' del >/dev/null", args.redis, args.redis))
            .status();
    }
    std::fs::remove_dir_all(&work).ok();
    Ok(Row {
        backend: if anticheat {
            label.to_owned()
        } else {
            format!("{label}, anti-cheat off")
        },
        health,
        taps,
        accepted: accepted.load(Ordering::Relaxed),
    })
}

fn main() -> anyhow::Result<()> {
    let mut args = Args::parse();
    // The server runs in a scratch folder, so the binary's path must not be relative.
    args.bin = std::fs::canonicalize(&args.bin).with_context(|| {
        format!(
            "no tapwave binary at {} (cargo build --release)",
            args.bin.display()
        )
    })?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut rows = Vec::new();
    let settings: Vec<bool> = args
        .anticheat
        .iter()
        .map(|a| match a.as_str() {
            "on" => Ok(true),
            "off" => Ok(false),
            other => Err(anyhow::anyhow!(
                "--anticheat takes on or off, got {other:?}"
            )),
        })
        .collect::<anyhow::Result<_>>()?;
    for (backend, anticheat) in args
        .backends
        .iter()
        .flat_map(|b| settings.iter().map(move |a| (b, *a)))
    {
        eprintln!("bench: {backend} (anti-cheat {anticheat}) …");
        let row = runtime.block_on(measure(&args, backend, anticheat))?;
        eprintln!(
            "bench: {}: healthz {:.0}/s, taps {:.0}/s (ratio {:.2}), tap errors {}",
            row.backend,
            row.health.rate(),
            row.taps.rate(),
            row.taps.rate() / row.health.rate(),
            row.taps.errors
        );
        rows.push(row);
    }
    let mut md = String::new();
    md.push_str("# Benchmark results\n\n");
    md.push_str("Written by `target/release/bench` (the command is in the Notes below). The load generator and the server\n");
    md.push_str("share this machine's cores, and the machine is shared and noisy: read the **ratios** measured within\n");
    md.push_str("one run, not the absolute rates.\n\n");
    md.push_str(&format!(
        "Run: {} players, {} requests in flight, {} s per phase, {} taps per batch, one `tapwave api` instance, {} cores.\n\n",
        args.players,
        args.concurrency,
        args.seconds,
        args.batch,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
    ));
    md.push_str("| backend | `/healthz` req/s | tap batches/s | taps/s accepted | batches ÷ healthz | tap p50 ms | tap p99 ms | healthz p99 ms | errors |\n");
    md.push_str("|---|---|---|---|---|---|---|---|---|\n");
    for r in &rows {
        md.push_str(&format!(
            "| {} | {:.0} | {:.0} | {:.0} | **{:.2}** | {:.2} | {:.2} | {:.2} | {} |\n",
            r.backend,
            r.health.rate(),
            r.taps.rate(),
            r.accepted as f64 / r.taps.seconds,
            r.taps.rate() / r.health.rate(),
            r.taps.p50_ms,
            r.taps.p99_ms,
            r.health.p99_ms,
            r.taps.errors + r.health.errors
        ));
    }
    if let Some(path) = args.out.parent() {
        std::fs::create_dir_all(path).ok();
    }
    let existing = std::fs::read_to_string(&args.out).unwrap_or_default();
    // Keep any notes written below the generated table.
    let notes = existing
        .split_once("\n## Notes")
        .map(|(_, n)| format!("\n## Notes{n}"))
        .unwrap_or_default();
    std::fs::write(&args.out, format!("{md}{notes}"))?;
    eprintln!("bench: wrote {}", args.out.display());
    Ok(())
}
