//! `serve` with a bot token: the API answers while Telegram cannot be reached, then the bot and
//! the worker run beside it — a broadcast an admin sends through the bot reaches every player
//! through the worker — and SIGTERM's shutdown stops all three.

use crate::support::*;
use bot::fake_api::{Failure, FakeTelegram, TgUser, When};
use game::InitDataKey;
use serde_json::json;
use tapwave::config::{Command, Config};
use testkit::both_backends;

both_backends!(serve_runs_the_bot_and_the_worker_beside_the_api);

const ADMIN: i64 = 900_001;

async fn serve_runs_the_bot_and_the_worker_beside_the_api(backend: Backend) {
    let stores = Stores::fresh(backend).await;
    let fake = FakeTelegram::start(TOKEN).await;
    // Telegram cannot be reached at first: every getMe is refused.
    fake.fail("getMe", When::From(1), Failure::RetryAfter(1));
    let mut cfg = Config::defaults(Command::Serve);
    cfg.database_url = stores.database_url.clone();
    cfg.redis_url = stores.redis_url.clone();
    cfg.redis_key_prefix = stores.prefix.clone();
    cfg.bot_token = Some(TOKEN.into());
    cfg.telegram_api_url = fake.url().into();
    cfg.admin_ids = vec![ADMIN];
    cfg.game = game::GameConfig::parse(ROOMY).unwrap();
    cfg.db_max_connections = 10;
    let app = tapwave::App::start(&cfg).await.expect("app starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let served_cfg = cfg.clone();
    let task = tokio::spawn(async move {
        app.serve_everything(&served_cfg, listener, async move {
            let _ = rx.await;
        })
        .await
    });

    fake.wait_until("getMe tried twice", |rs| {
        rs.iter().filter(|r| r.method == "getme").count() >= 2
    })
    .await;
    let client = reqwest::Client::new();
    let health = client.get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let init = InitDataKey::for_bot_token(TOKEN).sign_user(
        &json!({"id": 7002, "first_name": "Mia"}),
        game::Clock::now_ms(&game::SystemClock) / 1000,
    );
    let me = client
        .get(format!("{base}/api/v1/me"))
        .header("authorization", format!("tma {init}"))
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200, "the API serves while Telegram is away");
    assert!(fake.requests_of("getUpdates").is_empty());

    fake.heal();
    let ann = TgUser::new(7001, "Ann", "en");
    fake.send(&ann, "/start");
    let hello = fake.wait_messages(7001, 1).await;
    assert!(hello[0].text().contains("Welcome to tapwave, Ann"));
    fake.send(&TgUser::new(ADMIN, "Boss", "en"), "/broadcast Hi all");
    fake.wait_until("the broadcast's final report", |rs| {
        rs.iter()
            .any(|r| r.chat() == Some(ADMIN) && r.text().contains("finished: 2 sent"))
    })
    .await;
    for player in [7001, 7002] {
        let got = fake.messages_to(player);
        assert_eq!(
            got.iter().filter(|r| r.text() == "Hi all").count(),
            1,
            "player {player}"
        );
    }

    tx.send(()).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(60), task)
        .await
        .expect("serve stops on request")
        .unwrap()
        .expect("serve stops cleanly");
    stores.remove().await;
}
