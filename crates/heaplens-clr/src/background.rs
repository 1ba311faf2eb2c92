//! Jobs on other threads while the calling thread does other work, where
//! the platform has threads (native builds); in the browser's worker
//! (wasm32, one thread) the jobs run first, one after another, then the
//! other work.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// How often the calling thread reports the jobs' progress while it waits.
const REPORT_EVERY: Duration = Duration::from_millis(50);

/// Most threads the heap's walk and the pass over the writable memory use
/// by default (one per core up to this).
pub const MAX_THREADS: usize = 8;

/// How many threads to use by default: one per core the platform reports,
/// at most [`MAX_THREADS`]; one without threads (wasm32).
pub fn default_threads() -> usize {
    if cfg!(target_arch = "wasm32") {
        return 1;
    }
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_THREADS)
}

/// Runs `job` on another thread and `here` on this one, and returns both
/// results: [`run_all`] with one job.
pub(crate) fn run_beside<T: Send, R>(
    job: impl FnOnce(&mut dyn FnMut(u64) -> bool) -> T + Send,
    here: impl FnOnce(&dyn Fn() -> u64) -> R,
    waiting: &mut dyn FnMut(u64) -> bool,
) -> (Option<T>, R) {
    let (mut done, r) = run_all(vec![job], here, waiting);
    (done.pop().flatten(), r)
}

/// Runs each of `jobs` on a thread of its own and `here` on this one, and
/// returns their results (the jobs' in their order). Each job reports its
/// progress through the function it is given (a `false` back asks it to
/// stop); `here` is given a function that answers the sum of the jobs'
/// latest figures; while this thread waits for the jobs, `waiting` is
/// called with that sum now and then, and a `false` from it is passed on
/// to every job. Without threads (wasm32), or for the jobs no thread could
/// be started for, the jobs run here first, reporting to `waiting`
/// directly (with the figures of the jobs before them), then `here`. A
/// panic in a job is raised again here. A job's result is `None` only if
/// it could run nowhere, which does not happen.
pub(crate) fn run_all<T: Send, R, J>(
    jobs: Vec<J>,
    here: impl FnOnce(&dyn Fn() -> u64) -> R,
    waiting: &mut dyn FnMut(u64) -> bool,
) -> (Vec<Option<T>>, R)
where
    J: FnOnce(&mut dyn FnMut(u64) -> bool) -> T + Send,
{
    let n = jobs.len();
    // Each job waits here until a thread takes it; those no thread could
    // be started for, this thread takes.
    let jobs: Vec<Mutex<Option<J>>> = jobs.into_iter().map(|j| Mutex::new(Some(j))).collect();
    let take = |k: usize| jobs[k].lock().ok().and_then(|mut j| j.take());
    let done: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    let latest = || done.iter().map(|d| d.load(Ordering::Relaxed)).sum::<u64>();
    // The jobs not taken yet, on this thread, reporting to `waiting`
    // directly.
    let inline = |waiting: &mut dyn FnMut(u64) -> bool, results: &mut Vec<Option<T>>| {
        for (k, slot) in results.iter_mut().enumerate() {
            if let Some(job) = take(k) {
                *slot = Some(job(&mut |d| {
                    done[k].store(d, Ordering::Relaxed);
                    waiting(latest())
                }));
            }
        }
    };
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    if cfg!(target_arch = "wasm32") || n == 0 {
        inline(waiting, &mut results);
        return (results, here(&latest));
    }
    let running = AtomicUsize::new(0);
    let cancel = AtomicBool::new(false);
    let caller = std::thread::current();
    std::thread::scope(|s| {
        let mut handles = Vec::with_capacity(n);
        for k in 0..n {
            running.fetch_add(1, Ordering::AcqRel);
            let (take, done, running, cancel, caller) = (&take, &done, &running, &cancel, &caller);
            let handle = std::thread::Builder::new()
                .name("heaplens-background".into())
                .spawn_scoped(s, move || {
                    let result = take(k).map(|job| {
                        job(&mut |d| {
                            done[k].store(d, Ordering::Relaxed);
                            !cancel.load(Ordering::Relaxed)
                        })
                    });
                    // Told before the thread ends: `JoinHandle::is_finished`
                    // would turn true only after the wake-up was spent.
                    running.fetch_sub(1, Ordering::AcqRel);
                    caller.unpark();
                    result
                });
            match handle {
                Ok(h) => handles.push((k, h)),
                Err(_) => {
                    running.fetch_sub(1, Ordering::AcqRel);
                    break;
                }
            }
        }
        // What no thread took runs here first.
        inline(waiting, &mut results);
        let r = here(&latest);
        // (A panicking job never says it finished.)
        // Once `waiting` says stop, it is not asked again.
        while running.load(Ordering::Acquire) > 0 && !handles.iter().all(|(_, h)| h.is_finished()) {
            if !cancel.load(Ordering::Relaxed) && !waiting(latest()) {
                cancel.store(true, Ordering::Relaxed);
            }
            std::thread::park_timeout(REPORT_EVERY);
        }
        for (k, h) in handles {
            match h.join() {
                Ok(t) => {
                    if t.is_some() {
                        results[k] = t;
                    }
                }
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        (results, r)
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
    fn several_jobs_give_their_results_in_order_and_their_progress_summed() {
        let jobs: Vec<_> = (0..5u64)
            .map(|k| {
                move |progress: &mut dyn FnMut(u64) -> bool| {
                    progress(10 * k);
                    std::thread::sleep(Duration::from_millis(20 * k));
                    k * k
                }
            })
            .collect();
        let mut last = 0;
        let (done, here) = run_all(
            jobs,
            |latest| {
                std::thread::sleep(Duration::from_millis(150));
                latest()
            },
            &mut |d| {
                last = d;
                true
            },
        );
        assert_eq!(done, vec![Some(0), Some(1), Some(4), Some(9), Some(16)]);
        // Every job reported before `here` looked, or after: the sum is
        // at most that of all five, and all of it once they are done.
        assert!(here <= 100);
        assert!(last <= 100);
        let (none, ()) = run_all(
            Vec::<fn(&mut dyn FnMut(u64) -> bool) -> u8>::new(),
            |_| (),
            &mut |_| true,
        );
        assert!(none.is_empty());
    }

    #[test]
    fn default_threads_is_between_one_and_the_cap() {
        assert!((1..=MAX_THREADS).contains(&default_threads()));
    }

    #[test]
    fn a_panic_in_the_job_reaches_the_caller() {
        let r = std::panic::catch_unwind(|| {
            run_beside(|_| -> u32 { panic!("boom") }, |_| (), &mut |_| true)
        });
        assert!(r.is_err());
    }
}
