//! The worker: receives requests from the UI, opens dumps with the engine
//! and answers with tables. See [`crate::protocol`].

use crate::blob::{bench_read, js_error, BlobReader};
use crate::model::Session;
use crate::protocol::{ProgressReport, Request, Response, Slot};
use heaplens_bytes::PageCache;
use heaplens_graph::{Cancelled, Phase};
use heaplens_snapshot::modules::ModuleSet;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, File, MessageEvent};

/// Page size of the cache between the engine and the File API: big enough
/// that sequential readers make few File API calls, small enough that
/// random access does not read much more than it needs.
pub const PAGE_SIZE: usize = 1 << 20;
/// Pages kept (64 MiB of cache).
pub const PAGES: usize = 64;
/// Progress is posted at most this often.
const PROGRESS_EVERY_MS: f64 = 50.0;

thread_local! {
    static SESSION: RefCell<Session> = RefCell::new(Session::default());
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn post(resp: &Response) {
    match serde_json::to_string(resp) {
        Ok(s) => {
            let _ = scope().post_message(&JsValue::from_str(&s));
        }
        Err(e) => web_sys::console::error_1(&format!("heaplens worker: {e}").into()),
    }
}

/// Size of this worker's wasm memory in bytes.
pub fn wasm_memory() -> u64 {
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as u64
}

/// Installs the message handler and tells the UI the worker is ready.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        post(&Response::Panic {
            message: info.to_string(),
        });
    }));
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        handle(ev.data());
    });
    scope().set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&Response::Ready);
}

fn handle(data: JsValue) {
    let req = js_sys::Reflect::get(&data, &"req".into())
        .ok()
        .and_then(|v| v.as_string())
        .ok_or_else(|| "the message has no request".to_owned())
        .and_then(|s| serde_json::from_str::<Request>(&s).map_err(|e| e.to_string()));
    let req = match req {
        Ok(r) => r,
        Err(e) => {
            post(&Response::Failed {
                slot: None,
                message: format!("the worker got a message it does not understand: {e}"),
            });
            return;
        }
    };
    let file = js_sys::Reflect::get(&data, &"file".into())
        .ok()
        .and_then(|v| v.dyn_into::<File>().ok());
    // Module files posted with an open request (handles, not bytes).
    let modules: Vec<File> = js_sys::Reflect::get(&data, &"modules".into())
        .ok()
        .and_then(|v| v.dyn_into::<js_sys::Array>().ok())
        .map(|a| a.iter().filter_map(|v| v.dyn_into::<File>().ok()).collect())
        .unwrap_or_default();
    match req {
        Request::Open {
            slot,
            slow_progress_ms,
        } => match file {
            Some(f) => wasm_bindgen_futures::spawn_local(open_archive_or_dump(
                slot,
                f,
                modules,
                slow_progress_ms,
            )),
            None => post(&Response::Failed {
                slot: Some(slot),
                message: "no file came with the request".into(),
            }),
        },
        Request::Detail { slot, type_id } => {
            let d = SESSION.with(|s| s.borrow_mut().get_mut(slot).and_then(|o| o.detail(type_id)));
            post(&match d {
                Some(detail) => Response::Detail { slot, detail },
                None => Response::Failed {
                    slot: Some(slot),
                    message: format!("no type {} in the {}", type_id.0, slot.label()),
                },
            });
        }
        Request::Diff => post(&match SESSION.with(|s| s.borrow().diff()) {
            Ok(diff) => Response::Diff { diff },
            Err(message) => Response::Failed {
                slot: None,
                message,
            },
        }),
        Request::Forget { slot } => SESSION.with(|s| s.borrow_mut().forget(slot)),
        Request::BenchRead { chunk } => {
            let Some(f) = file else { return };
            let t0 = now();
            post(&match bench_read(&f, chunk as u64) {
                Ok(bytes) => Response::BenchRead {
                    bytes,
                    ms: now() - t0,
                },
                Err(message) => Response::Failed {
                    slot: None,
                    message,
                },
            });
        }
    }
}

/// The module files dropped with a dump, as the engine's [`ModuleSet`].
/// Each is read (through a small page cache) only when the engine asks for
/// the assembly of its name.
fn module_set(files: Vec<File>) -> Result<ModuleSet, String> {
    let mut set = ModuleSet::new();
    for f in files {
        let name = f.name();
        let reader = BlobReader::new(f.into())?;
        set.add(
            &name,
            &format!("the dropped {name}"),
            Box::new(PageCache::with_capacity(reader, 64 << 10, 64)),
        );
    }
    Ok(set)
}

/// Opens `file`; an archive (by its first bytes) is unpacked into the
/// browser's private storage ([`crate::scratch`]), deleted when the open
/// ends.
async fn open_archive_or_dump(slot: Slot, file: File, modules: Vec<File>, slow_progress_ms: u32) {
    let head = BlobReader::new(file.clone().into())
        .ok()
        .and_then(|r| {
            let mut head = vec![0u8; heaplens_bytes::ReadAt::len(&r).min(64) as usize];
            heaplens_bytes::ReadAt::read_at(&r, 0, &mut head).ok()?;
            Some(head)
        })
        .unwrap_or_default();
    let mut scratch = crate::scratch::for_input(&file.name(), &head).await;
    open(slot, file, modules, slow_progress_ms, scratch.as_mut());
    if let Some(Ok(s)) = scratch {
        s.delete().await;
    }
}

fn open(
    slot: Slot,
    file: File,
    modules: Vec<File>,
    slow_progress_ms: u32,
    scratch: Option<&mut Result<crate::scratch::OpfsScratch, heaplens_archive::NoScratch>>,
) {
    let t0 = now();
    let name = file.name();
    // What the archive's unpacking has written, for the progress words.
    let unpacked = scratch
        .as_ref()
        .and_then(|s| s.as_ref().ok())
        .map(|s| (s.used_cell(), s.room_at_start()));
    let mb = |b: u64| format!("{:.1} MB", b as f64 / 1e6);
    let phase_words = |phase: Phase| match &unpacked {
        Some((used, room)) if phase == Phase::Unpacking => format!(
            "unpacking into {}: {} written{}",
            crate::scratch::LOCATION,
            mb(used.get()),
            room.map(|r| format!(", {} free", mb(r)))
                .unwrap_or_default()
        ),
        _ => phase.words().to_owned(),
    };
    let releaser = scratch
        .as_ref()
        .and_then(|s| s.as_ref().ok())
        .map(|s| s.releaser());
    let scratch: Option<&mut dyn heaplens_archive::Scratch> = match scratch {
        Some(Ok(s)) => Some(s),
        Some(Err(none)) => Some(none),
        None => None,
    };
    let opened = BlobReader::new(file.into()).and_then(|r| Ok((r, module_set(modules)?)));
    let (reader, modules) = match opened {
        Ok(r) => r,
        Err(message) => {
            post(&Response::Failed {
                slot: Some(slot),
                message,
            });
            return;
        }
    };
    let file_size = heaplens_bytes::ReadAt::len(&reader);
    let cache = PageCache::with_capacity(&reader, PAGE_SIZE, PAGES);
    let report = |phase: &str, done: u64, total: u64| {
        let objectish = phase.contains("node") || phase.contains("object");
        Response::Progress(ProgressReport {
            slot: Some(slot),
            phase: phase.to_owned(),
            done,
            total,
            position: reader.position(),
            bytes_read: reader.bytes_read(),
            file_size,
            objects: objectish.then_some(done),
            elapsed_ms: now() - t0,
        })
    };
    post(&report("starting", 0, 0));
    let mut last = now();
    // When unpacking an archive began and last reported (its time, for the
    // overview and the benchmark).
    let unpacking: std::cell::Cell<Option<(f64, f64)>> = std::cell::Cell::new(None);
    let mut progress = |phase: Phase, done: u64, total: u64| -> Result<(), Cancelled> {
        if phase == Phase::Unpacking {
            let t = now();
            unpacking.set(Some(unpacking.get().map_or((t0, t), |(a, _)| (a, t))));
        }
        let words = phase_words(phase);
        let phase = words.as_str();
        if slow_progress_ms > 0 {
            let until = now() + slow_progress_ms as f64;
            while now() < until {}
        }
        let t = now();
        if t - last >= PROGRESS_EVERY_MS {
            last = t;
            post(&report(phase, done, total));
        }
        Ok(())
    };
    let result = SESSION.with(|s| {
        let mut s = s.borrow_mut();
        s.open_with_scratch(slot, &cache, &modules, scratch, &name, &mut progress)?;
        let o = s.get_mut(slot).expect("just opened");
        o.report.bytes_read = reader.bytes_read();
        o.report.read_ms = reader.read_ms();
        o.report.unpack_ms = unpacking.get().map_or(0.0, |(a, b)| b - a);
        o.report.open_ms = now() - t0;
        o.report.wasm_memory = wasm_memory();
        Ok::<_, String>((o.document.clone(), o.report.clone()))
    });
    // The names are in the snapshot; the module files are not read again,
    // nor the unpacked archive: its space is freed before the answer.
    drop(modules);
    if let Some(r) = releaser {
        r.release();
    }
    match result {
        Ok((stats, read)) => post(&Response::Opened { slot, stats, read }),
        Err(message) => {
            post(&Response::Failed {
                slot: Some(slot),
                message,
            });
            return;
        }
    }
    // The table is on screen; now the slower analyses (root paths and the
    // dominator tree) that the retained column and the detail need.
    let t1 = now();
    let retained = SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let o = s.get_mut(slot)?;
        o.analyse(&mut heaplens_graph::NoProgress).ok()?;
        o.retained.clone()
    });
    if let Some(retained) = retained {
        post(&Response::Retained {
            slot,
            retained,
            ms: now() - t1,
        });
    }
}

/// A JavaScript exception as text (re-exported for the UI).
pub fn error_text(e: &JsValue) -> String {
    js_error(e)
}
