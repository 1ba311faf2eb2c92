//! Walkers of a CLR heap as the page's Web Workers are: each opens the dump
//! file on its own (no memory shared with the read), walks one run of the
//! plan it is sent as bytes ([`heaplens_snapshot::walk_run`]) and hands its
//! result back as bytes, which the read joins
//! ([`heaplens_clr::walk::runs::Join`]).

use heaplens_bytes::{FileSource, PageCache};
use heaplens_clr::walk::{runs, MethodTables, WalkStop, Walked};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `count` walkers of the dump file at `file` (an unpacked core or
/// minidump): run one after another ([`FileWalkers::new`]), or each on a
/// thread of its own ([`FileWalkers::on_threads`]); for the benchmark,
/// what they took.
pub struct FileWalkers {
    /// The dump file.
    pub file: PathBuf,
    /// How many.
    pub count: usize,
    /// Each on a thread of its own (else one after another, reporting
    /// their progress).
    pub threads: bool,
    /// Runs walked so far.
    pub walked: usize,
    /// Bytes of the walkers' results, in all.
    pub result_bytes: u64,
    /// When the plan came (from when the walkers were made).
    pub plan_at: Duration,
    /// The walkers' time, from the plan to the last result.
    pub walk: Duration,
    /// The join's time.
    pub join: Duration,
    made: Instant,
}

impl FileWalkers {
    /// `count` walkers of `file`, run one after another.
    pub fn new(file: PathBuf, count: usize) -> FileWalkers {
        FileWalkers {
            file,
            count,
            threads: false,
            walked: 0,
            result_bytes: 0,
            plan_at: Duration::ZERO,
            walk: Duration::ZERO,
            join: Duration::ZERO,
            made: Instant::now(),
        }
    }

    /// `count` walkers of `file`, each on a thread of its own.
    pub fn on_threads(file: PathBuf, count: usize) -> FileWalkers {
        FileWalkers {
            threads: true,
            ..FileWalkers::new(file, count)
        }
    }
}

/// One walker: `file` opened on its own, run `run` of the plan `sent`
/// walked; its result as bytes.
fn walk_one(
    file: &Path,
    sent: &[u8],
    run: usize,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Vec<u8>, String> {
    let src = PageCache::new(FileSource::open(file).map_err(|e| e.to_string())?);
    heaplens_snapshot::walk_run(&src, sent, run, None, progress).map_err(|e| e.to_string())
}

impl heaplens_clr::Walkers for FileWalkers {
    fn count(&self) -> usize {
        self.count
    }

    fn walk(
        &mut self,
        mem: &dyn heaplens_memory::AddressSpace,
        plan: &runs::WalkPlan,
        mts: &mut MethodTables,
        limit: Option<heaplens_graph::MemoryLimit>,
        progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<Walked, WalkStop> {
        let t0 = Instant::now();
        self.plan_at = t0 - self.made;
        let sent = plan.to_bytes();
        let file = &self.file;
        let results: Vec<Result<Vec<u8>, String>> = if self.threads {
            std::thread::scope(|s| {
                let walkers: Vec<_> = (0..plan.runs())
                    .map(|run| {
                        let sent = &sent;
                        s.spawn(move || walk_one(file, sent, run, &mut |_| true))
                    })
                    .collect();
                walkers
                    .into_iter()
                    .map(|w| w.join().unwrap_or_else(|_| Err("a walker panicked".into())))
                    .collect()
            })
        } else {
            let mut before = 0;
            (0..plan.runs())
                .map(|run| {
                    let bytes = walk_one(file, &sent, run, &mut |d| progress(before + d));
                    before += plan.run_bytes(run);
                    bytes
                })
                .collect()
        };
        let t1 = Instant::now();
        self.walk = t1 - t0;
        let mut join = runs::Join::new(mem, plan, limit)?;
        for r in results {
            let bytes = r.map_err(WalkStop::Walker)?;
            self.walked += 1;
            self.result_bytes += bytes.len() as u64;
            join.add(mts, &mut &bytes[..], bytes.len() as u64)?;
        }
        let walked = join.finish()?;
        self.join = t1.elapsed();
        Ok(walked)
    }
}
