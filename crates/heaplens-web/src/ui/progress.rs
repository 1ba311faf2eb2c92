//! A dump being read: its phase in words with its unit, the bytes read, the
//! time left, and Cancel (which stops this dump only).

use super::use_ctx;
use crate::format::{bytes, duration_ms, thousands};
use crate::protocol::{DumpId, Phase, ProgressReport, Unit};
use crate::state::{Action, DumpStatus};
use yew::prelude::*;

/// Properties of [`Progress`].
#[derive(Properties, PartialEq)]
pub struct ProgressProps {
    /// The dump.
    pub id: DumpId,
}

/// The phase's line: `reading the objects: 12,000 of 138,205 objects`.
pub fn phase_line(p: &ProgressReport) -> String {
    let words = p.phase.words();
    let count = |n: u64| match p.phase.unit() {
        Unit::Bytes => bytes(n),
        _ => thousands(n),
    };
    let unit = match p.phase.unit() {
        Unit::Objects => " objects",
        _ => "",
    };
    match (p.phase.unit(), p.total) {
        (Unit::None, _) => words.to_owned(),
        // Unpacking an archive counts its compressed bytes.
        (_, t) if p.phase == Phase::Unpacking && t > 0 => {
            format!("{words}: {} of {} compressed", count(p.done), count(t))
        }
        (_, 0) => format!("{words}: {}{unit}", count(p.done)),
        _ => format!("{words}: {} of {}{unit}", count(p.done), count(p.total)),
    }
}

/// See the module documentation.
#[function_component(Progress)]
pub fn progress(p: &ProgressProps) -> Html {
    let ctx = use_ctx();
    let Some(d) = ctx.state.dump(p.id) else {
        return html! {};
    };
    let DumpStatus::Opening { progress, .. } = &d.status else {
        return html! {};
    };
    let (frac, line1, line2, left) = match progress {
        Some(p) => {
            let frac = p.fraction();
            let read = match p.scratch {
                // Where the unpacked dump goes, and the room there.
                Some(s) => format!(
                    "{} written into {}{}",
                    bytes(s.written),
                    crate::scratch::LOCATION,
                    s.free
                        .map(|f| format!(" ({} free)", bytes(f)))
                        .unwrap_or_default()
                ),
                None => format!(
                    "{} of {} read",
                    bytes(p.position.min(p.file_size)),
                    bytes(p.file_size)
                ),
            };
            let left = if frac > 0.02 && frac < 1.0 {
                format!(
                    "{} elapsed · about {} left",
                    duration_ms(p.elapsed_ms),
                    duration_ms(p.elapsed_ms * (1.0 - frac) / frac)
                )
            } else {
                format!("{} elapsed", duration_ms(p.elapsed_ms))
            };
            (frac, phase_line(p), read, left)
        }
        None => (
            0.0,
            "starting…".to_owned(),
            format!("0 B of {} read", bytes(d.size)),
            String::new(),
        ),
    };
    let id = p.id;
    let others = ctx
        .state
        .dumps
        .iter()
        .filter(|o| o.id != id && matches!(o.status, DumpStatus::Opening { .. }))
        .count();
    html! {
        <section class="card loading" id="progress">
            <h1>{ "Reading " }<span class="filename" title={d.name.clone()}>{ &d.name }</span></h1>
            if d.modules > 0 {
                <p class="muted" id="progress-modules">{ format!("with {} module file{}", d.modules, if d.modules == 1 { "" } else { "s" }) }</p>
            }
            <div class="progressbar" role="progressbar" aria-label={format!("Reading {}", d.name)}
                aria-valuemin="0" aria-valuemax="100" aria-valuenow={format!("{:.0}", frac * 100.0)}>
                <div class="fill" style={format!("width:{:.1}%", frac * 100.0)}></div>
            </div>
            <div class="progress-lines">
                <span id="progress-objects">{ line1 }</span>
                <span id="progress-bytes">{ line2 }</span>
                <span id="progress-time">{ left }</span>
            </div>
            if others > 0 {
                <p class="muted small">{ format!("{others} more dump{} being read beside it (see the bar above).", if others == 1 { "" } else { "s" }) }</p>
            }
            <button class="secondary" id="cancel" onclick={ctx.dispatch.reform(move |_| Action::CancelOpen(id))}>{ "Cancel" }</button>
        </section>
    }
}
