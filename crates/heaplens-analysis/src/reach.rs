//! Reachability from the roots.

use heaplens_graph::{HeapGraph, NodeIndex};

/// Marks every node reachable from the graph's root node (if it has one)
/// and from every root that keeps its object alive. Iterative: deep chains
/// cannot overflow the stack.
pub fn reachable(g: &HeapGraph) -> Vec<bool> {
    let live = Reachable::of(g);
    (0..g.node_count() as NodeIndex)
        .map(|n| live.contains(n))
        .collect()
}

/// The nodes [`reachable`] marks, one bit each (an eighth of its memory,
/// and the marking stays in cache longer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reachable {
    bits: Vec<u64>,
}

impl Reachable {
    /// The nodes of `g` reachable from its roots (see [`reachable`]).
    pub fn of(g: &HeapGraph) -> Reachable {
        let n = g.node_count();
        let mut bits = vec![0u64; n.div_ceil(64)];
        // Sets the bit of `x`; true if it was clear.
        let mut mark = |x: NodeIndex| {
            let (w, m) = ((x >> 6) as usize, 1u64 << (x & 63));
            let first = bits[w] & m == 0;
            bits[w] |= m;
            first
        };
        let mut stack: Vec<NodeIndex> = Vec::new();
        let starts = g.root_node().into_iter().chain(
            g.roots()
                .iter()
                .filter(|r| r.kind.keeps_alive())
                .map(|r| r.object),
        );
        for s in starts {
            if mark(s) {
                stack.push(s);
            }
            while let Some(x) = stack.pop() {
                for &c in g.children(x) {
                    if mark(c) {
                        stack.push(c);
                    }
                }
            }
        }
        Reachable { bits }
    }

    /// True when node `n` is reachable.
    #[inline]
    pub fn contains(&self, n: NodeIndex) -> bool {
        self.bits
            .get((n >> 6) as usize)
            .is_some_and(|w| w >> (n & 63) & 1 == 1)
    }

    /// How many nodes are reachable.
    pub fn count(&self) -> usize {
        self.bits.iter().map(|w| w.count_ones() as usize).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_graph::{GraphBuilder, RootKind, TypeInfo, TypeKind};

    #[test]
    fn follows_edges_from_roots_but_not_weak_handles() {
        let mut b = GraphBuilder::new();
        let t = b.add_type(TypeInfo {
            name: "T".into(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
        // 0 -> 1 -> 2 -> 0 (cycle), 3 alone, 4 held weakly, 5 -> 4
        for children in [vec![1], vec![2], vec![0], vec![], vec![], vec![4]] {
            b.add_node(t, 8, 0, children).unwrap();
        }
        b.add_root(1, RootKind::Static, None);
        b.add_root(4, RootKind::WeakHandle, None);
        let g = b.finish().unwrap();
        assert_eq!(reachable(&g), vec![true, true, true, false, false, false]);
        let live = Reachable::of(&g);
        assert_eq!(live.count(), 3);
        assert!(live.contains(2) && !live.contains(3) && !live.contains(99));
    }

    #[test]
    fn a_long_chain_does_not_overflow() {
        let n = 1_000_000u32;
        let mut b = GraphBuilder::new();
        let t = b.add_type(TypeInfo {
            name: "T".into(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
        for i in 0..n {
            let next = if i + 1 < n { vec![i + 1] } else { vec![] };
            b.add_node(t, 8, 0, next).unwrap();
        }
        b.add_root(0, RootKind::Stack, None);
        let g = b.finish().unwrap();
        assert!(reachable(&g).into_iter().all(|x| x));
    }
}
