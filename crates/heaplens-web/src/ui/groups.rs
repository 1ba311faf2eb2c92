//! A group table, a dump's (types grouped by namespace, assembly,
//! interface or base type) or a comparison's (the same groups before →
//! after): the engine's notes, the groups in the one table, and under it
//! the group opened (Enter or a click; again to close) with its types, as
//! the screen that shows it lists them.

use super::common::Same;
use super::table::DataTable;
use crate::table::{GroupRows, TableView};
use heaplens_results::groups::GroupKind;
use std::rc::Rc;
use yew::prelude::*;

/// Properties of [`GroupTable`].
#[derive(Properties)]
pub struct GroupTableProps<G: GroupRows> {
    /// The grid's id.
    pub id: AttrValue,
    /// The grid's accessible name.
    pub label: AttrValue,
    /// The column template's class.
    pub class: AttrValue,
    /// The grouping (a group opened under one is closed under another).
    pub by: GroupKind,
    /// The engine's table.
    pub table: Same<G::Table>,
    /// A visible cell's markup, by column id.
    pub cell: fn(&G, &str) -> Html,
    /// `data-*` attributes of a row.
    pub data: fn(&G) -> Vec<(&'static str, String)>,
    /// The sort and filter.
    pub view: TableView,
    /// A new sort or filter.
    pub on_view: Callback<TableView>,
    /// The CSV file's name.
    pub csv_name: AttrValue,
    /// The opened group's types, shown under the table.
    pub members: Callback<G, Html>,
}

impl<G: GroupRows> PartialEq for GroupTableProps<G> {
    fn eq(&self, o: &Self) -> bool {
        self.id == o.id
            && self.label == o.label
            && self.class == o.class
            && self.by == o.by
            && self.table == o.table
            && std::ptr::fn_addr_eq(self.cell, o.cell)
            && std::ptr::fn_addr_eq(self.data, o.data)
            && self.view == o.view
            && self.on_view == o.on_view
            && self.csv_name == o.csv_name
            && self.members == o.members
    }
}

/// See the module documentation.
#[function_component(GroupTable)]
pub fn group_table<G: GroupRows>(p: &GroupTableProps<G>) -> Html {
    let columns = use_memo((), |_| G::columns());
    let rows: Rc<Vec<G>> = use_memo(p.table.clone(), |t| G::rows(&t.0));
    // The group opened, by grouping and place in the rows.
    let open = use_state_eq(|| None::<(GroupKind, usize)>);
    let by = p.by;
    let on_activate = {
        let open = open.clone();
        Callback::from(move |pos: usize| {
            let g = Some((by, pos));
            open.set(if *open == g { None } else { g });
        })
    };
    let members = open
        .filter(|(k, _)| *k == by)
        .and_then(|(_, pos)| rows.get(pos))
        .map(|g| p.members.emit(g.clone()));
    html! {
        <>
            { for G::notes(&p.table.0).iter().map(|n| html! { <p class="note">{ n }</p> }) }
            <DataTable<G> id={p.id.clone()} label={p.label.clone()} class={p.class.clone()}
                rows={rows} columns={columns} cell={p.cell} data={p.data}
                view={p.view.clone()} default_sort={G::default_sort()}
                on_view={p.on_view.clone()} on_activate={Some(on_activate)}
                noun="groups" csv_name={p.csv_name.clone()} />
            { members.unwrap_or_default() }
        </>
    }
}
