//! Admin commands: `/stats`, `/ban`, `/unban`, `/grant`, `/broadcast` — audited, and refused to
//! everyone else with nothing changed. A ban reaches the API (403 `banned`) and the leaderboard.

use crate::support::*;
use game::{GameError, Standing, TelegramUser};
use testkit::both_backends;

both_backends!(
    ban_reaches_the_api_the_board_and_the_bot,
    unban_lets_the_player_back,
    grant_is_a_ledger_entry_naming_the_admin,
    a_grant_is_applied_once_per_admin_message,
    stats_counts_the_game,
    broadcast_is_queued_for_the_worker,
    admin_commands_are_refused_to_others_and_change_nothing,
    malformed_admin_commands_get_their_usage,
    claims_are_paused_and_batches_recorded_from_the_bot,
);

fn admin() -> TgUser {
    TgUser::new(ADMIN, "Boss", "en")
}

async fn player(h: &Harness, id: i64, name: &str) -> TgUser {
    let u = TgUser::new(id, name, "en");
    h.say(&u, "/start").await;
    u
}

async fn ban_reaches_the_api_the_board_and_the_bot(backend: Backend) {
    let h = harness(backend).await;
    let api = spawn_api(&h.game).await;
    let ann = player(&h, 1001, "Ann").await;
    player(&h, 1002, "Bob").await;
    h.say(&admin(), "/grant 1001 500").await;
    h.say(&admin(), "/grant 1002 100").await;
    assert_eq!(api_me(&api, &h.game, 1001).await.0, 200);
    let board = h.game.leaderboard(1002, 10).await.unwrap();
    assert_eq!(board.top[0].id, 1001);

    let reply = h.say(&admin(), "/ban 1001").await;
    assert!(
        reply.text().contains("Player 1001 is banned"),
        "{}",
        reply.text()
    );
    let (status, body) = api_me(&api, &h.game, 1001).await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "banned");
    let board = h.game.leaderboard(1002, 10).await.unwrap();
    assert!(board.top.iter().all(|e| e.id != 1001), "{board:?}");
    assert_eq!(board.me.rank, 1);
    assert_eq!(h.game.standing(1001).await.unwrap(), Standing::Banned);

    // The banned player hears why, whatever they send.
    for text in ["/start", "/balance", "/play"] {
        let word = h.say(&ann, text).await;
        assert!(word.text().contains("suspended"), "{text}: {}", word.text());
        assert!(
            web_app_url(&word).is_none(),
            "no Play button for a banned player"
        );
    }
    let again = h.say(&admin(), "/ban 1001").await;
    assert!(again.text().contains("already banned"), "{}", again.text());
    let unknown = h.say(&admin(), "/ban 5555").await;
    assert!(
        unknown.text().contains("no player 5555"),
        "{}",
        unknown.text()
    );

    let audit = h.audit().await;
    let bans: Vec<_> = audit.iter().filter(|a| a.action == "ban").collect();
    assert_eq!(bans.len(), 2, "{audit:?}");
    assert!(bans
        .iter()
        .all(|a| a.admin_id == ADMIN && a.target_id == Some(1001)));
    h.stop().await;
}

async fn unban_lets_the_player_back(backend: Backend) {
    let h = harness(backend).await;
    let api = spawn_api(&h.game).await;
    let ann = player(&h, 1001, "Ann").await;
    h.say(&admin(), "/grant 1001 300").await;
    h.say(&admin(), "/ban 1001").await;
    assert_eq!(api_me(&api, &h.game, 1001).await.0, 403);
    let reply = h.say(&admin(), "/unban 1001").await;
    assert!(reply.text().contains("may play again"), "{}", reply.text());
    let (status, body) = api_me(&api, &h.game, 1001).await;
    assert_eq!(status, 200);
    assert_eq!(body["balance"], 300);
    let board = h.game.leaderboard(1001, 10).await.unwrap();
    assert_eq!(board.top.first().map(|e| e.id), Some(1001));
    let back = h.say(&ann, "/balance").await;
    assert!(back.text().contains("Balance: 300"), "{}", back.text());
    let again = h.say(&admin(), "/unban 1001").await;
    assert!(again.text().contains("was not banned"), "{}", again.text());
    assert_eq!(
        h.audit()
            .await
            .iter()
            .filter(|a| a.action == "unban")
            .count(),
        2
    );
    h.stop().await;
}

async fn grant_is_a_ledger_entry_naming_the_admin(backend: Backend) {
    use entities::ledger;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let h = harness(backend).await;
    player(&h, 1001, "Ann").await;
    let reply = h.say(&admin(), "/grant 1001 250").await;
    assert!(
        reply
            .text()
            .contains("Granted 250 coins to player 1001. Their balance: 250"),
        "{}",
        reply.text()
    );
    h.say(&admin(), "/grant 1001 50").await;
    assert_eq!(h.game.me(1001).await.unwrap().balance, 300);
    assert_eq!(
        h.ledger_sum(1001).await,
        300,
        "the balance is the ledger's sum"
    );
    let rows = ledger::Entity::find()
        .filter(ledger::Column::PlayerId.eq(1001))
        .all(h.game.db())
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row.kind, "grant");
        assert!(
            row.reference.starts_with(&format!("admin:{ADMIN}:")),
            "{}",
            row.reference
        );
    }
    assert_ne!(rows[0].reference, rows[1].reference);
    let audit = h.audit().await;
    let grants: Vec<_> = audit.iter().filter(|a| a.action == "grant").collect();
    assert_eq!(grants.len(), 2);
    assert!(
        grants[0].detail.contains("\"amount\":250"),
        "{}",
        grants[0].detail
    );
    for bad in [
        "/grant 1001 0",
        "/grant 1001 -5",
        "/grant 1001 1000000000001",
    ] {
        let r = h.say(&admin(), bad).await;
        assert!(
            r.text().contains("whole number from 1"),
            "{bad}: {}",
            r.text()
        );
    }
    let unknown = h.say(&admin(), "/grant 5555 10").await;
    assert!(unknown.text().contains("no player 5555"));
    assert_eq!(h.game.me(1001).await.unwrap().balance, 300);
    h.stop().await;
}

async fn a_grant_is_applied_once_per_admin_message(backend: Backend) {
    let h = harness_with(
        backend,
        Options {
            bot: false,
            ..Options::default()
        },
        |_| {},
    )
    .await;
    let now = h.game.now_ms();
    let ann = TelegramUser {
        id: 1001,
        first_name: "Ann".into(),
        last_name: None,
        username: None,
        language_code: None,
        is_premium: false,
    };
    h.game.upsert_player(&ann, now).await.unwrap();
    // Telegram may deliver one update twice: the same admin message grants once.
    let (a, b) = tokio::join!(
        h.game.grant(ADMIN, 1001, 40, "900001:77"),
        h.game.grant(ADMIN, 1001, 40, "900001:77"),
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        u8::from(a.duplicate) + u8::from(b.duplicate),
        1,
        "{a:?} {b:?}"
    );
    let c = h.game.grant(ADMIN, 1001, 40, "900001:77").await.unwrap();
    assert!(c.duplicate);
    assert_eq!(c.balance, 40);
    assert_eq!(h.ledger_sum(1001).await, 40);
    assert_eq!(
        h.audit().await.len(),
        1,
        "one grant happened, one is audited"
    );
    h.stop().await;
}

async fn stats_counts_the_game(backend: Backend) {
    let h = harness(backend).await;
    player(&h, 1001, "Ann").await;
    player(&h, 1002, "Bob").await;
    h.game
        .tap(
            1001,
            game::TapBatch::parse(Some(40), Some(1), 1000).unwrap(),
        )
        .await
        .unwrap();
    h.say(&admin(), "/grant 1002 60").await;
    h.say(&admin(), "/ban 1002").await;
    let reply = h.say(&admin(), "/stats").await;
    let text = reply.text();
    assert!(text.contains("Players: 2"), "{text}");
    assert!(text.contains("Active today: 2"), "{text}");
    assert!(text.contains("Banned: 1"), "{text}");
    assert!(text.contains("Tap batches today: 1"), "{text}");
    assert!(text.contains("Coins from taps today: 40"), "{text}");
    assert!(text.contains("Coins earned today: 100"), "{text}");
    assert!(text.contains("Pending claims: 0"), "{text}");
    assert!(h.audit().await.iter().any(|a| a.action == "stats"));
    h.stop().await;
}

async fn broadcast_is_queued_for_the_worker(backend: Backend) {
    let h = harness(backend).await;
    player(&h, 1001, "Ann").await;
    player(&h, 1002, "Bob").await;
    let reply = h.say(&admin(), "/broadcast Double coins tonight!").await;
    assert!(
        reply
            .text()
            .contains("Broadcast #1 is queued for 2 players"),
        "{}",
        reply.text()
    );
    let jobs = h.game.running_broadcasts().await.unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].text, "Double coins tonight!");
    let audit = h.audit().await;
    assert_eq!(audit.last().unwrap().action, "broadcast");
    let usage = h.say(&admin(), "/broadcast").await;
    assert!(
        usage.text().contains("Usage: /broadcast"),
        "{}",
        usage.text()
    );
    assert_eq!(h.game.running_broadcasts().await.unwrap().len(), 1);
    h.stop().await;
}

async fn admin_commands_are_refused_to_others_and_change_nothing(backend: Backend) {
    let h = harness(backend).await;
    let api = spawn_api(&h.game).await;
    let ann = player(&h, 1001, "Ann").await;
    let mallory = player(&h, 1002, "Mallory").await;
    for text in [
        "/stats",
        "/ban 1001",
        "/unban 1001",
        "/grant 1002 1000000",
        "/broadcast free coins at my site",
        "/grant 1002",
        "/ban",
    ] {
        let reply = h.say(&mallory, text).await;
        assert!(
            reply.text().contains("for the game's admins only"),
            "{text}: {}",
            reply.text()
        );
    }
    assert_eq!(api_me(&api, &h.game, 1001).await.0, 200);
    assert_eq!(h.game.me(1002).await.unwrap().balance, 0);
    assert_eq!(h.ledger_sum(1002).await, 0);
    assert!(h.game.running_broadcasts().await.unwrap().is_empty());
    assert!(
        h.audit().await.is_empty(),
        "nothing happened, nothing is audited"
    );
    let fine = h.say(&ann, "/balance").await;
    assert!(fine.text().contains("Balance: 0"));
    h.stop().await;
}

async fn malformed_admin_commands_get_their_usage(backend: Backend) {
    let h = harness(backend).await;
    for (text, usage) in [
        ("/ban someone", "Usage: /ban"),
        ("/unban", "Usage: /unban"),
        ("/grant 1001", "Usage: /grant"),
        ("/grant x y", "Usage: /grant"),
    ] {
        let reply = h.say(&admin(), text).await;
        assert!(reply.text().contains(usage), "{text}: {}", reply.text());
    }
    assert!(h.audit().await.is_empty());
    h.stop().await;
}

async fn claims_are_paused_and_batches_recorded_from_the_bot(backend: Backend) {
    use game::claims::ClaimError;
    let h = harness(backend).await;
    let ann = player(&h, 1001, "Ann").await;
    h.say(&admin(), "/grant 1001 5000").await;
    h.game
        .set_wallet(
            1001,
            "0:ca6e321c7cce9ecedf0a8ca2492ec8592494aa5fb5ce0387dff96ef6af982a3e",
        )
        .await
        .unwrap();
    // Someone else cannot touch the switch.
    let refused = h.say(&ann, "/claims pause").await;
    assert!(!refused.text().contains("paused"), "{}", refused.text());
    assert!(!h.game.claims_paused().await.unwrap());
    let reply = h.say(&admin(), "/claims pause").await;
    assert!(
        reply.text().contains("Claims are paused"),
        "{}",
        reply.text()
    );
    let err = h
        .game
        .create_claim(1001, Some(1000), Some("k1"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, GameError::Claim(ClaimError::Paused)),
        "{err:?}"
    );
    let reply = h.say(&admin(), "/claims resume").await;
    assert!(reply.text().contains("open again"), "{}", reply.text());
    let (claim, _) = h
        .game
        .create_claim(1001, Some(1000), Some("k1"))
        .await
        .unwrap();
    // The worker exports it; the treasury pays; the admin records the batch from the chat.
    h.game.lease_claims("w", 10, 60_000).await.unwrap();
    h.game
        .mark_claims_exported(&[claim.id], "w", "batch-7")
        .await
        .unwrap();
    let unknown = h.say(&admin(), "/payout_sent batch-8 abc").await;
    assert!(
        unknown.text().contains("No batch batch-8"),
        "{}",
        unknown.text()
    );
    let done = h.say(&admin(), "/payout_sent batch-7 txhash123").await;
    assert!(
        done.text().contains("1 claims are now sent"),
        "{}",
        done.text()
    );
    let claims = h.game.claims_of(1001).await.unwrap();
    assert_eq!(
        (claims[0].status.as_str(), claims[0].tx_hash.as_deref()),
        ("sent", Some("txhash123"))
    );
    let usage = h.say(&admin(), "/payout_sent only-one-word").await;
    assert!(
        usage.text().contains("Usage: /payout_sent"),
        "{}",
        usage.text()
    );
}
