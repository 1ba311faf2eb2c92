//! The checks of a CLR heap read from a dump against the runtime's own
//! walk of the same heap a moment earlier (`phaseN.graph.json.zst`), shared
//! by `clr_fixtures` (Linux cores) and `clr_windows` (Windows minidumps):
//!
//! * every reference object is found at its address with the same size
//!   and MethodTable (the reference gives a TypeDesc handle, bit 1 set,
//!   instead of the MethodTable for some arrays of .NET Core 3.1: those are
//!   checked by address and size only);
//! * every reference edge is found, unless the object's bytes in the dump
//!   no longer hold that reference (the program stored another value in
//!   the field after the runtime's walk): at most 1 %, all listed;
//! * every reference object is reachable from the roots heaplens finds, a
//!   reference object heaplens does not find was reclaimed since, and a
//!   live object the reference lacks was allocated later — sorted object
//!   by object by [`crate::reconcile`], whose rules say how; all listed;
//! * every found object's type name equals the reference's, except where
//!   the dump does not hold its module's metadata (then heaplens names it
//!   `module!token` and says which modules lack metadata);
//! * [`statics`]: every static field the runtime listed with its object is
//!   a static root named by that field on that object, and no static root
//!   names an object's field otherwise than the runtime.

use crate::fixture_graph;
use crate::reconcile::{finalized_since, reconcile, type_name};
use heaplens_clr::ClrHeap;
use heaplens_memory::AddressSpace;
use std::collections::HashMap;
use std::collections::HashSet;
use std::path::Path;

/// Checks `heap`, read from a dump whose memory is `memory`, against the
/// reference graph at `graph`. Returns a one-line summary (objects found,
/// reclaimed, allocated later, naming) or what is wrong.
pub fn check(heap: &ClrHeap, memory: &dyn AddressSpace, graph: &Path) -> Result<String, String> {
    let ours = &heap.graph;
    let want = fixture_graph::load(graph, false)?;
    if !heap.info.problems.is_empty() {
        return Err(format!("the walk stopped early: {:?}", heap.info.problems));
    }
    // Found, reclaimed since, allocated later: `reconcile`'s rules.
    let live = heaplens_analysis::reach::reachable(ours);
    let excused = finalized_since(&want, &registered_for_finalization(heap, memory)?);
    let rec = reconcile(ours, &live, &heap.info.gc.segments, &want, &excused)?;

    let mut overwritten = Vec::new();
    let mut names_differ: HashMap<(String, String), usize> = HashMap::new();
    for &(r, o) in &rec.found {
        let addr = want.node_address(r);
        if ours.node_size(o) != want.node_size(r) {
            return Err(format!(
                "{addr:#x}: size {} (reference {}, {})",
                ours.node_size(o),
                want.node_size(r),
                type_name(&want, r)
            ));
        }
        let want_mt = want.type_info(want.node_type(r)).method_table;
        let our_mt = ours.type_info(ours.node_type(o)).method_table;
        if want_mt & 2 == 0 && our_mt != want_mt {
            return Err(format!(
                "{addr:#x}: MethodTable {our_mt:#x}, reference {want_mt:#x}"
            ));
        }
        let (wn, on) = (type_name(&want, r), type_name(ours, o));
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
            memory
                .read_virtual(addr, &mut bytes)
                .map_err(|e| e.to_string())?;
            let p = memory.pointer_size();
            let still_there = bytes.chunks_exact(p).any(|w| {
                let mut b = [0u8; 8];
                b[..p].copy_from_slice(w);
                u64::from_le_bytes(b) == to
            });
            if still_there {
                return Err(format!(
                    "edge {addr:#x} -> {to:#x} not found ({})",
                    type_name(&want, r)
                ));
            }
            overwritten.push((addr, to));
        }
    }
    if overwritten.len() * 100 > want.edge_count() {
        return Err(format!(
            "{} reference edges not found: {overwritten:x?}",
            overwritten.len()
        ));
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
        ));
    }
    let unnamed: usize = names_differ.values().sum();
    let reclaimed: Vec<u64> = rec
        .reclaimed
        .iter()
        .map(|&r| want.node_address(r))
        .collect();
    Ok(format!(
        "{}: {} reference objects found, {} reclaimed since {reclaimed:x?}; \
         {} reference edges overwritten since {overwritten:x?}; \
         {} live objects allocated after the reference walk; \
         {unnamed} objects of {} types without metadata in the dump \
         (modules {:?}; named {} types; from files {:?}; notes {:?})",
        graph.display(),
        rec.found.len(),
        reclaimed.len(),
        overwritten.len(),
        rec.later.len(),
        names_differ.len(),
        naming.modules_without_metadata,
        naming.named,
        naming.modules_from_files,
        naming.notes,
    ))
}

/// The objects registered for finalization in the dump (addresses), read
/// from the heaps' `CFinalize` records here: `m_FillPointers[generations +
/// 2]`, `m_Array`; the registered objects are `[m_Array,
/// FP[generations - 1])` (docs/clr-heap-walk.md §5.3).
pub fn registered_for_finalization(
    heap: &ClrHeap,
    memory: &dyn AddressSpace,
) -> Result<HashSet<u64>, String> {
    let (queues, generations) = &heap.info.finalize_queues;
    registered_in(memory, queues, *generations)
}

/// The GC heap of `t` as its `GcDacVars` describe it, without walking it:
/// the variables, the heaps and their segments.
pub fn gc_heap_of(
    t: &heaplens_clr::Target<'_>,
) -> Result<
    (
        heaplens_clr::dacvars::GcDacVars,
        Vec<heaplens_clr::heap::GcHeap>,
        Vec<heaplens_clr::heap::Segment>,
    ),
    String,
> {
    use heaplens_clr::{dacvars, heap, runtime};
    let mem = t.memory;
    let rt = runtime::find_runtime(t).ok_or("no runtime")?;
    let vars =
        dacvars::locate(t, &rt, &|v| heap::confirms_heap(mem, v)).map_err(|e| e.to_string())?;
    let heaps = heap::GcHeap::all(mem, &vars).map_err(|e| e.to_string())?;
    let segments = heap::segments(mem, &vars, &heaps).map_err(|e| e.to_string())?;
    Ok((vars, heaps, segments))
}

/// [`registered_for_finalization`] of the dump at `path` (a Linux core or
/// a Windows minidump, `.zst` or not), its queues found through the GC's
/// `GcDacVars` without reading the heap.
pub fn registered_for_finalization_in(path: &Path) -> Result<HashSet<u64>, String> {
    use heaplens_bytes::{FileSource, PageCache};
    use heaplens_clr::roots;
    let file = heaplens_corpus::unpacked(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let src = PageCache::new(FileSource::open(&file).map_err(|e| e.to_string())?);
    let find = |t: &heaplens_clr::Target<'_>| -> Result<HashSet<u64>, String> {
        let (vars, heaps, _) = gc_heap_of(t)?;
        registered_in(
            t.memory,
            &roots::finalize_queues(&heaps),
            vars.total_generation_count,
        )
    };
    if let Ok(core) = heaplens_elfcore::ElfCore::open(&src) {
        let symbols = heaplens_snapshot::elf::ElfSymbols(&core);
        return find(&heaplens_snapshot::elf::target(&core, &symbols));
    }
    let dump = heaplens_minidump::Minidump::open(&src).map_err(|e| e.to_string())?;
    let symbols = heaplens_snapshot::minidump::PeSymbols(&dump);
    find(&heaplens_snapshot::minidump::target(&dump, &symbols))
}

fn registered_in(
    memory: &dyn AddressSpace,
    queues: &[u64],
    generations: u64,
) -> Result<HashSet<u64>, String> {
    // `CFinalize`'s fill pointers and entries are pointers of the
    // process's size.
    let p = memory.pointer_size() as u64;
    let mut out = HashSet::new();
    for &q in queues {
        let word = |i: u64| memory.read_pointer(q + p * i).map_err(|e| e.to_string());
        let array = word(generations + 2)?;
        let end = word(generations - 1)?;
        let mut at = array;
        while at < end {
            out.insert(word_at(memory, at)?);
            at += p;
        }
    }
    Ok(out)
}

fn word_at(memory: &dyn AddressSpace, at: u64) -> Result<u64, String> {
    memory.read_pointer(at).map_err(|e| e.to_string())
}

/// Checks the static roots of `heap` against the runtime's own list of
/// static fields and the objects they held (`statics` of the reference
/// graph at `graph`: object, type, field name):
///
/// * every reference static whose object heaplens holds (found, not Free)
///   is a [`heaplens_graph::RootKind::Static`] root on that object named
///   `….field` (the part after the last `.` is the reference's name);
///   misses are listed — but for statics set since the walk (the dump is
///   taken after it): a miss of a field's name is one when heaplens names
///   a static root of that field on an object the reference lists under no
///   static (one such root for each such miss);
/// * no static root contradicts the reference: where the reference names
///   the static fields holding an object, the root's field is one of them.
///
/// `metadata_held` says, from what the fixture is (see
/// [`crate::fixture_modules::holds_metadata`]), whether the dump holds
/// every module's metadata. Where it does not (a Windows heap minidump),
/// heaplens must say which modules lack it, and misses are allowed (and
/// counted); wrong names never are. Where it does, heaplens must not claim
/// a module lacks it, and every reference static must be found. Returns a
/// one-line summary (matched, missed, roots on objects the reference lists
/// under no static field — set after the runtime's walk).
pub fn statics(heap: &ClrHeap, graph: &Path, metadata_held: bool) -> Result<String, String> {
    use heaplens_graph::RootKind;
    use std::collections::BTreeSet;
    let bytes =
        heaplens_corpus::read_maybe_zst(graph).map_err(|e| format!("{}: {e}", graph.display()))?;
    let v: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", graph.display()))?;
    let hex = |v: &serde_json::Value| -> Result<u64, String> {
        let s = v.as_str().ok_or_else(|| format!("not a hex string: {v}"))?;
        u64::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|e| format!("{s}: {e}"))
    };
    // The runtime's statics: object → field names.
    let mut want: HashMap<u64, BTreeSet<String>> = HashMap::new();
    let list = v["statics"]
        .as_array()
        .ok_or("no statics in the reference")?;
    for s in list {
        let name = s[2].as_str().ok_or("a static without a name")?;
        want.entry(hex(&s[0])?).or_default().insert(name.to_owned());
    }
    // Ours: object → field names (after the class). The runtime lists the
    // statics of non-generic types only (it walks each module's TypeDefs):
    // those of generic instantiations (`Class`1[args].field`) are checked
    // for shape only.
    let g = &heap.graph;
    let mut ours: HashMap<u64, BTreeSet<String>> = HashMap::new();
    let (mut roots, mut generic) = (0, 0);
    for r in g.roots().iter().filter(|r| r.kind == RootKind::Static) {
        roots += 1;
        let full = g.root_name(r).ok_or("a static root without a name")?;
        let (class, field) = full
            .rsplit_once('.')
            .ok_or_else(|| format!("static root {full:?} is not Class.field"))?;
        if class.is_empty() || field.is_empty() {
            return Err(format!("static root {full:?} is not Class.field"));
        }
        if class.ends_with(']') {
            generic += 1;
            continue;
        }
        ours.entry(g.node_address(r.object))
            .or_default()
            .insert(field.to_owned());
    }
    // Objects heaplens holds.
    let held: HashMap<u64, u32> = (0..g.node_count() as u32)
        .filter(|&n| g.type_info(g.node_type(n)).kind != heaplens_graph::TypeKind::Free)
        .map(|n| (g.node_address(n), n))
        .collect();
    let (mut matched, mut misses) = (0, Vec::new());
    for s in list {
        let (addr, name) = (hex(&s[0])?, s[2].as_str().unwrap_or(""));
        let Some(&n) = held.get(&addr) else {
            continue;
        };
        if ours.get(&addr).is_some_and(|f| f.contains(name)) {
            matched += 1;
        } else {
            misses.push(((addr, n, name), vec![name]));
        }
    }
    // Ours on objects the reference lists under no static: statics set
    // since its walk, each explaining one miss of that field's name.
    let since = ours
        .iter()
        .filter(|(addr, _)| !want.contains_key(addr))
        .flat_map(|(_, fields)| fields.iter().map(|f| (f.as_str(), ())));
    let (paired, left) = pair_set_since(misses, since);
    let reassigned: Vec<String> = paired
        .iter()
        .map(|((addr, _, name), _, ())| format!("{name} on {addr:#x}"))
        .collect();
    let missed: Vec<String> = left
        .iter()
        .map(|&(addr, n, name)| {
            format!(
                "{name} on {addr:#x} ({}; ours: {:?})",
                type_name(g, n),
                ours.get(&addr)
            )
        })
        .collect();
    let mut contradictions = Vec::new();
    let mut unlisted = Vec::new();
    for (addr, fields) in &ours {
        match want.get(addr) {
            Some(w) => {
                for f in fields.difference(w) {
                    contradictions.push(format!(
                        "{f} on {addr:#x}: the runtime lists {w:?} for that object"
                    ));
                }
            }
            None => unlisted.extend(fields.iter().map(|f| format!("{f} on {addr:#x}"))),
        }
    }
    unlisted.sort();
    let total = list.len();
    let summary = format!(
        "{}: {matched} of {total} reference statics found as static roots, {} missed, \
         {} set since the walk {reassigned:?}; \
         {roots} static roots ({generic} of generic instantiations), {} on objects the \
         reference lists under no static {unlisted:?} ({:?})",
        graph.display(),
        missed.len(),
        reassigned.len(),
        unlisted.len(),
        heap.info.statics.note()
    );
    let lacking = &heap.info.names.modules_without_metadata;
    if metadata_held != lacking.is_empty() {
        return Err(format!(
            "{summary}\nthe dump {} every module's metadata, but heaplens reports these \
             without it: {lacking:?}",
            if metadata_held { "holds" } else { "lacks" }
        ));
    }
    if (!missed.is_empty() && metadata_held) || !contradictions.is_empty() {
        return Err(format!(
            "{summary}\nmissed ({}): {missed:#?}\ncontradicting ({}): {contradictions:#?}\n\
             calibration: {:?}; skipped modules: {:?}",
            missed.len(),
            contradictions.len(),
            heap.info.statics.calibration,
            heap.info.statics.skipped
        ));
    }
    if matched == 0 && total > 0 && metadata_held {
        return Err(format!("{summary}: no reference static held"));
    }
    if !metadata_held {
        return Ok(format!(
            "{summary}; the dump lacks the metadata of {lacking:?}: {} misses allowed",
            missed.len()
        ));
    }
    Ok(summary)
}

/// Pairs the runtime's statics that heaplens misses with statics set since
/// the runtime's walk (the dump is taken after it: .NET 10's
/// `CastCache.s_table` is replaced as the cache grows). `misses`: each
/// with the field names the runtime lists it under; `since`: heaplens's
/// static roots (by field name) on objects the runtime lists under no
/// static field. A miss is explained by one such root of one of its
/// fields' names, each root explaining one miss. Returns the misses
/// explained (with the field and the root) and those left, in their
/// order.
pub fn pair_set_since<'f, M, S>(
    misses: impl IntoIterator<Item = (M, Vec<&'f str>)>,
    since: impl IntoIterator<Item = (&'f str, S)>,
) -> (Vec<(M, &'f str, S)>, Vec<M>) {
    let mut by_field: HashMap<&str, Vec<S>> = HashMap::new();
    for (field, root) in since {
        by_field.entry(field).or_default().push(root);
    }
    let (mut paired, mut left) = (Vec::new(), Vec::new());
    for (miss, fields) in misses {
        match fields
            .into_iter()
            .find_map(|f| Some((f, by_field.get_mut(f)?.pop()?)))
        {
            Some((field, root)) => paired.push((miss, field, root)),
            None => left.push(miss),
        }
    }
    (paired, left)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each root set since explains one miss of its field's name, in the
    /// misses' order; a miss listed under two fields takes a root of
    /// either; a root of a field no miss has explains nothing.
    #[test]
    fn statics_set_since_explain_one_miss_each() {
        let misses = vec![
            ("a1", vec!["s_table"]),
            ("a2", vec!["s_table"]),
            ("b", vec!["s_other", "s_cache"]),
            ("c", vec!["s_none"]),
        ];
        let since = vec![("s_table", 1), ("s_cache", 2), ("s_unrelated", 3)];
        let (paired, left) = pair_set_since(misses, since);
        assert_eq!(paired, [("a1", "s_table", 1), ("b", "s_cache", 2)]);
        assert_eq!(left, ["a2", "c"]);
    }
}
