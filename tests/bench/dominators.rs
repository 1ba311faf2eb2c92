//! Benchmark: dominator tree and retained sizes on synthetic heaps.
//!
//! `cargo bench -p heaplens-tests --bench dominators` builds, for each
//! scenario, a graph with `GraphBuilder` and times `dominators` and
//! `retained_sizes`, printing the time of each phase, the graph's bytes per
//! node, and the process's peak resident memory (`VmHWM`, reset between
//! scenarios through `/proc/self/clear_refs`) per node — graph, dominator
//! arrays and everything else included. (`dominators` sums the retained
//! sizes itself, in its last phase; `retained_sizes` hands them out.)
//!
//! Scenarios (`HEAPLENS_BENCH_NODES` sets the node count, default 50 M;
//! `HEAPLENS_BENCH_SCENARIO=heap,chain` picks some):
//!
//! * `heap`: a heap-like graph with 2 edges per node, objects numbered in
//!   allocation order: a tree of ownership (each object owned by one
//!   allocated before it: 85 % within the 16 before, 14 % within the
//!   65,536 before, 1 % anywhere before) plus one more reference per
//!   object: 40 % within ±16, 20 % within ±256, 25 % within ±65,536,
//!   10 % to a popular object (mostly early, long-lived ones, as types,
//!   interned strings and caches are in real heaps), 5 % to any object;
//!   1,000 roots (statics, stack, handles, and weak handles that keep
//!   nothing alive); 200 types of 24 to 144 bytes; addresses increasing
//!   with sizes.
//! * `scattered`: the same, but the extra references go 60 % within ±256,
//!   30 % within ±65,536 and 10 % to any object: a worst case for caches.
//! * `chain`: one chain of all the nodes, the last pointing back at the
//!   middle (a path of the full length to compress).

use heaplens_analysis::dominators::dominators;
use heaplens_analysis::retained::retained_sizes;
use heaplens_graph::{Cancelled, GraphBuilder, HeapGraph, Phase, RootKind, TypeInfo, TypeKind};
use std::time::Instant;

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn reset_peak() {
    // "5" resets the peak resident set size (Linux 4.0 and later).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn types(b: &mut GraphBuilder) -> Vec<u64> {
    (0..200u64)
        .map(|t| {
            b.add_type(TypeInfo {
                name: format!("Synthetic.Type{t}"),
                module: None,
                kind: TypeKind::Object,
                method_table: 0x7ff0_0000_0000 + t * 0x100,
            });
            24 + 8 * (t % 16)
        })
        .collect()
}

fn heap_graph(n: u32) -> HeapGraph {
    synthetic_heap(n, false)
}

fn scattered_graph(n: u32) -> HeapGraph {
    synthetic_heap(n, true)
}

/// One more reference per object, besides its owner's. `scattered`: 60 %
/// within ±256, 30 % within ±65,536, 10 % to any object at all (a worst
/// case for caches). Otherwise, closer to real heaps, where far references
/// mostly go to a few long-lived shared objects (types, interned strings,
/// caches, singletons): 40 % within ±16, 20 % within ±256, 25 % within
/// ±65,536, 10 % to a popular object (index n·u⁴ for uniform u: mostly
/// early, long-lived objects), 5 % to any object.
fn extra_reference(i: u32, n: u32, h: u64, scattered: bool) -> u32 {
    let near = |span: u64| i as i64 + ((h >> 16) % (2 * span + 1)) as i64 - span as i64;
    let target = if scattered {
        match (h >> 8) % 10 {
            0..=5 => near(256),
            6..=8 => near(65_536),
            _ => ((h >> 16) % n as u64) as i64,
        }
    } else {
        match (h >> 8) % 20 {
            0..=7 => near(16),
            8..=11 => near(256),
            12..=16 => near(65_536),
            17..=18 => {
                let u = ((h >> 16) & 0xFFFF_FFFF) as f64 / 4_294_967_296.0;
                (n as f64 * u.powi(4)) as i64
            }
            _ => ((h >> 16) % n as u64) as i64,
        }
    };
    target.clamp(0, n as i64 - 1) as u32
}

/// The heap-like graph. Objects are numbered in allocation order; most
/// references go to objects allocated nearby, as in a real heap.
fn synthetic_heap(n: u32, scattered: bool) -> HeapGraph {
    // Ownership tree: every object but the first has an owner allocated
    // before it: usually just before (a constructor filling its fields),
    // sometimes a while before (a long-lived collection growing), rarely
    // anywhere (global structures).
    let owner = |j: u32| -> u32 {
        let h = mix(j as u64 ^ 0x0123_4567);
        let back = match h % 100 {
            0..=84 => 1 + (h >> 8) % 16,
            85..=98 => 1 + (h >> 8) % 65_536,
            _ => 1 + (h >> 8) % j as u64,
        };
        j.saturating_sub(back as u32)
    };
    // Children lists of the tree, as CSR (temporary: freed before the
    // measurement starts).
    let mut start = vec![0u32; n as usize + 1];
    for j in 1..n {
        start[owner(j) as usize + 1] += 1;
    }
    for i in 0..n as usize {
        start[i + 1] += start[i];
    }
    let mut fill = start.clone();
    let mut owned = vec![0u32; n as usize - 1];
    for j in 1..n {
        let o = owner(j) as usize;
        owned[fill[o] as usize] = j;
        fill[o] += 1;
    }
    drop(fill);
    let mut b = GraphBuilder::new();
    b.reserve(n as usize, 2 * n as usize);
    let sizes = types(&mut b);
    let mut address = 0x7f00_0000_0000u64;
    for i in 0..n {
        let h = mix(i as u64);
        let t = (h % 200) as u32;
        let extra = extra_reference(i, n, h, scattered);
        let own = &owned[start[i as usize] as usize..start[i as usize + 1] as usize];
        b.add_node(
            t,
            sizes[t as usize],
            address,
            own.iter().copied().chain([extra]),
        )
        .unwrap();
        address += sizes[t as usize];
    }
    drop(owned);
    drop(start);
    let kinds = [
        RootKind::Static,
        RootKind::Stack,
        RootKind::StrongHandle,
        RootKind::PinnedHandle,
        RootKind::WeakHandle,
    ];
    b.add_root(0, RootKind::Static, Some("Synthetic.Program.s_root"));
    for r in 1..1000u64 {
        let h = mix(r ^ 0xABCD);
        b.add_root(
            (h % n as u64) as u32,
            kinds[(h >> 40) as usize % kinds.len()],
            None,
        );
    }
    b.finish().unwrap()
}

fn chain_graph(n: u32) -> HeapGraph {
    let mut b = GraphBuilder::new();
    b.reserve(n as usize, n as usize);
    let sizes = types(&mut b);
    let mut address = 0x7f00_0000_0000u64;
    for i in 0..n {
        let next = if i + 1 < n { i + 1 } else { n / 2 };
        b.add_node(0, sizes[0], address, [next]).unwrap();
        address += sizes[0];
    }
    b.add_root(0, RootKind::Static, Some("Synthetic.Chain.s_head"));
    b.finish().unwrap()
}

fn run(name: &str, n: u32, make: fn(u32) -> HeapGraph) {
    reset_peak();
    let t = Instant::now();
    let g = make(n);
    let build = t.elapsed().as_secs_f64();
    let graph_bytes = g.memory_bytes();
    let after_build_kib = status_kib("VmHWM:");
    println!(
        "{name}: {} nodes, {} edges, built in {build:.1} s; graph {:.1} bytes/node ({:.2} GiB); peak so far {:.1} bytes/node",
        g.node_count(),
        g.edge_count(),
        graph_bytes as f64 / n as f64,
        graph_bytes as f64 / (1u64 << 30) as f64,
        after_build_kib as f64 * 1024.0 / n as f64
    );
    reset_peak();
    let start = Instant::now();
    let mut last = (String::new(), Instant::now());
    let mut phases: Vec<(String, f64, u64)> = Vec::new();
    // The engine reports one phase, its four steps as its quarters.
    let mut progress = |_: Phase, done: u64, total: u64| -> Result<(), Cancelled> {
        let step = (done * 4).checked_div(total).unwrap_or(0).min(3) as usize;
        let phase = ["numbering", "semi-dominators", "tree", "retained sizes"][step];
        if phase != last.0 {
            if !last.0.is_empty() {
                phases.push((
                    last.0.clone(),
                    last.1.elapsed().as_secs_f64(),
                    status_kib("VmHWM:"),
                ));
            }
            last = (phase.to_owned(), Instant::now());
        }
        Ok(())
    };
    let dom = dominators(&g, &mut progress).unwrap();
    phases.push((
        last.0.clone(),
        last.1.elapsed().as_secs_f64(),
        status_kib("VmHWM:"),
    ));
    let dom_time = start.elapsed().as_secs_f64();
    let t = Instant::now();
    let sizes = retained_sizes(&g, &dom);
    let ret_time = t.elapsed().as_secs_f64();
    let peak_kib = status_kib("VmHWM:");
    std::hint::black_box((&dom, &sizes));
    for (phase, secs, hwm) in &phases {
        println!(
            "  {phase:<32} {secs:>7.2} s   peak {:>6.1} bytes/node",
            *hwm as f64 * 1024.0 / n as f64
        );
    }
    // The retained sizes are the ones `dom` holds (shared, counted there).
    let result_bytes = dom.memory_bytes();
    println!(
        "  dominators {dom_time:.2} s + retained sizes {ret_time:.2} s = {:.2} s; {} reachable; \
         peak {:.1} MiB = {:.1} bytes/node (graph {:.1} + the rest {:.1}); results {:.1} bytes/node",
        dom_time + ret_time,
        dom.reachable_count(),
        peak_kib as f64 / 1024.0,
        peak_kib as f64 * 1024.0 / n as f64,
        graph_bytes as f64 / n as f64,
        (peak_kib as f64 * 1024.0 - graph_bytes as f64) / n as f64,
        result_bytes as f64 / n as f64,
    );
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing
    }
    let n: u32 = std::env::var("HEAPLENS_BENCH_NODES")
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(50_000_000);
    println!("dominators and retained sizes, {n} nodes");
    let only = std::env::var("HEAPLENS_BENCH_SCENARIO").unwrap_or_default();
    type Make = fn(u32) -> HeapGraph;
    let scenarios: [(&str, Make); 3] = [
        ("heap", heap_graph),
        ("scattered", scattered_graph),
        ("chain", chain_graph),
    ];
    for (name, make) in scenarios {
        if only.is_empty() || only.split(',').any(|s| s == name) {
            run(name, n, make);
        }
    }
}
