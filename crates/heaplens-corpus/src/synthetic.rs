//! Small synthetic inputs built byte by byte.

use heaplens_memory::{MappedRange, MemoryMap, Protection, Region, Unbacked};

/// A little-endian x86-64 ELF core (`ET_CORE`) with one program header: a
/// read-write `PT_LOAD` of one page at `0x1000` whose file data is `data`
/// (the rest of the page is not in the file), and nothing else.
pub fn tiny_elf_core(data: &[u8]) -> Vec<u8> {
    let mut core = vec![0u8; 64 + 56];
    core[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
    let mut put = |at: usize, v: u64, n: usize| {
        core[at..at + n].copy_from_slice(&v.to_le_bytes()[..n]);
    };
    put(16, 4, 2); // e_type ET_CORE
    put(18, 62, 2); // e_machine EM_X86_64
    put(20, 1, 4); // e_version
    put(32, 64, 8); // e_phoff
    put(52, 64, 2); // e_ehsize
    put(54, 56, 2); // e_phentsize
    put(56, 1, 2); // e_phnum
    put(64, 1, 4); // p_type PT_LOAD
    put(68, 6, 4); // p_flags RW
    put(72, 120, 8); // p_offset
    put(80, 0x1000, 8); // p_vaddr
    put(96, data.len() as u64, 8); // p_filesz
    put(104, 0x1000, 8); // p_memsz
    core.extend_from_slice(data);
    core
}

/// One range of a synthetic process's memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticRange {
    /// First address.
    pub start: u64,
    /// Its bytes (all held by the "dump").
    pub bytes: Vec<u8>,
    /// Writable (the GC's data, stacks) or not (code, MethodTables).
    pub writable: bool,
}

/// An object placed on a [`SyntheticHeap`]: what an independent heap walk
/// must find.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticObject {
    /// Its address.
    pub address: u64,
    /// Its MethodTable.
    pub method_table: u64,
    /// Its size as SOS reports it.
    pub size: u64,
    /// True for free space (the Free MethodTable).
    pub free: bool,
}

/// A small .NET 8-shaped process, built byte by byte: a `libcoreclr.so`
/// module holding the GC's `GcDacVars` (found by the shape scan), five
/// regions (generations 0–2, the large and the pinned object heap) of
/// objects of seven MethodTables (plain, two references, `object[]`,
/// string, a struct array with a value-array GCDesc, finalizable, Free),
/// a handle table (strong and dependent handles), a finalization queue
/// and a thread whose stack and registers point into the heap.
///
/// Tests read it through the CLR reader and compare with
/// [`SyntheticHeap::objects`]; fuzz targets mutate its bytes
/// ([`SyntheticHeap::with_data`]) so that the heap walk is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntheticHeap {
    /// The memory, by address.
    pub ranges: Vec<SyntheticRange>,
    /// The runtime module (`libcoreclr.so`): `[start, end)`.
    pub runtime: (u64, u64),
    /// The one thread: stack pointer, end of its stack, registers.
    pub thread: (u64, u64, Vec<u64>),
    /// Every object placed, in address order (free space included).
    pub objects: Vec<SyntheticObject>,
    /// References between non-free objects, `(from, to)` by address, as
    /// written into their fields (handles' dependent edges not included).
    pub references: Vec<(u64, u64)>,
    /// The region records: `(record address, first object, end of the
    /// objects)` per region, generations 0–4 ([`SyntheticHeap::new`]), or
    /// the segment records, the small then the large object heap's
    /// ([`SyntheticHeap::new_x86`]).
    pub regions: Vec<(u64, u64, u64)>,
    /// The pointer size: 8, or 4 ([`SyntheticHeap::new_x86`]).
    pub pointer_size: u64,
    /// The runtime module's path.
    pub runtime_path: String,
    /// Each range's size in the undamaged process (a damaged range may
    /// hold fewer bytes: the rest is mapped, not held).
    pub sizes: Vec<u64>,
}

/// Addresses of the synthetic process (`SyntheticHeap`).
pub mod layout {
    /// The runtime module `libcoreclr.so` (GcDacVars at its start).
    pub const RUNTIME: u64 = 0x7f00_0000_0000;
    /// Its size.
    pub const RUNTIME_SIZE: u64 = 0x1000;
    /// The MethodTables (a loader heap).
    pub const MTS: u64 = 0x7d00_0000_0000;
    /// Bytes of MethodTables.
    pub const MTS_SIZE: u64 = 0x800;
    /// The GC's regions (one range, as the GC reserves them).
    pub const HEAP: u64 = 0x7e00_0000_0000;
    /// Bytes of each region.
    pub const REGION_SIZE: u64 = 0x400;
    /// The handle table's segment (64 KiB aligned).
    pub const HANDLES: u64 = 0x7c00_0000_0000;
    /// Bytes of it held (header and three blocks of handles).
    pub const HANDLES_SIZE: u64 = 0x1000 + 3 * 512;
    /// The thread's stack.
    pub const STACK: u64 = 0x7b00_0000_0000;
    /// Its size.
    pub const STACK_SIZE: u64 = 0x100;
}

struct Bytes(Vec<u8>);

impl Bytes {
    fn u64(&mut self, at: u64, v: u64) {
        self.0[at as usize..at as usize + 8].copy_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, at: u64, v: u32) {
        self.0[at as usize..at as usize + 4].copy_from_slice(&v.to_le_bytes());
    }
    fn u16(&mut self, at: u64, v: u16) {
        self.0[at as usize..at as usize + 2].copy_from_slice(&v.to_le_bytes());
    }
}

impl SyntheticHeap {
    /// The heap described above.
    pub fn new() -> SyntheticHeap {
        use layout::*;
        // --- MethodTables: flags, base size, parent at +0x10; GCDesc
        // series below each.
        let mut mts = Bytes(vec![0; MTS_SIZE as usize]);
        let mt_at = |i: u64| MTS + 0x100 * i + 0x80;
        let object_mt = mt_at(0);
        let (free, plain, node, array, string, structs, finalizable) = (
            mt_at(6),
            mt_at(0),
            mt_at(1),
            mt_at(2),
            mt_at(3),
            mt_at(4),
            mt_at(5),
        );
        let mut mt = |at: u64, flags: u32, base: u32, parent: u64| {
            let o = at - MTS;
            mts.u32(o, flags);
            mts.u32(o + 4, base);
            mts.u64(o + 0x10, parent);
        };
        const COMPONENTS: u32 = 0x8000_0000;
        const POINTERS: u32 = 0x0100_0000;
        const FINALIZER: u32 = 0x0010_0000;
        const SZARRAY: u32 = 0x0008_0000 | 0x0002_0000;
        mt(plain, 0, 0x18, 0);
        mt(node, POINTERS, 0x28, object_mt);
        mt(array, COMPONENTS | SZARRAY | POINTERS | 8, 0x18, object_mt);
        mt(string, COMPONENTS | 2, 0x16, object_mt);
        mt(
            structs,
            COMPONENTS | SZARRAY | POINTERS | 16,
            0x18,
            object_mt,
        );
        mt(finalizable, FINALIZER, 0x18, object_mt);
        mt(free, COMPONENTS | 1, 0x18, 0);
        // node: one series of two references at +8: (size − base, start).
        mts.u64(node - MTS - 8, 1);
        mts.u64(node - MTS - 24, (16i64 - 0x28) as u64);
        mts.u64(node - MTS - 16, 8);
        // object[]: the elements, from +0x10.
        mts.u64(array - MTS - 8, 1);
        mts.u64(array - MTS - 24, (-0x18i64) as u64);
        mts.u64(array - MTS - 16, 0x10);
        // struct { object o; long n; }[]: a value-array GCDesc, one item
        // (1 pointer, skip 8) from +0x10.
        mts.u64(structs - MTS - 8, (-1i64) as u64);
        mts.u64(structs - MTS - 16, 0x10);
        mts.u32(structs - MTS - 24, 1);
        mts.u32(structs - MTS - 20, 8);

        // --- The regions' objects.
        let region = |g: u64| HEAP + g * 0x1_0000;
        let mut heap: Vec<Bytes> = (0..5)
            .map(|_| Bytes(vec![0; REGION_SIZE as usize]))
            .collect();
        let mut objects = Vec::new();
        let mut references = Vec::new();
        let mut ends = [0u64; 5];
        {
            let mut put = |g: usize, at: u64, mt: u64, size: u64, fields: &[(u64, u64)]| {
                let base = region(g as u64);
                let b = &mut heap[g];
                b.u64(at - base, mt);
                for &(off, v) in fields {
                    b.u64(at - base + off, v);
                }
                objects.push(SyntheticObject {
                    address: at,
                    method_table: mt,
                    size,
                    free: mt == free,
                });
                ends[g] = ends[g].max(at + ((size.max(24) + 7) & !7));
            };
            let g0 = region(0) + 0x10;
            let g2 = region(2) + 0x10;
            let loh = region(3) + 0x10;
            let poh = region(4) + 0x10;
            // Generation 0: node → (node, array); array → (string, plain,
            // a gen-2 object); free space; a zero gap; struct array.
            let n1 = g0;
            let n2 = g0 + 0x28;
            let arr = g0 + 0x50;
            let s = g0 + 0x50 + 0x30;
            let p = s + 0x20;
            let f = p + 0x18;
            let st = f + 0x30 + 0x40;
            put(0, n1, node, 0x28, &[(8, n2), (16, arr)]);
            put(0, n2, node, 0x28, &[(8, g2), (16, 0)]);
            put(
                0,
                arr,
                array,
                0x18 + 3 * 8,
                &[(8, 3), (0x10, s), (0x18, p), (0x20, g2 + 0x18)],
            );
            put(0, s, string, 0x16 + 2 * 4, &[(8, 4), (12, 0x0069_0068)]);
            put(0, p, plain, 0x18, &[]);
            put(0, f, free, 0x18 + 0x18, &[(8, 0x18)]);
            put(
                0,
                st,
                structs,
                0x18 + 2 * 16,
                &[(8, 2), (0x10, n1), (0x20, p)],
            );
            references.extend([
                (n1, n2),
                (n1, arr),
                (n2, g2),
                (arr, s),
                (arr, p),
                (arr, g2 + 0x18),
                (st, n1),
                (st, p),
            ]);
            // Generation 2: a finalizable object, a node pointing back.
            put(2, g2, finalizable, 0x18, &[]);
            put(2, g2 + 0x18, node, 0x28, &[(8, n1), (16, g2)]);
            references.extend([(g2 + 0x18, n1), (g2 + 0x18, g2)]);
            // The large object heap: an object[] of 64 elements.
            let big = 0x18 + 64 * 8;
            let mut fields = vec![(8, 64)];
            for i in 0..64 {
                let target = if i % 2 == 0 { n1 } else { 0 };
                fields.push((0x10 + 8 * i, target));
            }
            put(3, loh, array, big, &fields);
            for _ in 0..32 {
                references.push((loh, n1));
            }
            // The pinned object heap: a string.
            put(4, poh, string, 0x16 + 2 * 8, &[(8, 8)]);
        }
        objects.sort_by_key(|o| o.address);

        // --- The runtime's data: GcDacVars (V5) at the module's start.
        let mut rt = Bytes(vec![0; RUNTIME_SIZE as usize]);
        let r = |o: u64| RUNTIME + o;
        rt.0[0] = 2; // major
        rt.0[1] = 3; // minor
        rt.u64(8, 0x40); // sizeof(generation)
        rt.u64(0x10, 5); // total_generation_count
        let generation_table = r(0x300);
        rt.u64(0x30, generation_table);
        rt.u64(0x38, r(0x200)); // &max_gen
        rt.u32(0x200, 2);
        rt.u64(0x50, r(0x208)); // &ephemeral_heap_segment
        rt.u64(0x78, r(0x210)); // &alloc_allocated
        rt.u64(0x90, r(0x218)); // &finalize_queue
        rt.u64(0xC0, r(0x220)); // &gc_structures_invalid_cnt (0)
        rt.u64(0xE8, r(0xB00)); // g_HandleTableMap
                                // Region records at 0x800 (7 words each): allocated, committed,
                                // reserved, _, mem, flags, next; generation g's start_segment at
                                // +0x38 of its entry.
        let mut regions = Vec::new();
        for g in 0..5u64 {
            let rec = r(0x800 + 0x40 * g);
            let mem = region(g) + 0x10;
            let end = ends[g as usize].max(mem + 8);
            let o = rec - RUNTIME;
            rt.u64(o, end);
            rt.u64(o + 8, region(g) + REGION_SIZE);
            rt.u64(o + 0x10, region(g) + REGION_SIZE);
            rt.u64(o + 0x20, mem);
            rt.u64(o + 0x28, [0, 0, 0, 8, 512][g as usize]);
            rt.u64(o + 0x30, 0);
            rt.u64(generation_table - RUNTIME + 0x40 * g + 0x38, rec);
            regions.push((rec, mem, end));
        }
        // Generation 1's region is empty (allocated == mem): not walked.
        let rec1 = regions[1].0 - RUNTIME;
        rt.u64(rec1, regions[1].1);
        regions[1].2 = regions[1].1;
        rt.u64(0x208, regions[0].0); // the ephemeral region
        rt.u64(0x210, regions[0].2); // alloc_allocated
                                     // CFinalize at 0xC00: m_FillPointers[7], m_Array, m_EndArray;
                                     // two entries at 0xD00 (the finalizable object, registered twice
                                     // over generations 0 and 2).
        let q = r(0xC00);
        rt.u64(0x218, q);
        let entries = r(0xD00);
        let fin = region(2) + 0x10;
        rt.u64(0xD00, fin);
        rt.u64(0xD08, fin);
        for i in 0..7u64 {
            rt.u64(0xC00 + 8 * i, entries + 8 * (i.min(2)));
        }
        rt.u64(0xC00 + 8 * 7, entries);
        rt.u64(0xC00 + 8 * 8, entries + 0x80);
        // g_HandleTableMap at 0xB00: buckets, next map; a bucket's tables;
        // the handle table at 0xA00, whose first word is its segment.
        rt.u64(0xB00, r(0xB10));
        rt.u64(0xB10, r(0xB70));
        rt.u64(0xB70, r(0xB80));
        rt.u64(0xB80, r(0xA00));
        rt.u64(0xA00, HANDLES);

        // --- The handle table segment: block 0 strong handles, block 1
        // dependent handles whose secondaries are in block 2.
        let mut hs = Bytes(vec![0; HANDLES_SIZE as usize]);
        for b in 0..120u64 {
            hs.0[0x618 + b as usize] = 0xFF; // rgBlockType: unused
            hs.0[0x690 + b as usize] = 0xFF; // rgUserData
            hs.0[0x1E0 + b as usize] = 0xFF; // rgAllocation
        }
        for w in 0..240u64 {
            hs.u32(0x258 + 4 * w, u32::MAX); // rgFreeMask: all free
        }
        hs.0[0x618] = 2; // strong
        hs.0[0x619] = 6; // dependent
        hs.0[0x691] = 2; // its user data: block 2
        hs.u32(0x258, !0b11); // handles 0, 1 in use
        hs.u32(0x258 + 8, !0b1); // handle 64 in use
        hs.u64(0x7D0, r(0xA00)); // pHandleTable
        hs.u64(0x7C8, 0); // pNextSegment
        hs.u64(0x1000, region(0) + 0x10); // strong: n1
        hs.u64(0x1008, region(4) + 0x10); // strong: the pinned string
        hs.u64(0x1200, region(0) + 0x10); // dependent: n1 → plain
        hs.u64(0x1400, region(0) + 0x10 + 0x50 + 0x30 + 0x20);

        // --- The thread: a stack word pointing inside the struct array, a
        // register at the large array.
        let mut stack = Bytes(vec![0; STACK_SIZE as usize]);
        stack.u64(
            0x20,
            objects
                .iter()
                .find(|o| o.method_table == structs)
                .unwrap()
                .address
                + 8,
        );
        let thread = (STACK, STACK + STACK_SIZE, vec![region(3) + 0x10, 0, 0x1234]);

        let ranges: Vec<SyntheticRange> = vec![
            SyntheticRange {
                start: STACK,
                bytes: stack.0,
                writable: true,
            },
            SyntheticRange {
                start: HANDLES,
                bytes: hs.0,
                writable: true,
            },
            SyntheticRange {
                start: MTS,
                bytes: mts.0,
                writable: false,
            },
        ]
        .into_iter()
        .chain(heap.into_iter().enumerate().map(|(g, b)| SyntheticRange {
            start: region(g as u64),
            bytes: b.0,
            writable: true,
        }))
        .chain(std::iter::once(SyntheticRange {
            start: RUNTIME,
            bytes: rt.0,
            writable: true,
        }))
        .collect();
        let sizes = ranges.iter().map(|r| r.bytes.len() as u64).collect();
        SyntheticHeap {
            ranges,
            runtime: (RUNTIME, RUNTIME + RUNTIME_SIZE),
            thread,
            objects,
            references,
            regions,
            pointer_size: 8,
            runtime_path: "/usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/libcoreclr.so"
                .into(),
            sizes,
        }
    }

    /// Every range's bytes, one after another (a fuzz seed).
    pub fn data(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.ranges.iter().map(|r| r.bytes.len()).sum());
        for r in &self.ranges {
            out.extend_from_slice(&r.bytes);
        }
        out
    }

    /// The same process with its ranges' bytes taken in turn from `data`
    /// (as [`SyntheticHeap::data`] lays them out): a range `data` does not
    /// reach is shorter, or empty. The description of the objects stays
    /// that of the undamaged heap.
    pub fn with_data(&self, data: &[u8]) -> SyntheticHeap {
        let mut rest = data;
        let ranges = self
            .ranges
            .iter()
            .map(|r| {
                let n = r.bytes.len().min(rest.len());
                let bytes = rest[..n].to_vec();
                rest = &rest[n..];
                SyntheticRange {
                    start: r.start,
                    bytes,
                    writable: r.writable,
                }
            })
            .collect();
        SyntheticHeap {
            ranges,
            ..self.clone()
        }
    }

    /// The process as the CLR reader's target: `memory` (its
    /// [`SyntheticHeap::memory`]), the runtime module and the one thread,
    /// without symbols or module files.
    #[cfg(feature = "clr")]
    pub fn clr_target<'a>(
        &self,
        memory: &'a dyn heaplens_memory::AddressSpace,
    ) -> heaplens_clr::Target<'a> {
        heaplens_clr::Target {
            memory,
            shared_memory: None,
            modules: vec![heaplens_clr::TargetModule {
                path: self.runtime_path.clone(),
                start: self.runtime.0,
                end: self.runtime.1,
                header_addresses: vec![],
                ranges: vec![],
                version: None,
            }],
            threads: vec![heaplens_clr::TargetThread {
                id: 1,
                registers: self.thread.2.clone(),
                stack_pointer: self.thread.0,
                stack_end: Some(self.thread.1),
                thread_local: Vec::new(),
            }],
            symbols: &heaplens_clr::NoSymbols,
            module_files: None,
        }
    }

    /// The process's memory as an ELF core's reader presents it: each
    /// range mapped over its bytes, the part of a range its bytes do not
    /// reach mapped but not held (reading it fails, as in a core the dump
    /// writer left it out of).
    pub fn memory(&self) -> MemoryMap<Vec<u8>> {
        let mut file = Vec::new();
        let mut ranges = Vec::new();
        for (r, &size) in self.ranges.iter().zip(&self.sizes) {
            ranges.push(MappedRange {
                region: Region {
                    start: r.start,
                    size: size.max(r.bytes.len() as u64),
                    data_size: r.bytes.len() as u64,
                    protection: Some(Protection {
                        read: true,
                        write: r.writable,
                        execute: false,
                    }),
                },
                file_offset: file.len() as u64,
            });
            file.extend_from_slice(&r.bytes);
        }
        MemoryMap::new(file, self.pointer_size as usize, &ranges)
            .expect("the synthetic ranges are disjoint")
            .with_unbacked(Unbacked::Error)
    }

    /// The process as a Linux core (what `createdump` writes): an
    /// `NT_FILE` note naming `libcoreclr.so`, and one `PT_LOAD` per range
    /// holding its bytes (a range's `p_memsz` is its undamaged size: bytes
    /// past those held are mapped, not dumped). A 64-bit core: for the
    /// 64-bit heap ([`SyntheticHeap::new`]) only.
    pub fn elf_core(&self) -> Vec<u8> {
        assert_eq!(
            self.pointer_size, 8,
            "an x86-64 core holds a 64-bit process"
        );
        let path = b"/usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/libcoreclr.so\0";
        let mut desc = Vec::new();
        for v in [1, 0x1000, self.runtime.0, self.runtime.1, 0] {
            desc.extend_from_slice(&u64::to_le_bytes(v));
        }
        desc.extend_from_slice(path);
        while desc.len() % 4 != 0 {
            desc.push(0);
        }
        let mut note = Vec::new();
        note.extend_from_slice(&5u32.to_le_bytes());
        note.extend_from_slice(&(desc.len() as u32).to_le_bytes());
        note.extend_from_slice(&0x4649_4c45u32.to_le_bytes()); // NT_FILE
        note.extend_from_slice(b"CORE\0\0\0\0");
        note.extend_from_slice(&desc);
        let phnum = 1 + self.ranges.len();
        let mut at = 64 + 56 * phnum as u64;
        let mut core = vec![0u8; at as usize];
        core[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
        let put = |core: &mut Vec<u8>, at: usize, v: u64, n: usize| {
            core[at..at + n].copy_from_slice(&v.to_le_bytes()[..n]);
        };
        put(&mut core, 16, 4, 2); // ET_CORE
        put(&mut core, 18, 62, 2); // EM_X86_64
        put(&mut core, 20, 1, 4);
        put(&mut core, 32, 64, 8); // e_phoff
        put(&mut core, 52, 64, 2);
        put(&mut core, 54, 56, 2);
        put(&mut core, 56, phnum as u64, 2);
        let mut headers = vec![(4u32, 4u32, at, 0u64, note.len() as u64, note.len() as u64)];
        at += note.len() as u64;
        for (r, &size) in self.ranges.iter().zip(&self.sizes) {
            let flags = if r.writable { 6 } else { 4 };
            let memsz = size.max(r.bytes.len() as u64);
            headers.push((1, flags, at, r.start, r.bytes.len() as u64, memsz));
            at += r.bytes.len() as u64;
        }
        for (i, &(ty, flags, offset, vaddr, filesz, memsz)) in headers.iter().enumerate() {
            let p = 64 + 56 * i;
            put(&mut core, p, ty as u64, 4);
            put(&mut core, p + 4, flags as u64, 4);
            put(&mut core, p + 8, offset, 8);
            put(&mut core, p + 16, vaddr, 8);
            put(&mut core, p + 32, filesz, 8);
            put(&mut core, p + 40, memsz, 8);
            put(&mut core, p + 48, if ty == 1 { 0x1000 } else { 4 }, 8);
        }
        core.extend_from_slice(&note);
        for r in &self.ranges {
            core.extend_from_slice(&r.bytes);
        }
        core
    }

    /// Makes generation `g`'s region claim `extra` bytes of objects more
    /// than it has (its record's `allocated`, `committed` and `reserved`
    /// moved up; the dump still holds only its bytes).
    pub fn claim_more(&mut self, g: usize, extra: u64) {
        let (rec, _, end) = self.regions[g];
        let p = self.pointer_size;
        for field in [0, p, 2 * p] {
            self.set_word(rec + field, end + extra);
        }
        self.regions[g].2 = end + extra;
    }

    /// Values an edit of [`SyntheticHeap::damaged`] may write: the
    /// addresses of every structure and object, and sizes too large.
    fn interesting_words(&self) -> Vec<u64> {
        let mut words = vec![
            0,
            1,
            8,
            0x18,
            u64::MAX,
            u64::MAX - 7,
            1 << 31,
            1 << 32,
            1 << 36,
            1 << 62,
            0xFFFF_FFFF,
            0xFFFF_FFF8,
            0x7FFF_FFFF,
            0x8000_0000,
            0xC,
        ];
        for o in &self.objects {
            words.extend([o.address, o.method_table, o.address + 8, o.address + o.size]);
        }
        for &(rec, start, end) in &self.regions {
            words.extend([
                rec,
                start,
                end,
                end + (64 << 30),
                end.wrapping_add(1 << 30),
                start - 0x10,
                0x28,
            ]);
        }
        for r in &self.ranges {
            words.extend([r.start, r.start + r.bytes.len() as u64]);
        }
        words.sort_unstable();
        words.dedup();
        words
    }

    /// The process damaged by `edits`, a list of edits of its bytes (as
    /// [`SyntheticHeap::data`] lays them out), each an operation byte, a
    /// 16-bit little-endian position and the operation's bytes: set a
    /// byte, 4 or 8 bytes; set an aligned word to an address that matters
    /// (an object's, a MethodTable's, a region's end + 64 GiB…); zero a
    /// run; cut the memory short there; add a small signed delta to a
    /// word; copy a word from elsewhere. At most 64 edits; a short list is
    /// fine. What the fuzz target `clr_heap` reads, and its regression
    /// inputs replay.
    pub fn damaged(&self, edits: &[u8]) -> SyntheticHeap {
        self.damager().damaged(edits)
    }

    /// What [`SyntheticHeap::damaged`] needs, computed once (a fuzz target
    /// damages the same heap millions of times).
    pub fn damager(&self) -> Damager {
        Damager {
            heap: self.clone(),
            words: self.interesting_words(),
            data: self.data(),
            width: self.pointer_size as usize,
        }
    }
}

/// Damages one [`SyntheticHeap`] again and again
/// ([`SyntheticHeap::damager`]).
#[derive(Debug, Clone)]
pub struct Damager {
    heap: SyntheticHeap,
    words: Vec<u64>,
    data: Vec<u8>,
    /// The pointer size: what a word edit writes.
    width: usize,
}

impl Damager {
    /// [`SyntheticHeap::damaged`].
    pub fn damaged(&self, edits: &[u8]) -> SyntheticHeap {
        let words = &self.words;
        let width = self.width;
        let mut data = self.data.clone();
        let mut i = 0;
        let mut byte = || {
            let b = edits.get(i).copied();
            i += 1;
            b
        };
        for _ in 0..64 {
            let (Some(op), Some(lo), Some(hi)) = (byte(), byte(), byte()) else {
                break;
            };
            if data.len() < 8 {
                break;
            }
            let at = u16::from_le_bytes([lo, hi]) as usize % (data.len() - 7);
            match op % 8 {
                0 => data[at] = byte().unwrap_or(0),
                1 => {
                    for k in 0..4 {
                        data[at + k] = byte().unwrap_or(0);
                    }
                }
                2 => {
                    for k in 0..8 {
                        data[at + k] = byte().unwrap_or(0);
                    }
                }
                3 => {
                    let w = words[byte().unwrap_or(0) as usize % words.len()];
                    let a = at & !(width - 1);
                    data[a..a + width].copy_from_slice(&w.to_le_bytes()[..width]);
                }
                4 => {
                    let n = byte().unwrap_or(8) as usize;
                    let end = (at + n).min(data.len());
                    data[at..end].fill(0);
                }
                5 => data.truncate(at),
                6 => {
                    let a = at & !(width - 1);
                    let mut v = [0u8; 8];
                    v[..width].copy_from_slice(&data[a..a + width]);
                    let d = byte().unwrap_or(0) as i8 as i64;
                    let v = u64::from_le_bytes(v).wrapping_add(d as u64);
                    data[a..a + width].copy_from_slice(&v.to_le_bytes()[..width]);
                }
                _ => {
                    let from = u16::from_le_bytes([byte().unwrap_or(0), byte().unwrap_or(0)])
                        as usize
                        % (data.len() - 7);
                    let w: [u8; 8] = data[from..from + 8].try_into().unwrap();
                    data[at..at + width].copy_from_slice(&w[..width]);
                }
            }
        }
        self.heap.with_data(&data)
    }
}

impl SyntheticHeap {
    /// The address of the region record of generation `g` (0–4).
    pub fn region_record(&self, g: usize) -> u64 {
        self.regions[g].0
    }

    /// Writes the little-endian `v` at `addr` (which must be in a range).
    pub fn set_u64(&mut self, addr: u64, v: u64) {
        self.set_bytes(addr, &v.to_le_bytes());
    }

    /// Writes the pointer-sized little-endian `v` at `addr` (which must be
    /// in a range): its low 4 bytes in a 32-bit process.
    pub fn set_word(&mut self, addr: u64, v: u64) {
        let n = self.pointer_size as usize;
        self.set_bytes(addr, &v.to_le_bytes()[..n]);
    }

    fn set_bytes(&mut self, addr: u64, b: &[u8]) {
        let r = self
            .ranges
            .iter_mut()
            .find(|r| addr >= r.start && addr + b.len() as u64 <= r.start + r.bytes.len() as u64)
            .expect("an address of the synthetic process");
        let o = (addr - r.start) as usize;
        r.bytes[o..o + b.len()].copy_from_slice(b);
    }
}

impl Default for SyntheticHeap {
    fn default() -> Self {
        SyntheticHeap::new()
    }
}

/// Addresses of the 32-bit synthetic process ([`SyntheticHeap::new_x86`]).
pub mod layout_x86 {
    /// The runtime module `coreclr.dll` (GcDacVars at its start).
    pub const RUNTIME: u64 = 0x7000_0000;
    /// Its size.
    pub const RUNTIME_SIZE: u64 = 0x1000;
    /// The MethodTables (a loader heap).
    pub const MTS: u64 = 0x0600_0000;
    /// Bytes of MethodTables.
    pub const MTS_SIZE: u64 = 0x800;
    /// The small object heap's segment (its `heap_segment` record first).
    pub const SOH: u64 = 0x0300_0000;
    /// The large object heap's segment.
    pub const LOH: u64 = 0x0400_0000;
    /// Bytes of each segment.
    pub const SEGMENT_SIZE: u64 = 0x400;
    /// Where a segment's objects begin, from its start (after its record).
    pub const SEGMENT_MEM: u64 = 0x20;
    /// The handle table's segment (64 KiB aligned).
    pub const HANDLES: u64 = 0x0500_0000;
    /// Bytes of it held (header and three blocks of 64 4-byte handles).
    pub const HANDLES_SIZE: u64 = 0x1000 + 3 * 256;
    /// The thread's stack.
    pub const STACK: u64 = 0x0010_0000;
    /// Its size.
    pub const STACK_SIZE: u64 = 0x80;
}

impl SyntheticHeap {
    /// A small 32-bit process shaped like a .NET Core 3.1 x86 one (the
    /// Windows x86 dumps): 4-byte pointers, a `coreclr.dll` module
    /// holding the GC's `GcDacVars` (the first layout, four generations),
    /// workstation GC with segments — an ephemeral small object heap
    /// segment (objects 4-byte aligned, 12 bytes at least) and a large
    /// object heap segment (objects 8-byte aligned), each with its
    /// `heap_segment` record at its start — objects of the same seven
    /// kinds of MethodTable as [`SyntheticHeap::new`] with 32-bit GCDescs
    /// (series of two 4-byte words; a value-array item of two 16-bit
    /// halves), a handle table laid out for 4-byte handles (240 blocks),
    /// a finalization queue and a thread. Not an ELF core
    /// ([`SyntheticHeap::elf_core`] is 64-bit): read it through
    /// [`SyntheticHeap::memory`].
    pub fn new_x86() -> SyntheticHeap {
        use layout_x86::*;
        const P: u64 = 4;
        let mut mts = Bytes(vec![0; MTS_SIZE as usize]);
        let mt_at = |i: u64| MTS + 0x100 * i + 0x80;
        let object_mt = mt_at(0);
        let (free, plain, node, array, string, structs, finalizable) = (
            mt_at(6),
            mt_at(0),
            mt_at(1),
            mt_at(2),
            mt_at(3),
            mt_at(4),
            mt_at(5),
        );
        // MethodTable: flags, base size, parent at +0x10 (as on 64-bit).
        let mut mt = |at: u64, flags: u32, base: u32, parent: u64| {
            let o = at - MTS;
            mts.u32(o, flags);
            mts.u32(o + 4, base);
            mts.u32(o + 0x10, parent as u32);
        };
        const COMPONENTS: u32 = 0x8000_0000;
        const POINTERS: u32 = 0x0100_0000;
        const FINALIZER: u32 = 0x0010_0000;
        const SZARRAY: u32 = 0x0008_0000 | 0x0002_0000;
        mt(plain, 0, 12, 0);
        mt(node, POINTERS, 16, object_mt);
        mt(array, COMPONENTS | SZARRAY | POINTERS | 4, 12, object_mt);
        mt(string, COMPONENTS | 2, 14, object_mt);
        mt(structs, COMPONENTS | SZARRAY | POINTERS | 8, 12, object_mt);
        mt(finalizable, FINALIZER, 12, object_mt);
        mt(free, COMPONENTS | 1, 12, 0);
        let w = |v: i64| v as i32 as u32;
        // node: one series (size − base, start) of two references at +4.
        mts.u32(node - MTS - 4, 1);
        mts.u32(node - MTS - 12, w(8 - 16));
        mts.u32(node - MTS - 8, 4);
        // object[]: the elements, from +8.
        mts.u32(array - MTS - 4, 1);
        mts.u32(array - MTS - 12, w(-12));
        mts.u32(array - MTS - 8, 8);
        // struct { object o; int n; }[]: a value-array GCDesc, one item
        // (1 pointer, skip 4: 16-bit halves) from +8.
        mts.u32(structs - MTS - 4, w(-1));
        mts.u32(structs - MTS - 8, 8);
        mts.u16(structs - MTS - 12, 1);
        mts.u16(structs - MTS - 10, 4);

        // --- The segments: record, then objects from SEGMENT_MEM.
        let mut soh = Bytes(vec![0; SEGMENT_SIZE as usize]);
        let mut loh = Bytes(vec![0; SEGMENT_SIZE as usize]);
        let mut objects = Vec::new();
        let mut references = Vec::new();
        // Places an object at `at` of `seg` (base address `base`).
        let mut put =
            |seg: &mut Bytes, base: u64, at: u64, mt: u64, size: u64, fields: &[(u64, u64)]| {
                seg.u32(at - base, mt as u32);
                for &(off, v) in fields {
                    seg.u32(at - base + off, v as u32);
                }
                objects.push(SyntheticObject {
                    address: at,
                    method_table: mt,
                    size,
                    free: mt == free,
                });
            };
        let align4 = |n: u64| (n.max(12) + 3) & !3;
        let align8 = |n: u64| (n.max(12) + 7) & !7;
        // Small object heap, oldest first: a finalizable object f and a
        // node n3 → (n1, f) (generation 2); node n1 → (n2, arr); n2 → (n3,
        // null); arr = object[3] {s, p, n3}; a string "hiho"; a plain
        // object; free space; a zero gap; a struct array {n1, 7}, {p, 9}.
        let f = SOH + SEGMENT_MEM;
        let n3 = f + align4(12);
        let n1 = n3 + align4(16);
        let n2 = n1 + align4(16);
        let arr = n2 + align4(16);
        let s = arr + align4(12 + 3 * 4);
        let p = s + align4(14 + 2 * 4);
        let fr = p + align4(12);
        let st = fr + align4(12 + 12) + 0x20;
        let soh_end = st + align4(12 + 2 * 8);
        put(&mut soh, SOH, f, finalizable, 12, &[]);
        put(&mut soh, SOH, n3, node, 16, &[(4, n1), (8, f)]);
        put(&mut soh, SOH, n1, node, 16, &[(4, n2), (8, arr)]);
        put(&mut soh, SOH, n2, node, 16, &[(4, n3), (8, 0)]);
        put(
            &mut soh,
            SOH,
            arr,
            array,
            12 + 3 * 4,
            &[(4, 3), (8, s), (12, p), (16, n3)],
        );
        put(
            &mut soh,
            SOH,
            s,
            string,
            14 + 2 * 4,
            &[(4, 4), (8, 0x0069_0068), (12, 0x006F_0068)],
        );
        put(&mut soh, SOH, p, plain, 12, &[]);
        put(&mut soh, SOH, fr, free, 12 + 12, &[(4, 12)]);
        put(
            &mut soh,
            SOH,
            st,
            structs,
            12 + 2 * 8,
            &[(4, 2), (8, n1), (12, 7), (16, p), (20, 9)],
        );
        references.extend([
            (n3, n1),
            (n3, f),
            (n1, n2),
            (n1, arr),
            (n2, n3),
            (arr, s),
            (arr, p),
            (arr, n3),
            (st, n1),
            (st, p),
        ]);
        // Large object heap (8-byte aligned): an object[64] of n1 and
        // nulls (268 bytes: the next object 4 bytes further, at 272), then
        // a string of 8 characters.
        let big = LOH + SEGMENT_MEM;
        let mut fields = vec![(4, 64)];
        for i in 0..64 {
            fields.push((8 + 4 * i, if i % 2 == 0 { n1 } else { 0 }));
        }
        put(&mut loh, LOH, big, array, 12 + 64 * 4, &fields);
        references.extend(std::iter::repeat_n((big, n1), 32));
        let text = big + align8(12 + 64 * 4);
        put(&mut loh, LOH, text, string, 14 + 2 * 8, &[(4, 8)]);
        let loh_end = text + align8(14 + 2 * 8);
        objects.sort_by_key(|o| o.address);
        // heap_segment records (7 words): allocated, committed, reserved,
        // used, mem, flags (8: the large object heap), next.
        for (seg, base, end, flags) in [(&mut soh, SOH, soh_end, 0), (&mut loh, LOH, loh_end, 8)] {
            for (i, v) in [
                end,
                base + SEGMENT_SIZE,
                base + SEGMENT_SIZE,
                end,
                base + SEGMENT_MEM,
                flags,
                0,
            ]
            .into_iter()
            .enumerate()
            {
                seg.u32(P * i as u64, v as u32);
            }
        }
        let regions = vec![
            (SOH, SOH + SEGMENT_MEM, soh_end),
            (LOH, LOH + SEGMENT_MEM, loh_end),
        ];

        // --- GcDacVars, the first layout (4-byte slots): major, minor;
        // sizeof(generation); 0 (not server GC); generation_table at slot
        // 5, &max_gen 6, &ephemeral_heap_segment 9, &alloc_allocated 14,
        // &finalize_queue 17, &gc_structures_invalid_cnt 23,
        // g_HandleTableMap 28.
        let mut rt = Bytes(vec![0; RUNTIME_SIZE as usize]);
        let r = |o: u64| RUNTIME + o;
        let slot = |rt: &mut Bytes, k: u64, v: u64| rt.u32(P * k, v as u32);
        rt.0[0] = 2;
        rt.0[1] = 1;
        slot(&mut rt, 1, 0x40);
        let generation_table = r(0x300);
        slot(&mut rt, 5, generation_table);
        slot(&mut rt, 6, r(0x200));
        rt.u32(0x200, 2);
        slot(&mut rt, 9, r(0x204));
        rt.u32(0x204, SOH as u32); // the ephemeral segment
        slot(&mut rt, 14, r(0x208));
        rt.u32(0x208, soh_end as u32); // alloc_allocated
        slot(&mut rt, 17, r(0x20C));
        slot(&mut rt, 23, r(0x210)); // 0: no GC in progress
        slot(&mut rt, 28, r(0xB00));
        // Generations 0–3 (0x40 bytes each): allocation_start at +0,
        // start_segment at +0x28 (2 pointers, an alloc_context's 16 bytes
        // of counts, 2 pointers and 4 bytes, 8-aligned).
        for g in 0..4u64 {
            let at = 0x300 + 0x40 * g;
            let (start, seg) = match g {
                0 | 1 => (n1, SOH),
                2 => (f, SOH),
                _ => (big, LOH),
            };
            rt.u32(at, start as u32);
            rt.u32(at + 0x28, seg as u32);
        }
        // CFinalize at 0xC00: m_FillPointers[6], m_Array, m_EndArray; the
        // finalizable object registered twice (two generations' parts).
        rt.u32(0x20C, r(0xC00) as u32);
        let entries = r(0xD00);
        rt.u32(0xD00, f as u32);
        rt.u32(0xD04, f as u32);
        for i in 0..6u64 {
            rt.u32(0xC00 + P * i, (entries + P * i.min(2)) as u32);
        }
        rt.u32(0xC00 + P * 6, entries as u32);
        rt.u32(0xC00 + P * 7, (entries + 0x40) as u32);
        // g_HandleTableMap: buckets, next map; a bucket's tables; the
        // handle table at 0xA00, whose first word is its segment.
        rt.u32(0xB00, r(0xB10) as u32);
        rt.u32(0xB10, r(0xB70) as u32);
        rt.u32(0xB70, r(0xB80) as u32);
        rt.u32(0xB80, r(0xA00) as u32);
        rt.u32(0xA00, HANDLES as u32);

        // --- The handle table segment for 4-byte handles: 240 blocks of
        // 64; rgAllocation (240 bytes) at 960, rgFreeMask (480 words) at
        // 1200, rgBlockType at 3120, rgUserData at 3360, rgLocks and
        // rgTail after them, rgFreeCount (12 types) at 3864,
        // pNextSegment at 3912, pHandleTable at 3916. Block 0 strong
        // handles, block 1 dependent ones whose secondaries are in block 2.
        let mut hs = Bytes(vec![0; HANDLES_SIZE as usize]);
        for b in 0..240u64 {
            hs.0[(3120 + b) as usize] = 0xFF;
            hs.0[(3360 + b) as usize] = 0xFF;
            hs.0[(960 + b) as usize] = 0xFF;
        }
        for m in 0..480u64 {
            hs.u32(1200 + 4 * m, u32::MAX);
        }
        hs.0[3120] = 2; // strong
        hs.0[3121] = 6; // dependent
        hs.0[3361] = 2; // its secondaries: block 2
        hs.u32(1200, !0b11); // handles 0, 1 in use
        hs.u32(1200 + 8, !0b1); // handle 64 in use
        hs.u32(3916, r(0xA00) as u32);
        hs.u32(3912, 0);
        hs.u32(0x1000, n1 as u32); // strong: n1
        hs.u32(0x1004, text as u32); // strong: the large string
        hs.u32(0x1100, n1 as u32); // dependent: n1 → p
        hs.u32(0x1200, p as u32);

        // --- The thread: a stack word pointing inside the struct array, a
        // register at the large array.
        let mut stack = Bytes(vec![0; STACK_SIZE as usize]);
        stack.u32(0x20, (st + 4) as u32);
        let thread = (STACK, STACK + STACK_SIZE, vec![big, 0, 0x1234]);

        let ranges: Vec<SyntheticRange> = [
            (STACK, stack.0, true),
            (HANDLES, hs.0, true),
            (MTS, mts.0, false),
            (SOH, soh.0, true),
            (LOH, loh.0, true),
            (RUNTIME, rt.0, true),
        ]
        .into_iter()
        .map(|(start, bytes, writable)| SyntheticRange {
            start,
            bytes,
            writable,
        })
        .collect();
        let sizes = ranges.iter().map(|r| r.bytes.len() as u64).collect();
        SyntheticHeap {
            ranges,
            runtime: (RUNTIME, RUNTIME + RUNTIME_SIZE),
            thread,
            objects,
            references,
            regions,
            pointer_size: 4,
            runtime_path:
                r"C:\Program Files (x86)\dotnet\shared\Microsoft.NETCore.App\3.1.32\coreclr.dll"
                    .into(),
            sizes,
        }
    }
}
