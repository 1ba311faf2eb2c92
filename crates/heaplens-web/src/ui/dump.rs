//! A read dump's screen: its name as the screen's heading, the
//! partial-dump banner, the tabs (overview, types, flame graph, the type
//! looked at) and the tab's view.

use super::common::PartialBanner;
use super::detail::Detail;
use super::findings::Findings;
use super::flame::DumpFlame;
use super::inspector::Inspector;
use super::instances::Instances;
use super::overview::Overview;
use super::strings::Strings;
use super::types::Types;
use super::use_ctx;
use super::waste::Waste;
use crate::format::{bytes, thousands};
use crate::protocol::DumpId;
use crate::state::{Action, Tab};
use yew::prelude::*;

/// Properties of [`DumpScreen`].
#[derive(Properties, PartialEq)]
pub struct DumpProps {
    /// The dump.
    pub id: DumpId,
    /// The tab.
    pub tab: Tab,
}

/// The last segment of a type name, for a tab (`Foo.Bar<Baz>` → `Bar<Baz>`).
pub fn short_name(name: &str) -> String {
    let base = name.split(['<', '[']).next().unwrap_or(name);
    let cut = base.rfind('.').map(|i| i + 1).unwrap_or(0);
    let s = &name[cut..];
    if s.chars().count() > 40 {
        format!("{}…", s.chars().take(39).collect::<String>())
    } else {
        s.to_owned()
    }
}

/// See the module documentation.
#[function_component(DumpScreen)]
pub fn dump_screen(p: &DumpProps) -> Html {
    let ctx = use_ctx();
    let Some(d) = ctx.state.dump(p.id) else {
        return html! {};
    };
    let Some(l) = d.loaded.clone() else {
        return html! {};
    };
    let id = p.id;
    let detail_tab = match p.tab {
        Tab::Detail(t) => Some(t),
        _ => None,
    }
    .or_else(|| {
        // The type looked at last in this dump keeps its tab.
        ctx.state
            .detail_order
            .iter()
            .rev()
            .find(|(dd, _)| *dd == id)
            .map(|&(_, t)| t)
    });
    let mut tabs = vec![
        (
            Tab::Overview,
            "Overview".to_owned(),
            "tab-overview".to_owned(),
        ),
        (
            Tab::Types,
            format!("Types ({})", thousands(l.stats.types.len() as u64)),
            "tab-types".to_owned(),
        ),
        (Tab::Flame, "Flame graph".to_owned(), "tab-flame".to_owned()),
    ];
    if let Some(t) = detail_tab.filter(|&t| l.row(t).is_some()) {
        let name = l.row(t).map(|r| short_name(&r.name)).unwrap_or_default();
        tabs.push((Tab::Detail(t), name, "tab-detail".to_owned()));
    }
    let instances_tab = match p.tab {
        Tab::Instances(t) => Some(t),
        _ => ctx.state.last_instances.get(&id).copied(),
    };
    if let Some(t) = instances_tab.filter(|&t| l.row(t).is_some()) {
        let name = l.row(t).map(|r| short_name(&r.name)).unwrap_or_default();
        tabs.push((
            Tab::Instances(t),
            format!("Instances: {name}"),
            "tab-instances".to_owned(),
        ));
    }
    let object_tab = match p.tab {
        Tab::Object(n) => Some(n),
        _ => ctx.state.last_object.get(&id).copied(),
    };
    if let Some(n) = object_tab {
        tabs.push((Tab::Object(n), "Object".to_owned(), "tab-object".to_owned()));
    }
    tabs.push((Tab::Strings, "Strings".to_owned(), "tab-strings".to_owned()));
    tabs.push((Tab::Waste, "Waste".to_owned(), "tab-waste".to_owned()));
    tabs.push((
        Tab::Findings,
        "Findings".to_owned(),
        "tab-findings".to_owned(),
    ));
    let same_tab = |a: Tab, b: Tab| {
        matches!(
            (a, b),
            (Tab::Overview, Tab::Overview)
                | (Tab::Types, Tab::Types)
                | (Tab::Flame, Tab::Flame)
                | (Tab::Detail(_), Tab::Detail(_))
                | (Tab::Instances(_), Tab::Instances(_))
                | (Tab::Object(_), Tab::Object(_))
                | (Tab::Strings, Tab::Strings)
                | (Tab::Waste, Tab::Waste)
                | (Tab::Findings, Tab::Findings)
        )
    };
    let panel_id = "tabpanel";
    let selected_tab = tabs
        .iter()
        .find(|(t, ..)| same_tab(p.tab, *t))
        .map(|(_, _, tid)| tid.clone())
        .unwrap_or_default();
    let onkeydown = {
        let order: Vec<(Tab, String)> = tabs.iter().map(|(t, _, id)| (*t, id.clone())).collect();
        let now = order
            .iter()
            .position(|(t, _)| same_tab(p.tab, *t))
            .unwrap_or(0);
        tab_keys(ctx.dispatch.clone(), id, order, now)
    };
    html! {
        <>
            <div class="filebar">
                <h1 class="filename" title={d.name.clone()} id="dump-name">{ &d.name }</h1>
                <span class="muted">{ format!("{} · {}", l.read.format_name, bytes(d.size)) }</span>
            </div>
            <PartialBanner loaded={l.clone()} />
            <div class="tabs" role="tablist" aria-label="Views of this dump" {onkeydown}>
                { for tabs.iter().map(|(t, label, tid)| {
                    let t = *t;
                    let selected = same_tab(p.tab, t);
                    html! {
                        <button role="tab" id={tid.clone()} aria-controls={panel_id}
                            class={classes!("tab", selected.then_some("active"))}
                            aria-selected={selected.to_string()} title={label.clone()}
                            tabindex={if selected { "0" } else { "-1" }}
                            onclick={ctx.dispatch.reform(move |_| Action::ShowDump(id, t))}>{ label }</button>
                    }
                }) }
            </div>
            <div role="tabpanel" id={panel_id} aria-labelledby={selected_tab}>
                { match p.tab {
                    Tab::Overview => html! { <Overview id={id} /> },
                    Tab::Types => html! { <Types id={id} /> },
                    Tab::Flame => html! { <DumpFlame id={id} /> },
                    Tab::Detail(t) => html! { <Detail id={id} type_id={t} /> },
                    Tab::Instances(t) => html! { <Instances id={id} type_id={t} /> },
                    Tab::Object(n) => html! { <Inspector id={id} node={n} /> },
                    Tab::Strings => html! { <Strings id={id} /> },
                    Tab::Waste => html! { <Waste id={id} /> },
                    Tab::Findings => html! { <Findings id={id} /> },
                } }
            </div>
        </>
    }
}

/// The keys of a dump's tab list (`order`: each tab and its element's id;
/// `now`: the shown one's place): arrow keys move between the tabs (and
/// show them), Home and End to the first and last — the tab list is one
/// stop in the tab order.
pub(super) fn tab_keys(
    dispatch: Callback<Action>,
    id: DumpId,
    order: Vec<(Tab, String)>,
    now: usize,
) -> Callback<KeyboardEvent> {
    Callback::from(move |e: KeyboardEvent| {
        let Some(last) = order.len().checked_sub(1) else {
            return;
        };
        let to = match e.key().as_str() {
            "ArrowRight" => (now + 1).min(last),
            "ArrowLeft" => now.saturating_sub(1),
            "Home" => 0,
            "End" => last,
            _ => return,
        };
        e.prevent_default();
        let (t, tid) = order[to].clone();
        dispatch.emit(Action::ShowDump(id, t));
        if let Some(el) = super::element_by_id(&tid) {
            let _ = el.focus();
        }
    })
}
