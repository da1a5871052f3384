//! The binary itself: configuration errors, `migrate`, and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn tapwave() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tapwave"));
    for var in [
        "BIND",
        "DATABASE_URL",
        "REDIS_URL",
        "BOT_TOKEN",
        "GAME_CONFIG",
        "LOG_FORMAT",
        "TRUSTED_PROXIES",
        "WAREHOUSE_URL",
        "AWS_REGION",
        "WAREHOUSE_S3_ENDPOINT",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tapwave-cli-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_bad_variable_stops_the_program_with_one_line_naming_it() {
    for (var, value) in [
        ("BIND", "not-an-address"),
        ("DATABASE_URL", "mysql://nope"),
        ("REDIS_URL", "http://nope"),
        ("TRUSTED_PROXIES", "two"),
        ("INIT_DATA_MAX_AGE", "0"),
        ("BOT_TOKEN", "no-colon"),
        ("WEBHOOK_SECRET", "bad secret!"),
        ("GAME_CONFIG", "/definitely/missing.toml"),
        // An s3:// warehouse without AWS_REGION, and a bucket name S3 would refuse.
        ("WAREHOUSE_URL", "s3://tapwave-warehouse/events"),
        ("WAREHOUSE_URL", "s3://Not_A_Bucket/events"),
        ("WAREHOUSE_URL", "ftp://nope"),
    ] {
        let out = tapwave().arg("serve").env(var, value).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{var}");
        let stderr = String::from_utf8(out.stderr).unwrap();
        assert_eq!(stderr.trim_end().lines().count(), 1, "{var}: {stderr}");
        assert!(stderr.starts_with(&format!("error: {var}: ")), "{stderr}");
    }
}

#[test]
fn a_bad_game_file_names_the_key() {
    let dir = temp_dir();
    let file = dir.join("game.toml");
    std::fs::write(&file, "[energy]\nmax = -1\n").unwrap();
    let out = tapwave()
        .arg("serve")
        .env("GAME_CONFIG", &file)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("GAME_CONFIG") && stderr.contains("energy.max"),
        "{stderr}"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn migrate_applies_and_status_lists() {
    let dir = temp_dir();
    let url = format!("sqlite://{}/t.db?mode=rwc", dir.display());
    let status = |dir: &std::path::Path| {
        let out = tapwave()
            .args(["migrate", "status"])
            .env("DATABASE_URL", &url)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(status(&dir).starts_with("pending m20261203_000001_players_and_ledger"));
    let out = tapwave()
        .arg("migrate")
        .env("DATABASE_URL", &url)
        .env("LOG_FORMAT", "json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(status(&dir).starts_with("applied m20261203_000001_players_and_ledger"));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn serve_starts_on_the_embedded_default_and_stops_on_sigterm() {
    let dir = temp_dir();
    let mut child = tapwave()
        .arg("serve")
        .env("BIND", "127.0.0.1:0")
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // It prints the URL to open (among JSON log lines, since stdout is not a terminal).
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while !line.contains("open http://127.0.0.1:") {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "stdout ended before the URL"
        );
    }
    // Keep reading so the child never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    assert!(
        dir.join("tapwave.db").exists(),
        "SQLite file in the working folder"
    );
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "graceful exit: {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn the_worker_serves_health_and_metrics_and_stops_on_sigterm() {
    let dir = temp_dir();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = tapwave()
        .arg("worker")
        .env("BIND", format!("127.0.0.1:{port}"))
        .env(
            "WAREHOUSE_URL",
            format!("file://{}/warehouse", dir.display()),
        )
        .current_dir(&dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        if let Ok(r) = client.get(format!("{base}/healthz")).send().await {
            assert_eq!(r.status(), 200);
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the worker did not listen"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let metrics = client.get(format!("{base}/metrics")).send().await.unwrap();
    assert_eq!(metrics.status(), 200);
    assert!(Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "graceful exit: {status}");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::remove_dir_all(dir).ok();
}
