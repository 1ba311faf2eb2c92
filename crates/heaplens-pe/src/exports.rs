//! The export directory.

use crate::{le16, le32, PeError, PeImage, DIR_EXPORT};

/// Most functions or names an export directory may declare.
pub const MAX_EXPORTS: u32 = 1 << 18;
/// Longest export name read.
const MAX_NAME: usize = 4096;

/// One exported symbol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Export {
    /// Its name (`None` for an export by ordinal only).
    pub name: Option<String>,
    /// Its ordinal (biased by the directory's `Base`).
    pub ordinal: u32,
    /// Its RVA (for a forwarder, the RVA of the forwarder string).
    pub rva: u32,
    /// `"DLL.Name"` when the export forwards to another DLL.
    pub forwarder: Option<String>,
}

struct Directory {
    dir_rva: u32,
    dir_size: u32,
    name_rva: u32,
    base: u32,
    n_functions: u32,
    n_names: u32,
    functions: u32,
    names: u32,
    ordinals: u32,
}

fn directory(image: &PeImage<'_>) -> Result<Option<Directory>, PeError> {
    let Some(dir) = image.headers().directory(DIR_EXPORT) else {
        return Ok(None);
    };
    let mut b = [0u8; 40];
    image.read_rva("export directory", dir.rva, &mut b)?;
    let d = Directory {
        dir_rva: dir.rva,
        dir_size: dir.size,
        name_rva: le32(&b, 12),
        base: le32(&b, 16),
        n_functions: le32(&b, 20),
        n_names: le32(&b, 24),
        functions: le32(&b, 28),
        names: le32(&b, 32),
        ordinals: le32(&b, 36),
    };
    for (what, n) in [
        ("export address table", d.n_functions),
        ("export name table", d.n_names),
    ] {
        if n > MAX_EXPORTS {
            return Err(PeError::TooLarge {
                what,
                size: u64::from(n) * 4,
                cap: u64::from(MAX_EXPORTS) * 4,
            });
        }
    }
    Ok(Some(d))
}

/// The layout probe: the directory's name is a short printable string past
/// the headers, and it has functions and tables inside the image.
pub(crate) fn probe(image: &PeImage<'_>) -> Result<bool, PeError> {
    let Some(d) = directory(image)? else {
        return Ok(false);
    };
    // An all-zero directory (read from the wrong place) must not pass: its
    // name RVA 0 would point at "MZ".
    let headers = image.headers().size_of_headers;
    if d.name_rva < headers || d.n_functions == 0 || d.functions < headers {
        return Ok(false);
    }
    let name = image.read_cstr_rva("export DLL name", d.name_rva, 260)?;
    if name.is_empty() || !name.bytes().all(|c| (0x20..0x7F).contains(&c)) {
        return Ok(false);
    }
    if d.n_names > d.n_functions {
        return Ok(false);
    }
    let fits = |rva: u32, n: u32, w: u64| {
        n == 0
            || image
                .rva_range("export table", rva, u64::from(n) * w)
                .is_ok()
    };
    Ok(fits(d.functions, d.n_functions, 4)
        && fits(d.names, d.n_names, 4)
        && fits(d.ordinals, d.n_names, 2))
}

fn read_u32s(
    image: &PeImage<'_>,
    what: &'static str,
    rva: u32,
    n: u32,
) -> Result<Vec<u32>, PeError> {
    let b = image.read_rva_vec(what, rva, u64::from(n) * 4, u64::from(MAX_EXPORTS) * 4)?;
    Ok(b.chunks_exact(4).map(|c| le32(c, 0)).collect())
}

fn read_u16s(
    image: &PeImage<'_>,
    what: &'static str,
    rva: u32,
    n: u32,
) -> Result<Vec<u16>, PeError> {
    let b = image.read_rva_vec(what, rva, u64::from(n) * 2, u64::from(MAX_EXPORTS) * 2)?;
    Ok(b.chunks_exact(2).map(|c| le16(c, 0)).collect())
}

impl Directory {
    fn is_forwarder(&self, rva: u32) -> bool {
        rva >= self.dir_rva && rva - self.dir_rva < self.dir_size
    }
}

impl PeImage<'_> {
    /// The DLL name recorded in the export directory, if the image has one.
    pub fn export_dll_name(&self) -> Result<Option<String>, PeError> {
        match directory(self)? {
            Some(d) => Ok(Some(self.read_cstr_rva(
                "export DLL name",
                d.name_rva,
                260,
            )?)),
            None => Ok(None),
        }
    }

    /// Every export, in address-table order.
    pub fn exports(&self) -> Result<Vec<Export>, PeError> {
        let Some(d) = directory(self)? else {
            return Ok(Vec::new());
        };
        let functions = read_u32s(self, "export address table", d.functions, d.n_functions)?;
        let names = read_u32s(self, "export name table", d.names, d.n_names)?;
        let ordinals = read_u16s(self, "export ordinal table", d.ordinals, d.n_names)?;
        let mut by_index: Vec<Option<String>> = vec![None; functions.len()];
        for (&name_rva, &idx) in names.iter().zip(&ordinals) {
            if let Some(slot) = by_index.get_mut(usize::from(idx)) {
                if slot.is_none() {
                    *slot = Some(self.read_cstr_rva("export name", name_rva, MAX_NAME)?);
                }
            }
        }
        let mut out = Vec::new();
        for (i, (&rva, name)) in functions.iter().zip(by_index).enumerate() {
            if rva == 0 {
                continue;
            }
            let forwarder = if d.is_forwarder(rva) {
                Some(self.read_cstr_rva("export forwarder", rva, MAX_NAME)?)
            } else {
                None
            };
            out.push(Export {
                name,
                ordinal: d.base.wrapping_add(i as u32),
                rva,
                forwarder,
            });
        }
        Ok(out)
    }

    /// The RVA of the export called `name` (binary search of the sorted name
    /// table, as the Windows loader does). Forwarders are not followed:
    /// `None` for them, as for a missing name.
    pub fn find_export_rva(&self, name: &str) -> Result<Option<u32>, PeError> {
        let Some(d) = directory(self)? else {
            return Ok(None);
        };
        if d.n_names == 0 {
            return Ok(None);
        }
        let names = read_u32s(self, "export name table", d.names, d.n_names)?;
        let (mut lo, mut hi) = (0usize, names.len());
        let mut found = None;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let candidate = self.read_cstr_rva("export name", names[mid], MAX_NAME)?;
            match candidate.as_bytes().cmp(name.as_bytes()) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    found = Some(mid);
                    break;
                }
            }
        }
        let Some(i) = found else {
            return Ok(None);
        };
        let mut b = [0u8; 2];
        self.read_rva(
            "export ordinal table",
            d.ordinals.wrapping_add(2 * i as u32),
            &mut b,
        )?;
        let index = u32::from(le16(&b, 0));
        if index >= d.n_functions {
            return Err(PeError::Malformed {
                what: "export ordinal table",
                at: u64::from(d.ordinals),
                detail: format!("{name}: index {index} >= {} functions (RVA)", d.n_functions),
            });
        }
        let mut b = [0u8; 4];
        self.read_rva(
            "export address table",
            d.functions.wrapping_add(4 * index),
            &mut b,
        )?;
        let rva = le32(&b, 0);
        Ok((rva != 0 && !d.is_forwarder(rva)).then_some(rva))
    }

    /// The address of the export called `name` (e.g. `g_dacTable`,
    /// `DotNetRuntimeContractDescriptor` in `coreclr.dll`).
    ///
    /// The address is where the export's bytes are under the image's layout:
    /// for a loaded image the symbol's run-time address, for a flat image
    /// where its initial bytes are in the file (`None` when it is in
    /// zero-filled data, which a file does not hold).
    pub fn find_export(&self, name: &str) -> Result<Option<u64>, PeError> {
        Ok(self
            .find_export_rva(name)?
            .and_then(|rva| self.rva_to_va(rva)))
    }
}
