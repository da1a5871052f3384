//! The rules of the tap loop as plain functions over plain values, with the clock passed in.
//!
//! Nothing here reads a clock, a database or the network, so every rule is property-tested and the
//! services only load state, call a rule, and store what it returns. Times are unix milliseconds.

use crate::config::{GameConfig, UpgradeConfig};

/// A value that refills at a fixed rate up to a cap: energy, and the human-rate tap allowance.
///
/// Kept in thousandths of a unit as of an instant: a rate per second times elapsed milliseconds is
/// then a whole number of thousandths, so nothing is rounded away however often a client sends
/// (3 energy/s stays exactly 3/s with batches every 700 ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refill {
    /// Amount as of `at`, in thousandths of a unit.
    pub milli: i64,
    /// Unix ms at which `milli` was true.
    pub at: i64,
}

impl Refill {
    /// A full or partial amount of whole units at `at`.
    pub fn whole(units: i64, at: i64) -> Refill {
        Refill {
            milli: units.saturating_mul(1000),
            at,
        }
    }

    /// Whole units available.
    pub fn units(self) -> i64 {
        self.milli / 1000
    }

    /// The amount after refilling `per_second` whole units per second up to `cap` units until `now`.
    /// A clock that went backwards (another instance's) refills nothing and never moves `at` back.
    pub fn at_time(self, now: i64, per_second: i64, cap: i64) -> Refill {
        let cap = cap.saturating_mul(1000);
        let elapsed = now.saturating_sub(self.at).max(0);
        let gained = elapsed.saturating_mul(per_second.max(0));
        let milli = if self.milli >= cap {
            self.milli.min(cap)
        } else {
            self.milli.saturating_add(gained).min(cap)
        };
        Refill {
            milli: milli.max(0),
            at: now.max(self.at),
        }
    }

    /// Takes `units` whole units away.
    pub fn minus(self, units: i64) -> Refill {
        Refill {
            milli: self.milli - units * 1000,
            at: self.at,
        }
    }
}

/// What the tap rules need of a player.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapState {
    /// Coins.
    pub balance: i64,
    /// Coins ever earned.
    pub total_earned: i64,
    /// Energy, refilling at `energy_per_sec` up to `max_energy`.
    pub energy: Refill,
    /// Energy cap.
    pub max_energy: i64,
    /// Energy regenerated per second.
    pub energy_per_sec: i64,
    /// Coins per tap, and energy per tap.
    pub tap_power: i64,
    /// Taps a human could still make now (refills at the ceiling up to the burst).
    pub allowance: Refill,
    /// The last batch number applied.
    pub last_seq: i64,
}

impl TapState {
    /// The state of a player created at `now`: full energy, full allowance, no coins.
    pub fn new_player(now: i64, cfg: &GameConfig) -> TapState {
        TapState {
            balance: 0,
            total_earned: 0,
            energy: Refill::whole(cfg.energy.max, now),
            max_energy: cfg.energy.max,
            energy_per_sec: cfg.energy.per_second,
            tap_power: cfg.energy.tap_power,
            allowance: Refill::whole(cfg.taps.burst, now),
            last_seq: 0,
        }
    }

    /// Energy available at `now`.
    pub fn energy_now(&self, now: i64) -> i64 {
        self.energy
            .at_time(now, self.energy_per_sec, self.max_energy)
            .units()
    }
}

/// A batch of taps as the client sends it, checked: `1 <= count <= max_batch`, `seq >= 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapBatch {
    count: i64,
    seq: i64,
}

/// Why a batch cannot be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TapBatchError {
    /// The count is not an integer in `1..=max_batch`.
    #[error("count must be a whole number from 1 to {max_batch}")]
    InvalidCount {
        /// The configured largest batch.
        max_batch: i64,
    },
    /// The seq is not a non-negative integer.
    #[error("seq must be a whole number, 0 or more")]
    InvalidSeq,
}

impl TapBatch {
    /// Parses the client's `count` and `seq`.
    pub fn parse(
        count: Option<i64>,
        seq: Option<i64>,
        max_batch: i64,
    ) -> Result<Self, TapBatchError> {
        let count = count
            .filter(|c| (1..=max_batch).contains(c))
            .ok_or(TapBatchError::InvalidCount { max_batch })?;
        let seq = seq.filter(|s| *s >= 0).ok_or(TapBatchError::InvalidSeq)?;
        Ok(TapBatch { count, seq })
    }

    /// Taps in the batch.
    pub fn count(&self) -> i64 {
        self.count
    }

    /// The batch number.
    pub fn seq(&self) -> i64 {
        self.seq
    }
}

/// The result of applying a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TapOutcome {
    /// The batch was applied: the new state to store (even when nothing was accepted, the seq is).
    Applied {
        /// Taps accepted.
        accepted: i64,
        /// Coins earned (`accepted * tap_power`).
        coins: i64,
        /// State after the batch.
        state: TapState,
    },
    /// The seq was already applied, or is older: nothing changes.
    Duplicate,
}

/// Applies a batch at `now`: at most the energy available and at most what a human can tap.
pub fn apply_taps(state: &TapState, batch: TapBatch, now: i64, cfg: &GameConfig) -> TapOutcome {
    if batch.seq <= state.last_seq {
        return TapOutcome::Duplicate;
    }
    let energy = state
        .energy
        .at_time(now, state.energy_per_sec, state.max_energy);
    let allowance = state.allowance.at_time(
        now,
        cfg.taps.max_per_second,
        cfg.taps.burst.max(cfg.taps.max_per_second),
    );
    let power = state.tap_power.max(1);
    let accepted = batch
        .count
        .min(energy.units() / power)
        .min(allowance.units())
        .max(0);
    let coins = accepted * power;
    let next = TapState {
        balance: state.balance + coins,
        total_earned: state.total_earned + coins,
        energy: energy.minus(coins),
        allowance: allowance.minus(accepted),
        last_seq: batch.seq,
        ..*state
    };
    TapOutcome::Applied {
        accepted,
        coins,
        state: next,
    }
}

/// The level for coins ever earned: 1 plus the thresholds reached.
pub fn level_for(total_earned: i64, cfg: &GameConfig) -> u32 {
    1 + cfg
        .levels
        .thresholds
        .iter()
        .take_while(|t| total_earned >= **t)
        .count() as u32
}

/// The largest cost or income a card can reach, whatever its growth: far from any overflow.
pub const MAX_COINS: i64 = 1_000_000_000_000_000;

/// Milliseconds in an hour.
const HOUR_MS: i64 = 3_600_000;

fn grown(base: i64, growth: f64, times: i64) -> i64 {
    let value = (base as f64) * growth.powi(times.clamp(0, i32::MAX as i64) as i32);
    if value.is_finite() {
        (value.round() as i64).clamp(0, MAX_COINS)
    } else {
        MAX_COINS
    }
}

/// What the level after `level` of a card costs: `base_cost × cost_growth^level`, rounded.
pub fn upgrade_cost(card: &UpgradeConfig, level: i64) -> i64 {
    grown(card.base_cost, card.cost_growth, level).max(1)
}

/// Income per hour a card brings at `level`: each level adds `base_income × income_growth^(n-1)`.
pub fn upgrade_income(card: &UpgradeConfig, level: i64) -> i64 {
    (1..=level.clamp(0, card.max_level)).fold(0i64, |sum, n| {
        sum.saturating_add(grown(card.base_income_per_hour, card.income_growth, n - 1))
            .min(MAX_COINS)
    })
}

/// Passive income due at `now` for `per_hour` accruing since `since`, at most `cap_hours` of it.
///
/// Returns the whole coins due and the instant from which income accrues next. Only the time those
/// coins stand for is used up, so frequent visits lose no fractions; time beyond the cap is lost.
pub fn passive_due(per_hour: i64, since: i64, now: i64, cap_hours: i64) -> (i64, i64) {
    let cap = cap_hours.max(0).saturating_mul(HOUR_MS);
    let elapsed = now.saturating_sub(since);
    if per_hour <= 0 || elapsed <= 0 {
        return (0, since);
    }
    let counted = elapsed.min(cap);
    let coins = ((per_hour as i128 * counted as i128) / HOUR_MS as i128) as i64;
    if elapsed > cap {
        return (coins, now);
    }
    // The milliseconds the coins stand for, rounded up: never more than `counted`.
    let used = ((coins as i128 * HOUR_MS as i128 + per_hour as i128 - 1) / per_hour as i128) as i64;
    (coins, since + used)
}

/// Why a daily reward is not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlreadyClaimed;

/// The streak day and reward of a claim on UTC day `today`, after a streak of `streak` days whose
/// last claim was on `last_day`: the streak goes on from yesterday, else starts again at day 1.
pub fn daily_claim(
    streak: i64,
    last_day: Option<i64>,
    today: i64,
    rewards: &[i64],
) -> Result<(i64, i64), AlreadyClaimed> {
    let day = match last_day {
        Some(d) if d >= today => return Err(AlreadyClaimed),
        Some(d) if d == today - 1 => streak.max(0) + 1,
        _ => 1,
    };
    let index = usize::try_from(day - 1).unwrap_or(usize::MAX);
    let reward = rewards.get(index).or(rewards.last()).copied().unwrap_or(0);
    Ok((day, reward))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg() -> GameConfig {
        GameConfig::default()
    }

    fn batch(count: i64, seq: i64) -> TapBatch {
        TapBatch::parse(Some(count), Some(seq), 1000).unwrap()
    }

    #[test]
    fn batch_bounds_are_checked() {
        assert!(TapBatch::parse(Some(0), Some(1), 1000).is_err());
        assert!(TapBatch::parse(Some(1001), Some(1), 1000).is_err());
        assert!(TapBatch::parse(None, Some(1), 1000).is_err());
        assert_eq!(
            TapBatch::parse(Some(5), Some(-1), 1000),
            Err(TapBatchError::InvalidSeq)
        );
        assert_eq!(
            TapBatch::parse(Some(1000), Some(0), 1000).unwrap().count(),
            1000
        );
    }

    #[test]
    fn a_new_player_taps_up_to_the_burst_at_once() {
        let s = TapState::new_player(0, &cfg());
        match apply_taps(&s, batch(500, 1), 0, &cfg()) {
            TapOutcome::Applied {
                accepted,
                coins,
                state,
            } => {
                assert_eq!(accepted, 100);
                assert_eq!(coins, 100);
                assert_eq!(state.balance, 100);
                assert_eq!(state.energy.units(), 900);
                assert_eq!(state.last_seq, 1);
            }
            TapOutcome::Duplicate => panic!("applied expected"),
        }
    }

    #[test]
    fn replayed_and_older_seqs_change_nothing() {
        let s = TapState {
            last_seq: 7,
            ..TapState::new_player(0, &cfg())
        };
        assert_eq!(
            apply_taps(&s, batch(1, 7), 10, &cfg()),
            TapOutcome::Duplicate
        );
        assert_eq!(
            apply_taps(&s, batch(1, 3), 10, &cfg()),
            TapOutcome::Duplicate
        );
    }

    #[test]
    fn energy_caps_the_taps_and_regenerates_without_losing_fractions() {
        let mut s = TapState::new_player(0, &cfg());
        s.energy = Refill::whole(2, 0);
        let TapOutcome::Applied {
            accepted, state, ..
        } = apply_taps(&s, batch(10, 1), 0, &cfg())
        else {
            panic!()
        };
        assert_eq!(accepted, 2);
        assert_eq!(state.energy.units(), 0);
        // 3 energy per second, batches every 500 ms: 1, then 2 (the half units add up), …
        let mut st = state;
        let mut total = 0;
        for i in 1..=20 {
            let now = i * 500;
            let TapOutcome::Applied {
                accepted, state, ..
            } = apply_taps(&st, batch(100, 1 + i), now, &cfg())
            else {
                panic!()
            };
            total += accepted;
            st = state;
        }
        assert_eq!(total, 30, "10 s at 3/s");
    }

    #[test]
    fn the_human_ceiling_refuses_autoclicker_rates() {
        let mut c = cfg();
        c.energy.max = 1_000_000;
        let mut s = TapState::new_player(0, &c);
        let mut total = 0;
        // 1000 taps claimed every second for 10 s: the burst plus 20/s gets through.
        for i in 1..=10 {
            let TapOutcome::Applied {
                accepted, state, ..
            } = apply_taps(&s, batch(1000, i), i * 1000, &c)
            else {
                panic!()
            };
            total += accepted;
            s = state;
        }
        assert_eq!(total, 100 + 9 * 20);
    }

    fn card(cost_growth: f64, income_growth: f64) -> UpgradeConfig {
        UpgradeConfig {
            id: "c".into(),
            name: "C".into(),
            category: "x".into(),
            base_cost: 1000,
            cost_growth,
            base_income_per_hour: 100,
            income_growth,
            max_level: 100,
        }
    }

    #[test]
    fn upgrade_costs_and_income_follow_their_curves() {
        let c = card(1.15, 1.05);
        assert_eq!(upgrade_cost(&c, 0), 1000);
        assert_eq!(upgrade_cost(&c, 1), 1150);
        assert_eq!(upgrade_cost(&c, 3), 1521);
        assert_eq!(upgrade_income(&c, 0), 0);
        assert_eq!(upgrade_income(&c, 1), 100);
        assert_eq!(upgrade_income(&c, 2), 205);
        assert_eq!(upgrade_cost(&card(10.0, 10.0), 100), MAX_COINS);
    }

    #[test]
    fn passive_income_is_paid_up_to_the_cap_without_losing_fractions() {
        let h = 3_600_000;
        assert_eq!(passive_due(3600, 0, h, 3), (3600, h));
        assert_eq!(passive_due(3600, 0, 10 * h, 3), (3 * 3600, 10 * h));
        assert_eq!(passive_due(0, 0, 10 * h, 3), (0, 0));
        // 1 coin per 1000 ms: 1500 ms pays 1 and keeps the other 500 ms.
        assert_eq!(passive_due(3600, 0, 1500, 3), (1, 1000));
        assert_eq!(
            passive_due(3600, 1000, 900, 3),
            (0, 1000),
            "a clock going back"
        );
    }

    #[test]
    fn the_daily_streak_goes_on_or_starts_again() {
        let r = [10, 20, 30];
        assert_eq!(daily_claim(0, None, 100, &r), Ok((1, 10)));
        assert_eq!(daily_claim(1, Some(100), 101, &r), Ok((2, 20)));
        assert_eq!(
            daily_claim(5, Some(100), 101, &r),
            Ok((6, 30)),
            "the last repeats"
        );
        assert_eq!(
            daily_claim(5, Some(99), 101, &r),
            Ok((1, 10)),
            "a missed day"
        );
        assert_eq!(daily_claim(2, Some(101), 101, &r), Err(AlreadyClaimed));
    }

    #[test]
    fn levels_follow_total_earned() {
        assert_eq!(level_for(0, &cfg()), 1);
        assert_eq!(level_for(4_999, &cfg()), 1);
        assert_eq!(level_for(5_000, &cfg()), 2);
        assert_eq!(level_for(i64::MAX, &cfg()), 10);
    }

    proptest! {
        #[test]
        fn energy_never_negative_nor_above_max(
            steps in prop::collection::vec((0i64..5_000, 1i64..=1000), 1..60),
            max in 1i64..5_000, per_sec in 0i64..50, power in 1i64..10,
        ) {
            let mut c = cfg();
            c.energy.max = max;
            c.energy.per_second = per_sec;
            c.energy.tap_power = power;
            let mut s = TapState::new_player(0, &c);
            let mut now = 0;
            for (i, (dt, count)) in steps.into_iter().enumerate() {
                now += dt;
                if let TapOutcome::Applied { accepted, coins, state } =
                    apply_taps(&s, batch(count, i as i64 + 1), now, &c)
                {
                    prop_assert!(accepted >= 0 && accepted <= count);
                    prop_assert_eq!(coins, accepted * power);
                    prop_assert!(state.energy.milli >= 0 && state.energy.units() <= max);
                    prop_assert!(state.energy_now(now + dt) <= max);
                    prop_assert_eq!(state.balance, s.balance + coins);
                    prop_assert!(state.energy.at <= now);
                    s = state;
                }
            }
        }

        #[test]
        fn never_more_than_the_energy_available(
            steps in prop::collection::vec((0i64..3_000, 1i64..=1000), 1..60),
        ) {
            // Total accepted over a run never exceeds the starting energy plus what regenerates.
            let c = cfg();
            let mut s = TapState::new_player(0, &c);
            let mut now = 0;
            for (i, (dt, count)) in steps.into_iter().enumerate() {
                now += dt;
                if let TapOutcome::Applied { state, .. } = apply_taps(&s, batch(count, i as i64 + 1), now, &c) {
                    s = state;
                }
            }
            let bound = c.energy.max + now * c.energy.per_second / 1000;
            prop_assert!(s.balance <= bound, "{} > {}", s.balance, bound);
            // And never more than a human could tap.
            let human = c.taps.burst + now * c.taps.max_per_second / 1000;
            prop_assert!(s.balance <= human);
        }

        #[test]
        fn upgrade_costs_and_income_never_go_down(
            base in 1i64..1_000_000, cg in 1.0f64..10.0, ig in 1.0f64..10.0, level in 0i64..100,
        ) {
            let c = UpgradeConfig { base_cost: base, ..card(cg, ig) };
            prop_assert!(upgrade_cost(&c, level + 1) >= upgrade_cost(&c, level));
            prop_assert!(upgrade_cost(&c, level) >= 1);
            prop_assert!(upgrade_income(&c, level + 1) >= upgrade_income(&c, level));
        }

        #[test]
        fn passive_income_never_passes_the_cap_nor_the_rate(
            per_hour in 0i64..10_000_000, visits in prop::collection::vec(0i64..20_000_000, 1..30),
            cap_hours in 1i64..24,
        ) {
            let mut at = 0;
            let mut now = 0;
            let mut paid = 0i64;
            for dt in visits {
                now += dt;
                let (coins, next) = passive_due(per_hour, at, now, cap_hours);
                prop_assert!(coins >= 0 && next >= at && next <= now);
                prop_assert!(coins as i128 <= per_hour as i128 * (cap_hours * 3_600_000) as i128 / 3_600_000);
                paid += coins;
                at = next;
            }
            // Over the whole run, never more than the rate allows.
            prop_assert!(paid as i128 <= per_hour as i128 * now as i128 / 3_600_000);
        }

        #[test]
        fn refill_is_monotonic_capped_and_exact(units in 0i64..1000, at in 0i64..10_000, dt in 0i64..100_000, split in 0i64..100_000, rate in 0i64..100) {
            let r = Refill::whole(units, at);
            let later = r.at_time(at + dt, rate, 1000);
            prop_assert!(later.milli >= r.milli && later.units() <= 1000);
            prop_assert_eq!(later.at, at + dt);
            // Refilling in two steps gives exactly the same as in one.
            let mid = r.at_time(at + split.min(dt), rate, 1000).at_time(at + dt, rate, 1000);
            prop_assert_eq!(mid, later);
        }
    }
}
