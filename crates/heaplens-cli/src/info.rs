//! `heaplens info`: what a dump is.

use crate::stats::thousands;
use crate::{print_json, with_input, FileArg};
use clap::Args;
use heaplens_results::info::{ContainerFacts, InfoDocument, RuntimeFacts};
use heaplens_results::HeapFoundBy;
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
    let doc = InfoDocument::build(&args.file.display().to_string(), &d);
    if args.json {
        return print_json(&doc);
    }
    out!("{}", to_text(&doc));
    Ok(())
}

/// `not recorded` for a missing value.
fn or_not_recorded(v: Option<&str>) -> &str {
    v.unwrap_or("not recorded")
}

fn to_text(d: &InfoDocument) -> String {
    let mut s = String::new();
    let what = match &d.container {
        ContainerFacts::GcDump {
            version,
            creation_tool,
            ..
        } => {
            let tool = creation_tool
                .as_deref()
                .map(|t| format!(", written by {t}"))
                .unwrap_or_default();
            format!(".gcdump (GCHeapDump version {version}{tool})")
        }
        ContainerFacts::ElfCore {
            elf_class,
            segments,
            mapped_files,
        } => format!(
            "Linux ELF core ({elf_class}, {segments} segments, {mapped_files} file mappings)"
        ),
        ContainerFacts::Minidump {
            flags,
            full_memory,
            streams,
            ..
        } => format!(
            "Windows minidump (flags {flags}{}, {} streams)",
            if *full_memory { ", full memory" } else { "" },
            streams.len()
        ),
    };
    let _ = writeln!(s, "{}: {what}, {} bytes", d.file, thousands(d.file_bytes));
    s += &crate::archive_lines(&d.archives);
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
    let gcdump = matches!(d.container, ContainerFacts::GcDump { .. });
    match &d.runtime {
        Some(r) => runtime_text(&mut s, r),
        None if !gcdump => {
            let _ = writeln!(s, "runtime:         none found");
        }
        None => {}
    }
    memory_text(&mut s, d);
    let h = &d.heap;
    if h.walkable {
        let _ = writeln!(
            s,
            "heap:            readable: {} objects, {} bytes, {} types",
            thousands(h.objects.unwrap_or(0)),
            thousands(h.object_bytes.unwrap_or(0)),
            thousands(h.types.unwrap_or(0))
        );
    } else {
        let _ = writeln!(
            s,
            "heap:            cannot be read ({}): {}",
            h.reason.as_deref().unwrap_or("unknown"),
            h.error.as_deref().unwrap_or("")
        );
    }
    if let Some(c) = &d.coverage {
        let _ = match &c.summary {
            Some(summary) if !c.complete => writeln!(s, "coverage:        partial: {summary}"),
            Some(summary) => writeln!(s, "coverage:        complete ({summary})"),
            None => writeln!(s, "coverage:        complete"),
        };
    }
    if let Some(f) = d.finalization {
        let _ = writeln!(
            s,
            "finalization:    {} registered (not roots), {} ready for finalization (roots)",
            thousands(f.registered),
            thousands(f.ready)
        );
    }
    match &d.container {
        ContainerFacts::GcDump {
            sampled: true,
            average_count_multiplier,
            average_size_multiplier,
            ..
        } => {
            let _ = writeln!(
                s,
                "sampling:        sampled (mean count multiplier {:.2}, mean size \
                 multiplier {:.2})",
                average_count_multiplier.unwrap_or(1.0),
                average_size_multiplier.unwrap_or(1.0)
            );
        }
        ContainerFacts::GcDump { .. } => {
            let _ = writeln!(s, "sampling:        none (every object written)");
        }
        ContainerFacts::Minidump {
            streams, comments, ..
        } => {
            let _ = writeln!(s, "streams:         {}", streams.join(", "));
            for c in comments {
                let _ = writeln!(s, "comment:         {}", c.trim());
            }
        }
        ContainerFacts::ElfCore { .. } => {}
    }
    for note in &d.notes {
        let _ = writeln!(s, "note: {note}");
    }
    s
}

fn process_text(s: &mut String, d: &InfoDocument) {
    let p = &d.process;
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
        or_not_recorded(p.name.as_deref())
    );
    if let Some(m) = &p.machine_name {
        let _ = writeln!(s, "  machine:       {m}");
    }
    if let Some(e) = &p.executable {
        let _ = writeln!(s, "  executable:    {e}");
    }
    if !matches!(d.container, ContainerFacts::GcDump { .. }) {
        let _ = writeln!(
            s,
            "  command line:  {}",
            or_not_recorded(p.command_line.as_deref())
        );
        let _ = writeln!(
            s,
            "  started:       {}",
            or_not_recorded(p.start_time.as_deref())
        );
    }
    // A time without a zone is the local time of the machine (a .gcdump's).
    let dumped = p.dump_time.as_deref().map(|t| {
        if t.ends_with('Z') {
            t.to_owned()
        } else {
            format!("{t} (local time of the machine)")
        }
    });
    let _ = writeln!(s, "  dumped:        {}", or_not_recorded(dumped.as_deref()));
}

fn runtime_text(s: &mut String, r: &RuntimeFacts) {
    let name = r.name.as_deref().unwrap_or(".NET (version unknown)");
    let version = r
        .version
        .as_deref()
        .and_then(|v| v.split_whitespace().next())
        .map(|v| format!(" ({v})"))
        .unwrap_or_default();
    let gc = match (r.gc_mode, r.heap_layout) {
        (Some(mode), Some(layout)) => {
            let heaps = match r.heap_count {
                Some(1) => "1 heap".to_owned(),
                n => format!("{} heaps", n.unwrap_or(0)),
            };
            let shape = if r.heap_found_by == Some(HeapFoundBy::Shape) {
                " (found by shape: no GcDacVars)"
            } else {
                ""
            };
            format!(
                ", {} GC, {}, {heaps}{shape}",
                mode.as_str(),
                layout.as_str()
            )
        }
        _ => ", GC bookkeeping not found in the dump".to_owned(),
    };
    let _ = writeln!(s, "runtime:         {name}{version}{gc}");
}

fn memory_text(s: &mut String, d: &InfoDocument) {
    let m = &d.memory;
    let b = |v: u64| format!("{} bytes", thousands(v));
    let (minidump, core) = match d.container {
        ContainerFacts::Minidump { .. } => (true, false),
        ContainerFacts::ElfCore { .. } => (false, true),
        ContainerFacts::GcDump { .. } => (false, false),
    };
    let held = if minidump { "committed" } else { "mapped" };
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
        if let Some(r) = &d.runtime {
            if let (Some(segments), Some(layout)) = (r.segments, r.heap_layout) {
                v += &format!(" in {segments} {}", layout.as_str());
            }
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
        rows.push((if core { "file-backed" } else { "images" }, v));
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
