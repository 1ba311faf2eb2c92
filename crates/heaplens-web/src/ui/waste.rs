//! Wasted collections (Eclipse MAT's component report): `List<T>`,
//! `Dictionary<K,V>`, `HashSet<T>`, `ConcurrentDictionary<K,V>`,
//! `Queue<T>`, arrays — empty ones, how full they are, arrays of nothing
//! but zeros or nulls — with the bytes their unused slots take, the
//! types wasting most and the types holding them. The document is
//! `heaplens waste FILE --json`'s; it carries no values. The types are the
//! one table (sort, filter, keyboard, CSV): Enter or a click opens a
//! type's detail, I its instances.

use super::common::{card, Same};
use super::contents::{answer, export_bar, object_link};
use super::table::{DataTable, RowAction};
use super::use_ctx;
use crate::contents_rows::WasteRowView;
use crate::format::{bytes, thousands};
use crate::protocol::{ContentsDoc, DumpId};
use crate::state::{Action, Tab};
use yew::prelude::*;

/// Properties of [`Waste`].
#[derive(Properties, PartialEq)]
pub struct WasteProps {
    /// The dump.
    pub id: DumpId,
}

/// See the module documentation.
#[function_component(Waste)]
pub fn waste(p: &WasteProps) -> Html {
    let ctx = use_ctx();
    let s = &*ctx.state;
    let id = p.id;
    let tab = Tab::Waste;
    let Some(q) = s.query_of(tab) else {
        return html! {};
    };
    let doc = match answer(s, &ctx.dispatch, id, tab, &q, "the collections") {
        Ok(d) => d,
        Err(h) => return html! { <section class="waste" id="waste">{ h }</section> },
    };
    let ContentsDoc::Waste(d) = &*doc else {
        return html! {};
    };
    let dispatch = &ctx.dispatch;
    html! {
        <section class="waste" id="waste">
            <h2 class="visually-hidden">{ "Wasted collections" }</h2>
            { export_bar(dispatch, id, &q, &doc) }
            <div class="cards">
                { card("Collections and arrays", &thousands(d.examined), "waste-examined") }
                { card("Wasted", &bytes(d.wasted_bytes), "waste-bytes") }
                { card("Empty", &thousands(d.empty), "waste-empty") }
            </div>
            { for d.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
            <h3 id="waste-types-h">{ "By type" }</h3>
            <WasteTable dump={id} doc={Same(doc.clone())} />
            <div class="detail-grid">
                <div class="panel">
                    <h3>{ "The collections wasting most" }</h3>
                    <div class="table-scroll"><table class="simple" id="waste-top">
                        <tbody>
                            { for d.top.iter().map(|w| html! {
                                <tr class="waste-object" data-node={w.object.node.0.to_string()} data-wasted={w.wasted_bytes.to_string()}>
                                    <td>{ object_link(dispatch, id, &w.object, "") }</td>
                                    <td class="num">{ format!("{} / {}", thousands(w.count), thousands(w.capacity)) }</td>
                                    <td class="num">{ bytes(w.wasted_bytes) }</td>
                                    <td>{ match &w.holder { Some(h) => html! { <>{ "in " }{ object_link(dispatch, id, h, "") }</> }, None => html! {} } }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table></div>
                </div>
                <div class="panel">
                    <h3>{ "Types holding them" }</h3>
                    <div class="table-scroll"><table class="simple" id="waste-holders">
                        <tbody>
                            { for d.holders.iter().map(|h| html! {
                                <tr><td class="mono" title={h.type_name.clone()}>{ &h.type_name }</td>
                                    <td class="num">{ format!("{} collections", thousands(h.collections)) }</td>
                                    <td class="num">{ bytes(h.wasted_bytes) }</td></tr>
                            }) }
                        </tbody>
                    </table></div>
                </div>
            </div>
        </section>
    }
}

fn cell(r: &WasteRowView, col: &str) -> Html {
    let w = &r.row;
    match col {
        "name" => html! { <span class="nm" title={w.type_name.clone()}>{ &w.type_name }</span> },
        "kind" => html! { { r.kind() } },
        "objects" => html! { { thousands(w.objects) } },
        "empty" => html! { { thousands(w.empty) } },
        "empty_bytes" => html! { { thousands(w.empty_bytes) } },
        "fill" => html! {
            <span title={format!("{} of {} slots used", thousands(w.count), thousands(w.capacity))}>{ format!("{:.0} %", w.fill_ratio * 100.0) }</span>
        },
        "all_zero" => html! { { thousands(w.all_zero) } },
        "wasted" => html! { { thousands(w.wasted_bytes) } },
        "total" => html! { { thousands(r.total()) } },
        _ => html! {},
    }
}

fn data(r: &WasteRowView) -> Vec<(&'static str, String)> {
    vec![
        ("data-type-id", r.row.type_id.0.to_string()),
        ("data-name", r.row.type_name.clone()),
        ("data-objects", r.row.objects.to_string()),
        ("data-wasted", r.row.wasted_bytes.to_string()),
        ("data-empty-bytes", r.row.empty_bytes.to_string()),
    ]
}

/// Properties of [`WasteTable`].
#[derive(Properties, PartialEq)]
struct WasteTableProps {
    dump: DumpId,
    /// The waste document.
    doc: Same<ContentsDoc>,
}

/// The wasteful types in the one table.
#[function_component(WasteTable)]
fn waste_table(p: &WasteTableProps) -> Html {
    let ctx = use_ctx();
    let columns = use_memo((), |_| WasteRowView::columns());
    let rows = use_memo(p.doc.clone(), |d| match &*d.0 {
        ContentsDoc::Waste(w) => WasteRowView::rows(w),
        _ => Vec::new(),
    });
    let dump = p.dump;
    let type_of = {
        let rows = rows.clone();
        move |pos: usize| rows.get(pos).map(|r| r.row.type_id)
    };
    let on_activate = {
        let (type_of, dispatch) = (type_of.clone(), ctx.dispatch.clone());
        Callback::from(move |pos: usize| {
            if let Some(t) = type_of(pos) {
                dispatch.emit(Action::ShowDump(dump, Tab::Detail(t)));
            }
        })
    };
    let instances = {
        let dispatch = ctx.dispatch.clone();
        RowAction {
            label: "Instances",
            key: "i",
            title: "every object of this type; each opens the inspector",
            on: Callback::from(move |pos: usize| {
                if let Some(t) = type_of(pos) {
                    dispatch.emit(Action::ShowInstances(dump, t));
                }
            }),
        }
    };
    let base = ctx
        .state
        .dump(dump)
        .map(|d| d.stem().to_owned())
        .unwrap_or_default();
    html! {
        <DataTable<WasteRowView> id="waste-types" label="Wasted collections by type" class="cols-waste"
            rows={rows} columns={columns} cell={cell as fn(&WasteRowView, &str) -> Html}
            data={data as fn(&WasteRowView) -> Vec<(&'static str, String)>}
            view={ctx.state.waste_view.clone()} default_sort={WasteRowView::default_sort()}
            on_view={ctx.dispatch.reform(Action::WasteView)} on_activate={Some(on_activate)}
            noun="types" csv_name={format!("{base}-waste.csv")}
            describe={Some((|r: &WasteRowView| format!("{}  ·  {}", r.row.type_name, r.kind())) as fn(&WasteRowView) -> String)}
            row_action={Some(instances)} />
    }
}
