//! Games on fresh stores with many players, for the benchmarks that need a populated database.

use anyhow::Context;
use entities::player;
use game::{Game, InitDataKey, ManualClock, Settings, TelegramUser};
use sea_orm::{ConnectionTrait, EntityTrait};
use std::sync::Arc;

/// Monday 2026-12-07 00:00 UTC; the games' clocks stand an hour later.
pub const MONDAY: i64 = 1_796_601_600_000;

/// A fresh database: PostgreSQL (made now; drop it with [`drop_database`]) or a SQLite file in
/// `work`. Returns its URL with the migrations applied.
pub async fn fresh_database(
    postgres: Option<&str>,
    work: &std::path::Path,
    tag: &str,
) -> anyhow::Result<String> {
    let url = match postgres {
        Some(server) => {
            let admin = game::store::db::connect(server, 1).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE tapwave_bench_{tag}"))
                .await?;
            admin.close().await.ok();
            let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
            format!("{base}/tapwave_bench_{tag}")
        }
        None => {
            std::fs::create_dir_all(work)?;
            format!("sqlite://{}/{tag}.db?mode=rwc", work.display())
        }
    };
    let db = game::store::db::connect(&url, 2).await?;
    migrations::apply_pending(&db).await?;
    db.close().await.ok();
    Ok(url)
}

/// Drops the PostgreSQL database [`fresh_database`] made under `tag`.
pub async fn drop_database(postgres: &str, tag: &str) -> anyhow::Result<()> {
    let admin = game::store::db::connect(postgres, 1).await?;
    admin
        .execute_unprepared(&format!(
            "DROP DATABASE IF EXISTS tapwave_bench_{tag} WITH (FORCE)"
        ))
        .await?;
    admin.close().await.ok();
    Ok(())
}

pub fn settings(url: &str, redis: Option<&str>, prefix: &str) -> anyhow::Result<Settings> {
    Ok(Settings {
        database_url: url.to_owned(),
        redis_url: redis.map(str::to_owned),
        redis_prefix: prefix.to_owned(),
        init_key: InitDataKey::for_bot_token("424242:fillbench"),
        init_data_max_age: 86_400,
        game: game::GameConfig::parse("")?,
        db_max_connections: 8,
    })
}

pub async fn open(url: &str, redis: Option<&str>, prefix: &str) -> anyhow::Result<Game> {
    let clock = Arc::new(ManualClock::new(MONDAY + 3_600_000));
    Ok(Game::open(&settings(url, redis, prefix)?, clock).await?)
}

/// Player `i` (ids from 1,000,000; `referrer(i)` invited them) has 50 coins of last week and
/// `i + 1` of this week. Player 1 is made first, with no coins.
pub async fn fill_database(
    game: &Game,
    n: i64,
    referrer: impl Fn(i64) -> Option<i64>,
) -> anyhow::Result<()> {
    let user = TelegramUser {
        id: 1,
        first_name: "Template".to_owned(),
        last_name: None,
        username: None,
        language_code: None,
        is_premium: false,
    };
    game.start_player(&user, None).await?;
    let template = player::Entity::find_by_id(1_i64)
        .one(game.db())
        .await?
        .context("the template player")?;
    testkit::crowd::populate(game.db(), &template, n, MONDAY, referrer).await?;
    Ok(())
}
