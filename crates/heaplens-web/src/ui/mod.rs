//! The page: Yew function components, one file per screen or view, around
//! the one reducer of [`crate::state`]. Components read the state and send
//! [`Action`]s through the [`Ctx`] context; the root ([`App`]) hands the
//! reducer's commands to the [`Bridge`] after each render and keeps the URL
//! in step with the state ([`crate::route`]).
//!
//! | file | view |
//! |---|---|
//! | `landing.rs` | the landing page: drop zone, formats, a linked view waiting for its files |
//! | `progress.rs` | a dump being read: phase, bytes, objects, time left, cancel |
//! | `failure.rs` | a dump that could not be read: the typed error and what to do |
//! | `dump.rs` | a read dump: its heading, partial-dump banner and tabs |
//! | `overview.rs` | a dump's overview: totals, facts, dump time, notes, largest types |
//! | `types.rs` | a dump's type table (Exc, Inc, retained; grouped or not) |
//! | `detail.rs` | one type: retained size, key retention paths, root paths, referred-from tree |
//! | `flame.rs` | the flame graph (one dump's, or the comparison's differential one) and a dump's flame tab |
//! | `instances.rs` | a type's objects, paged and sorted by the engine, each opening the inspector |
//! | `inspector.rs` | one object: fields and values, delegate, referrers, dominator chain |
//! | `strings.rs` | duplicate strings, wasted bytes, search |
//! | `waste.rs` | wasted collections |
//! | `contents.rs` | what the contents views share: object links, values, exports with or without values |
//! | `compare.rs` | two dumps compared: the pair, swap, what grew |
//! | `dumpbar.rs` | the session's dumps: show, close, add, compare |
//! | `table.rs` | the one table every table is (sort, filter, virtual rows, keyboard, CSV, copy) |
//! | `common.rs` | small shared pieces: cards, the partial banner, clipboard, downloads |
//! | `shortcuts.rs` | the `?` overlay of keys, Escape (back), the theme toggle |
//! | `offline.rs` | the service worker (offline use) and its updates |

mod common;
mod compare;
mod contents;
mod counts;
mod detail;
mod dump;
mod dumpbar;
mod failure;
mod findings;
mod flame;
mod groups;
mod inspector;
mod instances;
mod kept;
mod landing;
mod offline;
mod overview;
mod progress;
mod shortcuts;
mod strings;
mod table;
mod types;
mod waste;

use crate::bridge::Bridge;
use crate::protocol::split_files;
use crate::route::Route;
use crate::state::{Action, AppState, DumpStatus, NewDump, View};
use gloo::events::EventListener;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{DragEvent, File, HtmlInputElement};
use yew::prelude::*;

pub use common::{copy_text, download};

impl Reducible for AppState {
    type Action = Action;

    fn reduce(self: Rc<Self>, action: Action) -> Rc<Self> {
        Rc::new(AppState::reduce(&self, action))
    }
}

/// What every component gets: the state, a way to change it, and the page's
/// side effects that are not state (files, clipboard, downloads).
#[derive(Clone, PartialEq)]
pub struct Ctx {
    /// The state.
    pub state: UseReducerHandle<AppState>,
    /// Sends an action to the reducer.
    pub dispatch: Callback<Action>,
    /// Dumps (and module files) chosen or dropped together.
    pub add_files: Callback<Vec<File>>,
    /// Opens the file picker.
    pub pick_files: Callback<()>,
    /// Unpacked copies of archives kept in the browser's storage.
    pub kept: Rc<kept::KeptCopies>,
    /// Reads them again.
    pub refresh_kept: Callback<()>,
    /// Opens a kept copy as a dump (its archive not at hand).
    pub open_kept: Callback<crate::protocol::KeptCopy>,
}

/// Starts the app in the page's `#app`.
pub fn start() {
    let doc = gloo::utils::document();
    let root = doc
        .get_element_by_id("app")
        .or_else(|| doc.body().map(Into::into))
        .expect("a body");
    shortcuts::apply_theme();
    yew::Renderer::<App>::with_root(root).render();
}

/// The page's URL without its fragment, and the directory it is in (where
/// the engine's files are).
fn page_urls() -> (String, String) {
    let loc = gloo::utils::window().location();
    let path = loc.pathname().unwrap_or_default();
    let page = format!("{}{}", path, loc.search().unwrap_or_default());
    let origin = loc.origin().unwrap_or_default();
    let dir = match path.rfind('/') {
        Some(i) => format!("{origin}{}", &path[..=i]),
        None => format!("{origin}/"),
    };
    (page, dir)
}

fn fragment() -> String {
    gloo::utils::window().location().hash().unwrap_or_default()
}

/// The value of the test knob `?NAME=VALUE` in the page's URL, when given
/// and readable: `e2e-slow-progress` (milliseconds: slows the engine's
/// reports), `e2e-memory-cap` (bytes: dumps are read with this memory cap,
/// so a test sees a small dump not fit), `e2e-walkers` (walks every heap
/// with N walker workers, 1: the engine worker itself, instead of as many
/// as the machine's cores give: [`crate::walkers::walker_count`]).
fn url_knob<T: std::str::FromStr>(name: &str) -> Option<T> {
    let search = gloo::utils::window()
        .location()
        .search()
        .unwrap_or_default();
    form_urlencoded::parse(search.trim_start_matches('?').as_bytes())
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.parse().ok())
}

/// Writes `route` into the URL: a new history entry for another place, a
/// replaced one for the same place with another sort, filter or dumps.
fn write_url(route: &Route) {
    let now = Route::parse(&fragment());
    if now == *route {
        return;
    }
    let (page, _) = page_urls();
    let url = format!("{page}{}", route.to_fragment());
    let history = gloo::utils::history();
    // Each entry keeps its depth inside the app, so Escape goes back
    // without leaving it (`shortcuts`).
    let _ = if now.is_other_place(route) {
        history.push_state_with_url(&shortcuts::next_depth(), "", Some(&url))
    } else {
        let depth = wasm_bindgen::JsValue::from_f64(f64::from(shortcuts::history_depth()));
        history.replace_state_with_url(&depth, "", Some(&url))
    };
}

/// The files of a `FileList`, in its order.
pub fn file_list(list: Option<web_sys::FileList>) -> Vec<File> {
    list.map(|l| (0..l.length()).filter_map(|i| l.get(i)).collect())
        .unwrap_or_default()
}

/// What the page says when a new version of the site is ready.
const UPDATE_READY: &str =
    "A new version of heaplens has been downloaded: it is used the next time you open heaplens.";

/// The app.
#[function_component(App)]
pub fn app() -> Html {
    let slow = *use_memo((), |_| url_knob::<u32>("e2e-slow-progress").unwrap_or(0));
    // The URL the page was opened with is applied before the first render,
    // so a linked view is kept (and waits for its files).
    let state =
        use_reducer(move || AppState::new(slow).reduce(Action::Route(Route::parse(&fragment()))));
    let dispatch = {
        let d = state.dispatcher();
        use_memo((), move |_| Callback::from(move |a: Action| d.dispatch(a)))
    };
    let dispatch: Callback<Action> = (*dispatch).clone();
    let bridge = {
        let dispatch = dispatch.clone();
        use_memo((), move |_| {
            Bridge::new(
                dispatch,
                &page_urls().1,
                slow,
                url_knob::<u64>("e2e-memory-cap"),
                url_knob::<u32>("e2e-walkers"),
            )
        })
    };
    let input = use_node_ref();
    let drag = use_state(|| false);
    let keys = use_state(|| false);
    // Offline use; a new version of the site waits for the next visit.
    let update_ready = use_state(|| false);
    {
        let update_ready = update_ready.clone();
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            offline::register(Callback::from(move |()| {
                update_ready.set(true);
                dispatch.emit(Action::Announce(UPDATE_READY.to_owned()));
            }));
        });
    }

    // The reducer's commands, after every render.
    {
        let bridge = bridge.clone();
        let outbox = state.outbox.clone();
        use_effect(move || {
            bridge.run(outbox.drain());
        });
    }
    // The URL follows the state.
    {
        let route = state.url_route();
        use_effect_with(route, write_url);
    }
    // Back and Forward.
    {
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            let l = EventListener::new(&gloo::utils::window(), "popstate", move |_| {
                dispatch.emit(Action::Route(Route::parse(&fragment())));
            });
            move || drop(l)
        });
    }

    // Unpacked copies kept for a faster reopen: read when the page starts
    // and whenever the dumps open change (a closed dump's copy goes).
    let kept = use_state(|| Rc::new(kept::KeptCopies::default()));
    let refresh_kept = {
        let kept = kept.clone();
        Callback::from(move |()| {
            let kept = kept.clone();
            kept::refresh(Callback::from(move |k| kept.set(Rc::new(k))));
        })
    };
    {
        let ids: Vec<_> = state.dumps.iter().map(|d| d.id).collect();
        let refresh_kept = refresh_kept.clone();
        use_effect_with(ids, move |_| refresh_kept.emit(()));
    }
    let open_kept = {
        let bridge = bridge.clone();
        let dispatch = dispatch.clone();
        Callback::from(move |k: crate::protocol::KeptCopy| {
            let dumps = vec![NewDump {
                name: k.archive.clone(),
                size: k.archive_size,
                file_time_ms: k.archive_modified_ms,
                modules: 0,
                id: bridge.add_files(None, Vec::new(), Some(k)),
            }];
            dispatch.emit(Action::Add {
                dumps,
                stray_modules: 0,
            });
        })
    };
    let add_files = {
        let bridge = bridge.clone();
        let dispatch = dispatch.clone();
        let kept = kept.clone();
        Callback::from(move |files: Vec<File>| {
            let (dumps, modules) = split_files(files, File::name);
            let stray_modules = if dumps.is_empty() { modules.len() } else { 0 };
            let dumps = dumps
                .into_iter()
                .map(|f| NewDump {
                    // The same archive as a kept copy's: read from it.
                    id: bridge.add_files(
                        Some(f.clone()),
                        modules.clone(),
                        kept.list
                            .iter()
                            .find(|k| k.is_of(&f.name(), f.size() as u64, f.last_modified()))
                            .cloned(),
                    ),
                    name: f.name(),
                    size: f.size() as u64,
                    file_time_ms: f.last_modified(),
                    modules: modules.len(),
                })
                .collect();
            dispatch.emit(Action::Add {
                dumps,
                stray_modules,
            });
        })
    };
    let pick_files = {
        let input = input.clone();
        Callback::from(move |()| {
            if let Some(i) = input.cast::<HtmlInputElement>() {
                i.click();
            }
        })
    };
    let ctx = Ctx {
        state: state.clone(),
        dispatch: dispatch.clone(),
        add_files: add_files.clone(),
        pick_files: pick_files.clone(),
        kept: (*kept).clone(),
        refresh_kept,
        open_kept,
    };

    // Files dropped anywhere on the page are added.
    let ondragover = {
        let drag = drag.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            if !*drag {
                drag.set(true);
            }
        })
    };
    let ondragleave = {
        let drag = drag.clone();
        Callback::from(move |e: DragEvent| {
            // Only when the pointer leaves the window, not a child.
            if e.related_target().is_none() {
                drag.set(false);
            }
        })
    };
    let ondrop = {
        let drag = drag.clone();
        let add = add_files.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            drag.set(false);
            let files = file_list(e.data_transfer().and_then(|dt| dt.files()));
            if !files.is_empty() {
                add.emit(files);
            }
        })
    };
    let onchange = {
        let add = add_files.clone();
        Callback::from(move |e: Event| {
            let input: HtmlInputElement = e.target_unchecked_into();
            let files = file_list(input.files());
            input.set_value("");
            if !files.is_empty() {
                add.emit(files);
            }
        })
    };

    let s = &*state;
    let screen = match s.view {
        View::Landing => html! { <landing::Landing /> },
        View::Compare => html! { <compare::Compare /> },
        View::Dump { id, tab } => match s.dump(id) {
            None => html! { <landing::Landing /> },
            Some(d) => match &d.status {
                DumpStatus::Opening { .. } => html! { <progress::Progress id={id} /> },
                DumpStatus::Failed(_) => html! { <failure::Failure id={id} /> },
                DumpStatus::Ready => html! { <dump::DumpScreen id={id} tab={tab} /> },
                DumpStatus::Counted(..) => html! { <counts::CountsScreen id={id} tab={tab} /> },
            },
        },
    };
    let any_ready = s.ready().next().is_some();
    let export = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            let doc = state.analysis_document();
            let json = serde_json::to_string_pretty(&doc).expect("documents serialise");
            download("heaplens-analysis.json", "application/json", json);
        })
    };
    let home = {
        let dispatch = dispatch.clone();
        Callback::from(move |e: MouseEvent| {
            e.prevent_default();
            dispatch.emit(Action::Home);
        })
    };
    let (seq, said) = &s.announcement;
    html! {
        <ContextProvider<Ctx> context={ctx}>
            <div class={classes!("app", drag.then_some("dragging"))} {ondragover} {ondragleave} {ondrop}>
                <header class="topbar">
                    <a class="brand" href="./" title="heaplens: the landing page" onclick={home}>
                        <span class="logo" aria-hidden="true">{ "◧" }</span>{ "heaplens" }
                    </a>
                    <span class="tagline">{ ".NET heap analysis that never leaves your browser" }</span>
                    <button class="ghost" id="add-dumps" onclick={pick_files.reform(|_| ())}>{ "Add dumps…" }</button>
                    if any_ready {
                        <button class="ghost" id="export-analysis" onclick={export}
                            title="The whole analysis as JSON: each dump's statistics, retained sizes and the types looked at, and the comparison, as heaplens … --json writes them. It carries no values from the dumps (no field values or string text); the object, strings and instances views export their own documents.">
                            { "Export analysis" }
                        </button>
                    }
                    <shortcuts::ThemeToggle />
                    <button class="ghost keys-button" id="shortcuts-button" aria-keyshortcuts="?"
                        onclick={{ let keys = keys.clone(); Callback::from(move |_: MouseEvent| keys.set(true)) }}>
                        { "Keys " }<kbd aria-hidden="true">{ "?" }</kbd>
                    </button>
                </header>
                <input type="file" multiple=true id="file-input" class="visually-hidden" tabindex="-1"
                    aria-hidden="true" ref={input} {onchange} />
                <dumpbar::DumpBar />
                <main id="main">
                    if *update_ready {
                        <p class="notice" id="update-ready">{ UPDATE_READY }</p>
                    }
                    if let Some(n) = &s.notice {
                        <p class="notice" id="notice" role="status">
                            { n }
                            <button class="linklike dismiss" aria-label="Dismiss"
                                onclick={dispatch.reform(|_| Action::DismissNotice)}>{ "×" }</button>
                        </p>
                    }
                    { screen }
                </main>
                <div class="visually-hidden" aria-live="polite" aria-atomic="true" id="announcer">
                    <span key={seq.to_string()}>{ said }</span>
                </div>
                <shortcuts::Shortcuts open={keys.clone()} />
                if *drag {
                    <div class="drop-overlay" aria-hidden="true"><span>{ "Drop dumps (and their DLLs) to add them" }</span></div>
                }
            </div>
        </ContextProvider<Ctx>>
    }
}

/// The context, in a component.
#[hook]
pub fn use_ctx() -> Ctx {
    use_context::<Ctx>().expect("inside the app")
}

/// An element's `HtmlElement`, by id.
pub fn element_by_id(id: &str) -> Option<web_sys::HtmlElement> {
    gloo::utils::document()
        .get_element_by_id(id)
        .and_then(|e| e.dyn_into().ok())
}
