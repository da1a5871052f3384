//! Many players at once, written straight to the database, for tests and benchmarks that need a
//! populated game.

use entities::{ledger, player};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel};

/// The first id of the crowd: player `i` is `FIRST + i`.
pub const FIRST: i64 = 1_000_000;

/// Adds `n` players copied from `template`: player `FIRST + i`, invited by `referrer(i)`, has a
/// balance and coins ever earned of `51 + i` (row version 3), from two `taps` ledger rows: 50
/// coins a minute before `monday` (last week) and `i + 1` a minute after it (this week).
pub async fn populate(
    db: &DatabaseConnection,
    template: &player::Model,
    n: i64,
    monday: i64,
    referrer: impl Fn(i64) -> Option<i64>,
) -> Result<(), DbErr> {
    for start in (0..n).step_by(1_000) {
        let ids = start..(start + 1_000).min(n);
        let players = ids.clone().map(|i| {
            let mut p = template.clone().into_active_model();
            p.id = Set(FIRST + i);
            p.balance = Set(51 + i);
            p.total_earned = Set(51 + i);
            p.version = Set(3);
            p.referrer_id = Set(referrer(i));
            p
        });
        player::Entity::insert_many(players)
            .exec_without_returning(db)
            .await?;
        let rows = ids.flat_map(|i| {
            let row = |amount: i64, at: i64, reference: &str| ledger::ActiveModel {
                player_id: Set(FIRST + i),
                amount: Set(amount),
                kind: Set("taps".to_owned()),
                reference: Set(reference.to_owned()),
                balance_after: Set(amount),
                created_at: Set(at),
                ..Default::default()
            };
            [
                row(50, monday - 60_000, "1"),
                row(i + 1, monday + 60_000, "2"),
            ]
        });
        ledger::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}
