//! `heaplens roots`: why the objects of a type are alive.

use crate::stats::thousands;
use crate::{open_snapshot, print_json, FileArg};
use clap::Args;
use heaplens_analysis::dominators::dominators;
use heaplens_analysis::keypaths::key_paths;
use heaplens_analysis::paths::root_paths;
use heaplens_analysis::retained::retained_sizes;
use heaplens_graph::{HeapGraph, NoProgress, TypeIndex};
use heaplens_results::roots::{RefNode, RootsDocument, RootsLimits};

#[derive(Args, Debug)]
pub struct RootsArgs {
    /// The snapshot to read.
    file: FileArg,
    /// The type whose objects to explain (its full name, as `heaplens
    /// stats` shows it).
    #[arg(long = "type", value_name = "NAME")]
    type_name: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Levels of the referred-from tree to show.
    #[arg(long, value_name = "N", default_value_t = 8)]
    depth: usize,
    /// Entries shown under each entry of the tree, largest first.
    #[arg(long, value_name = "N", default_value_t = 8)]
    children: usize,
    /// Shortest paths to show, each ending in a different chain of types.
    #[arg(long, value_name = "N", default_value_t = 1)]
    paths: usize,
    /// Key retention paths to show: the type's objects grouped by their
    /// shortest path's root and chain of types, most objects first (0:
    /// none).
    #[arg(long, value_name = "N", default_value_t = 5)]
    key_paths: usize,
    /// Give each key retention path its retained bytes (costs a dominator
    /// tree).
    #[arg(long)]
    retained: bool,
}

/// The types named `name`: exact matches, else case-insensitive ones.
pub(crate) fn find_types(g: &HeapGraph, name: &str) -> Result<Vec<TypeIndex>, String> {
    let pick = |f: &dyn Fn(&str) -> bool| -> Vec<TypeIndex> {
        (0..g.types().len() as TypeIndex)
            .filter(|&t| f(&g.type_info(t).name))
            .collect()
    };
    let exact = pick(&|n| n == name);
    if !exact.is_empty() {
        return Ok(exact);
    }
    let folded = pick(&|n| n.eq_ignore_ascii_case(name));
    if !folded.is_empty() {
        return Ok(folded);
    }
    let lower = name.to_lowercase();
    let mut similar: Vec<&str> = g
        .types()
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| n.to_lowercase().contains(&lower))
        .collect();
    similar.sort_unstable();
    similar.dedup();
    let hint = if similar.is_empty() {
        String::new()
    } else {
        let more = if similar.len() > 10 { ", …" } else { "" };
        format!(
            "; types containing it: {}{more}",
            similar
                .iter()
                .take(10)
                .copied()
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    Err(format!("no type named {name:?}{hint}"))
}

fn tree_text(out: &mut String, e: &RefNode, level: usize) {
    use std::fmt::Write;
    let cut = if e.truncated {
        "  (paths go deeper)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "{:>10}  {:>14}  {:>14}  {}{}{cut}",
        thousands(e.count),
        thousands(e.bytes),
        thousands(e.inclusive_bytes),
        "  ".repeat(level),
        e.name,
    );
    for c in &e.children {
        tree_text(out, c, level + 1);
    }
    if e.omitted_children > 0 {
        let _ = writeln!(
            out,
            "{:>44}{}… {} more",
            "",
            "  ".repeat(level + 1),
            e.omitted_children
        );
    }
}

pub fn run(args: &RootsArgs) -> Result<(), String> {
    let snap = open_snapshot(&args.file)?;
    let g = &snap.graph;
    let types = find_types(g, &args.type_name)?;
    let paths = root_paths(g, &mut NoProgress).map_err(|e| e.to_string())?;
    let mut doc = RootsDocument::build(
        &args.file.display().to_string(),
        &snap,
        &paths,
        &types,
        RootsLimits {
            paths: args.paths,
            depth: args.depth,
            children: args.children,
            entries: None,
        },
    );
    if args.key_paths > 0 {
        let dom = args
            .retained
            .then(|| dominators(g, &mut NoProgress))
            .transpose()
            .map_err(|e| e.to_string())?;
        let sizes = dom.as_ref().map(|d| retained_sizes(g, d));
        let retained = dom.as_ref().zip(sizes.as_ref());
        let key =
            key_paths(g, &paths, &types, retained, &mut NoProgress).map_err(|e| e.to_string())?;
        doc.add_key_paths(&snap, &key, args.key_paths);
    }
    if args.json {
        return print_json(&doc);
    }
    out!("{}", to_text(&doc));
    Ok(())
}

fn to_text(doc: &RootsDocument) -> String {
    use std::fmt::Write;
    let mut out = doc.coverage.line();
    let _ = writeln!(
        out,
        "{}: {} objects of {} ({} bytes) reachable from a live root; {} not ({})",
        doc.file,
        thousands(doc.count),
        doc.type_name,
        thousands(doc.bytes),
        thousands(doc.unreachable),
        doc.unreachable_are.describe()
    );
    if doc.paths.is_empty() {
        let _ = writeln!(out, "\nno live root reaches an object of this type");
    }
    for (i, p) in doc.paths.iter().enumerate() {
        let which = if i == 0 {
            "shortest path"
        } else {
            "another path"
        };
        let _ = writeln!(
            out,
            "\n{which} from a root ({} steps):\n  {}",
            p.steps.len().saturating_sub(1),
            p.root_kind.label(p.root_name.as_deref())
        );
        for step in &p.steps {
            let _ = match step.address {
                Some(a) => writeln!(out, "  -> {}  ({a})", step.type_name),
                None => writeln!(out, "  -> {}", step.type_name),
            };
        }
    }
    if !doc.key_paths.is_empty() {
        let _ = writeln!(
            out,
            "\nkey retention paths (objects grouped by their shortest path; {} of {}):",
            doc.key_paths.len(),
            doc.key_path_count
        );
        for k in &doc.key_paths {
            let retained = k
                .retained_bytes
                .map(|r| format!(", {} retained", thousands(r)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {} objects ({} bytes{retained}): {} -> {}",
                thousands(k.count),
                thousands(k.bytes),
                k.root_kind.label(k.root_name.as_deref()),
                k.path.join(" -> ")
            );
        }
    }
    let _ = writeln!(
        out,
        "\nreferred from (shortest paths, merged by type toward the roots):\n{:>10}  {:>14}  {:>14}  Referrer",
        "Objects", "Bytes", "Inclusive"
    );
    tree_text(&mut out, &doc.referred_from, 0);
    for note in &doc.notes {
        let _ = writeln!(out, "\nnote: {note}");
    }
    out
}
