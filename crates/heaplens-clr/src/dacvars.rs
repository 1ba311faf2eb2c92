//! `GcDacVars`: the GC's own table of the addresses it hands to the DAC.
//!
//! Found by shape, never by a table of build numbers: the entries of the
//! runtime's `g_dacTable` (read both as pointers and as 32-bit RVAs) are
//! tried first, then a scan of the runtime module's memory. Every candidate
//! must pass [`GcDacVars::parse`]'s checks, which end in walking a real
//! heap segment.
//!
//! Every field after the two version bytes is pointer-sized (`size_t` or a
//! pointer: `gcinterface.dac.h`, `gcinterface.dacvars.def`), so the layout
//! is one of pointer slots: slot 1 is `generation_size`, and a field at
//! slot *k* is at `k × pointer size` in a 64-bit process (0x8, 0x10, …)
//! and a 32-bit one (0x4, 0x8, …) alike.

use crate::error::{ClrError, MemCtx};
use crate::runtime::RuntimeModule;
use crate::target::Target;
use crate::width::PointerSize;
use heaplens_memory::AddressSpace;

/// Which `GcDacVars` layout the runtime has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// .NET Core 2.x–3.x: no `total_generation_count`.
    V1,
    /// .NET 5 and later: `total_generation_count` in slot 2 (0x10 on
    /// 64-bit) and later fields one slot further.
    V5,
}

/// The parsed `GcDacVars`.
#[derive(Debug, Clone)]
pub struct GcDacVars {
    /// Where the structure is.
    pub address: u64,
    /// The process's pointer size (the layout was read with it).
    pub pointer_size: PointerSize,
    /// Its layout.
    pub layout: Layout,
    /// `major_version`.
    pub major: u8,
    /// `minor_version`.
    pub minor: u8,
    /// `sizeof(generation)`.
    pub generation_size: u64,
    /// Generations per heap (4 before POH, 5 with it).
    pub total_generation_count: u64,
    /// True when the GC runs as server GC (several heaps).
    pub server: bool,
    /// Workstation: the generation table.
    pub generation_table: u64,
    /// Workstation: the ephemeral segment.
    pub ephemeral_heap_segment: u64,
    /// Workstation: the end of the ephemeral segment's objects.
    pub alloc_allocated: u64,
    /// Workstation: the finalization queue (`CFinalize*`).
    pub finalize_queue: u64,
    /// Server: the `gc_heap*` of every heap.
    pub heaps: Vec<u64>,
    /// `gc_structures_invalid_cnt`.
    pub invalid_count: i32,
    /// `g_HandleTableMap`.
    pub handle_table_map: u64,
    /// Server, .NET 6+: offsets of `gc_heap` fields (−1 = absent).
    pub gc_heap_field_offsets: Vec<i32>,
    /// .NET 6+: offsets of `generation` fields: allocation context,
    /// start segment, allocation start (−1 = absent).
    pub generation_field_offsets: Vec<i32>,
}

/// The pointer slots of the fields of one layout (a field at slot *k* is
/// at `k × pointer size`).
struct Slots {
    generation_table: u64,
    max_gen: u64,
    ephemeral_heap_segment: u64,
    alloc_allocated: u64,
    finalize_queue: u64,
    n_heaps: u64,
    g_heaps: u64,
    invalid_cnt: u64,
    handle_table_map: u64,
    gc_heap_field_offsets: Option<u64>,
    generation_field_offsets: Option<u64>,
}

/// `gcinterface.dacvars.def` of .NET Core 3.1: slot 0 the version bytes,
/// 1 `generation_size`, then `build_variant`, `built_with_svr`,
/// `gc_global_mechanisms`, `generation_table` (5), …
const V1: Slots = Slots {
    generation_table: 5,
    max_gen: 6,
    ephemeral_heap_segment: 9,
    alloc_allocated: 14,
    finalize_queue: 17,
    n_heaps: 21,
    g_heaps: 22,
    invalid_cnt: 23,
    handle_table_map: 28,
    gc_heap_field_offsets: None,
    generation_field_offsets: None,
};

/// .NET 5 and later: `total_generation_count` in slot 2, the rest one slot
/// further, then (.NET 6+) the field offset tables.
const V5: Slots = Slots {
    generation_table: 6,
    max_gen: 7,
    ephemeral_heap_segment: 10,
    alloc_allocated: 15,
    finalize_queue: 18,
    n_heaps: 22,
    g_heaps: 23,
    invalid_cnt: 24,
    handle_table_map: 29,
    gc_heap_field_offsets: Some(30),
    generation_field_offsets: Some(31),
};

/// Slots read of a candidate (every field used lies below).
const SLOTS_READ: usize = 32;

/// Most heaps a server GC can have (one per core; 1024 is far above any
/// machine's count and keeps a bad value from allocating much).
const MAX_HEAPS: u64 = 1024;

/// The quick shape test of a candidate in a process of pointer size `ptr`:
/// the version bytes, the padding after them and the generation size.
fn quick_shape(b: &[u8], ptr: PointerSize) -> bool {
    let p = ptr.usize();
    b.len() >= 2 * p && (1..=9).contains(&b[0]) && b[1] < 64 && b[2..p].iter().all(|&x| x == 0) && {
        let gs = ptr.read(b, p);
        (0x40..=0x800).contains(&gs) && ptr.aligned(gs)
    }
}

impl GcDacVars {
    /// Parses and validates the structure at `addr`, with `mem`'s pointer
    /// size. `None` when it is not a `GcDacVars` (shape checks fail or its
    /// pointers lead nowhere).
    pub fn parse(mem: &dyn AddressSpace, addr: u64) -> Option<GcDacVars> {
        let ptr = PointerSize::of(mem);
        let p = ptr.usize();
        let mut buf = [0u8; 8 * SLOTS_READ];
        let b = &mut buf[..p * SLOTS_READ];
        mem.read_virtual(addr, b).ok()?;
        if !quick_shape(b, ptr) {
            return None;
        }
        let slot = |k: u64| ptr.read(b, k as usize * p);
        let tgc = slot(2);
        let (layout, o, total_generation_count) = if tgc == 4 || tgc == 5 {
            (Layout::V5, &V5, tgc)
        } else {
            (Layout::V1, &V1, 4)
        };
        // max_gen must be 2.
        let max_gen = mem.read_u32(slot(o.max_gen)).ok()?;
        if max_gen != 2 {
            return None;
        }
        // `built_with_svr` says only that the GC *can* run as server GC;
        // whether it does shows in which fields are set: the workstation
        // ones (generation table…) or the server ones (heap list). Regions
        // show in the generation chains (`heap::uses_regions`), not in
        // `build_variant`.
        let server = slot(o.generation_table) == 0 && slot(o.g_heaps) != 0;
        let read_ptr_at = |k: u64| -> u64 {
            match slot(k) {
                0 => 0,
                at => mem.read_pointer(at).unwrap_or(0),
            }
        };
        let invalid_count = mem.read_u32(slot(o.invalid_cnt)).unwrap_or(0) as i32;
        let handle_table_map = slot(o.handle_table_map);
        let read_i32s = |k: Option<u64>, n: usize| -> Vec<i32> {
            let Some(k) = k else { return Vec::new() };
            let at = slot(k);
            if at == 0 {
                return Vec::new();
            }
            let mut v = vec![0u8; 4 * n];
            if mem.read_virtual(at, &mut v).is_err() {
                return Vec::new();
            }
            v.chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                .collect()
        };
        let mut vars = GcDacVars {
            address: addr,
            pointer_size: ptr,
            layout,
            major: b[0],
            minor: b[1],
            generation_size: slot(1),
            total_generation_count,
            server,
            generation_table: slot(o.generation_table),
            ephemeral_heap_segment: read_ptr_at(o.ephemeral_heap_segment),
            alloc_allocated: read_ptr_at(o.alloc_allocated),
            finalize_queue: read_ptr_at(o.finalize_queue),
            heaps: Vec::new(),
            invalid_count,
            handle_table_map,
            gc_heap_field_offsets: read_i32s(o.gc_heap_field_offsets, 20),
            generation_field_offsets: read_i32s(o.generation_field_offsets, 3),
        };
        if server {
            let n = mem.read_u32(slot(o.n_heaps)).ok()? as u64;
            if n == 0 || n > MAX_HEAPS {
                return None;
            }
            let table = mem.read_pointer(slot(o.g_heaps)).ok()?;
            let mut heaps = Vec::with_capacity(n as usize);
            for i in 0..n {
                heaps.push(mem.read_pointer(table.wrapping_add(ptr.times(i))).ok()?);
            }
            vars.heaps = heaps;
        } else if vars.generation_table == 0 {
            return None;
        }
        Some(vars)
    }
}

/// Finds `GcDacVars`: through `g_dacTable` when exported, else by a shape
/// scan of the runtime module's memory. `check` must confirm a candidate
/// (by walking its heap's first segment).
pub fn locate(
    target: &Target<'_>,
    runtime: &RuntimeModule,
    check: &dyn Fn(&GcDacVars) -> bool,
) -> Result<GcDacVars, ClrError> {
    let mem = target.memory;
    let four = PointerSize::of(mem) == PointerSize::Four;
    let mut tried = Vec::new();
    if let Some(table) = runtime.dac_table {
        tried.push(format!("g_dacTable at {table:#x}"));
        // The table's length is not known: read up to 1024 entries that are
        // in the dump.
        let mut candidates = Vec::new();
        for i in 0..1024u64 {
            let Ok(v) = mem.read_u64(table.wrapping_add(8 * i)) else {
                break;
            };
            candidates.push(v);
            // The same bytes as two 32-bit RVAs, or in a 32-bit process
            // two pointers.
            for half in [v & 0xffff_ffff, v >> 32] {
                if half != 0 {
                    candidates.push(runtime.module.start.wrapping_add(half));
                    if four {
                        candidates.push(half);
                    }
                }
            }
        }
        for c in candidates {
            if c == 0 {
                continue;
            }
            for addr in [Some(c), mem.read_pointer(c).ok()].into_iter().flatten() {
                if let Some(v) = GcDacVars::parse(mem, addr) {
                    if check(&v) {
                        return Ok(v);
                    }
                }
            }
        }
    }
    tried.push("a shape scan of the runtime's memory".into());
    if let Some(v) = scan(mem, runtime, check)? {
        return Ok(v);
    }
    Err(ClrError::NoGcInfo {
        runtime: runtime.module.file_name().to_owned(),
        why: format!("tried {}", tried.join(" and ")),
    })
}

fn scan(
    mem: &dyn AddressSpace,
    runtime: &RuntimeModule,
    check: &dyn Fn(&GcDacVars) -> bool,
) -> Result<Option<GcDacVars>, ClrError> {
    let m = &runtime.module;
    // The module's zero-initialised data (.bss), where `g_gc_dac_vars`
    // lives, is an anonymous mapping right after the file's mappings: take
    // the regions that follow without a gap of more than a page.
    let mut scan_end = m.end;
    for r in mem.regions() {
        if r.end() > scan_end && r.start <= scan_end + 0x1000 && r.start < m.end + (64 << 20) {
            scan_end = scan_end.max(r.end());
        }
    }
    const CHUNK: u64 = 1 << 20;
    let ptr = PointerSize::of(mem);
    let mut buf = Vec::new();
    for r in mem.regions() {
        if r.end() <= m.start || r.start >= scan_end || r.data_size == 0 {
            continue;
        }
        let start = r.start.max(m.start);
        let end = (r.start + r.data_size).min(scan_end);
        let mut pos = start;
        while pos + 16 <= end {
            let n = (end - pos).min(CHUNK + 16) as usize;
            if buf.len() < n {
                buf.resize(n, 0);
            }
            let chunk = &mut buf[..n];
            mem.read_virtual(pos, chunk)
                .ctx("the runtime module's memory")?;
            let mut i = 0;
            while i + 16 <= n {
                if quick_shape(&chunk[i..], ptr) {
                    if let Some(v) = GcDacVars::parse(mem, pos + i as u64) {
                        if check(&v) {
                            return Ok(Some(v));
                        }
                    }
                }
                i += ptr.usize();
            }
            pos += CHUNK;
        }
    }
    Ok(None)
}
