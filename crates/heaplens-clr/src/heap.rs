//! The GC heaps, their generations and the segments or regions that hold
//! objects.

use crate::dacvars::{GcDacVars, Layout};
use crate::error::{ClrError, MemCtx};
use crate::width::PointerSize;
use heaplens_memory::AddressSpace;
use std::collections::HashSet;

/// `heap_segment` flag: read-only (frozen / NonGC heap).
pub const SEG_READONLY: u64 = 1;
/// `heap_segment` flag: large object heap.
pub const SEG_LOH: u64 = 8;
/// `heap_segment` flag: pinned object heap.
pub const SEG_POH: u64 = 512;

/// Most segments followed on one chain (a loop or garbage `next` ends the
/// walk instead of hanging it).
const MAX_CHAIN: usize = 1 << 20;

/// What a segment holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SegmentKind {
    /// Small objects (generations 0–2).
    Small,
    /// The large object heap.
    Large,
    /// The pinned object heap.
    Pinned,
    /// Frozen objects (the NonGC heap: string literals and the like).
    Frozen,
}

/// One segment or region of objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    /// The `heap_segment` record.
    pub record: u64,
    /// First object.
    pub start: u64,
    /// End of the objects.
    pub end: u64,
    /// What it holds.
    pub kind: SegmentKind,
    /// The generation chain it was found on (0–4; segments mode: 2 for the
    /// small object segments, whose tail holds generations 0 and 1).
    pub generation: u8,
    /// The heap (server GC) it belongs to.
    pub heap: u32,
    /// True for the ephemeral segment (its end is `alloc_allocated`).
    pub ephemeral: bool,
}

/// True when `addr` lies in one of `segments` (sorted by address,
/// disjoint).
pub fn in_segments(segments: &[Segment], addr: u64) -> bool {
    let i = segments.partition_point(|s| s.start <= addr);
    i > 0 && addr < segments[i - 1].end
}

/// A small-object segment `[start, end)` of heap 0, for tests.
#[cfg(test)]
pub(crate) fn small_segment(start: u64, end: u64) -> Segment {
    Segment {
        record: start,
        start,
        end,
        kind: SegmentKind::Small,
        generation: 2,
        heap: 0,
        ephemeral: false,
    }
}

/// One GC heap (one in workstation GC, one per core in server GC).
#[derive(Debug, Clone)]
pub struct GcHeap {
    /// Index of the heap.
    pub index: u32,
    /// The generation table (`generation[total_generation_count]`).
    pub generation_table: u64,
    /// The ephemeral segment.
    pub ephemeral_heap_segment: u64,
    /// The end of the ephemeral segment's objects.
    pub alloc_allocated: u64,
    /// The finalization queue (`CFinalize*`).
    pub finalize_queue: u64,
}

/// The fields of `dac_gc_heap` (server GC) where the runtime exports no
/// `gc_heap_field_offsets` (.NET Core 3.1, .NET 5): `alloc_allocated`,
/// `ephemeral_heap_segment` and `finalize_queue` are its first three
/// pointers; the generation table follows `oom_history` (8 pointer-sized
/// fields and a 4-byte `BOOL`), 28 `size_t` statistics, two more
/// pointer-sized fields and a `BOOL`, at the 8-byte alignment of
/// `gc_alloc_context`'s `int64_t`s: 0x158 in a 64-bit process, 0xB0 in a
/// 32-bit one (`gcinterface.dac.h`, which `gcpriv.h` asserts `gc_heap`
/// matches).
fn fixed_gc_heap_offset(ptr: PointerSize, field: usize) -> u64 {
    let p = ptr.bytes();
    match field {
        GC_HEAP_ALLOC_ALLOCATED => 0,
        GC_HEAP_EPHEMERAL => p,
        GC_HEAP_FINALIZE_QUEUE => 2 * p,
        _ => {
            let oom_history = (8 * p + 4).next_multiple_of(p);
            let before = 3 * p + oom_history + 28 * p + 2 * p + 4;
            before.next_multiple_of(8)
        }
    }
}

/// Indices of `gc_heap_field_offsets` (`dac_gcheap_fields.h`).
const GC_HEAP_ALLOC_ALLOCATED: usize = 0;
const GC_HEAP_EPHEMERAL: usize = 1;
const GC_HEAP_FINALIZE_QUEUE: usize = 2;
const GC_HEAP_GENERATION_TABLE: usize = 18;

/// Where a `generation` keeps its first segment where the runtime exports
/// no `generation_field_offsets` (.NET Core 3.1, .NET 5): right after its
/// `gc_alloc_context` (two pointers, two `int64_t`, two pointers, an
/// `int`), at 8-byte alignment: 0x38 in a 64-bit process, 0x28 in a
/// 32-bit one (`dac_generation` in `gcinterface.dac.h`).
fn fixed_start_segment_offset(ptr: PointerSize) -> u64 {
    let p = ptr.bytes();
    (2 * p + 16 + 2 * p + 4).next_multiple_of(8)
}

impl GcHeap {
    /// The heaps described by `vars`.
    pub fn all(mem: &dyn AddressSpace, vars: &GcDacVars) -> Result<Vec<GcHeap>, ClrError> {
        if !vars.server {
            return Ok(vec![GcHeap {
                index: 0,
                generation_table: vars.generation_table,
                ephemeral_heap_segment: vars.ephemeral_heap_segment,
                alloc_allocated: vars.alloc_allocated,
                finalize_queue: vars.finalize_queue,
            }]);
        }
        let ptr = vars.pointer_size;
        let off = |k: usize| -> Option<u64> {
            if vars.layout == Layout::V1 || vars.gc_heap_field_offsets.is_empty() {
                Some(fixed_gc_heap_offset(ptr, k))
            } else {
                match vars.gc_heap_field_offsets.get(k) {
                    Some(&o) if o >= 0 => Some(o as u64),
                    _ => None,
                }
            }
        };
        let mut heaps = Vec::with_capacity(vars.heaps.len());
        for (i, &h) in vars.heaps.iter().enumerate() {
            let read = |k, what| -> Result<u64, ClrError> {
                match off(k) {
                    Some(o) => mem.read_pointer(h.wrapping_add(o)).ctx(what),
                    None => Ok(0),
                }
            };
            let generation_table = match off(GC_HEAP_GENERATION_TABLE) {
                Some(o) => h.wrapping_add(o),
                None => {
                    return Err(ClrError::Corrupt {
                        what: "gc_heap",
                        addr: h,
                        why: "the runtime does not give the generation table's offset".into(),
                    })
                }
            };
            heaps.push(GcHeap {
                index: i as u32,
                generation_table,
                alloc_allocated: read(GC_HEAP_ALLOC_ALLOCATED, "gc_heap.alloc_allocated")?,
                ephemeral_heap_segment: read(GC_HEAP_EPHEMERAL, "gc_heap.ephemeral_heap_segment")?,
                finalize_queue: read(GC_HEAP_FINALIZE_QUEUE, "gc_heap.finalize_queue")?,
            });
        }
        Ok(heaps)
    }

    /// Address of generation `g`'s entry.
    pub fn generation(&self, vars: &GcDacVars, g: u64) -> u64 {
        self.generation_table
            .wrapping_add(g.wrapping_mul(vars.generation_size))
    }

    /// The first segment of generation `g`.
    pub fn start_segment(
        &self,
        mem: &dyn AddressSpace,
        vars: &GcDacVars,
        g: u64,
    ) -> Result<u64, ClrError> {
        let off = match vars.generation_field_offsets.get(1) {
            Some(&o) if o >= 0 => o as u64,
            _ => fixed_start_segment_offset(vars.pointer_size),
        };
        mem.read_pointer(self.generation(vars, g).wrapping_add(off))
            .ctx("generation.start_segment")
    }
}

/// The fields of a `heap_segment` record the walker uses.
#[derive(Debug, Clone, Copy)]
pub struct SegmentRecord {
    /// `allocated`.
    pub allocated: u64,
    /// `committed`.
    pub committed: u64,
    /// `reserved`.
    pub reserved: u64,
    /// `mem`.
    pub mem: u64,
    /// `flags`.
    pub flags: u64,
    /// `next`.
    pub next: u64,
    /// The process's pointer size (the record was read with it).
    pub pointer_size: PointerSize,
}

impl SegmentRecord {
    /// Reads the record at `addr`: seven pointer-sized fields
    /// (`dac_heap_segment`), with `mem`'s pointer size.
    pub fn read(mem: &dyn AddressSpace, addr: u64) -> Result<SegmentRecord, ClrError> {
        let ptr = PointerSize::of(mem);
        let mut buf = [0u8; 0x38];
        let b = &mut buf[..7 * ptr.usize()];
        mem.read_virtual(addr, b).ctx("a heap_segment record")?;
        let f = |i: usize| ptr.read(b, i * ptr.usize());
        Ok(SegmentRecord {
            allocated: f(0),
            committed: f(1),
            reserved: f(2),
            mem: f(4),
            flags: f(5),
            next: f(6),
            pointer_size: ptr,
        })
    }

    /// Plausibility: `mem ≤ allocated ≤ reserved`, `committed ≤ reserved`.
    pub fn plausible(&self) -> bool {
        self.mem != 0
            && self.mem <= self.allocated
            && self.allocated <= self.reserved
            && self.committed <= self.reserved
            && self.pointer_size.aligned(self.mem)
    }
}

/// Regions or segments: with regions every generation has its own chain;
/// with segments generations 0 and 1 live in the ephemeral segment, on the
/// generation 2 chain, and their `start_segment` is that one segment.
pub fn uses_regions(
    mem: &dyn AddressSpace,
    vars: &GcDacVars,
    heaps: &[GcHeap],
) -> Result<bool, ClrError> {
    if vars.layout == Layout::V1 {
        return Ok(false);
    }
    let Some(h) = heaps.first() else {
        return Ok(false);
    };
    Ok(h.start_segment(mem, vars, 0)? != h.start_segment(mem, vars, 1)?)
}

/// The confirmation asked of a `GcDacVars` candidate: its heaps and
/// segments read, and some segment starts with a valid MethodTable.
pub fn confirms_heap(mem: &dyn AddressSpace, vars: &GcDacVars) -> bool {
    GcHeap::all(mem, vars)
        .ok()
        .and_then(|hs| segments(mem, vars, &hs).ok())
        .is_some_and(|segs| {
            segs.iter().any(|s| {
                mem.read_pointer(s.start)
                    .ok()
                    .and_then(|mt| {
                        let tag = PointerSize::of(mem).method_table_tag();
                        crate::methodtable::MethodTable::read(mem, mt & !tag)
                    })
                    .is_some()
            })
        })
}

/// Every segment (or region) of every heap, sorted by start address.
pub fn segments(
    mem: &dyn AddressSpace,
    vars: &GcDacVars,
    heaps: &[GcHeap],
) -> Result<Vec<Segment>, ClrError> {
    segments_and_skipped(mem, vars, heaps).map(|(s, _)| s)
}

/// Most bytes of objects one segment or region can hold: no segment or
/// region comes near 1 TiB (the GC reserves 256 GiB for all its regions by
/// default), so a record claiming more is damaged.
pub const MAX_SEGMENT_BYTES: u64 = 1 << 40;

/// A record on a generation's chain that is not walked, and the read says
/// so: one that says it is a free region or a large region's continuation
/// (`allocated` 0 or negative: neither is ever on a chain,
/// docs/clr-heap-walk.md §2.3), or one that claims more than
/// [`MAX_SEGMENT_BYTES`] of objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SkippedRecord {
    /// The record.
    pub record: u64,
    /// Its `mem`.
    pub mem: u64,
    /// Where its objects would end (`allocated`, or the GC's
    /// `alloc_allocated` for the ephemeral segment).
    pub allocated: u64,
}

impl SkippedRecord {
    /// Why it is not walked, in words.
    pub fn why(&self) -> String {
        if (self.allocated as i64) <= 0 {
            format!(
                "its record says allocated = {:#x}, what a free region or a large region's \
                 continuation says, and neither is ever on a generation's chain (a damaged \
                 record): its objects are not counted",
                self.allocated
            )
        } else {
            format!(
                "its record claims {} bytes of objects ({:#x}..{:#x}), more than any segment \
                 or region holds (a damaged record): its objects are not counted",
                self.allocated.wrapping_sub(self.mem),
                self.mem,
                self.allocated
            )
        }
    }
}

/// [`segments`], and the records on the chains that were not walked.
pub fn segments_and_skipped(
    mem: &dyn AddressSpace,
    vars: &GcDacVars,
    heaps: &[GcHeap],
) -> Result<(Vec<Segment>, Vec<SkippedRecord>), ClrError> {
    let regions = uses_regions(mem, vars, heaps)?;
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for heap in heaps {
        let gens: Vec<u64> = if regions {
            (0..vars.total_generation_count).collect()
        } else {
            (2..vars.total_generation_count).collect()
        };
        for g in gens {
            let mut seg = heap.start_segment(mem, vars, g)?;
            let mut n = 0;
            while seg != 0 {
                n += 1;
                if n > MAX_CHAIN || !seen.insert(seg) {
                    break;
                }
                let rec = SegmentRecord::read(mem, seg)?;
                let ephemeral = seg == heap.ephemeral_heap_segment;
                let end = if ephemeral {
                    heap.alloc_allocated
                } else {
                    rec.allocated
                };
                // Regions: allocated == 0 is a free region, a "negative"
                // value a continuation record of a large region.
                if (rec.allocated as i64) <= 0 && rec.mem != 0 && !ephemeral {
                    skipped.push(SkippedRecord {
                        record: seg,
                        mem: rec.mem,
                        allocated: rec.allocated,
                    });
                }
                if (rec.allocated as i64) > 0 && end > rec.mem && end - rec.mem > MAX_SEGMENT_BYTES
                {
                    skipped.push(SkippedRecord {
                        record: seg,
                        mem: rec.mem,
                        allocated: end,
                    });
                } else if (rec.allocated as i64) > 0 && rec.mem != 0 && end > rec.mem {
                    if !rec.plausible() && !ephemeral {
                        return Err(ClrError::Corrupt {
                            what: "heap_segment",
                            addr: seg,
                            why: format!(
                                "mem {:#x}, allocated {:#x}, committed {:#x}, reserved {:#x}",
                                rec.mem, rec.allocated, rec.committed, rec.reserved
                            ),
                        });
                    }
                    let kind = if rec.flags & SEG_READONLY != 0 {
                        SegmentKind::Frozen
                    } else if rec.flags & SEG_POH != 0 || g == 4 {
                        SegmentKind::Pinned
                    } else if rec.flags & SEG_LOH != 0 || g == 3 {
                        SegmentKind::Large
                    } else {
                        SegmentKind::Small
                    };
                    out.push(Segment {
                        record: seg,
                        start: rec.mem,
                        end,
                        kind,
                        generation: g as u8,
                        heap: heap.index,
                        ephemeral,
                    });
                }
                seg = rec.next;
            }
        }
    }
    out.sort_by_key(|s| s.start);
    skipped.sort_by_key(|s| s.record);
    // Overlapping ranges would make an object appear twice.
    for w in out.windows(2) {
        if w[0].end > w[1].start {
            return Err(ClrError::Corrupt {
                what: "heap_segment",
                addr: w[1].record,
                why: format!(
                    "objects {:#x}..{:#x} overlap the segment before ({:#x}..{:#x})",
                    w[1].start, w[1].end, w[0].start, w[0].end
                ),
            });
        }
    }
    Ok((out, skipped))
}
