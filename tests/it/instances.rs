//! Two app instances on one PostgreSQL database and one Redis, as behind a load balancer.

use crate::support::{start, Backend, Options, Stores};
use futures::future::join_all;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_agree_on_every_number() {
    const TOML: &str = "[energy]\nmax = 200\nper_second = 0\n[taps]\nburst = 100000\n[limits]\nplayer_burst = 10000\nip_burst = 10000\n";
    let stores = Stores::fresh(Backend::Postgres).await;
    let a = start(
        &stores,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    let b = start(
        &stores,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    // One player's batches spread over both instances at once never exceed the energy.
    let calls = (1..=30).map(|seq| {
        let app = if seq % 2 == 0 { &a } else { &b };
        app.taps(50, 13, seq)
    });
    let accepted: i64 = join_all(calls)
        .await
        .iter()
        .map(|r| r.body["accepted"].as_i64().unwrap())
        .sum();
    assert!(accepted <= 200, "accepted {accepted} with 200 energy");
    // The same seq sent to both at once is applied once.
    let same = join_all([
        a.taps(51, 9, 1),
        b.taps(51, 9, 1),
        a.taps(51, 9, 1),
        b.taps(51, 9, 1),
    ])
    .await;
    assert_eq!(
        same.iter().filter(|r| r.body["duplicate"] == false).count(),
        1
    );
    // Another player so the board has an order.
    assert_eq!(b.taps(52, 100, 1).await.status, 200);
    let (ma, mb) = (a.get("/api/v1/me", 50).await, b.get("/api/v1/me", 50).await);
    assert_eq!(ma.body["balance"], accepted);
    for field in ["balance", "energy", "last_seq", "level"] {
        assert_eq!(ma.body[field], mb.body[field], "{field}");
    }
    let (la, lb) = (
        a.get("/api/v1/leaderboard", 51).await,
        b.get("/api/v1/leaderboard", 51).await,
    );
    assert_eq!(la.body, lb.body, "both instances serve the same board");
    assert_eq!(la.body["me"]["balance"], 9);
    assert_eq!(a.ledger_sum(50).await, accepted);
    a.stop().await;
    b.stop().await;
    stores.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_rate_limit_is_shared_between_instances() {
    const TOML: &str = "[limits]\nplayer_per_second = 1\nplayer_burst = 3\nip_burst = 10000\nip_per_second = 10000\n";
    let stores = Stores::fresh(Backend::Postgres).await;
    let a = start(
        &stores,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    let b = start(
        &stores,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    let mut ok = 0;
    for i in 0..8 {
        let app = if i % 2 == 0 { &a } else { &b };
        if app.get("/api/v1/me", 60).await.status == 200 {
            ok += 1;
        }
    }
    assert!(
        (4..=5).contains(&ok),
        "one shared burst of 3 + 1, not one per instance: {ok}"
    );
    a.stop().await;
    b.stop().await;
    stores.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_instances_migrate_one_database_at_once() {
    let stores = Stores::fresh(Backend::Postgres).await;
    let apps = join_all((0..4).map(|_| start(&stores, Options::default()))).await;
    for app in &apps {
        assert_eq!(app.call("GET", "/readyz", None, None).await.status, 200);
    }
    for app in apps {
        app.stop().await;
    }
    stores.remove().await;
}
