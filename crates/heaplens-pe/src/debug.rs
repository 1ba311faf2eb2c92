//! The debug directory and its CodeView (`RSDS`) record.

use crate::{le16, le32, Layout, PeError, PeImage, DIR_DEBUG};

/// `IMAGE_DEBUG_TYPE_CODEVIEW`.
pub const IMAGE_DEBUG_TYPE_CODEVIEW: u32 = 2;
/// Most debug directory entries read.
const MAX_ENTRIES: u32 = 64;
/// Longest PDB path read.
const MAX_PDB_PATH: usize = 1024;

/// One entry of the debug directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DebugEntry {
    /// `TimeDateStamp`.
    pub time_date_stamp: u32,
    /// `MajorVersion`.
    pub major_version: u16,
    /// `MinorVersion`.
    pub minor_version: u16,
    /// `Type` (2 = CodeView, 16 = reproducible, 17 = embedded portable PDB…).
    pub kind: u32,
    /// `SizeOfData`.
    pub size_of_data: u32,
    /// `AddressOfRawData` (an RVA; 0 when the data is not mapped).
    pub address_of_raw_data: u32,
    /// `PointerToRawData` (a file offset).
    pub pointer_to_raw_data: u32,
}

/// A CodeView 7.0 (`RSDS`) record: what identifies the image's PDB.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeView {
    /// The PDB's GUID, as stored (the first three fields little-endian).
    pub guid: [u8; 16],
    /// The PDB's age.
    pub age: u32,
    /// The PDB's path as the linker wrote it.
    pub pdb_path: String,
}

impl CodeView {
    /// The GUID in its usual text form, `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`
    /// (upper case).
    pub fn guid_string(&self) -> String {
        let g = &self.guid;
        format!(
            "{:08X}-{:04X}-{:04X}-{:02X}{:02X}-{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}",
            le32(g, 0),
            le16(g, 4),
            le16(g, 6),
            g[8],
            g[9],
            g[10],
            g[11],
            g[12],
            g[13],
            g[14],
            g[15]
        )
    }

    /// The symbol-server key, `GUID` (no dashes) followed by the age in hex.
    pub fn symbol_key(&self) -> String {
        format!("{}{:X}", self.guid_string().replace('-', ""), self.age)
    }
}

impl PeImage<'_> {
    /// The debug directory's entries.
    pub fn debug_entries(&self) -> Result<Vec<DebugEntry>, PeError> {
        let Some(dir) = self.headers().directory(DIR_DEBUG) else {
            return Ok(Vec::new());
        };
        let n = (dir.size / 28).min(MAX_ENTRIES);
        let b = self.read_rva_vec("debug directory", dir.rva, u64::from(n) * 28, 28 * 64)?;
        Ok(b.chunks_exact(28)
            .map(|e| DebugEntry {
                time_date_stamp: le32(e, 4),
                major_version: le16(e, 8),
                minor_version: le16(e, 10),
                kind: le32(e, 12),
                size_of_data: le32(e, 16),
                address_of_raw_data: le32(e, 20),
                pointer_to_raw_data: le32(e, 24),
            })
            .collect())
    }

    /// The CodeView record, if the image has one (`None` too when the record
    /// is not `RSDS`, or not mapped in a loaded image).
    pub fn codeview(&self) -> Result<Option<CodeView>, PeError> {
        for e in self.debug_entries()? {
            if e.kind != IMAGE_DEBUG_TYPE_CODEVIEW || e.size_of_data < 24 {
                continue;
            }
            let addr = match self.layout() {
                Layout::Loaded if e.address_of_raw_data != 0 => {
                    self.rva_range("CodeView record", e.address_of_raw_data, 24)?
                }
                Layout::Loaded => continue,
                Layout::Flat => self
                    .base()
                    .checked_add(u64::from(e.pointer_to_raw_data))
                    .ok_or(PeError::Malformed {
                        what: "debug directory",
                        at: self.base(),
                        detail: "PointerToRawData wraps the address space".into(),
                    })?,
            };
            let mut b = [0u8; 24];
            self.space()
                .read_virtual(addr, &mut b)
                .map_err(|source| PeError::Memory {
                    what: "CodeView record",
                    addr,
                    source,
                })?;
            if &b[..4] != b"RSDS" {
                continue;
            }
            let mut guid = [0u8; 16];
            guid.copy_from_slice(&b[4..20]);
            let max = (e.size_of_data as usize - 24).min(MAX_PDB_PATH);
            let pdb_path = self.read_cstr_at("PDB path", addr.saturating_add(24), max)?;
            return Ok(Some(CodeView {
                guid,
                age: le32(&b, 20),
                pdb_path,
            }));
        }
        Ok(None)
    }
}
