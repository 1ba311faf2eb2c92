//! Building a [`HeapGraph`].

use crate::columns::{AddressColumn, SizeColumn, TypeColumn};
use crate::graph::{HeapGraph, NodeIndex, Root, RootKind, TypeIndex, TypeInfo, TypeKind};
use crate::starts::PackedStarts;
use std::collections::HashMap;

/// A graph that cannot be built as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// More nodes or edges than `u32` indices can address.
    #[error("too many {what} for one graph ({count}; the limit is {limit})")]
    TooMany {
        /// "nodes" or "edges".
        what: &'static str,
        /// How many there were.
        count: u64,
        /// The most allowed.
        limit: u64,
    },
    /// An index that points at nothing.
    #[error("{what} {index} is out of range (there are {limit})")]
    OutOfRange {
        /// What the index is of.
        what: &'static str,
        /// The index.
        index: u64,
        /// How many there are.
        limit: u64,
    },
}

/// The per-node columns (types, sizes, addresses) of a run of nodes, built
/// apart from a [`GraphBuilder`] — on another thread while the edges are
/// still being worked out — and handed to [`GraphBuilder::add_node_columns`].
#[derive(Debug, Default)]
pub struct NodeColumns {
    types: TypeColumn,
    sizes: SizeColumn,
    addresses: AddressColumn,
    len: usize,
}

impl NodeColumns {
    /// Node `i` has type `types[i]`, size `sizes[i]` and address
    /// `addresses[i]`; the three must be equally long.
    pub fn new(types: &[u32], sizes: &[u64], addresses: &[u64]) -> Result<Self, BuildError> {
        let n = types.len();
        if sizes.len() != n {
            return Err(out_of_range("size of node", sizes.len(), n));
        }
        if addresses.len() != n {
            return Err(out_of_range("address of node", addresses.len(), n));
        }
        let mut c = NodeColumns {
            len: n,
            ..NodeColumns::default()
        };
        extend_columns(
            (&mut c.types, &mut c.sizes, &mut c.addresses),
            types,
            sizes,
            addresses,
        );
        Ok(c)
    }

    /// Room for `n` more nodes.
    pub fn reserve(&mut self, n: usize) {
        self.types.reserve(n);
        self.sizes.reserve(n);
        self.addresses.reserve(n);
    }

    /// Room for `n` more nodes, or an error when the allocator refuses
    /// (a WebAssembly worker at its memory's cap, or a column past
    /// `isize::MAX` bytes) instead of an abort.
    pub fn try_reserve(&mut self, n: usize) -> Result<(), std::collections::TryReserveError> {
        self.types.try_reserve(n)?;
        self.sizes.try_reserve(n)?;
        self.addresses.try_reserve(n)
    }

    /// Nodes that can be pushed without any column growing (except the
    /// rare side tables: sizes of 64 KiB and more, wide address blocks,
    /// the type column's widening past 65,534 types).
    #[inline]
    pub fn spare(&self) -> usize {
        self.types
            .spare()
            .min(self.sizes.spare())
            .min(self.addresses.spare())
    }

    /// Appends a node of type `type_index`, `size` bytes, at `address`.
    #[inline]
    pub fn push(&mut self, type_index: u32, size: u64, address: u64) {
        self.types.push(type_index);
        self.sizes.push(size);
        self.addresses.push(address);
        self.len += 1;
    }

    /// The type of node `i` (`i < len()`).
    #[inline]
    pub fn type_at(&self, i: usize) -> u32 {
        self.types.get(i)
    }

    /// The size of node `i` (`i < len()`).
    #[inline]
    pub fn size_at(&self, i: usize) -> u64 {
        self.sizes.get(i)
    }

    /// The address of node `i` (`i < len()`).
    #[inline]
    pub fn address_at(&self, i: usize) -> u64 {
        self.addresses.get(i)
    }

    /// Appends nodes `range` of `other`, with each type `t` replaced by
    /// `map(t)`: what [`NodeColumns::push`] of each would give, faster.
    pub fn extend_from(
        &mut self,
        other: &NodeColumns,
        range: std::ops::Range<usize>,
        mut map: impl FnMut(u32) -> u32,
    ) {
        let n = range.len();
        self.reserve(n);
        let mut buf = [0u64; 64];
        let mut types = [0u32; 64];
        let mut i = range.start;
        while i < range.end {
            let k = (range.end - i).min(64);
            for j in 0..k {
                buf[j] = other.addresses.get(i + j);
                types[j] = map(other.types.get(i + j));
            }
            self.addresses.extend(&buf[..k]);
            self.types.extend(&types[..k]);
            i += k;
        }
        self.sizes.extend_from(&other.sizes, range);
        self.len += n;
    }

    /// Heap memory the columns take, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.types.memory_bytes() + self.sizes.memory_bytes() + self.addresses.memory_bytes()
    }

    /// How many nodes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Appends equally long runs of types, sizes and addresses to columns.
fn extend_columns(
    (t, s, a): (&mut TypeColumn, &mut SizeColumn, &mut AddressColumn),
    types: &[u32],
    sizes: &[u64],
    addresses: &[u64],
) {
    t.reserve(types.len());
    s.reserve(sizes.len());
    a.reserve(addresses.len());
    t.extend(types);
    s.extend(sizes);
    a.extend(addresses);
}

/// Collects types, nodes (in index order), edges and roots, then checks
/// every index once in [`GraphBuilder::finish`].
#[derive(Debug, Default)]
pub struct GraphBuilder {
    graph: HeapGraph,
    module_ids: HashMap<String, u32>,
    root_name_ids: HashMap<String, u32>,
}

impl GraphBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        let mut b = GraphBuilder::default();
        b.graph.edge_start.push(0);
        b
    }

    /// Reserves room for `nodes` more nodes and `edges` more edges.
    pub fn reserve(&mut self, nodes: usize, edges: usize) {
        let g = &mut self.graph;
        g.node_type.reserve(nodes);
        g.node_size.reserve(nodes);
        g.node_address.reserve(nodes);
        g.edge_start.reserve(nodes);
        g.edges.reserve_exact(edges);
    }

    /// The index of a module name, adding it if new.
    pub fn module(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.module_ids.get(name) {
            return id;
        }
        let id = self.graph.modules.len() as u32;
        self.graph.modules.push(name.to_owned());
        self.module_ids.insert(name.to_owned(), id);
        id
    }

    /// Adds a type and returns its index.
    pub fn add_type(&mut self, info: TypeInfo) -> TypeIndex {
        self.graph.types.push(info);
        (self.graph.types.len() - 1) as TypeIndex
    }

    /// Gives the graph its types' namespaces, base types and interfaces.
    pub fn set_hierarchy(&mut self, h: crate::hierarchy::TypeHierarchy) {
        self.graph.hierarchy = Some(h);
    }

    /// Number of types so far.
    pub fn type_count(&self) -> usize {
        self.graph.types.len()
    }

    /// Changes the kind of a type already added.
    pub fn set_type_kind(&mut self, t: TypeIndex, kind: TypeKind) {
        self.graph.types[t as usize].kind = kind;
    }

    /// Number of nodes so far.
    pub fn node_count(&self) -> usize {
        self.graph.node_type.len()
    }

    /// Adds the next node with its children (indices of nodes added before
    /// or after) and returns its index.
    pub fn add_node(
        &mut self,
        type_index: TypeIndex,
        size: u64,
        address: u64,
        children: impl IntoIterator<Item = NodeIndex>,
    ) -> Result<NodeIndex, BuildError> {
        let g = &mut self.graph;
        let index = g.node_type.len() as u64;
        if index >= u32::MAX as u64 {
            return Err(BuildError::TooMany {
                what: "nodes",
                count: index + 1,
                limit: u32::MAX as u64 - 1,
            });
        }
        let index = index as NodeIndex;
        g.node_type.push(type_index);
        g.node_size.push(size);
        g.node_address.push(address);
        g.edges.extend(children);
        if g.edges.len() as u64 > u32::MAX as u64 {
            return Err(BuildError::TooMany {
                what: "edges",
                count: g.edges.len() as u64,
                limit: u32::MAX as u64,
            });
        }
        let end = g.edges.len() as u32;
        g.edge_start.push(end);
        Ok(index)
    }

    /// Adds nodes in bulk: node `i` (numbered after those added before) has
    /// type `types[i]`, size `sizes[i]`, address `addresses[i]` and the
    /// children `targets[starts[i]..starts[i + 1]]` (`starts` has one more
    /// entry than there are nodes, and starts at 0). When the builder has
    /// no nodes yet, `starts` and `targets` become the graph's edge storage
    /// as they are, without a copy. Returns the index of the first node
    /// added.
    pub fn add_nodes(
        &mut self,
        types: &[u32],
        sizes: &[u64],
        addresses: &[u64],
        starts: Vec<u32>,
        targets: Vec<u32>,
    ) -> Result<NodeIndex, BuildError> {
        let n = types.len();
        if sizes.len() != n {
            return Err(out_of_range("size of node", sizes.len(), n));
        }
        if addresses.len() != n {
            return Err(out_of_range("address of node", addresses.len(), n));
        }
        self.check_edges(n, &starts, &targets)?;
        let g = &mut self.graph;
        extend_columns(
            (&mut g.node_type, &mut g.node_size, &mut g.node_address),
            types,
            sizes,
            addresses,
        );
        Ok(self.append_edges(PackedStarts::from_vec(starts), targets))
    }

    /// Adds the nodes of `nodes` in bulk, as [`GraphBuilder::add_nodes`]
    /// does: node `i` of them has the children
    /// `targets[starts.get(i)..starts.get(i + 1)]`. When the builder has no
    /// nodes yet, the columns and the edge arrays become the graph's as
    /// they are, without a copy.
    pub fn add_node_columns(
        &mut self,
        nodes: NodeColumns,
        starts: PackedStarts,
        targets: Vec<u32>,
    ) -> Result<NodeIndex, BuildError> {
        let n = nodes.len;
        if starts.len() != n + 1 || starts.get(0) != 0 {
            return Err(out_of_range("edge start", starts.len(), n + 1));
        }
        // Packed starts never decrease.
        self.check_counts(n, starts.last(), &targets)?;
        let g = &mut self.graph;
        if g.node_type.len() == 0 {
            g.node_type = nodes.types;
            g.node_size = nodes.sizes;
            g.node_address = nodes.addresses;
        } else {
            g.node_type.reserve(n);
            g.node_size.reserve(n);
            g.node_address.reserve(n);
            for i in 0..n {
                g.node_type.push(nodes.types.get(i));
                g.node_size.push(nodes.sizes.get(i));
                g.node_address.push(nodes.addresses.get(i));
            }
        }
        Ok(self.append_edges(starts, targets))
    }

    /// Checks the CSR arrays of `n` nodes about to be added.
    fn check_edges(&self, n: usize, starts: &[u32], targets: &[u32]) -> Result<(), BuildError> {
        if starts.len() != n + 1 || starts[0] != 0 {
            return Err(out_of_range("edge start", starts.len(), n + 1));
        }
        // All pairs compared without a branch (vectorizes); where one
        // decreases, found after.
        if !starts.windows(2).fold(true, |ok, w| ok & (w[0] <= w[1])) {
            let i = (0..n).find(|&i| starts[i] > starts[i + 1]).unwrap_or(0);
            return Err(out_of_range("edge start", i, n + 1));
        }
        self.check_counts(n, starts[n], targets)
    }

    /// Checks the counts of `n` nodes about to be added whose edge starts
    /// end at `end`.
    fn check_counts(&self, n: usize, end: u32, targets: &[u32]) -> Result<(), BuildError> {
        if end as usize != targets.len() {
            return Err(out_of_range("edge count", end as usize, targets.len()));
        }
        let g = &self.graph;
        let total = g.node_type.len() as u64 + n as u64;
        if total >= u32::MAX as u64 {
            return Err(BuildError::TooMany {
                what: "nodes",
                count: total,
                limit: u32::MAX as u64 - 1,
            });
        }
        let base = g.edges.len() as u64;
        if base + targets.len() as u64 > u32::MAX as u64 {
            return Err(BuildError::TooMany {
                what: "edges",
                count: base + targets.len() as u64,
                limit: u32::MAX as u64,
            });
        }
        Ok(())
    }

    /// Appends checked CSR arrays for the nodes just added; returns the
    /// index of the first of them.
    /// (Into an empty builder they are taken as they are.)
    fn append_edges(&mut self, starts: PackedStarts, targets: Vec<u32>) -> NodeIndex {
        let g = &mut self.graph;
        let first = g.edge_start.len() - 1;
        if g.edge_start.len() == 1 && g.edges.is_empty() {
            g.edge_start = starts;
            g.edges = targets;
        } else {
            // The counts were checked: the sums fit in u32.
            g.edge_start.append_rebased(&starts, g.edges.len() as u32);
            g.edges.extend_from_slice(&targets);
        }
        first as NodeIndex
    }

    /// Sets the pseudo-node the roots hang from.
    pub fn set_root_node(&mut self, node: NodeIndex) {
        self.graph.root_node = Some(node);
    }

    /// Adds a root.
    pub fn add_root(&mut self, object: NodeIndex, kind: RootKind, name: Option<&str>) {
        let name = name.map(|n| {
            if let Some(&id) = self.root_name_ids.get(n) {
                return id;
            }
            let id = self.graph.root_names.len() as u32;
            self.graph.root_names.push(n.to_owned());
            self.root_name_ids.insert(n.to_owned(), id);
            id
        });
        self.graph.roots.push(Root { object, kind, name });
    }

    /// The graph as built so far, for readers that derive more structure
    /// (such as roots) from it before finishing. Indices are not checked yet.
    pub fn partial(&self) -> &HeapGraph {
        &self.graph
    }

    /// Checks every index and returns the graph.
    pub fn finish(self) -> Result<HeapGraph, BuildError> {
        let mut g = self.graph;
        let nodes = g.node_type.len() as u64;
        let types = g.types.len() as u64;
        let out_of_range = |what, index: u64, limit| BuildError::OutOfRange { what, index, limit };
        // Maxima first (they vectorize): the offending index only if one is
        // out of range.
        if let Some(t) = g.node_type.max().filter(|&t| t as u64 >= types) {
            return Err(out_of_range("type index", t as u64, types));
        }
        let max_edge = g.edges.iter().fold(0, |m, &c| m.max(c));
        if !g.edges.is_empty() && max_edge as u64 >= nodes {
            return Err(out_of_range("edge target", max_edge as u64, nodes));
        }
        if let Some(r) = g.roots.iter().find(|r| r.object as u64 >= nodes) {
            return Err(out_of_range("root object", r.object as u64, nodes));
        }
        if let Some(r) = g.root_node.filter(|&r| r as u64 >= nodes) {
            return Err(out_of_range("root node", r as u64, nodes));
        }
        let modules = g.modules.len() as u64;
        if let Some(m) = g
            .types
            .iter()
            .filter_map(|t| t.module)
            .find(|&m| m as u64 >= modules)
        {
            return Err(out_of_range("module index", m as u64, modules));
        }
        g.types.shrink_to_fit();
        g.node_type.shrink_to_fit();
        g.node_size.shrink_to_fit();
        g.node_address.shrink_to_fit();
        g.edge_start.shrink_to_fit();
        g.edges.shrink_to_fit();
        g.roots.shrink_to_fit();
        Ok(g)
    }
}

/// The error of a `what` at `index` outside `0..limit` (or a count that is
/// not `limit`).
fn out_of_range(what: &'static str, index: usize, limit: usize) -> BuildError {
    BuildError::OutOfRange {
        what,
        index: index as u64,
        limit: limit as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(name: &str, kind: TypeKind) -> TypeInfo {
        TypeInfo {
            name: name.into(),
            module: None,
            kind,
            method_table: 0,
        }
    }

    /// Nodes added in bulk give the same graph as nodes added one by one,
    /// before and after other nodes; inconsistent arrays are refused.
    #[test]
    fn bulk_nodes_equal_single_nodes() {
        let types = [0u32, 1, 1, 0];
        let sizes = [24u64, 70_000, 5_000_000_000, 32];
        let addresses = [0x1000u64, 0x1018, 0x1_0000_0000, 0x9_0000_0000];
        let starts = [0u32, 2, 2, 5, 6];
        let targets = vec![1u32, 3, 0, 1, 2, 3];
        // 0: one by one, 1: slices, 2: prebuilt columns, 3: columns
        // appended to one node at a time.
        let build = |bulk: u8, before: bool| {
            let mut b = GraphBuilder::new();
            b.add_type(ty("A", TypeKind::Object));
            b.add_type(ty("B", TypeKind::Object));
            let shift = u32::from(before);
            if before {
                b.add_node(0, 8, 0x10, [1]).unwrap();
            }
            let t: Vec<u32> = targets.iter().map(|x| x + shift).collect();
            if bulk == 1 {
                assert_eq!(
                    b.add_nodes(&types, &sizes, &addresses, starts.to_vec(), t)
                        .unwrap(),
                    shift
                );
            } else if bulk == 2 || bulk == 3 {
                let nodes = if bulk == 2 {
                    NodeColumns::new(&types, &sizes, &addresses).unwrap()
                } else {
                    let mut c = NodeColumns::default();
                    c.reserve(2);
                    for i in 0..4 {
                        c.push(types[i], sizes[i], addresses[i]);
                    }
                    for i in 0..4 {
                        assert_eq!(
                            (c.type_at(i), c.size_at(i), c.address_at(i)),
                            (types[i], sizes[i], addresses[i])
                        );
                    }
                    assert!(c.memory_bytes() >= 4 * 8);
                    c
                };
                assert_eq!(nodes.len(), 4);
                assert_eq!(
                    b.add_node_columns(nodes, starts.iter().copied().collect(), t)
                        .unwrap(),
                    shift
                );
            } else {
                for i in 0..4 {
                    let kids = &t[starts[i] as usize..starts[i + 1] as usize];
                    b.add_node(types[i], sizes[i], addresses[i], kids.iter().copied())
                        .unwrap();
                }
            }
            b.finish().unwrap()
        };
        for (before, bulk) in [false, true]
            .into_iter()
            .flat_map(|b| [(b, 1), (b, 2), (b, 3)])
        {
            let (a, b) = (build(bulk, before), build(0, before));
            assert_eq!(a.node_count(), b.node_count());
            for i in 0..a.node_count() as u32 {
                assert_eq!(a.children(i), b.children(i));
                assert_eq!(a.node_size(i), b.node_size(i));
                assert_eq!(a.node_address(i), b.node_address(i));
                assert_eq!(a.node_type(i), b.node_type(i));
            }
        }
        assert!(NodeColumns::new(&types, &sizes[..3], &addresses).is_err());
        assert!(NodeColumns::new(&types, &sizes, &addresses[..2]).is_err());
        let nodes = NodeColumns::new(&types, &sizes, &addresses).unwrap();
        assert!(GraphBuilder::new()
            .add_node_columns(
                nodes,
                starts[..4].iter().copied().collect(),
                targets.clone()
            )
            .is_err());
        let mut b = GraphBuilder::new();
        assert!(b
            .add_nodes(
                &types,
                &sizes,
                &addresses,
                starts[..4].to_vec(),
                targets.clone()
            )
            .is_err());
        assert!(b
            .add_nodes(
                &types,
                &sizes[..3],
                &addresses,
                starts.to_vec(),
                targets.clone()
            )
            .is_err());
        assert!(b
            .add_nodes(
                &types,
                &sizes,
                &addresses,
                vec![0, 2, 1, 5, 6],
                targets.clone()
            )
            .is_err());
        assert!(b
            .add_nodes(&types, &sizes, &addresses, starts.to_vec(), vec![1])
            .is_err());
        assert_eq!(b.node_count(), 0);
    }

    /// Appending a range of other columns gives what pushing each of its
    /// nodes gives: after a partial block, with large sizes, addresses
    /// that make wide blocks and types renumbered.
    #[test]
    fn extend_from_equals_push() {
        let mut src = NodeColumns::default();
        let mut addr = 0x7f00_0000_0000u64;
        for i in 0..700u64 {
            addr += if i % 97 == 0 {
                1 << 33
            } else {
                24 + 8 * (i % 5)
            };
            let size = if i % 41 == 0 { 70_000 + i } else { 24 + i % 9 };
            src.push((i % 13) as u32, size, if i % 50 == 0 { 0 } else { addr });
        }
        for (prefix, range) in [(0, 0..700), (5, 37..600), (64, 64..128), (3, 699..700)] {
            let start = |c: &mut NodeColumns| {
                for i in 0..prefix {
                    c.push(99, 1 << 20, 0x1000 + 8 * i as u64);
                }
            };
            let (mut a, mut b) = (NodeColumns::default(), NodeColumns::default());
            start(&mut a);
            start(&mut b);
            a.extend_from(&src, range.clone(), |t| t * 7_000);
            for i in range.clone() {
                b.push(src.type_at(i) * 7_000, src.size_at(i), src.address_at(i));
            }
            assert_eq!(a.len(), b.len());
            for i in 0..a.len() {
                assert_eq!(
                    (a.type_at(i), a.size_at(i), a.address_at(i)),
                    (b.type_at(i), b.size_at(i), b.address_at(i)),
                    "{i}"
                );
            }
        }
    }

    #[test]
    fn builds_csr_and_reads_back() {
        let mut b = GraphBuilder::new();
        let root_t = b.add_type(ty("[.NET Roots]", TypeKind::Pseudo));
        let obj_t = b.add_type(ty("Foo", TypeKind::Object));
        let m = b.module("/x/A.dll");
        assert_eq!(b.module("/x/A.dll"), m);
        b.graph.types[obj_t as usize].module = Some(m);
        b.add_node(root_t, 0, 0, [1, 2]).unwrap();
        b.add_node(obj_t, 24, 0x1000, [2, 2]).unwrap();
        b.add_node(obj_t, 5_000_000_000, 0x2000, []).unwrap();
        b.set_root_node(0);
        b.add_root(1, RootKind::Static, Some("Foo.s_instance"));
        b.add_root(2, RootKind::WeakHandle, None);
        let g = b.finish().unwrap();
        assert_eq!(g.node_count(), 3);
        assert_eq!(g.edge_count(), 4);
        assert_eq!(g.children(0), &[1, 2]);
        assert_eq!(g.children(1), &[2, 2]);
        assert!(g.children(2).is_empty());
        assert_eq!(g.node_size(1), 24);
        assert_eq!(g.node_size(2), 5_000_000_000);
        assert_eq!(g.total_size(), 5_000_000_024);
        assert_eq!(g.node_address(2), 0x2000);
        assert_eq!(g.node_kind(0), TypeKind::Pseudo);
        assert_eq!(g.type_module(obj_t), Some("/x/A.dll"));
        assert_eq!(g.root_name(&g.roots()[0]), Some("Foo.s_instance"));
        assert!(!g.roots()[1].kind.keeps_alive());
        assert_eq!(g.root_node(), Some(0));
    }

    #[test]
    fn rejects_dangling_indices() {
        let mut b = GraphBuilder::new();
        let t = b.add_type(ty("T", TypeKind::Object));
        b.add_node(t, 8, 0, [5]).unwrap();
        assert_eq!(
            b.finish().unwrap_err(),
            BuildError::OutOfRange {
                what: "edge target",
                index: 5,
                limit: 1
            }
        );
        let mut b = GraphBuilder::new();
        b.add_node(3, 8, 0, []).unwrap();
        assert!(matches!(
            b.finish(),
            Err(BuildError::OutOfRange {
                what: "type index",
                ..
            })
        ));
    }

    #[test]
    fn memory_per_object_is_about_8_bytes_plus_4_per_edge() {
        let n = 100_000u32;
        let mut b = GraphBuilder::new();
        b.reserve(n as usize, 2 * n as usize);
        let t = b.add_type(ty("T", TypeKind::Object));
        for i in 0..n {
            b.add_node(t, 24, 0x1000 + 24 * i as u64, [(i + 1) % n, (i + 7) % n])
                .unwrap();
        }
        let g = b.finish().unwrap();
        let per_object = (g.memory_bytes() - 8 * n as usize) as f64 / n as f64;
        // Type 2 + size 2 + address 2.14 + first-edge offset 2.0625 bytes
        // per node; edges were subtracted above.
        assert!(
            (8.15..8.4).contains(&per_object),
            "{per_object} bytes per object"
        );
        assert_eq!(g.node_address(n - 1), 0x1000 + 24 * (n - 1) as u64);
        // The edges read back from the packed starts.
        for i in [0, 1, 63, 64, 65, n / 2, n - 1] {
            assert_eq!(g.children(i), &[(i + 1) % n, (i + 7) % n]);
        }
    }

    #[test]
    fn many_types_and_large_sizes_read_back() {
        let mut b = GraphBuilder::new();
        for i in 0..70_000 {
            b.add_type(ty(&format!("T{i}"), TypeKind::Object));
        }
        b.add_node(5, 65_535, 0x10, []).unwrap();
        b.add_node(69_999, 1 << 33, 0x7fff_0000_0000, []).unwrap();
        b.add_node(6, 16, 0, []).unwrap();
        let g = b.finish().unwrap();
        assert_eq!(
            (0..3).map(|n| g.node_type(n)).collect::<Vec<_>>(),
            vec![5, 69_999, 6]
        );
        assert_eq!(
            (0..3).map(|n| g.node_size(n)).collect::<Vec<_>>(),
            vec![65_535, 1 << 33, 16]
        );
        assert_eq!(
            (0..3).map(|n| g.node_address(n)).collect::<Vec<_>>(),
            vec![0x10, 0x7fff_0000_0000, 0]
        );
    }
}
