//! `heaplens stats`.

use crate::{open_snapshot, FileArg};
use clap::{Args, ValueEnum};
use heaplens_analysis::stats::{type_stats, Selection, SortKey, TypeStats};
use heaplens_graph::{ClrHeapInfo, InputFormat, Snapshot, SnapshotInfo};
use serde_json::{json, Value};

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// The snapshot to read (.gcdump, Linux core).
    file: FileArg,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Show only the first N types.
    #[arg(long, value_name = "N")]
    top: Option<usize>,
    /// Order of the types.
    #[arg(long, value_enum, default_value_t = Sort::Bytes)]
    sort: Sort,
    /// Show only types whose name matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    filter: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Sort {
    Bytes,
    Count,
    Name,
}

pub fn run(args: &StatsArgs) -> Result<(), String> {
    let filter = args
        .filter
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| format!("--filter is not a valid regular expression: {e}"))?;
    let snap = open_snapshot(&args.file)?;
    let selection = match snap.info.format {
        // A .gcdump holds what the GC itself found live.
        Some(InputFormat::GcDump) | None => Selection::All,
        _ => Selection::Reachable,
    };
    let mut st = type_stats(&snap.graph, snap.info.sampling.as_ref(), selection);
    st.sort(match args.sort {
        Sort::Bytes => SortKey::Bytes,
        Sort::Count => SortKey::Count,
        Sort::Name => SortKey::Name,
    });
    let type_count = st.rows.len();
    if let Some(re) = &filter {
        st.retain_matching(re);
    }
    let matching = st.rows.len();
    if let Some(n) = args.top {
        st.rows.truncate(n);
    }
    if args.json {
        outln!("{}", to_json(&snap, &st, type_count, matching));
    } else {
        out!(
            "{}",
            to_table(
                &args.file.display().to_string(),
                &snap,
                &st,
                type_count,
                matching
            )
        );
    }
    Ok(())
}

fn to_json(snap: &Snapshot, st: &TypeStats, type_count: usize, matching: usize) -> Value {
    let types: Vec<Value> = st
        .rows
        .iter()
        .map(|r| {
            let mut v = json!({"name": r.name, "count": r.count, "bytes": r.bytes});
            if let Some(m) = &r.module {
                v["module"] = json!(m);
            }
            if r.method_table != 0 {
                v["mt"] = json!(format!("{:#x}", r.method_table));
            }
            if st.scaled {
                v["present"] = json!(r.present);
            }
            v
        })
        .collect();
    let mut out = json!({
        "format": snap.info.format.map_or("unknown", |f| f.as_str()),
        "objects": st.objects,
        "bytes": st.bytes,
        "type_count": type_count,
        "matching_types": matching,
        "nodes": snap.graph.node_count(),
        "pseudo_nodes": st.pseudo_nodes,
        "undefined_nodes": st.undefined_nodes,
        "free": {"count": st.free.count, "bytes": st.free.bytes},
        "scaled": st.scaled,
        "types": types,
    });
    if let Some(u) = st.unreachable {
        out["unreachable"] = json!({"count": u.count, "bytes": u.bytes});
    }
    let info = &snap.info;
    if let Some(s) = &info.sampling {
        out["sampling"] = json!({
            "average_count_multiplier": s.average_count_multiplier,
            "average_size_multiplier": s.average_size_multiplier,
        });
    }
    for (key, val) in [
        ("creation_tool", &info.creation_tool),
        ("process_name", &info.process_name),
        ("machine_name", &info.machine_name),
        ("runtime", &info.runtime),
    ] {
        if let Some(v) = val {
            out[key] = json!(v);
        }
    }
    if let Some(pid) = info.process_id {
        out["process_id"] = json!(pid);
    }
    if let Some(p) = info.pointer_size {
        out["pointer_size"] = json!(p);
    }
    if let Some(clr) = &info.clr {
        out["clr"] = json!({
            "runtime_path": clr.runtime_path,
            "runtime_version": clr.version,
            "gc_mode": clr.gc_mode.as_str(),
            "heap_layout": clr.layout.as_str(),
            "heap_count": clr.heap_count,
            "segments": clr.segments.len(),
            "heap_bytes": clr.heap_bytes,
            "heap_bytes_captured": clr.heap_bytes_captured,
            "walk_problems": clr.walk_problems.len(),
            "heap_found_by": if clr.found_by_shape { "shape" } else { "gc_dac_vars" },
        });
    }
    if !info.notes.is_empty() {
        out["notes"] = json!(info.notes);
    }
    out
}

/// The header lines of a CLR heap read: runtime, GC and coverage.
fn clr_header(info: &SnapshotInfo, clr: &ClrHeapInfo) -> String {
    let mut runtime = info.runtime.clone().unwrap_or_else(|| ".NET".to_owned());
    if let Some(v) = clr
        .version
        .as_deref()
        .and_then(|v| v.split_whitespace().next())
    {
        runtime += &format!(" ({v})");
    }
    format!(
        "runtime: {runtime}, {}\n\
         heap: {} bytes in {} {}, {:.1} % of them in the dump\n",
        clr.gc_summary(),
        thousands(clr.heap_bytes),
        clr.segments.len(),
        clr.layout.as_str(),
        clr.coverage_percent(),
    )
}

pub use heaplens_analysis::format::thousands;

fn to_table(
    file: &str,
    snap: &Snapshot,
    st: &TypeStats,
    type_count: usize,
    matching: usize,
) -> String {
    use std::fmt::Write;
    let info = &snap.info;
    let mut s = String::new();
    let mut source = info.format.map_or("unknown", |f| f.as_str()).to_owned();
    if let Some(tool) = &info.creation_tool {
        source += &format!(" written by {tool}");
    }
    if let Some(p) = info.pointer_size {
        source += &format!(", {}-bit", p as u32 * 8);
    }
    let _ = writeln!(s, "{file}: {source}");
    if let Some(name) = &info.process_name {
        let pid = info
            .process_id
            .map(|p| format!(" (pid {p})"))
            .unwrap_or_default();
        let _ = writeln!(s, "process: {name}{pid}");
    }
    if let Some(clr) = &info.clr {
        s += &clr_header(info, clr);
    }
    for note in &info.notes {
        let _ = writeln!(s, "note: {note}");
    }
    if st.unreachable.is_some() {
        let _ = writeln!(
            s,
            "live objects only (reachable from the roots); free space and unreachable \
             objects are listed below the table"
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{:>12}  {:>14}  {:>6}  Type", "Count", "Bytes", "%");
    for r in &st.rows {
        let module = r
            .module
            .as_deref()
            .map(|m| format!("  [{}]", m.rsplit(['/', '\\']).next().unwrap_or(m)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{:>12}  {:>14}  {:>6.2}  {}{}",
            thousands(r.count),
            thousands(r.bytes),
            st.percent(r),
            r.name,
            module
        );
    }
    let _ = writeln!(s);
    if matching != type_count || st.rows.len() != matching {
        let _ = writeln!(
            s,
            "showing {} of {} matching types ({} types in all)",
            st.rows.len(),
            matching,
            type_count
        );
    }
    let scaled = if st.scaled {
        " (scaled from a sample)"
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "total: {} objects, {} bytes in {} types{scaled}",
        thousands(st.objects),
        thousands(st.bytes),
        type_count
    );
    if st.free.count > 0 {
        let _ = writeln!(
            s,
            "free: {} blocks, {} bytes (not in the table)",
            thousands(st.free.count),
            thousands(st.free.bytes)
        );
    }
    if let Some(u) = st.unreachable {
        let _ = writeln!(
            s,
            "unreachable: {} objects, {} bytes (garbage not yet collected; not in the table)",
            thousands(u.count),
            thousands(u.bytes)
        );
    }
    s
}
