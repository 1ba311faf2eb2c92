//! `heaplens info`: what a dump is.

use crate::stats::thousands;
use crate::{with_input, FileArg};
use clap::Args;
use heaplens_snapshot::{
    Container, Description, HeapStatus, ProcessFacts, RuntimeFacts, Timestamp,
};
use serde_json::{json, Value};
use std::fmt::Write;

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// The dump to describe (.gcdump, Linux core, Windows minidump).
    file: FileArg,
    /// Print one JSON object instead of text.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &InfoArgs) -> Result<(), String> {
    let d = with_input(&args.file, |src, modules, progress| {
        heaplens_snapshot::describe(src, modules, progress)
    })?;
    let file = args.file.display().to_string();
    if args.json {
        outln!("{}", to_json(&file, &d));
    } else {
        out!("{}", to_text(&file, &d));
    }
    Ok(())
}

fn time(t: Option<Timestamp>) -> Value {
    match t {
        Some(t) => json!(t.to_iso8601()),
        None => Value::Null,
    }
}

fn to_json(file: &str, d: &Description) -> Value {
    let container = match &d.container {
        Container::GcDump(g) => json!({
            "version": g.version,
            "creation_tool": g.creation_tool,
            "sampled": g.sampling.is_some(),
            "average_count_multiplier": g.sampling.map(|s| s.0),
            "average_size_multiplier": g.sampling.map(|s| s.1),
            "undefined_nodes": g.undefined_nodes,
            "gc_segments": g.gc_segments,
        }),
        Container::ElfCore(e) => json!({
            "elf_class": e.class,
            "segments": e.segments,
            "mapped_files": e.mapped_files,
        }),
        Container::Minidump(m) => json!({
            "flags": format!("{:#x}", m.flags),
            "full_memory": m.full_memory,
            "streams": m.streams,
            "comments": m.comments,
        }),
    };
    let p = &d.process;
    let m = &d.memory;
    let heap = match &d.heap {
        HeapStatus::Walkable {
            objects,
            object_bytes,
            types,
        } => json!({
            "walkable": true, "objects": objects, "object_bytes": object_bytes, "types": types,
            "reason": null, "error": null,
        }),
        HeapStatus::NotWalkable(e) => json!({
            "walkable": false, "reason": e.kind(), "error": e.to_string(),
        }),
    };
    json!({
        "file": file,
        "format": d.format.as_str(),
        "file_bytes": d.file_bytes,
        "os": d.os,
        "architecture": d.architecture,
        "pointer_size": d.pointer_size,
        "container": container,
        "process": {
            "name": p.name,
            "id": p.id,
            "parent_id": p.parent_id,
            "executable": p.executable,
            "command_line": p.command_line,
            "machine_name": p.machine_name,
            "start_time": time(p.start_time),
            "dump_time": time(p.dump_time),
        },
        "threads": d.threads,
        "modules": d.modules.as_ref().map(|m| json!({
            "count": m.count,
            "runtime": m.runtime,
            "managed": m.managed,
            "native": m.native,
            "unknown": m.unknown,
        })),
        "runtime": d.runtime.as_ref().map(|r| json!({
            "name": r.name,
            "path": r.path,
            "version": r.version,
            "gc_mode": r.gc.map(|g| g.mode.as_str()),
            "heap_layout": r.gc.map(|g| g.layout.as_str()),
            "heap_count": r.gc.map(|g| g.heap_count),
            "segments": r.gc.map(|g| g.segments),
            "heap_found_by": r.gc.map(|g| if g.found_by_shape { "shape" } else { "gc_dac_vars" }),
        })),
        "memory": {
            "captured_bytes": m.captured_bytes,
            "address_space_bytes": m.address_space_bytes,
            "missing_bytes": m.missing_bytes,
            "gc_heap_bytes": m.gc_heap_bytes,
            "gc_heap_captured_bytes": m.gc_heap_captured_bytes,
            "private_writable_bytes": m.private_writable_bytes,
            "private_writable_captured_bytes": m.private_writable_captured_bytes,
            "other_private_writable_captured_bytes": m.other_private_writable_captured_bytes,
            "image_bytes": m.image_bytes,
            "image_captured_bytes": m.image_captured_bytes,
            "mapped_bytes": m.mapped_bytes,
            "mapped_captured_bytes": m.mapped_captured_bytes,
            "process_commit_bytes": m.process_commit_bytes,
            "process_working_set_bytes": m.process_working_set_bytes,
        },
        "heap": heap,
        "notes": d.notes,
    })
}

/// `not recorded` for a missing value.
fn or_not_recorded(v: Option<String>) -> String {
    v.unwrap_or_else(|| "not recorded".to_owned())
}

fn to_text(file: &str, d: &Description) -> String {
    let mut s = String::new();
    let what = match &d.container {
        Container::GcDump(g) => {
            let tool = g
                .creation_tool
                .as_deref()
                .map(|t| format!(", written by {t}"))
                .unwrap_or_default();
            format!(".gcdump (GCHeapDump version {}{tool})", g.version)
        }
        Container::ElfCore(e) => format!(
            "Linux ELF core ({}, {} segments, {} file mappings)",
            e.class, e.segments, e.mapped_files
        ),
        Container::Minidump(m) => format!(
            "Windows minidump (flags {:#x}{}, {} streams)",
            m.flags,
            if m.full_memory { ", full memory" } else { "" },
            m.streams.len()
        ),
    };
    let _ = writeln!(s, "{file}: {what}, {} bytes", thousands(d.file_bytes));
    let mut system: Vec<String> = d.os.iter().chain(&d.architecture).cloned().collect();
    if let Some(p) = d.pointer_size {
        system.push(format!("{}-bit", u32::from(p) * 8));
    }
    if !system.is_empty() {
        let _ = writeln!(s, "system:          {}", system.join(", "));
    }
    process_text(&mut s, d);
    if let Some(t) = d.threads {
        let _ = writeln!(s, "threads:         {t}");
    }
    if let Some(m) = &d.modules {
        let _ = writeln!(
            s,
            "modules:         {} ({} managed, {} native, {} not in the dump or not images)",
            m.count,
            m.managed.len(),
            m.native,
            m.unknown
        );
        if let Some(r) = &m.runtime {
            let _ = writeln!(s, "  runtime:       {r}");
        }
        if !m.managed.is_empty() {
            let _ = writeln!(s, "  managed:       {}", m.managed.join(", "));
        }
    }
    match &d.runtime {
        Some(r) => runtime_text(&mut s, r),
        None if !matches!(d.container, Container::GcDump(_)) => {
            let _ = writeln!(s, "runtime:         none found");
        }
        None => {}
    }
    memory_text(&mut s, d);
    match &d.heap {
        HeapStatus::Walkable {
            objects,
            object_bytes,
            types,
        } => {
            let _ = writeln!(
                s,
                "heap:            readable: {} objects, {} bytes, {} types",
                thousands(*objects),
                thousands(*object_bytes),
                thousands(*types as u64)
            );
        }
        HeapStatus::NotWalkable(e) => {
            let _ = writeln!(s, "heap:            cannot be read ({}): {e}", e.kind());
        }
    }
    if let Container::GcDump(g) = &d.container {
        match g.sampling {
            Some((count, size)) => {
                let _ = writeln!(
                    s,
                    "sampling:        sampled (mean count multiplier {count:.2}, mean size \
                     multiplier {size:.2})"
                );
            }
            None => {
                let _ = writeln!(s, "sampling:        none (every object written)");
            }
        }
    }
    if let Container::Minidump(m) = &d.container {
        let _ = writeln!(s, "streams:         {}", m.streams.join(", "));
        for c in &m.comments {
            let _ = writeln!(s, "comment:         {}", c.trim());
        }
    }
    for note in &d.notes {
        let _ = writeln!(s, "note: {note}");
    }
    s
}

fn process_text(s: &mut String, d: &Description) {
    let p: &ProcessFacts = &d.process;
    let mut ids = Vec::new();
    if let Some(id) = p.id {
        ids.push(format!("pid {id}"));
    }
    if let Some(id) = p.parent_id {
        ids.push(format!("parent {id}"));
    }
    let ids = if ids.is_empty() {
        String::new()
    } else {
        format!(" ({})", ids.join(", "))
    };
    let _ = writeln!(
        s,
        "process:         {}{ids}",
        or_not_recorded(p.name.clone())
    );
    if let Some(m) = &p.machine_name {
        let _ = writeln!(s, "  machine:       {m}");
    }
    if let Some(e) = &p.executable {
        let _ = writeln!(s, "  executable:    {e}");
    }
    let gcdump = matches!(d.container, Container::GcDump(_));
    if !gcdump {
        let _ = writeln!(
            s,
            "  command line:  {}",
            or_not_recorded(p.command_line.clone())
        );
        let _ = writeln!(
            s,
            "  started:       {}",
            or_not_recorded(p.start_time.and_then(Timestamp::to_iso8601))
        );
    }
    let dumped = p.dump_time.and_then(|t| {
        let iso = t.to_iso8601()?;
        Some(match t {
            Timestamp::Unix(_) => iso,
            Timestamp::LocalTicks(_) => format!("{iso} (local time of the machine)"),
        })
    });
    let _ = writeln!(s, "  dumped:        {}", or_not_recorded(dumped));
}

fn runtime_text(s: &mut String, r: &RuntimeFacts) {
    let name = r.name.as_deref().unwrap_or(".NET (version unknown)");
    let version = r
        .version
        .as_deref()
        .and_then(|v| v.split_whitespace().next())
        .map(|v| format!(" ({v})"))
        .unwrap_or_default();
    let gc = match &r.gc {
        Some(g) => {
            let heaps = match g.heap_count {
                1 => "1 heap".to_owned(),
                n => format!("{n} heaps"),
            };
            let shape = if g.found_by_shape {
                " (found by shape: no GcDacVars)"
            } else {
                ""
            };
            format!(
                ", {} GC, {}, {heaps}{shape}",
                g.mode.as_str(),
                g.layout.as_str()
            )
        }
        None => ", GC bookkeeping not found in the dump".to_owned(),
    };
    let _ = writeln!(s, "runtime:         {name}{version}{gc}");
}

fn memory_text(s: &mut String, d: &Description) {
    let m = &d.memory;
    let b = |v: u64| format!("{} bytes", thousands(v));
    let held = match d.container {
        Container::Minidump(_) => "committed",
        _ => "mapped",
    };
    let of = |captured: Option<u64>, total: Option<u64>| match (captured, total) {
        (Some(c), Some(t)) => Some(format!("{} in the dump of {} {held}", b(c), b(t))),
        (Some(c), None) => Some(format!("{} in the dump", b(c))),
        (None, Some(t)) => Some(b(t)),
        (None, None) => None,
    };
    let mut rows: Vec<(&str, String)> = Vec::new();
    if let Some(v) = of(m.captured_bytes, m.address_space_bytes) {
        rows.push(("all", v));
    }
    if let Some(missing) = m.missing_bytes.filter(|&v| v > 0) {
        rows.push((
            "missing",
            format!("{} past the end of the file", b(missing)),
        ));
    }
    if let Some(total) = m.gc_heap_bytes {
        let mut v = b(total);
        if let Some(g) = d.runtime.as_ref().and_then(|r| r.gc) {
            v += &format!(" in {} {}", g.segments, g.layout.as_str());
        }
        if let Some(c) = m.gc_heap_captured_bytes {
            v += &format!(", {} of them in the dump", thousands(c));
        }
        rows.push(("GC heap", v));
    }
    if let Some(mut v) = of(m.private_writable_captured_bytes, m.private_writable_bytes) {
        if let Some(other) = m.other_private_writable_captured_bytes {
            v += &format!(" ({} outside the GC heap's objects)", thousands(other));
        }
        rows.push(("private rw", v));
    }
    if let Some(v) = of(m.image_captured_bytes, m.image_bytes) {
        let what = match d.container {
            Container::ElfCore(_) => "file-backed",
            _ => "images",
        };
        rows.push((what, v));
    }
    if let Some(v) = of(m.mapped_captured_bytes, m.mapped_bytes) {
        rows.push(("mapped files", v));
    }
    if let Some(v) = m.process_commit_bytes {
        rows.push(("committed", b(v)));
    }
    if let Some(v) = m.process_working_set_bytes {
        rows.push(("working set", b(v)));
    }
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(s, "memory:");
    for (k, v) in rows {
        let _ = writeln!(s, "  {:<15}{v}", format!("{k}:"));
    }
}
