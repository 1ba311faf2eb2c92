//! A dump's type table: every type with its count, bytes, share and
//! retained size (joined by type id), in the one table.

use super::common::Same;
use super::overview::retained_status;
use super::table::DataTable;
use super::use_ctx;
use crate::format::thousands;
use crate::protocol::DumpId;
use crate::state::{Action, Retained, Tab};
use crate::table::TypeRowView;
use yew::prelude::*;

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
    d
}

/// See the module documentation.
#[function_component(Types)]
pub fn types(p: &TypesProps) -> Html {
    let ctx = use_ctx();
    let columns = use_memo((), |_| TypeRowView::columns());
    let d = ctx.state.dump(p.id);
    let stats = d.and_then(|d| d.loaded.as_ref()).map(|l| l.stats.clone());
    let by_id = d.and_then(|d| match &d.retained {
        Retained::Ready { by_id, .. } => Some(by_id.clone()),
        _ => None,
    });
    let rows = use_memo((stats.map(Same), by_id.map(Same)), |(stats, by_id)| {
        stats
            .as_ref()
            .map(|s| TypeRowView::rows(&s.0, by_id.as_ref().map(|b| &*b.0)))
            .unwrap_or_default()
    });
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
    let base = d.name.rsplit_once('.').map_or(d.name.as_str(), |(b, _)| b);
    html! {
        <section class="types" id="types">
            <h2 class="visually-hidden">{ "Types" }</h2>
            <p class="status-line">{ retained_status(d, &ctx.dispatch) }</p>
            <DataTable<TypeRowView> id="type-table" label={format!("Types of {}", d.name)} class="cols-types"
                rows={rows.clone()} columns={columns.clone()} cell={cell as fn(&TypeRowView, &str) -> Html}
                data={data as fn(&TypeRowView) -> Vec<(&'static str, String)>}
                view={ctx.state.types_view.clone()} default_sort={TypeRowView::default_sort()}
                on_view={ctx.dispatch.reform(Action::TypesView)} on_activate={Some(on_activate)}
                noun="types" csv_name={format!("{base}-types.csv")}
                describe={Some(describe as fn(&TypeRowView) -> String)} />
        </section>
    }
}
