//! `/start`: the player is created, greeted with the Play button, and a referral binds once,
//! never to oneself, only for a new player and only to a known referrer.

use crate::support::*;
use game::Standing;
use testkit::both_backends;

both_backends!(
    start_creates_the_player_and_offers_play,
    referral_binds_a_new_player_to_a_known_friend,
    referral_to_oneself_is_ignored,
    referral_to_an_unknown_id_is_ignored,
    a_repeated_start_never_rebinds,
    a_player_who_already_played_is_not_new,
    russian_speakers_are_answered_in_russian,
);

async fn start_creates_the_player_and_offers_play(backend: Backend) {
    let h = harness(backend).await;
    let ann = TgUser::new(1001, "Ann", "en");
    assert_eq!(h.game.standing(1001).await.unwrap(), Standing::Unknown);
    let reply = h.say(&ann, "/start").await;
    assert!(
        reply.text().contains("Welcome to tapwave, Ann"),
        "{}",
        reply.text()
    );
    assert_eq!(web_app_url(&reply).as_deref(), Some(WEBAPP));
    assert_eq!(h.game.standing(1001).await.unwrap(), Standing::Playing);
    let me = h.game.me(1001).await.unwrap();
    assert_eq!((me.balance, me.first_name.as_str()), (0, "Ann"));
    assert_eq!(me.energy, me.max_energy, "a new player has full energy");

    let again = h.say(&ann, "/start").await;
    assert!(
        again.text().contains("Welcome back, Ann"),
        "{}",
        again.text()
    );
    assert_eq!(web_app_url(&again).as_deref(), Some(WEBAPP));
    h.stop().await;
}

async fn referral_binds_a_new_player_to_a_known_friend(backend: Backend) {
    let h = harness(backend).await;
    let ann = TgUser::new(1001, "Ann", "en");
    let bob = TgUser::new(1002, "Bob", "en");
    h.say(&ann, "/start").await;
    let reply = h.say(&bob, "/start ref_1001").await;
    assert!(
        reply.text().contains("invitation from a friend"),
        "{}",
        reply.text()
    );
    assert_eq!(web_app_url(&reply).as_deref(), Some(WEBAPP));
    assert_eq!(h.game.referrer_of(1002).await.unwrap(), Some(1001));
    assert_eq!(h.game.friends_count(1001).await.unwrap(), 1);
    h.stop().await;
}

async fn referral_to_oneself_is_ignored(backend: Backend) {
    let h = harness(backend).await;
    let ann = TgUser::new(1001, "Ann", "en");
    let reply = h.say(&ann, "/start ref_1001").await;
    assert!(reply.text().contains("Welcome to tapwave"));
    assert!(!reply.text().contains("invitation"));
    assert_eq!(h.game.referrer_of(1001).await.unwrap(), None);
    assert_eq!(h.game.friends_count(1001).await.unwrap(), 0);
    h.stop().await;
}

async fn referral_to_an_unknown_id_is_ignored(backend: Backend) {
    let h = harness(backend).await;
    let bob = TgUser::new(1002, "Bob", "en");
    let reply = h.say(&bob, "/start ref_424242").await;
    assert!(reply.text().contains("Welcome to tapwave, Bob"));
    assert!(!reply.text().contains("invitation"));
    assert_eq!(h.game.referrer_of(1002).await.unwrap(), None);
    // A payload that is no referral at all is a plain start.
    let cid = TgUser::new(1003, "Cid", "en");
    let reply = h.say(&cid, "/start hello").await;
    assert!(reply.text().contains("Welcome to tapwave, Cid"));
    assert_eq!(h.game.referrer_of(1003).await.unwrap(), None);
    h.stop().await;
}

async fn a_repeated_start_never_rebinds(backend: Backend) {
    let h = harness(backend).await;
    let ann = TgUser::new(1001, "Ann", "en");
    let bob = TgUser::new(1002, "Bob", "en");
    let cid = TgUser::new(1003, "Cid", "en");
    h.say(&ann, "/start").await;
    h.say(&cid, "/start").await;
    h.say(&bob, "/start ref_1001").await;
    // The same link again, and another friend's link: Bob is no longer new.
    let again = h.say(&bob, "/start ref_1001").await;
    assert!(!again.text().contains("invitation"), "{}", again.text());
    h.say(&bob, "/start ref_1003").await;
    assert_eq!(h.game.referrer_of(1002).await.unwrap(), Some(1001));
    assert_eq!(h.game.friends_count(1001).await.unwrap(), 1);
    assert_eq!(h.game.friends_count(1003).await.unwrap(), 0);
    h.stop().await;
}

async fn a_player_who_already_played_is_not_new(backend: Backend) {
    let h = harness(backend).await;
    let ann = TgUser::new(1001, "Ann", "en");
    h.say(&ann, "/start").await;
    // Dan opened the Mini App first (the API created him), then follows Ann's link.
    let dan = game::TelegramUser {
        id: 1004,
        first_name: "Dan".into(),
        last_name: None,
        username: None,
        language_code: Some("en".into()),
        is_premium: false,
    };
    h.game.upsert_player(&dan, h.game.now_ms()).await.unwrap();
    let reply = h
        .say(&TgUser::new(1004, "Dan", "en"), "/start ref_1001")
        .await;
    assert!(
        reply.text().contains("Welcome back, Dan"),
        "{}",
        reply.text()
    );
    assert_eq!(h.game.referrer_of(1004).await.unwrap(), None);
    h.stop().await;
}

async fn russian_speakers_are_answered_in_russian(backend: Backend) {
    let h = harness(backend).await;
    let ivan = TgUser::new(1005, "Иван", "ru");
    let reply = h.say(&ivan, "/start").await;
    assert!(
        reply.text().contains("Добро пожаловать в tapwave, Иван"),
        "{}",
        reply.text()
    );
    let button = &reply.body["reply_markup"]["inline_keyboard"][0][0]["text"];
    assert_eq!(button, "▶️ Играть");
    let help = h.say(&ivan, "/help").await;
    assert!(help.text().contains("Что я умею"), "{}", help.text());
    assert!(help.text().contains("/balance — Баланс"), "{}", help.text());
    // Unknown languages get English.
    let hans = TgUser::new(1006, "Hans", "de");
    let reply = h.say(&hans, "/start").await;
    assert!(reply.text().contains("Welcome to tapwave, Hans"));
    h.stop().await;
}
