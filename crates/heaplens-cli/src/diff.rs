//! `heaplens diff`: what grew between two snapshots.

use crate::stats::{thousands, Group};
use crate::{open_snapshot, print_json, FileArg};
use clap::{Args, ValueEnum};
use heaplens_analysis::diff::DiffOptions;
use heaplens_graph::NoProgress;
use heaplens_results::diff::{add_retained, diff_snapshots, DiffDocument, DiffSort, DiffStatus};
use heaplens_results::flame::{flame_of, FlameMeasure};
use heaplens_results::groups::{DiffGroupRow, DiffGroupTable};
use heaplens_results::stats::stats_of;

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The earlier snapshot.
    base: FileArg,
    /// The later snapshot (any format heaplens reads).
    current: FileArg,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
    /// Show only the first N changed types.
    #[arg(long, value_name = "N")]
    top: Option<usize>,
    /// Compare type names after normalizing their spelling (generic
    /// arguments, size buckets). On by default when the two inputs have
    /// different formats.
    #[arg(long)]
    normalize_names: bool,
    /// Order of the types: by |bytes delta| (PerfView's Diff), by |count
    /// delta|, or by retained growth (computes retained sizes: what grew
    /// and holds the growth comes first).
    #[arg(long, value_enum, default_value_t = By::Bytes)]
    by: By,
    /// Compute retained sizes (Δ retained, Δ %) without ordering by them.
    #[arg(long)]
    retained: bool,
    /// Group the types: by namespace, assembly, implemented interface or
    /// base type, before → after.
    #[arg(long, value_enum, value_name = "BY")]
    group: Option<Group>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum By {
    Bytes,
    Count,
    Retained,
}

pub fn run(args: &DiffArgs) -> Result<(), String> {
    let base = open_snapshot(&args.base)?;
    let current = open_snapshot(&args.current)?;
    let mut d = diff_snapshots(
        &base,
        &current,
        DiffOptions {
            normalize_names: args.normalize_names,
        },
    );
    let sort = match args.by {
        By::Bytes => DiffSort::Bytes,
        By::Count => DiffSort::Count,
        By::Retained => DiffSort::RetainedGrowth,
    };
    let with_retained = args.retained || sort == DiffSort::RetainedGrowth;
    let flames = if with_retained {
        let flame =
            |s| flame_of(s, FlameMeasure::Retained, &mut NoProgress).map_err(|e| e.to_string());
        let (b, c) = (flame(&base)?, flame(&current)?);
        add_retained(&mut d, (&base, &b), (&current, &c));
        Some((b, c))
    } else {
        None
    };
    d.sort(sort.order());
    let mut doc = DiffDocument::build(
        (&args.base.display().to_string(), &base.info),
        (&args.current.display().to_string(), &current.info),
        &d,
        args.top,
    );
    doc.sorted_by = sort;
    doc.retained = with_retained;
    if let Some(group) = args.group {
        let (bs, cs) = (stats_of(&base), stats_of(&current));
        let mut table = DiffGroupTable::build(
            (&base, &bs, flames.as_ref().map(|f| &f.0)),
            (&current, &cs, flames.as_ref().map(|f| &f.1)),
            group.kind(),
        );
        if let Some(n) = args.top {
            table.rows.truncate(n);
        }
        doc.groups = Some(table);
    }
    if args.json {
        return print_json(&doc);
    }
    out!("{}", to_table(&doc));
    Ok(())
}

fn arrow(a: u64, b: u64) -> String {
    format!("{} → {}", thousands(a), thousands(b))
}

fn percent(delta: Option<i64>, base: Option<u64>) -> String {
    match (delta, base.filter(|&b| b > 0)) {
        (Some(d), Some(b)) => format!("{:+.1} %", d as f64 * 100.0 / b as f64),
        (Some(_), None) => "new".to_owned(),
        _ => String::new(),
    }
}

fn group_rows(s: &mut String, table: &DiffGroupTable, retained: bool) {
    use std::fmt::Write;
    let _ = writeln!(
        s,
        "\n{:>12}  {:>14}  {:>25}{}  {}",
        "Count Δ",
        "Bytes Δ",
        "Count base → current",
        if retained {
            format!("  {:>14}  {:>9}", "Retained Δ", "Δ %")
        } else {
            String::new()
        },
        table.by.as_str()
    );
    let row = |r: &DiffGroupRow| -> String {
        let mut line = format!(
            "{:>12}  {:>14}  {:>25}",
            heaplens_analysis::format::signed_thousands(r.count_delta),
            heaplens_analysis::format::signed_thousands(r.bytes_delta),
            arrow(r.count_base, r.count_current)
        );
        if retained {
            line += &format!(
                "  {:>14}  {:>9}",
                r.retained_delta
                    .map(heaplens_analysis::format::signed_thousands)
                    .unwrap_or_default(),
                percent(r.retained_delta, r.retained_base)
            );
        }
        line
    };
    for r in &table.rows {
        let _ = writeln!(s, "{}  {}", row(r), r.name);
    }
    for n in &table.notes {
        let _ = writeln!(s, "note: {n}");
    }
}

fn to_table(doc: &DiffDocument) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    for (which, side) in [("base", &doc.base), ("current", &doc.current)] {
        let line = side.coverage.line();
        if !line.is_empty() {
            let _ = write!(s, "{which}: {line}");
        }
    }
    for (label, side) in [("base   ", &doc.base), ("current", &doc.current)] {
        let _ = writeln!(
            s,
            "{label} {}: {} objects, {} bytes ({})",
            side.file,
            thousands(side.objects),
            thousands(side.bytes),
            side.format
        );
    }
    if let Some(table) = &doc.groups {
        group_rows(&mut s, table, doc.retained);
        return s;
    }
    let retained_cols = if doc.retained {
        format!(
            "  {:>14}  {:>9}  {:>31}",
            "Retained Δ", "Δ %", "Retained base → current"
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        s,
        "\n{:>12}  {:>14}  {:>25}{retained_cols}  Type",
        "Count Δ", "Bytes Δ", "Count base → current"
    );
    for t in &doc.types {
        let mark = match t.status {
            DiffStatus::New => "  [new]",
            DiffStatus::Vanished => "  [vanished]",
            DiffStatus::Changed => "",
        };
        let retained = if doc.retained {
            format!(
                "  {:>14}  {:>9}  {:>31}",
                t.retained_delta
                    .map(heaplens_analysis::format::signed_thousands)
                    .unwrap_or_default(),
                percent(t.retained_delta, t.retained_base),
                arrow(
                    t.retained_base.unwrap_or(0),
                    t.retained_current.unwrap_or(0)
                )
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            s,
            "{:>12}  {:>14}  {:>25}{retained}  {}{mark}",
            heaplens_analysis::format::signed_thousands(t.count_delta),
            heaplens_analysis::format::signed_thousands(t.bytes_delta),
            arrow(t.count_base, t.count_current),
            t.name
        );
    }
    let order = match doc.sorted_by {
        DiffSort::Bytes => "by |bytes Δ|",
        DiffSort::Count => "by |count Δ|",
        DiffSort::RetainedGrowth => "by retained growth",
    };
    let _ = writeln!(
        s,
        "\ntotal: {} objects, {} bytes; {} types changed ({} new, {} vanished), {} unchanged{}; {order}",
        heaplens_analysis::format::signed_thousands(doc.count_delta),
        heaplens_analysis::format::signed_thousands(doc.bytes_delta),
        doc.changed_types,
        doc.new_types,
        doc.vanished_types,
        doc.unchanged_types,
        if doc.names_normalized {
            "; names normalized"
        } else {
            ""
        }
    );
    s
}
