//! The dominator tree of a heap graph, and every object's retained size.
//!
//! Object `d` *dominates* object `x` when every path from the roots to `x`
//! goes through `d`: freeing `d` would free `x`. The roots are the GC roots
//! that keep their object alive ([`heaplens_graph::RootKind::keeps_alive`];
//! weak handles do not), joined under one virtual root. Every object
//! reachable from them has an *immediate* dominator: another object, or the
//! virtual root itself.
//!
//! The algorithm is semi-NCA (Georgiadis; the variant LLVM uses), near
//! linear, and iterative throughout: a chain of 50 million objects needs no
//! call stack. It is arranged for memory and for memory latency (on big
//! heaps the cost is cache and TLB misses, not instructions), and works in
//! depth-first preorder numbers from the walk on:
//!
//! 1. one depth-first walk numbers the reachable nodes (preorder) and, on
//!    the way, records what the semi-dominator pass needs, so that no pass
//!    over the edges follows it: each node's depth-first parent (the node
//!    it was reached from), its lowest-numbered predecessor (the first
//!    numbered node that saw it: numbers grow with time), and every edge to
//!    an already numbered node (in a depth-first preorder, the only edges
//!    whose semi-dominator candidates need an evaluation of the forest);
//! 2. those edges become queries: targets renumbered, sorted by target in
//!    place (in the buffer the walk filled) and packed to 4 bytes each;
//!    the numbering is dropped then (what is indexed by node later walks
//!    the graph again in the same order);
//! 3. semi-dominators in reverse preorder, with path halving (no stack).
//!    The loads of the next queries' paths are issued up to 48 queries
//!    ahead, one ancestor per stage, so that the misses of many
//!    evaluations overlap. A vertex's parent is saved, a byte per vertex
//!    for most, as the vertex is reached, and the queries taken are
//!    returned to the allocator as the loop goes;
//! 4. each immediate dominator as the nearest common ancestor of the parent
//!    and the semi-dominator, in preorder;
//! 5. the node-indexed result, the graph walked again in the same preorder
//!    ([`preorder_walk`]): the immediate dominators (by preorder number)
//!    become the preorder (nodes) in place as they are read;
//! 6. retained sizes, by node, summed bottom-up over the dominator tree in
//!    reverse preorder (see [`crate::retained`]).
//!
//! Besides the graph, a heap of 50 M nodes and 50 M edges peaks at about
//! 14 bytes per node: the walk's numbers (4), the forest of step 3 (8) and
//! the edges of step 2 (8 each); in step 3, the forest, the
//! semi-dominators (4) and the parents (1); at the end the preorder (4)
//! beside what is kept, 8 bytes per node: the immediate dominators and the
//! retained sizes. The preorder is not kept (4 bytes per node more): what
//! needs each dominator before what it dominates walks the graph again in
//! the same order ([`Dominators::walk_preorder`]), which holds a bit per
//! node and the walk's stack instead. The per-node arrays and the walks'
//! stacks are [`BlockVec`]s: in a WebAssembly worker, whose memory never
//! shrinks, blocks fill the holes the open and the steps before leave,
//! where one array of hundreds of megabytes would grow the memory.

use crate::blocks::BlockVec;
use crate::retained::RetainedSizes;
use heaplens_graph::{Cancelled, HeapGraph, NodeIndex, Phase, Progress};

/// Vertices handled between two progress reports (a cancel is noticed
/// within them: a few milliseconds of work).
const CHECK_EVERY: u32 = 1 << 16;
use std::collections::HashMap;

/// The immediate dominator of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dominator {
    /// The virtual root: no single object keeps this one alive (it is a
    /// root itself, or reachable from several roots by separate paths).
    Root,
    /// This object.
    Node(NodeIndex),
}

/// Immediate dominators of every object reachable from the roots, and
/// their retained sizes (computed with them, see
/// [`crate::retained::retained_sizes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dominators {
    /// Per node: its immediate dominator, [`ROOT`] or [`UNREACHABLE`] (in
    /// blocks: see [`BlockVec`]).
    idom: BlockVec<u32>,
    /// Nodes reachable from the roots.
    reachable: usize,
    /// Retained sizes (shared with the copies `retained_sizes` returns).
    retained: RetainedSizes,
}

const UNREACHABLE: u32 = u32::MAX;
const ROOT: u32 = u32::MAX - 1;

impl Dominators {
    /// The immediate dominator of `n`, or `None` if no root reaches `n`.
    pub fn idom(&self, n: NodeIndex) -> Option<Dominator> {
        match self.idom[n as usize] {
            UNREACHABLE => None,
            ROOT => Some(Dominator::Root),
            d => Some(Dominator::Node(d)),
        }
    }

    /// [`Dominators::idom`] of every node, in node order.
    pub(crate) fn idoms(&self) -> impl DoubleEndedIterator<Item = Option<Dominator>> + '_ {
        self.idom.iter().map(|&d| match d {
            UNREACHABLE => None,
            ROOT => Some(Dominator::Root),
            d => Some(Dominator::Node(d)),
        })
    }

    /// True if a root that keeps its object alive reaches `n`.
    pub fn is_reachable(&self, n: NodeIndex) -> bool {
        self.idom[n as usize] != UNREACHABLE
    }

    /// Number of nodes reachable from the roots.
    pub fn reachable_count(&self) -> usize {
        self.reachable
    }

    /// Number of nodes of the graph.
    pub fn node_count(&self) -> usize {
        self.idom.len()
    }

    /// The reachable nodes of `g` (the graph the tree is of), each after its
    /// immediate dominator: the depth-first preorder from the roots the
    /// tree was computed in, collected by [`Dominators::walk_preorder`]
    /// (4 bytes per reachable node, for as long as the caller keeps it).
    /// Walk it backwards to sum over subtrees of the dominator tree.
    pub fn preorder(&self, g: &HeapGraph) -> Vec<NodeIndex> {
        let mut order = Vec::with_capacity(self.reachable);
        let done: Result<(), std::convert::Infallible> = self.walk_preorder(g, |x, _| {
            order.push(x);
            Ok(())
        });
        let Ok(()) = done;
        order
    }

    /// Calls `visit` with each reachable node of `g` (the graph the tree is
    /// of) and its position, in the depth-first preorder from the roots
    /// that [`dominators`] numbered them in (each node after its immediate
    /// dominator), stopping at the first error. The order is not stored:
    /// the graph is walked again, with a bit per node and the walk's stack.
    pub fn walk_preorder<E>(
        &self,
        g: &HeapGraph,
        mut visit: impl FnMut(NodeIndex, usize) -> Result<(), E>,
    ) -> Result<(), E> {
        assert_eq!(
            g.node_count(),
            self.node_count(),
            "dominators of another graph"
        );
        let mut count = 0;
        preorder_walk(g, &live_roots(g), |x, i| {
            count += 1;
            visit(x, i)
        })?;
        debug_assert_eq!(count, self.reachable);
        Ok(())
    }

    /// True if `a` dominates `b` (every node dominates itself). Walks the
    /// dominator tree up from `b`.
    pub fn dominates(&self, a: NodeIndex, b: NodeIndex) -> bool {
        if !self.is_reachable(a) || !self.is_reachable(b) {
            return false;
        }
        let mut x = b;
        loop {
            if x == a {
                return true;
            }
            match self.idom[x as usize] {
                ROOT | UNREACHABLE => return false,
                d => x = d,
            }
        }
    }

    /// The retained sizes computed with the tree.
    pub(crate) fn retained(&self) -> &RetainedSizes {
        &self.retained
    }

    /// Heap memory held, in bytes, the retained sizes included (which the
    /// [`RetainedSizes`] that `retained_sizes` returns share).
    pub fn memory_bytes(&self) -> usize {
        self.idom.memory_bytes() + self.retained.memory_bytes()
    }
}

/// A bit per index.
pub(crate) struct Bits(Vec<u64>);

impl Bits {
    pub(crate) fn new(n: usize) -> Self {
        Bits(vec![0; n.div_ceil(64)])
    }
    /// Sets bit `i`; returns its old value.
    #[inline]
    pub(crate) fn set(&mut self, i: u32) -> bool {
        let (w, b) = ((i / 64) as usize, i % 64);
        let old = self.0[w] >> b & 1 == 1;
        self.0[w] |= 1 << b;
        old
    }
    #[inline]
    pub(crate) fn get(&self, i: u32) -> bool {
        self.0[(i / 64) as usize] >> (i % 64) & 1 == 1
    }
    /// The highest set bit at or below `i`.
    fn prev_set(&self, i: u32) -> Option<u32> {
        let mut w = (i / 64) as usize;
        let mut word = self.0[w] & (u64::MAX >> (63 - i % 64));
        loop {
            if word != 0 {
                return Some(w as u32 * 64 + 63 - word.leading_zeros());
            }
            w = w.checked_sub(1)?;
            word = self.0[w];
        }
    }
    /// Frees the words past bit `len`.
    fn truncate(&mut self, len: usize) {
        self.0.truncate(len.div_ceil(64));
        self.0.shrink_to_fit();
    }
}

/// The objects of the roots that keep their object alive, in root order.
pub(crate) fn live_roots(g: &HeapGraph) -> Vec<NodeIndex> {
    g.roots()
        .iter()
        .filter(|r| r.kind.keeps_alive())
        .map(|r| r.object)
        .collect()
}

/// Calls `visit` with each node reachable from `roots` and its position,
/// in the depth-first preorder [`walk`] numbers them in (position `i` is
/// number `i + 1`), stopping at the first error. The walk of `walk`,
/// without what only the dominators need: a node is claimed when popped or
/// gone straight down to; a popped node pushes its unclaimed children
/// last-first and goes down to the first. A bit per node and the walk's
/// stack, nothing stored per node.
fn preorder_walk<E>(
    g: &HeapGraph,
    roots: &[NodeIndex],
    mut visit: impl FnMut(NodeIndex, usize) -> Result<(), E>,
) -> Result<(), E> {
    let mut claimed = Bits::new(g.node_count());
    let mut stack: BlockVec<NodeIndex> = BlockVec::new();
    let mut i = 0;
    for &r in roots {
        stack.push(r);
        while let Some(mut x) = stack.pop() {
            if claimed.set(x) {
                continue;
            }
            loop {
                visit(x, i)?;
                i += 1;
                let mut down = None;
                for &c in g.children(x).iter().rev() {
                    if !claimed.get(c) {
                        if let Some(prev) = down.replace(c) {
                            stack.push(prev);
                        }
                    }
                }
                let Some(c) = down else { break };
                claimed.set(c);
                x = c;
            }
        }
    }
    Ok(())
}

/// Two bits per node for the walk, side by side (one cache line for both):
/// [`CLAIMED`] (numbered, or about to be) and [`TOUCHED`] (a numbered node
/// has an edge to it, and its number is stashed in `num`).
struct States(Vec<u64>);

const CLAIMED: u64 = 1;
const TOUCHED: u64 = 2;

impl States {
    fn new(n: usize) -> Self {
        States(vec![0; n.div_ceil(32)])
    }
    #[inline]
    fn get(&self, i: u32) -> u64 {
        self.0[(i / 32) as usize] >> (2 * (i % 32)) & 3
    }
    #[inline]
    fn set(&mut self, i: u32, bits: u64) {
        self.0[(i / 32) as usize] |= bits << (2 * (i % 32));
    }
}

/// The edges the walk found going to already numbered nodes ("back" edges
/// here: from a higher to a lower number), grouped by source in numbering
/// order: their targets (node indices) packed two to a `u64`, a bit per
/// source that has some, and a bit per edge that starts its source's group.
/// [`BackEdges::into_pairs`] unpacks them in place into `(target, source)`
/// number pairs.
struct BackEdges {
    buf: Vec<u64>,
    len: usize,
    has: Bits,
    first: Bits,
}

impl BackEdges {
    fn new(nodes: usize, edges: usize) -> Self {
        // Natively, room for every edge up front: `into_pairs` needs a
        // `u64` per edge in the end, and pages never written cost no
        // memory. wasm memory is committed as it grows.
        let buf = if cfg!(target_arch = "wasm32") {
            Vec::new()
        } else {
            Vec::with_capacity(edges)
        };
        BackEdges {
            buf,
            len: 0,
            has: Bits::new(nodes + 1),
            first: Bits::new(edges),
        }
    }

    /// Starts the group of source `v` (call before its first edge).
    #[inline]
    fn start(&mut self, v: u32) {
        self.has.set(v);
        self.first.set(self.len as u32);
    }

    #[inline]
    fn push(&mut self, target: NodeIndex) {
        if self.len.is_multiple_of(2) {
            self.buf.push(target as u64);
        } else if let Some(last) = self.buf.last_mut() {
            *last |= (target as u64) << 32;
        }
        self.len += 1;
    }

    /// `(num[target] << 32 | source)` per edge, in place. The targets are
    /// unpacked from the back: edge `k` goes to `buf[k]` once `buf[k / 2]`,
    /// which held it, has been read, and the lower edges are held below
    /// `k / 2`, not yet overwritten. Then the sources, group by group.
    fn into_pairs(self, num: &BlockVec<u32>) -> Vec<u64> {
        let BackEdges {
            mut buf,
            len,
            has,
            first,
        } = self;
        buf.resize(len, 0);
        // Targets, from the back (no branches: the loads overlap).
        for k in (0..len).rev() {
            let c = (buf[k / 2] >> (32 * (k % 2))) as u32;
            buf[k] = (num[c as usize] as u64) << 32;
        }
        // Sources, group by group from the back.
        let mut from = (has.0.len() * 64).clamp(1, u32::MAX as usize) as u32 - 1;
        let mut v = 0;
        let mut next_group = true;
        for (k, pair) in buf.iter_mut().enumerate().rev() {
            if next_group {
                // Every edge belongs to a group, every group to a source
                // numbered from 1.
                v = has.prev_set(from).unwrap_or(0);
                from = v.saturating_sub(1);
            }
            *pair |= v as u64;
            next_group = first.get(k as u32);
        }
        buf
    }
}

/// What the depth-first walk leaves behind.
struct Walk {
    /// Per node: its preorder number from 1 (0: not reached).
    num: BlockVec<u32>,
    /// Per preorder number: the depth-first parent and the lowest-numbered
    /// predecessor (0 for the virtual root); entry 0 is the virtual root.
    forest: BlockVec<[u32; 2]>,
    /// Edges to lower-numbered nodes.
    back: BackEdges,
}

/// Numbers the nodes reachable from `roots` in depth-first preorder from 1
/// (0 is the virtual root, whose children are `roots` in order; a node's
/// children are its edges in order). Nodes are claimed when popped, and a
/// popped node pushes its unclaimed children last-first, each with its own
/// number (the parent, if the child is claimed from there), which is a
/// depth-first walk that never goes back to a parent's edges.
///
/// A node's lowest-numbered predecessor is the first numbered node that
/// sees it: until the node is numbered, `num` holds that predecessor + 1
/// (the roots: the virtual root, 0 + 1).
fn walk(
    g: &HeapGraph,
    roots: &[NodeIndex],
    progress: &mut dyn Progress,
) -> Result<Walk, Cancelled> {
    let n = g.node_count();
    let mut forest: BlockVec<[u32; 2]> = BlockVec::new();
    let mut num = BlockVec::from_elem(0u32, n);
    let mut states = States::new(n);
    forest.push([0, 0]);
    let mut back = BackEdges::new(n, g.edge_count());
    let mut stack: BlockVec<(NodeIndex, u32)> = BlockVec::new();
    for &r in roots {
        states.set(r, TOUCHED);
        num[r as usize] = 1;
    }
    let mut count = 0u32;
    for &r in roots {
        stack.push((r, 0));
        while let Some((mut x, mut parent)) = stack.pop() {
            if states.get(x) & CLAIMED != 0 {
                continue;
            }
            states.set(x, CLAIMED);
            // Go straight down to the first unclaimed child; push the others.
            loop {
                count += 1;
                let v = count;
                forest.push([parent, num[x as usize] - 1]);
                num[x as usize] = v;
                if v & (CHECK_EVERY - 1) == 0 {
                    progress.update(Phase::RetainedSizes, v as u64 / 4, n as u64)?;
                }
                let mut next = None;
                let mut grouped = false;
                for &c in g.children(x).iter().rev() {
                    let s = states.get(c);
                    if s & CLAIMED != 0 {
                        if !grouped {
                            back.start(v);
                            grouped = true;
                        }
                        back.push(c);
                    } else {
                        if s & TOUCHED == 0 {
                            states.set(c, TOUCHED);
                            num[c as usize] = v + 1;
                        }
                        if let Some(prev) = next.replace(c) {
                            stack.push((prev, v));
                        }
                    }
                }
                match next {
                    Some(c) => {
                        states.set(c, CLAIMED);
                        parent = v;
                        x = c;
                    }
                    None => break,
                }
            }
        }
    }
    Ok(Walk { num, forest, back })
}

/// Edges `v -> w` with `v > w` (in preorder numbers), grouped by `w`, for
/// `w` from high to low: the sources packed two to a `u64`, a bit per `w`
/// that has queries, and a bit per query that starts its group.
struct Queries {
    packed: Vec<u64>,
    len: usize,
    has: Bits,
    first: Bits,
}

impl Queries {
    /// Sorts `(w << 32 | v)` pairs and packs them in place, leaving out
    /// self-loops (`v == w`).
    fn pack(mut pairs: Vec<u64>, vertices: usize) -> Self {
        pairs.sort_unstable();
        let mut has = Bits::new(vertices);
        let mut first = Bits::new(pairs.len());
        let mut prev_w = u32::MAX;
        let mut len = 0;
        for k in 0..pairs.len() {
            let (w, v) = ((pairs[k] >> 32) as u32, pairs[k] as u32);
            if w == v {
                continue;
            }
            has.set(w);
            if w != prev_w {
                first.set(len as u32);
                prev_w = w;
            }
            // Slot len / 2 has been read already (len / 2 <= k).
            let slot = &mut pairs[len / 2];
            if len.is_multiple_of(2) {
                *slot = v as u64;
            } else {
                *slot |= (v as u64) << 32;
            }
            len += 1;
        }
        pairs.truncate(len.div_ceil(2));
        pairs.shrink_to_fit();
        first.truncate(len);
        Queries {
            packed: pairs,
            len,
            has,
            first,
        }
    }

    /// The source of query `k` (queries are taken from the highest `k`).
    #[inline]
    fn source(&self, k: usize) -> u32 {
        (self.packed[k / 2] >> (32 * (k % 2))) as u32
    }

    /// True if `w` has queries.
    #[inline]
    fn has(&self, w: u32) -> bool {
        self.has.get(w)
    }

    /// Removes the next query: its source and whether it was the last of
    /// its target's (queries come out by target, high to low). The query
    /// taken next after it is `self.len - 1`.
    #[inline]
    fn pop(&mut self) -> (u32, bool) {
        self.len -= 1;
        let k = self.len;
        (self.source(k), self.first.get(k as u32))
    }

    /// Returns the memory of the queries taken (natively; wasm memory does
    /// not shrink, and there a shrink would copy).
    fn shrink(&mut self) {
        if !cfg!(target_arch = "wasm32") {
            self.packed.truncate(self.len.div_ceil(2));
            self.packed.shrink_to_fit();
            self.first.truncate(self.len);
        }
    }
}

/// How many queries ahead the semi-dominator loop loads the forest entry of
/// a query's source (first), then of its ancestor, and so on up the path
/// the query's evaluation will take: one load per stage, so that the cache
/// and TLB misses of a dozen evaluations overlap instead of following each
/// other. Plain loads (safe Rust has no prefetch instruction); each stage's
/// result waits in a ring for the next.
const LOOKAHEAD: [usize; 6] = [48, 40, 32, 24, 16, 8];
/// Ring of the lookahead's ancestors, by query index (more than
/// `LOOKAHEAD[0]` entries).
const RING: usize = 64;

/// Depth-first parents, a byte each (`w - parent(w)`, or 0 when that does
/// not fit: then the parent is in `far`, pushed for `w` from high to low).
struct Parents {
    near: Vec<u8>,
    far: Vec<u32>,
}

impl Parents {
    #[inline]
    fn set(&mut self, w: u32, parent: u32) {
        match u8::try_from(w - parent) {
            Ok(d) => self.near[w as usize] = d,
            Err(_) => self.far.push(parent),
        }
    }
}

/// Computes the immediate dominator of every object reachable from the
/// roots, and their retained sizes. Progress phases: `"dominators:
/// numbering"` (in nodes of the graph), `"dominators: semi-dominators"`,
/// `"dominators: tree"` and `"dominators: retained sizes"` (in reachable
/// nodes).
pub fn dominators(g: &HeapGraph, progress: &mut dyn Progress) -> Result<Dominators, Cancelled> {
    let n = g.node_count();
    assert!((n as u64) < ROOT as u64, "graph too large");
    let roots = live_roots(g);

    // 1. Depth-first numbers, parents, lowest predecessors, back edges.
    let Walk {
        num,
        mut forest,
        back,
    } = walk(g, &roots, progress)?;
    let r = forest.len() - 1;

    // 2. Queries. The numbers are not needed after them: what is indexed
    //    by node later walks the graph again in the same order.
    progress.update(Phase::RetainedSizes, r as u64 / 4, r as u64)?;
    let mut queries = Queries::pack(back.into_pairs(&num), r + 1);
    drop(num);

    // 3. Semi-dominators, in reverse preorder. The forest links every
    //    processed vertex to its parent (then farther up, as paths are
    //    halved) and keeps its label: the smallest semi-dominator on the
    //    path to its ancestor (until then, the slot held the candidate
    //    from lower-numbered predecessors). A vertex's parent is saved when
    //    it is processed, before the first link from it is halved.
    let mut semi = BlockVec::from_elem(0u32, r + 1);
    let mut parents = Parents {
        near: vec![0; r + 1],
        far: Vec::new(),
    };
    let mut ring = [0u32; RING];
    for w in (1..=r as u32).rev() {
        let [parent, mut s] = forest[w as usize];
        parents.set(w, parent);
        if queries.has(w) {
            loop {
                let (v, last) = queries.pop();
                let k = queries.len;
                if let Some(j) = k.checked_sub(LOOKAHEAD[0]) {
                    ring[j % RING] = forest[queries.source(j) as usize][0];
                }
                for &ahead in &LOOKAHEAD[1..] {
                    if let Some(j) = k.checked_sub(ahead) {
                        let a = &mut ring[j % RING];
                        *a = forest[*a as usize][0];
                    }
                }
                s = s.min(eval(&mut forest, v, w + 1));
                if last {
                    break;
                }
            }
        }
        forest[w as usize][1] = s;
        semi[w as usize] = s;
        if w & (CHECK_EVERY - 1) == 0 {
            if w & 0xF_FFFF == 0 {
                queries.shrink();
            }
            // The numbering was the first quarter; this is the second.
            progress.update(
                Phase::RetainedSizes,
                (r as u64 + (r as u32 - w) as u64) / 4,
                r as u64,
            )?;
        }
    }
    std::hint::black_box(ring);
    drop(queries);
    drop(forest);

    // 4. In preorder, the immediate dominator is the nearest common
    //    ancestor of the parent and the semi-dominator in the dominator
    //    tree built so far. `semi` becomes `idom` in place.
    progress.update(Phase::RetainedSizes, r as u64 / 2, r as u64)?;
    let Parents { near, mut far } = parents;
    let mut idom = semi;
    for w in 1..=r {
        if w as u32 & (CHECK_EVERY - 1) == 0 {
            progress.update(Phase::RetainedSizes, (2 * r + w) as u64 / 4, r as u64)?;
        }
        let s = idom[w];
        let mut d = match near[w] {
            0 => far.pop().unwrap_or(0),
            delta => w as u32 - delta as u32,
        };
        while d > s {
            d = idom[d as usize];
        }
        idom[w] = d;
    }
    drop(near);
    drop(far);

    // 5. The node-indexed immediate dominators, the graph walked again in
    //    the same preorder: at position `i` (number `i + 1`) is node `x`.
    //    `idom` becomes the preorder in place: a dominator is numbered
    //    before what it dominates, so its entry already holds its node.
    progress.update(Phase::RetainedSizes, 3 * r as u64 / 4, r as u64)?;
    let mut by_node = BlockVec::from_elem(UNREACHABLE, n);
    let mut order = idom;
    preorder_walk(g, &roots, |x, i| {
        let v = i + 1;
        let d = order[v] as usize;
        by_node[x as usize] = if d == 0 { ROOT } else { order[d] };
        order[v] = x;
        if v as u32 & (CHECK_EVERY - 1) == 0 {
            progress.update(Phase::RetainedSizes, (6 * r + v) as u64 / 8, r as u64)?;
        }
        Ok(())
    })?;

    // 6. Retained sizes, by node: in reverse preorder, every node has
    //    received its dominator-tree children's totals when it is reached
    //    (0 for a leaf), adds its own size and passes the sum to its
    //    immediate dominator (one pass: no own sizes set beforehand).
    progress.update(Phase::RetainedSizes, 7 * r as u64 / 8, r as u64)?;
    let mut sizes = Sizes {
        small: BlockVec::from_elem(0, n),
        big: HashMap::new(),
    };
    let mut reachable = 0u64;
    // `order` has `r + 1` entries; entry 0 is the virtual root's.
    for (&x, i) in order.iter().rev().zip((1..=r).rev()) {
        if i as u32 & (CHECK_EVERY - 1) == 0 {
            progress.update(Phase::RetainedSizes, (8 * r - i) as u64 / 8, r as u64)?;
        }
        let total = sizes.get(x) + g.node_size(x);
        sizes.set(x, total);
        match by_node[x as usize] {
            ROOT => reachable += total,
            d => sizes.set(d, sizes.get(d) + total),
        }
    }
    drop(order);
    progress.update(Phase::RetainedSizes, r as u64, r as u64)?;
    Ok(Dominators {
        idom: by_node,
        reachable: r,
        retained: RetainedSizes::new(sizes.small, sizes.big, reachable),
    })
}

/// Sizes of 4 bytes by node, larger ones (`u32::MAX` and up) in a map.
struct Sizes {
    small: BlockVec<u32>,
    big: HashMap<u32, u64>,
}

impl Sizes {
    #[inline]
    fn get(&self, i: u32) -> u64 {
        match self.small[i as usize] {
            u32::MAX => self.get_big(i),
            s => s as u64,
        }
    }
    #[cold]
    fn get_big(&self, i: u32) -> u64 {
        self.big.get(&i).copied().unwrap_or(u32::MAX as u64)
    }
    #[inline]
    fn set(&mut self, i: u32, v: u64) {
        if v < u32::MAX as u64 {
            self.small[i as usize] = v as u32;
        } else {
            self.small[i as usize] = u32::MAX;
            self.big.insert(i, v);
        }
    }
}

/// The smallest semi-dominator on the path from `v` up to its highest
/// linked ancestor (vertices numbered `last_linked` or more are linked),
/// halving the path on the way (each vertex is pointed at its
/// grandparent, absorbing its parent's label): one pass, no stack.
/// `forest[x]` is `[ancestor, label]`.
#[inline]
fn eval(forest: &mut BlockVec<[u32; 2]>, v: u32, last_linked: u32) -> u32 {
    let mut x = v as usize;
    let mut best = u32::MAX;
    loop {
        let [a, lx] = forest[x];
        if a < last_linked {
            return best.min(lx);
        }
        let [aa, la] = forest[a as usize];
        let mut up = a;
        let mut l = lx;
        if aa >= last_linked {
            l = l.min(la);
            forest[x] = [aa, l];
            up = aa;
        }
        best = best.min(l);
        x = up as usize;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_graph::{GraphBuilder, NoProgress, RootKind, TypeInfo, TypeKind};

    fn graph(edges: &[&[u32]], roots: &[(u32, RootKind)]) -> HeapGraph {
        let mut b = GraphBuilder::new();
        let t = b.add_type(TypeInfo {
            name: "T".into(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
        for e in edges {
            b.add_node(t, 8, 0, e.iter().copied()).unwrap();
        }
        for &(r, k) in roots {
            b.add_root(r, k, None);
        }
        b.finish().unwrap()
    }

    #[test]
    fn diamond_and_weak_roots() {
        // 0 -> 1, 0 -> 2, 1 -> 3, 2 -> 3, 3 -> 4; 5 held weakly only; 6 -> 4.
        let g = graph(
            &[&[1, 2], &[3], &[3], &[4], &[], &[], &[4]],
            &[(0, RootKind::Static), (5, RootKind::WeakHandle)],
        );
        let d = dominators(&g, &mut NoProgress).unwrap();
        assert_eq!(d.idom(0), Some(Dominator::Root));
        assert_eq!(d.idom(1), Some(Dominator::Node(0)));
        assert_eq!(d.idom(3), Some(Dominator::Node(0)));
        assert_eq!(d.idom(4), Some(Dominator::Node(3)));
        assert_eq!(d.idom(5), None);
        assert_eq!(d.idom(6), None);
        assert_eq!(d.reachable_count(), 5);
        assert!(d.dominates(0, 4) && d.dominates(3, 4) && !d.dominates(1, 3));
        assert_eq!(d.preorder(&g), &[0, 1, 3, 4, 2]);
        assert_eq!(d.retained().get(0), 40);
        assert_eq!(d.retained().get(3), 16);
        assert_eq!(d.retained().get(5), 0);
    }

    #[test]
    fn two_roots_share_an_object() {
        let g = graph(
            &[&[2], &[2], &[]],
            &[(0, RootKind::Stack), (1, RootKind::StrongHandle)],
        );
        let d = dominators(&g, &mut NoProgress).unwrap();
        assert_eq!(d.idom(2), Some(Dominator::Root));
    }

    #[test]
    fn walk_records_parents_lowest_predecessors_and_back_edges() {
        // 0 -> [1, 2], 1 -> [2, 0], 2 -> [2, 1]; roots 0 and 2.
        let g = graph(
            &[&[1, 2], &[2, 0], &[2, 1]],
            &[(0, RootKind::Static), (2, RootKind::Static)],
        );
        let w = walk(&g, &[0, 2], &mut NoProgress).unwrap();
        let num: Vec<u32> = w.num.iter().copied().collect();
        assert_eq!(num, vec![1, 2, 3]);
        // 2 is reached from 1 (its parent); its lowest predecessor is the
        // virtual root, as for every root.
        let forest: Vec<[u32; 2]> = w.forest.iter().copied().collect();
        assert_eq!(forest, vec![[0, 0], [0, 0], [1, 1], [2, 0]]);
        let pairs = w.back.into_pairs(&w.num);
        // 1 -> 0 (2 -> 1); 2 -> 2 (3 -> 3), 2 -> 1 (3 -> 2), last-first.
        assert_eq!(pairs, vec![1 << 32 | 2, 2 << 32 | 3, 3 << 32 | 3]);
    }

    #[test]
    fn the_preorder_walked_again_is_the_numbering() {
        // Pseudo-random graphs (duplicate edges, self-loops, unreachable
        // nodes, a root listed twice): the walk in preorder meets the nodes
        // in the order `walk` numbered them, which the tree was computed in.
        let mut rng = heaplens_corpus::patched::Rng(0x2545_f491_4f6c_dd1du64);
        let mut next = |m: u64| rng.below(m) as u32;
        for case in 0..200 {
            let n = 1 + next(40);
            let lists: Vec<Vec<u32>> = (0..n)
                .map(|_| (0..next(4)).map(|_| next(n as u64)).collect())
                .collect();
            let edges: Vec<&[u32]> = lists.iter().map(Vec::as_slice).collect();
            let mut roots: Vec<(u32, RootKind)> = (0..1 + next(3))
                .map(|_| (next(n as u64), RootKind::Static))
                .collect();
            roots.push(roots[0]);
            let g = graph(&edges, &roots);
            let w = walk(&g, &live_roots(&g), &mut NoProgress).unwrap();
            let mut want = vec![0; w.forest.len() - 1];
            for (x, &v) in w.num.iter().enumerate() {
                if v != 0 {
                    want[v as usize - 1] = x as u32;
                }
            }
            let d = dominators(&g, &mut NoProgress).unwrap();
            assert_eq!(d.preorder(&g), want, "case {case}");
            assert_eq!(d.reachable_count(), want.len(), "case {case}");
        }
    }

    #[test]
    fn bits_find_the_previous_set_bit() {
        let mut b = Bits::new(200);
        assert_eq!(b.prev_set(199), None);
        b.set(3);
        b.set(64);
        b.set(130);
        assert_eq!(b.prev_set(199), Some(130));
        assert_eq!(b.prev_set(130), Some(130));
        assert_eq!(b.prev_set(129), Some(64));
        assert_eq!(b.prev_set(63), Some(3));
        assert_eq!(b.prev_set(2), None);
    }

    #[test]
    fn eval_halves_paths_without_a_stack() {
        // Path 1 <- 2 <- 3 <- 4 (ancestor pointers), all linked from 2 on.
        let mut forest = BlockVec::new();
        for e in [[0, 0], [0, 1], [1, 5], [2, 1], [3, 7]] {
            forest.push(e);
        }
        assert_eq!(eval(&mut forest, 4, 2), 1);
        // 4 now skips 3 (and took its label); 2 is the top.
        let now: Vec<[u32; 2]> = forest.iter().copied().collect();
        assert_eq!(now, vec![[0, 0], [0, 1], [1, 5], [2, 1], [2, 1]]);
        assert_eq!(eval(&mut forest, 4, 2), 1);
        // Unlinked parent: the label itself.
        assert_eq!(eval(&mut forest, 2, 2), 5);
    }

    #[test]
    fn queries_pack_and_come_out_by_target() {
        let pairs = vec![
            3u64 << 32 | 9,
            1 << 32 | 7,
            3 << 32 | 8,
            2 << 32 | 5,
            5 << 32 | 5,
            3 << 32 | 4,
        ];
        let mut q = Queries::pack(pairs, 10);
        let mut got = Vec::new();
        assert_eq!(q.packed.len(), 3);
        assert_eq!(q.source(q.len - 2), 8);
        for w in (0..10).rev() {
            if q.has(w) {
                loop {
                    let (v, last) = q.pop();
                    got.push((w, v));
                    if last {
                        break;
                    }
                }
                // Taken queries can be given back at any time.
                q.shrink();
            }
        }
        // The self-loop 5 -> 5 is left out.
        assert_eq!(got, vec![(3, 9), (3, 8), (3, 4), (2, 5), (1, 7)]);
        assert_eq!(q.len, 0);
    }
}
