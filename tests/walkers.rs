//! Walkers of a CLR heap as the page's Web Workers are: each opens the dump
//! file on its own (no memory shared with the read), walks one run of the
//! plan it is sent as bytes ([`heaplens_snapshot::walk_run`]) and hands its
//! result back as bytes, which the read joins
//! ([`heaplens_clr::walk::runs::Join`]).

use heaplens_bytes::{FileSource, PageCache};
use heaplens_clr::walk::{runs, MethodTables, WalkStop, Walked};
use std::path::PathBuf;

/// `count` walkers of the dump file at `file` (an unpacked core or
/// minidump), run one after another.
pub struct FileWalkers {
    /// The dump file.
    pub file: PathBuf,
    /// How many.
    pub count: usize,
    /// Runs walked so far.
    pub walked: usize,
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
        let sent = plan.to_bytes();
        let mut join = runs::Join::new(mem, plan, limit)?;
        let mut before = 0;
        for run in 0..plan.runs() {
            // A walker of its own: the file opened again.
            let src = PageCache::new(
                FileSource::open(&self.file).map_err(|e| WalkStop::Walker(e.to_string()))?,
            );
            let bytes =
                heaplens_snapshot::walk_run(&src, &sent, run, None, &mut |d| progress(before + d))
                    .map_err(|e| WalkStop::Walker(e.to_string()))?;
            before += plan.run_bytes(run);
            self.walked += 1;
            join.add(mts, &mut &bytes[..], bytes.len() as u64)?;
        }
        Ok(join.finish()?)
    }
}

/// `count` walkers of the dump file at `file`, each on a thread of its own
/// with the file opened on its own (no memory shared with the read, as
/// the page's workers), their results joined as they are handed over; for
/// the benchmark, what it took.
pub struct ThreadWalkers {
    /// The dump file.
    pub file: PathBuf,
    /// How many.
    pub count: usize,
    /// Bytes of the walkers' results, in all.
    pub result_bytes: u64,
    /// When the plan came (from when the walkers were made).
    pub plan_at: std::time::Duration,
    /// The walkers' time, from the plan to the last result.
    pub walk: std::time::Duration,
    /// The join's time.
    pub join: std::time::Duration,
    made: std::time::Instant,
}

impl ThreadWalkers {
    /// `count` walkers of `file`.
    pub fn new(file: PathBuf, count: usize) -> ThreadWalkers {
        ThreadWalkers {
            file,
            count,
            result_bytes: 0,
            plan_at: Default::default(),
            walk: Default::default(),
            join: Default::default(),
            made: std::time::Instant::now(),
        }
    }
}

impl heaplens_clr::Walkers for ThreadWalkers {
    fn count(&self) -> usize {
        self.count
    }

    fn walk(
        &mut self,
        mem: &dyn heaplens_memory::AddressSpace,
        plan: &runs::WalkPlan,
        mts: &mut MethodTables,
        limit: Option<heaplens_graph::MemoryLimit>,
        _progress: &mut dyn FnMut(u64) -> bool,
    ) -> Result<Walked, WalkStop> {
        let t0 = std::time::Instant::now();
        self.plan_at = t0 - self.made;
        let sent = plan.to_bytes();
        let file = &self.file;
        let results: Vec<Result<Vec<u8>, String>> = std::thread::scope(|s| {
            let walkers: Vec<_> = (0..plan.runs())
                .map(|run| {
                    let sent = &sent;
                    s.spawn(move || {
                        let src =
                            PageCache::new(FileSource::open(file).map_err(|e| e.to_string())?);
                        heaplens_snapshot::walk_run(&src, sent, run, None, &mut |_| true)
                            .map_err(|e| e.to_string())
                    })
                })
                .collect();
            walkers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|_| Err("a walker panicked".into())))
                .collect()
        });
        let t1 = std::time::Instant::now();
        self.walk = t1 - t0;
        let mut join = runs::Join::new(mem, plan, limit)?;
        for r in results {
            let bytes = r.map_err(WalkStop::Walker)?;
            self.result_bytes += bytes.len() as u64;
            join.add(mts, &mut &bytes[..], bytes.len() as u64)?;
        }
        let walked = join.finish()?;
        self.join = t1.elapsed();
        Ok(walked)
    }
}
