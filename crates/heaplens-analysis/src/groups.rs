//! Groups of types, as PerfView's GroupPats group frames: by namespace, by
//! assembly, by implemented interface, by base type.
//!
//! A [`TypeGrouping`] puts every type row ([`TypeGroups`]) of ordinary
//! objects into its groups: one namespace, one assembly, and any number of
//! interfaces or base types (so the rows of one interface's implementers
//! make one group, and groups overlap). Interfaces and base types come
//! from the graph's [`heaplens_graph::TypeHierarchy`] (the metadata);
//! where the input does not know them (a `.gcdump` has names only, a dump
//! without the modules' metadata), the rows go to [`NOT_KNOWN`] — nothing
//! is guessed from names. Namespaces come from the metadata where known,
//! else from the name.
//!
//! Counts, bytes and retained sizes of a group are those of the objects of
//! its rows; its retained size counts every object once, the way a type's
//! does (objects dominated by another of the group are inside that one's
//! retained size): [`crate::frames::FrameTree::inclusive_by_sets`] over
//! the retained flame graph's tree, and over the inclusive one for
//! PerfView's `Inc`.

use crate::perfview::short_module;
use crate::stats::TypeGroups;
use heaplens_graph::{HeapGraph, TypeIndex, TypeKind};
use std::collections::HashMap;

/// What types are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupBy {
    /// Their namespace (an array's element's; a nested type's outermost
    /// type's).
    Namespace,
    /// Their assembly (module).
    Assembly,
    /// Each interface they implement (groups overlap).
    Interface,
    /// Each of their base types but `System.Object` (groups overlap).
    Base,
}

impl GroupBy {
    /// The name as the JSON and the CLI write it.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Namespace => "namespace",
            GroupBy::Assembly => "assembly",
            GroupBy::Interface => "interface",
            GroupBy::Base => "base",
        }
    }

    /// True when a type may be in several groups.
    pub fn overlaps(self) -> bool {
        matches!(self, GroupBy::Interface | GroupBy::Base)
    }
}

/// The group of types whose interfaces or base types the input does not
/// know.
pub const NOT_KNOWN: &str = "[not known: no metadata]";
/// The group of types that implement no interface.
pub const NO_INTERFACE: &str = "[no interface]";
/// The group of types whose only base type is `System.Object`.
pub const OBJECT_ONLY: &str = "[System.Object only]";
/// The group of types without a namespace.
pub const NO_NAMESPACE: &str = "[no namespace]";
/// The group of types whose module is not known.
pub const NO_ASSEMBLY: &str = "[unknown assembly]";

/// Type rows put into groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeGrouping {
    /// What they are grouped by.
    pub by: GroupBy,
    /// The groups' names, by group index.
    pub names: Vec<String>,
    /// Per type row (by [`TypeGroups`] group index): its groups.
    pub of_row: Vec<Vec<u32>>,
}

/// The namespace in a type's name: what precedes the last `.` of its
/// outermost type (before generic arguments, array brackets, a size
/// bucket or a nested type's `+`).
pub fn namespace_in_name(name: &str) -> Option<&str> {
    if name.starts_with('[') || name.contains('!') {
        return None;
    }
    let cut = name.find(['<', '[', ' ', '+']).unwrap_or(name.len());
    let outer = &name[..cut];
    outer
        .rfind('.')
        .map(|i| &outer[..i])
        .filter(|s| !s.is_empty())
}

/// An assembly's name from a module's: the file name without `.dll` or
/// `.exe`.
pub fn assembly_name(module: &str) -> String {
    let file = module.rsplit(['/', '\\']).next().unwrap_or(module);
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".dll") || lower.ends_with(".exe") {
        file[..file.len() - 4].to_owned()
    } else {
        short_module(file)
    }
}

impl TypeGrouping {
    /// Groups the type rows `rows` of `g` by `by`.
    pub fn of(g: &HeapGraph, rows: &TypeGroups, by: GroupBy) -> TypeGrouping {
        let mut names: Vec<String> = Vec::new();
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut id = |s: &str, names: &mut Vec<String>| -> u32 {
            *ids.entry(s.to_owned()).or_insert_with(|| {
                names.push(s.to_owned());
                names.len() as u32 - 1
            })
        };
        let h = g.hierarchy();
        let known = |t: TypeIndex| h.filter(|h| h.known(t));
        let of_row = rows
            .first
            .iter()
            .map(|&t| {
                let info = g.type_info(t);
                if info.kind != TypeKind::Object {
                    return Vec::new();
                }
                match by {
                    GroupBy::Namespace => {
                        let ns = match known(t) {
                            Some(h) => h.namespace(t),
                            None => namespace_in_name(&info.name),
                        };
                        vec![id(ns.unwrap_or(NO_NAMESPACE), &mut names)]
                    }
                    GroupBy::Assembly => {
                        let a = g.type_module(t).map(assembly_name);
                        vec![id(a.as_deref().unwrap_or(NO_ASSEMBLY), &mut names)]
                    }
                    GroupBy::Interface => match known(t) {
                        None => vec![id(NOT_KNOWN, &mut names)],
                        Some(h) => {
                            let v: Vec<u32> = h.interfaces(t).map(|i| id(i, &mut names)).collect();
                            if v.is_empty() {
                                vec![id(NO_INTERFACE, &mut names)]
                            } else {
                                v
                            }
                        }
                    },
                    GroupBy::Base => match known(t) {
                        None => vec![id(NOT_KNOWN, &mut names)],
                        Some(h) => {
                            let v: Vec<u32> = h
                                .bases(t)
                                .filter(|b| *b != "System.Object")
                                .map(|b| id(b, &mut names))
                                .collect();
                            if v.is_empty() {
                                vec![id(OBJECT_ONLY, &mut names)]
                            } else {
                                v
                            }
                        }
                    },
                }
            })
            .collect();
        TypeGrouping { by, names, of_row }
    }

    /// The groups of a frame key (a type row's group index; other keys
    /// are in none), for [`crate::frames::FrameTree::inclusive_by_sets`].
    pub fn sets_of(&self, key: u32) -> &[u32] {
        self.of_row.get(key as usize).map_or(&[], Vec::as_slice)
    }

    /// The rows of each group, in row order.
    pub fn members(&self) -> Vec<Vec<usize>> {
        let mut m = vec![Vec::new(); self.names.len()];
        for (row, groups) in self.of_row.iter().enumerate() {
            for &gi in groups {
                m[gi as usize].push(row);
            }
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_graph::{GraphBuilder, TypeHierarchyBuilder, TypeInfo};

    #[test]
    fn namespaces_from_names() {
        let cases = [
            ("System.String", Some("System")),
            (
                "System.Collections.Generic.List`1[DumpLab.LeakItem]",
                Some("System.Collections.Generic"),
            ),
            (
                "System.Collections.Generic.List<System.Int32>",
                Some("System.Collections.Generic"),
            ),
            (
                "System.Collections.Generic.Dictionary`2+Entry[System.String,System.Object][]",
                Some("System.Collections.Generic"),
            ),
            ("System.Byte[]", Some("System")),
            ("Entry[System.String,System.Object][]", None),
            ("Foo (Bytes > 1K)", None),
            ("[static vars]", None),
            ("System.Private.CoreLib!0x02000123", None),
        ];
        for (name, ns) in cases {
            assert_eq!(namespace_in_name(name), ns, "{name}");
        }
        assert_eq!(
            assembly_name(r"C:\x\System.Private.CoreLib.dll"),
            "System.Private.CoreLib"
        );
        assert_eq!(
            assembly_name("System.Private.CoreLib"),
            "System.Private.CoreLib"
        );
        assert_eq!(assembly_name("/app/DumpLab.EXE"), "DumpLab");
    }

    #[test]
    fn interfaces_and_bases_from_the_hierarchy_only() {
        let mut b = GraphBuilder::new();
        let m = b.module("/app/App.dll");
        for name in ["App.A", "App.B", "App.C", "[static vars]"] {
            b.add_type(TypeInfo {
                name: name.into(),
                module: Some(m),
                kind: if name.starts_with('[') {
                    TypeKind::Pseudo
                } else {
                    TypeKind::Object
                },
                method_table: 0,
            });
        }
        let mut h = TypeHierarchyBuilder::new();
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        h.set(
            0,
            Some("App"),
            &s(&["App.Base", "System.Object"]),
            &s(&["App.ITelemetry"]),
        );
        h.set(
            1,
            Some("App"),
            &s(&["System.Object"]),
            &s(&["App.ITelemetry", "System.IDisposable"]),
        );
        b.set_hierarchy(h.finish());
        let g = b.finish().unwrap();
        let rows = TypeGroups::of(&g);
        let by_i = TypeGrouping::of(&g, &rows, GroupBy::Interface);
        fn named(t: &TypeGrouping, row: usize) -> Vec<&str> {
            t.of_row[row]
                .iter()
                .map(|&i| t.names[i as usize].as_str())
                .collect()
        }
        assert_eq!(named(&by_i, 0), ["App.ITelemetry"]);
        assert_eq!(named(&by_i, 1), ["App.ITelemetry", "System.IDisposable"]);
        assert_eq!(named(&by_i, 2), [NOT_KNOWN]);
        assert!(by_i.of_row[3].is_empty());
        let members = by_i.members();
        assert_eq!(members[0], [0, 1]);
        let by_b = TypeGrouping::of(&g, &rows, GroupBy::Base);
        assert_eq!(named(&by_b, 0), ["App.Base"]);
        assert_eq!(named(&by_b, 1), [OBJECT_ONLY]);
        let by_a = TypeGrouping::of(&g, &rows, GroupBy::Assembly);
        assert_eq!(named(&by_a, 2), ["App"]);
        let by_n = TypeGrouping::of(&g, &rows, GroupBy::Namespace);
        assert_eq!(named(&by_n, 2), ["App"]);
    }
}
