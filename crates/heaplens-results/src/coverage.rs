//! How much of its input a result covers: `complete` and `coverage`, in
//! every document about a dump ([`heaplens_snapshot::Coverage`]).

use serde::{Deserialize, Serialize};

/// Whether a result is whole, with the figures: the file's length and
/// where its directory says its data ends, the GC heap's bytes and those
/// the input holds, and the roots' memory it lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoverageFacts {
    /// True when the heap is all in the input and was walked, and the
    /// roots' memory is there: the result is the whole heap's.
    pub complete: bool,
    /// The file's length.
    pub file_bytes: u64,
    /// Where the data the file's directory describes ends (more than
    /// `file_bytes` for a file cut short).
    pub described_bytes: u64,
    /// Bytes of memory the directory places past the end of the file.
    pub missing_file_bytes: u64,
    /// Bytes the GC has allocated in its segments or regions.
    pub heap_bytes: u64,
    /// Of them, the bytes the input holds.
    pub heap_bytes_captured: u64,
    /// Segments or regions.
    pub heap_segments: u64,
    /// Of them, those the input holds only in part.
    pub heap_segments_partial: u64,
    /// Bytes the input holds but the heap walk could not go through.
    pub heap_bytes_not_walked: u64,
    /// Bytes of thread stacks the input lacks.
    pub stack_bytes_missing: u64,
    /// Handle-table segments and finalization queues the input lacks.
    pub root_tables_missing: u64,
    /// What is missing, in words (`null` for a whole file).
    pub summary: Option<String>,
}

impl CoverageFacts {
    /// The facts of `c`.
    pub fn of(c: &heaplens_snapshot::Coverage) -> CoverageFacts {
        CoverageFacts {
            complete: c.is_complete(),
            file_bytes: c.file_bytes,
            described_bytes: c.described_bytes,
            missing_file_bytes: c.missing_bytes,
            heap_bytes: c.heap_bytes(),
            heap_bytes_captured: c.heap_bytes_captured(),
            heap_segments: c.segments.len() as u64,
            heap_segments_partial: c.partial_segments() as u64,
            heap_bytes_not_walked: c.heap_bytes_not_walked,
            stack_bytes_missing: c.stack_bytes_missing,
            root_tables_missing: c.root_tables_missing,
            summary: c.summary(),
        }
    }

    /// The line a text result starts with when its input is not whole:
    /// `partial result: …` (what is missing, in numbers), or `note: …` for
    /// a file cut short past everything the result needs; empty otherwise.
    pub fn line(&self) -> String {
        match &self.summary {
            None => String::new(),
            Some(s) if self.complete => format!("note: {s}\n"),
            Some(s) => format!("partial result: {s}\n"),
        }
    }
}

/// What the objects no root reaches are in a document's snapshot, by its
/// capabilities ([`heaplens_graph::Capabilities::unreachable_objects`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnreachableAre {
    /// Dead objects not yet collected (a dump of the whole heap); not
    /// counted in the statistics.
    Garbage,
    /// Objects a `.gcdump`'s writer listed that its references do not
    /// connect to its roots (PerfView's `[not reachable from roots]`);
    /// counted in the statistics.
    NotReachableFromRoots,
}

impl UnreachableAre {
    /// What they are in an input of `capabilities`.
    pub fn of(capabilities: heaplens_graph::Capabilities) -> UnreachableAre {
        if capabilities.unreachable_objects {
            UnreachableAre::Garbage
        } else {
            UnreachableAre::NotReachableFromRoots
        }
    }

    /// In words, for text output.
    pub fn describe(self) -> &'static str {
        match self {
            UnreachableAre::Garbage => "garbage not yet collected",
            UnreachableAre::NotReachableFromRoots => {
                "PerfView's [not reachable from roots]: counted in the statistics, without a \
                 root path or retained size"
            }
        }
    }
}
