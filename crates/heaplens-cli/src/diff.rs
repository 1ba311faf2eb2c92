//! `heaplens diff`: what grew between two snapshots.

use crate::stats::thousands;
use crate::{open_snapshot, print_json, FileArg};
use clap::Args;
use heaplens_analysis::diff::DiffOptions;
use heaplens_results::diff::{diff_snapshots, DiffDocument, DiffStatus};

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
}

fn signed(n: i64) -> String {
    let s = thousands(n.unsigned_abs());
    match n.signum() {
        1 => format!("+{s}"),
        -1 => format!("-{s}"),
        _ => s,
    }
}

pub fn run(args: &DiffArgs) -> Result<(), String> {
    let base = open_snapshot(&args.base)?;
    let current = open_snapshot(&args.current)?;
    let d = diff_snapshots(
        &base,
        &current,
        DiffOptions {
            normalize_names: args.normalize_names,
        },
    );
    let doc = DiffDocument::build(
        (&args.base.display().to_string(), &base.info),
        (&args.current.display().to_string(), &current.info),
        &d,
        args.top,
    );
    if args.json {
        return print_json(&doc);
    }
    out!("{}", to_table(&doc));
    Ok(())
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
    let _ = writeln!(
        s,
        "\n{:>12}  {:>14}  {:>25}  Type",
        "Count Δ", "Bytes Δ", "Count base → current"
    );
    for t in &doc.types {
        let mark = match t.status {
            DiffStatus::New => "  [new]",
            DiffStatus::Vanished => "  [vanished]",
            DiffStatus::Changed => "",
        };
        let _ = writeln!(
            s,
            "{:>12}  {:>14}  {:>25}  {}{mark}",
            signed(t.count_delta),
            signed(t.bytes_delta),
            format!(
                "{} → {}",
                thousands(t.count_base),
                thousands(t.count_current)
            ),
            t.name
        );
    }
    let _ = writeln!(
        s,
        "\ntotal: {} objects, {} bytes; {} types changed ({} new, {} vanished), {} unchanged{}",
        signed(doc.count_delta),
        signed(doc.bytes_delta),
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
