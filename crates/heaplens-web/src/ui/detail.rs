//! One type of a dump: its objects, bytes and retained size, the shortest
//! paths from the GC roots (each can be copied as text) and the
//! referred-from tree.

use super::common::{card, CopyButton};
use super::use_ctx;
use crate::format::{bytes, percent, thousands};
use crate::protocol::{DumpId, ErrorKind};
use crate::state::{Action, Pending, Retained, Tab};
use heaplens_results::coverage::UnreachableAre;
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

/// What the detail says when no object of the type is reachable: in a
/// whole-heap dump they are garbage not yet collected (or held by weak
/// handles only); in a `.gcdump` they are what PerfView lists under
/// `[not reachable from roots]`, counted but without a path (the input's
/// capability decides, not its format).
pub fn none_reachable_text(are: UnreachableAre) -> &'static str {
    match are {
        UnreachableAre::Garbage => {
            "No object of this type is reachable from a GC root (they are garbage the GC has \
             not collected yet, or held only by weak handles)."
        }
        UnreachableAre::NotReachableFromRoots => {
            "No object of this type is reachable from the roots the file records: PerfView \
             lists them under [not reachable from roots]. They are counted in the statistics \
             but have no root path and no retained size."
        }
    }
}

/// `unreachable_are`'s JSON name.
fn unreachable_are_name(are: UnreachableAre) -> &'static str {
    match are {
        UnreachableAre::Garbage => "garbage",
        UnreachableAre::NotReachableFromRoots => "not_reachable_from_roots",
    }
}

/// How many of the type's objects a root reaches, and what the others are.
pub fn reachable_text(count: u64, unreachable: u64, are: UnreachableAre) -> String {
    let mut s = format!(
        "{} of {} objects are reachable from a root.",
        thousands(count),
        thousands(count + unreachable)
    );
    if unreachable > 0 && are == UnreachableAre::NotReachableFromRoots {
        s.push_str(
            " The others are PerfView's [not reachable from roots]: counted, without a path.",
        );
    }
    s.push_str(" Each path below ends at a different chain of types.");
    s
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

/// One entry of the tree as shown: its preorder number, its parent's, and
/// whether it has children.
#[derive(Clone, Copy)]
struct Shown {
    i: u32,
    parent: Option<u32>,
    has_children: bool,
}

/// The entries a reader can reach (those under open entries), in order.
fn shown_entries(
    e: &RefNode,
    i: u32,
    parent: Option<u32>,
    open: &HashSet<u32>,
    out: &mut Vec<Shown>,
) {
    out.push(Shown {
        i,
        parent,
        has_children: !e.children.is_empty(),
    });
    if open.contains(&i) {
        let mut next = i + 1;
        for c in &e.children {
            shown_entries(c, next, Some(i), open, out);
            next += subtree_size(c);
        }
    }
}

/// Where a key moves in the tree (WAI-ARIA tree pattern): the entry to
/// focus and the one to open or close.
fn tree_key(
    key: &str,
    shown: &[Shown],
    at: u32,
    open: &HashSet<u32>,
) -> Option<(u32, Option<u32>)> {
    let k = shown.iter().position(|s| s.i == at).unwrap_or(0);
    let cur = *shown.get(k)?;
    let is_open = open.contains(&cur.i);
    Some(match key {
        "ArrowDown" => (shown.get(k + 1).map_or(cur.i, |s| s.i), None),
        "ArrowUp" => (shown[k.saturating_sub(1)].i, None),
        "Home" => (shown[0].i, None),
        "End" => (shown[shown.len() - 1].i, None),
        "ArrowRight" if cur.has_children && !is_open => (cur.i, Some(cur.i)),
        "ArrowRight" if cur.has_children => (shown.get(k + 1).map_or(cur.i, |s| s.i), None),
        "ArrowLeft" if cur.has_children && is_open => (cur.i, Some(cur.i)),
        "ArrowLeft" => (cur.parent.unwrap_or(cur.i), None),
        "Enter" | " " if cur.has_children => (cur.i, Some(cur.i)),
        _ => return None,
    })
}

/// See the module documentation.
#[function_component(Detail)]
pub fn detail(p: &DetailProps) -> Html {
    let ctx = use_ctx();
    let open = use_state(|| HashSet::from([0u32]));
    // The tree's entry in the tab order, and whether the keyboard moved it
    // (then it takes the focus once rendered).
    let focused = use_state(|| 0u32);
    let focus_pending = use_mut_ref(|| false);
    // Another type starts with only its first entry open.
    {
        let open = open.clone();
        let focused = focused.clone();
        use_effect_with((p.id, p.type_id), move |_| {
            open.set(HashSet::from([0u32]));
            focused.set(0);
        });
    }
    {
        let focus_pending = focus_pending.clone();
        let at = *focused;
        use_effect(move || {
            if std::mem::take(&mut *focus_pending.borrow_mut()) {
                if let Some(el) = super::element_by_id(&format!("ref-{at}")) {
                    let _ = el.focus();
                }
            }
        });
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
                html! { <p class="muted" id="detail-none-reachable" data-unreachable-are={unreachable_are_name(doc.unreachable_are)}>{ none_reachable_text(doc.unreachable_are) }</p> }
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
                                            { step_link(&ctx.dispatch, id, s.type_id, &s.type_name) }
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
                let focused = focused.clone();
                Callback::from(move |i: u32| {
                    let mut o = (*open).clone();
                    if !o.remove(&i) {
                        o.insert(i);
                    }
                    open.set(o);
                    focused.set(i);
                })
            };
            let onkeydown = {
                let open = open.clone();
                let focused = focused.clone();
                let focus_pending = focus_pending.clone();
                let doc = doc.clone();
                Callback::from(move |e: KeyboardEvent| {
                    let mut shown = Vec::new();
                    shown_entries(&doc.referred_from, 0, None, &open, &mut shown);
                    let Some((to, flip)) = tree_key(&e.key(), &shown, *focused, &open) else {
                        return;
                    };
                    e.prevent_default();
                    if let Some(i) = flip {
                        let mut o = (*open).clone();
                        if !o.remove(&i) {
                            o.insert(i);
                        }
                        open.set(o);
                    }
                    *focus_pending.borrow_mut() = true;
                    focused.set(to);
                })
            };
            let key_paths = (!doc.key_paths.is_empty()).then(|| {
                let all: u64 = doc.key_paths.iter().map(|k| k.count).sum();
                html! {
                    <div class="panel key-paths" id="key-paths">
                        <h3>{ "Key retention paths" }</h3>
                        <p class="muted small">{ format!(
                            "The objects grouped by their path from the roots (root, then the chain of types; a run of one type once), most objects first, with their bytes and the bytes they retain (each object once): {} of {} distinct paths, holding {} of the {} reachable objects.",
                            doc.key_paths.len(), thousands(doc.key_path_count), thousands(all), thousands(doc.count)) }</p>
                        <ol>
                            { for doc.key_paths.iter().enumerate().map(|(i, k)| {
                                // `[static root] App.s_cache` (the kind's words, the
                                // name as it is).
                                let kind = k.root_kind.as_str().replace('_', " ");
                                let root = match &k.root_name {
                                    Some(n) => format!("[{kind} root] {n}"),
                                    None => format!("[{kind} root]"),
                                };
                                let text = format!("{root} → {}", k.path.join(" → "));
                                let retained = k.retained_bytes.map(|r| format!(" · {} retained", bytes(r))).unwrap_or_default();
                                html! {
                                    <li class="key-path" data-count={k.count.to_string()} data-bytes={k.bytes.to_string()}
                                        data-retained={k.retained_bytes.map(|r| r.to_string())}
                                        data-path={k.path.join(" > ")} data-root={k.root_name.clone().unwrap_or_default()}>
                                        <strong>{ format!("{} objects", thousands(k.count)) }</strong>
                                        <span class="muted">{ format!(" · {} bytes{retained} · ", thousands(k.bytes)) }</span>
                                        <span class="kp-path" title={text.clone()}>{ text.clone() }</span>
                                        <CopyButton text={text} what="the path" id={format!("copy-key-path-{i}")} />
                                    </li>
                                }
                            }) }
                        </ol>
                    </div>
                }
            });
            html! {
                <>
                    { for doc.notes.iter().map(|n| html! { <p class="note">{ n }</p> }) }
                    { key_paths.unwrap_or_default() }
                    <div class="detail-grid">
                        <div class="panel">
                            <h3>{ "Why is it alive? Shortest paths from the GC roots" }</h3>
                            <p class="muted small" id="detail-reachable">{ reachable_text(doc.count, doc.unreachable, doc.unreachable_are) }</p>
                            { paths }
                        </div>
                        <div class="panel">
                            <h3 id="referred-from-h">{ "Referred from" }</h3>
                            <p class="muted small">{ "The objects' shortest paths toward the roots, merged by type: open an entry to go one step nearer the roots." }</p>
                            <div class="reftree" id="referred-from" role="tree" aria-labelledby="referred-from-h" {onkeydown}>
                                { ref_node(&doc.referred_from, 0, 0, &open, *focused, &toggle) }
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

/// A type on a path, as a button that lists the type's instances (a
/// button: Tab reaches it, Enter or Space opens it).
fn step_link(dispatch: &Callback<Action>, dump: DumpId, t: TypeId, name: &str) -> Html {
    html! {
        <button class="linklike step-name" data-id={t.0.to_string()}
            title={format!("{name}\nInstances: every object of this type")}
            onclick={dispatch.reform(move |_| Action::ShowInstances(dump, t))}>{ name }</button>
    }
}

/// An entry of the referred-from tree; `i` numbers the entries in preorder
/// (entry 0 is the type itself), to remember which are open.
fn ref_node(
    e: &RefNode,
    i: u32,
    depth: usize,
    open: &HashSet<u32>,
    focused: u32,
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
        <div class="refnode" role="treeitem" id={format!("ref-{i}")} aria-expanded={expanded}
            aria-level={(depth + 1).to_string()}
            tabindex={if i == focused { "0" } else { "-1" }}
            onclick={toggle.reform(move |e: MouseEvent| { e.stop_propagation(); i })}>
            <div class={classes!("refrow", e.root_kind.is_some().then_some("is-root"))} style={format!("padding-left:{}px", 8 + depth * 18)}>
                <span class={classes!("twisty", (!has_children).then_some("leaf"))} aria-hidden="true">
                    { if !has_children { "·" } else if is_open { "▾" } else { "▸" } }
                </span>
                <span class="ref-label" title={label.clone()}>{ label }</span>
                <span class="ref-num" title="objects of the type whose path passes here">{ thousands(e.count) }<span class="visually-hidden">{ " objects," }</span></span>
                <span class="ref-num" title="their bytes including what hangs below them">{ bytes(e.inclusive_bytes) }</span>
            </div>
            if is_open {
                <div role="group">
                    { for kids.iter().map(|&(n, c)| ref_node(c, n, depth + 1, open, focused, toggle)) }
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
