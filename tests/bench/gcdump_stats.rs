//! Benchmark: `heaplens stats` work (read a `.gcdump` through the page
//! cache, build the graph, compute type statistics) on the corpus samples.
//!
//! `cargo bench -p heaplens-tests --bench gcdump_stats` prints, per sample,
//! the best of several runs in MB/s and objects/s, the graph's bytes per
//! node, and the process's peak resident memory.

use heaplens_analysis::stats::{type_stats, Selection};
use heaplens_bytes::{FileSource, PageCache};
use std::time::{Duration, Instant};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing
    }
    let Some(shared) = heaplens_corpus::shared_or_skip("the gcdump stats benchmark") else {
        return;
    };
    println!(
        "{:<48} {:>9} {:>9} {:>10} {:>10} {:>12} {:>9}",
        "sample", "MB", "nodes", "best ms", "MB/s", "objects/s", "B/node"
    );
    for path in heaplens_corpus::gcdump_samples(&shared) {
        let mb = std::fs::metadata(&path).unwrap().len() as f64 / 1e6;
        let mut best = Duration::MAX;
        let mut nodes = 0usize;
        let mut per_node = 0.0;
        let runs = 10;
        for _ in 0..runs {
            let t = Instant::now();
            let src = PageCache::new(FileSource::open(&path).unwrap());
            let dump = heaplens_gcdump::read(&src, &mut heaplens_graph::NoProgress).unwrap();
            let g = &dump.graph;
            let st = type_stats(g, dump.sampling.as_ref(), Selection::All);
            std::hint::black_box(&st);
            best = best.min(t.elapsed());
            nodes = g.node_count();
            per_node = g.memory_bytes() as f64 / nodes as f64;
        }
        let s = best.as_secs_f64();
        println!(
            "{:<48} {:>9.2} {:>9} {:>10.2} {:>10.1} {:>12.0} {:>9.1}",
            path.file_name().unwrap().to_string_lossy(),
            mb,
            nodes,
            s * 1e3,
            mb / s,
            nodes as f64 / s,
            per_node
        );
    }
    if let Some(kib) = peak_rss_kib() {
        println!("peak RSS: {:.1} MiB", kib as f64 / 1024.0);
    }
}
