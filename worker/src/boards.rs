//! Keeps the leaderboards whole. The boards live in Redis, which may restart or fail over and come
//! back empty; every `every` this job asks the game to fill them from the database when they are
//! not seeded, which costs one `EXISTS` when nothing was lost. Any number of workers may run it:
//! filling is versioned, so two fills at once end in the same boards.

use crate::Shutdown;
use game::Game;
use std::time::Duration;

/// How often the boards are checked.
#[derive(Clone, Debug)]
pub struct BoardSettings {
    /// Time between checks.
    pub every: Duration,
}

impl Default for BoardSettings {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(30),
        }
    }
}

/// Checks the boards every `settings.every` until `stop`.
pub async fn run(game: Game, settings: BoardSettings, mut stop: Shutdown) {
    while stop.sleep(settings.every).await {
        match game.seed_leaderboard().await {
            Ok(0) => {}
            Ok(players) => {
                tracing::warn!(players, "leaderboards were empty: filled from the database")
            }
            Err(e) => tracing::warn!(error = %e, "leaderboards not checked"),
        }
    }
}
