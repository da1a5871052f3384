//! A fake Telegram Bot API on loopback, for the tests and the bench (feature `fake-api`).
//!
//! It answers the methods the bot and the worker call (`getMe`, `getUpdates`, `sendMessage`,
//! `setMyCommands`, `setChatMenuButton`, `getChatMember`, `setWebhook`, `deleteWebhook`,
//! `getWebhookInfo`; anything else with `true`), hands out the updates a test queues to long
//! polling, records every request with its answer so tests can assert on what the bot said, and
//! can be told to fail: 429 with `retry_after`, 403 "bot was blocked by the user", 400 "chat not
//! found", 400 "member list is inaccessible" (the bot is not a channel's admin), or no answer at
//! all (to freeze a sender mid-request, as a crash would find it). `getChatMember` answers each
//! user's scripted status (`member` unless told). It listens on 127.0.0.1 only and stops when
//! dropped.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// The bot's own account, as `getMe` describes it.
pub const BOT_ID: i64 = 7_000_000_001;
/// The bot's username.
pub const BOT_USERNAME: &str = "tapwave_test_bot";

/// A Telegram user the tests write as.
#[derive(Clone, Debug)]
pub struct TgUser {
    /// Telegram id (also their private chat's id).
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Client language, e.g. `en`, `ru`.
    pub language_code: Option<String>,
}

impl TgUser {
    /// A user speaking `lang`.
    pub fn new(id: i64, first_name: &str, lang: &str) -> TgUser {
        TgUser {
            id,
            first_name: first_name.to_owned(),
            language_code: Some(lang.to_owned()),
        }
    }
}

/// A scripted failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Failure {
    /// 429 with `retry_after` seconds.
    RetryAfter(u32),
    /// 403 "Forbidden: bot was blocked by the user".
    Blocked,
    /// 400 "Bad Request: chat not found".
    ChatNotFound,
    /// 400 "Bad Request: member list is inaccessible" (`getChatMember` when the bot is not admin).
    MemberListInaccessible,
    /// No answer, ever (the connection stays open until the fake stops).
    Hang,
}

/// When a scripted failure applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    /// Every call of the method to this chat.
    Chat(i64),
    /// The `n`-th call of the method from now on (1 = the next one), once.
    Nth(usize),
    /// Every call of the method from the `n`-th one from now on.
    From(usize),
}

struct Rule {
    method: String,
    when: When,
    failure: Failure,
    /// Calls of the method when the rule was made.
    base: usize,
}

/// One request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// The method, lower case (`sendmessage`).
    pub method: String,
    /// The JSON body.
    pub body: Value,
    /// Whether it was answered `ok: true`.
    pub ok: bool,
    /// When it arrived.
    pub at: Instant,
}

impl Recorded {
    /// `chat_id` of the request, if any.
    pub fn chat(&self) -> Option<i64> {
        self.body.get("chat_id").and_then(Value::as_i64)
    }

    /// `text` of the request, if any.
    pub fn text(&self) -> &str {
        self.body
            .get("text")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

struct Inner {
    token: String,
    requests: Mutex<Vec<Recorded>>,
    calls: Mutex<HashMap<String, usize>>,
    rules: Mutex<Vec<Rule>>,
    updates: Mutex<Vec<Value>>,
    member_status: Mutex<HashMap<i64, String>>,
    next_update: AtomicI64,
    next_message: AtomicI64,
    changed: Notify,
    record: bool,
}

/// The fake Bot API server.
pub struct FakeTelegram {
    inner: Arc<Inner>,
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

impl FakeTelegram {
    /// Starts a fake for `token` on a free loopback port.
    pub async fn start(token: &str) -> FakeTelegram {
        Self::start_with(token, true).await
    }

    /// As [`FakeTelegram::start`]; with `record` false only counts are kept (for the bench).
    pub async fn start_with(token: &str, record: bool) -> FakeTelegram {
        let inner = Arc::new(Inner {
            token: token.to_owned(),
            requests: Mutex::new(Vec::new()),
            calls: Mutex::new(HashMap::new()),
            rules: Mutex::new(Vec::new()),
            updates: Mutex::new(Vec::new()),
            member_status: Mutex::new(HashMap::new()),
            next_update: AtomicI64::new(1),
            next_message: AtomicI64::new(1),
            changed: Notify::new(),
            record,
        });
        let app = Router::new()
            .route("/{bot}/{method}", post(handle))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port for the fake Bot API");
        let url = format!("http://{}", listener.local_addr().expect("its address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeTelegram { inner, url, task }
    }

    /// The base URL to give the bot (`TELEGRAM_API_URL`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Makes `method` fail as told from now on.
    pub fn fail(&self, method: &str, when: When, failure: Failure) {
        let method = method.to_ascii_lowercase();
        let base = self.calls(&method);
        self.inner.rules.lock().unwrap().push(Rule {
            method,
            when,
            failure,
            base,
        });
    }

    /// Makes `getChatMember` answer `status` for `user` from now on (`member`, `administrator`,
    /// `creator`, `restricted` — still in the chat —, `left`, `kicked`).
    pub fn set_member_status(&self, user: i64, status: &str) {
        self.inner
            .member_status
            .lock()
            .unwrap()
            .insert(user, status.to_owned());
    }

    /// Forgets every scripted failure (hung requests stay hung).
    pub fn heal(&self) {
        self.inner.rules.lock().unwrap().clear();
    }

    /// How many times `method` was called.
    pub fn calls(&self, method: &str) -> usize {
        let calls = self.inner.calls.lock().unwrap();
        calls
            .get(&method.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// The update a user's text message makes (for posting to a webhook).
    pub fn message_update(&self, from: &TgUser, text: &str) -> Value {
        let update_id = self.inner.next_update.fetch_add(1, Ordering::SeqCst);
        let message_id = self.inner.next_message.fetch_add(1, Ordering::SeqCst);
        let mut user = json!({"id": from.id, "is_bot": false, "first_name": from.first_name});
        if let Some(lang) = &from.language_code {
            user["language_code"] = json!(lang);
        }
        let mut message = json!({
            "message_id": message_id,
            "date": unix_now(),
            "chat": {"id": from.id, "type": "private", "first_name": from.first_name},
            "from": user,
            "text": text,
        });
        if text.starts_with('/') {
            let len = text
                .split_whitespace()
                .next()
                .unwrap_or(text)
                .encode_utf16()
                .count();
            message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
        }
        json!({"update_id": update_id, "message": message})
    }

    /// Queues a user's text message for `getUpdates`.
    pub fn send(&self, from: &TgUser, text: &str) {
        let update = self.message_update(from, text);
        self.inner.updates.lock().unwrap().push(update);
        self.inner.changed.notify_waiters();
    }

    /// Every request received, in order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.inner.requests.lock().unwrap().clone()
    }

    /// The requests of one method (lower case or not).
    pub fn requests_of(&self, method: &str) -> Vec<Recorded> {
        let method = method.to_ascii_lowercase();
        self.requests()
            .into_iter()
            .filter(|r| r.method == method)
            .collect()
    }

    /// The messages the bot got through to `chat` (answered `ok`).
    pub fn messages_to(&self, chat: i64) -> Vec<Recorded> {
        self.requests_of("sendMessage")
            .into_iter()
            .filter(|r| r.ok && r.chat() == Some(chat))
            .collect()
    }

    /// Waits until `check` holds over the requests; panics after 30 s (the bot never got there).
    pub async fn wait_until(&self, what: &str, check: impl Fn(&[Recorded]) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let notified = self.inner.changed.notified();
            if check(&self.inner.requests.lock().unwrap()) {
                return;
            }
            if Instant::now() > deadline {
                panic!("the fake Bot API never saw: {what}");
            }
            let _ = tokio::time::timeout(Duration::from_millis(200), notified).await;
        }
    }

    /// Waits until `chat` has received `n` messages and returns them.
    pub async fn wait_messages(&self, chat: i64, n: usize) -> Vec<Recorded> {
        self.wait_until(&format!("{n} messages to {chat}"), |rs| {
            rs.iter()
                .filter(|r| r.method == "sendmessage" && r.ok && r.chat() == Some(chat))
                .count()
                >= n
        })
        .await;
        self.messages_to(chat)
    }
}

fn error(code: u16, description: &str, retry_after: Option<u32>) -> (StatusCode, Value) {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(s) = retry_after {
        body["parameters"] = json!({"retry_after": s});
    }
    (StatusCode::from_u16(code).expect("a status"), body)
}

fn me() -> Value {
    json!({
        "id": BOT_ID, "is_bot": true, "first_name": "tapwave", "username": BOT_USERNAME,
        "can_join_groups": true, "can_read_all_group_messages": false,
        "supports_inline_queries": false, "can_connect_to_business": false,
        "has_main_web_app": false
    })
}

/// A request body as JSON: JSON as is, `multipart/form-data` (teloxide's encoding for methods
/// that may carry files, such as `setWebhook`) as an object of its text fields.
fn body_json(headers: &HeaderMap, body: &[u8]) -> Value {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some(boundary) = content_type
        .strip_prefix("multipart/form-data")
        .and_then(|rest| rest.split("boundary=").nth(1))
    else {
        return serde_json::from_slice(body).unwrap_or(Value::Null);
    };
    let boundary = format!("--{}", boundary.trim_matches('"'));
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(boundary.as_str()) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
        else {
            continue;
        };
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let value = serde_json::from_str::<Value>(value)
            .ok()
            .filter(|v| v.is_array() || v.is_object() || v.is_number() || v.is_boolean())
            .unwrap_or_else(|| Value::String(value.to_owned()));
        fields.insert(name.to_owned(), value);
    }
    Value::Object(fields)
}

async fn handle(
    State(inner): State<Arc<Inner>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if bot != format!("bot{}", inner.token) {
        let (s, b) = error(401, "Unauthorized", None);
        return (s, axum::Json(b)).into_response();
    }
    let method = method.to_ascii_lowercase();
    let body = body_json(&headers, &body);
    let n = {
        let mut calls = inner.calls.lock().unwrap();
        let c = calls.entry(method.clone()).or_insert(0);
        *c += 1;
        *c
    };
    let chat = body.get("chat_id").and_then(Value::as_i64);
    let failure = inner
        .rules
        .lock()
        .unwrap()
        .iter()
        .find(|r| {
            r.method == method
                && match r.when {
                    When::Chat(c) => chat == Some(c),
                    When::Nth(k) => n == r.base + k,
                    When::From(k) => n >= r.base + k,
                }
        })
        .map(|r| r.failure);
    let answer: Result<Value, (StatusCode, Value)> = match failure {
        Some(Failure::Hang) => {
            record(&inner, &method, body, false);
            std::future::pending::<()>().await;
            unreachable!("a hung request is never answered")
        }
        Some(Failure::RetryAfter(s)) => Err(error(
            429,
            &format!("Too Many Requests: retry after {s}"),
            Some(s),
        )),
        Some(Failure::Blocked) => Err(error(403, "Forbidden: bot was blocked by the user", None)),
        Some(Failure::ChatNotFound) => Err(error(400, "Bad Request: chat not found", None)),
        Some(Failure::MemberListInaccessible) => {
            Err(error(400, "Bad Request: member list is inaccessible", None))
        }
        None => Ok(match method.as_str() {
            "getme" => me(),
            "getupdates" => return updates(inner, body).await,
            "sendmessage" => json!({
                "message_id": inner.next_message.fetch_add(1, Ordering::SeqCst),
                "date": unix_now(),
                "chat": {"id": chat.unwrap_or(0), "type": "private", "first_name": "Player"},
                "from": me(),
                "text": body.get("text").cloned().unwrap_or(json!("")),
            }),
            "getwebhookinfo" => {
                json!({"url": "", "has_custom_certificate": false, "pending_update_count": 0})
            }
            "getchatmember" => {
                let user = body.get("user_id").cloned().unwrap_or(json!(0));
                let status = user
                    .as_i64()
                    .and_then(|u| inner.member_status.lock().unwrap().get(&u).cloned())
                    .unwrap_or_else(|| "member".to_owned());
                let mut member = json!({
                    "status": status,
                    "user": {"id": user, "is_bot": false, "first_name": "Player"}
                });
                if status == "restricted" {
                    member["is_member"] = json!(true);
                }
                member
            }
            _ => json!(true),
        }),
    };
    let ok = answer.is_ok();
    record(&inner, &method, body, ok);
    match answer {
        Ok(result) => axum::Json(json!({"ok": true, "result": result})).into_response(),
        Err((status, body)) => (status, axum::Json(body)).into_response(),
    }
}

fn record(inner: &Inner, method: &str, body: Value, ok: bool) {
    if inner.record {
        inner.requests.lock().unwrap().push(Recorded {
            method: method.to_owned(),
            body,
            ok,
            at: Instant::now(),
        });
    }
    inner.changed.notify_waiters();
}

/// Long polling: the queued updates from `offset` on, waiting up to `timeout` for one.
async fn updates(inner: Arc<Inner>, body: Value) -> Response {
    let offset = body.get("offset").and_then(Value::as_i64).unwrap_or(0);
    let timeout = body.get("timeout").and_then(Value::as_u64).unwrap_or(0);
    let deadline = Instant::now() + Duration::from_secs(timeout.min(10));
    loop {
        let notified = inner.changed.notified();
        let ready: Vec<Value> = inner
            .updates
            .lock()
            .unwrap()
            .iter()
            .filter(|u| u["update_id"].as_i64().unwrap_or(0) >= offset)
            .cloned()
            .collect();
        if !ready.is_empty() || Instant::now() >= deadline {
            record(&inner, "getupdates", body, true);
            return axum::Json(json!({"ok": true, "result": ready})).into_response();
        }
        let _ = tokio::time::timeout(deadline - Instant::now(), notified).await;
    }
}
