//! Two dumps compared: which is the baseline and which the current dump
//! (chosen, swapped, and why that way round), each side's partial-dump
//! banner, the totals and what grew, in the one table — by retained growth
//! once both dumps' retained sizes are in — or grown groups, a group
//! opening (Enter or a click) to its types before → after.

use super::common::{card, dump_label, dump_time_text, PartialBanner, Same};
use super::flame::FlameGraph;
use super::overview::file_time;
use super::table::DataTable;
use super::types::group_select;
use super::use_ctx;
use crate::format::{bytes, middle_ellipsis, signed_bytes, signed_thousands, thousands};
use crate::protocol::DumpId;
use crate::state::{Action, Basis, Pending, Tab};
use crate::table::{DiffGroupRowView, DiffRowView};
use heaplens_results::diff::DiffStatus;
use heaplens_results::flame::FlameMeasure;
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
        "retained_delta" => match row.retained_delta {
            Some(v) => {
                let cls = match v.signum() {
                    1 => "grew",
                    -1 => "shrank",
                    _ => "",
                };
                html! { <span class={cls}>{ signed_thousands(v) }</span> }
            }
            None => {
                html! { <span class="muted" title="once both dumps' retained sizes are in">{ "…" }</span> }
            }
        },
        "retained_delta_pct" => match (row.retained_delta_percent(), row.retained_delta) {
            (Some(p), _) => html! { { format!("{p:+.1} %") } },
            (None, Some(_)) => html! { <span class="muted">{ "new" }</span> },
            _ => html! {},
        },
        _ => html! {},
    }
}

fn group_cell(r: &DiffGroupRowView, col: &str) -> Html {
    let row = &r.row;
    let signed = |v: i64| {
        let cls = match v.signum() {
            1 => "grew",
            -1 => "shrank",
            _ => "",
        };
        html! { <span class={cls}>{ signed_thousands(v) }</span> }
    };
    match col {
        "name" => html! { <span class="nm" title={row.name.clone()}>{ &row.name }</span> },
        "retained_delta" => row.retained_delta.map(signed).unwrap_or_default(),
        "bytes_delta" => signed(row.bytes_delta),
        "count_delta" => signed(row.count_delta),
        "counts" => {
            html! { { format!("{} → {}", thousands(row.count_base), thousands(row.count_current)) } }
        }
        "types" => {
            html! { { format!("{} → {}", row.base_type_ids.len(), row.current_type_ids.len()) } }
        }
        _ => html! {},
    }
}

fn group_data(r: &DiffGroupRowView) -> Vec<(&'static str, String)> {
    let mut d = vec![
        ("data-name", r.row.name.clone()),
        ("data-count-base", r.row.count_base.to_string()),
        ("data-count-current", r.row.count_current.to_string()),
        ("data-bytes-delta", r.row.bytes_delta.to_string()),
    ];
    if let Some(v) = r.row.retained_delta {
        d.push(("data-retained-delta", v.to_string()));
    }
    d
}

fn data(r: &DiffRowView) -> Vec<(&'static str, String)> {
    let change = match r.row.status {
        DiffStatus::New => "new",
        DiffStatus::Vanished => "vanished",
        DiffStatus::Changed => "both",
    };
    let mut d = vec![
        ("data-name", r.row.name.clone()),
        ("data-count-delta", r.row.count_delta.to_string()),
        ("data-bytes-delta", r.row.bytes_delta.to_string()),
        ("data-change", change.to_owned()),
    ];
    if let Some(v) = r.row.retained_delta {
        d.push(("data-retained-delta", v.to_string()));
    }
    d
}

/// An opened group's types, before → after, each opening its type (in the
/// current dump, or the baseline for a type gone).
fn group_members(
    g: &DiffGroupRowView,
    b: &crate::state::DumpEntry,
    cur: &crate::state::DumpEntry,
    base: DumpId,
    current: DumpId,
    dispatch: &Callback<Action>,
) -> Html {
    let members = g.members(
        |t| b.loaded.as_ref().and_then(|l| l.row(t)),
        |t| cur.loaded.as_ref().and_then(|l| l.row(t)),
    );
    html! {
        <section class="card members" id="diff-group-members" aria-label={format!("Types in {}", g.row.name)}>
            <h2 class="members-h">{ format!("{} — {} types, baseline → current", g.row.name, members.len()) }</h2>
            <ul>
                { for members.iter().map(|m| {
                    let open = match (m.current_id, m.base_id) {
                        (Some(t), _) => Some((current, t)),
                        (None, Some(t)) => Some((base, t)),
                        _ => None,
                    };
                    let delta = m.bytes_delta();
                    let cls = match delta.signum() { 1 => "grew", -1 => "shrank", _ => "" };
                    html! {
                        <li class="member" data-name={m.name.clone()} data-count-base={m.count_base.to_string()}
                            data-count-current={m.count_current.to_string()} data-bytes-delta={delta.to_string()}>
                            if let Some((dump, t)) = open {
                                <button class="linklike" data-id={t.0.to_string()}
                                    onclick={dispatch.reform(move |_| Action::ShowDump(dump, Tab::Detail(t)))}>{ &m.name }</button>
                            } else {
                                <span>{ &m.name }</span>
                            }
                            <span class="muted">{ format!(" · {} → {} objects · ", thousands(m.count_base), thousands(m.count_current)) }</span>
                            <span class={cls}>{ format!("{} bytes", signed_thousands(delta)) }</span>
                        </li>
                    }
                }) }
            </ul>
        </section>
    }
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
    let group_columns = use_memo((), |_| DiffGroupRowView::columns());
    let grouped = match (&s.comparison, s.diff_group) {
        (Some(c), Some(by)) => s.diff_groups.get(&(c.base, c.current, by)).cloned(),
        _ => None,
    };
    let group_rows = use_memo(
        match &grouped {
            Some(Pending::Ready(t)) => Some(Same(t.clone())),
            _ => None,
        },
        |t| {
            t.as_ref()
                .map(|t| DiffGroupRowView::rows(&t.0))
                .unwrap_or_default()
        },
    );
    // The group opened to its types (by grouping and place in its table).
    let open_group = use_state_eq(|| None::<(heaplens_results::groups::GroupKind, usize)>);
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
    let by = s.flame_by;
    let radio = |m: FlameMeasure, label: &str| {
        let dispatch = ctx.dispatch.clone();
        html! {
            <label>
                <input type="radio" name="diff-flame-by" id={format!("diff-flame-by-{}", m.as_str())}
                    checked={by == m} onchange={Callback::from(move |_| dispatch.emit(Action::FlameBy(m)))} />
                { label }
            </label>
        }
    };
    let diff_flame = html! {
        <section class="diff-flame" id="diff-flame-view">
            <h2>{ "Differential flame graph" }</h2>
            <p class="muted small">{ "Frames by the current dump's bytes; red grew, blue shrank (deeper colour, larger change), as PerfView colours a diff. Frames are matched by their path of type names." }</p>
            <fieldset class="flame-by">
                <legend>{ "Frames by" }</legend>
                { radio(FlameMeasure::Retained, "Retained size") }
                { radio(FlameMeasure::Inclusive, "Inclusive size (PerfView)") }
            </fieldset>
            { match s.diff_flames.get(&(c.base, c.current, by)) {
                Some(Pending::Ready(doc)) => {
                    let (dispatch, current) = (ctx.dispatch.clone(), c.current);
                    // A frame's type id is the current dump's.
                    let on_open = Callback::from(move |t| dispatch.emit(Action::ShowDump(current, Tab::Detail(t))));
                    html! { <FlameGraph doc={doc.clone()} id="diff-flame" on_open={Some(on_open)} /> }
                }
                Some(Pending::Failed(e)) => html! { <p class="error-text">{ format!("The flame graphs could not be compared: {}", e.message) }</p> },
                _ => html! { <p class="muted loading-line" id="diff-flame-pending">{ "Drawn once both dumps' analyses are in…" }</p> },
            } }
        </section>
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
                    { super::findings::growth_findings(s, &ctx.dispatch) }
                    if d.names_normalized {
                        <p class="note">{ "The two dumps spell type names differently (their formats differ): names are compared normalized, as heaplens diff does." }</p>
                    }
                    <p class="muted" id="diff-order" data-retained={d.retained.to_string()}>{
                        if d.retained {
                            "What grew, by retained growth: what freeing each type's objects would free, now minus before (the collection that leaks comes first, though its own size may not change)."
                        } else {
                            "What grew, by bytes; by retained growth once both dumps' retained sizes are in."
                        }
                    }</p>
                    { group_select("diff-group", s.diff_group, Action::GroupDiff, &ctx.dispatch) }
                    { match (s.diff_group, grouped.clone()) {
                        (None, _) => html! {
                            <DataTable<DiffRowView> id="diff-table" label="Types that changed" class="cols-diff"
                                rows={rows.clone()} columns={columns.clone()} cell={cell as fn(&DiffRowView, &str) -> Html}
                                data={data as fn(&DiffRowView) -> Vec<(&'static str, String)>}
                                view={s.diff_view.clone()} default_sort={DiffRowView::default_sort(d.retained)}
                                on_view={ctx.dispatch.reform(Action::DiffView)} on_activate={Some(on_activate)}
                                noun="changed types" csv_name="heaplens-comparison.csv"
                                describe={Some((|r: &DiffRowView| r.row.name.clone()) as fn(&DiffRowView) -> String)}
                                extra={html! { <span class="muted">{ format!("· {} unchanged", thousands(d.unchanged_types)) }</span> }} />
                        },
                        (Some(by), Some(Pending::Ready(t))) => {
                            let on_group = {
                                let open_group = open_group.clone();
                                let group_rows = group_rows.clone();
                                Callback::from(move |pos: usize| {
                                    let g = group_rows.get(pos).map(|r| (by, r.pos));
                                    open_group.set(if *open_group == g { None } else { g });
                                })
                            };
                            let members = open_group
                                .filter(|(k, _)| *k == by)
                                .and_then(|(_, pos)| group_rows.iter().find(|r| r.pos == pos))
                                .map(|g| group_members(g, b, cur, base, current, &ctx.dispatch));
                            html! {
                                <>
                                    { for t.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
                                    <DataTable<DiffGroupRowView> id="diff-group-table" label={format!("Groups by {}", by.as_str())} class="cols-diffgroups"
                                        rows={group_rows.clone()} columns={group_columns.clone()} cell={group_cell as fn(&DiffGroupRowView, &str) -> Html}
                                        data={group_data as fn(&DiffGroupRowView) -> Vec<(&'static str, String)>}
                                        view={s.diff_view.clone()} default_sort={DiffGroupRowView::default_sort()}
                                        on_view={ctx.dispatch.reform(Action::DiffView)} on_activate={Some(on_group)}
                                        noun="groups" csv_name={format!("heaplens-comparison-{}.csv", by.as_str())} />
                                    { members.unwrap_or_default() }
                                </>
                            }
                        }
                        (Some(_), Some(Pending::Failed(e))) => html! {
                            <p class="error-text">{ format!("The groups could not be compared: {}", e.message) }</p>
                        },
                        (Some(_), _) => html! {
                            <p class="muted loading-line" id="diff-groups-pending">{ "Grouping once both dumps' analyses are in…" }</p>
                        },
                    } }
                    { diff_flame }
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
