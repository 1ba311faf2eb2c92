//! Compact per-node columns: type indices, sizes and addresses.
//!
//! Each column is appended to one node at a time (readers stream) and read
//! by index. Common values take little room; rare ones go to a side table:
//!
//! * type index: 2 bytes while the graph has fewer than 65,535 types, else
//!   4 (the column widens once, when the first larger index arrives);
//! * size: 2 bytes; sizes of 65,535 bytes or more are kept in a map (large
//!   objects are few);
//! * address: blocks of 64 nodes share a base and store 2-byte offsets from
//!   it in units of 4 bytes (2.14 bytes per node, for blocks within
//!   256 KiB); a block spanning more keeps 4-byte offsets (4.27 bytes per
//!   node, within 4 GiB) or its whole addresses (10.1 bytes per node), with
//!   what does not fit in 2 bytes in a side array.

use std::collections::{HashMap, TryReserveError};

/// Type indices, narrow until a wide one arrives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TypeColumn {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl Default for TypeColumn {
    fn default() -> Self {
        TypeColumn::Narrow(Vec::new())
    }
}

impl TypeColumn {
    pub(crate) fn len(&self) -> usize {
        match self {
            TypeColumn::Narrow(v) => v.len(),
            TypeColumn::Wide(v) => v.len(),
        }
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> u32 {
        match self {
            TypeColumn::Narrow(v) => v[i] as u32,
            TypeColumn::Wide(v) => v[i],
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, t: u32) {
        match self {
            TypeColumn::Narrow(v) if t < u16::MAX as u32 => v.push(t as u16),
            TypeColumn::Wide(v) => v.push(t),
            TypeColumn::Narrow(_) => self.widen_and_push(t),
        }
    }

    /// [`TypeColumn::push`] of the first index too large for the narrow
    /// column: out of the hot path.
    #[cold]
    #[inline(never)]
    fn widen_and_push(&mut self, t: u32) {
        if let TypeColumn::Narrow(v) = self {
            let mut wide: Vec<u32> = v.iter().map(|&x| x as u32).collect();
            wide.push(t);
            *self = TypeColumn::Wide(wide);
        }
    }

    /// Appends `ts`, as [`TypeColumn::push`] of each would.
    pub(crate) fn extend(&mut self, ts: &[u32]) {
        if let TypeColumn::Narrow(v) = self {
            if ts.iter().all(|&t| t < u16::MAX as u32) {
                v.extend(ts.iter().map(|&t| t as u16));
                return;
            }
        }
        for &t in ts {
            self.push(t);
        }
    }

    pub(crate) fn reserve(&mut self, n: usize) {
        match self {
            TypeColumn::Narrow(v) => v.reserve_exact(n),
            TypeColumn::Wide(v) => v.reserve_exact(n),
        }
    }

    pub(crate) fn try_reserve(&mut self, n: usize) -> Result<(), TryReserveError> {
        match self {
            TypeColumn::Narrow(v) => v.try_reserve_exact(n),
            TypeColumn::Wide(v) => v.try_reserve_exact(n),
        }
    }

    #[inline]
    pub(crate) fn spare(&self) -> usize {
        match self {
            TypeColumn::Narrow(v) => v.capacity() - v.len(),
            TypeColumn::Wide(v) => v.capacity() - v.len(),
        }
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        match self {
            TypeColumn::Narrow(v) => v.shrink_to_fit(),
            TypeColumn::Wide(v) => v.shrink_to_fit(),
        }
    }

    /// The largest index, if any.
    pub(crate) fn max(&self) -> Option<u32> {
        // A fold of values (not `max`, which tracks a reference and does
        // not vectorize).
        match self {
            TypeColumn::Narrow(v) => {
                (!v.is_empty()).then(|| v.iter().fold(0, |m, &x| m.max(x)) as u32)
            }
            TypeColumn::Wide(v) => (!v.is_empty()).then(|| v.iter().fold(0, |m, &x| m.max(x))),
        }
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        match self {
            TypeColumn::Narrow(v) => v.capacity() * 2,
            TypeColumn::Wide(v) => v.capacity() * 4,
        }
    }
}

/// Sizes: 2 bytes each, large ones in a map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct SizeColumn {
    small: Vec<u16>,
    large: HashMap<u32, u64>,
}

impl SizeColumn {
    const LARGE: u16 = u16::MAX;

    #[inline]
    pub(crate) fn get(&self, i: usize) -> u64 {
        match self.small[i] {
            Self::LARGE => self.large.get(&(i as u32)).copied().unwrap_or(0),
            s => s as u64,
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, size: u64) {
        if size < Self::LARGE as u64 {
            self.small.push(size as u16);
        } else {
            self.push_large(size);
        }
    }

    /// [`SizeColumn::push`] of a large size: out of the hot path.
    #[cold]
    #[inline(never)]
    fn push_large(&mut self, size: u64) {
        self.large.insert(self.small.len() as u32, size);
        self.small.push(Self::LARGE);
    }

    /// Appends `sizes`, as [`SizeColumn::push`] of each would.
    pub(crate) fn extend(&mut self, sizes: &[u64]) {
        let first = self.small.len();
        self.small.extend(sizes.iter().map(|&s| {
            if s < Self::LARGE as u64 {
                s as u16
            } else {
                Self::LARGE
            }
        }));
        for (i, &s) in sizes.iter().enumerate() {
            if s >= Self::LARGE as u64 {
                self.large.insert((first + i) as u32, s);
            }
        }
    }

    /// Appends the sizes `range` of `other`.
    pub(crate) fn extend_from(&mut self, other: &SizeColumn, range: std::ops::Range<usize>) {
        let first = self.small.len();
        let small = &other.small[range.clone()];
        self.small.extend_from_slice(small);
        for (k, &s) in small.iter().enumerate() {
            if s == Self::LARGE {
                let size = other.get(range.start + k);
                self.large.insert((first + k) as u32, size);
            }
        }
    }

    pub(crate) fn reserve(&mut self, n: usize) {
        self.small.reserve_exact(n);
    }

    pub(crate) fn try_reserve(&mut self, n: usize) -> Result<(), TryReserveError> {
        self.small.try_reserve_exact(n)
    }

    #[inline]
    pub(crate) fn spare(&self) -> usize {
        self.small.capacity() - self.small.len()
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.small.shrink_to_fit();
        self.large.shrink_to_fit();
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.small.capacity() * 2 + self.large.capacity() * (4 + 8 + 1)
    }
}

/// Nodes per address block.
const BLOCK: usize = 64;
/// Bytes per unit of a narrow offset: objects are 8-aligned in 64-bit
/// processes and 4-aligned in 32-bit ones.
const UNIT: u64 = 4;
/// Narrow offset of a zero address (pseudo-nodes, unknown addresses);
/// narrow offsets go up to `ZERO16 - 1` units (256 KiB less 8 bytes).
const ZERO16: u16 = u16::MAX;
/// Mid offset of a zero address; mid offsets go up to `ZERO32 - 1` bytes.
const ZERO32: u32 = u32::MAX;
/// Kind of a block whose nodes' offsets are in `AddressColumn::offsets`
/// and base in `AddressColumn::bases`.
const NARROW: u8 = 0;
/// Kind of a block whose offsets are `u32`s: their low halves in
/// `AddressColumn::offsets`, their high halves and the base in a [`MidSlot`].
const MID: u8 = 1;
/// Kind of a block whose addresses are whole in `AddressColumn::wide`.
const WIDE: u8 = 2;
/// Slots per chunk of a side array ([`Side`]).
const CHUNK: usize = 16;

/// The rest of a block whose addresses are within 4 GiB of its base but not
/// narrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct MidSlot {
    base: u64,
    /// Per node: the high half of its offset in bytes from `base` (the low
    /// half is in `AddressColumn::offsets`); an offset of [`ZERO32`] is a
    /// zero address.
    high: [u16; BLOCK],
}

/// Slots of a rare block kind, in chunks of at most [`CHUNK`] slots. It
/// grows by itself, one slot at a time, so that the column's `spare` need
/// not count rare blocks; each growth allocates at most one chunk (a chunk
/// doubles up to [`CHUNK`] slots, then a new one begins: at most 8 KiB),
/// plus the list of chunks (one entry per [`CHUNK`] rare blocks) when it
/// doubles.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Side<T> {
    chunks: Vec<Vec<T>>,
}

impl<T> Default for Side<T> {
    fn default() -> Self {
        Side { chunks: Vec::new() }
    }
}

impl<T> Side<T> {
    #[inline]
    fn get(&self, slot: usize) -> &T {
        &self.chunks[slot / CHUNK][slot % CHUNK]
    }

    /// Appends `x`; returns its slot.
    fn push(&mut self, x: T) -> usize {
        match self.chunks.last_mut() {
            Some(c) if c.len() < CHUNK => {
                if c.len() == c.capacity() {
                    c.reserve_exact(c.len().min(CHUNK - c.len()));
                }
                c.push(x);
            }
            _ => {
                self.chunks.push(vec![x]);
            }
        }
        (self.chunks.len() - 1) * CHUNK + self.chunks.last().map_or(0, Vec::len) - 1
    }

    fn shrink_to_fit(&mut self) {
        if let Some(c) = self.chunks.last_mut() {
            c.shrink_to_fit();
        }
        self.chunks.shrink_to_fit();
    }

    fn memory_bytes(&self) -> usize {
        self.chunks.capacity() * std::mem::size_of::<Vec<T>>()
            + self
                .chunks
                .iter()
                .map(|c| c.capacity() * std::mem::size_of::<T>())
                .sum::<usize>()
    }
}

/// Addresses in blocks of [`BLOCK`] nodes. Every block has a `u64` in
/// `bases`, a kind byte and a `u16` per node in `offsets`, read together
/// (no load waits for another); a block is one of three kinds:
///
/// * narrow (heap-shaped blocks, the common case; 2.14 bytes per node): the
///   base and per node its offset from it in units of 4 bytes. A block is
///   narrow when every nonzero address is at least the base (the least
///   nonzero address), a multiple of 4 bytes from it and within 65,534 units
///   (256 KiB) of it;
/// * mid (4.27 bytes per node): `u32` byte offsets, when the addresses span
///   less than 4 GiB (a large-object block; an input whose addresses come in
///   any order, as a `.gcdump`'s): the low halves in `offsets`, the high
///   halves and the base in a side array, found through `bases`;
/// * wide (10.1 bytes per node): the whole addresses, in a side array found
///   through `bases`.
///
/// Zero addresses are kept by a marker in narrow and mid blocks. The side
/// arrays ([`Side`]) grow by themselves, at most one chunk of [`CHUNK`]
/// blocks (8 KiB) at a time; `reserve`, `try_reserve` and `spare` count
/// the per-block and per-node arrays only. The last, unfinished block is
/// kept whole until it is full.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AddressColumn {
    /// Per finished block: its base (narrow) or its slot in its side array.
    bases: Vec<u64>,
    /// Per finished block: [`NARROW`], [`MID`] or [`WIDE`].
    kinds: Vec<u8>,
    /// Per node of a finished block: (narrow) units of [`UNIT`] bytes from
    /// the base, or [`ZERO16`]; (mid) the low half of its `u32` offset;
    /// (wide) unused.
    offsets: Vec<u16>,
    mid: Side<MidSlot>,
    wide: Side<[u64; BLOCK]>,
    /// The unfinished block.
    tail: Vec<u64>,
}

impl AddressColumn {
    #[cfg(test)]
    fn len(&self) -> usize {
        self.offsets.len() + self.tail.len()
    }

    #[inline]
    pub(crate) fn get(&self, i: usize) -> u64 {
        let b = i / BLOCK;
        if b >= self.kinds.len() {
            return self.tail[i - b * BLOCK];
        }
        if self.kinds[b] != NARROW {
            return self.get_rare(i);
        }
        match self.offsets[i] {
            ZERO16 => 0,
            o => self.bases[b] + o as u64 * UNIT,
        }
    }

    /// Node `i`, of a finished mid or wide block.
    #[inline(never)]
    fn get_rare(&self, i: usize) -> u64 {
        let (b, j) = (i / BLOCK, i % BLOCK);
        let slot = self.bases[b] as usize;
        if self.kinds[b] == MID {
            let m = self.mid.get(slot);
            match ((m.high[j] as u32) << 16) | self.offsets[i] as u32 {
                ZERO32 => 0,
                o => m.base + o as u64,
            }
        } else {
            self.wide.get(slot)[j]
        }
    }

    #[inline]
    pub(crate) fn push(&mut self, address: u64) {
        self.tail.push(address);
        if self.tail.len() == BLOCK {
            self.seal();
        }
    }

    /// Appends `addresses`, as [`AddressColumn::push`] of each would.
    pub(crate) fn extend(&mut self, mut addresses: &[u64]) {
        while !self.tail.is_empty() && !addresses.is_empty() {
            self.push(addresses[0]);
            addresses = &addresses[1..];
        }
        let mut blocks = addresses.chunks_exact(BLOCK);
        for block in &mut blocks {
            self.seal_block(block);
        }
        self.tail.extend_from_slice(blocks.remainder());
    }

    #[inline(never)]
    fn seal(&mut self) {
        let tail = std::mem::take(&mut self.tail);
        self.seal_block(&tail);
        self.tail = tail;
        self.tail.clear();
    }

    /// Appends a full block, as the least kind that keeps it exactly.
    fn seal_block(&mut self, block: &[u64]) {
        // One pass: the lowest and highest address, and the bits in which
        // any address differs from the first (offsets from the lowest are
        // multiples of UNIT when none differs below UNIT).
        let first = block.iter().copied().find(|&a| a != 0).unwrap_or(0);
        let (lo, hi, differ) = block
            .iter()
            .filter(|&&a| a != 0)
            .fold((u64::MAX, 0, 0), |(lo, hi, differ), &a| {
                (lo.min(a), hi.max(a), differ | (a ^ first))
            });
        // No address (all zero) takes base 0; a lone u64::MAX is one.
        let base = if first == 0 { 0 } else { lo };
        let narrow = differ % UNIT == 0 && (hi.saturating_sub(base)) / UNIT < ZERO16 as u64;
        if narrow {
            self.bases.push(base);
            self.kinds.push(NARROW);
            self.offsets.extend(block.iter().map(|&a| {
                if a == 0 {
                    ZERO16
                } else {
                    ((a - base) / UNIT) as u16
                }
            }));
        } else if hi - base < ZERO32 as u64 {
            let offset = |a: u64| if a == 0 { ZERO32 } else { (a - base) as u32 };
            let high = std::array::from_fn(|j| (offset(block[j]) >> 16) as u16);
            let slot = self.mid.push(MidSlot { base, high });
            self.bases.push(slot as u64);
            self.kinds.push(MID);
            self.offsets.extend(block.iter().map(|&a| offset(a) as u16));
        } else {
            let mut whole = [0; BLOCK];
            whole.copy_from_slice(block);
            let slot = self.wide.push(whole);
            self.bases.push(slot as u64);
            self.kinds.push(WIDE);
            self.offsets.extend(std::iter::repeat_n(ZERO16, BLOCK));
        }
    }

    pub(crate) fn reserve(&mut self, n: usize) {
        self.offsets.reserve_exact(n);
        self.bases.reserve_exact(n / BLOCK + 1);
        self.kinds.reserve_exact(n / BLOCK + 1);
        self.tail.reserve_exact(BLOCK);
    }

    /// [`AddressColumn::reserve`], failing instead of aborting when the
    /// allocator refuses.
    pub(crate) fn try_reserve(&mut self, n: usize) -> Result<(), TryReserveError> {
        self.offsets.try_reserve_exact(n + BLOCK)?;
        self.bases.try_reserve_exact(n / BLOCK + 1)?;
        self.kinds.try_reserve_exact(n / BLOCK + 1)?;
        self.tail.try_reserve_exact(BLOCK)
    }

    /// Nodes that can be pushed without growing a column (sealing a block
    /// appends [`BLOCK`] offsets at once). The side arrays of mid and wide
    /// blocks are not counted: they grow by themselves, by at most one
    /// chunk at a time.
    #[inline]
    pub(crate) fn spare(&self) -> usize {
        let offsets = (self.offsets.capacity() - self.offsets.len()).saturating_sub(BLOCK);
        let blocks = (self.bases.capacity() - self.bases.len())
            .min(self.kinds.capacity() - self.kinds.len());
        offsets.min(blocks.saturating_sub(1) * BLOCK)
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.offsets.shrink_to_fit();
        self.bases.shrink_to_fit();
        self.kinds.shrink_to_fit();
        self.mid.shrink_to_fit();
        self.wide.shrink_to_fit();
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.offsets.capacity() * 2
            + self.bases.capacity() * 8
            + self.kinds.capacity()
            + self.mid.memory_bytes()
            + self.wide.memory_bytes()
            + self.tail.capacity() * 8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Appending in bulk equals appending one by one, whatever was there
    /// before: full and partial address blocks, wide blocks and zeros,
    /// large sizes, type indices that widen the column.
    #[test]
    fn extend_equals_push() {
        let mut x = 0x1234_5678_9abc_def1u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..50 {
            let (mut t1, mut s1, mut a1) = (
                TypeColumn::default(),
                SizeColumn::default(),
                AddressColumn::default(),
            );
            let (mut t2, mut s2, mut a2) = (t1.clone(), s1.clone(), a1.clone());
            for _ in 0..4 {
                let n = (next() % 300) as usize;
                let ts: Vec<u32> = (0..n)
                    .map(|_| match next() % 100 {
                        0 if round % 2 == 0 => 70_000,
                        k => k as u32,
                    })
                    .collect();
                let ss: Vec<u64> = (0..n)
                    .map(|_| match next() % 50 {
                        0 => 5_000_000_000,
                        1 => 65_535,
                        k => 24 + k,
                    })
                    .collect();
                let mut addr = 0x7f00_0000_0000u64;
                let as_: Vec<u64> = (0..n)
                    .map(|_| match next() % 200 {
                        0 => 0,
                        1 => {
                            addr += 1 << 33;
                            addr
                        }
                        2 => {
                            addr += 1 << 20;
                            addr
                        }
                        3 => {
                            addr += 2;
                            addr
                        }
                        k => {
                            addr += 8 * k;
                            addr
                        }
                    })
                    .collect();
                for i in 0..n {
                    t1.push(ts[i]);
                    s1.push(ss[i]);
                    a1.push(as_[i]);
                }
                t2.extend(&ts);
                s2.extend(&ss);
                a2.extend(&as_);
            }
            assert_eq!(t1, t2);
            assert_eq!(s1, s2);
            assert_eq!(a1, a2);
        }
    }

    #[test]
    fn types_widen_when_needed() {
        let mut c = TypeColumn::default();
        c.push(3);
        c.push(65_534);
        assert!(matches!(c, TypeColumn::Narrow(_)));
        c.push(70_000);
        c.push(1);
        assert!(matches!(c, TypeColumn::Wide(_)));
        assert_eq!(
            (0..4).map(|i| c.get(i)).collect::<Vec<_>>(),
            vec![3, 65_534, 70_000, 1]
        );
        assert_eq!(c.max(), Some(70_000));
        assert_eq!(TypeColumn::default().max(), None);
        assert_eq!((c.len(), c.get(2)), (4, 70_000));
    }

    #[test]
    fn sizes_keep_large_values_exactly() {
        let mut c = SizeColumn::default();
        for s in [0, 24, 65_534, 65_535, 1 << 20, 5_000_000_000] {
            c.push(s);
        }
        let got: Vec<u64> = (0..6).map(|i| c.get(i)).collect();
        assert_eq!(got, vec![0, 24, 65_534, 65_535, 1 << 20, 5_000_000_000]);
    }

    #[test]
    fn addresses_narrow_wide_zero_and_tail() {
        // Each block: its addresses, and the kind that keeps them.
        let b = 0x7f12_3456_0000u64;
        let mut blocks: Vec<(Vec<u64>, u8)> = Vec::new();
        let with = |last: u64| {
            let mut v: Vec<u64> = (0..BLOCK as u64 - 1).map(|i| b + 8 * i).collect();
            v.insert(BLOCK / 2, last);
            v
        };
        // Descending, with zeros (pseudo-nodes): the base is the least.
        blocks.push((
            (0..BLOCK as u64)
                .map(|i| if i % 7 == 0 { 0 } else { b - i * 24 })
                .collect(),
            NARROW,
        ));
        // An offset of exactly 65,534 units, then one unit more.
        blocks.push((with(b + 65_534 * 4), NARROW));
        blocks.push((with(b + 65_535 * 4), MID));
        // Misaligned by 4 bytes (a 32-bit process's objects), then by 2.
        blocks.push((with(b + 8 * 9 + 4), NARROW));
        blocks.push((with(b + 8 * 9 + 2), MID));
        // Mid, with zeros and offsets whose low halves are the narrow
        // marker's (0xffff, 0x1_ffff bytes).
        let mut m = with(b + 0x1_ffff);
        m[3] = 0;
        m[9] = b + 0xffff;
        m[BLOCK - 1] = 0;
        blocks.push((m, MID));
        // A span just under 4 GiB, exactly the mid marker's, and more.
        blocks.push((with(b + (1 << 32) - 2), MID));
        blocks.push((with(b + (1 << 32) - 1), WIDE));
        blocks.push((with(b + (1 << 40)), WIDE));
        // All zero; a lone address at the top of the range.
        blocks.push((vec![0; BLOCK], NARROW));
        let mut top = vec![0; BLOCK];
        top[5] = u64::MAX;
        blocks.push((top, NARROW));
        // Enough mid and wide blocks to fill more than one chunk of each,
        // between narrow ones.
        for k in 0..2 * CHUNK as u64 + 3 {
            blocks.push((with(b + (k + 1) * (1 << 20)), MID));
            blocks.push((with(b + 8 * k), NARROW));
            blocks.push((with(u64::MAX - k), WIDE));
        }
        let mut want: Vec<u64> = blocks.iter().flat_map(|(v, _)| v.clone()).collect();
        // A partial block.
        want.extend([0x10, 0, u64::MAX - 1]);

        let mut c = AddressColumn::default();
        for &a in &want {
            c.push(a);
        }
        assert_eq!(c.len(), want.len());
        let got: Vec<u64> = (0..want.len()).map(|i| c.get(i)).collect();
        assert_eq!(got, want);
        let kinds: Vec<u8> = blocks.iter().map(|&(_, k)| k).collect();
        assert_eq!(c.kinds, kinds);
        // The side arrays grew a chunk of at most CHUNK blocks at a time.
        assert_eq!(c.mid.chunks.len(), 3);
        assert!(c.mid.chunks.iter().all(|ch| ch.capacity() <= CHUNK));
        assert!(c.wide.chunks.iter().all(|ch| ch.capacity() <= CHUNK));
        // The same after shrinking.
        c.shrink_to_fit();
        let got: Vec<u64> = (0..want.len()).map(|i| c.get(i)).collect();
        assert_eq!(got, want);
    }

    /// `spare` nodes can be pushed without growing the reserved arrays,
    /// whatever the blocks' kinds; rare blocks grow only their side arrays.
    #[test]
    fn spare_is_room_without_growing() {
        let mut c = AddressColumn::default();
        assert_eq!(c.spare(), 0);
        c.reserve(1000);
        let caps = |c: &AddressColumn| {
            (
                c.offsets.capacity(),
                c.bases.capacity(),
                c.kinds.capacity(),
                c.tail.capacity(),
            )
        };
        let before = caps(&c);
        let spare = c.spare();
        assert!((900..=1000).contains(&spare), "{spare}");
        let mut a = 0x1000u64;
        for i in 0..spare as u64 {
            a += match i % 300 {
                7 => 1 << 33,
                150 => 1 << 20,
                _ => 16,
            };
            c.push(a);
        }
        assert_eq!(caps(&c), before);
        assert!(c.kinds.contains(&MID) && c.kinds.contains(&WIDE));
    }

    #[test]
    fn heap_addresses_take_about_two_bytes() {
        let n = 64 * 1000;
        let mut c = AddressColumn::default();
        c.reserve(n);
        for i in 0..n as u64 {
            c.push(0x7f12_3456_0000 + i * 40);
        }
        c.shrink_to_fit();
        let per_node = c.memory_bytes() as f64 / n as f64;
        assert!((2.1..2.2).contains(&per_node), "{per_node}");
        assert_eq!(c.get(n - 1), 0x7f12_3456_0000 + (n as u64 - 1) * 40);
    }
}
