//! What a worker computes: opened snapshots and the documents of the
//! result schema ([`heaplens_results`]) the screens show. Plain Rust over
//! the engine, so it is built and tested natively too.

use crate::protocol::{
    Baseline, ContentsDoc, ContentsQuery, DumpId, EngineError, ErrorKind, Folds, ReadReport,
};
use heaplens_analysis::budget::{Analysis, MemoryBudget, OverBudget};
use heaplens_analysis::diff::DiffOptions;
use heaplens_analysis::dominators::{dominators, Dominators};
use heaplens_analysis::flame::{retained_flame, Flame};
use heaplens_analysis::keypaths::key_paths;
use heaplens_analysis::paths::{root_paths, RootPaths};
use heaplens_analysis::reach::Reachable;
use heaplens_analysis::retained::retained_sizes;
use heaplens_analysis::stats::{TypeGroups, TypeStats};
use heaplens_analysis::strings::{duplicate_strings, StringOptions};
use heaplens_analysis::waste::{collection_waste, WasteOptions};
use heaplens_bytes::ReadAt;
use heaplens_contents::{ContentsError, ObjectReader};
use heaplens_findings::{findings, observe, Heap, Observations};
use heaplens_graph::{Cancelled, NodeIndex, Progress, TypeIndex};
use heaplens_results::counts::CountsDocument;
use heaplens_results::diff::{
    diff_documents, diff_documents_retained, DiffDocument, RetainedByName,
};
use heaplens_results::findings::FindingsDocument;
use heaplens_results::flame::{flame_of, FlameDocument, FlameLimits, FlameMeasure};
use heaplens_results::groups::{DiffGroupTable, GroupKind, GroupTable};
use heaplens_results::instances::{InstancesDocument, InstancesOptions};
use heaplens_results::object::{ObjectDocument, ObjectOptions};
use heaplens_results::retained::{RetainedDocument, RetainedLimits};
use heaplens_results::roots::{RootsDocument, RootsLimits};
use heaplens_results::stats::{stats_of, StatsDocument};
use heaplens_results::strings::{StringsDocOptions, StringsDocument};
use heaplens_results::waste::WasteDocument;
use heaplens_results::TypeId;
use heaplens_snapshot::modules::ModuleSet;
use heaplens_snapshot::{OpenError, Snapshot};
use std::collections::HashMap;

/// What the detail screen shows of a type's root paths and referred-from
/// tree.
pub const DETAIL_LIMITS: RootsLimits = RootsLimits {
    // Shortest paths, each ending in a different chain of types.
    paths: 5,
    // Steps toward the roots the referred-from tree follows.
    depth: 24,
    // Children sent under each entry (the largest).
    children: 50,
    // Entries sent at most.
    entries: Some(4000),
};

/// Key retention paths the detail screen shows (`heaplens roots
/// --key-paths 10`).
pub const KEY_PATHS: usize = 10;

/// What the retained document holds: every type (the table's column) and
/// the largest objects.
pub const RETAINED_LIMITS: RetainedLimits = RetainedLimits {
    types: None,
    objects: 20,
};

/// Objects on a page of a type's instances.
pub const INSTANCES_PAGE: usize = 50;

/// Duplicate strings as the page asks for them: `heaplens strings`'
/// defaults (values with 2 copies or more, the 20 wasting most, 50
/// matches of a search).
pub fn string_options(search: Option<String>) -> StringOptions {
    StringOptions {
        min_copies: 2,
        top: 20,
        search: search.filter(|s| !s.is_empty()),
        search_limit: 50,
    }
}

/// Characters of each string the strings view shows (`heaplens strings`'
/// `--chars`).
pub const STRING_CHARS: usize = 80;

/// Wasted collections as the page asks for them: `heaplens waste`'s
/// defaults.
pub const WASTE_OPTIONS: WasteOptions = WasteOptions { top: 20, types: 20 };

/// What the landing page says the app takes: every format the engine
/// reads, from its registry.
pub fn accepts() -> String {
    let all: Vec<&str> = heaplens_snapshot::format::readable()
        .map(|f| f.description)
        .collect();
    match all.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}.", rest.join(", ")),
        Some((last, _)) => format!("{last}."),
        None => String::new(),
    }
}

/// One opened dump and what was derived from it.
pub struct Opened {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// The type statistics (rows in the engine's order: by bytes).
    pub stats: TypeStats,
    /// Its overview and type statistics as the page gets them.
    pub document: StatsDocument,
    /// How the worker read it (filled in by the worker).
    pub report: ReadReport,
    /// The graph's types of each row.
    row_types: HashMap<TypeId, Vec<TypeIndex>>,
    /// Shortest paths from the roots, once computed.
    pub paths: Option<RootPaths>,
    /// Retained sizes, once computed.
    pub retained: Option<RetainedDocument>,
    /// The flame graphs by retained and by inclusive size, once computed.
    flames: Option<(Flame, Flame)>,
    /// What the analysis answers beside the retained sizes, once computed.
    pub answers: Option<Answers>,
    /// The dominator tree, once computed (kept for the inspector's
    /// retained sizes and dominator chains: 12 bytes an object).
    pub dom: Option<Dominators>,
    /// The dump's bytes, for object contents (the worker's File reader, or
    /// the unpacked copy of an archive's dump; none: contents cannot be
    /// read).
    pub source: Option<Box<dyn ReadAt>>,
    /// The memory the analyses may use (the session's; none natively).
    pub budget: MemoryBudget,
    /// What the leak detectors saw, once run (the dump's findings, its
    /// observations as a comparison's baseline and its growth findings all
    /// start from them).
    observations: Option<Observations>,
}

/// What [`Opened::analyse`] derives beside the retained sizes: the
/// documents the type table, the flame graph and the comparison's retained
/// growth show.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Answers {
    /// The `stats` document (every row) with PerfView's `inc`/`inc_count`
    /// and `retained_bytes` per type and their totals — `heaplens stats
    /// --inclusive --retained --json`.
    pub stats: StatsDocument,
    /// The flame graph by retained size (`heaplens flame --json`).
    pub retained_flame: FlameDocument,
    /// The flame graph by PerfView's inclusive size (`heaplens flame --by
    /// inclusive --json`).
    pub inclusive_flame: FlameDocument,
    /// Retained bytes per type name, for a comparison by retained growth.
    pub by_name: RetainedByName,
}

impl Opened {
    /// Derives the documents from a snapshot.
    pub fn new(snapshot: Snapshot, file_name: &str, file_size: u64) -> Self {
        let g = &snapshot.graph;
        let stats = stats_of(&snapshot);
        let document = StatsDocument::build_all(file_name, file_size, &snapshot, &stats);
        let groups = TypeGroups::of(g);
        let mut row_types: HashMap<TypeId, Vec<TypeIndex>> = stats
            .rows
            .iter()
            .map(|r| (TypeId(r.id), Vec::new()))
            .collect();
        for t in 0..g.types().len() as TypeIndex {
            if let Some(types) = row_types.get_mut(&TypeId(groups.id_of(t))) {
                types.push(t);
            }
        }
        let report = ReadReport {
            format_name: snapshot.info.format.title.to_owned(),
            graph_memory: g.memory_bytes() as u64,
            ..ReadReport::default()
        };
        Opened {
            snapshot,
            stats,
            document,
            report,
            row_types,
            paths: None,
            retained: None,
            flames: None,
            answers: None,
            dom: None,
            source: None,
            budget: MemoryBudget::unlimited(),
            observations: None,
        }
    }

    /// Whether `analysis` fits in the budget, from the graph's counts.
    fn check_budget(&self, analysis: Analysis) -> Result<(), EngineError> {
        let g = &self.snapshot.graph;
        self.budget
            .check(analysis, g.node_count() as u64, g.edge_count() as u64)
            .map_err(|e| over_budget(&e))
    }

    /// The file's name.
    pub fn file_name(&self) -> &str {
        &self.document.header.file
    }

    /// Computes the shortest paths from the roots and the retained sizes
    /// (the dominator tree is dropped afterwards to save memory).
    ///
    /// Refused before it starts, with [`ErrorKind::OutOfMemory`] and the
    /// numbers (code `over_budget`), when what it would need does not fit
    /// in the budget; the type statistics stay as they are.
    pub fn analyse(&mut self, progress: &mut dyn Progress) -> Result<(), EngineError> {
        if self.retained.is_none() {
            self.check_budget(Analysis::Retained {
                paths_done: self.paths.is_some(),
                dominators_done: self.dom.is_some(),
            })?;
        }
        self.analyse_within(progress)
            .map_err(|Cancelled| EngineError::cancelled())
    }

    /// The steps one after another, each one's scratch freed before the
    /// next, in the order that keeps the peak lowest
    /// ([`heaplens_analysis::budget`]): PerfView's spanning tree first,
    /// while nothing else is kept (its frontier can hold a good part of the
    /// heap at once); then the dominator tree (kept), the flame graph by
    /// retained size and the retained sizes' document; the root paths
    /// (kept) last.
    fn analyse_within(&mut self, progress: &mut dyn Progress) -> Result<(), Cancelled> {
        let g = &self.snapshot.graph;
        let by_inclusive = match self.retained {
            None => Some(flame_of(&self.snapshot, FlameMeasure::Inclusive, progress)?),
            Some(_) => None,
        };
        if self.dom.is_none() {
            self.dom = Some(dominators(g, progress)?);
        }
        if let Some(by_inclusive) = by_inclusive {
            let dom = self.dom.as_ref().expect("computed above");
            let by_retained = retained_flame(g, dom, progress)?;
            let sizes = retained_sizes(g, dom);
            let document = RetainedDocument::build(
                self.file_name(),
                &self.snapshot,
                dom,
                &sizes,
                RETAINED_LIMITS,
            );
            drop(sizes);
            let mut stats = self.document.clone();
            stats.add_columns(g, &by_inclusive);
            stats.add_columns(g, &by_retained);
            let flame =
                |f: &Flame| FlameDocument::build(self.file_name(), g, f, FlameLimits::default());
            self.answers = Some(Answers {
                stats,
                retained_flame: flame(&by_retained),
                inclusive_flame: flame(&by_inclusive),
                by_name: RetainedByName::of(&self.snapshot, &self.stats, &by_retained),
            });
            self.flames = Some((by_retained, by_inclusive));
            self.retained = Some(document);
        }
        if self.paths.is_none() {
            self.paths = Some(root_paths(g, progress)?);
        }
        Ok(())
    }

    /// The type rows grouped by `by`, with PerfView's inclusive and the
    /// retained sizes once [`Opened::analyse`] has run — the `groups` of
    /// `heaplens stats --group BY --inclusive --retained --json`.
    pub fn groups(&self, by: GroupKind) -> GroupTable {
        let flames = self.flames.as_ref();
        GroupTable::build(
            &self.snapshot,
            &self.stats,
            by,
            flames.map(|f| &f.1),
            flames.map(|f| &f.0),
        )
    }

    /// The type table with `folds` folded into their referrers along
    /// PerfView's spanning tree — `heaplens stats --fold PATTERN
    /// --fold-percent PERCENT --inclusive --retained --json` — once
    /// [`Opened::analyse`] has run (else `None`). A pattern that is not a
    /// regular expression is a [`ErrorKind::Protocol`] error (the page
    /// checks it before asking).
    pub fn fold(&self, folds: &Folds) -> Option<Result<StatsDocument, EngineError>> {
        let (answers, flames) = (self.answers.as_ref()?, self.flames.as_ref()?);
        let re = match (!folds.pattern.is_empty())
            .then(|| regex::Regex::new(&folds.pattern))
            .transpose()
        {
            Ok(re) => re,
            Err(e) => {
                return Some(Err(EngineError::new(
                    ErrorKind::Protocol,
                    format!("the fold pattern is not a valid regular expression: {e}"),
                )))
            }
        };
        let mut doc = answers.stats.clone();
        doc.fold(
            &self.snapshot.graph,
            &flames.1,
            &answers.stats,
            |name| re.as_ref().is_some_and(|re| re.is_match(name)),
            re.as_ref().map(|_| folds.pattern.clone()),
            folds.min_percent,
        );
        Some(Ok(doc))
    }

    /// Answers a question about object contents with the document
    /// `heaplens` writes for it (computing the dominator tree first when
    /// the question needs it).
    pub fn contents(
        &mut self,
        query: &ContentsQuery,
        progress: &mut dyn Progress,
    ) -> Result<ContentsDoc, EngineError> {
        self.contents_against(query, None, progress)
    }

    /// [`Opened::contents`], with the baseline a
    /// [`ContentsQuery::GrowthFindings`] needs (the answer to
    /// [`ContentsQuery::Baseline`] from the baseline's worker).
    pub fn contents_against(
        &mut self,
        query: &ContentsQuery,
        baseline: Option<&Baseline>,
        progress: &mut dyn Progress,
    ) -> Result<ContentsDoc, EngineError> {
        let cancelled = |_: Cancelled| EngineError::cancelled();
        let wants_findings = matches!(
            query,
            ContentsQuery::Findings
                | ContentsQuery::Baseline
                | ContentsQuery::GrowthFindings { .. }
        );
        if (wants_findings
            || matches!(
                query,
                ContentsQuery::Object { .. } | ContentsQuery::Instances { .. }
            ))
            && self.dom.is_none()
        {
            self.check_budget(Analysis::Dominators)?;
            self.dom = Some(dominators(&self.snapshot.graph, progress).map_err(cancelled)?);
        }
        if wants_findings && self.paths.is_none() {
            self.paths = Some(root_paths(&self.snapshot.graph, progress).map_err(cancelled)?);
        }
        let file = self.document.header.file.clone();
        let snap = &self.snapshot;
        let g = &snap.graph;
        let no_source = || {
            ContentsError::NoContents(
                "the page could not find this dump's bytes in the archive it came in to read its \
                 objects: unpack it and add the dump itself"
                    .into(),
            )
        };
        const NO_FILE: &[u8] = &[];
        let reader = match &self.source {
            Some(src) => snap.object_reader(src.as_ref()),
            // An input without contents says so in its own words.
            None if snap.info.contents.is_none() => snap.object_reader(&NO_FILE),
            None => Err(no_source()),
        };
        let contents_error = |e: &ContentsError| match e {
            ContentsError::Cancelled => EngineError::cancelled(),
            e => EngineError::new(ErrorKind::NoContents, e.to_string()),
        };
        Ok(match query {
            ContentsQuery::Object { node, values } => {
                if node.0 as usize >= g.node_count() {
                    return Err(EngineError::new(
                        ErrorKind::NotFound,
                        format!("the dump has no object {}", node.0),
                    ));
                }
                ContentsDoc::Object(ObjectDocument::build(
                    &file,
                    snap,
                    node.0 as NodeIndex,
                    reader
                        .as_ref()
                        .map(|r| r as &dyn ObjectReader)
                        .map_err(|e| e.to_string()),
                    self.dom.as_ref(),
                    ObjectOptions {
                        values: *values,
                        ..ObjectOptions::default()
                    },
                ))
            }
            ContentsQuery::Instances {
                type_id,
                sort,
                offset,
                values,
            } => {
                let Some(types) = self.row_types.get(type_id) else {
                    return Err(EngineError::new(
                        ErrorKind::NotFound,
                        format!("the dump has no type {}", type_id.0),
                    ));
                };
                ContentsDoc::Instances(InstancesDocument::build(
                    &file,
                    snap,
                    types,
                    self.dom.as_ref(),
                    reader.as_ref().ok().map(|r| r as &dyn ObjectReader),
                    InstancesOptions {
                        sort: *sort,
                        offset: usize::try_from(*offset).unwrap_or(usize::MAX),
                        limit: INSTANCES_PAGE,
                        values: *values,
                    },
                ))
            }
            ContentsQuery::Strings { search, values } => {
                let reader = reader.map_err(|e| contents_error(&e))?;
                let live = Reachable::of(g);
                let opts = string_options(search.clone());
                let report = duplicate_strings(&reader, &|n| live.contains(n), &opts, progress)
                    .map_err(|e| contents_error(&e))?;
                ContentsDoc::Strings(StringsDocument::build(
                    &file,
                    snap,
                    &reader,
                    &report,
                    &opts,
                    StringsDocOptions {
                        values: *values,
                        chars: STRING_CHARS,
                    },
                ))
            }
            ContentsQuery::Waste => {
                let reader = reader.map_err(|e| contents_error(&e))?;
                let live = Reachable::of(g);
                let report =
                    collection_waste(&reader, &|n| live.contains(n), WASTE_OPTIONS, progress)
                        .map_err(|e| contents_error(&e))?;
                ContentsDoc::Waste(WasteDocument::build(&file, snap, &report))
            }
            ContentsQuery::Findings
            | ContentsQuery::Baseline
            | ContentsQuery::GrowthFindings { .. } => {
                let (Some(dom), Some(paths)) = (self.dom.as_ref(), self.paths.as_ref()) else {
                    return Err(EngineError::cancelled());
                };
                let base = match query {
                    ContentsQuery::GrowthFindings { .. } => Some(baseline.ok_or_else(|| {
                        EngineError::new(
                            ErrorKind::NotFound,
                            "growth findings need the baseline's observations",
                        )
                    })?),
                    _ => None,
                };
                let sizes = retained_sizes(g, dom);
                let mut heap = Heap::new(
                    g,
                    dom,
                    &sizes,
                    paths,
                    reader.as_ref().ok().map(|r| r as &dyn ObjectReader),
                );
                heap.finalization_registered =
                    snap.info.clr.as_ref().map(|c| c.finalization.registered);
                heap.areas = heaplens_results::findings::heap_areas(snap);
                let observed = match &self.observations {
                    Some(o) => o.clone(),
                    None => {
                        let o = observe(&heap);
                        self.observations = Some(o.clone());
                        o
                    }
                };
                if matches!(query, ContentsQuery::Baseline) {
                    return Ok(ContentsDoc::Baseline(Box::new(Baseline {
                        file,
                        complete: snap.info.coverage.is_complete(),
                        observations: observed,
                    })));
                }
                // As `heaplens findings BASE FILE`: the baseline's
                // observations joined to this dump's by key.
                let found = findings(&heap, &observed, base.map(|b| &b.observations));
                ContentsDoc::Findings(FindingsDocument::build(
                    &file,
                    snap,
                    &heap,
                    &observed,
                    base.map(|b| (b.file.as_str(), b.complete, &b.observations)),
                    &found,
                ))
            }
        })
    }

    /// Why the objects of row `id` are alive (computes the root paths first
    /// if [`Opened::analyse`] has not run, reporting to `progress`);
    /// `Ok(None)` for no such row.
    pub fn detail(
        &mut self,
        id: TypeId,
        progress: &mut dyn Progress,
    ) -> Result<Option<RootsDocument>, Cancelled> {
        let Some(types) = self.row_types.get(&id) else {
            return Ok(None);
        };
        if self.paths.is_none() {
            self.paths = Some(root_paths(&self.snapshot.graph, progress)?);
        }
        let Some(paths) = self.paths.as_ref() else {
            return Ok(None);
        };
        let mut doc = RootsDocument::build(
            &self.document.header.file,
            &self.snapshot,
            paths,
            types,
            DETAIL_LIMITS,
        );
        // With the dominator tree (the analysis keeps it), each key path's
        // retained bytes too: `heaplens roots --key-paths N --retained`.
        let g = &self.snapshot.graph;
        let sizes = self.dom.as_ref().map(|d| retained_sizes(g, d));
        let retained = self.dom.as_ref().zip(sizes.as_ref());
        let key = key_paths(g, paths, types, retained, progress)?;
        doc.add_key_paths(&self.snapshot, &key, KEY_PATHS);
        Ok(Some(doc))
    }
}

/// The comparison of two dumps from their `stats` documents: the engine's
/// per-type diff under its naming rule (names normalized when the dumps'
/// producers spell them differently), every changed type — the document
/// `heaplens diff --json` writes for the same files.
pub fn diff(base: &StatsDocument, current: &StatsDocument) -> Result<DiffDocument, EngineError> {
    diff_documents(base, current, DiffOptions::default(), None)
        .map_err(|e| EngineError::new(ErrorKind::Protocol, e.to_string()))
}

/// [`diff`] with each side's retained bytes per name: ordered by retained
/// growth, with Δ retained — `heaplens diff --by retained --json`.
pub fn diff_retained(
    base: (&StatsDocument, &RetainedByName),
    current: (&StatsDocument, &RetainedByName),
) -> Result<DiffDocument, EngineError> {
    diff_documents_retained(base, current, DiffOptions::default(), None)
        .map_err(|e| EngineError::new(ErrorKind::Protocol, e.to_string()))
}

/// Two dumps' groups compared, from each one's [`Opened::groups`] — the
/// `groups` of `heaplens diff --group BY --by retained --json`.
pub fn diff_groups(base: &GroupTable, current: &GroupTable) -> DiffGroupTable {
    DiffGroupTable::of_tables(base, current)
}

/// The differential flame graph of two dumps from their flame documents
/// (`base`, `current`, of one measure) and formats — `heaplens flame
/// --base BASE CURRENT --json` (by the same measure) for the same files.
pub fn diff_flame(
    base: &FlameDocument,
    current: &FlameDocument,
    base_format: &str,
    current_format: &str,
) -> Result<FlameDocument, EngineError> {
    let caps = |f: &str| {
        heaplens_snapshot::format::by_name(f)
            .map(|f| f.capabilities)
            .ok_or_else(|| EngineError::new(ErrorKind::Protocol, format!("unknown format {f:?}")))
    };
    let normalize = DiffOptions::default()
        .with_naming_rule(caps(base_format)?, caps(current_format)?)
        .normalize_names;
    let d = heaplens_results::flame::diff_of_documents(base, current, normalize);
    Ok(FlameDocument::build_diff(
        &base.file,
        &current.file,
        current.by,
        base.scaled || current.scaled,
        &d,
        FlameLimits::default(),
    ))
}

/// An engine error as the page shows it: its kind and stable name.
pub fn open_error(e: &OpenError) -> EngineError {
    EngineError {
        kind: ErrorKind::of_open_error(e.kind()),
        code: Some(e.kind().to_owned()),
        message: e.to_string(),
    }
}

/// True when `e` refused an open because the dump's graph does not fit in
/// the memory the engine may use: then the open read its type statistics
/// without the graph instead ([`Session::take_counts`]).
pub fn is_over_budget(e: &EngineError) -> bool {
    e.code.as_deref() == Some("over_budget")
}

/// What the page says of a dump read without its graph, after the refused
/// open's `message` (which has the numbers).
pub fn statistics_only_reason(message: &str) -> String {
    let message = message.trim_end();
    // The refusal ends by pointing at the command line: said again below.
    let message = message
        .strip_suffix("The command line reads it with the machine's memory (heaplens stats FILE).")
        .unwrap_or(message)
        .trim_end();
    // The engine's wording begins in lower case ("found a .NET runtime,
    // but …"): here it begins a paragraph.
    let mut chars = message.chars();
    let message: String = chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default();
    format!(
        "{message} So this page read the type statistics of every object on the heap instead, \
         garbage not yet collected included, without the references: retained sizes, roots, \
         root paths, the flame graph, object contents and findings need the command line \
         (heaplens stats FILE, heaplens findings FILE), which reads the dump with the \
         machine's memory."
    )
}

/// A worker's state: the dumps it holds (the page gives each dump a worker
/// of its own today; the session takes any number).
#[derive(Default)]
pub struct Session {
    dumps: HashMap<DumpId, Opened>,
    budget: MemoryBudget,
    /// The type statistics the last open read when the graph did not fit
    /// ([`Session::take_counts`]).
    counted: Option<CountsDocument>,
}

/// An analysis refused by the budget, as the page shows it.
pub fn over_budget(e: &OverBudget) -> EngineError {
    EngineError {
        kind: ErrorKind::OutOfMemory,
        code: Some("over_budget".to_owned()),
        message: e.to_string(),
    }
}

impl Session {
    /// A session whose analyses keep within `budget` (the worker's: its
    /// wasm memory cap).
    pub fn with_budget(budget: MemoryBudget) -> Session {
        Session {
            dumps: HashMap::new(),
            budget,
            counted: None,
        }
    }

    /// Opens `src` as `dump` (replacing a dump of that id; the old snapshot
    /// is dropped first so two never share the memory).
    pub fn open(
        &mut self,
        dump: DumpId,
        src: &dyn ReadAt,
        modules: &ModuleSet,
        file_name: &str,
        progress: &mut dyn Progress,
    ) -> Result<&mut Opened, EngineError> {
        self.open_with_scratch(dump, src, modules, None, file_name, progress, None)
    }

    /// [`Session::open`], unpacking an archive into `scratch` (the page's:
    /// the browser's private storage; `None`: none, so only a stored zip
    /// entry opens), a CLR heap read straight from `src` walked by
    /// `walkers` ([`heaplens_snapshot::Context::walkers`]; the page's
    /// walker workers, see [`crate::walkers`]).
    ///
    /// When the dump's graph does not fit in the budget ([`is_over_budget`]),
    /// the same read counts its objects per type without the graph — from
    /// the bytes the open read: an archive's unpacked copy, not unpacked
    /// again — and fails with the refusal; [`Session::take_counts`] gives
    /// the counts.
    #[allow(clippy::too_many_arguments)]
    pub fn open_with_scratch<'a>(
        &mut self,
        dump: DumpId,
        src: &dyn ReadAt,
        modules: &'a ModuleSet,
        scratch: Option<&'a mut dyn heaplens_archive::Scratch>,
        file_name: &str,
        progress: &'a mut dyn Progress,
        walkers: Option<&'a mut dyn heaplens_clr::Walkers>,
    ) -> Result<&mut Opened, EngineError> {
        self.dumps.remove(&dump);
        self.counted = None;
        let mut cx = heaplens_snapshot::Context::new(modules, progress);
        cx.scratch = scratch;
        cx.walkers = walkers;
        cx.memory = self.budget.limit();
        let read = heaplens_snapshot::open_or_count_in(
            heaplens_snapshot::format::Source::Local(src),
            &mut cx,
        )
        .map_err(|e| open_error(&e))?;
        let snapshot = match read {
            heaplens_snapshot::Read::Opened(snapshot) => *snapshot,
            heaplens_snapshot::Read::Counted { counts, refused } => {
                let refused = open_error(&refused);
                self.counted = Some(CountsDocument::build(
                    file_name,
                    src.len(),
                    &counts,
                    Some(statistics_only_reason(&refused.message)),
                ));
                return Err(refused);
            }
        };
        let mut opened = Opened::new(snapshot, file_name, src.len());
        opened.budget = self.budget;
        Ok(self.dumps.entry(dump).or_insert(opened))
    }

    /// Every later open and analysis within `budget` instead (a test
    /// knob: [`crate::protocol::Request::Open`]'s `memory_cap`).
    pub fn set_budget(&mut self, budget: MemoryBudget) {
        self.budget = budget;
    }

    /// The type statistics of the dump the last open refused for memory
    /// ([`is_over_budget`]), read without its graph in that open — what the
    /// page shows instead: `heaplens stats --all-objects --json`, with its
    /// `reason` saying why. Taken once; nothing is kept in the session.
    pub fn take_counts(&mut self) -> Option<CountsDocument> {
        self.counted.take()
    }

    /// A dump, mutably (to fill in measurements, run analyses).
    pub fn get_mut(&mut self, dump: DumpId) -> Option<&mut Opened> {
        self.dumps.get_mut(&dump)
    }

    /// Drops a dump.
    pub fn close(&mut self, dump: DumpId) {
        self.dumps.remove(&dump);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_graph::{GraphBuilder, NoProgress, RootKind, TypeInfo, TypeKind};
    use heaplens_results::diff::DiffStatus;

    fn ty(b: &mut GraphBuilder, name: &str) -> TypeIndex {
        b.add_type(TypeInfo {
            name: name.into(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        })
    }

    /// root(static) → A → B → C ; root(stack) → C2 (type C) ; D → C (D unrooted)
    fn graph() -> Snapshot {
        let mut b = GraphBuilder::new();
        let a = ty(&mut b, "A");
        let bb = ty(&mut b, "B");
        let c = ty(&mut b, "C");
        let d = ty(&mut b, "D");
        b.add_node(a, 10, 0x10, [1]).unwrap(); // 0
        b.add_node(bb, 20, 0x20, [2]).unwrap(); // 1
        b.add_node(c, 30, 0x30, []).unwrap(); // 2
        b.add_node(c, 30, 0x40, []).unwrap(); // 3
        b.add_node(d, 5, 0x50, [2]).unwrap(); // 4
        b.add_root(0, RootKind::Static, Some("Program.cache"));
        b.add_root(3, RootKind::Stack, None);
        Snapshot {
            graph: b.finish().unwrap(),
            info: gcdump_info(),
        }
    }

    /// A `.gcdump`'s info: every object counts, reachable or not.
    fn gcdump_info() -> heaplens_snapshot::SnapshotInfo {
        heaplens_snapshot::SnapshotInfo::new(heaplens_snapshot::format::by_name("gcdump").unwrap())
    }

    #[test]
    fn accepts_lists_the_formats_the_engine_reads() {
        let a = accepts();
        for f in heaplens_snapshot::format::FORMATS {
            assert_eq!(a.contains(f.description), f.is_readable(), "{a}");
        }
        assert!(a.contains(".gcdump") && a.contains("core dump"), "{a}");
        // The archives dumps are downloaded in, and what they need not hold.
        for s in [
            ".zip",
            "Kudu",
            ".gz",
            ".zst",
            "sos.dll",
            "mscordaccore.dll",
            "mscordacwks.dll",
        ] {
            assert!(a.contains(s), "{s}: {a}");
        }
        assert!(a.contains("not needed"), "{a}");
    }

    #[test]
    fn a_zipped_dump_opens_as_the_dump_with_where_it_came_from() {
        let Some(shared) = heaplens_corpus::shared_or_skip("heaplens-web archives") else {
            return;
        };
        let path = shared.join("samples/gcdump/perfview-test1-jscript-ie.gcdump");
        let bytes = std::fs::read(&path).unwrap();
        // A zip written here from the APPNOTE: one stored entry.
        let name = b"ie.gcdump";
        let mut crc = flate2::Crc::new();
        crc.update(&bytes);
        let mut zip = Vec::new();
        let local = |z: &mut Vec<u8>| {
            z.extend(0x0403_4b50u32.to_le_bytes());
            z.extend([20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
            z.extend(crc.sum().to_le_bytes());
            z.extend((bytes.len() as u32).to_le_bytes());
            z.extend((bytes.len() as u32).to_le_bytes());
            z.extend((name.len() as u16).to_le_bytes());
            z.extend(0u16.to_le_bytes());
            z.extend(name);
        };
        local(&mut zip);
        zip.extend(&bytes);
        let cd = zip.len() as u32;
        zip.extend(0x0201_4b50u32.to_le_bytes());
        zip.extend([20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0x21, 0]);
        zip.extend(crc.sum().to_le_bytes());
        zip.extend((bytes.len() as u32).to_le_bytes());
        zip.extend((bytes.len() as u32).to_le_bytes());
        zip.extend((name.len() as u16).to_le_bytes());
        zip.extend([0u8; 12]);
        zip.extend(0u32.to_le_bytes());
        zip.extend(name);
        let cd_len = zip.len() as u32 - cd;
        zip.extend(0x0605_4b50u32.to_le_bytes());
        zip.extend([0, 0, 0, 0, 1, 0, 1, 0]);
        zip.extend(cd_len.to_le_bytes());
        zip.extend(cd.to_le_bytes());
        zip.extend(0u16.to_le_bytes());
        let mut s = Session::default();
        let raw = s
            .open(
                DumpId(1),
                &bytes,
                &ModuleSet::new(),
                "ie.gcdump",
                &mut NoProgress,
            )
            .unwrap()
            .document
            .clone();
        // Stored: read in place, with no scratch space (the page gives its
        // own for what must be unpacked).
        let mut none = heaplens_archive::NoScratch("none here".into());
        let o = s
            .open_with_scratch(
                DumpId(1),
                &zip,
                &ModuleSet::new(),
                Some(&mut none),
                "ie.zip",
                &mut NoProgress,
                None,
            )
            .unwrap();
        let d = &o.document;
        assert_eq!(
            (d.objects, d.bytes, d.type_count),
            (raw.objects, raw.bytes, raw.type_count)
        );
        assert_eq!(d.types, raw.types);
        assert_eq!(d.header.file_bytes, zip.len() as u64);
        assert_eq!(d.header.archives.len(), 1);
        assert_eq!(d.header.archives[0].entry.as_deref(), Some("ie.gcdump"));
        assert_eq!(d.header.archives[0].unpacked_to, None);
    }

    fn row_id(o: &Opened, name: &str) -> TypeId {
        o.document.types.iter().find(|r| r.name == name).unwrap().id
    }

    /// A budget too small for the analysis refuses it with the typed
    /// error and the graph's numbers before it starts (no panic, no
    /// allocation attempted); the type table stays, and the same graph
    /// with room enough is analysed.
    #[test]
    fn a_tiny_budget_refuses_the_analysis_with_numbers() {
        // The graph has 5 objects and 3 references; the analysis needs
        // 32 bytes per object at its peak (heaplens_analysis::budget): 160
        // bytes, and 50 are left.
        let mut o = Opened::new(graph(), "x.gcdump", 100);
        o.budget = MemoryBudget::capped(1_000, || 950);
        let before = o.document.clone();
        let e = o.analyse(&mut NoProgress).unwrap_err();
        assert_eq!(e.kind, ErrorKind::OutOfMemory);
        assert_eq!(e.code.as_deref(), Some("over_budget"));
        for part in ["5 objects", "3 references", "type statistics"] {
            assert!(e.message.contains(part), "{part:?}: {}", e.message);
        }
        assert!(o.retained.is_none() && o.paths.is_none() && o.dom.is_none());
        assert_eq!(o.document, before);
        // The inspector's dominator tree (83 bytes) is refused the same way.
        let q = ContentsQuery::Object {
            node: heaplens_results::NodeId(0),
            values: false,
        };
        let e = o.contents(&q, &mut NoProgress).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("over_budget"));
        // 5 objects x 32 bytes = 160 bytes fit in 1,000 - 800.
        o.budget = MemoryBudget::capped(1_000, || 800);
        o.analyse(&mut NoProgress).unwrap();
        assert!(o.retained.is_some());
    }

    /// A core whose heap does not fit in the session's budget is refused
    /// by the open (before or during the walk) as out of memory, with the
    /// code `over_budget` and the numbers, not a crash; the same core
    /// opens without a cap. (The numbers against a computation by hand:
    /// `tests/clr_fixtures.rs`, `budget::*`.)
    #[test]
    fn a_heap_over_the_budget_is_refused_by_the_open() {
        let Some(shared) = heaplens_corpus::shared_or_skip("heaplens-web open budget") else {
            return;
        };
        let bytes =
            std::fs::read(shared.join("fixtures/linux-net8/phase1.withheap.core.zst")).unwrap();
        let open = |budget| {
            let mut s = Session::with_budget(budget);
            s.open(
                DumpId(1),
                &bytes,
                &ModuleSet::new(),
                "phase1.withheap.core.zst",
                &mut NoProgress,
            )
            .map(|o| o.document.objects)
        };
        for cap in [10_000, 200_000] {
            let e = open(MemoryBudget::capped(cap, || 0)).unwrap_err();
            assert_eq!(e.kind, ErrorKind::OutOfMemory, "{e:?}");
            assert_eq!(e.code.as_deref(), Some("over_budget"));
            for part in ["does not fit", " MB", "heaplens stats"] {
                assert!(e.message.contains(part), "{part:?}: {}", e.message);
            }
        }
        assert!(open(MemoryBudget::unlimited()).unwrap() > 0);
    }

    /// A core refused by the open for memory is read without its graph in
    /// the same open (what the worker then posts): every object counted,
    /// the full open's reachable ones and the unreachable ones it lists
    /// apart, Free apart; the reason keeps the refusal's numbers and says
    /// what needs the command line. The `.zst` is unpacked once: its
    /// scratch space holds one copy of the core.
    #[test]
    fn a_heap_over_the_budget_is_counted_without_its_graph() {
        let Some(shared) = heaplens_corpus::shared_or_skip("heaplens-web statistics only") else {
            return;
        };
        let path = shared.join("fixtures/linux-net8/phase1.withheap.core.zst");
        let bytes = std::fs::read(&path).unwrap();
        let core_bytes = std::fs::metadata(heaplens_corpus::unpacked(&path).unwrap())
            .unwrap()
            .len();
        let name = "phase1.withheap.core.zst";
        let mut s = Session::with_budget(MemoryBudget::capped(10_000, || 0));
        let room = 1 << 30;
        let mut scratch = heaplens_archive::MemoryScratch::new(room);
        let mut used = scratch.clone();
        let refused = s
            .open_with_scratch(
                DumpId(1),
                &bytes,
                &ModuleSet::new(),
                Some(&mut scratch),
                name,
                &mut NoProgress,
                None,
            )
            .map(|_| ())
            .unwrap_err();
        assert!(is_over_budget(&refused), "{refused:?}");
        assert_eq!(
            room - heaplens_archive::Scratch::available(&mut used).unwrap(),
            core_bytes,
            "bytes unpacked: the core once"
        );
        let counts = s.take_counts().unwrap();
        assert!(s.take_counts().is_none(), "taken once");
        let mut full = Session::default();
        let whole = &full
            .open(DumpId(2), &bytes, &ModuleSet::new(), name, &mut NoProgress)
            .unwrap()
            .document;
        let unreachable = whole.unreachable.unwrap();
        assert_eq!(counts.objects, whole.objects + unreachable.count);
        assert_eq!(counts.bytes, whole.bytes + unreachable.bytes);
        assert_eq!(counts.free, whole.free);
        assert_eq!(counts.header.file_bytes, bytes.len() as u64);
        assert_eq!(
            counts.header.archives.len(),
            1,
            "{:?}",
            counts.header.archives
        );
        let reason = counts.reason.as_deref().unwrap();
        assert!(reason.starts_with(char::is_uppercase), "{reason}");
        for part in ["does not fit", " MB", "every object", "command line"] {
            assert!(reason.contains(part), "{part:?}: {reason}");
        }
        assert!(!reason.contains("heaplens stats FILE)."), "{reason}");
        // An open that fits keeps no counts.
        assert!(full.take_counts().is_none());
    }

    /// A session's budget is every dump's it opens.
    #[test]
    fn a_session_gives_its_budget_to_its_dumps() {
        let Some(shared) = heaplens_corpus::shared_or_skip("heaplens-web budget") else {
            return;
        };
        let bytes =
            std::fs::read(shared.join("samples/gcdump/perfview-test1-jscript-ie.gcdump")).unwrap();
        let mut s = Session::with_budget(MemoryBudget::capped(10, || 0));
        let o = s
            .open(
                DumpId(2),
                &bytes,
                &ModuleSet::new(),
                "ie.gcdump",
                &mut NoProgress,
            )
            .unwrap();
        assert_eq!(o.budget.cap(), Some(10));
        let e = o.analyse(&mut NoProgress).unwrap_err();
        assert_eq!(e.code.as_deref(), Some("over_budget"));
    }

    #[test]
    fn table_detail_and_retained() {
        let mut o = Opened::new(graph(), "x.gcdump", 100);
        let t = &o.document;
        assert_eq!(t.types[0].name, "C");
        assert_eq!((t.types[0].count, t.types[0].bytes), (2, 60));
        assert_eq!(t.objects, 5);
        assert_eq!(
            (t.header.file.as_str(), t.header.file_bytes),
            ("x.gcdump", 100)
        );
        assert!(o.retained.is_none());
        o.analyse(&mut NoProgress).unwrap();
        let retained = o.retained.as_ref().unwrap().retained_by_id();
        // A holds B and, with D unrooted, the first C alone.
        assert_eq!(retained.get(&row_id(&o, "A")), Some(&60));
        assert_eq!(retained.get(&row_id(&o, "D")), None);
        let c = row_id(&o, "C");
        let d = o.detail(c, &mut NoProgress).unwrap().unwrap();
        assert_eq!(d.type_ids, [c]);
        assert_eq!(d.count, 2);
        // Paths from long-lived roots first (the static field's), then
        // the stack root's, which holds a C directly.
        assert_eq!(d.paths.len(), 2);
        assert_eq!(d.paths[1].root_kind.as_str(), "stack");
        assert_eq!(d.paths[1].steps.len(), 1);
        assert_eq!(d.paths[0].root_name.as_deref(), Some("Program.cache"));
        assert_eq!(d.paths[0].path, ["A", "B", "C"]);
        let ids: Vec<TypeId> = d.paths[0].steps.iter().map(|s| s.type_id).collect();
        assert_eq!(ids, [row_id(&o, "A"), row_id(&o, "B"), c]);
        // Referred from: the root entry is C itself; its children lead to
        // the roots.
        let rf = &d.referred_from;
        assert_eq!((rf.name.as_str(), rf.count), ("C", 2));
        let kids: Vec<&str> = rf.children.iter().map(|k| k.name.as_str()).collect();
        assert!(kids.contains(&"B"), "{kids:?}");
        assert!(
            kids.iter().any(|k| k.starts_with("[stack root]")),
            "{kids:?}"
        );
        assert!(o.detail(TypeId(99), &mut NoProgress).unwrap().is_none());
    }

    /// The bug this schema fixed: two types with one name and module (two
    /// MethodTables) each showed the sum of both retained sizes, because
    /// retained sizes were joined to rows by (name, module). Joined by id,
    /// each row has its own; the expected values are worked out by hand.
    #[test]
    fn two_types_of_one_name_and_module_keep_their_own_retained_sizes() {
        let mut b = GraphBuilder::new();
        let m = b.module("App.dll");
        let mut cache = |mt: u64| {
            b.add_type(TypeInfo {
                name: "App.Cache`1".into(),
                module: Some(m),
                kind: TypeKind::Object,
                method_table: mt,
            })
        };
        let (c1, c2) = (cache(0x1000), cache(0x2000));
        let blob = ty(&mut b, "System.Byte[]");
        b.add_node(c1, 24, 0x10, [2]).unwrap(); // 0: Cache<Int32> → 1,000 B
        b.add_node(c2, 24, 0x20, [3]).unwrap(); // 1: Cache<String> → 5,000 B
        b.add_node(blob, 1000, 0x30, []).unwrap(); // 2
        b.add_node(blob, 5000, 0x40, []).unwrap(); // 3
        b.add_root(0, RootKind::Static, Some("App.a"));
        b.add_root(1, RootKind::Static, Some("App.b"));
        let snap = Snapshot {
            graph: b.finish().unwrap(),
            info: gcdump_info(),
        };
        let mut o = Opened::new(snap, "two.gcdump", 1);
        let rows: Vec<(TypeId, u64)> = o
            .document
            .types
            .iter()
            .filter(|r| r.name == "App.Cache`1")
            .map(|r| (r.id, r.bytes))
            .collect();
        assert_eq!(rows.len(), 2, "one row per MethodTable");
        o.analyse(&mut NoProgress).unwrap();
        let retained = o.retained.as_ref().unwrap().retained_by_id();
        let got: HashMap<TypeId, u64> = rows.iter().map(|&(id, _)| (id, retained[&id])).collect();
        assert_eq!(got[&TypeId(c1)], 24 + 1000);
        assert_eq!(got[&TypeId(c2)], 24 + 5000);
    }

    #[test]
    fn diff_rows_link_both_sides_by_id() {
        let base = Opened::new(graph(), "a", 1);
        let mut g2 = GraphBuilder::new();
        let c = ty(&mut g2, "C");
        let e = ty(&mut g2, "E");
        let a = ty(&mut g2, "A");
        for _ in 0..3 {
            g2.add_node(c, 30, 0, []).unwrap();
        }
        g2.add_node(e, 7, 0, []).unwrap();
        g2.add_node(a, 10, 0, []).unwrap();
        let cur = Opened::new(
            Snapshot {
                graph: g2.finish().unwrap(),
                info: gcdump_info(),
            },
            "b",
            1,
        );
        let d = diff(&base.document, &cur.document).unwrap();
        let r: Vec<(&str, i64, DiffStatus)> = d
            .types
            .iter()
            .map(|r| (r.name.as_str(), r.bytes_delta, r.status))
            .collect();
        // PerfView's order: the largest change first, whatever its sign.
        assert_eq!(
            r,
            [
                ("C", 30, DiffStatus::Changed),
                ("B", -20, DiffStatus::Vanished),
                ("E", 7, DiffStatus::New),
                ("D", -5, DiffStatus::Vanished),
            ]
        );
        assert_eq!(d.unchanged_types, 1);
        assert!(!d.names_normalized);
        let c_row = &d.types[0];
        assert_eq!(c_row.base_type_ids, [row_id(&base, "C")]);
        assert_eq!(c_row.current_type_ids, [row_id(&cur, "C")]);
        assert!(d.types[2].base_type_ids.is_empty());
    }

    /// The worker's folds, on a heap whose answer is worked out by hand: a
    /// queue holding three items, each holding a 20-byte string, and a
    /// 100-byte string a static holds.
    #[test]
    fn folds_count_folded_objects_with_their_holders() {
        let mut b = GraphBuilder::new();
        let q = ty(&mut b, "App.Queue");
        let item = ty(&mut b, "App.Item");
        let s = ty(&mut b, "System.String");
        b.add_node(q, 32, 0x10, [1, 2, 3]).unwrap(); // 0
        for i in 0..3u32 {
            b.add_node(item, 48, 0x100 + 64 * i as u64, [4 + i])
                .unwrap(); // 1..=3
        }
        for i in 0..3u64 {
            b.add_node(s, 20, 0x400 + 32 * i, []).unwrap(); // 4..=6
        }
        b.add_node(s, 100, 0x800, []).unwrap(); // 7

        // As a `.gcdump` holds statics: under a pseudo-node, no row.
        let statics = b.add_type(TypeInfo {
            name: "[static vars]".into(),
            module: None,
            kind: TypeKind::Pseudo,
            method_table: 0,
        });
        b.add_node(statics, 0, 0, [7]).unwrap(); // 8
        b.add_root(0, RootKind::Static, Some("App.queue"));
        b.add_root(8, RootKind::Static, None);
        let mut o = Opened::new(
            Snapshot {
                graph: b.finish().unwrap(),
                info: gcdump_info(),
            },
            "f",
            1,
        );
        let by_pattern = Folds {
            pattern: r"^System\.String$".into(),
            min_percent: None,
        };
        assert!(o.fold(&by_pattern).is_none(), "folds wait for the analysis");
        o.analyse(&mut NoProgress).unwrap();
        let rows = |f: &Folds| {
            let d = o.fold(f).unwrap().unwrap();
            let f = d.folds.clone().unwrap();
            let rows: Vec<_> = d
                .types
                .iter()
                .map(|r| {
                    (
                        r.name.clone(),
                        r.count,
                        r.bytes,
                        r.fold_count.unwrap(),
                        r.fold_bytes.unwrap(),
                    )
                })
                .collect();
            (rows, (f.into_roots.count, f.into_roots.bytes))
        };
        // The strings under the items count with them; the static's string
        // (under the pseudo-node) is held by roots only.
        let want = (
            vec![
                ("App.Item".to_owned(), 3, 144, 3, 60),
                ("App.Queue".to_owned(), 1, 32, 0, 0),
            ],
            (1, 100),
        );
        assert_eq!(rows(&by_pattern), want);
        // Fold %: Inc of the total 336 bytes is 236 (queue), 204 (items),
        // 160 (strings, 47.6 %): 50 % folds the strings alone.
        let by_percent = Folds {
            pattern: String::new(),
            min_percent: Some(50.0),
        };
        assert_eq!(rows(&by_percent), want);
        let bad = Folds {
            pattern: "(".into(),
            min_percent: None,
        };
        assert_eq!(o.fold(&bad).unwrap().unwrap_err().kind, ErrorKind::Protocol);
    }

    /// What the page's workers compute apart equals what the CLI computes
    /// with both snapshots at hand (`heaplens_results`' snapshot paths,
    /// checked against references in tests/answers.rs): the comparison by
    /// retained growth, the groups compared, the differential flame graph;
    /// and the analysis's columns are the `stats --inclusive --retained`
    /// ones.
    #[test]
    fn answers_from_two_workers_equal_the_cli_s() {
        use heaplens_analysis::diff::DiffOptions;
        use heaplens_results::diff::{add_retained, diff_snapshots, DiffDocument, DiffSort};
        use heaplens_results::flame::{diff_of, flame_of};
        let leak = |items: u32| {
            let mut b = GraphBuilder::new();
            let q = ty(&mut b, "App.Queue");
            let item = ty(&mut b, "App.Item");
            let s = ty(&mut b, "System.String");
            let kids: Vec<u32> = (0..items).map(|i| 2 + i).collect();
            b.add_node(q, 32, 0x10, kids).unwrap(); // 0
            b.add_node(s, 100, 0x20, []).unwrap(); // 1
            for i in 0..items {
                b.add_node(item, 48, 0x100 + 64 * i as u64, []).unwrap();
            }
            b.add_root(0, RootKind::Static, Some("App.queue"));
            b.add_root(1, RootKind::Static, Some("App.name"));
            Snapshot {
                graph: b.finish().unwrap(),
                info: gcdump_info(),
            }
        };
        let (mut a, mut c) = (Opened::new(leak(2), "a", 1), Opened::new(leak(9), "b", 1));
        a.analyse(&mut NoProgress).unwrap();
        c.analyse(&mut NoProgress).unwrap();
        let (aa, ca) = (a.answers.clone().unwrap(), c.answers.clone().unwrap());
        // The columns.
        let q = ca
            .stats
            .types
            .iter()
            .find(|r| r.name == "App.Queue")
            .unwrap();
        assert_eq!(
            (q.retained_bytes, q.inc),
            (Some(32 + 9 * 48), Some(32 + 9 * 48))
        );
        assert_eq!(ca.stats.retained_total, Some(32 + 9 * 48 + 100));
        // The comparison, as `heaplens diff --by retained`.
        let page = diff_retained((&a.document, &aa.by_name), (&c.document, &ca.by_name)).unwrap();
        let mut d = diff_snapshots(&a.snapshot, &c.snapshot, DiffOptions::default());
        let flame =
            |o: &Opened| flame_of(&o.snapshot, FlameMeasure::Retained, &mut NoProgress).unwrap();
        let (fa, fc) = (flame(&a), flame(&c));
        add_retained(&mut d, (&a.snapshot, &fa), (&c.snapshot, &fc));
        d.sort(DiffSort::RetainedGrowth.order());
        let mut cli =
            DiffDocument::build(("a", &a.snapshot.info), ("b", &c.snapshot.info), &d, None);
        cli.sorted_by = DiffSort::RetainedGrowth;
        cli.retained = true;
        assert_eq!(page, cli);
        // The queue whose own size did not change comes first.
        assert_eq!(page.types[0].name, "App.Queue");
        assert_eq!(page.types[0].bytes_delta, 0);
        // Groups compared.
        let by = GroupKind::Namespace;
        let groups = diff_groups(&a.groups(by), &c.groups(by));
        let cli_groups = DiffGroupTable::build(
            (&a.snapshot, &a.stats, Some(&fa)),
            (&c.snapshot, &c.stats, Some(&fc)),
            by,
        );
        assert_eq!(groups, cli_groups);
        // The differential flame graph.
        let page_flame =
            diff_flame(&aa.retained_flame, &ca.retained_flame, "gcdump", "gcdump").unwrap();
        let cli_flame = FlameDocument::build_diff(
            "a",
            "b",
            FlameMeasure::Retained,
            false,
            &diff_of((&a.snapshot, &fa), (&c.snapshot, &fc), false),
            FlameLimits::default(),
        );
        assert_eq!(page_flame, cli_flame);
        // Key retention paths in the detail.
        let item = row_id(&c, "App.Item");
        let detail = c.detail(item, &mut NoProgress).unwrap().unwrap();
        assert_eq!(detail.key_paths.len(), 1);
        assert_eq!(detail.key_paths[0].count, 9);
        assert_eq!(detail.key_paths[0].path, ["App.Queue", "App.Item"]);
    }

    #[test]
    fn corpus_gcdump_matches_type_stats() {
        let Some(shared) = heaplens_corpus::shared_or_skip("heaplens-web model") else {
            return;
        };
        let path = shared.join("samples/gcdump/monogcdumprepro-20231108_150515_31024.gcdump");
        let bytes = std::fs::read(&path).unwrap();
        let mut s = Session::default();
        let o = s
            .open(
                DumpId(1),
                &bytes,
                &ModuleSet::new(),
                "x.gcdump",
                &mut NoProgress,
            )
            .unwrap();
        let t = &o.document;
        assert_eq!(t.objects, o.stats.objects);
        assert_eq!(t.types.len(), o.stats.rows.len());
        assert_eq!(t.header.format, "gcdump");
        let mut o = s.dumps.remove(&DumpId(1)).unwrap();
        o.analyse(&mut NoProgress).unwrap();
        assert!(!o.retained.as_ref().unwrap().types.is_empty());
        let d = o
            .detail(o.document.types[0].id, &mut NoProgress)
            .unwrap()
            .unwrap();
        assert!(d.count > 0, "the biggest type is reachable");
        assert!(!d.paths.is_empty());
        let err = s
            .open(
                DumpId(2),
                &b"garbage!".to_vec(),
                &ModuleSet::new(),
                "x",
                &mut NoProgress,
            )
            .err()
            .unwrap();
        assert!(err.message.contains("unrecognised"), "{}", err.message);
        assert_eq!(err.kind, ErrorKind::NotReadable);
        assert_eq!(err.code.as_deref(), Some("unknown_format"));
    }

    /// Growth findings: the baseline's observations (answered by its own
    /// worker) joined to this dump's by key, as `heaplens findings BASE
    /// FILE`: against itself nothing grew (one dump's large holders are not
    /// growth); against a baseline without the type `C`, `C` grew by all
    /// it retains (its two objects of 30 bytes, one under `B`, one held
    /// from a stack slot: 60 of the 90 reachable bytes, over the 10 % of
    /// type growth). Without the baseline it is refused.
    #[test]
    fn growth_findings_against_a_baseline() {
        let mut o = Opened::new(graph(), "x.gcdump", 100);
        let ContentsDoc::Baseline(b) = o
            .contents(&ContentsQuery::Baseline, &mut NoProgress)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(
            (b.file.as_str(), b.observations.reachable_bytes),
            ("x.gcdump", 90)
        );
        let q = ContentsQuery::GrowthFindings { base: DumpId(7) };
        let ContentsDoc::Findings(same) =
            o.contents_against(&q, Some(&b), &mut NoProgress).unwrap()
        else {
            panic!()
        };
        assert_eq!(same.base_file.as_deref(), Some("x.gcdump"));
        assert!(same.findings.is_empty(), "{:?}", same.findings);
        let mut without_c = (*b).clone();
        let c = without_c.observations.types.remove("C").unwrap();
        assert_eq!((c.objects, c.retained_bytes), (2, 60));
        let ContentsDoc::Findings(grown) = o
            .contents_against(&q, Some(&without_c), &mut NoProgress)
            .unwrap()
        else {
            panic!()
        };
        let f: Vec<_> = grown
            .findings
            .iter()
            .map(|f| {
                (
                    f.pattern.as_str(),
                    f.key.as_str(),
                    f.base_objects,
                    f.growth_objects,
                    f.growth_retained_bytes,
                )
            })
            .collect();
        assert_eq!(f, [("type_growth", "C", None, Some(2), Some(60))]);
        assert_eq!(
            o.contents(&q, &mut NoProgress).unwrap_err().kind,
            ErrorKind::NotFound
        );
    }

    /// Contents questions of a `.gcdump`: the inspector answers with the
    /// object's structure (size, referrers, dominators) and says it holds
    /// no values; strings and waste fail with `NoContents`; instances page
    /// by retained size; objects and types that are not there are
    /// `NotFound`.
    #[test]
    fn contents_of_a_gcdump() {
        use heaplens_results::instances::InstanceSort;
        use heaplens_results::NodeId;
        let mut o = Opened::new(graph(), "x.gcdump", 100);
        let q = ContentsQuery::Object {
            node: NodeId(2),
            values: true,
        };
        let ContentsDoc::Object(d) = o.contents(&q, &mut NoProgress).unwrap() else {
            panic!()
        };
        assert_eq!((d.type_name.as_str(), d.size), ("C", 30));
        assert!(!d.contents && !d.values);
        assert_eq!(d.referrer_count, 2);
        assert_eq!(d.retained_bytes, Some(30));
        let e = o
            .contents(
                &ContentsQuery::Strings {
                    search: None,
                    values: true,
                },
                &mut NoProgress,
            )
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::NoContents);
        assert!(e.message.contains(".gcdump"), "{}", e.message);
        assert_eq!(
            o.contents(&ContentsQuery::Waste, &mut NoProgress)
                .unwrap_err()
                .kind,
            ErrorKind::NoContents
        );
        // Findings need no contents to run: the detectors that read values
        // say why they could not, and the graph's own findings are there.
        let ContentsDoc::Findings(f) = o
            .contents(&ContentsQuery::Findings, &mut NoProgress)
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(f.detectors.len(), heaplens_findings::Pattern::ALL.len());
        let events = f.detectors.iter().find(|d| d.pattern == "events").unwrap();
        assert!(events
            .silent_because
            .as_deref()
            .is_some_and(|w| w.contains("no object contents")));
        // 0 → 1 → 2 from the static, 3 from a stack slot: 90 bytes; the
        // objects retaining 10 % or more: 0 (60, holding 1 and 2, each half
        // of it or more: told under it) and 3 (30), neither a leak.
        assert_eq!(f.reachable_bytes, 90);
        let mut held: Vec<(u32, bool)> = f
            .findings
            .iter()
            .map(|x| (x.holder.as_ref().unwrap().node.0, x.leak))
            .collect();
        held.sort_unstable();
        assert_eq!(held, [(0, false), (3, false)]);
        let c = row_id(&o, "C");
        let ContentsDoc::Instances(i) = o
            .contents(
                &ContentsQuery::Instances {
                    type_id: c,
                    sort: InstanceSort::Retained,
                    offset: 0,
                    values: true,
                },
                &mut NoProgress,
            )
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(i.count, 2);
        assert_eq!(i.objects.len(), 2);
        let gone = ContentsQuery::Object {
            node: NodeId(99),
            values: true,
        };
        assert_eq!(
            o.contents(&gone, &mut NoProgress).unwrap_err().kind,
            ErrorKind::NotFound
        );
    }
}
