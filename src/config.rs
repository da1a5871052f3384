//! Configuration: every flag also read from the environment variable beside it (API.md), then
//! checked once into a typed [`Config`]. A bad value stops the program with one line naming the
//! variable and the problem; past this point nothing re-checks.

use clap::{Parser, Subcommand};
use game::GameConfig;
use std::net::SocketAddr;
use std::path::PathBuf;

/// tapwave: a game server for Telegram tap-to-earn games.
#[derive(Debug, Parser)]
#[command(name = "tapwave", version, about, long_about = None)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
    /// HTTP listen address (api, serve; webhook port of bot).
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,
    /// `postgres://…` in production; SQLite file by default.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://tapwave.db?mode=rwc",
        global = true
    )]
    pub database_url: String,
    /// `redis://…` shared by every instance; unset: in-process cache and limiter.
    #[arg(long, env = "REDIS_URL", global = true)]
    pub redis_url: Option<String>,
    /// Prefix of every Redis key, so several games or test runs can share one Redis.
    #[arg(
        long,
        env = "REDIS_KEY_PREFIX",
        default_value = "tapwave:",
        global = true
    )]
    pub redis_key_prefix: String,
    /// Telegram bot token; also the key that signs Mini App init data.
    #[arg(long, env = "BOT_TOKEN", hide_env_values = true, global = true)]
    pub bot_token: Option<String>,
    /// Bot API base URL.
    #[arg(
        long,
        env = "TELEGRAM_API_URL",
        default_value = "https://api.telegram.org",
        global = true
    )]
    pub telegram_api_url: String,
    /// Public URL of the Mini App (the bot's Play button opens it).
    #[arg(
        long,
        env = "WEBAPP_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub webapp_url: String,
    /// The bot's username (without `@`), for the Mini App's `t.me` invite links.
    #[arg(long, env = "BOT_USERNAME", global = true)]
    pub bot_username: Option<String>,
    /// Webhook mode for `bot`: the public URL Telegram posts updates to.
    #[arg(long, env = "WEBHOOK_URL", global = true)]
    pub webhook_url: Option<String>,
    /// Secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` (1–256 of `A-Za-z0-9_-`).
    #[arg(long, env = "WEBHOOK_SECRET", hide_env_values = true, global = true)]
    pub webhook_secret: Option<String>,
    /// Comma-separated Telegram user ids allowed to use admin commands.
    #[arg(long, env = "ADMIN_IDS", default_value = "", global = true)]
    pub admin_ids: String,
    /// Path to a TOML file with the economy; built-in defaults otherwise.
    #[arg(long, env = "GAME_CONFIG", global = true)]
    pub game_config: Option<PathBuf>,
    /// Where the worker writes analytics files (`s3://bucket/prefix` in production).
    #[arg(
        long,
        env = "WAREHOUSE_URL",
        default_value = "file://./warehouse",
        global = true
    )]
    pub warehouse_url: String,
    /// The region of an `s3://` WAREHOUSE_URL's bucket.
    #[arg(long, env = "AWS_REGION", global = true)]
    pub aws_region: Option<String>,
    /// A path-style endpoint for an `s3://` WAREHOUSE_URL instead of AWS's (S3-compatible stores).
    #[arg(long, env = "WAREHOUSE_S3_ENDPOINT", global = true)]
    pub warehouse_s3_endpoint: Option<String>,
    /// Seconds an init data signature stays valid.
    #[arg(
        long,
        env = "INIT_DATA_MAX_AGE",
        default_value = "86400",
        global = true
    )]
    pub init_data_max_age: String,
    /// Proxies in front (CloudFront + ALB = 2): the client address is read that many hops from the
    /// right of X-Forwarded-For, else from the socket.
    #[arg(long, env = "TRUSTED_PROXIES", default_value = "0", global = true)]
    pub trusted_proxies: String,
    /// `pretty` or `json`; default `pretty` on a terminal, else `json`.
    #[arg(long, env = "LOG_FORMAT", global = true)]
    pub log_format: Option<String>,
    /// Database connections per process.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value = "32", global = true)]
    pub db_max_connections: String,
    /// How the worker pays claims: `export` (treasury files under WAREHOUSE_URL) or `toncenter`.
    #[arg(long, env = "PAYOUT_ADAPTER", default_value = "export", global = true)]
    pub payout_adapter: String,
    /// Base URL of a toncenter-compatible API (the `toncenter` payout adapter).
    #[arg(
        long,
        env = "TONCENTER_URL",
        default_value = "https://toncenter.com",
        global = true
    )]
    pub toncenter_url: String,
    /// API key for TONCENTER_URL.
    #[arg(long, env = "TONCENTER_API_KEY", hide_env_values = true, global = true)]
    pub toncenter_api_key: Option<String>,
    /// The payout hot wallet's Ed25519 secret key, 64 hex digits (the `toncenter` adapter).
    #[arg(
        long,
        env = "PAYOUT_WALLET_SECRET",
        hide_env_values = true,
        global = true
    )]
    pub payout_wallet_secret: Option<String>,
    /// Broadcast messages per second, at most (1–30; up to 1000 with BROADCAST_PAID).
    #[arg(long, env = "BROADCAST_RATE", default_value = "25", global = true)]
    pub broadcast_rate: String,
    /// `true` to send broadcasts with `allow_paid_broadcast` (Telegram bills Stars above 30/s).
    #[arg(long, env = "BROADCAST_PAID", default_value = "false", global = true)]
    pub broadcast_paid: String,
}

/// The commands.
#[derive(Clone, Debug, PartialEq, Eq, Subcommand)]
pub enum Command {
    /// Everything in one process: migrations, API + Mini App files, worker, and the bot when BOT_TOKEN is set.
    Serve,
    /// The HTTP API and the Mini App files.
    Api,
    /// The Telegram bot: long polling, or webhooks on BIND when WEBHOOK_URL is set.
    Bot,
    /// Background jobs (broadcasts, and more to come).
    Worker,
    /// Apply pending migrations and exit; `migrate status` lists them.
    Migrate {
        /// `status` to list migrations without applying them.
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
}

/// `migrate` sub-actions.
#[derive(Clone, Debug, PartialEq, Eq, Subcommand)]
pub enum MigrateAction {
    /// List migrations and whether each is applied.
    Status,
}

/// How the worker pays claims.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payout {
    /// Treasury batch files under `WAREHOUSE_URL`.
    Export,
    /// Hot-wallet transfers through a toncenter-compatible API.
    Toncenter {
        /// API base URL.
        url: String,
        /// API key.
        api_key: Option<String>,
        /// Hot wallet secret key.
        secret: [u8; 32],
    },
}

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for CloudWatch.
    Json,
}

/// The checked configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// What to run.
    pub command: Command,
    /// HTTP listen address.
    pub bind: SocketAddr,
    /// Database URL.
    pub database_url: String,
    /// Redis URL, if shared stores are used.
    pub redis_url: Option<String>,
    /// Prefix of Redis keys.
    pub redis_key_prefix: String,
    /// Bot token, if any.
    pub bot_token: Option<String>,
    /// Bot API base URL.
    pub telegram_api_url: String,
    /// Mini App URL.
    pub webapp_url: String,
    /// The bot's username, if configured.
    pub bot_username: Option<String>,
    /// Webhook URL, if in webhook mode.
    pub webhook_url: Option<String>,
    /// Webhook secret.
    pub webhook_secret: Option<String>,
    /// Admins' Telegram ids.
    pub admin_ids: Vec<i64>,
    /// The game file.
    pub game: GameConfig,
    /// Warehouse location.
    pub warehouse_url: String,
    /// How an `s3://` warehouse is reached.
    pub warehouse_s3: worker::objects::S3Settings,
    /// Seconds init data stays valid.
    pub init_data_max_age: i64,
    /// Proxies in front.
    pub trusted_proxies: usize,
    /// Log format.
    pub log_format: LogFormat,
    /// Database pool size.
    pub db_max_connections: u32,
    /// How claims are paid.
    pub payout: Payout,
    /// Broadcast messages per second, at most.
    pub broadcast_rate: u32,
    /// Whether broadcasts use Telegram's paid broadcast limit.
    pub broadcast_paid: bool,
}

/// A configuration value that cannot be used: which variable, and why.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{var}: {problem}")]
pub struct ConfigError {
    /// The environment variable.
    pub var: &'static str,
    /// What is wrong, in a few words.
    pub problem: String,
}

fn bad(var: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        var,
        problem: problem.into(),
    }
}

fn http_url(var: &'static str, value: &str) -> Result<String, ConfigError> {
    let rest = value
        .strip_prefix("https://")
        .or_else(|| value.strip_prefix("http://"))
        .ok_or_else(|| {
            bad(
                var,
                format!("must be an http:// or https:// URL, got {value:?}"),
            )
        })?;
    if rest.is_empty() || rest.starts_with('/') || rest.contains(char::is_whitespace) {
        return Err(bad(var, format!("has no host: {value:?}")));
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

impl Config {
    /// Checks every value of the command line and environment.
    pub fn from_cli(cli: Cli) -> Result<Config, ConfigError> {
        let bind = cli.bind.parse::<SocketAddr>().map_err(|_| {
            bad(
                "BIND",
                format!("must be an address like 127.0.0.1:8080, got {:?}", cli.bind),
            )
        })?;
        let database_url = cli.database_url.trim().to_owned();
        if !["postgres://", "postgresql://", "sqlite:"]
            .iter()
            .any(|p| database_url.starts_with(p))
        {
            return Err(bad(
                "DATABASE_URL",
                "must start with postgres://, postgresql:// or sqlite:",
            ));
        }
        let redis_url = non_empty(cli.redis_url);
        if let Some(url) = &redis_url {
            if !url.starts_with("redis://") && !url.starts_with("rediss://") {
                return Err(bad("REDIS_URL", "must start with redis:// or rediss://"));
            }
        }
        let bot_token = non_empty(cli.bot_token);
        if let Some(token) = &bot_token {
            let ok = token.split_once(':').is_some_and(|(id, secret)| {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && !secret.is_empty()
                    && secret
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
            if !ok {
                return Err(bad(
                    "BOT_TOKEN",
                    "must look like 123456:ABC-def_ghi (as BotFather gives it)",
                ));
            }
        }
        let telegram_api_url = http_url("TELEGRAM_API_URL", &cli.telegram_api_url)?;
        let webapp_url = http_url("WEBAPP_URL", &cli.webapp_url)?;
        let bot_username = non_empty(cli.bot_username)
            .map(|u| u.trim_start_matches('@').to_owned())
            .map(|u| {
                let ok = (5..=32).contains(&u.len())
                    && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                if ok {
                    Ok(u)
                } else {
                    Err(bad(
                        "BOT_USERNAME",
                        "must be the bot's username: 5 to 32 of A-Z, a-z, 0-9 and _",
                    ))
                }
            })
            .transpose()?;
        let webhook_url = non_empty(cli.webhook_url)
            .map(|u| http_url("WEBHOOK_URL", &u))
            .transpose()?;
        let webhook_secret = non_empty(cli.webhook_secret);
        if let Some(s) = &webhook_secret {
            if s.len() > 256
                || !s
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(bad(
                    "WEBHOOK_SECRET",
                    "must be 1 to 256 characters of A-Z, a-z, 0-9, _ and -",
                ));
            }
        }
        let admin_ids = cli
            .admin_ids
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.parse::<i64>()
                    .ok()
                    .filter(|id| *id > 0)
                    .ok_or_else(|| bad("ADMIN_IDS", format!("{s:?} is not a Telegram user id")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let game = match &cli.game_config {
            Some(path) => GameConfig::load(path).map_err(|e| bad("GAME_CONFIG", e.0))?,
            None => GameConfig::default(),
        };
        let warehouse_url = cli.warehouse_url.trim().to_owned();
        let warehouse_s3 = worker::objects::S3Settings {
            region: non_empty(cli.aws_region.clone())
                .map(|r| r.trim().to_owned())
                .unwrap_or_default(),
            endpoint: match non_empty(cli.warehouse_s3_endpoint.clone()) {
                Some(e) => Some(http_url("WAREHOUSE_S3_ENDPOINT", &e)?),
                None => None,
            },
            credentials: None,
        };
        worker::objects::Objects::from_url(&warehouse_url, &warehouse_s3)
            .map_err(|e| bad("WAREHOUSE_URL", e.0))?;
        let init_data_max_age = cli
            .init_data_max_age
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                bad(
                    "INIT_DATA_MAX_AGE",
                    format!(
                        "must be a positive number of seconds, got {:?}",
                        cli.init_data_max_age
                    ),
                )
            })?;
        let trusted_proxies = cli
            .trusted_proxies
            .trim()
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= 16)
            .ok_or_else(|| {
                bad(
                    "TRUSTED_PROXIES",
                    format!(
                        "must be a number from 0 to 16, got {:?}",
                        cli.trusted_proxies
                    ),
                )
            })?;
        let log_format = match non_empty(cli.log_format).as_deref() {
            None => {
                if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                    LogFormat::Pretty
                } else {
                    LogFormat::Json
                }
            }
            Some("pretty") => LogFormat::Pretty,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(bad(
                    "LOG_FORMAT",
                    format!("must be pretty or json, got {other:?}"),
                ))
            }
        };
        let db_max_connections = cli
            .db_max_connections
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| {
                bad(
                    "DB_MAX_CONNECTIONS",
                    format!(
                        "must be a number from 1 to 1000, got {:?}",
                        cli.db_max_connections
                    ),
                )
            })?;
        if webhook_url.is_some() && webhook_secret.is_none() {
            return Err(bad(
                "WEBHOOK_SECRET",
                "is required in webhook mode (WEBHOOK_URL is set)",
            ));
        }
        if let Some(url) = &webhook_url {
            bot::webhook_path(url).map_err(|e| match e {
                bot::LaunchError::Invalid { var, problem } => bad(var, problem),
            })?;
        }
        if cli.command == Command::Bot && bot_token.is_none() {
            return Err(bad("BOT_TOKEN", "is required by `tapwave bot`"));
        }
        let payout = match cli.payout_adapter.trim() {
            "export" => Payout::Export,
            "toncenter" => {
                let secret = non_empty(cli.payout_wallet_secret)
                    .and_then(|h| hex::decode(h.trim()).ok())
                    .and_then(|b| <[u8; 32]>::try_from(b).ok())
                    .ok_or_else(|| {
                        bad(
                            "PAYOUT_WALLET_SECRET",
                            "must be the hot wallet's 32-byte secret key as 64 hex digits",
                        )
                    })?;
                Payout::Toncenter {
                    url: http_url("TONCENTER_URL", &cli.toncenter_url)?,
                    api_key: non_empty(cli.toncenter_api_key),
                    secret,
                }
            }
            other => {
                return Err(bad(
                    "PAYOUT_ADAPTER",
                    format!("must be export or toncenter, got {other:?}"),
                ))
            }
        };
        let broadcast_paid = match cli.broadcast_paid.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" | "" => false,
            other => {
                return Err(bad(
                    "BROADCAST_PAID",
                    format!("must be true or false, got {other:?}"),
                ))
            }
        };
        let rate_ceiling = if broadcast_paid { 1000 } else { 30 };
        let broadcast_rate = cli
            .broadcast_rate
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=rate_ceiling).contains(n))
            .ok_or_else(|| {
                bad(
                    "BROADCAST_RATE",
                    format!(
                        "must be a number of messages per second from 1 to {rate_ceiling}{}, got {:?}",
                        if broadcast_paid { "" } else { " (up to 1000 with BROADCAST_PAID=true)" },
                        cli.broadcast_rate
                    ),
                )
            })?;
        Ok(Config {
            command: cli.command,
            bind,
            database_url,
            redis_url,
            redis_key_prefix: cli.redis_key_prefix,
            bot_token,
            telegram_api_url,
            webapp_url,
            bot_username,
            webhook_url,
            webhook_secret,
            admin_ids,
            game,
            warehouse_url,
            warehouse_s3,
            init_data_max_age,
            trusted_proxies,
            log_format,
            db_max_connections,
            payout,
            broadcast_rate,
            broadcast_paid,
        })
    }

    /// A configuration for `command` with every default, as on a fresh machine.
    pub fn defaults(command: Command) -> Config {
        let cli = Cli::parse_from(["tapwave", "serve"]);
        Config::from_cli(Cli { command, ..cli }).expect("defaults are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, ConfigError> {
        let mut all = vec!["tapwave", "serve"];
        all.extend_from_slice(args);
        Config::from_cli(Cli::try_parse_from(all).unwrap())
    }

    #[test]
    fn bad_values_name_their_variable() {
        assert_eq!(parse(&["--bind", "nowhere"]).unwrap_err().var, "BIND");
        assert_eq!(
            parse(&["--database-url", "mysql://x"]).unwrap_err().var,
            "DATABASE_URL"
        );
        assert_eq!(
            parse(&["--redis-url", "http://x"]).unwrap_err().var,
            "REDIS_URL"
        );
        assert_eq!(
            parse(&["--bot-username", "a b"]).unwrap_err().var,
            "BOT_USERNAME"
        );
        assert_eq!(
            parse(&["--bot-username", "@tapwave_bot"])
                .unwrap()
                .bot_username
                .as_deref(),
            Some("tapwave_bot")
        );
        assert_eq!(
            parse(&["--bot-token", "nope"]).unwrap_err().var,
            "BOT_TOKEN"
        );
        assert_eq!(
            parse(&["--webhook-secret", "has space"]).unwrap_err().var,
            "WEBHOOK_SECRET"
        );
        assert_eq!(parse(&["--admin-ids", "1,x"]).unwrap_err().var, "ADMIN_IDS");
        assert_eq!(
            parse(&["--init-data-max-age=-5"]).unwrap_err().var,
            "INIT_DATA_MAX_AGE"
        );
        assert_eq!(
            parse(&["--trusted-proxies", "many"]).unwrap_err().var,
            "TRUSTED_PROXIES"
        );
        assert_eq!(
            parse(&["--log-format", "xml"]).unwrap_err().var,
            "LOG_FORMAT"
        );
        assert_eq!(
            parse(&["--game-config", "/nonexistent.toml"])
                .unwrap_err()
                .var,
            "GAME_CONFIG"
        );
        assert_eq!(
            parse(&["--webapp-url", "ftp://x"]).unwrap_err().var,
            "WEBAPP_URL"
        );
        assert_eq!(
            parse(&["--webhook-url", "https://x/telegram/webhook"])
                .unwrap_err()
                .var,
            "WEBHOOK_SECRET"
        );
        assert_eq!(
            parse(&["--webhook-url", "https://x/", "--webhook-secret", "s3cret"])
                .unwrap_err()
                .var,
            "WEBHOOK_URL"
        );
        assert_eq!(
            parse(&["--broadcast-rate", "31"]).unwrap_err().var,
            "BROADCAST_RATE"
        );
        assert_eq!(
            parse(&["--broadcast-paid", "maybe"]).unwrap_err().var,
            "BROADCAST_PAID"
        );
        let paid = parse(&["--broadcast-rate", "1000", "--broadcast-paid", "true"]).unwrap();
        assert_eq!((paid.broadcast_rate, paid.broadcast_paid), (1000, true));
        let bot = Cli::try_parse_from(["tapwave", "bot"]).unwrap();
        assert_eq!(Config::from_cli(bot).unwrap_err().var, "BOT_TOKEN");
    }

    #[test]
    fn defaults_are_the_embedded_game() {
        let c = Config::defaults(Command::Serve);
        assert_eq!(c.bind.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://tapwave.db?mode=rwc");
        assert!(c.redis_url.is_none() && c.bot_token.is_none());
        assert_eq!(c.admin_ids, Vec::<i64>::new());
        let c = parse(&["--admin-ids", " 5, 7 ", "--bot-token", "123:abc_DEF-1"]).unwrap();
        assert_eq!(c.admin_ids, vec![5, 7]);
    }
}
