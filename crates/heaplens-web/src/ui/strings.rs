//! Duplicate strings: every live string read once, values with two or
//! more copies with the bytes their extra copies waste ((copies − 1) ×
//! size) and the type that holds most copies; and a search of the
//! strings by substring, in this page's engine (nothing leaves the
//! machine). The document is `heaplens strings FILE [--search TEXT]
//! --json`'s.

use super::common::card;
use super::contents::{answer, export_bar, object_link};
use super::use_ctx;
use crate::format::{bytes, percent, thousands};
use crate::protocol::{ContentsDoc, DumpId};
use crate::state::{Action, Tab};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Properties of [`Strings`].
#[derive(Properties, PartialEq)]
pub struct StringsProps {
    /// The dump.
    pub id: DumpId,
}

fn quoted(text: &str, truncated: bool) -> String {
    format!("\"{}{}\"", text, if truncated { "…" } else { "" })
}

/// See the module documentation.
#[function_component(Strings)]
pub fn strings(p: &StringsProps) -> Html {
    let ctx = use_ctx();
    let input = use_node_ref();
    let s = &*ctx.state;
    let id = p.id;
    let tab = Tab::Strings;
    let Some(q) = s.query_of(tab) else {
        return html! {};
    };
    let onsubmit = {
        let input = input.clone();
        let dispatch = ctx.dispatch.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(i) = input.cast::<HtmlInputElement>() {
                dispatch.emit(Action::SearchStrings(id, i.value()));
            }
        })
    };
    let search_form = html! {
        <form class="string-search" role="search" {onsubmit}>
            <label for="string-search-input">{ "Strings containing" }</label>
            <input type="search" id="string-search-input" ref={input} value={s.strings_search.clone()}
                placeholder="text (case-sensitive)" autocomplete="off" />
            <button class="ghost small" type="submit" id="string-search-go">{ "Search" }</button>
        </form>
    };
    let doc = match answer(s, &ctx.dispatch, id, tab, &q, "the strings") {
        Ok(d) => d,
        Err(h) => {
            return html! { <section class="strings" id="strings">{ search_form }{ h }</section> }
        }
    };
    let ContentsDoc::Strings(d) = &*doc else {
        return html! {};
    };
    let dispatch = &ctx.dispatch;
    html! {
        <section class="strings" id="strings">
            <h2 class="visually-hidden">{ "Strings" }</h2>
            { export_bar(dispatch, id, &q, &doc) }
            <div class="cards">
                { card("Live strings", &format!("{} ({})", thousands(d.strings), bytes(d.bytes)), "strings-total") }
                { card("Distinct values", &thousands(d.distinct), "strings-distinct") }
                { card("Duplicated values", &format!("{} ({} extra copies)", thousands(d.duplicated_values), thousands(d.extra_copies)), "strings-duplicated") }
                { card("Wasted by duplicates", &format!("{} ({})", bytes(d.wasted_bytes), percent(d.wasted_bytes, d.bytes)), "strings-wasted") }
            </div>
            if d.unreadable > 0 {
                <p class="note">{ format!("{} strings could not be read and are not counted.", thousands(d.unreadable)) }</p>
            }
            { search_form }
            if let Some(text) = &d.search {
                <div class="panel" id="string-matches" data-count={d.match_count.to_string()}>
                    <h3>{ format!("{} strings contain \"{}\"", thousands(d.match_count), text) }</h3>
                    <div class="table-scroll"><table class="simple">
                        <tbody>
                            { for d.matches.iter().map(|m| html! {
                                <tr class="match">
                                    <td class="mono stext">{ quoted(&m.text, m.truncated) }</td>
                                    <td class="num">{ format!("{} chars", thousands(u64::from(m.length))) }</td>
                                    <td>{ object_link(dispatch, id, &m.object, "") }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table></div>
                    if (d.matches.len() as u64) < d.match_count {
                        <p class="muted small">{ format!("The first {}.", d.matches.len()) }</p>
                    }
                </div>
            }
            <h3>{ format!("Duplicate strings: the {} values wasting most", d.duplicates.len()) }</h3>
            <div class="table-scroll"><table class="simple dup-table" id="duplicate-strings">
                <thead><tr>
                    <th scope="col">{ "Value" }</th>
                    <th scope="col" class="num">{ "Copies" }</th>
                    <th scope="col" class="num">{ "Size" }</th>
                    <th scope="col" class="num" aria-sort="descending">{ "Wasted" }</th>
                    <th scope="col">{ "Held most by" }</th>
                    <th scope="col">{ "A copy" }</th>
                </tr></thead>
                <tbody>
                    { for d.duplicates.iter().map(|g| html! {
                        <tr class="dup" data-copies={g.copies.to_string()} data-wasted={g.wasted_bytes.to_string()} data-size={g.size.to_string()}>
                            <td class="mono stext" title={g.text.clone()}>{ if d.values { quoted(&g.text, g.truncated) } else { format!("({} characters, text not shown)", g.length) } }</td>
                            <td class="num">{ thousands(g.copies) }</td>
                            <td class="num">{ thousands(g.size) }</td>
                            <td class="num">{ thousands(g.wasted_bytes) }</td>
                            <td>{ match &g.holder {
                                Some(h) => html! { <span title={format!("{} copies", h.copies)}>{ format!("{} ({})", h.type_name, thousands(h.copies)) }</span> },
                                None => html! { <span class="muted">{ "roots only" }</span> },
                            } }</td>
                            <td>{ object_link(dispatch, id, &g.example, "") }</td>
                        </tr>
                    }) }
                </tbody>
            </table></div>
        </section>
    }
}
