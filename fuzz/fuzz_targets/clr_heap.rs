//! The CLR heap structures, reached for real: a small synthetic .NET
//! process (`heaplens_corpus::synthetic::SyntheticHeap`: GcDacVars, region
//! records of five generations, MethodTables with GCDescs of both kinds,
//! objects, a handle table, a finalization queue, a thread's stack) is
//! damaged by the input — a list of edits (set bytes, set a word to an
//! address that matters, zero a run, cut the memory short) — and read
//! whole by `heaplens_clr::read_with`: `GcDacVars` found by shape, the
//! segment and region records, the MethodTables and GCDescs, the object
//! walk and its references, the handle table, the finalization queue, the
//! stack scan, type names and statics. Any damage gives a heap or a
//! `ClrError`, never a panic, hang or abort, and never an allocation the
//! dump's bytes do not back.
#![no_main]

use heaplens_clr::{read_with, ReadOptions, Target, TargetModule, TargetThread};
use heaplens_corpus::synthetic::{Damager, SyntheticHeap};
use heaplens_graph::NoProgress;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|input: &[u8]| {
    static SEED: OnceLock<Damager> = OnceLock::new();
    let heap = SEED
        .get_or_init(|| SyntheticHeap::new().damager())
        .damaged(input);
    let memory = heap.memory();
    let target = Target {
        memory: &memory,
        shared_memory: None,
        modules: vec![TargetModule {
            path: heap.runtime_path.clone(),
            start: heap.runtime.0,
            end: heap.runtime.1,
            header_addresses: vec![],
            ranges: vec![],
            version: None,
        }],
        threads: vec![TargetThread {
            id: 1,
            registers: heap.thread.2.clone(),
            stack_pointer: heap.thread.0,
            stack_end: Some(heap.thread.1),
            thread_local: Vec::new(),
        }],
        symbols: &heaplens_clr::NoSymbols,
        module_files: None,
    };
    let options = ReadOptions {
        single_thread: true,
        ..ReadOptions::default()
    };
    if let Ok(read) = read_with(&target, &mut NoProgress, options) {
        std::hint::black_box((read.graph.node_count(), read.graph.edge_count()));
    }
});
