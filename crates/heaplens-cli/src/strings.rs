//! `heaplens strings`: duplicate strings, string search.

use crate::stats::thousands;
use crate::{print_json, with_snapshot, FileArg};
use clap::Args;
use heaplens_analysis::reach::Reachable;
use heaplens_analysis::strings::{duplicate_strings, StringOptions};
use heaplens_graph::NoProgress;
use heaplens_results::strings::{StringsDocOptions, StringsDocument};
use std::fmt::Write;

#[derive(Args, Debug)]
pub struct StringsArgs {
    /// The snapshot to read.
    file: FileArg,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Values with at least N copies are listed.
    #[arg(long, value_name = "N", default_value_t = 2)]
    min_copies: u64,
    /// Values listed, most wasted bytes first.
    #[arg(long, value_name = "N", default_value_t = 20)]
    top: usize,
    /// List the strings containing TEXT (case-sensitive).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Strings listed for --search.
    #[arg(long, value_name = "N", default_value_t = 50)]
    matches: usize,
    /// Characters of each string shown.
    #[arg(long, value_name = "N", default_value_t = 80)]
    chars: usize,
    /// Leave the strings' text out (counts and sizes only).
    #[arg(long)]
    no_values: bool,
}

pub fn run(args: &StringsArgs) -> Result<(), String> {
    let file = args.file.display().to_string();
    with_snapshot(&args.file, |snap, src| {
        let reader = snap.object_reader(src).map_err(|e| e.to_string())?;
        let live = Reachable::of(&snap.graph);
        let opts = StringOptions {
            min_copies: args.min_copies,
            top: args.top,
            search: args.search.clone(),
            search_limit: args.matches,
        };
        let report = duplicate_strings(&reader, &|n| live.contains(n), &opts, &mut NoProgress)
            .map_err(|e| e.to_string())?;
        let doc = StringsDocument::build(
            &file,
            snap,
            &reader,
            &report,
            &opts,
            StringsDocOptions {
                values: !args.no_values,
                chars: args.chars,
            },
        );
        if args.json {
            return print_json(&doc);
        }
        print!("{}", to_text(&doc));
        Ok(())
    })
}

fn to_text(d: &StringsDocument) -> String {
    let mut s = d.coverage.line();
    let _ = writeln!(
        s,
        "{}: {} live strings, {} bytes, {} distinct values",
        d.file,
        thousands(d.strings),
        thousands(d.bytes),
        thousands(d.distinct)
    );
    let _ = writeln!(
        s,
        "duplicates: {} values with {}+ copies; {} extra copies waste {} bytes",
        thousands(d.duplicated_values),
        d.min_copies,
        thousands(d.extra_copies),
        thousands(d.wasted_bytes)
    );
    if !d.duplicates.is_empty() {
        let _ = writeln!(
            s,
            "\n{:>8}  {:>10}  {:>12}  {:<40}  Value",
            "Copies", "Size", "Wasted", "Held most by (referrer type)"
        );
        for g in &d.duplicates {
            let holder = g.holder.as_ref().map_or("(roots only)".to_owned(), |h| {
                format!("{} ({})", h.type_name, thousands(h.copies))
            });
            let text = if d.values {
                let q = heaplens_contents::value::quote(&g.text);
                if g.truncated {
                    format!("{q}… ({} chars)", thousands(u64::from(g.length)))
                } else {
                    q
                }
            } else {
                format!("({} chars)", g.length)
            };
            let _ = writeln!(
                s,
                "{:>8}  {:>10}  {:>12}  {:<40}  {text}",
                thousands(g.copies),
                thousands(g.size),
                thousands(g.wasted_bytes),
                holder
            );
        }
    }
    if let Some(q) = &d.search {
        let _ = writeln!(
            s,
            "\n{} strings contain {}:",
            thousands(d.match_count),
            heaplens_contents::value::quote(q)
        );
        for m in &d.matches {
            let _ = writeln!(
                s,
                "  {}  {}{}",
                m.object.address,
                heaplens_contents::value::quote(&m.text),
                if m.truncated { "…" } else { "" }
            );
        }
    }
    if d.unreadable > 0 {
        let _ = writeln!(
            s,
            "note: {} strings' bytes are not in the dump",
            thousands(d.unreadable)
        );
    }
    s
}
