//! A heap graph together with what is known about where it came from.

use crate::coverage::Coverage;
use crate::format::Format;
use crate::Timestamp;
use heaplens_graph::{Capabilities, HeapGraph, Sampling};

/// A heap graph and what the input says about it.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// The graph.
    pub graph: HeapGraph,
    /// What the input says about the process and the dump.
    pub info: SnapshotInfo,
}

/// What the input says about the process and the dump, beyond the graph.
#[derive(Debug, Clone)]
pub struct SnapshotInfo {
    /// The input's format (its registry entry).
    pub format: &'static Format,
    /// What this snapshot can answer: its format's, `sampled` when it is.
    /// Analyses decide by these, not by the format.
    pub capabilities: Capabilities,
    /// Pointer size of the process in bytes (4 or 8), if known.
    pub pointer_size: Option<u8>,
    /// Process name, if recorded.
    pub process_name: Option<String>,
    /// Process id, if recorded.
    pub process_id: Option<u32>,
    /// Machine name, if recorded.
    pub machine_name: Option<String>,
    /// When the snapshot was taken, as the input records it: a minidump's
    /// header (UTC), a `.gcdump`'s collection time (the machine's local
    /// time); `None` when not recorded (a Linux core records no time).
    pub dump_time: Option<Timestamp>,
    /// The tool that wrote the input, if recorded.
    pub creation_tool: Option<String>,
    /// The runtime as a product, such as `.NET 8.0.4`, if known.
    pub runtime: Option<String>,
    /// Scaling of a sampled heap, if the input was sampled.
    pub sampling: Option<Sampling>,
    /// Plain-language remarks about coverage and caveats.
    pub notes: Vec<String>,
    /// What the CLR reader learned about the runtime and its GC heap, for
    /// inputs read from process memory (Linux cores, Windows minidumps);
    /// `None` for a `.gcdump`.
    pub clr: Option<heaplens_clr::ClrInfo>,
    /// How much of the heap, its roots and the file the input holds: a
    /// partial input gives a partial result, which views must say
    /// ([`Coverage::is_complete`], [`Coverage::summary`]).
    pub coverage: Coverage,
    /// What reading the objects' contents needs (no dump bytes; see
    /// [`Snapshot::object_reader`]): for inputs of process memory whose
    /// runtime data could be read; `None` for a `.gcdump`.
    pub contents: Option<crate::contents::ContentsIndex>,
    /// The archives the dump was read from, outermost first (a `.zst` in
    /// a `.zip`: the zip, then the zstd); empty for a dump read as it is.
    pub archives: Vec<crate::ArchiveLayer>,
}

impl SnapshotInfo {
    /// Nothing known yet about an input of `format`: its capabilities, not
    /// sampled.
    pub fn new(format: &'static Format) -> SnapshotInfo {
        SnapshotInfo {
            format,
            capabilities: Capabilities {
                sampled: false,
                ..format.capabilities
            },
            pointer_size: None,
            process_name: None,
            process_id: None,
            machine_name: None,
            dump_time: None,
            creation_tool: None,
            runtime: None,
            sampling: None,
            notes: Vec::new(),
            clr: None,
            coverage: Coverage::default(),
            contents: None,
            archives: Vec::new(),
        }
    }
}
