//! `heaplens findings`: leak suspects of one dump, or of the last dump
//! against the first.

use crate::stats::thousands;
use crate::{open_file, print_json, read_input, FileArg, PARTIAL};
use clap::Args;
use heaplens_analysis::dominators::dominators;
use heaplens_analysis::paths::root_paths;
use heaplens_analysis::retained::retained_sizes;
use heaplens_contents::ObjectReader;
use heaplens_findings::{findings, observe, Heap, Observations};
use heaplens_graph::NoProgress;
use heaplens_results::findings::FindingsDocument;
use heaplens_snapshot::Snapshot;
use std::fmt::Write;
use std::path::Path;

#[derive(Args, Debug)]
pub struct FindingsArgs {
    /// The dump to read; with more than one, the first is the baseline and
    /// the last the current dump (growth is counted between them).
    #[arg(required = true, num_args = 1..)]
    files: Vec<FileArg>,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Print the first N findings (text; JSON carries all).
    #[arg(long, value_name = "N", default_value_t = 20)]
    top: usize,
    /// Leave out every value read from the dump (the duplicated strings'
    /// text), for sharing.
    #[arg(long)]
    no_values: bool,
}

/// Runs `f` with the heap of `path` (graph, dominators, paths and, for a
/// dump of process memory, its contents).
fn with_heap<T>(
    path: &Path,
    f: impl FnOnce(&Snapshot, &Heap) -> Result<T, String>,
) -> Result<T, String> {
    let src = open_file(path)?;
    let snap = read_input(path, &src, heaplens_snapshot::open_shared_with)?;
    if !snap.info.coverage.is_complete() {
        PARTIAL.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let g = &snap.graph;
    let dom = dominators(g, &mut NoProgress).map_err(|e| e.to_string())?;
    let sizes = retained_sizes(g, &dom);
    let paths = root_paths(g, &mut NoProgress).map_err(|e| e.to_string())?;
    let reader = snap.object_reader(&src).ok();
    let mut heap = Heap::new(
        g,
        &dom,
        &sizes,
        &paths,
        reader.as_ref().map(|r| r as &dyn ObjectReader),
    );
    heap.finalization_registered = snap.info.clr.as_ref().map(|c| c.finalization.registered);
    heap.areas = heaplens_results::findings::heap_areas(&snap);
    f(&snap, &heap)
}

pub fn run(args: &FindingsArgs) -> Result<(), String> {
    let (first, last) = match args.files.as_slice() {
        [one] => (None, one),
        [first, .., last] => (Some(first), last),
        [] => return Err("give at least one file".into()),
    };
    // The baseline's observations (its graph is dropped before the
    // current dump is read).
    let base: Option<(String, Observations, bool)> = match first {
        Some(p) => Some(with_heap(p, |snap, heap| {
            Ok((
                p.display().to_string(),
                observe(heap),
                snap.info.coverage.is_complete(),
            ))
        })?),
        None => None,
    };
    let file = last.display().to_string();
    let doc = with_heap(last, |snap, heap| {
        let current = observe(heap);
        let found = findings(heap, &current, base.as_ref().map(|b| &b.1));
        Ok(FindingsDocument::build(
            &file,
            snap,
            heap,
            &current,
            base.as_ref().map(|b| (b.0.as_str(), b.2, &b.1)),
            &found,
        ))
    })?;
    let doc = if args.no_values {
        doc.without_values()
    } else {
        doc
    };
    if args.json {
        return print_json(&doc);
    }
    out!("{}", to_text(&doc, args.top));
    Ok(())
}

fn to_text(d: &FindingsDocument, top: usize) -> String {
    let mut s = d.coverage.line();
    match &d.base_file {
        Some(b) => {
            let _ = writeln!(
                s,
                "{}: leak findings against {b}, ranked by retained bytes gained",
                d.file
            );
        }
        None => {
            let _ = writeln!(
                s,
                "{}: leak findings, ranked by retained bytes ({} bytes reachable)",
                d.file,
                thousands(d.reachable_bytes)
            );
        }
    }
    if d.findings.is_empty() {
        let _ = writeln!(s, "\nno finding: no detector's group reached its threshold");
    }
    for f in d.findings.iter().take(top) {
        let _ = writeln!(
            s,
            "\n{}. [{}] {}{}",
            f.rank,
            f.pattern,
            f.title,
            if f.leak {
                ""
            } else {
                " (not a leak by itself)"
            }
        );
        let _ = writeln!(s, "   {}", f.verdict);
        let mut evidence = format!(
            "   evidence: {} objects, {} bytes retained ({:.1} %)",
            thousands(f.objects),
            thousands(f.retained_bytes),
            f.retained_percent
        );
        if let (Some(go), Some(gb)) = (f.growth_objects, f.growth_retained_bytes) {
            let _ = write!(
                evidence,
                "; growth {} objects, {} bytes",
                heaplens_analysis::format::signed_thousands(go),
                heaplens_analysis::format::signed_thousands(gb)
            );
        }
        let _ = writeln!(s, "{evidence}");
        if let Some(h) = &f.holder {
            let _ = writeln!(s, "   look at: {} {}", h.type_name, h.address);
        }
        for dt in &f.details {
            let _ = writeln!(s, "   {}: {}", dt.label, dt.value);
        }
        if let Some(p) = &f.path {
            let root = p.root_kind.label(p.root_name.as_deref());
            let _ = writeln!(s, "   path: {root} → {}", runs(&p.path).join(" → "));
        }
        let _ = writeln!(s, "   fix: {}", f.fix);
    }
    if d.findings.len() > top {
        let _ = writeln!(s, "\n{} more (--top)", d.findings.len() - top);
    }
    let _ = writeln!(s, "\ndetectors:");
    for r in &d.detectors {
        let what = match &r.silent_because {
            Some(why) => format!("silent: {why}"),
            None => format!("{} groups", thousands(r.groups)),
        };
        let _ = writeln!(s, "  {:<28} {what}; reports at {}", r.pattern, r.threshold);
    }
    s
}

/// A path's types with a run of one type written once, with its length
/// (`TimerQueueTimer ×120`: a linked list).
fn runs(path: &[String]) -> Vec<String> {
    let mut out: Vec<(String, usize)> = Vec::new();
    for t in path {
        match out.last_mut() {
            Some((last, n)) if last == t => *n += 1,
            _ => out.push((t.clone(), 1)),
        }
    }
    out.into_iter()
        .map(|(t, n)| if n > 1 { format!("{t} ×{n}") } else { t })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn runs_of_one_type_are_written_once() {
        let p: Vec<String> = ["A", "B", "B", "B", "C", "B"].map(String::from).to_vec();
        assert_eq!(super::runs(&p), ["A", "B ×3", "C", "B"]);
    }
}
