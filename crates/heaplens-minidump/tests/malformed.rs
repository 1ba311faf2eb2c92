//! Damaged minidumps, made from the real fixture dumps without copying
//! them: each gives its typed error naming the stream and the offset where
//! the damage is (or, in an auxiliary stream, opens and lists the problem),
//! and random damage never panics.

use heaplens_bytes::{FileSource, ReadAt};
use heaplens_memory::{AddressSpace, MemoryError};
use heaplens_minidump::{stream_type, Minidump, MinidumpError, MAX_STREAMS, MAX_STREAM_BYTES};

use heaplens_corpus::patched::{random_damage, u32_at, u64_at, Patched, Rng};

/// The directory of the real dump: (entry offset, type, size, rva).
struct Layout {
    dir: u64,
    entries: Vec<(u64, u32, u32, u64)>,
}

impl Layout {
    fn of(s: &dyn ReadAt) -> Layout {
        let n = u64::from(u32_at(s, 8));
        let dir = u64::from(u32_at(s, 12));
        let entries = (0..n)
            .map(|i| {
                let e = dir + 12 * i;
                (
                    e,
                    u32_at(s, e),
                    u32_at(s, e + 4),
                    u64::from(u32_at(s, e + 8)),
                )
            })
            .collect();
        Layout { dir, entries }
    }

    /// (entry offset, size, rva) of the stream of type `t`.
    fn stream(&self, t: u32) -> (u64, u32, u64) {
        let &(e, _, size, rva) = self.entries.iter().find(|x| x.1 == t).unwrap();
        (e, size, rva)
    }
}

/// A phase-1 dump of the windows-net8 fixture, or `None` (skipped)
/// without the corpus.
fn real_dump(kind: &str) -> Option<FileSource> {
    let shared = heaplens_corpus::shared_or_skip("malformed minidumps")?;
    let zst = shared.join(format!("fixtures/windows-net8/phase1.{kind}.dmp.zst"));
    let path = heaplens_corpus::unpacked(&zst).unwrap();
    Some(FileSource::open(path).unwrap())
}

fn open(p: Patched<'_>) -> Result<Minidump<Patched<'_>>, MinidumpError> {
    Minidump::open(p)
}

#[test]
fn damaged_headers_and_directories() {
    let Some(file) = real_dump("heap") else {
        return;
    };
    let real: &dyn ReadAt = &file;
    let l = Layout::of(real);
    let file_len = real.len();
    assert!(open(Patched::new(real)).unwrap().problems().is_empty());

    // Not a minidump at all.
    let e = open(Patched::new(real).truncate(0)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::NotMinidump { ref magic } if magic.is_empty()),
        "{e}"
    );
    let e = open(Patched::new(real).set(0, b"MZ\x90\x00")).unwrap_err();
    assert!(matches!(e, MinidumpError::NotMinidump { ref magic } if magic == b"MZ\x90\x00"));
    assert!(e.to_string().contains("4d 44 4d 50"), "{e}");

    // Truncated inside the header.
    for len in [3, 4, 20, 31] {
        let e = open(Patched::new(real).truncate(len)).unwrap_err();
        assert!(
            matches!(e, MinidumpError::Truncated { ref what, offset: 0, len: 32, file_len } if what == "header" && file_len == len),
            "{len}: {e}"
        );
    }

    // Another format version.
    let e = open(Patched::new(real).set(4, &[0x94, 0xa7])).unwrap_err();
    assert!(
        matches!(e, MinidumpError::UnsupportedVersion { version: 0xa794 }),
        "{e}"
    );
    assert_eq!(e.offset(), 4);

    // The directory: too many entries, past the end, inside the header,
    // cut short.
    let e = open(Patched::new(real).set_u32(8, MAX_STREAMS + 1)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::TooLarge { offset, .. } if offset == l.dir),
        "{e}"
    );
    let e = open(Patched::new(real).set_u32(8, u32::MAX)).unwrap_err();
    assert!(matches!(e, MinidumpError::TooLarge { .. }), "{e}");
    let e = open(Patched::new(real).set_u32(12, (file_len - 20) as u32)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::Truncated { ref what, offset, .. } if what.contains("stream directory") && offset == file_len - 20),
        "{e}"
    );
    let e = open(Patched::new(real).set_u32(12, 8)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadHeader { offset: 12, .. }),
        "{e}"
    );
    let cut = l.dir + 12 * l.entries.len() as u64 - 5;
    let e = open(Patched::new(real).truncate(cut)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::Truncated { ref what, offset, file_len, .. } if what.contains("stream directory") && offset == l.dir && file_len == cut),
        "{e}"
    );
    // Cut right after the directory: the first stream read is missing.
    let e = open(Patched::new(real).truncate(cut + 5)).unwrap_err();
    let (_, _, sys_rva) = l.stream(stream_type::SYSTEM_INFO);
    assert!(
        matches!(e, MinidumpError::Truncated { ref what, offset, .. } if what.contains("SystemInfoStream") && offset == sys_rva),
        "{e}"
    );

    // A directory entry pointing past the end of the file, or too large.
    let (entry, _, rva) = l.stream(stream_type::MODULE_LIST);
    let e = open(Patched::new(real).set_u32(entry + 8, (file_len - 4) as u32)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::Truncated { ref what, offset, .. } if what.contains("ModuleListStream") && offset == file_len - 4),
        "{e}"
    );
    let e = open(Patched::new(real).set_u32(entry + 4, u32::MAX)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::TooLarge { ref what, offset, limit, .. } if what.contains("ModuleListStream") && offset == rva && limit == MAX_STREAM_BYTES),
        "{e}"
    );
    // Streams of unknown types are skipped, wherever they point.
    let (entry, _, _) = l.stream(stream_type::UNLOADED_MODULE_LIST);
    let d = open(
        Patched::new(real)
            .set_u32(entry, 0x7777)
            .set_u32(entry + 4, u32::MAX)
            .set_u32(entry + 8, u32::MAX),
    )
    .unwrap();
    assert!(d.problems().is_empty(), "{:?}", d.problems());
    assert_eq!(
        d.streams()[((entry - l.dir) / 12) as usize].name(),
        "unknown stream"
    );
}

#[test]
fn damaged_essential_streams() {
    let Some(file) = real_dump("heap") else {
        return;
    };
    let real: &dyn ReadAt = &file;
    let l = Layout::of(real);
    let file_len = real.len();

    // SystemInfoStream too short.
    let (entry, _, rva) = l.stream(stream_type::SYSTEM_INFO);
    let e = open(Patched::new(real).set_u32(entry + 4, 10)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadStream { stream: "SystemInfoStream", offset, .. } if offset == rva),
        "{e}"
    );

    // ModuleListStream: a count the stream cannot hold; a module's name
    // past the end of the file, too long, not UTF-16; an image that wraps.
    let (_, size, rva) = l.stream(stream_type::MODULE_LIST);
    let e = open(Patched::new(real).set_u32(rva, size)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadStream { stream: "ModuleListStream", offset, .. } if offset == rva),
        "{e}"
    );
    let module1 = rva + 4 + 108;
    let e = open(Patched::new(real).set_u32(module1 + 20, (file_len - 2) as u32)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::Truncated { ref what, offset, .. } if what.contains("name of module 1") && offset == file_len - 2),
        "{e}"
    );
    let name = u64::from(u32_at(real, module1 + 20));
    let e = open(Patched::new(real).set_u32(name, 1 << 30)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::TooLarge { ref what, offset, .. } if what.contains("name of module 1") && offset == name),
        "{e}"
    );
    // A lone surrogate.
    let e = open(Patched::new(real).set(name + 4, &[0x00, 0xd8])).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadStream { stream: "ModuleListStream", offset, .. } if offset == module1),
        "{e}"
    );
    let e = open(Patched::new(real).set_u64(module1, u64::MAX - 0x100)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadStream { stream: "ModuleListStream", offset, ref message } if offset == module1 && message.contains("wraps")),
        "{e}"
    );

    // ThreadListStream: a bad count, a stack that wraps.
    let (_, size, rva) = l.stream(stream_type::THREAD_LIST);
    let e = open(Patched::new(real).set_u32(rva, size / 48 + 1)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadStream { stream: "ThreadListStream", offset, .. } if offset == rva),
        "{e}"
    );
    let thread2 = rva + 4 + 2 * 48;
    let e = open(Patched::new(real).set_u64(thread2 + 24, u64::MAX - 8)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadMemoryRange { stream: "ThreadListStream", index: 2, offset, .. } if offset == thread2 + 24),
        "{e}"
    );
}

#[test]
fn damaged_auxiliary_streams_are_problems_not_errors() {
    let Some(file) = real_dump("heap") else {
        return;
    };
    let real: &dyn ReadAt = &file;
    let l = Layout::of(real);
    let file_len = real.len();
    let problems = |p: Patched<'_>| -> Vec<String> {
        let d = open(p).unwrap();
        d.problems().iter().map(|e| e.to_string()).collect()
    };

    // A thread's context past the end of the file: the thread has no
    // registers, the rest opens.
    let (_, _, rva) = l.stream(stream_type::THREAD_LIST);
    let thread1 = rva + 4 + 48;
    let d = open(Patched::new(real).set_u32(thread1 + 44, (file_len - 100) as u32)).unwrap();
    assert!(d.threads()[1].context.is_none() && d.threads()[0].context.is_some());
    assert!(
        matches!(
            d.problems(),
            [MinidumpError::Truncated { what, offset, .. }] if what.contains("context of thread") && *offset == file_len - 100
        ),
        "{:?}",
        d.problems()
    );
    // A context of another processor's size.
    let d = open(Patched::new(real).set_u32(thread1 + 40, 16)).unwrap();
    assert!(d.threads()[1].context.is_none());
    assert!(matches!(
        d.problems(),
        [MinidumpError::BadStream {
            stream: "ThreadListStream",
            ..
        }]
    ));

    // HandleDataStream with descriptors of an unknown size.
    let (_, _, rva) = l.stream(stream_type::HANDLE_DATA);
    let d = open(Patched::new(real).set_u32(rva + 4, 7)).unwrap();
    assert!(d.handles().is_empty());
    assert!(
        matches!(
            d.problems(),
            [MinidumpError::BadStream { stream: "HandleDataStream", offset, .. }] if *offset == rva + 4
        ),
        "{:?}",
        d.problems()
    );
    // A handle's name past the end of the file: that name is missing.
    let d = open(Patched::new(real).set_u32(rva + 16 + 12, (file_len - 1) as u32)).unwrap();
    assert!(d.handles()[0].object_name.is_none() && d.handles()[0].type_name.is_some());
    assert_eq!(d.problems().len(), 1, "{:?}", d.problems());

    // MemoryInfoListStream, ThreadInfoListStream, MiscInfoStream with bad
    // headers or sizes.
    for (t, at, v) in [
        (stream_type::MEMORY_INFO_LIST, 8u64, u32::MAX),
        (stream_type::THREAD_INFO_LIST, 4, 3),
    ] {
        let (_, _, rva) = l.stream(t);
        let p = problems(Patched::new(real).set_u32(rva + at, v));
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains(stream_type::name(t)), "{p:?}");
    }
    let (entry, _, _) = l.stream(stream_type::MISC_INFO);
    let d = open(Patched::new(real).set_u32(entry + 4, 3)).unwrap();
    assert_eq!(d.process().process_id, None);
    assert!(matches!(
        d.problems(),
        [MinidumpError::BadStream {
            stream: "MiscInfoStream",
            ..
        }]
    ));

    // UnloadedModuleListStream whose entries do not fit.
    let (_, _, rva) = l.stream(stream_type::UNLOADED_MODULE_LIST);
    let p = problems(Patched::new(real).set_u32(rva + 8, 1000));
    assert!(
        matches!(&p[..], [m] if m.contains("UnloadedModuleListStream")),
        "{p:?}"
    );
}

#[test]
fn damaged_memory64_list() {
    let Some(file) = real_dump("windump") else {
        return;
    };
    let real: &dyn ReadAt = &file;
    let l = Layout::of(real);
    let file_len = real.len();
    let intact = open(Patched::new(real)).unwrap();
    let (_, size, rva) = l.stream(stream_type::MEMORY64_LIST);
    let count = u64_at(real, rva);
    let base = u64_at(real, rva + 8);
    let desc = |k: u64| rva + 16 + 16 * k;
    assert_eq!(intact.coverage().memory64_ranges as u64, count);

    // A count the stream cannot hold.
    let e = open(Patched::new(real).set_u64(rva, count + 1)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadStream { stream: "Memory64ListStream", offset, .. } if offset == rva),
        "{e}"
    );
    let e = open(Patched::new(real).set_u64(rva, u64::MAX)).unwrap_err();
    assert!(matches!(e, MinidumpError::TooLarge { .. }), "{e}");
    assert!(size >= 16);
    // A range that wraps around the address space.
    let e = open(Patched::new(real).set_u64(desc(3), u64::MAX - 0x10)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadMemoryRange { stream: "Memory64ListStream", index: 3, offset, .. } if offset == desc(3)),
        "{e}"
    );
    // Data offsets that wrap.
    let e = open(Patched::new(real).set_u64(rva + 8, u64::MAX - 0x10)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadMemoryRange { stream: "Memory64ListStream", index: 0, ref message, .. } if message.contains("file offset")),
        "{e}"
    );
    // Two ranges that overlap.
    let start0 = u64_at(real, desc(0));
    let e = open(Patched::new(real).set_u64(desc(5), start0)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadMemoryRange { stream: "Memory64ListStream", offset, ref message, .. } if (offset == desc(5) || offset == desc(0)) && message.contains("overlaps")),
        "{e}"
    );
    // The list's header past the end of the file.
    let e = open(Patched::new(real).set_u32(
        l.stream(stream_type::MEMORY64_LIST).0 + 8,
        (file_len - 8) as u32,
    ))
    .unwrap_err();
    assert!(
        matches!(e, MinidumpError::Truncated { ref what, offset, .. } if what.contains("Memory64ListStream") && offset == file_len - 8),
        "{e}"
    );

    // Data past the end of the file (a truncated dump): it opens, and the
    // missing memory reads as truncated, naming its file offset.
    let cut = base + 0x3000;
    let d = open(Patched::new(real).truncate(cut)).unwrap();
    assert!(d.coverage().missing_bytes > 0);
    assert_eq!(
        d.coverage().missing_bytes,
        intact.coverage().bytes - (cut - base)
    );
    let first = d.memory().regions()[0];
    // The first range's data starts at `base`; find the address of `cut`.
    let at = (0..d.memory().regions().len())
        .map(|i| d.memory().regions()[i])
        .find(|r| {
            d.memory()
                .file_offset(r.start)
                .is_some_and(|o| o <= cut && cut < o + r.data_size)
        })
        .map(|r| r.start + (cut - d.memory().file_offset(r.start).unwrap()))
        .unwrap();
    d.memory().read_u64(at - 8).unwrap();
    let e = d.memory().read_u64(at).unwrap_err();
    assert!(
        matches!(e, MemoryError::Truncated { addr, offset, file_len } if addr == at && offset == cut && file_len == cut),
        "{e}"
    );
    d.memory().read_u64(first.start).unwrap();
}

#[test]
fn damaged_memory_list() {
    let Some(file) = real_dump("heap") else {
        return;
    };
    let real: &dyn ReadAt = &file;
    let l = Layout::of(real);
    let (_, _, rva) = l.stream(stream_type::MEMORY_LIST);
    let count = u64::from(u32_at(real, rva));
    let desc = |k: u64| rva + 4 + 16 * k;
    let e = open(Patched::new(real).set_u32(rva, u32::MAX)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::TooLarge { ref what, offset, .. } if what.contains("MemoryListStream") && offset == rva),
        "{e}"
    );
    // More descriptors than the stream holds (this writer counts the
    // ranges' data in the stream's size too).
    let e = open(Patched::new(real).set_u32(rva, 4_000_000)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadStream { stream: "MemoryListStream", offset, .. } if offset == rva),
        "{e}"
    );
    let e = open(Patched::new(real).set_u64(desc(count - 1), u64::MAX - 4)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadMemoryRange { stream: "MemoryListStream", index, offset, .. } if index as u64 == count - 1 && offset == desc(count - 1)),
        "{e}"
    );
    let s1 = u64_at(real, desc(1));
    let e = open(Patched::new(real).set_u64(desc(2), s1 + 8)).unwrap_err();
    assert!(
        matches!(e, MinidumpError::BadMemoryRange { stream: "MemoryListStream", ref message, .. } if message.contains("overlaps")),
        "{e}"
    );
    // A range whose data lies past the end of the file: it opens, reading
    // it fails as truncated.
    let d = open(Patched::new(real).set_u32(desc(1) + 12, u32::MAX - 0x10)).unwrap();
    assert!(d.coverage().missing_bytes > 0);
    assert!(matches!(
        d.memory().read_u64(s1),
        Err(MemoryError::Truncated { .. })
    ));
}

#[test]
fn random_damage_never_panics() {
    for kind in ["heap", "windump"] {
        let Some(file) = real_dump(kind) else { return };
        let real: &dyn ReadAt = &file;
        let l = Layout::of(real);
        // Where damage matters: the header, the directory, and the first
        // bytes of every stream (the memory lists' descriptors, not their
        // data).
        let mut spans: Vec<(u64, u64)> = vec![(0, l.dir + 12 * l.entries.len() as u64)];
        for &(_, t, size, rva) in &l.entries {
            if t != 0 && size > 0 {
                spans.push((rva, rva + u64::from(size).min(0x4000)));
            }
        }
        let (opened, failed) = random_damage(
            real,
            &mut Rng(0x5eed_0d0d_d00d_0001),
            600,
            6,
            |rng| rng.in_spans(&spans),
            |p| match Minidump::open(p) {
                Err(e) => {
                    assert!(!e.to_string().is_empty());
                    false
                }
                Ok(d) => {
                    for t in d.threads() {
                        if let Some(sp) = t.stack_pointer() {
                            let _ = d.memory().read_u64(sp);
                        }
                    }
                    for m in d.modules() {
                        let _ = d.memory().read_u16(m.base);
                    }
                    for p in d.problems() {
                        assert!(!p.to_string().is_empty());
                    }
                    true
                }
            },
        );
        assert!(
            opened > 50 && failed > 10,
            "{kind}: {opened} opened, {failed} failed"
        );
    }
}
