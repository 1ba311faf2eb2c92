//! The progress screen's figures for people: the share of the whole
//! operation done (the engine reports each phase on its own scale) and a
//! time-left estimate that does not jump about. Plain Rust, tested natively.

use crate::protocol::{Phase, ProgressReport};

/// Where a phase lies in its operation, as (start, width) shares of the
/// whole: reading a core is finding the heap, walking it (bytes) and
/// following the references (objects); a `.gcdump` is read in one phase;
/// the analyses of an open dump are one phase each, and so is unpacking an
/// archive before its dump is read (the page starts a new estimate after).
/// The widths are a rough guess (walking the heap is usually most of a
/// core's read), not measured; the time-left estimate below absorbs a wrong
/// guess by moving at most 2× per report.
pub fn phase_span(phase: Phase) -> (f64, f64) {
    match phase {
        Phase::Starting => (0.0, 0.0),
        Phase::FindingHeap => (0.0, 0.02),
        Phase::ReadingHeap => (0.02, 0.58),
        Phase::FollowingReferences => (0.6, 0.4),
        Phase::Unpacking
        | Phase::ReadingObjects
        | Phase::FindingRoots
        | Phase::SpanningTree
        | Phase::RetainedSizes
        | Phase::FlameGraph
        | Phase::KeyPaths
        | Phase::ReadingStrings
        | Phase::MeasuringCollections => (0.0, 1.0),
    }
}

/// The share of the whole operation done, 0 to 1.
pub fn overall_fraction(p: &ProgressReport) -> f64 {
    let (start, width) = phase_span(p.phase);
    (start + width * p.fraction()).clamp(0.0, 1.0)
}

/// Below this share done, no estimate is shown (too little is known).
const FIRST_ESTIMATE: f64 = 0.02;
/// Past this share done, an estimate moves by at most [`MAX_STEP`] from the
/// previous one counted down.
const STEADY: f64 = 0.10;
/// The largest factor between two estimates, once steady.
const MAX_STEP: f64 = 2.0;
/// The smallest time left the upper bound starts from, so that an estimate
/// that ran out can grow again (by at most [`MAX_STEP`] per report).
const FLOOR_MS: f64 = 1000.0;

/// A time-left estimate from the share done and the time spent: the
/// straight-line estimate `elapsed × (1 − f) / f`, but once past 10 % kept
/// within a factor of 2 of the previous estimate counted down by the time
/// since (so a phase that runs slower than the ones before raises it
/// gradually instead of from 2 s to 8 s, and it never drops to 0 while work
/// remains).
#[derive(Debug, Clone, Default)]
pub struct TimeLeft {
    /// The last estimate: (elapsed ms when made, ms left then).
    last: Option<(f64, f64)>,
}

impl TimeLeft {
    /// A new estimator.
    pub fn new() -> TimeLeft {
        TimeLeft::default()
    }

    /// The estimate after a report: `fraction` of the whole done at
    /// `elapsed_ms`; `None` while too little is done to tell, or when done.
    pub fn update(&mut self, elapsed_ms: f64, fraction: f64) -> Option<f64> {
        if !(fraction > FIRST_ESTIMATE && fraction < 1.0 && elapsed_ms.is_finite()) {
            return None;
        }
        let raw = elapsed_ms * (1.0 - fraction) / fraction;
        let est = match self.last {
            Some((at, left)) if fraction > STEADY => {
                let expected = (left - (elapsed_ms - at).max(0.0)).max(0.0);
                raw.clamp(expected / MAX_STEP, expected.max(FLOOR_MS) * MAX_STEP)
            }
            _ => raw,
        };
        self.last = Some((elapsed_ms, est));
        Some(est)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(phase: Phase, done: u64, total: u64, elapsed_ms: f64) -> ProgressReport {
        ProgressReport {
            phase,
            done,
            total,
            position: 0,
            bytes_read: 0,
            file_size: 149_000_000,
            elapsed_ms,
            memory: 0,
            scratch: None,
            walkers: 0,
        }
    }

    /// A core read as the engine reports it, computed here: 149 MB of heap
    /// walked at 100 MB/s (1.49 s), then 11.8 M references followed at
    /// 1.5 M/s (7.9 s), a report every 100 ms. The phases' speeds differ
    /// from their widths in [`phase_span`], as on real dumps, which is
    /// what made the straight-line estimate jump.
    fn sequence() -> Vec<(ProgressReport, f64)> {
        let heap = 149_000_000u64;
        let refs = 11_855_888u64;
        let heap_ms = heap as f64 / 100_000.0;
        let refs_ms = refs as f64 / 1_500.0;
        let total_ms = heap_ms + refs_ms;
        let mut out = Vec::new();
        let mut t = 100.0;
        while t < total_ms {
            let r = if t < heap_ms {
                report(
                    Phase::ReadingHeap,
                    (t / heap_ms * heap as f64) as u64,
                    heap,
                    t,
                )
            } else {
                let done = ((t - heap_ms) / refs_ms * refs as f64) as u64;
                report(Phase::FollowingReferences, done, refs, t)
            };
            out.push((r, total_ms - t));
            t += 100.0;
        }
        out
    }

    #[test]
    fn the_share_done_grows_across_phases() {
        let mut last = 0.0;
        for (r, _) in sequence() {
            let f = overall_fraction(&r);
            assert!(f >= last, "{f} after {last}");
            last = f;
        }
        assert!(last > 0.99);
        assert_eq!(
            overall_fraction(&report(Phase::ReadingHeap, 0, 10, 0.0)),
            0.02
        );
        assert_eq!(
            overall_fraction(&report(Phase::FollowingReferences, 5, 10, 0.0)),
            0.8
        );
        assert_eq!(
            overall_fraction(&report(Phase::ReadingObjects, 5, 10, 0.0)),
            0.5
        );
    }

    #[test]
    fn past_ten_percent_the_estimate_moves_by_at_most_twice() {
        let seq = sequence();
        // The straight-line estimate does jump here (the reason for this).
        let raw: Vec<f64> = seq
            .iter()
            .map(|(r, _)| {
                let f = overall_fraction(r);
                r.elapsed_ms * (1.0 - f) / f
            })
            .collect();
        assert!(
            raw.windows(2).any(|w| w[1] > 2.0 * (w[0] - 100.0).max(1.0)),
            "the raw estimate does not jump on this sequence"
        );
        let mut eta = TimeLeft::new();
        let mut prev: Option<(f64, f64)> = None;
        let mut shown = 0;
        for (r, truth) in &seq {
            let f = overall_fraction(r);
            let Some(e) = eta.update(r.elapsed_ms, f) else {
                assert!(f <= FIRST_ESTIMATE, "no estimate at {f}");
                continue;
            };
            shown += 1;
            assert!(e.is_finite() && e >= 0.0);
            if let Some((at, left)) = prev {
                if f > STEADY {
                    let counted_down = (left - (r.elapsed_ms - at)).max(0.0);
                    assert!(
                        e <= counted_down.max(FLOOR_MS) * 2.0 + 1e-9 && e >= counted_down / 2.0 - 1e-9,
                        "at {:.0} ms ({:.1} % done): {e:.0} ms after {left:.0} ms ({counted_down:.0} counted down)",
                        r.elapsed_ms,
                        f * 100.0
                    );
                }
            }
            // Never 0 while more than a second of work is left.
            if *truth > 1000.0 {
                assert!(e > 0.0, "0 ms left with {truth:.0} ms to go");
            }
            prev = Some((r.elapsed_ms, e));
        }
        assert!(shown > 50);
    }

    #[test]
    fn nothing_to_tell_at_the_start_or_the_end() {
        let mut eta = TimeLeft::new();
        assert_eq!(eta.update(100.0, 0.0), None);
        assert_eq!(eta.update(100.0, 0.01), None);
        assert_eq!(eta.update(1000.0, 0.5), Some(1000.0));
        assert_eq!(eta.update(2000.0, 1.0), None);
    }
}
