//! The `info` document: what a dump is, before anything reads its heap
//! (`heaplens info`).

use crate::{
    format_name, heaplens_version, ArchiveFacts, DocumentKind, GcMode, HeapFoundBy, HeapLayout,
    SCHEMA_VERSION,
};
use heaplens_snapshot::{Container, Description, HeapStatus, Timestamp};
use serde::{Deserialize, Serialize};

/// What a dump is: its container, system, process, runtime, memory by kind,
/// and whether its heap can be read (and if not, why). A value the input
/// does not record is `null`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InfoDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Info`].
    pub document: DocumentKind,
    /// The file as it was given (a path, or a file name in the page).
    pub file: String,
    /// `gcdump`, `elf-core` or `minidump`.
    pub format: String,
    /// The file's size (the archive's, when the dump came in one).
    pub file_bytes: u64,
    /// The archives the dump came in, outermost first (`[]`: none).
    pub archives: Vec<ArchiveFacts>,
    /// The dumped process's operating system (`Linux`, `Windows 10.0.19045`).
    pub os: Option<String>,
    /// The processor architecture (`x86-64`, `aarch64`, `amd64`, `x86`).
    pub architecture: Option<String>,
    /// Size of a pointer in the process, in bytes.
    pub pointer_size: Option<u8>,
    /// What is particular to the container (one of three shapes, by
    /// `format`).
    pub container: ContainerFacts,
    /// The dumped process.
    pub process: ProcessFacts,
    /// Threads the dump lists (`null` for a `.gcdump`).
    pub threads: Option<u64>,
    /// The loaded modules (`null` for a `.gcdump`).
    pub modules: Option<ModuleFacts>,
    /// The .NET runtime (`null` without one, and for a `.gcdump`).
    pub runtime: Option<RuntimeFacts>,
    /// The process's memory by kind.
    pub memory: MemoryFacts,
    /// Whether the heap can be read.
    pub heap: HeapFacts,
    /// The finalization queues (SOS `!finalizequeue`), when the heap could
    /// be read from process memory.
    pub finalization: Option<FinalizationFacts>,
    /// True when the heap read is the whole heap's (`null` when the heap
    /// could not be read).
    pub complete: Option<bool>,
    /// How much of the heap, its roots and the file the dump holds (`null`
    /// when the heap could not be read).
    pub coverage: Option<crate::coverage::CoverageFacts>,
    /// Coverage, naming and damaged auxiliary streams, in words.
    pub notes: Vec<String>,
}

/// The finalization queues' entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinalizationFacts {
    /// Objects registered for finalization: not roots.
    pub registered: u64,
    /// Objects ready for finalization (f-reachable): roots until their
    /// finalizer has run.
    pub ready: u64,
}

/// Facts particular to one container format (written without a tag: the
/// document's `format` says which).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContainerFacts {
    /// A `.gcdump`.
    GcDump {
        /// The `GCHeapDump` format version.
        version: i32,
        /// The tool that wrote it.
        creation_tool: Option<String>,
        /// True when the heap was sampled.
        sampled: bool,
        /// The mean count multiplier of a sampled heap.
        average_count_multiplier: Option<f32>,
        /// The mean size multiplier of a sampled heap.
        average_size_multiplier: Option<f32>,
        /// Nodes referenced but never written.
        undefined_nodes: u64,
        /// GC segments recorded.
        gc_segments: u64,
    },
    /// A Linux ELF core.
    ElfCore {
        /// `ELF64`.
        elf_class: String,
        /// Non-empty `PT_LOAD` segments.
        segments: u64,
        /// File mappings in `NT_FILE`.
        mapped_files: u64,
    },
    /// A Windows minidump.
    Minidump {
        /// `MINIDUMP_TYPE` flags, hex.
        flags: String,
        /// Written with `MiniDumpWithFullMemory`.
        full_memory: bool,
        /// The directory's streams, in file order.
        streams: Vec<String>,
        /// The comment streams' texts.
        comments: Vec<String>,
    },
}

/// The dumped process.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessFacts {
    /// Its name.
    pub name: Option<String>,
    /// Its id.
    pub id: Option<u32>,
    /// Its parent's id.
    pub parent_id: Option<u32>,
    /// Its executable's path.
    pub executable: Option<String>,
    /// Its command line.
    pub command_line: Option<String>,
    /// The machine it ran on.
    pub machine_name: Option<String>,
    /// When it started: ISO 8601, UTC with `Z`.
    pub start_time: Option<String>,
    /// When it was dumped: ISO 8601, UTC with `Z`, or without a zone for a
    /// `.gcdump`'s local time.
    pub dump_time: Option<String>,
}

/// The loaded modules.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleFacts {
    /// A core's mapped files grouped by path; a minidump's module list.
    pub count: u64,
    /// The runtime's path.
    pub runtime: Option<String>,
    /// Managed modules' file names.
    pub managed: Vec<String>,
    /// Native modules.
    pub native: u64,
    /// Modules of unknown kind (count = managed + native + unknown).
    pub unknown: u64,
}

/// The .NET runtime in the process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuntimeFacts {
    /// `.NET 8.0.4`.
    pub name: Option<String>,
    /// The runtime module's path.
    pub path: String,
    /// The runtime's own version string, or its file version.
    pub version: Option<String>,
    /// Workstation or server GC (`null` when the GC's bookkeeping is not in
    /// the dump, as are the next four).
    pub gc_mode: Option<GcMode>,
    /// Segments or regions.
    pub heap_layout: Option<HeapLayout>,
    /// GC heaps.
    pub heap_count: Option<u64>,
    /// Segments or regions.
    pub segments: Option<u64>,
    /// How the heap was found.
    pub heap_found_by: Option<HeapFoundBy>,
}

/// The process's memory by kind (`*_captured_bytes`: what the dump holds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryFacts {
    /// Bytes of memory the dump holds.
    pub captured_bytes: Option<u64>,
    /// A core's `PT_LOAD` ranges; a minidump's committed memory.
    pub address_space_bytes: Option<u64>,
    /// Bytes past the end of a truncated file.
    pub missing_bytes: Option<u64>,
    /// The GC's segments or regions.
    pub gc_heap_bytes: Option<u64>,
    /// Of them in the dump.
    pub gc_heap_captured_bytes: Option<u64>,
    /// Private writable memory (the GC heap included).
    pub private_writable_bytes: Option<u64>,
    /// Of it in the dump.
    pub private_writable_captured_bytes: Option<u64>,
    /// The same without the GC heap's objects.
    pub other_private_writable_captured_bytes: Option<u64>,
    /// File-backed (core) or `MEM_IMAGE` (minidump) memory.
    pub image_bytes: Option<u64>,
    /// Of it in the dump.
    pub image_captured_bytes: Option<u64>,
    /// `MEM_MAPPED` memory (minidump).
    pub mapped_bytes: Option<u64>,
    /// Of it in the dump.
    pub mapped_captured_bytes: Option<u64>,
    /// A `.gcdump`'s recorded process commit.
    pub process_commit_bytes: Option<u64>,
    /// A `.gcdump`'s recorded working set.
    pub process_working_set_bytes: Option<u64>,
}

/// Whether the heap can be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeapFacts {
    /// True when it can.
    pub walkable: bool,
    /// Objects (unreachable ones included, free space not), when walkable.
    pub objects: Option<u64>,
    /// Their bytes, when walkable.
    pub object_bytes: Option<u64>,
    /// Types with objects, when walkable.
    pub types: Option<u64>,
    /// Why not, when not walkable (`no_runtime`, `no_heap`, `no_type_data`,
    /// `unsupported_runtime`, `no_gc_info`, `gc_in_progress`,
    /// `corrupt_runtime_data`, `clr_read_failed`).
    pub reason: Option<String>,
    /// The error message, when not walkable.
    pub error: Option<String>,
}

fn time(t: Option<Timestamp>) -> Option<String> {
    t.and_then(Timestamp::to_iso8601)
}

impl InfoDocument {
    /// The document of a [`heaplens_snapshot::describe`] result; `file`
    /// names the input as the user gave it.
    pub fn build(file: &str, d: &Description) -> InfoDocument {
        let container = match &d.container {
            Container::GcDump(g) => ContainerFacts::GcDump {
                version: g.version,
                creation_tool: g.creation_tool.clone(),
                sampled: g.sampling.is_some(),
                average_count_multiplier: g.sampling.map(|s| s.0),
                average_size_multiplier: g.sampling.map(|s| s.1),
                undefined_nodes: g.undefined_nodes as u64,
                gc_segments: g.gc_segments as u64,
            },
            Container::ElfCore(e) => ContainerFacts::ElfCore {
                elf_class: e.class.to_owned(),
                segments: e.segments as u64,
                mapped_files: e.mapped_files as u64,
            },
            Container::Minidump(m) => ContainerFacts::Minidump {
                flags: format!("{:#x}", m.flags),
                full_memory: m.full_memory,
                streams: m.streams.iter().map(|s| (*s).to_owned()).collect(),
                comments: m.comments.clone(),
            },
        };
        let p = &d.process;
        let m = &d.memory;
        let heap = match &d.heap {
            HeapStatus::Walkable {
                objects,
                object_bytes,
                types,
            } => HeapFacts {
                walkable: true,
                objects: Some(*objects),
                object_bytes: Some(*object_bytes),
                types: Some(*types as u64),
                reason: None,
                error: None,
            },
            HeapStatus::NotWalkable(e) => HeapFacts {
                walkable: false,
                objects: None,
                object_bytes: None,
                types: None,
                reason: Some(e.kind().to_owned()),
                error: Some(e.to_string()),
            },
        };
        InfoDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Info,
            file: file.to_owned(),
            format: format_name(d.format),
            file_bytes: d.file_bytes,
            archives: ArchiveFacts::all(&d.archives),
            os: d.os.clone(),
            architecture: d.architecture.clone(),
            pointer_size: d.pointer_size,
            container,
            process: ProcessFacts {
                name: p.name.clone(),
                id: p.id,
                parent_id: p.parent_id,
                executable: p.executable.clone(),
                command_line: p.command_line.clone(),
                machine_name: p.machine_name.clone(),
                start_time: time(p.start_time),
                dump_time: time(p.dump_time),
            },
            threads: d.threads.map(|t| t as u64),
            modules: d.modules.as_ref().map(|m| ModuleFacts {
                count: m.count as u64,
                runtime: m.runtime.clone(),
                managed: m.managed.clone(),
                native: m.native as u64,
                unknown: m.unknown as u64,
            }),
            runtime: d.runtime.as_ref().map(|r| RuntimeFacts {
                name: r.name.clone(),
                path: r.path.clone(),
                version: r.version.clone(),
                gc_mode: r.gc.as_ref().map(|g| g.mode.into()),
                heap_layout: r.gc.as_ref().map(|g| g.layout.into()),
                heap_count: r.gc.as_ref().map(|g| g.heap_count as u64),
                segments: r.gc.as_ref().map(|g| g.segments.len() as u64),
                heap_found_by: r.gc.as_ref().map(|g| HeapFoundBy::of(g.found_by_shape)),
            }),
            memory: MemoryFacts {
                captured_bytes: m.captured_bytes,
                address_space_bytes: m.address_space_bytes,
                missing_bytes: m.missing_bytes,
                gc_heap_bytes: m.gc_heap_bytes,
                gc_heap_captured_bytes: m.gc_heap_captured_bytes,
                private_writable_bytes: m.private_writable_bytes,
                private_writable_captured_bytes: m.private_writable_captured_bytes,
                other_private_writable_captured_bytes: m.other_private_writable_captured_bytes,
                image_bytes: m.image_bytes,
                image_captured_bytes: m.image_captured_bytes,
                mapped_bytes: m.mapped_bytes,
                mapped_captured_bytes: m.mapped_captured_bytes,
                process_commit_bytes: m.process_commit_bytes,
                process_working_set_bytes: m.process_working_set_bytes,
            },
            heap,
            finalization: d.finalization.map(|f| FinalizationFacts {
                registered: f.registered,
                ready: f.ready,
            }),
            complete: d.coverage.as_ref().map(|c| c.is_complete()),
            coverage: d.coverage.as_ref().map(crate::coverage::CoverageFacts::of),
            notes: d.notes.clone(),
        }
    }
}
