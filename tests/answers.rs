//! From numbers to the answer, against independent references: PerfView's
//! own outputs, the runtime's own heap walk and the program's own account
//! of what it did, and computations written here over the reference
//! graphs (not calls into the code under test).
//!
//! * `perfview_inc`: per `.gcdump` sample, PerfView's By Name `Inc` and
//!   `Inc Ct` (the golden raw view) equal the `stats` document's inclusive
//!   columns (for every golden row that stands for one type row) and the
//!   inclusive flame graph's per-frame-name sums (for every golden row);
//!   every frame name's sums equal PerfView's call tree as reproduced by
//!   `perfview::calltree` (checked against the goldens elsewhere); the
//!   total equals PerfView's.
//! * `inclusive_flame_vs_perfview_tree`: per sample, every frame of the
//!   flame graph by inclusive size equals the sum, computed here, of the
//!   objects whose path of types in **PerfView's own spanning tree** (the
//!   golden `*.parents.txt`) starts with the frame's path.
//! * `retained_flame`: per fixture and phase (the runtime's own object
//!   graph, static fields as roots), every frame of the flame graph by
//!   retained size equals the sum over a dominator tree computed here
//!   (iterative data-flow algorithm); the top equals the bytes the live
//!   roots reach, computed here.
//! * `inclusive_flame`: the same for the flame graph by inclusive size of
//!   the fixture graphs, over the engine's PerfView spanning tree (checked
//!   node for node against PerfView on the samples); the top equals the
//!   reachable bytes.
//! * `folds`: arrays folded into their referrers (PerfView's FoldPats
//!   `[]`): each type's Fold columns equal the arrays walked up here to
//!   their nearest referrer of another type in the spanning tree.
//! * `retained_growth`: phase 1 → 2 (the program grows its leak), by
//!   retained growth the first type is the program's own leaking
//!   collection — the object found here in the reference graph that holds
//!   the `LeakItem`s — on the reference graphs and on the dumps (on a dump
//!   without its modules' metadata, whose statics are no roots of their
//!   own, right after the statics' array that holds it).
//! * `key_paths`: the key retention paths of `LeakItem`, `ChainNode`,
//!   `RootTarget`, `Byte[]` and `String` equal those computed here by a
//!   breadth-first walk; `LeakItem`'s first path holds the program's own
//!   count, the chain's 50 nodes are one path.
//! * `groups`: on dumps that hold their modules' metadata, the DumpLab
//!   classes (which declare no base type and no interface) implement
//!   nothing and derive from `System.Object` only; `List<T>`,
//!   `Dictionary<K,V>` and arrays implement what .NET documents; groups
//!   add up their members; inputs without metadata say so.

use heaplens_analysis::diff::DiffOrder;
use heaplens_analysis::dominators::dominators;
use heaplens_analysis::flame::{inclusive_flame, retained_flame};
use heaplens_analysis::groups::{GroupBy, TypeGrouping, NOT_KNOWN, NO_INTERFACE, OBJECT_ONLY};
use heaplens_analysis::keypaths::key_paths;
use heaplens_analysis::paths::root_paths;
use heaplens_analysis::perfview::calltree::CallTree;
use heaplens_analysis::perfview::filter::FilterParams;
use heaplens_analysis::perfview::frame_name;
use heaplens_analysis::perfview::rooted::RootedView;
use heaplens_analysis::perfview::spanning::{
    spanning_tree, spanning_tree_of, Orphans, Priorities, SpanningTree,
};
use heaplens_analysis::perfview::stacks::StackSource;
use heaplens_analysis::retained::{retained_by_type, retained_sizes};
use heaplens_analysis::stats::{Selection, TypeGroups};
use heaplens_graph::{HeapGraph, NoProgress, RootKind, TypeIndex, TypeKind};
use heaplens_results::diff::{add_retained, diff_snapshots};
use heaplens_results::flame::{flame_of, FlameDocument, FlameLimits, FlameMeasure, FrameKind};
use heaplens_results::stats::{stats_of, StatsDocument};
use heaplens_snapshot::Snapshot;
use heaplens_tests::golden::{parse_parents, parse_view};
use heaplens_tests::{fixture_graph, fixture_modules};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};

fn json(path: &Path) -> Result<Value, Failed> {
    let bytes =
        heaplens_corpus::read_maybe_zst(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn graph(dir: &Path, phase: u32) -> Result<HeapGraph, Failed> {
    Ok(fixture_graph::load(
        &dir.join(format!("phase{phase}.graph.json.zst")),
        true,
    )?)
}

/// A reference graph as a snapshot of a whole-heap dump (its objects are
/// counted when the live roots reach them).
fn as_snapshot(g: HeapGraph) -> Snapshot {
    let format = heaplens_snapshot::format::by_name("elf-core").expect("a registered format");
    Snapshot {
        graph: g,
        info: heaplens_snapshot::SnapshotInfo::new(format),
    }
}

fn open_file(path: &Path) -> Result<Snapshot, Failed> {
    let src = heaplens_bytes::FileSource::open(path).map_err(|e| e.to_string())?;
    heaplens_snapshot::open(&src, &mut NoProgress)
        .map_err(|e| format!("{}: {e}", path.display()).into())
}

fn open_dump(dir: &Path, path: &Path) -> Result<Snapshot, Failed> {
    let modules = fixture_modules::for_fixture(dir)?.unwrap_or_default();
    let file = heaplens_corpus::unpacked(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let src = heaplens_bytes::FileSource::open(&file).map_err(|e| e.to_string())?;
    heaplens_snapshot::open_with(&src, &modules, &mut NoProgress)
        .map_err(|e| format!("{}: {e}", path.display()).into())
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

fn golden(shared: &Path, sample: &Path, ext: &str) -> Result<String, Failed> {
    let p = shared
        .join("samples/gcdump/golden")
        .join(format!("{}.{ext}", stem(sample)));
    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()).into())
}

// ---------------------------------------------------------------------
// PerfView's Inc and Inc Ct.

/// PerfView's By Name inclusive columns against the goldens.
fn perfview_inc(shared: &Path, sample: &Path) -> Result<(), Failed> {
    let snap = open_file(sample)?;
    let g = &snap.graph;
    let sections = parse_view(&golden(shared, sample, "view.txt")?);
    let raw = sections
        .iter()
        .find(|s| s.title.starts_with("raw"))
        .ok_or("no raw section")?;
    let flame = flame_of(&snap, FlameMeasure::Inclusive, &mut NoProgress)?;
    let mut doc = StatsDocument::build_all("x", 0, &snap, &stats_of(&snap));
    doc.add_columns(g, &flame);
    if doc.inclusive_total != Some(raw.total_metric as u64) {
        return Err(format!(
            "inclusive total {:?}, PerfView {}",
            doc.inclusive_total, raw.total_metric
        )
        .into());
    }
    // Per PerfView frame name (`module!ShortName`): the rows of that name
    // (the flame graph's keys are type rows).
    let rows = TypeGroups::of(g);
    let mut name_ids: HashMap<String, u32> = HashMap::new();
    let row_name: Vec<u32> = rows
        .first
        .iter()
        .map(|&t| {
            let n = name_ids.len() as u32;
            *name_ids.entry(frame_name(g, t)).or_insert(n)
        })
        .collect();
    let sets: Vec<[u32; 1]> = row_name.iter().map(|&n| [n]).collect();
    let by_name = flame.tree.inclusive_by_sets(name_ids.len(), |k| {
        sets.get(k as usize).map_or(&[], |s| s.as_slice())
    });
    let of_name = |n: &str| name_ids.get(n).map(|&i| by_name[i as usize]);
    let mut rows_checked = 0;
    for w in &raw.rows {
        if w.name == "ROOT" || w.name == "UNDEFINED" {
            continue;
        }
        let got = of_name(&w.name).ok_or_else(|| format!("no frame {:?}", w.name))?;
        if got != (w.inc, w.inc_count) {
            return Err(format!(
                "{:?}: ours {got:?}, PerfView {:?}",
                w.name,
                (w.inc, w.inc_count)
            )
            .into());
        }
        let mine: Vec<_> = doc
            .types
            .iter()
            .filter(|r| frame_name(g, r.id.0) == w.name)
            .collect();
        if let [r] = mine[..] {
            let got = (r.inc, r.inc_count, r.bytes, r.count);
            let want = (
                Some(w.inc as u64),
                Some(w.inc_count as u64),
                w.exc as u64,
                w.exc_count as u64,
            );
            if got != want {
                return Err(format!("row {:?}: ours {got:?}, PerfView {want:?}", w.name).into());
            }
            rows_checked += 1;
        }
    }
    if rows_checked < 20 {
        return Err(format!("only {rows_checked} golden rows stand for one type row").into());
    }
    // Every name, against PerfView's call tree as reproduced.
    let tree = spanning_tree(g, &Priorities::default(), &mut NoProgress)?;
    let src = StackSource::from_graph(g, snap.info.sampling.as_ref(), &tree);
    let calltree = CallTree::new(&src, &FilterParams::none())?;
    let mut names = 0;
    for r in calltree.by_name() {
        if r.name == "ROOT" || r.name == "UNDEFINED" || r.name.starts_with("[not reachable") {
            continue;
        }
        let got = of_name(&r.name).ok_or_else(|| format!("no frame {:?}", r.name))?;
        if got != (r.columns.inc, r.columns.inc_count) {
            return Err(format!(
                "{:?}: ours {got:?}, call tree {:?}",
                r.name,
                (r.columns.inc, r.columns.inc_count)
            )
            .into());
        }
        names += 1;
    }
    eprintln!(
        "{}: {rows_checked} golden rows as type rows, {} golden rows by name, {names} names \
         against the call tree",
        stem(sample),
        raw.rows.len()
    );
    Ok(())
}

// ---------------------------------------------------------------------
// Flame graphs against sums written here.

/// A frame's identity: its path of segments (`T<type row id>` for a type,
/// `R<name>` for a pseudo-frame).
type FramePath = Vec<String>;

/// Every frame of a document (none cut) by path: (bytes, count).
fn doc_frames(doc: &FlameDocument) -> Result<HashMap<FramePath, (u64, u64)>, Failed> {
    let mut paths: Vec<FramePath> = Vec::with_capacity(doc.frames.len());
    let mut out = HashMap::new();
    for f in &doc.frames {
        let seg = match f.kind {
            FrameKind::Root => None,
            FrameKind::Type => Some(format!(
                "T{}",
                f.type_id.ok_or("a type frame without id")?.0
            )),
            FrameKind::Roots => Some(format!("R{}", f.name)),
            FrameKind::Other => return Err("a frame was cut".into()),
        };
        let mut p = f
            .parent
            .map_or_else(Vec::new, |p| paths[p as usize].clone());
        if let Some(s) = seg {
            p.push(s);
            if out.insert(p.clone(), (f.bytes, f.count)).is_some() {
                return Err(format!("two frames {p:?}").into());
            }
        }
        paths.push(p);
    }
    Ok(out)
}

/// Sums per path prefix: each node adds its (bytes, count) to every prefix
/// of its path.
fn prefix_sums<'a>(
    nodes: impl Iterator<Item = (&'a FramePath, u64, u64)>,
) -> HashMap<FramePath, (u64, u64)> {
    let mut out: HashMap<FramePath, (u64, u64)> = HashMap::new();
    for (p, bytes, count) in nodes {
        for i in 1..=p.len() {
            let e = out.entry(p[..i].to_vec()).or_default();
            e.0 += bytes;
            e.1 += count;
        }
    }
    out
}

/// `path` + `seg`, a run of one segment once.
fn extend(path: &FramePath, seg: String) -> FramePath {
    let mut p = path.clone();
    if p.last() != Some(&seg) {
        p.push(seg);
    }
    p
}

fn compare_frames(
    what: &str,
    ours: &HashMap<FramePath, (u64, u64)>,
    want: &HashMap<FramePath, (u64, u64)>,
) -> Result<(), Failed> {
    for (p, v) in want {
        match ours.get(p) {
            Some(o) if o == v => {}
            o => return Err(format!("{what}: frame {p:?}: ours {o:?}, here {v:?}").into()),
        }
    }
    if ours.len() != want.len() {
        let extra: Vec<_> = ours
            .keys()
            .filter(|k| !want.contains_key(*k))
            .take(3)
            .collect();
        return Err(format!(
            "{what}: {} frames, {} here; not here: {extra:?}",
            ours.len(),
            want.len()
        )
        .into());
    }
    if want.len() < 10 {
        return Err(format!("{what}: only {} frames", want.len()).into());
    }
    Ok(())
}

const ALL: FlameLimits = FlameLimits {
    max_frames: usize::MAX,
    min_percent: 0.0,
};

/// The inclusive flame graph of a sample over PerfView's own spanning tree.
fn inclusive_flame_vs_perfview_tree(shared: &Path, sample: &Path) -> Result<(), Failed> {
    let snap = open_file(sample)?;
    let g = &snap.graph;
    let want = parse_parents(&golden(shared, sample, "parents.txt")?);
    let n = g.node_count();
    // Type rows of a .gcdump: types of one name and module are one row,
    // named by the first.
    let mut first: HashMap<(&str, Option<u32>), TypeIndex> = HashMap::new();
    let row: Vec<TypeIndex> = g
        .types()
        .iter()
        .enumerate()
        .map(|(i, t)| {
            *first
                .entry((t.name.as_str(), t.module))
                .or_insert(i as TypeIndex)
        })
        .collect();
    let seg = |x: u32| -> String {
        let t = g.node_type(x);
        match g.type_info(t).kind {
            TypeKind::Pseudo => format!("R{}", g.type_info(t).name),
            _ => format!("T{}", row[t as usize]),
        }
    };
    let mut path: Vec<FramePath> = vec![Vec::new(); n];
    for &x in &want.order {
        let p = match want.parents[x as usize] {
            -1 => Vec::new(),
            p if p as usize == n => vec!["R[not reachable from roots]".to_owned()],
            p => path[p as usize].clone(),
        };
        path[x as usize] = extend(&p, seg(x));
    }
    let sums = prefix_sums(
        want.order
            .iter()
            .map(|&x| (&path[x as usize], g.node_size(x), 1)),
    );
    let flame = inclusive_flame(g, None, Selection::All, &mut NoProgress)?;
    let doc = FlameDocument::build("x", g, &flame, ALL);
    let total: u64 = (0..n as u32).map(|x| g.node_size(x)).sum();
    if doc.total
        != (heaplens_results::flame::FlameTotal {
            bytes: total,
            count: n as u64,
        })
    {
        return Err(format!("top {:?}, graph {total} bytes in {n} nodes", doc.total).into());
    }
    compare_frames("inclusive", &doc_frames(&doc)?, &sums)
}

/// A test's own dominator tree: the iterative data-flow algorithm (Cooper,
/// Harvey, Kennedy) over the graph with a virtual root (`n`) joining the
/// roots that keep their object alive. Returns per node its immediate
/// dominator (`n` for the virtual root, `u32::MAX` when unreachable) and
/// the reachable nodes in reverse postorder.
fn test_dominators(g: &HeapGraph) -> (Vec<u32>, Vec<u32>) {
    let n = g.node_count();
    let root = n as u32;
    let succ = |x: u32| -> Vec<u32> {
        if x == root {
            g.roots()
                .iter()
                .filter(|r| r.kind.keeps_alive())
                .map(|r| r.object)
                .collect()
        } else {
            g.children(x).to_vec()
        }
    };
    // Postorder by an explicit stack.
    let mut seen = vec![false; n + 1];
    let mut post: Vec<u32> = Vec::new();
    let mut stack: Vec<(u32, Vec<u32>, usize)> = vec![(root, succ(root), 0)];
    seen[root as usize] = true;
    while let Some(top) = stack.last_mut() {
        if top.2 < top.1.len() {
            let c = top.1[top.2];
            top.2 += 1;
            if !seen[c as usize] {
                seen[c as usize] = true;
                let s = succ(c);
                stack.push((c, s, 0));
            }
        } else {
            post.push(top.0);
            stack.pop();
        }
    }
    let mut po_num = vec![u32::MAX; n + 1];
    for (i, &x) in post.iter().enumerate() {
        po_num[x as usize] = i as u32;
    }
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n + 1];
    for &x in &post {
        for c in succ(x) {
            preds[c as usize].push(x);
        }
    }
    let rpo: Vec<u32> = post.iter().rev().copied().collect();
    let mut idom = vec![u32::MAX; n + 1];
    idom[root as usize] = root;
    let intersect = |idom: &[u32], mut a: u32, mut b: u32| {
        while a != b {
            while po_num[a as usize] < po_num[b as usize] {
                a = idom[a as usize];
            }
            while po_num[b as usize] < po_num[a as usize] {
                b = idom[b as usize];
            }
        }
        a
    };
    let mut changed = true;
    while changed {
        changed = false;
        for &b in rpo.iter().skip(1) {
            let mut new = u32::MAX;
            for &p in &preds[b as usize] {
                if idom[p as usize] == u32::MAX {
                    continue;
                }
                new = if new == u32::MAX {
                    p
                } else {
                    intersect(&idom, p, new)
                };
            }
            if idom[b as usize] != new {
                idom[b as usize] = new;
                changed = true;
            }
        }
    }
    idom.truncate(n);
    (idom, rpo.into_iter().skip(1).collect())
}

/// Where a root hangs (its pseudo-frames), as the documents name them.
fn root_segments(kind: RootKind, name: Option<&str>) -> Vec<String> {
    let mut v: Vec<&str> = match kind {
        RootKind::Static => vec!["[static vars]"],
        RootKind::ThreadStatic => vec!["[thread static vars]"],
        RootKind::Stack => vec!["[local vars]"],
        RootKind::Finalizer => vec!["[other roots]", "[finalizer Handles]"],
        RootKind::PinnedHandle | RootKind::AsyncPinnedHandle => {
            vec!["[other roots]", "[pinning Handles]"]
        }
        RootKind::StrongHandle => vec!["[other roots]", "[strong Handles]"],
        RootKind::RefCountedHandle | RootKind::SizedRefHandle | RootKind::WeakHandle => {
            vec!["[other roots]", "[other Handles]"]
        }
        RootKind::DependentHandle => vec!["[other roots]", "[Dependent Handles]"],
        RootKind::Frozen => vec!["[other roots]", "[frozen objects]"],
        RootKind::ComInterop => vec!["[COM/WinRT Objects]"],
        RootKind::Other => vec!["[other roots]"],
    };
    let var = name.map(|n| format!("[static var {n}]"));
    if matches!(kind, RootKind::Static | RootKind::ThreadStatic) {
        if let Some(v2) = &var {
            v.push(v2);
        }
    }
    v.iter().map(|s| format!("R{s}")).collect()
}

/// The first live root holding each root object: statics, handles and the
/// finalizer queue before stack slots, in root order.
fn first_roots(g: &HeapGraph) -> HashMap<u32, usize> {
    let mut out = HashMap::new();
    for stack in [false, true] {
        for (i, r) in g.roots().iter().enumerate() {
            if r.kind.keeps_alive() && (r.kind == RootKind::Stack) == stack {
                out.entry(r.object).or_insert(i);
            }
        }
    }
    out
}

/// The retained flame graph of a fixture graph against a dominator tree
/// computed here.
fn retained_flame_check(dir: &Path) -> Result<(), Failed> {
    for phase in [1, 2] {
        let g = graph(dir, phase)?;
        let (idom, rpo) = test_dominators(&g);
        let n = g.node_count() as u32;
        let first = first_roots(&g);
        let mut path: Vec<FramePath> = vec![Vec::new(); g.node_count()];
        for &x in &rpo {
            let p = if idom[x as usize] == n {
                match first.get(&x) {
                    Some(&r) => {
                        let root = g.roots()[r];
                        root_segments(root.kind, g.root_name(&root))
                    }
                    None => vec!["R[reached from several roots]".to_owned()],
                }
            } else {
                path[idom[x as usize] as usize].clone()
            };
            path[x as usize] = extend(&p, format!("T{}", g.node_type(x)));
        }
        let sums = prefix_sums(rpo.iter().map(|&x| (&path[x as usize], g.node_size(x), 1)));
        let reachable: u64 = rpo.iter().map(|&x| g.node_size(x)).sum();
        let dom = dominators(&g, &mut NoProgress)?;
        let flame = retained_flame(&g, &dom, &mut NoProgress)?;
        let doc = FlameDocument::build("x", &g, &flame, ALL);
        if doc.total.bytes != reachable || doc.total.count != rpo.len() as u64 {
            return Err(format!(
                "phase {phase}: top {:?}, reachable here {reachable} in {}",
                doc.total,
                rpo.len()
            )
            .into());
        }
        compare_frames(
            &format!("retained, phase {phase}"),
            &doc_frames(&doc)?,
            &sums,
        )?;
        // Per type, the flame graph's By Name sums are the retained sizes.
        let sizes = retained_sizes(&g, &dom);
        let inc = flame.type_inclusive();
        let rows = TypeGroups::of(&g);
        for t in retained_by_type(&g, &dom, &sizes) {
            let got = inc[rows.group[t.id as usize]].0 as u64;
            if got != t.retained_bytes {
                return Err(
                    format!("{}: flame {got}, retained {}", t.name, t.retained_bytes).into(),
                );
            }
        }
    }
    Ok(())
}

/// The inclusive flame graph of a fixture graph: sums over the engine's
/// spanning tree (its pseudo-nodes above the roots) computed here.
fn inclusive_flame_check(dir: &Path) -> Result<(), Failed> {
    let g = graph(dir, 2)?;
    let view = RootedView::new(&g, &Priorities::default());
    let tree = spanning_tree_of(&view, Orphans::Exclude, &mut NoProgress)?;
    let n = g.node_count();
    let mut path: Vec<FramePath> = vec![Vec::new(); n + view.pseudo_count()];
    for &x in tree.order() {
        let p = match tree.raw_parents()[x as usize] {
            SpanningTree::NO_PARENT => Vec::new(),
            p => path[p as usize].clone(),
        };
        let seg = match view.pseudo_name(x) {
            Some(name) => format!("R{name}"),
            None => format!("T{}", g.node_type(x)),
        };
        path[x as usize] = extend(&p, seg);
    }
    let sums = prefix_sums(tree.order().iter().map(|&x| {
        let (b, c) = if (x as usize) < n {
            (g.node_size(x), 1)
        } else {
            (0, 0)
        };
        (&path[x as usize], b, c)
    }));
    let (_, rpo) = test_dominators(&g);
    let reachable: u64 = rpo.iter().map(|&x| g.node_size(x)).sum();
    let flame = inclusive_flame(&g, None, Selection::Reachable, &mut NoProgress)?;
    let doc = FlameDocument::build("x", &g, &flame, ALL);
    if doc.total.bytes != reachable || doc.total.count != rpo.len() as u64 {
        return Err(format!("top {:?}, reachable here {reachable}", doc.total).into());
    }
    compare_frames("inclusive", &doc_frames(&doc)?, &sums)
}

/// Folding arrays into their referrers: the stats document's Fold columns
/// against the objects of array types walked up, here, to their nearest
/// referrer of another type in the engine's spanning tree.
fn folds_check(dir: &Path) -> Result<(), Failed> {
    let snap = as_snapshot(graph(dir, 2)?);
    let g = &snap.graph;
    let n = g.node_count();
    let is_array = |t: TypeIndex| g.type_info(t).name.ends_with("[]");
    let view = RootedView::new(g, &Priorities::default());
    let tree = spanning_tree_of(&view, Orphans::Exclude, &mut NoProgress)?;
    let mut into: HashMap<TypeIndex, (u64, u64)> = HashMap::new();
    let mut roots = (0u64, 0u64);
    for &x in tree.order() {
        if x as usize >= n || !is_array(g.node_type(x)) {
            continue;
        }
        let mut y = x;
        let owner = loop {
            match tree.raw_parents()[y as usize] {
                SpanningTree::NO_PARENT => break None,
                p if p as usize >= n => break None,
                p if is_array(g.node_type(p)) => y = p,
                p => break Some(g.node_type(p)),
            }
        };
        let e = match owner {
            Some(t) => into.entry(t).or_default(),
            None => &mut roots,
        };
        e.0 += g.node_size(x);
        e.1 += 1;
    }
    let flame = inclusive_flame(g, None, Selection::Reachable, &mut NoProgress)?;
    let stats = stats_of(&snap);
    let mut doc = StatsDocument::build_all("x", 0, &snap, &stats);
    doc.add_columns(g, &flame);
    let folded: Vec<_> = doc
        .types
        .iter()
        .filter(|r| r.name.ends_with("[]"))
        .map(|r| r.id)
        .collect();
    doc.add_folds(g, &flame, &folded, Some("\\[\\]$".into()), None);
    let f = doc.folds.as_ref().ok_or("no folds")?;
    if (f.into_roots.bytes, f.into_roots.count) != roots {
        return Err(format!("into roots {:?}, here {roots:?}", f.into_roots).into());
    }
    let mut nonzero = 0;
    for r in &doc.types {
        let want = into.get(&r.id.0).copied().unwrap_or_default();
        let got = if r.name.ends_with("[]") {
            (0, 0)
        } else {
            (r.fold_bytes.unwrap_or(0), r.fold_count.unwrap_or(0))
        };
        if got != want {
            return Err(format!("{}: fold {got:?}, here {want:?}", r.name).into());
        }
        nonzero += usize::from(want.1 > 0);
    }
    if nonzero < 3 {
        return Err(format!("only {nonzero} types got folded arrays").into());
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Growth by retained size.

/// The object that holds the `LeakItem`s, found in the reference graph:
/// from the `LeakItem`s up through their only referrer, until an object a
/// root holds. Its type's name and MethodTable.
fn leak_holder(g: &HeapGraph) -> Result<(String, u64), Failed> {
    let name = |x: u32| g.type_info(g.node_type(x)).name.as_str();
    let mut referrers: Vec<Vec<u32>> = vec![Vec::new(); g.node_count()];
    for x in 0..g.node_count() as u32 {
        for &c in g.children(x) {
            referrers[c as usize].push(x);
        }
    }
    let rooted: HashSet<u32> = g
        .roots()
        .iter()
        .filter(|r| r.kind == RootKind::Static)
        .map(|r| r.object)
        .collect();
    let mut set: BTreeSet<u32> = (0..g.node_count() as u32)
        .filter(|&x| name(x) == "DumpLab.LeakItem")
        .collect();
    if set.len() < 100 {
        return Err(format!("only {} LeakItems", set.len()).into());
    }
    for _ in 0..8 {
        let up: BTreeSet<u32> = set
            .iter()
            .flat_map(|&x| referrers[x as usize].iter().copied())
            .filter(|r| !set.contains(r))
            .collect();
        let [holder] = up.iter().copied().collect::<Vec<_>>()[..] else {
            return Err(format!(
                "{} referrers above {:?}",
                up.len(),
                set.first().map(|&x| name(x))
            )
            .into());
        };
        if rooted.contains(&holder) {
            let mt = g.type_info(g.node_type(holder)).method_table;
            return Ok((name(holder).to_owned(), mt));
        }
        set = BTreeSet::from([holder]);
    }
    Err("no rooted holder within 8 steps".into())
}

/// By retained growth, the first type of a diff is the leak's holder (by
/// name, or where the dump cannot name it, by MethodTable: the dumps are
/// of the process the reference walked). Where the static fields are no
/// roots of their own (a dump without its modules' metadata), the statics'
/// array, pinned by a handle, dominates the holder and grows at least as
/// much: it may come first, an array type, with the holder right after.
fn growth_first(
    base: &Snapshot,
    current: &Snapshot,
    (holder, holder_mt): &(String, u64),
    statics_are_roots: bool,
) -> Result<(), Failed> {
    let is_holder = |t: &heaplens_analysis::diff::TypeDelta| {
        t.name == *holder
            || t.current_types
                .iter()
                .any(|&id| current.graph.type_info(id).method_table == *holder_mt)
    };
    let mut d = diff_snapshots(base, current, Default::default());
    let by_bytes = d.types.first().map(|t| t.name.clone());
    let flame = |s| flame_of(s, FlameMeasure::Retained, &mut NoProgress);
    let (b, c) = (flame(base)?, flame(current)?);
    add_retained(&mut d, (base, &b), (current, &c));
    d.sort(DiffOrder::RetainedGrowth);
    let mut first = d.types.first().ok_or("no changed type")?;
    if let [statics, second, ..] = &d.types[..] {
        if !statics_are_roots
            && !is_holder(statics)
            && statics.name.ends_with("[]")
            && is_holder(second)
            && statics.retained_delta() >= second.retained_delta()
        {
            first = second;
        }
    }
    if !is_holder(first) {
        let top: Vec<_> = d
            .types
            .iter()
            .take(4)
            .map(|t| (t.name.as_str(), t.retained_delta()))
            .collect();
        return Err(format!("first by retained growth: {top:?}; the holder is {holder}").into());
    }
    // Its count and bytes did not change: by bytes it is not even a row.
    if by_bytes.as_deref() == Some(first.name.as_str()) {
        return Err("the holder came first by bytes too: the check shows nothing".into());
    }
    if first.retained_delta().unwrap_or(0) <= 0 {
        return Err("the holder did not grow".into());
    }
    Ok(())
}

fn retained_growth(dir: &Path) -> Result<(), Failed> {
    let (g1, g2) = (graph(dir, 1)?, graph(dir, 2)?);
    let holder = leak_holder(&g2)?;
    if leak_holder(&g1)?.0 != holder.0 {
        return Err("the holder differs between the phases".into());
    }
    growth_first(&as_snapshot(g1), &as_snapshot(g2), &holder, true)?;
    // The same from the dumps, where there are two of one kind.
    let supplied = fixture_modules::for_fixture(dir)?.is_some();
    for kind in ["withheap.core", "full.core", "windump.dmp", "heap.dmp"] {
        let (p1, p2) = (
            dir.join(format!("phase1.{kind}.zst")),
            dir.join(format!("phase2.{kind}.zst")),
        );
        if !(p1.is_file() && p2.is_file()) {
            continue;
        }
        let (Ok(a), Ok(b)) = (open_dump(dir, &p1), open_dump(dir, &p2)) else {
            eprintln!(
                "{}: {kind} not readable, skipped (tested elsewhere)",
                dir.display()
            );
            continue;
        };
        let statics_are_roots = fixture_modules::holds_metadata(&p1, supplied);
        growth_first(&a, &b, &holder, statics_are_roots)
            .map_err(|e| format!("{kind}: {}", e.message().unwrap_or("failed")))?;
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Key retention paths.

/// A key path here: root kind and name, types.
type Signature = (RootKind, Option<String>, Vec<TypeIndex>);

/// Breadth-first from the live roots, long-lived ones first (statics,
/// handles, the finalizer queue: all of them, then the stack slots), each
/// node's children in order: per object its parent, or its root.
fn test_bfs(g: &HeapGraph) -> (Vec<u32>, Vec<Option<usize>>, Vec<u32>) {
    let n = g.node_count();
    let mut parent = vec![u32::MAX; n];
    let mut root = vec![None; n];
    let mut seen = vec![false; n];
    let mut order = Vec::new();
    for stack in [false, true] {
        let mut queue = VecDeque::new();
        for (i, r) in g.roots().iter().enumerate() {
            if r.kind.keeps_alive()
                && (r.kind == RootKind::Stack) == stack
                && !seen[r.object as usize]
            {
                seen[r.object as usize] = true;
                root[r.object as usize] = Some(i);
                queue.push_back(r.object);
            }
        }
        while let Some(x) = queue.pop_front() {
            order.push(x);
            for &c in g.children(x) {
                if !seen[c as usize] {
                    seen[c as usize] = true;
                    parent[c as usize] = x;
                    queue.push_back(c);
                }
            }
        }
    }
    (parent, root, order)
}

fn key_paths_check(dir: &Path) -> Result<(), Failed> {
    for phase in [1, 2] {
        let g = graph(dir, phase)?;
        let expected = json(&dir.join(format!("phase{phase}.expected.json")))?;
        let (parent, root, order) = test_bfs(&g);
        let name = |t: TypeIndex| g.type_info(t).name.as_str();
        for focus_name in [
            "DumpLab.LeakItem",
            "DumpLab.ChainNode",
            "DumpLab.RootTarget",
            "System.Byte[]",
            "System.String",
        ] {
            let focus: Vec<TypeIndex> = (0..g.types().len() as TypeIndex)
                .filter(|&t| name(t) == focus_name)
                .collect();
            // Here: per signature (count, bytes, first object).
            let mut want: HashMap<Signature, (u64, u64, u32)> = HashMap::new();
            for &x in &order {
                if !focus.contains(&g.node_type(x)) {
                    continue;
                }
                let mut types = vec![g.node_type(x)];
                let mut y = x;
                while parent[y as usize] != u32::MAX {
                    y = parent[y as usize];
                    types.push(g.node_type(y));
                }
                types.reverse();
                types.dedup();
                let r = g.roots()[root[y as usize].ok_or("a path without a root")?];
                let sig = (r.kind, g.root_name(&r).map(str::to_owned), types);
                let e = want.entry(sig).or_insert((0, 0, x));
                e.0 += 1;
                e.1 += g.node_size(x);
            }
            let paths = root_paths(&g, &mut NoProgress)?;
            let ours = key_paths(&g, &paths, &focus, None, &mut NoProgress)?;
            let got: HashMap<Signature, (u64, u64, u32)> = ours
                .paths
                .iter()
                .map(|p| {
                    let r = g.roots()[p.root];
                    (
                        (r.kind, g.root_name(&r).map(str::to_owned), p.steps.clone()),
                        (p.count, p.bytes, p.example),
                    )
                })
                .collect();
            if got != want || got.len() != ours.paths.len() {
                return Err(format!(
                    "phase {phase} {focus_name}: {} key paths, {} here",
                    ours.paths.len(),
                    want.len()
                )
                .into());
            }
            // Most objects first.
            if ours.paths.windows(2).any(|w| w[0].count < w[1].count) {
                return Err(format!("{focus_name}: key paths out of order").into());
            }
            let top = ours.paths.first().ok_or("no key path")?;
            let steps: Vec<&str> = top.steps.iter().map(|&t| name(t)).collect();
            let exact = |t: &str| expected["exact_type_counts"][t].as_u64();
            let ok = match focus_name {
                "DumpLab.LeakItem" => {
                    Some(top.count) == exact("DumpLab.LeakItem")
                        && steps
                            == [
                                "System.Collections.Generic.List`1[DumpLab.LeakItem]",
                                "DumpLab.LeakItem[]",
                                "DumpLab.LeakItem",
                            ]
                }
                "DumpLab.ChainNode" => {
                    ours.paths.len() == 1 && top.count == 50 && steps == ["DumpLab.ChainNode"]
                }
                "DumpLab.RootTarget" => {
                    top.count == 1 && steps == ["DumpLab.ChainNode", "DumpLab.RootTarget"]
                }
                _ => true,
            };
            if !ok {
                return Err(format!(
                    "phase {phase} {focus_name}: first key path {} objects via {steps:?}",
                    top.count
                )
                .into());
            }
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------
// Groups.

const LIST_INTERFACES: [&str; 8] = [
    "System.Collections.Generic.IList`1",
    "System.Collections.Generic.ICollection`1",
    "System.Collections.Generic.IEnumerable`1",
    "System.Collections.IEnumerable",
    "System.Collections.IList",
    "System.Collections.ICollection",
    "System.Collections.Generic.IReadOnlyList`1",
    "System.Collections.Generic.IReadOnlyCollection`1",
];

const DICTIONARY_INTERFACES: [&str; 10] = [
    "System.Collections.Generic.IDictionary`2",
    "System.Collections.Generic.ICollection`1",
    "System.Collections.Generic.IEnumerable`1",
    "System.Collections.IEnumerable",
    "System.Collections.IDictionary",
    "System.Collections.ICollection",
    "System.Collections.Generic.IReadOnlyDictionary`2",
    "System.Collections.Generic.IReadOnlyCollection`1",
    "System.Runtime.Serialization.ISerializable",
    "System.Runtime.Serialization.IDeserializationCallback",
];

/// What a single-dimensional array implements (System.Array's interfaces
/// and the generic ones the runtime gives `T[]`).
const SZ_ARRAY_INTERFACES: [&str; 11] = [
    "System.Collections.Generic.IList`1",
    "System.Collections.Generic.ICollection`1",
    "System.Collections.Generic.IEnumerable`1",
    "System.Collections.Generic.IReadOnlyList`1",
    "System.Collections.Generic.IReadOnlyCollection`1",
    "System.ICloneable",
    "System.Collections.IList",
    "System.Collections.ICollection",
    "System.Collections.IEnumerable",
    "System.Collections.IStructuralComparable",
    "System.Collections.IStructuralEquatable",
];

/// The DumpLab classes: each declares no base type and no interface.
const DUMPLAB_CLASSES: [&str; 10] = [
    "DumpLab.Widget",
    "DumpLab.LeakItem",
    "DumpLab.ChainNode",
    "DumpLab.RootTarget",
    "DumpLab.StackHeld",
    "DumpLab.HandleHeld",
    "DumpLab.ThreadStaticHeld",
    "DumpLab.CycleA",
    "DumpLab.CycleB",
    "DumpLab.Finalizable",
];

fn groups_of_dump(dir: &Path, dump: &Path) -> Result<bool, Failed> {
    let snap = match open_dump(dir, dump) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "{}: not readable ({}), skipped",
                dump.display(),
                e.message().unwrap_or("?")
            );
            return Ok(false);
        }
    };
    let g = &snap.graph;
    let knows = fixture_modules::holds_metadata(dump, fixture_modules::for_fixture(dir)?.is_some());
    if snap.info.capabilities.type_hierarchy != knows {
        return Err(format!(
            "type_hierarchy {}, but the dump {} its modules' metadata",
            snap.info.capabilities.type_hierarchy,
            if knows { "holds" } else { "lacks" }
        )
        .into());
    }
    let rows = TypeGroups::of(g);
    let by_i = TypeGrouping::of(g, &rows, GroupBy::Interface);
    let by_b = TypeGrouping::of(g, &rows, GroupBy::Base);
    let row_of = |name: &str| -> Option<usize> {
        rows.first.iter().position(|&t| g.type_info(t).name == name)
    };
    let names = |t: &TypeGrouping, r: usize| -> BTreeSet<String> {
        t.of_row[r]
            .iter()
            .map(|&i| t.names[i as usize].clone())
            .collect()
    };
    let set = |v: &[&str]| -> BTreeSet<String> { v.iter().map(|s| (*s).to_owned()).collect() };
    if !knows {
        // Nothing is guessed: every DumpLab class is in the unknown group.
        for c in DUMPLAB_CLASSES {
            if let Some(r) = row_of(c) {
                if names(&by_i, r) != set(&[NOT_KNOWN]) || names(&by_b, r) != set(&[NOT_KNOWN]) {
                    return Err(format!("{c}: interfaces guessed without metadata").into());
                }
            }
        }
        return Ok(true);
    }
    let mut checked = 0;
    for c in DUMPLAB_CLASSES {
        let Some(r) = row_of(c) else { continue };
        if names(&by_i, r) != set(&[NO_INTERFACE]) || names(&by_b, r) != set(&[OBJECT_ONLY]) {
            return Err(format!(
                "{c}: interfaces {:?}, bases {:?}; DumpLab.cs declares none",
                names(&by_i, r),
                names(&by_b, r)
            )
            .into());
        }
        checked += 1;
    }
    let cases: [(&str, &[&str]); 4] = [
        (
            "System.Collections.Generic.List`1[DumpLab.LeakItem]",
            &LIST_INTERFACES,
        ),
        (
            "System.Collections.Generic.List`1[System.String]",
            &LIST_INTERFACES,
        ),
        (
            "System.Collections.Generic.Dictionary`2[System.String,DumpLab.Widget]",
            &DICTIONARY_INTERFACES,
        ),
        ("DumpLab.Widget[]", &SZ_ARRAY_INTERFACES),
    ];
    for (t, want) in cases {
        let r = row_of(t).ok_or_else(|| format!("no {t}"))?;
        if names(&by_i, r) != set(want) {
            return Err(format!("{t}: {:?}, documented {want:?}", names(&by_i, r)).into());
        }
        checked += 1;
    }
    let r = row_of("DumpLab.Widget[]").ok_or("no Widget[]")?;
    if names(&by_b, r) != set(&["System.Array"]) {
        return Err(format!("Widget[]: bases {:?}", names(&by_b, r)).into());
    }
    // A group adds up its members' rows.
    let stats = stats_of(&snap);
    let table = heaplens_results::groups::GroupTable::build(
        &snap,
        &stats,
        heaplens_results::groups::GroupKind::Interface,
        None,
        None,
    );
    let ilist = table
        .rows
        .iter()
        .find(|r| r.name == "System.Collections.Generic.IList`1")
        .ok_or("no IList`1 group")?;
    let by_id: HashMap<u32, (u64, u64)> = stats
        .rows
        .iter()
        .map(|r| (r.id, (r.count, r.bytes)))
        .collect();
    let sum = ilist.type_ids.iter().fold((0, 0), |a, id| {
        let (c, b) = by_id.get(&id.0).copied().unwrap_or_default();
        (a.0 + c, a.1 + b)
    });
    if sum != (ilist.count, ilist.bytes) || ilist.type_ids.len() < 3 {
        return Err(format!(
            "IList`1 group {:?}, members add up to {sum:?}",
            (ilist.count, ilist.bytes)
        )
        .into());
    }
    eprintln!(
        "{}: {checked} types' interfaces and bases as documented",
        dump.display()
    );
    Ok(true)
}

fn groups(dir: &Path) -> Result<(), Failed> {
    let mut done = 0;
    for d in heaplens_corpus::phase_dumps(dir, 1, &[".core.zst", ".dmp.zst"]) {
        if groups_of_dump(dir, &d)? {
            done += 1;
        }
    }
    if done == 0 {
        return Err("no dump read".into());
    }
    Ok(())
}

/// A `.gcdump` knows names only: no interface is guessed.
fn gcdump_groups(sample: &Path) -> Result<(), Failed> {
    let snap = open_file(sample)?;
    if snap.info.capabilities.type_hierarchy || snap.graph.hierarchy().is_some() {
        return Err("a .gcdump claims to know its types' interfaces".into());
    }
    let rows = TypeGroups::of(&snap.graph);
    let by_i = TypeGrouping::of(&snap.graph, &rows, GroupBy::Interface);
    let all_unknown = by_i
        .of_row
        .iter()
        .all(|v| v.is_empty() || v.iter().all(|&i| by_i.names[i as usize] == NOT_KNOWN));
    if !all_unknown {
        return Err("interfaces guessed from names".into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    type Check = fn(&Path) -> Result<(), Failed>;
    match heaplens_corpus::shared_or_skip("the answers tests") {
        Some(shared) => {
            for sample in heaplens_corpus::gcdump_samples(&shared) {
                let name = stem(&sample);
                let (s, p) = (shared.clone(), sample.clone());
                trials.push(Trial::test(format!("perfview_inc::{name}"), move || {
                    perfview_inc(&s, &p)
                }));
                let (s, p) = (shared.clone(), sample.clone());
                trials.push(Trial::test(
                    format!("inclusive_flame_vs_perfview_tree::{name}"),
                    move || inclusive_flame_vs_perfview_tree(&s, &p),
                ));
                let p = sample.clone();
                trials.push(Trial::test(format!("gcdump_groups::{name}"), move || {
                    gcdump_groups(&p)
                }));
            }
            let mut dirs: Vec<PathBuf> =
                heaplens_corpus::walk_fixture_dirs(&shared, "the answers tests");
            dirs.retain(|d| {
                d.join("phase2.graph.json.zst").is_file()
                    && d.join("phase1.graph.json.zst").is_file()
            });
            let n = dirs.len();
            trials.push(Trial::test("fixtures_present", move || {
                if n >= 4 {
                    Ok(())
                } else {
                    Err(format!("only {n} fixtures with two phases").into())
                }
            }));
            let checks: [(&str, Check); 6] = [
                ("retained_flame", retained_flame_check),
                ("inclusive_flame", inclusive_flame_check),
                ("folds", folds_check),
                ("retained_growth", retained_growth),
                ("key_paths", key_paths_check),
                ("groups", groups),
            ];
            for dir in dirs {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                for (check, f) in checks {
                    // The leak zoo grows more than DumpLab's own leak (its
                    // planted facts: tests/leaks_reference.rs).
                    if check == "retained_growth" && name.ends_with("-leaks") {
                        continue;
                    }
                    let dir = dir.clone();
                    trials.push(Trial::test(format!("{check}::{name}"), move || f(&dir)));
                }
            }
        }
        None => {
            for check in [
                "perfview_inc",
                "inclusive_flame_vs_perfview_tree",
                "gcdump_groups",
                "retained_flame",
                "inclusive_flame",
                "folds",
                "retained_growth",
                "key_paths",
                "groups",
            ] {
                trials.push(
                    Trial::test(format!("{check}::<corpus missing>"), || Ok(()))
                        .with_ignored_flag(true),
                );
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
