//! Shared helpers of the corpus tests: parsers of the golden files, and the
//! fixtures' object graphs as heap graphs.

pub mod fixture_graph;
pub mod golden;
