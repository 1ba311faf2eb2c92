//! One pass over the process's writable memory outside the GC heap, for
//! what the heap walk and the statics need from it: the threads'
//! allocation contexts, and the words that point into the heap (where the
//! statics are looked for when their modules do not lead to them).

use crate::background;
use crate::heap::{in_segments, Segment, SegmentKind};
use crate::walk::AddrMap;
use crate::width::{PointerSize, Word, W32, W64};
use heaplens_memory::AddressSpace;

/// How much memory is read at once.
const CHUNK: usize = 1 << 20;
/// A context is `{alloc_ptr, alloc_limit, i64 alloc_bytes, i64
/// alloc_bytes_uoh, …}`: two pointers and two 64-bit counters (32 bytes on
/// 64-bit, 24 on 32-bit; `gc_alloc_context` in `gcinterface.h`). At most
/// this many bytes are looked at from a context's start.
const PAIR: usize = 32;
/// The two counters of a context are byte counts, far below any address,
/// which tells a context from an array of heap pointers (handle tables,
/// mark lists).
const COUNTER_LIMIT: u64 = 1 << 44;
/// Most heap pointers kept; past this, [`Scan::heap_pointers`] is `None`.
const MAX_HEAP_POINTERS: usize = 1 << 20;

/// What one pass over the writable memory found.
#[derive(Debug, Default)]
pub struct Scan {
    /// The threads' allocation contexts, `alloc_ptr → alloc_limit` (see
    /// [`allocation_contexts`]).
    pub contexts: AddrMap<u64>,
    /// The words pointing into a segment; `None` when there were more
    /// than a million outside dense chunks (whoever needs them scans again
    /// for fewer).
    pub heap_pointers: Option<HeapPointers>,
}

/// The words of the writable memory pointing into the heap (low bit
/// masked, pointer-aligned).
#[derive(Debug, Default)]
pub struct HeapPointers {
    /// `(where, value)` in address order, outside the dense chunks.
    pub words: Vec<(u64, u64)>,
    /// `(start, length)` of chunks where more than one word in eight
    /// points into the heap (arrays of heap pointers): their words are
    /// not in `words`, [`HeapPointers::matching`] reads them again.
    pub dense: Vec<(u64, u64)>,
}

impl HeapPointers {
    /// The words whose value `keep` keeps, at most `cap`, in address
    /// order: those of `words`, and those of the dense chunks read again.
    pub fn matching(
        &self,
        mem: &dyn AddressSpace,
        keep: &dyn Fn(u64) -> bool,
        cap: usize,
    ) -> Vec<(u64, u64)> {
        let mut out: Vec<(u64, u64)> = self
            .words
            .iter()
            .filter(|&&(_, v)| keep(v))
            .copied()
            .collect();
        let ptr = PointerSize::of(mem);
        let mut buf = Vec::new();
        for &(start, len) in &self.dense {
            buf.resize(len as usize, 0);
            if mem.read_virtual(start, &mut buf).is_err() {
                continue;
            }
            for (k, w) in buf.chunks_exact(ptr.usize()).enumerate() {
                let v = ptr.read(w, 0) & !1;
                if ptr.aligned(v) && keep(v) {
                    out.push((start + ptr.times(k as u64), v));
                }
            }
        }
        out.sort_unstable();
        out.truncate(cap);
        out
    }
}

/// What a pass looks for.
struct Want<'a> {
    contexts: bool,
    /// Keeps a word pointing here (masked); `None`: no words kept.
    keep: Option<&'a (dyn Fn(u64) -> bool + Sync)>,
    /// Most words kept.
    cap: usize,
    /// Keep no words of dense chunks (remember the chunks).
    skip_dense: bool,
}

impl<'a> Want<'a> {
    /// The contexts, and every word `in_heap` keeps, dense chunks
    /// remembered rather than kept.
    fn everything(in_heap: &'a (dyn Fn(u64) -> bool + Sync)) -> Want<'a> {
        Want {
            contexts: true,
            keep: Some(in_heap),
            cap: MAX_HEAP_POINTERS,
            skip_dense: true,
        }
    }
}

/// One pass over the writable memory of `mem` outside `segments` (and
/// outside `gc_range`, the range the GC reserved for its regions, which
/// holds free regions of old objects): the allocation contexts and the
/// words pointing into the segments.
pub fn scan(mem: &dyn AddressSpace, segments: &[Segment], gc_range: Option<(u64, u64)>) -> Scan {
    let in_heap = |v: u64| in_segments(segments, v);
    let want = Want::everything(&in_heap);
    let (contexts, found) = pass(mem, segments, gc_range, &want, (1, 0));
    Scan {
        contexts,
        heap_pointers: found,
    }
}

/// [`scan`]'s allocation contexts alone, keeping no heap pointer: what a
/// walk that only counts ([`crate::count_with`]) needs.
pub fn contexts(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    gc_range: Option<(u64, u64)>,
) -> AddrMap<u64> {
    let want = Want {
        contexts: true,
        keep: None,
        cap: 0,
        skip_dense: false,
    };
    pass(mem, segments, gc_range, &want, (1, 0)).0
}

/// [`scan`] on `threads` threads (where there are threads), each reading
/// every `threads`-th chunk; the same result.
pub fn scan_parallel(
    mem: &(dyn AddressSpace + Sync),
    segments: &[Segment],
    gc_range: Option<(u64, u64)>,
    threads: usize,
) -> Scan {
    let in_heap = |v: u64| in_segments(segments, v);
    let want = Want::everything(&in_heap);
    let of = threads.max(1) as u64;
    let want = &want;
    // Thread `k` reads chunks `k`, `k + of`, … (counting from 1).
    let jobs: Vec<_> = (1..of)
        .map(|k| move |_: &mut dyn FnMut(u64) -> bool| pass(mem, segments, gc_range, want, (of, k)))
        .collect();
    let (theirs, (mut contexts, mine)) = background::run_all(
        jobs,
        |_| pass(mem, segments, gc_range, want, (of, 0)),
        &mut |_| true,
    );
    let mut heap_pointers = mine;
    for (k, found) in (1..of).zip(theirs) {
        // (`run_all` always runs its jobs; were it not to, it runs here.)
        let (their_contexts, theirs) =
            found.unwrap_or_else(|| pass(mem, segments, gc_range, want, (of, k)));
        for (p, l) in their_contexts {
            let e = contexts.entry(p).or_insert(l);
            *e = (*e).max(l);
        }
        heap_pointers = heap_pointers.zip(theirs).map(|(mut a, b)| {
            a.words.extend(b.words);
            a.dense.extend(b.dense);
            a
        });
    }
    let heap_pointers = heap_pointers.and_then(|mut a| {
        a.words.sort_unstable();
        a.dense.sort_unstable();
        (a.words.len() <= MAX_HEAP_POINTERS).then_some(a)
    });
    Scan {
        contexts,
        heap_pointers,
    }
}

/// Finds the threads' allocation contexts (`gc_alloc_context`:
/// `alloc_ptr`, `alloc_limit`, …) without knowing where the runtime keeps
/// them (in `Thread` objects up to .NET 8, in thread-local storage since
/// .NET 9): one pass over the process's writable memory outside the GC heap
/// (all of it where the dump does not say what is writable), keeping every
/// pair of words `(p, l)` with `p` inside a small-object segment and
/// `p < l ≤` that segment's end. The walk uses a pair only when the walk
/// itself arrives at `p` and finds a valid object after `l` — a stray match
/// cannot make it skip objects.
pub fn allocation_contexts(mem: &dyn AddressSpace, segments: &[Segment]) -> AddrMap<u64> {
    let want = Want {
        contexts: true,
        keep: None,
        cap: 0,
        skip_dense: false,
    };
    pass(mem, segments, None, &want, (1, 0)).0
}

/// The words of the writable memory outside the GC heap (as [`scan`]
/// reads it) whose value, low bit masked, `keep` keeps: at most `cap`, in
/// address order.
pub(crate) fn pointers(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    gc_range: Option<(u64, u64)>,
    keep: &(dyn Fn(u64) -> bool + Sync),
    cap: usize,
) -> Vec<(u64, u64)> {
    let want = Want {
        contexts: false,
        keep: Some(keep),
        cap,
        skip_dense: false,
    };
    let (_, found) = pass(mem, segments, gc_range, &want, (1, 0));
    found.map(|f| f.words).unwrap_or_default()
}

/// The pass: reads the chunks numbered `k` with `k % of == mine` (`share =
/// (of, mine)`; chunks of all regions counted in order), and finds what
/// `want` asks for: the contexts, and the words kept — `None` when there
/// were more than `want.cap`, unless only the first `want.cap` are wanted
/// (`want.skip_dense` false). Words are of the process's pointer size.
fn pass(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    gc_range: Option<(u64, u64)>,
    want: &Want<'_>,
    share: (u64, u64),
) -> (AddrMap<u64>, Option<HeapPointers>) {
    match PointerSize::of(mem) {
        PointerSize::Four => pass_w::<W32>(mem, segments, gc_range, want, share),
        PointerSize::Eight => pass_w::<W64>(mem, segments, gc_range, want, share),
    }
}

/// [`pass`] with words of `W`.
fn pass_w<W: Word>(
    mem: &dyn AddressSpace,
    segments: &[Segment],
    gc_range: Option<(u64, u64)>,
    want: &Want<'_>,
    share: (u64, u64),
) -> (AddrMap<u64>, Option<HeapPointers>) {
    let p = W::BYTES as usize;
    // A context's counters follow its two pointers.
    let (bytes_at, uoh_bytes_at) = (2 * p, 2 * p + 8);
    let (of, mine) = share;
    let mut contexts = AddrMap::default();
    let mut kept = Vec::new();
    let mut dense = Vec::new();
    let mut over = false;
    // Contexts point into small-object segments.
    let small: Vec<&Segment> = segments
        .iter()
        .filter(|s| s.kind == SegmentKind::Small)
        .collect();
    let (lo, span) = match (small.first(), small.last()) {
        (Some(a), Some(b)) if want.contexts => (a.start, b.end - a.start),
        _ => (0, 0),
    };
    // Kept words point into the segments.
    let (heap_lo, heap_hi) = (
        segments.first().map_or(0, |s| s.start),
        segments.last().map_or(0, |s| s.end),
    );
    let outside = |at: u64| -> Option<u64> {
        // The end of the GC memory `at` lies in, if it does.
        if let Some((_, b)) = gc_range.filter(|&(a, b)| at >= a && at < b) {
            return Some(b);
        }
        let i = segments.partition_point(|s| s.end <= at);
        segments.get(i).filter(|s| s.start <= at).map(|s| s.end)
    };
    // Grows to the largest read (at most a chunk): a small dump needs
    // little.
    let mut buf = Vec::new();
    let mut chunk = 0u64;
    for r in mem.regions() {
        // Allocation contexts and statics live in writable memory
        // (threads' native records, the GC's generation table, the
        // loader's statics tables): code and read-only data, most of a
        // full dump, need not be read.
        if r.protection.is_some_and(|p| !p.write) {
            continue;
        }
        let (start, end) = (
            r.start & !(W::BYTES - 1),
            r.start.saturating_add(r.data_size),
        );
        let holds_heap = segments
            .get(segments.partition_point(|s| s.end <= start))
            .is_some_and(|s| s.start < end)
            || gc_range.is_some_and(|(a, b)| a < end && start < b);
        // Contexts are looked for only in regions apart from the heap.
        let find_contexts = span > 0 && !holds_heap;
        if !find_contexts && want.keep.is_none() {
            continue;
        }
        let mut at = start;
        while at < end {
            if let Some(past) = outside(at) {
                at = past.max(at + 8);
                continue;
            }
            // The part up to the next GC memory.
            let next_segment = segments
                .get(segments.partition_point(|s| s.end <= at))
                .map_or(u64::MAX, |s| s.start);
            let next_gc = gc_range.map_or(u64::MAX, |(a, _)| if a > at { a } else { u64::MAX });
            let part_end = end.min(next_segment).min(next_gc);
            let mut pos = at;
            while pos < part_end {
                let n = ((part_end - pos) as usize).min(CHUNK + PAIR) & !(p - 1);
                if n == 0 {
                    break;
                }
                chunk += 1;
                if buf.len() < n {
                    buf.resize(n, 0);
                }
                if chunk % of == mine && mem.read_virtual(pos, &mut buf[..n]).is_ok() {
                    let first = kept.len();
                    let word = |i: usize| buf.get(i..).map_or(0, W::load);
                    let counter = |i: usize| {
                        buf.get(i..i + 8)
                            .and_then(|c| c.try_into().ok())
                            .map_or(u64::MAX, u64::from_le_bytes)
                    };
                    // Words from CHUNK on are the next chunk's.
                    for i in (0..n.min(CHUNK)).step_by(p) {
                        let w = word(i);
                        let v = w & !1;
                        if let Some(keep) = want.keep.filter(|_| !over) {
                            if v & (W::BYTES - 1) == 0 && v >= heap_lo && v < heap_hi && keep(v) {
                                kept.push((pos + i as u64, v));
                            }
                        }
                        if !find_contexts
                            || i + uoh_bytes_at + 8 > n
                            || w.wrapping_sub(lo) >= span
                            || w & (W::BYTES - 1) != 0
                        {
                            continue;
                        }
                        let l = word(i + p);
                        if l <= w
                            || counter(i + bytes_at) >= COUNTER_LIMIT
                            || counter(i + uoh_bytes_at) >= COUNTER_LIMIT
                        {
                            continue;
                        }
                        let k = small.partition_point(|s| s.start <= w);
                        if k > 0 && w < small[k - 1].end && l <= small[k - 1].end {
                            let e = contexts.entry(w).or_insert(l);
                            *e = (*e).max(l);
                        }
                    }
                    // Dense: more than one word in eight.
                    if want.skip_dense && kept.len() - first > CHUNK / p / 8 {
                        kept.truncate(first);
                        dense.push((pos, n.min(CHUNK) as u64));
                    }
                    if kept.len() > want.cap {
                        kept.truncate(want.cap);
                        over = true;
                    }
                }
                pos += CHUNK as u64;
            }
            at = part_end;
        }
    }
    let found = HeapPointers { words: kept, dense };
    (contexts, (!over || !want.skip_dense).then_some(found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::small_segment as segment;
    use heaplens_memory::{MappedRange, MemoryMap, Protection, Region};

    // Above 2^44, as real heaps are: heap addresses are not counters.
    const HEAP: u64 = 0x7f00_0000_0000;
    const NATIVE: u64 = 0x7e00_0000_0000;

    /// A heap region of 1 MiB and 3 MiB of native writable memory: a
    /// first MiB that is an array of heap pointers (dense), a second with
    /// a few, a third with an allocation context.
    fn process() -> (MemoryMap<Vec<u8>>, Vec<Segment>) {
        let mut native = vec![0u8; 3 * CHUNK];
        let mut put = |at: usize, v: u64| native[at..at + 8].copy_from_slice(&v.to_le_bytes());
        for k in 0..CHUNK / 8 {
            put(8 * k, HEAP + 8 * (k as u64 % 1000));
        }
        for k in 0..50u64 {
            // Low bit set (a tagged pointer): kept masked.
            put(CHUNK + 8 * (1 + 997 * k as usize), HEAP + 0x100 * k + 1);
        }
        let context = 2 * CHUNK + 0x80;
        for (i, v) in [HEAP + 0x4000, HEAP + 0x6000, 100, 200]
            .into_iter()
            .enumerate()
        {
            put(context + 8 * i, v);
        }
        let heap = vec![0u8; CHUNK];
        let bytes = [heap, native].concat();
        let writable = Some(Protection {
            read: true,
            write: true,
            execute: false,
        });
        let ranges = [
            MappedRange {
                region: Region {
                    start: HEAP,
                    size: CHUNK as u64,
                    data_size: CHUNK as u64,
                    protection: writable,
                },
                file_offset: 0,
            },
            MappedRange {
                region: Region {
                    start: NATIVE,
                    size: 3 * CHUNK as u64,
                    data_size: 3 * CHUNK as u64,
                    protection: writable,
                },
                file_offset: CHUNK as u64,
            },
        ];
        let mem = MemoryMap::new(bytes, 8, &ranges).unwrap();
        (mem, vec![segment(HEAP, HEAP + CHUNK as u64)])
    }

    #[test]
    fn one_pass_finds_contexts_and_heap_pointers_as_separate_scans_do() {
        let (mem, segments) = process();
        let all = |_: u64| true;
        let everything = pointers(&mem, &segments, None, &all, usize::MAX);
        // The dense MiB, the 50 scattered, the context's two.
        assert_eq!(everything.len(), CHUNK / 8 + 50 + 2);
        assert!(everything.iter().all(|&(_, v)| v % 8 == 0));
        for found in [
            scan(&mem, &segments, None),
            scan_parallel(&mem, &segments, None, 2),
            scan_parallel(&mem, &segments, None, 3),
            scan_parallel(&mem, &segments, None, 5),
        ] {
            assert_eq!(found.contexts.len(), 1);
            assert_eq!(found.contexts.get(&(HEAP + 0x4000)), Some(&(HEAP + 0x6000)));
            let hp = found.heap_pointers.unwrap();
            // The dense first MiB is remembered, not kept word by word.
            assert_eq!(hp.dense, vec![(NATIVE, CHUNK as u64)]);
            assert_eq!(hp.words.len(), 50 + 2);
            assert_eq!(hp.matching(&mem, &all, usize::MAX), everything);
            let few = |v: u64| v == HEAP + 0x300;
            assert_eq!(
                hp.matching(&mem, &few, usize::MAX),
                pointers(&mem, &segments, None, &few, usize::MAX)
            );
        }
        assert_eq!(allocation_contexts(&mem, &segments).len(), 1);
        // Nothing is read inside the GC's range.
        let gc = Some((NATIVE, NATIVE + 3 * CHUNK as u64));
        let found = scan(&mem, &segments, gc);
        assert!(found.contexts.is_empty());
        assert!(found.heap_pointers.unwrap().words.is_empty());
    }
}
