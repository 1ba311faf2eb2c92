//! The 32-bit fixtures of `FIXTURES=x86 scripts/make-fixtures`
//! (`windows-net31-x86`: .NET Core 3.1 win-x86 under 32-bit Wine, a full
//! `windump` and a `heap` minidump of each phase) read through
//! `heaplens-minidump`, against the runtime's own walk of the same heap
//! (`phaseN.graph.json.zst`): the dump is an x86 one (SystemInfo, 4-byte
//! pointers, the x86 thread contexts whose stack pointers lie in the
//! captured stacks), it has the 32-bit `coreclr.dll` of .NET Core 3.1.23,
//! and every object the runtime reported holds its MethodTable (a 4-byte
//! pointer) at its address in the dump's memory. The heap walk on these
//! dumps is checked with the 64-bit ones' (`clr_fixtures`, `clr_windows`,
//! `clr_stats`, `roots_reference`, `clr_heuristic`).

use heaplens_bytes::{FileSource, PageCache};
use heaplens_memory::AddressSpace;
use heaplens_minidump::Minidump;
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// `PROCESSOR_ARCHITECTURE_INTEL`.
const X86: u16 = 0;

fn hex(v: &Value) -> Result<u64, String> {
    let s = v.as_str().ok_or_else(|| format!("not a hex string: {v}"))?;
    u64::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|e| format!("{s}: {e}"))
}

fn check(dump: &Path, graph: &Path) -> Result<(), Failed> {
    let md = Minidump::open(PageCache::new(FileSource::open(
        &heaplens_corpus::unpacked(dump)?,
    )?))?;
    if !md.problems().is_empty() {
        return Err(format!("the minidump's streams have problems: {:?}", md.problems()).into());
    }
    let sys = md.system_info().ok_or("no SystemInfo stream")?;
    if sys.processor_architecture != X86 || sys.pointer_size != 4 || md.pointer_size() != 4 {
        return Err(format!("not an x86 dump: {sys:?}").into());
    }
    if md.memory().pointer_size() != 4 {
        return Err("the memory map reads 8-byte pointers".into());
    }

    // The runtime: .NET Core 3.1.23's coreclr.dll, as the generator ran it.
    let coreclr = md.find_module("coreclr.dll").ok_or("no coreclr.dll")?;
    let want = ((4 << 16) | 700, (22 << 16) | 11601); // 4.700.22.11601
    if coreclr.file_version != Some(want) || coreclr.base > u64::from(u32::MAX) {
        return Err(format!("coreclr.dll: {coreclr:?}").into());
    }

    // Threads: x86 contexts, stack pointers inside the captured stacks.
    let mut in_stack = 0;
    for t in md.threads() {
        let (Some(sp), Some((lo, hi))) = (t.stack_pointer(), t.stack) else {
            continue;
        };
        if sp > u64::from(u32::MAX) {
            return Err(format!("thread {}: stack pointer {sp:#x}", t.id).into());
        }
        in_stack += usize::from(lo <= sp && sp <= hi);
    }
    if in_stack == 0 {
        return Err("no thread's stack pointer lies in its captured stack".into());
    }

    // Every reference object's MethodTable at its address (a TypeDesc handle,
    // low bit 2, is what .NET Core 3.x reports for arrays: skipped).
    let text = std::fs::read(heaplens_corpus::unpacked(graph)?)?;
    let g: Value = serde_json::from_slice(&text)?;
    let nodes = g["nodes"].as_array().ok_or("graph.json: no nodes")?;
    let (mut checked, mut typedesc) = (0usize, 0usize);
    for n in nodes {
        let (addr, mt) = (hex(&n[0])?, hex(&n[2])?);
        if addr > u64::from(u32::MAX) {
            return Err(format!("object at {addr:#x} beyond 4 GB").into());
        }
        if mt & 2 != 0 {
            typedesc += 1;
            continue;
        }
        let got = md
            .memory()
            .read_pointer(addr)
            .map_err(|e| format!("object {addr:#x}: {e}"))?;
        if got & !3 != mt {
            return Err(format!(
                "object {addr:#x}: MethodTable {got:#x}, the runtime says {mt:#x}"
            )
            .into());
        }
        checked += 1;
    }
    if checked == 0 {
        return Err("graph.json has no objects".into());
    }
    eprintln!(
        "{}: x86, coreclr.dll at {:#x}; {checked} objects at their address with their \
         MethodTable ({typedesc} arrays reported by TypeDesc); {in_stack} of {} threads' \
         stack pointers in their stacks",
        dump.display(),
        coreclr.base,
        md.threads().len()
    );
    Ok(())
}

/// The full minidump with its `SystemInfo` processor set to AMD64 (9), as
/// a 64-bit tool records a 32-bit process (through WOW64): the dump then
/// claims 8-byte pointers while its `coreclr.dll` is a PE32 (32-bit)
/// image. The heap must be refused with that reason, not walked with the
/// wrong pointer size.
fn said_64_bit(dump: &Path) -> Result<(), Failed> {
    use heaplens_corpus::patched::{u32_at, Patched};
    const SYSTEM_INFO: u32 = 7;
    let source = PageCache::new(FileSource::open(&heaplens_corpus::unpacked(dump)?)?);
    let (streams, dir) = (u32_at(&source, 8), u32_at(&source, 12));
    let at = (0..streams)
        .map(|i| u64::from(dir) + 12 * u64::from(i))
        .find(|&e| u32_at(&source, e) == SYSTEM_INFO)
        .map(|e| u64::from(u32_at(&source, e + 8)))
        .ok_or("no SystemInfo stream")?;
    let patched = Patched::new(&source).set(at, &9u16.to_le_bytes());
    let md = Minidump::open(PageCache::new(&patched))?;
    if md.pointer_size() != 8 {
        return Err("the patch did not make the dump claim 8-byte pointers".into());
    }
    let symbols = heaplens_snapshot::minidump::PeSymbols(&md);
    let t = heaplens_snapshot::minidump::target(&md, &symbols);
    match heaplens_clr::read(&t, &mut heaplens_graph::NoProgress) {
        Ok(h) => Err(format!(
            "walked with 8-byte pointers: {} objects",
            h.graph.node_count()
        )
        .into()),
        Err(e @ heaplens_clr::ClrError::Corrupt { .. })
            if e.to_string().contains("coreclr.dll is a 32-bit image")
                && e.to_string().contains("64-bit (8-byte pointers)") =>
        {
            eprintln!("{}: refused: {e}", dump.display());
            Ok(())
        }
        Err(e) => Err(format!("refused for another reason: {e}").into()),
    }
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let mut dumps: Vec<(String, PathBuf, PathBuf)> = Vec::new();
    for dir in heaplens_corpus::x86_fixture_dirs("the x86 minidump fixture tests") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        for phase in [1, 2] {
            for dump in heaplens_corpus::phase_dumps(&dir, phase, &[".dmp.zst"]) {
                let kind = dump
                    .file_name()
                    .unwrap()
                    .to_string_lossy()
                    .trim_start_matches(&format!("phase{phase}."))
                    .trim_end_matches(".dmp.zst")
                    .to_owned();
                let graph = dir.join(format!("phase{phase}.graph.json.zst"));
                dumps.push((
                    format!("minidump::{name}::phase{phase}::{kind}"),
                    dump,
                    graph,
                ));
            }
        }
    }
    if dumps.is_empty() {
        trials.push(Trial::test("x86_fixtures", || Ok(())).with_ignored_flag(true));
    } else {
        let n = dumps.len();
        for (test, dump, graph) in dumps {
            if test.ends_with("::phase1::windump") {
                let d = dump.clone();
                let name = test.replace("minidump::", "said_64_bit::");
                trials.push(Trial::test(name, move || said_64_bit(&d)));
            }
            trials.push(Trial::test(test, move || check(&dump, &graph)));
        }
        // Full and heap dumps of both phases.
        trials.push(Trial::test("minidumps_present", move || {
            if n >= 4 {
                Ok(())
            } else {
                Err(format!("only {n} x86 minidumps").into())
            }
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}
