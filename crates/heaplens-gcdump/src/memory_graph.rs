//! `Graphs.MemoryGraph`: the type table, node offsets, node blob, deferred
//! type names and addresses, decoded into a [`HeapGraph`].

use crate::error::{ErrorKind, GcdumpError};
use crate::roots::add_roots;
use crate::serializer::{tag, Deserializer};
use crate::varint;
use heaplens_graph::{GraphBuilder, HeapGraph, Phase, Progress, TypeInfo, TypeKind};

/// The decoded graph and facts the entry object needs.
pub struct ReadGraph {
    pub graph: HeapGraph,
    pub type_count: usize,
    pub undefined_nodes: usize,
    pub is_64bit: bool,
}

struct RawType {
    name: Option<String>,
    size: i32,
    module: Option<String>,
}

/// How often (in nodes) progress is reported.
const PROGRESS_EVERY: usize = 1 << 16;

/// Reads a `Graphs.MemoryGraph` object reference (None if null).
pub fn read_memory_graph(
    d: &mut Deserializer<'_>,
    progress: &mut dyn Progress,
) -> Result<Option<ReadGraph>, GcdumpError> {
    let Some(def) = d.begin_typed("Graphs.MemoryGraph")? else {
        return Ok(None);
    };
    d.enter()?;
    let header_at = d.pos();
    let total_size = d.i64("graph total size")?;
    let root_at = d.pos();
    let root_index = d.i32("root index")?;

    // Each type takes at least 12 bytes (two empty strings and a size).
    let type_count = d.count("type", 12)?;
    // An entry in memory is several times its 12-byte minimum on disk, so
    // the table grows with the entries actually read rather than being
    // reserved from the count.
    let mut types = Vec::with_capacity(type_count.min(1 << 12));
    for _ in 0..type_count {
        let name = d.string("type name")?;
        let size = d.i32("type size")?;
        let module = d.string("type module name")?;
        types.push(RawType { name, size, module });
    }

    let offsets_count_at = d.pos();
    let node_count = d.count("node", 4)?;
    let offsets_at = d.pos();
    let mut offsets = Vec::with_capacity(node_count);
    for _ in 0..node_count {
        offsets.push(d.u32("node offset")?);
    }
    let blob_len_at = d.pos();
    let blob_len = d.count("node blob byte", 1)? as u64;
    let blob_start = d.pos();
    d.skip(blob_len, "node blob")?;

    if def.min_reader_version >= 1 {
        read_deferred_types(d, &mut types)?;
    }

    let addr_at = d.pos();
    let address_count = d.count("address", 8)?;
    if address_count != node_count {
        return Err(d.err_at(
            addr_at,
            ErrorKind::Invalid(format!("{address_count} addresses for {node_count} nodes")),
        ));
    }
    let mut addresses = Vec::with_capacity(node_count);
    for _ in 0..node_count {
        addresses.push(d.u64("node address")?);
    }
    let is_64bit = if d.try_tag(tag::BYTE)? {
        d.u8("Is64Bit")? != 0
    } else {
        false
    };
    d.leave()?;
    let after = d.pos();

    if node_count > 0 && (root_index < -1 || root_index as i64 >= node_count as i64) {
        return Err(d.err_at(
            root_at,
            ErrorKind::IndexOutOfRange {
                what: "root node",
                index: root_index as i64,
                limit: node_count as u64,
            },
        ));
    }
    if node_count > 0 && blob_len == 0 {
        return Err(d.err_at(
            blob_len_at,
            ErrorKind::Invalid("the graph has nodes but an empty node blob".into()),
        ));
    }
    let _ = offsets_count_at;

    // Build types.
    let mut b = GraphBuilder::new();
    for (i, t) in types.iter().enumerate() {
        let module = t.module.as_deref().map(|m| b.module(m));
        let name = t.name.clone().unwrap_or_else(|| format!("TypeIndex({i})"));
        b.add_type(TypeInfo {
            name,
            module,
            kind: TypeKind::Object,
            method_table: 0,
        });
    }

    // Decode node records.
    let blob_end = blob_start + blob_len;
    let mut children: Vec<u32> = Vec::new();
    let mut undefined_nodes = 0usize;
    let mut sized = vec![false; type_count];
    let mut sum: u64 = 0;
    // Records of distinct nodes never overlap (undefined nodes share the
    // childless dummy record at 0) and every child takes at least one byte,
    // so all nodes together have at most `blob_len` children. Without this
    // check, nodes sharing one record could make a small file describe
    // billions of edges.
    let mut total_children: u64 = 0;
    for (i, &off) in offsets.iter().enumerate() {
        if i.is_multiple_of(PROGRESS_EVERY) {
            progress
                .update(Phase::ReadingObjects, i as u64, node_count as u64)
                .map_err(|_| d.err_at(d.pos(), ErrorKind::Cancelled))?;
        }
        if off as u64 >= blob_len {
            return Err(d.err_at(
                offsets_at + 4 * i as u64,
                ErrorKind::IndexOutOfRange {
                    what: "node blob offset",
                    index: off as i64,
                    limit: blob_len,
                },
            ));
        }
        if off == 0 {
            undefined_nodes += 1;
        }
        let rec = blob_start + off as u64;
        d.seek(rec);
        let type_and_size = blob_varint(d, blob_end, rec, "node type")?;
        let ty = type_and_size >> 1;
        if ty < 0 || ty as usize >= type_count {
            return Err(d.err_at(
                rec,
                ErrorKind::IndexOutOfRange {
                    what: "node type",
                    index: ty as i64,
                    limit: type_count as u64,
                },
            ));
        }
        let size = if type_and_size & 1 != 0 {
            blob_varint(d, blob_end, rec, "node size")?
        } else {
            types[ty as usize].size
        };
        if size < 0 {
            return Err(d.err_at(
                rec,
                ErrorKind::Invalid(format!("node {i} has no valid size ({size})")),
            ));
        }
        let count_at = d.pos();
        let child_count = blob_varint(d, blob_end, rec, "node child count")?;
        // Every child takes at least one byte of the blob.
        let left = blob_end - d.pos();
        if child_count < 0 || child_count as u64 > left {
            return Err(d.err_at(
                count_at,
                ErrorKind::BadCount {
                    what: "child",
                    count: child_count as i64,
                    limit: left,
                },
            ));
        }
        total_children += child_count as u64;
        if total_children > blob_len {
            return Err(d.err_at(
                count_at,
                ErrorKind::BadCount {
                    what: "child (all nodes together)",
                    count: total_children as i64,
                    limit: blob_len,
                },
            ));
        }
        children.clear();
        for _ in 0..child_count {
            let at = d.pos();
            let delta = blob_varint(d, blob_end, rec, "node child")?;
            let child = delta.wrapping_add(i as i32);
            if child < 0 || child as usize >= node_count {
                return Err(d.err_at(
                    at,
                    ErrorKind::IndexOutOfRange {
                        what: "child node",
                        index: child as i64,
                        limit: node_count as u64,
                    },
                ));
            }
            children.push(child as u32);
        }
        if size > 0 || addresses[i] != 0 {
            sized[ty as usize] = true;
        }
        sum += size as u64;
        b.add_node(
            ty as u32,
            size as u64,
            addresses[i],
            children.iter().copied(),
        )
        .map_err(|e| d.err_at(rec, e.into()))?;
    }
    progress
        .update(Phase::ReadingObjects, node_count as u64, node_count as u64)
        .map_err(|_| d.err_at(d.pos(), ErrorKind::Cancelled))?;
    if total_size < 0 || total_size as u64 != sum {
        return Err(d.err_at(
            header_at,
            ErrorKind::TotalSizeMismatch {
                header: total_size,
                nodes: sum,
            },
        ));
    }
    drop(offsets);
    drop(addresses);

    // Classify types: type 0 is UNDEFINED; `Free` is free space; bracketed module-less types whose
    // nodes are all empty are PerfView's pseudo-nodes.
    for (i, t) in types.iter().enumerate() {
        let kind = if i == 0 && t.name.as_deref() == Some("UNDEFINED") {
            TypeKind::Undefined
        } else if t.name.as_deref() == Some("Free") {
            // The CLR's free-space pseudo-objects (PerfView's ClrMD dumper).
            TypeKind::Free
        } else if t.module.is_none()
            && !sized[i]
            && t.name.as_deref().is_some_and(|n| n.starts_with('['))
        {
            TypeKind::Pseudo
        } else {
            TypeKind::Object
        };
        b.set_type_kind(i as u32, kind);
    }
    if root_index >= 0 && node_count > 0 {
        b.set_root_node(root_index as u32);
        add_roots(&mut b);
    }
    let graph = b.finish().map_err(|e| d.err_at(header_at, e.into()))?;
    d.seek(after);
    Ok(Some(ReadGraph {
        graph,
        type_count,
        undefined_nodes,
        is_64bit,
    }))
}

/// Reads one varint of the node record starting at `rec`, which must not
/// run past `end`.
fn blob_varint(
    d: &mut Deserializer<'_>,
    end: u64,
    rec: u64,
    what: &'static str,
) -> Result<i32, GcdumpError> {
    let c = d.cursor();
    let mut failed = None;
    let v = varint::decode(|| {
        if c.position() >= end {
            return None;
        }
        match c.u8() {
            Ok(b) => Some(b),
            Err(e) => {
                failed = Some(e);
                None
            }
        }
    });
    match (v, failed) {
        (Some(v), _) => Ok(v),
        (None, Some(e)) => Err(d.read_err(rec, what, e)),
        (None, None) => Err(d.err_at(
            rec,
            ErrorKind::Invalid(format!(
                "a node record runs past the end of the node blob ({what})"
            )),
        )),
    }
}

/// Reads the deferred region of types named by ID and module (.NET Native
/// heaps) and gives such unnamed types PerfView's fallback name
/// `TypeID(0x…)` plus suffix, with the module's path.
fn read_deferred_types(d: &mut Deserializer<'_>, types: &mut [RawType]) -> Result<(), GcdumpError> {
    let idx_at = d.pos();
    let idx = d.i32("deferred region index")?;
    let end = d.forward(idx_at, idx)?;
    if end < d.pos() {
        return Err(d.err_at(
            idx_at,
            ErrorKind::BadLabel {
                what: "the deferred region's end",
                label: end,
            },
        ));
    }
    // Each entry: i32 type id, a module reference (>= 1 byte), a string (>= 4).
    let n = d.count("deferred type", 9)?;
    for i in 0..n {
        let type_id = d.i32("deferred type id")?;
        let module = read_module_ref(d)?;
        let suffix = d.string("deferred type name suffix")?;
        if let Some(t) = types.get_mut(i) {
            if t.name.is_none() {
                t.name = Some(format!(
                    "TypeID(0x{:x}){}",
                    type_id as u32,
                    suffix.as_deref().unwrap_or("")
                ));
                if let Some(path) = module {
                    t.module = Some(path);
                }
            }
        }
    }
    d.seek(end);
    Ok(())
}

/// Reads a `Graphs.Module` reference: null, a label of an earlier module,
/// or a definition. Returns its path.
fn read_module_ref(d: &mut Deserializer<'_>) -> Result<Option<String>, GcdumpError> {
    let at = d.pos();
    if d.try_tag(tag::OBJECT_REFERENCE)? {
        let label = d.u32("module label")? as u64;
        return d.modules.get(&label).cloned().ok_or_else(|| {
            d.err_at(
                at,
                ErrorKind::BadLabel {
                    what: "a module reference",
                    label,
                },
            )
        });
    }
    let def_at = d.pos();
    if d.begin_typed("Graphs.Module")?.is_none() {
        return Ok(None);
    }
    d.enter()?;
    let path = d.string("module path")?;
    d.i64("module image base")?;
    d.i64("module size")?;
    d.i64("module build time")?;
    d.string("module PDB name")?;
    d.skip(16, "module PDB GUID")?;
    d.i32("module PDB age")?;
    d.leave()?;
    d.modules.insert(def_at, path.clone());
    Ok(path)
}
