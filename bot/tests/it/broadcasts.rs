//! Broadcasts end to end: an admin's `/broadcast`, the worker delivering it through the real
//! courier to the fake Bot API at the configured rate, through 429s, blocked users and a crash.

use crate::support::*;
use game::{Courier, TelegramUser};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use testkit::both_backends;
use worker::broadcasts::Settings;
use worker::Shutdown;

both_backends!(
    a_broadcast_reaches_every_player_once_at_the_rate,
    a_crash_mid_broadcast_resumes_without_duplicates,
    stopping_during_flood_control_loses_nothing,
);

async fn seed_players(h: &Harness, ids: impl IntoIterator<Item = i64>) {
    let now = h.game.now_ms();
    for id in ids {
        let user = TelegramUser {
            id,
            first_name: format!("P{id}"),
            last_name: None,
            username: None,
            language_code: Some("en".into()),
            is_premium: false,
        };
        h.game.upsert_player(&user, now).await.unwrap();
    }
}

fn courier(h: &Harness) -> Arc<dyn Courier> {
    let client = bot::client(&bot_config(&h.fake, false)).unwrap();
    Arc::new(bot::TelegramCourier::new(
        client,
        WEBAPP.parse().unwrap(),
        false,
    ))
}

fn settings(rate: u32) -> Settings {
    Settings {
        poll: Duration::from_millis(50),
        report_every: Duration::from_secs(3600),
        ..Settings::for_rate(rate)
    }
}

/// Runs the broadcasts job until `stop` is fired.
fn spawn_job(h: &Harness, settings: Settings, stop: Shutdown) -> tokio::task::JoinHandle<()> {
    tokio::spawn(worker::broadcasts::run(
        h.game.clone(),
        settings,
        courier(h),
        stop,
    ))
}

/// SendMessage requests to players (the admin's chat excluded), by chat.
fn sends_by_player(h: &Harness, ok_only: bool) -> HashMap<i64, usize> {
    let mut by = HashMap::new();
    for r in h.fake.requests_of("sendMessage") {
        if (r.ok || !ok_only) && r.chat() != Some(ADMIN) {
            *by.entry(r.chat().unwrap()).or_insert(0) += 1;
        }
    }
    by
}

async fn final_report(h: &Harness, id: i64) -> String {
    let marker = format!("Broadcast #{id} finished");
    h.fake
        .wait_until("the final report", |rs| {
            rs.iter()
                .any(|r| r.chat() == Some(ADMIN) && r.text().contains(&marker))
        })
        .await;
    h.fake
        .messages_to(ADMIN)
        .into_iter()
        .find(|r| r.text().contains(&marker))
        .unwrap()
        .text()
        .to_owned()
}

async fn a_broadcast_reaches_every_player_once_at_the_rate(backend: Backend) {
    let h = harness(backend).await;
    let players: Vec<i64> = (3001..=3030).collect();
    seed_players(&h, players.iter().copied()).await;
    // Player 3010 blocked the bot; 3020's chat is gone; and the 12th send meets flood control.
    h.fake
        .fail("sendMessage", When::Chat(3010), Failure::Blocked);
    h.fake
        .fail("sendMessage", When::Chat(3020), Failure::ChatNotFound);
    let queued = h
        .say(
            &TgUser::new(ADMIN, "Boss", "en"),
            "/broadcast Season two starts now!",
        )
        .await;
    assert!(
        queued.text().contains("queued for 30 players"),
        "{}",
        queued.text()
    );
    h.fake
        .fail("sendMessage", When::Nth(12), Failure::RetryAfter(1));

    let rate = 20;
    let (trigger, stop) = Shutdown::new();
    let job = spawn_job(&h, settings(rate), stop);
    let report = final_report(&h, 1).await;
    trigger.fire();
    job.await.unwrap();

    assert!(
        report.contains("28 sent, 2 unreachable, 0 failed, 0 uncertain (out of 30)"),
        "{report}"
    );
    let delivered = sends_by_player(&h, true);
    for id in &players {
        let expected = usize::from(*id != 3010 && *id != 3020);
        assert_eq!(
            delivered.get(id).copied().unwrap_or(0),
            expected,
            "player {id}"
        );
    }
    let attempts: Vec<Recorded> = h
        .fake
        .requests_of("sendMessage")
        .into_iter()
        .filter(|r| r.chat() != Some(ADMIN))
        .collect();
    // 30 players, and the one refused by flood control once more.
    assert_eq!(attempts.len(), 31);
    assert_eq!(
        attempts
            .iter()
            .filter(|r| r.text() == "Season two starts now!")
            .count(),
        31
    );
    let flooded = &attempts[11];
    assert!(!flooded.ok);
    assert_eq!(
        delivered.get(&flooded.chat().unwrap()),
        Some(&1),
        "the refused message was sent again"
    );
    // The ceiling: sends start one interval apart, so 31 of them span at least 30 intervals.
    let span = attempts.last().unwrap().at - attempts[0].at;
    let floor = Duration::from_millis(30 * 1000 / u64::from(rate));
    assert!(
        span + Duration::from_millis(100) >= floor,
        "31 sends at {rate}/s took only {span:?}"
    );
    // Every broadcast message carries the Play button.
    assert_eq!(web_app_url(&attempts[0]).as_deref(), Some(WEBAPP));
    for id in [3010, 3020] {
        assert!(
            h.game.is_unreachable(id).await.unwrap(),
            "{id} marked unreachable"
        );
    }
    // The next broadcast skips them; a player who starts the bot again is reachable again.
    h.fake.heal();
    h.say(&TgUser::new(3010, "P3010", "en"), "/start").await;
    let next = h
        .say(&TgUser::new(ADMIN, "Boss", "en"), "/broadcast Second")
        .await;
    assert!(
        next.text().contains("queued for 29 players"),
        "{}",
        next.text()
    );
    h.stop().await;
}

async fn a_crash_mid_broadcast_resumes_without_duplicates(backend: Backend) {
    let h = harness(backend).await;
    let players: Vec<i64> = (4001..=4012).collect();
    seed_players(&h, players.iter().copied()).await;
    h.say(
        &TgUser::new(ADMIN, "Boss", "en"),
        "/broadcast Maintenance at noon",
    )
    .await;
    // The 6th message never gets an answer: the worker is frozen mid-send, then killed.
    h.fake.fail("sendMessage", When::Nth(6), Failure::Hang);
    let (_trigger, stop) = Shutdown::new();
    let crashed = spawn_job(
        &h,
        Settings {
            concurrency: 1,
            ..settings(25)
        },
        stop,
    );
    h.fake
        .wait_until("the sixth send", |rs| {
            rs.iter()
                .filter(|r| r.method == "sendmessage" && r.chat() != Some(ADMIN))
                .count()
                >= 6
        })
        .await;
    crashed.abort();
    let _ = crashed.await;
    h.fake.heal();

    let (trigger, stop) = Shutdown::new();
    let resumed = spawn_job(&h, settings(25), stop);
    let report = final_report(&h, 1).await;
    trigger.fire();
    resumed.await.unwrap();

    // Everyone was sent the message exactly once: the one caught in the crash is not resent.
    let sent = sends_by_player(&h, false);
    for id in &players {
        assert_eq!(sent.get(id), Some(&1), "player {id}: {sent:?}");
    }
    assert!(
        report.contains("11 sent, 0 unreachable, 0 failed, 1 uncertain (out of 12)"),
        "{report}"
    );
    h.stop().await;
}

async fn stopping_during_flood_control_loses_nothing(backend: Backend) {
    let h = harness(backend).await;
    let players: Vec<i64> = (5001..=5004).collect();
    seed_players(&h, players.iter().copied()).await;
    h.say(&TgUser::new(ADMIN, "Boss", "en"), "/broadcast Hello")
        .await;
    // Telegram asks for a long wait on the second message; the worker is stopped meanwhile.
    h.fake
        .fail("sendMessage", When::Nth(2), Failure::RetryAfter(3600));
    let (trigger, stop) = Shutdown::new();
    let job = spawn_job(
        &h,
        Settings {
            concurrency: 1,
            ..settings(25)
        },
        stop,
    );
    h.fake
        .wait_until("the refused send", |rs| {
            rs.iter().any(|r| r.method == "sendmessage" && !r.ok)
        })
        .await;
    trigger.fire();
    tokio::time::timeout(Duration::from_secs(30), job)
        .await
        .expect("the job stops on request even while waiting")
        .unwrap();
    let progress = h.game.broadcast_progress(1).await.unwrap();
    assert_eq!((progress.sent, progress.uncertain), (1, 0), "{progress:?}");

    let (trigger, stop) = Shutdown::new();
    let job = spawn_job(&h, settings(25), stop);
    let report = final_report(&h, 1).await;
    trigger.fire();
    job.await.unwrap();
    assert!(
        report.contains("4 sent, 0 unreachable, 0 failed, 0 uncertain"),
        "{report}"
    );
    let delivered = sends_by_player(&h, true);
    for id in &players {
        assert_eq!(delivered.get(id), Some(&1), "player {id}");
    }
    h.stop().await;
}
