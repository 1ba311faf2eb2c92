//! The `stats` document: a snapshot's overview and what fills its heap, type
//! by type (`heaplens stats`; the page's overview and type table).

use crate::coverage::UnreachableAre;
use crate::groups::GroupTable;
use crate::{Address, DocumentKind, DumpHeader, GcMode, HeapFoundBy, HeapLayout, Totals, TypeId};
use heaplens_analysis::flame::{Flame, FlameBy};
use heaplens_analysis::frames::TOP;
use heaplens_analysis::stats::{type_stats, Selection, TypeGroups, TypeRow, TypeStats};
use heaplens_snapshot::{ClrInfo, Snapshot, Timestamp};
use serde::{Deserialize, Serialize};

/// A snapshot's type statistics as every view counts them: the objects
/// its capabilities say are live ([`Selection::for_input`]: reachable ones
/// for a whole-heap dump, all for a `.gcdump`), scaled when it is sampled.
pub fn stats_of(snapshot: &Snapshot) -> TypeStats {
    type_stats(
        &snapshot.graph,
        snapshot.info.sampling.as_ref(),
        Selection::for_input(snapshot.info.capabilities),
    )
}

/// A snapshot's overview and its per-type statistics.
///
/// For a whole-heap dump the rows count the objects a root reaches
/// (`unreachable` counts the others); a `.gcdump` holds what the GC found
/// live and counts every object. A sampled `.gcdump` is scaled as PerfView
/// scales it (`scaled`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatsDocument {
    /// The file and what the input is ([`DumpHeader`]: `schema_version`
    /// to `process_id`, at the top level).
    #[serde(flatten)]
    pub header: DumpHeader,
    /// The machine's name.
    pub machine_name: Option<String>,
    /// The tool that wrote the input.
    pub creation_tool: Option<String>,
    /// When the snapshot was taken (ISO 8601; a `.gcdump` records the
    /// machine's local time, without a zone).
    pub dump_time: Option<String>,
    /// The runtime (`.NET 8.0.4`).
    pub runtime: Option<String>,
    /// What the CLR reader learned about the GC heap (dumps of process
    /// memory; `null` for a `.gcdump`).
    pub clr: Option<ClrFacts>,
    /// How a sampled heap was scaled (`null` when not sampled).
    pub sampling: Option<SamplingFacts>,
    /// Coverage and caveats, in words.
    pub notes: Vec<String>,
    /// Nodes of the graph (objects, free blocks, pseudo-nodes).
    pub nodes: u64,
    /// References of the graph.
    pub edges: u64,
    /// GC roots.
    pub roots: u64,
    /// Pseudo-nodes (roots and categories of a `.gcdump`).
    pub pseudo_nodes: u64,
    /// Nodes referenced but never defined.
    pub undefined_nodes: u64,
    /// Objects in the rows (all rows, also those `types` leaves out).
    pub objects: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Rows in all.
    pub type_count: u64,
    /// Rows matching the filter the document was written with (all when
    /// there was none).
    pub matching_types: u64,
    /// Free space (not in the rows).
    pub free: Totals,
    /// Objects no root reaches, for whole-heap dumps (not in the rows).
    pub unreachable: Option<Totals>,
    /// What the objects no root reaches are: `garbage` (a whole-heap dump:
    /// not in the rows) or `not_reachable_from_roots` (a `.gcdump`: in the
    /// rows).
    pub unreachable_are: UnreachableAre,
    /// For a `.gcdump`: the objects in the rows that its references do not
    /// connect to its roots (PerfView's `[not reachable from roots]`);
    /// `null` otherwise.
    pub not_reachable_from_roots: Option<Totals>,
    /// True when counts and bytes were scaled from a sampled heap.
    pub scaled: bool,
    /// The rows: every type, or those matching a filter, up to a limit, in
    /// the order asked (by bytes by default).
    pub types: Vec<TypeStatsRow>,
    /// When the inclusive columns were computed: the bytes of PerfView's
    /// spanning tree (the objects counted here; for a `.gcdump` also those
    /// PerfView lists under `[not reachable from roots]`), which `inc`
    /// percentages divide.
    #[serde(default)]
    pub inclusive_total: Option<u64>,
    /// When retained sizes were computed: the bytes the live roots reach,
    /// which retained percentages divide.
    #[serde(default)]
    pub retained_total: Option<u64>,
    /// The rows grouped, when asked (`--group`).
    #[serde(default)]
    pub groups: Option<GroupTable>,
    /// True when the input knows its types' interfaces and base types
    /// (from the metadata), so they can be grouped by them.
    #[serde(default)]
    pub type_hierarchy: bool,
    /// Types folded into their referrers, when asked (`--fold`).
    #[serde(default)]
    pub folds: Option<FoldSummary>,
}

/// Which types were folded into their referrers (PerfView's FoldPats) and
/// where their objects went: each row's `fold_bytes` and `fold_count`, or
/// the roots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoldSummary {
    /// The tree the objects were folded along: `inclusive` (PerfView's
    /// spanning tree, as PerfView folds) or `retained` (the dominator
    /// tree).
    pub along: crate::flame::FlameMeasure,
    /// The pattern the folded types' names match, when given.
    pub pattern: Option<String>,
    /// Types whose `inc` is below this percentage of `inclusive_total`
    /// were folded too, when given (PerfView's Fold %).
    pub min_percent: Option<f64>,
    /// The folded types (their objects are counted with their referrers).
    pub folded_type_ids: Vec<TypeId>,
    /// Their objects that no type left unfolded holds (held by roots).
    pub into_roots: Totals,
}

/// One row: the objects of one type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeStatsRow {
    /// The row's id in its snapshot.
    pub id: TypeId,
    /// The type's name exactly as the input stores it.
    pub name: String,
    /// The type's module, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub module: Option<String>,
    /// The MethodTable, when the input has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mt: Option<Address>,
    /// Objects (scaled for a sampled heap).
    pub count: u64,
    /// Bytes (scaled for a sampled heap).
    pub bytes: u64,
    /// Objects present in the input (differs from `count` only when
    /// scaled).
    pub present: u64,
    /// PerfView's `Inc`: the bytes of the objects below the type's objects
    /// in PerfView's spanning tree, each once (its By Name inclusive
    /// column; scaled for a sampled heap), when computed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inc: Option<u64>,
    /// PerfView's `Inc Ct`: their count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inc_count: Option<u64>,
    /// Bytes freed if every object of the type were freed (each object
    /// once), when computed; not scaled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retained_bytes: Option<u64>,
    /// With folds: the bytes of folded types' objects counted with this
    /// type (PerfView's Fold; `bytes` stays the type's own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold_bytes: Option<u64>,
    /// With folds: their count (PerfView's Fold Ct).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fold_count: Option<u64>,
}

/// What the CLR reader learned about the runtime's GC heap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClrFacts {
    /// The runtime module's path.
    pub runtime_path: String,
    /// The runtime's own version string, when the dump holds it.
    pub runtime_version: Option<String>,
    /// Workstation or server GC.
    pub gc_mode: GcMode,
    /// Segments or regions.
    pub heap_layout: HeapLayout,
    /// GC heaps.
    pub heap_count: u64,
    /// Segments or regions walked.
    pub segments: u64,
    /// Bytes the segments or regions span.
    pub heap_bytes: u64,
    /// Of them in the dump.
    pub heap_bytes_captured: u64,
    /// Places where a walk had to stop early.
    pub walk_problems: u64,
    /// How the heap was found.
    pub heap_found_by: HeapFoundBy,
    /// Objects registered for finalization (not roots), as SOS
    /// `!finalizequeue` counts them.
    pub finalization_registered: u64,
    /// Objects ready for finalization (f-reachable: roots of kind
    /// `finalizer`).
    pub finalization_ready: u64,
}

impl ClrFacts {
    /// The GC in words: `workstation GC, regions, 1 heap`.
    pub fn gc_summary(&self) -> String {
        let heaps = match self.heap_count {
            1 => "1 heap".to_owned(),
            n => format!("{n} heaps"),
        };
        let shape = match self.heap_found_by {
            HeapFoundBy::Shape => " (found by shape: no GcDacVars)",
            HeapFoundBy::GcDacVars => "",
        };
        format!(
            "{} GC, {}, {heaps}{shape}",
            self.gc_mode.as_str(),
            self.heap_layout.as_str()
        )
    }

    /// The share of the heap's bytes the dump holds, in percent (100 for
    /// an empty heap).
    pub fn coverage_percent(&self) -> f64 {
        if self.heap_bytes == 0 {
            100.0
        } else {
            self.heap_bytes_captured as f64 * 100.0 / self.heap_bytes as f64
        }
    }

    pub(crate) fn of(clr: &ClrInfo) -> ClrFacts {
        ClrFacts {
            runtime_path: clr.runtime_path.clone(),
            runtime_version: clr.version.clone(),
            gc_mode: clr.gc.mode.into(),
            heap_layout: clr.gc.layout.into(),
            heap_count: clr.gc.heap_count as u64,
            segments: clr.gc.segments.len() as u64,
            heap_bytes: clr.gc.heap_bytes,
            heap_bytes_captured: clr.gc.heap_bytes_captured,
            walk_problems: clr.problems.len() as u64,
            heap_found_by: HeapFoundBy::of(clr.gc.found_by_shape),
            finalization_registered: clr.finalization.registered,
            finalization_ready: clr.finalization.ready,
        }
    }
}

/// How a sampled `.gcdump` scales back to the real heap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SamplingFacts {
    /// Original node count divided by sampled node count.
    pub average_count_multiplier: f32,
    /// Original bytes divided by sampled bytes.
    pub average_size_multiplier: f32,
}

impl StatsDocument {
    /// The document of `stats` (the statistics of `snapshot`), read from
    /// `file` of `file_bytes` bytes. `stats.rows` are the rows to write, in
    /// the order to write them (sorted, filtered and cut as asked);
    /// `type_count` and `matching_types` count the rows before the filter
    /// and before the cut.
    pub fn build(
        file: &str,
        file_bytes: u64,
        snapshot: &Snapshot,
        stats: &TypeStats,
        type_count: usize,
        matching_types: usize,
    ) -> StatsDocument {
        let info = &snapshot.info;
        let g = &snapshot.graph;
        StatsDocument {
            header: DumpHeader::of(DocumentKind::Stats, file, file_bytes, info),
            machine_name: info.machine_name.clone(),
            creation_tool: info.creation_tool.clone(),
            dump_time: info.dump_time.and_then(Timestamp::to_iso8601),
            runtime: info.runtime.clone(),
            clr: info.clr.as_ref().map(ClrFacts::of),
            sampling: info.sampling.as_ref().map(|s| SamplingFacts {
                average_count_multiplier: s.average_count_multiplier,
                average_size_multiplier: s.average_size_multiplier,
            }),
            notes: info.notes.clone(),
            nodes: g.node_count() as u64,
            edges: g.edge_count() as u64,
            roots: g.roots().len() as u64,
            pseudo_nodes: stats.pseudo_nodes,
            undefined_nodes: stats.undefined_nodes,
            objects: stats.objects,
            bytes: stats.bytes,
            type_count: type_count as u64,
            matching_types: matching_types as u64,
            free: stats.free.into(),
            unreachable: stats.unreachable.map(Into::into),
            unreachable_are: UnreachableAre::of(info.capabilities),
            not_reachable_from_roots: (!info.capabilities.unreachable_objects)
                .then(|| not_reachable_from_roots(g)),
            scaled: stats.scaled,
            types: stats.rows.iter().map(TypeStatsRow::of).collect(),
            inclusive_total: None,
            retained_total: None,
            groups: None,
            type_hierarchy: info.capabilities.type_hierarchy,
            folds: None,
        }
    }

    /// Adds a flame graph's per-type totals to the rows: PerfView's `inc`
    /// and `inc_count` from one by inclusive size
    /// ([`crate::flame::flame_of`]), `retained_bytes` from one by retained
    /// size, each with its total. `g` is the snapshot's graph.
    pub fn add_columns(&mut self, g: &heaplens_graph::HeapGraph, flame: &Flame) {
        let groups = TypeGroups::of(g);
        let sums = flame.type_inclusive();
        let total = flame.tree.value(TOP).round() as u64;
        for r in &mut self.types {
            let (v, c) = sums[groups.group[r.id.0 as usize]];
            match flame.by {
                FlameBy::Inclusive => {
                    r.inc = Some(v.round() as u64);
                    r.inc_count = Some(c.round() as u64);
                }
                FlameBy::Retained => r.retained_bytes = Some(v.round() as u64),
            }
        }
        match flame.by {
            FlameBy::Inclusive => self.inclusive_total = Some(total),
            FlameBy::Retained => self.retained_total = Some(total),
        }
        if flame.tree.truncated() {
            self.notes.push(format!(
                "{} The {} columns of the types below the cut are too small.",
                crate::flame::truncated_note(flame.tree.len()),
                match flame.by {
                    FlameBy::Inclusive => "Inc",
                    FlameBy::Retained => "Retained",
                }
            ));
        }
    }

    /// Folds the types `folded` (row ids) into their referrers along
    /// `flame`'s tree ([`heaplens_analysis::folds`]): every other row gets
    /// `fold_bytes` and `fold_count`, and `folds` says what was folded
    /// (`pattern`, `min_percent`: how they were chosen, for the record).
    pub fn add_folds(
        &mut self,
        g: &heaplens_graph::HeapGraph,
        flame: &Flame,
        folded: &[TypeId],
        pattern: Option<String>,
        min_percent: Option<f64>,
    ) {
        let groups = TypeGroups::of(g);
        let is_folded: std::collections::HashSet<usize> = folded
            .iter()
            .map(|id| groups.group[id.0 as usize])
            .collect();
        let mut f = heaplens_analysis::folds::fold_types(flame, |r| is_folded.contains(&r));
        // A `.gcdump`'s pseudo-nodes (`[static vars]`, `[.NET Roots]`) are
        // frames of a type of their own, but no row: what folds into them
        // is held by roots.
        for (gi, &t) in groups.first.iter().enumerate() {
            if gi < f.into_row.len() && g.type_info(t).kind == heaplens_graph::TypeKind::Pseudo {
                let (v, c) = std::mem::take(&mut f.into_row[gi]);
                f.into_roots.0 += v;
                f.into_roots.1 += c;
            }
        }
        for r in &mut self.types {
            let gi = groups.group[r.id.0 as usize];
            if !is_folded.contains(&gi) {
                let (v, c) = f.into_row[gi];
                r.fold_bytes = Some(v.round() as u64);
                r.fold_count = Some(c.round() as u64);
            }
        }
        let mut ids = folded.to_vec();
        ids.sort_unstable();
        ids.dedup();
        self.folds = Some(FoldSummary {
            along: match flame.by {
                FlameBy::Inclusive => crate::flame::FlameMeasure::Inclusive,
                FlameBy::Retained => crate::flame::FlameMeasure::Retained,
            },
            pattern,
            min_percent,
            folded_type_ids: ids,
            into_roots: Totals {
                count: f.into_roots.1.round() as u64,
                bytes: f.into_roots.0.round() as u64,
            },
        });
    }

    /// Folds into their referrers, along `flame` (by inclusive size, as
    /// PerfView folds), the types whose name `matches` accepts and those
    /// whose `inc` is below `min_percent` of the inclusive total — chosen
    /// among every row of `all` (this document's rows with `flame`'s
    /// columns, before any filter) — then drops the folded rows and orders
    /// the others by bytes with what was folded into them: `heaplens stats
    /// --fold PATTERN --fold-percent PERCENT`. `pattern` is recorded.
    pub fn fold(
        &mut self,
        g: &heaplens_graph::HeapGraph,
        flame: &Flame,
        all: &StatsDocument,
        matches: impl Fn(&str) -> bool,
        pattern: Option<String>,
        min_percent: Option<f64>,
    ) {
        let limit = min_percent.map(|p| p * all.inclusive_total.unwrap_or(0) as f64 / 100.0);
        let folded: Vec<TypeId> = all
            .types
            .iter()
            .filter(|r| {
                (pattern.is_some() && matches(&r.name))
                    || limit.is_some_and(|l| (r.inc.unwrap_or(0) as f64) < l)
            })
            .map(|r| r.id)
            .collect();
        self.add_folds(g, flame, &folded, pattern, min_percent);
        let gone: std::collections::HashSet<_> = folded.into_iter().collect();
        self.types.retain(|r| !gone.contains(&r.id));
        self.types.sort_by(|a, b| {
            (b.bytes + b.fold_bytes.unwrap_or(0)).cmp(&(a.bytes + a.fold_bytes.unwrap_or(0)))
        });
    }

    /// A row's `inc` in percent of [`StatsDocument::inclusive_total`].
    pub fn inc_percent(&self, row: &TypeStatsRow) -> Option<f64> {
        let total = self.inclusive_total.filter(|&t| t > 0)?;
        Some(row.inc? as f64 * 100.0 / total as f64)
    }

    /// A row's retained bytes in percent of
    /// [`StatsDocument::retained_total`].
    pub fn retained_percent(&self, row: &TypeStatsRow) -> Option<f64> {
        let total = self.retained_total.filter(|&t| t > 0)?;
        Some(row.retained_bytes? as f64 * 100.0 / total as f64)
    }

    /// The document of every row of `stats`, in its order.
    pub fn build_all(
        file: &str,
        file_bytes: u64,
        snapshot: &Snapshot,
        stats: &TypeStats,
    ) -> StatsDocument {
        let n = stats.rows.len();
        Self::build(file, file_bytes, snapshot, stats, n, n)
    }

    /// A row's share of the bytes of all rows, in percent.
    pub fn percent(&self, row: &TypeStatsRow) -> f64 {
        if self.bytes == 0 {
            0.0
        } else {
            row.bytes as f64 * 100.0 / self.bytes as f64
        }
    }
}

/// Objects (not pseudo-nodes, not free space) no root reaches.
fn not_reachable_from_roots(g: &heaplens_graph::HeapGraph) -> Totals {
    let live = heaplens_analysis::reach::reachable(g);
    let (mut count, mut bytes) = (0, 0);
    for n in 0..g.node_count() as u32 {
        if !live[n as usize] && g.node_kind(n) == heaplens_graph::TypeKind::Object {
            count += 1;
            bytes += g.node_size(n);
        }
    }
    Totals { count, bytes }
}

impl TypeStatsRow {
    fn of(r: &TypeRow) -> TypeStatsRow {
        TypeStatsRow {
            id: TypeId(r.id),
            name: r.name.clone(),
            module: r.module.clone(),
            mt: (r.method_table != 0).then_some(Address(r.method_table)),
            count: r.count,
            bytes: r.bytes,
            present: r.present,
            inc: None,
            inc_count: None,
            retained_bytes: None,
            fold_bytes: None,
            fold_count: None,
        }
    }
}
