//! Reads `.gcdump` files — written by `dotnet-gcdump` and PerfView — into
//! the heaplens [`heaplens_graph::HeapGraph`].
//!
//! The format is PerfView's FastSerialization container holding a
//! `GCHeapDump` object whose `Graphs.MemoryGraph` stores a type table, a
//! node offset table and a node blob of PerfView's own signed big-endian
//! varints. The reader goes through [`heaplens_bytes::ReadAt`], keeps only
//! the node offsets and the finished graph in memory, checks every count
//! against the bytes that remain before allocating, and reports every
//! problem as a [`GcdumpError`] with the byte offset where it was found.
//!
//! ```no_run
//! use heaplens_bytes::FileSource;
//! let file = FileSource::open("app.gcdump").unwrap();
//! let dump = heaplens_gcdump::read(&file, &mut heaplens_graph::NoProgress).unwrap();
//! println!("{} nodes", dump.graph.node_count());
//! ```

mod error;
mod heapdump;
mod memory_graph;
pub mod roots;
pub mod serializer;
#[cfg(test)]
mod testutil;
pub mod varint;

pub use error::{ErrorKind, GcdumpError};
pub use heapdump::{read, GcDump, InteropSummary, Segment};

/// True if `head` (the first bytes of a file, at least 24) starts like a
/// `.gcdump`.
pub fn looks_like_gcdump(head: &[u8]) -> bool {
    head.len() >= serializer::SIGNATURE.len() && head[..24] == serializer::SIGNATURE[..]
}
