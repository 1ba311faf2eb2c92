//! Why objects are alive, against the runtime's own answer: on every
//! fixture dump that comes with the runtime's walk of its heap
//! (`phaseN.graph.json.zst`: Linux cores, Windows full and heap
//! minidumps, and the cores and 32-bit minidumps `scripts/make-fixtures`
//! makes), read as
//! `heaplens` reads it (`heaplens_snapshot::open_with`):
//!
//! * **roots**, kind by kind, against the runtime's: handles (strong,
//!   pinned) and weak handles equal; finalizer roots are the objects ready
//!   for finalization (a reference finalizer root that is merely
//!   registered in the dump had its finalizer run since, as
//!   `Gen2GcCallback` does, and is said so); every stack root of the
//!   runtime is a stack root of ours, or its frame is gone since (said,
//!   with what holds the object now); every stack root of ours that the
//!   runtime lacks is printed as a conservative extra (thread, type, and
//!   whether anything else holds the object). No conservative root is on
//!   an object only weak handles or dependent handles hold, and every
//!   object of the runtime's walk that its roots and references do not
//!   reach is accounted for (the frozen heap, dependent handles);
//! * **retained sizes per type**, computed here from the reference graph
//!   with a dominator algorithm written in this file (Cooper, Harvey and
//!   Kennedy's iteration; weak handles are not roots, dependent handles
//!   are key → value edges, static fields and the frozen heap are roots as
//!   heaplens has them), with the runtime's roots adjusted by exactly the
//!   differences listed above: equal to `heaplens retained`'s for every
//!   type the objects allocated after the runtime's walk, reclaimed since
//!   or written since do not touch; those are printed. The sizes with the
//!   runtime's roots unadjusted are printed beside ours;
//! * **root paths**: each object's distance from the roots (long-lived
//!   roots first, then stack roots, as `heaplens roots` looks) by a
//!   breadth-first search here over the reference graph, equal to the
//!   length of heaplens's shortest path, unless one of the two paths goes
//!   through an object or reference that changed between the walk and the
//!   dump.
//!
//! A dump heaplens refuses (a Windows heap minidump of .NET 7+ lacks the
//! runtime's type data: `tests/clr_windows.rs`) is skipped, saying so.

use heaplens_analysis::dominators::{dominators, Dominator};
use heaplens_analysis::paths::root_paths;
use heaplens_analysis::reach::reachable;
use heaplens_analysis::retained::{retained_by_type, retained_sizes};
use heaplens_bytes::{FileSource, PageCache};
use heaplens_graph::{HeapGraph, NoProgress, RootKind};
use heaplens_snapshot::Snapshot;
use heaplens_tests::clr_check::{pair_set_since, registered_for_finalization_in};
use heaplens_tests::reconcile::{
    finalized_since, inconsistent_phase, reconcile, type_name, Reconciliation,
};
use heaplens_tests::{fixture_graph, fixture_modules};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write;
use std::path::PathBuf;

/// One dump and its fixture.
#[derive(Clone)]
struct Case {
    dump: PathBuf,
    dir: PathBuf,
    phase: u32,
}

/// A graph given as CSR children lists, with `n` nodes.
struct Adjacency {
    start: Vec<usize>,
    targets: Vec<u32>,
}

impl Adjacency {
    fn of(n: usize, edges: impl Fn(u32, &mut Vec<u32>)) -> Adjacency {
        let mut start = Vec::with_capacity(n + 1);
        let mut targets = Vec::new();
        start.push(0);
        for x in 0..n as u32 {
            edges(x, &mut targets);
            start.push(targets.len());
        }
        Adjacency { start, targets }
    }

    fn children(&self, x: u32) -> &[u32] {
        &self.targets[self.start[x as usize]..self.start[x as usize + 1]]
    }

    fn len(&self) -> usize {
        self.start.len() - 1
    }
}

const NONE: u32 = u32::MAX;

/// Immediate dominators of every node of `g` reachable from `roots`, by
/// Cooper, Harvey and Kennedy's iteration ("A Simple, Fast Dominance
/// Algorithm", 2001) over a virtual root (index `g.len()`) whose children
/// are `roots`. `NONE` for unreachable nodes; the virtual root for
/// objects only roots reach. Also gives the postorder.
fn idoms(g: &Adjacency, roots: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let n = g.len();
    let vroot = n as u32;
    let children = |x: u32| -> &[u32] {
        if x == vroot {
            roots
        } else {
            g.children(x)
        }
    };
    // Postorder by an iterative depth-first search.
    let mut po_num = vec![NONE; n + 1];
    let mut order: Vec<u32> = Vec::new();
    let mut visited = vec![false; n + 1];
    let mut stack: Vec<(u32, usize)> = vec![(vroot, 0)];
    visited[n] = true;
    while let Some(top) = stack.last_mut() {
        let (x, i) = *top;
        if let Some(&c) = children(x).get(i) {
            top.1 += 1;
            if !visited[c as usize] {
                visited[c as usize] = true;
                stack.push((c, 0));
            }
        } else {
            po_num[x as usize] = order.len() as u32;
            order.push(x);
            stack.pop();
        }
    }
    // Predecessors among the reached nodes.
    let mut preds: Vec<Vec<u32>> = vec![Vec::new(); n + 1];
    for &x in &order {
        for &c in children(x) {
            preds[c as usize].push(x);
        }
    }
    let mut idom = vec![NONE; n + 1];
    idom[n] = vroot;
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
        for &b in order.iter().rev() {
            if b == vroot {
                continue;
            }
            let mut new = NONE;
            for &p in &preds[b as usize] {
                if idom[p as usize] == NONE {
                    continue;
                }
                new = if new == NONE {
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
    order.retain(|&x| x != vroot);
    (idom, order)
}

/// Per type key (`key[x]`): count of reachable objects and retained bytes
/// (the retained sizes of the objects no other object of the type
/// dominates), from the dominators `idom` (postorder `order`) and the
/// sizes.
fn retained_per_type(
    idom: &[u32],
    order: &[u32],
    size: impl Fn(u32) -> u64,
    key: &[u64],
) -> HashMap<u64, (u64, u64)> {
    let n = idom.len();
    let mut retained: Vec<u64> = (0..n as u32).map(&size).collect();
    for &x in order {
        let d = idom[x as usize];
        if (d as usize) < n {
            retained[d as usize] += retained[x as usize];
        }
    }
    // The dominator tree, then a walk keeping per type how many of its
    // objects are on the current path.
    let mut kids: Vec<Vec<u32>> = vec![Vec::new(); n + 1];
    for &x in order {
        kids[(idom[x as usize] as usize).min(n)].push(x);
    }
    let mut active: HashMap<u64, u32> = HashMap::new();
    let mut out: HashMap<u64, (u64, u64)> = HashMap::new();
    let mut stack: Vec<(u32, usize)> = vec![(n as u32, 0)];
    while let Some(top) = stack.last_mut() {
        let (x, i) = *top;
        if let Some(&c) = kids[x as usize].get(i) {
            top.1 += 1;
            let k = key[c as usize];
            let a = active.entry(k).or_default();
            let e = out.entry(k).or_default();
            e.0 += 1;
            if *a == 0 {
                e.1 += retained[c as usize];
            }
            *a += 1;
            stack.push((c, 0));
        } else {
            if (x as usize) < n {
                *active.get_mut(&key[x as usize]).unwrap() -= 1;
            }
            stack.pop();
        }
    }
    out
}

/// Breadth-first distances from `long` roots, then for what is left from
/// `stack` roots (`heaplens roots`'s order); with each reached node's
/// parent (`NONE` for root objects) and whether it was reached from a
/// stack root.
fn distances(g: &Adjacency, long: &[u32], stack: &[u32]) -> (Vec<u32>, Vec<u32>, Vec<bool>) {
    let n = g.len();
    let mut dist = vec![NONE; n];
    let mut parent = vec![NONE; n];
    let mut from_stack = vec![false; n];
    for (roots, phase) in [(long, false), (stack, true)] {
        let mut queue = std::collections::VecDeque::new();
        for &r in roots {
            if dist[r as usize] == NONE {
                dist[r as usize] = 0;
                from_stack[r as usize] = phase;
                queue.push_back(r);
            }
        }
        while let Some(x) = queue.pop_front() {
            for &c in g.children(x) {
                if dist[c as usize] == NONE {
                    dist[c as usize] = dist[x as usize] + 1;
                    parent[c as usize] = x;
                    from_stack[c as usize] = phase;
                    queue.push_back(c);
                }
            }
        }
    }
    (dist, parent, from_stack)
}

fn open(case: &Case) -> Result<Result<Snapshot, heaplens_snapshot::OpenError>, Failed> {
    let modules = fixture_modules::for_fixture(&case.dir)?.unwrap_or_default();
    let file = heaplens_corpus::unpacked(&case.dump)?;
    let src = PageCache::new(FileSource::open(&file)?);
    Ok(heaplens_snapshot::open_with(
        &src,
        &modules,
        &mut NoProgress,
    ))
}

/// True for kinds of handles that hold their object strongly.
fn strong_handle(k: RootKind) -> bool {
    matches!(
        k,
        RootKind::StrongHandle
            | RootKind::PinnedHandle
            | RootKind::AsyncPinnedHandle
            | RootKind::SizedRefHandle
            | RootKind::RefCountedHandle
    )
}

fn check(case: &Case) -> Result<(), Failed> {
    if let Some(why) = inconsistent_phase(&case.dir, case.phase) {
        eprintln!("SKIPPED {why}");
        return Ok(());
    }
    let snap = match open(case)? {
        Err(e @ heaplens_snapshot::OpenError::Clr(heaplens_clr::ClrError::NoTypeData { .. })) => {
            eprintln!(
                "{}: {e}: skipped (tests/clr_windows.rs checks the refusal)",
                case.dump.display()
            );
            return Ok(());
        }
        r => r.map_err(|e| format!("{}: {e}", case.dump.display()))?,
    };
    if !snap.info.coverage.is_complete() {
        return Err(format!("a fixture read as partial: {:?}", snap.info.coverage).into());
    }
    let g = &snap.graph;
    let file = fixture_graph::read(&case.dir.join(format!("phase{}.graph.json.zst", case.phase)))?;
    // The reference graph with the runtime's roots and, as roots, its
    // static fields (heaplens roots each static field).
    let want = fixture_graph::from_file(&file, true)?;
    drop(file);
    let clr = snap.info.clr.as_ref().ok_or("no CLR heap information")?;
    let live = reachable(g);
    let registered = registered_for_finalization_in(&case.dump)?;
    let excused = finalized_since(&want, &registered);
    let rec = reconcile(g, &live, &clr.gc.segments, &want, &excused)?;
    let mut report = String::new();
    let roots = compare_roots(g, &want, &rec, &registered, &mut report)?;
    let changes = Changes::of(g, &want, &rec, &roots);
    compare_retained(g, &want, &rec, &roots, &changes, &mut report)?;
    compare_paths(g, &want, &rec, &roots, &changes, &mut report)?;
    eprintln!(
        "{} phase {} ({}):\n{report}",
        case.dir.file_name().unwrap_or_default().to_string_lossy(),
        case.phase,
        case.dump.file_name().unwrap_or_default().to_string_lossy()
    );
    Ok(())
}

/// The root sets, mapped onto the reference graph.
struct RootSets {
    /// The runtime's strong roots, its static fields and the frozen heap
    /// (reference nodes): long-lived ones, then stack roots.
    runtime: (Vec<u32>, Vec<u32>),
    /// The same adjusted by the differences explained: reference stack
    /// roots whose frame is gone dropped, finalizer roots finalized since
    /// (or being finalized) dropped, our conservative extras added.
    adjusted: (Vec<u32>, Vec<u32>),
    /// Dependent-handle edges (key, value), reference nodes.
    dependent: Vec<(u32, u32)>,
    /// Our node of each reference node (`NONE` when reclaimed).
    ours_of: Vec<u32>,
    /// The reference node of each of our nodes (`NONE`: allocated later,
    /// or Free).
    ref_of: Vec<u32>,
}

/// Roots kind by kind (see the module documentation); appends the
/// figures and every difference to `report`.
fn compare_roots(
    g: &HeapGraph,
    want: &HeapGraph,
    rec: &Reconciliation,
    registered: &HashSet<u64>,
    report: &mut String,
) -> Result<RootSets, Failed> {
    let mut ours_of = vec![NONE; want.node_count()];
    let mut ref_of = vec![NONE; g.node_count()];
    for &(r, o) in rec.found.iter().chain(&rec.released) {
        ours_of[r as usize] = o;
        ref_of[o as usize] = r;
    }
    let name = |x: u32| type_name(g, x);
    // Object sets by kind, as reference nodes where they map.
    let ours_kind = |k: &dyn Fn(RootKind) -> bool| -> HashSet<u32> {
        g.roots()
            .iter()
            .filter(|r| k(r.kind))
            .map(|r| r.object)
            .collect()
    };
    let ref_kind = |k: &dyn Fn(RootKind) -> bool| -> HashSet<u32> {
        want.roots()
            .iter()
            .filter(|r| k(r.kind))
            .map(|r| r.object)
            .collect()
    };
    let mapped = |set: &HashSet<u32>| -> HashSet<u32> {
        set.iter()
            .filter_map(|&r| Some(ours_of[r as usize]).filter(|&o| o != NONE))
            .collect()
    };
    let mut unexplained: Vec<String> = Vec::new();

    // Handles: the same objects, strong and weak. (The runtime's walk
    // calls a sized-ref handle's root kind `sizedref`: `Other` here.)
    fn pinned(k: RootKind) -> bool {
        matches!(k, RootKind::PinnedHandle | RootKind::AsyncPinnedHandle)
    }
    fn ref_strong(k: RootKind) -> bool {
        strong_handle(k) || k == RootKind::Other
    }
    fn ref_pinned(k: RootKind) -> bool {
        k == RootKind::PinnedHandle
    }
    fn weak(k: RootKind) -> bool {
        k == RootKind::WeakHandle
    }
    type Kinds = fn(RootKind) -> bool;
    let handle_kinds: [(&str, Kinds, Kinds); 3] = [
        ("strong and pinned handles", strong_handle, ref_strong),
        ("pinned handles", pinned, ref_pinned),
        ("weak handles", weak, weak),
    ];
    for (what, ours_k, ref_k) in handle_kinds {
        let (ours, theirs) = (ours_kind(&ours_k), ref_kind(&ref_k));
        let theirs_mapped = mapped(&theirs);
        let reclaimed = theirs.len() - theirs_mapped.len();
        let later: Vec<u32> = ours
            .iter()
            .copied()
            .filter(|&o| ref_of[o as usize] == NONE)
            .collect();
        let _ = writeln!(
            report,
            "  {what}: ours {} objects, the runtime's {} ({reclaimed} reclaimed since, {} \
             allocated after its walk)",
            ours.len(),
            theirs.len(),
            later.len()
        );
        for o in ours.difference(&theirs_mapped) {
            if ref_of[*o as usize] != NONE {
                unexplained.push(format!(
                    "{what}: ours holds {:#x} ({}), the runtime's walk does not",
                    g.node_address(*o),
                    name(*o)
                ));
            }
        }
        for o in theirs_mapped.difference(&ours) {
            unexplained.push(format!(
                "{what}: the runtime's walk holds {:#x} ({}), ours does not",
                g.node_address(*o),
                name(*o)
            ));
        }
    }

    // Finalizer roots: ready for finalization in both, or finalized since,
    // or being finalized (taken off the queue, on a stack in the dump: the
    // leak zoo's finalizer thread is blocked in one).
    let ours_f = ours_kind(&|k| k == RootKind::Finalizer);
    let theirs_f = ref_kind(&|k| k == RootKind::Finalizer);
    let ours_stack = ours_kind(&|k| k == RootKind::Stack);
    let mut finalized = Vec::new();
    let mut running = Vec::new();
    for &r in &theirs_f {
        let o = ours_of[r as usize];
        if o != NONE && ours_f.contains(&o) {
            continue;
        }
        if registered.contains(&want.node_address(r)) {
            finalized.push(r);
            continue;
        }
        if o != NONE && ours_stack.contains(&o) {
            running.push(r);
            continue;
        }
        unexplained.push(format!(
            "finalizer root {:#x} ({}) of the runtime's walk is neither ready for finalization \
             nor registered in the dump",
            want.node_address(r),
            type_name(want, r)
        ));
    }
    for &o in &ours_f {
        let r = ref_of[o as usize];
        if r == NONE || !theirs_f.contains(&r) {
            unexplained.push(format!(
                "{:#x} ({}) is ready for finalization in the dump, not in the runtime's walk",
                g.node_address(o),
                name(o)
            ));
        }
    }
    let _ = writeln!(
        report,
        "  finalizer roots (ready for finalization): ours {}, the runtime's {} ({} of them \
         registered again in the dump: their finalizer ran since{}; {} being finalized: on a \
         stack in the dump{})",
        ours_f.len(),
        theirs_f.len(),
        finalized.len(),
        finalized
            .iter()
            .map(|&r| format!(", {:#x} {}", want.node_address(r), type_name(want, r)))
            .collect::<String>(),
        running.len(),
        running
            .iter()
            .map(|&r| format!(", {:#x} {}", want.node_address(r), type_name(want, r)))
            .collect::<String>()
    );

    // Stack roots: the runtime's precise ones against our conservative
    // ones.
    let ours_s = ours_kind(&|k| k == RootKind::Stack);
    let theirs_s = ref_kind(&|k| k == RootKind::Stack);
    let ours_long: Vec<u32> = g
        .roots()
        .iter()
        .filter(|r| r.kind.keeps_alive() && r.kind != RootKind::Stack)
        .map(|r| r.object)
        .collect();
    let reach_from = |roots: &[u32]| {
        let mut seen = vec![false; g.node_count()];
        let mut stack: Vec<u32> = roots.to_vec();
        for &r in roots {
            seen[r as usize] = true;
        }
        while let Some(x) = stack.pop() {
            for &c in g.children(x) {
                if !seen[c as usize] {
                    seen[c as usize] = true;
                    stack.push(c);
                }
            }
        }
        seen
    };
    let by_long = reach_from(&ours_long);
    let (mut matched, mut gone_alive, mut gone_reclaimed) = (0, Vec::new(), 0);
    let mut gone: Vec<u32> = Vec::new();
    for &r in &theirs_s {
        let o = ours_of[r as usize];
        if o == NONE {
            gone_reclaimed += 1;
            gone.push(r);
        } else if ours_s.contains(&o) {
            matched += 1;
        } else if by_long[o as usize] {
            gone.push(r);
            gone_alive.push(format!("{:#x} {}", g.node_address(o), name(o)));
        } else {
            unexplained.push(format!(
                "stack root {:#x} ({}) of the runtime's walk is on no stack of the dump, and \
                 nothing else holds it there",
                g.node_address(o),
                name(o)
            ));
        }
    }
    // Our extras, each with its thread and what else holds its object.
    let mut extras: Vec<String> = Vec::new();
    let mut added: Vec<u32> = Vec::new();
    let mut seen_extra = HashSet::new();
    for root in g.roots().iter().filter(|r| r.kind == RootKind::Stack) {
        let o = root.object;
        let r = ref_of[o as usize];
        if r != NONE && theirs_s.contains(&r) || !seen_extra.insert(o) {
            continue;
        }
        let what = if r == NONE {
            "allocated after the runtime's walk"
        } else if by_long[o as usize] {
            "held by other roots too"
        } else {
            "held only by stacks"
        };
        extras.push(format!(
            "{:#x} {} [{}; {what}]",
            g.node_address(o),
            name(o),
            g.root_name(root).unwrap_or("?")
        ));
        if r != NONE {
            added.push(r);
        }
    }
    let _ = writeln!(
        report,
        "  stack roots (objects): ours {} (conservative), the runtime's {} (precise); {matched} \
         in both; the runtime's not on a stack in the dump: {} reclaimed since, {} alive \
         through other roots (frame gone since: {}); conservative extras {}:{}",
        ours_s.len(),
        theirs_s.len(),
        gone_reclaimed,
        gone_alive.len(),
        gone_alive.join(", "),
        extras.len(),
        extras
            .iter()
            .map(|e| format!("\n      {e}"))
            .collect::<String>()
    );

    // Frozen-heap objects: roots of ours; nodes without roots in the
    // runtime's walk (it never collects them).
    let frozen: Vec<u32> = ours_kind(&|k| k == RootKind::Frozen)
        .into_iter()
        .filter_map(|o| Some(ref_of[o as usize]).filter(|&r| r != NONE))
        .collect();

    // What the runtime's roots and references reach, and what they do not.
    let strong: Vec<u32> = want
        .roots()
        .iter()
        .filter(|r| r.kind.keeps_alive() && r.kind != RootKind::Stack)
        .map(|r| r.object)
        .chain(frozen.iter().copied())
        .collect();
    let stack: Vec<u32> = theirs_s.iter().copied().collect();
    let plain = Adjacency::of(want.node_count(), |x, out| {
        out.extend_from_slice(want.children(x))
    });
    let all: Vec<u32> = strong.iter().chain(&stack).copied().collect();
    let (dist, _, _) = distances(&plain, &all, &[]);
    let unreached: HashSet<u32> = (0..want.node_count() as u32)
        .filter(|&x| dist[x as usize] == NONE)
        .collect();
    // Dependent handles: edges of ours (key → value) into what the
    // runtime's references do not reach, that the runtime's walk does not
    // list as references.
    let mut dependent = Vec::new();
    for o in 0..g.node_count() as u32 {
        let a = ref_of[o as usize];
        if a == NONE {
            continue;
        }
        for &c in g.children(o) {
            let b = ref_of[c as usize];
            if b != NONE && unreached.contains(&b) && !want.children(a).contains(&b) {
                dependent.push((a, b));
            }
        }
    }
    let with_dependent = Adjacency::of(want.node_count(), |x, out| {
        out.extend_from_slice(want.children(x));
        out.extend(dependent.iter().filter(|d| d.0 == x).map(|d| d.1));
    });
    let (dist, _, _) = distances(&with_dependent, &all, &[]);
    let left: Vec<u32> = (0..want.node_count() as u32)
        .filter(|&x| dist[x as usize] == NONE)
        .collect();
    if !left.is_empty() {
        unexplained.push(format!(
            "{} objects of the runtime's walk that its roots, references, dependent handles \
             and the frozen heap do not reach: {:?}",
            left.len(),
            left.iter()
                .take(10)
                .map(|&r| format!("{:#x} {}", want.node_address(r), type_name(want, r)))
                .collect::<Vec<_>>()
        ));
    }
    // No conservative root on an object only weak or dependent handles
    // hold (in the runtime's view: no strong root or reference reaches it).
    let (strong_dist, _, _) = distances(&plain, &all, &[]);
    for &o in &ours_s {
        let r = ref_of[o as usize];
        if r != NONE && strong_dist[r as usize] == NONE {
            unexplained.push(format!(
                "conservative root on {:#x} ({}), which only weak or dependent handles hold",
                g.node_address(o),
                name(o)
            ));
        }
    }
    let _ = writeln!(
        report,
        "  frozen-heap objects (roots of ours, never collected): {}; reached in the runtime's \
         walk by no root or reference: {} (all frozen), through dependent handles: {} edges",
        frozen.len(),
        unreached.len(),
        dependent.len()
    );
    if !unexplained.is_empty() {
        return Err(format!("{report}unexplained:\n  {}", unexplained.join("\n  ")).into());
    }
    // Static fields of generic instantiations: roots of ours that the
    // runtime's listing of static fields leaves out (it lists the statics
    // of each module's type definitions).
    let listed = ref_kind(&|k| k == RootKind::Static);
    let mut generic_statics = Vec::new();
    let mut other_statics = Vec::new();
    // Statics set since the runtime's walk (the dump is taken after it:
    // .NET 10's `CastHelpers.s_table` is replaced as the cast cache grows):
    // ours of a field's name on an object the runtime lists under no static
    // field (or allocated after its walk), by field name, each to pair with
    // an object the runtime lists under that field and ours under none.
    let mut set_since: Vec<(&str, String)> = Vec::new();
    for root in g.roots().iter().filter(|r| r.kind == RootKind::Static) {
        let r = ref_of[root.object as usize];
        if r != NONE && listed.contains(&r) {
            continue;
        }
        let full = g.root_name(root).unwrap_or("?");
        let (class, field) = full.rsplit_once('.').unwrap_or(("", full));
        if class.ends_with(']') {
            if r != NONE {
                generic_statics.push(r);
            }
            continue;
        }
        let what = format!(
            "{full} on {:#x} {}",
            g.node_address(root.object),
            name(root.object)
        );
        set_since.push((field, what.clone()));
        if r != NONE {
            other_statics.push(what);
        }
    }
    // Objects the runtime lists under a static field that are no static
    // root of ours: none, or all where heaplens names no static field (a
    // dump without the modules' metadata).
    let ours_static = ours_kind(&|k| k == RootKind::Static);
    let unnamed: HashSet<u32> = listed
        .iter()
        .copied()
        .filter(|&r| {
            let o = ours_of[r as usize];
            o != NONE && !ours_static.contains(&o)
        })
        .collect();
    // Of those, the ones a static set since explains (paired by field
    // name, one each; the pair's root of ours is then no contradiction).
    let mut unnamed_sorted: Vec<u32> = unnamed.iter().copied().collect();
    unnamed_sorted.sort_unstable();
    let misses = unnamed_sorted.into_iter().map(|r| {
        let fields = want
            .roots()
            .iter()
            .filter(|x| x.kind == RootKind::Static && x.object == r)
            .filter_map(|x| want.root_name(x))
            .collect();
        (r, fields)
    });
    let (paired, unnamed_left) = pair_set_since(misses, set_since);
    let mut reassigned = Vec::new();
    for (r, f, now) in paired {
        other_statics.retain(|o| *o != now);
        reassigned.push(format!(
            "{f} on {:#x} {} now {now}",
            want.node_address(r),
            type_name(want, r)
        ));
    }
    let _ = writeln!(
        report,
        "  static fields: ours {} roots; {} objects the runtime lists under a static field ({} \
         not named by heaplens{}; set since its walk: {reassigned:?}), {} more held by static \
         fields of generic instantiations (which the runtime's listing leaves out)",
        ours_static.len(),
        listed.len(),
        unnamed_left.len(),
        if ours_static.is_empty() && !unnamed.is_empty() {
            ": the dump lacks the modules' metadata, and the statics arrays hold them"
        } else {
            ""
        },
        generic_statics.len()
    );
    if !ours_static.is_empty() && !unnamed_left.is_empty() {
        return Err(format!(
            "{report}{} objects the runtime lists under a static field are no static root of ours",
            unnamed_left.len()
        )
        .into());
    }
    if !other_statics.is_empty() {
        return Err(format!(
            "{report}static roots on objects the runtime lists under no static field: {other_statics:?}"
        )
        .into());
    }
    let gone: HashSet<u32> = gone.into_iter().collect();
    let finalized: HashSet<u32> = finalized.into_iter().chain(running).collect();
    let adjusted_long: Vec<u32> = want
        .roots()
        .iter()
        .filter(|r| {
            r.kind.keeps_alive()
                && r.kind != RootKind::Stack
                && !(r.kind == RootKind::Finalizer && finalized.contains(&r.object))
                && !(r.kind == RootKind::Static && unnamed.contains(&r.object))
        })
        .map(|r| r.object)
        .chain(frozen.iter().copied())
        .chain(generic_statics)
        .collect();
    let adjusted_stack: Vec<u32> = stack
        .iter()
        .copied()
        .filter(|r| !gone.contains(r))
        .chain(added)
        .collect();
    Ok(RootSets {
        runtime: (strong, stack),
        adjusted: (adjusted_long, adjusted_stack),
        dependent,
        ours_of,
        ref_of,
    })
}

/// Objects that changed between the runtime's walk and the dump, and the
/// references that did, as the two graphs show them: ours allocated
/// later, reference nodes reclaimed since, and references present in one
/// graph only.
struct Changes {
    /// Our nodes allocated later.
    later: HashSet<u32>,
    /// Reference nodes reclaimed (or finalized) since.
    gone: HashSet<u32>,
    /// Our edges (from, to) the reference does not have.
    new_edges: HashSet<(u32, u32)>,
    /// Reference edges (from, to) ours does not have.
    old_edges: HashSet<(u32, u32)>,
}

impl Changes {
    fn of(g: &HeapGraph, want: &HeapGraph, rec: &Reconciliation, sets: &RootSets) -> Changes {
        let later: HashSet<u32> = rec.later.iter().copied().collect();
        let gone: HashSet<u32> = rec
            .reclaimed
            .iter()
            .copied()
            .chain(rec.released.iter().map(|&(r, _)| r))
            .collect();
        let dependent: HashSet<(u32, u32)> = sets.dependent.iter().copied().collect();
        let mut new_edges = HashSet::new();
        let mut old_edges = HashSet::new();
        // Per object, both lists of references as sorted reference nodes
        // (an array may hold millions: no quadratic search).
        let (mut mine, mut theirs) = (Vec::new(), Vec::new());
        for o in 0..g.node_count() as u32 {
            let a = sets.ref_of[o as usize];
            if a == NONE {
                continue;
            }
            mine.clear();
            mine.extend(
                g.children(o)
                    .iter()
                    .map(|&c| (sets.ref_of[c as usize], c))
                    .filter(|&(b, _)| b != NONE && !dependent.contains(&(a, b))),
            );
            mine.sort_unstable();
            theirs.clear();
            theirs.extend(
                want.children(a)
                    .iter()
                    .filter(|&&b| sets.ours_of[b as usize] != NONE),
            );
            theirs.sort_unstable();
            for &(b, c) in &mine {
                if theirs.binary_search(&b).is_err() {
                    new_edges.insert((o, c));
                }
            }
            for &b in &theirs {
                if mine.binary_search_by(|&(x, _)| x.cmp(&b)).is_err() {
                    old_edges.insert((a, b));
                }
            }
        }
        Changes {
            later,
            gone,
            new_edges,
            old_edges,
        }
    }
}

/// The graph of the reference with the dependent-handle edges.
fn reference_graph(want: &HeapGraph, sets: &RootSets) -> Adjacency {
    let mut dep: HashMap<u32, Vec<u32>> = HashMap::new();
    for &(a, b) in &sets.dependent {
        dep.entry(a).or_default().push(b);
    }
    Adjacency::of(want.node_count(), |x, out| {
        out.extend_from_slice(want.children(x));
        if let Some(d) = dep.get(&x) {
            out.extend_from_slice(d);
        }
    })
}

/// Retained bytes per type: here from the reference graph, against
/// `heaplens retained`'s.
fn compare_retained(
    g: &HeapGraph,
    want: &HeapGraph,
    rec: &Reconciliation,
    sets: &RootSets,
    changes: &Changes,
    report: &mut String,
) -> Result<(), Failed> {
    // Types keyed by the reference's MethodTable (for .NET Core 3.1
    // arrays a TypeDesc); ours mapped through the objects found at the
    // same addresses, and marked (bit 63) where the reference has none.
    let ref_key: Vec<u64> = (0..want.node_count() as u32)
        .map(|x| want.type_info(want.node_type(x)).method_table)
        .collect();
    let mut key_of_our_mt: HashMap<u64, u64> = HashMap::new();
    for &(r, o) in &rec.found {
        key_of_our_mt.insert(
            g.type_info(g.node_type(o)).method_table,
            ref_key[r as usize],
        );
    }
    let our_key = |mt: u64| key_of_our_mt.get(&mt).copied().unwrap_or(mt | 1 << 63);
    let label = |k: u64| -> String {
        if k >> 63 == 1 {
            let mt = k & !(1 << 63);
            let n = g.types().iter().find(|t| t.method_table == mt);
            format!("{} (not in the runtime's walk)", n.map_or("?", |t| &t.name))
        } else {
            want.types()
                .iter()
                .find(|t| t.method_table == k)
                .map_or_else(|| format!("{k:#x}"), |t| t.name.clone())
        }
    };

    // Ours, as `heaplens retained` computes them.
    let dom = dominators(g, &mut NoProgress).map_err(|e| e.to_string())?;
    let sizes = retained_sizes(g, &dom);
    let mut ours: HashMap<u64, (u64, u64)> = HashMap::new();
    for t in retained_by_type(g, &dom, &sizes) {
        let e = ours.entry(our_key(t.method_table)).or_default();
        e.0 += t.count;
        e.1 += t.retained_bytes;
    }

    // Here, from the reference graph.
    let graph = reference_graph(want, sets);
    let size = |x: u32| want.node_size(x);
    let roots_of = |(long, stack): &(Vec<u32>, Vec<u32>)| -> Vec<u32> {
        let mut v: Vec<u32> = long.iter().chain(stack).copied().collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (runtime_idom, runtime_order) = idoms(&graph, &roots_of(&sets.runtime));
    let runtime = retained_per_type(&runtime_idom, &runtime_order, size, &ref_key);
    let (idom, order) = idoms(&graph, &roots_of(&sets.adjusted));
    let adjusted = retained_per_type(&idom, &order, size, &ref_key);

    // Types the changes between the walk and the dump touch: those of the
    // objects that changed and of everything dominating or dominated by
    // them, in either graph.
    let mut touched: HashSet<u64> = HashSet::new();
    {
        // Ours: up the dominator tree from each changed object and its
        // subtree.
        let mut marked = vec![false; g.node_count()];
        let mut start: Vec<u32> = changes.later.iter().copied().collect();
        start.extend(changes.new_edges.iter().flat_map(|&(a, b)| [a, b]));
        start.extend(
            changes
                .old_edges
                .iter()
                .flat_map(|&(a, b)| [sets.ours_of[a as usize], sets.ours_of[b as usize]]),
        );
        for &x in &start {
            let mut y = x;
            loop {
                if std::mem::replace(&mut marked[y as usize], true) {
                    break;
                }
                match dom.idom(y) {
                    Some(Dominator::Node(d)) => y = d,
                    _ => break,
                }
            }
        }
        // Subtrees: a node whose dominator is marked from below is marked
        // (preorder: dominators first).
        let from: HashSet<u32> = start.iter().copied().collect();
        let mut below = vec![false; g.node_count()];
        for &x in &dom.preorder(g) {
            below[x as usize] = from.contains(&x)
                || matches!(dom.idom(x), Some(Dominator::Node(d)) if below[d as usize]);
        }
        for x in 0..g.node_count() as u32 {
            if marked[x as usize] || below[x as usize] {
                touched.insert(our_key(g.type_info(g.node_type(x)).method_table));
            }
        }
        // The reference: the same from the reclaimed nodes and the changed
        // references.
        let mut marked = vec![false; want.node_count()];
        let mut start: Vec<u32> = changes.gone.iter().copied().collect();
        start.extend(changes.old_edges.iter().flat_map(|&(a, b)| [a, b]));
        start.extend(
            changes
                .new_edges
                .iter()
                .map(|&(a, b)| (sets.ref_of[a as usize], sets.ref_of[b as usize]))
                .flat_map(|(a, b)| [a, b]),
        );
        for &x in &start {
            let mut y = x;
            while (y as usize) < want.node_count() && !marked[y as usize] {
                marked[y as usize] = true;
                y = idom[y as usize];
            }
        }
        let from: HashSet<u32> = start.iter().copied().collect();
        let mut below = vec![false; want.node_count()];
        for &x in order.iter().rev() {
            let d = idom[x as usize] as usize;
            below[x as usize] = from.contains(&x) || (d < want.node_count() && below[d]);
        }
        for x in 0..want.node_count() {
            if marked[x] || below[x] {
                touched.insert(ref_key[x]);
            }
        }
    }

    let keys: std::collections::BTreeSet<u64> =
        ours.keys().chain(adjusted.keys()).copied().collect();
    let (mut equal, mut equal_runtime) = (0, 0);
    let mut explained = Vec::new();
    let mut wrong = Vec::new();
    let mut by_roots = Vec::new();
    for k in keys {
        let get = |m: &HashMap<u64, (u64, u64)>| m.get(&k).copied().unwrap_or_default();
        let (o, a, r) = (get(&ours), get(&adjusted), get(&runtime));
        if o == r {
            equal_runtime += 1;
        } else if o == a {
            by_roots.push(format!(
                "{}: ours {} objects retaining {} bytes, with the runtime's roots {} / {}",
                label(k),
                o.0,
                o.1,
                r.0,
                r.1
            ));
        }
        let line = format!(
            "{}: ours {} objects retaining {} bytes, here {} / {} (with the runtime's roots {} \
             / {})",
            label(k),
            o.0,
            o.1,
            a.0,
            a.1,
            r.0,
            r.1
        );
        if o == a {
            equal += 1;
        } else if touched.contains(&k) {
            explained.push(line);
        } else {
            wrong.push(line);
        }
    }
    let _ = writeln!(
        report,
        "  retained bytes per type: {equal} types equal, {} touched by objects or references \
         changed since the walk ({} allocated later, {} reclaimed or finalized since, {} + {} \
         references written since){}; against the runtime's roots unadjusted {equal_runtime} \
         equal, {} differ only by the root differences above{}",
        explained.len(),
        changes.later.len(),
        changes.gone.len(),
        changes.new_edges.len(),
        changes.old_edges.len(),
        explained
            .iter()
            .map(|e| format!("\n      {e}"))
            .collect::<String>(),
        by_roots.len(),
        by_roots
            .iter()
            .map(|e| format!("\n      {e}"))
            .collect::<String>(),
    );
    if !wrong.is_empty() {
        return Err(format!(
            "{report}retained bytes differ for types no change explains:\n  {}",
            wrong.join("\n  ")
        )
        .into());
    }
    if equal < 50 {
        return Err(format!("{report}too few types compared").into());
    }
    Ok(())
}

/// Distances from the roots: here over the reference graph, against the
/// lengths of heaplens's shortest paths.
fn compare_paths(
    g: &HeapGraph,
    want: &HeapGraph,
    rec: &Reconciliation,
    sets: &RootSets,
    changes: &Changes,
    report: &mut String,
) -> Result<(), Failed> {
    let graph = reference_graph(want, sets);
    let (dist, parent, from_stack) = distances(&graph, &sets.adjusted.0, &sets.adjusted.1);
    let paths = root_paths(g, &mut NoProgress).map_err(|e| e.to_string())?;
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    let (mut equal, mut explained) = (0usize, 0usize);
    let mut wrong = Vec::new();
    for &(r, o) in &rec.found {
        let ours = paths.path_to(o);
        let here = dist[r as usize];
        let (ours_len, ours_stack) = match &ours {
            Some(p) => (
                (p.nodes.len() - 1) as u32,
                g.roots()[p.root].kind == RootKind::Stack,
            ),
            None => (NONE, false),
        };
        if ours_len == here && (here == NONE || ours_stack == from_stack[r as usize]) {
            equal += 1;
            if let Some(p) = &ours {
                *kinds.entry(g.roots()[p.root].kind.as_str()).or_default() += 1;
            }
            continue;
        }
        // Changed between the walk and the dump on either path?
        let ours_changed = ours.as_ref().is_some_and(|p| {
            p.nodes.iter().any(|x| changes.later.contains(x))
                || p.nodes
                    .windows(2)
                    .any(|w| changes.new_edges.contains(&(w[0], w[1])))
        });
        let mut here_changed = false;
        let mut y = r;
        while y != NONE {
            let p = parent[y as usize];
            here_changed |=
                changes.gone.contains(&y) || (p != NONE && changes.old_edges.contains(&(p, y)));
            y = p;
        }
        if ours_changed || here_changed {
            explained += 1;
        } else {
            wrong.push(format!(
                "{:#x} ({}): {} steps from a {} root here, {} in heaplens ({:?})",
                g.node_address(o),
                type_name(g, o),
                here,
                if from_stack[r as usize] {
                    "stack"
                } else {
                    "long-lived"
                },
                ours_len,
                ours.map(|p| p
                    .nodes
                    .iter()
                    .map(|&x| type_name(g, x).to_owned())
                    .collect::<Vec<_>>())
            ));
        }
    }
    let _ = writeln!(
        report,
        "  root paths: {equal} objects at the same distance from the same kind of roots \
         (paths by root kind {kinds:?}), {explained} on paths through objects or references \
         changed since the walk"
    );
    if !wrong.is_empty() {
        return Err(format!(
            "{report}{} objects at another distance from the roots:\n  {}",
            wrong.len(),
            wrong
                .iter()
                .take(30)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n  ")
        )
        .into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match heaplens_corpus::shared_or_skip("the root and retained-size reference tests") {
        Some(shared) => {
            let mut dirs = heaplens_corpus::fixture_dirs(&shared);
            // The generated sets (server GC, 32-bit processes); the 5
            // M-object core only in an optimized build (its
            // reference graph and the dominators computed here take half a
            // minute there, many in a debug build).
            dirs.extend(
                heaplens_corpus::generated_fixture_dirs(
                    "the root and retained-size reference tests",
                )
                .into_iter()
                .filter(|d| {
                    let big = d.to_string_lossy().ends_with("-big");
                    if big && cfg!(debug_assertions) {
                        eprintln!(
                            "SKIPPED {}: the 5 M-object core is compared in optimized builds \
                             (cargo test --release)",
                            d.display()
                        );
                    }
                    !(big && cfg!(debug_assertions))
                }),
            );
            let mut dumps = 0;
            for dir in dirs {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                for phase in [1, 2] {
                    if !dir.join(format!("phase{phase}.graph.json.zst")).is_file() {
                        continue;
                    }
                    for dump in
                        heaplens_corpus::phase_dumps(&dir, phase, &[".core.zst", ".dmp.zst"])
                    {
                        dumps += 1;
                        let file = dump.file_name().unwrap().to_string_lossy().into_owned();
                        let kind = file.split('.').nth(1).unwrap_or("dump").to_owned();
                        let case = Case {
                            dump,
                            dir: dir.clone(),
                            phase,
                        };
                        trials.push(Trial::test(
                            format!("roots::{name}::phase{phase}::{kind}"),
                            move || check(&case),
                        ));
                    }
                }
            }
            trials.push(Trial::test("dumps_present", move || {
                if dumps >= 12 {
                    Ok(())
                } else {
                    Err(format!("only {dumps} fixture dumps with a reference graph").into())
                }
            }));
        }
        None => trials.push(Trial::test("corpus", || Ok(())).with_ignored_flag(true)),
    }
    libtest_mimic::run(&args, trials).exit();
}
