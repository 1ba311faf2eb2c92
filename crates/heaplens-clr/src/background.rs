//! One job on a second thread while the calling thread does other work,
//! where the platform has threads (native builds); in the browser's worker
//! (wasm32, one thread) the job runs first, then the other work.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How often the calling thread reports the job's progress while it waits.
const REPORT_EVERY: Duration = Duration::from_millis(50);

/// Runs `job` on another thread and `here` on this one, and returns both
/// results. `job` reports its progress through the function it is given
/// (a `false` back asks it to stop); `here` is given a function that
/// answers the job's latest figure; while this thread waits for the job,
/// `waiting` is called with that figure now and then, and a `false` from
/// it is passed on to the job. Without threads (wasm32, or
/// when none can be started), `job` runs here first, reporting to
/// `waiting` directly, then `here`. A panic in `job` is raised again here.
/// The job's result is `None` only if it could run nowhere, which does
/// not happen.
pub(crate) fn run_beside<T: Send, R>(
    job: impl FnOnce(&mut dyn FnMut(u64) -> bool) -> T + Send,
    here: impl FnOnce(&dyn Fn() -> u64) -> R,
    waiting: &mut dyn FnMut(u64) -> bool,
) -> (Option<T>, R) {
    // The job waits here until a thread takes it; if none can be started,
    // this thread takes it.
    let job = Mutex::new(Some(job));
    let take = || job.lock().ok().and_then(|mut j| j.take());
    let done = AtomicU64::new(0);
    let latest = || done.load(Ordering::Relaxed);
    // The job on this thread, reporting to `waiting` directly.
    let inline = |waiting: &mut dyn FnMut(u64) -> bool| {
        take().map(|job| {
            job(&mut |d| {
                done.store(d, Ordering::Relaxed);
                waiting(d)
            })
        })
    };
    if cfg!(target_arch = "wasm32") {
        return (inline(waiting), here(&latest));
    }
    let finished = AtomicBool::new(false);
    let cancel = AtomicBool::new(false);
    let caller = std::thread::current();
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("heaplens-background".into())
            .spawn_scoped(s, || {
                let result = take().map(|job| {
                    job(&mut |d| {
                        done.store(d, Ordering::Relaxed);
                        !cancel.load(Ordering::Relaxed)
                    })
                });
                // Told before the thread ends: `JoinHandle::is_finished`
                // would turn true only after the wake-up was spent.
                finished.store(true, Ordering::Release);
                caller.unpark();
                result
            })
            .ok();
        let Some(handle) = handle else {
            return (inline(waiting), here(&latest));
        };
        let r = here(&latest);
        // (A panicking job never says it finished.)
        // Once `waiting` says stop, it is not asked again.
        while !finished.load(Ordering::Acquire) && !handle.is_finished() {
            if !cancel.load(Ordering::Relaxed) && !waiting(latest()) {
                cancel.store(true, Ordering::Relaxed);
            }
            std::thread::park_timeout(REPORT_EVERY);
        }
        match handle.join() {
            Ok(t) => (t, r),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_run_and_progress_reaches_the_caller() {
        let mut seen = Vec::new();
        let (t, r) = run_beside(
            |progress| {
                for i in 0..5u64 {
                    progress(i);
                    std::thread::sleep(Duration::from_millis(30));
                }
                "job"
            },
            |_| "here",
            &mut |d| {
                seen.push(d);
                true
            },
        );
        assert_eq!((t, r), (Some("job"), "here"));
        assert!(!seen.is_empty());
    }

    #[test]
    fn a_false_from_waiting_stops_the_job() {
        let (t, _) = run_beside(
            |progress| {
                let mut rounds = 0u64;
                while progress(rounds) {
                    rounds += 1;
                    std::thread::sleep(Duration::from_millis(5));
                    assert!(rounds < 10_000, "never told to stop");
                }
                rounds
            },
            |_| (),
            &mut |_| false,
        );
        assert!(t.is_some());
    }

    #[test]
    fn a_panic_in_the_job_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| {
            run_beside(|_| -> u32 { panic!("boom") }, |_| (), &mut |_| true)
        });
        assert!(r.is_err());
    }
}
