//! A heap graph together with what is known about where it came from.

use crate::graph::{HeapGraph, TypeIndex};

/// The kind of file a snapshot was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// A `.gcdump` (dotnet-gcdump, PerfView).
    GcDump,
    /// A Linux ELF core dump.
    ElfCore,
    /// A Windows minidump.
    Minidump,
}

impl InputFormat {
    /// A short stable name, used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::GcDump => "gcdump",
            InputFormat::ElfCore => "elf-core",
            InputFormat::Minidump => "minidump",
        }
    }
}

/// How a sampled heap (PerfView's `MaxDumpCountK`) scales back to the real
/// heap. PerfView multiplies both the count and the size of every node of a
/// type by that type's multiplier, so per-type bytes match the real heap and
/// counts are estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// Per type index: the multiplier (0 for types with no original).
    pub count_multipliers: Vec<f32>,
    /// Original node count divided by sampled node count.
    pub average_count_multiplier: f32,
    /// Original bytes divided by sampled bytes.
    pub average_size_multiplier: f32,
}

impl Sampling {
    /// The multiplier of one type (1 if the table is shorter).
    pub fn multiplier(&self, t: TypeIndex) -> f32 {
        self.count_multipliers
            .get(t as usize)
            .copied()
            .unwrap_or(1.0)
    }
}

/// What the input says about the process and the dump, beyond the graph.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotInfo {
    /// The input's format.
    pub format: Option<InputFormat>,
    /// Pointer size of the process in bytes (4 or 8), if known.
    pub pointer_size: Option<u8>,
    /// Process name, if recorded.
    pub process_name: Option<String>,
    /// Process id, if recorded.
    pub process_id: Option<u32>,
    /// Machine name, if recorded.
    pub machine_name: Option<String>,
    /// When the snapshot was taken, in .NET ticks (100 ns since 0001-01-01, local time).
    pub time_collected_ticks: Option<i64>,
    /// The tool that wrote the input, if recorded.
    pub creation_tool: Option<String>,
    /// Runtime description such as ".NET 8.0.4", if known.
    pub runtime: Option<String>,
    /// Scaling of a sampled heap, if the input was sampled.
    pub sampling: Option<Sampling>,
    /// Plain-language remarks about coverage and caveats.
    pub notes: Vec<String>,
}

/// A heap graph and what is known about it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The graph.
    pub graph: HeapGraph,
    /// Metadata.
    pub info: SnapshotInfo,
}
