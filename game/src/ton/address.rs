//! TON account addresses, parsed once at the edge into a [`TonAddress`] that cannot be malformed.
//!
//! An address is a workchain and a 32-byte account hash; everything else in the forms players paste
//! (raw `0:<hex>`, or 48 characters of base64 or base64url carrying a flags byte and a CRC16) is
//! spelling. So [`TonAddress`] holds only `(workchain, hash)`: the raw and friendly spellings of
//! one account parse to equal values and are stored alike, and the spelling's flags (bounceable,
//! testnet) are reported beside it by [`TonAddress::parse_detailed`] for whoever cares. Input is
//! capped in length before any decoding, and only workchains 0 and -1 exist here: other
//! workchains are not in use on TON, and an address on one is a mistake we refuse, not store.

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine;

/// Longest input [`TonAddress::parse`] looks at (a raw masterchain address is 67 characters).
pub const MAX_ADDRESS_LEN: usize = 128;

const TAG_BOUNCEABLE: u8 = 0x11;
const TAG_NON_BOUNCEABLE: u8 = 0x51;
const TAG_TESTNET: u8 = 0x80;

/// Why a string is not an acceptable TON address (each message fits a 422 `invalid_address`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// Nothing given.
    #[error("the address is empty")]
    Empty,
    /// Longer than any address form.
    #[error("the address is too long")]
    TooLong,
    /// Spaces, tabs or line breaks anywhere in it.
    #[error("the address must not contain whitespace")]
    Whitespace,
    /// A friendly address not of 48 characters.
    #[error("a user-friendly address has exactly 48 characters")]
    Length,
    /// A character outside base64 and base64url.
    #[error("the address contains characters outside the base64 alphabets")]
    Alphabet,
    /// Both `-`/`_` and `+`/`/` in one address.
    #[error("the address mixes the base64 and base64url alphabets")]
    MixedAlphabets,
    /// The CRC16 of a friendly address does not match.
    #[error("the address checksum does not match; check it was copied whole")]
    Checksum,
    /// A friendly address whose flags byte is none of the known tags.
    #[error("the address has an unknown flags byte")]
    UnknownTag,
    /// A workchain other than 0 (basechain) or -1 (masterchain).
    #[error("only workchains 0 and -1 are supported")]
    Workchain,
    /// A testnet address where only mainnet ones are accepted.
    #[error("testnet addresses are not accepted here")]
    Testnet,
    /// A raw address whose workchain is not a number.
    #[error("a raw address starts with its workchain number before the colon")]
    RawWorkchain,
    /// A raw address without 64 hex digits after the colon.
    #[error("a raw address has 64 hex digits after the colon")]
    RawHash,
}

/// A workchain in use on TON.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Workchain {
    /// Workchain 0, where wallets live.
    Basechain,
    /// Workchain -1, the masterchain.
    Masterchain,
}

impl Workchain {
    /// The workchain's number (0 or -1).
    pub fn id(self) -> i32 {
        match self {
            Workchain::Basechain => 0,
            Workchain::Masterchain => -1,
        }
    }

    /// The workchain numbered `id`, if it is 0 or -1.
    pub fn from_id(id: i64) -> Result<Workchain, AddressError> {
        match id {
            0 => Ok(Workchain::Basechain),
            -1 => Ok(Workchain::Masterchain),
            _ => Err(AddressError::Workchain),
        }
    }
}

/// A TON account: a workchain and the 32-byte hash of its initial state.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TonAddress {
    workchain: Workchain,
    hash: [u8; 32],
}

/// How an address was spelt when parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressForm {
    /// `workchain:hex`.
    Raw,
    /// 48 characters of base64(url) with flags and a checksum.
    Friendly {
        /// Whether the flags asked for bounceable transfers.
        bounceable: bool,
        /// Whether the flags marked a testnet address.
        testnet: bool,
        /// Whether it was spelt in base64url (`-`, `_`) rather than standard base64.
        url_safe: bool,
    },
}

/// An address together with the form it was spelt in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsedAddress {
    /// The account.
    pub address: TonAddress,
    /// The spelling.
    pub form: AddressForm,
}

impl TonAddress {
    /// The address of `hash` on `workchain`.
    pub fn new(workchain: Workchain, hash: [u8; 32]) -> TonAddress {
        TonAddress { workchain, hash }
    }

    /// The address stored as `(workchain, hash)`, e.g. read back from the database.
    pub fn from_parts(workchain: i32, hash: [u8; 32]) -> Result<TonAddress, AddressError> {
        Ok(TonAddress::new(Workchain::from_id(workchain.into())?, hash))
    }

    /// Parses a raw or user-friendly address; testnet ones only if `allow_testnet`.
    pub fn parse(s: &str, allow_testnet: bool) -> Result<TonAddress, AddressError> {
        Ok(TonAddress::parse_detailed(s, allow_testnet)?.address)
    }

    /// Parses like [`TonAddress::parse`] and also tells the form the address was spelt in.
    pub fn parse_detailed(s: &str, allow_testnet: bool) -> Result<ParsedAddress, AddressError> {
        if s.is_empty() {
            return Err(AddressError::Empty);
        }
        if s.len() > MAX_ADDRESS_LEN {
            return Err(AddressError::TooLong);
        }
        if s.chars().any(char::is_whitespace) {
            return Err(AddressError::Whitespace);
        }
        if s.contains(':') {
            return Ok(ParsedAddress {
                address: parse_raw(s)?,
                form: AddressForm::Raw,
            });
        }
        parse_friendly(s, allow_testnet)
    }

    /// The workchain.
    pub fn workchain(&self) -> Workchain {
        self.workchain
    }

    /// The workchain's number, 0 or -1, as stored.
    pub fn workchain_id(&self) -> i32 {
        self.workchain.id()
    }

    /// The 32-byte account hash.
    pub fn hash(&self) -> &[u8; 32] {
        &self.hash
    }

    /// The raw form, `0:` followed by 64 lowercase hex digits.
    pub fn to_raw(&self) -> String {
        format!("{}:{}", self.workchain.id(), hex::encode(self.hash))
    }

    /// The user-friendly form in base64url, with the given flags.
    pub fn to_friendly(&self, bounceable: bool, testnet: bool) -> String {
        let mut bytes = [0u8; 36];
        bytes[0] = if bounceable {
            TAG_BOUNCEABLE
        } else {
            TAG_NON_BOUNCEABLE
        } | if testnet { TAG_TESTNET } else { 0 };
        bytes[1] = self.workchain.id() as i8 as u8;
        bytes[2..34].copy_from_slice(&self.hash);
        let crc = crc16_xmodem(&bytes[..34]);
        bytes[34..].copy_from_slice(&crc.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }
}

impl std::fmt::Debug for TonAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TonAddress({})", self.to_raw())
    }
}

/// Displays the raw form.
impl std::fmt::Display for TonAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_raw())
    }
}

impl std::str::FromStr for TonAddress {
    type Err = AddressError;

    /// Parses a mainnet address in any form.
    fn from_str(s: &str) -> Result<TonAddress, AddressError> {
        TonAddress::parse(s, false)
    }
}

fn parse_raw(s: &str) -> Result<TonAddress, AddressError> {
    let (wc, hash) = s.split_once(':').ok_or(AddressError::RawWorkchain)?;
    let digits = wc.strip_prefix('-').unwrap_or(wc);
    // `-?\d+`, at most 10 digits so the number cannot overflow before it is range-checked.
    if digits.is_empty() || digits.len() > 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AddressError::RawWorkchain);
    }
    let wc: i64 = wc.parse().map_err(|_| AddressError::RawWorkchain)?;
    let workchain = Workchain::from_id(wc)?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AddressError::RawHash);
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hash, &mut out).map_err(|_| AddressError::RawHash)?;
    Ok(TonAddress::new(workchain, out))
}

fn parse_friendly(s: &str, allow_testnet: bool) -> Result<ParsedAddress, AddressError> {
    if s.len() != 48 {
        return Err(AddressError::Length);
    }
    let mut url = false;
    let mut std = false;
    for b in s.bytes() {
        match b {
            b'-' | b'_' => url = true,
            b'+' | b'/' => std = true,
            b if b.is_ascii_alphanumeric() => {}
            _ => return Err(AddressError::Alphabet),
        }
    }
    if url && std {
        return Err(AddressError::MixedAlphabets);
    }
    let engine = if std {
        &STANDARD_NO_PAD
    } else {
        &URL_SAFE_NO_PAD
    };
    let mut bytes = [0u8; 36];
    let n = engine
        .decode_slice(s, &mut bytes)
        .map_err(|_| AddressError::Alphabet)?;
    if n != 36 {
        return Err(AddressError::Length);
    }
    let crc = u16::from_be_bytes([bytes[34], bytes[35]]);
    if crc16_xmodem(&bytes[..34]) != crc {
        return Err(AddressError::Checksum);
    }
    let tag = bytes[0];
    let testnet = tag & TAG_TESTNET != 0;
    let bounceable = match tag & !TAG_TESTNET {
        TAG_BOUNCEABLE => true,
        TAG_NON_BOUNCEABLE => false,
        _ => return Err(AddressError::UnknownTag),
    };
    let workchain = Workchain::from_id(i64::from(bytes[1] as i8))?;
    if testnet && !allow_testnet {
        return Err(AddressError::Testnet);
    }
    let mut hash = [0u8; 32];
    hash.copy_from_slice(&bytes[2..34]);
    Ok(ParsedAddress {
        address: TonAddress::new(workchain, hash),
        form: AddressForm::Friendly {
            bounceable,
            testnet,
            url_safe: !std,
        },
    })
}

/// CRC16/XMODEM: polynomial 0x1021, initial value 0, no reflection.
fn crc16_xmodem(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc ^= u16::from(b) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const RAW: &str = "0:ca6e321c7cce9ecedf0a8ca2492ec8592494aa5fb5ce0387dff96ef6af982a3e";
    const BOUNCEABLE: &str = "EQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff-W72r5gqPrHF";
    const NON_BOUNCEABLE: &str = "UQDKbjIcfM6ezt8KjKJJLshZJJSqX7XOA4ff-W72r5gqPuwA";

    fn facts_address() -> TonAddress {
        TonAddress::parse(RAW, false).unwrap()
    }

    #[test]
    fn facts_vector_round_trips_in_every_form() {
        let a = facts_address();
        assert_eq!(a.workchain(), Workchain::Basechain);
        assert_eq!(a.to_raw(), RAW);
        assert_eq!(a.to_friendly(true, false), BOUNCEABLE);
        assert_eq!(a.to_friendly(false, false), NON_BOUNCEABLE);
        assert_eq!(TonAddress::parse(BOUNCEABLE, false).unwrap(), a);
        assert_eq!(TonAddress::parse(NON_BOUNCEABLE, false).unwrap(), a);
        assert_eq!(a.to_string(), RAW);
    }

    #[test]
    fn standard_base64_spelling_parses_to_the_same_address() {
        let std = BOUNCEABLE.replace('-', "+").replace('_', "/");
        let p = TonAddress::parse_detailed(&std, false).unwrap();
        assert_eq!(p.address, facts_address());
        assert_eq!(
            p.form,
            AddressForm::Friendly {
                bounceable: true,
                testnet: false,
                url_safe: false
            }
        );
    }

    #[test]
    fn raw_form_accepts_uppercase_hex_and_reports_its_form() {
        let p = TonAddress::parse_detailed(&RAW.to_uppercase(), false).unwrap();
        assert_eq!(p.address, facts_address());
        assert_eq!(p.form, AddressForm::Raw);
    }

    #[test]
    fn masterchain_addresses_round_trip() {
        let raw = format!("-1:{}", "ab".repeat(32));
        let a = TonAddress::parse(&raw, false).unwrap();
        assert_eq!(a.workchain_id(), -1);
        assert_eq!(a.to_raw(), raw);
        let friendly = a.to_friendly(true, false);
        assert!(friendly.starts_with("Ef"), "{friendly}");
        assert_eq!(TonAddress::parse(&friendly, false).unwrap(), a);
    }

    #[test]
    fn testnet_addresses_are_refused_unless_allowed() {
        let t = facts_address().to_friendly(false, true);
        assert!(t.starts_with("0Q"), "{t}");
        assert_eq!(TonAddress::parse(&t, false), Err(AddressError::Testnet));
        let p = TonAddress::parse_detailed(&t, true).unwrap();
        assert_eq!(p.address, facts_address());
        assert!(matches!(
            p.form,
            AddressForm::Friendly {
                testnet: true,
                bounceable: false,
                ..
            }
        ));
    }

    #[test]
    fn every_bad_form_is_refused_with_its_reason() {
        let hex64 = &RAW[2..];
        let cases: Vec<(String, AddressError)> = vec![
            (String::new(), AddressError::Empty),
            ("E".repeat(10_000), AddressError::TooLong),
            (format!(" {BOUNCEABLE}"), AddressError::Whitespace),
            (format!("{BOUNCEABLE}\n"), AddressError::Whitespace),
            (format!("0: {}", &hex64[1..]), AddressError::Whitespace),
            (BOUNCEABLE[..47].to_string(), AddressError::Length),
            (format!("{BOUNCEABLE}A"), AddressError::Length),
            (format!("{BOUNCEABLE}=="), AddressError::Length),
            (format!("{}!", &BOUNCEABLE[..47]), AddressError::Alphabet),
            (format!("{}é", &BOUNCEABLE[..46]), AddressError::Alphabet),
            (
                format!("{}+", &BOUNCEABLE[..47]),
                AddressError::MixedAlphabets,
            ),
            (format!("{}G", &BOUNCEABLE[..47]), AddressError::Checksum),
            (format!("2:{hex64}"), AddressError::Workchain),
            (format!("-2:{hex64}"), AddressError::Workchain),
            (format!("99999999999:{hex64}"), AddressError::RawWorkchain),
            (format!("+0:{hex64}"), AddressError::RawWorkchain),
            (format!(":{hex64}"), AddressError::RawWorkchain),
            (format!("x:{hex64}"), AddressError::RawWorkchain),
            (format!("0:{}", &hex64[1..]), AddressError::RawHash),
            (format!("0:{hex64}0"), AddressError::RawHash),
            (format!("0:{}g", &hex64[1..]), AddressError::RawHash),
            (format!("0:0:{}", &hex64[2..]), AddressError::RawHash),
        ];
        for (input, want) in cases {
            assert_eq!(TonAddress::parse(&input, true), Err(want), "{input:?}");
        }
    }

    /// A friendly address with a valid checksum but the given tag and workchain bytes.
    fn forge(tag: u8, wc: u8) -> String {
        let mut bytes = [0u8; 36];
        bytes[0] = tag;
        bytes[1] = wc;
        bytes[2..34].copy_from_slice(facts_address().hash());
        let crc = crc16_xmodem(&bytes[..34]);
        bytes[34..].copy_from_slice(&crc.to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    #[test]
    fn well_checksummed_addresses_with_bad_flags_or_workchain_are_refused() {
        assert_eq!(forge(0x11, 0), BOUNCEABLE);
        assert_eq!(
            TonAddress::parse(&forge(0x12, 0), true),
            Err(AddressError::UnknownTag)
        );
        assert_eq!(
            TonAddress::parse(&forge(0x31, 0), true),
            Err(AddressError::UnknownTag)
        );
        assert_eq!(
            TonAddress::parse(&forge(0x91, 0), false),
            Err(AddressError::Testnet)
        );
        assert_eq!(
            TonAddress::parse(&forge(0x11, 1), true),
            Err(AddressError::Workchain)
        );
        assert_eq!(
            TonAddress::parse(&forge(0x11, 0x7f), true),
            Err(AddressError::Workchain)
        );
    }

    #[test]
    fn from_parts_refuses_unknown_workchains() {
        let a = facts_address();
        assert_eq!(TonAddress::from_parts(0, *a.hash()), Ok(a));
        assert_eq!(
            TonAddress::from_parts(1, *a.hash()),
            Err(AddressError::Workchain)
        );
    }

    #[test]
    fn crc16_matches_the_xmodem_check_value() {
        assert_eq!(crc16_xmodem(b"123456789"), 0x31c3);
    }

    fn any_address() -> impl Strategy<Value = TonAddress> {
        (any::<bool>(), any::<[u8; 32]>()).prop_map(|(master, hash)| {
            let wc = if master {
                Workchain::Masterchain
            } else {
                Workchain::Basechain
            };
            TonAddress::new(wc, hash)
        })
    }

    proptest! {
        #[test]
        fn raw_and_friendly_forms_round_trip(
            a in any_address(), bounceable in any::<bool>(), testnet in any::<bool>()
        ) {
            prop_assert_eq!(TonAddress::parse(&a.to_raw(), false)?, a);
            let f = a.to_friendly(bounceable, testnet);
            prop_assert_eq!(f.len(), 48);
            let p = TonAddress::parse_detailed(&f, true)?;
            prop_assert_eq!(p.address, a);
            prop_assert_eq!(
                p.form,
                AddressForm::Friendly { bounceable, testnet, url_safe: true }
            );
        }

        #[test]
        fn any_single_character_change_is_refused(
            a in any_address(),
            bounceable in any::<bool>(),
            pos in 0usize..48,
            replacement in proptest::sample::select(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=.!"
                    .chars()
                    .collect::<Vec<_>>()
            ),
        ) {
            let f = a.to_friendly(bounceable, false);
            let original = f.as_bytes()[pos] as char;
            // `-` and `+`, `_` and `/` are one value in the two alphabets: not a change.
            let same_value = matches!((original, replacement), ('-', '+') | ('_', '/'));
            prop_assume!(replacement != original && !same_value);
            let mut changed = f.clone();
            changed.replace_range(pos..=pos, &replacement.to_string());
            prop_assert!(TonAddress::parse(&changed, true).is_err(), "{} accepted", changed);
        }
    }
}
