//! Anti-cheat: sustained ceiling-rate tapping, machine-regular intervals, taps sent without
//! intervals and one wallet behind many accounts are flagged (once, however concurrently), people are not, bad `gaps` are refused
//! whole, and `claims.exclude_flagged` holds a flagged player's claims until an admin clears them.

use crate::support::{spawn_with, wallet_of, Backend, Options, TestApp};
use futures::future::join_all;
use game::ManualClock;
use serde_json::{json, Value};
use std::sync::Arc;
use testkit::both_backends;

both_backends!(
    sustained_ceiling_tapping_is_flagged_and_human_pace_is_not,
    regular_intervals_are_flagged_and_jittered_ones_are_not,
    taps_without_intervals_are_flagged_and_the_mini_apps_are_not,
    bad_gaps_are_refused_and_nothing_is_applied,
    many_accounts_behind_one_wallet_are_all_flagged,
    a_flagged_player_cannot_claim_until_cleared,
    concurrent_batches_crossing_at_once_make_one_flag,
);

const LIMITS: &str = "[limits]\nplayer_per_second = 10000\nplayer_burst = 10000\nip_per_second = 100000\nip_burst = 100000\n";

/// An app on a clock the test moves, with `extra` added to roomy limits and plenty of energy.
async fn app_with(backend: Backend, extra: &str) -> (TestApp, testkit::Stores, Arc<ManualClock>) {
    let clock = Arc::new(ManualClock::new(1_796_000_000_000));
    let toml: &'static str =
        Box::leak(format!("{LIMITS}[energy]\nmax = 100000\n{extra}").into_boxed_str());
    let options = Options {
        clock: Some(clock.clone()),
        ..Options::game(toml)
    };
    let (app, stores) = spawn_with(backend, options).await;
    (app, stores, clock)
}

async fn taps_with(app: &TestApp, player: i64, body: Value) -> crate::support::Answer {
    app.call("POST", "/api/v1/taps", Some(&app.auth(player)), Some(body))
        .await
}

/// A deterministic, human-looking spread of intervals (70 to 249 ms).
fn jittered(n: usize, seed: u64) -> Vec<i64> {
    let mut x = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            70 + ((x >> 33) % 180) as i64
        })
        .collect()
}

async fn sustained_ceiling_tapping_is_flagged_and_human_pace_is_not(backend: Backend) {
    let (app, stores, clock) = app_with(backend, "[anticheat]\nceiling_batches = 10\n").await;
    // Both players exist before the first second is counted.
    for p in [1, 2] {
        assert_eq!(app.get("/api/v1/me", p).await.status, 200);
    }
    for seq in 1..=30 {
        clock.advance(1000);
        // The ceiling is 20 taps/s: an autoclicker at it, and a quick person at 8.
        let bot = app.taps(1, 20, seq).await;
        assert_eq!(bot.status, 200, "{:?}", bot.body);
        assert_eq!(bot.body["accepted"], 20);
        let person = app.taps(2, 8, seq).await;
        assert_eq!(person.status, 200, "{:?}", person.body);
        if seq == 9 {
            assert!(app.game.open_flags(1).await.unwrap().is_empty());
        }
        if seq == 10 {
            assert_eq!(app.game.open_flags(1).await.unwrap(), ["ceiling_rate"]);
        }
    }
    assert_eq!(app.game.open_flags(1).await.unwrap(), ["ceiling_rate"]);
    assert!(app.game.open_flags(2).await.unwrap().is_empty());
    assert!(app.game.is_flagged(1).await.unwrap());
    assert!(!app.game.is_flagged(2).await.unwrap());
    let suspects = app.game.suspects(30).await.unwrap();
    assert_eq!(suspects.len(), 1, "{suspects:?}");
    assert_eq!(suspects[0].player_id, 1);
    assert_eq!(suspects[0].name, "Player1");
    assert!(suspects[0].detail.contains("20 taps/s"), "{suspects:?}");
    // A flag changes nothing by itself: the player keeps playing.
    clock.advance(1000);
    assert_eq!(app.taps(1, 5, 31).await.body["accepted"], 5);
    app.stop().await;
    stores.remove().await;
}

async fn regular_intervals_are_flagged_and_jittered_ones_are_not(backend: Backend) {
    let (app, stores, clock) = app_with(backend, "[anticheat]\nregular_min_taps = 100\n").await;
    for p in [1, 2] {
        app.get("/api/v1/me", p).await;
    }
    for seq in 1..=8 {
        // Three seconds for 25 taps: far below the ceiling, so only the rhythm can tell.
        clock.advance(3000);
        let even = taps_with(
            &app,
            1,
            json!({"count": 25, "seq": seq, "gaps": vec![120; 25]}),
        )
        .await;
        assert_eq!(even.status, 200, "{:?}", even.body);
        let human = taps_with(
            &app,
            2,
            json!({"count": 25, "seq": seq, "gaps": jittered(25, seq as u64)}),
        )
        .await;
        assert_eq!(human.status, 200, "{:?}", human.body);
        if seq == 3 {
            assert!(app.game.open_flags(1).await.unwrap().is_empty(), "75 < 100");
        }
        if seq == 4 {
            assert_eq!(app.game.open_flags(1).await.unwrap(), ["regular_intervals"]);
        }
    }
    assert_eq!(app.game.open_flags(1).await.unwrap(), ["regular_intervals"]);
    assert!(app.game.open_flags(2).await.unwrap().is_empty());
    let detail = &app.game.suspects(30).await.unwrap()[0].detail;
    assert!(detail.contains("averaging 120 ms"), "{detail}");
    app.stop().await;
    stores.remove().await;
}

async fn taps_without_intervals_are_flagged_and_the_mini_apps_are_not(backend: Backend) {
    let (app, stores, clock) = app_with(backend, "[anticheat]\nuntimed_taps = 100\n").await;
    for p in 1..=4 {
        app.get("/api/v1/me", p).await;
    }
    for seq in 1..=8 {
        // 25 taps in three seconds: far below the ceiling.
        clock.advance(3000);
        // A script posting counts only; the Mini App with its intervals; a slow one-tap batch.
        assert_eq!(app.taps(1, 25, seq).await.status, 200);
        let mini_app = json!({"count": 25, "seq": seq, "gaps": jittered(24, seq as u64)});
        assert_eq!(taps_with(&app, 2, mini_app).await.status, 200);
        assert_eq!(app.taps(3, 1, seq).await.status, 200);
        // Now and then a batch with intervals: the count starts again each time.
        let body = if seq % 3 == 0 {
            json!({"count": 25, "seq": seq, "gaps": jittered(24, seq as u64)})
        } else {
            json!({"count": 25, "seq": seq})
        };
        assert_eq!(taps_with(&app, 4, body).await.status, 200);
        if seq == 3 {
            assert!(app.game.open_flags(1).await.unwrap().is_empty(), "75 < 100");
        }
        if seq == 4 {
            assert_eq!(app.game.open_flags(1).await.unwrap(), ["untimed_taps"]);
        }
    }
    assert_eq!(app.game.open_flags(1).await.unwrap(), ["untimed_taps"]);
    for p in 2..=4 {
        assert!(
            app.game.open_flags(p).await.unwrap().is_empty(),
            "player {p}"
        );
    }
    let detail = &app.game.suspects(30).await.unwrap()[0].detail;
    assert!(detail.contains("100 taps in a row"), "{detail}");
    app.stop().await;
    stores.remove().await;
}

async fn bad_gaps_are_refused_and_nothing_is_applied(backend: Backend) {
    let (app, stores, clock) = app_with(backend, "").await;
    clock.advance(5000);
    for gaps in [
        json!([50, 50, 50, 50]),
        json!([50, -1]),
        json!([50, 60_001]),
        json!(["50", 50]),
        json!([50, null]),
        json!([[50]]),
        json!(50),
        json!("50,50"),
        json!({"0": 50}),
    ] {
        let a = taps_with(&app, 1, json!({"count": 3, "seq": 1, "gaps": gaps})).await;
        a.assert_error(422, "invalid_gaps");
    }
    let me = app.get("/api/v1/me", 1).await.body;
    assert_eq!(me["balance"], 0, "{me:?}");
    assert_eq!(me["last_seq"], 0, "{me:?}");
    assert_eq!(app.ledger_sum(1).await, 0);
    // Without gaps (or with null) a batch is what it always was; fractions and 0 are fine.
    let plain = app.taps(1, 3, 1).await;
    assert_eq!(plain.body["accepted"], 3, "{:?}", plain.body);
    let null = taps_with(&app, 1, json!({"count": 3, "seq": 2, "gaps": null})).await;
    assert_eq!(null.body["accepted"], 3, "{:?}", null.body);
    let fine = taps_with(
        &app,
        1,
        json!({"count": 3, "seq": 3, "gaps": [0, 60000, 83.4]}),
    )
    .await;
    assert_eq!(fine.body["accepted"], 3, "{:?}", fine.body);
    assert_eq!(app.get("/api/v1/me", 1).await.body["balance"], 9);
    app.stop().await;
    stores.remove().await;
}

async fn put_wallet(app: &TestApp, player: i64, address: &str) {
    let a = app
        .call(
            "PUT",
            "/api/v1/wallet",
            Some(&app.auth(player)),
            Some(json!({ "address": address })),
        )
        .await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}

async fn many_accounts_behind_one_wallet_are_all_flagged(backend: Backend) {
    let (app, stores, _clock) = app_with(backend, "").await;
    let shared = wallet_of(100);
    // The farm passes one wallet along: each account takes it, then moves to its own.
    for p in [1, 2] {
        put_wallet(&app, p, &shared).await;
        put_wallet(&app, p, &wallet_of(p)).await;
    }
    // Taking one's own wallet again is no new account behind it.
    put_wallet(&app, 1, &shared).await;
    put_wallet(&app, 1, &wallet_of(1)).await;
    put_wallet(&app, 4, &wallet_of(4)).await;
    for p in [1, 2, 4] {
        assert!(app.game.open_flags(p).await.unwrap().is_empty(), "{p}");
    }
    put_wallet(&app, 3, &shared).await;
    for p in [1, 2, 3] {
        assert_eq!(
            app.game.open_flags(p).await.unwrap(),
            ["shared_wallet"],
            "player {p}"
        );
    }
    assert!(app.game.open_flags(4).await.unwrap().is_empty());
    let suspects = app.game.suspects(30).await.unwrap();
    assert_eq!(suspects.len(), 3, "{suspects:?}");
    assert!(suspects
        .iter()
        .all(|s| s.reason == "shared_wallet" && s.detail.contains("3 accounts")));
    app.stop().await;
    stores.remove().await;
}

const CLAIMS: &str = "[taps]\nburst = 100000\nmax_batch = 100000\n[claims]\nmin_amount = 100\nexclude_flagged = true\n[anticheat]\nceiling_batches = 1\nuntimed_taps = 0\n";

async fn a_flagged_player_cannot_claim_until_cleared(backend: Backend) {
    let (app, stores, _clock) = app_with(backend, CLAIMS).await;
    // 5000 taps in the first instant of the game: at the ceiling, and one batch is enough here.
    app.fund_with_wallet(1, 5000).await;
    assert_eq!(app.game.open_flags(1).await.unwrap(), ["ceiling_rate"]);
    let limits = app.get("/api/v1/claims/limits", 1).await;
    assert_eq!(limits.body["flagged"], true, "{:?}", limits.body);
    let auth = app.auth(1);
    let claim = |key: &'static str| {
        app.call(
            "POST",
            "/api/v1/claims",
            Some(&auth),
            Some(json!({"amount": 1200, "idempotency_key": key})),
        )
    };
    let held = claim("k1").await;
    held.assert_error(403, "claims_blocked");
    assert!(
        held.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("reviewed"),
        "{:?}",
        held.body
    );
    assert_eq!(app.get("/api/v1/me", 1).await.body["balance"], 5000);
    assert_eq!(app.ledger_sum(1).await, 5000);
    assert!(app
        .get("/api/v1/claims", 1)
        .await
        .body
        .as_array()
        .unwrap()
        .is_empty());

    assert_eq!(app.game.clear_flags(777, 1).await.unwrap(), 1);
    assert!(!app.game.is_flagged(1).await.unwrap());
    assert_eq!(
        app.get("/api/v1/claims/limits", 1).await.body["flagged"],
        false
    );
    let made = claim("k1").await;
    assert_eq!(made.status, 201, "{:?}", made.body);
    assert_eq!(made.body["balance"], 3800);
    assert_eq!(app.ledger_sum(1).await, 3800);
    let audit = entities_audit(&app).await;
    assert!(
        audit
            .iter()
            .any(|a| a.action == "clear_flags" && a.admin_id == 777 && a.target_id == Some(1)),
        "{audit:?}"
    );
    assert_eq!(app.game.clear_flags(777, 1).await.unwrap(), 0);
    assert!(matches!(
        app.game.clear_flags(777, 424242).await,
        Err(game::GameError::UnknownPlayer)
    ));
    app.stop().await;
    stores.remove().await;
}

async fn entities_audit(app: &TestApp) -> Vec<entities::audit_log::Model> {
    use sea_orm::EntityTrait;
    entities::audit_log::Entity::find()
        .all(app.game.db())
        .await
        .unwrap()
}

async fn open_rows(app: &TestApp, player: i64) -> Vec<entities::player_flag::Model> {
    use entities::player_flag;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    player_flag::Entity::find()
        .filter(player_flag::Column::PlayerId.eq(player))
        .all(app.game.db())
        .await
        .unwrap()
}

async fn concurrent_batches_crossing_at_once_make_one_flag(backend: Backend) {
    // Every batch crosses both thresholds on its own.
    let (app, stores, _clock) = app_with(
        backend,
        "[anticheat]\nceiling_batches = 1\nregular_min_taps = 10\n",
    )
    .await;
    app.get("/api/v1/me", 1).await;
    let answers = join_all((1..=12).map(|seq| {
        taps_with(
            &app,
            1,
            json!({"count": 10, "seq": seq, "gaps": vec![40; 10]}),
        )
    }))
    .await;
    let applied = answers
        .iter()
        .filter(|a| a.status == 200 && a.body["duplicate"] == false)
        .count();
    assert!(applied >= 1, "{answers:?}");
    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    let rows = open_rows(&app, 1).await;
    let open: Vec<_> = rows.iter().filter(|r| r.cleared_at.is_none()).collect();
    assert_eq!(open.len(), 2, "one flag per reason: {rows:?}");
    let mut reasons: Vec<_> = open.iter().map(|r| r.reason.as_str()).collect();
    reasons.sort();
    assert_eq!(reasons, ["ceiling_rate", "regular_intervals"]);
    // Cleared flags stay as history, and a new detection opens a new one.
    assert_eq!(app.game.clear_flags(777, 1).await.unwrap(), 2);
    let again = taps_with(
        &app,
        1,
        json!({"count": 10, "seq": 100, "gaps": vec![40; 10]}),
    )
    .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    let rows = open_rows(&app, 1).await;
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert_eq!(rows.iter().filter(|r| r.cleared_at.is_none()).count(), 2);
    app.stop().await;
    stores.remove().await;
}
