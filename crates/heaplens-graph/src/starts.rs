//! Where each node's edges begin (CSR), in about 2 bytes per node.
//!
//! While a graph is built its edge starts are one `u32` per node (plus
//! one), appended as nodes arrive. [`EdgeStarts::pack`] turns them, in
//! place, into blocks of 64 starts: per block the first start (`u32`) and
//! per node a `u16` offset from it, two to a `u32`. A block whose edges
//! number 65,536 or more (a large array of references) keeps its starts
//! whole in a side list. That is 2 bytes per node plus 8 per block of 64
//! (2.125), instead of 4.

/// Starts per block.
const BLOCK: usize = 64;
/// A block whose starts are kept as offsets.
const NARROW: u32 = u32::MAX;

/// The edge starts of a graph: `get(i)` is where node `i`'s edges begin
/// and `get(i + 1)` where they end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EdgeStarts {
    /// One `u32` per start (while building).
    Flat(Vec<u32>),
    /// Blocks of offsets (see the module's documentation).
    Packed(Packed),
}

impl Default for EdgeStarts {
    fn default() -> Self {
        EdgeStarts::Flat(Vec::new())
    }
}

/// Starts in blocks of [`BLOCK`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Packed {
    /// How many starts (nodes + 1).
    len: usize,
    /// Offset of start `i` from its block's base: bits `16 * (i % 2)` of
    /// `halves[i / 2]`.
    halves: Vec<u32>,
    /// Per block: its first start.
    bases: Vec<u32>,
    /// Per block: [`NARROW`], or where its starts begin in `wide`.
    wide_at: Vec<u32>,
    /// The starts of wide blocks, [`BLOCK`] each (the last one possibly
    /// fewer).
    wide: Vec<u32>,
}

impl EdgeStarts {
    /// How many starts (one more than there are nodes, once built).
    pub(crate) fn len(&self) -> usize {
        match self {
            EdgeStarts::Flat(v) => v.len(),
            EdgeStarts::Packed(p) => p.len,
        }
    }

    /// Start `i`.
    #[inline]
    pub(crate) fn get(&self, i: usize) -> u32 {
        match self {
            EdgeStarts::Flat(v) => v[i],
            EdgeStarts::Packed(p) => p.get(i),
        }
    }

    /// The starts as one `u32` each, to append to (unpacked first if they
    /// were packed: a built graph's builder never packs before it is
    /// finished).
    pub(crate) fn flat_mut(&mut self) -> &mut Vec<u32> {
        if let EdgeStarts::Packed(p) = self {
            *self = EdgeStarts::Flat((0..p.len).map(|i| p.get(i)).collect());
        }
        match self {
            EdgeStarts::Flat(v) => v,
            EdgeStarts::Packed(_) => unreachable!("unpacked above"),
        }
    }

    /// Packs the starts into blocks, reusing their memory (they must not
    /// decrease; [`crate::GraphBuilder`] checks that).
    pub(crate) fn pack(&mut self) {
        let EdgeStarts::Flat(v) = self else {
            return;
        };
        let mut v = std::mem::take(v);
        let len = v.len();
        let blocks = len.div_ceil(BLOCK);
        let mut bases = Vec::with_capacity(blocks);
        let mut wide_at = Vec::with_capacity(blocks);
        let mut wide = Vec::new();
        // `halves[k]` takes starts `2k` and `2k + 1`: written at or below
        // where it is read from, so the pass can run in place. A block's
        // first and last start are read before its halves are written
        // (which for block 0 only overwrites what was read already).
        for b in 0..blocks {
            let (lo, hi) = (b * BLOCK, ((b + 1) * BLOCK).min(len));
            let base = v[lo];
            bases.push(base);
            if v[hi - 1] - base > u16::MAX as u32 {
                wide_at.push(wide.len() as u32);
                wide.extend_from_slice(&v[lo..hi]);
                v[lo / 2..hi.div_ceil(2)].fill(0);
                continue;
            }
            wide_at.push(NARROW);
            let mut k = lo / 2;
            let mut i = lo;
            while i < hi {
                let a = v[i] - base;
                let b2 = if i + 1 < hi { v[i + 1] - base } else { 0 };
                v[k] = a | (b2 << 16);
                k += 1;
                i += 2;
            }
        }
        v.truncate(len.div_ceil(2));
        v.shrink_to_fit();
        wide.shrink_to_fit();
        *self = EdgeStarts::Packed(Packed {
            len,
            halves: v,
            bases,
            wide_at,
            wide,
        });
    }

    /// Heap memory, in bytes.
    pub(crate) fn memory_bytes(&self) -> usize {
        match self {
            EdgeStarts::Flat(v) => v.capacity() * 4,
            EdgeStarts::Packed(p) => {
                (p.halves.capacity()
                    + p.bases.capacity()
                    + p.wide_at.capacity()
                    + p.wide.capacity())
                    * 4
            }
        }
    }
}

impl Packed {
    #[inline]
    fn get(&self, i: usize) -> u32 {
        let b = i / BLOCK;
        let w = self.wide_at[b];
        if w != NARROW {
            return self.wide[w as usize + i % BLOCK];
        }
        let half = (self.halves[i / 2] >> (16 * (i % 2) as u32)) & 0xffff;
        self.bases[b] + half
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Packed starts read back as the flat ones, for every length around
    /// the block size, with narrow and wide blocks, empty lists and the
    /// largest offsets.
    #[test]
    fn packed_reads_back_as_flat() {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for len in (1..200).chain([640, 641, 1000]) {
            for shape in 0..4 {
                let mut v = Vec::with_capacity(len);
                let mut s = 0u32;
                for i in 0..len {
                    v.push(s);
                    s += match shape {
                        0 => (next() % 4) as u32,
                        // Now and then a large array.
                        1 if next() % 90 == 0 => 70_000,
                        1 => (next() % 3) as u32,
                        // Offsets ending exactly at the limit.
                        2 if i % BLOCK == 0 => 65_535 - 62,
                        2 => 1,
                        _ => 0,
                    };
                }
                let mut starts = EdgeStarts::Flat(v.clone());
                starts.pack();
                assert!(matches!(starts, EdgeStarts::Packed(_)));
                assert_eq!(starts.len(), len);
                let got: Vec<u32> = (0..len).map(|i| starts.get(i)).collect();
                assert_eq!(got, v, "len {len}, shape {shape}");
                let mut flat = starts.clone();
                assert_eq!(flat.flat_mut(), &v);
                if shape == 0 && len > 600 {
                    let per = starts.memory_bytes() as f64 / len as f64;
                    assert!(per < 2.2, "{per} bytes per start");
                }
            }
        }
    }
}
