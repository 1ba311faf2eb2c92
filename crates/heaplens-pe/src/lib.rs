//! PE/COFF images as they sit in a dumped process's memory.
//!
//! A [`PeImage`] is a view of one image at a base address in an
//! [`AddressSpace`], under one of two [`Layout`]s:
//!
//! * [`Layout::Loaded`] — mapped by a loader: RVA `r` is at `base + r`
//!   (Windows' loader; CoreCLR's own `PEImageLayout` for R2R and
//!   `LoadLibrary`-style maps, also on Linux).
//! * [`Layout::Flat`] — the file's bytes as they are: RVA `r` is at
//!   `base + file_offset(r)`, translated through the section table (CoreCLR
//!   on Linux maps IL-only assemblies flat; single-file bundles embed images
//!   flat inside the host's mapping, at a non-page-aligned offset).
//!
//! [`PeImage::detect`] decides the layout by checking which translation
//! lands on valid data (the CLI header's `BSJB` metadata signature, a sane
//! export directory, a CodeView `RSDS` record).
//!
//! What is read: headers ([`Headers`]), sections, exports
//! ([`PeImage::find_export`], e.g. `g_dacTable` or
//! `DotNetRuntimeContractDescriptor` in `coreclr.dll`), resources
//! ([`PeImage::find_resource`], e.g. the RT_RCDATA resource
//! `COREXTERNALDATAACCESSRESOURCE` of .NET ≤ 6), the version resource
//! ([`PeImage::version_info`]), the CodeView debug record
//! ([`PeImage::codeview`]) and the CLI (COR20) header
//! ([`PeImage::cli_header`], [`PeImage::read_metadata`]).
//!
//! # Why hand-written parsing
//!
//! The parsing is written here, with bounds checks, rather than taken from
//! `object`, `goblin` or `pelite`: those crates parse a contiguous byte slice
//! of the whole image (or file), while a dump gives an address space in which
//! the image may be partly missing and in which the bytes of an RVA are found
//! by a layout-dependent translation. Each directory heaplens needs is small
//! and is read on its own through [`AddressSpace::read_virtual`], capped by
//! its declared size and by sanity limits (`MAX_*` constants), so a corrupt
//! header never makes the reader allocate or read much.
//!
//! # Machine values of ReadyToRun images
//!
//! ReadyToRun (crossgen) images built for a non-Windows OS store
//! `machine ^ os_xor` in the COFF header (`0x8664 ^ 0x7B79 = 0xFD1D` for
//! Linux x64); [`Headers::native_machine`] undoes that.

mod debug;
mod exports;
mod resources;

use heaplens_memory::{AddressSpace, MemoryError};

pub use debug::{CodeView, DebugEntry, IMAGE_DEBUG_TYPE_CODEVIEW};
pub use exports::{Export, MAX_EXPORTS};
pub use resources::{
    FourPartVersion, ResourceData, ResourceId, VersionInfo, MAX_RESOURCE_SIZE, RT_RCDATA,
    RT_VERSION,
};

/// Data directory index of the export table.
pub const DIR_EXPORT: usize = 0;
/// Data directory index of the import table.
pub const DIR_IMPORT: usize = 1;
/// Data directory index of the resource table.
pub const DIR_RESOURCE: usize = 2;
/// Data directory index of the debug directory.
pub const DIR_DEBUG: usize = 6;
/// Data directory index of the CLI (COR20) header.
pub const DIR_CLI: usize = 14;

/// Largest `e_lfanew` accepted (the PE header must start in the first 64 KiB).
pub const MAX_E_LFANEW: u32 = 0x1_0000;
/// Largest `SizeOfOptionalHeader` accepted.
pub const MAX_OPTIONAL_HEADER: u16 = 0x400;
/// Largest number of sections accepted.
pub const MAX_SECTIONS: u16 = 2048;
/// Default cap of [`PeImage::read_metadata`] (CoreLib's metadata is ~3 MB).
pub const MAX_METADATA_SIZE: u32 = 64 << 20;
/// Size of the CLI (COR20) header.
pub const CLI_HEADER_SIZE: u32 = 72;
/// The metadata root signature, `BSJB` read as a little-endian u32.
pub const METADATA_SIGNATURE: u32 = 0x424A_5342;

/// How an image's bytes are laid out at its base address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// Mapped by a loader: RVA `r` is at `base + r`.
    Loaded,
    /// The file as it is: RVA `r` is at `base + file offset of r`.
    Flat,
}

impl std::fmt::Display for Layout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Layout::Loaded => "loaded",
            Layout::Flat => "flat",
        })
    }
}

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PeError {
    /// Memory the image needs is not readable in the dump.
    #[error("reading the {what} at {addr:#x}: {source}")]
    Memory {
        /// What was being read.
        what: &'static str,
        /// Where.
        addr: u64,
        /// What the address space said.
        #[source]
        source: MemoryError,
    },
    /// No `MZ` at the base address.
    #[error("no MZ signature at {base:#x}")]
    NotMz {
        /// The base address.
        base: u64,
    },
    /// No `PE\0\0` where `e_lfanew` points.
    #[error("no PE signature at {addr:#x} (e_lfanew {e_lfanew:#x})")]
    NotPe {
        /// Where it was looked for.
        addr: u64,
        /// The DOS header's `e_lfanew`.
        e_lfanew: u32,
    },
    /// A header or directory field has an impossible value.
    #[error("malformed {what} at {at:#x}: {detail}")]
    Malformed {
        /// The structure.
        what: &'static str,
        /// Its address (or RVA, when the detail says so).
        at: u64,
        /// What is wrong.
        detail: String,
    },
    /// An RVA (with its length) is not backed by the image under its layout.
    #[error("{what}: RVA {rva:#x} (+{len:#x}) is outside the image ({layout} layout)")]
    BadRva {
        /// What the RVA is for.
        what: &'static str,
        /// The RVA.
        rva: u32,
        /// The length needed from it.
        len: u64,
        /// The layout used to translate it.
        layout: Layout,
    },
    /// A declared size is larger than the sanity limit for it.
    #[error("{what} is {size} bytes, more than the {cap}-byte limit")]
    TooLarge {
        /// The structure.
        what: &'static str,
        /// Its declared size.
        size: u64,
        /// The limit.
        cap: u64,
    },
    /// The image has no such directory (e.g. no CLI header: not managed).
    #[error("the image at {base:#x} has no {what}")]
    Missing {
        /// What is missing.
        what: &'static str,
        /// The image's base.
        base: u64,
    },
    /// The memory is mapped but the dump did not record its contents (they
    /// read as zeros): e.g. a core written without the image's pages.
    #[error("the {what} at {addr:#x} is mapped but its contents are not in the dump")]
    NotInDump {
        /// What was being read.
        what: &'static str,
        /// The first address without contents.
        addr: u64,
    },
    /// Neither layout gave valid data (see [`PeImage::detect`]).
    #[error("cannot tell the layout of the image at {base:#x}: {detail}")]
    UnknownLayout {
        /// The image's base.
        base: u64,
        /// What each layout's probe found.
        detail: String,
    },
}

/// One entry of the optional header's data directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DataDirectory {
    /// RVA of the data.
    pub rva: u32,
    /// Its size in bytes.
    pub size: u32,
}

impl DataDirectory {
    /// True when the entry is unused (RVA or size zero).
    pub fn is_empty(&self) -> bool {
        self.rva == 0 || self.size == 0
    }
}

/// Which optional header the image has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionalHeaderKind {
    /// PE32 (magic 0x10B): 32-bit image (also IL-only AnyCPU assemblies).
    Pe32,
    /// PE32+ (magic 0x20B): 64-bit image.
    Pe32Plus,
}

/// The OS a ReadyToRun image was compiled for, from its machine value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetOs {
    /// Windows (machine value unchanged).
    Windows,
    /// Linux (`machine ^ 0x7B79`).
    Linux,
    /// macOS (`machine ^ 0x4644`).
    Apple,
    /// FreeBSD (`machine ^ 0xADC4`).
    FreeBsd,
    /// NetBSD (`machine ^ 0x1993`).
    NetBsd,
    /// SunOS (`machine ^ 0x1992`).
    SunOs,
}

/// The headers of an image (DOS, COFF and optional header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Headers {
    /// Offset of the PE signature from the base (`e_lfanew`).
    pub e_lfanew: u32,
    /// COFF `Machine`, as stored (see [`Headers::native_machine`]).
    pub machine: u16,
    /// COFF `TimeDateStamp` (a hash in deterministic builds).
    pub time_date_stamp: u32,
    /// COFF `Characteristics`.
    pub characteristics: u16,
    /// PE32 or PE32+.
    pub kind: OptionalHeaderKind,
    /// Preferred load address.
    pub image_base: u64,
    /// Section alignment in memory.
    pub section_alignment: u32,
    /// Section alignment in the file.
    pub file_alignment: u32,
    /// Size of the loaded image.
    pub size_of_image: u32,
    /// Size of all headers in the file.
    pub size_of_headers: u32,
    /// Windows subsystem.
    pub subsystem: u16,
    /// DLL characteristics.
    pub dll_characteristics: u16,
    /// The data directories (at most 16).
    pub data_directories: Vec<DataDirectory>,
}

/// Known machine values.
pub mod machine {
    /// x86.
    pub const I386: u16 = 0x014C;
    /// x64.
    pub const AMD64: u16 = 0x8664;
    /// ARM Thumb-2.
    pub const ARMNT: u16 = 0x01C4;
    /// ARM64.
    pub const ARM64: u16 = 0xAA64;
}

impl Headers {
    /// The machine with a ReadyToRun OS override undone, and the OS it names
    /// (`None` when the value matches no known machine under any override).
    pub fn native_machine(&self) -> (u16, Option<TargetOs>) {
        const KNOWN: [u16; 4] = [
            machine::I386,
            machine::AMD64,
            machine::ARMNT,
            machine::ARM64,
        ];
        const OS: [(u16, TargetOs); 6] = [
            (0, TargetOs::Windows),
            (0x7B79, TargetOs::Linux),
            (0x4644, TargetOs::Apple),
            (0xADC4, TargetOs::FreeBsd),
            (0x1993, TargetOs::NetBsd),
            (0x1992, TargetOs::SunOs),
        ];
        for (xor, os) in OS {
            let m = self.machine ^ xor;
            if KNOWN.contains(&m) {
                return (m, Some(os));
            }
        }
        (self.machine, None)
    }

    /// The data directory at `index`, if the header has that many.
    pub fn directory(&self, index: usize) -> Option<DataDirectory> {
        self.data_directories
            .get(index)
            .copied()
            .filter(|d| !d.is_empty())
    }

    /// True for a DLL (`IMAGE_FILE_DLL`).
    pub fn is_dll(&self) -> bool {
        self.characteristics & 0x2000 != 0
    }
}

/// One entry of the section table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// The name (up to 8 bytes, NULs trimmed; lossy UTF-8).
    pub name: String,
    /// `VirtualSize` (0 is taken as `SizeOfRawData`).
    pub virtual_size: u32,
    /// `VirtualAddress` (an RVA).
    pub virtual_address: u32,
    /// `SizeOfRawData`.
    pub size_of_raw_data: u32,
    /// `PointerToRawData` (a file offset).
    pub pointer_to_raw_data: u32,
    /// `Characteristics`.
    pub characteristics: u32,
}

impl Section {
    /// Bytes of address space the section covers in a loaded image.
    pub fn span(&self) -> u32 {
        if self.virtual_size == 0 {
            self.size_of_raw_data
        } else {
            self.virtual_size
        }
    }

    /// True when `rva` is inside the section's loaded span.
    pub fn contains_rva(&self, rva: u32) -> bool {
        rva >= self.virtual_address && rva - self.virtual_address < self.span()
    }
}

/// The CLI (COR20) header of a managed image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliHeader {
    /// `cb`: the header's size (72).
    pub cb: u32,
    /// Major runtime version (2).
    pub major_runtime_version: u16,
    /// Minor runtime version (5).
    pub minor_runtime_version: u16,
    /// Where the metadata root (`BSJB`) is.
    pub metadata: DataDirectory,
    /// `COMIMAGE_FLAGS_*` (see the `CLI_FLAG_*` constants).
    pub flags: u32,
    /// Entry point token (or RVA with `CLI_FLAG_NATIVE_ENTRYPOINT`).
    pub entry_point: u32,
    /// Managed resources.
    pub resources: DataDirectory,
    /// Strong name signature.
    pub strong_name_signature: DataDirectory,
    /// Code manager table (unused).
    pub code_manager_table: DataDirectory,
    /// VTable fixups.
    pub vtable_fixups: DataDirectory,
    /// Export address table jumps (unused).
    pub export_address_table_jumps: DataDirectory,
    /// Managed native header: the ReadyToRun header of R2R images.
    pub managed_native_header: DataDirectory,
}

/// `COMIMAGE_FLAGS_ILONLY`.
pub const CLI_FLAG_IL_ONLY: u32 = 0x1;
/// `COMIMAGE_FLAGS_32BITREQUIRED`.
pub const CLI_FLAG_32BIT_REQUIRED: u32 = 0x2;
/// `COMIMAGE_FLAGS_IL_LIBRARY` (set on ReadyToRun images).
pub const CLI_FLAG_IL_LIBRARY: u32 = 0x4;
/// `COMIMAGE_FLAGS_STRONGNAMESIGNED`.
pub const CLI_FLAG_STRONG_NAME_SIGNED: u32 = 0x8;
/// `COMIMAGE_FLAGS_NATIVE_ENTRYPOINT`.
pub const CLI_FLAG_NATIVE_ENTRYPOINT: u32 = 0x10;

impl CliHeader {
    /// Parses the 72 bytes of a CLI header.
    pub fn parse(b: &[u8; 72]) -> CliHeader {
        let dir = |o: usize| DataDirectory {
            rva: le32(b, o),
            size: le32(b, o + 4),
        };
        CliHeader {
            cb: le32(b, 0),
            major_runtime_version: le16(b, 4),
            minor_runtime_version: le16(b, 6),
            metadata: dir(8),
            flags: le32(b, 16),
            entry_point: le32(b, 20),
            resources: dir(24),
            strong_name_signature: dir(32),
            code_manager_table: dir(40),
            vtable_fixups: dir(48),
            export_address_table_jumps: dir(56),
            managed_native_header: dir(64),
        }
    }

    /// True when the image carries ReadyToRun code (a managed native header
    /// and the IL-library flag).
    pub fn is_ready_to_run(&self) -> bool {
        !self.managed_native_header.is_empty() && self.flags & CLI_FLAG_IL_LIBRARY != 0
    }
}

/// A PE image at a base address of an address space, under a layout.
///
/// Cheap to keep: it holds the parsed headers and section table; every
/// directory is read from the address space when asked for.
#[derive(Clone)]
pub struct PeImage<'a> {
    space: &'a dyn AddressSpace,
    base: u64,
    layout: Layout,
    headers: Headers,
    sections: Vec<Section>,
}

impl std::fmt::Debug for PeImage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeImage")
            .field("base", &format_args!("{:#x}", self.base))
            .field("layout", &self.layout)
            .field("headers", &self.headers)
            .field("sections", &self.sections)
            .finish()
    }
}

pub(crate) fn le16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}

pub(crate) fn le32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

pub(crate) fn le64(b: &[u8], o: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[o..o + 8]);
    u64::from_le_bytes(a)
}

fn read(
    space: &dyn AddressSpace,
    what: &'static str,
    addr: u64,
    buf: &mut [u8],
) -> Result<(), PeError> {
    space
        .read_virtual(addr, buf)
        .map_err(|source| PeError::Memory { what, addr, source })
}

/// The first address of `[addr, addr + len)` that is mapped but whose
/// contents the dump does not hold, if any.
pub fn first_missing_byte(space: &dyn AddressSpace, addr: u64, len: u64) -> Option<u64> {
    let end = addr.saturating_add(len);
    let mut pos = addr;
    while pos < end {
        let r = space.region_at(pos)?;
        if !r.has_data_at(pos) {
            return Some(pos);
        }
        let data_end = r.start.saturating_add(r.data_size);
        if data_end < r.end() && data_end < end {
            return Some(data_end);
        }
        pos = r.end();
    }
    None
}

fn check_in_dump(
    space: &dyn AddressSpace,
    what: &'static str,
    addr: u64,
    len: u64,
) -> Result<(), PeError> {
    match first_missing_byte(space, addr, len) {
        Some(addr) => Err(PeError::NotInDump { what, addr }),
        None => Ok(()),
    }
}

fn addr_add(base: u64, off: u64, what: &'static str) -> Result<u64, PeError> {
    base.checked_add(off).ok_or_else(|| PeError::Malformed {
        what,
        at: base,
        detail: format!("offset {off:#x} wraps the address space"),
    })
}

/// Parses the headers and section table at `base` (same in both layouts).
fn parse_headers(space: &dyn AddressSpace, base: u64) -> Result<(Headers, Vec<Section>), PeError> {
    let mut dos = [0u8; 64];
    read(space, "DOS header", base, &mut dos)?;
    if &dos[..2] != b"MZ" {
        return Err(PeError::NotMz { base });
    }
    let e_lfanew = le32(&dos, 0x3C);
    if !(4..=MAX_E_LFANEW).contains(&e_lfanew) {
        return Err(PeError::Malformed {
            what: "DOS header",
            at: base,
            detail: format!("e_lfanew {e_lfanew:#x} is out of range"),
        });
    }
    let pe = addr_add(base, u64::from(e_lfanew), "PE header")?;
    let mut coff = [0u8; 24];
    read(space, "PE header", pe, &mut coff)?;
    if &coff[..4] != b"PE\0\0" {
        return Err(PeError::NotPe { addr: pe, e_lfanew });
    }
    let machine = le16(&coff, 4);
    let n_sections = le16(&coff, 6);
    let time_date_stamp = le32(&coff, 8);
    let opt_size = le16(&coff, 20);
    let characteristics = le16(&coff, 22);
    if n_sections > MAX_SECTIONS {
        return Err(PeError::TooLarge {
            what: "section table (entries)",
            size: n_sections.into(),
            cap: MAX_SECTIONS.into(),
        });
    }
    if opt_size > MAX_OPTIONAL_HEADER {
        return Err(PeError::TooLarge {
            what: "optional header",
            size: opt_size.into(),
            cap: MAX_OPTIONAL_HEADER.into(),
        });
    }
    let opt_addr = pe + 24;
    let mut opt = vec![0u8; usize::from(opt_size)];
    read(space, "optional header", opt_addr, &mut opt)?;
    let malformed = |detail: String| PeError::Malformed {
        what: "optional header",
        at: opt_addr,
        detail,
    };
    if opt.len() < 2 {
        return Err(malformed(format!("only {opt_size} bytes")));
    }
    let (kind, dd_offset) = match le16(&opt, 0) {
        0x10B => (OptionalHeaderKind::Pe32, 96usize),
        0x20B => (OptionalHeaderKind::Pe32Plus, 112usize),
        m => return Err(malformed(format!("unknown magic {m:#x}"))),
    };
    if opt.len() < dd_offset {
        return Err(malformed(format!(
            "{opt_size} bytes, too short for its magic"
        )));
    }
    let image_base = match kind {
        OptionalHeaderKind::Pe32 => u64::from(le32(&opt, 28)),
        OptionalHeaderKind::Pe32Plus => le64(&opt, 24),
    };
    let n_dirs = le32(&opt, dd_offset - 4).min(16) as usize;
    let fit = (opt.len() - dd_offset) / 8;
    let data_directories = (0..n_dirs.min(fit))
        .map(|i| DataDirectory {
            rva: le32(&opt, dd_offset + 8 * i),
            size: le32(&opt, dd_offset + 8 * i + 4),
        })
        .collect();
    let headers = Headers {
        e_lfanew,
        machine,
        time_date_stamp,
        characteristics,
        kind,
        image_base,
        section_alignment: le32(&opt, 32),
        file_alignment: le32(&opt, 36),
        size_of_image: le32(&opt, 56),
        size_of_headers: le32(&opt, 60),
        subsystem: le16(&opt, 68),
        dll_characteristics: le16(&opt, 70),
        data_directories,
    };
    let sec_addr = opt_addr + u64::from(opt_size);
    let mut table = vec![0u8; 40 * usize::from(n_sections)];
    read(space, "section table", sec_addr, &mut table)?;
    let sections = table
        .chunks_exact(40)
        .map(|s| {
            let name_len = s[..8].iter().position(|&c| c == 0).unwrap_or(8);
            Section {
                name: String::from_utf8_lossy(&s[..name_len]).into_owned(),
                virtual_size: le32(s, 8),
                virtual_address: le32(s, 12),
                size_of_raw_data: le32(s, 16),
                pointer_to_raw_data: le32(s, 20),
                characteristics: le32(s, 36),
            }
        })
        .collect();
    Ok((headers, sections))
}

impl<'a> PeImage<'a> {
    /// The image at `base`, read under `layout`.
    ///
    /// Reads and checks the DOS header, the PE signature, the COFF and
    /// optional headers and the section table; nothing else.
    pub fn at(
        space: &'a dyn AddressSpace,
        base: u64,
        layout: Layout,
    ) -> Result<PeImage<'a>, PeError> {
        let (headers, sections) = parse_headers(space, base)?;
        Ok(PeImage {
            space,
            base,
            layout,
            headers,
            sections,
        })
    }

    /// The image at `base`, with its layout decided from its contents.
    ///
    /// Each layout is probed, in this order of evidence: the CLI header
    /// (size 72, metadata starting with `BSJB`), the export directory (name
    /// string and tables in the image), the CodeView debug record (`RSDS`).
    /// The first probe the image has data for decides; when both layouts
    /// pass it (the translations coincide, e.g. file and section alignment
    /// are equal), [`Layout::Loaded`] is chosen. When no probe passes under
    /// either layout, [`PeError::UnknownLayout`] says what each found — or
    /// [`PeError::NotInDump`] when some probed data is mapped but absent from
    /// the dump (a core without the image's pages: names cannot come from
    /// this image).
    pub fn detect(space: &'a dyn AddressSpace, base: u64) -> Result<PeImage<'a>, PeError> {
        let (headers, sections) = parse_headers(space, base)?;
        let mut image = PeImage {
            space,
            base,
            layout: Layout::Loaded,
            headers,
            sections,
        };
        type Probe<'b> = fn(&PeImage<'b>) -> Result<bool, PeError>;
        let probes: [(&str, usize, Probe<'a>); 3] = [
            ("CLI header", DIR_CLI, PeImage::probe_cli),
            ("export directory", DIR_EXPORT, PeImage::probe_exports),
            ("CodeView record", DIR_DEBUG, PeImage::probe_codeview),
        ];
        let mut detail = Vec::new();
        let mut not_in_dump = None;
        for (what, dir, probe) in probes {
            if image.headers.directory(dir).is_none() {
                continue;
            }
            let mut ok = [false; 2];
            for (i, layout) in [Layout::Loaded, Layout::Flat].into_iter().enumerate() {
                image.layout = layout;
                match probe(&image) {
                    Ok(true) => ok[i] = true,
                    Ok(false) => detail.push(format!("{layout}: {what} is not valid")),
                    Err(e) => {
                        detail.push(format!("{layout}: {e}"));
                        if let PeError::NotInDump { .. } = e {
                            not_in_dump.get_or_insert(e);
                        }
                    }
                }
            }
            match ok {
                [true, _] => {
                    image.layout = Layout::Loaded;
                    return Ok(image);
                }
                [false, true] => {
                    image.layout = Layout::Flat;
                    return Ok(image);
                }
                _ => {}
            }
        }
        if let Some(e) = not_in_dump {
            // Nothing passed, and some of the data looked at is missing
            // from the dump: that, not the layout, is the problem.
            return Err(e);
        }
        if detail.is_empty() {
            detail.push("it has no CLI header, exports or CodeView record".into());
        }
        Err(PeError::UnknownLayout {
            base,
            detail: detail.join("; "),
        })
    }

    fn probe_cli(&self) -> Result<bool, PeError> {
        let Some(cli) = self.cli_header()? else {
            return Ok(false);
        };
        if cli.cb < CLI_HEADER_SIZE || cli.metadata.size < 16 {
            return Ok(false);
        }
        let mut sig = [0u8; 4];
        self.read_rva("metadata root", cli.metadata.rva, &mut sig)?;
        if u32::from_le_bytes(sig) != METADATA_SIGNATURE {
            let addr = self.rva_range("metadata root", cli.metadata.rva, 4)?;
            check_in_dump(self.space, "metadata root", addr, 4)?;
            return Ok(false);
        }
        Ok(true)
    }

    fn probe_exports(&self) -> Result<bool, PeError> {
        exports::probe(self)
    }

    fn probe_codeview(&self) -> Result<bool, PeError> {
        Ok(self.codeview()?.is_some())
    }

    /// The address space the image is read from.
    pub fn space(&self) -> &'a dyn AddressSpace {
        self.space
    }

    /// The base address (where `MZ` is).
    pub fn base(&self) -> u64 {
        self.base
    }

    /// The layout RVAs are translated with.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The same image read under another layout.
    pub fn with_layout(&self, layout: Layout) -> PeImage<'a> {
        PeImage {
            layout,
            ..self.clone()
        }
    }

    /// The headers.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The section table.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    /// True for a PE32+ (64-bit) image.
    pub fn is_64bit(&self) -> bool {
        self.headers.kind == OptionalHeaderKind::Pe32Plus
    }

    /// Where the bytes of `rva` are, as an offset from the base, and how many
    /// contiguous bytes from there belong to the image under its layout.
    ///
    /// Loaded: `rva` itself, up to `SizeOfImage`. Flat: the file offset —
    /// headers map to themselves, section data through the section table
    /// (only the section's raw data is in the file; its zero-filled tail is
    /// not). `None` when `rva` is not backed under the layout.
    pub fn rva_span(&self, rva: u32) -> Option<(u64, u64)> {
        match self.layout {
            Layout::Loaded => {
                let size = self.headers.size_of_image;
                (rva < size).then(|| (u64::from(rva), u64::from(size - rva)))
            }
            Layout::Flat => {
                if let Some(s) = self.sections.iter().find(|s| s.contains_rva(rva)) {
                    let delta = rva - s.virtual_address;
                    let raw = s.size_of_raw_data.min(s.span());
                    if delta >= raw {
                        return None;
                    }
                    // The Windows loader rounds PointerToRawData down to 512.
                    let start = if self.headers.file_alignment >= 0x200 {
                        s.pointer_to_raw_data & !0x1FF
                    } else {
                        s.pointer_to_raw_data
                    };
                    Some((u64::from(start) + u64::from(delta), u64::from(raw - delta)))
                } else {
                    let limit = self.headers.size_of_headers;
                    (rva < limit).then(|| (u64::from(rva), u64::from(limit - rva)))
                }
            }
        }
    }

    /// The address of `rva` under the image's layout (see
    /// [`PeImage::rva_span`]); for a flat image, where the file's bytes are.
    pub fn rva_to_va(&self, rva: u32) -> Option<u64> {
        self.rva_span(rva)
            .and_then(|(off, _)| self.base.checked_add(off))
    }

    /// The address of `len` bytes at `rva`, checked to be inside the image.
    pub fn rva_range(&self, what: &'static str, rva: u32, len: u64) -> Result<u64, PeError> {
        let bad = || PeError::BadRva {
            what,
            rva,
            len,
            layout: self.layout,
        };
        let (off, avail) = self.rva_span(rva).ok_or_else(bad)?;
        if len > avail {
            return Err(bad());
        }
        self.base.checked_add(off).ok_or_else(bad)
    }

    /// Reads `buf.len()` bytes at `rva`.
    pub fn read_rva(&self, what: &'static str, rva: u32, buf: &mut [u8]) -> Result<(), PeError> {
        let addr = self.rva_range(what, rva, buf.len() as u64)?;
        read(self.space, what, addr, buf)
    }

    /// Reads `len` bytes at `rva`, refusing more than `cap`.
    pub fn read_rva_vec(
        &self,
        what: &'static str,
        rva: u32,
        len: u64,
        cap: u64,
    ) -> Result<Vec<u8>, PeError> {
        if len > cap {
            return Err(PeError::TooLarge {
                what,
                size: len,
                cap,
            });
        }
        let mut v = vec![0u8; len as usize];
        self.read_rva(what, rva, &mut v)?;
        Ok(v)
    }

    /// Reads the NUL-terminated string at `addr` (at most `max` bytes before
    /// the NUL), in small pieces so that it may end just before unmapped
    /// memory. Invalid UTF-8 is replaced.
    pub(crate) fn read_cstr_at(
        &self,
        what: &'static str,
        addr: u64,
        max: usize,
    ) -> Result<String, PeError> {
        match heaplens_memory::read_c_string(self.space, addr, max) {
            Ok(Some(b)) => Ok(String::from_utf8_lossy(&b).into_owned()),
            Ok(None) => Err(PeError::Malformed {
                what,
                at: addr,
                detail: format!("no NUL in the first {max} bytes"),
            }),
            Err(source) => Err(PeError::Memory {
                what,
                addr: source.addr(),
                source,
            }),
        }
    }

    /// Reads the NUL-terminated string at `rva`, within the image.
    pub(crate) fn read_cstr_rva(
        &self,
        what: &'static str,
        rva: u32,
        max: usize,
    ) -> Result<String, PeError> {
        let (_, avail) = self.rva_span(rva).ok_or(PeError::BadRva {
            what,
            rva,
            len: 1,
            layout: self.layout,
        })?;
        let addr = self.rva_range(what, rva, 1)?;
        let max = max.min(avail.saturating_sub(1).min(usize::MAX as u64) as usize);
        self.read_cstr_at(what, addr, max)
    }

    /// The CLI header, if the image has one (a managed image).
    pub fn cli_header(&self) -> Result<Option<CliHeader>, PeError> {
        let Some(dir) = self.headers.directory(DIR_CLI) else {
            return Ok(None);
        };
        if dir.size < CLI_HEADER_SIZE {
            return Err(PeError::Malformed {
                what: "CLI header directory",
                at: u64::from(dir.rva),
                detail: format!("size {} < 72 (RVA)", dir.size),
            });
        }
        let mut b = [0u8; 72];
        self.read_rva("CLI header", dir.rva, &mut b)?;
        if b == [0u8; 72] {
            let addr = self.rva_range("CLI header", dir.rva, 72)?;
            check_in_dump(self.space, "CLI header", addr, 72)?;
        }
        Ok(Some(CliHeader::parse(&b)))
    }

    /// The address and size of the metadata root (`BSJB`), checked for its
    /// signature.
    pub fn metadata_location(&self) -> Result<(u64, u32), PeError> {
        let cli = self.cli_header()?.ok_or(PeError::Missing {
            what: "CLI header",
            base: self.base,
        })?;
        let md = cli.metadata;
        if md.is_empty() {
            return Err(PeError::Missing {
                what: "metadata",
                base: self.base,
            });
        }
        let addr = self.rva_range("metadata", md.rva, u64::from(md.size))?;
        check_in_dump(self.space, "metadata", addr, u64::from(md.size))?;
        let mut sig = [0u8; 4];
        read(self.space, "metadata root", addr, &mut sig)?;
        if u32::from_le_bytes(sig) != METADATA_SIGNATURE {
            return Err(PeError::Malformed {
                what: "metadata root",
                at: addr,
                detail: format!("signature {:02x?} is not BSJB", sig),
            });
        }
        Ok((addr, md.size))
    }

    /// The bytes of the metadata (from `BSJB`, the size the CLI header
    /// declares), refusing more than `cap` bytes (see [`MAX_METADATA_SIZE`]).
    pub fn read_metadata(&self, cap: u32) -> Result<Vec<u8>, PeError> {
        let (addr, size) = self.metadata_location()?;
        if size > cap {
            return Err(PeError::TooLarge {
                what: "metadata",
                size: size.into(),
                cap: cap.into(),
            });
        }
        let mut v = vec![0u8; size as usize];
        read(self.space, "metadata", addr, &mut v)?;
        Ok(v)
    }
}

/// Looks for an image start (`MZ` whose `e_lfanew` points at `PE\0\0`) in
/// `[from, from + window)` at 16-byte steps, and returns its address.
///
/// For single-file bundles: the host's file mapping starts on a page
/// boundary, the embedded image somewhere after it (`window` of a page or
/// two is enough; it is capped at 64 KiB). Unreadable parts are skipped.
pub fn find_image_start(space: &dyn AddressSpace, from: u64, window: u64) -> Option<u64> {
    let window = window.min(0x1_0000);
    let mut page = from & !0xFFF;
    let end = from.checked_add(window)?;
    let mut buf = vec![0u8; 0x1000];
    while page < end {
        if space.read_virtual(page, &mut buf).is_ok() {
            let first = if page < from {
                (from - page) as usize
            } else {
                0
            };
            let first = (first + 15) & !15;
            for off in (first..0x1000).step_by(16) {
                let at = page + off as u64;
                if at >= end {
                    break;
                }
                if &buf[off..off + 2] == b"MZ" && parse_headers(space, at).is_ok() {
                    return Some(at);
                }
            }
        }
        page = page.checked_add(0x1000)?;
    }
    None
}

#[cfg(test)]
mod tests;
