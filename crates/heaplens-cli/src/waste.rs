//! `heaplens waste`: wasted collections.

use crate::stats::thousands;
use crate::{print_json, with_snapshot, FileArg};
use clap::Args;
use heaplens_analysis::reach::Reachable;
use heaplens_analysis::waste::{collection_waste, WasteOptions};
use heaplens_graph::NoProgress;
use heaplens_results::waste::WasteDocument;
use std::fmt::Write;

#[derive(Args, Debug)]
pub struct WasteArgs {
    /// The snapshot to read.
    file: FileArg,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Collections listed, most wasted bytes first.
    #[arg(long, value_name = "N", default_value_t = 20)]
    top: usize,
    /// Types and holders listed.
    #[arg(long, value_name = "N", default_value_t = 20)]
    types: usize,
}

pub fn run(args: &WasteArgs) -> Result<(), String> {
    let file = args.file.display().to_string();
    with_snapshot(&args.file, |snap, src| {
        let reader = snap.object_reader(src).map_err(|e| e.to_string())?;
        let live = Reachable::of(&snap.graph);
        let report = collection_waste(
            &reader,
            &|n| live.contains(n),
            WasteOptions {
                top: args.top,
                types: args.types,
            },
            &mut NoProgress,
        )
        .map_err(|e| e.to_string())?;
        let doc = WasteDocument::build(&file, snap, &report);
        if args.json {
            return print_json(&doc);
        }
        print!("{}", to_text(&doc));
        Ok(())
    })
}

fn to_text(d: &WasteDocument) -> String {
    let mut s = d.coverage.line();
    let _ = writeln!(
        s,
        "{}: {} live collections and arrays; {} bytes in unused slots; {} empty collections",
        d.file,
        thousands(d.examined),
        thousands(d.wasted_bytes),
        thousands(d.empty)
    );
    let _ = writeln!(
        s,
        "\n{:>8}  {:>7}  {:>12}  {:>6}  {:>12}  {:<10}  Type",
        "Objects", "Empty", "Capacity", "Fill", "Wasted", "Kind"
    );
    for t in &d.types {
        let _ = writeln!(
            s,
            "{:>8}  {:>7}  {:>12}  {:>5.0}%  {:>12}  {:<10}  {}",
            thousands(t.objects),
            thousands(t.empty),
            thousands(t.capacity),
            t.fill_ratio * 100.0,
            thousands(t.wasted_bytes),
            t.kind,
            t.type_name
        );
    }
    if !d.top.is_empty() {
        let _ = writeln!(s, "\nmost wasteful:");
        for o in &d.top {
            let holder = o.holder.as_ref().map_or("(roots)".to_owned(), |h| {
                format!("{} {}", h.type_name, h.address)
            });
            let _ = writeln!(
                s,
                "  {} {}: {} of {} used, {} bytes wasted{}; held by {holder}",
                o.object.address,
                o.object.type_name,
                thousands(o.count),
                thousands(o.capacity),
                thousands(o.wasted_bytes),
                if o.all_zero { " (all zero)" } else { "" }
            );
        }
    }
    if !d.holders.is_empty() {
        let _ = writeln!(s, "\nheld by:");
        for h in &d.holders {
            let _ = writeln!(
                s,
                "  {:>12} bytes in {} collections: {}",
                thousands(h.wasted_bytes),
                thousands(h.collections),
                h.type_name
            );
        }
    }
    for n in &d.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}
