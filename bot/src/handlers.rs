//! The whole bot as one handler tree, [`schema`], and its endpoints.
//!
//! A message from a user flows down the tree: first the per-player command limit (shared through
//! the game's limiter, so through Redis across instances), then admin commands (refused, with no
//! change, unless the sender is in `ADMIN_IDS`), then a banned player's clear word, then player
//! commands, and finally a helpful answer to anything else. Endpoints are small: read the
//! message, call one `Game` service, answer in the player's language. Telegram failures while
//! answering go to the dispatcher's error handler (logged); a game failure gets an apology.

use crate::commands::{self, AdminCommand, PlayerCommand};
use crate::i18n::{Lang, Texts};
use crate::{Settings, TgBot};
use game::{
    BanChange, Decision, Game, GameError, Granted, LeaderboardView, Rate, Standing, TelegramUser,
};
use std::sync::Arc;
use teloxide::dispatching::{UpdateFilterExt, UpdateHandler};
use teloxide::prelude::*;
use teloxide::types::{ChatKind, InlineKeyboardButton, InlineKeyboardMarkup, Me, User, WebAppInfo};

/// Why an endpoint failed: Telegram refused or could not be reached while answering.
#[derive(Debug, thiserror::Error)]
pub enum BotError {
    /// A Bot API request failed.
    #[error(transparent)]
    Telegram(#[from] teloxide::RequestError),
}

/// What every endpoint returns.
pub type HandlerResult = Result<(), BotError>;

/// The bot: every update the bot handles, as one tree (see the module header).
pub fn schema() -> UpdateHandler<BotError> {
    let admin = teloxide::filter_command::<AdminCommand, _>()
        .branch(dptree::filter(not_admin).endpoint(refuse))
        .branch(dptree::case![AdminCommand::Stats].endpoint(stats))
        .branch(
            dptree::case![AdminCommand::Ban(id)]
                .map(|id: i64| BanOrder { id, banned: true })
                .endpoint(set_ban),
        )
        .branch(
            dptree::case![AdminCommand::Unban(id)]
                .map(|id: i64| BanOrder { id, banned: false })
                .endpoint(set_ban),
        )
        .branch(dptree::case![AdminCommand::Grant { id, amount }].endpoint(grant))
        .branch(dptree::case![AdminCommand::Broadcast(text)].endpoint(broadcast))
        .branch(dptree::case![AdminCommand::Claims(action)].endpoint(claims))
        .branch(dptree::case![AdminCommand::PayoutSent { batch, tx }].endpoint(payout_sent))
        .branch(dptree::case![AdminCommand::Suspects].endpoint(suspects))
        .branch(dptree::case![AdminCommand::ClearFlags(id)].endpoint(clear_flags));
    let player = teloxide::filter_command::<PlayerCommand, _>()
        .branch(dptree::case![PlayerCommand::Start(payload)].endpoint(start))
        .branch(dptree::case![PlayerCommand::Play].endpoint(play))
        .branch(dptree::case![PlayerCommand::Balance].endpoint(balance))
        .branch(dptree::case![PlayerCommand::Top].endpoint(top))
        .branch(dptree::case![PlayerCommand::Invite].endpoint(invite))
        .branch(dptree::case![PlayerCommand::Help].endpoint(help));
    Update::filter_message()
        .filter_map(|msg: Message| msg.from.clone())
        .branch(dptree::filter_async(over_limit).endpoint(slow_down))
        .branch(admin)
        .branch(dptree::filter_async(is_banned).endpoint(banned))
        .branch(player)
        .endpoint(fallback)
}

fn lang(user: &User) -> Lang {
    Lang::from_code(user.language_code.as_deref())
}

fn profile(user: &User) -> TelegramUser {
    TelegramUser {
        id: user.id.0 as i64,
        first_name: user.first_name.clone(),
        last_name: user.last_name.clone(),
        username: user.username.clone(),
        language_code: user.language_code.clone(),
        is_premium: user.is_premium,
    }
}

fn uid(user: &User) -> i64 {
    user.id.0 as i64
}

/// The Play button: opens the Mini App in a private chat; elsewhere (web_app buttons are for
/// private chats only) a link to the bot.
fn play_keyboard(
    msg_chat: Option<&ChatKind>,
    s: &Settings,
    me: Option<&Me>,
    text: String,
) -> InlineKeyboardMarkup {
    let private = msg_chat.is_none_or(|k| matches!(k, ChatKind::Private(_)));
    let button = match (private, me) {
        (false, Some(me)) => InlineKeyboardButton::url(text, me.tme_url()),
        _ => InlineKeyboardButton::web_app(
            text,
            WebAppInfo {
                url: s.webapp_url.clone(),
            },
        ),
    };
    InlineKeyboardMarkup::new([[button]])
}

async fn say(bot: &TgBot, msg: &Message, text: String) -> HandlerResult {
    bot.send_message(msg.chat.id, text).await?;
    Ok(())
}

async fn say_with_play(
    bot: &TgBot,
    msg: &Message,
    s: &Settings,
    texts: &Texts,
    lang: Lang,
    me: &Me,
    text: String,
) -> HandlerResult {
    let keyboard = play_keyboard(
        Some(&msg.chat.kind),
        s,
        Some(me),
        texts.get(lang, "msg.play_button"),
    );
    bot.send_message(msg.chat.id, text)
        .reply_markup(keyboard)
        .await?;
    Ok(())
}

/// Answers a failed game call: an apology, and the cause in the log.
async fn oops(
    bot: &TgBot,
    msg: &Message,
    texts: &Texts,
    lang: Lang,
    e: GameError,
) -> HandlerResult {
    tracing::warn!(error = %e, chat = msg.chat.id.0, "bot command failed");
    say(bot, msg, texts.get(lang, "msg.error")).await
}

fn not_admin(user: User, s: Arc<Settings>) -> bool {
    !s.is_admin(uid(&user))
}

async fn over_limit(user: User, game: Game) -> bool {
    let l = &game.config().bot;
    let rate = Rate {
        per_second: l.commands_per_second,
        burst: l.commands_burst,
    };
    match game.check_rate(&format!("bot:{}", uid(&user)), rate).await {
        Ok(Decision::Allow) => false,
        Ok(Decision::Deny { .. }) => true,
        Err(e) => {
            // The limiter protects the game; losing it must not silence the bot.
            tracing::warn!(error = %e, "bot limiter unavailable; letting the command through");
            false
        }
    }
}

async fn slow_down(
    bot: TgBot,
    msg: Message,
    user: User,
    game: Game,
    texts: Texts,
) -> HandlerResult {
    // One warning a second at most, so a flood of commands is not answered by a flood.
    let warn = Rate {
        per_second: 1,
        burst: 0,
    };
    match game
        .check_rate(&format!("bot-warned:{}", uid(&user)), warn)
        .await
    {
        Ok(Decision::Allow) => say(&bot, &msg, texts.get(lang(&user), "msg.slow_down")).await,
        _ => Ok(()),
    }
}

async fn is_banned(user: User, game: Game) -> bool {
    matches!(game.standing(uid(&user)).await, Ok(Standing::Banned))
}

async fn banned(bot: TgBot, msg: Message, user: User, texts: Texts) -> HandlerResult {
    say(&bot, &msg, texts.get(lang(&user), "msg.banned")).await
}

async fn refuse(bot: TgBot, msg: Message, user: User, texts: Texts) -> HandlerResult {
    tracing::info!(user = uid(&user), "admin command refused to a non-admin");
    say(&bot, &msg, texts.get(lang(&user), "msg.not_admin")).await
}

#[allow(clippy::too_many_arguments)]
async fn start(
    bot: TgBot,
    msg: Message,
    user: User,
    payload: String,
    game: Game,
    s: Arc<Settings>,
    texts: Texts,
    me: Me,
) -> HandlerResult {
    let l = lang(&user);
    let referral = game::parse_referral(&payload);
    let started = match game.start_player(&profile(&user), referral).await {
        Ok(started) => started,
        Err(e) => return oops(&bot, &msg, &texts, l, e).await,
    };
    if started.banned {
        return say(&bot, &msg, texts.get(l, "msg.banned")).await;
    }
    let name: &(dyn std::fmt::Display + Sync) = &user.first_name;
    let mut text = if started.new {
        texts.fill(l, "msg.welcome_new", &[("name", name)])
    } else {
        texts.fill(l, "msg.welcome_back", &[("name", name)])
    };
    if started.referrer.is_some() {
        text.push_str("\n\n");
        text.push_str(&texts.get(l, "msg.referred"));
    }
    say_with_play(&bot, &msg, &s, &texts, l, &me, text).await
}

async fn play(
    bot: TgBot,
    msg: Message,
    user: User,
    s: Arc<Settings>,
    texts: Texts,
    me: Me,
) -> HandlerResult {
    let l = lang(&user);
    say_with_play(&bot, &msg, &s, &texts, l, &me, texts.get(l, "msg.play")).await
}

/// Runs `f` for the sender; a sender the game does not know yet (a command before any
/// `/start`) is created first and `f` runs again. Known players cost no extra read.
async fn as_player<T, F, Fut>(game: &Game, user: &User, f: F) -> Result<T, GameError>
where
    F: Fn(i64) -> Fut,
    Fut: std::future::Future<Output = Result<T, GameError>>,
{
    let id = uid(user);
    match f(id).await {
        Err(GameError::UnknownPlayer) => {
            game.upsert_player(&profile(user), game.now_ms()).await?;
            f(id).await
        }
        other => other,
    }
}

async fn balance(bot: TgBot, msg: Message, user: User, game: Game, texts: Texts) -> HandlerResult {
    let l = lang(&user);
    match as_player(&game, &user, |id| game.me(id)).await {
        Ok(v) => {
            let text = texts.fill(
                l,
                "msg.balance",
                &[
                    ("balance", &v.balance),
                    ("energy", &v.energy),
                    ("max_energy", &v.max_energy),
                    ("level", &v.level),
                ],
            );
            say(&bot, &msg, text).await
        }
        Err(e) => oops(&bot, &msg, &texts, l, e).await,
    }
}

/// The leaderboard as a message.
pub fn leaderboard_text(texts: &Texts, l: Lang, view: &LeaderboardView) -> String {
    let mut text = texts.get(l, "msg.top_header");
    if view.top.is_empty() {
        text.push('\n');
        text.push_str(&texts.get(l, "msg.top_empty"));
        return text;
    }
    for e in &view.top {
        text.push('\n');
        text.push_str(&texts.fill(
            l,
            "msg.top_line",
            &[
                ("rank", &e.rank),
                ("name", &e.name),
                ("balance", &e.balance),
            ],
        ));
    }
    text.push_str("\n\n");
    text.push_str(&texts.fill(
        l,
        "msg.top_me",
        &[("rank", &view.me.rank), ("balance", &view.me.balance)],
    ));
    text
}

async fn top(bot: TgBot, msg: Message, user: User, game: Game, texts: Texts) -> HandlerResult {
    let l = lang(&user);
    match as_player(&game, &user, |id| game.leaderboard(id, 10)).await {
        Ok(v) => say(&bot, &msg, leaderboard_text(&texts, l, &v)).await,
        Err(e) => oops(&bot, &msg, &texts, l, e).await,
    }
}

/// The player's invitation link: `https://t.me/<bot>?start=ref_<id>`.
pub fn invite_link(me: &Me, player: i64) -> String {
    format!("https://t.me/{}?start=ref_{player}", me.username())
}

async fn invite(
    bot: TgBot,
    msg: Message,
    user: User,
    game: Game,
    texts: Texts,
    me: Me,
) -> HandlerResult {
    let l = lang(&user);
    let count = as_player(&game, &user, |id| {
        let game = game.clone();
        async move {
            // The link must name a player, so that friends who follow it can be bound.
            game.me(id).await?;
            game.friends_count(id).await
        }
    })
    .await;
    let count = match count {
        Ok(c) => c,
        Err(e) => return oops(&bot, &msg, &texts, l, e).await,
    };
    let link = invite_link(&me, uid(&user));
    let text = texts.fill(l, "msg.invite", &[("link", &link), ("count", &count)]);
    let mut share = reqwest::Url::parse("https://t.me/share/url").expect("a valid URL");
    share
        .query_pairs_mut()
        .append_pair("url", &link)
        .append_pair("text", &texts.get(l, "msg.share_text"));
    let keyboard = InlineKeyboardMarkup::new([[InlineKeyboardButton::url(
        texts.get(l, "msg.share_button"),
        share,
    )]]);
    bot.send_message(msg.chat.id, text)
        .reply_markup(keyboard)
        .await?;
    Ok(())
}

/// The `/help` text: player commands, and admin commands for admins.
pub fn help_text(texts: &Texts, l: Lang, admin: bool) -> String {
    let mut text = texts.get(l, "msg.help_header");
    for name in commands::names::<PlayerCommand>() {
        text.push_str(&format!(
            "\n/{name} — {}",
            texts.get(l, &format!("cmd.{name}"))
        ));
    }
    if admin {
        text.push_str("\n\n");
        text.push_str(&texts.get(l, "msg.help_admin_header"));
        for name in commands::names::<AdminCommand>() {
            text.push_str(&format!(
                "\n/{name} — {}",
                texts.get(l, &format!("cmd.{name}"))
            ));
        }
    }
    text
}

async fn help(
    bot: TgBot,
    msg: Message,
    user: User,
    s: Arc<Settings>,
    texts: Texts,
) -> HandlerResult {
    let text = help_text(&texts, lang(&user), s.is_admin(uid(&user)));
    say(&bot, &msg, text).await
}

async fn fallback(
    bot: TgBot,
    msg: Message,
    user: User,
    s: Arc<Settings>,
    texts: Texts,
    me: Me,
) -> HandlerResult {
    let l = lang(&user);
    let text = msg.text().unwrap_or_default();
    // An admin command whose arguments did not parse: its usage for admins, a refusal to others.
    if let Some(name) = commands::admin_command_named(text) {
        if !s.is_admin(uid(&user)) {
            return refuse(bot, msg, user, texts).await;
        }
        return say(&bot, &msg, texts.get(l, &format!("msg.usage_{name}"))).await;
    }
    say_with_play(&bot, &msg, &s, &texts, l, &me, texts.get(l, "msg.unknown")).await
}

async fn stats(bot: TgBot, msg: Message, user: User, game: Game, texts: Texts) -> HandlerResult {
    let l = lang(&user);
    match game.stats(uid(&user)).await {
        Ok(st) => {
            let text = texts.fill(
                l,
                "msg.stats",
                &[
                    ("players", &st.players),
                    ("active", &st.active_today),
                    ("banned", &st.banned),
                    ("batches", &st.tap_batches_today),
                    ("tap_coins", &st.tap_coins_today),
                    ("coins", &st.coins_today),
                    ("broadcasts", &st.running_broadcasts),
                    ("claims", &st.pending_claims),
                ],
            );
            say(&bot, &msg, text).await
        }
        Err(e) => oops(&bot, &msg, &texts, l, e).await,
    }
}

/// A `/ban` or `/unban`: whom, and which way.
#[derive(Clone, Copy, Debug)]
struct BanOrder {
    id: i64,
    banned: bool,
}

async fn set_ban(
    bot: TgBot,
    msg: Message,
    user: User,
    order: BanOrder,
    game: Game,
    texts: Texts,
) -> HandlerResult {
    let l = lang(&user);
    let (admin, id) = (uid(&user), order.id);
    let (verb, changed) = if order.banned {
        ("ban", game.ban(admin, id).await)
    } else {
        ("unban", game.unban(admin, id).await)
    };
    let key = match changed {
        Ok(BanChange::Changed) => format!("msg.{verb}_done"),
        Ok(BanChange::Unchanged) => format!("msg.{verb}_already"),
        Err(GameError::UnknownPlayer) => "msg.no_such_player".to_owned(),
        Err(e) => return oops(&bot, &msg, &texts, l, e).await,
    };
    tracing::info!(admin, player = id, "{verb}");
    say(&bot, &msg, texts.fill(l, &key, &[("id", &id)])).await
}

#[allow(clippy::too_many_arguments)]
async fn grant(
    bot: TgBot,
    msg: Message,
    user: User,
    (id, amount): (i64, i64),
    game: Game,
    texts: Texts,
) -> HandlerResult {
    let l = lang(&user);
    // The admin's message names the grant: a redelivered update is the same grant.
    let grant_id = format!("{}:{}", msg.chat.id.0, msg.id.0);
    let text = match game.grant(uid(&user), id, amount, &grant_id).await {
        Ok(Granted {
            balance,
            duplicate: false,
        }) => texts.fill(
            l,
            "msg.grant_done",
            &[("id", &id), ("amount", &amount), ("balance", &balance)],
        ),
        Ok(Granted {
            balance,
            duplicate: true,
        }) => texts.fill(
            l,
            "msg.grant_duplicate",
            &[("id", &id), ("balance", &balance)],
        ),
        Err(GameError::UnknownPlayer) => texts.fill(l, "msg.no_such_player", &[("id", &id)]),
        Err(GameError::InvalidAmount) => texts.get(l, "msg.grant_invalid"),
        Err(e) => return oops(&bot, &msg, &texts, l, e).await,
    };
    tracing::info!(admin = uid(&user), player = id, amount, "grant");
    say(&bot, &msg, text).await
}

async fn broadcast(
    bot: TgBot,
    msg: Message,
    user: User,
    text: String,
    game: Game,
    texts: Texts,
) -> HandlerResult {
    let l = lang(&user);
    if text.trim().is_empty() {
        return say(&bot, &msg, texts.get(l, "msg.usage_broadcast")).await;
    }
    let answer = match game
        .create_broadcast(uid(&user), Some(l.code()), &text)
        .await
    {
        Ok(p) => texts.fill(
            l,
            "msg.broadcast_queued",
            &[("id", &p.id), ("total", &p.total)],
        ),
        Err(GameError::InvalidText) => texts.get(l, "msg.broadcast_invalid"),
        Err(e) => return oops(&bot, &msg, &texts, l, e).await,
    };
    tracing::info!(admin = uid(&user), "broadcast queued");
    say(&bot, &msg, answer).await
}

async fn claims(
    bot: TgBot,
    msg: Message,
    user: User,
    action: String,
    game: Game,
    texts: Texts,
) -> HandlerResult {
    let l = lang(&user);
    let key = match action.trim() {
        "pause" => game
            .set_claims_paused(uid(&user), true)
            .await
            .map(|()| "msg.claims_paused"),
        "resume" => game
            .set_claims_paused(uid(&user), false)
            .await
            .map(|()| "msg.claims_resumed"),
        "status" | "" => match game.claims_paused().await {
            Ok(true) => Ok("msg.claims_status_paused"),
            Ok(false) => Ok("msg.claims_status_open"),
            Err(e) => Err(e),
        },
        _ => Ok("msg.usage_claims"),
    };
    let key = match key {
        Ok(k) => k,
        Err(e) => return oops(&bot, &msg, &texts, l, e).await,
    };
    tracing::info!(admin = uid(&user), action = %action.trim(), "claims switch");
    let pending = game.pending_claims().await.unwrap_or(0);
    say(&bot, &msg, texts.fill(l, key, &[("pending", &pending)])).await
}

async fn payout_sent(
    bot: TgBot,
    msg: Message,
    user: User,
    (batch, tx): (String, String),
    game: Game,
    texts: Texts,
) -> HandlerResult {
    let l = lang(&user);
    let text = match game.mark_batch_sent(uid(&user), &batch, &tx).await {
        Ok(n) => texts.fill(
            l,
            "msg.payout_sent_done",
            &[("batch", &batch), ("claims", &n), ("tx", &tx)],
        ),
        Err(GameError::Claim(_)) => texts.fill(l, "msg.payout_sent_unknown", &[("batch", &batch)]),
        Err(e) => return oops(&bot, &msg, &texts, l, e).await,
    };
    tracing::info!(admin = uid(&user), batch = %batch, "payout batch sent");
    say(&bot, &msg, text).await
}

/// Open flags `/suspects` lists at most.
const SUSPECTS_SHOWN: u64 = 30;

/// A unix-ms instant as `YYYY-MM-DD HH:MM` (UTC).
pub fn utc_minute(ms: i64) -> String {
    // Howard Hinnant's days-to-civil, for the proleptic Gregorian calendar.
    let days = ms.div_euclid(86_400_000);
    let minute = ms.rem_euclid(86_400_000) / 60_000;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        minute / 60,
        minute % 60
    )
}

async fn suspects(bot: TgBot, msg: Message, user: User, game: Game, texts: Texts) -> HandlerResult {
    let l = lang(&user);
    let list = match game.suspects(SUSPECTS_SHOWN).await {
        Ok(list) => list,
        Err(e) => return oops(&bot, &msg, &texts, l, e).await,
    };
    tracing::info!(admin = uid(&user), open = list.len(), "suspects listed");
    if list.is_empty() {
        return say(&bot, &msg, texts.get(l, "msg.suspects_none")).await;
    }
    let mut text = texts.get(l, "msg.suspects_header");
    for s in &list {
        let line = texts.fill(
            l,
            "msg.suspects_line",
            &[
                ("id", &s.player_id),
                ("name", &s.name),
                ("reason", &s.reason),
                ("detail", &s.detail),
                ("when", &utc_minute(s.created_at)),
            ],
        );
        // One Telegram message holds 4096 characters.
        if text.chars().count() + line.chars().count() > 3800 {
            text.push('\n');
            text.push_str(&texts.get(l, "msg.suspects_more"));
            break;
        }
        text.push('\n');
        text.push_str(&line);
    }
    say(&bot, &msg, text).await
}

async fn clear_flags(
    bot: TgBot,
    msg: Message,
    user: User,
    id: i64,
    game: Game,
    texts: Texts,
) -> HandlerResult {
    let l = lang(&user);
    let text = match game.clear_flags(uid(&user), id).await {
        Ok(count) => texts.fill(l, "msg.clear_flags_done", &[("id", &id), ("count", &count)]),
        Err(GameError::UnknownPlayer) => texts.fill(l, "msg.no_such_player", &[("id", &id)]),
        Err(e) => return oops(&bot, &msg, &texts, l, e).await,
    };
    tracing::info!(admin = uid(&user), player = id, "flags cleared");
    say(&bot, &msg, text).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn instants_read_as_utc_minutes() {
        assert_eq!(super::utc_minute(0), "1970-01-01 00:00");
        // 2026-12-03 16:44:08 UTC.
        assert_eq!(super::utc_minute(1_796_316_248_000), "2026-12-03 16:44");
        assert_eq!(super::utc_minute(951_782_400_000), "2000-02-29 00:00");
    }
}
