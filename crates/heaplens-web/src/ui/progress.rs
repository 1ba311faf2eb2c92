//! A dump being read: its phase in words with its unit, the bytes read, the
//! time left, and Cancel (which stops this dump only).

use super::use_ctx;
use crate::eta::{overall_fraction, TimeLeft};
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
    let by = match p.walkers {
        n if n > 0 && p.phase == Phase::ReadingHeap => format!(" · {n} workers walking it"),
        _ => String::new(),
    };
    let line = match (p.phase.unit(), p.total) {
        (Unit::None, _) => words.to_owned(),
        // Unpacking an archive counts its compressed bytes.
        (_, t) if p.phase == Phase::Unpacking && t > 0 => {
            format!("{words}: {} of {} compressed", count(p.done), count(t))
        }
        (_, 0) => format!("{words}: {}{unit}", count(p.done)),
        _ => format!("{words}: {} of {}{unit}", count(p.done), count(p.total)),
    };
    line + &by
}

/// The time-left estimator of the dump shown, fed once per report.
struct Estimate {
    id: Option<DumpId>,
    eta: TimeLeft,
    last_report_ms: f64,
    left: Option<f64>,
    unpacking: bool,
}

/// See the module documentation.
#[function_component(Progress)]
pub fn progress(p: &ProgressProps) -> Html {
    let ctx = use_ctx();
    let estimate = use_mut_ref(|| Estimate {
        id: None,
        eta: TimeLeft::new(),
        last_report_ms: -1.0,
        left: None,
        unpacking: false,
    });
    let Some(d) = ctx.state.dump(p.id) else {
        return html! {};
    };
    let DumpStatus::Opening { progress, .. } = &d.status else {
        return html! {};
    };
    let (frac, now, read, time) = match progress {
        Some(r) => {
            let frac = overall_fraction(r);
            let mut e = estimate.borrow_mut();
            // Another dump, or the open after an archive's unpacking (a
            // new operation with its own share done): a new estimate.
            let unpacking = r.phase == Phase::Unpacking;
            if e.id != Some(p.id) || (e.unpacking && !unpacking) {
                *e = Estimate {
                    id: Some(p.id),
                    eta: TimeLeft::new(),
                    last_report_ms: -1.0,
                    left: None,
                    unpacking,
                };
            }
            if r.elapsed_ms != e.last_report_ms {
                e.last_report_ms = r.elapsed_ms;
                e.left = e.eta.update(r.elapsed_ms, frac);
            }
            // The file's bytes read, apart from the work on them: once the
            // whole file is read the engine still works on what it read.
            let size = r.file_size.max(d.size);
            let pos = r.position.min(size);
            let read = if let Some(s) = r.scratch {
                // Where the unpacked dump goes, and the room there.
                format!(
                    "{} written into {}{}",
                    bytes(s.written),
                    crate::scratch::LOCATION,
                    s.free
                        .map(|f| format!(" ({} free)", bytes(f)))
                        .unwrap_or_default()
                )
            } else if size > 0 && pos >= size {
                format!("all {} read; working on what was read", bytes(size))
            } else {
                format!("{} of {} read", bytes(pos), bytes(size))
            };
            let time = match e.left {
                Some(left) => format!(
                    "{} elapsed · about {} left",
                    duration_ms(r.elapsed_ms),
                    duration_ms(left)
                ),
                None => format!(
                    "{} elapsed · time left not known yet",
                    duration_ms(r.elapsed_ms)
                ),
            };
            (frac, phase_line(r), read, time)
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
    let pct = format!("{:.0}", frac * 100.0);
    html! {
        <section class="card loading" id="progress">
            <h1>{ "Reading " }<span class="filename" title={d.name.clone()}>{ &d.name }</span></h1>
            if d.modules > 0 {
                <p class="muted" id="progress-modules">{ format!("with {} module file{}", d.modules, if d.modules == 1 { "" } else { "s" }) }</p>
            }
            <div class="progressbar" role="progressbar" aria-label={format!("Reading {}", d.name)}
                aria-valuemin="0" aria-valuemax="100" aria-valuenow={pct.clone()}
                aria-valuetext={format!("{pct} % done: {now}")}>
                <div class="fill" style={format!("width:{:.1}%", frac * 100.0)}></div>
            </div>
            <dl class="progress-facts">
                <dt>{ "Now" }</dt><dd id="progress-objects">{ now }</dd>
                <dt>{ "The file" }</dt><dd id="progress-bytes">{ read }</dd>
                <dt>{ "Time" }</dt><dd id="progress-time">{ time }</dd>
            </dl>
            if others > 0 {
                <p class="muted small">{ format!("{others} more dump{} being read beside it (see the bar above).", if others == 1 { "" } else { "s" }) }</p>
            }
            <button class="secondary" id="cancel" onclick={ctx.dispatch.reform(move |_| Action::CancelOpen(id))}>{ "Cancel" }</button>
        </section>
    }
}
