//! Shared helpers of the corpus tests: parsers of the golden files, the
//! fixtures' object graphs as heap graphs, and the reconciliation of a heap
//! read from a core with the runtime's own walk.

pub mod clr_check;
pub mod core_segments;
pub mod dumps;
pub mod fixture_graph;
pub mod fixture_modules;
pub mod golden;
pub mod reconcile;
pub mod walkers;
