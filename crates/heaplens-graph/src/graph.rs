//! The immutable heap graph.

use crate::columns::{AddressColumn, SizeColumn, TypeColumn};
use crate::hierarchy::TypeHierarchy;
use crate::starts::PackedStarts;

/// Index of a node (object or pseudo-node) in a [`HeapGraph`].
pub type NodeIndex = u32;
/// Index of a type in a [`HeapGraph`].
pub type TypeIndex = u32;

/// What a type's nodes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeKind {
    /// Ordinary heap objects (also native memory a producer accounts as
    /// objects, such as PerfView's CCW/RCW nodes).
    Object,
    /// Free space between objects (the CLR's `Free` pseudo-objects).
    Free,
    /// Structure added by the producer: the root node and root categories
    /// such as `[static vars]`. Size 0, no address.
    Pseudo,
    /// Nodes that were referenced but never defined (a `.gcdump`'s type 0).
    Undefined,
}

/// A type of the heap graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeInfo {
    /// Display name, exactly as the input gives it.
    pub name: String,
    /// Index into [`HeapGraph::modules`], when the module is known.
    pub module: Option<u32>,
    /// What the type's nodes are.
    pub kind: TypeKind,
    /// The runtime's MethodTable address, or 0 when the input has none.
    pub method_table: u64,
}

/// How a root keeps its object alive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RootKind {
    /// A static field.
    Static,
    /// A thread-static field.
    ThreadStatic,
    /// A reference from a thread's stack or registers.
    Stack,
    /// A strong GC handle.
    StrongHandle,
    /// A pinned GC handle.
    PinnedHandle,
    /// An async-pinned GC handle (overlapped I/O buffers).
    AsyncPinnedHandle,
    /// A ref-counted handle (COM interop) with a non-zero count.
    RefCountedHandle,
    /// The value of a dependent handle whose key is alive.
    DependentHandle,
    /// A sized-ref handle.
    SizedRefHandle,
    /// A weak handle; it does **not** keep its object alive.
    WeakHandle,
    /// An object waiting for its finalizer.
    Finalizer,
    /// A COM/WinRT wrapper.
    ComInterop,
    /// An object on the frozen (NonGC) heap: string literals and the like,
    /// never collected.
    Frozen,
    /// Any other or unknown root.
    Other,
}

impl RootKind {
    /// True for every kind but [`RootKind::WeakHandle`].
    pub fn keeps_alive(self) -> bool {
        self != RootKind::WeakHandle
    }

    /// A short stable name, used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            RootKind::Static => "static",
            RootKind::ThreadStatic => "thread_static",
            RootKind::Stack => "stack",
            RootKind::StrongHandle => "strong_handle",
            RootKind::PinnedHandle => "pinned_handle",
            RootKind::AsyncPinnedHandle => "async_pinned_handle",
            RootKind::RefCountedHandle => "ref_counted_handle",
            RootKind::DependentHandle => "dependent_handle",
            RootKind::SizedRefHandle => "sized_ref_handle",
            RootKind::WeakHandle => "weak_handle",
            RootKind::Finalizer => "finalizer",
            RootKind::ComInterop => "com_interop",
            RootKind::Frozen => "frozen",
            RootKind::Other => "other",
        }
    }
}

/// A GC root: an object kept alive by something outside the heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Root {
    /// The object held.
    pub object: NodeIndex,
    /// How it is held.
    pub kind: RootKind,
    /// Index of the root's name (see [`HeapGraph::root_name`]), if known.
    pub name: Option<u32>,
}

/// Types, nodes, edges and roots of one heap snapshot. Built with
/// [`crate::GraphBuilder`]; immutable afterwards.
#[derive(Debug, Clone, Default)]
pub struct HeapGraph {
    pub(crate) types: Vec<TypeInfo>,
    pub(crate) modules: Vec<String>,
    pub(crate) node_type: TypeColumn,
    pub(crate) node_size: SizeColumn,
    pub(crate) node_address: AddressColumn,
    pub(crate) edge_start: PackedStarts,
    pub(crate) edges: Vec<NodeIndex>,
    pub(crate) root_node: Option<NodeIndex>,
    pub(crate) roots: Vec<Root>,
    pub(crate) root_names: Vec<String>,
    pub(crate) hierarchy: Option<TypeHierarchy>,
}

impl HeapGraph {
    /// Number of nodes (objects and pseudo-nodes).
    pub fn node_count(&self) -> usize {
        self.node_type.len()
    }

    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.edges.len()
    }

    /// The type table.
    pub fn types(&self) -> &[TypeInfo] {
        &self.types
    }

    /// One type.
    pub fn type_info(&self, t: TypeIndex) -> &TypeInfo {
        &self.types[t as usize]
    }

    /// Module names (file paths where known).
    pub fn modules(&self) -> &[String] {
        &self.modules
    }

    /// The module name of a type, if known.
    pub fn type_module(&self, t: TypeIndex) -> Option<&str> {
        self.types[t as usize]
            .module
            .map(|m| self.modules[m as usize].as_str())
    }

    /// The type of a node.
    pub fn node_type(&self, n: NodeIndex) -> TypeIndex {
        self.node_type.get(n as usize)
    }

    /// The kind of a node (its type's kind).
    pub fn node_kind(&self, n: NodeIndex) -> TypeKind {
        self.types[self.node_type.get(n as usize) as usize].kind
    }

    /// The size of a node in bytes.
    pub fn node_size(&self, n: NodeIndex) -> u64 {
        self.node_size.get(n as usize)
    }

    /// Calls `f(node, type, size)` for every node in index order: what a
    /// loop over [`HeapGraph::node_type`] and [`HeapGraph::node_size`]
    /// gives, faster (the columns are read in order).
    pub fn for_each_node(&self, mut f: impl FnMut(NodeIndex, TypeIndex, u64)) {
        fn go<F: FnMut(NodeIndex, TypeIndex, u64)>(
            types: impl Iterator<Item = TypeIndex>,
            sizes: &SizeColumn,
            f: &mut F,
        ) {
            for (i, t) in types.enumerate() {
                f(i as NodeIndex, t, sizes.get(i));
            }
        }
        match &self.node_type {
            TypeColumn::Narrow(v) => go(v.iter().map(|&t| t as TypeIndex), &self.node_size, &mut f),
            TypeColumn::Wide(v) => go(v.iter().copied(), &self.node_size, &mut f),
        }
    }

    /// The address of a node, or 0 when it has none (pseudo-nodes) or the
    /// input does not record it.
    pub fn node_address(&self, n: NodeIndex) -> u64 {
        self.node_address.get(n as usize)
    }

    /// The nodes a node refers to, in the input's order (duplicates kept).
    pub fn children(&self, n: NodeIndex) -> &[NodeIndex] {
        let s = self.edge_start.get(n as usize) as usize;
        let e = self.edge_start.get(n as usize + 1) as usize;
        &self.edges[s..e]
    }

    /// The pseudo-node all roots hang from (PerfView's root), if the input
    /// has one.
    pub fn root_node(&self) -> Option<NodeIndex> {
        self.root_node
    }

    /// The roots.
    pub fn roots(&self) -> &[Root] {
        &self.roots
    }

    /// The name of a root (a static field, a handle kind, a thread...).
    pub fn root_name(&self, root: &Root) -> Option<&str> {
        root.name.map(|i| self.root_names[i as usize].as_str())
    }

    /// The types' namespaces, base types and interfaces, when the input
    /// knows them (see [`TypeHierarchy`]).
    pub fn hierarchy(&self) -> Option<&TypeHierarchy> {
        self.hierarchy.as_ref()
    }

    /// Sum of all node sizes.
    pub fn total_size(&self) -> u64 {
        (0..self.node_count() as NodeIndex)
            .map(|n| self.node_size(n))
            .sum()
    }

    /// Heap memory this graph takes, in bytes (capacity of every array and
    /// string it owns).
    pub fn memory_bytes(&self) -> usize {
        use std::mem::size_of;
        let strings = |v: &[String]| v.iter().map(|s| s.capacity()).sum::<usize>();
        self.types.capacity() * size_of::<TypeInfo>()
            + self.types.iter().map(|t| t.name.capacity()).sum::<usize>()
            + self.modules.capacity() * size_of::<String>()
            + strings(&self.modules)
            + self.node_type.memory_bytes()
            + self.node_size.memory_bytes()
            + self.node_address.memory_bytes()
            + self.edge_start.memory_bytes()
            + self.edges.capacity() * 4
            + self.roots.capacity() * size_of::<Root>()
            + self.root_names.capacity() * size_of::<String>()
            + strings(&self.root_names)
            + self
                .hierarchy
                .as_ref()
                .map_or(0, TypeHierarchy::memory_bytes)
    }
}
