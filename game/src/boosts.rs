//! Boosts: the day's free full-energy refills, and multitap and energy-limit levels.
//!
//! Shaped like the other economy services (see [`crate::economy`]): read the row, run
//! [`rules::apply_boost`] with the server's `now`, and write the result in one transaction — the
//! compare-and-swap on `players.version` that carries the new tap power, energy cap, energy and
//! balance, and a ledger row whose `(player, kind, reference)` is unique: `boost`
//! (`<boost>:<level>`, the level's cost) or `refill` (`<day>:<n>`, zero coins, the day's n-th
//! refill). Of concurrent identical requests one wins each level or refill; the rest start again
//! from the fresh row and are refused by the rules.

use crate::claims::utc_day;
use crate::economy::{back_off, ledger_row, EconomyError, Swap, MAX_ATTEMPTS};
use crate::players::PlayerView;
use crate::rules::{self, Boost, BoostRefusal, BoostState};
use crate::{Game, GameError};
use entities::player;
use serde::Serialize;

/// One boost as a player sees it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct BoostView {
    /// `refill`, `multitap` or `energy_limit`.
    pub id: &'static str,
    /// Name shown to players.
    pub name: &'static str,
    /// Levels bought; for `refill`, refills used today.
    pub level: i64,
    /// Highest level; for `refill`, refills per day.
    pub max_level: i64,
    /// Coins the next level costs (0 for a refill); `null` when there is none to have.
    pub next_cost: Option<i64>,
    /// Tap power (`multitap`), energy cap (`energy_limit`) or refills left today (`refill`).
    pub value: i64,
    /// `value` after the next level; `null` at the highest level and for `refill`.
    pub next_value: Option<i64>,
}

fn boost_state(p: &player::Model) -> BoostState {
    BoostState {
        balance: p.balance,
        energy: rules::Refill {
            milli: p.energy_milli,
            at: p.energy_at,
        },
        max_energy: p.max_energy,
        energy_per_sec: p.energy_per_sec,
        tap_power: p.tap_power,
        multitap_level: p.multitap_level,
        energy_limit_level: p.energy_limit_level,
        refills_day: p.refills_day,
        refills_used: p.refills_used,
    }
}

impl Game {
    /// The boosts with the player's levels and today's refills.
    pub async fn boosts(&self, id: i64) -> Result<Vec<BoostView>, GameError> {
        let p = self.playing(id).await?;
        let s = boost_state(&p);
        let cfg = &self.config().boosts;
        let today = utc_day(self.now_ms());
        let left = s.refills_left(today, cfg.refills_per_day);
        let level = |b: Boost, value: i64, step: i64, max: usize| {
            let cost = rules::boost_cost(b, s.level(b), cfg);
            BoostView {
                id: b.id(),
                name: match b {
                    Boost::Multitap => "Multitap",
                    _ => "Energy limit",
                },
                level: s.level(b),
                max_level: max as i64,
                next_cost: cost,
                value,
                next_value: cost.map(|_| value.saturating_add(step)),
            }
        };
        Ok(vec![
            BoostView {
                id: Boost::Refill.id(),
                name: "Full energy",
                level: cfg.refills_per_day - left,
                max_level: cfg.refills_per_day,
                next_cost: (left > 0).then_some(0),
                value: left,
                next_value: None,
            },
            level(Boost::Multitap, s.tap_power, 1, cfg.multitap_costs.len()),
            level(
                Boost::EnergyLimit,
                s.max_energy,
                cfg.energy_limit_step,
                cfg.energy_limit_costs.len(),
            ),
        ])
    }

    /// Uses a refill or buys the next level of `boost` (see the module header). Returns the
    /// player's state after.
    pub async fn buy_boost(&self, id: i64, boost: &str) -> Result<PlayerView, GameError> {
        let boost = Boost::parse(boost).ok_or(EconomyError::UnknownBoost)?;
        for attempt in 0..MAX_ATTEMPTS {
            let p = self.playing(id).await?;
            let now = self.now_ms();
            let today = utc_day(now);
            let applied =
                rules::apply_boost(&boost_state(&p), boost, now, today, &self.config().boosts)
                    .map_err(|r| match r {
                        BoostRefusal::MaxLevel => EconomyError::MaxLevel,
                        BoostRefusal::InsufficientBalance => EconomyError::InsufficientBalance,
                        BoostRefusal::NoRefillsLeft => EconomyError::NoRefillsLeft,
                    })?;
            let s = applied.state;
            let next = player::Model {
                balance: s.balance,
                energy_milli: s.energy.milli,
                energy_at: s.energy.at,
                max_energy: s.max_energy,
                tap_power: s.tap_power,
                multitap_level: s.multitap_level,
                energy_limit_level: s.energy_limit_level,
                refills_day: s.refills_day,
                refills_used: s.refills_used,
                version: p.version + 1,
                updated_at: now,
                ..p.clone()
            };
            let kind = if boost == Boost::Refill {
                "refill"
            } else {
                "boost"
            };
            let row = ledger_row(id, -applied.cost, kind, applied.reference, s.balance, now);
            // Moved, or another request used this level or refill: decide again from the row.
            if self.swap_with_ledger(p.version, &next, row).await? != Swap::Done {
                back_off(attempt).await;
                continue;
            }
            metrics::counter!("boosts_total", "boost" => boost.id()).increment(1);
            self.after_commit(&next).await;
            return Ok(self.view_of(next, now, 0));
        }
        Err(GameError::Contended)
    }
}
