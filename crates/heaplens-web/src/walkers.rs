//! The heap walked by N Web Workers: what of it is plain Rust (how many
//! walkers, the two engine reads around them, the results read in slices),
//! built and tested natively; the workers themselves are in
//! [`crate::worker`].
//!
//! The engine worker runs an open synchronously and cannot wait for other
//! workers' messages in the middle of it (no shared memory on GitHub
//! Pages), so a walked open is three steps:
//!
//! 1. the engine reads the dump up to its heap's walk with a
//!    [`PlanTaker`] as its walkers: that takes the plan of the walk
//!    ([`WalkPlan::to_bytes`]) and stops the read there (a dump the engine
//!    reads without a walk, a `.gcdump` or an archive's, opens whole in
//!    this step);
//! 2. the engine worker starts a walker worker per run of the plan, each
//!    walking its run over its own reading of the `File`
//!    ([`heaplens_snapshot::walk_run`]) and handing back the result as a
//!    transferred `ArrayBuffer`;
//! 3. the engine reads the dump again with a [`Joiner`] as its walkers:
//!    the same plan (checked byte for byte) joined from the results, read
//!    into the engine's memory in slices ([`SliceReader`]), so no whole
//!    result is copied into it.
//!
//! The join gives what one walk would have given (see
//! `heaplens_clr::walk::runs`), so the page's results are those of one
//! worker.

use heaplens_clr::walk::runs::{result_counts, Join, WalkPlan};
use heaplens_clr::walk::{MethodTables, WalkStop, Walked};
use heaplens_graph::MemoryLimit;
use heaplens_memory::AddressSpace;

/// The most walkers the page starts by default (the workers' memory and
/// the file's reads grow with them; past 4 the walk is no longer what
/// takes the time).
pub const MAX_WALKERS: usize = 4;
/// The most a test may ask for (`?e2e-walkers=N`).
pub const MAX_FORCED_WALKERS: usize = 8;
/// Walkers on a machine of 2 cores: none beside the engine worker, which
/// walks the heap itself. Measured on the 5 M-object core (BENCHMARKS.md,
/// "The page's walk by walker workers"): two walkers took 2.4–3.1 s to the
/// table against 1.9–2.5 s for one worker — the first read up to the plan,
/// the walkers' start and the second read cost more than the halved walk
/// saves when the two cores are all there is.
pub const WALKERS_ON_TWO_CORES: usize = 1;

/// How many walker workers read a heap: `forced` (the test knob
/// `?e2e-walkers=N`, 1 to [`MAX_FORCED_WALKERS`]) when given, else by
/// `navigator.hardwareConcurrency` (`cores`; unknown: 1): one per core on
/// 3 cores or more, at most [`MAX_WALKERS`]; [`WALKERS_ON_TWO_CORES`] on
/// 2. Below 2 the engine worker walks the heap itself.
pub fn walker_count(cores: Option<f64>, forced: Option<u32>) -> usize {
    if let Some(n) = forced {
        return (n as usize).clamp(1, MAX_FORCED_WALKERS);
    }
    match cores {
        Some(c) if c.is_finite() && c >= 3.0 => (c as usize).min(MAX_WALKERS),
        Some(c) if c >= 2.0 => WALKERS_ON_TWO_CORES,
        _ => 1,
    }
}

/// What a [`PlanTaker`] stops the read with: the plan is taken.
pub const PLAN_TAKEN: &str = "the plan of the heap's walk was taken for the walker workers";
/// The code of the read's error when its walkers stopped it
/// ([`crate::model::open_error`]): in a read whose walkers are a
/// [`PlanTaker`], that the plan is taken.
pub const PLAN_TAKEN_CODE: &str = "walker_failed";

/// Walkers of step 1: they take the plan of the walk and stop the read
/// (having checked that the joined walk would fit in the read's memory,
/// so a heap that does not fit is refused here as the read refuses it).
#[derive(Debug, Default)]
pub struct PlanTaker {
    /// How many walkers the plan is for.
    pub count: usize,
    /// The plan, once taken.
    pub plan: Option<Vec<u8>>,
    /// Runs of the plan (walker workers to start).
    pub runs: usize,
    /// Bytes of the heap the plan walks.
    pub heap_bytes: u64,
}

impl heaplens_clr::Walkers for PlanTaker {
    fn count(&self) -> usize {
        self.count
    }

    fn walk(
        &mut self,
        mem: &dyn AddressSpace,
        plan: &WalkPlan,
        _mts: &mut MethodTables,
        limit: Option<MemoryLimit>,
        _progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<Walked, WalkStop> {
        drop(Join::new(mem, plan, limit)?);
        self.plan = Some(plan.to_bytes());
        self.runs = plan.runs();
        self.heap_bytes = plan.heap_bytes();
        Err(WalkStop::Walker(PLAN_TAKEN.to_owned()))
    }
}

/// A walker's result held outside the engine's memory (a JavaScript
/// `Uint8Array` in the page; bytes in the tests), copied out in slices.
pub trait ResultBytes {
    /// Its length in bytes.
    fn len(&self) -> u64;
    /// True when it has no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Copies `buf.len()` bytes from `at` into `buf` (within [`Self::len`]).
    fn copy_to(&self, at: u64, buf: &mut [u8]);
}

impl ResultBytes for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }
    fn copy_to(&self, at: u64, buf: &mut [u8]) {
        let at = at as usize;
        buf.copy_from_slice(&self[at..at + buf.len()]);
    }
}

/// A [`std::io::Read`] over a [`ResultBytes`]: each read copies at most
/// what the reader asks for (the join reads in slices), never the whole.
pub struct SliceReader<'a, R: ResultBytes + ?Sized> {
    bytes: &'a R,
    at: u64,
}

impl<'a, R: ResultBytes + ?Sized> SliceReader<'a, R> {
    /// A reader from the start of `bytes`.
    pub fn new(bytes: &'a R) -> Self {
        SliceReader { bytes, at: 0 }
    }
}

impl<R: ResultBytes + ?Sized> std::io::Read for SliceReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self.bytes.len().saturating_sub(self.at);
        let n = (buf.len() as u64).min(left) as usize;
        self.bytes.copy_to(self.at, &mut buf[..n]);
        self.at += n as u64;
        Ok(n)
    }
}

/// Walkers of step 3: the results of the plan's runs, in run order,
/// joined into the read's walk. The read's plan must be the one the
/// walkers walked (the same bytes), else the read stops
/// ([`WalkStop::Walker`]).
pub struct Joiner<R> {
    /// How many walkers the plan was made for.
    pub count: usize,
    /// The plan the walkers walked.
    pub plan: Vec<u8>,
    /// Each run's result, in run order.
    pub results: Vec<R>,
}

impl<R: ResultBytes> heaplens_clr::Walkers for Joiner<R> {
    fn count(&self) -> usize {
        self.count
    }

    fn walk(
        &mut self,
        mem: &dyn AddressSpace,
        plan: &WalkPlan,
        mts: &mut MethodTables,
        limit: Option<MemoryLimit>,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<Walked, WalkStop> {
        if plan.to_bytes() != self.plan {
            return Err(WalkStop::Walker(
                "the heap's plan read again is not the one the walker workers walked".to_owned(),
            ));
        }
        if self.results.len() != plan.runs() {
            return Err(WalkStop::Walker(format!(
                "{} walker results for a plan of {} runs",
                self.results.len(),
                plan.runs()
            )));
        }
        let mut join = Join::new(mem, plan, limit)?;
        // Room for every result at once: no array grows by a copy.
        let (mut objects, mut references) = (0u64, 0u64);
        for r in &self.results {
            let (o, k) = result_counts(&mut SliceReader::new(r), r.len())?;
            objects = objects.saturating_add(o);
            references = references.saturating_add(k);
        }
        join.reserve(objects, references);
        let mut done = 0;
        for (run, r) in self.results.iter().enumerate() {
            join.add(mts, &mut SliceReader::new(r), r.len())?;
            done += plan.run_bytes(run);
            if !progress(done) {
                return Err(WalkStop::Cancelled);
            }
        }
        Ok(join.finish()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Session;
    use crate::protocol::{DumpId, EngineError};
    use heaplens_graph::NoProgress;
    use heaplens_results::stats::StatsDocument;
    use heaplens_snapshot::modules::ModuleSet;
    use std::io::Read;

    #[test]
    fn how_many_walkers() {
        assert_eq!(walker_count(None, None), 1);
        assert_eq!(walker_count(Some(1.0), None), 1);
        assert_eq!(walker_count(Some(f64::NAN), None), 1);
        assert_eq!(walker_count(Some(2.0), None), WALKERS_ON_TWO_CORES);
        assert_eq!(walker_count(Some(3.0), None), 3);
        assert_eq!(walker_count(Some(4.0), None), 4);
        assert_eq!(walker_count(Some(64.0), None), MAX_WALKERS);
        // The knob wins, within its bounds.
        assert_eq!(walker_count(Some(64.0), Some(1)), 1);
        assert_eq!(walker_count(Some(1.0), Some(3)), 3);
        assert_eq!(walker_count(None, Some(0)), 1);
        assert_eq!(walker_count(None, Some(1000)), MAX_FORCED_WALKERS);
    }

    /// Bytes that count what is copied out of them at once.
    struct Counted(Vec<u8>, std::cell::Cell<usize>);

    impl ResultBytes for Counted {
        fn len(&self) -> u64 {
            self.0.len() as u64
        }
        fn copy_to(&self, at: u64, buf: &mut [u8]) {
            self.1.set(self.1.get().max(buf.len()));
            self.0.copy_to(at, buf);
        }
    }

    #[test]
    fn a_result_is_read_in_the_slices_asked_for() {
        let bytes: Vec<u8> = (0..10_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let src = Counted(bytes.clone(), Default::default());
        let mut r = SliceReader::new(&src);
        let mut out = Vec::new();
        let mut buf = [0u8; 333];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out, bytes);
        assert_eq!(src.1.get(), 333, "the largest copy");
        // read_exact past the end fails, as over any reader.
        let mut r = SliceReader::new(&src);
        let mut all = vec![0u8; 10_001];
        assert!(r.read_exact(&mut all).is_err());
        let empty: Vec<u8> = Vec::new();
        assert_eq!(SliceReader::new(&empty).read(&mut buf).unwrap(), 0);
    }

    /// `bytes` opened as `name` in `s`, its heap walked by `walkers`.
    fn open_walked_by(
        s: &mut Session,
        bytes: &dyn heaplens_bytes::ReadAt,
        modules: &ModuleSet,
        name: &str,
        walkers: &mut dyn heaplens_clr::Walkers,
    ) -> Result<StatsDocument, EngineError> {
        s.open_with_scratch(
            DumpId(1),
            bytes,
            modules,
            None,
            name,
            &mut NoProgress,
            Some(walkers),
        )
        .map(|o| o.document.clone())
    }

    /// A walked open (the plan taken, the runs walked over their own
    /// readings of the file, joined in a second read) gives the document
    /// of an open that walks the heap itself, for 1 to 4 walkers (the
    /// numbers against the runtime's own walk: `tests/walkers.rs` and
    /// the e2e's comparison with `heaplens stats --json`).
    #[test]
    fn a_walked_open_is_the_open_of_one_walker() {
        let Some(shared) = heaplens_corpus::shared_or_skip("heaplens-web walkers") else {
            return;
        };
        for (fixture, file) in [
            ("linux-net8", "phase1.withheap.core.zst"),
            ("windows-net8", "phase1.windump.dmp.zst"),
        ] {
            let bytes =
                heaplens_corpus::read_maybe_zst(&shared.join("fixtures").join(fixture).join(file))
                    .unwrap();
            let name = file.trim_end_matches(".zst");
            let modules = ModuleSet::new();
            let one = Session::default()
                .open(DumpId(1), &bytes, &modules, name, &mut NoProgress)
                .unwrap()
                .document
                .clone();
            for n in 1..=4 {
                let mut taker = PlanTaker {
                    count: n,
                    ..PlanTaker::default()
                };
                let mut s = Session::default();
                let taken = open_walked_by(&mut s, &bytes, &modules, name, &mut taker);
                let Some(plan) = taker.plan.clone() else {
                    // One walker: the read walked the heap itself.
                    assert_eq!(n, 1, "{fixture}: no plan for {n} walkers");
                    assert_eq!(taken.unwrap(), one);
                    continue;
                };
                let e = taken.map(|_| ()).unwrap_err();
                assert!(e.message.contains(PLAN_TAKEN), "{e:?}");
                assert_eq!(e.code.as_deref(), Some(PLAN_TAKEN_CODE));
                assert!(taker.runs >= 2 && taker.runs <= n, "{} runs", taker.runs);
                let results: Vec<Vec<u8>> = (0..taker.runs)
                    .map(|run| {
                        heaplens_snapshot::walk_run(&bytes, &plan, run, None, &mut |_| true)
                            .unwrap()
                    })
                    .collect();
                let mut joiner = Joiner {
                    count: n,
                    plan: plan.clone(),
                    results,
                };
                let doc = open_walked_by(&mut s, &bytes, &modules, name, &mut joiner).unwrap();
                assert_eq!(doc, one, "{fixture}, {n} walkers");
                // A result short of a byte is refused, not joined.
                joiner.results[1].pop();
                let e = open_walked_by(&mut s, &bytes, &modules, name, &mut joiner).unwrap_err();
                assert!(e.message.contains("malformed"), "{e:?}");
                // Another plan is refused before any join.
                let mut other_plan = plan;
                if let Some(b) = other_plan.last_mut() {
                    *b ^= 1;
                }
                let mut other = Joiner {
                    count: n,
                    plan: other_plan,
                    results: Vec::<Vec<u8>>::new(),
                };
                let e = open_walked_by(&mut s, &bytes, &modules, name, &mut other).unwrap_err();
                assert!(e.message.contains("not the one"), "{e:?}");
            }
        }
    }
}
