//! An engine worker: receives requests from the page, opens dumps with the
//! engine and answers with the documents of the result schema. See
//! [`crate::protocol`] for the messages and [`crate::bridge`] for the page's
//! side.
//!
//! The worker runs the engine on its one thread, so a request runs to its
//! end before the next is read. An operation is cancelled through the flag
//! posted with it (an `Int32Array` over a `SharedArrayBuffer`, when the
//! page is cross-origin isolated): every progress report reads it and
//! stops the engine with `Cancelled`. Without shared memory the page stops
//! the worker instead (see the bridge).
//!
//! A `.zip`, `.gz` or `.zst` is unpacked into the browser's origin-private
//! file system ([`crate::scratch`]) and the dump read from there; the file
//! is kept while the dump is open (object contents read the dump from it)
//! and deleted when the dump is closed (or the open fails).

use crate::blob::{bench_read, js_error, BlobReader};
use crate::model::Session;
use crate::protocol::{
    Baseline, ContentsQuery, DumpId, EngineError, ErrorKind, Hello, OpId, Phase, ProgressReport,
    ReadReport, Request, Response, ScratchReport,
};
use heaplens_analysis::budget::MemoryBudget;
use heaplens_bytes::{PageCache, ReadAhead};
use heaplens_graph::{Cancelled, Phase as EnginePhase};
use heaplens_snapshot::modules::ModuleSet;
use serde::Serialize;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, File, MessageEvent};

/// Page size of the cache between the engine and the File API: small
/// enough that random access (metadata, MethodTables, stacks) does not
/// read much more than it needs; sequential reads are read ahead in
/// [`READ_AHEAD`] slices beneath it.
pub const PAGE_SIZE: usize = 1 << 20;
/// Pages kept (64 MiB of cache).
pub const PAGES: usize = 64;
/// A read of the dump that continues the previous one (the heap's
/// segments, walked in order) reads this much of the file at once: the
/// File API reads 16 MiB slices 2–3× as fast as 1 MiB ones (BENCHMARKS.md,
/// issue 14). One buffer of this size while the dump is read.
pub const READ_AHEAD: usize = 16 << 20;
/// Page size and pages of the cache the worker keeps on a dump's file for
/// object contents (the inspector reads a few places; strings and waste
/// read the heap once in address order): 8 MiB.
pub const CONTENTS_PAGE_SIZE: usize = 256 << 10;
/// See [`CONTENTS_PAGE_SIZE`].
pub const CONTENTS_PAGES: usize = 32;
/// The worker's wasm memory cap: `build.rs` links the worker with this
/// `--max-memory`, the largest wasm32 memory (4 GiB, 65,536 pages), which
/// Chromium and Firefox grant. One allocation is still at most 2 GiB
/// (`isize::MAX` bytes in wasm32): the walk asks for its columns with
/// `try_reserve`, so a column that would pass it is refused with numbers.
pub const MEMORY_CAP: u64 = 4 << 30;
/// Progress is posted at most this often.
const PROGRESS_EVERY_MS: f64 = 50.0;

thread_local! {
    static SESSION: RefCell<Session> = RefCell::new(Session::with_budget(
        MemoryBudget::capped(MEMORY_CAP, memory_in_use),
    ));
    /// The operation running, for a panic's report.
    static RUNNING: Cell<(Option<DumpId>, Option<OpId>)> = const { Cell::new((None, None)) };
    /// The scratch file of each dump opened from an archive: the unpacked
    /// dump, read for its objects' contents until the dump is closed.
    static SCRATCH: RefCell<HashMap<DumpId, crate::scratch::OpfsScratch>> = RefCell::default();
}

/// Drops `dump` and deletes its scratch file (after the reader of its
/// contents, which holds the file's handle, is gone).
async fn forget(dump: DumpId) {
    SESSION.with(|s| s.borrow_mut().close(dump));
    if let Some(scratch) = SCRATCH.with(|s| s.borrow_mut().remove(&dump)) {
        scratch.delete().await;
    }
}

fn scope() -> DedicatedWorkerGlobalScope {
    js_sys::global().unchecked_into()
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn post(resp: &Response) {
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    match resp.serialize(&ser) {
        Ok(v) => {
            let _ = scope().post_message(&v);
        }
        // A result that cannot be written as a message (a number past
        // JavaScript's exact integers) fails its operation instead of
        // leaving the page waiting.
        Err(e) => {
            let (dump, op) = RUNNING.with(Cell::get);
            let failed = Response::Failed {
                dump,
                op,
                error: EngineError::new(
                    ErrorKind::Protocol,
                    format!("the engine could not send its result: {e}"),
                ),
            };
            if let Ok(v) = failed.serialize(&ser) {
                let _ = scope().post_message(&v);
            }
        }
    }
}

fn fail(dump: Option<DumpId>, op: Option<OpId>, error: EngineError) {
    post(&Response::Failed { dump, op, error });
}

/// Size of this worker's wasm memory in bytes (read as a JavaScript
/// number: at the 4 GiB maximum `byteLength` is 2^32, which a `u32` would
/// read as 0).
pub fn wasm_memory() -> u64 {
    let buffer = wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer();
    js_sys::Reflect::get(&buffer, &JsValue::from_str("byteLength"))
        .ok()
        .and_then(|v| v.as_f64())
        .map_or(0, |b| b as u64)
}

/// Bytes of this worker's memory in use: allocated and not freed (the
/// worker binary counts them with `stats_alloc`'s allocator; the wasm
/// memory only grows, and what was freed in it is reused).
///
/// `stats_alloc` adds a reallocation's growth to `bytes_allocated` (its
/// shrinking to `bytes_deallocated`) *and* to `bytes_reallocated`, so the
/// bytes in use are allocated − deallocated alone (adding the reallocated
/// bytes, as this did before, counted every `Vec` that grew twice). Its
/// totals are cumulative `usize`s, which in wasm32 wrap after 4 GiB of
/// allocations in all: the difference is taken modulo 2^32 too, exact
/// while less than 4 GiB is in use (always, in a 4 GiB memory).
pub fn memory_in_use() -> u64 {
    let s = stats_alloc::INSTRUMENTED_SYSTEM.stats();
    s.bytes_allocated.wrapping_sub(s.bytes_deallocated) as u64
}

/// Installs the message handler and says which versions this worker
/// speaks.
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let (dump, op) = RUNNING.with(Cell::get);
        fail(
            dump,
            op,
            EngineError::new(
                ErrorKind::EngineBug,
                format!("the engine hit a bug: {info}"),
            ),
        );
    }));
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(|ev: MessageEvent| {
        handle(ev.data());
    });
    scope().set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    onmessage.forget();
    post(&Response::Hello(Hello::current()));
}

/// The cancel flag posted with a request, when the page has shared memory.
#[derive(Clone)]
struct CancelFlag(Option<js_sys::Int32Array>);

impl CancelFlag {
    fn check(&self) -> Result<(), Cancelled> {
        match &self.0 {
            Some(a) if js_sys::Atomics::load(a, 0).unwrap_or(0) != 0 => Err(Cancelled),
            _ => Ok(()),
        }
    }
}

fn field(data: &JsValue, name: &str) -> JsValue {
    js_sys::Reflect::get(data, &name.into()).unwrap_or(JsValue::UNDEFINED)
}

fn handle(data: JsValue) {
    let req = match serde_wasm_bindgen::from_value::<Request>(field(&data, "request")) {
        Ok(r) => r,
        Err(e) => {
            fail(
                None,
                None,
                EngineError::new(
                    ErrorKind::Protocol,
                    format!("the engine got a message it does not understand: {e}"),
                ),
            );
            return;
        }
    };
    let cancel = CancelFlag(field(&data, "cancel").dyn_into::<js_sys::Int32Array>().ok());
    match req {
        Request::Open {
            dump,
            op,
            slow_progress_ms,
            kept,
            memory_cap,
            walkers,
            loader,
        } => {
            let file = field(&data, "file").dyn_into::<File>().ok();
            // Module files posted with the dump (handles, not bytes).
            let modules: Vec<File> = field(&data, "modules")
                .dyn_into::<js_sys::Array>()
                .map(|a| a.iter().filter_map(|v| v.dyn_into::<File>().ok()).collect())
                .unwrap_or_default();
            if file.is_none() && kept.is_none() {
                fail(
                    Some(dump),
                    Some(op),
                    EngineError::new(ErrorKind::Protocol, "no file came with the request"),
                );
                return;
            }
            // Preparing an archive's scratch space or opening a kept copy
            // waits on the browser's storage: the open runs when it is
            // ready.
            wasm_bindgen_futures::spawn_local(async move {
                // A dump of this id read before is replaced.
                forget(dump).await;
                let job = OpenJob {
                    dump,
                    op,
                    modules,
                    slow_progress_ms,
                    memory_cap,
                    cancel: &cancel,
                    t0: now(),
                    walkers: loader.map(|loader| (walkers, loader)),
                };
                open_file_or_kept(job, file, kept).await;
            })
        }
        Request::Analyse {
            dump,
            op,
            slow_progress_ms,
        } => running(dump, op, || analyse(dump, op, slow_progress_ms, &cancel)),
        Request::Detail { dump, op, type_id } => running(dump, op, || {
            let mut progress = |_: EnginePhase, _: u64, _: u64| cancel.check();
            let d = SESSION.with(|s| {
                s.borrow_mut()
                    .get_mut(dump)
                    .map(|o| o.detail(type_id, &mut progress))
            });
            match d {
                Some(Ok(Some(detail))) => post(&Response::Detail {
                    dump,
                    op,
                    type_id,
                    detail: Box::new(detail),
                }),
                Some(Err(Cancelled)) => fail(Some(dump), Some(op), EngineError::cancelled()),
                _ => fail(
                    Some(dump),
                    Some(op),
                    EngineError::new(
                        ErrorKind::NotFound,
                        format!("the dump has no type {}", type_id.0),
                    ),
                ),
            }
        }),
        Request::Diff {
            op,
            base,
            current,
            retained,
        } => match match &retained {
            Some(r) => crate::model::diff_retained((&base, &r.0), (&current, &r.1)),
            None => crate::model::diff(&base, &current),
        } {
            Ok(diff) => post(&Response::Diff {
                op,
                diff: Box::new(diff),
            }),
            Err(e) => fail(None, Some(op), e),
        },
        Request::Groups { dump, op, by } => running(dump, op, || {
            let g = SESSION.with(|s| s.borrow_mut().get_mut(dump).map(|o| o.groups(by)));
            match g {
                Some(groups) => post(&Response::Groups {
                    dump,
                    op,
                    groups: Box::new(groups),
                }),
                None => fail(
                    Some(dump),
                    Some(op),
                    EngineError::new(ErrorKind::NotFound, "the dump is not open in this worker"),
                ),
            }
        }),
        Request::Fold { dump, op, folds } => running(dump, op, || {
            let doc = SESSION.with(|s| s.borrow_mut().get_mut(dump).map(|o| o.fold(&folds)));
            match doc {
                Some(Some(Ok(stats))) => post(&Response::Folded {
                    dump,
                    op,
                    folds,
                    stats: Box::new(stats),
                }),
                Some(Some(Err(e))) => fail(Some(dump), Some(op), e),
                Some(None) => fail(
                    Some(dump),
                    Some(op),
                    EngineError::new(ErrorKind::NotFound, "the dump is not analysed yet"),
                ),
                None => fail(
                    Some(dump),
                    Some(op),
                    EngineError::new(ErrorKind::NotFound, "the dump is not open in this worker"),
                ),
            }
        }),
        Request::DiffGroups { op, base, current } => post(&Response::DiffGroups {
            op,
            groups: Box::new(crate::model::diff_groups(&base, &current)),
        }),
        Request::DiffFlame {
            op,
            base,
            current,
            base_format,
            current_format,
        } => match crate::model::diff_flame(&base, &current, &base_format, &current_format) {
            Ok(flame) => post(&Response::DiffFlame {
                op,
                flame: Box::new(flame),
            }),
            Err(e) => fail(None, Some(op), e),
        },
        Request::Contents {
            dump,
            op,
            query,
            baseline,
        } => running(dump, op, || {
            contents(dump, op, query, baseline.as_deref(), &cancel)
        }),
        Request::Walk {
            run,
            memory_cap,
            slow_progress_ms,
        } => walk(run, memory_cap, slow_progress_ms, &data),
        Request::Close { dump } => wasm_bindgen_futures::spawn_local(forget(dump)),
        Request::BenchRead { chunk } => {
            let Ok(f) = field(&data, "file").dyn_into::<File>() else {
                return;
            };
            let t0 = now();
            match bench_read(&f, chunk as u64) {
                Ok(bytes) => post(&Response::BenchRead {
                    bytes,
                    ms: now() - t0,
                }),
                Err(message) => fail(None, None, EngineError::new(ErrorKind::ReadFailed, message)),
            }
        }
        Request::BenchCompute => {
            let Ok(f) = field(&data, "file").dyn_into::<File>() else {
                return;
            };
            match bench_compute(&f) {
                Ok(r) => post(&r),
                Err(error) => fail(None, None, error),
            }
        }
    }
}

/// Opens `job`'s dump from `kept`, an archive's kept unpacked copy, when
/// there is one (the archive is not read), else from `file` (one of them
/// came with the request). The archive is unpacked again only when the
/// copy cannot be opened (gone, or in use elsewhere).
async fn open_file_or_kept(
    job: OpenJob<'_>,
    file: Option<File>,
    kept: Option<crate::protocol::KeptCopy>,
) {
    let (dump, op) = (job.dump, job.op);
    let not_kept = match kept {
        Some(kept) => match crate::scratch::open_kept(&kept).await {
            Ok(region) => return running(dump, op, || open_kept(job, &kept, region)),
            Err(why) => Some((kept, why)),
        },
        None => None,
    };
    match (file, not_kept) {
        (Some(f), _) => {
            let mut scratch = archive_scratch(&f).await;
            open_archive_or_dump(job, f, &mut scratch).await;
        }
        (None, Some((kept, why))) => fail(
            Some(dump),
            Some(op),
            EngineError::new(
                ErrorKind::ReadFailed,
                format!(
                    "the unpacked copy of {} kept in {} could not be opened: {why}; open the \
                     archive itself again",
                    kept.archive,
                    crate::scratch::LOCATION
                ),
            ),
        ),
        // Refused before it came here (no file came with the request).
        (None, None) => {}
    }
}

/// [`Request::BenchCompute`]: `f` read whole into memory, then opened
/// through the same page cache and read-ahead as [`Request::Open`] and
/// analysed as [`Request::Retained`]; only these two are timed.
fn bench_compute(f: &File) -> Result<Response, EngineError> {
    let bytes = crate::blob::read_whole(f)
        .map_err(|message| EngineError::new(ErrorKind::ReadFailed, message))?;
    let cache = PageCache::with_capacity(ReadAhead::new(&bytes, READ_AHEAD), PAGE_SIZE, PAGES);
    let modules = ModuleSet::new();
    let mut session = Session::default();
    let t0 = now();
    let opened = session.open(
        DumpId(0),
        &cache,
        &modules,
        &f.name(),
        &mut |_, _, _| Ok(()),
    )?;
    let open_ms = now() - t0;
    let t1 = now();
    opened.analyse(&mut |_, _, _| Ok(()))?;
    Ok(Response::BenchCompute {
        nodes: opened.snapshot.graph.node_count() as u64,
        open_ms,
        analyse_ms: now() - t1,
    })
}

/// Opens `f` as `dump` (unpacking it into `scratch` when it is an
/// archive) and keeps the unpacked copy while the dump is open.
async fn open_archive_or_dump(
    job: OpenJob<'_>,
    f: File,
    scratch: &mut Option<Result<crate::scratch::OpfsScratch, heaplens_archive::NoScratch>>,
) {
    let (dump, op) = (job.dump, job.op);
    // A dump read straight from the file may be walked by walker workers.
    let walkers = match (&scratch, &job.walkers) {
        (None, Some((forced, loader))) => {
            let cores = Some(scope().navigator().hardware_concurrency());
            Some((crate::walkers::walker_count(cores, *forced), loader.clone()))
        }
        _ => None,
    };
    if let Some((n, loader)) = walkers.filter(|(n, _)| *n > 1) {
        return open_walked(job, f, n, loader).await;
    }
    let opened = running(dump, op, || {
        open_dump(job, f, scratch.as_mut(), None, Stage::Whole) == Outcome::Opened
    });
    match scratch.take() {
        // The unpacked dump stays for its contents (a stored zip entry,
        // read in place, left none).
        Some(Ok(s)) if opened && s.bytes_used() > 0 => {
            SCRATCH.with(|m| m.borrow_mut().insert(dump, s));
        }
        Some(Ok(s)) => s.delete().await,
        _ => {}
    }
}

/// Opens `dump` from `region`, the kept unpacked copy `kept` of an archive:
/// the archive is not read. The copy stays when the dump is closed (it is
/// kept); the region's handle goes with the dump.
fn open_kept(
    job: OpenJob<'_>,
    kept: &crate::protocol::KeptCopy,
    region: crate::scratch::OpfsRegion,
) {
    let input = OpenInput {
        reader: region,
        read_ahead: false,
        name: &kept.archive,
        scratch: None,
        unpacked: None,
    };
    open_from(job, input, None, Stage::Whole, |region, o| {
        o.report.unpacked_copy = Some(crate::protocol::UnpackedCopy {
            reused: true,
            ..kept.copy.clone()
        });
        Some(Box::new(region))
    });
}

/// Runs `f` as operation `op` of `dump` (for a panic's report).
fn running<T>(dump: DumpId, op: OpId, f: impl FnOnce() -> T) -> T {
    RUNNING.with(|r| r.set((Some(dump), Some(op))));
    let t = f();
    RUNNING.with(|r| r.set((None, None)));
    t
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

/// The scratch space for opening `file` when its first bytes are an
/// archive's (`None` for a dump read as it is; a [`NoScratch`] with the
/// reason when the browser gives none).
///
/// [`NoScratch`]: heaplens_archive::NoScratch
async fn archive_scratch(
    file: &File,
) -> Option<Result<crate::scratch::OpfsScratch, heaplens_archive::NoScratch>> {
    let head = BlobReader::new(file.clone().into())
        .ok()
        .and_then(|r| {
            let mut head = vec![0u8; heaplens_bytes::ReadAt::len(&r).min(64) as usize];
            heaplens_bytes::ReadAt::read_at(&r, 0, &mut head).ok()?;
            Some(head)
        })
        .unwrap_or_default();
    crate::scratch::for_input(&file.name(), &head).await
}

/// What an archive's unpacking has written into the scratch file (shared:
/// the engine writes while the reporter reads) and the room there was.
struct Unpacked {
    written: Rc<Cell<u64>>,
    room: Option<u64>,
    /// When unpacking began and last reported (its time, for the overview
    /// and the benchmark).
    span: Cell<Option<(f64, f64)>>,
}

/// Progress reports of one operation: throttled to one every
/// [`PROGRESS_EVERY_MS`], the engine's phase typed, the cancel flag read
/// at every report.
struct Reporter<'a> {
    dump: DumpId,
    op: OpId,
    t0: f64,
    last: f64,
    slow_ms: u32,
    cancel: &'a CancelFlag,
    file: Option<&'a dyn Position>,
    unpacked: Option<&'a Unpacked>,
    /// Which read: after walker workers walked the heap, the phases up to
    /// the walk (read again) are reported as the walk done.
    stage: Stage,
}

/// Where a read of the dump's source stands, for the progress.
trait Position {
    /// Where the last read ended.
    fn position(&self) -> u64;
    /// Bytes read in all.
    fn bytes_read(&self) -> u64;
    /// Its size.
    fn size(&self) -> u64;
}

impl Position for BlobReader {
    fn position(&self) -> u64 {
        BlobReader::position(self)
    }
    fn bytes_read(&self) -> u64 {
        BlobReader::bytes_read(self)
    }
    fn size(&self) -> u64 {
        heaplens_bytes::ReadAt::len(self)
    }
}

impl Position for crate::scratch::OpfsRegion {
    fn position(&self) -> u64 {
        self.read_to()
    }
    fn bytes_read(&self) -> u64 {
        self.read_to()
    }
    fn size(&self) -> u64 {
        heaplens_bytes::ReadAt::len(self)
    }
}

impl Reporter<'_> {
    fn report(&self, phase: Phase, done: u64, total: u64) -> ProgressReport {
        let (position, bytes_read, file_size) = match self.file {
            Some(r) => (r.position(), r.bytes_read(), r.size()),
            None => (0, 0, 0),
        };
        let (phase, done, total, position) = match self.stage {
            Stage::Join { heap_bytes, .. }
                if matches!(
                    phase,
                    Phase::Starting | Phase::FindingHeap | Phase::ReadingHeap
                ) =>
            {
                (Phase::ReadingHeap, heap_bytes, heap_bytes, file_size)
            }
            Stage::Join { .. } => (phase, done, total, file_size),
            _ => (phase, done, total, position),
        };
        let bytes_read = bytes_read + self.stage.bytes_read();
        ProgressReport {
            phase,
            done,
            total,
            position,
            bytes_read,
            file_size,
            elapsed_ms: now() - self.t0,
            memory: wasm_memory(),
            scratch: self
                .unpacked
                .filter(|_| phase == Phase::Unpacking)
                .map(|u| ScratchReport {
                    written: u.written.get(),
                    free: u.room,
                }),
            walkers: self.stage.walkers(),
        }
    }

    fn post(&self, phase: Phase, done: u64, total: u64) {
        post(&Response::Progress {
            dump: self.dump,
            op: self.op,
            progress: self.report(phase, done, total),
        });
    }

    fn update(&mut self, phase: EnginePhase, done: u64, total: u64) -> Result<(), Cancelled> {
        if self.slow_ms > 0 {
            let until = now() + self.slow_ms as f64;
            while now() < until {}
        }
        self.cancel.check()?;
        let t = now();
        if let (Some(u), EnginePhase::Unpacking) = (self.unpacked, phase) {
            u.span
                .set(Some(u.span.get().map_or((self.t0, t), |(a, _)| (a, t))));
        }
        if t - self.last >= PROGRESS_EVERY_MS || self.slow_ms > 0 {
            self.last = t;
            self.post(phase.into(), done, total);
        }
        Ok(())
    }
}

/// Opens a posted `File` as `dump`: the one path from a dropped file to a
/// snapshot in this worker (an archive's reader unwraps here). Whether it
/// opened.
fn open_dump(
    job: OpenJob<'_>,
    file: File,
    scratch: Option<&mut Result<crate::scratch::OpfsScratch, heaplens_archive::NoScratch>>,
    walkers: Option<&mut dyn heaplens_clr::Walkers>,
    stage: Stage,
) -> Outcome {
    let name = file.name();
    let unpacked = scratch
        .as_ref()
        .and_then(|s| s.as_ref().ok())
        .map(|s| Unpacked {
            written: s.used_cell(),
            room: s.room_at_start(),
            span: Cell::new(None),
        });
    let scratch_file = scratch
        .as_ref()
        .and_then(|s| s.as_ref().ok())
        .map(|s| s.name().to_owned());
    let (scratch, kept): (Option<&mut dyn heaplens_archive::Scratch>, _) = match scratch {
        Some(Ok(s)) => {
            // Its regions, read again for contents (a handle, no bytes).
            let kept = s.regions();
            (Some(s), Some(kept))
        }
        Some(Err(none)) => (Some(none), None),
        None => (None, None),
    };
    let reader = match BlobReader::new(file.into()) {
        Ok(r) => r,
        Err(message) => {
            fail(
                Some(job.dump),
                Some(job.op),
                EngineError::new(ErrorKind::ReadFailed, message),
            );
            return Outcome::Failed;
        }
    };
    let input = OpenInput {
        reader,
        read_ahead: true,
        name: &name,
        scratch,
        unpacked: unpacked.as_ref(),
    };
    open_from(job, input, walkers, stage, |reader, o| {
        o.report.bytes_read = reader.bytes_read() + stage.bytes_read();
        o.report.walkers = stage.walkers();
        (o.report.plan_ms, o.report.walk_ms) = stage.times();
        o.report.read_ms = reader.read_ms();
        // The file itself, or the archive's unpacked copy.
        let (bytes, in_scratch) =
            dump_bytes(reader, kept.as_ref(), &o.snapshot.info.archives).unzip();
        o.report.unpacked_copy =
            scratch_file
                .zip(in_scratch.flatten())
                .map(|(file, (start, len))| crate::protocol::UnpackedCopy {
                    file,
                    start,
                    len,
                    bytes: unpacked.as_ref().map_or(0, |u| u.written.get()),
                    reused: false,
                });
        bytes
    })
}

/// One open's operation: its ids, the dropped module files and how it
/// reports (the request's slow-progress setting and cancel flag).
#[derive(Clone)]
struct OpenJob<'a> {
    dump: DumpId,
    op: OpId,
    modules: Vec<File>,
    slow_progress_ms: u32,
    /// Test knob: [`Request::Open`]'s `memory_cap`.
    memory_cap: Option<u64>,
    cancel: &'a CancelFlag,
    /// When the request came.
    t0: f64,
    /// [`Request::Open`]'s `walkers` (the test knob) and `loader` (none:
    /// the engine worker walks the heap itself).
    walkers: Option<(Option<u32>, String)>,
}

/// Which read of a dump an open is (see [`crate::walkers`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Stage {
    /// The only one: the engine worker walks the heap itself.
    Whole,
    /// The read up to the plan of the walk, for `walkers` walkers.
    Plan,
    /// The read after `walkers` walker workers walked the heap's
    /// `heap_bytes`, reading `bytes_read` of the file with the plan's read.
    Join {
        walkers: u32,
        heap_bytes: u64,
        bytes_read: u64,
        /// Milliseconds of the plan's read and of the walkers' walk.
        plan_ms: f64,
        walk_ms: f64,
    },
}

impl Stage {
    /// Bytes of the file read before this read.
    fn bytes_read(self) -> u64 {
        match self {
            Stage::Join { bytes_read, .. } => bytes_read,
            _ => 0,
        }
    }

    /// Milliseconds of the plan's read and of the walkers' walk.
    fn times(self) -> (f64, f64) {
        match self {
            Stage::Join {
                plan_ms, walk_ms, ..
            } => (plan_ms, walk_ms),
            _ => (0.0, 0.0),
        }
    }

    /// Walker workers that walked the heap.
    fn walkers(self) -> u32 {
        match self {
            Stage::Join { walkers, .. } => walkers,
            _ => 0,
        }
    }
}

/// How an open ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Opened (posted).
    Opened,
    /// Failed, or read without its graph (posted).
    Failed,
    /// [`Stage::Plan`]: the plan of the walk was taken (nothing posted);
    /// the file's bytes read so far.
    PlanTaken { bytes_read: u64 },
}

/// What a dump is opened from: the dropped file, or a kept copy's region.
struct OpenInput<'a, R> {
    /// What the engine reads (through a page cache), as the progress
    /// reports on it.
    reader: R,
    /// Whether sequential reads go through a [`READ_AHEAD`] buffer (the
    /// File API's).
    read_ahead: bool,
    /// The name the dump goes by.
    name: &'a str,
    /// Where an archive is unpacked (a [`heaplens_archive::NoScratch`]
    /// when the browser gives none; none for a dump read as it is).
    scratch: Option<&'a mut dyn heaplens_archive::Scratch>,
    /// What unpacking has written, for the progress and the report.
    unpacked: Option<&'a Unpacked>,
}

/// The steps every open of a dump shares: the module files, the progress,
/// the engine's open and its measurements, the dump's bytes kept for
/// object contents, the answer posted. Once the open's page cache is
/// gone, `finish` fills in what only this input knows of the read report
/// and gives the dump's bytes for object contents (a handle, no bytes;
/// none: the contents views say the page has none for the dump). Whether
/// it opened.
fn open_from<R: heaplens_bytes::ReadAt + Position + 'static>(
    job: OpenJob<'_>,
    input: OpenInput<'_, R>,
    walkers: Option<&mut dyn heaplens_clr::Walkers>,
    stage: Stage,
    finish: impl FnOnce(R, &mut crate::model::Opened) -> Option<Box<dyn heaplens_bytes::ReadAt>>,
) -> Outcome {
    let OpenJob {
        dump,
        op,
        modules,
        slow_progress_ms,
        memory_cap,
        cancel,
        t0,
        walkers: _,
    } = job;
    let OpenInput {
        reader,
        read_ahead,
        name,
        scratch,
        unpacked,
    } = input;
    // Borrowed only for the open (a trait object's lifetime shortened,
    // which needs a coercion).
    let scratch = scratch.map(|s| s as &mut dyn heaplens_archive::Scratch);
    let walkers = walkers.map(|w| w as &mut dyn heaplens_clr::Walkers);
    let module_files = modules.len() as u32;
    let modules = match module_set(modules) {
        Ok(m) => m,
        Err(message) => {
            fail(
                Some(dump),
                Some(op),
                EngineError::new(ErrorKind::ReadFailed, message),
            );
            return Outcome::Failed;
        }
    };
    let ahead;
    let bytes: &dyn heaplens_bytes::ReadAt = if read_ahead {
        ahead = ReadAhead::new(&reader, READ_AHEAD);
        &ahead
    } else {
        &reader
    };
    let cache = PageCache::with_capacity(bytes, PAGE_SIZE, PAGES);
    let mut reporter = Reporter {
        dump,
        op,
        t0,
        last: now(),
        slow_ms: slow_progress_ms,
        cancel,
        file: Some(&reader),
        unpacked,
        stage,
    };
    reporter.post(Phase::Starting, 0, 0);
    let mut progress =
        |phase: EnginePhase, done: u64, total: u64| reporter.update(phase, done, total);
    if let Some(cap) = memory_cap {
        // Beyond what the worker uses now.
        let budget = MemoryBudget::capped(memory_in_use().saturating_add(cap), memory_in_use);
        SESSION.with(|s| s.borrow_mut().set_budget(budget));
    }
    let opened = SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let o = s.open_with_scratch(
            dump,
            &cache,
            &modules,
            scratch,
            name,
            &mut progress,
            walkers,
        )?;
        o.report.unpack_ms = unpacked
            .and_then(|u| u.span.get())
            .map_or(0.0, |(a, b)| b - a);
        o.report.unpacked_bytes = unpacked.map_or(0, |u| u.written.get());
        o.report.open_ms = now() - t0;
        o.report.wasm_memory = wasm_memory();
        o.report.module_files = module_files;
        Ok::<_, EngineError>(())
    });
    // The only walker a plan's read has is the plan taker, which stops
    // the read once it has the plan: then the read's walker error says so.
    if let (Stage::Plan, Err(e)) = (stage, &opened) {
        if e.code.as_deref() == Some(crate::walkers::PLAN_TAKEN_CODE) {
            return Outcome::PlanTaken {
                bytes_read: reader.bytes_read(),
            };
        }
    }
    // A graph that does not fit: the type statistics of every object,
    // read without it by the same open (from the bytes it read: an
    // archive is not unpacked again).
    if let Err(refused) = &opened {
        if crate::model::is_over_budget(refused) {
            if let Some(counts) = SESSION.with(|s| s.borrow_mut().take_counts()) {
                let read = ReadReport {
                    format_name: heaplens_snapshot::format::by_name(&counts.header.format)
                        .map_or_else(|| counts.header.format.clone(), |f| f.title.to_owned()),
                    open_ms: now() - t0,
                    bytes_read: reader.bytes_read(),
                    unpack_ms: unpacked
                        .and_then(|u| u.span.get())
                        .map_or(0.0, |(a, b)| b - a),
                    unpacked_bytes: unpacked.map_or(0, |u| u.written.get()),
                    wasm_memory: wasm_memory(),
                    module_files,
                    ..ReadReport::default()
                };
                post(&Response::Counted {
                    dump,
                    op,
                    counts: Box::new(counts),
                    read,
                });
                return Outcome::Failed;
            }
        }
    }
    // The names are in the snapshot; the module files are not read again.
    drop(modules);
    drop(cache);
    let result = opened.and_then(|()| {
        SESSION.with(|s| {
            let mut s = s.borrow_mut();
            let o = s.get_mut(dump).ok_or_else(|| {
                EngineError::new(ErrorKind::NotFound, "the dump is not open in this worker")
            })?;
            o.source = finish(reader, o).map(|bytes| {
                Box::new(PageCache::with_capacity(
                    bytes,
                    CONTENTS_PAGE_SIZE,
                    CONTENTS_PAGES,
                )) as Box<dyn heaplens_bytes::ReadAt>
            });
            Ok((o.document.clone(), o.report.clone()))
        })
    });
    match result {
        Ok((stats, read)) => {
            post(&Response::Opened {
                dump,
                op,
                stats: Box::new(stats),
                read,
            });
            Outcome::Opened
        }
        Err(error) => {
            fail(Some(dump), Some(op), error);
            Outcome::Failed
        }
    }
}

/// Where bytes are in the scratch file: their start and length.
type ScratchSpan = (u64, u64);

/// The dump's own bytes after an open that unwrapped `archives` (outermost
/// first) from `file`, and where they are in the scratch file (none when
/// not in it: a stored zip entry read in place from the file): each
/// archive unpacked into scratch space is the next region of the scratch
/// file; a stored zip entry is read in place from what held it. `None`
/// when they cannot be found (the contents views then say the page has no
/// contents for the dump).
fn dump_bytes(
    file: BlobReader,
    scratch: Option<&crate::scratch::Regions>,
    archives: &[heaplens_snapshot::ArchiveLayer],
) -> Option<(Box<dyn heaplens_bytes::ReadAt>, Option<ScratchSpan>)> {
    use heaplens_archive::zip::{Method, ZipReader};
    let mut bytes: Box<dyn heaplens_bytes::ReadAt> = Box::new(file);
    let mut in_scratch: Option<ScratchSpan> = None;
    let mut unpacked = 0;
    for layer in archives {
        bytes = if layer.unpacked_to.is_some() {
            let scratch = scratch?;
            let region = scratch.region(unpacked)?;
            in_scratch = Some(scratch.span(unpacked)?);
            unpacked += 1;
            Box::new(region)
        } else {
            let name = layer.entry.as_deref()?;
            let (start, len) = {
                let mut zip = ZipReader::open(&*bytes).ok()?;
                let i = zip
                    .entries()
                    .iter()
                    .position(|e| e.name == name && e.method == Method::Stored)?;
                zip.stored_range(i).ok()?
            };
            // A stored entry of an archive that was itself unpacked.
            in_scratch = in_scratch.map(|(base, _)| (base + start, len));
            Box::new(heaplens_bytes::SubRange::new(bytes, start, len).ok()?)
        };
    }
    Some((bytes, in_scratch))
}

/// Root paths and retained sizes of an open dump.
fn analyse(dump: DumpId, op: OpId, slow_progress_ms: u32, cancel: &CancelFlag) {
    let t0 = now();
    let mut reporter = Reporter {
        dump,
        op,
        t0,
        last: t0,
        slow_ms: slow_progress_ms,
        cancel,
        file: None,
        unpacked: None,
        stage: Stage::Whole,
    };
    let mut last = None;
    let mut progress = |phase: EnginePhase, done: u64, total: u64| {
        last = Some((phase, total));
        reporter.update(phase, done, total)
    };
    let result = SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let o = s.get_mut(dump)?;
        Some(
            o.analyse(&mut progress)
                .map(|()| o.retained.clone().zip(o.answers.clone())),
        )
    });
    // The last phase done, with the worker's memory after the whole
    // analysis (wasm memory only grows: its peak).
    if let (Some(Ok(Some(_))), Some((phase, total))) = (&result, last) {
        reporter.post(phase.into(), total, total);
    }
    match result {
        Some(Ok(Some((retained, answers)))) => post(&Response::Retained {
            dump,
            op,
            retained: Box::new(retained),
            answers: Box::new(answers),
            ms: now() - t0,
        }),
        Some(Err(e)) => fail(Some(dump), Some(op), e),
        _ => fail(
            Some(dump),
            Some(op),
            EngineError::new(ErrorKind::NotFound, "the dump is not open in this worker"),
        ),
    }
}

/// Object contents of an open dump: the inspector, a type's instances,
/// duplicate strings, wasted collections.
fn contents(
    dump: DumpId,
    op: OpId,
    query: ContentsQuery,
    baseline: Option<&Baseline>,
    cancel: &CancelFlag,
) {
    let t0 = now();
    let mut reporter = Reporter {
        dump,
        op,
        t0,
        last: t0,
        slow_ms: 0,
        cancel,
        file: None,
        unpacked: None,
        stage: Stage::Whole,
    };
    let mut progress =
        |phase: EnginePhase, done: u64, total: u64| reporter.update(phase, done, total);
    let result = SESSION.with(|s| {
        let mut s = s.borrow_mut();
        let o = s.get_mut(dump)?;
        Some(o.contents_against(&query, baseline, &mut progress))
    });
    match result {
        Some(Ok(doc)) => post(&Response::Contents {
            dump,
            op,
            query,
            doc: Box::new(doc),
        }),
        Some(Err(e)) => fail(Some(dump), Some(op), e),
        None => fail(
            Some(dump),
            Some(op),
            EngineError::new(ErrorKind::NotFound, "the dump is not open in this worker"),
        ),
    }
}

/// A JavaScript exception as text (re-exported for the page).
pub fn error_text(e: &JsValue) -> String {
    js_error(e)
}

/// Opens `file` as `job`'s dump with `n` walker workers started from
/// `loader` (see [`crate::walkers`]): the read up to the plan of the walk,
/// the runs walked by the walkers, the read again joining their results.
/// A dump the engine reads without a walk (a `.gcdump`) opens whole in
/// the first read.
async fn open_walked(job: OpenJob<'_>, file: File, n: usize, loader: String) {
    let (dump, op) = (job.dump, job.op);
    let mut taker = crate::walkers::PlanTaker {
        count: n,
        ..Default::default()
    };
    let planned = running(dump, op, || {
        open_dump(
            job.clone(),
            file.clone(),
            None,
            Some(&mut taker),
            Stage::Plan,
        )
    });
    let Outcome::PlanTaken { bytes_read } = planned else {
        return;
    };
    let planned_at = now();
    let Some(plan) = taker.plan.take() else {
        return fail(
            Some(dump),
            Some(op),
            EngineError::new(ErrorKind::EngineBug, "the walk's plan was not taken"),
        );
    };
    let walk = WalkJob {
        dump,
        op,
        t0: job.t0,
        heap_bytes: taker.heap_bytes,
        file_size: file.size() as u64,
        bytes_read,
        memory_cap: job.memory_cap,
        slow_progress_ms: job.slow_progress_ms,
        cancel: job.cancel.clone(),
    };
    let results = match walk_runs(&file, &plan, taker.runs, &loader, walk).await {
        Ok(r) => r,
        Err(e) => return fail(Some(dump), Some(op), e),
    };
    let walked = results.iter().map(|r| r.1).sum::<u64>() + bytes_read;
    let walk_ms = now() - planned_at;
    let mut joiner = crate::walkers::Joiner {
        count: n,
        plan,
        results: results.into_iter().map(|r| JsBytes(r.0)).collect(),
    };
    let stage = Stage::Join {
        walkers: taker.runs as u32,
        heap_bytes: taker.heap_bytes,
        bytes_read: walked,
        plan_ms: planned_at - job.t0,
        walk_ms,
    };
    running(dump, op, || {
        open_dump(job, file, None, Some(&mut joiner), stage);
    });
}

/// A walker's result, a `Uint8Array` over the `ArrayBuffer` it posted:
/// the join copies it into the engine's memory a slice at a time.
struct JsBytes(js_sys::Uint8Array);

impl crate::walkers::ResultBytes for JsBytes {
    fn len(&self) -> u64 {
        self.0.length() as u64
    }
    fn copy_to(&self, at: u64, buf: &mut [u8]) {
        self.0
            .subarray(at as u32, (at + buf.len() as u64) as u32)
            .copy_to(buf);
    }
}

/// What the walker workers' progress is reported as: the open's
/// [`Phase::ReadingHeap`], their bytes walked summed.
#[derive(Clone)]
struct WalkJob {
    dump: DumpId,
    op: OpId,
    t0: f64,
    heap_bytes: u64,
    file_size: u64,
    /// The file's bytes read by the plan's read.
    bytes_read: u64,
    memory_cap: Option<u64>,
    slow_progress_ms: u32,
    cancel: CancelFlag,
}

/// The walker workers of one walk, stopped when it is dropped (done,
/// failed or cancelled).
struct WalkerPool {
    workers: Vec<web_sys::Worker>,
    _handlers: Vec<WalkerHandlers>,
}

/// A walker worker's message and error handlers.
type WalkerHandlers = (
    Closure<dyn FnMut(MessageEvent)>,
    Closure<dyn FnMut(web_sys::ErrorEvent)>,
);

impl Drop for WalkerPool {
    fn drop(&mut self) {
        for w in &self.workers {
            w.set_onmessage(None);
            w.set_onerror(None);
            w.terminate();
        }
    }
}

/// Where the walker workers of one walk stand.
struct Walking {
    job: WalkJob,
    /// Per run: bytes walked, bytes of the file read.
    done: Vec<(u64, u64)>,
    /// Per run: its result and the bytes of the file its walker read.
    results: Vec<Option<(js_sys::Uint8Array, u64)>>,
    error: Option<EngineError>,
    /// Settles the walk's promise.
    resolve: Option<js_sys::Function>,
    last_post: f64,
}

impl Walking {
    fn settle(&mut self) {
        if let Some(r) = self.resolve.take() {
            let _ = r.call0(&JsValue::UNDEFINED);
        }
    }

    fn stop(&mut self, e: EngineError) {
        if self.error.is_none() {
            self.error = Some(e);
        }
        self.settle();
    }

    /// Posts the walk's progress (at most every [`PROGRESS_EVERY_MS`]);
    /// stops it when the open is cancelled.
    fn progress(&mut self) {
        if self.job.cancel.check().is_err() {
            return self.stop(EngineError::cancelled());
        }
        let t = now();
        if t - self.last_post < PROGRESS_EVERY_MS {
            return;
        }
        self.last_post = t;
        let done: u64 = self.done.iter().map(|d| d.0).sum();
        let read: u64 = self.done.iter().map(|d| d.1).sum::<u64>() + self.job.bytes_read;
        post(&Response::Progress {
            dump: self.job.dump,
            op: self.job.op,
            progress: ProgressReport {
                phase: Phase::ReadingHeap,
                done: done.min(self.job.heap_bytes),
                total: self.job.heap_bytes,
                position: read.min(self.job.file_size),
                bytes_read: read,
                file_size: self.job.file_size,
                elapsed_ms: t - self.job.t0,
                memory: wasm_memory(),
                scratch: None,
                walkers: self.done.len() as u32,
            },
        });
    }

    /// A walker worker's message.
    fn message(&mut self, run: usize, worker: &web_sys::Worker, data: JsValue, plan: &[u8]) {
        match serde_wasm_bindgen::from_value::<Response>(data.clone()) {
            Ok(Response::Hello(hello)) => {
                if let Err(e) = hello.check() {
                    return self.stop(e);
                }
                let envelope = js_sys::Object::new();
                let request = Request::Walk {
                    run: run as u32,
                    memory_cap: self.job.memory_cap,
                    slow_progress_ms: self.job.slow_progress_ms,
                };
                let ser = serde_wasm_bindgen::Serializer::json_compatible();
                let set = |k: &str, v: &JsValue| {
                    let _ = js_sys::Reflect::set(&envelope, &k.into(), v);
                };
                set("request", &request.serialize(&ser).unwrap_or_default());
                set("file", &field(&data, "__file"));
                set("plan", &js_sys::Uint8Array::from(plan));
                if let Err(e) = worker.post_message(&envelope) {
                    self.stop(EngineError::new(
                        ErrorKind::WorkerFailed,
                        format!(
                            "a heap walker could not be given its work: {}",
                            js_error(&e)
                        ),
                    ));
                }
            }
            Ok(Response::WalkProgress {
                done, bytes_read, ..
            }) => {
                self.done[run] = (done, bytes_read);
                self.progress();
            }
            Ok(Response::Walked {
                len, bytes_read, ..
            }) => {
                let result = field(&data, "result")
                    .dyn_into::<js_sys::ArrayBuffer>()
                    .map(|b| js_sys::Uint8Array::new(&b))
                    .ok()
                    .filter(|a| a.length() as u64 == len);
                let Some(result) = result else {
                    return self.stop(EngineError::new(
                        ErrorKind::Protocol,
                        format!("heap walker {run} sent no result of its {len} bytes"),
                    ));
                };
                worker.terminate();
                self.done[run] = (self.job.heap_bytes, bytes_read);
                self.results[run] = Some((result, bytes_read));
                if self.results.iter().all(Option::is_some) {
                    self.settle();
                } else {
                    self.progress();
                }
            }
            Ok(Response::Failed { error, .. }) => self.stop(error),
            Ok(_) => self.stop(EngineError::new(
                ErrorKind::Protocol,
                format!("heap walker {run} sent a message it has no reason to send"),
            )),
            Err(e) => self.stop(EngineError::new(
                ErrorKind::Protocol,
                format!("heap walker {run} sent a message the engine does not understand: {e}"),
            )),
        }
    }
}

/// Walks the `runs` runs of `plan` over `file` with as many walker
/// workers started from `loader`; their results (and the file's bytes each
/// read), in run order. A walker's failure keeps its kind; a cancelled
/// open (the flag, when the page shares memory; else the page stops this
/// worker, and its walkers with it) stops them all.
async fn walk_runs(
    file: &File,
    plan: &[u8],
    runs: usize,
    loader: &str,
    job: WalkJob,
) -> Result<Vec<(js_sys::Uint8Array, u64)>, EngineError> {
    let state = Rc::new(RefCell::new(Walking {
        job,
        done: vec![(0, 0); runs],
        results: vec![None; runs],
        error: None,
        resolve: None,
        last_post: 0.0,
    }));
    let settled = {
        let state = state.clone();
        js_sys::Promise::new(&mut move |resolve, _| state.borrow_mut().resolve = Some(resolve))
    };
    let plan: Rc<[u8]> = plan.into();
    let mut pool = WalkerPool {
        workers: Vec::new(),
        _handlers: Vec::new(),
    };
    for run in 0..runs {
        let opts = web_sys::WorkerOptions::new();
        opts.set_name("heaplens-walker");
        let worker = web_sys::Worker::new_with_options(loader, &opts).map_err(|e| {
            EngineError::new(
                ErrorKind::WorkerFailed,
                format!("a heap walker could not be started: {}", js_error(&e)),
            )
        })?;
        let onmessage = {
            let (state, plan, worker, file) =
                (state.clone(), plan.clone(), worker.clone(), file.clone());
            Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let data = ev.data();
                // The file goes with the walk request (a handle, not bytes).
                let _ = js_sys::Reflect::set(&data, &"__file".into(), &file);
                state.borrow_mut().message(run, &worker, data, &plan);
            })
        };
        let onerror = {
            let state = state.clone();
            Closure::<dyn FnMut(web_sys::ErrorEvent)>::new(move |ev: web_sys::ErrorEvent| {
                ev.prevent_default();
                state.borrow_mut().stop(EngineError::new(
                    ErrorKind::WorkerFailed,
                    format!("heap walker {run} stopped: {}", ev.message()),
                ));
            })
        };
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        pool.workers.push(worker);
        pool._handlers.push((onmessage, onerror));
    }
    let _ = wasm_bindgen_futures::JsFuture::from(settled).await;
    drop(pool);
    let mut s = state.borrow_mut();
    if let Some(e) = s.error.take() {
        return Err(e);
    }
    s.results
        .iter_mut()
        .map(|r| {
            r.take().ok_or_else(|| {
                EngineError::new(ErrorKind::EngineBug, "a heap walker's result is missing")
            })
        })
        .collect()
}

/// A walker worker's [`Request::Walk`]: its run walked over the posted
/// `File`, the result posted as a transferred `ArrayBuffer`.
fn walk(run: u32, memory_cap: Option<u64>, slow_progress_ms: u32, data: &JsValue) {
    let failed = |error: EngineError| fail(None, None, error);
    let Ok(file) = field(data, "file").dyn_into::<File>() else {
        return failed(EngineError::new(
            ErrorKind::Protocol,
            "no file came with the walk",
        ));
    };
    let Ok(plan) = field(data, "plan").dyn_into::<js_sys::Uint8Array>() else {
        return failed(EngineError::new(
            ErrorKind::Protocol,
            "no plan came with the walk",
        ));
    };
    let plan = plan.to_vec();
    let reader = match BlobReader::new(file.into()) {
        Ok(r) => r,
        Err(message) => return failed(EngineError::new(ErrorKind::ReadFailed, message)),
    };
    let budget = match memory_cap {
        Some(cap) => MemoryBudget::capped(memory_in_use().saturating_add(cap), memory_in_use),
        None => MemoryBudget::capped(MEMORY_CAP, memory_in_use),
    };
    let walked = {
        let ahead = ReadAhead::new(&reader, READ_AHEAD);
        let cache = PageCache::with_capacity(&ahead, PAGE_SIZE, PAGES);
        let mut last = now();
        heaplens_snapshot::walk_run(&cache, &plan, run as usize, budget.limit(), &mut |done| {
            if slow_progress_ms > 0 {
                let until = now() + slow_progress_ms as f64;
                while now() < until {}
            }
            let t = now();
            if t - last >= PROGRESS_EVERY_MS || slow_progress_ms > 0 {
                last = t;
                post(&Response::WalkProgress {
                    run,
                    done,
                    bytes_read: reader.bytes_read(),
                });
            }
            true
        })
    };
    let bytes = match walked {
        Ok(b) => b,
        Err(e) => return failed(crate::model::open_error(&e)),
    };
    let result = js_sys::Uint8Array::new_with_length(bytes.len() as u32);
    result.copy_from(&bytes);
    drop(bytes);
    let answer = Response::Walked {
        run,
        len: result.length() as u64,
        bytes_read: reader.bytes_read(),
    };
    let ser = serde_wasm_bindgen::Serializer::json_compatible();
    let Ok(message) = answer.serialize(&ser) else {
        return;
    };
    let buffer = result.buffer();
    let _ = js_sys::Reflect::set(&message, &"result".into(), &buffer);
    let _ = scope().post_message_with_transfer(&message, &js_sys::Array::of1(&buffer));
}
