//! PerfView's spanning tree of a heap graph.
//!
//! PerfView turns the graph into a tree with a best-first traversal from the
//! root node (`MemoryGraphStackSource.ForEach`): every node gets the parent
//! that first reached it, explored in order of priority. A node's priority
//! is its type's priority (from `Pattern->Number` entries matched against
//! the type name) plus a tenth of its parent's; equal priorities are
//! explored breadth-first thanks to a small decreasing term. Nodes the
//! traversal cannot reach get the pseudo-parent `[not reachable from
//! roots]`; only the "entry" orphans (those no other orphan reaches) are
//! explored from it.
//!
//! The result matches PerfView node for node only with its arithmetic (f32)
//! and its priority queue (an array heap whose slot `i` has children `2i`
//! and `2i+1`, which breaks ties its own way), both reproduced here.

use super::pattern::{compile, PatternError};
use crate::blocks::BlockVec;
use heaplens_graph::{Cancelled, HeapGraph, NodeIndex, Phase, Progress};
use regex::Regex;

/// PerfView's default priorities (`SpanningTree.DefaultPriorities`). In the
/// viewer they are matched against type names only, so the module patterns
/// never match; the bracketed root categories do.
pub const DEFAULT_PRIORITIES: &str = r"v4.0.30319\%!->-1;v2.0.50727\%!->-1;[*local vars]->-1000;mscorlib!Runtime.CompilerServices.ConditionalWeakTable->-10000;[COM/WinRT Objects]->-1000000;[*handles]->-2000000;[other roots]->-2000000";

/// Type priorities: `Pattern->Number` entries separated by `;`; the first
/// pattern matching a type name gives its priority (0 if none matches).
#[derive(Debug, Clone)]
pub struct Priorities {
    entries: Vec<(Regex, f32)>,
}

impl Default for Priorities {
    fn default() -> Self {
        Priorities::parse(DEFAULT_PRIORITIES).expect("the default priorities are valid")
    }
}

impl Priorities {
    /// Parses a priority list such as [`DEFAULT_PRIORITIES`].
    pub fn parse(spec: &str) -> Result<Self, PatternError> {
        let shape = Regex::new(r"(.*)->(-?\d+.?\d*)").expect("valid");
        let mut entries = Vec::new();
        for item in spec.split(';') {
            let Some(m) = shape.captures(item) else {
                if item.trim().is_empty() {
                    continue;
                }
                return Err(PatternError::BadPriority(item.to_owned()));
            };
            let value: f32 = m[2]
                .parse()
                .map_err(|_| PatternError::BadPriority(item.to_owned()))?;
            entries.push((compile(m[1].trim())?, value));
        }
        Ok(Priorities { entries })
    }

    /// The priority of a type name.
    pub fn of(&self, type_name: &str) -> f32 {
        self.entries
            .iter()
            .find(|(re, _)| re.is_match(type_name))
            .map_or(0.0, |&(_, p)| p)
    }
}

/// A node's parent in the spanning tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parent {
    /// The root node (or a node never reached, which cannot happen).
    None,
    /// A graph node.
    Node(NodeIndex),
    /// The pseudo-node `[not reachable from roots]`.
    NotReachable,
}

/// The spanning tree: a parent for every node and the order in which
/// PerfView visits (emits) the nodes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpanningTree {
    /// Per node: the parent node, [`Self::NO_PARENT`], or the node count
    /// (the `[not reachable from roots]` pseudo-node).
    parent: Vec<u32>,
    order: Vec<NodeIndex>,
}

impl SpanningTree {
    /// The raw parent value of the root node.
    pub const NO_PARENT: u32 = u32::MAX;

    /// Number of nodes of the graph.
    pub fn node_count(&self) -> usize {
        self.parent.len()
    }

    /// The parent of a node.
    pub fn parent(&self, n: NodeIndex) -> Parent {
        match self.parent[n as usize] {
            Self::NO_PARENT => Parent::None,
            p if p as usize == self.parent.len() => Parent::NotReachable,
            p => Parent::Node(p),
        }
    }

    /// Raw parents: a node index, [`Self::NO_PARENT`], or the node count for
    /// `[not reachable from roots]` (the convention of the golden
    /// `*.parents.txt` files, with `-1` for none).
    pub fn raw_parents(&self) -> &[u32] {
        &self.parent
    }

    /// Nodes in the order PerfView visits them (a parent always comes
    /// before its children).
    pub fn order(&self) -> &[NodeIndex] {
        &self.order
    }

    /// The raw parents and the visit order, taken apart (a consumer may
    /// reuse the parents' memory).
    pub fn into_parts(self) -> (Vec<u32>, Vec<NodeIndex>) {
        (self.parent, self.order)
    }
}

/// PerfView's priority queue: a binary max-heap in an array where slot `i`'s
/// parent is `i / 2` (so slot 0's only child is slot 1). Each entry carries
/// the node's own priority beside its key (PerfView keeps it in an array
/// by node; carried here, it costs the frontier's size, not the graph's).
///
/// The array is a [`BlockVec`]: the frontier can hold a good part of the
/// heap at once (16–33 M entries on a 50 M object core), and a `Vec`
/// doubling to that size would need one free range of its whole size.
struct PerfViewQueue {
    heap: BlockVec<Entry>,
}

/// A queued node: its key, its own priority, the node.
type Entry = (f32, f32, NodeIndex);

impl PerfViewQueue {
    fn new() -> Self {
        PerfViewQueue {
            heap: BlockVec::new(),
        }
    }

    fn push(&mut self, item: NodeIndex, key: f32, priority: f32) {
        // Sifted up as PerfView swaps, with the new entry held aside and
        // written once where it stops.
        let entry = (key, priority, item);
        let mut idx = self.heap.len();
        self.heap.push(entry);
        while idx > 0 {
            let parent = idx / 2;
            let up = self.heap[parent];
            if up.0 >= key {
                break;
            }
            self.heap[idx] = up;
            idx = parent;
        }
        self.heap[idx] = entry;
    }

    /// The node with the largest key and its own priority.
    fn pop(&mut self) -> Option<(NodeIndex, f32)> {
        let last = self.heap.pop()?;
        let count = self.heap.len();
        if count == 0 {
            return Some((last.2, last.1));
        }
        // Sifted down as PerfView swaps (the larger child, the left one on
        // a tie; slot 0's only child is slot 1), with `last` held aside and
        // written once where it stops. The first levels, while both
        // children are in the first block, on that block as a slice (no
        // block look-up: most of a sift, and the hottest entries).
        let first = self.heap.chunks_mut().next().expect("not empty");
        let ret = first[0];
        let mut idx = 0;
        while idx * 2 + 1 < first.len() {
            let child = idx * 2;
            let mut up = last;
            let mut largest = idx;
            if child > idx && first[child].0 > up.0 {
                (largest, up) = (child, first[child]);
            }
            if first[child + 1].0 > up.0 {
                (largest, up) = (child + 1, first[child + 1]);
            }
            if largest == idx {
                first[idx] = last;
                return Some((ret.2, ret.1));
            }
            first[idx] = up;
            idx = largest;
        }
        // Farther down: both children share a block, one look-up.
        loop {
            let child = idx * 2;
            let (block, j) = self.heap.block_at(child);
            let mut up = last;
            let mut largest = idx;
            if child > idx {
                if let Some(&e) = block.get(j) {
                    if e.0 > up.0 {
                        (largest, up) = (child, e);
                    }
                }
            }
            if let Some(&e) = block.get(j + 1) {
                if e.0 > up.0 {
                    (largest, up) = (child + 1, e);
                }
            }
            if largest == idx {
                break;
            }
            self.heap[idx] = up;
            idx = largest;
        }
        self.heap[idx] = last;
        Some((ret.2, ret.1))
    }
}

const INVALID: u32 = u32::MAX;
const ORPHAN_VISITED: u32 = u32::MAX - 1;
const ORPHAN_VISITING: u32 = u32::MAX - 2;

/// A graph as the spanning tree walks it: nodes `0..node_count()`, each
/// with its children and its type's priority, and a root node. A
/// [`HeapGraph`] is one (its root node, its types' priorities);
/// [`super::rooted::RootedView`] is another (a graph without a root node,
/// under pseudo-nodes made from its roots).
pub trait SpanningGraph {
    /// Number of nodes.
    fn node_count(&self) -> usize;
    /// The root node, if there is one.
    fn root(&self) -> Option<NodeIndex>;
    /// The children of a node, in order.
    fn children(&self, n: NodeIndex) -> &[NodeIndex];
    /// The priority of a node's type.
    fn type_priority(&self, n: NodeIndex) -> f32;
}

/// A heap graph with its types' priorities.
struct GraphWithPriorities<'g> {
    g: &'g HeapGraph,
    priority: Vec<f32>,
}

impl SpanningGraph for GraphWithPriorities<'_> {
    fn node_count(&self) -> usize {
        self.g.node_count()
    }
    fn root(&self) -> Option<NodeIndex> {
        self.g.root_node()
    }
    fn children(&self, n: NodeIndex) -> &[NodeIndex] {
        self.g.children(n)
    }
    fn type_priority(&self, n: NodeIndex) -> f32 {
        self.priority[self.g.node_type(n) as usize]
    }
}

/// What the traversal does with nodes its root does not reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Orphans {
    /// PerfView's way: they hang from `[not reachable from roots]`.
    Include,
    /// They are left out: no parent, not in the visit order (for a graph
    /// of a whole heap, whose unreachable objects are garbage).
    Exclude,
}

/// Computes PerfView's spanning tree from the graph's root node (if it has
/// none, every node is an orphan). Reports progress as phase
/// `"spanning tree"` in nodes.
pub fn spanning_tree(
    g: &HeapGraph,
    priorities: &Priorities,
    progress: &mut dyn Progress,
) -> Result<SpanningTree, Cancelled> {
    spanning_tree_with(g, priorities, Orphans::Include, progress)
}

/// [`spanning_tree`] with what to do about orphans.
pub fn spanning_tree_with(
    g: &HeapGraph,
    priorities: &Priorities,
    orphans: Orphans,
    progress: &mut dyn Progress,
) -> Result<SpanningTree, Cancelled> {
    let view = GraphWithPriorities {
        g,
        priority: g.types().iter().map(|t| priorities.of(&t.name)).collect(),
    };
    spanning_tree_of(&view, orphans, progress)
}

/// PerfView's spanning tree of any [`SpanningGraph`]. With
/// [`Orphans::Exclude`], nodes the root does not reach keep no parent
/// ([`Parent::None`]) and are not visited.
pub fn spanning_tree_of(
    g: &impl SpanningGraph,
    orphans: Orphans,
    progress: &mut dyn Progress,
) -> Result<SpanningTree, Cancelled> {
    let n = g.node_count();
    assert!(
        (n as u64) < ORPHAN_VISITING as u64,
        "graph too large for a spanning tree"
    );
    let root = g.root();
    // One extra slot: the `[not reachable from roots]` pseudo-node.
    let mut parent = vec![INVALID; n + 1];
    let mut order: Vec<NodeIndex> = Vec::with_capacity(n);
    let mut queue = PerfViewQueue::new();
    if let Some(r) = root {
        queue.push(r, 0.0, 0.0);
    }
    let epsilon = 1e-7f32;
    let mut ordinal = 0f32;
    let mut scanned_for_orphans = orphans == Orphans::Exclude;
    loop {
        let (node, parent_priority) = match queue.pop() {
            Some(x) => x,
            None => {
                if scanned_for_orphans {
                    break;
                }
                scanned_for_orphans = true;
                add_orphans(g, root, &mut parent, &mut queue);
                match queue.pop() {
                    Some(x) => x,
                    None => break,
                }
            }
        };
        for &child in g.children(node) {
            if parent[child as usize] == INVALID && Some(child) != root {
                parent[child as usize] = node;
                let p = g.type_priority(child) + parent_priority / 10.0;
                ordinal += epsilon;
                queue.push(child, p - ordinal, p);
            }
        }
        order.push(node);
        if order.len() & 0xFFFF == 0 {
            progress.update(Phase::SpanningTree, order.len() as u64, n as u64)?;
        }
    }
    progress.update(Phase::SpanningTree, n as u64, n as u64)?;
    // Nodes never reached keep INVALID, which is NO_PARENT.
    parent.truncate(n);
    Ok(SpanningTree { parent, order })
}

/// PerfView's `AddOrphansToQueue`: marks every node reachable from another
/// parentless node (ignoring arcs that close cycles), then queues the
/// unmarked parentless nodes under the pseudo-parent.
fn add_orphans(
    g: &impl SpanningGraph,
    root: Option<NodeIndex>,
    parent: &mut [u32],
    queue: &mut PerfViewQueue,
) {
    let n = g.node_count();
    let mut work: Vec<NodeIndex> = Vec::new();
    for i in 0..n {
        if parent[i] != INVALID {
            continue;
        }
        // MarkDecendentsIgnoringCycles(i)
        work.push(i as NodeIndex);
        while let Some(&x) = work.last() {
            match parent[x as usize] {
                ORPHAN_VISITING | ORPHAN_VISITED => {
                    parent[x as usize] = ORPHAN_VISITED;
                    work.pop();
                    continue;
                }
                INVALID => {}
                _ => unreachable!("only parentless nodes are pushed"),
            }
            parent[x as usize] = ORPHAN_VISITING;
            for &c in g.children(x) {
                if parent[c as usize] == INVALID {
                    work.push(c);
                }
            }
        }
        parent[i] = INVALID;
    }
    for (i, p) in parent.iter_mut().enumerate().take(n) {
        match *p {
            INVALID if Some(i as NodeIndex) != root => {
                // An orphan's own remembered priority stays 0.
                queue.push(i as NodeIndex, g.type_priority(i as NodeIndex), 0.0);
                *p = n as u32;
            }
            ORPHAN_VISITED | ORPHAN_VISITING => *p = INVALID,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_graph::{GraphBuilder, NoProgress, TypeInfo, TypeKind};

    fn graph(types: &[&str], nodes: &[(u32, Vec<u32>)], root: Option<u32>) -> HeapGraph {
        let mut b = GraphBuilder::new();
        for t in types {
            b.add_type(TypeInfo {
                name: (*t).into(),
                module: None,
                kind: TypeKind::Object,
                method_table: 0,
            });
        }
        for (t, children) in nodes {
            b.add_node(*t, 8, 0, children.iter().copied()).unwrap();
        }
        if let Some(r) = root {
            b.set_root_node(r);
        }
        b.finish().unwrap()
    }

    #[test]
    fn queue_pops_in_priority_order() {
        let mut q = PerfViewQueue::new();
        for (i, p) in [3.0, 1.0, 4.0, 1.5, 9.0, 2.6].into_iter().enumerate() {
            q.push(i as u32, p, -p);
        }
        let got: Vec<u32> = std::iter::from_fn(|| q.pop().map(|(x, _)| x)).collect();
        assert_eq!(got, vec![4, 2, 0, 5, 3, 1]);
    }

    /// PerfView's `PriorityQueue` as it is written (swapping at each step),
    /// on a `Vec`: the reference for [`PerfViewQueue`].
    #[derive(Default)]
    struct SwappingQueue(Vec<Entry>);

    impl SwappingQueue {
        fn push(&mut self, item: NodeIndex, key: f32, priority: f32) {
            let h = &mut self.0;
            let mut idx = h.len();
            h.push((key, priority, item));
            loop {
                let parent = idx / 2;
                if h[parent].0 >= h[idx].0 {
                    break;
                }
                h.swap(idx, parent);
                if parent == 0 {
                    break;
                }
                idx = parent;
            }
        }

        fn pop(&mut self) -> Option<(NodeIndex, f32)> {
            let h = &mut self.0;
            let last = h.pop()?;
            if h.is_empty() {
                return Some((last.2, last.1));
            }
            let ret = std::mem::replace(&mut h[0], last);
            let mut idx = 0;
            loop {
                let mut largest = idx;
                let child = idx * 2;
                if child < h.len() && h[child].0 > h[largest].0 {
                    largest = child;
                }
                if child + 1 < h.len() && h[child + 1].0 > h[largest].0 {
                    largest = child + 1;
                }
                if largest == idx {
                    break;
                }
                h.swap(idx, largest);
                idx = largest;
            }
            Some((ret.2, ret.1))
        }
    }

    #[test]
    fn queue_pops_as_perfviews_swapping_queue_with_ties() {
        let mut rng = heaplens_corpus::patched::Rng(0x2545_f491_4f6c_dd1d);
        let (mut q, mut want) = (PerfViewQueue::new(), SwappingQueue::default());
        // Few distinct keys (many ties, which each sift breaks its own
        // way), over a block's edge of the queue's array and back.
        let per = 1u64 << 18;
        for step in 0..5 * per {
            let grow = if step < 3 * per { 3 } else { 1 };
            if rng.below(4) < grow {
                let key = rng.below(16) as f32 - 8.0;
                let node = step as NodeIndex;
                q.push(node, key, -key);
                want.push(node, key, -key);
            } else {
                assert_eq!(q.pop(), want.pop(), "step {step}");
            }
        }
        while let Some(w) = want.pop() {
            assert_eq!(q.pop(), Some(w));
        }
        assert_eq!(q.pop(), None);
    }

    #[test]
    fn breadth_first_with_priorities_and_orphans() {
        // 0 root -> 1 [local vars] -> 3 ; 0 -> 2 -> 4 -> 3 ; 5 <-> 6 orphan cycle, 7 -> 5
        let g = graph(
            &["Root", "[local vars]", "T"],
            &[
                (0, vec![1, 2]),
                (1, vec![3]),
                (2, vec![4]),
                (2, vec![]),
                (2, vec![3]),
                (2, vec![6]),
                (2, vec![5]),
                (2, vec![5]),
            ],
            Some(0),
        );
        let t = spanning_tree(&g, &Priorities::default(), &mut NoProgress).unwrap();
        // [local vars] has priority -1000, so node 2 is explored first and
        // node 3 is reached through 2 -> 4 -> 3 only if 4 pops before 1:
        // 4's priority is 0 + 0/10 < 0, 1's is -1000.
        assert_eq!(t.parent(3), Parent::Node(4));
        assert_eq!(t.parent(1), Parent::Node(0));
        assert_eq!(t.parent(0), Parent::None);
        // 7 reaches the cycle 5 <-> 6: it is the only entry orphan.
        assert_eq!(t.parent(7), Parent::NotReachable);
        assert_eq!(t.parent(5), Parent::Node(7));
        assert_eq!(t.parent(6), Parent::Node(5));
        assert_eq!(t.order(), &[0, 2, 4, 3, 1, 7, 5, 6]);
    }

    #[test]
    fn a_cycle_of_orphans_has_one_entry() {
        let g = graph(&["T"], &[(0, vec![]), (0, vec![2]), (0, vec![1])], Some(0));
        let t = spanning_tree(&g, &Priorities::default(), &mut NoProgress).unwrap();
        assert_eq!(t.parent(1), Parent::NotReachable);
        assert_eq!(t.parent(2), Parent::Node(1));
        assert_eq!(t.raw_parents(), &[u32::MAX, 3, 1]);
    }

    #[test]
    fn priorities_parse_and_match_names() {
        let p = Priorities::default();
        assert_eq!(p.of("[local vars]"), -1000.0);
        assert_eq!(p.of("[Pinned local vars]"), -1000.0);
        assert_eq!(p.of("[strong Handles]"), -2000000.0);
        assert_eq!(p.of("[StrongHandle]"), 0.0);
        assert_eq!(p.of("[other roots]"), -2000000.0);
        assert_eq!(p.of("System.String"), 0.0);
        let p = Priorities::parse("Foo->2.5;;Bar->-1").unwrap();
        assert_eq!(p.of("xfoox"), 2.5);
        assert!(Priorities::parse("nonsense").is_err());
    }
}
