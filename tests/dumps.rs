//! Opening a fixture's dump — a Linux core or a Windows minidump, `.zst` or
//! not — as the CLR reader's [`Target`], for the tests that run on both.

use heaplens_bytes::{FileSource, PageCache};
use heaplens_clr::{ModuleFiles, Target};
use heaplens_elfcore::ElfCore;
use heaplens_memory::AddressSpace;
use heaplens_minidump::Minidump;
use std::path::Path;

/// True for a Windows minidump's file name (`….dmp` or `….dmp.zst`).
pub fn is_minidump(path: &Path) -> bool {
    path.to_string_lossy().contains(".dmp")
}

/// Opens the dump at `path` and calls `f` with its target (its memory
/// shareable between threads, as `heaplens` reads a file, when `shared`;
/// `modules` supplied as its module files) and its memory.
pub fn with_target<T, E: From<String>>(
    path: &Path,
    shared: bool,
    modules: Option<&dyn ModuleFiles>,
    f: impl FnOnce(&Target<'_>, &(dyn AddressSpace + Sync)) -> Result<T, E>,
) -> Result<T, E> {
    let file = heaplens_corpus::unpacked(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let source = PageCache::new(FileSource::open(&file).map_err(|e| e.to_string())?);
    if is_minidump(path) {
        let md = Minidump::open(source).map_err(|e| e.to_string())?;
        let symbols = heaplens_snapshot::minidump::PeSymbols(&md);
        let mut t = heaplens_snapshot::minidump::target(&md, &symbols);
        if shared {
            t.shared_memory = Some(md.memory());
        }
        t.module_files = modules;
        f(&t, md.memory())
    } else {
        let core = ElfCore::open(source).map_err(|e| e.to_string())?;
        let symbols = heaplens_snapshot::elf::ElfSymbols(&core);
        let mut t = heaplens_snapshot::elf::target(&core, &symbols);
        if shared {
            t.shared_memory = Some(core.memory());
        }
        t.module_files = modules;
        f(&t, core.memory())
    }
}
