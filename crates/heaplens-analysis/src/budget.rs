//! Memory budgets: before an analysis runs, what it will need from the
//! object and reference counts, and a typed refusal ([`OverBudget`]) when
//! that does not fit, instead of an allocation the browser refuses (which
//! kills a WebAssembly worker with "unreachable").
//!
//! The figures are bytes per object (node) and per reference (edge) of each
//! analysis' own arrays, beyond the graph it reads. They are tracked in
//! BENCHMARKS.md and `docs/compact-graph.md` (§4); when an analysis changes
//! its arrays, its figure changes with it:
//!
//! | step, in the order the page runs them | work at its peak | kept after |
//! |---|---|---|
//! | PerfView's inclusive flame graph | 16 per node (parent, order, the queue's frontier: 12 per queued node, *measured* 6.5 per node on the 50 M core) | 0 |
//! | dominators ([`crate::dominators::dominators`]) | 13.5 per node + 1.3 per edge (the numbering 4, the forest 8 and the back edges 8 each until the queries are packed; then the forest, semi-dominators 4 and parents 1, the numbering dropped; *measured* 14.4 B/node at 60.8 M nodes / 50.0 M edges; 15.7 per node before issue-14q) | 8 (immediate dominator, retained size; no preorder) |
//! | retained sizes: their flame graph, then the document's types | 8 per node (a frame per node and a bit for the walk in preorder; then the dominator tree's children lists, 4 per node + 4 per reachable node) | 0 |
//! | root paths ([`crate::paths::root_paths`]) | 8 per node (parent, breadth-first order) | 8 |
//!
//! The spanning tree runs first because its frontier is the one work array
//! whose size the graph's shape decides, and then nothing else is kept
//! beside it; the root paths run last, kept beside the dominator tree
//! (*measured* by `cargo bench -p heaplens-web --bench analysis_memory`:
//! BENCHMARKS.md, "Issue 14: the whole analysis of the 50 M core in the
//! page").
//!
//! Natively a process has the machine's memory and no budget is set: an
//! allocation that fails there ends the process with a message. In a
//! browser the engine's worker has a fixed cap (the 4 GiB of wasm32, the
//! page's `heaplens_web::worker::MEMORY_CAP`), and the page sets a [`MemoryBudget`].

use crate::format::thousands;
use std::fmt;

/// Tenths of a byte, so the figures stay exact integers.
type Tenths = u64;

/// An analysis step's figures: tenths of a byte per node and per edge at
/// its peak, and per node kept after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Figure {
    work_per_node: Tenths,
    work_per_edge: Tenths,
    kept_per_node: Tenths,
}

/// The steps of the full analysis ([`Analysis::Retained`]), in the order
/// they run.
const INCLUSIVE_FLAME: Figure = Figure {
    work_per_node: 160,
    work_per_edge: 0,
    kept_per_node: 0,
};
const DOMINATORS: Figure = Figure {
    work_per_node: 135,
    work_per_edge: 13,
    kept_per_node: 80,
};
const RETAINED: Figure = Figure {
    work_per_node: 80,
    work_per_edge: 0,
    kept_per_node: 0,
};
const ROOT_PATHS: Figure = Figure {
    work_per_node: 80,
    work_per_edge: 0,
    kept_per_node: 80,
};

/// An analysis a budget is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Analysis {
    /// Root paths, dominators, retained sizes and both flame graphs (what
    /// the page's "retained sizes" computes), skipping what is `done`.
    Retained {
        /// Root paths are already computed (and kept).
        paths_done: bool,
        /// The dominator tree is already computed (and kept).
        dominators_done: bool,
    },
    /// The dominator tree alone (the inspector's retained sizes).
    Dominators,
}

impl Analysis {
    /// The steps still to run, in the order they run.
    fn steps(self) -> Vec<Figure> {
        match self {
            Analysis::Retained {
                paths_done,
                dominators_done,
            } => {
                let mut v = vec![INCLUSIVE_FLAME];
                if !dominators_done {
                    v.push(DOMINATORS);
                }
                v.push(RETAINED);
                if !paths_done {
                    v.push(ROOT_PATHS);
                }
                v
            }
            Analysis::Dominators => vec![DOMINATORS],
        }
    }

    /// What it is, for a message.
    pub fn what(self) -> &'static str {
        match self {
            Analysis::Retained { .. } => "retained sizes and root paths",
            Analysis::Dominators => "the dominator tree",
        }
    }
}

/// Bytes `analysis` needs beyond the memory in use when it starts, on a
/// graph of `nodes` objects and `edges` references: the largest of, for
/// each step, what the steps before it keep plus its own work.
pub fn need(analysis: Analysis, nodes: u64, edges: u64) -> u64 {
    let mut kept: Tenths = 0;
    let mut peak: Tenths = 0;
    for s in analysis.steps() {
        let work = nodes
            .saturating_mul(s.work_per_node)
            .saturating_add(edges.saturating_mul(s.work_per_edge));
        peak = peak.max(kept.saturating_add(work));
        kept = kept.saturating_add(nodes.saturating_mul(s.kept_per_node));
    }
    peak.div_ceil(10)
}

/// What the engine may use: a cap on its memory and a way to measure what
/// is in use now.
#[derive(Clone, Copy)]
pub struct MemoryBudget {
    /// Bytes the engine may use in all (`None`: no cap, natively).
    cap: Option<u64>,
    /// Bytes in use now.
    in_use: fn() -> u64,
}

impl fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBudget")
            .field("cap", &self.cap)
            .field("in_use", &(self.in_use)())
            .finish()
    }
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget::unlimited()
    }
}

impl MemoryBudget {
    /// No cap: every analysis is tried.
    pub fn unlimited() -> MemoryBudget {
        MemoryBudget {
            cap: None,
            in_use: || 0,
        }
    }

    /// At most `cap` bytes in all, of which `in_use()` are in use at the
    /// time of a check (a WebAssembly worker: its cap, and the bytes its
    /// allocator has handed out and not taken back).
    pub fn capped(cap: u64, in_use: fn() -> u64) -> MemoryBudget {
        MemoryBudget {
            cap: Some(cap),
            in_use,
        }
    }

    /// The cap, if any.
    pub fn cap(&self) -> Option<u64> {
        self.cap
    }

    /// The same cap and measure as a limit for a producer's build (the
    /// CLR walk's check before and during the open), if there is a cap.
    pub fn limit(&self) -> Option<heaplens_graph::MemoryLimit> {
        self.cap.map(|cap| heaplens_graph::MemoryLimit {
            cap,
            in_use: self.in_use,
        })
    }

    /// Whether `analysis` of a graph of `nodes` objects and `edges`
    /// references fits in what is left now; if not, the numbers.
    pub fn check(&self, analysis: Analysis, nodes: u64, edges: u64) -> Result<(), OverBudget> {
        let Some(cap) = self.cap else {
            return Ok(());
        };
        let needed = need(analysis, nodes, edges);
        let in_use = (self.in_use)();
        let available = cap.saturating_sub(in_use);
        if needed <= available {
            return Ok(());
        }
        // The graph the analysis reads stays; this analysis' own need per
        // object tells how many objects would fit in what is left.
        let per_object = needed.div_ceil(nodes.max(1)).max(1);
        Err(OverBudget {
            analysis,
            nodes,
            edges,
            needed,
            in_use,
            cap,
            objects_that_fit: available / per_object,
        })
    }
}

/// An analysis refused before it started: it would need more memory than
/// the budget leaves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct OverBudget {
    /// What was refused.
    pub analysis: Analysis,
    /// Objects of the graph.
    pub nodes: u64,
    /// References of the graph.
    pub edges: u64,
    /// Bytes it would need beyond what is in use ([`need`]).
    pub needed: u64,
    /// Bytes in use when it was checked.
    pub in_use: u64,
    /// The cap.
    pub cap: u64,
    /// About how many objects the analysis would fit for in what is left.
    pub objects_that_fit: u64,
}

impl OverBudget {
    /// Bytes left under the cap.
    pub fn available(&self) -> u64 {
        self.cap.saturating_sub(self.in_use)
    }
}

/// Megabytes (10^6 bytes), rounded up, with thousands separators.
fn mb(bytes: u64) -> String {
    thousands(bytes.div_ceil(1_000_000))
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} of {} objects and {} references need about {} MB more memory, and {} MB are \
             left of the {} MB this engine may use ({} MB in use); they fit for about {} \
             objects. What fits: the type statistics, which are complete; the command line \
             computes {} with the machine's memory (heaplens retained FILE).",
            self.analysis.what(),
            thousands(self.nodes),
            thousands(self.edges),
            mb(self.needed),
            mb(self.available()),
            mb(self.cap),
            mb(self.in_use),
            thousands(self.objects_that_fit),
            self.analysis.what(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRESH: Analysis = Analysis::Retained {
        paths_done: false,
        dominators_done: false,
    };

    /// The need of the full analysis of 50 M objects with 100 M references,
    /// step by step by hand, in the order they run: the inclusive flame 16
    /// B/object; dominators 13.5 B/object + 1.3 B/reference, then 8 kept;
    /// retained sizes (their flame, the document's types) 8 beside them;
    /// root paths 8 beside them (kept).
    #[test]
    fn the_need_is_the_largest_step_on_top_of_what_is_kept() {
        let (n, e) = (50_000_000u64, 100_000_000u64);
        let inclusive = 16 * n;
        let dominators = (135 * n + 13 * e) / 10; // 16.1 per object: the largest
        let retained = 8 * n + 8 * n; // 16
        let paths = 8 * n + 8 * n; // 16
        let want = inclusive.max(dominators).max(retained).max(paths);
        assert_eq!(want, 805_000_000);
        assert_eq!(need(FRESH, n, e), want);
        // With the paths and the tree kept, only the flames and the
        // document remain.
        let later = Analysis::Retained {
            paths_done: true,
            dominators_done: true,
        };
        assert_eq!(need(later, n, e), 16 * n);
        // The tree alone: 16.1 B/object at 2 references per object.
        assert_eq!(need(Analysis::Dominators, n, e), 805_000_000);
        // Chain-shaped: one reference per object, 14.8 B/object.
        assert_eq!(need(Analysis::Dominators, n, n), 740_000_000);
    }

    #[test]
    fn a_cap_refuses_with_the_numbers_and_what_fits() {
        let budget = MemoryBudget::capped(2 << 30, || 1_500_000_000);
        let (n, e) = (50_000_000u64, 100_000_000u64);
        let err = budget.check(FRESH, n, e).unwrap_err();
        assert_eq!(err.needed, 805_000_000);
        assert_eq!(err.available(), (2u64 << 30) - 1_500_000_000);
        // 647,483,648 bytes left at 17 per object (16.1 rounded up).
        assert_eq!(err.objects_that_fit, 38_087_273);
        let text = err.to_string();
        for part in [
            "50,000,000 objects",
            "100,000,000 references",
            "805 MB more",
            "648 MB are left of the 2,148 MB",
            "1,500 MB in use",
            "about 38,087,273 objects",
            "type statistics",
            "heaplens retained",
        ] {
            assert!(text.contains(part), "{part:?} not in {text:?}");
        }
        // A tenth of the objects fits.
        assert_eq!(budget.check(FRESH, n / 10, e / 10), Ok(()));
        // No cap: anything is tried.
        assert_eq!(
            MemoryBudget::unlimited().check(FRESH, u64::MAX, u64::MAX),
            Ok(())
        );
    }
}
