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

#[path = "../common/synthetic_read.rs"]
mod synthetic_read;

use heaplens_corpus::synthetic::{Damager, SyntheticHeap};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fuzz_target!(|input: &[u8]| {
    static SEED: OnceLock<Damager> = OnceLock::new();
    let heap = SEED
        .get_or_init(|| SyntheticHeap::new().damager())
        .damaged(input);
    synthetic_read::read(&heap);
});
