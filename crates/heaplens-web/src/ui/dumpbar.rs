//! The session's dumps, on every screen: each with its state (reading, read,
//! failed) to show it or close it, the comparison when two are read, and
//! a button to add more.

use super::use_ctx;
use crate::format::{bytes, split_tail};
use crate::state::{Action, DumpStatus, Tab, View};
use yew::prelude::*;

/// See the module documentation.
#[function_component(DumpBar)]
pub fn dump_bar() -> Html {
    let ctx = use_ctx();
    let s = &*ctx.state;
    if s.dumps.is_empty() {
        return html! {};
    }
    let ready = s.ready().count();
    let showing = match s.view {
        View::Dump { id, .. } => Some(id),
        _ => None,
    };
    html! {
        <nav class="dumpbar" aria-label="Open dumps" id="dumpbar">
            <ul>
                { for s.dumps.iter().map(|d| {
                    let id = d.id;
                    let (state, class) = match &d.status {
                        DumpStatus::Opening { progress, .. } => (
                            format!("reading {:.0} %", progress.as_ref().map_or(0.0, |p| p.fraction() * 100.0)),
                            "opening",
                        ),
                        DumpStatus::Ready => (bytes(d.size), "ready"),
                        DumpStatus::Counted(..) => {
                            (format!("{}, type statistics only", bytes(d.size)), "ready")
                        }
                        DumpStatus::Failed(_) => ("could not be read".to_owned(), "failed"),
                    };
                    let current = showing == Some(id);
                    // The later part (a dump's time, its process id, the
                    // extension) tells dumps of one pattern apart: it is
                    // the last cut.
                    let (head, tail) = split_tail(&d.name, (d.name.chars().count() * 3 / 5).max(10));
                    html! {
                        <li class={classes!("chip", class, current.then_some("current"))} data-dump={id.0.to_string()}>
                            <button class="chip-main" title={d.name.clone()}
                                aria-current={current.then_some("page")}
                                onclick={ctx.dispatch.reform(move |_| Action::ShowDump(id, Tab::Overview))}>
                                // Cut in the middle by the room there is: the
                                // head ellipsized first, then the tail.
                                // A screen reader hears the name in one piece
                                // (two flex items would be read as two words).
                                <span class="chip-name">
                                    <span class="chip-head" aria-hidden="true">{ head }</span>
                                    <span class="chip-tail" aria-hidden="true">{ tail }</span>
                                    <span class="visually-hidden">{ d.name.clone() }</span>
                                </span>
                                <span class="chip-state">{ state }</span>
                            </button>
                            <button class="chip-close" aria-label={format!("Close {}", d.name)} title="Close"
                                onclick={ctx.dispatch.reform(move |_| Action::Close(id))}>{ "×" }</button>
                        </li>
                    }
                }) }
            </ul>
            if ready >= 2 {
                <button class={classes!("ghost", (s.view == View::Compare).then_some("active"))} id="compare-button"
                    onclick={ctx.dispatch.reform(|_| Action::ShowCompare)}>{ "Compare…" }</button>
            }
        </nav>
    }
}
