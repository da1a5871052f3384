//! The rules of the tap loop as plain functions over plain values, with the clock passed in.
//!
//! Nothing here reads a clock, a database or the network, so every rule is property-tested and the
//! services only load state, call a rule, and store what it returns. Times are unix milliseconds.

use crate::config::{BoostsConfig, GameConfig, TaskConfig, TaskKind, UpgradeConfig};

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
    gaps: GapSums,
}

/// The longest interval between two taps a batch may report, in ms.
pub const MAX_GAP_MS: i64 = 60_000;

/// Running sums of tap intervals (ms): how many, their sum and the sum of their squares — all
/// the anti-cheat detector needs for a mean and a spread, in constant space.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GapSums {
    /// Intervals counted.
    pub n: i64,
    /// Their sum, ms.
    pub sum: i64,
    /// The sum of their squares, ms².
    pub sq: i64,
}

impl GapSums {
    /// The coefficient of variation (standard deviation ÷ mean) of the intervals; 0 when they
    /// are all 0 (taps at one instant are as regular as it gets).
    pub fn cv(&self) -> f64 {
        if self.n == 0 || self.sum == 0 {
            return 0.0;
        }
        let n = self.n as f64;
        let mean = self.sum as f64 / n;
        let variance = (self.sq as f64 / n - mean * mean).max(0.0);
        variance.sqrt() / mean
    }

    /// The mean interval, ms.
    pub fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum as f64 / self.n as f64
        }
    }
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
    /// `gaps` is not a list of at most `count` intervals from 0 to 60000 ms.
    #[error("gaps must be a list of at most count numbers of milliseconds, each from 0 to 60000")]
    InvalidGaps,
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
        Ok(TapBatch {
            count,
            seq,
            gaps: GapSums::default(),
        })
    }

    /// Adds the intervals between the batch's taps as the Mini App measured them (ms, rounded to
    /// whole ms): at most `count` of them, each from 0 to [`MAX_GAP_MS`]; a value that is not a
    /// number (`None`) or out of range refuses the whole batch.
    pub fn with_gaps(self, gaps: &[Option<f64>]) -> Result<Self, TapBatchError> {
        if gaps.len() as i64 > self.count {
            return Err(TapBatchError::InvalidGaps);
        }
        let mut sums = GapSums::default();
        for gap in gaps {
            let ms = gap
                .filter(|g| g.is_finite() && (0.0..=MAX_GAP_MS as f64).contains(g))
                .ok_or(TapBatchError::InvalidGaps)?
                .round() as i64;
            sums.n += 1;
            sums.sum += ms;
            sums.sq += ms * ms;
        }
        Ok(TapBatch { gaps: sums, ..self })
    }

    /// The sums of the intervals the batch reported (all zero when it reported none).
    pub fn gaps(&self) -> GapSums {
        self.gaps
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

/// The league's name for coins ever earned: the last whose threshold is reached.
pub fn league_for(total_earned: i64, cfg: &GameConfig) -> &str {
    let reached = cfg
        .leagues
        .thresholds
        .iter()
        .take_while(|t| total_earned >= **t)
        .count();
    &cfg.leagues.names[reached]
}

/// The coins-ever-earned range of the league reached with `total_earned`: its threshold, and the
/// next league's (`None` for the highest).
pub fn league_bounds(total_earned: i64, cfg: &GameConfig) -> (i64, Option<i64>) {
    let t = &cfg.leagues.thresholds;
    let reached = t.iter().take_while(|t| total_earned >= **t).count();
    let min = if reached == 0 { 0 } else { t[reached - 1] };
    (min.min(total_earned.max(0)), t.get(reached).copied())
}

/// The unix-ms instant the ISO week of `ms` starts: Monday 00:00 UTC.
pub fn week_start(ms: i64) -> i64 {
    let day = ms.div_euclid(86_400_000);
    // 1970-01-01 was a Thursday: three days after a Monday.
    (day - (day + 3).rem_euclid(7)) * 86_400_000
}

/// The ISO week (UTC, weeks start on Monday) of a unix-ms instant, as `2026-W49`.
pub fn iso_week(ms: i64) -> String {
    let day = ms.div_euclid(86_400_000);
    // 1970-01-01 was a Thursday; the Thursday of an ISO week names its year.
    let thursday = day - (day + 3).rem_euclid(7) + 3;
    let year = civil_year(thursday);
    let week = (thursday - days_from_civil_jan1(year)) / 7 + 1;
    format!("{year}-W{week:02}")
}

/// The year of a day counted from 1970-01-01 (proleptic Gregorian).
fn civil_year(day: i64) -> i64 {
    civil_date(day).0
}

/// The date `(year, month, day)` of a day counted from 1970-01-01 (proleptic Gregorian, Howard
/// Hinnant's algorithm).
pub fn civil_date(day: i64) -> (i64, u32, u32) {
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A UTC day counted from 1970-01-01 as `2026-12-03`.
pub fn day_name(day: i64) -> String {
    let (y, m, d) = civil_date(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The day (from 1970-01-01) of January 1st of `year`.
fn days_from_civil_jan1(year: i64) -> i64 {
    let y = year - 1;
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    // January is month 11 of the previous March-based year: day of year 306.
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + 306;
    era * 146_097 + doe - 719_468
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

/// A boost a player can buy or use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boost {
    /// A free full-energy refill, `boosts.refills_per_day` per UTC day.
    Refill,
    /// The next multitap level: one more coin (and energy) per tap.
    Multitap,
    /// The next energy-limit level: `boosts.energy_limit_step` more energy cap.
    EnergyLimit,
}

impl Boost {
    /// Every boost, in the order the Mini App shows them.
    pub const ALL: [Boost; 3] = [Boost::Refill, Boost::Multitap, Boost::EnergyLimit];

    /// The boost named `id` in URLs (`refill`, `multitap`, `energy_limit`).
    pub fn parse(id: &str) -> Option<Boost> {
        Boost::ALL.into_iter().find(|b| b.id() == id)
    }

    /// Its id in URLs and ledger references.
    pub fn id(self) -> &'static str {
        match self {
            Boost::Refill => "refill",
            Boost::Multitap => "multitap",
            Boost::EnergyLimit => "energy_limit",
        }
    }
}

/// What the boost rules need of a player.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BoostState {
    /// Coins.
    pub balance: i64,
    /// Energy, refilling at `energy_per_sec` up to `max_energy`.
    pub energy: Refill,
    /// Energy cap.
    pub max_energy: i64,
    /// Energy regenerated per second.
    pub energy_per_sec: i64,
    /// Coins (and energy) per tap.
    pub tap_power: i64,
    /// Multitap levels bought.
    pub multitap_level: i64,
    /// Energy-limit levels bought.
    pub energy_limit_level: i64,
    /// The UTC day `refills_used` counts for.
    pub refills_day: Option<i64>,
    /// Refills used on `refills_day`.
    pub refills_used: i64,
}

impl BoostState {
    /// Free refills left on UTC day `today`.
    pub fn refills_left(&self, today: i64, per_day: i64) -> i64 {
        let used = if self.refills_day == Some(today) {
            self.refills_used
        } else {
            0
        };
        (per_day - used).max(0)
    }

    /// The level of a levelled boost (refills have none).
    pub fn level(&self, boost: Boost) -> i64 {
        match boost {
            Boost::Refill => 0,
            Boost::Multitap => self.multitap_level,
            Boost::EnergyLimit => self.energy_limit_level,
        }
    }
}

/// The cost of the level after `level` of a levelled boost; `None` at its highest level.
pub fn boost_cost(boost: Boost, level: i64, cfg: &BoostsConfig) -> Option<i64> {
    let costs = match boost {
        Boost::Refill => return None,
        Boost::Multitap => &cfg.multitap_costs,
        Boost::EnergyLimit => &cfg.energy_limit_costs,
    };
    usize::try_from(level)
        .ok()
        .and_then(|l| costs.get(l))
        .copied()
}

/// Why a boost is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoostRefusal {
    /// The boost is at its highest level.
    MaxLevel,
    /// Not enough coins for the next level.
    InsufficientBalance,
    /// Today's free refills are used up.
    NoRefillsLeft,
}

/// A boost applied: the state to store, the coins it cost, and its ledger reference (unique per
/// player: `<boost>:<level>` for a level, `<day>:<n>` for a day's n-th refill).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoostApplied {
    /// State after.
    pub state: BoostState,
    /// Coins debited (0 for a refill).
    pub cost: i64,
    /// The ledger reference.
    pub reference: String,
}

/// Applies `boost` at `now` (UTC day `today`): a refill fills the energy to the cap; a level is
/// paid from the balance and raises the tap power or the energy cap (keeping the energy there is).
pub fn apply_boost(
    state: &BoostState,
    boost: Boost,
    now: i64,
    today: i64,
    cfg: &BoostsConfig,
) -> Result<BoostApplied, BoostRefusal> {
    let energy = state
        .energy
        .at_time(now, state.energy_per_sec, state.max_energy);
    if boost == Boost::Refill {
        if state.refills_left(today, cfg.refills_per_day) == 0 {
            return Err(BoostRefusal::NoRefillsLeft);
        }
        let used = cfg.refills_per_day - state.refills_left(today, cfg.refills_per_day) + 1;
        return Ok(BoostApplied {
            state: BoostState {
                energy: Refill::whole(state.max_energy, energy.at),
                refills_day: Some(today),
                refills_used: used,
                ..*state
            },
            cost: 0,
            reference: format!("{today}:{used}"),
        });
    }
    let level = state.level(boost);
    let cost = boost_cost(boost, level, cfg).ok_or(BoostRefusal::MaxLevel)?;
    if state.balance < cost {
        return Err(BoostRefusal::InsufficientBalance);
    }
    let mut next = BoostState {
        balance: state.balance - cost,
        energy,
        ..*state
    };
    match boost {
        Boost::Multitap => {
            next.multitap_level += 1;
            next.tap_power = next.tap_power.saturating_add(1);
        }
        _ => {
            next.energy_limit_level += 1;
            next.max_energy = next.max_energy.saturating_add(cfg.energy_limit_step);
        }
    }
    Ok(BoostApplied {
        state: next,
        cost,
        reference: format!("{}:{}", boost.id(), level + 1),
    })
}

/// What is known of a player's progress on a task when it is checked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskFacts {
    /// When the player first checked the task (`link` tasks); `None` before.
    pub started_at: Option<i64>,
    /// Friends who joined with the player's link.
    pub friends: u64,
    /// Whether the player has connected a wallet.
    pub has_wallet: bool,
    /// Whether the player is a member of the task's channel (as checked).
    pub channel_member: bool,
}

/// Whether `task` is done at `now`: a link once its delay has passed since the first check, an
/// invite task with enough friends, a wallet task with a wallet, a channel task for a member.
pub fn task_done(task: &TaskConfig, facts: &TaskFacts, now: i64) -> bool {
    match task.kind {
        TaskKind::Link => facts
            .started_at
            .is_some_and(|at| now.saturating_sub(at) >= task.delay().saturating_mul(1000)),
        TaskKind::Invite => facts.friends >= task.count.unwrap_or(1).max(0) as u64,
        TaskKind::Wallet => facts.has_wallet,
        TaskKind::Channel => facts.channel_member,
    }
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
        let b = batch(3, 1);
        let with = b.with_gaps(&[Some(10.0), Some(20.4), Some(0.0)]).unwrap();
        assert_eq!(
            with.gaps(),
            GapSums {
                n: 3,
                sum: 30,
                sq: 500
            }
        );
        assert_eq!(
            b.with_gaps(&[Some(1.0); 4]),
            Err(TapBatchError::InvalidGaps)
        );
        assert_eq!(b.with_gaps(&[Some(-1.0)]), Err(TapBatchError::InvalidGaps));
        assert_eq!(
            b.with_gaps(&[Some(60_001.0)]),
            Err(TapBatchError::InvalidGaps)
        );
        assert_eq!(b.with_gaps(&[None]), Err(TapBatchError::InvalidGaps));
        assert_eq!(b.with_gaps(&[]).unwrap(), b);
        let even = GapSums {
            n: 4,
            sum: 200,
            sq: 10_000,
        };
        assert_eq!(even.cv(), 0.0);
        assert!((even.mean() - 50.0).abs() < 1e-9);
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
    fn iso_weeks_start_on_monday_utc() {
        // 2026-12-03 is a Thursday in week 49; 2026-12-07 00:00 UTC starts week 50.
        assert_eq!(iso_week(1_796_256_000_000), "2026-W49");
        assert_eq!(iso_week(1_796_601_600_000 - 1), "2026-W49");
        assert_eq!(iso_week(1_796_601_600_000), "2026-W50");
        // 2021-01-03 (Sunday) belongs to 2020-W53; 2024-12-30 (Monday) to 2025-W01.
        assert_eq!(iso_week(1_609_632_000_000), "2020-W53");
        assert_eq!(iso_week(1_735_516_800_000), "2025-W01");
        assert_eq!(iso_week(0), "1970-W01");
    }

    #[test]
    fn a_week_starts_on_its_monday_at_midnight_utc() {
        let monday = 1_796_601_600_000; // 2026-12-07 00:00 UTC
        assert_eq!(week_start(monday), monday);
        assert_eq!(week_start(monday + 6 * 86_400_000 + 86_399_999), monday);
        assert_eq!(week_start(monday - 1), monday - 7 * 86_400_000);
        assert_eq!(iso_week(week_start(monday - 1)), "2026-W49");
        assert_eq!(week_start(0), -3 * 86_400_000);
    }

    #[test]
    fn leagues_follow_total_earned() {
        assert_eq!(league_for(0, &cfg()), "Bronze");
        assert_eq!(league_for(49_999, &cfg()), "Bronze");
        assert_eq!(league_for(50_000, &cfg()), "Silver");
        assert_eq!(league_for(5_000_000, &cfg()), "Platinum");
        assert_eq!(league_for(i64::MAX, &cfg()), "Diamond");
        assert_eq!(league_bounds(0, &cfg()), (0, Some(50_000)));
        assert_eq!(league_bounds(49_999, &cfg()), (0, Some(50_000)));
        assert_eq!(league_bounds(50_000, &cfg()), (50_000, Some(500_000)));
        assert_eq!(league_bounds(i64::MAX, &cfg()), (50_000_000, None));
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

#[cfg(test)]
mod boost_tests {
    use super::*;
    use proptest::prelude::*;

    fn state(balance: i64) -> BoostState {
        BoostState {
            balance,
            energy: Refill::whole(10, 0),
            max_energy: 1000,
            energy_per_sec: 3,
            tap_power: 1,
            multitap_level: 0,
            energy_limit_level: 0,
            refills_day: None,
            refills_used: 0,
        }
    }

    fn cfg() -> BoostsConfig {
        BoostsConfig {
            refills_per_day: 2,
            multitap_costs: vec![100, 200],
            energy_limit_costs: vec![50],
            energy_limit_step: 500,
        }
    }

    #[test]
    fn boost_ids_round_trip() {
        for b in Boost::ALL {
            assert_eq!(Boost::parse(b.id()), Some(b));
        }
        assert_eq!(Boost::parse("turbo"), None);
    }

    #[test]
    fn refills_fill_the_energy_a_few_times_a_day() {
        let s = state(0);
        let one = apply_boost(&s, Boost::Refill, 1000, 7, &cfg()).unwrap();
        assert_eq!(one.state.energy, Refill::whole(1000, 1000));
        assert_eq!((one.cost, one.reference.as_str()), (0, "7:1"));
        let two = apply_boost(&one.state, Boost::Refill, 2000, 7, &cfg()).unwrap();
        assert_eq!(two.reference, "7:2");
        assert_eq!(
            apply_boost(&two.state, Boost::Refill, 3000, 7, &cfg()),
            Err(BoostRefusal::NoRefillsLeft)
        );
        let next_day = apply_boost(&two.state, Boost::Refill, 3000, 8, &cfg()).unwrap();
        assert_eq!(next_day.reference, "8:1");
    }

    #[test]
    fn levels_cost_their_price_and_stop_at_the_last() {
        let s = state(350);
        let m1 = apply_boost(&s, Boost::Multitap, 0, 0, &cfg()).unwrap();
        assert_eq!(
            (m1.cost, m1.state.tap_power, m1.state.balance),
            (100, 2, 250)
        );
        assert_eq!(m1.reference, "multitap:1");
        let m2 = apply_boost(&m1.state, Boost::Multitap, 0, 0, &cfg()).unwrap();
        assert_eq!((m2.state.tap_power, m2.state.balance), (3, 50));
        assert_eq!(
            apply_boost(&m2.state, Boost::Multitap, 0, 0, &cfg()),
            Err(BoostRefusal::MaxLevel)
        );
        let e1 = apply_boost(&m2.state, Boost::EnergyLimit, 1000, 0, &cfg()).unwrap();
        assert_eq!(e1.state.max_energy, 1500);
        assert_eq!(
            e1.state.energy,
            Refill::whole(13, 1000),
            "energy there is stays"
        );
        assert_eq!(
            apply_boost(&e1.state, Boost::EnergyLimit, 0, 0, &cfg()),
            Err(BoostRefusal::MaxLevel)
        );
        assert_eq!(
            apply_boost(&state(99), Boost::Multitap, 0, 0, &cfg()),
            Err(BoostRefusal::InsufficientBalance)
        );
    }

    proptest! {
        #[test]
        fn boosts_never_overdraw_nor_overfill(
            balance in 0i64..2_000,
            ops in proptest::collection::vec((0usize..3, 0i64..100_000, 0i64..3), 1..40),
        ) {
            let cfg = cfg();
            let mut s = state(balance);
            let mut now = 0;
            let mut today = 0;
            let mut spent = 0;
            let mut refills: std::collections::HashMap<i64, i64> = Default::default();
            for (b, wait, days) in ops {
                now += wait;
                today += days;
                let boost = Boost::ALL[b];
                if let Ok(a) = apply_boost(&s, boost, now, today, &cfg) {
                    prop_assert!(a.state.balance >= 0);
                    prop_assert_eq!(a.state.balance, s.balance - a.cost);
                    prop_assert!(a.state.energy.milli <= a.state.max_energy * 1000);
                    prop_assert!(a.state.max_energy >= s.max_energy);
                    if boost == Boost::Refill {
                        *refills.entry(today).or_default() += 1;
                    }
                    spent += a.cost;
                    s = a.state;
                }
            }
            prop_assert_eq!(s.balance, balance - spent);
            prop_assert!(refills.values().all(|n| *n <= cfg.refills_per_day));
            prop_assert_eq!(s.tap_power, 1 + s.multitap_level);
            prop_assert_eq!(s.max_energy, 1000 + 500 * s.energy_limit_level);
        }
    }
}

#[cfg(test)]
mod task_tests {
    use super::*;
    use proptest::prelude::*;

    fn task(kind: TaskKind) -> TaskConfig {
        TaskConfig {
            id: "t".into(),
            title: "T".into(),
            reward: 1,
            kind,
            url: None,
            delay_secs: Some(10),
            count: Some(3),
            chat: None,
        }
    }

    #[test]
    fn each_kind_is_done_by_its_own_fact() {
        let none = TaskFacts::default();
        for kind in [
            TaskKind::Link,
            TaskKind::Invite,
            TaskKind::Wallet,
            TaskKind::Channel,
        ] {
            assert!(!task_done(&task(kind), &none, 1_000_000), "{kind:?}");
        }
        let friends = |n| TaskFacts { friends: n, ..none };
        assert!(!task_done(&task(TaskKind::Invite), &friends(2), 0));
        assert!(task_done(&task(TaskKind::Invite), &friends(3), 0));
        let wallet = TaskFacts {
            has_wallet: true,
            ..none
        };
        assert!(task_done(&task(TaskKind::Wallet), &wallet, 0));
        let member = TaskFacts {
            channel_member: true,
            ..none
        };
        assert!(task_done(&task(TaskKind::Channel), &member, 0));
        assert!(!task_done(&task(TaskKind::Link), &member, 0));
    }

    proptest! {
        #[test]
        fn a_link_pays_exactly_from_its_delay_on(start in 0i64..1_000_000_000, after in 0i64..100_000) {
            let facts = TaskFacts { started_at: Some(start), ..TaskFacts::default() };
            prop_assert_eq!(task_done(&task(TaskKind::Link), &facts, start + after), after >= 10_000);
        }
    }
}
