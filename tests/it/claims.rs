//! Claims: one key makes one claim and one debit, a balance never goes below zero, limits hold.

use crate::support::{spawn_with, wallet_of, Backend, Options, TestApp};
use futures::future::join_all;
use serde_json::json;
use testkit::both_backends;

both_backends!(
    one_key_sent_concurrently_makes_one_claim_and_one_debit,
    concurrent_claims_for_the_whole_balance_let_exactly_one_through,
    claims_are_refused_with_clear_reasons,
    daily_caps_and_cooldown_hold,
    a_paused_game_refuses_claims,
    a_refunded_claim_returns_the_coins_once,
);

/// Lots of energy and no human ceiling, so a test can earn a balance in one batch.
const RICH: &str = "[energy]\nmax = 100000\n[taps]\nburst = 100000\nmax_batch = 100000\n[limits]\nplayer_burst = 10000\nip_burst = 10000\n[claims]\nmin_amount = 100\n";

async fn claim(app: &TestApp, player: i64, amount: i64, key: &str) -> crate::support::Answer {
    app.call(
        "POST",
        "/api/v1/claims",
        Some(&app.auth(player)),
        Some(json!({"amount": amount, "idempotency_key": key})),
    )
    .await
}

async fn one_key_sent_concurrently_makes_one_claim_and_one_debit(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::game(RICH)).await;
    app.fund_with_wallet(1, 5000).await;
    let answers = join_all((0..10).map(|_| claim(&app, 1, 1200, "key-1"))).await;
    let created = answers.iter().filter(|a| a.status == 201).count();
    assert_eq!(created, 1, "{answers:?}");
    for a in &answers {
        assert!(
            a.status == 201 || a.status == 200,
            "{:?} {:?}",
            a.status,
            a.body
        );
    }
    let ids: std::collections::HashSet<_> = answers
        .iter()
        .map(|a| a.body["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids.len(), 1, "one claim id for one key");
    assert!(answers
        .iter()
        .all(|a| a.body["amount"] == 1200 && a.body["status"] == "pending"));
    assert_eq!(
        app.get("/api/v1/me", 1).await.body["balance"],
        3800,
        "debited once"
    );
    assert_eq!(app.ledger_sum(1).await, 3800);
    let list = app.get("/api/v1/claims", 1).await;
    assert_eq!(list.body.as_array().unwrap().len(), 1);
    // The key with another amount is a mistake, not a second claim.
    claim(&app, 1, 999, "key-1")
        .await
        .assert_error(409, "idempotency_key_reused");
    app.stop().await;
    stores.remove().await;
}

async fn concurrent_claims_for_the_whole_balance_let_exactly_one_through(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::game(RICH)).await;
    app.fund_with_wallet(2, 3000).await;
    let answers = join_all((0..12).map(|i| {
        let key = format!("whole-{i}");
        let app = &app;
        async move { claim(app, 2, 3000, &key).await }
    }))
    .await;
    assert_eq!(
        answers.iter().filter(|a| a.status == 201).count(),
        1,
        "{answers:?}"
    );
    for a in answers.iter().filter(|a| a.status != 201) {
        a.assert_error(409, "insufficient_balance");
    }
    assert_eq!(app.get("/api/v1/me", 2).await.body["balance"], 0);
    assert_eq!(app.ledger_sum(2).await, 0);
    assert_eq!(
        app.get("/api/v1/claims", 2)
            .await
            .body
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.stop().await;
    stores.remove().await;
}

async fn claims_are_refused_with_clear_reasons(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::game(RICH)).await;
    assert_eq!(app.taps(3, 500, 1).await.body["balance"], 500);
    claim(&app, 3, 200, "a")
        .await
        .assert_error(409, "no_wallet");
    let w = wallet_of(3);
    app.call(
        "PUT",
        "/api/v1/wallet",
        Some(&app.auth(3)),
        Some(json!({"address": w})),
    )
    .await;
    claim(&app, 3, 99, "a")
        .await
        .assert_error(422, "below_minimum");
    claim(&app, 3, 501, "a")
        .await
        .assert_error(409, "insufficient_balance");
    for bad in [
        json!({"amount": 0, "idempotency_key": "a"}),
        json!({"amount": -5, "idempotency_key": "a"}),
        json!({"amount": "5", "idempotency_key": "a"}),
        json!({"idempotency_key": "a"}),
    ] {
        app.call("POST", "/api/v1/claims", Some(&app.auth(3)), Some(bad))
            .await
            .assert_error(400, "invalid_amount");
    }
    for key in [json!(""), json!("x".repeat(65)), json!("sp ace"), json!(5)] {
        let body = json!({"amount": 200, "idempotency_key": key});
        app.call("POST", "/api/v1/claims", Some(&app.auth(3)), Some(body))
            .await
            .assert_error(400, "invalid_idempotency_key");
    }
    assert_eq!(
        app.get("/api/v1/me", 3).await.body["balance"],
        500,
        "refusals cost nothing"
    );
    let ok = claim(&app, 3, 500, "a").await;
    assert_eq!(ok.status, 201, "{:?}", ok.body);
    assert_eq!(ok.body["balance"], 0);
    app.stop().await;
    stores.remove().await;
}

async fn daily_caps_and_cooldown_hold(backend: Backend) {
    const CAPS: &str = "[energy]\nmax = 100000\n[taps]\nburst = 100000\nmax_batch = 100000\n[limits]\nplayer_burst = 10000\nip_burst = 10000\n[claims]\nmin_amount = 100\nplayer_daily_cap = 1000\nglobal_daily_cap = 1500\n";
    let (app, stores) = spawn_with(backend, Options::game(CAPS)).await;
    app.fund_with_wallet(4, 5000).await;
    app.fund_with_wallet(5, 5000).await;
    assert_eq!(claim(&app, 4, 600, "c1").await.status, 201);
    claim(&app, 4, 500, "c2")
        .await
        .assert_error(409, "daily_cap_reached");
    assert_eq!(claim(&app, 4, 400, "c3").await.status, 201);
    // 1000 of the game's 1500 are gone: player 5 may take 500, not 600.
    claim(&app, 5, 600, "d1")
        .await
        .assert_error(409, "global_cap_reached");
    assert_eq!(claim(&app, 5, 500, "d2").await.status, 201);
    assert_eq!(app.get("/api/v1/me", 4).await.body["balance"], 4000);
    assert_eq!(app.get("/api/v1/me", 5).await.body["balance"], 4500);
    app.stop().await;
    stores.remove().await;

    const COOL: &str = "[energy]\nmax = 100000\n[taps]\nburst = 100000\nmax_batch = 100000\n[limits]\nplayer_burst = 10000\nip_burst = 10000\n[claims]\nmin_amount = 100\ncooldown_secs = 3600\n";
    let (app, stores) = spawn_with(backend, Options::game(COOL)).await;
    app.fund_with_wallet(6, 5000).await;
    assert_eq!(claim(&app, 6, 100, "e1").await.status, 201);
    let again = claim(&app, 6, 100, "e2").await;
    again.assert_error(429, "claim_cooldown");
    let wait: u64 = again.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((3500..=3600).contains(&wait), "{wait}");
    assert_eq!(app.get("/api/v1/me", 6).await.body["balance"], 4900);
    app.stop().await;
    stores.remove().await;
}

async fn a_paused_game_refuses_claims(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::game(RICH)).await;
    app.fund_with_wallet(7, 1000).await;
    app.game.set_claims_paused(99, true).await.unwrap();
    claim(&app, 7, 500, "p")
        .await
        .assert_error(409, "claims_paused");
    app.game.set_claims_paused(99, false).await.unwrap();
    assert_eq!(claim(&app, 7, 500, "p").await.status, 201);
    app.stop().await;
    stores.remove().await;
}

async fn a_refunded_claim_returns_the_coins_once(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::game(RICH)).await;
    app.fund_with_wallet(8, 1000).await;
    let id = claim(&app, 8, 700, "r").await.body["id"].as_i64().unwrap();
    assert!(app
        .game
        .refund_claim(id, "the payout bounced")
        .await
        .unwrap()
        .is_some());
    assert!(
        app.game.refund_claim(id, "again").await.unwrap().is_none(),
        "refunded once"
    );
    assert_eq!(app.get("/api/v1/me", 8).await.body["balance"], 1000);
    assert_eq!(app.ledger_sum(8).await, 1000);
    let list = app.get("/api/v1/claims", 8).await;
    assert_eq!(list.body[0]["status"], "refunded");
    assert_eq!(list.body[0]["error"], "the payout bounced");
    app.stop().await;
    stores.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_claim_form_shows_its_limits() {
    const CAPS: &str = "[energy]\nmax = 100000\n[taps]\nburst = 100000\nmax_batch = 100000\n[limits]\nplayer_burst = 10000\nip_burst = 10000\n[claims]\nmin_amount = 100\nplayer_daily_cap = 1000\ncooldown_secs = 60\n";
    let (app, stores) = spawn_with(Backend::Postgres, Options::game(CAPS)).await;
    app.fund_with_wallet(9, 2000).await;
    assert_eq!(claim(&app, 9, 300, "l1").await.status, 201);
    let limits = app.get("/api/v1/claims/limits", 9).await;
    assert_eq!(limits.status, 200, "{:?}", limits.body);
    assert_eq!(limits.body["min_amount"], 100);
    assert_eq!(limits.body["player_daily_left"], 700);
    assert_eq!(limits.body["global_daily_left"], serde_json::Value::Null);
    assert!(limits.body["cooldown_left_secs"].as_i64().unwrap() > 0);
    assert_eq!(limits.body["balance"], 1700);
    assert_eq!(limits.body["paused"], false);
    app.stop().await;
    stores.remove().await;
}
