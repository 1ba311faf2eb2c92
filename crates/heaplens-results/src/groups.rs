//! Group tables of the `stats` and `diff` documents: the type rows grouped
//! by namespace, assembly, implemented interface or base type
//! ([`heaplens_analysis::groups`]), each group with its members' ids, its
//! objects and bytes, and when computed PerfView's inclusive size and the
//! retained size (each object counted once per group); in a diff, before
//! and after.

use crate::TypeId;
use heaplens_analysis::flame::Flame;
use heaplens_analysis::groups::{GroupBy, TypeGrouping, NOT_KNOWN};
use heaplens_analysis::stats::{TypeGroups, TypeStats};
use heaplens_snapshot::Snapshot;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What types are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// Namespace.
    Namespace,
    /// Assembly (module).
    Assembly,
    /// Implemented interface (a type is in each of its interfaces' groups).
    Interface,
    /// Base type but `System.Object` (a type is in each of its bases').
    Base,
}

impl GroupKind {
    /// The analysis's grouping.
    pub fn by(self) -> GroupBy {
        match self {
            GroupKind::Namespace => GroupBy::Namespace,
            GroupKind::Assembly => GroupBy::Assembly,
            GroupKind::Interface => GroupBy::Interface,
            GroupKind::Base => GroupBy::Base,
        }
    }

    /// The name as the JSON and the CLI write it.
    pub fn as_str(self) -> &'static str {
        self.by().as_str()
    }
}

/// One group of a snapshot's types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRow {
    /// The namespace, assembly, interface or base type; or
    /// `[not known: no metadata]`, `[no interface]`, `[System.Object only]`,
    /// `[no namespace]`, `[unknown assembly]`.
    pub name: String,
    /// Its members: rows of the `stats` document (ids), largest first.
    pub type_ids: Vec<TypeId>,
    /// Their objects (as the type rows count them).
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
    /// PerfView's inclusive bytes of the group (objects below any member
    /// in the spanning tree, each once), when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inc: Option<u64>,
    /// Their count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inc_count: Option<u64>,
    /// Bytes freed if every object of the group were freed, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_bytes: Option<u64>,
}

/// A snapshot's types by group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTable {
    /// What the types are grouped by.
    pub by: GroupKind,
    /// True when a type may be in several groups (interfaces, base types):
    /// the groups' totals do not add up to the heap's.
    pub overlapping: bool,
    /// The groups, by retained bytes when computed, else by bytes,
    /// largest first.
    pub rows: Vec<GroupRow>,
    /// What the groups mean where it is not obvious.
    #[serde(default)]
    pub notes: Vec<String>,
}

fn notes(by: GroupKind, snapshots: &[&Snapshot]) -> Vec<String> {
    let mut notes = Vec::new();
    if matches!(by, GroupKind::Interface | GroupKind::Base) {
        notes.push(format!(
            "A type is in the group of each {} it has: groups overlap, and their totals do \
             not add up to the heap's.",
            if by == GroupKind::Interface {
                "interface"
            } else {
                "base type"
            }
        ));
        if snapshots
            .iter()
            .any(|s| !s.info.capabilities.type_hierarchy)
        {
            notes.push(format!(
                "The input does not know its types' interfaces and base types (a .gcdump \
                 holds type names only; a dump whose modules' metadata is missing cannot \
                 know them): those types are in {NOT_KNOWN}, not guessed from names."
            ));
        }
    }
    notes
}

/// Per row of `stats`: its grouping row index.
struct Rows<'a> {
    stats: &'a TypeStats,
    groups: TypeGroups,
}

impl Rows<'_> {
    /// Sums of count and bytes per group, and each group's rows (ids,
    /// largest first).
    fn sums(&self, grouping: &TypeGrouping) -> Vec<(u64, u64, Vec<TypeId>)> {
        let mut out = vec![(0u64, 0u64, Vec::new()); grouping.names.len()];
        for r in &self.stats.rows {
            let gi = self.groups.group[r.id as usize];
            for &k in grouping.sets_of(gi as u32) {
                let e = &mut out[k as usize];
                e.0 += r.count;
                e.1 += r.bytes;
                e.2.push((r.bytes, TypeId(r.id)));
            }
        }
        out.into_iter()
            .map(|(c, b, mut ids)| {
                ids.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
                (c, b, ids.into_iter().map(|(_, id)| id).collect())
            })
            .collect()
    }
}

/// A flame graph's totals per group (`inclusive_by_sets` over its tree).
fn by_group(flame: Option<&Flame>, grouping: &TypeGrouping) -> Option<Vec<(u64, u64)>> {
    flame.map(|f| {
        f.tree
            .inclusive_by_sets(grouping.names.len(), |k| grouping.sets_of(k))
            .into_iter()
            .map(|(v, c)| (v.round() as u64, c.round() as u64))
            .collect()
    })
}

impl GroupTable {
    /// The groups of `snapshot`'s type rows `stats` (all rows, as
    /// [`crate::stats::stats_of`] counts them) by `by`, with PerfView's
    /// inclusive sizes from its `inclusive` flame graph and retained sizes
    /// from its `retained` one, when given.
    pub fn build(
        snapshot: &Snapshot,
        stats: &TypeStats,
        by: GroupKind,
        inclusive: Option<&Flame>,
        retained: Option<&Flame>,
    ) -> GroupTable {
        let g = &snapshot.graph;
        let rows = Rows {
            stats,
            groups: TypeGroups::of(g),
        };
        let grouping = TypeGrouping::of(g, &rows.groups, by.by());
        let sums = rows.sums(&grouping);
        let inc = by_group(inclusive, &grouping);
        let ret = by_group(retained, &grouping);
        let mut out: Vec<GroupRow> = sums
            .into_iter()
            .enumerate()
            .filter(|(_, (count, _, _))| *count > 0)
            .map(|(i, (count, bytes, type_ids))| GroupRow {
                name: grouping.names[i].clone(),
                type_ids,
                count,
                bytes,
                inc: inc.as_ref().map(|v| v[i].0),
                inc_count: inc.as_ref().map(|v| v[i].1),
                retained_bytes: ret.as_ref().map(|v| v[i].0),
            })
            .collect();
        out.sort_by(|a, b| {
            b.retained_bytes
                .cmp(&a.retained_bytes)
                .then(b.bytes.cmp(&a.bytes))
                .then_with(|| a.name.cmp(&b.name))
        });
        GroupTable {
            by,
            overlapping: by.by().overlaps(),
            rows: out,
            notes: notes(by, &[snapshot]),
        }
    }
}

/// One group in a diff: before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffGroupRow {
    /// The group's name (as in [`GroupRow::name`]).
    pub name: String,
    /// Its rows in the base's `stats`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub base_type_ids: Vec<TypeId>,
    /// Its rows in the current snapshot's `stats`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub current_type_ids: Vec<TypeId>,
    /// Objects in the base.
    pub count_base: u64,
    /// Objects in the current snapshot.
    pub count_current: u64,
    /// Bytes in the base.
    pub bytes_base: u64,
    /// Bytes in the current snapshot.
    pub bytes_current: u64,
    /// Objects, current minus base.
    pub count_delta: i64,
    /// Bytes, current minus base.
    pub bytes_delta: i64,
    /// Retained bytes in the base, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_base: Option<u64>,
    /// Retained bytes in the current snapshot, when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_current: Option<u64>,
    /// Retained bytes, current minus base.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_delta: Option<i64>,
}

/// Two snapshots' types by group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiffGroupTable {
    /// What the types are grouped by.
    pub by: GroupKind,
    /// True when a type may be in several groups.
    pub overlapping: bool,
    /// The groups present in either snapshot: by retained growth when
    /// computed, else by |bytes delta|, largest first.
    pub rows: Vec<DiffGroupRow>,
    /// What the groups mean where it is not obvious.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl DiffGroupTable {
    /// The groups of two snapshots (each with its type rows `stats` and,
    /// for retained sizes, its retained flame graph), matched by name.
    pub fn build(
        base: (&Snapshot, &TypeStats, Option<&Flame>),
        current: (&Snapshot, &TypeStats, Option<&Flame>),
        by: GroupKind,
    ) -> DiffGroupTable {
        let side = |(s, stats, retained): (&Snapshot, &TypeStats, Option<&Flame>)| {
            GroupTable::build(s, stats, by, None, retained)
        };
        let mut table = Self::of_tables(&side(base), &side(current));
        table.notes = notes(by, &[base.0, current.0]);
        table
    }

    /// The groups of two snapshots from each one's [`GroupTable`] (of the
    /// same grouping), matched by name: what [`DiffGroupTable::build`]
    /// gives from the snapshots, for two snapshots read apart (the web
    /// page's workers). Retained sizes when both tables have them.
    pub fn of_tables(b: &GroupTable, c: &GroupTable) -> DiffGroupTable {
        let by = c.by;
        let has = |t: &GroupTable| t.rows.iter().all(|r| r.retained_bytes.is_some());
        let mut rows: Vec<DiffGroupRow> = Vec::new();
        let mut at: HashMap<String, usize> = HashMap::new();
        let with_retained = has(b) && has(c);
        for (is_base, table) in [(true, &b), (false, &c)] {
            for r in &table.rows {
                let i = *at.entry(r.name.clone()).or_insert_with(|| {
                    rows.push(DiffGroupRow {
                        name: r.name.clone(),
                        base_type_ids: Vec::new(),
                        current_type_ids: Vec::new(),
                        count_base: 0,
                        count_current: 0,
                        bytes_base: 0,
                        bytes_current: 0,
                        count_delta: 0,
                        bytes_delta: 0,
                        retained_base: with_retained.then_some(0),
                        retained_current: with_retained.then_some(0),
                        retained_delta: None,
                    });
                    rows.len() - 1
                });
                let d = &mut rows[i];
                if is_base {
                    d.base_type_ids = r.type_ids.clone();
                    d.count_base = r.count;
                    d.bytes_base = r.bytes;
                    if with_retained {
                        d.retained_base = r.retained_bytes;
                    }
                } else {
                    d.current_type_ids = r.type_ids.clone();
                    d.count_current = r.count;
                    d.bytes_current = r.bytes;
                    if with_retained {
                        d.retained_current = r.retained_bytes;
                    }
                }
            }
        }
        for d in &mut rows {
            d.count_delta = d.count_current as i64 - d.count_base as i64;
            d.bytes_delta = d.bytes_current as i64 - d.bytes_base as i64;
            d.retained_delta = match (d.retained_base, d.retained_current) {
                (Some(a), Some(b)) => Some(b as i64 - a as i64),
                _ => None,
            };
        }
        rows.sort_by(|a, b| {
            b.retained_delta
                .cmp(&a.retained_delta)
                .then(b.retained_current.cmp(&a.retained_current))
                .then(
                    b.bytes_delta
                        .unsigned_abs()
                        .cmp(&a.bytes_delta.unsigned_abs()),
                )
                .then_with(|| a.name.cmp(&b.name))
        });
        DiffGroupTable {
            by,
            overlapping: by.by().overlaps(),
            rows,
            notes: {
                let mut n = b.notes.clone();
                n.extend(c.notes.iter().filter(|x| !b.notes.contains(x)).cloned());
                n
            },
        }
    }
}
