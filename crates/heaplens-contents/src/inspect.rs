//! An object's contents through an [`ObjectReader`]: its fields and their
//! values, a string's text, an array's elements, a boxed value.

use crate::layout::{Shape, TypeLayout};
use crate::reader::{le, ContentsError, ObjectReader};
use crate::value::{decode, slice_at, DecodeOptions, FieldValue, StringText, Value};
use heaplens_graph::NodeIndex;
use std::sync::Arc;

/// Most bytes of one object read at once for its fields (a class with
/// more bytes of fields is read in part, and says so).
pub const MAX_FIELD_BYTES: usize = 64 << 10;
/// Most characters of a string read at once.
pub const MAX_STRING_CHARS: usize = 1 << 24;

/// What an object holds.
#[derive(Debug, Clone, PartialEq)]
pub enum Contents {
    /// A class's (or a boxed struct's) fields, its base classes' first.
    Fields(Vec<FieldValue>),
    /// A boxed primitive, enum, `DateTime`, … : its value (fields too).
    Boxed {
        /// The value.
        value: Value,
        /// Its fields.
        fields: Vec<FieldValue>,
    },
    /// A string's text (up to what was asked for).
    String(StringText),
    /// An array: its length and the elements asked for.
    Array {
        /// The element type.
        element_type: String,
        /// Rank (1 for `T[]`).
        rank: u32,
        /// Elements in all.
        length: u64,
        /// The first element shown.
        offset: u64,
        /// The elements from `offset`.
        elements: Vec<Value>,
    },
    /// Free space.
    Free,
}

/// An object read through a reader: its layout and its contents.
#[derive(Debug, Clone)]
pub struct ObjectContents {
    /// The object.
    pub node: NodeIndex,
    /// Its address.
    pub address: u64,
    /// Its type's layout.
    pub layout: Arc<TypeLayout>,
    /// What it holds.
    pub contents: Contents,
}

/// What to read of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// How referenced strings and nested structs are read.
    pub decode: DecodeOptions,
    /// Characters of the object's own text, when it is a string.
    pub string_chars: usize,
    /// First array element to read.
    pub element_offset: u64,
    /// Array elements to read.
    pub elements: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            decode: DecodeOptions::default(),
            string_chars: 4096,
            element_offset: 0,
            elements: 100,
        }
    }
}

/// The graph's node, checked.
fn check(r: &dyn ObjectReader, node: NodeIndex) -> Result<(), ContentsError> {
    if (node as usize) < r.graph().node_count() {
        Ok(())
    } else {
        Err(ContentsError::NoNode(node))
    }
}

/// Reads `n` bytes at `address`.
fn bytes(r: &dyn ObjectReader, address: u64, n: usize) -> Result<Vec<u8>, ContentsError> {
    let mut b = vec![0u8; n];
    r.read_memory(address, &mut b)?;
    Ok(b)
}

/// Reads object `node`.
pub fn read_object(
    r: &dyn ObjectReader,
    node: NodeIndex,
    opts: ReadOptions,
) -> Result<ObjectContents, ContentsError> {
    check(r, node)?;
    let g = r.graph();
    let address = g.node_address(node);
    let layout = r.layout(g.node_type(node))?;
    let contents = match &layout.shape {
        Shape::Free => Contents::Free,
        Shape::String { .. } => Contents::String(string_text(r, node, opts.string_chars)?),
        Shape::Array(a) => {
            let length = array_length(r, node, &layout)?;
            let offset = opts.element_offset.min(length);
            let count = (length - offset).min(opts.elements as u64);
            let elements = array_elements(r, node, &layout, offset, count, opts.decode)?;
            Contents::Array {
                element_type: a.element_type.clone(),
                rank: a.rank,
                length,
                offset,
                elements,
            }
        }
        Shape::Class => Contents::Fields(fields(r, node, &layout, opts.decode)?),
        Shape::Boxed(_) => {
            let fields = fields(r, node, &layout, opts.decode)?;
            let value = boxed_value(r, node, opts.decode)?;
            if matches!(value, Value::Struct { .. }) {
                Contents::Fields(fields)
            } else {
                Contents::Boxed { value, fields }
            }
        }
    };
    Ok(ObjectContents {
        node,
        address,
        layout,
        contents,
    })
}

/// The instance data of an object of `layout`: the bytes its fields span
/// (at most [`MAX_FIELD_BYTES`]), from the data's start.
fn instance_data(
    r: &dyn ObjectReader,
    node: NodeIndex,
    layout: &TypeLayout,
) -> Result<Vec<u8>, ContentsError> {
    let ptr = r.pointer_size();
    let g = r.graph();
    let end = layout
        .fields
        .iter()
        .map(|f| f.offset.saturating_add(f.kind.size(ptr).unwrap_or(0)) as u64)
        .max()
        .unwrap_or(0);
    // Never past the object itself.
    let size = g
        .node_size(node)
        .saturating_sub(u64::from(layout.data_offset));
    let n = end.min(size).min(MAX_FIELD_BYTES as u64) as usize;
    let at = g
        .node_address(node)
        .checked_add(u64::from(layout.data_offset))
        .ok_or(ContentsError::NoNode(node))?;
    bytes(r, at, n)
}

/// The fields of object `node` (a class or a boxed struct) with their
/// values; offsets from the object's address.
pub fn fields(
    r: &dyn ObjectReader,
    node: NodeIndex,
    layout: &TypeLayout,
    opts: DecodeOptions,
) -> Result<Vec<FieldValue>, ContentsError> {
    let ptr = r.pointer_size();
    let data = instance_data(r, node, layout)?;
    Ok(layout
        .fields
        .iter()
        .map(|f| {
            let b = slice_at(&data, f.offset, f.kind.size(ptr));
            let value = if f.kind.size(ptr).is_some_and(|n| (b.len() as u32) < n) {
                Value::Unreadable("past the object's end".into())
            } else {
                decode(r, &f.kind, b, opts)
            };
            FieldValue {
                name: f.name.clone(),
                declared_in: f.declared_in.clone(),
                type_name: f.type_name.clone(),
                offset: f.offset.saturating_add(layout.data_offset),
                value,
            }
        })
        .collect())
}

/// The value of a field of object `node` by name (the most derived when
/// names repeat).
pub fn field_value(
    r: &dyn ObjectReader,
    node: NodeIndex,
    name: &str,
    opts: DecodeOptions,
) -> Result<Option<Value>, ContentsError> {
    check(r, node)?;
    let g = r.graph();
    let layout = r.layout(g.node_type(node))?;
    let Some(f) = layout.field(name) else {
        return Ok(None);
    };
    let ptr = r.pointer_size();
    let Some(n) = f.kind.size(ptr) else {
        return Ok(Some(decode(r, &f.kind, &[], opts)));
    };
    let at = g
        .node_address(node)
        .saturating_add(u64::from(layout.data_offset) + u64::from(f.offset));
    let b = bytes(r, at, n as usize)?;
    Ok(Some(decode(r, &f.kind, &b, opts)))
}

/// A reference field's target node (`None` for null, a missing field or
/// an address where no object starts).
pub fn field_ref(r: &dyn ObjectReader, node: NodeIndex, name: &str) -> Option<NodeIndex> {
    let opts = DecodeOptions {
        string_chars: 0,
        depth: 0,
    };
    match field_value(r, node, name, opts).ok()?? {
        Value::Ref(x) => x.node,
        _ => None,
    }
}

/// An integer field's value (an enum's, a `bool`'s; a nullable integer's
/// when it has one).
pub fn field_int(r: &dyn ObjectReader, node: NodeIndex, name: &str) -> Option<i128> {
    field_int_or_null(r, node, name).flatten()
}

/// An integer field's value as [`field_int`] reads it, or `Some(None)`
/// when it is a nullable integer (`long?`) that is null; `None` when the
/// layout has no such field, it could not be read or it holds no integer.
pub fn field_int_or_null(
    r: &dyn ObjectReader,
    node: NodeIndex,
    name: &str,
) -> Option<Option<i128>> {
    let opts = DecodeOptions {
        string_chars: 0,
        depth: 0,
    };
    let int = |v: &Value| match *v {
        Value::Int(v) => Some(v as i128),
        Value::UInt(v) => Some(v as i128),
        Value::Enum { value, .. } => Some(value),
        _ => None,
    };
    match field_value(r, node, name, opts).ok()?? {
        Value::Nullable(None) => Some(None),
        Value::Nullable(Some(v)) => int(&v).map(Some),
        v => int(&v).map(Some),
    }
}

/// The value of a boxed value type (`node`'s type is [`Shape::Boxed`]):
/// a primitive's or an enum's value for those, the special value of a
/// `DateTime`, `Guid`, …, else the struct's fields.
pub fn boxed_value(
    r: &dyn ObjectReader,
    node: NodeIndex,
    opts: DecodeOptions,
) -> Result<Value, ContentsError> {
    let g = r.graph();
    let layout = r.layout(g.node_type(node))?;
    let Shape::Boxed(special) = layout.shape else {
        return Err(ContentsError::Layout {
            type_name: layout.name.clone(),
            why: "not a boxed value type".into(),
        });
    };
    let data = instance_data(r, node, &layout)?;
    // A primitive or enum: its one field `m_value` (or `value__`).
    if let Some(p) = crate::layout::Primitive::from_name(&layout.name) {
        return Ok(crate::value::primitive(p, &data, r.pointer_size()));
    }
    if layout.fields.len() == 1 {
        if let crate::layout::FieldKind::Enum(e) = &layout.fields[0].kind {
            return Ok(decode(
                r,
                &crate::layout::FieldKind::Enum(e.clone()),
                &data,
                opts,
            ));
        }
    }
    let s = crate::layout::StructLayout {
        name: layout.name.clone(),
        size: data.len() as u32,
        fields: layout.fields.clone(),
        special,
    };
    Ok(crate::value::struct_value(r, &s, &data, opts))
}

/// A string object's text: at most `max_chars` UTF-16 code units of it.
pub fn string_text(
    r: &dyn ObjectReader,
    node: NodeIndex,
    max_chars: usize,
) -> Result<StringText, ContentsError> {
    check(r, node)?;
    let g = r.graph();
    let layout = r.layout(g.node_type(node))?;
    let Shape::String {
        length_offset,
        chars_offset,
    } = layout.shape
    else {
        return Err(ContentsError::Layout {
            type_name: layout.name.clone(),
            why: "not a string".into(),
        });
    };
    let address = g.node_address(node);
    let size = g.node_size(node);
    let mut len = [0u8; 4];
    r.read_memory(address.saturating_add(u64::from(length_offset)), &mut len)?;
    let length = u32::from_le_bytes(len);
    // Never more characters than the object's size holds.
    let room = size.saturating_sub(u64::from(chars_offset)) / 2;
    let n = u64::from(length)
        .min(room)
        .min(max_chars.min(MAX_STRING_CHARS) as u64) as usize;
    let b = bytes(r, address.saturating_add(u64::from(chars_offset)), 2 * n)?;
    let units: Vec<u16> = b
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    Ok(StringText {
        text: String::from_utf16_lossy(&units),
        length,
        truncated: (n as u64) < u64::from(length),
    })
}

/// An array's element count.
pub fn array_length(
    r: &dyn ObjectReader,
    node: NodeIndex,
    layout: &TypeLayout,
) -> Result<u64, ContentsError> {
    let Shape::Array(a) = &layout.shape else {
        return Err(ContentsError::Layout {
            type_name: layout.name.clone(),
            why: "not an array".into(),
        });
    };
    let g = r.graph();
    let mut b = [0u8; 4];
    r.read_memory(
        g.node_address(node)
            .saturating_add(u64::from(a.length_offset)),
        &mut b,
    )?;
    let n = u64::from(u32::from_le_bytes(b));
    // Never more elements than the object's size holds.
    let room = g
        .node_size(node)
        .saturating_sub(u64::from(a.data_offset))
        .checked_div(u64::from(a.element_size))
        .unwrap_or(n);
    Ok(n.min(room))
}

/// Elements `[offset, offset + count)` of array `node`.
pub fn array_elements(
    r: &dyn ObjectReader,
    node: NodeIndex,
    layout: &TypeLayout,
    offset: u64,
    count: u64,
    opts: DecodeOptions,
) -> Result<Vec<Value>, ContentsError> {
    let Shape::Array(a) = &layout.shape else {
        return Ok(Vec::new());
    };
    let size = u64::from(a.element_size);
    let count = count
        .min((MAX_FIELD_BYTES as u64) / size.max(1))
        .min(1 << 16);
    let g = r.graph();
    let start = g
        .node_address(node)
        .saturating_add(u64::from(a.data_offset))
        .saturating_add(offset.saturating_mul(size));
    let b = bytes(r, start, (count * size) as usize)?;
    Ok((0..count as usize)
        .map(|i| {
            let e = &b[i * size as usize..(i + 1) * size as usize];
            decode(r, &a.element, e, opts)
        })
        .collect())
}

/// True when every byte of array `node`'s elements is zero (an array of
/// zeros, nulls or default structs); `None` when it cannot be read. Reads
/// the elements in blocks.
pub fn array_is_all_zero(
    r: &dyn ObjectReader,
    node: NodeIndex,
    layout: &TypeLayout,
) -> Option<bool> {
    let Shape::Array(a) = &layout.shape else {
        return None;
    };
    let n = array_length(r, node, layout).ok()?;
    let total = n.checked_mul(u64::from(a.element_size))?;
    let g = r.graph();
    let start = g.node_address(node).checked_add(u64::from(a.data_offset))?;
    let mut buf = vec![0u8; 64 << 10];
    let mut done = 0u64;
    while done < total {
        let k = (total - done).min(buf.len() as u64) as usize;
        r.read_memory(start + done, &mut buf[..k]).ok()?;
        if buf[..k].iter().any(|&x| x != 0) {
            return Some(false);
        }
        done += k as u64;
    }
    Some(true)
}

/// Reads a pointer-sized word at `address`.
pub fn read_pointer(r: &dyn ObjectReader, address: u64) -> Option<u64> {
    let n = r.pointer_size() as usize;
    let mut b = [0u8; 8];
    r.read_memory(address, &mut b[..n]).ok()?;
    le(&b, 0, n)
}

/// The value of static field `s` (read where its address says; a value
/// type static from the box its slot points at).
pub fn static_value(r: &dyn ObjectReader, s: &crate::StaticField, opts: DecodeOptions) -> Value {
    let Some(at) = s.address else {
        return Value::Unreadable(
            s.why_unknown
                .clone()
                .unwrap_or_else(|| "where its value is is not known".into()),
        );
    };
    let ptr = r.pointer_size();
    if s.boxed {
        let Some(b) = read_pointer(r, at) else {
            return Value::Unreadable("its slot is not in the dump".into());
        };
        if b == 0 {
            return Value::Null;
        }
        let Some(n) = s.field.kind.size(ptr) else {
            return decode(r, &s.field.kind, &[], opts);
        };
        return match bytes(r, b.saturating_add(u64::from(ptr)), n as usize) {
            Ok(data) => decode(r, &s.field.kind, &data, opts),
            Err(e) => Value::Unreadable(e.to_string()),
        };
    }
    let n = s.field.kind.size(ptr).unwrap_or(0) as usize;
    match bytes(r, at, n) {
        Ok(data) => decode(r, &s.field.kind, &data, opts),
        Err(e) => Value::Unreadable(e.to_string()),
    }
}
