//! The economy's services: upgrade cards, passive income and the daily streak.
//!
//! Each service reads the player's row, runs a pure rule from [`crate::rules`] with the server's
//! `now`, and writes the result in one transaction: a compare-and-swap on `players.version`
//! (`UPDATE … WHERE id = ? AND version = ?`) that carries the new balance, and ledger rows whose
//! `(player, kind, reference)` is unique — an upgrade level (`<card>:<level>`) is paid once, a
//! daily reward once per UTC day (`<day>`), a stretch of passive income once (`<until>`). When
//! another change got to the row first the update matches nothing, everything rolls back and the
//! service starts again from the fresh row, so no interleaving spends or credits coins twice.
//! Passive income is credited on the player's next visit (`GET /me`) and before a purchase.

use crate::claims::utc_day;
use crate::config::UpgradeConfig;
use crate::players::PlayerView;
use crate::rules::{self, AlreadyClaimed};
use crate::{Game, GameError};
use entities::{ledger, player, player_upgrade};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseTransaction, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, SqlErr, TransactionTrait,
};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Duration;

/// Attempts at a compare-and-swap before answering "contended".
pub(crate) const MAX_ATTEMPTS: u32 = 200;
/// Friends listed by `GET /referrals` at most.
const MAX_FRIENDS: u64 = 100;

/// Why an economy action was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EconomyError {
    /// No upgrade card by that id in the game file.
    #[error("there is no such upgrade")]
    UnknownUpgrade,
    /// The card is at its highest level.
    #[error("this upgrade is at its highest level")]
    MaxLevel,
    /// Not enough coins.
    #[error("the balance is too low for this upgrade")]
    InsufficientBalance,
    /// Today's daily reward was claimed already.
    #[error("today's reward is already claimed; come back tomorrow")]
    AlreadyClaimed,
    /// No boost by that id.
    #[error("there is no such boost")]
    UnknownBoost,
    /// Today's free refills are used up.
    #[error("today's free energy refills are used up; more come tomorrow")]
    NoRefillsLeft,
    /// No task by that id in the game file.
    #[error("there is no such task")]
    UnknownTask,
    /// The channel's members cannot be read (the bot is not an administrator there, or no bot).
    #[error(
        "this channel cannot be checked right now; the game's bot must be an administrator of it"
    )]
    ChannelUncheckable,
    /// Telegram could not be reached to check a channel.
    #[error("Telegram cannot be reached to check the channel; try again in a moment")]
    TelegramUnreachable,
    /// The game file has no daily combo.
    #[error("this game has no daily combo")]
    ComboOff,
    /// Not every card of today's combo was bought today.
    #[error("buy a level of every card of today's combo first")]
    ComboIncomplete,
    /// The game file has no daily cipher.
    #[error("this game has no daily cipher")]
    CipherOff,
    /// A guess that cannot be a word.
    #[error("a guess is 1 to 16 letters A-Z or digits")]
    InvalidWord,
    /// The wrong word.
    #[error("that is not today's word; {attempts_left} guesses left today")]
    WrongWord {
        /// Guesses left today.
        attempts_left: i64,
    },
    /// Today's guesses are used up.
    #[error("today's guesses are used up; a new word comes tomorrow")]
    NoAttemptsLeft {
        /// Seconds until the next UTC day.
        retry_after_secs: u64,
    },
}

/// One upgrade card as a player sees it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct UpgradeView {
    /// The card's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The tab it belongs to.
    pub category: String,
    /// The player's level (0: not bought).
    pub level: i64,
    /// Highest level.
    pub max_level: i64,
    /// Cost of the next level; `null` at the highest level.
    pub next_cost: Option<i64>,
    /// Income per hour the card brings now.
    pub income_per_hour: i64,
    /// Income per hour it would bring at the next level; `null` at the highest level.
    pub next_income_per_hour: Option<i64>,
}

/// The answer to a daily claim.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct DailyView {
    /// The day of the streak (1 on the first claim, and after a missed day).
    pub day: i64,
    /// Coins credited.
    pub reward: i64,
    /// Balance after.
    pub balance: i64,
}

/// A friend the player invited.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct FriendView {
    /// Telegram id.
    pub id: i64,
    /// Display name.
    pub name: String,
    /// Coins the player earned from this friend.
    pub earned: i64,
}

/// The player's referrals.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ReferralsView {
    /// The invite link (`https://t.me/<bot>?start=ref_<id>`, or the bare `ref_<id>` start payload
    /// when the bot's username is not configured).
    pub link: String,
    /// Friends invited.
    pub count: u64,
    /// Coins earned from referrals: bonuses and shares collected.
    pub earned: i64,
    /// Coins from friends' earnings ready to collect (`POST /api/v1/referrals/collect`).
    pub share_due: i64,
    /// The first friends, oldest first.
    pub friends: Vec<FriendView>,
}

/// Waits a little, longer with each attempt, so that contenders for one player spread out.
pub(crate) async fn back_off(attempt: u32) {
    let jitter = rand::random::<u64>() % (1 + u64::from(attempt.min(6)) * 2);
    tokio::time::sleep(Duration::from_millis(jitter)).await;
}

/// The ledger kinds that count as coins earned (`total_earned`, leagues, the weekly board).
/// Spending (`upgrade`, boosts, `claim`), refunds of claims and admin grants do not.
pub const EARNING_KINDS: &[&str] = &[
    "taps", "passive", "daily", "task", "combo", "cipher", "welcome", "referral", "share",
];

pub(crate) fn ledger_row(
    player: i64,
    amount: i64,
    kind: &str,
    reference: String,
    balance_after: i64,
    now: i64,
) -> ledger::ActiveModel {
    ledger::ActiveModel {
        player_id: Set(player),
        amount: Set(amount),
        kind: Set(kind.to_owned()),
        reference: Set(reference),
        balance_after: Set(balance_after),
        created_at: Set(now),
        ..Default::default()
    }
}

/// How [`Game::swap_with_ledger`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Swap {
    /// Committed.
    Done,
    /// Another change got to the row first: read it again and decide again.
    Moved,
    /// The ledger already holds this player's row of that kind and reference: it was paid.
    Duplicate,
}

pub(crate) fn is_unique_violation(e: &GameError) -> bool {
    matches!(e, GameError::Database(db) if matches!(db.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))))
}

impl Game {
    fn upgrade(&self, id: &str) -> Result<&UpgradeConfig, GameError> {
        self.config()
            .upgrades
            .iter()
            .find(|u| u.id == id)
            .ok_or_else(|| EconomyError::UnknownUpgrade.into())
    }

    async fn upgrade_levels(&self, player: i64) -> Result<HashMap<String, i64>, GameError> {
        Ok(player_upgrade::Entity::find()
            .filter(player_upgrade::Column::PlayerId.eq(player))
            .all(self.db())
            .await?
            .into_iter()
            .map(|u| (u.upgrade_id, u.level))
            .collect())
    }

    /// Passive income per hour of a player with these card levels (cards no longer in the game
    /// file bring nothing).
    fn passive_of(&self, levels: &HashMap<String, i64>) -> i64 {
        self.config().upgrades.iter().fold(0i64, |sum, card| {
            let level = levels.get(&card.id).copied().unwrap_or(0);
            sum.saturating_add(rules::upgrade_income(card, level))
        })
    }

    /// Writes `next` over the row at `version` (balance, earnings, passive income, streak, energy,
    /// tap power and boosts) inside `txn`. Returns false when another change got there first.
    pub(crate) async fn swap_player(
        &self,
        txn: &DatabaseTransaction,
        version: i64,
        next: &player::Model,
    ) -> Result<bool, GameError> {
        let updated = player::Entity::update_many()
            .col_expr(player::Column::Balance, Expr::value(next.balance))
            .col_expr(player::Column::TotalEarned, Expr::value(next.total_earned))
            .col_expr(
                player::Column::PassivePerHour,
                Expr::value(next.passive_per_hour),
            )
            .col_expr(player::Column::PassiveAt, Expr::value(next.passive_at))
            .col_expr(player::Column::DailyStreak, Expr::value(next.daily_streak))
            .col_expr(player::Column::DailyDay, Expr::value(next.daily_day))
            .col_expr(player::Column::EnergyMilli, Expr::value(next.energy_milli))
            .col_expr(player::Column::EnergyAt, Expr::value(next.energy_at))
            .col_expr(player::Column::MaxEnergy, Expr::value(next.max_energy))
            .col_expr(player::Column::TapPower, Expr::value(next.tap_power))
            .col_expr(
                player::Column::MultitapLevel,
                Expr::value(next.multitap_level),
            )
            .col_expr(
                player::Column::EnergyLimitLevel,
                Expr::value(next.energy_limit_level),
            )
            .col_expr(player::Column::RefillsDay, Expr::value(next.refills_day))
            .col_expr(player::Column::RefillsUsed, Expr::value(next.refills_used))
            .col_expr(player::Column::Version, Expr::value(version + 1))
            .col_expr(player::Column::UpdatedAt, Expr::value(next.updated_at))
            .filter(player::Column::Id.eq(next.id))
            .filter(player::Column::Version.eq(version))
            .filter(player::Column::Banned.eq(false))
            .exec(txn)
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Writes `next` over the player's row at `version` and adds the ledger row `row`, in one
    /// transaction (behind the SQLite writer): both or neither.
    pub(crate) async fn swap_with_ledger(
        &self,
        version: i64,
        next: &player::Model,
        row: ledger::ActiveModel,
    ) -> Result<Swap, GameError> {
        let _writer = self.sqlite_writer().await;
        let txn = self.db().begin().await?;
        if !self.swap_player(&txn, version, next).await? {
            txn.rollback().await?;
            return Ok(Swap::Moved);
        }
        let inserted = ledger::Entity::insert(row)
            .exec_without_returning(&txn)
            .await
            .map_err(GameError::from);
        if let Err(e) = inserted {
            txn.rollback().await?;
            return if is_unique_violation(&e) {
                Ok(Swap::Duplicate)
            } else {
                Err(e)
            };
        }
        txn.commit().await?;
        Ok(Swap::Done)
    }

    pub(crate) async fn after_commit(&self, p: &player::Model) {
        if let Err(e) = self.board_record(p.id, p.version, p.balance).await {
            // The database has the truth; the next change records the newer balance.
            tracing::warn!(error = %e, player = p.id, "leaderboard update failed");
        }
        self.week_record(p.id, p.version, p.total_earned).await;
    }

    /// Credits the passive income due to the player now, once however many visits race. Returns
    /// the player's row after it and the coins credited by this call.
    pub(crate) async fn collect_passive(&self, id: i64) -> Result<(player::Model, i64), GameError> {
        let cap = self.config().passive.cap_hours;
        for attempt in 0..MAX_ATTEMPTS {
            let p = self.playing(id).await?;
            let now = self.now_ms();
            let (coins, until) = rules::passive_due(p.passive_per_hour, p.passive_at, now, cap);
            if coins == 0 {
                return Ok((p, 0));
            }
            let next = player::Model {
                balance: p.balance + coins,
                total_earned: p.total_earned.saturating_add(coins),
                passive_at: until,
                version: p.version + 1,
                updated_at: now,
                ..p.clone()
            };
            let row = ledger_row(id, coins, "passive", until.to_string(), next.balance, now);
            if self.swap_with_ledger(p.version, &next, row).await? != Swap::Done {
                // Another visit credited it: read the row again.
                back_off(attempt).await;
                continue;
            }
            metrics::counter!("passive_coins_total").increment(coins as u64);
            self.after_commit(&next).await;
            return Ok((next, coins));
        }
        Err(GameError::Contended)
    }

    /// The upgrade cards with the player's levels, in the game file's order.
    pub async fn upgrades(&self, id: i64) -> Result<Vec<UpgradeView>, GameError> {
        self.playing(id).await?;
        let levels = self.upgrade_levels(id).await?;
        Ok(self
            .config()
            .upgrades
            .iter()
            .map(|card| {
                let level = levels.get(&card.id).copied().unwrap_or(0);
                let more = level < card.max_level;
                UpgradeView {
                    id: card.id.clone(),
                    name: card.name.clone(),
                    category: card.category.clone(),
                    level,
                    max_level: card.max_level,
                    next_cost: more.then(|| rules::upgrade_cost(card, level)),
                    income_per_hour: rules::upgrade_income(card, level),
                    next_income_per_hour: more.then(|| rules::upgrade_income(card, level + 1)),
                }
            })
            .collect())
    }

    /// Buys the next level of card `upgrade` (see the module header): the passive income due is
    /// credited first, then the exact cost of the level read is debited, the level rises by one
    /// and the player's passive income follows. Returns the player's state after.
    pub async fn buy_upgrade(&self, id: i64, upgrade: &str) -> Result<PlayerView, GameError> {
        let card = self.upgrade(upgrade)?.clone();
        let cap = self.config().passive.cap_hours;
        for attempt in 0..MAX_ATTEMPTS {
            let p = self.playing(id).await?;
            let mut levels = self.upgrade_levels(id).await?;
            let now = self.now_ms();
            let level = levels.get(&card.id).copied().unwrap_or(0);
            if level >= card.max_level {
                return Err(EconomyError::MaxLevel.into());
            }
            let cost = rules::upgrade_cost(&card, level);
            let (passive, _) = rules::passive_due(p.passive_per_hour, p.passive_at, now, cap);
            let funds = p.balance + passive;
            if funds < cost {
                return Err(EconomyError::InsufficientBalance.into());
            }
            levels.insert(card.id.clone(), level + 1);
            let next = player::Model {
                balance: funds - cost,
                total_earned: p.total_earned.saturating_add(passive),
                passive_per_hour: self.passive_of(&levels),
                passive_at: now.max(p.passive_at),
                version: p.version + 1,
                updated_at: now,
                ..p.clone()
            };
            let _writer = self.sqlite_writer().await;
            let txn = self.db().begin().await?;
            match self
                .buy_in(&txn, &p, &next, &card.id, level, passive, cost)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    txn.rollback().await?;
                    drop(_writer);
                    back_off(attempt).await;
                    continue;
                }
                Err(e) => {
                    txn.rollback().await?;
                    return Err(e);
                }
            }
            txn.commit().await?;
            drop(_writer);
            metrics::counter!("upgrades_bought_total").increment(1);
            self.after_commit(&next).await;
            return Ok(self.view_of(next, now, passive));
        }
        Err(GameError::Contended)
    }

    /// The purchase's writes inside `txn`; false when the row or the level moved meanwhile.
    #[allow(clippy::too_many_arguments)]
    async fn buy_in(
        &self,
        txn: &DatabaseTransaction,
        p: &player::Model,
        next: &player::Model,
        card: &str,
        level: i64,
        passive: i64,
        cost: i64,
    ) -> Result<bool, GameError> {
        if !self.swap_player(txn, p.version, next).await? {
            return Ok(false);
        }
        let now = next.updated_at;
        if passive > 0 {
            let row = ledger_row(
                p.id,
                passive,
                "passive",
                next.passive_at.to_string(),
                p.balance + passive,
                now,
            );
            ledger::Entity::insert(row)
                .exec_without_returning(txn)
                .await?;
        }
        let reference = format!("{card}:{}", level + 1);
        ledger::Entity::insert(ledger_row(
            p.id,
            -cost,
            "upgrade",
            reference,
            next.balance,
            now,
        ))
        .exec_without_returning(txn)
        .await?;
        if level == 0 {
            player_upgrade::Entity::insert(player_upgrade::ActiveModel {
                player_id: Set(p.id),
                upgrade_id: Set(card.to_owned()),
                level: Set(1),
                updated_at: Set(now),
            })
            .exec_without_returning(txn)
            .await?;
            return Ok(true);
        }
        let raised = player_upgrade::Entity::update_many()
            .col_expr(player_upgrade::Column::Level, Expr::value(level + 1))
            .col_expr(player_upgrade::Column::UpdatedAt, Expr::value(now))
            .filter(player_upgrade::Column::PlayerId.eq(p.id))
            .filter(player_upgrade::Column::UpgradeId.eq(card))
            .filter(player_upgrade::Column::Level.eq(level))
            .exec(txn)
            .await?;
        Ok(raised.rows_affected == 1)
    }

    /// Claims today's daily reward (UTC days): the streak goes on from yesterday or starts again.
    pub async fn claim_daily(&self, id: i64) -> Result<DailyView, GameError> {
        for attempt in 0..MAX_ATTEMPTS {
            let p = self.playing(id).await?;
            let now = self.now_ms();
            let today = utc_day(now);
            let (day, reward) = rules::daily_claim(
                p.daily_streak,
                p.daily_day,
                today,
                &self.config().daily.rewards,
            )
            .map_err(|AlreadyClaimed| EconomyError::AlreadyClaimed)?;
            let next = player::Model {
                balance: p.balance + reward,
                total_earned: p.total_earned.saturating_add(reward),
                daily_streak: day,
                daily_day: Some(today),
                version: p.version + 1,
                updated_at: now,
                ..p.clone()
            };
            let row = ledger_row(id, reward, "daily", today.to_string(), next.balance, now);
            match self.swap_with_ledger(p.version, &next, row).await? {
                Swap::Done => {}
                Swap::Moved => {
                    back_off(attempt).await;
                    continue;
                }
                Swap::Duplicate => return Err(EconomyError::AlreadyClaimed.into()),
            }
            metrics::counter!("daily_rewards_total").increment(1);
            self.after_commit(&next).await;
            return Ok(DailyView {
                day,
                reward,
                balance: next.balance,
            });
        }
        Err(GameError::Contended)
    }

    /// The player's invite link, friends and referral earnings. `bot_username` makes the link a
    /// `t.me` deep link; without it the link is the bare start payload.
    pub async fn referrals(
        &self,
        id: i64,
        bot_username: Option<&str>,
    ) -> Result<ReferralsView, GameError> {
        self.playing(id).await?;
        let payload = format!("ref_{id}");
        let link = match bot_username {
            Some(bot) => format!("https://t.me/{bot}?start={payload}"),
            None => payload,
        };
        let friends = player::Entity::find().filter(player::Column::ReferrerId.eq(id));
        let count = friends.clone().count(self.db()).await?;
        let friends = friends
            .order_by_asc(player::Column::CreatedAt)
            .order_by_asc(player::Column::Id)
            .limit(MAX_FRIENDS)
            .all(self.db())
            .await?;
        // Referral bonuses are the ledger rows `referral`, referenced `friend:<id>`.
        let bonuses: HashMap<String, i64> = ledger::Entity::find()
            .select_only()
            .column(ledger::Column::Reference)
            .column(ledger::Column::Amount)
            .filter(ledger::Column::PlayerId.eq(id))
            .filter(ledger::Column::Kind.eq("referral"))
            .into_tuple::<(String, i64)>()
            .all(self.db())
            .await?
            .into_iter()
            .collect();
        let shares = self.shares_collected(id).await?;
        let earned = bonuses.values().sum::<i64>() + shares.values().sum::<i64>();
        Ok(ReferralsView {
            link,
            count,
            earned,
            share_due: self.share_due(id, &shares).await?,
            friends: friends
                .iter()
                .map(|f| FriendView {
                    id: f.id,
                    name: crate::players::display_name(f),
                    earned: bonuses
                        .get(&format!("friend:{}", f.id))
                        .copied()
                        .unwrap_or(0)
                        + shares.get(&f.id).copied().unwrap_or(0),
                })
                .collect(),
        })
    }
}
