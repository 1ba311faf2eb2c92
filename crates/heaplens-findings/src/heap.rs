//! What the detectors read: the graph, its dominator tree and retained
//! sizes, the shortest paths from the roots, and the object contents when
//! the input keeps them.

use heaplens_analysis::dominators::{Dominator, Dominators};
use heaplens_analysis::paths::RootPaths;
use heaplens_analysis::retained::RetainedSizes;
use heaplens_contents::ObjectReader;
use heaplens_graph::{HeapGraph, NodeIndex, TypeIndex};
use std::cell::RefCell;
use std::collections::HashMap;

/// One heap, with the analyses the detectors need.
pub struct Heap<'a> {
    /// The graph.
    pub graph: &'a HeapGraph,
    /// Its dominator tree.
    pub dominators: &'a Dominators,
    /// Retained sizes from it.
    pub retained: &'a RetainedSizes,
    /// Shortest paths from the roots.
    pub paths: &'a RootPaths,
    /// Object contents (`None` for an input without them, a `.gcdump`:
    /// detectors that need values then say so and stay silent).
    pub contents: Option<&'a dyn ObjectReader>,
    /// Objects registered for finalization, when the dump says (not
    /// roots; shown beside the ready ones).
    pub finalization_registered: Option<u64>,
    /// Where the GC's generations are (its segments or regions), by
    /// address; empty when the input does not say (a `.gcdump`).
    pub areas: Vec<HeapArea>,
    /// Nearest owner memo per owner kind (see [`Heap::owner`]).
    owners: RefCell<HashMap<(u8, NodeIndex), Option<NodeIndex>>>,
}

impl<'a> Heap<'a> {
    /// A heap of `graph` with its analyses.
    pub fn new(
        graph: &'a HeapGraph,
        dominators: &'a Dominators,
        retained: &'a RetainedSizes,
        paths: &'a RootPaths,
        contents: Option<&'a dyn ObjectReader>,
    ) -> Heap<'a> {
        Heap {
            graph,
            dominators,
            retained,
            paths,
            contents,
            finalization_registered: None,
            areas: Vec::new(),
            owners: RefCell::new(HashMap::new()),
        }
    }

    /// True when a live root reaches `n`.
    pub(crate) fn live(&self, n: NodeIndex) -> bool {
        self.paths.is_reachable(n)
    }

    /// The name of `n`'s type.
    pub(crate) fn type_name(&self, n: NodeIndex) -> &str {
        &self.graph.type_info(self.graph.node_type(n)).name
    }

    /// Types whose name satisfies `f`, as a mask by type index.
    pub(crate) fn types_where(&self, f: impl Fn(&str) -> bool) -> Vec<bool> {
        self.graph
            .types()
            .iter()
            .map(|t| t.kind == heaplens_graph::TypeKind::Object && f(&t.name))
            .collect()
    }

    /// Live nodes whose type is in `mask`, in node order.
    pub(crate) fn live_of(&self, mask: &[bool]) -> Vec<NodeIndex> {
        if !mask.iter().any(|&m| m) {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.graph.for_each_node(|n, t, _| {
            if mask[t as usize] && self.live(n) {
                out.push(n);
            }
        });
        out
    }

    /// What `n` keeps alive that no other object of its type in it does:
    /// its retained size less the retained sizes of the objects of its own
    /// type it immediately dominates (the next node of a linked list: a
    /// timer's `_next`, a callback node's `Next`), so that each node of a
    /// chain counts its own payload only.
    pub(crate) fn own_retained(&self, n: NodeIndex) -> u64 {
        let g = self.graph;
        let t: TypeIndex = g.node_type(n);
        let mut own = self.retained.get(n);
        let mut seen: Vec<NodeIndex> = Vec::new();
        for &c in g.children(n) {
            if c != n
                && g.node_type(c) == t
                && !seen.contains(&c)
                && self.dominators.idom(c) == Some(Dominator::Node(n))
            {
                seen.push(c);
                own = own.saturating_sub(self.retained.get(c));
            }
        }
        own
    }

    /// The nearest object on `n`'s shortest path from a root (`n` itself
    /// included) whose type is in `mask`: the cache an entry is in, the
    /// source a registration is on. `kind` keeps memos of different masks
    /// apart. Each node is visited once per kind.
    pub(crate) fn owner(&self, kind: u8, mask: &[bool], n: NodeIndex) -> Option<NodeIndex> {
        let g = self.graph;
        let mut memo = self.owners.borrow_mut();
        let mut walked = Vec::new();
        let mut x = n;
        let found = loop {
            if let Some(&m) = memo.get(&(kind, x)) {
                break m;
            }
            if mask[g.node_type(x) as usize] {
                break Some(x);
            }
            walked.push(x);
            match self.paths.parent(x) {
                Some(p) => x = p,
                None => break None,
            }
        };
        for w in walked {
            memo.insert((kind, w), found);
        }
        found
    }

    /// Where `n` is, in words stable between dumps of one process: the
    /// root its shortest path starts at (the static field, or the root's
    /// kind) and the types on the way (a run of one type once).
    pub(crate) fn place(&self, n: NodeIndex) -> String {
        let g = self.graph;
        let Some(p) = self.paths.path_to(n) else {
            return format!("(not reachable) {}", self.type_name(n));
        };
        let root = &g.roots()[p.root];
        let mut s = match g.root_name(root) {
            Some(name) => format!("[{}] {name}", root.kind.as_str()),
            None => format!("[{}]", root.kind.as_str()),
        };
        let mut last = None;
        for &x in &p.nodes {
            let t = g.node_type(x);
            if last != Some(t) {
                s.push_str(" → ");
                s.push_str(&g.type_info(t).name);
                last = Some(t);
            }
        }
        s
    }

    /// The root `n`'s shortest path starts at, in words (`the static
    /// DumpLab.Leaks.Cache`, `a pinned handle`).
    pub(crate) fn root_words(&self, n: NodeIndex) -> Option<String> {
        let g = self.graph;
        let p = self.paths.path_to(n)?;
        let root = &g.roots()[p.root];
        Some(match g.root_name(root) {
            Some(name) => format!("{name} ({})", root.kind.as_str().replace('_', " ")),
            None => root.kind.as_str().replace('_', " "),
        })
    }
}

/// What a stretch of the GC heap holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Generation {
    /// Generation 0 (a region of it).
    Gen0,
    /// Generation 1.
    Gen1,
    /// Generation 2 (a region, or a small-object segment that is not the
    /// ephemeral one).
    Gen2,
    /// The ephemeral segment (segments mode: generations 0 and 1 and the
    /// newest part of generation 2, whose boundaries the dump's segment
    /// list does not give).
    Ephemeral,
    /// The large object heap.
    Loh,
    /// The pinned object heap.
    Poh,
}

impl Generation {
    /// Its short name (`gen0`, `LOH`, …).
    pub fn name(self) -> &'static str {
        match self {
            Generation::Gen0 => "gen0",
            Generation::Gen1 => "gen1",
            Generation::Gen2 => "gen2",
            Generation::Ephemeral => "ephemeral segment",
            Generation::Loh => "LOH",
            Generation::Poh => "POH",
        }
    }

    /// True where free space stays until a compacting full collection
    /// (generation 2, the LOH, the POH): the GC allocates into
    /// generation 0 and 1 free space at once.
    pub fn keeps_free_space(self) -> bool {
        matches!(self, Generation::Gen2 | Generation::Loh | Generation::Poh)
    }
}

/// One segment or region of the GC heap: its objects span
/// `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapArea {
    /// Its first object.
    pub start: u64,
    /// The end of its objects.
    pub end: u64,
    /// What it holds.
    pub generation: Generation,
}
