//! TON Connect `ton_proof` verification: does the wallet that signed this own that address?
//!
//! A wallet proves ownership by signing a message binding its address, the app's domain, a time and
//! the server's single-use payload. The server knows only the claimed address, so it takes the
//! wallet's `stateInit`, checks that it hashes to that address, recognises the code as a standard
//! wallet and reads the public key from its data; the Ed25519 signature must then verify under
//! that key. Each refusal has its own [`ProofError`] variant so the API and logs can tell an
//! expired proof from a forged one. The function is pure (`now` is passed in); consuming the
//! payload so it cannot be replayed is the caller's job, done in the database.
//! [`TestWallet`] plays the wallet's side, for tests and tools.

use super::address::{TonAddress, Workchain};
use super::cell::Cell;
use super::wallets::{public_key_from_state_init, state_init_for, WalletError, WalletKind};
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// How old a proof may be by default, in seconds.
pub const DEFAULT_MAX_AGE_SECS: u64 = 15 * 60;
/// How far in the future a proof's timestamp may be by default (wallet clock skew), in seconds.
pub const DEFAULT_MAX_FUTURE_SKEW_SECS: u64 = 60;
/// Longest domain accepted, in bytes.
pub const MAX_DOMAIN_BYTES: usize = 256;
/// Longest payload accepted, in bytes.
pub const MAX_PAYLOAD_BYTES: usize = 512;
/// Longest base64 state init accepted, in characters.
pub const MAX_STATE_INIT_CHARS: usize = 16 * 1024;

const PROOF_PREFIX: &[u8] = b"ton-proof-item-v2/";
const CONNECT_PREFIX: &[u8] = b"ton-connect";

/// The `domain` of a proof, as TON Connect sends it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct ProofDomain {
    /// The domain's length in bytes, as the wallet declares it.
    #[serde(rename = "lengthBytes")]
    pub length_bytes: u32,
    /// The app's domain, e.g. `game.example.com`.
    pub value: String,
}

/// The `proof` of a TON Connect `ton_proof` item, with the wallet's state init.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
pub struct TonProof {
    /// Unix seconds when the wallet signed.
    pub timestamp: u64,
    /// The app's domain the wallet saw.
    pub domain: ProofDomain,
    /// The Ed25519 signature, base64.
    pub signature: String,
    /// The server-issued payload the wallet signed.
    pub payload: String,
    /// The wallet's `stateInit` as a base64 BoC (`walletStateInit` in TON Connect's `account`).
    #[serde(alias = "walletStateInit", alias = "stateInit")]
    pub state_init: String,
}

/// What the server checks a proof against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofPolicy {
    /// Domains the Mini App is served from; a proof for any other is refused.
    pub domains: Vec<String>,
    /// How old a proof may be, in seconds.
    pub max_age_secs: u64,
    /// How far ahead of `now` a proof's timestamp may be, in seconds.
    pub max_future_skew_secs: u64,
}

impl ProofPolicy {
    /// A policy for `domains` with the default time window.
    pub fn new(domains: Vec<String>) -> ProofPolicy {
        ProofPolicy {
            domains,
            max_age_secs: DEFAULT_MAX_AGE_SECS,
            max_future_skew_secs: DEFAULT_MAX_FUTURE_SKEW_SECS,
        }
    }
}

/// What a verified proof established.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VerifiedProof {
    /// The proven address.
    pub address: TonAddress,
    /// The wallet contract.
    pub kind: WalletKind,
    /// The wallet's Ed25519 public key.
    pub public_key: [u8; 32],
}

/// Why a proof was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// A field that cannot be read (bad base64, BoC, hex, lengths).
    #[error("the proof is malformed: {0}")]
    Malformed(&'static str),
    /// Older than the allowed window.
    #[error("the proof has expired")]
    Expired,
    /// Dated too far in the future.
    #[error("the proof is dated in the future")]
    Future,
    /// For a domain not on the allow-list.
    #[error("the proof is for another domain")]
    Domain,
    /// Not the payload this server issued.
    #[error("the proof does not carry the expected payload")]
    PayloadMismatch,
    /// The state init is not the claimed address's.
    #[error("the wallet's state init does not match the address")]
    AddressMismatch,
    /// The state init is not a standard wallet's.
    #[error("the wallet is not a known standard wallet contract")]
    UnknownWallet,
    /// The public key given differs from the one in the state init.
    #[error("the public key does not match the wallet's")]
    PublicKeyMismatch,
    /// The signature does not verify.
    #[error("the proof signature is invalid")]
    BadSignature,
}

/// Checks a `ton_proof` for `address` (and `public_key`, hex, if the wallet gave one) at `now`.
pub fn verify_proof(
    address: &TonAddress,
    public_key: Option<&str>,
    proof: &TonProof,
    expected_payload: &str,
    now: i64,
    policy: &ProofPolicy,
) -> Result<VerifiedProof, ProofError> {
    // Cheap comparisons first, so a stale or foreign proof costs no BoC parsing.
    if proof.payload.len() > MAX_PAYLOAD_BYTES {
        return Err(ProofError::Malformed("payload too long"));
    }
    if !bool::from(proof.payload.as_bytes().ct_eq(expected_payload.as_bytes())) {
        return Err(ProofError::PayloadMismatch);
    }
    check_time(proof.timestamp, now, policy)?;
    let domain = &proof.domain.value;
    if domain.is_empty() || domain.len() > MAX_DOMAIN_BYTES {
        return Err(ProofError::Malformed("domain length"));
    }
    if u64::from(proof.domain.length_bytes) != domain.len() as u64 {
        return Err(ProofError::Malformed(
            "domain lengthBytes differs from its value",
        ));
    }
    if !policy
        .domains
        .iter()
        .any(|d| d.eq_ignore_ascii_case(domain))
    {
        return Err(ProofError::Domain);
    }
    let signature = decode_signature(&proof.signature)?;
    let given_key = public_key.map(decode_public_key).transpose()?;

    let state_init = decode_state_init(&proof.state_init)?;
    if state_init.hash() != *address.hash() {
        return Err(ProofError::AddressMismatch);
    }
    let (kind, key) = public_key_from_state_init(&state_init).map_err(|e| match e {
        WalletError::UnknownCode => ProofError::UnknownWallet,
        WalletError::StateInitLayout => ProofError::UnknownWallet,
        WalletError::Data => ProofError::Malformed("wallet data too short"),
    })?;
    if given_key.is_some_and(|k| k != key) {
        return Err(ProofError::PublicKeyMismatch);
    }
    let verifying = VerifyingKey::from_bytes(&key).map_err(|_| ProofError::BadSignature)?;
    let digest = signed_digest(address, domain, proof.timestamp, &proof.payload);
    verifying
        .verify_strict(&digest, &signature)
        .map_err(|_| ProofError::BadSignature)?;
    Ok(VerifiedProof {
        address: *address,
        kind,
        public_key: key,
    })
}

fn check_time(timestamp: u64, now: i64, policy: &ProofPolicy) -> Result<(), ProofError> {
    let ts = i128::from(timestamp);
    let now = i128::from(now);
    if ts > now + i128::from(policy.max_future_skew_secs) {
        return Err(ProofError::Future);
    }
    if now - ts > i128::from(policy.max_age_secs) {
        return Err(ProofError::Expired);
    }
    Ok(())
}

/// `sha256(0xffff ‖ "ton-connect" ‖ sha256(message))`, what the wallet signs.
fn signed_digest(address: &TonAddress, domain: &str, timestamp: u64, payload: &str) -> [u8; 32] {
    let mut msg = Sha256::new();
    msg.update(PROOF_PREFIX);
    msg.update(address.workchain_id().to_be_bytes());
    msg.update(address.hash());
    msg.update((domain.len() as u32).to_le_bytes());
    msg.update(domain.as_bytes());
    msg.update(timestamp.to_le_bytes());
    msg.update(payload.as_bytes());
    let msg_hash = msg.finalize();
    let mut full = Sha256::new();
    full.update([0xff, 0xff]);
    full.update(CONNECT_PREFIX);
    full.update(msg_hash);
    full.finalize().into()
}

/// Decodes base64 in either alphabet, padded or not.
fn decode_base64(s: &str) -> Option<Vec<u8>> {
    [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
        .into_iter()
        .find_map(|engine| engine.decode(s).ok())
}

fn decode_signature(s: &str) -> Result<Signature, ProofError> {
    if s.len() > 128 {
        return Err(ProofError::Malformed("signature too long"));
    }
    let bytes = decode_base64(s).ok_or(ProofError::Malformed("signature is not base64"))?;
    let bytes: [u8; 64] = bytes
        .try_into()
        .map_err(|_| ProofError::Malformed("signature is not 64 bytes"))?;
    Ok(Signature::from_bytes(&bytes))
}

fn decode_public_key(s: &str) -> Result<[u8; 32], ProofError> {
    let mut out = [0u8; 32];
    if s.len() != 64 {
        return Err(ProofError::Malformed("public key is not 64 hex digits"));
    }
    hex::decode_to_slice(s, &mut out)
        .map_err(|_| ProofError::Malformed("public key is not 64 hex digits"))?;
    Ok(out)
}

fn decode_state_init(s: &str) -> Result<std::sync::Arc<Cell>, ProofError> {
    if s.len() > MAX_STATE_INIT_CHARS {
        return Err(ProofError::Malformed("state init too long"));
    }
    let bytes = decode_base64(s).ok_or(ProofError::Malformed("state init is not base64"))?;
    Cell::from_boc(&bytes).map_err(|_| ProofError::Malformed("state init is not a valid BoC"))
}

/// A wallet played from a secret key, for tests and tools: never for real funds.
#[derive(Clone, Debug)]
pub struct TestWallet {
    key: SigningKey,
    kind: WalletKind,
    state_init: Cell,
    address: TonAddress,
}

impl TestWallet {
    /// The standard `kind` wallet on `workchain` for the Ed25519 secret key `secret`.
    pub fn new(secret: [u8; 32], kind: WalletKind, workchain: Workchain) -> TestWallet {
        let key = SigningKey::from_bytes(&secret);
        let (state_init, address) = state_init_for(kind, key.verifying_key().as_bytes(), workchain);
        TestWallet {
            key,
            kind,
            state_init,
            address,
        }
    }

    /// The wallet's address.
    pub fn address(&self) -> TonAddress {
        self.address
    }

    /// The wallet contract.
    pub fn kind(&self) -> WalletKind {
        self.kind
    }

    /// The public key as TON Connect sends it (64 lowercase hex digits).
    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }

    /// The state init as TON Connect sends it (base64 BoC with CRC32-C).
    pub fn state_init_base64(&self) -> String {
        STANDARD.encode(self.state_init.to_boc(true))
    }

    /// A proof for `domain`, signed at `timestamp` over `payload`.
    pub fn sign_proof(&self, domain: &str, timestamp: u64, payload: &str) -> TonProof {
        let digest = signed_digest(&self.address, domain, timestamp, payload);
        let signature = self.key.sign(&digest);
        TonProof {
            timestamp,
            domain: ProofDomain {
                length_bytes: domain.len() as u32,
                value: domain.to_string(),
            },
            signature: STANDARD.encode(signature.to_bytes()),
            payload: payload.to_string(),
            state_init: self.state_init_base64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ton::cell::CellBuilder;
    use std::sync::Arc;

    const DOMAIN: &str = "game.example.com";
    const PAYLOAD: &str = "nonce-0123456789abcdef";
    const NOW: i64 = 1_700_000_000;

    fn policy() -> ProofPolicy {
        ProofPolicy::new(vec!["other.example".into(), DOMAIN.into()])
    }

    fn wallet(kind: WalletKind) -> TestWallet {
        TestWallet::new([42; 32], kind, Workchain::Basechain)
    }

    fn verify(w: &TestWallet, proof: &TonProof) -> Result<VerifiedProof, ProofError> {
        verify_proof(
            &w.address(),
            Some(&w.public_key_hex()),
            proof,
            PAYLOAD,
            NOW,
            &policy(),
        )
    }

    #[test]
    fn a_proof_from_each_standard_wallet_is_accepted() {
        for kind in WalletKind::ALL {
            let w = wallet(kind);
            let proof = w.sign_proof(DOMAIN, NOW as u64 - 10, PAYLOAD);
            let v = verify(&w, &proof).unwrap();
            assert_eq!(v.address, w.address());
            assert_eq!(v.kind, kind);
            assert_eq!(hex::encode(v.public_key), w.public_key_hex());
        }
    }

    #[test]
    fn a_proof_without_a_public_key_is_checked_against_the_state_init() {
        let w = wallet(WalletKind::V4R2);
        let proof = w.sign_proof(DOMAIN, NOW as u64, PAYLOAD);
        assert!(verify_proof(&w.address(), None, &proof, PAYLOAD, NOW, &policy()).is_ok());
    }

    #[test]
    fn a_masterchain_wallet_proof_is_accepted() {
        let w = TestWallet::new([3; 32], WalletKind::V5R1, Workchain::Masterchain);
        let proof = w.sign_proof(DOMAIN, NOW as u64, PAYLOAD);
        assert_eq!(verify(&w, &proof).unwrap().address.workchain_id(), -1);
    }

    #[test]
    fn proof_json_from_ton_connect_deserialises() {
        let json = r#"{"timestamp": 1700000000, "domain": {"lengthBytes": 16, "value": "game.example.com"},
            "signature": "c2ln", "payload": "p", "walletStateInit": "te6c"}"#;
        let p: TonProof = serde_json::from_str(json).unwrap();
        assert_eq!(p.domain.length_bytes, 16);
        assert_eq!(p.state_init, "te6c");
        let json = json.replace("walletStateInit", "state_init");
        let q: TonProof = serde_json::from_str(&json).unwrap();
        assert_eq!(p, q);
        let round: TonProof = serde_json::from_value(serde_json::to_value(&p).unwrap()).unwrap();
        assert_eq!(round, p);
    }

    #[test]
    fn an_expired_proof_is_refused() {
        let w = wallet(WalletKind::V4R2);
        let old = NOW as u64 - DEFAULT_MAX_AGE_SECS - 1;
        assert_eq!(
            verify(&w, &w.sign_proof(DOMAIN, old, PAYLOAD)),
            Err(ProofError::Expired)
        );
        let edge = NOW as u64 - DEFAULT_MAX_AGE_SECS;
        assert!(verify(&w, &w.sign_proof(DOMAIN, edge, PAYLOAD)).is_ok());
    }

    #[test]
    fn a_proof_from_the_future_is_refused() {
        let w = wallet(WalletKind::V4R2);
        let ahead = NOW as u64 + DEFAULT_MAX_FUTURE_SKEW_SECS + 1;
        assert_eq!(
            verify(&w, &w.sign_proof(DOMAIN, ahead, PAYLOAD)),
            Err(ProofError::Future)
        );
        assert_eq!(
            verify(&w, &w.sign_proof(DOMAIN, u64::MAX, PAYLOAD)),
            Err(ProofError::Future)
        );
        let skewed = NOW as u64 + DEFAULT_MAX_FUTURE_SKEW_SECS;
        assert!(verify(&w, &w.sign_proof(DOMAIN, skewed, PAYLOAD)).is_ok());
    }

    #[test]
    fn a_proof_for_another_domain_is_refused() {
        let w = wallet(WalletKind::V4R2);
        let proof = w.sign_proof("evil.example", NOW as u64, PAYLOAD);
        assert_eq!(verify(&w, &proof), Err(ProofError::Domain));
    }

    #[test]
    fn a_proof_whose_domain_is_swapped_after_signing_is_refused() {
        let w = wallet(WalletKind::V4R2);
        let mut proof = w.sign_proof(DOMAIN, NOW as u64, PAYLOAD);
        proof.domain.value = "other.example".into();
        proof.domain.length_bytes = 13;
        assert_eq!(verify(&w, &proof), Err(ProofError::BadSignature));
    }

    #[test]
    fn a_domain_length_that_lies_is_malformed() {
        let w = wallet(WalletKind::V4R2);
        let mut proof = w.sign_proof(DOMAIN, NOW as u64, PAYLOAD);
        proof.domain.length_bytes += 1;
        assert!(matches!(verify(&w, &proof), Err(ProofError::Malformed(_))));
    }

    #[test]
    fn a_proof_with_another_payload_is_refused() {
        let w = wallet(WalletKind::V4R2);
        let proof = w.sign_proof(DOMAIN, NOW as u64, "some-other-nonce");
        assert_eq!(verify(&w, &proof), Err(ProofError::PayloadMismatch));
    }

    #[test]
    fn a_proof_for_another_address_is_refused() {
        let mine = wallet(WalletKind::V4R2);
        let other = TestWallet::new([9; 32], WalletKind::V4R2, Workchain::Basechain);
        // The other wallet's genuine proof, presented for my address.
        let proof = other.sign_proof(DOMAIN, NOW as u64, PAYLOAD);
        let r = verify_proof(&mine.address(), None, &proof, PAYLOAD, NOW, &policy());
        assert_eq!(r, Err(ProofError::AddressMismatch));
        // My state init with the other wallet's signature over my address.
        let mut forged = mine.sign_proof(DOMAIN, NOW as u64, PAYLOAD);
        forged.signature = other.sign_proof(DOMAIN, NOW as u64, PAYLOAD).signature;
        assert_eq!(verify(&mine, &forged), Err(ProofError::BadSignature));
    }

    #[test]
    fn a_public_key_other_than_the_wallets_is_refused() {
        let w = wallet(WalletKind::V5R1);
        let other = TestWallet::new([9; 32], WalletKind::V5R1, Workchain::Basechain);
        let proof = w.sign_proof(DOMAIN, NOW as u64, PAYLOAD);
        let r = verify_proof(
            &w.address(),
            Some(&other.public_key_hex()),
            &proof,
            PAYLOAD,
            NOW,
            &policy(),
        );
        assert_eq!(r, Err(ProofError::PublicKeyMismatch));
    }

    #[test]
    fn a_flipped_signature_bit_is_refused() {
        let w = wallet(WalletKind::V4R2);
        let mut proof = w.sign_proof(DOMAIN, NOW as u64, PAYLOAD);
        let mut sig = STANDARD.decode(&proof.signature).unwrap();
        for i in [0, 31, 32, 63] {
            sig[i] ^= 0x01;
            proof.signature = STANDARD.encode(&sig);
            assert_eq!(
                verify(&w, &proof),
                Err(ProofError::BadSignature),
                "byte {i}"
            );
            sig[i] ^= 0x01;
        }
    }

    #[test]
    fn a_wallet_with_unknown_code_is_refused() {
        let w = wallet(WalletKind::V4R2);
        // Same data, code that is not a standard wallet: the address is the state init's own.
        let code = CellBuilder::new().bytes(b"custom code").build().unwrap();
        let data = w.state_init.refs()[1].clone();
        let si = CellBuilder::new()
            .uint(0b00110, 5)
            .reference(Arc::new(code))
            .reference(data)
            .build()
            .unwrap();
        let address = TonAddress::new(Workchain::Basechain, si.hash());
        let mut proof = w.sign_proof(DOMAIN, NOW as u64, PAYLOAD);
        proof.state_init = STANDARD.encode(si.to_boc(false));
        let r = verify_proof(&address, None, &proof, PAYLOAD, NOW, &policy());
        assert_eq!(r, Err(ProofError::UnknownWallet));
    }

    #[test]
    fn malformed_fields_are_refused_not_panicked_on() {
        let w = wallet(WalletKind::V4R2);
        let good = w.sign_proof(DOMAIN, NOW as u64, PAYLOAD);
        type Mutation = Box<dyn Fn(&mut TonProof)>;
        let mutations: Vec<Mutation> = vec![
            Box::new(|p| p.state_init = "not base64 !".into()),
            Box::new(|p| p.state_init = STANDARD.encode(b"\xb5\xee\x9c\x72garbage")),
            Box::new(|p| p.state_init.truncate(p.state_init.len() - 8)),
            Box::new(|p| p.state_init = "A".repeat(MAX_STATE_INIT_CHARS + 1)),
            Box::new(|p| p.signature = "*".into()),
            Box::new(|p| p.signature = STANDARD.encode([0u8; 63])),
            Box::new(|p| p.signature = "A".repeat(1000)),
            Box::new(|p| {
                p.domain.value = String::new();
                p.domain.length_bytes = 0;
            }),
        ];
        for m in mutations {
            let mut p = good.clone();
            m(&mut p);
            assert!(
                matches!(verify(&w, &p), Err(ProofError::Malformed(_))),
                "{p:?}"
            );
        }
        let bad_key = verify_proof(&w.address(), Some("zz"), &good, PAYLOAD, NOW, &policy());
        assert!(matches!(bad_key, Err(ProofError::Malformed(_))));
    }

    #[test]
    fn the_signed_message_follows_the_ton_connect_layout() {
        // Rebuilt by hand from FACTS.md, independently of `signed_digest`.
        let a = TonAddress::parse(
            "0:ca6e321c7cce9ecedf0a8ca2492ec8592494aa5fb5ce0387dff96ef6af982a3e",
            false,
        )
        .unwrap();
        let mut msg = b"ton-proof-item-v2/".to_vec();
        msg.extend_from_slice(&[0, 0, 0, 0]);
        msg.extend_from_slice(a.hash());
        msg.extend_from_slice(&[16, 0, 0, 0]);
        msg.extend_from_slice(DOMAIN.as_bytes());
        msg.extend_from_slice(&(NOW as u64).to_le_bytes());
        msg.extend_from_slice(PAYLOAD.as_bytes());
        let mut full = vec![0xff, 0xff];
        full.extend_from_slice(b"ton-connect");
        full.extend_from_slice(&Sha256::digest(&msg));
        let want: [u8; 32] = Sha256::digest(&full).into();
        assert_eq!(signed_digest(&a, DOMAIN, NOW as u64, PAYLOAD), want);
    }
}
