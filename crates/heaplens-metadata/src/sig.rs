//! Field signatures (ECMA-335 II.23.2.4), as far as telling a field's kind.

use crate::{CodedIndex, Token};

/// Element type constants (ECMA-335 II.23.1.16).
pub mod element_type {
    #![allow(missing_docs)] // the standard's names
    pub const VOID: u8 = 0x01;
    pub const BOOLEAN: u8 = 0x02;
    pub const CHAR: u8 = 0x03;
    pub const I1: u8 = 0x04;
    pub const U1: u8 = 0x05;
    pub const I2: u8 = 0x06;
    pub const U2: u8 = 0x07;
    pub const I4: u8 = 0x08;
    pub const U4: u8 = 0x09;
    pub const I8: u8 = 0x0A;
    pub const U8: u8 = 0x0B;
    pub const R4: u8 = 0x0C;
    pub const R8: u8 = 0x0D;
    pub const STRING: u8 = 0x0E;
    pub const PTR: u8 = 0x0F;
    pub const BYREF: u8 = 0x10;
    pub const VALUETYPE: u8 = 0x11;
    pub const CLASS: u8 = 0x12;
    pub const VAR: u8 = 0x13;
    pub const ARRAY: u8 = 0x14;
    pub const GENERICINST: u8 = 0x15;
    pub const TYPEDBYREF: u8 = 0x16;
    pub const I: u8 = 0x18;
    pub const U: u8 = 0x19;
    pub const FNPTR: u8 = 0x1B;
    pub const OBJECT: u8 = 0x1C;
    pub const SZARRAY: u8 = 0x1D;
    pub const MVAR: u8 = 0x1E;
    pub const CMOD_REQD: u8 = 0x1F;
    pub const CMOD_OPT: u8 = 0x20;
    pub const CMOD_INTERNAL: u8 = 0x21;
    pub const PINNED: u8 = 0x45;
}

use element_type as et;

/// The type of a field, as far as its signature's first element says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    /// A primitive (`BOOLEAN` … `R8`, `I`, `U`), by element type.
    Primitive(u8),
    /// `string`.
    String,
    /// `object`.
    Object,
    /// A class (`CLASS` + TypeDefOrRef token).
    Class(Token),
    /// A value type (`VALUETYPE` + TypeDefOrRef token).
    ValueType(Token),
    /// An instantiated generic type: its generic type and whether it is a
    /// value type (`GENERICINST VALUETYPE …`).
    GenericInst {
        /// The generic type definition (TypeDef or TypeRef token).
        generic_type: Token,
        /// True for `GENERICINST VALUETYPE`.
        value_type: bool,
    },
    /// A single-dimension zero-based array (`T[]`).
    SzArray,
    /// A general array (`T[,]`).
    Array,
    /// A type parameter of the enclosing type (`!n`).
    Var(u32),
    /// A type parameter of a generic method (`!!n`).
    MVar(u32),
    /// An unmanaged pointer.
    Ptr,
    /// A function pointer.
    FnPtr,
    /// A managed reference (`ref` fields of ref structs).
    ByRef,
    /// `TypedReference`.
    TypedByRef,
}

impl FieldType {
    /// Whether a field of this type holds an object reference: `Some(true)`
    /// for string, object, classes, arrays and generic class instances,
    /// `Some(false)` for primitives, value types, pointers and byrefs,
    /// `None` for a type parameter (depends on the instantiation).
    ///
    /// The runtime stores a static field of a non-primitive value type in a
    /// boxed object: its static slot is then a reference even though this
    /// says `Some(false)`.
    pub fn is_reference(&self) -> Option<bool> {
        match self {
            FieldType::String
            | FieldType::Object
            | FieldType::Class(_)
            | FieldType::SzArray
            | FieldType::Array => Some(true),
            FieldType::GenericInst { value_type, .. } => Some(!value_type),
            FieldType::Var(_) | FieldType::MVar(_) => None,
            FieldType::Primitive(_)
            | FieldType::ValueType(_)
            | FieldType::Ptr
            | FieldType::FnPtr
            | FieldType::ByRef
            | FieldType::TypedByRef => Some(false),
        }
    }
}

/// Why a signature could not be read: the offset in the blob and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SigError {
    pub offset: usize,
    pub detail: &'static str,
}

/// A cursor over a signature blob.
pub(crate) struct SigReader<'a> {
    b: &'a [u8],
    pos: usize,
}

impl<'a> SigReader<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        SigReader { b, pos: 0 }
    }

    /// An error at the current position.
    pub fn error(&self, detail: &'static str) -> SigError {
        self.err(detail)
    }

    fn err(&self, detail: &'static str) -> SigError {
        SigError {
            offset: self.pos,
            detail,
        }
    }

    pub fn u8(&mut self) -> Result<u8, SigError> {
        let v = *self.b.get(self.pos).ok_or_else(|| self.err("ends early"))?;
        self.pos += 1;
        Ok(v)
    }

    /// A compressed unsigned integer (II.23.2).
    pub fn compressed(&mut self) -> Result<u32, SigError> {
        let (v, n) = decode_compressed(&self.b[self.pos.min(self.b.len())..])
            .ok_or_else(|| self.err("bad compressed integer"))?;
        self.pos += n;
        Ok(v)
    }

    /// A `TypeDefOrRefOrSpecEncoded` token.
    pub fn type_token(&mut self) -> Result<Token, SigError> {
        let v = self.compressed()?;
        let (t, rid) = CodedIndex::TypeDefOrRef
            .decode(v)
            .ok_or_else(|| self.err("bad TypeDefOrRef tag"))?;
        Ok(Token::new(t, rid))
    }
}

/// Decodes a compressed unsigned integer: `(value, bytes used)`.
pub fn decode_compressed(b: &[u8]) -> Option<(u32, usize)> {
    let b0 = *b.first()?;
    if b0 & 0x80 == 0 {
        Some((u32::from(b0), 1))
    } else if b0 & 0xC0 == 0x80 {
        let b1 = *b.get(1)?;
        Some(((u32::from(b0 & 0x3F) << 8) | u32::from(b1), 2))
    } else if b0 & 0xE0 == 0xC0 {
        let r = b.get(1..4)?;
        Some((
            (u32::from(b0 & 0x1F) << 24)
                | (u32::from(r[0]) << 16)
                | (u32::from(r[1]) << 8)
                | u32::from(r[2]),
            4,
        ))
    } else {
        None
    }
}

/// Parses a field signature (`FIELD` CustomMod* Type).
pub(crate) fn parse_field_sig(blob: &[u8]) -> Result<FieldType, SigError> {
    let mut r = SigReader::new(blob);
    if r.u8()? & 0x0F != 0x06 {
        return Err(SigError {
            offset: 0,
            detail: "not a field signature (FIELD 0x06)",
        });
    }
    let mut e = r.u8()?;
    // Custom modifiers; a bounded number (the blob bounds them anyway).
    while e == et::CMOD_REQD || e == et::CMOD_OPT {
        r.type_token()?;
        e = r.u8()?;
    }
    Ok(match e {
        et::BOOLEAN..=et::R8 | et::I | et::U => FieldType::Primitive(e),
        et::STRING => FieldType::String,
        et::OBJECT => FieldType::Object,
        et::CLASS => FieldType::Class(r.type_token()?),
        et::VALUETYPE => FieldType::ValueType(r.type_token()?),
        et::GENERICINST => {
            let kind = r.u8()?;
            let value_type = match kind {
                et::CLASS => false,
                et::VALUETYPE => true,
                _ => return Err(r.err("GENERICINST not followed by CLASS or VALUETYPE")),
            };
            FieldType::GenericInst {
                generic_type: r.type_token()?,
                value_type,
            }
        }
        et::SZARRAY => FieldType::SzArray,
        et::ARRAY => FieldType::Array,
        et::VAR => FieldType::Var(r.compressed()?),
        et::MVAR => FieldType::MVar(r.compressed()?),
        et::PTR => FieldType::Ptr,
        et::FNPTR => FieldType::FnPtr,
        et::BYREF => FieldType::ByRef,
        et::TYPEDBYREF => FieldType::TypedByRef,
        _ => return Err(r.err("unexpected element type")),
    })
}
