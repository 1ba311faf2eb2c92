//! Small cores built here byte by byte: what the corpus does not have
//! (AArch64, SysV hash tables, image-relative dynamic entries, extended
//! program header numbering, broken hash chains). No corpus needed.

use heaplens_elfcore::{ElfCore, ElfCoreError, ElfImage, ImageError, Machine, Registers};
use heaplens_memory::{AddressSpace, MemoryError};

fn put16(b: &mut Vec<u8>, v: u16) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn put64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}
fn write_at(b: &mut [u8], at: usize, bytes: &[u8]) {
    b[at..at + bytes.len()].copy_from_slice(bytes);
}

/// An ELF64 header.
fn ehdr(e_type: u16, machine: u16, phnum: u16, shoff: u64, shnum: u16) -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\x00".to_vec();
    b.resize(16, 0);
    put16(&mut b, e_type);
    put16(&mut b, machine);
    put32(&mut b, 1);
    put64(&mut b, 0); // entry
    put64(&mut b, 64); // phoff
    put64(&mut b, shoff);
    put32(&mut b, 0);
    put16(&mut b, 64);
    put16(&mut b, 56);
    put16(&mut b, phnum);
    put16(&mut b, 64);
    put16(&mut b, shnum);
    put16(&mut b, 0);
    b
}

fn phdr(b: &mut Vec<u8>, ty: u32, flags: u32, off: u64, vaddr: u64, filesz: u64, memsz: u64) {
    put32(b, ty);
    put32(b, flags);
    put64(b, off);
    put64(b, vaddr);
    put64(b, 0);
    put64(b, filesz);
    put64(b, memsz);
    put64(b, 0x1000);
}

fn note(b: &mut Vec<u8>, ty: u32, desc: &[u8]) {
    put32(b, 5);
    put32(b, desc.len() as u32);
    put32(b, ty);
    b.extend_from_slice(b"CORE\0\0\0\0");
    b.extend_from_slice(desc);
    while !b.len().is_multiple_of(4) {
        b.push(0);
    }
}

fn gnu_hash(name: &[u8]) -> u32 {
    name.iter().fold(5381u32, |h, &c| {
        h.wrapping_mul(33).wrapping_add(u32::from(c))
    })
}

/// Which hash table the image gets, and whether its dynamic entries are
/// absolute (glibc relocates them in place) or image-relative (musl).
#[derive(Clone, Copy)]
struct ImageKind {
    gnu: bool,
    absolute: bool,
    /// Make the SysV chain loop on itself.
    looping_chain: bool,
}

const IMAGE_BASE: u64 = 0x7f00_0000_0000;
const STACK: u64 = 0x7ffc_0000_0000;

/// A 0x2000-byte shared object: header and tables in its first page (R),
/// dynamic section and data in its second (RW).
fn image(kind: ImageKind) -> Vec<u8> {
    let mut img = ehdr(3, 183, 3, 0, 0);
    phdr(&mut img, 1, 4, 0, 0, 0x1000, 0x1000);
    phdr(&mut img, 1, 6, 0x1000, 0x1000, 0x1000, 0x1800);
    phdr(&mut img, 2, 6, 0x1000, 0x1000, 0x100, 0x100);
    img.resize(0x2000, 0);
    let at = |v: u64| if kind.absolute { IMAGE_BASE + v } else { v };
    // Symbols: 0 null, 1 alpha (defined), 2 beta (undefined), 3 gamma.
    let strtab = b"\0libtest.so\0alpha\0beta\0gamma\0";
    write_at(&mut img, 0x300, strtab);
    let sym = |name: u32, shndx: u16, value: u64, size: u64| {
        let mut s = Vec::new();
        put32(&mut s, name);
        s.push(0x11);
        s.push(0);
        put16(&mut s, shndx);
        put64(&mut s, value);
        put64(&mut s, size);
        s
    };
    let mut symtab = vec![0u8; 24];
    symtab.extend(sym(12, 7, 0x1800, 8));
    symtab.extend(sym(18, 0, 0, 0));
    symtab.extend(sym(23, 7, 0x1810, 16));
    write_at(&mut img, 0x200, &symtab);
    let hash_at = 0x400;
    let mut hash = Vec::new();
    if kind.gnu {
        // One bucket, symbols 1..=3 in one chain; the Bloom word all ones.
        put32(&mut hash, 1);
        put32(&mut hash, 1);
        put32(&mut hash, 1);
        put32(&mut hash, 6);
        put64(&mut hash, u64::MAX);
        put32(&mut hash, 1);
        put32(&mut hash, gnu_hash(b"alpha") & !1);
        put32(&mut hash, gnu_hash(b"beta") & !1);
        put32(&mut hash, gnu_hash(b"gamma") | 1);
    } else {
        // nbucket 1, nchain 4: bucket -> 3 -> 2 -> 1 -> end.
        put32(&mut hash, 1);
        put32(&mut hash, 4);
        put32(&mut hash, 3);
        put32(&mut hash, 0);
        put32(&mut hash, if kind.looping_chain { 1 } else { 0 });
        put32(&mut hash, 1);
        put32(&mut hash, 2);
    }
    write_at(&mut img, hash_at, &hash);
    let mut dynamic = Vec::new();
    for (tag, val) in [
        (if kind.gnu { 0x6fff_fef5 } else { 4 }, at(hash_at as u64)),
        (6, at(0x200)),
        (5, at(0x300)),
        (10, strtab.len() as u64),
        (11, 24),
        (14, 1),
        (0, 0),
    ] {
        put64(&mut dynamic, tag);
        put64(&mut dynamic, val);
    }
    write_at(&mut img, 0x1000, &dynamic);
    write_at(&mut img, 0x1f00, b"xx@(#)Version 1.2.3 @Commit: abc\0");
    img
}

struct CoreSpec {
    machine: u16,
    image: ImageKind,
    /// Write e_phnum as PN_XNUM with the count in section header 0.
    xnum: bool,
}

/// A core: notes, the image at IMAGE_BASE, a stack of which only the top
/// page is captured.
fn core(spec: &CoreSpec) -> Vec<u8> {
    let mut notes = Vec::new();
    // NT_PRPSINFO (136 bytes).
    let mut ps = vec![0u8; 136];
    ps[1] = b'S';
    write_at(&mut ps, 24, &4242u32.to_le_bytes());
    write_at(&mut ps, 28, &1u32.to_le_bytes());
    write_at(&mut ps, 40, b"synthetic\0");
    write_at(&mut ps, 56, b"synthetic --flag\0");
    note(&mut notes, 3, &ps);
    // NT_PRSTATUS: 112 bytes of header, pr_reg, 8 bytes of trailer.
    let words = if spec.machine == 183 { 34 } else { 27 };
    let mut pr = vec![0u8; 112 + words * 8 + 8];
    write_at(&mut pr, 32, &4243u32.to_le_bytes());
    for w in 0..words {
        write_at(&mut pr, 112 + w * 8, &(0x1000 + w as u64).to_le_bytes());
    }
    let sp_word = if spec.machine == 183 { 31 } else { 19 };
    write_at(&mut pr, 112 + sp_word * 8, &(STACK + 0x2f00).to_le_bytes());
    note(&mut notes, 1, &pr);
    // NT_AUXV: AT_PAGESZ, AT_ENTRY in the image, AT_NULL.
    let mut auxv = Vec::new();
    for v in [6, 4096, 9, IMAGE_BASE + 0x100, 0, 0] {
        put64(&mut auxv, v);
    }
    note(&mut notes, 6, &auxv);
    // NT_FILE: the image's two mappings.
    let mut nf = Vec::new();
    for v in [2, 4096, IMAGE_BASE, IMAGE_BASE + 0x1000, 0] {
        put64(&mut nf, v);
    }
    for v in [IMAGE_BASE + 0x1000, IMAGE_BASE + 0x2000, 1] {
        put64(&mut nf, v);
    }
    nf.extend_from_slice(b"/lib/libtest.so\0/lib/libtest.so\0");
    note(&mut notes, 0x4649_4c45, &nf);

    let phnum = 4u16;
    let notes_at = 64 + 56 * u64::from(phnum);
    let data_at = (notes_at + notes.len() as u64).next_multiple_of(0x1000);
    let shoff = if spec.xnum { data_at + 0x3000 } else { 0 };
    let mut b = ehdr(
        4,
        spec.machine,
        if spec.xnum { 0xffff } else { phnum },
        shoff,
        u16::from(spec.xnum),
    );
    phdr(&mut b, 4, 0, notes_at, 0, notes.len() as u64, 0);
    phdr(&mut b, 1, 4, data_at, IMAGE_BASE, 0x1000, 0x1000);
    phdr(
        &mut b,
        1,
        6,
        data_at + 0x1000,
        IMAGE_BASE + 0x1000,
        0x1000,
        0x1000,
    );
    // The stack: three pages mapped, only the first one captured.
    phdr(
        &mut b,
        1,
        6,
        data_at + 0x2000,
        STACK + 0x2000,
        0x1000,
        0x3000,
    );
    b.extend_from_slice(&notes);
    b.resize(data_at as usize, 0);
    b.extend_from_slice(&image(spec.image));
    b.extend(std::iter::repeat_n(0xabu8, 0x1000));
    if spec.xnum {
        let mut sh = vec![0u8; 64];
        write_at(&mut sh, 44, &u32::from(phnum).to_le_bytes());
        b.extend_from_slice(&sh);
    }
    b
}

const GLIBC: ImageKind = ImageKind {
    gnu: true,
    absolute: true,
    looping_chain: false,
};

#[test]
fn an_aarch64_core_with_its_threads_process_and_files() {
    let bytes = core(&CoreSpec {
        machine: 183,
        image: GLIBC,
        xnum: false,
    });
    let core = ElfCore::open(&bytes[..]).unwrap();
    assert_eq!(core.machine(), Machine::Aarch64);
    let t = &core.threads()[0];
    assert_eq!(t.tid, 4243);
    assert_eq!(t.stack_pointer(), STACK + 0x2f00);
    let Registers::Aarch64(r) = &t.registers else {
        panic!("not AArch64")
    };
    assert_eq!(r.x[0], 0x1000);
    assert_eq!(r.x[30], 0x1000 + 30);
    assert_eq!(r.pc, 0x1000 + 32);
    assert_eq!(t.registers.frame_pointer(), 0x1000 + 29);
    let gprs = t.registers.general_purpose();
    assert_eq!(gprs.len(), 32);
    assert_eq!(gprs[31], ("sp", STACK + 0x2f00));

    let p = core.process();
    assert_eq!(p.pid(), Some(4242));
    assert_eq!(p.ppid(), Some(1));
    assert_eq!(p.name(), Some("synthetic"));
    assert_eq!(p.args(), Some("synthetic --flag"));
    assert_eq!(p.auxv_value(6), Some(4096));
    assert_eq!(core.executable().unwrap().path, "/lib/libtest.so");
    let m = core.find_module("libtest.so").unwrap();
    assert_eq!(m.base, Some(IMAGE_BASE));
    assert_eq!(m.mappings.len(), 2);
    assert_eq!(core.mapped_files().len(), 2);

    let cov = core.coverage();
    assert_eq!(cov.segments, 3);
    assert_eq!(cov.mapped_bytes, 0x5000);
    assert_eq!(cov.data_bytes, 0x3000);
    assert_eq!(cov.anonymous_mapped_bytes, 0x3000);
    assert_eq!(cov.anonymous_data_bytes, 0x1000);
    assert_eq!(cov.anonymous_writable_data_bytes, 0x1000);

    // The stack's captured page, and the pages the writer left out.
    assert_eq!(core.memory().read_u8(STACK + 0x2000).unwrap(), 0xab);
    assert!(matches!(
        core.memory().read_u8(STACK + 0x3000),
        Err(MemoryError::NotCaptured { .. })
    ));
    assert!(matches!(
        core.memory().read_u8(STACK),
        Err(MemoryError::Unmapped { .. })
    ));
}

#[test]
fn symbols_through_each_hash_table_and_dynamic_style() {
    for (gnu, absolute) in [(true, true), (true, false), (false, true), (false, false)] {
        let bytes = core(&CoreSpec {
            machine: 62,
            image: ImageKind {
                gnu,
                absolute,
                looping_chain: false,
            },
            xnum: false,
        });
        let what = format!("gnu {gnu}, absolute {absolute}");
        let core = ElfCore::open(&bytes[..]).unwrap();
        assert!(matches!(core.threads()[0].registers, Registers::X86_64(_)));
        let m = core.find_module("libtest.so").unwrap();
        let image = core.module_image(m).unwrap();
        assert_eq!(image.load_bias(), IMAGE_BASE);
        assert_eq!(image.e_type(), 3);
        assert_eq!(
            image.find_symbol("alpha"),
            Some(IMAGE_BASE + 0x1800),
            "{what}"
        );
        let g = image.lookup_symbol("gamma").unwrap().unwrap();
        assert_eq!((g.address, g.size), (IMAGE_BASE + 0x1810, 16), "{what}");
        // Undefined and absent symbols are not found.
        assert_eq!(image.find_symbol("beta"), None, "{what}");
        assert_eq!(image.lookup_symbol("delta").unwrap(), None, "{what}");
        assert_eq!(image.soname().as_deref(), Some("libtest.so"), "{what}");
        assert_eq!(core.find_symbol(m, "gamma"), Some(IMAGE_BASE + 0x1810));
        assert_eq!(
            core.find_exported_symbol("alpha")
                .map(|(m, a)| (m.file_name(), a)),
            Some(("libtest.so", IMAGE_BASE + 0x1800))
        );
        // The segments; .bss (memsz past filesz) runs into the unmapped.
        assert_eq!(image.segments().len(), 2);
        let w: Vec<_> = image.writable_segments().collect();
        assert_eq!(w.len(), 1);
        assert_eq!((w[0].start, w[0].size), (IMAGE_BASE + 0x1000, 0x1800));
        assert_eq!(
            image.version_string().as_deref(),
            Some("1.2.3 @Commit: abc")
        );
        assert_eq!(image.find_bytes(b"@(#)Version"), Some(IMAGE_BASE + 0x1f02));
        assert_eq!(image.find_bytes(b"not there"), None);
        assert_eq!(image.find_bytes(b""), None);
    }
}

#[test]
fn a_looping_hash_chain_is_an_error_not_a_hang() {
    let bytes = core(&CoreSpec {
        machine: 62,
        image: ImageKind {
            gnu: false,
            absolute: true,
            looping_chain: true,
        },
        xnum: false,
    });
    let core = ElfCore::open(&bytes[..]).unwrap();
    let image = ElfImage::at(core.memory(), IMAGE_BASE).unwrap();
    // "gamma" (3) and "beta" (2) are found before the loop.
    assert!(image.find_symbol("gamma").is_some());
    let e = image.lookup_symbol("delta").unwrap_err();
    assert!(matches!(e, ImageError::BadSymbolTable { .. }), "{e}");
}

#[test]
fn images_that_are_not_there() {
    let bytes = core(&CoreSpec {
        machine: 62,
        image: GLIBC,
        xnum: false,
    });
    let core = ElfCore::open(&bytes[..]).unwrap();
    let mem: &dyn AddressSpace = core.memory();
    assert!(matches!(
        ElfImage::at(mem, STACK + 0x2000),
        Err(ImageError::NotElf {
            magic: [0xab, 0xab, 0xab, 0xab],
            ..
        })
    ));
    assert!(matches!(
        ElfImage::at(mem, 0x1000),
        Err(ImageError::Memory { .. })
    ));
    // A header near the end of the address space does not wrap.
    assert!(ElfImage::at(mem, u64::MAX - 8).is_err());
}

#[test]
fn extended_program_header_numbering() {
    let bytes = core(&CoreSpec {
        machine: 62,
        image: GLIBC,
        xnum: true,
    });
    let core = ElfCore::open(&bytes[..]).unwrap();
    assert_eq!(core.coverage().segments, 3);
    assert_eq!(core.threads().len(), 1);
}

#[test]
fn other_machines_are_refused() {
    for (machine, name) in [(3u16, "386"), (40, "ARM"), (243, "RISC")] {
        let bytes = core(&CoreSpec {
            machine,
            image: GLIBC,
            xnum: false,
        });
        let e = ElfCore::open(&bytes[..]).unwrap_err();
        assert!(
            matches!(e, ElfCoreError::Unsupported { offset: 18, ref what } if what.contains(&format!("machine {machine}"))),
            "{name}: {e}"
        );
    }
}
