//! The small streams, read through the `minidump` crate's parsers.
//!
//! Each parser gets the stream's own bytes; the RVAs in them that name
//! other data of the file (strings, CodeView records, contexts) are
//! rewritten to offsets in a small buffer that holds just that data (see
//! [`Aux`]), so that no parser ever needs the whole file.

use crate::dump::{Input, StreamEntry};
use crate::error::MinidumpError;
use crate::{le32, stream_type, MAX_RECORD_BYTES, MAX_STRING_BYTES};
use heaplens_memory::Protection;
use minidump::{MinidumpContext, MinidumpMiscInfo, MinidumpStream, MinidumpSystemInfo};
use minidump_common::format as md;
use scroll::Pread;

const LE: scroll::Endian = scroll::Endian::Little;

/// Most bytes of auxiliary data gathered for one record (a module, a
/// handle): its strings and records, each bounded on its own too.
const MAX_AUX_BYTES: usize = 4 << 20;

/// The data one stream record points at, copied out of the file. Offset 0
/// of the buffer holds eight zero bytes, so a rewritten RVA is never 0
/// (which parsers read as "none") and RVA 0 reads as an empty string.
pub(crate) struct Aux {
    buf: Vec<u8>,
}

impl Aux {
    pub(crate) fn new() -> Aux {
        Aux { buf: vec![0; 8] }
    }

    /// Appends `bytes` and returns their offset (the rewritten RVA).
    fn push(
        &mut self,
        what: &dyn Fn() -> String,
        rva: u32,
        bytes: &[u8],
    ) -> Result<u32, MinidumpError> {
        if self.buf.len() + bytes.len() > MAX_AUX_BYTES {
            return Err(MinidumpError::TooLarge {
                what: what(),
                offset: u64::from(rva),
                len: (self.buf.len() + bytes.len()) as u64,
                limit: MAX_AUX_BYTES as u64,
            });
        }
        let at = self.buf.len() as u32;
        self.buf.extend_from_slice(bytes);
        Ok(at)
    }

    /// Copies the length-prefixed UTF-16 string at `rva` and returns its
    /// new RVA.
    fn string(
        &mut self,
        input: &Input<'_>,
        what: &dyn Fn() -> String,
        rva: u32,
    ) -> Result<u32, MinidumpError> {
        let bytes = input.string(what, rva)?;
        self.push(what, rva, &bytes)
    }

    /// Copies the `size` bytes at `rva` and returns their new RVA.
    fn record(
        &mut self,
        input: &Input<'_>,
        what: &dyn Fn() -> String,
        loc: md::MINIDUMP_LOCATION_DESCRIPTOR,
    ) -> Result<u32, MinidumpError> {
        let bytes = input.record(what, loc)?;
        self.push(what, loc.rva, &bytes)
    }
}

fn put_u32(b: &mut [u8], at: usize, v: u32) {
    if let Some(s) = b.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_le_bytes());
    }
}

/// The count of a `u32`-counted list of `size`-byte records, checked
/// against the stream's length.
fn counted_list(
    entry: &StreamEntry,
    bytes: &[u8],
    header: usize,
    size: usize,
) -> Result<usize, MinidumpError> {
    let name = entry.name();
    if bytes.len() < 4 {
        return Err(MinidumpError::BadStream {
            stream: name,
            offset: entry.rva,
            message: format!(
                "the stream is {} bytes, too short for its count",
                bytes.len()
            ),
        });
    }
    let count = le32(bytes, 0) as usize;
    let need = (count as u64) * size as u64 + header as u64;
    if need > bytes.len() as u64 {
        return Err(MinidumpError::BadStream {
            stream: name,
            offset: entry.rva,
            message: format!(
                "{count} entries of {size} bytes need {need} bytes, but the stream has {}",
                bytes.len()
            ),
        });
    }
    Ok(count)
}

/// The general-purpose registers of a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registers {
    /// Every general-purpose register by name (`rax`, …, `rip`).
    pub general_purpose: Vec<(&'static str, u64)>,
    /// The stack pointer.
    pub stack_pointer: u64,
    /// The instruction pointer.
    pub instruction_pointer: u64,
}

impl Registers {
    fn from_context(c: &MinidumpContext) -> Registers {
        Registers {
            general_purpose: c.registers().collect(),
            stack_pointer: c.get_stack_pointer(),
            instruction_pointer: c.get_instruction_pointer(),
        }
    }
}

/// Reads the register context at `loc`: `Ok(None)` when there is none or
/// the processor is unknown (no `SystemInfoStream`).
fn context(
    input: &Input<'_>,
    what: &dyn Fn() -> String,
    loc: md::MINIDUMP_LOCATION_DESCRIPTOR,
    sys: Option<&MinidumpSystemInfo>,
    misc: Option<&MinidumpMiscInfo>,
    stream: &'static str,
) -> Result<Option<Registers>, MinidumpError> {
    let Some(sys) = sys else { return Ok(None) };
    if loc.data_size == 0 {
        return Ok(None);
    }
    let bytes = input.record(what, loc)?;
    match MinidumpContext::read(&bytes, LE, sys, misc) {
        Ok(c) => Ok(Some(Registers::from_context(&c))),
        Err(e) => Err(MinidumpError::BadStream {
            stream,
            offset: u64::from(loc.rva),
            message: format!("{}: {e:?}", what()),
        }),
    }
}

/// The processor and operating system (`SystemInfoStream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemInfo {
    /// `PROCESSOR_ARCHITECTURE_*` (9 is AMD64, 0 x86, 12 ARM64).
    pub processor_architecture: u16,
    /// The processor as `minidump` names it (`amd64`, `x86`, `arm64`).
    pub cpu: String,
    /// The operating system as `minidump` names it (`windows`).
    pub os: String,
    /// Major, minor and build number of the operating system.
    pub os_version: (u32, u32, u32),
    /// The service pack string, when there is one.
    pub csd_version: Option<String>,
    /// Number of processors.
    pub processors: u8,
    /// Size of a pointer in the process: 4 or 8.
    pub pointer_size: usize,
}

/// Reads `SystemInfoStream`.
pub(crate) fn system_info(
    input: &Input<'_>,
    entry: &StreamEntry,
    problems: &mut Vec<MinidumpError>,
) -> Result<(SystemInfo, MinidumpSystemInfo), MinidumpError> {
    const SIZE: usize = 56;
    const CSD_RVA: usize = 24;
    let mut bytes = input.stream(entry)?;
    if bytes.len() < SIZE {
        return Err(MinidumpError::BadStream {
            stream: entry.name(),
            offset: entry.rva,
            message: format!("{} bytes, {SIZE} expected", bytes.len()),
        });
    }
    let mut aux = Aux::new();
    let csd = le32(&bytes, CSD_RVA);
    let what = || "SystemInfoStream's service pack string".to_owned();
    let new = if csd == 0 {
        0
    } else {
        match aux.string(input, &what, csd) {
            Ok(at) => at,
            Err(e) => {
                problems.push(e);
                0
            }
        }
    };
    put_u32(&mut bytes, CSD_RVA, new);
    let sys = MinidumpSystemInfo::read(&bytes, &aux.buf, LE, None).map_err(|e| {
        MinidumpError::BadStream {
            stream: entry.name(),
            offset: entry.rva,
            message: crate::error::minidump_words(&e),
        }
    })?;
    let pointer_size = match sys.raw.processor_architecture {
        // x86, ARM, x86 on Win64.
        0 | 5 | 10 => 4,
        _ => 8,
    };
    let info = SystemInfo {
        processor_architecture: sys.raw.processor_architecture,
        cpu: sys.cpu.to_string(),
        os: sys.os.to_string(),
        os_version: (
            sys.raw.major_version,
            sys.raw.minor_version,
            sys.raw.build_number,
        ),
        csd_version: sys
            .csd_version()
            .map(|s| s.into_owned())
            .filter(|s| !s.is_empty()),
        processors: sys.raw.number_of_processors,
        pointer_size,
    };
    Ok((info, sys))
}

/// The process (`MiscInfoStream`): each field when the dump writer set it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ProcessInfo {
    /// The process id.
    pub process_id: Option<u32>,
    /// When the process started (seconds since 1970).
    pub create_time: Option<u32>,
    /// Seconds the process ran in user mode.
    pub user_time: Option<u32>,
    /// Seconds the process ran in kernel mode.
    pub kernel_time: Option<u32>,
}

/// Reads `MiscInfoStream`.
pub(crate) fn misc_info(
    input: &Input<'_>,
    entry: &StreamEntry,
) -> Result<(ProcessInfo, MinidumpMiscInfo), MinidumpError> {
    let bytes = input.stream(entry)?;
    let misc =
        MinidumpMiscInfo::read(&bytes, &[], LE, None).map_err(|e| MinidumpError::BadStream {
            stream: entry.name(),
            offset: entry.rva,
            message: format!(
                "{} bytes: {}",
                bytes.len(),
                crate::error::minidump_words(&e)
            ),
        })?;
    let info = ProcessInfo {
        process_id: misc.raw.process_id().copied(),
        create_time: misc.raw.process_create_time().copied(),
        user_time: misc.raw.process_user_time().copied(),
        kernel_time: misc.raw.process_kernel_time().copied(),
    };
    Ok((info, misc))
}

/// A module (executable image) loaded in the process (`ModuleListStream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// Its path as the dump records it.
    pub path: String,
    /// Where its image starts (the `MZ` header).
    pub base: u64,
    /// `SizeOfImage`.
    pub size: u32,
    /// The image's checksum.
    pub checksum: u32,
    /// The image's COFF `TimeDateStamp`.
    pub time_date_stamp: u32,
    /// The `VS_FIXEDFILEINFO` file version (most and least significant
    /// halves), when the dump holds a valid one.
    pub file_version: Option<(u32, u32)>,
    /// The file version as text (`8.0.424.16909`), when known.
    pub version: Option<String>,
    /// The debug file (`coreclr.pdb`) from the CodeView record.
    pub debug_file: Option<String>,
    /// The debug identifier (PDB GUID and age, Breakpad style) from the
    /// CodeView record.
    pub debug_id: Option<String>,
    /// The code identifier (`TimeDateStamp` and `SizeOfImage`, in hex).
    pub code_id: Option<String>,
}

impl Module {
    /// One past the image's last byte.
    pub fn end(&self) -> u64 {
        self.base.saturating_add(u64::from(self.size))
    }

    /// The last component of the path (either separator).
    pub fn file_name(&self) -> &str {
        self.path.rsplit(['\\', '/']).next().unwrap_or(&self.path)
    }

    /// True when `addr` lies in the image.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.base && addr < self.end()
    }
}

/// Reads `ModuleListStream`.
pub(crate) fn modules(
    input: &Input<'_>,
    entry: &StreamEntry,
    sys: Option<&MinidumpSystemInfo>,
    problems: &mut Vec<MinidumpError>,
) -> Result<Vec<Module>, MinidumpError> {
    use minidump::Module as _;
    const SIZE: usize = 108;
    let bytes = input.stream(entry)?;
    let count = counted_list(entry, &bytes, 4, SIZE)?;
    let mut out = Vec::with_capacity(count);
    for k in 0..count {
        let at = 4 + SIZE * k;
        let offset = entry.rva + at as u64;
        let bad = |message: String| MinidumpError::BadStream {
            stream: entry.name(),
            offset,
            message,
        };
        let mut raw: md::MINIDUMP_MODULE =
            bytes.pread_with(at, LE).map_err(|e: scroll::Error| {
                bad(format!("module {k}: {}", crate::error::scroll_words(&e)))
            })?;
        if raw
            .base_of_image
            .checked_add(u64::from(raw.size_of_image))
            .is_none()
        {
            return Err(bad(format!(
                "module {k} at {:#x} of {:#x} bytes wraps around the address space",
                raw.base_of_image, raw.size_of_image
            )));
        }
        let mut aux = Aux::new();
        let name_what = || format!("name of module {k} (ModuleListStream)");
        raw.module_name_rva = aux.string(input, &name_what, raw.module_name_rva)?;
        let cv = raw.cv_record;
        raw.cv_record = md::MINIDUMP_LOCATION_DESCRIPTOR::default();
        raw.misc_record = md::MINIDUMP_LOCATION_DESCRIPTOR::default();
        if cv.data_size != 0 {
            let what = || format!("CodeView record of module {k} (ModuleListStream)");
            match aux.record(input, &what, cv) {
                Ok(rva) => {
                    raw.cv_record = md::MINIDUMP_LOCATION_DESCRIPTOR {
                        data_size: cv.data_size,
                        rva,
                    }
                }
                Err(e) => problems.push(e),
            }
        }
        let module = match minidump::MinidumpModule::read(raw.clone(), &aux.buf, LE, sys) {
            Ok(m) => m,
            Err(_) if raw.cv_record.data_size != 0 => {
                problems.push(MinidumpError::BadStream {
                    stream: entry.name(),
                    offset: u64::from(cv.rva),
                    message: format!("the CodeView record of module {k} is malformed"),
                });
                raw.cv_record = md::MINIDUMP_LOCATION_DESCRIPTOR::default();
                minidump::MinidumpModule::read(raw.clone(), &aux.buf, LE, sys)
                    .map_err(|e| bad(format!("module {k}: {}", crate::error::minidump_words(&e))))?
            }
            Err(_) => return Err(bad(format!("the name of module {k} is not UTF-16 text"))),
        };
        let v = &raw.version_info;
        let file_version =
            (v.signature == md::VS_FFI_SIGNATURE).then_some((v.file_version_hi, v.file_version_lo));
        out.push(Module {
            path: module.name.clone(),
            base: raw.base_of_image,
            size: raw.size_of_image,
            checksum: raw.checksum,
            time_date_stamp: raw.time_date_stamp,
            file_version,
            version: module.version().map(|v| v.into_owned()),
            debug_file: module.debug_file().map(|f| f.into_owned()),
            debug_id: module.debug_identifier().map(|d| d.breakpad().to_string()),
            code_id: module.code_identifier().map(|c| c.to_string()),
        });
    }
    Ok(out)
}

/// A thread of the process (`ThreadListStream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// The thread id.
    pub id: u32,
    /// Its suspend count.
    pub suspend_count: u32,
    /// Its priority class.
    pub priority_class: u32,
    /// Its priority.
    pub priority: u32,
    /// Its thread environment block.
    pub teb: u64,
    /// The part of its stack the dump holds, `[start, end)` (`end` is the
    /// stack's base, its highest address).
    pub stack: Option<(u64, u64)>,
    /// Its registers, when the dump holds its context.
    pub context: Option<Registers>,
    /// What `ThreadInfoListStream` says about it.
    pub info: Option<ThreadInfo>,
}

impl Thread {
    /// The stack pointer, from the context.
    pub fn stack_pointer(&self) -> Option<u64> {
        self.context.as_ref().map(|c| c.stack_pointer)
    }
}

/// A thread stack's memory descriptor, for the memory map.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StackMemory {
    pub start: u64,
    pub size: u64,
    pub rva: u64,
    /// File offset of the descriptor.
    pub descriptor: u64,
}

/// Reads `ThreadListStream`: the threads and their stacks' descriptors.
pub(crate) fn threads(
    input: &Input<'_>,
    entry: &StreamEntry,
    sys: Option<&MinidumpSystemInfo>,
    misc: Option<&MinidumpMiscInfo>,
    problems: &mut Vec<MinidumpError>,
) -> Result<(Vec<Thread>, Vec<StackMemory>), MinidumpError> {
    const SIZE: usize = 48;
    let bytes = input.stream(entry)?;
    let count = counted_list(entry, &bytes, 4, SIZE)?;
    let mut out = Vec::with_capacity(count);
    let mut stacks = Vec::new();
    for k in 0..count {
        let at = 4 + SIZE * k;
        let offset = entry.rva + at as u64;
        let raw: md::MINIDUMP_THREAD =
            bytes
                .pread_with(at, LE)
                .map_err(|e: scroll::Error| MinidumpError::BadStream {
                    stream: entry.name(),
                    offset,
                    message: format!("thread {k}: {}", crate::error::scroll_words(&e)),
                })?;
        let s = raw.stack;
        let size = u64::from(s.memory.data_size);
        let stack = if size == 0 {
            None
        } else {
            let Some(end) = s.start_of_memory_range.checked_add(size) else {
                return Err(MinidumpError::BadMemoryRange {
                    stream: entry.name(),
                    index: k,
                    offset: offset + 24,
                    message: format!(
                        "the stack of thread {} at {:#x} of {size:#x} bytes wraps around the \
                         address space",
                        raw.thread_id, s.start_of_memory_range
                    ),
                });
            };
            stacks.push(StackMemory {
                start: s.start_of_memory_range,
                size,
                rva: u64::from(s.memory.rva),
                descriptor: offset + 24,
            });
            Some((s.start_of_memory_range, end))
        };
        let id = raw.thread_id;
        let what = move || format!("context of thread {id} (ThreadListStream)");
        let context = match context(input, &what, raw.thread_context, sys, misc, entry.name()) {
            Ok(c) => c,
            Err(e) => {
                problems.push(e);
                None
            }
        };
        out.push(Thread {
            id,
            suspend_count: raw.suspend_count,
            priority_class: raw.priority_class,
            priority: raw.priority,
            teb: raw.teb,
            stack,
            context,
            info: None,
        });
    }
    Ok((out, stacks))
}

/// What `ThreadInfoListStream` says about a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadInfo {
    /// `MINIDUMP_THREAD_INFO_*` flags (exited, writing the dump, …).
    pub dump_flags: u32,
    /// Its exit status.
    pub exit_status: u32,
    /// When it was created (FILETIME: 100 ns since 1601).
    pub create_time: u64,
    /// Time it ran in kernel mode (100 ns).
    pub kernel_time: u64,
    /// Time it ran in user mode (100 ns).
    pub user_time: u64,
    /// Its start address.
    pub start_address: u64,
}

/// Reads `ThreadInfoListStream`: thread id → info.
pub(crate) fn thread_infos(
    input: &Input<'_>,
    entry: &StreamEntry,
) -> Result<Vec<(u32, ThreadInfo)>, MinidumpError> {
    let bytes = input.stream(entry)?;
    let list = minidump::MinidumpThreadInfoList::read(&bytes, &[], LE, None).map_err(|e| {
        MinidumpError::BadStream {
            stream: entry.name(),
            offset: entry.rva,
            message: crate::error::minidump_words(&e),
        }
    })?;
    Ok(list
        .thread_infos
        .iter()
        .map(|t| {
            (
                t.raw.thread_id,
                ThreadInfo {
                    dump_flags: t.raw.dump_flags,
                    exit_status: t.raw.exit_status,
                    create_time: t.raw.create_time,
                    kernel_time: t.raw.kernel_time,
                    user_time: t.raw.user_time,
                    start_address: t.raw.start_address,
                },
            )
        })
        .collect())
}

/// A region of the process's address space (`MemoryInfoListStream`), as
/// `VirtualQuery` describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryInfo {
    /// First address.
    pub base: u64,
    /// Length in bytes.
    pub size: u64,
    /// Base of the allocation the region belongs to.
    pub allocation_base: u64,
    /// `PAGE_*` protection of the allocation.
    pub allocation_protection: u32,
    /// `MEM_COMMIT` (0x1000), `MEM_RESERVE` (0x2000) or `MEM_FREE`
    /// (0x10000).
    pub state: u32,
    /// `PAGE_*` protection of the region.
    pub protection: u32,
    /// `MEM_PRIVATE` (0x20000), `MEM_MAPPED` (0x40000) or `MEM_IMAGE`
    /// (0x1000000).
    pub kind: u32,
}

impl MemoryInfo {
    /// `MEM_COMMIT`.
    pub const MEM_COMMIT: u32 = 0x1000;
    /// `MEM_PRIVATE`.
    pub const MEM_PRIVATE: u32 = 0x20000;
    /// `MEM_MAPPED`.
    pub const MEM_MAPPED: u32 = 0x40000;
    /// `MEM_IMAGE`.
    pub const MEM_IMAGE: u32 = 0x100_0000;

    /// True when the region is committed memory.
    pub fn is_committed(&self) -> bool {
        self.state == Self::MEM_COMMIT
    }

    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.base.saturating_add(self.size)
    }

    /// The region's access rights.
    pub fn access(&self) -> Protection {
        let p = self.protection & 0xff;
        let (read, write, execute) = match p {
            0x02 => (true, false, false),       // READONLY
            0x04 | 0x08 => (true, true, false), // READWRITE, WRITECOPY
            0x10 => (false, false, true),       // EXECUTE
            0x20 => (true, false, true),        // EXECUTE_READ
            0x40 | 0x80 => (true, true, true),  // EXECUTE_READWRITE, _WRITECOPY
            _ => (false, false, false),         // NOACCESS and unknown
        };
        Protection {
            read,
            write,
            execute,
        }
    }
}

/// Reads `MemoryInfoListStream`.
pub(crate) fn memory_info(
    input: &Input<'_>,
    entry: &StreamEntry,
) -> Result<Vec<MemoryInfo>, MinidumpError> {
    let bytes = input.stream(entry)?;
    let list = minidump::MinidumpMemoryInfoList::read(&bytes, &[], LE, None).map_err(|e| {
        MinidumpError::BadStream {
            stream: entry.name(),
            offset: entry.rva,
            message: crate::error::minidump_words(&e),
        }
    })?;
    let mut out: Vec<MemoryInfo> = list
        .iter()
        .map(|m| MemoryInfo {
            base: m.raw.base_address,
            size: m.raw.region_size,
            allocation_base: m.raw.allocation_base,
            allocation_protection: m.raw.allocation_protection,
            state: m.raw.state,
            protection: m.raw.protection,
            kind: m.raw._type,
        })
        .collect();
    out.sort_by_key(|m| m.base);
    Ok(out)
}

/// A handle the process had open (`HandleDataStream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handle {
    /// The handle value.
    pub handle: u64,
    /// The object type (`File`, `Event`, …), when recorded.
    pub type_name: Option<String>,
    /// The object's name, when recorded.
    pub object_name: Option<String>,
    /// Its attributes.
    pub attributes: u32,
    /// Its granted access mask.
    pub granted_access: u32,
    /// The object's handle count.
    pub handle_count: u32,
    /// The object's pointer count.
    pub pointer_count: u32,
}

/// Reads `HandleDataStream`.
pub(crate) fn handles(
    input: &Input<'_>,
    entry: &StreamEntry,
    problems: &mut Vec<MinidumpError>,
) -> Result<Vec<Handle>, MinidumpError> {
    let mut bytes = input.stream(entry)?;
    let bad = |offset: u64, message: String| MinidumpError::BadStream {
        stream: entry.name(),
        offset,
        message,
    };
    if bytes.len() < 16 {
        return Err(bad(
            entry.rva,
            format!("{} bytes, too short for its header", bytes.len()),
        ));
    }
    let (header, size, count) = (
        le32(&bytes, 0) as u64,
        le32(&bytes, 4) as u64,
        le32(&bytes, 8) as u64,
    );
    if size != 32 && size != 40 {
        return Err(bad(
            entry.rva + 4,
            format!("descriptors of {size} bytes (32 or 40 expected)"),
        ));
    }
    if header < 16 || header + size * count > bytes.len() as u64 {
        return Err(bad(
            entry.rva,
            format!(
                "a {header}-byte header and {count} descriptors of {size} bytes do not fit in \
                 the stream's {} bytes",
                bytes.len()
            ),
        ));
    }
    // One buffer for every handle's names: bounded per name, and in all;
    // once it is full, the remaining names are left out.
    let mut aux = Aux::new();
    let mut full = false;
    for k in 0..count as usize {
        let at = (header + size * k as u64) as usize;
        for (field, which) in [(8, "type name"), (12, "object name")] {
            let rva = le32(&bytes, at + field);
            let what = || format!("{which} of handle {k} (HandleDataStream)");
            let new = if rva == 0 || full {
                0
            } else {
                match aux.string(input, &what, rva) {
                    Ok(n) => n,
                    Err(e) => {
                        full = aux.buf.len() + STRING_LIMIT as usize + 4 > MAX_AUX_BYTES;
                        problems.push(e);
                        0
                    }
                }
            };
            put_u32(&mut bytes, at + field, new);
        }
        if size == 40 {
            // Object information chains are not needed (and could loop).
            put_u32(&mut bytes, at + 32, 0);
        }
    }
    let stream = minidump::MinidumpHandleDataStream::read(&bytes, &aux.buf, LE, None)
        .map_err(|e| bad(entry.rva, crate::error::minidump_words(&e)))?;
    let named = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
    Ok(stream
        .handles
        .iter()
        .map(|h| Handle {
            handle: h.raw.handle().copied().unwrap_or(0),
            type_name: named(&h.type_name),
            object_name: named(&h.object_name),
            attributes: h.raw.attributes().copied().unwrap_or(0),
            granted_access: h.raw.granted_access().copied().unwrap_or(0),
            handle_count: h.raw.handle_count().copied().unwrap_or(0),
            pointer_count: h.raw.pointer_count().copied().unwrap_or(0),
        })
        .collect())
}

/// A module the process had loaded and unloaded
/// (`UnloadedModuleListStream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnloadedModule {
    /// Its path.
    pub path: String,
    /// Where its image was.
    pub base: u64,
    /// `SizeOfImage`.
    pub size: u32,
    /// The image's checksum.
    pub checksum: u32,
    /// The image's COFF `TimeDateStamp`.
    pub time_date_stamp: u32,
}

/// Reads `UnloadedModuleListStream`.
pub(crate) fn unloaded_modules(
    input: &Input<'_>,
    entry: &StreamEntry,
) -> Result<Vec<UnloadedModule>, MinidumpError> {
    const SIZE: u64 = 24;
    let bytes = input.stream(entry)?;
    let bad = |offset: u64, message: String| MinidumpError::BadStream {
        stream: entry.name(),
        offset,
        message,
    };
    if bytes.len() < 12 {
        return Err(bad(
            entry.rva,
            format!("{} bytes, too short for its header", bytes.len()),
        ));
    }
    let (header, size, count) = (
        u64::from(le32(&bytes, 0)),
        u64::from(le32(&bytes, 4)),
        u64::from(le32(&bytes, 8)),
    );
    if header < 12 || size < SIZE || header + size * count > bytes.len() as u64 {
        return Err(bad(
            entry.rva,
            format!(
                "a {header}-byte header and {count} entries of {size} bytes do not fit in the \
                 stream's {} bytes (entries are at least {SIZE} bytes)",
                bytes.len()
            ),
        ));
    }
    let mut out = Vec::with_capacity(count as usize);
    for k in 0..count {
        let at = (header + size * k) as usize;
        let mut raw: md::MINIDUMP_UNLOADED_MODULE =
            bytes.pread_with(at, LE).map_err(|e: scroll::Error| {
                bad(entry.rva + at as u64, crate::error::scroll_words(&e))
            })?;
        let mut aux = Aux::new();
        let what = || format!("name of unloaded module {k} (UnloadedModuleListStream)");
        raw.module_name_rva = aux.string(input, &what, raw.module_name_rva)?;
        let m =
            minidump::MinidumpUnloadedModule::read(raw.clone(), &aux.buf, LE).map_err(|_| {
                bad(
                    entry.rva + at as u64,
                    format!("the name of unloaded module {k} is not UTF-16 text"),
                )
            })?;
        out.push(UnloadedModule {
            path: m.name,
            base: raw.base_of_image,
            size: raw.size_of_image,
            checksum: raw.checksum,
            time_date_stamp: raw.time_date_stamp,
        });
    }
    Ok(out)
}

/// The exception that made the dump be written (`ExceptionStream`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exception {
    /// The thread that raised it.
    pub thread_id: u32,
    /// The exception code (`0xC0000005` for an access violation).
    pub code: u32,
    /// The exception flags.
    pub flags: u32,
    /// Where it happened.
    pub address: u64,
    /// The thread's registers at the exception, when recorded.
    pub context: Option<Registers>,
}

/// Reads `ExceptionStream`.
pub(crate) fn exception(
    input: &Input<'_>,
    entry: &StreamEntry,
    sys: Option<&MinidumpSystemInfo>,
    misc: Option<&MinidumpMiscInfo>,
    problems: &mut Vec<MinidumpError>,
) -> Result<Exception, MinidumpError> {
    let bytes = input.stream(entry)?;
    let raw: md::MINIDUMP_EXCEPTION_STREAM =
        bytes
            .pread_with(0, LE)
            .map_err(|e: scroll::Error| MinidumpError::BadStream {
                stream: entry.name(),
                offset: entry.rva,
                message: crate::error::scroll_words(&e),
            })?;
    let what = || "context of the exception's thread (ExceptionStream)".to_owned();
    let context = match context(input, &what, raw.thread_context, sys, misc, entry.name()) {
        Ok(c) => c,
        Err(e) => {
            problems.push(e);
            None
        }
    };
    Ok(Exception {
        thread_id: raw.thread_id,
        code: raw.exception_record.exception_code,
        flags: raw.exception_record.exception_flags,
        address: raw.exception_record.exception_address,
        context,
    })
}

/// Reads a comment stream (`CommentStreamA`: 8-bit text; `CommentStreamW`:
/// UTF-16), up to its first NUL.
pub(crate) fn comment(input: &Input<'_>, entry: &StreamEntry) -> Result<String, MinidumpError> {
    let bytes = input.stream(entry)?;
    Ok(if entry.stream_type == stream_type::COMMENT_W {
        let units: Vec<u16> = bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .take_while(|&u| u != 0)
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
        String::from_utf8_lossy(&bytes[..end]).into_owned()
    })
}

/// Bounds of [`Input::string`] and [`Input::record`].
pub(crate) const STRING_LIMIT: u32 = MAX_STRING_BYTES;
/// See [`STRING_LIMIT`].
pub(crate) const RECORD_LIMIT: u32 = MAX_RECORD_BYTES;
