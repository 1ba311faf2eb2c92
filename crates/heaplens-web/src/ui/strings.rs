//! Duplicate strings: every live string read once, values with two or
//! more copies with the bytes their extra copies waste ((copies − 1) ×
//! size) and the type that holds most copies; and a search of the
//! strings by substring, in this page's engine (nothing leaves the
//! machine). The document is `heaplens strings FILE [--search TEXT]
//! --json`'s. The duplicates are the one table (sort, filter, keyboard,
//! CSV); Enter or a click on one opens a copy of it in the inspector.

use super::common::{card, Same};
use super::contents::{answer, export_bar, object_link};
use super::table::DataTable;
use super::use_ctx;
use crate::contents_rows::DuplicateRowView;
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
            <h3 id="duplicate-strings-h">{ format!("Duplicate strings: the {} values wasting most", d.duplicates.len()) }</h3>
            <DuplicateTable dump={id} doc={Same(doc.clone())} />
        </section>
    }
}

fn cell(r: &DuplicateRowView, col: &str) -> Html {
    let d = &r.dup;
    match col {
        "value" => {
            html! { <span class="stext" title={r.values.then(|| d.text.clone())}>{ r.shown() }</span> }
        }
        "copies" => html! { { thousands(d.copies) } },
        "size" => html! { { thousands(d.size) } },
        "wasted" => html! { { thousands(d.wasted_bytes) } },
        "holder" => match &d.holder {
            Some(h) => {
                html! { <span class="mono" title={format!("{} ({} copies)", h.type_name, h.copies)}>{ r.holder() }</span> }
            }
            None => html! { <span class="muted">{ "roots only" }</span> },
        },
        // The row opens the copy (Enter, a click): its type and address.
        "example" => html! {
            <span class="objlink" data-node={d.example.node.0.to_string()} data-address={d.example.address.to_string()}
                title={format!("Open {} at {} in the inspector (Enter)", d.example.type_name, d.example.address)}>
                <span class="objtype">{ &d.example.type_name }</span>
                <span class="addr">{ d.example.address.to_string() }</span>
            </span>
        },
        _ => html! {},
    }
}

fn data(r: &DuplicateRowView) -> Vec<(&'static str, String)> {
    let d = &r.dup;
    vec![
        ("data-copies", d.copies.to_string()),
        ("data-size", d.size.to_string()),
        ("data-wasted", d.wasted_bytes.to_string()),
        ("data-length", d.length.to_string()),
        ("data-node", d.example.node.0.to_string()),
    ]
}

/// Properties of [`DuplicateTable`].
#[derive(Properties, PartialEq)]
struct DuplicateTableProps {
    dump: DumpId,
    /// The strings document.
    doc: Same<ContentsDoc>,
}

/// The duplicate values in the one table.
#[function_component(DuplicateTable)]
fn duplicate_table(p: &DuplicateTableProps) -> Html {
    let ctx = use_ctx();
    let columns = use_memo((), |_| DuplicateRowView::columns());
    let rows = use_memo(p.doc.clone(), |d| match &*d.0 {
        ContentsDoc::Strings(s) => DuplicateRowView::rows(s),
        _ => Vec::new(),
    });
    let dump = p.dump;
    let on_activate = {
        let rows = rows.clone();
        let dispatch = ctx.dispatch.clone();
        Callback::from(move |pos: usize| {
            if let Some(r) = rows.get(pos) {
                dispatch.emit(Action::ShowDump(dump, Tab::Object(r.dup.example.node)));
            }
        })
    };
    let base = ctx
        .state
        .dump(dump)
        .map(|d| d.stem().to_owned())
        .unwrap_or_default();
    html! {
        <DataTable<DuplicateRowView> id="duplicate-strings" label="Duplicate strings" class="cols-dups"
            rows={rows} columns={columns} cell={cell as fn(&DuplicateRowView, &str) -> Html}
            data={data as fn(&DuplicateRowView) -> Vec<(&'static str, String)>}
            view={ctx.state.strings_view.clone()} default_sort={DuplicateRowView::default_sort()}
            on_view={ctx.dispatch.reform(Action::StringsView)} on_activate={Some(on_activate)}
            noun="duplicate values" filter_by="value" csv_name={format!("{base}-duplicate-strings.csv")}
            describe={Some((|r: &DuplicateRowView| r.describe()) as fn(&DuplicateRowView) -> String)} />
    }
}
