//! Values in documents: what a field, an element or a box holds, as JSON.
//!
//! Every value has `kind` and `text` (the value as a debugger shows it in
//! one line); integers and decimals are written as decimal strings (so no
//! reader loses a 64-bit value's precision), floats as their shortest
//! round-trip text (`NaN`, `Infinity` as words), addresses as hex strings.
//!
//! **Privacy.** Documents that carry values (the object inspector's, the
//! duplicate strings') say so in their `values` field. Built without
//! values (`--no-values`), every value is `{"kind": "redacted"}` — a
//! reference keeps its address and type (the heap's structure) but not a
//! string's text or a box's value — and `values` is false.

use crate::{Address, NodeId, TypeId};
use heaplens_analysis::stats::TypeGroups;
use heaplens_contents::value::{self, FieldValue, Reference, Value};
use heaplens_graph::HeapGraph;
use serde::{Deserialize, Serialize};

/// A value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ValueDoc {
    /// A null reference.
    Null {
        /// `null`.
        text: String,
    },
    /// A boolean.
    Bool {
        /// Its value.
        value: bool,
        /// `true` / `false`.
        text: String,
    },
    /// A UTF-16 code unit.
    Char {
        /// Its code.
        value: u16,
        /// `'Ω' (937)`.
        text: String,
    },
    /// A signed integer (and `IntPtr`).
    Int {
        /// Decimal text.
        value: String,
        /// The same.
        text: String,
    },
    /// An unsigned integer (and `UIntPtr`).
    Uint {
        /// Decimal text.
        value: String,
        /// The same.
        text: String,
    },
    /// A floating-point number.
    Float {
        /// Shortest round-trip text (`NaN`, `Infinity`, `-Infinity`).
        value: String,
        /// `single` or `double`.
        precision: String,
        /// The same as `value`.
        text: String,
    },
    /// An unmanaged pointer.
    Pointer {
        /// Hex.
        value: Address,
        /// The same.
        text: String,
    },
    /// An enum value.
    Enum {
        /// The enum type.
        #[serde(rename = "type")]
        type_name: String,
        /// Its integer, in decimal.
        value: String,
        /// The literal (or `A, B` for flags) naming it, when one does.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        /// `Green (2)`.
        text: String,
    },
    /// A `DateTime`.
    Datetime {
        /// 100 ns ticks since 0001-01-01, in decimal.
        ticks: String,
        /// `Utc`, `Local` or `Unspecified`.
        datetime_kind: String,
        /// ISO 8601 (`Z` for UTC).
        iso: String,
        /// The same, with the kind.
        text: String,
    },
    /// A `TimeSpan`.
    Timespan {
        /// 100 ns ticks, in decimal.
        ticks: String,
        /// `[-][d.]hh:mm:ss[.fffffff]`.
        text: String,
    },
    /// A `DateTimeOffset`.
    Datetimeoffset {
        /// UTC ticks, in decimal.
        utc_ticks: String,
        /// Offset from UTC in minutes.
        offset_minutes: i16,
        /// Local time with its offset.
        text: String,
    },
    /// A `Guid`.
    Guid {
        /// Its `D` format.
        value: String,
        /// The same.
        text: String,
    },
    /// A `decimal`, exact.
    Decimal {
        /// Its text.
        value: String,
        /// The same.
        text: String,
    },
    /// A `Nullable<T>`.
    Nullable {
        /// Its value (`null`: none).
        value: Option<Box<ValueDoc>>,
        /// The value's text, or `null`.
        text: String,
    },
    /// A value type stored inline.
    Struct {
        /// Its type.
        #[serde(rename = "type")]
        type_name: String,
        /// Its fields (offsets from the struct's start).
        fields: Vec<FieldDoc>,
        /// `Type { a = 1, … }`.
        text: String,
    },
    /// A reference to an object.
    Ref {
        /// The object's address.
        address: Address,
        /// Its node (left out when no object starts there).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        node: Option<NodeId>,
        /// Its type's row id.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        type_id: Option<TypeId>,
        /// Its type.
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        type_name: Option<String>,
        /// A string's text (shortened: see `truncated`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        string: Option<StringDoc>,
        /// A boxed primitive's (or `DateTime`'s, …) value.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        boxed: Option<Box<ValueDoc>>,
        /// `"text"` for a string, `Type @ 0x…` otherwise.
        text: String,
    },
    /// Not readable.
    Unreadable {
        /// Why.
        why: String,
        /// `(unreadable: …)`.
        text: String,
    },
    /// Left out: the document carries no values.
    Redacted {
        /// `(value not shown)`.
        text: String,
    },
}

impl ValueDoc {
    /// The value as text, the way every view shows it (each kind carries
    /// its own `text`).
    pub fn text(&self) -> &str {
        match self {
            ValueDoc::Null { text }
            | ValueDoc::Bool { text, .. }
            | ValueDoc::Char { text, .. }
            | ValueDoc::Int { text, .. }
            | ValueDoc::Uint { text, .. }
            | ValueDoc::Float { text, .. }
            | ValueDoc::Pointer { text, .. }
            | ValueDoc::Enum { text, .. }
            | ValueDoc::Datetime { text, .. }
            | ValueDoc::Timespan { text, .. }
            | ValueDoc::Datetimeoffset { text, .. }
            | ValueDoc::Guid { text, .. }
            | ValueDoc::Decimal { text, .. }
            | ValueDoc::Nullable { text, .. }
            | ValueDoc::Struct { text, .. }
            | ValueDoc::Ref { text, .. }
            | ValueDoc::Unreadable { text, .. }
            | ValueDoc::Redacted { text } => text,
        }
    }
}

/// A string's text, or its start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StringDoc {
    /// The text (up to what was read).
    pub text: String,
    /// Its length in UTF-16 code units.
    pub length: u32,
    /// True when `text` is only its start.
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub truncated: bool,
}

/// A field and its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDoc {
    /// Its name.
    pub name: String,
    /// The type declaring it.
    pub declared_in: String,
    /// Its declared type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Bytes from the object's address (a struct's fields: from the
    /// struct's start).
    pub offset: u32,
    /// Its value.
    pub value: ValueDoc,
}

/// Turns engine values into documents' values.
pub struct Values<'a> {
    graph: &'a HeapGraph,
    groups: &'a TypeGroups,
    /// Write values (false: every value redacted).
    pub with_values: bool,
}

impl<'a> Values<'a> {
    /// Values of objects of `graph` (type ids from `groups`).
    pub fn new(graph: &'a HeapGraph, groups: &'a TypeGroups, with_values: bool) -> Values<'a> {
        Values {
            graph,
            groups,
            with_values,
        }
    }

    /// A field.
    pub fn field(&self, f: &FieldValue) -> FieldDoc {
        FieldDoc {
            name: f.name.clone(),
            declared_in: f.declared_in.clone(),
            type_name: f.type_name.clone(),
            offset: f.offset,
            value: self.value(&f.value),
        }
    }

    /// A value.
    pub fn value(&self, v: &Value) -> ValueDoc {
        let text = v.display();
        if !self.with_values {
            return match v {
                Value::Ref(r) => self.reference(r, false),
                Value::Null => ValueDoc::Null { text },
                _ => ValueDoc::Redacted {
                    text: "(value not shown)".into(),
                },
            };
        }
        match v {
            Value::Null => ValueDoc::Null { text },
            Value::Bool(b) => ValueDoc::Bool { value: *b, text },
            Value::Char(c) => ValueDoc::Char { value: *c, text },
            Value::Int(i) => ValueDoc::Int {
                value: i.to_string(),
                text,
            },
            Value::UInt(u) => ValueDoc::Uint {
                value: u.to_string(),
                text,
            },
            Value::F32(f) => ValueDoc::Float {
                value: value::float_text(f64::from(*f), true),
                precision: "single".into(),
                text,
            },
            Value::F64(f) => ValueDoc::Float {
                value: value::float_text(*f, false),
                precision: "double".into(),
                text,
            },
            Value::Pointer(p) => ValueDoc::Pointer {
                value: Address(*p),
                text,
            },
            Value::Enum {
                type_name,
                value,
                name,
            } => ValueDoc::Enum {
                type_name: type_name.clone(),
                value: value.to_string(),
                name: name.clone(),
                text,
            },
            Value::DateTime { ticks, kind } => ValueDoc::Datetime {
                ticks: ticks.to_string(),
                datetime_kind: kind.as_str().into(),
                iso: format!(
                    "{}{}",
                    value::ticks_text(*ticks),
                    if *kind == value::DateTimeKind::Utc {
                        "Z"
                    } else {
                        ""
                    }
                ),
                text,
            },
            Value::TimeSpan(t) => ValueDoc::Timespan {
                ticks: t.to_string(),
                text,
            },
            Value::DateTimeOffset {
                utc_ticks,
                offset_minutes,
            } => ValueDoc::Datetimeoffset {
                utc_ticks: utc_ticks.to_string(),
                offset_minutes: *offset_minutes,
                text,
            },
            Value::Guid(g) => ValueDoc::Guid {
                value: value::guid_text(g),
                text,
            },
            Value::Decimal(d) => ValueDoc::Decimal {
                value: d.clone(),
                text,
            },
            Value::Nullable(v) => ValueDoc::Nullable {
                value: v.as_ref().map(|v| Box::new(self.value(v))),
                text,
            },
            Value::Struct { type_name, fields } => ValueDoc::Struct {
                type_name: type_name.clone(),
                fields: fields.iter().map(|f| self.field(f)).collect(),
                text,
            },
            Value::Ref(r) => self.reference(r, true),
            Value::Unreadable(why) => ValueDoc::Unreadable {
                why: why.clone(),
                text,
            },
            Value::Redacted => ValueDoc::Redacted { text },
        }
    }

    fn reference(&self, r: &Reference, with_values: bool) -> ValueDoc {
        let g = self.graph;
        let type_id = r.node.map(|n| TypeId(self.groups.id_of(g.node_type(n))));
        let t = r.type_name.as_deref().unwrap_or("(no object there)");
        ValueDoc::Ref {
            address: Address(r.address),
            node: r.node.map(NodeId),
            type_id,
            type_name: r.type_name.clone(),
            string: r
                .string
                .as_ref()
                .filter(|_| with_values)
                .map(|s| StringDoc {
                    text: s.text.clone(),
                    length: s.length,
                    truncated: s.truncated,
                }),
            boxed: r
                .boxed
                .as_ref()
                .filter(|_| with_values)
                .map(|b| Box::new(self.value(b))),
            text: if with_values {
                Value::Ref(r.clone()).display()
            } else {
                format!("{t} @ {:#x}", r.address)
            },
        }
    }
}
