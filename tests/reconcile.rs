//! A heap read from a fixture's core against the runtime's own walk of the
//! same heap a moment earlier (`phaseN.graph.json.zst`), object by object.
//!
//! The dump was written a moment after the runtime's walk, so a few objects
//! differ. [`reconcile`] sorts every object into one of three groups, or
//! fails saying which object fits none (the same rules as
//! `tests/clr_fixtures.rs`):
//!
//! * **found**: a reference object at its address (not Free), which a live
//!   root of ours must reach — unless the runtime's walk reached it only
//!   through objects whose finalizer has run since (`excused`: see
//!   [`finalized_since`]), or only through references our graph lacks
//!   because the program overwrote them since (a hash table rehashed: the
//!   old entry's object is garbage now, not yet collected; callers check
//!   that each lacking edge is indeed gone from the dump's bytes, as
//!   `clr_check` does), or through a static the program set since (a
//!   reference static root on an object ours holds under no static:
//!   `clr_check::statics` checks that ours names that field's root on
//!   another object);
//! * **reclaimed**: a reference object not found, reclaimed by a
//!   collection that ran between the runtime's walk and the dump: it lies
//!   inside a Free object now, or outside every segment or region (a region
//!   the GC reset); at most 1 % of the reference objects;
//! * **allocated later**: a live object of ours the reference lacks. It
//!   must lie after the last reference object of its segment, or in memory
//!   that held no reference object: with regions the allocator also fills
//!   free space before the survivors of the last collection, and with
//!   segments a thread fills the rest of an allocation context it held at
//!   the runtime's walk, before another thread's later objects.

use heaplens_clr::heap::Segment;
use heaplens_graph::{HeapGraph, NodeIndex, RootKind, TypeKind};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// Every object of both walks, sorted.
#[derive(Debug, Clone, Default)]
pub struct Reconciliation {
    /// Reference objects found in our graph: (reference node, our node).
    pub found: Vec<(NodeIndex, NodeIndex)>,
    /// Reference objects reclaimed since the runtime's walk (reference
    /// nodes).
    pub reclaimed: Vec<NodeIndex>,
    /// Our live objects allocated after the runtime's walk (our nodes).
    pub later: Vec<NodeIndex>,
    /// Reference objects found in our graph but not reached by our roots,
    /// because the runtime's walk reached them only through objects whose
    /// finalizer has run since (`excused`) or through references the
    /// program overwrote since: (reference node, our node).
    pub released: Vec<(NodeIndex, NodeIndex)>,
}

/// Sorts the objects of `ours` (with `live`, what our roots reach, and the
/// heap's `segments`) and of the reference
/// graph `want` (`excused`: reference addresses our roots need not reach).
/// Fails on an object that fits no group, or when more than 1 % of the
/// reference objects are gone.
pub fn reconcile(
    ours: &HeapGraph,
    live: &[bool],
    segments: &[Segment],
    want: &HeapGraph,
    excused: &HashSet<u64>,
) -> Result<Reconciliation, String> {
    let index: HashMap<u64, u32> = (0..ours.node_count() as u32)
        .map(|i| (ours.node_address(i), i))
        .collect();
    let addresses: Vec<u64> = (0..ours.node_count() as u32)
        .map(|i| ours.node_address(i))
        .collect();
    let segment_of = |addr: u64| {
        segments
            .iter()
            .position(|s| s.start <= addr && addr < s.end)
    };
    let is_free = |g: &HeapGraph, n: u32| g.node_kind(n) == TypeKind::Free;
    let still_reached = reached_through_kept_edges(ours, &index, want);
    let mut out = Reconciliation::default();
    let mut last_in_segment: HashMap<usize, u64> = HashMap::new();
    for r in 0..want.node_count() as u32 {
        let addr = want.node_address(r);
        let found = index.get(&addr).copied().filter(|&o| !is_free(ours, o));
        let Some(o) = found else {
            // Reclaimed since: inside a Free object now, or in memory that
            // is no longer part of the heap.
            let free_now = containing(ours, &addresses, addr).is_some_and(|o| is_free(ours, o));
            if free_now || segment_of(addr).is_none() {
                out.reclaimed.push(r);
                continue;
            }
            return Err(format!(
                "reference object {addr:#x} ({}) not found, and its memory is not free",
                type_name(want, r)
            ));
        };
        if let Some(s) = segment_of(addr) {
            let last = last_in_segment.entry(s).or_insert(addr);
            *last = (*last).max(addr);
        }
        if !live[o as usize] {
            if excused.contains(&addr) || !still_reached[r as usize] {
                out.released.push((r, o));
                continue;
            }
            return Err(format!(
                "{addr:#x} ({}) is not reachable from our roots",
                type_name(want, r)
            ));
        }
        out.found.push((r, o));
    }
    if out.reclaimed.len() * 100 > want.node_count() {
        let addrs: Vec<u64> = out
            .reclaimed
            .iter()
            .map(|&r| want.node_address(r))
            .collect();
        return Err(format!(
            "{} reference objects not found: {addrs:x?}",
            addrs.len()
        ));
    }
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
    let is_reference_start = |addr: u64| extents.binary_search_by(|e| e.0.cmp(&addr)).is_ok();
    for o in 0..ours.node_count() as u32 {
        let addr = ours.node_address(o);
        if !live[o as usize] || is_reference_start(addr) {
            continue;
        }
        let s = segment_of(addr).ok_or("an object outside every segment")?;
        let after_last = last_in_segment.get(&s).is_none_or(|&last| addr > last);
        let into_free_space = !held_reference_object(addr, addr + ours.node_size(o));
        if !after_last && !into_free_space {
            return Err(format!(
                "live object {addr:#x} ({}) is not in the reference but lies among its \
                 segment's reference objects",
                type_name(ours, o)
            ));
        }
        out.later.push(o);
    }
    Ok(out)
}

/// What the roots of `want` reach (of the roots that keep objects alive)
/// following only the edges our graph still has where it has the edge's
/// source (`index`: our node by address): an object the runtime's walk
/// reached only through references our graph lacks is `false`.
fn reached_through_kept_edges(
    ours: &HeapGraph,
    index: &HashMap<u64, u32>,
    want: &HeapGraph,
) -> Vec<bool> {
    let mut seen = vec![false; want.node_count()];
    let mut stack = Vec::new();
    // A static the program set since holds another object now (ours names
    // its root there; `clr_check::statics` checks each such miss).
    let ours_statics: HashSet<u64> = ours
        .roots()
        .iter()
        .filter(|r| r.kind == RootKind::Static)
        .map(|r| ours.node_address(r.object))
        .collect();
    for r in want.roots() {
        let set_since =
            r.kind == RootKind::Static && !ours_statics.contains(&want.node_address(r.object));
        if r.kind.keeps_alive() && !set_since && !seen[r.object as usize] {
            seen[r.object as usize] = true;
            stack.push(r.object);
        }
    }
    while let Some(x) = stack.pop() {
        let ours_children: Option<HashSet<u64>> = index.get(&want.node_address(x)).map(|&o| {
            ours.children(o)
                .iter()
                .map(|&c| ours.node_address(c))
                .collect()
        });
        for &c in want.children(x) {
            let kept = ours_children
                .as_ref()
                .is_none_or(|k| k.contains(&want.node_address(c)));
            if kept && !seen[c as usize] {
                seen[c as usize] = true;
                stack.push(c);
            }
        }
    }
    seen
}

/// The object of `g` containing `addr` (`addresses` are `g`'s, ascending;
/// an object takes at least the smallest minimum object, 12 bytes in a
/// 32-bit process).
fn containing(g: &HeapGraph, addresses: &[u64], addr: u64) -> Option<u32> {
    let i = addresses.partition_point(|&a| a <= addr).checked_sub(1)?;
    (addr < addresses[i] + g.node_size(i as u32).max(12)).then_some(i as u32)
}

/// The type name of node `n`.
pub fn type_name(g: &HeapGraph, n: u32) -> &str {
    &g.type_info(g.node_type(n)).name
}

/// The fixture's Linux core of `phase` (`phaseN.*.core.zst`), if it has
/// one.
pub fn core_of(dir: &Path, phase: u32) -> Option<PathBuf> {
    heaplens_corpus::phase_dumps(dir, phase, &[".core.zst"])
        .into_iter()
        .next()
}

/// The reference objects the runtime's walk kept alive only through
/// finalizer roots whose objects are, in the dump, registered for
/// finalization again (`registered`: addresses): their finalizer ran
/// between the walk and the dump and re-registered them (such as
/// `Gen2GcCallback`, which the runtime's walk, made during a collection,
/// finds f-reachable), so in the dump nothing roots them. Addresses.
pub fn finalized_since(want: &HeapGraph, registered: &HashSet<u64>) -> HashSet<u64> {
    use heaplens_graph::RootKind;
    let reach = |skip_finalized: bool| {
        let mut seen = vec![false; want.node_count()];
        let mut stack = Vec::new();
        for r in want.roots() {
            let finalized =
                r.kind == RootKind::Finalizer && registered.contains(&want.node_address(r.object));
            if r.kind.keeps_alive() && !(skip_finalized && finalized) && !seen[r.object as usize] {
                seen[r.object as usize] = true;
                stack.push(r.object);
            }
        }
        while let Some(x) = stack.pop() {
            for &c in want.children(x) {
                if !seen[c as usize] {
                    seen[c as usize] = true;
                    stack.push(c);
                }
            }
        }
        seen
    };
    let (all, without) = (reach(false), reach(true));
    (0..want.node_count() as u32)
        .filter(|&n| all[n as usize] && !without[n as usize])
        .map(|n| want.node_address(n))
        .collect()
}

/// Why the dump of `phase` in fixture `dir` cannot be compared object by
/// object with the runtime's walk, when its generator says so: the
/// manifest's `phases.N.consistent` is false when the heap changed between
/// the walk and the dump past what [`reconcile`] sorts out (a collection
/// that moved objects), even after the generator's retries. `None` when
/// the phase is consistent (or the manifest does not say).
pub fn inconsistent_phase(dir: &Path, phase: u32) -> Option<String> {
    let bytes = std::fs::read(dir.join("manifest.json")).ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    let p = &v["phases"][phase.to_string()];
    (p["consistent"] == serde_json::Value::Bool(false)).then(|| {
        format!(
            "{} phase {phase}: its generator marks the dump inconsistent with the runtime's \
             walk (manifest: consistent false after {} attempts: the heap moved between the \
             two): not compared object by object",
            dir.display(),
            p["attempt"]
        )
    })
}
