//! Analyses over the heaplens [`heaplens_graph::HeapGraph`], the same for
//! every input format.
//!
//! * [`stats`]: per-type count, bytes and share of the heap, like SOS
//!   `!dumpheap -stat`, with sorting, filtering and PerfView's scaling of
//!   sampled heaps;
//! * [`reach`]: which nodes are reachable from the roots;
//! * [`perfview`]: PerfView's frame names and its raw "By Name" exclusive
//!   view, to compare with PerfView's own numbers.

pub mod perfview;
pub mod reach;
pub mod stats;
