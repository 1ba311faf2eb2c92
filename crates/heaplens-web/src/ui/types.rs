//! A dump's type table: every type with its count, bytes, share, retained
//! size and PerfView's inclusive size (joined by type id), in the one
//! table; or the types grouped by namespace, assembly, interface or base
//! type (the worker's group table), a group's members listed when it is
//! opened; or with small types folded into their referrers (PerfView's
//! FoldPats and Fold %, computed by the worker).

use super::common::Same;
use super::groups::GroupTable;
use super::overview::retained_status;
use super::table::{DataTable, RowAction};
use super::use_ctx;
use crate::format::thousands;
use crate::protocol::{DumpId, Folds};
use crate::state::Pending;
use crate::state::{Action, Retained, Tab};
use crate::table::{GroupRowView, TypeRowView};
use heaplens_results::groups::GroupKind;
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

/// The group-by choices: (value, label).
pub const GROUPINGS: [(&str, &str); 5] = [
    ("none", "None (one row per type)"),
    ("namespace", "Namespace"),
    ("assembly", "Assembly"),
    ("interface", "Implemented interface"),
    ("base", "Base type"),
];

/// A grouping from its `<select>` value.
pub fn grouping(v: &str) -> Option<GroupKind> {
    match v {
        "namespace" => Some(GroupKind::Namespace),
        "assembly" => Some(GroupKind::Assembly),
        "interface" => Some(GroupKind::Interface),
        "base" => Some(GroupKind::Base),
        _ => None,
    }
}

/// The group-by `<select>` (`id`), sending `action` with the choice.
pub fn group_select(
    id: &str,
    now: Option<GroupKind>,
    action: fn(Option<GroupKind>) -> Action,
    dispatch: &Callback<Action>,
) -> Html {
    let dispatch = dispatch.clone();
    let onchange = Callback::from(move |e: Event| {
        let sel: HtmlSelectElement = e.target_unchecked_into();
        dispatch.emit(action(grouping(&sel.value())));
    });
    let now = now.map_or("none", GroupKind::as_str);
    html! {
        <div class="group-by">
            <label for={id.to_owned()}>{ "Group by" }</label>
            <select id={id.to_owned()} {onchange}>
                { for GROUPINGS.iter().map(|(v, label)| html! {
                    <option value={*v} selected={*v == now}>{ *label }</option>
                }) }
            </select>
        </div>
    }
}

/// Properties of [`FoldForm`].
#[derive(Properties, PartialEq)]
pub struct FoldFormProps {
    /// The folds applied now.
    pub now: Folds,
}

/// The fold controls: a pattern and a percentage, applied with Fold
/// (Enter), removed with Clear. A pattern that is not a regular
/// expression is said under the field and not sent.
#[function_component(FoldForm)]
pub fn fold_form(p: &FoldFormProps) -> Html {
    let ctx = use_ctx();
    let pattern = use_node_ref();
    let percent = use_node_ref();
    let error = use_state_eq(|| None::<String>);
    let onsubmit = {
        let (pattern, percent, error) = (pattern.clone(), percent.clone(), error.clone());
        let dispatch = ctx.dispatch.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let value = |r: &NodeRef| {
                r.cast::<HtmlInputElement>()
                    .map(|i| i.value().trim().to_owned())
                    .unwrap_or_default()
            };
            let (pat, pct) = (value(&pattern), value(&percent));
            if let Err(e) = regex::Regex::new(&pat) {
                error.set(Some(format!("Not a regular expression: {e}")));
                return;
            }
            let min_percent = match pct.parse::<f64>() {
                _ if pct.is_empty() => None,
                Ok(v) if v.is_finite() && (0.0..=100.0).contains(&v) => Some(v),
                _ => {
                    error.set(Some("Fold % is a number from 0 to 100.".to_owned()));
                    return;
                }
            };
            error.set(None);
            dispatch.emit(Action::FoldTypes(Folds {
                pattern: pat,
                min_percent,
            }));
        })
    };
    let clear = {
        let error = error.clone();
        let dispatch = ctx.dispatch.clone();
        Callback::from(move |_| {
            error.set(None);
            dispatch.emit(Action::FoldTypes(Folds::default()));
        })
    };
    let invalid = error.is_some().then_some("true");
    html! {
        <form class="fold-form" id="fold-form" aria-label="Fold types into their referrers" {onsubmit}>
            <label for="fold-pattern">{ "Fold types matching" }</label>
            <input type="text" id="fold-pattern" ref={pattern} value={p.now.pattern.clone()}
                placeholder={r"regex, e.g. \[\]$"} autocomplete="off" spellcheck="false"
                aria-invalid={invalid} aria-describedby="fold-help fold-error" />
            <label for="fold-percent">{ "Fold %" }</label>
            <input type="text" inputmode="decimal" id="fold-percent" ref={percent} size="5"
                value={p.now.min_percent.map(|v| v.to_string()).unwrap_or_default()}
                placeholder="e.g. 1" autocomplete="off" aria-describedby="fold-help" />
            <button class="ghost small" type="submit" id="fold-go">{ "Fold" }</button>
            if !p.now.is_empty() {
                <button class="ghost small" type="button" id="fold-clear" onclick={clear}>{ "Clear folds" }</button>
            }
            <span class="muted small-note" id="fold-help">
                { "Counts the objects of matching types, and of types whose Inc is under Fold % of the heap, with the objects that hold them (PerfView's FoldPats and Fold %)." }
            </span>
            <span class="error-text" id="fold-error" role="alert">{ error.as_deref().unwrap_or_default() }</span>
        </form>
    }
}

fn opt_cell(v: Option<u64>) -> Html {
    match v {
        Some(v) => html! { { thousands(v) } },
        None => html! { <span class="muted" title="being computed">{ "…" }</span> },
    }
}

fn group_cell(r: &GroupRowView, col: &str) -> Html {
    match col {
        "name" => html! { <span class="nm" title={r.row.name.clone()}>{ &r.row.name }</span> },
        "types" => html! { { r.row.type_ids.len() } },
        "count" => html! { { thousands(r.row.count) } },
        "bytes" => html! { { thousands(r.row.bytes) } },
        "retained" => opt_cell(r.row.retained_bytes),
        "inc" => opt_cell(r.row.inc),
        "inc_count" => opt_cell(r.row.inc_count),
        _ => html! {},
    }
}

fn group_data(r: &GroupRowView) -> Vec<(&'static str, String)> {
    let mut d = vec![
        ("data-name", r.row.name.clone()),
        ("data-count", r.row.count.to_string()),
        ("data-bytes", r.row.bytes.to_string()),
        ("data-types", r.row.type_ids.len().to_string()),
    ];
    if let Some(v) = r.row.retained_bytes {
        d.push(("data-retained", v.to_string()));
    }
    if let Some(v) = r.row.inc {
        d.push(("data-inc", v.to_string()));
    }
    d
}

/// An opened group's types, each with its objects and bytes, each opening
/// its detail.
fn group_members(
    g: &GroupRowView,
    loaded: Option<&crate::state::Loaded>,
    id: DumpId,
    dispatch: &Callback<Action>,
) -> Html {
    let g = &g.row;
    html! {
        <section class="card members" id="group-members" aria-label={format!("Types in {}", g.name)}>
            <h3>{ format!("{} — {} types", g.name, g.type_ids.len()) }</h3>
            <ul>
                { for g.type_ids.iter().map(|&t| {
                    let row = loaded.and_then(|l| l.row(t));
                    let name = row.map(|r| r.name.clone()).unwrap_or_else(|| format!("type {}", t.0));
                    let figures = row.map(|r| format!(" · {} objects · {} bytes", thousands(r.count), thousands(r.bytes))).unwrap_or_default();
                    html! {
                        <li><button class="linklike" data-id={t.0.to_string()}
                            onclick={dispatch.reform(move |_| Action::ShowDump(id, Tab::Detail(t)))}>{ name }</button>
                            <span class="muted">{ figures }</span></li>
                    }
                }) }
            </ul>
        </section>
    }
}

/// Properties of [`Types`].
#[derive(Properties, PartialEq)]
pub struct TypesProps {
    /// The dump.
    pub id: DumpId,
}

fn cell(r: &TypeRowView, col: &str) -> Html {
    match col {
        "name" => {
            let title = [Some(r.name.as_str()), r.module.as_deref(), r.mt.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("\n");
            html! {
                <span class="nm" title={title}>
                    { &r.name }
                    if r.same_name {
                        if let Some(mt) = &r.mt { <span class="muted mt">{ format!(" MT {mt}") }</span> }
                    }
                </span>
            }
        }
        // A module is often a path: its file name here, the whole path in
        // the title and under the table.
        "module" => {
            let m = r.module.as_deref().unwrap_or("");
            let file = m.rsplit(['/', '\\']).next().unwrap_or(m);
            html! { <span class="muted" title={r.module.clone()}>{ file }</span> }
        }
        "count" => html! { { thousands(r.count) } },
        "bytes" => html! { { thousands(r.bytes) } },
        "share" => html! {
            <>
                <span class="pct-text">{ format!("{:.2} %", r.share) }</span>
                <span class="track" aria-hidden="true"><span class="bar" style={format!("width:{:.1}%", r.bar)}></span></span>
            </>
        },
        "retained" => match r.retained {
            None => html! { <span class="muted" title="being computed">{ "…" }</span> },
            Some(None) => {
                html! { <span class="muted" title="no object of this type is reachable">{ "—" }</span> }
            }
            Some(Some(b)) => html! { { thousands(b) } },
        },
        "retained_pct" => match r.retained_pct {
            Some(p) => html! { { format!("{p:.2} %") } },
            None => html! { <span class="muted">{ "…" }</span> },
        },
        "inc" => opt_cell(r.inc),
        "inc_count" => opt_cell(r.inc_count),
        "fold" => opt_cell(r.fold.map(|f| f.0)),
        "fold_count" => opt_cell(r.fold.map(|f| f.1)),
        _ => html! {},
    }
}

/// The selected row in full, under the table.
fn describe(r: &TypeRowView) -> String {
    let mut s = r.name.clone();
    if let Some(m) = &r.module {
        s.push_str(&format!("  ·  {m}"));
    }
    if let Some(mt) = &r.mt {
        s.push_str(&format!("  ·  MethodTable {mt}"));
    }
    s
}

fn data(r: &TypeRowView) -> Vec<(&'static str, String)> {
    let mut d = vec![
        ("data-id", r.id.0.to_string()),
        ("data-name", r.name.clone()),
        ("data-count", r.count.to_string()),
        ("data-bytes", r.bytes.to_string()),
    ];
    if let Some(Some(b)) = r.retained {
        d.push(("data-retained", b.to_string()));
    }
    if let Some(v) = r.inc {
        d.push(("data-inc", v.to_string()));
    }
    if let Some(v) = r.inc_count {
        d.push(("data-inc-count", v.to_string()));
    }
    if let Some(v) = r.retained_pct {
        d.push(("data-retained-pct", format!("{v:.4}")));
    }
    if let Some((b, c)) = r.fold {
        d.push(("data-fold-bytes", b.to_string()));
        d.push(("data-fold-count", c.to_string()));
    }
    d
}

/// See the module documentation.
#[function_component(Types)]
pub fn types(p: &TypesProps) -> Html {
    let ctx = use_ctx();
    let fold_on = !ctx.state.types_fold.is_empty();
    let columns = use_memo(fold_on, |&f| {
        if f {
            TypeRowView::columns_folded()
        } else {
            TypeRowView::columns()
        }
    });
    let d = ctx.state.dump(p.id);
    let folded = (fold_on)
        .then(|| {
            ctx.state
                .folds
                .get(&(p.id, ctx.state.types_fold.clone()))
                .cloned()
        })
        .flatten();
    let stats = match &folded {
        Some(Pending::Ready(doc)) => Some(doc.clone()),
        _ => d.and_then(|d| d.loaded.as_ref()).map(|l| l.stats.clone()),
    };
    let by_id = d.and_then(|d| match &d.retained {
        Retained::Ready { by_id, .. } => Some(by_id.clone()),
        _ => None,
    });
    let answers = ctx.state.answers(p.id);
    let rows = use_memo(
        (stats.map(Same), by_id.map(Same), answers.map(Same)),
        |(stats, by_id, answers)| {
            stats
                .as_ref()
                .map(|s| {
                    TypeRowView::rows(
                        &s.0,
                        by_id.as_ref().map(|b| &*b.0),
                        answers.as_ref().map(|a| &a.0.stats),
                    )
                })
                .unwrap_or_default()
        },
    );
    let grouped = ctx
        .state
        .types_group
        .and_then(|by| ctx.state.groups.get(&(p.id, by)).cloned());
    let Some(d) = d else { return html! {} };
    let id = p.id;
    let on_activate = {
        let rows = rows.clone();
        let dispatch = ctx.dispatch.clone();
        Callback::from(move |pos: usize| {
            if let Some(r) = rows.get(pos) {
                dispatch.emit(Action::ShowDump(id, Tab::Detail(r.id)));
            }
        })
    };
    let instances = {
        let rows = rows.clone();
        let dispatch = ctx.dispatch.clone();
        RowAction {
            label: "Instances",
            key: "i",
            title: "every object of this type; each opens the inspector",
            on: Callback::from(move |pos: usize| {
                if let Some(r) = rows.get(pos) {
                    dispatch.emit(Action::ShowInstances(id, r.id));
                }
            }),
        }
    };
    let base = d.stem();
    let selector = group_select(
        "types-group",
        ctx.state.types_group,
        Action::GroupTypes,
        &ctx.dispatch,
    );
    let fold_form = html! { <FoldForm now={ctx.state.types_fold.clone()} /> };
    let body = match (ctx.state.types_group, grouped) {
        (None, _) if fold_on && !matches!(folded, Some(Pending::Ready(_))) => match folded {
            Some(Pending::Failed(e)) => html! {
                <p class="error-text" id="fold-failed">{ format!("The types could not be folded: {}", e.message) }</p>
            },
            _ => html! {
                <p class="muted loading-line" id="fold-pending">{ "Folding once the analysis is in…" }</p>
            },
        },
        (None, _) => html! {
            <>
            if let Some(Pending::Ready(doc)) = &folded {
                if let Some(f) = &doc.folds {
                    <p class="note" id="fold-summary">{ format!(
                        "{} types folded into the types that hold them; {} objects ({} bytes) of theirs are held by roots only and are not in the table.",
                        thousands(f.folded_type_ids.len() as u64),
                        thousands(f.into_roots.count),
                        thousands(f.into_roots.bytes),
                    ) }</p>
                }
            }
            <DataTable<TypeRowView> id="type-table" label={format!("Types of {}", d.name)}
                class={if fold_on { "cols-types cols-folded" } else { "cols-types" }}
                rows={rows.clone()} columns={columns.clone()} cell={cell as fn(&TypeRowView, &str) -> Html}
                data={data as fn(&TypeRowView) -> Vec<(&'static str, String)>}
                view={ctx.state.types_view.clone()} default_sort={TypeRowView::default_sort()}
                on_view={ctx.dispatch.reform(Action::TypesView)} on_activate={Some(on_activate)}
                noun="types" csv_name={format!("{base}-types.csv")}
                describe={Some(describe as fn(&TypeRowView) -> String)}
                row_action={Some(instances)} />
            </>
        },
        (Some(by), Some(Pending::Ready(table))) => {
            let members = {
                let (loaded, dispatch) = (d.loaded.clone(), ctx.dispatch.clone());
                Callback::from(move |g: GroupRowView| {
                    group_members(&g, loaded.as_deref(), id, &dispatch)
                })
            };
            html! {
                <GroupTable<GroupRowView> id="group-table" label={format!("Types of {} by {}", d.name, by.as_str())} class="cols-groups"
                    {by} table={Same(table)} cell={group_cell as fn(&GroupRowView, &str) -> Html}
                    data={group_data as fn(&GroupRowView) -> Vec<(&'static str, String)>}
                    view={ctx.state.types_view.clone()} on_view={ctx.dispatch.reform(Action::TypesView)}
                    csv_name={format!("{base}-{}.csv", by.as_str())} {members} />
            }
        }
        (Some(_), Some(Pending::Failed(e))) => html! {
            <p class="error-text">{ format!("The groups could not be made: {}", e.message) }</p>
        },
        (Some(_), _) => html! {
            <p class="muted loading-line" id="groups-pending">{ "Grouping once the analysis is in…" }</p>
        },
    };
    html! {
        <section class="types" id="types">
            <h2 class="visually-hidden">{ "Types" }</h2>
            <p class="status-line">{ retained_status(d, &ctx.dispatch) }</p>
            <div class="table-options">
                { selector }
                if ctx.state.types_group.is_none() { { fold_form } }
            </div>
            { body }
        </section>
    }
}
