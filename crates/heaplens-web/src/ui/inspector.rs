//! The object inspector: one object's type, size, retained size, fields
//! and their values (references open their objects), a string's text, an
//! array's first elements, a delegate's target and method, a collection's
//! fill, the objects referring to it and its chain of dominators to a
//! root. The document is `heaplens object FILE ADDRESS --json`'s.

use super::common::card;
use super::contents::{answer, export_bar, object_link, value_html};
use super::use_ctx;
use crate::format::{bytes, percent, thousands};
use crate::protocol::{ContentsDoc, DumpId};
use crate::state::{Action, Tab};
use heaplens_results::object::{ObjectDocument, ObjectKind};
use heaplens_results::values::FieldDoc;
use heaplens_results::NodeId;
use yew::prelude::*;

/// Properties of [`Inspector`].
#[derive(Properties, PartialEq)]
pub struct InspectorProps {
    /// The dump.
    pub id: DumpId,
    /// The object.
    pub node: NodeId,
}

fn fields_table(dispatch: &Callback<Action>, id: DumpId, fields: &[FieldDoc]) -> Html {
    html! {
        <div class="table-scroll"><table class="simple fields" id="object-fields">
            <thead><tr>
                <th scope="col">{ "Field" }</th>
                <th scope="col">{ "Type" }</th>
                <th scope="col" class="num">{ "Offset" }</th>
                <th scope="col">{ "Value" }</th>
            </tr></thead>
            <tbody>
                { for fields.iter().map(|f| html! {
                    <tr data-field={f.name.clone()}>
                        <th scope="row" class="mono" title={format!("declared in {}", f.declared_in)}>{ &f.name }</th>
                        <td class="mono muted" title={f.type_name.clone()}>{ &f.type_name }</td>
                        <td class="num mono">{ format!("+{}", f.offset) }</td>
                        <td>{ value_html(dispatch, id, &f.value) }</td>
                    </tr>
                }) }
            </tbody>
        </table></div>
    }
}

fn kind_word(k: ObjectKind) -> &'static str {
    match k {
        ObjectKind::Object => "object",
        ObjectKind::Boxed => "boxed value",
        ObjectKind::String => "string",
        ObjectKind::Array => "array",
        ObjectKind::Free => "free space",
        ObjectKind::Unknown => "contents not read",
    }
}

fn body(dispatch: &Callback<Action>, id: DumpId, d: &ObjectDocument, total: u64) -> Html {
    let retained = match d.retained_bytes {
        Some(r) => format!("{} ({})", bytes(r), percent(r, total)),
        None if d.reachable == Some(false) => "not reachable".to_owned(),
        None => "—".to_owned(),
    };
    html! {
        <>
            <div class="detail-head">
                <h2 class="type-name" id="object-type">{ &d.type_name }</h2>
                <p class="muted module">
                    <span class="addr" id="object-address">{ d.address.to_string() }</span>
                    { format!(" · {}", kind_word(d.kind)) }
                    if let Some(m) = &d.module { { format!(" · {m}") } }
                    { " · " }
                    <button class="linklike" id="object-type-instances"
                        onclick={{ let t = d.type_id; dispatch.reform(move |_| Action::ShowInstances(id, t)) }}>
                        { "all instances of the type" }
                    </button>
                </p>
                <div class="cards">
                    { card("Size", &format!("{} bytes", thousands(d.size)), "object-size") }
                    { card("Retained", &retained, "object-retained") }
                    { card("Referred to by", &thousands(d.referrer_count), "object-referrers-count") }
                </div>
            </div>
            if !d.contents {
                <p class="note" id="object-no-contents">{ d.contents_note.clone().unwrap_or_else(|| "This dump holds no object contents.".into()) }</p>
            }
            { for d.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
            <div class="detail-grid">
                <div class="panel">
                    if let Some(s) = &d.string {
                        <h3>{ format!("Text ({} characters)", thousands(u64::from(s.length))) }</h3>
                        <pre class="string-text" id="object-string">{ &s.text }</pre>
                        if s.truncated && d.values {
                            <p class="muted small">{ format!("The first {} characters; export the object for them all.", s.text.chars().count()) }</p>
                        }
                    }
                    if let Some(b) = &d.boxed {
                        <h3>{ "Boxed value" }</h3>
                        <p id="object-boxed">{ value_html(dispatch, id, b) }</p>
                    }
                    if let Some(del) = &d.delegate {
                        <h3>{ if del.invocation_count > 1 { format!("Delegate: {} methods are called", del.invocation_count) } else { "Delegate: what it calls".to_owned() } }</h3>
                        <ol class="invocations" id="object-delegate">
                            { for del.invocations.iter().map(|inv| html! {
                                <li class="invocation">
                                    <span class="method mono" title={inv.resolved_via.clone().map(|r| format!("resolved via {r}, code {}", inv.code)).unwrap_or_default()}>
                                        { inv.method.clone().unwrap_or_else(|| format!("(method at {} not resolved)", inv.code)) }
                                    </span>
                                    if inv.is_static { <span class="muted">{ " (static)" }</span> }
                                    { " on " }
                                    { match &inv.target {
                                        Some(t) => object_link(dispatch, id, t, "target"),
                                        None => html! { <span class="muted">{ "no target" }</span> },
                                    } }
                                </li>
                            }) }
                        </ol>
                    }
                    if let Some(c) = &d.collection {
                        <h3>{ format!("Collection ({})", c.kind.replace('_', " ")) }</h3>
                        <p id="object-collection">
                            { format!("{} of {} slots used ({:.0} %), {} wasted", thousands(c.count), thousands(c.capacity), c.fill_ratio * 100.0, bytes(c.wasted_bytes)) }
                            if c.all_zero { { " · all zeros or nulls" } }
                            if let Some(s) = &c.storage { { " · storage " } { object_link(dispatch, id, s, "") } }
                        </p>
                    }
                    if let Some(a) = &d.array {
                        <h3>{ format!("{}[{}] elements", a.element_type, thousands(a.length)) }</h3>
                        <div class="table-scroll"><table class="simple elements" id="object-elements">
                            <tbody>
                                { for a.elements.iter().enumerate().map(|(i, v)| html! {
                                    <tr><th scope="row" class="num mono">{ format!("[{}]", a.offset + i as u64) }</th><td>{ value_html(dispatch, id, v) }</td></tr>
                                }) }
                            </tbody>
                        </table></div>
                        if (a.elements.len() as u64) < a.length {
                            <p class="muted small">{ format!("The first {} of {} elements.", a.elements.len(), thousands(a.length)) }</p>
                        }
                    }
                    if !d.fields.is_empty() {
                        <h3>{ "Fields" }</h3>
                        { fields_table(dispatch, id, &d.fields) }
                    } else if d.kind == ObjectKind::Object && d.contents {
                        <p class="muted">{ "No instance fields." }</p>
                    }
                </div>
                <div class="panel">
                    <h3>{ "Dominator chain to a root" }</h3>
                    <p class="muted small">{ "Each object holds the next alive: freeing one frees everything below it." }</p>
                    if d.dominators.is_empty() {
                        <p class="muted" id="object-no-dominator">{
                            if d.reachable == Some(false) {
                                "No root reaches it."
                            } else if d.roots.is_empty() {
                                "No single object keeps it alive: more than one path from the roots reaches it, so only the roots dominate it."
                            } else {
                                "A root holds it directly."
                            }
                        }</p>
                    } else {
                        <ol class="steps domchain" id="object-dominators">
                            { for d.dominators.iter().rev().map(|o| html! { <li class="step">{ object_link(dispatch, id, o, "") }</li> }) }
                            <li class="step target"><span class="step-name">{ &d.type_name }</span></li>
                        </ol>
                    }
                    if !d.roots.is_empty() {
                        <p id="object-roots">{ "Held by roots: " }
                            { for d.roots.iter().map(|r| html! {
                                <span class="root-chip"><span class="kind">{ r.kind.as_str().replace('_', " ") }</span>
                                    if let Some(n) = &r.name { <span class="root-name">{ n }</span> }
                                </span>
                            }) }
                        </p>
                    }
                    <h3>{ format!("Referred to by ({})", thousands(d.referrer_count)) }</h3>
                    <ul class="referrers" id="object-referrers">
                        { for d.referrers.iter().map(|o| html! { <li>{ object_link(dispatch, id, o, "") }</li> }) }
                    </ul>
                    if (d.referrers.len() as u64) < d.referrer_count {
                        <p class="muted small">{ format!("The first {} of {}.", d.referrers.len(), thousands(d.referrer_count)) }</p>
                    }
                </div>
            </div>
        </>
    }
}

/// See the module documentation.
#[function_component(Inspector)]
pub fn inspector(p: &InspectorProps) -> Html {
    let ctx = use_ctx();
    let s = &*ctx.state;
    let Some(l) = s.dump(p.id).and_then(|d| d.loaded.clone()) else {
        return html! {};
    };
    let tab = Tab::Object(p.node);
    let Some(q) = s.query_of(tab) else {
        return html! {};
    };
    let doc = match answer(s, &ctx.dispatch, p.id, tab, &q, "the object") {
        Ok(d) => d,
        Err(h) => return html! { <section class="detail inspector" id="inspector">{ h }</section> },
    };
    let ContentsDoc::Object(d) = &*doc else {
        return html! {};
    };
    html! {
        <section class="detail inspector" id="inspector" data-node={p.node.0.to_string()}>
            { export_bar(&ctx.dispatch, p.id, &q, &doc) }
            { body(&ctx.dispatch, p.id, d, l.stats.bytes) }
        </section>
    }
}
