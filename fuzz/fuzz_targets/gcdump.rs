//! `.gcdump` (FastSerialization, MemoryGraph, roots, sampling): any bytes
//! give a graph or a `GcdumpError`, never a panic, hang or abort.
#![no_main]

use heaplens_graph::NoProgress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(dump) = heaplens_gcdump::read(&data, &mut NoProgress) {
        let g = &dump.graph;
        let mut bytes = 0u64;
        g.for_each_node(|_, _, size| bytes = bytes.wrapping_add(size));
        std::hint::black_box(bytes);
    }
});
