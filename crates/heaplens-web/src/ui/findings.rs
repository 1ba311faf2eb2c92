//! Leak findings of a dump: the .NET patterns that hold memory (timers,
//! events, cancellation registrations, caches, `HttpClient` churn, …),
//! ranked by the bytes they retain, each expandable to its evidence, the
//! object to look at (a link to the inspector and to its type's detail),
//! its retention path from a root (each object a link) and the usual fix;
//! then what each detector looked at. The document is `heaplens findings
//! FILE --json`'s; it carries no values.

use super::common::card;
use super::contents::{answer, export_bar, object_link};
use super::use_ctx;
use crate::format::{bytes, thousands};
use crate::protocol::{ContentsDoc, DumpId};
use crate::state::{Action, Tab};
use heaplens_results::findings::FindingEntry;
use heaplens_results::roots::RootPath;
use yew::prelude::*;

/// Properties of [`Findings`].
#[derive(Properties, PartialEq)]
pub struct FindingsProps {
    /// The dump.
    pub id: DumpId,
}

/// A path's objects, a run of one type shown once with its length (a
/// linked list of timers or registrations), each shown object a link.
fn path_view(dispatch: &Callback<Action>, id: DumpId, p: &RootPath) -> Html {
    let root = p.root_kind.label(p.root_name.as_deref());
    let mut runs: Vec<(usize, usize)> = Vec::new();
    for (i, s) in p.steps.iter().enumerate() {
        match runs.last_mut() {
            Some((start, n)) if p.steps[*start].type_name == s.type_name => *n += 1,
            _ => runs.push((i, 1)),
        }
    }
    html! {
        <ol class="finding-path">
            <li class="muted">{ root }</li>
            { for runs.iter().map(|&(start, n)| {
                let s = &p.steps[start];
                let link = match s.address {
                    Some(address) => object_link(dispatch, id, &heaplens_results::object::ObjectRef {
                        node: s.node,
                        address,
                        type_id: s.type_id,
                        type_name: s.type_name.clone(),
                    }, ""),
                    None => html! { <span class="mono">{ &s.type_name }</span> },
                };
                html! { <li>{ link }{ if n > 1 { html! { <span class="muted">{ format!(" ×{n}") }</span> } } else { html! {} } }</li> }
            }) }
        </ol>
    }
}

fn finding_view(dispatch: &Callback<Action>, id: DumpId, f: &FindingEntry) -> Html {
    let holder = f.holder.as_ref().map(|h| {
        let type_id = h.type_id;
        html! {
            <p>{ "Look at: " }{ object_link(dispatch, id, h, "") }{ " " }
                <button class="ghost small" title={format!("Open the type {} and its retention paths", h.type_name)}
                    onclick={dispatch.reform(move |_| Action::ShowDump(id, Tab::Detail(type_id)))}>{ "Its type" }</button>
            </p>
        }
    });
    let growth = match (f.growth_objects, f.growth_retained_bytes) {
        (Some(o), Some(b)) => html! {
            <tr><th scope="row">{ "Growth" }</th><td class="num">{ crate::format::signed_thousands(o) }</td><td class="num">{ crate::format::signed_thousands(b) }</td></tr>
        },
        _ => html! {},
    };
    html! {
        <details class="finding panel" data-rank={f.rank.to_string()} data-pattern={f.pattern.clone()}
            data-retained={f.retained_bytes.to_string()} data-objects={f.objects.to_string()} data-leak={f.leak.to_string()}>
            <summary>
                <span class="finding-rank">{ format!("{}.", f.rank) }</span>{ " " }
                <strong>{ &f.title }</strong>
                { if f.leak { html! {} } else { html! { <span class="muted">{ " (not a leak by itself)" }</span> } } }
                <span class="finding-verdict">{ &f.verdict }</span>
            </summary>
            <div class="table-scroll"><table class="simple finding-evidence">
                <thead><tr><th scope="col">{ "Evidence" }</th><th scope="col" class="num">{ "Objects" }</th><th scope="col" class="num">{ "Retained" }</th></tr></thead>
                <tbody>
                    { match (f.base_objects, f.base_retained_bytes) {
                        (Some(o), Some(b)) => html! { <tr><th scope="row">{ "Baseline" }</th><td class="num">{ thousands(o) }</td><td class="num">{ bytes(b) }</td></tr> },
                        _ => html! {},
                    } }
                    <tr><th scope="row">{ "This dump" }</th><td class="num">{ thousands(f.objects) }</td>
                        <td class="num">{ format!("{} ({:.1} %)", bytes(f.retained_bytes), f.retained_percent) }</td></tr>
                    { growth }
                </tbody>
            </table></div>
            { holder.unwrap_or_default() }
            <dl class="finding-details">
                { for f.details.iter().map(|d| html! { <><dt>{ &d.label }</dt><dd class="mono">{ &d.value }</dd></> }) }
            </dl>
            { match &f.path {
                Some(p) => html! { <><h3 class="finding-sub">{ "Retention path" }</h3>{ path_view(dispatch, id, p) }</> },
                None => html! {},
            } }
            <p class="finding-fix"><strong>{ "Fix: " }</strong>{ &f.fix }</p>
            <p class="muted">{ format!("Reported at {}.", f.threshold) }</p>
        </details>
    }
}

/// See the module documentation.
#[function_component(Findings)]
pub fn findings(p: &FindingsProps) -> Html {
    let ctx = use_ctx();
    let s = &*ctx.state;
    let id = p.id;
    let tab = Tab::Findings;
    let Some(q) = s.query_of(tab) else {
        return html! {};
    };
    let doc = match answer(s, &ctx.dispatch, id, tab, &q, "the findings") {
        Ok(d) => d,
        Err(h) => return html! { <section class="findings" id="findings">{ h }</section> },
    };
    let ContentsDoc::Findings(d) = &*doc else {
        return html! {};
    };
    let dispatch = &ctx.dispatch;
    let leaks = d.findings.iter().filter(|f| f.leak).count() as u64;
    html! {
        <section class="findings" id="findings">
            <h2 class="visually-hidden">{ "Leak findings" }</h2>
            { export_bar(dispatch, id, &q, &doc) }
            <div class="cards">
                { card("Leak suspects", &thousands(leaks), "findings-leaks") }
                { card("Findings", &thousands(d.findings.len() as u64), "findings-count") }
                { card("Reachable", &bytes(d.reachable_bytes), "findings-reachable") }
            </div>
            <p class="note">{ "Ranked by the bytes each retains. Open a finding for its evidence, the object to look at, its retention path from a root and the usual fix. Compare two dumps with heaplens findings BASE CURRENT for growth." }</p>
            { if d.findings.is_empty() {
                html! { <p id="findings-none">{ "No finding: no detector's group reached its threshold." }</p> }
            } else {
                html! { <div id="finding-list">{ for d.findings.iter().map(|f| finding_view(dispatch, id, f)) }</div> }
            } }
            <h3>{ "Detectors" }</h3>
            <div class="table-scroll" tabindex="0" role="region" aria-label="Detectors">
            <table class="simple" id="finding-detectors">
                <thead><tr>
                    <th scope="col">{ "Pattern" }</th>
                    <th scope="col">{ "Looked at" }</th>
                    <th scope="col">{ "Reports at" }</th>
                </tr></thead>
                <tbody>
                    { for d.detectors.iter().map(|r| html! {
                        <tr class="detector" data-pattern={r.pattern.clone()}>
                            <td>{ &r.title }</td>
                            <td>{ match &r.silent_because {
                                Some(why) => format!("silent: {why}"),
                                None => format!("{} groups", thousands(r.groups)),
                            } }</td>
                            <td>{ &r.threshold }</td>
                        </tr>
                    }) }
                </tbody>
            </table></div>
        </section>
    }
}
