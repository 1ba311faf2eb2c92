//! Managed module files supplied beside a dump.
//!
//! Some dumps do not hold the images of the managed modules (Linux
//! `--withheap` cores of .NET Core 3.1 leave file mappings out; Windows
//! heap-only minidumps carry no images), so their types cannot be named
//! from the dump alone. The user can supply the files: the application's
//! DLLs and the runtime's shared framework directory
//! (`shared/Microsoft.NETCore.App/<version>/`) of the same build. A file is
//! used only for the assembly whose name it has, and only when its header
//! matches the dumped one where the dump holds it.

use heaplens_bytes::ReadAt;
use heaplens_clr::heaplens_metadata::Metadata;
use heaplens_clr::{ModuleFiles, SuppliedModule};
use heaplens_memory::{MappedRange, MemoryMap, Protection, Region};
use heaplens_pe::{Layout, PeImage};
use std::path::Path;

/// One supplied file.
struct ModuleFile {
    /// Its file name (`System.Private.CoreLib.dll`).
    name: String,
    /// Where it came from, for messages.
    origin: String,
    /// Its bytes.
    source: Box<dyn ReadAt>,
}

/// A set of supplied module files, looked up by assembly name.
#[derive(Default)]
pub struct ModuleSet {
    files: Vec<ModuleFile>,
}

impl std::fmt::Debug for ModuleSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.files.iter().map(|m| &m.origin))
            .finish()
    }
}

impl ModuleSet {
    /// An empty set.
    pub fn new() -> ModuleSet {
        ModuleSet::default()
    }

    /// Adds a file named `name` (its file name, e.g. `DumpLab.dll`) read
    /// from `source`; `origin` says where it came from.
    pub fn add(&mut self, name: &str, origin: &str, source: Box<dyn ReadAt>) {
        self.files.push(ModuleFile {
            name: name.to_owned(),
            origin: origin.to_owned(),
            source,
        });
    }

    /// Adds every `.dll` and `.exe` file of `dir` (not its subdirectories).
    /// Files are opened now and read only when a dump needs them.
    pub fn add_dir(&mut self, dir: &Path) -> std::io::Result<usize> {
        let mut n = 0;
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let lower = name.to_ascii_lowercase();
            if !(lower.ends_with(".dll") || lower.ends_with(".exe")) || !path.is_file() {
                continue;
            }
            let src = heaplens_bytes::FileSource::open(&path)?;
            self.add(&name, &path.display().to_string(), Box::new(src));
            n += 1;
        }
        Ok(n)
    }

    /// How many files the set has.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// True when the set has no files.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// The metadata and header of a PE file.
fn read_module(source: &dyn ReadAt) -> Option<(Metadata, u32, u32)> {
    let len = source.len();
    let region = Region {
        start: 0,
        size: len,
        data_size: len,
        protection: Some(Protection {
            read: true,
            write: false,
            execute: false,
        }),
    };
    let map = MemoryMap::new(
        source,
        8,
        &[MappedRange {
            region,
            file_offset: 0,
        }],
    )
    .ok()?;
    let img = PeImage::at(&map, 0, Layout::Flat).ok()?;
    let md = Metadata::read_from(&img).ok()?;
    Some((
        md,
        img.headers().time_date_stamp,
        img.headers().size_of_image,
    ))
}

impl ModuleFiles for ModuleSet {
    fn find(&self, name: &str) -> Option<SuppliedModule> {
        self.files
            .iter()
            .filter(|f| {
                let stem = f.name.rsplit_once('.').map_or(f.name.as_str(), |s| s.0);
                stem.eq_ignore_ascii_case(name)
            })
            .find_map(|f| {
                let (metadata, time_date_stamp, size_of_image) = read_module(&*f.source)?;
                Some(SuppliedModule {
                    origin: f.origin.clone(),
                    metadata,
                    time_date_stamp,
                    size_of_image,
                })
            })
    }
}
