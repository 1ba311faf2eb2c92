//! `heaplens stats`.

use crate::{file_bytes, open_snapshot, print_json, FileArg};
use clap::{Args, ValueEnum};
use heaplens_analysis::stats::SortKey;
use heaplens_results::stats::{stats_of, ClrFacts, StatsDocument};

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
    let mut st = stats_of(&snap);
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
    let doc = StatsDocument::build(
        &args.file.display().to_string(),
        file_bytes(&args.file)?,
        &snap,
        &st,
        type_count,
        matching,
    );
    if args.json {
        print_json(&doc)
    } else {
        out!("{}", to_table(&doc));
        Ok(())
    }
}

/// The header lines of a CLR heap read: runtime, GC and coverage.
fn clr_header(doc: &StatsDocument, clr: &ClrFacts) -> String {
    let mut runtime = doc.runtime.clone().unwrap_or_else(|| ".NET".to_owned());
    if let Some(v) = clr
        .runtime_version
        .as_deref()
        .and_then(|v| v.split_whitespace().next())
    {
        runtime += &format!(" ({v})");
    }
    let held = if clr.heap_bytes_captured == clr.heap_bytes {
        "all of them in the dump".to_owned()
    } else {
        format!("{} of them in the dump", thousands(clr.heap_bytes_captured))
    };
    format!(
        "runtime: {runtime}, {}\n\
         heap: {} bytes in {} {}, {held}\n\
         finalization: {} objects registered (not roots), {} ready for finalization (roots)\n",
        clr.gc_summary(),
        thousands(clr.heap_bytes),
        clr.segments,
        clr.heap_layout.as_str(),
        thousands(clr.finalization_registered),
        thousands(clr.finalization_ready),
    )
}

pub use heaplens_analysis::format::thousands;

fn to_table(doc: &StatsDocument) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let mut source = doc.format.clone();
    if let Some(tool) = &doc.creation_tool {
        source += &format!(" written by {tool}");
    }
    if let Some(p) = doc.pointer_size {
        source += &format!(", {}-bit", p as u32 * 8);
    }
    let _ = writeln!(s, "{}: {source}", doc.file);
    s += &crate::archive_lines(&doc.archives);
    s += &doc.coverage.line();
    if let Some(name) = &doc.process_name {
        let pid = doc
            .process_id
            .map(|p| format!(" (pid {p})"))
            .unwrap_or_default();
        let _ = writeln!(s, "process: {name}{pid}");
    }
    if let Some(clr) = &doc.clr {
        s += &clr_header(doc, clr);
    }
    for note in &doc.notes {
        let _ = writeln!(s, "note: {note}");
    }
    if doc.unreachable.is_some() {
        let _ = writeln!(
            s,
            "live objects only (reachable from the roots); free space and unreachable \
             objects are listed below the table"
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "{:>12}  {:>14}  {:>6}  Type", "Count", "Bytes", "%");
    for r in &doc.types {
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
            doc.percent(r),
            r.name,
            module
        );
    }
    let _ = writeln!(s);
    let shown = doc.types.len() as u64;
    if doc.matching_types != doc.type_count || shown != doc.matching_types {
        let _ = writeln!(
            s,
            "showing {} of {} matching types ({} types in all)",
            shown, doc.matching_types, doc.type_count
        );
    }
    let scaled = if doc.scaled {
        " (scaled from a sample)"
    } else {
        ""
    };
    let _ = writeln!(
        s,
        "total: {} objects, {} bytes in {} types{scaled}",
        thousands(doc.objects),
        thousands(doc.bytes),
        doc.type_count
    );
    if doc.free.count > 0 {
        let _ = writeln!(
            s,
            "free: {} blocks, {} bytes (not in the table)",
            thousands(doc.free.count),
            thousands(doc.free.bytes)
        );
    }
    if let Some(u) = doc.unreachable {
        let _ = writeln!(
            s,
            "unreachable: {} objects, {} bytes ({}; not in the table)",
            thousands(u.count),
            thousands(u.bytes),
            doc.unreachable_are.describe()
        );
    }
    if let Some(u) = doc.not_reachable_from_roots.filter(|u| u.count > 0) {
        let _ = writeln!(
            s,
            "not reachable from roots: {} objects, {} bytes (in the table; {})",
            thousands(u.count),
            thousands(u.bytes),
            doc.unreachable_are.describe()
        );
    }
    s
}
