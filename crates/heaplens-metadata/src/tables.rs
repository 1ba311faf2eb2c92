//! The table schema of ECMA-335 II.22 and the row layout it gives.

/// Number of table ids ECMA-335 defines (0x00–0x2C).
pub const TABLE_COUNT: usize = 0x2D;

/// A metadata table, by its number (ECMA-335 II.22).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
#[allow(missing_docs)] // the variants are the standard's table names
pub enum TableId {
    Module = 0x00,
    TypeRef = 0x01,
    TypeDef = 0x02,
    FieldPtr = 0x03,
    Field = 0x04,
    MethodPtr = 0x05,
    MethodDef = 0x06,
    ParamPtr = 0x07,
    Param = 0x08,
    InterfaceImpl = 0x09,
    MemberRef = 0x0A,
    Constant = 0x0B,
    CustomAttribute = 0x0C,
    FieldMarshal = 0x0D,
    DeclSecurity = 0x0E,
    ClassLayout = 0x0F,
    FieldLayout = 0x10,
    StandAloneSig = 0x11,
    EventMap = 0x12,
    EventPtr = 0x13,
    Event = 0x14,
    PropertyMap = 0x15,
    PropertyPtr = 0x16,
    Property = 0x17,
    MethodSemantics = 0x18,
    MethodImpl = 0x19,
    ModuleRef = 0x1A,
    TypeSpec = 0x1B,
    ImplMap = 0x1C,
    FieldRva = 0x1D,
    EncLog = 0x1E,
    EncMap = 0x1F,
    Assembly = 0x20,
    AssemblyProcessor = 0x21,
    AssemblyOs = 0x22,
    AssemblyRef = 0x23,
    AssemblyRefProcessor = 0x24,
    AssemblyRefOs = 0x25,
    File = 0x26,
    ExportedType = 0x27,
    ManifestResource = 0x28,
    NestedClass = 0x29,
    GenericParam = 0x2A,
    MethodSpec = 0x2B,
    GenericParamConstraint = 0x2C,
}

use TableId as T;

const ALL: [TableId; TABLE_COUNT] = [
    T::Module,
    T::TypeRef,
    T::TypeDef,
    T::FieldPtr,
    T::Field,
    T::MethodPtr,
    T::MethodDef,
    T::ParamPtr,
    T::Param,
    T::InterfaceImpl,
    T::MemberRef,
    T::Constant,
    T::CustomAttribute,
    T::FieldMarshal,
    T::DeclSecurity,
    T::ClassLayout,
    T::FieldLayout,
    T::StandAloneSig,
    T::EventMap,
    T::EventPtr,
    T::Event,
    T::PropertyMap,
    T::PropertyPtr,
    T::Property,
    T::MethodSemantics,
    T::MethodImpl,
    T::ModuleRef,
    T::TypeSpec,
    T::ImplMap,
    T::FieldRva,
    T::EncLog,
    T::EncMap,
    T::Assembly,
    T::AssemblyProcessor,
    T::AssemblyOs,
    T::AssemblyRef,
    T::AssemblyRefProcessor,
    T::AssemblyRefOs,
    T::File,
    T::ExportedType,
    T::ManifestResource,
    T::NestedClass,
    T::GenericParam,
    T::MethodSpec,
    T::GenericParamConstraint,
];

impl TableId {
    /// The table with number `n`, if ECMA-335 defines one.
    pub fn from_u8(n: u8) -> Option<TableId> {
        ALL.get(usize::from(n)).copied()
    }

    /// Every table, in number order.
    pub fn all() -> &'static [TableId] {
        &ALL
    }
}

/// A coded index kind (ECMA-335 II.24.2.6): a tag selecting a table in its
/// low bits, the row above them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CodedIndex {
    /// TypeDef, TypeRef, TypeSpec.
    TypeDefOrRef,
    /// Field, Param, Property.
    HasConstant,
    /// The 22 tables that may carry custom attributes.
    HasCustomAttribute,
    /// Field, Param.
    HasFieldMarshal,
    /// TypeDef, MethodDef, Assembly.
    HasDeclSecurity,
    /// TypeDef, TypeRef, ModuleRef, MethodDef, TypeSpec.
    MemberRefParent,
    /// Event, Property.
    HasSemantics,
    /// MethodDef, MemberRef.
    MethodDefOrRef,
    /// Field, MethodDef.
    MemberForwarded,
    /// File, AssemblyRef, ExportedType.
    Implementation,
    /// (unused), (unused), MethodDef, MemberRef, (unused).
    CustomAttributeType,
    /// Module, ModuleRef, AssemblyRef, TypeRef.
    ResolutionScope,
    /// TypeDef, MethodDef.
    TypeOrMethodDef,
}

impl CodedIndex {
    /// Tag width in bits and the tables by tag (`None`: an unused tag).
    pub fn tables(self) -> (u32, &'static [Option<TableId>]) {
        match self {
            CodedIndex::TypeDefOrRef => {
                (2, &[Some(T::TypeDef), Some(T::TypeRef), Some(T::TypeSpec)])
            }
            CodedIndex::HasConstant => (2, &[Some(T::Field), Some(T::Param), Some(T::Property)]),
            CodedIndex::HasCustomAttribute => (
                5,
                &[
                    Some(T::MethodDef),
                    Some(T::Field),
                    Some(T::TypeRef),
                    Some(T::TypeDef),
                    Some(T::Param),
                    Some(T::InterfaceImpl),
                    Some(T::MemberRef),
                    Some(T::Module),
                    Some(T::DeclSecurity),
                    Some(T::Property),
                    Some(T::Event),
                    Some(T::StandAloneSig),
                    Some(T::ModuleRef),
                    Some(T::TypeSpec),
                    Some(T::Assembly),
                    Some(T::AssemblyRef),
                    Some(T::File),
                    Some(T::ExportedType),
                    Some(T::ManifestResource),
                    Some(T::GenericParam),
                    Some(T::GenericParamConstraint),
                    Some(T::MethodSpec),
                ],
            ),
            CodedIndex::HasFieldMarshal => (1, &[Some(T::Field), Some(T::Param)]),
            CodedIndex::HasDeclSecurity => (
                2,
                &[Some(T::TypeDef), Some(T::MethodDef), Some(T::Assembly)],
            ),
            CodedIndex::MemberRefParent => (
                3,
                &[
                    Some(T::TypeDef),
                    Some(T::TypeRef),
                    Some(T::ModuleRef),
                    Some(T::MethodDef),
                    Some(T::TypeSpec),
                ],
            ),
            CodedIndex::HasSemantics => (1, &[Some(T::Event), Some(T::Property)]),
            CodedIndex::MethodDefOrRef => (1, &[Some(T::MethodDef), Some(T::MemberRef)]),
            CodedIndex::MemberForwarded => (1, &[Some(T::Field), Some(T::MethodDef)]),
            CodedIndex::Implementation => (
                2,
                &[Some(T::File), Some(T::AssemblyRef), Some(T::ExportedType)],
            ),
            CodedIndex::CustomAttributeType => (
                3,
                &[None, None, Some(T::MethodDef), Some(T::MemberRef), None],
            ),
            CodedIndex::ResolutionScope => (
                2,
                &[
                    Some(T::Module),
                    Some(T::ModuleRef),
                    Some(T::AssemblyRef),
                    Some(T::TypeRef),
                ],
            ),
            CodedIndex::TypeOrMethodDef => (1, &[Some(T::TypeDef), Some(T::MethodDef)]),
        }
    }

    /// The table and row a coded value names (`None` for an unused tag).
    pub fn decode(self, value: u32) -> Option<(TableId, u32)> {
        let (bits, tables) = self.tables();
        let tag = (value & ((1 << bits) - 1)) as usize;
        tables
            .get(tag)
            .copied()
            .flatten()
            .map(|t| (t, value >> bits))
    }

    /// The coded value naming `rid` of `table` (`None` if the kind cannot
    /// name that table).
    pub fn encode(self, table: TableId, rid: u32) -> Option<u32> {
        let (bits, tables) = self.tables();
        let tag = tables.iter().position(|t| *t == Some(table))?;
        rid.checked_mul(1 << bits).map(|v| v | tag as u32)
    }
}

/// What a column holds.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Col {
    U16,
    U32,
    Str,
    Guid,
    Blob,
    Idx(TableId),
    Coded(CodedIndex),
}

use CodedIndex as C;
use Col::*;

/// The columns of each table (ECMA-335 II.22; `Constant.Type` and its
/// padding byte read as one u16).
pub(crate) fn schema(t: TableId) -> &'static [Col] {
    match t {
        T::Module => &[U16, Str, Guid, Guid, Guid],
        T::TypeRef => &[Coded(C::ResolutionScope), Str, Str],
        T::TypeDef => &[
            U32,
            Str,
            Str,
            Coded(C::TypeDefOrRef),
            Idx(T::Field),
            Idx(T::MethodDef),
        ],
        T::FieldPtr => &[Idx(T::Field)],
        T::Field => &[U16, Str, Blob],
        T::MethodPtr => &[Idx(T::MethodDef)],
        T::MethodDef => &[U32, U16, U16, Str, Blob, Idx(T::Param)],
        T::ParamPtr => &[Idx(T::Param)],
        T::Param => &[U16, U16, Str],
        T::InterfaceImpl => &[Idx(T::TypeDef), Coded(C::TypeDefOrRef)],
        T::MemberRef => &[Coded(C::MemberRefParent), Str, Blob],
        T::Constant => &[U16, Coded(C::HasConstant), Blob],
        T::CustomAttribute => &[
            Coded(C::HasCustomAttribute),
            Coded(C::CustomAttributeType),
            Blob,
        ],
        T::FieldMarshal => &[Coded(C::HasFieldMarshal), Blob],
        T::DeclSecurity => &[U16, Coded(C::HasDeclSecurity), Blob],
        T::ClassLayout => &[U16, U32, Idx(T::TypeDef)],
        T::FieldLayout => &[U32, Idx(T::Field)],
        T::StandAloneSig => &[Blob],
        T::EventMap => &[Idx(T::TypeDef), Idx(T::Event)],
        T::EventPtr => &[Idx(T::Event)],
        T::Event => &[U16, Str, Coded(C::TypeDefOrRef)],
        T::PropertyMap => &[Idx(T::TypeDef), Idx(T::Property)],
        T::PropertyPtr => &[Idx(T::Property)],
        T::Property => &[U16, Str, Blob],
        T::MethodSemantics => &[U16, Idx(T::MethodDef), Coded(C::HasSemantics)],
        T::MethodImpl => &[
            Idx(T::TypeDef),
            Coded(C::MethodDefOrRef),
            Coded(C::MethodDefOrRef),
        ],
        T::ModuleRef => &[Str],
        T::TypeSpec => &[Blob],
        T::ImplMap => &[U16, Coded(C::MemberForwarded), Str, Idx(T::ModuleRef)],
        T::FieldRva => &[U32, Idx(T::Field)],
        T::EncLog => &[U32, U32],
        T::EncMap => &[U32],
        T::Assembly => &[U32, U16, U16, U16, U16, U32, Blob, Str, Str],
        T::AssemblyProcessor => &[U32],
        T::AssemblyOs => &[U32, U32, U32],
        T::AssemblyRef => &[U16, U16, U16, U16, U32, Blob, Str, Str, Blob],
        T::AssemblyRefProcessor => &[U32, Idx(T::AssemblyRef)],
        T::AssemblyRefOs => &[U32, U32, U32, Idx(T::AssemblyRef)],
        T::File => &[U32, Str, Blob],
        T::ExportedType => &[U32, U32, Str, Str, Coded(C::Implementation)],
        T::ManifestResource => &[U32, U32, Str, Coded(C::Implementation)],
        T::NestedClass => &[Idx(T::TypeDef), Idx(T::TypeDef)],
        T::GenericParam => &[U16, U16, Coded(C::TypeOrMethodDef), Str],
        T::MethodSpec => &[Coded(C::MethodDefOrRef), Blob],
        T::GenericParamConstraint => &[Idx(T::GenericParam), Coded(C::TypeDefOrRef)],
    }
}

/// Most columns of any table (Assembly, AssemblyRef).
pub(crate) const MAX_COLS: usize = 9;

/// Where each column of a table's rows is.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct RowLayout {
    pub size: u32,
    /// (offset in the row, width in bytes) per column.
    pub cols: [(u8, u8); MAX_COLS],
}

/// Heap index widths from the `HeapSizes` flags.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HeapWidths {
    pub string: u8,
    pub guid: u8,
    pub blob: u8,
}

/// The row layout of every table given the row counts.
pub(crate) fn layouts(rows: &[u32; 64], heaps: HeapWidths) -> [RowLayout; TABLE_COUNT] {
    let idx = |t: TableId| if rows[t as usize] < 0x1_0000 { 2u8 } else { 4 };
    let coded = |c: CodedIndex| {
        let (bits, tables) = c.tables();
        let max = tables
            .iter()
            .flatten()
            .map(|t| rows[*t as usize])
            .max()
            .unwrap_or(0);
        if u64::from(max) < 1u64 << (16 - bits) {
            2u8
        } else {
            4
        }
    };
    let mut out = [RowLayout::default(); TABLE_COUNT];
    for (t, l) in ALL.iter().zip(out.iter_mut()) {
        let mut off = 0u8;
        for (i, c) in schema(*t).iter().enumerate() {
            let w = match c {
                U16 => 2,
                U32 => 4,
                Str => heaps.string,
                Guid => heaps.guid,
                Blob => heaps.blob,
                Idx(t) => idx(*t),
                Coded(c) => coded(*c),
            };
            l.cols[i] = (off, w);
            off += w;
        }
        l.size = u32::from(off);
    }
    out
}
