//! `/suspects` and `/clear_flags`: admins read the anti-cheat's open flags and clear them,
//! audited; anyone else is refused and nothing changes.

use crate::support::*;
use game::FlagReason;
use testkit::both_backends;

both_backends!(
    suspects_lists_open_flags_and_clear_flags_clears_them,
    anticheat_commands_are_refused_to_others_and_change_nothing,
);

fn admin() -> TgUser {
    TgUser::new(ADMIN, "Boss", "en")
}

async fn player(h: &Harness, id: i64, name: &str) -> TgUser {
    let u = TgUser::new(id, name, "en");
    h.say(&u, "/start").await;
    u
}

async fn suspects_lists_open_flags_and_clear_flags_clears_them(backend: Backend) {
    let h = harness(backend).await;
    player(&h, 1001, "Ann").await;
    player(&h, 1002, "Bob").await;
    let none = h.say(&admin(), "/suspects").await;
    assert!(
        none.text().contains("No open anti-cheat flags"),
        "{}",
        none.text()
    );
    let g = &h.game;
    assert!(g
        .raise_flag(1001, FlagReason::CeilingRate, "30 tap batches in a row")
        .await
        .unwrap());
    assert!(!g
        .raise_flag(1001, FlagReason::CeilingRate, "again")
        .await
        .unwrap());
    g.raise_flag(1001, FlagReason::RegularIntervals, "200 tap intervals")
        .await
        .unwrap();
    g.raise_flag(
        1002,
        FlagReason::SharedWallet,
        "wallet linked by 3 accounts",
    )
    .await
    .unwrap();

    let list = h.say(&admin(), "/suspects").await;
    let text = list.text();
    assert!(text.contains("Open anti-cheat flags"), "{text}");
    assert!(
        text.contains("1001 Ann — ceiling_rate: 30 tap batches in a row"),
        "{text}"
    );
    assert!(text.contains("1001 Ann — regular_intervals"), "{text}");
    assert!(
        text.contains("1002 Bob — shared_wallet: wallet linked by 3 accounts"),
        "{text}"
    );
    assert!(text.contains(" UTC)"), "{text}");
    assert_eq!(text.lines().count(), 4, "a header and three flags: {text}");

    let cleared = h.say(&admin(), "/clear_flags 1001").await;
    assert!(
        cleared
            .text()
            .contains("Cleared 2 open flags of player 1001"),
        "{}",
        cleared.text()
    );
    assert!(!g.is_flagged(1001).await.unwrap());
    assert!(g.is_flagged(1002).await.unwrap());
    let after = h.say(&admin(), "/suspects").await;
    assert!(!after.text().contains("1001"), "{}", after.text());
    assert!(after.text().contains("1002 Bob"), "{}", after.text());

    let unknown = h.say(&admin(), "/clear_flags 5555").await;
    assert!(
        unknown.text().contains("no player 5555"),
        "{}",
        unknown.text()
    );
    let usage = h.say(&admin(), "/clear_flags someone").await;
    assert!(
        usage.text().contains("Usage: /clear_flags"),
        "{}",
        usage.text()
    );

    let audit = h.audit().await;
    let clears: Vec<_> = audit.iter().filter(|a| a.action == "clear_flags").collect();
    assert_eq!(clears.len(), 1, "{audit:?}");
    assert_eq!(clears[0].admin_id, ADMIN);
    assert_eq!(clears[0].target_id, Some(1001));
    assert!(clears[0].detail.contains("\"cleared\":2"), "{audit:?}");

    // The admin's help lists both.
    let help = h.say(&admin(), "/help").await;
    assert!(
        help.text().contains("/suspects") && help.text().contains("/clear_flags"),
        "{}",
        help.text()
    );
    h.stop().await;
}

async fn anticheat_commands_are_refused_to_others_and_change_nothing(backend: Backend) {
    let h = harness(backend).await;
    player(&h, 1001, "Ann").await;
    let mallory = player(&h, 1002, "Mallory").await;
    h.game
        .raise_flag(
            1002,
            FlagReason::SharedWallet,
            "wallet linked by 3 accounts",
        )
        .await
        .unwrap();
    for text in ["/suspects", "/clear_flags 1002", "/clear_flags"] {
        let reply = h.say(&mallory, text).await;
        assert!(
            reply.text().contains("for the game's admins only"),
            "{text}: {}",
            reply.text()
        );
    }
    assert!(h.game.is_flagged(1002).await.unwrap());
    assert!(
        h.audit().await.is_empty(),
        "nothing happened, nothing is audited"
    );
    let help = h.say(&mallory, "/help").await;
    assert!(!help.text().contains("/suspects"), "{}", help.text());
    h.stop().await;
}
