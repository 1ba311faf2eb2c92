//! Frame trees: objects aggregated by their path of types from the roots.
//!
//! A tree over the objects — PerfView's spanning tree, the dominator tree,
//! the tree of shortest paths — gives every object one parent. A *frame*
//! is a path of keys (a type, or a pseudo-node such as a root category)
//! from the top: an object lands in the frame of its parent's frame
//! extended by its own key, or in its parent's frame itself when the key
//! is the same — direct recursion, folded as PerfView folds a frame equal
//! to its caller's, so a linked list of a million nodes is one frame. The
//! tree has one frame per distinct path: at most one per object, in
//! practice thousands for millions of objects.
//!
//! Each frame has the objects that landed in it (`self_value`,
//! `self_count`) and, summed bottom-up, those of its subtree (`value`,
//! `count`). Values are `f64` sums of the weights given: bytes (exact up
//! to 2^53) or, for a sampled heap, bytes scaled as PerfView scales them.
//!
//! [`FrameTree::inclusive_by_key`] is PerfView's By Name inclusive sum over
//! such a tree; [`select_frames`] keeps the largest frames within a budget
//! and merges the others into one "other" entry per parent.

use rustc_hash::FxHashMap;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Index of a frame in its [`FrameTree`]; [`TOP`] is the top frame.
pub type FrameIndex = u32;

/// The top frame (no key: everything is below it).
pub const TOP: FrameIndex = 0;

/// The key of the top frame.
pub const NO_KEY: u32 = u32::MAX;

const NONE: u32 = u32::MAX;

/// Objects aggregated by path of keys (see the module's documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameTree {
    parent: Vec<u32>,
    key: Vec<u32>,
    self_value: Vec<f64>,
    self_count: Vec<f64>,
    value: Vec<f64>,
    count: Vec<f64>,
    truncated: bool,
}

impl FrameTree {
    /// True when the builder's frame limit was reached: some objects are
    /// counted in an ancestor's frame, not in their own (every frame's
    /// totals are still exact; per-key sums of the types below the cut are
    /// not).
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Number of frames (the top included).
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// True when only the top frame exists.
    pub fn is_empty(&self) -> bool {
        self.parent.len() <= 1
    }

    /// The parent of a frame (`None` for [`TOP`]). A parent's index is
    /// lower than its children's.
    pub fn parent(&self, f: FrameIndex) -> Option<FrameIndex> {
        match self.parent[f as usize] {
            NONE => None,
            p => Some(p),
        }
    }

    /// The raw parents (`u32::MAX` for the top).
    pub fn parents(&self) -> &[u32] {
        &self.parent
    }

    /// The key of a frame ([`NO_KEY`] for the top).
    pub fn key(&self, f: FrameIndex) -> u32 {
        self.key[f as usize]
    }

    /// The weight of the objects in the frame and below it.
    pub fn value(&self, f: FrameIndex) -> f64 {
        self.value[f as usize]
    }

    /// The count of the objects in the frame and below it.
    pub fn count(&self, f: FrameIndex) -> f64 {
        self.count[f as usize]
    }

    /// The weight of the objects in the frame itself.
    pub fn self_value(&self, f: FrameIndex) -> f64 {
        self.self_value[f as usize]
    }

    /// The count of the objects in the frame itself.
    pub fn self_count(&self, f: FrameIndex) -> f64 {
        self.self_count[f as usize]
    }

    /// All frames' totals (by frame index).
    pub fn values(&self) -> &[f64] {
        &self.value
    }

    /// The keys from the top's child down to `f`.
    pub fn path(&self, f: FrameIndex) -> Vec<u32> {
        let mut keys = Vec::new();
        let mut x = f;
        while let Some(p) = self.parent(x) {
            keys.push(self.key(x));
            x = p;
        }
        keys.reverse();
        keys
    }

    /// The frames below each frame, in index order.
    pub fn children(&self) -> Children {
        Children::of(&self.parent)
    }

    /// PerfView's By Name inclusive columns over the tree
    /// (`AccumulateSumByID`): per key below `keys`, the totals of the
    /// frames of that key that have no ancestor of the same key — every
    /// object counted once for every key on its path. Returns (value,
    /// count) per key.
    pub fn inclusive_by_key(&self, keys: usize) -> Vec<(f64, f64)> {
        let own: Vec<u32> = (0..keys as u32).collect();
        self.inclusive_by_sets(keys, |k| own.get(k as usize..=k as usize).unwrap_or(&[]))
    }

    /// [`FrameTree::inclusive_by_key`] for sets of keys (groups, which may
    /// overlap): per set below `sets`, the totals of the frames whose key
    /// is in the set and that have no ancestor whose key is — every object
    /// counted once for every set met on its path. `sets_of(key)` lists
    /// the sets of a key.
    pub fn inclusive_by_sets<'s>(
        &self,
        sets: usize,
        sets_of: impl Fn(u32) -> &'s [u32],
    ) -> Vec<(f64, f64)> {
        let children = self.children();
        let mut out = vec![(0.0, 0.0); sets];
        let mut on_path = vec![0u32; sets];
        let of = |f: FrameIndex| -> &'s [u32] {
            match self.key(f) {
                NO_KEY => &[],
                k => sets_of(k),
            }
        };
        // (frame, next child position)
        let mut stack: Vec<(FrameIndex, usize)> = vec![(TOP, 0)];
        while let Some(top) = stack.last_mut() {
            let (f, pos) = *top;
            if let Some(&c) = children.of_frame(f).get(pos) {
                top.1 += 1;
                for &s in of(c) {
                    if on_path[s as usize] == 0 {
                        out[s as usize].0 += self.value(c);
                        out[s as usize].1 += self.count(c);
                    }
                    on_path[s as usize] += 1;
                }
                stack.push((c, 0));
            } else {
                for &s in of(f) {
                    on_path[s as usize] -= 1;
                }
                stack.pop();
            }
        }
        out
    }
}

/// Children lists of a tree given by parents (CSR), in index order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Children {
    start: Vec<u32>,
    list: Vec<u32>,
}

impl Children {
    /// The children lists of the tree whose parent of `i` is `parents[i]`
    /// (`u32::MAX` for none); a parent must be listed before its children.
    pub fn of(parents: &[u32]) -> Children {
        let n = parents.len();
        let mut start = vec![0u32; n + 1];
        for &p in parents {
            if p != NONE {
                start[p as usize + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut list = vec![0u32; start[n] as usize];
        for (i, &p) in parents.iter().enumerate() {
            if p != NONE {
                list[fill[p as usize] as usize] = i as u32;
                fill[p as usize] += 1;
            }
        }
        Children { start, list }
    }

    /// The children of `f`.
    pub fn of_frame(&self, f: u32) -> &[u32] {
        let (s, e) = (self.start[f as usize], self.start[f as usize + 1]);
        &self.list[s as usize..e as usize]
    }
}

/// Builds a [`FrameTree`] one object at a time, parents before children.
#[derive(Debug, Clone)]
pub struct FrameTreeBuilder {
    tree: FrameTree,
    index: FxHashMap<u64, u32>,
    /// Per frame: the last child looked up (key, frame), which siblings of
    /// one type (an array's elements) hit without hashing.
    last: Vec<(u32, u32)>,
    /// Most frames made; past it an object stays in its parent's frame.
    limit: usize,
}

/// The most frames a [`FrameTreeBuilder`] makes by default (about 72
/// bytes each while building): a real heap has thousands of distinct
/// paths of types, a pathological one up to one per object.
pub const MAX_TREE_FRAMES: usize = 1 << 20;

impl Default for FrameTreeBuilder {
    fn default() -> Self {
        FrameTreeBuilder::new()
    }
}

impl FrameTreeBuilder {
    /// A tree of the top frame alone.
    pub fn new() -> Self {
        FrameTreeBuilder {
            tree: FrameTree {
                parent: vec![NONE],
                key: vec![NO_KEY],
                self_value: vec![0.0],
                self_count: vec![0.0],
                value: Vec::new(),
                count: Vec::new(),
                truncated: false,
            },
            index: FxHashMap::default(),
            last: vec![(NONE, NONE)],
            limit: MAX_TREE_FRAMES,
        }
    }

    /// A builder that makes at most `limit` frames (at least the top):
    /// past it, an object whose frame would be new lands in its parent's
    /// frame instead. Every frame's totals stay exact (they are the
    /// objects whose path starts with the frame's); the deeper detail is
    /// lost, and [`FrameTree::truncated`] says so.
    pub fn with_limit(limit: usize) -> Self {
        FrameTreeBuilder {
            limit: limit.max(1),
            ..FrameTreeBuilder::new()
        }
    }

    /// Frames so far.
    pub fn len(&self) -> usize {
        self.tree.parent.len()
    }

    /// True when only the top frame exists.
    pub fn is_empty(&self) -> bool {
        self.len() <= 1
    }

    /// The frame of key `key` below `parent`: `parent` itself when its key
    /// is `key` (direct recursion), else its child of that key (made when
    /// new).
    #[inline]
    pub fn child(&mut self, parent: FrameIndex, key: u32) -> FrameIndex {
        let p = parent as usize;
        if self.tree.key[p] == key {
            return parent;
        }
        let (k, c) = self.last[p];
        if k == key {
            return c;
        }
        let next = self.tree.parent.len() as u32;
        let full = self.tree.parent.len() >= self.limit;
        let c = match self.index.entry((parent as u64) << 32 | key as u64) {
            std::collections::hash_map::Entry::Occupied(e) => *e.get(),
            std::collections::hash_map::Entry::Vacant(_) if full => {
                self.tree.truncated = true;
                return parent;
            }
            std::collections::hash_map::Entry::Vacant(e) => *e.insert(next),
        };
        if c == next {
            let t = &mut self.tree;
            t.parent.push(parent);
            t.key.push(key);
            t.self_value.push(0.0);
            t.self_count.push(0.0);
            self.last.push((NONE, NONE));
        }
        self.last[p] = (key, c);
        c
    }

    /// Adds an object of weight `value` and count `count` to frame `f`.
    #[inline]
    pub fn add(&mut self, f: FrameIndex, value: f64, count: f64) {
        self.tree.self_value[f as usize] += value;
        self.tree.self_count[f as usize] += count;
    }

    /// The tree, with every frame's totals.
    pub fn finish(self) -> FrameTree {
        let mut t = self.tree;
        t.value = t.self_value.clone();
        t.count = t.self_count.clone();
        // Children come after their parents.
        for f in (1..t.parent.len()).rev() {
            let p = t.parent[f] as usize;
            t.value[p] += t.value[f];
            t.count[p] += t.count[f];
        }
        t
    }
}

/// An entry of a tree cut to size by [`select_frames`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// A frame of the tree, under the entry `parent` (an index into the
    /// list; `None` for the top).
    Frame {
        /// The frame.
        frame: u32,
        /// Its parent's entry.
        parent: Option<usize>,
    },
    /// The frames left out under the entry `parent`, merged into one.
    Other {
        /// Their parent's entry.
        parent: usize,
        /// The frames left out (each with its subtree).
        frames: Vec<u32>,
    },
}

#[derive(PartialEq)]
struct Candidate(f64, u32);

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        // Larger importance first; then the lower index.
        self.0
            .total_cmp(&other.0)
            .then_with(|| other.1.cmp(&self.1))
    }
}

/// Cuts a tree (given by `parents`, parents listed before children, frame
/// 0 the top) to at most `max_entries` entries, `Other` entries included:
/// the frames of largest `importance` are kept, best first from the top
/// (a frame is kept only with its parent), frames below `min_importance`
/// never; under each kept frame the frames left out become one `Other`
/// entry. Entries come in preorder, children by importance descending
/// (ties: lower index first), each frame's `Other` after its kept
/// children. At least the top is kept (with an `Other` for all below it
/// when `max_entries` is under 3).
pub fn select_frames(
    parents: &[u32],
    importance: &[f64],
    max_entries: usize,
    min_importance: f64,
) -> Vec<Shown> {
    let n = parents.len();
    if n == 0 {
        return Vec::new();
    }
    let children = Children::of(parents);
    let mut kept = vec![false; n];
    // Per kept frame: children not kept yet.
    let mut unkept = vec![0u32; n];
    kept[0] = true;
    unkept[0] = children.of_frame(0).len() as u32;
    let mut used = 1 + usize::from(unkept[0] > 0);
    let mut heap = BinaryHeap::new();
    for &c in children.of_frame(0) {
        if importance[c as usize] >= min_importance {
            heap.push(Candidate(importance[c as usize], c));
        }
    }
    while let Some(Candidate(_, c)) = heap.pop() {
        let p = parents[c as usize] as usize;
        let kids = children.of_frame(c).len() as u32;
        // The frame, its own Other (until all its children are kept), and
        // the parent's Other gone when this was its last left-out child.
        let cost = 1 + usize::from(kids > 0);
        let saved = usize::from(unkept[p] == 1);
        if used + cost - saved > max_entries {
            break;
        }
        used = used + cost - saved;
        kept[c as usize] = true;
        unkept[p] -= 1;
        unkept[c as usize] = kids;
        for &k in children.of_frame(c) {
            if importance[k as usize] >= min_importance {
                heap.push(Candidate(importance[k as usize], k));
            }
        }
    }
    // Preorder output.
    let mut out: Vec<Shown> = Vec::with_capacity(used);
    let by_importance = |v: &mut Vec<u32>| {
        v.sort_by(|&a, &b| {
            importance[b as usize]
                .total_cmp(&importance[a as usize])
                .then(a.cmp(&b))
        })
    };
    enum Item {
        Expand(u32, Option<usize>),
        Other(usize, Vec<u32>),
    }
    let mut stack = vec![Item::Expand(0, None)];
    while let Some(item) = stack.pop() {
        let (f, parent) = match item {
            Item::Expand(f, parent) => (f, parent),
            Item::Other(parent, frames) => {
                out.push(Shown::Other { parent, frames });
                continue;
            }
        };
        let me = out.len();
        out.push(Shown::Frame { frame: f, parent });
        let (mut keep, mut drop): (Vec<u32>, Vec<u32>) = children
            .of_frame(f)
            .iter()
            .partition(|&&c| kept[c as usize]);
        by_importance(&mut keep);
        by_importance(&mut drop);
        // The Other entry comes after the kept children's subtrees.
        if !drop.is_empty() {
            stack.push(Item::Other(me, drop));
        }
        for &c in keep.iter().rev() {
            stack.push(Item::Expand(c, Some(me)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// top -> A(1) -> B(2) -> A ; A -> A (folded) ; top -> C
    fn sample() -> FrameTree {
        let mut b = FrameTreeBuilder::new();
        let a = b.child(TOP, 1);
        b.add(a, 10.0, 1.0);
        let a2 = b.child(a, 1);
        assert_eq!(a2, a, "direct recursion folds");
        b.add(a2, 5.0, 1.0);
        let ab = b.child(a, 2);
        b.add(ab, 7.0, 1.0);
        let aba = b.child(ab, 1);
        b.add(aba, 3.0, 1.0);
        let c = b.child(TOP, 3);
        b.add(c, 100.0, 2.0);
        assert_eq!(b.child(a, 2), ab);
        assert_eq!(b.child(TOP, 1), a);
        b.finish()
    }

    #[test]
    fn totals_and_inclusive_by_key_count_recursion_once() {
        let t = sample();
        assert_eq!(t.len(), 5);
        assert_eq!(t.value(TOP), 125.0);
        assert_eq!(t.count(TOP), 6.0);
        assert_eq!((t.value(1), t.self_value(1)), (25.0, 15.0));
        let inc = t.inclusive_by_key(4);
        // Key 1 (A): the outer A frame only (its subtree holds the inner).
        assert_eq!(inc[1], (25.0, 4.0));
        assert_eq!(inc[2], (10.0, 2.0));
        assert_eq!(inc[3], (100.0, 2.0));
        assert_eq!(inc[0], (0.0, 0.0));
        assert_eq!(t.path(3), vec![1, 2, 1]);
    }

    #[test]
    fn a_limit_keeps_totals_exact() {
        let mut b = FrameTreeBuilder::with_limit(3);
        let a = b.child(TOP, 1);
        b.add(a, 10.0, 1.0);
        let ab = b.child(a, 2);
        b.add(ab, 7.0, 1.0);
        // Full: the new frame's objects stay in their parent's.
        let abc = b.child(ab, 3);
        assert_eq!(abc, ab);
        b.add(abc, 5.0, 1.0);
        assert_eq!(b.child(a, 2), ab);
        let t = b.finish();
        assert!(t.truncated());
        assert_eq!((t.len(), t.value(TOP), t.value(ab)), (3, 22.0, 12.0));
    }

    #[test]
    fn selection_keeps_the_largest_and_merges_the_rest() {
        let t = sample();
        let all = select_frames(t.parents(), t.values(), 100, 0.0);
        assert_eq!(all.len(), 5);
        assert!(matches!(
            all[0],
            Shown::Frame {
                frame: 0,
                parent: None
            }
        ));
        // C (100) before A (25).
        assert!(matches!(
            all[1],
            Shown::Frame {
                frame: 4,
                parent: Some(0)
            }
        ));
        assert!(matches!(
            all[2],
            Shown::Frame {
                frame: 1,
                parent: Some(0)
            }
        ));
        // Budget 4: top, C, A, and A's Other (B and below).
        let cut = select_frames(t.parents(), t.values(), 4, 0.0);
        assert_eq!(cut.len(), 4);
        assert_eq!(
            cut[3],
            Shown::Other {
                parent: 2,
                frames: vec![2]
            }
        );
        // Budget 2: the top and one Other for everything.
        let cut = select_frames(t.parents(), t.values(), 2, 0.0);
        assert_eq!(
            cut,
            vec![
                Shown::Frame {
                    frame: 0,
                    parent: None
                },
                Shown::Other {
                    parent: 0,
                    frames: vec![4, 1]
                }
            ]
        );
        // A minimum importance leaves small frames out.
        let cut = select_frames(t.parents(), t.values(), 100, 20.0);
        assert_eq!(cut.len(), 4);
    }
}
