//! tapwave's background jobs, run by `tapwave worker` and, in one process, by `tapwave serve`.
//!
//! Each job is a module with a `run(game, settings, …, shutdown)` loop that polls the database
//! for work, does it, and returns when [`Shutdown`] is requested; [`run`] starts every job and
//! waits for all of them. Jobs keep their progress in the database, never in memory, so any
//! number of workers may run at once and a worker that dies is simply started again: the next
//! one resumes where the record says. A job meets failures (database, Telegram) by logging them
//! and trying again later; nothing a job meets stops the process.

pub mod boards;
pub mod broadcasts;
pub mod objects;
pub mod payouts;
pub mod warehouse;

use game::{Courier, Game};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::watch;

/// What the worker runs with.
#[derive(Clone, Default)]
pub struct WorkerConfig {
    /// Broadcast delivery.
    pub broadcasts: broadcasts::Settings,
    /// Claim payouts.
    pub payouts: payouts::PayoutSettings,
    /// Refilling the leaderboards after a Redis loss.
    pub boards: boards::BoardSettings,
    /// The ledger's export to the warehouse (`None`: not run).
    pub warehouse: Option<warehouse::WarehouseSettings>,
    /// Sends messages to players; without one (no `BOT_TOKEN`) broadcasts wait.
    pub courier: Option<Arc<dyn Courier>>,
}

/// Why the worker stopped other than by request.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// A job's task panicked.
    #[error("the {0} job stopped unexpectedly")]
    JobPanicked(&'static str),
}

/// Tells jobs to stop; cheap to clone, each job holds one.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

/// Requests a [`Shutdown`].
#[derive(Debug)]
pub struct ShutdownTrigger(watch::Sender<bool>);

impl Shutdown {
    /// A shutdown signal and the trigger that fires it.
    pub fn new() -> (ShutdownTrigger, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (ShutdownTrigger(tx), Shutdown(rx))
    }

    /// Whether stopping has been requested.
    pub fn is_requested(&self) -> bool {
        *self.0.borrow()
    }

    /// Resolves once stopping is requested (at once if it already is).
    pub async fn requested(&mut self) {
        // An error means the trigger is gone, which also means: stop.
        let _ = self.0.wait_for(|stop| *stop).await;
    }

    /// Sleeps for `d`; `false` if stopping was requested first.
    pub async fn sleep(&mut self, d: std::time::Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => true,
            _ = self.requested() => false,
        }
    }
}

impl ShutdownTrigger {
    /// Asks every job to stop.
    pub fn fire(&self) {
        let _ = self.0.send(true);
    }
}

/// Runs every job until `shutdown` resolves, then waits for each to finish what it is doing.
pub async fn run(
    game: Game,
    config: WorkerConfig,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), WorkerError> {
    let (trigger, stop) = Shutdown::new();
    let mut jobs: Vec<(&'static str, tokio::task::JoinHandle<()>)> = Vec::new();
    match config.courier.clone() {
        Some(courier) => jobs.push((
            "broadcasts",
            tokio::spawn(broadcasts::run(
                game.clone(),
                config.broadcasts.clone(),
                courier,
                stop.clone(),
            )),
        )),
        None => tracing::info!("no bot token: broadcasts wait until a worker with one runs"),
    }
    jobs.push((
        "payouts",
        tokio::spawn(payouts::run(
            game.clone(),
            config.payouts.clone(),
            config.courier.clone(),
            stop.clone(),
        )),
    ));
    jobs.push((
        "boards",
        tokio::spawn(boards::run(
            game.clone(),
            config.boards.clone(),
            stop.clone(),
        )),
    ));
    if let Some(settings) = config.warehouse.clone() {
        jobs.push((
            "warehouse",
            tokio::spawn(warehouse::run(game.clone(), settings, stop.clone())),
        ));
    }
    tracing::info!(jobs = jobs.len(), "worker running");
    shutdown.await;
    trigger.fire();
    let mut result = Ok(());
    for (name, job) in jobs {
        if job.await.is_err() {
            tracing::error!(job = name, "job panicked");
            result = Err(WorkerError::JobPanicked(name));
        }
    }
    tracing::info!("worker stopped");
    result
}
