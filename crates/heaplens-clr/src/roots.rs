//! GC roots: the handle table, the finalization queue's f-reachable part,
//! and a conservative scan of every thread's stack and registers.

use crate::dacvars::GcDacVars;
use crate::heap::{GcHeap, Segment};
use crate::target::TargetThread;
use crate::walk::Objects;
use crate::width::PointerSize;
use heaplens_graph::RootKind;
use heaplens_memory::AddressSpace;

/// A root found in the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundRoot {
    /// Index of the object held (in [`Objects`]).
    pub object: u32,
    /// How it is held.
    pub kind: RootKind,
    /// Where the reference is (handle slot, stack slot, queue slot), or 0
    /// for a register.
    pub location: u64,
    /// The thread, for stack and register roots.
    pub thread: Option<u32>,
    /// What holds the reference.
    pub place: Place,
}

/// What holds a root's reference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Place {
    /// A handle-table slot or a finalization-queue entry.
    Table,
    /// A thread's stack (found by a conservative scan).
    Stack,
    /// A thread's register (conservative).
    Register,
    /// A thread's thread-local storage (conservative).
    ThreadLocal,
    /// Nothing: the object is immortal (the frozen heap).
    Immortal,
}

/// An edge the GC follows that is not a field: a dependent handle's
/// primary keeps its secondary alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DependentEdge {
    /// The primary (key) object.
    pub primary: u32,
    /// The secondary (value) object.
    pub secondary: u32,
}

/// Handle types (gcinterface.h).
const HNDTYPE_WEAK_SHORT: u8 = 0;
const HNDTYPE_WEAK_LONG: u8 = 1;
const HNDTYPE_STRONG: u8 = 2;
const HNDTYPE_PINNED: u8 = 3;
const HNDTYPE_VARIABLE: u8 = 4;
const HNDTYPE_REFCOUNTED: u8 = 5;
const HNDTYPE_DEPENDENT: u8 = 6;
const HNDTYPE_ASYNCPINNED: u8 = 7;
const HNDTYPE_SIZEDREF: u8 = 8;

/// Handle table segments: 64 KB, a 4 KB header, then handles of a pointer
/// each (`handletablepriv.h`): 7,680 of them (120 blocks of 64) in a
/// 64-bit process, 15,360 (240 blocks) in a 32-bit one. The header
/// (`_TableSegmentHeader`, packed) holds per block a 4-byte generation
/// word, an allocation-chain byte, then per 32 handles a free mask, then
/// per block its type, user-data block and lock byte, then per internal
/// handle type a tail and a hint byte and a free count, then
/// `pNextSegment` and `pHandleTable`.
#[derive(Debug, Clone, Copy)]
struct SegmentLayout {
    ptr: PointerSize,
    blocks: usize,
}

/// Where the handles begin in a segment.
const SEG_HANDLES: u64 = 0x1000;
/// A handle table segment's size (and alignment).
const SEGMENT_SIZE: u64 = 0x1_0000;
const HANDLES_PER_BLOCK: u64 = 64;
/// Internal handle types the header is sized for: 12 (.NET Core 3.1 to
/// .NET 8, `HANDLE_MAX_INTERNAL_TYPES`), or 13 in a newer runtime.
const INTERNAL_TYPES: [u64; 2] = [12, 13];

impl SegmentLayout {
    fn of(ptr: PointerSize) -> SegmentLayout {
        let handles = (SEGMENT_SIZE - SEG_HANDLES) / ptr.bytes();
        SegmentLayout {
            ptr,
            blocks: (handles / HANDLES_PER_BLOCK) as usize,
        }
    }

    fn handles(&self) -> u64 {
        self.blocks as u64 * HANDLES_PER_BLOCK
    }

    fn allocation(&self) -> usize {
        4 * self.blocks
    }

    fn free_mask(&self) -> usize {
        self.allocation() + self.blocks
    }

    fn block_type(&self) -> usize {
        self.free_mask() + 4 * (self.handles() as usize / 32)
    }

    fn user_data(&self) -> usize {
        self.block_type() + self.blocks
    }

    /// `pHandleTable` with `types` internal handle types; `pNextSegment`
    /// is the pointer before.
    fn handle_table(&self, types: u64) -> u64 {
        let locks = self.user_data() + self.blocks;
        let tail = locks + self.blocks;
        let free_count = tail as u64 + 2 * types;
        free_count + 4 * types + self.ptr.bytes()
    }

    /// The `pHandleTable` offsets to try.
    fn handle_tables(&self) -> [u64; 2] {
        INTERNAL_TYPES.map(|t| self.handle_table(t))
    }

    /// Bytes of the header read (up to and with `pHandleTable`).
    fn header_bytes(&self) -> usize {
        (self.handle_table(13) + self.ptr.bytes()) as usize
    }

    /// Bytes of handles in a block.
    fn block_bytes(&self) -> u64 {
        HANDLES_PER_BLOCK * self.ptr.bytes()
    }
}

/// The highest handle type (`HNDTYPE_CROSSREFERENCE`, the newest).
const MAX_HANDLE_TYPE: u8 = 12;
/// Most segments per handle table and buckets per map (bounds loops).
const MAX_SEGMENTS: usize = 1 << 16;
const BUCKETS_PER_MAP: u64 = 10;

/// What the handle table holds.
#[derive(Debug, Default)]
pub struct Handles {
    /// Roots (strong, pinned, async-pinned, sized-ref, ref-counted with a
    /// count, and weak ones, which do not keep objects alive).
    pub roots: Vec<FoundRoot>,
    /// Dependent handles whose primary is alive.
    pub dependents: Vec<DependentEdge>,
    /// Handles whose target is not an object found on the heap.
    pub dangling: u64,
    /// The handle table segments read (64 KB each, by address).
    pub segments: Vec<u64>,
    /// Handle tables or segments the dump does not hold whole (their
    /// handles are not seen).
    pub unreadable: u64,
}

/// The handle tables `g_HandleTableMap` lists: every bucket's table of
/// each of `slots` slots (one per heap in server GC, one otherwise).
pub fn handle_tables(mem: &dyn AddressSpace, vars: &GcDacVars, slots: usize) -> Vec<u64> {
    // `HandleTableMap {pBuckets; pNext; dwMaxIndex}`, `HandleTableBucket
    // {pTable; HandleTableIndex}`: pointers of the process's size.
    let ptr = vars.pointer_size;
    let mut out = Vec::new();
    let mut map = vars.handle_table_map;
    let mut maps = 0;
    while map != 0 && maps < 64 {
        maps += 1;
        let Ok(buckets) = mem.read_pointer(map) else {
            break;
        };
        for bi in 0..BUCKETS_PER_MAP {
            let Ok(bucket) = mem.read_pointer(buckets.wrapping_add(ptr.times(bi))) else {
                continue;
            };
            if bucket == 0 {
                continue;
            }
            let Ok(tables) = mem.read_pointer(bucket) else {
                continue;
            };
            for s in 0..slots as u64 {
                let Ok(table) = mem.read_pointer(tables.wrapping_add(ptr.times(s))) else {
                    continue;
                };
                if table != 0 && !out.contains(&table) {
                    out.push(table);
                }
            }
        }
        map = mem.read_pointer(map.wrapping_add(ptr.bytes())).unwrap_or(0);
    }
    out
}

/// Reads the handle tables `g_HandleTableMap` lists ([`handle_tables`]).
pub fn handles(
    mem: &dyn AddressSpace,
    vars: &GcDacVars,
    slots: usize,
    objects: &Objects,
) -> Handles {
    handles_in(mem, &handle_tables(mem, vars, slots), objects)
}

/// Reads the handle tables `tables` (`HandleTable*`, from
/// [`handle_tables`] or found by shape).
pub fn handles_in(mem: &dyn AddressSpace, tables: &[u64], objects: &Objects) -> Handles {
    let mut out = Handles::default();
    for &table in tables {
        read_table(mem, table, objects, &mut out);
    }
    out
}

/// The handle table a candidate handle-table segment at `seg` (64 KB
/// aligned) belongs to, by shape (docs/clr-heap-walk.md §5.1): every
/// block's type is a handle type or unused, every allocation-chain and
/// user-data index names a block or none, and the `pHandleTable` it
/// holds (with 12 or 13 internal handle types) leads to a table whose
/// segment chain contains `seg`.
pub(crate) fn table_of_segment(mem: &dyn AddressSpace, seg: u64) -> Option<u64> {
    if !seg.is_multiple_of(SEGMENT_SIZE) {
        return None;
    }
    let layout = SegmentLayout::of(PointerSize::of(mem));
    let ptr = layout.ptr;
    let blocks = layout.blocks;
    let mut header = vec![0u8; layout.header_bytes()];
    mem.read_virtual(seg, &mut header).ok()?;
    let bytes = |at: usize| &header[at..at + blocks];
    let index_ok = |b: &u8| (*b as usize) < blocks || *b == 0xFF;
    if !bytes(layout.block_type())
        .iter()
        .all(|&t| t <= MAX_HANDLE_TYPE || t == 0xFF)
        || !bytes(layout.allocation()).iter().all(index_ok)
        || !bytes(layout.user_data()).iter().all(index_ok)
    {
        return None;
    }
    layout.handle_tables().iter().find_map(|&pht| {
        let table = ptr.read(&header, pht as usize);
        if table == 0 || !ptr.aligned(table) {
            return None;
        }
        let (mut s, found_pht) = first_segment(mem, &layout, table)?;
        if found_pht != pht {
            return None;
        }
        for _ in 0..MAX_SEGMENTS {
            if s == seg {
                return Some(table);
            }
            let next = mem
                .read_pointer(s.wrapping_add(pht).wrapping_sub(ptr.bytes()))
                .ok()?;
            if next == s || next % SEGMENT_SIZE != 0 || next == 0 {
                return None;
            }
            s = next;
        }
        None
    })
}

/// Finds a handle table's first segment: a 64 KB-aligned pointer in the
/// table's header whose segment points back at the table.
fn first_segment(mem: &dyn AddressSpace, layout: &SegmentLayout, table: u64) -> Option<(u64, u64)> {
    let ptr = layout.ptr;
    for off in (0..0x200).step_by(ptr.usize()) {
        let Ok(p) = mem.read_pointer(table.wrapping_add(off)) else {
            continue;
        };
        if p == 0 || p % SEGMENT_SIZE != 0 {
            continue;
        }
        for pht in layout.handle_tables() {
            if mem.read_pointer(p.wrapping_add(pht)).ok() == Some(table) {
                return Some((p, pht));
            }
        }
    }
    None
}

fn read_table(mem: &dyn AddressSpace, table: u64, objects: &Objects, out: &mut Handles) {
    let layout = SegmentLayout::of(PointerSize::of(mem));
    let ptr = layout.ptr;
    let p = ptr.usize();
    let Some((mut seg, pht)) = first_segment(mem, &layout, table) else {
        out.unreadable += 1;
        return;
    };
    let mut n = 0;
    let mut header = vec![0u8; layout.header_bytes()];
    let block_bytes = layout.block_bytes() as usize;
    let mut values = vec![0u8; layout.handles() as usize * p];
    while seg != 0 && n < MAX_SEGMENTS {
        n += 1;
        if mem.read_virtual(seg, &mut header).is_err() {
            out.unreadable += 1;
            break;
        }
        // Blocks in use are in the dump (unless it is partial); unused
        // ones may not be.
        let mut missing = false;
        for b in 0..layout.blocks {
            let o = b * block_bytes;
            let unused = header[layout.block_type() + b] == 0xFF;
            if unused
                || mem
                    .read_virtual(
                        seg + SEG_HANDLES + o as u64,
                        &mut values[o..o + block_bytes],
                    )
                    .is_err()
            {
                missing |= !unused;
                values[o..o + block_bytes].fill(0);
            }
        }
        out.unreadable += u64::from(missing);
        out.segments.push(seg);
        let value = |h: u64| ptr.read(&values, h as usize * p);
        for b in 0..layout.blocks {
            let ty = header[layout.block_type() + b];
            if ty == 0xFF {
                continue;
            }
            let user = header[layout.user_data() + b];
            for h in (b as u64 * HANDLES_PER_BLOCK)..((b as u64 + 1) * HANDLES_PER_BLOCK) {
                let w = layout.free_mask() + 4 * (h / 32) as usize;
                let mask = u32::from_le_bytes(header[w..w + 4].try_into().unwrap());
                if mask >> (h % 32) & 1 != 0 {
                    continue;
                }
                let v = value(h);
                if v == 0 {
                    continue;
                }
                let Some(obj) = objects.find(v) else {
                    out.dangling += 1;
                    continue;
                };
                let obj = obj as u32;
                let location = seg + SEG_HANDLES + ptr.times(h);
                // Extra info (dependent secondary, ref count).
                let extra = || -> Option<u64> {
                    if user == 0xFF {
                        return None;
                    }
                    let at = seg
                        + SEG_HANDLES
                        + user as u64 * layout.block_bytes()
                        + ptr.times(h % HANDLES_PER_BLOCK);
                    mem.read_pointer(at).ok()
                };
                let kind = match ty {
                    HNDTYPE_WEAK_SHORT | HNDTYPE_WEAK_LONG | HNDTYPE_VARIABLE => {
                        Some(RootKind::WeakHandle)
                    }
                    HNDTYPE_STRONG => Some(RootKind::StrongHandle),
                    HNDTYPE_PINNED => Some(RootKind::PinnedHandle),
                    HNDTYPE_ASYNCPINNED => Some(RootKind::AsyncPinnedHandle),
                    HNDTYPE_SIZEDREF => Some(RootKind::SizedRefHandle),
                    HNDTYPE_REFCOUNTED => {
                        if extra().unwrap_or(0) as u32 > 0 {
                            Some(RootKind::RefCountedHandle)
                        } else {
                            Some(RootKind::WeakHandle)
                        }
                    }
                    HNDTYPE_DEPENDENT => {
                        if let Some(sec) = extra().and_then(|s| objects.find(s)) {
                            out.dependents.push(DependentEdge {
                                primary: obj,
                                secondary: sec as u32,
                            });
                        }
                        None
                    }
                    // Weak WinRT / native COM, weak interior pointers,
                    // cross-references: none keeps an object alive.
                    _ => Some(RootKind::WeakHandle),
                };
                if let Some(kind) = kind {
                    out.roots.push(FoundRoot {
                        object: obj,
                        kind,
                        location,
                        thread: None,
                        place: Place::Table,
                    });
                }
            }
        }
        let next = ptr.read(&header, (pht - ptr.bytes()) as usize);
        if next == seg || !next.is_multiple_of(SEGMENT_SIZE) {
            break;
        }
        seg = next;
    }
}

/// What the finalization queues hold (SOS `!finalizequeue`).
#[derive(Debug, Default)]
pub struct Finalization {
    /// The objects ready for finalization (f-reachable: the GC found them
    /// dead and queued them for the finalizer thread), which are roots:
    /// their finalizer has yet to run, so they and what they refer to stay
    /// alive.
    pub roots: Vec<FoundRoot>,
    /// Objects registered for finalization (their type has a finalizer and
    /// they have not been found dead yet): not roots; the entries of the
    /// generations' parts of the queues.
    pub registered: u64,
    /// Objects ready for finalization: the entries of the f-reachable
    /// parts (critical and normal), [`Finalization::roots`] plus those
    /// that point at no object.
    pub ready: u64,
    /// Entries of the f-reachable parts pointing at no object found on the
    /// heap.
    pub dangling: u64,
    /// Queues whose bookkeeping could not be read (or is out of order).
    pub unreadable: u64,
}

/// Reads the finalization queues `queues` (the heaps' `CFinalize`
/// records; `generation_count` is the GC's generations, 4, or 5 with the
/// pinned object heap). Only the objects ready for finalization are roots,
/// as the GC scans them (`CFinalize::GcScanRoots` from
/// `FinalizerStartSeg` to `FinalizerMaxSeg`); the registered ones are
/// counted, as SOS `!finalizequeue` counts them, and are alive only if
/// something else holds them. (An object that re-registers itself in its
/// finalizer, such as `Gen2GcCallback`, is f-reachable in a walk made
/// during a collection and registered again once its finalizer ran.)
pub fn finalizer_queue(
    mem: &dyn AddressSpace,
    queues: &[u64],
    generation_count: u64,
    objects: &Objects,
) -> Finalization {
    let ptr = PointerSize::of(mem);
    let mut out = Finalization::default();
    for &q in queues {
        let Some(parts) = queue_parts(mem, q, generation_count) else {
            out.unreadable += 1;
            continue;
        };
        out.registered += (parts.ready - parts.array) / ptr.bytes();
        out.ready += (parts.end - parts.ready) / ptr.bytes();
        // Nothing is reserved for what the dump does not hold.
        if !heaplens_memory::holds(mem, parts.ready, parts.end) {
            out.unreadable += 1;
            continue;
        }
        let mut buf = vec![0u8; (parts.end - parts.ready) as usize];
        if mem.read_virtual(parts.ready, &mut buf).is_err() {
            out.unreadable += 1;
            continue;
        }
        for (i, w) in buf.chunks_exact(ptr.usize()).enumerate() {
            let v = ptr.read(w, 0);
            match objects.find(v) {
                Some(o) => out.roots.push(FoundRoot {
                    object: o as u32,
                    kind: RootKind::Finalizer,
                    location: parts.ready + ptr.times(i as u64),
                    thread: None,
                    place: Place::Table,
                }),
                None => out.dangling += 1,
            }
        }
    }
    out
}

/// The finalization queues of `heaps` (their `CFinalize` records).
pub fn finalize_queues(heaps: &[GcHeap]) -> Vec<u64> {
    heaps
        .iter()
        .map(|h| h.finalize_queue)
        .filter(|&q| q != 0)
        .collect()
}

/// Most entries a finalization queue is read with (bounds the read).
pub(crate) const MAX_QUEUE_ENTRIES: u64 = 1 << 26;

/// The parts of a `CFinalize`'s array: `[array, ready)` the generations'
/// registered objects, `[ready, end)` the critical and normal f-reachable
/// ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QueueParts {
    /// `m_Array`.
    pub array: u64,
    /// The end of the generations' parts: `FP[generation_count − 1]`.
    pub ready: u64,
    /// The end of the f-reachable parts: `FP[generation_count + 1]`.
    pub end: u64,
}

/// The parts of the `CFinalize` at `q`: `m_FillPointers[generation_count +
/// 2]`, then `m_Array`, `m_EndArray` (docs/clr-heap-walk.md §5.3). Part
/// *i* is `[FP[i − 1], FP[i])` (`m_Array` for part 0): one per generation
/// (the oldest first), then the critical and the normal f-reachable
/// objects. `None` when unreadable or out of order.
pub(crate) fn queue_parts(
    mem: &dyn AddressSpace,
    q: u64,
    generation_count: u64,
) -> Option<QueueParts> {
    if q == 0 || generation_count == 0 || generation_count > 16 {
        return None;
    }
    let ptr = PointerSize::of(mem);
    let fill = generation_count + 2;
    let mut b = vec![0u8; ptr.usize() * (fill as usize + 1)];
    mem.read_virtual(q, &mut b).ok()?;
    let w = |i: u64| ptr.read(&b, ptr.usize() * i as usize);
    let array = w(fill);
    let mut prev = array;
    for i in 0..fill {
        let f = w(i);
        if f < prev || !ptr.aligned(f - array) {
            return None;
        }
        prev = f;
    }
    let parts = QueueParts {
        array,
        ready: w(generation_count - 1),
        end: w(fill - 1),
    };
    ((parts.end - parts.array) / ptr.bytes() <= MAX_QUEUE_ENTRIES).then_some(parts)
}

/// The entries `[m_Array, FP[last])` of the `CFinalize` at `q`: every
/// registered and f-reachable object ([`queue_parts`]).
pub(crate) fn queue_range(
    mem: &dyn AddressSpace,
    q: u64,
    generation_count: u64,
) -> Option<(u64, u64)> {
    queue_parts(mem, q, generation_count).map(|p| (p.array, p.end))
}

/// Most bytes of one thread's stack scanned.
const MAX_STACK: u64 = 64 << 20;

/// Memory known to be something other than a stack: the GC heap (its
/// segments' whole reservations, with regions the range they share), the
/// handle tables' segments and the pages holding MethodTables (the
/// runtime's loader heaps). A stack scan never reads it: where a dump
/// merges neighbouring mappings, a stack whose end is unknown would
/// otherwise run on into them and take heap words or weak handles for
/// stack roots.
#[derive(Debug, Clone, Default)]
pub struct NotStack {
    /// `[start, end)` ranges with what they are, sorted by start.
    ranges: Vec<(u64, u64, &'static str)>,
}

impl NotStack {
    /// The memory of `segments` (`gc_range`: the range regions share),
    /// the handle-table segments `handle_segments` and the MethodTables
    /// `method_tables`.
    pub fn new(
        mem: &dyn AddressSpace,
        segments: &[Segment],
        gc_range: Option<(u64, u64)>,
        handle_segments: &[u64],
        method_tables: &[u64],
    ) -> NotStack {
        let mut ranges = Vec::new();
        for s in segments {
            // The segment's record and everything it reserves.
            let (mut a, mut b) = (s.start, s.end);
            if let Ok(rec) = crate::heap::SegmentRecord::read(mem, s.record) {
                if rec.mem == s.start && rec.reserved >= b && rec.reserved - a <= 1 << 40 {
                    b = rec.reserved;
                    if s.record < a && a - s.record <= 0x1000 {
                        a = s.record;
                    }
                }
            }
            ranges.push((a, b, "the GC heap"));
        }
        if let Some((a, b)) = gc_range {
            ranges.push((a, b, "the GC heap"));
        }
        for &h in handle_segments {
            ranges.push((h, h + SEGMENT_SIZE, "a handle table"));
        }
        for &mt in method_tables {
            let page = mt & !0xFFF;
            ranges.push((page, page + 0x1000, "the runtime's type data"));
        }
        ranges.sort_unstable();
        NotStack { ranges }
    }

    /// Where a scan from `sp` to `end` must stop: the start of the first
    /// range of other memory in `[sp, end)`, with what it is.
    fn clip(&self, sp: u64, end: u64) -> Option<(u64, &'static str)> {
        // Ranges are sorted by start but may nest: look at those starting
        // before `end`, the ones holding `sp` included.
        self.ranges
            .iter()
            .take_while(|r| r.0 < end)
            .filter(|r| r.1 > sp)
            .map(|r| (r.0.max(sp), r.2))
            .min()
    }
}

/// How far the conservative scan of one thread's stack went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadScan {
    /// The OS thread id.
    pub thread: u32,
    /// The stack pointer: where the scan started.
    pub stack_pointer: u64,
    /// Where the scan ended.
    pub end: u64,
    /// True when the stack's end was known (the container recorded it, or
    /// it was found from the process: [`TargetThread::stack_end`]); false
    /// when the scan ran to the end of the memory block holding the stack
    /// pointer.
    pub bounded: bool,
    /// Where the scan stopped before that end at memory known to be
    /// something else, and what.
    pub clipped: Option<(u64, &'static str)>,
    /// Bytes of `[stack_pointer, end)` the dump does not hold.
    pub missing_bytes: u64,
}

/// What the conservative scan of the threads' stacks looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackScan {
    /// Every thread scanned.
    pub threads: Vec<ThreadScan>,
    /// Words found pointing at objects that only weak handles or dependent
    /// handles (as the secondary) hold, not taken as roots
    /// ([`drop_weakly_held`]).
    pub weakly_held_hits: u64,
}

impl StackScan {
    /// Threads whose stack's end was not known.
    pub fn unbounded(&self) -> impl Iterator<Item = &ThreadScan> {
        self.threads.iter().filter(|t| !t.bounded)
    }

    /// Bytes of the scanned ranges the dump does not hold.
    pub fn missing_bytes(&self) -> u64 {
        self.threads.iter().map(|t| t.missing_bytes).sum()
    }

    /// Notes in words: threads whose stack's end is unknown, scans stopped
    /// at other memory, stack bytes the dump lacks.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let unbounded: Vec<String> = self
            .unbounded()
            .map(|t| format!("{} ({:#x}..{:#x})", t.thread, t.stack_pointer, t.end))
            .collect();
        if !unbounded.is_empty() {
            notes.push(format!(
                "the end of {} thread stack(s) is not known (thread {}): each was scanned from its \
                 stack pointer to the end of the memory block holding it, stopping before the GC \
                 heap, handle tables and type data; stack roots found there may be stale words",
                unbounded.len(),
                unbounded.join(", ")
            ));
        }
        for t in self.threads.iter().filter(|t| t.bounded) {
            if let Some((at, what)) = t.clipped {
                notes.push(format!(
                    "the stack of thread {} reaches {what} at {at:#x}, before its end {:#x}: \
                     scanned up to there",
                    t.thread, t.end
                ));
            }
        }
        if self.weakly_held_hits > 0 {
            notes.push(format!(
                "{} word(s) on thread stacks point at objects only weak or dependent handles \
                 hold: not taken as roots (a conservative scan cannot tell a live slot from a \
                 stale one)",
                self.weakly_held_hits
            ));
        }
        let missing: Vec<String> = self
            .threads
            .iter()
            .filter(|t| t.missing_bytes > 0)
            .map(|t| format!("{} ({} bytes)", t.thread, t.missing_bytes))
            .collect();
        if !missing.is_empty() {
            notes.push(format!(
                "the dump lacks part of {} thread stack(s) (thread {}): roots there are not seen",
                missing.len(),
                missing.join(", ")
            ));
        }
        notes
    }
}

/// Drops the conservative roots (stack, thread-local storage, registers)
/// of objects that a weak handle or a dependent handle (as its secondary)
/// holds: a conservative scan cannot tell a live slot from a stale one,
/// and taking such a word for a root would make a weakly held object, or
/// a `ConditionalWeakTable` value, strongly held — what the runtime never
/// does for them unless a live slot holds them, which its precise walk
/// sees and a conservative scan cannot. Counted in `scan`.
pub fn drop_weakly_held(roots: &mut Vec<FoundRoot>, handles: &Handles, scan: &mut StackScan) {
    let mut weak: Vec<u32> = handles
        .roots
        .iter()
        .filter(|r| r.kind == RootKind::WeakHandle)
        .map(|r| r.object)
        .chain(handles.dependents.iter().map(|d| d.secondary))
        .collect();
    weak.sort_unstable();
    let before = roots.len();
    roots.retain(|r| r.kind != RootKind::Stack || weak.binary_search(&r.object).is_err());
    scan.weakly_held_hits += (before - roots.len()) as u64;
}

/// Conservative roots: every stack word, thread-local word and register
/// that points into an object (interior pointers resolve to the containing
/// object). Each thread's stack is scanned from its stack pointer to its
/// end ([`TargetThread::stack_end`]) or, when that is unknown, to the end
/// of the memory block holding it (at most 64 MB), then its thread-local
/// storage ([`TargetThread::thread_local`]); never into `not_stack`.
pub fn stacks(
    mem: &dyn AddressSpace,
    threads: &[TargetThread],
    segments: &[Segment],
    not_stack: &NotStack,
    objects: &Objects,
) -> (Vec<FoundRoot>, StackScan) {
    let in_heap = |v: u64| crate::heap::in_segments(segments, v);
    let ptr = PointerSize::of(mem);
    let mut roots = Vec::new();
    let mut scan = StackScan::default();
    let mut seen = std::collections::HashSet::new();
    let mut buf = Vec::new();
    for t in threads {
        let mut found = |v: u64, location: u64, place: Place| {
            if v == 0 || !in_heap(v) {
                return;
            }
            if let Some(o) = objects.containing(v) {
                if seen.insert((t.id, o)) {
                    roots.push(FoundRoot {
                        object: o as u32,
                        kind: RootKind::Stack,
                        location,
                        thread: Some(t.id),
                        place,
                    });
                }
            }
        };
        for &r in &t.registers {
            found(r, 0, Place::Register);
        }
        let sp = ptr.align_down(t.stack_pointer);
        let end = match t.stack_end {
            Some(end) => end,
            None => mem
                .region_at(sp)
                .map_or(sp, |r| r.start + r.data_size)
                .min(sp.saturating_add(MAX_STACK)),
        };
        let clipped = not_stack.clip(sp, end);
        let stop = clipped.map_or(end, |c| c.0);
        // The stack, then the thread-local storage outside it.
        let mut ranges = vec![(sp, stop, Place::Stack)];
        for &(a, b) in &t.thread_local {
            let (a, b) = (ptr.align_down(a), b);
            if b > a && (b <= sp || a >= stop) && b - a <= MAX_STACK {
                let b = not_stack.clip(a, b).map_or(b, |c| c.0);
                ranges.push((a, b, Place::ThreadLocal));
            }
        }
        let mut held = 0;
        for (start, stop, place) in ranges {
            for (a, b) in heaplens_memory::data_runs(mem, start, stop) {
                buf.resize((b - a) as usize, 0);
                if mem.read_virtual(a, &mut buf).is_err() {
                    continue;
                }
                if place == Place::Stack {
                    held += b - a;
                }
                for (i, w) in buf.chunks_exact(ptr.usize()).enumerate() {
                    found(ptr.read(w, 0), a + ptr.times(i as u64), place);
                }
            }
        }
        scan.threads.push(ThreadScan {
            thread: t.id,
            stack_pointer: sp,
            end,
            bounded: t.stack_end.is_some(),
            clipped,
            missing_bytes: stop.saturating_sub(sp) - held,
        });
    }
    (roots, scan)
}
