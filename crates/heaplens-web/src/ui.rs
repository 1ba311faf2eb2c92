//! The Yew UI: landing page, progress, overview, type table, type detail
//! and the comparison of two dumps. It talks to the worker only through
//! [`crate::protocol`] and never reads dump bytes itself.

use crate::format::{bytes, duration_ms, percent, signed_bytes, signed_thousands, thousands};
use crate::protocol::{split_files, ProgressReport, ReadReport, Request, Response, Slot};
use heaplens_results::diff::{DiffDocument, DiffRow, DiffStatus};
use heaplens_results::roots::{RefNode, RootsDocument};
use heaplens_results::stats::{StatsDocument, TypeStatsRow};
use heaplens_results::TypeId;
use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File, HtmlElement, HtmlInputElement, MessageEvent, Worker};
use yew::prelude::*;

/// What the landing page says about module files.
pub const MODULES_HINT: &str = "Types shown as module!token (System.Private.CoreLib!0x02000075)? \
Some dumps leave the assemblies' images out (.NET Core 3.1 Linux cores taken with --withheap, \
Windows heap-only minidumps). Drop or choose the DLLs together with the dump: the application's \
DLLs and those of the runtime's shared/Microsoft.NETCore.App/<version>/ folder of the same build. \
They are read here too, only for the assemblies the dump names; the overview's notes say which \
modules still lack metadata.";

/// Module files to open a dump with (shared by the dumps dropped together).
type Modules = Rc<Vec<File>>;

/// Height of a table row in pixels (the virtualised tables rely on it; the
/// CSS sets the same).
const ROW_HEIGHT: f64 = 30.0;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 12;

/// Starts the app in the page's `<body>`.
pub fn start() {
    let root = gloo_root();
    yew::Renderer::<App>::with_root(root).render();
}

fn gloo_root() -> web_sys::Element {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .expect("a document");
    doc.get_element_by_id("app")
        .or_else(|| doc.body().map(Into::into))
        .expect("a body")
}

/// One opened dump, as the UI holds it.
#[derive(Clone, PartialEq)]
pub struct Loaded {
    /// Its overview and type table (the `stats` document).
    stats: Rc<StatsDocument>,
    /// How the worker read it.
    read: Rc<ReadReport>,
    /// The position of each row in `stats.types`, by id.
    index: Rc<HashMap<TypeId, usize>>,
    /// Lower-cased names, for the filter.
    lower: Rc<Vec<String>>,
    /// Per row of `stats.types`: the retained bytes, joined by id once the
    /// `retained` document arrived (`None` inside: no reachable object).
    retained: Option<Rc<Vec<Option<u64>>>>,
    /// Retained analysis time, once the retained sizes arrived.
    retained_ms: Option<f64>,
}

impl Loaded {
    fn new(stats: StatsDocument, read: ReadReport) -> Self {
        let lower = stats.types.iter().map(|r| r.name.to_lowercase()).collect();
        let index = stats
            .types
            .iter()
            .enumerate()
            .map(|(i, r)| (r.id, i))
            .collect();
        Loaded {
            stats: Rc::new(stats),
            read: Rc::new(read),
            index: Rc::new(index),
            lower: Rc::new(lower),
            retained: None,
            retained_ms: None,
        }
    }

    /// The row of type `id`.
    fn row(&self, id: TypeId) -> Option<&TypeStatsRow> {
        self.stats.types.get(*self.index.get(&id)?)
    }

    /// The retained bytes of the row at `pos` of `stats.types`, once known.
    fn retained_at(&self, pos: usize) -> Option<u64> {
        self.retained.as_ref()?.get(pos).copied().flatten()
    }
}

/// Columns of the type table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TypeCol {
    /// Type name.
    Name,
    /// Object count.
    Count,
    /// Bytes (and %).
    Bytes,
    /// Retained bytes.
    Retained,
}

/// Columns of the delta table.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DiffCol {
    /// Type name.
    Name,
    /// Change in bytes.
    BytesDelta,
    /// Change in objects.
    CountDelta,
    /// Bytes in the current dump.
    Current,
}

/// The tabs of the analysis screen.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Tab {
    /// The overview.
    Overview,
    /// The type table.
    Types,
    /// A type's detail.
    Detail,
    /// The delta table of a comparison.
    Growth,
    /// The baseline's overview.
    Baseline,
    /// The current dump's overview.
    Current,
}

/// What fills the window.
#[derive(Clone, PartialEq)]
enum Screen {
    Landing,
    Loading {
        slot: Slot,
        file_name: String,
        file_size: u64,
        /// Module files sent with it.
        modules: usize,
        progress: Option<ProgressReport>,
    },
    Error {
        title: String,
        message: String,
    },
    Single,
    Diff,
}

/// Messages of the app.
pub enum Msg {
    /// A message from the worker (JSON).
    FromWorker(String),
    /// The worker failed outside the engine (it cannot go on).
    WorkerError(String),
    /// Files were dropped or chosen together on a slot's drop zone: a dump
    /// (two on the main zone: a comparison), and `.dll`/`.exe` module files.
    Open(Slot, Vec<File>),
    /// Stop reading.
    Cancel,
    /// Back to the landing page, forgetting everything.
    Reset,
    /// Show a tab.
    Tab(Tab),
    /// Sort the type table.
    SortTypes(TypeCol),
    /// Filter the type table.
    FilterTypes(String),
    /// Open a type's detail.
    Select(TypeId),
    /// Open a type of the current dump from the delta table.
    SelectCurrent(TypeId),
    /// Open or close a referred-from entry.
    ToggleRef(u32),
    /// Sort the delta table.
    SortDiff(DiffCol),
    /// Filter the delta table.
    FilterDiff(String),
    /// A drag is over a drop zone (which one), or left it.
    DragOver(Option<Slot>),
}

/// The app.
pub struct App {
    worker: Worker,
    ready: bool,
    queue: Vec<js_sys::Object>,
    _onmessage: OnMessage,
    _onerror: OnError,
    screen: Screen,
    tab: Tab,
    single: Option<Loaded>,
    baseline: Option<Loaded>,
    current: Option<Loaded>,
    /// Files waiting for the worker (a baseline and a current dropped together).
    pending: Vec<(Slot, File, Modules)>,
    diff: Option<Rc<DiffDocument>>,
    diff_lower: Rc<Vec<String>>,
    type_sort: (TypeCol, bool),
    type_filter: String,
    type_order: Rc<Vec<u32>>,
    diff_sort: (DiffCol, bool),
    diff_filter: String,
    diff_order: Rc<Vec<u32>>,
    /// (slot, type id) of the detail shown.
    selected: Option<(Slot, TypeId)>,
    detail: Option<Rc<RootsDocument>>,
    open_refs: HashSet<u32>,
    drag: Option<Slot>,
    /// A note shown on the landing page (after a cancel, for instance).
    notice: Option<String>,
    /// Test knob from `?e2e-slow-progress=MS` (see [`Request::Open`]).
    slow_progress_ms: u32,
}

type OnMessage = Closure<dyn FnMut(MessageEvent)>;
type OnError = Closure<dyn FnMut(web_sys::ErrorEvent)>;

fn spawn_worker(link: &yew::html::Scope<App>) -> (Worker, OnMessage, OnError) {
    let opts = web_sys::WorkerOptions::new();
    opts.set_name("heaplens-engine");
    let worker = Worker::new_with_options("./worker_loader.js", &opts).expect("a Web Worker");
    let l = link.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
        if let Some(s) = ev.data().as_string() {
            l.send_message(Msg::FromWorker(s));
        }
    });
    let l = link.clone();
    let onerror = Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
        ev.prevent_default();
        let m = ev.message();
        l.send_message(Msg::WorkerError(if m.is_empty() {
            "the worker could not start (its script or wasm module failed to load)".to_owned()
        } else {
            m
        }));
    });
    worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
    (worker, onmessage, onerror)
}

impl App {
    fn post(&mut self, req: &Request, file: Option<&File>) {
        self.post_with_modules(req, file, &[]);
    }

    /// Posts a request with the dump's `File` and module `File`s beside it
    /// (handles: the browser does not copy their bytes).
    fn post_with_modules(&mut self, req: &Request, file: Option<&File>, modules: &[File]) {
        let msg = js_sys::Object::new();
        let json = serde_json::to_string(req).expect("requests serialise");
        let _ = js_sys::Reflect::set(&msg, &"req".into(), &json.into());
        if let Some(f) = file {
            let _ = js_sys::Reflect::set(&msg, &"file".into(), f);
        }
        if !modules.is_empty() {
            let list: js_sys::Array = modules.iter().collect();
            let _ = js_sys::Reflect::set(&msg, &"modules".into(), &list);
        }
        if self.ready {
            let _ = self.worker.post_message(&msg);
        } else {
            self.queue.push(msg);
        }
    }

    fn restart_worker(&mut self, ctx: &Context<Self>) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
        let (w, m, e) = spawn_worker(ctx.link());
        self.worker = w;
        // This may run inside the old handlers (a panic report): they must
        // outlive this call, so they are leaked (a few bytes per restart).
        std::mem::replace(&mut self._onmessage, m).forget();
        std::mem::replace(&mut self._onerror, e).forget();
        self.ready = false;
        self.queue.clear();
        self.pending.clear();
        self.single = None;
        self.baseline = None;
        self.current = None;
        self.diff = None;
        self.detail = None;
        self.selected = None;
    }

    fn start_open(&mut self, slot: Slot, file: File, modules: Modules) {
        self.notice = None;
        if slot == Slot::Single {
            self.single = None;
            self.baseline = None;
            self.current = None;
            self.diff = None;
        } else {
            self.single = None;
            self.diff = None;
            match slot {
                Slot::Baseline => self.baseline = None,
                _ => self.current = None,
            }
        }
        self.detail = None;
        self.selected = None;
        self.screen = Screen::Loading {
            slot,
            file_name: file.name(),
            file_size: file.size() as u64,
            modules: modules.len(),
            progress: None,
        };
        let slow_progress_ms = self.slow_progress_ms;
        self.post_with_modules(
            &Request::Open {
                slot,
                slow_progress_ms,
            },
            Some(&file),
            &modules,
        );
    }

    fn loaded(&self, slot: Slot) -> Option<&Loaded> {
        match slot {
            Slot::Single => self.single.as_ref(),
            Slot::Baseline => self.baseline.as_ref(),
            Slot::Current => self.current.as_ref(),
        }
    }

    fn loaded_mut(&mut self, slot: Slot) -> &mut Option<Loaded> {
        match slot {
            Slot::Single => &mut self.single,
            Slot::Baseline => &mut self.baseline,
            Slot::Current => &mut self.current,
        }
    }

    /// The dump the type table and detail show.
    fn table_slot(&self) -> Slot {
        if self.screen == Screen::Diff {
            Slot::Current
        } else {
            Slot::Single
        }
    }

    fn recompute_type_order(&mut self) {
        let Some(l) = self.loaded(self.table_slot()) else {
            self.type_order = Rc::new(Vec::new());
            return;
        };
        let rows = &l.stats.types;
        let needle = self.type_filter.trim().to_lowercase();
        let mut order: Vec<u32> = (0..rows.len() as u32)
            .filter(|&i| needle.is_empty() || l.lower[i as usize].contains(&needle))
            .collect();
        let (col, desc) = self.type_sort;
        let key = |i: u32| -> (u64, u64) {
            let r = &rows[i as usize];
            match col {
                TypeCol::Count => (r.count, r.bytes),
                TypeCol::Retained => (l.retained_at(i as usize).unwrap_or(0), r.bytes),
                _ => (r.bytes, r.count),
            }
        };
        match col {
            TypeCol::Name => order.sort_by(|&a, &b| {
                let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
                ra.name.cmp(&rb.name).then(a.cmp(&b))
            }),
            _ => order.sort_by(|&a, &b| key(b).cmp(&key(a)).then(a.cmp(&b))),
        }
        let default_desc = col != TypeCol::Name;
        if desc != default_desc {
            order.reverse();
        }
        self.type_order = Rc::new(order);
    }

    fn recompute_diff_order(&mut self) {
        let Some(d) = &self.diff else {
            self.diff_order = Rc::new(Vec::new());
            return;
        };
        let needle = self.diff_filter.trim().to_lowercase();
        let mut order: Vec<u32> = (0..d.types.len() as u32)
            .filter(|&i| needle.is_empty() || self.diff_lower[i as usize].contains(&needle))
            .collect();
        let (col, desc) = self.diff_sort;
        let rows = &d.types;
        match col {
            // Growth first: by bytes gained, then objects gained, then name.
            DiffCol::BytesDelta => order.sort_by(|&a, &b| {
                let (ra, rb) = (&rows[a as usize], &rows[b as usize]);
                rb.bytes_delta
                    .cmp(&ra.bytes_delta)
                    .then(rb.count_delta.cmp(&ra.count_delta))
                    .then_with(|| ra.name.cmp(&rb.name))
            }),
            DiffCol::Name => {
                order.sort_by(|&a, &b| rows[a as usize].name.cmp(&rows[b as usize].name))
            }
            DiffCol::CountDelta => order.sort_by(|&a, &b| {
                rows[b as usize]
                    .count_delta
                    .cmp(&rows[a as usize].count_delta)
                    .then(a.cmp(&b))
            }),
            DiffCol::Current => order.sort_by(|&a, &b| {
                rows[b as usize]
                    .bytes_current
                    .cmp(&rows[a as usize].bytes_current)
                    .then(a.cmp(&b))
            }),
        }
        let default_desc = col != DiffCol::Name;
        if desc != default_desc {
            order.reverse();
        }
        self.diff_order = Rc::new(order);
    }

    fn on_response(&mut self, ctx: &Context<Self>, resp: Response) {
        match resp {
            Response::Ready => {
                self.ready = true;
                for m in std::mem::take(&mut self.queue) {
                    let _ = self.worker.post_message(&m);
                }
            }
            Response::Progress(p) => {
                if let Screen::Loading { progress, slot, .. } = &mut self.screen {
                    if p.slot == Some(*slot) {
                        *progress = Some(p);
                    }
                }
            }
            Response::Opened { slot, stats, read } => {
                *self.loaded_mut(slot) = Some(Loaded::new(stats, read));
                match slot {
                    Slot::Single => {
                        self.screen = Screen::Single;
                        self.tab = Tab::Overview;
                        self.type_filter.clear();
                        self.type_sort = (TypeCol::Bytes, true);
                        self.recompute_type_order();
                    }
                    _ => {
                        if let Some((s, f, m)) = self.pending.pop() {
                            self.start_open(s, f, m);
                        } else if self.baseline.is_some() && self.current.is_some() {
                            self.post(&Request::Diff, None);
                        } else {
                            self.screen = Screen::Landing;
                        }
                    }
                }
            }
            Response::Retained { slot, retained, ms } => {
                if let Some(l) = self.loaded_mut(slot) {
                    // Joined to the rows by type id.
                    let by_id = retained.retained_by_id();
                    let per_row = l.stats.types.iter().map(|r| by_id.get(&r.id).copied());
                    l.retained = Some(Rc::new(per_row.collect()));
                    l.retained_ms = Some(ms);
                }
                if slot == self.table_slot() {
                    self.recompute_type_order();
                }
            }
            Response::Diff { diff } => {
                self.diff_lower =
                    Rc::new(diff.types.iter().map(|r| r.name.to_lowercase()).collect());
                self.diff = Some(Rc::new(diff));
                self.diff_filter.clear();
                self.diff_sort = (DiffCol::BytesDelta, true);
                self.screen = Screen::Diff;
                self.tab = Tab::Growth;
                self.recompute_diff_order();
                self.recompute_type_order();
            }
            Response::Detail { slot, detail } => {
                if self
                    .selected
                    .is_some_and(|(s, id)| s == slot && detail.type_ids == [id])
                {
                    self.open_refs = [0].into_iter().collect();
                    self.detail = Some(Rc::new(detail));
                }
            }
            Response::Failed { slot, message } => {
                let title = match (&self.screen, slot) {
                    (Screen::Loading { file_name, .. }, Some(_)) => {
                        format!("Could not open {file_name}")
                    }
                    _ => "Something went wrong".to_owned(),
                };
                self.pending.clear();
                self.screen = Screen::Error { title, message };
            }
            Response::BenchRead { .. } => {}
            Response::Panic { message } => {
                self.restart_worker(ctx);
                self.screen = Screen::Error {
                    title: "The analysis stopped unexpectedly".to_owned(),
                    message: format!(
                        "The engine hit an internal error: {message}. This is a bug in heaplens; \
                         the file may be damaged in a way it does not handle yet."
                    ),
                };
            }
        }
    }
}

impl Component for App {
    type Message = Msg;
    type Properties = ();

    fn create(ctx: &Context<Self>) -> Self {
        let (worker, onmessage, onerror) = spawn_worker(ctx.link());
        App {
            worker,
            ready: false,
            queue: Vec::new(),
            _onmessage: onmessage,
            _onerror: onerror,
            screen: Screen::Landing,
            tab: Tab::Overview,
            single: None,
            baseline: None,
            current: None,
            pending: Vec::new(),
            diff: None,
            diff_lower: Rc::new(Vec::new()),
            type_sort: (TypeCol::Bytes, true),
            type_filter: String::new(),
            type_order: Rc::new(Vec::new()),
            diff_sort: (DiffCol::BytesDelta, true),
            diff_filter: String::new(),
            diff_order: Rc::new(Vec::new()),
            selected: None,
            detail: None,
            open_refs: HashSet::new(),
            drag: None,
            notice: None,
            slow_progress_ms: slow_progress_from_url(),
        }
    }

    fn update(&mut self, ctx: &Context<Self>, msg: Msg) -> bool {
        match msg {
            Msg::FromWorker(s) => match serde_json::from_str::<Response>(&s) {
                Ok(r) => self.on_response(ctx, r),
                Err(e) => {
                    self.screen = Screen::Error {
                        title: "Something went wrong".into(),
                        message: format!("The worker sent a message the page cannot read: {e}"),
                    }
                }
            },
            Msg::WorkerError(m) => {
                let was_loading = matches!(self.screen, Screen::Loading { .. });
                self.restart_worker(ctx);
                let hint = if was_loading {
                    " Reading this dump needs more memory than the browser gives a tab \
                     (heaplens allows its worker 2 GB), or the browser stopped the worker."
                } else {
                    ""
                };
                self.screen = Screen::Error {
                    title: "The analysis stopped unexpectedly".into(),
                    message: format!("{m}.{hint}"),
                };
            }
            Msg::Open(slot, files) => {
                self.drag = None;
                let (mut dumps, modules) = split_files(files, File::name);
                let modules = Rc::new(modules);
                let jobs = match (slot, dumps.len()) {
                    (_, 0) => {
                        if !modules.is_empty() {
                            self.notice = Some(
                                "DLLs and EXEs are module files that name a dump's types: \
                                 drop them together with the dump."
                                    .to_owned(),
                            );
                        }
                        return true;
                    }
                    (Slot::Single, 2) => {
                        // Two dumps at once: a comparison, the older file
                        // (then the first name) as the baseline.
                        dumps.sort_by(|a, b| {
                            a.last_modified()
                                .total_cmp(&b.last_modified())
                                .then_with(|| a.name().cmp(&b.name()))
                        });
                        let current = dumps.pop().expect("two dumps");
                        let baseline = dumps.pop().expect("two dumps");
                        vec![(Slot::Baseline, baseline), (Slot::Current, current)]
                    }
                    (_, 1) => vec![(slot, dumps.remove(0))],
                    (_, n) => {
                        let names: Vec<String> = dumps.iter().map(File::name).collect();
                        self.notice = Some(format!(
                            "{n} files that are not DLLs were given ({}): drop one dump, or two \
                             to compare them, with any module files.",
                            names.join(", ")
                        ));
                        return true;
                    }
                };
                for (slot, file) in jobs {
                    if matches!(self.screen, Screen::Loading { .. }) {
                        // Baseline and current dropped one after the other
                        // (or together).
                        self.pending.insert(0, (slot, file, modules.clone()));
                    } else {
                        self.start_open(slot, file, modules.clone());
                    }
                }
            }
            Msg::Cancel => {
                // The engine runs synchronously in the worker; stopping it
                // means ending the worker (its memory goes with it).
                let name = match &self.screen {
                    Screen::Loading { file_name, .. } => file_name.clone(),
                    _ => String::new(),
                };
                self.restart_worker(ctx);
                self.screen = Screen::Landing;
                self.notice = Some(format!("Stopped reading {name}."));
            }
            Msg::Reset => {
                self.restart_worker(ctx);
                self.screen = Screen::Landing;
                self.notice = None;
            }
            Msg::Tab(t) => self.tab = t,
            Msg::SortTypes(col) => {
                let (c, d) = self.type_sort;
                self.type_sort = if c == col {
                    (col, !d)
                } else {
                    (col, col != TypeCol::Name)
                };
                self.recompute_type_order();
            }
            Msg::FilterTypes(f) => {
                self.type_filter = f;
                self.recompute_type_order();
            }
            Msg::Select(id) => {
                let slot = self.table_slot();
                self.selected = Some((slot, id));
                self.detail = None;
                self.tab = Tab::Detail;
                self.post(&Request::Detail { slot, type_id: id }, None);
            }
            Msg::SelectCurrent(id) => {
                if self.current.as_ref().and_then(|l| l.row(id)).is_some() {
                    return Component::update(self, ctx, Msg::Select(id));
                }
                return false;
            }
            Msg::ToggleRef(i) => {
                if !self.open_refs.remove(&i) {
                    self.open_refs.insert(i);
                }
            }
            Msg::SortDiff(col) => {
                let (c, d) = self.diff_sort;
                self.diff_sort = if c == col {
                    (col, !d)
                } else {
                    (col, col != DiffCol::Name)
                };
                self.recompute_diff_order();
            }
            Msg::FilterDiff(f) => {
                self.diff_filter = f;
                self.recompute_diff_order();
            }
            Msg::DragOver(s) => {
                if self.drag == s {
                    return false;
                }
                self.drag = s;
            }
        }
        true
    }

    fn view(&self, ctx: &Context<Self>) -> Html {
        let link = ctx.link();
        // Dropping a file anywhere but a drop zone must not navigate away.
        let swallow_drag = Callback::from(|e: DragEvent| e.prevent_default());
        let body = match &self.screen {
            Screen::Landing => self.view_landing(ctx),
            Screen::Loading {
                slot,
                file_name,
                file_size,
                modules,
                progress,
            } => view_loading(
                ctx,
                *slot,
                file_name,
                *file_size,
                *modules,
                progress.as_ref(),
            ),
            Screen::Error { title, message } => html! {
                <section class="card error" id="error" role="alert">
                    <h2>{ title }</h2>
                    <p class="error-message" id="error-message">{ message }</p>
                    <button class="primary" id="error-back" onclick={link.callback(|_| Msg::Reset)}>
                        { "Choose another file" }
                    </button>
                </section>
            },
            Screen::Single => self.view_single(ctx),
            Screen::Diff => self.view_diff(ctx),
        };
        let home = !matches!(self.screen, Screen::Landing);
        html! {
            <div class="app" ondragover={swallow_drag.clone()} ondrop={swallow_drag}>
                <header class="topbar">
                    <a class="brand" href="./" title="heaplens: start over"
                        onclick={link.callback(|e: MouseEvent| { e.prevent_default(); Msg::Reset })}>
                        <span class="logo" aria-hidden="true">{ "◧" }</span>{ "heaplens" }
                    </a>
                    <span class="tagline">{ ".NET heap analysis that never leaves your browser" }</span>
                    if home && !matches!(self.screen, Screen::Loading { .. }) {
                        <button class="ghost" id="open-another" onclick={link.callback(|_| Msg::Reset)}>
                            { "Open another dump" }
                        </button>
                    }
                </header>
                <main>{ body }</main>
            </div>
        }
    }
}

/// The files of a `FileList`, in its order.
fn file_list(list: Option<web_sys::FileList>) -> Vec<File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
        .unwrap_or_default()
}

fn drop_zone(
    ctx: &Context<App>,
    slot: Slot,
    id: &'static str,
    input_id: &'static str,
    active: bool,
    content: Html,
) -> Html {
    let link = ctx.link();
    let ondragover = link.callback(move |e: DragEvent| {
        e.prevent_default();
        Msg::DragOver(Some(slot))
    });
    let ondragleave = link.callback(|_: DragEvent| Msg::DragOver(None));
    let ondrop = link.callback(move |e: DragEvent| {
        e.prevent_default();
        let files = e.data_transfer().and_then(|dt| dt.files());
        Msg::Open(slot, file_list(files))
    });
    let onchange = link.callback(move |e: Event| {
        let input: HtmlInputElement = e.target_unchecked_into();
        let files = file_list(input.files());
        input.set_value("");
        Msg::Open(slot, files)
    });
    html! {
        <label class={classes!("dropzone", active.then_some("drag"))} id={id}
            {ondragover} {ondragleave} {ondrop}>
            <input type="file" multiple=true id={input_id} class="visually-hidden" {onchange} />
            { content }
        </label>
    }
}

impl App {
    fn view_landing(&self, ctx: &Context<Self>) -> Html {
        let done = |l: &Option<Loaded>| -> Html {
            match l {
                Some(l) => html! { <>
                    <span class="zone-done" title={l.stats.file.clone()}>
                        { "✓ " }{ &l.stats.file }
                    </span>
                    <small class="zone-sum">{ format!("{} objects, {}", thousands(l.stats.objects), bytes(l.stats.bytes)) }</small>
                </> },
                None => html! {},
            }
        };
        html! {
            <div class="landing">
                if let Some(n) = &self.notice {
                    <p class="notice" id="notice">{ n }</p>
                }
                <section class="hero">
                    <h1>{ "What fills your .NET heap, why is it alive, and what grew?" }</h1>
                    <p class="lead">{ "Drop a memory dump to see its type statistics, the paths that keep objects alive, and the difference between two dumps." }</p>
                </section>
                { drop_zone(ctx, Slot::Single, "dropzone", "file-input", self.drag == Some(Slot::Single), html! {
                    <>
                        <span class="zone-icon" aria-hidden="true">{ "⤓" }</span>
                        <span class="zone-title">{ "Drop a dump here" }</span>
                        <span class="zone-sub">{ "or " }<span class="linklike">{ "choose files" }</span>{ " — two dumps at once are compared" }</span>
                        <span class="accepts" id="accepts">{ crate::model::accepts() }</span>
                        <span class="accepts" id="modules-hint">{ MODULES_HINT }</span>
                    </>
                }) }
                <section class="compare">
                    <h2>{ "Compare two dumps" }</h2>
                    <p class="muted">{ "Drop an earlier dump as the baseline and a later one as the current dump: heaplens shows which types grew, which are new and which vanished." }</p>
                    <div class="zones">
                        { drop_zone(ctx, Slot::Baseline, "baseline-zone", "baseline-input", self.drag == Some(Slot::Baseline), html! {
                            <>
                                <span class="zone-title">{ "Baseline" }</span>
                                <span class="zone-sub">{ "the earlier dump — drop or " }<span class="linklike">{ "choose" }</span></span>
                                { done(&self.baseline) }
                            </>
                        }) }
                        { drop_zone(ctx, Slot::Current, "current-zone", "current-input", self.drag == Some(Slot::Current), html! {
                            <>
                                <span class="zone-title">{ "Current" }</span>
                                <span class="zone-sub">{ "the later dump — drop or " }<span class="linklike">{ "choose" }</span></span>
                                { done(&self.current) }
                            </>
                        }) }
                    </div>
                </section>
                <section class="privacy">
                    <h2>{ "Your dump stays on this computer" }</h2>
                    <p>{ "The file is read in slices by a Web Worker in this tab and is never uploaded. The page's Content-Security-Policy forbids connections to any other site, so it could not send it anywhere even if it tried." }</p>
                </section>
            </div>
        }
    }

    fn tabs(&self, ctx: &Context<Self>, tabs: &[(Tab, String)]) -> Html {
        let link = ctx.link();
        html! {
            <nav class="tabs" role="tablist">
                { for tabs.iter().map(|(t, label)| {
                    let t = *t;
                    html! {
                        <button role="tab" id={format!("tab-{t:?}").to_lowercase()}
                            class={classes!("tab", (self.tab == t).then_some("active"))}
                            aria-selected={(self.tab == t).to_string()}
                            title={label.clone()}
                            onclick={link.callback(move |_| Msg::Tab(t))}>{ label }</button>
                    }
                }) }
            </nav>
        }
    }

    fn detail_tab_label(&self) -> Option<String> {
        let (slot, id) = self.selected?;
        let l = self.loaded(slot)?;
        Some(short_name(&l.row(id)?.name))
    }

    fn view_single(&self, ctx: &Context<Self>) -> Html {
        let Some(l) = &self.single else {
            return html! {};
        };
        let mut tabs = vec![
            (Tab::Overview, "Overview".to_owned()),
            (
                Tab::Types,
                format!("Types ({})", thousands(l.stats.types.len() as u64)),
            ),
        ];
        if let Some(label) = self.detail_tab_label() {
            tabs.push((Tab::Detail, label));
        }
        html! {
            <>
                <div class="filebar">
                    <span class="filename" title={l.stats.file.clone()}>{ &l.stats.file }</span>
                    <span class="muted">{ format!("{} · {}", l.stats.format, bytes(l.stats.file_bytes)) }</span>
                </div>
                { self.tabs(ctx, &tabs) }
                { match self.tab {
                    Tab::Types => self.view_types(ctx, l),
                    Tab::Detail => self.view_detail(ctx, l),
                    _ => view_overview(ctx, l, "overview"),
                } }
            </>
        }
    }

    fn view_diff(&self, ctx: &Context<Self>) -> Html {
        let (Some(b), Some(c), Some(d)) = (&self.baseline, &self.current, &self.diff) else {
            return html! {};
        };
        let mut tabs = vec![
            (Tab::Growth, "What grew".to_owned()),
            (Tab::Types, "Current types".to_owned()),
            (Tab::Baseline, "Baseline".to_owned()),
            (Tab::Current, "Current".to_owned()),
        ];
        if let Some(label) = self.detail_tab_label() {
            tabs.push((Tab::Detail, label));
        }
        html! {
            <>
                <div class="filebar">
                    <span class="filename" title={b.stats.file.clone()}>{ &b.stats.file }</span>
                    <span class="arrow">{ "→" }</span>
                    <span class="filename" title={c.stats.file.clone()}>{ &c.stats.file }</span>
                </div>
                { self.tabs(ctx, &tabs) }
                { match self.tab {
                    Tab::Baseline => view_overview(ctx, b, "overview-baseline"),
                    Tab::Current => view_overview(ctx, c, "overview-current"),
                    Tab::Types => self.view_types(ctx, c),
                    Tab::Detail => self.view_detail(ctx, c),
                    _ => self.view_growth(ctx, d),
                } }
            </>
        }
    }

    fn view_types(&self, ctx: &Context<Self>, l: &Loaded) -> Html {
        let link = ctx.link();
        let oninput = link.callback(|e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            Msg::FilterTypes(input.value())
        });
        let (col, desc) = self.type_sort;
        let head = |c: TypeCol, label: &str, class: &str| -> Html {
            let arrow = if c == col && class != "c-pct" {
                if desc {
                    " ▼"
                } else {
                    " ▲"
                }
            } else {
                ""
            };
            html! {
                <button class={classes!("th", class.to_owned(), (c == col).then_some("sorted"))}
                    id={format!("sort-{c:?}").to_lowercase()}
                    onclick={link.callback(move |_| Msg::SortTypes(c))}>
                    { label }{ arrow }
                </button>
            }
        };
        let total = l.stats.bytes;
        let max_bytes = l
            .stats
            .types
            .iter()
            .map(|r| r.bytes)
            .max()
            .unwrap_or(1)
            .max(1);
        let loaded = l.clone();
        let order = self.type_order.clone();
        let select = link.callback(Msg::Select);
        let render = Callback::from(move |i: usize| -> Html {
            let pos = order[i] as usize;
            let r = &loaded.stats.types[pos];
            let retained = loaded.retained_at(pos);
            let id = r.id;
            let share = if total == 0 {
                0.0
            } else {
                r.bytes as f64 * 100.0 / total as f64
            };
            let onclick = select.reform(move |_: MouseEvent| id);
            html! {
                <div class={classes!("trow", (i % 2 == 1).then_some("odd"))} role="row"
                    style={format!("top:{}px", i as f64 * ROW_HEIGHT)}
                    data-name={r.name.clone()} data-count={r.count.to_string()} data-bytes={r.bytes.to_string()}
                    {onclick}>
                    <span class="c-name" title={full_title(&r.name, r.module.as_deref())}>{ &r.name }</span>
                    <span class="c-num">{ thousands(r.count) }</span>
                    <span class="c-num">{ thousands(r.bytes) }</span>
                    <span class="c-pct"><span class="pct-text">{ format!("{share:.2} %") }</span><span class="track"><span class="bar" style={format!("width:{:.1}%", r.bytes as f64 * 100.0 / max_bytes as f64)}></span></span></span>
                    <span class="c-num">{ retained.map(thousands).unwrap_or_else(|| "…".to_owned()) }</span>
                </div>
            }
        });
        let retained_note = if l.retained.is_some() {
            html! {}
        } else {
            html! { <span class="muted" id="retained-pending">{ " · retained sizes are being computed…" }</span> }
        };
        html! {
            <section class="types" id="types">
                <div class="toolbar">
                    <input type="search" id="type-filter" class="filter" placeholder="Filter types by name…"
                        value={self.type_filter.clone()} {oninput} aria-label="Filter types" />
                    <span class="muted" id="type-count">
                        { format!("{} of {} types", thousands(self.type_order.len() as u64), thousands(l.stats.types.len() as u64)) }
                    </span>
                    { retained_note }
                </div>
                <VirtualTable id="type-table" class="cols-types" len={self.type_order.len()} {render}
                    header={html! {
                        <>
                            { head(TypeCol::Name, "Type", "c-name") }
                            { head(TypeCol::Count, "Count", "c-num") }
                            { head(TypeCol::Bytes, "Bytes", "c-num") }
                            { head(TypeCol::Bytes, "% of heap", "c-pct") }
                            { head(TypeCol::Retained, "Retained", "c-num") }
                        </>
                    }} />
            </section>
        }
    }

    fn view_detail(&self, ctx: &Context<Self>, l: &Loaded) -> Html {
        let Some((_, id)) = self.selected else {
            return html! {};
        };
        let Some(row) = l.row(id) else {
            return html! {};
        };
        let total = l.stats.bytes;
        let retained = l.index.get(&id).and_then(|&pos| l.retained_at(pos));
        let header = html! {
            <div class="detail-head">
                <h2 class="type-name" id="detail-name">{ &row.name }</h2>
                if let Some(m) = &row.module {
                    <p class="muted module" title={m.clone()}>{ m }</p>
                }
                <div class="cards">
                    { card("Objects", &thousands(row.count), "detail-count") }
                    { card("Bytes", &format!("{} ({})", bytes(row.bytes), percent(row.bytes, total)), "detail-bytes") }
                    { card("Retained", &retained.map(|r| format!("{} ({})", bytes(r), percent(r, total))).unwrap_or_else(|| "being computed…".into()), "detail-retained") }
                </div>
            </div>
        };
        let Some(d) = &self.detail else {
            return html! {
                <section class="detail" id="detail">
                    { header }
                    <p class="muted loading-line">{ "Finding the paths from the GC roots…" }</p>
                </section>
            };
        };
        let paths = if d.paths.is_empty() {
            html! { <p class="muted">{ "No object of this type is reachable from a GC root (they are garbage the GC has not collected yet, or held only by weak handles)." }</p> }
        } else {
            html! {
                <ol class="paths" id="root-paths">
                    { for d.paths.iter().map(|p| html! {
                        <li class="path">
                            <div class="root-chip">
                                <span class="kind">{ p.root_kind.as_str().replace('_', " ") }</span>
                                if let Some(n) = &p.root_name {
                                    <span class="root-name" title={n.clone()}>{ n }</span>
                                }
                            </div>
                            <ol class="steps">
                                { for p.steps.iter().enumerate().map(|(i, s)| html! {
                                    <li class={classes!("step", (i + 1 == p.steps.len()).then_some("target"))}>
                                        <span class="step-name" title={s.type_name.clone()}>{ &s.type_name }</span>
                                        if let Some(a) = s.address {
                                            <span class="addr">{ a.to_string() }</span>
                                        }
                                    </li>
                                }) }
                            </ol>
                        </li>
                    }) }
                </ol>
            }
        };
        html! {
            <section class="detail" id="detail">
                { header }
                { for d.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
                <div class="detail-grid">
                    <div class="panel">
                        <h3>{ "Why is it alive? Shortest paths from the GC roots" }</h3>
                        <p class="muted small">{ format!("{} of {} objects are reachable from a root. Each path below ends at a different chain of types.", thousands(d.count), thousands(d.count + d.unreachable)) }</p>
                        { paths }
                    </div>
                    <div class="panel">
                        <h3>{ "Referred from" }</h3>
                        <p class="muted small">{ "The objects' shortest paths toward the roots, merged by type: open an entry to go one step nearer the roots." }</p>
                        <div class="reftree" id="referred-from" role="tree">
                            { self.view_ref(ctx, &d.referred_from, 0, 0) }
                        </div>
                    </div>
                </div>
            </section>
        }
    }

    /// An entry of the referred-from tree; `i` numbers the entries in
    /// preorder (entry 0 is the focus), to remember which are open.
    fn view_ref(&self, ctx: &Context<Self>, e: &RefNode, i: u32, depth: usize) -> Html {
        let open = self.open_refs.contains(&i);
        let has_children = !e.children.is_empty();
        let toggle = ctx.link().callback(move |_: MouseEvent| Msg::ToggleRef(i));
        // Preorder numbers of the children: each follows its elder
        // siblings' subtrees.
        let mut next = i + 1;
        let kids: Vec<(u32, &RefNode)> = e
            .children
            .iter()
            .map(|c| {
                let n = next;
                next += subtree_size(c);
                (n, c)
            })
            .collect();
        let label = match e.root_kind {
            Some(kind) => {
                let kind = kind.as_str().replace('_', " ");
                match &e.root_name {
                    Some(n) => format!("[{kind} root] {n}"),
                    None => format!("[{kind} root]"),
                }
            }
            None => e.name.clone(),
        };
        html! {
            <div class="refnode" role="treeitem" aria-expanded={open.to_string()}>
                <div class={classes!("refrow", e.root_kind.is_some().then_some("is-root"))} style={format!("padding-left:{}px", 8 + depth * 18)}>
                    <button class="twisty" disabled={!has_children} onclick={toggle} aria-label="open">
                        { if !has_children { "·" } else if open { "▾" } else { "▸" } }
                    </button>
                    <span class="ref-label" title={label.clone()}>{ label }</span>
                    <span class="ref-num" title="objects of the type whose path passes here">{ thousands(e.count) }</span>
                    <span class="ref-num" title="their bytes including what hangs below them">{ bytes(e.inclusive_bytes) }</span>
                </div>
                if open {
                    { for kids.iter().map(|&(n, c)| self.view_ref(ctx, c, n, depth + 1)) }
                    if e.omitted_children > 0 {
                        <div class="refrow more" style={format!("padding-left:{}px", 26 + (depth + 1) * 18)}>
                            { format!("… and {} smaller entries", e.omitted_children) }
                        </div>
                    }
                    if e.truncated {
                        <div class="refrow more" style={format!("padding-left:{}px", 26 + (depth + 1) * 18)}>
                            { "… longer paths cut here" }
                        </div>
                    }
                }
            </div>
        }
    }

    fn view_growth(&self, ctx: &Context<Self>, d: &Rc<DiffDocument>) -> Html {
        let link = ctx.link();
        let oninput = link.callback(|e: InputEvent| {
            let input: HtmlInputElement = e.target_unchecked_into();
            Msg::FilterDiff(input.value())
        });
        let (col, desc) = self.diff_sort;
        let head = |c: DiffCol, label: &str, class: &str| -> Html {
            let arrow = if c == col {
                if desc {
                    " ▼"
                } else {
                    " ▲"
                }
            } else {
                ""
            };
            html! {
                <button class={classes!("th", class.to_owned(), (c == col).then_some("sorted"))}
                    id={format!("dsort-{c:?}").to_lowercase()}
                    onclick={link.callback(move |_| Msg::SortDiff(c))}>
                    { label }{ arrow }
                </button>
            }
        };
        let (db, dc) = (d.bytes_delta, d.count_delta);
        let rows = d.clone();
        let order = self.diff_order.clone();
        let select = link.callback(Msg::SelectCurrent);
        let render = Callback::from(move |i: usize| -> Html {
            let r: &DiffRow = &rows.types[order[i] as usize];
            // The current dump's row of this type, by id.
            let current = r.current_type_ids.first().copied();
            let select = select.clone();
            let onclick = Callback::from(move |_: MouseEvent| {
                if let Some(id) = current {
                    select.emit(id);
                }
            });
            let (badge, change) = match r.status {
                DiffStatus::New => (html! { <span class="badge new">{ "new" }</span> }, "new"),
                DiffStatus::Vanished => (
                    html! { <span class="badge gone">{ "vanished" }</span> },
                    "vanished",
                ),
                DiffStatus::Changed => (html! {}, "both"),
            };
            let cls = if r.bytes_delta > 0 {
                "grew"
            } else if r.bytes_delta < 0 {
                "shrank"
            } else {
                ""
            };
            html! {
                <div class={classes!("trow", (i % 2 == 1).then_some("odd"))} role="row"
                    style={format!("top:{}px", i as f64 * ROW_HEIGHT)}
                    data-name={r.name.clone()} data-count-delta={r.count_delta.to_string()}
                    data-bytes-delta={r.bytes_delta.to_string()}
                    data-change={change}
                    {onclick}>
                    <span class="c-name" title={r.name.clone()}>{ badge }<span class="nm">{ &r.name }</span></span>
                    <span class={classes!("c-num", cls)}>{ signed_thousands(r.bytes_delta) }</span>
                    <span class={classes!("c-num", cls)}>{ signed_thousands(r.count_delta) }</span>
                    <span class="c-num">{ format!("{} → {}", thousands(r.count_base), thousands(r.count_current)) }</span>
                    <span class="c-num">{ thousands(r.bytes_current) }</span>
                </div>
            }
        });
        html! {
            <section class="growth" id="growth">
                <div class="cards">
                    { card("Heap, baseline", &format!("{} · {} objects", bytes(d.base.bytes), thousands(d.base.objects)), "diff-base") }
                    { card("Heap, current", &format!("{} · {} objects", bytes(d.current.bytes), thousands(d.current.objects)), "diff-cur") }
                    { card("Change", &format!("{} · {} objects", signed_bytes(db), signed_thousands(dc)), "diff-change") }
                </div>
                <div class="toolbar">
                    <input type="search" id="diff-filter" class="filter" placeholder="Filter types by name…"
                        value={self.diff_filter.clone()} {oninput} aria-label="Filter types" />
                    <span class="muted" id="diff-count">
                        { format!("{} of {} changed types · {} unchanged", thousands(self.diff_order.len() as u64), thousands(d.types.len() as u64), thousands(d.unchanged_types)) }
                    </span>
                </div>
                <VirtualTable id="diff-table" class="cols-diff" len={self.diff_order.len()} {render}
                    header={html! {
                        <>
                            { head(DiffCol::Name, "Type", "c-name") }
                            { head(DiffCol::BytesDelta, "Δ Bytes", "c-num") }
                            { head(DiffCol::CountDelta, "Δ Count", "c-num") }
                            { head(DiffCol::CountDelta, "Count", "c-num") }
                            { head(DiffCol::Current, "Bytes now", "c-num") }
                        </>
                    }} />
            </section>
        }
    }
}

/// Entries in the referred-from subtree of `e`, itself included.
fn subtree_size(e: &RefNode) -> u32 {
    1 + e.children.iter().map(subtree_size).sum::<u32>()
}

fn slow_progress_from_url() -> u32 {
    let search = web_sys::window()
        .and_then(|w| w.location().search().ok())
        .unwrap_or_default();
    search
        .trim_start_matches('?')
        .split('&')
        .find_map(|kv| kv.strip_prefix("e2e-slow-progress="))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn card(label: &str, value: &str, id: &str) -> Html {
    html! {
        <div class="card stat" id={id.to_owned()}>
            <div class="label">{ label }</div>
            <div class="value" title={value.to_owned()}>{ value }</div>
        </div>
    }
}

/// The last segment of a type name, for tab labels (`Foo.Bar<Baz>` → `Bar<Baz>`).
fn short_name(name: &str) -> String {
    let base = name.split('<').next().unwrap_or(name);
    let cut = base.rfind('.').map(|i| i + 1).unwrap_or(0);
    let s = &name[cut..];
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(39).collect::<String>())
    } else {
        s.to_owned()
    }
}

fn full_title(name: &str, module: Option<&str>) -> String {
    match module {
        Some(m) => format!("{name}\n{m}"),
        None => name.to_owned(),
    }
}

fn view_loading(
    ctx: &Context<App>,
    slot: Slot,
    file_name: &str,
    file_size: u64,
    modules: usize,
    p: Option<&ProgressReport>,
) -> Html {
    let (frac, line1, line2, left) = match p {
        Some(p) => {
            let frac = if p.total > 0 {
                p.done as f64 / p.total as f64
            } else if p.file_size > 0 {
                p.position as f64 / p.file_size as f64
            } else {
                0.0
            };
            let frac = frac.clamp(0.0, 1.0);
            let objects = match p.objects {
                Some(o) if p.total > 0 => {
                    format!("{} of {} objects", thousands(o), thousands(p.total))
                }
                Some(o) => format!("{} objects", thousands(o)),
                // Unpacking an archive counts its compressed bytes.
                None if p.total > 0 && p.phase.starts_with("unpacking") => format!(
                    "{} · {} of {} compressed",
                    p.phase,
                    bytes(p.done),
                    bytes(p.total)
                ),
                None if p.total > 0 => format!(
                    "{}: {} of {}",
                    p.phase,
                    thousands(p.done),
                    thousands(p.total)
                ),
                None => p.phase.clone(),
            };
            let read = format!(
                "{} of {} read",
                bytes(p.position.min(p.file_size)),
                bytes(p.file_size)
            );
            let left = if frac > 0.02 && frac < 1.0 {
                format!(
                    "{} elapsed · about {} left",
                    duration_ms(p.elapsed_ms),
                    duration_ms(p.elapsed_ms * (1.0 - frac) / frac)
                )
            } else {
                format!("{} elapsed", duration_ms(p.elapsed_ms))
            };
            (frac, objects, read, left)
        }
        None => (
            0.0,
            "starting…".to_owned(),
            format!("0 B of {} read", bytes(file_size)),
            String::new(),
        ),
    };
    let what = match slot {
        Slot::Single => "Reading".to_owned(),
        s => format!("Reading the {}", s.label()),
    };
    html! {
        <section class="card loading" id="progress" aria-live="polite">
            <h2>{ what }</h2>
            <p class="filename" title={file_name.to_owned()}>{ file_name }</p>
            if modules > 0 {
                <p class="muted" id="progress-modules">{ format!("with {modules} module file{}", if modules == 1 { "" } else { "s" }) }</p>
            }
            <div class="progressbar" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow={format!("{:.0}", frac * 100.0)}>
                <div class="fill" style={format!("width:{:.1}%", frac * 100.0)}></div>
            </div>
            <div class="progress-lines">
                <span id="progress-objects">{ line1 }</span>
                <span id="progress-bytes">{ line2 }</span>
                <span id="progress-time">{ left }</span>
            </div>
            <button class="secondary" id="cancel" onclick={ctx.link().callback(|_| Msg::Cancel)}>{ "Cancel" }</button>
        </section>
    }
}

fn view_overview(ctx: &Context<App>, l: &Loaded, id: &str) -> Html {
    let o = &*l.stats;
    let read = &*l.read;
    let unknown = |v: &Option<String>, why: &str| -> Html {
        match v {
            Some(v) => html! { <span title={v.clone()}>{ v }</span> },
            None => html! { <span class="muted">{ why.to_owned() }</span> },
        }
    };
    let not_recorded = if o.format == "gcdump" {
        "not recorded in a .gcdump"
    } else {
        "unknown"
    };
    let top: Vec<&TypeStatsRow> = o.types.iter().take(10).collect();
    let gc_mode = o.clr.as_ref().map(|c| c.gc_summary());
    // ISO 8601 as people read it: `2023-11-08 15:05:15`.
    let dump_time = o.dump_time.as_ref().map(|t| t.replace('T', " "));
    let max = top.first().map_or(1, |r| r.bytes.max(1));
    let link = ctx.link();
    html! {
        <section class="overview" id={id.to_owned()} data-objects={o.objects.to_string()}
            data-bytes={o.bytes.to_string()} data-types={o.type_count.to_string()}>
            <div class="cards">
                { card("Heap size (live objects)", &bytes(o.bytes), "ov-bytes") }
                { card("Objects", &thousands(o.objects), "ov-objects") }
                { card("Types", &thousands(o.type_count), "ov-types") }
                { card("Free space", &format!("{} in {} blocks", bytes(o.free.bytes), thousands(o.free.count)), "ov-free") }
            </div>
            <div class="detail-grid">
                <div class="panel">
                    <h3>{ "The dump" }</h3>
                    <dl class="facts">
                        <dt>{ "Format" }</dt><dd id="ov-format">{ &read.format_name }</dd>
                        <dt>{ "Runtime" }</dt><dd id="ov-runtime">{ unknown(&o.runtime, not_recorded) }</dd>
                        <dt>{ "GC mode" }</dt><dd id="ov-gc">{ unknown(&gc_mode, not_recorded) }</dd>
                        <dt>{ "Dump time" }</dt><dd id="ov-time">{ unknown(&dump_time, "not recorded") }</dd>
                        <dt>{ "Process" }</dt><dd>{ unknown(&o.process_name.as_ref().map(|n| match o.process_id {
                            Some(pid) => format!("{n} (pid {pid})"),
                            None => n.clone(),
                        }), "not recorded") }</dd>
                        if let Some(m) = &o.machine_name {
                            <dt>{ "Machine" }</dt><dd>{ m }</dd>
                        }
                        if let Some(t) = &o.creation_tool {
                            <dt>{ "Written by" }</dt><dd>{ t }</dd>
                        }
                        if let Some(p) = o.pointer_size {
                            <dt>{ "Pointer size" }</dt><dd>{ format!("{}-bit", p as u32 * 8) }</dd>
                        }
                        <dt>{ "File" }</dt><dd title={o.file.clone()}>{ format!("{} ({})", o.file, bytes(o.file_bytes)) }</dd>
                        { for o.archives.iter().map(|a| html! { <>
                            <dt>{ "From" }</dt><dd class="ov-archive">{ a.words() }
                                if let Some(others) = a.others_words() { <br/><span class="muted">{ others }</span> }
                            </dd>
                        </> }) }
                        <dt>{ "Graph" }</dt><dd>{ format!("{} nodes, {} references, {} roots", thousands(o.nodes), thousands(o.edges), thousands(o.roots)) }</dd>
                        if let Some(u) = o.unreachable {
                            <dt>{ "Unreachable" }</dt><dd>{ format!("{} objects, {} (garbage not yet collected; not counted)", thousands(u.count), bytes(u.bytes)) }</dd>
                        }
                        <dt>{ "Read in" }</dt><dd id="ov-open-ms" data-ms={format!("{:.1}", read.open_ms)} data-read-ms={format!("{:.1}", read.read_ms)} data-bytes-read={read.bytes_read.to_string()} data-wasm-memory={read.wasm_memory.to_string()} data-unpack-ms={format!("{:.1}", read.unpack_ms)}>{ format!("{} · {} from the file · {} of worker memory", duration_ms(read.open_ms), bytes(read.bytes_read), bytes(read.wasm_memory)) }</dd>
                        if let Some(ms) = l.retained_ms {
                            <dt>{ "Retained sizes" }</dt><dd>{ format!("computed in {}", duration_ms(ms)) }</dd>
                        }
                    </dl>
                    if o.scaled {
                        <p class="note">{ "This .gcdump holds a sample of the heap: counts and bytes are scaled up from the sampled objects, as PerfView does." }</p>
                    }
                    { for o.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
                </div>
                <div class="panel">
                    <h3>{ "Largest types" }</h3>
                    <ol class="toplist" id="top-types">
                        { for top.iter().map(|r| {
                            let id = r.id;
                            let onclick = link.callback(move |_: MouseEvent| Msg::Select(id));
                            html! {
                                <li {onclick} title={r.name.clone()}>
                                    <span class="top-name">{ &r.name }</span>
                                    <span class="top-bar"><span class="bar" style={format!("width:{:.1}%", r.bytes as f64 * 100.0 / max as f64)}></span></span>
                                    <span class="top-num">{ bytes(r.bytes) }</span>
                                </li>
                            }
                        }) }
                    </ol>
                    <button class="linklike" id="see-all-types" onclick={link.callback(|_| Msg::Tab(Tab::Types))}>{ "See all types →" }</button>
                </div>
            </div>
        </section>
    }
}

/// Properties of [`VirtualTable`].
#[derive(Properties, PartialEq)]
pub struct VirtualTableProps {
    /// Element id.
    pub id: AttrValue,
    /// Extra class (the column template).
    pub class: AttrValue,
    /// Number of rows.
    pub len: usize,
    /// The header row's cells.
    pub header: Html,
    /// Renders row `i` (absolutely positioned at `i × ROW_HEIGHT`).
    pub render: Callback<usize, Html>,
}

/// A table that renders only the rows in view, so 100,000 rows scroll
/// smoothly.
#[function_component(VirtualTable)]
pub fn virtual_table(p: &VirtualTableProps) -> Html {
    let scroller = use_node_ref();
    let view = use_state(|| (0.0f64, 800.0f64));
    {
        // Measure the viewport once mounted.
        let scroller = scroller.clone();
        let view = view.clone();
        use_effect_with((), move |_| {
            if let Some(el) = scroller.cast::<HtmlElement>() {
                view.set((el.scroll_top() as f64, el.client_height() as f64));
            }
        });
    }
    {
        // A new filter or sort starts at the top.
        let scroller = scroller.clone();
        use_effect_with(p.len, move |_| {
            if let Some(el) = scroller.cast::<HtmlElement>() {
                el.set_scroll_top(0);
            }
        });
    }
    let onscroll = {
        let view = view.clone();
        Callback::from(move |e: Event| {
            let el: HtmlElement = e.target_unchecked_into();
            view.set((el.scroll_top() as f64, el.client_height() as f64));
        })
    };
    let (top, height) = *view;
    let first = ((top / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN);
    let last = (((top + height.max(ROW_HEIGHT)) / ROW_HEIGHT) as usize + OVERSCAN).min(p.len);
    let first = first.min(last);
    html! {
        <div class={classes!("vtable", p.class.to_string())} id={p.id.clone()} role="table">
            <div class="thead" role="row">{ p.header.clone() }</div>
            <div class="tbody" ref={scroller} {onscroll}>
                <div class="spacer" style={format!("height:{}px", p.len as f64 * ROW_HEIGHT)}>
                    { for (first..last).map(|i| p.render.emit(i)) }
                </div>
                if p.len == 0 {
                    <div class="empty">{ "No type matches the filter." }</div>
                }
            </div>
        </div>
    }
}
