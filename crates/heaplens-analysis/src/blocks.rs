//! Big arrays in blocks, for the analyses' per-object work arrays.
//!
//! A WebAssembly worker's memory never shrinks: what the open and each
//! analysis step free is left as holes between what they keep. An array of
//! hundreds of megabytes fits in none of them and grows the memory at its
//! top; a `Vec` that doubles to that size also copies itself beside its old
//! self. A [`BlockVec`] is held in blocks of [`BLOCK_BYTES`]: they fill the
//! holes, and it grows one block at a time, never copying.

use std::ops::{Index, IndexMut};

/// Bytes per block (about).
const BLOCK_BYTES: usize = 4 << 20;

/// A growable array in fixed blocks: push and pop at the end, index
/// anywhere. Blocks are kept once allocated (as a `Vec` keeps its
/// capacity) until it is dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockVec<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

impl<T> BlockVec<T> {
    /// Entries per block: `1 << SHIFT`, the largest power of two that fits
    /// in [`BLOCK_BYTES`] (a constant, so indexing shifts and masks by
    /// immediates).
    const SHIFT: u32 = {
        let size = std::mem::size_of::<T>();
        let per = BLOCK_BYTES / if size == 0 { 1 } else { size };
        (if per == 0 { 1 } else { per }).ilog2()
    };
    const MASK: usize = (1 << Self::SHIFT) - 1;

    /// An empty array.
    pub(crate) fn new() -> Self {
        BlockVec {
            blocks: Vec::new(),
            len: 0,
        }
    }

    /// `len` copies of `value`.
    pub(crate) fn from_elem(value: T, len: usize) -> Self
    where
        T: Clone,
    {
        let mut v = BlockVec::new();
        let per = 1 << Self::SHIFT;
        let mut left = len;
        while left > 0 {
            let k = left.min(per);
            v.blocks.push(vec![value.clone(); k]);
            left -= k;
        }
        v.len = len;
        v
    }

    /// Number of entries.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    pub(crate) fn push(&mut self, x: T) {
        let b = self.len >> Self::SHIFT;
        if b == self.blocks.len() {
            self.blocks.push(Vec::with_capacity(1 << Self::SHIFT));
        }
        self.blocks[b].push(x);
        self.len += 1;
    }

    #[inline]
    pub(crate) fn pop(&mut self) -> Option<T> {
        self.len = self.len.checked_sub(1)?;
        self.blocks[self.len >> Self::SHIFT].pop()
    }

    /// Bytes held (the blocks' capacity).
    pub(crate) fn memory_bytes(&self) -> usize {
        self.blocks.iter().map(Vec::capacity).sum::<usize>() * std::mem::size_of::<T>()
    }

    /// The entries in order.
    pub(crate) fn iter(&self) -> impl DoubleEndedIterator<Item = &T> {
        self.blocks.iter().flatten()
    }
}

impl<T> Index<usize> for BlockVec<T> {
    type Output = T;
    #[inline]
    fn index(&self, i: usize) -> &T {
        &self.blocks[i >> Self::SHIFT][i & Self::MASK]
    }
}

impl<T> IndexMut<usize> for BlockVec<T> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut T {
        &mut self.blocks[i >> Self::SHIFT][i & Self::MASK]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushes_pops_and_indexes_across_blocks() {
        let mut v: BlockVec<u64> = BlockVec::new();
        let per = 1usize << BlockVec::<u64>::SHIFT;
        let n = 2 * per + 5;
        for i in 0..n {
            v.push(i as u64 * 3);
        }
        assert_eq!(v.len(), n);
        assert_eq!(v[per - 1], (per as u64 - 1) * 3);
        assert_eq!(v[per], per as u64 * 3);
        v[per + 1] = 7;
        assert_eq!(v[per + 1], 7);
        assert!(v
            .iter()
            .copied()
            .eq((0..n as u64).map(|i| if i == per as u64 + 1 { 7 } else { i * 3 })));
        for i in (0..n).rev() {
            let want = if i == per + 1 { 7 } else { i as u64 * 3 };
            assert_eq!(v.pop(), Some(want));
        }
        assert_eq!(v.pop(), None);
        // Pushed again after popping to empty: blocks are reused.
        v.push(1);
        assert_eq!((v.len(), v[0]), (1, 1));
        let f = BlockVec::from_elem(9u32, 3 * (1 << 20) + 1);
        assert_eq!(f.len(), 3 * (1 << 20) + 1);
        assert_eq!(f[3 << 20], 9);
        assert_eq!(f.iter().count(), f.len());
    }
}
