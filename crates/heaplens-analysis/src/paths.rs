//! Paths from the GC roots: why an object is alive.
//!
//! [`root_paths`] walks the graph breadth-first from every root that keeps
//! its object alive (weak handles do not), in root order, so each reached
//! object gets a parent on one of its *shortest* paths from a root, and the
//! root that path starts at. Roots that hold objects for long (handles,
//! statics, the finalizer queue) come first: a thread's stack is the answer
//! only for objects nothing else reaches. Stack slots hold objects for a
//! moment, and in a dump read without the DAC they are found by a
//! conservative scan, where a stale slot can look like a root. [`RootPaths::shortest_path_to`] gives the
//! shortest path to the first object that matches (e.g. of a type).
//!
//! [`referred_from`] aggregates, for all objects of some types, their paths
//! toward the roots into one tree, as PerfView's Referred-From view does
//! with its RefTree: the first level merges, by type name, the referrers of
//! every object of the type; each deeper level goes one step further toward
//! the roots, and every branch ends at a root (its kind and name, such as a
//! static field). Each entry counts the objects whose path passes there,
//! their bytes, and their inclusive bytes in the tree of shortest paths
//! (what hangs below them, other objects of the types excluded, so nothing
//! is counted twice).

use crate::blocks::BlockVec;
use heaplens_graph::{Cancelled, HeapGraph, NodeIndex, Phase, Progress, RootKind, TypeIndex};
use rustc_hash::FxHashMap;
use std::collections::HashMap;

/// Objects handled between two progress reports (a cancel is noticed
/// within them).
const CHECK_EVERY: usize = 1 << 16;
const UNREACHED: u32 = u32::MAX;
const ROOT_OBJECT: u32 = u32::MAX - 1;

/// Shortest paths from the roots to every reachable object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootPaths {
    /// Per node: its parent on a shortest path, [`ROOT_OBJECT`] or
    /// [`UNREACHED`]. In blocks, as `order` (see [`BlockVec`]).
    parent: BlockVec<u32>,
    /// Reachable nodes in breadth-first order (nearest to the roots first).
    order: BlockVec<NodeIndex>,
    /// Root objects: the first live root (index into the graph's roots)
    /// holding each.
    root_of: HashMap<NodeIndex, u32>,
}

/// A path from a root to an object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootPath {
    /// Index of the root in [`HeapGraph::roots`].
    pub root: usize,
    /// The objects from the root's object to the target, both included.
    pub nodes: Vec<NodeIndex>,
}

/// Walks the graph breadth-first from the live roots. Progress phase
/// `"root paths"`, in nodes.
pub fn root_paths(g: &HeapGraph, progress: &mut dyn Progress) -> Result<RootPaths, Cancelled> {
    let n = g.node_count();
    assert!((n as u64) < ROOT_OBJECT as u64, "graph too large");
    let mut parent = BlockVec::from_elem(UNREACHED, n);
    // Grows a block at a time, never copying.
    let mut order: BlockVec<NodeIndex> = BlockVec::new();
    let mut root_of = HashMap::new();
    let mut next = 0;
    // Long-lived roots first, then stack slots for what is left.
    for stack in [false, true] {
        for (i, r) in g.roots().iter().enumerate() {
            if r.kind.keeps_alive()
                && (r.kind == RootKind::Stack) == stack
                && parent[r.object as usize] == UNREACHED
            {
                parent[r.object as usize] = ROOT_OBJECT;
                root_of.insert(r.object, i as u32);
                order.push(r.object);
            }
        }
        while next < order.len() {
            let x = order[next];
            next += 1;
            for &c in g.children(x) {
                if parent[c as usize] == UNREACHED {
                    parent[c as usize] = x;
                    order.push(c);
                }
            }
            if next & (CHECK_EVERY - 1) == 0 {
                progress.update(Phase::FindingRoots, next as u64, n as u64)?;
            }
        }
    }
    progress.update(Phase::FindingRoots, n as u64, n as u64)?;
    Ok(RootPaths {
        parent,
        order,
        root_of,
    })
}

impl RootPaths {
    /// True if a live root reaches `n`.
    pub fn is_reachable(&self, n: NodeIndex) -> bool {
        self.parent[n as usize] != UNREACHED
    }

    /// Reachable nodes, nearest to the roots first.
    pub fn order(&self) -> impl DoubleEndedIterator<Item = &NodeIndex> + '_ {
        self.order.iter()
    }

    /// Number of reachable nodes (the length of [`RootPaths::order`]).
    pub fn reachable_count(&self) -> usize {
        self.order.len()
    }

    /// The parent of `n` on its shortest path (`None` for root objects and
    /// unreachable nodes).
    pub fn parent(&self, n: NodeIndex) -> Option<NodeIndex> {
        match self.parent[n as usize] {
            UNREACHED | ROOT_OBJECT => None,
            p => Some(p),
        }
    }

    /// The root (index in [`HeapGraph::roots`]) whose object is `n`, if `n`
    /// is a root object.
    pub fn root_of(&self, n: NodeIndex) -> Option<usize> {
        self.root_of.get(&n).map(|&i| i as usize)
    }

    /// A shortest path from a root to `n`.
    pub fn path_to(&self, n: NodeIndex) -> Option<RootPath> {
        if !self.is_reachable(n) {
            return None;
        }
        let mut nodes = vec![n];
        let mut x = n;
        while let Some(p) = self.parent(x) {
            nodes.push(p);
            x = p;
        }
        nodes.reverse();
        Some(RootPath {
            root: self.root_of(x)?,
            nodes,
        })
    }

    /// The shortest path to any node for which `matches` is true (the first
    /// such node in breadth-first order).
    pub fn shortest_path_to(&self, matches: impl Fn(NodeIndex) -> bool) -> Option<RootPath> {
        self.order
            .iter()
            .find(|&&x| matches(x))
            .and_then(|&x| self.path_to(x))
    }
}

/// What an entry of a referred-from tree stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RefLabel {
    /// Objects of a type (by name).
    Type(String),
    /// A GC root.
    Root {
        /// How it holds its object.
        kind: RootKind,
        /// Its name (a static field, a handle category…), if known.
        name: Option<String>,
    },
}

/// One entry of a referred-from tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefEntry {
    /// What it is.
    pub label: RefLabel,
    /// Objects of the focus types whose path passes here.
    pub count: u64,
    /// Their own bytes.
    pub bytes: u64,
    /// Their inclusive bytes in the tree of shortest paths.
    pub inclusive_bytes: u64,
    /// True if some paths were cut here by the depth limit.
    pub truncated: bool,
    /// Entries one step nearer the roots, by inclusive bytes descending.
    pub children: Vec<usize>,
}

/// An aggregated referred-from tree; entry 0 is the focus itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferredFrom {
    /// The entries; entry 0 is the focus (all objects of the types).
    pub entries: Vec<RefEntry>,
}

impl ReferredFrom {
    /// The focus entry.
    pub fn focus(&self) -> &RefEntry {
        &self.entries[0]
    }
}

/// Builds the referred-from tree of the reachable objects whose type is in
/// `types`, following shortest paths up to `max_depth` steps toward the
/// roots (deeper paths are cut and their last entry marked truncated).
pub fn referred_from(
    g: &HeapGraph,
    paths: &RootPaths,
    types: &[TypeIndex],
    max_depth: usize,
) -> ReferredFrom {
    let mut is_focus = vec![false; g.types().len()];
    for &t in types {
        is_focus[t as usize] = true;
    }
    let focus = |x: NodeIndex| is_focus[g.node_type(x) as usize];
    // Inclusive bytes of focus objects, bottom-up over the shortest-path
    // tree, stopping at focus objects. Children come after their parent in
    // the order, so walking it backwards a node's sum is complete when it
    // is met and is taken out then: the map holds only the parents still
    // waiting (about one level of the tree), not 8 bytes for every object
    // at each request.
    let mut pending: FxHashMap<NodeIndex, u64> = FxHashMap::default();
    let mut inclusive: Vec<(NodeIndex, u64)> = Vec::new();
    for &x in paths.order().rev() {
        let total = pending.remove(&x).unwrap_or(0) + g.node_size(x);
        if focus(x) {
            inclusive.push((x, total));
        } else if let Some(p) = paths.parent(x) {
            *pending.entry(p).or_insert(0) += total;
        }
    }
    drop(pending);
    inclusive.reverse(); // breadth-first order
    let focus_name = types
        .first()
        .map_or_else(String::new, |&t| g.type_info(t).name.clone());
    let mut entries = vec![RefEntry {
        label: RefLabel::Type(focus_name),
        count: 0,
        bytes: 0,
        inclusive_bytes: 0,
        truncated: false,
        children: Vec::new(),
    }];
    // Labels are interned; entries are made per (entry, label).
    let mut label_list: Vec<RefLabel> = Vec::new();
    let mut label_ids: HashMap<RefLabel, u32> = HashMap::new();
    let mut intern = |l: RefLabel| {
        *label_ids.entry(l.clone()).or_insert_with(|| {
            label_list.push(l);
            label_list.len() as u32 - 1
        })
    };
    let type_label: Vec<u32> = g
        .types()
        .iter()
        .map(|t| intern(RefLabel::Type(t.name.clone())))
        .collect();
    let root_label: Vec<u32> = g
        .roots()
        .iter()
        .map(|r| {
            intern(RefLabel::Root {
                kind: r.kind,
                name: g.root_name(r).map(str::to_owned),
            })
        })
        .collect();
    let mut child_of: HashMap<(usize, u32), usize> = HashMap::new();
    for (x, inc) in inclusive {
        let bytes = g.node_size(x);
        let add = |e: &mut RefEntry| {
            e.count += 1;
            e.bytes += bytes;
            e.inclusive_bytes += inc;
        };
        add(&mut entries[0]);
        let mut cur = 0usize;
        let mut y = x;
        let mut depth = 0;
        loop {
            let (id, up) = match paths.parent(y) {
                Some(p) => (type_label[g.node_type(p) as usize], Some(p)),
                None => match paths.root_of(y) {
                    Some(ri) => (root_label[ri], None),
                    None => break,
                },
            };
            if depth == max_depth {
                entries[cur].truncated = true;
                break;
            }
            depth += 1;
            let next = match child_of.get(&(cur, id)) {
                Some(&e) => e,
                None => {
                    entries.push(RefEntry {
                        label: label_list[id as usize].clone(),
                        count: 0,
                        bytes: 0,
                        inclusive_bytes: 0,
                        truncated: false,
                        children: Vec::new(),
                    });
                    let e = entries.len() - 1;
                    entries[cur].children.push(e);
                    child_of.insert((cur, id), e);
                    e
                }
            };
            add(&mut entries[next]);
            cur = next;
            match up {
                Some(p) => y = p,
                None => break,
            }
        }
    }
    let keys: Vec<(u64, u64)> = entries
        .iter()
        .map(|e| (e.inclusive_bytes, e.count))
        .collect();
    for e in &mut entries {
        e.children
            .sort_by(|&a, &b| keys[b].cmp(&keys[a]).then(a.cmp(&b)));
    }
    ReferredFrom { entries }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_graph::{GraphBuilder, NoProgress, TypeInfo, TypeKind};

    /// Types: 0 Holder, 1 Item, 2 Leaf. Nodes:
    /// 0 Holder -> 1, 2 ; 1 Item -> 3 ; 2 Holder -> 4 ; 3 Leaf ; 4 Item -> 5 ;
    /// 5 Item (nested in 4) ; 6 Item held only weakly ; 7 Leaf -> 6 (unreachable).
    fn sample() -> HeapGraph {
        let mut b = GraphBuilder::new();
        for name in ["Holder", "Item", "Leaf"] {
            b.add_type(TypeInfo {
                name: name.into(),
                module: None,
                kind: TypeKind::Object,
                method_table: 0,
            });
        }
        let nodes: [(u32, u64, &[u32]); 8] = [
            (0, 10, &[1, 2]),
            (1, 20, &[3]),
            (0, 10, &[4]),
            (2, 5, &[]),
            (1, 20, &[5]),
            (1, 20, &[]),
            (1, 20, &[]),
            (2, 5, &[6]),
        ];
        for (t, size, children) in nodes {
            b.add_node(t, size, 0, children.iter().copied()).unwrap();
        }
        b.add_root(6, RootKind::WeakHandle, Some("weak"));
        b.add_root(0, RootKind::Static, Some("App.s_holder"));
        b.add_root(2, RootKind::StrongHandle, None);
        b.finish().unwrap()
    }

    #[test]
    fn shortest_paths_start_at_live_roots() {
        let g = sample();
        let p = root_paths(&g, &mut NoProgress).unwrap();
        assert!(!p.is_reachable(6) && !p.is_reachable(7));
        assert!(p.order().copied().eq([0, 2, 1, 4, 3, 5]));
        // Node 4 is one step from root 2 (the handle), two from root 0.
        let path = p.path_to(4).unwrap();
        assert_eq!((path.root, path.nodes.clone()), (2, vec![2, 4]));
        assert_eq!(p.path_to(3).unwrap().nodes, vec![0, 1, 3]);
        assert_eq!(p.root_of(0), Some(1));
        assert_eq!(p.path_to(6), None);
        let first_item = p.shortest_path_to(|x| g.node_type(x) == 1).unwrap();
        assert_eq!(first_item.nodes, vec![0, 1]);
    }

    /// The focus entry's inclusive bytes, on random graphs, against a
    /// computation from each object's own root path: an object counts for
    /// the focus when a focus object is on its path (itself included).
    #[test]
    fn referred_from_inclusive_bytes_match_each_objects_path() {
        let mut rng = heaplens_corpus::patched::Rng(0x1234_5678_9abc_def1);
        for _ in 0..200 {
            let n = 1 + rng.below(40) as u32;
            let mut b = GraphBuilder::new();
            for name in ["A", "B", "C"] {
                b.add_type(TypeInfo {
                    name: name.into(),
                    module: None,
                    kind: TypeKind::Object,
                    method_table: 0,
                });
            }
            for _ in 0..n {
                let refs: Vec<u32> = (0..rng.below(4))
                    .map(|_| rng.below(n as u64) as u32)
                    .collect();
                b.add_node(rng.below(3) as u32, 1 + rng.below(100), 0, refs)
                    .unwrap();
            }
            for _ in 0..1 + rng.below(3) {
                b.add_root(rng.below(n as u64) as u32, RootKind::Static, None);
            }
            let g = b.finish().unwrap();
            let p = root_paths(&g, &mut NoProgress).unwrap();
            let t = referred_from(&g, &p, &[1], 1000);
            let mut expected = 0;
            for x in 0..g.node_count() as u32 {
                if let Some(path) = p.path_to(x) {
                    if path.nodes.iter().any(|&y| g.node_type(y) == 1) {
                        expected += g.node_size(x);
                    }
                }
            }
            assert_eq!(t.focus().inclusive_bytes, expected);
        }
    }

    #[test]
    fn referred_from_merges_paths_by_type_up_to_the_roots() {
        let g = sample();
        let p = root_paths(&g, &mut NoProgress).unwrap();
        let t = referred_from(&g, &p, &[1], 10);
        let f = t.focus();
        // Items 1, 4, 5 are reachable (6 is not).
        assert_eq!((f.count, f.bytes), (3, 60));
        // Inclusive: 1 holds leaf 3 (20 + 5); 4 and 5 each count alone.
        assert_eq!(f.inclusive_bytes, 25 + 20 + 20);
        let names = |i: usize| -> Vec<(String, u64)> {
            t.entries[i]
                .children
                .iter()
                .map(|&c| {
                    let e = &t.entries[c];
                    let name = match &e.label {
                        RefLabel::Type(n) => n.clone(),
                        RefLabel::Root { kind, name } => {
                            format!("{}:{}", kind.as_str(), name.clone().unwrap_or_default())
                        }
                    };
                    (name, e.count)
                })
                .collect()
        };
        // Referrers: Holder (items 1 and 4) and Item (item 5, nested).
        assert_eq!(
            names(0),
            vec![("Holder".to_owned(), 2), ("Item".to_owned(), 1)]
        );
        let holder = t.entries[0].children[0];
        assert_eq!(
            names(holder),
            vec![
                ("static:App.s_holder".to_owned(), 1),
                ("strong_handle:".to_owned(), 1)
            ]
        );
        // A depth limit cuts paths and says so.
        let cut = referred_from(&g, &p, &[1], 1);
        assert!(cut.entries.iter().any(|e| e.truncated));
        assert!(cut.entries[0]
            .children
            .iter()
            .all(|&c| cut.entries[c].children.is_empty()));
    }
}
