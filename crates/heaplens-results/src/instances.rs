//! The `instances` document: the objects of a type, sorted and paged
//! (`heaplens instances`; the page's "instances" of a type, each opening
//! the inspector), and the type's static fields.

use crate::coverage::CoverageFacts;
use crate::values::{FieldDoc, Values};
use crate::{heaplens_version, Address, DocumentKind, NodeId, TypeId, SCHEMA_VERSION};
use heaplens_analysis::dominators::Dominators;
use heaplens_analysis::objects::{instances, InstanceOrder};
use heaplens_analysis::stats::TypeGroups;
use heaplens_contents::ObjectReader;
use heaplens_graph::{NodeIndex, TypeIndex};
use heaplens_snapshot::Snapshot;
use serde::{Deserialize, Serialize};

/// How the objects are sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstanceSort {
    /// By address.
    Address,
    /// Largest first.
    Size,
    /// Largest retained size first.
    Retained,
}

/// One object of the type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Instance {
    /// The object.
    pub node: NodeId,
    /// Its address.
    pub address: Address,
    /// Its type's row id (one of `type_ids`).
    pub type_id: TypeId,
    /// Its size.
    pub size: u64,
    /// Its retained size (`null` without the dominator tree, or when no
    /// root reaches it).
    pub retained_bytes: Option<u64>,
    /// A live root reaches it (`null` without the dominator tree).
    pub reachable: Option<bool>,
}

/// A static field of the type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StaticFieldDoc {
    /// The field (its `offset` means nothing for a static).
    #[serde(flatten)]
    pub field: FieldDoc,
    /// `[ThreadStatic]`: one value per thread.
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub thread_static: bool,
    /// Why `value` is missing (`null` when it is there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_unknown: Option<String>,
}

/// The objects of a type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstancesDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Instances`].
    pub document: DocumentKind,
    /// The file as it was given.
    pub file: String,
    /// True when the snapshot is the whole heap's.
    pub complete: bool,
    /// How much of the heap the input holds.
    pub coverage: CoverageFacts,
    /// True when `static_fields` carry values.
    pub values: bool,
    /// The type's name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The rows listed (several when rows share the name).
    pub type_ids: Vec<TypeId>,
    /// Objects of the type(s), reachable or not.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
    /// The order.
    pub sort: InstanceSort,
    /// The first object listed.
    pub offset: u64,
    /// Objects asked for.
    pub limit: u64,
    /// The objects from `offset`.
    pub objects: Vec<Instance>,
    /// The type's static fields (inputs with contents; the first row's
    /// type), with their values where known.
    pub static_fields: Vec<StaticFieldDoc>,
    /// Remarks.
    pub notes: Vec<String>,
}

/// What to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InstancesOptions {
    /// Order.
    pub sort: InstanceSort,
    /// First object.
    pub offset: usize,
    /// Objects.
    pub limit: usize,
    /// Write static fields' values.
    pub values: bool,
}

impl InstancesDocument {
    /// The objects of graph types `types` of `snapshot` (retained sizes
    /// from `dom`; static fields through `reader`).
    pub fn build(
        file: &str,
        snapshot: &Snapshot,
        types: &[TypeIndex],
        dom: Option<&Dominators>,
        reader: Option<&dyn ObjectReader>,
        opts: InstancesOptions,
    ) -> InstancesDocument {
        let g = &snapshot.graph;
        let groups = TypeGroups::of(g);
        let sizes = dom.map(|d| heaplens_analysis::retained::retained_sizes(g, d));
        let retained = |n: NodeIndex| sizes.as_ref().map_or(0, |s| s.get(n));
        let order = match opts.sort {
            InstanceSort::Address => InstanceOrder::Address,
            InstanceSort::Size => InstanceOrder::Size,
            InstanceSort::Retained => InstanceOrder::Retained,
        };
        let mut notes = Vec::new();
        if opts.sort == InstanceSort::Retained && dom.is_none() {
            notes.push("no dominator tree: sorted by address".into());
        }
        let (page, total) = instances(
            g,
            types,
            order,
            dom.is_some()
                .then_some(&retained as &dyn Fn(NodeIndex) -> u64),
            opts.offset,
            opts.limit,
        );
        let mut bytes = 0;
        let mut is_type = vec![false; g.types().len()];
        for &t in types {
            if let Some(x) = is_type.get_mut(t as usize) {
                *x = true;
            }
        }
        g.for_each_node(|_, t, s| {
            if is_type[t as usize] {
                bytes += s;
            }
        });
        let mut type_ids: Vec<TypeId> = types.iter().map(|&t| TypeId(groups.id_of(t))).collect();
        type_ids.sort_unstable();
        type_ids.dedup();
        let values = Values::new(g, &groups, opts.values);
        let static_fields = match (reader, types.first()) {
            (Some(r), Some(&t)) => static_docs(r, t, &values, &mut notes),
            _ => Vec::new(),
        };
        InstancesDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Instances,
            file: file.to_owned(),
            complete: snapshot.info.coverage.is_complete(),
            coverage: CoverageFacts::of(&snapshot.info.coverage),
            values: opts.values && !static_fields.is_empty(),
            type_name: types
                .first()
                .map_or_else(String::new, |&t| g.type_info(t).name.clone()),
            type_ids,
            count: total as u64,
            bytes,
            sort: opts.sort,
            offset: opts.offset as u64,
            limit: opts.limit as u64,
            objects: page
                .into_iter()
                .map(|n| Instance {
                    node: NodeId(n),
                    address: Address(g.node_address(n)),
                    type_id: TypeId(groups.id_of(g.node_type(n))),
                    size: g.node_size(n),
                    retained_bytes: dom.filter(|d| d.is_reachable(n)).map(|_| retained(n)),
                    reachable: dom.map(|d| d.is_reachable(n)),
                })
                .collect(),
            static_fields,
            notes,
        }
    }
}

/// The static fields of type `t` with their values.
fn static_docs(
    r: &dyn ObjectReader,
    t: TypeIndex,
    values: &Values<'_>,
    notes: &mut Vec<String>,
) -> Vec<StaticFieldDoc> {
    let statics = match r.static_fields(t) {
        Ok(s) => s,
        Err(e) => {
            notes.push(format!("static fields: {e}"));
            return Vec::new();
        }
    };
    statics
        .into_iter()
        .map(|s| {
            let v = heaplens_contents::inspect::static_value(
                r,
                &s,
                heaplens_contents::value::DecodeOptions::default(),
            );
            StaticFieldDoc {
                field: FieldDoc {
                    name: s.field.name.clone(),
                    declared_in: s.field.declared_in.clone(),
                    type_name: s.field.type_name.clone(),
                    offset: 0,
                    value: values.value(&v),
                },
                thread_static: s.thread_static,
                why_unknown: s.why_unknown.clone(),
            }
        })
        .collect()
}
