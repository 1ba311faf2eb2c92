//! Opens any input heaplens reads into a [`Snapshot`].
//!
//! Every input format is one entry of the registry [`format::FORMATS`]:
//! recognised from its first bytes, never from the file name
//! (`!FastSerialization.1` is a `.gcdump`, `\x7fELF` an ELF core, `MDMP` a
//! Windows minidump), then opened ([`open`]) or described ([`describe`])
//! by its entry. A snapshot says what it can answer as
//! [`heaplens_graph::Capabilities`]; analyses decide by those.

use heaplens_bytes::{ReadAt, ReadError};
use heaplens_clr::ClrError;
use heaplens_elfcore::ElfCoreError;
use heaplens_graph::Progress;

pub use heaplens_graph;

mod archive;
pub mod contents;
pub mod coverage;
mod describe;
pub mod elf;
pub mod format;
mod gcdump;
pub mod minidump;
pub mod modules;
mod snapshot;

pub use archive::{ArchiveLayer, OTHER_ENTRIES_LISTED};
pub use contents::ContentsIndex;
pub use coverage::{megabytes, Coverage, SegmentCoverage};
pub use describe::{
    civil_from_days, Container, Description, ElfCoreFacts, FinalizationFacts, GcDumpFacts,
    HeapStatus, MemoryFacts, MinidumpFacts, ModuleFacts, ProcessFacts, RuntimeFacts, Timestamp,
};
pub use format::{detect, Context, Format};
pub use heaplens_archive;
pub use heaplens_clr::heap::SegmentKind;
pub use heaplens_clr::{ClrInfo, GcFacts, GcMode, HeapLayout};
pub use heaplens_contents;
pub use snapshot::{Snapshot, SnapshotInfo};

/// Why an input could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The first bytes match no format heaplens reads.
    #[error(
        "unrecognised file: it starts with {head}, which is not {}",
        format::known_dumps()
    )]
    UnknownFormat {
        /// The first bytes, in hex.
        head: String,
    },
    /// An archive or compressed file that cannot be read or unpacked: cut
    /// short, damaged, of a kind heaplens does not unpack, or too big for
    /// the scratch space.
    #[error(transparent)]
    Archive(heaplens_archive::ArchiveError),
    /// An archive that holds no input heaplens reads.
    #[error("the {format} file holds no dump heaplens reads: {holds}")]
    NoDumpInArchive {
        /// `zip`, `gzip` or `zstd`.
        format: &'static str,
        /// What it holds, in words.
        holds: String,
    },
    /// Archives nested deeper than [`format::MAX_NESTING`].
    #[error("archives nested more than {0} deep")]
    TooDeep(usize),
    /// A format heaplens recognises but cannot read yet.
    #[error("{0} files are recognised, but this version of heaplens cannot read them yet")]
    NotSupportedYet(&'static str),
    /// The `.gcdump` is damaged.
    #[error(transparent)]
    GcDump(#[from] heaplens_gcdump::GcdumpError),
    /// The ELF core is damaged or of a kind heaplens does not read (not a
    /// core, another processor).
    #[error("not a readable Linux core dump: {0}")]
    ElfCore(#[from] ElfCoreError),
    /// The minidump is damaged or of a kind heaplens does not read.
    #[error("not a readable Windows minidump: {0}")]
    Minidump(#[from] heaplens_minidump::MinidumpError),
    /// The dumped process has no .NET runtime.
    #[error(
        "no .NET runtime in this {what}: no module is libcoreclr.so, coreclr.dll or clr.dll, \
         and none exports the runtime's symbols (g_dacTable, DotNetRuntimeInfo); \
         is this a .NET process?"
    )]
    NoRuntime {
        /// The kind of dump (`Linux core dump`, …).
        what: &'static str,
    },
    /// The dump does not hold the GC heap (a `--normal` or `--triage`
    /// core, a minidump without heap memory).
    #[error(
        "the dump does not contain the GC heap ({missing} of the {total} bytes of the heap's \
         segments or regions it located are missing): it was taken without the heap (createdump --normal or \
         --triage, dotnet-dump collect --type Mini). Take it again with the heap: \
         createdump --withheap or --full, dotnet-dump collect --type Heap or Full"
    )]
    NoHeap {
        /// Bytes of the heap's ranges the dump lacks.
        missing: u64,
        /// Bytes of the heap's ranges in all.
        total: u64,
    },
    /// The dump was taken while a garbage collection was running.
    #[error(
        "the dump was taken while a garbage collection was running \
         (gc_structures_invalid_cnt = {0}): the heap is being moved and cannot be walked; \
         take the dump again"
    )]
    GcInProgress(i32),
    /// The runtime was found but its GC heap could not be located or read
    /// (its GC bookkeeping is missing or of an unknown layout, or a
    /// structure is damaged).
    #[error("found a .NET runtime, but could not read its GC heap: {0}")]
    Clr(#[source] ClrError),
    /// The file is cut short, and the part it holds is not enough to read
    /// the heap (why, in `source`).
    #[error(
        "the file is cut short: it ends at {} of the {} its directory describes, and the part \
         it holds is not enough to read the heap: {source}",
        crate::megabytes(*file_bytes),
        crate::megabytes(*described_bytes)
    )]
    Truncated {
        /// The file's length.
        file_bytes: u64,
        /// Where the data its directory describes ends.
        described_bytes: u64,
        /// What failed.
        source: Box<OpenError>,
    },
    /// The caller's progress callback cancelled the read.
    #[error("cancelled")]
    Cancelled,
    /// The input could not be read.
    #[error("could not read the input: {0}")]
    Read(#[from] ReadError),
}

impl From<heaplens_archive::ArchiveError> for OpenError {
    /// The archive's error; cancelling is [`OpenError::Cancelled`] whatever
    /// was cancelled.
    fn from(e: heaplens_archive::ArchiveError) -> OpenError {
        match e {
            heaplens_archive::ArchiveError::Cancelled
            | heaplens_archive::ArchiveError::Read(ReadError::Cancelled) => OpenError::Cancelled,
            e => OpenError::Archive(e),
        }
    }
}

/// Opens an input of any supported format.
pub fn open(src: &dyn ReadAt, progress: &mut dyn Progress) -> Result<Snapshot, OpenError> {
    open_with(src, &modules::ModuleSet::new(), progress)
}

/// Opens an input of any supported format, naming the types of dumps that
/// lack their managed images from the supplied module files `modules`
/// (see [`modules`]).
pub fn open_with(
    src: &dyn ReadAt,
    modules: &modules::ModuleSet,
    progress: &mut dyn Progress,
) -> Result<Snapshot, OpenError> {
    open_source(format::Source::Local(src), modules, progress)
}

/// [`open_with`] for a source threads can share (a file read natively):
/// dumps' heaps are walked on two threads.
pub fn open_shared_with(
    src: &(dyn ReadAt + Sync),
    modules: &modules::ModuleSet,
    progress: &mut dyn Progress,
) -> Result<Snapshot, OpenError> {
    open_source(format::Source::Shared(src), modules, progress)
}

/// Opens `src` by the registry's entry for its content.
fn open_source(
    src: format::Source<'_>,
    modules: &modules::ModuleSet,
    progress: &mut dyn Progress,
) -> Result<Snapshot, OpenError> {
    open_in(src, &mut Context::new(modules, progress))
}

/// Opens `src` with everything `cx` gives (module files, progress, scratch
/// space for archives): [`open_with`] and [`open_shared_with`] with a
/// context of one's own.
pub fn open_in(src: format::Source<'_>, cx: &mut Context<'_>) -> Result<Snapshot, OpenError> {
    format::read_in(format::FORMATS, src, cx, &mut |format, dump, src, cx| {
        let mut snap = open_dump(format, dump, src, cx)?;
        snap.info.archives = std::mem::take(&mut cx.archives);
        Ok(snap)
    })
}

/// What [`open_or_count_in`] read.
#[derive(Debug)]
pub enum Read {
    /// The snapshot, with its graph.
    Opened(Box<Snapshot>),
    /// The graph did not fit in the memory `cx.memory` allows
    /// (`over_budget`): the objects counted per type instead, from the
    /// same bytes (an archive's unpacked copy, not unpacked again).
    Counted {
        /// The counts.
        counts: Box<HeapCounts>,
        /// The refused open's error (its numbers say why).
        refused: OpenError,
    },
}

/// [`open_in`], and when the graph does not fit in the memory `cx.memory`
/// allows (`over_budget`), [`count_in`] of the same bytes in the same
/// read: an archive is unwrapped once, and the count reads the dump's
/// bytes the open read (through the same page cache, or the copy the
/// archive was unpacked to).
pub fn open_or_count_in(src: format::Source<'_>, cx: &mut Context<'_>) -> Result<Read, OpenError> {
    format::read_in(format::FORMATS, src, cx, &mut |format, dump, src, cx| {
        let mut read = match open_dump(format, dump, src, cx) {
            Ok(snap) => Read::Opened(Box::new(snap)),
            Err(refused) if refused.kind() == "over_budget" => {
                // The count keeps one figure per type: no cap.
                let memory = cx.memory.take();
                let counts = count_dump(format, dump, src, cx);
                cx.memory = memory;
                Read::Counted {
                    counts: Box::new(counts?),
                    refused,
                }
            }
            Err(e) => return Err(e),
        };
        let archives = std::mem::take(&mut cx.archives);
        match &mut read {
            Read::Opened(snap) => snap.info.archives = archives,
            Read::Counted { counts, .. } => counts.info.archives = archives,
        }
        Ok(read)
    })
}

/// Opens the dump of `format` in `src` by its entry `dump`, its
/// capabilities filled in (its archives are the caller's).
fn open_dump(
    format: &'static Format,
    dump: format::Dump,
    src: format::Source<'_>,
    cx: &mut Context<'_>,
) -> Result<Snapshot, OpenError> {
    let mut snap = (dump.open)(format, src, cx)?;
    // Whether the snapshot is sampled, and whether its types' hierarchy
    // was read (the modules' metadata may be missing), are its own; the
    // rest is its format's.
    snap.info.capabilities = heaplens_graph::Capabilities {
        sampled: snap.info.sampling.is_some(),
        type_hierarchy: format.capabilities.type_hierarchy && snap.graph.hierarchy().is_some(),
        ..format.capabilities
    };
    Ok(snap)
}

/// Counts the objects of the dump of `format` in `src` by its entry
/// `dump` (its archives are the caller's).
fn count_dump(
    format: &'static Format,
    dump: format::Dump,
    src: format::Source<'_>,
    cx: &mut Context<'_>,
) -> Result<HeapCounts, OpenError> {
    match dump.count {
        Some(count) => count(format, src, cx),
        None => {
            let snap = (dump.open)(format, src, cx)?;
            Ok(counts_of_graph(&snap.graph, snap.info))
        }
    }
}

/// An input's objects counted per type without its graph ([`count_in`]):
/// **every** object the walk went through, those no root reaches (garbage
/// not yet collected) too, and the GC's free space (`Free`), as
/// `dotnet-dump dumpheap -stat` counts them. No references, roots,
/// retained sizes or contents.
#[derive(Debug, Clone)]
pub struct HeapCounts {
    /// Every type with objects (Free included, [`heaplens_clr::TypeCount::is_free`]).
    pub types: Vec<heaplens_clr::TypeCount>,
    /// What the input says about the process and the dump (no contents);
    /// `coverage` and `notes` say what the dump lacks, as the full open's.
    pub info: SnapshotInfo,
}

/// Counts the objects of the input in `src` per type without its graph
/// ([`HeapCounts`]): for a dump of process memory, a walk of the heap
/// that keeps one count per type whatever the number of objects
/// ([`heaplens_clr::count_with`]), so that a heap whose graph does not fit
/// (`over_budget`) can still be counted; for a `.gcdump` (small, and
/// holding only live objects), its graph opened and counted.
pub fn count_in(src: format::Source<'_>, cx: &mut Context<'_>) -> Result<HeapCounts, OpenError> {
    format::read_in(format::FORMATS, src, cx, &mut |format, dump, src, cx| {
        let mut counts = count_dump(format, dump, src, cx)?;
        counts.info.archives = std::mem::take(&mut cx.archives);
        Ok(counts)
    })
}

/// Every object of `graph` counted per type (its producer's pseudo-nodes
/// aside).
fn counts_of_graph(graph: &heaplens_graph::HeapGraph, info: SnapshotInfo) -> HeapCounts {
    let mut per: Vec<(u64, u64)> = vec![(0, 0); graph.types().len()];
    graph.for_each_node(|_, t, size| {
        if let Some(c) = per.get_mut(t as usize) {
            c.0 += 1;
            c.1 += size;
        }
    });
    let types = per
        .iter()
        .zip(graph.types())
        .enumerate()
        .filter(|(_, (c, ty))| c.0 > 0 && ty.kind != heaplens_graph::TypeKind::Pseudo)
        .map(|(t, (&(objects, bytes), ty))| heaplens_clr::TypeCount {
            name: ty.name.clone(),
            module: graph.type_module(t as u32).map(str::to_owned),
            method_table: ty.method_table,
            is_free: ty.kind == heaplens_graph::TypeKind::Free,
            objects,
            bytes,
        })
        .collect();
    HeapCounts { types, info }
}

/// Describes the input in `src`: its container's facts, and the runtime and
/// heap as far as they can be read. Fails only when the container itself
/// cannot be read (or `progress` cancels); a heap that cannot be read is
/// [`HeapStatus::NotWalkable`].
pub fn describe(
    src: &dyn ReadAt,
    modules: &modules::ModuleSet,
    progress: &mut dyn Progress,
) -> Result<Description, OpenError> {
    describe_in(
        format::Source::Local(src),
        &mut Context::new(modules, progress),
    )
}

/// [`describe`] with everything `cx` gives. Of an archive, the description
/// is of the dump inside, with `archives` saying what it came in and
/// `file_bytes` the archive's size.
pub fn describe_in(
    src: format::Source<'_>,
    cx: &mut Context<'_>,
) -> Result<Description, OpenError> {
    let file_bytes = src.bytes().len();
    format::read_in(format::FORMATS, src, cx, &mut |format, dump, src, cx| {
        let mut d = (dump.describe)(format, src, cx)?;
        d.archives = std::mem::take(&mut cx.archives);
        d.file_bytes = file_bytes;
        Ok(d)
    })
}

/// What a CLR heap read says about the runtime and the heap, as snapshot
/// metadata of an input of `format`: the runtime, the
/// [`heaplens_clr::ClrInfo`] and notes on coverage, walk problems and
/// naming. The container fills in the process.
pub(crate) fn clr_info(format: &'static Format, clr: heaplens_clr::ClrInfo) -> SnapshotInfo {
    let notes = clr_notes(&clr);
    SnapshotInfo {
        runtime: product_name(clr.version.as_deref(), &clr.runtime_path),
        notes,
        coverage: clr_coverage(&clr),
        clr: Some(clr),
        ..SnapshotInfo::new(format)
    }
}

/// Reads the CLR heap of a container's `target` with `read` (the full
/// read or the count), given the module files `cx` gives and, when given,
/// memory threads can share: what `read` gives, and the snapshot info of
/// the runtime it learned in a file whose size, described size and missing
/// bytes are `file` ([`with_file`]; an error of a file cut short says so).
/// The container fills in its process.
pub(crate) fn read_target<'c: 't, 't, T>(
    format: &'static Format,
    mut target: heaplens_clr::Target<'t>,
    shared_memory: Option<&'t (dyn heaplens_memory::AddressSpace + Sync)>,
    (file_bytes, described_bytes, missing_bytes): (u64, u64, u64),
    cx: &mut Context<'c>,
    read: impl FnOnce(
        &heaplens_clr::Target<'_>,
        &mut Context<'_>,
    ) -> Result<(T, heaplens_clr::ClrInfo), OpenError>,
) -> Result<(T, SnapshotInfo), OpenError> {
    target.shared_memory = shared_memory;
    if !cx.modules.is_empty() {
        target.module_files = Some(cx.modules);
    }
    let file = with_file(
        Default::default(),
        file_bytes,
        described_bytes,
        missing_bytes,
    );
    let (read, clr) = read(&target, cx).map_err(|e| in_truncated_file(e, &file))?;
    Ok((read, clr_info_in_file(format, clr, &file)))
}

/// [`clr_info`] of a dump whose file has the figures of `file`
/// ([`with_file`]): the container fills in the process.
pub(crate) fn clr_info_in_file(
    format: &'static Format,
    clr: heaplens_clr::ClrInfo,
    file: &Coverage,
) -> SnapshotInfo {
    let mut info = clr_info(format, clr);
    info.coverage = with_file(
        info.coverage,
        file.file_bytes,
        file.described_bytes,
        file.missing_bytes,
    );
    info
}

/// What a CLR heap read holds of the heap and its roots (the container
/// adds the file's figures: [`with_file`]).
pub(crate) fn clr_coverage(clr: &heaplens_clr::ClrInfo) -> Coverage {
    Coverage {
        segments: clr
            .gc
            .segments
            .iter()
            .zip(&clr.segments_captured)
            .map(|(s, &captured)| SegmentCoverage {
                start: s.start,
                end: s.end,
                captured,
            })
            .collect(),
        heap_bytes_not_walked: clr.heap_bytes_unwalked,
        stack_bytes_missing: clr.stacks.missing_bytes(),
        root_tables_missing: clr.root_tables_unreadable,
        ..Coverage::default()
    }
}

/// The notes of a CLR heap read: coverage, walk problems, how the heap was
/// found and how types were named.
pub(crate) fn clr_notes(clr: &heaplens_clr::ClrInfo) -> Vec<String> {
    let mut notes = Vec::new();
    let gc = &clr.gc;
    if gc.heap_bytes_captured < gc.heap_bytes {
        notes.push(format!(
            "the dump holds {:.1} % of the GC heap ({} of {} bytes); objects in the missing \
             parts are not counted",
            gc.coverage_percent(),
            gc.heap_bytes_captured,
            gc.heap_bytes
        ));
    }
    for p in &clr.problems {
        notes.push(format!(
            "the walk of a heap segment stopped at {:#x} ({}); {} bytes after it are not counted",
            p.addr, p.why, p.bytes_skipped
        ));
    }
    if let Some(report) = &clr.heuristic {
        notes.extend(report.notes());
    }
    notes.extend(clr.stacks.notes());
    if clr.root_tables_unreadable > 0 {
        notes.push(format!(
            "the dump lacks {} handle-table segment(s) or finalization queue(s): their roots \
             are not seen, and what only they hold is counted as unreachable",
            clr.root_tables_unreadable
        ));
    }
    notes.extend(clr.names.notes.iter().cloned());
    notes
}

/// `e`, said to come from a file cut short when it is one (`coverage`'s
/// file figures, see [`with_file`]); a cancel stays a cancel.
pub(crate) fn in_truncated_file(e: OpenError, coverage: &Coverage) -> OpenError {
    if !coverage.file_truncated() || matches!(e, OpenError::Cancelled | OpenError::Truncated { .. })
    {
        return e;
    }
    OpenError::Truncated {
        file_bytes: coverage.file_bytes,
        described_bytes: coverage.described_bytes,
        source: Box::new(e),
    }
}

/// The file's figures in `coverage`: its length, where the data its
/// directory describes ends (`described`), and the bytes past its end.
pub(crate) fn with_file(
    mut coverage: Coverage,
    file_bytes: u64,
    described: u64,
    missing_bytes: u64,
) -> Coverage {
    coverage.file_bytes = file_bytes;
    coverage.described_bytes = described.max(file_bytes);
    coverage.missing_bytes = missing_bytes;
    coverage
}

/// The runtime as a product (`.NET 8.0.4`): from its version (.NET 5+
/// file versions), else from the `Microsoft.NETCore.App/<version>/` folder
/// it was loaded from (.NET Core 3.1 files carry `4.700.…`).
pub(crate) fn product_name(version: Option<&str>, runtime_path: &str) -> Option<String> {
    // .NET Framework 4.x: `clr.dll` of file version 4.6.x–4.8.x names its
    // release; 4.0.30319.x is 4.0–4.5.2.
    let file = runtime_path
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(runtime_path);
    if file.eq_ignore_ascii_case("clr.dll") {
        let mut parts = version
            .and_then(|v| v.split_whitespace().next())
            .unwrap_or("")
            .split('.')
            .map(|p| p.parse::<u32>().ok());
        return Some(match (parts.next().flatten(), parts.next().flatten()) {
            (Some(4), Some(minor @ 6..=9)) => format!(".NET Framework 4.{minor}"),
            _ => ".NET Framework 4".to_owned(),
        });
    }
    version
        .and_then(heaplens_clr::product_version_of)
        .or_else(|| {
            let mut parts = runtime_path.split(['/', '\\']);
            parts.find(|p| *p == "Microsoft.NETCore.App")?;
            let v = parts.next()?;
            v.starts_with(|c: char| c.is_ascii_digit())
                .then(|| v.to_owned())
        })
        .map(|v| format!(".NET {v}"))
}

/// Reads the CLR heap of `target` ([`heaplens_clr::read`]), its errors as
/// [`OpenError`]s; `what` names the kind of dump, for the messages.
/// `memory`: what the read may use ([`heaplens_clr::ReadOptions::memory`]);
/// `walkers`: who walks the heap when not the read itself
/// ([`heaplens_clr::read_walked_by`]).
pub fn read_clr(
    target: &heaplens_clr::Target<'_>,
    progress: &mut dyn Progress,
    memory: Option<heaplens_graph::MemoryLimit>,
    walkers: Option<&mut dyn heaplens_clr::Walkers>,
    what: &'static str,
) -> Result<heaplens_clr::ClrHeap, OpenError> {
    let options = heaplens_clr::ReadOptions {
        memory,
        ..heaplens_clr::ReadOptions::default()
    };
    heaplens_clr::read_walked_by(target, progress, options, walkers)
        .map_err(|e| OpenError::from_clr(e, what))
}

/// [`read_clr`] with what `cx` gives: its progress, memory limit and
/// walkers — those only for a dump read straight from the input (walkers
/// read the input's own bytes: a dump unpacked from an archive is walked
/// by the read).
pub(crate) fn read_clr_in(
    target: &heaplens_clr::Target<'_>,
    cx: &mut Context<'_>,
    what: &'static str,
) -> Result<heaplens_clr::ClrHeap, OpenError> {
    let walkers = match cx.walkers.as_deref_mut() {
        Some(w) if cx.archives.is_empty() => Some(w as &mut dyn heaplens_clr::Walkers),
        _ => None,
    };
    read_clr(target, cx.progress, cx.memory, walkers, what)
}

/// A walker's part of a CLR heap's walk ([`Context::walkers`]): run `run`
/// of the plan `plan` ([`heaplens_clr::walk::runs::WalkPlan::to_bytes`])
/// walked over `src`, the dump the plan was made of (a Linux core or a
/// Windows minidump, read straight from the input), its result as bytes
/// for [`heaplens_clr::walk::runs::Join::add`]. Only the container is
/// opened (its notes or streams and its memory map), not the runtime.
/// `limit`: what this walker may use; `progress(bytes_done)` of the run,
/// `false` to stop (then [`OpenError::Cancelled`]).
pub fn walk_run(
    src: &dyn ReadAt,
    plan: &[u8],
    run: usize,
    limit: Option<heaplens_graph::MemoryLimit>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Vec<u8>, OpenError> {
    use heaplens_clr::walk::{runs, WalkStop};
    let plan = runs::WalkPlan::from_bytes(plan)
        .map_err(|e| OpenError::Clr(ClrError::Walker(e.to_string())))?;
    let walked = match detect(src)?.name {
        "elf-core" => {
            let core = heaplens_elfcore::ElfCore::open(src)?;
            runs::walk_run(core.memory(), &plan, run, limit, progress)
        }
        "minidump" => {
            let dump = heaplens_minidump::Minidump::open(src)?;
            runs::walk_run(dump.memory(), &plan, run, limit, progress)
        }
        other => {
            return Err(OpenError::Clr(ClrError::Walker(format!(
                "a heap walker reads a Linux core or a Windows minidump, not {other}"
            ))))
        }
    };
    walked.map_err(|stop| match stop {
        WalkStop::Cancelled => OpenError::Cancelled,
        WalkStop::OverBudget(o) => OpenError::Clr(ClrError::OverBudget(o)),
        WalkStop::Walker(why) => OpenError::Clr(ClrError::Walker(why)),
    })
}

/// Counts the CLR heap of `target` per type without its graph
/// ([`heaplens_clr::count_with`]), its errors as [`OpenError`]s.
pub fn count_clr(
    target: &heaplens_clr::Target<'_>,
    progress: &mut dyn Progress,
    what: &'static str,
) -> Result<heaplens_clr::ClrCounts, OpenError> {
    heaplens_clr::count_with(target, progress, heaplens_clr::ReadOptions::default())
        .map_err(|e| OpenError::from_clr(e, what))
}

impl OpenError {
    /// A short stable name of the reason (`no_runtime`, `no_heap`,
    /// `no_type_data`, …), used in JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            OpenError::UnknownFormat { .. } => "unknown_format",
            OpenError::Archive(e) => e.kind(),
            OpenError::NoDumpInArchive { .. } => "no_dump_in_archive",
            OpenError::TooDeep(_) => "too_deep",
            OpenError::NotSupportedYet(_) => "not_supported_yet",
            OpenError::GcDump(e) if e.is_cut_short() => "truncated_gcdump",
            OpenError::GcDump(_) => "damaged_gcdump",
            OpenError::ElfCore(_) => "damaged_elf_core",
            OpenError::Minidump(_) => "damaged_minidump",
            OpenError::NoRuntime { .. } => "no_runtime",
            OpenError::NoHeap { .. } => "no_heap",
            OpenError::GcInProgress(_) => "gc_in_progress",
            OpenError::Clr(e) => match e {
                ClrError::NoTypeData { .. } => "no_type_data",
                ClrError::UnsupportedRuntime { .. } => "unsupported_runtime",
                ClrError::NoGcInfo { .. } | ClrError::HeapNotFound { .. } => "no_gc_info",
                ClrError::Corrupt { .. } => "corrupt_runtime_data",
                ClrError::OverBudget(_) => "over_budget",
                ClrError::Walker(_) => "walker_failed",
                _ => "clr_read_failed",
            },
            OpenError::Truncated { .. } => "truncated",
            OpenError::Cancelled => "cancelled",
            OpenError::Read(_) => "read_failed",
        }
    }

    /// Sorts an error of the CLR reader into the variants above. `what`
    /// names the kind of dump, for the messages.
    pub fn from_clr(e: ClrError, what: &'static str) -> OpenError {
        match e {
            ClrError::NoRuntime => OpenError::NoRuntime { what },
            ClrError::NoHeapMemory { missing, total } => OpenError::NoHeap { missing, total },
            ClrError::GcInProgress(n) => OpenError::GcInProgress(n),
            ClrError::Cancelled => OpenError::Cancelled,
            e => OpenError::Clr(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use heaplens_corpus::synthetic::tiny_elf_core as tiny_core;

    #[test]
    fn elf_errors_are_typed() {
        let e = open(&tiny_core(&[0; 64]), &mut heaplens_graph::NoProgress).unwrap_err();
        assert!(matches!(e, OpenError::NoRuntime { .. }), "{e:?}");
        assert!(e.to_string().contains("no .NET runtime"), "{e}");

        let mut not_core = tiny_core(&[]);
        not_core[16] = 2; // ET_EXEC
        let e = open(&not_core, &mut heaplens_graph::NoProgress).unwrap_err();
        assert!(matches!(e, OpenError::ElfCore(_)), "{e:?}");
        assert!(e.to_string().contains("not a core dump"), "{e}");

        let mut head = b"MDMP".to_vec();
        head.resize(64, 0);
        let e = open(&head, &mut heaplens_graph::NoProgress).unwrap_err();
        assert!(matches!(e, OpenError::Minidump(_)), "{e:?}");
    }
}
