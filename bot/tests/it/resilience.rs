//! Telegram failing: the bot retries until the Bot API answers, survives refusals while
//! answering, limits each player's commands, and stops cleanly on request.

use crate::support::*;
use testkit::both_backends;

both_backends!(
    the_bot_waits_for_telegram_and_then_answers,
    a_refused_answer_does_not_stop_the_bot,
    commands_are_limited_per_player,
);

async fn the_bot_waits_for_telegram_and_then_answers(backend: Backend) {
    // Telegram refuses getMe at first (flood control), then answers.
    let h = harness_with(backend, Options::default(), |fake| {
        fake.fail("getMe", When::Nth(1), Failure::RetryAfter(1));
    })
    .await;
    let reply = h.say(&TgUser::new(1001, "Ann", "en"), "/start").await;
    assert!(reply.text().contains("Welcome"));
    assert!(h.fake.calls("getMe") >= 2, "getMe was tried again");
    h.stop().await;
}

async fn a_refused_answer_does_not_stop_the_bot(backend: Backend) {
    let h = harness(backend).await;
    h.fake
        .fail("sendMessage", When::Chat(1001), Failure::Blocked);
    h.fake
        .fail("sendMessage", When::Chat(1002), Failure::ChatNotFound);
    h.fake.send(&TgUser::new(1001, "Ann", "en"), "/start");
    h.fake.send(&TgUser::new(1002, "Bob", "en"), "/start");
    let reply = h.say(&TgUser::new(1003, "Cid", "en"), "/start").await;
    assert!(reply.text().contains("Welcome"));
    h.fake
        .wait_until("both refused answers", |rs| {
            rs.iter()
                .filter(|r| r.method == "sendmessage" && !r.ok)
                .count()
                >= 2
        })
        .await;
    // The refused players were still created: the game does not depend on the answer.
    let again = h.say(&TgUser::new(1003, "Cid", "en"), "/balance").await;
    assert!(again.text().contains("Balance"));
    h.stop().await;
}

async fn commands_are_limited_per_player(backend: Backend) {
    let h = harness_with(
        backend,
        Options {
            game_toml: "[bot]\ncommands_per_second = 1\ncommands_burst = 2\n",
            ..Options::default()
        },
        |_| {},
    )
    .await;
    let ann = TgUser::new(1001, "Ann", "en");
    for _ in 0..8 {
        h.fake.send(&ann, "/help");
    }
    // Another player is not limited by Ann's flood.
    let bob = h.say(&TgUser::new(1002, "Bob", "en"), "/help").await;
    assert!(bob.text().contains("What I can do"));
    h.fake
        .wait_until("a slow-down word to Ann", |rs| {
            rs.iter()
                .any(|r| r.chat() == Some(1001) && r.text().contains("too many commands"))
        })
        .await;
    let to_ann = h.fake.messages_to(1001);
    let helps = to_ann
        .iter()
        .filter(|r| r.text().contains("What I can do"))
        .count();
    assert!((3..8).contains(&helps), "{helps} of 8 commands answered");
    assert!(to_ann.len() < 8, "the flood was not answered in full");
    h.stop().await;
}
