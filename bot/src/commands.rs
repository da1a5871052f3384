//! The bot's commands as typed enums: one for every player, one for admins.
//!
//! teloxide parses a message into a variant (arguments included), so a handler receives
//! `Grant { id, amount }` already checked as numbers. The descriptions shown in Telegram's
//! command menu and in `/help` come from the locale files (`cmd.<name>`), in the player's
//! language; the doc comments here say the same in English for the reader of the code.

use teloxide::macros::BotCommands;

/// Commands every player may use.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum PlayerCommand {
    /// Start the game; `ref_<id>` binds the friend who invited you.
    Start(String),
    /// Open the game.
    Play,
    /// Your balance, energy and level.
    Balance,
    /// The best players.
    Top,
    /// Invite friends with your link.
    Invite,
    /// What the bot can do.
    Help,
}

/// Commands for the ids in `ADMIN_IDS`; anyone else is refused and nothing changes.
#[derive(BotCommands, Clone, Debug, PartialEq, Eq)]
#[command(rename_rule = "lowercase")]
pub enum AdminCommand {
    /// Game statistics.
    Stats,
    /// Ban a player: `/ban <id>`.
    Ban(i64),
    /// Lift a ban: `/unban <id>`.
    Unban(i64),
    /// Give coins: `/grant <id> <amount>`.
    #[command(parse_with = "split")]
    Grant {
        /// The player's Telegram id.
        id: i64,
        /// Coins to add.
        amount: i64,
    },
    /// Message every player: `/broadcast <text>`.
    Broadcast(String),
    /// Pause, resume or show new claims: `/claims pause|resume|status`.
    Claims(String),
    /// Record a paid treasury batch: `/payout_sent <batch> <tx hash>`.
    #[command(rename = "payout_sent", parse_with = "split")]
    PayoutSent {
        /// The batch id from the export file.
        batch: String,
        /// The treasury's transaction hash.
        tx: String,
    },
    /// Players flagged by the anti-cheat.
    Suspects,
    /// Clear a player's anti-cheat flags: `/clear_flags <id>`.
    #[command(rename = "clear_flags")]
    ClearFlags(i64),
}

/// The command names of `C` (without the slash), in declaration order.
pub fn names<C: teloxide::utils::command::BotCommands>() -> Vec<String> {
    C::bot_commands()
        .into_iter()
        .map(|c| c.command.trim_start_matches('/').to_owned())
        .collect()
}

/// Which admin command a message that did not parse was meant to be, if any (for its usage).
pub fn admin_command_named(text: &str) -> Option<String> {
    let word = text.split_whitespace().next()?.strip_prefix('/')?;
    let name = word.split('@').next()?.to_ascii_lowercase();
    names::<AdminCommand>().into_iter().find(|n| *n == name)
}

/// Whether `text` is a command of either enum (parsed or not).
pub fn is_known(text: &str) -> bool {
    admin_command_named(text).is_some()
        || text
            .split_whitespace()
            .next()
            .and_then(|w| w.strip_prefix('/'))
            .and_then(|w| w.split('@').next())
            .is_some_and(|n| names::<PlayerCommand>().contains(&n.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use teloxide::utils::command::BotCommands as _;

    #[test]
    fn commands_parse_with_their_arguments() {
        let p = |t: &str| PlayerCommand::parse(t, "tapwave_bot");
        assert_eq!(p("/start").unwrap(), PlayerCommand::Start(String::new()));
        assert_eq!(
            p("/start ref_42").unwrap(),
            PlayerCommand::Start("ref_42".into())
        );
        assert_eq!(p("/top@tapwave_bot").unwrap(), PlayerCommand::Top);
        assert!(p("/top@other_bot").is_err());
        let a = |t: &str| AdminCommand::parse(t, "tapwave_bot");
        assert_eq!(a("/ban 7").unwrap(), AdminCommand::Ban(7));
        assert!(a("/ban seven").is_err());
        assert_eq!(
            a("/grant 7 500").unwrap(),
            AdminCommand::Grant { id: 7, amount: 500 }
        );
        assert!(a("/grant 7").is_err());
        assert_eq!(
            a("/broadcast Hello, all!").unwrap(),
            AdminCommand::Broadcast("Hello, all!".into())
        );
        assert_eq!(admin_command_named("/grant x"), Some("grant".into()));
        assert_eq!(admin_command_named("/Ban@tapwave_bot"), Some("ban".into()));
        assert_eq!(admin_command_named("/top"), None);
        assert_eq!(a("/suspects").unwrap(), AdminCommand::Suspects);
        assert_eq!(a("/clear_flags 7").unwrap(), AdminCommand::ClearFlags(7));
        assert!(a("/clear_flags").is_err());
        assert_eq!(
            admin_command_named("/clear_flags x"),
            Some("clear_flags".into())
        );
        assert!(is_known("/top") && is_known("/grant") && !is_known("/dance"));
    }
}
