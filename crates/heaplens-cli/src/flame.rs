//! `heaplens flame`: a flame graph of what holds the heap.

use crate::stats::thousands;
use crate::{open_snapshot, print_json, FileArg};
use clap::{Args, ValueEnum};
use heaplens_graph::NoProgress;
use heaplens_results::flame::{diff_of, flame_of, FlameDocument, FlameLimits, FlameMeasure};

#[derive(Args, Debug)]
pub struct FlameArgs {
    /// The snapshot to read (the current one with --base).
    file: FileArg,
    /// A baseline: a differential flame graph of FILE minus BASE.
    #[arg(long, value_name = "BASE")]
    base: Option<FileArg>,
    /// What a frame's width is: retained size (dominator tree) or
    /// PerfView's inclusive size (its spanning tree).
    #[arg(long, value_enum, default_value_t = By::Retained)]
    by: By,
    /// Print folded stacks (`a;b;c 123` per line), as flamegraph.pl and
    /// speedscope read them; with --base, two numbers per line (base,
    /// current) as flamegraph.pl's differential input.
    #[arg(long, conflicts_with = "json")]
    folded: bool,
    /// Print the flame document of the result schema as JSON.
    #[arg(long)]
    json: bool,
    /// Frames kept at most (the smaller ones are merged into [other]).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    max_frames: usize,
    /// Frames below this percentage of the total are merged into [other]
    /// (the text view's default is 1).
    #[arg(long, value_name = "PERCENT")]
    min_percent: Option<f64>,
    /// Levels shown in the text view.
    #[arg(long, value_name = "N", default_value_t = 12)]
    depth: u32,
    /// Compare type names after normalizing their spelling (with --base).
    #[arg(long)]
    normalize_names: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum By {
    Retained,
    Inclusive,
}

pub fn run(args: &FlameArgs) -> Result<(), String> {
    let by = match args.by {
        By::Retained => FlameMeasure::Retained,
        By::Inclusive => FlameMeasure::Inclusive,
    };
    let text = !args.folded && !args.json;
    let limits = FlameLimits {
        max_frames: args.max_frames,
        min_percent: args.min_percent.unwrap_or(if text { 1.0 } else { 0.0 }),
    };
    let file = args.file.display().to_string();
    let current = open_snapshot(&args.file)?;
    let current_flame = flame_of(&current, by, &mut NoProgress).map_err(|e| e.to_string())?;
    let doc = match &args.base {
        None => FlameDocument::build(&file, &current.graph, &current_flame, limits),
        Some(base_path) => {
            let base = open_snapshot(base_path)?;
            let base_flame = flame_of(&base, by, &mut NoProgress).map_err(|e| e.to_string())?;
            let d = diff_of(
                (&base, &base_flame),
                (&current, &current_flame),
                args.normalize_names,
            );
            FlameDocument::build_diff(
                &base_path.display().to_string(),
                &file,
                by,
                base_flame.scaled || current_flame.scaled,
                &d,
                limits,
            )
        }
    };
    if args.json {
        return print_json(&doc);
    }
    if args.folded {
        print!("{}", doc.folded());
        return Ok(());
    }
    print!("{}", to_text(&doc, args.depth));
    Ok(())
}

fn to_text(doc: &FlameDocument, depth: u32) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let what = match doc.by {
        FlameMeasure::Retained => "retained size (dominator tree)",
        FlameMeasure::Inclusive => "PerfView's inclusive size (spanning tree)",
    };
    match (&doc.base_file, doc.base_total) {
        (Some(base), Some(bt)) => {
            let _ = writeln!(
                s,
                "{} minus {base}: flame graph by {what}\ntotal: {} → {} bytes ({})",
                doc.file,
                thousands(bt.bytes),
                thousands(doc.total.bytes),
                heaplens_analysis::format::signed_thousands(
                    doc.total.bytes as i64 - bt.bytes as i64
                )
            );
        }
        _ => {
            let _ = writeln!(
                s,
                "{}: flame graph by {what}\ntotal: {} bytes, {} objects",
                doc.file,
                thousands(doc.total.bytes),
                thousands(doc.total.count)
            );
        }
    }
    let total = doc
        .total
        .bytes
        .max(doc.base_total.map_or(0, |b| b.bytes))
        .max(1) as f64;
    let diff = doc.base_file.is_some();
    if diff {
        let _ = writeln!(s, "\n{:>14}  {:>14}  {:>14}  Frame", "Base", "Current", "Δ");
    } else {
        let _ = writeln!(s, "\n{:>14}  {:>6}  {:>12}  Frame", "Bytes", "%", "Objects");
    }
    for f in doc
        .frames
        .iter()
        .filter(|f| f.depth > 0 && f.depth <= depth)
    {
        let indent = "  ".repeat(f.depth as usize - 1);
        let merged = if f.merged_frames > 0 {
            format!(
                " ({} {})",
                f.merged_frames,
                if f.merged_frames == 1 {
                    "frame"
                } else {
                    "frames"
                }
            )
        } else {
            String::new()
        };
        if diff {
            let _ = writeln!(
                s,
                "{:>14}  {:>14}  {:>14}  {indent}{}{merged}",
                thousands(f.base_bytes.unwrap_or(0)),
                thousands(f.bytes),
                heaplens_analysis::format::signed_thousands(f.delta_bytes.unwrap_or(0)),
                f.name
            );
        } else {
            let _ = writeln!(
                s,
                "{:>14}  {:>6.2}  {:>12}  {indent}{}{merged}",
                thousands(f.bytes),
                f.bytes as f64 * 100.0 / total,
                thousands(f.count),
                f.name
            );
        }
    }
    let _ = writeln!(
        s,
        "\n{} of {} frames (one per distinct path of types) kept; --max-frames, \
         --min-percent and --depth choose",
        doc.frames.len(),
        doc.tree_frames
    );
    s
}
