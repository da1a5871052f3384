//! Players arriving through the bot: `/start` with or without a referral, friends, standing.
//!
//! The bot's `/start` creates the player exactly as the Mini App's sign-in does
//! ([`Game::upsert_player`]) and then binds the referral with one conditional update —
//! `referrer_id IS NULL AND created_at = <this start>` — so a referral binds once, only to a
//! player this very start created, never to oneself, and only to a referrer who exists. Two
//! concurrent starts of one new player cannot bind twice: the second update matches no row.

use crate::{Game, GameError, TelegramUser};
use entities::{player, unreachable_player};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

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
        let _writer = self.sqlite_writer().await;
        unreachable_player::Entity::delete_by_id(user.id)
            .exec(db)
            .await?;
        let banned = existed.as_ref().is_some_and(|p| p.banned);
        let mut bound = None;
        if existed.is_none() {
            if let Some(referrer) = referral.filter(|r| *r != user.id) {
                let known = player::Entity::find_by_id(referrer)
                    .one(db)
                    .await?
                    .is_some();
                if known {
                    let updated = player::Entity::update_many()
                        .col_expr(player::Column::ReferrerId, Expr::value(referrer))
                        .filter(player::Column::Id.eq(user.id))
                        .filter(player::Column::ReferrerId.is_null())
                        .filter(player::Column::CreatedAt.eq(now))
                        .exec(db)
                        .await?;
                    if updated.rows_affected == 1 {
                        bound = Some(referrer);
                    }
                }
            }
        }
        Ok(Started {
            new: existed.is_none(),
            referrer: bound,
            banned,
        })
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
