//! The CLR heap walker (`heaplens-clr`, no DAC) on the Linux core fixtures
//! and the 32-bit ones (`windows-net31-x86`: the minidumps of
//! `FIXTURES=x86 scripts/make-fixtures`), against the runtime's own walk of
//! the same heap a moment earlier (`phaseN.graph.json.zst`): every
//! reference object, edge and type name, and every static field the
//! runtime listed, checked as [`heaplens_tests::clr_check`] describes;
//! read on several threads as the CLI reads a file, and the same as read
//! on one, two, three or five; the references read in the walk equal a
//! second pass's.

use heaplens_graph::NoProgress;
use heaplens_tests::dumps::with_target;
use heaplens_tests::reconcile::core_of;
use heaplens_tests::{clr_check, fixture_modules};
use libtest_mimic::{Arguments, Failed, Trial};
use std::path::{Path, PathBuf};

fn check(core: &Path, graph: &Path) -> Result<(), Failed> {
    let core_path = core;
    let phase = if graph.to_string_lossy().contains("phase2.") {
        2
    } else {
        1
    };
    if let Some(why) =
        heaplens_tests::reconcile::inconsistent_phase(core.parent().ok_or("no fixture dir")?, phase)
    {
        eprintln!("SKIPPED {why}");
        return Ok(());
    }
    let modules = fixture_modules::for_fixture(core.parent().ok_or("no fixture dir")?)?;
    // As `heaplens` reads a file: on one thread per core.
    let files = modules
        .as_ref()
        .map(|m| m as &dyn heaplens_clr::ModuleFiles);
    with_target(core, true, files, |t, memory| -> Result<(), Failed> {
        let heap = heaplens_clr::read(t, &mut NoProgress)?;
        let summary = clr_check::check(&heap, memory, graph)?;
        eprintln!("{summary}");
        let held = fixture_modules::holds_metadata(core_path, modules.is_some());
        let statics = clr_check::statics(&heap, graph, held)?;
        eprintln!("{statics}");
        Ok(())
    })
}

/// The walk that reads each object's references as it goes (the heap read
/// once) gives exactly the references of a second pass over the heap —
/// with each object's dependent-handle edges after its own, and with
/// extra edges made up for every tenth object too.
fn one_read(core: &Path) -> Result<(), Failed> {
    with_target(core, false, None, |t, _| one_read_of(t))
}

fn one_read_of(t: &heaplens_clr::Target<'_>) -> Result<(), Failed> {
    use heaplens_clr::{roots, walk};
    let mem = t.memory;
    let (vars, heaps, segments) = clr_check::gc_heap_of(t)?;
    let contexts = heaplens_clr::writable::allocation_contexts(mem, &segments);
    let run = |once: bool, extra_every: Option<usize>| -> Result<_, Failed> {
        let mut mts = walk::MethodTables::default();
        let w = walk::walk(mem, &segments, &contexts, &mut mts, once, None, &mut |_| {
            true
        })
        .map_err(|e| format!("{e:?}"))?;
        if once != w.raw.is_some() {
            return Err("references read in the walk only when asked".into());
        }
        let slots = if vars.server { heaps.len() } else { 1 };
        let handles = roots::handles(mem, &vars, slots, &w.objects);
        let mut extra: Vec<(u32, u32)> = handles
            .dependents
            .iter()
            .map(|d| (d.primary, d.secondary))
            .collect();
        let n = w.objects.len();
        if let Some(k) = extra_every {
            extra.extend((0..n).step_by(k).map(|i| (i as u32, (n - 1 - i) as u32)));
        }
        extra.sort_unstable();
        let refs = walk::references(mem, &segments, &w.objects, &mts, w.raw, &extra, &mut |_| {
            true
        })
        .ok_or("cancelled")?;
        Ok((w.objects.addresses().collect::<Vec<u64>>(), refs))
    };
    for extra in [None, Some(10)] {
        let (a_objects, a) = run(true, extra)?;
        let (b_objects, b) = run(false, extra)?;
        if a_objects != b_objects {
            return Err("the walks found different objects".into());
        }
        if a.0 != b.0 || a.1 != b.1 || a.2 != b.2 {
            return Err(format!(
                "references differ (extra {extra:?}): {} / {} edges, {} / {} invalid",
                a.1.len(),
                b.1.len(),
                a.2,
                b.2
            )
            .into());
        }
        if a.1.is_empty() {
            return Err("no references".into());
        }
    }
    Ok(())
}

/// The walk that only counts (`walk::tally`, the statistics-only read)
/// gives, per MethodTable, the count and bytes of the objects the walk
/// that keeps them finds (grouped here), and the same stops; what it keeps
/// is one entry per MethodTable met, not per object.
fn tally(core: &Path) -> Result<(), Failed> {
    with_target(core, false, None, |t, _| tally_of(t))
}

fn tally_of(t: &heaplens_clr::Target<'_>) -> Result<(), Failed> {
    use heaplens_clr::walk;
    let mem = t.memory;
    let (_, _, segments) = clr_check::gc_heap_of(t)?;
    let contexts = heaplens_clr::writable::allocation_contexts(mem, &segments);
    let mut kept_mts = walk::MethodTables::default();
    let kept = walk::walk(
        mem,
        &segments,
        &contexts,
        &mut kept_mts,
        false,
        None,
        &mut |_| true,
    )
    .map_err(|e| format!("{e:?}"))?;
    let mut want: std::collections::BTreeMap<u64, (u64, u64)> = Default::default();
    for i in 0..kept.objects.len() {
        let e = want
            .entry(kept_mts.addresses[kept.objects.mt(i) as usize])
            .or_default();
        e.0 += 1;
        e.1 += kept.objects.size(i);
    }
    let mut mts = walk::MethodTables::default();
    let counted = walk::tally(mem, &segments, &contexts, &mut mts, &mut |_| true)
        .map_err(|e| format!("{e:?}"))?;
    let got: std::collections::BTreeMap<u64, (u64, u64)> = counted
        .types
        .iter()
        .enumerate()
        .filter(|(_, t)| t.objects > 0)
        .map(|(i, t)| (mts.addresses[i], (t.objects, t.bytes)))
        .collect();
    if got != want {
        return Err(format!(
            "{} MethodTables counted, {} with objects kept; first difference: {:?}",
            got.len(),
            want.len(),
            got.iter().zip(&want).find(|(a, b)| a != b)
        )
        .into());
    }
    if counted.problems != kept.problems {
        return Err(format!("stops {:?}, kept {:?}", counted.problems, kept.problems).into());
    }
    // One entry of 16 bytes per MethodTable met (grown as a Vec grows: at
    // most twice that), against the objects' columns of the walk that
    // keeps them.
    let most = 2 * 16 * mts.addresses.len().max(1);
    if counted.memory_bytes() > most || counted.memory_bytes() * 10 > kept.objects.memory_bytes() {
        return Err(format!(
            "the counts take {} bytes for {} MethodTables ({} objects: {} bytes kept)",
            counted.memory_bytes(),
            mts.addresses.len(),
            kept.objects.len(),
            kept.objects.memory_bytes()
        )
        .into());
    }
    Ok(())
}

/// A memory limit on the walk, against a computation written here from the
/// dump's segments and the counts of the walk without one: a cap below
/// what the heap needs at the least (the fewest objects its small-object
/// segments can hold, each under 85,000 bytes, and a 60th of the heap for
/// the resolve's index) refuses the walk before it starts; a cap of
/// exactly that passes the first check and stops the walk, with its
/// numbers; three times the whole need walks it all. Each refusal is
/// the typed error with numbers, never an abort.
fn budget(core: &Path) -> Result<(), Failed> {
    with_target(core, false, None, |t, _| budget_of(t))
}

fn budget_of(t: &heaplens_clr::Target<'_>) -> Result<(), Failed> {
    use heaplens_clr::heap::SegmentKind;
    use heaplens_clr::walk;
    use heaplens_graph::MemoryLimit;
    let mem = t.memory;
    let (_, _, segments) = clr_check::gc_heap_of(t)?;
    let contexts = heaplens_clr::writable::allocation_contexts(mem, &segments);
    let held = |small_only: bool| -> u64 {
        segments
            .iter()
            .filter(|s| !small_only || s.kind == SegmentKind::Small)
            .flat_map(|s| heaplens_memory::data_runs(mem, s.start, s.end))
            .map(|(a, b)| b - a)
            .sum()
    };
    let (heap_bytes, small) = (held(false), held(true));
    let run = |limit: Option<MemoryLimit>| {
        let mut mts = walk::MethodTables::default();
        walk::walk(
            mem,
            &segments,
            &contexts,
            &mut mts,
            true,
            limit,
            &mut |_| true,
        )
    };
    let all = run(None).map_err(|e| format!("{e:?}"))?;
    let n = all.objects.len() as u64;
    let r = all.raw.as_ref().ok_or("no references read")?.len() as u64;
    // By hand: 23 bytes per object, 6 per reference, a 60th of the heap.
    let least = small / 85_000 * 23 + heap_bytes / 60;
    let whole = n * 23 + r * 6 + heap_bytes / 60;
    if least >= whole {
        return Err(format!("{least} >= {whole}").into());
    }
    let limit = |cap: u64| Some(MemoryLimit { cap, in_use: || 0 });
    let over = |cap: u64| match run(limit(cap)) {
        Err(walk::WalkStop::OverBudget(o)) => Ok(o),
        Err(e) => Err(Failed::from(format!("cap {cap}: {e:?}"))),
        Ok(w) => Err(format!("cap {cap}: walked {} objects", w.objects.len()).into()),
    };
    // Before the walk.
    let o = over(least - 1)?;
    let want = walk::OpenOverBudget {
        objects: 0,
        references: 0,
        walked: 0,
        heap: heap_bytes,
        needed: least,
        available: least - 1,
        cap: Some(least - 1),
        refused: None,
    };
    if *o != want {
        return Err(format!("before the walk: {o:?}, want {want:?}").into());
    }
    // On the way: by the projection, or a growth the cap refused.
    let o = over(least)?;
    let stated = o.needed > o.available || o.refused.is_some();
    if !(o.objects < n && o.walked <= heap_bytes && o.references <= r && stated)
        || (o.available, o.cap, o.heap) != (least, Some(least), heap_bytes)
    {
        return Err(format!("part way: {o:?} ({n} objects, {r} references)").into());
    }
    let text = o.to_string();
    for part in [
        format!(
            "({} objects, {} references so far)",
            o.objects, o.references
        ),
        format!("of {} MB", heap_bytes.div_ceil(1_000_000)),
        format!("{} MB", o.needed.div_ceil(1_000_000)),
        "heaplens stats".to_owned(),
    ] {
        if !text.contains(&part) {
            return Err(format!("{part:?} not in {text:?}").into());
        }
    }
    // Room enough: the same objects.
    let w = run(limit(3 * whole)).map_err(|e| format!("cap {}: {e:?}", 3 * whole))?;
    if w.objects.len() as u64 != n {
        return Err(format!("{} objects within the cap, {n} without", w.objects.len()).into());
    }
    Ok(())
}

/// The heap read on 2, 3 and 5 threads (the walk and the pass over the
/// writable memory split between them, references resolved beside the
/// roots and names) is the heap read on one: the same types in the same
/// order, nodes, edges, roots and report. 3 and 5 are asked for whatever
/// the machine's cores (the threads then share them).
fn threads(core: &Path) -> Result<(), Failed> {
    with_target(core, true, None, |t, _| threads_of(t))
}

fn threads_of(t: &heaplens_clr::Target<'_>) -> Result<(), Failed> {
    let read = |threads: usize| {
        let options = heaplens_clr::ReadOptions {
            single_thread: threads == 1,
            threads: std::num::NonZeroUsize::new(threads),
            ..Default::default()
        };
        heaplens_clr::read_with(t, &mut NoProgress, options)
    };
    let one = read(1)?;
    for n in [2, 3, 5] {
        let several = read(n)?;
        same_heap(&several, &one).map_err(|e| format!("{n} threads against one: {e}"))?;
    }
    Ok(())
}

/// Why `a` is not the heap `b` is, if it is not.
fn same_heap(a: &heaplens_clr::ClrHeap, b: &heaplens_clr::ClrHeap) -> Result<(), String> {
    let (info_a, info_b) = (format!("{:?}", a.info), format!("{:?}", b.info));
    let (a, b) = (&a.graph, &b.graph);
    if a.types() != b.types() {
        return Err("the types differ".into());
    }
    if a.node_count() != b.node_count() || a.node_count() == 0 {
        return Err(format!("{} / {} nodes", a.node_count(), b.node_count()));
    }
    for n in 0..a.node_count() as u32 {
        let node = |g: &heaplens_graph::HeapGraph| {
            (
                g.node_type(n),
                g.node_size(n),
                g.node_address(n),
                g.children(n).to_vec(),
            )
        };
        if node(a) != node(b) {
            return Err(format!("node {n} differs: {:?} / {:?}", node(a), node(b)));
        }
    }
    let roots = |g: &heaplens_graph::HeapGraph| -> Vec<String> {
        g.roots()
            .iter()
            .map(|r| format!("{:?} {} {:?}", r.kind, r.object, g.root_name(r)))
            .collect()
    };
    if roots(a) != roots(b) {
        return Err("the roots differ".into());
    }
    if info_a != info_b {
        return Err("the reports differ".into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match heaplens_corpus::shared_or_skip("the CLR heap walker fixture tests") {
        Some(shared) => {
            let mut cores = 0;
            // The corpus' fixtures, and those of scripts/make-fixtures
            // (server GC, 32-bit): the Linux cores, and the minidumps of
            // the 32-bit processes.
            for dir in heaplens_corpus::walk_fixture_dirs(&shared, "the CLR heap walker tests") {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                for phase in [1, 2] {
                    let dumps: Vec<(String, PathBuf)> = if heaplens_corpus::is_x86_fixture(&dir) {
                        heaplens_corpus::phase_dumps(&dir, phase, &[".dmp.zst"])
                            .into_iter()
                            .map(|d| {
                                let kind = d.file_name().unwrap().to_string_lossy();
                                let kind = kind.split('.').nth(1).unwrap_or("").to_owned();
                                (format!("{name}::phase{phase}::{kind}"), d)
                            })
                            .collect()
                    } else {
                        core_of(&dir, phase)
                            .map(|c| (format!("{name}::phase{phase}"), c))
                            .into_iter()
                            .collect()
                    };
                    for (label, core) in dumps {
                        cores += 1;
                        let graph = dir.join(format!("phase{phase}.graph.json.zst"));
                        let c = core.clone();
                        trials.push(Trial::test(format!("one_read::{label}"), move || {
                            one_read(&c)
                        }));
                        let c = core.clone();
                        trials.push(Trial::test(format!("tally::{label}"), move || tally(&c)));
                        let c = core.clone();
                        trials.push(Trial::test(format!("threads::{label}"), move || {
                            threads(&c)
                        }));
                        if !heaplens_corpus::is_x86_fixture(&dir) {
                            let c = core.clone();
                            trials
                                .push(Trial::test(format!("budget::{label}"), move || budget(&c)));
                        }
                        trials.push(Trial::test(format!("walk::{label}"), move || {
                            check(&core, &graph)
                        }));
                    }
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
