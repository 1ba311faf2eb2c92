//! The `diff` document: what changed between two snapshots, type by type
//! (`heaplens diff`; the page's comparison).

use crate::stats::stats_of;
use crate::{format_name, heaplens_version, DocumentKind, TypeId, SCHEMA_VERSION};
use heaplens_analysis::diff::{diff_type_stats, DiffOptions, TypeDelta, TypeDiff};
use heaplens_snapshot::{Snapshot, SnapshotInfo};
use serde::{Deserialize, Serialize};

/// Diffs two snapshots as every view does: the type statistics of each
/// ([`stats_of`]), compared by name under the naming rule
/// ([`DiffOptions::with_naming_rule`]: normalized when the two spell names
/// differently, or when `options` asks).
pub fn diff_snapshots(base: &Snapshot, current: &Snapshot, options: DiffOptions) -> TypeDiff {
    diff_type_stats(
        &stats_of(base),
        &stats_of(current),
        options.with_naming_rule(base.info.capabilities, current.info.capabilities),
    )
}

/// Per-type count and byte changes from a base snapshot to a current one.
/// Types are matched by name (normalized under the naming rule of
/// [`heaplens_analysis::diff::DiffOptions::with_naming_rule`]); deltas are
/// current minus base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Diff`].
    pub document: DocumentKind,
    /// True when both snapshots are whole (see each side's `coverage`).
    pub complete: bool,
    /// The earlier snapshot.
    pub base: DiffSide,
    /// The later snapshot.
    pub current: DiffSide,
    /// Objects, current minus base.
    pub count_delta: i64,
    /// Bytes, current minus base.
    pub bytes_delta: i64,
    /// Types whose count or bytes changed (also those `types` leaves out).
    pub changed_types: u64,
    /// Of them, types absent from the base.
    pub new_types: u64,
    /// Of them, types absent from the current snapshot.
    pub vanished_types: u64,
    /// Types in both with equal count and bytes.
    pub unchanged_types: u64,
    /// True when names were compared normalized.
    pub names_normalized: bool,
    /// The changed types by |`bytes_delta`| descending, then |`count_delta`|
    /// descending, then name (PerfView's Diff order); all, or the first
    /// ones as asked.
    pub types: Vec<DiffRow>,
}

/// One side of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffSide {
    /// The file as it was given.
    pub file: String,
    /// Its format (`gcdump`, `elf-core`, `minidump`).
    pub format: String,
    /// How much of its heap, roots and file the input holds.
    pub coverage: crate::coverage::CoverageFacts,
    /// Objects counted (live objects; scaled for a sampled heap).
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// How a type changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffStatus {
    /// Only in the current snapshot.
    New,
    /// Only in the base snapshot.
    Vanished,
    /// In both, with another count or size.
    Changed,
}

/// The change of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffRow {
    /// The row's place in the diff's full order (0 first), which names it
    /// in this diff.
    pub id: u32,
    /// The type's name (normalized when `names_normalized`).
    pub name: String,
    /// New, vanished or changed.
    pub status: DiffStatus,
    /// Objects, current minus base.
    pub count_delta: i64,
    /// Bytes, current minus base.
    pub bytes_delta: i64,
    /// Objects in the base.
    pub count_base: u64,
    /// Objects in the current snapshot.
    pub count_current: u64,
    /// Bytes in the base.
    pub bytes_base: u64,
    /// Bytes in the current snapshot.
    pub bytes_current: u64,
    /// The base's rows of this name (its `stats` document's ids; none for
    /// a new type).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_type_ids: Vec<TypeId>,
    /// The current snapshot's rows of this name (none for a vanished type).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub current_type_ids: Vec<TypeId>,
}

impl DiffDocument {
    /// The document of `diff` ([`heaplens_analysis::diff`]) between the
    /// snapshots read from `base` and `current` (each: the file as given
    /// and its snapshot's info); `top` keeps the first rows.
    pub fn build(
        base: (&str, &SnapshotInfo),
        current: (&str, &SnapshotInfo),
        diff: &TypeDiff,
        top: Option<usize>,
    ) -> DiffDocument {
        let side = |(file, info): (&str, &SnapshotInfo), (objects, bytes): (u64, u64)| DiffSide {
            file: file.to_owned(),
            format: format_name(info.format),
            coverage: crate::coverage::CoverageFacts::of(&info.coverage),
            objects,
            bytes,
        };
        let shown = top.unwrap_or(usize::MAX);
        DiffDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Diff,
            complete: base.1.coverage.is_complete() && current.1.coverage.is_complete(),
            base: side(base, diff.base),
            current: side(current, diff.current),
            count_delta: diff.count_delta(),
            bytes_delta: diff.bytes_delta(),
            changed_types: diff.types.len() as u64,
            new_types: diff.new_types().count() as u64,
            vanished_types: diff.vanished_types().count() as u64,
            unchanged_types: diff.unchanged as u64,
            names_normalized: diff.names_normalized,
            types: diff
                .types
                .iter()
                .take(shown)
                .enumerate()
                .map(|(i, t)| DiffRow::of(i as u32, t))
                .collect(),
        }
    }
}

impl DiffRow {
    fn of(id: u32, t: &TypeDelta) -> DiffRow {
        let ids = |v: &[u32]| v.iter().map(|&t| TypeId(t)).collect();
        DiffRow {
            id,
            name: t.name.clone(),
            status: if t.is_new() {
                DiffStatus::New
            } else if t.is_vanished() {
                DiffStatus::Vanished
            } else {
                DiffStatus::Changed
            },
            count_delta: t.count_delta(),
            bytes_delta: t.bytes_delta(),
            count_base: t.count_base,
            count_current: t.count_current,
            bytes_base: t.bytes_base,
            bytes_current: t.bytes_current,
            base_type_ids: ids(&t.base_types),
            current_type_ids: ids(&t.current_types),
        }
    }
}
