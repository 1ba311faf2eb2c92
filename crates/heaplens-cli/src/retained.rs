//! `heaplens retained`: what freeing each type (and the largest objects)
//! would free.

use crate::stats::thousands;
use crate::{open_snapshot, print_json, FileArg};
use clap::Args;
use heaplens_analysis::dominators::dominators;
use heaplens_analysis::retained::retained_sizes;
use heaplens_graph::NoProgress;
use heaplens_results::retained::{Dominator, RetainedDocument, RetainedLimits};

#[derive(Args, Debug)]
pub struct RetainedArgs {
    /// The snapshot to read.
    file: FileArg,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    json: bool,
    /// Show the first N types and the N largest objects.
    #[arg(long, value_name = "N", default_value_t = 20)]
    top: usize,
    /// Show the N largest objects (default: as many as --top).
    #[arg(long, value_name = "N")]
    objects: Option<usize>,
}

pub fn run(args: &RetainedArgs) -> Result<(), String> {
    let snap = open_snapshot(&args.file)?;
    let g = &snap.graph;
    let dom = dominators(g, &mut NoProgress).map_err(|e| e.to_string())?;
    let sizes = retained_sizes(g, &dom);
    let doc = RetainedDocument::build(
        &args.file.display().to_string(),
        &snap,
        &dom,
        &sizes,
        RetainedLimits {
            types: Some(args.top),
            objects: args.objects.unwrap_or(args.top),
        },
    );
    if args.json {
        return print_json(&doc);
    }
    out!("{}", to_text(&doc));
    Ok(())
}

fn to_text(doc: &RetainedDocument) -> String {
    use std::fmt::Write;
    let mut s = doc.coverage.line();
    let _ = writeln!(
        s,
        "{}: {} objects ({} bytes) reachable from live roots; {} objects ({} bytes) not ({})",
        doc.file,
        thousands(doc.reachable_objects),
        thousands(doc.reachable_bytes),
        thousands(doc.unreachable_objects),
        thousands(doc.unreachable_bytes),
        doc.unreachable_are.describe()
    );
    let _ = writeln!(
        s,
        "\nretained by type (each object counted once):\n{:>12}  {:>14}  {:>14}  Type",
        "Count", "Shallow", "Retained"
    );
    for t in &doc.types {
        let _ = writeln!(
            s,
            "{:>12}  {:>14}  {:>14}  {}",
            thousands(t.count),
            thousands(t.shallow_bytes),
            thousands(t.retained_bytes),
            t.name
        );
    }
    let shown = doc.types.len() as u64;
    if doc.type_count > shown {
        let _ = writeln!(s, "  … {} more types", doc.type_count - shown);
    }
    let _ = writeln!(
        s,
        "\nlargest objects by retained size:\n{:>14}  {:>10}  {:>18}  Type  (kept alive by)",
        "Retained", "Size", "Address"
    );
    for o in &doc.objects {
        let by = match &o.dominator {
            Dominator::Object {
                address, type_name, ..
            } => format!("{type_name} {address}"),
            Dominator::Roots(_) => "roots".to_owned(),
        };
        let _ = writeln!(
            s,
            "{:>14}  {:>10}  {:>18}  {}  ({by})",
            thousands(o.retained_bytes),
            thousands(o.size),
            o.address.to_string(),
            o.type_name
        );
    }
    s
}
