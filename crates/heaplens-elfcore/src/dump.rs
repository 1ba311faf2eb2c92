//! Opening a core: header, program headers, notes, and the memory map.

use crate::image::{ElfImage, ImageError};
use crate::modules::{self, Module};
use crate::notes::{self, Desc, MappedFile, ProcessInfo, Thread};
use crate::{ElfCoreError, Machine, MAX_NOTE_BYTES, PHDR_CHUNK};
use goblin::container::{Container, Ctx};
use goblin::elf::header::{self, Header};
use goblin::elf::note::{self as gnote, Nhdr32, NoteDataIterator};
use goblin::elf::program_header::{ProgramHeader, PF_R, PF_W, PF_X, PT_LOAD, PT_NOTE};
use heaplens_bytes::ReadAt;
use heaplens_memory::{
    AddressSpace, MapError, MappedRange, MemoryMap, Protection, Region, Unbacked,
};
use scroll::Pread;

/// Size of an ELF64 header.
const EHDR_SIZE: usize = 64;
/// Size of an ELF64 program header.
const PHDR_SIZE: usize = 56;
/// Size of an ELF64 section header.
const SHDR_SIZE: usize = 64;
/// `e_phnum` value saying the real count is in section header 0's `sh_info`.
const PN_XNUM: u16 = 0xffff;
/// Note type of the auxiliary vector.
const NT_AUXV: u32 = 6;

const CTX: Ctx = Ctx {
    container: Container::Big,
    le: scroll::Endian::Little,
};

/// How much of the process's memory a core holds.
///
/// "Mapped" bytes are the address ranges of the `PT_LOAD` segments (what
/// the process had mapped, as far as the dump writer recorded it); "data"
/// bytes are those whose contents are in the core (`p_filesz`). Reading a
/// mapped byte without data fails with
/// [`heaplens_memory::MemoryError::NotCaptured`].
///
/// "Anonymous" bytes are those outside every file mapping of the
/// `NT_FILE` note: thread stacks, the native heap and the GC heap live
/// there. A full or `--withheap` core holds megabytes of anonymous data
/// (the GC heap); a `--normal` or `--triage` core, or a kernel core with a
/// restrictive `coredump_filter`, holds little or none, and the GC heap
/// cannot be walked from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Coverage {
    /// Number of non-empty `PT_LOAD` segments.
    pub segments: usize,
    /// Bytes of address space the segments cover.
    pub mapped_bytes: u64,
    /// Bytes of the segments whose contents the core holds.
    pub data_bytes: u64,
    /// Bytes of data the segments say the file holds but that lie past its
    /// end (0 unless the core was cut short).
    pub missing_bytes: u64,
    /// Mapped bytes outside every `NT_FILE` mapping.
    pub anonymous_mapped_bytes: u64,
    /// Data bytes outside every `NT_FILE` mapping.
    pub anonymous_data_bytes: u64,
    /// Data bytes outside every `NT_FILE` mapping in writable segments:
    /// where a GC heap would be.
    pub anonymous_writable_data_bytes: u64,
}

/// A Linux ELF core dump, opened lazily over a [`ReadAt`] source.
///
/// See the crate documentation for what is read when, and the memory used.
#[derive(Debug)]
pub struct ElfCore<R> {
    memory: MemoryMap<R>,
    machine: Machine,
    threads: Vec<Thread>,
    files: Vec<MappedFile>,
    modules: Vec<Module>,
    process: ProcessInfo,
    coverage: Coverage,
}

impl<R: ReadAt> ElfCore<R> {
    /// Reads the core's ELF header, program headers and notes, and maps its
    /// memory. The `PT_LOAD` data is not read.
    ///
    /// Only 64-bit little-endian cores of x86-64 and AArch64 processes are
    /// accepted. A segment whose data runs past the end of the file (a
    /// truncated core) is kept: reading there fails with
    /// [`heaplens_memory::MemoryError::Truncated`], and
    /// [`Coverage::missing_bytes`] counts it.
    pub fn open(source: R) -> Result<ElfCore<R>, ElfCoreError> {
        let file_len = source.len();
        let header = read_header(&source, file_len)?;
        let machine =
            Machine::from_e_machine(header.e_machine).ok_or_else(|| ElfCoreError::Unsupported {
                what: format!(
                    "machine {} ({}); heaplens reads x86-64 and AArch64 cores",
                    header.e_machine,
                    header::machine_to_str(header.e_machine)
                ),
                offset: 18,
            })?;
        let phnum = program_header_count(&source, &header, file_len)?;
        let phoff = header.e_phoff;
        let table_len = phnum * PHDR_SIZE as u64;
        if phoff
            .checked_add(table_len)
            .is_none_or(|end| end > file_len)
        {
            return Err(ElfCoreError::Truncated {
                what: "program header table",
                offset: phoff,
                len: table_len,
                file_len,
            });
        }

        let mut ranges: Vec<MappedRange> = Vec::new();
        // For each range, the index of its program header.
        let mut range_index: Vec<usize> = Vec::new();
        let mut note_segments: Vec<(u64, u64)> = Vec::new();
        let mut note_total = 0u64;
        let mut buf = Vec::new();
        let mut first = 0u64;
        while first < phnum {
            let n = (phnum - first).min(PHDR_CHUNK as u64) as usize;
            let at = phoff + first * PHDR_SIZE as u64;
            buf.resize(n * PHDR_SIZE, 0);
            source
                .read_at(at, &mut buf)
                .map_err(|source| ElfCoreError::Read {
                    what: "program header table",
                    offset: at,
                    source,
                })?;
            let phdrs =
                ProgramHeader::parse(&buf, 0, n, CTX).map_err(|e| ElfCoreError::BadSegment {
                    index: first as usize,
                    offset: at,
                    message: crate::error::goblin_words(&e),
                })?;
            for (k, ph) in phdrs.iter().enumerate() {
                let index = first as usize + k;
                let offset = phoff + index as u64 * PHDR_SIZE as u64;
                let bad = |message: String| ElfCoreError::BadSegment {
                    index,
                    offset,
                    message,
                };
                match ph.p_type {
                    PT_LOAD => {
                        if ph.p_vaddr.checked_add(ph.p_memsz).is_none() {
                            return Err(bad(format!(
                                "PT_LOAD at {:#x} of {:#x} bytes wraps around the address space",
                                ph.p_vaddr, ph.p_memsz
                            )));
                        }
                        if ph.p_filesz > ph.p_memsz {
                            return Err(bad(format!(
                                "PT_LOAD at {:#x} has more data ({} bytes) than addresses ({} bytes)",
                                ph.p_vaddr, ph.p_filesz, ph.p_memsz
                            )));
                        }
                        if ph.p_offset.checked_add(ph.p_filesz).is_none() {
                            return Err(bad(format!(
                                "PT_LOAD data at file offset {:#x} of {:#x} bytes wraps around",
                                ph.p_offset, ph.p_filesz
                            )));
                        }
                        ranges.push(MappedRange {
                            region: Region {
                                start: ph.p_vaddr,
                                size: ph.p_memsz,
                                data_size: ph.p_filesz,
                                protection: Some(Protection {
                                    read: ph.p_flags & PF_R != 0,
                                    write: ph.p_flags & PF_W != 0,
                                    execute: ph.p_flags & PF_X != 0,
                                }),
                            },
                            file_offset: ph.p_offset,
                        });
                        range_index.push(index);
                    }
                    PT_NOTE => {
                        if ph
                            .p_offset
                            .checked_add(ph.p_filesz)
                            .is_none_or(|e| e > file_len)
                        {
                            return Err(ElfCoreError::Truncated {
                                what: "note segment",
                                offset: ph.p_offset,
                                len: ph.p_filesz,
                                file_len,
                            });
                        }
                        note_total = note_total.saturating_add(ph.p_filesz);
                        if note_total > MAX_NOTE_BYTES {
                            return Err(ElfCoreError::NotesTooLarge {
                                offset: ph.p_offset,
                                len: ph.p_filesz,
                                limit: MAX_NOTE_BYTES,
                            });
                        }
                        note_segments.push((ph.p_offset, ph.p_filesz));
                    }
                    _ => {}
                }
            }
            first += n as u64;
        }
        drop(buf);

        let mut parsed = ParsedNotes::default();
        for &(offset, len) in &note_segments {
            let mut bytes = vec![0u8; len as usize];
            source
                .read_at(offset, &mut bytes)
                .map_err(|source| ElfCoreError::Read {
                    what: "note segment",
                    offset,
                    source,
                })?;
            parse_notes(&bytes, offset, machine, &mut parsed)?;
        }

        let memory = MemoryMap::new(source, machine.pointer_size(), &ranges)
            .map_err(|e| map_error(e, &range_index, phoff))?
            .with_unbacked(Unbacked::Error);
        let modules = modules::group(&parsed.files);
        let coverage = coverage(&memory, &parsed.files);
        Ok(ElfCore {
            memory,
            machine,
            threads: parsed.threads,
            files: parsed.files,
            modules,
            process: ProcessInfo {
                psinfo: parsed.psinfo,
                auxv: parsed.auxv,
            },
            coverage,
        })
    }

    /// The process's memory: the `PT_LOAD` segments over the source. Bytes
    /// a segment maps but the core does not hold read as
    /// [`heaplens_memory::MemoryError::NotCaptured`], never as zeros.
    pub fn memory(&self) -> &MemoryMap<R> {
        &self.memory
    }

    /// Gives up the core for its memory map (which owns the source).
    pub fn into_memory(self) -> MemoryMap<R> {
        self.memory
    }

    /// The process's architecture.
    pub fn machine(&self) -> Machine {
        self.machine
    }

    /// Size of a pointer in the process (8).
    pub fn pointer_size(&self) -> usize {
        self.machine.pointer_size()
    }

    /// The threads, in the order of their `NT_PRSTATUS` notes (the kernel
    /// writes the thread that crashed first; `createdump` the main thread).
    pub fn threads(&self) -> &[Thread] {
        &self.threads
    }

    /// The files mapped into the process, one entry per mapping, in the
    /// order of the `NT_FILE` note (ascending addresses).
    pub fn mapped_files(&self) -> &[MappedFile] {
        &self.files
    }

    /// The mapped files grouped by path, sorted by start address.
    pub fn modules(&self) -> &[Module] {
        &self.modules
    }

    /// The first module whose file name (last path component) is `name`.
    pub fn find_module(&self, name: &str) -> Option<&Module> {
        self.modules.iter().find(|m| m.file_name() == name)
    }

    /// The module one of whose mappings holds `addr`.
    pub fn module_containing(&self, addr: u64) -> Option<&Module> {
        self.modules.iter().find(|m| m.contains(addr))
    }

    /// The main executable: the module holding the entry point (`AT_ENTRY`
    /// of the auxiliary vector), or its program headers (`AT_PHDR`).
    pub fn executable(&self) -> Option<&Module> {
        [ProcessInfo::AT_ENTRY, ProcessInfo::AT_PHDR]
            .into_iter()
            .filter_map(|key| self.process.auxv_value(key))
            .find_map(|addr| self.module_containing(addr))
    }

    /// The process: `NT_PRPSINFO` and the auxiliary vector.
    pub fn process(&self) -> &ProcessInfo {
        &self.process
    }

    /// How much of the process's memory the core holds.
    pub fn coverage(&self) -> Coverage {
        self.coverage
    }

    /// The ELF image of `module`, read at [`Module::base`] in the core's
    /// memory.
    pub fn module_image(&self, module: &Module) -> Result<ElfImage<'_>, ImageError> {
        let base = module.base.ok_or_else(|| ImageError::NoHeader {
            path: module.path.clone(),
        })?;
        ElfImage::at(&self.memory, base)
    }

    /// The address of the dynamic symbol `name` exported by `module`, trying
    /// each mapping of the module's file offset 0 (ELF images only; other
    /// files give `None`).
    pub fn find_symbol(&self, module: &Module, name: &str) -> Option<u64> {
        module.header_addresses().find_map(|base| {
            ElfImage::at(&self.memory, base)
                .ok()
                .and_then(|image| image.find_symbol(name))
        })
    }

    /// The first module (by address) that exports the dynamic symbol
    /// `name`, and the symbol's address. For a single-file app the runtime
    /// is in the app's own executable: this finds it by `g_dacTable` or
    /// `DotNetRuntimeInfo`.
    pub fn find_exported_symbol(&self, name: &str) -> Option<(&Module, u64)> {
        self.modules
            .iter()
            .find_map(|m| self.find_symbol(m, name).map(|addr| (m, addr)))
    }
}

#[derive(Default)]
struct ParsedNotes {
    threads: Vec<Thread>,
    files: Vec<MappedFile>,
    psinfo: Option<notes::PsInfo>,
    auxv: Vec<(u64, u64)>,
}

/// Reads and checks the ELF header.
fn read_header<R: ReadAt>(source: &R, file_len: u64) -> Result<Header, ElfCoreError> {
    let mut bytes = [0u8; EHDR_SIZE];
    let have = file_len.min(EHDR_SIZE as u64) as usize;
    source
        .read_at(0, &mut bytes[..have])
        .map_err(|source| ElfCoreError::Read {
            what: "ELF header",
            offset: 0,
            source,
        })?;
    let magic = &bytes[..have.min(4)];
    if magic != &header::ELFMAG[..magic.len()] || have == 0 {
        return Err(ElfCoreError::NotElf {
            magic: magic.to_vec(),
        });
    }
    if have > header::EI_CLASS {
        match bytes[header::EI_CLASS] {
            header::ELFCLASS64 => {}
            header::ELFCLASS32 => {
                return Err(ElfCoreError::Unsupported {
                    what: "32-bit core (ELFCLASS32); heaplens reads 64-bit cores".into(),
                    offset: header::EI_CLASS as u64,
                })
            }
            c => {
                return Err(ElfCoreError::BadHeader {
                    offset: header::EI_CLASS as u64,
                    message: format!("unknown ELF class {c}"),
                })
            }
        }
    }
    if have > header::EI_DATA {
        match bytes[header::EI_DATA] {
            header::ELFDATA2LSB => {}
            header::ELFDATA2MSB => {
                return Err(ElfCoreError::Unsupported {
                    what: "big-endian core (ELFDATA2MSB)".into(),
                    offset: header::EI_DATA as u64,
                })
            }
            d => {
                return Err(ElfCoreError::BadHeader {
                    offset: header::EI_DATA as u64,
                    message: format!("unknown byte order {d}"),
                })
            }
        }
    }
    if have < EHDR_SIZE {
        return Err(ElfCoreError::Truncated {
            what: "ELF header",
            offset: 0,
            len: EHDR_SIZE as u64,
            file_len,
        });
    }
    let h: Header = bytes
        .pread_with(0, scroll::LE)
        .map_err(|e: goblin::error::Error| ElfCoreError::BadHeader {
            offset: 0,
            message: crate::error::goblin_words(&e),
        })?;
    if h.e_type != header::ET_CORE {
        return Err(ElfCoreError::NotCore { e_type: h.e_type });
    }
    if usize::from(h.e_phentsize) != PHDR_SIZE {
        return Err(ElfCoreError::BadHeader {
            offset: 54,
            message: format!(
                "e_phentsize is {}, {PHDR_SIZE} expected for ELF64",
                h.e_phentsize
            ),
        });
    }
    Ok(h)
}

/// The number of program headers: `e_phnum`, or for cores with 65535 or
/// more segments, `sh_info` of section header 0.
fn program_header_count<R: ReadAt>(
    source: &R,
    h: &Header,
    file_len: u64,
) -> Result<u64, ElfCoreError> {
    if h.e_phnum == 0 {
        return Err(ElfCoreError::BadHeader {
            offset: 56,
            message: "e_phnum is 0: the core has no segments".into(),
        });
    }
    if h.e_phnum != PN_XNUM {
        return Ok(u64::from(h.e_phnum));
    }
    // Extended numbering: the count is in the first section header.
    let off = h.e_shoff;
    if off == 0 || usize::from(h.e_shentsize) < SHDR_SIZE {
        return Err(ElfCoreError::BadHeader {
            offset: 56,
            message: format!(
                "e_phnum is PN_XNUM but there is no section header 0 (e_shoff {off}, e_shentsize {})",
                h.e_shentsize
            ),
        });
    }
    if off
        .checked_add(SHDR_SIZE as u64)
        .is_none_or(|e| e > file_len)
    {
        return Err(ElfCoreError::Truncated {
            what: "section header 0",
            offset: off,
            len: SHDR_SIZE as u64,
            file_len,
        });
    }
    let mut b = [0u8; SHDR_SIZE];
    source
        .read_at(off, &mut b)
        .map_err(|source| ElfCoreError::Read {
            what: "section header 0",
            offset: off,
            source,
        })?;
    let sh: goblin::elf64::section_header::SectionHeader =
        b.pread_with(0, scroll::LE)
            .map_err(|e: scroll::Error| ElfCoreError::BadHeader {
                offset: off,
                message: crate::error::scroll_words(&e),
            })?;
    if sh.sh_info == 0 {
        return Err(ElfCoreError::BadHeader {
            offset: off + 44,
            message: "e_phnum is PN_XNUM but section header 0 gives no count".into(),
        });
    }
    Ok(u64::from(sh.sh_info))
}

fn align4(n: u64) -> u64 {
    n.div_ceil(4) * 4
}

/// Parses the notes of one `PT_NOTE` segment (`bytes`, at file offset
/// `base`).
fn parse_notes(
    bytes: &[u8],
    base: u64,
    machine: Machine,
    out: &mut ParsedNotes,
) -> Result<(), ElfCoreError> {
    let mut pos = 0usize;
    while pos < bytes.len() {
        let at = base + pos as u64;
        let left = (bytes.len() - pos) as u64;
        let bad = |message: String| ElfCoreError::BadNote {
            offset: at,
            message,
        };
        if left < 12 {
            return Err(bad(format!(
                "a note header is 12 bytes but only {left} are left in the segment"
            )));
        }
        let nh: Nhdr32 = bytes
            .pread_with(pos, scroll::LE)
            .map_err(|e: scroll::Error| bad(crate::error::scroll_words(&e)))?;
        let name_room = 12 + align4(u64::from(nh.n_namesz));
        if 12 + u64::from(nh.n_namesz) > left {
            return Err(bad(format!(
                "namesz {} runs past the end of the note segment ({left} bytes left)",
                nh.n_namesz
            )));
        }
        if name_room + u64::from(nh.n_descsz) > left {
            return Err(bad(format!(
                "descsz {} runs past the end of the note segment ({} bytes left after the name)",
                nh.n_descsz,
                left.saturating_sub(name_room)
            )));
        }
        let mut it = NoteDataIterator {
            data: bytes,
            size: bytes.len(),
            offset: pos,
            ctx: (4, CTX),
        };
        let note = match it.next() {
            Some(Ok(note)) => note,
            Some(Err(e)) => return Err(bad(crate::error::goblin_words(&e))),
            None => break,
        };
        // Progress: a note is at least its 12-byte header.
        pos = it.offset.max(pos + 12);
        if note.name != "CORE" {
            continue;
        }
        let desc = Desc {
            bytes: note.desc,
            offset: at + name_room,
            what: "",
        };
        match note.n_type {
            gnote::NT_PRSTATUS => {
                let d = Desc {
                    what: "NT_PRSTATUS",
                    ..desc
                };
                out.threads.push(notes::parse_prstatus(&d, 8, machine)?);
            }
            gnote::NT_PRPSINFO if out.psinfo.is_none() => {
                let d = Desc {
                    what: "NT_PRPSINFO",
                    ..desc
                };
                out.psinfo = Some(notes::parse_prpsinfo(&d, 8)?);
            }
            gnote::NT_FILE => {
                let d = Desc {
                    what: "NT_FILE",
                    ..desc
                };
                out.files.extend(notes::parse_nt_file(&d, 8)?);
            }
            NT_AUXV if out.auxv.is_empty() => {
                out.auxv = notes::parse_auxv(&desc, 8);
            }
            _ => {}
        }
    }
    Ok(())
}

/// Turns a refusal of the memory map into an error naming the program
/// header.
fn map_error(e: MapError, range_index: &[usize], phoff: u64) -> ElfCoreError {
    let (i, message) = match e {
        MapError::Overlap {
            first,
            first_start,
            first_end,
            second,
            second_start,
        } => (
            second,
            format!(
                "PT_LOAD at {second_start:#x} overlaps program header {} ({first_start:#x}..{first_end:#x})",
                range_index.get(first).copied().unwrap_or(first)
            ),
        ),
        MapError::Wraps { index, .. }
        | MapError::DataLargerThanRegion { index, .. }
        | MapError::FileRangeWraps { index, .. } => (index, e.to_string()),
    };
    let index = range_index.get(i).copied().unwrap_or(i);
    ElfCoreError::BadSegment {
        index,
        offset: phoff + (index * PHDR_SIZE) as u64,
        message,
    }
}

/// Merges `[start, end)` intervals into sorted, disjoint ones.
pub(crate) fn merge(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    v.retain(|&(s, e)| e > s);
    v.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
    for (s, e) in v {
        match out.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => out.push((s, e)),
        }
    }
    out
}

fn coverage<R: ReadAt>(memory: &MemoryMap<R>, files: &[MappedFile]) -> Coverage {
    let files = merge(files.iter().map(|f| (f.start, f.end)).collect());
    let regions = memory.regions();
    let mut c = Coverage {
        segments: regions.len(),
        missing_bytes: memory.missing_bytes(),
        ..Coverage::default()
    };
    // Both lists are sorted and disjoint: one sweep.
    let mut j = 0usize;
    for r in regions {
        let data_end = r.start + r.data_size;
        c.mapped_bytes += r.size;
        c.data_bytes += r.data_size;
        while j < files.len() && files[j].1 <= r.start {
            j += 1;
        }
        let (mut in_files, mut data_in_files) = (0u64, 0u64);
        for &(s, e) in files[j..].iter().take_while(|&&(s, _)| s < r.end()) {
            in_files += e.min(r.end()) - s.max(r.start);
            data_in_files += e.min(data_end).saturating_sub(s.max(r.start));
        }
        c.anonymous_mapped_bytes += r.size - in_files;
        let anon_data = r.data_size - data_in_files;
        c.anonymous_data_bytes += anon_data;
        if r.protection.is_some_and(|p| p.write) {
            c.anonymous_writable_data_bytes += anon_data;
        }
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merges_intervals() {
        assert_eq!(
            merge(vec![(5, 6), (1, 3), (2, 4), (4, 4), (6, 8)]),
            [(1, 4), (5, 8)]
        );
    }
}
