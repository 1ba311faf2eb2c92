//! `heaplens roots`: why the objects of a type are alive.

use crate::stats::thousands;
use crate::{open_snapshot, FileArg};
use clap::Args;
use heaplens_analysis::paths::{
    referred_from, root_paths, RefEntry, RefLabel, ReferredFrom, RootPath,
};
use heaplens_graph::{HeapGraph, NoProgress, Root, TypeIndex};
use serde_json::{json, Value};

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

fn root_label(g: &HeapGraph, r: &Root) -> String {
    match g.root_name(r) {
        Some(n) => format!("[{} root] {n}", r.kind.as_str()),
        None => format!("[{} root]", r.kind.as_str()),
    }
}

fn entry_name(e: &RefEntry) -> String {
    match &e.label {
        RefLabel::Type(t) => t.clone(),
        RefLabel::Root { kind, name } => match name {
            Some(n) => format!("[{} root] {n}", kind.as_str()),
            None => format!("[{} root]", kind.as_str()),
        },
    }
}

fn path_json(g: &HeapGraph, p: &RootPath) -> Value {
    let root = &g.roots()[p.root];
    let types: Vec<&str> = p
        .nodes
        .iter()
        .map(|&x| g.type_info(g.node_type(x)).name.as_str())
        .collect();
    json!({
        "root_kind": root.kind.as_str(),
        "root_name": g.root_name(root),
        "path": types,
    })
}

fn tree_json(tree: &ReferredFrom, i: usize, depth: usize, children: usize) -> Value {
    let e = &tree.entries[i];
    let mut v = json!({
        "name": entry_name(e),
        "count": e.count,
        "bytes": e.bytes,
        "inclusive_bytes": e.inclusive_bytes,
    });
    if let RefLabel::Root { kind, .. } = &e.label {
        v["root_kind"] = json!(kind.as_str());
    }
    if e.truncated {
        v["truncated"] = json!(true);
    }
    if depth > 0 {
        let kids: Vec<Value> = e
            .children
            .iter()
            .take(children)
            .map(|&c| tree_json(tree, c, depth - 1, children))
            .collect();
        v["children"] = json!(kids);
        if e.children.len() > children {
            v["omitted_children"] = json!(e.children.len() - children);
        }
    } else if !e.children.is_empty() {
        v["omitted_children"] = json!(e.children.len());
    }
    v
}

fn tree_text(
    out: &mut String,
    tree: &ReferredFrom,
    i: usize,
    level: usize,
    depth: usize,
    children: usize,
) {
    use std::fmt::Write;
    let e = &tree.entries[i];
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
        entry_name(e),
    );
    if level < depth {
        for &c in e.children.iter().take(children) {
            tree_text(out, tree, c, level + 1, depth, children);
        }
        if e.children.len() > children {
            let _ = writeln!(
                out,
                "{:>44}{}… {} more",
                "",
                "  ".repeat(level + 1),
                e.children.len() - children
            );
        }
    }
}

pub fn run(args: &RootsArgs) -> Result<(), String> {
    let snap = open_snapshot(&args.file)?;
    let g = &snap.graph;
    let types = find_types(g, &args.type_name)?;
    let mut is_focus = vec![false; g.types().len()];
    for &t in &types {
        is_focus[t as usize] = true;
    }
    let paths = root_paths(g, &mut NoProgress).map_err(|e| e.to_string())?;
    let (mut count, mut bytes, mut unreachable) = (0u64, 0u64, 0u64);
    for x in 0..g.node_count() as u32 {
        if is_focus[g.node_type(x) as usize] {
            if paths.is_reachable(x) {
                count += 1;
                bytes += g.node_size(x);
            } else {
                unreachable += 1;
            }
        }
    }
    let shortest = paths.shortest_path_to(|x| is_focus[g.node_type(x) as usize]);
    let tree = referred_from(g, &paths, &types, args.depth);
    let name = &g.type_info(types[0]).name;
    if args.json {
        let v = json!({
            "type": name,
            "count": count,
            "bytes": bytes,
            "unreachable": unreachable,
            "shortest_path": shortest.as_ref().map(|p| path_json(g, p)),
            "referred_from": tree_json(&tree, 0, args.depth, args.children),
        });
        outln!("{v}");
        return Ok(());
    }
    let mut out = String::new();
    use std::fmt::Write;
    let _ = writeln!(
        out,
        "{}: {} objects of {name} ({} bytes) reachable from a live root; {} not",
        args.file.display(),
        thousands(count),
        thousands(bytes),
        thousands(unreachable)
    );
    match &shortest {
        None => {
            let _ = writeln!(out, "\nno live root reaches an object of this type");
        }
        Some(p) => {
            let root = &g.roots()[p.root];
            let _ = writeln!(
                out,
                "\nshortest path from a root ({} steps):\n  {}",
                p.nodes.len() - 1,
                root_label(g, root)
            );
            for &x in &p.nodes {
                let _ = writeln!(
                    out,
                    "  -> {}  (0x{:x})",
                    g.type_info(g.node_type(x)).name,
                    g.node_address(x)
                );
            }
        }
    }
    let _ = writeln!(
        out,
        "\nreferred from (shortest paths, merged by type toward the roots):\n{:>10}  {:>14}  {:>14}  Referrer",
        "Objects", "Bytes", "Inclusive"
    );
    tree_text(&mut out, &tree, 0, 0, args.depth, args.children);
    out!("{out}");
    Ok(())
}
