//! `heaplens retained`: what freeing each type (and the largest objects)
//! would free.

use crate::stats::thousands;
use crate::{open_snapshot, FileArg};
use clap::Args;
use heaplens_analysis::dominators::{dominators, Dominator};
use heaplens_analysis::retained::{largest_objects, retained_by_type, retained_sizes};
use heaplens_graph::{NoProgress, TypeKind};
use serde_json::{json, Value};

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
}

pub fn run(args: &RetainedArgs) -> Result<(), String> {
    let snap = open_snapshot(&args.file)?;
    let g = &snap.graph;
    let dom = dominators(g, &mut NoProgress).map_err(|e| e.to_string())?;
    let sizes = retained_sizes(g, &dom);
    let mut types = retained_by_type(g, &dom, &sizes);
    let type_count = types.len();
    types.truncate(args.top);
    let objects = largest_objects(&dom, &sizes, args.top);
    let reachable = dom.reachable_count() as u64;
    // Objects no live root reaches (pseudo-nodes and free space aside).
    let (mut unreachable, mut unreachable_bytes) = (0u64, 0u64);
    for x in 0..g.node_count() as u32 {
        if g.node_kind(x) == TypeKind::Object && !dom.is_reachable(x) {
            unreachable += 1;
            unreachable_bytes += g.node_size(x);
        }
    }
    let type_name = |x: u32| g.type_info(g.node_type(x)).name.as_str();
    if args.json {
        let types: Vec<Value> = types
            .iter()
            .map(|t| {
                let mut v = json!({
                    "name": t.name,
                    "count": t.count,
                    "shallow_bytes": t.shallow_bytes,
                    "retained_bytes": t.retained_bytes,
                    "top_level": t.top_level,
                });
                if let Some(m) = &t.module {
                    v["module"] = json!(m);
                }
                v
            })
            .collect();
        let objects: Vec<Value> = objects
            .iter()
            .map(|&(x, r)| {
                json!({
                    "node": x,
                    "address": format!("0x{:x}", g.node_address(x)),
                    "type": type_name(x),
                    "size": g.node_size(x),
                    "retained_bytes": r,
                    "dominator": match dom.idom(x) {
                        Some(Dominator::Node(d)) => json!({
                            "node": d,
                            "address": format!("0x{:x}", g.node_address(d)),
                            "type": type_name(d),
                        }),
                        _ => json!("root"),
                    },
                })
            })
            .collect();
        let v = json!({
            "reachable_objects": reachable,
            "reachable_bytes": sizes.reachable_bytes(),
            "unreachable_objects": unreachable,
            "unreachable_bytes": unreachable_bytes,
            "type_count": type_count,
            "types": types,
            "objects": objects,
        });
        outln!("{v}");
        return Ok(());
    }
    use std::fmt::Write;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{}: {} objects ({} bytes) reachable from live roots; {} objects ({} bytes) not",
        args.file.display(),
        thousands(reachable),
        thousands(sizes.reachable_bytes()),
        thousands(unreachable),
        thousands(unreachable_bytes)
    );
    let _ = writeln!(
        s,
        "\nretained by type (each object counted once):\n{:>12}  {:>14}  {:>14}  Type",
        "Count", "Shallow", "Retained"
    );
    for t in &types {
        let _ = writeln!(
            s,
            "{:>12}  {:>14}  {:>14}  {}",
            thousands(t.count),
            thousands(t.shallow_bytes),
            thousands(t.retained_bytes),
            t.name
        );
    }
    if type_count > types.len() {
        let _ = writeln!(s, "  … {} more types", type_count - types.len());
    }
    let _ = writeln!(
        s,
        "\nlargest objects by retained size:\n{:>14}  {:>10}  {:>18}  Type  (kept alive by)",
        "Retained", "Size", "Address"
    );
    for &(x, r) in &objects {
        let by = match dom.idom(x) {
            Some(Dominator::Node(d)) => format!("{} 0x{:x}", type_name(d), g.node_address(d)),
            _ => "roots".to_owned(),
        };
        let _ = writeln!(
            s,
            "{:>14}  {:>10}  {:>18}  {}  ({by})",
            thousands(r),
            thousands(g.node_size(x)),
            format!("0x{:x}", g.node_address(x)),
            type_name(x)
        );
    }
    out!("{s}");
    Ok(())
}
