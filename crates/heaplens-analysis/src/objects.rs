//! One object and the objects of a type: who refers to an object, the
//! chain of its dominators to a root, and a type's instances, sorted and
//! paged (the inspector's and the instance list's analyses; no contents
//! needed).

use crate::dominators::{Dominator, Dominators};
use heaplens_graph::{HeapGraph, NodeIndex, TypeIndex};

/// The objects that refer to `n` (each once, in node order), at most
/// `limit` of them, and how many there are in all. One pass over the
/// graph's references.
pub fn referrers(g: &HeapGraph, n: NodeIndex, limit: usize) -> (Vec<NodeIndex>, u64) {
    let mut out = Vec::new();
    let mut total = 0u64;
    for src in 0..g.node_count() as NodeIndex {
        if g.children(src).contains(&n) {
            total += 1;
            if out.len() < limit {
                out.push(src);
            }
        }
    }
    (out, total)
}

/// The chain of immediate dominators of `n`, nearest first, up to the
/// object a root holds (at most `limit`); `None` when no root reaches `n`.
pub fn dominator_chain(dom: &Dominators, n: NodeIndex, limit: usize) -> Option<Vec<NodeIndex>> {
    let mut chain = Vec::new();
    let mut x = n;
    loop {
        match dom.idom(x)? {
            Dominator::Root => return Some(chain),
            Dominator::Node(d) => {
                if chain.len() >= limit || d == x {
                    return Some(chain);
                }
                chain.push(d);
                x = d;
            }
        }
    }
}

/// How a type's instances are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InstanceOrder {
    /// By address (the heap's order).
    #[default]
    Address,
    /// Largest size first.
    Size,
    /// Largest retained size first (needs the dominator tree).
    Retained,
}

/// The objects of types `types`, in `order` (ties by address), from
/// `offset`, at most `limit`; and how many there are in all. `retained`
/// gives each object's retained size (for [`InstanceOrder::Retained`]).
pub fn instances(
    g: &HeapGraph,
    types: &[TypeIndex],
    order: InstanceOrder,
    retained: Option<&dyn Fn(NodeIndex) -> u64>,
    offset: usize,
    limit: usize,
) -> (Vec<NodeIndex>, usize) {
    let mut is_type = vec![false; g.types().len()];
    for &t in types {
        if let Some(x) = is_type.get_mut(t as usize) {
            *x = true;
        }
    }
    let mut nodes: Vec<NodeIndex> = Vec::new();
    g.for_each_node(|n, t, _| {
        if is_type[t as usize] {
            nodes.push(n);
        }
    });
    let total = nodes.len();
    match (order, retained) {
        (InstanceOrder::Size, _) => {
            nodes.sort_by_key(|&n| (std::cmp::Reverse(g.node_size(n)), n));
        }
        (InstanceOrder::Retained, Some(r)) => {
            let mut keyed: Vec<(u64, NodeIndex)> = nodes.iter().map(|&n| (r(n), n)).collect();
            keyed.sort_by_key(|&(v, n)| (std::cmp::Reverse(v), n));
            nodes = keyed.into_iter().map(|(_, n)| n).collect();
        }
        _ => {}
    }
    let page = nodes.into_iter().skip(offset).take(limit).collect();
    (page, total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_graph::{GraphBuilder, RootKind, TypeInfo, TypeKind};

    fn graph() -> HeapGraph {
        let mut b = GraphBuilder::new();
        let t = b.add_type(TypeInfo {
            name: "A".into(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
        // 0 -> 1 -> 2, 0 -> 2, 3 -> 2.
        b.add_node(t, 10, 0x10, [1, 2]).unwrap();
        b.add_node(t, 30, 0x20, [2]).unwrap();
        b.add_node(t, 20, 0x30, []).unwrap();
        b.add_node(t, 5, 0x40, [2]).unwrap();
        b.add_root(0, RootKind::Static, None);
        b.finish().unwrap()
    }

    #[test]
    fn referrers_are_every_object_pointing_here() {
        let g = graph();
        assert_eq!(referrers(&g, 2, 10), (vec![0, 1, 3], 3));
        assert_eq!(referrers(&g, 2, 1), (vec![0], 3));
        assert_eq!(referrers(&g, 0, 10), (vec![], 0));
    }

    #[test]
    fn dominator_chains_end_at_the_rooted_object() {
        let g = graph();
        let dom = crate::dominators::dominators(&g, &mut heaplens_graph::NoProgress).unwrap();
        // 2 is reached through 0 -> 1 -> 2 and 0 -> 2: 0 dominates it.
        assert_eq!(dominator_chain(&dom, 2, 10), Some(vec![0]));
        assert_eq!(dominator_chain(&dom, 1, 10), Some(vec![0]));
        assert_eq!(dominator_chain(&dom, 0, 10), Some(vec![]));
        // 3 is garbage.
        assert_eq!(dominator_chain(&dom, 3, 10), None);
    }

    #[test]
    fn instances_sort_and_page() {
        let g = graph();
        let (all, n) = instances(&g, &[0], InstanceOrder::Size, None, 0, 10);
        assert_eq!((all, n), (vec![1, 2, 0, 3], 4));
        let (page, _) = instances(&g, &[0], InstanceOrder::Size, None, 1, 2);
        assert_eq!(page, vec![2, 0]);
        let r = |n: NodeIndex| [60u64, 30, 20, 5][n as usize];
        let (by_retained, _) = instances(&g, &[0], InstanceOrder::Retained, Some(&r), 0, 2);
        assert_eq!(by_retained, vec![0, 1]);
        let (by_address, _) = instances(&g, &[0], InstanceOrder::Address, None, 0, 10);
        assert_eq!(by_address, vec![0, 1, 2, 3]);
    }
}
