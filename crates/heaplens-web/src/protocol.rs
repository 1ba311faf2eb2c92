//! Messages between the UI and the worker.
//!
//! Every message is one JSON string (`serde_json`), posted with
//! `postMessage`. The only things that are not JSON are the files: an
//! [`Request::Open`] message is posted as
//! `{req: "<json>", file: File, modules: [File, ...]}` (`modules` may be
//! absent), and the browser passes each `File` as a handle, so its bytes are
//! never copied to the UI thread. The worker reads the dump in chunks, and
//! a module file only when the engine asks for the assembly of its name
//! (see [`is_module_file`]).
//!
//! The protocol knows nothing of dump formats: the worker opens every input
//! with `heaplens_snapshot::open`, so a new format needs no change here.

use serde::{Deserialize, Serialize};

/// Which of the opened dumps a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Slot {
    /// The dump analysed on its own.
    Single,
    /// The older dump of a comparison.
    Baseline,
    /// The newer dump of a comparison.
    Current,
}

impl Slot {
    /// How the UI names the slot.
    pub fn label(self) -> &'static str {
        match self {
            Slot::Single => "dump",
            Slot::Baseline => "baseline",
            Slot::Current => "current",
        }
    }
}

/// True for a file the UI sends as a module file rather than a dump: a
/// `.dll` or `.exe` (managed assemblies; no dump format has these names).
pub fn is_module_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".dll") || lower.ends_with(".exe")
}

/// Splits files dropped (or chosen) together into dumps and module files
/// (by [`is_module_file`] on `name`), each in the order given.
pub fn split_files<T>(files: Vec<T>, name: impl Fn(&T) -> String) -> (Vec<T>, Vec<T>) {
    files.into_iter().partition(|f| !is_module_file(&name(f)))
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

/// UI → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Open the `File` posted beside this request (as `file`) into `slot`
    /// (replacing what was there). The `File`s posted as `modules` (the
    /// `.dll`/`.exe` files dropped with the dump) name the types of dumps
    /// that lack their assemblies' images, as the CLI's `--modules` does:
    /// the worker builds a `heaplens_snapshot::modules::ModuleSet` of them
    /// and opens the dump with `heaplens_snapshot::open_with`; the
    /// overview's notes say which modules were used, did not match, or
    /// are still missing. Answered by progress reports, then
    /// [`Response::Opened`] or [`Response::Failed`].
    Open {
        /// Where to keep the snapshot.
        slot: Slot,
        /// Test knob: wait this long at every progress report, so a test
        /// can see (and cancel) a read of a small file. The page sets it
        /// from `?e2e-slow-progress=MS`; 0 otherwise.
        #[serde(default, skip_serializing_if = "is_zero")]
        slow_progress_ms: u32,
    },
    /// Details of one row of a slot's type table.
    Detail {
        /// The snapshot.
        slot: Slot,
        /// [`TypeRow::id`] of the type.
        type_id: u32,
    },
    /// Compare the baseline with the current snapshot.
    Diff,
    /// Drop a slot's snapshot, freeing its memory.
    Forget {
        /// The slot to empty.
        slot: Slot,
    },
    /// Benchmark: read the posted `File` from start to end in `chunk`-byte
    /// slices and do nothing else (the raw File API rate).
    BenchRead {
        /// Slice size in bytes.
        chunk: u32,
    },
}

/// Worker → UI.
// Messages live only between deserialising and handling them: the size of
// the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// The worker has started and takes requests (messages posted earlier
    /// are lost, so the UI waits for this).
    Ready,
    /// Reading is under way.
    Progress(ProgressReport),
    /// A dump was opened.
    Opened {
        /// Its slot.
        slot: Slot,
        /// What the dump is.
        overview: Overview,
        /// What fills the heap.
        table: TypeTable,
    },
    /// A request failed; `message` is for people.
    Failed {
        /// The slot the request was about, if any.
        slot: Option<Slot>,
        /// What went wrong.
        message: String,
    },
    /// Answer to [`Request::Detail`].
    Detail {
        /// The snapshot.
        slot: Slot,
        /// The details.
        detail: TypeDetail,
    },
    /// Retained sizes of a slot's type table, computed after the table
    /// was shown (they need the dominator tree).
    Retained {
        /// The snapshot.
        slot: Slot,
        /// Per row id: the retained bytes (None for types with no
        /// reachable object).
        retained: Vec<Option<u64>>,
        /// Milliseconds the analysis took.
        ms: f64,
    },
    /// Answer to [`Request::Diff`].
    Diff {
        /// The comparison.
        diff: DiffTable,
    },
    /// Answer to [`Request::BenchRead`].
    BenchRead {
        /// Bytes read.
        bytes: u64,
        /// Milliseconds spent.
        ms: f64,
    },
    /// The engine panicked; the worker is unusable afterwards.
    Panic {
        /// The panic message.
        message: String,
    },
}

/// How far an open has got.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProgressReport {
    /// The slot being opened.
    pub slot: Option<Slot>,
    /// The engine's current phase ("nodes", ...).
    pub phase: String,
    /// Units of the phase done.
    pub done: u64,
    /// Units of the phase in all (0 if unknown).
    pub total: u64,
    /// Furthest offset of the file read so far.
    pub position: u64,
    /// Bytes read from the file so far (re-reads count again).
    pub bytes_read: u64,
    /// Size of the file.
    pub file_size: u64,
    /// Objects read so far, when the phase counts objects.
    pub objects: Option<u64>,
    /// Milliseconds since the open started.
    pub elapsed_ms: f64,
}

/// What a dump is: the overview screen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Overview {
    /// The file's name.
    pub file_name: String,
    /// The file's size in bytes.
    pub file_size: u64,
    /// Stable format id (`gcdump`, `elf-core`, `minidump`).
    pub format_id: String,
    /// The format, for people.
    pub format: String,
    /// Runtime version, when known.
    pub runtime: Option<String>,
    /// GC mode (workstation/server, regions/segments), when known.
    pub gc_mode: Option<String>,
    /// Pointer size in bytes, when known.
    pub pointer_size: Option<u8>,
    /// Process name, when recorded.
    pub process_name: Option<String>,
    /// Process id, when recorded.
    pub process_id: Option<u32>,
    /// Machine name, when recorded.
    pub machine_name: Option<String>,
    /// The tool that wrote the dump, when recorded.
    pub creation_tool: Option<String>,
    /// When the dump was taken, when known.
    pub dump_time: Option<String>,
    /// Objects in the type table.
    pub objects: u64,
    /// Bytes of those objects (the heap size shown).
    pub bytes: u64,
    /// Types in the table.
    pub type_count: u64,
    /// Free-space blocks and their bytes (not in the table).
    pub free: (u64, u64),
    /// Objects found but not reachable from a root, and their bytes, when
    /// the input holds dead objects too (not in the table).
    pub unreachable: Option<(u64, u64)>,
    /// Nodes in the graph (objects and pseudo-nodes).
    pub nodes: u64,
    /// References in the graph.
    pub edges: u64,
    /// GC roots.
    pub roots: u64,
    /// True when counts and bytes were scaled from a sampled heap.
    pub scaled: bool,
    /// Plain-language remarks from the engine.
    pub notes: Vec<String>,
    /// Milliseconds from the request to the table.
    pub open_ms: f64,
    /// Bytes read from the file (re-reads count again).
    pub bytes_read: u64,
    /// Milliseconds of that spent reading the file (File API and copy).
    pub read_ms: f64,
    /// Size of the worker's wasm memory after opening, in bytes.
    pub wasm_memory: u64,
    /// Memory the heap graph takes in the worker, in bytes.
    pub graph_memory: u64,
}

/// One row of the type table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeRow {
    /// Stable id of the row within its snapshot (its rank by bytes, 0 first).
    pub id: u32,
    /// The type's name.
    pub name: String,
    /// The type's module, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Objects (scaled for a sampled heap).
    pub count: u64,
    /// Bytes (scaled for a sampled heap).
    pub bytes: u64,
    /// Bytes that would be freed if every object of the type went away,
    /// once the engine computes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained: Option<u64>,
}

/// What fills the heap: the type table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeTable {
    /// Rows by bytes, largest first (the engine's order, as the CLI prints it).
    pub rows: Vec<TypeRow>,
    /// Objects in the rows.
    pub objects: u64,
    /// Bytes in the rows.
    pub bytes: u64,
    /// True when the rows carry retained sizes.
    pub has_retained: bool,
}

/// A step of a path from a GC root.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PathStep {
    /// The object's type.
    pub type_name: String,
    /// The object's address, when the input has addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<u64>,
}

/// A shortest path from a GC root to an object of the type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RootPath {
    /// How the root holds the first object (`static`, `stack`, ...).
    pub root_kind: String,
    /// The root's name (a static field, a handle...), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_name: Option<String>,
    /// The objects from the root to the instance (the last step).
    pub steps: Vec<PathStep>,
}

/// An entry of the referred-from tree: objects of one type (or a root)
/// that the type's objects are reached through, one step nearer the roots
/// than the entry above.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RefEntry {
    /// The type's name, or the root's kind and name.
    pub label: String,
    /// True for a GC root rather than objects.
    pub is_root: bool,
    /// Objects of the focus type whose shortest path passes here.
    pub count: u64,
    /// Their own bytes.
    pub bytes: u64,
    /// Their bytes including what hangs below them on shortest paths.
    pub inclusive_bytes: u64,
    /// True when deeper steps were cut off by the depth limit.
    pub truncated: bool,
    /// Indices of the entries one step nearer the roots (largest first).
    pub children: Vec<u32>,
    /// Children left out of `children` (only the largest are sent).
    pub more: u32,
}

/// The type detail screen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeDetail {
    /// The row.
    pub row: TypeRow,
    /// Shortest paths from the roots, a few, shortest first.
    pub root_paths: Vec<RootPath>,
    /// How many of the type's objects are reachable from a root at all.
    pub reachable: u64,
    /// The referred-from tree; entry 0 is the type itself.
    pub referred_from: Vec<RefEntry>,
    /// Remarks for people (limits, what the numbers mean).
    pub notes: Vec<String>,
}

/// How a type changed between two dumps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Only in the current dump.
    New,
    /// Only in the baseline.
    Vanished,
    /// In both.
    Both,
}

/// One row of the delta table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DiffRow {
    /// The type's name (types are matched by name across dumps).
    pub name: String,
    /// New, vanished or in both.
    pub change: Change,
    /// Objects in the baseline.
    pub base_count: u64,
    /// Bytes in the baseline.
    pub base_bytes: u64,
    /// Objects in the current dump.
    pub cur_count: u64,
    /// Bytes in the current dump.
    pub cur_bytes: u64,
}

impl DiffRow {
    /// Change in objects.
    pub fn count_delta(&self) -> i64 {
        self.cur_count as i64 - self.base_count as i64
    }
    /// Change in bytes.
    pub fn bytes_delta(&self) -> i64 {
        self.cur_bytes as i64 - self.base_bytes as i64
    }
}

/// The comparison of two dumps.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiffTable {
    /// Types whose count or bytes changed, by growth in bytes, largest
    /// first (then growth in count, then name).
    pub rows: Vec<DiffRow>,
    /// Objects and bytes of the baseline.
    pub base: (u64, u64),
    /// Objects and bytes of the current dump.
    pub cur: (u64, u64),
    /// Types that did not change (not in the rows).
    pub unchanged: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_files_are_dlls_and_exes() {
        assert!(is_module_file("System.Private.CoreLib.dll"));
        assert!(is_module_file("DumpLab.DLL"));
        assert!(is_module_file("app.exe"));
        assert!(!is_module_file("core.dll.zst"));
        assert!(!is_module_file("app.dmp"));
        assert!(!is_module_file("x.gcdump"));
        let (dumps, modules) = split_files(vec!["a.core", "A.dll", "b.gcdump", "c.exe"], |s| {
            s.to_string()
        });
        assert_eq!(dumps, ["a.core", "b.gcdump"]);
        assert_eq!(modules, ["A.dll", "c.exe"]);
    }

    #[test]
    fn open_request_round_trips() {
        let r = Request::Open {
            slot: Slot::Single,
            slow_progress_ms: 0,
        };
        let s = serde_json::to_string(&r).unwrap();
        assert_eq!(s, r#"{"type":"open","slot":"single"}"#);
        assert_eq!(serde_json::from_str::<Request>(&s).unwrap(), r);
    }
}
