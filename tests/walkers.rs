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
