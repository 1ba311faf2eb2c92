//! A type's objects, a page at a time, sorted by retained size, size or
//! address (the engine sorts and pages: `heaplens instances FILE --type-id
//! ID --sort SORT --offset N --limit 50 --json`'s document), each opening
//! the inspector; the type's static fields and their values.

use super::contents::{answer, export_bar, value_html};
use super::use_ctx;
use crate::format::{bytes, thousands};
use crate::model::INSTANCES_PAGE;
use crate::protocol::{ContentsDoc, DumpId};
use crate::state::{Action, InstancesView, Tab};
use heaplens_results::instances::InstanceSort;
use heaplens_results::TypeId;
use yew::prelude::*;

/// Properties of [`Instances`].
#[derive(Properties, PartialEq)]
pub struct InstancesProps {
    /// The dump.
    pub id: DumpId,
    /// The type's row.
    pub type_id: TypeId,
}

/// See the module documentation.
#[function_component(Instances)]
pub fn instances(p: &InstancesProps) -> Html {
    let ctx = use_ctx();
    let s = &*ctx.state;
    let (id, t) = (p.id, p.type_id);
    let tab = Tab::Instances(t);
    let Some(q) = s.query_of(tab) else {
        return html! {};
    };
    let view = s.instances_view;
    let name = s
        .dump(id)
        .and_then(|d| d.loaded.as_ref())
        .and_then(|l| l.row(t).map(|r| r.name.clone()))
        .unwrap_or_default();
    let sort_by = |sort: InstanceSort| {
        ctx.dispatch
            .reform(move |_| Action::InstancesView(InstancesView { sort, offset: 0 }))
    };
    let aria = |sort: InstanceSort| {
        if view.sort == sort {
            if sort == InstanceSort::Address {
                "ascending"
            } else {
                "descending"
            }
        } else {
            "none"
        }
    };
    let head = html! {
        <div class="detail-head">
            <h2 class="type-name" id="instances-name">{ format!("Instances of {name}") }</h2>
            <p class="muted small">
                { "Open an object to read its fields. " }
                <button class="linklike" id="instances-detail" onclick={ctx.dispatch.reform(move |_| Action::ShowDump(id, Tab::Detail(t)))}>{ "Why are they alive?" }</button>
            </p>
        </div>
    };
    let doc = match answer(s, &ctx.dispatch, id, tab, &q, "the objects") {
        Ok(d) => d,
        Err(h) => {
            return html! { <section class="detail instances" id="instances">{ head }{ h }</section> }
        }
    };
    let ContentsDoc::Instances(d) = &*doc else {
        return html! {};
    };
    let page = |offset: u64| {
        ctx.dispatch.reform(move |_| {
            Action::InstancesView(InstancesView {
                sort: view.sort,
                offset,
            })
        })
    };
    let first = d.offset;
    let last = d.offset + d.objects.len() as u64;
    let step = INSTANCES_PAGE as u64;
    html! {
        <section class="detail instances" id="instances" data-sort={format!("{:?}", view.sort).to_lowercase()} data-offset={first.to_string()}>
            { head }
            { export_bar(&ctx.dispatch, id, &q, &doc) }
            <p class="status-line" id="instances-count">
                { format!("{} objects, {} · {}", thousands(d.count), bytes(d.bytes), if d.objects.is_empty() { "none on this page".to_owned() } else { format!("showing {}–{}", thousands(first + 1), thousands(last)) }) }
            </p>
            { for d.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
            <div class="table-scroll"><table class="simple instance-table" id="instance-table" aria-label={format!("Objects of {name}")}>
                <thead><tr>
                    <th scope="col" aria-sort={aria(InstanceSort::Address)}>
                        <button class="linklike" id="sort-address" onclick={sort_by(InstanceSort::Address)}>{ "Address" }</button>
                    </th>
                    <th scope="col" class="num" aria-sort={aria(InstanceSort::Size)}>
                        <button class="linklike" id="sort-size" onclick={sort_by(InstanceSort::Size)}>{ "Size" }</button>
                    </th>
                    <th scope="col" class="num" aria-sort={aria(InstanceSort::Retained)}>
                        <button class="linklike" id="sort-retained" onclick={sort_by(InstanceSort::Retained)}>{ "Retained" }</button>
                    </th>
                </tr></thead>
                <tbody>
                    { for d.objects.iter().map(|o| {
                        let node = o.node;
                        html! {
                            <tr class="instance" data-node={node.0.to_string()} data-address={o.address.to_string()}
                                data-size={o.size.to_string()} data-retained={o.retained_bytes.map(|r| r.to_string()).unwrap_or_default()}>
                                <td><button class="linklike mono open-object" onclick={ctx.dispatch.reform(move |_| Action::ShowDump(id, Tab::Object(node)))}>{ o.address.to_string() }</button></td>
                                <td class="num">{ thousands(o.size) }</td>
                                <td class="num">{ match (o.retained_bytes, o.reachable) {
                                    (Some(r), _) => thousands(r),
                                    (None, Some(false)) => "not reachable".to_owned(),
                                    _ => "—".to_owned(),
                                } }</td>
                            </tr>
                        }
                    }) }
                </tbody>
            </table></div>
            <div class="pager">
                <button class="ghost small" id="instances-prev" disabled={first == 0} onclick={page(first.saturating_sub(step))}>{ "← Previous" }</button>
                <button class="ghost small" id="instances-next" disabled={last >= d.count} onclick={page(first + step)}>{ "Next →" }</button>
            </div>
            if !d.static_fields.is_empty() {
                <div class="panel statics">
                    <h3>{ "Static fields" }</h3>
                    <div class="table-scroll"><table class="simple fields" id="static-fields">
                        <tbody>
                            { for d.static_fields.iter().map(|f| html! {
                                <tr data-field={f.field.name.clone()}>
                                    <th scope="row" class="mono">{ &f.field.name }
                                        if f.thread_static { <span class="muted">{ " (thread static)" }</span> }
                                    </th>
                                    <td class="mono muted">{ &f.field.type_name }</td>
                                    <td>{ match &f.why_unknown {
                                        Some(w) => html! { <span class="muted">{ w }</span> },
                                        None => value_html(&ctx.dispatch, id, &f.field.value),
                                    } }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table></div>
                </div>
            }
        </section>
    }
}
