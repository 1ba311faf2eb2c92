//! Two dumps compared: which is the baseline and which the current dump
//! (chosen, swapped, and why that way round), each side's partial-dump
//! banner, the totals and what grew, in the one table.

use super::common::{card, dump_label, dump_time_text, PartialBanner, Same};
use super::overview::file_time;
use super::table::DataTable;
use super::use_ctx;
use crate::format::{bytes, middle_ellipsis, signed_bytes, signed_thousands, thousands};
use crate::protocol::DumpId;
use crate::state::{Action, Basis, Pending, Tab};
use crate::table::DiffRowView;
use heaplens_results::diff::DiffStatus;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

fn cell(r: &DiffRowView, col: &str) -> Html {
    let row = &r.row;
    let cls = match row.bytes_delta.signum() {
        1 => "grew",
        -1 => "shrank",
        _ => "",
    };
    match col {
        "name" => html! {
            <span class="nm" title={row.name.clone()}>
                { match row.status {
                    DiffStatus::New => html! { <span class="badge new">{ "new" }</span> },
                    DiffStatus::Vanished => html! { <span class="badge gone">{ "vanished" }</span> },
                    DiffStatus::Changed => html! {},
                } }
                { &row.name }
            </span>
        },
        "bytes_delta" => html! { <span class={cls}>{ signed_thousands(row.bytes_delta) }</span> },
        "count_delta" => html! { <span class={cls}>{ signed_thousands(row.count_delta) }</span> },
        "counts" => {
            html! { { format!("{} → {}", thousands(row.count_base), thousands(row.count_current)) } }
        }
        "bytes_current" => html! { { thousands(row.bytes_current) } },
        _ => html! {},
    }
}

fn data(r: &DiffRowView) -> Vec<(&'static str, String)> {
    let change = match r.row.status {
        DiffStatus::New => "new",
        DiffStatus::Vanished => "vanished",
        DiffStatus::Changed => "both",
    };
    vec![
        ("data-name", r.row.name.clone()),
        ("data-count-delta", r.row.count_delta.to_string()),
        ("data-bytes-delta", r.row.bytes_delta.to_string()),
        ("data-change", change.to_owned()),
    ]
}

/// See the module documentation.
#[function_component(Compare)]
pub fn compare() -> Html {
    let ctx = use_ctx();
    let columns = use_memo((), |_| DiffRowView::columns());
    let s = &*ctx.state;
    let diff = match s.current_diff() {
        Some(Pending::Ready(d)) => Some(d.clone()),
        _ => None,
    };
    let rows = use_memo(diff.clone().map(Same), |d| {
        d.as_ref()
            .map(|d| DiffRowView::rows(&d.0))
            .unwrap_or_default()
    });
    let Some(c) = s.comparison.clone() else {
        return html! {
            <section class="card">
                <h1>{ "Comparison" }</h1>
                <p>{ "Open two dumps to compare them." }</p>
            </section>
        };
    };
    let (Some(b), Some(cur)) = (s.dump(c.base), s.dump(c.current)) else {
        return html! {};
    };
    let ready: Vec<_> = s.ready().collect();
    let select = |which: &'static str, chosen: DumpId| {
        let dispatch = ctx.dispatch.clone();
        let c = c.clone();
        let onchange = Callback::from(move |e: Event| {
            let sel: HtmlSelectElement = e.target_unchecked_into();
            let Ok(v) = sel.value().parse::<u32>() else {
                return;
            };
            let v = DumpId(v);
            let (mut base, mut current) = (c.base, c.current);
            if which == "base" {
                if v == current {
                    current = base;
                }
                base = v;
            } else {
                if v == base {
                    base = current;
                }
                current = v;
            }
            dispatch.emit(Action::Pair { base, current });
        });
        html! {
            <select id={format!("compare-{which}")} {onchange}>
                { for ready.iter().map(|d| html! {
                    <option value={d.id.0.to_string()} selected={d.id == chosen} data-name={d.name.clone()}
                        title={dump_label(d)}>{ format!("{} ({})", middle_ellipsis(&d.name, 36), bytes(d.size)) }</option>
                }) }
            </select>
        }
    };
    let when = |d: &crate::state::DumpEntry| {
        d.loaded
            .as_ref()
            .and_then(|l| l.stats.dump_time.as_deref().map(dump_time_text))
    };
    let note = match &c.basis {
        Basis::DumpTime => html! {
            <p class="muted order-note" id="order-note" data-basis="dump-time">
                { format!("The baseline is the older dump by the time recorded in the dumps: {} before {}.",
                    when(b).unwrap_or_default(), when(cur).unwrap_or_default()) }
            </p>
        },
        Basis::FileTime { untimed } => {
            let untimed: Vec<&String> = untimed
                .iter()
                .filter(|n| **n == b.name || **n == cur.name)
                .collect();
            let (tb, tc) = (file_time(b.file_time_ms), file_time(cur.file_time_ms));
            let times = if tb == tc {
                format!("both {tb}, so by name")
            } else {
                format!("{tb} before {tc}")
            };
            let who = match untimed.as_slice() {
                [one] => format!("{one} records no time of its own"),
                _ => "Neither dump records a time of its own".to_owned(),
            };
            html! {
                <p class="note order-note" id="order-note" data-basis="file-time" role="note">
                    { format!("{who}, so the baseline is the older file by modification time ({times}); a copy or download can change that. Swap them if it is the wrong way round.") }
                </p>
            }
        }
        Basis::Chosen => html! {
            <p class="muted order-note" id="order-note" data-basis="chosen">{ "Baseline and current dump as you chose them." }</p>
        },
    };
    let body = match s.current_diff() {
        Some(Pending::Ready(d)) => {
            let current = c.current;
            let base = c.base;
            let on_activate = {
                let rows = rows.clone();
                let dispatch = ctx.dispatch.clone();
                Callback::from(move |pos: usize| {
                    let Some(r) = rows.get(pos) else { return };
                    // A type of the current dump, or of the baseline for a
                    // vanished one.
                    if let Some(&t) = r.row.current_type_ids.first() {
                        dispatch.emit(Action::ShowDump(current, Tab::Detail(t)));
                    } else if let Some(&t) = r.row.base_type_ids.first() {
                        dispatch.emit(Action::ShowDump(base, Tab::Detail(t)));
                    }
                })
            };
            html! {
                <section class="growth" id="growth">
                    <div class="cards">
                        { card("Heap, baseline", &format!("{} · {} objects", bytes(d.base.bytes), thousands(d.base.objects)), "diff-base") }
                        { card("Heap, current", &format!("{} · {} objects", bytes(d.current.bytes), thousands(d.current.objects)), "diff-cur") }
                        { card("Change", &format!("{} · {} objects", signed_bytes(d.bytes_delta), signed_thousands(d.count_delta)), "diff-change") }
                    </div>
                    if d.names_normalized {
                        <p class="note">{ "The two dumps spell type names differently (their formats differ): names are compared normalized, as heaplens diff does." }</p>
                    }
                    <DataTable<DiffRowView> id="diff-table" label="Types that changed" class="cols-diff"
                        rows={rows.clone()} columns={columns.clone()} cell={cell as fn(&DiffRowView, &str) -> Html}
                        data={data as fn(&DiffRowView) -> Vec<(&'static str, String)>}
                        view={s.diff_view.clone()} default_sort={DiffRowView::default_sort()}
                        on_view={ctx.dispatch.reform(Action::DiffView)} on_activate={Some(on_activate)}
                        noun="changed types" csv_name="heaplens-comparison.csv"
                        describe={Some((|r: &DiffRowView| r.row.name.clone()) as fn(&DiffRowView) -> String)}
                        extra={html! { <span class="muted">{ format!("· {} unchanged", thousands(d.unchanged_types)) }</span> }} />
                </section>
            }
        }
        Some(Pending::Failed(e)) => html! {
            <p class="error-text" id="diff-failed">{ format!("The comparison failed: {}", e.message) }</p>
        },
        _ => html! { <p class="muted loading-line">{ "Comparing…" }</p> },
    };
    let two_sided = |d: &crate::state::DumpEntry| {
        d.loaded.clone().map(
            |l| html! { <PartialBanner loaded={l} name={Some(AttrValue::from(d.name.clone()))} /> },
        )
    };
    html! {
        <>
            <div class="filebar compare-head">
                <h1>{ "Comparison" }</h1>
                <span class="filename" title={b.name.clone()}>{ &b.name }</span>
                <span class="arrow" aria-hidden="true">{ "→" }</span>
                <span class="filename" title={cur.name.clone()}>{ &cur.name }</span>
            </div>
            { two_sided(b).unwrap_or_default() }
            { two_sided(cur).unwrap_or_default() }
            <div class="pair" role="group" aria-label="Dumps compared">
                <label for="compare-base">{ "Baseline" }</label>
                { select("base", c.base) }
                <button class="ghost" id="swap" onclick={ctx.dispatch.reform(|_| Action::Swap)}
                    aria-label="Swap baseline and current">{ "⇄ Swap" }</button>
                <label for="compare-current">{ "Current" }</label>
                { select("current", c.current) }
            </div>
            { note }
            { body }
        </>
    }
}
