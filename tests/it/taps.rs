//! Tap batches: replays, bounds, the energy cap, the human ceiling, and real concurrency.

use crate::support::{clocked, spawn_with, Backend, Options, ROOMY};
use futures::future::join_all;
use testkit::both_backends;

both_backends!(
    a_replayed_or_older_seq_changes_nothing,
    counts_outside_the_bounds_are_refused,
    energy_caps_the_taps_and_regenerates,
    the_human_ceiling_refuses_autoclickers,
    concurrent_batches_never_exceed_energy,
    one_seq_sent_concurrently_is_applied_once,
    balance_equals_the_ledger_after_a_random_run,
    the_league_follows_coins_ever_earned,
);

async fn a_replayed_or_older_seq_changes_nothing(backend: Backend) {
    let (options, _clock) = clocked(ROOMY);
    let (app, stores) = spawn_with(backend, options).await;
    let first = app.taps(1, 10, 5).await;
    assert_eq!(first.status, 200, "{:?}", first.body);
    assert_eq!(first.body["accepted"], 10);
    assert_eq!(first.body["balance"], 10);
    assert_eq!(first.body["energy"], 990);
    assert_eq!(first.body["seq"], 5);
    assert_eq!(first.body["duplicate"], false);
    for seq in [5, 4, 0] {
        let again = app.taps(1, 10, seq).await;
        assert_eq!(again.status, 200);
        assert_eq!(again.body["duplicate"], true, "seq {seq}");
        assert_eq!(again.body["accepted"], 0);
        assert_eq!(again.body["balance"], 10);
        assert_eq!(again.body["seq"], seq);
    }
    let next = app.taps(1, 3, 6).await;
    assert_eq!(next.body["balance"], 13);
    assert_eq!(app.ledger_sum(1).await, 13);
    app.stop().await;
    stores.remove().await;
}

async fn counts_outside_the_bounds_are_refused(backend: Backend) {
    const TOML: &str = "[taps]\nmax_batch = 50\n[limits]\nplayer_burst = 1000\n";
    let (options, _clock) = clocked(TOML);
    let (app, stores) = spawn_with(backend, options).await;
    use serde_json::json;
    let auth = app.auth(3);
    for body in [
        json!({"count": 0, "seq": 1}),
        json!({"count": -5, "seq": 1}),
        json!({"count": 51, "seq": 1}),
        json!({"count": 1.5, "seq": 1}),
        json!({"count": "10", "seq": 1}),
        json!({"count": null, "seq": 1}),
        json!({"seq": 1}),
        json!({"count": 1e30, "seq": 1}),
    ] {
        app.call("POST", "/api/v1/taps", Some(&auth), Some(body.clone()))
            .await
            .assert_error(400, "invalid_count");
    }
    for body in [
        json!({"count": 1, "seq": -1}),
        json!({"count": 1}),
        json!({"count": 1, "seq": "x"}),
    ] {
        app.call("POST", "/api/v1/taps", Some(&auth), Some(body))
            .await
            .assert_error(400, "invalid_seq");
    }
    let max = app.taps(3, 50, 1).await;
    assert_eq!(max.body["accepted"], 50);
    assert_eq!(
        app.get("/api/v1/me", 3).await.body["balance"],
        50,
        "refused batches changed nothing"
    );
    app.stop().await;
    stores.remove().await;
}

async fn energy_caps_the_taps_and_regenerates(backend: Backend) {
    const TOML: &str =
        "[energy]\nmax = 30\nper_second = 2\n[taps]\nburst = 1000\n[limits]\nplayer_burst = 1000\n";
    let (options, clock) = clocked(TOML);
    let (app, stores) = spawn_with(backend, options).await;
    let a = app.taps(8, 100, 1).await;
    assert_eq!(a.body["accepted"], 30, "{:?}", a.body);
    assert_eq!(a.body["energy"], 0);
    let b = app.taps(8, 100, 2).await;
    assert_eq!(
        b.body["accepted"], 0,
        "no energy left: refused, not an error"
    );
    assert_eq!(b.body["duplicate"], false);
    clock.advance(2_250);
    assert_eq!(
        app.get("/api/v1/me", 8).await.body["energy"],
        4,
        "4.5 energy shows as 4"
    );
    let c = app.taps(8, 100, 3).await;
    assert_eq!(c.body["accepted"], 4);
    clock.advance(250);
    // The half unit left over is kept: 0.5 + 0.5 = 1 energy.
    assert_eq!(app.taps(8, 100, 4).await.body["accepted"], 1);
    clock.advance(3_600_000);
    assert_eq!(
        app.get("/api/v1/me", 8).await.body["energy"],
        30,
        "never above max"
    );
    assert_eq!(app.get("/api/v1/me", 8).await.body["balance"], 35);
    app.stop().await;
    stores.remove().await;
}

async fn the_human_ceiling_refuses_autoclickers(backend: Backend) {
    const TOML: &str =
        "[energy]\nmax = 100000\n[taps]\nmax_per_second = 10\nburst = 20\n[limits]\nplayer_burst = 1000\n";
    let (options, clock) = clocked(TOML);
    let (app, stores) = spawn_with(backend, options).await;
    assert_eq!(
        app.taps(4, 1000, 1).await.body["accepted"],
        20,
        "the burst at once"
    );
    let mut total = 0;
    for seq in 2..=11 {
        clock.advance(1_000);
        total += app.taps(4, 1000, seq).await.body["accepted"]
            .as_i64()
            .unwrap();
    }
    assert_eq!(total, 100, "10 s at 10 taps/s");
    // A human pace is accepted in full.
    clock.advance(1_000);
    assert_eq!(app.taps(4, 8, 12).await.body["accepted"], 8);
    app.stop().await;
    stores.remove().await;
}

async fn concurrent_batches_never_exceed_energy(backend: Backend) {
    const TOML: &str = "[energy]\nmax = 100\nper_second = 0\n[taps]\nburst = 100000\n[limits]\nplayer_burst = 10000\nip_burst = 10000\n";
    let (app, stores) = spawn_with(
        backend,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    assert_eq!(app.get("/api/v1/me", 21).await.status, 200);
    let answers = join_all((1..=24).map(|seq| app.taps(21, 9, seq))).await;
    let mut accepted = 0;
    for a in &answers {
        assert_eq!(a.status, 200, "{:?}", a.body);
        accepted += a.body["accepted"].as_i64().unwrap();
    }
    let me = app.get("/api/v1/me", 21).await;
    assert!(accepted <= 100, "accepted {accepted} taps with 100 energy");
    assert_eq!(
        me.body["balance"], accepted,
        "every accepted tap is in the balance, once"
    );
    assert_eq!(me.body["energy"], 100 - accepted);
    assert_eq!(app.ledger_sum(21).await, accepted);
    // The largest seq was applied or a later one got there first: either way it is recorded.
    assert_eq!(me.body["last_seq"], 24);
    app.stop().await;
    stores.remove().await;
}

async fn one_seq_sent_concurrently_is_applied_once(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::default()).await;
    assert_eq!(app.get("/api/v1/me", 22).await.status, 200);
    let answers = join_all((0..16).map(|_| app.taps(22, 7, 1))).await;
    let applied: Vec<_> = answers
        .iter()
        .filter(|a| a.body["duplicate"] == false)
        .collect();
    assert_eq!(applied.len(), 1, "{answers:?}");
    assert_eq!(applied[0].body["accepted"], 7);
    assert!(answers.iter().all(|a| a.status == 200));
    assert_eq!(app.get("/api/v1/me", 22).await.body["balance"], 7);
    assert_eq!(app.ledger_sum(22).await, 7);
    app.stop().await;
    stores.remove().await;
}

async fn balance_equals_the_ledger_after_a_random_run(backend: Backend) {
    const TOML: &str =
        "[energy]\nmax = 500\nper_second = 50\n[limits]\nplayer_burst = 10000\nip_burst = 10000\n";
    let (app, stores) = spawn_with(
        backend,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    let players = [101_i64, 102, 103, 104];
    // Random counts and seqs (some repeated, some older) from several players at once.
    let mut calls = Vec::new();
    for round in 0..12 {
        for &p in &players {
            let seq = round + (rand::random::<u8>() % 3) as i64;
            let count = 1 + (rand::random::<u16>() % 200) as i64;
            calls.push((p, count, seq));
        }
    }
    join_all(calls.iter().map(|&(p, count, seq)| app.taps(p, count, seq))).await;
    for p in players {
        let me = app.get("/api/v1/me", p).await;
        assert_eq!(me.status, 200);
        let balance = me.body["balance"].as_i64().unwrap();
        assert_eq!(balance, app.ledger_sum(p).await, "player {p}");
        assert!(balance >= 0);
    }
    app.stop().await;
    stores.remove().await;
}

async fn the_league_follows_coins_ever_earned(backend: Backend) {
    const TOML: &str = "[limits]\nplayer_per_second = 10000\nplayer_burst = 10000\n[leagues]\nnames = [\"Wood\", \"Stone\", \"Iron\"]\nthresholds = [10, 20]\n";
    let (options, _clock) = clocked(TOML);
    let (app, stores) = spawn_with(backend, options).await;
    assert_eq!(app.get("/api/v1/me", 1).await.body["league"], "Wood");
    assert_eq!(app.taps(1, 9, 1).await.body["balance"], 9);
    assert_eq!(app.get("/api/v1/me", 1).await.body["league"], "Wood");
    app.taps(1, 1, 2).await;
    assert_eq!(app.get("/api/v1/me", 1).await.body["league"], "Stone");
    app.taps(1, 15, 3).await;
    let me = app.get("/api/v1/me", 1).await;
    assert_eq!(me.body["total_earned"], 25);
    assert_eq!(me.body["league"], "Iron");
    app.stop().await;
    stores.remove().await;
}
