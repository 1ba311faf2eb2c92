//! MethodTables: sizes, flags, validation and the GCDesc that says where an
//! object's references are.
//!
//! The header is the same on 32- and 64-bit but for its pointers: `m_dwFlags`
//! at 0, `m_BaseSize` at 4, `m_wFlags2`/`m_wToken` (or `m_dwFlags2`) at 8,
//! `m_wNumVirtuals` at 0xC, `m_wNumInterfaces` at 0xE, then one pointer each:
//! the parent MethodTable (0x10), the module (0x14 / 0x18), the writeable or
//! auxiliary data, the EEClass or canonical MethodTable, the per-instance
//! information or element type, the interface map (docs/clr-heap-walk.md
//! §3.2; `methodtable.h`).

use crate::width::{PointerSize, Word, W32, W64};
use heaplens_memory::AddressSpace;

/// `m_dwFlags`: the low 16 bits are the component size.
pub const HAS_COMPONENT_SIZE: u32 = 0x8000_0000;
/// `m_dwFlags`: instances hold references (a GCDesc precedes the MT).
pub const CONTAINS_POINTERS: u32 = 0x0100_0000;
/// `m_dwFlags`: the type has a finalizer.
pub const HAS_FINALIZER: u32 = 0x0010_0000;
/// `m_dwFlags`: collectible (unloadable) type.
pub const COLLECTIBLE: u32 = 0x1000_0000;
/// `m_dwFlags`: category bits.
pub const CATEGORY_MASK: u32 = 0x000F_0000;
/// `m_dwFlags`: array category mask.
pub const ARRAY_MASK: u32 = 0x000C_0000;
/// `m_dwFlags`: array category.
pub const ARRAY: u32 = 0x0008_0000;
/// `m_dwFlags`: under [`ARRAY_MASK`], the value type categories (value
/// types, `Nullable`, enums, primitives).
pub const VALUE_TYPE: u32 = 0x0004_0000;
/// `m_dwFlags`: with [`ARRAY`], a single-dimension zero-based array.
pub const IF_ARRAY_THEN_SZARRAY: u32 = 0x0002_0000;
/// `m_dwFlags`: interface category.
pub const INTERFACE: u32 = 0x000C_0000;
/// The flags of the Free MethodTable.
pub const FREE_FLAGS: u32 = 0x8000_0001;

/// Smallest object the GC allocates in a 64-bit process (in a 32-bit one,
/// 12 bytes: [`PointerSize::min_object_size`]).
pub const MIN_OBJECT_SIZE: u64 = 24;
/// Largest base size accepted for a MethodTable.
const MAX_BASE_SIZE: u32 = 256 << 20;

/// Where an object's references are: a GCDesc, as stored below its
/// MethodTable (in pointer-sized fields; the value-array items in two
/// half-pointers each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcDesc {
    /// Runs of references: `(size_with_base_removed, start_offset)`; a run
    /// covers `[obj + start, obj + start + size + object_size)`.
    Series(Vec<(i64, u64)>),
    /// Arrays of structs holding references: from `obj + start`, repeat
    /// `(pointer count, bytes to skip)` items while below the object's end
    /// (less a pointer).
    ValueArray {
        /// Offset of the first element's first reference.
        start: u64,
        /// The repeating items.
        items: Vec<(u32, u32)>,
    },
}

/// What the walker needs of a MethodTable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodTable {
    /// The process's pointer size (the layout it was read with).
    pub pointer_size: PointerSize,
    /// `m_dwFlags`.
    pub flags: u32,
    /// `m_BaseSize`.
    pub base_size: u32,
    /// Component size (0 unless the type has components).
    pub component_size: u32,
    /// True for the Free MethodTable.
    pub is_free: bool,
    /// `m_pParentMethodTable` (0 for Object, interfaces and Free).
    pub parent: u64,
    /// Where the references are, when the type has any.
    pub gcdesc: Option<GcDesc>,
}

impl MethodTable {
    /// Reads and checks the MethodTable at `mt` (with `mem`'s pointer
    /// size). `None` when it does not look like one.
    pub fn read(mem: &dyn AddressSpace, mt: u64) -> Option<MethodTable> {
        let ptr = PointerSize::of(mem);
        let p = ptr.usize();
        if mt == 0 || !ptr.aligned(mt) {
            return None;
        }
        // The header up to the interface map.
        let mut b = [0u8; 0x40];
        let b = &mut b[..0x10 + 6 * p];
        mem.read_virtual(mt, b).ok()?;
        let flags = u32::from_le_bytes(b[0..4].try_into().ok()?);
        let base_size = u32::from_le_bytes(b[4..8].try_into().ok()?);
        let parent = ptr.read(b, 0x10);
        // Free: the only MethodTable with no parent and a component size
        // (docs/clr-heap-walk.md §2.6) — `FREE_FLAGS` in CoreCLR; other
        // flag bits are not relied on (.NET Framework's are not known).
        // Its base size is the array base size.
        let is_free = flags & HAS_COMPONENT_SIZE != 0
            && flags & 0xffff == FREE_FLAGS & 0xffff
            && parent == 0
            && u64::from(base_size) == ptr.array_base_size();
        let component_size = if flags & HAS_COMPONENT_SIZE != 0 {
            flags & 0xffff
        } else {
            0
        };
        if !is_free {
            // The smallest base size is a header and a MethodTable (an
            // interface's); strings have base size 0x16 on 64-bit, 0xE on
            // 32-bit (header, MT, length, terminator).
            if !(2 * p as u32..=MAX_BASE_SIZE).contains(&base_size) {
                return None;
            }
            // Only strings may have an unaligned base size.
            if !ptr.aligned(u64::from(base_size)) && component_size != 2 {
                return None;
            }
            if !ptr.aligned(parent) {
                return None;
            }
        }
        let gcdesc = if flags & CONTAINS_POINTERS != 0 && !is_free {
            Some(read_gcdesc(mem, ptr, mt)?)
        } else {
            None
        };
        Some(MethodTable {
            pointer_size: ptr,
            flags,
            base_size,
            component_size,
            is_free,
            parent,
            gcdesc,
        })
    }

    /// True for array types (not strings).
    pub fn is_array(&self) -> bool {
        self.flags & ARRAY_MASK == ARRAY
    }

    /// True for value types, enums and primitives included (the
    /// runtime's `Category_ValueType_Mask`).
    pub fn is_value_type(&self) -> bool {
        self.flags & ARRAY_MASK == VALUE_TYPE
    }

    /// The object's size as SOS and the runtime's own heap walk report
    /// it: base size plus components, not rounded up (an empty string is
    /// 22 bytes; 14 in a 32-bit process). In memory an object takes at
    /// least the minimum object, rounded up to its alignment
    /// ([`PointerSize::object_extent`]).
    pub fn object_size(&self, components: u32) -> u64 {
        self.base_size as u64 + components as u64 * self.component_size as u64
    }
}

/// Most series a GCDesc may have (a type with more than this many separate
/// reference runs does not exist in practice; it bounds the read).
const MAX_SERIES: i64 = 1 << 16;

/// Reads the GCDesc below the MethodTable at `mt`: the series count `n` (a
/// signed pointer-sized value) in the pointer before it; for `n > 0`, `n`
/// series of two pointers `{size, start}` below that, the first highest;
/// for `n < 0`, the start offset in the pointer below the count, and `-n`
/// items of two half-pointers `{pointer count, bytes to skip}` below it
/// (`gcdesc.h`: `CGCDescSeries`, `val_serie_item`).
fn read_gcdesc(mem: &dyn AddressSpace, ptr: PointerSize, mt: u64) -> Option<GcDesc> {
    let p = ptr.bytes();
    let mut word = [0u8; 8];
    mem.read_virtual(mt.checked_sub(p)?, &mut word[..p as usize])
        .ok()?;
    let n = ptr.read_signed(&word, 0);
    if n == 0 || n.unsigned_abs() > MAX_SERIES as u64 {
        return None;
    }
    if n > 0 {
        let len = 2 * p * n as u64;
        let mut b = vec![0u8; len as usize];
        mem.read_virtual(mt.checked_sub(p + len)?, &mut b).ok()?;
        // Series i is at MT − p − 2p·(i+1): the buffer holds them from the
        // last to the first.
        let mut series = Vec::with_capacity(n as usize);
        for i in 0..n as usize {
            let o = b.len() - 2 * ptr.usize() * (i + 1);
            let size = ptr.read_signed(&b, o);
            let start = ptr.read(&b, o + ptr.usize());
            series.push((size, start));
        }
        Some(GcDesc::Series(series))
    } else {
        let k = (-n) as u64;
        mem.read_virtual(mt.checked_sub(2 * p)?, &mut word[..p as usize])
            .ok()?;
        let start = ptr.read(&word, 0);
        let len = p * k;
        let mut b = vec![0u8; len as usize];
        mem.read_virtual(mt.checked_sub(2 * p + len)?, &mut b)
            .ok()?;
        // Item j is at MT − 3p − p·j.
        let half = ptr.usize() / 2;
        let read_half = |o: usize| -> Option<u32> {
            let w = b.get(o..o + half)?;
            Some(if half == 4 {
                u32::from_le_bytes(w.try_into().ok()?)
            } else {
                u32::from(u16::from_le_bytes(w.try_into().ok()?))
            })
        };
        let mut items = Vec::with_capacity(k as usize);
        for j in 0..k as usize {
            let o = b.len() - ptr.usize() * (j + 1);
            items.push((read_half(o)?, read_half(o + half)?));
        }
        Some(GcDesc::ValueArray { start, items })
    }
}

impl GcDesc {
    /// Calls `f` with the offset (from the object's start) of every
    /// reference slot of an object of `size` bytes (components included)
    /// in a process of pointer size `ptr`.
    pub fn for_each_slot(&self, ptr: PointerSize, size: u64, f: impl FnMut(u64)) {
        match ptr {
            PointerSize::Four => self.slots::<W32>(size, f),
            PointerSize::Eight => self.slots::<W64>(size, f),
        }
    }

    /// [`GcDesc::for_each_slot`] for words of `W`.
    #[inline(always)]
    pub(crate) fn slots<W: Word>(&self, size: u64, mut f: impl FnMut(u64)) {
        let p = W::BYTES;
        match self {
            GcDesc::Series(series) => {
                for &(ssize, start) in series {
                    let len = ssize.wrapping_add(size as i64);
                    if len <= 0 {
                        continue;
                    }
                    let end = start.saturating_add(len as u64).min(size);
                    if start >= end {
                        continue;
                    }
                    // `o` < `end` ≤ `size`: no overflow.
                    let mut o = start;
                    while o + p <= end {
                        f(o);
                        o += p;
                    }
                }
            }
            GcDesc::ValueArray { start, items } => {
                // The last pointer of an object's size is the next
                // object's header.
                let limit = size.saturating_sub(p);
                // Each round must advance, or a corrupt desc would loop.
                let per_round: u64 = items.iter().map(|&(n, s)| p * n as u64 + s as u64).sum();
                if per_round == 0 {
                    return;
                }
                let mut o = *start;
                while o < limit {
                    for &(n, skip) in items {
                        for _ in 0..n {
                            if o >= limit {
                                return;
                            }
                            f(o);
                            o += p;
                        }
                        // `o` < `limit` + p here: no overflow.
                        o += skip as u64;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn series_cover_object_array_elements() {
        // object[]: one series, start 0x10, size stored as −base (−0x18).
        let d = GcDesc::Series(vec![(-0x18, 0x10)]);
        let mut slots = Vec::new();
        d.for_each_slot(PointerSize::Eight, 0x18 + 3 * 8, |o| slots.push(o));
        assert_eq!(slots, vec![0x10, 0x18, 0x20]);
    }

    #[test]
    fn value_array_repeats_items() {
        // struct { object a; long b; object c; } elements of 24 bytes:
        // items (1 ptr, skip 8), (1 ptr, skip 0).
        let d = GcDesc::ValueArray {
            start: 0x10,
            items: vec![(1, 8), (1, 0)],
        };
        let mut slots = Vec::new();
        d.for_each_slot(PointerSize::Eight, 0x18 + 2 * 24, |o| slots.push(o));
        assert_eq!(slots, vec![0x10, 0x20, 0x28, 0x38]);
    }

    #[test]
    fn series_of_32_bit_objects_step_by_4() {
        // object[] on 32-bit: start 8 (after the MT and the length), size
        // stored as −base (−12).
        let d = GcDesc::Series(vec![(-12, 8)]);
        let mut slots = Vec::new();
        d.for_each_slot(PointerSize::Four, 12 + 3 * 4, |o| slots.push(o));
        assert_eq!(slots, vec![8, 12, 16]);
        // struct { object a; int b; object c; } elements of 12 bytes.
        let d = GcDesc::ValueArray {
            start: 8,
            items: vec![(1, 4), (1, 0)],
        };
        let mut slots = Vec::new();
        d.for_each_slot(PointerSize::Four, 12 + 2 * 12, |o| slots.push(o));
        assert_eq!(slots, vec![8, 16, 20, 28]);
    }

    #[test]
    fn corrupt_value_array_does_not_loop() {
        let d = GcDesc::ValueArray {
            start: 0x10,
            items: vec![(0, 0)],
        };
        let mut n = 0;
        d.for_each_slot(PointerSize::Eight, 1 << 20, |_| n += 1);
        assert_eq!(n, 0);
    }
}
