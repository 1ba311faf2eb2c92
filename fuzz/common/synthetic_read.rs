//! The read of a damaged synthetic process, shared by the targets
//! `clr_heap` (64-bit, regions) and `clr_heap32` (32-bit, segments):
//! `heaplens_clr::read_with` over the process' memory, its runtime module
//! and its one thread, on one thread; the graph's sizes are used so that
//! nothing is optimised away.

use heaplens_clr::{read_with, ReadOptions};
use heaplens_corpus::synthetic::SyntheticHeap;
use heaplens_graph::NoProgress;

/// Reads `heap` whole; any damage gives a heap or a `ClrError`.
pub fn read(heap: &SyntheticHeap) {
    let memory = heap.memory();
    let target = heap.clr_target(&memory);
    let options = ReadOptions {
        single_thread: true,
        ..ReadOptions::default()
    };
    if let Ok(read) = read_with(&target, &mut NoProgress, options) {
        std::hint::black_box((read.graph.node_count(), read.graph.edge_count()));
    }
}
