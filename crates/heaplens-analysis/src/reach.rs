//! Reachability from the roots.

use heaplens_graph::{HeapGraph, NodeIndex};

/// Marks every node reachable from the graph's root node (if it has one)
/// and from every root that keeps its object alive. Iterative: deep chains
/// cannot overflow the stack.
pub fn reachable(g: &HeapGraph) -> Vec<bool> {
    let n = g.node_count();
    let mut seen = vec![false; n];
    let mut stack: Vec<NodeIndex> = Vec::new();
    let starts = g.root_node().into_iter().chain(
        g.roots()
            .iter()
            .filter(|r| r.kind.keeps_alive())
            .map(|r| r.object),
    );
    for s in starts {
        if !seen[s as usize] {
            seen[s as usize] = true;
            stack.push(s);
        }
        while let Some(x) = stack.pop() {
            for &c in g.children(x) {
                if !seen[c as usize] {
                    seen[c as usize] = true;
                    stack.push(c);
                }
            }
        }
    }
    seen
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
