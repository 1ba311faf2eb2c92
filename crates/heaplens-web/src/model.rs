//! What the worker computes: opened snapshots and the tables the screens
//! show. Plain Rust over the engine, so it is built and tested natively too.

use crate::protocol::{
    Change, DiffRow, DiffTable, Overview, PathStep, RefEntry, RootPath, Slot, TypeDetail, TypeRow,
    TypeTable,
};
use heaplens_analysis::diff::{diff_type_stats, DiffOptions};
use heaplens_analysis::dominators::dominators;
use heaplens_analysis::paths::{referred_from, root_paths, RefLabel, RootPaths};
use heaplens_analysis::retained::{retained_by_type, retained_sizes};
use heaplens_analysis::stats::{type_stats, Selection, TypeStats};
use heaplens_bytes::ReadAt;
use heaplens_graph::{Cancelled, NodeIndex, Progress, TypeIndex};
use heaplens_snapshot::modules::ModuleSet;
use heaplens_snapshot::Snapshot;
use std::collections::{HashMap, HashSet};

/// How many root paths the detail screen shows.
pub const ROOT_PATHS: usize = 5;
/// How many steps toward the roots the referred-from tree follows.
pub const REFERRED_FROM_DEPTH: usize = 24;
/// How many children of a referred-from entry are sent (the largest).
pub const REFERRED_FROM_CHILDREN: usize = 50;
/// How many referred-from entries are sent at most.
pub const REFERRED_FROM_ENTRIES: usize = 4000;

/// What the landing page says the app takes: every format the engine
/// reads, from its registry.
pub fn accepts() -> String {
    let all: Vec<&str> = heaplens_snapshot::format::readable()
        .map(|f| f.description)
        .collect();
    match all.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} and {last}.", rest.join(", ")),
        Some((last, _)) => format!("{last}."),
        None => String::new(),
    }
}

/// One opened dump and what was derived from it.
pub struct Opened {
    /// The snapshot.
    pub snapshot: Snapshot,
    /// The type statistics (rows in the engine's order: by bytes).
    pub stats: TypeStats,
    /// For each row, the graph's type indices it groups.
    pub row_types: Vec<Vec<TypeIndex>>,
    /// For each graph type index, its row (`u32::MAX` for types in no row).
    pub type_row: Vec<u32>,
    /// The overview.
    pub overview: Overview,
    /// Shortest paths from the roots, once computed.
    pub paths: Option<RootPaths>,
    /// Retained bytes per row, once computed.
    pub retained: Option<Vec<Option<u64>>>,
}

impl Opened {
    /// Derives the tables from a snapshot.
    pub fn new(snapshot: Snapshot, file_name: &str, file_size: u64) -> Self {
        let info = &snapshot.info;
        let g = &snapshot.graph;
        let selection = Selection::for_input(info.capabilities);
        let stats = type_stats(g, info.sampling.as_ref(), selection);
        // Rows group types by (name, module, MethodTable), as type_stats does.
        let mut row_of: HashMap<(&str, Option<&str>, u64), u32> = HashMap::new();
        for (i, r) in stats.rows.iter().enumerate() {
            row_of.insert((&r.name, r.module.as_deref(), r.method_table), i as u32);
        }
        let mut row_types = vec![Vec::new(); stats.rows.len()];
        let mut type_row = vec![u32::MAX; g.types().len()];
        for (t, ti) in g.types().iter().enumerate() {
            if let Some(&r) = row_of.get(&(
                ti.name.as_str(),
                g.type_module(t as TypeIndex),
                ti.method_table,
            )) {
                row_types[r as usize].push(t as TypeIndex);
                type_row[t] = r;
            }
        }
        let overview = Overview {
            file_name: file_name.to_owned(),
            file_size,
            format_id: info.format.name.to_owned(),
            format: info.format.title.to_owned(),
            runtime: info.runtime.clone(),
            gc_mode: info.clr.as_ref().map(|c| c.gc.summary()),
            pointer_size: info.pointer_size,
            process_name: info.process_name.clone(),
            process_id: info.process_id,
            machine_name: info.machine_name.clone(),
            creation_tool: info.creation_tool.clone(),
            dump_time: info
                .time_collected_ticks
                .and_then(crate::format::dotnet_ticks),
            objects: stats.objects,
            bytes: stats.bytes,
            type_count: stats.rows.len() as u64,
            free: (stats.free.count, stats.free.bytes),
            unreachable: stats.unreachable.map(|u| (u.count, u.bytes)),
            nodes: g.node_count() as u64,
            edges: g.edge_count() as u64,
            roots: g.roots().len() as u64,
            scaled: stats.scaled,
            notes: info.notes.clone(),
            graph_memory: g.memory_bytes() as u64,
            ..Overview::default()
        };
        Opened {
            snapshot,
            stats,
            row_types,
            type_row,
            overview,
            paths: None,
            retained: None,
        }
    }

    /// Computes the shortest paths from the roots and the retained size of
    /// every row (the dominator tree is dropped afterwards to save memory).
    pub fn analyse(&mut self, progress: &mut dyn Progress) -> Result<(), Cancelled> {
        let g = &self.snapshot.graph;
        if self.paths.is_none() {
            self.paths = Some(root_paths(g, progress)?);
        }
        if self.retained.is_none() {
            let dom = dominators(g, progress)?;
            let sizes = retained_sizes(g, &dom);
            let by_type = retained_by_type(g, &dom, &sizes);
            drop((sizes, dom));
            let mut by_key: HashMap<(&str, Option<&str>), u64> = HashMap::new();
            for t in &by_type {
                *by_key
                    .entry((t.name.as_str(), t.module.as_deref()))
                    .or_default() += t.retained_bytes;
            }
            self.retained = Some(
                self.stats
                    .rows
                    .iter()
                    .map(|r| by_key.get(&(r.name.as_str(), r.module.as_deref())).copied())
                    .collect(),
            );
        }
        Ok(())
    }

    /// The type table.
    pub fn table(&self) -> TypeTable {
        TypeTable {
            rows: self
                .stats
                .rows
                .iter()
                .enumerate()
                .map(|(i, r)| TypeRow {
                    id: i as u32,
                    name: r.name.clone(),
                    module: r.module.clone(),
                    count: r.count,
                    bytes: r.bytes,
                    retained: self.retained_of(i as u32),
                })
                .collect(),
            objects: self.stats.objects,
            bytes: self.stats.bytes,
            has_retained: self.retained.is_some(),
        }
    }

    fn row(&self, id: u32) -> Option<TypeRow> {
        let r = self.stats.rows.get(id as usize)?;
        Some(TypeRow {
            id,
            name: r.name.clone(),
            module: r.module.clone(),
            count: r.count,
            bytes: r.bytes,
            retained: self.retained_of(id),
        })
    }

    fn retained_of(&self, id: u32) -> Option<u64> {
        self.retained.as_ref()?.get(id as usize).copied().flatten()
    }

    /// The detail screen of row `id` (computes the root paths first if
    /// [`Opened::analyse`] has not run).
    pub fn detail(&mut self, id: u32) -> Option<TypeDetail> {
        let row = self.row(id)?;
        if self.paths.is_none() {
            self.paths = root_paths(&self.snapshot.graph, &mut heaplens_graph::NoProgress).ok();
        }
        let g = &self.snapshot.graph;
        let paths = self.paths.as_ref()?;
        let types = &self.row_types[id as usize];
        let in_row = |x: NodeIndex| self.type_row[g.node_type(x) as usize] == id;
        // Shortest paths first (breadth-first order), one per chain of types.
        let mut root_paths_out = Vec::new();
        let mut seen: HashSet<Vec<TypeIndex>> = HashSet::new();
        let mut reachable = 0u64;
        for &x in paths.order() {
            if !in_row(x) {
                continue;
            }
            reachable += 1;
            if root_paths_out.len() >= ROOT_PATHS {
                continue;
            }
            let Some(p) = paths.path_to(x) else { continue };
            let sig: Vec<TypeIndex> = p.nodes.iter().map(|&n| g.node_type(n)).collect();
            if !seen.insert(sig) {
                continue;
            }
            let root = &g.roots()[p.root];
            root_paths_out.push(RootPath {
                root_kind: root.kind.as_str().replace('_', " "),
                root_name: g.root_name(root).map(str::to_owned),
                steps: p
                    .nodes
                    .iter()
                    .map(|&n| PathStep {
                        type_name: g.type_info(g.node_type(n)).name.clone(),
                        address: Some(g.node_address(n)).filter(|&a| a != 0),
                    })
                    .collect(),
            });
        }
        let tree = referred_from(g, paths, types, REFERRED_FROM_DEPTH);
        let mut notes = Vec::new();
        if self.stats.scaled {
            notes.push(
                "This .gcdump is a sample of the heap: counts and bytes are scaled \
                 estimates; paths and referrers are those of the sampled objects."
                    .to_owned(),
            );
        }
        Some(TypeDetail {
            row,
            root_paths: root_paths_out,
            reachable,
            referred_from: flatten_tree(&tree.entries),
            notes,
        })
    }
}

/// The referred-from tree as sent to the UI: the largest children of each
/// entry, breadth-first, at most [`REFERRED_FROM_ENTRIES`] entries.
fn flatten_tree(entries: &[heaplens_analysis::paths::RefEntry]) -> Vec<RefEntry> {
    let mut out: Vec<RefEntry> = Vec::new();
    let mut queue = std::collections::VecDeque::new();
    if entries.is_empty() {
        return out;
    }
    queue.push_back((0usize, None::<usize>));
    while let Some((i, parent)) = queue.pop_front() {
        if out.len() >= REFERRED_FROM_ENTRIES {
            if let Some(p) = parent {
                out[p].more += 1;
            }
            continue;
        }
        let e = &entries[i];
        let (label, is_root) = match &e.label {
            RefLabel::Type(n) => (n.clone(), false),
            RefLabel::Root { kind, name } => {
                let kind = kind.as_str().replace('_', " ");
                (
                    match name {
                        Some(n) => format!("[{kind} root] {n}"),
                        None => format!("[{kind} root]"),
                    },
                    true,
                )
            }
        };
        let me = out.len();
        out.push(RefEntry {
            label,
            is_root,
            count: e.count,
            bytes: e.bytes,
            inclusive_bytes: e.inclusive_bytes,
            truncated: e.truncated,
            children: Vec::new(),
            more: e.children.len().saturating_sub(REFERRED_FROM_CHILDREN) as u32,
        });
        if let Some(p) = parent {
            out[p].children.push(me as u32);
        }
        for &c in e.children.iter().take(REFERRED_FROM_CHILDREN) {
            queue.push_back((c, Some(me)));
        }
    }
    out
}

/// The comparison of two dumps by type name (the engine's per-type diff),
/// growth first: by bytes gained, then objects gained, then name.
pub fn diff(base: &TypeStats, cur: &TypeStats) -> DiffTable {
    let d = diff_type_stats(base, cur, DiffOptions::default());
    let mut rows: Vec<DiffRow> = d
        .types
        .iter()
        .map(|t| DiffRow {
            name: t.name.clone(),
            change: if t.is_new() {
                Change::New
            } else if t.is_vanished() {
                Change::Vanished
            } else {
                Change::Both
            },
            base_count: t.count_base,
            base_bytes: t.bytes_base,
            cur_count: t.count_current,
            cur_bytes: t.bytes_current,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.bytes_delta()
            .cmp(&a.bytes_delta())
            .then(b.count_delta().cmp(&a.count_delta()))
            .then_with(|| a.name.cmp(&b.name))
    });
    DiffTable {
        rows,
        base: d.base,
        cur: d.current,
        unchanged: d.unchanged as u64,
    }
}

/// The worker's state: the dumps it holds.
#[derive(Default)]
pub struct Session {
    slots: HashMap<Slot, Opened>,
}

impl Session {
    /// Opens `src` into `slot` (replacing what was there; the old snapshot is
    /// dropped first so two never share the memory).
    pub fn open(
        &mut self,
        slot: Slot,
        src: &dyn ReadAt,
        modules: &ModuleSet,
        file_name: &str,
        progress: &mut dyn Progress,
    ) -> Result<&Opened, String> {
        self.slots.remove(&slot);
        if slot == Slot::Single {
            self.slots.clear();
        }
        let snapshot =
            heaplens_snapshot::open_with(src, modules, progress).map_err(|e| e.to_string())?;
        let opened = Opened::new(snapshot, file_name, src.len());
        Ok(self.slots.entry(slot).or_insert(opened))
    }

    /// A slot's dump.
    pub fn get(&self, slot: Slot) -> Option<&Opened> {
        self.slots.get(&slot)
    }

    /// A slot's dump, mutably (to fill in measurements, run analyses).
    pub fn get_mut(&mut self, slot: Slot) -> Option<&mut Opened> {
        self.slots.get_mut(&slot)
    }

    /// Drops a slot's dump.
    pub fn forget(&mut self, slot: Slot) {
        self.slots.remove(&slot);
    }

    /// Compares the baseline with the current dump.
    pub fn diff(&self) -> Result<DiffTable, String> {
        match (self.get(Slot::Baseline), self.get(Slot::Current)) {
            (Some(b), Some(c)) => Ok(diff(&b.stats, &c.stats)),
            _ => Err("open a baseline and a current dump to compare them".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_graph::{GraphBuilder, NoProgress, RootKind, TypeInfo, TypeKind};

    fn ty(b: &mut GraphBuilder, name: &str) -> TypeIndex {
        b.add_type(TypeInfo {
            name: name.into(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        })
    }

    /// A `.gcdump`'s info: every object counts, reachable or not.
    fn gcdump_info() -> heaplens_snapshot::SnapshotInfo {
        heaplens_snapshot::SnapshotInfo::new(heaplens_snapshot::format::by_name("gcdump").unwrap())
    }

    /// root(static) → A → B → C ; root(stack) → C2 (type C) ; D → C (D unrooted)
    fn graph() -> Snapshot {
        let mut b = GraphBuilder::new();
        let a = ty(&mut b, "A");
        let bb = ty(&mut b, "B");
        let c = ty(&mut b, "C");
        let d = ty(&mut b, "D");
        b.add_node(a, 10, 0x10, [1]).unwrap(); // 0
        b.add_node(bb, 20, 0x20, [2]).unwrap(); // 1
        b.add_node(c, 30, 0x30, []).unwrap(); // 2
        b.add_node(c, 30, 0x40, []).unwrap(); // 3
        b.add_node(d, 5, 0x50, [2]).unwrap(); // 4
        b.add_root(0, RootKind::Static, Some("Program.cache"));
        b.add_root(3, RootKind::Stack, None);
        Snapshot {
            graph: b.finish().unwrap(),
            info: gcdump_info(),
        }
    }

    #[test]
    fn accepts_lists_the_formats_the_engine_reads() {
        let a = accepts();
        for f in heaplens_snapshot::format::FORMATS {
            assert_eq!(a.contains(f.description), f.is_readable(), "{a}");
        }
        assert!(a.contains(".gcdump") && a.contains("core dump"), "{a}");
    }

    #[test]
    fn table_detail_and_retained() {
        let mut o = Opened::new(graph(), "x.gcdump", 100);
        let t = o.table();
        assert_eq!(t.rows[0].name, "C");
        assert_eq!((t.rows[0].count, t.rows[0].bytes), (2, 60));
        assert_eq!(t.objects, 5);
        assert!(!t.has_retained);
        o.analyse(&mut NoProgress).unwrap();
        let t = o.table();
        assert!(t.has_retained);
        let a = t.rows.iter().find(|r| r.name == "A").unwrap();
        // A holds B and, with D unrooted, the first C alone.
        assert_eq!(a.retained, Some(60));
        assert_eq!(
            t.rows.iter().find(|r| r.name == "D").unwrap().retained,
            None
        );
        let d = o.detail(0).unwrap();
        assert_eq!(d.reachable, 2);
        // Paths from long-lived roots first (the static field's), then
        // the stack root's, which holds a C directly.
        assert_eq!(d.root_paths.len(), 2);
        assert_eq!(d.root_paths[1].root_kind, "stack");
        assert_eq!(d.root_paths[1].steps.len(), 1);
        assert_eq!(d.root_paths[0].root_name.as_deref(), Some("Program.cache"));
        let names: Vec<&str> = d.root_paths[0]
            .steps
            .iter()
            .map(|s| s.type_name.as_str())
            .collect();
        assert_eq!(names, ["A", "B", "C"]);
        // Referred from: entry 0 is C itself; its children lead to the roots.
        let rf = &d.referred_from;
        assert_eq!(rf[0].label, "C");
        assert_eq!(rf[0].count, 2);
        let kids: Vec<&str> = rf[0]
            .children
            .iter()
            .map(|&c| rf[c as usize].label.as_str())
            .collect();
        assert!(kids.contains(&"B"), "{kids:?}");
        assert!(
            kids.iter().any(|k| k.starts_with("[stack root]")),
            "{kids:?}"
        );
        assert!(o.detail(99).is_none());
    }

    #[test]
    fn diff_by_growth() {
        let base = Opened::new(graph(), "a", 1);
        let mut g2 = GraphBuilder::new();
        let c = ty(&mut g2, "C");
        let e = ty(&mut g2, "E");
        let a = ty(&mut g2, "A");
        for _ in 0..3 {
            g2.add_node(c, 30, 0, []).unwrap();
        }
        g2.add_node(e, 7, 0, []).unwrap();
        g2.add_node(a, 10, 0, []).unwrap();
        let cur = Opened::new(
            Snapshot {
                graph: g2.finish().unwrap(),
                info: gcdump_info(),
            },
            "b",
            1,
        );
        let d = diff(&base.stats, &cur.stats);
        let r: Vec<(&str, i64, Change)> = d
            .rows
            .iter()
            .map(|r| (r.name.as_str(), r.bytes_delta(), r.change))
            .collect();
        assert_eq!(
            r,
            [
                ("C", 30, Change::Both),
                ("E", 7, Change::New),
                ("D", -5, Change::Vanished),
                ("B", -20, Change::Vanished),
            ]
        );
        assert_eq!(d.unchanged, 1);
    }

    #[test]
    fn corpus_gcdump_matches_type_stats() {
        let Some(shared) = heaplens_corpus::shared_or_skip("heaplens-web model") else {
            return;
        };
        let path = shared.join("samples/gcdump/monogcdumprepro-20231108_150515_31024.gcdump");
        let bytes = std::fs::read(&path).unwrap();
        let mut s = Session::default();
        let o = s
            .open(
                Slot::Single,
                &bytes,
                &ModuleSet::new(),
                "x.gcdump",
                &mut NoProgress,
            )
            .unwrap();
        let t = o.table();
        assert_eq!(t.objects, o.stats.objects);
        assert_eq!(t.rows.len(), o.stats.rows.len());
        assert_eq!(o.overview.format_id, "gcdump");
        let mut o = s.slots.remove(&Slot::Single).unwrap();
        o.analyse(&mut NoProgress).unwrap();
        assert!(o.table().rows.iter().any(|r| r.retained.is_some()));
        let d = o.detail(0).unwrap();
        assert!(d.reachable > 0, "the biggest type is reachable");
        assert!(!d.root_paths.is_empty());
        let err = s
            .open(
                Slot::Single,
                &b"garbage!".to_vec(),
                &ModuleSet::new(),
                "x",
                &mut NoProgress,
            )
            .err()
            .unwrap();
        assert!(err.contains("unrecognised"), "{err}");
    }
}
