//! Where each node's edges begin (CSR), in about 2 bytes per node.
//!
//! [`PackedStarts`] holds a non-decreasing list of `u32` starts in blocks
//! of 64: per block its first start (`u32`) and per start a `u16` offset
//! from it, two to a `u32`. A block whose starts span 65,536 or more (a
//! large array of references) keeps its starts whole in a side list. The
//! last, unfinished block is kept as `u32`s until it is full. That is 2
//! bytes per start plus 4 per block of 64 (2.0625), instead of 4; and the
//! list is packed as it is appended to, so that it never holds 4 bytes per
//! start.

use std::collections::TryReserveError;

/// Starts per block.
const BLOCK: usize = 64;
/// `u32` words per sealed block: its base, then the offsets two to a word.
const WORDS: usize = 1 + BLOCK / 2;
/// The first offset word of a wide block (a narrow block's first offset,
/// that of its base, is 0).
const WIDE: u32 = 0xffff;

/// Whether a sealed block whose first offset word is `word` is wide.
#[inline]
fn is_wide(word: u32) -> bool {
    word & 0xffff == WIDE
}

/// A non-decreasing list of `u32`s (the edge starts of a graph, CSR:
/// `get(i)` is where node `i`'s edges begin and `get(i + 1)` where they
/// end), in about 2 bytes each (see the module's documentation).
///
/// Appended to one start at a time ([`PackedStarts::push`]) or by another
/// list ([`PackedStarts::append_rebased`]); its room can be asked for
/// fallibly ([`PackedStarts::try_reserve`], [`PackedStarts::spare`]); its
/// values can be rewritten in place ([`PackedStarts::rewrite`]).
#[derive(Debug, Clone, Default)]
pub struct PackedStarts {
    /// Per sealed block, [`WORDS`] words: its first start, or for a wide
    /// block where its starts begin in `wide`; then start `k`'s offset from
    /// the first in bits `16 * (k % 2)` of word `1 + k / 2` (a wide block:
    /// [`WIDE`], then zeros).
    blocks: Vec<u32>,
    /// The starts of wide blocks, [`BLOCK`] each.
    wide: Vec<u32>,
    /// The starts after the sealed blocks (fewer than [`BLOCK`]).
    tail: Vec<u32>,
    /// The last start (0 when there is none).
    last: u32,
}

impl PackedStarts {
    /// An empty list.
    pub fn new() -> Self {
        PackedStarts::default()
    }

    /// How many starts.
    #[inline]
    pub fn len(&self) -> usize {
        self.blocks.len() / WORDS * BLOCK + self.tail.len()
    }

    /// True when there is none.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty() && self.tail.is_empty()
    }

    /// The last start (0 when there is none).
    #[inline]
    pub fn last(&self) -> u32 {
        self.last
    }

    /// Start `i` (`i < len()`; panics past the end, as a slice does).
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        let b = i / BLOCK;
        let at = b * WORDS;
        if at >= self.blocks.len() {
            return self.tail[i - b * BLOCK];
        }
        let k = i % BLOCK;
        let first = self.blocks[at + 1];
        if is_wide(first) {
            return self.wide[self.blocks[at] as usize + k];
        }
        let half = (self.blocks[at + 1 + k / 2] >> (16 * (k % 2) as u32)) & 0xffff;
        self.blocks[at] + half
    }

    /// Appends a start. Starts must not decrease: one below the last is
    /// taken as the last (and debug builds assert).
    #[inline]
    pub fn push(&mut self, start: u32) {
        debug_assert!(start >= self.last);
        // `last` is 0 while there is none.
        let start = start.max(self.last);
        self.last = start;
        self.tail.push(start);
        if self.tail.len() == BLOCK {
            self.seal();
        }
    }

    /// Moves the full tail into a sealed block.
    #[cold]
    #[inline(never)]
    fn seal(&mut self) {
        let mut block = [0u32; BLOCK];
        block.copy_from_slice(&self.tail);
        self.tail.clear();
        self.put_block(&block);
    }

    /// Appends `block` (non-decreasing) as a sealed block.
    fn put_block(&mut self, block: &[u32; BLOCK]) {
        let at = self.blocks.len();
        self.blocks.resize(at + WORDS, 0);
        self.write_block(at, block, false);
    }

    /// Writes `block` (non-decreasing) over the sealed block at word `at`;
    /// `wide`: whether the block there was wide (it stays so: its place
    /// in the side list is not given back).
    fn write_block(&mut self, at: usize, block: &[u32; BLOCK], wide: bool) {
        let keep = wide.then(|| self.blocks[at] as usize);
        encode(
            &mut self.blocks[at..at + WORDS],
            block,
            &mut self.wide,
            keep,
        );
    }

    /// Room for `n` more starts without any allocation (but the side list
    /// of wide blocks, rare: blocks of starts spanning 65,536 or more).
    pub fn reserve(&mut self, n: usize) {
        let (blocks, tail) = self.room_for(n);
        self.blocks.reserve_exact(blocks);
        self.tail.reserve_exact(tail);
    }

    /// [`PackedStarts::reserve`], or an error when the allocator refuses
    /// (a WebAssembly worker at its memory's cap) instead of an abort.
    pub fn try_reserve(&mut self, n: usize) -> Result<(), TryReserveError> {
        let (blocks, tail) = self.room_for(n);
        self.blocks.try_reserve_exact(blocks)?;
        self.tail.try_reserve_exact(tail)
    }

    /// The words of `blocks` and the entries of `tail` to reserve for `n`
    /// more starts.
    fn room_for(&self, n: usize) -> (usize, usize) {
        let sealed = self.len().saturating_add(n) / BLOCK;
        let words = sealed.saturating_mul(WORDS);
        (
            words.saturating_sub(self.blocks.len()),
            BLOCK - self.tail.len(),
        )
    }

    /// How many starts can be pushed without an allocation (but the side
    /// list of wide blocks').
    #[inline]
    pub fn spare(&self) -> usize {
        if self.tail.capacity() < BLOCK {
            return 0;
        }
        let blocks = (self.blocks.capacity() - self.blocks.len()) / WORDS;
        blocks * BLOCK + (BLOCK - 1 - self.tail.len())
    }

    /// Appends `other`'s starts after its first, each plus `offset`: the
    /// lists of `other` after those of this one, when `offset` is this
    /// one's number of edges (`other`'s first start is 0, its lists'
    /// first edge). Sums past `u32::MAX` wrap (the caller checks them).
    pub fn append_rebased(&mut self, other: &PackedStarts, offset: u32) {
        let n = other.len();
        if n <= 1 {
            return;
        }
        self.reserve(n - 1);
        let mut block = [0u32; BLOCK];
        let mut skip = 1;
        for b in 0..other.blocks.len() / WORDS {
            other.decode(b * WORDS, &mut block);
            for &s in &block[skip..] {
                self.push(s.wrapping_add(offset));
            }
            skip = 0;
        }
        for &s in other.tail.iter().skip(skip) {
            self.push(s.wrapping_add(offset));
        }
    }

    /// The starts of the sealed block at word `at`, into `block`.
    #[inline]
    fn decode(&self, at: usize, block: &mut [u32; BLOCK]) {
        let words = &self.blocks[at..at + WORDS];
        if is_wide(words[1]) {
            let w = words[0] as usize;
            block.copy_from_slice(&self.wide[w..w + BLOCK]);
            return;
        }
        let base = words[0];
        for (pair, &word) in block.chunks_exact_mut(2).zip(&words[1..]) {
            pair[0] = base + (word & 0xffff);
            pair[1] = base + (word >> 16);
        }
    }

    /// Rewrites each start in place, in order: start `i` becomes
    /// `f(i, start)`. The new starts must not decrease (one below the one
    /// before is taken as that one). A block whose new starts span 65,536
    /// or more goes to the side list of wide blocks: 256 bytes more each,
    /// the only allocation.
    pub fn rewrite(&mut self, mut f: impl FnMut(usize, u32) -> u32) {
        let mut previous = 0u32;
        let mut next = |i: usize, v: u32| {
            let v = f(i, v);
            let v = v.max(previous);
            previous = v;
            v
        };
        let sealed = self.blocks.len() / WORDS;
        let mut block = [0u32; BLOCK];
        for b in 0..sealed {
            let at = b * WORDS;
            let wide = is_wide(self.blocks[at + 1]);
            self.decode(at, &mut block);
            for (k, v) in block.iter_mut().enumerate() {
                *v = next(b * BLOCK + k, *v);
            }
            self.write_block(at, &block, wide);
        }
        let first = sealed * BLOCK;
        for (k, v) in self.tail.iter_mut().enumerate() {
            *v = next(first + k, *v);
        }
        self.last = previous;
    }

    /// Gives back unused room.
    pub fn shrink_to_fit(&mut self) {
        self.blocks.shrink_to_fit();
        self.wide.shrink_to_fit();
        self.tail.shrink_to_fit();
    }

    /// Heap memory, in bytes.
    pub fn memory_bytes(&self) -> usize {
        (self.blocks.capacity() + self.wide.capacity() + self.tail.capacity()) * 4
    }

    /// Packs `v` (non-decreasing), reusing its memory.
    pub(crate) fn from_vec(mut v: Vec<u32>) -> PackedStarts {
        let len = v.len();
        let sealed = len / BLOCK;
        let tail = v[sealed * BLOCK..].to_vec();
        let last = v.last().copied().unwrap_or(0);
        let mut wide = Vec::new();
        // Block `b` is read from `[64b, 64b + 64)`, then written at words
        // `[33b, 33b + 33)`: never past what later blocks are read from.
        let mut block = [0u32; BLOCK];
        for b in 0..sealed {
            block.copy_from_slice(&v[b * BLOCK..(b + 1) * BLOCK]);
            encode(&mut v[b * WORDS..(b + 1) * WORDS], &block, &mut wide, None);
        }
        v.truncate(sealed * WORDS);
        v.shrink_to_fit();
        wide.shrink_to_fit();
        PackedStarts {
            blocks: v,
            wide,
            tail,
            last,
        }
    }
}

/// Equal when the starts are: a block may be kept wide in one list and
/// narrow in the other ([`PackedStarts::rewrite`]).
impl PartialEq for PackedStarts {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && (0..self.len()).all(|i| self.get(i) == other.get(i))
    }
}

impl Eq for PackedStarts {}

impl FromIterator<u32> for PackedStarts {
    /// The starts pushed in order ([`PackedStarts::push`]).
    fn from_iter<I: IntoIterator<Item = u32>>(iter: I) -> Self {
        let mut p = PackedStarts::new();
        for s in iter {
            p.push(s);
        }
        p
    }
}

/// Writes `block` (non-decreasing) as the [`WORDS`] words of a sealed
/// block: narrow when its starts span less than 65,536 and `keep` is
/// `None`; else wide, its starts at `keep` in `wide` (a wide block's
/// place) or appended there.
fn encode(words: &mut [u32], block: &[u32; BLOCK], wide: &mut Vec<u32>, keep: Option<usize>) {
    let base = block[0];
    if keep.is_some() || block[BLOCK - 1] - base > u16::MAX as u32 {
        let w = match keep {
            Some(w) => {
                wide[w..w + BLOCK].copy_from_slice(block);
                w
            }
            None => {
                wide.extend_from_slice(block);
                wide.len() - BLOCK
            }
        };
        words.fill(0);
        words[0] = w as u32;
        words[1] = WIDE;
        return;
    }
    words[0] = base;
    for (word, pair) in words[1..].iter_mut().zip(block.chunks_exact(2)) {
        *word = (pair[0] - base) | ((pair[1] - base) << 16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A xorshift generator.
    fn rng(mut x: u64) -> impl FnMut() -> u64 {
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    /// Plain starts of `len` entries of one of five shapes.
    fn plain(len: usize, shape: u32, next: &mut impl FnMut() -> u64) -> Vec<u32> {
        let mut v = Vec::with_capacity(len);
        let mut s = 0u32;
        for i in 0..len {
            v.push(s);
            s += match shape {
                0 => (next() % 4) as u32,
                // Now and then a large array.
                1 if next().is_multiple_of(90) => 70_000,
                1 => (next() % 3) as u32,
                // Offsets ending exactly at the limit.
                2 if i % BLOCK == 0 => 65_535 - 62,
                2 => 1,
                // Just past it.
                3 if i % BLOCK == 0 => 65_536 - 62,
                3 => 1,
                _ => 0,
            };
        }
        v
    }

    fn read(p: &PackedStarts) -> Vec<u32> {
        (0..p.len()).map(|i| p.get(i)).collect()
    }

    /// Starts pushed one by one, and starts packed from a vector, read
    /// back as the plain ones, for every length around the block size,
    /// with narrow and wide blocks, empty lists and the largest offsets.
    #[test]
    fn pushed_and_packed_read_back_as_plain() {
        let mut next = rng(0x2545_f491_4f6c_dd1d);
        for len in (0..200).chain([640, 641, 1000]) {
            for shape in 0..5 {
                let v = plain(len, shape, &mut next);
                let mut pushed = PackedStarts::new();
                for &s in &v {
                    pushed.push(s);
                }
                assert_eq!(pushed.len(), len);
                assert_eq!(pushed.is_empty(), len == 0);
                assert_eq!(read(&pushed), v, "len {len}, shape {shape}");
                assert_eq!(pushed.last(), v.last().copied().unwrap_or(0));
                let packed = PackedStarts::from_vec(v.clone());
                assert_eq!(read(&packed), v, "len {len}, shape {shape}");
                assert_eq!(packed.last(), pushed.last());
                if shape == 0 && len > 600 {
                    let per = packed.memory_bytes() as f64 / len as f64;
                    assert!(per < 2.5, "{per} bytes per start");
                }
            }
        }
        // Many starts: 2.0625 bytes each and the tail.
        let mut p = PackedStarts::new();
        p.reserve(64_000);
        for i in 0..64_000u32 {
            p.push(i * 2);
        }
        assert_eq!(p.memory_bytes(), 1_000 * 33 * 4 + 64 * 4);
    }

    /// Room reserved is room pushed into without an allocation; `spare`
    /// counts it exactly (the pushes it allows leave the capacities as
    /// they were, one more grows them).
    #[test]
    fn reserved_room_is_spare() {
        for before in [0usize, 1, 63, 64, 65, 200] {
            for n in [0usize, 1, 62, 63, 64, 65, 130, 1_000] {
                let mut p = PackedStarts::new();
                for i in 0..before {
                    p.push(i as u32);
                }
                p.try_reserve(n).unwrap();
                let spare = p.spare();
                assert!(spare >= n, "before {before}, n {n}: spare {spare}");
                let bytes = p.memory_bytes();
                for i in 0..spare {
                    p.push((before + i) as u32);
                }
                assert_eq!(p.memory_bytes(), bytes, "before {before}, n {n}");
                assert_eq!(p.spare(), 0);
            }
        }
    }

    /// Appending another list rebased reads back as the plain lists
    /// joined (the second's after its first, plus the first's last).
    #[test]
    fn appended_lists_read_back_as_joined() {
        let mut next = rng(0x9e37_79b9_7f4a_7c15);
        for (a, b) in [(1, 1), (1, 64), (64, 1), (63, 2), (65, 200), (300, 129)] {
            for shape in 0..5 {
                let va = plain(a, shape, &mut next);
                let vb = plain(b, (shape + 1) % 5, &mut next);
                let mut pa = PackedStarts::from_vec(va.clone());
                let mut pb = PackedStarts::new();
                for &s in &vb {
                    pb.push(s);
                }
                let base = *va.last().unwrap();
                pa.append_rebased(&pb, base);
                let mut want = va.clone();
                want.extend(vb[1..].iter().map(|&s| s + base));
                assert_eq!(read(&pa), want, "{a} + {b}, shape {shape}");
                assert_eq!(pa.last(), *want.last().unwrap());
            }
        }
    }

    /// Rewrites in place read back as the plain starts rewritten here:
    /// shrinking (a wide block stays readable, a narrow one narrow),
    /// growing (narrow blocks becoming wide), across the tail.
    #[test]
    fn rewrites_read_back_as_plain() {
        let mut next = rng(0xdead_beef_cafe_f00d);
        for len in [0usize, 1, 63, 64, 65, 128, 129, 700] {
            for shape in 0..5 {
                let v = plain(len, shape, &mut next);
                // Halved; then each start plus 1,000 per start before it.
                let halved: Vec<u32> = v.iter().map(|&s| s / 2).collect();
                let grown: Vec<u32> = halved
                    .iter()
                    .enumerate()
                    .map(|(i, &s)| s + 1_000 * i as u32)
                    .collect();
                let mut p = PackedStarts::new();
                for &s in &v {
                    p.push(s);
                }
                let mut seen = Vec::new();
                p.rewrite(|i, s| {
                    seen.push((i, s));
                    s / 2
                });
                let want: Vec<(usize, u32)> = v.iter().copied().enumerate().collect();
                assert_eq!(seen, want);
                assert_eq!(read(&p), halved, "len {len}, shape {shape}");
                // Equal to the same starts pushed, wide blocks kept or not.
                assert_eq!(p, halved.iter().copied().collect::<PackedStarts>());
                if len > 0 {
                    assert_ne!(p, v.iter().map(|&s| s + 1).collect::<PackedStarts>());
                }
                p.rewrite(|i, s| s + 1_000 * i as u32);
                assert_eq!(read(&p), grown, "len {len}, shape {shape}");
                assert_eq!(p.last(), grown.last().copied().unwrap_or(0));
                // And pushes after it go on from there.
                let last = p.last();
                p.push(last + 7);
                assert_eq!(p.get(len), last + 7);
            }
        }
    }
}
