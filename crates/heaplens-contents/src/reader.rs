//! The seam: what an input that keeps its objects' bytes gives analyses.

use crate::layout::{FieldLayout, TypeLayout};
use heaplens_graph::{HeapGraph, NodeIndex, TypeIndex};
use std::sync::Arc;

/// Why contents could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentsError {
    /// The input holds no object contents (a `.gcdump` records objects,
    /// their sizes and references, never their bytes).
    #[error("{0}")]
    NoContents(String),
    /// No object starts at this address.
    #[error("no object starts at {0:#x}")]
    NoObject(u64),
    /// Node index out of range.
    #[error("no object {0} in the snapshot")]
    NoNode(u32),
    /// The dump does not hold these bytes.
    #[error("the dump does not hold {len} bytes at {address:#x}: {why}")]
    Unreadable {
        /// Where.
        address: u64,
        /// How many bytes were asked for.
        len: u64,
        /// What the dump said.
        why: String,
    },
    /// The type's layout could not be read.
    #[error("the layout of {type_name} could not be read: {why}")]
    Layout {
        /// The type.
        type_name: String,
        /// Why.
        why: String,
    },
    /// The user asked to stop.
    #[error("cancelled")]
    Cancelled,
}

impl From<heaplens_graph::Cancelled> for ContentsError {
    fn from(_: heaplens_graph::Cancelled) -> ContentsError {
        ContentsError::Cancelled
    }
}

/// A method, as a delegate's code pointer leads to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MethodName {
    /// The declaring type's full name.
    pub type_name: String,
    /// The method's name.
    pub method: String,
    /// Its MethodDef token.
    pub token: u32,
    /// The address of the runtime's method descriptor.
    pub method_desc: u64,
    /// How the code pointer was resolved (`precode`, `jitted code`, …).
    pub via: &'static str,
}

impl MethodName {
    /// `Namespace.Type.Method`.
    pub fn full(&self) -> String {
        format!("{}.{}", self.type_name, self.method)
    }
}

/// A static field of a type and where its value is.
#[derive(Debug, Clone, PartialEq)]
pub struct StaticField {
    /// The field (its `offset` is meaningless for a static).
    pub field: FieldLayout,
    /// Where its value is, when known: the value itself for primitives and
    /// enums; for references the slot holding the object; for value types
    /// the slot holding the box.
    pub address: Option<u64>,
    /// A value type stored in a box the slot points at.
    pub boxed: bool,
    /// `[ThreadStatic]`: one per thread, not read.
    pub thread_static: bool,
    /// Why the value is not known, when it is not.
    pub why_unknown: Option<String>,
}

/// Reads object contents: implemented by inputs of process memory (the
/// CLR reader over a dump's bytes) and passed to analyses that need
/// values. Bounded: reads go through the dump's page cache, layouts are
/// computed on first use and kept (a few kilobytes per type).
pub trait ObjectReader {
    /// Size of a pointer in the dumped process (4 or 8).
    fn pointer_size(&self) -> u8;
    /// The snapshot's graph (the objects are its nodes).
    fn graph(&self) -> &HeapGraph;
    /// Reads the dumped process's memory at `address`.
    fn read_memory(&self, address: u64, buf: &mut [u8]) -> Result<(), ContentsError>;
    /// The layout of the instances of graph type `ty`.
    fn layout(&self, ty: TypeIndex) -> Result<Arc<TypeLayout>, ContentsError>;
    /// The method a delegate's code pointer calls (`None` when it cannot
    /// be told).
    fn method_at(&self, code: u64) -> Option<MethodName>;
    /// The static fields of graph type `ty` and where their values are.
    fn static_fields(&self, ty: TypeIndex) -> Result<Vec<StaticField>, ContentsError>;
    /// The object starting at `address`.
    fn node_at(&self, address: u64) -> Option<NodeIndex> {
        node_at_sorted(self.graph(), address)
    }
}

/// The node at `address` in a graph whose nodes are in address order (the
/// graphs of process memory are); `None` when none starts there.
pub fn node_at_sorted(g: &HeapGraph, address: u64) -> Option<NodeIndex> {
    let n = g.node_count();
    let (mut lo, mut hi) = (0usize, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if g.node_address(mid as NodeIndex) < address {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    (lo < n && g.node_address(lo as NodeIndex) == address).then_some(lo as NodeIndex)
}

/// Reads a little-endian unsigned integer of `n` bytes (1 to 8) at `at`
/// of `b`; `None` when `b` is too short.
pub(crate) fn le(b: &[u8], at: usize, n: usize) -> Option<u64> {
    let s = b.get(at..at.checked_add(n)?)?;
    let mut v = [0u8; 8];
    v.get_mut(..n)?.copy_from_slice(s);
    Some(u64::from_le_bytes(v))
}
