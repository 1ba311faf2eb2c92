//! Damaged cores, made from a real one without copying it: each gives its
//! typed error naming where the damage is, and random damage never panics.

use heaplens_bytes::{FileSource, ReadAt};
use heaplens_elfcore::{ElfCore, ElfCoreError, MAX_NOTE_BYTES};
use heaplens_memory::{AddressSpace, MemoryError};

use heaplens_corpus::patched::{random_damage, u16_at, u32_at, u64_at, Patched, Rng};

/// The layout of the real core the damage is done to.
struct Layout {
    phoff: u64,
    phnum: u64,
    /// File offset and size of the (single) note segment.
    notes: (u64, u64),
    /// (program header index, p_vaddr, p_offset, p_filesz) of each PT_LOAD.
    loads: Vec<(u64, u64, u64, u64)>,
    /// File offsets of the notes, with their type and descsz.
    note_list: Vec<(u64, u32, u32)>,
}

fn layout(s: &dyn ReadAt) -> Layout {
    let phoff = u64_at(s, 32);
    let phnum = u64::from(u16_at(s, 56));
    let mut notes = (0, 0);
    let mut loads = Vec::new();
    for i in 0..phnum {
        let p = phoff + i * 56;
        match u32_at(s, p) {
            1 => loads.push((i, u64_at(s, p + 16), u64_at(s, p + 8), u64_at(s, p + 32))),
            4 => notes = (u64_at(s, p + 8), u64_at(s, p + 32)),
            _ => {}
        }
    }
    let mut note_list = Vec::new();
    let mut at = notes.0;
    while at < notes.0 + notes.1 {
        let (namesz, descsz, ty) = (u32_at(s, at), u32_at(s, at + 4), u32_at(s, at + 8));
        note_list.push((at, ty, descsz));
        at += 12 + u64::from(namesz).div_ceil(4) * 4 + u64::from(descsz).div_ceil(4) * 4;
    }
    Layout {
        phoff,
        phnum,
        notes,
        loads,
        note_list,
    }
}

/// The net8 phase-1 core, or `None` (skipped) without the corpus.
fn real_core() -> Option<FileSource> {
    let shared = heaplens_corpus::shared_or_skip("malformed ELF cores")?;
    let zst = shared.join("fixtures/linux-net8/phase1.withheap.core.zst");
    let path = heaplens_corpus::unpacked(&zst).unwrap();
    Some(FileSource::open(path).unwrap())
}

fn open(p: Patched<'_>) -> Result<ElfCore<Patched<'_>>, ElfCoreError> {
    ElfCore::open(p)
}

#[test]
fn damaged_cores_give_typed_errors_that_say_where() {
    let Some(file) = real_core() else { return };
    let real: &dyn ReadAt = &file;
    let l = layout(real);
    assert_eq!(l.phoff, 64);
    assert!(l.loads.len() > 100 && l.note_list.len() > 10);
    let file_len = real.len();
    let ph = |i: u64| l.phoff + i * 56;
    let (note_off, note_len) = l.notes;
    let table_end = l.phoff + l.phnum * 56;

    // The undamaged core opens.
    assert!(open(Patched::new(real)).is_ok());

    // 1. Empty file, and a file that is not ELF.
    let e = open(Patched::new(real).truncate(0)).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::NotElf { ref magic } if magic.is_empty()),
        "{e}"
    );
    let e = open(Patched::new(real).set(0, b"MZ\x90\x00")).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::NotElf { ref magic } if magic == b"MZ\x90\x00"),
        "{e}"
    );

    // 2. Truncated inside the ELF header.
    for len in [3, 20, 63] {
        let e = open(Patched::new(real).truncate(len)).unwrap_err();
        assert!(
            matches!(
                e,
                ElfCoreError::Truncated { what: "ELF header", offset: 0, len: 64, file_len } if file_len == len
            ),
            "{len}: {e}"
        );
    }

    // 3. Wrong class, byte order, type, machine, program header size.
    let e = open(Patched::new(real).set(4, &[1])).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::Unsupported { offset: 4, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("32-bit"), "{e}");
    let e = open(Patched::new(real).set(4, &[9])).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadHeader { offset: 4, .. }),
        "{e}"
    );
    let e = open(Patched::new(real).set(5, &[2])).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::Unsupported { offset: 5, .. }),
        "{e}"
    );
    let e = open(Patched::new(real).set(16, &3u16.to_le_bytes())).unwrap_err();
    assert!(matches!(e, ElfCoreError::NotCore { e_type: 3 }), "{e}");
    let e = open(Patched::new(real).set(18, &3u16.to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::Unsupported { offset: 18, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("machine 3"), "{e}");
    let e = open(Patched::new(real).set(54, &32u16.to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadHeader { offset: 54, .. }),
        "{e}"
    );

    // 4. Bad e_phnum: none; too many for the file; PN_XNUM without a
    // section header; PN_XNUM with a section header claiming 2^31 entries
    // (refused before anything is allocated).
    let e = open(Patched::new(real).set(56, &0u16.to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadHeader { offset: 56, .. }),
        "{e}"
    );
    let small = Patched::new(real)
        .truncate(table_end + 100)
        .set(56, &0xfffeu16.to_le_bytes());
    let e = open(small).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::Truncated { what: "program header table", offset: 64, len, .. } if len == 0xfffe * 56),
        "{e}"
    );
    let e = open(Patched::new(real).set(56, &0xffffu16.to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadHeader { offset: 56, .. }),
        "{e}"
    );
    let shoff = file_len - 64;
    let mut shdr = [0u8; 64];
    shdr[44..48].copy_from_slice(&0x8000_0000u32.to_le_bytes());
    let e = open(
        Patched::new(real)
            .set(56, &0xffffu16.to_le_bytes())
            .set(40, &shoff.to_le_bytes())
            .set(58, &64u16.to_le_bytes())
            .set(shoff, &shdr),
    )
    .unwrap_err();
    assert!(
        matches!(e, ElfCoreError::Truncated { what: "program header table", len, .. } if len == 0x8000_0000 * 56),
        "{e}"
    );

    // 5. Truncated inside the program header table.
    let cut = ph(10) + 5;
    let e = open(Patched::new(real).truncate(cut)).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::Truncated { what: "program header table", offset: 64, file_len, .. } if file_len == cut),
        "{e}"
    );

    // 6. Truncated inside the note segment.
    let cut = note_off + note_len / 2;
    let e = open(Patched::new(real).truncate(cut)).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::Truncated { what: "note segment", offset, len, .. } if offset == note_off && len == note_len),
        "{e}"
    );

    // 7. Notes with a huge namesz or descsz, and a note header cut short.
    let (first_note, _, _) = l.note_list[0];
    let e = open(Patched::new(real).set(first_note, &0xffff_fff0u32.to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadNote { offset, ref message } if offset == first_note && message.contains("namesz")),
        "{e}"
    );
    let (third, _, _) = l.note_list[2];
    let e = open(Patched::new(real).set(third + 4, &0x7fff_ffffu32.to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadNote { offset, ref message } if offset == third && message.contains("descsz")),
        "{e}"
    );
    let ph_note = l
        .loads
        .first()
        .map(|_| (0..l.phnum).find(|&i| u32_at(real, ph(i)) == 4).unwrap())
        .unwrap();
    let e =
        open(Patched::new(real).set(ph(ph_note) + 32, &(note_len + 6).to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadNote { offset, ref message } if offset == note_off + note_len && message.contains("12 bytes")),
        "{e}"
    );

    // 8. Notes larger than the reader takes (a file made long with zeros).
    let e = open(
        Patched::new(real)
            .truncate(MAX_NOTE_BYTES * 2)
            .set(ph(ph_note) + 32, &(MAX_NOTE_BYTES + 1).to_le_bytes()),
    )
    .unwrap_err();
    assert!(
        matches!(e, ElfCoreError::NotesTooLarge { offset, limit: MAX_NOTE_BYTES, .. } if offset == note_off),
        "{e}"
    );

    // 9. Note descriptors too short for their kind.
    let (prstatus, _, _) = *l.note_list.iter().find(|n| n.1 == 1).unwrap();
    let e = open(Patched::new(real).set(prstatus + 4, &16u32.to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadNote { offset, ref message } if offset == prstatus + 20 && message.contains("NT_PRSTATUS")),
        "{e}"
    );
    let (nt_file, _, _) = *l.note_list.iter().find(|n| n.1 == 0x4649_4c45).unwrap();
    let e = open(Patched::new(real).set(nt_file + 20, &u64::MAX.to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadNote { offset, ref message } if offset == nt_file + 20 && message.contains("NT_FILE")),
        "{e}"
    );

    // 10. PT_LOADs that wrap, overlap, claim more data than addresses, or
    // data whose file range wraps.
    let (i1, v1, _, _) = l.loads[0];
    let (i2, _, _, _) = l.loads[1];
    let e =
        open(Patched::new(real).set(ph(i1) + 16, &(u64::MAX - 0x100).to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadSegment { index, offset, ref message } if index == i1 as usize && offset == ph(i1) && message.contains("wraps")),
        "{e}"
    );
    let e = open(Patched::new(real).set(ph(i2) + 16, &v1.to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadSegment { index, ref message, .. } if (index == i1 as usize || index == i2 as usize) && message.contains("overlaps")),
        "{e}"
    );
    let e = open(Patched::new(real).set(ph(i1) + 32, &u64::MAX.to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadSegment { index, .. } if index == i1 as usize),
        "{e}"
    );
    let e = open(Patched::new(real).set(ph(i1) + 8, &(u64::MAX - 10).to_le_bytes())).unwrap_err();
    assert!(
        matches!(e, ElfCoreError::BadSegment { index, ref message, .. } if index == i1 as usize && message.contains("file offset")),
        "{e}"
    );
}

#[test]
fn truncated_segment_data_reads_as_truncated() {
    let Some(file) = real_core() else { return };
    let real: &dyn ReadAt = &file;
    let l = layout(real);
    // Cut the file in the middle of the last segment with two pages or more.
    let &(_, vaddr, offset, _) = l
        .loads
        .iter()
        .filter(|x| x.3 >= 0x2000)
        .max_by_key(|x| x.2)
        .unwrap();
    let cut = offset + 0x1000;
    let missing: u64 = l
        .loads
        .iter()
        .map(|&(_, _, off, size)| (off + size).saturating_sub(off.max(cut)))
        .sum();
    let core = ElfCore::open(Patched::new(real).truncate(cut)).unwrap();
    assert_eq!(core.coverage().missing_bytes, missing);
    let mem = core.memory();
    assert_eq!(mem.file_offset(vaddr + 0x1000), Some(cut));
    mem.read_u64(vaddr + 0xff8).unwrap();
    let e = mem.read_u64(vaddr + 0xffc).unwrap_err();
    assert!(
        matches!(e, MemoryError::Truncated { addr, offset, file_len } if addr == vaddr + 0x1000 && offset == cut && file_len == cut),
        "{e}"
    );
    // Memory whose data lies before the cut is still there.
    let &(_, first, _, _) = l.loads.iter().min_by_key(|x| x.2).unwrap();
    core.memory().read_u64(first).unwrap();
}

#[test]
fn random_damage_never_panics() {
    let Some(file) = real_core() else { return };
    let real: &dyn ReadAt = &file;
    let l = layout(real);
    let intact = ElfCore::open(real).unwrap();
    // Where damage matters: the headers and notes, and the captured pages
    // of libcoreclr (its ELF header, dynamic section, hash table, symbols).
    let mut spans: Vec<(u64, u64)> = vec![(0, l.notes.0 + l.notes.1)];
    let coreclr = intact.find_module("libcoreclr.so").unwrap();
    for r in intact.memory().regions() {
        if r.start < coreclr.end && r.end() > coreclr.start && r.data_size > 0 {
            let off = intact.memory().file_offset(r.start).unwrap();
            spans.push((off, off + r.data_size.min(0x4000)));
        }
    }
    // Half the damage in the headers and notes, half in libcoreclr's pages.
    let headers = spans[0].1;
    let image_spans = spans.split_off(1);
    let pick = |rng: &mut Rng| {
        if rng.below(2) == 0 {
            rng.below(headers)
        } else {
            rng.in_spans(&image_spans)
        }
    };

    let iterations = 1500;
    let (opened, failed) = random_damage(
        real,
        &mut Rng(0x5eed_1e1f_c0de_0001),
        iterations,
        8,
        pick,
        |p| match ElfCore::open(p) {
            Err(e) => {
                // Every error names what is wrong.
                assert!(!e.to_string().is_empty());
                false
            }
            Ok(core) => {
                let _ = core.coverage();
                for t in core.threads() {
                    let _ = core.memory().read_u64(t.stack_pointer());
                }
                if let Some(m) = core.find_module("libcoreclr.so") {
                    if let Ok(image) = core.module_image(m) {
                        let _ = image.lookup_symbol("g_dacTable");
                        let _ = image.lookup_symbol("coreclr_initialize");
                        let _ = image.soname();
                        let _ = image.writable_segments().count();
                    }
                }
                true
            }
        },
    );
    eprintln!("{iterations} damaged cores: {opened} opened, {failed} refused");
    assert!(opened > 0 && failed > 0);
}
