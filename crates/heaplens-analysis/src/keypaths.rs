//! Key retention paths: the objects of a type grouped by the path of types
//! that keeps them alive, the paths that hold the most objects first
//! (dotMemory's key retention paths, MAT's merged shortest paths).
//!
//! An object's path is its **shortest path** from a root
//! ([`crate::paths::root_paths`]): every step is a reference the program
//! holds, so the path reads as code does (`static Roots.Leak` →
//! `List<LeakItem>` → `LeakItem[]` → `LeakItem`), and it is the path the
//! `roots` view shows. (A path in the dominator tree would skip the
//! objects shared by several paths, and an object that several roots reach
//! would have none.) Its *signature* is the root (kind and name) and the
//! chain of types from the root's object to the object, a run of one type
//! counted once (a linked list of 50 nodes is one step, as PerfView folds
//! recursion): objects with one signature are one key path. The
//! signatures are the frames of the tree of shortest paths aggregated by
//! type ([`crate::frames`]).
//!
//! Per key path: the objects, their bytes, and with the dominator tree
//! their retained bytes (each object counted once: objects dominated by
//! another object of the type are inside its retained size), and the first
//! object in breadth-first order as an example.

use crate::dominators::{Dominator, Dominators};
use crate::frames::{FrameIndex, FrameTreeBuilder, TOP};
use crate::paths::RootPaths;
use crate::retained::RetainedSizes;
use crate::stats::TypeGroups;
use heaplens_graph::{Cancelled, HeapGraph, NodeIndex, Phase, Progress, RootKind, TypeIndex};
use rustc_hash::FxHashMap;

/// One key retention path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPath {
    /// The root (an index into [`HeapGraph::roots`]) of the first object
    /// found on this path; all of them have its kind and name.
    pub root: usize,
    /// The type rows ([`TypeGroups::id_of`]) from the root's object to the
    /// objects of the focus, a run of one type once.
    pub steps: Vec<TypeIndex>,
    /// Objects of the focus on this path.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Their retained bytes, each object once (with the dominator tree).
    pub retained_bytes: Option<u64>,
    /// The first of them in breadth-first order.
    pub example: NodeIndex,
}

/// The key retention paths of a focus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPaths {
    /// The paths, most objects first, then most retained bytes, then most
    /// bytes, then the earliest example.
    pub paths: Vec<KeyPath>,
    /// Objects of the focus a root reaches (on all paths).
    pub objects: u64,
}

/// The key retention paths of the objects whose type is in `focus`, from
/// the shortest paths `paths`, with retained bytes when `retained` is
/// given; all of them (a view shows the first). Progress phase `"key
/// paths"`, in reachable objects.
pub fn key_paths(
    g: &HeapGraph,
    paths: &RootPaths,
    focus: &[TypeIndex],
    retained: Option<(&Dominators, &RetainedSizes)>,
    progress: &mut dyn Progress,
) -> Result<KeyPaths, Cancelled> {
    let groups = TypeGroups::of(g);
    let mut is_focus = vec![false; g.types().len()];
    for &t in focus {
        is_focus[t as usize] = true;
    }
    let in_focus = |x: NodeIndex| is_focus[g.node_type(x) as usize];
    // Signatures: frames of the shortest-path tree by type row. Root
    // frames are keyed past the rows, one per (kind, name).
    let rows = groups.first.len() as u32;
    let mut root_keys: FxHashMap<(RootKind, Option<u32>), u32> = FxHashMap::default();
    let mut b = FrameTreeBuilder::new();
    let mut frame = vec![0u32; g.node_count()];
    // Per frame with objects of the focus: (count, bytes, retained, example, root).
    let mut acc: FxHashMap<FrameIndex, (u64, u64, u64, NodeIndex, usize)> = FxHashMap::default();
    // Focus objects dominated by another focus object (with dominators).
    let top_level = retained.map(|(dom, _)| top_level_of(g, dom, &in_focus));
    for (i, &x) in paths.order().enumerate() {
        let (parent, root) = match paths.parent(x) {
            Some(p) => (frame[p as usize], None),
            None => {
                let r = paths.root_of(x).unwrap_or(0);
                let root = g.roots()[r];
                let n = root_keys.len() as u32;
                let k = *root_keys.entry((root.kind, root.name)).or_insert(rows + n);
                (b.child(TOP, k), Some(r))
            }
        };
        let f = b.child(parent, groups.group[g.node_type(x) as usize] as u32);
        frame[x as usize] = f;
        if in_focus(x) {
            let size = g.node_size(x);
            let kept = match (&top_level, retained) {
                (Some(top), Some((_, sizes))) if top.contains(x) => sizes.get(x),
                _ => 0,
            };
            let root_of = |x: NodeIndex| -> usize {
                let mut y = x;
                while let Some(p) = paths.parent(y) {
                    y = p;
                }
                paths.root_of(y).unwrap_or(0)
            };
            let e = acc
                .entry(f)
                .or_insert_with(|| (0, 0, 0, x, root.unwrap_or_else(|| root_of(x))));
            e.0 += 1;
            e.1 += size;
            e.2 += kept;
        }
        if i % (1 << 16) == (1 << 16) - 1 {
            progress.update(Phase::KeyPaths, i as u64, paths.reachable_count() as u64)?;
        }
    }
    let tree = b.finish();
    let mut out: Vec<KeyPath> = acc
        .into_iter()
        .map(|(f, (count, bytes, kept, example, root))| KeyPath {
            root,
            steps: tree
                .path(f)
                .into_iter()
                .filter(|&k| k < rows)
                .map(|k| groups.first[k as usize])
                .collect(),
            count,
            bytes,
            retained_bytes: retained.map(|_| kept),
            example,
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(b.retained_bytes.cmp(&a.retained_bytes))
            .then(b.bytes.cmp(&a.bytes))
            .then(a.example.cmp(&b.example))
    });
    let objects = out.iter().map(|p| p.count).sum();
    progress.update(
        Phase::KeyPaths,
        paths.reachable_count() as u64,
        paths.reachable_count() as u64,
    )?;
    Ok(KeyPaths {
        paths: out,
        objects,
    })
}

/// The objects of the focus that no other object of the focus dominates.
struct TopLevel(Vec<u64>);

impl TopLevel {
    fn contains(&self, x: NodeIndex) -> bool {
        self.0[(x / 64) as usize] >> (x % 64) & 1 == 1
    }
}

/// Each focus object without a focus object among its dominators, found
/// by going up the dominator tree from the focus objects only (what each
/// node met on the way says is remembered, so no node is looked at twice;
/// no reference of the graph is read).
fn top_level_of(g: &HeapGraph, dom: &Dominators, in_focus: &dyn Fn(NodeIndex) -> bool) -> TopLevel {
    let words = g.node_count().div_ceil(64);
    // Per node: whether it was looked at, and whether a focus object is at
    // or above it in the dominator tree.
    let mut known = vec![0u64; words];
    let mut covered = vec![0u64; words];
    let mut top = vec![0u64; words];
    let get = |v: &[u64], x: u32| v[(x / 64) as usize] >> (x % 64) & 1 == 1;
    let set = |v: &mut [u64], x: u32| v[(x / 64) as usize] |= 1 << (x % 64);
    let up = |x: NodeIndex| match dom.idom(x) {
        Some(Dominator::Node(d)) => Some(d),
        _ => None,
    };
    let mut chain = Vec::new();
    for x in (0..g.node_count() as u32).filter(|&x| in_focus(x)) {
        chain.clear();
        let mut above = false;
        let mut at = up(x);
        while let Some(c) = at {
            if get(&known, c) {
                above = get(&covered, c);
                break;
            }
            if in_focus(c) {
                above = true;
                break;
            }
            chain.push(c);
            at = up(c);
        }
        for &c in &chain {
            set(&mut known, c);
            if above {
                set(&mut covered, c);
            }
        }
        if !above {
            set(&mut top, x);
        }
        set(&mut known, x);
        set(&mut covered, x);
    }
    TopLevel(top)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dominators::dominators;
    use crate::paths::root_paths;
    use crate::retained::retained_sizes;
    use heaplens_graph::{GraphBuilder, NoProgress, TypeInfo, TypeKind};

    #[test]
    fn top_level_focus_objects_are_those_no_other_focus_object_dominates() {
        // Pseudo-random graphs against the definition: a focus object `d`
        // dominates `x` when the roots reach `x` (and reach it only) with
        // `d` in the graph — checked by walking the graph without `d`.
        let mut rng = heaplens_corpus::patched::Rng(0x9e37_79b9_7f4a_7c15u64);
        let mut next = |m: u64| rng.below(m) as u32;
        for case in 0..200 {
            let n = 1 + next(30);
            let mut b = GraphBuilder::new();
            for name in ["A", "B"] {
                b.add_type(TypeInfo {
                    name: name.into(),
                    module: None,
                    kind: TypeKind::Object,
                    method_table: 0,
                });
            }
            let lists: Vec<Vec<u32>> = (0..n)
                .map(|_| (0..next(4)).map(|_| next(n as u64)).collect())
                .collect();
            for (i, l) in lists.iter().enumerate() {
                b.add_node(next(2), 8, 0x10 * (i as u64 + 1), l.iter().copied())
                    .unwrap();
            }
            let roots: Vec<u32> = (0..1 + next(3)).map(|_| next(n as u64)).collect();
            for &r in &roots {
                b.add_root(r, RootKind::Static, None);
            }
            let g = b.finish().unwrap();
            let reach = |without: Option<u32>| {
                let mut seen = vec![false; n as usize];
                let mut stack: Vec<u32> = roots
                    .iter()
                    .copied()
                    .filter(|&r| Some(r) != without)
                    .collect();
                while let Some(x) = stack.pop() {
                    if std::mem::replace(&mut seen[x as usize], true) {
                        continue;
                    }
                    stack.extend(
                        lists[x as usize]
                            .iter()
                            .copied()
                            .filter(|&c| Some(c) != without),
                    );
                }
                seen
            };
            let all = reach(None);
            let focus = |x: NodeIndex| g.node_type(x) == 0;
            let dom = dominators(&g, &mut NoProgress).unwrap();
            let top = top_level_of(&g, &dom, &focus);
            for x in (0..n).filter(|&x| focus(x) && all[x as usize]) {
                let dominated = (0..n)
                    .any(|d| d != x && focus(d) && all[d as usize] && !reach(Some(d))[x as usize]);
                assert_eq!(top.contains(x), !dominated, "case {case}, node {x}");
            }
        }
    }

    #[test]
    fn objects_are_grouped_by_their_path_of_types() {
        let mut b = GraphBuilder::new();
        for name in ["List", "Item[]", "Item", "Node", "Other"] {
            b.add_type(TypeInfo {
                name: name.into(),
                module: None,
                kind: TypeKind::Object,
                method_table: 0,
            });
        }
        // 0 List -> 1 Item[] -> 2, 3, 4 Item ; 5 Node -> 6 Node -> 7 Item ;
        // 8 Other -> 9 Item ; 2 -> 10 Item (nested in an Item)
        b.add_node(0, 32, 0x10, [1]).unwrap();
        b.add_node(1, 48, 0x20, [2, 3, 4]).unwrap();
        b.add_node(2, 24, 0x30, [10]).unwrap();
        b.add_node(2, 24, 0x40, []).unwrap();
        b.add_node(2, 24, 0x50, []).unwrap();
        b.add_node(3, 24, 0x60, [6]).unwrap();
        b.add_node(3, 24, 0x70, [7]).unwrap();
        b.add_node(2, 24, 0x80, []).unwrap();
        b.add_node(4, 24, 0x90, [9]).unwrap();
        b.add_node(2, 24, 0xa0, []).unwrap();
        b.add_node(2, 24, 0xb0, []).unwrap();
        b.add_root(0, RootKind::Static, Some("App.Items"));
        b.add_root(5, RootKind::Static, Some("App.Head"));
        b.add_root(8, RootKind::Stack, Some("thread 1"));
        let g = b.finish().unwrap();
        let paths = root_paths(&g, &mut NoProgress).unwrap();
        let dom = dominators(&g, &mut NoProgress).unwrap();
        let sizes = retained_sizes(&g, &dom);
        let k = key_paths(&g, &paths, &[2], Some((&dom, &sizes)), &mut NoProgress).unwrap();
        assert_eq!(k.objects, 6);
        let got: Vec<(usize, Vec<u32>, u64, Option<u64>)> = k
            .paths
            .iter()
            .map(|p| (p.root, p.steps.clone(), p.count, p.retained_bytes))
            .collect();
        assert_eq!(
            got,
            vec![
                // Items in the list, the nested one folded in (its
                // retained bytes are inside its parent's).
                (0, vec![0, 1, 2], 4, Some(24 * 4)),
                (1, vec![3, 2], 1, Some(24)),
                (2, vec![4, 2], 1, Some(24)),
            ]
        );
        assert_eq!(k.paths[0].example, 2);
        let no_dom = key_paths(&g, &paths, &[2], None, &mut NoProgress).unwrap();
        assert_eq!(no_dom.paths[0].retained_bytes, None);
    }
}
