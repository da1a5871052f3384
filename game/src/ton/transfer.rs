//! Transfers from a standard v4r2 hot wallet: the signed external message a payout sends, and
//! the reading of one back (for reconciliation and for the tests' fake chain).
//!
//! Each transfer carries the text comment `tapwave:claim:<id>`, so the chain itself records which
//! claim it paid: after a crash the worker looks for that comment among the hot wallet's
//! transactions before it sends anything again. `valid_until` bounds the message's life: once it
//! has passed, a message not on chain can never land, and only then may a claim be sent again.

use super::address::{TonAddress, Workchain};
use super::cell::{Cell, CellBuilder, CellError, CellSlice};
use super::wallets::{state_init_for, WalletKind};
use ed25519_dalek::{Signer, SigningKey};
use std::sync::Arc;

/// The comment that marks a claim's transfer.
pub fn claim_comment(claim_id: i64) -> String {
    format!("tapwave:claim:{claim_id}")
}

/// The claim id in a transfer's comment, if it is one of ours.
pub fn claim_id_of(comment: &str) -> Option<i64> {
    comment.strip_prefix("tapwave:claim:")?.parse().ok()
}

/// The hot wallet that pays claims: a v4r2 wallet on the basechain.
#[derive(Clone)]
pub struct HotWallet {
    key: SigningKey,
    address: TonAddress,
    state_init: Arc<Cell>,
}

impl std::fmt::Debug for HotWallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HotWallet({})", self.address.to_raw())
    }
}

/// One transfer, as built or as read back from a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transfer {
    /// Destination.
    pub to: TonAddress,
    /// Nanotons.
    pub amount: u128,
    /// Text comment.
    pub comment: String,
}

/// Why a transfer could not be built or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TransferError {
    /// A cell would not fit (comment too long).
    #[error("the transfer does not fit a cell: {0}")]
    Cell(#[from] CellError),
    /// A message that is not a v4r2 simple transfer.
    #[error("not a wallet transfer this module reads")]
    Unreadable,
}

const SUBWALLET_ID: u64 = 698_983_191;

impl HotWallet {
    /// The wallet of an Ed25519 secret key (32 bytes).
    pub fn from_secret(secret: [u8; 32]) -> HotWallet {
        let key = SigningKey::from_bytes(&secret);
        let (state_init, address) = state_init_for(
            WalletKind::V4R2,
            &key.verifying_key().to_bytes(),
            Workchain::Basechain,
        );
        HotWallet {
            key,
            address,
            state_init: Arc::new(state_init),
        }
    }

    /// The wallet's address.
    pub fn address(&self) -> TonAddress {
        self.address
    }

    /// A signed external message (a BoC) sending `transfer` at `seqno`, valid until `valid_until`
    /// (unix seconds). With seqno 0 the wallet's state init is attached (first use deploys it).
    pub fn sign_transfer(
        &self,
        transfer: &Transfer,
        seqno: u32,
        valid_until: u32,
    ) -> Result<Vec<u8>, TransferError> {
        let internal = internal_message(transfer)?;
        let body = CellBuilder::new()
            .uint(SUBWALLET_ID, 32)
            .uint(u64::from(valid_until), 32)
            .uint(u64::from(seqno), 32)
            .uint(0, 8) // op: simple send
            .uint(3, 8) // mode: pay fees separately, ignore errors
            .reference(Arc::new(internal))
            .build()?;
        let signature = self.key.sign(&body.hash());
        let mut signed = CellBuilder::new().bytes(&signature.to_bytes());
        signed = append_slice(signed, &body);
        let signed = signed.build()?;
        let mut ext = CellBuilder::new()
            .uint(0b10, 2) // ext_in_msg_info
            .uint(0b00, 2); // src: addr_none
        ext = address_bits(ext, &self.address);
        ext = ext.uint(0, 4); // import_fee: 0
        ext = if seqno == 0 {
            // init: Just (Right ^StateInit)
            ext.bit(true).bit(true).reference(self.state_init.clone())
        } else {
            ext.bit(false)
        };
        let message = ext.bit(true).reference(Arc::new(signed)).build()?; // body: Right ^Cell
        Ok(message.to_boc(true))
    }
}

fn address_bits(b: CellBuilder, address: &TonAddress) -> CellBuilder {
    // addr_std$10 anycast:nothing workchain_id:int8 address:bits256
    b.uint(0b10, 2)
        .bit(false)
        .uint(address.workchain_id() as u8 as u64, 8)
        .bytes(address.hash())
}

fn append_slice(mut b: CellBuilder, cell: &Cell) -> CellBuilder {
    let mut s = cell.slice();
    while s.remaining_bits() > 0 {
        b = b.bit(s.read_bit().expect("bits remain"));
    }
    for r in cell.refs() {
        b = b.reference(r.clone());
    }
    b
}

fn grams(b: CellBuilder, amount: u128) -> CellBuilder {
    let bytes = amount.to_be_bytes();
    let skip = bytes.iter().take_while(|x| **x == 0).count();
    let len = 16 - skip;
    b.uint(len as u64, 4).bytes(&bytes[skip..])
}

fn internal_message(t: &Transfer) -> Result<Cell, TransferError> {
    let mut b = CellBuilder::new()
        .bit(false) // int_msg_info$0
        .bit(true) // ihr_disabled
        .bit(false) // bounce: wallets may be undeployed
        .bit(false) // bounced
        .uint(0b00, 2); // src: addr_none (the wallet fills it in)
    b = address_bits(b, &t.to);
    b = grams(b, t.amount).bit(false); // value + no extra currencies
    b = b.uint(0, 4).uint(0, 4).uint(0, 64).uint(0, 32); // ihr_fee, fwd_fee, created_lt, created_at
    b = b.bit(false); // no state init
    b = b.bit(false).uint(0, 32).bytes(t.comment.as_bytes()); // body inline: text comment
    Ok(b.build()?)
}

fn read_address(s: &mut CellSlice<'_>) -> Result<TonAddress, TransferError> {
    let e = |_| TransferError::Unreadable;
    if s.read_uint(2).map_err(e)? != 0b10 || s.read_bit().map_err(e)? {
        return Err(TransferError::Unreadable);
    }
    let wc = s.read_uint(8).map_err(e)? as u8 as i8;
    let hash = s.read_bytes::<32>().map_err(e)?;
    TonAddress::from_parts(i32::from(wc), hash).map_err(|_| TransferError::Unreadable)
}

/// Reads a signed external message built by [`HotWallet::sign_transfer`]: the wallet it is for,
/// its seqno, `valid_until`, and the transfer. (The signature is not checked here.)
pub fn read_transfer(boc: &[u8]) -> Result<(TonAddress, u32, u32, Transfer), TransferError> {
    let e = |_| TransferError::Unreadable;
    let root = Cell::from_boc(boc).map_err(|_| TransferError::Unreadable)?;
    let mut s = root.slice();
    if s.read_uint(2).map_err(e)? != 0b10 || s.read_uint(2).map_err(e)? != 0 {
        return Err(TransferError::Unreadable);
    }
    let wallet = read_address(&mut s)?;
    s.skip(4).map_err(e)?;
    if s.read_bit().map_err(e)? {
        // init present: Right ^StateInit
        if !s.read_bit().map_err(e)? {
            return Err(TransferError::Unreadable);
        }
        s.read_ref().map_err(e)?;
    }
    if !s.read_bit().map_err(e)? {
        return Err(TransferError::Unreadable);
    }
    let signed = s.read_ref().map_err(e)?;
    let mut b = signed.slice();
    b.skip(512).map_err(e)?;
    b.skip(32).map_err(e)?;
    let valid_until = b.read_uint(32).map_err(e)? as u32;
    let seqno = b.read_uint(32).map_err(e)? as u32;
    b.skip(16).map_err(e)?;
    let internal = b.read_ref().map_err(e)?;
    let mut m = internal.slice();
    m.skip(6).map_err(e)?;
    let to = read_address(&mut m)?;
    let len = m.read_uint(4).map_err(e)? as usize;
    let mut amount: u128 = 0;
    for _ in 0..len {
        amount = (amount << 8) | u128::from(m.read_uint(8).map_err(e)? as u8);
    }
    m.skip(1 + 4 + 4 + 64 + 32 + 1 + 1).map_err(e)?;
    if m.read_uint(32).map_err(e)? != 0 {
        return Err(TransferError::Unreadable);
    }
    let mut text = Vec::new();
    while m.remaining_bits() >= 8 {
        text.push(m.read_uint(8).map_err(e)? as u8);
    }
    let comment = String::from_utf8(text).map_err(|_| TransferError::Unreadable)?;
    Ok((
        wallet,
        seqno,
        valid_until,
        Transfer {
            to,
            amount,
            comment,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_transfer_reads_back_and_is_signed_by_the_wallet() {
        let hot = HotWallet::from_secret([3; 32]);
        let to = TonAddress::parse(
            "0:ca6e321c7cce9ecedf0a8ca2492ec8592494aa5fb5ce0387dff96ef6af982a3e",
            false,
        )
        .unwrap();
        let t = Transfer {
            to,
            amount: 1_500_000_000,
            comment: claim_comment(42),
        };
        for seqno in [0, 7] {
            let boc = hot.sign_transfer(&t, seqno, 1_800_000_000).unwrap();
            let (wallet, s, valid_until, back) = read_transfer(&boc).unwrap();
            assert_eq!(wallet, hot.address());
            assert_eq!((s, valid_until), (seqno, 1_800_000_000));
            assert_eq!(back, t);
            assert_eq!(claim_id_of(&back.comment), Some(42));
            // The signature covers the body's hash with the wallet's key.
            let root = Cell::from_boc(&boc).unwrap();
            let signed = root.refs().last().unwrap().clone();
            let mut s = signed.slice();
            let sig = s.read_bytes::<64>().unwrap();
            let mut body = CellBuilder::new();
            while s.remaining_bits() > 0 {
                body = body.bit(s.read_bit().unwrap());
            }
            for r in signed.refs() {
                body = body.reference(r.clone());
            }
            let body = body.build().unwrap();
            let vk = SigningKey::from_bytes(&[3; 32]).verifying_key();
            vk.verify_strict(&body.hash(), &ed25519_dalek::Signature::from_bytes(&sig))
                .unwrap();
        }
    }

    #[test]
    fn foreign_comments_are_not_claims() {
        assert_eq!(claim_id_of("hello"), None);
        assert_eq!(claim_id_of("tapwave:claim:x"), None);
    }
}
