//! Object contents: the layouts of the heap's types, read from the
//! runtime's own field descriptors and named by the metadata, and a reader
//! of objects over the dump's memory
//! ([`heaplens_contents::ObjectReader`]).
//!
//! Where the runtime keeps a type's fields (docs: dotnet/coreclr v3.1.32
//! `src/vm/class.h`, `field.h`; dotnet/runtime `src/coreclr/vm/class.h`,
//! `field.h`): the MethodTable's EEClass (`MT + 0x10 + 3·pointer`, or its
//! canonical MethodTable's when the low bits tag it) points at
//! `m_pFieldDescList`, the type's own fields — instance fields then
//! statics, none of its base classes' — as `FieldDesc`s of a pointer and
//! two 32-bit words: `m_pMTOfEnclosingClass` (relative to itself in .NET
//! Core 3.1, plain since), `m_mb:24` (the FieldDef RID; its low 17 bits
//! when `m_requiresFullMbValue`, bit 30, is clear), `m_isStatic` (bit 24),
//! `m_isThreadLocal` (25), `m_isRVA` (26), and `m_dwOffset:27` (from the
//! instance data's start) with `m_type:5` (the field's CorElementType:
//! references are `CLASS`, value types `VALUETYPE`, enums their underlying
//! integer). Base classes' fields come from the parent MethodTables.
//!
//! Calibrated on the dump, not assumed: where `m_pFieldDescList` is in
//! `EEClass` and whether pointers there are relative (the word after the
//! EEClass's back-pointer to its MethodTable, under the reading whose first
//! `FieldDesc` names that MethodTable and a field of its TypeDef); where
//! `Module` keeps its TypeDef → MethodTable map (the offset that maps the
//! heap's MethodTables' TypeDefs back to them), which gives the
//! MethodTables of value types stored inline.
//!
//! A delegate's method (docs: `precode.h`, `method.hpp`; the cDAC's
//! PrecodeStubs contract): its code pointer is a precode whose instructions
//! lead to the `MethodDesc` — .NET 7+ `mov r10, [rip+d]` (stub) or `jmp
//! [rip+d]; mov r10, [rip+d]` (fixup) load it from the precode's data page,
//! .NET Core 3.1's stub precode holds it as `mov r10, imm64` and its fixup
//! precode as an index from the chunk's base after the precodes — or
//! jitted code, whose code header (the word before it) points at a
//! `RealCodeHeader` holding it. A `MethodDesc` is taken only when its chunk
//! (`MethodDesc − sizeof(MethodDescChunk) − index·alignment`) names a valid
//! MethodTable whose TypeDef lists the MethodDef its token bits give
//! (split 12/14 bits between `MethodDesc` and chunk across versions: the
//! split under which the method belongs to the type is taken).
//!
//! x64 only for now (the heap walker reads 64-bit processes); pointer-size
//! dependent offsets are computed from the dump's pointer size.

use crate::methodtable::{MethodTable, ARRAY_MASK, CATEGORY_MASK, HAS_COMPONENT_SIZE, VALUE_TYPE};
use crate::names::{ModuleIndex, Namer};
use crate::statics::StaticsBases;
use crate::walk::MethodTables;
use heaplens_contents::layout::{
    ArrayLayout, EnumInfo, FieldKind, FieldLayout, Primitive, Shape, Special, StructLayout,
    TypeLayout,
};
use heaplens_contents::{ContentsError, MethodName, ObjectReader, StaticField};
use heaplens_graph::{HeapGraph, TypeIndex};
use heaplens_memory::AddressSpace;
use heaplens_metadata::{FieldType, Metadata, TableId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::Arc;

/// Most fields of one type read.
const MAX_FIELDS: usize = 4096;
/// Deepest chain of base classes followed.
const MAX_BASES: usize = 64;
/// Deepest nesting of inline value types resolved.
const MAX_STRUCT_DEPTH: u32 = 8;
/// Bytes of an EEClass searched for its MethodTable back-pointer.
const EECLASS_SCAN: u64 = 0x40;
/// Bytes of a `Module` searched for its TypeDef → MethodTable map.
const MODULE_SCAN: u64 = 0x1000;
/// MethodTables sampled for calibration.
const SAMPLE: usize = 64;

/// How the dump's runtime keeps field descriptors, as calibrated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldDescLayout {
    /// Offset of `m_pFieldDescList` in `EEClass`.
    pub list_offset: u64,
    /// The list pointer and `m_pMTOfEnclosingClass` are relative to their
    /// own address (.NET Core 3.1).
    pub relative: bool,
}

/// What contents reading learned about the dump (for `heaplens info`'s
/// notes and diagnostics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentsReport {
    /// How the field descriptors are found, or why not.
    pub field_descs: Option<FieldDescLayout>,
    /// Offset of the TypeDef → MethodTable map in `Module`, when found.
    pub typedef_map: Option<u64>,
    /// What was calibrated, or could not be, in words.
    pub notes: Vec<String>,
}

/// What a snapshot of a dump keeps to read object contents later: the
/// MethodTables, the modules' metadata and the layouts calibrated on the
/// dump — no dump bytes. Its size is the metadata's (a few MB: CoreLib's
/// is about 3) plus a few words per type ([`ClrContents::memory_bytes`]).
#[derive(Debug, Clone)]
pub struct ClrContents {
    pointer_size: u8,
    method_tables: Vec<u64>,
    tables: Vec<MethodTable>,
    modules: ModuleIndex,
    statics: StaticsBases,
    /// What was calibrated.
    pub report: ContentsReport,
}

impl ClrContents {
    /// Bytes it keeps.
    pub fn memory_bytes(&self) -> usize {
        self.modules.metadata_bytes()
            + self.method_tables.len() * (8 + std::mem::size_of::<MethodTable>())
    }

    /// A reader of the objects of `graph` (the graph read with these
    /// contents) over `mem`, the same dump's memory.
    pub fn reader<'a>(
        &'a self,
        mem: Box<dyn AddressSpace + 'a>,
        graph: &'a HeapGraph,
    ) -> ClrReader<'a> {
        ClrReader {
            index: self,
            mem,
            graph,
            cache: RefCell::new(Cache::default()),
        }
    }

    /// The dump's pointer size.
    pub fn pointer_size(&self) -> u8 {
        self.pointer_size
    }
}

/// Offsets in a MethodTable that depend on the pointer size.
#[derive(Debug, Clone, Copy)]
struct MtOffsets {
    ptr: u64,
    /// `m_pParentMethodTable`.
    parent: u64,
    /// The EEClass / canonical MethodTable union.
    eeclass: u64,
    /// `m_ElementTypeHnd` of an array.
    element: u64,
}

impl MtOffsets {
    fn new(ptr: u8) -> MtOffsets {
        let p = u64::from(ptr);
        MtOffsets {
            ptr: p,
            parent: 0x10,
            eeclass: 0x10 + 3 * p,
            element: 0x10 + 4 * p,
        }
    }
}

fn read_ptr(mem: &dyn AddressSpace, at: u64, ptr: u64) -> Option<u64> {
    if ptr == 4 {
        mem.read_u32(at).ok().map(u64::from)
    } else {
        mem.read_u64(at).ok()
    }
}

/// The EEClass of MethodTable `mt` and its canonical MethodTable (itself
/// unless the union at `MT+eeclass` is tagged as pointing to one).
fn eeclass_of(mem: &dyn AddressSpace, o: MtOffsets, mt: u64) -> Option<(u64, u64)> {
    let v = read_ptr(mem, mt.checked_add(o.eeclass)?, o.ptr)?;
    if v & 3 == 0 {
        return (v != 0).then_some((v, mt));
    }
    let canon = v & !3;
    let e = read_ptr(mem, canon.checked_add(o.eeclass)?, o.ptr)?;
    (e & 3 == 0 && e != 0).then_some((e, canon))
}

/// Calibrates contents reading on the dump and keeps what it needs:
/// called by [`crate::read_with`] once the types are named.
pub(crate) fn prepare(
    mem: &dyn AddressSpace,
    mts: &MethodTables,
    modules: ModuleIndex,
    statics: StaticsBases,
) -> ClrContents {
    let ptr = mem.pointer_size() as u8;
    let mut report = ContentsReport::default();
    let mut namer = Namer::from_index(mem, &modules);
    let o = MtOffsets::new(ptr);
    // Non-generic classes and structs of the heap whose metadata has fields.
    let mut sample: Vec<(u64, u64, u32)> = Vec::new();
    for (i, &mt) in mts.addresses.iter().enumerate() {
        let t = &mts.tables[i];
        if t.is_free || t.flags & HAS_COMPONENT_SIZE != 0 || t.flags & 0x30 != 0 {
            continue;
        }
        let Some((module, rid, args)) = namer.definition(mt) else {
            continue;
        };
        if !args.is_empty() {
            continue;
        }
        let has_fields = namer.module_metadata(module).is_some_and(|md| {
            md.type_fields(rid)
                .any(|f| md.field(f).is_ok_and(|f| !f.is_literal()))
        });
        if has_fields {
            sample.push((mt, module, rid));
            if sample.len() >= SAMPLE {
                break;
            }
        }
    }
    // The EEClass's back-pointer to its MethodTable; the FieldDesc list is
    // the next word, and its first FieldDesc names the MethodTable.
    let mut votes: HashMap<(u64, bool), usize> = HashMap::new();
    for &(mt, module, rid) in &sample {
        let Some((ee, _)) = eeclass_of(mem, o, mt) else {
            continue;
        };
        let Some(md) = namer.module_metadata(module) else {
            continue;
        };
        for k in (0..EECLASS_SCAN).step_by(ptr as usize) {
            for relative in [false, true] {
                let slot = ee + k;
                let Some(w) = read_ptr(mem, slot, o.ptr) else {
                    continue;
                };
                if decode(slot, w, relative) != mt {
                    continue;
                }
                let list_slot = slot + o.ptr;
                let Some(l) = read_ptr(mem, list_slot, o.ptr) else {
                    continue;
                };
                let list = decode(list_slot, l, relative);
                if first_field_ok(mem, o, list, mt, md, rid, relative) {
                    *votes.entry((k + o.ptr, relative)).or_insert(0) += 1;
                }
            }
        }
    }
    let best = votes
        .iter()
        .max_by_key(|(k, v)| (**v, std::cmp::Reverse(**k)));
    match best {
        Some((&(list_offset, relative), &n)) if n * 2 >= sample.len().min(8) => {
            report.field_descs = Some(FieldDescLayout {
                list_offset,
                relative,
            });
            report.notes.push(format!(
                "object contents: FieldDesc list at EEClass+{list_offset:#x}, {} pointers \
                 ({n} of {} sampled types confirm)",
                if relative { "relative" } else { "absolute" },
                sample.len()
            ));
        }
        _ => report.notes.push(format!(
            "object contents: the runtime's field descriptors were not found ({} types \
             sampled): fields cannot be read",
            sample.len()
        )),
    }
    report.typedef_map = calibrate_typedef_map(mem, &sample);
    match report.typedef_map {
        Some(k) => report
            .notes
            .push(format!("object contents: TypeDef map at Module+{k:#x}")),
        None => report.notes.push(
            "object contents: no TypeDef map found in Module: inline value types are found by \
             name only"
                .into(),
        ),
    }
    ClrContents {
        pointer_size: ptr,
        method_tables: mts.addresses.clone(),
        tables: mts.tables.clone(),
        modules,
        statics,
        report,
    }
}

fn decode(slot: u64, raw: u64, relative: bool) -> u64 {
    if relative {
        if raw == 0 {
            0
        } else {
            slot.wrapping_add(raw)
        }
    } else {
        raw
    }
}

/// True when the FieldDesc at `list` belongs to `mt` and names a field of
/// TypeDef `rid`.
fn first_field_ok(
    mem: &dyn AddressSpace,
    o: MtOffsets,
    list: u64,
    mt: u64,
    md: &Metadata,
    rid: u32,
    relative: bool,
) -> bool {
    let Some(w) = read_ptr(mem, list, o.ptr) else {
        return false;
    };
    if decode(list, w, relative) != mt {
        return false;
    }
    let Ok(d1) = mem.read_u32(list + o.ptr) else {
        return false;
    };
    let frid = field_rid(d1);
    md.fields(rid).any(|p| md.field_list_entry(p) == frid)
}

/// The FieldDef RID of a FieldDesc's first word.
fn field_rid(d1: u32) -> u32 {
    if d1 & (1 << 30) != 0 {
        d1 & 0xFF_FFFF
    } else {
        d1 & 0x1_FFFF
    }
}

/// The offset of `Module`'s TypeDef → MethodTable map: the one under which
/// the sampled MethodTables' TypeDefs map back to them.
fn calibrate_typedef_map(mem: &dyn AddressSpace, sample: &[(u64, u64, u32)]) -> Option<u64> {
    let mut by_module: HashMap<u64, Vec<(u32, u64)>> = HashMap::new();
    for &(mt, m, rid) in sample {
        let v = by_module.entry(m).or_default();
        if v.len() < 4 {
            v.push((rid, mt));
        }
    }
    let mut votes: HashMap<u64, usize> = HashMap::new();
    for (&m, pairs) in &by_module {
        for k in (0..MODULE_SCAN).step_by(8) {
            let Some(map) = m.checked_add(k) else { break };
            let hits = pairs
                .iter()
                .filter(|&&(rid, mt)| crate::statics::map_lookup(mem, map, rid, 4) == Some(mt))
                .count();
            if hits * 2 > pairs.len() {
                *votes.entry(k).or_insert(0) += 1;
            }
        }
    }
    let (&k, &n) = votes
        .iter()
        .max_by_key(|(k, v)| (**v, std::cmp::Reverse(**k)))?;
    (n * 2 >= by_module.len().max(1)).then_some(k)
}

/// A field as its FieldDesc says.
#[derive(Debug, Clone, Copy)]
struct RawField {
    rid: u32,
    is_static: bool,
    thread_static: bool,
    rva: bool,
    offset: u32,
    elem: u8,
}

/// The type a field's layout is read in: its MethodTable, module, TypeDef
/// and type arguments.
#[derive(Debug, Clone)]
struct Declaring {
    mt: u64,
    module: u64,
    rid: u32,
    args: Vec<u64>,
    name: String,
}

#[derive(Default)]
struct Cache {
    layouts: HashMap<u64, Arc<TypeLayout>>,
    structs: HashMap<u64, Result<Arc<StructLayout>, String>>,
    enums: HashMap<(u64, u32), Option<Arc<EnumInfo>>>,
    types_by_name: HashMap<String, Option<(u64, u32)>>,
    known_by_name: Option<HashMap<String, u64>>,
    methods: HashMap<u64, Option<MethodName>>,
    token_bits: Option<u32>,
    names: HashMap<u64, String>,
}

/// Reads objects of a CLR heap over the dump's memory (see
/// [`ClrContents::reader`]). Layouts are computed on first use and kept;
/// nothing is read ahead.
pub struct ClrReader<'a> {
    index: &'a ClrContents,
    mem: Box<dyn AddressSpace + 'a>,
    graph: &'a HeapGraph,
    cache: RefCell<Cache>,
}

impl ClrReader<'_> {
    /// A namer over the dump's memory with the read's modules.
    fn namer(&self) -> Namer<'_> {
        Namer::from_index(&*self.mem, &self.index.modules)
    }

    /// The full name of type handle `th` (kept).
    fn full_name(&self, th: u64) -> String {
        if let Some(n) = self.cache.borrow().names.get(&th) {
            return n.clone();
        }
        let n = self.namer().full_name(th);
        self.cache.borrow_mut().names.insert(th, n.clone());
        n
    }

    fn o(&self) -> MtOffsets {
        MtOffsets::new(self.index.pointer_size)
    }

    fn ptr(&self, at: u64) -> Option<u64> {
        read_ptr(&*self.mem, at, u64::from(self.index.pointer_size))
    }

    fn layout_error(&self, name: &str, why: impl Into<String>) -> ContentsError {
        ContentsError::Layout {
            type_name: name.to_owned(),
            why: why.into(),
        }
    }

    /// Where and what the type of `mt` is.
    fn declaring(&self, mt: u64) -> Option<Declaring> {
        let (module, rid, args) = self.namer().definition(mt)?;
        let name = self.full_name(mt);
        Some(Declaring {
            mt,
            module,
            rid,
            args,
            name,
        })
    }

    /// The FieldDescs of `mt`'s own fields (not its base classes').
    fn raw_fields(&self, d: &Declaring) -> Result<Vec<RawField>, String> {
        let Some(fd) = self.index.report.field_descs else {
            return Err("the runtime's field descriptors were not found in this dump".into());
        };
        let o = self.o();
        let (ee, canon) =
            eeclass_of(&*self.mem, o, d.mt).ok_or("its EEClass is not in the dump")?;
        let slot = ee + fd.list_offset;
        let list = decode(
            slot,
            self.ptr(slot).ok_or("its EEClass is not in the dump")?,
            fd.relative,
        );
        let n = self.namer();
        let md = n
            .module_metadata(d.module)
            .ok_or("its module's metadata is not in the dump")?;
        let own: Vec<u32> = md.type_fields(d.rid).collect();
        let expected = own
            .iter()
            .filter(|&&f| md.field(f).is_ok_and(|f| !f.is_literal()))
            .count()
            .min(MAX_FIELDS);
        if expected == 0 || list == 0 {
            return Ok(Vec::new());
        }
        let size = o.ptr + 8;
        let mut buf = vec![0u8; expected * size as usize];
        self.mem
            .read_virtual(list, &mut buf)
            .map_err(|e| format!("its field descriptors are not in the dump ({e})"))?;
        let mut out = Vec::with_capacity(expected);
        for (i, c) in buf.chunks_exact(size as usize).enumerate() {
            let w = le(c, 0, o.ptr as usize);
            let at = list + i as u64 * size;
            let enclosing = decode(at, w, fd.relative);
            if enclosing != canon && enclosing != d.mt {
                break;
            }
            let d1 = le(c, o.ptr as usize, 4) as u32;
            let d2 = le(c, o.ptr as usize + 4, 4) as u32;
            let rid = field_rid(d1);
            if !own.contains(&rid) {
                break;
            }
            out.push(RawField {
                rid,
                is_static: d1 & (1 << 24) != 0,
                thread_static: d1 & (1 << 25) != 0,
                rva: d1 & (1 << 26) != 0,
                offset: d2 & 0x7FF_FFFF,
                elem: (d2 >> 27) as u8,
            });
        }
        Ok(out)
    }

    /// The type arguments' names, for a field signature's `!n`.
    fn arg_names(&self, args: &[u64]) -> Vec<String> {
        args.iter().map(|&a| self.full_name(a)).collect()
    }

    /// The (module, TypeDef) a signature's type token names.
    fn resolve_token(
        &self,
        module: u64,
        md: &Metadata,
        t: heaplens_metadata::Token,
    ) -> Option<(u64, u32)> {
        match t.table()? {
            TableId::TypeDef => Some((module, t.rid())),
            TableId::TypeRef => {
                let name = md.type_ref_full_name(t.rid()).ok()?;
                self.type_by_name(&name)
            }
            _ => None,
        }
    }

    /// The module and TypeDef of the type named `name`.
    fn type_by_name(&self, name: &str) -> Option<(u64, u32)> {
        if let Some(v) = self.cache.borrow().types_by_name.get(name) {
            return *v;
        }
        let v = self.namer().find_type(name);
        self.cache
            .borrow_mut()
            .types_by_name
            .insert(name.to_owned(), v);
        v
    }

    /// The enum TypeDef `rid` of module `m`, when it is one.
    fn enum_info(&self, m: u64, rid: u32) -> Option<Arc<EnumInfo>> {
        if let Some(v) = self.cache.borrow().enums.get(&(m, rid)) {
            return v.clone();
        }
        let info = {
            let n = self.namer();
            n.module_metadata(m).and_then(|md| {
                let e = md.enum_def(rid)?;
                Some(Arc::new(EnumInfo {
                    name: md.full_type_name(rid).ok()?,
                    underlying: Primitive::from_element_type(e.underlying)?,
                    flags: e.flags,
                    literals: e.literals.into_iter().map(|l| (l.value, l.name)).collect(),
                }))
            })
        };
        self.cache.borrow_mut().enums.insert((m, rid), info.clone());
        info
    }

    /// The MethodTable of TypeDef `rid` of module `m` (non-generic types).
    fn mt_of_typedef(&self, m: u64, rid: u32) -> Option<u64> {
        let k = self.index.report.typedef_map?;
        crate::statics::map_lookup(&*self.mem, m.checked_add(k)?, rid, 64)
    }

    /// A MethodTable by its full name among those the heap's types lead to
    /// (their type arguments, array elements and base types).
    fn known_by_name(&self, name: &str) -> Option<u64> {
        if self.cache.borrow().known_by_name.is_none() {
            let mut known: HashMap<String, u64> = HashMap::new();
            let o = self.o();
            let mut todo: Vec<(u64, u32)> = self
                .index
                .method_tables
                .iter()
                .zip(&self.index.tables)
                .filter(|(_, t)| !t.is_free)
                .map(|(&mt, _)| (mt, 0))
                .collect();
            let mut n = self.namer();
            while let Some((th, depth)) = todo.pop() {
                if th & 2 != 0 || th == 0 || known.len() > 1 << 16 {
                    continue;
                }
                let name = n.full_name(th);
                if known.insert(name, th).is_some() || depth >= 4 {
                    continue;
                }
                if let Some(t) = MethodTable::read(&*self.mem, th) {
                    if t.is_array() {
                        if let Some(e) = read_ptr(&*self.mem, th + o.element, o.ptr) {
                            todo.push((e, depth + 1));
                        }
                        continue;
                    }
                }
                if let Some((_, _, args)) = n.definition(th) {
                    todo.extend(args.into_iter().map(|a| (a, depth + 1)));
                }
            }
            self.cache.borrow_mut().known_by_name = Some(known);
        }
        self.cache
            .borrow()
            .known_by_name
            .as_ref()
            .and_then(|k| k.get(name).copied())
    }

    /// What a field holds, from its FieldDesc's element type and its
    /// signature (enums, the value type's MethodTable).
    fn field_kind(
        &self,
        raw: &RawField,
        d: &Declaring,
        sig: Option<FieldType>,
        type_name: &str,
        depth: u32,
    ) -> FieldKind {
        let md_enum = |this: &Self| -> Option<Arc<EnumInfo>> {
            match sig? {
                FieldType::ValueType(t) => {
                    let n = this.namer();
                    let md = n.module_metadata(d.module)?;
                    let target = this.resolve_token(d.module, md, t);
                    drop(n);
                    let (m, rid) = target?;
                    this.enum_info(m, rid)
                }
                FieldType::Var(i) => {
                    let arg = *d.args.get(i as usize)?;
                    let def = this.namer().definition(arg)?;
                    this.enum_info(def.0, def.1)
                }
                _ => None,
            }
        };
        match raw.elem {
            0x12 | 0x0E | 0x1C | 0x1D | 0x14 | 0x15 => FieldKind::Reference,
            0x0F | 0x1B => FieldKind::Pointer,
            0x11 => self.struct_kind(d, sig, type_name, depth),
            e => match Primitive::from_element_type(e) {
                Some(p) => match md_enum(self) {
                    Some(info) if info.underlying.size(8) == p.size(8) => FieldKind::Enum(info),
                    _ => FieldKind::Primitive(p),
                },
                None => FieldKind::OpaqueStruct {
                    size: None,
                    why: format!("element type {e:#x}"),
                },
            },
        }
    }

    /// The kind of a value-type field: its layout, found through its
    /// MethodTable.
    fn struct_kind(
        &self,
        d: &Declaring,
        sig: Option<FieldType>,
        type_name: &str,
        depth: u32,
    ) -> FieldKind {
        let mt = match sig {
            Some(FieldType::Var(i)) => d.args.get(i as usize).copied().filter(|a| a & 2 == 0),
            Some(FieldType::ValueType(t)) => {
                let target = {
                    let n = self.namer();
                    n.module_metadata(d.module)
                        .and_then(|md| self.resolve_token(d.module, md, t))
                };
                target
                    .and_then(|(m, rid)| self.mt_of_typedef(m, rid))
                    .or_else(|| self.known_by_name(type_name))
            }
            _ => self.known_by_name(type_name),
        };
        let Some(mt) = mt else {
            if let Some(s) = self.nullable_layout(type_name, depth) {
                return FieldKind::Struct(s);
            }
            return FieldKind::OpaqueStruct {
                size: None,
                why: format!("the MethodTable of {type_name} was not found"),
            };
        };
        match self.struct_layout(mt, depth + 1) {
            Ok(s) => FieldKind::Struct(s),
            Err(why) => FieldKind::OpaqueStruct { size: None, why },
        }
    }

    /// The layout of `System.Nullable<T>` when its instantiation's
    /// MethodTable is not found (the runtime keeps none for many): its
    /// fields `hasValue` (a bool at 0) and `value` (`T`, aligned to its
    /// size), laid out in sequence as `Nullable<T>` is for a `T` without
    /// references (a `T` with references is laid out by the runtime's own
    /// rules, which are not assumed: `None`).
    fn nullable_layout(&self, type_name: &str, depth: u32) -> Option<Arc<StructLayout>> {
        let arg = type_name
            .strip_prefix("System.Nullable`1[")?
            .strip_suffix(']')?;
        let ptr = self.index.pointer_size;
        let (kind, align) = if let Some(p) = Primitive::from_name(arg) {
            (FieldKind::Primitive(p), p.size(ptr))
        } else if let Some((m, rid)) = self.type_by_name(arg) {
            if let Some(e) = self.enum_info(m, rid) {
                let a = e.underlying.size(ptr);
                (FieldKind::Enum(e), a)
            } else {
                let mt = self
                    .mt_of_typedef(m, rid)
                    .or_else(|| self.known_by_name(arg))?;
                let s = self.struct_layout(mt, depth + 1).ok()?;
                let mut align = 1;
                for f in &s.fields {
                    match &f.kind {
                        FieldKind::Reference | FieldKind::OpaqueStruct { .. } => return None,
                        k => align = align.max(k.size(ptr).unwrap_or(8).min(8)),
                    }
                }
                (FieldKind::Struct(s), align)
            }
        } else {
            return None;
        };
        let size = kind.size(ptr)?;
        let field = |name: &str, type_name: &str, offset: u32, kind: FieldKind| FieldLayout {
            name: name.into(),
            declared_in: type_name.into(),
            type_name: type_name.into(),
            offset,
            kind,
        };
        let value_offset = align.max(1);
        Some(Arc::new(StructLayout {
            name: type_name.to_owned(),
            size: value_offset + size,
            fields: vec![
                field(
                    "hasValue",
                    "System.Boolean",
                    0,
                    FieldKind::Primitive(Primitive::Bool),
                ),
                FieldLayout {
                    declared_in: type_name.to_owned(),
                    ..field("value", arg, value_offset, kind)
                },
            ],
            special: Some(Special::Nullable),
        }))
    }

    /// The layout of value type `mt`'s fields.
    fn struct_layout(&self, mt: u64, depth: u32) -> Result<Arc<StructLayout>, String> {
        if let Some(v) = self.cache.borrow().structs.get(&mt) {
            return v.clone();
        }
        if depth > MAX_STRUCT_DEPTH {
            return Err("nested too deep".into());
        }
        let r = (|| {
            let d = self.declaring(mt).ok_or("its type is not readable")?;
            let fields = self.instance_fields(&d, depth)?;
            let size = fields
                .iter()
                .map(|f| f.offset + f.kind.size(self.index.pointer_size).unwrap_or(0))
                .max()
                .unwrap_or(0);
            Ok(Arc::new(StructLayout {
                special: Special::of(&d.name),
                name: d.name,
                size,
                fields,
            }))
        })();
        self.cache.borrow_mut().structs.insert(mt, r.clone());
        r
    }

    /// The instance fields `d` declares (not its base classes').
    fn instance_fields(&self, d: &Declaring, depth: u32) -> Result<Vec<FieldLayout>, String> {
        let raws = self.raw_fields(d)?;
        let args = self.arg_names(&d.args);
        let mut out = Vec::new();
        for raw in raws.iter().filter(|r| !r.is_static) {
            let (name, type_name, sig) = {
                let n = self.namer();
                let md = n
                    .module_metadata(d.module)
                    .ok_or("its module's metadata is not in the dump")?;
                let name = md
                    .field(raw.rid)
                    .map(|f| f.name.to_owned())
                    .unwrap_or_default();
                let type_name = md
                    .field_type_name(raw.rid, &|i| args.get(i as usize).cloned())
                    .unwrap_or_else(|_| "?".into());
                (name, type_name, md.field_type(raw.rid).ok())
            };
            let kind = self.field_kind(raw, d, sig, &type_name, depth);
            out.push(FieldLayout {
                name,
                declared_in: d.name.clone(),
                type_name,
                offset: raw.offset,
                kind,
            });
        }
        out.sort_by_key(|f| f.offset);
        Ok(out)
    }

    /// The layout of the heap's MethodTable `mt` (`table`).
    fn build_layout(&self, mt: u64, table: &MethodTable) -> TypeLayout {
        let ptr = self.index.pointer_size;
        let p = u32::from(ptr);
        let o = self.o();
        let name = self.full_name(mt);
        let mut layout = TypeLayout {
            name,
            shape: Shape::Class,
            fields: Vec::new(),
            data_offset: p,
            notes: Vec::new(),
        };
        if table.is_free {
            layout.shape = Shape::Free;
            return layout;
        }
        if table.is_array() {
            let element = read_ptr(&*self.mem, mt + o.element, o.ptr).unwrap_or(0);
            let element_type = self.full_name(element);
            let sz = table.flags & crate::methodtable::IF_ARRAY_THEN_SZARRAY != 0;
            let rank = if sz {
                1
            } else {
                (table.base_size.saturating_sub(3 * p) / 8).max(1)
            };
            let kind = self.element_kind(element, &element_type, table.component_size);
            layout.shape = Shape::Array(ArrayLayout {
                element_type,
                element: kind,
                element_size: table.component_size,
                rank,
                length_offset: p,
                data_offset: if sz {
                    2 * p
                } else {
                    table.base_size.saturating_sub(p)
                },
            });
            return layout;
        }
        if table.flags & HAS_COMPONENT_SIZE != 0 && table.component_size == 2 {
            layout.shape = Shape::String {
                length_offset: p,
                chars_offset: p + 4,
            };
            return layout;
        }
        // The type and its base classes, the most basic first.
        let mut chain = Vec::new();
        let mut cur = mt;
        while cur != 0 && chain.len() < MAX_BASES {
            chain.push(cur);
            cur = read_ptr(&*self.mem, cur + o.parent, o.ptr).unwrap_or(0);
        }
        chain.reverse();
        for &t in &chain {
            let Some(d) = self.declaring(t) else {
                layout.notes.push(format!(
                    "the fields of base MethodTable {t:#x} are not known"
                ));
                continue;
            };
            match self.instance_fields(&d, 0) {
                Ok(f) => layout.fields.extend(f),
                Err(why) => layout
                    .notes
                    .push(format!("the fields of {} are not known: {why}", d.name)),
            }
        }
        layout.fields.sort_by_key(|f| f.offset);
        if table.flags & ARRAY_MASK == VALUE_TYPE {
            // An enum's one field: its value, named.
            if let Some(d) = self.declaring(mt) {
                if let Some(e) = self.enum_info(d.module, d.rid) {
                    for f in &mut layout.fields {
                        f.kind = FieldKind::Enum(e.clone());
                    }
                }
            }
            layout.shape = Shape::Boxed(Special::of(&layout.name));
        }
        layout
    }

    /// What an array's elements hold, from their type handle.
    fn element_kind(&self, th: u64, name: &str, component_size: u32) -> FieldKind {
        if th & 2 != 0 || th == 0 {
            // A TypeDesc: pointers, function pointers (arrays of arrays
            // are MethodTables).
            return FieldKind::Pointer;
        }
        let Some(t) = MethodTable::read(&*self.mem, th) else {
            return FieldKind::OpaqueStruct {
                size: Some(component_size),
                why: "its element type is not readable".into(),
            };
        };
        if t.flags & ARRAY_MASK != VALUE_TYPE {
            return FieldKind::Reference;
        }
        if let Some(p) = Primitive::from_name(name) {
            return FieldKind::Primitive(p);
        }
        if t.flags & CATEGORY_MASK == 0x6_0000 {
            // Enums (primitive value types that are not primitives).
            let def = self.namer().definition(th);
            if let Some((m, rid, _)) = def {
                if let Some(e) = self.enum_info(m, rid) {
                    return FieldKind::Enum(e);
                }
            }
        }
        match self.struct_layout(th, 0) {
            Ok(s) => FieldKind::Struct(Arc::new(StructLayout {
                size: component_size.max(s.size),
                ..(*s).clone()
            })),
            Err(why) => FieldKind::OpaqueStruct {
                size: Some(component_size),
                why,
            },
        }
    }

    /// Where type `d`'s GC statics and non-GC statics start (a static's
    /// FieldDesc offset counts from there).
    fn statics_bases(&self, d: &Declaring) -> Result<(u64, u64), String> {
        let p = u64::from(self.index.pointer_size);
        match self.index.statics {
            StaticsBases::Unknown => Err("the runtime's statics records were not found".into()),
            StaticsBases::DomainLocalModule {
                module_id,
                gc_statics,
            } => {
                if !d.args.is_empty() {
                    return Err("statics of generic instantiations are not read (≤ .NET 8)".into());
                }
                let dlm = self
                    .ptr(d.module.wrapping_add(module_id))
                    .filter(|&v| v != 0)
                    .ok_or("its module's statics record is not in the dump")?;
                let gc = self.ptr(dlm.wrapping_add(gc_statics)).unwrap_or(0);
                Ok((gc, dlm))
            }
            StaticsBases::DynamicStaticsInfo { back } => {
                let aux = self
                    .ptr(d.mt.wrapping_add(0x10 + 2 * p))
                    .ok_or("its auxiliary data is not in the dump")?;
                let info = aux.wrapping_sub(back);
                if self.ptr(info) != Some(d.mt) {
                    return Err("its statics are not allocated".into());
                }
                let gc = self.ptr(info.wrapping_sub(2 * p)).unwrap_or(0) & !1;
                let non_gc = self.ptr(info.wrapping_sub(p)).unwrap_or(0) & !1;
                Ok((gc, non_gc))
            }
        }
    }

    // -----------------------------------------------------------------
    // Methods behind code pointers.

    /// The MethodDesc candidates behind code pointer `code`.
    fn method_desc_candidates(&self, code: u64) -> Vec<(u64, &'static str)> {
        let mut out = Vec::new();
        let mut b = [0u8; 24];
        if self.mem.read_virtual(code, &mut b).is_ok() {
            let d32 =
                |at: usize| i64::from(i32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]));
            let rip = |next: u64, disp: i64| next.wrapping_add(disp as u64);
            // .NET 7+ stub precode: mov r10, [rip+d]; jmp [rip+d].
            if b[0..3] == [0x4C, 0x8B, 0x15] {
                if let Some(md) = self.ptr(rip(code + 7, d32(3))) {
                    out.push((md, "stub precode"));
                }
            }
            // .NET 7+ fixup precode: jmp [rip+d]; mov r10, [rip+d]; …
            if b[0..2] == [0xFF, 0x25] && b[6..9] == [0x4C, 0x8B, 0x15] {
                if let Some(md) = self.ptr(rip(code + 13, d32(9))) {
                    out.push((md, "fixup precode"));
                }
            }
            // .NET Core 3.1 stub precode: mov r10, imm64; …
            if b[0..2] == [0x49, 0xBA] {
                out.push((le(&b, 2, 8), "stub precode"));
            }
            // .NET Core 3.1 fixup precode: call/jmp rel32; type;
            // MethodDesc index; precode index — the chunk's base after
            // the precodes.
            // (A MethodDesc index counts 8 bytes on 64-bit, 4 on 32-bit:
            // `MethodDesc::ALIGNMENT`.)
            if (b[0] == 0xE8 || b[0] == 0xE9) && (b[5] == 0x5E || b[5] == 0x5F) {
                let (md_index, precode_index) = (u64::from(b[6]), u64::from(b[7]));
                let align = if self.index.pointer_size == 4 { 4 } else { 8 };
                if let Some(base) = self.ptr(code + (precode_index + 1) * 8) {
                    out.push((base.wrapping_add(md_index * align), "fixup precode"));
                }
            }
            // 32-bit stub precode: mov eax, imm32; mov ebp, ebp; jmp rel32.
            if self.index.pointer_size == 4 && b[0] == 0xB8 && b[5..7] == [0x89, 0xED] {
                out.push((le(&b, 1, 4), "stub precode"));
            }
        }
        // Jitted code: the code header (the word before it) points at the
        // real code header, which holds the MethodDesc.
        if let Some(real) = code
            .checked_sub(u64::from(self.index.pointer_size))
            .and_then(|a| self.ptr(a))
        {
            for i in 0..8u64 {
                if let Some(md) =
                    self.ptr(real.wrapping_add(i * u64::from(self.index.pointer_size)))
                {
                    out.push((md, "jitted code"));
                }
            }
        }
        out
    }

    /// The method of MethodDesc `md`, when it checks out: its chunk names a
    /// valid MethodTable whose TypeDef lists the MethodDef its token gives.
    fn method_of_desc(&self, md: u64, via: &'static str) -> Option<MethodName> {
        let p = u64::from(self.index.pointer_size);
        if md == 0 || !md.is_multiple_of(p) {
            return None;
        }
        let mut h = [0u8; 8];
        self.mem.read_virtual(md, &mut h).ok()?;
        let remainder = u32::from(u16::from_le_bytes([h[0], h[1]]));
        let chunk_index = u64::from(h[2]);
        // MethodDescChunk: MethodTable, next, size, count, flags+range.
        let chunk_size = (2 * p + 4).next_multiple_of(p);
        let chunk = md.checked_sub(chunk_size + chunk_index * p)?;
        let w = self.ptr(chunk)?;
        let range = u32::from(self.mem.read_u16(chunk + 2 * p + 2).ok()?);
        let mut candidates = vec![w];
        // .NET Core 3.1: relative (fixup) pointer.
        let rel = chunk.wrapping_add(w & !1);
        candidates.push(if w & 1 != 0 {
            self.ptr(rel).unwrap_or(0)
        } else {
            rel
        });
        for mt in candidates {
            if mt == 0 || !mt.is_multiple_of(p) || MethodTable::read(&*self.mem, mt).is_none() {
                continue;
            }
            let Some((module, type_rid, _)) = self.namer().definition(mt) else {
                continue;
            };
            let preferred = self.cache.borrow().token_bits;
            let bits_order: Vec<u32> = match preferred {
                Some(b) => vec![b],
                None => vec![12, 14, 13],
            };
            for bits in bits_order {
                let mrid =
                    ((range & ((1 << (24 - bits)) - 1)) << bits) | (remainder & ((1 << bits) - 1));
                let name = {
                    let n = self.namer();
                    let Some(meta) = n.module_metadata(module) else {
                        continue;
                    };
                    if mrid == 0 || !meta.type_has_method(type_rid, mrid) {
                        continue;
                    }
                    meta.method_name(mrid).ok().map(str::to_owned)
                };
                let Some(method) = name else { continue };
                if range != 0 {
                    // The split mattered: keep it for this dump.
                    self.cache.borrow_mut().token_bits = Some(bits);
                }
                let type_name = self.full_name(mt);
                return Some(MethodName {
                    type_name,
                    method,
                    token: 0x0600_0000 | mrid,
                    method_desc: md,
                    via,
                });
            }
        }
        None
    }
}

fn le(b: &[u8], at: usize, n: usize) -> u64 {
    let mut v = [0u8; 8];
    if let Some(s) = b.get(at..at + n) {
        v[..n].copy_from_slice(s);
    }
    u64::from_le_bytes(v)
}

impl ObjectReader for ClrReader<'_> {
    fn pointer_size(&self) -> u8 {
        self.index.pointer_size
    }

    fn graph(&self) -> &HeapGraph {
        self.graph
    }

    fn read_memory(&self, address: u64, buf: &mut [u8]) -> Result<(), ContentsError> {
        self.mem
            .read_virtual(address, buf)
            .map_err(|e| ContentsError::Unreadable {
                address,
                len: buf.len() as u64,
                why: e.to_string(),
            })
    }

    fn layout(&self, ty: TypeIndex) -> Result<Arc<TypeLayout>, ContentsError> {
        let i = ty as usize;
        let (Some(&mt), Some(table)) = (self.index.method_tables.get(i), self.index.tables.get(i))
        else {
            return Err(self.layout_error(&format!("type {ty}"), "not a type of this dump"));
        };
        if let Some(l) = self.cache.borrow().layouts.get(&mt) {
            return Ok(l.clone());
        }
        let l = Arc::new(self.build_layout(mt, table));
        self.cache.borrow_mut().layouts.insert(mt, l.clone());
        Ok(l)
    }

    fn method_at(&self, code: u64) -> Option<MethodName> {
        if code == 0 {
            return None;
        }
        if let Some(m) = self.cache.borrow().methods.get(&code) {
            return m.clone();
        }
        let found = self
            .method_desc_candidates(code)
            .into_iter()
            .find_map(|(md, via)| self.method_of_desc(md, via));
        self.cache.borrow_mut().methods.insert(code, found.clone());
        found
    }

    fn static_fields(&self, ty: TypeIndex) -> Result<Vec<StaticField>, ContentsError> {
        let i = ty as usize;
        let Some(&mt) = self.index.method_tables.get(i) else {
            return Err(self.layout_error(&format!("type {ty}"), "not a type of this dump"));
        };
        let d = self
            .declaring(mt)
            .ok_or_else(|| self.layout_error(&format!("{mt:#x}"), "its type is not readable"))?;
        let raws = self
            .raw_fields(&d)
            .map_err(|why| self.layout_error(&d.name, why))?;
        let args = self.arg_names(&d.args);
        let bases = self.statics_bases(&d);
        let mut out = Vec::new();
        for raw in raws.iter().filter(|r| r.is_static) {
            let (name, type_name, sig) = {
                let n = self.namer();
                let Some(md) = n.module_metadata(d.module) else {
                    break;
                };
                (
                    md.field(raw.rid)
                        .map(|f| f.name.to_owned())
                        .unwrap_or_default(),
                    md.field_type_name(raw.rid, &|i| args.get(i as usize).cloned())
                        .unwrap_or_else(|_| "?".into()),
                    md.field_type(raw.rid).ok(),
                )
            };
            let kind = self.field_kind(raw, &d, sig, &type_name, 0);
            let boxed = matches!(kind, FieldKind::Struct(_) | FieldKind::OpaqueStruct { .. });
            let gc = boxed || kind == FieldKind::Reference;
            let (address, why) = if raw.thread_static {
                (
                    None,
                    Some("[ThreadStatic]: one value per thread".to_owned()),
                )
            } else if raw.rva {
                (
                    None,
                    Some("its data is in the image (an RVA static)".to_owned()),
                )
            } else {
                match &bases {
                    Ok((gc_base, non_gc)) => {
                        let base = if gc { *gc_base } else { *non_gc };
                        if base == 0 {
                            (
                                None,
                                Some("the type's statics are not allocated yet".to_owned()),
                            )
                        } else {
                            (Some(base.wrapping_add(u64::from(raw.offset))), None)
                        }
                    }
                    Err(why) => (None, Some(why.clone())),
                }
            };
            out.push(StaticField {
                field: FieldLayout {
                    name,
                    declared_in: d.name.clone(),
                    type_name,
                    offset: raw.offset,
                    kind,
                },
                address,
                boxed,
                thread_static: raw.thread_static,
                why_unknown: why,
            });
        }
        Ok(out)
    }
}
