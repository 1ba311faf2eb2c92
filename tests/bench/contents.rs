//! Benchmark: object contents after a dump is open — the inspector's
//! answer (`heaplens object`'s document: fields and values, referrers,
//! dominator chain) and duplicate strings against the heap's read rate.
//!
//! `cargo bench -p heaplens-tests --bench contents` runs on the corpus'
//! phase-1 Linux cores and the generated 5 M-object core
//! (`../dumplab/out/linux-net8-big`, when made); `HEAPLENS_BENCH_CORES`
//! adds more. Per core: the open (the heap walk: heap MB/s, best of 3),
//! the dominator tree (built once, as the page does after opening),
//! the inspector's document for 20 objects (the largest retained ones and
//! every 1/20th of the heap: median and worst ms), the `instances`
//! document of the most common type, `strings` (duplicate strings over
//! every live string: heap MB/s, and that rate ÷ the walk's) and `waste`.
//! Everything on one thread but the walk (two, as `heaplens` on a file).

use heaplens_analysis::dominators::dominators;
use heaplens_analysis::reach::Reachable;
use heaplens_analysis::retained::{largest_objects, retained_sizes};
use heaplens_analysis::strings::{duplicate_strings, StringOptions};
use heaplens_analysis::waste::{collection_waste, WasteOptions};
use heaplens_bytes::{FileSource, PageCache};
use heaplens_graph::{NoProgress, NodeIndex};
use heaplens_results::instances::{InstanceSort, InstancesDocument, InstancesOptions};
use heaplens_results::object::{ObjectDocument, ObjectOptions};
use heaplens_snapshot::modules::ModuleSet;
use std::path::PathBuf;
use std::time::Instant;

fn cores() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(shared) = heaplens_corpus::shared_or_skip("the contents benchmark") {
        for dir in heaplens_corpus::fixture_dirs(&shared) {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("linux-") && !name.starts_with("linux-net31") {
                if let Some(p) = heaplens_tests::reconcile::core_of(&dir, 1) {
                    out.push(p);
                }
            }
        }
    }
    let big = heaplens_corpus::generated_path().join("linux-net8-big");
    if let Some(p) = heaplens_tests::reconcile::core_of(&big, 1) {
        out.push(p);
    }
    if let Some(extra) = std::env::var_os("HEAPLENS_BENCH_CORES") {
        out.extend(std::env::split_paths(&extra));
    }
    out
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    for path in cores() {
        let file = if path.extension().is_some_and(|e| e == "zst") {
            heaplens_corpus::unpacked(&path).expect("unpack")
        } else {
            path.clone()
        };
        let label = format!(
            "{}/{}",
            path.parent()
                .and_then(|p| p.file_name())
                .unwrap_or_default()
                .to_string_lossy(),
            path.file_name().unwrap().to_string_lossy()
        );
        let src = PageCache::new(FileSource::open(&file).expect("open"));
        let mut open_ms = f64::MAX;
        let mut snap = None;
        for _ in 0..3 {
            let t = Instant::now();
            let s = heaplens_snapshot::open_shared_with(&src, &ModuleSet::new(), &mut NoProgress)
                .expect("read");
            open_ms = open_ms.min(ms(t));
            snap = Some(s);
        }
        let snap = snap.unwrap();
        let g = &snap.graph;
        let heap_mb = snap
            .info
            .clr
            .as_ref()
            .map_or(0.0, |c| c.gc.heap_bytes as f64 / 1e6);
        let t = Instant::now();
        let dom = dominators(g, &mut NoProgress).unwrap();
        let dom_ms = ms(t);
        let t = Instant::now();
        let reader = snap.object_reader(&src).expect("contents");
        let reader_ms = ms(t);
        // The inspector: the largest retained objects and objects spread
        // over the heap.
        let sizes = retained_sizes(g, &dom);
        let mut picks: Vec<NodeIndex> = largest_objects(&dom, &sizes, 10)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let n = g.node_count() as NodeIndex;
        picks.extend(
            (1..=10)
                .map(|i| (n / 11) * i)
                .filter(|&x| dom.is_reachable(x)),
        );
        let mut times = Vec::new();
        for &node in &picks {
            let t = Instant::now();
            let doc = ObjectDocument::build(
                "bench",
                &snap,
                node,
                Ok(&reader),
                Some(&dom),
                ObjectOptions::default(),
            );
            times.push(ms(t));
            std::hint::black_box(doc);
        }
        times.sort_by(f64::total_cmp);
        let median = times[times.len() / 2];
        let worst = times[times.len() - 1];
        // A type's instances: the most common type, by retained size.
        let mut counts = vec![0u64; g.types().len()];
        g.for_each_node(|_, t, _| counts[t as usize] += 1);
        let common = (0..counts.len()).max_by_key(|&t| counts[t]).unwrap() as u32;
        let t = Instant::now();
        let doc = InstancesDocument::build(
            "bench",
            &snap,
            &[common],
            Some(&dom),
            Some(&reader),
            InstancesOptions {
                sort: InstanceSort::Retained,
                offset: 0,
                limit: 100,
                values: true,
            },
        );
        let instances_ms = ms(t);
        std::hint::black_box(doc);
        // Duplicate strings over every live string, against the walk's
        // rate (the heap's bytes per second of the open).
        let live = Reachable::of(g);
        let mut strings_ms = f64::MAX;
        let mut report = None;
        for _ in 0..3 {
            let t = Instant::now();
            let r = duplicate_strings(
                &reader,
                &|x| live.contains(x),
                &StringOptions::default(),
                &mut NoProgress,
            )
            .unwrap();
            strings_ms = strings_ms.min(ms(t));
            report = Some(r);
        }
        let report = report.unwrap();
        let t = Instant::now();
        let waste = collection_waste(
            &reader,
            &|x| live.contains(x),
            WasteOptions::default(),
            &mut NoProgress,
        )
        .unwrap();
        let waste_ms = ms(t);
        let walk_rate = heap_mb / (open_ms / 1000.0);
        let strings_rate = heap_mb / (strings_ms / 1000.0);
        println!("{label}: {} objects, {heap_mb:.1} heap MB", g.node_count());
        println!("  open (heap walk): {open_ms:.0} ms, {walk_rate:.0} heap MB/s; dominators {dom_ms:.0} ms; reader {reader_ms:.2} ms");
        println!(
            "  inspector (object document) on {} objects: median {median:.1} ms, worst {worst:.1} ms",
            times.len()
        );
        println!(
            "  instances of the most common type ({} objects), by retained size: {instances_ms:.1} ms",
            counts[common as usize]
        );
        println!(
            "  strings: {strings_ms:.0} ms for {} live strings ({:.1} MB): {strings_rate:.0} heap MB/s = {:.0} % of the walk's rate",
            report.strings,
            report.bytes as f64 / 1e6,
            strings_rate / walk_rate * 100.0
        );
        println!(
            "  waste: {waste_ms:.0} ms for {} collections and arrays",
            waste.examined
        );
    }
}
