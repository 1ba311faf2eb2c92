//! Static fields as named roots.
//!
//! The runtime keeps the references of static fields in slots of pinned
//! `System.Object[]` "statics arrays", which a handle roots; without this
//! module a static's object shows only as an element of such an array.
//! Here every static reference field (and every boxed value-type static)
//! the metadata names becomes a root of kind [`RootKind::Static`] named
//! `Namespace.Class.field` on the object its slot holds — `Ns.Outer+Inner`
//! for a nested class, `Ns.Generic`1[System.String]` for an instantiation
//! of a generic one.
//!
//! Where a type's slots are (docs/clr-heap-walk.md §5.1), from the
//! runtime's own sources:
//!
//! * **.NET Core 3.1 – .NET 8**: each module has a `DomainLocalModule`
//!   (`Module::m_ModuleID`) whose `m_pGCStatics` points at the module's
//!   slots in a statics array. A non-generic type's first slot follows
//!   from the metadata alone (`Module::BuildStaticsOffsets`): the types in
//!   TypeDef order, each taking one slot per static field that is not
//!   literal and not thread-static and whose signature is a reference, or
//!   a value type that is not an enum of this module (a value type of
//!   another module takes one, pessimistically; RVA fields are not
//!   excluded). Within a type (`MethodTableBuilder::PlaceRegularStaticFields`)
//!   the boxed value-type statics come first, then the references, each
//!   group in declaration order; RVA fields and enums take no slot. A
//!   generic instantiation's statics are "dynamic": the
//!   `DomainLocalModule`'s `m_pDynamicClassTable[id]` points at an entry
//!   whose first word is its `m_pGCStatics`, and the module's
//!   `m_pDynamicStaticsInfo[id]` names the instantiation's MethodTable.
//! * **.NET 9 and later**: every MethodTable with statics has a
//!   `DynamicStaticsInfo {m_pGCStatics, m_pNonGCStatics, m_pMethodTable}`
//!   just before its auxiliary data (`MT+0x20`); `m_pGCStatics` (low bit:
//!   class not yet initialised) points at the type's own slots, laid out
//!   as above. The MethodTable of each TypeDef comes from the module's
//!   TypeDef → MethodTable map; generic instantiations are found by their
//!   `DynamicStaticsInfo` pointing into the statics arrays.
//!
//! A generic instantiation's slots follow its type arguments: a field of
//! type `T` is a reference, a box, or not in a slot as `T` is a class, a
//! struct, or a primitive or enum.
//!
//! Modules without a MethodTable on the heap (a library whose static class
//! holds only other assemblies' types) are found through their statics:
//! the words of the process's writable memory that point into the statics
//! arrays are `m_pGCStatics` fields, and lead back to their module.
//!
//! Nothing depends on a build number. Calibrated on the dump: the offset
//! of `m_ModuleID` in `Module` and of `m_pGCStatics` in the
//! `DomainLocalModule` (the pair under which most modules' statics land
//! inside an `Object[]` with room for all their slots); the offsets of the
//! dynamic tables (those under which the entries' statics land in the
//! statics arrays and name generic MethodTables of the module); the
//! offset of the TypeDef map in `Module` (the one that maps the TypeDefs
//! of the heap's MethodTables back to them); the distance of
//! `DynamicStaticsInfo`'s back-pointer from the auxiliary data (the one at
//! which most MethodTables find themselves).
//!
//! Every module's (and instantiation's) slots are checked before any is
//! named: each must be null or hold an object of the heap, a boxed value
//! type where a boxed static is expected, a string for a `string` field
//! and an array for an array field. A module whose slots do not check out
//! gets no names (the report says which and why) — no names rather than
//! wrong ones.
//!
//! Not named (and counted): thread statics (per thread), statics of
//! collectible (unloadable) types, and types whose layout depends on a
//! value type whose definition is not in the dump's metadata.

use crate::heap::Segment;
use crate::methodtable::{MethodTable, CATEGORY_MASK, COLLECTIBLE, HAS_COMPONENT_SIZE};
use crate::names::{KnownModule, Modules};
use crate::roots::FoundRoot;
use crate::walk::{MethodTables, Objects};
use crate::width::PointerSize;
use heaplens_graph::RootKind;
use heaplens_memory::AddressSpace;
use heaplens_metadata::{CodedIndex, FieldType, Metadata, TableId, Token};
use std::collections::{BTreeMap, HashMap, HashSet};

/// A static field's object, found in the dump.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticRoot {
    /// Index of the object held (in [`Objects`]; never a Free object).
    pub object: u32,
    /// `Namespace.Class.field` (nested classes `Outer+Inner`, generic
    /// instantiations with their arguments in `[…]`).
    pub name: String,
}

/// Why a module's (or a generic instantiation's) static fields were not
/// named.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipReason {
    /// The runtime's statics records were not found (nothing calibrated).
    #[error("the runtime's statics records were not found")]
    NotLocated,
    /// The runtime's record of the statics (a `DomainLocalModule`, a
    /// dynamic entry, a `DynamicStaticsInfo`) is not in the dump.
    #[error("its statics record at {at:#x} is not in the dump")]
    RecordNotInDump {
        /// Where the record is.
        at: u64,
    },
    /// The statics pointer does not point at that many slots of one
    /// `Object[]`.
    #[error("its statics at {at:#x} are not {slots} slots of an Object[]")]
    NotInStaticsArray {
        /// The statics pointer.
        at: u64,
        /// Slots the metadata says it has.
        slots: u32,
    },
    /// A slot holds what its field cannot hold: the layout is not the one
    /// assumed.
    #[error("{field}: slot {slot:#x} holds {value:#x}, {problem}")]
    WrongSlot {
        /// `Class.field`.
        field: String,
        /// The slot's address.
        slot: u64,
        /// What it holds.
        value: u64,
        /// What is wrong with it.
        problem: SlotProblem,
    },
}

/// What is wrong with a static's slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SlotProblem {
    /// The slot is not in the dump.
    #[error("but the slot is not in the dump")]
    NotInDump,
    /// An address in the heap where no object starts.
    #[error("where no object starts")]
    NoObject,
    /// Free space.
    #[error("which is free space")]
    FreeSpace,
    /// A boxed value-type static holds no boxed value type.
    #[error("which is no boxed value type")]
    NotABox,
    /// A `string` static holds no string.
    #[error("which is no string")]
    NotAString,
    /// An array static holds no array.
    #[error("which is no array")]
    NotAnArray,
}

/// Where a type's statics are, as calibrated on the dump (for reading
/// static fields' values: [`crate::contents`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StaticsBases {
    /// Not found.
    #[default]
    Unknown,
    /// ≤ .NET 8: `Module + module_id` points at the module's
    /// `DomainLocalModule`, whose `+ gc_statics` points at the module's GC
    /// statics (a static's FieldDesc offset counts from there); non-GC
    /// statics count from the `DomainLocalModule` itself. Non-generic
    /// types only.
    DomainLocalModule {
        /// Offset of `m_ModuleID` in `Module`.
        module_id: u64,
        /// Offset of `m_pGCStatics` in `DomainLocalModule`.
        gc_statics: u64,
    },
    /// .NET 9+: the MethodTable's auxiliary data (`MT + 0x20`) less `back`
    /// is `DynamicStaticsInfo::m_pMethodTable`, after `m_pGCStatics` and
    /// `m_pNonGCStatics` (low bit: not yet initialised).
    DynamicStaticsInfo {
        /// Distance below the auxiliary data.
        back: u64,
    },
}

/// How the static fields were found and named.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StaticsReport {
    /// Where types' statics are, for reading their values.
    pub bases: StaticsBases,
    /// What was calibrated on the dump, or why nothing could be.
    pub calibration: Vec<String>,
    /// Static fields named as roots (their slot held an object of the
    /// heap).
    pub named: usize,
    /// … of them, fields of generic instantiations.
    pub named_generic: usize,
    /// Static fields whose slot held null (not initialised, or null).
    pub null: usize,
    /// Static fields whose slot held an address where the dump has no
    /// object (outside the heap the dump holds).
    pub not_on_heap: usize,
    /// Modules found through their statics (no MethodTable of theirs on
    /// the heap).
    pub modules_found_by_statics: usize,
    /// Generic instantiations whose statics were read.
    pub instantiations: usize,
    /// Thread-static reference fields: per thread, not named.
    pub thread_static: usize,
    /// Static reference fields of collectible (unloadable) types, kept
    /// through loader handles: not named.
    pub collectible: usize,
    /// Static fields of types whose slot layout depends on a value type
    /// whose definition is not in the dump's metadata: not named.
    pub unresolved: usize,
    /// Static fields of modules (or instantiations) whose statics were not
    /// found or did not check out (see [`StaticsReport::skipped`]): not
    /// named.
    pub in_skipped: usize,
    /// Modules and instantiations whose statics were not named, and why.
    pub skipped: Vec<(String, SkipReason)>,
    /// Modules without metadata in the dump: their static fields are not
    /// known.
    pub modules_without_metadata: usize,
}

impl StaticsReport {
    /// What a user should know, in one line (`None` when there were no
    /// static fields to look at).
    pub fn note(&self) -> Option<String> {
        let skipped = self.thread_static + self.collectible + self.unresolved + self.in_skipped;
        if self.named == 0 && skipped == 0 {
            return (self.modules_without_metadata > 0).then(|| {
                "static fields: not named (the dump lacks the modules' metadata)".to_owned()
            });
        }
        let mut parts = Vec::new();
        if self.thread_static > 0 {
            parts.push(format!("{} thread-static", self.thread_static));
        }
        if self.collectible > 0 {
            parts.push(format!("{} of collectible types", self.collectible));
        }
        if self.unresolved > 0 {
            parts.push(format!(
                "{} whose type's layout needs metadata the dump lacks",
                self.unresolved
            ));
        }
        if self.modules_without_metadata > 0 {
            parts.push(format!(
                "those of {} modules without metadata in the dump",
                self.modules_without_metadata
            ));
        }
        if self.in_skipped > 0 {
            let which: Vec<String> = self
                .skipped
                .iter()
                .take(5)
                .map(|(m, why)| format!("{m}: {why}"))
                .collect();
            let more = match self.skipped.len() {
                n if n > 5 => format!("; {} more", n - 5),
                _ => String::new(),
            };
            parts.push(format!(
                "{} whose statics could not be located ({}{more})",
                self.in_skipped,
                which.join("; ")
            ));
        }
        let mut s = format!(
            "static fields: {} named as roots (Namespace.Class.field; {} of them in {} generic \
             instantiations)",
            self.named, self.named_generic, self.instantiations
        );
        if !parts.is_empty() {
            s.push_str(&format!(
                "; not named: {} (still reachable through the statics arrays)",
                parts.join(", ")
            ));
        }
        Some(s)
    }
}

/// Most slots one module's (or type's) statics may have (bounds every
/// read; a module has at most as many as its Field table has rows).
const MAX_SLOTS: u32 = 1 << 20;
/// Bytes of a `Module` searched for `m_ModuleID` / the TypeDef map / the
/// dynamic statics table.
const MODULE_SCAN: usize = 0x1000;
/// Bytes of a `DomainLocalModule` (and of the record it points back to
/// its module through) searched.
const DLM_SCAN: usize = 0x80;
/// Bytes of a `DomainAssembly` searched for its module.
const DOMAIN_FILE_SCAN: usize = 0x200;
/// Most nodes of a lookup map followed.
const MAX_MAP_NODES: usize = 64;
/// Most nodes followed while calibrating (on candidates that are mostly
/// not lookup maps).
const CALIBRATION_NODES: usize = 4;
/// Farthest `DynamicStaticsInfo`'s back-pointer is looked for before the
/// auxiliary data.
const MAX_AUX_DISTANCE: u64 = 0x40;
/// Most dynamic statics entries of one module read.
const MAX_DYNAMIC_ENTRIES: u64 = 1 << 20;
/// Most candidate pointers into the statics arrays a memory scan keeps.
const MAX_SCAN_HITS: usize = 1 << 20;
/// Most modules and instantiations named through a memory scan.
const MAX_FOUND: usize = 1 << 16;

/// How one static field is kept, as the runtime places it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// A reference slot.
    Ref,
    /// A slot holding a box (a value type that is not an enum).
    Boxed,
    /// Not in a GC slot (primitive, enum, pointer, RVA).
    NotGc,
    /// Unknown: a value type whose definition was not found.
    Unknown,
}

/// A static field of a type, from the metadata (literal fields left out).
#[derive(Debug, Clone)]
struct StaticField {
    name: String,
    ty: FieldType,
    rva: bool,
    thread: bool,
}

/// A static field with a GC slot.
#[derive(Debug, Clone)]
struct SlotField {
    name: String,
    ty: FieldType,
}

/// Where a type's static fields go.
#[derive(Debug, Default)]
struct Layout {
    /// Boxed value-type statics, in declaration order (their slots first).
    boxed: Vec<SlotField>,
    /// Reference statics, in declaration order (after the boxed ones).
    refs: Vec<SlotField>,
    /// A field's placement is unknown: the type is not named.
    unresolved: bool,
}

impl Layout {
    fn slots(&self) -> u32 {
        (self.boxed.len() + self.refs.len()).min(MAX_SLOTS as usize) as u32
    }
}

/// The static fields of one type and where they go.
#[derive(Debug)]
struct TypePlan {
    rid: u32,
    /// `Ns.Outer+Inner`, or the instantiation's name.
    class: String,
    /// Slots `BuildStaticsOffsets` reserves for it (≤ .NET 8, non-generic).
    reserved: u32,
    layout: Layout,
}

/// The static fields of one module's non-generic types, from its metadata.
struct ModulePlan {
    address: u64,
    label: String,
    types: Vec<TypePlan>,
    /// Slots of the whole module (≤ .NET 8).
    total: u32,
}

/// The roots of one module or instantiation, committed once all its
/// slots check out.
#[derive(Default)]
struct Found {
    roots: Vec<StaticRoot>,
    null: usize,
    elsewhere: usize,
}

/// Finds the static fields of the modules the naming met (and of those
/// found through their statics), and the objects they hold. `handles`
/// are the handle table's roots: the arrays of references a strong or
/// pinning handle holds may be statics arrays too.
pub(crate) fn find(
    heap: Heap<'_>,
    modules: &mut Modules<'_>,
    handles: &[FoundRoot],
) -> (Vec<StaticRoot>, StaticsReport) {
    let objects = heap.objects;
    let mut s = Statics {
        heap,
        report: StaticsReport::default(),
        roots: Vec::new(),
        resolver: Resolver::default(),
        planned: HashSet::new(),
        arrays: BTreeMap::new(),
        thread_statics: HashMap::new(),
    };
    for r in handles {
        if matches!(r.kind, RootKind::StrongHandle | RootKind::PinnedHandle) {
            if let Some(a) =
                ((r.object as usize) < objects.len()).then(|| objects.address(r.object as usize))
            {
                s.note_array(a.saturating_add(s.heap.ptr().array_data_offset()));
            }
        }
    }
    let list = modules.list();
    let mut plans = Vec::new();
    for m in &list {
        if let Some(p) = s.plan(modules, m) {
            plans.push(p);
        }
    }
    if plans.is_empty() {
        if s.report.modules_without_metadata > 0 {
            s.report
                .calibration
                .push("statics: no module's metadata in the dump: static fields not named".into());
        }
        return (s.roots, s.report);
    }
    // The layout the naming calibrated is tried first, the other if it
    // finds nothing.
    let net9 = modules.net9_layout();
    let mut done = false;
    for dynamic in [net9, !net9] {
        done = if dynamic {
            s.dynamic_statics(modules, &plans)
        } else {
            s.domain_local_modules(modules, &plans)
        };
        if done {
            break;
        }
    }
    if !done {
        let fields: usize = plans.iter().map(|p| named_fields(&p.types)).sum();
        s.report.in_skipped += fields;
        if fields > 0 {
            s.report
                .skipped
                .push(("all modules".into(), SkipReason::NotLocated));
        }
    }
    (s.roots, s.report)
}

/// Fields of `types` that would be named.
fn named_fields(types: &[TypePlan]) -> usize {
    types
        .iter()
        .filter(|t| !t.layout.unresolved)
        .map(|t| t.layout.slots() as usize)
        .sum()
}

/// What the statics need of the heap and the dump.
pub(crate) struct Heap<'a> {
    /// The dump's memory.
    pub mem: &'a dyn AddressSpace,
    /// The heap's objects.
    pub objects: &'a Objects,
    /// Their MethodTables.
    pub mts: &'a MethodTables,
    /// The heap's segments.
    pub segments: &'a [Segment],
    /// The address range the GC reserved for all its regions (.NET 7+
    /// regions), when known: nothing but GC memory lies there.
    pub gc_range: Option<(u64, u64)>,
    /// The words of writable memory pointing into the heap, as
    /// [`crate::writable::scan`] found them (`None`: too many were kept).
    pub heap_pointers: Option<&'a crate::writable::HeapPointers>,
}

impl Heap<'_> {
    /// The process's pointer size: a slot's.
    fn ptr(&self) -> PointerSize {
        PointerSize::of(self.mem)
    }

    /// The element range `[start, end)` of the array of references
    /// containing `p`, when `p` is one of its element slots.
    fn ref_array_elements(&self, p: u64) -> Option<(u64, u64)> {
        let ptr = self.ptr();
        let i = self.objects.containing(p)?;
        let mt = &self.mts.tables[self.objects.mt(i) as usize];
        if mt.is_free
            || !mt.is_array()
            || u64::from(mt.component_size) != ptr.bytes()
            || mt.gcdesc.is_none()
        {
            return None;
        }
        // The elements follow the MethodTable and the length; the object's
        // size counts the header before it.
        let a = self.objects.address(i);
        let (start, end) = (
            a.saturating_add(ptr.array_data_offset()),
            a.saturating_add(self.objects.size(i).saturating_sub(ptr.bytes())),
        );
        (p >= start && p < end && ptr.aligned(p - start)).then_some((start, end))
    }

    /// True when `n` slots from `p` lie in one array of references.
    fn fits(&self, p: u64, n: u32) -> bool {
        let ptr = self.ptr();
        p != 0
            && ptr.aligned(p)
            && self.ref_array_elements(p).is_some_and(|(_, end)| {
                p.checked_add(ptr.times(u64::from(n)))
                    .is_some_and(|e| e <= end)
            })
    }

    fn in_heap(&self, v: u64) -> bool {
        crate::heap::in_segments(self.segments, v)
    }

    fn table(&self, object: usize) -> &MethodTable {
        &self.mts.tables[self.objects.mt(object) as usize]
    }
}

/// What one slot holds.
enum Slot {
    Null,
    Object(usize),
    /// Outside the heap the dump holds.
    Elsewhere,
    /// Wrong: not an object start inside the heap, or an object of the
    /// wrong kind.
    Wrong(u64, SlotProblem),
}

/// Reads and checks the slot at `at` of a field of type `ty`.
fn read_slot(heap: &Heap<'_>, at: u64, boxed: bool, ty: &FieldType) -> Slot {
    if at == 0 {
        return Slot::Wrong(0, SlotProblem::NotInDump);
    }
    let Ok(v) = heap.mem.read_pointer(at) else {
        return Slot::Wrong(0, SlotProblem::NotInDump);
    };
    if v == 0 {
        return Slot::Null;
    }
    let Some(o) = heap.objects.find(v) else {
        if heap.in_heap(v) || !heap.ptr().aligned(v) {
            return Slot::Wrong(v, SlotProblem::NoObject);
        }
        return Slot::Elsewhere;
    };
    let mt = heap.table(o);
    if mt.is_free {
        return Slot::Wrong(v, SlotProblem::FreeSpace);
    }
    let value_type = mt.is_value_type();
    let array = mt.is_array();
    let string = mt.flags & HAS_COMPONENT_SIZE != 0 && !array && mt.component_size == 2;
    let problem = if boxed {
        (!value_type).then_some(SlotProblem::NotABox)
    } else {
        match ty {
            FieldType::String => (!string).then_some(SlotProblem::NotAString),
            FieldType::SzArray | FieldType::Array => (!array).then_some(SlotProblem::NotAnArray),
            _ => None,
        }
    };
    match problem {
        None => Slot::Object(o),
        Some(p) => Slot::Wrong(v, p),
    }
}

/// Reads one type's slots from `base` into `out`; `Err` at the first
/// wrong slot.
fn read_type(
    heap: &Heap<'_>,
    class: &str,
    layout: &Layout,
    base: u64,
    out: &mut Found,
) -> Result<(), SkipReason> {
    let fields = layout
        .boxed
        .iter()
        .map(|f| (f, true))
        .chain(layout.refs.iter().map(|f| (f, false)));
    for (i, (f, boxed)) in fields.enumerate() {
        // 0 (unreadable) when the slot is past the address space.
        let at = base.checked_add(heap.ptr().times(i as u64)).unwrap_or(0);
        match read_slot(heap, at, boxed, &f.ty) {
            Slot::Null => out.null += 1,
            Slot::Elsewhere => out.elsewhere += 1,
            Slot::Object(o) => out.roots.push(StaticRoot {
                object: o as u32,
                name: format!("{class}.{}", f.name),
            }),
            Slot::Wrong(value, problem) => {
                return Err(SkipReason::WrongSlot {
                    field: format!("{class}.{}", f.name),
                    slot: at,
                    value,
                    problem,
                })
            }
        }
    }
    Ok(())
}

/// Reads `n` bytes at `at` as pointer-sized words, or as many words from
/// the start as the dump holds (zeros after).
fn read_words(mem: &dyn AddressSpace, at: u64, n: usize) -> Vec<u64> {
    let ptr = PointerSize::of(mem);
    let p = ptr.usize();
    let mut buf = vec![0u8; n];
    if mem.read_virtual(at, &mut buf).is_err() {
        let mut words = Vec::with_capacity(n / p);
        for i in 0..n / p {
            match at
                .checked_add(ptr.times(i as u64))
                .map(|a| mem.read_pointer(a))
            {
                Some(Ok(v)) => words.push(v),
                _ => break,
            }
        }
        words.resize(n / p, 0);
        return words;
    }
    buf.chunks_exact(p).map(|w| ptr.read(w, 0)).collect()
}

/// The key with the most votes, unless another has as many.
fn winner<K: Copy + Ord>(votes: HashMap<K, usize>) -> Option<(K, usize)> {
    let mut best: Vec<(K, usize)> = votes.into_iter().collect();
    best.sort_by_key(|&(k, v)| (std::cmp::Reverse(v), k));
    let &(k, n) = best.first()?;
    best.get(1).is_none_or(|&(_, m)| m != n).then_some((k, n))
}

/// The reader's state.
struct Statics<'a> {
    heap: Heap<'a>,
    report: StaticsReport,
    roots: Vec<StaticRoot>,
    resolver: Resolver,
    /// Modules planned (met, or found through their statics).
    planned: HashSet<u64>,
    /// The statics arrays seen (and the arrays of references handles
    /// hold), by start: their element ranges.
    arrays: BTreeMap<u64, u64>,
    /// The `[ThreadStatic]` fields of each metadata, by index.
    thread_statics: HashMap<usize, HashSet<u32>>,
}

impl Statics<'_> {
    /// Accepts (or rejects) one module's or instantiation's roots.
    fn commit(
        &mut self,
        label: &str,
        fields: usize,
        generic: bool,
        result: Result<Found, SkipReason>,
    ) {
        match result {
            Ok(found) => {
                self.report.named += found.roots.len();
                if generic {
                    self.report.named_generic += found.roots.len();
                }
                self.report.null += found.null;
                self.report.not_on_heap += found.elsewhere;
                self.roots.extend(found.roots);
            }
            Err(why) => {
                self.report.in_skipped += fields;
                self.report.skipped.push((label.to_owned(), why));
            }
        }
    }

    /// The `[ThreadStatic]` fields of metadata `index`, `md`.
    fn thread_statics_of(&mut self, index: usize, md: &Metadata) -> HashSet<u32> {
        self.thread_statics
            .entry(index)
            .or_insert_with(|| thread_static_fields(md))
            .clone()
    }

    /// Remembers the statics array holding `p`.
    fn note_array(&mut self, p: u64) {
        if let Some((start, end)) = self.heap.ref_array_elements(p) {
            self.arrays.insert(start, end);
        }
    }

    /// The static fields of module `m`'s non-generic types.
    fn plan(&mut self, modules: &Modules<'_>, m: &KnownModule) -> Option<ModulePlan> {
        if !self.planned.insert(m.address) {
            return None;
        }
        let Some(md) = m.metadata.and_then(|i| modules.metadata(i)) else {
            self.report.modules_without_metadata += 1;
            return None;
        };
        let label = m
            .name
            .clone()
            .unwrap_or_else(|| format!("Module {:#x}", m.address));
        let thread = self.thread_statics_of(m.metadata.unwrap_or(usize::MAX), md);
        let mut types = Vec::new();
        let mut total: u32 = 0;
        for rid in 1..=md.type_def_count() {
            let fields = static_fields(md, rid, &thread);
            if fields.is_empty() {
                continue;
            }
            if md.generic_param_count(rid) > 0 {
                // Per instantiation: counted when found.
                continue;
            }
            let layout = self.layout(modules, md, &fields, None);
            let reserved = fields
                .iter()
                .filter(|f| !f.thread && reserves_slot(md, &f.ty))
                .count()
                .min(MAX_SLOTS as usize) as u32;
            total = total.saturating_add(reserved).min(MAX_SLOTS);
            if layout.unresolved {
                self.report.unresolved += layout.slots() as usize;
            }
            if reserved > 0 || layout.slots() > 0 {
                types.push(TypePlan {
                    rid,
                    class: md
                        .full_type_name(rid)
                        .unwrap_or_else(|_| format!("0x{:08x}", 0x0200_0000 | rid)),
                    reserved,
                    layout,
                });
            }
        }
        (!types.is_empty()).then_some(ModulePlan {
            address: m.address,
            label,
            types,
            total,
        })
    }

    /// Where the static fields `fields` of a type of `md` go; `args`, the
    /// type arguments of a generic instantiation.
    fn layout(
        &mut self,
        modules: &Modules<'_>,
        md: &Metadata,
        fields: &[StaticField],
        args: Option<&[u64]>,
    ) -> Layout {
        let mut layout = Layout::default();
        for f in fields {
            let place = if f.rva {
                Place::NotGc
            } else {
                self.resolver.place(self.heap.mem, modules, md, &f.ty, args)
            };
            if f.thread {
                if matches!(place, Place::Ref | Place::Boxed | Place::Unknown) {
                    self.report.thread_static += 1;
                }
                continue;
            }
            let slot = SlotField {
                name: f.name.clone(),
                ty: f.ty,
            };
            match place {
                Place::Ref => layout.refs.push(slot),
                Place::Boxed => layout.boxed.push(slot),
                Place::NotGc => {}
                Place::Unknown => layout.unresolved = true,
            }
        }
        layout
    }

    /// Reads the generic instantiation `mt`'s slots at `gc` (its
    /// `m_pGCStatics`, low bit masked).
    fn read_instance(&mut self, modules: &mut Modules<'_>, mt: u64, gc: u64) {
        let Some(table) = MethodTable::read(self.heap.mem, mt) else {
            return;
        };
        let Some(inst) = modules.instance(mt) else {
            return;
        };
        let Some(md_index) = modules.metadata_index(inst.module) else {
            return;
        };
        let Some(md) = modules.metadata(md_index) else {
            return;
        };
        let thread = self.thread_statics_of(md_index, md);
        let fields = static_fields(md, inst.rid, &thread);
        let layout = self.layout(modules, md, &fields, Some(&inst.args));
        let slots = layout.slots();
        if table.flags & COLLECTIBLE != 0 {
            self.report.collectible += slots as usize;
            return;
        }
        if layout.unresolved {
            self.report.unresolved += slots as usize;
            return;
        }
        if slots == 0 {
            return;
        }
        self.report.instantiations += 1;
        let result = if gc == 0 {
            Ok(Found {
                null: slots as usize,
                ..Found::default()
            })
        } else if !self.heap.fits(gc, slots) {
            Err(SkipReason::NotInStaticsArray { at: gc, slots })
        } else {
            self.note_array(gc);
            let mut found = Found::default();
            read_type(&self.heap, &inst.name, &layout, gc, &mut found).map(|()| found)
        };
        self.commit(&inst.name, slots as usize, true, result);
    }

    /// The words of the process's writable memory (outside the GC heap)
    /// pointing into the statics arrays seen, low bit masked: where they
    /// are and what they hold. From the heap pointers the read's one pass
    /// over that memory kept; read again only when it kept too many.
    fn scan_for_statics_pointers(&self) -> Vec<(u64, u64)> {
        let (Some((&lo, _)), Some(&hi)) =
            (self.arrays.first_key_value(), self.arrays.values().max())
        else {
            return Vec::new();
        };
        // A sorted list searched by halving: cheaper than the map's range
        // query, asked once per candidate word.
        let spans: Vec<(u64, u64)> = self.arrays.iter().map(|(&a, &b)| (a, b)).collect();
        let in_arrays = |v: u64| {
            v >= lo && v < hi && {
                let i = spans.partition_point(|s| s.0 <= v);
                i > 0 && v < spans[i - 1].1
            }
        };
        match self.heap.heap_pointers {
            Some(found) => found.matching(self.heap.mem, &in_arrays, MAX_SCAN_HITS),
            None => crate::writable::pointers(
                self.heap.mem,
                self.heap.segments,
                self.heap.gc_range,
                &in_arrays,
                MAX_SCAN_HITS,
            ),
        }
    }

    // -----------------------------------------------------------------
    // .NET Core 3.1 – .NET 8: DomainLocalModule.

    /// The `(m_ModuleID offset in Module, m_pGCStatics offset in
    /// DomainLocalModule)` pair under which most modules' statics land in
    /// an array of references with room for all their slots.
    fn calibrate_dlm(&self, plans: &[ModulePlan]) -> Option<((u64, u64), usize, usize)> {
        let ptr = self.heap.ptr();
        let mut votes: HashMap<(u64, u64), usize> = HashMap::new();
        let mut candidates = 0;
        for p in plans.iter().filter(|p| p.total > 0) {
            candidates += 1;
            let module = read_words(self.heap.mem, p.address, MODULE_SCAN);
            for (ki, &dlm) in module.iter().enumerate() {
                if dlm == 0 || !ptr.aligned(dlm) || dlm == p.address {
                    continue;
                }
                let words = read_words(self.heap.mem, dlm, DLM_SCAN);
                for (ji, &v) in words.iter().enumerate() {
                    if self.heap.fits(v, p.total) {
                        let pair = (ptr.times(ki as u64), ptr.times(ji as u64));
                        *votes.entry(pair).or_insert(0) += 1;
                    }
                }
            }
        }
        let (pair, n) = winner(votes)?;
        (n >= 2 || (n == 1 && candidates == 1)).then_some((pair, n, candidates))
    }

    /// Reads module `p`'s non-generic statics through its
    /// `DomainLocalModule` (`m_ModuleID` at `k`, `m_pGCStatics` at `j`).
    fn read_dlm_module(&mut self, p: &ModulePlan, k: u64, j: u64) {
        let heap = &self.heap;
        let ptr = heap.ptr();
        let dlm = heap
            .mem
            .read_pointer(p.address.wrapping_add(k))
            .unwrap_or(0);
        let result = match heap.mem.read_pointer(dlm.wrapping_add(j)) {
            Err(_) => Err(SkipReason::RecordNotInDump { at: dlm }),
            // No class with statics initialised yet.
            Ok(0) => Ok(Found {
                null: named_fields(&p.types),
                ..Found::default()
            }),
            Ok(base) if p.total > 0 && !heap.fits(base, p.total) => {
                Err(SkipReason::NotInStaticsArray {
                    at: base,
                    slots: p.total,
                })
            }
            Ok(base) => {
                let mut found = Found::default();
                let mut first = 0u32;
                let mut result = Ok(());
                for t in &p.types {
                    let at = base.wrapping_add(ptr.times(u64::from(first)));
                    first = first.saturating_add(t.reserved);
                    if t.layout.unresolved {
                        continue;
                    }
                    result = read_type(heap, &t.class, &t.layout, at, &mut found);
                    if result.is_err() {
                        break;
                    }
                }
                if p.total > 0 {
                    self.note_array(base);
                }
                result.map(|()| found)
            }
        };
        self.commit(&p.label, named_fields(&p.types), false, result);
    }

    /// Names the statics through each module's `DomainLocalModule` (≤ .NET
    /// 8). False when its offsets cannot be calibrated.
    fn domain_local_modules(&mut self, modules: &mut Modules<'_>, plans: &[ModulePlan]) -> bool {
        let Some(((k, j), n, of)) = self.calibrate_dlm(plans) else {
            self.report.calibration.push(
                "statics: no Module → DomainLocalModule → statics array pair found (≤ .NET 8 \
                 layout)"
                    .into(),
            );
            return false;
        };
        self.report.calibration.push(format!(
            "statics: DomainLocalModule at Module+{k:#x}, m_pGCStatics at +{j:#x} ({n} of {of} \
             modules with statics confirm)"
        ));
        self.report.bases = StaticsBases::DomainLocalModule {
            module_id: k,
            gc_statics: j,
        };
        for p in plans {
            self.read_dlm_module(p, k, j);
        }
        // Modules without a MethodTable on the heap, through their
        // DomainLocalModule's pointer into the statics arrays.
        let found = self.dlm_modules_by_statics(modules, plans, k, j);
        let mut all: Vec<&ModulePlan> = plans.iter().collect();
        all.extend(found.iter());
        for p in &found {
            self.read_dlm_module(p, k, j);
        }
        self.dlm_generics(modules, &all, k, j);
        true
    }

    /// The modules whose `DomainLocalModule` points into the statics
    /// arrays but which the naming did not meet: each found from its
    /// `DomainLocalModule` through the record at its start (`DomainFile` /
    /// `DomainAssembly`, whose module pointer is calibrated on the known
    /// modules) and checked by the module's `m_ModuleID` pointing back.
    fn dlm_modules_by_statics(
        &mut self,
        modules: &mut Modules<'_>,
        plans: &[ModulePlan],
        k: u64,
        j: u64,
    ) -> Vec<ModulePlan> {
        // DomainLocalModule → (record at +a) → Module at +b.
        let ptr = self.heap.ptr();
        let mut votes: HashMap<(u64, u64), usize> = HashMap::new();
        for p in plans {
            let Ok(dlm) = self.heap.mem.read_pointer(p.address.wrapping_add(k)) else {
                continue;
            };
            for (ai, &rec) in read_words(self.heap.mem, dlm, j as usize)
                .iter()
                .enumerate()
            {
                if rec == 0 || !ptr.aligned(rec) {
                    continue;
                }
                for (bi, &m) in read_words(self.heap.mem, rec, DOMAIN_FILE_SCAN)
                    .iter()
                    .enumerate()
                {
                    if m == p.address {
                        let pair = (ptr.times(ai as u64), ptr.times(bi as u64));
                        *votes.entry(pair).or_insert(0) += 1;
                    }
                }
            }
        }
        let Some(((a, b), n)) = winner(votes).filter(|&(_, n)| n >= 2) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        let mut seen = HashSet::new();
        for (at, _) in self.scan_for_statics_pointers() {
            let Some(dlm) = at.checked_sub(j) else {
                continue;
            };
            if found.len() >= MAX_FOUND {
                break;
            }
            if !seen.insert(dlm) {
                continue;
            }
            let module = self
                .heap
                .mem
                .read_pointer(dlm.wrapping_add(a))
                .and_then(|rec| self.heap.mem.read_pointer(rec.wrapping_add(b)));
            let Ok(m) = module else {
                continue;
            };
            if m == 0
                || self.planned.contains(&m)
                || self.heap.mem.read_pointer(m.wrapping_add(k)).ok() != Some(dlm)
            {
                continue;
            }
            let known = modules.add(m);
            if let Some(p) = self.plan(modules, &known) {
                found.push(p);
            }
        }
        self.report.modules_found_by_statics += found.len();
        let names: Vec<&str> = found.iter().map(|p| p.label.as_str()).collect();
        self.report.calibration.push(format!(
            "statics: DomainLocalModule → Module through +{a:#x} then +{b:#x} ({n} modules \
             confirm); modules found through their statics: {names:?}"
        ));
        found
    }

    /// Reads the generic instantiations' statics of the modules `plans`
    /// (≤ .NET 8): the `DomainLocalModule`'s dynamic class table (entries
    /// `{m_pDynamicEntry, m_dwFlags}`, two pointers' room, the entry's
    /// first word its `m_pGCStatics`) and the module's dynamic statics info
    /// (the instantiations' MethodTables, by the same index).
    fn dlm_generics(&mut self, modules: &mut Modules<'_>, plans: &[&ModulePlan], k: u64, j: u64) {
        let mem = self.heap.mem;
        let ptr = self.heap.ptr();
        let entry_size = ptr.times(2);
        // The table: a pointer then a count in the DomainLocalModule,
        // before m_pGCStatics; its entries' statics land in the arrays.
        let mut votes: HashMap<u64, usize> = HashMap::new();
        let mut tables = Vec::new();
        for p in plans {
            let Ok(dlm) = mem.read_pointer(p.address.wrapping_add(k)) else {
                continue;
            };
            let words = read_words(mem, dlm, j as usize);
            tables.push((p.address, dlm));
            for t in 0..words.len().saturating_sub(1) {
                let (table, count) = (words[t], words[t + 1]);
                if table == 0 || count == 0 || count > MAX_DYNAMIC_ENTRIES {
                    continue;
                }
                let hits = (0..count.min(16))
                    .filter(|&n| {
                        mem.read_pointer(table.wrapping_add(entry_size * n))
                            .and_then(|e| mem.read_pointer(e))
                            .is_ok_and(|gc| self.heap.fits(gc, 1))
                    })
                    .count();
                if hits > 0 {
                    *votes.entry(ptr.times(t as u64)).or_insert(0) += hits;
                }
            }
        }
        let Some((t, _)) = winner(votes) else {
            self.report
                .calibration
                .push("statics: no dynamic statics table found in DomainLocalModule".into());
            return;
        };
        // The module's table of instantiations: MethodTables whose loader
        // module is the module, one per dynamic entry.
        let mut votes: HashMap<u64, usize> = HashMap::new();
        let mut sized = Vec::new();
        for &(m, dlm) in &tables {
            let w = read_words(mem, dlm.wrapping_add(t), ptr.usize() * 2);
            let (table, count) = (w[0], w[1].min(MAX_DYNAMIC_ENTRIES));
            if table == 0 || count == 0 {
                continue;
            }
            sized.push((m, table, count));
            let module = read_words(mem, m, MODULE_SCAN);
            for (qi, &info) in module.iter().enumerate() {
                if info == 0 || !ptr.aligned(info) {
                    continue;
                }
                let ok = (0..count.min(8)).all(|n| {
                    mem.read_pointer(info.wrapping_add(ptr.times(n)))
                        .is_ok_and(|mt| mt == 0 || modules.is_generic_of(mt, m))
                }) && mem
                    .read_pointer(info)
                    .is_ok_and(|mt| modules.is_generic_of(mt, m));
                if ok {
                    *votes.entry(ptr.times(qi as u64)).or_insert(0) += 1;
                }
            }
        }
        let Some((q, n)) = winner(votes) else {
            self.report.calibration.push(format!(
                "statics: dynamic class table at DomainLocalModule+{t:#x}, but no table of \
                 instantiations found in Module"
            ));
            return;
        };
        self.report.calibration.push(format!(
            "statics: dynamic class table at DomainLocalModule+{t:#x}; instantiations at \
             Module+{q:#x} ({n} modules confirm)"
        ));
        for (m, table, count) in sized {
            let Ok(info) = mem.read_pointer(m.wrapping_add(q)) else {
                continue;
            };
            for i in 0..count {
                let Ok(mt) = mem.read_pointer(info.wrapping_add(ptr.times(i))) else {
                    break;
                };
                if mt == 0 || !modules.is_generic_of(mt, m) {
                    continue;
                }
                let Ok(entry) = mem.read_pointer(table.wrapping_add(entry_size * i)) else {
                    break;
                };
                let gc = if entry == 0 {
                    0
                } else {
                    match mem.read_pointer(entry) {
                        Ok(gc) => gc,
                        Err(_) => continue,
                    }
                };
                self.read_instance(modules, mt, gc);
            }
        }
    }

    // -----------------------------------------------------------------
    // .NET 9+: DynamicStaticsInfo.

    /// The offset in `Module` of the TypeDef → MethodTable map: the one
    /// that maps the most heap MethodTables' TypeDefs back to them.
    fn calibrate_typedef_map(
        &self,
        modules: &Modules<'_>,
        plans: &[ModulePlan],
    ) -> Option<(u64, usize)> {
        let mut known: HashMap<u64, Vec<(u32, u64)>> = HashMap::new();
        for &mt in &self.heap.mts.addresses {
            if let Some((m, rid)) = modules.module_and_rid(mt) {
                let v = known.entry(m).or_default();
                if v.len() < 16 {
                    v.push((rid, mt));
                }
            }
        }
        let mut score: HashMap<u64, usize> = HashMap::new();
        for p in plans {
            let Some(pairs) = known.get(&p.address) else {
                continue;
            };
            for k in (0..MODULE_SCAN as u64).step_by(self.heap.ptr().usize()) {
                // Most candidates fail on the first pairs: stop once a
                // majority cannot be reached.
                let (mut hits, mut misses) = (0, 0);
                for &(rid, mt) in pairs {
                    let map = p.address.wrapping_add(k);
                    if map_lookup(self.heap.mem, map, rid, CALIBRATION_NODES) == Some(mt) {
                        hits += 1;
                    } else {
                        misses += 1;
                        if misses * 2 >= pairs.len() {
                            break;
                        }
                    }
                }
                if hits * 2 > pairs.len() {
                    *score.entry(k).or_insert(0) += hits;
                }
            }
        }
        winner(score)
    }

    /// The `DynamicStaticsInfo` of `mt` when its back-pointer, `d` below
    /// the auxiliary data, names `mt`: its `m_pGCStatics` (two pointers
    /// before), low bit masked.
    fn dynamic_info(&self, mt: u64, d: u64) -> Option<u64> {
        let mem = self.heap.mem;
        let ptr = self.heap.ptr();
        let aux = mem.read_pointer(mt.checked_add(aux_offset(ptr))?).ok()?;
        let back = aux.checked_sub(d)?;
        if mem.read_pointer(back).ok()? != mt {
            return None;
        }
        Some(mem.read_pointer(back.checked_sub(ptr.times(2))?).ok()? & !1)
    }

    /// Reads module `p`'s non-generic statics through its types'
    /// `DynamicStaticsInfo` (TypeDef map at `map`, back-pointer `d` below
    /// the auxiliary data).
    fn read_dynamic_module(&mut self, p: &ModulePlan, map: u64, d: u64) {
        let mut found = Found::default();
        let mut result = Ok(());
        for t in &p.types {
            if t.layout.unresolved {
                continue;
            }
            let slots = t.layout.slots();
            let gc = map_lookup(
                self.heap.mem,
                p.address.wrapping_add(map),
                t.rid,
                MAX_MAP_NODES,
            )
            .and_then(|mt| self.dynamic_info(mt, d));
            let Some(gc) = gc.filter(|&gc| gc != 0) else {
                // Not loaded, or no statics allocated yet.
                found.null += slots as usize;
                continue;
            };
            if !self.heap.fits(gc, slots) {
                result = Err(SkipReason::NotInStaticsArray { at: gc, slots });
                break;
            }
            self.note_array(gc);
            result = read_type(&self.heap, &t.class, &t.layout, gc, &mut found);
            if result.is_err() {
                break;
            }
        }
        self.commit(
            &p.label,
            named_fields(&p.types),
            false,
            result.map(|()| found),
        );
    }

    /// Names the statics through each type's `DynamicStaticsInfo` (.NET
    /// 9+). False when the layout cannot be calibrated.
    fn dynamic_statics(&mut self, modules: &mut Modules<'_>, plans: &[ModulePlan]) -> bool {
        let Some((map, hits)) = self.calibrate_typedef_map(modules, plans) else {
            self.report.calibration.push(
                "statics: no TypeDef → MethodTable map found in Module (.NET 9+ layout)".into(),
            );
            return false;
        };
        // The distance of DynamicStaticsInfo's back-pointer below the
        // auxiliary data: the one at which most types find themselves.
        let mut votes: HashMap<u64, usize> = HashMap::new();
        for p in plans {
            for t in &p.types {
                let mem = self.heap.mem;
                let Some(mt) = map_lookup(mem, p.address.wrapping_add(map), t.rid, MAX_MAP_NODES)
                else {
                    continue;
                };
                let ptr = self.heap.ptr();
                let Some(aux) = mt
                    .checked_add(aux_offset(ptr))
                    .and_then(|a| mem.read_pointer(a).ok())
                else {
                    continue;
                };
                let below = read_words(
                    mem,
                    aux.saturating_sub(MAX_AUX_DISTANCE),
                    MAX_AUX_DISTANCE as usize,
                );
                for (i, &w) in below.iter().enumerate() {
                    if w == mt {
                        *votes
                            .entry(MAX_AUX_DISTANCE - ptr.times(i as u64))
                            .or_insert(0) += 1;
                    }
                }
            }
        }
        let min_distance = self.heap.ptr().bytes();
        let Some((d, n)) = winner(votes).filter(|&(d, _)| d >= min_distance) else {
            self.report.calibration.push(format!(
                "statics: TypeDef map at Module+{map:#x} ({hits} heap MethodTables confirm), but \
                 no DynamicStaticsInfo back-pointer below the auxiliary data"
            ));
            return false;
        };
        self.report.calibration.push(format!(
            "statics: TypeDef map at Module+{map:#x} ({hits} heap MethodTables confirm); \
             DynamicStaticsInfo's MethodTable at aux−{d:#x} ({n} types confirm)"
        ));
        self.report.bases = StaticsBases::DynamicStaticsInfo { back: d };
        for p in plans {
            self.read_dynamic_module(p, map, d);
        }
        // Generic instantiations and modules without a MethodTable on the
        // heap: every DynamicStaticsInfo whose m_pGCStatics points into the
        // statics arrays.
        let mut seen = HashSet::new();
        let mut found_modules = Vec::new();
        let mut instances = 0;
        for (at, gc) in self.scan_for_statics_pointers() {
            let Ok(mt) = self
                .heap
                .mem
                .read_pointer(at.wrapping_add(self.heap.ptr().times(2)))
            else {
                continue;
            };
            if seen.len() >= MAX_FOUND {
                break;
            }
            if mt == 0 || !seen.insert(mt) {
                continue;
            }
            // The back-pointer check: this is mt's DynamicStaticsInfo.
            if self.dynamic_info(mt, d) != Some(gc) {
                continue;
            }
            if let Some((m, _)) = modules.module_and_rid(mt) {
                if !self.planned.contains(&m) {
                    let known = modules.add(m);
                    if let Some(p) = self.plan(modules, &known) {
                        found_modules.push(p);
                    }
                }
            } else if MethodTable::read(self.heap.mem, mt).is_some() {
                instances += 1;
                self.read_instance(modules, mt, gc);
            }
        }
        for p in &found_modules {
            self.read_dynamic_module(p, map, d);
        }
        self.report.modules_found_by_statics += found_modules.len();
        let names: Vec<&str> = found_modules.iter().map(|p| p.label.as_str()).collect();
        self.report.calibration.push(format!(
            "statics: found through their statics: modules {names:?}, {instances} generic \
             instantiations"
        ));
        true
    }
}

/// Where a MethodTable keeps its auxiliary data (.NET 9+): its third
/// pointer, after the parent and the module.
fn aux_offset(ptr: PointerSize) -> u64 {
    0x10 + ptr.times(2)
}

/// The MethodTable of TypeDef `rid` through the lookup map at `map`
/// (`{pNext, pTable, dwCount, supportedFlags}` nodes of four pointers'
/// room, each covering the next `dwCount` RIDs), following at most
/// `nodes` nodes.
pub(crate) fn map_lookup(mem: &dyn AddressSpace, map: u64, rid: u32, nodes: usize) -> Option<u64> {
    let ptr = PointerSize::of(mem);
    let mut node = map;
    let mut rid = u64::from(rid);
    for _ in 0..nodes.min(MAX_MAP_NODES) {
        let w = read_words(mem, node, ptr.usize() * 4);
        let (next, table, count, flags) = (w[0], w[1], w[2] & 0xFFFF_FFFF, w[3]);
        if rid < count {
            if table == 0 {
                return None;
            }
            let v = mem.read_pointer(table.checked_add(ptr.times(rid))?).ok()? & !flags;
            return (v != 0).then_some(v);
        }
        rid -= count;
        if next == 0 || next == node {
            return None;
        }
        node = next;
    }
    None
}

// ---------------------------------------------------------------------
// Metadata: which static fields take slots, and where.

/// The static, non-literal fields of TypeDef `rid` in declaration order.
fn static_fields(md: &Metadata, rid: u32, thread: &HashSet<u32>) -> Vec<StaticField> {
    let rows = md.row_count(TableId::Field);
    let mut out = Vec::new();
    for frid in md.type_fields(rid) {
        if frid == 0 || frid > rows {
            break;
        }
        let Ok(f) = md.field(frid) else {
            continue;
        };
        if !f.is_static() || f.is_literal() {
            continue;
        }
        // A signature that cannot be read: its placement is unknown.
        let ty = md.field_type(frid).unwrap_or(FieldType::MVar(u32::MAX));
        out.push(StaticField {
            name: f.name.to_owned(),
            ty,
            rva: f.flags & heaplens_metadata::FIELD_HAS_RVA != 0,
            thread: thread.contains(&frid),
        });
    }
    out
}

/// Whether `BuildStaticsOffsets` reserves a slot for a (non-literal,
/// non-thread-static) static field of type `ty`: references, and value
/// types unless an enum of this module (`ParseMetadataForStaticsIsValueTypeEnum`).
fn reserves_slot(md: &Metadata, ty: &FieldType) -> bool {
    match ty {
        FieldType::String
        | FieldType::Object
        | FieldType::Class(_)
        | FieldType::SzArray
        | FieldType::Array
        | FieldType::Var(_)
        | FieldType::MVar(_)
        | FieldType::GenericInst { .. } => true,
        FieldType::ValueType(t) => match t.table() {
            Some(TableId::TypeDef) => enum_of(md, t.rid()) != Some(true),
            // Another module's value type: pessimistically a slot.
            _ => true,
        },
        FieldType::Primitive(_)
        | FieldType::Ptr
        | FieldType::FnPtr
        | FieldType::ByRef
        | FieldType::TypedByRef => false,
    }
}

/// Whether TypeDef `rid` is an enum (extends `System.Enum` and has an
/// instance field): `None` when that cannot be told from its metadata.
fn enum_of(md: &Metadata, rid: u32) -> Option<bool> {
    let td = md.type_def(rid).ok()?;
    if td.extends.is_null() {
        return None;
    }
    let (ns, name) = match td.extends.table()? {
        TableId::TypeDef => {
            let b = md.type_def(td.extends.rid()).ok()?;
            (b.namespace, b.name)
        }
        TableId::TypeRef => {
            let b = md.type_ref(td.extends.rid()).ok()?;
            (b.namespace, b.name)
        }
        _ => return None,
    };
    if (ns, name) != ("System", "Enum") {
        return Some(false);
    }
    let has_instance_field = md
        .type_fields(rid)
        .any(|f| md.field(f).is_ok_and(|f| !f.is_static()));
    has_instance_field.then_some(true)
}

/// The Field rows of `md` carrying `[System.ThreadStatic]`.
fn thread_static_fields(md: &Metadata) -> HashSet<u32> {
    let mut out = HashSet::new();
    let mut ctor_is_thread_static: HashMap<u32, bool> = HashMap::new();
    for row in 1..=md.row_count(TableId::CustomAttribute) {
        let Some(parent) = md.cell(TableId::CustomAttribute, row, 0) else {
            break;
        };
        let Some((TableId::Field, field)) = CodedIndex::HasCustomAttribute.decode(parent) else {
            continue;
        };
        let Some(ctor) = md.cell(TableId::CustomAttribute, row, 1) else {
            continue;
        };
        let is = *ctor_is_thread_static.entry(ctor).or_insert_with(|| {
            attribute_type(md, ctor).as_deref() == Some("System.ThreadStaticAttribute")
        });
        if is {
            out.insert(field);
        }
    }
    out
}

/// The full name of the type of a custom attribute's constructor (a
/// `CustomAttributeType` coded index).
fn attribute_type(md: &Metadata, ctor: u32) -> Option<String> {
    match CodedIndex::CustomAttributeType.decode(ctor)? {
        (TableId::MemberRef, rid) => {
            let class = md.cell(TableId::MemberRef, rid, 0)?;
            match CodedIndex::MemberRefParent.decode(class)? {
                (TableId::TypeRef, r) => md.type_ref_full_name(r).ok(),
                (TableId::TypeDef, r) => md.full_type_name(r).ok(),
                _ => None,
            }
        }
        (TableId::MethodDef, rid) => {
            // The TypeDef whose method list holds it.
            let owner = (1..=md.type_def_count()).find(|&t| md.methods(t).contains(&rid))?;
            md.full_type_name(owner).ok()
        }
        _ => None,
    }
}

/// How the runtime places a static whose type is the type handle `th`
/// (a type argument): by its MethodTable's category.
fn place_of_handle(mem: &dyn AddressSpace, th: u64) -> Place {
    if th & 2 != 0 {
        // A TypeDesc: pointers and function pointers are not GC; arrays
        // (.NET Core 3.1) are references.
        return match mem.read_u32(th & !3).map(|k| (k & 0xFF) as u8) {
            Ok(0x0F | 0x1B) => Place::NotGc,
            Ok(0x14 | 0x1D) => Place::Ref,
            _ => Place::Unknown,
        };
    }
    let Some(mt) = MethodTable::read(mem, th) else {
        return Place::Unknown;
    };
    if mt.flags & HAS_COMPONENT_SIZE != 0 || mt.is_array() {
        return Place::Ref;
    }
    match mt.flags & CATEGORY_MASK {
        // ValueType, Nullable.
        0x4_0000 | 0x5_0000 => Place::Boxed,
        // Enums and primitives.
        0x6_0000 | 0x7_0000 => Place::NotGc,
        _ => Place::Ref,
    }
}

/// Tells value types from enums across modules.
#[derive(Default)]
struct Resolver {
    /// Whether each full name is an enum: `None` when unknown or when the
    /// modules disagree.
    by_name: HashMap<String, Option<bool>>,
}

impl Resolver {
    /// How the runtime places a static field of type `ty` declared in
    /// `md`; `args`, the type arguments of a generic instantiation.
    fn place(
        &mut self,
        mem: &dyn AddressSpace,
        modules: &Modules<'_>,
        md: &Metadata,
        ty: &FieldType,
        args: Option<&[u64]>,
    ) -> Place {
        match ty {
            FieldType::String
            | FieldType::Object
            | FieldType::Class(_)
            | FieldType::SzArray
            | FieldType::Array => Place::Ref,
            FieldType::GenericInst { value_type, .. } => {
                if *value_type {
                    Place::Boxed
                } else {
                    Place::Ref
                }
            }
            FieldType::Var(i) => match args.and_then(|a| a.get(*i as usize)) {
                Some(&th) => place_of_handle(mem, th),
                None => Place::Unknown,
            },
            FieldType::MVar(_) => Place::Unknown,
            FieldType::Primitive(_)
            | FieldType::Ptr
            | FieldType::FnPtr
            | FieldType::ByRef
            | FieldType::TypedByRef => Place::NotGc,
            FieldType::ValueType(t) => match self.is_enum(modules, md, *t) {
                Some(true) => Place::NotGc,
                Some(false) => Place::Boxed,
                None => Place::Unknown,
            },
        }
    }

    fn is_enum(&mut self, modules: &Modules<'_>, md: &Metadata, t: Token) -> Option<bool> {
        match t.table()? {
            TableId::TypeDef => enum_of(md, t.rid()),
            TableId::TypeRef => {
                let name = md.type_ref_full_name(t.rid()).ok()?;
                if let Some(&v) = self.by_name.get(&name) {
                    return v;
                }
                let mut verdict: Option<Option<bool>> = None;
                for other in modules.all_metadata() {
                    if let Some(rid) = other.find_type_def(&name) {
                        let v = enum_of(other, rid);
                        verdict = match verdict {
                            None => Some(v),
                            Some(prev) if prev == v => Some(prev),
                            Some(_) => Some(None),
                        };
                    }
                }
                let v = verdict.flatten();
                self.by_name.insert(name, v);
                v
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_memory::{MappedRange, MemoryMap, Region};

    /// Memory of `words` at `start`, and nothing else.
    fn memory(start: u64, words: &[u64]) -> MemoryMap<Vec<u8>> {
        let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
        let size = bytes.len() as u64;
        MemoryMap::new(
            bytes,
            8,
            &[MappedRange {
                region: Region {
                    start,
                    size,
                    data_size: size,
                    protection: None,
                },
                file_offset: 0,
            }],
        )
        .unwrap()
    }

    #[test]
    fn lookup_maps_follow_their_nodes() {
        // Node 1 at 0x1000 covers RIDs 0..2 (table at 0x1100), node 2 at
        // 0x1040 the next 3 (table at 0x1140); flag bit 1 set on entries.
        let mut w = vec![0u64; 0x200 / 8];
        let at = |a: u64| ((a - 0x1000) / 8) as usize;
        w[at(0x1000)] = 0x1040;
        w[at(0x1008)] = 0x1100;
        w[at(0x1010)] = 2;
        w[at(0x1018)] = 1;
        w[at(0x1048)] = 0x1140;
        w[at(0x1050)] = 3;
        w[at(0x1058)] = 1;
        w[at(0x1108)] = 0x7000 | 1;
        w[at(0x1150)] = 0x9000 | 1;
        let mem = memory(0x1000, &w);
        assert_eq!(map_lookup(&mem, 0x1000, 1, MAX_MAP_NODES), Some(0x7000));
        // RID 4 is the third of the second node.
        assert_eq!(map_lookup(&mem, 0x1000, 4, MAX_MAP_NODES), Some(0x9000));
        // Not loaded, past the map, or past the nodes followed.
        assert_eq!(map_lookup(&mem, 0x1000, 0, MAX_MAP_NODES), None);
        assert_eq!(map_lookup(&mem, 0x1000, 5, MAX_MAP_NODES), None);
        assert_eq!(map_lookup(&mem, 0x1000, 4, 1), None);
        // Garbage: no map there.
        assert_eq!(map_lookup(&mem, u64::MAX - 8, 3, MAX_MAP_NODES), None);
    }

    #[test]
    fn a_lookup_map_that_loops_ends() {
        // A node whose next pointer leads back to itself via another.
        let mem = memory(0x1000, &[0x1020, 0, 0, 0, 0x1000, 0, 0, 0]);
        assert_eq!(map_lookup(&mem, 0x1000, 7, MAX_MAP_NODES), None);
    }

    #[test]
    fn words_past_the_dump_read_as_zero() {
        let mem = memory(0x1000, &[1, 2]);
        assert_eq!(read_words(&mem, 0x1000, 32), vec![1, 2, 0, 0]);
        assert_eq!(read_words(&mem, u64::MAX - 7, 16), vec![0, 0]);
        assert_eq!(read_words(&mem, 0, 8), vec![0]);
    }

    #[test]
    fn a_tie_is_no_answer() {
        let votes: HashMap<u64, usize> = [(8, 3), (16, 3), (24, 1)].into_iter().collect();
        assert_eq!(winner(votes), None);
        let votes: HashMap<u64, usize> = [(8, 3), (16, 4)].into_iter().collect();
        assert_eq!(winner(votes), Some((16, 4)));
        assert_eq!(winner(HashMap::<u64, usize>::new()), None);
    }

    #[test]
    fn type_arguments_place_by_category() {
        // MethodTables: flags, base size 0x18, parent 0 (no pointers).
        let mt = |flags: u64| {
            let mut v = vec![0u64; 8];
            v[0] = flags | (0x18 << 32);
            v
        };
        let mut w = Vec::new();
        for flags in [0x0u64, 0x4_0000, 0x6_0000, 0x7_0000, 0x8_0000 | 0x8000_0008] {
            w.extend(mt(flags));
        }
        // A pointer TypeDesc (ELEMENT_TYPE_PTR).
        w.extend([0x0F, 0]);
        let mem = memory(0x1000, &w);
        assert_eq!(place_of_handle(&mem, 0x1000), Place::Ref);
        assert_eq!(place_of_handle(&mem, 0x1040), Place::Boxed);
        assert_eq!(place_of_handle(&mem, 0x1080), Place::NotGc);
        assert_eq!(place_of_handle(&mem, 0x10C0), Place::NotGc);
        assert_eq!(place_of_handle(&mem, 0x1100), Place::Ref);
        assert_eq!(place_of_handle(&mem, 0x1140 | 2), Place::NotGc);
        // Not in the dump.
        assert_eq!(place_of_handle(&mem, 0x9000), Place::Unknown);
        assert_eq!(place_of_handle(&mem, 0x9000 | 2), Place::Unknown);
    }

    #[test]
    fn the_note_says_what_was_not_named_and_why() {
        assert_eq!(StaticsReport::default().note(), None);
        let r = StaticsReport {
            named: 10,
            named_generic: 2,
            instantiations: 3,
            thread_static: 4,
            in_skipped: 5,
            skipped: vec![(
                "Lib".into(),
                SkipReason::NotInStaticsArray { at: 0x10, slots: 5 },
            )],
            ..StaticsReport::default()
        };
        let note = r.note().unwrap();
        assert!(note.contains("10 named"), "{note}");
        assert!(note.contains("4 thread-static"), "{note}");
        assert!(
            note.contains("Lib: its statics at 0x10 are not 5 slots"),
            "{note}"
        );
        let lacking = StaticsReport {
            modules_without_metadata: 2,
            ..StaticsReport::default()
        };
        assert!(lacking
            .note()
            .unwrap()
            .contains("lacks the modules' metadata"));
    }
}
