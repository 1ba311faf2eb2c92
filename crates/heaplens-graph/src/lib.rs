//! The heap graph shared by every heaplens input format.
//!
//! A `.gcdump`, a Linux core and a Windows minidump all end up as one
//! [`HeapGraph`]: a table of [`TypeInfo`]s, a dense array of nodes (type,
//! size, address) with their outgoing edges in CSR form, and a list of
//! [`Root`]s. Pseudo-nodes (the `[.NET Roots]` node and its root categories,
//! as PerfView and dotnet-gcdump build them) are ordinary nodes whose type has
//! [`TypeKind::Pseudo`], so analyses that follow PerfView's conventions can
//! walk the same structure on every input.
//!
//! # Memory per object
//!
//! Nodes are stored column-wise with `u32` indices:
//!
//! | column | bytes per node |
//! | --- | --- |
//! | type index | 4 |
//! | size (sizes of 4 GiB or more go to a side table) | 4 |
//! | address | 8 |
//! | first-edge offset (CSR) | 4 |
//! | **total** | **20** |
//!
//! plus 4 bytes per edge. [`HeapGraph::memory_bytes`] reports the real
//! figure, including types, names and roots.

mod builder;
mod graph;
mod progress;
mod snapshot;

pub use builder::{BuildError, GraphBuilder};
pub use graph::{HeapGraph, NodeIndex, Root, RootKind, TypeIndex, TypeInfo, TypeKind};
pub use progress::{Cancelled, NoProgress, Progress};
pub use snapshot::{InputFormat, Sampling, Snapshot, SnapshotInfo};
