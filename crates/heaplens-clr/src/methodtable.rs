//! MethodTables: sizes, flags, validation and the GCDesc that says where an
//! object's references are.

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

/// Smallest object the GC allocates.
pub const MIN_OBJECT_SIZE: u64 = 24;
/// Largest base size accepted for a MethodTable.
const MAX_BASE_SIZE: u32 = 256 << 20;

/// One series of a GCDesc.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GcDesc {
    /// Runs of references: `(size_with_base_removed, start_offset)`; a run
    /// covers `[obj + start, obj + start + size + object_size)`.
    Series(Vec<(i64, u64)>),
    /// Arrays of structs holding references: from `obj + start`, repeat
    /// `(pointer count, bytes to skip)` items while below the object's end.
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
    /// Reads and checks the MethodTable at `mt`. `None` when it does not
    /// look like one.
    pub fn read(mem: &dyn AddressSpace, mt: u64) -> Option<MethodTable> {
        if mt == 0 || !mt.is_multiple_of(8) {
            return None;
        }
        let mut b = [0u8; 0x40];
        mem.read_virtual(mt, &mut b).ok()?;
        let flags = u32::from_le_bytes(b[0..4].try_into().ok()?);
        let base_size = u32::from_le_bytes(b[4..8].try_into().ok()?);
        let parent = u64::from_le_bytes(b[0x10..0x18].try_into().ok()?);
        // Free: the only MethodTable with no parent and a component size
        // (docs/clr-heap-walk.md §2.6) — `FREE_FLAGS` in CoreCLR; other
        // flag bits are not relied on (.NET Framework's are not known).
        let is_free = flags & HAS_COMPONENT_SIZE != 0
            && flags & 0xffff == FREE_FLAGS & 0xffff
            && parent == 0
            && base_size == 0x18;
        let component_size = if flags & HAS_COMPONENT_SIZE != 0 {
            flags & 0xffff
        } else {
            0
        };
        if !is_free {
            // Strings have base size 0x16 (header, MT, length, terminator).
            if !(0x10..=MAX_BASE_SIZE).contains(&base_size) {
                return None;
            }
            // Only strings may have an unaligned base size.
            if base_size % 8 != 0 && component_size != 2 {
                return None;
            }
            if parent % 8 != 0 {
                return None;
            }
        }
        let gcdesc = if flags & CONTAINS_POINTERS != 0 && !is_free {
            Some(read_gcdesc(mem, mt)?)
        } else {
            None
        };
        Some(MethodTable {
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
    /// 22 bytes). In memory an object takes at least [`MIN_OBJECT_SIZE`]
    /// bytes, rounded up to 8.
    pub fn object_size(&self, components: u32) -> u64 {
        self.base_size as u64 + components as u64 * self.component_size as u64
    }
}

/// Most series a GCDesc may have (a type with more than this many separate
/// reference runs does not exist in practice; it bounds the read).
const MAX_SERIES: i64 = 1 << 16;

fn read_gcdesc(mem: &dyn AddressSpace, mt: u64) -> Option<GcDesc> {
    let n = mem.read_u64(mt.checked_sub(8)?).ok()? as i64;
    if n == 0 || n.abs() > MAX_SERIES {
        return None;
    }
    if n > 0 {
        let len = 16 * n as u64;
        let mut b = vec![0u8; len as usize];
        mem.read_virtual(mt.checked_sub(8 + len)?, &mut b).ok()?;
        // Series i is at MT − 8 − 16·(i+1): the buffer holds them from the
        // last to the first.
        let mut series = Vec::with_capacity(n as usize);
        for i in 0..n as usize {
            let o = b.len() - 16 * (i + 1);
            let size = i64::from_le_bytes(b[o..o + 8].try_into().ok()?);
            let start = u64::from_le_bytes(b[o + 8..o + 16].try_into().ok()?);
            series.push((size, start));
        }
        Some(GcDesc::Series(series))
    } else {
        let k = (-n) as u64;
        let start = mem.read_u64(mt - 16).ok()?;
        let len = 8 * k;
        let mut b = vec![0u8; len as usize];
        mem.read_virtual(mt.checked_sub(16 + len)?, &mut b).ok()?;
        // Item j is at MT − 24 − 8·j.
        let mut items = Vec::with_capacity(k as usize);
        for j in 0..k as usize {
            let o = b.len() - 8 * (j + 1);
            let nptrs = u32::from_le_bytes(b[o..o + 4].try_into().ok()?);
            let skip = u32::from_le_bytes(b[o + 4..o + 8].try_into().ok()?);
            items.push((nptrs, skip));
        }
        Some(GcDesc::ValueArray { start, items })
    }
}

impl GcDesc {
    /// Calls `f` with the offset (from the object's start) of every
    /// reference slot of an object of `size` bytes (components included).
    pub fn for_each_slot(&self, size: u64, mut f: impl FnMut(u64)) {
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
                    while o + 8 <= end {
                        f(o);
                        o += 8;
                    }
                }
            }
            GcDesc::ValueArray { start, items } => {
                // The last 8 bytes of an object's size are the next
                // object's header.
                let limit = size.saturating_sub(8);
                // Each round must advance, or a corrupt desc would loop.
                let per_round: u64 = items.iter().map(|&(n, s)| 8 * n as u64 + s as u64).sum();
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
                            o += 8;
                        }
                        // `o` < `limit` + 8 here: no overflow.
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
        d.for_each_slot(0x18 + 3 * 8, |o| slots.push(o));
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
        d.for_each_slot(0x18 + 2 * 24, |o| slots.push(o));
        assert_eq!(slots, vec![0x10, 0x20, 0x28, 0x38]);
    }

    #[test]
    fn corrupt_value_array_does_not_loop() {
        let d = GcDesc::ValueArray {
            start: 0x10,
            items: vec![(0, 0)],
        };
        let mut n = 0;
        d.for_each_slot(1 << 20, |_| n += 1);
        assert_eq!(n, 0);
    }
}
