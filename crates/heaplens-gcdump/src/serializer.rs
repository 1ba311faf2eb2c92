//! The FastSerialization container: primitives, tags, objects and types,
//! the forward-reference table, and skipping to the end of an object.

use crate::error::{ErrorKind, GcdumpError};
use heaplens_bytes::{Cursor, ReadAt, ReadError};
use std::collections::HashMap;

/// The file signature: the string `!FastSerialization.1`.
pub const SIGNATURE: &[u8; 24] = b"\x14\x00\x00\x00!FastSerialization.1";

/// Tag bytes (FastSerialization `Tags`).
pub mod tag {
    /// A null object reference.
    pub const NULL_REFERENCE: u8 = 1;
    /// A reference to an object defined earlier: u32 label.
    pub const OBJECT_REFERENCE: u8 = 2;
    /// A reference to an object defined later: i32 index, type reference.
    pub const FORWARD_REFERENCE: u8 = 3;
    /// Start of an object definition.
    pub const BEGIN_OBJECT: u8 = 4;
    /// Start of an object definition not entered in the object table.
    pub const BEGIN_PRIVATE_OBJECT: u8 = 5;
    /// End of an object.
    pub const END_OBJECT: u8 = 6;
    /// i32 index, then an object definition.
    pub const FORWARD_DEFINITION: u8 = 7;
    /// A tagged byte.
    pub const BYTE: u8 = 8;
    /// A tagged i16.
    pub const INT16: u8 = 9;
    /// A tagged i32.
    pub const INT32: u8 = 10;
    /// A tagged i64.
    pub const INT64: u8 = 11;
    /// i32 forward index of the region's end, then the region.
    pub const SKIP_REGION: u8 = 12;
    /// A tagged string.
    pub const STRING: u8 = 13;
    /// i32 size, then that many bytes.
    pub const BLOB: u8 = 14;
}

/// A `SerializationType` definition: the type of an object in the stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDef {
    /// The version the writer wrote.
    pub version: i32,
    /// The oldest reader version that can read it.
    pub min_reader_version: i32,
    /// The CLR full name (`GCHeapDump`, `Graphs.MemoryGraph`...).
    pub name: String,
}

/// Nesting limit for objects inside objects: real files nest 3 deep.
const MAX_NESTING: u32 = 64;

/// Reads the container through a [`Cursor`].
pub struct Deserializer<'a> {
    c: Cursor<'a>,
    forward: Vec<u32>,
    types: HashMap<u64, TypeDef>,
    /// Labels of `Graphs.Module` definitions and their paths.
    pub(crate) modules: HashMap<u64, Option<String>>,
    depth: u32,
    /// Where the object data ends: the forward-reference table once it is
    /// loaded (the file's length before). No read goes past it, and counts
    /// are checked against the bytes before it.
    end: u64,
}

impl<'a> Deserializer<'a> {
    /// Checks the signature and loads the forward-reference table.
    pub fn new(src: &'a dyn ReadAt) -> Result<Self, GcdumpError> {
        let mut d = Deserializer::without_trailer(src)?;
        d.load_forward_table()?;
        d.c.seek(24);
        Ok(d)
    }

    /// Checks the signature only: the object data runs to the end of the
    /// file and no forward reference resolves. For finding out what a file
    /// whose end is missing promised ([`crate::heapdump::read`]).
    pub(crate) fn without_trailer(src: &'a dyn ReadAt) -> Result<Self, GcdumpError> {
        let mut d = Deserializer {
            c: Cursor::new(src),
            forward: Vec::new(),
            types: HashMap::new(),
            modules: HashMap::new(),
            depth: 0,
            end: src.len(),
        };
        let mut sig = [0u8; 24];
        if src.len() < 24 || src.read_at(0, &mut sig).is_err() || &sig != SIGNATURE {
            return Err(GcdumpError::new(0, ErrorKind::BadSignature));
        }
        d.c.seek(24);
        Ok(d)
    }

    /// Loads the forward-reference table through the trailer at the end of
    /// the file; a file that does not end with one (cut short, or damaged
    /// there) is [`ErrorKind::EndMissing`].
    fn load_forward_table(&mut self) -> Result<(), GcdumpError> {
        self.read_forward_table().map_err(|e| {
            GcdumpError::new(
                e.offset,
                ErrorKind::EndMissing {
                    detail: Box::new(e.kind),
                },
            )
        })
    }

    fn read_forward_table(&mut self) -> Result<(), GcdumpError> {
        let len = self.c.len();
        if len < 24 + 12 {
            return Err(GcdumpError::new(
                len,
                ErrorKind::BadTrailer("file too short"),
            ));
        }
        self.c.seek(len - 4);
        let trailer = self.u32("suffix label")? as u64;
        if trailer < 24 || trailer + 4 > len - 4 {
            return Err(GcdumpError::new(
                len - 4,
                ErrorKind::BadLabel {
                    what: "the suffix label",
                    label: trailer,
                },
            ));
        }
        self.c.seek(trailer);
        let table = self.u32("trailer")? as u64;
        if table < 24 || table + 4 > trailer {
            return Err(GcdumpError::new(
                trailer,
                ErrorKind::BadLabel {
                    what: "the forward-reference table label",
                    label: table,
                },
            ));
        }
        self.c.seek(table);
        let count = self.i32("forward-reference count")?;
        let max = (trailer - table - 4) / 4;
        if count < 0 || count as u64 > max {
            return Err(GcdumpError::new(
                table,
                ErrorKind::BadCount {
                    what: "forward reference",
                    count: count as i64,
                    limit: max,
                },
            ));
        }
        for _ in 0..count {
            let at = self.pos();
            let label = self.u32("forward reference")?;
            if label as u64 > table {
                return Err(GcdumpError::new(
                    at,
                    ErrorKind::BadLabel {
                        what: "a forward reference",
                        label: label as u64,
                    },
                ));
            }
            self.forward.push(label);
        }
        // The objects end where the table starts.
        self.end = table;
        Ok(())
    }

    /// Checks that `n` bytes of `what` are there before the end of the
    /// object data, and returns the current offset.
    fn need(&self, n: u64, what: &'static str) -> Result<u64, GcdumpError> {
        let at = self.pos();
        if at.checked_add(n).is_none_or(|e| e > self.end) {
            return Err(GcdumpError::new(
                at,
                ErrorKind::Truncated {
                    what,
                    needed: n,
                    available: self.end.saturating_sub(at),
                },
            ));
        }
        Ok(at)
    }

    /// Current offset.
    pub fn pos(&self) -> u64 {
        self.c.position()
    }

    /// Bytes left before the end of the object data (the forward-reference
    /// table).
    pub fn remaining(&self) -> u64 {
        self.end.saturating_sub(self.pos())
    }

    /// Where the object data ends: the offset of the forward-reference table.
    pub fn data_end(&self) -> u64 {
        self.end
    }

    /// Moves to `pos`.
    pub fn seek(&mut self, pos: u64) {
        self.c.seek(pos)
    }

    /// An error at `offset`.
    pub fn err_at(&self, offset: u64, kind: ErrorKind) -> GcdumpError {
        GcdumpError::new(offset, kind)
    }

    /// Turns a read failure at `at` into an error naming `what`.
    pub fn read_err(&self, at: u64, what: &'static str, e: ReadError) -> GcdumpError {
        match e {
            ReadError::OutOfBounds { offset, len, size } => GcdumpError::new(
                at,
                ErrorKind::Truncated {
                    what,
                    needed: len + offset.saturating_sub(at),
                    available: size.saturating_sub(at),
                },
            ),
            ReadError::Cancelled => GcdumpError::new(at, ErrorKind::Cancelled),
            other => GcdumpError::new(at, ErrorKind::Read(other)),
        }
    }

    /// Skips `n` bytes of `what`.
    pub fn skip(&mut self, n: u64, what: &'static str) -> Result<(), GcdumpError> {
        let at = self.need(n, what)?;
        self.c.skip(n).map_err(|e| self.read_err(at, what, e))
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, GcdumpError> {
        let at = self.need(1, what)?;
        self.c.u8().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads an untagged bool (any non-zero byte is true).
    pub fn bool(&mut self, what: &'static str) -> Result<bool, GcdumpError> {
        Ok(self.u8(what)? != 0)
    }

    /// Reads a u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, GcdumpError> {
        let at = self.need(4, what)?;
        self.c.u32().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads an i32.
    pub fn i32(&mut self, what: &'static str) -> Result<i32, GcdumpError> {
        let at = self.need(4, what)?;
        self.c.i32().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads an i64.
    pub fn i64(&mut self, what: &'static str) -> Result<i64, GcdumpError> {
        let at = self.need(8, what)?;
        self.c.i64().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads a u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, GcdumpError> {
        let at = self.need(8, what)?;
        self.c.u64().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads an f32.
    pub fn f32(&mut self, what: &'static str) -> Result<f32, GcdumpError> {
        let at = self.need(4, what)?;
        self.c.f32().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads a count of items each at least `min_bytes` long, checking it
    /// against the bytes left.
    pub fn count(&mut self, what: &'static str, min_bytes: u64) -> Result<usize, GcdumpError> {
        let at = self.pos();
        let n = self.i32(what)?;
        self.check_count(at, what, n as i64, min_bytes)
    }

    /// Checks a count read at `at` against the bytes left.
    pub fn check_count(
        &self,
        at: u64,
        what: &'static str,
        n: i64,
        min_bytes: u64,
    ) -> Result<usize, GcdumpError> {
        let limit = self.remaining() / min_bytes.max(1);
        if n < 0 || n as u64 > limit {
            return Err(self.err_at(
                at,
                ErrorKind::BadCount {
                    what,
                    count: n,
                    limit,
                },
            ));
        }
        Ok(n as usize)
    }

    /// Reads a string: i32 count of UTF-16 units (-1 = null), each unit in
    /// 1 to 3 bytes.
    pub fn string(&mut self, what: &'static str) -> Result<Option<String>, GcdumpError> {
        let at = self.pos();
        let n = self.i32(what)?;
        if n == -1 {
            return Ok(None);
        }
        let n = self.check_count(at, what, n as i64, 1)?;
        let mut units: Vec<u16> = Vec::with_capacity(n);
        let mut ascii = true;
        for _ in 0..n {
            let b = self.u8(what)? as u16;
            let unit = if b < 0x80 {
                b
            } else if b < 0xE0 {
                ascii = false;
                ((b & 0x1F) << 6) | (self.u8(what)? as u16 & 0x3F)
            } else {
                ascii = false;
                let b1 = self.u8(what)? as u16;
                let b2 = self.u8(what)? as u16;
                ((b & 0x0F) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F)
            };
            units.push(unit);
        }
        if ascii {
            return Ok(Some(units.iter().map(|&u| u as u8 as char).collect()));
        }
        // Unpaired surrogates (possible in .NET strings) become U+FFFD.
        Ok(Some(String::from_utf16_lossy(&units)))
    }

    /// If the next byte is `t`, consumes it and returns true; otherwise
    /// leaves the position unchanged (FastSerialization `TryReadTagged`).
    pub fn try_tag(&mut self, t: u8) -> Result<bool, GcdumpError> {
        if self.remaining() == 0 {
            return Ok(false);
        }
        let at = self.pos();
        if self.u8("tag")? == t {
            Ok(true)
        } else {
            self.seek(at);
            Ok(false)
        }
    }

    /// Reads the start of an object reference that must be null or a new
    /// definition. Returns `None` for null, or the definition's type (the
    /// position is then at its first field).
    pub fn begin_object(&mut self) -> Result<Option<(TypeDef, u64)>, GcdumpError> {
        loop {
            let at = self.pos();
            let t = self.u8("object reference")?;
            match t {
                tag::NULL_REFERENCE => return Ok(None),
                tag::BLOB => {
                    let n = self.count("blob", 1)?;
                    self.skip(n as u64, "blob")?;
                }
                tag::FORWARD_DEFINITION => {
                    self.i32("forward definition index")?;
                    let at = self.pos();
                    let t = self.u8("object definition")?;
                    if t != tag::BEGIN_OBJECT && t != tag::BEGIN_PRIVATE_OBJECT {
                        return Err(self.err_at(
                            at,
                            ErrorKind::UnexpectedTag {
                                expected: "an object definition",
                                found: t,
                            },
                        ));
                    }
                    return self.type_ref().map(|d| Some((d, at)));
                }
                tag::BEGIN_OBJECT | tag::BEGIN_PRIVATE_OBJECT => {
                    return self.type_ref().map(|d| Some((d, at)))
                }
                tag::OBJECT_REFERENCE | tag::FORWARD_REFERENCE => {
                    return Err(self.err_at(
                        at,
                        ErrorKind::Unsupported("references to objects defined elsewhere"),
                    ))
                }
                found => {
                    return Err(self.err_at(
                        at,
                        ErrorKind::UnexpectedTag {
                            expected: "an object reference",
                            found,
                        },
                    ))
                }
            }
        }
    }

    /// Like [`Self::begin_object`], but the object must be of type `expected`.
    pub fn begin_typed(&mut self, expected: &'static str) -> Result<Option<TypeDef>, GcdumpError> {
        let at = self.pos();
        match self.begin_object()? {
            None => Ok(None),
            Some((def, _)) if def.name == expected => Ok(Some(def)),
            Some((def, _)) => Err(self.err_at(
                at,
                ErrorKind::WrongObjectType {
                    expected,
                    found: def.name,
                },
            )),
        }
    }

    /// Reads a type reference: a `SerializationType` definition or a label
    /// of an earlier one.
    fn type_ref(&mut self) -> Result<TypeDef, GcdumpError> {
        let at = self.pos();
        let t = self.u8("type reference")?;
        match t {
            tag::OBJECT_REFERENCE => {
                let label = self.u32("type label")? as u64;
                self.types.get(&label).cloned().ok_or_else(|| {
                    self.err_at(
                        at,
                        ErrorKind::BadLabel {
                            what: "a type reference",
                            label,
                        },
                    )
                })
            }
            tag::BEGIN_OBJECT | tag::BEGIN_PRIVATE_OBJECT => {
                let inner = self.pos();
                let t2 = self.u8("type of a type")?;
                if t2 != tag::NULL_REFERENCE {
                    return Err(self.err_at(
                        inner,
                        ErrorKind::UnexpectedTag {
                            expected: "the null type of a SerializationType",
                            found: t2,
                        },
                    ));
                }
                let version = self.i32("type version")?;
                let min_reader_version = self.i32("type minimum reader version")?;
                let name_at = self.pos();
                let name = self.string("type name")?.ok_or_else(|| {
                    self.err_at(name_at, ErrorKind::Invalid("a type has no name".into()))
                })?;
                self.end_object()?;
                let def = TypeDef {
                    version,
                    min_reader_version,
                    name,
                };
                if t == tag::BEGIN_OBJECT {
                    self.types.insert(at, def.clone());
                }
                Ok(def)
            }
            found => Err(self.err_at(
                at,
                ErrorKind::UnexpectedTag {
                    expected: "a type reference",
                    found,
                },
            )),
        }
    }

    /// The position a forward reference index resolves to.
    pub fn forward(&self, at: u64, index: i32) -> Result<u64, GcdumpError> {
        usize::try_from(index)
            .ok()
            .and_then(|i| self.forward.get(i))
            .map(|&l| l as u64)
            .ok_or_else(|| {
                self.err_at(
                    at,
                    ErrorKind::IndexOutOfRange {
                        what: "forward reference",
                        index: index as i64,
                        limit: self.forward.len() as u64,
                    },
                )
            })
    }

    /// Skips tagged fields up to and including the current object's end tag
    /// (FastSerialization `FindEndTag`), so that fields added by newer
    /// writers are tolerated.
    pub fn end_object(&mut self) -> Result<(), GcdumpError> {
        let mut nesting = 0u32;
        loop {
            let at = self.pos();
            let t = self.u8("end of object")?;
            match t {
                tag::END_OBJECT => {
                    if nesting == 0 {
                        return Ok(());
                    }
                    nesting -= 1;
                }
                tag::BEGIN_OBJECT | tag::BEGIN_PRIVATE_OBJECT => {
                    nesting += 1;
                    if nesting + self.depth > MAX_NESTING {
                        return Err(self.err_at(
                            at,
                            ErrorKind::Invalid(format!(
                                "objects nested more than {MAX_NESTING} deep"
                            )),
                        ));
                    }
                }
                tag::NULL_REFERENCE => {}
                tag::BYTE => self.skip(1, "tagged byte")?,
                tag::INT16 => self.skip(2, "tagged i16")?,
                tag::INT32 | tag::OBJECT_REFERENCE => self.skip(4, "tagged value")?,
                tag::FORWARD_REFERENCE | tag::FORWARD_DEFINITION => {
                    self.skip(4, "forward index")?
                }
                tag::INT64 => self.skip(8, "tagged i64")?,
                tag::STRING => {
                    self.string("tagged string")?;
                }
                tag::BLOB => {
                    let n = self.count("blob", 1)?;
                    self.skip(n as u64, "blob")?;
                }
                tag::SKIP_REGION => {
                    let idx_at = self.pos();
                    let idx = self.i32("skip region index")?;
                    let end = self.forward(idx_at, idx)?;
                    if end < self.pos() {
                        return Err(self.err_at(
                            idx_at,
                            ErrorKind::BadLabel {
                                what: "a skip region's end",
                                label: end,
                            },
                        ));
                    }
                    self.seek(end);
                }
                found => {
                    return Err(self.err_at(
                        at,
                        ErrorKind::UnexpectedTag {
                            expected: "a tagged field or the end of the object",
                            found,
                        },
                    ))
                }
            }
        }
    }

    /// Enters an object (for the nesting limit).
    pub fn enter(&mut self) -> Result<(), GcdumpError> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.err_at(
                self.pos(),
                ErrorKind::Invalid(format!("objects nested more than {MAX_NESTING} deep")),
            ));
        }
        Ok(())
    }

    /// Leaves an object: skips to its end tag.
    pub fn leave(&mut self) -> Result<(), GcdumpError> {
        self.end_object()?;
        self.depth = self.depth.saturating_sub(1);
        Ok(())
    }

    /// The source.
    pub fn source(&self) -> &'a dyn ReadAt {
        self.c.source()
    }

    /// The cursor, for bulk reads.
    pub fn cursor(&mut self) -> &mut Cursor<'a> {
        &mut self.c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Writer;

    /// A container whose objects are `body`, with these forward labels.
    fn container(body: &[u8], forward: &[u32]) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(body);
        w.finish(forward)
    }

    fn err<T>(r: Result<T, GcdumpError>) -> GcdumpError {
        match r {
            Ok(_) => panic!("expected an error"),
            Err(e) => e,
        }
    }

    /// Reads one string from a container holding `body`.
    fn read_string(body: &[u8]) -> Result<Option<String>, GcdumpError> {
        let data = container(body, &[]);
        let mut d = Deserializer::new(&data)?;
        let s = d.string("s")?;
        // The end-of-objects tag follows the string.
        assert_eq!(d.u8("end").unwrap(), tag::END_OBJECT);
        Ok(s)
    }

    fn written(s: Option<&str>) -> Vec<u8> {
        let mut w = Writer::new();
        w.string(s);
        w.b.split_off(SIGNATURE.len())
    }

    #[test]
    fn signature_is_the_string_fast_serialization_1() {
        assert_eq!(written(Some("!FastSerialization.1")), SIGNATURE);
        let mut data = container(&[], &[]);
        data[4] = b'?';
        assert!(matches!(
            err(Deserializer::new(&data)).kind,
            ErrorKind::BadSignature
        ));
        let short = &SIGNATURE[..20];
        assert_eq!(err(Deserializer::new(&short)).offset, 0);
    }

    #[test]
    fn strings_store_each_utf16_unit_in_one_to_three_bytes() {
        let cases: [(&str, &[u8]); 7] = [
            ("", &[0, 0, 0, 0]),
            ("A~", &[2, 0, 0, 0, b'A', b'~']),
            ("\u{80}", &[1, 0, 0, 0, 0xC2, 0x80]),
            ("é", &[1, 0, 0, 0, 0xC3, 0xA9]),
            ("\u{7FF}", &[1, 0, 0, 0, 0xDF, 0xBF]),
            ("€", &[1, 0, 0, 0, 0xE2, 0x82, 0xAC]),
            ("\u{FFFF}", &[1, 0, 0, 0, 0xEF, 0xBF, 0xBF]),
        ];
        for (s, bytes) in cases {
            assert_eq!(written(Some(s)), bytes, "{s:?}");
            assert_eq!(read_string(bytes).unwrap().as_deref(), Some(s), "{s:?}");
        }
    }

    #[test]
    fn the_count_is_of_code_units_not_bytes() {
        // Two units, five bytes; the next byte is not part of the string.
        let body = [2, 0, 0, 0, 0xC3, 0xA9, 0xE2, 0x82, 0xAC];
        assert_eq!(read_string(&body).unwrap().as_deref(), Some("é€"));
    }

    #[test]
    fn surrogate_pairs_are_two_three_byte_units() {
        // U+1F600 is D83D DE00: CESU-8 style, not 4-byte UTF-8.
        let bytes = written(Some("😀"));
        assert_eq!(bytes, [2, 0, 0, 0, 0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80]);
        assert_eq!(read_string(&bytes).unwrap().as_deref(), Some("😀"));
        // An unpaired surrogate (legal in .NET) becomes U+FFFD.
        let mut w = Writer::new();
        w.units(Some(&[0x41, 0xD800, 0x42]));
        let bytes = w.b.split_off(SIGNATURE.len());
        assert_eq!(read_string(&bytes).unwrap().as_deref(), Some("A\u{FFFD}B"));
    }

    #[test]
    fn lead_bytes_decide_the_length_as_in_perfview() {
        // PerfView's reader: < 0x80 one byte, < 0xE0 two, else three; the
        // masks keep 5 and 4 bits of the lead, 6 of the others.
        let two = [1, 0, 0, 0, 0x85, 0x41]; // a continuation byte as lead
        assert_eq!(
            read_string(&two).unwrap().as_deref(),
            Some("\u{141}") // (0x05 << 6) | 0x01
        );
        let three = [1, 0, 0, 0, 0xF5, 0x80, 0x81]; // 0xF5 keeps 4 bits
        assert_eq!(read_string(&three).unwrap().as_deref(), Some("\u{5001}"));
    }

    #[test]
    fn null_and_bad_string_lengths() {
        assert_eq!(read_string(&written(None)).unwrap(), None);
        let e = err(read_string(&(-2i32).to_le_bytes()));
        assert!(matches!(e.kind, ErrorKind::BadCount { count: -2, .. }));
        assert_eq!(e.offset, 24);
        // 100 units cannot fit in the 3 bytes before the table.
        let e = err(read_string(&[100, 0, 0, 0, b'a', b'b', b'c']));
        assert!(matches!(
            e.kind,
            ErrorKind::BadCount {
                count: 100,
                limit: 4,
                ..
            }
        ));
        // A 3-byte unit whose last byte would be the forward-reference
        // table's (the end-of-objects tag before it is still object data).
        let data = container(&[1, 0, 0, 0, 0xE2], &[]);
        let e = err(Deserializer::new(&data).unwrap().string("s"));
        assert!(matches!(
            e.kind,
            ErrorKind::Truncated {
                what: "s",
                needed: 1,
                available: 0
            }
        ));
        assert_eq!(e.offset, 30);
    }

    #[test]
    fn primitives_are_little_endian() {
        let mut w = Writer::new();
        w.u8(0xAB).i32(-2).u32(0xDEAD_BEEF).i64(-3).f32(1.5);
        w.bytes(&0x0102_0304_0506_0708u64.to_le_bytes()).u8(1);
        let body = w.b.split_off(24);
        let data = container(&body, &[]);
        let mut d = Deserializer::new(&data).unwrap();
        assert_eq!(d.u8("").unwrap(), 0xAB);
        assert_eq!(d.i32("").unwrap(), -2);
        assert_eq!(d.u32("").unwrap(), 0xDEAD_BEEF);
        assert_eq!(d.i64("").unwrap(), -3);
        assert_eq!(d.f32("").unwrap(), 1.5);
        assert_eq!(d.u64("").unwrap(), 0x0102_0304_0506_0708);
        assert!(d.bool("").unwrap());
        assert_eq!(d.remaining(), 1); // the end-of-objects tag
    }

    #[test]
    fn object_data_ends_at_the_forward_table() {
        let data = container(&[0; 8], &[]);
        let mut d = Deserializer::new(&data).unwrap();
        assert_eq!(d.data_end(), 24 + 8 + 1);
        assert_eq!(d.remaining(), 9);
        d.skip(7, "x").unwrap();
        // The table's count is there in the file, but not for the objects.
        let e = err(d.i32("field"));
        assert_eq!(e.offset, 31);
        assert!(matches!(
            e.kind,
            ErrorKind::Truncated {
                what: "field",
                needed: 4,
                available: 2
            }
        ));
        assert!(d.skip(3, "x").is_err());
        assert_eq!(d.pos(), 31);
        // Counts are checked against the object bytes only.
        let e = err(d.count("thing", 1));
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
        d.seek(24);
        assert_eq!(d.check_count(24, "thing", 9, 1).unwrap(), 9);
        assert!(d.check_count(24, "thing", 10, 1).is_err());
        assert!(d.check_count(24, "thing", 3, 4).is_err());
    }

    #[test]
    fn try_tag_consumes_only_a_match() {
        let data = container(&[tag::BYTE, 7], &[]);
        let mut d = Deserializer::new(&data).unwrap();
        assert!(!d.try_tag(tag::STRING).unwrap());
        assert_eq!(d.pos(), 24);
        assert!(d.try_tag(tag::BYTE).unwrap());
        assert_eq!(d.u8("").unwrap(), 7);
        assert!(d.try_tag(tag::END_OBJECT).unwrap());
        // At the end of the objects nothing matches.
        assert!(!d.try_tag(tag::END_OBJECT).unwrap());
    }

    #[test]
    fn object_references() {
        let mut w = Writer::new();
        w.u8(tag::NULL_REFERENCE);
        // A blob to skip, then the reference.
        w.u8(tag::BLOB)
            .i32(3)
            .bytes(&[9, 9, 9])
            .u8(tag::NULL_REFERENCE);
        let first = w.pos();
        w.begin("Foo", 3, 1);
        w.i32(42).end();
        // A forward definition wrapping a private object.
        let second = w.pos();
        w.u8(tag::FORWARD_DEFINITION)
            .i32(0)
            .u8(tag::BEGIN_PRIVATE_OBJECT);
        w.type_def("Bar", 0, 0);
        w.end();
        let data = w.finish(&[]);
        let mut d = Deserializer::new(&data).unwrap();
        assert!(d.begin_object().unwrap().is_none());
        assert!(d.begin_object().unwrap().is_none());
        let (def, at) = d.begin_object().unwrap().unwrap();
        assert_eq!(at, first as u64);
        assert_eq!(
            def,
            TypeDef {
                version: 3,
                min_reader_version: 1,
                name: "Foo".into()
            }
        );
        assert_eq!(d.i32("").unwrap(), 42);
        d.end_object().unwrap();
        let (def, at) = d.begin_object().unwrap().unwrap();
        assert_eq!((def.name.as_str(), at), ("Bar", second as u64 + 5));
        d.end_object().unwrap();
        assert_eq!(d.remaining(), 1);
    }

    #[test]
    fn references_to_objects_elsewhere_are_unsupported() {
        for t in [tag::OBJECT_REFERENCE, tag::FORWARD_REFERENCE] {
            let data = container(&[t, 0, 0, 0, 0], &[]);
            let mut d = Deserializer::new(&data).unwrap();
            let e = err(d.begin_object());
            assert!(matches!(e.kind, ErrorKind::Unsupported(_)), "{t}");
            assert_eq!(e.offset, 24);
        }
        for t in [0, tag::END_OBJECT, tag::INT32, tag::STRING, 0x0F, 0xFF] {
            let data = container(&[t, 0, 0, 0, 0], &[]);
            let mut d = Deserializer::new(&data).unwrap();
            let e = err(d.begin_object());
            assert!(
                matches!(e.kind, ErrorKind::UnexpectedTag { found, .. } if found == t),
                "{t}: {e}"
            );
        }
        // A forward definition must wrap a definition.
        let data = container(&[tag::FORWARD_DEFINITION, 0, 0, 0, 0, tag::INT32], &[]);
        let mut d = Deserializer::new(&data).unwrap();
        let e = err(d.begin_object());
        assert_eq!(e.offset, 29);
    }

    #[test]
    fn types_are_defined_once_then_referenced_by_label() {
        let mut w = Writer::new();
        w.begin("Seg", 1, 1);
        w.end();
        let label = w.pos() - 19; // the type's BeginObject
        w.u8(tag::BEGIN_OBJECT)
            .u8(tag::OBJECT_REFERENCE)
            .u32(label)
            .end();
        // A label that is not a type definition.
        w.u8(tag::BEGIN_OBJECT)
            .u8(tag::OBJECT_REFERENCE)
            .u32(24)
            .end();
        let data = w.finish(&[]);
        let mut d = Deserializer::new(&data).unwrap();
        let first = d.begin_typed("Seg").unwrap().unwrap();
        d.end_object().unwrap();
        assert_eq!(d.begin_typed("Seg").unwrap(), Some(first));
        d.end_object().unwrap();
        let at = d.pos();
        let e = err(d.begin_object());
        assert!(matches!(
            e.kind,
            ErrorKind::BadLabel {
                what: "a type reference",
                label: 24
            }
        ));
        assert_eq!(e.offset, at + 1);
    }

    #[test]
    fn private_types_are_not_entered_in_the_type_table() {
        let mut w = Writer::new();
        let label = w.pos() + 1;
        w.u8(tag::BEGIN_OBJECT).u8(tag::BEGIN_PRIVATE_OBJECT);
        w.u8(tag::NULL_REFERENCE)
            .i32(0)
            .i32(0)
            .string(Some("P"))
            .end();
        w.end();
        w.u8(tag::BEGIN_OBJECT)
            .u8(tag::OBJECT_REFERENCE)
            .u32(label)
            .end();
        let data = w.finish(&[]);
        let mut d = Deserializer::new(&data).unwrap();
        d.begin_typed("P").unwrap();
        d.end_object().unwrap();
        assert!(matches!(
            err(d.begin_object()).kind,
            ErrorKind::BadLabel { .. }
        ));
    }

    #[test]
    fn a_type_must_have_the_null_type_and_a_name() {
        let mut w = Writer::new();
        w.u8(tag::BEGIN_OBJECT)
            .u8(tag::BEGIN_OBJECT)
            .u8(tag::OBJECT_REFERENCE);
        let data = w.finish(&[]);
        let e = err(Deserializer::new(&data).unwrap().begin_object());
        assert!(matches!(
            e.kind,
            ErrorKind::UnexpectedTag {
                found: tag::OBJECT_REFERENCE,
                ..
            }
        ));
        assert_eq!(e.offset, 26);
        let mut w = Writer::new();
        w.u8(tag::BEGIN_OBJECT)
            .u8(tag::BEGIN_OBJECT)
            .u8(tag::NULL_REFERENCE);
        w.i32(0).i32(0).string(None).end();
        let data = w.finish(&[]);
        let e = err(Deserializer::new(&data).unwrap().begin_object());
        assert!(matches!(e.kind, ErrorKind::Invalid(_)));
        assert_eq!(e.offset, 35);
    }

    #[test]
    fn begin_typed_checks_the_type_name() {
        let mut w = Writer::new();
        w.begin("Graphs.Module", 0, 0);
        let data = w.finish(&[]);
        let e = err(Deserializer::new(&data).unwrap().begin_typed("GCHeapDump"));
        assert!(matches!(
            e.kind,
            ErrorKind::WrongObjectType {
                expected: "GCHeapDump",
                ref found
            } if found == "Graphs.Module"
        ));
        assert_eq!(e.offset, 24);
    }

    #[test]
    fn end_object_skips_every_kind_of_tagged_field() {
        let mut w = Writer::new();
        w.u8(tag::BYTE).u8(0xFF);
        w.u8(tag::INT16).bytes(&[6, 6]);
        w.u8(tag::INT32).i32(0x0606_0606);
        w.u8(tag::INT64).i64(0x0606_0606_0606_0606);
        w.u8(tag::STRING).string(Some("\u{6}é"));
        w.u8(tag::STRING).string(None);
        w.u8(tag::BLOB).i32(2).bytes(&[6, 6]);
        w.u8(tag::NULL_REFERENCE);
        w.u8(tag::OBJECT_REFERENCE).u32(0x0606_0606);
        w.u8(tag::FORWARD_REFERENCE).i32(0x0606_0606);
        // A nested object (its type by label: untagged type fields would
        // not be skippable) with its own end tag.
        w.u8(tag::BEGIN_OBJECT)
            .u8(tag::OBJECT_REFERENCE)
            .u32(0x0606_0606);
        w.u8(tag::INT32).i32(6).end();
        // A skip region: garbage up to the label of forward reference 0.
        w.u8(tag::SKIP_REGION).i32(0).bytes(&[0xFF, 0x06, 0x00]);
        let region_end = w.pos();
        w.end().u8(0xAA);
        let data = w.finish(&[region_end]);
        let mut d = Deserializer::new(&data).unwrap();
        d.end_object().unwrap();
        assert_eq!(d.u8("marker").unwrap(), 0xAA);
    }

    #[test]
    fn end_object_rejects_unknown_tags_and_bad_regions() {
        for t in [0u8, 0x0F, 0x80, 0xFF] {
            let data = container(&[tag::BYTE, 1, t], &[]);
            let e = err(Deserializer::new(&data).unwrap().end_object());
            assert!(matches!(e.kind, ErrorKind::UnexpectedTag { found, .. } if found == t));
            assert_eq!(e.offset, 26);
        }
        // Region index outside the table.
        let data = container(&[tag::SKIP_REGION, 1, 0, 0, 0], &[24]);
        let e = err(Deserializer::new(&data).unwrap().end_object());
        assert!(matches!(
            e.kind,
            ErrorKind::IndexOutOfRange {
                what: "forward reference",
                index: 1,
                limit: 1
            }
        ));
        assert_eq!(e.offset, 25);
        // A region ending before it starts.
        let data = container(&[tag::SKIP_REGION, 0, 0, 0, 0], &[24]);
        let e = err(Deserializer::new(&data).unwrap().end_object());
        assert!(matches!(
            e.kind,
            ErrorKind::BadLabel {
                what: "a skip region's end",
                label: 24
            }
        ));
        // A region ending at the table: the object's end is missing.
        let data = container(&[tag::SKIP_REGION, 0, 0, 0, 0], &[30]);
        let e = err(Deserializer::new(&data).unwrap().end_object());
        assert!(matches!(e.kind, ErrorKind::Truncated { .. }));
        assert_eq!(e.offset, 30);
        // A blob longer than what is left.
        let data = container(&[tag::BLOB, 0xFF, 0xFF, 0xFF, 0x7F], &[]);
        let e = err(Deserializer::new(&data).unwrap().end_object());
        assert!(matches!(e.kind, ErrorKind::BadCount { what: "blob", .. }));
    }

    #[test]
    fn deep_nesting_is_refused() {
        let body = vec![tag::BEGIN_OBJECT; 1000];
        let data = container(&body, &[]);
        let e = err(Deserializer::new(&data).unwrap().end_object());
        assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
        assert_eq!(e.offset, 24 + MAX_NESTING as u64);
        let mut d = Deserializer::new(&data).unwrap();
        for _ in 0..MAX_NESTING {
            d.enter().unwrap();
        }
        assert!(matches!(err(d.enter()).kind, ErrorKind::Invalid(_)));
    }

    #[test]
    fn forward_references_resolve_through_the_trailer() {
        let data = container(&[0; 10], &[24, 30, 34]);
        let d = Deserializer::new(&data).unwrap();
        assert_eq!(d.forward(0, 1).unwrap(), 30);
        assert_eq!(d.forward(0, 2).unwrap(), 34); // the table itself
        for i in [-1, 3, i32::MAX] {
            let e = err(d.forward(7, i));
            assert_eq!(e.offset, 7);
            assert!(matches!(
                e.kind,
                ErrorKind::IndexOutOfRange { limit: 3, .. }
            ));
        }
    }

    #[test]
    fn damaged_trailers() {
        let good = container(&[0; 4], &[24]);
        let len = good.len();
        let (table, trailer) = (len - 16, len - 8);
        assert!(Deserializer::new(&good).is_ok());
        let set = |at: usize, v: u32| {
            let mut d = good.clone();
            d[at..at + 4].copy_from_slice(&v.to_le_bytes());
            d
        };
        let kind = |data: Vec<u8>| {
            let e = err(Deserializer::new(&data));
            match e.kind {
                // Every damage at the end says so (a file cut short).
                ErrorKind::EndMissing { detail } => GcdumpError {
                    offset: e.offset,
                    kind: *detail,
                },
                other => panic!("not EndMissing: {other:?}"),
            }
        };
        let e = kind(set(len - 4, len as u32));
        assert!(matches!(
            e.kind,
            ErrorKind::BadLabel {
                what: "the suffix label",
                ..
            }
        ));
        assert_eq!(e.offset, len as u64 - 4);
        for bad in [0, 23, trailer as u32] {
            let e = kind(set(trailer, bad));
            assert!(matches!(
                e.kind,
                ErrorKind::BadLabel {
                    what: "the forward-reference table label",
                    ..
                }
            ));
            assert_eq!(e.offset, trailer as u64);
        }
        for bad in [-1i32, 2, i32::MAX] {
            let e = kind(set(table, bad as u32));
            assert!(matches!(
                e.kind,
                ErrorKind::BadCount {
                    what: "forward reference",
                    ..
                }
            ));
            assert_eq!(e.offset, table as u64);
        }
        let e = kind(set(table + 4, table as u32 + 1));
        assert!(matches!(
            e.kind,
            ErrorKind::BadLabel {
                what: "a forward reference",
                ..
            }
        ));
        assert_eq!(e.offset, table as u64 + 4);
        let short = [SIGNATURE.as_slice(), &[0; 11]].concat();
        assert!(matches!(kind(short).kind, ErrorKind::BadTrailer(_)));
    }
}
