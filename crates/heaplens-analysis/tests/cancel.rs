//! Cancellation in the analyses: every long step reports after bounded
//! work (at most 65,536 objects between two reports, a few milliseconds),
//! and a `Cancelled` answer stops it at once with a typed `Cancelled`: root
//! paths, dominators, the flame graphs' frame trees, key retention paths.

use heaplens_analysis::dominators::dominators;
use heaplens_analysis::paths::root_paths;
use heaplens_graph::{
    CancelFlag, Cancellable, Cancelled, GraphBuilder, HeapGraph, Phase, Progress, RootKind,
    TypeInfo, TypeKind,
};

/// Most objects handled between two reports.
const BOUND: u64 = 1 << 16;

/// A heap of `n` objects: a chain from a root, and from every object a
/// reference to one far back (so the dominator tree is not the chain).
fn graph(n: u32) -> HeapGraph {
    let mut b = GraphBuilder::new();
    let t = b.add_type(TypeInfo {
        name: "Node".into(),
        module: None,
        kind: TypeKind::Object,
        method_table: 0x1000,
    });
    for i in 0..n {
        let mut children = vec![];
        if i + 1 < n {
            children.push(i + 1);
        }
        if i > 10 {
            children.push(i / 3);
        }
        b.add_node(t, 24, 0x10_0000 + 24 * i as u64, children)
            .unwrap();
    }
    b.add_root(0, RootKind::StrongHandle, None);
    b.finish().unwrap()
}

/// The reports of `phase` while `run` works through a graph of `n`
/// objects, uncancelled.
fn reports(n: u32, phase: Phase, run: fn(&HeapGraph, &mut dyn Progress) -> bool) -> Vec<u64> {
    let g = graph(n);
    let mut seen = Vec::new();
    let mut p = |ph: Phase, done: u64, _: u64| -> Result<(), Cancelled> {
        if ph == phase {
            seen.push(done);
        }
        Ok(())
    };
    assert!(run(&g, &mut p));
    seen
}

/// Cancelling at the `k`-th report of `phase` ends `run` with no further
/// report.
fn cancels_at_once(n: u32, phase: Phase, k: usize, run: fn(&HeapGraph, &mut dyn Progress) -> bool) {
    let g = graph(n);
    let flag = CancelFlag::new();
    let mut count = 0usize;
    let mut after = 0usize;
    let mut inner = |ph: Phase, _: u64, _: u64| -> Result<(), Cancelled> {
        if flag.is_cancelled() {
            after += 1;
        }
        if ph == phase {
            count += 1;
            if count == k {
                flag.cancel();
            }
        }
        Ok(())
    };
    let mut p = Cancellable {
        inner: &mut inner,
        flag: &flag,
    };
    assert!(!run(&g, &mut p), "{phase:?} went on after the cancel");
    assert_eq!(after, 0, "{phase:?}: reports after the cancel");
    assert_eq!(count, k);
}

fn paths(g: &HeapGraph, p: &mut dyn Progress) -> bool {
    root_paths(g, p).is_ok()
}

fn doms(g: &HeapGraph, p: &mut dyn Progress) -> bool {
    dominators(g, p).is_ok()
}

#[test]
fn root_paths_report_after_bounded_work_and_stop_when_cancelled() {
    let n = 5 * BOUND as u32;
    let seen = reports(n, Phase::FindingRoots, paths);
    // At least one report per BOUND objects.
    assert!(seen.len() as u64 >= n as u64 / BOUND, "{seen:?}");
    for w in seen.windows(2) {
        assert!(w[1] - w[0] <= BOUND, "{seen:?}");
    }
    cancels_at_once(n, Phase::FindingRoots, 1, paths);
    cancels_at_once(n, Phase::FindingRoots, 3, paths);
}

#[test]
fn dominators_report_after_bounded_work_in_every_step_and_stop_when_cancelled() {
    let n = 5 * BOUND as u32;
    let seen = reports(n, Phase::RetainedSizes, doms);
    // Four steps (numbering, semi-dominators, tree, retained sizes), each
    // reporting at least once per BOUND vertices: progress is reported as
    // quarters of the work, so a step's BOUND vertices are BOUND / 4.
    assert!(
        seen.len() as u64 >= 4 * (n as u64 / BOUND),
        "{}",
        seen.len()
    );
    for w in seen.windows(2) {
        assert!(w[1] - w[0] <= BOUND / 4 + 1, "{w:?}");
    }
    // Cancelled in each of the four steps.
    let per_step = seen.len() / 4;
    for k in [1, per_step, 2 * per_step, 3 * per_step + 1, seen.len() - 1] {
        cancels_at_once(n, Phase::RetainedSizes, k, doms);
    }
}

/// An analysis run over a graph: false when cancelled.
type Run = fn(&HeapGraph, &mut dyn Progress) -> bool;

fn retained_flame(g: &HeapGraph, p: &mut dyn Progress) -> bool {
    let Ok(dom) = dominators(g, &mut heaplens_graph::NoProgress) else {
        return false;
    };
    heaplens_analysis::flame::retained_flame(g, &dom, p).is_ok()
}

fn inclusive_flame(g: &HeapGraph, p: &mut dyn Progress) -> bool {
    heaplens_analysis::flame::inclusive_flame(
        g,
        None,
        heaplens_analysis::stats::Selection::Reachable,
        p,
    )
    .is_ok()
}

fn key_paths(g: &HeapGraph, p: &mut dyn Progress) -> bool {
    let Ok(paths) = root_paths(g, &mut heaplens_graph::NoProgress) else {
        return false;
    };
    heaplens_analysis::keypaths::key_paths(g, &paths, &[0], None, p).is_ok()
}

#[test]
fn flame_graphs_and_key_paths_report_after_bounded_work_and_stop_when_cancelled() {
    let n = 5 * BOUND as u32;
    let runs: [(&str, Run, Phase); 3] = [
        ("retained flame", retained_flame, Phase::FlameGraph),
        ("inclusive flame", inclusive_flame, Phase::FlameGraph),
        ("key paths", key_paths, Phase::KeyPaths),
    ];
    for (what, run, phase) in runs {
        let seen = reports(n, phase, run);
        assert!(seen.len() as u64 >= n as u64 / BOUND, "{what}: {seen:?}");
        for w in seen.windows(2) {
            assert!(w[1] - w[0] <= BOUND, "{what}: {seen:?}");
        }
        cancels_at_once(n, phase, 1, run);
        cancels_at_once(n, phase, 3, run);
    }
}
