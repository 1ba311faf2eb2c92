//! Type names from the ECMA-335 metadata of the loaded images.
//!
//! A MethodTable names its type through its module and TypeDef RID: the
//! module's metadata gives `Namespace.Name` (nested types `Outer+Inner`),
//! the instantiation dictionary gives the generic arguments, an array's
//! element type handle gives the element. Names follow the runtime's
//! TypeString format as its own heap walk reports it: generic arguments in
//! `[a,b]` with their full names, arrays `[]`, `[,]` (`[*]` for a rank-1
//! multi-dimensional array), and a nested type at the top level by its own
//! name only (`Entry[System.Char,System.String][]`).
//!
//! Nothing here depends on a table of build numbers; every layout choice is
//! calibrated on the dump:
//!
//! * how the module pointer at `MT+0x18` (`+0x14` in a 32-bit process) is
//!   stored (absolute, or relative to its own address as in .NET Core
//!   3.1): the reading under which the MethodTables share few distinct
//!   modules;
//! * where a `Module` keeps its simple name: the offset at which most
//!   modules point at a NUL-terminated assembly name; the metadata is the
//!   `BSJB` root whose `#Strings` heap holds that name, so it is found the
//!   same way in flat, mapped, single-file and Windows images;
//! * where the TypeDef RID is (`u16` at `+0xA` up to .NET 8, the upper 24
//!   bits of the `u32` at `+0x8` from .NET 9): the reading under which a
//!   type's metadata base type matches its parent MethodTable, or, without
//!   metadata, the one the token fields allow (the `u16` is never 0 up to
//!   .NET 8, and 0 for each module's first 255 types from .NET 9). Never
//!   the runtime's version number.
//!
//! Types whose metadata is not in the dump get `module!0x02xxxxxx` (the
//! module's name and the TypeDef token) and the report says why.

use crate::methodtable::{
    MethodTable, ARRAY, ARRAY_MASK, HAS_COMPONENT_SIZE, IF_ARRAY_THEN_SZARRAY,
};
use crate::runtime::RuntimeModule;
use crate::target::Target;
use crate::walk::MethodTables;
use crate::width::PointerSize;
use heaplens_graph::{TypeHierarchy, TypeHierarchyBuilder};
use heaplens_memory::AddressSpace;
use heaplens_metadata::{Metadata, TableId};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

/// The name of one MethodTable's type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeName {
    /// The name in the runtime's TypeString format, or, when metadata is
    /// not available, `module!0x02xxxxxx` (or `MethodTable 0x…` when even
    /// the module is unknown).
    pub name: String,
    /// The module (assembly simple name) defining the type, when known.
    pub module: Option<String>,
}

/// A managed module supplied from outside the dump: the application's or
/// the runtime's DLL, for dumps that do not hold its image (Linux
/// `--withheap` cores of .NET Core 3.1, Windows heap-only minidumps).
#[derive(Debug, Clone)]
pub struct SuppliedModule {
    /// Where it came from (a path), for messages.
    pub origin: String,
    /// Its metadata.
    pub metadata: Metadata,
    /// Its COFF `TimeDateStamp`, checked against the dumped header when
    /// the dump holds it.
    pub time_date_stamp: u32,
    /// Its `SizeOfImage`, checked the same way.
    pub size_of_image: u32,
}

/// Where supplied modules are looked up.
pub trait ModuleFiles {
    /// The module whose assembly simple name is `name` (e.g.
    /// `System.Private.CoreLib`), if one was supplied.
    fn find(&self, name: &str) -> Option<SuppliedModule>;
}

/// How naming went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NamingReport {
    /// Types named from metadata.
    pub named: usize,
    /// Types without a name from metadata.
    pub unnamed: usize,
    /// Modules whose metadata was found, by simple name.
    pub modules_with_metadata: Vec<String>,
    /// Modules whose metadata is not in the dump, by simple name (or
    /// `Module 0x…` when even the name is not), and none was supplied.
    pub modules_without_metadata: Vec<String>,
    /// Modules named from supplied files: simple name and the file.
    pub modules_from_files: Vec<(String, String)>,
    /// What the user should know: why some types have no name, supplied
    /// files not used or not checked.
    pub notes: Vec<String>,
    /// What was calibrated on the dump (for diagnostics).
    pub calibration: Vec<String>,
}

/// Deepest nesting of generic arguments and array elements followed.
const MAX_DEPTH: u32 = 16;
/// Most bytes searched back from a module's name for its metadata root.
const MAX_METADATA_SEARCH: u64 = 64 << 20;
/// Largest metadata accepted.
const MAX_METADATA: u64 = 64 << 20;
/// `m_dwFlags` low word (no component size): generic instantiation kinds.
const GENERICS_MASK: u32 = 0x30;
/// `m_dwFlags` low word: open generic type (never on the heap).
const GENERICS_TYPICAL: u32 = 0x30;
/// `m_wFlags2` (≤ .NET 8): the defining module is in a multipurpose slot.
const HAS_MODULE_OVERRIDE: u16 = 0x10;

/// The header fields naming needs (the first 0x38 bytes of a MethodTable
/// in a 64-bit process, 0x24 in a 32-bit one: four 32-bit words, then the
/// parent, the module, the writeable or auxiliary data, the EEClass or
/// canonical MethodTable and the per-instance information, a pointer each).
#[derive(Debug, Clone, Copy)]
struct Header {
    flags: u32,
    base_size: u32,
    flags2: u16,
    token16: u16,
    flags2_32: u32,
    num_virtuals: u16,
    module_raw: u64,
    canon_raw: u64,
    per_inst: u64,
}

/// Offsets of a MethodTable's pointer fields, in a process of pointer size
/// `ptr`: the parent (0x10), the module, the EEClass or canonical
/// MethodTable, the per-instance information or element type, the
/// interface map, then the vtable chunk pointers.
fn mt_parent() -> u64 {
    0x10
}
fn mt_module(ptr: PointerSize) -> u64 {
    0x10 + ptr.bytes()
}
fn mt_canon(ptr: PointerSize) -> u64 {
    0x10 + 3 * ptr.bytes()
}
fn mt_per_inst(ptr: PointerSize) -> u64 {
    0x10 + 4 * ptr.bytes()
}
fn mt_interface_map(ptr: PointerSize) -> u64 {
    0x10 + 5 * ptr.bytes()
}
fn mt_vtable(ptr: PointerSize) -> u64 {
    0x10 + 6 * ptr.bytes()
}

impl Header {
    fn read(mem: &dyn AddressSpace, mt: u64) -> Option<Header> {
        let ptr = PointerSize::of(mem);
        let mut buf = [0u8; 0x38];
        let b = &mut buf[..mt_interface_map(ptr) as usize];
        mem.read_virtual(mt, b).ok()?;
        let u16_at = |o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
        let u32_at = |o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap());
        let ptr_at = |o: u64| ptr.read(b, o as usize);
        Some(Header {
            flags: u32_at(0),
            base_size: u32_at(4),
            flags2: u16_at(8),
            token16: u16_at(0xA),
            flags2_32: u32_at(8),
            num_virtuals: u16_at(0xC),
            module_raw: ptr_at(mt_module(ptr)),
            canon_raw: ptr_at(mt_canon(ptr)),
            per_inst: ptr_at(mt_per_inst(ptr)),
        })
    }

    fn is_array(&self) -> bool {
        self.flags & ARRAY_MASK == ARRAY
    }

    fn is_generic_instance(&self) -> bool {
        self.flags & HAS_COMPONENT_SIZE == 0
            && matches!(self.flags & GENERICS_MASK, g if g != 0 && g != GENERICS_TYPICAL)
    }
}

/// The layout choices calibrated on the dump.
#[derive(Debug, Clone, Copy)]
struct Layout {
    /// The process's pointer size.
    ptr: PointerSize,
    /// `MT+0x18` (and the module-override slot) hold an offset relative to
    /// their own address.
    module_relative: bool,
    /// The TypeDef RID is `u32@+0x8 >> 8` (.NET 9+) rather than
    /// `u16@+0xA`; the module at `+0x18` is then the defining module.
    token_in_flags2: bool,
}

impl Layout {
    fn decode(&self, slot: u64, raw: u64) -> u64 {
        if self.module_relative {
            relative(self.ptr, slot, raw)
        } else {
            raw
        }
    }

    fn rid(&self, h: &Header) -> u32 {
        if self.token_in_flags2 {
            h.flags2_32 >> 8
        } else {
            u32::from(h.token16)
        }
    }
}

/// The target of a relative pointer: `raw` (a signed offset of the
/// process's pointer size, read widened without sign) added to `slot`, in
/// the process's address space (wrapping at 4 GB in a 32-bit process, so
/// that a negative offset points below the slot).
fn relative(ptr: PointerSize, slot: u64, raw: u64) -> u64 {
    let v = slot.wrapping_add(raw);
    match ptr {
        PointerSize::Four => v & 0xFFFF_FFFF,
        PointerSize::Eight => v,
    }
}

/// A module and its metadata.
struct ModuleInfo {
    name: Option<String>,
    metadata: Option<usize>,
    /// The file the metadata came from, when supplied.
    supplied: Option<String>,
}

/// One module met while naming.
#[derive(Debug, Clone)]
pub(crate) struct KnownModule {
    /// The `Module*`.
    pub(crate) address: u64,
    /// Its simple name, when known.
    pub(crate) name: Option<String>,
    /// Its metadata (an index for [`Modules::metadata`]), when found.
    pub(crate) metadata: Option<usize>,
}

/// A generic instantiation's type: where it is defined and its type
/// arguments.
#[derive(Debug, Clone)]
pub(crate) struct Instance {
    /// The defining module.
    pub(crate) module: u64,
    /// Its TypeDef RID there.
    pub(crate) rid: u32,
    /// The type arguments (type handles: a MethodTable, or a TypeDesc with
    /// bit 1 set).
    pub(crate) args: Vec<u64>,
    /// Its name as a generic argument would have it
    /// (`Ns.Outer+Inner[args]`).
    pub(crate) name: String,
}

/// The modules met while naming, with their metadata and the layout
/// choices calibrated on the dump, for readers that need more of the
/// metadata than type names ([`crate::statics`]); more modules can be
/// added.
pub(crate) struct Modules<'a> {
    namer: Namer<'a>,
}

impl Modules<'_> {
    /// Every module met, by address.
    pub(crate) fn list(&self) -> Vec<KnownModule> {
        let mut v: Vec<KnownModule> = self
            .namer
            .modules
            .iter()
            .map(|(&address, info)| KnownModule {
                address,
                name: info.name.clone(),
                metadata: info.metadata,
            })
            .collect();
        v.sort_by_key(|m| m.address);
        v
    }

    /// The metadata of [`KnownModule::metadata`] `i`.
    pub(crate) fn metadata(&self, i: usize) -> Option<&Metadata> {
        self.namer.metadata.get(i).map(|m| &**m)
    }

    /// All the metadata found.
    pub(crate) fn all_metadata(&self) -> &[Arc<Metadata>] {
        &self.namer.metadata
    }

    /// What object contents need of the modules once the dump is read:
    /// the layout calibrated, the modules met and their metadata.
    pub(crate) fn into_index(self) -> ModuleIndex {
        let n = self.namer;
        ModuleIndex {
            name_offset: n.name_offset,
            layout: n.layout,
            modules: n
                .modules
                .into_iter()
                .map(|(m, i)| (m, (i.name, i.metadata)))
                .collect(),
            metadata: n.metadata,
            corelib: n.corelib,
        }
    }

    /// Adds the module at `m` (if new: its name and metadata are looked
    /// up as for the modules met while naming).
    pub(crate) fn add(&mut self, m: u64) -> KnownModule {
        self.namer.ensure_module(m);
        let info = &self.namer.modules[&m];
        KnownModule {
            address: m,
            name: info.name.clone(),
            metadata: info.metadata,
        }
    }

    /// The module at `MT+0x18` and the TypeDef RID of the non-generic,
    /// non-array MethodTable `mt` (`None` for others and unreadable ones).
    pub(crate) fn module_and_rid(&self, mt: u64) -> Option<(u64, u32)> {
        let h = Header::read(self.namer.mem, mt)?;
        if h.is_array() || h.flags & HAS_COMPONENT_SIZE != 0 || h.flags & GENERICS_MASK != 0 {
            return None;
        }
        Some((self.namer.module_field(mt, &h), self.namer.layout.rid(&h)))
    }

    /// The generic instantiation `mt` (`None` for other MethodTables and
    /// when its definition or arguments cannot be read).
    pub(crate) fn instance(&mut self, mt: u64) -> Option<Instance> {
        let h = Header::read(self.namer.mem, mt)?;
        if !h.is_generic_instance() {
            return None;
        }
        let mut module = self.namer.defining_module(mt, &h);
        let rid = self.namer.layout.rid(&h);
        self.namer.ensure_module(module);
        let args = self.namer.type_arguments(&h)?;
        // As naming does: a generic instantiation loaded by another module
        // is CoreLib's when its own module's arity does not match.
        let arity_ok = |md: &Metadata| {
            md.type_def(rid).is_ok() && md.generic_param_count(rid) as usize == args.len()
        };
        if !self.namer.metadata_of(module).is_some_and(arity_ok) {
            module = self
                .namer
                .corelib
                .filter(|&c| self.namer.metadata_of(c).is_some_and(arity_ok))?;
        }
        let d = self.namer.describe(mt, 0);
        d.named.then_some(Instance {
            module,
            rid,
            args,
            name: d.full,
        })
    }

    /// The metadata index of module `m`, when it is known and has
    /// metadata.
    pub(crate) fn metadata_index(&self, m: u64) -> Option<usize> {
        self.namer.modules.get(&m).and_then(|i| i.metadata)
    }

    /// True when `mt` is a generic instantiation's MethodTable whose
    /// module at `MT+0x18` (the loader module up to .NET 8) is `m`.
    pub(crate) fn is_generic_of(&self, mt: u64, m: u64) -> bool {
        // The cheap checks first: most candidates fail them.
        mt != 0
            && self.namer.layout.ptr.aligned(mt)
            && Header::read(self.namer.mem, mt)
                .is_some_and(|h| h.is_generic_instance() && self.namer.module_field(mt, &h) == m)
            && MethodTable::read(self.namer.mem, mt).is_some()
    }

    /// The namespaces, base types and interfaces of the MethodTables
    /// `mts` (by index, as the graph's types), from their modules'
    /// metadata: the base types are the parent MethodTables' (the
    /// runtime's own chain: `System.Array` for an array), each named by its
    /// definition (``System.Collections.Generic.List`1``); the interfaces
    /// are those the type and its bases declare (`InterfaceImpl`; a
    /// generic interface by its definition's name), and for a
    /// single-dimensional array the generic ones the runtime gives it
    /// (``IList`1``, ``ICollection`1``, ``IEnumerable`1``,
    /// ``IReadOnlyList`1``, ``IReadOnlyCollection`1``). A type is left
    /// unknown when the metadata of a module on its chain is missing.
    /// Returns the hierarchy and how many types it knows.
    pub(crate) fn hierarchy(&mut self, mts: &MethodTables) -> (TypeHierarchy, usize) {
        let mut b = TypeHierarchyBuilder::new();
        let mut memo = RelationsMemo::new();
        let mut known = 0;
        for (i, &mt) in mts.addresses.iter().enumerate() {
            if mts.tables[i].is_free {
                continue;
            }
            if let Some(r) = self.namer.relations(mt, &mut memo) {
                b.set(i as u32, r.namespace.as_deref(), &r.bases, &r.interfaces);
                known += 1;
            }
        }
        (b.finish(), known)
    }

    /// True when the dump has the .NET 9+ MethodTable layout (TypeDef RID
    /// in `m_dwFlags2`, the defining module at `MT+0x18`).
    pub(crate) fn net9_layout(&self) -> bool {
        self.namer.layout.token_in_flags2
    }
}

/// The modules a read met, their metadata and the layout calibrated on the
/// dump: what names types and reads their metadata after the read, without
/// the dump's module list ([`Namer::from_index`]).
#[derive(Debug, Clone)]
pub(crate) struct ModuleIndex {
    name_offset: Option<u64>,
    layout: Layout,
    /// Name and metadata index of each `Module*` met.
    modules: HashMap<u64, (Option<String>, Option<usize>)>,
    metadata: Vec<Arc<Metadata>>,
    corelib: Option<u64>,
}

impl ModuleIndex {
    /// Bytes of metadata it keeps.
    pub(crate) fn metadata_bytes(&self) -> usize {
        self.metadata.iter().map(|m| m.bytes().len()).sum()
    }
}

/// Names every MethodTable, and gives the modules met on the way.
pub(crate) fn name_types_and_modules<'a>(
    target: &'a Target<'a>,
    runtime: &RuntimeModule,
    mts: &MethodTables,
) -> (Vec<TypeName>, NamingReport, Modules<'a>) {
    let mem = target.memory;
    let ptr = PointerSize::of(mem);
    let mut report = NamingReport::default();
    let plain: Vec<(u64, Header)> = mts
        .addresses
        .iter()
        .zip(&mts.tables)
        .filter(|(_, t)| !t.is_free)
        .filter_map(|(&mt, _)| {
            Header::read(mem, mt)
                .filter(|h| !h.is_array())
                .map(|h| (mt, h))
        })
        .collect();

    // How the module pointer is stored: the reading with fewer distinct
    // modules (a process has tens of modules and thousands of types).
    let distinct = |relative: bool| {
        let mut v: Vec<u64> = plain
            .iter()
            .map(|(mt, h)| {
                if relative {
                    self::relative(ptr, mt + mt_module(ptr), h.module_raw)
                } else {
                    h.module_raw
                }
            })
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (abs, rel) = (distinct(false), distinct(true));
    let module_relative = rel.len() < abs.len();
    let module_ptrs = if module_relative { rel } else { abs };

    // Where a Module keeps its simple name.
    let name_offset = calibrate_name_offset(mem, &module_ptrs, target, runtime);
    match name_offset {
        Some(k) => report
            .calibration
            .push(format!("Module simple name at +{k:#x}")),
        None => report
            .notes
            .push("no module names found: the dump lacks the runtime's Module records".into()),
    }
    let mut namer = Namer {
        mem,
        target: Some(target),
        name_offset,
        layout: Layout {
            ptr,
            module_relative,
            token_in_flags2: false,
        },
        modules: HashMap::new(),
        metadata: Vec::new(),
        roots: HashMap::new(),
        notes: Vec::new(),
        memo: HashMap::new(),
        corelib: None,
    };
    for &m in &module_ptrs {
        namer.ensure_module(m);
    }
    namer.corelib = namer
        .modules
        .iter()
        .find(|(_, i)| {
            matches!(
                i.name.as_deref(),
                Some("System.Private.CoreLib") | Some("mscorlib")
            )
        })
        .map(|(&m, _)| m);
    let (token_in_flags2, decided_by) = namer.calibrate_token(&plain);
    namer.layout.token_in_flags2 = token_in_flags2;
    report.calibration.push(format!(
        "module pointers {}, TypeDef RID in {} (decided by {decided_by})",
        if module_relative {
            "relative"
        } else {
            "absolute"
        },
        if namer.layout.token_in_flags2 {
            "m_dwFlags2 >> 8 (.NET 9+ layout)"
        } else {
            "m_wToken (≤ .NET 8 layout)"
        }
    ));

    let mut names = Vec::with_capacity(mts.addresses.len());
    for (i, &mt) in mts.addresses.iter().enumerate() {
        if mts.tables[i].is_free {
            names.push(TypeName {
                name: "Free".to_owned(),
                module: None,
            });
            continue;
        }
        let d = namer.describe(mt, 0);
        if d.named {
            report.named += 1;
        } else {
            report.unnamed += 1;
        }
        names.push(TypeName {
            name: d.top,
            module: d.module,
        });
    }
    report.notes.append(&mut namer.notes);
    for (&m, info) in &namer.modules {
        let label = info
            .name
            .clone()
            .unwrap_or_else(|| format!("Module {m:#x}"));
        if let Some(origin) = &info.supplied {
            report.modules_from_files.push((label, origin.clone()));
        } else if info.metadata.is_some() {
            report.modules_with_metadata.push(label);
        } else {
            report.modules_without_metadata.push(label);
        }
    }
    report.modules_with_metadata.sort();
    report.modules_with_metadata.dedup();
    report.modules_without_metadata.sort();
    report.modules_without_metadata.dedup();
    report.modules_from_files.sort();
    report.modules_from_files.dedup();
    if !report.modules_without_metadata.is_empty() {
        report.notes.push(format!(
            "the dump does not hold the metadata of {} (this kind of dump leaves the \
             assemblies' images out); their types are shown as module!token. Supply the \
             module files (the application's DLLs and the runtime's shared framework \
             directory) to name them",
            report.modules_without_metadata.join(", ")
        ));
    }
    (names, report, Modules { namer })
}

/// The offset in `Module` of the pointer to its simple name: the one at
/// which most modules point at a plausible assembly name, or, where the
/// name's page is not in the dump, into a managed image's file mapping.
fn calibrate_name_offset(
    mem: &dyn AddressSpace,
    modules: &[u64],
    target: &Target<'_>,
    runtime: &RuntimeModule,
) -> Option<u64> {
    let sample: Vec<u64> = modules.iter().copied().take(64).collect();
    let in_image = |p: u64| {
        target.modules.iter().any(|t| {
            t.contains(p) && {
                // The runtime's own module holds Module's vtable, not a
                // name (except a single-file host, which holds both).
                let f = t.file_name().to_ascii_lowercase();
                if t.path == runtime.module.path {
                    runtime.single_file
                } else {
                    f.ends_with(".dll") || f.ends_with(".exe")
                }
            }
        })
    };
    // Each module has its own name: several modules whose field there
    // reads as one name (a small number whose bytes look like "P9", in a
    // structure each module points at) count once — else they outvote the
    // true offset, where the names lie in image pages the dump left out (a
    // `--withheap` core) and only the images' mappings vouch for them.
    let mut best: Option<(usize, usize, u64)> = None;
    for k in (0..0x200u64).step_by(mem.pointer_size().max(4)) {
        let mut targets = std::collections::HashSet::new();
        let mut names = std::collections::HashMap::new();
        for &m in &sample {
            let Ok(p) = mem.read_pointer(m.wrapping_add(k)) else {
                continue;
            };
            if let Some(name) = read_name(mem, p) {
                if let std::collections::hash_map::Entry::Vacant(e) = names.entry(name) {
                    e.insert(p);
                    targets.insert(p);
                }
            } else if p != 0 && in_image(p) {
                targets.insert(p);
            }
        }
        let (hits, names) = (targets.len(), names.len());
        if hits > 0 && best.is_none_or(|(h, n, _)| (hits, names) > (h, n)) {
            best = Some((hits, names, k));
        }
    }
    // At least half the modules must agree.
    best.filter(|&(h, _, _)| h * 2 >= sample.len())
        .map(|(_, _, k)| k)
}

/// A NUL-terminated assembly name at `p`: letters, digits, `.`, `_`, `-`.
fn read_name(mem: &dyn AddressSpace, p: u64) -> Option<String> {
    if p == 0 || p & 0xFFFF_0000_0000_0000 != 0 {
        return None;
    }
    let s = heaplens_memory::read_c_string(mem, p, 256).ok()??;
    let ok = !s.is_empty()
        && s.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-'))
        && s.iter().any(|c| c.is_ascii_alphabetic());
    ok.then(|| String::from_utf8_lossy(&s).into_owned())
}

/// The name and metadata of the module at `m`.
fn module_info(
    mem: &dyn AddressSpace,
    m: u64,
    name_offset: Option<u64>,
    metadata: &mut Vec<Arc<Metadata>>,
    roots: &mut HashMap<u64, usize>,
    target: Option<&Target<'_>>,
    notes: &mut Vec<String>,
) -> ModuleInfo {
    let (Some(k), Some(target)) = (name_offset, target) else {
        return ModuleInfo {
            name: None,
            metadata: None,
            supplied: None,
        };
    };
    let Ok(p) = mem.read_pointer(m.wrapping_add(k)) else {
        return ModuleInfo {
            name: None,
            metadata: None,
            supplied: None,
        };
    };
    let name = read_name(mem, p).or_else(|| {
        // The name's page is not in the dump: name the module by the image
        // mapped there — the file mapped at `p`, or, where the loader copied
        // the image's sections into anonymous memory (a `/dev/zero`
        // mapping: .NET Core 3.1 on Linux does so for images whose sections
        // are not page-aligned), the image whose dumped headers span `p`.
        target
            .modules
            .iter()
            .find(|t| t.contains(p) && is_image_file(t.file_name()))
            .or_else(|| {
                target
                    .modules
                    .iter()
                    .filter(|t| is_image_file(t.file_name()))
                    .find(|t| {
                        t.header_addresses.iter().any(|&h| {
                            h <= p
                                && heaplens_pe::PeImage::at(mem, h, heaplens_pe::Layout::Flat)
                                    .is_ok_and(|img| p - h < u64::from(img.headers().size_of_image))
                        })
                    })
            })
            .map(|t| {
                let f = t.file_name();
                f.strip_suffix(".dll")
                    .or_else(|| f.strip_suffix(".exe"))
                    .unwrap_or(f)
                    .to_owned()
            })
    });
    // The metadata around the name; or, when the name's page is not in
    // the dump, that of another mapping of the same file (a loaded copy of
    // an image whose flat mapping was left out).
    let found = metadata_around(mem, p)
        .filter(|(_, md)| name.is_none() || assembly_name(md) == name)
        .or_else(|| {
            let file = target.modules.iter().find(|t| t.contains(p))?;
            file.header_addresses.iter().find_map(|&h| {
                let img = heaplens_pe::PeImage::detect(mem, h).ok()?;
                let (at, _) = img.metadata_location().ok()?;
                let md = Metadata::read_from(&img).ok()?;
                (name.is_none() || assembly_name(&md) == name).then_some((at, md))
            })
        });
    let mut supplied = None;
    let found = found.or_else(|| {
        let name = name.as_deref()?;
        let file = target.module_files?.find(name)?;
        if assembly_name(&file.metadata).as_deref() != Some(name) {
            notes.push(format!("{} is not assembly {name}: not used", file.origin));
            return None;
        }
        // The dumped header, where the dump holds it, must be that file's.
        let dumped = target
            .modules
            .iter()
            .find(|t| t.contains(p))
            .into_iter()
            .flat_map(|t| t.header_addresses.iter())
            .find_map(|&h| heaplens_pe::PeImage::at(mem, h, heaplens_pe::Layout::Flat).ok());
        match dumped {
            Some(img)
                if img.headers().time_date_stamp != file.time_date_stamp
                    || img.headers().size_of_image != file.size_of_image =>
            {
                notes.push(format!(
                    "{} does not match the dumped {name} (timestamp {:#x}, size {:#x}; the \
                     dump has {:#x}, {:#x}): not used",
                    file.origin,
                    file.time_date_stamp,
                    file.size_of_image,
                    img.headers().time_date_stamp,
                    img.headers().size_of_image
                ));
                return None;
            }
            Some(_) => {}
            None => notes.push(format!(
                "{name}: the dump holds no header to check {} against; used as supplied",
                file.origin
            )),
        }
        supplied = Some(file.origin.clone());
        // Supplied metadata is keyed apart from addresses in the dump.
        Some((u64::MAX - metadata.len() as u64, file.metadata))
    });
    let md = found.map(|(root, md)| {
        *roots.entry(root).or_insert_with(|| {
            metadata.push(Arc::new(md));
            metadata.len() - 1
        })
    });
    ModuleInfo {
        name,
        metadata: md,
        supplied,
    }
}

/// True for a file name of a managed image (`.dll`, `.exe`).
fn is_image_file(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n.ends_with(".dll") || n.ends_with(".exe")
}

fn assembly_name(md: &Metadata) -> Option<String> {
    md.assembly_name().ok().flatten().map(str::to_owned)
}

/// The metadata whose `#Strings` heap holds `p`: the nearest `BSJB` root
/// before it whose stream headers say so.
fn metadata_around(mem: &dyn AddressSpace, p: u64) -> Option<(u64, Metadata)> {
    const CHUNK: u64 = 1 << 20;
    let finder = memchr::memmem::FinderRev::new(b"BSJB");
    let mut hi = p.checked_add(4)?;
    let floor = p.saturating_sub(MAX_METADATA_SEARCH);
    let mut buf = Vec::new();
    while hi > floor {
        let lo = hi.saturating_sub(CHUNK).max(floor);
        // Overlap by 3 bytes so a signature straddling chunks is seen.
        let end = (hi + 3).min(p + 4);
        // Metadata is contiguous: only the captured run ending at `end`
        // can hold its root; a hole ends the search.
        let (a, b) = heaplens_memory::data_runs(mem, lo, end)
            .last()
            .filter(|r| r.1 == end)?;
        buf.resize((b - a) as usize, 0);
        mem.read_virtual(a, &mut buf).ok()?;
        for off in finder.rfind_iter(&buf) {
            let at = a + off as u64;
            if at.is_multiple_of(4) {
                if let Some(md) = parse_root(mem, at, p) {
                    return Some((at, md));
                }
            }
        }
        if a > lo {
            return None;
        }
        hi = lo;
    }
    None
}

/// Parses the metadata root at `at` if its `#Strings` heap holds `p`.
fn parse_root(mem: &dyn AddressSpace, at: u64, p: u64) -> Option<Metadata> {
    let mut head = [0u8; 16];
    mem.read_virtual(at, &mut head).ok()?;
    let ver_len = u32::from_le_bytes(head[12..16].try_into().unwrap()) as u64;
    if ver_len > 256 || u16::from_le_bytes([head[4], head[5]]) != 1 {
        return None;
    }
    let mut pos = at.wrapping_add(16 + ((ver_len + 3) & !3));
    let streams = mem.read_u16(pos.wrapping_add(2)).ok()?;
    if streams == 0 || streams > 16 {
        return None;
    }
    pos = pos.wrapping_add(4);
    let (mut total, mut holds) = (0u64, false);
    for _ in 0..streams {
        let off = u64::from(mem.read_u32(pos).ok()?);
        let size = u64::from(mem.read_u32(pos.wrapping_add(4)).ok()?);
        let mut name = [0u8; 32];
        mem.read_virtual(pos.wrapping_add(8), &mut name).ok()?;
        let len = name.iter().position(|&c| c == 0)?;
        let heap = at.wrapping_add(off);
        if &name[..len] == b"#Strings" && (heap..heap.saturating_add(size)).contains(&p) {
            holds = true;
        }
        total = total.max(off + size);
        pos = pos.wrapping_add(8 + ((len as u64 + 4) & !3));
    }
    if !holds || total > MAX_METADATA {
        return None;
    }
    let mut bytes = vec![0u8; total as usize];
    mem.read_virtual(at, &mut bytes).ok()?;
    Metadata::parse(bytes).ok()
}

/// A type's names in both styles.
#[derive(Debug, Clone)]
struct Described {
    /// As a generic argument: `Ns.Outer+Inner[args]`.
    full: String,
    /// At the top level: a nested type by its own name.
    top: String,
    module: Option<String>,
    /// Named from metadata (all parts).
    named: bool,
}

impl Described {
    fn unknown(what: String) -> Described {
        Described {
            full: what.clone(),
            top: what,
            module: None,
            named: false,
        }
    }
}

pub(crate) struct Namer<'a> {
    mem: &'a dyn AddressSpace,
    /// The dump's modules (`None` once the read is over: modules met then
    /// get no name or metadata).
    target: Option<&'a Target<'a>>,
    name_offset: Option<u64>,
    layout: Layout,
    /// Every module met, by `Module*`.
    modules: HashMap<u64, ModuleInfo>,
    /// Metadata found, indexed by `ModuleInfo::metadata`.
    metadata: Vec<Arc<Metadata>>,
    /// Metadata index by root address (two modules never share one).
    roots: HashMap<u64, usize>,
    notes: Vec<String>,
    memo: HashMap<u64, Described>,
    corelib: Option<u64>,
}

impl<'a> Namer<'a> {
    /// A namer over `mem` with the modules of a finished read (modules it
    /// did not meet stay unnamed).
    pub(crate) fn from_index(mem: &'a dyn AddressSpace, index: &ModuleIndex) -> Namer<'a> {
        Namer {
            mem,
            target: None,
            name_offset: index.name_offset,
            layout: index.layout,
            modules: index
                .modules
                .iter()
                .map(|(&m, (name, md))| {
                    (
                        m,
                        ModuleInfo {
                            name: name.clone(),
                            metadata: *md,
                            supplied: None,
                        },
                    )
                })
                .collect(),
            metadata: index.metadata.clone(),
            roots: HashMap::new(),
            notes: Vec::new(),
            memo: HashMap::new(),
            corelib: index.corelib,
        }
    }

    /// The full name (`Ns.Outer+Inner[args]`, arrays `[]`) of type handle
    /// `th` (a MethodTable, or a TypeDesc with bit 1 set).
    pub(crate) fn full_name(&mut self, th: u64) -> String {
        self.describe_handle(th, 0).full
    }

    /// Where the type of MethodTable `mt` is defined: its module, TypeDef
    /// RID and type arguments (empty unless a generic instantiation);
    /// `None` for arrays and unreadable MethodTables.
    pub(crate) fn definition(&mut self, mt: u64) -> Option<(u64, u32, Vec<u64>)> {
        let h = Header::read(self.mem, mt)?;
        if h.is_array() {
            return None;
        }
        let mut module = self.defining_module(mt, &h);
        let rid = self.layout.rid(&h);
        self.ensure_module(module);
        let args = if h.is_generic_instance() {
            self.type_arguments(&h)?
        } else {
            Vec::new()
        };
        let arity_ok = |md: &Metadata| {
            md.type_def(rid).is_ok() && md.generic_param_count(rid) as usize == args.len()
        };
        if !self.metadata_of(module).is_some_and(arity_ok) {
            if let Some(c) = self
                .corelib
                .filter(|&c| self.metadata_of(c).is_some_and(arity_ok))
            {
                module = c;
            }
        }
        Some((module, rid, args))
    }

    /// The metadata of module `m`, when known.
    pub(crate) fn module_metadata(&self, m: u64) -> Option<&Metadata> {
        self.metadata_of(m)
    }

    /// The modules with metadata whose TypeDef is named `name` (full
    /// name), CoreLib first.
    pub(crate) fn find_type(&self, name: &str) -> Option<(u64, u32)> {
        let mut mods: Vec<(u64, usize)> = self
            .modules
            .iter()
            .filter_map(|(&m, i)| Some((m, i.metadata?)))
            .collect();
        mods.sort_by_key(|&(m, _)| (Some(m) != self.corelib, m));
        mods.iter()
            .find_map(|&(m, i)| Some((m, self.metadata[i].find_type_def(name)?)))
    }

    /// Resolves the module at `m` the first time it is met.
    fn ensure_module(&mut self, m: u64) {
        if self.modules.contains_key(&m) {
            return;
        }
        let info = module_info(
            self.mem,
            m,
            self.name_offset,
            &mut self.metadata,
            &mut self.roots,
            self.target,
            &mut self.notes,
        );
        self.modules.insert(m, info);
    }

    /// The loader module (≤ 8) or defining module (9+) at `MT+0x18`
    /// (`+0x14` in a 32-bit process).
    fn module_field(&self, mt: u64, h: &Header) -> u64 {
        self.layout
            .decode(mt + mt_module(self.layout.ptr), h.module_raw)
    }

    /// The module defining the type of `mt` (≤ 8: the canonical
    /// MethodTable's module override or loader module).
    fn defining_module(&mut self, mt: u64, h: &Header) -> u64 {
        if self.layout.token_in_flags2 || !h.is_generic_instance() {
            return self.module_field(mt, h);
        }
        let canon = if h.canon_raw & 3 != 0 {
            h.canon_raw & !3
        } else {
            mt
        };
        let Some(ch) = Header::read(self.mem, canon) else {
            return self.module_field(mt, h);
        };
        if ch.flags2 & HAS_MODULE_OVERRIDE != 0 {
            if let Some(m) = self.module_override(canon, &ch) {
                self.ensure_module(m);
                if self.modules[&m].name.is_some() {
                    return m;
                }
            }
        }
        self.module_field(canon, &ch)
    }

    /// The module-override multipurpose slot (≤ .NET 8): the per-instance
    /// or interface-map slot, or one after the vtable chunk pointers.
    fn module_override(&self, mt: u64, h: &Header) -> Option<u64> {
        let ptr = self.layout.ptr;
        let mask = h.flags2 & 0xF;
        let raw = mask.count_ones() as u64;
        let index = if mask & 3 == 2 && raw == 1 { 0 } else { raw };
        let slot = match index {
            0 => mt + mt_per_inst(ptr),
            1 => mt + mt_interface_map(ptr),
            i => {
                mt + mt_vtable(ptr)
                    + ptr.times(u64::from(h.num_virtuals).div_ceil(8))
                    + ptr.times(i - 2)
            }
        };
        let v = self.mem.read_pointer(slot).ok()?;
        let m = if self.layout.module_relative {
            let t = relative(ptr, slot, v & !1);
            if v & 1 != 0 {
                self.mem.read_pointer(t).ok()?
            } else {
                t
            }
        } else {
            v
        };
        (m != 0 && ptr.aligned(m)).then_some(m)
    }

    fn metadata_of(&self, module: u64) -> Option<&Metadata> {
        self.modules
            .get(&module)
            .and_then(|i| i.metadata)
            .map(|i| &*self.metadata[i])
    }

    /// Chooses where the TypeDef RID is: the reading under which more
    /// types' metadata base type matches their parent MethodTable; with no
    /// metadata to tell (a dump without the assemblies' images), the
    /// MethodTables themselves: up to .NET 8 the `u16` at `+0xA` is the
    /// RID, never 0 (TypeDef RIDs start at 1), while from .NET 9 it is the
    /// RID's upper bits, 0 for every module's first 255 types. Returns the
    /// choice and what decided it.
    fn calibrate_token(&mut self, plain: &[(u64, Header)]) -> (bool, &'static str) {
        let mut score = [0usize; 2];
        for (s, flags2) in [false, true].into_iter().enumerate() {
            self.layout.token_in_flags2 = flags2;
            for (mt, h) in plain.iter().take(2000) {
                if h.is_generic_instance() {
                    continue;
                }
                if self.base_matches_parent(*mt, h) == Some(true) {
                    score[s] += 1;
                }
            }
        }
        if score[0] != score[1] {
            return (score[1] > score[0], "base types in the metadata");
        }
        let zero = plain.iter().filter(|(_, h)| h.token16 == 0).count();
        (
            zero >= 2 && zero * 10 >= plain.len(),
            "the MethodTables' token fields (no metadata to compare)",
        )
    }

    /// Whether the TypeDef of `mt` extends the type of its parent
    /// MethodTable (`None` when either cannot be told).
    fn base_matches_parent(&self, mt: u64, h: &Header) -> Option<bool> {
        let md = self.metadata_of(self.module_field(mt, h))?;
        let td = md.type_def(self.layout.rid(h)).ok()?;
        let parent = self.mem.read_pointer(mt.wrapping_add(mt_parent())).ok()?;
        let base = match td.extends.table() {
            _ if td.extends.is_null() => return Some(parent == 0),
            Some(TableId::TypeDef) => md.full_type_name(td.extends.rid()).ok()?,
            Some(TableId::TypeRef) => md.type_ref_full_name(td.extends.rid()).ok()?,
            _ => return None,
        };
        if parent == 0 {
            return Some(false);
        }
        let ph = Header::read(self.mem, parent)?;
        if ph.is_generic_instance() || ph.is_array() {
            return None;
        }
        let pmd = self.metadata_of(self.module_field(parent, &ph))?;
        Some(pmd.full_type_name(self.layout.rid(&ph)).ok()? == base)
    }

    /// The names of the type handle `th` (a MethodTable, or a TypeDesc
    /// when bit 1 is set).
    fn describe_handle(&mut self, th: u64, depth: u32) -> Described {
        if th & 2 != 0 {
            self.describe_type_desc(th & !3, depth)
        } else {
            self.describe(th, depth)
        }
    }

    /// The names of the MethodTable at `mt`.
    fn describe(&mut self, mt: u64, depth: u32) -> Described {
        if let Some(d) = self.memo.get(&mt) {
            return d.clone();
        }
        let d = self.describe_uncached(mt, depth);
        if depth < MAX_DEPTH {
            self.memo.insert(mt, d.clone());
        }
        d
    }

    fn describe_uncached(&mut self, mt: u64, depth: u32) -> Described {
        let fallback = || Described::unknown(format!("MethodTable {mt:#x}"));
        if depth >= MAX_DEPTH {
            return fallback();
        }
        let Some(h) = Header::read(self.mem, mt) else {
            return fallback();
        };
        if h.is_array() {
            let suffix = if h.flags & IF_ARRAY_THEN_SZARRAY != 0 {
                "[]".to_owned()
            } else {
                // A rank-r array's base size adds r 32-bit lengths and
                // r lower bounds to the array base size.
                let base = self.layout.ptr.array_base_size() as u32;
                match h.base_size.saturating_sub(base) / 8 {
                    0 | 1 => "[*]".to_owned(),
                    r => format!("[{}]", ",".repeat(r as usize - 1)),
                }
            };
            let e = self.describe_handle(h.per_inst, depth + 1);
            return Described {
                full: e.full + &suffix,
                top: e.top + &suffix,
                module: e.module,
                named: e.named,
            };
        }
        let mut module = self.defining_module(mt, &h);
        let rid = self.layout.rid(&h);
        self.ensure_module(module);
        // Generic arguments from the instantiation dictionary.
        let mut args: Vec<Described> = Vec::new();
        if h.is_generic_instance() {
            let Some(handles) = self.type_arguments(&h) else {
                return fallback();
            };
            for a in handles {
                args.push(self.describe_handle(a, depth + 1));
            }
        }
        // The arity must match; when the module is wrong (a generic
        // instantiation loaded by another module), try CoreLib.
        let arity_ok = |md: &Metadata| {
            md.type_def(rid).is_ok() && md.generic_param_count(rid) as usize == args.len()
        };
        let known = self.metadata_of(module).is_some();
        if known && !self.metadata_of(module).is_some_and(arity_ok) {
            if let Some(c) = self
                .corelib
                .filter(|&c| self.metadata_of(c).is_some_and(arity_ok))
            {
                module = c;
            }
        }
        let module_name = self.modules.get(&module).and_then(|i| i.name.clone());
        let Some(md) = self.metadata_of(module).filter(|md| arity_ok(md)) else {
            let token = 0x0200_0000 | rid;
            let base = match &module_name {
                Some(n) => format!("{n}!{token:#010x}"),
                None => format!("MethodTable {mt:#x}"),
            };
            let a = join_args(&args, |d| &d.full);
            return Described {
                full: base.clone() + &a,
                top: base + &a,
                module: module_name,
                named: false,
            };
        };
        let Ok(td) = md.type_def(rid) else {
            return fallback();
        };
        let own = td.name.to_owned();
        let nested = md.enclosing_type(rid).is_some();
        let Ok(full) = md.full_type_name(rid) else {
            return fallback();
        };
        let a = join_args(&args, |d| &d.full);
        Described {
            top: if nested { own } else { full.clone() } + &a,
            full: full + &a,
            module: module_name,
            named: args.iter().all(|d| d.named),
        }
    }

    /// The type arguments of a generic instantiation: the first
    /// `NumTyPars` entries of its own (last) dictionary.
    fn type_arguments(&self, h: &Header) -> Option<Vec<u64>> {
        let ptr = self.layout.ptr;
        let per_inst = h.per_inst;
        if per_inst == 0 || !ptr.aligned(per_inst) {
            return None;
        }
        let dicts = self.mem.read_u16(per_inst - 4).ok()?;
        let params = self.mem.read_u16(per_inst - 2).ok()?;
        if dicts == 0 || params == 0 || params > 64 {
            return None;
        }
        let dict = self
            .mem
            .read_pointer(per_inst.wrapping_add(ptr.times(u64::from(dicts) - 1)))
            .ok()?;
        (0..u64::from(params))
            .map(|i| self.mem.read_pointer(dict.wrapping_add(ptr.times(i))).ok())
            .collect()
    }

    /// The names of a TypeDesc: array (.NET Core 3.1 `ArrayTypeDesc`),
    /// pointer, by-ref, generic variable, function pointer.
    fn describe_type_desc(&mut self, td: u64, depth: u32) -> Described {
        let fallback = || Described::unknown(format!("TypeDesc {td:#x}"));
        if depth >= MAX_DEPTH {
            return fallback();
        }
        let Ok(kind) = self.mem.read_u32(td) else {
            return fallback();
        };
        let valid_mt = |mem: &dyn AddressSpace, mt: u64| MethodTable::read(mem, mt).is_some();
        // `TypeDesc {u32 m_typeAndFlags}`, padded to a pointer, then (a
        // `ParamTypeDesc`) the template MethodTable and the argument.
        let ptr = self.layout.ptr;
        let (template, arg) = (ptr.bytes(), 2 * ptr.bytes());
        match kind & 0xFF {
            // ELEMENT_TYPE_ARRAY, ELEMENT_TYPE_SZARRAY: name the template
            // MethodTable (absolute or relative), else the element.
            0x14 | 0x1D => {
                if let Ok(v) = self.mem.read_pointer(td.wrapping_add(template)) {
                    for t in [v, relative(ptr, td + template, v)] {
                        if ptr.aligned(t)
                            && valid_mt(self.mem, t)
                            && Header::read(self.mem, t).is_some_and(|h| h.is_array())
                        {
                            return self.describe(t, depth + 1);
                        }
                    }
                }
                match self.mem.read_pointer(td.wrapping_add(arg)) {
                    Ok(e) => {
                        let e = self.describe_handle(e, depth + 1);
                        Described {
                            full: e.full + "[]",
                            top: e.top + "[]",
                            module: e.module,
                            named: e.named,
                        }
                    }
                    Err(_) => fallback(),
                }
            }
            // ELEMENT_TYPE_PTR, ELEMENT_TYPE_BYREF.
            k @ (0x0F | 0x10) => {
                let suffix = if k == 0x0F { "*" } else { "&" };
                for off in [template, arg] {
                    let Ok(a) = self.mem.read_pointer(td.wrapping_add(off)) else {
                        continue;
                    };
                    let ok = if a & 2 != 0 {
                        self.mem.read_u32(a & !3).is_ok()
                    } else {
                        ptr.aligned(a) && valid_mt(self.mem, a)
                    };
                    if ok {
                        let e = self.describe_handle(a, depth + 1);
                        return Described {
                            full: e.full + suffix,
                            top: e.top + suffix,
                            module: e.module,
                            named: e.named,
                        };
                    }
                }
                fallback()
            }
            0x1B => Described::unknown("(function pointer)".into()),
            0x13 | 0x1E => Described::unknown("(generic parameter)".into()),
            _ => fallback(),
        }
    }
}

/// What the metadata says about a type beyond its name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Relations {
    /// Its namespace (the outermost type's; an array's element's).
    pub(crate) namespace: Option<String>,
    /// Its base types, nearest first.
    pub(crate) bases: Vec<String>,
    /// The interfaces it implements, its own first.
    pub(crate) interfaces: Vec<String>,
}

/// The generic interfaces the runtime gives a single-dimensional array
/// (`T[]` implements `IList<T>` and the others, whatever `T` is).
const SZ_ARRAY_INTERFACES: [&str; 5] = [
    "System.Collections.Generic.IList`1",
    "System.Collections.Generic.ICollection`1",
    "System.Collections.Generic.IEnumerable`1",
    "System.Collections.Generic.IReadOnlyList`1",
    "System.Collections.Generic.IReadOnlyCollection`1",
];

/// Deepest chain of base types followed.
const MAX_BASES: usize = 64;

/// [`Relations`] by MethodTable (`None`: not known).
type RelationsMemo = HashMap<u64, Option<Rc<Relations>>>;

impl Namer<'_> {
    /// The metadata and TypeDef RID defining the non-array MethodTable
    /// `mt` (a generic instantiation's definition), as naming finds them.
    fn definition_md(&mut self, mt: u64, h: &Header) -> Option<(usize, u32)> {
        let mut module = self.defining_module(mt, h);
        let rid = self.layout.rid(h);
        self.ensure_module(module);
        let arity = if h.is_generic_instance() {
            self.type_arguments(h)?.len()
        } else {
            0
        };
        let fits = |md: &Metadata| {
            md.type_def(rid).is_ok() && md.generic_param_count(rid) as usize == arity
        };
        if !self.metadata_of(module).is_some_and(fits) {
            module = self
                .corelib
                .filter(|&c| self.metadata_of(c).is_some_and(fits))?;
        }
        Some((self.modules.get(&module)?.metadata?, rid))
    }

    /// The namespace of the type handle `th` (an array's: its element's).
    fn namespace_of(&mut self, th: u64, depth: u32) -> Option<String> {
        if th & 2 != 0 || depth >= MAX_DEPTH {
            return None;
        }
        let h = Header::read(self.mem, th)?;
        if h.is_array() {
            return self.namespace_of(h.per_inst, depth + 1);
        }
        let (md, rid) = self.definition_md(th, &h)?;
        let ns = self.metadata[md].type_namespace(rid).ok()?;
        (!ns.is_empty()).then(|| ns.to_owned())
    }

    /// The [`Relations`] of the MethodTable `mt` (`None` when the metadata
    /// of a type on its chain is missing), memoized by MethodTable.
    fn relations(&mut self, mt: u64, memo: &mut RelationsMemo) -> Option<Rc<Relations>> {
        // The chain of parents, up to one already known or the top.
        let mut chain: Vec<u64> = Vec::new();
        let mut cur = mt;
        // The parent of the chain's last type and its relations.
        let mut up: Option<(u64, Option<Rc<Relations>>)> = None;
        let unknown = |chain: &[u64], memo: &mut RelationsMemo| {
            for &c in chain {
                memo.insert(c, None);
            }
            None
        };
        loop {
            if let Some(r) = memo.get(&cur) {
                if chain.is_empty() {
                    return r.clone();
                }
                up = Some((cur, r.clone()));
                break;
            }
            if chain.len() >= MAX_BASES {
                return unknown(&chain, memo);
            }
            chain.push(cur);
            let Ok(parent) = self.mem.read_pointer(cur.wrapping_add(mt_parent())) else {
                return unknown(&chain, memo);
            };
            if parent == 0 {
                break;
            }
            if !self.layout.ptr.aligned(parent) || Header::read(self.mem, parent).is_none() {
                return unknown(&chain, memo);
            }
            cur = parent;
        }
        // From the top down: a type's own relations, then its parent's.
        let mut parent = up;
        let mut result = None;
        for &c in chain.iter().rev() {
            let r = match (&parent, self.own_relations(c)) {
                (_, None) | (Some((_, None)), _) => None,
                (None, Some(own)) => Some(own),
                (Some((p, Some(pr))), Some(mut own)) => {
                    let (p, pr) = (*p, pr.clone());
                    self.definition_name(p).map(|pn| {
                        own.bases = std::iter::once(pn)
                            .chain(pr.bases.iter().cloned())
                            .collect();
                        for i in &pr.interfaces {
                            if !own.interfaces.contains(i) {
                                own.interfaces.push(i.clone());
                            }
                        }
                        own
                    })
                }
            };
            let r = r.map(Rc::new);
            memo.insert(c, r.clone());
            parent = Some((c, r.clone()));
            result = r;
        }
        result
    }

    /// The full name of the definition of the non-array MethodTable `mt`
    /// (``System.Collections.Generic.List`1``).
    fn definition_name(&mut self, mt: u64) -> Option<String> {
        let h = Header::read(self.mem, mt)?;
        if h.is_array() {
            return None;
        }
        let (md, rid) = self.definition_md(mt, &h)?;
        self.metadata[md].full_type_name(rid).ok()
    }

    /// A type's own namespace and declared interfaces (no bases).
    fn own_relations(&mut self, mt: u64) -> Option<Relations> {
        let h = Header::read(self.mem, mt)?;
        if h.is_array() {
            let interfaces = if h.flags & IF_ARRAY_THEN_SZARRAY != 0 {
                SZ_ARRAY_INTERFACES
                    .iter()
                    .map(|s| (*s).to_owned())
                    .collect()
            } else {
                Vec::new()
            };
            return Some(Relations {
                namespace: self.namespace_of(h.per_inst, 1),
                bases: Vec::new(),
                interfaces,
            });
        }
        let (md, rid) = self.definition_md(mt, &h)?;
        let md = &self.metadata[md];
        let namespace = md
            .type_namespace(rid)
            .ok()
            .filter(|n| !n.is_empty())
            .map(str::to_owned);
        let mut interfaces: Vec<String> = Vec::new();
        for t in md.interface_impls(rid) {
            if let Ok(n) = md.type_def_or_ref_name(t) {
                if !interfaces.contains(&n) {
                    interfaces.push(n);
                }
            }
        }
        Some(Relations {
            namespace,
            bases: Vec::new(),
            interfaces,
        })
    }
}

fn join_args(args: &[Described], f: impl Fn(&Described) -> &String) -> String {
    if args.is_empty() {
        return String::new();
    }
    let parts: Vec<&str> = args.iter().map(|d| f(d).as_str()).collect();
    format!("[{}]", parts.join(","))
}

#[cfg(test)]
mod calibration_tests {
    use super::*;
    use crate::{TargetModule, TargetThread};
    use heaplens_memory::{MappedRange, MemoryMap, Region};

    /// Three `Module` records at 0x10000, 0x10200, 0x10400: at +0x108 the
    /// pointer to each one's simple name, in its managed image (mapped at
    /// 0x7000_0000 + i·0x10_0000; its pages held only when `names_held`),
    /// and at +0x128 a pointer to a structure of its own whose first word
    /// is 0x3950 — whose bytes read as the "name" `P9`.
    fn process(names_held: bool) -> (Vec<u8>, Vec<MappedRange>, Vec<TargetModule>) {
        let mut data = vec![0u8; 0x1000];
        let mut ranges = vec![MappedRange {
            region: Region {
                start: 0x10000,
                size: 0x1000,
                data_size: 0x1000,
                protection: None,
            },
            file_offset: 0,
        }];
        let mut modules = Vec::new();
        let put = |data: &mut Vec<u8>, at: usize, v: u64| {
            data[at..at + 8].copy_from_slice(&v.to_le_bytes());
        };
        for i in 0..3u64 {
            let image = 0x7000_0000 + i * 0x10_0000;
            let record = (0x200 * i) as usize;
            put(&mut data, record + 0x108, image + 0x345);
            // The "P9" structures, after the records.
            let p9 = 0x800 + 0x40 * i;
            put(&mut data, record + 0x128, 0x10000 + p9);
            put(&mut data, p9 as usize, 0x3950);
            modules.push(TargetModule {
                path: format!("/app/Lib{i}.dll"),
                start: image,
                end: image + 0x1000,
                header_addresses: vec![image],
                ranges: Vec::new(),
                version: None,
            });
            if names_held {
                let at = data.len();
                data.resize(at + 0x1000, 0);
                let name = format!("Lib{i}\0");
                data[at + 0x345..at + 0x345 + name.len()].copy_from_slice(name.as_bytes());
                ranges.push(MappedRange {
                    region: Region {
                        start: image,
                        size: 0x1000,
                        data_size: 0x1000,
                        protection: None,
                    },
                    file_offset: at as u64,
                });
            }
        }
        (data, ranges, modules)
    }

    #[test]
    fn the_name_offset_is_where_each_module_has_its_own_name() {
        for names_held in [false, true] {
            let (data, ranges, modules) = process(names_held);
            let mem = MemoryMap::new(data, 8, &ranges).expect("a memory map");
            let runtime_module = TargetModule {
                path: "/rt/libcoreclr.so".into(),
                start: 0x6000_0000,
                end: 0x6000_1000,
                header_addresses: vec![],
                ranges: vec![],
                version: None,
            };
            let mut all = modules.clone();
            all.push(runtime_module.clone());
            let threads: Vec<TargetThread> = Vec::new();
            let target = Target {
                memory: &mem,
                shared_memory: None,
                modules: all,
                threads,
                symbols: &crate::NoSymbols,
                module_files: None,
            };
            let runtime = RuntimeModule {
                module: runtime_module,
                version: None,
                dac_table: None,
                single_file: false,
            };
            let got = calibrate_name_offset(&mem, &[0x10000, 0x10200, 0x10400], &target, &runtime);
            assert_eq!(got, Some(0x108), "names held: {names_held}");
        }
    }
}
