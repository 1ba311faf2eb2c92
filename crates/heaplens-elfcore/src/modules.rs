//! Files mapped into the process, grouped by path.

use crate::MappedFile;

/// All the mappings of one file, from the `NT_FILE` note.
///
/// A native library (`libcoreclr.so`) is one ELF image: its mapping of
/// file offset 0 holds the ELF header, at [`Module::base`]. A managed
/// assembly is often mapped more than once (.NET maps the file flat and
/// again as a loaded image, and the image's first section may be mapped
/// from offset 0 as well), so it can have several
/// [`Module::header_addresses`]; which one is which is for a PE reader to
/// tell. In a single-file app, the bundled assemblies are mappings of the
/// app's own file at non-zero offsets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Module {
    /// The file's path, as in the note.
    pub path: String,
    /// The lowest start address of a mapping of file offset 0 (where the
    /// file's first bytes, its header, are), or `None` if no mapping covers
    /// the start of the file.
    pub base: Option<u64>,
    /// The lowest address of any mapping of the file.
    pub start: u64,
    /// One past the highest address of any mapping of the file.
    pub end: u64,
    /// The file's mappings, by start address.
    pub mappings: Vec<MappedFile>,
}

impl Module {
    /// The last component of the path, without a ` (deleted)` suffix.
    pub fn file_name(&self) -> &str {
        let p = self.path.strip_suffix(" (deleted)").unwrap_or(&self.path);
        p.rsplit('/').next().unwrap_or(p)
    }

    /// The start addresses of all mappings of file offset 0, ascending.
    pub fn header_addresses(&self) -> impl Iterator<Item = u64> + '_ {
        self.mappings
            .iter()
            .filter(|m| m.file_offset == 0)
            .map(|m| m.start)
    }

    /// True when `addr` lies in one of the file's mappings.
    pub fn contains(&self, addr: u64) -> bool {
        self.mappings
            .iter()
            .any(|m| addr >= m.start && addr < m.end)
    }

    /// Bytes of address space mapped from the file (all mappings added up).
    pub fn mapped_size(&self) -> u64 {
        self.mappings.iter().map(MappedFile::size).sum()
    }
}

/// Groups mappings by path; modules are sorted by `start`.
pub(crate) fn group(files: &[MappedFile]) -> Vec<Module> {
    let mut sorted: Vec<&MappedFile> = files.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path).then(a.start.cmp(&b.start)));
    let mut modules: Vec<Module> = Vec::new();
    for f in sorted {
        match modules.last_mut() {
            Some(m) if m.path == f.path => {
                m.end = m.end.max(f.end);
                if f.file_offset == 0 && m.base.is_none() {
                    m.base = Some(f.start);
                }
                m.mappings.push(f.clone());
            }
            _ => modules.push(Module {
                path: f.path.clone(),
                base: (f.file_offset == 0).then_some(f.start),
                start: f.start,
                end: f.end,
                mappings: vec![f.clone()],
            }),
        }
    }
    modules.sort_by_key(|m| (m.start, m.end));
    modules
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(start: u64, end: u64, file_offset: u64, path: &str) -> MappedFile {
        MappedFile {
            start,
            end,
            file_offset,
            path: path.into(),
        }
    }

    #[test]
    fn groups_by_path_with_the_lowest_header_mapping_as_base() {
        let files = [
            f(0x7000, 0x8000, 0, "/x/libcoreclr.so"),
            f(0x8000, 0x9000, 0x1000, "/x/libcoreclr.so"),
            f(0x3000, 0x3100, 0x2000, "/app/single"),
            f(0x5000, 0x6000, 0, "/app/single"),
            f(0x1000, 0x2000, 0, "/x/A.dll"),
            f(0x4000, 0x4100, 0, "/x/A.dll"),
            f(0x4100, 0x4200, 0x100, "/x/A.dll"),
            f(0xa000, 0xb000, 0x5000, "/memfd:doublemapper (deleted)"),
        ];
        let m = group(&files);
        let names: Vec<&str> = m.iter().map(Module::file_name).collect();
        assert_eq!(
            names,
            ["A.dll", "single", "libcoreclr.so", "memfd:doublemapper"]
        );
        assert_eq!(m[0].base, Some(0x1000));
        assert_eq!((m[0].start, m[0].end), (0x1000, 0x4200));
        assert_eq!(
            m[0].header_addresses().collect::<Vec<_>>(),
            [0x1000, 0x4000]
        );
        assert_eq!(m[0].mapped_size(), 0x1200);
        assert!(m[0].contains(0x4150) && !m[0].contains(0x3000));
        // The base is the header mapping even when other mappings lie lower.
        assert_eq!(m[1].base, Some(0x5000));
        assert_eq!(m[1].start, 0x3000);
        assert_eq!(m[2].base, Some(0x7000));
        assert_eq!(m[3].base, None);
    }
}
