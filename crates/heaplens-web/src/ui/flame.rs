//! The flame graph (icicle) of what holds the heap: a `flame` document of
//! the worker drawn as SVG, the top frame first and each frame's children
//! below it, widths by bytes. Click a frame to zoom on it; the search
//! highlights frames by name; hovering (or moving to) a frame says its
//! type, objects, bytes and share. Keyboard: the graph is one stop in the
//! tab order; the arrow keys move between frames (up to the parent, down
//! to the largest child, left and right to the siblings), Enter zooms on
//! the frame, Escape zooms out, `o` opens the frame's type. A
//! differential document (two dumps) colours growth red and shrinkage
//! blue, as PerfView colours a diff. The geometry is [`crate::flame`].

use super::common::Same;
use crate::flame::{describe, search, step, visible, Layout, Move};
use heaplens_results::flame::{FlameDocument, FrameKind};
use heaplens_results::TypeId;
use std::rc::Rc;
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Row height in pixels.
const ROW: u32 = 18;
/// Frames narrower than this share of the width are not drawn.
const MIN_WIDTH: f64 = 0.0015;

/// Properties of [`FlameGraph`].
#[derive(Properties, PartialEq)]
pub struct FlameProps {
    /// The document (one dump's, or a diff's).
    pub doc: Rc<FlameDocument>,
    /// Element id of the graph (its parts' ids start with it).
    pub id: AttrValue,
    /// Opens a type frame's type (its row id), when the view can.
    #[prop_or_default]
    pub on_open: Option<Callback<TypeId>>,
}

fn colour(doc: &FlameDocument, f: &heaplens_results::flame::FlameFrame, max_delta: f64) -> String {
    if let Some(d) = f.delta_bytes {
        let t = (d.unsigned_abs() as f64 / max_delta.max(1.0))
            .sqrt()
            .min(1.0);
        let light = 92.0 - 42.0 * t;
        return match d.signum() {
            1 => format!("hsl(0 75% {light:.0}%)"),
            -1 => format!("hsl(215 75% {light:.0}%)"),
            _ => "hsl(0 0% 88%)".to_owned(),
        };
    }
    let _ = doc;
    match f.kind {
        FrameKind::Root => "hsl(220 10% 78%)".to_owned(),
        FrameKind::Roots => "hsl(220 12% 86%)".to_owned(),
        FrameKind::Other => "hsl(0 0% 90%)".to_owned(),
        FrameKind::Type => {
            let h = f
                .name
                .bytes()
                .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
            format!("hsl({} 80% {}%)", 10 + h % 45, 62 + (h / 45) % 14)
        }
    }
}

/// See the module documentation.
#[function_component(FlameGraph)]
pub fn flame_graph(p: &FlameProps) -> Html {
    let layout = use_memo(Same(p.doc.clone()), |d| Layout::of(&d.0));
    let zoom = use_state_eq(|| 0u32);
    let selected = use_state_eq(|| 0u32);
    let hovered = use_state_eq(|| None::<u32>);
    let query = use_state_eq(String::new);
    // A new document (another dump or measure) starts at the top.
    {
        let (zoom, selected) = (zoom.clone(), selected.clone());
        use_effect_with(Same(p.doc.clone()), move |_| {
            zoom.set(0);
            selected.set(0);
        });
    }
    let doc = &p.doc;
    if doc.frames.is_empty() {
        return html! { <p class="muted">{ "No objects." }</p> };
    }
    let n = doc.frames.len() as u32;
    let z = (*zoom).min(n - 1);
    let sel = if layout.within(z, *selected) || *selected == z {
        *selected
    } else {
        z
    };
    let (hits, hit_bytes) = search(doc, &layout, &query);
    let drawn = visible(doc, &layout, z, MIN_WIDTH);
    let rows = drawn.iter().map(|d| d.row).max().unwrap_or(0) + 1;
    let max_delta = doc
        .frames
        .iter()
        .skip(1)
        .filter_map(|f| f.delta_bytes)
        .map(|d| d.unsigned_abs() as f64)
        .fold(0.0, f64::max);
    let id = p.id.to_string();
    let shown = hovered.unwrap_or(sel);
    let details = doc
        .frames
        .get(shown as usize)
        .map(|f| describe(doc, f))
        .unwrap_or_default();
    let onkeydown = {
        let (doc, layout) = (p.doc.clone(), layout.clone());
        let (zoom, selected, hovered) = (zoom.clone(), selected.clone(), hovered.clone());
        let on_open = p.on_open.clone();
        Callback::from(move |e: KeyboardEvent| {
            let m = match e.key().as_str() {
                "ArrowUp" => Some(Move::Up),
                "ArrowDown" => Some(Move::Down),
                "ArrowLeft" => Some(Move::Left),
                "ArrowRight" => Some(Move::Right),
                _ => None,
            };
            if let Some(m) = m {
                e.prevent_default();
                hovered.set(None);
                selected.set(step(&doc, &layout, z, sel, m));
                return;
            }
            match e.key().as_str() {
                "Enter" => {
                    e.prevent_default();
                    zoom.set(sel);
                }
                "Escape" => {
                    // Zooming out, not the page's Escape (back).
                    e.prevent_default();
                    e.stop_propagation();
                    let up = doc.frames[z as usize].parent.unwrap_or(0);
                    zoom.set(up);
                    selected.set(z);
                }
                "o" | "O" => {
                    if let (Some(cb), Some(t)) = (&on_open, doc.frames[sel as usize].type_id) {
                        cb.emit(t);
                    }
                }
                _ => {}
            }
        })
    };
    let oninput = {
        let query = query.clone();
        Callback::from(move |e: InputEvent| {
            let el: HtmlInputElement = e.target_unchecked_into();
            query.set(el.value());
        })
    };
    let onleave = {
        let hovered = hovered.clone();
        Callback::from(move |_: MouseEvent| hovered.set(None))
    };
    let frames = drawn.iter().map(|d| {
        let f = &doc.frames[d.id as usize];
        let fid = f.id;
        let onclick = {
            let (zoom, selected) = (zoom.clone(), selected.clone());
            Callback::from(move |_: MouseEvent| {
                zoom.set(fid);
                selected.set(fid);
            })
        };
        let ondblclick = match (&p.on_open, f.type_id) {
            (Some(cb), Some(t)) => {
                let cb = cb.clone();
                Some(Callback::from(move |_: MouseEvent| cb.emit(t)))
            }
            _ => None,
        };
        let onenter = {
            let hovered = hovered.clone();
            Callback::from(move |_: MouseEvent| hovered.set(Some(fid)))
        };
        let class = classes!(
            "fr",
            d.above.then_some("above"),
            hits[fid as usize].then_some("match"),
            (fid == sel).then_some("sel"),
            (!query.trim().is_empty() && !hits[fid as usize]).then_some("dim"),
        );
        html! {
            <svg key={fid} x={format!("{:.4}%", d.left * 100.0)} y={(d.row * ROW).to_string()}
                width={format!("{:.4}%", d.width * 100.0)} height={(ROW - 1).to_string()}
                class={class} data-id={fid.to_string()} data-name={f.name.clone()}
                data-bytes={f.bytes.to_string()} data-count={f.count.to_string()}
                data-delta={f.delta_bytes.map(|d| d.to_string())}
                onclick={onclick} ondblclick={ondblclick} onmouseenter={onenter}>
                <title>{ describe(doc, f) }</title>
                <rect width="100%" height="100%" rx="2" fill={colour(doc, f, max_delta)} />
                <text x="4" y="13">{ &f.name }</text>
            </svg>
        }
    });
    let search_id = format!("{id}-search");
    let matches = hits.iter().filter(|&&h| h).count();
    html! {
        <div class="flame" id={id.clone()} data-total={doc.total.bytes.to_string()}
            data-zoom={z.to_string()} data-selected={sel.to_string()}>
            <div class="flame-bar">
                <label for={search_id.clone()}>{ "Search" }</label>
                <input type="search" id={search_id} placeholder="type name" value={(*query).clone()} {oninput} />
                if !query.trim().is_empty() {
                    <span class="muted" id={format!("{id}-matches")} data-bytes={hit_bytes.to_string()}>
                        { format!("{} frames match · {} bytes ({:.2} %)", crate::format::thousands(matches as u64),
                            crate::format::thousands(hit_bytes), hit_bytes as f64 * 100.0 / doc.total.bytes.max(1) as f64) }
                    </span>
                }
                if z != 0 {
                    <button class="ghost" id={format!("{id}-reset")} onclick={{
                        let (zoom, selected) = (zoom.clone(), selected.clone());
                        Callback::from(move |_| { zoom.set(0); selected.set(0); })
                    }}>{ "Reset zoom" }</button>
                }
            </div>
            <p class="flame-details" id={format!("{id}-details")} aria-live="polite">{ details }</p>
            <svg class="flame-svg" id={format!("{id}-graph")} width="100%" height={(rows * ROW).to_string()}
                tabindex="0" role="application" {onkeydown} onmouseleave={onleave}
                aria-label="Flame graph: arrow keys move between frames, Enter zooms on one, Escape zooms out, o opens its type"
                aria-describedby={format!("{id}-details")}>
                { for frames }
            </svg>
            if !doc.notes.is_empty() {
                <ul class="notes">{ for doc.notes.iter().map(|n| html! { <li>{ n }</li> }) }</ul>
            }
        </div>
    }
}

/// Properties of [`DumpFlame`].
#[derive(Properties, PartialEq)]
pub struct DumpFlameProps {
    /// The dump.
    pub id: crate::protocol::DumpId,
}

/// A dump's flame-graph tab: the measure (retained size over the dominator
/// tree, or PerfView's inclusive size over its spanning tree) and the
/// graph, once the worker's analysis is in.
#[function_component(DumpFlame)]
pub fn dump_flame(p: &DumpFlameProps) -> Html {
    use crate::state::{Action, Tab};
    use heaplens_results::flame::FlameMeasure;
    let ctx = super::use_ctx();
    let Some(d) = ctx.state.dump(p.id) else {
        return html! {};
    };
    let by = ctx.state.flame_by;
    let id = p.id;
    let radio = |m: FlameMeasure, label: &str, hint: &str| {
        let dispatch = ctx.dispatch.clone();
        html! {
            <label title={hint.to_owned()}>
                <input type="radio" name="flame-by" id={format!("flame-by-{}", m.as_str())}
                    checked={by == m} onchange={Callback::from(move |_| dispatch.emit(Action::FlameBy(m)))} />
                { label }
            </label>
        }
    };
    let graph = match ctx.state.flame(id, by) {
        Some(doc) => {
            let dispatch = ctx.dispatch.clone();
            let on_open = Callback::from(move |t: TypeId| {
                dispatch.emit(Action::ShowDump(id, Tab::Detail(t)))
            });
            html! { <FlameGraph doc={doc} id="flame" on_open={Some(on_open)} /> }
        }
        None => {
            html! { <p class="status-line">{ super::overview::retained_status(d, &ctx.dispatch) }</p> }
        }
    };
    html! {
        <section class="flame-view" id="flame-view">
            <h2 class="visually-hidden">{ "Flame graph" }</h2>
            <fieldset class="flame-by">
                <legend>{ "Frames by" }</legend>
                { radio(FlameMeasure::Retained, "Retained size", "What freeing the frame's objects would free: frames follow the dominator tree") }
                { radio(FlameMeasure::Inclusive, "Inclusive size (PerfView)", "PerfView's inclusive size: frames follow its spanning tree from the roots") }
            </fieldset>
            { graph }
        </section>
    }
}
