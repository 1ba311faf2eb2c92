//! Values: what a field or an element holds, decoded from its bytes by
//! its layout, and written the way people read them.

use crate::layout::{EnumInfo, FieldKind, Primitive, Special, StructLayout};
use crate::reader::{le, ObjectReader};
use heaplens_graph::NodeIndex;

/// `DateTime.Kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateTimeKind {
    /// Neither UTC nor local.
    Unspecified,
    /// UTC.
    Utc,
    /// Local time (the top bits 2 or 3: 3 marks an ambiguous
    /// daylight-saving hour).
    Local,
}

impl DateTimeKind {
    /// The name `DateTime.Kind.ToString()` gives.
    pub fn as_str(self) -> &'static str {
        match self {
            DateTimeKind::Unspecified => "Unspecified",
            DateTimeKind::Utc => "Utc",
            DateTimeKind::Local => "Local",
        }
    }
}

/// The first characters of a string, and its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringText {
    /// The text (at most what was asked for; unpaired surrogates as
    /// U+FFFD).
    pub text: String,
    /// Its length in UTF-16 code units (`String.Length`).
    pub length: u32,
    /// True when `text` is only the start.
    pub truncated: bool,
}

/// A reference to an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The object's address.
    pub address: u64,
    /// Its node in the graph (`None`: no object starts there).
    pub node: Option<NodeIndex>,
    /// Its type's name.
    pub type_name: Option<String>,
    /// A string's text (shortened).
    pub string: Option<StringText>,
    /// A boxed primitive's (or DateTime's, Guid's, …) value.
    pub boxed: Option<Box<Value>>,
}

/// A field's name, declared type, place and value.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldValue {
    /// Its name.
    pub name: String,
    /// The type that declares it.
    pub declared_in: String,
    /// Its declared type.
    pub type_name: String,
    /// Bytes from the object's address (a field of an object), or from
    /// the struct's start (a field of an inline struct).
    pub offset: u32,
    /// Its value.
    pub value: Value,
}

/// A value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A null reference.
    Null,
    /// A boolean (any non-zero byte is true).
    Bool(bool),
    /// A UTF-16 code unit.
    Char(u16),
    /// A signed integer (and `IntPtr`).
    Int(i64),
    /// An unsigned integer (and `UIntPtr`).
    UInt(u64),
    /// A `float`.
    F32(f32),
    /// A `double`.
    F64(f64),
    /// An unmanaged pointer.
    Pointer(u64),
    /// An enum value: its bits and the literals naming it.
    Enum {
        /// The enum's full name.
        type_name: String,
        /// The underlying integer.
        value: i128,
        /// `Green`, `Read, Write` (flags), or `None` when no literal (or
        /// combination) names it.
        name: Option<String>,
    },
    /// A `DateTime`.
    DateTime {
        /// 100 ns ticks since 0001-01-01.
        ticks: u64,
        /// Its kind.
        kind: DateTimeKind,
    },
    /// A `TimeSpan` in 100 ns ticks.
    TimeSpan(i64),
    /// A `DateTimeOffset`: local ticks and the offset in minutes.
    DateTimeOffset {
        /// 100 ns ticks of the UTC time.
        utc_ticks: u64,
        /// Offset from UTC in minutes.
        offset_minutes: i16,
    },
    /// A `Guid` (its 16 bytes as stored).
    Guid([u8; 16]),
    /// A `decimal`, exactly, as text.
    Decimal(String),
    /// A `Nullable<T>`: its value, or none.
    Nullable(Option<Box<Value>>),
    /// A value type stored inline: its fields.
    Struct {
        /// Its full name.
        type_name: String,
        /// Its fields (offsets from the struct's start).
        fields: Vec<FieldValue>,
    },
    /// A reference to an object.
    Ref(Reference),
    /// Not readable (bytes the dump lacks, an unknown layout).
    Unreadable(String),
    /// Left out: the document was asked to carry no values.
    Redacted,
}

/// How much of referenced objects a decode reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeOptions {
    /// Characters of a referenced string's text to read (0: none).
    pub string_chars: usize,
    /// Nesting of inline structs to expand.
    pub depth: u32,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            string_chars: 100,
            depth: 4,
        }
    }
}

/// Decodes a value of kind `kind` from `bytes` (at least its size).
pub fn decode(r: &dyn ObjectReader, kind: &FieldKind, bytes: &[u8], opts: DecodeOptions) -> Value {
    let ptr = r.pointer_size();
    match kind {
        FieldKind::Primitive(p) => primitive(*p, bytes, ptr),
        FieldKind::Enum(e) => enum_value(e, bytes, ptr),
        FieldKind::Pointer => le(bytes, 0, ptr as usize)
            .map(Value::Pointer)
            .unwrap_or_else(short),
        FieldKind::Reference => match le(bytes, 0, ptr as usize) {
            Some(0) => Value::Null,
            Some(a) => Value::Ref(reference(r, a, opts)),
            None => short(),
        },
        FieldKind::Struct(s) => struct_value(r, s, bytes, opts),
        FieldKind::OpaqueStruct { why, .. } => Value::Unreadable(why.clone()),
    }
}

fn short() -> Value {
    Value::Unreadable("fewer bytes than the field's size".into())
}

/// A primitive from its bytes.
pub fn primitive(p: Primitive, b: &[u8], pointer_size: u8) -> Value {
    let n = p.size(pointer_size) as usize;
    let Some(v) = le(b, 0, n) else {
        return short();
    };
    match p {
        Primitive::Bool => Value::Bool(v != 0),
        Primitive::Char => Value::Char(v as u16),
        Primitive::I8 => Value::Int(v as u8 as i8 as i64),
        Primitive::I16 => Value::Int(v as u16 as i16 as i64),
        Primitive::I32 => Value::Int(v as u32 as i32 as i64),
        Primitive::I64 => Value::Int(v as i64),
        Primitive::IntPtr if n == 4 => Value::Int(v as u32 as i32 as i64),
        Primitive::IntPtr => Value::Int(v as i64),
        Primitive::U8 | Primitive::U16 | Primitive::U32 | Primitive::U64 | Primitive::UIntPtr => {
            Value::UInt(v)
        }
        Primitive::F32 => Value::F32(f32::from_bits(v as u32)),
        Primitive::F64 => Value::F64(f64::from_bits(v)),
    }
}

fn enum_value(e: &EnumInfo, b: &[u8], pointer_size: u8) -> Value {
    let value: i128 = match primitive(e.underlying, b, pointer_size) {
        Value::Int(v) => v as i128,
        Value::UInt(v) => v as i128,
        Value::Bool(v) => v as i128,
        Value::Char(v) => v as i128,
        other => return other,
    };
    Value::Enum {
        type_name: e.name.clone(),
        value,
        name: enum_name(e, value),
    }
}

/// The name of enum value `value`: its literal, or for `[Flags]` enums the
/// literals it combines (`Read, Write`), as `Enum.ToString()` writes them.
pub fn enum_name(e: &EnumInfo, value: i128) -> Option<String> {
    let bits = value as u64;
    if let Some((_, n)) = e.literals.iter().find(|(v, _)| *v == bits) {
        return Some(n.clone());
    }
    if !e.flags || bits == 0 {
        return None;
    }
    // Largest literals first, as the runtime does.
    let mut lits: Vec<&(u64, String)> = e.literals.iter().filter(|(v, _)| *v != 0).collect();
    lits.sort_by_key(|b| std::cmp::Reverse(b.0));
    let mut rest = bits;
    let mut names = Vec::new();
    for (v, n) in lits {
        if rest & v == *v {
            rest &= !v;
            names.push(n.as_str());
        }
    }
    if rest != 0 || names.is_empty() {
        return None;
    }
    names.reverse();
    Some(names.join(", "))
}

/// A reference's target: its node, type and, for strings, their text.
pub fn reference(r: &dyn ObjectReader, address: u64, opts: DecodeOptions) -> Reference {
    let node = r.node_at(address);
    let g = r.graph();
    let type_name = node.map(|n| g.type_info(g.node_type(n)).name.clone());
    let mut out = Reference {
        address,
        node,
        type_name,
        string: None,
        boxed: None,
    };
    let Some(n) = node else {
        return out;
    };
    let Ok(layout) = r.layout(g.node_type(n)) else {
        return out;
    };
    match &layout.shape {
        crate::layout::Shape::String { .. } if opts.string_chars > 0 => {
            out.string = crate::inspect::string_text(r, n, opts.string_chars).ok();
        }
        crate::layout::Shape::Boxed(_) if opts.depth > 0 => {
            if let Ok(v) = crate::inspect::boxed_value(
                r,
                n,
                DecodeOptions {
                    depth: opts.depth - 1,
                    ..opts
                },
            ) {
                // Only simple boxes: a struct's fields are for its own view.
                if !matches!(v, Value::Struct { .. }) {
                    out.boxed = Some(Box::new(v));
                }
            }
        }
        _ => {}
    }
    out
}

/// An inline struct's value from its bytes.
pub fn struct_value(
    r: &dyn ObjectReader,
    s: &StructLayout,
    b: &[u8],
    opts: DecodeOptions,
) -> Value {
    let ptr = r.pointer_size();
    let field = |name: &str| s.fields.iter().find(|f| f.name == name);
    let at = |off: u32, n: usize| le(b, off as usize, n);
    match s.special {
        Some(Special::DateTime) => {
            if let Some(d) = s.fields.first().and_then(|f| at(f.offset, 8)) {
                return date_time(d);
            }
        }
        Some(Special::TimeSpan) => {
            if let Some(t) = s.fields.first().and_then(|f| at(f.offset, 8)) {
                return Value::TimeSpan(t as i64);
            }
        }
        Some(Special::Guid) => {
            if let Some(g) = b.get(..16) {
                let mut a = [0u8; 16];
                a.copy_from_slice(g);
                return Value::Guid(a);
            }
        }
        Some(Special::Decimal) => {
            if let Some(d) = b.get(..16) {
                return Value::Decimal(decimal_text(d));
            }
        }
        Some(Special::DateTimeOffset) => {
            let dt = s.fields.iter().find(|f| f.type_name == "System.DateTime");
            let off = s.fields.iter().find(|f| f.type_name == "System.Int16");
            if let (Some(dt), Some(off)) = (dt, off) {
                if let (Some(d), Some(o)) = (at(dt.offset, 8), at(off.offset, 2)) {
                    return Value::DateTimeOffset {
                        utc_ticks: d & TICKS_MASK,
                        offset_minutes: o as u16 as i16,
                    };
                }
            }
        }
        Some(Special::Nullable) => {
            if let (Some(has), Some(v)) = (field("hasValue"), field("value")) {
                let Some(h) = at(has.offset, 1) else {
                    return short();
                };
                if h == 0 {
                    return Value::Nullable(None);
                }
                let inner = slice_at(b, v.offset, v.kind.size(ptr));
                return Value::Nullable(Some(Box::new(decode(r, &v.kind, inner, opts))));
            }
        }
        None => {}
    }
    if opts.depth == 0 {
        return Value::Struct {
            type_name: s.name.clone(),
            fields: Vec::new(),
        };
    }
    let inner = DecodeOptions {
        depth: opts.depth - 1,
        ..opts
    };
    let fields = s
        .fields
        .iter()
        .map(|f| FieldValue {
            name: f.name.clone(),
            declared_in: f.declared_in.clone(),
            type_name: f.type_name.clone(),
            offset: f.offset,
            value: decode(r, &f.kind, slice_at(b, f.offset, f.kind.size(ptr)), inner),
        })
        .collect();
    Value::Struct {
        type_name: s.name.clone(),
        fields,
    }
}

/// The bytes of a field at `offset` of `size` (the rest of `b` when the
/// size is unknown; empty when out of range).
pub(crate) fn slice_at(b: &[u8], offset: u32, size: Option<u32>) -> &[u8] {
    let start = (offset as usize).min(b.len());
    let end = match size {
        Some(n) => start.saturating_add(n as usize).min(b.len()),
        None => b.len(),
    };
    &b[start..end]
}

/// `DateTime`'s ticks mask (the top two bits are its kind).
const TICKS_MASK: u64 = 0x3FFF_FFFF_FFFF_FFFF;

/// A `DateTime` from its `_dateData`.
pub fn date_time(data: u64) -> Value {
    Value::DateTime {
        ticks: data & TICKS_MASK,
        kind: match data >> 62 {
            0 => DateTimeKind::Unspecified,
            1 => DateTimeKind::Utc,
            _ => DateTimeKind::Local,
        },
    }
}

/// A `decimal`'s 16 bytes (`flags`, `hi`, `lo`, `mid` as 32-bit words:
/// .NET Core 3.x and later) as exact text.
pub fn decimal_text(b: &[u8]) -> String {
    let w = |i: usize| le(b, 4 * i, 4).unwrap_or(0) as u32;
    let (flags, hi, lo, mid) = (w(0), w(1), w(2), w(3));
    let scale = ((flags >> 16) & 0xFF).min(28) as usize;
    let negative = flags & 0x8000_0000 != 0;
    let n: u128 = (u128::from(hi) << 64) | (u128::from(mid) << 32) | u128::from(lo);
    let digits = n.to_string();
    let mut s = if scale == 0 {
        digits
    } else if digits.len() > scale {
        let (a, b) = digits.split_at(digits.len() - scale);
        format!("{a}.{b}")
    } else {
        format!("0.{}{digits}", "0".repeat(scale - digits.len()))
    };
    if negative && n != 0 {
        s.insert(0, '-');
    }
    s
}

/// Days from 0001-01-01 to the civil date (y, m, d) (proleptic Gregorian).
fn civil(days: i64) -> (i64, u32, u32) {
    // Howard Hinnant's algorithm, from 1970-01-01: shift by 719162 days.
    let z = days - 719_162 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Ticks as `YYYY-MM-DDThh:mm:ss.fffffff`.
pub fn ticks_text(ticks: u64) -> String {
    const PER_DAY: u64 = 864_000_000_000;
    let (y, m, d) = civil((ticks / PER_DAY) as i64);
    let t = ticks % PER_DAY;
    let secs = t / 10_000_000;
    let frac = t % 10_000_000;
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{frac:07}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// A `TimeSpan` as `[-][d.]hh:mm:ss[.fffffff]` (its `ToString()`).
pub fn time_span_text(ticks: i64) -> String {
    let neg = ticks < 0;
    let t = ticks.unsigned_abs();
    let days = t / 864_000_000_000;
    let rem = t % 864_000_000_000;
    let (h, m, s, f) = (
        rem / 36_000_000_000,
        rem / 600_000_000 % 60,
        rem / 10_000_000 % 60,
        rem % 10_000_000,
    );
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if days > 0 {
        out.push_str(&format!("{days}."));
    }
    out.push_str(&format!("{h:02}:{m:02}:{s:02}"));
    if f > 0 {
        out.push_str(&format!(".{f:07}"));
    }
    out
}

/// A `Guid`'s bytes in its `D` format.
pub fn guid_text(g: &[u8; 16]) -> String {
    let a = u32::from_le_bytes([g[0], g[1], g[2], g[3]]);
    let b = u16::from_le_bytes([g[4], g[5]]);
    let c = u16::from_le_bytes([g[6], g[7]]);
    let hex: String = g[8..].iter().map(|x| format!("{x:02x}")).collect();
    format!("{a:08x}-{b:04x}-{c:04x}-{}-{}", &hex[..4], &hex[4..])
}

/// A float as `ToString("R")` would give it: the shortest text that
/// round-trips (`3.25`, `-1.2345678E-06`, `NaN`, `Infinity`).
pub fn float_text(v: f64, single: bool) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    let s = if single {
        format!("{}", v as f32)
    } else {
        format!("{v}")
    };
    s
}

impl Value {
    /// The value in one line, as a debugger shows it: numbers, `true`,
    /// enum names, ISO dates, quoted (shortened) strings, references as
    /// `Type @ 0x…`.
    pub fn display(&self) -> String {
        match self {
            Value::Null => "null".into(),
            Value::Bool(b) => b.to_string(),
            Value::Char(c) => match char::from_u32(u32::from(*c)) {
                Some(ch) if !ch.is_control() => format!("'{ch}' ({c})"),
                _ => format!("U+{c:04X}"),
            },
            Value::Int(v) => v.to_string(),
            Value::UInt(v) => v.to_string(),
            Value::F32(v) => float_text(f64::from(*v), true),
            Value::F64(v) => float_text(*v, false),
            Value::Pointer(p) => format!("{p:#x}"),
            Value::Enum { name, value, .. } => match name {
                Some(n) => format!("{n} ({value})"),
                None => value.to_string(),
            },
            Value::DateTime { ticks, kind } => {
                let z = if *kind == DateTimeKind::Utc { "Z" } else { "" };
                format!("{}{z} ({})", ticks_text(*ticks), kind.as_str())
            }
            Value::TimeSpan(t) => time_span_text(*t),
            Value::DateTimeOffset {
                utc_ticks,
                offset_minutes,
            } => {
                let local = (*utc_ticks as i64 + i64::from(*offset_minutes) * 600_000_000) as u64;
                let sign = if *offset_minutes < 0 { '-' } else { '+' };
                let m = offset_minutes.unsigned_abs();
                format!("{}{sign}{:02}:{:02}", ticks_text(local), m / 60, m % 60)
            }
            Value::Guid(g) => guid_text(g),
            Value::Decimal(d) => d.clone(),
            Value::Nullable(None) => "null".into(),
            Value::Nullable(Some(v)) => v.display(),
            Value::Struct { type_name, fields } => {
                let inner: Vec<String> = fields
                    .iter()
                    .map(|f| format!("{} = {}", f.name, f.value.display()))
                    .collect();
                format!("{type_name} {{ {} }}", inner.join(", "))
            }
            Value::Ref(r) => {
                let t = r.type_name.as_deref().unwrap_or("(no object there)");
                if let Some(s) = &r.string {
                    let more = if s.truncated {
                        format!("… ({} chars)", s.length)
                    } else {
                        String::new()
                    };
                    format!("{}{more}", quote(&s.text))
                } else if let Some(b) = &r.boxed {
                    format!("{t} @ {:#x} = {}", r.address, b.display())
                } else {
                    format!("{t} @ {:#x}", r.address)
                }
            }
            Value::Unreadable(why) => format!("(unreadable: {why})"),
            Value::Redacted => "(value not shown)".into(),
        }
    }
}

/// `text` in double quotes, with quotes, backslashes and control
/// characters escaped.
pub fn quote(text: &str) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push('"');
    for c in text.chars() {
        match c {
            '"' => s.push_str("\\\""),
            '\\' => s.push_str("\\\\"),
            '\n' => s.push_str("\\n"),
            '\r' => s.push_str("\\r"),
            '\t' => s.push_str("\\t"),
            c if c.is_control() => s.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_spans_read_like_dotnet() {
        // new DateTime(2024, 2, 29, 13, 45, 30, 123, DateTimeKind.Utc).Ticks
        assert_eq!(
            ticks_text(638_448_111_301_230_000),
            "2024-02-29T13:45:30.1230000"
        );
        assert_eq!(ticks_text(0), "0001-01-01T00:00:00.0000000");
        // new DateTime(1999, 12, 31)
        assert_eq!(
            ticks_text(630_821_952_000_000_000),
            "1999-12-31T00:00:00.0000000"
        );
        // DateTime.MaxValue
        assert_eq!(
            ticks_text(3_155_378_975_999_999_999),
            "9999-12-31T23:59:59.9999999"
        );
        // new TimeSpan(1, 2, 3, 4, 5)
        assert_eq!(time_span_text(937_840_050_000), "1.02:03:04.0050000");
        assert_eq!(time_span_text(-15_000_000), "-00:00:01.5000000");
        assert_eq!(time_span_text(0), "00:00:00");
        let v = date_time(638_448_111_301_230_000 | (1 << 62));
        assert_eq!(
            v,
            Value::DateTime {
                ticks: 638_448_111_301_230_000,
                kind: DateTimeKind::Utc
            }
        );
        assert_eq!(v.display(), "2024-02-29T13:45:30.1230000Z (Utc)");
        assert!(matches!(
            date_time(3 << 62),
            Value::DateTime {
                kind: DateTimeKind::Local,
                ..
            }
        ));
    }

    #[test]
    fn guids_and_decimals() {
        // new Guid("6f9619ff-8b86-d011-b42d-00c04fc964ff").ToByteArray()
        let g = [
            0xff, 0x19, 0x96, 0x6f, 0x86, 0x8b, 0x11, 0xd0, 0xb4, 0x2d, 0x00, 0xc0, 0x4f, 0xc9,
            0x64, 0xff,
        ];
        assert_eq!(guid_text(&g), "6f9619ff-8b86-d011-b42d-00c04fc964ff");
        // 12345.6789m: 123456789 scale 4.
        let mut d = [0u8; 16];
        d[0..4].copy_from_slice(&(4u32 << 16).to_le_bytes());
        d[8..12].copy_from_slice(&123_456_789u32.to_le_bytes());
        assert_eq!(decimal_text(&d), "12345.6789");
        d[0..4].copy_from_slice(&((4u32 << 16) | 0x8000_0000).to_le_bytes());
        assert_eq!(decimal_text(&d), "-12345.6789");
        // 0.05m: 5 scale 2.
        let mut d = [0u8; 16];
        d[0..4].copy_from_slice(&(2u32 << 16).to_le_bytes());
        d[8..12].copy_from_slice(&5u32.to_le_bytes());
        assert_eq!(decimal_text(&d), "0.05");
        // decimal.MaxValue = 79228162514264337593543950335.
        let d = [
            0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        ];
        assert_eq!(decimal_text(&d), "79228162514264337593543950335");
    }

    #[test]
    fn enums_by_name_and_flags() {
        let color = EnumInfo {
            name: "Color".into(),
            underlying: Primitive::I32,
            flags: false,
            literals: vec![(1, "Red".into()), (2, "Green".into()), (4, "Blue".into())],
        };
        assert_eq!(enum_name(&color, 2).as_deref(), Some("Green"));
        assert_eq!(enum_name(&color, 3), None);
        let perms = EnumInfo {
            flags: true,
            literals: vec![
                (0, "None".into()),
                (1, "Read".into()),
                (2, "Write".into()),
                (4, "Exec".into()),
            ],
            ..color
        };
        assert_eq!(enum_name(&perms, 3).as_deref(), Some("Read, Write"));
        assert_eq!(enum_name(&perms, 0).as_deref(), Some("None"));
        assert_eq!(enum_name(&perms, 8), None);
    }

    #[test]
    fn floats_and_strings_display() {
        assert_eq!(float_text(3.25, true), "3.25");
        assert_eq!(float_text(f64::NAN, false), "NaN");
        assert_eq!(quote("a\"b\n"), "\"a\\\"b\\n\"");
        assert_eq!(Value::Char(0x3A9).display(), "'Ω' (937)");
    }
}
