//! The `counts` document: a heap's objects counted per type without its
//! graph (`heaplens stats --all-objects`; the page when the graph does not
//! fit in its memory).
//!
//! It counts **every** object the heap walk went through — those no root
//! reaches (garbage not yet collected) too — as `dotnet-dump dumpheap
//! -stat` does, and the GC's free space apart: not the reachable objects
//! the `stats` document counts for the same dump. Without the references
//! there are no roots, no reachability, no retained sizes and no
//! findings; `not_read` names them.

use crate::stats::ClrFacts;
use crate::{Address, DocumentKind, DumpHeader, Totals};
use heaplens_snapshot::{HeapCounts, Timestamp};
use serde::{Deserialize, Serialize};

/// Which objects a `counts` document counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Counted {
    /// Every object on the heap, reachable or not (garbage included).
    AllObjects,
}

impl Counted {
    /// In words, for a view's heading.
    pub fn describe(self) -> &'static str {
        match self {
            Counted::AllObjects => {
                "every object on the heap, garbage not yet collected included (as dotnet-dump \
                 dumpheap -stat counts them), not only those a root reaches"
            }
        }
    }
}

/// What a `counts` document does not have, because the references were not
/// read: `references`, `roots`, `reachability`, `retained_sizes`,
/// `root_paths`, `findings`, `object_contents`.
pub const NOT_READ: &[&str] = &[
    "references",
    "roots",
    "reachability",
    "retained_sizes",
    "root_paths",
    "findings",
    "object_contents",
];

/// A heap's objects counted per type without its graph.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CountsDocument {
    /// The file and what the input is ([`DumpHeader`]: `schema_version`
    /// to `process_id`, at the top level).
    #[serde(flatten)]
    pub header: DumpHeader,
    /// When the snapshot was taken (ISO 8601).
    pub dump_time: Option<String>,
    /// The runtime (`.NET 8.0.4`).
    pub runtime: Option<String>,
    /// What the CLR reader learned about the GC heap (`null` for a
    /// `.gcdump`); its finalization figures are 0 (not read).
    pub clr: Option<ClrFacts>,
    /// Coverage and caveats, in words.
    pub notes: Vec<String>,
    /// Which objects the rows count: `all_objects`.
    pub counted: Counted,
    /// What this document has not, the references not being read
    /// ([`NOT_READ`]).
    pub not_read: Vec<String>,
    /// Why the graph was not read, when it was not for the asking (the
    /// page: the memory it needs and what is left); `null` otherwise.
    pub reason: Option<String>,
    /// Objects in the rows (Free aside).
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Rows in all.
    pub type_count: u64,
    /// The GC's free space (not in the rows).
    pub free: Totals,
    /// One row per type (per MethodTable), by bytes, largest first (then
    /// by name, then MethodTable).
    pub types: Vec<CountsRow>,
}

/// One row: all objects of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountsRow {
    /// The type's name exactly as the input stores it.
    pub name: String,
    /// The type's module, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The MethodTable, when the input has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mt: Option<Address>,
    /// Objects.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl CountsDocument {
    /// The document of `counts`, read from `file` of `file_bytes` bytes;
    /// `reason`: why the graph was not read, when not asked.
    pub fn build(
        file: &str,
        file_bytes: u64,
        counts: &HeapCounts,
        reason: Option<String>,
    ) -> CountsDocument {
        let info = &counts.info;
        let mut free = Totals::default();
        let mut types: Vec<CountsRow> = Vec::new();
        for t in &counts.types {
            if t.is_free {
                free.count += t.objects;
                free.bytes += t.bytes;
            } else {
                types.push(CountsRow {
                    name: t.name.clone(),
                    module: t.module.clone(),
                    mt: (t.method_table != 0).then_some(Address(t.method_table)),
                    count: t.objects,
                    bytes: t.bytes,
                });
            }
        }
        types.sort_by(|a, b| {
            b.bytes
                .cmp(&a.bytes)
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.mt.map(|m| m.0).cmp(&b.mt.map(|m| m.0)))
        });
        CountsDocument {
            header: DumpHeader::of(DocumentKind::Counts, file, file_bytes, info),
            dump_time: info.dump_time.and_then(Timestamp::to_iso8601),
            runtime: info.runtime.clone(),
            clr: info.clr.as_ref().map(ClrFacts::of),
            notes: info.notes.clone(),
            counted: Counted::AllObjects,
            not_read: NOT_READ.iter().map(|s| (*s).to_owned()).collect(),
            reason,
            objects: types.iter().map(|r| r.count).sum(),
            bytes: types.iter().map(|r| r.bytes).sum(),
            type_count: types.len() as u64,
            free,
            types,
        }
    }
}
