//! The `roots` document: why the objects of a type are alive — shortest
//! paths from the GC roots and the referred-from tree (`heaplens roots`;
//! the page's type detail).

use crate::coverage::{CoverageFacts, UnreachableAre};
use crate::{heaplens_version, Address, DocumentKind, NodeId, TypeId, SCHEMA_VERSION};
use heaplens_analysis::keypaths::KeyPaths;
use heaplens_analysis::paths::{referred_from, RefLabel, ReferredFrom, RootPaths};
use heaplens_analysis::stats::TypeGroups;
use heaplens_graph::{HeapGraph, NodeIndex, TypeIndex};
use heaplens_snapshot::Snapshot;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet, VecDeque};

/// Why the objects of a type (its focus: one row, or every row of one
/// name) are alive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootsDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Roots`].
    pub document: DocumentKind,
    /// The file as it was given.
    pub file: String,
    /// True when the result is the whole heap's (see `coverage`).
    pub complete: bool,
    /// How much of the heap, its roots and the file the input holds.
    pub coverage: CoverageFacts,
    /// What the focus's objects no root reaches are (`garbage`, or a
    /// `.gcdump`'s `not_reachable_from_roots`).
    pub unreachable_are: UnreachableAre,
    /// The focus's name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The rows the focus is made of (several when rows share the name).
    pub type_ids: Vec<TypeId>,
    /// The focus's objects a live root reaches.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The focus's objects no live root reaches.
    pub unreachable: u64,
    /// The shortest path from a root to an object of the focus (the first
    /// of `paths`; `null` when no live root reaches one).
    pub shortest_path: Option<RootPath>,
    /// Shortest paths, shortest first, each ending in a different chain of
    /// types, as many as asked.
    pub paths: Vec<RootPath>,
    /// The referred-from tree: the focus, then the referrers of its objects
    /// on their shortest paths, merged by type name, each level one step
    /// nearer the roots; every branch ends at a root.
    pub referred_from: RefNode,
    /// What the numbers mean where it is not obvious.
    pub notes: Vec<String>,
    /// Key retention paths, when asked: the focus's objects grouped by
    /// their shortest path's root and chain of types (a run of one type
    /// once), the paths holding the most objects first.
    #[serde(default)]
    pub key_paths: Vec<KeyPathEntry>,
    /// Distinct key paths in all (also those `key_paths` leaves out).
    #[serde(default)]
    pub key_path_count: u64,
}

/// A key retention path: the objects of the focus whose shortest path
/// starts at one root and passes through one chain of types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPathEntry {
    /// How the root holds the first object.
    pub root_kind: RootKind,
    /// The static field (`Type.field`) or the root's category, when known.
    pub root_name: Option<String>,
    /// The types from the root's object (first) to the focus (last), a run
    /// of one type once.
    pub path: Vec<String>,
    /// The rows of `path`'s types.
    pub type_ids: Vec<TypeId>,
    /// Objects of the focus on this path.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Their retained bytes (each object once), when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_bytes: Option<u64>,
    /// The first of them in breadth-first order.
    pub example: PathStep,
}

/// How a root holds its object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootKind {
    /// A static field.
    Static,
    /// A thread-static field.
    ThreadStatic,
    /// A thread's stack or registers.
    Stack,
    /// A strong GC handle.
    StrongHandle,
    /// A pinned handle.
    PinnedHandle,
    /// An async-pinned handle.
    AsyncPinnedHandle,
    /// A ref-counted handle.
    RefCountedHandle,
    /// A dependent handle.
    DependentHandle,
    /// A sized-ref handle.
    SizedRefHandle,
    /// A weak handle (never keeps its object alive).
    WeakHandle,
    /// The finalizer queue.
    Finalizer,
    /// COM interop.
    ComInterop,
    /// A frozen segment's object.
    Frozen,
    /// Any other.
    Other,
}

impl From<heaplens_graph::RootKind> for RootKind {
    fn from(k: heaplens_graph::RootKind) -> Self {
        use heaplens_graph::RootKind as G;
        match k {
            G::Static => RootKind::Static,
            G::ThreadStatic => RootKind::ThreadStatic,
            G::Stack => RootKind::Stack,
            G::StrongHandle => RootKind::StrongHandle,
            G::PinnedHandle => RootKind::PinnedHandle,
            G::AsyncPinnedHandle => RootKind::AsyncPinnedHandle,
            G::RefCountedHandle => RootKind::RefCountedHandle,
            G::DependentHandle => RootKind::DependentHandle,
            G::SizedRefHandle => RootKind::SizedRefHandle,
            G::WeakHandle => RootKind::WeakHandle,
            G::Finalizer => RootKind::Finalizer,
            G::ComInterop => RootKind::ComInterop,
            G::Frozen => RootKind::Frozen,
            G::Other => RootKind::Other,
        }
    }
}

impl RootKind {
    /// The name as the JSON writes it (`strong_handle`).
    pub fn as_str(self) -> &'static str {
        match self {
            RootKind::Static => "static",
            RootKind::ThreadStatic => "thread_static",
            RootKind::Stack => "stack",
            RootKind::StrongHandle => "strong_handle",
            RootKind::PinnedHandle => "pinned_handle",
            RootKind::AsyncPinnedHandle => "async_pinned_handle",
            RootKind::RefCountedHandle => "ref_counted_handle",
            RootKind::DependentHandle => "dependent_handle",
            RootKind::SizedRefHandle => "sized_ref_handle",
            RootKind::WeakHandle => "weak_handle",
            RootKind::Finalizer => "finalizer",
            RootKind::ComInterop => "com_interop",
            RootKind::Frozen => "frozen",
            RootKind::Other => "other",
        }
    }

    /// A root as people read it: `[static root] App.s_cache`.
    pub fn label(self, name: Option<&str>) -> String {
        match name {
            Some(n) => format!("[{} root] {n}", self.as_str()),
            None => format!("[{} root]", self.as_str()),
        }
    }
}

/// A path from a root to an object of the focus.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootPath {
    /// How the root holds the first object.
    pub root_kind: RootKind,
    /// The static field (`Type.field`) or the root's category, when known.
    pub root_name: Option<String>,
    /// The types from the root's object (first) to the object of the focus
    /// (last): the names of `steps`.
    pub path: Vec<String>,
    /// The objects from the root's object to the object of the focus.
    pub steps: Vec<PathStep>,
}

/// An object on a path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PathStep {
    /// The object.
    pub node: NodeId,
    /// Its type's row id.
    pub type_id: TypeId,
    /// Its type's name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its address (left out where the input has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// An entry of the referred-from tree: the focus's objects whose shortest
/// path passes through objects of one type (or starts at one root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefNode {
    /// The type's name, or for a root `[kind root] name`.
    pub name: String,
    /// The rows of that name (for a type entry; the tree merges by name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub type_ids: Vec<TypeId>,
    /// How the root holds its object (for a root entry).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_kind: Option<RootKind>,
    /// The root's name (for a root entry that has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_name: Option<String>,
    /// The focus's objects whose shortest path passes here.
    pub count: u64,
    /// Their own bytes.
    pub bytes: u64,
    /// Their bytes with what hangs below them on shortest paths (other
    /// objects of the focus excluded).
    pub inclusive_bytes: u64,
    /// True when paths go deeper than the tree's depth.
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub truncated: bool,
    /// Entries left out below this one (beyond the children or entries
    /// asked for).
    #[serde(default, skip_serializing_if = "crate::is_zero")]
    pub omitted_children: u64,
    /// Entries one step nearer the roots, largest inclusive bytes first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<RefNode>,
}

/// How much of the answer to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RootsLimits {
    /// Shortest paths with different chains of types.
    pub paths: usize,
    /// Levels of the referred-from tree below the focus.
    pub depth: usize,
    /// Entries under each entry, largest first.
    pub children: usize,
    /// Entries in all, breadth-first (`None`: no limit).
    pub entries: Option<usize>,
}

impl RootsDocument {
    /// The document of the objects of the graph types `focus` of
    /// `snapshot`, from the shortest paths `paths`
    /// ([`heaplens_analysis::paths::root_paths`]).
    pub fn build(
        file: &str,
        snapshot: &Snapshot,
        paths: &RootPaths,
        focus: &[TypeIndex],
        limits: RootsLimits,
    ) -> RootsDocument {
        let g = &snapshot.graph;
        let groups = TypeGroups::of(g);
        let mut is_focus = vec![false; g.types().len()];
        for &t in focus {
            is_focus[t as usize] = true;
        }
        let in_focus = |x: NodeIndex| is_focus[g.node_type(x) as usize];
        let (mut count, mut bytes, mut unreachable) = (0u64, 0u64, 0u64);
        for x in 0..g.node_count() as NodeIndex {
            if in_focus(x) {
                if paths.is_reachable(x) {
                    count += 1;
                    bytes += g.node_size(x);
                } else {
                    unreachable += 1;
                }
            }
        }
        let root_paths = shortest_paths(g, &groups, paths, &in_focus, limits.paths);
        let tree = referred_from(g, paths, focus, limits.depth);
        let mut type_ids: Vec<TypeId> = focus.iter().map(|&t| TypeId(groups.id_of(t))).collect();
        type_ids.sort_unstable();
        type_ids.dedup();
        let mut notes = Vec::new();
        if snapshot.info.sampling.is_some() {
            notes.push(
                "This .gcdump is a sample of the heap: the counts and bytes here are those of \
                 the sampled objects, not scaled; paths and referrers are those of the sampled \
                 objects."
                    .to_owned(),
            );
        }
        RootsDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Roots,
            file: file.to_owned(),
            complete: snapshot.info.coverage.is_complete(),
            coverage: CoverageFacts::of(&snapshot.info.coverage),
            unreachable_are: UnreachableAre::of(snapshot.info.capabilities),
            type_name: focus
                .first()
                .map_or_else(String::new, |&t| g.type_info(t).name.clone()),
            type_ids,
            count,
            bytes,
            unreachable,
            shortest_path: root_paths.first().cloned(),
            paths: root_paths,
            referred_from: nest(g, &groups, &tree, limits),
            notes,
            key_paths: Vec::new(),
            key_path_count: 0,
        }
    }

    /// Adds the first `limit` of the key retention paths `key` (of this
    /// document's focus in `snapshot`,
    /// [`heaplens_analysis::keypaths::key_paths`]).
    pub fn add_key_paths(&mut self, snapshot: &Snapshot, key: &KeyPaths, limit: usize) {
        let g = &snapshot.graph;
        let groups = TypeGroups::of(g);
        self.key_path_count = key.paths.len() as u64;
        self.key_paths = key
            .paths
            .iter()
            .take(limit)
            .map(|p| {
                let root = &g.roots()[p.root];
                let t = g.node_type(p.example);
                KeyPathEntry {
                    root_kind: root.kind.into(),
                    root_name: g.root_name(root).map(str::to_owned),
                    path: p
                        .steps
                        .iter()
                        .map(|&id| g.type_info(id).name.clone())
                        .collect(),
                    type_ids: p.steps.iter().map(|&id| TypeId(id)).collect(),
                    count: p.count,
                    bytes: p.bytes,
                    retained_bytes: p.retained_bytes,
                    example: PathStep {
                        node: NodeId(p.example),
                        type_id: TypeId(groups.id_of(t)),
                        type_name: g.type_info(t).name.clone(),
                        address: Some(Address(g.node_address(p.example))).filter(|a| a.0 != 0),
                    },
                }
            })
            .collect();
    }
}

/// Up to `limit` shortest paths to objects matching `in_focus`, in
/// breadth-first order, one per chain of types.
fn shortest_paths(
    g: &HeapGraph,
    groups: &TypeGroups,
    paths: &RootPaths,
    in_focus: &dyn Fn(NodeIndex) -> bool,
    limit: usize,
) -> Vec<RootPath> {
    let mut out = Vec::new();
    let mut seen: HashSet<Vec<TypeIndex>> = HashSet::new();
    for &x in paths.order() {
        if out.len() >= limit {
            break;
        }
        if !in_focus(x) {
            continue;
        }
        let Some(p) = paths.path_to(x) else { continue };
        let chain: Vec<TypeIndex> = p.nodes.iter().map(|&n| g.node_type(n)).collect();
        if !seen.insert(chain) {
            continue;
        }
        let root = &g.roots()[p.root];
        let steps: Vec<PathStep> = p
            .nodes
            .iter()
            .map(|&n| {
                let t = g.node_type(n);
                PathStep {
                    node: NodeId(n),
                    type_id: TypeId(groups.id_of(t)),
                    type_name: g.type_info(t).name.clone(),
                    address: Some(Address(g.node_address(n))).filter(|a| a.0 != 0),
                }
            })
            .collect();
        out.push(RootPath {
            root_kind: root.kind.into(),
            root_name: g.root_name(root).map(str::to_owned),
            path: steps.iter().map(|s| s.type_name.clone()).collect(),
            steps,
        });
    }
    out
}

/// The analysis's tree as nested entries, within `limits`: the largest
/// `children` of each entry, breadth-first, at most `entries` in all.
fn nest(g: &HeapGraph, groups: &TypeGroups, tree: &ReferredFrom, limits: RootsLimits) -> RefNode {
    let entries = &tree.entries;
    // Which entries are written, and how many are left out under each.
    let mut kept = vec![false; entries.len()];
    let mut omitted = vec![0u64; entries.len()];
    let mut written = 0usize;
    let mut queue = VecDeque::from([(0usize, None::<usize>)]);
    while let Some((i, parent)) = queue.pop_front() {
        if limits.entries.is_some_and(|n| written >= n) {
            if let Some(p) = parent {
                omitted[p] += 1;
            }
            continue;
        }
        kept[i] = true;
        written += 1;
        let children = &entries[i].children;
        omitted[i] += children.len().saturating_sub(limits.children) as u64;
        for &c in children.iter().take(limits.children) {
            queue.push_back((c, Some(i)));
        }
    }
    // Rows of each type name, for the type entries.
    let mut ids_of_name: HashMap<&str, Vec<TypeId>> = HashMap::new();
    for &id in &groups.first {
        ids_of_name
            .entry(g.type_info(id).name.as_str())
            .or_default()
            .push(TypeId(id));
    }
    let node = |i: usize| -> RefNode {
        let e = &entries[i];
        let (name, type_ids, root_kind, root_name) = match &e.label {
            RefLabel::Type(n) => (
                n.clone(),
                ids_of_name.get(n.as_str()).cloned().unwrap_or_default(),
                None,
                None,
            ),
            RefLabel::Root { kind, name } => {
                let kind = RootKind::from(*kind);
                (
                    kind.label(name.as_deref()),
                    Vec::new(),
                    Some(kind),
                    name.clone(),
                )
            }
        };
        RefNode {
            name,
            type_ids,
            root_kind,
            root_name,
            count: e.count,
            bytes: e.bytes,
            inclusive_bytes: e.inclusive_bytes,
            truncated: e.truncated,
            omitted_children: omitted[i],
            children: Vec::new(),
        }
    };
    // Build bottom-up without recursion: children are finished before
    // their parent takes them (an explicit stack in depth-first order).
    let mut done: HashMap<usize, RefNode> = HashMap::new();
    let mut stack = vec![(0usize, false)];
    while let Some((i, expanded)) = stack.pop() {
        let kids = entries[i].children.iter().copied().filter(|&c| kept[c]);
        if expanded {
            let mut n = node(i);
            n.children = kids.filter_map(|c| done.remove(&c)).collect();
            done.insert(i, n);
        } else {
            stack.push((i, true));
            stack.extend(kids.map(|c| (c, false)));
        }
    }
    done.remove(&0).unwrap_or_else(|| node(0))
}
