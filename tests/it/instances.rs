//! Two app instances on one PostgreSQL database and one Redis, as behind a load balancer.

use crate::support::{start, Answer, Backend, Options, Stores};
use futures::future::join_all;
use game::ManualClock;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_agree_on_every_number() {
    const TOML: &str = "[energy]\nmax = 200\nper_second = 0\n[taps]\nburst = 100000\n[limits]\nplayer_burst = 10000\nip_burst = 10000\n";
    let stores = Stores::fresh(Backend::Postgres).await;
    let a = start(
        &stores,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    let b = start(
        &stores,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    // One player's batches spread over both instances at once never exceed the energy.
    let calls = (1..=30).map(|seq| {
        let app = if seq % 2 == 0 { &a } else { &b };
        app.taps(50, 13, seq)
    });
    let accepted: i64 = join_all(calls)
        .await
        .iter()
        .map(|r| r.body["accepted"].as_i64().unwrap())
        .sum();
    assert!(accepted <= 200, "accepted {accepted} with 200 energy");
    // The same seq sent to both at once is applied once.
    let same = join_all([
        a.taps(51, 9, 1),
        b.taps(51, 9, 1),
        a.taps(51, 9, 1),
        b.taps(51, 9, 1),
    ])
    .await;
    assert_eq!(
        same.iter().filter(|r| r.body["duplicate"] == false).count(),
        1
    );
    // Another player so the board has an order.
    assert_eq!(b.taps(52, 100, 1).await.status, 200);
    let (ma, mb) = (a.get("/api/v1/me", 50).await, b.get("/api/v1/me", 50).await);
    assert_eq!(ma.body["balance"], accepted);
    for field in ["balance", "energy", "last_seq", "level"] {
        assert_eq!(ma.body[field], mb.body[field], "{field}");
    }
    let (la, lb) = (
        a.get("/api/v1/leaderboard", 51).await,
        b.get("/api/v1/leaderboard", 51).await,
    );
    assert_eq!(la.body, lb.body, "both instances serve the same board");
    assert_eq!(la.body["me"]["balance"], 9);
    assert_eq!(a.ledger_sum(50).await, accepted);
    a.stop().await;
    b.stop().await;
    stores.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_rate_limit_is_shared_between_instances() {
    const TOML: &str = "[limits]\nplayer_per_second = 1\nplayer_burst = 3\nip_burst = 10000\nip_per_second = 10000\n";
    let stores = Stores::fresh(Backend::Postgres).await;
    let a = start(
        &stores,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    let b = start(
        &stores,
        Options {
            game_toml: TOML,
            ..Options::default()
        },
    )
    .await;
    let mut ok = 0;
    for i in 0..8 {
        let app = if i % 2 == 0 { &a } else { &b };
        if app.get("/api/v1/me", 60).await.status == 200 {
            ok += 1;
        }
    }
    assert!(
        (4..=5).contains(&ok),
        "one shared burst of 3 + 1, not one per instance: {ok}"
    );
    a.stop().await;
    b.stop().await;
    stores.remove().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_instances_migrate_one_database_at_once() {
    let stores = Stores::fresh(Backend::Postgres).await;
    let apps = join_all((0..4).map(|_| start(&stores, Options::default()))).await;
    for app in &apps {
        assert_eq!(app.call("GET", "/readyz", None, None).await.status, 200);
    }
    for app in apps {
        app.stop().await;
    }
    stores.remove().await;
}

/// Every economy payment split over two instances at once is made once: an upgrade bought by 12
/// requests with coins for one, the daily reward by 8, three free refills by 12, a link task and
/// an invite task each checked 12 times, a friend's first visit seen by 12. The books agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_economy_pays_once_across_two_instances() {
    const TOML: &str = "[energy]\nmax = 5000\nper_second = 0\n[taps]\nburst = 100000\nmax_batch = 100000\n[limits]\nplayer_per_second = 10000\nplayer_burst = 10000\nip_per_second = 100000\nip_burst = 100000\n[boosts]\nrefills_per_day = 3\n[referrals]\nbonus = 40\npremium_bonus = 80\nshare_bps = 0\nsecond_share_bps = 0\n[[upgrades]]\nid = \"stall\"\nname = \"Stall\"\ncategory = \"markets\"\nbase_cost = 1000\ncost_growth = 1.0\nbase_income_per_hour = 0\nincome_growth = 1.0\nmax_level = 5\n[[tasks]]\nid = \"site\"\ntitle = \"Visit\"\nreward = 70\nkind = \"link\"\nurl = \"https://example.com/\"\ndelay_secs = 1\n[[tasks]]\nid = \"friend\"\ntitle = \"Invite a friend\"\nreward = 90\nkind = \"invite\"\ncount = 1\n";
    let clock = Arc::new(ManualClock::new(1_800_000_000_000));
    let stores = Stores::fresh(Backend::Postgres).await;
    let options = || Options {
        game_toml: TOML,
        clock: Some(clock.clone()),
        ..Options::default()
    };
    let a = start(&stores, options()).await;
    let b = start(&stores, options()).await;
    let apps = [&a, &b];
    // Twelve identical requests, alternating between the instances, all at once.
    let spread = |n: usize, method: &'static str, path: String, player: i64| {
        join_all((0..n).map(move |i| {
            let app = apps[i % 2];
            let path = path.clone();
            async move { app.call(method, &path, Some(&app.auth(player)), None).await }
        }))
    };
    let ok = |answers: &[Answer]| answers.iter().filter(|x| x.status == 200).count();
    let player = 80;

    assert_eq!(a.taps(player, 1000, 1).await.body["accepted"], 1000);
    let bought = spread(12, "POST", "/api/v1/upgrades/stall/buy".into(), player).await;
    assert_eq!(ok(&bought), 1, "{bought:?}");
    for x in bought.iter().filter(|x| x.status != 200) {
        x.assert_error(409, "insufficient_balance");
    }

    let daily = spread(8, "POST", "/api/v1/daily".into(), player).await;
    assert_eq!(ok(&daily), 1, "{daily:?}");
    for x in daily.iter().filter(|x| x.status != 200) {
        x.assert_error(409, "already_claimed");
    }
    let reward = daily.iter().find(|x| x.status == 200).unwrap().body["reward"]
        .as_i64()
        .unwrap();

    let refills = spread(12, "POST", "/api/v1/boosts/refill/buy".into(), player).await;
    assert_eq!(ok(&refills), 3, "three a day: {refills:?}");
    for x in refills.iter().filter(|x| x.status != 200) {
        x.assert_error(409, "no_refills_left");
    }

    // The link task: the first check starts its clock, then 12 checks once it has run out.
    assert_eq!(
        b.call(
            "POST",
            "/api/v1/tasks/site/check",
            Some(&b.auth(player)),
            None
        )
        .await
        .body["done"],
        false
    );
    clock.advance(2_000);
    let site = spread(12, "POST", "/api/v1/tasks/site/check".into(), player).await;
    assert_eq!(ok(&site), 12, "{site:?}");

    // A friend bound on one instance; their first visit, seen 12 times on both, pays both once.
    let friend = 81;
    a.invite(player, friend, "Friend", false).await;
    let visits = spread(12, "GET", "/api/v1/me".into(), friend).await;
    assert_eq!(ok(&visits), 12, "{visits:?}");
    let invited = spread(12, "POST", "/api/v1/tasks/friend/check".into(), player).await;
    assert_eq!(ok(&invited), 12, "{invited:?}");

    // What each instance answers is what the ledger holds, and each payment is in it once: the
    // 1000 tapped went on the card; the daily reward, both tasks and the referral bonus remain.
    let expected = reward + 70 + 90 + 40;
    for app in apps {
        let me = app.get("/api/v1/me", player).await;
        assert_eq!(me.body["balance"], expected, "{:?}", me.body);
        assert_eq!(app.ledger_sum(player).await, expected);
    }
    assert_eq!(a.ledger_sum(friend).await, 40);
    a.stop().await;
    b.stop().await;
    stores.remove().await;
}
