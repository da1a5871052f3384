//! The game file (`GAME_CONFIG`): the economy and limits a studio tunes without recompiling.
//!
//! Every key has a built-in default and a file may set any subset. Unknown keys are refused so that
//! a typo (`max_per_secnd`) is caught at start instead of silently keeping the default. Values are
//! checked once here; the rules downstream trust them.

use serde::Deserialize;
use std::path::Path;

/// The whole game file.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct GameConfig {
    /// Energy of a new player.
    pub energy: EnergyConfig,
    /// Tap batches and the human ceiling.
    pub taps: TapsConfig,
    /// Claims to a TON wallet.
    pub claims: ClaimsConfig,
    /// The anti-cheat detector.
    pub anticheat: AnticheatConfig,
    /// API rate limits shared by every instance.
    pub limits: LimitsConfig,
    /// Player levels by coins ever earned.
    pub levels: LevelsConfig,
    /// Leagues by coins ever earned.
    pub leagues: LeaguesConfig,
    /// The Telegram bot's per-player command limit.
    pub bot: BotLimitsConfig,
    /// Upgrade cards (`[[upgrades]]`); a file that lists any replaces the built-in set.
    pub upgrades: Vec<UpgradeConfig>,
    /// Passive income from upgrades.
    pub passive: PassiveConfig,
    /// The daily reward streak.
    pub daily: DailyConfig,
    /// Boosts: free refills, multitap and energy-limit levels.
    pub boosts: BoostsConfig,
    /// Tasks (`[[tasks]]`); a file that lists any replaces the built-in set.
    pub tasks: Vec<TaskConfig>,
    /// Referral bonuses.
    pub referrals: ReferralsConfig,
    /// The daily combo: hidden cards to buy each UTC day.
    pub combo: ComboConfig,
    /// The daily cipher: a word to enter in Morse each UTC day.
    pub cipher: CipherConfig,
}

impl Default for GameConfig {
    fn default() -> Self {
        Self {
            energy: EnergyConfig::default(),
            taps: TapsConfig::default(),
            claims: ClaimsConfig::default(),
            anticheat: AnticheatConfig::default(),
            limits: LimitsConfig::default(),
            levels: LevelsConfig::default(),
            leagues: LeaguesConfig::default(),
            bot: BotLimitsConfig::default(),
            upgrades: UpgradeConfig::built_in(),
            passive: PassiveConfig::default(),
            daily: DailyConfig::default(),
            boosts: BoostsConfig::default(),
            tasks: TaskConfig::built_in(),
            referrals: ReferralsConfig::default(),
            combo: ComboConfig::default(),
            cipher: CipherConfig::default(),
        }
    }
}

/// One `[[upgrades]]` card: bought level by level, each level adding passive income.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UpgradeConfig {
    /// Stable id used in URLs and the ledger (`a-z`, `0-9`, `_`, `-`).
    pub id: String,
    /// Name shown to players.
    pub name: String,
    /// Tab the card is shown under.
    pub category: String,
    /// Cost of level 1.
    pub base_cost: i64,
    /// Cost multiplier per level (1.15: each level costs 15% more than the one before).
    pub cost_growth: f64,
    /// Income per hour that level 1 adds.
    pub base_income_per_hour: i64,
    /// Multiplier per level of the income each further level adds.
    pub income_growth: f64,
    /// Highest level.
    pub max_level: i64,
}

impl UpgradeConfig {
    /// The built-in cards.
    pub fn built_in() -> Vec<UpgradeConfig> {
        let card = |id: &str, name: &str, category: &str, cost: i64, income: i64, max: i64| {
            UpgradeConfig {
                id: id.to_owned(),
                name: name.to_owned(),
                category: category.to_owned(),
                base_cost: cost,
                cost_growth: 1.15,
                base_income_per_hour: income,
                income_growth: 1.05,
                max_level: max,
            }
        };
        vec![
            card("fan_tokens", "Fan tokens", "markets", 1_000, 100, 25),
            card("staking", "Staking", "markets", 2_500, 240, 25),
            card("support_team", "Support team", "team", 1_500, 120, 25),
            card("marketing", "Marketing", "team", 5_000, 450, 20),
            card("telegram_ads", "Telegram Ads", "specials", 10_000, 800, 15),
            card(
                "partnerships",
                "Partnerships",
                "specials",
                25_000,
                1_800,
                10,
            ),
        ]
    }
}

/// `[passive]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PassiveConfig {
    /// Hours of absence that passive income accrues for at most.
    pub cap_hours: i64,
}

impl Default for PassiveConfig {
    fn default() -> Self {
        Self { cap_hours: 3 }
    }
}

/// `[daily]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DailyConfig {
    /// Reward of streak day 1, 2, …; the last value repeats.
    pub rewards: Vec<i64>,
}

impl Default for DailyConfig {
    fn default() -> Self {
        Self {
            rewards: vec![500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000],
        }
    }
}

/// `[combo]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ComboConfig {
    /// Upgrade cards drawn each UTC day, 0 to 10 (0: no combo; fewer when the game has fewer).
    pub size: usize,
    /// Coins for buying a level of every card of the day's combo on that day.
    pub reward: i64,
}

impl Default for ComboConfig {
    fn default() -> Self {
        Self {
            size: 3,
            reward: 25_000,
        }
    }
}

/// `[cipher]`.
/// The built-in cipher words: about 30 of each length from 3 to 7 letters, so that knowing the
/// day's length (the Mini App shows it) and the list (it is public) wins by blind guessing about
/// once in ten days with 3 attempts. A studio should set its own (`tapwave` warns at start).
pub const DEFAULT_CIPHER_WORDS: [&str; 153] = [
    "TAP", "TON", "GEM", "BOT", "BIT", "COG", "FOX", "OWL", "SUN", "ICE", "ORE", "RAY", "JET",
    "ZAP", "WIN", "KEY", "MAP", "ARC", "HEX", "ORB", "VIP", "AXE", "BOW", "CUP", "ELF", "FIN",
    "HUB", "OAK", "YAK", "EMU", "COIN", "MOON", "WAVE", "GOLD", "MINT", "BANK", "CASH", "DICE",
    "DUCK", "FISH", "FROG", "GAME", "HERO", "JADE", "KING", "LION", "LOOT", "MINE", "NOVA", "PEAK",
    "RUBY", "SAFE", "SHIP", "STAR", "TIDE", "TOWN", "WOLF", "ZERO", "BOLT", "CLAN", "DRUM", "EPIC",
    "FIRE", "WHALE", "TOKEN", "CHAIN", "BLOCK", "EARTH", "FLAME", "GIANT", "HONEY", "JEWEL",
    "LUCKY", "MAGIC", "MEDAL", "NINJA", "OCEAN", "PIXEL", "QUEST", "RIVER", "ROYAL", "SPARK",
    "STORM", "TIGER", "TOWER", "VAULT", "WHEEL", "CROWN", "EAGLE", "FORGE", "GHOST", "LASER",
    "ROBOT", "ROCKET", "WALLET", "BRIDGE", "CASTLE", "DRAGON", "FOREST", "GALAXY", "GOBLIN",
    "HUNTER", "JUNGLE", "LEGEND", "MARKET", "METEOR", "ORACLE", "PLANET", "POTION", "RUNNER",
    "SHIELD", "SILVER", "TEMPLE", "TRADER", "WIZARD", "ZENITH", "CANYON", "HARBOR", "KNIGHT",
    "PIRATE", "SPHINX", "TUNDRA", "COSMOS", "DIAMOND", "CAPTAIN", "CRYSTAL", "DOLPHIN", "EMERALD",
    "FORTUNE", "HARVEST", "JACKPOT", "LANTERN", "MACHINE", "MINERAL", "MYSTERY", "PHOENIX",
    "PYRAMID", "RAINBOW", "VOLCANO", "WARRIOR", "GLACIER", "COMPASS", "GRIFFIN", "MONARCH",
    "NEUTRON", "PENGUIN", "SHERIFF", "TORNADO", "UNICORN", "VOYAGER", "BALLOON", "HORIZON",
    "ECLIPSE",
];

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct CipherConfig {
    /// Words one of which is drawn each UTC day: 1 to 16 of `A`–`Z` and `0`–`9` (none: no cipher).
    pub words: Vec<String>,
    /// Coins for entering the day's word.
    pub reward: i64,
    /// Guesses a player has per day.
    pub attempts_per_day: i64,
}

impl Default for CipherConfig {
    fn default() -> Self {
        Self {
            words: DEFAULT_CIPHER_WORDS.map(String::from).to_vec(),
            reward: 10_000,
            attempts_per_day: 3,
        }
    }
}

/// What a task asks of the player.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// Open a link (`url`); paid `delay_secs` after the first check.
    Link,
    /// Invite `count` friends.
    Invite,
    /// Connect a TON wallet.
    Wallet,
    /// Join a channel (`chat`), checked with the Bot API's `getChatMember`.
    Channel,
}

/// One `[[tasks]]` entry: paid once per player when done.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TaskConfig {
    /// Stable id used in URLs and the ledger (`a-z`, `0-9`, `_`, `-`).
    pub id: String,
    /// Title shown to players.
    pub title: String,
    /// Coins paid once the task is done.
    pub reward: i64,
    /// What the task asks.
    pub kind: TaskKind,
    /// `link`: the address to open (`https://…` or `http://…`).
    pub url: Option<String>,
    /// `link`: seconds after the first check before it pays.
    pub delay_secs: Option<i64>,
    /// `invite`: friends needed.
    pub count: Option<i64>,
    /// `channel`: the channel, `@username` or its numeric id (the bot must be an admin there).
    pub chat: Option<String>,
}

impl TaskConfig {
    /// The built-in tasks.
    pub fn built_in() -> Vec<TaskConfig> {
        let task =
            |id: &str, title: &str, reward: i64, kind: TaskKind, count: Option<i64>| TaskConfig {
                id: id.to_owned(),
                title: title.to_owned(),
                reward,
                kind,
                url: None,
                delay_secs: None,
                count,
                chat: None,
            };
        vec![
            task(
                "invite_1",
                "Invite a friend",
                5_000,
                TaskKind::Invite,
                Some(1),
            ),
            task(
                "invite_3",
                "Invite 3 friends",
                25_000,
                TaskKind::Invite,
                Some(3),
            ),
            task(
                "connect_wallet",
                "Connect your TON wallet",
                10_000,
                TaskKind::Wallet,
                None,
            ),
        ]
    }

    /// Seconds a `link` task waits after its first check (10 unless set).
    pub fn delay(&self) -> i64 {
        self.delay_secs.unwrap_or(10)
    }
}

/// `[referrals]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ReferralsConfig {
    /// Coins to the friend and to the referrer when a friend becomes active (0: none).
    pub bonus: i64,
    /// The same for a friend with Telegram Premium.
    pub premium_bonus: i64,
    /// Share of a friend's earnings the player collects, in basis points (1000: 10 %; 0: none).
    pub share_bps: i64,
    /// Share of a friend's friend's earnings, in basis points (250: 2.5 %).
    pub second_share_bps: i64,
    /// Coins a player collects from one friend's (or friend's friend's) earnings at most, ever.
    pub share_cap: i64,
}

impl Default for ReferralsConfig {
    fn default() -> Self {
        Self {
            bonus: 5_000,
            premium_bonus: 25_000,
            share_bps: 1_000,
            second_share_bps: 250,
            share_cap: 1_000_000,
        }
    }
}

/// `[boosts]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BoostsConfig {
    /// Free full-energy refills per UTC day.
    pub refills_per_day: i64,
    /// Cost of multitap level 1, 2, …; each level adds 1 to the player's tap power.
    pub multitap_costs: Vec<i64>,
    /// Cost of energy-limit level 1, 2, …; each level adds `energy_limit_step` to the energy cap.
    pub energy_limit_costs: Vec<i64>,
    /// Energy cap added by each energy-limit level.
    pub energy_limit_step: i64,
}

impl Default for BoostsConfig {
    fn default() -> Self {
        let costs = vec![
            2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 2_000_000,
        ];
        Self {
            refills_per_day: 6,
            multitap_costs: costs.clone(),
            energy_limit_costs: costs,
            energy_limit_step: 500,
        }
    }
}

/// `[energy]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct EnergyConfig {
    /// Energy cap of a new player.
    pub max: i64,
    /// Energy regenerated per second.
    pub per_second: i64,
    /// Coins per accepted tap for a new player (each tap also costs this much energy).
    pub tap_power: i64,
}

impl Default for EnergyConfig {
    fn default() -> Self {
        Self {
            max: 1000,
            per_second: 3,
            tap_power: 1,
        }
    }
}

/// `[taps]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TapsConfig {
    /// Sustained taps per second a human can make.
    pub max_per_second: i64,
    /// Taps allowed above the ceiling (the bucket's capacity).
    pub burst: i64,
    /// Largest count one request may carry.
    pub max_batch: i64,
}

impl Default for TapsConfig {
    fn default() -> Self {
        Self {
            max_per_second: 20,
            burst: 100,
            max_batch: 1000,
        }
    }
}

/// `[claims]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ClaimsConfig {
    /// Smallest claim.
    pub min_amount: i64,
    /// Most coins one player may claim per UTC day; 0 for no cap.
    pub player_daily_cap: i64,
    /// Most coins all players together may claim per UTC day; 0 for no cap.
    pub global_daily_cap: i64,
    /// Seconds a player waits between two claims; 0 for none.
    pub cooldown_secs: i64,
    /// Whether a claim needs a wallet proven with TON Connect's `ton_proof`.
    pub require_proven_wallet: bool,
    /// Whether testnet addresses are accepted (for a staging game).
    pub allow_testnet: bool,
    /// Domains a `ton_proof` may name; empty: the host of `WEBAPP_URL`.
    pub proof_domains: Vec<String>,
    /// Seconds a `ton_proof` payload and a proof's timestamp stay valid.
    pub proof_ttl_secs: i64,
    /// Nanotons paid per coin by the `toncenter` payout adapter.
    pub nanotons_per_coin: i64,
    /// Claims per payout batch.
    pub payout_batch: i64,
    /// Whether a player with an open anti-cheat flag is refused claims (403 `claims_blocked`).
    pub exclude_flagged: bool,
}

impl Default for ClaimsConfig {
    fn default() -> Self {
        Self {
            min_amount: 1000,
            player_daily_cap: 0,
            global_daily_cap: 0,
            cooldown_secs: 0,
            require_proven_wallet: false,
            allow_testnet: false,
            proof_domains: Vec::new(),
            proof_ttl_secs: 900,
            nanotons_per_coin: 1_000_000,
            payout_batch: 100,
            exclude_flagged: false,
        }
    }
}

/// `[anticheat]`: what makes the detector flag a player (see `anticheat.rs`).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct AnticheatConfig {
    /// Whether the detector runs at all.
    pub enabled: bool,
    /// A batch is at the ceiling when its taps reach this share of what the human ceiling
    /// allowed since the previous batch (or when the ceiling refused some of them).
    pub ceiling_share: f64,
    /// Consecutive batches at the ceiling that raise a `ceiling_rate` flag.
    pub ceiling_batches: i64,
    /// Tap intervals (`gaps`) collected before their regularity is judged.
    pub regular_min_taps: i64,
    /// Coefficient of variation of the intervals below which tapping is machine-regular.
    pub regular_max_cv: f64,
    /// Distinct players who linked one wallet that get each of them a `shared_wallet` flag.
    pub accounts_per_wallet: i64,
    /// Taps in a row sent in batches of two or more without `gaps` (which the Mini App always
    /// measures) that raise an `untimed_taps` flag; 0: off.
    pub untimed_taps: i64,
}

impl Default for AnticheatConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            ceiling_share: 0.9,
            ceiling_batches: 30,
            regular_min_taps: 200,
            regular_max_cv: 0.05,
            accounts_per_wallet: 3,
            untimed_taps: 2000,
        }
    }
}

/// `[limits]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Sustained API calls per second per player.
    pub player_per_second: u32,
    /// Calls a player may make above that in a burst.
    pub player_burst: u32,
    /// Sustained API calls per second per client address.
    pub ip_per_second: u32,
    /// Calls an address may make above that in a burst.
    pub ip_burst: u32,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            player_per_second: 10,
            player_burst: 30,
            ip_per_second: 100,
            ip_burst: 300,
        }
    }
}

/// `[levels]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LevelsConfig {
    /// Coins ever earned needed for level 2, 3, …; level 1 needs nothing. Strictly increasing.
    pub thresholds: Vec<i64>,
}

impl Default for LevelsConfig {
    fn default() -> Self {
        Self {
            thresholds: vec![
                5_000,
                25_000,
                100_000,
                1_000_000,
                2_000_000,
                10_000_000,
                50_000_000,
                100_000_000,
                1_000_000_000,
            ],
        }
    }
}

/// `[leagues]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LeaguesConfig {
    /// The leagues' names, lowest first (1 to 20, each 1 to 32 characters, all different).
    pub names: Vec<String>,
    /// Coins ever earned needed for the second league, the third, …; the first needs nothing.
    /// One fewer than `names`, strictly increasing.
    pub thresholds: Vec<i64>,
}

impl Default for LeaguesConfig {
    fn default() -> Self {
        Self {
            names: ["Bronze", "Silver", "Gold", "Platinum", "Diamond"]
                .map(String::from)
                .to_vec(),
            thresholds: vec![50_000, 500_000, 5_000_000, 50_000_000],
        }
    }
}

/// `[bot]`.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct BotLimitsConfig {
    /// Sustained bot commands per second per player (shared by all instances).
    pub commands_per_second: u32,
    /// Commands a player may send above that in a burst.
    pub commands_burst: u32,
}

impl Default for BotLimitsConfig {
    fn default() -> Self {
        Self {
            commands_per_second: 1,
            commands_burst: 10,
        }
    }
}

/// Why a game file was refused: the key and the problem, in one line.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct ConfigError(pub String);

impl GameConfig {
    /// Reads and checks a game file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("cannot read {}: {e}", path.display())))?;
        Self::parse(&text)
    }

    /// Parses and checks the text of a game file.
    pub fn parse(text: &str) -> Result<Self, ConfigError> {
        let cfg: GameConfig = toml::from_str(text)
            .map_err(|e| ConfigError(e.to_string().lines().collect::<Vec<_>>().join(" ")))?;
        cfg.check()?;
        Ok(cfg)
    }

    /// Checks every value's range; the first problem found is named by its key.
    pub fn check(&self) -> Result<(), ConfigError> {
        fn at_least(key: &str, value: i64, min: i64) -> Result<(), ConfigError> {
            if value < min {
                return Err(ConfigError(format!(
                    "{key} must be at least {min}, got {value}"
                )));
            }
            Ok(())
        }
        let e = &self.energy;
        at_least("energy.max", e.max, 1)?;
        at_least("energy.per_second", e.per_second, 0)?;
        at_least("energy.tap_power", e.tap_power, 1)?;
        let t = &self.taps;
        at_least("taps.max_per_second", t.max_per_second, 1)?;
        at_least("taps.burst", t.burst, 0)?;
        at_least("taps.max_batch", t.max_batch, 1)?;
        let c = &self.claims;
        at_least("claims.min_amount", c.min_amount, 1)?;
        at_least("claims.player_daily_cap", c.player_daily_cap, 0)?;
        at_least("claims.global_daily_cap", c.global_daily_cap, 0)?;
        at_least("claims.cooldown_secs", c.cooldown_secs, 0)?;
        at_least("claims.proof_ttl_secs", c.proof_ttl_secs, 60)?;
        at_least("claims.nanotons_per_coin", c.nanotons_per_coin, 1)?;
        at_least("claims.payout_batch", c.payout_batch, 1)?;
        self.check_anticheat()?;
        for (i, d) in c.proof_domains.iter().enumerate() {
            if d.is_empty() || d.contains(['/', ' ', ':']) {
                return Err(ConfigError(format!("claims.proof_domains[{i}] must be a host name like game.example.com, got {d:?}")));
            }
        }
        let l = &self.limits;
        at_least("limits.player_per_second", l.player_per_second.into(), 1)?;
        at_least("limits.ip_per_second", l.ip_per_second.into(), 1)?;
        at_least(
            "bot.commands_per_second",
            self.bot.commands_per_second.into(),
            1,
        )?;
        let mut previous = 0;
        for (i, &threshold) in self.levels.thresholds.iter().enumerate() {
            if threshold <= previous {
                return Err(ConfigError(format!(
                    "levels.thresholds[{i}] must be greater than {previous}, got {threshold}"
                )));
            }
            previous = threshold;
        }
        self.check_leagues()?;
        self.check_daily_loops()?;
        self.check_economy()
    }

    fn check_daily_loops(&self) -> Result<(), ConfigError> {
        let most = crate::claims::MAX_AMOUNT;
        let amount = |key: &str, v: i64| {
            if (0..=most).contains(&v) {
                Ok(())
            } else {
                Err(ConfigError(format!(
                    "{key} must be from 0 to {most}, got {v}"
                )))
            }
        };
        let c = &self.combo;
        if c.size > 10 {
            return Err(ConfigError(format!(
                "combo.size must be from 0 to 10, got {}",
                c.size
            )));
        }
        amount("combo.reward", c.reward)?;
        let ci = &self.cipher;
        for (i, w) in ci.words.iter().enumerate() {
            let ok = (1..=16).contains(&w.len())
                && w.bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
            if !ok {
                return Err(ConfigError(format!(
                    "cipher.words[{i}] must be 1 to 16 of A-Z and 0-9, got {w:?}"
                )));
            }
        }
        amount("cipher.reward", ci.reward)?;
        if !(1..=1000).contains(&ci.attempts_per_day) {
            return Err(ConfigError(format!(
                "cipher.attempts_per_day must be from 1 to 1000, got {}",
                ci.attempts_per_day
            )));
        }
        let r = &self.referrals;
        for (key, bps) in [
            ("referrals.share_bps", r.share_bps),
            ("referrals.second_share_bps", r.second_share_bps),
        ] {
            if !(0..=10_000).contains(&bps) {
                return Err(ConfigError(format!(
                    "{key} must be from 0 to 10000 (basis points), got {bps}"
                )));
            }
        }
        amount("referrals.share_cap", r.share_cap)
    }

    fn check_anticheat(&self) -> Result<(), ConfigError> {
        let a = &self.anticheat;
        let within = |key: &str, value: i64, min: i64, max: i64| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError(format!(
                    "anticheat.{key} must be from {min} to {max}, got {value}"
                )))
            }
        };
        let share = |key: &str, value: f64, min: f64, max: f64| {
            if value.is_finite() && value > min && value <= max {
                Ok(())
            } else {
                Err(ConfigError(format!(
                    "anticheat.{key} must be above {min} and at most {max}, got {value}"
                )))
            }
        };
        share("ceiling_share", a.ceiling_share, 0.0, 1.0)?;
        within("ceiling_batches", a.ceiling_batches, 1, 100_000)?;
        within("regular_min_taps", a.regular_min_taps, 2, 100_000)?;
        share("regular_max_cv", a.regular_max_cv, 0.0, 1.0)?;
        within("accounts_per_wallet", a.accounts_per_wallet, 2, 1_000)?;
        if a.untimed_taps != 0 && !(10..=1_000_000).contains(&a.untimed_taps) {
            return Err(ConfigError(format!(
                "anticheat.untimed_taps must be 0 (off) or from 10 to 1000000, got {}",
                a.untimed_taps
            )));
        }
        Ok(())
    }

    fn check_leagues(&self) -> Result<(), ConfigError> {
        let l = &self.leagues;
        if l.names.is_empty() || l.names.len() > 20 {
            return Err(ConfigError(format!(
                "leagues.names must list 1 to 20 leagues, got {}",
                l.names.len()
            )));
        }
        for (i, name) in l.names.iter().enumerate() {
            let chars = name.trim().chars().count();
            if chars == 0 || chars > 32 || name.trim() != name {
                return Err(ConfigError(format!(
                    "leagues.names[{i}] must be 1 to 32 characters without surrounding spaces, got {name:?}"
                )));
            }
            if l.names[..i].contains(name) {
                return Err(ConfigError(format!("leagues.names[{i}] repeats {name:?}")));
            }
        }
        if l.thresholds.len() + 1 != l.names.len() {
            return Err(ConfigError(format!(
                "leagues.thresholds must have one value fewer than leagues.names ({}), got {}",
                l.names.len() - 1,
                l.thresholds.len()
            )));
        }
        let mut previous = 0;
        for (i, &threshold) in l.thresholds.iter().enumerate() {
            if threshold <= previous {
                return Err(ConfigError(format!(
                    "leagues.thresholds[{i}] must be greater than {previous}, got {threshold}"
                )));
            }
            previous = threshold;
        }
        Ok(())
    }

    fn check_economy(&self) -> Result<(), ConfigError> {
        fn at_least(key: &str, value: i64, min: i64) -> Result<(), ConfigError> {
            if value < min {
                return Err(ConfigError(format!(
                    "{key} must be at least {min}, got {value}"
                )));
            }
            Ok(())
        }
        fn growth(key: &str, value: f64) -> Result<(), ConfigError> {
            if !(1.0..=10.0).contains(&value) {
                return Err(ConfigError(format!(
                    "{key} must be from 1.0 to 10.0, got {value}"
                )));
            }
            Ok(())
        }
        for (i, u) in self.upgrades.iter().enumerate() {
            let key = |field: &str| format!("upgrades[{i}].{field}");
            let id_ok = (1..=32).contains(&u.id.len())
                && u.id.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !id_ok {
                return Err(ConfigError(format!(
                    "{} must be 1 to 32 characters of a-z, 0-9, '_' or '-', got {:?}",
                    key("id"),
                    u.id
                )));
            }
            if self.upgrades[..i].iter().any(|o| o.id == u.id) {
                return Err(ConfigError(format!(
                    "{} {:?} is used by an earlier upgrade",
                    key("id"),
                    u.id
                )));
            }
            for (field, text) in [("name", &u.name), ("category", &u.category)] {
                if text.trim().is_empty() {
                    return Err(ConfigError(format!("{} must not be empty", key(field))));
                }
            }
            at_least(&key("base_cost"), u.base_cost, 1)?;
            growth(&key("cost_growth"), u.cost_growth)?;
            at_least(&key("base_income_per_hour"), u.base_income_per_hour, 0)?;
            growth(&key("income_growth"), u.income_growth)?;
            at_least(&key("max_level"), u.max_level, 1)?;
            if u.max_level > 100 {
                return Err(ConfigError(format!(
                    "{} must be at most 100, got {}",
                    key("max_level"),
                    u.max_level
                )));
            }
        }
        at_least("passive.cap_hours", self.passive.cap_hours, 1)?;
        if self.passive.cap_hours > 720 {
            return Err(ConfigError(format!(
                "passive.cap_hours must be at most 720, got {}",
                self.passive.cap_hours
            )));
        }
        if self.daily.rewards.is_empty() {
            return Err(ConfigError(
                "daily.rewards must list at least one reward".into(),
            ));
        }
        for (i, r) in self.daily.rewards.iter().enumerate() {
            at_least(&format!("daily.rewards[{i}]"), *r, 0)?;
            if *r > crate::claims::MAX_AMOUNT {
                return Err(ConfigError(format!(
                    "daily.rewards[{i}] must be at most {}, got {r}",
                    crate::claims::MAX_AMOUNT
                )));
            }
        }
        self.check_boosts()
    }

    fn check_tasks(&self) -> Result<(), ConfigError> {
        for (i, t) in self.tasks.iter().enumerate() {
            let key = |field: &str| format!("tasks[{i}].{field}");
            let bad = |field: &str, why: String| Err(ConfigError(format!("{} {why}", key(field))));
            let id_ok = (1..=32).contains(&t.id.len())
                && t.id.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-'
                });
            if !id_ok {
                return bad(
                    "id",
                    format!(
                        "must be 1 to 32 characters of a-z, 0-9, '_' or '-', got {:?}",
                        t.id
                    ),
                );
            }
            if self.tasks[..i].iter().any(|o| o.id == t.id) {
                return bad("id", format!("{:?} is used by an earlier task", t.id));
            }
            if t.title.trim().is_empty() {
                return bad("title", "must not be empty".into());
            }
            if !(1..=crate::claims::MAX_AMOUNT).contains(&t.reward) {
                return bad(
                    "reward",
                    format!(
                        "must be from 1 to {}, got {}",
                        crate::claims::MAX_AMOUNT,
                        t.reward
                    ),
                );
            }
            let (needs, kind): (&[&str], &str) = match t.kind {
                TaskKind::Link => (&["url"], "link"),
                TaskKind::Invite => (&["count"], "invite"),
                TaskKind::Wallet => (&[], "wallet"),
                TaskKind::Channel => (&["chat"], "channel"),
            };
            for (field, set) in [
                ("url", t.url.is_some()),
                ("delay_secs", t.delay_secs.is_some()),
                ("count", t.count.is_some()),
                ("chat", t.chat.is_some()),
            ] {
                let allowed = needs.contains(&field) || (field == "delay_secs" && kind == "link");
                if set && !allowed {
                    return bad(field, format!("does not apply to a {kind} task"));
                }
                if !set && needs.contains(&field) {
                    return bad(field, format!("is required for a {kind} task"));
                }
            }
            if let Some(url) = &t.url {
                let ok = (url.starts_with("https://") || url.starts_with("http://"))
                    && url.len() <= 2048
                    && !url.contains(char::is_whitespace);
                if !ok {
                    return bad("url", format!("must be an http(s) URL, got {url:?}"));
                }
            }
            if let Some(d) = t.delay_secs {
                if !(0..=86_400).contains(&d) {
                    return bad("delay_secs", format!("must be from 0 to 86400, got {d}"));
                }
            }
            if let Some(c) = t.count {
                if !(1..=1_000_000).contains(&c) {
                    return bad("count", format!("must be from 1 to 1000000, got {c}"));
                }
            }
            if let Some(chat) = &t.chat {
                let name = chat.strip_prefix('@').unwrap_or_default();
                let username = (5..=32).contains(&name.len())
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
                let id = chat.parse::<i64>().is_ok_and(|n| n < 0);
                if !username && !id {
                    return bad(
                        "chat",
                        format!("must be @username or a negative chat id, got {chat:?}"),
                    );
                }
            }
        }
        Ok(())
    }

    fn check_boosts(&self) -> Result<(), ConfigError> {
        let b = &self.boosts;
        let within = |key: &str, value: i64, min: i64, max: i64| {
            if (min..=max).contains(&value) {
                Ok(())
            } else {
                Err(ConfigError(format!(
                    "{key} must be from {min} to {max}, got {value}"
                )))
            }
        };
        self.check_tasks()?;
        let r = &self.referrals;
        within("referrals.bonus", r.bonus, 0, crate::claims::MAX_AMOUNT)?;
        within(
            "referrals.premium_bonus",
            r.premium_bonus,
            0,
            crate::claims::MAX_AMOUNT,
        )?;
        within("boosts.refills_per_day", b.refills_per_day, 0, 100)?;
        within(
            "boosts.energy_limit_step",
            b.energy_limit_step,
            1,
            1_000_000,
        )?;
        for (name, costs) in [
            ("multitap_costs", &b.multitap_costs),
            ("energy_limit_costs", &b.energy_limit_costs),
        ] {
            if costs.len() > 100 {
                return Err(ConfigError(format!(
                    "boosts.{name} may list at most 100 levels, got {}",
                    costs.len()
                )));
            }
            for (i, c) in costs.iter().enumerate() {
                within(
                    &format!("boosts.{name}[{i}]"),
                    *c,
                    1,
                    crate::claims::MAX_AMOUNT,
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_file_is_the_built_in_defaults() {
        assert_eq!(GameConfig::parse("").unwrap(), GameConfig::default());
        GameConfig::default().check().unwrap();
    }

    #[test]
    fn a_file_may_set_any_subset() {
        let cfg = GameConfig::parse("[taps]\nmax_batch = 50\n").unwrap();
        assert_eq!(cfg.taps.max_batch, 50);
        assert_eq!(cfg.taps.burst, 100);
        assert_eq!(cfg.energy, EnergyConfig::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let err = GameConfig::parse("[taps]\nmax_per_secnd = 5\n").unwrap_err();
        assert!(err.0.contains("max_per_secnd"), "{err}");
        let err = GameConfig::parse("[energy]\nmax = 0\n").unwrap_err();
        assert_eq!(err.0, "energy.max must be at least 1, got 0");
        let err = GameConfig::parse("[levels]\nthresholds = [10, 5]\n").unwrap_err();
        assert!(err.0.starts_with("levels.thresholds[1]"), "{err}");
        let err =
            GameConfig::parse("[leagues]\nnames = [\"A\", \"B\"]\nthresholds = []\n").unwrap_err();
        assert!(err.0.starts_with("leagues.thresholds must have"), "{err}");
        let err =
            GameConfig::parse("[leagues]\nnames = [\"A\", \"A\"]\nthresholds = [5]\n").unwrap_err();
        assert_eq!(err.0, "leagues.names[1] repeats \"A\"");
        let err =
            GameConfig::parse("[leagues]\nnames = [\"A\", \"B\"]\nthresholds = [0]\n").unwrap_err();
        assert!(err.0.starts_with("leagues.thresholds[0]"), "{err}");
        let err = GameConfig::parse("[leagues]\nnames = []\nthresholds = []\n").unwrap_err();
        assert!(err.0.starts_with("leagues.names must list"), "{err}");
        let err = GameConfig::parse("[passive]\ncap_hours = 0\n").unwrap_err();
        assert_eq!(err.0, "passive.cap_hours must be at least 1, got 0");
        let err = GameConfig::parse("[daily]\nrewards = []\n").unwrap_err();
        assert!(err.0.starts_with("daily.rewards"), "{err}");
        let card = "[[upgrades]]\nid = \"a\"\nname = \"A\"\ncategory = \"c\"\nbase_cost = 10\ncost_growth = 0.5\nbase_income_per_hour = 1\nincome_growth = 1.0\nmax_level = 3\n";
        let err = GameConfig::parse(card).unwrap_err();
        assert!(err.0.starts_with("upgrades[0].cost_growth"), "{err}");
        let ok = card.replace("0.5", "1.2");
        let cfg = GameConfig::parse(&ok).unwrap();
        assert_eq!(
            cfg.upgrades.len(),
            1,
            "a file's cards replace the built-in set"
        );
        let err = GameConfig::parse(&format!("{ok}{ok}")).unwrap_err();
        assert!(err.0.starts_with("upgrades[1].id"), "{err}");
        let err = GameConfig::parse("[boosts]\nmultitap_costs = [10, 0]\n").unwrap_err();
        assert_eq!(
            err.0,
            "boosts.multitap_costs[1] must be from 1 to 1000000000000000, got 0"
        );
        let err = GameConfig::parse("[referrals]\nbonus = -5\n").unwrap_err();
        assert!(err.0.starts_with("referrals.bonus must be from 0"), "{err}");
        let err = GameConfig::parse("[boosts]\nrefills_per_day = -1\n").unwrap_err();
        assert!(err.0.starts_with("boosts.refills_per_day"), "{err}");
        let link = "[[tasks]]\nid = \"site\"\ntitle = \"Visit\"\nreward = 10\nkind = \"link\"\n";
        let err = GameConfig::parse(link).unwrap_err();
        assert_eq!(err.0, "tasks[0].url is required for a link task");
        let cfg = GameConfig::parse(&format!("{link}url = \"https://example.com\"\n")).unwrap();
        assert_eq!(
            cfg.tasks.len(),
            1,
            "a file's tasks replace the built-in set"
        );
        assert_eq!(cfg.tasks[0].delay(), 10);
        let err = GameConfig::parse(&format!("{link}url = \"https://example.com\"\ncount = 2\n"))
            .unwrap_err();
        assert_eq!(err.0, "tasks[0].count does not apply to a link task");
        let channel = "[[tasks]]\nid = \"join\"\ntitle = \"Join\"\nreward = 10\nkind = \"channel\"\nchat = \"news\"\n";
        let err = GameConfig::parse(channel).unwrap_err();
        assert!(
            err.0.starts_with("tasks[0].chat must be @username"),
            "{err}"
        );
        assert!(GameConfig::parse(&channel.replace("\"news\"\n", "\"@tapwave_news\"\n")).is_ok());
        let err = GameConfig::parse(
            "[[tasks]]\nid = \"x\"\ntitle = \"X\"\nreward = 1\nkind = \"dance\"\n",
        )
        .unwrap_err();
        assert!(err.0.contains("dance"), "{err}");
        let err = GameConfig::parse("[anticheat]\nceiling_share = 1.5\n").unwrap_err();
        assert!(err.0.starts_with("anticheat.ceiling_share"), "{err}");
        let err = GameConfig::parse("[anticheat]\naccounts_per_wallet = 1\n").unwrap_err();
        assert_eq!(
            err.0,
            "anticheat.accounts_per_wallet must be from 2 to 1000, got 1"
        );
        let err = GameConfig::parse("[anticheat]\nuntimed_taps = 5\n").unwrap_err();
        assert_eq!(
            err.0,
            "anticheat.untimed_taps must be 0 (off) or from 10 to 1000000, got 5"
        );
        assert!(GameConfig::parse("[anticheat]\nuntimed_taps = 0\n").is_ok());
        let err = GameConfig::parse("[anticheat]\nregular_max_cv = 0\n").unwrap_err();
        assert!(err.0.starts_with("anticheat.regular_max_cv"), "{err}");
        let err = GameConfig::parse("[energy]\nmax = \"lots\"\n").unwrap_err();
        assert!(!err.0.contains('\n') && err.0.contains("max"), "{err}");
    }
}

#[cfg(test)]
mod example {
    /// The commented example in the repository is a valid game file equal to the defaults.
    #[test]
    fn the_example_file_is_the_defaults() {
        let text = include_str!("../../game.example.toml");
        assert_eq!(
            super::GameConfig::parse(text).unwrap(),
            super::GameConfig::default()
        );
    }
}
