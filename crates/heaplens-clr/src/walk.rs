//! The linear walk of each segment's objects, and their references.

use crate::heap::Segment;
use crate::methodtable::{MethodTable, MIN_OBJECT_SIZE};
use heaplens_memory::AddressSpace;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// How much of a segment is read at once.
const CHUNK: usize = 1 << 20;

/// A hasher for addresses (already well spread in their middle bits).
#[derive(Default, Clone, Copy)]
pub struct AddrHasher(u64);

impl Hasher for AddrHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (n ^ (n >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A map keyed by address.
pub type AddrMap<V> = HashMap<u64, V, BuildHasherDefault<AddrHasher>>;

/// The MethodTables met on the heap, numbered in order of discovery.
#[derive(Debug, Default)]
pub struct MethodTables {
    /// Their addresses.
    pub addresses: Vec<u64>,
    /// What they say.
    pub tables: Vec<MethodTable>,
    index: AddrMap<Option<u32>>,
    /// The last answers, direct-mapped by address: objects of a few types
    /// dominate a heap, and this is cheaper than the hash table.
    recent: Vec<(u64, u32)>,
}

/// Entries of [`MethodTables`]' cache of recent answers (a power of two).
const RECENT: usize = 256;

impl MethodTables {
    /// The index of the MethodTable at `mt`, reading and checking it the
    /// first time; `None` when it is not a valid MethodTable.
    pub fn lookup(&mut self, mem: &dyn AddressSpace, mt: u64) -> Option<u32> {
        let slot = (mt >> 3) as usize & (RECENT - 1);
        if let Some(&(a, i)) = self.recent.get(slot) {
            if a == mt {
                return Some(i);
            }
        }
        let v = self.lookup_slow(mem, mt);
        if let Some(i) = v {
            if self.recent.is_empty() {
                self.recent = vec![(u64::MAX, 0); RECENT];
            }
            self.recent[slot] = (mt, i);
        }
        v
    }

    fn lookup_slow(&mut self, mem: &dyn AddressSpace, mt: u64) -> Option<u32> {
        if let Some(&v) = self.index.get(&mt) {
            return v;
        }
        let v = MethodTable::read(mem, mt).map(|t| {
            let i = self.tables.len() as u32;
            self.addresses.push(mt);
            self.tables.push(t);
            i
        });
        self.index.insert(mt, v);
        v
    }
}

/// Every object found, in address order.
#[derive(Debug, Default)]
pub struct Objects {
    /// Addresses, ascending.
    pub addresses: Vec<u64>,
    /// MethodTable index of each.
    pub types: Vec<u32>,
    /// Size of each (SOS's size: not rounded up).
    pub sizes: Vec<u64>,
    /// Index of the segment each object is in.
    pub segment: Vec<u32>,
}

impl Objects {
    /// The index of the object starting at `addr`.
    pub fn find(&self, addr: u64) -> Option<usize> {
        self.addresses.binary_search(&addr).ok()
    }

    /// The index of the object containing `addr` (an interior pointer).
    pub fn containing(&self, addr: u64) -> Option<usize> {
        let i = self.addresses.partition_point(|&a| a <= addr);
        let i = i.checked_sub(1)?;
        (addr < self.addresses[i] + self.sizes[i].max(8)).then_some(i)
    }
}

/// Finds objects by address faster than a binary search over all of them:
/// per segment, the first object of every 4 KiB page, so a lookup searches
/// only the objects of one page (a few dozen, next to each other in memory)
/// instead of millions spread over tens of megabytes. Costs 4 bytes per
/// page of heap.
#[derive(Debug, Clone, Default)]
pub struct AddressIndex {
    /// Per segment (by address): its start, end and first entry in `pages`.
    segments: Vec<(u64, u64, usize)>,
    /// Per page of each segment, and one past its last page: the index of
    /// the first object at or after the page's start.
    pages: Vec<u32>,
}

/// log2 of the page size of [`AddressIndex`].
const INDEX_PAGE_SHIFT: u32 = 12;

impl AddressIndex {
    /// Indexes `objects`, found in `segments` (both in address order).
    pub fn new(objects: &Objects, segments: &[Segment]) -> AddressIndex {
        let mut out = AddressIndex::default();
        let addrs = &objects.addresses;
        for seg in segments {
            let pages = ((seg.end.saturating_sub(seg.start)) >> INDEX_PAGE_SHIFT) + 1;
            out.segments.push((seg.start, seg.end, out.pages.len()));
            let mut i = addrs.partition_point(|&a| a < seg.start);
            for k in 0..=pages {
                let page = seg.start + (k << INDEX_PAGE_SHIFT);
                while i < addrs.len() && addrs[i] < page {
                    i += 1;
                }
                out.pages.push(i as u32);
            }
        }
        out
    }

    /// The index of the object starting at `addr` in `objects` (the same
    /// objects the index was built from).
    pub fn find(&self, objects: &Objects, addr: u64) -> Option<usize> {
        let s = self
            .segments
            .partition_point(|s| s.0 <= addr)
            .checked_sub(1)?;
        let (start, end, base) = self.segments[s];
        if addr >= end {
            return None;
        }
        let k = base + ((addr - start) >> INDEX_PAGE_SHIFT) as usize;
        let (lo, hi) = (self.pages[k] as usize, self.pages[k + 1] as usize);
        objects.addresses[lo..hi]
            .binary_search(&addr)
            .ok()
            .map(|j| lo + j)
    }
}

/// What went wrong in a segment's walk (the walk of that segment stops;
/// the others go on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkProblem {
    /// The segment.
    pub segment: u64,
    /// Where the walk stopped.
    pub addr: u64,
    /// Why.
    pub why: String,
    /// Bytes of the segment not walked.
    pub bytes_skipped: u64,
    /// The walk stopped at a MethodTable the dump does not hold (a dump
    /// without the runtime's loader heaps).
    pub type_data_missing: bool,
}

/// How [`WalkProblem::why`] says that a MethodTable is not in the dump.
const MISSING_TYPE_DATA: &str = "is not in the dump (the dump lacks the runtime's loader heaps";

/// A buffered view of one segment.
struct Window<'a> {
    mem: &'a dyn AddressSpace,
    buf: Vec<u8>,
    base: u64,
    len: usize,
    end: u64,
}

impl<'a> Window<'a> {
    fn new(mem: &'a dyn AddressSpace) -> Self {
        Window {
            mem,
            buf: vec![0; CHUNK],
            base: 0,
            len: 0,
            end: 0,
        }
    }

    fn reset(&mut self, end: u64) {
        self.len = 0;
        self.end = end;
    }

    /// Makes `[addr, addr + n)` available (n ≤ CHUNK).
    fn ensure(&mut self, addr: u64, n: usize) -> bool {
        if addr >= self.base && addr + n as u64 <= self.base + self.len as u64 {
            return true;
        }
        let want = ((self.end.saturating_sub(addr)) as usize).min(CHUNK).max(n);
        if self.mem.read_virtual(addr, &mut self.buf[..want]).is_ok() {
            self.base = addr;
            self.len = want;
            return true;
        }
        // Part of the chunk is missing: settle for what is needed.
        if self.mem.read_virtual(addr, &mut self.buf[..n]).is_ok() {
            self.base = addr;
            self.len = n;
            return true;
        }
        false
    }

    fn u64(&mut self, addr: u64) -> Option<u64> {
        if !self.ensure(addr, 8) {
            return None;
        }
        let o = (addr - self.base) as usize;
        Some(u64::from_le_bytes(self.buf[o..o + 8].try_into().ok()?))
    }

    fn u32(&mut self, addr: u64) -> Option<u32> {
        if !self.ensure(addr, 4) {
            return None;
        }
        let o = (addr - self.base) as usize;
        Some(u32::from_le_bytes(self.buf[o..o + 4].try_into().ok()?))
    }

    /// The bytes `[addr, addr + n)` when n ≤ CHUNK.
    fn bytes(&mut self, addr: u64, n: usize) -> Option<&[u8]> {
        if n > CHUNK || !self.ensure(addr, n) {
            return None;
        }
        let o = (addr - self.base) as usize;
        Some(&self.buf[o..o + n])
    }
}

fn align8(x: u64) -> u64 {
    (x + 7) & !7
}

/// Walks every segment. Calls `progress(bytes_done)` now and then; a
/// `false` from it stops the walk (cancel).
pub fn walk(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    contexts: &AddrMap<u64>,
    mts: &mut MethodTables,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Option<(Objects, Vec<WalkProblem>)> {
    let mut objects = Objects::default();
    let mut problems = Vec::new();
    let mut window = Window::new(mem);
    let mut done = 0u64;
    for (si, seg) in segments.iter().enumerate() {
        window.reset(seg.end);
        let mut pos = seg.start;
        let mut last_report = pos;
        let stop = |pos: u64, why: String, problems: &mut Vec<WalkProblem>| {
            problems.push(WalkProblem {
                segment: seg.record,
                addr: pos,
                type_data_missing: why.contains(MISSING_TYPE_DATA),
                why,
                bytes_skipped: seg.end - pos,
            });
        };
        while pos < seg.end {
            if pos - last_report >= 16 << 20 {
                done += pos - last_report;
                last_report = pos;
                if !progress(done) {
                    return None;
                }
            }
            let Some(word) = window.u64(pos) else {
                stop(pos, "memory not in the dump".into(), &mut problems);
                break;
            };
            let mt = word & !7;
            if mt == 0 {
                // A thread's allocation context: unformatted space up to
                // its limit, then the GC's minimum-object slack.
                if let Some(&limit) = contexts.get(&pos) {
                    let next = align8(limit + MIN_OBJECT_SIZE);
                    if next >= seg.end {
                        break;
                    }
                    let w = window.u64(next).unwrap_or(0) & !7;
                    if next > pos && mts.lookup(mem, w).is_some() {
                        pos = next;
                        continue;
                    }
                }
                // Otherwise zeros up to the next object.
                match skip_zeros(&mut window, pos, seg.end) {
                    Some(next) if next >= seg.end => break,
                    Some(next) => {
                        let w = window.u64(next).unwrap_or(0) & !7;
                        if mts.lookup(mem, w).is_some() {
                            pos = next;
                            continue;
                        }
                        stop(
                            next,
                            format!("after a zero gap, {}", not_a_method_table(mem, w)),
                            &mut problems,
                        );
                        break;
                    }
                    None => {
                        stop(pos, "memory not in the dump".into(), &mut problems);
                        break;
                    }
                }
            }
            let Some(t) = mts.lookup(mem, mt) else {
                stop(pos, not_a_method_table(mem, mt), &mut problems);
                break;
            };
            let info = &mts.tables[t as usize];
            let components = if info.component_size != 0 {
                match window.u32(pos + 8) {
                    Some(c) => c,
                    None => {
                        stop(pos, "memory not in the dump".into(), &mut problems);
                        break;
                    }
                }
            } else {
                0
            };
            let size = info.object_size(components);
            if pos + size > seg.end {
                stop(
                    pos,
                    format!("an object of {size} bytes runs past the segment's end"),
                    &mut problems,
                );
                break;
            }
            objects.addresses.push(pos);
            objects.types.push(t);
            objects.sizes.push(size);
            objects.segment.push(si as u32);
            pos += align8(size.max(MIN_OBJECT_SIZE));
        }
        done += seg.end.saturating_sub(last_report);
        if !progress(done) {
            return None;
        }
    }
    Some((objects, problems))
}

/// Why the walk cannot go on at a word that should be a MethodTable: it is
/// not one, or the dump does not hold its memory (a minidump of private
/// memory leaves out the loader heaps of .NET 7+, which are shared
/// mappings).
fn not_a_method_table(mem: &dyn AddressSpace, mt: u64) -> String {
    if mt != 0 && mem.read_u64(mt).is_err() {
        format!("the MethodTable {mt:#x} {MISSING_TYPE_DATA}; a full-memory dump holds them)")
    } else {
        format!("{mt:#x} is not a MethodTable")
    }
}

/// Finds the threads' allocation contexts (`gc_alloc_context`:
/// `alloc_ptr`, `alloc_limit`, …) without knowing where the runtime keeps
/// them (in `Thread` objects up to .NET 8, in thread-local storage since
/// .NET 9): one pass over the process's writable memory outside the GC heap
/// (all of it where the dump does not say what is writable), keeping every
/// pair of words `(p, l)` with `p` inside a small-object segment and
/// `p < l ≤` that segment's end. The walk uses a
/// pair only when the walk itself arrives at `p` and finds a valid object
/// after `l` — a stray match cannot make it skip objects.
pub fn allocation_contexts(mem: &dyn AddressSpace, segments: &[Segment]) -> AddrMap<u64> {
    let mut out = AddrMap::default();
    let small: Vec<&Segment> = segments
        .iter()
        .filter(|s| s.kind == crate::heap::SegmentKind::Small)
        .collect();
    // `segments` are sorted and disjoint (see [`crate::heap::segments`]).
    let (Some(lo), Some(hi)) = (small.first().map(|s| s.start), small.last().map(|s| s.end)) else {
        return out;
    };
    // A context is `{alloc_ptr, alloc_limit, alloc_bytes, alloc_bytes_uoh,
    // …}`: the two counters are byte counts, far below any address, which
    // tells a context from an array of heap pointers (handle tables, mark
    // lists).
    const PAIR: usize = 32;
    const COUNTER_LIMIT: u64 = 1 << 44;
    let span = hi - lo;
    let mut buf = vec![0u8; CHUNK + PAIR];
    for r in mem.regions() {
        let (start, end) = (r.start, r.start + r.data_size);
        let next_seg = segments.partition_point(|s| s.end <= start);
        if end <= start || segments.get(next_seg).is_some_and(|s| s.start < end) {
            continue;
        }
        // Allocation contexts live in writable memory (threads' native
        // records, the GC's generation table): code and read-only data,
        // most of a full dump, need not be read.
        if r.protection.is_some_and(|p| !p.write) {
            continue;
        }
        let mut pos = start & !7;
        while pos + PAIR as u64 <= end {
            let n = ((end - pos) as usize).min(CHUNK + PAIR) & !7;
            if mem.read_virtual(pos, &mut buf[..n]).is_err() {
                break;
            }
            let word = |i: usize| u64::from_le_bytes(buf[i..i + 8].try_into().unwrap_or([0; 8]));
            for i in (0..=n - PAIR).step_by(8) {
                let p = word(i);
                if p.wrapping_sub(lo) >= span || p % 8 != 0 {
                    continue;
                }
                let l = word(i + 8);
                if l <= p || word(i + 16) >= COUNTER_LIMIT || word(i + 24) >= COUNTER_LIMIT {
                    continue;
                }
                let i = small.partition_point(|s| s.start <= p);
                if i > 0 && p < small[i - 1].end && l <= small[i - 1].end {
                    let e = out.entry(p).or_insert(l);
                    *e = (*e).max(l);
                }
            }
            if n < CHUNK + PAIR {
                break;
            }
            pos += CHUNK as u64;
        }
    }
    out
}

/// The first non-zero word at or after `pos` (8-byte steps), or `end`.
fn skip_zeros(window: &mut Window<'_>, mut pos: u64, end: u64) -> Option<u64> {
    while pos < end {
        let n = ((end - pos) as usize).min(CHUNK);
        let bytes = window.bytes(pos, n)?;
        match bytes
            .chunks_exact(8)
            .position(|w| w.iter().any(|&b| b != 0))
        {
            Some(i) => return Some(pos + 8 * i as u64),
            None => pos += (n as u64) & !7,
        }
        if n < 8 {
            break;
        }
    }
    Some(end)
}

/// The references of every object, as object indices, CSR-style:
/// `(starts, targets)` where object `i`'s children are
/// `targets[starts[i]..starts[i + 1]]`. References to addresses that are
/// not object starts are counted in the third value, not kept.
pub fn references(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    objects: &Objects,
    mts: &MethodTables,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Option<(Vec<u32>, Vec<u32>, u64)> {
    let n = objects.addresses.len();
    let mut starts = Vec::with_capacity(n + 1);
    let mut targets: Vec<u32> = Vec::new();
    let mut invalid = 0u64;
    let mut window = Window::new(mem);
    let mut current_segment = u32::MAX;
    let mut big = Vec::new();
    let index = AddressIndex::new(objects, segments);
    starts.push(0u32);
    for i in 0..n {
        if i % (1 << 16) == 0 && !progress(i as u64) {
            return None;
        }
        let seg = objects.segment[i];
        if seg != current_segment {
            current_segment = seg;
            window.reset(segments[seg as usize].end);
        }
        let info = &mts.tables[objects.types[i] as usize];
        if let Some(desc) = &info.gcdesc {
            let addr = objects.addresses[i];
            let size = objects.sizes[i];
            let bytes: Option<&[u8]> = if size as usize <= CHUNK {
                window.bytes(addr, size as usize)
            } else {
                big.resize(size as usize, 0);
                mem.read_virtual(addr, &mut big).ok().map(|_| &big[..])
            };
            if let Some(bytes) = bytes {
                desc.for_each_slot(size, |o| {
                    let o = o as usize;
                    if o + 8 > bytes.len() {
                        return;
                    }
                    let v = u64::from_le_bytes(bytes[o..o + 8].try_into().unwrap_or([0; 8]));
                    if v == 0 {
                        return;
                    }
                    match index.find(objects, v) {
                        Some(j) => targets.push(j as u32),
                        None => invalid += 1,
                    }
                });
            }
        }
        starts.push(targets.len() as u32);
    }
    Some((starts, targets, invalid))
}
