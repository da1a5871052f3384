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
use tokio::sync::watch;
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
///
/// The SIGTERM handler is installed when this is called, not when the future is first polled: a
/// SIGTERM that arrives right after start-up (say, just after the URL is printed) must stop the
/// process gracefully rather than kill it with the default action.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        #[cfg(unix)]
        let term = async move {
            match term {
                Some(mut s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
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

/// Domains a `ton_proof` may name: the game file's list, else the host of `WEBAPP_URL`.
pub fn proof_domains(cfg: &Config) -> Vec<String> {
    if !cfg.game.claims.proof_domains.is_empty() {
        return cfg.game.claims.proof_domains.clone();
    }
    let rest = cfg
        .webapp_url
        .split_once("://")
        .map(|(_, r)| r)
        .unwrap_or(&cfg.webapp_url);
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
    // Drop a port, but keep an IPv6 literal whole.
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    vec![host.to_owned()]
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
        if cfg.game.cipher.words == game::config::DEFAULT_CIPHER_WORDS {
            tracing::warn!(
                "cipher.words is the built-in list, which anyone can read: set your own in the game file"
            );
        }
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
            webapp_url: cfg.webapp_url.clone(),
            app_name: "tapwave".to_owned(),
            proof_domains: proof_domains(cfg),
            bot_username: cfg.bot_username.clone(),
        };
        let mut state = AppState::new(game.clone(), options);
        if let Some(token) = &cfg.bot_token {
            let members = bot::TelegramMembers::new(&cfg.telegram_api_url, token)
                .context("cannot build the Bot API client for channel tasks")?;
            state.chat_members = Some(Arc::new(members));
        }
        Ok(App { game, state })
    }

    /// Serves the API on `listener` until `shutdown` resolves, then finishes in-flight requests.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let game = self.game.clone();
        self.serve_http(listener, None, shutdown).await?;
        game.db().clone().close().await.ok();
        Ok(())
    }

    /// Serves the API, and `extra` routes beside it (the bot's webhook), until `shutdown`.
    async fn serve_http(
        self,
        listener: TcpListener,
        extra: Option<axum::Router>,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let mut router = webapp_api::router(self.state);
        if let Some(extra) = extra {
            router = router.merge(extra);
        }
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown)
        .await
        .context("HTTP server failed")
    }

    /// `serve`: the API on `listener`, the worker, and the bot when `BOT_TOKEN` is set (its
    /// webhook beside the API in webhook mode), until `shutdown`. The API answers from the start,
    /// whether or not Telegram can be reached; the bot keeps trying to reach it meanwhile.
    pub async fn serve_everything(
        self,
        cfg: &Config,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let game = self.game.clone();
        let stop = fan_out(shutdown);
        let worker = tokio::spawn(worker::run(
            game.clone(),
            worker_config(cfg)?,
            stopped(stop.clone()),
        ));
        let (webhook, bot_task) = match bot_config(cfg) {
            Some(bc) => {
                let launched = bot::launch(game.clone(), &bc, stopped(stop.clone()))?;
                (launched.webhook, Some(tokio::spawn(launched.run)))
            }
            None => (None, None),
        };
        let served = self.serve_http(listener, webhook, stopped(stop)).await;
        if let Some(task) = bot_task {
            task.await.ok();
        }
        let worked = worker.await;
        game.db().clone().close().await.ok();
        served?;
        worked.context("the worker panicked")??;
        Ok(())
    }
}

/// Fans one shutdown signal out to every part of the process (see [`stopped`]).
pub fn fan_out(signal: impl Future<Output = ()> + Send + 'static) -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        tokio::select! {
            _ = signal => { let _ = tx.send(true); }
            _ = tx.closed() => {}
        }
    });
    rx
}

/// Resolves once the signal behind `stop` has fired.
pub async fn stopped(mut stop: watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The bot's configuration, when `BOT_TOKEN` is set.
pub fn bot_config(cfg: &Config) -> Option<bot::BotConfig> {
    let token = cfg.bot_token.clone()?;
    Some(bot::BotConfig {
        token,
        api_url: cfg.telegram_api_url.clone(),
        webapp_url: cfg.webapp_url.clone(),
        admins: cfg.admin_ids.clone(),
        webhook: match (&cfg.webhook_url, &cfg.webhook_secret) {
            (Some(url), Some(secret)) => Some(bot::WebhookConfig {
                url: url.clone(),
                secret: secret.clone(),
            }),
            _ => None,
        },
    })
}

/// The worker's configuration: broadcasts go out through the Bot API when `BOT_TOKEN` is set.
pub fn worker_config(cfg: &Config) -> anyhow::Result<worker::WorkerConfig> {
    let courier: Option<Arc<dyn game::Courier>> = match bot_config(cfg) {
        Some(bc) => {
            let client = bot::client(&bc)?;
            let webapp = bc.webapp_url.parse().context("WEBAPP_URL")?;
            Some(Arc::new(bot::TelegramCourier::new(
                client,
                webapp,
                cfg.broadcast_paid,
            )))
        }
        None => None,
    };
    let objects = Arc::new(
        worker::objects::Objects::from_url(&cfg.warehouse_url, &cfg.warehouse_s3)
            .context("WAREHOUSE_URL")?,
    );
    let payouts = match &cfg.payout {
        config::Payout::Export => worker::payouts::PayoutSettings::Export {
            objects: objects.clone(),
        },
        config::Payout::Toncenter {
            url,
            api_key,
            secret,
        } => worker::payouts::PayoutSettings::Toncenter {
            base_url: url.clone(),
            api_key: api_key.clone(),
            secret: *secret,
        },
    };
    Ok(worker::WorkerConfig {
        broadcasts: worker::broadcasts::Settings::for_rate(cfg.broadcast_rate),
        payouts,
        boards: worker::boards::BoardSettings::default(),
        warehouse: Some(worker::warehouse::WarehouseSettings::new(objects)),
        courier,
    })
}

/// `tapwave bot`: the bot until SIGTERM; in webhook mode its route (and `/healthz`) on `BIND`.
async fn run_bot(cfg: &Config) -> anyhow::Result<()> {
    let bc = bot_config(cfg).context("BOT_TOKEN is required by `tapwave bot`")?;
    let app = App::start(cfg).await?;
    let game = app.game.clone();
    let stop = fan_out(shutdown_signal());
    let launched = bot::launch(game.clone(), &bc, stopped(stop.clone()))?;
    match launched.webhook {
        Some(route) => {
            let listener = TcpListener::bind(cfg.bind)
                .await
                .with_context(|| format!("cannot listen on {} (BIND)", cfg.bind))?;
            tracing::info!(addr = %listener.local_addr()?, "bot webhook listening");
            let router = route.merge(ops_router(game.clone()));
            let server = axum::serve(listener, router).with_graceful_shutdown(stopped(stop));
            let (served, ()) = tokio::join!(server, launched.run);
            served.context("webhook server failed")?;
        }
        None => launched.run.await,
    }
    game.db().clone().close().await.ok();
    Ok(())
}

/// `/healthz`, `/readyz` and `/metrics` for a process without the API (the bot's webhook port, the
/// worker): the load balancer checks readiness there and the CloudWatch agent reads the metrics.
pub fn ops_router(game: Game) -> axum::Router {
    use axum::http::StatusCode;
    use axum::routing::get;
    let metrics = webapp_api::observe::prometheus();
    axum::Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(move || {
                let game = game.clone();
                async move {
                    match game.ready().await {
                        Ok(()) => (StatusCode::OK, "ready"),
                        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "not ready"),
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move || std::future::ready(metrics.render())),
        )
}

/// `tapwave worker`: every job until SIGTERM, with `/healthz`, `/readyz` and `/metrics` on `BIND`.
async fn run_worker(cfg: &Config) -> anyhow::Result<()> {
    let app = App::start(cfg).await?;
    let game = app.game.clone();
    let listener = TcpListener::bind(cfg.bind)
        .await
        .with_context(|| format!("cannot listen on {} (BIND)", cfg.bind))?;
    tracing::info!(addr = %listener.local_addr()?, "worker health and metrics listening");
    let stop = fan_out(shutdown_signal());
    let server = axum::serve(listener, ops_router(game.clone()))
        .with_graceful_shutdown(stopped(stop.clone()));
    let (served, worked) = tokio::join!(
        server,
        worker::run(game.clone(), worker_config(cfg)?, stopped(stop))
    );
    served.context("health server failed")?;
    worked?;
    game.db().clone().close().await.ok();
    Ok(())
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
            let shutdown = shutdown_signal();
            if cfg.command == Command::Serve {
                println!("tapwave is running: open http://{addr}/ in a browser (Ctrl-C stops it)");
            }
            if cfg.command == Command::Serve {
                app.serve_everything(&cfg, listener, shutdown).await?;
            } else {
                app.serve(listener, shutdown).await?;
            }
            tracing::info!("stopped");
            Ok(())
        }
        Command::Bot => {
            run_bot(&cfg).await?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Worker => {
            run_worker(&cfg).await?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}
