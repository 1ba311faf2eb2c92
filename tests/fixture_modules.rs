//! Module files a fixture's dump lacks, supplied as a user would
//! (`heaplens stats CORE --modules DIR`).
//!
//! The `linux-net31` cores (.NET Core 3.1 `--withheap`) leave every managed
//! image out. Their types are named from:
//! * the .NET Core 3.1.23 shared framework, which `scripts/setup` unpacks
//!   from the PyPI wheel `dotnetcore2` into `$HEAPLENS_RUNTIMES` (default
//!   `~/.cache/heaplens/runtimes`);
//! * `DumpLab.dll`, the same file the `linux-net8` core holds whole (flat):
//!   its bytes are taken from there; fixtures made by `scripts/make-fixtures`
//!   keep their own build in `modules/`. heaplens checks each supplied file
//!   against the dumped header before using it.

use heaplens_bytes::{FileSource, PageCache};
use heaplens_elfcore::ElfCore;
use heaplens_memory::AddressSpace;
use heaplens_pe::{Layout, PeImage};
use heaplens_snapshot::modules::ModuleSet;
use std::path::{Path, PathBuf};

/// Whether the dump at `dump` should let heaplens read every module's
/// metadata (type names, static fields), by what the fixture is — not by
/// what heaplens reports: not for a Windows heap minidump
/// (`phaseN.heap.dmp.zst`, which leaves the assemblies' images out), nor
/// for a `linux-net31` core without its module files (`modules_supplied`).
pub fn holds_metadata(dump: &Path, modules_supplied: bool) -> bool {
    let file = dump.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let fixture = dump
        .parent()
        .and_then(|d| d.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or("");
    let heap_minidump = file.contains(".heap.") && file.ends_with(".dmp.zst");
    let images_left_out = fixture.starts_with("linux-net31") && !modules_supplied;
    !(heap_minidump || images_left_out)
}

/// Where `scripts/setup` puts runtimes.
pub fn runtimes_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("HEAPLENS_RUNTIMES") {
        return PathBuf::from(d);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("heaplens").join("runtimes")
}

/// The module files to supply with the dumps of fixture `dir`: `None` for
/// fixtures whose dumps hold their images, and (with a message on stderr)
/// when the runtime is not installed and `HEAPLENS_REQUIRE_CORPUS` is not
/// set.
pub fn for_fixture(dir: &Path) -> Result<Option<ModuleSet>, String> {
    let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    if !name.starts_with("linux-net31") {
        return Ok(None);
    }
    let framework = runtimes_dir().join("Microsoft.NETCore.App").join("3.1.23");
    if !framework.join("System.Private.CoreLib.dll").is_file() {
        let msg = format!(
            "the .NET Core 3.1.23 framework is not in {} (scripts/setup installs it): \
             linux-net31 type names are not checked",
            framework.display()
        );
        if heaplens_corpus::corpus_required() {
            return Err(msg);
        }
        eprintln!("SKIPPED: {msg}");
        return Ok(None);
    }
    let mut set = ModuleSet::new();
    set.add_dir(&framework)
        .map_err(|e| format!("{}: {e}", framework.display()))?;
    // A generated fixture keeps its build of DumpLab.dll beside it.
    let own = dir.join("modules");
    if own.is_dir() {
        set.add_dir(&own)
            .map_err(|e| format!("{}: {e}", own.display()))?;
        return Ok(Some(set));
    }
    let shared = heaplens_corpus::shared_dir().ok_or("no corpus")?;
    let net8 = shared.join("fixtures/linux-net8/phase1.withheap.core.zst");
    let dumplab = dumplab_from(&net8)?;
    set.add(
        "DumpLab.dll",
        &format!("DumpLab.dll from {}", net8.display()),
        Box::new(dumplab),
    );
    Ok(Some(set))
}

/// The bytes of `DumpLab.dll` as the core at `path` holds it (flat: the
/// file as it is, up to the end of its last section).
fn dumplab_from(path: &Path) -> Result<Vec<u8>, String> {
    let file = heaplens_corpus::unpacked(path).map_err(|e| e.to_string())?;
    let src = FileSource::open(&file).map_err(|e| e.to_string())?;
    let core = ElfCore::open(PageCache::new(src)).map_err(|e| e.to_string())?;
    let m = core
        .modules()
        .iter()
        .find(|m| m.file_name() == "DumpLab.dll")
        .ok_or("no DumpLab.dll in the linux-net8 core")?;
    let base = m
        .header_addresses()
        .next()
        .ok_or("DumpLab.dll has no header")?;
    let img = PeImage::detect(core.memory(), base).map_err(|e| e.to_string())?;
    if img.layout() != Layout::Flat {
        return Err("DumpLab.dll is not flat in the linux-net8 core".into());
    }
    let len = img
        .sections()
        .iter()
        .map(|s| u64::from(s.pointer_to_raw_data) + u64::from(s.size_of_raw_data))
        .max()
        .ok_or("DumpLab.dll has no sections")?;
    let mut bytes = vec![0u8; len as usize];
    core.memory()
        .read_virtual(base, &mut bytes)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}
