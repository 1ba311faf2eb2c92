//! A dump's overview: totals, the top leak findings, what the dump is (format, runtime, GC, when it
//! was taken, process), how it was read, its notes, the largest types, and
//! where its retained sizes stand.

use super::common::{card, dump_time_text};
use super::use_ctx;
use crate::format::{bytes, duration_ms, thousands};
use crate::protocol::DumpId;
use crate::state::{Action, DumpEntry, Retained, Tab};
use yew::prelude::*;

/// Properties of [`Overview`].
#[derive(Properties, PartialEq)]
pub struct OverviewProps {
    /// The dump.
    pub id: DumpId,
}

/// Where the retained sizes of `d` stand, with Stop or Compute.
pub fn retained_status(d: &DumpEntry, dispatch: &Callback<Action>) -> Html {
    let id = d.id;
    match &d.retained {
        Retained::Computing { progress, .. } => html! {
            <span class="retained-status" id="retained-pending">
                { "Retained sizes are being computed" }
                if let Some(p) = progress { { format!(" ({})", super::progress::phase_line(p)) } }
                { "… " }
                <button class="linklike" id="retained-stop" onclick={dispatch.reform(move |_| Action::CancelRetained(id))}>{ "Stop" }</button>
            </span>
        },
        Retained::Stopped | Retained::NotStarted => html! {
            <span class="retained-status" id="retained-stopped">
                { "Retained sizes were not computed. " }
                <button class="linklike" id="retained-compute" onclick={dispatch.reform(move |_| Action::ComputeRetained(id))}>{ "Compute them" }</button>
            </span>
        },
        Retained::Failed(e) => html! {
            <span class="retained-status error-text" id="retained-failed">
                { format!("Retained sizes could not be computed: {}", e.message) }
                if let Some(a) = e.kind.advice() { { format!(" {a}") } }
            </span>
        },
        Retained::Ready { ms, .. } => html! {
            <span class="retained-status muted" id="retained-ready">{ format!("Retained sizes computed in {}.", duration_ms(*ms)) }</span>
        },
    }
}

/// See the module documentation.
#[function_component(Overview)]
pub fn overview(p: &OverviewProps) -> Html {
    let ctx = use_ctx();
    let Some(d) = ctx.state.dump(p.id) else {
        return html! {};
    };
    let Some(l) = d.loaded.clone() else {
        return html! {};
    };
    let o = &*l.stats;
    let read = &l.read;
    let unknown = |v: &Option<String>, why: &str| -> Html {
        match v {
            Some(v) => html! { <span title={v.clone()}>{ v }</span> },
            None => html! { <span class="muted">{ why.to_owned() }</span> },
        }
    };
    let not_recorded = if o.header.format == "gcdump" {
        "not recorded in a .gcdump"
    } else {
        "unknown"
    };
    let time_missing = match o.header.format.as_str() {
        "elf-core" => "not recorded (a Linux core records no time)",
        _ => "not recorded",
    };
    let gc_mode = o.clr.as_ref().map(|c| c.gc_summary());
    let dump_time = o.dump_time.as_deref().map(dump_time_text);
    // The largest types by retained size once known (what holds the
    // heap), by bytes until then.
    let by_retained: Option<Vec<(&heaplens_results::stats::TypeStatsRow, u64)>> = match &d.retained
    {
        Retained::Ready { by_id, .. } => {
            let mut v: Vec<_> = o
                .types
                .iter()
                .map(|r| (r, by_id.get(&r.id).copied().unwrap_or(0)))
                .collect();
            v.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.bytes.cmp(&a.0.bytes)));
            v.truncate(10);
            Some(v)
        }
        _ => None,
    };
    let retained_ranked = by_retained.is_some();
    let top: Vec<(&heaplens_results::stats::TypeStatsRow, u64)> =
        by_retained.unwrap_or_else(|| o.types.iter().take(10).map(|r| (r, r.bytes)).collect());
    let max = top.first().map_or(1, |r| r.1.max(1));
    let id = p.id;
    let dispatch = ctx.dispatch.clone();
    let reused = read.unpacked_copy.as_ref().is_some_and(|c| c.reused);
    let kept = read
        .unpacked_copy
        .as_ref()
        .is_some_and(|c| ctx.kept.list.iter().any(|k| k.copy.file == c.file));
    html! {
        <section class="overview" id="overview" data-objects={o.objects.to_string()}
            data-bytes={o.bytes.to_string()} data-types={o.type_count.to_string()}>
            <h2 class="visually-hidden">{ "Overview" }</h2>
            <div class="cards">
                { card("Heap size (live objects)", &bytes(o.bytes), "ov-bytes") }
                { card("Objects", &thousands(o.objects), "ov-objects") }
                { card("Types", &thousands(o.type_count), "ov-types") }
                { card("Free space", &format!("{} in {} blocks", bytes(o.free.bytes), thousands(o.free.count)), "ov-free") }
            </div>
            <p class="status-line">{ retained_status(d, &dispatch) }</p>
            { super::findings::top_findings(&ctx.state, &dispatch, id) }
            <div class="detail-grid">
                <div class="panel">
                    <h3>{ "The dump" }</h3>
                    <dl class="facts">
                        <dt>{ "Format" }</dt><dd id="ov-format">{ &read.format_name }</dd>
                        <dt>{ "Dump time" }</dt><dd id="ov-time" data-iso={o.dump_time.clone()}>{ unknown(&dump_time, time_missing) }</dd>
                        <dt>{ "Runtime" }</dt><dd id="ov-runtime">{ unknown(&o.runtime, not_recorded) }</dd>
                        <dt>{ "GC mode" }</dt><dd id="ov-gc">{ unknown(&gc_mode, not_recorded) }</dd>
                        <dt>{ "Process" }</dt><dd>{ unknown(&o.header.process_name.as_ref().map(|n| match o.header.process_id {
                            Some(pid) => format!("{n} (pid {pid})"),
                            None => n.clone(),
                        }), "not recorded") }</dd>
                        if let Some(m) = &o.machine_name {
                            <dt>{ "Machine" }</dt><dd>{ m }</dd>
                        }
                        if let Some(t) = &o.creation_tool {
                            <dt>{ "Written by" }</dt><dd>{ t }</dd>
                        }
                        if let Some(p) = o.header.pointer_size {
                            <dt>{ "Bitness" }</dt><dd id="ov-bitness" data-pointer-size={p.to_string()}>{ format!("{}-bit ({p}-byte pointers)", p as u32 * 8) }</dd>
                        }
                        if let Some(c) = &o.clr {
                            <dt>{ "GC heap" }</dt><dd id="ov-heap">{ format!("{} in {} {}, {} of it in the dump", bytes(c.heap_bytes), thousands(c.segments), c.heap_layout.as_str(), share_floor(o.header.coverage.heap_bytes_captured, o.header.coverage.heap_bytes)) }</dd>
                            <dt>{ "Finalization" }</dt>
                            <dd id="ov-finalization" data-registered={c.finalization_registered.to_string()} data-ready={c.finalization_ready.to_string()}
                                title="As SOS !finalizequeue counts them: objects registered for finalization are not roots; those ready for finalization (f-reachable) are roots until their finalizer runs">
                                { format!("{} registered (not roots), {} ready for finalization (roots)", thousands(c.finalization_registered), thousands(c.finalization_ready)) }
                            </dd>
                        }
                        <dt>{ "File" }</dt><dd title={o.header.file.clone()}>{ if reused {
                            format!("{} (the archive: {}, modified {}; not read)", d.name, bytes(d.size), file_time(d.file_time_ms))
                        } else {
                            format!("{} ({}, modified {})", o.header.file, bytes(o.header.file_bytes), file_time(d.file_time_ms))
                        } }</dd>
                        { for o.header.archives.iter().map(|a| html! { <>
                            // Kept: not deleted afterwards (the local copy says so).
                            <dt>{ "From" }</dt><dd class="ov-archive">{ if kept { a.words_without_fate() } else { a.words() } }
                                if let Some(others) = a.others_words() { <br/><span class="muted">{ others }</span> }
                            </dd>
                        </> }) }
                        if let Some(copy) = &read.unpacked_copy {
                            <dt>{ "Local copy" }</dt><dd>
                                <super::kept::KeepCopy copy={copy.clone()} archive={super::kept::archive_of(d)}
                                    entry={o.header.archives.last().and_then(|a| a.entry.clone())} />
                            </dd>
                        }
                        <dt>{ "Graph" }</dt><dd>{ format!("{} nodes, {} references, {} roots", thousands(o.nodes), thousands(o.edges), thousands(o.roots)) }</dd>
                        if let Some(u) = o.unreachable {
                            <dt>{ "Unreachable" }</dt><dd>{ format!("{} objects, {} (garbage not yet collected; not counted)", thousands(u.count), bytes(u.bytes)) }</dd>
                        }
                        if let Some(u) = o.not_reachable_from_roots {
                            <dt>{ "Not reachable from roots" }</dt><dd id="ov-not-reachable" data-count={u.count.to_string()}>{ format!("{} objects, {} (PerfView's [not reachable from roots]: counted, without a root path or retained size)", thousands(u.count), bytes(u.bytes)) }</dd>
                        }
                        <dt>{ "Read in" }</dt><dd id="ov-open-ms" data-ms={format!("{:.1}", read.open_ms)} data-read-ms={format!("{:.1}", read.read_ms)} data-bytes-read={read.bytes_read.to_string()} data-wasm-memory={read.wasm_memory.to_string()} data-unpack-ms={format!("{:.1}", read.unpack_ms)} data-walkers={read.walkers.to_string()} data-plan-ms={format!("{:.1}", read.plan_ms)} data-walk-ms={format!("{:.1}", read.walk_ms)}>{ read_in_words(&o.header.archives, read, d.size) }</dd>
                    </dl>
                    if o.scaled {
                        <p class="note">{ "This .gcdump holds a sample of the heap: counts and bytes are scaled up from the sampled objects, as PerfView does." }</p>
                    }
                    { for o.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
                </div>
                <div class="panel">
                    <h3>{ if retained_ranked { "What holds the most (retained size)" } else { "Largest types (by bytes; by retained size once computed)" } }</h3>
                    <ol class="toplist" id="top-types" data-by={if retained_ranked { "retained" } else { "bytes" }}>
                        { for top.into_iter().map(|(r, v)| {
                            let t = r.id;
                            html! {
                                <li>
                                    <button class="top-row" title={r.name.clone()}
                                        onclick={dispatch.reform(move |_| Action::ShowDump(id, Tab::Detail(t)))}>
                                        <span class="top-name">{ &r.name }</span>
                                        <span class="top-bar" aria-hidden="true"><span class="bar" style={format!("width:{:.1}%", v as f64 * 100.0 / max as f64)}></span></span>
                                        <span class="top-num">{ bytes(v) }</span>
                                    </button>
                                </li>
                            }
                        }) }
                    </ol>
                    <button class="linklike" id="see-all-types" onclick={dispatch.reform(move |_| Action::ShowDump(id, Tab::Types))}>{ "See all types →" }</button>
                </div>
            </div>
        </section>
    }
}

/// How the dump was read, in words true of its source: a file read as it
/// is, an archive unpacked first, or a kept unpacked copy (the archive not
/// read).
pub(super) fn read_in_words(
    archives: &[heaplens_results::ArchiveFacts],
    read: &crate::protocol::ReadReport,
    file_size: u64,
) -> String {
    let took = duration_ms(read.open_ms);
    let memory = bytes(read.wasm_memory);
    let memory = match read.walkers {
        0 => memory,
        n => format!("{memory} (the heap walked by {n} workers beside it)"),
    };
    match (&read.unpacked_copy, archives.first(), archives.last()) {
        (Some(c), _, _) if c.reused => format!(
            "{took} · {} read from the unpacked copy kept in this browser (the archive not read) · {memory} of worker memory",
            bytes(c.len)
        ),
        (_, Some(_), Some(inner)) => format!(
            "{took} · a {} archive unpacked to {} ({} read from the archive, re-reads counted) · {memory} of worker memory",
            bytes(file_size),
            bytes(inner.inflated_bytes),
            bytes(read.bytes_read)
        ),
        _ => format!(
            "{took} · {} read from the {} file (re-reads counted) · {memory} of worker memory",
            bytes(read.bytes_read),
            bytes(file_size)
        ),
    }
}

/// `part` of `whole` in percent rounded down to one decimal (as the
/// engine's coverage says it: a heap missing one byte is not 100.0 %).
pub fn share_floor(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "100.0 %".to_owned();
    }
    let tenths = (part as u128 * 1000 / whole as u128) as u64;
    format!("{}.{} %", tenths / 10, tenths % 10)
}

/// A file's modification time (ms since 1970) as `2024-01-02 00:00:00 UTC`.
pub fn file_time(ms: f64) -> String {
    crate::format::unix_seconds((ms / 1000.0).floor() as i64)
}
