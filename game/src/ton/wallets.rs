//! The standard TON wallet contracts: recognising one from its `stateInit`, and building one.
//!
//! A `ton_proof` is signed by the wallet's key, but the server is only told the address. The
//! address is the hash of the wallet's initial state (code and data), so from a `stateInit` whose
//! hash matches we can read the public key out of the data — provided we know how that code lays
//! its data out. That is why the code is identified by its hash against a fixed list of the
//! standard contracts (v3r1, v3r2, v4r2, v5r1; the ones wallets deploy today) rather than trusted:
//! unknown code could keep "a public key" anywhere, or none at all. The code BoCs are kept too, so
//! tests (and tools) can build a real wallet's state init and address for a key of their own.

use super::address::{TonAddress, Workchain};
use super::cell::{Cell, CellBuilder, SliceError};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use std::sync::{Arc, LazyLock};

/// Why a state init does not describe a known wallet with a readable public key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WalletError {
    /// Not the plain `code + data` state init a wallet deploys with.
    #[error("the state init is not a plain code-and-data state init")]
    StateInitLayout,
    /// Code that is none of the standard wallet contracts.
    #[error("the wallet code is not a known standard wallet contract")]
    UnknownCode,
    /// Data too short for the contract's layout.
    #[error("the wallet data does not hold a public key")]
    Data,
}

impl From<SliceError> for WalletError {
    fn from(_: SliceError) -> WalletError {
        WalletError::Data
    }
}

/// A standard wallet contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WalletKind {
    /// Wallet v3 revision 1.
    V3R1,
    /// Wallet v3 revision 2.
    V3R2,
    /// Wallet v4 revision 2 (plugins).
    V4R2,
    /// Wallet v5 revision 1 (W5, extensions).
    V5R1,
}

/// The default `subwallet_id` of v3 and v4 wallets on workchain 0 (added to the workchain).
const DEFAULT_SUBWALLET_ID: u32 = 698_983_191;
/// The mainnet's global id, which a v5r1 wallet id is xor-ed with.
const MAINNET_GLOBAL_ID: i32 = -239;

impl WalletKind {
    /// Every known kind.
    pub const ALL: [WalletKind; 4] = [
        WalletKind::V3R1,
        WalletKind::V3R2,
        WalletKind::V4R2,
        WalletKind::V5R1,
    ];

    /// The contract's usual name, e.g. `v4r2`.
    pub fn name(self) -> &'static str {
        match self {
            WalletKind::V3R1 => "v3r1",
            WalletKind::V3R2 => "v3r2",
            WalletKind::V4R2 => "v4r2",
            WalletKind::V5R1 => "v5r1",
        }
    }

    /// The representation hash of the contract's code cell.
    pub fn code_hash(self) -> [u8; 32] {
        let hex = match self {
            WalletKind::V3R1 => "b61041a58a7980b946e8fb9e198e3c904d24799ffa36574ea4251c41a566f581",
            WalletKind::V3R2 => "84dafa449f98a6987789ba232358072bc0f76dc4524002a5d0918b9a75d2d599",
            WalletKind::V4R2 => "feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0",
            WalletKind::V5R1 => "20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f",
        };
        let mut out = [0u8; 32];
        hex::decode_to_slice(hex, &mut out).expect("constant hex");
        out
    }

    /// The kind whose code has this hash.
    pub fn from_code_hash(hash: &[u8; 32]) -> Option<WalletKind> {
        WalletKind::ALL.into_iter().find(|k| k.code_hash() == *hash)
    }

    /// The contract's code cell.
    pub fn code(self) -> Arc<Cell> {
        static CODES: LazyLock<Vec<Arc<Cell>>> = LazyLock::new(|| {
            WalletKind::ALL
                .iter()
                .map(|k| {
                    let boc = STANDARD
                        .decode(k.code_boc_base64())
                        .expect("constant base64");
                    Cell::from_boc(&boc).expect("constant wallet code BoC")
                })
                .collect()
        });
        let i = WalletKind::ALL.iter().position(|k| *k == self).unwrap_or(0);
        CODES[i].clone()
    }

    /// The contract's code as a base64 BoC, as the reference SDKs ship it.
    fn code_boc_base64(self) -> &'static str {
        match self {
            WalletKind::V3R1 => V3R1_CODE,
            WalletKind::V3R2 => V3R2_CODE,
            WalletKind::V4R2 => V4R2_CODE,
            WalletKind::V5R1 => V5R1_CODE,
        }
    }

    /// The data cell of a fresh wallet of this kind for `public_key` on `workchain`.
    fn initial_data(self, public_key: &[u8; 32], workchain: Workchain) -> Cell {
        let subwallet = DEFAULT_SUBWALLET_ID.wrapping_add(workchain.id() as u32);
        let b = CellBuilder::new();
        let b = match self {
            WalletKind::V3R1 | WalletKind::V3R2 => b
                .uint(0, 32)
                .uint(u64::from(subwallet), 32)
                .bytes(public_key),
            WalletKind::V4R2 => b
                .uint(0, 32)
                .uint(u64::from(subwallet), 32)
                .bytes(public_key)
                .bit(false),
            WalletKind::V5R1 => b
                .bit(true)
                .uint(0, 32)
                .uint(u64::from(v5r1_wallet_id(workchain)), 32)
                .bytes(public_key)
                .bit(false),
        };
        b.build().expect("a wallet's data fits in a cell")
    }
}

/// The default v5r1 wallet id: a client context (flag, workchain, version 0, subwallet 0) xor-ed
/// with the network's global id.
fn v5r1_wallet_id(workchain: Workchain) -> u32 {
    let context = (1u32 << 31) | (u32::from(workchain.id() as i8 as u8) << 23);
    context ^ (MAINNET_GLOBAL_ID as u32)
}

/// Reads the wallet kind and public key from a state init (`00110` + refs `[code, data]`).
pub fn public_key_from_state_init(
    state_init: &Cell,
) -> Result<(WalletKind, [u8; 32]), WalletError> {
    let (code, data) = code_and_data(state_init)?;
    let kind = WalletKind::from_code_hash(&code.hash()).ok_or(WalletError::UnknownCode)?;
    let mut s = data.slice();
    let key = match kind {
        WalletKind::V3R1 | WalletKind::V3R2 | WalletKind::V4R2 => {
            s.skip(32 + 32)?; // seqno, subwallet_id
            s.read_bytes::<32>()?
        }
        WalletKind::V5R1 => {
            s.skip(1 + 32 + 32)?; // is_signature_allowed, seqno, wallet_id
            s.read_bytes::<32>()?
        }
    };
    Ok((kind, key))
}

/// The code and data of a state init without split depth, special flags or libraries.
fn code_and_data(state_init: &Cell) -> Result<(&Arc<Cell>, &Arc<Cell>), WalletError> {
    if state_init.bit_len() != 5 || state_init.refs().len() != 2 {
        return Err(WalletError::StateInitLayout);
    }
    let mut s = state_init.slice();
    let layout = s.read_uint(5).map_err(|_| WalletError::StateInitLayout)?;
    // split_depth: nothing, special: nothing, code: present, data: present, library: empty.
    if layout != 0b00110 {
        return Err(WalletError::StateInitLayout);
    }
    Ok((&state_init.refs()[0], &state_init.refs()[1]))
}

/// The address of the account whose initial state is `state_init`.
pub fn address_of_state_init(workchain: Workchain, state_init: &Cell) -> TonAddress {
    TonAddress::new(workchain, state_init.hash())
}

/// A fresh standard wallet's state init for `public_key`, and its address on `workchain`.
pub fn state_init_for(
    kind: WalletKind,
    public_key: &[u8; 32],
    workchain: Workchain,
) -> (Cell, TonAddress) {
    let data = kind.initial_data(public_key, workchain);
    let state_init = CellBuilder::new()
        .uint(0b00110, 5)
        .reference(kind.code())
        .reference(Arc::new(data))
        .build()
        .expect("a state init fits in a cell");
    let address = address_of_state_init(workchain, &state_init);
    (state_init, address)
}

// The code BoCs as the public SDKs ship them; each is checked against its well-known code hash
// by `every_code_boc_hashes_to_its_known_code_hash`.
const V3R1_CODE: &str = "te6cckEBAQEAYgAAwP8AIN0gggFMl7qXMO1E0NcLH+Ck8mCDCNcYINMf0x/TH/gjE7vyY+1E0NMf0x/T/9FRMrryoVFEuvKiBPkBVBBV+RDyo/gAkyDXSpbTB9QC+wDo0QGkyMsfyx/L/8ntVD++buA=";
const V3R2_CODE: &str = "te6cckEBAQEAcQAA3v8AIN0gggFMl7ohggEznLqxn3Gw7UTQ0x/THzHXC//jBOCk8mCDCNcYINMf0x/TH/gjE7vyY+1E0NMf0x/T/9FRMrryoVFEuvKiBPkBVBBV+RDyo/gAkyDXSpbTB9QC+wDo0QGkyMsfyx/L/8ntVBC9ba0=";
const V4R2_CODE: &str = "te6cckECFAEAAtQAART/APSkE/S88sgLAQIBIAIDAgFIBAUE+PKDCNcYINMf0x/THwL4I7vyZO1E0NMf0x/T//QE0VFDuvKhUVG68qIF+QFUEGT5EPKj+AAkpMjLH1JAyx9SMMv/UhD0AMntVPgPAdMHIcAAn2xRkyDXSpbTB9QC+wDoMOAhwAHjACHAAuMAAcADkTDjDQOkyMsfEssfy/8QERITAubQAdDTAyFxsJJfBOAi10nBIJJfBOAC0x8hghBwbHVnvSKCEGRzdHK9sJJfBeAD+kAwIPpEAcjKB8v/ydDtRNCBAUDXIfQEMFyBAQj0Cm+hMbOSXwfgBdM/yCWCEHBsdWe6kjgw4w0DghBkc3RyupJfBuMNBgcCASAICQB4AfoA9AQw+CdvIjBQCqEhvvLgUIIQcGx1Z4MesXCAGFAEywUmzxZY+gIZ9ADLaRfLH1Jgyz8gyYBA+wAGAIpQBIEBCPRZMO1E0IEBQNcgyAHPFvQAye1UAXKwjiOCEGRzdHKDHrFwgBhQBcsFUAPPFiP6AhPLassfyz/JgED7AJJfA+ICASAKCwBZvSQrb2omhAgKBrkPoCGEcNQICEekk30pkQzmkD6f+YN4EoAbeBAUiYcVnzGEAgFYDA0AEbjJftRNDXCx+AA9sp37UTQgQFA1yH0BDACyMoHy//J0AGBAQj0Cm+hMYAIBIA4PABmtznaiaEAga5Drhf/AABmvHfaiaEAQa5DrhY/AAG7SB/oA1NQi+QAFyMoHFcv/ydB3dIAYyMsFywIizxZQBfoCFMtrEszMyXP7AMhAFIEBCPRR8qcCAHCBAQjXGPoA0z/IVCBHgQEI9FHyp4IQbm90ZXB0gBjIywXLAlAGzxZQBPoCFMtqEssfyz/Jc/sAAgBsgQEI1xj6ANM/MFIkgQEI9Fnyp4IQZHN0cnB0gBjIywXLAlAFzxZQA/oCE8tqyx8Syz/Jc/sAAAr0AMntVGliJeU=";
const V5R1_CODE: &str = "te6cckECFAEAAoEAART/APSkE/S88sgLAQIBIAIDAgFIBAUBAvIOAtzQINdJwSCRW49jINcLHyCCEGV4dG69IYIQc2ludL2wkl8D4IIQZXh0brqOtIAg1yEB0HTXIfpAMPpE+Cj6RDBYvZFb4O1E0IEBQdch9AWDB/QOb6ExkTDhgEDXIXB/2zzgMSDXSYECgLmRMOBw4hAPAgEgBgcCASAICQAZvl8PaiaECAoOuQ+gLAIBbgoLAgFIDA0AGa3OdqJoQCDrkOuF/8AAGa8d9qJoQBDrkOuFj8AAF7Ml+1E0HHXIdcLH4AARsmL7UTQ1woAgAR4g1wsfghBzaWduuvLgin8PAeaO8O2i7fshgwjXIgKDCNcjIIAg1yHTH9Mf0x/tRNDSANMfINMf0//XCgAK+QFAzPkQmiiUXwrbMeHywIffArNQB7Dy0IRRJbry4IVQNrry4Ib4I7vy0IgikvgA3gGkf8jKAMsfAc8Wye1UIJL4D95w2zzYEAP27aLt+wL0BCFukmwhjkwCIdc5MHCUIccAs44tAdcoIHYeQ2wg10nACPLgkyDXSsAC8uCTINcdBscSwgBSMLDy0InXTNc5MAGk6GwShAe78uCT10rAAPLgk+1V4tIAAcAAkVvg69csCBQgkXCWAdcsCBwS4lIQseMPINdKERITAJYB+kAB+kT4KPpEMFi68uCR7UTQgQFB1xj0BQSdf8jKAEAEgwf0U/Lgi44UA4MH9Fvy4Iwi1woAIW4Bs7Dy0JDiyFADzxYS9ADJ7VQAcjDXLAgkji0h8uCS0gDtRNDSAFETuvLQj1RQMJExnAGBAUDXIdcKAPLgjuLIygBYzxbJ7VST8sCN4gAQk1vbMeHXTNCon9ZI";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_boc_hashes_to_its_known_code_hash() {
        for kind in WalletKind::ALL {
            assert_eq!(
                hex::encode(kind.code().hash()),
                hex::encode(kind.code_hash()),
                "{}",
                kind.name()
            );
        }
    }

    #[test]
    fn built_wallets_have_the_addresses_other_sdks_compute() {
        // Vectors from public SDK test suites (a Swift TON SDK's wallet tests; tonutils-go).
        let key = "5754865e86d0ade1199301bbb0319a25ed6b129c4b0a57f28f62449b3df9c522";
        let other = "dcc39550bb494f4b493e7efe1aa18ea31470f33a2553c568cb74a17ed56790c1";
        let cases = [
            (
                WalletKind::V3R2,
                key,
                "EQA0D_5WdusaCB-SpnoE6l5TzdBmgOkzTcXrdh0px6g3zJSk",
            ),
            (
                WalletKind::V4R2,
                key,
                "EQDnBF4JTFKHTYjulEJyNd4dstLGH1m51UrLdu01_tw4z2Au",
            ),
            (
                WalletKind::V5R1,
                key,
                "UQBiUbwjoB56b7CYtoiPnY5vPh2Fwjva6jEPBhqnttjQKpce",
            ),
            (
                WalletKind::V4R2,
                other,
                "UQAwwdowWbBKkrnRlbY8CUEzy_pgK9pIvOKP2eqcD01EWl2U",
            ),
        ];
        for (kind, key, want) in cases {
            let mut pk = [0u8; 32];
            hex::decode_to_slice(key, &mut pk).unwrap();
            let (_, address) = state_init_for(kind, &pk, Workchain::Basechain);
            assert_eq!(
                address,
                TonAddress::parse(want, false).unwrap(),
                "{}",
                kind.name()
            );
        }
    }

    #[test]
    fn a_built_state_init_yields_its_kind_and_public_key() {
        let key = [7u8; 32];
        for kind in WalletKind::ALL {
            for wc in [Workchain::Basechain, Workchain::Masterchain] {
                let (si, address) = state_init_for(kind, &key, wc);
                assert_eq!(public_key_from_state_init(&si), Ok((kind, key)));
                assert_eq!(address.workchain(), wc);
                assert_eq!(address.hash(), &si.hash());
            }
        }
    }

    #[test]
    fn different_keys_and_kinds_give_different_addresses() {
        let (_, a) = state_init_for(WalletKind::V4R2, &[1; 32], Workchain::Basechain);
        let (_, b) = state_init_for(WalletKind::V4R2, &[2; 32], Workchain::Basechain);
        let (_, c) = state_init_for(WalletKind::V5R1, &[1; 32], Workchain::Basechain);
        assert_ne!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn v5r1_default_wallet_id_is_the_mainnet_one() {
        assert_eq!(v5r1_wallet_id(Workchain::Basechain), 2_147_483_409);
    }

    #[test]
    fn unknown_code_is_refused() {
        let code = CellBuilder::new().bytes(b"not a wallet").build().unwrap();
        let data = WalletKind::V4R2.initial_data(&[1; 32], Workchain::Basechain);
        let si = CellBuilder::new()
            .uint(0b00110, 5)
            .reference(Arc::new(code))
            .reference(Arc::new(data))
            .build()
            .unwrap();
        assert_eq!(
            public_key_from_state_init(&si),
            Err(WalletError::UnknownCode)
        );
    }

    #[test]
    fn state_inits_of_another_shape_are_refused() {
        let code = WalletKind::V4R2.code();
        let data = Arc::new(WalletKind::V4R2.initial_data(&[1; 32], Workchain::Basechain));
        let shapes = [
            // split_depth present
            CellBuilder::new().uint(0b10110, 5),
            // library present
            CellBuilder::new().uint(0b00111, 5),
            // six bits
            CellBuilder::new().uint(0b001100, 6),
        ];
        for b in shapes {
            let si = b
                .reference(code.clone())
                .reference(data.clone())
                .build()
                .unwrap();
            assert_eq!(
                public_key_from_state_init(&si),
                Err(WalletError::StateInitLayout)
            );
        }
        let one_ref = CellBuilder::new()
            .uint(0b00110, 5)
            .reference(code.clone())
            .build()
            .unwrap();
        assert_eq!(
            public_key_from_state_init(&one_ref),
            Err(WalletError::StateInitLayout)
        );
    }

    #[test]
    fn data_too_short_for_a_key_is_refused() {
        let data = CellBuilder::new()
            .uint(0, 64)
            .bytes(&[1; 31])
            .build()
            .unwrap();
        let si = CellBuilder::new()
            .uint(0b00110, 5)
            .reference(WalletKind::V3R2.code())
            .reference(Arc::new(data))
            .build()
            .unwrap();
        assert_eq!(public_key_from_state_init(&si), Err(WalletError::Data));
    }
}
