//! Wallets: a player's TON address, parsed once into a [`TonAddress`], and its TON Connect proof.
//!
//! An address is stored as `(workchain, hash)` — the account itself, not one of its spellings — so
//! raw and user-friendly forms of one wallet are the same wallet, and a unique index makes one
//! wallet belong to one player even when two players submit it at the same instant. Proof payloads
//! are single-use rows consumed by a conditional `DELETE`, so a replayed proof finds nothing.

use crate::ton::{verify_proof, AddressError, ProofError, ProofPolicy, TonAddress, TonProof};
use crate::{Game, GameError};
use entities::{ton_proof_payload, wallet};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, SqlErr};
use serde::Serialize;

/// Why a wallet could not be set or proven.
#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// Not a TON address this game accepts.
    #[error("{0}")]
    InvalidAddress(#[from] AddressError),
    /// Another player's wallet.
    #[error("this wallet belongs to another player")]
    Taken,
    /// The proof's payload was not issued to this player, was used, or expired.
    #[error("the proof payload is unknown, used or expired; ask for a new one")]
    UnknownPayload,
    /// The proof itself was refused.
    #[error("{0}")]
    InvalidProof(#[from] ProofError),
}

/// A player's wallet as the Mini App sees it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WalletView {
    /// The normalised address: user-friendly, non-bounceable, base64url.
    pub address: String,
    /// The raw form, `workchain:hex`.
    pub raw: String,
    /// Whether ownership was proven with `ton_proof`.
    pub proven: bool,
    /// The wallet contract, when proven.
    pub wallet_kind: Option<String>,
}

/// A fresh `ton_proof` payload.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ProofPayload {
    /// The nonce the wallet must sign.
    pub payload: String,
    /// Unix ms after which it is refused.
    pub expires_at: i64,
}

fn view(w: &wallet::Model) -> WalletView {
    WalletView {
        address: w.address.clone(),
        raw: format!("{}:{}", w.workchain, w.hash),
        proven: w.proven,
        wallet_kind: w.wallet_kind.clone(),
    }
}

/// The form every address is answered in: non-bounceable (wallets), testnet flag kept.
pub fn normalised(address: &TonAddress, testnet: bool) -> String {
    address.to_friendly(false, testnet)
}

impl Game {
    /// The player's wallet, if any.
    pub async fn wallet(&self, player: i64) -> Result<Option<WalletView>, GameError> {
        self.playing(player).await?;
        Ok(wallet::Entity::find_by_id(player)
            .one(self.db())
            .await?
            .as_ref()
            .map(view))
    }

    /// Sets the player's wallet from any accepted spelling; an unchanged wallet keeps its proof.
    pub async fn set_wallet(&self, player: i64, address: &str) -> Result<WalletView, GameError> {
        self.playing(player).await?;
        let allow_testnet = self.config().claims.allow_testnet;
        let parsed =
            TonAddress::parse_detailed(address, allow_testnet).map_err(WalletError::from)?;
        let testnet = matches!(
            parsed.form,
            crate::ton::AddressForm::Friendly { testnet: true, .. }
        );
        self.store_wallet(player, &parsed.address, testnet, None)
            .await
    }

    /// Issues a single-use payload for a `ton_proof`, valid for `claims.proof_ttl_secs`.
    pub async fn issue_proof_payload(&self, player: i64) -> Result<ProofPayload, GameError> {
        self.playing(player).await?;
        let now = self.now_ms();
        let expires_at = now + self.config().claims.proof_ttl_secs * 1000;
        let payload = hex::encode(rand::random::<[u8; 32]>());
        let _writer = self.sqlite_writer().await;
        // Expired payloads of anyone are swept as new ones are issued.
        ton_proof_payload::Entity::delete_many()
            .filter(ton_proof_payload::Column::ExpiresAt.lt(now))
            .exec(self.db())
            .await?;
        ton_proof_payload::Entity::insert(ton_proof_payload::ActiveModel {
            payload: Set(payload.clone()),
            player_id: Set(player),
            expires_at: Set(expires_at),
        })
        .exec_without_returning(self.db())
        .await?;
        Ok(ProofPayload {
            payload,
            expires_at,
        })
    }

    /// Verifies a TON Connect proof for `address` and makes it the player's proven wallet.
    pub async fn prove_wallet(
        &self,
        player: i64,
        address: &str,
        public_key: Option<&str>,
        proof: &TonProof,
        domains: &[String],
    ) -> Result<WalletView, GameError> {
        self.playing(player).await?;
        let allow_testnet = self.config().claims.allow_testnet;
        let parsed =
            TonAddress::parse_detailed(address, allow_testnet).map_err(WalletError::from)?;
        let now = self.now_ms();
        // Consume the payload first: whatever happens next, it cannot be used again.
        let consumed = {
            let _writer = self.sqlite_writer().await;
            ton_proof_payload::Entity::delete_many()
                .filter(ton_proof_payload::Column::Payload.eq(proof.payload.as_str()))
                .filter(ton_proof_payload::Column::PlayerId.eq(player))
                .filter(ton_proof_payload::Column::ExpiresAt.gte(now))
                .exec(self.db())
                .await?
                .rows_affected
        };
        if consumed != 1 {
            return Err(WalletError::UnknownPayload.into());
        }
        let mut policy = ProofPolicy::new(domains.to_vec());
        policy.max_age_secs = self.config().claims.proof_ttl_secs as u64;
        let verified = verify_proof(
            &parsed.address,
            public_key,
            proof,
            &proof.payload,
            now / 1000,
            &policy,
        )
        .map_err(WalletError::from)?;
        let testnet = matches!(
            parsed.form,
            crate::ton::AddressForm::Friendly { testnet: true, .. }
        );
        let proof_info = (
            hex::encode(verified.public_key),
            verified.kind.name().to_owned(),
        );
        self.store_wallet(player, &verified.address, testnet, Some(proof_info))
            .await
    }

    async fn store_wallet(
        &self,
        player: i64,
        address: &TonAddress,
        testnet: bool,
        proof: Option<(String, String)>,
    ) -> Result<WalletView, GameError> {
        let hash = hex::encode(address.hash());
        let hash_key = hash.clone();
        let workchain = address.workchain_id();
        let now = self.now_ms();
        let current = wallet::Entity::find_by_id(player).one(self.db()).await?;
        if let Some(w) = &current {
            if w.workchain == workchain && w.hash == hash && (proof.is_none() || w.proven) {
                return Ok(view(w));
            }
        }
        if let Some(other) = wallet::Entity::find()
            .filter(wallet::Column::Workchain.eq(workchain))
            .filter(wallet::Column::Hash.eq(hash.as_str()))
            .one(self.db())
            .await?
        {
            if other.player_id != player {
                return Err(WalletError::Taken.into());
            }
        }
        let proven = proof.is_some();
        let (public_key, wallet_kind) = proof
            .map(|(k, w)| (Some(k), Some(w)))
            .unwrap_or((None, None));
        let row = wallet::ActiveModel {
            player_id: Set(player),
            workchain: Set(workchain),
            hash: Set(hash),
            address: Set(normalised(address, testnet)),
            proven: Set(proven),
            public_key: Set(public_key),
            wallet_kind: Set(wallet_kind),
            proven_at: Set(proven.then_some(now)),
            created_at: Set(now),
            updated_at: Set(now),
        };
        let _writer = self.sqlite_writer().await;
        let result = wallet::Entity::insert(row)
            .on_conflict(
                OnConflict::column(wallet::Column::PlayerId)
                    .update_columns([
                        wallet::Column::Workchain,
                        wallet::Column::Hash,
                        wallet::Column::Address,
                        wallet::Column::Proven,
                        wallet::Column::PublicKey,
                        wallet::Column::WalletKind,
                        wallet::Column::ProvenAt,
                        wallet::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await;
        match result {
            Ok(_) => {}
            // Another player took it between our look and our write.
            Err(e) if matches!(e.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {
                return Err(WalletError::Taken.into())
            }
            Err(e) => return Err(e.into()),
        }
        // The watcher writes too: the SQLite writer's lock is not taken twice.
        drop(_writer);
        self.watch_wallet(player, workchain, &hash_key).await;
        let stored = wallet::Entity::find_by_id(player)
            .one(self.db())
            .await?
            .ok_or(GameError::UnknownPlayer)?;
        Ok(view(&stored))
    }
}
