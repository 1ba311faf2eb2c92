//! The CLR heap walker (`heaplens-clr`, no DAC) on the Linux core fixtures,
//! against the runtime's own walk of the same heap a moment earlier
//! (`phaseN.graph.json.zst`): every reference object, edge and type name,
//! checked as [`heaplens_tests::clr_check`] describes.

use heaplens_bytes::{FileSource, PageCache};
use heaplens_elfcore::ElfCore;
use heaplens_graph::NoProgress;
use heaplens_snapshot::elf::{target, ElfSymbols};
use heaplens_tests::reconcile::core_of;
use heaplens_tests::{clr_check, fixture_modules};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;

fn check(core: &Path, graph: &Path) -> Result<(), Failed> {
    let modules = fixture_modules::for_fixture(core.parent().ok_or("no fixture dir")?)?;
    let file = heaplens_corpus::unpacked(core)?;
    let core = ElfCore::open(PageCache::new(FileSource::open(&file)?))?;
    let symbols = ElfSymbols(&core);
    let mut t = target(&core, &symbols);
    t.module_files = modules
        .as_ref()
        .map(|m| m as &dyn heaplens_clr::ModuleFiles);
    let heap = heaplens_clr::read(&t, &mut NoProgress)?;
    let summary = clr_check::check(&heap, core.memory(), graph)?;
    eprintln!("{summary}");
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match heaplens_corpus::shared_or_skip("the CLR heap walker fixture tests") {
        Some(shared) => {
            let mut cores = 0;
            // The corpus' fixtures, and those of scripts/make-fixtures
            // (server GC).
            for dir in heaplens_corpus::walk_fixture_dirs(&shared, "the CLR heap walker tests") {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                for phase in [1, 2] {
                    let Some(core) = core_of(&dir, phase) else {
                        continue;
                    };
                    cores += 1;
                    let graph = dir.join(format!("phase{phase}.graph.json.zst"));
                    trials.push(Trial::test(
                        format!("walk::{name}::phase{phase}"),
                        move || check(&core, &graph),
                    ));
                }
            }
            trials.push(Trial::test("cores_present", move || {
                if cores >= 7 {
                    Ok(())
                } else {
                    Err(format!("only {cores} Linux cores in the corpus").into())
                }
            }));
        }
        None => trials.push(Trial::test("corpus", || Ok(())).with_ignored_flag(true)),
    }
    libtest_mimic::run(&args, trials).exit();
}
