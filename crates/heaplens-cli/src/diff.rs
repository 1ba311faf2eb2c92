//! `heaplens diff`: what grew between two snapshots.

use crate::stats::thousands;
use crate::{open_snapshot, FileArg};
use clap::Args;
use heaplens_analysis::diff::{diff_snapshots, DiffOptions, TypeDelta};
use serde_json::{json, Value};

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

fn status(t: &TypeDelta) -> &'static str {
    if t.is_new() {
        "new"
    } else if t.is_vanished() {
        "vanished"
    } else {
        "changed"
    }
}

pub fn run(args: &DiffArgs) -> Result<(), String> {
    let base = open_snapshot(&args.base)?;
    let current = open_snapshot(&args.current)?;
    let normalize = args.normalize_names || base.info.format != current.info.format;
    let mut d = diff_snapshots(
        &base,
        &current,
        DiffOptions {
            normalize_names: normalize,
        },
    );
    let changed = d.types.len();
    let (new, vanished) = (d.new_types().count(), d.vanished_types().count());
    if let Some(n) = args.top {
        d.types.truncate(n);
    }
    let format = |s: &heaplens_graph::Snapshot| s.info.format.map_or("unknown", |f| f.as_str());
    if args.json {
        let types: Vec<Value> = d
            .types
            .iter()
            .map(|t| {
                json!({
                    "name": t.name,
                    "count_delta": t.count_delta(),
                    "bytes_delta": t.bytes_delta(),
                    "count_base": t.count_base,
                    "count_current": t.count_current,
                    "bytes_base": t.bytes_base,
                    "bytes_current": t.bytes_current,
                    "status": status(t),
                })
            })
            .collect();
        let v = json!({
            "base": {
                "file": args.base.display().to_string(),
                "format": format(&base),
                "objects": d.base.0,
                "bytes": d.base.1,
            },
            "current": {
                "file": args.current.display().to_string(),
                "format": format(&current),
                "objects": d.current.0,
                "bytes": d.current.1,
            },
            "count_delta": d.count_delta(),
            "bytes_delta": d.bytes_delta(),
            "changed_types": changed,
            "new_types": new,
            "vanished_types": vanished,
            "unchanged_types": d.unchanged,
            "names_normalized": normalize,
            "types": types,
        });
        outln!("{v}");
        return Ok(());
    }
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "base    {}: {} objects, {} bytes ({})",
        args.base.display(),
        thousands(d.base.0),
        thousands(d.base.1),
        format(&base)
    );
    let _ = writeln!(
        s,
        "current {}: {} objects, {} bytes ({})",
        args.current.display(),
        thousands(d.current.0),
        thousands(d.current.1),
        format(&current)
    );
    let _ = writeln!(
        s,
        "\n{:>12}  {:>14}  {:>25}  Type",
        "Count Δ", "Bytes Δ", "Count base → current"
    );
    for t in &d.types {
        let mark = match status(t) {
            "new" => "  [new]",
            "vanished" => "  [vanished]",
            _ => "",
        };
        let _ = writeln!(
            s,
            "{:>12}  {:>14}  {:>25}  {}{mark}",
            signed(t.count_delta()),
            signed(t.bytes_delta()),
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
        "\ntotal: {} objects, {} bytes; {changed} types changed ({new} new, {vanished} vanished), {} unchanged{}",
        signed(d.count_delta()),
        signed(d.bytes_delta()),
        d.unchanged,
        if normalize { "; names normalized" } else { "" }
    );
    out!("{s}");
    Ok(())
}
