//! Benchmark: the live bytes of the page's whole analysis, phase by phase.
//!
//! `HEAPLENS_BENCH_CORE=path cargo bench -p heaplens-web --bench
//! analysis_memory` opens a core as the worker does (one thread, a page
//! cache of 64 pages of 1 MiB over 16 MiB reads ahead, [`Session::open`]),
//! then runs [`Opened::analyse`] — root paths, dominators, retained sizes,
//! both flame graphs, in the page's order — and prints, for the open and
//! for each progress phase of the analysis, the peak of the bytes allocated
//! and not freed (a counting global allocator: what a wasm worker's
//! allocator must find room for, whatever the memory it has already grown
//! to), the bytes in use when it ended and its time, beside what
//! `heaplens_analysis::budget` assumes. Natively `usize` is 8 bytes where
//! wasm32's is 4: the few per-object arrays of `usize` or pointers (none in
//! the analysis' big arrays) weigh more here than in the page.
//!
//! With `HEAPLENS_BENCH_IN_MEMORY=1` the core is first read whole into
//! memory and opened from there, as the worker's compute benchmark does
//! (`Request::BenchCompute`, the e2e `benchmark: compute`): the times to
//! compare with wasm's, compute only (the memory figures then include the
//! file's bytes). With `HEAPLENS_BENCH_OPEN_ONLY=1` it stops after the
//! open (to look at the open's peak in a heap profiler).

use heaplens_analysis::budget::{need, Analysis};
use heaplens_bytes::{FileSource, PageCache, ReadAhead, ReadAt};
use heaplens_graph::{Cancelled, Phase};
use heaplens_snapshot::modules::ModuleSet;
use heaplens_web::model::Session;
use heaplens_web::protocol::DumpId;
use peak_alloc::PeakAlloc;
use std::time::Instant;

/// The system allocator, counting the bytes in use and their peak. Its
/// reallocation holds the old and the new block at once, a shrink too
/// (which wasm's allocator and the system do in place): a peak just
/// after a phase's arrays were shrunk to fit is an upper bound.
#[global_allocator]
static ALLOC: PeakAlloc = PeakAlloc;

/// Bytes allocated and not freed.
fn live() -> usize {
    ALLOC.current_usage()
}

/// The peak of [`live`] since the last [`reset`].
fn peak() -> usize {
    ALLOC.peak_usage()
}

fn reset() {
    ALLOC.reset_peak_usage();
}

fn mb(b: usize) -> f64 {
    b as f64 / 1e6
}

/// One phase's figures.
struct Step {
    name: String,
    peak: usize,
    end: usize,
    secs: f64,
}

fn main() {
    let Some(path) = std::env::var_os("HEAPLENS_BENCH_CORE") else {
        eprintln!("analysis_memory: set HEAPLENS_BENCH_CORE to an (uncompressed) core");
        return;
    };
    let file = FileSource::open(std::path::Path::new(&path)).expect("open the core");
    let in_memory = std::env::var_os("HEAPLENS_BENCH_IN_MEMORY").is_some_and(|v| v == "1");
    let bytes: Vec<u8> = if in_memory {
        std::fs::read(&path).expect("read the core")
    } else {
        Vec::new()
    };
    let source: &dyn ReadAt = if in_memory { &bytes } else { &file };
    let cache = PageCache::with_capacity(ReadAhead::new(source, 16 << 20), 1 << 20, 64);
    let modules = ModuleSet::new();
    let mut session = Session::default();
    let t = Instant::now();
    reset();
    // Each progress phase of the open, from its first report to the next
    // phase's (peaks since the open began: the open's peak is the last's).
    let mut open_steps: Vec<Step> = Vec::new();
    let mut open_current: Option<(Phase, Instant)> = None;
    let end_of = |(q, t): (Phase, Instant)| Step {
        name: format!("  open: {}", q.words()),
        peak: peak(),
        end: live(),
        secs: t.elapsed().as_secs_f64(),
    };
    let opened = session
        .open(DumpId(0), &cache, &modules, "core", &mut |p, _, _| {
            if open_current.map(|c| c.0) != Some(p) {
                open_steps.extend(open_current.take().map(end_of));
                open_current = Some((p, Instant::now()));
            }
            Ok(())
        })
        .expect("read the core");
    open_steps.extend(open_current.take().map(end_of));
    let open = Step {
        name: "open (to the type table)".into(),
        peak: peak(),
        end: live(),
        secs: t.elapsed().as_secs_f64(),
    };
    if std::env::var_os("HEAPLENS_BENCH_OPEN_ONLY").is_some_and(|v| v == "1") {
        // The open alone (for a heap profiler's peak): its figures, no
        // analysis.
        for s in std::iter::once(&open).chain(&open_steps) {
            println!(
                "{:<34} {:>9.1} MB peak {:>9.1} MB end {:>6.2} s",
                s.name,
                mb(s.peak),
                mb(s.end),
                s.secs
            );
        }
        return;
    }
    let g = &opened.snapshot.graph;
    let (n, e) = (g.node_count(), g.edge_count());
    let graph = g.memory_bytes();
    let before = live();
    // Each progress phase of the analysis, from its first report to the
    // next phase's.
    let mut steps: Vec<Step> = Vec::new();
    let mut current: Option<(Phase, Instant)> = None;
    let close = |steps: &mut Vec<Step>, cur: Option<(Phase, Instant)>| {
        if let Some((p, t)) = cur {
            steps.push(Step {
                name: p.words().to_owned(),
                peak: peak(),
                end: live(),
                secs: t.elapsed().as_secs_f64(),
            });
        }
    };
    let t = Instant::now();
    let mut progress = |p: Phase, _: u64, _: u64| -> Result<(), Cancelled> {
        if current.map(|c| c.0) != Some(p) {
            close(&mut steps, current.take());
            reset();
            current = Some((p, Instant::now()));
        }
        Ok(())
    };
    reset();
    let mut overall = 0usize;
    opened.analyse(&mut progress).expect("analyse");
    let total = t.elapsed().as_secs_f64();
    close(&mut steps, current.take());
    for s in &steps {
        overall = overall.max(s.peak);
    }
    let after = live();
    let per = |b: usize| b as f64 / n as f64;
    println!(
        "{n} objects, {e} references ({:.2} per object); graph {:.1} MB = {:.1} B/object",
        e as f64 / n as f64,
        mb(graph),
        per(graph)
    );
    println!(
        "{:<34} {:>11} {:>11} {:>12} {:>8}",
        "phase", "peak MB", "end MB", "peak-start", "s"
    );
    println!(
        "{:<34} {:>11.1} {:>11.1} {:>12} {:>8.2}",
        open.name,
        mb(open.peak),
        mb(open.end),
        "",
        open.secs
    );
    for s in &open_steps {
        println!(
            "{:<34} {:>11.1} {:>11.1} {:>12} {:>8.2}",
            s.name,
            mb(s.peak),
            mb(s.end),
            "",
            s.secs
        );
    }
    for s in &steps {
        println!(
            "{:<34} {:>11.1} {:>11.1} {:>8.1} B/o {:>8.2}",
            s.name,
            mb(s.peak),
            mb(s.end),
            per(s.peak.saturating_sub(before)),
            s.secs
        );
    }
    let fresh = Analysis::Retained {
        paths_done: false,
        dominators_done: false,
    };
    println!(
        "analysis: {total:.2} s; in use before {:.1} MB, peak {:.1} MB (+{:.1} B/object), after {:.1} MB (+{:.1} B/object); budget::need {:.1} MB (+{:.1} B/object)",
        mb(before),
        mb(overall),
        per(overall - before),
        mb(after),
        per(after.saturating_sub(before)),
        mb(need(fresh, n as u64, e as u64) as usize),
        per(need(fresh, n as u64, e as u64) as usize),
    );
}
