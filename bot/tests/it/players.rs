//! The player commands besides `/start`: `/play`, `/balance`, `/top`, `/invite`, `/help`, and the
//! answer to anything else.

use crate::support::*;
use game::{TapBatch, TelegramUser};
use testkit::both_backends;

both_backends!(
    play_answers_with_the_mini_app_button,
    balance_reads_live_state,
    top_lists_the_best_players_and_my_place,
    invite_gives_my_link_with_a_share_button,
    help_lists_player_commands_and_admin_ones_to_admins,
    anything_else_gets_a_helpful_answer,
    the_bot_publishes_commands_and_the_menu_button,
);

fn profile(id: i64, name: &str) -> TelegramUser {
    TelegramUser {
        id,
        first_name: name.into(),
        last_name: None,
        username: None,
        language_code: Some("en".into()),
        is_premium: false,
    }
}

async fn play_answers_with_the_mini_app_button(backend: Backend) {
    let h = harness(backend).await;
    let ann = TgUser::new(1001, "Ann", "en");
    let reply = h.say(&ann, "/play").await;
    assert!(reply.text().contains("Press Play"), "{}", reply.text());
    assert_eq!(web_app_url(&reply).as_deref(), Some(WEBAPP));
    h.stop().await;
}

async fn balance_reads_live_state(backend: Backend) {
    let h = harness(backend).await;
    let ann = TgUser::new(1001, "Ann", "en");
    h.say(&ann, "/start").await;
    let reply = h.say(&ann, "/balance").await;
    assert!(
        reply.text().contains("Balance: 0 coins"),
        "{}",
        reply.text()
    );
    assert!(
        reply.text().contains("Energy: 1000/1000"),
        "{}",
        reply.text()
    );
    h.game
        .tap(1001, TapBatch::parse(Some(50), Some(1), 1000).unwrap())
        .await
        .unwrap();
    let reply = h.say(&ann, "/balance").await;
    assert!(
        reply.text().contains("Balance: 50 coins"),
        "{}",
        reply.text()
    );
    assert!(reply.text().contains("Level: 1"), "{}", reply.text());
    // A player who never started gets a balance too (and is created).
    let bob = TgUser::new(1002, "Bob", "en");
    let reply = h.say(&bob, "/balance").await;
    assert!(
        reply.text().contains("Balance: 0 coins"),
        "{}",
        reply.text()
    );
    h.stop().await;
}

async fn top_lists_the_best_players_and_my_place(backend: Backend) {
    let h = harness(backend).await;
    let now = h.game.now_ms();
    for (id, name, taps) in [(2001, "Ann", 30), (2002, "Bob", 70), (2003, "Cid", 10)] {
        h.game.upsert_player(&profile(id, name), now).await.unwrap();
        h.game
            .tap(id, TapBatch::parse(Some(taps), Some(1), 1000).unwrap())
            .await
            .unwrap();
    }
    let cid = TgUser::new(2003, "Cid", "en");
    let reply = h.say(&cid, "/top").await;
    let text = reply.text();
    assert!(text.contains("1. Bob — 70"), "{text}");
    assert!(text.contains("2. Ann — 30"), "{text}");
    assert!(text.contains("3. Cid — 10"), "{text}");
    assert!(text.find("Bob").unwrap() < text.find("Ann").unwrap());
    assert!(text.contains("Your place: #3 with 10 coins"), "{text}");
    h.stop().await;
}

async fn invite_gives_my_link_with_a_share_button(backend: Backend) {
    let h = harness(backend).await;
    let ann = TgUser::new(1001, "Ann", "en");
    h.say(&ann, "/start").await;
    h.say(&TgUser::new(1002, "Bob", "en"), "/start ref_1001")
        .await;
    let reply = h.say(&ann, "/invite").await;
    let link = "https://t.me/tapwave_test_bot?start=ref_1001";
    assert!(reply.text().contains(link), "{}", reply.text());
    assert!(
        reply.text().contains("Friends so far: 1"),
        "{}",
        reply.text()
    );
    let share = button_url(&reply).expect("a share button");
    assert!(share.starts_with("https://t.me/share/url?url="), "{share}");
    assert!(
        share.contains("ref_1001"),
        "the share button carries the link: {share}"
    );
    h.stop().await;
}

async fn help_lists_player_commands_and_admin_ones_to_admins(backend: Backend) {
    let h = harness(backend).await;
    let ann = TgUser::new(1001, "Ann", "en");
    let reply = h.say(&ann, "/help").await;
    for cmd in ["/start", "/play", "/balance", "/top", "/invite", "/help"] {
        assert!(reply.text().contains(cmd), "{cmd} in {}", reply.text());
    }
    assert!(!reply.text().contains("/ban"), "{}", reply.text());
    let admin = TgUser::new(ADMIN, "Boss", "en");
    let reply = h.say(&admin, "/help").await;
    for cmd in ["/stats", "/ban", "/unban", "/grant", "/broadcast", "/top"] {
        assert!(reply.text().contains(cmd), "{cmd} in {}", reply.text());
    }
    h.stop().await;
}

async fn anything_else_gets_a_helpful_answer(backend: Backend) {
    let h = harness(backend).await;
    let ann = TgUser::new(1001, "Ann", "en");
    for text in ["/dance", "hello there"] {
        let reply = h.say(&ann, text).await;
        assert!(reply.text().contains("/help"), "{}", reply.text());
        assert_eq!(web_app_url(&reply).as_deref(), Some(WEBAPP));
    }
    h.stop().await;
}

async fn the_bot_publishes_commands_and_the_menu_button(backend: Backend) {
    let h = harness(backend).await;
    // Anything answered means start-up is over.
    h.say(&TgUser::new(1001, "Ann", "en"), "/play").await;
    let lists = h.fake.requests_of("setMyCommands");
    let default = lists
        .iter()
        .find(|r| r.body.get("language_code").is_none() && r.body.get("scope").is_none())
        .expect("a default command list");
    let names: Vec<&str> = default.body["commands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["start", "play", "balance", "top", "invite", "help"]);
    let russian = lists
        .iter()
        .find(|r| r.body["language_code"] == "ru" && r.body.get("scope").is_none())
        .expect("a Russian command list");
    assert_eq!(russian.body["commands"][0]["description"], "Начать игру");
    let admin = lists
        .iter()
        .find(|r| r.body["scope"]["chat_id"] == ADMIN)
        .expect("the admin's own list");
    assert!(admin.body["commands"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["command"] == "broadcast"));
    let menu = h.fake.requests_of("setChatMenuButton");
    assert_eq!(menu.len(), 1);
    assert_eq!(menu[0].body["menu_button"]["type"], "web_app");
    assert_eq!(menu[0].body["menu_button"]["web_app"]["url"], WEBAPP);
    h.stop().await;
}
