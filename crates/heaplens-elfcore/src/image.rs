//! ELF images (shared objects, executables) inside a process's memory.
//!
//! An [`ElfImage`] is read from an [`AddressSpace`] at the address where
//! the image's first page (its ELF header) is mapped, such as
//! [`crate::Module::base`]. It gives the image's `PT_LOAD` segments (where
//! its code and its writable data, `.data` and `.bss`, are), its dynamic
//! symbols through the `DT_GNU_HASH` or `DT_HASH` table, and searches of
//! its memory for byte strings.
//!
//! Cores rarely hold a whole image: `createdump` writes the pages it needs
//! to look symbols up the way the loader does (ELF header, program headers,
//! dynamic section, hash table buckets and chains, the symbols and strings
//! on the way) and the writable data, not the code. So lookups here touch
//! only those pages, and a page that is missing makes a lookup fail with
//! an error (or `None`), never a panic. Nothing reads the whole symbol
//! table.

use goblin::container::{Container, Ctx};
use goblin::elf::dynamic::{
    DT_GNU_HASH, DT_HASH, DT_NULL, DT_SONAME, DT_STRSZ, DT_STRTAB, DT_SYMENT, DT_SYMTAB,
};
use goblin::elf::header::{self, Header};
use goblin::elf::program_header::{ProgramHeader, PF_R, PF_W, PF_X, PT_DYNAMIC, PT_LOAD};
use goblin::elf::section_header::{SHN_ABS, SHN_UNDEF};
use goblin::elf::sym::Sym;
use heaplens_memory::{AddressSpace, MemoryError, Protection};
use scroll::Pread;

const CTX: Ctx = Ctx {
    container: Container::Big,
    le: scroll::Endian::Little,
};
const EHDR_SIZE: usize = 64;
const PHDR_SIZE: usize = 56;
const SYM_SIZE: u64 = 24;
const DYN_SIZE: u64 = 16;
/// Images have a dozen program headers; more than this is junk.
const MAX_PHDRS: u16 = 1024;
/// Dynamic sections have a few dozen entries; more than this is junk.
const MAX_DYN_ENTRIES: u64 = 4096;
/// Longest hash chain followed before giving up on a table.
const MAX_CHAIN: u32 = 1 << 20;
/// Longest symbol name or marker string read.
const MAX_STRING: usize = 4096;

/// The `@(#)Version ` marker the .NET runtime's binaries carry (followed by
/// e.g. `8.0.424.16909 @Commit: 2d7eea…`).
pub const VERSION_MARKER: &[u8] = b"@(#)Version ";

/// Why an ELF image could not be read from memory.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// Reading the process's memory failed (the page is not in the dump).
    #[error("reading the {what} at {addr:#x}: {source}")]
    Memory {
        /// What was being read.
        what: &'static str,
        /// Its address.
        addr: u64,
        /// What the memory said.
        #[source]
        source: MemoryError,
    },
    /// The memory at the address does not start with the ELF magic number.
    #[error("no ELF image at {addr:#x}: it starts with {magic:02x?}")]
    NotElf {
        /// The image's supposed base.
        addr: u64,
        /// Its first four bytes.
        magic: [u8; 4],
    },
    /// An ELF image of a kind this reader does not handle (32-bit,
    /// big-endian).
    #[error("unsupported ELF image at {addr:#x}: {what}")]
    Unsupported {
        /// Address of the field that says so.
        addr: u64,
        /// What is not supported.
        what: String,
    },
    /// The ELF header or a program header holds an impossible value.
    #[error("bad ELF image header at {addr:#x}: {message}")]
    BadHeader {
        /// Address of the header or field.
        addr: u64,
        /// What is wrong.
        message: String,
    },
    /// The module has no mapping of its file's first page, so there is no
    /// ELF header to read.
    #[error("{path} has no mapping of its file's start (no ELF header in memory)")]
    NoHeader {
        /// The module's path.
        path: String,
    },
    /// The image has no dynamic symbol table with a hash table to look
    /// symbols up in.
    #[error("the ELF image at {base:#x} has no dynamic symbol table ({missing})")]
    NoSymbolTable {
        /// The image's base.
        base: u64,
        /// What is missing.
        missing: &'static str,
    },
    /// The dynamic section or a hash table is inconsistent.
    #[error("bad dynamic symbol table at {addr:#x}: {message}")]
    BadSymbolTable {
        /// Address of the bad structure.
        addr: u64,
        /// What is wrong.
        message: String,
    },
}

/// One `PT_LOAD` segment of an image, at its address in the process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSegment {
    /// First address (load bias + `p_vaddr`).
    pub start: u64,
    /// Size in memory (`p_memsz`; the part past `file_size` is `.bss`).
    pub size: u64,
    /// Offset of the segment's first byte in the image file.
    pub file_offset: u64,
    /// Bytes of the segment that come from the file (`p_filesz`).
    pub file_size: u64,
    /// Access rights (`p_flags`).
    pub protection: Protection,
}

impl ImageSegment {
    /// One past the last address.
    pub fn end(&self) -> u64 {
        self.start + self.size
    }

    /// True when `addr` lies in the segment.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.start && addr < self.end()
    }

    /// True for writable segments (`.data`, `.bss`, the GOT).
    pub fn is_writable(&self) -> bool {
        self.protection.write
    }
}

/// A dynamic symbol found in an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Symbol {
    /// Its absolute address in the process.
    pub address: u64,
    /// Its size (`st_size`; 0 when unknown).
    pub size: u64,
}

/// What the dynamic section says about the symbol table; addresses are
/// absolute.
#[derive(Debug, Clone, Copy, Default)]
struct DynamicInfo {
    symtab: Option<u64>,
    strtab: Option<u64>,
    strsz: Option<u64>,
    syment: Option<u64>,
    gnu_hash: Option<u64>,
    hash: Option<u64>,
    soname: Option<u64>,
}

/// An ELF image mapped in a process, read from its memory.
pub struct ElfImage<'a> {
    space: &'a dyn AddressSpace,
    base: u64,
    bias: u64,
    e_type: u16,
    e_machine: u16,
    segments: Vec<ImageSegment>,
    /// Address and size in memory of `PT_DYNAMIC`.
    dynamic: Option<(u64, u64)>,
}

impl std::fmt::Debug for ElfImage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElfImage")
            .field("base", &format_args!("{:#x}", self.base))
            .field("bias", &format_args!("{:#x}", self.bias))
            .field("e_type", &self.e_type)
            .field("segments", &self.segments)
            .finish_non_exhaustive()
    }
}

impl<'a> ElfImage<'a> {
    /// Reads the ELF header and program headers of the image whose first
    /// byte is mapped at `base`.
    ///
    /// Only 64-bit little-endian images are read. Fails when those headers
    /// are not in the dump or are malformed; the dynamic section is read
    /// later, by symbol lookups.
    pub fn at(space: &'a dyn AddressSpace, base: u64) -> Result<ElfImage<'a>, ImageError> {
        let mem = |what: &'static str, addr: u64| {
            move |source: MemoryError| ImageError::Memory { what, addr, source }
        };
        let mut ident = [0u8; 16];
        space
            .read_virtual(base, &mut ident)
            .map_err(mem("ELF identification", base))?;
        if &ident[..4] != header::ELFMAG {
            return Err(ImageError::NotElf {
                addr: base,
                magic: [ident[0], ident[1], ident[2], ident[3]],
            });
        }
        if ident[header::EI_CLASS] != header::ELFCLASS64 {
            return Err(ImageError::Unsupported {
                addr: base + header::EI_CLASS as u64,
                what: format!("ELF class {} (only ELFCLASS64)", ident[header::EI_CLASS]),
            });
        }
        if ident[header::EI_DATA] != header::ELFDATA2LSB {
            return Err(ImageError::Unsupported {
                addr: base + header::EI_DATA as u64,
                what: format!("byte order {} (only little-endian)", ident[header::EI_DATA]),
            });
        }
        let mut eh = [0u8; EHDR_SIZE];
        space
            .read_virtual(base, &mut eh)
            .map_err(mem("ELF header", base))?;
        let bad = |addr: u64, message: String| ImageError::BadHeader { addr, message };
        let h: Header = eh
            .pread_with(0, scroll::LE)
            .map_err(|e: goblin::error::Error| bad(base, crate::error::goblin_words(&e)))?;
        if h.e_type != header::ET_DYN && h.e_type != header::ET_EXEC {
            return Err(bad(
                base + 16,
                format!(
                    "e_type {} ({}) is not a shared object or executable",
                    h.e_type,
                    header::et_to_str(h.e_type)
                ),
            ));
        }
        if usize::from(h.e_phentsize) != PHDR_SIZE {
            return Err(bad(
                base + 54,
                format!("e_phentsize is {}, {PHDR_SIZE} expected", h.e_phentsize),
            ));
        }
        if h.e_phnum == 0 || h.e_phnum > MAX_PHDRS {
            return Err(bad(
                base + 56,
                format!("e_phnum is {} (1 to {MAX_PHDRS} expected)", h.e_phnum),
            ));
        }
        let phdr_addr = base
            .checked_add(h.e_phoff)
            .ok_or_else(|| bad(base + 32, format!("e_phoff {:#x} wraps", h.e_phoff)))?;
        let mut table = vec![0u8; usize::from(h.e_phnum) * PHDR_SIZE];
        space
            .read_virtual(phdr_addr, &mut table)
            .map_err(mem("program header table", phdr_addr))?;
        let phdrs = ProgramHeader::parse(&table, 0, usize::from(h.e_phnum), CTX)
            .map_err(|e| bad(phdr_addr, crate::error::goblin_words(&e)))?;

        // The load bias: where the image's address 0 is. The lowest PT_LOAD
        // maps the file's start (the header, at `base`).
        let first = phdrs
            .iter()
            .filter(|p| p.p_type == PT_LOAD)
            .min_by_key(|p| p.p_vaddr)
            .ok_or_else(|| bad(phdr_addr, "no PT_LOAD segment".into()))?;
        let bias = base.wrapping_sub(first.p_vaddr.wrapping_sub(first.p_offset));

        let mut segments = Vec::new();
        let mut dynamic = None;
        for (i, p) in phdrs.iter().enumerate() {
            let at = phdr_addr + (i * PHDR_SIZE) as u64;
            let start = bias.wrapping_add(p.p_vaddr);
            let wraps = || {
                bad(
                    at,
                    format!(
                        "segment {i} ({:#x} + {:#x}) wraps around the address space",
                        start, p.p_memsz
                    ),
                )
            };
            match p.p_type {
                PT_LOAD => {
                    start.checked_add(p.p_memsz).ok_or_else(wraps)?;
                    segments.push(ImageSegment {
                        start,
                        size: p.p_memsz,
                        file_offset: p.p_offset,
                        file_size: p.p_filesz,
                        protection: Protection {
                            read: p.p_flags & PF_R != 0,
                            write: p.p_flags & PF_W != 0,
                            execute: p.p_flags & PF_X != 0,
                        },
                    });
                }
                PT_DYNAMIC if dynamic.is_none() => {
                    start.checked_add(p.p_memsz).ok_or_else(wraps)?;
                    dynamic = Some((start, p.p_memsz));
                }
                _ => {}
            }
        }
        segments.sort_by_key(|s| s.start);
        Ok(ElfImage {
            space,
            base,
            bias,
            e_type: h.e_type,
            e_machine: h.e_machine,
            segments,
            dynamic,
        })
    }

    /// Where the image's first byte (its ELF header) is.
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The load bias: what is added to the image's virtual addresses
    /// (`p_vaddr`, `st_value`) to get addresses in the process (0 for a
    /// non-PIE executable).
    pub fn load_bias(&self) -> u64 {
        self.bias
    }

    /// `e_type`: `ET_DYN` (3) for shared objects and PIE executables,
    /// `ET_EXEC` (2) for fixed-address executables.
    pub fn e_type(&self) -> u16 {
        self.e_type
    }

    /// `e_machine` (62 for x86-64, 183 for AArch64).
    pub fn e_machine(&self) -> u16 {
        self.e_machine
    }

    /// The `PT_LOAD` segments, by address.
    pub fn segments(&self) -> &[ImageSegment] {
        &self.segments
    }

    /// The writable segments (`.data`, `.bss`, GOT): where a scan for a
    /// runtime global looks.
    pub fn writable_segments(&self) -> impl Iterator<Item = &ImageSegment> + '_ {
        self.segments.iter().filter(|s| s.is_writable())
    }

    /// One past the highest address of any segment.
    pub fn end(&self) -> u64 {
        self.segments
            .iter()
            .map(ImageSegment::end)
            .max()
            .unwrap_or(self.base)
    }

    /// True when `addr` lies in one of the image's segments.
    pub fn contains(&self, addr: u64) -> bool {
        self.segments.iter().any(|s| s.contains(addr))
    }

    /// The address of the dynamic symbol `name`, if the image defines it and
    /// the dump holds the pages needed to find it.
    pub fn find_symbol(&self, name: &str) -> Option<u64> {
        self.lookup_symbol(name).ok().flatten().map(|s| s.address)
    }

    /// Looks the dynamic symbol `name` up through the image's GNU hash
    /// table (or its SysV hash table), as the dynamic loader does.
    ///
    /// `Ok(None)` when the image does not define the symbol; an error when
    /// the image has no symbol table or a page needed is not in the dump.
    pub fn lookup_symbol(&self, name: &str) -> Result<Option<Symbol>, ImageError> {
        let d = self.dynamic_info()?;
        let (Some(_), Some(_)) = (d.symtab, d.strtab) else {
            return Err(ImageError::NoSymbolTable {
                base: self.base,
                missing: "no DT_SYMTAB or DT_STRTAB",
            });
        };
        let name = name.as_bytes();
        match (d.gnu_hash, d.hash) {
            (Some(gnu), hash) => match self.gnu_lookup(&d, gnu, name) {
                Err(e) => match hash {
                    Some(h) => self.sysv_lookup(&d, h, name).map_err(|_| e),
                    None => Err(e),
                },
                found => found,
            },
            (None, Some(h)) => self.sysv_lookup(&d, h, name),
            (None, None) => Err(ImageError::NoSymbolTable {
                base: self.base,
                missing: "no DT_GNU_HASH or DT_HASH",
            }),
        }
    }

    /// The image's `DT_SONAME` (e.g. `libcoreclr.so`), if it has one and the
    /// page is in the dump.
    pub fn soname(&self) -> Option<String> {
        let d = self.dynamic_info().ok()?;
        let off = d.soname?;
        if d.strsz.is_some_and(|n| off >= n) {
            return None;
        }
        read_c_string(self.space, d.strtab?.checked_add(off)?, MAX_STRING)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// The address of the first occurrence of `needle` in the pages of the
    /// image's segments, searching only the bytes the dump holds. `needle` must be
    /// shorter than 1 MiB.
    pub fn find_bytes(&self, needle: &[u8]) -> Option<u64> {
        self.page_runs()
            .into_iter()
            .find_map(|(start, end)| heaplens_memory::find_bytes(self.space, start, end, needle))
    }

    /// The NUL-terminated string right after the first occurrence of
    /// `marker` in the image (at most 4 KiB), if both are in the dump.
    pub fn find_marker_string(&self, marker: &[u8]) -> Option<String> {
        let at = self.find_bytes(marker)?.checked_add(marker.len() as u64)?;
        read_c_string(self.space, at, MAX_STRING).map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// The text after the `@(#)Version ` marker the .NET binaries carry
    /// (e.g. `8.0.424.16909 @Commit: 2d7eea…`): the file version of the
    /// image, when the dump holds the page that has it.
    pub fn version_string(&self) -> Option<String> {
        self.find_marker_string(VERSION_MARKER)
    }

    /// The image's segments widened to whole 4 KiB pages (the loader maps
    /// whole pages of the file, so the bytes around a segment that shares a
    /// page are the file's too), sorted and merged.
    fn page_runs(&self) -> Vec<(u64, u64)> {
        const PAGE: u64 = 4096;
        crate::dump::merge(
            self.segments
                .iter()
                .map(|s| {
                    let end = s.end().checked_next_multiple_of(PAGE).unwrap_or(s.end());
                    (s.start & !(PAGE - 1), end)
                })
                .collect(),
        )
    }

    /// Turns a dynamic-section address into an absolute one. In a running
    /// process the loader (glibc) has relocated the dynamic section in place
    /// so its pointers are absolute; other loaders (musl) and the file
    /// itself hold image-relative values. Whichever lands in the image wins.
    fn resolve(&self, v: u64) -> u64 {
        let relative = self.bias.wrapping_add(v);
        if self.contains(v) || !self.contains(relative) {
            v
        } else {
            relative
        }
    }

    fn mem(&self, what: &'static str, addr: u64) -> impl FnOnce(MemoryError) -> ImageError {
        move |source| ImageError::Memory { what, addr, source }
    }

    fn read_u32(&self, what: &'static str, addr: u64) -> Result<u32, ImageError> {
        self.space.read_u32(addr).map_err(self.mem(what, addr))
    }

    /// Reads the dynamic section up to `DT_NULL`.
    fn dynamic_info(&self) -> Result<DynamicInfo, ImageError> {
        let Some((addr, size)) = self.dynamic else {
            return Err(ImageError::NoSymbolTable {
                base: self.base,
                missing: "no PT_DYNAMIC segment",
            });
        };
        let mut d = DynamicInfo::default();
        for i in 0..(size / DYN_SIZE).min(MAX_DYN_ENTRIES) {
            let at = addr + i * DYN_SIZE;
            let mut b = [0u8; DYN_SIZE as usize];
            self.space
                .read_virtual(at, &mut b)
                .map_err(self.mem("dynamic section", at))?;
            let tag = u64::from_le_bytes(b[..8].try_into().unwrap_or_default());
            let val = u64::from_le_bytes(b[8..].try_into().unwrap_or_default());
            match tag {
                DT_NULL => break,
                DT_SYMTAB => d.symtab = Some(self.resolve(val)),
                DT_STRTAB => d.strtab = Some(self.resolve(val)),
                DT_GNU_HASH => d.gnu_hash = Some(self.resolve(val)),
                DT_HASH => d.hash = Some(self.resolve(val)),
                DT_STRSZ => d.strsz = Some(val),
                DT_SYMENT => d.syment = Some(val),
                DT_SONAME => d.soname = Some(val),
                _ => {}
            }
        }
        Ok(d)
    }

    /// Symbol `index` if its name is `name` and the image defines it.
    fn symbol_named(
        &self,
        d: &DynamicInfo,
        index: u32,
        name: &[u8],
    ) -> Result<Option<Symbol>, ImageError> {
        let (Some(symtab), Some(strtab)) = (d.symtab, d.strtab) else {
            return Ok(None);
        };
        let syment = d.syment.filter(|&n| n >= SYM_SIZE).unwrap_or(SYM_SIZE);
        let bad_addr = |message: String| ImageError::BadSymbolTable {
            addr: symtab,
            message,
        };
        let at = u64::from(index)
            .checked_mul(syment)
            .and_then(|o| symtab.checked_add(o))
            .ok_or_else(|| bad_addr(format!("symbol {index} lies past the address space")))?;
        let mut b = [0u8; SYM_SIZE as usize];
        self.space
            .read_virtual(at, &mut b)
            .map_err(self.mem("dynamic symbol", at))?;
        let sym: Sym = b
            .pread_with(0, CTX)
            .map_err(|e: goblin::error::Error| bad_addr(crate::error::goblin_words(&e)))?;
        let st_name = sym.st_name as u64;
        if d.strsz.is_some_and(|n| st_name >= n) {
            return Ok(None);
        }
        let name_at = strtab.checked_add(st_name).ok_or_else(|| {
            bad_addr(format!("symbol {index}'s name lies past the address space"))
        })?;
        let mut s = vec![0u8; name.len() + 1];
        self.space
            .read_virtual(name_at, &mut s)
            .map_err(self.mem("symbol name", name_at))?;
        if &s[..name.len()] != name || s[name.len()] != 0 {
            return Ok(None);
        }
        let shndx = sym.st_shndx as u32;
        if shndx == SHN_UNDEF {
            return Ok(None);
        }
        let address = if shndx == SHN_ABS {
            sym.st_value
        } else {
            self.bias.wrapping_add(sym.st_value)
        };
        Ok(Some(Symbol {
            address,
            size: sym.st_size,
        }))
    }

    /// Lookup through `DT_GNU_HASH` (without the Bloom filter: fewer pages).
    fn gnu_lookup(
        &self,
        d: &DynamicInfo,
        table: u64,
        name: &[u8],
    ) -> Result<Option<Symbol>, ImageError> {
        let what = "GNU hash table";
        let bad = |message: String| ImageError::BadSymbolTable {
            addr: table,
            message,
        };
        let nbuckets = self.read_u32(what, table)?;
        let symoffset = self.read_u32(what, table.wrapping_add(4))?;
        let bloom_size = self.read_u32(what, table.wrapping_add(8))?;
        if nbuckets == 0 {
            return Ok(None);
        }
        let buckets = table
            .checked_add(16 + u64::from(bloom_size) * 8)
            .ok_or_else(|| {
                bad(format!(
                    "bloom size {bloom_size} runs past the address space"
                ))
            })?;
        let chains = buckets
            .checked_add(u64::from(nbuckets) * 4)
            .ok_or_else(|| bad(format!("{nbuckets} buckets run past the address space")))?;
        let h = gnu_hash(name);
        let bucket_at = buckets + u64::from(h % nbuckets) * 4;
        let mut i = self.read_u32(what, bucket_at)?;
        if i == 0 {
            return Ok(None);
        }
        if i < symoffset {
            return Err(bad(format!(
                "bucket {} starts at symbol {i}, below the first hashed symbol {symoffset}",
                h % nbuckets
            )));
        }
        for _ in 0..MAX_CHAIN {
            let at = chains
                .checked_add(u64::from(i - symoffset) * 4)
                .ok_or_else(|| bad("hash chain runs past the address space".into()))?;
            let h2 = self.read_u32(what, at)?;
            if h2 | 1 == h | 1 {
                if let Some(sym) = self.symbol_named(d, i, name)? {
                    return Ok(Some(sym));
                }
            }
            if h2 & 1 != 0 {
                return Ok(None);
            }
            i = i
                .checked_add(1)
                .ok_or_else(|| bad("hash chain runs past symbol 2^32".into()))?;
        }
        Err(bad(format!(
            "a hash chain is longer than {MAX_CHAIN} entries"
        )))
    }

    /// Lookup through the SysV `DT_HASH` table.
    fn sysv_lookup(
        &self,
        d: &DynamicInfo,
        table: u64,
        name: &[u8],
    ) -> Result<Option<Symbol>, ImageError> {
        let what = "SysV hash table";
        let bad = |message: String| ImageError::BadSymbolTable {
            addr: table,
            message,
        };
        let nbucket = self.read_u32(what, table)?;
        let nchain = self.read_u32(what, table.wrapping_add(4))?;
        if nbucket == 0 {
            return Ok(None);
        }
        let buckets = table
            .checked_add(8)
            .ok_or_else(|| bad("the table lies past the address space".into()))?;
        let chains = buckets
            .checked_add(u64::from(nbucket) * 4)
            .ok_or_else(|| bad(format!("{nbucket} buckets run past the address space")))?;
        let h = sysv_hash(name);
        let mut i = self.read_u32(what, buckets + u64::from(h % nbucket) * 4)?;
        let mut steps = 0u32;
        while i != 0 {
            if i >= nchain {
                return Err(bad(format!("chain entry {i} is past nchain {nchain}")));
            }
            if let Some(sym) = self.symbol_named(d, i, name)? {
                return Ok(Some(sym));
            }
            steps += 1;
            if steps > nchain.min(MAX_CHAIN) {
                return Err(bad("a hash chain loops".into()));
            }
            let at = chains
                .checked_add(u64::from(i) * 4)
                .ok_or_else(|| bad("hash chain runs past the address space".into()))?;
            i = self.read_u32(what, at)?;
        }
        Ok(None)
    }
}

/// The GNU hash of a symbol name (`dl_new_hash`).
fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| {
        h.wrapping_mul(33).wrapping_add(u32::from(c))
    })
}

/// The SysV ELF hash of a symbol name.
fn sysv_hash(name: &[u8]) -> u32 {
    let mut h = 0u32;
    for &c in name {
        h = (h << 4).wrapping_add(u32::from(c));
        let g = h & 0xf000_0000;
        if g != 0 {
            h ^= g >> 24;
        }
        h &= !g;
    }
    h
}

/// The bytes at `addr` up to a NUL (not included), if a NUL comes within
/// `max` bytes and all of them are readable.
fn read_c_string(space: &dyn AddressSpace, addr: u64, max: usize) -> Option<Vec<u8>> {
    heaplens_memory::read_c_string(space, addr, max)
        .ok()
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_match_the_reference_values() {
        // Values from the ELF gABI and glibc's dl-hash.h / dl-new-hash.h.
        assert_eq!(gnu_hash(b""), 0x1505);
        assert_eq!(gnu_hash(b"printf"), 0x156b_2bb8);
        assert_eq!(gnu_hash(b"exit"), 0x7c96_7e3f);
        assert_eq!(sysv_hash(b""), 0);
        assert_eq!(sysv_hash(b"printf"), 0x0779_05a6);
        assert_eq!(sysv_hash(b"exit"), 0x0006_cf04);
    }
}
