//! The CLR heap walker (`heaplens-clr`, no DAC) on the Linux core fixtures
//! and the 32-bit ones (`windows-net31-x86`: the minidumps of
//! `FIXTURES=x86 scripts/make-fixtures`), against the runtime's own walk of
//! the same heap a moment earlier (`phaseN.graph.json.zst`): every
//! reference object, edge and type name, and every static field the
//! runtime listed, checked as [`heaplens_tests::clr_check`] describes;
//! read on several threads as the CLI reads a file, and the same as read
//! on one, two, three or five; the references read in the walk equal a
//! second pass's.

use heaplens_clr::walk;
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
    // By hand: 14 bytes per object, 4.5 per reference (rounded up), a
    // 60th of the heap.
    let least = small / 85_000 * 14 + heap_bytes / 60;
    let whole = n * 14 + (r * 9).div_ceil(2) + heap_bytes / 60;
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
    // Each thread's run walked in pieces of one segment each (every piece
    // joined on its own).
    let options = heaplens_clr::ReadOptions {
        threads: std::num::NonZeroUsize::new(3),
        walk_piece: std::num::NonZeroU64::new(1),
        ..Default::default()
    };
    let pieces = heaplens_clr::read_with(t, &mut NoProgress, options)?;
    same_heap(&pieces, &one).map_err(|e| format!("3 threads in pieces against one: {e}"))?;
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

/// Walkers that share no memory with the read, as the page's Web Workers:
/// each run of the plan is walked on its own ([`walk::runs::walk_run`],
/// with MethodTables of its own), handed over as bytes and joined from
/// those bytes ([`walk::runs::Join`]), in slices of `slice` bytes (as the
/// page reads a worker's buffer).
struct SeparateWalkers {
    count: usize,
    slice: usize,
}

impl heaplens_clr::Walkers for SeparateWalkers {
    fn count(&self) -> usize {
        self.count
    }

    fn walk(
        &mut self,
        mem: &dyn heaplens_memory::AddressSpace,
        plan: &walk::runs::WalkPlan,
        mts: &mut walk::MethodTables,
        limit: Option<heaplens_graph::MemoryLimit>,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<walk::Walked, walk::WalkStop> {
        // The plan goes to the walkers as bytes too.
        let sent = walk::runs::WalkPlan::from_bytes(&plan.to_bytes())?;
        if &sent != plan {
            return Err(walk::WalkStop::Walker("the plan changed on its way".into()));
        }
        let mut join = walk::runs::Join::new(mem, plan, limit)?;
        let mut before = 0;
        let mut results = Vec::new();
        for run in 0..sent.runs() {
            let bytes = walk::runs::walk_run(mem, &sent, run, None, &mut |d| progress(before + d))?;
            before += sent.run_bytes(run);
            results.push(bytes);
        }
        // Room for all results at once, as the page's join asks it.
        let (mut objects, mut references) = (0, 0);
        for bytes in &results {
            let (o, r) = walk::runs::result_counts(&mut &bytes[..], bytes.len() as u64)?;
            objects += o;
            references += r;
        }
        join.reserve(objects, references);
        for bytes in results {
            let mut sliced = Sliced {
                bytes: &bytes,
                slice: self.slice,
            };
            join.add(mts, &mut sliced, bytes.len() as u64)?;
        }
        Ok(join.finish()?)
    }
}

/// A reader that gives at most `slice` bytes a call.
struct Sliced<'b> {
    bytes: &'b [u8],
    slice: usize,
}

impl std::io::Read for Sliced<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.slice).min(self.bytes.len());
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// The walk split into 1, 2 and 3 runs, each walked on its own, handed
/// over as bytes and joined, is the one walk: the same objects (address,
/// type, size), MethodTables numbered in the same order, the same
/// references and problems; the heap read with such walkers is the heap
/// read on one thread, and is the runtime's own walk
/// (`phaseN.graph.json.zst`, checked as [`check`] checks it). Results that
/// are cut short, joined out of order or altered are refused with a
/// typed error, never a panic.
fn runs(core: &Path, graph: &Path) -> Result<(), Failed> {
    let modules = fixture_modules::for_fixture(core.parent().ok_or("no fixture dir")?)?;
    let files = modules
        .as_ref()
        .map(|m| m as &dyn heaplens_clr::ModuleFiles);
    with_target(core, true, files, |t, memory| runs_of(t, memory, graph))
}

fn runs_of(
    t: &heaplens_clr::Target<'_>,
    memory: &dyn heaplens_memory::AddressSpace,
    graph: &Path,
) -> Result<(), Failed> {
    use walk::runs::{walk_run, Join, JoinError, WalkPlan};
    let mem = t.memory;
    let (_, _, segments) = clr_check::gc_heap_of(t)?;
    let contexts = heaplens_clr::writable::allocation_contexts(mem, &segments);
    let mut one_mts = walk::MethodTables::default();
    let one = walk::walk(
        mem,
        &segments,
        &contexts,
        &mut one_mts,
        true,
        None,
        &mut |_| true,
    )
    .map_err(|e| format!("{e:?}"))?;
    let objects = |w: &walk::Walked| -> Vec<(u64, u32, u64)> {
        (0..w.objects.len())
            .map(|i| (w.objects.address(i), w.objects.mt(i), w.objects.size(i)))
            .collect()
    };
    let (one_objects, one_problems) = (objects(&one), one.problems.clone());
    let one_raw = one.raw.as_ref().map_or(0, |r| r.len()) as u64;
    let one_refs = walk::references(
        mem,
        &segments,
        &one.objects,
        &one_mts,
        one.raw,
        &[],
        &mut |_| true,
    )
    .ok_or("cancelled")?;
    if one_refs.1.is_empty() {
        return Err("no references".into());
    }
    for n in [1, 2, 3] {
        let plan = WalkPlan::new(mem, &segments, &contexts, true, n);
        if plan.runs() != n.min(segments.len()) || segments.len() < 2 {
            return Err(format!(
                "{} runs of {} segments for {n}",
                plan.runs(),
                segments.len()
            )
            .into());
        }
        let mut mts = walk::MethodTables::default();
        let walked = heaplens_clr::Walkers::walk(
            &mut SeparateWalkers {
                count: n,
                slice: 4093,
            },
            mem,
            &plan,
            &mut mts,
            None,
            &mut |_| true,
        )
        .map_err(|e| format!("{n} runs: {e:?}"))?;
        if objects(&walked) != one_objects {
            return Err(format!("{n} runs: other objects than one walk's").into());
        }
        if mts.addresses != one_mts.addresses {
            return Err(format!("{n} runs: the MethodTables are numbered otherwise").into());
        }
        if walked.problems != one_problems {
            return Err(format!("{n} runs: {:?} / {:?}", walked.problems, one_problems).into());
        }
        let refs = walk::references(
            mem,
            &segments,
            &walked.objects,
            &mts,
            walked.raw,
            &[],
            &mut |_| true,
        )
        .ok_or("cancelled")?;
        if refs != one_refs {
            return Err(format!("{n} runs: other references than one walk's").into());
        }
    }
    // Results refused: cut short, out of order, from another plan, altered.
    let plan = WalkPlan::new(mem, &segments, &contexts, true, 2);
    if plan.runs() == 2 {
        let first = walk_run(mem, &plan, 0, None, &mut |_| true).map_err(|e| format!("{e:?}"))?;
        let second = walk_run(mem, &plan, 1, None, &mut |_| true).map_err(|e| format!("{e:?}"))?;
        // The counts the results' headers give (the join's room) are one
        // walk's objects and references.
        let counts = |r: &[u8]| walk::runs::result_counts(&mut &r[..], r.len() as u64);
        let ((o1, r1), (o2, r2)) = (counts(&first)?, counts(&second)?);
        if (o1 + o2, r1 + r2) != (one_objects.len() as u64, one_raw) {
            return Err(format!(
                "the results say {} objects and {} references; one walk found {} and {one_raw}",
                o1 + o2,
                r1 + r2,
                one_objects.len()
            )
            .into());
        }
        if counts(&first[..20]).is_ok() || counts(b"not a run result, no").is_ok() {
            return Err("a cut or foreign result gave counts".into());
        }
        let refused = |results: &[&[u8]]| -> Result<(), Failed> {
            let mut mts = walk::MethodTables::default();
            let mut join = Join::new(mem, &plan, None).map_err(|e| format!("{e:?}"))?;
            for r in results {
                match join.add(&mut mts, &mut &r[..], r.len() as u64) {
                    Err(JoinError::Malformed { .. }) => return Ok(()),
                    Err(e) => return Err(format!("{e}").into()),
                    Ok(()) => {}
                }
            }
            Err(format!(
                "{} results of {} and {} bytes joined",
                results.len(),
                first.len(),
                second.len()
            )
            .into())
        };
        refused(&[&first[..first.len() - 1]])?;
        refused(&[&second])?;
        let mut object_out = first.clone();
        // The first object's address (after the header and the MethodTables).
        let tables = u32::from_le_bytes(first[20..24].try_into().unwrap()) as usize;
        let at = 53 + tables * 8;
        object_out[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
        refused(&[&object_out])?;
        let other = WalkPlan::new(mem, &segments, &contexts, true, 3);
        if other.runs() == 3 {
            let third =
                walk_run(mem, &other, 2, None, &mut |_| true).map_err(|e| format!("{e:?}"))?;
            refused(&[&first, &third])?;
        }
        let bytes = plan.to_bytes();
        if WalkPlan::from_bytes(&bytes[..bytes.len() - 1]).is_ok() {
            return Err("a plan cut short was read".into());
        }
    }
    // The heap read with the walkers: the heap read on one thread, and the
    // runtime's walk.
    let options = heaplens_clr::ReadOptions {
        single_thread: true,
        ..Default::default()
    };
    let one = heaplens_clr::read_with(t, &mut NoProgress, options)?;
    for n in [2, 3] {
        let mut walkers = SeparateWalkers {
            count: n,
            slice: 1 << 16,
        };
        let heap = heaplens_clr::read_walked_by(t, &mut NoProgress, options, Some(&mut walkers))?;
        same_heap(&heap, &one).map_err(|e| format!("{n} walkers against one thread: {e}"))?;
        if n == 3 {
            let summary = clr_check::check(&heap, memory, graph)?;
            eprintln!("{n} walkers: {summary}");
        }
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
                        let (c, g) = (core.clone(), graph.clone());
                        trials.push(Trial::test(format!("runs::{label}"), move || runs(&c, &g)));
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
