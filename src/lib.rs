//! The `tapwave` binary's library half: configuration, start-up, serving and shut-down.
//!
//! `main` parses the command line and calls [`run`]; the integration tests call [`App::start`]
//! directly to spawn the real application on a random port, exactly as `serve` would run it.

pub mod config;

use anyhow::Context;
use config::{Command, Config, LogFormat, MigrateAction};
use game::{Clock, Game, InitDataKey, Settings, SystemClock};
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use webapp_api::{ApiOptions, AppState};

/// Sets up logging: JSON lines (CloudWatch) or pretty; level from `RUST_LOG`, default `info`.
pub fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,sea_orm_migration=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

/// Resolves when the process is asked to stop (SIGTERM from ECS, or Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

/// Applies pending migrations to the configured database.
pub async fn migrate(cfg: &Config) -> anyhow::Result<()> {
    let db = game::store::db::connect(&cfg.database_url, 2)
        .await
        .with_context(|| "cannot open the database (DATABASE_URL)")?;
    migrations::apply_pending(&db)
        .await
        .context("migrations failed")?;
    db.close().await.ok();
    Ok(())
}

/// The running application's parts: the game and the HTTP router's state.
pub struct App {
    /// The game services.
    pub game: Game,
    state: AppState,
}

impl App {
    /// Migrates, opens the game and prepares the API, with the system clock.
    pub async fn start(cfg: &Config) -> anyhow::Result<App> {
        Self::start_with_clock(cfg, Arc::new(SystemClock)).await
    }

    /// As [`App::start`], with a clock of the caller's choosing.
    pub async fn start_with_clock(cfg: &Config, clock: Arc<dyn Clock>) -> anyhow::Result<App> {
        migrate(cfg).await?;
        // Without a bot token no real player can sign in, so a throwaway key signs demo logins.
        let (init_key, dev_login) = match &cfg.bot_token {
            Some(token) => (InitDataKey::for_bot_token(token), false),
            None => (
                InitDataKey::for_bot_token(&format!(
                    "0:{}",
                    hex::encode(rand::random::<[u8; 32]>())
                )),
                true,
            ),
        };
        let settings = Settings {
            database_url: cfg.database_url.clone(),
            redis_url: cfg.redis_url.clone(),
            redis_prefix: cfg.redis_key_prefix.clone(),
            init_key,
            init_data_max_age: cfg.init_data_max_age,
            game: cfg.game.clone(),
            db_max_connections: cfg.db_max_connections,
        };
        let game = Game::open(&settings, clock)
            .await
            .context("cannot open the game's stores")?;
        let seeded = game
            .seed_leaderboard()
            .await
            .context("cannot fill the leaderboard")?;
        if seeded > 0 {
            tracing::info!(players = seeded, "leaderboard filled from the database");
        }
        let options = ApiOptions {
            trusted_proxies: cfg.trusted_proxies,
            dev_login,
        };
        let state = AppState::new(game.clone(), options);
        Ok(App { game, state })
    }

    /// Serves the API on `listener` until `shutdown` resolves, then finishes in-flight requests.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let router = webapp_api::router(self.state);
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("HTTP server failed")?;
        self.game.db().clone().close().await.ok();
        Ok(())
    }
}

/// Runs the configured command to completion.
pub async fn run(cfg: Config) -> anyhow::Result<()> {
    match &cfg.command {
        Command::Migrate {
            action: Some(MigrateAction::Status),
        } => {
            let db = game::store::db::connect(&cfg.database_url, 1)
                .await
                .context("cannot open the database")?;
            for (name, applied) in migrations::status(&db).await? {
                println!("{} {name}", if applied { "applied" } else { "pending" });
            }
            Ok(())
        }
        Command::Migrate { action: None } => {
            migrate(&cfg).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Serve | Command::Api => {
            let app = App::start(&cfg).await?;
            let listener = TcpListener::bind(cfg.bind)
                .await
                .with_context(|| format!("cannot listen on {} (BIND)", cfg.bind))?;
            let addr = listener.local_addr()?;
            let mode = if app.game.uses_redis() {
                "PostgreSQL/SQLite + Redis"
            } else {
                "embedded stores"
            };
            tracing::info!(%addr, mode, "tapwave is listening");
            if cfg.command == Command::Serve {
                println!("tapwave is running: open http://{addr}/ in a browser (Ctrl-C stops it)");
            }
            app.serve(listener, shutdown_signal()).await?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Bot | Command::Worker => {
            anyhow::bail!(
                "`tapwave {}` is not part of this build yet",
                if cfg.command == Command::Bot {
                    "bot"
                } else {
                    "worker"
                }
            )
        }
    }
}
