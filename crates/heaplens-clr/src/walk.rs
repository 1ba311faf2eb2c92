//! The linear walk of each segment's objects, and their references.

use crate::background;
use crate::heap::{Segment, SegmentKind};
use crate::methodtable::{GcDesc, MethodTable};
use crate::width::{PointerSize, Word, W32, W64};
use heaplens_graph::{MemoryLimit, NodeColumns, PackedStarts};
use heaplens_memory::AddressSpace;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

pub mod runs;

/// How much of a segment is read at once.
const CHUNK: usize = 1 << 20;

/// Bytes of heap walked between two progress reports (a cancel is
/// noticed within them: milliseconds, in the browser too).
const REPORT_EVERY: u64 = 4 << 20;

/// What the open needs per object at its peak, in tenths of a byte: the
/// walk's arrays (node columns 6.2 — type, size, address offsets — and
/// packed first references 2.06; with the projected counts' room ahead,
/// [`Part::reserve_ahead`], and growth by an eighth, up to 1.125× that:
/// 9.2) and what the rest of the open keeps beside them (roots, names, the
/// graph's finishing, the statistics: 4.8, as fitted before to the page's
/// *measured* worker memory at 50 M objects): 14.0 in all, with
/// [`OPEN_PER_REFERENCE`] (a reference's word, 4 × 1.125). Checked
/// against the page's *measured* worker memory after the open (BENCHMARKS.md,
/// "the open's holes in wasm memory"): 658.5 MB on the realistic 25 M core
/// (32.3 M objects, this estimate 774 MB), 1,230.8 MB on the 50 M one
/// (60.8 M objects; 1,169 MB of the estimate beside 80 MB of caches) —
/// above both, as a refusal must be. Then the resolve's index (one bit
/// per heap word and a `u32` per 4 KiB page: [`OPEN_HEAP_DIVISOR`]).
/// docs/compact-graph.md §4–§5.
const OPEN_PER_OBJECT: u64 = 140;
/// See [`OPEN_PER_OBJECT`].
const OPEN_PER_REFERENCE: u64 = 45;
/// Heap bytes per byte of the resolve's address index.
const OPEN_HEAP_DIVISOR: u64 = 60;
/// Before the walk, the object count is not known, only that an object in
/// a segment of small objects is smaller than this (the GC puts objects of
/// 85,000 bytes and more on the large object heap): the need said before
/// the walk is the least the heap can need (mostly the resolve's index),
/// never a guess that could refuse a heap that fits. The walk then checks
/// its projection after each segment and every 64 MiB of heap.
const LARGEST_SMALL_OBJECT: u64 = 85_000;
/// Bytes of heap walked between two checks of the projected need.
const CHECK_EVERY: u64 = 64 << 20;

/// Bytes the open of a heap of `heap` bytes with `objects` objects and
/// `references` references needs at its peak (the walk's arrays, then the
/// resolve's index beside them).
pub fn open_need(objects: u64, references: u64, heap: u64) -> u64 {
    let tenths =
        objects as u128 * OPEN_PER_OBJECT as u128 + references as u128 * OPEN_PER_REFERENCE as u128;
    let bytes = tenths.div_ceil(10) + (heap / OPEN_HEAP_DIVISOR) as u128;
    bytes.min(u64::MAX as u128) as u64
}

/// A heap that does not fit in the memory the engine may use, found
/// before or during the walk: what was walked, what the open would need,
/// and what is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenOverBudget {
    /// Objects found so far (0: refused before the walk).
    pub objects: u64,
    /// References found so far.
    pub references: u64,
    /// Heap bytes walked so far.
    pub walked: u64,
    /// Heap bytes the dump holds.
    pub heap: u64,
    /// Bytes the open would need ([`open_need`] of the counts projected
    /// from what was walked to the whole heap; before the walk, of the
    /// fewest objects the heap can hold).
    pub needed: u64,
    /// Bytes that were left when the walk began.
    pub available: u64,
    /// The cap (`None`: no cap, the system refused an allocation).
    pub cap: Option<u64>,
    /// Bytes of an allocation that was refused, when that is what stopped
    /// the walk (the allocator, or the cap).
    pub refused: Option<u64>,
}

/// Megabytes (10^6 bytes), rounded up.
fn mb(bytes: u64) -> u64 {
    bytes.div_ceil(1_000_000)
}

impl std::fmt::Display for OpenOverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.walked == 0 && self.refused.is_none() {
            write!(
                f,
                "this heap ({} MB) does not fit in the memory this engine may use: opening it \
                 needs at least {} MB",
                mb(self.heap),
                mb(self.needed),
            )?;
        } else {
            write!(
                f,
                "this heap does not fit in the memory this engine may use: after {} of {} MB \
                 of heap ({} objects, {} references so far), opening it needs about {} MB",
                mb(self.walked),
                mb(self.heap),
                self.objects,
                self.references,
                mb(self.needed),
            )?;
            if let Some(r) = self.refused {
                write!(f, "; an allocation of {} MB was refused", mb(r))?;
            }
        }
        match self.cap {
            Some(cap) => write!(
                f,
                ", and {} MB were left of the {} MB it may use",
                mb(self.available),
                mb(cap)
            )?,
            None => write!(f, " (the system refused memory)")?,
        }
        write!(
            f,
            ". The command line reads it with the machine's memory (heaplens stats FILE)."
        )
    }
}

/// What the large and pinned object heaps' segments (objects of 85,000
/// bytes and more) gave so far, kept apart from the rest for the
/// projection ([`projected_need`]): one array of references there is not a
/// sample of the heap (a 400 MB `Widget[]` walked first holds 50 M
/// references in 6.5 % of a 6.1 GB heap, which projected by bytes to the
/// whole heap said 740 M references and refused a heap that fits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Large {
    /// Held bytes of those segments in the whole walk.
    total: u64,
    /// Their bytes walked so far.
    walked: u64,
    /// Their objects so far.
    objects: u64,
    /// Their references so far.
    references: u64,
}

/// [`open_need`] of the counts so far (`objects`, `references`, after
/// `walked` of the `heap` bytes) projected to the whole heap: those of the
/// segments of small objects scaled by their bytes still to walk, those of
/// the large and pinned object heaps (`large`) as they are (a few big
/// objects, which say nothing of the rest; if they are more than fits,
/// the arrays' fallible growth stops the walk).
///
/// Until the small-object segments walked are a sample ([`CHECK_EVERY`]
/// bytes, or a quarter of theirs when they hold less), their counts are
/// taken as they are too: a few objects in the first kilobytes projected
/// to the whole heap can say many times what it needs.
fn projected_need(objects: u64, references: u64, walked: u64, heap: u64, large: Large) -> u64 {
    let (objects, references) =
        projected_counts(objects, references, walked, heap, large).unwrap_or((objects, references));
    open_need(objects, references, heap)
}

/// The counts so far (`objects`, `references`, after `walked` of the
/// `heap` bytes; `large`: those of the large and pinned object heaps)
/// projected to the whole heap as [`projected_need`] projects them; `None`
/// until the small-object segments walked are a sample.
fn projected_counts(
    objects: u64,
    references: u64,
    walked: u64,
    heap: u64,
    large: Large,
) -> Option<(u64, u64)> {
    let small_walked = walked.saturating_sub(large.walked).max(1);
    let small_total = heap.saturating_sub(large.total).max(small_walked);
    if small_walked < CHECK_EVERY.min(small_total / 4) {
        return None;
    }
    let project = |all: u64, of_large: u64| {
        let small =
            all.saturating_sub(of_large) as u128 * small_total as u128 / small_walked as u128;
        (small + of_large.min(all) as u128).min(u64::MAX as u128) as u64
    };
    Some((
        project(objects, large.objects),
        project(references, large.references),
    ))
}

/// What stops a walk for memory after `walked` of the `heap` bytes,
/// projecting the counts so far (`objects`, `raw`'s references; `large`:
/// those of the large and pinned object heaps) to the whole heap
/// ([`projected_need`]) against what `limit` left when the walk began;
/// `refused`: the bytes of an allocation that was refused (then it stops
/// whatever the projection).
fn over_budget(
    objects: &Objects,
    raw: Option<&RawReferences>,
    heap: u64,
    limit: &Option<(MemoryLimit, u64)>,
    walked: u64,
    refused: Option<u64>,
    large: Large,
) -> Option<OpenOverBudget> {
    let objects = objects.len() as u64;
    let references = raw.map_or(0, |r| r.words.len() as u64);
    let needed = projected_need(objects, references, walked, heap, large);
    let (cap, available) = match limit {
        Some((l, available)) => (Some(l.cap), *available),
        None => (None, 0),
    };
    (refused.is_some() || (cap.is_some() && needed > available)).then_some(OpenOverBudget {
        objects,
        references,
        walked,
        heap,
        needed,
        available,
        cap,
        refused,
    })
}

/// Why a walk stopped before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalkStop {
    /// The progress callback said stop.
    Cancelled,
    /// The heap does not fit.
    OverBudget(Box<OpenOverBudget>),
    /// A walker of a run ([`runs`]) failed, or its result could not be
    /// joined: what went wrong.
    Walker(String),
}

/// Grows `v` so that `need` more fit: by an eighth of its length at least
/// ([`GROWTH`]), fallibly. Before asking the allocator, asks `limit` (when there is one)
/// whether the bytes are left under its cap. On refusal, the bytes asked.
#[inline]
fn grow_by<T>(
    v: &mut Vec<T>,
    need: usize,
    least: usize,
    limit: Option<&MemoryLimit>,
) -> Result<(), u64> {
    if v.capacity() - v.len() >= need {
        return Ok(());
    }
    grow_more(v, need, least, limit)
}

/// [`grow_by`] when `v` is full: out of the hot path.
#[cold]
#[inline(never)]
fn grow_more<T>(
    v: &mut Vec<T>,
    need: usize,
    least: usize,
    limit: Option<&MemoryLimit>,
) -> Result<(), u64> {
    let more = need.max(v.len() / GROWTH).max(least);
    let bytes = (more as u64).saturating_mul(std::mem::size_of::<T>() as u64);
    if limit.is_some_and(|l| bytes > l.available()) {
        return Err(bytes);
    }
    v.try_reserve_exact(more).map_err(|_| bytes)
}

/// Grows `starts` so that `need` more fit, as [`grow_by`] grows a vector
/// (2.0625 bytes per start, and a block of 64 at once).
#[inline]
pub(crate) fn grow_starts(
    starts: &mut PackedStarts,
    need: usize,
    least: usize,
    limit: Option<&MemoryLimit>,
) -> Result<(), u64> {
    if starts.spare() >= need {
        return Ok(());
    }
    grow_starts_more(starts, need, least, limit)
}

/// [`grow_starts`] when `starts` is full: out of the hot path.
#[cold]
#[inline(never)]
fn grow_starts_more(
    starts: &mut PackedStarts,
    need: usize,
    least: usize,
    limit: Option<&MemoryLimit>,
) -> Result<(), u64> {
    let more = need.max(starts.len() / GROWTH).max(least);
    let bytes = (more as u64).saturating_mul(33).div_ceil(16) + 33 * 4;
    if limit.is_some_and(|l| bytes > l.available()) {
        return Err(bytes);
    }
    starts.try_reserve(more).map_err(|_| bytes)
}

/// The walk's arrays grow by at least 1/`GROWTH` of their length when
/// full: an eighth, so that at the end of the walk — the open's peak — at
/// most an eighth of them is room never used (by half, a third of them
/// could be: 230 MB of the 935 MB the walk of a 32 M-object heap held).
/// Not by doubling: in wasm reserved memory is committed and never given
/// back. Natively a grown array is moved by the system without a copy
/// (`mremap`); in wasm an array at the top of the memory grows in place,
/// others are copied: more often than when grown by half (about 3.4 times
/// as many growths for the same final length), each copying the array.
const GROWTH: usize = 8;

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
    /// The address of the GC's free-space MethodTable, once the walk met it.
    pub fn free_address(&self) -> Option<u64> {
        self.tables
            .iter()
            .position(|t| t.is_free)
            .map(|i| self.addresses[i])
    }

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

    /// The index of the MethodTable at `mt`, already read as `table`
    /// (by another walk), adding it when new.
    fn adopt(&mut self, mt: u64, table: MethodTable) -> u32 {
        if let Some(&Some(i)) = self.index.get(&mt) {
            return i;
        }
        let i = self.tables.len() as u32;
        self.addresses.push(mt);
        self.tables.push(table);
        self.index.insert(mt, Some(i));
        i
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

/// Every object found, in address order: its address, MethodTable index
/// and size, kept in the heap graph's compact columns (2 bytes of type,
/// 2 of size, about 4 of address per object; see `heaplens-graph`), which
/// become the graph's nodes without a copy ([`Objects::into_columns`]).
#[derive(Debug, Default)]
pub struct Objects {
    columns: NodeColumns,
}

impl Objects {
    /// How many objects.
    #[inline]
    pub fn len(&self) -> usize {
        self.columns.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Appends the object at `address` (above every address so far) of
    /// MethodTable index `mt` and `size` bytes.
    #[inline]
    pub fn push(&mut self, address: u64, mt: u32, size: u64) {
        self.columns.push(mt, size, address);
    }

    /// Appends objects `range` of `other` (above every address so far),
    /// with each MethodTable index `t` replaced by `map(t)`.
    pub fn extend_from(
        &mut self,
        other: &Objects,
        range: std::ops::Range<usize>,
        map: impl FnMut(u32) -> u32,
    ) {
        self.columns.extend_from(&other.columns, range, map);
    }

    /// Room for `n` more objects.
    pub fn reserve(&mut self, n: usize) {
        self.columns.reserve(n);
    }

    /// Room for `need` more objects, growing by an eighth of the length at
    /// least, fallibly (as [`grow_by`]); on refusal, the bytes asked.
    #[inline]
    fn grow(&mut self, need: usize, limit: Option<&MemoryLimit>) -> Result<(), u64> {
        if self.columns.spare() >= need {
            return Ok(());
        }
        self.grow_more(need, limit)
    }

    /// [`Objects::grow`] when the columns are full: out of the hot path.
    #[cold]
    #[inline(never)]
    fn grow_more(&mut self, need: usize, limit: Option<&MemoryLimit>) -> Result<(), u64> {
        let more = need.max(self.len() / GROWTH).max(1 << 12);
        // 8.125 bytes per object, as the columns keep them.
        let bytes = (more as u64).saturating_mul(9);
        if limit.is_some_and(|l| bytes > l.available()) {
            return Err(bytes);
        }
        self.columns.try_reserve(more).map_err(|_| bytes)
    }

    /// The address of object `i`.
    #[inline]
    pub fn address(&self, i: usize) -> u64 {
        self.columns.address_at(i)
    }

    /// The MethodTable index of object `i`.
    #[inline]
    pub fn mt(&self, i: usize) -> u32 {
        self.columns.type_at(i)
    }

    /// The size of object `i` (SOS's size: not rounded up).
    #[inline]
    pub fn size(&self, i: usize) -> u64 {
        self.columns.size_at(i)
    }

    /// The addresses, in order.
    pub fn addresses(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.len()).map(|i| self.address(i))
    }

    /// How many objects start below `addr`.
    fn below(&self, addr: u64) -> usize {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.address(mid) < addr {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// The index of the object starting at `addr`.
    pub fn find(&self, addr: u64) -> Option<usize> {
        let i = self.below(addr);
        (i < self.len() && self.address(i) == addr).then_some(i)
    }

    /// The range of indices of the objects in `[start, end)`.
    pub fn in_range(&self, start: u64, end: u64) -> std::ops::Range<usize> {
        let a = self.below(start);
        a..self.below(end).max(a)
    }

    /// The index of the object containing `addr` (an interior pointer).
    pub fn containing(&self, addr: u64) -> Option<usize> {
        let i = match addr.checked_add(1) {
            Some(next) => self.below(next),
            None => self.len(),
        };
        let i = i.checked_sub(1)?;
        (addr < self.address(i) + self.size(i).max(8)).then_some(i)
    }

    /// Heap memory the objects take, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.columns.memory_bytes()
    }

    /// The columns, for the heap graph.
    pub fn into_columns(self) -> NodeColumns {
        self.columns
    }
}

/// Numbers the pointer-sized words of the segments one after another
/// (8 bytes in a 64-bit process, 4 in a 32-bit one: where objects may
/// start), each segment starting on a page of 512 words: a reference
/// becomes one number, and where objects start is a bitmap over those
/// numbers.
#[derive(Debug, Clone)]
pub struct HeapWords {
    /// Per segment (by address): its start, end and first word.
    spans: Vec<(u64, u64, u64)>,
    /// How many words (a multiple of 512).
    total: u64,
    /// log2 of the word's size.
    shift: u32,
    /// The segment of the last successful lookup (references cluster).
    last: std::cell::Cell<usize>,
}

impl Default for HeapWords {
    fn default() -> Self {
        HeapWords::empty(PointerSize::Eight)
    }
}

/// log2 of the words in a page of [`HeapWords`] (4 KiB).
const PAGE_WORDS_SHIFT: u32 = 9;

impl HeapWords {
    /// No words, of `ptr` bytes each.
    fn empty(ptr: PointerSize) -> HeapWords {
        HeapWords {
            spans: Vec::new(),
            total: 0,
            shift: ptr.bytes().trailing_zeros(),
            last: std::cell::Cell::new(0),
        }
    }

    /// Numbers the words of `ptr` bytes of the stretches `[start, end)` (in
    /// address order, disjoint).
    pub fn from_stretches(
        ptr: PointerSize,
        stretches: impl IntoIterator<Item = (u64, u64)>,
    ) -> HeapWords {
        let mut out = HeapWords::empty(ptr);
        for (start, end) in stretches {
            let words = end.saturating_sub(start).div_ceil(ptr.bytes());
            out.spans.push((start, end, out.total));
            out.total += words.div_ceil(1 << PAGE_WORDS_SHIFT) << PAGE_WORDS_SHIFT;
        }
        out
    }

    /// Numbers the words of `segments` (in address order, disjoint) that
    /// the dump holds: objects start only there, so a segment that claims
    /// more than the dump holds costs no more than what it holds.
    pub fn held(mem: &dyn AddressSpace, segments: &[Segment]) -> HeapWords {
        HeapWords::from_stretches(
            PointerSize::of(mem),
            segments
                .iter()
                .flat_map(|s| heaplens_memory::held_stretches(mem, s.start, s.end)),
        )
    }

    /// How many words are numbered.
    pub fn count(&self) -> u64 {
        self.total
    }

    /// The number of the pointer-aligned word at `addr`, when it lies in a
    /// segment.
    #[inline]
    pub fn word(&self, addr: u64) -> Option<u64> {
        let mut s = self.last.get();
        let &(start, end, _) = self.spans.get(s)?;
        if addr < start || addr >= end {
            s = self.spans.partition_point(|x| x.0 <= addr).checked_sub(1)?;
            if addr >= self.spans[s].1 {
                return None;
            }
            self.last.set(s);
        }
        let (start, _, first) = self.spans[s];
        let off = addr - start;
        (off & ((1 << self.shift) - 1) == 0).then_some(first + (off >> self.shift))
    }
}

/// Finds objects by address in constant time: one bit per word of
/// [`HeapWords`] saying whether an object starts there, and per page of
/// 512 words the index of its first object, so an object's index is that
/// count plus the bits set before it in its page (one cache line, no
/// search over the objects). Costs 68 bytes per 4 KiB of heap (1/60 of the
/// heap's size) while the references are resolved.
#[derive(Debug, Clone, Default)]
pub struct AddressIndex {
    words: HeapWords,
    /// Per page: which of its 512 words start an object.
    bits: Vec<[u64; 8]>,
    /// Per page: the index of the first object at or after its start.
    firsts: Vec<u32>,
}

impl AddressIndex {
    /// Indexes `objects` (in address order, pointer-aligned), numbered by
    /// `words` (an object outside its stretches is left out).
    pub fn new(objects: &Objects, words: HeapWords) -> AddressIndex {
        let pages = (words.count() >> PAGE_WORDS_SHIFT) as usize;
        let mut bits = vec![[0u64; 8]; pages];
        let mut firsts = vec![0u32; pages];
        let mut page = 0;
        for (i, addr) in objects.addresses().enumerate() {
            let Some(w) = words.word(addr) else { continue };
            let p = (w >> PAGE_WORDS_SHIFT) as usize;
            while page <= p {
                firsts[page] = i as u32;
                page += 1;
            }
            let k = (w & ((1 << PAGE_WORDS_SHIFT) - 1)) as usize;
            bits[p][k >> 6] |= 1 << (k & 63);
        }
        for f in &mut firsts[page.min(pages)..] {
            *f = objects.len() as u32;
        }
        AddressIndex {
            words,
            bits,
            firsts,
        }
    }

    /// The index of the object starting at `addr` in the objects the index
    /// was built from.
    #[inline]
    pub fn find(&self, addr: u64) -> Option<usize> {
        self.at_word(self.words.word(addr)?)
    }

    /// The index of the object starting at word `w` of the index's
    /// [`HeapWords`].
    #[inline]
    pub fn at_word(&self, w: u64) -> Option<usize> {
        let page = (w >> PAGE_WORDS_SHIFT) as usize;
        let bits = self.bits.get(page)?;
        let k = (w & ((1 << PAGE_WORDS_SHIFT) - 1)) as usize;
        let (i, b) = (k >> 6, k & 63);
        if bits[i] >> b & 1 == 0 {
            return None;
        }
        let before: u32 = bits[..i].iter().map(|x| x.count_ones()).sum::<u32>()
            + (bits[i] & ((1u64 << b) - 1)).count_ones();
        Some((self.firsts[page] + before) as usize)
    }
}

/// The references the walk read as it went, before they are resolved to
/// objects: per object (CSR, like the result of [`references`]) the
/// [`HeapWords`] number each points at.
#[derive(Debug, Default)]
pub struct RawReferences {
    /// The numbering of the words.
    numbering: HeapWords,
    /// Where each object's references begin in `words` (and the last
    /// one's end), packed as they are pushed: about 2 bytes per object.
    starts: PackedStarts,
    words: Vec<u32>,
    /// References to no word of any segment.
    invalid: u64,
}

impl RawReferences {
    /// How many references were read (to a word of a segment).
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when none were.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// True when these are the references of `objects` (one list each).
    pub fn covers(&self, objects: &Objects) -> bool {
        self.starts.len() == objects.len() + 1
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
            // Grows to the largest read (at most a chunk).
            buf: Vec::new(),
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
        let Some(end) = addr.checked_add(n as u64) else {
            return false;
        };
        if addr >= self.base && end <= self.base + self.len as u64 {
            return true;
        }
        let want = (self.end.saturating_sub(addr))
            .min(CHUNK as u64)
            .max(n as u64) as usize;
        if self.buf.len() < want {
            self.buf.resize(want, 0);
        }
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

    /// The pointer-sized word at `addr`.
    #[inline(always)]
    fn word<W: Word>(&mut self, addr: u64) -> Option<u64> {
        if !self.ensure(addr, W::BYTES as usize) {
            return None;
        }
        let o = (addr - self.base) as usize;
        Some(W::load(&self.buf[o..]))
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

/// What [`walk`] found.
#[derive(Debug)]
pub struct Walked {
    /// Every object, in address order.
    pub objects: Objects,
    /// Where segments' walks stopped early.
    pub problems: Vec<WalkProblem>,
    /// The references, read on the way when asked for and the heap's
    /// words can be numbered in 32 bits (heaps under 32 GiB): then
    /// [`references`] need not read the heap again.
    pub raw: Option<RawReferences>,
}

/// What one walk of some segments collects.
struct Part {
    objects: Objects,
    problems: Vec<WalkProblem>,
    raw: Option<RawReferences>,
    /// The segments walked, in the order walked.
    walked: Vec<usize>,
    /// The memory the open may use, and what was left when it began.
    limit: Option<(MemoryLimit, u64)>,
    /// Heap bytes the walk covers in all (for the projections).
    heap: u64,
    /// What the large and pinned object heaps gave (for the projections).
    large: Large,
    /// Why the walk stopped for memory, when it did.
    over: Option<OpenOverBudget>,
    /// When the walk only counts ([`tally`]): per MethodTable index, its
    /// objects and their bytes; then no object is kept in `objects` and no
    /// reference is read.
    tally: Option<Vec<TypeTally>>,
    /// Whether this part walks the whole heap it projects to (one walk, or
    /// one walker's run): then its arrays are given the room of the
    /// projected counts once they are a sample ([`Part::reserve_ahead`]).
    ahead: bool,
}

/// Heap bytes a walk that reserves ahead ([`Part::ahead`]) gives room for
/// before its counts are a sample: the room asked then is a guess, and
/// growing a large guess to the projection would hold both at once.
const FIRST_ROOM: u64 = 2 * CHECK_EVERY;

impl Part {
    /// Room for the objects of `heap` bytes (bytes the dump holds, never
    /// what it claims), and for their references, numbered by `words`,
    /// when `read_references`.
    /// With a `limit`, the room is asked for fallibly and within it (a
    /// refusal leaves the room to grow as the walk goes); `total`: the
    /// heap bytes of the whole walk, for its projections.
    fn new(
        heap: u64,
        words: &HeapWords,
        read_references: bool,
        limit: Option<MemoryLimit>,
        total: u64,
    ) -> Part {
        // Room for objects of 64 bytes on average and two references each
        // (heaps average 30 to 100 bytes, one to three references): the
        // arrays grow by an eighth from there ([`GROWTH`]). Room never
        // used is memory held at the open's peak (in wasm32 reserved
        // memory is committed memory), so the guess is low rather than
        // high.
        const AVERAGE: u64 = 64;
        let expect = (heap / AVERAGE).min(1 << 26) as usize;
        let limit = limit.map(|l| (l, l.available()));
        let within = limit.as_ref().map(|(l, _)| l);
        let mut objects = Objects::default();
        // Room asked for fallibly: a refusal leaves the walk to grow the
        // arrays as it goes (and to stop with numbers if they cannot).
        let _ = objects.grow(expect, within);
        let raw = read_references.then(|| {
            let mut r = RawReferences {
                numbering: words.clone(),
                starts: PackedStarts::new(),
                words: Vec::new(),
                invalid: 0,
            };
            let _ = grow_starts(&mut r.starts, expect + 1, 1, within);
            let _ = grow_by(&mut r.words, expect.saturating_mul(2), 1, within);
            r.starts.push(0);
            r
        });
        Part {
            objects,
            problems: Vec::new(),
            raw,
            walked: Vec::new(),
            limit,
            heap: total,
            large: Large::default(),
            over: None,
            tally: None,
            ahead: false,
        }
    }

    /// A part that walks the whole of `heap` (one walk, or one walker's
    /// run): room for its first [`FIRST_ROOM`] bytes, then, once its counts
    /// are a sample, for the projected counts ([`Part::reserve_ahead`]).
    fn whole(
        heap: u64,
        words: &HeapWords,
        read_references: bool,
        limit: Option<MemoryLimit>,
    ) -> Part {
        let mut part = Part::new(heap.min(FIRST_ROOM), words, read_references, limit, heap);
        part.ahead = true;
        part
    }

    /// Gives the arrays room for the counts so far (`walked` of the heap's
    /// bytes, `large`: those of the large and pinned object heaps)
    /// projected to the whole heap, and a 32nd more, when they are a sample
    /// and the room is short of that by more than a 32nd: one copy of the
    /// arrays while they are small, instead of growths by an eighth as
    /// they become large (each holding the old and the new array at once,
    /// in wasm). Room beyond the projection is not taken back; a heap that
    /// holds more than projected grows its arrays as usual. Fallible and
    /// within the limit: a refusal leaves the arrays as they are. False
    /// when the counts are not a sample yet (nothing was done).
    fn reserve_ahead(
        objects: &mut Objects,
        raw: Option<&mut RawReferences>,
        heap: u64,
        walked: u64,
        large: Large,
        limit: Option<&MemoryLimit>,
    ) -> bool {
        let references = raw.as_ref().map_or(0, |r| r.words.len() as u64);
        let Some((n, r)) = projected_counts(objects.len() as u64, references, walked, heap, large)
        else {
            return false;
        };
        let with_margin = |c: u64| usize::try_from(c + c / 32).unwrap_or(usize::MAX);
        // The entries more than `len` to ask for, when the array's room
        // (`len` + `room`) is short of `want` by more than a 32nd.
        let short = |want: usize, len: usize, room: usize| {
            let have = len + room;
            (want > have + have / 32).then(|| want - len)
        };
        let n = with_margin(n);
        if let Some(more) = short(n, objects.len(), objects.columns.spare()) {
            let _ = objects.grow(more, limit);
        }
        if let Some(raw) = raw {
            if let Some(more) = short(n, raw.starts.len(), raw.starts.spare()) {
                let _ = grow_starts(&mut raw.starts, more, 1, limit);
            }
            let words_room = raw.words.capacity() - raw.words.len();
            if let Some(more) = short(with_margin(r), raw.words.len(), words_room) {
                let _ = grow_by(&mut raw.words, more, 1, limit);
            }
        }
        true
    }

    /// [`Part::reserve_ahead`] once the walk is `at` bytes in (`done`);
    /// then `at` moves [`CHECK_EVERY`] bytes on, unless the counts were no
    /// sample yet (the next segment checks again).
    fn ahead_due(
        objects: &mut Objects,
        raw: Option<&mut RawReferences>,
        heap: u64,
        done: u64,
        large: Large,
        limit: Option<&MemoryLimit>,
        at: &mut u64,
    ) {
        if done >= *at && Part::reserve_ahead(objects, raw, heap, done, large, limit) {
            *at = done + CHECK_EVERY;
        }
    }

    /// A part that only counts ([`tally`]): no room for objects or
    /// references, nothing kept per object.
    fn counting(total: u64) -> Part {
        Part {
            objects: Objects::default(),
            problems: Vec::new(),
            raw: None,
            walked: Vec::new(),
            limit: None,
            heap: total,
            large: Large::default(),
            over: None,
            tally: Some(Vec::new()),
            ahead: false,
        }
    }

    /// What stops the walk for memory after `walked` of the heap's bytes
    /// ([`over_budget`]).
    fn over_budget(&self, walked: u64, refused: Option<u64>) -> Option<OpenOverBudget> {
        over_budget(
            &self.objects,
            self.raw.as_ref(),
            self.heap,
            &self.limit,
            walked,
            refused,
            self.large,
        )
    }

    /// Walks the segments `next` hands out (indices into `segments`, which
    /// `words` numbers) until it hands out none, calling
    /// `progress(bytes_done)` now and then; false when `progress` said stop.
    /// Objects are read with words of `W` (the process's pointer size).
    #[allow(clippy::too_many_arguments)]
    fn walk<W: Word>(
        &mut self,
        mem: &dyn AddressSpace,
        segments: &[Segment],
        next: &mut dyn FnMut() -> Option<usize>,
        contexts: &AddrMap<u64>,
        mts: &mut MethodTables,
        words: &HeapWords,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> bool {
        let mut far = None;
        let mut window = Window::new(mem);
        let mut done = 0u64;
        let mut checked = 0u64;
        let mut ahead_at = CHECK_EVERY;
        let limit = self.limit.map(|(l, _)| l);
        while let Some(index) = next() {
            if let Some(over) = self.over_budget(done, None).filter(|_| done > 0) {
                self.over = Some(over);
                return false;
            }
            let Part {
                objects,
                problems,
                raw,
                walked,
                limit: budget,
                heap,
                large: large_so_far,
                over: stopped_for_memory,
                tally,
                ahead,
            } = &mut *self;
            // Room for the projected counts: before each segment until the
            // counts are a sample (the large object heap's bytes, walked
            // first in some heaps, are none), then once [`CHECK_EVERY`]
            // bytes more were walked; inside a long segment too (below).
            if *ahead {
                let limit = budget.as_ref().map(|(l, _)| l);
                let large = *large_so_far;
                Part::ahead_due(
                    objects,
                    raw.as_mut(),
                    *heap,
                    done,
                    large,
                    limit,
                    &mut ahead_at,
                );
            }
            let heap = *heap;
            let Some(seg) = segments.get(index) else {
                break;
            };
            walked.push(index);
            window.reset(seg.end);
            let mut pos = seg.start;
            let mut last_report = pos;
            // Objects of the large and pinned object heaps are 8-aligned
            // on 32-bit too.
            let large = matches!(seg.kind, SegmentKind::Large | SegmentKind::Pinned);
            // The counts at the segment's start: in a large one, what it
            // adds counts as large ([`projected_need`]).
            let start = (
                done,
                objects.len() as u64,
                raw.as_ref().map_or(0, |r| r.words.len() as u64),
            );
            let with_this = |done: u64, objects: &Objects, raw: Option<&RawReferences>| {
                let mut l = *large_so_far;
                if large {
                    l.walked += done - start.0;
                    l.objects += objects.len() as u64 - start.1;
                    l.references += raw.map_or(0, |r| r.words.len() as u64) - start.2;
                }
                l
            };
            let min_object = W::SIZE.min_object_size();
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
                if pos - last_report >= REPORT_EVERY {
                    done += pos - last_report;
                    last_report = pos;
                    if !progress(done) {
                        return false;
                    }
                    if done - checked >= CHECK_EVERY {
                        checked = done;
                        let l = with_this(done, objects, raw.as_ref());
                        if *ahead {
                            let limit = budget.as_ref().map(|(l, _)| l);
                            let due = &mut ahead_at;
                            Part::ahead_due(objects, raw.as_mut(), heap, done, l, limit, due);
                        }
                        let over = over_budget(objects, raw.as_ref(), heap, budget, done, None, l);
                        if let Some(over) = over {
                            *stopped_for_memory = Some(over);
                            return false;
                        }
                    }
                }

                let Some(word) = window.word::<W>(pos) else {
                    stop(pos, "memory not in the dump".into(), problems);
                    break;
                };
                let mt = word & !W::TAG;
                if mt == 0 {
                    // A thread's allocation context: unformatted space up
                    // to its limit, then the GC's minimum-object slack.
                    if let Some(&limit) = contexts.get(&pos) {
                        let next = W::SIZE.object_extent(limit + min_object, false);
                        if next >= seg.end {
                            break;
                        }
                        let w = window.word::<W>(next).unwrap_or(0) & !W::TAG;
                        if next > pos && mts.lookup(mem, w).is_some() {
                            pos = next;
                            continue;
                        }
                    }
                    // Otherwise zeros up to the next object: its
                    // MethodTable, or its header (a sync block index, a
                    // hash code) and then its MethodTable.
                    match skip_zeros::<W>(&mut window, pos, seg.end) {
                        Some(next) if next >= seg.end => break,
                        Some(next) => {
                            let w = window.word::<W>(next).unwrap_or(0) & !W::TAG;
                            if mts.lookup(mem, w).is_some() {
                                pos = next;
                                continue;
                            }
                            let after = next + W::BYTES;
                            let at_after = window.word::<W>(after).map(|v| v & !W::TAG);
                            if after < seg.end
                                && at_after.is_some_and(|m| mts.lookup(mem, m).is_some())
                            {
                                pos = after;
                                continue;
                            }
                            stop(
                                next,
                                format!("after a zero gap, {}", not_a_method_table(mem, w)),
                                problems,
                            );
                            break;
                        }
                        None => {
                            stop(pos, "memory not in the dump".into(), problems);
                            break;
                        }
                    }
                }
                let Some(t) = mts.lookup(mem, mt) else {
                    stop(pos, not_a_method_table(mem, mt), problems);
                    break;
                };
                let info = &mts.tables[t as usize];
                let components = if info.component_size != 0 {
                    match window.u32(pos + W::SIZE.length_offset()) {
                        Some(c) => c,
                        None => {
                            stop(pos, "memory not in the dump".into(), problems);
                            break;
                        }
                    }
                } else {
                    0
                };
                let size = info.object_size(components);
                if pos.checked_add(size).is_none_or(|end| end > seg.end) {
                    stop(
                        pos,
                        format!("an object of {size} bytes runs past the segment's end"),
                        problems,
                    );
                    break;
                }
                // Counting only: the object's type gets it, nothing else
                // is kept.
                if let Some(tally) = tally.as_mut() {
                    let k = t as usize;
                    if tally.len() <= k {
                        tally.resize(k + 1, TypeTally::default());
                    }
                    tally[k].objects += 1;
                    tally[k].bytes += size;
                    pos += W::SIZE.object_extent(size, large);
                    continue;
                }
                // Room for the object and its references (at most one per
                // word), asked for fallibly: a refusal stops the walk with
                // numbers, never an abort.
                let room = objects
                    .grow(1, limit.as_ref())
                    .and_then(|()| match raw.as_mut() {
                        Some(r) => {
                            grow_starts(&mut r.starts, 1, 1 << 12, limit.as_ref()).and_then(|()| {
                                let most = if info.gcdesc.is_some() {
                                    (size / W::BYTES) as usize
                                } else {
                                    0
                                };
                                grow_by(&mut r.words, most, 1 << 13, limit.as_ref())
                            })
                        }
                        None => Ok(()),
                    });
                if let Err(bytes) = room {
                    let walked = done + (pos - last_report);
                    let l = with_this(walked, objects, raw.as_ref());
                    *stopped_for_memory =
                        over_budget(objects, raw.as_ref(), heap, budget, walked, Some(bytes), l);
                    return false;
                }
                objects.push(pos, t, size);
                if let Some(r) = raw.as_mut() {
                    if let Some(desc) = &info.gcdesc {
                        for_each_reference_at::<W>(&mut window, &mut far, desc, pos, size, |v| {
                            match words.word(v) {
                                Some(w) => r.words.push(w as u32),
                                None => r.invalid += 1,
                            }
                        });
                    }
                    r.starts.push(r.words.len() as u32);
                }
                pos += W::SIZE.object_extent(size, large);
            }
            done += seg.end.saturating_sub(last_report);
            *large_so_far = with_this(done, objects, raw.as_ref());
            if !progress(done) {
                return false;
            }
        }
        true
    }

    /// [`Part::walk_sized`] over the segments `next` gives, with the
    /// dump's own pointer size: why it stopped, when it did.
    #[allow(clippy::too_many_arguments)]
    fn walk_segments(
        &mut self,
        mem: &dyn AddressSpace,
        segments: &[Segment],
        next: &mut dyn FnMut() -> Option<usize>,
        contexts: &AddrMap<u64>,
        mts: &mut MethodTables,
        words: &HeapWords,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<(), WalkStop> {
        let ptr = PointerSize::of(mem);
        if self.walk_sized(ptr, mem, segments, next, contexts, mts, words, progress) {
            Ok(())
        } else {
            Err(stop_reason(self))
        }
    }

    /// [`Part::walk`] with words of `ptr` bytes.
    #[allow(clippy::too_many_arguments)]
    fn walk_sized(
        &mut self,
        ptr: PointerSize,
        mem: &dyn AddressSpace,
        segments: &[Segment],
        next: &mut dyn FnMut() -> Option<usize>,
        contexts: &AddrMap<u64>,
        mts: &mut MethodTables,
        words: &HeapWords,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> bool {
        match ptr {
            PointerSize::Four => {
                self.walk::<W32>(mem, segments, next, contexts, mts, words, progress)
            }
            PointerSize::Eight => {
                self.walk::<W64>(mem, segments, next, contexts, mts, words, progress)
            }
        }
    }

    /// Adopts into `mts` (this part's) the MethodTables `later_mts`
    /// numbers, those of a walk of segments after this one's (taken in
    /// address order, as this one's were), in the order that walk met them
    /// — which is the order one walk of both would have met them, the
    /// MethodTables this part already knows aside: what each of its
    /// numbers becomes, for [`Part::append`].
    fn adopt(later_mts: MethodTables, mts: &mut MethodTables) -> Vec<u32> {
        // `later_mts` numbers its tables in the order `later`'s walk met
        // them, including those read where a walk stopped, with no object.
        later_mts
            .tables
            .into_iter()
            .zip(&later_mts.addresses)
            .map(|(table, &mt)| mts.adopt(mt, table))
            .collect()
    }

    /// Appends `later`, the walk of segments after this one's, whose types
    /// [`Part::adopt`] renumbered (`renumber`), and drops it: its objects,
    /// references and problems.
    fn append(&mut self, later: Part, renumber: &[u32]) {
        debug_assert!(later.walked.windows(2).all(|w| w[0] < w[1]));
        let Part {
            objects,
            problems,
            raw,
            ..
        } = self;
        let n = later.objects.len();
        objects.extend_from(&later.objects, 0..n, |t| renumber[t as usize]);
        problems.extend_from_slice(&later.problems);
        match (raw.as_mut(), later.raw.as_ref()) {
            (Some(mine), Some(theirs)) => {
                let base = mine.words.len() as u32;
                mine.starts.append_rebased(&theirs.starts, base);
                mine.words.extend_from_slice(&theirs.words);
                mine.invalid += theirs.invalid;
            }
            _ => *raw = None,
        }
    }
}

/// Heap bytes of one piece of a thread's run in [`walk_parallel`] unless
/// told otherwise ([`crate::ReadOptions::walk_piece`]): each piece's
/// objects and references are copied into the first run's as one part,
/// then freed.
const PIECE: u64 = 128 << 20;

/// `bytes` (of consecutive segments) split into `n` runs of consecutive
/// segments of about equal sums: each run, in turn, ends where its sum
/// comes nearest to an equal share of what is left for it and the runs
/// after it, and holds at least one segment while there are as many
/// segments left as runs. Runs are empty only when there are fewer
/// segments than runs.
fn split_by_bytes(bytes: &[u64], n: usize) -> Vec<std::ops::Range<usize>> {
    let n = n.max(1);
    let len = bytes.len();
    // `sums[i]`: the bytes before segment `i`.
    let mut sums = Vec::with_capacity(len + 1);
    sums.push(0u128);
    for &b in bytes {
        sums.push(sums[sums.len() - 1] + b as u128);
    }
    let mut runs = Vec::with_capacity(n);
    let mut start = 0;
    for k in 0..n {
        let left = n - k;
        let end = if left == 1 {
            len
        } else {
            let target = sums[start] + (sums[len] - sums[start]) / left as u128;
            // The first end at or past the target, or the one before it,
            // whichever is nearer.
            let i = sums.partition_point(|&s| s < target).clamp(start, len);
            let nearer = if i > start && target - sums[i - 1] < sums[i] - target {
                i - 1
            } else {
                i
            };
            if len - start >= left {
                nearer.clamp(start + 1, len - (left - 1))
            } else {
                nearer
            }
        };
        runs.push(start..end);
        start = end;
    }
    runs
}

/// Bytes of `segments` the dump holds.
fn held_bytes<'a>(mem: &dyn AddressSpace, segments: impl IntoIterator<Item = &'a Segment>) -> u64 {
    segments
        .into_iter()
        .flat_map(|s| heaplens_memory::data_runs(mem, s.start, s.end))
        .map(|(a, b)| b - a)
        .sum()
}

/// Whether references can be read during the walk of `segments`: asked
/// for, and the heap's words numbered in 32 bits.
fn references_on_the_way(words: &HeapWords, read_references: bool) -> bool {
    read_references && words.count() <= u32::MAX as u64
}

/// Bytes the open of `segments` needs at the least, before the walk: the
/// fewest objects the segments of small objects can hold (each under
/// [`LARGEST_SMALL_OBJECT`] bytes), no references, and the resolve's index
/// of the whole heap ([`open_need`]).
/// When that does not fit in what `limit` leaves, the walk is refused
/// before it reads the heap.
fn before_the_walk(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    heap: u64,
    limit: Option<&MemoryLimit>,
) -> Result<(), WalkStop> {
    let Some(limit) = limit else {
        return Ok(());
    };
    let small: Vec<Segment> = segments
        .iter()
        .filter(|s| s.kind == SegmentKind::Small)
        .cloned()
        .collect();
    let needed = open_need(held_bytes(mem, &small) / LARGEST_SMALL_OBJECT, 0, heap);
    let available = limit.available();
    if needed <= available {
        return Ok(());
    }
    Err(WalkStop::OverBudget(Box::new(OpenOverBudget {
        objects: 0,
        references: 0,
        walked: 0,
        heap,
        needed,
        available,
        cap: Some(limit.cap),
        refused: None,
    })))
}

/// Why `part`'s walk stopped.
fn stop_reason(part: &mut Part) -> WalkStop {
    match part.over.take() {
        Some(over) => WalkStop::OverBudget(Box::new(over)),
        None => WalkStop::Cancelled,
    }
}

/// Walks every segment; with `read_references`, reads each object's
/// references on the way too (see [`Walked::raw`]), so that the heap is
/// read once. Calls `progress(bytes_done)` now and then; a `false` from it
/// stops the walk (cancel). With a `limit`, the need of the open is
/// checked before the walk ([`before_the_walk`]) and, projected from what
/// was walked, after each segment and every 64 MiB of heap; the arrays
/// grow fallibly and within it. A heap that does not fit stops the walk
/// with [`WalkStop::OverBudget`], never an abort.
pub fn walk(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    contexts: &AddrMap<u64>,
    mts: &mut MethodTables,
    read_references: bool,
    limit: Option<MemoryLimit>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Walked, WalkStop> {
    let words = HeapWords::held(mem, segments);
    let heap = held_bytes(mem, segments);
    before_the_walk(mem, segments, heap, limit.as_ref())?;
    let mut part = Part::whole(
        heap,
        &words,
        references_on_the_way(&words, read_references),
        limit,
    );
    part.large.total = held_bytes(
        mem,
        segments
            .iter()
            .filter(|s| matches!(s.kind, SegmentKind::Large | SegmentKind::Pinned)),
    );
    let mut all = 0..segments.len();
    part.walk_segments(
        mem,
        segments,
        &mut || all.next(),
        contexts,
        mts,
        &words,
        progress,
    )?;
    Ok(Walked {
        objects: part.objects,
        problems: part.problems,
        raw: part.raw,
    })
}

/// The objects of one MethodTable that [`tally`] walked: how many, and
/// their bytes (SOS's sizes, as [`Objects::size`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TypeTally {
    /// Objects.
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// What [`tally`] found.
#[derive(Debug)]
pub struct Tallied {
    /// Per MethodTable index (of the walk's [`MethodTables`]): its objects
    /// and bytes; a MethodTable read with no object walked (one where a
    /// walk stopped) has none, and the last ones may have no entry.
    pub types: Vec<TypeTally>,
    /// Where segments' walks stopped early.
    pub problems: Vec<WalkProblem>,
}

impl Tallied {
    /// Heap memory the counts take, in bytes: one entry per MethodTable,
    /// whatever the number of objects.
    pub fn memory_bytes(&self) -> usize {
        self.types.capacity() * std::mem::size_of::<TypeTally>()
    }
}

/// The walk of [`walk`] that only counts: every object of every segment,
/// its type and size, added to its MethodTable's [`TypeTally`] — no
/// object kept, no reference read. Its memory is one entry per
/// MethodTable (and the window it reads through), whatever the number of
/// objects; the walk's objects, sizes and stops are [`walk`]'s. Calls
/// `progress(bytes_done)` now and then; a `false` from it stops the walk
/// ([`WalkStop::Cancelled`]).
pub fn tally(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    contexts: &AddrMap<u64>,
    mts: &mut MethodTables,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Tallied, WalkStop> {
    let words = HeapWords::from_stretches(PointerSize::of(mem), Vec::new());
    let mut part = Part::counting(held_bytes(mem, segments));
    let mut all = 0..segments.len();
    part.walk_segments(
        mem,
        segments,
        &mut || all.next(),
        contexts,
        mts,
        &words,
        progress,
    )?;
    Ok(Tallied {
        types: part.tally.unwrap_or_default(),
        problems: part.problems,
    })
}

/// [`walk`] on `threads` threads: the segments are split into as many runs
/// of consecutive segments, about as many bytes each
/// ([`split_by_bytes`]); each thread walks one run in address order, the
/// calling thread the first; the results are joined in address order as
/// one walk would have given them (the same objects, the same references,
/// MethodTables numbered in the order one walk meets them). Each thread
/// but the first walks its run in pieces of about `piece` heap bytes
/// (`None`: [`PIECE`]), kept until joined: the first run's columns take
/// them in one by one, each piece freed once copied. Needs
/// memory that threads can share; falls back to [`walk`] with one thread
/// or one segment or a memory `limit` (a cap is the browser's, where there
/// are no threads), and walks on this thread what no thread can be
/// started for.
#[allow(clippy::too_many_arguments)]
pub fn walk_parallel(
    mem: &(dyn AddressSpace + Sync),
    segments: &[Segment],
    contexts: &AddrMap<u64>,
    mts: &mut MethodTables,
    read_references: bool,
    (threads, piece): (usize, Option<std::num::NonZeroU64>),
    limit: Option<MemoryLimit>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Walked, WalkStop> {
    let piece = piece.map_or(PIECE, |p| p.get());
    let threads = threads.min(segments.len());
    if cfg!(target_arch = "wasm32") || threads < 2 || limit.is_some() {
        return walk(
            mem,
            segments,
            contexts,
            mts,
            read_references,
            limit,
            progress,
        );
    }
    let sizes: Vec<u64> = segments
        .iter()
        .map(|s| held_bytes(mem, std::slice::from_ref(s)))
        .collect();
    let heap: u64 = sizes.iter().sum();
    let words = HeapWords::held(mem, segments);
    let on_the_way = references_on_the_way(&words, read_references);
    let ptr = PointerSize::of(mem);
    let runs = split_by_bytes(&sizes, threads);
    // `progress` hears every walk: this thread's bytes and the others'.
    let progress = RefCell::new(progress);
    let mine = Cell::new(0u64);
    let stopped = Cell::new(false);
    let report = |d: u64| {
        let go_on = !stopped.get() && (progress.borrow_mut())(d);
        stopped.set(!go_on);
        go_on
    };
    let sizes = &sizes;
    let jobs: Vec<_> = runs[1..]
        .iter()
        .map(|run| {
            let mut run = run.clone();
            let share: u64 = sizes[run.clone()].iter().sum();
            let words = words.clone();
            move |progress: &mut dyn FnMut(u64) -> bool| {
                let mut own = MethodTables::default();
                // The run in pieces of about `piece` heap bytes, each
                // its own part: joined one by one and each freed once
                // copied, so that the join holds one piece twice, not the
                // whole run.
                let mut pieces = Vec::new();
                let mut before = 0u64;
                while !run.is_empty() {
                    let mut taken = 0u64;
                    // Room for objects of 20 bytes on average: natively,
                    // reserved memory a thread does not touch costs
                    // nothing, and a run of small objects then grows by no
                    // doubling (measured: four threads' peak RSS about 10 %
                    // lower).
                    let room = share.min(piece) * 2;
                    let mut part = Part::new(room, &words, on_the_way, None, heap);
                    let ok = part.walk_sized(
                        ptr,
                        mem,
                        segments,
                        &mut || {
                            if taken >= piece {
                                return None;
                            }
                            let i = run.next()?;
                            taken += sizes[i];
                            Some(i)
                        },
                        contexts,
                        &mut own,
                        &words,
                        &mut |d| progress(before + d),
                    );
                    if !ok {
                        return Err(stop_reason(&mut part));
                    }
                    before += taken;
                    pieces.push(part);
                }
                Ok((pieces, own))
            }
        })
        .collect();
    let (later, first) = background::run_all(
        jobs,
        |later_done| {
            // Room for every object: the others' are appended here.
            let mut part = Part::new(heap, &words, on_the_way, None, heap);
            let mut run = runs[0].clone();
            let ok = part.walk_sized(
                ptr,
                mem,
                segments,
                &mut || run.next(),
                contexts,
                mts,
                &words,
                &mut |d| {
                    mine.set(d);
                    report(d + later_done())
                },
            );
            if ok {
                Ok(part)
            } else {
                Err(stop_reason(&mut part))
            }
        },
        &mut |later_done| report(mine.get() + later_done),
    );
    // A walk stopped (or, never, a job ran nowhere).
    let mut part = first?;
    for walked in later {
        let (pieces, later_mts) = walked.ok_or(WalkStop::Cancelled)??;
        let renumber = Part::adopt(later_mts, mts);
        for piece in pieces {
            part.append(piece, &renumber);
        }
    }
    Ok(Walked {
        objects: part.objects,
        problems: part.problems,
        raw: part.raw,
    })
}

/// Calls `f` with every non-null reference of the object of `size` bytes
/// at `addr` whose references `desc` describes: read through `window`
/// (the hot path, inlined), or for an object larger than a window's chunk
/// ([`far_references`]) slot by slot, only when the dump holds it whole.
#[inline(always)]
fn for_each_reference_at<'m, W: Word>(
    window: &mut Window<'m>,
    far: &mut Option<Window<'m>>,
    desc: &GcDesc,
    addr: u64,
    size: u64,
    f: impl FnMut(u64),
) {
    if size <= CHUNK as u64 {
        if let Some(bytes) = window.bytes(addr, size as usize) {
            for_each_reference::<W>(desc, size, bytes, f);
        }
    } else {
        far_references::<W>(window.mem, far, desc, addr, size, f);
    }
}

/// The references of an object larger than a window's chunk, slot by slot
/// through `far`, when the dump holds the whole object: neither a buffer
/// nor the work is sized by what the dump claims.
#[inline(never)]
fn far_references<'m, W: Word>(
    mem: &'m dyn AddressSpace,
    far: &mut Option<Window<'m>>,
    desc: &GcDesc,
    addr: u64,
    size: u64,
    mut f: impl FnMut(u64),
) {
    let Some(end) = addr.checked_add(size) else {
        return;
    };
    if !heaplens_memory::holds(mem, addr, end) {
        return;
    }
    let far = far.get_or_insert_with(|| Window::new(mem));
    far.reset(end);
    desc.slots::<W>(size, |o| {
        if let Some(v) = far.word::<W>(addr + o) {
            if v != 0 {
                f(v);
            }
        }
    });
}

/// Calls `f` with every non-null reference of an object of `size` bytes
/// whose bytes (as many as the dump holds) are `bytes`.
#[inline(always)]
fn for_each_reference<W: Word>(desc: &GcDesc, size: u64, bytes: &[u8], mut f: impl FnMut(u64)) {
    desc.slots::<W>(size, |o| {
        let o = o as usize;
        if let Some(slot) = bytes.get(o..o + W::BYTES as usize) {
            let v = W::load(slot);
            if v != 0 {
                f(v);
            }
        }
    });
}

/// Why the walk cannot go on at a word that should be a MethodTable: it is
/// not one, or the dump does not hold its memory (a minidump of private
/// memory leaves out the loader heaps of .NET 7+, which are shared
/// mappings).
fn not_a_method_table(mem: &dyn AddressSpace, mt: u64) -> String {
    if mt != 0 && mem.read_pointer(mt).is_err() {
        format!("the MethodTable {mt:#x} {MISSING_TYPE_DATA}; a full-memory dump holds them)")
    } else {
        format!("{mt:#x} is not a MethodTable")
    }
}

/// The first non-zero word of `W` at or after `pos`, or `end`.
fn skip_zeros<W: Word>(window: &mut Window<'_>, mut pos: u64, end: u64) -> Option<u64> {
    let p = W::BYTES as usize;
    while pos < end {
        let n = ((end - pos) as usize).min(CHUNK);
        let bytes = window.bytes(pos, n)?;
        match bytes
            .chunks_exact(p)
            .position(|w| w.iter().any(|&b| b != 0))
        {
            Some(i) => return Some(pos + (p * i) as u64),
            None => pos += (n as u64) & !(W::BYTES - 1),
        }
        if n < p {
            break;
        }
    }
    Some(end)
}

/// The references of every object, as object indices, CSR-style:
/// `(starts, targets)` where object `i`'s children are
/// `targets[starts[i]..starts[i + 1]]`, followed by the `extra` edges
/// (`(from, to)`, sorted by `from`) of each object. References to addresses
/// that are not object starts are counted in the third value, not kept.
/// Resolves the references the walk read (`raw`) in place; without them,
/// reads the heap again.
pub fn references(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    objects: &Objects,
    mts: &MethodTables,
    raw: Option<RawReferences>,
    extra: &[(u32, u32)],
    progress: &mut dyn FnMut(u64) -> bool,
) -> Option<(PackedStarts, Vec<u32>, u64)> {
    let n = objects.len();
    if let Some(raw) = raw.filter(|r| r.starts.len() == n + 1) {
        return resolve_references(objects, raw, extra, progress);
    }
    match PointerSize::of(mem) {
        PointerSize::Four => read_references::<W32>(mem, segments, objects, mts, extra, progress),
        PointerSize::Eight => read_references::<W64>(mem, segments, objects, mts, extra, progress),
    }
}

/// [`references`] read from the dump, with words of `W`.
fn read_references<W: Word>(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    objects: &Objects,
    mts: &MethodTables,
    extra: &[(u32, u32)],
    progress: &mut dyn FnMut(u64) -> bool,
) -> Option<(PackedStarts, Vec<u32>, u64)> {
    let n = objects.len();
    let index = AddressIndex::new(objects, HeapWords::held(mem, segments));
    let extra = valid_extra(extra, n);
    let mut starts = PackedStarts::new();
    starts.reserve(n + 1);
    // Room for two references per object (heaps average one to three).
    let mut targets: Vec<u32> = Vec::with_capacity(2 * n + extra.len());
    let mut invalid = 0u64;
    let mut window = Window::new(mem);
    let mut far = None;
    let mut extra = extra.iter().peekable();
    starts.push(0);
    for seg in segments {
        window.reset(seg.end);
        for i in objects.in_range(seg.start, seg.end) {
            if i % (1 << 16) == 0 && !progress(i as u64) {
                return None;
            }
            let info = &mts.tables[objects.mt(i) as usize];
            if let Some(desc) = &info.gcdesc {
                let addr = objects.address(i);
                let size = objects.size(i);
                for_each_reference_at::<W>(
                    &mut window,
                    &mut far,
                    desc,
                    addr,
                    size,
                    |v| match index.find(v) {
                        Some(j) => targets.push(j as u32),
                        None => invalid += 1,
                    },
                );
            }
            while let Some(&&(from, to)) = extra.peek() {
                if from as usize > i {
                    break;
                }
                if from as usize == i {
                    targets.push(to);
                }
                extra.next();
            }
            starts.push(targets.len() as u32);
        }
    }
    Some((starts, targets, invalid))
}

/// The references that cross `from` in a stretch `[start, end)` of the
/// heap whose objects are all in `objects` (see [`Crossings`]).
pub(crate) fn crossings(
    mem: &dyn AddressSpace,
    objects: &Objects,
    mts: &MethodTables,
    (start, from, end): (u64, u64, u64),
) -> Crossings {
    match PointerSize::of(mem) {
        PointerSize::Four => crossings_sized::<W32>(mem, objects, mts, (start, from, end)),
        PointerSize::Eight => crossings_sized::<W64>(mem, objects, mts, (start, from, end)),
    }
}

/// What the references of a stretch of the heap say of the part after a
/// point `from` in it (an ephemeral segment's header `allocated`): objects
/// allocated since the last GC refer only to objects' starts, and what is
/// live before `from` may refer to them; bytes a collection left behind
/// past the end are referred to by nothing live, and after a compaction
/// still hold the addresses objects had before it.
#[derive(Debug, Default)]
pub(crate) struct Crossings {
    /// Objects after `from` with references into the part before it that
    /// land on no object's start: `(address, how many)`, in address order.
    pub dangling: Vec<(u64, u64)>,
    /// References to objects after `from`, from objects anywhere in the
    /// stretch: `(target, the referring object's address)`, sorted.
    pub incoming: Vec<(u64, u64)>,
}

impl Crossings {
    /// Whether an object before `a` refers to one in `[a, b)`.
    pub fn referred_into(&self, a: u64, b: u64) -> bool {
        let i = self.incoming.partition_point(|&(t, _)| t < a);
        self.incoming[i..]
            .iter()
            .take_while(|&&(t, _)| t < b)
            .any(|&(_, s)| s < a)
    }
}

/// [`crossings`] with words of `W`.
fn crossings_sized<W: Word>(
    mem: &dyn AddressSpace,
    objects: &Objects,
    mts: &MethodTables,
    (start, from, end): (u64, u64, u64),
) -> Crossings {
    let mut out = Crossings::default();
    let mut window = Window::new(mem);
    let mut far = None;
    window.reset(end);
    for i in objects.in_range(start, end) {
        let Some(desc) = mts
            .tables
            .get(objects.mt(i) as usize)
            .and_then(|t| t.gcdesc.as_ref())
        else {
            continue;
        };
        let address = objects.address(i);
        let after = address >= from;
        let mut dangling = 0u64;
        for_each_reference_at::<W>(&mut window, &mut far, desc, address, objects.size(i), |v| {
            if after && v >= start && v < from && objects.find(v).is_none() {
                dangling += 1;
            }
            if v >= from && v < end && objects.find(v).is_some() {
                out.incoming.push((v, address));
            }
        });
        if dangling > 0 {
            out.dangling.push((address, dangling));
        }
    }
    out.incoming.sort_unstable();
    out.incoming.dedup();
    out
}

/// The edges of `extra` between objects that exist.
fn valid_extra(extra: &[(u32, u32)], n: usize) -> Vec<(u32, u32)> {
    extra
        .iter()
        .copied()
        .filter(|&(from, to)| (from as usize) < n && (to as usize) < n)
        .collect()
}

/// What [`references`] gives, from the references the walk read (`raw`,
/// one list per object of `objects`, as [`Walked::raw`] holds them):
/// needs no access to the dump, so it can run on another thread while the
/// dump is read for something else. `None` when `raw` does not match the
/// objects or `progress` cancels.
pub fn resolve_references(
    objects: &Objects,
    mut raw: RawReferences,
    extra: &[(u32, u32)],
    progress: &mut dyn FnMut(u64) -> bool,
) -> Option<(PackedStarts, Vec<u32>, u64)> {
    let n = objects.len();
    if raw.starts.len() != n + 1 {
        return None;
    }
    let index = AddressIndex::new(objects, std::mem::take(&mut raw.numbering));
    resolve(raw, &index, &valid_extra(extra, n), progress)
}

/// Turns the walk's [`RawReferences`] into object indices in place: words
/// that start no object are dropped (and counted), and each object's
/// `extra` edges (valid, sorted by source) are put after its own.
fn resolve(
    raw: RawReferences,
    index: &AddressIndex,
    extra: &[(u32, u32)],
    progress: &mut dyn FnMut(u64) -> bool,
) -> Option<(PackedStarts, Vec<u32>, u64)> {
    let RawReferences {
        mut starts,
        mut words,
        mut invalid,
        ..
    } = raw;
    let n = starts.len() - 1;
    // Resolve, keeping what resolves at the front: each start becomes
    // the number of words kept before it (never more than it was).
    let mut out = 0usize;
    let mut begin = 0usize;
    let mut cancelled = false;
    starts.rewrite(|i, end| {
        // The first start stays 0 (`out` is 0 then).
        if i == 0 || cancelled {
            return out as u32;
        }
        if (i - 1) % (1 << 16) == 0 && !progress((i - 1) as u64) {
            cancelled = true;
            return out as u32;
        }
        let end = end as usize;
        for k in begin..end {
            match index.at_word(u64::from(words[k])) {
                Some(j) => {
                    words[out] = j as u32;
                    out += 1;
                }
                None => invalid += 1,
            }
        }
        begin = end;
        out as u32
    });
    if cancelled {
        return None;
    }
    words.truncate(out);
    if extra.is_empty() {
        return Some((starts, words, invalid));
    }
    // Make room for the extra edges, then move each object's edges right
    // by the number of extra edges of the objects before it, from the
    // last object to the first, putting its own extra edges after them.
    words.resize(out + extra.len(), 0);
    let mut tail = words.len();
    let mut e = extra.len();
    let mut own_end = out;
    for i in (0..n).rev() {
        let mut lo = e;
        while lo > 0 && extra[lo - 1].0 as usize == i {
            lo -= 1;
        }
        for x in (lo..e).rev() {
            tail -= 1;
            words[tail] = extra[x].1;
        }
        let (a, b) = (starts.get(i) as usize, own_end);
        tail -= b - a;
        words.copy_within(a..b, tail);
        own_end = a;
        e = lo;
    }
    // Then each start moves right by the extra edges of the objects
    // before it (a block of starts that then spans 65,536 or more goes
    // to the side list of wide blocks: 256 bytes each).
    let mut e = 0usize;
    starts.rewrite(|i, s| {
        while e < extra.len() && (extra[e].0 as usize) < i {
            e += 1;
        }
        s + e as u32
    });
    debug_assert_eq!(tail, 0);
    Some((starts, words, invalid))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The need of an open against a computation by hand: 50 M objects
    /// and 100 M references on 2.4 GB of heap: 14 bytes per object, 4.5
    /// per reference (the walk's arrays grown by an eighth at most, and the
    /// rest of the open), a 60th of the heap for the resolve's index.
    #[test]
    fn the_open_needs_its_arrays_grown_and_the_index() {
        let (n, r, heap) = (50_000_000u64, 100_000_000u64, 2_400_000_000u64);
        let by_hand = n * 14 + r * 9 / 2 + heap / 60;
        assert_eq!(by_hand, 700_000_000 + 450_000_000 + 40_000_000);
        assert_eq!(open_need(n, r, heap), by_hand);
        assert_eq!(open_need(u64::MAX, u64::MAX, u64::MAX), u64::MAX);
    }

    /// The projection during the walk: the small-object segments' counts
    /// scaled by their bytes, the large object heap's as they are. The
    /// 100 M-object core of BENCHMARKS.md (6,114 MB of heap, a 400 MB
    /// `Widget[]` of 50 M references on the large object heap, walked
    /// first) was refused after 414 MB by the projection of everything by
    /// bytes (4,665 MB needed, 4,260 left, with the bytes per object of
    /// then); computed here by hand, with 100 MB of small objects after the
    /// array, and today's bytes per object against 2,800 MB left.
    #[test]
    fn the_projection_keeps_the_large_object_heap_apart() {
        let mb = 1_000_000u64;
        let heap = 6_114 * mb;
        let large = Large {
            total: 400 * mb,
            walked: 400 * mb,
            objects: 1,
            references: 50_000_000,
        };
        // then 100 MB of small objects: 2,200,000 objects, 1,100,000 references
        let (objects, references, walked) = (2_200_001u64, 51_100_000u64, 500 * mb);
        let small_scale = |x: u64| x * (heap - 400 * mb) / (100 * mb);
        let by_hand = open_need(
            1 + small_scale(2_200_000),
            50_000_000 + small_scale(1_100_000),
            heap,
        );
        assert_eq!(
            projected_need(objects, references, walked, heap, large),
            by_hand
        );
        // 125.7 M objects and 112.9 M references: about 2.37 GB, under
        // 2,800 MB left
        assert!(by_hand < 2_800 * mb, "{by_hand}");
        // everything scaled by bytes, as before: about 3.29 GB, over
        let old = open_need(objects * heap / walked, references * heap / walked, heap);
        assert!(old > 2_800 * mb, "{old}");
        // without a large object heap it is the scaling by bytes
        let none = Large::default();
        assert_eq!(projected_need(objects, references, walked, heap, none), old);
        // only the large object heap walked: its counts, nothing scaled
        let only = Large {
            walked,
            objects,
            references,
            total: 400 * mb,
        };
        assert_eq!(
            projected_need(objects, references, walked, heap, only),
            open_need(objects, references, heap)
        );
        // a few kilobytes of small objects are no sample: as they are
        // (until 64 MiB, or a quarter of the small objects' bytes)
        assert_eq!(
            projected_need(6, 391, 8_360, 5_381_352, Large::default()),
            open_need(6, 391, 5_381_352)
        );
        let quarter = 5_381_352 / 4;
        assert_eq!(
            projected_need(600, 39_100, quarter, 5_381_352, Large::default()),
            open_need(
                600 * 5_381_352 / quarter,
                39_100 * 5_381_352 / quarter,
                5_381_352
            )
        );
    }

    /// Growth is fallible: a request past what an allocation may be is an
    /// error with the bytes asked, not an abort; a limit refuses before
    /// the allocator is asked; otherwise a vector grows by an eighth at
    /// least.
    #[test]
    fn arrays_grow_fallibly_and_within_the_limit() {
        let mut v: Vec<u64> = Vec::new();
        let huge = usize::MAX / 16;
        assert_eq!(grow_by(&mut v, huge, 1, None), Err(huge as u64 * 8));
        assert!(v.capacity() == 0);
        let limit = MemoryLimit {
            cap: 1_000,
            in_use: || 200,
        };
        // 101 u64s are 808 bytes, over the 800 left.
        assert_eq!(grow_by(&mut v, 101, 1, Some(&limit)), Err(808));
        assert_eq!(grow_by(&mut v, 100, 1, Some(&limit)), Ok(()));
        assert!(v.capacity() >= 100);
        v.resize(100, 0);
        // Full: grows by an eighth of its length (12), not by doubling.
        assert_eq!(grow_by(&mut v, 1, 1, None), Ok(()));
        assert!((112..150).contains(&v.capacity()), "{}", v.capacity());
        let mut o = Objects::default();
        assert_eq!(o.grow(1, Some(&limit)), Err((1u64 << 12) * 9));
        assert_eq!(o.grow(huge, None), Err(huge as u64 * 9));
    }

    /// Room ahead: nothing before the counts are a sample; then room for
    /// the counts projected to the heap (by a computation here: a tenth
    /// of the small-object bytes walked holds a tenth of their objects and
    /// references; the large objects are taken as they are) and a 32nd
    /// more; not asked again while the room is within a 32nd of that.
    #[test]
    fn arrays_get_the_room_of_the_projected_counts() {
        let mut objects = Objects::default();
        let mut raw = RawReferences::default();
        for i in 0..1_000u64 {
            objects.push(i * 64, 0, 64);
            raw.words.extend([1, 2]);
            raw.starts.push(raw.words.len() as u32);
        }
        let large = Large {
            total: 1 << 20,
            walked: 1 << 20,
            objects: 4,
            references: 10,
        };
        let heap = 10 * CHECK_EVERY + large.total;
        // Not yet a sample: a quarter of the small bytes at least, or
        // CHECK_EVERY of them.
        let small_walked = CHECK_EVERY / 2;
        assert!(!Part::reserve_ahead(
            &mut objects,
            Some(&mut raw),
            heap,
            small_walked + large.walked,
            large,
            None,
        ));
        assert!(objects.columns.spare() < 10_000);
        // A sample: 996 small objects walked of ten times their bytes.
        let walked = CHECK_EVERY + large.walked;
        assert!(Part::reserve_ahead(
            &mut objects,
            Some(&mut raw),
            heap,
            walked,
            large,
            None
        ));
        let (n, r) = (996 * 10 + 4, (2_000 - 10) * 10 + 10);
        assert_eq!(
            projected_counts(1_000, 2_000, walked, heap, large),
            Some((n, r))
        );
        let room = |have: usize, spare: usize| have + spare;
        let want = |c: u64| (c + c / 32) as usize;
        // The node columns count their room in whole blocks of 64.
        assert!(room(objects.len(), objects.columns.spare()) + 64 >= want(n));
        assert!(raw.starts.len() + raw.starts.spare() >= want(n));
        assert!(raw.words.capacity() >= want(r));
        // Already room: nothing more is asked for.
        let before = (objects.columns.spare(), raw.words.capacity());
        Part::reserve_ahead(&mut objects, Some(&mut raw), heap, walked, large, None);
        assert_eq!((objects.columns.spare(), raw.words.capacity()), before);
    }

    #[test]
    fn segments_split_into_runs_of_about_equal_bytes() {
        // Each run's bytes, for a split of `bytes` into `n`.
        let split = |bytes: &[u64], n: usize| -> Vec<u128> {
            let runs = split_by_bytes(bytes, n);
            assert_eq!(runs.len(), n.max(1));
            // Consecutive, from the first segment to the last.
            assert_eq!(runs[0].start, 0);
            assert_eq!(runs[runs.len() - 1].end, bytes.len());
            assert!(runs.windows(2).all(|r| r[0].end == r[1].start));
            if bytes.len() >= n {
                assert!(runs.iter().all(|r| !r.is_empty()));
            }
            runs.iter()
                .map(|r| bytes[r.clone()].iter().map(|&b| b as u128).sum())
                .collect()
        };
        assert_eq!(split(&[10; 12], 3), vec![40, 40, 40]);
        assert_eq!(split(&[10; 12], 5), vec![20, 30, 20, 30, 20]);
        assert_eq!(split(&[10; 12], 1), vec![120]);
        assert_eq!(split(&[10; 12], 0), vec![120]);
        // One big segment: a run alone; the others share the rest.
        assert_eq!(split(&[5, 100, 5, 5, 5], 2), vec![105, 15]);
        assert_eq!(split(&[100, 1, 1, 1, 1], 4), vec![100, 1, 1, 2]);
        // Fewer segments than runs: some runs are empty.
        assert_eq!(split(&[7, 9], 5), vec![0, 7, 0, 0, 9]);
        assert_eq!(split(&[], 3), vec![0, 0, 0]);
        // Byte counts whose sum a u64 cannot hold.
        assert_eq!(split(&[u64::MAX; 4], 2), vec![2 * u64::MAX as u128; 2]);
    }
    use crate::heap::small_segment as segment;

    /// Objects spread over `segments`: runs of small ones and now and then
    /// a big one that spans pages, with the same addresses and sizes as
    /// plain arrays, and MethodTable indices past 65,535 now and then.
    fn spread(segments: &[Segment]) -> (Objects, Vec<u64>, Vec<u64>, Vec<u32>) {
        let mut objects = Objects::default();
        let (mut addrs, mut sizes, mut mts) = (Vec::new(), Vec::new(), Vec::new());
        let mut rng = 0x9e37_79b9_7f4a_7c15u64;
        for s in segments {
            let mut pos = s.start;
            while pos < s.end {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                let size = if rng.is_multiple_of(50) {
                    24 + 8 * (rng % 1500)
                } else if rng % 1000 == 7 {
                    100_000 + rng % 1000
                } else {
                    20 + 2 * (rng % 8)
                };
                let mt = if rng % 5000 == 3 {
                    70_000
                } else {
                    (rng % 300) as u32
                };
                objects.push(pos, mt, size);
                addrs.push(pos);
                sizes.push(size);
                mts.push(mt);
                pos += (size + 7) & !7;
            }
        }
        (objects, addrs, sizes, mts)
    }

    /// The compact objects read back what was pushed, and find objects as
    /// a search written here over plain arrays does: starts, interior
    /// pointers and ranges, in and around every segment.
    #[test]
    fn objects_answer_as_plain_arrays() {
        let segments = [
            segment(0x10_0000, 0x10_0000 + 3 * 4096 + 200),
            segment(0x20_0000, 0x20_0000 + 64),
            segment(0x30_0000, 0x31_0000),
            segment(0x7f00_0000_0000, 0x7f00_0002_0000),
        ];
        let (objects, addrs, sizes, mts) = spread(&segments);
        assert_eq!(objects.len(), addrs.len());
        for i in 0..addrs.len() {
            assert_eq!(
                (objects.address(i), objects.size(i), objects.mt(i)),
                (addrs[i], sizes[i], mts[i])
            );
        }
        assert!(objects.addresses().eq(addrs.iter().copied()));
        let containing = |a: u64| {
            let i = addrs.iter().rposition(|&x| x <= a)?;
            (a < addrs[i] + sizes[i].max(8)).then_some(i)
        };
        let count_below = |a: u64| addrs.iter().filter(|&&x| x < a).count();
        for s in &segments {
            for a in (s.start - 64..s.end + 64).step_by(4) {
                assert_eq!(
                    objects.find(a),
                    addrs.iter().position(|&x| x == a),
                    "{a:#x}"
                );
                assert_eq!(objects.containing(a), containing(a), "{a:#x}");
                let b = a + (a % 5000);
                assert_eq!(objects.in_range(a, b), count_below(a)..count_below(b));
            }
        }
        assert_eq!(
            objects.in_range(0x30_0100, 0x30_0000),
            objects.in_range(0x30_0100, 0x30_0100)
        );
        assert_eq!(objects.find(0), None);
        assert_eq!(objects.containing(u64::MAX), None);
        assert_eq!(objects.in_range(0, u64::MAX), 0..addrs.len());
    }

    /// The index finds exactly the object starts (a search written here
    /// over the addresses), for every 8-byte word of every segment and
    /// around them.
    #[test]
    fn address_index_finds_exactly_the_object_starts() {
        let segments = [
            segment(0x10_0000, 0x10_0000 + 3 * 4096 + 200),
            segment(0x20_0000, 0x20_0000 + 64),
            segment(0x30_0000, 0x31_0000),
        ];
        let (objects, addrs, _, _) = spread(&segments);
        let words = HeapWords::from_stretches(
            PointerSize::Eight,
            segments.iter().map(|s| (s.start, s.end)),
        );
        let index = AddressIndex::new(&objects, words);
        for s in &segments {
            for a in (s.start - 64..s.end + 64).step_by(4) {
                assert_eq!(index.find(a), addrs.iter().position(|&x| x == a), "{a:#x}");
            }
        }
        assert_eq!(index.find(0), None);
        assert_eq!(index.find(u64::MAX), None);
    }

    /// The walk's references resolved (and the dependent handles' extra
    /// edges put after each object's own) equal a resolution written here
    /// over plain arrays: words that start no object dropped and counted,
    /// extra edges to no object left out; with an object of 70,000
    /// references and one of 70,000 extra edges, so that blocks of starts
    /// are wide from the walk and become wide in the resolve.
    #[test]
    fn references_resolve_as_a_plain_resolution() {
        let segments = [
            segment(0x10_0000, 0x10_0000 + 3 * 4096 + 200),
            segment(0x30_0000, 0x31_0000),
        ];
        let (objects, addrs, _, _) = spread(&segments);
        let n = addrs.len();
        let numbering = HeapWords::from_stretches(
            PointerSize::Eight,
            segments.iter().map(|s| (s.start, s.end)),
        );
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        // Each object's references, as addresses of the segments: mostly
        // objects' starts, some not.
        let lists: Vec<Vec<u64>> = (0..n)
            .map(|i| {
                let k = if i == 100 {
                    70_000
                } else {
                    (next() % 5) as usize
                };
                (0..k)
                    .map(|_| {
                        let a = addrs[(next() % n as u64) as usize];
                        if next().is_multiple_of(7) {
                            a + 8
                        } else {
                            a
                        }
                    })
                    .collect()
            })
            .collect();
        let mut extra: Vec<(u32, u32)> = (0..n as u32)
            .filter_map(|from| {
                let r = next();
                r.is_multiple_of(9)
                    .then(|| (from, (r / 9 % (n as u64 + 3)) as u32))
            })
            .collect();
        extra.extend((0..70_000).map(|k| (300, k % n as u32)));
        extra.sort_by_key(|&(from, _)| from);
        // The plain resolution.
        let mut want_starts = vec![0u32];
        let mut want_targets = Vec::new();
        let mut want_invalid = 0u64;
        for (i, list) in lists.iter().enumerate() {
            for a in list {
                match addrs.iter().position(|x| x == a) {
                    Some(j) => want_targets.push(j as u32),
                    None => want_invalid += 1,
                }
            }
            for &(from, to) in &extra {
                if from as usize == i && (to as usize) < n {
                    want_targets.push(to);
                }
            }
            want_starts.push(want_targets.len() as u32);
        }
        // As the walk pushes them.
        for with_extra in [false, true] {
            let mut raw = RawReferences {
                numbering: numbering.clone(),
                ..RawReferences::default()
            };
            raw.starts.push(0);
            for list in &lists {
                for &a in list {
                    raw.words.push(numbering.word(a).unwrap() as u32);
                }
                raw.starts.push(raw.words.len() as u32);
            }
            assert!(raw.covers(&objects));
            let extra = if with_extra { &extra[..] } else { &[] };
            let (starts, targets, invalid) =
                resolve_references(&objects, raw, extra, &mut |_| true).unwrap();
            let got: Vec<u32> = (0..starts.len()).map(|i| starts.get(i)).collect();
            if with_extra {
                assert_eq!(got, want_starts);
                assert_eq!(targets, want_targets);
            } else {
                for i in 0..n {
                    let own = lists[i]
                        .iter()
                        .filter_map(|a| addrs.iter().position(|x| x == a))
                        .map(|j| j as u32);
                    let kids = &targets[got[i] as usize..got[i + 1] as usize];
                    assert!(own.eq(kids.iter().copied()), "object {i}");
                }
            }
            assert_eq!(invalid, want_invalid);
        }
    }
}
