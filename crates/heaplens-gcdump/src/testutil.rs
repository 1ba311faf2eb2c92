//! A small FastSerialization writer for the unit tests: builds containers
//! and whole `.gcdump` files byte by byte, as PerfView's writer lays them out.

use crate::serializer::{tag, SIGNATURE};
use crate::varint;

/// Bytes of a container being written, starting with the signature.
pub struct Writer {
    pub b: Vec<u8>,
}

impl Writer {
    /// A container holding only the signature so far.
    pub fn new() -> Self {
        Writer {
            b: SIGNATURE.to_vec(),
        }
    }

    /// The current offset (a stream label).
    pub fn pos(&self) -> u32 {
        self.b.len() as u32
    }

    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.b.push(v);
        self
    }

    pub fn bytes(&mut self, v: &[u8]) -> &mut Self {
        self.b.extend_from_slice(v);
        self
    }

    pub fn i32(&mut self, v: i32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    pub fn i64(&mut self, v: i64) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    pub fn f32(&mut self, v: f32) -> &mut Self {
        self.bytes(&v.to_le_bytes())
    }

    /// A string as PerfView writes it: the count of UTF-16 units, each unit
    /// alone in 1 to 3 bytes (so a surrogate pair takes two 3-byte forms).
    pub fn units(&mut self, units: Option<&[u16]>) -> &mut Self {
        let Some(units) = units else {
            return self.i32(-1);
        };
        self.i32(units.len() as i32);
        for &c in units {
            if c <= 0x7F {
                self.u8(c as u8);
            } else if c <= 0x7FF {
                self.u8(0xC0 | (c >> 6) as u8).u8(0x80 | (c & 0x3F) as u8);
            } else {
                self.u8(0xE0 | ((c >> 12) & 0xF) as u8)
                    .u8(0x80 | ((c >> 6) & 0x3F) as u8)
                    .u8(0x80 | (c & 0x3F) as u8);
            }
        }
        self
    }

    /// A string (None for null).
    pub fn string(&mut self, s: Option<&str>) -> &mut Self {
        let units: Option<Vec<u16>> = s.map(|s| s.encode_utf16().collect());
        self.units(units.as_deref())
    }

    /// An inline `SerializationType` definition; returns its label.
    pub fn type_def(&mut self, name: &str, version: i32, min_reader: i32) -> u32 {
        let label = self.pos();
        self.u8(tag::BEGIN_OBJECT).u8(tag::NULL_REFERENCE);
        self.i32(version).i32(min_reader).string(Some(name));
        self.u8(tag::END_OBJECT);
        label
    }

    /// The start of an object definition with a new type.
    pub fn begin(&mut self, name: &str, version: i32, min_reader: i32) -> u32 {
        self.u8(tag::BEGIN_OBJECT);
        self.type_def(name, version, min_reader)
    }

    pub fn end(&mut self) -> &mut Self {
        self.u8(tag::END_OBJECT)
    }

    /// Ends the objects and writes the forward-reference table, the
    /// trailer and the suffix label.
    pub fn finish(&mut self, forward: &[u32]) -> Vec<u8> {
        self.end();
        let table = self.pos();
        self.i32(forward.len() as i32);
        for &f in forward {
            self.u32(f);
        }
        let trailer = self.pos();
        self.u32(table).u32(trailer);
        std::mem::take(&mut self.b)
    }
}

/// A node record: type, explicit size, children as absolute indexes.
pub fn record(node: i32, ty: i32, size: Option<i32>, children: &[i32]) -> Vec<u8> {
    let mut out = Vec::new();
    varint::encode(ty << 1 | size.is_some() as i32, &mut out);
    if let Some(s) = size {
        varint::encode(s, &mut out);
    }
    varint::encode(children.len() as i32, &mut out);
    for &c in children {
        varint::encode(c - node, &mut out);
    }
    out
}

/// The graph part of a synthetic `.gcdump`.
pub struct Graph<'a> {
    /// (name, size, module) of each type.
    pub types: &'a [(&'a str, i32, Option<&'a str>)],
    pub blob: &'a [u8],
    pub offsets: &'a [u32],
    pub addresses: &'a [u64],
    pub total_size: i64,
    pub root: i32,
}

/// A whole `.gcdump` as dotnet-gcdump writes it (GCHeapDump version 10,
/// null DotNetHeapInfo, null InteropInfo, a creation tool).
pub fn gcdump(g: &Graph<'_>) -> Vec<u8> {
    let mut w = Writer::new();
    w.begin("GCHeapDump", 10, 8);
    w.begin("Graphs.MemoryGraph", 1, 0);
    w.i64(g.total_size).i32(g.root).i32(g.types.len() as i32);
    for &(name, size, module) in g.types {
        w.string(Some(name)).i32(size).string(module);
    }
    w.i32(g.offsets.len() as i32);
    for &o in g.offsets {
        w.u32(o);
    }
    w.i32(g.blob.len() as i32).bytes(g.blob);
    w.i32(g.addresses.len() as i32);
    for &a in g.addresses {
        w.bytes(&a.to_le_bytes());
    }
    w.u8(tag::BYTE).u8(1).end();
    w.u8(1).f32(1.0).f32(1.0);
    w.u8(tag::NULL_REFERENCE).u8(tag::NULL_REFERENCE);
    w.string(None).i64(0).string(None).string(None).i32(0);
    w.i64(0).i64(0).i32(0);
    w.u8(tag::SKIP_REGION).i32(0).u8(tag::NULL_REFERENCE);
    let interop_end = w.pos();
    w.u8(tag::STRING).string(Some("test"));
    w.end();
    w.finish(&[interop_end])
}
