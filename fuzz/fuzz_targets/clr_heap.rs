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
use heaplens_corpus::synthetic::SyntheticHeap;
use heaplens_graph::NoProgress;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Seed {
    heap: SyntheticHeap,
    data: Vec<u8>,
    /// Values an edit may write: addresses of every structure and object,
    /// and sizes that are too large.
    words: Vec<u64>,
}

fn seed() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(|| {
        let heap = SyntheticHeap::new();
        let data = heap.data();
        let mut words = vec![0, 1, 8, 0x18, u64::MAX, u64::MAX - 7, 1 << 31, 1 << 32, 1 << 36, 1 << 62];
        for o in &heap.objects {
            words.extend([o.address, o.method_table, o.address + 8, o.address + o.size]);
        }
        for &(rec, start, end) in &heap.regions {
            words.extend([rec, start, end, end + (64 << 30), start - 0x10, 0x28]);
        }
        for r in &heap.ranges {
            words.extend([r.start, r.start + r.bytes.len() as u64]);
        }
        words.sort_unstable();
        words.dedup();
        Seed { heap, data, words }
    })
}

/// Applies the edits `input` encodes to `data`.
fn damage(data: &mut Vec<u8>, words: &[u64], input: &[u8]) {
    let mut i = 0;
    let mut byte = || {
        let b = input.get(i).copied();
        i += 1;
        b
    };
    for _ in 0..64 {
        let (Some(op), Some(lo), Some(hi)) = (byte(), byte(), byte()) else {
            return;
        };
        if data.len() < 8 {
            return;
        }
        let at = u16::from_le_bytes([lo, hi]) as usize % (data.len() - 7);
        match op % 8 {
            0 => data[at] = byte().unwrap_or(0),
            1 => {
                for k in 0..4 {
                    data[at + k] = byte().unwrap_or(0);
                }
            }
            2 => {
                for k in 0..8 {
                    data[at + k] = byte().unwrap_or(0);
                }
            }
            3 => {
                let w = words[byte().unwrap_or(0) as usize % words.len()];
                data[at & !7..(at & !7) + 8].copy_from_slice(&w.to_le_bytes());
            }
            4 => {
                let n = byte().unwrap_or(8) as usize;
                let end = (at + n).min(data.len());
                data[at..end].fill(0);
            }
            5 => data.truncate(at),
            6 => {
                let a = at & !7;
                let v = u64::from_le_bytes(data[a..a + 8].try_into().unwrap());
                let d = byte().unwrap_or(0) as i8 as i64;
                data[a..a + 8].copy_from_slice(&v.wrapping_add(d as u64).to_le_bytes());
            }
            _ => {
                let from = u16::from_le_bytes([byte().unwrap_or(0), byte().unwrap_or(0)]) as usize
                    % (data.len() - 7);
                let w: [u8; 8] = data[from..from + 8].try_into().unwrap();
                data[at..at + 8].copy_from_slice(&w);
            }
        }
    }
}

fuzz_target!(|input: &[u8]| {
    let seed = seed();
    let mut data = seed.data.clone();
    damage(&mut data, &seed.words, input);
    let heap = seed.heap.with_data(&data);
    let memory = heap.memory();
    let target = Target {
        memory: &memory,
        shared_memory: None,
        modules: vec![TargetModule {
            path: "/usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/libcoreclr.so".into(),
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
