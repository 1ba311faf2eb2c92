//! Wasted collections (Eclipse MAT's component report): `List<T>`,
//! `Dictionary<K,V>`, `HashSet<T>`, `ConcurrentDictionary<K,V>`,
//! `Queue<T>`, arrays — empty ones, how full they are, arrays of nothing
//! but zeros or nulls — with the bytes their unused slots take, the
//! types wasting most and the types holding them. The document is
//! `heaplens waste FILE --json`'s; it carries no values.

use super::common::card;
use super::contents::{answer, export_bar, object_link};
use super::use_ctx;
use crate::format::{bytes, thousands};
use crate::protocol::{ContentsDoc, DumpId};
use crate::state::Tab;
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
            <h3>{ "By type" }</h3>
            <div class="table-scroll"><table class="simple" id="waste-types">
                <thead><tr>
                    <th scope="col">{ "Type" }</th>
                    <th scope="col">{ "Kind" }</th>
                    <th scope="col" class="num">{ "Objects" }</th>
                    <th scope="col" class="num">{ "Empty" }</th>
                    <th scope="col" class="num">{ "Fill" }</th>
                    <th scope="col" class="num">{ "All zero" }</th>
                    <th scope="col" class="num" aria-sort="descending">{ "Wasted" }</th>
                </tr></thead>
                <tbody>
                    { for d.types.iter().map(|r| html! {
                        <tr class="waste-type" data-type-id={r.type_id.0.to_string()} data-wasted={r.wasted_bytes.to_string()}>
                            <td class="mono" title={r.type_name.clone()}>{ &r.type_name }</td>
                            <td>{ r.kind.replace('_', " ") }</td>
                            <td class="num">{ thousands(r.objects) }</td>
                            <td class="num">{ thousands(r.empty) }</td>
                            <td class="num">{ format!("{:.0} %", r.fill_ratio * 100.0) }</td>
                            <td class="num">{ thousands(r.all_zero) }</td>
                            <td class="num">{ thousands(r.wasted_bytes) }</td>
                        </tr>
                    }) }
                </tbody>
            </table></div>
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
