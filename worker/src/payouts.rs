//! Claim payouts: lease pending claims, pay them through a [`Payout`] adapter, record the result.
//!
//! Two adapters:
//! - [`Export`] (the default) writes each batch as CSV and JSON under `WAREHOUSE_URL` (a folder
//!   or an S3 bucket, see [`crate::objects`]) for a treasury multi-send and marks its claims
//!   `exported`; an admin later marks the batch sent with its transaction hash. The database is written first and the files derived from it, so a crash
//!   between the two leaves a batch whose files are written again on the next round — never claims
//!   that reach two batches.
//! - [`Toncenter`] sends TON from a hot wallet through a toncenter-compatible HTTP API, one claim
//!   per transfer, each transfer's comment naming its claim. Before sending, the claim records that
//!   a transfer is on its way and until when it can land (`valid_until`); a claim leased again after
//!   a crash is first looked for on chain, and only sent again once its old message can no longer
//!   land. A claim is paid at most once.
//!
//! Several workers may run at once: leases (`FOR UPDATE SKIP LOCKED` on PostgreSQL) give each
//! claim to one of them. A claim the adapter gives up on is refunded through the ledger and its
//! player told in the bot.

use crate::objects::{ObjectError, Objects};
use crate::Shutdown;
use async_trait::async_trait;
use base64::Engine;
use game::claims::LeasedClaim;
use game::ton::transfer::{claim_comment, claim_id_of, HotWallet, Transfer};
use game::ton::TonAddress;
use game::{Courier, Game, GameError};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// How long a worker holds leased claims before another may take them.
pub const LEASE_MS: i64 = 120_000;
/// Seconds a hot-wallet transfer stays valid after it is signed.
pub const TRANSFER_TTL_SECS: i64 = 60;
/// Attempts before a claim that cannot be paid is refunded.
pub const MAX_ATTEMPTS: i32 = 5;

/// Which adapter pays, and how.
#[derive(Clone, Debug)]
pub enum PayoutSettings {
    /// Treasury export files under `WAREHOUSE_URL` (a folder or an S3 bucket).
    Export {
        /// Where they are written.
        objects: Arc<Objects>,
    },
    /// Transfers from a hot wallet through a toncenter-compatible API.
    Toncenter {
        /// API base URL (`TONCENTER_URL`).
        base_url: String,
        /// API key (`TONCENTER_API_KEY`), if any.
        api_key: Option<String>,
        /// The hot wallet's Ed25519 secret (`PAYOUT_WALLET_SECRET`).
        secret: [u8; 32],
    },
}

impl Default for PayoutSettings {
    fn default() -> Self {
        PayoutSettings::Export {
            objects: Arc::new(Objects::Dir(PathBuf::from("warehouse"))),
        }
    }
}

/// What happened to one claim in a payout round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Paid, with the transaction hash.
    Sent(String),
    /// Written to a treasury batch.
    Exported(String),
    /// Handed to the chain; its fate is learnt on a later round.
    InFlight,
    /// Not paid this round; tried again later.
    Retry(String),
    /// Cannot be paid: refund it.
    Failed(String),
}

/// Pays leased claims.
#[async_trait]
pub trait Payout: Send + Sync {
    /// Pays `claims` (leased to `owner`), recording progress through `game` as it goes.
    async fn pay(&self, game: &Game, owner: &str, claims: &[LeasedClaim]) -> Vec<(i64, Outcome)>;
}

/// One round: lease, pay, record, refund what failed. Returns how many claims were leased.
pub async fn round(
    game: &Game,
    payout: &dyn Payout,
    courier: Option<&Arc<dyn Courier>>,
    owner: &str,
) -> Result<usize, GameError> {
    let batch = game.config().claims.payout_batch.max(1) as u64;
    let leased = game.lease_claims(owner, batch, LEASE_MS).await?;
    if leased.is_empty() {
        return Ok(0);
    }
    for (id, outcome) in payout.pay(game, owner, &leased).await {
        let attempts = leased.iter().find(|c| c.id == id).map_or(0, |c| c.attempts);
        let failure = match outcome {
            Outcome::Failed(why) => Some(why),
            Outcome::Retry(why) if attempts >= MAX_ATTEMPTS => {
                Some(format!("gave up after {attempts} attempts: {why}"))
            }
            Outcome::Retry(why) => {
                tracing::warn!(claim = id, attempts, reason = %why, "payout will be retried");
                None
            }
            Outcome::Sent(_) | Outcome::Exported(_) | Outcome::InFlight => None,
        };
        if let Some(why) = failure {
            tracing::warn!(claim = id, reason = %why, "payout failed; refunding");
            if let Some(claim) = game.refund_claim(id, &why).await? {
                if let Some(courier) = courier {
                    let text = format!(
                        "Your claim #{} of {} coins could not be paid out, so the coins are back in your balance.",
                        claim.id, claim.amount
                    );
                    let _ = courier.deliver(claim.player_id, &text).await;
                }
            }
        }
    }
    Ok(leased.len())
}

/// Runs payout rounds until shutdown.
pub async fn run(
    game: Game,
    settings: PayoutSettings,
    courier: Option<Arc<dyn Courier>>,
    mut shutdown: Shutdown,
) {
    let owner = format!("worker-{:016x}", rand_u64());
    let payout: Box<dyn Payout> = match settings {
        PayoutSettings::Export { objects } => Box::new(Export { objects }),
        PayoutSettings::Toncenter {
            base_url,
            api_key,
            secret,
        } => Box::new(Toncenter::new(
            base_url,
            api_key,
            HotWallet::from_secret(secret),
        )),
    };
    while !shutdown.is_requested() {
        let leased = match round(&game, payout.as_ref(), courier.as_ref(), &owner).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(error = %e, "payout round failed");
                0
            }
        };
        if let Ok(n) = game.pending_claims().await {
            metrics::gauge!("claims_pending").set(n as f64);
        }
        // A full batch means more may be waiting: go again at once.
        let full = leased as i64 >= game.config().claims.payout_batch;
        if !full && !shutdown.sleep(Duration::from_secs(5)).await {
            break;
        }
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

/// Treasury export: CSV and JSON batch files for a multi-send.
pub struct Export {
    /// Where batches are written (`payouts/<batch>.csv|json`).
    pub objects: Arc<Objects>,
}

impl Export {
    async fn write(&self, batch: &str, claims: &[LeasedClaim]) -> Result<(), ObjectError> {
        let mut csv = String::from("address,amount,claim_ids\n");
        let mut rows = Vec::new();
        // One row per destination: a player's several claims go out in one transfer.
        let mut by_address: Vec<(String, i64, Vec<i64>)> = Vec::new();
        for c in claims {
            match by_address.iter_mut().find(|(a, _, _)| *a == c.address) {
                Some((_, amount, ids)) => {
                    *amount += c.amount;
                    ids.push(c.id);
                }
                None => by_address.push((c.address.clone(), c.amount, vec![c.id])),
            }
        }
        for (address, amount, ids) in &by_address {
            let ids_text = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(" ");
            csv.push_str(&format!("{address},{amount},{ids_text}\n"));
            rows.push(serde_json::json!({"address": address, "amount": amount, "claim_ids": ids}));
        }
        let json = serde_json::json!({"batch": batch, "transfers": rows});
        let json = serde_json::to_string_pretty(&json).unwrap_or_default();
        // The JSON first: the CSV's presence is what marks a batch's files written.
        self.objects
            .put(
                &format!("payouts/{batch}.json"),
                json.into_bytes(),
                "application/json",
            )
            .await?;
        self.objects
            .put(
                &format!("payouts/{batch}.csv"),
                csv.into_bytes(),
                "text/csv",
            )
            .await
    }
}

#[async_trait]
impl Payout for Export {
    async fn pay(&self, game: &Game, owner: &str, claims: &[LeasedClaim]) -> Vec<(i64, Outcome)> {
        let batch = format!(
            "batch-{}-{}-{}",
            game::claims::utc_day(game.now_ms()),
            claims.first().map_or(0, |c| c.id),
            claims.last().map_or(0, |c| c.id)
        );
        let ids: Vec<i64> = claims.iter().map(|c| c.id).collect();
        // The record first; the files follow from it (see the module header).
        match game.mark_claims_exported(&ids, owner, &batch).await {
            Ok(_) => {}
            Err(e) => {
                return ids
                    .iter()
                    .map(|id| (*id, Outcome::Retry(e.to_string())))
                    .collect()
            }
        }
        let exported = match game.exported_claims(&batch).await {
            Ok(c) => c,
            Err(e) => {
                return ids
                    .iter()
                    .map(|id| (*id, Outcome::Retry(e.to_string())))
                    .collect()
            }
        };
        if let Err(e) = self.write(&batch, &exported).await {
            tracing::error!(error = %e, batch, "cannot write the batch files; they are written again next round");
        }
        metrics::counter!("payout_batches_exported_total").increment(1);
        exported
            .iter()
            .map(|c| (c.id, Outcome::Exported(batch.clone())))
            .collect()
    }
}

impl Export {
    /// Writes the files of exported batches that have none (a crash after the record).
    pub async fn repair(&self, game: &Game) -> Result<usize, GameError> {
        let mut repaired = 0;
        for batch in game.export_batches_waiting().await? {
            let written = match self.objects.exists(&format!("payouts/{batch}.csv")).await {
                Ok(w) => w,
                Err(e) => {
                    tracing::warn!(error = %e, batch, "cannot see whether a batch's files exist");
                    continue;
                }
            };
            if !written {
                let claims = game.exported_claims(&batch).await?;
                match self.write(&batch, &claims).await {
                    Ok(()) => repaired += 1,
                    Err(e) => tracing::warn!(error = %e, batch, "cannot write a batch's files"),
                }
            }
        }
        Ok(repaired)
    }
}

/// Hot-wallet transfers through a toncenter-compatible HTTP API (v2).
pub struct Toncenter {
    base_url: String,
    api_key: Option<String>,
    wallet: HotWallet,
    http: reqwest::Client,
}

impl Toncenter {
    /// An adapter for the API at `base_url` paying from `wallet`.
    pub fn new(base_url: String, api_key: Option<String>, wallet: HotWallet) -> Toncenter {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap_or_default();
        Toncenter {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            wallet,
            http,
        }
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<serde_json::Value, String> {
        let req = match &self.api_key {
            Some(k) => req.header("X-API-Key", k),
            None => req,
        };
        let res = req
            .send()
            .await
            .map_err(|e| format!("toncenter unreachable: {e}"))?;
        let status = res.status();
        let body: serde_json::Value = res
            .json()
            .await
            .map_err(|e| format!("toncenter answer unreadable: {e}"))?;
        if !status.is_success() || body["ok"] != true {
            return Err(format!("toncenter answered {status}: {}", body["error"]));
        }
        Ok(body["result"].clone())
    }

    async fn seqno(&self) -> Result<u32, String> {
        let url = format!("{}/api/v2/runGetMethod", self.base_url);
        let body = serde_json::json!({"address": self.wallet.address().to_raw(), "method": "seqno", "stack": []});
        let result = self.call(self.http.post(url).json(&body)).await?;
        if result["exit_code"] != 0 {
            // An undeployed wallet has no get-methods yet: its first message carries its code.
            return Ok(0);
        }
        let hex = result["stack"][0][1]
            .as_str()
            .unwrap_or("0x0")
            .trim_start_matches("0x")
            .to_owned();
        u32::from_str_radix(&hex, 16).map_err(|_| "seqno unreadable".to_owned())
    }

    /// Transaction hashes of the hot wallet's recent transfers, by claim id.
    async fn paid_on_chain(&self) -> Result<std::collections::HashMap<i64, String>, String> {
        let url = format!("{}/api/v2/getTransactions", self.base_url);
        let address = self.wallet.address().to_raw();
        let result = self
            .call(
                self.http
                    .get(url)
                    .query(&[("address", address.as_str()), ("limit", "100")]),
            )
            .await?;
        let mut paid = std::collections::HashMap::new();
        for tx in result.as_array().into_iter().flatten() {
            let hash = tx["transaction_id"]["hash"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            for out in tx["out_msgs"].as_array().into_iter().flatten() {
                if let Some(id) = out["message"].as_str().and_then(claim_id_of) {
                    paid.insert(id, hash.clone());
                }
            }
        }
        Ok(paid)
    }

    async fn send(&self, game: &Game, owner: &str, c: &LeasedClaim, seqno: u32) -> Outcome {
        let to = match TonAddress::parse(&c.address, true) {
            Ok(a) => a,
            Err(e) => return Outcome::Failed(format!("bad destination: {e}")),
        };
        let amount = c.amount as u128 * game.config().claims.nanotons_per_coin as u128;
        let valid_until = game.now_ms() / 1000 + TRANSFER_TTL_SECS;
        let transfer = Transfer {
            to,
            amount,
            comment: claim_comment(c.id),
        };
        let boc = match self
            .wallet
            .sign_transfer(&transfer, seqno, valid_until as u32)
        {
            Ok(b) => b,
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        // Recorded before sending: from here on, the chain is asked before sending again.
        match game
            .mark_claim_submitted(c.id, owner, valid_until * 1000)
            .await
        {
            Ok(true) => {}
            Ok(false) => return Outcome::Retry("lease lost".into()),
            Err(e) => return Outcome::Retry(e.to_string()),
        }
        let url = format!("{}/api/v2/sendBoc", self.base_url);
        let boc = base64::engine::general_purpose::STANDARD.encode(boc);
        match self
            .call(self.http.post(url).json(&serde_json::json!({"boc": boc})))
            .await
        {
            Ok(_) => Outcome::InFlight,
            // The message may or may not have been accepted: its fate is read from the chain.
            Err(e) => {
                tracing::warn!(claim = c.id, error = %e, "sendBoc failed; will reconcile");
                Outcome::InFlight
            }
        }
    }
}

#[async_trait]
impl Payout for Toncenter {
    async fn pay(&self, game: &Game, owner: &str, claims: &[LeasedClaim]) -> Vec<(i64, Outcome)> {
        let mut outcomes = Vec::new();
        let paid = match self.paid_on_chain().await {
            Ok(p) => p,
            Err(e) => {
                return claims
                    .iter()
                    .map(|c| (c.id, Outcome::Retry(e.clone())))
                    .collect()
            }
        };
        let now = game.now_ms();
        let mut to_send = Vec::new();
        for c in claims {
            if let Some(hash) = paid.get(&c.id) {
                // Already on chain (sent before a crash, or moments ago): record, never resend.
                let _ = game.mark_claim_sent(c.id, owner, hash).await;
                outcomes.push((c.id, Outcome::Sent(hash.clone())));
            } else if let (Some(_), Some(valid_until)) = (c.submitted_at, c.valid_until) {
                if now <= valid_until + 30_000 {
                    // Its message may still land: wait, do not send another.
                    outcomes.push((c.id, Outcome::InFlight));
                } else {
                    // It can no longer land: forget it and send afresh.
                    match game.clear_claim_submission(c.id, owner).await {
                        Ok(true) => to_send.push(c),
                        _ => outcomes.push((c.id, Outcome::Retry("lease lost".into()))),
                    }
                }
            } else {
                to_send.push(c);
            }
        }
        if to_send.is_empty() {
            return outcomes;
        }
        let mut seqno = match self.seqno().await {
            Ok(s) => s,
            Err(e) => {
                outcomes.extend(to_send.iter().map(|c| (c.id, Outcome::Retry(e.clone()))));
                return outcomes;
            }
        };
        for (i, c) in to_send.iter().enumerate() {
            if i > 0 {
                // A wallet takes one message per seqno; wait for the previous one to be applied.
                seqno = match self.wait_seqno(seqno + 1).await {
                    Some(s) => s,
                    None => {
                        outcomes.extend(
                            to_send[i..]
                                .iter()
                                .map(|c| (c.id, Outcome::Retry("wallet busy".into()))),
                        );
                        break;
                    }
                };
            }
            outcomes.push((c.id, self.send(game, owner, c, seqno).await));
        }
        // Transfers that landed at once are recorded now; the rest on a later round.
        if let Ok(paid) = self.paid_on_chain().await {
            for (id, outcome) in outcomes.iter_mut() {
                if *outcome == Outcome::InFlight {
                    if let Some(hash) = paid.get(id) {
                        if let Ok(true) = game.mark_claim_sent(*id, owner, hash).await {
                            *outcome = Outcome::Sent(hash.clone());
                        }
                    }
                }
            }
        }
        outcomes
    }
}

impl Toncenter {
    async fn wait_seqno(&self, at_least: u32) -> Option<u32> {
        for _ in 0..30 {
            if let Ok(s) = self.seqno().await {
                if s >= at_least {
                    return Some(s);
                }
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        None
    }
}
