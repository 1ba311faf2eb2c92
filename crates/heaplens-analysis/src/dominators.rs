//! The dominator tree of a heap graph.
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
//! call stack. It is arranged for memory and for memory latency (the cost
//! on big heaps is cache misses, not instructions):
//!
//! 1. one depth-first walk numbers the reachable nodes (preorder);
//! 2. one sequential pass over the edges finds each node's semi-dominator
//!    candidates from lower-numbered predecessors and its depth-first
//!    parent — in a depth-first preorder every lower-numbered predecessor
//!    of `w` is an ancestor of `w`, so the parent is the highest of them —
//!    and collects the other edges as queries, sorted by target and packed
//!    to about 4 bytes each;
//! 3. semi-dominators in reverse preorder, with path halving (no stack);
//! 4. the parents again (the forest of step 3 overwrote them) by the same
//!    pass, then each immediate dominator as the nearest common ancestor of
//!    the parent and the semi-dominator, in preorder.
//!
//! Besides the graph, at most four `u32` arrays and the packed queries are
//! alive at a time.

use heaplens_graph::{Cancelled, HeapGraph, NodeIndex, Progress};

/// The immediate dominator of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dominator {
    /// The virtual root: no single object keeps this one alive (it is a
    /// root itself, or reachable from several roots by separate paths).
    Root,
    /// This object.
    Node(NodeIndex),
}

/// Immediate dominators of every object reachable from the roots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dominators {
    /// Per node: its immediate dominator, [`ROOT`] or [`UNREACHABLE`].
    idom: Vec<u32>,
    /// Reachable nodes in depth-first preorder from the roots: every node
    /// comes after its immediate dominator.
    order: Vec<NodeIndex>,
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

    /// True if a root that keeps its object alive reaches `n`.
    pub fn is_reachable(&self, n: NodeIndex) -> bool {
        self.idom[n as usize] != UNREACHABLE
    }

    /// Number of nodes reachable from the roots.
    pub fn reachable_count(&self) -> usize {
        self.order.len()
    }

    /// Number of nodes of the graph.
    pub fn node_count(&self) -> usize {
        self.idom.len()
    }

    /// The reachable nodes, each after its immediate dominator (depth-first
    /// preorder from the roots). Walk it backwards to sum over subtrees of
    /// the dominator tree.
    pub fn preorder(&self) -> &[NodeIndex] {
        &self.order
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

    /// Heap memory held, in bytes.
    pub fn memory_bytes(&self) -> usize {
        (self.idom.capacity() + self.order.capacity()) * 4
    }
}

/// A bit per node.
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
}

/// The objects of the roots that keep their object alive, in root order.
pub(crate) fn live_roots(g: &HeapGraph) -> Vec<NodeIndex> {
    g.roots()
        .iter()
        .filter(|r| r.kind.keeps_alive())
        .map(|r| r.object)
        .collect()
}

/// Numbers the nodes reachable from `roots` in depth-first preorder from 1
/// (0 is the virtual root, whose children are `roots` in order; a node's
/// children are its edges in order). Nodes are marked when popped, and a
/// popped node pushes its unmarked children last-first, which is a
/// depth-first walk that never goes back to a parent's edges. Returns the
/// numbers (0: not reached) and how many were reached.
pub(crate) fn preorder_numbers(
    g: &HeapGraph,
    roots: &[NodeIndex],
    progress: &mut dyn Progress,
    phase: &str,
) -> Result<(Vec<u32>, u32), Cancelled> {
    let n = g.node_count();
    let mut num = vec![0u32; n];
    let mut seen = Bits::new(n);
    let mut stack: Vec<NodeIndex> = Vec::new();
    let mut count = 0u32;
    for &r in roots {
        stack.push(r);
        while let Some(mut x) = stack.pop() {
            if seen.set(x) {
                continue;
            }
            // Go straight down to the first unseen child; push the others.
            loop {
                count += 1;
                num[x as usize] = count;
                if count & 0xF_FFFF == 0 {
                    progress.update(phase, count as u64, n as u64)?;
                }
                let mut next = None;
                for &c in g.children(x).iter().rev() {
                    if !seen.get(c) {
                        if let Some(prev) = next.replace(c) {
                            stack.push(prev);
                        }
                    }
                }
                match next {
                    Some(c) => {
                        seen.set(c);
                        x = c;
                    }
                    None => break,
                }
            }
        }
    }
    Ok((num, count))
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
    /// Packs `(w << 32 | v)` pairs in place.
    fn pack(mut pairs: Vec<u64>, vertices: usize) -> Self {
        pairs.sort_unstable();
        let len = pairs.len();
        let mut has = Bits::new(vertices);
        let mut first = Bits::new(len);
        let mut prev_w = u32::MAX;
        for k in 0..len {
            let (w, v) = ((pairs[k] >> 32) as u32, pairs[k] as u32);
            has.set(w);
            if w != prev_w {
                first.set(k as u32);
                prev_w = w;
            }
            // Slot k / 2 has been read already (k / 2 <= k).
            let slot = &mut pairs[k / 2];
            if k % 2 == 0 {
                *slot = v as u64;
            } else {
                *slot |= (v as u64) << 32;
            }
        }
        pairs.truncate(len.div_ceil(2));
        pairs.shrink_to_fit();
        Queries {
            packed: pairs,
            len,
            has,
            first,
        }
    }

    /// The source of the query `back` places before the next one to be
    /// taken, if any.
    #[inline]
    fn peek(&self, back: usize) -> Option<u32> {
        let k = self.len.checked_sub(1 + back)?;
        Some((self.packed[k / 2] >> (32 * (k % 2))) as u32)
    }

    /// True if `w` has queries.
    #[inline]
    fn has(&self, w: u32) -> bool {
        self.has.get(w)
    }

    /// Removes the next query: its source and whether it was the last of
    /// its target's (queries come out by target, high to low).
    #[inline]
    fn pop(&mut self) -> (u32, bool) {
        self.len -= 1;
        let k = self.len;
        let v = (self.packed[k / 2] >> (32 * (k % 2))) as u32;
        (v, self.first.get(k as u32))
    }
}

/// One pass over the edges of the reachable nodes, in node order: calls
/// `lower(w, v)` for every edge `v -> w` from a lower-numbered `v` (the
/// highest such `v` is w's depth-first parent, the lowest a semi-dominator
/// candidate), and, with `higher`, pushes the pairs `(w, v)` of the edges
/// from higher-numbered `v`.
fn scan_edges(
    g: &HeapGraph,
    num: &[u32],
    mut lower: impl FnMut(usize, u32),
    mut higher: Option<&mut Vec<u64>>,
) {
    for (x, &v) in num.iter().enumerate() {
        if v == 0 {
            continue;
        }
        for &c in g.children(x as NodeIndex) {
            let w = num[c as usize];
            if v < w {
                lower(w as usize, v);
            } else if v > w {
                if let Some(q) = &mut higher {
                    q.push((w as u64) << 32 | v as u64);
                }
            }
        }
    }
}

/// How many queries ahead the semi-dominator loop loads the forest entry of
/// the vertex it will need first (stage 1), and of that vertex's ancestor
/// (stage 2), so that the cache misses of several evals overlap instead of
/// following each other.
const LOOKAHEAD: (usize, usize) = (16, 8);

/// Computes the immediate dominator of every object reachable from the
/// roots. Progress phases: `"dominators: numbering"`, `"dominators:
/// semi-dominators"`, `"dominators: tree"`, in nodes.
pub fn dominators(g: &HeapGraph, progress: &mut dyn Progress) -> Result<Dominators, Cancelled> {
    let n = g.node_count();
    assert!((n as u64) < ROOT as u64, "graph too large");
    let roots = live_roots(g);

    // 1. Depth-first numbers.
    let (num, r) = preorder_numbers(g, &roots, progress, "dominators: numbering")?;
    let r = r as usize;

    // 2. Parents, semi-dominator candidates, queries. `forest[w]` holds
    //    w's depth-first parent and its lowest lower-numbered predecessor,
    //    side by side (one cache line per edge). Every root object also
    //    hangs from the virtual root (0).
    progress.update("dominators: semi-dominators", 0, r as u64)?;
    let mut forest: Vec<[u32; 2]> = (0..=r as u32).map(|w| [0, w]).collect();
    // Natively, room for every edge up front (no reallocation, and pages
    // never written cost no memory); wasm memory is committed as it grows.
    let mut pairs: Vec<u64> = if cfg!(target_arch = "wasm32") {
        Vec::new()
    } else {
        Vec::with_capacity(g.edge_count())
    };
    scan_edges(
        g,
        &num,
        |w, v| {
            let f = &mut forest[w];
            f[0] = f[0].max(v);
            f[1] = f[1].min(v);
        },
        Some(&mut pairs),
    );
    for &x in &roots {
        forest[num[x as usize] as usize][1] = 0;
    }
    let mut queries = Queries::pack(pairs, r + 1);

    // 3. Semi-dominators, in reverse preorder. The forest links every
    //    processed vertex to its parent (then farther up, as paths are
    //    halved) and keeps its label: the smallest semi-dominator on the
    //    path to its ancestor (until then, the slot held the candidate).
    let mut semi = vec![0u32; r + 1];
    let mut sink = 0u32;
    for w in (1..=r as u32).rev() {
        let mut s = forest[w as usize][1];
        if queries.has(w) {
            loop {
                let (v, last) = queries.pop();
                // Plain loads whose values are folded into `sink`: they
                // start cache misses early (safe Rust has no prefetch).
                if let Some(far) = queries.peek(LOOKAHEAD.0) {
                    sink ^= forest[far as usize][0];
                }
                if let Some(near) = queries.peek(LOOKAHEAD.1) {
                    sink ^= forest[forest[near as usize][0] as usize][0];
                }
                s = s.min(eval(&mut forest, v, w + 1));
                if last {
                    break;
                }
            }
        }
        forest[w as usize][1] = s;
        semi[w as usize] = s;
        if w & 0xF_FFFF == 0 {
            progress.update(
                "dominators: semi-dominators",
                (r as u32 - w) as u64,
                r as u64,
            )?;
        }
    }
    std::hint::black_box(sink);
    drop(queries);
    drop(forest);

    // 4. Parents again (the forest overwrote them); then, in preorder, the
    //    immediate dominator is the nearest common ancestor of the parent
    //    and the semi-dominator in the dominator tree built so far. `semi`
    //    becomes `idom` in place.
    progress.update("dominators: tree", 0, r as u64)?;
    let mut parent = vec![0u32; r + 1];
    scan_edges(g, &num, |w, v| parent[w] = parent[w].max(v), None);
    let mut idom = semi;
    for w in 1..=r {
        let s = idom[w];
        let mut d = parent[w];
        while d > s {
            d = idom[d as usize];
        }
        idom[w] = d;
    }
    drop(parent);

    // 5. Node-indexed immediate dominators.
    let mut order: Vec<NodeIndex> = vec![0; r];
    for (x, &i) in num.iter().enumerate() {
        if i != 0 {
            order[i as usize - 1] = x as NodeIndex;
        }
    }
    drop(num);
    let mut by_node = vec![UNREACHABLE; n];
    for (i, &x) in order.iter().enumerate() {
        let d = idom[i + 1];
        by_node[x as usize] = if d == 0 { ROOT } else { order[d as usize - 1] };
    }
    progress.update("dominators: tree", r as u64, r as u64)?;
    Ok(Dominators {
        idom: by_node,
        order,
    })
}

/// The smallest semi-dominator on the path from `v` up to its highest
/// linked ancestor (vertices numbered `last_linked` or more are linked),
/// halving the path on the way (each vertex is pointed at its
/// grandparent, absorbing its parent's label): one pass, no stack.
/// `forest[x]` is `[ancestor, label]`.
#[inline]
fn eval(forest: &mut [[u32; 2]], v: u32, last_linked: u32) -> u32 {
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
        assert_eq!(d.preorder()[0], 0);
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
    fn eval_halves_paths_without_a_stack() {
        // Path 1 <- 2 <- 3 <- 4 (ancestor pointers), all linked from 2 on.
        let mut forest = vec![[0, 0], [0, 1], [1, 5], [2, 1], [3, 7]];
        assert_eq!(eval(&mut forest, 4, 2), 1);
        // 4 now skips 3 (and took its label); 2 is the top.
        assert_eq!(forest, vec![[0, 0], [0, 1], [1, 5], [2, 1], [2, 1]]);
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
            3 << 32 | 4,
        ];
        let mut q = Queries::pack(pairs, 10);
        let mut got = Vec::new();
        assert_eq!(q.peek(1), Some(8));
        for w in (0..10).rev() {
            if q.has(w) {
                loop {
                    let (v, last) = q.pop();
                    got.push((w, v));
                    if last {
                        break;
                    }
                }
            }
        }
        assert_eq!(got, vec![(3, 9), (3, 8), (3, 4), (2, 5), (1, 7)]);
        assert_eq!(q.peek(0), None);
        assert_eq!(q.packed.len(), 3);
    }
}
