//! `GcDacVars`: the GC's own table of the addresses it hands to the DAC.
//!
//! Found by shape, never by a table of build numbers: the entries of the
//! runtime's `g_dacTable` (read both as pointers and as 32-bit RVAs) are
//! tried first, then a scan of the runtime module's memory. Every candidate
//! must pass [`GcDacVars::parse`]'s checks, which end in walking a real
//! heap segment.

use crate::error::{ClrError, MemCtx};
use crate::runtime::RuntimeModule;
use crate::target::Target;
use heaplens_memory::AddressSpace;

/// Which `GcDacVars` layout the runtime has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// .NET Core 2.x–3.x: no `total_generation_count`.
    V1,
    /// .NET 5 and later: `total_generation_count` at 0x10 and later fields
    /// shifted by 8.
    V5,
}

/// The parsed `GcDacVars`.
#[derive(Debug, Clone)]
pub struct GcDacVars {
    /// Where the structure is.
    pub address: u64,
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

/// Offsets of the fields of one layout.
struct Offsets {
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

const V1: Offsets = Offsets {
    generation_table: 0x28,
    max_gen: 0x30,
    ephemeral_heap_segment: 0x48,
    alloc_allocated: 0x70,
    finalize_queue: 0x88,
    n_heaps: 0xA8,
    g_heaps: 0xB0,
    invalid_cnt: 0xB8,
    handle_table_map: 0xE0,
    gc_heap_field_offsets: None,
    generation_field_offsets: None,
};

const V5: Offsets = Offsets {
    generation_table: 0x30,
    max_gen: 0x38,
    ephemeral_heap_segment: 0x50,
    alloc_allocated: 0x78,
    finalize_queue: 0x90,
    n_heaps: 0xB0,
    g_heaps: 0xB8,
    invalid_cnt: 0xC0,
    handle_table_map: 0xE8,
    gc_heap_field_offsets: Some(0xF0),
    generation_field_offsets: Some(0xF8),
};

/// Most heaps a server GC can have (one per core; 1024 is far above any
/// machine's count and keeps a bad value from allocating much).
const MAX_HEAPS: u64 = 1024;

/// The quick shape test of a candidate: the version bytes and the
/// generation size.
fn quick_shape(b: &[u8]) -> bool {
    b.len() >= 16 && (1..=9).contains(&b[0]) && b[1] < 64 && b[2..8].iter().all(|&x| x == 0) && {
        let gs = u64::from_le_bytes(b[8..16].try_into().unwrap_or([0; 8]));
        (0x40..=0x800).contains(&gs) && gs % 8 == 0
    }
}

impl GcDacVars {
    /// Parses and validates the structure at `addr`. `None` when it is not
    /// a `GcDacVars` (shape checks fail or its pointers lead nowhere).
    pub fn parse(mem: &dyn AddressSpace, addr: u64) -> Option<GcDacVars> {
        let mut b = [0u8; 0x100];
        mem.read_virtual(addr, &mut b).ok()?;
        if !quick_shape(&b) {
            return None;
        }
        let u64_at = |o: u64| u64::from_le_bytes(b[o as usize..o as usize + 8].try_into().unwrap());
        let tgc = u64_at(0x10);
        let (layout, o, total_generation_count) = if tgc == 4 || tgc == 5 {
            (Layout::V5, &V5, tgc)
        } else {
            (Layout::V1, &V1, 4)
        };
        // max_gen must be 2.
        let max_gen = mem.read_u32(u64_at(o.max_gen)).ok()?;
        if max_gen != 2 {
            return None;
        }
        // `built_with_svr` says only that the GC *can* run as server GC;
        // whether it does shows in which fields are set: the workstation
        // ones (generation table…) or the server ones (heap list). Regions
        // show in the generation chains (`heap::uses_regions`), not in
        // `build_variant`.
        let server = u64_at(o.generation_table) == 0 && u64_at(o.g_heaps) != 0;
        let read_ptr_at = |slot: u64| -> u64 {
            let p = u64_at(slot);
            if p == 0 {
                0
            } else {
                mem.read_u64(p).unwrap_or(0)
            }
        };
        let invalid_count = mem.read_u32(u64_at(o.invalid_cnt)).unwrap_or(0) as i32;
        let handle_table_map = u64_at(o.handle_table_map);
        let read_i32s = |slot: Option<u64>, n: usize| -> Vec<i32> {
            let Some(slot) = slot else { return Vec::new() };
            let p = u64_at(slot);
            if p == 0 {
                return Vec::new();
            }
            let mut v = vec![0u8; 4 * n];
            if mem.read_virtual(p, &mut v).is_err() {
                return Vec::new();
            }
            v.chunks_exact(4)
                .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
                .collect()
        };
        let mut vars = GcDacVars {
            address: addr,
            layout,
            major: b[0],
            minor: b[1],
            generation_size: u64_at(8),
            total_generation_count,
            server,
            generation_table: u64_at(o.generation_table),
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
            let n = mem.read_u32(u64_at(o.n_heaps)).ok()? as u64;
            if n == 0 || n > MAX_HEAPS {
                return None;
            }
            let table = mem.read_u64(u64_at(o.g_heaps)).ok()?;
            let mut heaps = Vec::with_capacity(n as usize);
            for i in 0..n {
                heaps.push(mem.read_u64(table.wrapping_add(8 * i)).ok()?);
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
            // The same bytes as two 32-bit RVAs.
            for rva in [v & 0xffff_ffff, v >> 32] {
                if rva != 0 {
                    candidates.push(runtime.module.start.wrapping_add(rva));
                }
            }
        }
        for c in candidates {
            if c == 0 {
                continue;
            }
            for addr in [Some(c), mem.read_u64(c).ok()].into_iter().flatten() {
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
                if quick_shape(&chunk[i..]) {
                    if let Some(v) = GcDacVars::parse(mem, pos + i as u64) {
                        if check(&v) {
                            return Ok(Some(v));
                        }
                    }
                }
                i += 8;
            }
            pos += CHUNK;
        }
    }
    Ok(None)
}
