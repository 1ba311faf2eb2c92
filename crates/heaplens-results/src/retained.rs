//! The `retained` document: what freeing each type, and the largest
//! objects, would free (`heaplens retained`; the page's retained column).

use crate::coverage::{CoverageFacts, UnreachableAre};
use crate::{heaplens_version, Address, DocumentKind, NodeId, TypeId, SCHEMA_VERSION};
use heaplens_analysis::dominators::{self, Dominators};
use heaplens_analysis::retained::{largest_objects, retained_by_type, RetainedSizes};
use heaplens_analysis::stats::TypeGroups;
use heaplens_graph::{NodeIndex, TypeKind};
use heaplens_snapshot::Snapshot;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Retained sizes from the dominator tree: per type (each object counted
/// once) and the objects that retain the most. Sizes are the graph's, not
/// scaled for a sampled heap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetainedDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Retained`].
    pub document: DocumentKind,
    /// The file as it was given.
    pub file: String,
    /// True when the result is the whole heap's (see `coverage`).
    pub complete: bool,
    /// How much of the heap, its roots and the file the input holds.
    pub coverage: CoverageFacts,
    /// What the objects no root reaches are (`garbage`, or a `.gcdump`'s
    /// `not_reachable_from_roots`).
    pub unreachable_are: UnreachableAre,
    /// Objects the live roots reach (the dominator tree's size).
    pub reachable_objects: u64,
    /// Their bytes.
    pub reachable_bytes: u64,
    /// Objects no live root reaches (free space and pseudo-nodes aside).
    pub unreachable_objects: u64,
    /// Their bytes.
    pub unreachable_bytes: u64,
    /// Types with a reachable object (also those `types` leaves out).
    pub type_count: u64,
    /// Types by retained bytes, largest first (all, or the first ones as
    /// asked).
    pub types: Vec<TypeRetainedRow>,
    /// The objects with the largest retained sizes, largest first.
    pub objects: Vec<RetainedObject>,
}

/// The retained size of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeRetainedRow {
    /// The type's row id in its snapshot (as in the `stats` document).
    pub id: TypeId,
    /// The type's name.
    pub name: String,
    /// Its module, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// Reachable objects of the type.
    pub count: u64,
    /// Their own bytes.
    pub shallow_bytes: u64,
    /// Bytes freed if every object of the type were freed: the retained
    /// sizes of its objects that no other object of the type dominates.
    pub retained_bytes: u64,
    /// Objects not dominated by another object of the type.
    pub top_level: u64,
}

/// An object with a large retained size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetainedObject {
    /// The object.
    pub node: NodeId,
    /// Its address.
    pub address: Address,
    /// Its type's row id.
    pub type_id: TypeId,
    /// Its type's name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its own bytes.
    pub size: u64,
    /// What freeing it would free.
    pub retained_bytes: u64,
    /// What keeps it alive.
    pub dominator: Dominator,
}

/// What keeps an object alive: its immediate dominator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Dominator {
    /// `"root"`: no single object; the object is a root's, or several roots
    /// reach it by separate paths.
    Roots(RootsTag),
    /// The object whose removal would free it.
    Object {
        /// The dominator.
        node: NodeId,
        /// Its address.
        address: Address,
        /// Its type's row id.
        type_id: TypeId,
        /// Its type's name.
        #[serde(rename = "type")]
        type_name: String,
    },
}

/// The string `"root"` of [`Dominator::Roots`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootsTag {
    /// `"root"`.
    Root,
}

/// How much of the result to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetainedLimits {
    /// The first types by retained bytes (`None`: all).
    pub types: Option<usize>,
    /// The largest objects.
    pub objects: usize,
}

impl RetainedDocument {
    /// The document of the dominator tree `dom` of `snapshot`'s graph and
    /// its retained sizes `sizes` (both from [`heaplens_analysis`]).
    pub fn build(
        file: &str,
        snapshot: &Snapshot,
        dom: &Dominators,
        sizes: &RetainedSizes,
        limits: RetainedLimits,
    ) -> RetainedDocument {
        let g = &snapshot.graph;
        let groups = TypeGroups::of(g);
        let mut types = retained_by_type(g, dom, sizes);
        let type_count = types.len() as u64;
        if let Some(n) = limits.types {
            types.truncate(n);
        }
        let (mut unreachable_objects, mut unreachable_bytes) = (0u64, 0u64);
        for x in 0..g.node_count() as NodeIndex {
            if g.node_kind(x) == TypeKind::Object && !dom.is_reachable(x) {
                unreachable_objects += 1;
                unreachable_bytes += g.node_size(x);
            }
        }
        let type_of = |x: NodeIndex| {
            let t = g.node_type(x);
            (TypeId(groups.id_of(t)), g.type_info(t).name.clone())
        };
        let objects = largest_objects(dom, sizes, limits.objects)
            .into_iter()
            .map(|(x, retained_bytes)| {
                let (type_id, type_name) = type_of(x);
                RetainedObject {
                    node: NodeId(x),
                    address: Address(g.node_address(x)),
                    type_id,
                    type_name,
                    size: g.node_size(x),
                    retained_bytes,
                    dominator: match dom.idom(x) {
                        Some(dominators::Dominator::Node(d)) => {
                            let (type_id, type_name) = type_of(d);
                            Dominator::Object {
                                node: NodeId(d),
                                address: Address(g.node_address(d)),
                                type_id,
                                type_name,
                            }
                        }
                        _ => Dominator::Roots(RootsTag::Root),
                    },
                }
            })
            .collect();
        RetainedDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Retained,
            file: file.to_owned(),
            complete: snapshot.info.coverage.is_complete(),
            coverage: CoverageFacts::of(&snapshot.info.coverage),
            unreachable_are: UnreachableAre::of(snapshot.info.capabilities),
            reachable_objects: dom.reachable_count() as u64,
            reachable_bytes: sizes.reachable_bytes(),
            unreachable_objects,
            unreachable_bytes,
            type_count,
            types: types
                .into_iter()
                .map(|t| TypeRetainedRow {
                    id: TypeId(t.id),
                    name: t.name,
                    module: t.module,
                    count: t.count,
                    shallow_bytes: t.shallow_bytes,
                    retained_bytes: t.retained_bytes,
                    top_level: t.top_level,
                })
                .collect(),
            objects,
        }
    }

    /// The retained bytes of each type in `types`, by row id (a type with
    /// no reachable object has none).
    pub fn retained_by_id(&self) -> HashMap<TypeId, u64> {
        self.types
            .iter()
            .map(|t| (t.id, t.retained_bytes))
            .collect()
    }
}
