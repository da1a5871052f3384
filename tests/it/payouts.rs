//! Payouts by the worker: treasury export, hot-wallet transfers through a fake toncenter on
//! loopback (with a crash between sending and recording, and a lost message), and refunds.

use crate::fake_s3::FakeS3;
use crate::support::{clocked, spawn_with, Backend, Options, TestApp};
use axum::extract::{Query, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use futures::future::join_all;
use game::claims::LeasedClaim;
use game::ton::transfer::{read_transfer, HotWallet};
use game::{BroadcastProgress, Courier, Delivery, Game};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use testkit::both_backends;
use worker::objects::Objects;
use worker::payouts::{round, Export, Outcome, Payout, Toncenter, LEASE_MS};

both_backends!(
    export_writes_a_batch_and_an_admin_marks_it_sent,
    export_writes_to_an_s3_bucket_with_the_task_roles_rotating_keys,
    two_workers_never_export_one_claim_twice,
    toncenter_pays_each_claim_once,
    a_crash_between_sending_and_recording_does_not_pay_twice,
    a_lost_transfer_is_sent_again_only_after_it_expired,
    a_failed_payout_is_refunded_and_the_player_told,
);

const RICH: &str = "[energy]\nmax = 100000\n[taps]\nburst = 100000\nmax_batch = 100000\n[limits]\nplayer_burst = 10000\nip_burst = 10000\n[claims]\nmin_amount = 100\nnanotons_per_coin = 1000\n";

/// Gives `player` coins and a wallet of its own, then makes claims of `amounts`.
async fn claims_for(app: &TestApp, player: i64, amounts: &[i64]) -> Vec<i64> {
    let total: i64 = amounts.iter().sum();
    app.fund_with_wallet(player, total).await;
    let mut ids = Vec::new();
    for (i, amount) in amounts.iter().enumerate() {
        let body = json!({"amount": amount, "idempotency_key": format!("k{i}")});
        let c = app
            .call(
                "POST",
                "/api/v1/claims",
                Some(&app.auth(player)),
                Some(body),
            )
            .await;
        assert_eq!(c.status, 201, "{:?}", c.body);
        ids.push(c.body["id"].as_i64().unwrap());
    }
    ids
}

async fn statuses(app: &TestApp, player: i64) -> Vec<(i64, String, Option<String>)> {
    let list = app.get("/api/v1/claims", player).await;
    list.body
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_i64().unwrap(),
                c["status"].as_str().unwrap().to_owned(),
                c["tx_hash"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// Player 3's claim recorded in `batch-crashed` by a worker that stopped before writing its
/// files; the repair writes them.
async fn crashed_batch(app: &TestApp, export: &Export) {
    let c = claims_for(app, 3, &[100]).await;
    app.game.lease_claims("w9", 10, LEASE_MS).await.unwrap();
    app.game
        .mark_claims_exported(&c, "w9", "batch-crashed")
        .await
        .unwrap();
    assert_eq!(export.repair(&app.game).await.unwrap(), 1);
}

fn temp_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("tapwave-payouts-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn export_writes_a_batch_and_an_admin_marks_it_sent(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::game(RICH)).await;
    let a = claims_for(&app, 1, &[100, 250]).await;
    let b = claims_for(&app, 2, &[300]).await;
    let dir = temp_dir();
    let export = Export {
        objects: Arc::new(Objects::Dir(dir.clone())),
    };
    assert_eq!(round(&app.game, &export, None, "w1").await.unwrap(), 3);
    assert_eq!(
        round(&app.game, &export, None, "w1").await.unwrap(),
        0,
        "nothing left to lease"
    );
    let files: Vec<_> = std::fs::read_dir(dir.join("payouts"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    let json_file = files
        .iter()
        .find(|f| f.to_string_lossy().ends_with(".json"))
        .unwrap();
    let batch: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("payouts").join(json_file)).unwrap(),
    )
    .unwrap();
    let transfers = batch["transfers"].as_array().unwrap();
    assert_eq!(transfers.len(), 2, "one transfer per address: {batch}");
    let amounts: Vec<i64> = transfers
        .iter()
        .map(|t| t["amount"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, vec![350, 300]);
    assert_eq!(transfers[0]["claim_ids"], json!(a));
    let csv_file = files
        .iter()
        .find(|f| f.to_string_lossy().ends_with(".csv"))
        .unwrap();
    let csv = std::fs::read_to_string(dir.join("payouts").join(csv_file)).unwrap();
    assert_eq!(csv.lines().count(), 3, "{csv}");
    assert!(statuses(&app, 1)
        .await
        .iter()
        .all(|(_, s, _)| s == "exported"));
    // The treasury paid it: an admin records the transaction.
    let batch_id = batch["batch"].as_str().unwrap();
    assert_eq!(
        app.game
            .mark_batch_sent(99, batch_id, "treasury-tx-1")
            .await
            .unwrap(),
        3
    );
    assert!(
        app.game
            .mark_batch_sent(99, batch_id, "again")
            .await
            .is_err(),
        "a batch is marked sent once"
    );
    for (_, status, tx) in statuses(&app, 2).await {
        assert_eq!(
            (status.as_str(), tx.as_deref()),
            ("sent", Some("treasury-tx-1"))
        );
    }
    assert_eq!(b.len(), 1);
    // Files lost after the record are written again from it.
    std::fs::remove_dir_all(dir.join("payouts")).unwrap();
    crashed_batch(&app, &export).await;
    assert!(dir.join("payouts/batch-crashed.csv").exists());
    std::fs::remove_dir_all(dir).ok();
    app.stop().await;
    stores.remove().await;
}

async fn two_workers_never_export_one_claim_twice(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::game(RICH)).await;
    let mut all = Vec::new();
    for p in 10..16 {
        all.extend(claims_for(&app, p, &[100, 100, 100]).await);
    }
    let dir = temp_dir();
    let export = Export {
        objects: Arc::new(Objects::Dir(dir.clone())),
    };
    let owners = ["w1", "w2", "w3", "w4"];
    let leased: usize = join_all(owners.iter().map(|o| round(&app.game, &export, None, o)))
        .await
        .into_iter()
        .map(Result::unwrap)
        .sum();
    let mut more = 0;
    loop {
        let n = round(&app.game, &export, None, "w1").await.unwrap();
        if n == 0 {
            break;
        }
        more += n;
    }
    assert_eq!(leased + more, all.len(), "every claim leased exactly once");
    let mut seen = Vec::new();
    for entry in std::fs::read_dir(dir.join("payouts")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let batch: Value =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            for t in batch["transfers"].as_array().unwrap() {
                seen.extend(
                    t["claim_ids"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_i64().unwrap()),
                );
            }
        }
    }
    seen.sort();
    all.sort();
    assert_eq!(seen, all, "each claim in exactly one batch");
    std::fs::remove_dir_all(dir).ok();
    app.stop().await;
    stores.remove().await;
}

/// A toncenter-compatible API over a pretend chain: one hot wallet, its seqno and transactions.
#[derive(Default)]
struct Chain {
    seqno: u32,
    txs: Vec<Value>,
    /// Transfers that landed.
    landed: Vec<(i64, u128, String)>,
    /// `sendBoc` calls.
    sends: usize,
    /// Accept the next message and apply it, then answer 500.
    fail_after_accept: bool,
    /// New transactions show up only when [`Chain::confirm`] is called (a chain takes seconds).
    confirm_later: bool,
    pending: Vec<Value>,
    /// Accept the next message and lose it (it never lands).
    lose_next: bool,
}

impl Chain {
    /// The pending transactions become visible.
    fn confirm(&mut self) {
        let pending = std::mem::take(&mut self.pending);
        self.txs.extend(pending);
    }
}

type Fake = Arc<Mutex<Chain>>;

async fn run_get_method(State(chain): State<Fake>) -> Json<Value> {
    let seqno = chain.lock().unwrap().seqno;
    Json(
        json!({"ok": true, "result": {"exit_code": 0, "stack": [["num", format!("0x{seqno:x}")]]}}),
    )
}

async fn send_boc(
    State(chain): State<Fake>,
    Json(body): Json<Value>,
) -> (axum::http::StatusCode, Json<Value>) {
    let boc = base64::engine::general_purpose::STANDARD
        .decode(body["boc"].as_str().unwrap_or_default())
        .unwrap_or_default();
    let mut c = chain.lock().unwrap();
    c.sends += 1;
    let Ok((_, seqno, _, transfer)) = read_transfer(&boc) else {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            Json(json!({"ok": false, "error": "bad boc"})),
        );
    };
    if seqno != c.seqno {
        return (
            axum::http::StatusCode::OK,
            Json(json!({"ok": true, "result": {}})),
        );
    }
    if std::mem::take(&mut c.lose_next) {
        return (
            axum::http::StatusCode::OK,
            Json(json!({"ok": true, "result": {}})),
        );
    }
    c.seqno += 1;
    let hash = format!("tx{}", c.txs.len() + c.pending.len() + 1);
    let claim = game::ton::transfer::claim_id_of(&transfer.comment).unwrap_or(-1);
    c.landed
        .push((claim, transfer.amount, transfer.to.to_raw()));
    let tx = json!({"transaction_id": {"hash": hash}, "out_msgs": [{"destination": transfer.to.to_raw(), "value": transfer.amount.to_string(), "message": transfer.comment}]});
    if c.confirm_later {
        c.pending.push(tx);
    } else {
        c.txs.push(tx);
    }
    if std::mem::take(&mut c.fail_after_accept) {
        return (
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"ok": false, "error": "gateway timeout"})),
        );
    }
    (
        axum::http::StatusCode::OK,
        Json(json!({"ok": true, "result": {}})),
    )
}

async fn get_transactions(
    State(chain): State<Fake>,
    Query(_q): Query<Vec<(String, String)>>,
) -> Json<Value> {
    let txs: Vec<Value> = chain.lock().unwrap().txs.iter().rev().cloned().collect();
    Json(json!({"ok": true, "result": txs}))
}

async fn fake_toncenter() -> (String, Fake) {
    let chain: Fake = Arc::default();
    let app = Router::new()
        .route("/api/v2/runGetMethod", post(run_get_method))
        .route("/api/v2/sendBoc", post(send_boc))
        .route("/api/v2/getTransactions", get(get_transactions))
        .with_state(chain.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), chain)
}

fn adapter(url: &str) -> Toncenter {
    Toncenter::new(
        url.to_owned(),
        Some("key".into()),
        HotWallet::from_secret([42; 32]),
    )
}

async fn toncenter_pays_each_claim_once(backend: Backend) {
    let (options, _clock) = clocked(RICH);
    let (app, stores) = spawn_with(backend, options).await;
    let ids = claims_for(&app, 20, &[100, 200]).await;
    let (url, chain) = fake_toncenter().await;
    let toncenter = adapter(&url);
    assert_eq!(round(&app.game, &toncenter, None, "w1").await.unwrap(), 2);
    {
        let c = chain.lock().unwrap();
        let paid: Vec<(i64, u128)> = c
            .landed
            .iter()
            .map(|(id, amount, _)| (*id, *amount))
            .collect();
        assert_eq!(
            paid,
            vec![(ids[0], 100_000), (ids[1], 200_000)],
            "coins × nanotons_per_coin"
        );
    }
    let s = statuses(&app, 20).await;
    assert!(
        s.iter()
            .all(|(_, status, tx)| status == "sent" && tx.is_some()),
        "{s:?}"
    );
    assert_eq!(round(&app.game, &toncenter, None, "w1").await.unwrap(), 0);
    assert_eq!(chain.lock().unwrap().landed.len(), 2);
    app.stop().await;
    stores.remove().await;
}

async fn a_crash_between_sending_and_recording_does_not_pay_twice(backend: Backend) {
    let (options, clock) = clocked(RICH);
    let (app, stores) = spawn_with(backend, options).await;
    let ids = claims_for(&app, 21, &[150]).await;
    let (url, chain) = fake_toncenter().await;
    {
        let mut c = chain.lock().unwrap();
        c.fail_after_accept = true;
        c.confirm_later = true;
    }
    // Worker 1 sends; the transfer is accepted but the answer is lost, and the chain has not shown
    // it yet: worker 1 records nothing more and dies here.
    assert_eq!(
        round(&app.game, &adapter(&url), None, "w1").await.unwrap(),
        1
    );
    assert_eq!(statuses(&app, 21).await[0].1, "processing");
    chain.lock().unwrap().confirm();
    // The lease runs out; worker 2 takes the claim, finds the transfer on chain, records it.
    clock.advance(LEASE_MS + 1_000);
    assert_eq!(
        round(&app.game, &adapter(&url), None, "w2").await.unwrap(),
        1
    );
    let (landed, sends) = {
        let c = chain.lock().unwrap();
        (c.landed.iter().map(|l| l.0).collect::<Vec<_>>(), c.sends)
    };
    assert_eq!(landed, vec![ids[0]], "paid once");
    assert_eq!(sends, 1, "never sent again");
    let s = statuses(&app, 21).await;
    assert_eq!((s[0].1.as_str(), s[0].2.as_deref()), ("sent", Some("tx1")));
    app.stop().await;
    stores.remove().await;
}

async fn a_lost_transfer_is_sent_again_only_after_it_expired(backend: Backend) {
    let (options, clock) = clocked(RICH);
    let (app, stores) = spawn_with(backend, options).await;
    let ids = claims_for(&app, 22, &[100]).await;
    let (url, chain) = fake_toncenter().await;
    chain.lock().unwrap().lose_next = true;
    assert_eq!(
        round(&app.game, &adapter(&url), None, "w1").await.unwrap(),
        1
    );
    assert_eq!(statuses(&app, 22).await[0].1, "processing");
    // The lease runs out after the message's valid_until: it can never land, so worker 2 sends
    // the claim afresh, once.
    clock.advance(LEASE_MS + 1_000);
    assert_eq!(
        round(&app.game, &adapter(&url), None, "w2").await.unwrap(),
        1
    );
    let (landed, sends) = {
        let c = chain.lock().unwrap();
        (c.landed.iter().map(|l| l.0).collect::<Vec<_>>(), c.sends)
    };
    assert_eq!(sends, 2, "the lost one and its replacement");
    assert_eq!(landed, vec![ids[0]], "landed once");
    assert_eq!(statuses(&app, 22).await[0].1, "sent");
    app.stop().await;
    stores.remove().await;
}

struct Refuses;

#[async_trait::async_trait]
impl Payout for Refuses {
    async fn pay(&self, _: &Game, _: &str, claims: &[LeasedClaim]) -> Vec<(i64, Outcome)> {
        claims
            .iter()
            .map(|c| {
                (
                    c.id,
                    Outcome::Failed("destination refused the transfer".into()),
                )
            })
            .collect()
    }
}

#[derive(Default)]
struct Inbox(Mutex<Vec<(i64, String)>>);

#[async_trait::async_trait]
impl Courier for Inbox {
    async fn deliver(&self, player: i64, text: &str) -> Delivery {
        self.0.lock().unwrap().push((player, text.to_owned()));
        Delivery::Sent
    }
    async fn report(&self, _: &BroadcastProgress) {}
}

async fn a_failed_payout_is_refunded_and_the_player_told(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::game(RICH)).await;
    let ids = claims_for(&app, 23, &[400]).await;
    assert_eq!(app.get("/api/v1/me", 23).await.body["balance"], 0);
    let inbox = Arc::new(Inbox::default());
    let courier: Arc<dyn Courier> = inbox.clone();
    assert_eq!(
        round(&app.game, &Refuses, Some(&courier), "w1")
            .await
            .unwrap(),
        1
    );
    assert_eq!(app.get("/api/v1/me", 23).await.body["balance"], 400);
    assert_eq!(app.ledger_sum(23).await, 400);
    let s = statuses(&app, 23).await;
    assert_eq!((s[0].0, s[0].1.as_str()), (ids[0], "refunded"));
    let told = inbox.0.lock().unwrap().clone();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].0, 23);
    assert!(told[0].1.contains("400"), "{told:?}");
    app.stop().await;
    stores.remove().await;
}

/// `WAREHOUSE_URL=s3://…`: batch files go to the bucket under its prefix, signed with the task
/// role's keys from the credentials endpoint, fetched again when they are rotated; a batch whose
/// files were lost is written again.
async fn export_writes_to_an_s3_bucket_with_the_task_roles_rotating_keys(backend: Backend) {
    let (app, stores) = spawn_with(backend, Options::game(RICH)).await;
    let s3 = FakeS3::start().await;
    let settings = s3.settings();
    let export = Export {
        objects: Arc::new(Objects::from_url("s3://treasury-bucket/events/", &settings).unwrap()),
    };
    let a = claims_for(&app, 1, &[100, 250]).await;
    assert_eq!(round(&app.game, &export, None, "w1").await.unwrap(), 2);
    let keys = s3.keys();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(
        keys.iter()
            .all(|k| k.starts_with("treasury-bucket/events/payouts/batch-")),
        "{keys:?}"
    );
    let json_key = keys.iter().find(|k| k.ends_with(".json")).unwrap();
    let batch: Value = serde_json::from_slice(&s3.object(json_key).unwrap()).unwrap();
    assert_eq!(batch["transfers"][0]["claim_ids"], json!(a));
    assert_eq!(batch["transfers"][0]["amount"], 350);
    let csv_key = keys.iter().find(|k| k.ends_with(".csv")).unwrap();
    let csv = String::from_utf8(s3.object(csv_key).unwrap()).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert_eq!(s3.inner.lock().unwrap().credential_fetches, 1);

    // The role's keys rotate: the next write is refused once, then made with the new keys.
    s3.rotate();
    claims_for(&app, 2, &[300]).await;
    assert_eq!(round(&app.game, &export, None, "w1").await.unwrap(), 1);
    assert_eq!(s3.keys().len(), 4);
    {
        let inner = s3.inner.lock().unwrap();
        assert_eq!(inner.credential_fetches, 2);
        assert_eq!(inner.refused.len(), 1, "{:?}", inner.refused);
        assert!(
            inner.refused[0].2.contains("session token"),
            "{:?}",
            inner.refused
        );
    }

    // A batch recorded without files (a crash) is written by the repair, once.
    crashed_batch(&app, &export).await;
    assert!(s3
        .object("treasury-bucket/events/payouts/batch-crashed.csv")
        .is_some());
    assert_eq!(
        export.repair(&app.game).await.unwrap(),
        0,
        "already written"
    );
    app.stop().await;
    stores.remove().await;
}
