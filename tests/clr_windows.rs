//! The CLR heap walker (`heaplens-clr`, no DAC) on the Windows minidump
//! fixtures (`windows-*/phaseN.<kind>.dmp.zst`: `windump` = full memory,
//! `heap` = private memory only; the corpus' 64-bit ones and the 32-bit
//! ones of `FIXTURES=x86 scripts/make-fixtures`), read through
//! `heaplens-minidump` and
//! `heaplens_snapshot::minidump`, against the runtime's own walk of the
//! same heap a moment earlier (`phaseN.graph.json.zst`): every reference
//! object, edge and type name, checked as [`heaplens_tests::clr_check`]
//! describes (the same checks as the Linux cores'). Type names must equal
//! the reference's wherever the naming report lists no module without
//! metadata; a `heap` dump holds no module images, so there its types are
//! `module!token` and the report says why. Static fields the runtime listed
//! must be named static roots in a full-memory dump; a `heap` dump, without
//! the metadata, names none (and no wrong ones).
//!
//! A dump that lacks the MethodTables of the reference's objects cannot be
//! walked: .NET 7+ keeps its loader heaps (where MethodTables live) in a
//! shared memory mapping, which a minidump of private memory leaves out.
//! For such a dump the test checks instead that heaplens refuses it with
//! [`heaplens_clr::ClrError::NoTypeData`] rather than reading a wrong heap.

use heaplens_bytes::{FileSource, PageCache};
use heaplens_graph::NoProgress;
use heaplens_memory::AddressSpace;
use heaplens_minidump::Minidump;
use heaplens_snapshot::minidump::{target, PeSymbols};
use heaplens_tests::{clr_check, fixture_graph};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

fn check(dump: &Path, graph: &Path, full_memory: bool) -> Result<(), Failed> {
    let file = heaplens_corpus::unpacked(dump)?;
    let md = Minidump::open(PageCache::new(FileSource::open(&file)?))?;
    if !md.problems().is_empty() {
        return Err(format!("the minidump's streams have problems: {:?}", md.problems()).into());
    }
    let symbols = PeSymbols(&md);
    let t = target(&md, &symbols);
    let read = heaplens_clr::read(&t, &mut NoProgress);

    // The reference objects' MethodTables the dump does not hold.
    let want = fixture_graph::load(graph, false)?;
    let mut mts: Vec<u64> = want
        .types()
        .iter()
        .map(|t| t.method_table)
        .filter(|mt| mt & 2 == 0)
        .collect();
    mts.sort_unstable();
    mts.dedup();
    let missing = mts
        .iter()
        .filter(|&&mt| md.memory().read_pointer(mt).is_err())
        .count();
    if missing > 0 {
        // heaplens must refuse the heap, saying why.
        return match read {
            Err(heaplens_clr::ClrError::NoTypeData { segments }) => {
                eprintln!(
                    "{}: {missing} of the reference's {} MethodTables are not in the dump \
                     (loader heaps in shared memory, left out of a dump of private memory); \
                     heaplens refuses the heap so ({segments} segments)",
                    dump.display(),
                    mts.len()
                );
                Ok(())
            }
            other => Err(format!(
                "{missing} of the reference's {} MethodTables are not in the dump, but \
                 heaplens does not say so: {other:?}",
                mts.len()
            )
            .into()),
        };
    }
    let heap = read?;
    // A full dump holds coreclr.dll's image: its DAC table (the export of
    // .NET 7+, the resource before) and its version resource.
    let runtime = heaplens_clr::runtime::find_runtime(&t).ok_or("no runtime")?;
    if full_memory && (runtime.dac_table.is_none() || heap.info.version.is_none()) {
        return Err(format!(
            "{}: DAC table {:?}, version {:?}",
            runtime.module.path, runtime.dac_table, heap.info.version
        )
        .into());
    }
    let summary = clr_check::check(&heap, md.memory(), graph)?;
    eprintln!("{summary}");
    // Static fields: named where the dump holds the modules' metadata.
    let held = heaplens_tests::fixture_modules::holds_metadata(dump, false);
    let statics = clr_check::statics(&heap, graph, held)?;
    eprintln!("{statics}");
    if full_memory && heap.info.statics.named == 0 {
        return Err(format!("a full-memory dump without static roots: {statics}").into());
    }
    Ok(())
}

/// The fixture's minidumps of `phase` (`phaseN.<kind>.dmp.zst`), by name.
fn dumps_of(dir: &Path, phase: u32) -> Vec<PathBuf> {
    heaplens_corpus::phase_dumps(dir, phase, &[".dmp.zst"])
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match heaplens_corpus::shared_or_skip("the CLR heap walker tests on Windows minidumps") {
        Some(shared) => {
            let mut dumps = 0;
            for dir in heaplens_corpus::walk_fixture_dirs(&shared, "the Windows minidump tests") {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                for phase in [1, 2] {
                    for dump in dumps_of(&dir, phase) {
                        dumps += 1;
                        let kind = dump
                            .file_name()
                            .unwrap()
                            .to_string_lossy()
                            .trim_start_matches(&format!("phase{phase}."))
                            .trim_end_matches(".dmp.zst")
                            .to_owned();
                        let graph = dir.join(format!("phase{phase}.graph.json.zst"));
                        let test = format!("walk::{name}::phase{phase}::{kind}");
                        trials.push(Trial::test(test, move || {
                            check(&dump, &graph, kind == "windump")
                        }));
                    }
                }
            }
            trials.push(Trial::test("minidumps_present", move || {
                if dumps >= 6 {
                    Ok(())
                } else {
                    Err(format!("only {dumps} Windows minidumps in the corpus").into())
                }
            }));
        }
        None => trials.push(Trial::test("corpus", || Ok(())).with_ignored_flag(true)),
    }
    libtest_mimic::run(&args, trials).exit();
}
