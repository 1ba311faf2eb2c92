//! Analyses over the heaplens [`heaplens_graph::HeapGraph`], the same for
//! every input format. In data-flow order:
//!
//! * [`stats`]: per-type count, bytes and share of the heap, like SOS
//!   `!dumpheap -stat`, with sorting, filtering and PerfView's scaling of
//!   sampled heaps;
//! * [`reach`]: which nodes are reachable from the roots;
//! * [`dominators`]: the dominator tree under a virtual root joining every
//!   GC root that keeps its object alive;
//! * [`retained`]: retained sizes per object and per type, the dominator
//!   tree's children, the largest objects;
//! * [`paths`]: shortest paths from the roots and the aggregated
//!   "referred-from" tree of a type;
//! * [`diff`]: per-type count and byte deltas between two snapshots;
//! * [`objects`]: an object's referrers and chain of dominators, a type's
//!   instances sorted and paged;
//! * [`strings`] and [`waste`]: duplicate strings and wasted collections,
//!   read through the object contents a dump keeps
//!   ([`heaplens_contents::ObjectReader`], passed in explicitly);
//! * [`perfview`]: PerfView's own view of a heap (spanning tree, frame
//!   names, grouping and folding, RefTree, By Name, Diff), number for
//!   number.

pub mod diff;
pub mod dominators;
pub mod format;
pub mod objects;
pub mod paths;
pub mod perfview;
pub mod reach;
pub mod retained;
pub mod stats;
pub mod strings;
pub mod waste;
