//! The TON layer: addresses, cells, the standard wallet contracts and TON Connect proofs.
//!
//! Everything here is pure (no database, no network, no clock: `now` is passed in), so the wallet
//! and claim services can call it freely and the rules are unit-tested byte for byte. Values are
//! parsed once at the edge — [`TonAddress::parse`], [`Cell::from_boc`] — into types that cannot be
//! malformed. The implementation is deliberately small: only what verifying a wallet's
//! `ton_proof` needs, rather than a general TON SDK.

pub mod address;
pub mod cell;
pub mod proof;
pub mod transfer;
pub mod wallets;

pub use address::{AddressError, AddressForm, ParsedAddress, TonAddress, Workchain};
pub use cell::{BocError, Cell, CellBuilder, CellError, CellSlice};
pub use proof::{
    verify_proof, ProofDomain, ProofError, ProofPolicy, TestWallet, TonProof, VerifiedProof,
};
pub use wallets::{
    address_of_state_init, public_key_from_state_init, state_init_for, WalletError, WalletKind,
};
