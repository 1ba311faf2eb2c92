//! Big arrays in blocks, for the analyses' per-object work arrays.
//!
//! A WebAssembly worker's memory never shrinks: what the open and each
//! analysis step free is left as holes between what they keep. An array of
//! hundreds of megabytes fits in none of them and grows the memory at its
//! top; a `Vec` that doubles to that size also copies itself beside its old
//! self. A [`BlockVec`] is held in blocks of about [`BLOCK_BYTES`]: they
//! fill the holes, and it grows one block at a time, never copying.
//!
//! Indexing costs about what a `Vec`'s does. A block holds a constant
//! number of entries per type, a power of two ([`InBlocks::Block`] is an
//! array of them), so an index splits into block and slot with a shift and
//! a mask. Full blocks are boxed arrays (one pointer each in the block
//! table: one load); the last, partly filled block is a `Vec` beside them.
//! Which of the two holds an index is picked without a branch, and one
//! bounds check follows, against the array's length in the last block and
//! always passed in a full one (the slot is masked below its length). No
//! `unsafe`. Loops over all entries go block by block with
//! [`BlockVec::chunks`] and [`BlockVec::chunks_mut`].

use std::ops::{Index, IndexMut};

/// Bytes per block (at most; the entry count is rounded down to a power of
/// two).
const BLOCK_BYTES: usize = 4 << 20;

/// Entries per block for entries of `size` bytes: the largest power of two
/// whose entries fit in [`BLOCK_BYTES`].
const fn block_entries(size: usize) -> usize {
    let per = BLOCK_BYTES / if size == 0 { 1 } else { size };
    1 << (if per == 0 { 1 } else { per }).ilog2()
}

/// A type [`BlockVec`] can hold: its full block is an array of
/// [`block_entries`] entries (implemented below for the analyses' types).
pub(crate) trait InBlocks: Sized {
    /// `[Self; block_entries(size_of::<Self>())]`.
    type Block: AsRef<[Self]> + AsMut<[Self]> + Clone;
    /// A full block from a slice of exactly its length (panics otherwise;
    /// no copy).
    fn full_block(entries: Box<[Self]>) -> Box<Self::Block>;
    /// The block as a `Vec` (no copy).
    fn into_vec(block: Box<Self::Block>) -> Vec<Self>;
}

macro_rules! in_blocks {
    ($($t:ty),* $(,)?) => {$(
        impl InBlocks for $t {
            type Block = [$t; block_entries(std::mem::size_of::<$t>())];
            fn full_block(entries: Box<[$t]>) -> Box<Self::Block> {
                entries.try_into().expect("a block's worth of entries")
            }
            fn into_vec(block: Box<Self::Block>) -> Vec<$t> {
                (block as Box<[$t]>).into_vec()
            }
        }
    )*};
}

in_blocks!(u32, u64, [u32; 2], (u32, u32), (f32, f32, u32));

/// A growable array in blocks: push and pop at the end, index anywhere.
/// A block emptied by popping is kept for the next pushes (one such
/// spare, so going back and forth over a block's edge never allocates).
///
/// Entry `i` is in full block `i >> SHIFT` at slot `i & MASK` while that
/// block exists, otherwise at `tail[i - full.len() * ENTRIES]` (whose
/// bounds check is the check against the array's length). The tail holds
/// at most a block's worth.
pub(crate) struct BlockVec<T: InBlocks> {
    /// Full blocks, in order.
    full: Vec<Box<T::Block>>,
    /// The entries after the full blocks (at most a block's worth).
    tail: Vec<T>,
    /// An emptied block's memory, kept for the next pushes.
    spare: Vec<T>,
}

impl<T: InBlocks> BlockVec<T> {
    /// Entries per block: `1 << SHIFT`.
    const ENTRIES: usize = std::mem::size_of::<T::Block>() / std::mem::size_of::<T>();
    const SHIFT: u32 = {
        assert!(Self::ENTRIES.is_power_of_two());
        Self::ENTRIES.ilog2()
    };
    const MASK: usize = Self::ENTRIES - 1;

    /// An empty array.
    pub(crate) fn new() -> Self {
        BlockVec {
            full: Vec::new(),
            tail: Vec::new(),
            spare: Vec::new(),
        }
    }

    /// `len` copies of `value`.
    pub(crate) fn from_elem(value: T, len: usize) -> Self
    where
        T: Clone,
    {
        let mut v = BlockVec::new();
        for _ in 0..len >> Self::SHIFT {
            let block = vec![value.clone(); Self::ENTRIES].into_boxed_slice();
            v.full.push(T::full_block(block));
        }
        let rest = len & Self::MASK;
        if rest > 0 {
            v.tail = vec![value; rest];
        }
        v
    }

    /// Number of entries.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        (self.full.len() << Self::SHIFT) + self.tail.len()
    }

    #[inline]
    pub(crate) fn push(&mut self, x: T) {
        // The tail's capacity is at most a block's: a full tail is at its
        // capacity, and one compare covers both.
        if self.tail.len() == self.tail.capacity() {
            self.make_room();
        }
        self.tail.push(x);
    }

    /// Room in the tail for one more: a full tail moves to the full blocks
    /// (the spare, if any, becomes the tail), and a tail at its capacity
    /// grows to a block's worth at once (never a doubling copy).
    #[cold]
    fn make_room(&mut self) {
        if self.tail.len() == Self::ENTRIES {
            let tail = std::mem::replace(&mut self.tail, std::mem::take(&mut self.spare));
            self.full.push(T::full_block(tail.into_boxed_slice()));
        }
        if self.tail.len() == self.tail.capacity() {
            self.tail.reserve_exact(Self::ENTRIES - self.tail.len());
        }
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        if self.tail.is_empty() {
            self.unseal_last()?;
        }
        self.tail.pop()
    }

    /// Makes the last full block the tail (the empty tail's memory is kept
    /// as the spare); `None` if there is none.
    #[cold]
    fn unseal_last(&mut self) -> Option<()> {
        let last = T::into_vec(self.full.pop()?);
        let empty = std::mem::replace(&mut self.tail, last);
        if empty.capacity() > self.spare.capacity() {
            self.spare = empty;
        }
        Some(())
    }

    /// Bytes held (the blocks', the tail's and the spare's capacity).
    pub(crate) fn memory_bytes(&self) -> usize {
        ((self.full.len() << Self::SHIFT) + self.tail.capacity() + self.spare.capacity())
            * std::mem::size_of::<T>()
    }

    /// The block that holds (or would hold) entry `i`, as a slice, and
    /// `i`'s place in it: `i + 1` is at the next place if the slice has
    /// it. Two neighbours in one look-up (a binary heap's children `2k`
    /// and `2k + 1` always share a block). Past the end, the place is
    /// past the slice's end.
    #[inline]
    pub(crate) fn block_at(&self, i: usize) -> (&[T], usize) {
        match self.full.get(i >> Self::SHIFT) {
            Some(block) => (block.as_ref().as_ref(), i & Self::MASK),
            None => (&self.tail, i - (self.full.len() << Self::SHIFT)),
        }
    }

    /// [`Self::block_at`], mutable.
    #[inline]
    pub(crate) fn block_at_mut(&mut self, i: usize) -> (&mut [T], usize) {
        let base = self.full.len() << Self::SHIFT;
        match self.full.get_mut(i >> Self::SHIFT) {
            Some(block) => (block.as_mut().as_mut(), i & Self::MASK),
            None => (self.tail.as_mut_slice(), i - base),
        }
    }

    /// The entries in order, block by block: slices that cover exactly
    /// `len` entries (a last empty one when the length is a multiple of
    /// the block size).
    pub(crate) fn chunks(&self) -> impl DoubleEndedIterator<Item = &[T]> {
        self.full
            .iter()
            .map(|b| b.as_ref().as_ref())
            .chain(std::iter::once(self.tail.as_slice()))
    }

    /// [`Self::chunks`], mutable.
    pub(crate) fn chunks_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut [T]> {
        self.full
            .iter_mut()
            .map(|b| b.as_mut().as_mut())
            .chain(std::iter::once(self.tail.as_mut_slice()))
    }

    /// The entries in order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.chunks().flatten()
    }
}

// Through `block_at`: the block or the tail is picked without a branch
// (random indices fall in the tail at random), then one bounds check that
// a full block always passes.
impl<T: InBlocks> Index<usize> for BlockVec<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        let (block, j) = self.block_at(i);
        &block[j]
    }
}

impl<T: InBlocks> IndexMut<usize> for BlockVec<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        let (block, j) = self.block_at_mut(i);
        &mut block[j]
    }
}

impl<T: InBlocks + Clone> Clone for BlockVec<T> {
    fn clone(&self) -> Self {
        BlockVec {
            full: self.full.clone(),
            tail: self.tail.clone(),
            spare: Vec::new(),
        }
    }
}

impl<T: InBlocks + PartialEq> PartialEq for BlockVec<T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: InBlocks + Eq> Eq for BlockVec<T> {}

impl<T: InBlocks + std::fmt::Debug> std::fmt::Debug for BlockVec<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Entries per block of `u64` (and of `[u32; 2]`): 4 MiB of them.
    const PER: usize = 1 << 19;

    #[test]
    fn block_sizes_are_powers_of_two_of_about_4_mib() {
        assert_eq!(BlockVec::<u64>::ENTRIES, PER);
        assert_eq!(BlockVec::<[u32; 2]>::ENTRIES, PER);
        assert_eq!(BlockVec::<(u32, u32)>::ENTRIES, PER);
        assert_eq!(BlockVec::<u32>::ENTRIES, 1 << 20);
        // 12-byte entries: 349,525 fit in 4 MiB; the power of two below.
        assert_eq!(BlockVec::<(f32, f32, u32)>::ENTRIES, 1 << 18);
        assert_eq!(std::mem::size_of::<<u32 as InBlocks>::Block>(), 4 << 20);
        assert_eq!(
            std::mem::size_of::<<(f32, f32, u32) as InBlocks>::Block>(),
            3 << 20
        );
    }

    /// Checks every entry, the length and the chunks against `want`.
    fn same(v: &BlockVec<u64>, want: &[u64]) {
        assert_eq!(v.len(), want.len());
        for (i, w) in want.iter().enumerate() {
            assert_eq!(v[i], *w, "entry {i}");
        }
        let chunks: Vec<&[u64]> = v.chunks().collect();
        assert_eq!(chunks.iter().map(|c| c.len()).sum::<usize>(), want.len());
        assert!(chunks[..chunks.len() - 1].iter().all(|c| c.len() == PER));
        assert_eq!(chunks.concat(), want);
        assert!(v.iter().eq(want.iter()));
        assert!(v.iter().rev().eq(want.iter().rev()));
    }

    #[test]
    fn pushes_and_indexes_at_block_edges_as_a_vec() {
        let mut v: BlockVec<u64> = BlockVec::new();
        let mut want: Vec<u64> = Vec::new();
        same(&v, &want);
        // Lengths around each edge: empty, one short, exactly full, one over.
        for len in [1, PER - 1, PER, PER + 1, 2 * PER, 2 * PER + 5] {
            while want.len() < len {
                let x = want.len() as u64 * 3 + 1;
                v.push(x);
                want.push(x);
            }
            same(&v, &want);
        }
        for i in [0, PER - 1, PER, PER + 1, 2 * PER - 1, 2 * PER, 2 * PER + 4] {
            v[i] = i as u64 ^ 0xABC;
            want[i] = i as u64 ^ 0xABC;
        }
        same(&v, &want);
        // Every entry through `block_at`, and its neighbour when the
        // block has it (an even entry's always, but at the end).
        for i in 0..want.len() + 3 {
            let (block, j) = v.block_at(i);
            assert_eq!(block.get(j), want.get(i), "entry {i}");
            if i % 2 == 0 && block.get(j).is_some() {
                assert_eq!(block.get(j + 1), want.get(i + 1), "entry {}", i + 1);
            }
        }
    }

    #[test]
    #[should_panic]
    fn indexing_past_the_end_panics() {
        let mut v: BlockVec<u64> = BlockVec::new();
        for i in 0..PER as u64 + 3 {
            v.push(i);
        }
        // In the block after the tail's: must not alias the tail's slot 1.
        let _ = v[2 * PER + 1];
    }

    #[test]
    #[should_panic]
    fn indexing_past_the_end_of_full_blocks_panics() {
        let v = BlockVec::from_elem(0u64, 2 * PER);
        let _ = v[2 * PER];
    }

    #[test]
    fn pops_across_block_edges_as_a_vec() {
        let mut v: BlockVec<u64> = BlockVec::new();
        let mut want: Vec<u64> = Vec::new();
        for i in 0..2 * PER as u64 + 2 {
            v.push(i);
            want.push(i);
        }
        let bytes = v.memory_bytes();
        // Down across both edges, then back and forth over one.
        while want.len() > PER - 2 {
            assert_eq!(v.pop(), want.pop());
        }
        same(&v, &want);
        // The last block's memory is kept as the spare, the one before
        // freed.
        assert_eq!(v.memory_bytes(), bytes - PER * 8);
        let bytes = v.memory_bytes();
        for round in 0..3u64 {
            for k in 0..4 {
                v.push(round * 10 + k);
                want.push(round * 10 + k);
            }
            same(&v, &want);
            for _ in 0..5 {
                assert_eq!(v.pop(), want.pop());
            }
            same(&v, &want);
        }
        // Going back and forth over an edge takes no more memory.
        assert_eq!(v.memory_bytes(), bytes);
        while !want.is_empty() {
            assert_eq!(v.pop(), want.pop());
        }
        assert_eq!((v.pop(), v.len()), (None, 0));
        v.push(7);
        same(&v, &[7]);
    }

    #[test]
    fn from_elem_and_chunks_mut_cover_exactly_len() {
        for len in [0, 1, PER - 1, PER, PER + 1, 3 * PER, 3 * PER + 7] {
            let mut v = BlockVec::from_elem(9u64, len);
            // Only what is asked for is allocated.
            assert_eq!(v.memory_bytes(), len * 8);
            let mut want = vec![9u64; len];
            let mut k = 0u64;
            for c in v.chunks_mut() {
                for x in c {
                    *x += k;
                    k += 1;
                }
            }
            for (k, w) in want.iter_mut().enumerate() {
                *w += k as u64;
            }
            same(&v, &want);
            assert_eq!(v.clone(), v);
            // Pushed on after a short last block: it grows to a full one.
            v.push(1);
            want.push(1);
            same(&v, &want);
        }
    }
}
