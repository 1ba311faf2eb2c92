//! Finding the GC heap without `GcDacVars`: the heuristic path of
//! docs/clr-heap-walk.md §2.6 for .NET Framework 4.x (`clr.dll`), whose GC
//! hands the DAC no such table.
//!
//! Segment heaps describe themselves, so everything is found by shape in
//! the memory the dump holds and then cross-checked:
//!
//! 1. **Segment headers**: a `heap_segment` sits inline at the start of its
//!    reservation (`mem == S + 0x1000`), with `mem ≤ allocated ≤ committed
//!    ≤ reserved`, `used ≤ committed`, `reserved − S` a multiple of 64 KB,
//!    flags below `0x400`, and a valid MethodTable (or Free) as its first
//!    object. Headers chain through `next` into one chain per heap and kind
//!    (small, large, pinned objects); a chain counts only when the GC's own
//!    data (the runtime module's writable data; a server GC's `gc_heap`
//!    record) points at one of its records.
//! 2. **Server or workstation**: server builds keep each segment's
//!    `gc_heap*` at `+0x40`; several small-object chains, each with its own
//!    consistent `gc_heap*` that the large-object chains share, make a
//!    server GC, one heap per chain.
//! 3. **Frozen segments** (string literals and the like, .NET 8 and later)
//!    have their records in native memory, flag `readonly`, chained in front
//!    of a heap's small-object chain.
//! 4. **The ephemeral segment's end**: the header's `allocated` is stale for
//!    the last small-object segment; the true end (`alloc_allocated`) is a
//!    value in `(allocated, committed]` held by a GC variable (workstation:
//!    the runtime's data; server: the same offset of every `gc_heap`, whose
//!    value lies in `[allocated, committed]` of every heap) at which a walk
//!    from `mem` lands exactly, at an object's end or an allocation
//!    context's. One such value is taken; none means the header is current;
//!    several disagreeing ones leave the end at `allocated` and the bytes
//!    after it **tentative**: reported, not counted. Allocation contexts the
//!    walk reaches past `allocated` without a confirming variable are
//!    reported the same way. Two things the references say rule a value
//!    out ([`walk::Crossings`]): objects allocated since the last GC refer
//!    only to objects' starts, so a stretch past `allocated` whose objects
//!    refer into the heap before it at addresses where no object starts is
//!    what a compaction left behind; and where a variable holds
//!    `allocated` itself, no allocation context lies past it and nothing
//!    before it refers into the stretch, a variable past it may be the last
//!    collection's (a dump taken right after a GC): that end is ambiguous;
//!    so is the last of several values past `allocated` when nothing before
//!    the value below it refers into the stretch between them, and a value
//!    no allocation context ends at when no variable holds `allocated` (the
//!    GC hands out allocation contexts from its end up, and the last one
//!    stays with its thread until the next collection: every stale header
//!    in the corpus has one ending at the true end).
//! 5. **Handle tables**: 64 KB-aligned blocks shaped like a
//!    `TableSegment` whose `pHandleTable` leads back to them (§5.1, see
//!    [`crate::roots`]).
//! 6. **Finalization queues** (after the walk): a `CFinalize` record a GC
//!    variable points at, with fill pointers in order and every entry an
//!    object whose type has a finalizer (§5.3).
//!
//! Too little evidence is refused with [`ClrError::HeapNotFound`], never
//! guessed. Regions heaps (.NET 7+) keep their records elsewhere and are
//! not found this way. The path runs on any runtime with segments when
//! asked ([`crate::Discovery::Heuristic`]), which is how it is verified:
//! on CoreCLR dumps it must find what `GcDacVars` gives.

use crate::error::ClrError;
use crate::heap::{Segment, SegmentKind, SEG_LOH, SEG_POH, SEG_READONLY};
use crate::methodtable::HAS_FINALIZER;
use crate::runtime::RuntimeModule;
use crate::target::Target;
use crate::walk::{self, AddrMap, MethodTables, Objects};
use crate::width::PointerSize;
use heaplens_memory::{data_runs, AddressSpace};
use std::collections::{HashMap, HashSet};

/// Offset of the first object from the segment's reservation
/// (`segment_info_size`: one page when background GC is compiled in, as in
/// every release build).
const SEGMENT_INFO_SIZE: u64 = 0x1000;
/// Alignment of a segment's reservation (`mem & 0x1fff == 0x1000`, as
/// ClrMD tests it).
const HEADER_ALIGN: u64 = 0x2000;
/// Segments are reserved in multiples of 64 KB.
const RESERVE_ALIGN: u64 = 0x1_0000;
/// Pointer-sized fields of a `heap_segment` record read (through `heap`,
/// server builds: 0x48 bytes in a 64-bit process, 0x24 in a 32-bit one).
const RECORD_FIELDS: usize = 9;
/// The field `heap_segment::heap` (server builds).
const RECORD_HEAP: usize = 8;
/// The field `heap_segment::flags`.
const RECORD_FLAGS: usize = 5;
/// Most bytes of a record.
const RECORD_MAX: usize = 8 * RECORD_FIELDS;
/// Flags above all known ones.
const FLAGS_LIMIT: u64 = 0x400;
/// Bytes of a server GC's `gc_heap` record searched for its variables.
const GC_HEAP_SPAN: u64 = 0x1_0000;
/// Most segment headers accepted (a heap has a few hundred at most).
const MAX_HEADERS: usize = 1 << 16;
/// Most frozen segment records accepted.
const MAX_FROZEN: usize = 1 << 12;
/// How much memory is read at once by the scans.
const CHUNK: usize = 1 << 20;

/// How the segment heap was found: what a report of the heuristic path
/// says, for [`crate::ClrInfo::heuristic`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Inline segment headers that passed the shape test.
    pub headers: usize,
    /// Segment chains the GC's own data points at (one per heap and kind).
    pub chains: usize,
    /// Frozen segment records found in front of a small-object chain.
    pub frozen: usize,
    /// How each heap's ephemeral segment's end was decided.
    pub ends: Vec<EphemeralEnd>,
    /// The Free MethodTable (no parent, a component size), when the walk
    /// met it.
    pub free_method_table: Option<u64>,
    /// Handle-table segments found by shape.
    pub handle_table_segments: usize,
    /// The handle tables they belong to.
    pub handle_tables: usize,
    /// The finalization queues.
    pub finalization: Finalization,
    /// Ranges after an ephemeral segment's recorded end that may hold
    /// objects but could not be confirmed: not walked, not counted.
    pub tentative: Vec<Tentative>,
}

/// How an ephemeral segment's end was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EphemeralEnd {
    /// The segment's record.
    pub segment: u64,
    /// The header's `allocated`.
    pub allocated: u64,
    /// The end walked.
    pub end: u64,
    /// The evidence.
    pub source: EndSource,
}

/// The evidence for an ephemeral segment's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndSource {
    /// A GC variable holds it: at this address (workstation) or this
    /// offset of every `gc_heap` (server); the walk lands on it, it is past
    /// every allocation context the walk meets, and it is the last such
    /// value.
    Variable {
        /// The variable's address, or its offset in `gc_heap`.
        at: u64,
        /// True when `at` is an offset in `gc_heap`.
        server: bool,
        /// Other values variables hold past `allocated` where the walk
        /// lands too (before this one).
        others: usize,
    },
    /// A GC variable holds the header's `allocated` and none points past
    /// it, nor does an allocation context the walk meets: it is current.
    Header,
    /// No GC variable holds the header's `allocated` or points past it:
    /// the end is `allocated`, what the walk finds after it is tentative.
    Unconfirmed,
    /// GC variables point past `allocated`, but none past every allocation
    /// context the walk meets: the end is the header's `allocated`, what
    /// follows is tentative.
    Ambiguous,
}

/// What became of the finalization queues.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Finalization {
    /// Not looked for yet (before the walk).
    #[default]
    NotSearched,
    /// One queue per heap found and read.
    Found,
    /// No queue found: finalizer roots are missing.
    NotFound,
    /// Several candidates, none preferred: finalizer roots are missing.
    Ambiguous,
}

/// A range past an ephemeral segment's recorded end that may hold objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tentative {
    /// The segment's record.
    pub segment: u64,
    /// Where the confirmed objects end.
    pub start: u64,
    /// Where the unconfirmed ones would end.
    pub end: u64,
}

impl Report {
    /// The findings in words, for notes: how the heap was found and what it
    /// could not confirm.
    pub fn notes(&self) -> Vec<String> {
        let n = |k: usize, what: &str| format!("{k} {what}{}", if k == 1 { "" } else { "s" });
        let mut notes = vec![format!(
            "the GC heap was found by a heuristic scan of the dump's memory, not from the \
             runtime's GcDacVars (.NET Framework keeps none): {}, {}, {}; finalization queues {}",
            n(self.chains, "segment chain"),
            n(self.frozen, "frozen segment"),
            n(self.handle_tables, "handle table"),
            match self.finalization {
                Finalization::Found => "found",
                Finalization::NotFound => "not found (finalizer roots missing)",
                Finalization::Ambiguous => "ambiguous (finalizer roots missing)",
                Finalization::NotSearched => "not searched",
            }
        )];
        for t in &self.tentative {
            notes.push(format!(
                "{} bytes after the recorded end of the ephemeral segment at {:#x} \
                 ({:#x}..{:#x}) may hold objects allocated since the last GC, but no GC \
                 variable confirms where they end: they are not counted",
                t.end - t.start,
                t.segment,
                t.start,
                t.end
            ));
        }
        notes
    }
}

/// What the reader needs of a heap found by shape.
#[derive(Debug, Clone)]
pub struct Found {
    /// The segments, sorted by start, disjoint.
    pub segments: Vec<Segment>,
    /// Number of heaps.
    pub heap_count: usize,
    /// Server GC.
    pub server: bool,
    /// The handle tables (`HandleTable*`).
    pub handle_tables: Vec<u64>,
    /// Generations per heap: 4, or 5 with a pinned object heap.
    pub generation_count: u64,
    /// Where to look for each heap's `CFinalize*` (see
    /// [`finalize_queues`]).
    gc_data: GcData,
    /// How it went.
    pub report: Report,
}

/// Where the GC keeps its variables.
#[derive(Debug, Clone)]
enum GcData {
    /// Workstation: the runtime's (and standalone GC's) writable data.
    Workstation(Vec<(u64, u64)>),
    /// Server: each heap's `gc_heap` record, in heap order.
    Server(Vec<u64>),
}

/// One `heap_segment` record.
#[derive(Debug, Clone, Copy)]
struct Record {
    ptr: PointerSize,
    addr: u64,
    allocated: u64,
    committed: u64,
    reserved: u64,
    used: u64,
    mem: u64,
    flags: u64,
    next: u64,
    heap: u64,
}

impl Record {
    fn read(mem: &dyn AddressSpace, addr: u64) -> Option<Record> {
        let ptr = PointerSize::of(mem);
        let mut buf = [0u8; RECORD_MAX];
        let b = &mut buf[..RECORD_FIELDS * ptr.usize()];
        mem.read_virtual(addr, b).ok()?;
        Some(Record::parse(ptr, addr, b))
    }

    fn parse(ptr: PointerSize, addr: u64, b: &[u8]) -> Record {
        let f = |i: usize| ptr.read(b, ptr.usize() * i);
        Record {
            ptr,
            addr,
            allocated: f(0),
            committed: f(1),
            reserved: f(2),
            used: f(3),
            mem: f(4),
            flags: f(5),
            next: f(6),
            heap: f(RECORD_HEAP),
        }
    }

    /// `mem ≤ allocated ≤ committed ≤ reserved`, pointer-aligned, sane
    /// flags.
    fn ordered(&self) -> bool {
        self.mem != 0
            && self.ptr.aligned(self.mem)
            && self.ptr.aligned(self.allocated)
            && self.mem <= self.allocated
            && self.allocated <= self.committed
            && self.committed <= self.reserved
            && self.flags < FLAGS_LIMIT
            && self.ptr.aligned(self.next)
    }

    /// The shape of a header inline at the start of its reservation.
    fn inline_shape(&self) -> bool {
        self.ordered()
            && self.addr.checked_add(SEGMENT_INFO_SIZE) == Some(self.mem)
            && self.flags & SEG_READONLY == 0
            && self.used <= self.committed
            && (self.reserved - self.addr).is_multiple_of(RESERVE_ALIGN)
    }

    fn kind(&self) -> SegmentKind {
        if self.flags & SEG_READONLY != 0 {
            SegmentKind::Frozen
        } else if self.flags & SEG_POH != 0 {
            SegmentKind::Pinned
        } else if self.flags & SEG_LOH != 0 {
            SegmentKind::Large
        } else {
            SegmentKind::Small
        }
    }

    /// Its first object (if any) starts with a valid MethodTable.
    fn first_object_valid(&self, mem: &dyn AddressSpace, mts: &mut MethodTables) -> bool {
        self.allocated == self.mem
            || mem
                .read_pointer(self.mem)
                .is_ok_and(|w| mts.lookup(mem, w & !self.ptr.method_table_tag()).is_some())
    }
}

/// A chain of segments of one heap and kind, first record first.
#[derive(Debug, Clone)]
struct Chain {
    records: Vec<Record>,
    kind: SegmentKind,
}

/// Finds the segment heap of `target` by shape (see the module's
/// documentation). `progress(done)` is called now and then; `false` from
/// it cancels.
pub fn find(
    target: &Target<'_>,
    runtime: &RuntimeModule,
    progress: &mut dyn FnMut() -> bool,
) -> Result<Found, ClrError> {
    let mem = target.memory;
    let refuse = |why: String| ClrError::HeapNotFound {
        runtime: runtime.module.file_name().to_owned(),
        why,
    };
    let ptr = PointerSize::of(mem);
    let mut mts = MethodTables::default();
    let images = image_ranges(target);
    let mut report = Report::default();

    // 1. Inline headers, chained.
    let headers = scan_headers(mem, &images, &mut mts);
    report.headers = headers.len();
    if headers.is_empty() {
        return Err(refuse(
            "no segment header in the dump's memory (a heap of regions, as .NET 7 and later \
             use by default, or a dump without the heap)"
                .into(),
        ));
    }
    if headers.len() > MAX_HEADERS {
        return Err(refuse(format!(
            "{} segment-shaped headers, more than any heap has",
            headers.len()
        )));
    }
    let chains = chain(headers).map_err(refuse)?;
    if !progress() {
        return Err(ClrError::Cancelled);
    }

    // 2. Server or workstation, and the heaps' chains.
    let (mut soh, uoh): (Vec<Chain>, Vec<Chain>) = chains
        .into_iter()
        .partition(|c| c.kind == SegmentKind::Small);
    if soh.is_empty() {
        return Err(refuse(
            "no chain of small-object segments among the segment-shaped headers".into(),
        ));
    }
    soh.sort_by_key(|c| c.records[0].addr);
    let reservations: Vec<(u64, u64)> = soh
        .iter()
        .chain(&uoh)
        .flat_map(|c| &c.records)
        .map(|r| (r.addr, r.reserved))
        .collect();
    let inside = |p: u64| reservations.iter().any(|&(a, b)| p >= a && p < b);
    let chain_heap = |c: &Chain| -> Option<u64> {
        let h = c.records[0].heap;
        (h != 0
            && ptr.aligned(h)
            && c.records.iter().all(|r| r.heap == h)
            && !inside(h)
            && mem.read_pointer(h).is_ok())
        .then_some(h)
    };
    let gc_heaps: Option<Vec<u64>> = soh.iter().map(chain_heap).collect();
    let gc_heaps = gc_heaps.filter(|hs| {
        let distinct: HashSet<&u64> = hs.iter().collect();
        !hs.is_empty() && distinct.len() == hs.len()
    });
    // A server GC's gc_heap records point at their chains (the generation
    // table's start segments, the ephemeral segment).
    let server_data = gc_heaps.map(GcData::Server).filter(|d| {
        let words = gc_data_words(mem, d);
        soh.iter().enumerate().all(|(i, c)| {
            c.records
                .iter()
                .any(|r| words.per_heap[i].contains(&r.addr))
        })
    });
    let gc_data = match server_data {
        Some(d) => d,
        None => {
            let d = GcData::Workstation(workstation_data(target, runtime));
            // Workstation GC has one small-object chain: the one the
            // runtime's data points at (a stale chain would not be).
            let words = gc_data_words(mem, &d);
            soh.retain(|c| c.records.iter().any(|r| words.all.contains(&r.addr)));
            if soh.len() != 1 {
                return Err(refuse(format!(
                    "{} small-object segment chains that the runtime's data points at, and no \
                     server-GC heap records (gc_heap) to pair them: not a heap that can be \
                     stood behind",
                    soh.len()
                )));
            }
            d
        }
    };

    // 3. Frozen segments in front of each small-object chain.
    let heads: HashMap<u64, usize> = soh
        .iter()
        .enumerate()
        .map(|(i, c)| (c.records[0].addr, i))
        .collect();
    let frozen = frozen_records(mem, &soh, &uoh, &images, &heads, &mut mts);
    if !progress() {
        return Err(ClrError::Cancelled);
    }

    // A chain counts when the GC's own data points at one of its records.
    let words = gc_data_words(mem, &gc_data);
    let referenced = |c: &Chain, heap: Option<usize>, prefix: &[Record]| {
        c.records.iter().chain(prefix).any(|r| match heap {
            Some(i) => words.per_heap[i].contains(&r.addr),
            None => words.all.contains(&r.addr),
        })
    };
    let server = matches!(gc_data, GcData::Server(_));
    let heap_of = |c: &Chain| -> Option<usize> {
        match &gc_data {
            GcData::Server(hs) => hs.iter().position(|&h| Some(h) == chain_heap(c)),
            GcData::Workstation(_) => Some(0),
        }
    };
    let no_prefix = Vec::new();
    let mut heap_chains: Vec<Vec<(Chain, &Vec<Record>)>> = vec![Vec::new(); soh.len()];
    for (i, c) in soh.iter().enumerate() {
        let prefix = frozen.get(&i).unwrap_or(&no_prefix);
        if !referenced(c, server.then_some(i), prefix) {
            return Err(refuse(format!(
                "the small-object segment chain at {:#x} is not referenced by the GC's data \
                 (the runtime's data pages may be missing from the dump)",
                c.records[0].addr
            )));
        }
        heap_chains[i].push((c.clone(), prefix));
    }
    for c in &uoh {
        let Some(i) = heap_of(c) else { continue };
        if i >= heap_chains.len() || !referenced(c, server.then_some(i), &no_prefix) {
            continue;
        }
        if heap_chains[i].iter().any(|(o, _)| o.kind == c.kind) {
            return Err(refuse(format!(
                "two {:?} segment chains of one heap ({:#x})",
                c.kind, c.records[0].addr
            )));
        }
        heap_chains[i].push((c.clone(), &no_prefix));
    }
    report.chains = heap_chains.iter().map(Vec::len).sum();
    report.frozen = frozen.values().map(Vec::len).sum();
    let generation_count = if uoh.iter().any(|c| c.kind == SegmentKind::Pinned) {
        5
    } else {
        4
    };

    // The segments; the ephemeral ones end at allocated for now.
    let mut segments = Vec::new();
    let mut ephemeral = Vec::new();
    for (h, chains) in heap_chains.iter().enumerate() {
        for (c, prefix) in chains {
            let generation = match c.kind {
                SegmentKind::Large => 3,
                SegmentKind::Pinned => 4,
                _ => 2,
            };
            for r in prefix.iter() {
                segments.push(segment(r, SegmentKind::Frozen, 2, h, false));
            }
            for (k, r) in c.records.iter().enumerate() {
                let last = c.kind == SegmentKind::Small && k + 1 == c.records.len();
                segments.push(segment(r, c.kind, generation, h, last));
                if last {
                    ephemeral.push(*r);
                }
            }
        }
    }
    sort_disjoint(&mut segments).map_err(refuse)?;

    // 4. The ephemeral segments' ends.
    let ends = ephemeral_ends(mem, &segments, &ephemeral, &gc_data, &mut mts, progress)?;
    for (e, (end, source, tentative)) in ephemeral.iter().zip(ends) {
        if let Some(s) = segments.iter_mut().find(|s| s.record == e.addr) {
            s.end = end;
        }
        report.ends.push(EphemeralEnd {
            segment: e.addr,
            allocated: e.allocated,
            end,
            source,
        });
        report.tentative.extend(tentative);
    }
    segments.retain(|s| s.end > s.start);
    sort_disjoint(&mut segments).map_err(refuse)?;

    // 5. Handle tables.
    let (handle_tables, handle_segments) = handle_tables(mem, &segments, &images);
    report.handle_tables = handle_tables.len();
    report.handle_table_segments = handle_segments;

    Ok(Found {
        heap_count: heap_chains.len(),
        server,
        segments,
        handle_tables,
        generation_count,
        gc_data,
        report,
    })
}

/// A [`Segment`] of record `r`, ending at its `allocated`.
fn segment(r: &Record, kind: SegmentKind, generation: u8, heap: usize, ephemeral: bool) -> Segment {
    Segment {
        record: r.addr,
        start: r.mem,
        end: r.allocated,
        kind,
        generation,
        heap: heap as u32,
        ephemeral,
    }
}

/// Sorts `segments` by start; an overlap is an error.
fn sort_disjoint(segments: &mut [Segment]) -> Result<(), String> {
    segments.sort_by_key(|s| s.start);
    for w in segments.windows(2) {
        if w[0].end > w[1].start {
            return Err(format!(
                "the segments at {:#x} and {:#x} overlap",
                w[0].record, w[1].record
            ));
        }
    }
    Ok(())
}

/// The address ranges of the process's modules, sorted (segment headers
/// are never inside them).
fn image_ranges(target: &Target<'_>) -> Vec<(u64, u64)> {
    let mut v: Vec<(u64, u64)> = target
        .modules
        .iter()
        .flat_map(|m| {
            if m.ranges.is_empty() {
                vec![(m.start, m.end)]
            } else {
                m.ranges.clone()
            }
        })
        .collect();
    v.sort_unstable();
    v
}

fn in_ranges(ranges: &[(u64, u64)], p: u64) -> bool {
    let i = ranges.partition_point(|r| r.0 <= p);
    ranges[..i].iter().rev().take(64).any(|r| p < r.1)
}

/// The writable regions with data, outside module images.
fn writable_data(mem: &dyn AddressSpace, images: &[(u64, u64)]) -> Vec<(u64, u64)> {
    mem.regions()
        .iter()
        .filter(|r| r.data_size > 0 && r.protection.is_none_or(|p| p.write))
        .filter(|r| !in_ranges(images, r.start))
        .map(|r| (r.start, r.start + r.data_size))
        .collect()
}

/// Every inline segment header in writable memory the dump holds, outside
/// module images: one probe per 8 KB.
fn scan_headers(
    mem: &dyn AddressSpace,
    images: &[(u64, u64)],
    mts: &mut MethodTables,
) -> Vec<Record> {
    let mut out = Vec::new();
    for (start, end) in writable_data(mem, images) {
        let mut s = start.checked_next_multiple_of(HEADER_ALIGN);
        while let Some(at) = s.filter(|&a| a.saturating_add(RECORD_MAX as u64) <= end) {
            if let Some(r) = Record::read(mem, at) {
                if r.inline_shape() && r.first_object_valid(mem, mts) {
                    out.push(r);
                    if out.len() > MAX_HEADERS {
                        return out;
                    }
                }
            }
            s = at.checked_add(HEADER_ALIGN);
        }
    }
    out
}

/// Links headers into chains through `next`; a header whose `next` is not
/// a header is dropped (with what led to it), kinds must agree along a
/// chain.
fn chain(mut headers: Vec<Record>) -> Result<Vec<Chain>, String> {
    loop {
        let set: HashSet<u64> = headers.iter().map(|h| h.addr).collect();
        let before = headers.len();
        headers.retain(|h| h.next == 0 || set.contains(&h.next));
        if headers.len() == before {
            break;
        }
    }
    let by_addr: HashMap<u64, Record> = headers.iter().map(|h| (h.addr, *h)).collect();
    let mut referrers: HashMap<u64, usize> = HashMap::new();
    for h in &headers {
        if h.next != 0 {
            *referrers.entry(h.next).or_default() += 1;
        }
    }
    if let Some((&a, _)) = referrers.iter().find(|(_, &n)| n > 1) {
        return Err(format!(
            "the segment at {a:#x} follows several others: the chains are ambiguous"
        ));
    }
    let mut chains = Vec::new();
    let mut seen = HashSet::new();
    let mut heads: Vec<&Record> = headers
        .iter()
        .filter(|h| !referrers.contains_key(&h.addr))
        .collect();
    heads.sort_by_key(|h| h.addr);
    for head in heads {
        let mut records = Vec::new();
        let mut r = *head;
        loop {
            if !seen.insert(r.addr) {
                return Err(format!("the segment chain at {:#x} loops", head.addr));
            }
            records.push(r);
            match by_addr.get(&r.next) {
                Some(n) if r.next != 0 => r = *n,
                _ => break,
            }
        }
        let kind = records[0].kind();
        if records.iter().all(|r| r.kind() == kind) {
            chains.push(Chain { records, kind });
        }
    }
    Ok(chains)
}

/// The writable data of the runtime module and of a standalone GC module
/// (`clrgc`), with the anonymous pages right after each (an ELF module's
/// `.bss`).
fn workstation_data(target: &Target<'_>, runtime: &RuntimeModule) -> Vec<(u64, u64)> {
    let mem = target.memory;
    let mut out = Vec::new();
    let modules = std::iter::once(&runtime.module).chain(
        target
            .modules
            .iter()
            .filter(|m| m.file_name().to_ascii_lowercase().contains("clrgc")),
    );
    for m in modules {
        let mut end = m.end;
        for r in mem.regions() {
            if r.end() > end
                && r.start <= end.saturating_add(0x1000)
                && r.start < m.end.saturating_add(64 << 20)
            {
                end = end.max(r.end());
            }
        }
        for r in mem.regions() {
            if r.end() <= m.start || r.start >= end || r.data_size == 0 {
                continue;
            }
            // The module's own mappings and the anonymous pages after it,
            // not another module's mapped in between.
            if r.protection.is_some_and(|p| !p.write) || (r.start < m.end && !m.contains(r.start)) {
                continue;
            }
            let a = r.start.max(m.start);
            let b = (r.start + r.data_size).min(end);
            if a < b {
                out.push((a, b));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// The words of the GC's data that equal a segment record's address.
struct GcWords {
    /// In any of the GC's data.
    all: HashSet<u64>,
    /// Per server heap, in its `gc_heap`.
    per_heap: Vec<HashSet<u64>>,
}

/// Calls `f(address, word)` for every pointer-aligned word (of the
/// process's pointer size) the dump holds in `[start, end)`.
fn for_each_word(mem: &dyn AddressSpace, start: u64, end: u64, f: &mut dyn FnMut(u64, u64)) {
    let ptr = PointerSize::of(mem);
    let p = ptr.usize();
    let mut buf = vec![0u8; CHUNK];
    for (a, b) in data_runs(mem, ptr.align_down(start), end) {
        let mut pos = ptr.align_down(a);
        while pos.saturating_add(ptr.bytes()) <= b {
            let n = ((b - pos) as usize).min(CHUNK) & !(p - 1);
            if n == 0 || mem.read_virtual(pos, &mut buf[..n]).is_err() {
                break;
            }
            for (i, w) in buf[..n].chunks_exact(p).enumerate() {
                f(pos + ptr.times(i as u64), ptr.read(w, 0));
            }
            pos += n as u64;
        }
    }
}

fn gc_data_words(mem: &dyn AddressSpace, data: &GcData) -> GcWords {
    let ptr = PointerSize::of(mem);
    let mut all = HashSet::new();
    let mut per_heap = Vec::new();
    match data {
        GcData::Workstation(ranges) => {
            for &(a, b) in ranges {
                for_each_word(mem, a, b, &mut |_, w| {
                    if w != 0 && ptr.aligned(w) {
                        all.insert(w);
                    }
                });
            }
        }
        GcData::Server(heaps) => {
            for &h in heaps {
                let mut set = HashSet::new();
                for_each_word(mem, h, h.saturating_add(GC_HEAP_SPAN), &mut |_, w| {
                    if w != 0 && ptr.aligned(w) {
                        set.insert(w);
                    }
                });
                all.extend(set.iter().copied());
                per_heap.push(set);
            }
        }
    }
    GcWords { all, per_heap }
}

/// Frozen segment records (flag `readonly`, in native memory) chained in
/// front of a small-object chain: by the index of that chain, first record
/// first.
fn frozen_records(
    mem: &dyn AddressSpace,
    soh: &[Chain],
    uoh: &[Chain],
    images: &[(u64, u64)],
    heads: &HashMap<u64, usize>,
    mts: &mut MethodTables,
) -> HashMap<usize, Vec<Record>> {
    let in_heap = |p: u64| {
        soh.iter()
            .chain(uoh)
            .flat_map(|c| &c.records)
            .any(|r| p >= r.addr && p < r.committed)
    };
    // Every plausible frozen record, by where it points.
    let ptr = PointerSize::of(mem);
    let (p, record_bytes) = (ptr.usize(), RECORD_FIELDS * ptr.usize());
    let mut by_next: HashMap<u64, Vec<Record>> = HashMap::new();
    let mut count = 0usize;
    let mut buf = vec![0u8; CHUNK + record_bytes];
    for (start, end) in writable_data(mem, images) {
        if in_heap(start) {
            continue;
        }
        let mut pos = ptr.align_down(start);
        while pos.saturating_add(record_bytes as u64) <= end && count <= MAX_FROZEN {
            let n = ((end - pos) as usize).min(CHUNK + record_bytes) & !(p - 1);
            if mem.read_virtual(pos, &mut buf[..n]).is_err() {
                break;
            }
            let mut i = 0;
            while i + record_bytes <= n {
                let flags = ptr.read(&buf, i + RECORD_FLAGS * p);
                if flags & SEG_READONLY != 0 && flags < FLAGS_LIMIT {
                    let r = Record::parse(ptr, pos + i as u64, &buf[i..i + record_bytes]);
                    if r.ordered() && r.next != 0 && !in_heap(r.mem) {
                        by_next.entry(r.next).or_default().push(r);
                        count += 1;
                    }
                }
                i += p;
            }
            if n < CHUNK + record_bytes {
                break;
            }
            pos += CHUNK as u64;
        }
    }
    let mut out = HashMap::new();
    for (&head, &i) in heads {
        let mut prefix = Vec::new();
        let mut at = head;
        while prefix.len() < MAX_FROZEN {
            let found: Vec<&Record> = by_next
                .get(&at)
                .map(|v| {
                    v.iter()
                        .filter(|r| r.first_object_valid(mem, mts))
                        .collect()
                })
                .unwrap_or_default();
            // One record, or none: two claiming the same successor are
            // not believed.
            let [r] = found[..] else { break };
            if prefix.iter().any(|p: &Record| p.addr == r.addr) {
                break;
            }
            prefix.push(*r);
            at = r.addr;
        }
        prefix.reverse();
        if !prefix.is_empty() {
            out.insert(i, prefix);
        }
    }
    out
}

/// One candidate source of an ephemeral end: a workstation variable's
/// address, or an offset in every server `gc_heap`, with its value per
/// heap.
struct Slot {
    at: u64,
    values: Vec<u64>,
}

/// The GC variables that could hold the ephemeral segments' ends: words
/// of the GC's data whose values lie in `[allocated, committed]` of every
/// heap's ephemeral segment.
fn end_slots(mem: &dyn AddressSpace, ephemeral: &[Record], gc_data: &GcData) -> Vec<Slot> {
    let ptr = PointerSize::of(mem);
    let possible = |e: &Record, v: u64| v >= e.allocated && v <= e.committed && ptr.aligned(v);
    let mut slots = Vec::new();
    match gc_data {
        GcData::Workstation(ranges) => {
            if let [e] = ephemeral {
                for &(a, b) in ranges {
                    for_each_word(mem, a, b, &mut |at, v| {
                        if possible(e, v) {
                            slots.push(Slot {
                                at,
                                values: vec![v],
                            });
                        }
                    });
                }
            }
        }
        GcData::Server(heaps) => {
            if heaps.len() != ephemeral.len() {
                return slots;
            }
            // The part of each gc_heap the dump holds, in whole pages.
            let spans: Vec<Vec<u8>> = heaps
                .iter()
                .map(|&h| {
                    let mut b = vec![0u8; GC_HEAP_SPAN as usize];
                    let mut n = b.len();
                    while n > 0 && mem.read_virtual(h, &mut b[..n]).is_err() {
                        n -= 0x1000.min(n);
                    }
                    b.truncate(n);
                    b
                })
                .collect();
            let len = spans.iter().map(Vec::len).min().unwrap_or(0);
            for off in (0..len).step_by(ptr.usize()) {
                let values: Vec<u64> = spans.iter().map(|b| ptr.read(b, off)).collect();
                if values.iter().zip(ephemeral).all(|(&v, e)| possible(e, v)) {
                    slots.push(Slot {
                        at: off as u64,
                        values,
                    });
                }
            }
        }
    }
    slots
}

/// Decides each ephemeral segment's end (see the module's documentation):
/// `(end, source, tentative range)` per segment of `ephemeral`.
fn ephemeral_ends(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    ephemeral: &[Record],
    gc_data: &GcData,
    mts: &mut MethodTables,
    progress: &mut dyn FnMut() -> bool,
) -> Result<Vec<(u64, EndSource, Option<Tentative>)>, ClrError> {
    let slots = end_slots(mem, ephemeral, gc_data);
    // Walk each ephemeral segment up to its committed end, as far as the
    // dump holds it without a gap (the walk stops there anyway, and what it
    // reserves stays bounded by the dump): the positions the walk lands on
    // directly (object ends, allocation contexts' ends).
    let widened: Vec<Segment> = segments
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if let Some(e) = ephemeral.iter().find(|e| e.addr == s.record) {
                let mut end = e.allocated;
                for (a, b) in data_runs(mem, e.allocated, e.committed) {
                    if a > end {
                        break;
                    }
                    end = b;
                }
                s.end = end.max(s.end);
            }
            s
        })
        .collect();
    let contexts = crate::writable::allocation_contexts(mem, &widened);
    let mut landed = Vec::with_capacity(ephemeral.len());
    for e in ephemeral {
        if !progress() {
            return Err(ClrError::Cancelled);
        }
        landed.push(match widened.iter().find(|s| s.record == e.addr) {
            Some(seg) => landings(mem, seg, &contexts, mts, e.allocated),
            None => Landings::default(),
        });
    }
    // A variable counts when the walk of every heap lands on its value
    // there (its allocated: nothing allocated since the last GC).
    // ... and when what lies between its header's `allocated` and the
    // value holds no reference a compaction left behind.
    let confirmed: Vec<&Slot> = slots
        .iter()
        .filter(|s| {
            s.values
                .iter()
                .zip(ephemeral)
                .zip(&landed)
                .all(|((&v, e), l)| {
                    v == e.allocated
                        || (l.ends.contains(&v) && l.dangling_before(v) < STALE_REFERENCES)
                })
        })
        .collect();
    match gc_data {
        GcData::Server(_) => Ok(server_ends(ephemeral, &confirmed, &landed)),
        GcData::Workstation(_) => Ok(ephemeral
            .iter()
            .zip(&landed)
            .map(|(e, l)| workstation_end(e, &confirmed, l))
            .collect()),
    }
}

/// How many references into the heap before a header's `allocated` that
/// land on no object's start make what lies past it bytes a compaction
/// left behind (see [`Landings::dangling_before`]); more than one, so that
/// a single misread object does not decide.
const STALE_REFERENCES: u64 = 2;

/// The end of the allocation contexts the walk reaches past the header's
/// `allocated` (0 when it reaches none).
fn context_floor(landed: &Landings) -> u64 {
    landed.context_ends.iter().copied().max().unwrap_or(0)
}

/// Without a variable to end the heap at: the header's `allocated` when a
/// GC variable holds it (`at_allocated`) and nothing shows allocation past
/// it; else `allocated`, with what the walk finds after it tentative
/// (`Unconfirmed` when no variable points past `allocated`, `Ambiguous`
/// when some do, up to `past_max`).
fn no_variable_end(
    e: &Record,
    landed: &Landings,
    at_allocated: bool,
    past_max: Option<u64>,
) -> (u64, EndSource, Option<Tentative>) {
    let floor = context_floor(landed);
    match past_max {
        None if floor <= e.allocated && at_allocated => (e.allocated, EndSource::Header, None),
        None => {
            // Nothing confirms the header: what the walk finds after it
            // may be objects allocated since the last GC.
            let reached = landed.ends.iter().copied().max().unwrap_or(0);
            let end = floor.max(reached);
            let tentative = (end > e.allocated).then_some(Tentative {
                segment: e.addr,
                start: e.allocated,
                end,
            });
            (e.allocated, EndSource::Unconfirmed, tentative)
        }
        Some(max) => (
            e.allocated,
            EndSource::Ambiguous,
            Some(Tentative {
                segment: e.addr,
                start: e.allocated,
                end: max.max(floor),
            }),
        ),
    }
}

/// A workstation GC's ephemeral end, from the GC variables `confirmed`
/// (the walk lands on their values): the last value past `allocated` and
/// past every allocation context the walk meets — what else points past
/// `allocated` points at objects allocated since the last GC (generation
/// starts, the GC's own allocation context), before the end; or the
/// header's `allocated` when a variable holds it and none points past it.
/// When one holds it and nothing shows allocation past it (no allocation
/// context, no reference from before it into the stretch), a value past it
/// is not taken: the end is ambiguous (see the module's point 4); so it is
/// when none holds it and no allocation context ends at the value.
fn workstation_end(
    e: &Record,
    confirmed: &[&Slot],
    landed: &Landings,
) -> (u64, EndSource, Option<Tentative>) {
    let value = |s: &Slot| s.values.first().copied().unwrap_or(0);
    let past: Vec<&&Slot> = confirmed
        .iter()
        .filter(|s| value(s) > e.allocated)
        .collect();
    // Every allocation context the walk reaches was carved out below the
    // end: a value before a context's end is some other variable (a
    // context's own pointers, an object).
    let floor = context_floor(landed);
    let best = past
        .iter()
        .filter(|s| value(s) >= floor)
        .max_by_key(|s| (value(s), std::cmp::Reverse(s.at)));
    let distinct: HashSet<u64> = past.iter().map(|s| value(s)).collect();
    let at_allocated = confirmed.iter().any(|s| value(s) == e.allocated);
    // A GC variable holds the header's `allocated`, no allocation context
    // lies past it and nothing before it refers to what lies between it and
    // the value: nothing shows that those objects were allocated since the
    // last GC rather than left behind by it (a variable of the last
    // collection can point past its end), so they are not counted.
    // Of several values past `allocated`, the last is an end only when
    // something before the one below it refers into the stretch between
    // them: a variable of the last collection past the true end points
    // over objects nothing live refers to.
    let below = |v: u64| {
        distinct
            .iter()
            .copied()
            .filter(|&x| x < v)
            .max()
            .unwrap_or(e.allocated)
    };
    let unproven = |s: &Slot| {
        let v = value(s);
        if at_allocated && floor <= e.allocated && !landed.referred_into(e.allocated, v) {
            return true;
        }
        // No GC variable holds the header's `allocated` (the collection
        // that wrote it also left it in the generation's start, so the
        // header is not as the GC left it) and no allocation context ends
        // at the value: nothing ties the value to allocation since the
        // last GC. The GC hands out allocation contexts from
        // `alloc_allocated` up, and the last one (ending there) stays with
        // its thread until the next GC; a lone value without one may be a
        // variable of the last collection, past the true end.
        if !at_allocated && floor < v {
            return true;
        }
        distinct.len() > 1 && {
            let b = below(v).max(floor);
            b < v && !landed.referred_into(b, v)
        }
    };
    match best.filter(|s| !unproven(s)) {
        Some(s) => (
            value(s),
            EndSource::Variable {
                at: s.at,
                server: false,
                others: distinct.len() - 1,
            },
            None,
        ),
        None => {
            let past_max = past.iter().map(|s| value(s)).max();
            no_variable_end(e, landed, at_allocated, past_max)
        }
    }
}

/// A server GC's ephemeral ends: `alloc_allocated` is one field of
/// `gc_heap`, so the ends are the values of **one** offset in every heap's
/// `gc_heap` (of those `confirmed`: the walk of every heap lands on its
/// value there), past every allocation context the walk meets in each
/// heap. The GC writes `alloc_allocated` into the ephemeral segment's
/// header at the end of every collection and then moves it only by handing
/// out allocation contexts, so where each heap's evidence ends — the
/// header's `allocated`, or past it the end of the last allocation context
/// the walk meets — is the end when one offset holds exactly that in every
/// heap. Otherwise the offset whose value is the last in every heap (as in
/// a workstation GC); with none such, the ends are ambiguous and what lies
/// past each header tentative. A variable left over from the last
/// collection (its plan phase's highest object, before compaction) can
/// point past the end in some heaps and at it in others: it never wins
/// over an offset that matches the evidence in every heap, nor over one
/// that holds what it holds in some heaps and less in the others.
fn server_ends(
    ephemeral: &[Record],
    confirmed: &[&Slot],
    landed: &[Landings],
) -> Vec<(u64, EndSource, Option<Tentative>)> {
    let heaps = ephemeral.len();
    let floors: Vec<u64> = landed.iter().map(context_floor).collect();
    let value = |s: &Slot, i: usize| s.values.get(i).copied().unwrap_or(0);
    // Past every allocation context in every heap.
    let candidates: Vec<&&Slot> = confirmed
        .iter()
        .filter(|s| (0..heaps).all(|i| value(s, i) >= floors[i]))
        .collect();
    let evidence = |i: usize| ephemeral[i].allocated.max(floors[i]);
    let exact = candidates
        .iter()
        .filter(|s| (0..heaps).all(|i| value(s, i) == evidence(i)))
        .min_by_key(|s| s.at)
        .copied();
    // A variable left over from the last collection holds what another
    // candidate holds in some heaps (where the collection left the end
    // alone) and more in others: it is not the end, even where no offset
    // matches the evidence exactly (a header set back with no allocation
    // context left past it).
    let leftover = |s: &Slot| {
        candidates.iter().any(|o| {
            let mut equal = false;
            let mut below = false;
            for i in 0..heaps {
                let (a, b) = (value(o, i), value(s, i));
                if a > b {
                    return false;
                }
                equal |= a == b;
                below |= a < b;
            }
            equal && below
        })
    };
    let kept: Vec<&&Slot> = candidates
        .iter()
        .copied()
        .filter(|s| !leftover(s))
        .collect();
    let last = || {
        kept.iter()
            .filter(|s| {
                kept.iter()
                    .all(|o| (0..heaps).all(|i| value(s, i) >= value(o, i)))
            })
            .min_by_key(|s| s.at)
            .copied()
    };
    if let Some(chosen) = exact.or_else(last) {
        return (0..heaps)
            .map(|i| {
                let e = &ephemeral[i];
                let v = value(chosen, i);
                if v == e.allocated {
                    return (v, EndSource::Header, None);
                }
                let distinct: HashSet<u64> = candidates
                    .iter()
                    .map(|s| value(s, i))
                    .filter(|&x| x > e.allocated)
                    .collect();
                (
                    v,
                    EndSource::Variable {
                        at: chosen.at,
                        server: true,
                        others: distinct.len().saturating_sub(1),
                    },
                    None,
                )
            })
            .collect();
    }
    // No one offset ends every heap: each heap ends at its header's
    // `allocated`, and what the walk finds past it is tentative.
    (0..heaps)
        .map(|i| {
            let e = &ephemeral[i];
            let at_allocated = confirmed.iter().any(|s| value(s, i) == e.allocated);
            let past_max = confirmed
                .iter()
                .map(|s| value(s, i))
                .filter(|&v| v > e.allocated)
                .max();
            no_variable_end(e, &landed[i], at_allocated, past_max)
        })
        .collect()
}

/// What a walk of an ephemeral segment widened to its committed end
/// lands on.
#[derive(Debug, Default)]
struct Landings {
    /// Positions the walk reaches directly: the segment's start, every
    /// object's end, the end (`limit` plus the minimum object) of every
    /// allocation context it jumps over.
    ends: HashSet<u64>,
    /// Where objects start (the walk goes on there).
    starts: HashSet<u64>,
    /// The ends of the allocation contexts it jumps over at or after
    /// `from`.
    context_ends: Vec<u64>,
    /// The references that cross `from` (see [`walk::Crossings`]).
    crossings: walk::Crossings,
}

impl Landings {
    /// The references of the objects between `from` and `to` into the
    /// segment before `from` that land on no object's start: bytes a
    /// compaction left behind, not objects allocated since (which refer
    /// only to objects' starts).
    fn dangling_before(&self, to: u64) -> u64 {
        let d = &self.crossings.dangling;
        d[..d.partition_point(|&(a, _)| a < to)]
            .iter()
            .map(|&(_, n)| n)
            .sum()
    }

    /// Whether an object before `a` refers to one between `a` and `b`.
    fn referred_into(&self, a: u64, b: u64) -> bool {
        self.crossings.referred_into(a, b)
    }
}

/// Walks `seg` (an ephemeral segment widened to its committed end).
fn landings(
    mem: &dyn AddressSpace,
    seg: &Segment,
    contexts: &AddrMap<u64>,
    mts: &mut MethodTables,
    from: u64,
) -> Landings {
    let ptr = PointerSize::of(mem);
    let mut out = Landings::default();
    out.ends.insert(seg.start);
    let Some(objects) = walk_one(mem, seg, contexts, mts) else {
        return out;
    };
    for (a, s) in (0..objects.len()).map(|i| (objects.address(i), objects.size(i))) {
        out.starts.insert(a);
        out.ends
            .insert(a.saturating_add(ptr.object_extent(s, false)));
    }
    out.crossings = walk::crossings(mem, &objects, mts, (seg.start, from, seg.end));
    // Allocation contexts the walk reaches (their start is a landing with
    // a zero word) end where the walk resumes.
    let mut pending: Vec<(u64, u64)> = contexts
        .iter()
        .filter(|(&p, _)| p >= seg.start && p < seg.end)
        .map(|(&p, &l)| (p, l))
        .collect();
    pending.sort_unstable();
    loop {
        let before = out.ends.len();
        pending.retain(|&(p, l)| {
            if out.ends.contains(&p)
                && mem
                    .read_pointer(p)
                    .is_ok_and(|w| w & !ptr.method_table_tag() == 0)
            {
                let end = ptr.object_extent(l.saturating_add(ptr.min_object_size()), false);
                out.ends.insert(end);
                if end > from {
                    out.context_ends.push(end);
                }
                false
            } else {
                true
            }
        });
        if out.ends.len() == before {
            break;
        }
    }
    out
}

/// The objects of one segment as the shared walker finds them (the walk
/// stops where the segment stops making sense).
fn walk_one(
    mem: &dyn AddressSpace,
    seg: &Segment,
    contexts: &AddrMap<u64>,
    mts: &mut MethodTables,
) -> Option<Objects> {
    walk::walk(
        mem,
        std::slice::from_ref(seg),
        contexts,
        mts,
        false,
        None,
        &mut |_| true,
    )
    .ok()
    .map(|w| w.objects)
}

/// Handle tables by shape: every 64 KB-aligned block of writable memory
/// the dump holds (outside the heap and module images) that
/// [`crate::roots::table_of_segment`] accepts. Returns the distinct tables
/// and the number of segments found.
fn handle_tables(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    images: &[(u64, u64)],
) -> (Vec<u64>, usize) {
    let mut tables = Vec::new();
    let mut found = 0;
    for (start, end) in writable_data(mem, images) {
        let mut next = start.checked_next_multiple_of(0x1_0000);
        while let Some(s) = next.filter(|&s| s.saturating_add(0x800) <= end) {
            if !crate::heap::in_segments(segments, s) {
                if let Some(t) = crate::roots::table_of_segment(mem, s) {
                    found += 1;
                    if !tables.contains(&t) {
                        tables.push(t);
                    }
                }
            }
            next = s.checked_add(0x1_0000);
        }
    }
    tables.sort_unstable();
    (tables, found)
}

/// Each heap's finalization queue (`CFinalize*`): a record that a GC
/// variable points at (workstation: the runtime's data; server: the same
/// offset of every `gc_heap`), whose fill pointers are in order and whose
/// entries are all objects of types with a finalizer (a handful of
/// entries pointing nowhere are allowed, as in a dump taken while the
/// program runs). Returns the queues in heap order, or why there are
/// none.
pub fn finalize_queues(
    mem: &dyn AddressSpace,
    found: &Found,
    objects: &Objects,
    mts: &MethodTables,
) -> (Vec<u64>, Finalization) {
    let gens = found.generation_count;
    let ptr = PointerSize::of(mem);
    let p = ptr.usize();
    let in_heap = |p: u64| crate::heap::in_segments(&found.segments, p);
    // The entries of the CFinalize at q, when it has the shape: `None` when
    // not, `Some(n)` with the number of entries.
    let queue = |q: u64| -> Option<u64> {
        if q == 0 || !ptr.aligned(q) || in_heap(q) {
            return None;
        }
        let fill = gens + 2;
        let mut b = vec![0u8; p * (fill as usize + 2)];
        mem.read_virtual(q, &mut b).ok()?;
        let w = |i: u64| ptr.read(&b, p * i as usize);
        let (array, end_array) = (w(fill), w(fill + 1));
        let mut prev = array;
        for i in 0..fill {
            let f = w(i);
            if f < prev || !ptr.aligned(f - array) {
                return None;
            }
            prev = f;
        }
        if array == 0 || !ptr.aligned(array) || prev > end_array || in_heap(array) {
            return None;
        }
        let (start, end) = crate::roots::queue_range(mem, q, gens)?;
        let n = (end - start) / ptr.bytes();
        // Read in pieces: a candidate's range is not trusted yet.
        let mut chunk = vec![0u8; CHUNK.min((end - start) as usize)];
        let mut bad = 0u64;
        let mut pos = start;
        while pos < end {
            let k = ((end - pos) as usize).min(chunk.len());
            mem.read_virtual(pos, &mut chunk[..k]).ok()?;
            for e in chunk[..k].chunks_exact(p) {
                match objects.find(ptr.read(e, 0)) {
                    Some(o) => {
                        let t = mts.tables.get(objects.mt(o) as usize)?;
                        if t.flags & HAS_FINALIZER == 0 {
                            return None;
                        }
                    }
                    None => bad += 1,
                }
            }
            pos += k as u64;
        }
        (bad * 100 <= n).then_some(n)
    };
    let candidates: Vec<Vec<u64>> = match &found.gc_data {
        GcData::Workstation(ranges) => {
            let mut seen = HashSet::new();
            let mut v = Vec::new();
            for &(a, b) in ranges {
                for_each_word(mem, a, b, &mut |_, w| {
                    if w != 0 && ptr.aligned(w) && seen.insert(w) {
                        v.push(w);
                    }
                });
            }
            v.into_iter().map(|q| vec![q]).collect()
        }
        GcData::Server(heaps) => (0..GC_HEAP_SPAN)
            .step_by(p)
            .map(|off| {
                heaps
                    .iter()
                    .map(|&h| mem.read_pointer(h.wrapping_add(off)).unwrap_or(0))
                    .collect()
            })
            .collect(),
    };
    // Cheap test first: readable, outside the heap.
    let mut good: Vec<(Vec<u64>, u64)> = Vec::new();
    for c in candidates {
        if c.iter()
            .any(|&q| q == 0 || in_heap(q) || mem.read_pointer(q).is_err())
        {
            continue;
        }
        let counts: Option<Vec<u64>> = c.iter().map(|&q| queue(q)).collect();
        if let Some(counts) = counts {
            if !good.iter().any(|(g, _)| *g == c) {
                good.push((c, counts.iter().sum()));
            }
        }
    }
    // An empty queue's shape (equal pointers) proves little; prefer the
    // candidates with entries.
    let with_entries: Vec<&(Vec<u64>, u64)> = good.iter().filter(|(_, n)| *n > 0).collect();
    match (with_entries.as_slice(), good.as_slice()) {
        ([one], _) => (one.0.clone(), Finalization::Found),
        ([], []) => (Vec::new(), Finalization::NotFound),
        ([], [only]) => (only.0.clone(), Finalization::Found),
        // Only empty queues: nothing to root either way.
        ([], _) => (Vec::new(), Finalization::Found),
        _ => (Vec::new(), Finalization::Ambiguous),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(addr: u64, next: u64, flags: u64) -> Record {
        Record {
            ptr: PointerSize::Eight,
            addr,
            allocated: addr + 0x2000,
            committed: addr + 0x3000,
            reserved: addr + 0x1_0000,
            used: addr + 0x2800,
            mem: addr + SEGMENT_INFO_SIZE,
            flags,
            next,
            heap: 0,
        }
    }

    #[test]
    fn inline_headers_have_their_shape() {
        let h = header(0x10_0000, 0, 0);
        assert!(h.inline_shape());
        assert_eq!(h.kind(), SegmentKind::Small);
        assert_eq!(header(0x10_0000, 0, SEG_LOH).kind(), SegmentKind::Large);
        assert_eq!(header(0x10_0000, 0, SEG_POH).kind(), SegmentKind::Pinned);
        // Frozen records are never inline; flags past the known ones,
        // unordered fields, a reservation not in 64 KB, a first object
        // elsewhere are not headers.
        assert!(!header(0x10_0000, 0, SEG_READONLY).inline_shape());
        assert!(!header(0x10_0000, 0, FLAGS_LIMIT).inline_shape());
        let mut bad = h;
        bad.allocated = bad.committed + 8;
        assert!(!bad.inline_shape());
        let mut bad = h;
        bad.reserved += 0x1000;
        assert!(!bad.inline_shape());
        let mut bad = h;
        bad.mem += 0x1000;
        bad.allocated += 0x1000;
        assert!(!bad.inline_shape());
        let mut bad = h;
        bad.used = bad.committed + 8;
        assert!(!bad.inline_shape());
        // Addresses at the top of the address space do not overflow.
        let mut top = h;
        top.addr = u64::MAX - 0xFFF;
        assert!(!top.inline_shape());
    }

    #[test]
    fn headers_chain_through_next() {
        let (a, b, c) = (0x10_0000, 0x20_0000, 0x30_0000);
        let chains = chain(vec![
            header(b, 0, 0),
            header(a, b, 0),
            header(c, 0, SEG_LOH),
        ])
        .unwrap();
        assert_eq!(chains.len(), 2);
        let addrs: Vec<Vec<u64>> = chains
            .iter()
            .map(|c| c.records.iter().map(|r| r.addr).collect())
            .collect();
        assert_eq!(addrs, vec![vec![a, b], vec![c]]);
        // A header whose next is not a header is dropped, and what led to
        // it with it.
        let chains = chain(vec![header(a, b, 0), header(b, 0x40_0000, 0)]).unwrap();
        assert!(chains.is_empty());
        // Kinds must agree along a chain.
        let chains = chain(vec![header(a, b, 0), header(b, 0, SEG_LOH)]).unwrap();
        assert!(chains.is_empty());
        // Two headers followed by one, or a loop: refused.
        let e = chain(vec![header(a, c, 0), header(b, c, 0), header(c, 0, 0)]).unwrap_err();
        assert!(e.contains("ambiguous"), "{e}");
        let chains = chain(vec![header(a, b, 0), header(b, a, 0)]).unwrap();
        assert!(chains.is_empty(), "a loop has no head");
    }

    /// Two server heaps whose headers were set back (no allocation context
    /// past them), as a GC variable left over from a compaction makes them
    /// ambiguous: `alloc_allocated` (`t`) ends heap 0 just past its
    /// generation-0 gap and heap 1 where the leftover (`l`) does too; the
    /// leftover points 36 KB further in heap 0 (the objects before the
    /// compaction). A generation start (`g`) is below both everywhere.
    #[test]
    fn a_leftover_variable_never_ends_a_server_heap() {
        let seg = |addr: u64, allocated: u64| Record {
            ptr: PointerSize::Eight,
            addr,
            allocated,
            committed: addr + 0x10_0000,
            reserved: addr + 0x100_0000,
            used: addr + 0x10_0000,
            mem: addr + SEGMENT_INFO_SIZE,
            flags: 0,
            next: 0,
            heap: 0,
        };
        let (h0, h1) = (0x7fda_07ff_e000u64, 0x7fdb_07ff_e000u64);
        let ephemeral = [seg(h0, h0 + 0x11a0), seg(h1, h1 + 0x2b4_d28)];
        let slot = |at: u64, values: [u64; 2]| Slot {
            at,
            values: values.to_vec(),
        };
        let t = slot(0x700, [h0 + 0x11b8, h1 + 0x2b5_540]);
        let l = slot(0x790, [h0 + 0xa188, h1 + 0x2b5_540]);
        let g = slot(0x100, [h0 + 0x11a0, h1 + 0x2b5_528]);
        let landed = [Landings::default(), Landings::default()];
        let ends = server_ends(&ephemeral, &[&l, &g, &t], &landed);
        let got: Vec<(u64, EndSource)> = ends.iter().map(|e| (e.0, e.1)).collect();
        let source = EndSource::Variable {
            at: 0x700,
            server: true,
            others: 1,
        };
        assert_eq!(got, vec![(h0 + 0x11b8, source), (h1 + 0x2b5_540, source)]);
        assert!(ends.iter().all(|e| e.2.is_none()));
        // Without the leftover's twin, the last value still wins.
        let ends = server_ends(&ephemeral, &[&g, &t], &landed);
        assert_eq!(ends[0].0, h0 + 0x11b8);
        // And an offset that matches the evidence in every heap wins over
        // all: here the headers are current.
        let current = [seg(h0, h0 + 0x11b8), seg(h1, h1 + 0x2b5_540)];
        let ends = server_ends(&current, &[&l, &g, &t], &landed);
        assert_eq!(
            ends.iter().map(|e| (e.0, e.1)).collect::<Vec<_>>(),
            vec![
                (h0 + 0x11b8, EndSource::Header),
                (h1 + 0x2b5_540, EndSource::Header)
            ]
        );
    }

    /// A workstation GC dumped right after a collection (the leak zoo's
    /// .NET Core 3.1 phase 2): five variables hold the header's
    /// `allocated`, one left over from the collection points 87,816 bytes
    /// past it, where the walk lands on old objects nothing refers to.
    /// That is not an end said with confidence: the header's, ambiguous,
    /// the rest tentative. Once an object before `allocated` refers to one
    /// in between, those were allocated since and the variable is the end.
    /// Where no variable holds the header's `allocated`, only an
    /// allocation context ending at the value makes it the end (a
    /// regeneration of the zoo's .NET Core 3.1 phase 1, its header set
    /// back 1,000 objects and every word up to the true end erased, kept
    /// the leftover alone, 135 KB past the true end).
    #[test]
    fn a_variable_past_an_unreferred_stretch_is_not_a_workstation_end() {
        let addr = 0x7f0d_e7ff_e000u64;
        let allocated = 0x7f0d_e85d_4ae0u64;
        let leftover = allocated + 87_816;
        let e = Record {
            ptr: PointerSize::Eight,
            addr,
            allocated,
            committed: leftover + 0x1000,
            reserved: addr + 0x1000_0000,
            used: leftover + 0x1000,
            mem: addr + SEGMENT_INFO_SIZE,
            flags: 0,
            next: 0,
            heap: 0,
        };
        let slot = |at: u64, value: u64| Slot {
            at,
            values: vec![value],
        };
        let held: Vec<Slot> = (0..5).map(|i| slot(0x1000 + 96 * i, allocated)).collect();
        let past = slot(0x3000, leftover);
        let mut confirmed: Vec<&Slot> = held.iter().collect();
        confirmed.push(&past);
        let (end, source, tentative) = workstation_end(&e, &confirmed, &Landings::default());
        assert_eq!((end, source), (allocated, EndSource::Ambiguous));
        assert_eq!(
            tentative,
            Some(Tentative {
                segment: addr,
                start: allocated,
                end: leftover
            })
        );
        let referred = Landings {
            crossings: walk::Crossings {
                incoming: vec![(allocated + 0x40, allocated - 0x100)],
                ..Default::default()
            },
            ..Default::default()
        };
        let variable = EndSource::Variable {
            at: 0x3000,
            server: false,
            others: 0,
        };
        let (end, source, tentative) = workstation_end(&e, &confirmed, &referred);
        assert_eq!((end, source, tentative), (leftover, variable, None));
        // No variable holds the header's `allocated` and no allocation
        // context ends at the value: not an end said with confidence.
        let (end, source, _) = workstation_end(&e, &[&past], &Landings::default());
        assert_eq!((end, source), (allocated, EndSource::Ambiguous));
        // An allocation context the walk meets ending at it makes it one.
        let context = Landings {
            context_ends: vec![leftover],
            ..Default::default()
        };
        let (end, source, _) = workstation_end(&e, &[&past], &context);
        assert_eq!((end, source), (leftover, variable));
        // Variables hold `allocated`, another the true end (`t`, objects
        // before it refer into the stretch up to it) and the leftover past it: the
        // stretch between them, which nothing before `t` refers into,
        // makes the leftover no end said with confidence.
        let t = slot(0x2000, allocated + 0x800);
        let into_t = Landings {
            crossings: walk::Crossings {
                incoming: vec![(allocated + 0x40, allocated - 0x100)],
                ..Default::default()
            },
            ..Default::default()
        };
        let mut three: Vec<&Slot> = held.iter().collect();
        three.extend([&t, &past]);
        let (end, source, tentative) = workstation_end(&e, &three, &into_t);
        assert_eq!((end, source), (allocated, EndSource::Ambiguous));
        assert_eq!(tentative.map(|t| t.end), Some(leftover));
        // Once something before `t` refers past it, the leftover is the end.
        let into_both = Landings {
            crossings: walk::Crossings {
                incoming: vec![
                    (allocated + 0x40, allocated - 0x100),
                    (allocated + 0x900, allocated + 0x10),
                ],
                ..Default::default()
            },
            ..Default::default()
        };
        let (end, source, _) = workstation_end(&e, &three, &into_both);
        assert_eq!(
            (end, source),
            (
                leftover,
                EndSource::Variable {
                    at: 0x3000,
                    server: false,
                    others: 1
                }
            )
        );
    }

    #[test]
    fn notes_say_what_is_not_counted() {
        let report = Report {
            chains: 2,
            handle_tables: 1,
            finalization: Finalization::NotFound,
            tentative: vec![Tentative {
                segment: 0x1000,
                start: 0x2000,
                end: 0x2100,
            }],
            ..Report::default()
        };
        let notes = report.notes();
        assert!(notes[0].contains("heuristic scan"), "{notes:?}");
        assert!(notes[0].contains("finalizer roots missing"), "{notes:?}");
        assert!(notes[1].contains("256 bytes") && notes[1].contains("not counted"));
    }
}
