//! A dump whose graph does not fit in the worker's memory, read without it
//! ([`DumpStatus::Counted`]): why, with the numbers; the type statistics of
//! every object on the heap (garbage included, as `dotnet-dump dumpheap
//! -stat` counts them); and, in the tabs of the views that need the graph
//! (flame graph, a type's detail and instances, the inspector, strings,
//! waste, findings), that they are unavailable for this dump and what gives
//! them (the command line).

use super::table::DataTable;
use super::use_ctx;
use crate::format::{bytes, thousands};
use crate::protocol::DumpId;
use crate::state::{Action, DumpStatus, Tab};
use crate::table::{CountsRowView, Sort};
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`CountsScreen`].
#[derive(Properties, PartialEq)]
pub struct CountsProps {
    /// The dump.
    pub id: DumpId,
    /// The tab asked for.
    pub tab: Tab,
}

/// What a view that needs the graph would show, and the command that
/// gives it.
fn unavailable(tab: Tab) -> Option<(&'static str, &'static str)> {
    Some(match tab {
        Tab::Overview | Tab::Types => return None,
        Tab::Flame => ("The flame graph", "heaplens flame FILE"),
        Tab::Detail(_) => (
            "Why a type's objects are alive (root paths, retained sizes)",
            "heaplens roots FILE --type NAME",
        ),
        Tab::Instances(_) => ("A type's objects", "heaplens instances FILE NAME"),
        Tab::Object(_) => ("The object inspector", "heaplens object FILE ADDRESS"),
        Tab::Strings => ("Duplicate strings", "heaplens strings FILE"),
        Tab::Waste => ("Wasted collections", "heaplens waste FILE"),
        Tab::Findings => ("Leak findings", "heaplens findings FILE"),
    })
}

fn cell(r: &CountsRowView, col: &str) -> Html {
    match col {
        "name" => html! { <span class="tname" title={r.name.clone()}>{ &r.name }</span> },
        "module" => html! { <span class="muted">{ r.module.clone().unwrap_or_default() }</span> },
        "mt" => html! { <span class="muted mono">{ r.mt.clone().unwrap_or_default() }</span> },
        "count" => html! { thousands(r.count) },
        "bytes" => html! { thousands(r.bytes) },
        "share" => html! { format!("{:.2} %", r.share) },
        _ => html! {},
    }
}

fn data(r: &CountsRowView) -> Vec<(&'static str, String)> {
    vec![
        ("data-name", r.name.clone()),
        ("data-mt", r.mt.clone().unwrap_or_default()),
        ("data-count", r.count.to_string()),
        ("data-bytes", r.bytes.to_string()),
    ]
}

/// See the module documentation.
#[function_component(CountsScreen)]
pub fn counts_screen(p: &CountsProps) -> Html {
    let ctx = use_ctx();
    let (doc, read) = ctx
        .state
        .dump(p.id)
        .and_then(|d| match &d.status {
            DumpStatus::Counted(doc, read) => Some((doc.clone(), read.clone())),
            _ => None,
        })
        .unzip();
    let rows = use_memo(doc.clone().map(|d| Rc::as_ptr(&d) as usize), {
        let doc = doc.clone();
        move |_| doc.as_deref().map(CountsRowView::rows).unwrap_or_default()
    });
    let columns = use_memo((), |_| CountsRowView::columns());
    let (Some(d), Some(doc), Some(read)) = (ctx.state.dump(p.id), doc, read) else {
        return html! {};
    };
    let id = p.id;
    // The tabs of a read dump, each of the views that need the graph
    // saying so when shown.
    let tabs: Vec<(Tab, String, &str)> = vec![
        (
            Tab::Types,
            format!("Types, all objects ({})", thousands(doc.type_count)),
            "tab-types",
        ),
        (Tab::Flame, "Flame graph".to_owned(), "tab-flame"),
        (Tab::Strings, "Strings".to_owned(), "tab-strings"),
        (Tab::Waste, "Waste".to_owned(), "tab-waste"),
        (Tab::Findings, "Findings".to_owned(), "tab-findings"),
    ];
    let shown = match p.tab {
        Tab::Overview => Tab::Types,
        t => t,
    };
    let now = tabs.iter().position(|(t, ..)| *t == shown);
    let onkeydown = {
        let order: Vec<(Tab, String)> = tabs.iter().map(|(t, _, i)| (*t, i.to_string())).collect();
        super::dump::tab_keys(ctx.dispatch.clone(), id, order, now.unwrap_or(0))
    };
    let selected_tab = now.map(|i| tabs[i].2).unwrap_or_default();
    // The format as the overview names it ("Linux core dump (ELF)"), not
    // the registry's short name.
    let format_title = heaplens_snapshot::format::by_name(&doc.header.format)
        .map_or(doc.header.format.as_str(), |f| f.title);
    let base = d.name.rsplit_once('.').map_or(d.name.as_str(), |(b, _)| b);
    let partial = (!doc.header.complete).then(|| {
        doc.header
            .coverage
            .summary
            .clone()
            .unwrap_or_else(|| "the dump does not hold the whole heap".to_owned())
    });
    html! {
        <>
            <div class="filebar">
                <h1 class="filename" title={d.name.clone()} id="dump-name">{ &d.name }</h1>
                <span class="muted">{ format!("{} · {}", format_title, bytes(d.size)) }</span>
            </div>
            if let Some(s) = partial {
                <div class="partial-banner" role="note" data-partial="true">
                    <strong>{ "Partial dump: " }</strong>
                    { format!("{s}. The numbers count only what the dump holds; what it lacks is not in them.") }
                </div>
            }
            <section class="partial-banner statistics-only" id="statistics-only" role="note"
                aria-labelledby="statistics-only-title" data-counted="all_objects"
                data-objects={doc.objects.to_string()} data-bytes={doc.bytes.to_string()}>
                <h2 id="statistics-only-title">{ "Type statistics only: this dump's graph does not fit in this page's memory" }</h2>
                if let Some(reason) = &doc.reason {
                    <p id="statistics-only-reason">{ reason }</p>
                }
                <p id="statistics-only-counts">{ format!(
                    "Counted: {} objects, {} in {} types — every object on the heap, garbage not yet \
                     collected included (as dotnet-dump dumpheap -stat counts them), not only those a \
                     root reaches; free space: {} in {} blocks (not in the table).",
                    thousands(doc.objects), bytes(doc.bytes), thousands(doc.type_count),
                    bytes(doc.free.bytes), thousands(doc.free.count),
                ) }</p>
                <p id="statistics-only-read" data-ms={format!("{:.1}", read.open_ms)}
                    data-bytes-read={read.bytes_read.to_string()}
                    data-unpacked-bytes={read.unpacked_bytes.to_string()}
                    data-unpack-ms={format!("{:.1}", read.unpack_ms)}>
                    { format!("Read in {}", super::overview::read_in_words(&doc.header.archives, &read, d.size)) }
                </p>
            </section>
            <div class="tabs" role="tablist" aria-label="Views of this dump" {onkeydown}>
                { for tabs.iter().map(|(t, label, tid)| {
                    let t = *t;
                    let selected = t == shown;
                    html! {
                        <button role="tab" id={tid.to_string()} aria-controls="tabpanel"
                            class={classes!("tab", selected.then_some("active"))}
                            aria-selected={selected.to_string()} title={label.clone()}
                            tabindex={if selected { "0" } else { "-1" }}
                            onclick={ctx.dispatch.reform(move |_| Action::ShowDump(id, t))}>{ label }</button>
                    }
                }) }
            </div>
            <div role="tabpanel" id="tabpanel" aria-labelledby={selected_tab}>
                { match unavailable(shown) {
                    None => html! {
                        <DataTable<CountsRowView> id="counts-table"
                            label={format!("Types of {}, all objects", d.name)}
                            class="cols-counts" rows={rows.clone()} columns={columns.clone()}
                            cell={cell as fn(&CountsRowView, &str) -> Html}
                            data={data as fn(&CountsRowView) -> Vec<(&'static str, String)>}
                            view={ctx.state.types_view.clone()} default_sort={Sort::new("bytes", true)}
                            on_view={ctx.dispatch.reform(Action::TypesView)}
                            noun="types" csv_name={format!("{base}-all-objects.csv")} />
                    },
                    Some((what, command)) => html! {
                        <section class="card unavailable" id="unavailable" data-view={what}>
                            <h2>{ format!("{what}: not available for this dump") }</h2>
                            <p>{ format!(
                                "It needs the references between the objects, which this page could \
                                 not hold for this dump (see above). The command line reads the dump \
                                 with the machine's memory: {command}."
                            ) }</p>
                        </section>
                    },
                } }
            </div>
        </>
    }
}
