//! Tasks: open a link, invite friends, connect a wallet, join a channel — each paid once.
//!
//! A check reads what the task needs (the first check of a link, the friends, the wallet, the
//! channel membership), asks [`rules::task_done`], and pays with the economy's pattern: a
//! compare-and-swap on `players.version` and a ledger row `task` / `<task id>` in one
//! transaction. That row is unique per player, so of concurrent checks one pays and the others
//! find it paid. Channel membership comes through a [`ChatMembers`] (the bot's token and the Bot
//! API's `getChatMember`, wired by the binary), so this crate knows nothing of Telegram. Answers
//! are remembered for a minute in-process, so a player pressing "check" again and again costs one
//! Bot API call a minute; a remembered "member" is asked again, uncached, before paying.

use crate::config::{TaskConfig, TaskKind};
use crate::economy::EconomyError;
use crate::rules::{self, TaskFacts};
use crate::{Game, GameError};
use async_trait::async_trait;
use entities::{ledger, player, task_start, wallet};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect,
};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

/// How long a membership answer is remembered (ms).
const MEMBER_CACHE_MS: i64 = 60_000;
/// Membership answers remembered at most before expired ones are dropped.
const MEMBER_CACHE_SIZE: usize = 100_000;

/// Why a channel's membership could not be read.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum MembershipError {
    /// The Bot API answered with an error (the bot is not an admin of the channel, no such chat…).
    #[error("the Bot API refused: {0}")]
    Refused(String),
    /// The Bot API could not be reached, or is overloaded; trying later may work.
    #[error("the Bot API is unreachable: {0}")]
    Unreachable(String),
}

/// Tells whether a user is a member of a chat (the bot implements it with `getChatMember`).
#[async_trait]
pub trait ChatMembers: Send + Sync {
    /// Whether `user` is a member of `chat` (`@username` or a chat id) now.
    async fn is_member(&self, chat: &str, user: i64) -> Result<bool, MembershipError>;
}

/// Membership answers of the last minute, in this process.
#[derive(Default)]
pub(crate) struct MemberCache {
    answers: Mutex<HashMap<(String, i64), (bool, i64)>>,
}

impl MemberCache {
    fn get(&self, chat: &str, user: i64, now: i64) -> Option<bool> {
        let answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        answers
            .get(&(chat.to_owned(), user))
            .filter(|(_, at)| now.saturating_sub(*at) < MEMBER_CACHE_MS)
            .map(|(member, _)| *member)
    }

    fn put(&self, chat: &str, user: i64, member: bool, now: i64) {
        let mut answers = self.answers.lock().unwrap_or_else(|e| e.into_inner());
        if answers.len() >= MEMBER_CACHE_SIZE {
            answers.retain(|_, (_, at)| now.saturating_sub(*at) < MEMBER_CACHE_MS);
        }
        answers.insert((chat.to_owned(), user), (member, now));
    }
}

/// One task as a player sees it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct TaskView {
    /// The task's id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Coins it pays.
    pub reward: i64,
    /// `link`, `invite`, `wallet` or `channel`.
    pub kind: TaskKind,
    /// Whether it has been paid.
    pub done: bool,
    /// `link`: the address to open.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `invite`: friends needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<i64>,
    /// `channel`: the channel to join.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat: Option<String>,
}

/// The answer to a task check.
#[derive(Clone, Copy, Debug, Serialize, PartialEq, Eq)]
pub struct TaskCheck {
    /// Whether the task is done (and paid, by this check or an earlier one).
    pub done: bool,
    /// Coins the task pays.
    pub reward: i64,
    /// Balance after.
    pub balance: i64,
}

impl Game {
    fn task(&self, id: &str) -> Result<&TaskConfig, GameError> {
        self.config()
            .tasks
            .iter()
            .find(|t| t.id == id)
            .ok_or_else(|| EconomyError::UnknownTask.into())
    }

    async fn tasks_paid(&self, id: i64) -> Result<HashSet<String>, GameError> {
        Ok(ledger::Entity::find()
            .select_only()
            .column(ledger::Column::Reference)
            .filter(ledger::Column::PlayerId.eq(id))
            .filter(ledger::Column::Kind.eq("task"))
            .into_tuple::<String>()
            .all(self.db())
            .await?
            .into_iter()
            .collect())
    }

    /// The tasks of the game file, in its order, each with whether the player has been paid.
    pub async fn tasks(&self, id: i64) -> Result<Vec<TaskView>, GameError> {
        self.playing(id).await?;
        let paid = self.tasks_paid(id).await?;
        Ok(self
            .config()
            .tasks
            .iter()
            .map(|t| TaskView {
                id: t.id.clone(),
                title: t.title.clone(),
                reward: t.reward,
                kind: t.kind,
                done: paid.contains(&t.id),
                url: t.url.clone(),
                count: t.count,
                chat: t.chat.clone(),
            })
            .collect())
    }

    /// Checks task `task` for the player and pays it if it is done (see the module header).
    /// `members` answers channel tasks; without it they cannot be checked.
    pub async fn check_task(
        &self,
        id: i64,
        task: &str,
        members: Option<&dyn ChatMembers>,
    ) -> Result<TaskCheck, GameError> {
        let task = self.task(task)?.clone();
        let p = self.playing(id).await?;
        let answer = |done, balance| TaskCheck {
            done,
            reward: task.reward,
            balance,
        };
        if self.tasks_paid(id).await?.contains(&task.id) {
            return Ok(answer(true, p.balance));
        }
        let now = self.now_ms();
        let mut facts = TaskFacts::default();
        match task.kind {
            TaskKind::Link => {
                facts.started_at = self.task_started(id, &task.id, now).await?;
            }
            TaskKind::Invite => {
                facts.friends = player::Entity::find()
                    .filter(player::Column::ReferrerId.eq(id))
                    .count(self.db())
                    .await?;
            }
            TaskKind::Wallet => {
                facts.has_wallet = wallet::Entity::find_by_id(id)
                    .one(self.db())
                    .await?
                    .is_some();
            }
            TaskKind::Channel => {
                let chat = task.chat.as_deref().unwrap_or_default();
                facts.channel_member = self.channel_member(members, chat, id).await?;
            }
        }
        if !rules::task_done(&task, &facts, now) {
            return Ok(answer(false, p.balance));
        }
        let balance = self.pay_task(id, &task).await?;
        Ok(answer(true, balance))
    }

    /// When the player first checked link task `task`; a first check records `now` and answers
    /// `None` (the delay starts now).
    async fn task_started(&self, id: i64, task: &str, now: i64) -> Result<Option<i64>, GameError> {
        let started = task_start::Entity::find_by_id((id, task.to_owned()))
            .one(self.db())
            .await?;
        if let Some(s) = started {
            return Ok(Some(s.started_at));
        }
        let row = task_start::ActiveModel {
            player_id: Set(id),
            task_id: Set(task.to_owned()),
            started_at: Set(now),
        };
        let _writer = self.sqlite_writer().await;
        // Concurrent first checks keep the first instant.
        let inserted = task_start::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([task_start::Column::PlayerId, task_start::Column::TaskId])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await;
        match inserted {
            Ok(_) | Err(DbErr::RecordNotInserted) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether `user` is a member of `chat`: a remembered "not a member" stands for a minute; a
    /// remembered "member" is asked again, since it is about to be paid.
    async fn channel_member(
        &self,
        members: Option<&dyn ChatMembers>,
        chat: &str,
        user: i64,
    ) -> Result<bool, GameError> {
        let members = members.ok_or(EconomyError::ChannelUncheckable)?;
        let now = self.now_ms();
        if self.inner.members.get(chat, user, now) == Some(false) {
            return Ok(false);
        }
        let member = members.is_member(chat, user).await.map_err(|e| {
            tracing::warn!(error = %e, chat, user, "channel membership check failed");
            match e {
                MembershipError::Refused(_) => EconomyError::ChannelUncheckable,
                MembershipError::Unreachable(_) => EconomyError::TelegramUnreachable,
            }
        })?;
        self.inner.members.put(chat, user, member, now);
        Ok(member)
    }

    /// Pays `task` once: returns the balance after this payment, or after the one that won.
    async fn pay_task(&self, id: i64, task: &TaskConfig) -> Result<i64, GameError> {
        match self.credit_once(id, task.reward, "task", &task.id).await? {
            Some(balance) => {
                metrics::counter!("tasks_paid_total").increment(1);
                Ok(balance)
            }
            // Another check paid it first.
            None => Ok(self.playing(id).await?.balance),
        }
    }
}
