//! Leak findings of a dump: the .NET patterns that hold memory (timers,
//! events, cancellation registrations, caches, `HttpClient` churn, …),
//! ranked by the bytes they retain, each expandable to its evidence, the
//! object to look at (a link to the inspector and to its type's detail),
//! its retention path from a root (each object a link) and the usual fix;
//! then what each detector looked at. The document is `heaplens findings
//! FILE --json`'s; it carries no values. Also the overview's first panel
//! (the top findings, [`top_findings`]) and the comparison's growth
//! findings ([`growth_findings`], as `heaplens findings BASE CURRENT`).

use super::common::card;
use super::contents::{answer, export_bar, object_link};
use super::use_ctx;
use crate::format::{bytes, thousands};
use crate::protocol::{ContentsDoc, DumpId};
use crate::protocol::{ContentsQuery, ErrorKind};
use crate::state::{Action, AppState, Pending, Retained, Tab};
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
            data-retained={f.retained_bytes.to_string()} data-objects={f.objects.to_string()} data-leak={f.leak.to_string()}
            data-key={f.key.clone()} data-growth-objects={f.growth_objects.map(|g| g.to_string())}
            data-growth-retained={f.growth_retained_bytes.map(|g| g.to_string())}>
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
            { partial_note(s, id, "findings-partial") }
            { if d.findings.is_empty() {
                // Said once: no cards of zeros above it.
                html! { <p id="findings-none" data-reachable={d.reachable_bytes.to_string()}>{ format!(
                    "No findings in the {} reachable from the roots: no detector's group reached its threshold (the table below says what each looked at). Compare two dumps for their growth findings.",
                    bytes(d.reachable_bytes)) }</p> }
            } else {
                html! { <>
                    <div class="cards">
                        { card("Leak suspects", &thousands(leaks), "findings-leaks") }
                        { card("Findings", &thousands(d.findings.len() as u64), "findings-count") }
                        { card("Reachable", &bytes(d.reachable_bytes), "findings-reachable") }
                    </div>
                    <p class="note">{ "Ranked by the bytes each retains. Open a finding for its evidence, the object to look at, its retention path from a root and the usual fix. Compare two dumps for their growth findings." }</p>
                    { finding_list(dispatch, id, &d.findings, "finding-list") }
                </> }
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

/// The findings of `list`, each expandable (their objects are dump `id`'s).
fn finding_list(
    dispatch: &Callback<Action>,
    id: DumpId,
    list: &[FindingEntry],
    list_id: &'static str,
) -> Html {
    html! { <div id={list_id} class="finding-list">{ for list.iter().map(|f| finding_view(dispatch, id, f)) }</div> }
}

/// Over a partial dump: the findings are over the part of the heap the
/// dump holds, in the numbers the partial banner and the overview have
/// (nothing for a whole dump).
fn partial_note(s: &AppState, id: DumpId, html_id: &'static str) -> Html {
    let Some(l) = s.dump(id).and_then(|d| d.loaded.clone()) else {
        return html! {};
    };
    let Some(crate::state::CoverageNote::Partial(summary)) = l.coverage_note() else {
        return html! {};
    };
    let c = &l.stats.header.coverage;
    let over = if c.heap_bytes > 0 {
        format!(
            "{} of the {} GC heap ({})",
            bytes(c.heap_bytes_captured),
            bytes(c.heap_bytes),
            super::overview::share_floor(c.heap_bytes_captured, c.heap_bytes)
        )
    } else {
        summary
    };
    html! {
        <p class="note findings-partial" id={html_id} data-heap-bytes={c.heap_bytes.to_string()}
            data-heap-captured={c.heap_bytes_captured.to_string()}>
            <strong>{ "Over a partial heap: " }</strong>
            { format!("the findings look only at the {over} that the dump holds. What it lacks is not looked at: a pattern there is missed, and one that reaches into it can be larger than shown.") }
        </p>
    }
}

/// "3 findings (1 leak suspect)".
fn counted(findings: usize, leaks: usize) -> String {
    let s = |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    format!(
        "{} ({})",
        s(findings, "finding", "findings"),
        s(leaks, "leak suspect", "leak suspects")
    )
}

/// How many findings the overview shows.
const OVERVIEW_TOP: usize = 3;

/// The overview's first panel: the dump's top findings (each opens the
/// Findings tab), or where they stand.
pub fn top_findings(s: &AppState, dispatch: &Callback<Action>, id: DumpId) -> Html {
    let retained = s.dump(id).map(|d| &d.retained);
    let retained_ready = matches!(retained, Some(Retained::Ready { .. }));
    let all = dispatch.reform(move |_| Action::ShowDump(id, Tab::Findings));
    let body = match s.contents.get(&(id, ContentsQuery::Findings)) {
        Some(Pending::Ready(doc)) => match &**doc {
            ContentsDoc::Findings(d) if d.findings.is_empty() => html! {
                <p id="ov-findings-none">{ "No leak suspect: no detector's group reached its threshold." }</p>
            },
            ContentsDoc::Findings(d) => {
                let leaks = d.findings.iter().filter(|f| f.leak).count();
                html! {
                    <>
                        <ol class="toplist ov-finding-list" id="ov-finding-list">
                            { for d.findings.iter().take(OVERVIEW_TOP).map(|f| html! {
                                <li>
                                    <button class="top-row ov-finding" title={f.verdict.clone()}
                                        data-rank={f.rank.to_string()} data-pattern={f.pattern.clone()}
                                        data-retained={f.retained_bytes.to_string()} data-leak={f.leak.to_string()}
                                        onclick={all.clone()}>
                                        <span class="top-name">
                                            <strong>{ format!("{}. {}", f.rank, f.title) }</strong>
                                            { if f.leak { html! {} } else { html! { <span class="muted">{ " (not a leak by itself)" }</span> } } }
                                            <span class="finding-verdict">{ &f.verdict }</span>
                                        </span>
                                        <span class="top-num">{ bytes(f.retained_bytes) }</span>
                                    </button>
                                </li>
                            }) }
                        </ol>
                        <button class="linklike" id="see-all-findings" onclick={all.clone()}>
                            { format!("All findings: {}, with evidence, path and fix →", counted(d.findings.len(), leaks)) }
                        </button>
                    </>
                }
            }
            _ => html! {},
        },
        Some(Pending::Failed(e)) => html! {
            <p class="error-text" id="ov-findings-failed">{ match e.kind {
                ErrorKind::Cancelled => "The findings were stopped. ".to_owned(),
                _ => format!("The findings could not be computed: {}. ", e.message),
            } }
                <button class="linklike" onclick={all.clone()}>{ "Try again" }</button>
            </p>
        },
        Some(Pending::Loading(_)) => {
            html! { <p class="muted loading-line" id="ov-findings-pending">{ "Looking for leak suspects…" }</p> }
        }
        None if retained_ready => html! {
            <p class="muted" id="ov-findings-pending"><button class="linklike" onclick={all.clone()}>{ "Look for leak suspects" }</button></p>
        },
        // The detectors rank by retained size: without it they wait, and
        // say why when it will not come.
        None => match retained {
            Some(Retained::Failed(e)) if e.kind == ErrorKind::OutOfMemory => html! {
                <p class="muted" id="ov-findings-pending">{ "Leak suspects need the retained sizes, which do not fit in this tab's memory (above). The command line finds them with the machine's memory: heaplens findings FILE." }</p>
            },
            Some(Retained::Failed(_)) => html! {
                <p class="muted" id="ov-findings-pending">{ "Leak suspects need the retained sizes, which could not be computed (above)." }</p>
            },
            Some(Retained::Stopped) => html! {
                <p class="muted" id="ov-findings-pending">{ "Leak suspects need the retained sizes, which were stopped." }</p>
            },
            _ => html! {
                <p class="muted loading-line" id="ov-findings-pending">{ "Leak suspects are looked for once the retained sizes are in…" }</p>
            },
        },
    };
    html! {
        <div class="panel ov-findings" id="ov-findings">
            <h3>{ "Findings: what holds memory and why" }</h3>
            { partial_note(s, id, "ov-findings-partial") }
            { body }
        </div>
    }
}

/// A comparison's growth findings: the current dump's findings against
/// the baseline, ranked by retained growth (as `heaplens findings BASE
/// CURRENT`), or where they stand.
pub fn growth_findings(s: &AppState, dispatch: &Callback<Action>) -> Html {
    let Some((current, q)) = s.growth_findings_query() else {
        return html! {};
    };
    let ContentsQuery::GrowthFindings { base } = q else {
        return html! {};
    };
    let failed = |what: &str, e: &crate::protocol::EngineError| {
        html! {
            <p class="error-text" id="growth-findings-failed">{ format!("{what} could not be computed: {}", e.message) }</p>
        }
    };
    let body = match (
        s.contents.get(&(base, ContentsQuery::Baseline)),
        s.contents.get(&(current, q.clone())),
    ) {
        (_, Some(Pending::Ready(doc))) => match &**doc {
            ContentsDoc::Findings(d) => {
                let leaks = d.findings.iter().filter(|f| f.leak).count();
                html! {
                    <>
                        <p class="muted" id="growth-findings-note" data-count={d.findings.len().to_string()}>
                            { format!("{}, ranked by the retained bytes gained between the dumps, as heaplens findings BASE CURRENT. Open one for its evidence (baseline → current), the object to look at, its retention path in the current dump and the usual fix.", counted(d.findings.len(), leaks)) }
                        </p>
                        { if d.findings.is_empty() {
                            html! { <p id="growth-findings-none">{ "No finding: nothing reached its level or grew by its growth threshold." }</p>
                            }
                        } else {
                            finding_list(dispatch, current, &d.findings, "growth-finding-list")
                        } }
                    </>
                }
            }
            _ => html! {},
        },
        (_, Some(Pending::Failed(e))) => failed("The growth findings", e),
        (Some(Pending::Failed(e)), _) => failed("The baseline's findings", e),
        _ => {
            html! { <p class="muted loading-line" id="growth-findings-pending">{ "Looking for what grew (the baseline's detectors, then the current dump's)…" }</p> }
        }
    };
    html! {
        <section class="growth-findings" id="growth-findings" aria-labelledby="growth-findings-h">
            <h2 id="growth-findings-h">{ "Growth findings" }</h2>
            { body }
        </section>
    }
}
