//! Type layouts: where an object's fields are and what they hold, as the
//! runtime placed them.

use std::sync::Arc;

/// A primitive value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Primitive {
    /// `System.Boolean` (one byte).
    Bool,
    /// `System.Char` (a UTF-16 code unit).
    Char,
    /// `System.SByte`.
    I8,
    /// `System.Byte`.
    U8,
    /// `System.Int16`.
    I16,
    /// `System.UInt16`.
    U16,
    /// `System.Int32`.
    I32,
    /// `System.UInt32`.
    U32,
    /// `System.Int64`.
    I64,
    /// `System.UInt64`.
    U64,
    /// `System.Single`.
    F32,
    /// `System.Double`.
    F64,
    /// `System.IntPtr` (pointer-sized).
    IntPtr,
    /// `System.UIntPtr` (pointer-sized).
    UIntPtr,
}

impl Primitive {
    /// The primitive of an ECMA-335 element type (`0x02`–`0x0D`, `0x18`,
    /// `0x19`).
    pub fn from_element_type(e: u8) -> Option<Primitive> {
        Some(match e {
            0x02 => Primitive::Bool,
            0x03 => Primitive::Char,
            0x04 => Primitive::I8,
            0x05 => Primitive::U8,
            0x06 => Primitive::I16,
            0x07 => Primitive::U16,
            0x08 => Primitive::I32,
            0x09 => Primitive::U32,
            0x0A => Primitive::I64,
            0x0B => Primitive::U64,
            0x0C => Primitive::F32,
            0x0D => Primitive::F64,
            0x18 => Primitive::IntPtr,
            0x19 => Primitive::UIntPtr,
            _ => return None,
        })
    }

    /// Its size in bytes in a process with `pointer_size`-byte pointers.
    pub fn size(self, pointer_size: u8) -> u32 {
        match self {
            Primitive::Bool | Primitive::I8 | Primitive::U8 => 1,
            Primitive::Char | Primitive::I16 | Primitive::U16 => 2,
            Primitive::I32 | Primitive::U32 | Primitive::F32 => 4,
            Primitive::I64 | Primitive::U64 | Primitive::F64 => 8,
            Primitive::IntPtr | Primitive::UIntPtr => u32::from(pointer_size),
        }
    }

    /// Its full name (`System.Int32`).
    pub fn name(self) -> &'static str {
        match self {
            Primitive::Bool => "System.Boolean",
            Primitive::Char => "System.Char",
            Primitive::I8 => "System.SByte",
            Primitive::U8 => "System.Byte",
            Primitive::I16 => "System.Int16",
            Primitive::U16 => "System.UInt16",
            Primitive::I32 => "System.Int32",
            Primitive::U32 => "System.UInt32",
            Primitive::I64 => "System.Int64",
            Primitive::U64 => "System.UInt64",
            Primitive::F32 => "System.Single",
            Primitive::F64 => "System.Double",
            Primitive::IntPtr => "System.IntPtr",
            Primitive::UIntPtr => "System.UIntPtr",
        }
    }

    /// The primitive named `name` (`System.Int32`).
    pub fn from_name(name: &str) -> Option<Primitive> {
        ALL.iter().copied().find(|p| p.name() == name)
    }

    /// True for the signed integers (and `IntPtr`).
    pub fn is_signed(self) -> bool {
        matches!(
            self,
            Primitive::I8 | Primitive::I16 | Primitive::I32 | Primitive::I64 | Primitive::IntPtr
        )
    }
}

const ALL: [Primitive; 14] = [
    Primitive::Bool,
    Primitive::Char,
    Primitive::I8,
    Primitive::U8,
    Primitive::I16,
    Primitive::U16,
    Primitive::I32,
    Primitive::U32,
    Primitive::I64,
    Primitive::U64,
    Primitive::F32,
    Primitive::F64,
    Primitive::IntPtr,
    Primitive::UIntPtr,
];

/// An enum type: its name, underlying primitive and literals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnumInfo {
    /// Its full name.
    pub name: String,
    /// The underlying integer type.
    pub underlying: Primitive,
    /// `[Flags]`: a value is shown as the literals it combines.
    pub flags: bool,
    /// Its literals: value (a 64-bit pattern, signed types sign-extended)
    /// and name, in declaration order.
    pub literals: Vec<(u64, String)>,
}

/// What a value type is to people beyond its fields: values shown in
/// their own notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Special {
    /// `System.DateTime`: ticks and kind in one `u64`.
    DateTime,
    /// `System.TimeSpan`: ticks.
    TimeSpan,
    /// `System.DateTimeOffset`: a UTC `DateTime` and an offset in minutes.
    DateTimeOffset,
    /// `System.Guid`: 16 bytes.
    Guid,
    /// `System.Decimal`: 96-bit integer, scale and sign.
    Decimal,
    /// `System.Nullable<T>`: `hasValue` and `value`.
    Nullable,
}

impl Special {
    /// The special of a value type by its full name.
    pub fn of(name: &str) -> Option<Special> {
        Some(match name {
            "System.DateTime" => Special::DateTime,
            "System.TimeSpan" => Special::TimeSpan,
            "System.DateTimeOffset" => Special::DateTimeOffset,
            "System.Guid" => Special::Guid,
            "System.Decimal" => Special::Decimal,
            n if n.starts_with("System.Nullable`1[") => Special::Nullable,
            _ => return None,
        })
    }
}

/// A value type's layout (inline in a field, an array element, or a
/// boxed object's contents).
#[derive(Debug, Clone, PartialEq)]
pub struct StructLayout {
    /// Its full name.
    pub name: String,
    /// Bytes of its fields (offsets below are from its start).
    pub size: u32,
    /// Its instance fields, by offset.
    pub fields: Vec<FieldLayout>,
    /// Shown in its own notation.
    pub special: Option<Special>,
}

/// What a field (or an array element) holds.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldKind {
    /// A primitive.
    Primitive(Primitive),
    /// An enum: its underlying integer, shown by name.
    Enum(Arc<EnumInfo>),
    /// An object reference (or null).
    Reference,
    /// A value type stored inline, whose layout is known.
    Struct(Arc<StructLayout>),
    /// A value type stored inline whose layout could not be read: its
    /// size when known, and why.
    OpaqueStruct {
        /// Its bytes, when known.
        size: Option<u32>,
        /// Why its fields are not known.
        why: String,
    },
    /// An unmanaged pointer (or a function pointer).
    Pointer,
}

impl FieldKind {
    /// Bytes a value of this kind takes inline (`None` for an opaque
    /// struct of unknown size).
    pub fn size(&self, pointer_size: u8) -> Option<u32> {
        match self {
            FieldKind::Primitive(p) => Some(p.size(pointer_size)),
            FieldKind::Enum(e) => Some(e.underlying.size(pointer_size)),
            FieldKind::Reference | FieldKind::Pointer => Some(u32::from(pointer_size)),
            FieldKind::Struct(s) => Some(s.size),
            FieldKind::OpaqueStruct { size, .. } => *size,
        }
    }
}

/// One instance field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldLayout {
    /// Its name.
    pub name: String,
    /// The type that declares it (a base class for inherited fields).
    pub declared_in: String,
    /// Its declared type's full name (from its signature).
    pub type_name: String,
    /// Bytes from the start of the instance's data (after the object's
    /// header word and MethodTable pointer), or from a struct's start.
    pub offset: u32,
    /// What it holds.
    pub kind: FieldKind,
}

/// What the instances of a type are.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A class: its fields from the instance data's start.
    Class,
    /// A boxed value type: the value's fields from the instance data's
    /// start.
    Boxed(Option<Special>),
    /// `System.String`: a 32-bit length, then UTF-16 code units.
    String {
        /// Bytes from the object's address to its length.
        length_offset: u32,
        /// Bytes from the object's address to its first character.
        chars_offset: u32,
    },
    /// An array.
    Array(ArrayLayout),
    /// Free space between objects.
    Free,
}

/// An array type's layout.
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayLayout {
    /// The element type's full name.
    pub element_type: String,
    /// What each element holds.
    pub element: FieldKind,
    /// Bytes per element.
    pub element_size: u32,
    /// 1 for `T[]`; the rank of a multi-dimensional array.
    pub rank: u32,
    /// Bytes from the object's address to the element count (a `u32`).
    pub length_offset: u32,
    /// Bytes from the object's address to the first element.
    pub data_offset: u32,
}

/// The layout of a type's instances.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeLayout {
    /// The type's name.
    pub name: String,
    /// What its instances are.
    pub shape: Shape,
    /// Instance fields (its own and its base classes'), by offset; empty
    /// for strings, arrays and free space.
    pub fields: Vec<FieldLayout>,
    /// Bytes from the object's address to the instance data (the
    /// MethodTable pointer's size).
    pub data_offset: u32,
    /// What could not be read (a base class without metadata, a field
    /// whose type is unknown), in words.
    pub notes: Vec<String>,
}

impl TypeLayout {
    /// The field named `name` (the most derived one when a base class
    /// declares the same name).
    pub fn field(&self, name: &str) -> Option<&FieldLayout> {
        self.fields.iter().rev().find(|f| f.name == name)
    }

    /// The field named `name` declared in `declared_in`.
    pub fn field_in(&self, declared_in: &str, name: &str) -> Option<&FieldLayout> {
        self.fields
            .iter()
            .find(|f| f.name == name && f.declared_in == declared_in)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives_round_trip() {
        for p in ALL {
            assert_eq!(Primitive::from_name(p.name()), Some(p));
        }
        assert_eq!(Primitive::from_element_type(0x08), Some(Primitive::I32));
        assert_eq!(Primitive::from_element_type(0x12), None);
        assert_eq!(Primitive::IntPtr.size(4), 4);
        assert_eq!(Primitive::IntPtr.size(8), 8);
        assert_eq!(Primitive::Char.size(8), 2);
    }

    #[test]
    fn specials_by_name() {
        assert_eq!(Special::of("System.DateTime"), Some(Special::DateTime));
        assert_eq!(
            Special::of("System.Nullable`1[System.Int32]"),
            Some(Special::Nullable)
        );
        assert_eq!(Special::of("System.DateTimeKind"), None);
    }
}
