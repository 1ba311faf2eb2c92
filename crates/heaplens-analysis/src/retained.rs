//! Retained sizes: what freeing an object would free.
//!
//! An object's retained size is its own size plus the sizes of all objects
//! it dominates ([`crate::dominators`]): the objects that become
//! unreachable when it is gone. Per type, the retained size counts every
//! object once: objects dominated by another object of the same type are
//! already inside that object's retained size and are not added again.
//! Sizes are the graph's, not scaled for a sampled heap.
//!
//! The per-object sizes are summed by [`crate::dominators::dominators`]
//! itself, bottom-up over the dominator tree while its arrays are still
//! indexed by preorder number (a sequential pass, not a random walk over
//! the nodes); [`retained_sizes`] hands them out.

use crate::blocks::BlockVec;
use crate::dominators::{Dominator, Dominators};
use heaplens_graph::{HeapGraph, NodeIndex, TypeIndex};
use std::collections::{BinaryHeap, HashMap};
use std::sync::Arc;

/// The retained size of every node (0 for nodes no root reaches). Clones
/// share the storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetainedSizes {
    /// Per node; `u32::MAX` means "see `big`".
    small: Arc<BlockVec<u32>>,
    big: Arc<HashMap<NodeIndex, u64>>,
    reachable: u64,
}

impl RetainedSizes {
    /// Per node: `small`, or `big` where `small` is `u32::MAX`.
    pub(crate) fn new(small: BlockVec<u32>, big: HashMap<NodeIndex, u64>, reachable: u64) -> Self {
        RetainedSizes {
            small: Arc::new(small),
            big: Arc::new(big),
            reachable,
        }
    }

    /// The retained size of `n` in bytes.
    pub fn get(&self, n: NodeIndex) -> u64 {
        match self.small[n as usize] {
            u32::MAX => self.big.get(&n).copied().unwrap_or(u32::MAX as u64),
            s => s as u64,
        }
    }

    /// Total bytes reachable from the roots (what the virtual root retains).
    pub fn reachable_bytes(&self) -> u64 {
        self.reachable
    }

    /// Heap memory held, in bytes (shared with the clones and with the
    /// [`Dominators`] it came from).
    pub fn memory_bytes(&self) -> usize {
        self.small.memory_bytes() + self.big.capacity() * 16
    }
}

/// Every node's retained size: the sizes [`crate::dominators::dominators`]
/// summed over the dominator tree (shared, not copied).
pub fn retained_sizes(g: &HeapGraph, dom: &Dominators) -> RetainedSizes {
    assert_eq!(
        dom.node_count(),
        g.node_count(),
        "dominators of another graph"
    );
    dom.retained().clone()
}

/// The dominator tree as lists of children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DominatorChildren {
    /// In blocks (see [`BlockVec`]); the lists are sliced, so one array.
    start: BlockVec<u32>,
    children: Vec<NodeIndex>,
    roots: Vec<NodeIndex>,
}

impl DominatorChildren {
    /// The objects immediately dominated by the virtual root.
    pub fn roots(&self) -> &[NodeIndex] {
        &self.roots
    }

    /// The objects `n` immediately dominates.
    pub fn children(&self, n: NodeIndex) -> &[NodeIndex] {
        let (s, e) = (self.start[n as usize], self.start[n as usize + 1]);
        &self.children[s as usize..e as usize]
    }

    /// Children of the virtual root or of a node.
    pub fn of(&self, d: Dominator) -> &[NodeIndex] {
        match d {
            Dominator::Root => self.roots(),
            Dominator::Node(n) => self.children(n),
        }
    }
}

/// Builds the dominator tree's children lists (each in node order; the
/// virtual root's too).
///
/// 4 bytes per node for the starts and 4 per reachable node for the lists,
/// nothing else: the starts are counted at each parent's slot, summed so
/// that each is its list's end, and counted down as the lists are filled
/// from the last node, which leaves each at its list's start (no second
/// array of fill positions: 12 bytes per node before).
pub fn dominator_children(dom: &Dominators) -> DominatorChildren {
    let n = dom.node_count();
    let mut start = BlockVec::from_elem(0u32, n + 1);
    let mut roots = Vec::new();
    for (x, d) in (0..n as NodeIndex).zip(dom.idoms()) {
        match d {
            Some(Dominator::Node(p)) => start[p as usize] += 1,
            Some(Dominator::Root) => roots.push(x),
            None => {}
        }
    }
    // Inclusive sums: `start[p]` is the end of `p`'s list, `start[n]` the
    // total.
    let mut total = 0u32;
    for s in start.chunks_mut().flatten() {
        total += *s;
        *s = total;
    }
    let mut children = vec![0; total as usize];
    for (x, d) in (0..n as NodeIndex).rev().zip(dom.idoms().rev()) {
        if let Some(Dominator::Node(p)) = d {
            start[p as usize] -= 1;
            children[start[p as usize] as usize] = x;
        }
    }
    DominatorChildren {
        start,
        children,
        roots,
    }
}

/// Retained size of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRetained {
    /// The row's id within its snapshot, as [`crate::stats::TypeRow::id`].
    pub id: TypeIndex,
    /// Type name.
    pub name: String,
    /// Module, if known.
    pub module: Option<String>,
    /// The runtime's MethodTable, or 0 when the input has none.
    pub method_table: u64,
    /// Reachable objects of the type.
    pub count: u64,
    /// Their own bytes.
    pub shallow_bytes: u64,
    /// Bytes freed if every object of the type were freed one by one: the
    /// retained sizes of the objects that no other object of the type
    /// dominates.
    pub retained_bytes: u64,
    /// How many objects are not dominated by another of the type.
    pub top_level: u64,
}

/// Retained size per type (types with the same name, module and
/// MethodTable are one), largest first. Only reachable objects count.
pub fn retained_by_type(
    g: &HeapGraph,
    dom: &Dominators,
    sizes: &RetainedSizes,
) -> Vec<TypeRetained> {
    let crate::stats::TypeGroups { group, first } = crate::stats::TypeGroups::of(g);
    let mut rows: Vec<TypeRetained> = first
        .iter()
        .map(|&t| TypeRetained {
            id: t,
            name: g.type_info(t).name.clone(),
            module: g.type_module(t).map(str::to_owned),
            method_table: g.type_info(t).method_table,
            count: 0,
            shallow_bytes: 0,
            retained_bytes: 0,
            top_level: 0,
        })
        .collect();
    // Walk the dominator tree keeping, per type, how many objects of the
    // type are on the current path.
    let tree = dominator_children(dom);
    let mut active = vec![0u32; first.len()];
    let mut stack: Vec<(NodeIndex, u32)> = Vec::new();
    let mut enter = |x: NodeIndex, active: &mut Vec<u32>| {
        let gi = group[g.node_type(x) as usize];
        let row = &mut rows[gi];
        row.count += 1;
        row.shallow_bytes += g.node_size(x);
        if active[gi] == 0 {
            row.retained_bytes += sizes.get(x);
            row.top_level += 1;
        }
        active[gi] += 1;
    };
    for &r in tree.roots() {
        enter(r, &mut active);
        stack.push((r, 0));
        while let Some(top) = stack.last_mut() {
            let children = tree.children(top.0);
            if let Some(&c) = children.get(top.1 as usize) {
                top.1 += 1;
                enter(c, &mut active);
                stack.push((c, 0));
            } else {
                active[group[g.node_type(top.0) as usize]] -= 1;
                stack.pop();
            }
        }
    }
    rows.retain(|r| r.count > 0);
    rows.sort_by(|a, b| {
        b.retained_bytes
            .cmp(&a.retained_bytes)
            .then(b.shallow_bytes.cmp(&a.shallow_bytes))
            .then_with(|| a.name.cmp(&b.name))
    });
    rows
}

/// The `n` reachable objects with the largest retained sizes, largest
/// first (ties: lower node index first).
pub fn largest_objects(dom: &Dominators, sizes: &RetainedSizes, n: usize) -> Vec<(NodeIndex, u64)> {
    use std::cmp::Reverse;
    let mut heap: BinaryHeap<Reverse<(u64, Reverse<NodeIndex>)>> = BinaryHeap::new();
    for x in (0..dom.node_count() as NodeIndex).filter(|&x| dom.is_reachable(x)) {
        let item = Reverse((sizes.get(x), Reverse(x)));
        if heap.len() < n {
            heap.push(item);
        } else if let Some(min) = heap.peek() {
            if item < *min {
                heap.pop();
                heap.push(item);
            }
        }
    }
    let mut out: Vec<(NodeIndex, u64)> = heap
        .into_iter()
        .map(|Reverse((s, Reverse(x)))| (x, s))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}
