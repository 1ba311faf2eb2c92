//! Finding the runtime in the process and its version.

use crate::target::{Target, TargetModule};
use heaplens_memory::AddressSpace;

/// The runtime module of the process.
#[derive(Debug, Clone)]
pub struct RuntimeModule {
    /// The module.
    pub module: TargetModule,
    /// The runtime's version, from the `@(#)Version ` marker in its image
    /// (e.g. `8.0.424.16909 @Commit: …`) or its PE version resource, when
    /// the dump holds that page; else the file version the container
    /// records for the module (a minidump's module list: `8.0.424.16909`).
    pub version: Option<String>,
    /// Address of the exported `g_dacTable`, or (Windows runtimes before
    /// .NET 7) of the RVAs in the `COREXTERNALDATAACCESSRESOURCE` resource
    /// that replaces it, when found.
    pub dac_table: Option<u64>,
    /// True for a single-file app whose host links the runtime in.
    pub single_file: bool,
}

const RUNTIME_FILES: [&str; 4] = [
    "libcoreclr.so",
    "coreclr.dll",
    "clr.dll",
    "libcoreclr.dylib",
];

/// Finds the runtime: a module named like the runtime, or (single-file
/// apps) a module exporting `g_dacTable` or `DotNetRuntimeInfo`.
pub fn find_runtime(target: &Target<'_>) -> Option<RuntimeModule> {
    let by_name = target.modules.iter().find(|m| {
        let n = m.file_name();
        RUNTIME_FILES.iter().any(|r| n.eq_ignore_ascii_case(r))
    });
    let (module, single_file) = match by_name {
        Some(m) => (m.clone(), false),
        None => {
            let m = target.modules.iter().find(|m| {
                target.symbols.find_symbol(m, "g_dacTable").is_some()
                    || target.symbols.find_symbol(m, "DotNetRuntimeInfo").is_some()
            })?;
            (m.clone(), true)
        }
    };
    let dac_table = target
        .symbols
        .find_symbol(&module, "g_dacTable")
        .or_else(|| dac_table_resource(target.memory, &module));
    let version = find_version(target.memory, &module).or_else(|| module.version.clone());
    Some(RuntimeModule {
        module,
        version,
        dac_table,
        single_file,
    })
}

/// The DAC table of a Windows runtime before .NET 7: the RCDATA resource
/// `COREXTERNALDATAACCESSRESOURCE` (`{u32 globals; u32 vptrs; 16-byte
/// DacTableInfo}`, then one 32-bit RVA per global): the address of its
/// RVAs, when the dump holds the image's resources.
fn dac_table_resource(mem: &dyn AddressSpace, module: &TargetModule) -> Option<u64> {
    const HEADER: u32 = 24;
    module.header_addresses.iter().find_map(|&base| {
        let image = heaplens_pe::PeImage::detect(mem, base).ok()?;
        let name = heaplens_pe::ResourceId::from("COREXTERNALDATAACCESSRESOURCE");
        let res = image
            .find_resource(&heaplens_pe::RT_RCDATA.into(), &name)
            .ok()??;
        if res.size <= HEADER {
            return None;
        }
        image.rva_to_va(res.rva.checked_add(HEADER)?)
    })
}

/// The runtime's version: the text after the `@(#)Version ` marker in the
/// module's memory (ELF builds), else, for a PE image (`coreclr.dll`), its
/// version resource in the same form (`8.0.424.16909 @Commit: …`); `None`
/// when the dump holds neither.
fn find_version(mem: &dyn AddressSpace, module: &TargetModule) -> Option<String> {
    const MARK: &[u8] = b"@(#)Version ";
    if let Some(at) = heaplens_memory::find_bytes(mem, module.start, module.end, MARK) {
        if let Some(text) = heaplens_memory::read_c_string(mem, at + MARK.len() as u64, 256).ok()? {
            return Some(String::from_utf8_lossy(&text).into_owned());
        }
    }
    module
        .header_addresses
        .iter()
        .find_map(|&base| pe_version(mem, base))
}

/// The version resource of the PE image at `base`: its file version, and
/// the commit its `ProductVersion` string names (`8,0,424,16909 @Commit:
/// 2d7e…`).
fn pe_version(mem: &dyn AddressSpace, base: u64) -> Option<String> {
    let image = heaplens_pe::PeImage::detect(mem, base).ok()?;
    let info = image.version_info().ok()??;
    let mut v = info.file_version.to_string();
    if let Some(commit) = info
        .product_version_string()
        .and_then(|p| p.split_once('@'))
        .map(|(_, c)| c.trim())
        .filter(|c| !c.is_empty())
    {
        v.push_str(" @");
        v.push_str(commit);
    }
    Some(v)
}

/// The pointer size (4 or 8) the runtime's own image was built for, read
/// from its headers in the dump: an ELF image's class (`EI_CLASS`: 1 for
/// 32-bit, 2 for 64-bit), a PE image's optional header (PE32 or PE32+).
/// `None` when the dump holds no header of the module.
pub fn image_pointer_size(mem: &dyn AddressSpace, module: &TargetModule) -> Option<u64> {
    module.header_addresses.iter().find_map(|&base| {
        let mut ident = [0u8; 5];
        if mem.read_virtual(base, &mut ident).is_ok() && ident[..4] == *b"\x7fELF" {
            return match ident[4] {
                1 => Some(4),
                2 => Some(8),
                _ => None,
            };
        }
        let image = heaplens_pe::PeImage::detect(mem, base).ok()?;
        Some(if image.is_64bit() { 8 } else { 4 })
    })
}

/// Confirms the process's pointer size — what the dump says (a
/// minidump's `SystemInfo` processor, an ELF core's class) and every read
/// of the heap takes — with the runtime's own image: a 32-bit runtime
/// cannot run in a 64-bit process nor the other way round, so a dump whose
/// container and runtime image disagree is refused, not walked on a
/// guess. A dump without the runtime's headers is confirmed later, by
/// `GcDacVars` (or the heap found by shape) leading to a segment whose
/// first object has a valid MethodTable read with that pointer size.
pub fn confirm_pointer_size(
    mem: &dyn AddressSpace,
    runtime: &RuntimeModule,
) -> Result<(), crate::ClrError> {
    let dump = mem.pointer_size() as u64;
    match image_pointer_size(mem, &runtime.module) {
        Some(image) if image != dump => Err(crate::ClrError::Corrupt {
            what: "the runtime's image header",
            addr: runtime.module.start,
            why: format!(
                "{} is a {}-bit image, but the dump says the process is {}-bit ({dump}-byte \
                 pointers): the process's layout cannot be confirmed, and its heap is not read{}",
                runtime.module.file_name(),
                image * 8,
                dump * 8,
                if image < dump {
                    ". A 32-bit process dumped by a 64-bit tool (the 64-bit Task Manager) is \
                     recorded through its WOW64 layer: dump it with procdump, or the 32-bit \
                     Task Manager (C:\\Windows\\SysWOW64\\Taskmgr.exe)"
                } else {
                    ""
                }
            ),
        }),
        _ => Ok(()),
    }
}
