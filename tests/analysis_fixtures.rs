//! Analyses on the fixtures of real .NET processes (`fixtures/*/`), whose
//! runtime walked its own heap (`phaseN.graph.json.zst`) and reported what
//! changed and why an object was alive:
//!
//! * `type_diff`: the per-type diff of phase 2 minus phase 1 equals
//!   `diff.reference.json` (every type, delta, count and the order);
//! * `root_path`: the shortest path from a root to `DumpLab.RootTarget`
//!   equals the runtime's `root_path_to_DumpLab.RootTarget` (types and
//!   root kind), in both phases; with static fields as roots, the path
//!   starts at the static field the program used (`ChainHead`);
//! * `retained`: dominators and retained sizes against brute force (remove
//!   the object, see what the roots no longer reach) for the 50-node chain,
//!   its target, the chain's per-type retained size, and sampled objects;
//! * `core_diff`: the same diff from the dumps themselves through
//!   `heaplens_snapshot::open` (as `heaplens diff` computes it), once the
//!   objects allocated after, or reclaimed since, each runtime walk (see
//!   `reconcile`) are taken out — the reference diff is of the runtime's
//!   walks, the dumps are a moment later. Reported as ignored while the
//!   format's reader does not exist, then enabled by itself.
//!
//! Without the corpus every trial is ignored (or fails with
//! `HEAPLENS_REQUIRE_CORPUS=1`).

use heaplens_analysis::diff::{diff_type_stats, DiffOptions, TypeDiff};
use heaplens_analysis::dominators::dominators;
use heaplens_analysis::paths::root_paths;
use heaplens_analysis::retained::{retained_by_type, retained_sizes};
use heaplens_analysis::stats::{type_stats, Selection, TypeRow, TypeStats};
use heaplens_graph::{HeapGraph, NoProgress, RootKind};
use heaplens_tests::clr_check::registered_for_finalization_in;
use heaplens_tests::reconcile::{finalized_since, reconcile, type_name};
use heaplens_tests::{fixture_graph, fixture_modules};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn json(path: &Path) -> Result<Value, Failed> {
    let bytes =
        heaplens_corpus::read_maybe_zst(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()).into())
}

fn graph(dir: &Path, phase: u32, statics: bool) -> Result<HeapGraph, Failed> {
    Ok(fixture_graph::load(
        &dir.join(format!("phase{phase}.graph.json.zst")),
        statics,
    )?)
}

/// One type of a diff: (type, count delta, size delta, count 1, count 2).
type DiffRow = (String, i64, i64, u64, u64);

/// A check of one fixture.
type Check = fn(&Path) -> Result<(), Failed>;

/// The reference diff.
fn reference_diff(dir: &Path) -> Result<Vec<DiffRow>, Failed> {
    let v = json(&dir.join("diff.reference.json"))?;
    let rows = v["diff"].as_array().ok_or("no diff array")?;
    rows.iter()
        .map(|r| {
            Ok((
                r["type"].as_str().ok_or("no type")?.to_owned(),
                r["count_delta"].as_i64().ok_or("count_delta")?,
                r["size_delta"].as_i64().ok_or("size_delta")?,
                r["count_1"].as_u64().ok_or("count_1")?,
                r["count_2"].as_u64().ok_or("count_2")?,
            ))
        })
        .collect()
}

fn compare_diff(ours: &TypeDiff, want: &[DiffRow]) -> Result<(), Failed> {
    let got: Vec<DiffRow> = ours
        .types
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.count_delta(),
                t.bytes_delta(),
                t.count_base,
                t.count_current,
            )
        })
        .collect();
    if got != want {
        return Err(format!("diff:\n ours      {got:?}\n reference {want:?}").into());
    }
    if want.is_empty() {
        return Err("empty reference".into());
    }
    Ok(())
}

/// Phase 2 minus phase 1, per type, from the runtime's own object graphs
/// (every live object counted, as the reference does).
fn type_diff(dir: &Path) -> Result<(), Failed> {
    let stats =
        |p| -> Result<_, Failed> { Ok(type_stats(&graph(dir, p, false)?, None, Selection::All)) };
    let d = diff_type_stats(&stats(1)?, &stats(2)?, DiffOptions::default());
    compare_diff(&d, &reference_diff(dir)?)
}

/// The runtime's root path to `DumpLab.RootTarget`.
fn root_path(dir: &Path) -> Result<(), Failed> {
    let mut checked = 0;
    for phase in [1, 2] {
        let reference = dir.join(format!("phase{phase}.reference.json"));
        if !reference.is_file() {
            continue;
        }
        let (want_path, want_kind) = fixture_graph::reference_root_path(&json(&reference)?)?;
        let g = graph(dir, phase, false)?;
        let paths = root_paths(&g, &mut NoProgress).map_err(|e| e.to_string())?;
        let is_target = |x: u32| g.type_info(g.node_type(x)).name == "DumpLab.RootTarget";
        let p = paths
            .shortest_path_to(is_target)
            .ok_or("no path to DumpLab.RootTarget")?;
        let types: Vec<&str> = p
            .nodes
            .iter()
            .map(|&x| g.type_info(g.node_type(x)).name.as_str())
            .collect();
        if types != want_path {
            return Err(format!("phase {phase}: path {types:?}, runtime {want_path:?}").into());
        }
        let root = &g.roots()[p.root];
        if root.kind != want_kind {
            return Err(
                format!("phase {phase}: root {:?}, runtime {want_kind:?}", root.kind).into(),
            );
        }
        // With the static fields as roots too, the program's own static
        // field is the shortest way in.
        let g = graph(dir, phase, true)?;
        let paths = root_paths(&g, &mut NoProgress).map_err(|e| e.to_string())?;
        let p = paths
            .shortest_path_to(|x| g.type_info(g.node_type(x)).name == "DumpLab.RootTarget")
            .ok_or("no path with statics")?;
        let root = &g.roots()[p.root];
        let expected = json(&dir.join(format!("phase{phase}.expected.json")))?;
        let note = expected["notes"]["root path"].as_str().unwrap_or("");
        let name = g.root_name(root).unwrap_or("");
        let types: Vec<&str> = p
            .nodes
            .iter()
            .map(|&x| g.type_info(g.node_type(x)).name.as_str())
            .collect();
        if root.kind != RootKind::Static
            || name.is_empty()
            || !note.starts_with(&format!("static DumpLab.Roots.{name} "))
            || types[..] != want_path[1..]
        {
            return Err(format!(
                "phase {phase} with statics: {:?} {name:?} {types:?}; expected note {note:?}",
                root.kind
            )
            .into());
        }
        checked += 1;
    }
    if checked == 0 {
        return Err("no reference root path".into());
    }
    Ok(())
}

/// What the live roots reach without `removed`.
fn reach_without(g: &HeapGraph, removed: Option<u32>) -> Vec<bool> {
    let mut seen = vec![false; g.node_count()];
    let mut stack: Vec<u32> = Vec::new();
    for r in g.roots().iter().filter(|r| r.kind.keeps_alive()) {
        if Some(r.object) != removed && !seen[r.object as usize] {
            seen[r.object as usize] = true;
            stack.push(r.object);
        }
    }
    while let Some(x) = stack.pop() {
        for &c in g.children(x) {
            if Some(c) != removed && !seen[c as usize] {
                seen[c as usize] = true;
                stack.push(c);
            }
        }
    }
    seen
}

/// Retained sizes against brute force on the chain, its target and sampled
/// objects; the chain's per-type retained size.
fn retained(dir: &Path) -> Result<(), Failed> {
    let g = graph(dir, 2, true)?;
    let dom = dominators(&g, &mut NoProgress).map_err(|e| e.to_string())?;
    let sizes = retained_sizes(&g, &dom);
    let live = reach_without(&g, None);
    let reachable: u64 = (0..g.node_count() as u32)
        .filter(|&x| live[x as usize])
        .map(|x| g.node_size(x))
        .sum();
    if sizes.reachable_bytes() != reachable {
        return Err(format!("reachable {} vs {reachable}", sizes.reachable_bytes()).into());
    }
    let name = |x: u32| g.type_info(g.node_type(x)).name.as_str();
    let chain: Vec<u32> = (0..g.node_count() as u32)
        .filter(|&x| name(x) == "DumpLab.ChainNode")
        .collect();
    let target: Vec<u32> = (0..g.node_count() as u32)
        .filter(|&x| name(x) == "DumpLab.RootTarget")
        .collect();
    if chain.len() != 50 || target.len() != 1 {
        return Err(format!("{} chain nodes, {} targets", chain.len(), target.len()).into());
    }
    let reachable_nodes: Vec<u32> = (0..g.node_count() as u32)
        .filter(|&x| live[x as usize])
        .collect();
    let step = (reachable_nodes.len() / 40).max(1);
    let sample: Vec<u32> = chain
        .iter()
        .chain(&target)
        .copied()
        .chain(reachable_nodes.iter().step_by(step).copied())
        .collect();
    let mut chain_union = vec![false; g.node_count()];
    for &x in &sample {
        let without = reach_without(&g, Some(x));
        let freed: Vec<u32> = (0..g.node_count() as u32)
            .filter(|&y| live[y as usize] && !without[y as usize])
            .collect();
        let bytes: u64 = freed.iter().map(|&y| g.node_size(y)).sum();
        if sizes.get(x) != bytes {
            return Err(format!(
                "{} 0x{:x}: retained {}, brute force {bytes}",
                name(x),
                g.node_address(x),
                sizes.get(x)
            )
            .into());
        }
        if name(x) == "DumpLab.ChainNode" {
            for y in freed {
                chain_union[y as usize] = true;
            }
        }
    }
    let union: u64 = (0..g.node_count() as u32)
        .filter(|&y| chain_union[y as usize])
        .map(|y| g.node_size(y))
        .sum();
    let rows = retained_by_type(&g, &dom, &sizes);
    let row = rows
        .iter()
        .find(|r| r.name == "DumpLab.ChainNode")
        .ok_or("no ChainNode row")?;
    if (row.retained_bytes, row.count) != (union, 50) {
        return Err(format!(
            "ChainNode: retained {} of {} objects, brute force {union} of 50",
            row.retained_bytes, row.count
        )
        .into());
    }
    Ok(())
}

/// The fixture's dumps, phase 1 and phase 2 of the same kind.
fn dump_pair(dir: &Path) -> Option<(PathBuf, PathBuf)> {
    for kind in ["withheap.core", "heap.dmp", "full.core"] {
        let p1 = dir.join(format!("phase1.{kind}.zst"));
        let p2 = dir.join(format!("phase2.{kind}.zst"));
        if p1.is_file() && p2.is_file() {
            return Some((p1, p2));
        }
    }
    None
}

fn open(dir: &Path, path: &Path) -> Result<heaplens_snapshot::Snapshot, Failed> {
    let modules = fixture_modules::for_fixture(dir)?.unwrap_or_default();
    let file = heaplens_corpus::unpacked(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let src = heaplens_bytes::FileSource::open(&file).map_err(|e| e.to_string())?;
    heaplens_snapshot::open_with(&src, &modules, &mut NoProgress)
        .map_err(|e| format!("{}: {e}", path.display()).into())
}

/// Live per-type statistics of a dump's snapshot (read from `path`),
/// with the objects allocated after the runtime's walk of `phase` taken
/// out and those reclaimed since, or finalized since, put back (by the
/// reference's type name and size).
fn as_at_reference_walk(
    snap: &heaplens_snapshot::Snapshot,
    path: &Path,
    dir: &Path,
    phase: u32,
) -> Result<TypeStats, Failed> {
    let g = &snap.graph;
    let want = graph(dir, phase, false)?;
    let clr = snap.info.clr.as_ref().ok_or("no CLR heap information")?;
    let live = heaplens_analysis::reach::reachable(g);
    let excused = finalized_since(&want, &registered_for_finalization_in(path)?);
    let rec = reconcile(g, &live, &clr.gc.segments, &want, &excused)?;
    let mut change: HashMap<&str, (i64, i64)> = HashMap::new();
    for &o in &rec.later {
        let e = change.entry(type_name(g, o)).or_default();
        e.0 -= 1;
        e.1 -= g.node_size(o) as i64;
    }
    for &r in rec
        .reclaimed
        .iter()
        .chain(rec.released.iter().map(|(r, _)| r))
    {
        let e = change.entry(type_name(&want, r)).or_default();
        e.0 += 1;
        e.1 += want.node_size(r) as i64;
    }
    let mut st = type_stats(g, None, Selection::Reachable);
    // Types the dump cannot name (no metadata: `module!token`) take the
    // reference's name of their MethodTable; names are checked elsewhere.
    // (By the reference objects found at our objects' addresses: the
    // reference gives some arrays of .NET Core 3.1 a TypeDesc, not their
    // MethodTable.)
    let names: HashMap<u64, &str> = rec
        .found
        .iter()
        .map(|&(r, o)| {
            (
                g.type_info(g.node_type(o)).method_table,
                type_name(&want, r),
            )
        })
        .collect();
    for row in &mut st.rows {
        if row.name.contains('!') {
            if let Some(n) = names.get(&row.method_table) {
                row.name = (*n).to_owned();
            }
        }
    }
    for row in &mut st.rows {
        if let Some((c, b)) = change.remove(row.name.as_str()) {
            row.count = (row.count as i64 + c) as u64;
            row.bytes = (row.bytes as i64 + b) as u64;
        }
    }
    // Reclaimed objects of a type the dump no longer has at all.
    for (name, (c, b)) in change {
        if c < 0 || b < 0 {
            return Err(format!("{name}: {c} objects allocated later, but no such type").into());
        }
        st.rows.push(TypeRow {
            // A type of the reference's walk only: no row of the graph.
            id: heaplens_graph::TypeIndex::MAX,
            name: name.to_owned(),
            module: None,
            method_table: 0,
            count: c as u64,
            bytes: b as u64,
            present: c as u64,
        });
    }
    st.rows.retain(|r| r.count > 0);
    Ok(st)
}

/// The diff from the dumps themselves: `heaplens diff`'s own computation,
/// and the same once the objects allocated after or reclaimed since each
/// runtime walk are taken out, which must equal the reference.
fn core_diff(dir: &Path, pair: &(PathBuf, PathBuf)) -> Result<(), Failed> {
    // A dump without the runtime's type data (a Windows heap minidump of
    // .NET 7+) cannot be walked: heaplens must say exactly that.
    let file = heaplens_corpus::unpacked(&pair.0).map_err(|e| e.to_string())?;
    let src = heaplens_bytes::FileSource::open(&file).map_err(|e| e.to_string())?;
    if let Err(heaplens_snapshot::OpenError::Clr(heaplens_clr::ClrError::NoTypeData { segments })) =
        heaplens_snapshot::open(&src, &mut NoProgress)
    {
        eprintln!(
            "{}: no diff: the dump lacks the runtime's type data ({segments} segments stop at \
             a MethodTable not in the dump), as heaplens reports",
            pair.0.display()
        );
        return Ok(());
    }
    let base = open(dir, &pair.0)?;
    let current = open(dir, &pair.1)?;
    // A whole-heap dump: `heaplens diff` compares the live objects.
    for s in [&base, &current] {
        if Selection::for_input(s.info.capabilities) != Selection::Reachable {
            return Err("a core's statistics do not count its live objects only".into());
        }
    }
    let d = diff_type_stats(
        &as_at_reference_walk(&base, &pair.0, dir, 1)?,
        &as_at_reference_walk(&current, &pair.1, dir, 2)?,
        DiffOptions::default(),
    );
    compare_diff(&d, &reference_diff(dir)?)
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let checks: [(&str, Check); 3] = [
        ("type_diff", type_diff),
        ("root_path", root_path),
        ("retained", retained),
    ];
    match heaplens_corpus::shared_or_skip("the analysis fixture tests") {
        Some(shared) => {
            let dirs: Vec<PathBuf> = heaplens_corpus::fixture_dirs(&shared)
                .into_iter()
                .filter(|d| d.join("diff.reference.json").is_file())
                .collect();
            let n = dirs.len();
            trials.push(Trial::test("fixtures_present", move || {
                if n >= 4 {
                    Ok(())
                } else {
                    Err(format!("only {n} fixtures with a diff reference").into())
                }
            }));
            for dir in dirs {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                for (check, f) in checks {
                    let dir = dir.clone();
                    trials.push(Trial::test(format!("{check}::{name}"), move || f(&dir)));
                }
                if let Some(pair) = dump_pair(&dir) {
                    let dir = dir.clone();
                    trials.push(Trial::test(format!("core_diff::{name}"), move || {
                        core_diff(&dir, &pair)
                    }));
                }
            }
        }
        None => {
            for check in ["type_diff", "root_path", "retained", "core_diff"] {
                trials.push(
                    Trial::test(format!("{check}::<corpus missing>"), || Ok(()))
                        .with_ignored_flag(true),
                );
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
