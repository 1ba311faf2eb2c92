//! A heap graph together with what is known about where it came from.

use crate::coverage::Coverage;
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
    /// What the CLR reader learned about the runtime and its GC heap, for
    /// inputs read from process memory (Linux cores, Windows minidumps);
    /// `None` for a `.gcdump`.
    pub clr: Option<ClrHeapInfo>,
    /// How much of the heap, its roots and the file the input holds: a
    /// partial input gives a partial result, which views must say
    /// ([`Coverage::is_complete`], [`Coverage::summary`]).
    pub coverage: Coverage,
    /// What the objects no root reaches are in this input, and so whether
    /// statistics count them.
    pub unreachable: Unreachable,
}

/// What the objects that no root reaches (along the graph's references)
/// are, which the input's producer knows. The default, for a producer that
/// does not say, counts every object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Unreachable {
    /// Dead objects the GC has not collected yet: the input holds the whole
    /// heap (a core, a minidump), and only what the roots reach is live.
    /// Statistics count the reachable objects; the others are totalled
    /// apart as unreachable.
    Garbage,
    /// Objects the input's writer listed that its recorded references do
    /// not connect to its roots: PerfView's `[not reachable from roots]`.
    /// In a `.gcdump` written from the runtime's events (dotnet-gcdump,
    /// PerfView's usual way) the runtime found them live (for example held
    /// by a dependent handle, whose edges the file does not record); in one
    /// written by walking whole segments (PerfView's older ClrMD snapshot)
    /// they are mostly dead. Statistics count them, as PerfView's totals
    /// and `dotnet-gcdump report` do; they have no root path and no
    /// retained size, and are never called garbage.
    #[default]
    NotReachableFromRoots,
}

impl Unreachable {
    /// In words, for output: what such objects are.
    pub fn describe(self) -> &'static str {
        match self {
            Unreachable::Garbage => "garbage not yet collected",
            Unreachable::NotReachableFromRoots => {
                "PerfView's [not reachable from roots]: counted in the statistics, without a \
                 root path or retained size"
            }
        }
    }
}

/// How the GC runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GcMode {
    /// Workstation GC: one heap.
    Workstation,
    /// Server GC: one heap per core (or as many as DATAS decides).
    Server,
}

impl GcMode {
    /// A short stable name (`workstation`, `server`), used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            GcMode::Workstation => "workstation",
            GcMode::Server => "server",
        }
    }
}

/// How the GC lays out its heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeapLayout {
    /// Segments (.NET Core 3.1–6, and 7+ with `libclrgc`).
    Segments,
    /// Regions (.NET 7+ default on 64-bit).
    Regions,
}

impl HeapLayout {
    /// A short stable name (`segments`, `regions`), used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            HeapLayout::Segments => "segments",
            HeapLayout::Regions => "regions",
        }
    }
}

/// One segment or region of the GC heap: the address range its objects
/// occupy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeapRange {
    /// The first object.
    pub start: u64,
    /// One past the end of the last object.
    pub end: u64,
}

/// A place where the walk of a segment or region had to stop early (the
/// rest of that segment is missing from the graph; other segments are
/// complete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkProblem {
    /// Where the walk stopped.
    pub address: u64,
    /// Why.
    pub why: String,
    /// Bytes of the segment not walked.
    pub bytes_skipped: u64,
}

/// What the CLR heap reader learned about the runtime and how much of its
/// heap the dump let it read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClrHeapInfo {
    /// The runtime module's path in the dumped process.
    pub runtime_path: String,
    /// The runtime's own version string (`8.0.424.16909 @Commit: …`), when
    /// the dump holds the page with it.
    pub version: Option<String>,
    /// Workstation or server GC.
    pub gc_mode: GcMode,
    /// Segments or regions.
    pub layout: HeapLayout,
    /// Number of GC heaps.
    pub heap_count: usize,
    /// The segments or regions walked, by address.
    pub segments: Vec<HeapRange>,
    /// Bytes of the segments or regions (what the heap spans).
    pub heap_bytes: u64,
    /// Bytes of them the dump holds; less than `heap_bytes` for a partial
    /// dump, whose missing parts could not be walked.
    pub heap_bytes_captured: u64,
    /// Where walks had to stop early.
    pub walk_problems: Vec<WalkProblem>,
    /// References to addresses that are not object starts (ignored).
    pub invalid_references: u64,
    /// Handle-table and finalizer-queue entries pointing at no object.
    pub dangling_roots: u64,
    /// Objects registered for finalization (their type has a finalizer
    /// and the GC has not found them dead yet): not roots. SOS
    /// `!finalizequeue`'s "finalizable objects".
    pub finalization_registered: u64,
    /// Objects ready for finalization (f-reachable: found dead, queued for
    /// the finalizer thread): roots of kind `finalizer`. SOS
    /// `!finalizequeue`'s "Ready for finalization".
    pub finalization_ready: u64,
    /// Types named from the runtime's metadata.
    pub types_named: usize,
    /// Types without a name (shown by MethodTable, or by module and token).
    pub types_unnamed: usize,
    /// True when the heap was found by a heuristic scan of the dump's
    /// memory (.NET Framework keeps no `GcDacVars`), not from the
    /// runtime's own bookkeeping.
    pub found_by_shape: bool,
}

impl ClrHeapInfo {
    /// How the GC runs, in words: `workstation GC, regions, 1 heap`.
    pub fn gc_summary(&self) -> String {
        let heaps = match self.heap_count {
            1 => "1 heap".to_owned(),
            n => format!("{n} heaps"),
        };
        format!(
            "{} GC, {}, {heaps}{}",
            self.gc_mode.as_str(),
            self.layout.as_str(),
            if self.found_by_shape {
                " (found by shape: no GcDacVars)"
            } else {
                ""
            }
        )
    }

    /// The share of the heap's bytes the dump holds, in percent (100 for
    /// an empty heap).
    pub fn coverage_percent(&self) -> f64 {
        if self.heap_bytes == 0 {
            100.0
        } else {
            self.heap_bytes_captured as f64 * 100.0 / self.heap_bytes as f64
        }
    }

    /// The product version (`8.0.4`) read from the runtime's file version
    /// (`8.0.424.16909`), when it follows the .NET 5+ scheme (major.minor
    /// of the product, then patch × 100 + build); `None` otherwise (.NET
    /// Core 3.1's files say `4.700.…`).
    pub fn product_version(&self) -> Option<String> {
        product_version_of(self.version.as_deref()?)
    }
}

/// The product version (`8.0.4`) of a runtime version string
/// (`8.0.424.16909 @Commit: …`), when it follows the .NET 5+ scheme; see
/// [`ClrHeapInfo::product_version`].
pub fn product_version_of(version: &str) -> Option<String> {
    let file = version.split_whitespace().next()?;
    let mut parts = file.split('.').map(|p| p.parse::<u32>().ok());
    let (major, minor, build) = (parts.next()??, parts.next()??, parts.next()??);
    (major >= 5).then(|| format!("{major}.{minor}.{}", build / 100))
}

/// A heap graph and what is known about it.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// The graph.
    pub graph: HeapGraph,
    /// Metadata.
    pub info: SnapshotInfo,
}
