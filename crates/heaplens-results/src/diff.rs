//! The `diff` document: what changed between two snapshots, type by type
//! (`heaplens diff`; the page's comparison).

use crate::groups::DiffGroupTable;
use crate::stats::{stats_of, StatsDocument};
use crate::{format_name, heaplens_version, DocumentKind, TypeId, SCHEMA_VERSION};
use heaplens_analysis::diff::{diff_type_stats, DiffOptions, DiffOrder, TypeDelta, TypeDiff};
use heaplens_analysis::flame::Flame;
use heaplens_analysis::stats::{TypeGroups, TypeRow, TypeStats};
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

/// Gives the types of `diff` (of `base` and `current`, as
/// [`diff_snapshots`] made it) their retained bytes on both sides, from
/// each snapshot's flame graph by retained size
/// ([`crate::flame::flame_of`]): per type name, the bytes freed if every
/// object of the name's rows were freed (each object once). Types whose
/// count and bytes did not change but whose retained bytes did join the
/// changed ones; sort after ([`TypeDiff::sort`]).
pub fn add_retained(diff: &mut TypeDiff, base: (&Snapshot, &Flame), current: (&Snapshot, &Flame)) {
    let n = diff.all_types().count();
    let side = |(snap, flame): (&Snapshot, &Flame), rows: &dyn Fn(&TypeDelta) -> &[u32]| {
        let groups = TypeGroups::of(&snap.graph);
        let mut sets: Vec<Vec<u32>> = vec![Vec::new(); groups.first.len()];
        for (i, d) in diff.all_types().enumerate() {
            for &id in rows(d) {
                sets[groups.group[id as usize]].push(i as u32);
            }
        }
        flame
            .tree
            .inclusive_by_sets(n, |k| sets.get(k as usize).map_or(&[], Vec::as_slice))
            .into_iter()
            .map(|(v, _)| v.round() as u64)
            .collect::<Vec<u64>>()
    };
    let b = side(base, &|d| &d.base_types);
    let c = side(current, &|d| &d.current_types);
    diff.set_retained(&b, &c);
}

/// One snapshot's retained bytes per type name, as a diff matches its
/// rows: the rows of each name (each normalized name, in `normalized`)
/// together, each object once — what [`add_retained`] gives a diff's types
/// on this side. A snapshot read apart (the web page's worker) sends it
/// with its `stats` document, so [`diff_documents_retained`] orders a
/// comparison by retained growth without the two heap graphs in one place.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetainedByName {
    /// Per name as the rows spell it.
    pub names: Vec<(String, u64)>,
    /// Per normalized name ([`heaplens_analysis::diff::normalize_type_name`]).
    pub normalized: Vec<(String, u64)>,
}

impl RetainedByName {
    /// Of `snapshot` (its type rows `stats`, as [`stats_of`] counts them),
    /// from its flame graph by retained size.
    pub fn of(snapshot: &Snapshot, stats: &TypeStats, flame: &Flame) -> RetainedByName {
        let groups = TypeGroups::of(&snapshot.graph);
        let by = |key: &dyn Fn(&str) -> String| {
            let mut names: Vec<String> = Vec::new();
            let mut at: std::collections::HashMap<String, u32> = Default::default();
            let mut sets: Vec<Vec<u32>> = vec![Vec::new(); groups.first.len()];
            for r in &stats.rows {
                let k = key(&r.name);
                let i = *at.entry(k.clone()).or_insert_with(|| {
                    names.push(k);
                    names.len() as u32 - 1
                });
                sets[groups.group[r.id as usize]].push(i);
            }
            let sums = flame.tree.inclusive_by_sets(names.len(), |k| {
                sets.get(k as usize).map_or(&[], Vec::as_slice)
            });
            names
                .into_iter()
                .zip(sums)
                .map(|(n, (v, _))| (n, v.round() as u64))
                .collect()
        };
        RetainedByName {
            names: by(&|n| n.to_owned()),
            normalized: by(&heaplens_analysis::diff::normalize_type_name),
        }
    }
}

/// [`diff_documents`] with each side's retained bytes per name: every type
/// gets its retained bytes on both sides and the types are ordered by
/// retained growth — the document `heaplens diff --by retained --json`
/// writes for the same files.
pub fn diff_documents_retained(
    base: (&StatsDocument, &RetainedByName),
    current: (&StatsDocument, &RetainedByName),
    options: DiffOptions,
    top: Option<usize>,
) -> Result<DiffDocument, DiffInputError> {
    let (mut diff, sides) = type_diff_of_documents(base.0, current.0, options)?;
    let normalized = diff.names_normalized;
    let side = |r: &RetainedByName, rows: &dyn Fn(&TypeDelta) -> &[u32]| {
        let map: std::collections::HashMap<&str, u64> =
            if normalized { &r.normalized } else { &r.names }
                .iter()
                .map(|(n, v)| (n.as_str(), *v))
                .collect();
        diff.all_types()
            .map(|d| {
                if rows(d).is_empty() {
                    0
                } else {
                    map.get(d.name.as_str()).copied().unwrap_or(0)
                }
            })
            .collect::<Vec<u64>>()
    };
    let b = side(base.1, &|d| &d.base_types);
    let c = side(current.1, &|d| &d.current_types);
    diff.set_retained(&b, &c);
    diff.sort(DiffOrder::RetainedGrowth);
    let mut doc = DiffDocument::of_sides(sides.0, sides.1, &diff, top);
    doc.sorted_by = DiffSort::RetainedGrowth;
    doc.retained = true;
    Ok(doc)
}

/// How a diff's types are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffSort {
    /// |`bytes_delta`| descending (PerfView's Diff order).
    #[default]
    Bytes,
    /// |`count_delta`| descending.
    Count,
    /// `retained_delta` descending: growth first (then current retained
    /// bytes, so a holder comes before what it holds).
    RetainedGrowth,
}

impl DiffSort {
    /// The analysis's order.
    pub fn order(self) -> DiffOrder {
        match self {
            DiffSort::Bytes => DiffOrder::Bytes,
            DiffSort::Count => DiffOrder::Count,
            DiffSort::RetainedGrowth => DiffOrder::RetainedGrowth,
        }
    }
}

/// Why two `stats` documents cannot be compared.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffInputError {
    /// The document lists only some of its rows (written with `--top` or
    /// `--filter`): a diff needs them all.
    #[error(
        "the statistics of {file} list {listed} of its {all} types: a comparison needs them all"
    )]
    NotAllRows {
        /// The document's file.
        file: String,
        /// Rows in the document.
        listed: usize,
        /// Rows of the snapshot.
        all: u64,
    },
    /// The document names a format this heaplens does not know.
    #[error("the statistics of {file} are of an unknown format {format:?}")]
    UnknownFormat {
        /// The document's file.
        file: String,
        /// Its `format`.
        format: String,
    },
}

/// Diffs two snapshots from their `stats` documents (each with every row,
/// as [`StatsDocument::build_all`] writes it): the same document as
/// [`diff_snapshots`] and [`DiffDocument::build`] give from the snapshots
/// themselves — the rows are the snapshots' statistics, and the naming rule
/// takes each side's format's capabilities. So two dumps opened apart (the
/// web page reads each in a worker of its own) compare without their heap
/// graphs in one place.
pub fn diff_documents(
    base: &StatsDocument,
    current: &StatsDocument,
    options: DiffOptions,
    top: Option<usize>,
) -> Result<DiffDocument, DiffInputError> {
    let (diff, sides) = type_diff_of_documents(base, current, options)?;
    Ok(DiffDocument::of_sides(sides.0, sides.1, &diff, top))
}

/// A diff side's file, format name and coverage.
type SideFacts = (String, String, crate::coverage::CoverageFacts);

/// The engine's diff of two `stats` documents and each side's facts.
fn type_diff_of_documents(
    base: &StatsDocument,
    current: &StatsDocument,
    options: DiffOptions,
) -> Result<(TypeDiff, (SideFacts, SideFacts)), DiffInputError> {
    let capabilities = |doc: &StatsDocument| {
        heaplens_snapshot::format::by_name(&doc.header.format)
            .map(|f| f.capabilities)
            .ok_or_else(|| DiffInputError::UnknownFormat {
                file: doc.header.file.clone(),
                format: doc.header.format.clone(),
            })
    };
    let options = options.with_naming_rule(capabilities(base)?, capabilities(current)?);
    let diff = diff_type_stats(&type_stats_of(base)?, &type_stats_of(current)?, options);
    let side = |d: &StatsDocument| {
        (
            d.header.file.clone(),
            d.header.format.clone(),
            d.header.coverage.clone(),
        )
    };
    Ok((diff, (side(base), side(current))))
}

/// The type statistics a `stats` document was written from (it must hold
/// every row).
fn type_stats_of(doc: &StatsDocument) -> Result<TypeStats, DiffInputError> {
    if doc.types.len() as u64 != doc.type_count {
        return Err(DiffInputError::NotAllRows {
            file: doc.header.file.clone(),
            listed: doc.types.len(),
            all: doc.type_count,
        });
    }
    Ok(TypeStats {
        rows: doc
            .types
            .iter()
            .map(|r| TypeRow {
                id: r.id.0,
                name: r.name.clone(),
                module: r.module.clone(),
                method_table: r.mt.map_or(0, |a| a.0),
                count: r.count,
                bytes: r.bytes,
                present: r.present,
            })
            .collect(),
        objects: doc.objects,
        bytes: doc.bytes,
        free: heaplens_analysis::stats::Totals {
            count: doc.free.count,
            bytes: doc.free.bytes,
        },
        unreachable: doc.unreachable.map(|t| heaplens_analysis::stats::Totals {
            count: t.count,
            bytes: t.bytes,
        }),
        pseudo_nodes: doc.pseudo_nodes,
        undefined_nodes: doc.undefined_nodes,
        scaled: doc.scaled,
    })
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
    /// descending, then name (PerfView's Diff order), or as `sorted_by`
    /// says; all, or the first ones as asked.
    pub types: Vec<DiffRow>,
    /// The order of `types`.
    #[serde(default)]
    pub sorted_by: DiffSort,
    /// True when retained sizes were computed (each row then has
    /// `retained_base` and `retained_current`; a type whose retained bytes
    /// changed counts as changed).
    #[serde(default)]
    pub retained: bool,
    /// The types grouped, when asked (`--group`).
    #[serde(default)]
    pub groups: Option<DiffGroupTable>,
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
    /// Retained bytes in the base, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_base: Option<u64>,
    /// Retained bytes in the current snapshot, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_current: Option<u64>,
    /// Retained bytes, current minus base, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_delta: Option<i64>,
}

impl DiffRow {
    /// The retained growth in percent of the base's retained bytes (`None`
    /// when not computed, or when the base retains nothing: a new type).
    pub fn retained_delta_percent(&self) -> Option<f64> {
        let base = self.retained_base.filter(|&b| b > 0)?;
        Some(self.retained_delta? as f64 * 100.0 / base as f64)
    }
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
        let side = |(file, info): (&str, &SnapshotInfo)| {
            (
                file.to_owned(),
                format_name(info.format),
                crate::coverage::CoverageFacts::of(&info.coverage),
            )
        };
        Self::of_sides(side(base), side(current), diff, top)
    }

    /// [`DiffDocument::build`] from each side's file, format name and
    /// coverage.
    fn of_sides(
        base: (String, String, crate::coverage::CoverageFacts),
        current: (String, String, crate::coverage::CoverageFacts),
        diff: &TypeDiff,
        top: Option<usize>,
    ) -> DiffDocument {
        let complete = base.2.complete && current.2.complete;
        let side = |(file, format, coverage): (String, String, crate::coverage::CoverageFacts),
                    (objects, bytes): (u64, u64)| DiffSide {
            file,
            format,
            coverage,
            objects,
            bytes,
        };
        let shown = top.unwrap_or(usize::MAX);
        DiffDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Diff,
            complete,
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
            sorted_by: DiffSort::Bytes,
            retained: diff.types.iter().any(|t| t.retained_base.is_some()),
            groups: None,
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
            retained_base: t.retained_base,
            retained_current: t.retained_current,
            retained_delta: t.retained_delta(),
        }
    }
}
