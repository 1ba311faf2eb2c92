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
//!   "referred-from" tree of a type; [`keypaths`]: a type's objects
//!   grouped by the path of types that keeps them alive;
//! * [`diff`]: per-type count and byte deltas between two snapshots;
//! * [`frames`]: objects aggregated by path of types over a tree of them;
//!   [`flame`]: the flame graphs of the heap by retained size (dominator
//!   tree) and by PerfView's inclusive size (spanning tree), and their
//!   diff;
//! * [`groups`]: types grouped by namespace, assembly, interface or base
//!   type; [`folds`]: types folded into their referrers (PerfView's
//!   FoldPats);
//! * [`objects`]: an object's referrers and chain of dominators, a type's
//!   instances sorted and paged;
//! * [`strings`] and [`waste`]: duplicate strings and wasted collections,
//!   read through the object contents a dump keeps
//!   ([`heaplens_contents::ObjectReader`], passed in explicitly);
//! * [`budget`]: what an analysis needs in memory, from the object and
//!   reference counts, checked against a cap before it runs;
//! * [`perfview`]: PerfView's own view of a heap (spanning tree, frame
//!   names, grouping and folding, RefTree, By Name, Diff), number for
//!   number.

mod blocks;
pub mod budget;
pub mod diff;
pub mod dominators;
pub mod flame;
pub mod folds;
pub mod format;
pub mod frames;
pub mod groups;
pub mod keypaths;
pub mod objects;
pub mod paths;
pub mod perfview;
pub mod reach;
pub mod retained;
pub mod stats;
pub mod strings;
pub mod waste;
