//! `heaplens instances`: the objects of a type, sorted and paged.

use crate::roots::find_types;
use crate::stats::thousands;
use crate::{print_json, with_snapshot, FileArg};
use clap::{Args, ValueEnum};
use heaplens_analysis::dominators::dominators;
use heaplens_graph::{NoProgress, TypeIndex};
use heaplens_results::instances::{InstanceSort, InstancesDocument, InstancesOptions};
use std::fmt::Write;

#[derive(Args, Debug)]
pub struct InstancesArgs {
    /// The snapshot to read.
    file: FileArg,
    /// The type (its full name, as `heaplens stats` shows it; rows sharing
    /// the name are listed together).
    #[arg(long = "type", value_name = "NAME", conflicts_with = "type_id")]
    type_name: Option<String>,
    /// The type by its row id (`id` in `stats --json`).
    #[arg(long, value_name = "ID")]
    type_id: Option<u32>,
    /// Order: `size` (largest first), `retained` (largest retained size
    /// first) or `address`.
    #[arg(long, value_enum, default_value_t = SortArg::Size)]
    sort: SortArg,
    /// The first object listed (0: the first).
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: usize,
    /// Objects listed.
    #[arg(long, value_name = "N", default_value_t = 50)]
    limit: usize,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Leave the static fields' values out.
    #[arg(long)]
    no_values: bool,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SortArg {
    Size,
    Retained,
    Address,
}

pub fn run(args: &InstancesArgs) -> Result<(), String> {
    let file = args.file.display().to_string();
    with_snapshot(&args.file, |snap, src| {
        let g = &snap.graph;
        let types: Vec<TypeIndex> = match (&args.type_name, args.type_id) {
            (Some(name), _) => find_types(g, name)?,
            (None, Some(id)) => {
                let groups = heaplens_analysis::stats::TypeGroups::of(g);
                let t: Vec<TypeIndex> = (0..g.types().len() as TypeIndex)
                    .filter(|&t| groups.id_of(t) == id)
                    .collect();
                if t.is_empty() {
                    return Err(format!("no type with id {id}"));
                }
                t
            }
            (None, None) => return Err("give --type NAME or --type-id ID".into()),
        };
        let dom = dominators(g, &mut NoProgress).map_err(|e| e.to_string())?;
        let reader = snap.object_reader(src).ok();
        let doc = InstancesDocument::build(
            &file,
            snap,
            &types,
            Some(&dom),
            reader
                .as_ref()
                .map(|r| r as &dyn heaplens_contents::ObjectReader),
            InstancesOptions {
                sort: match args.sort {
                    SortArg::Size => InstanceSort::Size,
                    SortArg::Retained => InstanceSort::Retained,
                    SortArg::Address => InstanceSort::Address,
                },
                offset: args.offset,
                limit: args.limit,
                values: !args.no_values,
            },
        );
        if args.json {
            return print_json(&doc);
        }
        print!("{}", to_text(&doc));
        Ok(())
    })
}

fn to_text(d: &InstancesDocument) -> String {
    let mut s = d.coverage.line();
    let _ = writeln!(
        s,
        "{}: {} objects, {} bytes; objects {}..{} by {}:",
        d.type_name,
        thousands(d.count),
        thousands(d.bytes),
        d.offset,
        d.offset + d.objects.len() as u64,
        match d.sort {
            InstanceSort::Size => "size",
            InstanceSort::Retained => "retained size",
            InstanceSort::Address => "address",
        }
    );
    let _ = writeln!(s, "{:>18}  {:>12}  {:>14}", "Address", "Size", "Retained");
    for o in &d.objects {
        let retained = match (o.retained_bytes, o.reachable) {
            (Some(r), _) => thousands(r),
            (None, Some(false)) => "unreachable".into(),
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "{:>18}  {:>12}  {:>14}",
            o.address.to_string(),
            thousands(o.size),
            retained
        );
    }
    if !d.static_fields.is_empty() {
        let _ = writeln!(s, "\nstatic fields:");
        for f in &d.static_fields {
            let v = match &f.why_unknown {
                Some(why) => format!("({why})"),
                None => f.field.value.text().to_string(),
            };
            let _ = writeln!(s, "  {:<28} {:<22} = {v}", f.field.type_name, f.field.name);
        }
    }
    for n in &d.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}
