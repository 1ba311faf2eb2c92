//! The CLR heap walker (`heaplens-clr`, no DAC) on the Linux core fixtures,
//! against the runtime's own walk of the same heap a moment earlier
//! (`phaseN.graph.json.zst`):
//!
//! * every reference object is found at its address with the same size
//!   and MethodTable (the reference gives a TypeDesc handle, bit 1 set,
//!   instead of the MethodTable for some arrays of .NET Core 3.1: those are
//!   checked by address and size only);
//! * every reference edge is found, unless the object's bytes in the dump
//!   no longer hold that reference (the program stored another value in
//!   the field after the runtime's walk): at most 1 %, all listed;
//! * every reference object is reachable from the roots heaplens finds;
//! * a reference object heaplens does not find must have been reclaimed by
//!   a collection that ran between the runtime's walk and the dump: it lies
//!   inside a Free object now, or outside every segment or region (a region
//!   the GC reset); at most 1 % of them, all listed;
//! * a live object heaplens finds that the reference lacks was allocated
//!   after the runtime's walk. With segments it must lie after the last
//!   reference object of its segment. With regions the allocator also fills
//!   free space before the survivors of the last collection, so there it
//!   must lie in memory that held no reference object; all are listed.
//!
//! * every found object's type name equals the reference's, except where
//!   the dump does not hold its module's metadata (then heaplens names it
//!   `module!token` and says which modules lack metadata).

use heaplens_bytes::{FileSource, PageCache};
use heaplens_clr::HeapLayout;
use heaplens_elfcore::ElfCore;
use heaplens_graph::{HeapGraph, NoProgress, TypeKind};
use heaplens_memory::AddressSpace;
use heaplens_snapshot::elf::{target, ElfSymbols};
use heaplens_tests::{fixture_graph, fixture_modules};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

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
    let ours = &heap.graph;
    let want = fixture_graph::load(graph, false)?;
    if !heap.info.problems.is_empty() {
        return Err(format!("the walk stopped early: {:?}", heap.info.problems).into());
    }

    let index: HashMap<u64, u32> = (0..ours.node_count() as u32)
        .map(|i| (ours.node_address(i), i))
        .collect();
    let addresses: Vec<u64> = (0..ours.node_count() as u32)
        .map(|i| ours.node_address(i))
        .collect();
    let live = heaplens_analysis::reach::reachable(ours);
    let segment_of = |addr: u64| {
        heap.info
            .segments
            .iter()
            .position(|s| s.start <= addr && addr < s.end)
    };
    let is_free = |g: &HeapGraph, n: u32| g.node_kind(n) == TypeKind::Free;
    let mut reclaimed = Vec::new();
    let mut overwritten = Vec::new();
    let mut last_in_segment: HashMap<usize, u64> = HashMap::new();
    let mut names_differ: HashMap<(String, String), usize> = HashMap::new();
    for r in 0..want.node_count() as u32 {
        let addr = want.node_address(r);
        let found = index.get(&addr).copied().filter(|&o| !is_free(ours, o));
        let Some(o) = found else {
            // Reclaimed since: inside a Free object now, or in memory that
            // is no longer part of the heap.
            let free_now = containing(ours, &addresses, addr).is_some_and(|o| is_free(ours, o));
            if free_now || segment_of(addr).is_none() {
                reclaimed.push(addr);
                continue;
            }
            return Err(format!(
                "reference object {addr:#x} ({}) not found, and its memory is not free",
                name(&want, r)
            )
            .into());
        };
        if let Some(s) = segment_of(addr) {
            let last = last_in_segment.entry(s).or_insert(addr);
            *last = (*last).max(addr);
        }
        if ours.node_size(o) != want.node_size(r) {
            return Err(format!(
                "{addr:#x}: size {} (reference {}, {})",
                ours.node_size(o),
                want.node_size(r),
                name(&want, r)
            )
            .into());
        }
        let want_mt = want.type_info(want.node_type(r)).method_table;
        let our_mt = ours.type_info(ours.node_type(o)).method_table;
        if want_mt & 2 == 0 && our_mt != want_mt {
            return Err(
                format!("{addr:#x}: MethodTable {our_mt:#x}, reference {want_mt:#x}").into(),
            );
        }
        let (wn, on) = (name(&want, r), name(ours, o));
        if wn != on {
            *names_differ
                .entry((wn.to_owned(), on.to_owned()))
                .or_insert(0) += 1;
        }
        let children: Vec<u64> = ours
            .children(o)
            .iter()
            .map(|&c| ours.node_address(c))
            .collect();
        for &c in want.children(r) {
            let to = want.node_address(c);
            if children.contains(&to) {
                continue;
            }
            // Either the walk missed a reference, or the program stored
            // something else in that field after the runtime's walk: the
            // object's bytes in the dump tell which.
            let mut bytes = vec![0u8; want.node_size(r) as usize];
            core.memory().read_virtual(addr, &mut bytes)?;
            let still_there = bytes
                .chunks_exact(8)
                .any(|w| u64::from_le_bytes(w.try_into().unwrap()) == to);
            if still_there {
                return Err(
                    format!("edge {addr:#x} -> {to:#x} not found ({})", name(&want, r)).into(),
                );
            }
            overwritten.push((addr, to));
        }
        if !live[o as usize] {
            return Err(format!(
                "{addr:#x} ({}) is not reachable from our roots",
                name(&want, r)
            )
            .into());
        }
    }
    if overwritten.len() * 100 > want.edge_count() {
        return Err(format!(
            "{} reference edges not found: {overwritten:x?}",
            overwritten.len()
        )
        .into());
    }
    if reclaimed.len() * 100 > want.node_count() {
        return Err(format!(
            "{} reference objects not found: {reclaimed:x?}",
            reclaimed.len()
        )
        .into());
    }
    // Type names: equal to the runtime's, except for types of modules
    // whose metadata the dump does not hold (named `module!token`).
    let naming = &heap.info.names;
    let wrong: Vec<_> = names_differ
        .iter()
        .filter(|((_, ours), _)| {
            !(ours.contains('!') || ours.contains("MethodTable 0x"))
                || naming.modules_without_metadata.is_empty()
        })
        .collect();
    if !wrong.is_empty() {
        return Err(format!(
            "{} type names differ from the reference (reference, ours): {:?}",
            wrong.len(),
            wrong.iter().take(20).collect::<Vec<_>>()
        )
        .into());
    }
    let unnamed: usize = names_differ.values().sum();
    // The reference objects' extents, to tell memory that held one.
    let mut extents: Vec<(u64, u64)> = (0..want.node_count() as u32)
        .map(|r| {
            (
                want.node_address(r),
                want.node_address(r) + want.node_size(r),
            )
        })
        .collect();
    extents.sort_unstable();
    let held_reference_object = |a: u64, b: u64| {
        let i = extents.partition_point(|e| e.1 <= a);
        extents.get(i).is_some_and(|e| e.0 < b)
    };
    let regions = heap.info.layout == HeapLayout::Regions;
    let mut later = Vec::new();
    for o in 0..ours.node_count() as u32 {
        let addr = ours.node_address(o);
        if !live[o as usize] || index_of_reference(&extents, addr) {
            continue;
        }
        let s = segment_of(addr).ok_or("an object outside every segment")?;
        let after_last = last_in_segment.get(&s).is_none_or(|&last| addr > last);
        let into_free_space = regions && !held_reference_object(addr, addr + ours.node_size(o));
        if !after_last && !into_free_space {
            return Err(format!(
                "live object {addr:#x} ({}) is not in the reference but lies among its \
                 segment's reference objects",
                name(ours, o)
            )
            .into());
        }
        later.push(addr);
    }
    eprintln!(
        "{}: {} reference objects found, {} reclaimed since {reclaimed:x?}; \
         {} reference edges overwritten since {overwritten:x?}; \
         {} live objects allocated after the reference walk; \
         {unnamed} objects of {} types without metadata in the dump \
         (modules {:?}; named {} types; from files {:?}; notes {:?})",
        graph.display(),
        want.node_count() - reclaimed.len(),
        reclaimed.len(),
        overwritten.len(),
        later.len(),
        names_differ.len(),
        naming.modules_without_metadata,
        naming.named,
        naming.modules_from_files,
        naming.notes,
    );
    Ok(())
}

/// True when an object of the reference starts at `addr`.
fn index_of_reference(extents: &[(u64, u64)], addr: u64) -> bool {
    extents.binary_search_by(|e| e.0.cmp(&addr)).is_ok()
}

/// The object of `g` containing `addr` (`addresses` are `g`'s, ascending).
fn containing(g: &HeapGraph, addresses: &[u64], addr: u64) -> Option<u32> {
    let i = addresses.partition_point(|&a| a <= addr).checked_sub(1)?;
    (addr < addresses[i] + g.node_size(i as u32).max(24)).then_some(i as u32)
}

fn name(g: &HeapGraph, n: u32) -> &str {
    &g.type_info(g.node_type(n)).name
}

/// The fixture's core of `phase`, if it has one.
fn core_of(dir: &Path, phase: u32) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let n = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            n.starts_with(&format!("phase{phase}.")) && n.ends_with(".core.zst")
        })
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match heaplens_corpus::shared_or_skip("the CLR heap walker fixture tests") {
        Some(shared) => {
            let mut cores = 0;
            for dir in heaplens_corpus::fixture_dirs(&shared) {
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
