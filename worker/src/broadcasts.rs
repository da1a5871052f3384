//! The broadcasts job: delivers every running broadcast to its players under a rate ceiling.
//!
//! The ceiling is one GCRA limit (`Game::check_rate`, key `broadcast`) with no burst, so on
//! Redis it holds across every worker instance; a few sends are kept in flight at once so that a
//! high ceiling (paid broadcasts, up to 1000/s) is reached despite Telegram's latency. When
//! Telegram answers 429, every send of this worker waits the `retry_after` it gave, and the
//! refused message is sent again: it was not delivered. The cursor moves only after a whole page
//! of players is dealt with, and the per-player claim (see `game::broadcasts`) makes a resumed
//! page skip whoever was claimed before, so a crash anywhere loses no page and repeats no
//! message. Stopping while a message waits on flood control gives its claim back.

use crate::Shutdown;
use game::{BroadcastJob, Courier, Decision, Delivery, DeliveryStatus, Game, Rate};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// How broadcasts are delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Messages per second, at most, across every worker sharing the limiter.
    pub rate: u32,
    /// Messages in flight at once.
    pub concurrency: usize,
    /// Players read per page (the cursor moves page by page).
    pub page: u64,
    /// How often to look for new broadcasts.
    pub poll: Duration,
    /// How often to tell the admin how far a broadcast has got (and always at the end).
    pub report_every: Duration,
}

impl Settings {
    /// Settings for a ceiling of `rate` messages per second.
    pub fn for_rate(rate: u32) -> Settings {
        Settings {
            rate: rate.max(1),
            // Telegram answers in tens of milliseconds: a send in flight per 20/s keeps up.
            concurrency: rate.div_ceil(20).clamp(1, 64) as usize,
            page: 200,
            poll: Duration::from_secs(1),
            report_every: Duration::from_secs(30),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings::for_rate(25)
    }
}

/// Paces sends: the shared rate limit, and this worker's pause after a 429.
struct Pacer {
    game: Game,
    rate: Rate,
    paused_until: Mutex<Option<Instant>>,
}

impl Pacer {
    fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        let mut p = self.paused_until.lock().expect("pacer lock");
        if p.is_none_or(|old| old < until) {
            *p = Some(until);
        }
    }

    /// Waits for a pause to end and a slot under the ceiling; `false` if stopping first.
    async fn permit(&self, stop: &mut Shutdown) -> bool {
        loop {
            let paused = *self.paused_until.lock().expect("pacer lock");
            if let Some(until) = paused {
                let now = Instant::now();
                if until > now && !stop.sleep(until - now).await {
                    return false;
                }
            }
            if stop.is_requested() {
                return false;
            }
            let wait = match self.game.check_rate("broadcast", self.rate).await {
                Ok(Decision::Allow) => return true,
                Ok(Decision::Deny { retry_after_ms }) => Duration::from_millis(retry_after_ms),
                Err(e) => {
                    tracing::warn!(error = %e, "broadcast limiter unavailable; waiting");
                    Duration::from_secs(1)
                }
            };
            if !stop.sleep(wait).await {
                return false;
            }
        }
    }
}

/// How a broadcast run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every player was dealt with.
    Delivered,
    /// Stopping was requested; the broadcast resumes on the next run.
    Stopped,
}

/// Looks for running broadcasts and delivers them until stopping is requested.
pub async fn run(game: Game, settings: Settings, courier: Arc<dyn Courier>, mut stop: Shutdown) {
    let pacer = Arc::new(Pacer {
        game: game.clone(),
        rate: Rate {
            per_second: settings.rate,
            burst: 0,
        },
        paused_until: Mutex::new(None),
    });
    loop {
        match game.running_broadcasts().await {
            Ok(jobs) => {
                for job in jobs {
                    match deliver(&game, &settings, &courier, &pacer, job, &mut stop).await {
                        Ok(Outcome::Delivered) => {}
                        Ok(Outcome::Stopped) => return,
                        Err(e) => {
                            tracing::warn!(error = %e, "broadcast delivery interrupted; resuming later")
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read broadcasts; trying again"),
        }
        if !stop.sleep(settings.poll).await {
            return;
        }
    }
}

/// Delivers one broadcast from its cursor to the end, page by page.
async fn deliver(
    game: &Game,
    settings: &Settings,
    courier: &Arc<dyn Courier>,
    pacer: &Arc<Pacer>,
    job: BroadcastJob,
    stop: &mut Shutdown,
) -> Result<Outcome, game::GameError> {
    tracing::info!(
        broadcast = job.id,
        cursor = job.cursor,
        "delivering broadcast"
    );
    let text: Arc<str> = Arc::from(job.text.as_str());
    let mut cursor = job.cursor;
    let mut last_report = Instant::now();
    loop {
        if stop.is_requested() {
            return Ok(Outcome::Stopped);
        }
        let page = game
            .broadcast_recipients(job.id, cursor, settings.page)
            .await?;
        let Some(&last) = page.last() else {
            if game.finish_broadcast(job.id).await? {
                let progress = game.broadcast_progress(job.id).await?;
                tracing::info!(
                    broadcast = job.id,
                    sent = progress.sent,
                    unreachable = progress.unreachable,
                    failed = progress.failed,
                    uncertain = progress.uncertain,
                    "broadcast delivered"
                );
                courier.report(&progress).await;
            }
            return Ok(Outcome::Delivered);
        };
        let mut flight = JoinSet::new();
        let mut stopped = false;
        for player in page {
            while flight.len() >= settings.concurrency {
                stopped |= flight.join_next().await.is_some_and(|r| r.unwrap_or(true));
            }
            if stopped || stop.is_requested() {
                stopped = true;
                break;
            }
            let (game, courier, pacer, text, mut stop) = (
                game.clone(),
                courier.clone(),
                pacer.clone(),
                text.clone(),
                stop.clone(),
            );
            let id = job.id;
            flight.spawn(async move {
                deliver_one(&game, &*courier, &pacer, id, player, &text, &mut stop).await
            });
        }
        while let Some(r) = flight.join_next().await {
            stopped |= r.unwrap_or(true);
        }
        if stopped {
            return Ok(Outcome::Stopped);
        }
        cursor = last;
        game.advance_broadcast(job.id, cursor).await?;
        if last_report.elapsed() >= settings.report_every {
            last_report = Instant::now();
            courier
                .report(&game.broadcast_progress(job.id).await?)
                .await;
        }
    }
}

/// Sends one player their message; `true` if it stopped on request before finishing.
async fn deliver_one(
    game: &Game,
    courier: &dyn Courier,
    pacer: &Pacer,
    broadcast: i64,
    player: i64,
    text: &str,
    stop: &mut Shutdown,
) -> bool {
    if !pacer.permit(stop).await {
        return true;
    }
    match game.claim_delivery(broadcast, player).await {
        Ok(true) => {}
        Ok(false) => return false,
        Err(e) => {
            // Unclaimed, so the page is not finished: stop here and let the next run resume it.
            tracing::warn!(error = %e, broadcast, player, "cannot claim a delivery");
            return true;
        }
    }
    let mut failures = 0u32;
    loop {
        let (status, reason) = match courier.deliver(player, text).await {
            Delivery::Sent => (DeliveryStatus::Sent, String::new()),
            Delivery::Unreachable(reason) => (DeliveryStatus::Unreachable, reason),
            Delivery::Failed(reason) => {
                tracing::warn!(broadcast, player, reason, "broadcast message refused");
                (DeliveryStatus::Failed, reason)
            }
            Delivery::RetryAfter(wait) => {
                metrics::counter!("broadcast_flood_waits_total").increment(1);
                tracing::info!(broadcast, wait_s = wait.as_secs(), "flood control; waiting");
                pacer.pause(wait);
                if !pacer.permit(stop).await {
                    release(game, broadcast, player).await;
                    return true;
                }
                continue;
            }
            Delivery::NotSent(reason) => {
                failures += 1;
                let wait = Duration::from_secs(1u64 << failures.min(6));
                tracing::warn!(
                    broadcast,
                    player,
                    reason,
                    wait_s = wait.as_secs(),
                    "messenger unreachable; retrying"
                );
                if !stop.sleep(wait).await || !pacer.permit(stop).await {
                    release(game, broadcast, player).await;
                    return true;
                }
                continue;
            }
        };
        metrics::counter!("broadcast_messages_total", "result" => status_label(status))
            .increment(1);
        if let Err(e) = game
            .finish_delivery(broadcast, player, status, &reason)
            .await
        {
            tracing::warn!(error = %e, broadcast, player, "cannot record a delivery; it stays uncertain");
        }
        return false;
    }
}

fn status_label(s: DeliveryStatus) -> &'static str {
    match s {
        DeliveryStatus::Sent => "sent",
        DeliveryStatus::Unreachable => "unreachable",
        DeliveryStatus::Failed => "failed",
    }
}

async fn release(game: &Game, broadcast: i64, player: i64) {
    if let Err(e) = game.release_delivery(broadcast, player).await {
        tracing::warn!(error = %e, broadcast, player, "cannot give back a claim; it stays uncertain");
    }
}
