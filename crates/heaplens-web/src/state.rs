//! The page's state and its one reducer: every change of what the page
//! shows is an [`Action`] applied by [`AppState::reduce`], a plain function
//! tested natively. What must happen outside the state — a request to an
//! engine worker, a cancel — is a [`Command`] the reducer leaves in the
//! [`Outbox`] for the page's bridge to carry out (`ui` drains it after each
//! render). The URL is a view of the state ([`AppState::url_route`]).

use crate::model::Answers;
use crate::protocol::{
    Baseline, ContentsDoc, ContentsQuery, DumpId, EngineError, ErrorKind, Folds, OpId,
    ProgressReport, ReadReport, Response,
};
use crate::route::{DumpKey, Route, Screen};
use crate::table::TableView;
use heaplens_results::analysis::{AnalysisDocument, DumpAnalysis};
use heaplens_results::counts::CountsDocument;
use heaplens_results::diff::DiffDocument;
use heaplens_results::flame::{FlameDocument, FlameMeasure};
use heaplens_results::groups::{DiffGroupTable, GroupKind, GroupTable};
use heaplens_results::instances::InstanceSort;
use heaplens_results::retained::RetainedDocument;
use heaplens_results::roots::RootsDocument;
use heaplens_results::stats::{StatsDocument, TypeStatsRow};
use heaplens_results::{NodeId, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

/// A dump the user added, as the page's bridge describes it (the bridge
/// keeps the `File` handles under `id`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewDump {
    /// The id the bridge gave it.
    pub id: DumpId,
    /// The file's name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its modification time (ms since 1970), the fallback for ordering.
    pub file_time_ms: f64,
    /// Module files given with it.
    pub modules: usize,
}

/// The tabs of a dump's screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    /// Overview.
    Overview,
    /// The type table.
    Types,
    /// One type: why it is alive.
    Detail(TypeId),
    /// The flame graph of what holds the heap.
    Flame,
    /// A type's objects, a page at a time.
    Instances(TypeId),
    /// One object: the inspector.
    Object(NodeId),
    /// Duplicate strings and string search.
    Strings,
    /// Wasted collections.
    Waste,
    /// Leak findings.
    Findings,
}

/// The order and page of the instances view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstancesView {
    /// The order.
    pub sort: InstanceSort,
    /// The first object shown.
    pub offset: u64,
}

impl Default for InstancesView {
    fn default() -> Self {
        InstancesView {
            sort: InstanceSort::Retained,
            offset: 0,
        }
    }
}

/// What fills the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The landing page.
    Landing,
    /// A dump: its progress while it is read, its error if it failed, else
    /// its tabs.
    Dump {
        /// The dump.
        id: DumpId,
        /// The tab.
        tab: Tab,
    },
    /// The comparison of [`AppState::comparison`].
    Compare,
}

/// Where a dump's reading stands.
#[derive(Debug, Clone, PartialEq)]
pub enum DumpStatus {
    /// Being read.
    Opening {
        /// The open operation.
        op: OpId,
        /// The last report.
        progress: Option<ProgressReport>,
    },
    /// Read: [`DumpEntry::loaded`] holds its documents.
    Ready,
    /// Its graph does not fit in the worker's memory: its objects were
    /// counted per type without it ([`Response::Counted`]). Only the type
    /// statistics of every object can be shown; the views that need the
    /// graph say they are unavailable. With how the worker read them.
    Counted(Rc<CountsDocument>, Rc<ReadReport>),
    /// Could not be read.
    Failed(EngineError),
}

/// A point in time as a dump records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DumpTime {
    /// Seconds since 1970 of the time as written (UTC, or the machine's
    /// local time for a `.gcdump`).
    pub seconds: i64,
    /// True when the time is UTC, false for a local time without a zone.
    pub utc: bool,
}

impl DumpTime {
    /// Reads the schema's ISO 8601 (`2023-11-08T15:05:15`, with `Z` for UTC).
    pub fn parse(iso: &str) -> Option<DumpTime> {
        let (s, utc) = match iso.strip_suffix('Z') {
            Some(s) => (s, true),
            None => (iso, false),
        };
        let (date, time) = s.split_once('T')?;
        let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
        let (y, m, dd) = (d.next()??, d.next()??, d.next()??);
        let mut t = time.splitn(3, ':').map(|p| p.parse::<i64>().ok());
        let (h, mi, se) = (t.next()??, t.next()??, t.next()??);
        // Days from civil (Howard Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + dd - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        let days = era * 146_097 + doe - 719_468;
        Some(DumpTime {
            seconds: days * 86_400 + h * 3600 + mi * 60 + se,
            utc,
        })
    }
}

/// A read dump's documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// Its overview and type statistics.
    pub stats: Rc<StatsDocument>,
    /// How the worker read it.
    pub read: ReadReport,
    /// When it was taken, when it records that.
    pub dump_time: Option<DumpTime>,
    index: HashMap<TypeId, usize>,
}

impl Loaded {
    /// The documents of an open.
    pub fn new(stats: StatsDocument, read: ReadReport) -> Loaded {
        let index = stats
            .types
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, i))
            .collect();
        Loaded {
            dump_time: stats.dump_time.as_deref().and_then(DumpTime::parse),
            stats: Rc::new(stats),
            read,
            index,
        }
    }

    /// The row of type `id`.
    pub fn row(&self, id: TypeId) -> Option<&TypeStatsRow> {
        self.stats.types.get(*self.index.get(&id)?)
    }

    /// What the dump lacks, in the engine's words and numbers (its
    /// `coverage.summary`, the line `heaplens` prints too), shown above
    /// every result of it: `Partial(…)` when the result is not the whole
    /// heap's, `Note(…)` for a file cut short past everything the result
    /// needs; `None` for a whole dump.
    pub fn coverage_note(&self) -> Option<CoverageNote> {
        let c = &self.stats.header.coverage;
        let summary = c.summary.clone();
        if !self.stats.header.complete {
            Some(CoverageNote::Partial(summary.unwrap_or_else(|| {
                "the dump does not hold the whole heap and its roots".to_owned()
            })))
        } else {
            summary.map(CoverageNote::Note)
        }
    }
}

/// What a dump lacks, said above its results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoverageNote {
    /// The result is not the whole heap's: what is missing.
    Partial(String),
    /// The result is whole, but the file lacks something (cut short past
    /// what the result needs).
    Note(String),
}

/// Retained sizes of a dump.
#[derive(Debug, Clone, PartialEq)]
pub enum Retained {
    /// Not asked for.
    NotStarted,
    /// Being computed.
    Computing {
        /// The operation.
        op: OpId,
        /// The last report.
        progress: Option<ProgressReport>,
    },
    /// Known.
    Ready {
        /// The document.
        doc: Rc<RetainedDocument>,
        /// Retained bytes by row id.
        by_id: Rc<HashMap<TypeId, u64>>,
        /// The inclusive and retained columns, the flame graphs, the
        /// retained bytes per name.
        answers: Rc<Answers>,
        /// The flame graphs (by retained, by inclusive size), shared with
        /// the views as they are (so a view redraws only when they change).
        flames: Rc<(Rc<FlameDocument>, Rc<FlameDocument>)>,
        /// Milliseconds the analysis took.
        ms: f64,
    },
    /// Stopped by the user.
    Stopped,
    /// Failed.
    Failed(EngineError),
}

/// An answer on its way.
#[derive(Debug, Clone, PartialEq)]
pub enum Pending<T> {
    /// Asked for with this operation.
    Loading(OpId),
    /// Here.
    Ready(T),
    /// Failed, or stopped ([`ErrorKind::Cancelled`]).
    Failed(EngineError),
}

/// A dump of the session.
#[derive(Debug, Clone, PartialEq)]
pub struct DumpEntry {
    /// Its id.
    pub id: DumpId,
    /// The file's name.
    pub name: String,
    /// Its size.
    pub size: u64,
    /// Its modification time (ms since 1970).
    pub file_time_ms: f64,
    /// Module files given with it.
    pub modules: usize,
    /// Reading.
    pub status: DumpStatus,
    /// Its documents, once read.
    pub loaded: Option<Rc<Loaded>>,
    /// Its retained sizes.
    pub retained: Retained,
}

impl DumpEntry {
    /// How the URL names it.
    pub fn key(&self) -> DumpKey {
        DumpKey {
            name: self.name.clone(),
            size: self.size,
        }
    }

    /// True once read.
    pub fn is_ready(&self) -> bool {
        self.status == DumpStatus::Ready
    }

    /// The file's name without its extension (`a.dmp`: `a`), for the
    /// names of the files the page saves.
    pub fn stem(&self) -> &str {
        self.name.rsplit_once('.').map_or(&self.name, |(b, _)| b)
    }
}

/// How the baseline of a comparison was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// The older by the time recorded in the dumps.
    DumpTime,
    /// The older file by modification time: the dumps named here record no
    /// time.
    FileTime {
        /// The dumps without a recorded time.
        untimed: Vec<String>,
    },
    /// Chosen by the user.
    Chosen,
}

/// The two dumps compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// The baseline (earlier).
    pub base: DumpId,
    /// The current dump (later).
    pub current: DumpId,
    /// Why this way round.
    pub basis: Basis,
}

/// What the reducer asks the bridge to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Read a dump (its files are with the bridge).
    Open {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
    },
    /// Compute a dump's retained sizes.
    Analyse {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
    },
    /// Why a type's objects are alive.
    Detail {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// The type's row.
        type_id: TypeId,
    },
    /// Compare two dumps.
    Diff {
        /// The operation.
        op: OpId,
        /// The baseline's statistics.
        base: Rc<StatsDocument>,
        /// The current dump's statistics.
        current: Rc<StatsDocument>,
        /// Both dumps' answers, once both are analysed (the comparison is
        /// then by retained growth).
        answers: Option<(Rc<Answers>, Rc<Answers>)>,
    },
    /// Group a dump's types.
    Groups {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// What by.
        by: GroupKind,
    },
    /// Fold a dump's types into their referrers.
    Fold {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// What to fold.
        folds: Folds,
    },
    /// The differential flame graph of two dumps.
    DiffFlame {
        /// The operation.
        op: OpId,
        /// The baseline's flame graph.
        base: Rc<FlameDocument>,
        /// The current dump's.
        current: Rc<FlameDocument>,
        /// The baseline's format.
        base_format: String,
        /// The current dump's format.
        current_format: String,
    },
    /// Compare two dumps' groups.
    DiffGroups {
        /// The operation.
        op: OpId,
        /// The baseline's groups.
        base: Rc<GroupTable>,
        /// The current dump's groups.
        current: Rc<GroupTable>,
    },
    /// Ask a dump's worker about object contents.
    Contents {
        /// The dump.
        dump: DumpId,
        /// The operation.
        op: OpId,
        /// The question.
        query: ContentsQuery,
        /// For [`ContentsQuery::GrowthFindings`]: the baseline's
        /// observations, from its own worker.
        baseline: Option<Rc<Baseline>>,
    },
    /// Save a document as a file (an export).
    Download {
        /// The file's name.
        name: String,
        /// The document.
        json: String,
    },
    /// Stop one operation. `keep`: the dump stays open (its worker is kept,
    /// or re-reads the dump when it had to be stopped); else the dump goes.
    Cancel {
        /// The dump the operation is about, if any.
        dump: Option<DumpId>,
        /// The operation.
        op: OpId,
        /// Keep the dump.
        keep: bool,
    },
    /// Forget a dump.
    Close {
        /// The dump.
        dump: DumpId,
    },
}

/// Commands left for the bridge. Shared (not part of the state's
/// equality): the reducer adds, the page drains after rendering.
#[derive(Debug, Clone, Default)]
pub struct Outbox(Rc<RefCell<Vec<Command>>>);

impl Outbox {
    /// Adds a command.
    pub fn push(&self, c: Command) {
        self.0.borrow_mut().push(c);
    }

    /// Takes every command left.
    pub fn drain(&self) -> Vec<Command> {
        std::mem::take(&mut self.0.borrow_mut())
    }
}

impl PartialEq for Outbox {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// What can happen to the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Dumps were dropped or chosen (together, as one batch). `modules`:
    /// module files given without any dump.
    Add {
        /// The dumps.
        dumps: Vec<NewDump>,
        /// Module files given alone.
        stray_modules: usize,
    },
    /// A worker's answer (or the bridge's word for a worker that stopped).
    Engine(Response),
    /// Stop reading a dump (the dump goes).
    CancelOpen(DumpId),
    /// Stop computing a dump's retained sizes (the dump stays).
    CancelRetained(DumpId),
    /// Stop finding a type's paths (the dump stays).
    CancelDetail(DumpId, TypeId),
    /// Compute a dump's retained sizes (after they were stopped).
    ComputeRetained(DumpId),
    /// Show a type's instances from their first page (in the order
    /// chosen last).
    ShowInstances(DumpId, TypeId),
    /// Another order or page of the instances shown.
    InstancesView(InstancesView),
    /// Look for strings containing this text (empty: none) in a dump.
    SearchStrings(DumpId, String),
    /// Stop a contents question (the dump stays).
    CancelContents(DumpId, ContentsQuery),
    /// Save the answer to a contents question, with or without its values
    /// (asking the engine for the version without when needed).
    ExportContents {
        /// The dump.
        dump: DumpId,
        /// The question (the version with values).
        query: ContentsQuery,
        /// Carry values.
        values: bool,
    },
    /// Close a dump.
    Close(DumpId),
    /// Show a dump's tab.
    ShowDump(DumpId, Tab),
    /// Show the landing page.
    Home,
    /// Show the comparison (of the chosen pair, else the default pair).
    ShowCompare,
    /// Compare these two.
    Pair {
        /// The baseline.
        base: DumpId,
        /// The current dump.
        current: DumpId,
    },
    /// Swap baseline and current.
    Swap,
    /// The type table's sort or filter.
    TypesView(TableView),
    /// The comparison table's sort or filter.
    DiffView(TableView),
    /// The duplicate-strings table's sort or filter.
    StringsView(TableView),
    /// The waste table's sort or filter.
    WasteView(TableView),
    /// The flame graph's measure.
    FlameBy(FlameMeasure),
    /// Group the type tables (`None`: one row per type).
    GroupTypes(Option<GroupKind>),
    /// Group the comparison's table.
    GroupDiff(Option<GroupKind>),
    /// Fold types of the type tables into their referrers (empty: none).
    FoldTypes(Folds),
    /// The URL changed (Back, Forward, or the URL the page started with).
    Route(Route),
    /// Say something to screen readers (and sighted users, briefly).
    Announce(String),
    /// Hide the notice.
    DismissNotice,
}

/// The page's state.
#[derive(Debug, Clone, PartialEq)]
pub struct AppState {
    /// The dumps, in the order added.
    pub dumps: Vec<DumpEntry>,
    /// What fills the window.
    pub view: View,
    /// The type table's sort and filter (for every dump).
    pub types_view: TableView,
    /// The comparison table's sort and filter.
    pub diff_view: TableView,
    /// The pair compared.
    pub comparison: Option<Comparison>,
    /// Comparisons made, by (baseline, current).
    pub diffs: HashMap<(DumpId, DumpId), Pending<Rc<DiffDocument>>>,
    /// Type details, by (dump, type).
    pub details: HashMap<(DumpId, TypeId), Pending<Rc<RootsDocument>>>,
    /// The details in the order looked at (for the export).
    pub detail_order: Vec<(DumpId, TypeId)>,
    /// The flame graph's measure.
    pub flame_by: FlameMeasure,
    /// What the type tables are grouped by.
    pub types_group: Option<GroupKind>,
    /// What the comparison's table is grouped by.
    pub diff_group: Option<GroupKind>,
    /// The types the type tables fold into their referrers.
    pub types_fold: Folds,
    /// Type tables with folds, by (dump, folds).
    pub folds: HashMap<(DumpId, Folds), Pending<Rc<StatsDocument>>>,
    /// Group tables, by (dump, grouping).
    pub groups: HashMap<(DumpId, GroupKind), Pending<Rc<GroupTable>>>,
    /// Differential flame graphs, by (baseline, current, measure).
    pub diff_flames: HashMap<(DumpId, DumpId, FlameMeasure), Pending<Rc<FlameDocument>>>,
    /// Group comparisons, by (baseline, current, grouping).
    pub diff_groups: HashMap<(DumpId, DumpId, GroupKind), Pending<Rc<DiffGroupTable>>>,
    /// Answers about object contents, by dump and question.
    pub contents: HashMap<(DumpId, ContentsQuery), Pending<Rc<ContentsDoc>>>,
    /// The instances view's order and page.
    pub instances_view: InstancesView,
    /// The strings view's search.
    pub strings_search: String,
    /// The duplicate-strings table's sort and filter (the sort is in the
    /// URL; its `q` is the search).
    pub strings_view: TableView,
    /// The waste table's sort and filter.
    pub waste_view: TableView,
    /// The object and the type's instances looked at last in each dump
    /// (they keep their tabs).
    pub last_object: HashMap<DumpId, NodeId>,
    /// See [`AppState::last_object`].
    pub last_instances: HashMap<DumpId, TypeId>,
    /// An export waiting for its document.
    pub export_pending: Option<(DumpId, ContentsQuery)>,
    /// A view from the URL waiting for its dumps to be dropped again.
    pub pending_route: Option<Route>,
    /// A note above the screen (a cancelled read, module files alone).
    pub notice: Option<String>,
    /// The live region's text and a counter that makes a repeated text be
    /// announced again.
    pub announcement: (u32, String),
    /// Test knob passed to the engine (see `Request::Open`).
    pub slow_progress_ms: u32,
    /// Dumps added together and not all read yet: compared when they are.
    pub batches: Vec<Vec<DumpId>>,
    next_op: u32,
    /// Commands for the bridge.
    pub outbox: Outbox,
}

impl Default for AppState {
    fn default() -> Self {
        AppState::new(0)
    }
}

impl AppState {
    /// A page with nothing open.
    pub fn new(slow_progress_ms: u32) -> AppState {
        AppState {
            dumps: Vec::new(),
            view: View::Landing,
            types_view: TableView::default(),
            diff_view: TableView::default(),
            comparison: None,
            diffs: HashMap::new(),
            details: HashMap::new(),
            detail_order: Vec::new(),
            flame_by: FlameMeasure::Retained,
            types_group: None,
            diff_group: None,
            types_fold: Folds::default(),
            folds: HashMap::new(),
            groups: HashMap::new(),
            diff_groups: HashMap::new(),
            diff_flames: HashMap::new(),
            contents: HashMap::new(),
            instances_view: InstancesView::default(),
            strings_search: String::new(),
            strings_view: TableView::default(),
            waste_view: TableView::default(),
            last_object: HashMap::new(),
            last_instances: HashMap::new(),
            export_pending: None,
            pending_route: None,
            notice: None,
            announcement: (0, String::new()),
            slow_progress_ms,
            batches: Vec::new(),
            next_op: 0,
            outbox: Outbox::default(),
        }
    }

    /// A dump by id.
    pub fn dump(&self, id: DumpId) -> Option<&DumpEntry> {
        self.dumps.iter().find(|d| d.id == id)
    }

    fn dump_mut(&mut self, id: DumpId) -> Option<&mut DumpEntry> {
        self.dumps.iter_mut().find(|d| d.id == id)
    }

    /// The read dumps, in order.
    pub fn ready(&self) -> impl Iterator<Item = &DumpEntry> {
        self.dumps.iter().filter(|d| d.is_ready())
    }

    /// The diff of the chosen pair, if asked for.
    pub fn current_diff(&self) -> Option<&Pending<Rc<DiffDocument>>> {
        let c = self.comparison.as_ref()?;
        self.diffs.get(&(c.base, c.current))
    }

    fn op(&mut self) -> OpId {
        self.next_op += 1;
        OpId(self.next_op)
    }

    fn announce(&mut self, text: String) {
        self.announcement = (self.announcement.0 + 1, text);
    }

    /// The state after `action`.
    pub fn reduce(&self, action: Action) -> AppState {
        let mut s = self.clone();
        s.apply(action);
        s
    }

    fn apply(&mut self, action: Action) {
        match action {
            Action::Add {
                dumps,
                stray_modules,
            } => self.add(dumps, stray_modules),
            Action::Engine(r) => self.engine(r),
            Action::CancelOpen(id) => {
                let Some(d) = self.dump(id) else { return };
                if let DumpStatus::Opening { op, .. } = d.status {
                    let text = format!("Stopped reading {}.", d.name);
                    self.outbox.push(Command::Cancel {
                        dump: Some(id),
                        op,
                        keep: false,
                    });
                    self.notice = Some(text.clone());
                    self.announce(text);
                    self.remove(id);
                }
            }
            Action::CancelRetained(id) => {
                let Some(d) = self.dump_mut(id) else { return };
                if let Retained::Computing { op, .. } = d.retained {
                    d.retained = Retained::Stopped;
                    self.outbox.push(Command::Cancel {
                        dump: Some(id),
                        op,
                        keep: true,
                    });
                }
            }
            Action::CancelDetail(id, t) => {
                if let Some(Pending::Loading(op)) = self.details.get(&(id, t)).cloned() {
                    self.details
                        .insert((id, t), Pending::Failed(EngineError::cancelled()));
                    self.outbox.push(Command::Cancel {
                        dump: Some(id),
                        op,
                        keep: true,
                    });
                }
            }
            Action::ComputeRetained(id) => self.analyse(id),
            Action::ShowInstances(id, t) => {
                self.pending_route = None;
                self.instances_view.offset = 0;
                self.show_dump(id, Tab::Instances(t));
            }
            Action::InstancesView(v) => {
                self.instances_view = v;
                if let View::Dump {
                    id,
                    tab: tab @ Tab::Instances(_),
                } = self.view
                {
                    self.show_dump(id, tab);
                }
            }
            Action::SearchStrings(id, text) => {
                self.pending_route = None;
                self.strings_search = text;
                self.show_dump(id, Tab::Strings);
            }
            Action::CancelContents(id, q) => {
                if let Some(Pending::Loading(op)) = self.contents.get(&(id, q.clone())).cloned() {
                    self.contents
                        .insert((id, q), Pending::Failed(EngineError::cancelled()));
                    self.outbox.push(Command::Cancel {
                        dump: Some(id),
                        op,
                        keep: true,
                    });
                }
            }
            Action::ExportContents {
                dump,
                query,
                values,
            } => {
                let q = query.with_values(values);
                match self.contents.get(&(dump, q.clone())) {
                    Some(Pending::Ready(doc)) => {
                        // Findings are one question: without values is
                        // the same document with its values left out.
                        let doc = match &**doc {
                            ContentsDoc::Findings(d) if !values && d.values => {
                                Rc::new(ContentsDoc::Findings(d.clone().without_values()))
                            }
                            _ => doc.clone(),
                        };
                        let cmd = self.download(dump, &doc);
                        self.outbox.push(cmd);
                    }
                    Some(Pending::Loading(_)) => self.export_pending = Some((dump, q)),
                    _ => {
                        self.export_pending = Some((dump, q.clone()));
                        self.request_contents(dump, q);
                    }
                }
            }
            Action::Close(id) => {
                let Some(d) = self.dump(id) else { return };
                let name = d.name.clone();
                self.outbox.push(Command::Close { dump: id });
                self.pending_route = None;
                self.remove(id);
                self.announce(format!("Closed {name}."));
            }
            Action::ShowDump(id, tab) => {
                self.pending_route = None;
                self.show_dump(id, tab);
            }
            Action::Home => {
                self.pending_route = None;
                self.view = View::Landing;
            }
            Action::ShowCompare => {
                self.pending_route = None;
                let valid = self.comparison.as_ref().is_some_and(|c| {
                    self.dump(c.base).is_some_and(DumpEntry::is_ready)
                        && self.dump(c.current).is_some_and(DumpEntry::is_ready)
                });
                if !valid {
                    let all: Vec<DumpId> = self.ready().map(|d| d.id).collect();
                    self.comparison = self.default_pair(&all);
                }
                if self.comparison.is_some() {
                    self.view = View::Compare;
                    self.request_diff();
                }
            }
            Action::Pair { base, current } => {
                if base == current {
                    return;
                }
                self.pending_route = None;
                self.comparison = Some(Comparison {
                    base,
                    current,
                    basis: Basis::Chosen,
                });
                self.view = View::Compare;
                self.request_diff();
            }
            Action::Swap => {
                if let Some(c) = &self.comparison {
                    let (base, current) = (c.current, c.base);
                    self.apply(Action::Pair { base, current });
                }
            }
            Action::TypesView(v) => self.types_view = v,
            Action::DiffView(v) => self.diff_view = v,
            Action::StringsView(v) => self.strings_view = v,
            Action::WasteView(v) => self.waste_view = v,
            Action::FlameBy(by) => {
                self.flame_by = by;
                self.request_diff_flame();
            }
            Action::GroupTypes(g) => {
                self.types_group = g;
                self.request_groups();
            }
            Action::GroupDiff(g) => {
                self.diff_group = g;
                self.request_groups();
            }
            Action::FoldTypes(f) => {
                self.types_fold = f;
                self.request_groups();
            }
            Action::Route(r) => self.route(r),
            Action::Announce(t) => self.announce(t),
            Action::DismissNotice => self.notice = None,
        }
    }

    fn add(&mut self, dumps: Vec<NewDump>, stray_modules: usize) {
        if dumps.is_empty() {
            if stray_modules > 0 {
                self.notice = Some(
                    "DLLs and EXEs are module files that name a dump's types: drop them \
                     together with the dump."
                        .to_owned(),
                );
            }
            return;
        }
        self.notice = None;
        // Files that are not those a linked view waits for: the user moved on.
        if let Some(r) = &self.pending_route {
            let wanted = dumps
                .iter()
                .any(|d| r.dumps.iter().any(|k| k.name == d.name && k.size == d.size));
            if !wanted {
                self.pending_route = None;
            }
        }
        let first = dumps[0].id;
        if dumps.len() > 1 {
            self.batches.push(dumps.iter().map(|d| d.id).collect());
        }
        for d in dumps {
            let op = self.op();
            self.outbox.push(Command::Open { dump: d.id, op });
            self.dumps.push(DumpEntry {
                id: d.id,
                name: d.name,
                size: d.size,
                file_time_ms: d.file_time_ms,
                modules: d.modules,
                status: DumpStatus::Opening { op, progress: None },
                loaded: None,
                retained: Retained::NotStarted,
            });
        }
        self.view = View::Dump {
            id: first,
            tab: Tab::Overview,
        };
    }

    /// Forgets a dump and what depends on it; a view of it goes elsewhere.
    fn remove(&mut self, id: DumpId) {
        self.dumps.retain(|d| d.id != id);
        self.details.retain(|(d, _), _| *d != id);
        self.contents.retain(|(d, q), _| {
            *d != id && !matches!(q, ContentsQuery::GrowthFindings { base } if *base == id)
        });
        self.last_object.remove(&id);
        self.last_instances.remove(&id);
        self.detail_order.retain(|(d, _)| *d != id);
        self.diffs.retain(|(b, c), _| *b != id && *c != id);
        self.groups.retain(|(d, _), _| *d != id);
        self.folds.retain(|(d, _), _| *d != id);
        self.diff_groups.retain(|(b, c, _), _| *b != id && *c != id);
        self.diff_flames.retain(|(b, c, _), _| *b != id && *c != id);
        for b in &mut self.batches {
            b.retain(|&d| d != id);
        }
        self.batches.retain(|b| b.len() > 1);
        if self
            .comparison
            .as_ref()
            .is_some_and(|c| c.base == id || c.current == id)
        {
            self.comparison = None;
        }
        let gone = match self.view {
            View::Dump { id: v, .. } => v == id,
            View::Compare => self.comparison.is_none(),
            View::Landing => false,
        };
        if gone {
            self.view = match self.dumps.iter().rev().find(|d| d.is_ready()) {
                Some(d) => View::Dump {
                    id: d.id,
                    tab: Tab::Overview,
                },
                None => View::Landing,
            };
        }
    }

    fn show_dump(&mut self, id: DumpId, tab: Tab) {
        if self.dump(id).is_none() {
            return;
        }
        self.view = View::Dump { id, tab };
        // Read without its graph: the worker holds nothing to ask.
        if self
            .dump(id)
            .is_some_and(|d| matches!(d.status, DumpStatus::Counted(..)))
        {
            return;
        }
        match tab {
            Tab::Detail(t) => self.request_detail(id, t),
            Tab::Object(n) => {
                self.last_object.insert(id, n);
            }
            Tab::Instances(t) => {
                self.last_instances.insert(id, t);
            }
            _ => {}
        }
        if let Some(q) = self.query_of(tab) {
            self.request_contents(id, q);
        }
        self.request_groups();
    }

    /// The contents question a tab shows the answer to (with values).
    pub fn query_of(&self, tab: Tab) -> Option<ContentsQuery> {
        Some(match tab {
            Tab::Object(node) => ContentsQuery::Object { node, values: true },
            Tab::Instances(type_id) => ContentsQuery::Instances {
                type_id,
                sort: self.instances_view.sort,
                offset: self.instances_view.offset,
                values: true,
            },
            Tab::Strings => ContentsQuery::Strings {
                search: Some(self.strings_search.clone()).filter(|s| !s.is_empty()),
                values: true,
            },
            Tab::Waste => ContentsQuery::Waste,
            Tab::Findings => ContentsQuery::Findings,
            Tab::Overview | Tab::Types | Tab::Flame | Tab::Detail(_) => return None,
        })
    }

    fn request_contents(&mut self, id: DumpId, q: ContentsQuery) {
        let ready = self.dump(id).is_some_and(DumpEntry::is_ready);
        let asked = matches!(
            self.contents.get(&(id, q.clone())),
            Some(Pending::Loading(_) | Pending::Ready(_))
        );
        if !ready || asked {
            return;
        }
        // Growth findings wait for the baseline's observations.
        let baseline = match &q {
            ContentsQuery::GrowthFindings { base } => {
                match self.contents.get(&(*base, ContentsQuery::Baseline)) {
                    Some(Pending::Ready(doc)) => match &**doc {
                        ContentsDoc::Baseline(b) => Some(Rc::new((**b).clone())),
                        _ => return,
                    },
                    _ => return,
                }
            }
            _ => None,
        };
        let op = self.op();
        self.contents.insert((id, q.clone()), Pending::Loading(op));
        self.outbox.push(Command::Contents {
            dump: id,
            op,
            query: q,
            baseline,
        });
    }

    /// The comparison, when it is the view shown.
    fn shown_comparison(&self) -> Option<Comparison> {
        self.comparison
            .clone()
            .filter(|_| self.view == View::Compare)
    }

    /// The comparison's growth findings: the baseline's observations from
    /// its worker, then the current dump's findings against them from its
    /// own (as `heaplens findings BASE CURRENT`).
    fn request_growth_findings(&mut self) {
        let Some(c) = self.shown_comparison() else {
            return;
        };
        self.request_contents(c.base, ContentsQuery::Baseline);
        self.request_contents(c.current, ContentsQuery::GrowthFindings { base: c.base });
    }

    /// The question whose answer is the comparison's growth findings.
    pub fn growth_findings_query(&self) -> Option<(DumpId, ContentsQuery)> {
        let c = self.comparison.as_ref()?;
        Some((c.current, ContentsQuery::GrowthFindings { base: c.base }))
    }

    /// The download of a contents document: named after the dump and what
    /// it is, and whether it carries values.
    fn download(&self, id: DumpId, doc: &ContentsDoc) -> Command {
        let base = self
            .dump(id)
            .map(|d| d.stem().to_owned())
            .unwrap_or_default();
        let what = match doc {
            ContentsDoc::Object(d) => format!("object-{}", d.address),
            ContentsDoc::Instances(d) => {
                format!("instances-{}", d.type_ids.first().map_or(0, |t| t.0))
            }
            ContentsDoc::Strings(_) => "strings".to_owned(),
            ContentsDoc::Waste(_) => "waste".to_owned(),
            ContentsDoc::Findings(_) => "findings".to_owned(),
            ContentsDoc::Baseline(_) => "baseline".to_owned(),
        };
        let values = if doc.values() { "" } else { "-no-values" };
        Command::Download {
            name: format!("{base}-{what}{values}.json"),
            json: doc.to_json(),
        }
    }

    fn analyse(&mut self, id: DumpId) {
        let op = self.op();
        let Some(d) = self.dump_mut(id) else { return };
        if !d.is_ready()
            || matches!(
                d.retained,
                Retained::Computing { .. } | Retained::Ready { .. }
            )
        {
            return;
        }
        d.retained = Retained::Computing { op, progress: None };
        self.outbox.push(Command::Analyse { dump: id, op });
    }

    fn request_detail(&mut self, id: DumpId, t: TypeId) {
        let ready = self.dump(id).is_some_and(DumpEntry::is_ready);
        let asked = matches!(
            self.details.get(&(id, t)),
            Some(Pending::Loading(_) | Pending::Ready(_))
        );
        if !ready || asked {
            return;
        }
        let op = self.op();
        self.details.insert((id, t), Pending::Loading(op));
        self.detail_order.retain(|&k| k != (id, t));
        self.detail_order.push((id, t));
        self.outbox.push(Command::Detail {
            dump: id,
            op,
            type_id: t,
        });
    }

    /// A dump's flame graph by `by`, once analysed.
    pub fn flame(&self, id: DumpId, by: FlameMeasure) -> Option<Rc<FlameDocument>> {
        match &self.dump(id)?.retained {
            Retained::Ready { flames, .. } => Some(match by {
                FlameMeasure::Retained => flames.0.clone(),
                FlameMeasure::Inclusive => flames.1.clone(),
            }),
            _ => None,
        }
    }

    /// A dump's answers, once analysed.
    pub fn answers(&self, id: DumpId) -> Option<Rc<Answers>> {
        match &self.dump(id)?.retained {
            Retained::Ready { answers, .. } => Some(answers.clone()),
            _ => None,
        }
    }

    /// Asks for what the comparison shows: the diff, and the groups and
    /// differential flame graph once both dumps are analysed.
    fn request_diff(&mut self) {
        self.request_diff_doc();
        self.request_groups();
        self.request_diff_flame();
        self.request_growth_findings();
    }

    fn request_diff_doc(&mut self) {
        let Some(c) = self.comparison.clone() else {
            return;
        };
        let answers = self.answers(c.base).zip(self.answers(c.current));
        match self.diffs.get(&(c.base, c.current)) {
            Some(Pending::Loading(_)) => return,
            // Asked again with retained sizes once both dumps have them.
            Some(Pending::Ready(d)) if d.retained || answers.is_none() => return,
            _ => {}
        }
        let stats = |id| {
            self.dump(id)
                .and_then(|d| d.loaded.as_ref())
                .map(|l| l.stats.clone())
        };
        let (Some(base), Some(current)) = (stats(c.base), stats(c.current)) else {
            return;
        };
        let op = self.op();
        self.diffs.insert((c.base, c.current), Pending::Loading(op));
        self.outbox.push(Command::Diff {
            op,
            base,
            current,
            answers,
        });
    }

    /// Asks for the comparison's differential flame graph (of the measure
    /// shown) once both dumps are analysed.
    fn request_diff_flame(&mut self) {
        let Some(c) = self.shown_comparison() else {
            return;
        };
        let by = self.flame_by;
        let key = (c.base, c.current, by);
        if self.diff_flames.contains_key(&key) {
            return;
        }
        let (Some(b), Some(cur)) = (self.answers(c.base), self.answers(c.current)) else {
            return;
        };
        let (Some(base), Some(current)) = (self.flame(c.base, by), self.flame(c.current, by))
        else {
            return;
        };
        let op = self.op();
        self.diff_flames.insert(key, Pending::Loading(op));
        self.outbox.push(Command::DiffFlame {
            op,
            base,
            current,
            base_format: b.stats.header.format.clone(),
            current_format: cur.stats.header.format.clone(),
        });
    }

    /// Asks for the group tables the views show (once the dumps are
    /// analysed, so groups have their inclusive and retained sizes), and
    /// for the comparison of the pair's groups once both sides have theirs.
    fn request_groups(&mut self) {
        self.request_folds();
        let mut wanted: Vec<(DumpId, GroupKind)> = Vec::new();
        if let (Some(by), View::Dump { id, .. }) = (self.types_group, self.view) {
            wanted.push((id, by));
        }
        let pair = self.shown_comparison();
        if let (Some(by), Some(c)) = (self.diff_group, &pair) {
            wanted.push((c.base, by));
            wanted.push((c.current, by));
        }
        for (dump, by) in wanted {
            if self.answers(dump).is_none() || self.groups.contains_key(&(dump, by)) {
                continue;
            }
            let op = self.op();
            self.groups.insert((dump, by), Pending::Loading(op));
            self.outbox.push(Command::Groups { dump, op, by });
        }
        if let (Some(by), Some(c)) = (self.diff_group, pair) {
            let key = (c.base, c.current, by);
            let ready = |id| match self.groups.get(&(id, by)) {
                Some(Pending::Ready(t)) => Some(t.clone()),
                _ => None,
            };
            if let (false, Some(base), Some(current)) = (
                self.diff_groups.contains_key(&key),
                ready(c.base),
                ready(c.current),
            ) {
                let op = self.op();
                self.diff_groups.insert(key, Pending::Loading(op));
                self.outbox.push(Command::DiffGroups { op, base, current });
            }
        }
    }

    /// Asks for the type table with folds the dump's screen shows (once the
    /// dump is analysed: folds go along PerfView's spanning tree).
    fn request_folds(&mut self) {
        let View::Dump { id: dump, .. } = self.view else {
            return;
        };
        let folds = self.types_fold.clone();
        if folds.is_empty()
            || self.answers(dump).is_none()
            || self.folds.contains_key(&(dump, folds.clone()))
        {
            return;
        }
        let op = self.op();
        self.folds
            .insert((dump, folds.clone()), Pending::Loading(op));
        self.outbox.push(Command::Fold { dump, op, folds });
    }

    /// The default pair of `ids` (read dumps): the newest as the current
    /// dump and the one before it as the baseline, by the time recorded in
    /// the dumps when each records one, else by file time (said in the
    /// basis, so the page can say so).
    pub fn default_pair(&self, ids: &[DumpId]) -> Option<Comparison> {
        let mut ds: Vec<(usize, &DumpEntry)> = ids
            .iter()
            .filter_map(|&id| self.dump(id))
            .filter(|d| d.is_ready())
            .enumerate()
            .collect();
        if ds.len() < 2 {
            return None;
        }
        let time = |d: &DumpEntry| d.loaded.as_ref().and_then(|l| l.dump_time);
        let all_timed = ds.iter().all(|(_, d)| time(d).is_some());
        if all_timed {
            ds.sort_by(|(i, a), (j, b)| {
                let (ta, tb) = (time(a).map(|t| t.seconds), time(b).map(|t| t.seconds));
                ta.cmp(&tb)
                    .then(a.file_time_ms.total_cmp(&b.file_time_ms))
                    .then(i.cmp(j))
            });
        } else {
            ds.sort_by(|(i, a), (j, b)| {
                a.file_time_ms
                    .total_cmp(&b.file_time_ms)
                    .then_with(|| a.name.cmp(&b.name))
                    .then(i.cmp(j))
            });
        }
        let n = ds.len();
        let (base, current) = (ds[n - 2].1, ds[n - 1].1);
        // The pair is the newest two; when both record their time, that
        // orders them, whatever their files say.
        if let (Some(tb), Some(tc)) = (time(base), time(current)) {
            let (base, current) = if tb.seconds > tc.seconds {
                (current, base)
            } else {
                (base, current)
            };
            return Some(Comparison {
                base: base.id,
                current: current.id,
                basis: Basis::DumpTime,
            });
        }
        Some(Comparison {
            base: base.id,
            current: current.id,
            basis: Basis::FileTime {
                untimed: [base, current]
                    .iter()
                    .filter(|d| time(d).is_none())
                    .map(|d| d.name.clone())
                    .collect(),
            },
        })
    }

    fn engine(&mut self, r: Response) {
        match r {
            Response::Hello(_)
            | Response::BenchRead { .. }
            | Response::BenchCompute { .. }
            | Response::WalkProgress { .. }
            | Response::Walked { .. } => {}
            Response::Progress { dump, op, progress } => {
                let Some(d) = self.dump_mut(dump) else { return };
                match &mut d.status {
                    DumpStatus::Opening { op: o, progress: p } if *o == op => {
                        *p = Some(progress);
                        return;
                    }
                    _ => {}
                }
                if let Retained::Computing { op: o, progress: p } = &mut d.retained {
                    if *o == op {
                        *p = Some(progress);
                    }
                }
            }
            Response::Opened {
                dump,
                op,
                stats,
                read,
            } => {
                let Some(d) = self.dump_mut(dump) else { return };
                if !matches!(d.status, DumpStatus::Opening { op: o, .. } if o == op) {
                    // A dump read again after its worker was stopped: its
                    // documents are those the page has.
                    return;
                }
                let loaded = Loaded::new(*stats, read);
                let text = format!(
                    "Finished reading {}: {} objects, {} in {} types.",
                    d.name,
                    crate::format::thousands(loaded.stats.objects),
                    crate::format::bytes(loaded.stats.bytes),
                    crate::format::thousands(loaded.stats.type_count)
                );
                d.status = DumpStatus::Ready;
                d.loaded = Some(Rc::new(loaded));
                self.announce(text);
                self.analyse(dump);
                self.after_ready(dump);
            }
            Response::Counted {
                dump,
                op,
                counts,
                read,
            } => {
                let Some(d) = self.dump_mut(dump) else { return };
                if !matches!(d.status, DumpStatus::Opening { op: o, .. } if o == op) {
                    return;
                }
                let text = format!(
                    "{} does not fit in this page's memory: showing the type statistics of all \
                     its {} objects, {} in {} types, without references.",
                    d.name,
                    crate::format::thousands(counts.objects),
                    crate::format::bytes(counts.bytes),
                    crate::format::thousands(counts.type_count)
                );
                d.status = DumpStatus::Counted(Rc::new(*counts), Rc::new(read));
                self.announce(text);
                self.after_ready(dump);
            }
            Response::Retained {
                dump,
                op,
                retained,
                answers,
                ms,
            } => {
                let Some(d) = self.dump_mut(dump) else { return };
                if !matches!(d.retained, Retained::Computing { op: o, .. } if o == op) {
                    return;
                }
                let by_id = Rc::new(retained.retained_by_id());
                let text = format!("Retained sizes of {} are ready.", d.name);
                let flames = Rc::new((
                    Rc::new(answers.retained_flame.clone()),
                    Rc::new(answers.inclusive_flame.clone()),
                ));
                d.retained = Retained::Ready {
                    doc: Rc::new(*retained),
                    by_id,
                    answers: Rc::new(*answers),
                    flames,
                    ms,
                };
                self.announce(text);
                // The overview leads with the dump's findings: asked for
                // as soon as the analysis they build on is there.
                self.request_contents(dump, ContentsQuery::Findings);
                if self.view == View::Compare {
                    self.request_diff();
                }
                self.request_groups();
            }
            Response::Folded {
                dump,
                op,
                folds,
                stats,
            } => {
                let key = (dump, folds);
                if self.folds.get(&key) == Some(&Pending::Loading(op)) {
                    self.folds.insert(key, Pending::Ready(Rc::new(*stats)));
                }
            }
            Response::Groups { dump, op, groups } => {
                let key = self
                    .groups
                    .iter()
                    .find(|(k, p)| k.0 == dump && **p == Pending::Loading(op))
                    .map(|(k, _)| *k);
                if let Some(k) = key {
                    self.groups.insert(k, Pending::Ready(Rc::new(*groups)));
                    self.request_groups();
                }
            }
            Response::DiffFlame { op, flame } => {
                let key = self
                    .diff_flames
                    .iter()
                    .find(|(_, p)| **p == Pending::Loading(op))
                    .map(|(k, _)| *k);
                if let Some(k) = key {
                    self.diff_flames.insert(k, Pending::Ready(Rc::new(*flame)));
                }
            }
            Response::DiffGroups { op, groups } => {
                let key = self
                    .diff_groups
                    .iter()
                    .find(|(_, p)| **p == Pending::Loading(op))
                    .map(|(k, _)| *k);
                if let Some(k) = key {
                    self.diff_groups.insert(k, Pending::Ready(Rc::new(*groups)));
                }
            }
            Response::Detail {
                dump,
                op,
                type_id,
                detail,
            } => {
                if self.details.get(&(dump, type_id)) == Some(&Pending::Loading(op)) {
                    self.details
                        .insert((dump, type_id), Pending::Ready(Rc::new(*detail)));
                }
            }
            Response::Contents {
                dump,
                op,
                query,
                doc,
            } => {
                let key = (dump, query);
                if self.contents.get(&key) == Some(&Pending::Loading(op)) {
                    let doc = Rc::new(*doc);
                    if self.export_pending.as_ref() == Some(&key) {
                        self.export_pending = None;
                        let cmd = self.download(dump, &doc);
                        self.outbox.push(cmd);
                    }
                    let baseline = matches!(*doc, ContentsDoc::Baseline(_));
                    self.contents.insert(key, Pending::Ready(doc));
                    if baseline {
                        self.request_growth_findings();
                    }
                }
            }
            Response::Diff { op, diff } => {
                let key = self
                    .diffs
                    .iter()
                    .find(|(_, p)| **p == Pending::Loading(op))
                    .map(|(k, _)| *k);
                if let Some(k) = key {
                    let text = format!(
                        "Comparison ready: {} types changed, {} in all.",
                        crate::format::thousands(diff.changed_types),
                        crate::format::signed_bytes(diff.bytes_delta)
                    );
                    self.diffs.insert(k, Pending::Ready(Rc::new(*diff)));
                    self.announce(text);
                    // Both dumps were analysed while it was made: again,
                    // by retained growth.
                    if self.view == View::Compare {
                        self.request_diff_doc();
                    }
                }
            }
            Response::Failed { dump, op, error } => self.failed(dump, op, error),
        }
    }

    fn failed(&mut self, dump: Option<DumpId>, op: Option<OpId>, error: EngineError) {
        if let Some(op) = op {
            let key = self
                .diffs
                .iter()
                .find(|(_, p)| **p == Pending::Loading(op))
                .map(|(k, _)| *k);
            if let Some(k) = key {
                self.diffs.insert(k, Pending::Failed(error));
                return;
            }
            let key = self
                .details
                .iter()
                .find(|(_, p)| **p == Pending::Loading(op))
                .map(|(k, _)| *k);
            if let Some(k) = key {
                self.details.insert(k, Pending::Failed(error));
                return;
            }
            let key = self
                .groups
                .iter()
                .find(|(_, p)| **p == Pending::Loading(op))
                .map(|(k, _)| *k);
            if let Some(k) = key {
                self.groups.insert(k, Pending::Failed(error));
                return;
            }
            let key = self
                .folds
                .iter()
                .find(|(_, p)| **p == Pending::Loading(op))
                .map(|(k, _)| k.clone());
            if let Some(k) = key {
                self.folds.insert(k, Pending::Failed(error));
                return;
            }
            let key = self
                .diff_groups
                .iter()
                .find(|(_, p)| **p == Pending::Loading(op))
                .map(|(k, _)| *k);
            if let Some(k) = key {
                self.diff_groups.insert(k, Pending::Failed(error));
                return;
            }
            let key = self
                .diff_flames
                .iter()
                .find(|(_, p)| **p == Pending::Loading(op))
                .map(|(k, _)| *k);
            if let Some(k) = key {
                self.diff_flames.insert(k, Pending::Failed(error));
                return;
            }
            let key = self
                .contents
                .iter()
                .find(|(_, p)| **p == Pending::Loading(op))
                .map(|(k, _)| k.clone());
            if let Some(k) = key {
                if self.export_pending.as_ref() == Some(&k) {
                    self.export_pending = None;
                }
                self.contents.insert(k, Pending::Failed(error));
                return;
            }
        }
        let Some(id) = dump else { return };
        let Some(d) = self.dump_mut(id) else { return };
        let for_op = |o: OpId| op.is_none_or(|op| op == o);
        match d.status {
            DumpStatus::Opening { op: o, .. } if for_op(o) => {
                let text = format!("Could not read {}: {}", d.name, error.message);
                d.status = DumpStatus::Failed(error);
                self.announce(text);
                self.after_ready(id);
                return;
            }
            _ => {}
        }
        if let Retained::Computing { op: o, .. } = d.retained {
            if for_op(o) {
                d.retained = if error.kind == ErrorKind::Cancelled {
                    Retained::Stopped
                } else {
                    Retained::Failed(error)
                };
            }
        }
    }

    /// A dump of the session was read (or failed): a linked view waiting
    /// for it, or the batch it came with, may now be shown.
    fn after_ready(&mut self, id: DumpId) {
        if let Some(r) = self.pending_route.clone() {
            if self.try_route(&r) {
                self.pending_route = None;
            }
            return;
        }
        let Some(bi) = self.batches.iter().position(|b| b.contains(&id)) else {
            return;
        };
        let batch = self.batches[bi].clone();
        let settled = batch.iter().all(|&d| {
            self.dump(d)
                .is_none_or(|d| !matches!(d.status, DumpStatus::Opening { .. }))
        });
        if !settled {
            return;
        }
        self.batches.remove(bi);
        let showing_batch = match self.view {
            View::Dump { id, .. } => batch.contains(&id),
            _ => false,
        };
        if let (true, Some(pair)) = (showing_batch, self.default_pair(&batch)) {
            self.comparison = Some(pair);
            self.view = View::Compare;
            self.request_diff();
        }
    }

    /// The ids of `keys`, matched by name and size to the dumps open (each
    /// dump at most once); `None` when one is not open.
    fn ids_of(&self, keys: &[DumpKey]) -> Option<Vec<DumpId>> {
        let mut used = Vec::new();
        for k in keys {
            let d = self
                .dumps
                .iter()
                .find(|d| d.key() == *k && !used.contains(&d.id) && d.is_ready())?;
            used.push(d.id);
        }
        Some(used)
    }

    /// Shows `r` if every dump it names is read; false if not.
    fn try_route(&mut self, r: &Route) -> bool {
        let Some(ids) = self.ids_of(&r.dumps) else {
            return false;
        };
        match r.screen {
            Screen::Landing => self.view = View::Landing,
            Screen::Overview { dump } => self.show_dump(ids[dump], Tab::Overview),
            Screen::Types { dump } => {
                self.types_view = r.table.clone();
                self.types_group = r.group;
                self.types_fold = r.fold.clone();
                self.show_dump(ids[dump], Tab::Types);
                self.request_groups();
            }
            Screen::Flame { dump } => {
                self.flame_by = r.flame_by;
                self.show_dump(ids[dump], Tab::Flame);
            }
            Screen::Detail { dump, type_id } => {
                self.types_view = r.table.clone();
                self.types_group = r.group;
                self.types_fold = r.fold.clone();
                self.show_dump(ids[dump], Tab::Detail(type_id));
            }
            Screen::Instances { dump, type_id } => {
                self.show_dump(ids[dump], Tab::Instances(type_id));
            }
            Screen::Object { dump, node } => self.show_dump(ids[dump], Tab::Object(node)),
            Screen::Strings { dump } => {
                self.strings_search = r.table.filter.clone();
                self.strings_view.sort = r.table.sort.clone();
                self.show_dump(ids[dump], Tab::Strings);
            }
            Screen::Waste { dump } => {
                self.waste_view = r.table.clone();
                self.show_dump(ids[dump], Tab::Waste);
            }
            Screen::Findings { dump } => self.show_dump(ids[dump], Tab::Findings),
            Screen::Compare { base, current } => {
                self.diff_view = r.table.clone();
                self.comparison = Some(Comparison {
                    base: ids[base],
                    current: ids[current],
                    basis: Basis::Chosen,
                });
                self.view = View::Compare;
                self.diff_group = r.group;
                self.flame_by = r.flame_by;
                self.request_diff();
                self.request_groups();
                self.request_diff_flame();
            }
        }
        true
    }

    fn route(&mut self, r: Route) {
        if r.dumps.is_empty() || r.screen == Screen::Landing && self.ids_of(&r.dumps).is_none() {
            self.pending_route = None;
            self.view = View::Landing;
            return;
        }
        if self.try_route(&r) {
            self.pending_route = None;
        } else {
            self.pending_route = Some(r);
            self.view = View::Landing;
        }
    }

    /// The route of what is shown: the dumps (all but failed ones, in
    /// order), the screen, its table's view.
    pub fn route_of(&self) -> Route {
        let listed: Vec<&DumpEntry> = self
            .dumps
            .iter()
            .filter(|d| !matches!(d.status, DumpStatus::Failed(_)))
            .collect();
        let at = |id: DumpId| listed.iter().position(|d| d.id == id);
        let (screen, table) = match self.view {
            View::Landing => (Screen::Landing, TableView::default()),
            View::Dump { id, tab } => match at(id) {
                None => (Screen::Landing, TableView::default()),
                Some(dump) => match tab {
                    Tab::Overview => (Screen::Overview { dump }, TableView::default()),
                    Tab::Types => (Screen::Types { dump }, self.types_view.clone()),
                    Tab::Flame => (Screen::Flame { dump }, TableView::default()),
                    Tab::Detail(type_id) => {
                        (Screen::Detail { dump, type_id }, self.types_view.clone())
                    }
                    Tab::Instances(type_id) => {
                        (Screen::Instances { dump, type_id }, TableView::default())
                    }
                    Tab::Object(node) => (Screen::Object { dump, node }, TableView::default()),
                    Tab::Strings => (
                        Screen::Strings { dump },
                        TableView {
                            sort: self.strings_view.sort.clone(),
                            filter: self.strings_search.clone(),
                        },
                    ),
                    Tab::Waste => (Screen::Waste { dump }, self.waste_view.clone()),
                    Tab::Findings => (Screen::Findings { dump }, TableView::default()),
                },
            },
            View::Compare => match self
                .comparison
                .as_ref()
                .map(|c| (at(c.base), at(c.current)))
            {
                Some((Some(base), Some(current))) => {
                    (Screen::Compare { base, current }, self.diff_view.clone())
                }
                _ => (Screen::Landing, TableView::default()),
            },
        };
        let group = match screen {
            Screen::Types { .. } | Screen::Detail { .. } => self.types_group,
            Screen::Compare { .. } => self.diff_group,
            _ => None,
        };
        let flame_by = match screen {
            Screen::Flame { .. } | Screen::Compare { .. } => self.flame_by,
            _ => FlameMeasure::Retained,
        };
        let fold = match screen {
            Screen::Types { .. } | Screen::Detail { .. } => self.types_fold.clone(),
            _ => Folds::default(),
        };
        Route {
            screen,
            dumps: listed.iter().map(|d| d.key()).collect(),
            table,
            group,
            flame_by,
            fold,
        }
    }

    /// The route the URL shows: a linked view still waiting for its dumps
    /// keeps its URL, so dropping them completes it.
    pub fn url_route(&self) -> Route {
        self.pending_route
            .clone()
            .unwrap_or_else(|| self.route_of())
    }

    /// The dumps a linked view still waits for (not open, or being read).
    pub fn waiting_for(&self) -> Vec<(DumpKey, bool)> {
        let Some(r) = &self.pending_route else {
            return Vec::new();
        };
        let mut used = Vec::new();
        r.dumps
            .iter()
            .filter_map(|k| {
                let d = self
                    .dumps
                    .iter()
                    .find(|d| d.key() == *k && !used.contains(&d.id));
                match d {
                    Some(d) if d.is_ready() => {
                        used.push(d.id);
                        None
                    }
                    Some(d) => {
                        used.push(d.id);
                        Some((k.clone(), true))
                    }
                    None => Some((k.clone(), false)),
                }
            })
            .collect()
    }

    /// The whole analysis as one document: every read dump's statistics,
    /// retained sizes when computed and the details looked at, and the
    /// comparison shown.
    pub fn analysis_document(&self) -> AnalysisDocument {
        let dumps = self
            .ready()
            .filter_map(|d| {
                let l = d.loaded.as_ref()?;
                Some(DumpAnalysis {
                    stats: (*l.stats).clone(),
                    retained: match &d.retained {
                        Retained::Ready { doc, .. } => Some((**doc).clone()),
                        _ => None,
                    },
                    roots: self
                        .detail_order
                        .iter()
                        .filter(|(id, _)| *id == d.id)
                        .filter_map(|k| match self.details.get(k) {
                            Some(Pending::Ready(doc)) => Some((**doc).clone()),
                            _ => None,
                        })
                        .collect(),
                })
            })
            .collect();
        let comparison = match self.current_diff() {
            Some(Pending::Ready(d)) => Some((**d).clone()),
            _ => None,
        };
        AnalysisDocument::new(dumps, comparison)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Sort;
    use heaplens_graph::{GraphBuilder, RootKind, TypeInfo, TypeKind};
    use heaplens_results::stats::stats_of;
    use heaplens_snapshot::{Snapshot, SnapshotInfo, Timestamp};

    /// A `stats` document of a small heap, with a dump time (ISO) or none.
    fn stats(file: &str, time: Option<Timestamp>) -> StatsDocument {
        let mut b = GraphBuilder::new();
        let t = b.add_type(TypeInfo {
            name: "A".into(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
        b.add_node(t, 10, 0x10, []).unwrap();
        b.add_root(0, RootKind::Static, Some("P.a"));
        let mut info = SnapshotInfo::new(heaplens_snapshot::format::by_name("gcdump").unwrap());
        info.dump_time = time;
        let snap = Snapshot {
            graph: b.finish().unwrap(),
            info,
        };
        StatsDocument::build_all(file, 100, &snap, &stats_of(&snap))
    }

    fn new_dump(id: u32, name: &str, file_time_ms: f64) -> NewDump {
        NewDump {
            id: DumpId(id),
            name: name.into(),
            size: 100,
            file_time_ms,
            modules: 0,
        }
    }

    /// Answers every open in the outbox with `docs` (by dump id).
    fn open_all(mut s: AppState, docs: &[(u32, StatsDocument)]) -> AppState {
        for c in s.outbox.drain() {
            if let Command::Open { dump, op } = c {
                let doc = docs.iter().find(|(id, _)| DumpId(*id) == dump).unwrap();
                s = s.reduce(Action::Engine(Response::Opened {
                    dump,
                    op,
                    stats: Box::new(doc.1.clone()),
                    read: ReadReport::default(),
                }));
            }
        }
        s
    }

    fn local(secs_after_2023_11_08: i64) -> Option<Timestamp> {
        // 2023-11-08T15:05:15 local, in .NET ticks.
        Some(Timestamp::LocalTicks(
            638_350_527_150_000_000 + secs_after_2023_11_08 * 10_000_000,
        ))
    }

    #[test]
    fn dump_times_parse() {
        let t = DumpTime::parse("2023-11-08T15:05:15").unwrap();
        assert_eq!(t.seconds, 1_699_455_915);
        assert!(!t.utc);
        assert!(DumpTime::parse("1970-01-01T00:00:00Z").unwrap().utc);
        assert_eq!(DumpTime::parse("1970-01-01T00:00:00Z").unwrap().seconds, 0);
        assert_eq!(
            DumpTime::parse("2024-03-01T00:00:00Z").unwrap().seconds,
            1_709_251_200
        );
        assert_eq!(DumpTime::parse("not a time"), None);
    }

    /// A dump whose open the worker answered with its counts (its graph
    /// did not fit) is shown as counted; its tabs ask its worker nothing
    /// (the worker holds nothing); it is not ready for a comparison.
    #[test]
    fn a_dump_read_without_its_graph_asks_nothing_more() {
        let mut s = AppState::default().reduce(Action::Add {
            dumps: vec![new_dump(1, "big.core", 1000.0)],
            stray_modules: 0,
        });
        let snap_doc = stats("big.core", None);
        let counts = heaplens_results::counts::CountsDocument {
            header: heaplens_results::DumpHeader {
                schema_version: heaplens_results::SCHEMA_VERSION,
                heaplens_version: String::new(),
                document: heaplens_results::DocumentKind::Counts,
                file: "big.core".into(),
                file_bytes: 100,
                complete: true,
                coverage: snap_doc.header.coverage.clone(),
                format: "elf-core".into(),
                archives: Vec::new(),
                pointer_size: Some(8),
                process_name: None,
                process_id: None,
            },
            dump_time: None,
            runtime: None,
            clr: None,
            notes: Vec::new(),
            counted: heaplens_results::counts::Counted::AllObjects,
            not_read: Vec::new(),
            reason: Some("does not fit".into()),
            objects: 1,
            bytes: 10,
            type_count: 1,
            free: Default::default(),
            types: Vec::new(),
        };
        for c in s.outbox.drain() {
            if let Command::Open { dump, op } = c {
                s = s.reduce(Action::Engine(Response::Counted {
                    dump,
                    op,
                    counts: Box::new(counts.clone()),
                    read: ReadReport::default(),
                }));
            }
        }
        let d = s.dump(DumpId(1)).unwrap();
        assert_eq!(
            d.status,
            DumpStatus::Counted(Rc::new(counts), Rc::new(ReadReport::default()))
        );
        assert!(!d.is_ready());
        assert_eq!(s.ready().count(), 0);
        for tab in [
            Tab::Findings,
            Tab::Strings,
            Tab::Detail(TypeId(0)),
            Tab::Flame,
        ] {
            s = s.reduce(Action::ShowDump(DumpId(1), tab));
            assert_eq!(s.view, View::Dump { id: DumpId(1), tab });
            assert_eq!(s.outbox.drain(), Vec::new(), "{tab:?}");
        }
    }

    /// A comparison asks the baseline's worker for what its detectors saw,
    /// then (once that is in) the current dump's worker for its findings
    /// against it, carrying it; asked once. A dump's own findings are
    /// asked for when its retained sizes are in (the overview leads with
    /// them).
    #[test]
    fn a_comparison_asks_for_its_growth_findings_through_the_baseline() {
        let s = AppState::default().reduce(Action::Add {
            dumps: vec![
                new_dump(1, "later.gcdump", 1000.0),
                new_dump(2, "earlier.gcdump", 2000.0),
            ],
            stray_modules: 0,
        });
        let s = open_all(
            s,
            &[
                (1, stats("later.gcdump", local(89))),
                (2, stats("earlier.gcdump", local(0))),
            ],
        );
        assert_eq!(s.view, View::Compare);
        let asked: Vec<(DumpId, ContentsQuery, bool, OpId)> = s
            .outbox
            .drain()
            .into_iter()
            .filter_map(|c| match c {
                Command::Contents {
                    dump,
                    op,
                    query,
                    baseline,
                } => Some((dump, query, baseline.is_some(), op)),
                _ => None,
            })
            .collect();
        // Only the baseline's observations: the growth findings wait.
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert_eq!(
            (asked[0].0, &asked[0].1, asked[0].2),
            (DumpId(2), &ContentsQuery::Baseline, false)
        );
        let baseline = Baseline {
            file: "earlier.gcdump".into(),
            complete: true,
            observations: heaplens_findings::Observations {
                reachable_bytes: 90,
                groups: Vec::new(),
                types: Default::default(),
                runs: Vec::new(),
            },
        };
        let s = s.reduce(Action::Engine(Response::Contents {
            dump: DumpId(2),
            op: asked[0].3,
            query: ContentsQuery::Baseline,
            doc: Box::new(ContentsDoc::Baseline(Box::new(baseline.clone()))),
        }));
        let want = ContentsQuery::GrowthFindings { base: DumpId(2) };
        match &s.outbox.drain()[..] {
            [Command::Contents {
                dump,
                query,
                baseline: Some(b),
                ..
            }] => {
                assert_eq!((*dump, query), (DumpId(1), &want));
                assert_eq!(**b, baseline);
            }
            c => panic!("{c:?}"),
        }
        assert_eq!(s.growth_findings_query(), Some((DumpId(1), want)));
        // Shown again: nothing asked again.
        let s = s.reduce(Action::ShowCompare);
        assert!(!s
            .outbox
            .drain()
            .iter()
            .any(|c| matches!(c, Command::Contents { .. })));
        // Closing the baseline forgets the findings against it.
        let s = s.reduce(Action::Close(DumpId(2)));
        assert!(!s
            .contents
            .keys()
            .any(|(_, q)| matches!(q, ContentsQuery::GrowthFindings { .. })));
    }

    /// Two dumps dropped together are compared, the older *by the time in
    /// the dumps* as the baseline, whatever their file times say.
    #[test]
    fn the_baseline_is_the_older_by_dump_time_not_file_time() {
        let s = AppState::default().reduce(Action::Add {
            // The later dump has the older file.
            dumps: vec![
                new_dump(1, "later.gcdump", 1000.0),
                new_dump(2, "earlier.gcdump", 2000.0),
            ],
            stray_modules: 0,
        });
        assert_eq!(
            s.view,
            View::Dump {
                id: DumpId(1),
                tab: Tab::Overview
            }
        );
        let s = open_all(
            s,
            &[
                (1, stats("later.gcdump", local(89))),
                (2, stats("earlier.gcdump", local(0))),
            ],
        );
        assert_eq!(s.view, View::Compare);
        let c = s.comparison.clone().unwrap();
        assert_eq!((c.base, c.current), (DumpId(2), DumpId(1)));
        assert_eq!(c.basis, Basis::DumpTime);
        // The diff is asked for, of the pair's documents.
        let cmds = s.outbox.drain();
        assert!(cmds.iter().any(
            |c| matches!(c, Command::Diff { base, .. } if base.header.file == "earlier.gcdump")
        ));
        // Swap turns it round (and says the user chose it).
        let s = s.reduce(Action::Swap);
        let c = s.comparison.clone().unwrap();
        assert_eq!(
            (c.base, c.current, c.basis),
            (DumpId(1), DumpId(2), Basis::Chosen)
        );
    }

    /// The comparison asks for what needs both dumps' analyses once both
    /// are in — the diff again by retained growth (also when the first diff
    /// was still on its way), the differential flame graph, the groups of
    /// each side and then their comparison — and the flame tab is in the
    /// URL.
    #[test]
    fn the_comparison_follows_the_analyses() {
        use crate::model::Opened;
        use heaplens_graph::NoProgress;
        let opened = |file: &str| {
            let mut b = GraphBuilder::new();
            let t = b.add_type(TypeInfo {
                name: "App.A".into(),
                module: None,
                kind: TypeKind::Object,
                method_table: 0,
            });
            b.add_node(t, 10, 0x10, []).unwrap();
            b.add_root(0, RootKind::Static, Some("P.a"));
            let snap = Snapshot {
                graph: b.finish().unwrap(),
                info: SnapshotInfo::new(heaplens_snapshot::format::by_name("gcdump").unwrap()),
            };
            let mut o = Opened::new(snap, file, 100);
            o.analyse(&mut NoProgress).unwrap();
            o
        };
        let (a, b) = (opened("a.gcdump"), opened("b.gcdump"));
        let s = AppState::default().reduce(Action::Add {
            dumps: vec![
                new_dump(1, "a.gcdump", 1000.0),
                new_dump(2, "b.gcdump", 2000.0),
            ],
            stray_modules: 0,
        });
        let mut s = open_all(s, &[(1, a.document.clone()), (2, b.document.clone())]);
        assert_eq!(s.view, View::Compare);
        let cmds = s.outbox.drain();
        let diff_op = cmds
            .iter()
            .find_map(|c| match c {
                Command::Diff { op, answers, .. } => {
                    assert!(answers.is_none());
                    Some(*op)
                }
                _ => None,
            })
            .unwrap();
        s = s.reduce(Action::GroupDiff(Some(GroupKind::Namespace)));
        // The analyses come in before the first diff.
        for c in &cmds {
            if let Command::Analyse { dump, op } = c {
                let o = if *dump == DumpId(1) { &a } else { &b };
                s = s.reduce(Action::Engine(Response::Retained {
                    dump: *dump,
                    op: *op,
                    retained: Box::new(o.retained.clone().unwrap()),
                    answers: Box::new(o.answers.clone().unwrap()),
                    ms: 1.0,
                }));
            }
        }
        let cmds = s.outbox.drain();
        assert!(cmds.iter().any(|c| matches!(c, Command::DiffFlame { .. })));
        let groups: Vec<(DumpId, OpId)> = cmds
            .iter()
            .filter_map(|c| match c {
                Command::Groups { dump, op, .. } => Some((*dump, *op)),
                _ => None,
            })
            .collect();
        assert_eq!(groups.len(), 2, "{cmds:?}");
        // The first diff arrives: asked again, with both answers.
        let first = crate::model::diff(&a.document, &b.document).unwrap();
        s = s.reduce(Action::Engine(Response::Diff {
            op: diff_op,
            diff: Box::new(first),
        }));
        assert!(s.outbox.drain().iter().any(|c| matches!(
            c,
            Command::Diff {
                answers: Some(_),
                ..
            }
        )));
        // Each side's groups, then their comparison.
        for (dump, op) in groups {
            let o = if dump == DumpId(1) { &a } else { &b };
            s = s.reduce(Action::Engine(Response::Groups {
                dump,
                op,
                groups: Box::new(o.groups(GroupKind::Namespace)),
            }));
        }
        assert!(s
            .outbox
            .drain()
            .iter()
            .any(|c| matches!(c, Command::DiffGroups { .. })));
        // The flame tab has a URL of its own.
        let s = s.reduce(Action::ShowDump(DumpId(1), Tab::Flame));
        let r = s.url_route();
        assert_eq!(r.screen, Screen::Flame { dump: 0 });
        assert_eq!(Route::parse(&r.to_fragment()), r);
    }

    /// Dumps that record no time (cores) are ordered by file time, and the
    /// basis says which dumps lack a time so the page can say so.
    #[test]
    fn without_dump_times_the_file_time_decides_and_says_so() {
        let s = AppState::default().reduce(Action::Add {
            dumps: vec![new_dump(1, "b.core", 5000.0), new_dump(2, "a.core", 1000.0)],
            stray_modules: 0,
        });
        let s = open_all(
            s,
            &[(1, stats("b.core", None)), (2, stats("a.core", local(0)))],
        );
        let c = s.comparison.clone().unwrap();
        assert_eq!((c.base, c.current), (DumpId(2), DumpId(1)));
        assert_eq!(
            c.basis,
            Basis::FileTime {
                untimed: vec!["b.core".into()]
            }
        );
    }

    /// Of several dumps, one without a time: the newest two files are the
    /// pair, and when both of them record their time, that orders them.
    #[test]
    fn a_pair_that_records_its_times_is_ordered_by_them() {
        let s = AppState::default().reduce(Action::Add {
            dumps: vec![
                new_dump(1, "x.core", 1000.0),
                new_dump(2, "p.gcdump", 3000.0),
                new_dump(3, "q.gcdump", 2000.0),
            ],
            stray_modules: 0,
        });
        let s = open_all(
            s,
            &[
                (1, stats("x.core", None)),
                (2, stats("p.gcdump", local(50))),
                (3, stats("q.gcdump", local(0))),
            ],
        );
        let c = s.comparison.clone().unwrap();
        assert_eq!(
            (c.base, c.current, c.basis),
            (DumpId(3), DumpId(2), Basis::DumpTime)
        );
    }

    /// Any number of dumps: three open at once, the default pair is the
    /// newest two, closing one keeps the others, cancelling an open keeps
    /// the dumps already read.
    #[test]
    fn three_dumps_close_one_cancel_another() {
        let s = AppState::default().reduce(Action::Add {
            dumps: vec![
                new_dump(1, "one.gcdump", 0.0),
                new_dump(2, "two.gcdump", 0.0),
                new_dump(3, "three.gcdump", 0.0),
            ],
            stray_modules: 0,
        });
        let s = open_all(
            s,
            &[
                (1, stats("one.gcdump", local(0))),
                (2, stats("two.gcdump", local(10))),
                (3, stats("three.gcdump", local(20))),
            ],
        );
        assert_eq!(s.ready().count(), 3);
        let c = s.comparison.clone().unwrap();
        assert_eq!((c.base, c.current), (DumpId(2), DumpId(3)));
        // Every read dump's retained sizes are asked for.
        let analyses = s
            .dumps
            .iter()
            .filter(|d| matches!(d.retained, Retained::Computing { .. }))
            .count();
        assert_eq!(analyses, 3);
        s.outbox.drain();
        let s = s.reduce(Action::Close(DumpId(3)));
        assert_eq!(s.dumps.len(), 2);
        assert!(s.comparison.is_none(), "the pair lost its current dump");
        assert!(s
            .outbox
            .drain()
            .contains(&Command::Close { dump: DumpId(3) }));
        // A fourth dump is being read; cancelling it keeps the two.
        let s = s.reduce(Action::Add {
            dumps: vec![new_dump(4, "four.gcdump", 0.0)],
            stray_modules: 0,
        });
        let op = match s.dump(DumpId(4)).unwrap().status {
            DumpStatus::Opening { op, .. } => op,
            _ => unreachable!(),
        };
        let s = s.reduce(Action::CancelOpen(DumpId(4)));
        assert_eq!(s.dumps.len(), 2);
        assert!(s.outbox.drain().contains(&Command::Cancel {
            dump: Some(DumpId(4)),
            op,
            keep: false
        }));
        assert!(s
            .notice
            .as_deref()
            .unwrap()
            .contains("Stopped reading four.gcdump"));
        assert!(matches!(s.view, View::Dump { id, .. } if s.dump(id).unwrap().is_ready()));
        // Stopping retained sizes keeps the dump, and a late answer to the
        // stopped operation is dropped.
        let s = s.reduce(Action::CancelRetained(DumpId(1)));
        let d = s.dump(DumpId(1)).unwrap();
        assert_eq!(d.retained, Retained::Stopped);
        assert!(d.is_ready());
    }

    /// The URL: what is shown becomes a route; a route from the URL waits
    /// for its files and shows its view once they are read again.
    #[test]
    fn a_linked_view_returns_when_its_files_are_dropped_again() {
        let s = AppState::default().reduce(Action::Add {
            dumps: vec![new_dump(1, "a.gcdump", 0.0)],
            stray_modules: 0,
        });
        let s = open_all(s, &[(1, stats("a.gcdump", None))]);
        let s = s
            .reduce(Action::TypesView(TableView {
                sort: Some(Sort::new("count", true)),
                filter: "x".into(),
            }))
            .reduce(Action::ShowDump(DumpId(1), Tab::Detail(TypeId(0))));
        let route = s.url_route();
        let fragment = route.to_fragment();
        assert!(fragment.starts_with("#/detail?"), "{fragment}");
        // A reload: a new page gets the URL, then the same file.
        let fresh = AppState::default().reduce(Action::Route(Route::parse(&fragment)));
        assert_eq!(fresh.view, View::Landing);
        assert_eq!(fresh.url_route(), route, "the URL is kept while waiting");
        assert_eq!(fresh.waiting_for().len(), 1);
        let fresh = fresh.reduce(Action::Add {
            dumps: vec![new_dump(7, "a.gcdump", 0.0)],
            stray_modules: 0,
        });
        let fresh = open_all(fresh, &[(7, stats("a.gcdump", None))]);
        assert_eq!(
            fresh.view,
            View::Dump {
                id: DumpId(7),
                tab: Tab::Detail(TypeId(0))
            }
        );
        assert_eq!(fresh.types_view, s.types_view);
        assert!(fresh.pending_route.is_none());
        assert_eq!(fresh.url_route(), route);
        assert!(fresh.outbox.drain().iter().any(|c| matches!(
            c,
            Command::Detail {
                type_id: TypeId(0),
                ..
            }
        )));
        // Back to the overview: a route of the open dump is shown at once.
        let back = fresh.reduce(Action::Route(Route::parse(
            "#/overview?d=100:a.gcdump&dump=0",
        )));
        assert_eq!(
            back.view,
            View::Dump {
                id: DumpId(7),
                tab: Tab::Overview
            }
        );
    }

    #[test]
    fn the_export_holds_every_read_dump_and_the_comparison() {
        let s = AppState::default().reduce(Action::Add {
            dumps: vec![new_dump(1, "a.gcdump", 0.0), new_dump(2, "b.gcdump", 0.0)],
            stray_modules: 0,
        });
        let (a, b) = (stats("a.gcdump", local(0)), stats("b.gcdump", local(5)));
        let s = open_all(s, &[(1, a.clone()), (2, b.clone())]);
        let op = s
            .outbox
            .drain()
            .into_iter()
            .find_map(|c| match c {
                Command::Diff { op, .. } => Some(op),
                _ => None,
            })
            .unwrap();
        let diff = crate::model::diff(&a, &b).unwrap();
        let s = s.reduce(Action::Engine(Response::Diff {
            op,
            diff: Box::new(diff.clone()),
        }));
        let doc = s.analysis_document();
        assert_eq!(doc.dumps.len(), 2);
        assert_eq!(doc.dumps[0].stats, a);
        assert_eq!(doc.comparison, Some(diff));
        assert!(s.announcement.1.starts_with("Comparison ready"));
    }

    /// The contents views: a tab asks its worker once; the answer is kept;
    /// an export without values asks for that version and downloads it
    /// when it comes, named so; a failure (a .gcdump has no contents) is
    /// kept for its question.
    #[test]
    fn contents_are_asked_once_and_exported_with_or_without_values() {
        use heaplens_results::object::{ObjectDocument, ObjectOptions};
        let s = AppState::default().reduce(Action::Add {
            dumps: vec![new_dump(1, "a.gcdump", 0.0)],
            stray_modules: 0,
        });
        let s = open_all(s, &[(1, stats("a.gcdump", None))]);
        s.outbox.drain();
        let node = NodeId(0);
        let s = s.reduce(Action::ShowDump(DumpId(1), Tab::Object(node)));
        let q = ContentsQuery::Object { node, values: true };
        let cmds = s.outbox.drain();
        let op = match &cmds[..] {
            [Command::Contents {
                dump, op, query, ..
            }] if *dump == DumpId(1) && *query == q => *op,
            c => panic!("{c:?}"),
        };
        // Shown again: not asked again.
        let s = s
            .reduce(Action::ShowDump(DumpId(1), Tab::Types))
            .reduce(Action::ShowDump(DumpId(1), Tab::Object(node)));
        assert!(s.outbox.drain().is_empty());
        assert_eq!(s.last_object.get(&DumpId(1)), Some(&node));
        let mut b = GraphBuilder::new();
        let t = b.add_type(TypeInfo {
            name: "A".into(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
        b.add_node(t, 10, 0x10, []).unwrap();
        let snap = Snapshot {
            graph: b.finish().unwrap(),
            info: SnapshotInfo::new(heaplens_snapshot::format::by_name("gcdump").unwrap()),
        };
        let doc = |values| {
            ContentsDoc::Object(ObjectDocument::build(
                "a.gcdump",
                &snap,
                0,
                Err("no contents".into()),
                None,
                ObjectOptions {
                    values,
                    ..ObjectOptions::default()
                },
            ))
        };
        let s = s.reduce(Action::Engine(Response::Contents {
            dump: DumpId(1),
            op,
            query: q.clone(),
            doc: Box::new(doc(true)),
        }));
        assert!(matches!(
            s.contents.get(&(DumpId(1), q.clone())),
            Some(Pending::Ready(_))
        ));
        // Export as shown: at once (named by what it carries: this object
        // of a .gcdump has no values).
        let s = s.reduce(Action::ExportContents {
            dump: DumpId(1),
            query: q.clone(),
            values: true,
        });
        match &s.outbox.drain()[..] {
            [Command::Download { name, .. }] => assert_eq!(name, "a-object-0x10-no-values.json"),
            c => panic!("{c:?}"),
        }
        // Without values: asked for, then downloaded.
        let s = s.reduce(Action::ExportContents {
            dump: DumpId(1),
            query: q.clone(),
            values: false,
        });
        let nq = ContentsQuery::Object {
            node,
            values: false,
        };
        let op = match &s.outbox.drain()[..] {
            [Command::Contents { query, op, .. }] if *query == nq => *op,
            c => panic!("{c:?}"),
        };
        let s = s.reduce(Action::Engine(Response::Contents {
            dump: DumpId(1),
            op,
            query: nq,
            doc: Box::new(doc(false)),
        }));
        match &s.outbox.drain()[..] {
            [Command::Download { name, json }] => {
                assert_eq!(name, "a-object-0x10-no-values.json");
                assert!(json.contains("\"values\": false"), "{json}");
            }
            c => panic!("{c:?}"),
        }
        assert!(s.export_pending.is_none());
        // The strings of a .gcdump: the worker says it has no contents.
        let s = s.reduce(Action::ShowDump(DumpId(1), Tab::Strings));
        let op = match &s.outbox.drain()[..] {
            [Command::Contents { op, .. }] => *op,
            c => panic!("{c:?}"),
        };
        let s = s.reduce(Action::Engine(Response::Failed {
            dump: Some(DumpId(1)),
            op: Some(op),
            error: EngineError::new(ErrorKind::NoContents, "no contents"),
        }));
        let sq = s.query_of(Tab::Strings).unwrap();
        assert!(matches!(
            s.contents.get(&(DumpId(1), sq)),
            Some(Pending::Failed(e)) if e.kind == ErrorKind::NoContents
        ));
        assert!(s.dump(DumpId(1)).unwrap().is_ready());
        // A search is another question; the URL keeps it.
        let s = s.reduce(Action::SearchStrings(DumpId(1), "abc".into()));
        assert!(matches!(
            &s.outbox.drain()[..],
            [Command::Contents { query: ContentsQuery::Strings { search: Some(t), .. }, .. }] if t == "abc"
        ));
        assert!(s.url_route().to_fragment().contains("q=abc"));
        // Instances: a type's first page; another order starts again.
        let s = s.reduce(Action::ShowInstances(DumpId(1), TypeId(0)));
        s.outbox.drain();
        let s = s.reduce(Action::InstancesView(InstancesView {
            sort: InstanceSort::Size,
            offset: 50,
        }));
        assert!(matches!(
            &s.outbox.drain()[..],
            [Command::Contents {
                query: ContentsQuery::Instances {
                    sort: InstanceSort::Size,
                    offset: 50,
                    ..
                },
                ..
            }]
        ));
        // Closing the dump forgets its answers.
        let s = s.reduce(Action::Close(DumpId(1)));
        assert!(s.contents.is_empty());
    }

    #[test]
    fn a_partial_dump_says_so() {
        let mut st = stats("p.core", None);
        let loaded = |st: &StatsDocument| Loaded::new(st.clone(), ReadReport::default());
        assert_eq!(loaded(&st).coverage_note(), None);
        st.header.complete = false;
        st.header.coverage.complete = false;
        st.header.coverage.summary = Some("heap: 25.0 % of 4.0 MB captured".into());
        assert_eq!(
            loaded(&st).coverage_note(),
            Some(CoverageNote::Partial(
                "heap: 25.0 % of 4.0 MB captured".into()
            ))
        );
        // A file cut short past all the result needs: whole, with a note.
        st.header.complete = true;
        st.header.coverage.complete = true;
        assert!(matches!(
            loaded(&st).coverage_note(),
            Some(CoverageNote::Note(_))
        ));
    }
}
