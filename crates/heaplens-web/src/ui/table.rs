//! The one table of the page, for any row type: sortable columns
//! (`aria-sort` on their headings), a labelled filter, rows rendered only
//! where they are in view (100,000 rows scroll smoothly), a grid a keyboard
//! can use (one row in the tab order; arrows, Page Up/Down, Home/End move;
//! Enter opens; Ctrl+C copies the row; a table with a row action has a
//! button for it on each row and a key for it on the focused row), and the
//! rows as CSV. Sorting,
//! filtering and the CSV are [`crate::table`]'s (plain Rust, tested
//! natively); this adds the markup.

use super::common::{copy_text, download, Same};
use super::use_ctx;
use crate::format::thousands;
use crate::table::{csv, order, row_text, ColumnSpec, Filter, Sort, TableRow, TableView};
use std::rc::Rc;
use wasm_bindgen::JsCast;
use web_sys::{HtmlElement, KeyboardEvent};
use yew::prelude::*;
use yew::virtual_dom::VTag;

/// Height of a row in pixels (the CSS's `--row`).
pub const ROW_HEIGHT: f64 = 30.0;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 12;

/// Where the table is scrolled to and which row is active.
struct Nav {
    top: f64,
    height: f64,
    active: usize,
    focus_pending: bool,
}

/// A second thing a row does beside opening (Enter, a click): a button on
/// each row (out of the tab order: the table is one tab stop) and a key on
/// the focused row.
#[derive(Clone, PartialEq)]
pub struct RowAction {
    /// The button's text (`Instances`).
    pub label: &'static str,
    /// The key, lower case (`i`), pressed on the focused row.
    pub key: &'static str,
    /// What it does, in words, for the button's title (`every object of
    /// this type`).
    pub title: &'static str,
    /// Called with the row's position in `rows`.
    pub on: Callback<usize>,
}

/// Properties of [`DataTable`].
#[derive(Properties)]
pub struct DataTableProps<R: TableRow> {
    /// Element id (the grid's; its controls' ids start with it).
    pub id: AttrValue,
    /// The grid's accessible name.
    pub label: AttrValue,
    /// Extra class (the column template).
    pub class: AttrValue,
    /// The rows.
    pub rows: Rc<Vec<R>>,
    /// The columns.
    pub columns: Rc<Vec<ColumnSpec<R>>>,
    /// A visible cell's markup, by column id.
    pub cell: fn(&R, &str) -> Html,
    /// `data-*` attributes of a row's element (for tests and styles).
    pub data: fn(&R) -> Vec<(&'static str, String)>,
    /// The sort and filter.
    pub view: TableView,
    /// The sort when the view names none.
    pub default_sort: Sort,
    /// A new sort or filter.
    pub on_view: Callback<TableView>,
    /// Enter or a click on a row (its position in `rows`).
    #[prop_or_default]
    pub on_activate: Option<Callback<usize>>,
    /// What the rows are ("types").
    pub noun: AttrValue,
    /// What of a row the filter matches ("name", "value").
    #[prop_or(AttrValue::Static("name"))]
    pub filter_by: AttrValue,
    /// The CSV file's name.
    pub csv_name: AttrValue,
    /// More in the toolbar.
    #[prop_or_default]
    pub extra: Html,
    /// The selected row in full (its whole name, module…), shown under the
    /// table so that a name cut by its column can be read and copied.
    #[prop_or_default]
    pub describe: Option<fn(&R) -> String>,
    /// A second action on a row ([`RowAction`]).
    #[prop_or_default]
    pub row_action: Option<RowAction>,
}

impl<R: TableRow> PartialEq for DataTableProps<R> {
    fn eq(&self, o: &Self) -> bool {
        self.id == o.id
            && self.label == o.label
            && self.class == o.class
            && Rc::ptr_eq(&self.rows, &o.rows)
            && Rc::ptr_eq(&self.columns, &o.columns)
            && std::ptr::fn_addr_eq(self.cell, o.cell)
            && std::ptr::fn_addr_eq(self.data, o.data)
            && self.view == o.view
            && self.default_sort == o.default_sort
            && self.on_view == o.on_view
            && self.on_activate == o.on_activate
            && self.noun == o.noun
            && self.filter_by == o.filter_by
            && self.csv_name == o.csv_name
            && self.extra == o.extra
            && self.describe.map(|f| f as usize) == o.describe.map(|f| f as usize)
            && self.row_action == o.row_action
    }
}

/// See the module documentation.
#[function_component(DataTable)]
pub fn data_table<R: TableRow>(p: &DataTableProps<R>) -> Html {
    let ctx = use_ctx();
    let body = use_node_ref();
    // Scroll position, viewport height and the active row live in a cell
    // read by the handlers when they run (several key presses can come
    // before the next render), and a render is asked for when they change.
    let nav = use_mut_ref(|| Nav {
        top: 0.0,
        height: 600.0,
        active: 0,
        focus_pending: false,
    });
    let redraw = use_force_update();
    let order = {
        let cols = p.columns.clone();
        let default = p.default_sort.clone();
        use_memo(
            (Same(p.rows.clone()), p.view.clone()),
            move |(rows, view)| order(&rows.0, &cols, view, &default),
        )
    };
    let n = order.len();
    // A new sort or filter starts at the top.
    {
        let body = body.clone();
        let nav = nav.clone();
        let redraw = redraw.clone();
        use_effect_with(p.view.clone(), move |_| {
            if let Some(el) = body.cast::<HtmlElement>() {
                el.set_scroll_top(0);
            }
            let mut n = nav.borrow_mut();
            n.top = 0.0;
            n.active = 0;
            drop(n);
            redraw.force_update();
        });
    }
    // Measure the viewport once mounted.
    {
        let body = body.clone();
        let nav = nav.clone();
        let redraw = redraw.clone();
        use_effect_with((), move |_| {
            if let Some(el) = body.cast::<HtmlElement>() {
                let mut n = nav.borrow_mut();
                n.top = el.scroll_top() as f64;
                n.height = el.client_height() as f64;
                drop(n);
                redraw.force_update();
            }
        });
    }
    // After each render: the viewport's height (it grows with the rows up
    // to its maximum), and the focus on the active row once keyboard moved
    // it and it is rendered.
    {
        let body = body.clone();
        let nav = nav.clone();
        let redraw = redraw.clone();
        use_effect(move || {
            if let Some(el) = body.cast::<HtmlElement>() {
                let h = el.client_height() as f64;
                if (h - nav.borrow().height).abs() > 0.5 {
                    nav.borrow_mut().height = h;
                    redraw.force_update();
                }
            }
            let mut n = nav.borrow_mut();
            if std::mem::take(&mut n.focus_pending) {
                let a = n.active;
                drop(n);
                if let Some(el) = body
                    .cast::<HtmlElement>()
                    .and_then(|b| {
                        b.query_selector(&format!("[data-index=\"{a}\"]"))
                            .ok()
                            .flatten()
                    })
                    .and_then(|e| e.dyn_into::<HtmlElement>().ok())
                {
                    let _ = el.focus();
                }
            }
        });
    }

    let onscroll = {
        let nav = nav.clone();
        let redraw = redraw.clone();
        Callback::from(move |e: Event| {
            let el: HtmlElement = e.target_unchecked_into();
            let mut n = nav.borrow_mut();
            n.top = el.scroll_top() as f64;
            n.height = el.client_height() as f64;
            drop(n);
            redraw.force_update();
        })
    };
    let activate = {
        let order = order.clone();
        let on = p.on_activate.clone();
        Callback::from(move |i: usize| {
            if let (Some(on), Some(&pos)) = (&on, order.get(i)) {
                on.emit(pos as usize);
            }
        })
    };
    let copy_row = {
        let order = order.clone();
        let rows = p.rows.clone();
        let cols = p.columns.clone();
        let dispatch = ctx.dispatch.clone();
        Callback::from(move |i: usize| {
            if let Some(&pos) = order.get(i) {
                copy_text(&dispatch, row_text(&rows[pos as usize], &cols), "the row");
            }
        })
    };
    let act = {
        let order = order.clone();
        let on = p.row_action.as_ref().map(|a| a.on.clone());
        Callback::from(move |i: usize| {
            if let (Some(on), Some(&pos)) = (&on, order.get(i)) {
                on.emit(pos as usize);
            }
        })
    };
    let act_key = p.row_action.as_ref().map(|a| a.key);
    let onkeydown = {
        let nav = nav.clone();
        let redraw = redraw.clone();
        let body = body.clone();
        let activate = activate.clone();
        let copy_row = copy_row.clone();
        let act = act.clone();
        Callback::from(move |e: KeyboardEvent| {
            if n == 0 {
                return;
            }
            let (top, height, a) = {
                let v = nav.borrow();
                (v.top, v.height, v.active.min(n - 1))
            };
            let page = ((height / ROW_HEIGHT) as usize).max(1);
            let to = match e.key().as_str() {
                "ArrowDown" => (a + 1).min(n - 1),
                "ArrowUp" => a.saturating_sub(1),
                "PageDown" => (a + page).min(n - 1),
                "PageUp" => a.saturating_sub(page),
                "Home" => 0,
                "End" => n - 1,
                "Enter" => {
                    e.prevent_default();
                    activate.emit(a);
                    return;
                }
                k if act_key.is_some_and(|x| k.eq_ignore_ascii_case(x))
                    && !(e.ctrl_key() || e.meta_key() || e.alt_key()) =>
                {
                    e.prevent_default();
                    act.emit(a);
                    return;
                }
                "c" | "C" if e.ctrl_key() || e.meta_key() => {
                    let selected = gloo::utils::window()
                        .get_selection()
                        .ok()
                        .flatten()
                        .is_some_and(|s| !s.is_collapsed());
                    if !selected {
                        e.prevent_default();
                        copy_row.emit(a);
                    }
                    return;
                }
                _ => return,
            };
            e.prevent_default();
            // Scroll the row into view, then focus it once rendered.
            let row_top = to as f64 * ROW_HEIGHT;
            let new_top = if row_top < top {
                row_top
            } else if row_top + ROW_HEIGHT > top + height {
                row_top + ROW_HEIGHT - height
            } else {
                top
            };
            if let Some(el) = body.cast::<HtmlElement>() {
                el.set_scroll_top(new_top as i32);
            }
            let mut v = nav.borrow_mut();
            v.top = new_top;
            v.active = to;
            v.focus_pending = true;
            drop(v);
            redraw.force_update();
        })
    };

    let (top, height, active) = {
        let v = nav.borrow();
        (v.top, v.height, v.active)
    };
    let first = ((top / ROW_HEIGHT) as usize).saturating_sub(OVERSCAN);
    let last = (((top + height.max(ROW_HEIGHT)) / ROW_HEIGHT) as usize + OVERSCAN).min(n);
    let first = first.min(last);
    let a = active.min(n.saturating_sub(1));
    // The active row is always rendered, so the grid always has a row in
    // the tab order.
    let mut shown: Vec<usize> = (first..last).collect();
    if n > 0 && !(first..last).contains(&a) {
        shown.push(a);
    }
    let visible: Vec<&ColumnSpec<R>> = p.columns.iter().filter(|c| c.visible).collect();
    let sort = p
        .view
        .sort
        .clone()
        .unwrap_or_else(|| p.default_sort.clone());
    let id = p.id.to_string();

    let header = visible.iter().map(|c| {
        let sorted = sort.column == c.id;
        let aria_sort = match (c.cmp.is_some(), sorted, sort.descending) {
            (true, true, true) => Some("descending"),
            (true, true, false) => Some("ascending"),
            (true, false, _) => Some("none"),
            (false, ..) => None,
        };
        let class = classes!(
            "th",
            if c.numeric { "c-num" } else { "c-text" },
            format!("col-{}", c.id),
            sorted.then_some("sorted")
        );
        let content = if c.cmp.is_some() {
            let next = p.view.clicked(c, &p.default_sort);
            let on_view = p.on_view.clone();
            let arrow = match aria_sort {
                Some("descending") => "\u{a0}▼",
                Some("ascending") => "\u{a0}▲",
                _ => "",
            };
            html! {
                <button class="sort" id={format!("{id}-sort-{}", c.id)}
                    onclick={Callback::from(move |_| on_view.emit(next.clone()))}>
                    { c.label }<span aria-hidden="true">{ arrow }</span>
                </button>
            }
        } else {
            html! { <span>{ c.label }</span> }
        };
        html! {
            <div role="columnheader" class={class} aria-sort={aria_sort}>{ content }</div>
        }
    });
    let act_header = p.row_action.as_ref().map(|_| {
        html! { <div role="columnheader" class="th c-act"><span class="visually-hidden">{ "Actions" }</span></div> }
    });

    let rows = shown.into_iter().map(|i| {
        let pos = order[i] as usize;
        let r = &p.rows[pos];
        let mut tag = VTag::new("div");
        tag.key = Some(r.key().into());
        tag.add_attribute("role", "row");
        tag.add_attribute(
            "class",
            format!(
                "trow{}{}",
                if i % 2 == 1 { " odd" } else { "" },
                if i == a { " active" } else { "" }
            ),
        );
        tag.add_attribute("aria-rowindex", (i + 2).to_string());
        tag.add_attribute("tabindex", if i == a { "0" } else { "-1" });
        tag.add_attribute("data-index", i.to_string());
        tag.add_attribute("data-key", r.key());
        tag.add_attribute("style", format!("top:{}px", i as f64 * ROW_HEIGHT));
        for (k, v) in (p.data)(r) {
            tag.add_attribute(k, v);
        }
        {
            let nav = nav.clone();
            let activate = activate.clone();
            tag.add_listener(Rc::new(yew::html::onclick::Wrapper::new(Callback::from(
                move |_: MouseEvent| {
                    nav.borrow_mut().active = i;
                    activate.emit(i);
                },
            ))));
        }
        for c in &visible {
            let class = classes!(
                if c.numeric { "c-num" } else { "c-text" },
                format!("col-{}", c.id)
            );
            tag.add_child(html! { <div role="gridcell" class={class}>{ (p.cell)(r, c.id) }</div> });
        }
        if let Some(ra) = &p.row_action {
            let act = act.clone();
            let nav = nav.clone();
            let onclick = Callback::from(move |e: MouseEvent| {
                // The row's own click opens it: this one does the action.
                e.stop_propagation();
                nav.borrow_mut().active = i;
                act.emit(i);
            });
            tag.add_child(html! {
                <div role="gridcell" class="c-act">
                    <button class="linklike row-act" tabindex="-1" {onclick}
                        title={format!("{} ({}), key {}", ra.label, ra.title, ra.key.to_uppercase())}>{ ra.label }</button>
                </div>
            });
        }
        Html::from(tag)
    });

    let filter_id = format!("{id}-filter");
    let oninput = {
        let on_view = p.on_view.clone();
        let view = p.view.clone();
        Callback::from(move |e: InputEvent| {
            let input: web_sys::HtmlInputElement = e.target_unchecked_into();
            on_view.emit(TableView {
                sort: view.sort.clone(),
                filter: input.value(),
            });
        })
    };
    let export = {
        let order = order.clone();
        let rows = p.rows.clone();
        let cols = p.columns.clone();
        let name = p.csv_name.to_string();
        Callback::from(move |_: MouseEvent| {
            download(&name, "text/csv", csv(&rows, &order, &cols));
        })
    };
    let copy_active = copy_row.reform(move |_: MouseEvent| a);
    let total = p.rows.len();
    let filter = Filter::new(&p.view.filter);
    let subtotal = if filter.is_empty() {
        None
    } else {
        R::subtotal(&p.rows, &order)
    };
    let full = p
        .describe
        .and_then(|f| order.get(a).map(|&pos| f(&p.rows[pos as usize])));
    html! {
        <div class="datatable">
            <div class="toolbar">
                <label for={filter_id.clone()} class="visually-hidden">{ format!("Filter {} by {}", p.noun, p.filter_by) }</label>
                <input type="search" id={filter_id.clone()} class="filter" placeholder={format!("Filter {} by {} (regex)…", p.noun, p.filter_by)}
                    title={format!("A regular expression, as heaplens stats --filter reads it: matched anywhere in the {}, case sensitive ((?i) for not)", p.filter_by)}
                    value={p.view.filter.clone()} {oninput} autocomplete="off" spellcheck="false"
                    aria-invalid={filter.error.is_some().then_some("true")}
                    aria-describedby={filter.error.is_some().then(|| format!("{id}-filter-error"))} />
                <span class="muted count" id={format!("{id}-count")} aria-live="polite">
                    { format!("{} of {} {}", thousands(n as u64), thousands(total as u64), p.noun) }
                    if let Some(t) = &subtotal {
                        <span class="subtotal" id={format!("{id}-subtotal")}>{ format!(": {t}") }</span>
                    }
                </span>
                { p.extra.clone() }
                <span class="spacer-flex"></span>
                if let Some(e) = &filter.error {
                    <p class="filter-error" id={format!("{id}-filter-error")}>
                        { format!("Not a regular expression ({}); matching the text as written.", e.lines().last().unwrap_or(e).trim()) }
                    </p>
                }
                <button class="ghost small" id={format!("{id}-copy")} onclick={copy_active} disabled={n == 0}
                    title="Copy the selected row as text (or press Ctrl+C in the table)">{ "Copy row" }</button>
                <button class="ghost small" id={format!("{id}-csv")} onclick={export}
                    title="Save the rows shown (filtered and sorted) as CSV">{ "Export CSV" }</button>
            </div>
            <div role="grid" id={id.clone()} class={classes!("vtable", p.class.to_string(), p.row_action.is_some().then_some("has-act"))}
                aria-label={p.label.clone()} aria-rowcount={(n + 1).to_string()}
                aria-colcount={(visible.len() + usize::from(p.row_action.is_some())).to_string()}>
                <div role="rowgroup" class="thead">
                    <div role="row" aria-rowindex="1" class="hrow">{ for header }{ act_header.unwrap_or_default() }</div>
                </div>
                <div role="rowgroup" class="tbody" ref={body} {onscroll} {onkeydown}>
                    <div class="spacer" style={format!("height:{}px", n as f64 * ROW_HEIGHT)}>
                        { for rows }
                    </div>
                </div>
            </div>
            if let Some(f) = full {
                <p class="row-full" id={format!("{id}-full")}><span class="visually-hidden">{ "Selected row: " }</span>{ f }</p>
            }
            if n == 0 {
                <p class="empty muted" role="status">{ format!("No {} match the filter.", p.noun) }</p>
            }
        </div>
    }
}
