//! Rate limits per player and per address: 429 with `Retry-After`, shared by instances on Redis.

use crate::support::{spawn_with, Backend, Options};
use testkit::both_backends;

both_backends!(
    a_player_over_the_rate_gets_429_with_retry_after,
    an_address_over_the_rate_gets_429
);

async fn a_player_over_the_rate_gets_429_with_retry_after(backend: Backend) {
    const TOML: &str = "[limits]\nplayer_per_second = 1\nplayer_burst = 4\nip_per_second = 10000\nip_burst = 10000\n";
    let (app, stores) = spawn_with(
        backend,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.get("/api/v1/me", 30).await);
    }
    let ok = statuses.iter().filter(|a| a.status == 200).count();
    assert!(
        (5..=6).contains(&ok),
        "burst 4 + 1 (+1 if a second passed): {ok}"
    );
    let refused = statuses
        .iter()
        .find(|a| a.status == 429)
        .expect("a refusal");
    refused.assert_error(429, "rate_limited");
    let retry: u64 = refused.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "retry after {retry}");
    // Another player is not affected.
    assert_eq!(app.get("/api/v1/me", 31).await.status, 200);
    app.stop().await;
    stores.remove().await;
}

async fn an_address_over_the_rate_gets_429(backend: Backend) {
    const TOML: &str = "[limits]\nip_per_second = 1\nip_burst = 2\n";
    let options = Options {
        game_toml: TOML,
        trusted_proxies: 1,
        ..Options::default()
    };
    let (app, stores) = spawn_with(backend, options).await;
    let from = |ip: &'static str| {
        let req = app
            .client
            .get(format!("{}/api/v1/me", app.base))
            .header("authorization", app.auth(40))
            .header("x-forwarded-for", format!("10.9.9.9, {ip}"));
        async move { req.send().await.unwrap().status().as_u16() }
    };
    let mut seen = Vec::new();
    for _ in 0..5 {
        seen.push(from("203.0.113.7").await);
    }
    assert!(seen.contains(&429), "{seen:?}");
    // With one trusted proxy, the address is the last hop: another client is not limited,
    // and a spoofed leftmost entry does not change who is counted.
    assert_eq!(from("198.51.100.1").await, 200);
    app.stop().await;
    stores.remove().await;
}
