//! Type statistics: per type count, bytes and share of the heap.

use crate::reach::Reachable;
use heaplens_graph::{Capabilities, HeapGraph, Sampling, TypeIndex, TypeKind};
use std::collections::HashMap;

/// Which objects the statistics count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    /// Every object in the input (a `.gcdump` holds what the GC found live).
    All,
    /// Only objects reachable from the roots (for whole-heap walks, which
    /// also see dead objects); the rest is reported as unreachable.
    Reachable,
}

impl Selection {
    /// Which objects the statistics of an input with `capabilities`
    /// count: when it holds unreachable objects (a whole-heap walk) only
    /// those reachable from the roots, as SOS's `!dumpheap -stat` after a
    /// full GC; otherwise all (a `.gcdump`: every object its writer
    /// listed, PerfView's `[not reachable from roots]` included — see
    /// [`heaplens_graph::Capabilities::unreachable_objects`]).
    pub fn for_input(capabilities: Capabilities) -> Selection {
        if capabilities.unreachable_objects {
            Selection::Reachable
        } else {
            Selection::All
        }
    }
}

/// One row: the objects of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeRow {
    /// The row's id within its snapshot: the graph's index of the first
    /// type of its group ([`TypeGroups::id_of`]), the same for every
    /// analysis of the snapshot.
    pub id: TypeIndex,
    /// The type's name as the input gives it.
    pub name: String,
    /// The type's module, if known.
    pub module: Option<String>,
    /// The MethodTable, or 0 when the input has none.
    pub method_table: u64,
    /// Number of objects (scaled, rounded, for a sampled heap).
    pub count: u64,
    /// Total bytes (scaled, rounded, for a sampled heap).
    pub bytes: u64,
    /// Objects actually present in the input (differs from `count` only
    /// for a sampled heap).
    pub present: u64,
}

/// Count and bytes of a set of nodes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Number of nodes.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
}

/// Per-type statistics of a heap.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeStats {
    /// One row per type (types with the same name, module and MethodTable
    /// are one row), sorted by bytes, largest first.
    pub rows: Vec<TypeRow>,
    /// Objects counted in the rows.
    pub objects: u64,
    /// Bytes counted in the rows.
    pub bytes: u64,
    /// Free space blocks (not in the rows).
    pub free: Totals,
    /// Objects not reachable from the roots, when [`Selection::Reachable`].
    pub unreachable: Option<Totals>,
    /// Pseudo-nodes (roots and categories) in the graph.
    pub pseudo_nodes: u64,
    /// Nodes referenced but never defined.
    pub undefined_nodes: u64,
    /// True when counts and bytes were scaled from a sampled heap.
    pub scaled: bool,
}

/// How to order rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// Bytes, largest first (then count, then name).
    Bytes,
    /// Count, largest first (then bytes, then name).
    Count,
    /// Name, A to Z (then bytes).
    Name,
}

#[derive(Default, Clone, Copy)]
struct Acc {
    count: u64,
    bytes: u64,
    scaled_count: f64,
    scaled_bytes: f64,
}

/// Types grouped as the statistics show them: types with the same name,
/// module and MethodTable are one row (a `.gcdump` may repeat a type).
/// A group's id is the index of its first type in the graph: it names the
/// row in every analysis of the snapshot (statistics, retained sizes,
/// root paths, diffs), so no view joins rows by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeGroups {
    /// The group of each type index.
    pub group: Vec<usize>,
    /// The first type of each group (the group's id).
    pub first: Vec<TypeIndex>,
}

impl TypeGroups {
    /// The id of the row that type `t` belongs to.
    pub fn id_of(&self, t: TypeIndex) -> TypeIndex {
        self.first[self.group[t as usize]]
    }

    /// Groups the types of `g`.
    pub fn of(g: &HeapGraph) -> TypeGroups {
        let mut group_of_key: HashMap<(&str, Option<u32>, u64), usize> = HashMap::new();
        let mut first = Vec::new();
        let group = g
            .types()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                *group_of_key
                    .entry((t.name.as_str(), t.module, t.method_table))
                    .or_insert_with(|| {
                        first.push(i as TypeIndex);
                        first.len() - 1
                    })
            })
            .collect();
        TypeGroups { group, first }
    }
}

/// Computes per-type statistics. With `sampling`, each object counts as its
/// type's multiplier and weighs size × multiplier, as in PerfView.
pub fn type_stats(g: &HeapGraph, sampling: Option<&Sampling>, selection: Selection) -> TypeStats {
    let TypeGroups {
        group: type_group,
        first: first_type,
    } = TypeGroups::of(g);
    let live = match selection {
        Selection::All => None,
        Selection::Reachable => Some(Reachable::of(g)),
    };
    let mut acc = vec![Acc::default(); first_type.len()];
    let mut stats = TypeStats {
        rows: Vec::new(),
        objects: 0,
        bytes: 0,
        free: Totals::default(),
        unreachable: live.as_ref().map(|_| Totals::default()),
        pseudo_nodes: 0,
        undefined_nodes: 0,
        scaled: sampling.is_some(),
    };
    let kinds: Vec<TypeKind> = g.types().iter().map(|t| t.kind).collect();
    g.for_each_node(|n, t, size| match kinds[t as usize] {
        TypeKind::Pseudo => stats.pseudo_nodes += 1,
        TypeKind::Undefined => stats.undefined_nodes += 1,
        TypeKind::Free => {
            stats.free.count += 1;
            stats.free.bytes += size;
        }
        TypeKind::Object => {
            if let (Some(live), Some(u)) = (&live, &mut stats.unreachable) {
                if !live.contains(n) {
                    u.count += 1;
                    u.bytes += size;
                    return;
                }
            }
            let a = &mut acc[type_group[t as usize]];
            a.count += 1;
            a.bytes += size;
            if let Some(s) = sampling {
                let m = s.multiplier(t) as f64;
                a.scaled_count += m;
                a.scaled_bytes += m * size as f64;
            }
        }
    });
    for (gi, a) in acc.into_iter().enumerate() {
        if a.count == 0 {
            continue;
        }
        let t = first_type[gi];
        let info = g.type_info(t);
        let (count, bytes) = if sampling.is_some() {
            (a.scaled_count.round() as u64, a.scaled_bytes.round() as u64)
        } else {
            (a.count, a.bytes)
        };
        stats.objects += count;
        stats.bytes += bytes;
        stats.rows.push(TypeRow {
            id: t,
            name: info.name.clone(),
            module: g.type_module(t).map(str::to_owned),
            method_table: info.method_table,
            count,
            bytes,
            present: a.count,
        });
    }
    stats.sort(SortKey::Bytes);
    stats
}

impl TypeStats {
    /// Orders the rows.
    pub fn sort(&mut self, key: SortKey) {
        let by_name = |a: &TypeRow, b: &TypeRow| {
            a.name
                .cmp(&b.name)
                .then_with(|| a.module.cmp(&b.module))
                .then_with(|| a.method_table.cmp(&b.method_table))
        };
        match key {
            SortKey::Bytes => self.rows.sort_by(|a, b| {
                b.bytes
                    .cmp(&a.bytes)
                    .then(b.count.cmp(&a.count))
                    .then_with(|| by_name(a, b))
            }),
            SortKey::Count => self.rows.sort_by(|a, b| {
                b.count
                    .cmp(&a.count)
                    .then(b.bytes.cmp(&a.bytes))
                    .then_with(|| by_name(a, b))
            }),
            SortKey::Name => self
                .rows
                .sort_by(|a, b| by_name(a, b).then(b.bytes.cmp(&a.bytes))),
        }
    }

    /// Keeps only rows whose name matches `pattern`.
    pub fn retain_matching(&mut self, pattern: &regex::Regex) {
        self.rows.retain(|r| pattern.is_match(&r.name));
    }

    /// A row's share of all bytes in the rows, in percent.
    pub fn percent(&self, row: &TypeRow) -> f64 {
        if self.bytes == 0 {
            0.0
        } else {
            row.bytes as f64 * 100.0 / self.bytes as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_graph::{GraphBuilder, RootKind, TypeInfo};

    fn ty(b: &mut GraphBuilder, name: &str, kind: TypeKind) -> TypeIndex {
        b.add_type(TypeInfo {
            name: name.into(),
            module: None,
            kind,
            method_table: 0,
        })
    }

    fn sample() -> HeapGraph {
        let mut b = GraphBuilder::new();
        let root = ty(&mut b, "[.NET Roots]", TypeKind::Pseudo);
        let s = ty(&mut b, "System.String", TypeKind::Object);
        let s2 = ty(&mut b, "System.String", TypeKind::Object); // same name, other index
        let a = ty(&mut b, "Foo[]", TypeKind::Object);
        let free = ty(&mut b, "Free", TypeKind::Free);
        b.add_node(root, 0, 0, [1, 3]).unwrap(); // 0
        b.add_node(s, 30, 0x10, []).unwrap(); // 1
        b.add_node(s2, 40, 0x40, []).unwrap(); // 2, unreachable
        b.add_node(a, 100, 0x80, [1]).unwrap(); // 3
        b.add_node(free, 24, 0x100, []).unwrap(); // 4
        b.set_root_node(0);
        b.add_root(1, RootKind::Static, None);
        b.add_root(3, RootKind::Static, None);
        b.finish().unwrap()
    }

    #[test]
    fn counts_all_objects_merging_same_names() {
        let st = type_stats(&sample(), None, Selection::All);
        assert_eq!(st.objects, 3);
        assert_eq!(st.bytes, 170);
        assert_eq!(
            st.free,
            Totals {
                count: 1,
                bytes: 24
            }
        );
        assert_eq!(st.pseudo_nodes, 1);
        assert_eq!(st.rows.len(), 2);
        assert_eq!(
            (st.rows[0].name.as_str(), st.rows[0].count, st.rows[0].bytes),
            ("Foo[]", 1, 100)
        );
        assert_eq!(
            (st.rows[1].name.as_str(), st.rows[1].count, st.rows[1].bytes),
            ("System.String", 2, 70)
        );
        assert!((st.percent(&st.rows[0]) - 100.0 * 100.0 / 170.0).abs() < 1e-9);
    }

    #[test]
    fn reachable_selection_sets_the_unreachable_apart() {
        let st = type_stats(&sample(), None, Selection::Reachable);
        assert_eq!(st.objects, 2);
        assert_eq!(st.bytes, 130);
        assert_eq!(
            st.unreachable,
            Some(Totals {
                count: 1,
                bytes: 40
            })
        );
    }

    #[test]
    fn sampling_scales_counts_and_bytes() {
        let sampling = Sampling {
            count_multipliers: vec![0.0, 2.5, 1.0, 4.0, 1.0],
            average_count_multiplier: 2.0,
            average_size_multiplier: 2.0,
        };
        let st = type_stats(&sample(), Some(&sampling), Selection::All);
        let foo = st.rows.iter().find(|r| r.name == "Foo[]").unwrap();
        assert_eq!((foo.count, foo.bytes, foo.present), (4, 400, 1));
        let s = st.rows.iter().find(|r| r.name == "System.String").unwrap();
        // 30 bytes × 2.5 + 40 bytes × 1.0; counts 2.5 + 1 = 3.5 → 4.
        assert_eq!((s.count, s.bytes, s.present), (4, 115, 2));
        assert!(st.scaled);
    }

    #[test]
    fn sorts_and_filters() {
        let mut st = type_stats(&sample(), None, Selection::All);
        st.sort(SortKey::Count);
        assert_eq!(st.rows[0].name, "System.String");
        st.sort(SortKey::Name);
        assert_eq!(st.rows[0].name, "Foo[]");
        st.retain_matching(&regex::Regex::new("(?i)string").unwrap());
        assert_eq!(st.rows.len(), 1);
    }
}
