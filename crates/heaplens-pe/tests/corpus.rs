//! Real images in the corpus dumps: layouts, headers, exports, resources.

mod common;

use common::{fixture, phase1_dump, Core, Minidump};
use heaplens_pe::{
    find_image_start, machine, Layout, OptionalHeaderKind, PeError, PeImage, ResourceId, TargetOs,
    MAX_METADATA_SIZE, METADATA_SIGNATURE, RT_RCDATA,
};

/// Every (base, layout) at which `name`'s mappings hold a detectable image.
fn detected(core: &Core, name: &str) -> Vec<(u64, Layout)> {
    core.mappings_of(name)
        .iter()
        .filter(|m| m.file_offset == 0)
        .filter_map(|m| PeImage::detect(&core.memory, m.start).ok())
        .map(|i| (i.base(), i.layout()))
        .collect()
}

fn assert_metadata(img: &PeImage<'_>) -> Vec<u8> {
    let md = img.read_metadata(MAX_METADATA_SIZE).unwrap();
    assert_eq!(
        u32::from_le_bytes(md[..4].try_into().unwrap()),
        METADATA_SIGNATURE
    );
    md
}

#[test]
fn linux_net8_il_images_flat_and_r2r_images_loaded() {
    let Some(dir) = fixture("linux-net8", "PE images in the linux-net8 core") else {
        return;
    };
    let core = Core::open(&phase1_dump(&dir));

    // DumpLab.dll (mcs, IL only): mapped flat, one mapping of the file.
    let maps = core.mappings_of("DumpLab.dll");
    assert_eq!(maps.len(), 1);
    let img = PeImage::detect(&core.memory, maps[0].start).unwrap();
    assert_eq!(img.layout(), Layout::Flat);
    let h = img.headers();
    assert_eq!(h.machine, machine::I386);
    assert_eq!(h.kind, OptionalHeaderKind::Pe32);
    // An exe (Main) named .dll, run with `dotnet exec`.
    assert!(!h.is_dll());
    let cli = img.cli_header().unwrap().unwrap();
    assert_eq!(cli.cb, 72);
    assert!(!cli.is_ready_to_run());
    assert_eq!(cli.flags & heaplens_pe::CLI_FLAG_IL_ONLY, 1);
    assert_metadata(&img);
    // Under the other layout the CLI header does not lead to BSJB.
    assert!(img.with_layout(Layout::Loaded).metadata_location().is_err());
    // mcs writes no CodeView record into a release build without /debug.
    let _ = img.codeview().unwrap();

    // System.Private.CoreLib.dll (ReadyToRun): the runtime maps it with
    // the loaded layout (headers page + sections at base + VA); an earlier
    // flat mapping of the whole file is mostly absent from the dump.
    let found = detected(&core, "System.Private.CoreLib.dll");
    let maps = core.mappings_of("System.Private.CoreLib.dll");
    let loaded: Vec<u64> = found
        .iter()
        .filter(|(_, l)| *l == Layout::Loaded)
        .map(|(b, _)| *b)
        .collect();
    assert_eq!(loaded.len(), 1, "{found:x?}");
    let img = PeImage::at(&core.memory, loaded[0], Layout::Loaded).unwrap();
    assert_eq!(
        img.headers().native_machine(),
        (machine::AMD64, Some(TargetOs::Linux))
    );
    assert_eq!(img.headers().machine, 0xFD1D);
    assert!(img.is_64bit());
    let cli = img.cli_header().unwrap().unwrap();
    assert!(cli.is_ready_to_run());
    let md = assert_metadata(&img);
    assert!(
        md.len() > 1_000_000,
        "CoreLib metadata is large: {}",
        md.len()
    );
    // The first mapping is a flat view of the whole file, its pages mostly
    // absent from the dump: the CodeView record (in the first pages) still
    // tells the layout, but the metadata is not there.
    let first = maps[0];
    assert!(first.start < loaded[0]);
    let flat = PeImage::detect(&core.memory, first.start).unwrap();
    assert_eq!(flat.layout(), Layout::Flat);
    assert!(flat.codeview().unwrap().is_some());
    assert!(matches!(
        flat.read_metadata(MAX_METADATA_SIZE),
        Err(PeError::Memory { .. } | PeError::NotInDump { .. })
    ));
    // The same PDB identity under both mappings.
    assert_eq!(flat.codeview().unwrap(), img.codeview().unwrap());

    // Facade assemblies (IL only, not R2R) are flat, R2R ones loaded: both
    // layouts occur among the framework's images in this one core.
    let flat_facade = detected(&core, "System.Runtime.dll");
    assert!(
        flat_facade.iter().any(|(_, l)| *l == Layout::Flat),
        "{flat_facade:x?}"
    );
    let r2r = detected(&core, "System.Console.dll");
    assert!(r2r.iter().any(|(_, l)| *l == Layout::Loaded), "{r2r:x?}");
}

#[test]
fn linux_net31_images() {
    let Some(dir) = fixture("linux-net31", "PE images in the linux-net31 core") else {
        return;
    };
    let core = Core::open(&phase1_dump(&dir));
    // createdump 3.1 wrote only DumpLab.dll's first page: the rest is
    // mapped but reads as zeros, which must not pass for data.
    let base = core.mappings_of("DumpLab.dll")[0].start;
    match PeImage::detect(&core.memory, base) {
        Err(PeError::NotInDump { addr, .. }) => assert!(addr >= base + 0x1000),
        other => panic!("expected NotInDump, got {other:?}"),
    }
    let img = PeImage::at(&core.memory, base, Layout::Flat).unwrap();
    assert!(matches!(
        img.read_metadata(MAX_METADATA_SIZE),
        Err(PeError::NotInDump { .. })
    ));
    let found = detected(&core, "System.Private.CoreLib.dll");
    assert!(
        found.iter().any(|(_, l)| *l == Layout::Loaded),
        "{found:x?}"
    );
}

#[test]
fn single_file_bundle_images_sit_inside_the_host_mapping() {
    let Some(dir) = fixture(
        "linux-net10-sf",
        "bundled PE images in the single-file core",
    ) else {
        return;
    };
    let core = Core::open(&phase1_dump(&dir));
    let host = core
        .files
        .iter()
        .find(|m| m.path.ends_with("/msbuild-extractor"))
        .expect("the single-file host is mapped");
    let host_path = host.path.clone();
    let mut seen = Vec::new();
    for m in core.files.iter().filter(|m| m.path == host_path) {
        let Some(start) = find_image_start(&core.memory, m.start, 0x1000) else {
            continue;
        };
        let Ok(img) = PeImage::detect(&core.memory, start) else {
            continue;
        };
        if img.read_metadata(MAX_METADATA_SIZE).is_ok() {
            seen.push((start - m.start, img.layout(), img.headers().size_of_image));
        }
    }
    // The images start at a non-zero offset inside the mapping's first page
    // (the bundle aligns them, the mapping is page aligned).
    assert!(
        seen.iter().all(|(off, _, _)| *off > 0 && *off < 0x1000),
        "{seen:x?}"
    );
    assert!(
        seen.iter().any(|(_, l, _)| *l == Layout::Loaded),
        "{seen:x?}"
    );
    assert!(seen.iter().any(|(_, l, _)| *l == Layout::Flat), "{seen:x?}");
    // CoreLib (the largest image) is there under both layouts.
    let largest = seen.iter().map(|s| s.2).max().unwrap();
    let corelib: Vec<_> = seen.iter().filter(|s| s.2 == largest).collect();
    assert!(corelib.iter().any(|s| s.1 == Layout::Loaded));
    assert!(corelib.iter().any(|s| s.1 == Layout::Flat));
    // DumpLab.dll comes from disk (startup hook), flat.
    let dl = PeImage::detect(&core.memory, core.mappings_of("DumpLab.dll")[0].start).unwrap();
    assert_eq!(dl.layout(), Layout::Flat);
}

#[test]
fn windows_net8_coreclr_exports_version_codeview() {
    let Some(dir) = fixture("windows-net8", "coreclr.dll in the windows-net8 minidump") else {
        return;
    };
    let dump = Minidump::open(&phase1_dump(&dir));
    let m = dump
        .module("coreclr.dll")
        .expect("coreclr.dll in the module list")
        .clone();
    let img = PeImage::detect(&dump.memory, m.base).unwrap();
    assert_eq!(img.layout(), Layout::Loaded);
    let h = img.headers();
    assert_eq!(h.machine, machine::AMD64);
    assert_eq!(h.size_of_image, m.size);
    assert_eq!(h.time_date_stamp, m.time_date_stamp);
    assert!(img.cli_header().unwrap().is_none());
    assert_eq!(
        img.export_dll_name().unwrap().as_deref(),
        Some("coreclr.dll")
    );

    // .NET 7+ exports the DAC table; the contract descriptor is .NET 9+.
    let dac = img.find_export("g_dacTable").unwrap().expect("g_dacTable");
    assert!(dac > m.base && dac < m.base + u64::from(m.size));
    assert_eq!(
        img.find_export("DotNetRuntimeContractDescriptor").unwrap(),
        None
    );
    // Binary search agrees with the full list, for every named export.
    let all = img.exports().unwrap();
    assert!(all.len() > 5, "{} exports", all.len());
    for e in all.iter().filter(|e| e.forwarder.is_none()) {
        if let Some(name) = &e.name {
            assert_eq!(img.find_export_rva(name).unwrap(), Some(e.rva), "{name}");
        }
    }
    assert!(all
        .iter()
        .any(|e| e.name.as_deref() == Some("coreclr_initialize")));

    // The version resource matches the minidump's own VS_FIXEDFILEINFO.
    let v = img.version_info().unwrap().expect("version resource");
    assert_eq!(v.file_version.to_string(), "8.0.424.16909");
    let (ms, ls) = m.file_version;
    assert_eq!(
        v.file_version,
        heaplens_pe::FourPartVersion::from_ms_ls(ms, ls)
    );
    // coreclr.dll's strings carry the commit: "8,0,424,16909 @Commit: 2d7e…".
    let pv = v.product_version_string().expect("ProductVersion string");
    assert!(pv.starts_with("8,0,424,16909 @Commit: "), "{pv}");
    assert!(v.string("FileVersion").is_some(), "{:?}", v.strings);
    assert_eq!(
        v.string("OriginalFilename"),
        Some("CoreCLR.dll"),
        "{:?}",
        v.strings
    );

    let cv = img.codeview().unwrap().expect("CodeView record");
    assert!(cv.pdb_path.ends_with("coreclr.pdb"), "{}", cv.pdb_path);
    assert_eq!(cv.guid_string().len(), 36);

    // No DAC resource since .NET 7.
    assert!(img
        .resource_bytes(&RT_RCDATA.into(), &"COREXTERNALDATAACCESSRESOURCE".into())
        .unwrap()
        .is_none());

    // DumpLab.dll, mapped by the loader.
    let m = dump.module("DumpLab.dll").expect("DumpLab.dll").clone();
    let img = PeImage::detect(&dump.memory, m.base).unwrap();
    assert_eq!(img.layout(), Layout::Loaded);
    assert_metadata(&img);
}

#[test]
fn windows_net31_coreclr_dac_resource() {
    let Some(dir) = fixture("windows-net31", "coreclr.dll in the windows-net31 minidump") else {
        return;
    };
    let dump = Minidump::open(&phase1_dump(&dir));
    let m = dump.module("coreclr.dll").expect("coreclr.dll").clone();
    let img = PeImage::detect(&dump.memory, m.base).unwrap();
    assert_eq!(img.layout(), Layout::Loaded);
    assert_eq!(img.find_export("g_dacTable").unwrap(), None);
    let v = img.version_info().unwrap().unwrap();
    assert_eq!(v.file_version.to_string(), "4.700.22.11601");
    let (ms, ls) = m.file_version;
    assert_eq!(
        v.file_version,
        heaplens_pe::FourPartVersion::from_ms_ls(ms, ls)
    );
    // {u32 numGlobals; u32 numVptrs; 16-byte DacTableInfo} then u32 RVAs.
    let name = ResourceId::from("COREXTERNALDATAACCESSRESOURCE");
    let res = img
        .resource_bytes(&RT_RCDATA.into(), &name)
        .unwrap()
        .expect("the DAC table resource");
    let globals = u32::from_le_bytes(res[0..4].try_into().unwrap()) as usize;
    let vptrs = u32::from_le_bytes(res[4..8].try_into().unwrap()) as usize;
    assert!(globals > 10 && vptrs > 10, "{globals} {vptrs}");
    assert!(
        res.len() >= 24 + 4 * (globals + vptrs),
        "{} bytes",
        res.len()
    );
    let rvas: Vec<u32> = res[24..24 + 4 * (globals + vptrs)]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    let inside = rvas.iter().filter(|&&r| r > 0 && r < m.size).count();
    assert!(
        inside * 10 >= rvas.len() * 9,
        "{inside} of {} RVAs in the image",
        rvas.len()
    );
}
