//! The resource directory and the version resource.

use crate::{le16, le32, PeError, PeImage, DIR_RESOURCE};

/// Resource type `RT_RCDATA` (raw data; the DAC table of .NET ≤ 6).
pub const RT_RCDATA: u16 = 10;
/// Resource type `RT_VERSION`.
pub const RT_VERSION: u16 = 16;
/// Most entries one resource directory may declare.
const MAX_DIR_ENTRIES: u32 = 4096;
/// Largest resource [`PeImage::resource_bytes`] returns.
pub const MAX_RESOURCE_SIZE: u32 = 16 << 20;
/// Largest version resource parsed.
const MAX_VERSION_SIZE: u32 = 64 << 10;

/// The type or name of a resource: a number or a string.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResourceId {
    /// A numeric id (`MAKEINTRESOURCE`).
    Id(u16),
    /// A name (compared case-insensitively, as `FindResource` does).
    Name(String),
}

impl From<u16> for ResourceId {
    fn from(id: u16) -> Self {
        ResourceId::Id(id)
    }
}

impl From<&str> for ResourceId {
    fn from(name: &str) -> Self {
        ResourceId::Name(name.to_owned())
    }
}

/// Where a resource's data is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceData {
    /// RVA of the data.
    pub rva: u32,
    /// Its size.
    pub size: u32,
    /// The code page recorded for it.
    pub code_page: u32,
    /// The language id of the entry found.
    pub language: u16,
}

/// A `(major, minor, build, revision)` version, shown `a.b.c.d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct FourPartVersion {
    /// Major.
    pub major: u16,
    /// Minor.
    pub minor: u16,
    /// Build.
    pub build: u16,
    /// Revision.
    pub revision: u16,
}

impl FourPartVersion {
    /// From the `MS`/`LS` double word pair of `VS_FIXEDFILEINFO`.
    pub fn from_ms_ls(ms: u32, ls: u32) -> Self {
        FourPartVersion {
            major: (ms >> 16) as u16,
            minor: ms as u16,
            build: (ls >> 16) as u16,
            revision: ls as u16,
        }
    }
}

impl std::fmt::Display for FourPartVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}.{}.{}",
            self.major, self.minor, self.build, self.revision
        )
    }
}

/// What the version resource (`VS_VERSIONINFO`) says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionInfo {
    /// `VS_FIXEDFILEINFO` file version (e.g. `8.0.424.16909` for .NET 8.0.4's
    /// `coreclr.dll`).
    pub file_version: FourPartVersion,
    /// `VS_FIXEDFILEINFO` product version.
    pub product_version: FourPartVersion,
    /// `dwFileFlags & dwFileFlagsMask`.
    pub file_flags: u32,
    /// The strings of the first `StringFileInfo` table, `(key, value)` in
    /// order (`ProductVersion`, `FileVersion`, `CompanyName`…).
    pub strings: Vec<(String, String)>,
}

impl VersionInfo {
    /// The string called `key` (exact match).
    pub fn string(&self, key: &str) -> Option<&str> {
        self.strings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The `ProductVersion` string (e.g. `8.0.4+2d7eea25…` for .NET).
    pub fn product_version_string(&self) -> Option<&str> {
        self.string("ProductVersion")
    }

    /// Parses a `VS_VERSIONINFO` block.
    pub fn parse(b: &[u8]) -> Result<VersionInfo, PeError> {
        let bad = |at: usize, detail: &str| PeError::Malformed {
            what: "version resource",
            at: at as u64,
            detail: format!("{detail} (offset in the resource)"),
        };
        let root = Block::parse(b, 0).ok_or_else(|| bad(0, "bad VS_VERSIONINFO header"))?;
        if root.key != "VS_VERSION_INFO" {
            return Err(bad(0, "key is not VS_VERSION_INFO"));
        }
        let v = &b[root.value.clone()];
        if v.len() < 52 || le32(v, 0) != 0xFEEF_04BD {
            return Err(bad(root.value.start, "no VS_FIXEDFILEINFO"));
        }
        let mut info = VersionInfo {
            file_version: FourPartVersion::from_ms_ls(le32(v, 8), le32(v, 12)),
            product_version: FourPartVersion::from_ms_ls(le32(v, 16), le32(v, 20)),
            file_flags: le32(v, 28) & le32(v, 24),
            strings: Vec::new(),
        };
        for sfi in root.children(b) {
            if sfi.key != "StringFileInfo" {
                continue;
            }
            if let Some(table) = sfi.children(b).next() {
                for s in table.children(b) {
                    let value = utf16z(&b[s.value.clone()]);
                    info.strings.push((s.key, value));
                }
                break;
            }
        }
        Ok(info)
    }
}

/// One node of the version resource tree.
struct Block {
    key: String,
    value: std::ops::Range<usize>,
    children: std::ops::Range<usize>,
}

fn align4(x: usize) -> usize {
    (x + 3) & !3
}

fn utf16z(b: &[u8]) -> String {
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| le16(c, 0))
        .take_while(|&u| u != 0)
        .collect();
    String::from_utf16_lossy(&units)
}

impl Block {
    /// The block at `at`, bounded by `b`.
    fn parse(b: &[u8], at: usize) -> Option<Block> {
        if at + 6 > b.len() {
            return None;
        }
        let len = usize::from(le16(b, at));
        let value_len = usize::from(le16(b, at + 2));
        let kind = le16(b, at + 4);
        let end = at.checked_add(len)?;
        if len < 6 || end > b.len() {
            return None;
        }
        let mut p = at + 6;
        let key_start = p;
        while p + 2 <= end && le16(b, p) != 0 {
            p += 2;
        }
        if p + 2 > end {
            return None;
        }
        let key = utf16z(&b[key_start..p]);
        let value_start = align4(p + 2).min(end);
        // Text values count UTF-16 units, binary ones bytes.
        let value_bytes = if kind == 1 { value_len * 2 } else { value_len };
        let value_end = value_start.saturating_add(value_bytes).min(end);
        Some(Block {
            key,
            value: value_start..value_end,
            children: align4(value_end).min(end)..end,
        })
    }

    fn children<'b>(&self, b: &'b [u8]) -> impl Iterator<Item = Block> + 'b {
        let mut p = self.children.start;
        let end = self.children.end;
        std::iter::from_fn(move || {
            if p >= end {
                return None;
            }
            let child = Block::parse(&b[..end], p)?;
            let len = usize::from(le16(b, p));
            p = align4(p + len);
            Some(child)
        })
    }
}

impl PeImage<'_> {
    /// Reads one directory of the resource tree: `(id, offset_to_data)`
    /// pairs, `offset_to_data` with its high "subdirectory" bit.
    fn resource_dir(&self, root: u32, offset: u32) -> Result<Vec<(ResourceId, u32)>, PeError> {
        let rva = root.wrapping_add(offset);
        let mut h = [0u8; 16];
        self.read_rva("resource directory", rva, &mut h)?;
        let n = u32::from(le16(&h, 12)) + u32::from(le16(&h, 14));
        if n > MAX_DIR_ENTRIES {
            return Err(PeError::TooLarge {
                what: "resource directory",
                size: u64::from(n) * 8,
                cap: u64::from(MAX_DIR_ENTRIES) * 8,
            });
        }
        let e = self.read_rva_vec(
            "resource directory entries",
            rva.wrapping_add(16),
            u64::from(n) * 8,
            u64::from(MAX_DIR_ENTRIES) * 8,
        )?;
        let mut out = Vec::with_capacity(n as usize);
        for c in e.chunks_exact(8) {
            let name = le32(c, 0);
            let id = if name & 0x8000_0000 != 0 {
                let srva = root.wrapping_add(name & 0x7FFF_FFFF);
                let mut l = [0u8; 2];
                self.read_rva("resource name", srva, &mut l)?;
                let chars = self.read_rva_vec(
                    "resource name",
                    srva.wrapping_add(2),
                    u64::from(le16(&l, 0)) * 2,
                    0x2_0000,
                )?;
                let units: Vec<u16> = chars.chunks_exact(2).map(|c| le16(c, 0)).collect();
                ResourceId::Name(String::from_utf16_lossy(&units))
            } else {
                ResourceId::Id(name as u16)
            };
            out.push((id, le32(c, 4)));
        }
        Ok(out)
    }

    /// The resource of type `kind` called `name` (first language found).
    ///
    /// E.g. `find_resource(&RT_RCDATA.into(), &"COREXTERNALDATAACCESSRESOURCE".into())`.
    pub fn find_resource(
        &self,
        kind: &ResourceId,
        name: &ResourceId,
    ) -> Result<Option<ResourceData>, PeError> {
        let Some(dir) = self.headers().directory(DIR_RESOURCE) else {
            return Ok(None);
        };
        let root = dir.rva;
        let matches = |id: &ResourceId, want: &ResourceId| match (id, want) {
            (ResourceId::Id(a), ResourceId::Id(b)) => a == b,
            (ResourceId::Name(a), ResourceId::Name(b)) => a.eq_ignore_ascii_case(b),
            _ => false,
        };
        let subdir = |off: u32| (off & 0x8000_0000 != 0).then_some(off & 0x7FFF_FFFF);
        let Some(types) = self
            .resource_dir(root, 0)?
            .into_iter()
            .find(|(id, _)| matches(id, kind))
            .and_then(|(_, off)| subdir(off))
        else {
            return Ok(None);
        };
        let Some(names) = self
            .resource_dir(root, types)?
            .into_iter()
            .find(|(id, _)| matches(id, name))
            .and_then(|(_, off)| subdir(off))
        else {
            return Ok(None);
        };
        let Some((lang, entry)) = self
            .resource_dir(root, names)?
            .into_iter()
            .find(|(_, off)| off & 0x8000_0000 == 0)
        else {
            return Ok(None);
        };
        let mut d = [0u8; 16];
        self.read_rva("resource data entry", root.wrapping_add(entry), &mut d)?;
        Ok(Some(ResourceData {
            rva: le32(&d, 0),
            size: le32(&d, 4),
            code_page: le32(&d, 8),
            language: match lang {
                ResourceId::Id(l) => l,
                ResourceId::Name(_) => 0,
            },
        }))
    }

    /// The bytes of a resource (at most [`MAX_RESOURCE_SIZE`]).
    pub fn read_resource(&self, res: &ResourceData) -> Result<Vec<u8>, PeError> {
        self.read_rva_vec(
            "resource data",
            res.rva,
            u64::from(res.size),
            u64::from(MAX_RESOURCE_SIZE),
        )
    }

    /// The bytes of the resource of type `kind` called `name`, if present.
    pub fn resource_bytes(
        &self,
        kind: &ResourceId,
        name: &ResourceId,
    ) -> Result<Option<Vec<u8>>, PeError> {
        match self.find_resource(kind, name)? {
            Some(r) => Ok(Some(self.read_resource(&r)?)),
            None => Ok(None),
        }
    }

    /// The version resource (`RT_VERSION` id 1), if present.
    pub fn version_info(&self) -> Result<Option<VersionInfo>, PeError> {
        let Some(r) = self.find_resource(&RT_VERSION.into(), &ResourceId::Id(1))? else {
            return Ok(None);
        };
        if r.size > MAX_VERSION_SIZE {
            return Err(PeError::TooLarge {
                what: "version resource",
                size: r.size.into(),
                cap: MAX_VERSION_SIZE.into(),
            });
        }
        let b = self.read_resource(&r)?;
        VersionInfo::parse(&b).map(Some)
    }
}
