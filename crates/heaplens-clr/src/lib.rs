//! Reads the CLR's GC heap straight out of a dumped process's memory,
//! without Microsoft's DAC.
//!
//! The data flows one way:
//!
//! 1. [`runtime`]: find the runtime module (`libcoreclr.so`, `coreclr.dll`,
//!    or a single-file host exporting the runtime's symbols) and its version;
//! 2. [`dacvars`]: find the GC's `GcDacVars` by shape (through `g_dacTable`
//!    when exported, else by scanning the runtime's memory); or, for .NET
//!    Framework 4.x, which has none, [`discover`]: find the segment heap
//!    itself by shape (docs/clr-heap-walk.md §2.6);
//! 3. [`heap`]: the heaps, generations and segments or regions;
//! 4. [`walk`]: every object of every segment, with its size as SOS
//!    computes it, and its references from the GCDesc ([`methodtable`]);
//! 5. [`names`]: type names from the ECMA-335 metadata of the loaded images;
//! 6. [`roots`]: GC handles, the finalization queue, thread stacks;
//!    [`statics`]: static fields, named, on the objects they hold;
//! 7. the result: one [`heaplens_graph::HeapGraph`], the same as every
//!    other input format gives.
//!
//! The reader decides by shape checks and calibration, not by a table of
//! build numbers, so that an unseen patch release still works. See
//! `docs/clr-heap-walk.md` in the reference corpus for the structures.

mod background;
pub mod contents;
pub mod dacvars;
pub mod discover;
mod error;
pub mod heap;
pub mod methodtable;
mod missing_heap;
pub mod names;
pub mod roots;
pub mod runtime;
pub mod statics;
mod target;
pub mod walk;
pub mod width;
pub mod writable;

pub use error::ClrError;
pub use heaplens_metadata;
pub use names::{ModuleFiles, SuppliedModule};
pub use target::{NoSymbols, SymbolSource, Target, TargetModule, TargetThread};
pub use width::PointerSize;

use heaplens_graph::{GraphBuilder, HeapGraph, Phase, Progress, RootKind, TypeInfo, TypeKind};

/// How the GC runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GcMode {
    /// Workstation GC: one heap.
    Workstation,
    /// Server GC: one heap per core (or as many as DATAS decides).
    Server,
}

impl GcMode {
    /// A short stable name (`workstation`, `server`), used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            GcMode::Workstation => "workstation",
            GcMode::Server => "server",
        }
    }
}

/// How the GC lays out its heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeapLayout {
    /// Segments (.NET Core 3.1–6, and 7+ with `libclrgc`).
    Segments,
    /// Regions (.NET 7+ default on 64-bit).
    Regions,
}

impl HeapLayout {
    /// A short stable name (`segments`, `regions`), used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            HeapLayout::Segments => "segments",
            HeapLayout::Regions => "regions",
        }
    }
}

/// The GC and its heap: how it runs, its segments or regions and how much
/// of them the dump holds. The one record of these facts: a heap read
/// ([`ClrInfo::gc`]), the snapshot's metadata and `heaplens info` all use
/// it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GcFacts {
    /// Workstation or server GC.
    pub mode: GcMode,
    /// Segments or regions.
    pub layout: HeapLayout,
    /// Number of GC heaps.
    pub heap_count: usize,
    /// The segments or regions, by address.
    pub segments: Vec<heap::Segment>,
    /// Bytes the segments or regions span (their objects).
    pub heap_bytes: u64,
    /// Bytes of them the dump holds (less than `heap_bytes` for a partial
    /// dump; the walk of a segment stops where its bytes end).
    pub heap_bytes_captured: u64,
    /// True when the heap was found by shape (no `GcDacVars`: .NET
    /// Framework, or [`Discovery::Heuristic`]), not from the runtime's own
    /// bookkeeping.
    pub found_by_shape: bool,
}

impl GcFacts {
    /// How the GC runs, in words: `workstation GC, regions, 1 heap`.
    pub fn summary(&self) -> String {
        let heaps = match self.heap_count {
            1 => "1 heap".to_owned(),
            n => format!("{n} heaps"),
        };
        format!(
            "{} GC, {}, {heaps}{}",
            self.mode.as_str(),
            self.layout.as_str(),
            if self.found_by_shape {
                " (found by shape: no GcDacVars)"
            } else {
                ""
            }
        )
    }

    /// The share of the heap's bytes the dump holds, in percent (100 for
    /// an empty heap).
    pub fn coverage_percent(&self) -> f64 {
        if self.heap_bytes == 0 {
            100.0
        } else {
            self.heap_bytes_captured as f64 * 100.0 / self.heap_bytes as f64
        }
    }
}

/// What the reader learned about the runtime and how well it could read
/// the heap.
#[derive(Debug, Clone)]
pub struct ClrInfo {
    /// The runtime module's path.
    pub runtime_path: String,
    /// The runtime's version string (`8.0.424.16909 @Commit: …`), if found.
    pub version: Option<String>,
    /// The GC, its segments or regions and how much of them the dump
    /// holds.
    pub gc: GcFacts,
    /// Where `GcDacVars` is and its version (`major.minor`); `None` when
    /// the heap was found without it ([`ClrInfo::heuristic`]).
    pub gc_dac_vars: Option<(u64, String)>,
    /// How the heap was found by shape, when it was ([`discover`]: .NET
    /// Framework 4.x, or [`Discovery::Heuristic`]); `None` when
    /// `GcDacVars` gave it.
    pub heuristic: Option<discover::Report>,
    /// Places where a segment's walk had to stop early.
    pub problems: Vec<walk::WalkProblem>,
    /// Bytes after those places that the dump holds but the walk could not
    /// go through (damaged data; bytes the dump lacks are not counted
    /// here but in `heap_bytes - heap_bytes_captured`).
    pub heap_bytes_unwalked: u64,
    /// References to addresses that are not object starts (ignored).
    pub invalid_references: u64,
    /// Handle-table and finalizer-queue entries pointing at no object.
    pub dangling_roots: u64,
    /// Per segment of [`GcFacts::segments`]: the bytes of its objects
    /// range the dump holds (less than its size for a partial dump).
    pub segments_captured: Vec<u64>,
    /// Objects registered for finalization (not roots) and ready for
    /// finalization (f-reachable roots), as SOS `!finalizequeue` counts
    /// them.
    pub finalization: FinalizationCounts,
    /// The heaps' finalization queues (`CFinalize` records) and the GC's
    /// generation count, which sizes their fill pointers
    /// ([`roots::finalizer_queue`]).
    pub finalize_queues: (Vec<u64>, u64),
    /// How far the conservative scan of each thread's stack went.
    pub stacks: roots::StackScan,
    /// Handle-table segments read.
    pub handle_segments: usize,
    /// Handle tables or segments and finalization queues the dump does not
    /// hold whole: roots there are not seen.
    pub root_tables_unreadable: u64,
    /// How type names were found.
    pub names: names::NamingReport,
    /// How static fields were named as roots.
    pub statics: statics::StaticsReport,
}

impl ClrInfo {
    /// The product version (`8.0.4`) of the runtime, when its version
    /// follows the .NET 5+ scheme; see [`product_version_of`].
    pub fn product_version(&self) -> Option<String> {
        product_version_of(self.version.as_deref()?)
    }
}

/// The product version (`8.0.4`) of a runtime version string
/// (`8.0.424.16909 @Commit: …`), when it follows the .NET 5+ scheme
/// (major.minor of the product, then patch × 100 + build); `None`
/// otherwise (.NET Core 3.1's files say `4.700.…`).
pub fn product_version_of(version: &str) -> Option<String> {
    let file = version.split_whitespace().next()?;
    let mut parts = file.split('.').map(|p| p.parse::<u32>().ok());
    let (major, minor, build) = (parts.next()??, parts.next()??, parts.next()??);
    (major >= 5).then(|| format!("{major}.{minor}.{}", build / 100))
}

/// The finalization queues' entries, as SOS `!finalizequeue` counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FinalizationCounts {
    /// Objects registered for finalization: their type has a finalizer and
    /// the GC has not found them dead yet. Not roots.
    pub registered: u64,
    /// Objects ready for finalization (f-reachable): found dead and queued
    /// for the finalizer thread. Roots (kind `finalizer`).
    pub ready: u64,
    /// Queues whose bookkeeping could not be read.
    pub unreadable_queues: u64,
}

/// The heap read from a dump.
#[derive(Debug)]
pub struct ClrHeap {
    /// The heap graph: every object (Free included), its references and
    /// the roots.
    pub graph: HeapGraph,
    /// What was learned on the way.
    pub info: ClrInfo,
    /// What reading the objects' contents later needs (no dump bytes):
    /// [`contents::ClrContents::reader`] over the same dump's memory.
    pub contents: contents::ClrContents,
}

/// How [`read_with`] finds the GC heap.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Discovery {
    /// Through the GC's `GcDacVars` (.NET Core 3.1, .NET 5 and later); by
    /// shape ([`discover`]) for .NET Framework 4.x (`clr.dll`), which keeps
    /// none.
    #[default]
    Auto,
    /// By shape ([`discover`]) whatever the runtime: segment heaps only.
    /// Run on a CoreCLR dump, it must find what `GcDacVars` gives — how
    /// the .NET Framework path is verified.
    Heuristic,
}

/// Options of [`read_with`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadOptions {
    /// How the heap is found.
    pub discovery: Discovery,
    /// Do everything on the calling thread. By default a native build
    /// resolves references on a second thread while it reads the roots
    /// and names the types, and, when the target's memory can be shared
    /// ([`Target::shared_memory`]), walks the heap and scans the writable
    /// memory on [`ReadOptions::threads`] threads; the result is the same
    /// either way.
    pub single_thread: bool,
    /// The memory the read may use (a WebAssembly worker's cap; `None`:
    /// natively, no cap). A heap that does not fit — known before the
    /// walk, projected from what was walked, or an allocation refused —
    /// is [`ClrError::OverBudget`], with numbers.
    pub memory: Option<heaplens_graph::MemoryLimit>,
    /// How many threads walk the heap and scan the writable memory when
    /// not [`ReadOptions::single_thread`]: `None`, one per core
    /// (`available_parallelism`, at most [`MAX_THREADS`]); a number is
    /// taken as it is, even above the cores (tests use 3 and 5 on two).
    pub threads: Option<std::num::NonZeroUsize>,
    /// Heap bytes each thread but the first walks into one piece, joined
    /// into the first thread's arrays and freed one by one (`None`: 128
    /// MiB), so that the join holds one piece twice, not a thread's whole
    /// run. Tests make it small to join many pieces.
    pub walk_piece: Option<std::num::NonZeroU64>,
}

pub use background::{default_threads, MAX_THREADS};

impl ReadOptions {
    /// How many threads walk the heap: 1 with
    /// [`ReadOptions::single_thread`], else [`ReadOptions::threads`] or
    /// [`default_threads`].
    pub fn walk_threads(&self) -> usize {
        if self.single_thread {
            1
        } else {
            self.threads.map_or_else(default_threads, |n| n.get())
        }
    }
}

/// Where the heap's segments and roots were found.
enum Source {
    /// The GC's own `GcDacVars` and its heaps.
    DacVars(dacvars::GcDacVars, Vec<heap::GcHeap>),
    /// A heuristic scan.
    Heuristic(Box<discover::Found>),
}

/// What [`read_with`] does while the references are resolved.
struct Beside {
    heuristic: Option<discover::Report>,
    queues: (Vec<u64>, u64),
    fq: roots::Finalization,
    stack_roots: Vec<roots::FoundRoot>,
    stack_scan: roots::StackScan,
    type_names: Vec<names::TypeName>,
    hierarchy: (heaplens_graph::TypeHierarchy, usize),
    naming: names::NamingReport,
    static_roots: Vec<statics::StaticRoot>,
    statics: statics::StaticsReport,
    contents: contents::ClrContents,
}

/// Finds the GC's `GcDacVars`, its heaps and their segments.
fn from_gc_dac_vars(
    target: &Target<'_>,
    runtime: &runtime::RuntimeModule,
) -> Result<(Source, Vec<heap::Segment>, Vec<heap::SkippedRecord>), ClrError> {
    let mem = target.memory;
    let check = |v: &dacvars::GcDacVars| heap::confirms_heap(mem, v);
    let vars = match dacvars::locate(target, runtime, &check) {
        Ok(v) => v,
        // A dump without the heap's memory: say so, not "no GcDacVars".
        Err(e @ ClrError::NoGcInfo { .. }) => {
            return Err(match missing_heap::missing_heap(target, runtime) {
                Some(total) => ClrError::NoHeapMemory {
                    missing: total,
                    total,
                },
                None => e,
            })
        }
        Err(e) => return Err(e),
    };
    if vars.invalid_count != 0 {
        return Err(ClrError::GcInProgress(vars.invalid_count));
    }
    let heaps = heap::GcHeap::all(mem, &vars)?;
    let (segments, skipped) = heap::segments_and_skipped(mem, &vars, &heaps)?;
    Ok((Source::DacVars(vars, heaps), segments, skipped))
}

/// Where the heap is: the runtime, the segments and what the dump holds
/// of them ([`find_heap`]).
struct HeapPlace {
    runtime: runtime::RuntimeModule,
    source: Source,
    segments: Vec<heap::Segment>,
    skipped: Vec<heap::SkippedRecord>,
    layout: HeapLayout,
    gc_range: Option<(u64, u64)>,
    total: u64,
    captured_of: Vec<u64>,
    captured: u64,
}

/// Finds the runtime, the GC heap and its segments, and what the dump
/// holds of them; a dump holding none of the heap's bytes is
/// [`ClrError::NoHeapMemory`].
fn find_heap(
    target: &Target<'_>,
    progress: &mut dyn Progress,
    options: ReadOptions,
) -> Result<HeapPlace, ClrError> {
    let mem = target.memory;
    let runtime = runtime::find_runtime(target).ok_or(ClrError::NoRuntime)?;
    runtime::confirm_pointer_size(mem, &runtime)?;
    // .NET Framework 4.x keeps no GcDacVars: its heap is found by shape
    // (docs/clr-heap-walk.md §2.6).
    let framework = runtime.module.file_name().eq_ignore_ascii_case("clr.dll");
    let (source, segments, skipped) = if framework || options.discovery == Discovery::Heuristic {
        let found = discover::find(target, &runtime, &mut || {
            progress.update(Phase::FindingHeap, 0, 0).is_ok()
        })?;
        let segments = found.segments.clone();
        (Source::Heuristic(Box::new(found)), segments, Vec::new())
    } else {
        from_gc_dac_vars(target, &runtime)?
    };
    let layout = match &source {
        Source::DacVars(vars, heaps) if heap::uses_regions(mem, vars, heaps)? => {
            HeapLayout::Regions
        }
        _ => HeapLayout::Segments,
    };
    // With regions the GC reserves one range for all of them: what lies
    // between its regions is the GC's too (free regions).
    let gc_range = (layout == HeapLayout::Regions)
        .then(|| {
            let gc = || {
                segments
                    .iter()
                    .filter(|s| s.kind != heap::SegmentKind::Frozen)
            };
            Some((gc().map(|s| s.start).min()?, gc().map(|s| s.end).max()?))
        })
        .flatten();
    let total: u64 = segments.iter().map(|s| s.end - s.start).sum();
    // A core without the heap (`--normal`, `--triage`) maps the heap's
    // ranges but holds none of their bytes.
    let captured_of: Vec<u64> = segments
        .iter()
        .map(|s| {
            heaplens_memory::data_runs(mem, s.start, s.end)
                .map(|(a, b)| b - a)
                .sum()
        })
        .collect();
    let captured: u64 = captured_of.iter().sum();
    if total > 0 && captured == 0 {
        return Err(ClrError::NoHeapMemory {
            missing: total,
            total,
        });
    }
    Ok(HeapPlace {
        runtime,
        source,
        segments,
        skipped,
        layout,
        gc_range,
        total,
        captured_of,
        captured,
    })
}

/// The walk's `problems` with the records on the segment chains that
/// cannot be walked (`skipped`) said, not dropped; when every segment the
/// dump holds (`captured_of` > 0) stopped at type data it lacks, nothing
/// the walk found can be stood behind: [`ClrError::NoTypeData`].
fn walk_problems(
    mut problems: Vec<walk::WalkProblem>,
    skipped: &[heap::SkippedRecord],
    segments: &[heap::Segment],
    captured_of: &[u64],
) -> Result<Vec<walk::WalkProblem>, ClrError> {
    problems.extend(skipped.iter().map(|r| walk::WalkProblem {
        segment: r.record,
        addr: r.mem,
        why: r.why(),
        bytes_skipped: 0,
        type_data_missing: false,
    }));
    let stopped: std::collections::HashSet<u64> = problems
        .iter()
        .filter(|p| p.type_data_missing)
        .map(|p| p.segment)
        .collect();
    let held: Vec<&heap::Segment> = segments
        .iter()
        .zip(captured_of)
        .filter(|(_, &c)| c > 0)
        .map(|(s, _)| s)
        .collect();
    if !held.is_empty() && held.iter().all(|s| stopped.contains(&s.record)) {
        return Err(ClrError::NoTypeData {
            segments: held.len(),
        });
    }
    Ok(problems)
}

/// The GC's facts from where its heap was found (`source`): how it runs,
/// its heaps, its `segments` laid out as `layout`, the bytes they span and
/// hold (`bytes`); and where its `GcDacVars` are (`None`: found by shape).
fn gc_facts(
    source: &Source,
    layout: HeapLayout,
    segments: Vec<heap::Segment>,
    bytes: (u64, u64),
    found_by_shape: bool,
) -> (GcFacts, Option<(u64, String)>) {
    let (server, heap_count, gc_dac_vars) = match source {
        Source::DacVars(vars, heaps) => (
            vars.server,
            heaps.len(),
            Some((vars.address, format!("{}.{}", vars.major, vars.minor))),
        ),
        Source::Heuristic(found) => (found.server, found.heap_count, None),
    };
    let gc = GcFacts {
        mode: if server {
            GcMode::Server
        } else {
            GcMode::Workstation
        },
        layout,
        heap_count,
        segments,
        heap_bytes: bytes.0,
        heap_bytes_captured: bytes.1,
        found_by_shape,
    };
    (gc, gc_dac_vars)
}

/// Bytes after the walk's stops (`problems`) that the dump holds but the
/// walk could not go through.
fn unwalked_bytes(mem: &dyn heaplens_memory::AddressSpace, problems: &[walk::WalkProblem]) -> u64 {
    problems
        .iter()
        .flat_map(|p| heaplens_memory::data_runs(mem, p.addr, p.addr + p.bytes_skipped))
        .map(|(a, b)| b - a)
        .sum()
}

/// Reads the CLR heap of `target`.
pub fn read(target: &Target<'_>, progress: &mut dyn Progress) -> Result<ClrHeap, ClrError> {
    read_with(target, progress, ReadOptions::default())
}

/// Reads the CLR heap of `target` as `options` say.
pub fn read_with(
    target: &Target<'_>,
    progress: &mut dyn Progress,
    options: ReadOptions,
) -> Result<ClrHeap, ClrError> {
    read_walked_by(target, progress, options, None)
}

/// Walkers of the heap that share no memory with the read (the page's Web
/// Workers): given the plan of the walk ([`walk::runs::WalkPlan`]), they
/// walk its runs ([`walk::runs::walk_run`]) and join what they found
/// ([`walk::runs::Join`]), which is what one walk would have found.
pub trait Walkers {
    /// How many walkers there are (below 2: the read walks the heap itself).
    fn count(&self) -> usize;

    /// Walks `plan` (of `mem`'s heap) and joins the runs' results, their
    /// MethodTables numbered into `mts`, within `limit`; calls
    /// `progress(bytes_done)` with the bytes walked by all the walkers (a
    /// `false` from it stops them: [`walk::WalkStop::Cancelled`]).
    fn walk(
        &mut self,
        mem: &dyn heaplens_memory::AddressSpace,
        plan: &walk::runs::WalkPlan,
        mts: &mut walk::MethodTables,
        limit: Option<heaplens_graph::MemoryLimit>,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<walk::Walked, walk::WalkStop>;
}

/// [`read_with`], the heap walked by `walkers` when there are two or more
/// of them; the result is the same.
pub fn read_walked_by(
    target: &Target<'_>,
    progress: &mut dyn Progress,
    options: ReadOptions,
    walkers: Option<&mut dyn Walkers>,
) -> Result<ClrHeap, ClrError> {
    let mem = target.memory;
    let HeapPlace {
        runtime,
        source,
        segments,
        skipped,
        layout,
        gc_range,
        total,
        captured_of,
        captured,
    } = find_heap(target, progress, options)?;

    // One pass over the writable memory: the allocation contexts for the
    // walk, the heap pointers for the statics.
    progress.update(Phase::ReadingHeap, 0, total)?;
    let threads = options.walk_threads();
    let writable = match target.shared_memory {
        Some(shared) if threads > 1 => {
            writable::scan_parallel(shared, &segments, gc_range, threads)
        }
        _ => writable::scan(mem, &segments, gc_range),
    };
    let contexts = &writable.contexts;
    let mut mts = walk::MethodTables::default();
    let mut report = |done| progress.update(Phase::ReadingHeap, done, total).is_ok();
    let memory = options.memory;
    let walked = match (walkers, target.shared_memory) {
        (Some(walkers), _) if walkers.count() > 1 => {
            let plan = walk::runs::WalkPlan::new(mem, &segments, contexts, true, walkers.count());
            walkers.walk(mem, &plan, &mut mts, memory, &mut report)
        }
        (_, Some(shared)) if threads > 1 => walk::walk_parallel(
            shared,
            &segments,
            contexts,
            &mut mts,
            true,
            (threads, options.walk_piece),
            memory,
            &mut report,
        ),
        _ => walk::walk(
            mem,
            &segments,
            contexts,
            &mut mts,
            true,
            memory,
            &mut report,
        ),
    };
    let walk::Walked {
        objects,
        problems,
        raw,
    } = walked.map_err(|stop| match stop {
        walk::WalkStop::Cancelled => ClrError::Cancelled,
        walk::WalkStop::OverBudget(over) => ClrError::OverBudget(over),
        walk::WalkStop::Walker(why) => ClrError::Walker(why),
    })?;
    let problems = walk_problems(problems, &skipped, &segments, &captured_of)?;
    let tables = match &source {
        Source::DacVars(vars, heaps) => {
            let slots = if vars.server { heaps.len() } else { 1 };
            roots::handle_tables(mem, vars, slots)
        }
        Source::Heuristic(found) => found.handle_tables.clone(),
    };
    let handles = roots::handles_in(mem, &tables, &objects);
    // Dependent handles add edges primary → secondary.
    let mut extra: Vec<(u32, u32)> = handles
        .dependents
        .iter()
        .map(|d| (d.primary, d.secondary))
        .collect();
    extra.sort_unstable();
    let n = objects.len() as u64;
    // Progress of the references, from either thread's work; once it says
    // stop, it is not asked again.
    let progress = std::cell::RefCell::new(progress);
    let refused = std::cell::Cell::new(false);
    let report = |done: u64| {
        let go_on = !refused.get()
            && progress
                .borrow_mut()
                .update(Phase::FollowingReferences, done, n)
                .is_ok();
        refused.set(!go_on);
        go_on
    };
    // The roots, the types' names, the statics and the graph's columns:
    // what is done while the references are resolved (`latest`: how many
    // objects' references are resolved), asking between its steps whether
    // to go on.
    let beside = |latest: &dyn Fn() -> u64| -> Result<_, ClrError> {
        let check = || {
            if report(latest()) {
                Ok(())
            } else {
                Err(ClrError::Cancelled)
            }
        };
        let (queues, generation_count, heuristic) = match &source {
            Source::DacVars(vars, heaps) => (
                roots::finalize_queues(heaps),
                vars.total_generation_count,
                None,
            ),
            Source::Heuristic(found) => {
                let (queues, status) = discover::finalize_queues(mem, found, &objects, &mts);
                let mut report = found.report.clone();
                report.finalization = status;
                (queues, found.generation_count, Some(report))
            }
        };
        let fq = roots::finalizer_queue(mem, &queues, generation_count, &objects);
        let not_stack =
            roots::NotStack::new(mem, &segments, gc_range, &handles.segments, &mts.addresses);
        let (mut stack_roots, mut stack_scan) =
            roots::stacks(mem, &target.threads, &segments, &not_stack, &objects);
        roots::drop_weakly_held(&mut stack_roots, &handles, &mut stack_scan);
        check()?;
        let (type_names, mut naming, mut modules) =
            names::name_types_and_modules(target, &runtime, &mts);
        check()?;
        let hierarchy = modules.hierarchy(&mts);
        let heap = statics::Heap {
            mem,
            objects: &objects,
            mts: &mts,
            segments: &segments,
            gc_range,
            heap_pointers: writable.heap_pointers.as_ref(),
        };
        let (static_roots, statics) = statics::find(heap, &mut modules, &handles.roots);
        check()?;
        naming.notes.extend(statics.note());
        let contents = contents::prepare(mem, &mts, modules.into_index(), statics.bases);
        Ok(Beside {
            heuristic,
            queues: (queues, generation_count),
            fq,
            stack_roots,
            stack_scan,
            type_names,
            hierarchy,
            naming,
            static_roots,
            statics,
            contents,
        })
    };
    let mut report = report;
    // References the walk read need no more of the dump: they are resolved
    // on a second thread while this one does the rest.
    let (refs, rest) = match raw {
        Some(raw) if raw.covers(&objects) && !options.single_thread => {
            let (objects, extra) = (&objects, &extra);
            let (refs, rest) = background::run_beside(
                |p| walk::resolve_references(objects, raw, extra, p),
                |latest| beside(latest),
                &mut report,
            );
            (refs.flatten(), rest)
        }
        raw => {
            let refs = walk::references(mem, &segments, &objects, &mts, raw, &extra, &mut report);
            // The roots, names and statics only when not cancelled.
            let rest = match refs {
                Some(_) => beside(&|| n),
                None => Err(ClrError::Cancelled),
            };
            (refs, rest)
        }
    };
    let (starts, targets, invalid_references) = refs.ok_or(ClrError::Cancelled)?;
    let Beside {
        mut heuristic,
        queues,
        fq,
        stack_roots,
        stack_scan,
        type_names,
        hierarchy: (hierarchy, hierarchy_known),
        naming,
        static_roots,
        statics,
        contents,
    } = rest?;

    // The graph: one type per MethodTable.
    let mut b = GraphBuilder::new();
    for (i, &mt) in mts.addresses.iter().enumerate() {
        let info = &mts.tables[i];
        let name = &type_names[i];
        let module = name.module.as_deref().map(|m| b.module(m));
        b.add_type(TypeInfo {
            name: name.name.clone(),
            module,
            kind: if info.is_free {
                TypeKind::Free
            } else {
                TypeKind::Object
            },
            method_table: mt,
        });
    }
    // Base types and interfaces, where the metadata gave some.
    if hierarchy_known > 0 {
        b.set_hierarchy(hierarchy);
    }
    // Frozen (NonGC heap) objects are never collected.
    let frozen: Vec<roots::FoundRoot> = segments
        .iter()
        .filter(|s| s.kind == heap::SegmentKind::Frozen)
        .flat_map(|s| objects.in_range(s.start, s.end))
        .map(|i| roots::FoundRoot {
            object: i as u32,
            kind: RootKind::Frozen,
            location: 0,
            thread: None,
            place: roots::Place::Immortal,
        })
        .collect();
    // The objects' columns become the graph's nodes, without a copy.
    b.add_node_columns(objects.into_columns(), starts, targets)?;
    let free_type = |t: u32| mts.tables.get(t as usize).is_some_and(|t| t.is_free);
    for r in handles
        .roots
        .iter()
        .chain(&fq.roots)
        .chain(&stack_roots)
        .chain(&frozen)
    {
        if free_type(b.partial().node_type(r.object)) {
            continue;
        }
        let name = match (r.kind, r.thread) {
            // Found by a conservative scan: a stale word can look like a
            // reference; the name says so.
            (RootKind::Stack, Some(t)) => Some(match r.place {
                roots::Place::Register => format!("thread {t}, a register (conservative)"),
                roots::Place::ThreadLocal => {
                    format!("thread {t}, thread-local storage (conservative)")
                }
                _ => format!("thread {t} (conservative)"),
            }),
            _ => None,
        };
        b.add_root(r.object, r.kind, name.as_deref());
    }
    for r in &static_roots {
        b.add_root(r.object, RootKind::Static, Some(&r.name));
    }
    let graph = b.finish()?;
    if let Some(report) = heuristic.as_mut() {
        report.free_method_table = mts.free_address();
    }
    let gc = gc_facts(
        &source,
        layout,
        segments,
        (total, captured),
        heuristic.is_some(),
    );
    let info = ClrInfo {
        invalid_references,
        dangling_roots: handles.dangling + fq.dangling,
        finalization: FinalizationCounts {
            registered: fq.registered,
            ready: fq.ready,
            unreadable_queues: fq.unreadable,
        },
        finalize_queues: queues,
        stacks: stack_scan,
        handle_segments: handles.segments.len(),
        root_tables_unreadable: handles.unreadable + fq.unreadable,
        statics,
        ..walked_info(mem, &runtime, gc, heuristic, problems, captured_of, naming)
    };
    Ok(ClrHeap {
        graph,
        info,
        contents,
    })
}

/// One type of a heap counted without its graph ([`count_with`]): all its
/// objects the walk went through, reachable or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeCount {
    /// Its name (as the full read names it).
    pub name: String,
    /// The module defining it, when known.
    pub module: Option<String>,
    /// Its MethodTable.
    pub method_table: u64,
    /// True for the GC's free blocks (`Free`).
    pub is_free: bool,
    /// Objects walked.
    pub objects: u64,
    /// Their bytes (SOS's sizes).
    pub bytes: u64,
}

/// A heap counted type by type without its graph ([`count_with`]).
#[derive(Debug, Clone)]
pub struct ClrCounts {
    /// Every MethodTable with objects, in the order the walk met them
    /// (Free included, as [`TypeCount::is_free`]).
    pub types: Vec<TypeCount>,
    /// What was learned on the way: the runtime, the GC and what the dump
    /// holds of its heap, where the walk stopped. Roots, references,
    /// statics and finalization are not read: those fields are empty.
    pub info: ClrInfo,
}

/// Counts the objects of the CLR heap of `target` per type, without its
/// graph: the same walk as [`read_with`] (the same objects, sizes and
/// stops), but adding each object to its type's count and bytes instead
/// of keeping it, and reading no reference and no root. Its memory is
/// one entry per type whatever the number of objects (and what finding
/// the heap and naming the types take), so it fits where the graph does
/// not ([`ClrError::OverBudget`]); `options.memory` is not needed.
///
/// It counts **every** object on the heap, those no root reaches
/// (garbage not yet collected) too, as `dotnet-dump dumpheap -stat`
/// does: not the reachable objects the full read's statistics count.
pub fn count_with(
    target: &Target<'_>,
    progress: &mut dyn Progress,
    options: ReadOptions,
) -> Result<ClrCounts, ClrError> {
    let mem = target.memory;
    let HeapPlace {
        runtime,
        source,
        segments,
        skipped,
        layout,
        gc_range,
        total,
        captured_of,
        captured,
    } = find_heap(target, progress, options)?;
    progress.update(Phase::ReadingHeap, 0, total)?;
    let contexts = writable::contexts(mem, &segments, gc_range);
    let mut mts = walk::MethodTables::default();
    let mut report = |done| progress.update(Phase::ReadingHeap, done, total).is_ok();
    let tallied = walk::tally(mem, &segments, &contexts, &mut mts, &mut report).map_err(
        |stop| match stop {
            walk::WalkStop::Cancelled => ClrError::Cancelled,
            walk::WalkStop::OverBudget(over) => ClrError::OverBudget(over),
            walk::WalkStop::Walker(why) => ClrError::Walker(why),
        },
    )?;
    drop(contexts);
    let problems = walk_problems(tallied.problems, &skipped, &segments, &captured_of)?;
    let (type_names, names, _) = names::name_types_and_modules(target, &runtime, &mts);
    let types = tallied
        .types
        .iter()
        .enumerate()
        .filter(|(_, t)| t.objects > 0)
        .map(|(i, t)| TypeCount {
            name: type_names[i].name.clone(),
            module: type_names[i].module.clone(),
            method_table: mts.addresses[i],
            is_free: mts.tables[i].is_free,
            objects: t.objects,
            bytes: t.bytes,
        })
        .collect();
    let heuristic = match &source {
        Source::DacVars(..) => None,
        Source::Heuristic(found) => {
            let mut report = found.report.clone();
            report.free_method_table = mts.free_address();
            Some(report)
        }
    };
    let gc = gc_facts(
        &source,
        layout,
        segments,
        (total, captured),
        heuristic.is_some(),
    );
    let info = walked_info(mem, &runtime, gc, heuristic, problems, captured_of, names);
    Ok(ClrCounts { types, info })
}

/// The [`ClrInfo`] of a heap found and walked, as the full read and the
/// count both know it: the runtime, the GC (`gc`: [`gc_facts`]) and what
/// the dump holds of its heap, where the walk stopped, how the types were
/// named. Roots, references, finalization and statics are left empty: the
/// full read fills them in.
fn walked_info(
    mem: &dyn heaplens_memory::AddressSpace,
    runtime: &runtime::RuntimeModule,
    (gc, gc_dac_vars): (GcFacts, Option<(u64, String)>),
    heuristic: Option<discover::Report>,
    problems: Vec<walk::WalkProblem>,
    segments_captured: Vec<u64>,
    names: names::NamingReport,
) -> ClrInfo {
    ClrInfo {
        runtime_path: runtime.module.path.clone(),
        version: runtime.version.clone(),
        gc,
        gc_dac_vars,
        heuristic,
        heap_bytes_unwalked: unwalked_bytes(mem, &problems),
        problems,
        invalid_references: 0,
        dangling_roots: 0,
        segments_captured,
        finalization: FinalizationCounts::default(),
        finalize_queues: (Vec::new(), 0),
        stacks: roots::StackScan::default(),
        handle_segments: 0,
        root_tables_unreadable: 0,
        names,
        statics: statics::StaticsReport::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_graph::NoProgress;
    use heaplens_memory::MemoryMap;

    fn target_with(module: &str, memory: &MemoryMap<Vec<u8>>) -> ClrError {
        let target = Target {
            memory,
            modules: vec![TargetModule {
                path: format!("C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\{module}"),
                start: 0x1000,
                end: 0x2000,
                header_addresses: vec![0x1000],
                ranges: Vec::new(),
                version: None,
            }],
            threads: Vec::new(),
            symbols: &NoSymbols,
            module_files: None,
            shared_memory: None,
        };
        read(&target, &mut NoProgress).unwrap_err()
    }

    #[test]
    fn runtimes_it_cannot_read_are_named() {
        // .NET Framework is found by shape: without a heap in the dump,
        // that is refused with the reason.
        let memory = MemoryMap::new(Vec::new(), 8, &[]).unwrap();
        let e = target_with("clr.dll", &memory);
        assert!(matches!(e, ClrError::HeapNotFound { .. }), "{e:?}");
        assert!(e.to_string().contains("no segment header"), "{e}");
        assert!(e.to_string().contains("clr.dll"), "{e}");
        // 32-bit processes are read too: the same refusal, with 4-byte
        // pointers.
        let memory32 = MemoryMap::new(Vec::new(), 4, &[]).unwrap();
        let e = target_with("clr.dll", &memory32);
        assert!(matches!(e, ClrError::HeapNotFound { .. }), "{e:?}");
        let e = target_with("kernel32.dll", &memory);
        assert!(matches!(e, ClrError::NoRuntime), "{e:?}");
    }
}
