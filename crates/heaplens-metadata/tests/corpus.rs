//! Real metadata from the images in the corpus dumps, checked against what
//! the runtime itself recorded (graph.json: MethodTable → type name; the
//! MethodTable's own TypeDef RID read from the dump).

#[path = "../../heaplens-pe/tests/common/mod.rs"]
mod common;

use common::{fixture, phase1_dump, Core, Minidump};
use heaplens_memory::AddressSpace;
use heaplens_metadata::{FieldType, Metadata, MetadataError, TableId, Token};
use heaplens_pe::{Layout, PeImage};
use std::collections::BTreeMap;
use std::path::Path;

/// The metadata of the first mapping of `name` that holds a readable image.
fn metadata_of(core: &Core, name: &str) -> Option<(Metadata, Layout)> {
    core.mappings_of(name)
        .iter()
        .filter(|m| m.file_offset == 0)
        .filter_map(|m| PeImage::detect(&core.memory, m.start).ok())
        .find_map(|img| Some((Metadata::read_from(&img).ok()?, img.layout())))
}

/// Every image in the core whose metadata is readable, by file name.
fn all_metadata(core: &Core) -> BTreeMap<String, Metadata> {
    let mut names: Vec<String> = core
        .files
        .iter()
        .filter(|m| m.path.ends_with(".dll"))
        .map(|m| m.path.rsplit('/').next().unwrap().to_owned())
        .collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter_map(|n| metadata_of(core, &n).map(|(md, _)| (n, md)))
        .collect()
}

/// The runtime's TypeString name without generic arguments (`X`1[A]` → `X`1`).
fn base_name(name: &str) -> &str {
    name.split('[').next().unwrap()
}

fn is_array(name: &str) -> bool {
    name.ends_with("[]") || name.ends_with(",]")
}

fn graph_types(dir: &Path) -> Vec<(u64, String)> {
    let raw = heaplens_corpus::read_maybe_zst(&dir.join("phase1.graph.json.zst")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&raw).unwrap();
    v["types"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(mt, name)| {
            let mt = u64::from_str_radix(mt.trim_start_matches("0x"), 16).unwrap();
            (mt, name.as_str().unwrap().to_owned())
        })
        .collect()
}

fn dumplab_checks(md: &Metadata) {
    assert_eq!(md.assembly_name().unwrap(), Some("DumpLab"));
    assert_eq!(md.module_name().unwrap(), "DumpLab.dll");
    assert_eq!(md.type_def(1).unwrap().name, "<Module>");
    // DumpLab.cs: 16 types, none nested, and <Module>.
    assert_eq!(md.type_def_count(), 17);
    assert!((1..=17).all(|rid| md.enclosing_type(rid).is_none()));
    for name in [
        "DumpLab.Widget",
        "DumpLab.LeakItem",
        "DumpLab.ChainNode",
        "DumpLab.RootTarget",
        "DumpLab.Finalizable",
        "DumpLab.Point3",
        "DumpLab.Roots",
        "DumpLab.Program",
        "StartupHook",
    ] {
        let rid = md.find_type_def(name).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(md.generic_param_count(rid), 0, "{name}");
        assert_eq!(md.enclosing_type(rid), None, "{name}");
    }
    let gb = md
        .find_type_def("DumpLab.GenericBox`1")
        .expect("GenericBox`1");
    assert_eq!(md.generic_param_count(gb), 1);
    let value = md.type_fields(gb).next().unwrap();
    assert_eq!(md.field(value).unwrap().name, "Value");
    assert_eq!(md.field_type(value).unwrap(), FieldType::Var(0));

    // Widget { int Id; string Label; }
    let w = md.find_type_def("DumpLab.Widget").unwrap();
    let fields: Vec<_> = md.type_fields(w).map(|f| md.field(f).unwrap()).collect();
    let names: Vec<_> = fields.iter().map(|f| f.name).collect();
    assert_eq!(names, ["Id", "Label"]);
    assert!(fields.iter().all(|f| !f.is_static()));
    assert_eq!(md.field_type(fields[1].rid).unwrap(), FieldType::String);
    assert_eq!(
        md.field_type(fields[0].rid).unwrap().is_reference(),
        Some(false)
    );

    // ChainNode.Next is a ChainNode, Target a RootTarget.
    let cn = md.find_type_def("DumpLab.ChainNode").unwrap();
    let next = md.type_fields(cn).next().unwrap();
    assert_eq!(
        md.field_type(next).unwrap(),
        FieldType::Class(Token::new(TableId::TypeDef, cn))
    );

    // Point3 is a struct: extends System.ValueType (a TypeRef).
    let p = md
        .type_def(md.find_type_def("DumpLab.Point3").unwrap())
        .unwrap();
    assert_eq!(p.extends.table(), Some(TableId::TypeRef));
    assert_eq!(
        md.type_ref_full_name(p.extends.rid()).unwrap(),
        "System.ValueType"
    );

    // Roots: all static.
    let roots = md.find_type_def("DumpLab.Roots").unwrap();
    let statics: BTreeMap<&str, FieldType> = md
        .type_fields(roots)
        .map(|f| (md.field(f).unwrap(), f))
        .inspect(|(field, _)| assert!(field.is_static(), "{}", field.name))
        .map(|(field, f)| (field.name, md.field_type(f).unwrap()))
        .collect();
    assert_eq!(statics.len(), 17, "{statics:?}");
    assert_eq!(statics["Widgets"], FieldType::SzArray);
    assert_eq!(
        statics["ChainHead"],
        FieldType::Class(Token::new(TableId::TypeDef, cn))
    );
    assert!(matches!(
        statics["Leak"],
        FieldType::GenericInst {
            value_type: false,
            ..
        }
    ));
    assert!(matches!(statics["Strong"], FieldType::ValueType(_)));
    assert!(matches!(statics["Pins"], FieldType::SzArray));
    let refs = statics
        .values()
        .filter(|t| t.is_reference() == Some(true))
        .count();
    assert_eq!(refs, 16, "every static but the GCHandle is a reference");
}

#[test]
fn dumplab_and_corelib_in_the_linux_net8_core() {
    let Some(dir) = fixture("linux-net8", "metadata in the linux-net8 core") else {
        return;
    };
    let core = Core::open(&phase1_dump(&dir));
    let (dl, layout) = metadata_of(&core, "DumpLab.dll").expect("DumpLab.dll metadata");
    assert_eq!(layout, Layout::Flat);
    dumplab_checks(&dl);

    let (corelib, layout) =
        metadata_of(&core, "System.Private.CoreLib.dll").expect("CoreLib metadata");
    assert_eq!(layout, Layout::Loaded);
    assert_eq!(
        corelib.assembly_name().unwrap(),
        Some("System.Private.CoreLib")
    );
    let a = corelib.assembly().unwrap().unwrap();
    assert_eq!(a.version.0, 8);
    assert!(
        corelib.type_def_count() > 2000,
        "{}",
        corelib.type_def_count()
    );
    assert_eq!(corelib.full_type_name(1).unwrap(), "<Module>");
    // System.Object is not RID 2 (RID 2 is `Interop`); where it is, the
    // MethodTable cross-check below confirms independently.
    let object = corelib.find_type_def("System.Object").unwrap();
    assert!(corelib.type_def(object).unwrap().extends.is_null());
    assert!(!corelib.type_def(object).unwrap().is_interface());
    for name in [
        "System.String",
        "System.Collections.Generic.Dictionary`2+Entry",
        "System.RuntimeType+RuntimeTypeCache",
        "System.Buffers.SharedArrayPool`1+ThreadLocalArray",
    ] {
        assert!(corelib.find_type_def(name).is_some(), "{name}");
    }
    let dict = corelib
        .find_type_def("System.Collections.Generic.Dictionary`2")
        .unwrap();
    assert_eq!(corelib.generic_param_count(dict), 2);
    // A nested type of a generic type repeats its outer type's parameters.
    let entry = corelib
        .find_type_def("System.Collections.Generic.Dictionary`2+Entry")
        .unwrap();
    assert_eq!(corelib.enclosing_type(entry), Some(dict));
    assert_eq!(corelib.generic_param_count(entry), 2);
    // String's only instance field is the length, then the first char.
    let s = corelib.find_type_def("System.String").unwrap();
    let inst: Vec<&str> = corelib
        .type_fields(s)
        .map(|f| corelib.field(f).unwrap())
        .filter(|f| !f.is_static())
        .map(|f| f.name)
        .collect();
    assert_eq!(inst, ["_stringLength", "_firstChar"]);

    // Every name, every field, every signature of both is readable.
    for md in [&dl, &corelib] {
        for rid in 1..=md.type_def_count() {
            md.full_type_name(rid).unwrap();
            for f in md.type_fields(rid) {
                md.field(f).unwrap();
                md.field_type(f).unwrap();
            }
        }
    }

    let mds: Vec<Metadata> = all_metadata(&core).into_values().collect();
    assert!(mds.len() >= 5, "{}", mds.len());
    cross_check_with_method_tables(&dir, &core.memory, &mds, TokenField::U16At0xA);
}

/// How a runtime stores the TypeDef RID in a MethodTable.
#[derive(Clone, Copy)]
enum TokenField {
    /// ≤ .NET 8: `u16 m_wToken` at +0xA (0xFFFF: overflow, stored elsewhere).
    U16At0xA,
    /// .NET 9+: `u32 m_dwFlags2` at +0x8, RID in the upper 24 bits.
    Flags2Upper24,
}

/// For every non-array type the runtime named in graph.json, the TypeDef RID
/// in its MethodTable must name the same type in the metadata: exactly in
/// DumpLab.dll, and in some loaded image for the framework's types (their
/// module is not known here). Nested types are named by the runtime
/// without their outer types (`Entry`, not `Dictionary`2+Entry`): for those
/// the innermost name must match and ours must show the nesting.
fn cross_check_with_method_tables(
    dir: &Path,
    space: &dyn AddressSpace,
    mds: &[Metadata],
    token: TokenField,
) {
    let dl = mds
        .iter()
        .find(|m| m.assembly_name().unwrap() == Some("DumpLab"))
        .expect("DumpLab metadata");
    let (mut checked, mut unmatched) = (0, Vec::new());
    for (mt, name) in graph_types(dir) {
        if is_array(&name) || name == "Free" {
            continue;
        }
        let rid = match token {
            TokenField::U16At0xA => u32::from(space.read_u16(mt + 0xA).unwrap()),
            TokenField::Flags2Upper24 => space.read_u32(mt + 0x8).unwrap() >> 8,
        };
        if rid == 0xFFFF && matches!(token, TokenField::U16At0xA) {
            continue;
        }
        let want = base_name(&name);
        checked += 1;
        if want.starts_with("DumpLab.") {
            assert_eq!(dl.full_type_name(rid).unwrap(), want, "MT {mt:#x}");
            continue;
        }
        let ok = mds.iter().any(|md| match md.full_type_name(rid) {
            Ok(full) if want.contains('.') => full == want,
            Ok(full) => full.rsplit('+').next() == Some(want) && full.contains('+'),
            Err(_) => false,
        });
        if !ok {
            unmatched.push(name);
        }
    }
    eprintln!(
        "{}: {} of {checked} MethodTable names matched; unmatched: {unmatched:?}",
        dir.display(),
        checked - unmatched.len()
    );
    assert!(checked > 100, "{checked}");
    assert!(unmatched.is_empty(), "{unmatched:?}");
}

#[test]
fn dumplab_in_the_other_runtimes() {
    // linux-net10-sf: DumpLab.dll loaded from disk by a startup hook.
    if let Some(dir) = fixture("linux-net10-sf", "metadata in the single-file core") {
        let core = Core::open(&phase1_dump(&dir));
        let (md, layout) = metadata_of(&core, "DumpLab.dll").unwrap();
        assert_eq!(layout, Layout::Flat);
        dumplab_checks(&md);
        // CoreLib inside the bundle (both mappings give the same metadata).
        let host = core
            .files
            .iter()
            .find(|m| m.path.ends_with("/msbuild-extractor"))
            .unwrap()
            .path
            .clone();
        let mut corelibs = Vec::new();
        for m in core.files.iter().filter(|m| m.path == host) {
            let Some(start) = heaplens_pe::find_image_start(&core.memory, m.start, 0x1000) else {
                continue;
            };
            let Ok(img) = PeImage::detect(&core.memory, start) else {
                continue;
            };
            let Ok(md) = Metadata::read_from(&img) else {
                continue;
            };
            if md.assembly_name().unwrap() == Some("System.Private.CoreLib") {
                assert_eq!(md.assembly().unwrap().unwrap().version.0, 10);
                assert!(md.find_type_def("System.Object").is_some());
                corelibs.push((img.layout(), md.bytes().to_vec()));
            }
        }
        assert!(corelibs.len() >= 2, "{}", corelibs.len());
        let mut mds: Vec<Metadata> = all_metadata(&core).into_values().collect();
        for m in core.files.iter().filter(|m| m.path == host) {
            if let Some(md) = heaplens_pe::find_image_start(&core.memory, m.start, 0x1000)
                .and_then(|start| PeImage::detect(&core.memory, start).ok())
                .and_then(|img| Metadata::read_from(&img).ok())
            {
                mds.push(md);
            }
        }
        cross_check_with_method_tables(&dir, &core.memory, &mds, TokenField::Flags2Upper24);
        assert!(corelibs.windows(2).all(|w| w[0].1 == w[1].1));
        let layouts: Vec<Layout> = corelibs.iter().map(|c| c.0).collect();
        assert!(layouts.contains(&Layout::Loaded) && layouts.contains(&Layout::Flat));
    }
    // windows-net8: DumpLab.dll mapped by the loader.
    if let Some(dir) = fixture("windows-net8", "metadata in the windows-net8 minidump") {
        let dump = Minidump::open(&phase1_dump(&dir));
        let m = dump.module("DumpLab.dll").unwrap();
        let img = PeImage::detect(&dump.memory, m.base).unwrap();
        assert_eq!(img.layout(), Layout::Loaded);
        dumplab_checks(&Metadata::read_from(&img).unwrap());
        let mds: Vec<Metadata> = dump
            .modules
            .iter()
            .filter_map(|m| PeImage::detect(&dump.memory, m.base).ok())
            .filter_map(|img| Metadata::read_from(&img).ok())
            .collect();
        cross_check_with_method_tables(&dir, &dump.memory, &mds, TokenField::U16At0xA);
    }
    // linux-net31: DumpLab.dll's metadata pages are not in the core.
    if let Some(dir) = fixture("linux-net31", "metadata in the linux-net31 core") {
        let core = Core::open(&phase1_dump(&dir));
        let base = core.mappings_of("DumpLab.dll")[0].start;
        let img = PeImage::at(&core.memory, base, Layout::Flat).unwrap();
        assert!(matches!(
            Metadata::read_from(&img),
            Err(MetadataError::Image(heaplens_pe::PeError::NotInDump { .. }))
        ));
    }
}

#[test]
fn random_corruption_of_real_metadata_does_not_panic() {
    let Some(dir) = fixture("linux-net8", "fuzzing real metadata") else {
        return;
    };
    let core = Core::open(&phase1_dump(&dir));
    let (md, _) = metadata_of(&core, "DumpLab.dll").unwrap();
    let good = md.bytes().to_vec();
    let mut seed = 0xD1B5_4A32_D192_ED03u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut parsed = 0;
    for round in 0..4000 {
        let mut b = good.clone();
        for _ in 0..1 + next() % 8 {
            // Half the rounds hit the root, stream headers and table header.
            let span = if round % 2 == 0 {
                0x100
            } else {
                b.len() as u64
            };
            let at = (next() % span) as usize;
            b[at] = next() as u8;
        }
        if let Ok(md) = Metadata::parse(b) {
            parsed += 1;
            exercise(&md);
        }
    }
    assert!(parsed > 100, "{parsed}");
    for len in (0..good.len()).step_by(7) {
        if let Ok(md) = Metadata::parse(good[..len].to_vec()) {
            exercise(&md);
        }
    }
}

fn exercise(md: &Metadata) {
    let _ = md.module_name();
    let _ = md.assembly();
    for rid in 0..=md.type_def_count().min(2000) + 1 {
        let _ = md.full_type_name(rid);
        let _ = md.generic_param_count(rid);
        for f in md.type_fields(rid).take(100) {
            let _ = md.field(f);
            let _ = md.field_type(f);
        }
    }
    for rid in 0..=md.row_count(TableId::TypeRef).min(2000) + 1 {
        let _ = md.type_ref_full_name(rid);
    }
    for t in TableId::all() {
        for rid in [1, md.row_count(*t)] {
            for col in 0..9 {
                let _ = md.cell(*t, rid, col);
            }
        }
    }
}
