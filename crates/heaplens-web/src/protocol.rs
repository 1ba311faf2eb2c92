//! Messages between the page and its engine workers.
//!
//! Every message is a JavaScript object made by `serde-wasm-bindgen` from
//! the types below (no JSON strings). A request travels in an envelope,
//! `{request, file?, modules?, cancel?}`: `request` is a [`Request`];
//! `file` and `modules` are the `File` handles an [`Request::Open`] reads
//! (the browser passes handles, so no dump byte is copied to the page);
//! `cancel` is an `Int32Array` over a `SharedArrayBuffer` the page sets to
//! cancel this one operation, when the page is cross-origin isolated (see
//! [`crate::bridge`]). A worker answers with [`Response`]s.
//!
//! The protocol is versioned: a worker's first message is
//! [`Response::Hello`] with [`PROTOCOL_VERSION`] and the result schema's
//! version ([`heaplens_results::SCHEMA_VERSION`]); the page refuses a
//! worker of another version with a message ([`Hello::check`]) instead of
//! misreading it. Results are the documents of the result schema, as
//! `heaplens … --json` writes them; types are named by their [`TypeId`],
//! dumps by a [`DumpId`] the page gives, operations by an [`OpId`].
//!
//! The protocol knows nothing of dump formats: the worker opens every input
//! with `heaplens_snapshot::open_with`, so a new format needs no change here.

use crate::model::Answers;
use heaplens_results::diff::{DiffDocument, RetainedByName};
use heaplens_results::findings::FindingsDocument;
use heaplens_results::flame::FlameDocument;
use heaplens_results::groups::{DiffGroupTable, GroupKind, GroupTable};
use heaplens_results::instances::{InstanceSort, InstancesDocument};
use heaplens_results::object::ObjectDocument;
use heaplens_results::retained::RetainedDocument;
use heaplens_results::roots::RootsDocument;
use heaplens_results::stats::StatsDocument;
use heaplens_results::strings::StringsDocument;
use heaplens_results::waste::WasteDocument;
use heaplens_results::{Header, NodeId, TypeId, HEAPLENS_VERSION, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};

/// The version of these messages. 1 was JSON strings with three fixed
/// slots; 2 addresses dumps by id, carries operations, typed errors and
/// phases, as JavaScript objects; 3 adds the phase of unpacking an archive
/// and what its scratch file holds (issue 21); 4 adds object contents
/// ([`Request::Contents`], issue 17); 5 adds the analysis's answers
/// (inclusive and retained columns, flame graphs, retained growth), groups
/// and their comparison, and the differential flame graph (issue 16); 6
/// adds a dump's leak findings ([`ContentsQuery::Findings`], issue 19); 7
/// adds folds of the type table ([`Request::Fold`], issue 16); 8 adds a
/// comparison's growth findings ([`ContentsQuery::Baseline`] from the
/// baseline's worker, [`ContentsQuery::GrowthFindings`] with it in
/// [`Request::Contents`]'s `baseline` from the current dump's, issue 19);
/// 9 says where an archive's unpacked copy is ([`ReadReport`]'s
/// `unpacked_copy`) and reopens a kept one ([`Request::Open`]'s `kept`,
/// issue 21); 10 adds to a baseline's observations the patterns
/// `entity_framework` and `fragmentation` and a group's `span_bytes`
/// (issue 19); 11 adds the compute benchmark ([`Request::BenchCompute`],
/// issue 14); 12 answers an open whose graph does not fit with the type
/// statistics of all objects ([`Response::Counted`], the result schema's
/// `counts` document) and adds the test knob [`Request::Open`]'s
/// `memory_cap` (issue 14); 13 reads those statistics in the refused open
/// (an archive unpacked once) and says what unpacking wrote
/// ([`ReadReport`]'s `unpacked_bytes`, also of [`Response::Counted`]'s
/// report), and walks a heap with walker workers ([`Request::Open`]'s
/// `walkers` and `loader`, [`Request::Walk`], [`Response::WalkProgress`],
/// [`Response::Walked`], the walkers counted in [`ProgressReport`] and
/// [`ReadReport`]; issue 14).
pub const PROTOCOL_VERSION: u32 = 13;

/// Which types of a dump's type table to fold into their referrers
/// (PerfView's FoldPats and Fold %): `heaplens stats --fold PATTERN
/// --fold-percent PERCENT`. Empty: none.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Folds {
    /// The types whose name matches this regular expression (empty: none).
    #[serde(default)]
    pub pattern: String,
    /// The types whose Inc is below this percentage of the total.
    #[serde(default)]
    pub min_percent: Option<f64>,
}

impl Folds {
    /// True when nothing is folded.
    pub fn is_empty(&self) -> bool {
        self.pattern.is_empty() && self.min_percent.is_none()
    }
}

impl Eq for Folds {}

impl std::hash::Hash for Folds {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.pattern.hash(h);
        self.min_percent.map(f64::to_bits).hash(h);
    }
}

/// What a [`Request::Contents`] asks about a dump's object contents; each
/// is answered by the document `heaplens` writes for the same question.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ContentsQuery {
    /// One object, as `heaplens object FILE ADDRESS --json` (`values`
    /// false: `--no-values`).
    Object {
        /// The object.
        node: NodeId,
        /// Carry its values.
        values: bool,
    },
    /// A page of a type's objects, as `heaplens instances FILE --type-id ID
    /// --sort SORT --offset OFFSET --limit 50 --json`.
    Instances {
        /// The type's row.
        type_id: TypeId,
        /// The order.
        sort: InstanceSort,
        /// The first object of the page.
        offset: u64,
        /// Carry the static fields' values.
        values: bool,
    },
    /// Duplicate strings (and the strings containing `search`), as
    /// `heaplens strings FILE [--search TEXT] --json`.
    Strings {
        /// Text to look for (case-sensitive).
        search: Option<String>,
        /// Carry the strings' text.
        values: bool,
    },
    /// Wasted collections, as `heaplens waste FILE --json`.
    Waste,
    /// Leak findings of the dump alone, as `heaplens findings FILE --json`.
    Findings,
    /// What the detectors saw in this dump, for a comparison in which it
    /// is the baseline: answered by [`ContentsDoc::Baseline`].
    Baseline,
    /// Leak findings of this dump against the baseline `base`, ranked by
    /// retained growth, as `heaplens findings BASE FILE --json`; the
    /// request carries the baseline's [`Baseline`] (the answer to
    /// [`ContentsQuery::Baseline`] from its worker).
    GrowthFindings {
        /// The baseline dump.
        base: DumpId,
    },
}

/// A comparison's baseline as the current dump's worker needs it for
/// growth findings: what the detectors saw in it (the CLI's first file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// Its file name (the findings document's `base_file`).
    pub file: String,
    /// Whether it was read whole (the document's `base_complete`).
    pub complete: bool,
    /// Its groups, type retained sizes and reachable bytes.
    pub observations: heaplens_findings::Observations,
}

impl ContentsQuery {
    /// The same question with or without values.
    pub fn with_values(&self, v: bool) -> ContentsQuery {
        let mut q = self.clone();
        match &mut q {
            ContentsQuery::Object { values, .. }
            | ContentsQuery::Instances { values, .. }
            | ContentsQuery::Strings { values, .. } => *values = v,
            ContentsQuery::Waste
            | ContentsQuery::Findings
            | ContentsQuery::Baseline
            | ContentsQuery::GrowthFindings { .. } => {}
        }
        q
    }
}

/// The answer to a [`ContentsQuery`].
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentsDoc {
    /// `object`.
    Object(ObjectDocument),
    /// `instances`.
    Instances(InstancesDocument),
    /// `strings`.
    Strings(StringsDocument),
    /// `waste`.
    Waste(WasteDocument),
    /// `findings`.
    Findings(FindingsDocument),
    /// A baseline's observations ([`ContentsQuery::Baseline`]); not a
    /// document of the result schema, never exported.
    Baseline(Box<Baseline>),
}

impl ContentsDoc {
    /// The document as JSON, as `heaplens … --json` prints it.
    pub fn to_json(&self) -> String {
        let s = match self {
            ContentsDoc::Object(d) => serde_json::to_string_pretty(d),
            ContentsDoc::Instances(d) => serde_json::to_string_pretty(d),
            ContentsDoc::Strings(d) => serde_json::to_string_pretty(d),
            ContentsDoc::Waste(d) => serde_json::to_string_pretty(d),
            ContentsDoc::Findings(d) => serde_json::to_string_pretty(d),
            ContentsDoc::Baseline(d) => serde_json::to_string_pretty(d),
        };
        s.expect("documents serialise")
    }

    /// Whether it carries values from the dump (its `values` field).
    pub fn values(&self) -> bool {
        match self {
            ContentsDoc::Object(d) => d.values,
            ContentsDoc::Instances(d) => d.values,
            ContentsDoc::Strings(d) => d.values,
            ContentsDoc::Waste(d) => d.values,
            // Type, method and static fields' names, and the duplicated
            // strings' text when there is such a finding.
            ContentsDoc::Findings(d) => d.values,
            // Its details (the duplicated strings' text) stay between the
            // workers and the page.
            ContentsDoc::Baseline(_) => false,
        }
    }
}

/// A dump of the session, named by the page.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct DumpId(pub u32);

/// One request and what answers it (progress, result, failure), so one
/// operation can be cancelled and late answers to a cancelled one dropped.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct OpId(pub u32);

/// True for a file the page sends as a module file rather than a dump: a
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

/// Page → worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Request {
    /// Open the `File` posted beside this request (as `file`) as `dump`.
    /// The `File`s posted as `modules` (the `.dll`/`.exe` files dropped with
    /// the dump) name the types of dumps that lack their assemblies'
    /// images, as the CLI's `--modules` does. Answered by
    /// [`Response::Progress`], then [`Response::Opened`] or
    /// [`Response::Failed`].
    Open {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// Test knob: wait this long at every progress report, so a test
        /// can see (and cancel) a read of a small file. The page sets it
        /// from `#…&e2e-slow-progress=MS`; 0 otherwise.
        #[serde(default, skip_serializing_if = "is_zero")]
        slow_progress_ms: u32,
        /// The unpacked copy of the archive kept by an earlier open: the
        /// dump is read from it (the archive, when posted too, is not
        /// read; it is unpacked again only when the copy cannot be
        /// opened).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kept: Option<KeptCopy>,
        /// Test knob: read with this memory cap in bytes instead of the
        /// worker's, so a test can see a small dump not fit. The page sets
        /// it from `?e2e-memory-cap=BYTES`; `None` otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memory_cap: Option<u64>,
        /// Test knob: walk the heap with this many walker workers instead
        /// of as many as `navigator.hardwareConcurrency` gives
        /// ([`crate::walkers::walker_count`]). The page sets it from
        /// `?e2e-walkers=N`; `None` otherwise.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        walkers: Option<u32>,
        /// The `blob:` URL of the engine's loader, which the engine worker
        /// starts its walker workers from (so they run under the page's
        /// Content-Security-Policy too); `None`: the engine walks the heap
        /// itself.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        loader: Option<String>,
    },
    /// To a walker worker (started by an engine worker): walk run `run` of
    /// the plan posted beside this request (as `plan`, a `Uint8Array` of
    /// `heaplens_clr::walk::runs::WalkPlan::to_bytes`) over the `File`
    /// posted as `file` ([`heaplens_snapshot::walk_run`]). Answered by
    /// [`Response::WalkProgress`], then [`Response::Walked`] or
    /// [`Response::Failed`].
    Walk {
        /// The run.
        run: u32,
        /// As for [`Request::Open`].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        memory_cap: Option<u64>,
        /// As for [`Request::Open`] (the open's, so a test can cancel a
        /// walk of a small file while it runs).
        #[serde(default, skip_serializing_if = "is_zero")]
        slow_progress_ms: u32,
    },
    /// Compute the retained sizes of an open dump's types (and the shortest
    /// paths from the roots the details need). Answered by
    /// [`Response::Retained`] or [`Response::Failed`].
    Analyse {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// As for [`Request::Open`].
        #[serde(default, skip_serializing_if = "is_zero")]
        slow_progress_ms: u32,
    },
    /// Why the objects of one row of a dump's type table are alive.
    /// Answered by [`Response::Detail`] or [`Response::Failed`].
    Detail {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// The row's id (`StatsDocument::types[…].id`).
        type_id: TypeId,
    },
    /// Compare two dumps from their `stats` documents (every row); any
    /// worker answers, holding either dump or none. Answered by
    /// [`Response::Diff`] or [`Response::Failed`].
    Diff {
        /// The operation.
        op: OpId,
        /// The earlier dump's statistics.
        base: Box<StatsDocument>,
        /// The later dump's statistics.
        current: Box<StatsDocument>,
        /// Each dump's retained bytes per name (base, current), once both
        /// are analysed: the comparison is then ordered by retained growth.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retained: Option<Box<(RetainedByName, RetainedByName)>>,
    },
    /// An open dump's types grouped. Answered by [`Response::Groups`] or
    /// [`Response::Failed`].
    Groups {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// What by.
        by: GroupKind,
    },
    /// An open dump's type table with `folds` folded into their
    /// referrers, once analysed. Answered by [`Response::Folded`] or
    /// [`Response::Failed`].
    Fold {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// What to fold.
        folds: Folds,
    },
    /// Compare two dumps' groups (each from [`Response::Groups`]); any
    /// worker answers. Answered by [`Response::DiffGroups`].
    DiffGroups {
        /// The operation.
        op: OpId,
        /// The earlier dump's groups.
        base: Box<GroupTable>,
        /// The later dump's groups.
        current: Box<GroupTable>,
    },
    /// The differential flame graph of two dumps from their flame
    /// documents (of one measure); any worker answers. Answered by
    /// [`Response::DiffFlame`] or [`Response::Failed`].
    DiffFlame {
        /// The operation.
        op: OpId,
        /// The earlier dump's flame graph.
        base: Box<FlameDocument>,
        /// The later dump's.
        current: Box<FlameDocument>,
        /// The earlier dump's format (`stats.format`), for the naming rule.
        base_format: String,
        /// The later dump's format.
        current_format: String,
    },
    /// Object contents of an open dump (the inspector, a type's
    /// instances, duplicate strings, wasted collections). Answered by
    /// [`Response::Contents`] or [`Response::Failed`] (a `.gcdump` holds
    /// no contents: [`ErrorKind::NoContents`]).
    Contents {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// The question.
        query: ContentsQuery,
        /// For [`ContentsQuery::GrowthFindings`]: the baseline.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baseline: Option<Box<Baseline>>,
    },
    /// Forget a dump, freeing its memory.
    Close {
        /// The dump.
        dump: DumpId,
    },
    /// Benchmark: read the posted `File` from start to end in `chunk`-byte
    /// slices and do nothing else (the raw File API rate).
    BenchRead {
        /// Slice size in bytes.
        chunk: u32,
    },
    /// Benchmark: read the posted `File` (a dump) whole into memory, then
    /// open it and run the whole analysis as [`Request::Open`] and
    /// [`Request::Retained`] do, on one thread, timing only the compute —
    /// no File API reads and no documents posted — to compare with the
    /// native `analysis_memory` benchmark on the same file.
    BenchCompute,
}

/// The versions a worker speaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`] of the worker.
    pub protocol: u32,
    /// The result schema's version the worker writes.
    pub schema_version: u32,
    /// The heaplens the worker was built from.
    pub heaplens_version: String,
}

impl Hello {
    /// This build's versions.
    pub fn current() -> Hello {
        Hello {
            protocol: PROTOCOL_VERSION,
            schema_version: SCHEMA_VERSION,
            heaplens_version: HEAPLENS_VERSION.to_owned(),
        }
    }

    /// Whether this page can use a worker that says `self`: the same
    /// protocol, and documents of a schema version this page reads
    /// ([`Header::check`]). The error says both versions and what to do.
    pub fn check(&self) -> Result<(), EngineError> {
        let mine = Hello::current();
        let schema = Header {
            schema_version: self.schema_version,
            heaplens_version: Some(self.heaplens_version.clone()),
            document: None,
        }
        .check();
        if self.protocol == mine.protocol && schema.is_ok() {
            return Ok(());
        }
        let why = match schema {
            Err(e) if self.protocol == mine.protocol => format!(" ({e})"),
            _ => String::new(),
        };
        Err(EngineError::new(
            ErrorKind::Version,
            format!(
                "the analysis engine is heaplens {} (protocol {}, schema {}) and this page is \
                 heaplens {} (protocol {}, schema {}): they come from different builds{why}. \
                 Reload the page; if a cached copy of the engine is in the way, reload it \
                 bypassing the cache.",
                self.heaplens_version,
                self.protocol,
                self.schema_version,
                mine.heaplens_version,
                mine.protocol,
                mine.schema_version
            ),
        ))
    }
}

/// Worker → page.
// Messages live only between deserialising and handling them: the size of
// the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Response {
    /// The worker has started and takes requests (messages posted earlier
    /// are lost, so the page waits for this); its versions.
    Hello(Hello),
    /// An operation is under way.
    Progress {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// How far it has got.
        progress: ProgressReport,
    },
    /// A dump was opened.
    Opened {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// Its overview and type statistics (every row, by bytes).
        stats: Box<StatsDocument>,
        /// How the worker read it.
        read: ReadReport,
    },
    /// A dump whose graph does not fit in the worker's memory (its open
    /// refused with code `over_budget`) was read again without it: its
    /// objects counted per type, every object, garbage included
    /// (`heaplens stats --all-objects`). The dump is not open in the
    /// worker: nothing else can be asked of it.
    Counted {
        /// The dump.
        dump: DumpId,
        /// The operation (the open's).
        op: OpId,
        /// The counts; `reason` says why the graph was not read, with the
        /// numbers.
        counts: Box<heaplens_results::counts::CountsDocument>,
        /// How the worker read it.
        read: ReadReport,
    },
    /// Retained sizes of a dump's types. Rows join the type table by id; a
    /// type with no reachable object has none.
    Retained {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// Every type's retained size and the largest objects.
        retained: Box<RetainedDocument>,
        /// The inclusive and retained columns, the flame graphs and the
        /// retained bytes per name.
        answers: Box<Answers>,
        /// Milliseconds the analysis took.
        ms: f64,
    },
    /// Answer to [`Request::Detail`].
    Detail {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// The row asked about.
        type_id: TypeId,
        /// Why its objects are alive.
        detail: Box<RootsDocument>,
    },
    /// Answer to [`Request::Diff`].
    Diff {
        /// The operation.
        op: OpId,
        /// The comparison.
        diff: Box<DiffDocument>,
    },
    /// Answer to [`Request::Groups`].
    Groups {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// The groups.
        groups: Box<GroupTable>,
    },
    /// Answer to [`Request::Fold`].
    Folded {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// What was folded.
        folds: Folds,
        /// The `stats` document with the folds (`heaplens stats --fold
        /// PATTERN --fold-percent PERCENT --retained --json`): the rows
        /// left, each with `fold_bytes`/`fold_count`.
        stats: Box<StatsDocument>,
    },
    /// Answer to [`Request::DiffFlame`].
    DiffFlame {
        /// The operation.
        op: OpId,
        /// The differential flame graph.
        flame: Box<FlameDocument>,
    },
    /// Answer to [`Request::DiffGroups`].
    DiffGroups {
        /// The operation.
        op: OpId,
        /// The groups compared.
        groups: Box<DiffGroupTable>,
    },
    /// Answer to [`Request::Contents`].
    Contents {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// The question.
        query: ContentsQuery,
        /// The answer.
        doc: Box<ContentsDoc>,
    },
    /// An operation failed (or was cancelled: [`ErrorKind::Cancelled`]).
    Failed {
        /// The dump it was about, if any.
        dump: Option<DumpId>,
        /// The operation, if the failure belongs to one.
        op: Option<OpId>,
        /// What went wrong.
        error: EngineError,
    },
    /// A walker worker's run under way ([`Request::Walk`]).
    WalkProgress {
        /// The run.
        run: u32,
        /// Bytes of the run's heap walked.
        done: u64,
        /// Bytes the walker read from the file so far.
        bytes_read: u64,
    },
    /// A walker worker's run walked: its result is the `ArrayBuffer`
    /// posted beside this answer (as `result`, transferred), for
    /// `heaplens_clr::walk::runs::Join::add`.
    Walked {
        /// The run.
        run: u32,
        /// Bytes of the result.
        len: u64,
        /// Bytes the walker read from the file.
        bytes_read: u64,
    },
    /// Answer to [`Request::BenchRead`].
    BenchRead {
        /// Bytes read.
        bytes: u64,
        /// Milliseconds spent.
        ms: f64,
    },
    /// Answer to [`Request::BenchCompute`].
    BenchCompute {
        /// Graph nodes of the opened dump.
        nodes: u64,
        /// Milliseconds to open it from memory (to the type table).
        open_ms: f64,
        /// Milliseconds of the whole analysis after the open.
        analyse_ms: f64,
    },
}

/// What kind of failure, so the page says what it means and what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// Not a dump heaplens reads (unknown content, an archive holding no
    /// dump or of a kind not unpacked, a format or runtime not read yet).
    NotReadable,
    /// A dump whose bytes are damaged or cut short.
    Damaged,
    /// A dump that lacks what the analysis needs (no .NET runtime, no GC
    /// heap, no type data, a GC in progress).
    Incomplete,
    /// The browser could not read the file.
    ReadFailed,
    /// The user cancelled the operation.
    Cancelled,
    /// The worker ran out of memory.
    OutOfMemory,
    /// The engine hit a bug (a panic).
    EngineBug,
    /// The worker could not start, or stopped.
    WorkerFailed,
    /// The worker is of another version than the page.
    Version,
    /// A message one side did not understand.
    Protocol,
    /// No such dump or type (the page asked about something gone).
    NotFound,
    /// The dump holds no object contents (a `.gcdump`: objects, sizes and
    /// references only), or they could not be read.
    NoContents,
}

impl ErrorKind {
    /// A heading for the failure of `what` (a file name).
    pub fn title(self, what: &str) -> String {
        match self {
            ErrorKind::NotReadable => format!("heaplens does not read {what}"),
            ErrorKind::Damaged => format!("{what} is damaged"),
            ErrorKind::Incomplete => format!("{what} lacks what the analysis needs"),
            ErrorKind::ReadFailed => format!("The browser could not read {what}"),
            ErrorKind::Cancelled => format!("Stopped reading {what}"),
            ErrorKind::OutOfMemory => format!("{what} needs more memory than this tab has"),
            ErrorKind::EngineBug => format!("The analysis of {what} stopped unexpectedly"),
            ErrorKind::WorkerFailed => "The analysis engine stopped".to_owned(),
            ErrorKind::Version => "The analysis engine is of another version".to_owned(),
            ErrorKind::Protocol => {
                "The page and its engine do not understand each other".to_owned()
            }
            ErrorKind::NotFound => format!("{what} is no longer open"),
            ErrorKind::NoContents => format!("{what} holds no object contents"),
        }
    }

    /// What the user can do about it, when there is something to say.
    pub fn advice(self) -> Option<&'static str> {
        match self {
            ErrorKind::NotReadable => Some(
                "heaplens reads .gcdump files, Linux core dumps and Windows minidumps of .NET \
                 processes, also inside a .zip (Kudu's download), .gz or .zst, opened as they \
                 are. An archive must hold one of them.",
            ),
            ErrorKind::Damaged => Some(
                "The file may be cut short (a download or copy that did not finish) or damaged. \
                 The message says where.",
            ),
            ErrorKind::OutOfMemory => Some(
                "heaplens gives each dump's engine up to 4 GB of memory in the browser (the \
                 most a browser gives WebAssembly); the message says what this dump needs. \
                 The command-line heaplens reads dumps of any size: heaplens stats FILE.",
            ),
            ErrorKind::EngineBug => Some(
                "This is a bug in heaplens: the file may be damaged in a way it does not \
                 handle yet. The other dumps are not affected.",
            ),
            ErrorKind::Version | ErrorKind::Protocol => {
                Some("Reload the page (bypassing the cache) so the page and its engine match.")
            }
            _ => None,
        }
    }

    /// The kind of an engine's open error, from its stable name
    /// (`heaplens_snapshot::OpenError::kind`).
    pub fn of_open_error(code: &str) -> ErrorKind {
        match code {
            "unknown_format"
            | "compressed"
            | "no_dump_in_archive"
            | "unsupported_archive"
            | "too_deep"
            | "not_supported_yet"
            | "unsupported_runtime" => ErrorKind::NotReadable,
            "no_runtime" | "no_heap" | "no_type_data" | "no_gc_info" | "gc_in_progress" => {
                ErrorKind::Incomplete
            }
            "cancelled" => ErrorKind::Cancelled,
            "read_failed" => ErrorKind::ReadFailed,
            "over_budget" => ErrorKind::OutOfMemory,
            // damaged_*, truncated, truncated_gcdump, corrupt_runtime_data,
            // clr_read_failed, walker_failed (a walker worker's run or its
            // join), and any reason this page does not know yet.
            _ => ErrorKind::Damaged,
        }
    }
}

/// A failure as the page shows it: its kind, the engine's own name for it
/// when it has one, and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineError {
    /// What kind.
    pub kind: ErrorKind,
    /// The engine's stable name of the reason (`damaged_gcdump`, …), when
    /// the engine gave one.
    #[serde(default)]
    pub code: Option<String>,
    /// What went wrong, for people.
    pub message: String,
}

impl EngineError {
    /// An error of `kind`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> EngineError {
        EngineError {
            kind,
            code: None,
            message: message.into(),
        }
    }

    /// The user cancelled.
    pub fn cancelled() -> EngineError {
        EngineError::new(ErrorKind::Cancelled, "cancelled")
    }
}

/// What a progress report's `done` and `total` count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Bytes (of a file or of a heap).
    Bytes,
    /// Objects (nodes of the graph).
    Objects,
    /// Nothing is counted.
    None,
}

/// A phase of reading a dump or analysing it: the engine's
/// (`heaplens_graph::Phase`, with the same units and words), and the
/// worker's own start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The worker got the file and starts.
    Starting,
    /// Unpacking the archive the dump came in (bytes of compressed input).
    Unpacking,
    /// Reading the objects of a `.gcdump` (objects).
    ReadingObjects,
    /// Finding the GC heap in a dump (no unit).
    FindingHeap,
    /// Walking the objects of the heap's segments (bytes of heap).
    ReadingHeap,
    /// Resolving every object's references (objects).
    FollowingReferences,
    /// The shortest path from a root to every object (objects).
    FindingRoots,
    /// PerfView's spanning tree of the heap (objects).
    SpanningTree,
    /// Dominators and retained sizes (objects).
    RetainedSizes,
    /// A flame graph's tree of type paths (objects).
    FlameGraph,
    /// Key retention paths of a type (objects).
    KeyPaths,
    /// Reading every live string's text for duplicates (objects).
    ReadingStrings,
    /// Measuring collections and arrays for waste (objects).
    MeasuringCollections,
}

impl Phase {
    /// The engine's phase it stands for (`None` for the worker's own
    /// start): units and words are the engine's, never a copy.
    pub fn engine(self) -> Option<heaplens_graph::Phase> {
        use heaplens_graph::Phase as E;
        Some(match self {
            Phase::Starting => return None,
            Phase::Unpacking => E::Unpacking,
            Phase::ReadingObjects => E::ReadingObjects,
            Phase::FindingHeap => E::FindingHeap,
            Phase::ReadingHeap => E::ReadingHeap,
            Phase::FollowingReferences => E::FollowingReferences,
            Phase::FindingRoots => E::FindingRoots,
            Phase::SpanningTree => E::SpanningTree,
            Phase::RetainedSizes => E::RetainedSizes,
            Phase::FlameGraph => E::FlameGraph,
            Phase::KeyPaths => E::KeyPaths,
            Phase::ReadingStrings => E::ReadingStrings,
            Phase::MeasuringCollections => E::MeasuringCollections,
        })
    }

    /// What its reports count (the engine's unit).
    pub fn unit(self) -> Unit {
        use heaplens_graph::Unit as E;
        match self.engine().map(heaplens_graph::Phase::unit) {
            Some(E::Bytes) => Unit::Bytes,
            Some(E::Objects) => Unit::Objects,
            Some(E::None) | None => Unit::None,
        }
    }

    /// What it does, in a user's words (the engine's words).
    pub fn words(self) -> &'static str {
        self.engine()
            .map_or("starting", heaplens_graph::Phase::words)
    }
}

/// The engine's phase (`heaplens_graph::Phase`) as messages carry it.
impl From<heaplens_graph::Phase> for Phase {
    fn from(p: heaplens_graph::Phase) -> Phase {
        use heaplens_graph::Phase as E;
        match p {
            E::Unpacking => Phase::Unpacking,
            E::ReadingObjects => Phase::ReadingObjects,
            E::FindingHeap => Phase::FindingHeap,
            E::ReadingHeap => Phase::ReadingHeap,
            E::FollowingReferences => Phase::FollowingReferences,
            E::FindingRoots => Phase::FindingRoots,
            E::SpanningTree => Phase::SpanningTree,
            E::RetainedSizes => Phase::RetainedSizes,
            E::FlameGraph => Phase::FlameGraph,
            E::KeyPaths => Phase::KeyPaths,
            E::ReadingStrings => Phase::ReadingStrings,
            E::MeasuringCollections => Phase::MeasuringCollections,
        }
    }
}

/// How far an operation has got.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressReport {
    /// The engine's current phase.
    pub phase: Phase,
    /// [`Phase::unit`]s of the phase done.
    pub done: u64,
    /// Units of the phase in all (0 if unknown).
    pub total: u64,
    /// Furthest offset of the file read so far.
    pub position: u64,
    /// Bytes read from the file so far (re-reads count again).
    pub bytes_read: u64,
    /// Size of the file.
    pub file_size: u64,
    /// Milliseconds since the operation started.
    pub elapsed_ms: f64,
    /// The worker's wasm memory in bytes (so the page can tell running
    /// out of memory from a bug when a worker stops).
    #[serde(default)]
    pub memory: u64,
    /// While an archive is unpacked: what its scratch file in the
    /// browser's storage holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scratch: Option<ScratchReport>,
    /// Walker workers walking the heap with the engine worker (0: it
    /// walks the heap itself); then `done` of [`Phase::ReadingHeap`] is
    /// their bytes walked together.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub walkers: u32,
}

/// The scratch file an archive is unpacked into, while it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScratchReport {
    /// Bytes written into it so far.
    pub written: u64,
    /// Room the browser said was left for the page when unpacking began.
    pub free: Option<u64>,
}

impl ProgressReport {
    /// The share of the work done, 0 to 1: of the phase when it counts,
    /// else of the file read.
    pub fn fraction(&self) -> f64 {
        let f = if self.total > 0 {
            self.done as f64 / self.total as f64
        } else if self.file_size > 0 {
            self.position as f64 / self.file_size as f64
        } else {
            0.0
        };
        f.clamp(0.0, 1.0)
    }
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
    /// Bytes unpacking wrote into the browser's storage (the scratch
    /// file's size: every archive of the input unpacked once; 0 for a dump
    /// read as it is or from a kept copy).
    #[serde(default)]
    pub unpacked_bytes: u64,
    /// Size of the worker's wasm memory after opening, in bytes.
    pub wasm_memory: u64,
    /// Memory the heap graph takes in the worker, in bytes.
    pub graph_memory: u64,
    /// Module files given with the dump.
    pub module_files: u32,
    /// Where the dump's unpacked copy is, when it came in an archive that
    /// was unpacked into the browser's storage (or was read from a copy
    /// kept there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unpacked_copy: Option<UnpackedCopy>,
    /// Walker workers that walked the heap (0: the engine worker walked
    /// it itself).
    #[serde(default)]
    pub walkers: u32,
    /// With walker workers: milliseconds of the first read, up to the
    /// plan of the walk.
    #[serde(default)]
    pub plan_ms: f64,
    /// With walker workers: milliseconds from the plan to the last
    /// walker's result.
    #[serde(default)]
    pub walk_ms: f64,
}

/// The unpacked copy of an archive's dump in the page's origin-private
/// file system, while the dump is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnpackedCopy {
    /// The file's name there.
    pub file: String,
    /// Where the dump's bytes start in it.
    pub start: u64,
    /// How many they are.
    pub len: u64,
    /// Bytes the file takes (an archive in an archive leaves both
    /// unpacked in it).
    pub bytes: u64,
    /// The dump was read from a copy kept by an earlier open: the archive
    /// was not read.
    #[serde(default)]
    pub reused: bool,
}

/// An unpacked copy the user kept for a faster reopen: the `.json` beside
/// it in the origin-private file system holds this. A dropped file is the
/// same archive when its name, size and modification time are the
/// archive's (read from the `File`, nothing of its content).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KeptCopy {
    /// The unpacked copy, as the open that kept it had it (its fields at
    /// the top level of the `.json`, as before they were one struct; its
    /// `reused` is not read back: a reopen says it itself).
    #[serde(flatten)]
    pub copy: UnpackedCopy,
    /// The archive's file name.
    pub archive: String,
    /// The archive's size in bytes.
    pub archive_size: u64,
    /// The archive's modification time (ms since 1970).
    pub archive_modified_ms: f64,
    /// The dump's name in the archive (a zip entry), when it has one.
    #[serde(default)]
    pub entry: Option<String>,
    /// When it was kept (ms since 1970).
    pub kept_ms: f64,
}

impl KeptCopy {
    /// True when a file of this name, size and modification time is the
    /// archive this copy was unpacked from.
    pub fn is_of(&self, name: &str, size: u64, modified_ms: f64) -> bool {
        self.archive == name && self.archive_size == size && self.archive_modified_ms == modified_ms
    }
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
    fn requests_are_tagged_objects() {
        let r = Request::Open {
            dump: DumpId(3),
            op: OpId(7),
            slow_progress_ms: 0,
            kept: None,
            memory_cap: None,
            walkers: None,
            loader: None,
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v, serde_json::json!({"type": "open", "dump": 3, "op": 7}));
        assert_eq!(serde_json::from_value::<Request>(v).unwrap(), r);
        let r = Request::Open {
            dump: DumpId(3),
            op: OpId(7),
            slow_progress_ms: 0,
            kept: None,
            memory_cap: None,
            walkers: Some(2),
            loader: Some("blob:x".into()),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "open", "dump": 3, "op": 7, "walkers": 2, "loader": "blob:x"})
        );
        assert_eq!(serde_json::from_value::<Request>(v).unwrap(), r);
        let w = Request::Walk {
            run: 1,
            memory_cap: None,
            slow_progress_ms: 0,
        };
        let v = serde_json::to_value(&w).unwrap();
        assert_eq!(v, serde_json::json!({"type": "walk", "run": 1}));
        assert_eq!(serde_json::from_value::<Request>(v).unwrap(), w);
        // A walker's answer read with the result posted beside it (a field
        // the message does not name).
        let done = serde_json::json!({"type": "walked", "run": 1, "len": 9, "bytes_read": 4, "result": {}});
        assert_eq!(
            serde_json::from_value::<Response>(done).unwrap(),
            Response::Walked {
                run: 1,
                len: 9,
                bytes_read: 4
            }
        );
    }

    /// A kept copy is the archive's when name, size and modification time
    /// are all the same; its description reads back as written; an open
    /// request carries it, and one without it reads as before.
    #[test]
    fn kept_copies_match_name_size_and_time() {
        let k = KeptCopy {
            copy: UnpackedCopy {
                file: "heaplens-scratch-1-a.zip".into(),
                start: 0,
                len: 10,
                bytes: 10,
                reused: false,
            },
            archive: "a.zip".into(),
            archive_size: 4,
            archive_modified_ms: 1_700_000_000_000.0,
            entry: Some("w3wp.dmp".into()),
            kept_ms: 1.0,
        };
        assert!(k.is_of("a.zip", 4, 1_700_000_000_000.0));
        assert!(!k.is_of("a.zip", 5, 1_700_000_000_000.0));
        assert!(!k.is_of("b.zip", 4, 1_700_000_000_000.0));
        assert!(!k.is_of("a.zip", 4, 1_700_000_000_001.0));
        let json = serde_json::to_string(&k).unwrap();
        assert_eq!(serde_json::from_str::<KeptCopy>(&json).unwrap(), k);
        // The copy's fields are at the top level, as the descriptions kept
        // before they were one struct have them (without `reused`).
        let written_before = serde_json::json!({
            "file": "heaplens-scratch-1-a.zip", "start": 0, "len": 10, "bytes": 10,
            "archive": "a.zip", "archive_size": 4, "archive_modified_ms": 1_700_000_000_000.0,
            "entry": "w3wp.dmp", "kept_ms": 1.0,
        });
        assert_eq!(
            serde_json::from_value::<KeptCopy>(written_before.clone()).unwrap(),
            k
        );
        let mut now = written_before;
        now["reused"] = false.into();
        assert_eq!(serde_json::to_value(&k).unwrap(), now);
        let r = Request::Open {
            dump: DumpId(1),
            op: OpId(2),
            slow_progress_ms: 0,
            kept: Some(k.clone()),
            memory_cap: None,
            walkers: None,
            loader: None,
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["kept"]["archive"], "a.zip");
        assert_eq!(serde_json::from_value::<Request>(v).unwrap(), r);
        let old = serde_json::json!({"type": "open", "dump": 1, "op": 2});
        assert!(matches!(
            serde_json::from_value::<Request>(old).unwrap(),
            Request::Open { kept: None, .. }
        ));
    }

    /// A worker of this build is taken; one of another protocol or schema
    /// version is refused, and the message names both versions.
    #[test]
    fn workers_of_another_version_are_refused() {
        assert_eq!(Hello::current().check(), Ok(()));
        let other = Hello {
            protocol: PROTOCOL_VERSION + 1,
            ..Hello::current()
        };
        let e = other.check().unwrap_err();
        assert_eq!(e.kind, ErrorKind::Version);
        assert!(
            e.message
                .contains(&format!("protocol {}", PROTOCOL_VERSION + 1))
                && e.message.contains(&format!("protocol {PROTOCOL_VERSION}")),
            "{}",
            e.message
        );
        let older_schema = Hello {
            schema_version: 0,
            heaplens_version: "0.0.1".into(),
            ..Hello::current()
        };
        let e = older_schema.check().unwrap_err();
        assert!(e.message.contains("schema version 0"), "{}", e.message);
        // The JavaScript the loader posts when the engine cannot start reads
        // as a typed failure.
        let js = serde_json::json!({"type": "failed", "dump": null, "op": null,
            "error": {"kind": "worker_failed", "code": null, "message": "x"}});
        assert!(matches!(
            serde_json::from_value::<Response>(js).unwrap(),
            Response::Failed {
                error: EngineError {
                    kind: ErrorKind::WorkerFailed,
                    ..
                },
                ..
            }
        ));
    }

    #[test]
    fn engine_phases_and_errors_are_typed() {
        // Every engine phase travels and comes back as itself (its words
        // and unit are then the engine's); the worker's start is no
        // engine phase.
        for p in heaplens_graph::Phase::ALL {
            assert_eq!(Phase::from(p).engine(), Some(p), "{p:?}");
        }
        assert_eq!(Phase::Starting.engine(), None);
        assert_eq!(Phase::Starting.unit(), Unit::None);
        assert_eq!(
            ErrorKind::of_open_error("unknown_format"),
            ErrorKind::NotReadable
        );
        assert_eq!(
            ErrorKind::of_open_error("damaged_gcdump"),
            ErrorKind::Damaged
        );
        assert_eq!(
            ErrorKind::of_open_error("truncated_gcdump"),
            ErrorKind::Damaged
        );
        // An archive without a dump is not readable (nothing to read in
        // it), not damaged; a cut-short archive is damaged.
        assert_eq!(
            ErrorKind::of_open_error("no_dump_in_archive"),
            ErrorKind::NotReadable
        );
        assert_eq!(
            ErrorKind::of_open_error("truncated_archive"),
            ErrorKind::Damaged
        );
        assert!(!ErrorKind::NotReadable.advice().unwrap().contains("first"));
        assert_eq!(ErrorKind::of_open_error("no_heap"), ErrorKind::Incomplete);
        assert_eq!(ErrorKind::of_open_error("cancelled"), ErrorKind::Cancelled);
    }
}
