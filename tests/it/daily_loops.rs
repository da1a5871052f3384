//! The daily combo, the daily cipher, the share of friends' earnings and the league board: each
//! reward paid once whatever the interleaving, and the books balancing after.

use crate::referrals::me_from;
use crate::support::{clocked, spawn_with, start, Answer, Backend, Options, TestApp};
use futures::future::join_all;
use game::{Clock, ManualClock};
use testkit::both_backends;

both_backends!(
    the_combo_pays_once_when_every_card_of_the_day_was_bought_that_day,
    the_combo_is_hidden_drawn_alike_by_every_instance_and_new_each_day,
    twelve_combo_claims_at_once_pay_once,
    the_cipher_pays_the_days_word_once_and_counts_guesses,
    twelve_guesses_at_once_take_no_more_than_the_days_allowance,
    friends_earnings_pay_a_capped_share_on_two_levels_once,
    twelve_collections_at_once_pay_each_share_once,
    the_league_board_ranks_a_league_and_a_ban_leaves_every_board,
);

const DAY: i64 = 86_400_000;

/// Room to tap, no rate limit in the way, three cheap cards (so today's combo is all three), one
/// cipher word, shares without bonuses, and low league thresholds.
const GAME: &str = r#"
[energy]
max = 100000
[taps]
burst = 100000
max_batch = 100000
[limits]
player_per_second = 10000
player_burst = 10000
ip_per_second = 100000
ip_burst = 100000
[combo]
reward = 700
[cipher]
words = ["TAP"]
reward = 300
attempts_per_day = 5
[referrals]
bonus = 0
premium_bonus = 0
share_bps = 1000
second_share_bps = 250
share_cap = 500
[leagues]
names = ["Wood", "Stone", "Iron"]
thresholds = [100, 1000]
[[upgrades]]
id = "a"
name = "Card A"
category = "markets"
base_cost = 10
cost_growth = 1.0
base_income_per_hour = 0
income_growth = 1.0
max_level = 10
[[upgrades]]
id = "b"
name = "Card B"
category = "team"
base_cost = 10
cost_growth = 1.0
base_income_per_hour = 0
income_growth = 1.0
max_level = 10
[[upgrades]]
id = "c"
name = "Card C"
category = "specials"
base_cost = 10
cost_growth = 1.0
base_income_per_hour = 0
income_growth = 1.0
max_level = 10
"#;

async fn post(app: &TestApp, player: i64, path: &str, body: Option<serde_json::Value>) -> Answer {
    app.call("POST", path, Some(&app.auth(player)), body).await
}

async fn buy(app: &TestApp, player: i64, card: &str) {
    let a = post(app, player, &format!("/api/v1/upgrades/{card}/buy"), None).await;
    assert_eq!(a.status, 200, "{:?}", a.body);
}

async fn earn(app: &TestApp, player: i64, coins: i64, seq: i64) {
    let t = app.taps(player, coins, seq).await;
    assert_eq!(t.body["accepted"], coins, "{:?}", t.body);
}

async fn guess(app: &TestApp, player: i64, word: &str) -> Answer {
    let body = serde_json::json!({ "word": word });
    post(app, player, "/api/v1/cipher", Some(body)).await
}

async fn the_combo_pays_once_when_every_card_of_the_day_was_bought_that_day(backend: Backend) {
    let (options, clock) = clocked(GAME);
    let (app, stores) = spawn_with(backend, options).await;
    earn(&app, 1, 100, 1).await;
    let combo = app.get("/api/v1/combo", 1).await;
    assert_eq!(combo.status, 200, "{:?}", combo.body);
    assert_eq!(combo.body["day"], "2027-01-15");
    assert_eq!(combo.body["size"], 3);
    assert_eq!(combo.body["reward"], 700);
    assert_eq!(combo.body["found"], serde_json::json!([]));
    assert_eq!(combo.body["claimed"], false);
    buy(&app, 1, "b").await;
    buy(&app, 1, "a").await;
    assert_eq!(
        app.get("/api/v1/combo", 1).await.body["found"],
        serde_json::json!(["a", "b"])
    );
    post(&app, 1, "/api/v1/combo", None)
        .await
        .assert_error(409, "combo_incomplete");
    buy(&app, 1, "c").await;
    let paid = post(&app, 1, "/api/v1/combo", None).await;
    assert_eq!(paid.status, 200, "{:?}", paid.body);
    assert_eq!(paid.body["reward"], 700);
    assert_eq!(paid.body["balance"], 100 - 30 + 700);
    post(&app, 1, "/api/v1/combo", None)
        .await
        .assert_error(409, "already_claimed");
    assert_eq!(app.get("/api/v1/combo", 1).await.body["claimed"], true);
    // The next day starts from nothing: yesterday's purchases do not count.
    clock.advance(DAY);
    let next = app.get("/api/v1/combo", 1).await;
    assert_eq!(next.body["day"], "2027-01-16");
    assert_eq!(next.body["found"], serde_json::json!([]));
    assert_eq!(next.body["claimed"], false);
    post(&app, 1, "/api/v1/combo", None)
        .await
        .assert_error(409, "combo_incomplete");
    for card in ["a", "b", "c"] {
        buy(&app, 1, card).await;
    }
    assert_eq!(post(&app, 1, "/api/v1/combo", None).await.status, 200);
    assert_eq!(app.books(1).await, 100 - 60 + 1400);
    app.stop().await;
    stores.remove().await;
}

/// Six cards: the combo is three of them, the same on two instances, and changes with the day.
async fn the_combo_is_hidden_drawn_alike_by_every_instance_and_new_each_day(backend: Backend) {
    let six: &'static str = Box::leak(
        GAME.replace(
            "[[upgrades]]\nid = \"a\"",
            "[[upgrades]]\nid = \"d\"\nname = \"D\"\ncategory = \"x\"\nbase_cost = 10\ncost_growth = 1.0\nbase_income_per_hour = 0\nincome_growth = 1.0\nmax_level = 10\n[[upgrades]]\nid = \"e\"\nname = \"E\"\ncategory = \"x\"\nbase_cost = 10\ncost_growth = 1.0\nbase_income_per_hour = 0\nincome_growth = 1.0\nmax_level = 10\n[[upgrades]]\nid = \"f\"\nname = \"F\"\ncategory = \"x\"\nbase_cost = 10\ncost_growth = 1.0\nbase_income_per_hour = 0\nincome_growth = 1.0\nmax_level = 10\n[[upgrades]]\nid = \"a\"",
        )
        .into_boxed_str(),
    );
    let (options, clock) = clocked(six);
    let (app, stores) = spawn_with(backend, options).await;
    let other = start(
        &stores,
        Options {
            game_toml: six,
            clock: Some(clock.clone()),
            ..Options::default()
        },
    )
    .await;
    let today = clock.now_ms() / DAY;
    let ids = |app: &TestApp, day: i64| -> Vec<String> {
        app.game
            .combo_cards(day)
            .iter()
            .map(|c| c.id.clone())
            .collect()
    };
    assert_eq!(ids(&app, today).len(), 3);
    let mut days = std::collections::HashSet::new();
    for day in today..today + 10 {
        assert_eq!(ids(&app, day), ids(&other, day));
        days.insert(ids(&app, day));
    }
    assert!(days.len() > 1, "ten days drew one combo: {days:?}");
    // Buying every card reveals exactly today's three, on either instance.
    earn(&app, 3, 100, 1).await;
    for card in ["a", "b", "c", "d", "e", "f"] {
        buy(&app, 3, card).await;
    }
    let mut expected = ids(&app, today);
    expected.sort();
    let found = other.get("/api/v1/combo", 3).await.body["found"].clone();
    let mut found: Vec<String> = serde_json::from_value(found).unwrap();
    found.sort();
    assert_eq!(found, expected);
    assert_eq!(post(&other, 3, "/api/v1/combo", None).await.status, 200);
    assert_eq!(app.books(3).await, 100 - 60 + 700);
    other.stop().await;
    app.stop().await;
    stores.remove().await;
}

async fn twelve_combo_claims_at_once_pay_once(backend: Backend) {
    let (options, _clock) = clocked(GAME);
    let (app, stores) = spawn_with(backend, options).await;
    earn(&app, 4, 30, 1).await;
    for card in ["a", "b", "c"] {
        buy(&app, 4, card).await;
    }
    let answers = join_all((0..12).map(|_| post(&app, 4, "/api/v1/combo", None))).await;
    let paid = answers.iter().filter(|a| a.status == 200).count();
    assert_eq!(paid, 1, "{answers:?}");
    for a in answers.iter().filter(|a| a.status != 200) {
        a.assert_error(409, "already_claimed");
    }
    assert_eq!(app.books(4).await, 700);
    app.stop().await;
    stores.remove().await;
}

async fn the_cipher_pays_the_days_word_once_and_counts_guesses(backend: Backend) {
    let (options, clock) = clocked(GAME);
    let (app, stores) = spawn_with(backend, options).await;
    let cipher = app.get("/api/v1/cipher", 5).await;
    assert_eq!(cipher.status, 200, "{:?}", cipher.body);
    assert_eq!(cipher.body["length"], 3);
    assert_eq!(cipher.body["reward"], 300);
    assert_eq!(cipher.body["solved"], false);
    assert_eq!(cipher.body["attempts_left"], 5);
    assert!(!cipher.body.to_string().contains("TAP"));
    // Not a word at all: refused without taking a guess.
    for bad in ["", "T A P", "ТАП", &"A".repeat(17)] {
        guess(&app, 5, bad).await.assert_error(400, "invalid_word");
    }
    post(
        &app,
        5,
        "/api/v1/cipher",
        Some(serde_json::json!({"word": 7})),
    )
    .await
    .assert_error(400, "invalid_word");
    guess(&app, 5, "TOP").await.assert_error(422, "wrong_word");
    assert_eq!(app.get("/api/v1/cipher", 5).await.body["attempts_left"], 4);
    let right = guess(&app, 5, " tap ").await;
    assert_eq!(right.status, 200, "{:?}", right.body);
    assert_eq!(right.body["reward"], 300);
    assert_eq!(right.body["balance"], 300);
    guess(&app, 5, "TAP")
        .await
        .assert_error(409, "already_claimed");
    assert_eq!(app.get("/api/v1/cipher", 5).await.body["solved"], true);
    // Guesses run out, and come back the next day.
    for _ in 0..5 {
        guess(&app, 6, "NOPE").await.assert_error(422, "wrong_word");
    }
    let out = guess(&app, 6, "TAP").await;
    out.assert_error(429, "no_attempts_left");
    let retry: u64 = out.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=86_400).contains(&retry), "{retry}");
    clock.advance(DAY);
    assert_eq!(app.get("/api/v1/cipher", 6).await.body["attempts_left"], 5);
    assert_eq!(guess(&app, 6, "TAP").await.status, 200);
    assert_eq!(guess(&app, 5, "TAP").await.status, 200);
    assert_eq!(app.books(5).await, 600);
    assert_eq!(app.books(6).await, 300);
    app.stop().await;
    stores.remove().await;
}

async fn twelve_guesses_at_once_take_no_more_than_the_days_allowance(backend: Backend) {
    let (options, _clock) = clocked(GAME);
    let (app, stores) = spawn_with(backend, options).await;
    let wrong = join_all((0..12).map(|_| guess(&app, 7, "NOPE"))).await;
    let counted = wrong.iter().filter(|a| a.status == 422).count();
    let refused = wrong.iter().filter(|a| a.status == 429).count();
    assert_eq!((counted, refused), (5, 7), "{wrong:?}");
    // The right word, twelve times at once: paid once.
    let right = join_all((0..12).map(|_| guess(&app, 8, "TAP"))).await;
    assert_eq!(right.iter().filter(|a| a.status == 200).count(), 1);
    for a in right.iter().filter(|a| a.status != 200) {
        assert!(
            a.status == 409 || a.status == 429,
            "{}: {:?}",
            a.status,
            a.body
        );
    }
    assert_eq!(app.books(8).await, 300);
    assert_eq!(app.books(7).await, 0);
    app.stop().await;
    stores.remove().await;
}

/// 10 invites 11, who invites 12, who invites 13.
async fn family(app: &TestApp, clock: &ManualClock) {
    assert_eq!(app.get("/api/v1/me", 10).await.status, 200);
    for (id, referrer) in [(11, 10), (12, 11), (13, 12)] {
        clock.advance(1);
        let me = me_from(app, clock, id, &format!("ref_{referrer}")).await;
        assert_eq!(me.status, 200, "{:?}", me.body);
        assert_eq!(app.game.referrer_of(id).await.unwrap(), Some(referrer));
    }
}

async fn collect(app: &TestApp, player: i64) -> Answer {
    post(app, player, "/api/v1/referrals/collect", None).await
}

async fn friends_earnings_pay_a_capped_share_on_two_levels_once(backend: Backend) {
    let (options, clock) = clocked(GAME);
    let (app, stores) = spawn_with(backend, options).await;
    family(&app, &clock).await;
    assert_eq!(app.get("/api/v1/referrals", 10).await.body["share_due"], 0);
    earn(&app, 11, 1000, 1).await; // 10 is owed 10 % = 100
    earn(&app, 12, 2000, 1).await; // 11 is owed 200; 10 is owed 2.5 % = 50
    earn(&app, 13, 4000, 1).await; // 12 is owed 400; 11 is owed 100; 10 nothing (third level)
    let referrals = app.get("/api/v1/referrals", 10).await;
    assert_eq!(referrals.body["share_due"], 150, "{:?}", referrals.body);
    let got = collect(&app, 10).await;
    assert_eq!(got.status, 200, "{:?}", got.body);
    assert_eq!(got.body["collected"], 150);
    assert_eq!(got.body["balance"], 150);
    // Nothing more until friends earn more.
    assert_eq!(collect(&app, 10).await.body["collected"], 0);
    // 11 collects 200 + 100: not earnings of 11's own, so 10's share of 11 stays put.
    assert_eq!(collect(&app, 11).await.body["collected"], 300);
    assert_eq!(collect(&app, 10).await.body["collected"], 0);
    // The cap: 500 from one friend, ever.
    earn(&app, 11, 9000, 2).await; // 10 % of 10000 = 1000, capped at 500: 400 more
    assert_eq!(collect(&app, 10).await.body["collected"], 400);
    earn(&app, 11, 9000, 3).await;
    assert_eq!(collect(&app, 10).await.body["collected"], 0);
    let referrals = app.get("/api/v1/referrals", 10).await;
    assert_eq!(referrals.body["earned"], 550);
    assert_eq!(referrals.body["friends"][0]["earned"], 500);
    // A banned friend feeds nothing.
    earn(&app, 12, 1000, 2).await; // 10 would be owed 25 more from 12
    app.game.ban(999, 12).await.unwrap();
    assert_eq!(collect(&app, 10).await.body["collected"], 0);
    for p in [10, 11, 13] {
        app.books(p).await;
    }
    app.stop().await;
    stores.remove().await;
}

async fn twelve_collections_at_once_pay_each_share_once(backend: Backend) {
    let (options, clock) = clocked(GAME);
    let (app, stores) = spawn_with(backend, options).await;
    family(&app, &clock).await;
    for round in 1..=3 {
        earn(&app, 11, 1000, round).await;
        earn(&app, 12, 1000, round).await;
        let answers = join_all(
            (0..12)
                .map(|i| collect(&app, if i % 3 == 0 { 11 } else { 10 }))
                .collect::<Vec<_>>(),
        )
        .await;
        assert!(answers.iter().all(|a| a.status == 200), "{answers:?}");
    }
    // A collection racing a friend's may count the friend's share income before their earnings
    // catch up and pay less: never more, and the next collection makes it up.
    collect(&app, 11).await;
    collect(&app, 10).await;
    // 10: 10 % of 11's 3000 = 300, plus 2.5 % of 12's 3000 = 75; 11: 10 % of 12's 3000 = 300.
    assert_eq!(app.books(10).await, 300 + 75);
    assert_eq!(app.books(11).await, 3000 + 300);
    assert_eq!(app.get("/api/v1/referrals", 10).await.body["share_due"], 0);
    app.stop().await;
    stores.remove().await;
}

async fn the_league_board_ranks_a_league_and_a_ban_leaves_every_board(backend: Backend) {
    let (options, _clock) = clocked(GAME);
    let (app, stores) = spawn_with(backend, options).await;
    // Wood below 100, Stone 100..1000, Iron from 1000.
    for (player, coins) in [(20, 50), (21, 150), (22, 500), (23, 999), (24, 5000)] {
        earn(&app, player, coins, 1).await;
    }
    let board = app.get("/api/v1/leaderboard?board=league", 21).await;
    assert_eq!(board.status, 200, "{:?}", board.body);
    assert_eq!(board.body["league"], "Stone");
    let rows: Vec<(i64, i64, i64)> = board.body["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["rank"].as_i64().unwrap(),
                r["id"].as_i64().unwrap(),
                r["balance"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, vec![(1, 23, 999), (2, 22, 500), (3, 21, 150)]);
    assert_eq!(board.body["me"]["rank"], 3);
    assert_eq!(board.body["me"]["balance"], 150);
    let iron = app
        .get("/api/v1/leaderboard?board=league&limit=5", 24)
        .await;
    assert_eq!(iron.body["league"], "Iron");
    assert_eq!(iron.body["top"].as_array().unwrap().len(), 1);
    assert_eq!(iron.body["me"]["rank"], 1);
    let wood = app.get("/api/v1/leaderboard?board=league", 20).await;
    assert_eq!(wood.body["league"], "Wood");
    assert_eq!(wood.body["top"][0]["id"], 20);
    // Spending does not move a player down: leagues go by coins ever earned.
    buy(&app, 23, "a").await;
    let after = app.get("/api/v1/leaderboard?board=league", 22).await;
    assert_eq!(after.body["top"][0]["id"], 23);
    assert_eq!(after.body["top"][0]["balance"], 999);
    assert_eq!(after.body["me"]["rank"], 2);
    // The other boards do not answer `league`; a bad board is refused.
    let global = app.get("/api/v1/leaderboard", 22).await;
    assert!(global.body.get("league").is_none());
    app.get("/api/v1/leaderboard?board=friends", 22)
        .await
        .assert_error(400, "invalid_board");
    // A banned player leaves the global, weekly and league boards at once.
    app.game.ban(999, 23).await.unwrap();
    for board in ["global", "week", "league"] {
        let b = app
            .get(&format!("/api/v1/leaderboard?board={board}"), 22)
            .await;
        assert_eq!(b.status, 200, "{:?}", b.body);
        let ids: Vec<i64> = b.body["top"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert!(!ids.contains(&23), "{board}: {ids:?}");
    }
    assert_eq!(
        app.get("/api/v1/leaderboard?board=league", 22).await.body["me"]["rank"],
        1
    );
    // Unbanned, they are back on the league board at once, and on the week with its coins.
    app.game.unban(999, 23).await.unwrap();
    let league = app.get("/api/v1/leaderboard?board=league", 22).await;
    assert_eq!(league.body["top"][0]["id"], 23);
    assert_eq!(league.body["me"]["rank"], 2);
    let week = app.get("/api/v1/leaderboard?board=week", 23).await;
    assert_eq!(week.body["me"]["balance"], 999);
    earn(&app, 23, 5, 2).await;
    let week = app.get("/api/v1/leaderboard?board=week", 23).await;
    assert_eq!(week.body["me"]["balance"], 999 + 5);
    app.stop().await;
    stores.remove().await;
}
