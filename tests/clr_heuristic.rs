//! The heuristic heap discovery of `heaplens-clr` (`discover`: the heap
//! found by shape, the path .NET Framework 4.x takes because it keeps no
//! `GcDacVars`), verified on every CoreCLR dump with a segment heap (Linux
//! cores of .NET Core 3.1 and .NET 8 with `libclrgc`, the server-GC cores
//! of `scripts/make-fixtures`, Windows minidumps of .NET Core 3.1, full
//! and heap-only). Read with [`Discovery::Heuristic`], each must give
//! exactly what the `GcDacVars` path gives:
//!
//! * the same segments (record, objects' range, kind, generation, heap,
//!   ephemeral), GC mode and heap count;
//! * the same objects: address, MethodTable and size of every one, Free
//!   included;
//! * the same references of every object (dependent-handle edges
//!   included);
//! * the same roots, kind by kind (handles of every type, the finalization
//!   queue, stacks and registers, frozen objects), with nothing left
//!   tentative and the finalization queues found;
//!
//! and so pass the checks against the runtime's own walk that the
//! `GcDacVars` path passes ([`heaplens_tests::clr_check`]). A heap of
//! regions (.NET 8 default, .NET 10) is refused with
//! [`ClrError::HeapNotFound`].
//!
//! The fixtures were dumped right after a GC, when a segment's header
//! already says where the ephemeral segment's objects end (but for
//! `linux-net8-clrgc`, which allocated after it). `stale_header::*` makes
//! that header stale, as allocations since the last GC leave it: the
//! ephemeral segment's `allocated` is set back 1, 10 or 1,000 objects (or
//! half the segment's), and the heuristic must still find the same heap
//! (the end from the GC's `alloc_allocated`) — or, where nothing ties a
//! value to allocation since the last GC (the set-back `allocated` held by
//! no GC variable and no allocation context ending at the value: these
//! dumps were taken right after a GC, when threads hold none) or the GC's
//! variables disagree (a server GC's leftovers from the last compaction
//! past the end in some heaps and not in others), say every end is
//! ambiguous, count nothing past the headers and report the rest as
//! tentative: never end a heap elsewhere with confidence. Where a dump
//! was taken right after a GC, a workstation GC's variable of the last
//! collection may point past the end with nothing referring to what lies
//! between: the end is then the header's, said ambiguous, the rest
//! tentative (`equal::*` accepts that, and only where the true end is the
//! header's). `no_evidence::*` also
//! zeroes every word of the runtime's data pointing past the new
//! `allocated` (up to the true end): then nothing past it may be counted,
//! and what the walk finds past it must be reported as tentative (the end
//! unconfirmed, or ambiguous where a variable of the last collection still
//! points past the true end).
//!
//! `framework_route::*` renames the runtime of the Windows .NET Core 3.1
//! full minidump `clr.dll` in the module list — a stand-in for a .NET
//! Framework dump, which the corpus lacks — and opens it as `heaplens stats`
//! and `info` do (`heaplens_snapshot::open`, `describe`): the heap must be
//! found by shape, say so, and equal the `GcDacVars` read of the original.

use heaplens_bytes::{FileSource, PageCache, ReadAt};
use heaplens_clr::discover::{EndSource, Finalization};
use heaplens_clr::{ClrError, ClrHeap, Discovery, ReadOptions, Target};
use heaplens_corpus::patched::Patched;
use heaplens_elfcore::ElfCore;
use heaplens_graph::{NoProgress, RootKind, TypeKind};
use heaplens_memory::{AddressSpace, MemoryMap};
use heaplens_minidump::Minidump;
use heaplens_tests::reconcile::core_of;
use heaplens_tests::{clr_check, fixture_modules};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Reads `target` both ways.
fn both(target: &Target<'_>) -> (Result<ClrHeap, ClrError>, Result<ClrHeap, ClrError>) {
    let dac = heaplens_clr::read(target, &mut NoProgress);
    let heuristic = heaplens_clr::read_with(
        target,
        &mut NoProgress,
        ReadOptions {
            discovery: Discovery::Heuristic,
            ..Default::default()
        },
    );
    (dac, heuristic)
}

/// Every root as `(object address, kind, name)`, sorted.
fn roots(heap: &ClrHeap) -> Vec<(u64, String, Option<String>)> {
    let g = &heap.graph;
    let mut v: Vec<_> = g
        .roots()
        .iter()
        .map(|r| {
            (
                g.node_address(r.object),
                format!("{:?}", r.kind),
                g.root_name(r).map(str::to_owned),
            )
        })
        .collect();
    v.sort();
    v
}

/// Checks that `h` (heuristic) found exactly what `d` (GcDacVars) did;
/// returns what was compared.
fn same(d: &ClrHeap, h: &ClrHeap) -> Result<String, String> {
    let report = h
        .info
        .heuristic
        .as_ref()
        .ok_or("the heuristic read does not say it was heuristic")?;
    if d.info.heuristic.is_some() || d.info.gc_dac_vars.is_none() || h.info.gc_dac_vars.is_some() {
        return Err("the reads do not say how they found the heap".into());
    }
    let seg = |heap: &ClrHeap| -> Vec<_> {
        heap.info
            .gc
            .segments
            .iter()
            .map(|s| {
                (
                    s.record,
                    s.start,
                    s.end,
                    s.kind,
                    s.generation,
                    s.heap,
                    s.ephemeral,
                )
            })
            .collect()
    };
    if seg(d) != seg(h) {
        return Err(format!(
            "segments differ:\n  GcDacVars {:x?}\n  heuristic {:x?}\n  {report:?}",
            seg(d),
            seg(h)
        ));
    }
    if (d.info.gc.mode, d.info.gc.layout, d.info.gc.heap_count)
        != (h.info.gc.mode, h.info.gc.layout, h.info.gc.heap_count)
    {
        return Err(format!(
            "GC differs: {:?} {:?} {} vs {:?} {:?} {}",
            d.info.gc.mode,
            d.info.gc.layout,
            d.info.gc.heap_count,
            h.info.gc.mode,
            h.info.gc.layout,
            h.info.gc.heap_count
        ));
    }
    let (a, b) = (&d.graph, &h.graph);
    if a.node_count() != b.node_count() {
        return Err(format!(
            "{} objects, heuristic {}",
            a.node_count(),
            b.node_count()
        ));
    }
    let mut edges = 0;
    for n in 0..a.node_count() as u32 {
        let (mta, mtb) = (
            a.type_info(a.node_type(n)).method_table,
            b.type_info(b.node_type(n)).method_table,
        );
        if a.node_address(n) != b.node_address(n) || a.node_size(n) != b.node_size(n) || mta != mtb
        {
            return Err(format!(
                "object {n}: {:#x} ({mta:#x}, {} bytes), heuristic {:#x} ({mtb:#x}, {} bytes)",
                a.node_address(n),
                a.node_size(n),
                b.node_address(n),
                b.node_size(n)
            ));
        }
        let to = |g: &heaplens_graph::HeapGraph| -> Vec<u64> {
            g.children(n).iter().map(|&c| g.node_address(c)).collect()
        };
        if to(a) != to(b) {
            return Err(format!(
                "references of {:#x} differ: {:x?} vs {:x?}",
                a.node_address(n),
                to(a),
                to(b)
            ));
        }
        edges += a.children(n).len();
    }
    let (ra, rb) = (roots(d), roots(h));
    if ra != rb {
        let only = |x: &[(u64, String, Option<String>)], y: &[(u64, String, Option<String>)]| {
            x.iter()
                .filter(|r| !y.contains(r))
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
        };
        return Err(format!(
            "roots differ: GcDacVars only {:x?}; heuristic only {:x?}",
            only(&ra, &rb),
            only(&rb, &ra)
        ));
    }
    if (d.info.invalid_references, d.info.dangling_roots)
        != (h.info.invalid_references, h.info.dangling_roots)
    {
        return Err(format!(
            "invalid references / dangling roots {} {} vs {} {}",
            d.info.invalid_references,
            d.info.dangling_roots,
            h.info.invalid_references,
            h.info.dangling_roots
        ));
    }
    // Past an end the heuristic could not confirm (a workstation GC's
    // variable of the last collection pointing past the end, nothing
    // referring to what lies between): reported as tentative, counted
    // nowhere — honest only where the true end is the header's.
    let honest_ambiguity = report.ends.iter().all(|x| x.source == EndSource::Ambiguous)
        && report.tentative.iter().all(|t| {
            d.info
                .gc
                .segments
                .iter()
                .any(|s| s.record == t.segment && s.end == t.start)
        });
    if (!report.tentative.is_empty() && !honest_ambiguity)
        || report.finalization != Finalization::Found
        || report.handle_tables == 0
        || report.free_method_table.is_none()
    {
        return Err(format!("the heuristic report is not clean: {report:?}"));
    }
    // The comparison covered handle roots and the finalization queues
    // (registered and ready: the ready ones are the finalizer roots), not
    // only stacks.
    if d.info.finalization != h.info.finalization || h.info.finalization.registered == 0 {
        return Err(format!(
            "finalization queues: GcDacVars {:?}, heuristic {:?}",
            d.info.finalization, h.info.finalization
        ));
    }
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for r in h.graph.roots() {
        *kinds.entry(format!("{:?}", r.kind)).or_default() += 1;
    }
    let has = |k: RootKind| kinds.contains_key(&format!("{k:?}"));
    if !has(RootKind::StrongHandle) || !has(RootKind::PinnedHandle) {
        return Err(format!("too few kinds of roots compared: {kinds:?}"));
    }
    Ok(format!(
        "{} segments, {} objects, {edges} references, roots {kinds:?}, finalization {:?}, \
         ends {:?}",
        h.info.gc.segments.len(),
        b.node_count(),
        h.info.finalization,
        report.ends.iter().map(|e| e.source).collect::<Vec<_>>()
    ))
}

/// Compares the two reads of `target`; for a segment heap runs the
/// reference checks on the heuristic one too.
fn check(target: &Target<'_>, memory: &dyn AddressSpace, graph: &Path) -> Result<(), Failed> {
    let (dac, heuristic) = both(target);
    match dac {
        Ok(d) if d.info.gc.layout == heaplens_clr::HeapLayout::Segments => {
            let h = heuristic.map_err(|e| format!("the heuristic read failed: {e}"))?;
            let summary = same(&d, &h)?;
            // The reference checks need a dump consistent with the
            // runtime's walk; the two reads are compared either way.
            let phase = if graph.to_string_lossy().contains("phase2.") {
                2
            } else {
                1
            };
            let dir = graph.parent().ok_or("no fixture dir")?;
            if let Some(why) = heaplens_tests::reconcile::inconsistent_phase(dir, phase) {
                eprintln!(
                    "{}: {summary}\n  SKIPPED the reference checks: {why}",
                    graph.display()
                );
                return Ok(());
            }
            let reference = clr_check::check(&h, memory, graph)?;
            eprintln!("{}: {summary}\n  {reference}", graph.display());
            Ok(())
        }
        // Regions, or a heap the GcDacVars path cannot read either: the
        // heuristic must refuse it (never a heap of its own).
        other => match heuristic {
            Err(ClrError::HeapNotFound { why, .. }) => {
                eprintln!(
                    "{}: {} — heuristic refuses: {why}",
                    graph.display(),
                    match &other {
                        Ok(d) => format!("{:?}", d.info.gc.layout),
                        Err(e) => e.to_string(),
                    }
                );
                Ok(())
            }
            Ok(h) => Err(format!(
                "the heuristic read a heap of {} objects where GcDacVars gives {:?}",
                h.graph.node_count(),
                other.map(|d| d.info.gc.layout)
            )
            .into()),
            Err(e) => Err(format!("the heuristic refused with the wrong error: {e}").into()),
        },
    }
}

fn check_core(core: &Path, graph: &Path) -> Result<(), Failed> {
    let modules = fixture_modules::for_fixture(core.parent().ok_or("no fixture dir")?)?;
    let file = heaplens_corpus::unpacked(core)?;
    let core = ElfCore::open(PageCache::new(FileSource::open(&file)?))?;
    let symbols = heaplens_snapshot::elf::ElfSymbols(&core);
    let mut t = heaplens_snapshot::elf::target(&core, &symbols);
    t.module_files = modules
        .as_ref()
        .map(|m| m as &dyn heaplens_clr::ModuleFiles);
    check(&t, core.memory(), graph)
}

fn check_minidump(dump: &Path, graph: &Path) -> Result<(), Failed> {
    let file = heaplens_corpus::unpacked(dump)?;
    let md = Minidump::open(PageCache::new(FileSource::open(&file)?))?;
    let symbols = heaplens_snapshot::minidump::PeSymbols(&md);
    let t = heaplens_snapshot::minidump::target(&md, &symbols);
    check(&t, md.memory(), graph)
}

/// Per ephemeral segment: its record, the `allocated` it is set back to,
/// and its true end.
type Moved = Vec<(u64, u64, u64)>;

/// The ephemeral segments of `heap`, each with the object `back` objects
/// before its end (at most half its objects back). A segment holding only
/// `Free` objects (the generations' start gaps: nothing allocated since the
/// GC, as in the 32-bit fixtures) is left out: setting its `allocated` back
/// onto generation 0's start gap is no state the runtime can be in (its
/// `alloc_allocated` is always past that gap).
fn set_back(heap: &ClrHeap, back: usize) -> Moved {
    let g = &heap.graph;
    heap.info
        .gc
        .segments
        .iter()
        .filter(|s| s.ephemeral)
        .filter_map(|s| {
            let nodes: Vec<u32> = (0..g.node_count() as u32)
                .filter(|&n| (s.start..s.end).contains(&g.node_address(n)))
                .collect();
            if nodes.iter().all(|&n| g.node_kind(n) == TypeKind::Free) {
                return None;
            }
            let addrs: Vec<u64> = nodes.iter().map(|&n| g.node_address(n)).collect();
            let k = addrs.len() - back.min(addrs.len() / 2);
            addrs.get(k).map(|&a| (s.record, a, s.end))
        })
        .collect()
}

/// `file` with every ephemeral segment's `allocated` set back `back`
/// objects (as allocations since the last GC leave it), and, when `erase`,
/// every word of the runtime's data pointing past that up to the segment's
/// true end zeroed (no GC variable left to find the end by). Returns the
/// patched file and `(record, new allocated, true end)` per segment.
fn stale<'a>(
    file: &'a dyn ReadAt,
    memory: &MemoryMap<PageCache<FileSource>>,
    heap: &ClrHeap,
    runtime_data: &[(u64, u64)],
    back: usize,
    erase: bool,
) -> Result<(Patched<'a>, Moved), Failed> {
    let mut patched = Patched::new(file);
    let moved = set_back(heap, back);
    // Pointers of the process's size.
    let p = memory.pointer_size();
    let set = |patched: Patched<'a>, at: u64, v: u64| {
        if p == 4 {
            patched.set_u32(at, v as u32)
        } else {
            patched.set_u64(at, v)
        }
    };
    for &(record, to, end) in &moved {
        let at = memory.file_offset(record).ok_or("record not in the file")?;
        patched = set(patched, at, to);
        if erase {
            for &(a, b) in runtime_data {
                let mut buf = vec![0u8; (b - a) as usize];
                if memory.read_virtual(a, &mut buf).is_err() {
                    continue;
                }
                for (i, w) in buf.chunks_exact(p).enumerate() {
                    let mut word = [0u8; 8];
                    word[..p].copy_from_slice(w);
                    let v = u64::from_le_bytes(word);
                    if v > to && v <= end {
                        let at = a + (p * i) as u64;
                        patched = set(patched, memory.file_offset(at).ok_or("no offset")?, 0);
                    }
                }
            }
        }
    }
    Ok((patched, moved))
}

/// The memory the dump holds of the runtime's and the standalone GC's
/// modules (`coreclr`, `clrgc`), with the pages right after each (an ELF
/// module's `.bss`): where a workstation GC keeps its variables.
fn runtime_data(t: &Target<'_>) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for m in &t.modules {
        let n = m.file_name().to_ascii_lowercase();
        if !n.contains("coreclr") && !n.contains("clrgc") {
            continue;
        }
        let mut end = m.end;
        for r in t.memory.regions() {
            if r.end() > end && r.start <= end + 0x1000 && r.start < m.end + (64 << 20) {
                end = r.end();
            }
        }
        out.extend(heaplens_memory::data_runs(t.memory, m.start, end));
    }
    out
}

/// The stale-header checks on a core or minidump file.
fn check_stale(path: &Path, back: usize, erase: bool) -> Result<(), Failed> {
    let unpacked = heaplens_corpus::unpacked(path)?;
    let source = PageCache::new(FileSource::open(&unpacked)?);
    let minidump = path.to_string_lossy().contains(".dmp");
    // The heap as GcDacVars gives it, and the patched file.
    let (truth, patched, moved) = if minidump {
        let md = Minidump::open(PageCache::new(FileSource::open(&unpacked)?))?;
        let symbols = heaplens_snapshot::minidump::PeSymbols(&md);
        let t = heaplens_snapshot::minidump::target(&md, &symbols);
        let truth = heaplens_clr::read(&t, &mut NoProgress)?;
        let (p, moved) = stale(&source, md.memory(), &truth, &runtime_data(&t), back, erase)?;
        (truth, p, moved)
    } else {
        let core = ElfCore::open(PageCache::new(FileSource::open(&unpacked)?))?;
        let symbols = heaplens_snapshot::elf::ElfSymbols(&core);
        let t = heaplens_snapshot::elf::target(&core, &symbols);
        let truth = heaplens_clr::read(&t, &mut NoProgress)?;
        let (p, moved) = stale(
            &source,
            core.memory(),
            &truth,
            &runtime_data(&t),
            back,
            erase,
        )?;
        (truth, p, moved)
    };
    let heuristic = |t: &Target<'_>| {
        heaplens_clr::read_with(
            t,
            &mut NoProgress,
            ReadOptions {
                discovery: Discovery::Heuristic,
                ..Default::default()
            },
        )
    };
    let (dac, h) = if minidump {
        let md = Minidump::open(PageCache::new(&patched))?;
        let symbols = heaplens_snapshot::minidump::PeSymbols(&md);
        let t = heaplens_snapshot::minidump::target(&md, &symbols);
        (heaplens_clr::read(&t, &mut NoProgress), heuristic(&t))
    } else {
        let core = ElfCore::open(PageCache::new(&patched))?;
        let symbols = heaplens_snapshot::elf::ElfSymbols(&core);
        let t = heaplens_snapshot::elf::target(&core, &symbols);
        (heaplens_clr::read(&t, &mut NoProgress), heuristic(&t))
    };
    let h = h?;
    let report = h.info.heuristic.clone().ok_or("not heuristic")?;
    if moved.is_empty() {
        // Still read by shape exactly as GcDacVars reads it.
        let summary = same(&dac?, &h)?;
        eprintln!(
            "{}: no ephemeral segment holds an object allocated since the last GC: \
             no stale header to make ({summary})",
            path.display()
        );
        return Ok(());
    }
    if !erase {
        // GcDacVars reads the end from alloc_allocated: the patch does
        // not change its heap.
        let dac = dac?;
        if dac.graph.node_count() != truth.graph.node_count() {
            return Err("the patch changed the GcDacVars read".into());
        }
        match same(&dac, &h) {
            Ok(summary) => {
                eprintln!(
                    "{}: allocated set back {moved:x?}: {summary}",
                    path.display()
                );
                return Ok(());
            }
            // GC variables that disagree (one offset's value the last in
            // some heaps, another's in others) leave the ends undecided:
            // then the heuristic must say so, count nothing past the
            // headers and report the rest as tentative — never end a heap
            // somewhere else with confidence.
            Err(e) if report.ends.iter().all(|x| x.source == EndSource::Ambiguous) => {
                honest_partial(&truth, &h, &report, &moved, EndSource::Ambiguous)
                    .map_err(|m| format!("{m}\n(not the same heap: {e})"))?;
                eprintln!(
                    "{}: allocated set back {moved:x?}: ends ambiguous, tentative {:x?}",
                    path.display(),
                    report.tentative
                );
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
    }
    // No evidence left (alloc_allocated is erased too: GcDacVars no longer
    // reads this heap right): only objects GcDacVars found before the
    // patch, none past the header's allocated, and the rest reported as
    // tentative.
    // The end is unconfirmed (no variable points past `allocated`) or
    // ambiguous (one left over from the last collection still does, past
    // the true end).
    drop(dac);
    let source = if report.ends.iter().any(|e| e.source == EndSource::Ambiguous) {
        EndSource::Ambiguous
    } else {
        EndSource::Unconfirmed
    };
    honest_partial(&truth, &h, &report, &moved, source)?;
    eprintln!(
        "{}: allocated set back and the end erased: {} of {} objects counted, tentative {:x?}, notes {:?}",
        path.display(),
        h.graph.node_count(),
        truth.graph.node_count(),
        report.tentative,
        report.notes()
    );
    Ok(())
}

/// A heap read with its ephemeral ends undecided (`source`): only objects
/// GcDacVars found (`dac`), none past a set-back header's `allocated`, and
/// from there to the true end reported as tentative.
fn honest_partial(
    dac: &ClrHeap,
    h: &ClrHeap,
    report: &heaplens_clr::discover::Report,
    moved: &Moved,
    source: EndSource,
) -> Result<(), String> {
    let ours: std::collections::HashSet<(u64, u64)> = (0..dac.graph.node_count() as u32)
        .map(|n| (dac.graph.node_address(n), dac.graph.node_size(n)))
        .collect();
    for n in 0..h.graph.node_count() as u32 {
        let (a, s) = (h.graph.node_address(n), h.graph.node_size(n));
        if !ours.contains(&(a, s)) {
            return Err(format!(
                "the heuristic counts {a:#x} ({s} bytes), GcDacVars does not"
            ));
        }
        if moved.iter().any(|&(_, from, end)| a >= from && a < end) {
            return Err(format!("{a:#x} is past the header's allocated but counted"));
        }
    }
    for &(record, from, end) in moved {
        let covered = report
            .tentative
            .iter()
            .any(|t| t.segment == record && t.start == from && t.end >= end);
        let e = report.ends.iter().find(|e| e.segment == record);
        if !covered || e.is_none_or(|e| e.end != from || e.source != source) {
            return Err(format!(
                "{record:#x}: {from:#x}..{end:#x} not reported as tentative: {report:?}"
            ));
        }
    }
    Ok(())
}

/// `file` (a minidump) with its `coreclr.dll` module renamed `clr.dll` in
/// the module list (the `MINIDUMP_STRING` shortened in place).
fn renamed_runtime(file: &dyn ReadAt) -> Result<Patched<'_>, Failed> {
    use heaplens_corpus::patched::u32_at;
    let streams = u32_at(file, 8) as u64;
    let dir = u32_at(file, 12) as u64;
    let list = (0..streams)
        .map(|i| dir + 12 * i)
        .find(|&e| u32_at(file, e) == 4)
        .map(|e| u32_at(file, e + 8) as u64)
        .ok_or("no module list")?;
    for m in 0..u32_at(file, list) as u64 {
        let name_rva = u32_at(file, list + 4 + 108 * m + 20) as u64;
        let len = u32_at(file, name_rva) as usize;
        let mut raw = vec![0u8; len];
        file.read_at(name_rva + 4, &mut raw)?;
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        let name = String::from_utf16_lossy(&units);
        if let Some(dir) = name.strip_suffix("coreclr.dll") {
            let new: Vec<u8> = format!("{dir}clr.dll\0")
                .encode_utf16()
                .flat_map(u16::to_le_bytes)
                .collect();
            return Ok(Patched::new(file)
                .set_u32(name_rva, (new.len() - 2) as u32)
                .set(name_rva + 4, &new));
        }
    }
    Err("no coreclr.dll in the module list".into())
}

/// The Framework route on a renamed minidump (see the module's
/// documentation).
fn framework_route(dump: &Path) -> Result<(), Failed> {
    let unpacked = heaplens_corpus::unpacked(dump)?;
    let source = PageCache::new(FileSource::open(&unpacked)?);
    let original = heaplens_snapshot::open(&source, &mut NoProgress)?;
    let patched = renamed_runtime(&source)?;
    let renamed = heaplens_snapshot::open(&patched, &mut NoProgress)?;
    let clr = renamed.info.clr.as_ref().ok_or("no CLR facts")?;
    if !clr.runtime_path.ends_with("\\clr.dll") || !clr.gc.found_by_shape {
        return Err(format!("not read as .NET Framework: {clr:?}").into());
    }
    if !clr.gc.summary().contains("found by shape")
        || !renamed
            .info
            .notes
            .iter()
            .any(|n| n.contains("heuristic scan"))
        || !renamed
            .info
            .runtime
            .as_deref()
            .is_some_and(|r| r.starts_with(".NET Framework"))
    {
        return Err(format!(
            "does not say how the heap was found: {:?} {:?} {}",
            renamed.info.runtime,
            renamed.info.notes,
            clr.gc.summary()
        )
        .into());
    }
    let (a, b) = (&original.graph, &renamed.graph);
    let objects = |g: &heaplens_graph::HeapGraph| -> Vec<(u64, u64, u64, usize)> {
        (0..g.node_count() as u32)
            .map(|n| {
                (
                    g.node_address(n),
                    g.node_size(n),
                    g.type_info(g.node_type(n)).method_table,
                    g.children(n).len(),
                )
            })
            .collect()
    };
    let roots = |g: &heaplens_graph::HeapGraph| -> Vec<(u64, String)> {
        let mut v: Vec<_> = g
            .roots()
            .iter()
            .map(|r| (g.node_address(r.object), format!("{:?}", r.kind)))
            .collect();
        v.sort();
        v
    };
    if objects(a) != objects(b) || roots(a) != roots(b) {
        return Err("the heap found by shape differs from GcDacVars'".into());
    }
    // `heaplens info`'s facts say so too.
    let d = heaplens_snapshot::describe(
        &patched,
        &heaplens_snapshot::modules::ModuleSet::new(),
        &mut NoProgress,
    )?;
    let gc = d
        .runtime
        .as_ref()
        .and_then(|r| r.gc.as_ref())
        .ok_or("no GC facts")?;
    if !gc.found_by_shape || !matches!(d.heap, heaplens_snapshot::HeapStatus::Walkable { .. }) {
        return Err(format!("info: {:?} {:?}", d.runtime, d.heap).into());
    }
    eprintln!(
        "{}: renamed clr.dll: {} objects, {} roots; {}; {:?}",
        dump.display(),
        b.node_count(),
        b.roots().len(),
        clr.gc.summary(),
        renamed.info.runtime
    );
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match heaplens_corpus::shared_or_skip("the heuristic heap discovery tests") {
        Some(shared) => {
            let mut segment_dumps = 0;
            for dir in heaplens_corpus::walk_fixture_dirs(&shared, "the heuristic discovery tests")
            {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                let segments = name.contains("net31") || name.contains("clrgc");
                for phase in [1, 2] {
                    let graph = dir.join(format!("phase{phase}.graph.json.zst"));
                    let mut dumps: Vec<PathBuf> = core_of(&dir, phase).into_iter().collect();
                    dumps.extend(heaplens_corpus::phase_dumps(&dir, phase, &[".dmp.zst"]));
                    for dump in dumps {
                        let file = dump.file_name().unwrap().to_string_lossy().into_owned();
                        let kind = file
                            .trim_start_matches(&format!("phase{phase}."))
                            .split('.')
                            .next()
                            .unwrap_or("")
                            .to_owned();
                        segment_dumps += usize::from(segments);
                        let graph = graph.clone();
                        let minidump = file.contains(".dmp");
                        let d = dump.clone();
                        trials.push(Trial::test(
                            format!("equal::{name}::phase{phase}::{kind}"),
                            move || {
                                if minidump {
                                    check_minidump(&d, &graph)
                                } else {
                                    check_core(&d, &graph)
                                }
                            },
                        ));
                        if minidump && kind == "windump" && name.contains("net31") {
                            let d = dump.clone();
                            trials.push(Trial::test(
                                format!("framework_route::{name}::phase{phase}"),
                                move || framework_route(&d),
                            ));
                        }
                        // The stale-header variants on each runtime's
                        // first dump of a segment heap.
                        if segments && phase == 1 && kind != "heap" {
                            for back in [1, 10, 1000] {
                                let d = dump.clone();
                                trials.push(Trial::test(
                                    format!("stale_header::{name}::{kind}::back{back}"),
                                    move || check_stale(&d, back, false),
                                ));
                            }
                            if !name.contains("svr") {
                                let d = dump.clone();
                                trials.push(Trial::test(
                                    format!("no_evidence::{name}::{kind}"),
                                    move || check_stale(&d, 1000, true),
                                ));
                            }
                        }
                    }
                }
            }
            trials.push(Trial::test("segment_dumps_present", move || {
                // linux-net31 and linux-net8-clrgc (2 phases each), and
                // windows-net31 (windump, 2 heap dumps).
                if segment_dumps >= 7 {
                    Ok(())
                } else {
                    Err(format!("only {segment_dumps} dumps of segment heaps").into())
                }
            }));
        }
        None => trials.push(Trial::test("corpus", || Ok(())).with_ignored_flag(true)),
    }
    libtest_mimic::run(&args, trials).exit();
}
