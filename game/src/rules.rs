//! The rules of the tap loop as plain functions over plain values, with the clock passed in.
//!
//! Nothing here reads a clock, a database or the network, so every rule is property-tested and the
//! services only load state, call a rule, and store what it returns. Times are unix milliseconds.

use crate::config::GameConfig;

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
