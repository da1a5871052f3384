//! Webhook mode: the bot sets its webhook with the secret, and an update is processed only when
//! it carries the right `X-Telegram-Bot-Api-Secret-Token`.

use crate::support::*;
use game::Standing;
use testkit::both_backends;

both_backends!(webhook_updates_need_the_right_secret);

async fn post(url: &str, secret: Option<&str>, body: &serde_json::Value) -> u16 {
    let mut req = reqwest::Client::new().post(url).json(body);
    if let Some(s) = secret {
        req = req.header("x-telegram-bot-api-secret-token", s);
    }
    req.send()
        .await
        .expect("the webhook answers")
        .status()
        .as_u16()
}

async fn webhook_updates_need_the_right_secret(backend: Backend) {
    let h = harness_with(
        backend,
        Options {
            webhook: true,
            ..Options::default()
        },
        |_| {},
    )
    .await;
    let url = h.webhook.clone().expect("a webhook route");
    h.fake
        .wait_until("setWebhook", |rs| {
            rs.iter().any(|r| r.method == "setwebhook")
        })
        .await;
    let set = &h.fake.requests_of("setWebhook")[0];
    assert_eq!(set.body["url"], WEBHOOK_URL);
    assert_eq!(set.body["secret_token"], SECRET);
    assert!(
        h.fake.requests_of("getUpdates").is_empty(),
        "no polling in webhook mode"
    );

    let eve = TgUser::new(1001, "Eve", "en");
    let missing = h.fake.message_update(&eve, "/start");
    assert_eq!(post(&url, None, &missing).await, 401);
    let wrong = h.fake.message_update(&eve, "/start");
    assert_eq!(post(&url, Some("s3cret_Token-43"), &wrong).await, 403);
    assert_eq!(post(&url, Some(""), &wrong).await, 403);

    let ann = TgUser::new(1002, "Ann", "en");
    let right = h.fake.message_update(&ann, "/start");
    assert_eq!(post(&url, Some(SECRET), &right).await, 200);
    let reply = h.fake.wait_messages(1002, 1).await;
    assert!(reply[0].text().contains("Welcome to tapwave, Ann"));
    assert_eq!(web_app_url(&reply[0]).as_deref(), Some(WEBAPP));

    // The refused updates were never processed: no answer, no player.
    assert!(h.fake.messages_to(1001).is_empty());
    assert_eq!(h.game.standing(1001).await.unwrap(), Standing::Unknown);
    h.stop().await;
}
