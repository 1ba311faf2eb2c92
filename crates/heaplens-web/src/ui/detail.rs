//! One type of a dump: its objects, bytes and retained size, the shortest
//! paths from the GC roots (each can be copied as text) and the
//! referred-from tree.

use super::common::{card, CopyButton};
use super::use_ctx;
use crate::format::{bytes, percent, thousands};
use crate::protocol::{DumpId, ErrorKind};
use crate::state::{Action, Pending, Retained, Tab};
use heaplens_results::roots::{RefNode, RootPath};
use heaplens_results::TypeId;
use std::collections::HashSet;
use yew::prelude::*;

/// Properties of [`Detail`].
#[derive(Properties, PartialEq)]
pub struct DetailProps {
    /// The dump.
    pub id: DumpId,
    /// The type's row.
    pub type_id: TypeId,
}

/// A root path as text, as `heaplens roots` prints it.
pub fn path_text(p: &RootPath) -> String {
    let kind = p.root_kind.as_str().replace('_', " ");
    let mut s = match &p.root_name {
        Some(n) => format!("[{kind} root] {n}"),
        None => format!("[{kind} root]"),
    };
    for step in &p.steps {
        s.push_str("\n-> ");
        s.push_str(&step.type_name);
        if let Some(a) = step.address {
            s.push_str(&format!("  ({a})"));
        }
    }
    s
}

/// Entries in the referred-from subtree of `e`, itself included.
fn subtree_size(e: &RefNode) -> u32 {
    1 + e.children.iter().map(subtree_size).sum::<u32>()
}

/// See the module documentation.
#[function_component(Detail)]
pub fn detail(p: &DetailProps) -> Html {
    let ctx = use_ctx();
    let open = use_state(|| HashSet::from([0u32]));
    // Another type starts with only its first entry open.
    {
        let open = open.clone();
        use_effect_with((p.id, p.type_id), move |_| open.set(HashSet::from([0u32])));
    }
    let s = &*ctx.state;
    let Some(d) = s.dump(p.id) else {
        return html! {};
    };
    let Some(l) = d.loaded.clone() else {
        return html! {};
    };
    let (id, t) = (p.id, p.type_id);
    let Some(row) = l.row(t) else {
        return html! {
            <section class="detail" id="detail">
                <p class="muted">{ format!("This dump has no type {}.", t.0) }</p>
            </section>
        };
    };
    let total = l.stats.bytes;
    let retained = match &d.retained {
        Retained::Ready { by_id, .. } => Some(by_id.get(&t).copied()),
        _ => None,
    };
    let retained_text = match retained {
        Some(Some(r)) => format!("{} ({})", bytes(r), percent(r, total)),
        Some(None) => "none reachable".to_owned(),
        None => "being computed…".to_owned(),
    };
    let header = html! {
        <div class="detail-head">
            <h2 class="type-name" id="detail-name">{ &row.name }</h2>
            <p class="detail-actions">
                <button class="ghost small" id="detail-instances"
                    title="Every object of this type, sorted by retained size or size; each opens the inspector"
                    onclick={ctx.dispatch.reform(move |_| Action::ShowInstances(id, t))}>{ "Instances" }</button>
            </p>
            if let Some(m) = &row.module {
                <p class="muted module" title={m.clone()}>{ m }
                    if let Some(mt) = row.mt { { format!(" · MethodTable {mt}") } }
                </p>
            }
            <div class="cards">
                { card("Objects", &thousands(row.count), "detail-count") }
                { card("Bytes", &format!("{} ({})", bytes(row.bytes), percent(row.bytes, total)), "detail-bytes") }
                { card("Retained", &retained_text, "detail-retained") }
            </div>
        </div>
    };
    let body = match s.details.get(&(id, t)) {
        None | Some(Pending::Loading(_)) => html! {
            <p class="muted loading-line" id="detail-loading">
                { "Finding the paths from the GC roots… " }
                <button class="linklike" id="detail-stop" onclick={ctx.dispatch.reform(move |_| Action::CancelDetail(id, t))}>{ "Stop" }</button>
            </p>
        },
        Some(Pending::Failed(e)) => html! {
            <p class="error-text" id="detail-failed">
                { if e.kind == ErrorKind::Cancelled { "Stopped. ".to_owned() } else { format!("The paths could not be found: {}. ", e.message) } }
                <button class="linklike" id="detail-retry" onclick={ctx.dispatch.reform(move |_| Action::ShowDump(id, Tab::Detail(t)))}>{ "Find them" }</button>
            </p>
        },
        Some(Pending::Ready(doc)) => {
            let paths = if doc.paths.is_empty() {
                html! { <p class="muted">{ "No object of this type is reachable from a GC root (they are garbage the GC has not collected yet, or held only by weak handles)." }</p> }
            } else {
                html! {
                    <ol class="paths" id="root-paths">
                        { for doc.paths.iter().enumerate().map(|(pi, p)| html! {
                            <li class="path">
                                <div class="root-chip">
                                    <span class="kind">{ p.root_kind.as_str().replace('_', " ") }</span>
                                    if let Some(n) = &p.root_name {
                                        <span class="root-name" title={n.clone()}>{ n }</span>
                                    }
                                    <CopyButton text={path_text(p)} what="the path" id={format!("copy-path-{pi}")} />
                                </div>
                                <ol class="steps">
                                    { for p.steps.iter().enumerate().map(|(i, s)| html! {
                                        <li class={classes!("step", (i + 1 == p.steps.len()).then_some("target"))}>
                                            <span class="step-name" title={s.type_name.clone()}>{ &s.type_name }</span>
                                            if let Some(a) = s.address {
                                                <span class="addr">{ a.to_string() }</span>
                                            }
                                        </li>
                                    }) }
                                </ol>
                            </li>
                        }) }
                    </ol>
                }
            };
            let toggle = {
                let open = open.clone();
                Callback::from(move |i: u32| {
                    let mut o = (*open).clone();
                    if !o.remove(&i) {
                        o.insert(i);
                    }
                    open.set(o);
                })
            };
            html! {
                <>
                    { for doc.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
                    <div class="detail-grid">
                        <div class="panel">
                            <h3>{ "Why is it alive? Shortest paths from the GC roots" }</h3>
                            <p class="muted small">{ format!("{} of {} objects are reachable from a root. Each path below ends at a different chain of types.", thousands(doc.count), thousands(doc.count + doc.unreachable)) }</p>
                            { paths }
                        </div>
                        <div class="panel">
                            <h3 id="referred-from-h">{ "Referred from" }</h3>
                            <p class="muted small">{ "The objects' shortest paths toward the roots, merged by type: open an entry to go one step nearer the roots." }</p>
                            <div class="reftree" id="referred-from" role="tree" aria-labelledby="referred-from-h">
                                { ref_node(&doc.referred_from, 0, 0, &open, &toggle) }
                            </div>
                        </div>
                    </div>
                </>
            }
        }
    };
    html! {
        <section class="detail" id="detail">
            { header }
            { body }
        </section>
    }
}

/// An entry of the referred-from tree; `i` numbers the entries in preorder
/// (entry 0 is the type itself), to remember which are open.
fn ref_node(
    e: &RefNode,
    i: u32,
    depth: usize,
    open: &HashSet<u32>,
    toggle: &Callback<u32>,
) -> Html {
    let is_open = open.contains(&i);
    let has_children = !e.children.is_empty();
    // Preorder numbers of the children: each follows its elder siblings'
    // subtrees.
    let mut next = i + 1;
    let kids: Vec<(u32, &RefNode)> = e
        .children
        .iter()
        .map(|c| {
            let n = next;
            next += subtree_size(c);
            (n, c)
        })
        .collect();
    let label = match e.root_kind {
        Some(kind) => {
            let kind = kind.as_str().replace('_', " ");
            match &e.root_name {
                Some(n) => format!("[{kind} root] {n}"),
                None => format!("[{kind} root]"),
            }
        }
        None => e.name.clone(),
    };
    let expanded = has_children.then(|| is_open.to_string());
    html! {
        <div class="refnode" role="treeitem" aria-expanded={expanded} aria-level={(depth + 1).to_string()}
            aria-label={label.clone()}>
            <div class={classes!("refrow", e.root_kind.is_some().then_some("is-root"))} style={format!("padding-left:{}px", 8 + depth * 18)}>
                <button class="twisty" disabled={!has_children} onclick={toggle.reform(move |_| i)}
                    aria-label={if is_open { "close" } else { "open" }}>
                    { if !has_children { "·" } else if is_open { "▾" } else { "▸" } }
                </button>
                <span class="ref-label" title={label.clone()}>{ label }</span>
                <span class="ref-num" title="objects of the type whose path passes here">{ thousands(e.count) }</span>
                <span class="ref-num" title="their bytes including what hangs below them">{ bytes(e.inclusive_bytes) }</span>
            </div>
            if is_open {
                <div role="group">
                    { for kids.iter().map(|&(n, c)| ref_node(c, n, depth + 1, open, toggle)) }
                    if e.omitted_children > 0 {
                        <div class="refrow more" style={format!("padding-left:{}px", 26 + (depth + 1) * 18)}>
                            { format!("… and {} smaller entries", e.omitted_children) }
                        </div>
                    }
                    if e.truncated {
                        <div class="refrow more" style={format!("padding-left:{}px", 26 + (depth + 1) * 18)}>
                            { "… longer paths cut here" }
                        </div>
                    }
                </div>
            }
        </div>
    }
}
