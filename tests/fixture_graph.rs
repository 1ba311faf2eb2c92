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

fn hex(v: &Value) -> Result<u64, String> {
    let s = v.as_str().ok_or_else(|| format!("not a hex string: {v}"))?;
    u64::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|e| format!("{s}: {e}"))
}

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

/// Reads a fixture graph. With `statics`, each static field also becomes a
/// root of kind [`RootKind::Static`] named by the field (after the
/// runtime's own roots).
pub fn load(path: &Path, statics: bool) -> Result<HeapGraph, String> {
    let bytes =
        heaplens_corpus::read_maybe_zst(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: Value =
        serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut b = GraphBuilder::new();
    let mut type_of_mt: HashMap<u64, TypeIndex> = HashMap::new();
    let names = v["types"].as_object().ok_or("no types")?;
    for (mt, name) in names {
        let mt = hex(&Value::String(mt.clone()))?;
        let t = b.add_type(TypeInfo {
            name: name.as_str().unwrap_or("?").to_owned(),
            module: None,
            kind: TypeKind::Object,
            method_table: mt,
        });
        type_of_mt.insert(mt, t);
    }
    let nodes = v["nodes"].as_array().ok_or("no nodes")?;
    let mut index: HashMap<u64, u32> = HashMap::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        index.insert(hex(&n[0])?, i as u32);
    }
    let edges = v["edges"].as_array().ok_or("no edges")?;
    let mut next_edge = 0usize;
    for n in nodes {
        let mt = hex(&n[2])?;
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
        let count = n[3].as_u64().ok_or("bad edge count")? as usize;
        let mut children = Vec::with_capacity(count);
        for e in &edges[next_edge..next_edge + count] {
            if let Some(&c) = index.get(&hex(e)?) {
                children.push(c);
            }
        }
        next_edge += count;
        b.add_node(t, n[1].as_u64().ok_or("bad size")?, hex(&n[0])?, children)
            .map_err(|e| e.to_string())?;
    }
    for r in v["roots"].as_array().ok_or("no roots")? {
        if let Some(&obj) = index.get(&hex(&r[0])?) {
            let kind = root_kind(r[1].as_str().unwrap_or(""), r[2].as_u64().unwrap_or(0));
            b.add_root(obj, kind, None);
        }
    }
    if statics {
        for s in v["statics"].as_array().ok_or("no statics")? {
            if let Some(&obj) = index.get(&hex(&s[0])?) {
                b.add_root(obj, RootKind::Static, s[2].as_str());
            }
        }
    }
    b.finish().map_err(|e| e.to_string())
}
