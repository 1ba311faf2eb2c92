//! The process's memory: `Memory64ListStream`, `MemoryListStream` and the
//! thread stacks, as ranges of the file.

use crate::dump::{Input, StreamEntry};
use crate::error::MinidumpError;
use crate::streams::{MemoryInfo, StackMemory};
use crate::{le32, le64, DESCRIPTOR_CHUNK, MAX_MEMORY_RANGES};
use heaplens_memory::{MappedRange, Region};
use std::collections::BTreeMap;

/// Where a range of the memory map came from, for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Origin {
    pub stream: &'static str,
    pub index: usize,
    /// File offset of the descriptor.
    pub offset: u64,
}

/// The ranges of the memory map and where each came from.
#[derive(Debug, Default)]
pub(crate) struct Ranges {
    pub ranges: Vec<MappedRange>,
    pub origins: Vec<Origin>,
    /// Ranges from `Memory64ListStream`.
    pub memory64: usize,
    /// Ranges from `MemoryListStream`.
    pub memory_list: usize,
    /// Ranges (or parts) of thread stacks that neither list holds.
    pub stacks: usize,
}

fn range(start: u64, size: u64, file_offset: u64) -> MappedRange {
    MappedRange {
        region: Region {
            start,
            size,
            data_size: size,
            protection: None,
        },
        file_offset,
    }
}

/// What [`descriptors`] calls for each descriptor: its index, its file
/// offset and its bytes.
type EachDescriptor<'a> = dyn FnMut(usize, u64, &[u8]) -> Result<(), MinidumpError> + 'a;

/// Reads `count` descriptors of `size` bytes starting at file offset `at`,
/// a chunk at a time, calling `each(index, offset, bytes)`.
fn descriptors(
    input: &Input<'_>,
    what: &'static str,
    at: u64,
    count: u64,
    size: usize,
    each: &mut EachDescriptor<'_>,
) -> Result<(), MinidumpError> {
    let mut buf = Vec::new();
    let mut first = 0u64;
    while first < count {
        let n = (count - first).min(DESCRIPTOR_CHUNK as u64) as usize;
        let offset = at + first * size as u64;
        buf.resize(n * size, 0);
        input.read(&|| format!("{what} descriptors"), offset, &mut buf)?;
        for (k, d) in buf.chunks_exact(size).enumerate() {
            let index = first as usize + k;
            each(index, offset + (k * size) as u64, d)?;
        }
        first += n as u64;
    }
    Ok(())
}

/// Checks a list's count against its stream and the file.
fn check_count(
    input: &Input<'_>,
    entry: &StreamEntry,
    count: u64,
    header: u64,
    size: u64,
    total: u64,
) -> Result<(), MinidumpError> {
    let name = entry.name();
    if total.saturating_add(count) > MAX_MEMORY_RANGES {
        return Err(MinidumpError::TooLarge {
            what: format!("{name} ({count} descriptors)"),
            offset: entry.rva,
            len: count.saturating_mul(size),
            limit: MAX_MEMORY_RANGES * size,
        });
    }
    let need = count * size + header;
    // Writers put the list first; some (Wine's dbghelp) count the memory
    // data in the stream's size too, so the stream may be longer.
    if need > u64::from(entry.size) {
        return Err(MinidumpError::BadStream {
            stream: name,
            offset: entry.rva,
            message: format!(
                "{count} descriptors need {need} bytes, but the stream has {}",
                entry.size
            ),
        });
    }
    input.check(&|| format!("{name} descriptors"), entry.rva, need)
}

/// `Memory64ListStream`: `u64 count, u64 base_rva`, then `count` ×
/// `{u64 start, u64 size}`; the data of the ranges follows each other from
/// `base_rva`.
pub(crate) fn memory64(
    input: &Input<'_>,
    entry: &StreamEntry,
    out: &mut Ranges,
) -> Result<(), MinidumpError> {
    let name = entry.name();
    let mut head = [0u8; 16];
    if entry.size < 16 {
        return Err(MinidumpError::BadStream {
            stream: name,
            offset: entry.rva,
            message: format!("{} bytes, too short for its 16-byte header", entry.size),
        });
    }
    input.read(&|| format!("{name} header"), entry.rva, &mut head)?;
    let (count, base) = (le64(&head, 0), le64(&head, 8));
    check_count(input, entry, count, 16, 16, out.ranges.len() as u64)?;
    let mut data = base;
    descriptors(
        input,
        name,
        entry.rva + 16,
        count,
        16,
        &mut |index, offset, d| {
            let (start, size) = (le64(d, 0), le64(d, 8));
            let bad = |message: String| MinidumpError::BadMemoryRange {
                stream: name,
                index,
                offset,
                message,
            };
            if start.checked_add(size).is_none() {
                return Err(bad(format!(
                    "{start:#x} + {size:#x} wraps around the address space"
                )));
            }
            let Some(next) = data.checked_add(size) else {
                return Err(bad(format!(
                    "its data at file offset {data} + {size} bytes wraps around"
                )));
            };
            out.ranges.push(range(start, size, data));
            out.origins.push(Origin {
                stream: name,
                index,
                offset,
            });
            out.memory64 += 1;
            data = next;
            Ok(())
        },
    )
}

/// `MemoryListStream`: `u32 count`, then `count` × `{u64 start, u32 size,
/// u32 rva}`. When a `Memory64ListStream` came first, only the parts of
/// these ranges it lacks are kept.
pub(crate) fn memory_list(
    input: &Input<'_>,
    entry: &StreamEntry,
    out: &mut Ranges,
) -> Result<(), MinidumpError> {
    let name = entry.name();
    if entry.size < 4 {
        return Err(MinidumpError::BadStream {
            stream: name,
            offset: entry.rva,
            message: format!("{} bytes, too short for its count", entry.size),
        });
    }
    let mut head = [0u8; 4];
    input.read(&|| format!("{name} count"), entry.rva, &mut head)?;
    let count = u64::from(le32(&head, 0));
    check_count(input, entry, count, 4, 16, out.ranges.len() as u64)?;
    let clip = out.memory64 > 0;
    let mut taken = if clip {
        Taken::of(&out.ranges)
    } else {
        Taken::default()
    };
    descriptors(
        input,
        name,
        entry.rva + 4,
        count,
        16,
        &mut |index, offset, d| {
            let (start, size, rva) = (le64(d, 0), u64::from(le32(d, 8)), u64::from(le32(d, 12)));
            if start.checked_add(size).is_none() {
                return Err(MinidumpError::BadMemoryRange {
                    stream: name,
                    index,
                    offset,
                    message: format!("{start:#x} + {size:#x} wraps around the address space"),
                });
            }
            let origin = Origin {
                stream: name,
                index,
                offset,
            };
            if clip {
                for (s, e) in taken.take_gaps(start, start + size) {
                    out.ranges.push(range(s, e - s, rva + (s - start)));
                    out.origins.push(origin);
                    out.memory_list += 1;
                }
            } else {
                out.ranges.push(range(start, size, rva));
                out.origins.push(origin);
                out.memory_list += 1;
            }
            Ok(())
        },
    )
}

/// Thread stacks: the parts that neither memory list holds (writers
/// usually put the stacks in the lists too; some write them only in the
/// thread list, or hold a second copy there).
pub(crate) fn stacks(stacks: &[StackMemory], out: &mut Ranges) {
    let mut taken = Taken::of(&out.ranges);
    for (index, s) in stacks.iter().enumerate() {
        if s.rva == 0 {
            continue;
        }
        for (a, b) in taken.take_gaps(s.start, s.start + s.size) {
            out.ranges.push(range(a, b - a, s.rva + (a - s.start)));
            out.origins.push(Origin {
                stream: crate::stream_type::name(crate::stream_type::THREAD_LIST),
                index,
                offset: s.descriptor,
            });
            out.stacks += 1;
        }
    }
}

/// Address ranges already in the map, to add only what they lack.
#[derive(Debug, Default)]
struct Taken {
    /// start → end, disjoint.
    map: BTreeMap<u64, u64>,
}

impl Taken {
    fn of(ranges: &[MappedRange]) -> Taken {
        let mut t = Taken::default();
        for r in ranges {
            if r.region.size > 0 {
                t.insert(r.region.start, r.region.end());
            }
        }
        t
    }

    /// Adds `[a, b)`, merging with what it touches or overlaps.
    fn insert(&mut self, mut a: u64, mut b: u64) {
        if let Some((&s, &e)) = self.map.range(..=a).next_back() {
            if e >= a {
                a = s;
                b = b.max(e);
                self.map.remove(&s);
            }
        }
        let inside: Vec<(u64, u64)> = self.map.range(a..=b).map(|(&s, &e)| (s, e)).collect();
        for (s, e) in inside {
            b = b.max(e);
            self.map.remove(&s);
        }
        self.map.insert(a, b);
    }

    /// The parts of `[a, b)` not yet taken, which are taken now.
    fn take_gaps(&mut self, a: u64, b: u64) -> Vec<(u64, u64)> {
        if a >= b {
            return Vec::new();
        }
        let mut gaps = Vec::new();
        let mut pos = a;
        if let Some((_, &e)) = self.map.range(..=a).next_back() {
            pos = pos.max(e);
        }
        for (&s, &e) in self.map.range(a..b) {
            if s > pos {
                gaps.push((pos, s));
            }
            pos = pos.max(e);
        }
        if pos < b {
            gaps.push((pos, b));
        }
        for &(s, e) in &gaps {
            self.insert(s, e);
        }
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_are_what_is_not_taken() {
        let mut t = Taken::default();
        t.insert(10, 20);
        t.insert(30, 40);
        assert_eq!(t.take_gaps(0, 50), [(0, 10), (20, 30), (40, 50)]);
        assert_eq!(t.take_gaps(0, 50), []);
        let mut t = Taken::default();
        t.insert(10, 20);
        assert_eq!(t.take_gaps(15, 25), [(20, 25)]);
        assert_eq!(t.take_gaps(5, 12), [(5, 10)]);
        assert_eq!(t.map.len(), 1);
        assert_eq!(t.take_gaps(12, 12), []);
    }
}

/// Gives the ranges the access rights `MemoryInfoListStream` records,
/// cutting a range where the regions that describe it change (readers skip
/// memory that cannot hold what they look for, e.g. read-only images).
/// Parts no region describes keep no protection.
pub(crate) fn protections(info: &[MemoryInfo], ranges: &mut Ranges) {
    if info.is_empty() {
        return;
    }
    let mut sorted: Vec<&MemoryInfo> = info.iter().filter(|m| m.size > 0).collect();
    sorted.sort_by_key(|m| m.base);
    let old_ranges = std::mem::take(&mut ranges.ranges);
    let old_origins = std::mem::take(&mut ranges.origins);
    for (r, origin) in old_ranges.into_iter().zip(old_origins) {
        let g = r.region;
        let (start, end) = (g.start, g.start.saturating_add(g.size));
        let data_end = g.start.saturating_add(g.data_size);
        let mut push = |from: u64, to: u64, protection: Option<heaplens_memory::Protection>| {
            ranges.ranges.push(MappedRange {
                region: Region {
                    start: from,
                    size: to - from,
                    data_size: data_end.clamp(from, to) - from,
                    protection,
                },
                file_offset: r.file_offset + (from - start),
            });
            ranges.origins.push(origin);
        };
        let mut pos = start;
        let mut i = sorted.partition_point(|m| m.base.saturating_add(m.size) <= start);
        while pos < end {
            match sorted.get(i) {
                Some(m) if m.base < end => {
                    let (m_start, m_end) =
                        (m.base.max(pos), m.base.saturating_add(m.size).min(end));
                    if m_start > pos {
                        push(pos, m_start, None);
                    }
                    if m_end > m_start {
                        push(m_start, m_end, Some(protection_of(m.protection)));
                    }
                    pos = pos.max(m_end);
                    i += 1;
                }
                _ => {
                    push(pos, end, None);
                    pos = end;
                }
            }
        }
    }
}

/// `PAGE_*` values: the low byte; GUARD/NOCACHE/WRITECOMBINE above.
fn protection_of(page: u32) -> heaplens_memory::Protection {
    let p = page & 0xFF;
    heaplens_memory::Protection {
        read: p & 0xEE != 0,
        write: p & 0xCC != 0,
        execute: p & 0xF0 != 0,
    }
}

#[cfg(test)]
mod protection_tests {
    use super::*;

    fn info(base: u64, size: u64, protection: u32) -> MemoryInfo {
        MemoryInfo {
            base,
            size,
            allocation_base: base,
            allocation_protection: protection,
            state: MemoryInfo::MEM_COMMIT,
            protection,
            kind: MemoryInfo::MEM_PRIVATE,
        }
    }

    #[test]
    fn protections_from_memory_info() {
        let mut ranges = Ranges::default();
        for (start, size) in [(0x1000, 0x1000), (0x3000, 0x2000), (0x8000, 0x1000)] {
            ranges.ranges.push(range(start, size, 0));
            ranges.origins.push(Origin {
                stream: "test",
                index: ranges.origins.len(),
                offset: 0,
            });
        }
        let infos = [
            info(0x1000, 0x1000, 0x04),         // PAGE_READWRITE
            info(0x3000, 0x1000, 0x20),         // covers only half the range
            info(0x8000, 0x1000, 0x02 | 0x100), // PAGE_READONLY | PAGE_GUARD
        ];
        protections(&infos, &mut ranges);
        let p: Vec<_> = ranges.ranges.iter().map(|r| r.region.protection).collect();
        let cuts: Vec<_> = ranges
            .ranges
            .iter()
            .map(|r| (r.region.start, r.region.size, r.file_offset))
            .collect();
        let rw = heaplens_memory::Protection {
            read: true,
            write: true,
            execute: false,
        };
        let ro = heaplens_memory::Protection {
            read: true,
            write: false,
            execute: false,
        };
        let rx = heaplens_memory::Protection {
            read: true,
            write: false,
            execute: true,
        };
        // The second range is cut where its region ends.
        assert_eq!(p, [Some(rw), Some(rx), None, Some(ro)]);
        assert_eq!(
            cuts,
            [
                (0x1000, 0x1000, 0),
                (0x3000, 0x1000, 0),
                (0x4000, 0x1000, 0x1000),
                (0x8000, 0x1000, 0)
            ]
        );
        assert_eq!(ranges.origins.len(), 4);
    }
}
