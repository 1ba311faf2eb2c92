//! What object contents need of the metadata beyond type names: method
//! names, enums (their underlying type, literal values and `[Flags]`),
//! custom attributes by type name, and the full name of a field's type as
//! the runtime's TypeString writes it.

use crate::sig::{element_type as et, SigReader};
use crate::tables::CodedIndex;
use crate::{Metadata, MetadataError, Result, TableId, Token};

/// Deepest signature nesting [`Metadata::field_type_name`] follows.
const MAX_SIG_DEPTH: u32 = 16;
/// Most generic arguments or array dimensions read from one signature.
const MAX_SIG_ITEMS: u32 = 64;

/// One literal of an enum: its name and value (the constant's bits,
/// sign-extended for signed underlying types).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumLiteral {
    /// The literal's name (`Green`).
    pub name: String,
    /// Its value as a 64-bit pattern: signed types sign-extended.
    pub value: u64,
}

/// An enum type: its underlying primitive, its literals and whether it is
/// a `[Flags]` enum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumDef {
    /// The element type of its `value__` field (`I4` for most).
    pub underlying: u8,
    /// Its literals in declaration order.
    pub literals: Vec<EnumLiteral>,
    /// Carries `System.FlagsAttribute`.
    pub flags: bool,
}

impl Metadata {
    /// The name of MethodDef `rid`.
    pub fn method_name(&self, rid: u32) -> Result<&str> {
        self.check_rid(TableId::MethodDef, rid)?;
        self.string(self.cell_unchecked(TableId::MethodDef, rid, 3))
    }

    /// The TypeDef whose method list holds MethodDef `rid` (a binary search
    /// over the TypeDefs' method lists, which are ascending).
    pub fn method_owner(&self, rid: u32) -> Option<u32> {
        let n = self.type_def_count();
        if n == 0 || rid == 0 || rid > self.row_count(TableId::MethodDef) {
            return None;
        }
        if self.row_count(TableId::MethodPtr) > 0 {
            // Unoptimized metadata: lists of positions; a linear scan.
            return (1..=n).find(|&t| self.methods(t).any(|p| self.method_list_entry(p) == rid));
        }
        // The last TypeDef whose list starts at or before `rid`, among
        // those with a non-empty list.
        let (mut lo, mut hi) = (1u32, n);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if self.methods(mid).start <= rid {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        let mut t = lo;
        loop {
            let r = self.methods(t);
            if r.contains(&rid) {
                return Some(t);
            }
            if t == 1 || r.start < rid {
                return None;
            }
            t -= 1;
        }
    }

    /// The MethodDef row at position `pos` of the method list (through
    /// `MethodPtr` when there is one).
    pub fn method_list_entry(&self, pos: u32) -> u32 {
        if self.row_count(TableId::MethodPtr) > 0 {
            self.cell(TableId::MethodPtr, pos, 0).unwrap_or(0)
        } else {
            pos
        }
    }

    /// Whether MethodDef `rid` is one of TypeDef `type_rid`'s methods.
    pub fn type_has_method(&self, type_rid: u32, rid: u32) -> bool {
        self.methods(type_rid)
            .any(|p| self.method_list_entry(p) == rid)
    }

    /// The constant of a Field, Param or Property (`parent`): its element
    /// type and value bytes, when it has one (the Constant table is sorted
    /// by parent: a binary search).
    pub fn constant(&self, parent: Token) -> Option<(u8, &[u8])> {
        let coded = CodedIndex::HasConstant.encode(parent.table()?, parent.rid())?;
        let rows = self.row_count(TableId::Constant);
        let (mut lo, mut hi) = (1u32, rows + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.cell_unchecked(TableId::Constant, mid, 1) < coded {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        if lo > rows || self.cell_unchecked(TableId::Constant, lo, 1) != coded {
            // Unsorted tables (rare): a scan.
            let row =
                (1..=rows).find(|&r| self.cell_unchecked(TableId::Constant, r, 1) == coded)?;
            lo = row;
        }
        let kind = self.cell_unchecked(TableId::Constant, lo, 0) as u8;
        let value = self
            .blob(self.cell_unchecked(TableId::Constant, lo, 2))
            .ok()?;
        Some((kind, value))
    }

    /// The full names of the custom attributes on `target` (a token of a
    /// table that can carry them).
    pub fn attribute_names(&self, target: Token) -> Vec<String> {
        let Some(coded) = target
            .table()
            .and_then(|t| CodedIndex::HasCustomAttribute.encode(t, target.rid()))
        else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for row in 1..=self.row_count(TableId::CustomAttribute) {
            if self.cell_unchecked(TableId::CustomAttribute, row, 0) != coded {
                continue;
            }
            let ctor = self.cell_unchecked(TableId::CustomAttribute, row, 1);
            if let Some(name) = self.attribute_type_name(ctor) {
                out.push(name);
            }
        }
        out
    }

    /// The full name of the type of a custom attribute's constructor (a
    /// `CustomAttributeType` coded index).
    pub fn attribute_type_name(&self, ctor: u32) -> Option<String> {
        match CodedIndex::CustomAttributeType.decode(ctor)? {
            (TableId::MemberRef, rid) => {
                let class = self.cell(TableId::MemberRef, rid, 0)?;
                match CodedIndex::MemberRefParent.decode(class)? {
                    (TableId::TypeRef, r) => self.type_ref_full_name(r).ok(),
                    (TableId::TypeDef, r) => self.full_type_name(r).ok(),
                    _ => None,
                }
            }
            (TableId::MethodDef, rid) => self.full_type_name(self.method_owner(rid)?).ok(),
            _ => None,
        }
    }

    /// The full name of the base type of TypeDef `rid` (`None` for
    /// `System.Object` and interfaces, or when it cannot be read).
    pub fn base_type_name(&self, rid: u32) -> Option<String> {
        let td = self.type_def(rid).ok()?;
        if td.extends.is_null() {
            return None;
        }
        match td.extends.table()? {
            TableId::TypeDef => self.full_type_name(td.extends.rid()).ok(),
            TableId::TypeRef => self.type_ref_full_name(td.extends.rid()).ok(),
            _ => None,
        }
    }

    /// TypeDef `rid` as an enum: `None` unless it extends `System.Enum`
    /// and has its `value__` field of a primitive type.
    pub fn enum_def(&self, rid: u32) -> Option<EnumDef> {
        if self.base_type_name(rid).as_deref() != Some("System.Enum") {
            return None;
        }
        let mut underlying = None;
        let mut literals = Vec::new();
        for f in self.type_fields(rid) {
            let Ok(field) = self.field(f) else { continue };
            if !field.is_static() {
                if let Ok(crate::FieldType::Primitive(e)) = self.field_type(f) {
                    underlying = Some(e);
                }
                continue;
            }
            if !field.is_literal() {
                continue;
            }
            let Some((kind, bytes)) = self.constant(Token::new(TableId::Field, f)) else {
                continue;
            };
            let Some(value) = constant_bits(kind, bytes) else {
                continue;
            };
            literals.push(EnumLiteral {
                name: field.name.to_owned(),
                value,
            });
        }
        let flags = self
            .attribute_names(Token::new(TableId::TypeDef, rid))
            .iter()
            .any(|n| n == "System.FlagsAttribute");
        Some(EnumDef {
            underlying: underlying?,
            literals,
            flags,
        })
    }

    /// The full name of Field `rid`'s type as the runtime's TypeString
    /// writes it (`System.Int32`, `System.String[]`,
    /// ``System.Collections.Generic.KeyValuePair`2[System.String,System.Int32]``);
    /// `var(n)` names the declaring type's type parameter `n` (an
    /// instantiation's argument), `!n` when it gives `None`.
    pub fn field_type_name(&self, rid: u32, var: &dyn Fn(u32) -> Option<String>) -> Result<String> {
        self.check_rid(TableId::Field, rid)?;
        let index = self.cell_unchecked(TableId::Field, rid, 2);
        let blob = self.blob(index)?;
        let bad = |offset: usize, detail: &'static str| MetadataError::BadSignatureBlob {
            index,
            offset,
            detail,
        };
        let mut r = SigReader::new(blob);
        if r.u8().map_err(|e| bad(e.offset, e.detail))? & 0x0F != 0x06 {
            return Err(bad(0, "not a field signature (FIELD 0x06)"));
        }
        self.sig_type_name(&mut r, var, 0)
            .map_err(|e| bad(e.offset, e.detail))
    }

    /// The name of the type at `r` (ECMA-335 II.23.2.12), custom modifiers
    /// skipped.
    fn sig_type_name(
        &self,
        r: &mut SigReader<'_>,
        var: &dyn Fn(u32) -> Option<String>,
        depth: u32,
    ) -> std::result::Result<String, crate::sig::SigError> {
        if depth > MAX_SIG_DEPTH {
            return Err(r.error("nested too deep"));
        }
        let mut e = r.u8()?;
        while e == et::CMOD_REQD || e == et::CMOD_OPT {
            r.type_token()?;
            e = r.u8()?;
        }
        Ok(match e {
            et::BOOLEAN..=et::R8 | et::I | et::U | et::STRING | et::OBJECT | et::TYPEDBYREF => {
                primitive_name(e).unwrap_or("?").to_owned()
            }
            et::VOID => "System.Void".to_owned(),
            et::CLASS | et::VALUETYPE => self.token_type_name(r.type_token()?, var, depth),
            et::SZARRAY => self.sig_type_name(r, var, depth + 1)? + "[]",
            et::ARRAY => {
                let elem = self.sig_type_name(r, var, depth + 1)?;
                let rank = r.compressed()?;
                let sizes = r.compressed()?.min(MAX_SIG_ITEMS);
                for _ in 0..sizes {
                    r.compressed()?;
                }
                let bounds = r.compressed()?.min(MAX_SIG_ITEMS);
                for _ in 0..bounds {
                    r.compressed()?;
                }
                match rank {
                    0 | 1 => elem + "[*]",
                    n => format!("{elem}[{}]", ",".repeat(n.min(MAX_SIG_ITEMS) as usize - 1)),
                }
            }
            et::GENERICINST => {
                let _kind = r.u8()?;
                let generic = self.token_type_name(r.type_token()?, var, depth);
                let n = r.compressed()?;
                if n > MAX_SIG_ITEMS {
                    return Err(r.error("too many generic arguments"));
                }
                let mut args = Vec::with_capacity(n as usize);
                for _ in 0..n {
                    args.push(self.sig_type_name(r, var, depth + 1)?);
                }
                format!("{generic}[{}]", args.join(","))
            }
            et::VAR => {
                let n = r.compressed()?;
                var(n).unwrap_or_else(|| format!("!{n}"))
            }
            et::MVAR => format!("!!{}", r.compressed()?),
            et::PTR => self.sig_type_name(r, var, depth + 1)? + "*",
            et::BYREF => self.sig_type_name(r, var, depth + 1)? + "&",
            et::FNPTR => "(function pointer)".to_owned(),
            _ => return Err(r.error("unexpected element type")),
        })
    }

    /// The full name of a TypeDef, TypeRef or TypeSpec token.
    fn token_type_name(&self, t: Token, var: &dyn Fn(u32) -> Option<String>, depth: u32) -> String {
        let name = match t.table() {
            Some(TableId::TypeDef) => self.full_type_name(t.rid()).ok(),
            Some(TableId::TypeRef) => self.type_ref_full_name(t.rid()).ok(),
            Some(TableId::TypeSpec) => self
                .cell(TableId::TypeSpec, t.rid(), 0)
                .and_then(|b| self.blob(b).ok())
                .and_then(|blob| {
                    let mut r = SigReader::new(blob);
                    self.sig_type_name(&mut r, var, depth + 1).ok()
                }),
            _ => None,
        };
        name.unwrap_or_else(|| format!("{:#010x}", t.0))
    }
}

/// The runtime's name of a primitive element type (and `string`,
/// `object`, `TypedReference`).
pub fn primitive_name(e: u8) -> Option<&'static str> {
    Some(match e {
        et::BOOLEAN => "System.Boolean",
        et::CHAR => "System.Char",
        et::I1 => "System.SByte",
        et::U1 => "System.Byte",
        et::I2 => "System.Int16",
        et::U2 => "System.UInt16",
        et::I4 => "System.Int32",
        et::U4 => "System.UInt32",
        et::I8 => "System.Int64",
        et::U8 => "System.UInt64",
        et::R4 => "System.Single",
        et::R8 => "System.Double",
        et::I => "System.IntPtr",
        et::U => "System.UIntPtr",
        et::STRING => "System.String",
        et::OBJECT => "System.Object",
        et::TYPEDBYREF => "System.TypedReference",
        _ => return None,
    })
}

/// A constant's value as a 64-bit pattern (signed types sign-extended):
/// integers, booleans and chars only.
fn constant_bits(kind: u8, b: &[u8]) -> Option<u64> {
    let le = |n: usize| -> Option<u64> {
        let s = b.get(..n)?;
        let mut v = [0u8; 8];
        v[..n].copy_from_slice(s);
        Some(u64::from_le_bytes(v))
    };
    Some(match kind {
        et::BOOLEAN | et::U1 => le(1)?,
        et::I1 => le(1)? as u8 as i8 as i64 as u64,
        et::CHAR | et::U2 => le(2)?,
        et::I2 => le(2)? as u16 as i16 as i64 as u64,
        et::U4 => le(4)?,
        et::I4 => le(4)? as u32 as i32 as i64 as u64,
        et::I8 | et::U8 => le(8)?,
        _ => return None,
    })
}
