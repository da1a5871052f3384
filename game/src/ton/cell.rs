//! TON cells and bags of cells (BoC): just enough to read a wallet's `stateInit` and hash it.
//!
//! A TON Connect wallet proves its address by sending its `stateInit` as a base64 BoC; the address
//! is the representation hash of that cell tree, and the public key sits in the data cell. So the
//! server needs three things, all here: a parser for hostile bytes (every length checked, sizes
//! capped, never a panic), the standard representation hash, and a bit reader. Only ordinary cells
//! are accepted: exotic cells (pruned branches, library cells, Merkle proofs) never appear in a
//! wallet's state init, and refusing them keeps the hash rules to the simple level-0 case.
//! A small builder and `to_boc` serialiser exist so tests can build state inits of their own.

use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// Most data bits one cell holds.
pub const MAX_BITS: usize = 1023;
/// Most references one cell holds.
pub const MAX_REFS: usize = 4;
/// Largest BoC [`Cell::from_boc`] reads, in bytes (a wallet state init is about 1 KiB).
pub const MAX_BOC_BYTES: usize = 64 * 1024;
/// Most cells [`Cell::from_boc`] reads.
pub const MAX_BOC_CELLS: usize = 1024;
/// Deepest cell tree accepted (the network's own limit).
pub const MAX_DEPTH: u16 = 1024;

const BOC_MAGIC: [u8; 4] = [0xb5, 0xee, 0x9c, 0x72];

/// Why a cell could not be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CellError {
    /// More than 1023 data bits.
    #[error("a cell holds at most 1023 bits")]
    TooManyBits,
    /// Fewer data bytes than the bit length asks for.
    #[error("the data is shorter than the cell's bit length")]
    ShortData,
    /// More than four references.
    #[error("a cell holds at most 4 references")]
    TooManyRefs,
    /// A tree deeper than the network allows.
    #[error("the cell tree is deeper than 1024")]
    TooDeep,
}

/// Why bytes are not an acceptable bag of cells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BocError {
    /// The bytes end before the structure does.
    #[error("the bag of cells is truncated")]
    Truncated,
    /// Bytes left over after the structure.
    #[error("the bag of cells has trailing bytes")]
    TrailingBytes,
    /// Not the `b5ee9c72` serialisation.
    #[error("not a bag of cells (bad magic)")]
    BadMagic,
    /// A header field out of its allowed range.
    #[error("the bag of cells header is invalid")]
    BadHeader,
    /// Larger than this parser accepts.
    #[error("the bag of cells is too large")]
    TooLarge,
    /// Not exactly one root.
    #[error("the bag of cells must have exactly one root")]
    RootCount,
    /// A reference or root index out of range or not pointing forward.
    #[error("the bag of cells has an invalid cell reference")]
    BadReference,
    /// A cell's data lacks its completion tag.
    #[error("a cell's data has no completion tag")]
    BadCompletionTag,
    /// An exotic, levelled, hash-carrying or absent cell.
    #[error("only ordinary cells are accepted")]
    UnsupportedCell,
    /// The CRC32-C trailer does not match.
    #[error("the bag of cells checksum does not match")]
    BadChecksum,
    /// A cell that cannot exist (too many bits or refs, too deep).
    #[error(transparent)]
    Cell(#[from] CellError),
}

/// Why a [`CellSlice`] read failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the cell has too few bits or references for this read")]
pub struct SliceError;

/// An ordinary TON cell: up to 1023 data bits and four references, with its hash computed once.
#[derive(Clone)]
pub struct Cell {
    data: Vec<u8>,
    bit_len: usize,
    refs: Vec<Arc<Cell>>,
    hash: [u8; 32],
    depth: u16,
}

/// Cells are equal when their representation hashes are: the hash covers the whole tree.
impl PartialEq for Cell {
    fn eq(&self, other: &Cell) -> bool {
        self.hash == other.hash
    }
}

impl Eq for Cell {}

impl std::fmt::Debug for Cell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cell")
            .field("bits", &self.bit_len)
            .field("refs", &self.refs.len())
            .field("hash", &hex::encode(self.hash))
            .finish()
    }
}

impl Cell {
    /// A cell of the first `bit_len` bits of `data` (most significant bit first) and `refs`.
    pub fn new(data: &[u8], bit_len: usize, refs: Vec<Arc<Cell>>) -> Result<Cell, CellError> {
        if bit_len > MAX_BITS {
            return Err(CellError::TooManyBits);
        }
        if bit_len > data.len() * 8 {
            return Err(CellError::ShortData);
        }
        if refs.len() > MAX_REFS {
            return Err(CellError::TooManyRefs);
        }
        let mut data = data[..bit_len.div_ceil(8)].to_vec();
        // Bits past `bit_len` are not part of the cell: clear them so equal cells compare equal.
        if !bit_len.is_multiple_of(8) {
            if let Some(last) = data.last_mut() {
                *last &= 0xffu8 << (8 - bit_len % 8);
            }
        }
        let depth = match refs.iter().map(|r| r.depth).max() {
            None => 0,
            Some(d) if d >= MAX_DEPTH => return Err(CellError::TooDeep),
            Some(d) => d + 1,
        };
        let hash = representation_hash(&data, bit_len, &refs);
        Ok(Cell {
            data,
            bit_len,
            refs,
            hash,
            depth,
        })
    }

    /// The representation hash (what an address is made of).
    pub fn hash(&self) -> [u8; 32] {
        self.hash
    }

    /// The depth: 0 for a cell without references, else one more than its deepest child.
    pub fn depth(&self) -> u16 {
        self.depth
    }

    /// The number of data bits.
    pub fn bit_len(&self) -> usize {
        self.bit_len
    }

    /// The references, in order.
    pub fn refs(&self) -> &[Arc<Cell>] {
        &self.refs
    }

    /// A reader over this cell's bits and references.
    pub fn slice(&self) -> CellSlice<'_> {
        CellSlice {
            cell: self,
            bit: 0,
            next_ref: 0,
        }
    }

    /// Parses a single-root bag of cells, verifying its CRC32-C when it carries one.
    pub fn from_boc(bytes: &[u8]) -> Result<Arc<Cell>, BocError> {
        parse_boc(bytes)
    }

    /// Serialises this cell as a single-root bag of cells (no index), optionally with a CRC32-C.
    pub fn to_boc(&self, with_crc: bool) -> Vec<u8> {
        write_boc(self, with_crc)
    }

    /// The d1 and d2 descriptor bytes of an ordinary level-0 cell.
    fn descriptors(&self) -> [u8; 2] {
        descriptors(self.bit_len, self.refs.len())
    }
}

fn descriptors(bit_len: usize, refs: usize) -> [u8; 2] {
    // d1 = refs + 8·exotic + 32·level; d2 = ⌊bits/8⌋ + ⌈bits/8⌉. Both fit: refs ≤ 4, bits ≤ 1023.
    [refs as u8, (bit_len / 8 + bit_len.div_ceil(8)) as u8]
}

/// `data` padded with the completion tag: a 1 bit then zeros up to the byte boundary.
fn padded(data: &[u8], bit_len: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    if !bit_len.is_multiple_of(8) {
        if let Some(last) = out.last_mut() {
            *last |= 0x80 >> (bit_len % 8);
        }
    }
    out
}

fn representation_hash(data: &[u8], bit_len: usize, refs: &[Arc<Cell>]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(descriptors(bit_len, refs.len()));
    h.update(padded(data, bit_len));
    for r in refs {
        h.update(r.depth.to_be_bytes());
    }
    for r in refs {
        h.update(r.hash);
    }
    h.finalize().into()
}

/// A reader over one cell's bits and references, front to back.
#[derive(Clone, Debug)]
pub struct CellSlice<'a> {
    cell: &'a Cell,
    bit: usize,
    next_ref: usize,
}

impl<'a> CellSlice<'a> {
    /// Data bits not read yet.
    pub fn remaining_bits(&self) -> usize {
        self.cell.bit_len - self.bit
    }

    /// References not read yet.
    pub fn remaining_refs(&self) -> usize {
        self.cell.refs.len() - self.next_ref
    }

    /// Reads one bit.
    pub fn read_bit(&mut self) -> Result<bool, SliceError> {
        if self.remaining_bits() == 0 {
            return Err(SliceError);
        }
        let byte = self.cell.data[self.bit / 8];
        let bit = byte & (0x80 >> (self.bit % 8)) != 0;
        self.bit += 1;
        Ok(bit)
    }

    /// Reads an unsigned big-endian integer of `bits` bits (at most 64).
    pub fn read_uint(&mut self, bits: usize) -> Result<u64, SliceError> {
        if bits > 64 || self.remaining_bits() < bits {
            return Err(SliceError);
        }
        let mut v = 0u64;
        for _ in 0..bits {
            v = (v << 1) | u64::from(self.read_bit()?);
        }
        Ok(v)
    }

    /// Reads `N` whole bytes.
    pub fn read_bytes<const N: usize>(&mut self) -> Result<[u8; N], SliceError> {
        if self.remaining_bits() < N * 8 {
            return Err(SliceError);
        }
        let mut out = [0u8; N];
        for b in &mut out {
            *b = self.read_uint(8)? as u8;
        }
        Ok(out)
    }

    /// Skips `bits` bits.
    pub fn skip(&mut self, bits: usize) -> Result<(), SliceError> {
        if self.remaining_bits() < bits {
            return Err(SliceError);
        }
        self.bit += bits;
        Ok(())
    }

    /// Takes the next reference.
    pub fn read_ref(&mut self) -> Result<&'a Arc<Cell>, SliceError> {
        let r = self.cell.refs.get(self.next_ref).ok_or(SliceError)?;
        self.next_ref += 1;
        Ok(r)
    }
}

/// Writes bits most significant first, then becomes a [`Cell`].
#[derive(Clone, Debug, Default)]
pub struct CellBuilder {
    data: Vec<u8>,
    bit_len: usize,
    refs: Vec<Arc<Cell>>,
}

impl CellBuilder {
    /// An empty builder.
    pub fn new() -> CellBuilder {
        CellBuilder::default()
    }

    /// Appends one bit.
    pub fn bit(mut self, bit: bool) -> CellBuilder {
        if self.bit_len.is_multiple_of(8) {
            self.data.push(0);
        }
        if bit {
            let last = self.data.len() - 1;
            self.data[last] |= 0x80 >> (self.bit_len % 8);
        }
        self.bit_len += 1;
        self
    }

    /// Appends the low `bits` bits of `value`, big-endian; panics if `bits` exceeds 64.
    pub fn uint(mut self, value: u64, bits: usize) -> CellBuilder {
        assert!(bits <= 64, "at most 64 bits at once");
        for i in (0..bits).rev() {
            self = self.bit((value >> i) & 1 == 1);
        }
        self
    }

    /// Appends whole bytes.
    pub fn bytes(mut self, bytes: &[u8]) -> CellBuilder {
        for &b in bytes {
            self = self.uint(u64::from(b), 8);
        }
        self
    }

    /// Appends a reference.
    pub fn reference(mut self, cell: Arc<Cell>) -> CellBuilder {
        self.refs.push(cell);
        self
    }

    /// The cell, or why it cannot exist.
    pub fn build(self) -> Result<Cell, CellError> {
        Cell::new(&self.data, self.bit_len, self.refs)
    }
}

/// CRC32-C (Castagnoli, reflected), the BoC trailer's checksum.
pub(crate) fn crc32c(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut c = i as u32;
            let mut k = 0;
            while k < 8 {
                c = if c & 1 != 0 {
                    (c >> 1) ^ 0x82f6_3b78
                } else {
                    c >> 1
                };
                k += 1;
            }
            table[i] = c;
            i += 1;
        }
        table
    };
    let mut crc = !0u32;
    for &b in bytes {
        crc = TABLE[((crc ^ u32::from(b)) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// A cursor over the BoC bytes whose every read is bounds-checked.
struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], BocError> {
        let end = self.pos.checked_add(n).ok_or(BocError::Truncated)?;
        let out = self.bytes.get(self.pos..end).ok_or(BocError::Truncated)?;
        self.pos = end;
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, BocError> {
        Ok(self.take(1)?[0])
    }

    /// A big-endian unsigned integer of `n` bytes (`n` ≤ 8).
    fn uint(&mut self, n: usize) -> Result<u64, BocError> {
        Ok(self
            .take(n)?
            .iter()
            .fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
    }

    /// Like [`Reader::uint`], for a count that must fit in memory-sized bounds.
    fn count(&mut self, n: usize, cap: usize) -> Result<usize, BocError> {
        let v = self.uint(n)?;
        if v > cap as u64 {
            return Err(BocError::TooLarge);
        }
        Ok(v as usize)
    }
}

/// A cell as read from the BoC, before its references are resolved.
struct RawCell<'a> {
    data: &'a [u8],
    bit_len: usize,
    refs: Vec<usize>,
}

fn parse_boc(bytes: &[u8]) -> Result<Arc<Cell>, BocError> {
    if bytes.len() > MAX_BOC_BYTES {
        return Err(BocError::TooLarge);
    }
    let mut r = Reader { bytes, pos: 0 };
    if r.take(4)? != BOC_MAGIC {
        return Err(BocError::BadMagic);
    }
    let flags = r.u8()?;
    let has_idx = flags & 0x80 != 0;
    let has_crc = flags & 0x40 != 0;
    // has_cache_bits (0x20) only changes the meaning of the index, which is skipped.
    if flags & 0x18 != 0 {
        return Err(BocError::BadHeader);
    }
    let size = usize::from(flags & 0x07);
    if !(1..=4).contains(&size) {
        return Err(BocError::BadHeader);
    }
    let off_bytes = usize::from(r.u8()?);
    if !(1..=8).contains(&off_bytes) {
        return Err(BocError::BadHeader);
    }
    let cells = r.count(size, MAX_BOC_CELLS)?;
    let roots = r.count(size, MAX_BOC_CELLS)?;
    let absent = r.count(size, MAX_BOC_CELLS)?;
    let tot_cells_size = r.count(off_bytes, MAX_BOC_BYTES)?;
    if roots != 1 {
        return Err(BocError::RootCount);
    }
    if absent != 0 {
        return Err(BocError::UnsupportedCell);
    }
    if cells == 0 {
        return Err(BocError::BadHeader);
    }
    let root = r.count(size, MAX_BOC_CELLS)?;
    if root >= cells {
        return Err(BocError::BadReference);
    }
    if has_idx {
        r.take(cells.checked_mul(off_bytes).ok_or(BocError::TooLarge)?)?;
    }
    let cells_start = r.pos;
    let mut raw = Vec::with_capacity(cells);
    for index in 0..cells {
        raw.push(read_raw_cell(&mut r, index, size, cells)?);
    }
    if r.pos - cells_start != tot_cells_size {
        return Err(BocError::BadHeader);
    }
    if has_crc {
        let body = r.pos;
        let stored = r.take(4)?;
        let stored = u32::from_le_bytes([stored[0], stored[1], stored[2], stored[3]]);
        if crc32c(&bytes[..body]) != stored {
            return Err(BocError::BadChecksum);
        }
    }
    if r.pos != bytes.len() {
        return Err(BocError::TrailingBytes);
    }
    // References only point forward, so building from the last cell back resolves every child
    // before its parent, and no cycle can exist.
    let mut built: Vec<Option<Arc<Cell>>> = vec![None; cells];
    for i in (0..cells).rev() {
        let rc = &raw[i];
        let mut refs = Vec::with_capacity(rc.refs.len());
        for &j in &rc.refs {
            let child = built[j].clone().ok_or(BocError::BadReference)?;
            refs.push(child);
        }
        built[i] = Some(Arc::new(Cell::new(rc.data, rc.bit_len, refs)?));
    }
    built[root].take().ok_or(BocError::BadReference)
}

/// Reads cell number `index` of `cells`; its references must point to later cells.
fn read_raw_cell<'a>(
    r: &mut Reader<'a>,
    index: usize,
    size: usize,
    cells: usize,
) -> Result<RawCell<'a>, BocError> {
    let d1 = r.u8()?;
    let d2 = r.u8()?;
    let ref_count = usize::from(d1 & 0x07);
    // 0x08 exotic, 0x10 stored hashes, 0xe0 level: none occurs in a wallet's state init.
    if d1 & 0xf8 != 0 || ref_count > MAX_REFS {
        return Err(BocError::UnsupportedCell);
    }
    let data_len = usize::from(d2).div_ceil(2);
    let data = r.take(data_len)?;
    let bit_len = if d2.is_multiple_of(2) {
        data_len * 8
    } else {
        let last = *data.last().ok_or(BocError::BadCompletionTag)?;
        if last == 0 {
            return Err(BocError::BadCompletionTag);
        }
        data_len * 8 - last.trailing_zeros() as usize - 1
    };
    let mut refs = Vec::with_capacity(ref_count);
    for _ in 0..ref_count {
        let j = r.count(size, MAX_BOC_CELLS)?;
        if j <= index || j >= cells {
            return Err(BocError::BadReference);
        }
        refs.push(j);
    }
    Ok(RawCell {
        data,
        bit_len,
        refs,
    })
}

fn write_boc(root: &Cell, with_crc: bool) -> Vec<u8> {
    // Kahn's topological sort with a FIFO queue: every parent precedes its children (the parser
    // requires forward references) and a cell shared by several parents is written once.
    let mut in_degree: HashMap<[u8; 32], usize> = HashMap::new();
    let mut stack = vec![root];
    let mut seen: HashSet<[u8; 32]> = HashSet::from([root.hash]);
    while let Some(c) = stack.pop() {
        for r in &c.refs {
            *in_degree.entry(r.hash).or_default() += 1;
            if seen.insert(r.hash) {
                stack.push(r);
            }
        }
    }
    let mut order: Vec<&Cell> = Vec::with_capacity(seen.len());
    let mut queue = std::collections::VecDeque::from([root]);
    while let Some(c) = queue.pop_front() {
        order.push(c);
        for r in &c.refs {
            let d = in_degree.get_mut(&r.hash).expect("counted above");
            *d -= 1;
            if *d == 0 {
                queue.push_back(r);
            }
        }
    }
    let index: HashMap<[u8; 32], usize> =
        order.iter().enumerate().map(|(i, c)| (c.hash, i)).collect();

    let size = bytes_for(order.len() as u64);
    let mut cells = Vec::new();
    for c in &order {
        cells.extend_from_slice(&c.descriptors());
        cells.extend_from_slice(&padded(&c.data, c.bit_len));
        for r in &c.refs {
            push_uint(&mut cells, index[&r.hash] as u64, size);
        }
    }
    let off_bytes = bytes_for(cells.len() as u64);

    let mut out = BOC_MAGIC.to_vec();
    out.push(if with_crc { 0x40 } else { 0 } | size as u8);
    out.push(off_bytes as u8);
    push_uint(&mut out, order.len() as u64, size);
    push_uint(&mut out, 1, size);
    push_uint(&mut out, 0, size);
    push_uint(&mut out, cells.len() as u64, off_bytes);
    push_uint(&mut out, 0, size);
    out.extend_from_slice(&cells);
    if with_crc {
        let crc = crc32c(&out);
        out.extend_from_slice(&crc.to_le_bytes());
    }
    out
}

/// The fewest bytes (at least one) that hold `v`.
fn bytes_for(v: u64) -> usize {
    ((64 - v.leading_zeros() as usize).div_ceil(8)).max(1)
}

fn push_uint(out: &mut Vec<u8>, v: u64, n: usize) {
    out.extend_from_slice(&v.to_be_bytes()[8 - n..]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ton::wallets::WalletKind;
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine;
    use proptest::prelude::*;

    /// Wallet v3r2's code: a one-cell BoC with a CRC32-C, as the SDKs ship it.
    const V3R2_BOC: &str = "te6cckEBAQEAcQAA3v8AIN0gggFMl7ohggEznLqxn3Gw7UTQ0x/THzHXC//jBOCk8mCDCNcYINMf0x/TH/gjE7vyY+1E0NMf0x/T/9FRMrryoVFEuvKiBPkBVBBV+RDyo/gAkyDXSpbTB9QC+wDo0QGkyMsfyx/L/8ntVBC9ba0=";

    fn v3r2_bytes() -> Vec<u8> {
        STANDARD.decode(V3R2_BOC).unwrap()
    }

    #[test]
    fn a_known_code_boc_parses_to_its_known_hash() {
        let cell = Cell::from_boc(&v3r2_bytes()).unwrap();
        assert_eq!(
            hex::encode(cell.hash()),
            "84dafa449f98a6987789ba232358072bc0f76dc4524002a5d0918b9a75d2d599"
        );
        assert_eq!(cell.depth(), 0);
    }

    #[test]
    fn a_one_cell_boc_serialises_back_byte_for_byte() {
        let bytes = v3r2_bytes();
        let cell = Cell::from_boc(&bytes).unwrap();
        assert_eq!(cell.to_boc(true), bytes);
    }

    #[test]
    fn a_many_cell_tree_round_trips_through_boc_with_and_without_crc() {
        let code = WalletKind::V4R2.code();
        assert!(code.depth() > 1);
        for crc in [false, true] {
            let again = Cell::from_boc(&code.to_boc(crc)).unwrap();
            assert_eq!(again.hash(), code.hash());
            assert_eq!(*again, *code);
        }
    }

    #[test]
    fn shared_subtrees_are_written_once() {
        let leaf = Arc::new(CellBuilder::new().uint(5, 3).build().unwrap());
        let mid = Arc::new(
            CellBuilder::new()
                .reference(leaf.clone())
                .reference(leaf.clone())
                .build()
                .unwrap(),
        );
        let root = CellBuilder::new()
            .reference(mid.clone())
            .reference(leaf.clone())
            .build()
            .unwrap();
        let boc = root.to_boc(false);
        // Header: cells = 3.
        assert_eq!(boc[6], 3);
        let again = Cell::from_boc(&boc).unwrap();
        assert_eq!(again.hash(), root.hash());
        assert_eq!(again.depth(), 2);
    }

    #[test]
    fn the_empty_cell_has_its_well_known_hash() {
        let empty = CellBuilder::new().build().unwrap();
        assert_eq!(
            hex::encode(empty.hash()),
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"
        );
    }

    #[test]
    fn builder_and_slice_agree_on_bit_order() {
        let cell = CellBuilder::new()
            .bit(true)
            .uint(0xdead_beef, 32)
            .bytes(&[1, 2, 3])
            .uint(5, 3)
            .build()
            .unwrap();
        assert_eq!(cell.bit_len(), 1 + 32 + 24 + 3);
        let mut s = cell.slice();
        assert!(s.read_bit().unwrap());
        assert_eq!(s.read_uint(32).unwrap(), 0xdead_beef);
        assert_eq!(s.read_bytes::<3>().unwrap(), [1, 2, 3]);
        assert_eq!(s.read_uint(3).unwrap(), 5);
        assert_eq!(s.read_bit(), Err(SliceError));
        assert!(s.read_ref().is_err());
    }

    #[test]
    fn oversized_cells_cannot_be_built() {
        let full = CellBuilder::new().bytes(&[0; 127]).uint(0, 7);
        assert!(full.clone().build().is_ok());
        assert_eq!(full.bit(true).build(), Err(CellError::TooManyBits));
        let leaf = Arc::new(CellBuilder::new().build().unwrap());
        let mut b = CellBuilder::new();
        for _ in 0..5 {
            b = b.reference(leaf.clone());
        }
        assert_eq!(b.build(), Err(CellError::TooManyRefs));
    }

    #[test]
    fn a_wrong_crc_is_refused() {
        let mut bytes = v3r2_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(Cell::from_boc(&bytes), Err(BocError::BadChecksum));
        let mut bytes = v3r2_bytes();
        bytes[40] ^= 1;
        assert_eq!(Cell::from_boc(&bytes), Err(BocError::BadChecksum));
    }

    #[test]
    fn hostile_headers_are_refused() {
        let good = v3r2_bytes();
        let with = |i: usize, v: u8| {
            let mut b = good.clone();
            b[i] = v;
            Cell::from_boc(&b)
        };
        assert_eq!(Cell::from_boc(&[]), Err(BocError::Truncated));
        assert_eq!(with(0, 0), Err(BocError::BadMagic));
        assert_eq!(with(4, 0x40), Err(BocError::BadHeader)); // size 0
        assert_eq!(with(4, 0x45), Err(BocError::BadHeader)); // size 5
        assert_eq!(with(5, 0), Err(BocError::BadHeader)); // off_bytes 0
        assert_eq!(with(7, 2), Err(BocError::RootCount));
        assert_eq!(with(8, 1), Err(BocError::UnsupportedCell)); // absent cells
        assert_eq!(with(10, 1), Err(BocError::BadReference)); // root index ≥ cells
        assert_eq!(with(11, 0x08), Err(BocError::UnsupportedCell)); // exotic
        assert_eq!(with(11, 0x20), Err(BocError::UnsupportedCell)); // level 1
        assert_eq!(with(11, 0x10), Err(BocError::UnsupportedCell)); // stored hashes
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(Cell::from_boc(&trailing).is_err());
        assert_eq!(
            Cell::from_boc(&vec![0; MAX_BOC_BYTES + 1]),
            Err(BocError::TooLarge)
        );
        // A header announcing 2^32 - 1 cells is refused before anything is allocated.
        let huge = [0xb5, 0xee, 0x9c, 0x72, 0x04, 0x01, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(Cell::from_boc(&huge), Err(BocError::TooLarge));
    }

    #[test]
    fn references_must_point_forward() {
        // Two cells where cell 1 refers back to cell 0: a cycle in disguise.
        let boc = [
            0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, 2, 1, 0, 6, 0, // header, root 0
            0x01, 0x00, 1, // cell 0: one ref → 1
            0x01, 0x00, 0, // cell 1: one ref → 0
        ];
        assert_eq!(Cell::from_boc(&boc), Err(BocError::BadReference));
        let self_ref = [
            0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, 1, 1, 0, 3, 0, 0x01, 0x00, 0,
        ];
        assert_eq!(Cell::from_boc(&self_ref), Err(BocError::BadReference));
    }

    #[test]
    fn a_missing_completion_tag_is_refused() {
        // One cell, d2 = 1 (half a byte), data byte 0: no tag bit.
        let boc = [
            0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, 1, 1, 0, 3, 0, 0x00, 0x01, 0x00,
        ];
        assert_eq!(Cell::from_boc(&boc), Err(BocError::BadCompletionTag));
        let tagged = [
            0xb5, 0xee, 0x9c, 0x72, 0x01, 0x01, 1, 1, 0, 3, 0, 0x00, 0x01, 0xa8,
        ];
        let cell = Cell::from_boc(&tagged).unwrap();
        assert_eq!(cell.bit_len(), 4);
        assert_eq!(cell.slice().read_uint(4).unwrap(), 0b1010);
    }

    #[test]
    fn an_index_is_skipped_and_checked_for_length() {
        let cell = Cell::from_boc(&v3r2_bytes()).unwrap();
        let plain = cell.to_boc(false);
        // Same BoC with has_idx and a one-entry index of one byte (off_bytes = 1).
        let mut indexed = plain[..11].to_vec();
        indexed[4] |= 0x80;
        indexed.push(plain.len() as u8 - 11);
        indexed.extend_from_slice(&plain[11..]);
        assert_eq!(Cell::from_boc(&indexed).unwrap().hash(), cell.hash());
    }

    #[test]
    fn crc32c_matches_the_castagnoli_check_value() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
    }

    proptest! {
        #[test]
        fn random_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = Cell::from_boc(&bytes);
            let mut with_magic = BOC_MAGIC.to_vec();
            with_magic.extend_from_slice(&bytes);
            let _ = Cell::from_boc(&with_magic);
        }

        #[test]
        fn mutated_real_bocs_never_panic_the_parser(
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
            crc in any::<bool>(),
        ) {
            let mut bytes = WalletKind::V4R2.code().to_boc(crc);
            for (at, v) in edits {
                let i = at.index(bytes.len());
                bytes[i] = v;
            }
            let _ = Cell::from_boc(&bytes);
        }

        #[test]
        fn built_cells_round_trip_through_boc(
            data in proptest::collection::vec(any::<u8>(), 0..128),
            cut in 0usize..8,
            crc in any::<bool>(),
        ) {
            let bits = (data.len() * 8).saturating_sub(cut).min(MAX_BITS);
            let leaf = Arc::new(Cell::new(&data, bits, vec![]).unwrap());
            let root = CellBuilder::new().uint(1, 1).reference(leaf.clone()).build().unwrap();
            let again = Cell::from_boc(&root.to_boc(crc)).unwrap();
            prop_assert_eq!(again.hash(), root.hash());
            prop_assert_eq!(again.refs()[0].bit_len(), bits);
        }
    }
}
