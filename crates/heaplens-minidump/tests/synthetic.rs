//! Small minidumps built here byte by byte (no corpus needed): every
//! stream the reader uses, both memory lists at once, a thread stack that
//! only the thread list holds.

use heaplens_memory::{AddressSpace, MemoryError};
use heaplens_minidump::{stream_type, KindBytes, Minidump, MinidumpError};

/// A minidump under construction: streams are appended after a directory
/// of a fixed number of entries.
struct Builder {
    file: Vec<u8>,
    entries: Vec<(u32, u32, u32)>,
}

const SLOTS: usize = 9;

impl Builder {
    fn new() -> Builder {
        let mut file = vec![0u8; 32 + 12 * SLOTS];
        file[..4].copy_from_slice(b"MDMP");
        file[4..8].copy_from_slice(&0xa793u32.to_le_bytes());
        file[12..16].copy_from_slice(&32u32.to_le_bytes());
        Builder {
            file,
            entries: Vec::new(),
        }
    }

    /// Appends `bytes` and returns their offset.
    fn blob(&mut self, bytes: &[u8]) -> u32 {
        let at = self.file.len() as u32;
        self.file.extend_from_slice(bytes);
        at
    }

    fn string(&mut self, s: &str) -> u32 {
        let units: Vec<u8> = s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
        let mut b = (units.len() as u32).to_le_bytes().to_vec();
        b.extend_from_slice(&units);
        self.blob(&b)
    }

    fn stream(&mut self, t: u32, bytes: &[u8]) -> u32 {
        let rva = self.blob(bytes);
        self.entries.push((t, bytes.len() as u32, rva));
        rva
    }

    fn finish(mut self) -> Vec<u8> {
        assert!(self.entries.len() <= SLOTS);
        self.file[8..12].copy_from_slice(&(self.entries.len() as u32).to_le_bytes());
        for (i, (t, size, rva)) in self.entries.iter().enumerate() {
            let e = 32 + 12 * i;
            self.file[e..e + 4].copy_from_slice(&t.to_le_bytes());
            self.file[e + 4..e + 8].copy_from_slice(&size.to_le_bytes());
            self.file[e + 8..e + 12].copy_from_slice(&rva.to_le_bytes());
        }
        self.file
    }
}

fn put(b: &mut Vec<u8>, v: u64, n: usize) {
    b.extend_from_slice(&v.to_le_bytes()[..n]);
}

/// A dump of an x64 process with one module, one thread (its stack only
/// in the thread list), memory in both lists (overlapping), a comment.
fn sample() -> Vec<u8> {
    sample_with(|_| {})
}

/// [`sample`], with the streams `extra` adds before the Memory64List.
fn sample_with(extra: impl FnOnce(&mut Builder)) -> Vec<u8> {
    let mut d = Builder::new();
    // SystemInfoStream: AMD64, Windows.
    let mut sys = Vec::new();
    put(&mut sys, 9, 2); // PROCESSOR_ARCHITECTURE_AMD64
    put(&mut sys, 6, 2);
    put(&mut sys, 0, 2);
    put(&mut sys, 4, 1);
    put(&mut sys, 1, 1);
    put(&mut sys, 10, 4);
    put(&mut sys, 0, 4);
    put(&mut sys, 19041, 4);
    put(&mut sys, 2, 4); // VER_PLATFORM_WIN32_NT
    put(&mut sys, 0, 4); // no CSD string
    sys.resize(56, 0);
    d.stream(stream_type::SYSTEM_INFO, &sys);

    // ModuleListStream: one module.
    let name = d.string("C:\\app\\coreclr.dll");
    let mut ml = Vec::new();
    put(&mut ml, 1, 4);
    put(&mut ml, 0x1_8000_0000, 8);
    put(&mut ml, 0x10000, 4);
    put(&mut ml, 0, 4);
    put(&mut ml, 0x1234_5678, 4);
    put(&mut ml, u64::from(name), 4);
    ml.resize(4 + 108, 0);
    d.stream(stream_type::MODULE_LIST, &ml);

    // ThreadListStream: one thread, its context and stack.
    let mut ctx = vec![0u8; 1232];
    ctx[0x30..0x34].copy_from_slice(&0x0010_001Fu32.to_le_bytes());
    ctx[0x98..0xA0].copy_from_slice(&0x7000_0F00u64.to_le_bytes()); // rsp
    ctx[0xF8..0x100].copy_from_slice(&0x1_8000_1000u64.to_le_bytes()); // rip
    ctx[0x78..0x80].copy_from_slice(&0xAAAAu64.to_le_bytes()); // rax
    let ctx_rva = d.blob(&ctx);
    let stack: Vec<u8> = (0..0x100u32).map(|i| i as u8).collect();
    let stack_rva = d.blob(&stack);
    let mut tl = Vec::new();
    put(&mut tl, 1, 4);
    put(&mut tl, 42, 4); // id
    put(&mut tl, 0, 4);
    put(&mut tl, 0, 4);
    put(&mut tl, 0, 4);
    put(&mut tl, 0x7FFD_0000, 8); // teb
    put(&mut tl, 0x7000_0F00, 8); // stack start
    put(&mut tl, 0x100, 4);
    put(&mut tl, u64::from(stack_rva), 4);
    put(&mut tl, 1232, 4);
    put(&mut tl, u64::from(ctx_rva), 4);
    d.stream(stream_type::THREAD_LIST, &tl);

    // MiscInfoStream v1: the process id.
    let mut misc = Vec::new();
    put(&mut misc, 24, 4);
    put(&mut misc, 1, 4); // MINIDUMP_MISC1_PROCESS_ID
    put(&mut misc, 4242, 4);
    misc.resize(24, 0);
    d.stream(stream_type::MISC_INFO, &misc);

    // Memory: 0x1000..0x3000 in the Memory64List; the MemoryList holds
    // 0x2000..0x4000 (its first half already there).
    let m64_data: Vec<u8> = vec![0x64; 0x2000];
    let list_data: Vec<u8> = vec![0x11; 0x2000];
    let list_rva = d.blob(&list_data);
    let mut ml = Vec::new();
    put(&mut ml, 1, 4);
    put(&mut ml, 0x2000, 8);
    put(&mut ml, 0x2000, 4);
    put(&mut ml, u64::from(list_rva), 4);
    d.stream(stream_type::MEMORY_LIST, &ml);

    let comment: Vec<u8> = "made by hand\0"
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    d.stream(stream_type::COMMENT_W, &comment);
    // An unknown stream.
    d.stream(0x4242, b"ignored");
    extra(&mut d);

    // Memory64List last, its data at the end of the file.
    let base = d.file.len() as u64 + 32;
    let mut m64 = Vec::new();
    put(&mut m64, 1, 8);
    put(&mut m64, base, 8);
    put(&mut m64, 0x1000, 8);
    put(&mut m64, 0x2000, 8);
    let at = d.stream(stream_type::MEMORY64_LIST, &m64);
    assert_eq!(u64::from(at) + 32, base);
    d.blob(&m64_data);
    d.finish()
}

#[test]
fn reads_every_part_of_a_small_dump() {
    let file = sample();
    let d = Minidump::open(&file).unwrap();
    assert!(d.problems().is_empty(), "{:?}", d.problems());
    assert_eq!(d.streams().len(), 8);
    assert_eq!(d.streams()[6].name(), "unknown stream");
    let sys = d.system_info().unwrap();
    assert_eq!((sys.cpu.as_str(), sys.pointer_size), ("amd64", 8));
    assert_eq!(sys.os_version, (10, 0, 19041));
    assert_eq!(d.process().process_id, Some(4242));
    assert_eq!(d.comments(), ["made by hand"]);

    let m = d.find_module("CORECLR.DLL").unwrap();
    assert_eq!(
        (m.base, m.size, m.time_date_stamp),
        (0x1_8000_0000, 0x10000, 0x1234_5678)
    );
    assert_eq!(m.file_name(), "coreclr.dll");
    assert_eq!(m.version, None);
    assert!(d.module_containing(0x1_8000_FFFF).is_some());
    assert!(d.module_containing(0x1_8001_0000).is_none());

    let t = &d.threads()[0];
    assert_eq!((t.id, t.teb), (42, 0x7FFD_0000));
    assert_eq!(t.stack, Some((0x7000_0F00, 0x7000_1000)));
    let regs = t.context.as_ref().unwrap();
    assert_eq!(regs.stack_pointer, 0x7000_0F00);
    assert_eq!(regs.instruction_pointer, 0x1_8000_1000);
    assert!(regs.general_purpose.contains(&("rax", 0xAAAA)));

    // Memory: the Memory64List range, the MemoryList's part beyond it, and
    // the stack (in neither list).
    let c = d.coverage();
    assert_eq!(
        (c.memory64_ranges, c.memory_list_ranges, c.stack_ranges),
        (1, 1, 1)
    );
    assert_eq!(c.bytes, 0x2000 + 0x1000 + 0x100);
    let mem = d.memory();
    assert_eq!(mem.read_u8(0x1000).unwrap(), 0x64);
    assert_eq!(mem.read_u8(0x2FFF).unwrap(), 0x64);
    assert_eq!(mem.read_u8(0x3000).unwrap(), 0x11);
    assert_eq!(mem.read_u8(0x3FFF).unwrap(), 0x11);
    assert!(matches!(
        mem.read_u8(0x4000),
        Err(MemoryError::Unmapped { .. })
    ));
    assert_eq!(mem.read_u8(0x7000_0F05).unwrap(), 5);
    let mut b = [0u8; 0x2800];
    mem.read_virtual(0x1800, &mut b).unwrap();
}

#[test]
fn memory_by_kind_from_the_memory_info_list() {
    // (base, size, state, protection, type)
    let regions: [(u64, u64, u32, u32, u32); 4] = [
        (0x1000, 0x1000, 0x1000, 0x20, 0x100_0000),    // image, RX
        (0x2000, 0x2000, 0x1000, 0x02, 0x2_0000),      // private, read-only
        (0x5000, 0x1000, 0x1000, 0x04, 0x4_0000),      // mapped, not captured
        (0x7000_0000, 0x1000, 0x1000, 0x04, 0x2_0000), // private RW: the stack
    ];
    let file = sample_with(|d| {
        let mut s = Vec::new();
        put(&mut s, 16, 4);
        put(&mut s, 48, 4);
        put(&mut s, regions.len() as u64, 8);
        for (base, size, state, protection, kind) in regions {
            put(&mut s, base, 8);
            put(&mut s, base, 8);
            put(&mut s, u64::from(protection), 4);
            put(&mut s, 0, 4);
            put(&mut s, size, 8);
            put(&mut s, u64::from(state), 4);
            put(&mut s, u64::from(protection), 4);
            put(&mut s, u64::from(kind), 4);
            put(&mut s, 0, 4);
        }
        d.stream(stream_type::MEMORY_INFO_LIST, &s);
    });
    let d = Minidump::open(&file).unwrap();
    assert!(d.problems().is_empty(), "{:?}", d.problems());
    let k = d.memory_kinds();
    let kb = |committed, captured| KindBytes {
        committed,
        captured,
    };
    assert_eq!(k.image, kb(0x1000, 0x1000));
    assert_eq!(k.private, kb(0x3000, 0x2100));
    assert_eq!(k.private_writable, kb(0x1000, 0x100));
    assert_eq!(k.mapped, kb(0x1000, 0));
    assert_eq!(k.unclassified_captured, 0);

    // Without the stream every captured byte is unclassified.
    let k = Minidump::open(&sample()).unwrap().memory_kinds();
    assert_eq!(k.unclassified_captured, 0x3100);
    assert_eq!(k.image, KindBytes::default());
}

#[test]
fn every_truncation_is_an_error_or_a_truncated_read() {
    let file = sample();
    let intact = Minidump::open(&file).unwrap();
    let data_start = file.len() - 0x2000;
    for len in 0..file.len() {
        let cut = &file[..len];
        match Minidump::open(cut) {
            Ok(d) => {
                // Only the Memory64List's data (the end of the file) may be
                // cut: what is missing reads as truncated.
                assert!(len >= data_start, "{len}");
                assert_eq!(d.coverage().missing_bytes, (file.len() - len) as u64);
                let at = 0x1000 + (len - data_start) as u64;
                if at < 0x3000 {
                    assert!(matches!(
                        d.memory().read_u8(at),
                        Err(MemoryError::Truncated { .. })
                    ));
                }
            }
            Err(e) => {
                assert!(len < data_start, "{len}: {e}");
                assert!(
                    matches!(
                        e,
                        MinidumpError::Truncated { .. } | MinidumpError::NotMinidump { .. }
                    ),
                    "{len}: {e}"
                );
            }
        }
    }
    assert_eq!(intact.coverage().missing_bytes, 0);
}
