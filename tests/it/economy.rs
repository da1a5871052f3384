//! The economy: upgrades bought once, passive income while away, the daily streak, referrals;
//! every coin created or spent once, whatever the interleaving.

use crate::support::{clocked, spawn_with, Answer, Backend, TestApp};
use futures::future::join_all;
use testkit::both_backends;

both_backends!(
    an_upgrade_is_bought_once_by_12_requests_with_coins_for_one,
    upgrades_show_costs_and_refuse_clearly,
    passive_income_is_credited_on_the_next_visit_up_to_the_cap,
    concurrent_visits_credit_passive_income_once,
    the_daily_reward_is_paid_once_to_8_requests_at_once,
    the_daily_streak_goes_on_and_starts_again_after_a_missed_day,
    balance_equals_the_ledger_after_a_random_mix,
    referrals_list_the_friends_and_the_invite_link,
);

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;

/// Room to tap a balance in one batch, and no rate limit in the way.
const RICH: &str = "[energy]\nmax = 100000\n[taps]\nburst = 100000\nmax_batch = 100000\n[limits]\nplayer_per_second = 10000\nplayer_burst = 10000\nip_per_second = 100000\nip_burst = 100000\n";

/// One cheap card paying 3600 coins an hour (one a second), and one capped at level 1.
const CARDS: &str = "[[upgrades]]\nid = \"mine\"\nname = \"Mine\"\ncategory = \"markets\"\nbase_cost = 10\ncost_growth = 2.0\nbase_income_per_hour = 3600\nincome_growth = 1.0\nmax_level = 5\n\n[[upgrades]]\nid = \"once\"\nname = \"Once\"\ncategory = \"specials\"\nbase_cost = 5\ncost_growth = 1.0\nbase_income_per_hour = 0\nincome_growth = 1.0\nmax_level = 1\n";

fn rich_with_cards() -> &'static str {
    Box::leak(format!("{RICH}{CARDS}").into_boxed_str())
}

async fn buy(app: &TestApp, player: i64, card: &str) -> Answer {
    let path = format!("/api/v1/upgrades/{card}/buy");
    app.call("POST", &path, Some(&app.auth(player)), None).await
}

async fn daily(app: &TestApp, player: i64) -> Answer {
    app.call("POST", "/api/v1/daily", Some(&app.auth(player)), None)
        .await
}

async fn earn(app: &TestApp, player: i64, coins: i64, seq: i64) {
    let t = app.taps(player, coins, seq).await;
    assert_eq!(t.body["accepted"], coins, "{:?}", t.body);
}

async fn an_upgrade_is_bought_once_by_12_requests_with_coins_for_one(backend: Backend) {
    let (options, _clock) = clocked(RICH);
    let (app, stores) = spawn_with(backend, options).await;
    // `fan_tokens` (built in) costs 1000 at level 0; coins for exactly one.
    earn(&app, 1, 1000, 1).await;
    let answers = join_all((0..12).map(|_| buy(&app, 1, "fan_tokens"))).await;
    let bought: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(bought.len(), 1, "{answers:?}");
    assert_eq!(bought[0].body["balance"], 0);
    assert_eq!(bought[0].body["passive_per_hour"], 100);
    for a in answers.iter().filter(|a| a.status != 200) {
        a.assert_error(409, "insufficient_balance");
    }
    assert_eq!(app.books(1).await, 0);
    let cards = app.get("/api/v1/upgrades", 1).await;
    let fan = &cards.body.as_array().unwrap()[0];
    assert_eq!(fan["id"], "fan_tokens");
    assert_eq!(fan["level"], 1);
    assert_eq!(fan["next_cost"], 1150);
    app.stop().await;
    stores.remove().await;
}

async fn upgrades_show_costs_and_refuse_clearly(backend: Backend) {
    let (options, _clock) = clocked(rich_with_cards());
    let (app, stores) = spawn_with(backend, options).await;
    let cards = app.get("/api/v1/upgrades", 2).await;
    assert_eq!(cards.status, 200, "{:?}", cards.body);
    let mine = &cards.body[0];
    assert_eq!(mine["id"], "mine");
    assert_eq!(mine["name"], "Mine");
    assert_eq!(mine["category"], "markets");
    assert_eq!(mine["level"], 0);
    assert_eq!(mine["max_level"], 5);
    assert_eq!(mine["next_cost"], 10);
    assert_eq!(mine["income_per_hour"], 0);
    assert_eq!(mine["next_income_per_hour"], 3600);
    buy(&app, 2, "mine")
        .await
        .assert_error(409, "insufficient_balance");
    buy(&app, 2, "no_such_card")
        .await
        .assert_error(404, "not_found");
    earn(&app, 2, 100, 1).await;
    let once = buy(&app, 2, "once").await;
    assert_eq!(once.status, 200, "{:?}", once.body);
    assert_eq!(once.body["balance"], 95);
    buy(&app, 2, "once").await.assert_error(409, "max_level");
    let after = app.get("/api/v1/upgrades", 2).await;
    assert_eq!(after.body[1]["level"], 1);
    assert_eq!(after.body[1]["next_cost"], serde_json::Value::Null);
    // The cost doubles per level: 10, then 20.
    assert_eq!(buy(&app, 2, "mine").await.body["balance"], 85);
    assert_eq!(buy(&app, 2, "mine").await.body["balance"], 65);
    assert_eq!(app.get("/api/v1/upgrades", 2).await.body[0]["level"], 2);
    assert_eq!(app.books(2).await, 65);
    app.stop().await;
    stores.remove().await;
}

async fn passive_income_is_credited_on_the_next_visit_up_to_the_cap(backend: Backend) {
    let (options, clock) = clocked(rich_with_cards());
    let (app, stores) = spawn_with(backend, options).await;
    earn(&app, 3, 10, 1).await;
    let bought = buy(&app, 3, "mine").await;
    assert_eq!(bought.body["passive_per_hour"], 3600, "{:?}", bought.body);
    assert_eq!(bought.body["balance"], 0);
    clock.advance(HOUR / 2);
    let me = app.get("/api/v1/me", 3).await;
    assert_eq!(me.body["while_away"], 1800, "{:?}", me.body);
    assert_eq!(me.body["balance"], 1800);
    assert_eq!(me.body["passive_per_hour"], 3600);
    let again = app.get("/api/v1/me", 3).await;
    assert_eq!(again.body["while_away"], 0, "credited once");
    assert_eq!(again.body["balance"], 1800);
    // Fractions are kept: 1.5 s pays 1 coin, 0.5 s more pays the second.
    clock.advance(1_500);
    assert_eq!(app.get("/api/v1/me", 3).await.body["while_away"], 1);
    clock.advance(500);
    assert_eq!(app.get("/api/v1/me", 3).await.body["while_away"], 1);
    // Ten hours away pay the three-hour cap.
    clock.advance(10 * HOUR);
    let back = app.get("/api/v1/me", 3).await;
    assert_eq!(back.body["while_away"], 3 * 3600, "{:?}", back.body);
    assert_eq!(app.books(3).await, 1802 + 3 * 3600);
    // A purchase credits what is due first, then pays: 20 for level 2, income now 7200/h.
    clock.advance(HOUR);
    let second = buy(&app, 3, "mine").await;
    assert_eq!(second.body["while_away"], 3600, "{:?}", second.body);
    assert_eq!(second.body["balance"], 1802 + 4 * 3600 - 20);
    assert_eq!(second.body["passive_per_hour"], 7200);
    assert_eq!(app.get("/api/v1/me", 3).await.body["while_away"], 0);
    assert_eq!(app.books(3).await, 1802 + 4 * 3600 - 20);
    app.stop().await;
    stores.remove().await;
}

async fn concurrent_visits_credit_passive_income_once(backend: Backend) {
    let (options, clock) = clocked(rich_with_cards());
    let (app, stores) = spawn_with(backend, options).await;
    earn(&app, 4, 10, 1).await;
    assert_eq!(buy(&app, 4, "mine").await.status, 200);
    clock.advance(HOUR);
    let answers = join_all((0..12).map(|_| app.get("/api/v1/me", 4))).await;
    assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    let credited: Vec<i64> = answers
        .iter()
        .map(|a| a.body["while_away"].as_i64().unwrap())
        .filter(|c| *c > 0)
        .collect();
    assert_eq!(credited, vec![3600], "{answers:?}");
    assert_eq!(app.books(4).await, 3600);
    app.stop().await;
    stores.remove().await;
}

async fn the_daily_reward_is_paid_once_to_8_requests_at_once(backend: Backend) {
    let (options, _clock) = clocked(RICH);
    let (app, stores) = spawn_with(backend, options).await;
    assert_eq!(app.get("/api/v1/me", 5).await.status, 200);
    let answers = join_all((0..8).map(|_| daily(&app, 5))).await;
    let paid: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(paid.len(), 1, "{answers:?}");
    assert_eq!(
        paid[0].body,
        serde_json::json!({"day": 1, "reward": 500, "balance": 500})
    );
    for a in answers.iter().filter(|a| a.status != 200) {
        a.assert_error(409, "already_claimed");
    }
    assert_eq!(app.books(5).await, 500);
    app.stop().await;
    stores.remove().await;
}

async fn the_daily_streak_goes_on_and_starts_again_after_a_missed_day(backend: Backend) {
    const TOML: &str = "[daily]\nrewards = [10, 20, 30]\n[limits]\nplayer_burst = 1000\n";
    let (options, clock) = clocked(TOML);
    let (app, stores) = spawn_with(backend, options).await;
    let mut expected = Vec::new();
    let mut got = Vec::new();
    for (advance, day, reward) in [
        (0, 1, 10),
        (DAY, 2, 20),
        (DAY, 3, 30),
        (DAY, 4, 30),
        (2 * DAY, 1, 10),
        (DAY, 2, 20),
    ] {
        clock.advance(advance);
        let a = daily(&app, 6).await;
        assert_eq!(a.status, 200, "{:?}", a.body);
        got.push((
            a.body["day"].as_i64().unwrap(),
            a.body["reward"].as_i64().unwrap(),
        ));
        expected.push((day, reward));
        daily(&app, 6).await.assert_error(409, "already_claimed");
    }
    assert_eq!(got, expected);
    assert_eq!(app.books(6).await, 120);
    app.stop().await;
    stores.remove().await;
}

async fn balance_equals_the_ledger_after_a_random_mix(backend: Backend) {
    // Two cipher words, so that random guesses hit the day's word often.
    let toml = format!(
        "{}[cipher]\nwords = [\"TAP\", \"COIN\"]\n",
        rich_with_cards()
    );
    let (options, clock) = clocked(Box::leak(toml.into_boxed_str()));
    let (app, stores) = spawn_with(backend, options).await;
    let players = [71_i64, 72, 73];
    // 71 invited 72, who invited 73: shares, bonuses and the invite task come into play.
    assert_eq!(app.get("/api/v1/me", 71).await.status, 200);
    for (id, referrer) in [(72, 71), (73, 72)] {
        app.invite(referrer, id, &format!("P{id}"), id == 73).await;
    }
    let words = app.game.config().cipher.words.clone();
    let post = |p: i64, path: String, body: Option<serde_json::Value>| {
        let app = &app;
        async move { app.call("POST", &path, Some(&app.auth(p)), body).await }
    };
    let mut seq = 0;
    for _round in 0..8 {
        clock.advance((rand::random::<u32>() % (2 * HOUR as u32)) as i64);
        if rand::random::<u8>().is_multiple_of(3) {
            clock.advance(DAY);
        }
        let mut calls = Vec::new();
        for &p in &players {
            for _ in 0..8 {
                seq += 1;
                calls.push((p, rand::random::<u8>() % 11, seq));
            }
        }
        let answers = join_all(calls.iter().map(|&(p, op, seq)| {
            let app = &app;
            let word = words[rand::random::<u8>() as usize % words.len()].clone();
            async move {
                match op {
                    0 => {
                        app.taps(p, 1 + (rand::random::<u16>() % 50) as i64, seq)
                            .await
                    }
                    1 => buy(app, p, "mine").await,
                    2 => buy(app, p, "once").await,
                    3 => daily(app, p).await,
                    4 => post(p, "/api/v1/combo".into(), None).await,
                    5 => {
                        let body = serde_json::json!({ "word": word });
                        post(p, "/api/v1/cipher".into(), Some(body)).await
                    }
                    6 => post(p, "/api/v1/referrals/collect".into(), None).await,
                    7 => post(p, "/api/v1/boosts/refill/buy".into(), None).await,
                    8 => post(p, "/api/v1/boosts/multitap/buy".into(), None).await,
                    9 => post(p, "/api/v1/tasks/invite_1/check".into(), None).await,
                    _ => app.get("/api/v1/me", p).await,
                }
            }
        }))
        .await;
        for a in &answers {
            let code = a.body["error"]["code"].as_str().unwrap_or_default();
            let refusals = [
                "insufficient_balance",
                "max_level",
                "already_claimed",
                "combo_incomplete",
                "no_refills_left",
            ];
            assert!(
                a.status == 200
                    || (a.status == 409 && refusals.contains(&code))
                    || (a.status == 422 && code == "wrong_word")
                    || (a.status == 429 && code == "no_attempts_left"),
                "{a:?}"
            );
        }
    }
    for p in players {
        app.books(p).await;
    }
    app.stop().await;
    stores.remove().await;
}

async fn referrals_list_the_friends_and_the_invite_link(backend: Backend) {
    let (options, _clock) = clocked(RICH);
    let (app, stores) = spawn_with(backend, options).await;
    assert_eq!(app.get("/api/v1/me", 8).await.status, 200);
    let empty = app.get("/api/v1/referrals", 8).await;
    assert_eq!(
        empty.body,
        serde_json::json!({"link": "ref_8", "count": 0, "earned": 0, "share_due": 0, "friends": []})
    );
    for (id, name) in [(81, "Ann"), (82, "Bob")] {
        app.invite(8, id, name, false).await;
    }
    let view = app.get("/api/v1/referrals", 8).await;
    assert_eq!(view.status, 200, "{:?}", view.body);
    assert_eq!(view.body["count"], 2);
    assert_eq!(view.body["earned"], 0);
    let friends = view.body["friends"].as_array().unwrap();
    let names: Vec<_> = friends
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Ann", "Bob"]);
    assert_eq!(friends[0]["id"], 81);
    assert_eq!(friends[0]["earned"], 0);
    let linked = app.game.referrals(8, Some("tapwave_bot")).await.unwrap();
    assert_eq!(linked.link, "https://t.me/tapwave_bot?start=ref_8");
    assert_eq!(app.get("/api/v1/referrals", 81).await.body["count"], 0);
    app.stop().await;
    stores.remove().await;
}
