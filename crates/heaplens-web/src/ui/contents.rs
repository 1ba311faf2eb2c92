//! Pieces the object-contents views share (inspector, instances, strings,
//! waste): an object as a link that opens it in the inspector, a value as
//! a line, the answer's loading and failure lines, and the export bar that
//! says whether a download carries values from the dump (and makes one
//! without them in one click).

use crate::protocol::{ContentsDoc, ContentsQuery, DumpId, ErrorKind};
use crate::state::{Action, AppState, Pending, Tab};
use heaplens_results::object::ObjectRef;
use heaplens_results::values::ValueDoc;
use std::rc::Rc;
use yew::prelude::*;

/// A link to object `node` (its type and address): opens the inspector.
pub fn object_link(
    dispatch: &Callback<Action>,
    id: DumpId,
    o: &ObjectRef,
    class: &'static str,
) -> Html {
    let node = o.node;
    let title = format!("Open {} at {} in the inspector", o.type_name, o.address);
    html! {
        <button class={classes!("linklike", "objlink", class)} title={title}
            data-node={node.0.to_string()} data-address={o.address.to_string()}
            onclick={dispatch.reform(move |_| Action::ShowDump(id, Tab::Object(node)))}>
            <span class="objtype">{ &o.type_name }</span>
            <span class="addr">{ o.address.to_string() }</span>
        </button>
    }
}

/// A value in one line: a reference to an object is a link to it (a
/// string's text beside it), anything else its text.
pub fn value_html(dispatch: &Callback<Action>, id: DumpId, v: &ValueDoc) -> Html {
    match v {
        ValueDoc::Ref {
            address,
            node: Some(node),
            type_id,
            type_name,
            string,
            boxed,
            text,
        } => {
            let o = ObjectRef {
                node: *node,
                address: *address,
                type_id: type_id.unwrap_or(heaplens_results::TypeId(0)),
                type_name: type_name.clone().unwrap_or_default(),
            };
            let shown = match (string, boxed) {
                (Some(s), _) => Some(text.clone()).filter(|_| !s.text.is_empty() || s.length == 0),
                (None, Some(b)) => Some(b.text().to_string()),
                _ => None,
            };
            html! {
                <span class="value ref">
                    if let Some(t) = shown { <span class="vtext" title={t.clone()}>{ t }</span> }
                    { object_link(dispatch, id, &o, "") }
                </span>
            }
        }
        ValueDoc::Redacted { text } => html! { <span class="value muted redacted">{ text }</span> },
        ValueDoc::Unreadable { text, .. } => {
            html! { <span class="value error-text">{ text }</span> }
        }
        v => {
            let t = v.text().to_string();
            html! { <span class="value" title={t.clone()}>{ t }</span> }
        }
    }
}

/// The answer to `q`, or what stands in its place (loading with Stop, a
/// failure with Retry, nothing asked yet).
pub fn answer(
    state: &AppState,
    dispatch: &Callback<Action>,
    id: DumpId,
    tab: Tab,
    q: &ContentsQuery,
    what: &str,
) -> Result<Rc<ContentsDoc>, Html> {
    match state.contents.get(&(id, q.clone())) {
        Some(Pending::Ready(d)) => Ok(d.clone()),
        None | Some(Pending::Loading(_)) => {
            let q = q.clone();
            Err(html! {
                <p class="muted loading-line" id="contents-loading">
                    { format!("Reading {what}… ") }
                    <button class="linklike" id="contents-stop"
                        onclick={dispatch.reform(move |_| Action::CancelContents(id, q.clone()))}>{ "Stop" }</button>
                </p>
            })
        }
        Some(Pending::Failed(e)) => Err(html! {
            <p class="error-text" id="contents-failed">
                { match e.kind {
                    ErrorKind::Cancelled => "Stopped. ".to_owned(),
                    ErrorKind::NoContents => format!("{}. ", e.message),
                    _ => format!("{what} could not be read: {}. ", e.message),
                } }
                if e.kind != ErrorKind::NoContents {
                    <button class="linklike" id="contents-retry"
                        onclick={dispatch.reform(move |_| Action::ShowDump(id, tab))}>{ "Read again" }</button>
                }
            </p>
        }),
    }
}

/// Exports of a contents document: as shown (saying whether it carries
/// values from the dump) and, when it does, without them in one click.
pub fn export_bar(
    dispatch: &Callback<Action>,
    id: DumpId,
    q: &ContentsQuery,
    doc: &ContentsDoc,
) -> Html {
    let values = doc.values();
    let (qa, qb) = (q.clone(), q.clone());
    html! {
        <div class="export-bar" id="contents-export">
            <button class="ghost small" id="export-json" data-values={values.to_string()}
                title={if values { "Save this as JSON, as heaplens … --json writes it. It carries values read from the dump (field values, string text): they leave this page only in the file you save." } else { "Save this as JSON, as heaplens … --json writes it. It carries no values from the dump (counts, sizes, types and addresses only)." }}
                onclick={dispatch.reform(move |_| Action::ExportContents { dump: id, query: qa.clone(), values: true })}>
                { if values { "Export JSON (with values)" } else { "Export JSON (no values)" } }
            </button>
            if values {
                <button class="ghost small" id="export-no-values"
                    title="Save the same document without any value from the dump (heaplens … --no-values): structure, sizes, types and addresses only."
                    onclick={dispatch.reform(move |_| Action::ExportContents { dump: id, query: qb.clone(), values: false })}>
                    { "Export without values" }
                </button>
                <span class="muted small values-note">{ "Values are shown on this page only; they never leave the machine unless you export them." }</span>
            }
        </div>
    }
}
