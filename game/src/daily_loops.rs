//! The daily combo and the daily cipher: two small reasons to come back every UTC day.
//!
//! **Combo.** Each UTC day `[combo] size` upgrade cards are drawn; a player who buys a level of
//! each of them that day collects `[combo] reward` once (`POST /api/v1/combo`). The cards are
//! hidden: `GET /api/v1/combo` shows only those the player has bought today, read from their
//! `upgrade` ledger rows of the day. **Cipher.** Each UTC day one of `[cipher] words` is drawn;
//! entering it (in Morse, in the Mini App) pays `[cipher] reward` once, with `attempts_per_day`
//! guesses a day counted by one conditional update, so concurrent guesses cannot exceed them.
//!
//! Both draws come from a secret derived from the bot token ([`crate::InitDataKey::derive`]):
//! every instance draws the same, and nobody can work the day's answer out from the game file or
//! this code. Both rewards are paid in one transaction — a compare-and-swap on the player's row and
//! a ledger row (`combo` / `cipher`, referenced by the day) unique per player — so each is paid at
//! most once a day however requests interleave.

use crate::claims::utc_day;
use crate::config::UpgradeConfig;
use crate::economy::{back_off, is_unique_violation, ledger_row, EconomyError, Swap, MAX_ATTEMPTS};
use crate::rules::day_name;
use crate::{Game, GameError};
use entities::{cipher_guess, ledger, player};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use serde::Serialize;

const DAY_MS: i64 = 86_400_000;

/// The longest word a guess may be.
const MAX_WORD: usize = 16;

/// Today's combo as a player sees it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ComboView {
    /// The UTC day, `2026-12-03`.
    pub day: String,
    /// Cards in the combo.
    pub size: usize,
    /// Coins for the whole combo.
    pub reward: i64,
    /// Today's combo cards the player has bought a level of today, in the game file's order.
    pub found: Vec<String>,
    /// Whether the player collected today's reward.
    pub claimed: bool,
}

/// Today's cipher as a player sees it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CipherView {
    /// The UTC day, `2026-12-03`.
    pub day: String,
    /// Letters in today's word.
    pub length: usize,
    /// Coins for entering it.
    pub reward: i64,
    /// Whether the player entered it today.
    pub solved: bool,
    /// Guesses the player has left today.
    pub attempts_left: i64,
}

/// A reward paid.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct RewardView {
    /// Coins credited.
    pub reward: i64,
    /// Balance after.
    pub balance: i64,
}

/// Draws `size` distinct indices below `n` from `next` (a source of secret numbers), by a partial
/// Fisher–Yates shuffle; the result keeps the drawn order.
pub fn draw(n: usize, size: usize, mut next: impl FnMut(usize) -> u64) -> Vec<usize> {
    let mut deck: Vec<usize> = (0..n).collect();
    let size = size.min(n);
    for i in 0..size {
        let j = i + (next(i) % (n - i) as u64) as usize;
        deck.swap(i, j);
    }
    deck.truncate(size);
    deck
}

/// A guess as the words are written: trimmed, upper case; `None` unless 1 to 16 of A–Z, 0–9.
pub fn normalised_guess(word: &str) -> Option<String> {
    let w = word.trim().to_ascii_uppercase();
    let ok = (1..=MAX_WORD).contains(&w.len())
        && w.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
    ok.then_some(w)
}

fn secret_u64(bytes: [u8; 32]) -> u64 {
    u64::from_be_bytes(bytes[..8].try_into().expect("8 bytes"))
}

impl Game {
    /// Cards in a day's combo: `[combo] size`, or every card when the game has fewer.
    fn combo_size(&self) -> usize {
        self.config().combo.size.min(self.config().upgrades.len())
    }

    /// The combo cards of a UTC day.
    pub fn combo_cards(&self, day: i64) -> Vec<&UpgradeConfig> {
        let cards = &self.config().upgrades;
        let key = self.init_key();
        draw(cards.len(), self.config().combo.size, |i| {
            secret_u64(key.derive(&format!("combo:{day}:{i}")))
        })
        .into_iter()
        .map(|i| &cards[i])
        .collect()
    }

    /// The cipher word of a UTC day (`None`: no cipher in the game file).
    pub fn cipher_word(&self, day: i64) -> Option<&str> {
        let words = &self.config().cipher.words;
        if words.is_empty() {
            return None;
        }
        let n = secret_u64(self.init_key().derive(&format!("cipher:{day}")));
        Some(&words[(n % words.len() as u64) as usize])
    }

    /// Whether the player has the ledger row `kind` / `reference`.
    async fn has_row(&self, id: i64, kind: &str, reference: &str) -> Result<bool, GameError> {
        Ok(ledger::Entity::find()
            .select_only()
            .column(ledger::Column::Id)
            .filter(ledger::Column::PlayerId.eq(id))
            .filter(ledger::Column::Kind.eq(kind))
            .filter(ledger::Column::Reference.eq(reference))
            .into_tuple::<i64>()
            .one(self.db())
            .await?
            .is_some())
    }

    /// Credits `amount` with the ledger row `kind` / `reference` unless the player has it already:
    /// `Some(balance after)` when this call paid, `None` when it had been paid.
    pub(crate) async fn credit_once(
        &self,
        id: i64,
        amount: i64,
        kind: &str,
        reference: &str,
    ) -> Result<Option<i64>, GameError> {
        for attempt in 0..MAX_ATTEMPTS {
            let p = self.playing(id).await?;
            let now = self.now_ms();
            let next = player::Model {
                balance: p.balance.saturating_add(amount),
                total_earned: p.total_earned.saturating_add(amount),
                version: p.version + 1,
                updated_at: now,
                ..p.clone()
            };
            let row = ledger_row(id, amount, kind, reference.to_owned(), next.balance, now);
            match self.swap_with_ledger(p.version, &next, row).await? {
                Swap::Done => {}
                Swap::Moved => {
                    back_off(attempt).await;
                    continue;
                }
                Swap::Duplicate => return Ok(None),
            }
            self.after_commit(&next).await;
            return Ok(Some(next.balance));
        }
        Err(GameError::Contended)
    }

    /// Today's combo cards the player bought a level of today, in the game file's order.
    async fn combo_found(&self, id: i64, day: i64) -> Result<Vec<String>, GameError> {
        let bought: Vec<String> = ledger::Entity::find()
            .select_only()
            .column(ledger::Column::Reference)
            .filter(ledger::Column::PlayerId.eq(id))
            .filter(ledger::Column::Kind.eq("upgrade"))
            .filter(ledger::Column::CreatedAt.gte(day * DAY_MS))
            .filter(ledger::Column::CreatedAt.lt((day + 1) * DAY_MS))
            .into_tuple::<String>()
            .all(self.db())
            .await?;
        let bought: Vec<&str> = bought
            .iter()
            .filter_map(|r| r.rsplit_once(':').map(|(card, _)| card))
            .collect();
        let combo: Vec<&str> = self
            .combo_cards(day)
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        Ok(self
            .config()
            .upgrades
            .iter()
            .filter(|c| combo.contains(&c.id.as_str()) && bought.contains(&c.id.as_str()))
            .map(|c| c.id.clone())
            .collect())
    }

    /// Today's combo for the player (see the module header).
    pub async fn combo(&self, id: i64) -> Result<ComboView, GameError> {
        self.playing(id).await?;
        let cfg = &self.config().combo;
        let size = self.combo_size();
        if size == 0 {
            return Err(EconomyError::ComboOff.into());
        }
        let day = utc_day(self.now_ms());
        Ok(ComboView {
            day: day_name(day),
            size,
            reward: cfg.reward,
            found: self.combo_found(id, day).await?,
            claimed: self.has_row(id, "combo", &day.to_string()).await?,
        })
    }

    /// Collects today's combo reward: once a day, once every card of the day's combo was bought
    /// today.
    pub async fn claim_combo(&self, id: i64) -> Result<RewardView, GameError> {
        self.playing(id).await?;
        let cfg = &self.config().combo;
        let size = self.combo_size();
        if size == 0 {
            return Err(EconomyError::ComboOff.into());
        }
        let day = utc_day(self.now_ms());
        if self.has_row(id, "combo", &day.to_string()).await? {
            return Err(EconomyError::AlreadyClaimed.into());
        }
        if self.combo_found(id, day).await?.len() < size {
            return Err(EconomyError::ComboIncomplete.into());
        }
        match self
            .credit_once(id, cfg.reward, "combo", &day.to_string())
            .await?
        {
            Some(balance) => {
                metrics::counter!("combo_rewards_total").increment(1);
                Ok(RewardView {
                    reward: cfg.reward,
                    balance,
                })
            }
            None => Err(EconomyError::AlreadyClaimed.into()),
        }
    }

    /// Guesses the player made on `day`.
    async fn guesses(&self, id: i64, day: i64) -> Result<i64, GameError> {
        Ok(cipher_guess::Entity::find_by_id((id, day))
            .one(self.db())
            .await?
            .map_or(0, |g| g.guesses))
    }

    /// Today's cipher for the player (see the module header).
    pub async fn cipher(&self, id: i64) -> Result<CipherView, GameError> {
        self.playing(id).await?;
        let day = utc_day(self.now_ms());
        let word = self.cipher_word(day).ok_or(EconomyError::CipherOff)?;
        let cfg = &self.config().cipher;
        Ok(CipherView {
            day: day_name(day),
            length: word.len(),
            reward: cfg.reward,
            solved: self.has_row(id, "cipher", &day.to_string()).await?,
            attempts_left: (cfg.attempts_per_day - self.guesses(id, day).await?).max(0),
        })
    }

    /// Takes one of today's guesses; false when none is left. One conditional update (or the
    /// day's first row), so concurrent guesses never take more than the day allows.
    async fn take_guess(&self, id: i64, day: i64) -> Result<bool, GameError> {
        let allowed = self.config().cipher.attempts_per_day;
        loop {
            let _writer = self.sqlite_writer().await;
            let raised = cipher_guess::Entity::update_many()
                .col_expr(
                    cipher_guess::Column::Guesses,
                    Expr::col(cipher_guess::Column::Guesses).add(1),
                )
                .filter(cipher_guess::Column::PlayerId.eq(id))
                .filter(cipher_guess::Column::Day.eq(day))
                .filter(cipher_guess::Column::Guesses.lt(allowed))
                .exec(self.db())
                .await?;
            if raised.rows_affected == 1 {
                return Ok(true);
            }
            if cipher_guess::Entity::find_by_id((id, day))
                .one(self.db())
                .await?
                .is_some()
            {
                return Ok(false);
            }
            let first = cipher_guess::Entity::insert(cipher_guess::ActiveModel {
                player_id: Set(id),
                day: Set(day),
                guesses: Set(1),
            })
            .exec_without_returning(self.db())
            .await
            .map_err(GameError::from);
            match first {
                Ok(_) => return Ok(true),
                // Another guess made the day's row first: count against it.
                Err(e) if is_unique_violation(&e) => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Enters a guess at today's cipher: the reward once a day for the right word; a wrong one
    /// costs one of the day's guesses.
    pub async fn solve_cipher(&self, id: i64, guess: &str) -> Result<RewardView, GameError> {
        self.playing(id).await?;
        let guess = normalised_guess(guess).ok_or(EconomyError::InvalidWord)?;
        let day = utc_day(self.now_ms());
        let word = self
            .cipher_word(day)
            .ok_or(EconomyError::CipherOff)?
            .to_owned();
        let reference = day.to_string();
        if self.has_row(id, "cipher", &reference).await? {
            return Err(EconomyError::AlreadyClaimed.into());
        }
        if !self.take_guess(id, day).await? {
            let left_ms = ((day + 1) * DAY_MS - self.now_ms()).max(0) as u64;
            let retry_after_secs = left_ms.div_ceil(1000).max(1);
            return Err(EconomyError::NoAttemptsLeft { retry_after_secs }.into());
        }
        if !bool::from(subtle_eq(guess.as_bytes(), word.as_bytes())) {
            let left =
                (self.config().cipher.attempts_per_day - self.guesses(id, day).await?).max(0);
            metrics::counter!("cipher_wrong_guesses_total").increment(1);
            return Err(EconomyError::WrongWord {
                attempts_left: left,
            }
            .into());
        }
        let reward = self.config().cipher.reward;
        match self.credit_once(id, reward, "cipher", &reference).await? {
            Some(balance) => {
                metrics::counter!("cipher_rewards_total").increment(1);
                Ok(RewardView { reward, balance })
            }
            None => Err(EconomyError::AlreadyClaimed.into()),
        }
    }
}

/// Compares in time independent of where the bytes differ.
fn subtle_eq(a: &[u8], b: &[u8]) -> subtle::Choice {
    use subtle::ConstantTimeEq;
    if a.len() != b.len() {
        return subtle::Choice::from(0);
    }
    a.ct_eq(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn day_names() {
        assert_eq!(day_name(0), "1970-01-01");
        assert_eq!(day_name(20_425), "2025-12-03");
        assert_eq!(day_name(20_790), "2026-12-03");
        assert_eq!(day_name(11_016), "2000-02-29");
    }

    #[test]
    fn guesses_are_normalised() {
        assert_eq!(normalised_guess(" tap "), Some("TAP".into()));
        assert_eq!(normalised_guess("Ton5"), Some("TON5".into()));
        assert_eq!(normalised_guess(""), None);
        assert_eq!(normalised_guess("T A P"), None);
        assert_eq!(normalised_guess("ÄPFEL"), None);
        assert_eq!(normalised_guess(&"A".repeat(17)), None);
    }

    proptest! {
        #[test]
        fn draws_are_distinct_and_in_range(n in 0usize..20, size in 0usize..12, seed: u64) {
            let mut x = seed;
            let picked = draw(n, size, |_| { x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); x });
            prop_assert_eq!(picked.len(), size.min(n));
            let mut sorted = picked.clone();
            sorted.sort_unstable();
            sorted.dedup();
            prop_assert_eq!(sorted.len(), picked.len());
            prop_assert!(picked.iter().all(|&i| i < n));
        }
    }
}
