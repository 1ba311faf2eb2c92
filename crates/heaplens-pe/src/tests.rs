//! Unit tests on a synthetic image, built here in both layouts.

use super::*;
use heaplens_memory::{MappedRange, MemoryMap, Region};

const SIZE_OF_IMAGE: u32 = 0x5000;
/// (name, VA, raw pointer, raw size, virtual size)
const SECTIONS: [(&str, u32, u32, u32, u32); 4] = [
    (".text", 0x1000, 0x400, 0x600, 0x580),
    (".rdata", 0x2000, 0xA00, 0x400, 0x300),
    (".data", 0x3000, 0xE00, 0x200, 0x1000),
    (".rsrc", 0x4000, 0x1000, 0x400, 0x400),
];
const FILE_SIZE: usize = 0x1400;

fn put(b: &mut [u8], at: u32, bytes: &[u8]) {
    b[at as usize..at as usize + bytes.len()].copy_from_slice(bytes);
}
fn put16(b: &mut [u8], at: u32, v: u16) {
    put(b, at, &v.to_le_bytes());
}
fn put32(b: &mut [u8], at: u32, v: u32) {
    put(b, at, &v.to_le_bytes());
}

fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect()
}

/// A version resource block: header, key, value, children, 4-byte padded.
fn vblock(key: &str, value: &[u8], text: bool, children: &[Vec<u8>]) -> Vec<u8> {
    let mut b = vec![0u8; 6];
    b.extend(utf16(key));
    b.extend([0, 0]);
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
    b.extend_from_slice(value);
    for c in children {
        while !b.len().is_multiple_of(4) {
            b.push(0);
        }
        b.extend_from_slice(c);
    }
    let len = b.len() as u16;
    let vlen = if text { value.len() / 2 } else { value.len() } as u16;
    b[0..2].copy_from_slice(&len.to_le_bytes());
    b[2..4].copy_from_slice(&vlen.to_le_bytes());
    b[4..6].copy_from_slice(&u16::from(text).to_le_bytes());
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
    b
}

fn version_resource() -> Vec<u8> {
    let mut ffi = vec![0u8; 52];
    put32(&mut ffi, 0, 0xFEEF_04BD);
    put32(&mut ffi, 8, 8 << 16); // 8.0
    put32(&mut ffi, 12, (424 << 16) | 16909); // .424.16909
    put32(&mut ffi, 16, 8 << 16);
    put32(&mut ffi, 20, 4 << 16);
    let mut pv = utf16("8.0.4+abc");
    pv.extend([0, 0]);
    let mut cn = utf16("Test");
    cn.extend([0, 0]);
    let table = vblock(
        "040904B0",
        &[],
        true,
        &[
            vblock("CompanyName", &cn, true, &[]),
            vblock("ProductVersion", &pv, true, &[]),
        ],
    );
    let sfi = vblock("StringFileInfo", &[], true, &[table]);
    vblock("VS_VERSION_INFO", &ffi, false, &[sfi])
}

/// The image as loaded (`SIZE_OF_IMAGE` bytes).
fn loaded_image() -> Vec<u8> {
    let mut b = vec![0u8; SIZE_OF_IMAGE as usize];
    put(&mut b, 0, b"MZ");
    put32(&mut b, 0x3C, 0x80);
    put(&mut b, 0x80, b"PE\0\0");
    put16(&mut b, 0x84, machine::AMD64);
    put16(&mut b, 0x86, SECTIONS.len() as u16);
    put32(&mut b, 0x88, 0x1234_5678);
    put16(&mut b, 0x94, 240);
    put16(&mut b, 0x96, 0x2022);
    let opt = 0x98;
    put16(&mut b, opt, 0x20B);
    put(&mut b, opt + 24, &0x1_8000_0000u64.to_le_bytes());
    put32(&mut b, opt + 28, 1);
    put32(&mut b, opt + 32, 0x1000);
    put32(&mut b, opt + 36, 0x200);
    put32(&mut b, opt + 56, SIZE_OF_IMAGE);
    put32(&mut b, opt + 60, 0x400);
    put32(&mut b, opt + 108, 16);
    let dd = |i: u32| opt + 112 + 8 * i;
    for (i, rva, size) in [
        (DIR_EXPORT, 0x2000, 0x200),
        (DIR_RESOURCE, 0x4000, 0x400),
        (DIR_DEBUG, 0x1200, 28),
        (DIR_CLI, 0x1000, 72),
    ] {
        put32(&mut b, dd(i as u32), rva);
        put32(&mut b, dd(i as u32) + 4, size);
    }
    let mut st = opt + 240;
    for (name, va, rp, rs, vs) in SECTIONS {
        put(&mut b, st, name.as_bytes());
        put32(&mut b, st + 8, vs);
        put32(&mut b, st + 12, va);
        put32(&mut b, st + 16, rs);
        put32(&mut b, st + 20, rp);
        st += 40;
    }
    // CLI header and metadata.
    put32(&mut b, 0x1000, 72);
    put16(&mut b, 0x1004, 2);
    put16(&mut b, 0x1006, 5);
    put32(&mut b, 0x1008, 0x1100);
    put32(&mut b, 0x100C, 0x40);
    put32(&mut b, 0x1010, CLI_FLAG_IL_ONLY);
    put(&mut b, 0x1100, b"BSJB");
    put(&mut b, 0x1104, b"metadata!");
    // Debug directory and CodeView.
    put32(&mut b, 0x1200 + 12, IMAGE_DEBUG_TYPE_CODEVIEW);
    put32(&mut b, 0x1200 + 16, 24 + 6);
    put32(&mut b, 0x1200 + 20, 0x1240);
    put32(&mut b, 0x1200 + 24, 0x400 + 0x240);
    put(&mut b, 0x1240, b"RSDS");
    put(&mut b, 0x1244, &(1u8..=16).collect::<Vec<_>>());
    put32(&mut b, 0x1254, 3);
    put(&mut b, 0x1258, b"x.pdb\0");
    // Exports: Alpha, Forward (forwarder), g_bss (in zero-filled data).
    put32(&mut b, 0x2000 + 12, 0x2100);
    put32(&mut b, 0x2000 + 16, 1);
    put32(&mut b, 0x2000 + 20, 3);
    put32(&mut b, 0x2000 + 24, 3);
    put32(&mut b, 0x2000 + 28, 0x2040);
    put32(&mut b, 0x2000 + 32, 0x2060);
    put32(&mut b, 0x2000 + 36, 0x2080);
    put(&mut b, 0x2100, b"test.dll\0");
    put(&mut b, 0x2110, b"Alpha\0");
    put(&mut b, 0x2118, b"Forward\0");
    put(&mut b, 0x2120, b"g_bss\0");
    put(&mut b, 0x2130, b"OTHER.Func\0");
    // Functions in an order different from the names.
    put32(&mut b, 0x2040, 0x3800); // g_bss
    put32(&mut b, 0x2044, 0x1300); // Alpha
    put32(&mut b, 0x2048, 0x2130); // Forward
    put32(&mut b, 0x2060, 0x2110);
    put32(&mut b, 0x2064, 0x2118);
    put32(&mut b, 0x2068, 0x2120);
    put16(&mut b, 0x2080, 1);
    put16(&mut b, 0x2082, 2);
    put16(&mut b, 0x2084, 0);
    put(&mut b, 0x1300, b"alpha-code");
    // Resources: root -> {RT_RCDATA -> "COREXTERNAL…" -> 0x409, RT_VERSION -> 1 -> 0}.
    let r = 0x4000u32;
    let dir = |b: &mut Vec<u8>, at: u32, named: u16, ids: u16| {
        put16(b, r + at + 12, named);
        put16(b, r + at + 14, ids);
    };
    dir(&mut b, 0, 0, 2);
    put32(&mut b, r + 16, u32::from(RT_RCDATA));
    put32(&mut b, r + 20, 0x8000_0000 | 0x30);
    put32(&mut b, r + 24, u32::from(RT_VERSION));
    put32(&mut b, r + 28, 0x8000_0000 | 0x48);
    dir(&mut b, 0x30, 1, 0);
    put32(&mut b, r + 0x40, 0x8000_0000 | 0x100);
    put32(&mut b, r + 0x44, 0x8000_0000 | 0x60);
    dir(&mut b, 0x48, 0, 1);
    put32(&mut b, r + 0x58, 1);
    put32(&mut b, r + 0x5C, 0x8000_0000 | 0x78);
    dir(&mut b, 0x60, 0, 1);
    put32(&mut b, r + 0x70, 0x409);
    put32(&mut b, r + 0x74, 0x90);
    dir(&mut b, 0x78, 0, 1);
    put32(&mut b, r + 0x88, 0);
    put32(&mut b, r + 0x8C, 0xA0);
    put32(&mut b, r + 0x90, r + 0x180);
    put32(&mut b, r + 0x94, 16);
    let ver = version_resource();
    put32(&mut b, r + 0xA0, r + 0x200);
    put32(&mut b, r + 0xA4, ver.len() as u32);
    let name = "COREXTERNALDATAACCESSRESOURCE";
    put16(&mut b, r + 0x100, name.len() as u16);
    put(&mut b, r + 0x102, &utf16(name));
    put(&mut b, r + 0x180, b"DAC table bytes!");
    put(&mut b, r + 0x200, &ver);
    b
}

/// The same image as a file.
fn flat_image(loaded: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; FILE_SIZE];
    f[..0x400].copy_from_slice(&loaded[..0x400]);
    for (_, va, rp, rs, vs) in SECTIONS {
        let n = rs.min(vs) as usize;
        f[rp as usize..rp as usize + n].copy_from_slice(&loaded[va as usize..va as usize + n]);
    }
    f
}

const LOADED_BASE: u64 = 0x10_0000;
const FLAT_BASE: u64 = 0x20_0040; // not page aligned, as in a bundle

fn space() -> MemoryMap<Vec<u8>> {
    let loaded = loaded_image();
    let flat = flat_image(&loaded);
    let mut data = vec![0u8; 0x40];
    data.extend_from_slice(&flat);
    let flat_off = loaded.len() as u64;
    let mut all = loaded.clone();
    all.extend_from_slice(&data);
    let range = |start: u64, size: u64, file_offset: u64| MappedRange {
        region: Region {
            start,
            size,
            data_size: size,
            protection: None,
        },
        file_offset,
    };
    MemoryMap::new(
        all,
        8,
        &[
            range(LOADED_BASE, loaded.len() as u64, 0),
            range(FLAT_BASE - 0x40, data.len() as u64, flat_off),
        ],
    )
    .unwrap()
}

#[test]
fn headers_and_sections() {
    let s = space();
    let img = PeImage::at(&s, LOADED_BASE, Layout::Loaded).unwrap();
    let h = img.headers();
    assert_eq!(h.machine, machine::AMD64);
    assert_eq!(
        h.native_machine(),
        (machine::AMD64, Some(TargetOs::Windows))
    );
    assert_eq!(h.kind, OptionalHeaderKind::Pe32Plus);
    assert!(img.is_64bit());
    assert_eq!(h.time_date_stamp, 0x1234_5678);
    assert_eq!(h.image_base, 0x1_8000_0000);
    assert_eq!(h.size_of_image, SIZE_OF_IMAGE);
    assert!(h.is_dll());
    assert_eq!(img.sections().len(), 4);
    assert_eq!(img.sections()[1].name, ".rdata");
    let r2r = Headers {
        machine: 0xFD1D,
        ..h.clone()
    };
    assert_eq!(
        r2r.native_machine(),
        (machine::AMD64, Some(TargetOs::Linux))
    );
}

#[test]
fn rva_translation_in_both_layouts() {
    let s = space();
    let l = PeImage::at(&s, LOADED_BASE, Layout::Loaded).unwrap();
    let f = PeImage::at(&s, FLAT_BASE, Layout::Flat).unwrap();
    assert_eq!(l.rva_to_va(0x1100), Some(LOADED_BASE + 0x1100));
    assert_eq!(f.rva_to_va(0x1100), Some(FLAT_BASE + 0x500));
    assert_eq!(f.rva_to_va(0x10), Some(FLAT_BASE + 0x10));
    // The zero-filled tail of .data is not in the file.
    assert_eq!(f.rva_to_va(0x3800), None);
    assert_eq!(l.rva_to_va(0x3800), Some(LOADED_BASE + 0x3800));
    assert_eq!(l.rva_to_va(SIZE_OF_IMAGE), None);
    assert_eq!(f.rva_to_va(0x2300), None); // past .rdata's virtual size
    let mut b = [0u8; 10];
    l.read_rva("t", 0x1300, &mut b).unwrap();
    assert_eq!(&b, b"alpha-code");
    f.read_rva("t", 0x1300, &mut b).unwrap();
    assert_eq!(&b, b"alpha-code");
    // A read may not run past the section's raw data in a flat image.
    assert!(matches!(
        f.read_rva_vec("t", 0x2000, 0x301, 0x1000),
        Err(PeError::BadRva { .. })
    ));
}

#[test]
fn detect_picks_the_layout_that_finds_bsjb() {
    let s = space();
    let l = PeImage::detect(&s, LOADED_BASE).unwrap();
    assert_eq!(l.layout(), Layout::Loaded);
    let f = PeImage::detect(&s, FLAT_BASE).unwrap();
    assert_eq!(f.layout(), Layout::Flat);
    for img in [&l, &f] {
        let cli = img.cli_header().unwrap().unwrap();
        assert_eq!(cli.cb, 72);
        assert_eq!(
            (cli.major_runtime_version, cli.minor_runtime_version),
            (2, 5)
        );
        assert_eq!(
            cli.metadata,
            DataDirectory {
                rva: 0x1100,
                size: 0x40
            }
        );
        assert!(!cli.is_ready_to_run());
        let md = img.read_metadata(MAX_METADATA_SIZE).unwrap();
        assert_eq!(md.len(), 0x40);
        assert_eq!(&md[..13], b"BSJBmetadata!");
        assert!(matches!(
            img.read_metadata(0x3F),
            Err(PeError::TooLarge { .. })
        ));
    }
    // The wrong layout does not find the metadata.
    assert!(l.with_layout(Layout::Flat).read_metadata(1 << 20).is_err());
    assert!(f
        .with_layout(Layout::Loaded)
        .read_metadata(1 << 20)
        .is_err());
}

#[test]
fn exports() {
    let s = space();
    let l = PeImage::detect(&s, LOADED_BASE).unwrap();
    let f = PeImage::detect(&s, FLAT_BASE).unwrap();
    for img in [&l, &f] {
        assert_eq!(img.export_dll_name().unwrap().as_deref(), Some("test.dll"));
        assert_eq!(img.find_export_rva("Alpha").unwrap(), Some(0x1300));
        assert_eq!(img.find_export_rva("g_bss").unwrap(), Some(0x3800));
        assert_eq!(img.find_export_rva("Forward").unwrap(), None);
        assert_eq!(img.find_export_rva("Beta").unwrap(), None);
        assert_eq!(img.find_export_rva("").unwrap(), None);
        assert_eq!(img.find_export_rva("zzz").unwrap(), None);
        let all = img.exports().unwrap();
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].name.as_deref(), Some("g_bss"));
        assert_eq!(all[0].ordinal, 1);
        assert_eq!(all[2].forwarder.as_deref(), Some("OTHER.Func"));
    }
    assert_eq!(l.find_export("Alpha").unwrap(), Some(LOADED_BASE + 0x1300));
    assert_eq!(f.find_export("Alpha").unwrap(), Some(FLAT_BASE + 0x700));
    assert_eq!(l.find_export("g_bss").unwrap(), Some(LOADED_BASE + 0x3800));
    assert_eq!(f.find_export("g_bss").unwrap(), None);
}

#[test]
fn resources_and_version() {
    let s = space();
    for base in [LOADED_BASE, FLAT_BASE] {
        let img = PeImage::detect(&s, base).unwrap();
        let name = ResourceId::from("COREXTERNALDATAACCESSRESOURCE");
        let r = img
            .find_resource(&RT_RCDATA.into(), &name)
            .unwrap()
            .unwrap();
        assert_eq!(r.size, 16);
        assert_eq!(r.language, 0x409);
        assert_eq!(img.read_resource(&r).unwrap(), b"DAC table bytes!");
        // Names compare case-insensitively.
        let lower = ResourceId::from("corexternaldataaccessresource");
        assert!(img
            .resource_bytes(&RT_RCDATA.into(), &lower)
            .unwrap()
            .is_some());
        assert!(img
            .resource_bytes(&RT_RCDATA.into(), &"OTHER".into())
            .unwrap()
            .is_none());
        assert!(img
            .resource_bytes(&ResourceId::Id(3), &name)
            .unwrap()
            .is_none());
        let v = img.version_info().unwrap().unwrap();
        assert_eq!(v.file_version.to_string(), "8.0.424.16909");
        assert_eq!(v.product_version.to_string(), "8.0.4.0");
        assert_eq!(v.product_version_string(), Some("8.0.4+abc"));
        assert_eq!(v.string("CompanyName"), Some("Test"));
    }
}

#[test]
fn codeview() {
    let s = space();
    for base in [LOADED_BASE, FLAT_BASE] {
        let img = PeImage::detect(&s, base).unwrap();
        let cv = img.codeview().unwrap().unwrap();
        assert_eq!(cv.age, 3);
        assert_eq!(cv.pdb_path, "x.pdb");
        assert_eq!(cv.guid_string(), "04030201-0605-0807-090A-0B0C0D0E0F10");
        assert_eq!(cv.symbol_key(), "0403020106050807090A0B0C0D0E0F103");
    }
}

#[test]
fn find_image_start_in_a_bundle_like_mapping() {
    let s = space();
    assert_eq!(
        find_image_start(&s, FLAT_BASE - 0x40, 0x1000),
        Some(FLAT_BASE)
    );
    assert_eq!(find_image_start(&s, LOADED_BASE, 0x1000), Some(LOADED_BASE));
    assert_eq!(find_image_start(&s, LOADED_BASE + 0x10, 0x1000), None);
    assert_eq!(find_image_start(&s, 0x9000_0000, 0x1000), None);
}

#[test]
fn bad_headers_are_typed_errors() {
    let s = space();
    assert!(matches!(
        PeImage::at(&s, LOADED_BASE + 0x10, Layout::Loaded),
        Err(PeError::NotMz { .. })
    ));
    assert!(matches!(
        PeImage::detect(&s, 0x9000_0000),
        Err(PeError::Memory { .. })
    ));
}

#[test]
fn pages_missing_from_the_dump_are_not_data() {
    // Only the headers' page has contents; the rest reads as zeros.
    let loaded = loaded_image();
    let len = loaded.len() as u64;
    let s = MemoryMap::new(
        loaded,
        8,
        &[MappedRange {
            region: Region {
                start: LOADED_BASE,
                size: len,
                data_size: 0x1000,
                protection: None,
            },
            file_offset: 0,
        }],
    )
    .unwrap();
    assert_eq!(first_missing_byte(&s, LOADED_BASE, 0x1000), None);
    assert_eq!(
        first_missing_byte(&s, LOADED_BASE, 0x1001),
        Some(LOADED_BASE + 0x1000)
    );
    assert_eq!(
        first_missing_byte(&s, LOADED_BASE + 0x2000, 4),
        Some(LOADED_BASE + 0x2000)
    );
    assert!(matches!(
        PeImage::detect(&s, LOADED_BASE),
        Err(PeError::NotInDump { addr, .. }) if addr >= LOADED_BASE + 0x1000
    ));
    let img = PeImage::at(&s, LOADED_BASE, Layout::Loaded).unwrap();
    assert!(matches!(
        img.read_metadata(1 << 20),
        Err(PeError::NotInDump { .. })
    ));
}

/// A map of one image's bytes at `LOADED_BASE`.
fn single(bytes: Vec<u8>) -> MemoryMap<Vec<u8>> {
    let len = bytes.len() as u64;
    MemoryMap::new(
        bytes,
        8,
        &[MappedRange {
            region: Region {
                start: LOADED_BASE,
                size: len,
                data_size: len,
                protection: None,
            },
            file_offset: 0,
        }],
    )
    .unwrap()
}

/// Exercises everything; only panics matter.
fn exercise(s: &MemoryMap<Vec<u8>>, base: u64) {
    for layout in [Layout::Loaded, Layout::Flat] {
        if let Ok(img) = PeImage::at(s, base, layout) {
            let _ = img.cli_header();
            let _ = img.read_metadata(1 << 20);
            let _ = img.exports();
            let _ = img.find_export("Alpha");
            let _ = img.find_export("g_bss");
            let _ = img.export_dll_name();
            let _ = img.version_info();
            let _ = img.resource_bytes(&RT_RCDATA.into(), &"COREXTERNALDATAACCESSRESOURCE".into());
            let _ = img.codeview();
            for rva in [0, 0x1000, 0x3fff, u32::MAX] {
                let _ = img.rva_to_va(rva);
            }
        }
    }
    let _ = PeImage::detect(s, base);
    let _ = find_image_start(s, base, 0x100);
}

#[test]
fn random_corruption_does_not_panic() {
    let good = loaded_image();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..3000 {
        let mut b = good.clone();
        let flips = 1 + (next() % 8) as usize;
        for _ in 0..flips {
            // Mostly the interesting parts: headers and directories.
            let at = if round % 2 == 0 {
                (next() % 0x200) as usize
            } else {
                (next() % b.len() as u64) as usize
            };
            b[at] = next() as u8;
        }
        exercise(&single(b), LOADED_BASE);
    }
    // Truncated images.
    for len in [0usize, 2, 0x40, 0x90, 0x1a0, 0x400, 0x1100, 0x2010, 0x4010] {
        exercise(&single(good[..len.max(1)].to_vec()), LOADED_BASE);
    }
}
