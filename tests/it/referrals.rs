//! Referrals from the Mini App's signed `start_param` (`ref_<id>`): bound once, only for a new
//! player, never to oneself nor to an unknown id; the friend's first visit then pays both.

use crate::support::{clocked, spawn_with, Answer, Backend, TestApp, ROOMY};
use futures::future::join_all;
use game::{Clock, ManualClock};
use testkit::both_backends;

both_backends!(
    a_new_player_from_a_referral_start_param_is_bound_and_pays_both,
    a_start_param_binds_no_existing_player_nor_oneself_nor_a_stranger,
    twelve_first_sign_ins_at_once_bind_one_referrer_and_pay_once,
);

/// `GET /me` with init data signed now that carries `start_param`.
pub(crate) async fn me_from(
    app: &TestApp,
    clock: &ManualClock,
    id: i64,
    start_param: &str,
) -> Answer {
    let user = serde_json::json!({"id": id, "first_name": format!("Friend{id}")}).to_string();
    let auth_date = (clock.now_ms() / 1000).to_string();
    let init = app.key.sign(&[
        ("auth_date", &auth_date),
        ("user", &user),
        ("chat_type", "private"),
        ("start_param", start_param),
    ]);
    let auth = format!("tma {init}");
    app.call("GET", "/api/v1/me", Some(&auth), None).await
}

async fn a_new_player_from_a_referral_start_param_is_bound_and_pays_both(backend: Backend) {
    let (options, clock) = clocked(ROOMY);
    let (app, stores) = spawn_with(backend, options).await;
    let bonus = app.game.config().referrals.bonus;
    assert!(bonus > 0);
    assert_eq!(app.get("/api/v1/me", 8).await.body["balance"], 0);
    clock.advance(1000);
    // The friend's first sign-in creates them, binds 8, and (first visit) pays both.
    let me = me_from(&app, &clock, 81, "ref_8").await;
    assert_eq!(me.status, 200, "{:?}", me.body);
    assert_eq!(app.game.referrer_of(81).await.unwrap(), Some(8));
    assert_eq!(me.body["balance"], bonus);
    let referrer = app.get("/api/v1/referrals", 8).await;
    assert_eq!(referrer.body["count"], 1);
    assert_eq!(app.get("/api/v1/me", 8).await.body["balance"], bonus);
    // Signing in again with the same or another referral changes nothing and pays nothing more.
    clock.advance(1000);
    assert_eq!(
        me_from(&app, &clock, 81, "ref_8").await.body["balance"],
        bonus
    );
    assert_eq!(app.get("/api/v1/me", 82).await.status, 200);
    clock.advance(1000);
    assert_eq!(me_from(&app, &clock, 81, "ref_82").await.status, 200);
    assert_eq!(app.game.referrer_of(81).await.unwrap(), Some(8));
    assert_eq!(app.get("/api/v1/me", 8).await.body["balance"], bonus);
    assert_eq!(app.ledger_sum(8).await, bonus);
    assert_eq!(app.ledger_sum(81).await, bonus);
    app.stop().await;
    stores.remove().await;
}

async fn a_start_param_binds_no_existing_player_nor_oneself_nor_a_stranger(backend: Backend) {
    let (options, clock) = clocked(ROOMY);
    let (app, stores) = spawn_with(backend, options).await;
    assert_eq!(app.get("/api/v1/me", 8).await.status, 200);
    // An existing player, even in the very millisecond they were created.
    assert_eq!(app.get("/api/v1/me", 90).await.status, 200);
    assert_eq!(me_from(&app, &clock, 90, "ref_8").await.status, 200);
    clock.advance(1000);
    assert_eq!(me_from(&app, &clock, 90, "ref_8").await.status, 200);
    assert_eq!(app.game.referrer_of(90).await.unwrap(), None);
    // Oneself, a stranger, and start params that are no referral.
    for (id, start_param) in [
        (91, "ref_91"),
        (92, "ref_999"),
        (93, "ref_0"),
        (94, "promo"),
    ] {
        let me = me_from(&app, &clock, id, start_param).await;
        assert_eq!(me.status, 200, "{:?}", me.body);
        assert_eq!(me.body["balance"], 0);
        assert_eq!(
            app.game.referrer_of(id).await.unwrap(),
            None,
            "{start_param}"
        );
    }
    assert_eq!(app.get("/api/v1/referrals", 8).await.body["count"], 0);
    app.stop().await;
    stores.remove().await;
}

async fn twelve_first_sign_ins_at_once_bind_one_referrer_and_pay_once(backend: Backend) {
    let (options, clock) = clocked(ROOMY);
    let (app, stores) = spawn_with(backend, options).await;
    for referrer in [8, 9] {
        assert_eq!(app.get("/api/v1/me", referrer).await.status, 200);
    }
    clock.advance(1000);
    let params: Vec<String> = (0..12).map(|i| format!("ref_{}", 8 + i % 2)).collect();
    let answers = join_all(params.iter().map(|p| me_from(&app, &clock, 85, p))).await;
    for a in &answers {
        assert_eq!(a.status, 200, "{:?}", a.body);
    }
    let bound = app
        .game
        .referrer_of(85)
        .await
        .unwrap()
        .expect("one referrer bound");
    let other = 17 - bound;
    let bonus = app.game.config().referrals.bonus;
    assert_eq!(app.get("/api/v1/me", 85).await.body["balance"], bonus);
    assert_eq!(app.ledger_sum(85).await, bonus);
    assert_eq!(app.ledger_sum(bound).await, bonus);
    assert_eq!(app.ledger_sum(other).await, 0);
    assert_eq!(app.get("/api/v1/referrals", bound).await.body["count"], 1);
    assert_eq!(app.get("/api/v1/referrals", other).await.body["count"], 0);
    app.stop().await;
    stores.remove().await;
}
