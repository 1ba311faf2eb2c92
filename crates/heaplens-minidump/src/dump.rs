//! Opening a minidump: header, directory, streams, and the memory map.

use crate::error::MinidumpError;
use crate::memory::{self, Ranges};
use crate::streams::{
    self, Exception, Handle, MemoryInfo, Module, ProcessInfo, SystemInfo, Thread, UnloadedModule,
    RECORD_LIMIT, STRING_LIMIT,
};
use crate::{le32, le64, stream_type, MAX_STREAMS, MAX_STREAM_BYTES};
use heaplens_bytes::ReadAt;
use heaplens_memory::{AddressSpace, MapError, MemoryMap, Unbacked};
use minidump_common::format as md;

/// `MDMP`.
const SIGNATURE: u32 = md::MINIDUMP_SIGNATURE;
/// The format version in the low 16 bits of the header's version.
const VERSION: u16 = 0xA793;
/// Size of the header.
const HEADER_SIZE: usize = 32;
/// Size of a directory entry.
const ENTRY_SIZE: u64 = 12;

/// The minidump header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The version field: `0xA793` in the low 16 bits, the writer's own
    /// version in the high 16.
    pub version: u32,
    /// Number of directory entries.
    pub stream_count: u32,
    /// File offset of the directory.
    pub directory_rva: u32,
    /// The checksum (usually 0).
    pub checksum: u32,
    /// When the dump was written (seconds since 1970).
    pub time_date_stamp: u32,
    /// The `MINIDUMP_TYPE` flags the dump was written with
    /// (`MiniDumpWithFullMemory` = 2, …).
    pub flags: u64,
}

impl Header {
    /// `MiniDumpWithFullMemory`: the dump holds all of the process's
    /// readable memory.
    pub const WITH_FULL_MEMORY: u64 = 0x2;

    /// True when the dump was written with `MiniDumpWithFullMemory`.
    pub fn has_full_memory(&self) -> bool {
        self.flags & Self::WITH_FULL_MEMORY != 0
    }
}

/// One entry of the stream directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamEntry {
    /// Its position in the directory.
    pub index: usize,
    /// The stream type (see [`crate::stream_type`]).
    pub stream_type: u32,
    /// File offset of the stream.
    pub rva: u64,
    /// Its size in bytes.
    pub size: u32,
}

impl StreamEntry {
    /// The stream type's name (`ModuleListStream`).
    pub fn name(&self) -> &'static str {
        stream_type::name(self.stream_type)
    }
}

/// How much of the process's memory a minidump holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coverage {
    /// Ranges from `Memory64ListStream` (a full-memory dump).
    pub memory64_ranges: usize,
    /// Ranges (or parts of them) from `MemoryListStream`.
    pub memory_list_ranges: usize,
    /// Ranges (or parts) of thread stacks that neither list holds.
    pub stack_ranges: usize,
    /// Bytes of memory in all.
    pub bytes: u64,
    /// Bytes of memory whose data lies past the end of the file (0 unless
    /// the dump was cut short).
    pub missing_bytes: u64,
}

/// Bytes of one kind of memory (see [`MemoryKinds`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct KindBytes {
    /// Bytes the process had committed, as `MemoryInfoListStream` says.
    pub committed: u64,
    /// Bytes whose contents the dump holds.
    pub captured: u64,
}

/// The process's memory by the kind of allocation it belongs to, as the
/// `Type` of `MemoryInfoListStream`'s regions says: images (`MEM_IMAGE`,
/// the loaded executables and DLLs), mapped files and sections
/// (`MEM_MAPPED`), and private memory (`MEM_PRIVATE`: heaps, stacks, the
/// GC heap). All zero, with every captured byte unclassified, for a dump
/// without that stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MemoryKinds {
    /// `MEM_IMAGE` regions.
    pub image: KindBytes,
    /// `MEM_MAPPED` regions.
    pub mapped: KindBytes,
    /// `MEM_PRIVATE` regions.
    pub private: KindBytes,
    /// The writable part of the `MEM_PRIVATE` regions (where a GC heap is).
    pub private_writable: KindBytes,
    /// Captured bytes in no committed region of a known type.
    pub unclassified_captured: u64,
}

/// Positioned reads of the dump file with bounds checks that name what is
/// read.
pub(crate) struct Input<'a> {
    src: &'a dyn ReadAt,
    len: u64,
}

impl Input<'_> {
    /// Checks that `[offset, offset + len)` is in the file.
    pub(crate) fn check(
        &self,
        what: &dyn Fn() -> String,
        offset: u64,
        len: u64,
    ) -> Result<(), MinidumpError> {
        match offset.checked_add(len) {
            Some(end) if end <= self.len => Ok(()),
            _ => Err(MinidumpError::Truncated {
                what: what(),
                offset,
                len,
                file_len: self.len,
            }),
        }
    }

    /// Fills `buf` from `offset`.
    pub(crate) fn read(
        &self,
        what: &dyn Fn() -> String,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), MinidumpError> {
        self.check(what, offset, buf.len() as u64)?;
        self.src
            .read_at(offset, buf)
            .map_err(|source| MinidumpError::Read {
                what: what(),
                offset,
                source,
            })
    }

    /// `len` bytes at `offset`, at most `limit`.
    fn bytes(
        &self,
        what: &dyn Fn() -> String,
        offset: u64,
        len: u64,
        limit: u64,
    ) -> Result<Vec<u8>, MinidumpError> {
        if len > limit {
            return Err(MinidumpError::TooLarge {
                what: what(),
                offset,
                len,
                limit,
            });
        }
        self.check(what, offset, len)?;
        let mut buf = vec![0u8; len as usize];
        self.read(what, offset, &mut buf)?;
        Ok(buf)
    }

    /// The bytes of a stream (at most [`MAX_STREAM_BYTES`]).
    pub(crate) fn stream(&self, entry: &StreamEntry) -> Result<Vec<u8>, MinidumpError> {
        let what = || format!("{} (directory entry {})", entry.name(), entry.index);
        self.bytes(&what, entry.rva, u64::from(entry.size), MAX_STREAM_BYTES)
    }

    /// A `MINIDUMP_STRING` (`u32` byte length, then UTF-16) at `rva`, with
    /// its length prefix.
    pub(crate) fn string(
        &self,
        what: &dyn Fn() -> String,
        rva: u32,
    ) -> Result<Vec<u8>, MinidumpError> {
        let mut len = [0u8; 4];
        self.read(what, u64::from(rva), &mut len)?;
        let n = u32::from_le_bytes(len);
        let mut out = self.bytes(
            what,
            u64::from(rva),
            4 + u64::from(n),
            4 + u64::from(STRING_LIMIT),
        )?;
        if n % 2 != 0 {
            // UTF-16: drop the odd byte rather than refuse the string.
            out.pop();
            out[..4].copy_from_slice(&(n - 1).to_le_bytes());
        }
        Ok(out)
    }

    /// The bytes a location descriptor names (at most [`RECORD_LIMIT`]).
    pub(crate) fn record(
        &self,
        what: &dyn Fn() -> String,
        loc: md::MINIDUMP_LOCATION_DESCRIPTOR,
    ) -> Result<Vec<u8>, MinidumpError> {
        self.bytes(
            what,
            u64::from(loc.rva),
            u64::from(loc.data_size),
            u64::from(RECORD_LIMIT),
        )
    }
}

/// A Windows minidump, opened lazily over a [`ReadAt`] source.
///
/// See the crate documentation for what is read when, and the memory used.
#[derive(Debug)]
pub struct Minidump<R> {
    memory: MemoryMap<R>,
    header: Header,
    streams: Vec<StreamEntry>,
    system_info: Option<SystemInfo>,
    process: ProcessInfo,
    modules: Vec<Module>,
    unloaded_modules: Vec<UnloadedModule>,
    threads: Vec<Thread>,
    memory_info: Vec<MemoryInfo>,
    handles: Vec<Handle>,
    exception: Option<Exception>,
    comments: Vec<String>,
    coverage: Coverage,
    problems: Vec<MinidumpError>,
}

impl<R: ReadAt> Minidump<R> {
    /// Reads the header, the directory and the small streams, and maps the
    /// memory. The memory's data is not read.
    pub fn open(source: R) -> Result<Minidump<R>, MinidumpError> {
        let input = Input {
            src: &source,
            len: source.len(),
        };
        let header = read_header(&input)?;
        let streams = read_directory(&input, &header)?;
        // The first stream of each type is the one read.
        let first = |t: u32| streams.iter().find(|e| e.stream_type == t);
        let mut problems = Vec::new();

        let (system_info, sys) = match first(stream_type::SYSTEM_INFO) {
            Some(e) => {
                let (info, raw) = streams::system_info(&input, e, &mut problems)?;
                (Some(info), Some(raw))
            }
            None => (None, None),
        };
        let (process, misc) = match first(stream_type::MISC_INFO) {
            Some(e) => match streams::misc_info(&input, e) {
                Ok((p, m)) => (p, Some(m)),
                Err(err) => {
                    problems.push(err);
                    (ProcessInfo::default(), None)
                }
            },
            None => (ProcessInfo::default(), None),
        };
        let modules = match first(stream_type::MODULE_LIST) {
            Some(e) => streams::modules(&input, e, sys.as_ref(), &mut problems)?,
            None => Vec::new(),
        };
        let (mut threads, stack_memory) = match first(stream_type::THREAD_LIST) {
            Some(e) => streams::threads(&input, e, sys.as_ref(), misc.as_ref(), &mut problems)?,
            None => (Vec::new(), Vec::new()),
        };
        if let Some(e) = first(stream_type::THREAD_INFO_LIST) {
            match streams::thread_infos(&input, e) {
                Ok(infos) => {
                    for (id, info) in infos {
                        if let Some(t) = threads.iter_mut().find(|t| t.id == id) {
                            t.info = Some(info);
                        }
                    }
                }
                Err(err) => problems.push(err),
            }
        }
        let memory_info = match first(stream_type::MEMORY_INFO_LIST) {
            Some(e) => streams::memory_info(&input, e).unwrap_or_else(|err| {
                problems.push(err);
                Vec::new()
            }),
            None => Vec::new(),
        };
        let handles = match first(stream_type::HANDLE_DATA) {
            Some(e) => streams::handles(&input, e, &mut problems).unwrap_or_else(|err| {
                problems.push(err);
                Vec::new()
            }),
            None => Vec::new(),
        };
        let unloaded_modules = match first(stream_type::UNLOADED_MODULE_LIST) {
            Some(e) => streams::unloaded_modules(&input, e).unwrap_or_else(|err| {
                problems.push(err);
                Vec::new()
            }),
            None => Vec::new(),
        };
        let exception = match first(stream_type::EXCEPTION) {
            Some(e) => {
                match streams::exception(&input, e, sys.as_ref(), misc.as_ref(), &mut problems) {
                    Ok(x) => Some(x),
                    Err(err) => {
                        problems.push(err);
                        None
                    }
                }
            }
            None => None,
        };
        let mut comments = Vec::new();
        for e in streams.iter().filter(|e| {
            e.stream_type == stream_type::COMMENT_A || e.stream_type == stream_type::COMMENT_W
        }) {
            match streams::comment(&input, e) {
                Ok(c) => comments.push(c),
                Err(err) => problems.push(err),
            }
        }

        let mut ranges = Ranges::default();
        if let Some(e) = first(stream_type::MEMORY64_LIST) {
            memory::memory64(&input, e, &mut ranges)?;
        }
        if let Some(e) = first(stream_type::MEMORY_LIST) {
            memory::memory_list(&input, e, &mut ranges)?;
        }
        memory::stacks(&stack_memory, &mut ranges);
        memory::protections(&memory_info, &mut ranges);
        let pointer_size = system_info.as_ref().map_or(8, |s| s.pointer_size);
        let memory = MemoryMap::new(source, pointer_size, &ranges.ranges)
            .map_err(|e| map_error(e, &ranges))?
            .with_unbacked(Unbacked::Error);
        let coverage = Coverage {
            memory64_ranges: ranges.memory64,
            memory_list_ranges: ranges.memory_list,
            stack_ranges: ranges.stacks,
            bytes: memory.regions().iter().map(|r| r.data_size).sum(),
            missing_bytes: memory.missing_bytes(),
        };
        Ok(Minidump {
            memory,
            header,
            streams,
            system_info,
            process,
            modules,
            unloaded_modules,
            threads,
            memory_info,
            handles,
            exception,
            comments,
            coverage,
            problems,
        })
    }
}

impl<R> Minidump<R> {
    /// The process's memory over the source.
    pub fn memory(&self) -> &MemoryMap<R> {
        &self.memory
    }

    /// Gives up the dump for its memory map (which owns the source).
    pub fn into_memory(self) -> MemoryMap<R> {
        self.memory
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The stream directory, in file order (unused slots included).
    pub fn streams(&self) -> &[StreamEntry] {
        &self.streams
    }

    /// The processor and operating system, when the dump says.
    pub fn system_info(&self) -> Option<&SystemInfo> {
        self.system_info.as_ref()
    }

    /// Size of a pointer in the process (8 unless `SystemInfoStream` says
    /// 32-bit).
    pub fn pointer_size(&self) -> usize {
        self.system_info.as_ref().map_or(8, |s| s.pointer_size)
    }

    /// The process id and times (`MiscInfoStream`).
    pub fn process(&self) -> &ProcessInfo {
        &self.process
    }

    /// The loaded modules, in the dump's order (the main executable first).
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// The first module whose file name is `name` (ignoring case, as
    /// Windows does).
    pub fn find_module(&self, name: &str) -> Option<&Module> {
        self.modules
            .iter()
            .find(|m| m.file_name().eq_ignore_ascii_case(name))
    }

    /// The module whose image holds `addr`.
    pub fn module_containing(&self, addr: u64) -> Option<&Module> {
        self.modules.iter().find(|m| m.contains(addr))
    }

    /// The modules the process had unloaded.
    pub fn unloaded_modules(&self) -> &[UnloadedModule] {
        &self.unloaded_modules
    }

    /// The threads.
    pub fn threads(&self) -> &[Thread] {
        &self.threads
    }

    /// The address space's regions as `VirtualQuery` saw them
    /// (`MemoryInfoListStream`), sorted by address.
    pub fn memory_info(&self) -> &[MemoryInfo] {
        &self.memory_info
    }

    /// The region of [`Minidump::memory_info`] holding `addr`.
    pub fn memory_info_at(&self, addr: u64) -> Option<&MemoryInfo> {
        let i = self.memory_info.partition_point(|m| m.base <= addr);
        self.memory_info[..i].last().filter(|m| addr < m.end())
    }

    /// The handles the process had open.
    pub fn handles(&self) -> &[Handle] {
        &self.handles
    }

    /// The exception the dump was written for, if any.
    pub fn exception(&self) -> Option<&Exception> {
        self.exception.as_ref()
    }

    /// The comment streams' texts.
    pub fn comments(&self) -> &[String] {
        &self.comments
    }

    /// How much memory the dump holds.
    pub fn coverage(&self) -> Coverage {
        self.coverage
    }

    /// What could not be read of the auxiliary streams (and of threads'
    /// contexts, modules' CodeView records); the dump opened without it.
    pub fn problems(&self) -> &[MinidumpError] {
        &self.problems
    }
}

impl<R: ReadAt> Minidump<R> {
    /// The process's memory by kind of allocation: what the process had
    /// committed and what the dump holds of it (see [`MemoryKinds`]).
    pub fn memory_kinds(&self) -> MemoryKinds {
        let known = |m: &MemoryInfo| {
            m.is_committed()
                && matches!(
                    m.kind,
                    MemoryInfo::MEM_IMAGE | MemoryInfo::MEM_MAPPED | MemoryInfo::MEM_PRIVATE
                )
        };
        let add = |out: &mut MemoryKinds, m: &MemoryInfo, committed: u64, captured: u64| {
            let k = match m.kind {
                MemoryInfo::MEM_IMAGE => &mut out.image,
                MemoryInfo::MEM_MAPPED => &mut out.mapped,
                _ => &mut out.private,
            };
            k.committed = k.committed.saturating_add(committed);
            k.captured = k.captured.saturating_add(captured);
            if m.kind == MemoryInfo::MEM_PRIVATE && m.access().write {
                let w = &mut out.private_writable;
                w.committed = w.committed.saturating_add(committed);
                w.captured = w.captured.saturating_add(captured);
            }
        };
        let mut out = MemoryKinds::default();
        for m in self.memory_info.iter().filter(|m| known(m)) {
            add(&mut out, m, m.size, 0);
        }
        for r in self.memory.regions() {
            let (start, end) = (r.start, r.start.saturating_add(r.data_size));
            let mut classified = 0u64;
            let first = self.memory_info.partition_point(|m| m.end() <= start);
            for m in self.memory_info[first..]
                .iter()
                .take_while(|m| m.base < end)
                .filter(|m| known(m))
            {
                let overlap = end.min(m.end()).saturating_sub(start.max(m.base));
                classified = classified.saturating_add(overlap);
                add(&mut out, m, 0, overlap);
            }
            out.unclassified_captured = out
                .unclassified_captured
                .saturating_add((end - start).saturating_sub(classified));
        }
        out
    }
}

fn read_header(input: &Input<'_>) -> Result<Header, MinidumpError> {
    let mut b = [0u8; HEADER_SIZE];
    let have = input.len.min(HEADER_SIZE as u64) as usize;
    input.read(&|| "header".to_owned(), 0, &mut b[..have])?;
    let magic = &b[..have.min(4)];
    if have == 0 || magic != &SIGNATURE.to_le_bytes()[..magic.len()] {
        return Err(MinidumpError::NotMinidump {
            magic: magic.to_vec(),
        });
    }
    if have < HEADER_SIZE {
        return Err(MinidumpError::Truncated {
            what: "header".to_owned(),
            offset: 0,
            len: HEADER_SIZE as u64,
            file_len: input.len,
        });
    }
    let version = le32(&b, 4);
    if version as u16 != VERSION {
        return Err(MinidumpError::UnsupportedVersion {
            version: version as u16,
        });
    }
    Ok(Header {
        version,
        stream_count: le32(&b, 8),
        directory_rva: le32(&b, 12),
        checksum: le32(&b, 16),
        time_date_stamp: le32(&b, 20),
        flags: le64(&b, 24),
    })
}

fn read_directory(input: &Input<'_>, h: &Header) -> Result<Vec<StreamEntry>, MinidumpError> {
    let n = h.stream_count;
    let at = u64::from(h.directory_rva);
    let len = u64::from(n) * ENTRY_SIZE;
    if n > MAX_STREAMS {
        return Err(MinidumpError::TooLarge {
            what: format!("stream directory ({n} entries, header offset 8)"),
            offset: at,
            len,
            limit: u64::from(MAX_STREAMS) * ENTRY_SIZE,
        });
    }
    if n > 0 && at < HEADER_SIZE as u64 {
        return Err(MinidumpError::BadHeader {
            offset: 12,
            message: format!("the stream directory's offset {at} lies inside the header"),
        });
    }
    let mut buf = vec![0u8; len as usize];
    input.read(&|| format!("stream directory ({n} entries)"), at, &mut buf)?;
    Ok(buf
        .chunks_exact(ENTRY_SIZE as usize)
        .enumerate()
        .map(|(index, e)| StreamEntry {
            index,
            stream_type: le32(e, 0),
            size: le32(e, 4),
            rva: u64::from(le32(e, 8)),
        })
        .collect())
}

/// Turns a refusal of the memory map into an error naming the descriptor.
fn map_error(e: MapError, ranges: &Ranges) -> MinidumpError {
    let (i, message) = match e {
        MapError::Overlap {
            first,
            first_start,
            first_end,
            second,
            second_start,
        } => {
            let other = ranges.origins.get(first);
            (
                second,
                format!(
                    "its range from {second_start:#x} overlaps {first_start:#x}..{first_end:#x} \
                     (descriptor {} of the {})",
                    other.map_or(first, |o| o.index),
                    other.map_or("memory list", |o| o.stream),
                ),
            )
        }
        MapError::Wraps { index, .. }
        | MapError::DataLargerThanRegion { index, .. }
        | MapError::FileRangeWraps { index, .. } => (index, e.to_string()),
    };
    match ranges.origins.get(i) {
        Some(o) => MinidumpError::BadMemoryRange {
            stream: o.stream,
            index: o.index,
            offset: o.offset,
            message,
        },
        None => MinidumpError::BadMemoryRange {
            stream: "memory list",
            index: i,
            offset: 0,
            message,
        },
    }
}
