//! `heaplens stats --all-objects`: every object on the heap counted per
//! type without the graph ([`heaplens_snapshot::count_in`]).

use crate::stats::{runtime_lines, thousands};
use crate::{file_bytes, print_json, with_input, PARTIAL};
use heaplens_results::counts::CountsDocument;
use heaplens_snapshot::format::Source;
use heaplens_snapshot::Context;
use std::fmt::Write;
use std::path::Path;

/// The order of the rows.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sort {
    Bytes,
    Count,
    Name,
}

pub(crate) fn run(
    path: &Path,
    json: bool,
    top: Option<usize>,
    sort: Sort,
    filter: Option<&regex::Regex>,
) -> Result<(), String> {
    let counts = with_input(path, |src, modules, progress| {
        heaplens_snapshot::count_in(Source::Shared(src), &mut Context::new(modules, progress))
    })?;
    if !counts.info.coverage.is_complete() {
        PARTIAL.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    let mut doc = CountsDocument::build(
        &path.display().to_string(),
        file_bytes(path)?,
        &counts,
        None,
    );
    match sort {
        Sort::Bytes => {}
        Sort::Count => doc
            .types
            .sort_by(|a, b| b.count.cmp(&a.count).then(b.bytes.cmp(&a.bytes))),
        Sort::Name => doc.types.sort_by(|a, b| a.name.cmp(&b.name)),
    }
    if let Some(re) = filter {
        doc.types.retain(|r| re.is_match(&r.name));
    }
    if let Some(n) = top {
        doc.types.truncate(n);
    }
    if json {
        print_json(&doc)
    } else {
        out!("{}", to_table(&doc));
        Ok(())
    }
}

fn to_table(doc: &CountsDocument) -> String {
    let mut s = String::new();
    let mut source = doc.header.format.clone();
    if let Some(p) = doc.header.pointer_size {
        source += &format!(", {}-bit", p as u32 * 8);
    }
    let _ = writeln!(s, "{}: {source}", doc.header.file);
    s += &crate::archive_lines(&doc.header.archives);
    s += &doc.header.coverage.line();
    s += &crate::process_line(doc.header.process_name.as_deref(), doc.header.process_id);
    if let Some(clr) = &doc.clr {
        s += &runtime_lines(doc.runtime.as_deref(), clr);
    }
    for note in &doc.notes {
        let _ = writeln!(s, "note: {note}");
    }
    let _ = writeln!(
        s,
        "all objects: {}; references not read: no roots, retained sizes or findings",
        doc.counted.describe()
    );
    let _ = writeln!(s);
    let _ = writeln!(s, "{:>12}  {:>14}  {:>6}  Type", "Count", "Bytes", "%");
    for r in &doc.types {
        let module = r
            .module
            .as_deref()
            .map(|m| format!("  [{}]", m.rsplit(['/', '\\']).next().unwrap_or(m)))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "{:>12}  {:>14}  {:>6.2}  {}{module}",
            thousands(r.count),
            thousands(r.bytes),
            r.bytes as f64 * 100.0 / doc.bytes.max(1) as f64,
            r.name
        );
    }
    let _ = writeln!(s);
    if doc.types.len() as u64 != doc.type_count {
        let _ = writeln!(s, "showing {} of {} types", doc.types.len(), doc.type_count);
    }
    let _ = writeln!(
        s,
        "total: {} objects, {} bytes in {} types (all objects, garbage included)",
        thousands(doc.objects),
        thousands(doc.bytes),
        doc.type_count
    );
    if doc.free.count > 0 {
        let _ = writeln!(
            s,
            "free: {} blocks, {} bytes (not in the table)",
            thousands(doc.free.count),
            thousands(doc.free.bytes)
        );
    }
    s
}
