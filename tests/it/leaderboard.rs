//! The leaderboard: order, shared ranks for ties, the caller's own rank, and the limit.

use crate::support::{spawn_app, start, Backend, Options};
use testkit::both_backends;

both_backends!(
    leaderboard_orders_players_and_ranks_me,
    the_board_survives_a_restart
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
    again.stop().await;
    stores.remove().await;
}
