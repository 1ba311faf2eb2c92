//! Progress reports and cancellation for long reads.

/// The user asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Receives progress from a reader. Readers call [`Progress::update`] now and
/// then (not for every object); returning `Err(Cancelled)` stops the work.
pub trait Progress {
    /// `done` of `total` units of the phase named `phase` are finished
    /// (units are the phase's own: bytes, objects...).
    fn update(&mut self, phase: &str, done: u64, total: u64) -> Result<(), Cancelled>;
}

/// A [`Progress`] that ignores every report and never cancels.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&mut self, _phase: &str, _done: u64, _total: u64) -> Result<(), Cancelled> {
        Ok(())
    }
}

impl<F: FnMut(&str, u64, u64) -> Result<(), Cancelled>> Progress for F {
    fn update(&mut self, phase: &str, done: u64, total: u64) -> Result<(), Cancelled> {
        self(phase, done, total)
    }
}
