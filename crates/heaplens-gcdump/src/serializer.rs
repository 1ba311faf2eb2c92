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
}

impl<'a> Deserializer<'a> {
    /// Checks the signature and loads the forward-reference table.
    pub fn new(src: &'a dyn ReadAt) -> Result<Self, GcdumpError> {
        let mut d = Deserializer {
            c: Cursor::new(src),
            forward: Vec::new(),
            types: HashMap::new(),
            modules: HashMap::new(),
            depth: 0,
        };
        let mut sig = [0u8; 24];
        if src.len() < 24 || src.read_at(0, &mut sig).is_err() || &sig != SIGNATURE {
            return Err(GcdumpError::new(0, ErrorKind::BadSignature));
        }
        d.load_forward_table()?;
        d.c.seek(24);
        Ok(d)
    }

    fn load_forward_table(&mut self) -> Result<(), GcdumpError> {
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
        Ok(())
    }

    /// Current offset.
    pub fn pos(&self) -> u64 {
        self.c.position()
    }

    /// Bytes left.
    pub fn remaining(&self) -> u64 {
        self.c.remaining()
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
        let at = self.pos();
        self.c.skip(n).map_err(|e| self.read_err(at, what, e))
    }

    /// Reads one byte.
    pub fn u8(&mut self, what: &'static str) -> Result<u8, GcdumpError> {
        let at = self.pos();
        self.c.u8().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads an untagged bool (any non-zero byte is true).
    pub fn bool(&mut self, what: &'static str) -> Result<bool, GcdumpError> {
        Ok(self.u8(what)? != 0)
    }

    /// Reads a u32.
    pub fn u32(&mut self, what: &'static str) -> Result<u32, GcdumpError> {
        let at = self.pos();
        self.c.u32().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads an i32.
    pub fn i32(&mut self, what: &'static str) -> Result<i32, GcdumpError> {
        let at = self.pos();
        self.c.i32().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads an i64.
    pub fn i64(&mut self, what: &'static str) -> Result<i64, GcdumpError> {
        let at = self.pos();
        self.c.i64().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads a u64.
    pub fn u64(&mut self, what: &'static str) -> Result<u64, GcdumpError> {
        let at = self.pos();
        self.c.u64().map_err(|e| self.read_err(at, what, e))
    }

    /// Reads an f32.
    pub fn f32(&mut self, what: &'static str) -> Result<f32, GcdumpError> {
        let at = self.pos();
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
