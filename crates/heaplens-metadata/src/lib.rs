//! ECMA-335 metadata read from the bytes of a metadata root (`BSJB`).
//!
//! [`Metadata::parse`] takes the bytes (the caller reads them from the image:
//! [`Metadata::read_from`] does it for a [`PeImage`]) and checks the root,
//! the stream headers and the table stream's layout: every table 0x00–0x2C
//! has its row size computed from the row counts, heap-size flags and coded
//! index widths (ECMA-335 II.24.2.6), for the optimized `#~` stream and the
//! unoptimized `#-` one (which may add the `*Ptr` indirection tables). A
//! `Valid` bit above 0x2C is an error. After that, row access cannot go out
//! of bounds; heap reads (strings, blobs) are checked on each access and
//! fail with a typed [`MetadataError`] — nothing panics on garbage.
//!
//! What heaplens needs to name types is typed: [`Metadata::type_def`],
//! [`Metadata::enclosing_type`], [`Metadata::full_type_name`] (`Ns.Outer+Inner`),
//! [`Metadata::generic_param_count`], fields ([`Metadata::fields`],
//! [`Metadata::field`], [`Metadata::field_type`]), [`Metadata::type_ref`],
//! [`Metadata::assembly`] and [`Metadata::module_name`]. Any other cell is
//! reachable through [`Metadata::cell`].
//!
//! Not handled: metadata format 1.x table schemas (pre-.NET 2.0), the
//! `#JTD` (all-columns-4-bytes) EnC delta format, portable PDB tables.

mod members;
mod sig;
mod tables;

use std::ops::Range;

pub use heaplens_pe::PeImage;
pub use members::{primitive_name, EnumDef, EnumLiteral};
pub use sig::{decode_compressed, element_type, FieldType};
pub use tables::{CodedIndex, TableId, TABLE_COUNT};

use tables::{layouts, HeapWidths, RowLayout};

/// Largest metadata [`Metadata::read_from`] reads (CoreLib's is ~3 MB).
pub const MAX_METADATA_SIZE: u32 = heaplens_pe::MAX_METADATA_SIZE;
/// Deepest type nesting [`Metadata::full_type_name`] follows.
pub const MAX_NESTING: usize = 64;

/// Why metadata could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// The bytes do not start with `BSJB`.
    #[error("no metadata signature (BSJB) at the start: found {found:#010x}")]
    BadSignature {
        /// The first four bytes, little-endian.
        found: u32,
    },
    /// A structure runs past the end of the bytes (or of its stream).
    #[error("the {what} at offset {offset} needs {need} bytes, only {have} are there")]
    Truncated {
        /// The structure.
        what: &'static str,
        /// Its offset in the metadata.
        offset: u64,
        /// Bytes it needs.
        need: u64,
        /// Bytes available.
        have: u64,
    },
    /// A header field has an impossible value.
    #[error("malformed {what} at offset {offset}: {detail}")]
    Malformed {
        /// The structure.
        what: &'static str,
        /// Its offset in the metadata.
        offset: u64,
        /// What is wrong.
        detail: String,
    },
    /// A stream the metadata must have is missing.
    #[error("the metadata has no {name} stream")]
    MissingStream {
        /// The stream's name (`#~` means `#~` or `#-`).
        name: &'static str,
    },
    /// The table stream says tables exist that ECMA-335 does not define.
    #[error("the table stream's Valid mask has unknown tables: {bits:#018x}")]
    UnknownTables {
        /// The unknown bits of `Valid`.
        bits: u64,
    },
    /// A row number outside its table.
    #[error("{table:?} has {rows} rows, there is no row {rid}")]
    RidOutOfRange {
        /// The table.
        table: TableId,
        /// The row asked for.
        rid: u32,
        /// Its row count.
        rows: u32,
    },
    /// A heap index outside its heap.
    #[error("index {index:#x} is outside the {heap} heap ({size} bytes)")]
    BadHeapIndex {
        /// `#Strings`, `#Blob`, `#GUID` or `#US`.
        heap: &'static str,
        /// The index.
        index: u32,
        /// The heap's size.
        size: usize,
    },
    /// A `#Strings` entry is not UTF-8 or has no terminating NUL.
    #[error("the #Strings entry at {index:#x} is {detail}")]
    BadString {
        /// Its index.
        index: u32,
        /// What is wrong.
        detail: &'static str,
    },
    /// A signature blob could not be read.
    #[error("the signature blob at {index:#x} is malformed at byte {offset}: {detail}")]
    BadSignatureBlob {
        /// The blob's index in `#Blob`.
        index: u32,
        /// Offset in the blob.
        offset: usize,
        /// What is wrong.
        detail: &'static str,
    },
    /// Type nesting deeper than [`MAX_NESTING`] (or a cycle).
    #[error("TypeDef {rid} is nested more than {MAX_NESTING} deep (a cycle?)")]
    NestingTooDeep {
        /// The type whose name was built.
        rid: u32,
    },
    /// Reading the metadata from an image failed.
    #[error(transparent)]
    Image(#[from] heaplens_pe::PeError),
}

type Result<T> = std::result::Result<T, MetadataError>;

/// A metadata token: table number in the high byte, row number below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Token(pub u32);

impl Token {
    /// The token of row `rid` of `table`.
    pub fn new(table: TableId, rid: u32) -> Token {
        Token(((table as u32) << 24) | (rid & 0x00FF_FFFF))
    }

    /// The table number (high byte).
    pub fn table_number(self) -> u8 {
        (self.0 >> 24) as u8
    }

    /// The table, if the high byte names one.
    pub fn table(self) -> Option<TableId> {
        TableId::from_u8(self.table_number())
    }

    /// The row number (low 24 bits; 0 = null).
    pub fn rid(self) -> u32 {
        self.0 & 0x00FF_FFFF
    }

    /// True for a null token (row 0).
    pub fn is_null(self) -> bool {
        self.rid() == 0
    }
}

impl std::fmt::Display for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

/// One stream header of the metadata root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHeader {
    /// Its name (`#~`, `#Strings`…).
    pub name: String,
    /// Offset from the metadata root.
    pub offset: u32,
    /// Size in bytes.
    pub size: u32,
}

/// A TypeDef row (ECMA-335 II.22.37).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef<'a> {
    /// Its row number.
    pub rid: u32,
    /// `TypeAttributes`.
    pub flags: u32,
    /// Name (with the `` `N `` arity suffix of generic types).
    pub name: &'a str,
    /// Namespace (empty for nested types, as compilers write them).
    pub namespace: &'a str,
    /// Base type (TypeDef, TypeRef or TypeSpec; null for interfaces and
    /// `System.Object`).
    pub extends: Token,
    /// First row of its fields in the field list (see [`Metadata::fields`]).
    pub field_list: u32,
    /// First row of its methods in the method list.
    pub method_list: u32,
}

/// `TypeAttributes.VisibilityMask`.
pub const TYPE_VISIBILITY_MASK: u32 = 0x7;
/// `TypeAttributes.Interface`.
pub const TYPE_INTERFACE: u32 = 0x20;

impl TypeDef<'_> {
    /// True when the visibility says nested (`NestedPublic` … `NestedFamOrAssem`).
    pub fn is_nested(&self) -> bool {
        self.flags & TYPE_VISIBILITY_MASK >= 2
    }

    /// True for an interface.
    pub fn is_interface(&self) -> bool {
        self.flags & TYPE_INTERFACE != 0
    }
}

/// A TypeRef row (ECMA-335 II.22.38).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeRef<'a> {
    /// Module, ModuleRef, AssemblyRef or TypeRef (enclosing type) token.
    pub resolution_scope: Token,
    /// Name.
    pub name: &'a str,
    /// Namespace.
    pub namespace: &'a str,
}

/// A Field row (ECMA-335 II.22.15).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field<'a> {
    /// Its row number.
    pub rid: u32,
    /// `FieldAttributes`.
    pub flags: u16,
    /// Name.
    pub name: &'a str,
    /// Signature blob (`FIELD` CustomMod* Type).
    pub signature: &'a [u8],
}

/// `FieldAttributes.Static`.
pub const FIELD_STATIC: u16 = 0x10;
/// `FieldAttributes.Literal` (a constant: no storage).
pub const FIELD_LITERAL: u16 = 0x40;
/// `FieldAttributes.HasFieldRVA` (data in the image).
pub const FIELD_HAS_RVA: u16 = 0x100;

impl Field<'_> {
    /// True for a static field.
    pub fn is_static(&self) -> bool {
        self.flags & FIELD_STATIC != 0
    }

    /// True for a literal (const) field, which has no storage.
    pub fn is_literal(&self) -> bool {
        self.flags & FIELD_LITERAL != 0
    }
}

/// A GenericParam row (ECMA-335 II.22.20).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericParam<'a> {
    /// Position in the owner's parameter list (0-based).
    pub number: u16,
    /// `GenericParamAttributes`.
    pub flags: u16,
    /// The owning TypeDef or MethodDef.
    pub owner: Token,
    /// Its name (`T`, `TKey`…).
    pub name: &'a str,
}

/// The Assembly row (ECMA-335 II.22.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssemblyDef<'a> {
    /// Simple name (`System.Private.CoreLib`).
    pub name: &'a str,
    /// Culture (empty for neutral).
    pub culture: &'a str,
    /// Version (major, minor, build, revision).
    pub version: (u16, u16, u16, u16),
    /// `AssemblyFlags`.
    pub flags: u32,
    /// Hash algorithm id.
    pub hash_alg_id: u32,
    /// Public key blob (empty when not strong-named).
    pub public_key: &'a [u8],
}

/// Parsed metadata: the bytes and where everything is in them.
#[derive(Debug, Clone)]
pub struct Metadata {
    bytes: Vec<u8>,
    version: String,
    streams: Vec<StreamHeader>,
    strings: Range<usize>,
    blob: Range<usize>,
    guid: Range<usize>,
    user_strings: Range<usize>,
    uncompressed: bool,
    heap_sizes: u8,
    valid: u64,
    sorted: u64,
    rows: [u32; 64],
    layouts: [RowLayout; TABLE_COUNT],
    /// Offset of each table's first row in `bytes`.
    table_offsets: [usize; TABLE_COUNT],
}

fn need(bytes: &[u8], what: &'static str, offset: usize, n: usize) -> Result<()> {
    if offset.checked_add(n).is_none_or(|end| end > bytes.len()) {
        return Err(MetadataError::Truncated {
            what,
            offset: offset as u64,
            need: n as u64,
            have: bytes.len().saturating_sub(offset) as u64,
        });
    }
    Ok(())
}

fn rd16(b: &[u8], o: usize) -> u16 {
    u16::from_le_bytes([b[o], b[o + 1]])
}
fn rd32(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}
fn rd64(b: &[u8], o: usize) -> u64 {
    u64::from(rd32(b, o)) | (u64::from(rd32(b, o + 4)) << 32)
}

impl Metadata {
    /// Parses metadata from the bytes of its root (`BSJB` first).
    pub fn parse(bytes: Vec<u8>) -> Result<Metadata> {
        let b = &bytes[..];
        need(b, "metadata root", 0, 16)?;
        let sig = rd32(b, 0);
        if sig != heaplens_pe::METADATA_SIGNATURE {
            return Err(MetadataError::BadSignature { found: sig });
        }
        let ver_len = rd32(b, 12) as usize;
        if ver_len > 256 {
            return Err(MetadataError::Malformed {
                what: "metadata root",
                offset: 12,
                detail: format!("version string length {ver_len} > 256"),
            });
        }
        need(b, "metadata version", 16, ver_len + 4)?;
        let ver = &b[16..16 + ver_len];
        let ver = &ver[..ver.iter().position(|&c| c == 0).unwrap_or(ver.len())];
        let version = String::from_utf8_lossy(ver).into_owned();
        let n_streams = rd16(b, 16 + ver_len + 2);
        let mut pos = 16 + ver_len + 4;
        let mut streams = Vec::with_capacity(usize::from(n_streams).min(16));
        for _ in 0..n_streams {
            need(b, "stream header", pos, 8)?;
            let (offset, size) = (rd32(b, pos), rd32(b, pos + 4));
            let name_at = pos + 8;
            let name_max = b.len().saturating_sub(name_at).min(32);
            let Some(nul) = b[name_at..name_at + name_max].iter().position(|&c| c == 0) else {
                return Err(MetadataError::Malformed {
                    what: "stream header",
                    offset: pos as u64,
                    detail: "name has no NUL in 32 bytes".into(),
                });
            };
            let name = String::from_utf8_lossy(&b[name_at..name_at + nul]).into_owned();
            if (offset as usize)
                .checked_add(size as usize)
                .is_none_or(|end| end > b.len())
            {
                return Err(MetadataError::Malformed {
                    what: "stream header",
                    offset: pos as u64,
                    detail: format!(
                        "stream {name} ({offset:#x} + {size:#x}) runs past the metadata ({:#x} bytes)",
                        b.len()
                    ),
                });
            }
            streams.push(StreamHeader { name, offset, size });
            pos = name_at + ((nul + 4) & !3);
        }
        let find = |name: &str| {
            streams
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.offset as usize..s.offset as usize + s.size as usize)
        };
        let (tables, uncompressed) = match (find("#~"), find("#-")) {
            (Some(r), _) => (r, false),
            (None, Some(r)) => (r, true),
            (None, None) => return Err(MetadataError::MissingStream { name: "#~" }),
        };
        let strings = find("#Strings").unwrap_or(0..0);
        let blob = find("#Blob").unwrap_or(0..0);
        let guid = find("#GUID").unwrap_or(0..0);
        let user_strings = find("#US").unwrap_or(0..0);

        // The table stream header.
        let t = &b[..tables.end];
        let base = tables.start;
        need(t, "table stream header", base, 24)?;
        let heap_sizes = t[base + 6];
        let valid = rd64(t, base + 8);
        let sorted = rd64(t, base + 16);
        let unknown = valid & !((1u64 << TABLE_COUNT) - 1);
        if unknown != 0 {
            return Err(MetadataError::UnknownTables { bits: unknown });
        }
        let mut rows = [0u32; 64];
        let mut p = base + 24;
        for (i, r) in rows.iter_mut().enumerate().take(TABLE_COUNT) {
            if valid & (1 << i) != 0 {
                need(t, "table row counts", p, 4)?;
                *r = rd32(t, p);
                p += 4;
            }
        }
        if heap_sizes & 0x40 != 0 {
            // EXTRA_DATA: one more u32 after the row counts.
            need(t, "table stream extra data", p, 4)?;
            p += 4;
        }
        let width = |bit: u8| if heap_sizes & bit != 0 { 4u8 } else { 2 };
        let layouts = layouts(
            &rows,
            HeapWidths {
                string: width(0x01),
                guid: width(0x02),
                blob: width(0x04),
            },
        );
        let mut table_offsets = [0usize; TABLE_COUNT];
        for (i, off) in table_offsets.iter_mut().enumerate() {
            *off = p;
            let size = u64::from(rows[i]) * u64::from(layouts[i].size);
            let end = (p as u64).saturating_add(size);
            if end > tables.end as u64 {
                return Err(MetadataError::Truncated {
                    what: "table data",
                    offset: p as u64,
                    need: size,
                    have: (tables.end - p) as u64,
                });
            }
            p = end as usize;
        }
        Ok(Metadata {
            version,
            streams,
            strings,
            blob,
            guid,
            user_strings,
            uncompressed,
            heap_sizes,
            valid,
            sorted,
            rows,
            layouts,
            table_offsets,
            bytes,
        })
    }

    /// Reads and parses the metadata of a managed image (at most
    /// [`MAX_METADATA_SIZE`] bytes).
    pub fn read_from(image: &PeImage<'_>) -> Result<Metadata> {
        Metadata::parse(image.read_metadata(MAX_METADATA_SIZE)?)
    }

    /// The bytes parsed.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The root's version string (e.g. `v4.0.30319`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The stream headers, in order.
    pub fn streams(&self) -> &[StreamHeader] {
        &self.streams
    }

    /// True when the tables are the unoptimized `#-` stream.
    pub fn is_uncompressed(&self) -> bool {
        self.uncompressed
    }

    /// The table stream's `HeapSizes` flags.
    pub fn heap_sizes(&self) -> u8 {
        self.heap_sizes
    }

    /// The table stream's `Valid` mask.
    pub fn valid_mask(&self) -> u64 {
        self.valid
    }

    /// The table stream's `Sorted` mask.
    pub fn sorted_mask(&self) -> u64 {
        self.sorted
    }

    /// Rows in `table`.
    pub fn row_count(&self, table: TableId) -> u32 {
        self.rows[table as usize]
    }

    /// Bytes per row of `table`.
    pub fn row_size(&self, table: TableId) -> u32 {
        self.layouts[table as usize].size
    }

    /// Column `col` of row `rid` of `table`, zero-extended (`None` when the
    /// row or column does not exist).
    pub fn cell(&self, table: TableId, rid: u32, col: usize) -> Option<u32> {
        if rid == 0 || rid > self.rows[table as usize] || col >= tables::schema(table).len() {
            return None;
        }
        Some(self.cell_unchecked(table, rid, col))
    }

    /// Column `col` of row `rid`, which the caller has range-checked.
    fn cell_unchecked(&self, table: TableId, rid: u32, col: usize) -> u32 {
        let l = &self.layouts[table as usize];
        let (off, w) = l.cols[col];
        // In bounds: parse() checked rows * size fits in the table stream.
        let at = self.table_offsets[table as usize]
            + (rid as usize - 1) * l.size as usize
            + usize::from(off);
        match w {
            2 => u32::from(rd16(&self.bytes, at)),
            _ => rd32(&self.bytes, at),
        }
    }

    fn check_rid(&self, table: TableId, rid: u32) -> Result<()> {
        let rows = self.rows[table as usize];
        if rid == 0 || rid > rows {
            return Err(MetadataError::RidOutOfRange { table, rid, rows });
        }
        Ok(())
    }

    fn coded(&self, kind: CodedIndex, value: u32) -> Token {
        match kind.decode(value) {
            Some((t, rid)) => Token::new(t, rid),
            None => Token(0),
        }
    }

    /// The `#Strings` entry at `index`.
    pub fn string(&self, index: u32) -> Result<&str> {
        let heap = &self.bytes[self.strings.clone()];
        let i = index as usize;
        if i >= heap.len() {
            return Err(MetadataError::BadHeapIndex {
                heap: "#Strings",
                index,
                size: heap.len(),
            });
        }
        let rest = &heap[i..];
        let Some(nul) = rest.iter().position(|&c| c == 0) else {
            return Err(MetadataError::BadString {
                index,
                detail: "not NUL-terminated",
            });
        };
        std::str::from_utf8(&rest[..nul]).map_err(|_| MetadataError::BadString {
            index,
            detail: "not UTF-8",
        })
    }

    /// The `#Blob` entry at `index` (without its length prefix).
    pub fn blob(&self, index: u32) -> Result<&[u8]> {
        let heap = &self.bytes[self.blob.clone()];
        let bad = || MetadataError::BadHeapIndex {
            heap: "#Blob",
            index,
            size: heap.len(),
        };
        let rest = heap.get(index as usize..).ok_or_else(bad)?;
        let (len, n) = decode_compressed(rest).ok_or_else(bad)?;
        rest.get(n..n + len as usize).ok_or_else(bad)
    }

    /// The `#GUID` entry at `index` (1-based; `None` for 0).
    pub fn guid(&self, index: u32) -> Result<Option<[u8; 16]>> {
        if index == 0 {
            return Ok(None);
        }
        let heap = &self.bytes[self.guid.clone()];
        let g = (index as usize - 1)
            .checked_mul(16)
            .and_then(|start| heap.get(start..start.checked_add(16)?))
            .ok_or(MetadataError::BadHeapIndex {
                heap: "#GUID",
                index,
                size: heap.len(),
            })?;
        let mut out = [0u8; 16];
        out.copy_from_slice(g);
        Ok(Some(out))
    }

    /// The `#US` (user string) entry at `index`, decoded from UTF-16.
    pub fn user_string(&self, index: u32) -> Result<String> {
        let heap = &self.bytes[self.user_strings.clone()];
        let bad = || MetadataError::BadHeapIndex {
            heap: "#US",
            index,
            size: heap.len(),
        };
        let rest = heap.get(index as usize..).ok_or_else(bad)?;
        let (len, n) = decode_compressed(rest).ok_or_else(bad)?;
        let data = rest.get(n..n + len as usize).ok_or_else(bad)?;
        // The last byte is a flag, not a character.
        let units: Vec<u16> = data
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        Ok(String::from_utf16_lossy(&units))
    }

    /// The Module row's name (`DumpLab.dll`).
    pub fn module_name(&self) -> Result<&str> {
        self.check_rid(TableId::Module, 1)?;
        self.string(self.cell_unchecked(TableId::Module, 1, 1))
    }

    /// The Module row's MVID.
    pub fn module_mvid(&self) -> Result<Option<[u8; 16]>> {
        self.check_rid(TableId::Module, 1)?;
        self.guid(self.cell_unchecked(TableId::Module, 1, 2))
    }

    /// The Assembly row, if the metadata has one (a netmodule has none).
    pub fn assembly(&self) -> Result<Option<AssemblyDef<'_>>> {
        if self.row_count(TableId::Assembly) == 0 {
            return Ok(None);
        }
        let c = |col| self.cell_unchecked(TableId::Assembly, 1, col);
        Ok(Some(AssemblyDef {
            hash_alg_id: c(0),
            version: (c(1) as u16, c(2) as u16, c(3) as u16, c(4) as u16),
            flags: c(5),
            public_key: self.blob(c(6))?,
            name: self.string(c(7))?,
            culture: self.string(c(8))?,
        }))
    }

    /// The assembly's simple name, if the metadata has an Assembly row.
    pub fn assembly_name(&self) -> Result<Option<&str>> {
        Ok(self.assembly()?.map(|a| a.name))
    }

    /// Rows in the TypeDef table (row 1 is `<Module>`).
    pub fn type_def_count(&self) -> u32 {
        self.row_count(TableId::TypeDef)
    }

    /// TypeDef row `rid`.
    pub fn type_def(&self, rid: u32) -> Result<TypeDef<'_>> {
        self.check_rid(TableId::TypeDef, rid)?;
        let c = |col| self.cell_unchecked(TableId::TypeDef, rid, col);
        Ok(TypeDef {
            rid,
            flags: c(0),
            name: self.string(c(1))?,
            namespace: self.string(c(2))?,
            extends: self.coded(CodedIndex::TypeDefOrRef, c(3)),
            field_list: c(4),
            method_list: c(5),
        })
    }

    /// TypeRef row `rid`.
    pub fn type_ref(&self, rid: u32) -> Result<TypeRef<'_>> {
        self.check_rid(TableId::TypeRef, rid)?;
        let c = |col| self.cell_unchecked(TableId::TypeRef, rid, col);
        Ok(TypeRef {
            resolution_scope: self.coded(CodedIndex::ResolutionScope, c(0)),
            name: self.string(c(1))?,
            namespace: self.string(c(2))?,
        })
    }

    /// First row in `table` (1-based) whose column `col` is `>= key` (binary
    /// search: the table must be sorted by that column); `rows + 1` if none.
    fn lower_bound(&self, table: TableId, col: usize, key: u32) -> u32 {
        let (mut lo, mut hi) = (1u32, self.row_count(table) + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.cell_unchecked(table, mid, col) < key {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    fn is_sorted(&self, table: TableId) -> bool {
        self.sorted & (1 << table as u32) != 0
    }

    /// Rows of `table` whose column `col` equals `key` (binary search when
    /// the table is marked sorted, a scan otherwise).
    fn rows_with(&self, table: TableId, col: usize, key: u32) -> Vec<u32> {
        let rows = self.row_count(table);
        if self.is_sorted(table) {
            let mut r = self.lower_bound(table, col, key);
            let mut out = Vec::new();
            while r <= rows && self.cell_unchecked(table, r, col) == key {
                out.push(r);
                r += 1;
            }
            out
        } else {
            (1..=rows)
                .filter(|&r| self.cell_unchecked(table, r, col) == key)
                .collect()
        }
    }

    /// The TypeDef enclosing TypeDef `rid` (NestedClass), if it is nested.
    pub fn enclosing_type(&self, rid: u32) -> Option<u32> {
        if rid == 0 {
            return None;
        }
        let table = TableId::NestedClass;
        let rows = self.row_count(table);
        let r = if self.is_sorted(table) {
            let r = self.lower_bound(table, 0, rid);
            (r <= rows && self.cell_unchecked(table, r, 0) == rid).then_some(r)
        } else {
            (1..=rows).find(|&r| self.cell_unchecked(table, r, 0) == rid)
        }?;
        Some(self.cell_unchecked(table, r, 1))
    }

    /// The TypeDefs nested directly in TypeDef `rid`.
    pub fn nested_types(&self, rid: u32) -> Vec<u32> {
        let table = TableId::NestedClass;
        (1..=self.row_count(table))
            .filter(|&r| self.cell_unchecked(table, r, 1) == rid)
            .map(|r| self.cell_unchecked(table, r, 0))
            .collect()
    }

    /// The GenericParam rows owned by `owner` (a TypeDef or MethodDef).
    pub fn generic_params_of(&self, owner: TableId, rid: u32) -> Vec<u32> {
        match CodedIndex::TypeOrMethodDef.encode(owner, rid) {
            Some(key) if rid != 0 => self.rows_with(TableId::GenericParam, 2, key),
            _ => Vec::new(),
        }
    }

    /// The number of generic parameters of TypeDef `rid` (0 when not
    /// generic). Nested types of generic types repeat their outer types'
    /// parameters, as the metadata lists them.
    pub fn generic_param_count(&self, rid: u32) -> u32 {
        self.generic_params_of(TableId::TypeDef, rid).len() as u32
    }

    /// GenericParam row `rid`.
    pub fn generic_param(&self, rid: u32) -> Result<GenericParam<'_>> {
        self.check_rid(TableId::GenericParam, rid)?;
        let c = |col| self.cell_unchecked(TableId::GenericParam, rid, col);
        Ok(GenericParam {
            number: c(0) as u16,
            flags: c(1) as u16,
            owner: self.coded(CodedIndex::TypeOrMethodDef, c(2)),
            name: self.string(c(3))?,
        })
    }

    /// The positions of TypeDef `rid`'s fields in the field list: from its
    /// `FieldList` to the next TypeDef's (or the end), clamped to the list.
    ///
    /// The positions are Field row numbers, unless the metadata has a
    /// `FieldPtr` table (only unoptimized `#-` metadata may): then map each
    /// through [`Metadata::field_list_entry`] — [`Metadata::type_fields`]
    /// does both.
    pub fn fields(&self, rid: u32) -> Range<u32> {
        let list = if self.row_count(TableId::FieldPtr) > 0 {
            TableId::FieldPtr
        } else {
            TableId::Field
        };
        self.list_range(rid, 4, list)
    }

    /// The positions of TypeDef `rid`'s methods in the method list (see
    /// [`Metadata::fields`]; `MethodPtr` plays the part of `FieldPtr`).
    pub fn methods(&self, rid: u32) -> Range<u32> {
        let list = if self.row_count(TableId::MethodPtr) > 0 {
            TableId::MethodPtr
        } else {
            TableId::MethodDef
        };
        self.list_range(rid, 5, list)
    }

    fn list_range(&self, rid: u32, col: usize, list: TableId) -> Range<u32> {
        let types = self.type_def_count();
        let end_all = self.row_count(list) + 1;
        if rid == 0 || rid > types {
            return end_all..end_all;
        }
        let clamp = |v: u32| v.clamp(1, end_all);
        let start = clamp(self.cell_unchecked(TableId::TypeDef, rid, col));
        let end = if rid < types {
            clamp(self.cell_unchecked(TableId::TypeDef, rid + 1, col))
        } else {
            end_all
        };
        start..end.max(start)
    }

    /// The Field row at position `pos` of the field list (through `FieldPtr`
    /// when there is one).
    pub fn field_list_entry(&self, pos: u32) -> u32 {
        if self.row_count(TableId::FieldPtr) > 0 {
            self.cell(TableId::FieldPtr, pos, 0).unwrap_or(0)
        } else {
            pos
        }
    }

    /// The Field rows of TypeDef `rid`.
    pub fn type_fields(&self, rid: u32) -> impl Iterator<Item = u32> + '_ {
        self.fields(rid).map(|p| self.field_list_entry(p))
    }

    /// Field row `rid`.
    pub fn field(&self, rid: u32) -> Result<Field<'_>> {
        self.check_rid(TableId::Field, rid)?;
        let c = |col| self.cell_unchecked(TableId::Field, rid, col);
        Ok(Field {
            rid,
            flags: c(0) as u16,
            name: self.string(c(1))?,
            signature: self.blob(c(2))?,
        })
    }

    /// True when Field `rid` is static.
    pub fn field_is_static(&self, rid: u32) -> Result<bool> {
        self.check_rid(TableId::Field, rid)?;
        Ok(self.cell_unchecked(TableId::Field, rid, 0) as u16 & FIELD_STATIC != 0)
    }

    /// The type of Field `rid`, from its signature.
    pub fn field_type(&self, rid: u32) -> Result<FieldType> {
        self.check_rid(TableId::Field, rid)?;
        let index = self.cell_unchecked(TableId::Field, rid, 2);
        let blob = self.blob(index)?;
        sig::parse_field_sig(blob).map_err(|e| MetadataError::BadSignatureBlob {
            index,
            offset: e.offset,
            detail: e.detail,
        })
    }

    /// The full name of TypeDef `rid`: `Namespace.Name`, nested types as
    /// `Namespace.Outer+Inner` (the namespace from the outermost type), as
    /// the runtime, SOS and ClrMD write them. Generic types keep their
    /// `` `N `` suffix (`DumpLab.GenericBox`1`).
    pub fn full_type_name(&self, rid: u32) -> Result<String> {
        let mut chain = vec![self.type_def(rid)?];
        let mut cur = rid;
        while let Some(outer) = self.enclosing_type(cur) {
            if chain.len() > MAX_NESTING {
                return Err(MetadataError::NestingTooDeep { rid });
            }
            chain.push(self.type_def(outer)?);
            cur = outer;
        }
        Ok(nested_name(chain.iter().map(|t| (t.namespace, t.name))))
    }

    /// The full name of TypeRef `rid` (`Namespace.Name`, nested TypeRefs as
    /// `Outer+Inner` through their TypeRef resolution scopes).
    pub fn type_ref_full_name(&self, rid: u32) -> Result<String> {
        let mut chain = vec![self.type_ref(rid)?];
        while let Some(scope) = chain.last().map(|t| t.resolution_scope) {
            if scope.table() != Some(TableId::TypeRef) || scope.is_null() {
                break;
            }
            if chain.len() > MAX_NESTING {
                return Err(MetadataError::NestingTooDeep { rid });
            }
            chain.push(self.type_ref(scope.rid())?);
        }
        Ok(nested_name(chain.iter().map(|t| (t.namespace, t.name))))
    }

    /// The interfaces TypeDef `rid` declares it implements (its
    /// `InterfaceImpl` rows, in table order): TypeDef, TypeRef or TypeSpec
    /// tokens.
    pub fn interface_impls(&self, rid: u32) -> Vec<Token> {
        if rid == 0 {
            return Vec::new();
        }
        self.rows_with(TableId::InterfaceImpl, 0, rid)
            .into_iter()
            .map(|r| {
                let v = self.cell_unchecked(TableId::InterfaceImpl, r, 1);
                self.coded(CodedIndex::TypeDefOrRef, v)
            })
            .collect()
    }

    /// The name of a TypeDef, TypeRef or TypeSpec token as a base type or
    /// an interface is named by its definition: `Namespace.Name` with the
    /// `` `N `` arity of a generic type; a TypeSpec that instantiates a
    /// generic type (``IList`1<T>``) gives the generic type's name
    /// (``System.Collections.Generic.IList`1``).
    pub fn type_def_or_ref_name(&self, token: Token) -> Result<String> {
        match token.table() {
            Some(TableId::TypeDef) => self.full_type_name(token.rid()),
            Some(TableId::TypeRef) => self.type_ref_full_name(token.rid()),
            Some(TableId::TypeSpec) => {
                self.check_rid(TableId::TypeSpec, token.rid())?;
                let index = self.cell_unchecked(TableId::TypeSpec, token.rid(), 0);
                let blob = self.blob(index)?;
                let bad = |offset: usize, detail: &'static str| MetadataError::BadSignatureBlob {
                    index,
                    offset,
                    detail,
                };
                let mut r = sig::SigReader::new(blob);
                let e = r.u8().map_err(|e| bad(e.offset, e.detail))?;
                if e != sig::element_type::GENERICINST {
                    return Err(bad(0, "a TypeSpec that is not a generic instantiation"));
                }
                r.u8().map_err(|e| bad(e.offset, e.detail))?;
                let def = r.type_token().map_err(|e| bad(e.offset, e.detail))?;
                if def.table() == Some(TableId::TypeSpec) {
                    return Err(bad(2, "a generic instantiation of a TypeSpec"));
                }
                self.type_def_or_ref_name(def)
            }
            _ => Err(MetadataError::BadSignatureBlob {
                index: token.0,
                offset: 0,
                detail: "not a TypeDef, TypeRef or TypeSpec token",
            }),
        }
    }

    /// The namespace of TypeDef `rid`: its own, or its outermost enclosing
    /// type's for a nested type.
    pub fn type_namespace(&self, rid: u32) -> Result<&str> {
        let mut cur = rid;
        let mut steps = 0;
        while let Some(outer) = self.enclosing_type(cur) {
            steps += 1;
            if steps > MAX_NESTING {
                return Err(MetadataError::NestingTooDeep { rid });
            }
            cur = outer;
        }
        Ok(self.type_def(cur)?.namespace)
    }

    /// The TypeDef whose full name ([`Metadata::full_type_name`]) is `name`
    /// (a scan of all TypeDefs).
    pub fn find_type_def(&self, name: &str) -> Option<u32> {
        (1..=self.type_def_count()).find(|&rid| {
            let Ok(t) = self.type_def(rid) else {
                return false;
            };
            // Cheap pre-check before building the full name.
            name.ends_with(t.name) && self.full_type_name(rid).is_ok_and(|n| n == name)
        })
    }
}

/// `Namespace.Outer+Inner` from `(namespace, name)` pairs, innermost
/// first (the namespace is the outermost type's).
fn nested_name<'a>(chain: impl DoubleEndedIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (i, (namespace, name)) in chain.rev().enumerate() {
        if i == 0 && !namespace.is_empty() {
            out.push_str(namespace);
            out.push('.');
        }
        if i > 0 {
            out.push('+');
        }
        out.push_str(name);
    }
    out
}

#[cfg(test)]
mod tests;
