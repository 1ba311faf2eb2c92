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
//! The graph does not know its producers: what an input can answer is
//! stated as [`Capabilities`] (and, for a sampled heap, [`Sampling`]), and
//! analyses decide by those. The formats, and what a snapshot says about
//! the process, belong to `heaplens-snapshot`.
//!
//! # Memory per object
//!
//! Nodes are stored column-wise with `u32` indices:
//!
//! | column | bytes per node |
//! | --- | --- |
//! | type index (4 if the graph has 65,535 types or more) | 2 |
//! | size (sizes of 65,535 bytes or more go to a side table) | 2 |
//! | address (blocks of 64 share a base and store 2-byte offsets in units of 4 bytes; a block spanning 256 KiB or more keeps 4-byte offsets, or whole addresses past 4 GiB, in a side array) | 2.14 |
//! | first-edge offset (CSR: blocks of 64 share a base and store 2-byte offsets; a block with 65,536 edges or more keeps whole offsets; [`PackedStarts`], packed as it is appended) | 2.0625 |
//! | **total** | **8.2** |
//!
//! plus 4 bytes per edge. [`HeapGraph::memory_bytes`] reports the real
//! figure, including types, names, roots and side tables.

mod builder;
mod columns;
mod facts;
mod graph;
mod hierarchy;
mod limit;
mod progress;
mod starts;

pub use builder::{BuildError, GraphBuilder, NodeColumns};
pub use facts::{Capabilities, Sampling};
pub use graph::{HeapGraph, NodeIndex, Root, RootKind, TypeIndex, TypeInfo, TypeKind};
pub use hierarchy::{TypeHierarchy, TypeHierarchyBuilder};
pub use limit::MemoryLimit;
pub use progress::{CancelFlag, Cancellable, Cancelled, NoProgress, Phase, Progress, Unit};
pub use starts::PackedStarts;
