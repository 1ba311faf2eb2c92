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
//!
//! Results travel as the documents of the result schema
//! ([`heaplens_results`]), the same that `heaplens … --json` prints: a
//! `stats` document when a dump is opened, `retained` once the dominator
//! tree is built, `roots` for a type's detail and `diff` for a comparison.
//! Types are named by their [`TypeId`] in every message.

use heaplens_results::diff::DiffDocument;
use heaplens_results::retained::RetainedDocument;
use heaplens_results::roots::RootsDocument;
use heaplens_results::stats::StatsDocument;
use heaplens_results::TypeId;
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
        /// The row's id (`StatsDocument::types[…].id`).
        type_id: TypeId,
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
        /// Its overview and type statistics (every row, by bytes).
        stats: StatsDocument,
        /// How the worker read it.
        read: ReadReport,
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
        /// Why the type's objects are alive.
        detail: RootsDocument,
    },
    /// Retained sizes of a slot's types, computed after the table was
    /// shown (they need the dominator tree). Rows join the type table by
    /// id; a type with no reachable object has none.
    Retained {
        /// The snapshot.
        slot: Slot,
        /// Every type's retained size and the largest objects.
        retained: RetainedDocument,
        /// Milliseconds the analysis took.
        ms: f64,
    },
    /// Answer to [`Request::Diff`].
    Diff {
        /// The comparison.
        diff: DiffDocument,
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

/// The worker's own figures of an open: how it read the dump (not results
/// of the engine; those are the `stats` document beside them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReadReport {
    /// The format, for people.
    pub format_name: String,
    /// Milliseconds from the request to the table.
    pub open_ms: f64,
    /// Bytes read from the file (re-reads count again).
    pub bytes_read: u64,
    /// Milliseconds of that spent reading the file (File API and copy).
    pub read_ms: f64,
    /// Milliseconds from the request to the end of unpacking the archive
    /// the dump came in (0 for a dump read as it is).
    #[serde(default)]
    pub unpack_ms: f64,
    /// Size of the worker's wasm memory after opening, in bytes.
    pub wasm_memory: u64,
    /// Memory the heap graph takes in the worker, in bytes.
    pub graph_memory: u64,
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
