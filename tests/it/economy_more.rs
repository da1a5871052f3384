//! More of the economy: boosts (free refills, multitap, energy limit) and tasks (link, invite,
//! wallet, channel), each paid or used once whatever the interleaving.

use crate::support::{clocked, spawn_with, wallet_of, Answer, Backend, TestApp, TOKEN};
use bot::fake_api::{Failure, FakeTelegram, When};
use futures::future::join_all;
use game::{Clock, ManualClock};
use std::sync::Arc;
use testkit::both_backends;

both_backends!(
    a_boost_level_is_bought_once_by_12_requests_with_coins_for_one,
    refills_fill_the_energy_the_days_number_of_times_under_12_requests,
    boosts_show_levels_and_refuse_clearly,
    each_kind_of_task_pays_once_when_done,
    a_task_checked_12_times_at_once_pays_once,
    the_channel_task_asks_the_bot_api,
    channel_tasks_without_a_bot_are_refused_clearly,
    a_friends_first_visit_pays_both_once_under_12_requests,
    balance_equals_the_ledger_after_a_random_mix_of_boosts_and_tasks,
);

const DAY: i64 = 86_400_000;

/// Energy 1000, no rate limit in the way, cheap boosts.
const BOOSTS: &str = "[energy]\nmax = 1000\nper_second = 1\n[taps]\nburst = 100000\nmax_batch = 100000\n[limits]\nplayer_per_second = 10000\nplayer_burst = 10000\nip_per_second = 100000\nip_burst = 100000\n[boosts]\nrefills_per_day = 3\nmultitap_costs = [100, 300]\nenergy_limit_costs = [200]\nenergy_limit_step = 500\n";

async fn boost(app: &TestApp, player: i64, id: &str) -> Answer {
    let path = format!("/api/v1/boosts/{id}/buy");
    app.call("POST", &path, Some(&app.auth(player)), None).await
}

/// The ledger references of one kind for a player, in order.
async fn references(app: &TestApp, player: i64, kind: &str) -> Vec<String> {
    use entities::ledger;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    ledger::Entity::find()
        .filter(ledger::Column::PlayerId.eq(player))
        .filter(ledger::Column::Kind.eq(kind))
        .order_by_asc(ledger::Column::Id)
        .all(app.game.db())
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.reference)
        .collect()
}

async fn a_boost_level_is_bought_once_by_12_requests_with_coins_for_one(backend: Backend) {
    let (options, _clock) = clocked(BOOSTS);
    let (app, stores) = spawn_with(backend, options).await;
    let t = app.taps(1, 100, 1).await;
    assert_eq!(t.body["balance"], 100, "{:?}", t.body);
    let answers = join_all((0..12).map(|_| boost(&app, 1, "multitap"))).await;
    let bought: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(bought.len(), 1, "{answers:?}");
    assert_eq!(bought[0].body["balance"], 0);
    assert_eq!(bought[0].body["tap_power"], 2);
    for a in answers.iter().filter(|a| a.status != 200) {
        a.assert_error(409, "insufficient_balance");
    }
    assert_eq!(references(&app, 1, "boost").await, ["multitap:1"]);
    // Each tap now earns two coins and costs two energy: 900 energy left, 450 taps.
    let t = app.taps(1, 1000, 2).await;
    assert_eq!(t.body["accepted"], 450, "{:?}", t.body);
    assert_eq!(t.body["balance"], 900);
    assert_eq!(t.body["energy"], 0);
    // Coins for both remaining boosts' next levels (300 and 200), 12 requests of each at once.
    let answers = join_all((0..24).map(|i| {
        let app = &app;
        async move {
            let id = if i % 2 == 0 {
                "multitap"
            } else {
                "energy_limit"
            };
            (id, boost(app, 1, id).await)
        }
    }))
    .await;
    for id in ["multitap", "energy_limit"] {
        let ok = answers
            .iter()
            .filter(|(b, a)| *b == id && a.status == 200)
            .count();
        assert_eq!(ok, 1, "{id}: {answers:?}");
    }
    for (_, a) in answers.iter().filter(|(_, a)| a.status != 200) {
        a.assert_error(409, "max_level");
    }
    let me = app.get("/api/v1/me", 1).await;
    assert_eq!(me.body["tap_power"], 3, "{:?}", me.body);
    assert_eq!(me.body["max_energy"], 1500);
    assert_eq!(app.books(1).await, 400);
    let mut refs = references(&app, 1, "boost").await;
    refs.sort();
    assert_eq!(refs, ["energy_limit:1", "multitap:1", "multitap:2"]);
    app.stop().await;
    stores.remove().await;
}

async fn refills_fill_the_energy_the_days_number_of_times_under_12_requests(backend: Backend) {
    let (options, clock) = clocked(BOOSTS);
    let (app, stores) = spawn_with(backend, options).await;
    let t = app.taps(2, 1000, 1).await;
    assert_eq!(t.body["energy"], 0, "{:?}", t.body);
    let answers = join_all((0..12).map(|_| boost(&app, 2, "refill"))).await;
    let used: Vec<_> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(used.len(), 3, "three a day: {answers:?}");
    for a in &used {
        assert_eq!(a.body["energy"], 1000, "{:?}", a.body);
        assert_eq!(a.body["balance"], 1000, "a refill is free");
    }
    for a in answers.iter().filter(|a| a.status != 200) {
        a.assert_error(409, "no_refills_left");
    }
    let day = (1_800_000_000_000 / DAY).to_string();
    let expected: Vec<String> = (1..=3).map(|n| format!("{day}:{n}")).collect();
    let mut refs = references(&app, 2, "refill").await;
    refs.sort();
    assert_eq!(refs, expected);
    let list = app.get("/api/v1/boosts", 2).await;
    assert_eq!(list.body[0]["value"], 0, "{:?}", list.body);
    assert_eq!(list.body[0]["next_cost"], serde_json::Value::Null);
    // A new UTC day brings three more.
    clock.advance(DAY);
    assert_eq!(app.taps(2, 1000, 2).await.body["energy"], 0);
    let again = boost(&app, 2, "refill").await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["energy"], 1000);
    assert_eq!(app.get("/api/v1/boosts", 2).await.body[0]["value"], 2);
    assert_eq!(app.books(2).await, 2000);
    app.stop().await;
    stores.remove().await;
}

async fn boosts_show_levels_and_refuse_clearly(backend: Backend) {
    let (options, _clock) = clocked(BOOSTS);
    let (app, stores) = spawn_with(backend, options).await;
    let list = app.get("/api/v1/boosts", 3).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(
        list.body,
        serde_json::json!([
            {"id": "refill", "name": "Full energy", "level": 0, "max_level": 3, "next_cost": 0, "value": 3, "next_value": null},
            {"id": "multitap", "name": "Multitap", "level": 0, "max_level": 2, "next_cost": 100, "value": 1, "next_value": 2},
            {"id": "energy_limit", "name": "Energy limit", "level": 0, "max_level": 1, "next_cost": 200, "value": 1000, "next_value": 1500},
        ])
    );
    boost(&app, 3, "multitap")
        .await
        .assert_error(409, "insufficient_balance");
    boost(&app, 3, "turbo").await.assert_error(404, "not_found");
    boost(&app, 3, "%FF").await.assert_error(404, "not_found");
    let get = app.get("/api/v1/boosts/refill/buy", 3).await;
    get.assert_error(405, "method_not_allowed");
    assert_eq!(app.taps(3, 200, 1).await.body["balance"], 200);
    let limit = boost(&app, 3, "energy_limit").await;
    assert_eq!(limit.status, 200, "{:?}", limit.body);
    assert_eq!(limit.body["max_energy"], 1500);
    assert_eq!(limit.body["energy"], 800, "the energy there was stays");
    boost(&app, 3, "energy_limit")
        .await
        .assert_error(409, "max_level");
    let after = app.get("/api/v1/boosts", 3).await;
    assert_eq!(after.body[2]["level"], 1);
    assert_eq!(after.body[2]["value"], 1500);
    assert_eq!(after.body[2]["next_cost"], serde_json::Value::Null);
    assert_eq!(after.body[2]["next_value"], serde_json::Value::Null);
    assert_eq!(app.books(3).await, 0);
    app.stop().await;
    stores.remove().await;
}

/// One task of each kind, and no rate limit in the way.
const TASKS: &str = "[limits]\nplayer_per_second = 10000\nplayer_burst = 10000\nip_per_second = 100000\nip_burst = 100000\n\n[[tasks]]\nid = \"site\"\ntitle = \"Visit our site\"\nreward = 1000\nkind = \"link\"\nurl = \"https://example.com/\"\ndelay_secs = 30\n\n[[tasks]]\nid = \"friends\"\ntitle = \"Invite 2 friends\"\nreward = 2000\nkind = \"invite\"\ncount = 2\n\n[[tasks]]\nid = \"wallet\"\ntitle = \"Connect a wallet\"\nreward = 3000\nkind = \"wallet\"\n\n[[tasks]]\nid = \"news\"\ntitle = \"Join our channel\"\nreward = 4000\nkind = \"channel\"\nchat = \"@tapwave_news\"\n";

/// An app with the tasks above whose Bot API is a fake one.
async fn tasks_app(backend: Backend) -> (TestApp, testkit::Stores, Arc<ManualClock>, FakeTelegram) {
    let telegram = FakeTelegram::start(TOKEN).await;
    let (mut options, clock) = clocked(TASKS);
    options.telegram_api_url = Some(telegram.url().to_owned());
    let (app, stores) = spawn_with(backend, options).await;
    (app, stores, clock, telegram)
}

async fn check(app: &TestApp, player: i64, task: &str) -> Answer {
    let path = format!("/api/v1/tasks/{task}/check");
    app.call("POST", &path, Some(&app.auth(player)), None).await
}

/// Checks a task expecting 200 and answers `(done, balance)`.
async fn checked(app: &TestApp, player: i64, task: &str) -> (bool, i64) {
    let a = check(app, player, task).await;
    assert_eq!(a.status, 200, "{task}: {:?}", a.body);
    (
        a.body["done"].as_bool().unwrap(),
        a.body["balance"].as_i64().unwrap(),
    )
}

async fn connect_wallet(app: &TestApp, player: i64) {
    let body = serde_json::json!({"address": wallet_of(player)});
    let w = app
        .call("PUT", "/api/v1/wallet", Some(&app.auth(player)), Some(body))
        .await;
    assert_eq!(w.status, 200, "{:?}", w.body);
}

async fn invite(app: &TestApp, referrer: i64, friend: i64) {
    app.invite(referrer, friend, &format!("Friend{friend}"), false)
        .await;
}

async fn each_kind_of_task_pays_once_when_done(backend: Backend) {
    let (app, stores, clock, _telegram) = tasks_app(backend).await;
    let list = app.get("/api/v1/tasks", 10).await;
    assert_eq!(list.status, 200, "{:?}", list.body);
    assert_eq!(
        list.body,
        serde_json::json!([
            {"id": "site", "title": "Visit our site", "reward": 1000, "kind": "link", "done": false, "url": "https://example.com/"},
            {"id": "friends", "title": "Invite 2 friends", "reward": 2000, "kind": "invite", "done": false, "count": 2},
            {"id": "wallet", "title": "Connect a wallet", "reward": 3000, "kind": "wallet", "done": false},
            {"id": "news", "title": "Join our channel", "reward": 4000, "kind": "channel", "done": false, "chat": "@tapwave_news"},
        ])
    );
    // A link: the first check starts the clock; it pays once its delay has passed.
    let first = check(&app, 10, "site").await;
    assert_eq!(
        first.body,
        serde_json::json!({"done": false, "reward": 1000, "balance": 0})
    );
    clock.advance(29_999);
    assert_eq!(checked(&app, 10, "site").await, (false, 0));
    clock.advance(1);
    assert_eq!(checked(&app, 10, "site").await, (true, 1000));
    assert_eq!(checked(&app, 10, "site").await, (true, 1000), "paid once");
    // Invite: two friends bound to the player.
    assert_eq!(checked(&app, 10, "friends").await, (false, 1000));
    invite(&app, 10, 11).await;
    assert_eq!(checked(&app, 10, "friends").await, (false, 1000));
    invite(&app, 10, 12).await;
    assert_eq!(checked(&app, 10, "friends").await, (true, 3000));
    // Wallet.
    assert_eq!(checked(&app, 10, "wallet").await, (false, 3000));
    connect_wallet(&app, 10).await;
    assert_eq!(checked(&app, 10, "wallet").await, (true, 6000));
    // Channel: the fake Bot API says member.
    assert_eq!(checked(&app, 10, "news").await, (true, 10_000));
    check(&app, 10, "no_such_task")
        .await
        .assert_error(404, "not_found");
    let list = app.get("/api/v1/tasks", 10).await;
    let done: Vec<_> = list
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["done"].as_bool().unwrap())
        .collect();
    assert_eq!(done, [true; 4]);
    let mut refs = references(&app, 10, "task").await;
    refs.sort();
    assert_eq!(refs, ["friends", "news", "site", "wallet"]);
    assert_eq!(app.books(10).await, 10_000);
    // Another player's link clock is their own.
    assert_eq!(checked(&app, 11, "site").await, (false, 0));
    app.stop().await;
    stores.remove().await;
}

async fn a_task_checked_12_times_at_once_pays_once(backend: Backend) {
    let (app, stores, _clock, telegram) = tasks_app(backend).await;
    connect_wallet(&app, 20).await;
    let answers = join_all((0..24).map(|i| {
        let app = &app;
        async move { check(app, 20, if i % 2 == 0 { "wallet" } else { "news" }).await }
    }))
    .await;
    for a in &answers {
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["done"], true, "{a:?}");
    }
    let mut refs = references(&app, 20, "task").await;
    refs.sort();
    assert_eq!(refs, ["news", "wallet"]);
    assert_eq!(app.books(20).await, 7000);
    assert!(telegram.calls("getChatMember") >= 1);
    app.stop().await;
    stores.remove().await;
}

async fn the_channel_task_asks_the_bot_api(backend: Backend) {
    let (app, stores, clock, telegram) = tasks_app(backend).await;
    // Left: not done, and the answer is remembered for a minute.
    telegram.set_member_status(30, "left");
    assert_eq!(checked(&app, 30, "news").await, (false, 0));
    let asked = telegram.requests_of("getChatMember");
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0].body["chat_id"], "@tapwave_news");
    assert_eq!(asked[0].body["user_id"], 30);
    telegram.set_member_status(30, "member");
    assert_eq!(checked(&app, 30, "news").await, (false, 0));
    assert_eq!(telegram.calls("getChatMember"), 1, "remembered");
    clock.advance(60_000);
    assert_eq!(checked(&app, 30, "news").await, (true, 4000));
    assert_eq!(telegram.calls("getChatMember"), 2);
    // Kicked: not a member.
    telegram.set_member_status(31, "kicked");
    assert_eq!(checked(&app, 31, "news").await, (false, 0));
    // Administrators, and restricted users still in the channel, are members.
    telegram.set_member_status(32, "administrator");
    assert_eq!(checked(&app, 32, "news").await, (true, 4000));
    telegram.set_member_status(33, "restricted");
    assert_eq!(checked(&app, 33, "news").await, (true, 4000));
    // The bot is not an admin of the channel: a clear refusal, nothing paid, nothing remembered.
    telegram.fail(
        "getChatMember",
        When::From(1),
        Failure::MemberListInaccessible,
    );
    check(&app, 34, "news")
        .await
        .assert_error(409, "channel_check_failed");
    telegram.heal();
    telegram.fail("getChatMember", When::From(1), Failure::RetryAfter(3));
    check(&app, 34, "news")
        .await
        .assert_error(503, "unavailable");
    telegram.heal();
    assert_eq!(checked(&app, 34, "news").await, (true, 4000));
    for p in [30, 31, 32, 33, 34] {
        app.books(p).await;
    }
    app.stop().await;
    stores.remove().await;
}

async fn channel_tasks_without_a_bot_are_refused_clearly(backend: Backend) {
    let (mut options, _clock) = clocked(TASKS);
    options.bot_token = None;
    let (app, stores) = spawn_with(backend, options).await;
    check(&app, 40, "news")
        .await
        .assert_error(409, "channel_check_failed");
    assert_eq!(checked(&app, 40, "site").await, (false, 0));
    assert_eq!(app.books(40).await, 0);
    app.stop().await;
    stores.remove().await;
}

async fn a_friends_first_visit_pays_both_once_under_12_requests(backend: Backend) {
    let (options, clock) = clocked(TASKS);
    let (app, stores) = spawn_with(backend, options).await;
    assert_eq!(app.get("/api/v1/me", 50).await.body["balance"], 0);
    invite(&app, 50, 51).await;
    invite(&app, 50, 52).await;
    // Nothing is paid until the friend comes to play.
    assert_eq!(app.get("/api/v1/referrals", 50).await.body["earned"], 0);
    let answers = join_all((0..12).map(|_| app.get("/api/v1/me", 51))).await;
    for a in &answers {
        assert_eq!(a.status, 200, "{a:?}");
        assert_eq!(a.body["balance"], 5000, "{a:?}");
    }
    assert_eq!(references(&app, 51, "welcome").await, ["friend:51"]);
    assert_eq!(references(&app, 50, "referral").await, ["friend:51"]);
    // A Telegram Premium friend brings the bigger bonus, to both.
    let premium = app.key.sign_user(
        &serde_json::json!({"id": 52, "first_name": "Friend52", "is_premium": true}),
        clock.now_ms() / 1000,
    );
    let auth = format!("tma {premium}");
    let answers =
        join_all((0..12).map(|_| app.call("GET", "/api/v1/me", Some(auth.as_str()), None))).await;
    for a in &answers {
        assert_eq!(a.body["balance"], 25_000, "{a:?}");
    }
    let view = app.get("/api/v1/referrals", 50).await;
    assert_eq!(view.body["count"], 2, "{:?}", view.body);
    assert_eq!(view.body["earned"], 30_000);
    let earned: Vec<_> = view.body["friends"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["earned"].as_i64().unwrap())
        .collect();
    assert_eq!(earned, [5000, 25_000]);
    assert_eq!(app.books(50).await, 30_000);
    assert_eq!(app.books(51).await, 5000);
    assert_eq!(app.books(52).await, 25_000);
    // The referrer's own visits pay nothing more, and the invite task now sees two friends.
    assert_eq!(checked(&app, 50, "friends").await, (true, 32_000));
    assert_eq!(app.get("/api/v1/referrals", 51).await.body["earned"], 0);
    app.stop().await;
    stores.remove().await;
}

async fn balance_equals_the_ledger_after_a_random_mix_of_boosts_and_tasks(backend: Backend) {
    const MIX: &str = "[energy]\nmax = 1000\n[taps]\nburst = 100000\nmax_batch = 100000\n[limits]\nplayer_per_second = 10000\nplayer_burst = 10000\nip_per_second = 100000\nip_burst = 100000\n[boosts]\nrefills_per_day = 2\nmultitap_costs = [50, 100, 200]\nenergy_limit_costs = [80, 160]\n[[tasks]]\nid = \"site\"\ntitle = \"Visit\"\nreward = 70\nkind = \"link\"\nurl = \"https://example.com/\"\ndelay_secs = 1\n\n[[tasks]]\nid = \"friend\"\ntitle = \"Invite a friend\"\nreward = 90\nkind = \"invite\"\ncount = 1\n";
    let (options, clock) = clocked(MIX);
    let (app, stores) = spawn_with(backend, options).await;
    let players = [60_i64, 61, 62];
    assert_eq!(app.get("/api/v1/me", 60).await.status, 200);
    invite(&app, 60, 61).await;
    let mut seq = 0;
    for _round in 0..8 {
        clock.advance((rand::random::<u32>() % 3_000) as i64);
        if rand::random::<u8>().is_multiple_of(4) {
            clock.advance(DAY);
        }
        let mut calls = Vec::new();
        for &p in &players {
            for _ in 0..6 {
                seq += 1;
                calls.push((p, rand::random::<u8>() % 7, seq));
            }
        }
        let answers = join_all(calls.iter().map(|&(p, op, seq)| {
            let app = &app;
            async move {
                match op {
                    0 => {
                        app.taps(p, 1 + (rand::random::<u16>() % 300) as i64, seq)
                            .await
                    }
                    1 => boost(app, p, "multitap").await,
                    2 => boost(app, p, "energy_limit").await,
                    3 => boost(app, p, "refill").await,
                    4 => check(app, p, "site").await,
                    5 => check(app, p, "friend").await,
                    _ => app.get("/api/v1/me", p).await,
                }
            }
        }))
        .await;
        for a in &answers {
            let code = a.body["error"]["code"].as_str().unwrap_or_default();
            assert!(
                a.status == 200
                    || (a.status == 409
                        && ["insufficient_balance", "max_level", "no_refills_left"]
                            .contains(&code)),
                "{a:?}"
            );
        }
    }
    for p in players {
        app.books(p).await;
        let tasks = references(&app, p, "task").await;
        let mut unique = tasks.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(tasks.len(), unique.len(), "each task paid once: {tasks:?}");
    }
    app.stop().await;
    stores.remove().await;
}
