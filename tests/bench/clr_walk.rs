//! Benchmark: `heaplens stats CORE` work on Linux cores — open the core
//! through the page cache, find the runtime and walk the CLR heap (objects,
//! references, roots, type names), then live type statistics.
//!
//! `cargo bench -p heaplens-tests --bench clr_walk` runs it on the corpus'
//! phase-1 Linux cores; `HEAPLENS_BENCH_CORES=a.core:b.core` adds more
//! (uncompressed or `.zst`), e.g. a big heap made with the corpus' dumplab.
//! Per core it prints the best of several runs: objects, heap MB walked,
//! walk time, objects/s and MB/s of the whole `stats` work, the graph's
//! bytes per object, and finally the process's peak resident memory.
//! The work is split over one thread per core (at most 8) as in
//! `heaplens stats` on a file; `HEAPLENS_BENCH_THREADS=1` keeps it on one
//! (as in the browser), `HEAPLENS_BENCH_THREADS=N` walks on N.
//!
//! `HEAPLENS_BENCH_WALKERS=N` walks the heap with N walkers that share no
//! memory with the read, as the page's workers would (each on a thread
//! with the file opened on its own, a plan sent and results handed back
//! as bytes, then joined: [`heaplens_tests::walkers::FileWalkers::on_threads`]),
//! and prints, per core, when the plan came, the walkers' and the join's
//! time and the results' bytes per object.
//!
//! Windows minidumps are read the same way (a file starting `MDMP`): the
//! corpus' 64-bit `windows-net31` full dump of phase 1 and, when
//! `FIXTURES=x86 scripts/make-fixtures` made it, the 32-bit
//! `windows-net31-x86` one of the same program and runtime, side by side.

use heaplens_analysis::stats::{type_stats, Selection};
use heaplens_bytes::{FileSource, PageCache};
use heaplens_elfcore::ElfCore;
use heaplens_graph::NoProgress;
use heaplens_minidump::Minidump;
use heaplens_snapshot::elf::{target, ElfSymbols};
use std::path::PathBuf;
use std::time::{Duration, Instant};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn cores() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(shared) = heaplens_corpus::shared_or_skip("the CLR stats benchmark") {
        for dir in heaplens_corpus::fixture_dirs(&shared) {
            let name = dir.file_name().unwrap().to_string_lossy().into_owned();
            if !name.starts_with("linux-") {
                continue;
            }
            if let Some(p) = heaplens_tests::reconcile::core_of(&dir, 1) {
                out.push(p);
            }
        }
    }
    // The same program on .NET Core 3.1, 64- and 32-bit.
    if let Some(shared) = heaplens_corpus::shared_or_skip("the CLR stats benchmark") {
        let x64 = shared.join("fixtures/windows-net31/phase1.windump.dmp.zst");
        out.extend(x64.exists().then_some(x64));
    }
    for dir in heaplens_corpus::x86_fixture_dirs("the 32-bit minidump benchmark") {
        let dump = dir.join("phase1.windump.dmp.zst");
        out.extend(dump.exists().then_some(dump));
    }
    if let Some(extra) = std::env::var_os("HEAPLENS_BENCH_CORES") {
        out.extend(std::env::split_paths(&extra));
    }
    out
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing
    }
    // `HEAPLENS_BENCH_THREADS=1`: everything on one thread (what the
    // browser's worker does), for comparison; `=N`: the walk on N.
    let threads = std::env::var("HEAPLENS_BENCH_THREADS")
        .ok()
        .and_then(|v| v.parse::<std::num::NonZeroUsize>().ok());
    let single_thread = threads.is_some_and(|n| n.get() == 1);
    let walkers = std::env::var("HEAPLENS_BENCH_WALKERS")
        .ok()
        .and_then(|v| v.parse::<usize>().ok());
    let options = heaplens_clr::ReadOptions {
        single_thread,
        threads,
        ..Default::default()
    };
    println!(
        "threads: {}",
        match threads {
            Some(n) => format!("{n} (HEAPLENS_BENCH_THREADS)"),
            None => format!(
                "{}, one per core as `heaplens stats` on a file",
                options.walk_threads()
            ),
        }
    );
    println!(
        "{:<44} {:>10} {:>9} {:>9} {:>12} {:>9} {:>7} {:>9}",
        "core", "objects", "heap MB", "best ms", "objects/s", "MB/s", "B/obj", "edges/obj"
    );
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
        let minidump = {
            let mut magic = [0u8; 4];
            std::fs::File::open(&file)
                .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
                .is_ok()
                && &magic == b"MDMP"
        };
        let runs = 5;
        let mut best = Duration::MAX;
        let (mut objects, mut heap_mb, mut per_obj, mut fan_out) = (0usize, 0.0, 0.0, 0.0);
        let mut split = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let heap = if let Some(n) = walkers.filter(|_| !minidump) {
                // The core opened as the page opens it: no memory shared
                // with the walkers.
                let core = ElfCore::open(PageCache::new(FileSource::open(&file).unwrap())).unwrap();
                let symbols = ElfSymbols(&core);
                let target = target(&core, &symbols);
                let mut w = heaplens_tests::walkers::FileWalkers::on_threads(file.clone(), n);
                let heap =
                    heaplens_clr::read_walked_by(&target, &mut NoProgress, options, Some(&mut w))
                        .unwrap();
                split.push((t.elapsed(), w.plan_at, w.walk, w.join, w.result_bytes));
                heap
            } else if minidump {
                let md = Minidump::open(PageCache::new(FileSource::open(&file).unwrap())).unwrap();
                let symbols = heaplens_snapshot::minidump::PeSymbols(&md);
                // As `heaplens stats` opens a file: memory threads can share.
                let mut target = heaplens_snapshot::minidump::target(&md, &symbols);
                target.shared_memory = Some(md.memory());
                heaplens_clr::read_with(&target, &mut NoProgress, options).unwrap()
            } else {
                let core = ElfCore::open(PageCache::new(FileSource::open(&file).unwrap())).unwrap();
                let symbols = ElfSymbols(&core);
                let mut target = target(&core, &symbols);
                target.shared_memory = Some(core.memory());
                heaplens_clr::read_with(&target, &mut NoProgress, options).unwrap()
            };
            let st = type_stats(&heap.graph, None, Selection::Reachable);
            std::hint::black_box(&st);
            best = best.min(t.elapsed());
            objects = heap.graph.node_count();
            heap_mb = heap.info.gc.heap_bytes_captured as f64 / 1e6;
            per_obj = heap.graph.memory_bytes() as f64 / objects as f64;
            fan_out = heap.graph.edge_count() as f64 / objects as f64;
        }
        let s = best.as_secs_f64();
        if let Some((_, plan_at, walk, join, bytes)) = split.iter().min_by_key(|s| s.0) {
            println!(
                "  {} walkers (best run): plan after {:.0} ms, walkers {:.0} ms, join {:.0} ms, \
                 results {:.1} MB ({:.1} B/object)",
                walkers.unwrap_or(0),
                plan_at.as_secs_f64() * 1e3,
                walk.as_secs_f64() * 1e3,
                join.as_secs_f64() * 1e3,
                *bytes as f64 / 1e6,
                *bytes as f64 / objects.max(1) as f64
            );
        }
        println!(
            "{:<44} {:>10} {:>9.1} {:>9.1} {:>12.0} {:>9.1} {:>7.1} {:>9.2}",
            label,
            objects,
            heap_mb,
            s * 1e3,
            objects as f64 / s,
            heap_mb / s,
            per_obj,
            fan_out
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
}
