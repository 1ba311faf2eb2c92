//! A heap graph without a root node, under pseudo-nodes made from its
//! roots, the way a `.gcdump` arranges them.
//!
//! PerfView's spanning tree starts at a root node; a `.gcdump` has one
//! (`[.NET Roots]`), with root categories and named statics below it. A
//! graph read from process memory has a list of roots instead. A
//! [`RootedView`] puts pseudo-nodes above that list, named and arranged as
//! dotnet-gcdump names and arranges them (`docs/gcdump-format.md` §9), so
//! that PerfView's default priorities (which match `[*local vars]`,
//! `[*handles]`, `[other roots]`) apply to them as they would to a
//! `.gcdump` of the same process:
//!
//! ```text
//! [.NET Roots]
//!   [static vars]          -> [static var Type.field] -> object
//!   [thread static vars]   -> [static var Type.field] -> object
//!   [local vars]           -> objects (stack roots)
//!   [other roots]
//!     [finalizer Handles] | [pinning Handles] | [strong Handles] |
//!     [other Handles] | [Dependent Handles] | [frozen objects] -> objects
//!   [COM/WinRT Objects]    -> objects
//! ```
//!
//! Weak handles keep nothing alive and are left out (as dotnet-gcdump
//! does). The pseudo-nodes are numbered after the graph's nodes; the graph
//! is not copied.

use super::spanning::{Priorities, SpanningGraph};
use heaplens_graph::{HeapGraph, NodeIndex, RootKind};
use std::collections::HashMap;

/// The name of the pseudo-node all roots hang from.
pub const NET_ROOTS: &str = "[.NET Roots]";

/// Where a root of `kind` named `name` hangs below [`NET_ROOTS`]: the
/// pseudo-nodes from the top down (the category, the sub-category, and
/// `[static var Type.field]` for a named static). A name that is itself a
/// pseudo-node's (`[strong Handles]`, as a `.gcdump`'s roots are named) or
/// not a static's adds no level.
pub fn root_frames(kind: RootKind, name: Option<&str>) -> Vec<String> {
    let static_var = |v: &mut Vec<String>| {
        if let Some(n) = name.filter(|n| !n.starts_with('[')) {
            v.push(format!("[static var {n}]"));
        }
    };
    let other = |sub: &str| vec!["[other roots]".to_owned(), sub.to_owned()];
    match kind {
        RootKind::Static => {
            let mut v = vec!["[static vars]".to_owned()];
            static_var(&mut v);
            v
        }
        RootKind::ThreadStatic => {
            let mut v = vec!["[thread static vars]".to_owned()];
            static_var(&mut v);
            v
        }
        RootKind::Stack => vec!["[local vars]".to_owned()],
        RootKind::Finalizer => other("[finalizer Handles]"),
        RootKind::PinnedHandle | RootKind::AsyncPinnedHandle => other("[pinning Handles]"),
        RootKind::StrongHandle => other("[strong Handles]"),
        RootKind::RefCountedHandle | RootKind::SizedRefHandle | RootKind::WeakHandle => {
            other("[other Handles]")
        }
        RootKind::DependentHandle => other("[Dependent Handles]"),
        RootKind::Frozen => other("[frozen objects]"),
        RootKind::ComInterop => vec!["[COM/WinRT Objects]".to_owned()],
        RootKind::Other => vec!["[other roots]".to_owned()],
    }
}

/// The order of the top categories below [`NET_ROOTS`] (dotnet-gcdump's).
fn category_rank(name: &str) -> usize {
    [
        "[static vars]",
        "[thread static vars]",
        "[local vars]",
        "[other roots]",
        "[COM/WinRT Objects]",
    ]
    .iter()
    .position(|c| *c == name)
    .unwrap_or(5)
}

/// A graph with pseudo-nodes above its roots (see the module's
/// documentation). Nodes `0..graph_nodes()` are the graph's; the others
/// are pseudo-nodes, [`RootedView::root`] first.
#[derive(Debug, Clone)]
pub struct RootedView<'g> {
    g: &'g HeapGraph,
    type_priority: Vec<f32>,
    /// Per pseudo-node: its name and priority.
    names: Vec<String>,
    pseudo_priority: Vec<f32>,
    /// Per pseudo-node: its children (CSR).
    start: Vec<u32>,
    children: Vec<NodeIndex>,
}

impl<'g> RootedView<'g> {
    /// The view of `g` with PerfView's `priorities`.
    pub fn new(g: &'g HeapGraph, priorities: &Priorities) -> Self {
        let n = g.node_count() as u32;
        // Pseudo-nodes by path of names; 0 is [.NET Roots].
        let mut names = vec![NET_ROOTS.to_owned()];
        let mut kids: Vec<Vec<NodeIndex>> = vec![Vec::new()];
        let mut index: HashMap<(u32, String), u32> = HashMap::new();
        let mut pseudo = |parent: u32, name: &str, names: &mut Vec<String>| -> u32 {
            if let Some(&p) = index.get(&(parent, name.to_owned())) {
                return p;
            }
            let p = names.len() as u32;
            names.push(name.to_owned());
            kids.push(Vec::new());
            kids[parent as usize].push(n + p);
            index.insert((parent, name.to_owned()), p);
            p
        };
        // Categories first, in dotnet-gcdump's order.
        let mut tops: Vec<String> = g
            .roots()
            .iter()
            .filter(|r| r.kind.keeps_alive())
            .map(|r| root_frames(r.kind, None)[0].clone())
            .collect();
        tops.sort_by_key(|t| (category_rank(t), t.clone()));
        tops.dedup();
        for t in &tops {
            pseudo(0, t, &mut names);
        }
        let mut edges: Vec<(u32, NodeIndex)> = Vec::with_capacity(g.roots().len());
        for r in g.roots().iter().filter(|r| r.kind.keeps_alive()) {
            let mut at = 0u32;
            for f in root_frames(r.kind, g.root_name(r)) {
                at = pseudo(at, &f, &mut names);
            }
            edges.push((at, r.object));
        }
        for (p, obj) in edges {
            kids[p as usize].push(obj);
        }
        let mut start = Vec::with_capacity(kids.len() + 1);
        let mut children = Vec::new();
        start.push(0u32);
        for k in kids {
            children.extend(k);
            start.push(children.len() as u32);
        }
        RootedView {
            g,
            type_priority: g.types().iter().map(|t| priorities.of(&t.name)).collect(),
            pseudo_priority: names.iter().map(|s| priorities.of(s)).collect(),
            names,
            start,
            children,
        }
    }

    /// The graph.
    pub fn graph(&self) -> &'g HeapGraph {
        self.g
    }

    /// Number of the graph's nodes (the pseudo-nodes come after them).
    pub fn graph_nodes(&self) -> usize {
        self.g.node_count()
    }

    /// Number of pseudo-nodes.
    pub fn pseudo_count(&self) -> usize {
        self.names.len()
    }

    /// The name of node `n` if it is a pseudo-node.
    pub fn pseudo_name(&self, n: NodeIndex) -> Option<&str> {
        (n as usize)
            .checked_sub(self.g.node_count())
            .and_then(|i| self.names.get(i))
            .map(String::as_str)
    }
}

impl SpanningGraph for RootedView<'_> {
    fn node_count(&self) -> usize {
        self.g.node_count() + self.names.len()
    }

    fn root(&self) -> Option<NodeIndex> {
        Some(self.g.node_count() as NodeIndex)
    }

    fn children(&self, n: NodeIndex) -> &[NodeIndex] {
        match (n as usize).checked_sub(self.g.node_count()) {
            None => self.g.children(n),
            Some(i) => {
                let (s, e) = (self.start[i] as usize, self.start[i + 1] as usize);
                &self.children[s..e]
            }
        }
    }

    fn type_priority(&self, n: NodeIndex) -> f32 {
        match (n as usize).checked_sub(self.g.node_count()) {
            None => self.type_priority[self.g.node_type(n) as usize],
            Some(i) => self.pseudo_priority[i],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perfview::spanning::{spanning_tree_of, Orphans, Parent};
    use heaplens_graph::{GraphBuilder, NoProgress, TypeInfo, TypeKind};

    #[test]
    fn roots_hang_from_pseudo_nodes_and_handles_come_last() {
        let mut b = GraphBuilder::new();
        let t = b.add_type(TypeInfo {
            name: "T".into(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
        // 0 -> 2 ; 1 -> 2 ; 3 held weakly ; 4 unreachable
        for c in [vec![2], vec![2], vec![], vec![], vec![]] {
            b.add_node(t, 8, 0, c).unwrap();
        }
        // The handle comes first in root order, but its category's
        // priority is -2,000,000: node 2 is reached from the static.
        b.add_root(1, RootKind::StrongHandle, None);
        b.add_root(0, RootKind::Static, Some("App.s_cache"));
        b.add_root(3, RootKind::WeakHandle, None);
        let g = b.finish().unwrap();
        let v = RootedView::new(&g, &Priorities::default());
        let names: Vec<&str> = (0..v.pseudo_count())
            .map(|i| v.pseudo_name((5 + i) as u32).unwrap())
            .collect();
        assert_eq!(
            names,
            [
                NET_ROOTS,
                "[static vars]",
                "[other roots]",
                "[strong Handles]",
                "[static var App.s_cache]"
            ]
        );
        let t = spanning_tree_of(&v, Orphans::Exclude, &mut NoProgress).unwrap();
        assert_eq!(t.parent(2), Parent::Node(0));
        assert_eq!(t.parent(0), Parent::Node(5 + 4));
        assert_eq!(t.parent(1), Parent::Node(5 + 3));
        assert_eq!(t.parent(3), Parent::None);
        assert_eq!(t.parent(4), Parent::None);
        assert_eq!(t.order().len(), 3 + 5);
        assert_eq!(
            root_frames(RootKind::StrongHandle, Some("[strong Handles]")),
            ["[other roots]", "[strong Handles]"]
        );
    }
}
