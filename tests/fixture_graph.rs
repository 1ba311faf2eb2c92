//! The fixtures' `phaseN.graph.json.zst` (every live object as the runtime
//! itself walked it) as a [`HeapGraph`], so analyses can be checked against
//! the fixtures' reference files before the core readers exist.
//!
//! Format: `nodes` [address, size, MethodTable, edge count], `edges` (target
//! addresses, consumed in node order), `roots` [address, kind, flags, id],
//! `statics` [object address, MethodTable, field name], `types` (MethodTable
//! → name). Root kinds: `stack`, `finalizer`, `handle` (EventPipe root flags:
//! 1 pinning, 2 weak, 8 ref-counted).

use heaplens_graph::{GraphBuilder, HeapGraph, RootKind, TypeIndex, TypeInfo, TypeKind};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;

/// The root kind of a fixture root.
pub fn root_kind(kind: &str, flags: u64) -> RootKind {
    match kind {
        "stack" => RootKind::Stack,
        "finalizer" => RootKind::Finalizer,
        "handle" if flags & 2 != 0 => RootKind::WeakHandle,
        "handle" if flags & 1 != 0 => RootKind::PinnedHandle,
        "handle" if flags & 8 != 0 => RootKind::RefCountedHandle,
        "handle" => RootKind::StrongHandle,
        _ => RootKind::Other,
    }
}

/// The runtime's shortest root path to `DumpLab.RootTarget` in a
/// `phaseN.reference.json`: the type names from the root to the target, and
/// the root's kind.
pub fn reference_root_path(reference: &Value) -> Result<(Vec<String>, RootKind), String> {
    let want = &reference["root_path_to_DumpLab.RootTarget"];
    let path = want["path"]
        .as_array()
        .ok_or("no root_path_to_DumpLab.RootTarget.path in the reference")?
        .iter()
        .map(|t| {
            t.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("not a type name: {t}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let kind = want["root_kind"]
        .as_str()
        .ok_or("no root_kind in the reference's root path")?;
    let flags = want["root_flags"]
        .as_u64()
        .ok_or("no root_flags in the reference's root path")?;
    Ok((path, root_kind(kind, flags)))
}

/// A hexadecimal address as the fixtures write them (`"0x7ff9b4e0d7c8"`),
/// parsed without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hex(pub u64);

impl<'de> serde::Deserialize<'de> for Hex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Hex, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Hex;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a hexadecimal address string")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Hex, E> {
                u64::from_str_radix(s.trim_start_matches("0x"), 16)
                    .map(Hex)
                    .map_err(|e| E::custom(format!("{s}: {e}")))
            }
        }
        d.deserialize_str(V)
    }
}

/// A fixture graph file as it is written (see the module documentation).
#[derive(Debug, serde::Deserialize)]
pub struct GraphFile {
    /// MethodTable → the runtime's type name.
    pub types: HashMap<String, String>,
    /// [address, size, MethodTable, edge count], in walk order.
    pub nodes: Vec<(Hex, u64, Hex, usize)>,
    /// Edge targets, consumed in node order.
    pub edges: Vec<Hex>,
    /// [address, kind, flags, root id].
    pub roots: Vec<(Hex, String, u64, Hex)>,
    /// [object, declaring type's MethodTable, field name].
    pub statics: Vec<(Hex, Hex, String)>,
}

/// Reads a fixture graph file.
pub fn read(path: &Path) -> Result<GraphFile, String> {
    let bytes =
        heaplens_corpus::read_maybe_zst(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// Reads a fixture graph. With `statics`, each static field also becomes a
/// root of kind [`RootKind::Static`] named by the field (after the
/// runtime's own roots).
pub fn load(path: &Path, statics: bool) -> Result<HeapGraph, String> {
    from_file(&read(path)?, statics)
}

/// The graph of a fixture graph file (see [`load`]).
pub fn from_file(v: &GraphFile, statics: bool) -> Result<HeapGraph, String> {
    let mut b = GraphBuilder::new();
    let mut type_of_mt: HashMap<u64, TypeIndex> = HashMap::new();
    let mut names: Vec<(&String, &String)> = v.types.iter().collect();
    names.sort();
    for (mt, name) in names {
        let mt = u64::from_str_radix(mt.trim_start_matches("0x"), 16)
            .map_err(|e| format!("type {mt}: {e}"))?;
        let t = b.add_type(TypeInfo {
            name: name.clone(),
            module: None,
            kind: TypeKind::Object,
            method_table: mt,
        });
        type_of_mt.insert(mt, t);
    }
    let mut index: HashMap<u64, u32> = HashMap::with_capacity(v.nodes.len());
    for (i, n) in v.nodes.iter().enumerate() {
        index.insert(n.0 .0, i as u32);
    }
    let mut next_edge = 0usize;
    for &(Hex(addr), size, Hex(mt), count) in &v.nodes {
        let t = match type_of_mt.get(&mt) {
            Some(&t) => t,
            None => {
                let t = b.add_type(TypeInfo {
                    name: format!("MethodTable 0x{mt:x}"),
                    module: None,
                    kind: TypeKind::Object,
                    method_table: mt,
                });
                type_of_mt.insert(mt, t);
                t
            }
        };
        let targets = v
            .edges
            .get(next_edge..next_edge + count)
            .ok_or("fewer edges than the nodes count")?;
        let children: Vec<u32> = targets
            .iter()
            .filter_map(|e| index.get(&e.0).copied())
            .collect();
        next_edge += count;
        b.add_node(t, size, addr, children)
            .map_err(|e| e.to_string())?;
    }
    for (Hex(addr), kind, flags, _) in &v.roots {
        if let Some(&obj) = index.get(addr) {
            b.add_root(obj, root_kind(kind, *flags), None);
        }
    }
    if statics {
        for (Hex(addr), _, field) in &v.statics {
            if let Some(&obj) = index.get(addr) {
                b.add_root(obj, RootKind::Static, Some(field));
            }
        }
    }
    b.finish().map_err(|e| e.to_string())
}
