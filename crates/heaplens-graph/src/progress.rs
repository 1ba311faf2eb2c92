//! Progress reports and cancellation for long work, typed end to end: each
//! report names its [`Phase`] (which says its unit and the words a user
//! reads), and the receiver answers whether to go on.
//!
//! Cancelling: a [`Progress`] returns `Err(Cancelled)` from
//! [`Progress::update`] (what a worker does when its callback learns the
//! user asked to stop), or a caller on another thread sets a
//! [`CancelFlag`] and wraps its progress in [`Cancellable`]. The engine
//! reports in every long phase often enough (bounded work between two
//! reports, well under 100 ms) and stops with a typed `Cancelled` error.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The user asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// What a report's `done` and `total` count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Unit {
    /// Bytes (of a file or of a heap).
    Bytes,
    /// Objects (nodes of the graph).
    Objects,
    /// Nothing is counted: the phase reports that it is alive only
    /// (`total` is 0).
    None,
}

/// A long phase of reading a dump or analysing its heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Unpacking the archive a dump came in (bytes of compressed input).
    Unpacking,
    /// Reading the objects of a `.gcdump` (objects).
    ReadingObjects,
    /// Finding the GC heap in a dump by shape (no unit).
    FindingHeap,
    /// Walking the objects of the heap's segments (bytes of heap).
    ReadingHeap,
    /// Resolving every object's references (objects).
    FollowingReferences,
    /// The shortest path from a root to every object (objects).
    FindingRoots,
    /// PerfView's spanning tree of the heap (objects).
    SpanningTree,
    /// Dominators and retained sizes (objects).
    RetainedSizes,
    /// A flame graph's tree of type paths over the dominator or spanning
    /// tree (objects).
    FlameGraph,
    /// Key retention paths: a type's objects grouped by their path from a
    /// root (objects).
    KeyPaths,
    /// Reading every live string's text for duplicates (objects).
    ReadingStrings,
    /// Measuring collections and arrays for waste (objects, twice: the
    /// collections, then the arrays).
    MeasuringCollections,
}

impl Phase {
    /// Every phase, in the order a read and its analyses meet them.
    pub const ALL: [Phase; 12] = [
        Phase::Unpacking,
        Phase::ReadingObjects,
        Phase::FindingHeap,
        Phase::ReadingHeap,
        Phase::FollowingReferences,
        Phase::FindingRoots,
        Phase::SpanningTree,
        Phase::RetainedSizes,
        Phase::FlameGraph,
        Phase::KeyPaths,
        Phase::ReadingStrings,
        Phase::MeasuringCollections,
    ];

    /// What its reports count.
    pub fn unit(self) -> Unit {
        match self {
            Phase::ReadingHeap | Phase::Unpacking => Unit::Bytes,
            Phase::FindingHeap => Unit::None,
            Phase::ReadingObjects
            | Phase::FollowingReferences
            | Phase::FindingRoots
            | Phase::SpanningTree
            | Phase::RetainedSizes
            | Phase::FlameGraph
            | Phase::KeyPaths
            | Phase::ReadingStrings
            | Phase::MeasuringCollections => Unit::Objects,
        }
    }

    /// What it does, in a user's words ("reading the heap").
    pub fn words(self) -> &'static str {
        match self {
            Phase::Unpacking => "unpacking the archive",
            Phase::ReadingObjects => "reading the objects",
            Phase::FindingHeap => "finding the heap",
            Phase::ReadingHeap => "reading the heap",
            Phase::FollowingReferences => "following references",
            Phase::FindingRoots => "finding roots",
            Phase::SpanningTree => "ordering the heap as PerfView does",
            Phase::RetainedSizes => "computing retained sizes",
            Phase::FlameGraph => "drawing the flame graph",
            Phase::KeyPaths => "grouping retention paths",
            Phase::ReadingStrings => "reading strings",
            Phase::MeasuringCollections => "measuring collections",
        }
    }

    /// A stable identifier (`reading_heap`), for messages and JSON.
    pub fn id(self) -> &'static str {
        match self {
            Phase::Unpacking => "unpacking",
            Phase::ReadingObjects => "reading_objects",
            Phase::FindingHeap => "finding_heap",
            Phase::ReadingHeap => "reading_heap",
            Phase::FollowingReferences => "following_references",
            Phase::FindingRoots => "finding_roots",
            Phase::SpanningTree => "spanning_tree",
            Phase::RetainedSizes => "retained_sizes",
            Phase::FlameGraph => "flame_graph",
            Phase::KeyPaths => "key_paths",
            Phase::ReadingStrings => "reading_strings",
            Phase::MeasuringCollections => "measuring_collections",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.words())
    }
}

/// Receives progress from long work. The work calls [`Progress::update`]
/// now and then (not for every object, but after bounded work);
/// returning `Err(Cancelled)` stops it, and it returns `Cancelled`.
pub trait Progress {
    /// `done` of `total` [`Phase::unit`]s of `phase` are finished.
    fn update(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Cancelled>;
}

/// A [`Progress`] that ignores every report and never cancels.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&mut self, _phase: Phase, _done: u64, _total: u64) -> Result<(), Cancelled> {
        Ok(())
    }
}

impl<F: FnMut(Phase, u64, u64) -> Result<(), Cancelled>> Progress for F {
    fn update(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Cancelled> {
        self(phase, done, total)
    }
}

/// A flag another thread sets to cancel work (cheap to clone: clones share
/// the flag). Native callers hand the work a [`Cancellable`] progress over
/// it; a browser worker, which runs the work on its one thread, has its
/// progress callback return `Cancelled` instead (or reads a flag in shared
/// memory the same way).
#[derive(Debug, Clone, Default)]
pub struct CancelFlag(Arc<AtomicBool>);

impl CancelFlag {
    /// A flag not set.
    pub fn new() -> CancelFlag {
        CancelFlag::default()
    }

    /// Asks the work to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// True once [`CancelFlag::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}

/// A [`Progress`] that passes reports on to `inner` and stops the work
/// once `flag` is set.
pub struct Cancellable<'a> {
    /// Where reports go.
    pub inner: &'a mut dyn Progress,
    /// The flag to honour.
    pub flag: &'a CancelFlag,
}

impl Progress for Cancellable<'_> {
    fn update(&mut self, phase: Phase, done: u64, total: u64) -> Result<(), Cancelled> {
        self.flag.check()?;
        self.inner.update(phase, done, total)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flag_set_elsewhere_cancels() {
        let flag = CancelFlag::new();
        let mut seen = Vec::new();
        let mut inner = |p: Phase, d: u64, _t: u64| {
            seen.push((p, d));
            Ok(())
        };
        let mut p = Cancellable {
            inner: &mut inner,
            flag: &flag,
        };
        assert_eq!(p.update(Phase::ReadingHeap, 1, 2), Ok(()));
        let other = flag.clone();
        std::thread::spawn(move || other.cancel()).join().unwrap();
        assert_eq!(p.update(Phase::ReadingHeap, 2, 2), Err(Cancelled));
        assert_eq!(seen, vec![(Phase::ReadingHeap, 1)]);
    }

    #[test]
    fn every_phase_has_words_and_a_unit() {
        for p in Phase::ALL {
            assert!(!p.words().is_empty() && !p.id().contains(' '));
            assert_eq!(p.to_string(), p.words());
        }
        assert_eq!(Phase::ReadingHeap.unit(), Unit::Bytes);
        assert_eq!(Phase::RetainedSizes.unit(), Unit::Objects);
    }
}
