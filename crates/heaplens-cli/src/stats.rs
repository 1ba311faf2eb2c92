//! `heaplens stats`.

use crate::{file_bytes, open_snapshot, print_json, FileArg};
use clap::{Args, ValueEnum};
use heaplens_analysis::stats::SortKey;
use heaplens_graph::NoProgress;
use heaplens_results::flame::{flame_of, FlameMeasure};
use heaplens_results::groups::{GroupKind, GroupTable};
use heaplens_results::stats::{stats_of, ClrFacts, StatsDocument, TypeStatsRow};

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
    /// Add PerfView's inclusive columns (Inc, Inc Ct: the bytes and
    /// objects below each type in PerfView's spanning tree, as its By Name
    /// view has them). Costs a spanning tree.
    #[arg(long)]
    inclusive: bool,
    /// Add retained sizes (Retained, Retained %: what freeing every object
    /// of the type would free). Costs a dominator tree.
    #[arg(long)]
    retained: bool,
    /// Group the types: by namespace, assembly, implemented interface or
    /// base type (each type in every group it belongs to).
    #[arg(long, value_enum, value_name = "BY")]
    group: Option<Group>,
    /// With --group: the members shown under each group, largest first.
    #[arg(long, value_name = "N", default_value_t = 3)]
    members: usize,
    /// Fold the types whose name matches this regular expression into
    /// their referrers (PerfView's FoldPats: their objects count with the
    /// object that holds them in PerfView's spanning tree), e.g. `\[\]$`
    /// for arrays. Implies --inclusive.
    #[arg(long, value_name = "REGEX")]
    fold: Option<String>,
    /// Fold too the types whose Inc is below this percentage of the total
    /// (PerfView's Fold %). Implies --inclusive.
    #[arg(long, value_name = "PERCENT")]
    fold_percent: Option<f64>,
    /// Print comma-separated values (every column computed) instead of a
    /// table.
    #[arg(long, conflicts_with = "json")]
    csv: bool,
    /// Count every object on the heap per type, garbage not yet collected
    /// included (as dotnet-dump dumpheap -stat), without reading the
    /// references: memory per type, not per object, so it works on heaps
    /// whose graph does not fit. No roots, retained sizes or findings.
    #[arg(
        long,
        conflicts_with_all = ["inclusive", "retained", "group", "fold", "fold_percent", "csv"]
    )]
    all_objects: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Sort {
    Bytes,
    Count,
    Name,
    /// PerfView's Inc (implies --inclusive).
    Inc,
    /// Retained bytes (implies --retained).
    Retained,
}

/// What `--group` groups by.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Group {
    Namespace,
    Assembly,
    Interface,
    Base,
}

impl Group {
    pub(crate) fn kind(self) -> GroupKind {
        match self {
            Group::Namespace => GroupKind::Namespace,
            Group::Assembly => GroupKind::Assembly,
            Group::Interface => GroupKind::Interface,
            Group::Base => GroupKind::Base,
        }
    }
}

pub fn run(args: &StatsArgs) -> Result<(), String> {
    let filter = args
        .filter
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| format!("--filter is not a valid regular expression: {e}"))?;
    if args.all_objects {
        let sort = match args.sort {
            Sort::Bytes => crate::counts::Sort::Bytes,
            Sort::Count => crate::counts::Sort::Count,
            Sort::Name => crate::counts::Sort::Name,
            Sort::Inc | Sort::Retained => {
                return Err(
                    "--all-objects reads no references: sort by bytes, count or name".to_owned(),
                )
            }
        };
        return crate::counts::run(&args.file, args.json, args.top, sort, filter.as_ref());
    }
    let snap = open_snapshot(&args.file)?;
    let mut st = stats_of(&snap);
    let all = st.clone();
    st.sort(match args.sort {
        Sort::Count => SortKey::Count,
        Sort::Name => SortKey::Name,
        _ => SortKey::Bytes,
    });
    let type_count = st.rows.len();
    // Grouped, the filter and --top apply to the groups; every type stays
    // (a group's members).
    if let (Some(re), None) = (&filter, args.group) {
        st.retain_matching(re);
    }
    let matching = st.rows.len();
    let mut doc = StatsDocument::build(
        &args.file.display().to_string(),
        file_bytes(&args.file)?,
        &snap,
        &st,
        type_count,
        matching,
    );
    let fold = args
        .fold
        .as_deref()
        .map(regex::Regex::new)
        .transpose()
        .map_err(|e| format!("--fold is not a valid regular expression: {e}"))?;
    let folding = fold.is_some() || args.fold_percent.is_some();
    let want_inc = args.inclusive || matches!(args.sort, Sort::Inc) || folding;
    let want_retained = args.retained || matches!(args.sort, Sort::Retained);
    let flame = |by| flame_of(&snap, by, &mut NoProgress).map_err(|e| e.to_string());
    let inclusive = want_inc
        .then(|| flame(FlameMeasure::Inclusive))
        .transpose()?;
    let retained = want_retained
        .then(|| flame(FlameMeasure::Retained))
        .transpose()?;
    for f in inclusive.iter().chain(&retained) {
        doc.add_columns(&snap.graph, f);
    }
    if let (true, Some(flame)) = (folding, &inclusive) {
        // Every row (the document's may be filtered) chooses.
        let mut all_doc = StatsDocument::build_all("", 0, &snap, &all);
        all_doc.add_columns(&snap.graph, flame);
        doc.fold(
            &snap.graph,
            flame,
            &all_doc,
            |name| fold.as_ref().is_some_and(|re| re.is_match(name)),
            args.fold.clone(),
            args.fold_percent,
        );
    }
    match args.sort {
        Sort::Inc => doc
            .types
            .sort_by(|a, b| b.inc.cmp(&a.inc).then(b.bytes.cmp(&a.bytes))),
        Sort::Retained => doc.types.sort_by(|a, b| {
            b.retained_bytes
                .cmp(&a.retained_bytes)
                .then(b.bytes.cmp(&a.bytes))
        }),
        _ => {}
    }
    if let Some(group) = args.group {
        let mut table = GroupTable::build(
            &snap,
            &all,
            group.kind(),
            inclusive.as_ref(),
            retained.as_ref(),
        );
        if let Some(re) = &filter {
            table.rows.retain(|r| re.is_match(&r.name));
        }
        if let Some(n) = args.top {
            table.rows.truncate(n);
        }
        doc.groups = Some(table);
    }
    if let (Some(n), None) = (args.top, args.group) {
        doc.types.truncate(n);
    }
    if args.json {
        print_json(&doc)
    } else if args.csv {
        print!("{}", to_csv(&doc));
        Ok(())
    } else {
        out!("{}", to_table(&doc, args.members));
        Ok(())
    }
}

/// The header lines of a CLR heap read: runtime, GC and coverage.
fn clr_header(doc: &StatsDocument, clr: &ClrFacts) -> String {
    runtime_lines(doc.runtime.as_deref(), clr)
        + &format!(
            "finalization: {} objects registered (not roots), {} ready for finalization (roots)\n",
            thousands(clr.finalization_registered),
            thousands(clr.finalization_ready),
        )
}

/// The runtime and heap lines of a CLR heap read.
pub(crate) fn runtime_lines(runtime: Option<&str>, clr: &ClrFacts) -> String {
    let mut runtime = runtime
        .map(str::to_owned)
        .unwrap_or_else(|| ".NET".to_owned());
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
         heap: {} bytes in {} {}, {held}\n",
        clr.gc_summary(),
        thousands(clr.heap_bytes),
        clr.segments,
        clr.heap_layout.as_str(),
    )
}

pub use heaplens_analysis::format::thousands;

/// The optional columns present in a document.
struct Columns {
    inc: bool,
    retained: bool,
    fold: bool,
}

impl Columns {
    fn of(doc: &StatsDocument) -> Columns {
        Columns {
            inc: doc.inclusive_total.is_some(),
            retained: doc.retained_total.is_some(),
            fold: doc.folds.is_some(),
        }
    }

    fn header(&self) -> String {
        let mut h = format!("{:>12}  {:>14}  {:>6}", "Count", "Bytes", "%");
        if self.fold {
            h += &format!("  {:>14}", "Fold");
        }
        if self.inc {
            h += &format!("  {:>14}  {:>12}", "Inc", "Inc Ct");
        }
        if self.retained {
            h += &format!("  {:>14}  {:>6}", "Retained", "Ret %");
        }
        h
    }

    #[allow(clippy::too_many_arguments)]
    fn cells(
        &self,
        count: u64,
        bytes: u64,
        percent: f64,
        fold: u64,
        inc: Option<(u64, u64)>,
        retained: Option<(u64, f64)>,
    ) -> String {
        let mut c = format!(
            "{:>12}  {:>14}  {:>6.2}",
            thousands(count),
            thousands(bytes),
            percent
        );
        if self.fold {
            c += &format!("  {:>14}", thousands(fold));
        }
        if self.inc {
            let (i, n) = inc.unwrap_or_default();
            c += &format!("  {:>14}  {:>12}", thousands(i), thousands(n));
        }
        if self.retained {
            let (r, p) = retained.unwrap_or_default();
            c += &format!("  {:>14}  {:>6.2}", thousands(r), p);
        }
        c
    }

    /// A row; with folds, its count and bytes include what was folded
    /// into it (PerfView's Exc), and Fold shows that part.
    fn row(&self, doc: &StatsDocument, r: &TypeStatsRow) -> String {
        let (fold, fold_count) = (r.fold_bytes.unwrap_or(0), r.fold_count.unwrap_or(0));
        self.cells(
            r.count + fold_count,
            r.bytes + fold,
            (r.bytes + fold) as f64 * 100.0 / doc.bytes.max(1) as f64,
            fold,
            r.inc.zip(r.inc_count),
            r.retained_bytes
                .map(|b| (b, doc.retained_percent(r).unwrap_or(0.0))),
        )
    }
}

fn module_of(r: &TypeStatsRow) -> String {
    r.module
        .as_deref()
        .map(|m| format!("  [{}]", m.rsplit(['/', '\\']).next().unwrap_or(m)))
        .unwrap_or_default()
}

fn to_table(doc: &StatsDocument, members: usize) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let mut source = doc.header.format.clone();
    if let Some(tool) = &doc.creation_tool {
        source += &format!(" written by {tool}");
    }
    if let Some(p) = doc.header.pointer_size {
        source += &format!(", {}-bit", p as u32 * 8);
    }
    let _ = writeln!(s, "{}: {source}", doc.header.file);
    s += &crate::archive_lines(&doc.header.archives);
    s += &doc.header.coverage.line();
    s += &crate::process_line(doc.header.process_name.as_deref(), doc.header.process_id);
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
    let cols = Columns::of(doc);
    let _ = writeln!(s);
    match &doc.groups {
        Some(table) => group_table(&mut s, doc, table, &cols, members),
        None => {
            let _ = writeln!(s, "{}  Type", cols.header());
            for r in &doc.types {
                let _ = writeln!(s, "{}  {}{}", cols.row(doc, r), r.name, module_of(r));
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
        }
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
    if let Some(f) = &doc.folds {
        let _ = writeln!(
            s,
            "folded into their referrers: {} types; {} objects, {} bytes of them held by roots \
             directly (not in the table)",
            f.folded_type_ids.len(),
            thousands(f.into_roots.count),
            thousands(f.into_roots.bytes)
        );
    }
    if let Some(t) = doc.inclusive_total {
        let _ = writeln!(
            s,
            "inclusive (PerfView's spanning tree): {} bytes in all",
            thousands(t)
        );
    }
    if let Some(t) = doc.retained_total {
        let _ = writeln!(
            s,
            "retained: {} bytes reachable from the live roots",
            thousands(t)
        );
    }
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

fn group_table(
    s: &mut String,
    doc: &StatsDocument,
    table: &GroupTable,
    cols: &Columns,
    members: usize,
) {
    use std::fmt::Write;
    let by_id: std::collections::HashMap<_, _> = doc.types.iter().map(|r| (r.id, r)).collect();
    let _ = writeln!(
        s,
        "{}  {:>6}  {}",
        cols.header(),
        "Types",
        table.by.as_str()
    );
    let total = doc.bytes.max(1) as f64;
    let retained_total = doc.retained_total.unwrap_or(0).max(1) as f64;
    for g in &table.rows {
        let _ = writeln!(
            s,
            "{}  {:>6}  {}",
            cols.cells(
                g.count,
                g.bytes,
                g.bytes as f64 * 100.0 / total,
                0,
                g.inc.zip(g.inc_count),
                g.retained_bytes
                    .map(|r| (r, r as f64 * 100.0 / retained_total)),
            ),
            g.type_ids.len(),
            g.name
        );
        for id in g.type_ids.iter().take(members) {
            if let Some(r) = by_id.get(id) {
                let _ = writeln!(s, "{}  {:>6}    {}", cols.row(doc, r), "", r.name);
            }
        }
        if g.type_ids.len() > members && members > 0 {
            let _ = writeln!(
                s,
                "{:>w$}    … {} more",
                "",
                g.type_ids.len() - members,
                w = cols.header().len() + 8
            );
        }
    }
    let _ = writeln!(s);
    for n in &table.notes {
        let _ = writeln!(s, "note: {n}");
    }
}

/// A CSV field: quoted when it holds a comma, a quote or a line break.
fn csv_field(v: &str) -> String {
    if v.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", v.replace('"', "\"\""))
    } else {
        v.to_owned()
    }
}

fn to_csv(doc: &StatsDocument) -> String {
    let opt = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
    let pct = |v: Option<f64>| v.map(|x| format!("{x:.4}")).unwrap_or_default();
    let mut s = String::from(
        "count,bytes,percent,fold_count,fold_bytes,inc,inc_count,inc_percent,retained,retained_percent,type,module,id\n",
    );
    for r in &doc.types {
        s += &format!(
            "{},{},{:.4},{},{},{},{},{},{},{},{},{},{}\n",
            r.count,
            r.bytes,
            doc.percent(r),
            opt(r.fold_count),
            opt(r.fold_bytes),
            opt(r.inc),
            opt(r.inc_count),
            pct(doc.inc_percent(r)),
            opt(r.retained_bytes),
            pct(doc.retained_percent(r)),
            csv_field(&r.name),
            csv_field(r.module.as_deref().unwrap_or("")),
            r.id.0
        );
    }
    s
}
