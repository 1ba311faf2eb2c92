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

/// Searches the module's memory for `@(#)Version ` and returns the text
/// after it.
fn find_version(mem: &dyn AddressSpace, module: &TargetModule) -> Option<String> {
    const MARK: &[u8] = b"@(#)Version ";
    const CHUNK: usize = 1 << 20;
    let mut buf = vec![0u8; CHUNK + MARK.len() + 128];
    for r in mem.regions() {
        if r.end() <= module.start || r.start >= module.end || r.data_size == 0 {
            continue;
        }
        let start = r.start.max(module.start);
        let end = (r.start + r.data_size).min(module.end);
        let mut pos = start;
        while pos < end {
            let n = ((end - pos) as usize).min(buf.len());
            let chunk = &mut buf[..n];
            if mem.read_virtual(pos, chunk).is_err() {
                break;
            }
            if let Some(i) = chunk.windows(MARK.len()).position(|w| w == MARK) {
                let text = &chunk[i + MARK.len()..];
                let len = text.iter().position(|&b| b == 0).unwrap_or(text.len());
                if len > 0 && len < text.len() {
                    return Some(String::from_utf8_lossy(&text[..len]).into_owned());
                }
                // The string runs past the chunk: read it on its own.
                let mut s = [0u8; 256];
                let at = pos + (i + MARK.len()) as u64;
                if mem.read_virtual(at, &mut s).is_ok() {
                    let len = s.iter().position(|&b| b == 0).unwrap_or(s.len());
                    return Some(String::from_utf8_lossy(&s[..len]).into_owned());
                }
                return None;
            }
            if n < buf.len() {
                break;
            }
            pos += CHUNK as u64;
        }
    }
    None
}

/// The major version of a runtime version string such as
/// `8.0.424.16909 @Commit: …` (8) or `3.1.2325.6005 …` (3).
pub fn major_version(version: &str) -> Option<u32> {
    version.split('.').next()?.trim().parse().ok()
}
