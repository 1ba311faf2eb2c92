//! The CLR heap structures of a 32-bit process, reached for real: the
//! target `clr_heap` over `SyntheticHeap::new_x86` (.NET Core 3.1
//! x86-shaped, as the Windows x86 dumps are: 4-byte pointers, GcDacVars of
//! the first layout, an ephemeral small object heap segment whose objects
//! are 4-byte aligned and 12 bytes at least, a large object heap segment
//! whose objects are 8-byte aligned, `heap_segment` records at their
//! segments' starts, 32-bit GCDescs of both kinds, a handle table of
//! 4-byte handles, a finalization queue, a thread's stack). The process is
//! damaged by the input — a list of edits (set bytes, set a word to an
//! address that matters, zero a run, cut the memory short) — and read
//! whole by `heaplens_clr::read_with`: `GcDacVars` found by shape, the
//! segment records, the MethodTables and GCDescs, the object
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
        .get_or_init(|| SyntheticHeap::new_x86().damager())
        .damaged(input);
    synthetic_read::read(&heap);
});
