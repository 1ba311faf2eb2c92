//! Telling a dump without the GC heap from a runtime heaplens cannot read.
//!
//! [`crate::read`] confirms the GC's bookkeeping (`GcDacVars`) by reading
//! the heap's first objects, so in a dump that lacks the heap's memory (a
//! `--normal` or `--triage` core) it does not find the bookkeeping at all.
//! [`missing_heap`] then looks again, accepting bookkeeping whose heaps
//! allocate into memory the dump does not hold, and measures what the
//! dump holds of that heap.

use crate::dacvars::{self, GcDacVars};
use crate::heap::{self, GcHeap};
use crate::runtime::RuntimeModule;
use crate::Target;
use heaplens_memory::{data_runs, AddressSpace};

/// Largest span taken for one ephemeral segment when the segment records
/// are not in the dump (segments are at most a few GiB).
const MAX_SEGMENT: u64 = 1 << 36;

/// When the dump holds the GC's bookkeeping but none of the GC heap's
/// bytes: the bytes of the heap it could locate (its segments or regions;
/// with segments whose records are missing too, the ephemeral segments up
/// to their allocation pointers). `None` when the heap is in the dump, or
/// its bookkeeping cannot be found either.
pub(crate) fn missing_heap(target: &Target<'_>, runtime: &RuntimeModule) -> Option<u64> {
    let mem = target.memory;
    let ptr = crate::width::PointerSize::of(mem);
    let captured = |a: u64| mem.read_pointer(a).is_ok();
    // A heap allocates into memory the dump does not hold (what the heaps
    // span must then be missing entirely, checked below).
    let heap_missing = |v: &GcDacVars| {
        GcHeap::all(mem, v).ok().is_some_and(|hs| {
            !hs.is_empty()
                && hs.iter().any(|h| {
                    h.alloc_allocated >= ptr.bytes()
                        && ptr.aligned(h.alloc_allocated)
                        && !captured(h.alloc_allocated - ptr.bytes())
                })
        })
    };
    let vars = dacvars::locate(target, runtime, &heap_missing).ok()?;
    let heaps = GcHeap::all(mem, &vars).ok()?;
    let ranges: Vec<(u64, u64)> = match heap::segments(mem, &vars, &heaps) {
        Ok(segs) if !segs.is_empty() => segs.iter().map(|s| (s.start, s.end)).collect(),
        // Segments keep their records at their start: gone with the heap.
        _ if !heap::uses_regions(mem, &vars, &heaps).ok()? => heaps
            .iter()
            .filter(|h| {
                h.ephemeral_heap_segment < h.alloc_allocated
                    && h.alloc_allocated - h.ephemeral_heap_segment < MAX_SEGMENT
            })
            .map(|h| (h.ephemeral_heap_segment, h.alloc_allocated))
            .collect(),
        _ => return None,
    };
    let total: u64 = ranges.iter().map(|(a, b)| b - a).sum();
    let held: u64 = ranges
        .iter()
        .flat_map(|&(a, b)| data_runs(mem as &dyn AddressSpace, a, b))
        .map(|(a, b)| b - a)
        .sum();
    (total > 0 && held == 0).then_some(total)
}
