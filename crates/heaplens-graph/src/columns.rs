//! Compact per-node columns: type indices, sizes and addresses.
//!
//! Each column is appended to one node at a time (readers stream) and read
//! by index. Common values take little room; rare ones go to a side table:
//!
//! * type index: 2 bytes while the graph has fewer than 65,535 types, else
//!   4 (the column widens once, when the first larger index arrives);
//! * size: 2 bytes; sizes of 65,535 bytes or more are kept in a map (large
//!   objects are few);
//! * address: blocks of 64 nodes share a base and store 4-byte offsets from
//!   it (4.125 bytes per node); a block whose addresses span 4 GiB or more
//!   keeps them whole (8 bytes per node, plus the unused offsets).

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
/// Offset of a zero address (pseudo-nodes, unknown addresses).
const ZERO: u32 = u32::MAX;

/// Addresses in blocks of [`BLOCK`] nodes: a base and 4-byte offsets, or
/// the whole addresses when a block spans too much. The last, unfinished
/// block is kept whole until it is full.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AddressColumn {
    /// Per finished block: its base, or (wide blocks) the position of its
    /// addresses in `wide`.
    bases: Vec<u64>,
    /// Per finished block: true if its addresses are in `wide`.
    is_wide: Vec<bool>,
    /// Per node of a finished narrow block: offset from the base, or ZERO.
    offsets: Vec<u32>,
    wide: Vec<u64>,
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
        if b >= self.bases.len() {
            return self.tail[i - b * BLOCK];
        }
        if self.is_wide[b] {
            return self.wide[self.bases[b] as usize + i % BLOCK];
        }
        match self.offsets[i] {
            ZERO => 0,
            o => self.bases[b] + o as u64,
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

    /// Appends a full block.
    fn seal_block(&mut self, block: &[u64]) {
        let nonzero = block.iter().copied().filter(|&a| a != 0);
        let (lo, hi) = nonzero.fold((u64::MAX, 0), |(lo, hi), a| (lo.min(a), hi.max(a)));
        if lo == u64::MAX || hi - lo < ZERO as u64 {
            let base = if lo == u64::MAX { 0 } else { lo };
            self.bases.push(base);
            self.is_wide.push(false);
            self.offsets.extend(block.iter().map(
                |&a| {
                    if a == 0 {
                        ZERO
                    } else {
                        (a - base) as u32
                    }
                },
            ));
        } else {
            self.bases.push(self.wide.len() as u64);
            self.is_wide.push(true);
            self.wide.extend_from_slice(block);
            self.offsets.extend(std::iter::repeat_n(ZERO, BLOCK));
        }
    }

    pub(crate) fn reserve(&mut self, n: usize) {
        self.offsets.reserve_exact(n);
        self.bases.reserve_exact(n / BLOCK + 1);
        self.is_wide.reserve_exact(n / BLOCK + 1);
        self.tail.reserve_exact(BLOCK);
    }

    /// [`AddressColumn::reserve`], failing instead of aborting when the
    /// allocator refuses.
    pub(crate) fn try_reserve(&mut self, n: usize) -> Result<(), TryReserveError> {
        self.offsets.try_reserve_exact(n + BLOCK)?;
        self.bases.try_reserve_exact(n / BLOCK + 1)?;
        self.is_wide.try_reserve_exact(n / BLOCK + 1)?;
        self.tail.try_reserve_exact(BLOCK)
    }

    /// Nodes that can be pushed without growing a column (sealing a block
    /// appends [`BLOCK`] offsets at once).
    #[inline]
    pub(crate) fn spare(&self) -> usize {
        let offsets = (self.offsets.capacity() - self.offsets.len()).saturating_sub(BLOCK);
        let blocks = (self.bases.capacity() - self.bases.len())
            .min(self.is_wide.capacity() - self.is_wide.len());
        offsets.min(blocks.saturating_sub(1) * BLOCK)
    }

    pub(crate) fn shrink_to_fit(&mut self) {
        self.offsets.shrink_to_fit();
        self.bases.shrink_to_fit();
        self.is_wide.shrink_to_fit();
        self.wide.shrink_to_fit();
    }

    pub(crate) fn memory_bytes(&self) -> usize {
        self.offsets.capacity() * 4
            + self.bases.capacity() * 8
            + self.is_wide.capacity()
            + self.wide.capacity() * 8
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
        let mut c = AddressColumn::default();
        let mut want = Vec::new();
        // Block 0: near each other, with zeros (pseudo-nodes); descending.
        for i in 0..BLOCK as u64 {
            want.push(if i % 7 == 0 {
                0
            } else {
                0x7f00_0000_0000 - i * 24
            });
        }
        // Block 1: spans more than 4 GiB.
        for i in 0..BLOCK as u64 {
            want.push(if i % 2 == 0 {
                0x1000 + i
            } else {
                0x7fff_0000_0000 + i
            });
        }
        // Block 2: all zero. Then a partial block.
        want.extend(std::iter::repeat_n(0, BLOCK));
        want.extend([0x10, 0, u64::MAX - 1]);
        for &a in &want {
            c.push(a);
        }
        assert_eq!(c.len(), want.len());
        let got: Vec<u64> = (0..want.len()).map(|i| c.get(i)).collect();
        assert_eq!(got, want);
        assert_eq!(c.is_wide, vec![false, true, false]);
    }

    #[test]
    fn heap_addresses_take_about_four_bytes() {
        let n = 64 * 1000;
        let mut c = AddressColumn::default();
        c.reserve(n);
        for i in 0..n as u64 {
            c.push(0x7f12_3456_0000 + i * 40);
        }
        c.shrink_to_fit();
        let per_node = c.memory_bytes() as f64 / n as f64;
        assert!((4.0..4.2).contains(&per_node), "{per_node}");
        assert_eq!(c.get(n - 1), 0x7f12_3456_0000 + (n as u64 - 1) * 40);
    }
}
