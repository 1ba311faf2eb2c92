//! Finding the runtime in the process and its version.

use crate::target::{Target, TargetModule};
use heaplens_memory::AddressSpace;

/// The runtime module of the process.
#[derive(Debug, Clone)]
pub struct RuntimeModule {
    /// The module.
    pub module: TargetModule,
    /// The runtime's version, from the `@(#)Version ` marker in its image
    /// (e.g. `8.0.424.16909 @Commit: …`), when the dump holds that page.
    pub version: Option<String>,
    /// Address of the exported `g_dacTable`, when found.
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
    let dac_table = target.symbols.find_symbol(&module, "g_dacTable");
    let version = find_version(target.memory, &module);
    Some(RuntimeModule {
        module,
        version,
        dac_table,
        single_file,
    })
}

/// The text after the `@(#)Version ` marker in the module's memory, when
/// the dump holds the page that has it.
fn find_version(mem: &dyn AddressSpace, module: &TargetModule) -> Option<String> {
    const MARK: &[u8] = b"@(#)Version ";
    let at = heaplens_memory::find_bytes(mem, module.start, module.end, MARK)?;
    let text = heaplens_memory::read_c_string(mem, at + MARK.len() as u64, 256).ok()??;
    Some(String::from_utf8_lossy(&text).into_owned())
}
