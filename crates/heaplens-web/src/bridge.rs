//! The page's side of the engine workers: it carries out the reducer's
//! [`Command`]s and turns the workers' answers into [`Action`]s.
//!
//! **One worker per dump.** Each dump is read and analysed in an engine
//! worker of its own (a comparison, which needs only two `stats`
//! documents, in one more worker that holds no dump). Dumps are read in
//! parallel, each worker has its own wasm memory (up to the 4 GiB of wasm32,
//! which would otherwise cap the whole session), and stopping
//! one never touches the others.
//!
//! **Workers from a `blob:` URL.** A worker loaded from its own URL does not
//! inherit the page's `<meta>` Content-Security-Policy, and GitHub Pages
//! sets no headers. A worker whose script is a `blob:` URL made by the page
//! runs under the page's policy (CSP 3: local-scheme workers inherit their
//! creator's policy container), so the engine can reach no other origin
//! either; the loader it runs only imports this site's `worker.js` and
//! instantiates `worker_bg.wasm`.
//!
//! **Versioned.** A worker's first message says its protocol and schema
//! versions ([`Hello`]); a worker of another version is stopped and its
//! dump says why ([`ErrorKind::Version`]); a message that does not read as
//! a [`Response`] is a [`ErrorKind::Protocol`] failure, never a panic.
//!
//! **Cancelling one operation.** Opening a dump is cancelled by stopping
//! its worker (the dump goes, the others stay). An operation on an open
//! dump (retained sizes, a type's paths) is cancelled with a flag in shared
//! memory the engine reads at every progress report (`Atomics`, when the
//! page is cross-origin isolated: a service worker can give GitHub Pages
//! that); without shared memory the worker is stopped and a new one reads
//! the dump again, while the page keeps showing what it has, and the
//! operations queued behind the stopped one are posted again.
//!
//! **Walker workers.** An engine worker may walk a dump's heap with walker
//! workers of its own (nested workers, started from the same `blob:`
//! loader, whose URL goes with the open; see [`crate::walkers`]): stopping
//! the engine worker stops them too.
//!
//! **A worker that dies** (out of memory, a panic, a script that did not
//! load) fails the operation it was running with the reason; an open dump
//! is read again by a new worker, so the dumps stay.

use crate::protocol::{DumpId, EngineError, ErrorKind, Hello, OpId, Request, Response};
use crate::state::{Action, Command};
use serde::Serialize;
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{File, MessageEvent, Worker};
use yew::Callback;

/// Which worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Slot {
    /// The worker of a dump.
    Dump(DumpId),
    /// The worker that compares.
    Compare,
}

/// A request posted and not answered yet.
struct Inflight {
    op: OpId,
    dump: Option<DumpId>,
    envelope: JsValue,
    flag: Option<js_sys::Int32Array>,
}

struct Engine {
    worker: Worker,
    /// It said hello (with the right versions).
    ready: bool,
    /// Envelopes waiting for the hello.
    queue: Vec<JsValue>,
    /// Posted, not answered, in order: the first is the one running.
    inflight: Vec<Inflight>,
    /// Its dump was read (so a new worker can read it again).
    opened: bool,
    /// Its wasm memory when last heard from.
    memory: u64,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::ErrorEvent)>,
}

impl Engine {
    fn post(&mut self, envelope: JsValue) {
        if self.ready {
            let _ = self.worker.post_message(&envelope);
        } else {
            self.queue.push(envelope);
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

struct Files {
    /// The file dropped (none for a kept unpacked copy opened from the
    /// landing page).
    file: Option<File>,
    modules: Vec<File>,
    /// The kept unpacked copy of the archive to read instead.
    kept: Option<crate::protocol::KeptCopy>,
}

struct Inner {
    me: Weak<RefCell<Inner>>,
    dispatch: Callback<Action>,
    loader: String,
    shared_memory: bool,
    slow_progress_ms: u32,
    /// Test knob: the memory cap of every open ([`Request::Open`]'s
    /// `memory_cap`).
    memory_cap: Option<u64>,
    /// Test knob: the walker workers of every open ([`Request::Open`]'s
    /// `walkers`).
    walkers: Option<u32>,
    next_dump: u32,
    next_own_op: u32,
    files: HashMap<DumpId, Files>,
    engines: HashMap<Slot, Engine>,
    /// Stopped workers whose handlers may be running (a worker's message
    /// can stop it): dropped on the next command.
    retired: Vec<Engine>,
}

/// The page's engine workers.
#[derive(Clone)]
pub struct Bridge(Rc<RefCell<Inner>>);

impl PartialEq for Bridge {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The loader each worker runs (as a `blob:` URL): this site's `worker.js`
/// and `worker_bg.wasm` by absolute URL (a `blob:` URL has no base to
/// resolve relative ones), and a failure to start in the engine's words.
fn loader_source(base: &str) -> String {
    let js = serde_json::to_string(&format!("{base}worker.js")).expect("a string");
    let wasm = serde_json::to_string(&format!("{base}worker_bg.wasm")).expect("a string");
    format!(
        r#""use strict";
importScripts({js});
wasm_bindgen({{ module_or_path: {wasm} }}).catch(function (e) {{
  postMessage({{ type: "failed", dump: null, op: null, error: {{ kind: "worker_failed", code: null,
    message: "The analysis engine could not start: " + e }} }});
}});
"#
    )
}

/// True when the page may share memory with its workers.
fn cross_origin_isolated() -> bool {
    let g = js_sys::global();
    js_sys::Reflect::get(&g, &"crossOriginIsolated".into())
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
        && js_sys::Reflect::has(&g, &"SharedArrayBuffer".into()).unwrap_or(false)
}

fn to_js<T: Serialize>(v: &T) -> JsValue {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .expect("requests serialise")
}

/// Later, outside whatever borrow or render runs now.
fn later(dispatch: &Callback<Action>, a: Action) {
    let d = dispatch.clone();
    yew::platform::spawn_local(async move { d.emit(a) });
}

impl Bridge {
    /// The bridge of a page whose files live at `base` (ending in `/`).
    /// `slow_progress_ms`, `memory_cap` and `walkers`: test knobs (the
    /// URL's `e2e-slow-progress`, `e2e-memory-cap`, `e2e-walkers`).
    pub fn new(
        dispatch: Callback<Action>,
        base: &str,
        slow_progress_ms: u32,
        memory_cap: Option<u64>,
        walkers: Option<u32>,
    ) -> Bridge {
        let blob = gloo::file::Blob::new_with_options(
            loader_source(base).as_str(),
            Some("text/javascript"),
        );
        // Kept for the page's life: every worker is made from it.
        let url = web_sys::Url::create_object_url_with_blob(blob.as_ref())
            .expect("a blob: URL for the engine's loader");
        // Unpacked dumps a closed tab left in the page's storage.
        yew::platform::spawn_local(crate::scratch::sweep());
        Bridge(Rc::new_cyclic(|me| {
            RefCell::new(Inner {
                me: me.clone(),
                dispatch,
                loader: url,
                shared_memory: cross_origin_isolated(),
                slow_progress_ms,
                memory_cap,
                walkers,
                next_dump: 0,
                next_own_op: u32::MAX,
                files: HashMap::new(),
                engines: HashMap::new(),
                retired: Vec::new(),
            })
        }))
    }

    /// Keeps a dump's files under a new id (its `Open` command reads them):
    /// the dropped `file`, or the `kept` unpacked copy of the archive it is
    /// (or of an archive no longer at hand, when `file` is `None`).
    pub fn add_files(
        &self,
        file: Option<File>,
        modules: Vec<File>,
        kept: Option<crate::protocol::KeptCopy>,
    ) -> DumpId {
        let mut b = self.0.borrow_mut();
        b.next_dump += 1;
        let id = DumpId(b.next_dump);
        b.files.insert(
            id,
            Files {
                file,
                modules,
                kept,
            },
        );
        id
    }

    /// Carries out the reducer's commands.
    pub fn run(&self, commands: Vec<Command>) {
        let mut b = self.0.borrow_mut();
        b.retired.clear();
        for c in commands {
            b.command(c);
        }
    }
}

impl Inner {
    fn spawn(&mut self, slot: Slot) -> Engine {
        let opts = web_sys::WorkerOptions::new();
        opts.set_name(match slot {
            Slot::Dump(_) => "heaplens-engine",
            Slot::Compare => "heaplens-compare",
        });
        let worker =
            Worker::new_with_options(&self.loader, &opts).expect("a Web Worker from a blob: URL");
        let me = self.me.clone();
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(inner) = me.upgrade() {
                Inner::message(&inner, slot, ev.data());
            }
        });
        let me = self.me.clone();
        let onerror =
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
                ev.prevent_default();
                if let Some(inner) = me.upgrade() {
                    inner.borrow_mut().worker_error(slot, ev.message());
                }
            });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        Engine {
            worker,
            ready: false,
            queue: Vec::new(),
            inflight: Vec::new(),
            opened: false,
            memory: 0,
            _onmessage: onmessage,
            _onerror: onerror,
        }
    }

    fn engine(&mut self, slot: Slot) -> &mut Engine {
        if !self.engines.contains_key(&slot) {
            let e = self.spawn(slot);
            self.engines.insert(slot, e);
        }
        self.engines.get_mut(&slot).expect("just made")
    }

    /// Posts `request` (with `files` for an open) to `slot`'s worker as
    /// operation `op`.
    fn send(&mut self, slot: Slot, op: OpId, dump: Option<DumpId>, request: &Request) {
        let envelope = js_sys::Object::new();
        let set = |k: &str, v: &JsValue| {
            let _ = js_sys::Reflect::set(&envelope, &k.into(), v);
        };
        set("request", &to_js(request));
        if let (Request::Open { .. }, Some(d)) = (request, dump) {
            if let Some(f) = self.files.get(&d) {
                if let Some(file) = &f.file {
                    set("file", file);
                }
                if !f.modules.is_empty() {
                    set("modules", &f.modules.iter().collect::<js_sys::Array>());
                }
            }
        }
        let flag = self.shared_memory.then(|| {
            let flag = js_sys::Int32Array::new(&js_sys::SharedArrayBuffer::new(4));
            set("cancel", &flag);
            flag
        });
        let envelope: JsValue = envelope.into();
        let e = self.engine(slot);
        e.inflight.push(Inflight {
            op,
            dump,
            envelope: envelope.clone(),
            flag,
        });
        e.post(envelope);
    }

    fn command(&mut self, c: Command) {
        let slow_progress_ms = self.slow_progress_ms;
        match c {
            Command::Open { dump, op } => {
                let r = Request::Open {
                    dump,
                    op,
                    slow_progress_ms,
                    kept: self.kept_of(dump),
                    memory_cap: self.memory_cap,
                    walkers: self.walkers,
                    loader: Some(self.loader.clone()),
                };
                self.send(Slot::Dump(dump), op, Some(dump), &r);
            }
            Command::Analyse { dump, op } => {
                let r = Request::Analyse {
                    dump,
                    op,
                    slow_progress_ms,
                };
                self.send_to_dump(dump, op, &r);
            }
            Command::Detail { dump, op, type_id } => {
                self.send_to_dump(dump, op, &Request::Detail { dump, op, type_id });
            }
            Command::Diff {
                op,
                base,
                current,
                answers,
            } => {
                let r = Request::Diff {
                    op,
                    base: Box::new((*base).clone()),
                    current: Box::new((*current).clone()),
                    retained: answers
                        .map(|(b, c)| Box::new((b.by_name.clone(), c.by_name.clone()))),
                };
                self.send(Slot::Compare, op, None, &r);
            }
            Command::Groups { dump, op, by } => {
                self.send_to_dump(dump, op, &Request::Groups { dump, op, by });
            }
            Command::Fold { dump, op, folds } => {
                self.send_to_dump(dump, op, &Request::Fold { dump, op, folds });
            }
            Command::DiffFlame {
                op,
                base,
                current,
                base_format,
                current_format,
            } => {
                let r = Request::DiffFlame {
                    op,
                    base: Box::new((*base).clone()),
                    current: Box::new((*current).clone()),
                    base_format,
                    current_format,
                };
                self.send(Slot::Compare, op, None, &r);
            }
            Command::DiffGroups { op, base, current } => {
                let r = Request::DiffGroups {
                    op,
                    base: Box::new((*base).clone()),
                    current: Box::new((*current).clone()),
                };
                self.send(Slot::Compare, op, None, &r);
            }
            Command::Contents {
                dump,
                op,
                query,
                baseline,
            } => {
                let r = Request::Contents {
                    dump,
                    op,
                    query,
                    baseline: baseline.map(|b| Box::new((*b).clone())),
                };
                self.send_to_dump(dump, op, &r);
            }
            Command::Download { name, json } => {
                crate::ui::download(&name, "application/json", json);
            }
            Command::Cancel { dump, op, keep } => self.cancel(dump, op, keep),
            Command::Close { dump } => {
                self.engines.remove(&Slot::Dump(dump));
                self.files.remove(&dump);
                // Its worker is stopped: the unpacked copy of a dump opened
                // from an archive is deleted once the browser lets go of it.
                yew::platform::spawn_local(crate::scratch::sweep());
            }
        }
    }

    /// The kept unpacked copy `dump` is read from, if any.
    fn kept_of(&self, dump: DumpId) -> Option<crate::protocol::KeptCopy> {
        self.files.get(&dump).and_then(|f| f.kept.clone())
    }

    fn send_to_dump(&mut self, dump: DumpId, op: OpId, r: &Request) {
        if self.engines.contains_key(&Slot::Dump(dump)) {
            self.send(Slot::Dump(dump), op, Some(dump), r);
        } else {
            later(
                &self.dispatch,
                Action::Engine(Response::Failed {
                    dump: Some(dump),
                    op: Some(op),
                    error: EngineError::new(ErrorKind::NotFound, "the dump is no longer open"),
                }),
            );
        }
    }

    fn cancel(&mut self, dump: Option<DumpId>, op: OpId, keep: bool) {
        let slot = dump.map_or(Slot::Compare, Slot::Dump);
        if !keep {
            // The dump goes: its worker and files with it.
            self.engines.remove(&slot);
            if let Some(d) = dump {
                self.files.remove(&d);
            }
            return;
        }
        let Some(e) = self.engines.get_mut(&slot) else {
            return;
        };
        let Some(pos) = e.inflight.iter().position(|i| i.op == op) else {
            return;
        };
        if let Some(flag) = &e.inflight[pos].flag {
            // The engine reads it at its next progress report and answers
            // with a cancelled failure; the worker and its dump stay.
            let _ = js_sys::Atomics::store(flag, 0, 1);
            return;
        }
        if pos > 0 {
            // Queued behind another: it will run, and the page drops its
            // answer (the reducer no longer waits for it).
            return;
        }
        // Running, and no shared memory: stop the worker, read the dump
        // again in a new one, post again what waited behind.
        self.restart(slot, Some(op));
    }

    /// Stops `slot`'s worker; for a dump that was read, a new worker reads
    /// it again and gets the requests that waited (all but `drop_op`).
    fn restart(&mut self, slot: Slot, drop_op: Option<OpId>) {
        let Some(old) = self.engines.remove(&slot) else {
            return;
        };
        let opened = old.opened;
        let waiting: Vec<Inflight> = old
            .inflight
            .iter()
            .filter(|i| Some(i.op) != drop_op)
            .map(|i| Inflight {
                op: i.op,
                dump: i.dump,
                envelope: i.envelope.clone(),
                flag: i.flag.clone(),
            })
            .collect();
        old.worker.set_onmessage(None);
        old.worker.set_onerror(None);
        old.worker.terminate();
        self.retired.push(old);
        if let Slot::Dump(d) = slot {
            if !opened {
                return;
            }
            // The page's own operation: its answers are for no one.
            self.next_own_op -= 1;
            let op = OpId(self.next_own_op);
            self.send(
                slot,
                op,
                Some(d),
                &Request::Open {
                    dump: d,
                    op,
                    slow_progress_ms: 0,
                    kept: self.kept_of(d),
                    memory_cap: self.memory_cap,
                    walkers: self.walkers,
                    loader: Some(self.loader.clone()),
                },
            );
            self.engine(slot).opened = true;
        }
        if waiting.is_empty() {
            return;
        }
        let e = self.engine(slot);
        for i in waiting {
            let env = i.envelope.clone();
            e.inflight.push(i);
            e.post(env);
        }
    }

    /// `slot`'s worker stopped with an uncaught error `m`. A panic is
    /// reported by the engine before it stops; a wasm trap without one is
    /// an allocation that failed (Rust aborts when memory runs out), so it
    /// is said as out of memory, with the memory the worker had.
    fn worker_error(&mut self, slot: Slot, m: String) {
        let memory = self.engines.get(&slot).map_or(0, |e| e.memory);
        let error = if m.contains("unreachable") || m.to_ascii_lowercase().contains("memory") {
            EngineError::new(
                ErrorKind::OutOfMemory,
                format!(
                    "the engine stopped when it could not get more memory ({} in use when last \
                     heard from; each dump's engine may use up to 2 GB) — {m}",
                    crate::format::bytes(memory)
                ),
            )
        } else if m.is_empty() {
            EngineError::new(
                ErrorKind::WorkerFailed,
                "the engine's worker stopped (its script or wasm module failed to load, or the \
                 browser ended it)",
            )
        } else {
            EngineError::new(
                ErrorKind::WorkerFailed,
                format!("the engine's worker stopped: {m}"),
            )
        };
        self.died(slot, error);
    }

    /// `slot`'s worker cannot go on: the operation it was running fails
    /// with `error`, and an open dump is read again.
    fn died(&mut self, slot: Slot, error: EngineError) {
        let Some(e) = self.engines.get(&slot) else {
            return;
        };
        let failed = e.inflight.first().map(|i| (i.dump, i.op));
        let fallback_dump = match slot {
            Slot::Dump(d) => Some(d),
            Slot::Compare => None,
        };
        let (dump, op) = match failed {
            Some((d, op)) => (d.or(fallback_dump), Some(op)),
            None => (fallback_dump, None),
        };
        later(
            &self.dispatch,
            Action::Engine(Response::Failed { dump, op, error }),
        );
        self.restart(slot, op);
    }

    fn message(inner: &Rc<RefCell<Inner>>, slot: Slot, data: JsValue) {
        let resp = match serde_wasm_bindgen::from_value::<Response>(data) {
            Ok(r) => r,
            Err(e) => {
                let error = EngineError::new(
                    ErrorKind::Protocol,
                    format!(
                        "the analysis engine sent a message this page cannot read ({e}): the \
                         page and the engine come from different builds"
                    ),
                );
                inner.borrow_mut().died(slot, error);
                return;
            }
        };
        let mut b = inner.borrow_mut();
        match &resp {
            Response::Hello(hello) => {
                let ok = hello.check();
                match ok {
                    Ok(()) => {
                        let Some(e) = b.engines.get_mut(&slot) else {
                            return;
                        };
                        e.ready = true;
                        for m in std::mem::take(&mut e.queue) {
                            let _ = e.worker.post_message(&m);
                        }
                    }
                    Err(error) => {
                        // Nothing of it is used: its dump fails with the
                        // reason, no new worker is made.
                        if let Some(e) = b.engines.get_mut(&slot) {
                            e.opened = false;
                        }
                        b.died(slot, error);
                    }
                }
                return;
            }
            Response::Progress { progress, .. } => {
                if let Some(e) = b.engines.get_mut(&slot) {
                    e.memory = progress.memory;
                }
            }
            Response::Failed {
                op: None, error, ..
            }
            | Response::Failed {
                error:
                    error @ EngineError {
                        kind: ErrorKind::EngineBug | ErrorKind::WorkerFailed,
                        ..
                    },
                ..
            } => {
                let error = error.clone();
                b.died(slot, error);
                return;
            }
            Response::Opened { op, .. }
            | Response::Counted { op, .. }
            | Response::Retained { op, .. }
            | Response::Detail { op, .. }
            | Response::Diff { op, .. }
            | Response::Groups { op, .. }
            | Response::Folded { op, .. }
            | Response::DiffGroups { op, .. }
            | Response::DiffFlame { op, .. }
            | Response::Contents { op, .. }
            | Response::Failed { op: Some(op), .. } => {
                let op = *op;
                if let Some(e) = b.engines.get_mut(&slot) {
                    e.inflight.retain(|i| i.op != op);
                    if let Response::Opened { read, .. } = &resp {
                        e.opened = true;
                        e.memory = read.wasm_memory;
                    }
                }
            }
            Response::BenchRead { .. }
            | Response::BenchCompute { .. }
            // A walker worker's, to its engine worker only.
            | Response::WalkProgress { .. }
            | Response::Walked { .. } => {}
        }
        let dispatch = b.dispatch.clone();
        drop(b);
        later(&dispatch, Action::Engine(resp));
    }
}

/// The page's `Hello`, for the status line.
pub fn versions() -> Hello {
    Hello::current()
}
