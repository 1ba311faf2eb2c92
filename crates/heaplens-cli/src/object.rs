//! `heaplens object`: one object, as the inspector shows it.

use crate::stats::thousands;
use crate::{print_json, with_snapshot, FileArg};
use clap::Args;
use heaplens_analysis::dominators::dominators;
use heaplens_graph::{HeapGraph, NoProgress, NodeIndex};
use heaplens_results::object::{ObjectDocument, ObjectKind, ObjectOptions, ObjectRef};
use heaplens_results::values::FieldDoc;
use std::fmt::Write;

#[derive(Args, Debug)]
pub struct ObjectArgs {
    /// The snapshot to read.
    file: FileArg,
    /// The object's address (`0x7f…` or decimal), as `heaplens retained`,
    /// `roots --paths` or `instances` show it.
    address: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
    /// Leave every value out (field values, string text): the output then
    /// carries the heap's structure only (`"values": false`).
    #[arg(long)]
    no_values: bool,
    /// Characters of the object's own text, when it is a string (its full
    /// text: as many as it has).
    #[arg(long, value_name = "N", default_value_t = 4096)]
    chars: usize,
    /// Characters of referenced strings shown beside their fields.
    #[arg(long, value_name = "N", default_value_t = 100)]
    preview: usize,
    /// First array element shown.
    #[arg(long, value_name = "N", default_value_t = 0)]
    offset: u64,
    /// Array elements shown.
    #[arg(long, value_name = "N", default_value_t = 100)]
    elements: usize,
    /// Referring objects listed.
    #[arg(long, value_name = "N", default_value_t = 50)]
    referrers: usize,
}

/// An address written `0x…` or in decimal.
pub(crate) fn parse_address(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let v = match t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16),
        None => t.parse::<u64>(),
    };
    v.map_err(|_| format!("not an address: {s:?} (write it 0x7f… or in decimal)"))
}

/// The object starting at `address`; an error naming the object that
/// contains it, when one does.
pub(crate) fn node_at(g: &HeapGraph, address: u64) -> Result<NodeIndex, String> {
    if let Some(n) = heaplens_contents::node_at_sorted(g, address) {
        return Ok(n);
    }
    // Graphs not in address order (a .gcdump's): a scan.
    if let Some(n) = (0..g.node_count() as NodeIndex).find(|&n| g.node_address(n) == address) {
        return Ok(n);
    }
    // The object containing it (nodes are in address order in a dump).
    let n = g.node_count();
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if g.node_address(mid as NodeIndex) <= address {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    if let Some(i) = lo.checked_sub(1) {
        let i = i as NodeIndex;
        let start = g.node_address(i);
        if start != 0 && address < start.saturating_add(g.node_size(i)) {
            return Err(format!(
                "no object starts at {address:#x}; it is inside {} at {start:#x} (+{})",
                g.type_info(g.node_type(i)).name,
                address - start
            ));
        }
    }
    Err(format!("no object starts at {address:#x}"))
}

pub fn run(args: &ObjectArgs) -> Result<(), String> {
    let address = parse_address(&args.address)?;
    let file = args.file.display().to_string();
    with_snapshot(&args.file, |snap, src| {
        let g = &snap.graph;
        let node = node_at(g, address)?;
        let dom = dominators(g, &mut NoProgress).map_err(|e| e.to_string())?;
        let reader = snap.object_reader(src).map_err(|e| e.to_string());
        let doc = ObjectDocument::build(
            &file,
            snap,
            node,
            reader
                .as_ref()
                .map(|r| r as &dyn heaplens_contents::ObjectReader)
                .map_err(Clone::clone),
            Some(&dom),
            ObjectOptions {
                values: !args.no_values,
                string_chars: args.chars,
                preview_chars: args.preview,
                element_offset: args.offset,
                elements: args.elements,
                referrers: args.referrers,
                ..ObjectOptions::default()
            },
        );
        if args.json {
            return print_json(&doc);
        }
        print!("{}", to_text(&doc));
        Ok(())
    })
}

fn object_line(o: &ObjectRef) -> String {
    format!("{} {}", o.address, o.type_name)
}

fn field_lines(out: &mut String, fields: &[FieldDoc], indent: usize) {
    let pad = " ".repeat(indent);
    for f in fields {
        let _ = writeln!(
            out,
            "{pad}{:>6}  {:<28} {:<22} = {}",
            f.offset,
            f.type_name,
            f.name,
            f.value.text()
        );
    }
}

fn to_text(d: &ObjectDocument) -> String {
    let mut s = d.coverage.line();
    let _ = writeln!(
        s,
        "{} {}{}",
        d.address,
        d.type_name,
        d.module
            .as_deref()
            .map_or(String::new(), |m| format!("  [{m}]"))
    );
    let retained = match (d.retained_bytes, d.reachable) {
        (Some(r), _) => format!("retained {} bytes", thousands(r)),
        (None, Some(false)) => "not reachable from the roots".into(),
        _ => "retained size unknown".into(),
    };
    let _ = writeln!(s, "size {} bytes, {retained}", thousands(d.size));
    if let Some(note) = &d.contents_note {
        let _ = writeln!(s, "contents: {note}");
    }
    if d.contents && !d.values {
        let _ = writeln!(s, "values not shown (--no-values)");
    }
    match d.kind {
        ObjectKind::Object | ObjectKind::Boxed => {
            if let Some(b) = &d.boxed {
                let _ = writeln!(s, "value: {}", b.text());
            }
            let _ = writeln!(s, "\nfields ({}):", d.fields.len());
            let _ = writeln!(s, "{:>6}  {:<28} {:<22}   Value", "Offset", "Type", "Name");
            field_lines(&mut s, &d.fields, 0);
        }
        ObjectKind::String => {
            if let Some(t) = &d.string {
                let more = if t.truncated {
                    " (shown in part: --chars)"
                } else {
                    ""
                };
                let _ = writeln!(
                    s,
                    "\nstring of {} chars{more}:\n{}",
                    thousands(u64::from(t.length)),
                    heaplens_contents::value::quote(&t.text)
                );
            }
        }
        ObjectKind::Array => {
            if let Some(a) = &d.array {
                let _ = writeln!(
                    s,
                    "\narray of {} {} (rank {}); elements {}..{}:",
                    thousands(a.length),
                    a.element_type,
                    a.rank,
                    a.offset,
                    a.offset + a.elements.len() as u64
                );
                for (i, e) in a.elements.iter().enumerate() {
                    let _ = writeln!(s, "  [{}] {}", a.offset + i as u64, e.text());
                }
            }
        }
        ObjectKind::Free => {
            let _ = writeln!(s, "\nfree space");
        }
        ObjectKind::Unknown => {}
    }
    if let Some(dl) = &d.delegate {
        let _ = writeln!(s, "\ndelegate: {} invocation(s)", dl.invocation_count);
        for (i, inv) in dl.invocations.iter().enumerate() {
            let on = match &inv.target {
                Some(t) => format!("on {}", object_line(t)),
                None if inv.is_static => "(static)".into(),
                None => "(no target)".into(),
            };
            let _ = writeln!(
                s,
                "  {}. {} {on}",
                i + 1,
                inv.method
                    .clone()
                    .unwrap_or_else(|| format!("(method at {} not resolved)", inv.code))
            );
        }
    }
    if let Some(c) = &d.collection {
        let _ = writeln!(
            s,
            "\n{}: {} of {} slots used ({:.0} %), {} bytes of unused slots{}",
            c.kind,
            thousands(c.count),
            thousands(c.capacity),
            c.fill_ratio * 100.0,
            thousands(c.wasted_bytes),
            if c.all_zero {
                "; every element zero or null"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        s,
        "\nreferred to by {} object(s):",
        thousands(d.referrer_count)
    );
    for r in &d.referrers {
        let _ = writeln!(s, "  {}", object_line(r));
    }
    if d.referrer_count > d.referrers.len() as u64 {
        let _ = writeln!(
            s,
            "  … {} more",
            d.referrer_count - d.referrers.len() as u64
        );
    }
    if d.reachable == Some(true) {
        let _ = writeln!(s, "\nkept alive by (immediate dominator first):");
        for o in &d.dominators {
            let _ = writeln!(s, "  {}", object_line(o));
        }
        if d.roots.is_empty() {
            let _ = writeln!(s, "  roots (several reach it by separate paths)");
        }
        for r in &d.roots {
            let _ = writeln!(s, "  {}", r.kind.label(r.name.as_deref()));
        }
    }
    for n in &d.notes {
        let _ = writeln!(s, "note: {n}");
    }
    s
}
