//! The target's pointer size and what follows from it: every structure the
//! reader walks (objects, MethodTables, GCDescs, segment records, handle
//! tables, finalization queues, `GcDacVars`, statics) is laid out in
//! pointer-sized fields, so each reads the dump's pointer size
//! ([`heaplens_memory::AddressSpace::pointer_size`]) rather than assuming
//! 8 bytes.
//!
//! Off the hot paths a [`PointerSize`] value is passed around; the object
//! walk and the reference reads are generic over a [`Word`] (4 or 8
//! bytes), so that a 64-bit walk compiles to what it was before 32-bit
//! processes were read, with no per-word branch.
//!
//! What depends on the pointer size, from the runtime's sources (dotnet/
//! coreclr `v3.1.23`; the same definitions on dotnet/runtime `main`):
//!
//! * `min_obj_size` = 3 pointers (`gcinterface.h`): 24 bytes, 12 on 32-bit;
//! * objects in the small object heap are aligned to `DATA_ALIGNMENT`, the
//!   pointer size (`i386/cgencpu.h`: 4); objects in the large (and pinned)
//!   object heap to 8 bytes on every platform (`gc.cpp`
//!   `get_alignment_constant`: 7 for them, and their walk advances by
//!   `AlignQword`) — which is where the runtime puts `double[]`s of 1,000
//!   elements or more on 32-bit, to keep them 8-aligned;
//! * an object's header (`ObjHeader`) is one pointer before it (the sync
//!   block word and, on 64-bit, 4 bytes of padding); an array's or a
//!   string's length is the 32-bit value one pointer after its start, and
//!   the array base size (`ARRAYBASE_BASESIZE`, the Free MethodTable's
//!   base size) is 3 pointers;
//! * the low bits of the MethodTable pointer that the GC borrows during a
//!   collection (`ObjectToMethodTableUnmask`): 3 bits on 64-bit, 2 on
//!   32-bit.

use heaplens_memory::AddressSpace;

/// The pointer size of the dumped process: 4 or 8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PointerSize {
    /// 4-byte pointers (x86, ARM32: a 32-bit process).
    Four,
    /// 8-byte pointers (x64, ARM64).
    #[default]
    Eight,
}

impl PointerSize {
    /// The pointer size of `mem`'s process (8 unless it says 4).
    pub fn of(mem: &dyn AddressSpace) -> PointerSize {
        if mem.pointer_size() == 4 {
            PointerSize::Four
        } else {
            PointerSize::Eight
        }
    }

    /// The size in bytes.
    #[inline]
    pub const fn bytes(self) -> u64 {
        match self {
            PointerSize::Four => 4,
            PointerSize::Eight => 8,
        }
    }

    /// The size in bytes, as a `usize` (for slices).
    #[inline]
    pub const fn usize(self) -> usize {
        self.bytes() as usize
    }

    /// `n` pointers, in bytes.
    #[inline]
    pub const fn times(self, n: u64) -> u64 {
        n * self.bytes()
    }

    /// The pointer-sized little-endian value at `at` of `b`, widened (never
    /// sign-extended: a 32-bit process's addresses above 2 GB stay
    /// positive); 0 past the end of `b`.
    #[inline]
    pub fn read(self, b: &[u8], at: usize) -> u64 {
        match self {
            PointerSize::Four => b
                .get(at..at.saturating_add(4))
                .and_then(|w| w.try_into().ok())
                .map_or(0, |w| u64::from(u32::from_le_bytes(w))),
            PointerSize::Eight => b
                .get(at..at.saturating_add(8))
                .and_then(|w| w.try_into().ok())
                .map_or(0, u64::from_le_bytes),
        }
    }

    /// The pointer-sized value at `at` of `b` as a signed number (sizes
    /// the runtime stores as `ptrdiff_t`/`ssize_t`, such as a GCDesc's
    /// series count); 0 past the end of `b`.
    #[inline]
    pub fn read_signed(self, b: &[u8], at: usize) -> i64 {
        match self {
            PointerSize::Four => self.read(b, at) as u32 as i32 as i64,
            PointerSize::Eight => self.read(b, at) as i64,
        }
    }

    /// The smallest object the GC allocates (`min_obj_size`: 3 pointers).
    #[inline]
    pub const fn min_object_size(self) -> u64 {
        3 * self.bytes()
    }

    /// The base size of an array (`ARRAYBASE_BASESIZE`: the object header,
    /// the MethodTable and the 32-bit length, padded to a pointer): also
    /// the Free MethodTable's base size.
    #[inline]
    pub const fn array_base_size(self) -> u64 {
        3 * self.bytes()
    }

    /// Where an array's elements (and a single-dimension array's first
    /// one) begin, from the object's start: after the MethodTable and the
    /// length (padded to a pointer).
    #[inline]
    pub const fn array_data_offset(self) -> u64 {
        2 * self.bytes()
    }

    /// The offset of an array's or string's 32-bit length from the
    /// object's start: right after the MethodTable.
    #[inline]
    pub const fn length_offset(self) -> u64 {
        self.bytes()
    }

    /// The bits of an object's MethodTable word that are not the
    /// MethodTable (the GC's mark and pin bits during a collection).
    #[inline]
    pub const fn method_table_tag(self) -> u64 {
        match self {
            PointerSize::Four => 3,
            PointerSize::Eight => 7,
        }
    }

    /// True when `a` is pointer-aligned.
    #[inline]
    pub const fn aligned(self, a: u64) -> bool {
        a & (self.bytes() - 1) == 0
    }

    /// `a` rounded down to a pointer.
    #[inline]
    pub const fn align_down(self, a: u64) -> u64 {
        a & !(self.bytes() - 1)
    }

    /// The alignment of objects in a segment: the pointer size in the
    /// small object heap, 8 in the large and pinned object heaps.
    #[inline]
    pub const fn object_alignment(self, large: bool) -> u64 {
        if large {
            8
        } else {
            self.bytes()
        }
    }

    /// The bytes an object of `size` bytes takes in a segment: at least
    /// [`PointerSize::min_object_size`], rounded up to
    /// [`PointerSize::object_alignment`].
    #[inline]
    pub fn object_extent(self, size: u64, large: bool) -> u64 {
        let a = self.object_alignment(large);
        size.max(self.min_object_size()).saturating_add(a - 1) & !(a - 1)
    }

    /// In words: `64-bit`, `32-bit`.
    pub const fn bitness(self) -> &'static str {
        match self {
            PointerSize::Four => "32-bit",
            PointerSize::Eight => "64-bit",
        }
    }
}

/// A pointer-sized word, as a type: the object walk and the reference
/// reads are generic over it ([`W64`] or [`W32`]), so each compiles with
/// its width as a constant.
pub(crate) trait Word: Copy + Send + Sync + 'static {
    /// The pointer size.
    const SIZE: PointerSize;
    /// Its size in bytes.
    const BYTES: u64 = Self::SIZE.bytes();
    /// The bits of an object's MethodTable word that are not the
    /// MethodTable.
    const TAG: u64 = Self::SIZE.method_table_tag();

    /// The word at the start of `b` (which holds at least [`Word::BYTES`]
    /// bytes; 0 otherwise).
    fn load(b: &[u8]) -> u64;
}

/// An 8-byte word.
#[derive(Debug, Clone, Copy)]
pub(crate) struct W64;

impl Word for W64 {
    const SIZE: PointerSize = PointerSize::Eight;
    #[inline(always)]
    fn load(b: &[u8]) -> u64 {
        b.get(..8)
            .and_then(|w| w.try_into().ok())
            .map_or(0, u64::from_le_bytes)
    }
}

/// A 4-byte word.
#[derive(Debug, Clone, Copy)]
pub(crate) struct W32;

impl Word for W32 {
    const SIZE: PointerSize = PointerSize::Four;
    #[inline(always)]
    fn load(b: &[u8]) -> u64 {
        b.get(..4)
            .and_then(|w| w.try_into().ok())
            .map_or(0, |w| u64::from(u32::from_le_bytes(w)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_pointer() {
        let (p4, p8) = (PointerSize::Four, PointerSize::Eight);
        assert_eq!((p4.min_object_size(), p8.min_object_size()), (12, 24));
        assert_eq!((p4.array_base_size(), p8.array_base_size()), (12, 24));
        assert_eq!((p4.length_offset(), p8.length_offset()), (4, 8));
        // The empty string: 14 bytes on 32-bit, in 16; 22 on 64-bit, in 24.
        assert_eq!(p4.object_extent(14, false), 16);
        assert_eq!(p8.object_extent(22, false), 24);
        // Small objects take at least the minimum object.
        assert_eq!(p4.object_extent(4, false), 12);
        // On the large object heap 32-bit objects are 8-aligned.
        assert_eq!(p4.object_extent(85_004, true), 85_008);
        assert_eq!(p4.object_extent(85_004, false), 85_004);
    }

    #[test]
    fn reads_widen_without_sign() {
        let b = [0xF0, 0xFF, 0xFF, 0xBF, 1, 0, 0, 0];
        assert_eq!(PointerSize::Four.read(&b, 0), 0xBFFF_FFF0);
        assert_eq!(PointerSize::Four.read_signed(&b, 0), -0x4000_0010);
        assert_eq!(PointerSize::Eight.read(&b, 0), 0x1_BFFF_FFF0);
        assert_eq!(PointerSize::Four.read(&b, 6), 0);
        assert_eq!(W32::load(&b), 0xBFFF_FFF0);
        assert_eq!(W64::load(&b), 0x1_BFFF_FFF0);
        assert_eq!(W64::load(&b[1..]), 0);
    }
}
