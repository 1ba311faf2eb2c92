//! GC roots: the handle table, the finalization queue's f-reachable part,
//! and a conservative scan of every thread's stack and registers.

use crate::dacvars::GcDacVars;
use crate::heap::{GcHeap, Segment};
use crate::target::TargetThread;
use crate::walk::Objects;
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

/// Handle table segment layout (x64, 64 KB segments).
const SEG_HANDLES: u64 = 0x1000;
const HANDLES_PER_SEGMENT: u64 = 7680;
const BLOCKS: usize = 120;
const HANDLES_PER_BLOCK: u64 = 64;
const RG_ALLOCATION: u64 = 0x1E0;
const RG_FREE_MASK: u64 = 0x258;
const RG_BLOCK_TYPE: u64 = 0x618;
const RG_USER_DATA: u64 = 0x690;
/// `pHandleTable` offsets with 12 and 13 internal handle types;
/// `pNextSegment` is 8 bytes before.
const P_HANDLE_TABLE: [u64; 2] = [0x7D0, 0x7D6];
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
    /// Handle table segments read.
    pub segments: u64,
}

/// The handle tables `g_HandleTableMap` lists: every bucket's table of
/// each of `slots` slots (one per heap in server GC, one otherwise).
pub fn handle_tables(mem: &dyn AddressSpace, vars: &GcDacVars, slots: usize) -> Vec<u64> {
    let mut out = Vec::new();
    let mut map = vars.handle_table_map;
    let mut maps = 0;
    while map != 0 && maps < 64 {
        maps += 1;
        let Ok(buckets) = mem.read_u64(map) else {
            break;
        };
        for bi in 0..BUCKETS_PER_MAP {
            let Ok(bucket) = mem.read_u64(buckets.wrapping_add(8 * bi)) else {
                continue;
            };
            if bucket == 0 {
                continue;
            }
            let Ok(tables) = mem.read_u64(bucket) else {
                continue;
            };
            for s in 0..slots as u64 {
                let Ok(table) = mem.read_u64(tables.wrapping_add(8 * s)) else {
                    continue;
                };
                if table != 0 && !out.contains(&table) {
                    out.push(table);
                }
            }
        }
        map = mem.read_u64(map.wrapping_add(8)).unwrap_or(0);
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
    if !seg.is_multiple_of(0x10000) {
        return None;
    }
    let mut header = [0u8; 0x800];
    mem.read_virtual(seg, &mut header).ok()?;
    let bytes = |at: u64| &header[at as usize..at as usize + BLOCKS];
    let index_ok = |b: &u8| (*b as usize) < BLOCKS || *b == 0xFF;
    if !bytes(RG_BLOCK_TYPE)
        .iter()
        .all(|&t| t <= MAX_HANDLE_TYPE || t == 0xFF)
        || !bytes(RG_ALLOCATION).iter().all(index_ok)
        || !bytes(RG_USER_DATA).iter().all(index_ok)
    {
        return None;
    }
    P_HANDLE_TABLE.iter().find_map(|&pht| {
        let at = pht as usize;
        let table = u64::from_le_bytes(header[at..at + 8].try_into().ok()?);
        if table == 0 || table % 8 != 0 {
            return None;
        }
        let (mut s, found_pht) = first_segment(mem, table)?;
        if found_pht != pht {
            return None;
        }
        for _ in 0..MAX_SEGMENTS {
            if s == seg {
                return Some(table);
            }
            let next = mem.read_u64(s.wrapping_add(pht - 8)).ok()?;
            if next == s || next % 0x10000 != 0 || next == 0 {
                return None;
            }
            s = next;
        }
        None
    })
}

/// Finds a handle table's first segment: a 64 KB-aligned pointer in the
/// table's header whose segment points back at the table.
fn first_segment(mem: &dyn AddressSpace, table: u64) -> Option<(u64, u64)> {
    for off in (0..0x200).step_by(8) {
        let Ok(p) = mem.read_u64(table.wrapping_add(off)) else {
            continue;
        };
        if p == 0 || p % 0x10000 != 0 {
            continue;
        }
        for pht in P_HANDLE_TABLE {
            if mem.read_u64(p.wrapping_add(pht)).ok() == Some(table) {
                return Some((p, pht));
            }
        }
    }
    None
}

fn read_table(mem: &dyn AddressSpace, table: u64, objects: &Objects, out: &mut Handles) {
    let Some((mut seg, pht)) = first_segment(mem, table) else {
        return;
    };
    let mut n = 0;
    let mut header = vec![0u8; 0x800];
    let mut values = vec![0u8; (HANDLES_PER_SEGMENT * 8) as usize];
    while seg != 0 && n < MAX_SEGMENTS {
        n += 1;
        if mem.read_virtual(seg, &mut header).is_err() {
            break;
        }
        // Blocks in use are in the dump; unused ones may not be.
        for b in 0..BLOCKS {
            let o = b * 512;
            if header[RG_BLOCK_TYPE as usize + b] == 0xFF
                || mem
                    .read_virtual(
                        seg.wrapping_add(SEG_HANDLES + o as u64),
                        &mut values[o..o + 512],
                    )
                    .is_err()
            {
                values[o..o + 512].fill(0);
            }
        }
        out.segments += 1;
        let hu64 =
            |o: u64| u64::from_le_bytes(header[o as usize..o as usize + 8].try_into().unwrap());
        let value = |h: u64| {
            let o = (8 * h) as usize;
            u64::from_le_bytes(values[o..o + 8].try_into().unwrap())
        };
        for b in 0..BLOCKS {
            let ty = header[RG_BLOCK_TYPE as usize + b];
            if ty == 0xFF {
                continue;
            }
            let user = header[RG_USER_DATA as usize + b];
            for h in (b as u64 * HANDLES_PER_BLOCK)..((b as u64 + 1) * HANDLES_PER_BLOCK) {
                let w = (h / 32) as usize;
                let mask = u32::from_le_bytes(
                    header[RG_FREE_MASK as usize + 4 * w..RG_FREE_MASK as usize + 4 * w + 4]
                        .try_into()
                        .unwrap(),
                );
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
                let location = seg.wrapping_add(SEG_HANDLES + 8 * h);
                // Extra info (dependent secondary, ref count).
                let extra = || -> Option<u64> {
                    if user == 0xFF {
                        return None;
                    }
                    let at = seg.wrapping_add(
                        SEG_HANDLES + user as u64 * 512 + 8 * (h % HANDLES_PER_BLOCK),
                    );
                    mem.read_u64(at).ok()
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
                    });
                }
            }
        }
        let next = hu64(pht - 8);
        if next == seg || next % 0x10000 != 0 {
            break;
        }
        seg = next;
    }
}

/// The objects of each heap's finalization queue, which are roots: those
/// waiting for their finalizer to run (f-reachable) and those registered
/// for finalization — a collection cannot free either before its
/// finalizer has run (the runtime's own heap walk reports objects such as
/// `Gen2GcCallback`, which re-register themselves, as finalizer roots).
/// `queues` are the heaps' `CFinalize` records, `generation_count` the
/// GC's generations (4, or 5 with the pinned object heap).
pub fn finalizer_queue(
    mem: &dyn AddressSpace,
    queues: &[u64],
    generation_count: u64,
    objects: &Objects,
) -> (Vec<FoundRoot>, u64) {
    let mut roots = Vec::new();
    let mut dangling = 0;
    for &q in queues {
        let Some((start, end)) = queue_range(mem, q, generation_count) else {
            continue;
        };
        // Only what the dump holds is read, a chunk at a time: the
        // queue's claimed length sizes nothing.
        if !heaplens_memory::holds(mem, start, end) {
            continue;
        }
        let mut buf = vec![0u8; (end - start).min(QUEUE_CHUNK) as usize];
        let mut at = start;
        while at < end {
            let n = (end - at).min(QUEUE_CHUNK) as usize;
            if mem.read_virtual(at, &mut buf[..n]).is_err() {
                break;
            }
            for (i, w) in buf[..n].chunks_exact(8).enumerate() {
                let v = u64::from_le_bytes(w.try_into().unwrap());
                match objects.find(v) {
                    Some(o) => roots.push(FoundRoot {
                        object: o as u32,
                        kind: RootKind::Finalizer,
                        location: at + 8 * i as u64,
                        thread: None,
                    }),
                    None => dangling += 1,
                }
            }
            at += n as u64;
        }
    }
    (roots, dangling)
}

/// Bytes of a finalization queue read at once.
const QUEUE_CHUNK: u64 = 1 << 20;

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

/// The entries `[m_Array, FP[last])` of the `CFinalize` at `q`:
/// `m_FillPointers[generation_count + 2]`, then `m_Array`, `m_EndArray`
/// (docs/clr-heap-walk.md §5.3) — the generations' registered objects,
/// then the critical and normal f-reachable ones. `None` when unreadable
/// or out of order.
pub(crate) fn queue_range(
    mem: &dyn AddressSpace,
    q: u64,
    generation_count: u64,
) -> Option<(u64, u64)> {
    if q == 0 {
        return None;
    }
    let fill = generation_count + 2;
    let last = mem.read_u64(q.wrapping_add(8 * (fill - 1))).ok()?;
    let array = mem.read_u64(q.wrapping_add(8 * fill)).ok()?;
    let (start, end) = (array, last);
    (end >= start && (end - start) / 8 <= MAX_QUEUE_ENTRIES && (end - start) % 8 == 0)
        .then_some((start, end))
}

/// Most bytes of one thread's stack scanned.
const MAX_STACK: u64 = 64 << 20;

/// Conservative roots: every stack word and register that points into an
/// object (interior pointers resolve to the containing object).
pub fn stacks(
    mem: &dyn AddressSpace,
    threads: &[TargetThread],
    segments: &[Segment],
    objects: &Objects,
) -> Vec<FoundRoot> {
    let in_heap = |v: u64| crate::heap::in_segments(segments, v);
    let mut roots = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for t in threads {
        for &r in &t.registers {
            if in_heap(r) {
                if let Some(o) = objects.containing(r) {
                    if seen.insert((t.id, o)) {
                        roots.push(FoundRoot {
                            object: o as u32,
                            kind: RootKind::Stack,
                            location: 0,
                            thread: Some(t.id),
                        });
                    }
                }
            }
        }
        let sp = t.stack_pointer & !7;
        let end = t
            .stack_end
            .or_else(|| {
                mem.region_at(sp)
                    .map(|r| r.start.saturating_add(r.data_size))
            })
            .unwrap_or(sp)
            .min(sp.saturating_add(MAX_STACK));
        if end <= sp {
            continue;
        }
        let mut buf = vec![0u8; (end - sp) as usize];
        if mem.read_virtual(sp, &mut buf).is_err() {
            continue;
        }
        for (i, w) in buf.chunks_exact(8).enumerate() {
            let v = u64::from_le_bytes(w.try_into().unwrap());
            if v == 0 || !in_heap(v) {
                continue;
            }
            if let Some(o) = objects.containing(v) {
                if seen.insert((t.id, o)) {
                    roots.push(FoundRoot {
                        object: o as u32,
                        kind: RootKind::Stack,
                        location: sp + 8 * i as u64,
                        thread: Some(t.id),
                    });
                }
            }
        }
    }
    roots
}
