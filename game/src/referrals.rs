//! Players arriving through the bot: `/start` with or without a referral, friends, standing.
//!
//! The bot's `/start` creates the player exactly as the Mini App's sign-in does
//! ([`Game::upsert_player`]) and then binds the referral with one conditional update —
//! `referrer_id IS NULL AND created_at = <this start>` — so a referral binds once, only to a
//! player this very start created, never to oneself, and only to a referrer who exists. Two
//! concurrent starts of one new player cannot bind twice: the second update matches no row.
//!
//! The Mini App's sign-in binds the same way from the signed `start_param` of its init data
//! (`ref_<id>`, carried by a `t.me/<bot>/<app>?startapp=ref_<id>` link): [`Game::authenticate`]
//! goes through `sign_in_player`, which binds only when that sign-in created the player; an
//! unknown or own id binds nothing.
//!
//! A referred friend becomes active on their first visit (`GET /me`, or the bot's `/balance`):
//! then both the friend and the referrer get `referrals.bonus` (`premium_bonus` for a Telegram
//! Premium friend) in one transaction — a compare-and-swap on each player's row version and two
//! ledger rows, `referral` for the referrer and `welcome` for the friend, both with the reference
//! `friend:<friend id>`, unique per player and kind, so each friend pays once. A banned referrer
//! holds the bonus back until they are unbanned.

use crate::economy::{back_off, is_unique_violation, ledger_row, MAX_ATTEMPTS};
use crate::{Game, GameError, TelegramUser};
use entities::{ledger, player, unreachable_player};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};

/// What `/start` did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Started {
    /// The player did not exist before this start.
    pub new: bool,
    /// The referrer bound by this start, if any.
    pub referrer: Option<i64>,
    /// The player is banned.
    pub banned: bool,
}

/// Where a Telegram user stands with the game.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Never started the bot nor opened the Mini App.
    Unknown,
    /// A player in good standing.
    Playing,
    /// Banned by an admin.
    Banned,
}

/// Reads `ref_<telegram id>` from a `/start` payload; anything else is no referral.
pub fn parse_referral(payload: &str) -> Option<i64> {
    payload
        .trim()
        .strip_prefix("ref_")
        .and_then(|id| id.parse::<i64>().ok())
        .filter(|id| *id > 0)
}

impl Game {
    /// Creates or refreshes the player behind a `/start`, binding `referral` if this start created
    /// the player (see the module header). A player who starts the bot is reachable again.
    pub async fn start_player(
        &self,
        user: &TelegramUser,
        referral: Option<i64>,
    ) -> Result<Started, GameError> {
        let db = &self.inner.db;
        let existed = player::Entity::find_by_id(user.id).one(db).await?;
        let now = self.now_ms();
        self.upsert_player(user, now).await?;
        {
            let _writer = self.sqlite_writer().await;
            unreachable_player::Entity::delete_by_id(user.id)
                .exec(db)
                .await?;
        }
        let banned = existed.as_ref().is_some_and(|p| p.banned);
        let bound = match referral {
            Some(referrer) if existed.is_none() => {
                self.bind_referral(user.id, referrer, now).await?
            }
            _ => None,
        };
        Ok(Started {
            new: existed.is_none(),
            referrer: bound,
            banned,
        })
    }

    /// Creates or refreshes the player behind the Mini App's init data, binding the referral of
    /// its signed `start_param` (`ref_<id>`) exactly as `/start` does: only if this sign-in created
    /// the player (see the module header).
    pub(crate) async fn sign_in_player(
        &self,
        user: &TelegramUser,
        start_param: Option<&str>,
        now: i64,
    ) -> Result<(), GameError> {
        let referral = start_param.and_then(parse_referral);
        // Only init data that carries a referral pays for the extra read.
        let existed = match referral {
            Some(_) => player::Entity::find_by_id(user.id)
                .one(self.db())
                .await?
                .is_some(),
            None => true,
        };
        self.upsert_player(user, now).await?;
        if let Some(referrer) = referral.filter(|_| !existed) {
            self.bind_referral(user.id, referrer, now).await?;
        }
        Ok(())
    }

    /// Binds `referrer` to the player `id` created at `created_at`, if the referrer is someone
    /// else who exists and the player has none yet; returns the referrer bound.
    async fn bind_referral(
        &self,
        id: i64,
        referrer: i64,
        created_at: i64,
    ) -> Result<Option<i64>, GameError> {
        if referrer == id
            || player::Entity::find_by_id(referrer)
                .one(self.db())
                .await?
                .is_none()
        {
            return Ok(None);
        }
        let _writer = self.sqlite_writer().await;
        let updated = player::Entity::update_many()
            .col_expr(player::Column::ReferrerId, Expr::value(referrer))
            .filter(player::Column::Id.eq(id))
            .filter(player::Column::ReferrerId.is_null())
            .filter(player::Column::CreatedAt.eq(created_at))
            .exec(self.db())
            .await?;
        Ok((updated.rows_affected == 1).then_some(referrer))
    }

    /// Pays the bonus of `friend` becoming active, to them and their referrer, once (see the
    /// module header). Returns the friend's row after.
    pub(crate) async fn activate_referral(
        &self,
        friend: player::Model,
    ) -> Result<player::Model, GameError> {
        let Some(referrer) = friend.referrer_id else {
            return Ok(friend);
        };
        let cfg = &self.config().referrals;
        let id = friend.id;
        let reference = format!("friend:{id}");
        let mut given = Some(friend);
        for attempt in 0..MAX_ATTEMPTS {
            let paid = ledger::Entity::find()
                .filter(ledger::Column::PlayerId.eq(id))
                .filter(ledger::Column::Kind.eq("welcome"))
                .filter(ledger::Column::Reference.eq(&reference))
                .one(self.db())
                .await?
                .is_some();
            // A row read before a payment found now could miss it: read it again then.
            let f = match given.take() {
                Some(f) if !paid => f,
                _ => self.playing(id).await?,
            };
            let bonus = if f.is_premium {
                cfg.premium_bonus
            } else {
                cfg.bonus
            };
            if paid || bonus == 0 {
                return Ok(f);
            }
            let r = match player::Entity::find_by_id(referrer).one(self.db()).await? {
                Some(r) if !r.banned => r,
                _ => return Ok(f),
            };
            let now = self.now_ms();
            let credit = |p: &player::Model| player::Model {
                balance: p.balance.saturating_add(bonus),
                total_earned: p.total_earned.saturating_add(bonus),
                version: p.version + 1,
                updated_at: now,
                ..p.clone()
            };
            let (next_f, next_r) = (credit(&f), credit(&r));
            let _writer = self.sqlite_writer().await;
            let txn = self.db().begin().await?;
            let swapped = self.swap_player(&txn, f.version, &next_f).await?
                && self.swap_player(&txn, r.version, &next_r).await?;
            let written = if swapped {
                let rows = [
                    ledger_row(
                        f.id,
                        bonus,
                        "welcome",
                        reference.clone(),
                        next_f.balance,
                        now,
                    ),
                    ledger_row(
                        r.id,
                        bonus,
                        "referral",
                        reference.clone(),
                        next_r.balance,
                        now,
                    ),
                ];
                ledger::Entity::insert_many(rows)
                    .exec_without_returning(&txn)
                    .await
                    .map_err(GameError::from)
            } else {
                Ok(0)
            };
            match written {
                Ok(_) if swapped => {
                    txn.commit().await?;
                    drop(_writer);
                    metrics::counter!("referral_bonuses_total").increment(1);
                    self.after_commit(&next_f).await;
                    self.after_commit(&next_r).await;
                    return Ok(next_f);
                }
                Err(e) if !is_unique_violation(&e) => {
                    txn.rollback().await?;
                    return Err(e);
                }
                // A row moved meanwhile, or another visit paid first: look again.
                _ => {
                    txn.rollback().await?;
                    drop(_writer);
                    back_off(attempt).await;
                }
            }
        }
        Err(GameError::Contended)
    }

    /// Whether a Telegram user plays, is banned, or is unknown to the game.
    pub async fn standing(&self, id: i64) -> Result<Standing, GameError> {
        Ok(
            match player::Entity::find_by_id(id).one(&self.inner.db).await? {
                None => Standing::Unknown,
                Some(p) if p.banned => Standing::Banned,
                Some(_) => Standing::Playing,
            },
        )
    }

    /// The player who invited `id`, if any.
    pub async fn referrer_of(&self, id: i64) -> Result<Option<i64>, GameError> {
        Ok(player::Entity::find_by_id(id)
            .one(&self.inner.db)
            .await?
            .and_then(|p| p.referrer_id))
    }

    /// How many players `id` invited.
    pub async fn friends_count(&self, id: i64) -> Result<u64, GameError> {
        Ok(player::Entity::find()
            .filter(player::Column::ReferrerId.eq(id))
            .count(&self.inner.db)
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_referral;

    #[test]
    fn referral_payloads() {
        assert_eq!(parse_referral("ref_42"), Some(42));
        assert_eq!(parse_referral(" ref_42 "), Some(42));
        assert_eq!(parse_referral("ref_-4"), None);
        assert_eq!(parse_referral("ref_0"), None);
        assert_eq!(parse_referral("ref_x"), None);
        assert_eq!(parse_referral("42"), None);
        assert_eq!(parse_referral(""), None);
        assert_eq!(parse_referral("ref_99999999999999999999"), None);
    }
}
