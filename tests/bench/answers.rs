//! Benchmark: the answers on a big core — flame graphs by retained and by
//! inclusive size, PerfView's Inc per type, groups by interface, key
//! retention paths, and a flame graph's diff.
//!
//! `cargo bench -p heaplens-tests --bench answers` opens the generated
//! 5-million-object core (`../dumplab/out/linux-net8-big/phase1`, made by
//! `FIXTURES=big scripts/make-fixtures`; `HEAPLENS_BENCH_CORE=path` picks
//! another, `.zst` or not; its `phase2` beside it, when there, is the
//! diff's other side) as `heaplens` opens a file, then times each step
//! (best of `HEAPLENS_BENCH_RUNS`, default 3) and prints the frames, the
//! groups, and the process's peak resident memory (`VmHWM`) after each
//! step, per object.
//!
//! `HEAPLENS_BENCH_SYNTHETIC=N` adds a worst case for the frame trees: a
//! synthetic heap of N objects of 200 types assigned at random, each owned
//! by an object allocated shortly before it (so almost every object has a
//! path of types of its own), with 1,000 roots.

use heaplens_analysis::dominators::dominators;
use heaplens_analysis::flame::{diff_flames, inclusive_flame, retained_flame};
use heaplens_analysis::keypaths::key_paths;
use heaplens_analysis::paths::root_paths;
use heaplens_analysis::perfview::rooted::RootedView;
use heaplens_analysis::perfview::spanning::{spanning_tree_of, Orphans, Priorities};
use heaplens_analysis::stats::Selection;
use heaplens_bytes::{FileSource, PageCache};
use heaplens_graph::NoProgress;
use heaplens_results::flame::{FlameDocument, FlameLimits, FlameMeasure};
use heaplens_results::groups::{GroupKind, GroupTable};
use heaplens_results::stats::{stats_of, StatsDocument};
use heaplens_snapshot::modules::ModuleSet;
use heaplens_snapshot::Snapshot;
use std::path::{Path, PathBuf};
use std::time::Instant;

fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn open(path: &Path) -> Snapshot {
    let file = if path.extension().is_some_and(|e| e == "zst") {
        heaplens_corpus::unpacked(path).expect("unpack")
    } else {
        path.to_owned()
    };
    let src = PageCache::new(FileSource::open(&file).expect("open"));
    heaplens_snapshot::open_shared_with(&src, &ModuleSet::new(), &mut NoProgress).expect("read")
}

/// Best of `runs` of `f`, in seconds, and its last result.
fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut best = f64::MAX;
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        let r = f();
        best = best.min(t.elapsed().as_secs_f64());
        last = Some(r);
    }
    (best, last.expect("one run"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing
    }
    let path: PathBuf = std::env::var_os("HEAPLENS_BENCH_CORE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            heaplens_corpus::generated_path().join("linux-net8-big/phase1.withheap.core.zst")
        });
    if !path.is_file() {
        println!(
            "SKIPPED: no core at {} (FIXTURES=big scripts/make-fixtures makes it, or set \
             HEAPLENS_BENCH_CORE)",
            path.display()
        );
        return;
    }
    let runs: usize = std::env::var("HEAPLENS_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let t = Instant::now();
    let snap = open(&path);
    let g = &snap.graph;
    let n = g.node_count() as f64;
    let per_obj = |kib: u64| kib as f64 * 1024.0 / n;
    println!(
        "{}: {} objects, {} edges, {} types; read in {:.2} s; graph {:.1} bytes/object; peak {:.1} bytes/object",
        path.display(),
        g.node_count(),
        g.edge_count(),
        g.types().len(),
        t.elapsed().as_secs_f64(),
        g.memory_bytes() as f64 / n,
        per_obj(peak_kib())
    );
    let step = |name: &str, secs: f64, what: String| {
        println!(
            "  {name:<52} {:>9.1} ms   peak {:>6.1} bytes/object   {what}",
            secs * 1e3,
            per_obj(peak_kib())
        );
    };
    let (s, dom) = best(runs, || dominators(g, &mut NoProgress).unwrap());
    step(
        "dominator tree (for retained)",
        s,
        format!("{} reachable", dom.reachable_count()),
    );
    let (s, rf) = best(runs, || retained_flame(g, &dom, &mut NoProgress).unwrap());
    step(
        "retained flame graph (aggregation)",
        s,
        format!("{} frames", rf.tree.len()),
    );
    let sel = Selection::for_input(snap.info.capabilities);
    let (s, tree) = best(runs, || {
        let view = RootedView::new(g, &Priorities::default());
        spanning_tree_of(&view, Orphans::Exclude, &mut NoProgress).unwrap()
    });
    step(
        "PerfView spanning tree alone",
        s,
        format!("{} nodes visited", tree.order().len()),
    );
    drop(tree);
    let (s, inf) = best(runs, || {
        inclusive_flame(g, None, sel, &mut NoProgress).unwrap()
    });
    step(
        "inclusive flame graph (spanning tree + aggregation)",
        s,
        format!("{} frames", inf.tree.len()),
    );
    let (s, doc) = best(runs, || {
        FlameDocument::build("x", g, &rf, FlameLimits::default())
    });
    let (s2, text) = best(runs, || doc.folded());
    step(
        "flame document, 10,000 frames + folded",
        s + s2,
        format!(
            "{} frames kept, {} folded lines, {} KB of JSON",
            doc.frames.len(),
            text.lines().count(),
            serde_json::to_string(&doc).map_or(0, |j| j.len() / 1000)
        ),
    );
    let stats = stats_of(&snap);
    let (s, cols) = best(runs, || {
        let mut d = StatsDocument::build_all("x", 0, &snap, &stats);
        d.add_columns(g, &inf);
        d.add_columns(g, &rf);
        d
    });
    step(
        "stats: Inc, Inc Ct, Retained columns",
        s,
        format!("{} rows", cols.types.len()),
    );
    for kind in [GroupKind::Namespace, GroupKind::Interface] {
        let (s, table) = best(runs, || {
            GroupTable::build(&snap, &stats, kind, Some(&inf), Some(&rf))
        });
        step(
            &format!("groups by {} (count, Inc, retained)", kind.as_str()),
            s,
            format!("{} groups", table.rows.len()),
        );
    }
    let (s, paths) = best(runs, || root_paths(g, &mut NoProgress).unwrap());
    step("shortest paths (BFS, for key paths)", s, String::new());
    let strings: Vec<u32> = (0..g.types().len() as u32)
        .filter(|&t| g.type_info(t).name == "System.String")
        .collect();
    let sizes = heaplens_analysis::retained::retained_sizes(g, &dom);
    let (s, kp) = best(runs, || {
        key_paths(g, &paths, &strings, Some((&dom, &sizes)), &mut NoProgress).unwrap()
    });
    step(
        "key paths of System.String (+ retained)",
        s,
        format!("{} paths of {} objects", kp.paths.len(), kp.objects),
    );
    let other = path.to_string_lossy().replace("phase1.", "phase2.");
    if other != path.to_string_lossy() && Path::new(&other).is_file() {
        let snap2 = open(Path::new(&other));
        let dom2 = dominators(&snap2.graph, &mut NoProgress).unwrap();
        let rf2 = retained_flame(&snap2.graph, &dom2, &mut NoProgress).unwrap();
        let (s, d) = best(runs, || diff_flames(&rf, g, &rf2, &snap2.graph, false));
        let (s2, dd) = best(runs, || {
            FlameDocument::build_diff(
                "a",
                "b",
                FlameMeasure::Retained,
                false,
                &d,
                FlameLimits::default(),
            )
        });
        step(
            "diff of two retained flame graphs + document",
            s + s2,
            format!("{} merged frames, {} kept", d.frames.len(), dd.frames.len()),
        );
    }
    if let Some(n) = std::env::var("HEAPLENS_BENCH_SYNTHETIC")
        .ok()
        .and_then(|v| v.replace('_', "").parse::<u32>().ok())
    {
        drop((snap, dom, rf, inf, paths, sizes, kp));
        synthetic(n, runs);
    }
    println!("peak RSS: {:.1} MiB", peak_kib() as f64 / 1024.0);
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The worst case: random types along ownership chains.
fn synthetic(n: u32, runs: usize) {
    use heaplens_graph::{GraphBuilder, RootKind, TypeInfo, TypeKind};
    let mut owned: Vec<Vec<u32>> = vec![Vec::new(); n as usize];
    for j in 1..n {
        let h = mix(j as u64);
        let back = if h % 100 < 95 {
            1 + (h >> 8) % 16
        } else {
            1 + (h >> 8) % j as u64
        };
        owned[j.saturating_sub(back as u32) as usize].push(j);
    }
    let mut b = GraphBuilder::new();
    for t in 0..200 {
        b.add_type(TypeInfo {
            name: format!("Synthetic.Type{t}"),
            module: None,
            kind: TypeKind::Object,
            method_table: 0x1000 + t,
        });
    }
    for (i, kids) in owned.iter().enumerate() {
        let t = (mix(i as u64 ^ 0x55) % 200) as u32;
        b.add_node(
            t,
            24 + 8 * (t as u64 % 16),
            0x1_0000 + i as u64 * 64,
            kids.iter().copied(),
        )
        .unwrap();
    }
    drop(owned);
    b.add_root(0, RootKind::Static, Some("Synthetic.s_root"));
    for r in 1..1000u64 {
        b.add_root((mix(r) % n as u64) as u32, RootKind::StrongHandle, None);
    }
    let g = b.finish().unwrap();
    println!("synthetic worst case: {n} objects of 200 random types");
    let per = |kib: u64| kib as f64 * 1024.0 / n as f64;
    let dom = dominators(&g, &mut NoProgress).unwrap();
    let (s, rf) = best(runs, || retained_flame(&g, &dom, &mut NoProgress).unwrap());
    println!(
        "  retained flame graph (aggregation) {:>9.1} ms   {} frames{}   peak {:.1} bytes/object",
        s * 1e3,
        rf.tree.len(),
        if rf.tree.truncated() {
            " (limit reached)"
        } else {
            ""
        },
        per(peak_kib())
    );
    let (s, inf) = best(runs, || {
        inclusive_flame(&g, None, Selection::Reachable, &mut NoProgress).unwrap()
    });
    println!(
        "  inclusive flame graph             {:>9.1} ms   {} frames{}   peak {:.1} bytes/object",
        s * 1e3,
        inf.tree.len(),
        if inf.tree.truncated() {
            " (limit reached)"
        } else {
            ""
        },
        per(peak_kib())
    );
    let (s, doc) = best(runs, || {
        FlameDocument::build("x", &g, &rf, FlameLimits::default())
    });
    println!(
        "  flame document (10,000 frames)    {:>9.1} ms   {} frames kept",
        s * 1e3,
        doc.frames.len()
    );
}
