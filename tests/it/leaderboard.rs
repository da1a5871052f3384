//! The leaderboard: order, shared ranks for ties, the caller's own rank, and the limit.

use crate::support::{clocked_at, spawn_app, spawn_with, start, Backend, Options, TestApp, ROOMY};
use std::time::Duration;
use testkit::{both_backends, Stores};

/// Monday 2026-12-07 00:00 UTC, the start of ISO week 50.
const MONDAY: i64 = 1_796_601_600_000;

both_backends!(
    leaderboard_orders_players_and_ranks_me,
    the_board_survives_a_restart,
    the_weekly_board_counts_this_weeks_earnings_and_resets_on_monday,
    filling_at_start_puts_back_every_player_with_their_week,
);

async fn leaderboard_orders_players_and_ranks_me(backend: Backend) {
    let (app, stores) = spawn_app(backend).await;
    // Balances: 1 → 50, 2 → 80, 3 → 50, 4 → 10, 5 → 0 (never tapped).
    for (player, count) in [(1, 50), (2, 80), (3, 50), (4, 10)] {
        assert_eq!(app.taps(player, count, 1).await.body["accepted"], count);
    }
    let board = app.get("/api/v1/leaderboard", 4).await;
    assert_eq!(board.status, 200, "{:?}", board.body);
    let top = board.body["top"].as_array().unwrap();
    let rows: Vec<(i64, i64, i64)> = top
        .iter()
        .map(|e| {
            (
                e["rank"].as_i64().unwrap(),
                e["id"].as_i64().unwrap(),
                e["balance"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0], (1, 2, 80));
    assert_eq!((rows[1].0, rows[1].2), (2, 50));
    assert_eq!((rows[2].0, rows[2].2), (2, 50), "ties share a rank");
    assert_eq!(rows[3], (4, 4, 10));
    assert_eq!(top[0]["name"], "Player2");
    assert_eq!(board.body["me"]["rank"], 4);
    assert_eq!(board.body["me"]["balance"], 10);
    // A player with no coins ranks after everyone with some.
    let me5 = app.get("/api/v1/leaderboard?limit=2", 5).await;
    assert_eq!(me5.body["top"].as_array().unwrap().len(), 2);
    assert_eq!(me5.body["me"]["rank"], 5);
    // Overtaking moves the board.
    assert_eq!(app.taps(4, 75, 2).await.body["balance"], 85);
    let board = app.get("/api/v1/leaderboard?limit=1", 4).await;
    assert_eq!(board.body["top"][0]["id"], 4);
    assert_eq!(board.body["me"]["rank"], 1);
    for bad in ["0", "101", "x", "-1", "1.5"] {
        app.get(&format!("/api/v1/leaderboard?limit={bad}"), 4)
            .await
            .assert_error(400, "invalid_limit");
    }
    app.stop().await;
    stores.remove().await;
}

async fn the_board_survives_a_restart(backend: Backend) {
    let (app, stores) = spawn_app(backend).await;
    assert_eq!(app.taps(61, 30, 1).await.status, 200);
    assert_eq!(app.taps(62, 40, 1).await.status, 200);
    app.stop().await;
    // A new process (in-process board empty; or the same Redis) shows the same board.
    let again = start(&stores, Options::default()).await;
    let board = again.get("/api/v1/leaderboard", 61).await;
    assert_eq!(board.body["top"][0]["id"], 62);
    assert_eq!(board.body["top"][1]["id"], 61);
    assert_eq!(board.body["me"]["rank"], 2);
    // The week goes on, counted once: Redis kept this week's scores; the in-process board was
    // filled with them from the ledger.
    assert_eq!(again.taps(61, 5, 2).await.status, 200);
    let week = again.get("/api/v1/leaderboard?board=week", 61).await;
    assert_eq!(week.body["me"]["balance"], 35, "{:?}", week.body);
    again.stop().await;
    stores.remove().await;
}

/// `(rank, id, score)` of each row of a board.
fn rows(body: &serde_json::Value) -> Vec<(i64, i64, i64)> {
    body["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["rank"].as_i64().unwrap(),
                e["id"].as_i64().unwrap(),
                e["balance"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn the_weekly_board_counts_this_weeks_earnings_and_resets_on_monday(backend: Backend) {
    // Sunday 2026-12-06, two minutes before Monday 00:00 UTC.
    let (options, clock) = clocked_at(ROOMY, MONDAY - 120_000);
    let (app, stores) = spawn_with(backend, options).await;
    for (player, count) in [(1, 30), (2, 50), (3, 30)] {
        assert_eq!(app.taps(player, count, 1).await.body["accepted"], count);
    }
    let week = app.get("/api/v1/leaderboard?board=week", 4).await;
    assert_eq!(week.status, 200, "{:?}", week.body);
    let mut got = rows(&week.body);
    got[1..].sort();
    assert_eq!(
        got,
        vec![(1, 2, 50), (2, 1, 30), (2, 3, 30)],
        "ties share a rank"
    );
    assert_eq!(week.body["me"]["rank"], 4);
    assert_eq!(week.body["me"]["balance"], 0);
    // A replayed batch earns nothing and adds nothing.
    assert_eq!(app.taps(1, 30, 1).await.body["duplicate"], true);
    let week = app.get("/api/v1/leaderboard?board=week", 1).await;
    assert_eq!(
        week.body["me"],
        serde_json::json!({"rank": 2, "balance": 30})
    );

    // Monday 00:00 UTC: a new week, empty until someone earns; the global board is unchanged.
    clock.advance(120_000);
    let week = app.get("/api/v1/leaderboard?board=week", 1).await;
    assert!(rows(&week.body).is_empty(), "{:?}", week.body);
    assert_eq!(
        week.body["me"],
        serde_json::json!({"rank": 1, "balance": 0})
    );
    assert_eq!(app.taps(3, 5, 2).await.body["balance"], 35);
    let week = app.get("/api/v1/leaderboard?board=week", 1).await;
    assert_eq!(
        rows(&week.body),
        vec![(1, 3, 5)],
        "only this week's coins count"
    );
    assert_eq!(
        week.body["me"],
        serde_json::json!({"rank": 2, "balance": 0})
    );
    let global = app.get("/api/v1/leaderboard?board=global", 1).await;
    assert_eq!(rows(&global.body)[0], (1, 2, 50));
    assert_eq!(rows(&global.body)[1], (2, 3, 35));
    app.get("/api/v1/leaderboard?board=galaxy", 1)
        .await
        .assert_error(400, "invalid_board");
    app.stop().await;
    stores.remove().await;
}

/// `(id, score)` of each row of a board as `player` sees it.
async fn board(app: &TestApp, which: &str, player: i64) -> Vec<(i64, i64)> {
    let b = app
        .get(&format!("/api/v1/leaderboard?board={which}"), player)
        .await;
    assert_eq!(b.status, 200, "{:?}", b.body);
    rows(&b.body)
        .into_iter()
        .map(|(_, id, s)| (id, s))
        .collect()
}

/// Redis restarts empty under a running game: the worker's boards job fills every board from the
/// database again, with this week's coins read from the ledger and earlier weeks' left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_redis_is_refilled_by_the_worker_with_this_weeks_coins_counted_once() {
    // Sunday 2026-12-06, two minutes before Monday 00:00 UTC.
    let (options, clock) = clocked_at(ROOMY, MONDAY - 120_000);
    let stores = Stores::fresh(Backend::Postgres).await;
    let app = start(&stores, options).await;
    assert_eq!(app.taps(71, 20, 1).await.status, 200);
    clock.advance(120_000);
    assert_eq!(app.taps(71, 30, 2).await.status, 200);
    assert_eq!(app.taps(72, 25, 1).await.status, 200);
    assert_eq!(board(&app, "week", 73).await, [(71, 30), (72, 25)]);

    assert!(stores.clear_redis().await > 0, "the boards were in Redis");
    assert!(board(&app, "global", 73).await.is_empty());
    // Earning before the boards are filled again: the filling brings it.
    assert_eq!(app.taps(71, 5, 3).await.body["balance"], 55);
    assert!(board(&app, "week", 73).await.is_empty());

    let (trigger, stop) = worker::Shutdown::new();
    let job = tokio::spawn(worker::boards::run(
        app.game.clone(),
        worker::boards::BoardSettings {
            every: Duration::from_millis(20),
        },
        stop,
    ));
    let mut global = Vec::new();
    for _ in 0..500 {
        global = board(&app, "global", 73).await;
        if global.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    trigger.fire();
    job.await.unwrap();
    assert_eq!(global, [(71, 55), (72, 25)], "the global board is back");
    assert_eq!(
        board(&app, "league", 73).await,
        [(71, 55), (72, 25)],
        "the league board (coins ever earned) is back"
    );
    assert_eq!(
        board(&app, "week", 73).await,
        [(71, 35), (72, 25)],
        "this week's coins are back, last week's 20 are not"
    );
    // The week goes on, for old players and new ones alike.
    assert_eq!(app.taps(72, 7, 2).await.status, 200);
    assert_eq!(app.taps(74, 9, 1).await.status, 200);
    assert_eq!(board(&app, "week", 73).await, [(71, 35), (72, 32), (74, 9)]);
    app.stop().await;
    stores.remove().await;
}

/// Many players (several Redis round trips' worth) earned last week and this week; a process that
/// starts on boards that are not filled puts every one of them back, with this week's coins only.
async fn filling_at_start_puts_back_every_player_with_their_week(backend: Backend) {
    use entities::player;
    use sea_orm::EntityTrait;
    use testkit::crowd::FIRST;
    const N: i64 = 1_234;
    let (options, _clock) = clocked_at(ROOMY, MONDAY + 3_600_000);
    let (app, stores) = spawn_with(backend, options.clone()).await;
    assert_eq!(app.taps(1, 1, 1).await.status, 200);
    let template = player::Entity::find_by_id(1_i64)
        .one(app.game.db())
        .await
        .unwrap()
        .unwrap();
    // Player FIRST + i: 50 coins last Sunday, i + 1 this week (all counted in `total_earned`).
    testkit::crowd::populate(app.game.db(), &template, N, MONDAY, |_| None)
        .await
        .unwrap();
    app.stop().await;
    stores.clear_redis().await;

    let again = start(&stores, options).await;
    let week = again
        .get("/api/v1/leaderboard?board=week&limit=3", FIRST)
        .await;
    assert_eq!(
        rows(&week.body),
        [
            (1, FIRST + N - 1, N),
            (2, FIRST + N - 2, N - 1),
            (3, FIRST + N - 3, N - 2)
        ]
    );
    // Player FIRST earned 1 this week: everyone else of the N earned more, player 1 the same.
    assert_eq!(
        week.body["me"],
        serde_json::json!({"rank": N, "balance": 1})
    );
    for (id, i) in [(FIRST + 600, 600), (FIRST + 17, 17)] {
        let global = again.get("/api/v1/leaderboard?limit=1", id).await;
        assert_eq!(global.body["me"]["balance"], 51 + i);
        assert_eq!(global.body["me"]["rank"], N - i, "{id}");
        let week = again
            .get("/api/v1/leaderboard?board=week&limit=1", id)
            .await;
        assert_eq!(week.body["me"]["balance"], i + 1);
    }
    let league = again
        .get("/api/v1/leaderboard?board=league&limit=1", FIRST)
        .await;
    assert_eq!(league.status, 200, "{:?}", league.body);
    assert_eq!(league.body["me"]["balance"], 51);
    again.stop().await;
    stores.remove().await;
}

/// Filling after a Redis loss races live taps and a second filling (another instance): once
/// every player has made one more write, each weekly score is exactly their coins of the week in
/// the ledger and each global score their balance.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_filling_racing_live_taps_and_another_filling_counts_every_coin_once() {
    use entities::ledger;
    use futures::future::join_all;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    use std::collections::BTreeMap;
    let (options, _clock) = clocked_at(ROOMY, MONDAY + 3_600_000);
    let stores = Stores::fresh(Backend::Postgres).await;
    let app = start(&stores, options).await;
    let players: Vec<i64> = (200..240).collect();
    for &p in &players {
        assert_eq!(app.taps(p, 1 + p % 7, 1).await.status, 200);
    }
    assert!(stores.clear_redis().await > 0);

    let tapping = join_all(players.iter().map(|&p| {
        let app = &app;
        async move {
            for seq in 2..=5 {
                assert_eq!(app.taps(p, 1 + (p + seq) % 5, seq).await.status, 200);
            }
        }
    }));
    let filling = join_all((0..2).map(|_| app.game.seed_leaderboard()));
    let (_, filled) = tokio::join!(tapping, filling);
    for f in filled {
        f.unwrap();
    }
    for &p in &players {
        assert_eq!(app.taps(p, 1, 6).await.status, 200);
    }

    let mut week_in_ledger = BTreeMap::new();
    for r in ledger::Entity::find()
        .filter(ledger::Column::PlayerId.is_in(players.clone()))
        .all(app.game.db())
        .await
        .unwrap()
    {
        *week_in_ledger.entry(r.player_id).or_insert(0) += r.amount;
    }
    let as_map = |rows: Vec<(i64, i64)>| rows.into_iter().collect::<BTreeMap<_, _>>();
    let week = board(&app, "week&limit=100", players[0]).await;
    assert_eq!(
        as_map(week),
        week_in_ledger,
        "week scores = the week's ledger"
    );
    let global = board(&app, "global&limit=100", players[0]).await;
    assert_eq!(as_map(global), week_in_ledger, "balances = the ledger");
    app.stop().await;
    stores.remove().await;
}
