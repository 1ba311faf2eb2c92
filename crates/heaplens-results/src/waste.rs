//! The `waste` document: wasted collections (`heaplens waste`; the page's
//! waste view) — Eclipse MAT's component report: empty collections, fill
//! ratios, arrays of zeros or nulls, the bytes their unused slots take and
//! the types holding them. Carries no values (counts and sizes only).

use crate::coverage::CoverageFacts;
use crate::object::ObjectRef;
use crate::{heaplens_version, DocumentKind, TypeId, SCHEMA_VERSION};
use heaplens_analysis::stats::TypeGroups;
use heaplens_analysis::waste::WasteReport;
use heaplens_snapshot::Snapshot;
use serde::{Deserialize, Serialize};

/// The collections of one type.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WasteTypeRow {
    /// The type's row id.
    pub type_id: TypeId,
    /// Its name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// `list`, `dictionary`, `hash_set`, `concurrent_dictionary`, `queue`,
    /// `stack` or `array`.
    pub kind: String,
    /// Live objects examined.
    pub objects: u64,
    /// Empty ones (not arrays).
    pub empty: u64,
    /// Their own bytes.
    pub empty_bytes: u64,
    /// Elements held in all.
    pub count: u64,
    /// Slots in all.
    pub capacity: u64,
    /// `count ÷ capacity`.
    pub fill_ratio: f64,
    /// Bytes of unused slots (and arrays of zeros or nulls).
    pub wasted_bytes: u64,
    /// Arrays of nothing but zeros or nulls.
    pub all_zero: u64,
}

/// One wasteful collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WasteObject {
    /// The collection.
    pub object: ObjectRef,
    /// Its kind.
    pub kind: String,
    /// Elements held.
    pub count: u64,
    /// Slots.
    pub capacity: u64,
    /// `count ÷ capacity`.
    pub fill_ratio: f64,
    /// Bytes of its unused slots.
    pub wasted_bytes: u64,
    /// An array of nothing but zeros or nulls.
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub all_zero: bool,
    /// The first object referring to it (`null`: only roots do).
    pub holder: Option<ObjectRef>,
}

/// A type holding wasteful collections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WasteHolder {
    /// Its row id.
    pub type_id: TypeId,
    /// Its name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Wasteful or empty collections its objects hold.
    pub collections: u64,
    /// Their wasted bytes.
    pub wasted_bytes: u64,
}

/// Wasted collections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WasteDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Waste`].
    pub document: DocumentKind,
    /// The file as it was given.
    pub file: String,
    /// True when the snapshot is the whole heap's.
    pub complete: bool,
    /// How much of the heap the input holds.
    pub coverage: CoverageFacts,
    /// Always false: counts and sizes, no values.
    pub values: bool,
    /// Live collections and arrays examined.
    pub examined: u64,
    /// Bytes of unused slots and arrays of zeros, in all.
    pub wasted_bytes: u64,
    /// Empty collections.
    pub empty: u64,
    /// Per type, most wasted (and empty) bytes first.
    pub types: Vec<WasteTypeRow>,
    /// The collections wasting the most.
    pub top: Vec<WasteObject>,
    /// The types holding wasteful collections, most wasted bytes first
    /// (a collection's holder: the first object referring to it).
    pub holders: Vec<WasteHolder>,
    /// Collections whose contents could not be read.
    pub unreadable: u64,
    /// How wasted bytes are counted, in words.
    pub notes: Vec<String>,
}

impl WasteDocument {
    /// The document of `report` ([`heaplens_analysis::waste::collection_waste`]).
    pub fn build(file: &str, snapshot: &Snapshot, report: &WasteReport) -> WasteDocument {
        let g = &snapshot.graph;
        let groups = TypeGroups::of(g);
        let name = |t: u32| g.type_info(t).name.clone();
        WasteDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Waste,
            file: file.to_owned(),
            complete: snapshot.info.coverage.is_complete(),
            coverage: CoverageFacts::of(&snapshot.info.coverage),
            values: false,
            examined: report.examined,
            wasted_bytes: report.wasted_bytes,
            empty: report.empty,
            types: report
                .types
                .iter()
                .map(|w| WasteTypeRow {
                    type_id: TypeId(groups.id_of(w.type_index)),
                    type_name: name(w.type_index),
                    kind: w.kind.as_str().into(),
                    objects: w.objects,
                    empty: w.empty,
                    empty_bytes: w.empty_bytes,
                    count: w.count,
                    capacity: w.capacity,
                    fill_ratio: w.fill_ratio(),
                    wasted_bytes: w.wasted_bytes,
                    all_zero: w.all_zero,
                })
                .collect(),
            top: report
                .top
                .iter()
                .map(|(f, h)| WasteObject {
                    object: ObjectRef::of(g, &groups, f.node),
                    kind: f.kind.as_str().into(),
                    count: f.count,
                    capacity: f.capacity,
                    fill_ratio: f.fill_ratio(),
                    wasted_bytes: f.wasted_bytes,
                    all_zero: f.all_zero,
                    holder: h.map(|h| ObjectRef::of(g, &groups, h)),
                })
                .collect(),
            holders: report
                .holders
                .iter()
                .map(|h| WasteHolder {
                    type_id: TypeId(groups.id_of(h.type_index)),
                    type_name: name(h.type_index),
                    collections: h.collections,
                    wasted_bytes: h.wasted_bytes,
                })
                .collect(),
            unreadable: report.unreadable,
            notes: vec![
                "wasted bytes: a collection's unused slots times the bytes of a slot of its \
                 storage (a hash table's buckets included); an array of nothing but zeros or \
                 nulls wastes all its elements' bytes; arrays that are a collection's storage \
                 count with the collection"
                    .into(),
            ],
        }
    }
}
