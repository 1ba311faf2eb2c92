//! What a dump is: [`describe`] gathers what the container says about the
//! process (system, process, threads, modules, memory by kind) and what the
//! CLR reader says about the runtime and its heap, into one plain
//! [`Description`]. The container's facts are there even when the heap
//! cannot be read; [`HeapStatus::NotWalkable`] then says why.

use crate::format::{Context, Format, Source};
use crate::{elf, minidump, Coverage, OpenError};
use heaplens_clr::{ClrHeap, GcFacts, GcMode, HeapLayout, Target};
use heaplens_elfcore::ElfCore;
use heaplens_graph::TypeKind;
use heaplens_memory::AddressSpace;
use heaplens_minidump::Minidump;

/// Everything [`describe`] learned about an input. A field is `None` when
/// the input does not record it (or heaplens cannot tell).
#[derive(Debug)]
pub struct Description {
    /// The input's format (its registry entry).
    pub format: &'static Format,
    /// Size of the input in bytes (of the archive, when the dump came in
    /// one).
    pub file_bytes: u64,
    /// The dumped process's operating system (`Linux`, `Windows 10.0.19045`).
    pub os: Option<String>,
    /// The processor architecture (`x86-64`, `aarch64`, `amd64`, `x86`).
    pub architecture: Option<String>,
    /// Size of a pointer in the process, in bytes.
    pub pointer_size: Option<u8>,
    /// What is particular to the container.
    pub container: Container,
    /// The dumped process.
    pub process: ProcessFacts,
    /// Number of threads the dump lists (`None` for a `.gcdump`).
    pub threads: Option<usize>,
    /// The loaded modules (`None` for a `.gcdump`).
    pub modules: Option<ModuleFacts>,
    /// The .NET runtime, when one was found.
    pub runtime: Option<RuntimeFacts>,
    /// The process's memory by kind, as far as the container tells.
    pub memory: MemoryFacts,
    /// Whether the heap can be read, and if not why.
    pub heap: HeapStatus,
    /// How much of the heap, its roots and the file the dump holds, when
    /// its heap could be read (see [`heaplens_graph::Coverage`]).
    pub coverage: Option<Coverage>,
    /// The finalization queues, when the heap could be read: objects
    /// registered for finalization and ready for finalization, as SOS
    /// `!finalizequeue` counts them.
    pub finalization: Option<FinalizationFacts>,
    /// Remarks: coverage, naming, damaged auxiliary streams.
    pub notes: Vec<String>,
    /// The archives the dump was read from, outermost first; empty for a
    /// dump read as it is.
    pub archives: Vec<crate::ArchiveLayer>,
}

/// The finalization queues' entries (SOS `!finalizequeue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinalizationFacts {
    /// Objects registered for finalization (their type has a finalizer
    /// and the GC has not found them dead yet): not roots.
    pub registered: u64,
    /// Objects ready for finalization (f-reachable): roots until their
    /// finalizer has run.
    pub ready: u64,
}

/// Facts particular to one container format.
#[derive(Debug, Clone, PartialEq)]
pub enum Container {
    /// A `.gcdump`.
    GcDump(GcDumpFacts),
    /// A Linux ELF core.
    ElfCore(ElfCoreFacts),
    /// A Windows minidump.
    Minidump(MinidumpFacts),
}

/// What a `.gcdump` records besides the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct GcDumpFacts {
    /// The `GCHeapDump` format version.
    pub version: i32,
    /// The tool that wrote it (`dotnet-gcdump`, PerfView), when recorded.
    pub creation_tool: Option<String>,
    /// How the heap was sampled, when it was (PerfView's
    /// `MaxDumpCountK`): the mean count and size multipliers.
    pub sampling: Option<(f32, f32)>,
    /// Nodes referenced but never written.
    pub undefined_nodes: usize,
    /// GC segments recorded (PerfView).
    pub gc_segments: usize,
}

/// What an ELF core's headers say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElfCoreFacts {
    /// The ELF class (`ELF64`; heaplens reads no other).
    pub class: &'static str,
    /// Non-empty `PT_LOAD` segments.
    pub segments: usize,
    /// File mappings in the `NT_FILE` note.
    pub mapped_files: usize,
}

/// What a minidump's header and directory say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinidumpFacts {
    /// The `MINIDUMP_TYPE` flags it was written with.
    pub flags: u64,
    /// True when written with `MiniDumpWithFullMemory`.
    pub full_memory: bool,
    /// The streams in the directory, by name, in file order (unused slots
    /// left out).
    pub streams: Vec<&'static str>,
    /// The comment streams' texts.
    pub comments: Vec<String>,
}

/// A point in time as the input records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamp {
    /// Seconds since 1970-01-01 00:00 UTC.
    Unix(u64),
    /// .NET ticks (100 ns since 0001-01-01) in the local time of the
    /// machine that wrote the input; its time zone is not recorded.
    LocalTicks(i64),
}

impl Timestamp {
    /// `2024-05-02T10:11:12Z` (UTC) or `2023-11-08T15:05:15` (local time,
    /// no zone); `None` for a value outside years 1–9999.
    pub fn to_iso8601(self) -> Option<String> {
        /// Seconds from 0001-01-01 to 1970-01-01.
        const UNIX_FROM_YEAR_1: i64 = 62_135_596_800;
        let (secs, zone) = match self {
            Timestamp::Unix(s) => (i64::try_from(s).ok()?, "Z"),
            Timestamp::LocalTicks(t) if t >= 0 => (t / 10_000_000 - UNIX_FROM_YEAR_1, ""),
            Timestamp::LocalTicks(_) => return None,
        };
        let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        (1..=9999).contains(&y).then(|| {
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{zone}",
                rem / 3600,
                rem / 60 % 60,
                rem % 60
            )
        })
    }
}

/// Year, month, day of `days` since 1970-01-01 (proleptic Gregorian; H.
/// Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// The dumped process.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessFacts {
    /// Its name (ELF: `NT_PRPSINFO`'s; minidump: the main module's file
    /// name; `.gcdump`: as recorded).
    pub name: Option<String>,
    /// Its id.
    pub id: Option<u32>,
    /// Its parent's id (ELF cores).
    pub parent_id: Option<u32>,
    /// The main executable's path.
    pub executable: Option<String>,
    /// The command line (ELF: the first 79 bytes, `NT_PRPSINFO`'s
    /// `pr_psargs`, when the writer filled it in; minidumps do not record
    /// it).
    pub command_line: Option<String>,
    /// The machine's name (`.gcdump`).
    pub machine_name: Option<String>,
    /// When the process started (minidump `MiscInfoStream`).
    pub start_time: Option<Timestamp>,
    /// When the dump was written (minidump header; `.gcdump`).
    pub dump_time: Option<Timestamp>,
}

/// The modules the container lists.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModuleFacts {
    /// How many (ELF: mapped files grouped by path; minidump: the module
    /// list).
    pub count: usize,
    /// The runtime module's path, when found.
    pub runtime: Option<String>,
    /// Managed assemblies, by file name: their image in the dump has a
    /// CLI header, or the runtime's heap names them.
    pub managed: Vec<String>,
    /// Native images (ELF, or PE without a CLI header), the runtime's
    /// included.
    pub native: usize,
    /// Modules whose headers the dump does not hold (or files that are not
    /// images), of unknown kind.
    pub unknown: usize,
}

/// The .NET runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeFacts {
    /// The product (`.NET 8.0.4`), when its version is known.
    pub name: Option<String>,
    /// The runtime module's path.
    pub path: String,
    /// The runtime's own version string (`8.0.424.16909 @Commit: …`), or
    /// its file version from the module list.
    pub version: Option<String>,
    /// The GC and its heap, when its bookkeeping was found.
    pub gc: Option<GcFacts>,
}

/// The process's memory by kind. "Captured" bytes are those whose contents
/// the dump holds; the others count what the process had.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MemoryFacts {
    /// Bytes of memory the dump holds, all kinds.
    pub captured_bytes: Option<u64>,
    /// Bytes of address space the dump describes (ELF: the `PT_LOAD`
    /// segments; minidump: committed memory in `MemoryInfoListStream`).
    pub address_space_bytes: Option<u64>,
    /// Bytes the dump should hold but that lie past the end of the file.
    pub missing_bytes: Option<u64>,
    /// Images: ELF file-backed mappings (`NT_FILE`, which includes mapped
    /// data files); minidump `MEM_IMAGE`.
    pub image_bytes: Option<u64>,
    /// Captured bytes of [`MemoryFacts::image_bytes`].
    pub image_captured_bytes: Option<u64>,
    /// Minidump `MEM_MAPPED` (mapped files and sections).
    pub mapped_bytes: Option<u64>,
    /// Captured bytes of [`MemoryFacts::mapped_bytes`].
    pub mapped_captured_bytes: Option<u64>,
    /// Private writable memory (minidump `MEM_PRIVATE` writable); ELF
    /// cores say only how much of it they hold.
    pub private_writable_bytes: Option<u64>,
    /// Captured private writable memory (ELF: writable segments outside
    /// every file mapping), the GC heap included.
    pub private_writable_captured_bytes: Option<u64>,
    /// Captured private writable memory outside the GC heap's objects:
    /// stacks, native heaps, runtime data, GC memory not holding objects.
    pub other_private_writable_captured_bytes: Option<u64>,
    /// Bytes the GC heap's segments or regions span (`.gcdump`: the size
    /// of all segments, when recorded).
    pub gc_heap_bytes: Option<u64>,
    /// Bytes of them the dump holds.
    pub gc_heap_captured_bytes: Option<u64>,
    /// The process's committed memory (`.gcdump`, when recorded).
    pub process_commit_bytes: Option<u64>,
    /// The process's working set (`.gcdump`, when recorded).
    pub process_working_set_bytes: Option<u64>,
}

/// Whether the heap can be read.
#[derive(Debug)]
pub enum HeapStatus {
    /// It can: what the graph holds.
    Walkable {
        /// Objects (unreachable ones included for a whole-heap dump; free
        /// space not).
        objects: u64,
        /// Their bytes.
        object_bytes: u64,
        /// Types with objects (one per name, module and MethodTable, as
        /// `heaplens stats` counts them).
        types: usize,
    },
    /// It cannot, for this reason.
    NotWalkable(OpenError),
}

/// Describes a `.gcdump`.
pub(crate) fn gcdump(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<Description, OpenError> {
    let src = src.bytes();
    let dump = heaplens_gcdump::read(src, cx.progress)?;
    let info = &crate::gcdump::info(format, &dump);
    let graph = &dump.graph;
    let bytes = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok());
    Ok(Description {
        format,
        file_bytes: src.len(),
        os: None,
        architecture: None,
        pointer_size: info.pointer_size,
        container: Container::GcDump(GcDumpFacts {
            version: dump.version,
            creation_tool: info.creation_tool.clone(),
            sampling: info
                .sampling
                .as_ref()
                .map(|s| (s.average_count_multiplier, s.average_size_multiplier)),
            undefined_nodes: dump.undefined_nodes,
            gc_segments: dump.segments.len(),
        }),
        process: ProcessFacts {
            name: info.process_name.clone(),
            id: info.process_id,
            machine_name: info.machine_name.clone(),
            dump_time: info.dump_time,
            ..ProcessFacts::default()
        },
        threads: None,
        modules: None,
        runtime: None,
        memory: MemoryFacts {
            gc_heap_bytes: bytes(dump.size_of_all_segments),
            process_commit_bytes: bytes(dump.total_process_commit),
            process_working_set_bytes: bytes(dump.total_process_working_set),
            ..MemoryFacts::default()
        },
        heap: walkable(graph),
        coverage: Some(Coverage::whole_file(src.len())),
        finalization: None,
        notes: info.notes.clone(),
        archives: Vec::new(),
    })
}

/// Describes a Linux core.
pub(crate) fn elf(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<Description, OpenError> {
    let src = src.bytes();
    let core = ElfCore::open(src)?;
    let symbols = elf::ElfSymbols(&core);
    let mut target = elf::target(&core, &symbols);
    if !cx.modules.is_empty() {
        target.module_files = Some(cx.modules);
    }
    let process = core.process();
    let cov = core.coverage();
    let mem = core.memory();
    let file = crate::with_file(
        Coverage::default(),
        src.len(),
        mem.described_len(),
        mem.missing_bytes(),
    );
    let read = crate::read_clr(&target, cx.progress, cx.memory, None, elf::WHAT)
        .map_err(|e| crate::in_truncated_file(e, &file));
    let mut heap = HeapRead::of(read, &target)?;
    heap.coverage = heap
        .coverage
        .take()
        .map(|c| crate::with_file(c, file.file_bytes, file.described_bytes, file.missing_bytes));
    let memory = MemoryFacts {
        captured_bytes: Some(cov.data_bytes),
        address_space_bytes: Some(cov.mapped_bytes),
        missing_bytes: Some(cov.missing_bytes),
        image_bytes: Some(cov.mapped_bytes.saturating_sub(cov.anonymous_mapped_bytes)),
        image_captured_bytes: Some(cov.data_bytes.saturating_sub(cov.anonymous_data_bytes)),
        private_writable_captured_bytes: Some(cov.anonymous_writable_data_bytes),
        ..MemoryFacts::default()
    };
    let kinds = core
        .modules()
        .iter()
        .map(|m| {
            let kind = m
                .header_addresses()
                .find_map(|base| image_kind(core.memory(), base, true))
                .unwrap_or(ImageKind::Unknown);
            (m.file_name(), kind)
        })
        .collect::<Vec<_>>();
    Ok(Description {
        format,
        file_bytes: src.len(),
        os: Some("Linux".to_owned()),
        architecture: Some(core.machine().as_str().to_owned()),
        pointer_size: Some(core.pointer_size() as u8),
        container: Container::ElfCore(ElfCoreFacts {
            class: "ELF64",
            segments: cov.segments,
            mapped_files: core.mapped_files().len(),
        }),
        process: ProcessFacts {
            name: elf::process_name(&core),
            id: process.pid(),
            parent_id: process.ppid(),
            executable: core.executable().map(|m| m.path.clone()),
            command_line: process
                .args()
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
            ..ProcessFacts::default()
        },
        threads: Some(core.threads().len()),
        modules: Some(heap.modules(&kinds)),
        memory: heap.memory(memory),
        runtime: heap.runtime,
        heap: heap.status,
        coverage: heap.coverage,
        finalization: heap.finalization,
        notes: heap.notes,
        archives: Vec::new(),
    })
}

/// Describes a Windows minidump.
pub(crate) fn minidump(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<Description, OpenError> {
    let src = src.bytes();
    let dump = Minidump::open(src)?;
    let symbols = minidump::PeSymbols(&dump);
    let mut target = minidump::target(&dump, &symbols);
    if !cx.modules.is_empty() {
        target.module_files = Some(cx.modules);
    }
    let header = dump.header();
    let p = dump.process();
    let cov = dump.coverage();
    let k = dump.memory_kinds();
    let has_info = !dump.memory_info().is_empty();
    let known = |v: u64| has_info.then_some(v);
    // A dump without the runtime's version resource: the runtime's version
    // is the module list's file version (`TargetModule::version`).
    let file = crate::with_file(
        Coverage::default(),
        src.len(),
        minidump::described_len(&dump),
        dump.memory().missing_bytes(),
    );
    let read = crate::read_clr(&target, cx.progress, cx.memory, None, minidump::WHAT)
        .map_err(|e| crate::in_truncated_file(e, &file));
    let mut heap = HeapRead::of(read, &target)?;
    heap.coverage = heap
        .coverage
        .take()
        .map(|c| crate::with_file(c, file.file_bytes, file.described_bytes, file.missing_bytes));
    let memory = MemoryFacts {
        captured_bytes: Some(cov.bytes),
        address_space_bytes: known(k.image.committed + k.mapped.committed + k.private.committed),
        missing_bytes: Some(cov.missing_bytes),
        image_bytes: known(k.image.committed),
        image_captured_bytes: known(k.image.captured),
        mapped_bytes: known(k.mapped.committed),
        mapped_captured_bytes: known(k.mapped.captured),
        private_writable_bytes: known(k.private_writable.committed),
        private_writable_captured_bytes: known(k.private_writable.captured),
        ..MemoryFacts::default()
    };
    let kinds = dump
        .modules()
        .iter()
        .map(|m| {
            let kind = image_kind(dump.memory(), m.base, false).unwrap_or(ImageKind::Unknown);
            (m.file_name(), kind)
        })
        .collect::<Vec<_>>();
    let mut notes: Vec<String> = dump
        .problems()
        .iter()
        .map(|e| format!("part of the dump could not be read: {e}"))
        .collect();
    if !has_info {
        notes.push(
            "the dump has no MemoryInfoListStream: its memory cannot be told apart by kind"
                .to_owned(),
        );
    }
    let sys = dump.system_info();
    notes.extend(heap.notes.iter().cloned());
    Ok(Description {
        format,
        file_bytes: src.len(),
        os: sys.map(|s| {
            let mut os = capitalized(&s.os);
            let (major, minor, build) = s.os_version;
            os.push_str(&format!(" {major}.{minor}.{build}"));
            if let Some(csd) = &s.csd_version {
                os.push_str(&format!(" ({csd})"));
            }
            os
        }),
        architecture: sys.map(|s| s.cpu.clone()),
        pointer_size: Some(dump.pointer_size() as u8),
        container: Container::Minidump(MinidumpFacts {
            flags: header.flags,
            full_memory: header.has_full_memory(),
            streams: dump
                .streams()
                .iter()
                .filter(|e| e.stream_type != heaplens_minidump::stream_type::UNUSED)
                .map(|e| e.name())
                .collect(),
            comments: dump.comments().to_vec(),
        }),
        process: ProcessFacts {
            name: dump.modules().first().map(|m| m.file_name().to_owned()),
            id: p.process_id,
            executable: dump.modules().first().map(|m| m.path.clone()),
            start_time: p.create_time.map(|t| Timestamp::Unix(u64::from(t))),
            dump_time: crate::minidump::dump_time(&dump),
            ..ProcessFacts::default()
        },
        threads: Some(dump.threads().len()),
        modules: Some(heap.modules(&kinds)),
        memory: heap.memory(memory),
        runtime: heap.runtime,
        heap: heap.status,
        coverage: heap.coverage,
        finalization: heap.finalization,
        notes,
        archives: Vec::new(),
    })
}

/// `windows` → `Windows`.
fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// What the CLR read of a core or minidump gave, ready to fill a
/// [`Description`].
struct HeapRead {
    status: HeapStatus,
    coverage: Option<Coverage>,
    finalization: Option<FinalizationFacts>,
    runtime: Option<RuntimeFacts>,
    /// Managed modules the runtime knows, by simple name.
    managed: Vec<String>,
    notes: Vec<String>,
}

impl HeapRead {
    /// Sorts the read's outcome: facts from the heap read, or, when it
    /// failed, from a lighter look at the runtime. A cancelled read stays
    /// an error.
    fn of(read: Result<ClrHeap, OpenError>, target: &Target<'_>) -> Result<HeapRead, OpenError> {
        match read {
            Ok(heap) => {
                let notes = crate::clr_notes(&heap.info);
                let names = &heap.info.names;
                let managed = names
                    .modules_with_metadata
                    .iter()
                    .chain(&names.modules_without_metadata)
                    .chain(names.modules_from_files.iter().map(|(m, _)| m))
                    .cloned()
                    .collect();
                Ok(HeapRead {
                    status: walkable(&heap.graph),
                    coverage: Some(crate::clr_coverage(&heap.info)),
                    finalization: Some(FinalizationFacts {
                        registered: heap.info.finalization.registered,
                        ready: heap.info.finalization.ready,
                    }),
                    runtime: Some(runtime_facts(heap.info)),
                    managed,
                    notes,
                })
            }
            Err(OpenError::Cancelled) => Err(OpenError::Cancelled),
            Err(e) => Ok(HeapRead {
                status: HeapStatus::NotWalkable(e),
                coverage: None,
                finalization: None,
                runtime: probe_runtime(target),
                managed: Vec::new(),
                notes: Vec::new(),
            }),
        }
    }

    /// `memory` with the GC heap's figures.
    fn memory(&self, mut memory: MemoryFacts) -> MemoryFacts {
        if let Some(gc) = self.runtime.as_ref().and_then(|r| r.gc.as_ref()) {
            memory.gc_heap_bytes = Some(gc.heap_bytes);
            memory.gc_heap_captured_bytes = Some(gc.heap_bytes_captured);
            memory.other_private_writable_captured_bytes = memory
                .private_writable_captured_bytes
                .map(|p| p.saturating_sub(gc.heap_bytes_captured));
        }
        memory
    }

    /// The modules, each `(file name, what its image says)`, counted.
    fn modules(&self, modules: &[(&str, ImageKind)]) -> ModuleFacts {
        ModuleFacts {
            runtime: self.runtime.as_ref().map(|r| r.path.clone()),
            ..module_facts(modules, &self.managed)
        }
    }
}

/// The graph's objects, their bytes, and their types counted as the
/// statistics count them (one per name, module and MethodTable).
fn walkable(graph: &heaplens_graph::HeapGraph) -> HeapStatus {
    let (mut objects, mut object_bytes) = (0u64, 0u64);
    let mut has_objects = vec![false; graph.types().len()];
    for n in 0..graph.node_count() as heaplens_graph::NodeIndex {
        if graph.node_kind(n) == TypeKind::Object {
            objects += 1;
            object_bytes = object_bytes.saturating_add(graph.node_size(n));
            if let Some(h) = has_objects.get_mut(graph.node_type(n) as usize) {
                *h = true;
            }
        }
    }
    let types = graph
        .types()
        .iter()
        .zip(&has_objects)
        .filter(|(_, &h)| h)
        .map(|(t, _)| (t.name.as_str(), t.module, t.method_table))
        .collect::<std::collections::HashSet<_>>()
        .len();
    HeapStatus::Walkable {
        objects,
        object_bytes,
        types,
    }
}

/// The runtime's facts from a heap read.
fn runtime_facts(clr: heaplens_clr::ClrInfo) -> RuntimeFacts {
    RuntimeFacts {
        name: crate::product_name(clr.version.as_deref(), &clr.runtime_path),
        path: clr.runtime_path,
        version: clr.version,
        gc: Some(clr.gc),
    }
}

/// The runtime and its GC, when the heap could not be read: the runtime
/// module and version, and the GC's heaps and segments where its
/// bookkeeping is in the dump.
fn probe_runtime(target: &Target<'_>) -> Option<RuntimeFacts> {
    use heaplens_clr::{dacvars, heap};
    let runtime = heaplens_clr::runtime::find_runtime(target)?;
    let path = runtime.module.path.clone();
    let version = runtime.version.clone();
    let mem = target.memory;
    let gc = (!runtime.module.file_name().eq_ignore_ascii_case("clr.dll"))
        .then(|| {
            // The same confirmation the heap read asks of a candidate.
            let check = |v: &dacvars::GcDacVars| heap::confirms_heap(mem, v);
            let vars = dacvars::locate(target, &runtime, &check).ok()?;
            let heaps = heap::GcHeap::all(mem, &vars).ok()?;
            let segments = heap::segments(mem, &vars, &heaps).ok()?;
            let regions = heap::uses_regions(mem, &vars, &heaps).ok()?;
            Some(GcFacts {
                mode: if vars.server {
                    GcMode::Server
                } else {
                    GcMode::Workstation
                },
                layout: if regions {
                    HeapLayout::Regions
                } else {
                    HeapLayout::Segments
                },
                heap_count: heaps.len(),
                heap_bytes: segments.iter().map(|s| s.end - s.start).sum(),
                heap_bytes_captured: segments
                    .iter()
                    .flat_map(|s| heaplens_memory::data_runs(mem, s.start, s.end))
                    .map(|(a, b)| b - a)
                    .sum(),
                segments,
                found_by_shape: false,
            })
        })
        .flatten();
    Some(RuntimeFacts {
        name: crate::product_name(version.as_deref(), &path),
        path,
        version,
        gc,
    })
}

/// What a module's image in the dump says it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageKind {
    Managed,
    Native,
    Unknown,
}

/// The kind of the image at `base`: an ELF image (when `elf`) or a PE
/// image without a CLI header is native, one with it managed; `None` when
/// the dump does not hold a readable header there.
fn image_kind(mem: &dyn AddressSpace, base: u64, elf: bool) -> Option<ImageKind> {
    if elf && heaplens_elfcore::ElfImage::at(mem, base).is_ok() {
        return Some(ImageKind::Native);
    }
    let image = heaplens_pe::PeImage::detect(mem, base).ok()?;
    match image.cli_header() {
        Ok(Some(_)) => Some(ImageKind::Managed),
        Ok(None) => Some(ImageKind::Native),
        Err(_) => None,
    }
}

/// Counts the modules by kind, each `(file name, what its image says)`. A
/// module whose image the dump lacks is managed when the runtime names it
/// (`runtime_names`: simple names, `System.Console`).
fn module_facts(modules: &[(&str, ImageKind)], runtime_names: &[String]) -> ModuleFacts {
    let named = |file: &str| {
        let stem = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
        runtime_names
            .iter()
            .any(|n| n.eq_ignore_ascii_case(stem) || n.eq_ignore_ascii_case(file))
    };
    let mut f = ModuleFacts {
        count: modules.len(),
        ..ModuleFacts::default()
    };
    for &(name, kind) in modules {
        match kind {
            ImageKind::Managed => f.managed.push(name.to_owned()),
            ImageKind::Unknown if named(name) => f.managed.push(name.to_owned()),
            ImageKind::Native => f.native += 1,
            ImageKind::Unknown => f.unknown += 1,
        }
    }
    f.managed.sort_by_key(|n| n.to_ascii_lowercase());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_iso8601() {
        assert_eq!(
            Timestamp::Unix(0).to_iso8601().as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
        assert_eq!(
            Timestamp::Unix(1_714_644_672).to_iso8601().as_deref(),
            Some("2024-05-02T10:11:12Z")
        );
        // 2023-11-08 15:05:15 in .NET ticks.
        assert_eq!(
            Timestamp::LocalTicks(638_350_527_150_000_000)
                .to_iso8601()
                .as_deref(),
            Some("2023-11-08T15:05:15")
        );
        assert_eq!(Timestamp::LocalTicks(-1).to_iso8601(), None);
        assert_eq!(Timestamp::Unix(u64::MAX).to_iso8601(), None);
        assert_eq!(
            Timestamp::LocalTicks(0).to_iso8601().as_deref(),
            Some("0001-01-01T00:00:00")
        );
    }

    #[test]
    fn runtime_names_count_as_managed_once() {
        let f = module_facts(
            &[
                ("DumpLab.dll", ImageKind::Managed),
                ("libc.so.6", ImageKind::Native),
                ("System.Runtime.dll", ImageKind::Unknown),
                ("icudt.dat", ImageKind::Unknown),
            ],
            &["DumpLab".into(), "System.Runtime".into(), "Other".into()],
        );
        assert_eq!(f.managed, ["DumpLab.dll", "System.Runtime.dll"]);
        assert_eq!((f.count, f.native, f.unknown), (4, 1, 1));
    }
}
