//! The virtual memory of a dumped process, independent of the dump's container.
//!
//! [`AddressSpace`] is what readers of runtime data structures (the GC heap,
//! MethodTables, modules) need from any dump, and [`MemoryMap`] implements it
//! for every container that stores memory as ranges of the dump file (ELF
//! `PT_LOAD` segments, a minidump's `Memory64List` or `MemoryList`).

use heaplens_bytes::{ReadAt, ReadError};

/// Access rights of a memory region, as the dump records them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Protection {
    /// The region is readable.
    pub read: bool,
    /// The region is writable.
    pub write: bool,
    /// The region is executable.
    pub execute: bool,
}

/// A range of virtual memory described by the dump.
///
/// Bytes `[start, start + data_size)` have their contents in the dump; bytes
/// `[start + data_size, start + size)` are mapped in the process but their
/// contents were not written. What reading them gives is the map's
/// [`Unbacked`] policy: zeros by default, [`MemoryError::NotCaptured`] for
/// maps built with [`Unbacked::Error`] (ELF cores, where such bytes are
/// memory the dump writer left out, not zeros).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region {
    /// First virtual address.
    pub start: u64,
    /// Length in bytes of the mapped range.
    pub size: u64,
    /// How many bytes from `start` have their contents in the dump (at most `size`).
    pub data_size: u64,
    /// Access rights, when the dump records them.
    pub protection: Option<Protection>,
}

impl Region {
    /// One past the last address (`start + size`; never overflows for a
    /// region accepted by [`MemoryMap::new`]).
    pub fn end(&self) -> u64 {
        self.start.saturating_add(self.size)
    }

    /// True when `addr` lies in the region.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr < self.end()
    }

    /// True when the contents of `addr` are in the dump (not zero-filled).
    pub fn has_data_at(&self, addr: u64) -> bool {
        addr >= self.start && addr - self.start < self.data_size
    }
}

/// Why a read of virtual memory failed.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    /// Some byte of the requested range lies in no region of the dump.
    #[error("address {addr:#x} is not in the dump (reading {len} bytes at {start:#x})")]
    Unmapped {
        /// The first requested address that is not mapped.
        addr: u64,
        /// Start of the requested read.
        start: u64,
        /// Length of the requested read.
        len: u64,
    },
    /// The region holding `addr` says its contents are in the dump, but the
    /// dump file ends before them (the dump was cut short).
    #[error(
        "memory at {addr:#x} should be at file offset {offset}, past the end of the dump ({file_len} bytes): the dump is truncated"
    )]
    Truncated {
        /// The first requested address whose contents are missing.
        addr: u64,
        /// Where in the dump file they should have been.
        offset: u64,
        /// The dump file's length.
        file_len: u64,
    },
    /// The region holding `addr` is mapped in the process, but the dump
    /// does not hold its contents (only from maps built with
    /// [`Unbacked::Error`]).
    #[error(
        "memory at {addr:#x} was mapped in the process but is not in the dump (reading {len} bytes at {start:#x})"
    )]
    NotCaptured {
        /// The first requested address whose contents are not in the dump.
        addr: u64,
        /// Start of the requested read.
        start: u64,
        /// Length of the requested read.
        len: u64,
    },
    /// Reading the dump file failed.
    #[error("reading memory at {addr:#x}: {source}")]
    Read {
        /// The first address of the failed part of the read.
        addr: u64,
        /// What the source said.
        #[source]
        source: ReadError,
    },
}

impl MemoryError {
    /// The virtual address the error is about.
    pub fn addr(&self) -> u64 {
        match self {
            MemoryError::Unmapped { addr, .. }
            | MemoryError::Truncated { addr, .. }
            | MemoryError::NotCaptured { addr, .. }
            | MemoryError::Read { addr, .. } => *addr,
        }
    }
}

/// Read access to the virtual memory of a dumped process.
///
/// All multi-byte reads are little-endian (every target .NET runs on that
/// heaplens supports is little-endian). The trait is object safe.
pub trait AddressSpace {
    /// Fills `buf` with the memory starting at `addr`.
    ///
    /// A read may span several adjacent regions; it fails with
    /// [`MemoryError::Unmapped`] if any byte lies outside every region, and
    /// with [`MemoryError::NotCaptured`] if a byte is mapped but the dump
    /// does not hold it (for dumps that say so).
    /// Nothing is guaranteed about `buf` on error.
    fn read_virtual(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemoryError>;

    /// The regions of the dump, sorted by start address and not overlapping.
    fn regions(&self) -> &[Region];

    /// Size of a pointer in the dumped process: 4 or 8.
    fn pointer_size(&self) -> usize;

    /// How many bytes from the start of region `index` of
    /// [`AddressSpace::regions`] the dump really holds: the region's
    /// `data_size`, less what lies past the end of a truncated file.
    fn held_size(&self, index: usize) -> u64 {
        self.regions().get(index).map_or(0, |r| r.data_size)
    }

    /// The region holding `addr`, if any.
    fn region_at(&self, addr: u64) -> Option<&Region> {
        let regions = self.regions();
        let i = regions.partition_point(|r| r.start <= addr);
        regions[..i].last().filter(|r| r.contains(addr))
    }

    /// True when every byte of `[addr, addr + len)` is mapped.
    fn is_mapped(&self, addr: u64, len: u64) -> bool {
        let Some(last) = len.checked_sub(1).map(|n| addr.checked_add(n)) else {
            return true;
        };
        let Some(last) = last else {
            return false;
        };
        let mut pos = addr;
        loop {
            match self.region_at(pos) {
                Some(r) if r.end() > last => return true,
                Some(r) => pos = r.end(),
                None => return false,
            }
        }
    }

    /// Reads one byte.
    fn read_u8(&self, addr: u64) -> Result<u8, MemoryError> {
        let mut b = [0u8; 1];
        self.read_virtual(addr, &mut b)?;
        Ok(b[0])
    }

    /// Reads a little-endian u16.
    fn read_u16(&self, addr: u64) -> Result<u16, MemoryError> {
        let mut b = [0u8; 2];
        self.read_virtual(addr, &mut b)?;
        Ok(u16::from_le_bytes(b))
    }

    /// Reads a little-endian u32.
    fn read_u32(&self, addr: u64) -> Result<u32, MemoryError> {
        let mut b = [0u8; 4];
        self.read_virtual(addr, &mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// Reads a little-endian u64.
    fn read_u64(&self, addr: u64) -> Result<u64, MemoryError> {
        let mut b = [0u8; 8];
        self.read_virtual(addr, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// Reads a pointer of [`AddressSpace::pointer_size`] bytes, widened to u64.
    fn read_pointer(&self, addr: u64) -> Result<u64, MemoryError> {
        if self.pointer_size() == 4 {
            self.read_u32(addr).map(u64::from)
        } else {
            self.read_u64(addr)
        }
    }
}

impl<T: AddressSpace + ?Sized> AddressSpace for &T {
    fn read_virtual(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemoryError> {
        (**self).read_virtual(addr, buf)
    }
    fn regions(&self) -> &[Region] {
        (**self).regions()
    }
    fn pointer_size(&self) -> usize {
        (**self).pointer_size()
    }
    fn held_size(&self, index: usize) -> u64 {
        (**self).held_size(index)
    }
}

/// The NUL-terminated string at `addr`: `Ok(Some(bytes))` (without the
/// NUL) when a NUL comes within `max` bytes, `Ok(None)` when none does.
/// Reads in small pieces that never cross a 64-byte boundary, so a string
/// that ends just before memory missing from the dump still reads.
pub fn read_c_string(
    space: &dyn AddressSpace,
    addr: u64,
    max: usize,
) -> Result<Option<Vec<u8>>, MemoryError> {
    let mut out = Vec::new();
    let mut pos = addr;
    let mut piece = [0u8; 64];
    while out.len() <= max {
        let n = (64 - (pos % 64)) as usize;
        let chunk = &mut piece[..n];
        space.read_virtual(pos, chunk)?;
        if let Some(i) = chunk.iter().position(|&b| b == 0) {
            out.extend_from_slice(&chunk[..i]);
            return Ok((out.len() <= max).then_some(out));
        }
        out.extend_from_slice(chunk);
        let Some(next) = pos.checked_add(n as u64) else {
            return Ok(None);
        };
        pos = next;
    }
    Ok(None)
}

/// The parts of `[start, end)` whose bytes the dump holds (the data part
/// of each region that the file really holds: [`AddressSpace::held_size`]),
/// in address order.
pub fn data_runs(
    space: &dyn AddressSpace,
    start: u64,
    end: u64,
) -> impl Iterator<Item = (u64, u64)> + '_ {
    let regions = space.regions();
    let first = regions.partition_point(|r| r.end() <= start);
    regions[first..]
        .iter()
        .enumerate()
        .take_while(move |(_, r)| r.start < end)
        .map(move |(i, r)| {
            (
                r.start.max(start),
                r.start.saturating_add(space.held_size(first + i)).min(end),
            )
        })
        .filter(|(a, b)| a < b)
}

/// The held parts of `[start, end)` ([`data_runs`]), adjacent runs joined:
/// the stretches a reader can go through without a gap.
pub fn held_stretches(space: &dyn AddressSpace, start: u64, end: u64) -> Vec<(u64, u64)> {
    let mut out: Vec<(u64, u64)> = Vec::new();
    for (a, b) in data_runs(space, start, end) {
        match out.last_mut() {
            Some(last) if last.1 == a => last.1 = b,
            _ => out.push((a, b)),
        }
    }
    out
}

/// True when the dump holds every byte of `[start, end)`.
pub fn holds(space: &dyn AddressSpace, start: u64, end: u64) -> bool {
    start >= end || held_stretches(space, start, end) == [(start, end)]
}

/// The address of the first occurrence of `needle` in `[start, end)`,
/// looking only at bytes the dump holds (the data part of each region).
/// Reads a chunk at a time; a match straddling two chunks is found.
pub fn find_bytes(space: &dyn AddressSpace, start: u64, end: u64, needle: &[u8]) -> Option<u64> {
    const CHUNK: usize = 1 << 20;
    if needle.is_empty() || needle.len() >= CHUNK {
        return None;
    }
    let finder = memchr::memmem::Finder::new(needle);
    let mut buf = Vec::new();
    for (a, b) in data_runs(space, start, end) {
        let mut pos = a;
        while pos < b {
            let n = (b - pos).min(CHUNK as u64) as usize;
            if buf.len() < n {
                buf.resize(n, 0);
            }
            let chunk = &mut buf[..n];
            if space.read_virtual(pos, chunk).is_ok() {
                if let Some(i) = finder.find(chunk) {
                    return Some(pos + i as u64);
                }
            }
            if pos + n as u64 >= b {
                break;
            }
            // Keep needle.len() − 1 bytes: a match may straddle two chunks.
            pos += (n - (needle.len() - 1)) as u64;
        }
    }
    None
}

/// One region of a [`MemoryMap`] and where its contents are in the dump file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MappedRange {
    /// The region.
    pub region: Region,
    /// File offset of the region's first byte of data.
    pub file_offset: u64,
}

/// Why the ranges given to [`MemoryMap::new`] were refused. `index` is the
/// range's position in the list given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    /// `start + size` does not fit in 64 bits.
    #[error("range {index} ({start:#x} + {size:#x}) wraps around the address space")]
    Wraps {
        /// Position of the range in the list.
        index: usize,
        /// Its start.
        start: u64,
        /// Its size.
        size: u64,
    },
    /// The range claims more data than it has addresses.
    #[error("range {index} at {start:#x} has {data_size} bytes of data but only {size} bytes of addresses")]
    DataLargerThanRegion {
        /// Position of the range in the list.
        index: usize,
        /// Its start.
        start: u64,
        /// Its size.
        size: u64,
        /// Its claimed data size.
        data_size: u64,
    },
    /// `file_offset + data_size` does not fit in 64 bits.
    #[error("range {index} at {start:#x}: file offset {file_offset} + {data_size} overflows")]
    FileRangeWraps {
        /// Position of the range in the list.
        index: usize,
        /// Its start.
        start: u64,
        /// Its file offset.
        file_offset: u64,
        /// Its data size.
        data_size: u64,
    },
    /// Two ranges share addresses.
    #[error("ranges {first} ({first_start:#x}..{first_end:#x}) and {second} (from {second_start:#x}) overlap")]
    Overlap {
        /// Position of the lower range in the list.
        first: usize,
        /// Its start.
        first_start: u64,
        /// Its end.
        first_end: u64,
        /// Position of the other range in the list.
        second: usize,
        /// Its start.
        second_start: u64,
    },
}

/// What reading the part of a region past its data (`data_size..size`) gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unbacked {
    /// Zeros (the default): the dump format says such bytes are zero.
    #[default]
    Zeros,
    /// [`MemoryError::NotCaptured`]: the dump writer left the contents out.
    Error,
}

/// An [`AddressSpace`] made of ranges of a dump file.
///
/// Reads go straight to the source for each call: wrap slow or large sources
/// in a [`heaplens_bytes::PageCache`].
#[derive(Debug)]
pub struct MemoryMap<R> {
    source: R,
    pointer_size: usize,
    regions: Vec<Region>,
    /// Parallel to `regions`: file offset of the data and how many of its
    /// `data_size` bytes the file actually holds.
    backing: Vec<(u64, u64)>,
    unbacked: Unbacked,
}

impl<R: ReadAt> MemoryMap<R> {
    /// A map of `ranges` (in any order) over `source`.
    ///
    /// Ranges of size zero are dropped. Ranges whose data runs past the end
    /// of `source` are kept: reading their missing part fails with
    /// [`MemoryError::Truncated`].
    pub fn new(
        source: R,
        pointer_size: usize,
        ranges: &[MappedRange],
    ) -> Result<MemoryMap<R>, MapError> {
        let file_len = source.len();
        let mut order: Vec<usize> = Vec::with_capacity(ranges.len());
        for (index, r) in ranges.iter().enumerate() {
            let g = r.region;
            if g.start.checked_add(g.size).is_none() {
                return Err(MapError::Wraps {
                    index,
                    start: g.start,
                    size: g.size,
                });
            }
            if g.data_size > g.size {
                return Err(MapError::DataLargerThanRegion {
                    index,
                    start: g.start,
                    size: g.size,
                    data_size: g.data_size,
                });
            }
            if r.file_offset.checked_add(g.data_size).is_none() {
                return Err(MapError::FileRangeWraps {
                    index,
                    start: g.start,
                    file_offset: r.file_offset,
                    data_size: g.data_size,
                });
            }
            if g.size > 0 {
                order.push(index);
            }
        }
        order.sort_by_key(|&i| (ranges[i].region.start, i));
        for pair in order.windows(2) {
            let (a, b) = (&ranges[pair[0]].region, &ranges[pair[1]].region);
            if a.end() > b.start {
                return Err(MapError::Overlap {
                    first: pair[0],
                    first_start: a.start,
                    first_end: a.end(),
                    second: pair[1],
                    second_start: b.start,
                });
            }
        }
        let regions = order.iter().map(|&i| ranges[i].region).collect();
        let backing = order
            .iter()
            .map(|&i| {
                let r = &ranges[i];
                let available = file_len
                    .saturating_sub(r.file_offset)
                    .min(r.region.data_size);
                (r.file_offset, available)
            })
            .collect();
        Ok(MemoryMap {
            source,
            pointer_size,
            regions,
            backing,
            unbacked: Unbacked::Zeros,
        })
    }

    /// The same map, reading bytes past a region's data as `unbacked` says.
    pub fn with_unbacked(mut self, unbacked: Unbacked) -> MemoryMap<R> {
        self.unbacked = unbacked;
        self
    }

    /// What reading bytes past a region's data gives.
    pub fn unbacked(&self) -> Unbacked {
        self.unbacked
    }

    /// Where in the dump file the contents of `addr` are (or should be, if
    /// the dump is truncated), or `None` if `addr` is unmapped or past its
    /// region's data.
    pub fn file_offset(&self, addr: u64) -> Option<u64> {
        let i = self
            .regions
            .partition_point(|r| r.start <= addr)
            .checked_sub(1)?;
        let r = &self.regions[i];
        r.has_data_at(addr)
            .then(|| self.backing[i].0 + (addr - r.start))
    }

    /// The ranges of the map (sorted by address): what [`MemoryMap::new`]
    /// needs to map the same dump file again, over another handle to it.
    pub fn mapped_ranges(&self) -> Vec<MappedRange> {
        self.regions
            .iter()
            .zip(&self.backing)
            .map(|(&region, &(file_offset, _))| MappedRange {
                region,
                file_offset,
            })
            .collect()
    }

    /// The dump file.
    pub fn source(&self) -> &R {
        &self.source
    }

    /// The dump file, giving up the map.
    pub fn into_source(self) -> R {
        self.source
    }

    /// Where the region data the ranges describe ends in the dump file: the
    /// highest `file_offset + data_size` (0 without data). More than the
    /// file's length for a dump cut short.
    pub fn described_len(&self) -> u64 {
        self.regions
            .iter()
            .zip(&self.backing)
            .filter(|(r, _)| r.data_size > 0)
            .map(|(r, &(offset, _))| offset.saturating_add(r.data_size))
            .max()
            .unwrap_or(0)
    }

    /// Bytes of region data the dump file should hold but does not (0 unless
    /// the dump was cut short).
    pub fn missing_bytes(&self) -> u64 {
        self.regions
            .iter()
            .zip(&self.backing)
            .map(|(r, &(_, available))| r.data_size - available)
            .sum()
    }
}

impl<R: ReadAt> AddressSpace for MemoryMap<R> {
    fn read_virtual(&self, addr: u64, buf: &mut [u8]) -> Result<(), MemoryError> {
        if buf.is_empty() {
            return Ok(());
        }
        let len = buf.len() as u64;
        let unmapped = |at: u64| MemoryError::Unmapped {
            addr: at,
            start: addr,
            len,
        };
        let mut i = match self.regions.partition_point(|r| r.start <= addr) {
            0 => return Err(unmapped(addr)),
            n => n - 1,
        };
        let mut pos = addr;
        let mut done = 0usize;
        let file_len = self.source.len();
        while done < buf.len() {
            let region = match self.regions.get(i) {
                Some(r) if r.contains(pos) => r,
                _ => return Err(unmapped(pos)),
            };
            let (file_offset, available) = self.backing[i];
            let within = pos - region.start;
            let n = (region.end() - pos).min((buf.len() - done) as u64) as usize;
            let out = &mut buf[done..done + n];
            // Up to three parts: bytes in the file, bytes the file lacks
            // (truncated dump), bytes past data_size (zero).
            let from_file = available.saturating_sub(within).min(n as u64) as usize;
            if from_file > 0 {
                self.source
                    .read_at(file_offset + within, &mut out[..from_file])
                    .map_err(|source| MemoryError::Read { addr: pos, source })?;
            }
            if from_file < n {
                let w = within + from_file as u64;
                if w < region.data_size {
                    return Err(MemoryError::Truncated {
                        addr: pos + from_file as u64,
                        offset: file_offset + w,
                        file_len,
                    });
                }
                if self.unbacked == Unbacked::Error {
                    return Err(MemoryError::NotCaptured {
                        addr: pos + from_file as u64,
                        start: addr,
                        len,
                    });
                }
                out[from_file..].fill(0);
            }
            done += n;
            // No overflow: `pos + n` is at most the region's end.
            pos += n as u64;
            i += 1;
        }
        Ok(())
    }

    fn regions(&self) -> &[Region] {
        &self.regions
    }

    fn pointer_size(&self) -> usize {
        self.pointer_size
    }

    fn held_size(&self, index: usize) -> u64 {
        self.backing
            .get(index)
            .map_or(0, |&(_, available)| available)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(start: u64, size: u64, data_size: u64, file_offset: u64) -> MappedRange {
        MappedRange {
            region: Region {
                start,
                size,
                data_size,
                protection: None,
            },
            file_offset,
        }
    }

    fn file() -> Vec<u8> {
        (0..4096u32).map(|i| (i % 251) as u8).collect()
    }

    #[test]
    fn reads_within_and_across_adjacent_regions() {
        let data = file();
        // Listed out of order on purpose.
        let map = MemoryMap::new(
            &data,
            8,
            &[
                range(0x2000, 0x100, 0x100, 0x200),
                range(0x1000, 0x1000, 0x100, 0x100),
            ],
        )
        .unwrap();
        assert_eq!(map.regions()[0].start, 0x1000);
        let mut b = [0u8; 4];
        map.read_virtual(0x1010, &mut b).unwrap();
        assert_eq!(b, [data[0x110], data[0x111], data[0x112], data[0x113]]);
        // Past data_size: zeros.
        map.read_virtual(0x1800, &mut b).unwrap();
        assert_eq!(b, [0; 4]);
        // Straddles the data/zero boundary.
        map.read_virtual(0x10fe, &mut b).unwrap();
        assert_eq!(b, [data[0x1fe], data[0x1ff], 0, 0]);
        // Straddles two regions.
        map.read_virtual(0x1ffe, &mut b).unwrap();
        assert_eq!(b, [0, 0, data[0x200], data[0x201]]);
        assert_eq!(
            map.read_u32(0x2000).unwrap(),
            u32::from_le_bytes([data[0x200], data[0x201], data[0x202], data[0x203]])
        );
        assert_eq!(
            map.read_pointer(0x2000).unwrap(),
            map.read_u64(0x2000).unwrap()
        );
        assert!(map.is_mapped(0x1000, 0x1100));
        assert!(!map.is_mapped(0x1000, 0x1101));
        assert!(map.is_mapped(0x5000, 0));
    }

    #[test]
    fn unmapped_reads_name_the_address() {
        let data = file();
        let map = MemoryMap::new(
            &data,
            4,
            &[
                range(0x1000, 0x100, 0x100, 0),
                range(0x1200, 0x100, 0x100, 0x100),
            ],
        )
        .unwrap();
        let mut b = [0u8; 8];
        let e = map.read_virtual(0x10fc, &mut b).unwrap_err();
        assert!(matches!(
            e,
            MemoryError::Unmapped {
                addr: 0x1100,
                start: 0x10fc,
                len: 8
            }
        ));
        assert_eq!(e.addr(), 0x1100);
        assert!(matches!(
            map.read_u8(0xfff),
            Err(MemoryError::Unmapped { addr: 0xfff, .. })
        ));
        assert!(matches!(
            map.read_u8(0x1300),
            Err(MemoryError::Unmapped { addr: 0x1300, .. })
        ));
        assert!(matches!(
            map.read_u8(u64::MAX),
            Err(MemoryError::Unmapped { .. })
        ));
        assert_eq!(
            map.read_pointer(0x1200).unwrap(),
            u64::from(map.read_u32(0x1200).unwrap())
        );
        assert!(map.region_at(0x1150).is_none());
        assert_eq!(map.region_at(0x12ff).unwrap().start, 0x1200);
    }

    #[test]
    fn truncated_data_is_an_error_not_zeros() {
        let data = file();
        let map = MemoryMap::new(&data, 8, &[range(0x1000, 0x1000, 0x1000, 4000)]).unwrap();
        assert_eq!(map.missing_bytes(), 0x1000 - 96);
        let mut b = [0u8; 16];
        map.read_virtual(0x1000, &mut b).unwrap();
        let e = map.read_virtual(0x1058, &mut b).unwrap_err();
        assert!(matches!(
            e,
            MemoryError::Truncated {
                addr: 0x1060,
                offset: 4096,
                file_len: 4096
            }
        ));
    }

    #[test]
    fn unbacked_bytes_can_be_an_error() {
        let data = file();
        let map = MemoryMap::new(
            &data,
            8,
            &[
                range(0x1000, 0x1000, 0x100, 0),
                range(0x2000, 0x100, 0x100, 0x100),
            ],
        )
        .unwrap()
        .with_unbacked(Unbacked::Error);
        assert_eq!(map.unbacked(), Unbacked::Error);
        let mut b = [0u8; 4];
        map.read_virtual(0x10fc, &mut b).unwrap();
        let e = map.read_virtual(0x10fe, &mut b).unwrap_err();
        assert!(matches!(
            e,
            MemoryError::NotCaptured {
                addr: 0x1100,
                start: 0x10fe,
                len: 4
            }
        ));
        assert_eq!(e.addr(), 0x1100);
        // Reads that stay in captured bytes cross into the next region.
        let map = MemoryMap::new(
            &data,
            8,
            &[
                range(0x1000, 0x100, 0x100, 0),
                range(0x1100, 0x100, 0x100, 0x100),
            ],
        )
        .unwrap()
        .with_unbacked(Unbacked::Error);
        map.read_virtual(0x10fe, &mut b).unwrap();
        assert_eq!(b, [data[0xfe], data[0xff], data[0x100], data[0x101]]);
        assert_eq!(map.file_offset(0x1105), Some(0x105));
        assert_eq!(map.file_offset(0x1200), None);
        assert_eq!(map.file_offset(0xfff), None);
    }

    #[test]
    fn refuses_bad_ranges() {
        let data = file();
        let e = MemoryMap::new(
            &data,
            8,
            &[range(0x1000, 0x100, 0, 0), range(0x10f0, 0x10, 0, 0)],
        )
        .unwrap_err();
        assert!(matches!(
            e,
            MapError::Overlap {
                first: 0,
                second: 1,
                ..
            }
        ));
        let e = MemoryMap::new(
            &data,
            8,
            &[range(0x2000, 0x100, 0, 0), range(0x1000, 0x1001, 0, 0)],
        )
        .unwrap_err();
        assert!(matches!(
            e,
            MapError::Overlap {
                first: 1,
                second: 0,
                ..
            }
        ));
        let e = MemoryMap::new(&data, 8, &[range(u64::MAX - 4, 0x10, 0, 0)]).unwrap_err();
        assert!(matches!(e, MapError::Wraps { index: 0, .. }));
        let e = MemoryMap::new(&data, 8, &[range(0, 0x10, 0x11, 0)]).unwrap_err();
        assert!(matches!(e, MapError::DataLargerThanRegion { index: 0, .. }));
        let e = MemoryMap::new(&data, 8, &[range(0, 0x10, 0x10, u64::MAX - 1)]).unwrap_err();
        assert!(matches!(e, MapError::FileRangeWraps { index: 0, .. }));
        // Empty ranges are dropped, even where they would overlap.
        let map = MemoryMap::new(
            &data,
            8,
            &[range(0x1000, 0x100, 0, 0), range(0x1010, 0, 0, 0)],
        )
        .unwrap();
        assert_eq!(map.regions().len(), 1);
    }

    #[test]
    fn the_top_of_the_address_space() {
        let data = file();
        // A region may end at 2^64 - 1 but not at 2^64 (its end would not fit).
        let top = u64::MAX - 0x10;
        let map = MemoryMap::new(&data, 8, &[range(top, 0x10, 0x10, 0)]).unwrap();
        let mut b = [0u8; 16];
        map.read_virtual(top, &mut b).unwrap();
        assert_eq!(&b[..], &data[..16]);
        let mut b = [0u8; 17];
        assert!(matches!(
            map.read_virtual(top, &mut b),
            Err(MemoryError::Unmapped { addr: u64::MAX, .. })
        ));
        assert!(!map.is_mapped(top, 17));
        assert!(!map.is_mapped(u64::MAX, 2));
        let e = MemoryMap::new(&data, 8, &[range(top, 0x11, 0, 0)]).unwrap_err();
        assert!(matches!(e, MapError::Wraps { .. }));
    }

    #[test]
    fn finds_bytes_across_chunks_and_regions_but_not_in_unbacked_memory() {
        let mut data = vec![0u8; 3 << 20];
        let at = (1 << 20) - 3; // straddles the first chunk boundary
        data[at..at + 8].copy_from_slice(b"@(#)Ver ");
        data[(2 << 20) + 5..(2 << 20) + 9].copy_from_slice(b"ZZZZ");
        let m = MemoryMap::new(
            data,
            8,
            &[
                range(0x10_0000, 2 << 20, 2 << 20, 0),
                // Mapped, but only its first 4 bytes are in the dump.
                range(0x40_0000, 1 << 20, 4, 2 << 20),
            ],
        )
        .unwrap();
        assert_eq!(
            find_bytes(&m, 0, u64::MAX, b"@(#)Ver "),
            Some(0x10_0000 + at as u64)
        );
        assert_eq!(
            find_bytes(&m, 0x10_0000 + at as u64 + 1, u64::MAX, b"@(#)Ver "),
            None
        );
        // "ZZZZ" sits past the second region's data: not searched.
        assert_eq!(find_bytes(&m, 0, u64::MAX, b"ZZZZ"), None);
    }

    #[test]
    fn reads_c_strings_up_to_a_limit() {
        let mut data = vec![b'x'; 200];
        data[70] = 0;
        let m = MemoryMap::new(data, 8, &[range(0x1000, 200, 200, 0)]).unwrap();
        assert_eq!(
            read_c_string(&m, 0x1000 + 60, 100).unwrap(),
            Some(vec![b'x'; 10])
        );
        assert_eq!(read_c_string(&m, 0x1000, 69).unwrap(), None);
        assert_eq!(read_c_string(&m, 0x1000, 70).unwrap(), Some(vec![b'x'; 70]));
        assert!(read_c_string(&m, 0x1000 + 71, 1000).is_err());
    }

    #[test]
    fn works_as_a_trait_object() {
        let data = file();
        let map = MemoryMap::new(&data, 8, &[range(0x1000, 0x100, 0x100, 0)]).unwrap();
        let space: &dyn AddressSpace = &map;
        assert_eq!(space.read_u8(0x1001).unwrap(), data[1]);
        assert_eq!((&space).pointer_size(), 8);
    }
}
