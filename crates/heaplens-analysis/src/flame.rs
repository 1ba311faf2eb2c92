//! Flame graphs of the heap: what holds the memory, aggregated by path of
//! types from the roots ([`crate::frames`]), two ways.
//!
//! * **By retained size** ([`retained_flame`]), over the dominator tree: a
//!   frame's value is what freeing the objects of its path would free.
//!   The top's children are the roots, as pseudo-frames named as a
//!   `.gcdump` names them (`[static vars]` → `[static var App.s_cache]`,
//!   `[local vars]`, `[other roots]` → `[strong Handles]`, …;
//!   [`crate::perfview::rooted::root_frames`]); an object that is a root
//!   hangs from its root (the first that holds it: a static, a handle or
//!   the finalizer queue before a stack slot, as [`crate::paths`] chooses);
//!   an object that several roots reach by separate paths, and none alone,
//!   hangs from `[reached from several roots]`. The top's value is every
//!   byte the live roots reach.
//! * **By PerfView's inclusive size** ([`inclusive_flame`]), over PerfView's
//!   spanning tree ([`crate::perfview::spanning`]): a frame's value is the
//!   bytes of the objects below it in that tree, as PerfView's RefTree and
//!   flame graph show them (raw: no grouping or folding). A graph without
//!   a root node (a dump of process memory) is seen under pseudo-nodes made
//!   from its roots ([`crate::perfview::rooted::RootedView`]). A sampled
//!   heap is scaled as PerfView scales it. Per type, the same tree gives
//!   PerfView's By Name `Inc` and `Inc Ct` ([`Flame::type_inclusive`]).
//!
//! The full tree has one frame per distinct path of types (direct
//! recursion folded); [`crate::frames::select_frames`] cuts it to a budget.
//! [`diff_flames`] merges the trees of two snapshots by frame names: per
//! frame, the base's and the current snapshot's values (PerfView's Diff
//! subtracts per path of names in the same way).

use crate::blocks::BlockVec;
use crate::diff::normalize_type_name;
use crate::dominators::{Dominator, Dominators};
use crate::frames::{Children, FrameIndex, FrameTree, FrameTreeBuilder, TOP};
use crate::perfview::rooted::{root_frames, RootedView};
use crate::perfview::spanning::{spanning_tree_of, spanning_tree_with, Orphans, Priorities};
use crate::perfview::NOT_REACHABLE;
use crate::stats::{Selection, TypeGroups};
use heaplens_graph::{
    Cancelled, HeapGraph, NodeIndex, Phase, Progress, RootKind, Sampling, TypeIndex,
};
use rustc_hash::FxHashMap;

/// The name of the frame of objects that several roots reach by separate
/// paths, and none alone (the dominator tree's virtual root dominates
/// them directly).
pub const SEVERAL_ROOTS: &str = "[reached from several roots]";

/// How a flame graph measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FlameBy {
    /// Retained size, over the dominator tree.
    Retained,
    /// PerfView's inclusive size, over its spanning tree.
    Inclusive,
}

/// What a frame stands for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FrameLabel {
    /// Objects of a type row: its id ([`TypeGroups::id_of`]). For a
    /// `.gcdump`, also its pseudo-nodes (`[.NET Roots]`, `[static vars]`),
    /// which are nodes of the graph with a type of their own.
    Type(TypeIndex),
    /// A pseudo-frame: a root category, a root, `[not reachable from
    /// roots]`, [`SEVERAL_ROOTS`].
    Pseudo(String),
}

/// A flame graph's full tree and what its keys stand for.
#[derive(Debug, Clone, PartialEq)]
pub struct Flame {
    /// How it measures.
    pub by: FlameBy,
    /// The tree. Values are bytes, counts are objects (PerfView's samples:
    /// a `.gcdump`'s pseudo-nodes and undefined nodes count too, with 0
    /// bytes).
    pub tree: FrameTree,
    /// True when values were scaled from a sampled heap.
    pub scaled: bool,
    labels: Vec<FrameLabel>,
    type_rows: usize,
}

impl Flame {
    /// What key `k` stands for.
    pub fn label(&self, key: u32) -> &FrameLabel {
        &self.labels[key as usize]
    }

    /// The name of frame `f`: its type's name (normalized if asked, see
    /// [`normalize_type_name`]) or its pseudo-frame's; `ROOT` for the top.
    pub fn frame_name(&self, g: &HeapGraph, f: FrameIndex, normalize: bool) -> String {
        if f == TOP {
            return "ROOT".to_owned();
        }
        match self.label(self.tree.key(f)) {
            FrameLabel::Type(t) => {
                let name = &g.type_info(*t).name;
                if normalize {
                    normalize_type_name(name)
                } else {
                    name.clone()
                }
            }
            FrameLabel::Pseudo(s) => s.clone(),
        }
    }

    /// Number of type rows: keys below it are type rows (by
    /// [`TypeGroups`] group index), the others pseudo-frames.
    pub fn type_rows(&self) -> usize {
        self.type_rows
    }

    /// Per type row (by [`TypeGroups`] group index): PerfView's By Name
    /// inclusive columns over this tree, (Inc, Inc Ct) — for a flame by
    /// inclusive size, PerfView's own; for one by retained size, the same
    /// sum over the dominator tree, which is the row's retained size.
    pub fn type_inclusive(&self) -> Vec<(f64, f64)> {
        self.tree.inclusive_by_key(self.type_rows)
    }
}

/// Keys of frames: type rows first, then pseudo-frames by name.
struct Keys {
    groups: TypeGroups,
    labels: Vec<FrameLabel>,
    pseudo: FxHashMap<String, u32>,
}

impl Keys {
    fn new(g: &HeapGraph) -> Keys {
        let groups = TypeGroups::of(g);
        let labels = groups.first.iter().map(|&t| FrameLabel::Type(t)).collect();
        Keys {
            groups,
            labels,
            pseudo: FxHashMap::default(),
        }
    }

    fn type_keys(&self) -> Vec<u32> {
        self.groups.group.iter().map(|&g| g as u32).collect()
    }

    fn pseudo(&mut self, name: &str) -> u32 {
        if let Some(&k) = self.pseudo.get(name) {
            return k;
        }
        let k = self.labels.len() as u32;
        self.labels.push(FrameLabel::Pseudo(name.to_owned()));
        self.pseudo.insert(name.to_owned(), k);
        k
    }

    fn finish(self, by: FlameBy, tree: FrameTree, scaled: bool) -> Flame {
        Flame {
            by,
            tree,
            scaled,
            type_rows: self.groups.first.len(),
            labels: self.labels,
        }
    }
}

/// The root that explains a root object: per object held by a live root,
/// the first such root, long-lived roots (statics, handles, the finalizer
/// queue) before stack slots — as [`crate::paths::root_paths`] chooses.
pub fn first_roots(g: &HeapGraph) -> FxHashMap<NodeIndex, usize> {
    let mut out: FxHashMap<NodeIndex, usize> = FxHashMap::default();
    for stack in [false, true] {
        for (i, r) in g.roots().iter().enumerate() {
            if r.kind.keeps_alive() && (r.kind == RootKind::Stack) == stack {
                out.entry(r.object).or_insert(i);
            }
        }
    }
    out
}

/// Objects between two progress reports: bounded work, so a cancel stops
/// the tree soon (`tests/cancel.rs`).
const PROGRESS_STEP: usize = 1 << 16;

/// The flame graph by retained size over the dominator tree `dom` of `g`
/// (see the module's documentation). Sizes are the graph's, not scaled.
/// Progress phase `"flame graph"`, in reachable objects.
pub fn retained_flame(
    g: &HeapGraph,
    dom: &Dominators,
    progress: &mut dyn Progress,
) -> Result<Flame, Cancelled> {
    let mut keys = Keys::new(g);
    let type_key = keys.type_keys();
    let first = first_roots(g);
    let mut b = FrameTreeBuilder::new();
    // Frames of root chains, by root (kind, name).
    let mut chains: FxHashMap<(RootKind, Option<u32>), FrameIndex> = FxHashMap::default();
    let mut several: Option<FrameIndex> = None;
    // In blocks: see `BlockVec`.
    let mut frame = BlockVec::from_elem(0u32, g.node_count());
    let total = dom.reachable_count() as u64;
    // Each object after its immediate dominator, whose frame is then made.
    dom.walk_preorder(g, |x, i| {
        let parent = match dom.idom(x) {
            Some(Dominator::Node(d)) => frame[d as usize],
            _ => match first.get(&x) {
                Some(&r) => {
                    let root = g.roots()[r];
                    *chains.entry((root.kind, root.name)).or_insert_with(|| {
                        let mut f = TOP;
                        for name in root_frames(root.kind, g.root_name(&root)) {
                            f = b.child(f, keys.pseudo(&name));
                        }
                        f
                    })
                }
                None => *several.get_or_insert_with(|| b.child(TOP, keys.pseudo(SEVERAL_ROOTS))),
            },
        };
        let f = b.child(parent, type_key[g.node_type(x) as usize]);
        frame[x as usize] = f;
        b.add(f, g.node_size(x) as f64, 1.0);
        if i % PROGRESS_STEP == PROGRESS_STEP - 1 {
            progress.update(Phase::FlameGraph, i as u64, total)?;
        }
        Ok(())
    })?;
    progress.update(Phase::FlameGraph, total, total)?;
    Ok(keys.finish(FlameBy::Retained, b.finish(), false))
}

/// The flame graph by PerfView's inclusive size over its spanning tree
/// (see the module's documentation), of the objects `selection` counts:
/// with [`Selection::All`] (a `.gcdump`: every object is one the GC found
/// live) the nodes the root does not reach hang from `[not reachable from
/// roots]`, as in PerfView's raw view; with [`Selection::Reachable`] (a
/// whole-heap dump, whose unreachable objects are garbage) they are left
/// out. Progress phases `"spanning tree"` and `"flame graph"`.
pub fn inclusive_flame(
    g: &HeapGraph,
    sampling: Option<&Sampling>,
    selection: Selection,
    progress: &mut dyn Progress,
) -> Result<Flame, Cancelled> {
    let priorities = Priorities::default();
    let orphans = match selection {
        Selection::All => Orphans::Include,
        Selection::Reachable => Orphans::Exclude,
    };
    let mut keys = Keys::new(g);
    let type_key = keys.type_keys();
    let n = g.node_count();
    let view;
    let tree = if g.root_node().is_some() {
        view = None;
        spanning_tree_with(g, &priorities, orphans, progress)?
    } else {
        let v = RootedView::new(g, &priorities);
        let t = spanning_tree_of(&v, orphans, progress)?;
        view = Some(v);
        t
    };
    let total = tree.node_count();
    let (mut parents, order) = tree.into_parts();
    let not_reachable = total as u32;
    let mut nr_frame: Option<FrameIndex> = None;
    let mut b = FrameTreeBuilder::new();
    // Each node's parent is replaced by the node's frame once the node is
    // placed (parents are placed before their children).
    for (i, &x) in order.iter().enumerate() {
        let raw = parents[x as usize];
        let parent = if raw == u32::MAX {
            TOP
        } else if raw == not_reachable {
            *nr_frame.get_or_insert_with(|| b.child(TOP, keys.pseudo(NOT_REACHABLE)))
        } else {
            parents[raw as usize]
        };
        let (key, value, count) = if (x as usize) < n {
            let t = g.node_type(x);
            let m = sampling.map_or(1.0, |s| s.multiplier(t) as f64);
            (type_key[t as usize], g.node_size(x) as f64 * m, m)
        } else {
            let name = view
                .as_ref()
                .and_then(|v| v.pseudo_name(x))
                .unwrap_or("[pseudo]");
            (keys.pseudo(name), 0.0, 0.0)
        };
        let f = b.child(parent, key);
        parents[x as usize] = f;
        b.add(f, value, count);
        if i % PROGRESS_STEP == PROGRESS_STEP - 1 {
            progress.update(Phase::FlameGraph, i as u64, order.len() as u64)?;
        }
    }
    progress.update(Phase::FlameGraph, order.len() as u64, order.len() as u64)?;
    Ok(keys.finish(FlameBy::Inclusive, b.finish(), sampling.is_some()))
}

/// One side's numbers of a frame of a [`FlameDiff`].
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Side {
    /// Value of the frame and below.
    pub value: f64,
    /// Count of the frame and below.
    pub count: f64,
    /// Value of the frame itself.
    pub self_value: f64,
    /// Count of the frame itself.
    pub self_count: f64,
}

/// A frame of a [`FlameDiff`].
#[derive(Debug, Clone, PartialEq)]
pub struct DiffFrame {
    /// Its parent (`u32::MAX` for the top, frame 0); parents come first.
    pub parent: u32,
    /// Its name (a type's, normalized if the diff normalizes, or a
    /// pseudo-frame's; `ROOT` for the top).
    pub name: String,
    /// True when it stands for a type.
    pub is_type: bool,
    /// The base snapshot's numbers.
    pub base: Side,
    /// The current snapshot's numbers.
    pub current: Side,
}

/// Two flame graphs merged by frame names: PerfView's diff semantics (per
/// path of names, current minus base).
#[derive(Debug, Clone, PartialEq)]
pub struct FlameDiff {
    /// The frames, parents first; frame 0 is the top.
    pub frames: Vec<DiffFrame>,
    /// True when type names were compared normalized.
    pub names_normalized: bool,
}

impl FlameDiff {
    /// The parents of the frames (`u32::MAX` for the top).
    pub fn parents(&self) -> Vec<u32> {
        self.frames.iter().map(|f| f.parent).collect()
    }
}

/// One side of a merge by frame names ([`merge_by_name`]): a tree of
/// frames, each with a name and its numbers. The flame graphs of a
/// snapshot ([`Flame`] with its graph) and their documents (as a worker
/// sends them) both merge through it, so both give the same diff.
pub trait NamedFrames {
    /// The top frame (none for an empty tree): its children are what is
    /// merged first; its own numbers count in the result's top.
    fn tops(&self) -> Vec<u32>;
    /// The children of frame `f`.
    fn children_of(&self, f: u32) -> &[u32];
    /// Frame `f`'s name (type names normalized when `normalize`), and
    /// whether it stands for a type.
    fn name(&self, f: u32, normalize: bool) -> (String, bool);
    /// Frame `f`'s numbers.
    fn side(&self, f: u32) -> Side;
}

/// Merges two trees of named frames by the names of their frames' paths
/// (PerfView's diff semantics): frame 0 of the result is the top (`ROOT`).
pub fn merge_by_name(
    base: &dyn NamedFrames,
    current: &dyn NamedFrames,
    normalize: bool,
) -> FlameDiff {
    let sides = [base, current];
    // Per merged frame: the frames of each side it stands for.
    let mut members: Vec<[Vec<u32>; 2]> = vec![[base.tops(), current.tops()]];
    let mut frames = vec![DiffFrame {
        parent: u32::MAX,
        name: "ROOT".to_owned(),
        is_type: false,
        base: Side::default(),
        current: Side::default(),
    }];
    let mut i = 0;
    while i < frames.len() {
        let mut index: FxHashMap<String, usize> = FxHashMap::default();
        let mut kids: Vec<(String, bool, [Vec<u32>; 2])> = Vec::new();
        for (s, side) in sides.iter().enumerate() {
            for &f in &members[i][s] {
                for &c in side.children_of(f) {
                    let (name, is_type) = side.name(c, normalize);
                    let k = *index.entry(name.clone()).or_insert_with(|| {
                        kids.push((name, is_type, [Vec::new(), Vec::new()]));
                        kids.len() - 1
                    });
                    kids[k].2[s].push(c);
                }
            }
        }
        for (name, is_type, m) in kids {
            frames.push(DiffFrame {
                parent: i as u32,
                name,
                is_type,
                base: Side::default(),
                current: Side::default(),
            });
            members.push(m);
        }
        i += 1;
    }
    for (frame, m) in frames.iter_mut().zip(&members) {
        for (s, total) in [&mut frame.base, &mut frame.current]
            .into_iter()
            .enumerate()
        {
            for &f in &m[s] {
                let x = sides[s].side(f);
                total.value += x.value;
                total.count += x.count;
                total.self_value += x.self_value;
                total.self_count += x.self_count;
            }
        }
    }
    FlameDiff {
        frames,
        names_normalized: normalize,
    }
}

/// A snapshot's [`Flame`] with its graph, as one side of a merge.
struct FlameSide<'a> {
    flame: &'a Flame,
    graph: &'a HeapGraph,
    children: Children,
}

impl NamedFrames for FlameSide<'_> {
    fn tops(&self) -> Vec<u32> {
        vec![TOP]
    }
    fn children_of(&self, f: u32) -> &[u32] {
        self.children.of_frame(f)
    }
    fn name(&self, f: u32, normalize: bool) -> (String, bool) {
        let name = self.flame.frame_name(self.graph, f, normalize);
        let is_type = matches!(
            self.flame.label(self.flame.tree.key(f)),
            FrameLabel::Type(_)
        );
        (name, is_type)
    }
    fn side(&self, f: u32) -> Side {
        let t = &self.flame.tree;
        Side {
            value: t.value(f),
            count: t.count(f),
            self_value: t.self_value(f),
            self_count: t.self_count(f),
        }
    }
}

/// Merges the flame graphs of two snapshots (`base` of graph `bg`,
/// `current` of graph `cg`) by the names of their frames' paths.
pub fn diff_flames(
    base: &Flame,
    bg: &HeapGraph,
    current: &Flame,
    cg: &HeapGraph,
    normalize: bool,
) -> FlameDiff {
    fn side<'a>(flame: &'a Flame, graph: &'a HeapGraph) -> FlameSide<'a> {
        FlameSide {
            flame,
            graph,
            children: flame.tree.children(),
        }
    }
    merge_by_name(&side(base, bg), &side(current, cg), normalize)
}

/// The children lists of a [`FlameDiff`].
pub fn diff_children(d: &FlameDiff) -> Children {
    Children::of(&d.parents())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dominators::dominators;
    use heaplens_graph::{GraphBuilder, NoProgress, TypeInfo, TypeKind};

    /// Types: 0 Holder, 1 Item, 2 Leaf. Nodes:
    /// 0 Holder (static S) -> 1 Item -> 2 Leaf ; 1 -> 3 Item -> 4 Leaf ;
    /// 5 Leaf held by a stack root and by 0 ; 6 unreachable Item.
    fn sample(extra_items: u32) -> HeapGraph {
        let mut b = GraphBuilder::new();
        for name in ["Holder", "Item", "Leaf"] {
            b.add_type(TypeInfo {
                name: name.into(),
                module: None,
                kind: TypeKind::Object,
                method_table: 0,
            });
        }
        b.add_node(0, 100, 0x10, [1, 5]).unwrap();
        b.add_node(1, 20, 0x20, [2, 3]).unwrap();
        b.add_node(2, 5, 0x30, []).unwrap();
        b.add_node(1, 20, 0x40, [4]).unwrap();
        b.add_node(2, 5, 0x50, []).unwrap();
        b.add_node(2, 7, 0x60, []).unwrap();
        b.add_node(1, 20, 0x70, []).unwrap();
        for i in 0..extra_items {
            b.add_node(1, 20, 0x100 + i as u64 * 16, []).unwrap();
        }
        b.add_root(0, RootKind::Static, Some("App.S"));
        b.add_root(5, RootKind::Stack, Some("thread 1"));
        for i in 0..extra_items {
            b.add_root(7 + i, RootKind::StrongHandle, None);
        }
        b.finish().unwrap()
    }

    fn find(flame: &Flame, g: &HeapGraph, path: &[&str]) -> FrameIndex {
        let c = flame.tree.children();
        let mut f = TOP;
        for name in path {
            f = *c
                .of_frame(f)
                .iter()
                .find(|&&x| flame.frame_name(g, x, false) == *name)
                .unwrap_or_else(|| panic!("no {name} under {}", flame.frame_name(g, f, false)));
        }
        f
    }

    #[test]
    fn retained_flame_follows_the_dominator_tree() {
        let g = sample(0);
        let dom = dominators(&g, &mut NoProgress).unwrap();
        let fl = retained_flame(&g, &dom, &mut NoProgress).unwrap();
        // 5 is reached from the static (through 0) and from the stack: the
        // virtual root dominates it, yet it is a root's object.
        assert_eq!(fl.tree.value(TOP), 157.0);
        let holder = find(&fl, &g, &["[static vars]", "[static var App.S]", "Holder"]);
        assert_eq!(fl.tree.value(holder), 150.0);
        // Item -> Item folds: one frame of both Items and their Leafs.
        let item = find(
            &fl,
            &g,
            &["[static vars]", "[static var App.S]", "Holder", "Item"],
        );
        assert_eq!((fl.tree.value(item), fl.tree.count(item)), (50.0, 4.0));
        assert_eq!(fl.tree.self_count(item), 2.0);
        let leaf = find(&fl, &g, &["[local vars]", "Leaf"]);
        assert_eq!(fl.tree.value(leaf), 7.0);
        // Per type: the retained sizes.
        let inc = fl.type_inclusive();
        assert_eq!(inc[0], (150.0, 5.0));
        assert_eq!(inc[1], (50.0, 4.0));
        assert_eq!(inc[2], (17.0, 3.0));
    }

    #[test]
    fn inclusive_flame_follows_perfviews_spanning_tree() {
        let g = sample(0);
        let fl = inclusive_flame(&g, None, Selection::Reachable, &mut NoProgress).unwrap();
        assert_eq!(fl.tree.value(TOP), 157.0);
        // The static's pseudo-node wins over [local vars] for Leaf 5.
        let holder = find(
            &fl,
            &g,
            &[
                "[.NET Roots]",
                "[static vars]",
                "[static var App.S]",
                "Holder",
            ],
        );
        assert_eq!(fl.tree.value(holder), 157.0);
        assert_eq!(fl.tree.count(holder), 6.0);
        let all = inclusive_flame(&g, None, Selection::All, &mut NoProgress).unwrap();
        assert_eq!(all.tree.value(TOP), 177.0);
        let nr = find(&all, &g, &[NOT_REACHABLE, "Item"]);
        assert_eq!(all.tree.value(nr), 20.0);
    }

    #[test]
    fn diffs_merge_paths_by_name() {
        let (bg, cg) = (sample(0), sample(3));
        let b = inclusive_flame(&bg, None, Selection::Reachable, &mut NoProgress).unwrap();
        let c = inclusive_flame(&cg, None, Selection::Reachable, &mut NoProgress).unwrap();
        let d = diff_flames(&b, &bg, &c, &cg, false);
        assert_eq!(d.frames[0].base.value, 157.0);
        assert_eq!(d.frames[0].current.value, 217.0);
        let new_items = d
            .frames
            .iter()
            .find(|f| f.name == "Item" && f.base.value == 0.0)
            .unwrap();
        assert_eq!(new_items.current.value, 60.0);
        assert_eq!(d.frames[new_items.parent as usize].name, "[strong Handles]");
    }
}
