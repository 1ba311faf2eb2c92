//! Hostile input: the damaged dumps of issue 13 (one edited field, a few
//! zeroed or inserted bytes) and random damage to every kind of CLR record
//! in real fixtures. Each gives a typed error or a partial result that
//! says what it lacks, never a panic or an abort (an abort ends this test
//! binary). That nothing is allocated by a size the damage claims is
//! proven with the address space limited, by `heaplens-cli`'s
//! `tests/bounded.rs`.

use heaplens_bytes::{FileSource, ReadAt, ReadError};
use heaplens_corpus::patched::Patched;
use heaplens_graph::NoProgress;
use heaplens_snapshot::OpenError;
use heaplens_snapshot::Snapshot;
fn fixture(rel: &str) -> Option<FileSource> {
    let shared = heaplens_corpus::shared_or_skip("hostile-input tests")?;
    let path = heaplens_corpus::unpacked(&shared.join("fixtures").join(rel)).unwrap();
    Some(FileSource::open(path).unwrap())
}

/// Reads `src` as the page does (any format, one thread).
fn read(src: &dyn ReadAt, _what: &str) -> Result<Snapshot, OpenError> {
    heaplens_snapshot::open_with(
        src,
        &heaplens_snapshot::modules::ModuleSet::new(),
        &mut NoProgress,
    )
}

/// Reproducer 1: `0x28` written into the `mem` field of the pinned-object
/// heap's region record (file offset 3,301,472) made the region claim
/// 140 TB, and `heaplens` asked for 2,194,300,555,328 bytes and aborted.
/// Now the record is reported as damaged (no region holds 1 TiB) and the
/// other regions are read.
#[test]
fn a_region_whose_mem_is_0x28_reads_as_a_stated_partial_heap() {
    let Some(core) = fixture("linux-net8/phase1.withheap.core.zst") else {
        return;
    };
    let damaged = Patched::new(&core).set_u64(3_301_472, 0x28);
    let snap = read(&damaged, "net8 POH mem = 0x28").expect("a partial result");
    let clr = snap.info.clr.as_ref().unwrap();
    let problem = clr
        .problems
        .iter()
        .find(|p| p.addr == 0x28)
        .expect("the damaged region's walk stopped at its start");
    assert!(problem.why.contains("a damaged record"), "{}", problem.why);
    assert!(
        problem
            .why
            .contains("more than any segment or region holds"),
        "{}",
        problem.why
    );
    // The rest of the heap is read: the undamaged read's objects, less the
    // pinned region's.
    let whole = read(&core, "net8").unwrap();
    let lost = whole.graph.node_count() - snap.graph.node_count();
    assert!(lost > 0 && lost < whole.graph.node_count() / 10, "{lost}");
    // The damaged region's claim is not taken for heap.
    assert!(clr.gc.heap_bytes < whole.info.clr.as_ref().unwrap().gc.heap_bytes);
}

/// Reproducer 2: four zeroed bytes in the ephemeral segment of the .NET
/// Core 3.1 core (file offset 5,058,596).
#[test]
fn four_zeroed_bytes_in_the_ephemeral_segment_are_survived() {
    let Some(core) = fixture("linux-net31/phase1.withheap.core.zst") else {
        return;
    };
    // They are the upper half of the segment's `mem`: it claims 140 TB.
    let damaged = Patched::new(&core).set(5_058_596, &[0; 4]);
    let snap = read(&damaged, "net31 zeroed").expect("a partial result");
    let clr = snap.info.clr.as_ref().unwrap();
    assert!(
        clr.problems
            .iter()
            .any(|p| p.why.contains("a damaged record")),
        "{:?}",
        clr.problems
    );
}

/// A source with `bytes` inserted at `at` (everything after moves).
struct Inserted<'a> {
    base: &'a dyn ReadAt,
    at: u64,
    bytes: &'a [u8],
}

impl ReadAt for Inserted<'_> {
    fn len(&self) -> u64 {
        self.base.len() + self.bytes.len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        ReadError::check_bounds(offset, buf.len(), self.len())?;
        let n = self.bytes.len() as u64;
        for (i, b) in buf.iter_mut().enumerate() {
            let o = offset + i as u64;
            *b = if o < self.at {
                let mut x = [0u8; 1];
                self.base.read_at(o, &mut x)?;
                x[0]
            } else if o < self.at + n {
                self.bytes[(o - self.at) as usize]
            } else {
                let mut x = [0u8; 1];
                self.base.read_at(o - n, &mut x)?;
                x[0]
            };
        }
        Ok(())
    }
}

/// Reproducer 3: three or four bytes inserted into the heap data of the
/// Windows .NET Core 3.1 heap dump shift every later byte: segment
/// headers, MethodTable pointers and lengths become garbage.
#[test]
fn bytes_inserted_into_heap_data_are_survived() {
    let Some(dump) = fixture("windows-net31/phase1.heap.dmp.zst") else {
        return;
    };
    let whole = read(&dump, "net31 heap dump").unwrap();
    let clr = whole.info.clr.as_ref().unwrap();
    let mem = heaplens_minidump::Minidump::open(&dump).unwrap();
    let mut offsets = Vec::new();
    for s in &clr.gc.segments {
        for k in 0..4 {
            let addr = s.start + (s.end - s.start) * k / 4;
            if let Some(o) = mem.memory().file_offset(addr & !7) {
                offsets.push(o);
            }
        }
    }
    assert!(offsets.len() >= 8, "{offsets:?}");
    for (i, &at) in offsets.iter().enumerate() {
        let bytes: &[u8] = if i % 2 == 0 { &[0x41; 3] } else { &[0xff; 4] };
        let damaged = Slow(Inserted {
            base: &dump,
            at,
            bytes,
        });
        if let Ok(snap) = read(&damaged, &format!("{} bytes at {at}", bytes.len())) {
            let clr = snap.info.clr.as_ref().unwrap();
            assert!(
                !clr.problems.is_empty() || clr.invalid_references > 0,
                "{} bytes at {at}: a shifted heap read as whole",
                bytes.len()
            );
        }
    }
}

/// [`Inserted`], read through a buffer (its byte-by-byte reads are slow).
struct Slow<'a>(Inserted<'a>);

impl ReadAt for Slow<'_> {
    fn len(&self) -> u64 {
        self.0.len()
    }
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        ReadError::check_bounds(offset, buf.len(), self.len())?;
        let (at, n) = (self.0.at, self.0.bytes.len() as u64);
        let end = offset + buf.len() as u64;
        if end <= at {
            return self.0.base.read_at(offset, buf);
        }
        if offset >= at + n {
            return self.0.base.read_at(offset - n, buf);
        }
        self.0.read_at(offset, buf)
    }
}

/// A `.gcdump` cut short says so — "truncated", where it ends and what its
/// data promised — not that a label points somewhere invalid (issue 13:
/// 819 of 825 truncations did). Every sample, cut at 40 places.
#[test]
fn a_truncated_gcdump_says_it_is_truncated() {
    let Some(shared) = heaplens_corpus::shared_or_skip("truncated .gcdump files") else {
        return;
    };
    let mut tried = 0;
    for path in heaplens_corpus::gcdump_samples(&shared) {
        let src = FileSource::open(&path).unwrap();
        let len = src.len();
        for k in 1..=40u64 {
            let cut = 64 + (len - 64) * k / 41;
            let short = Patched::new(&src).truncate(cut);
            let e = heaplens_gcdump::read(&short, &mut NoProgress).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains("truncated") && msg.contains(&format!("ends at byte {cut}")),
                "{} cut at {cut}: {msg}",
                path.display()
            );
            tried += 1;
        }
    }
    assert!(tried >= 40);
}

/// Where the CLR records of a real dump are, as file offsets: found by an
/// undamaged read.
struct Records {
    /// The process's pointer size (4 or 8): the width of a word damaged.
    pointer_size: u64,
    /// Words of segment and region records (`allocated`, `committed`,
    /// `reserved`, `mem`, `flags`, `next`).
    segment_fields: Vec<u64>,
    /// MethodTable words: flags and base size, parent, the GCDesc count
    /// below.
    method_tables: Vec<u64>,
    /// Object headers (MethodTable pointer) and array lengths.
    objects: Vec<u64>,
    /// `GcDacVars`, the handle-table map and the finalization queue's fill
    /// pointers.
    bookkeeping: Vec<u64>,
    /// Statics: the slots that hold a static field's object (the
    /// `Object[]`s the runtime keeps statics in, held by a strong or
    /// pinned handle, ≤ .NET 8) and those arrays' MethodTable and length
    /// words.
    statics: Vec<u64>,
}

/// The CLR records of `target`'s process, as offsets of the file `mem`
/// maps.
fn records(
    target: &heaplens_clr::Target<'_>,
    mem: &heaplens_memory::MemoryMap<&FileSource>,
) -> Records {
    use heaplens_graph::RootKind;
    use heaplens_memory::AddressSpace;
    let heap = heaplens_clr::read(target, &mut NoProgress).unwrap();
    let p = mem.pointer_size() as u64;
    let at = |addr: u64| mem.file_offset(addr);
    let mut r = Records {
        pointer_size: p,
        segment_fields: Vec::new(),
        method_tables: Vec::new(),
        objects: Vec::new(),
        bookkeeping: Vec::new(),
        statics: Vec::new(),
    };
    for s in &heap.info.gc.segments {
        for f in [0u64, 1, 2, 4, 5, 6] {
            r.segment_fields.extend(at(s.record + p * f));
        }
    }
    let g = &heap.graph;
    for t in g.types() {
        for off in [0i64, 0x10, -(p as i64)] {
            r.method_tables
                .extend(at(t.method_table.wrapping_add(off as u64)));
        }
    }
    for n in (0..g.node_count() as u32).step_by(97) {
        r.objects.extend(at(g.node_address(n)));
        r.objects.extend(at(g.node_address(n) + p));
    }
    if let Some((vars_at, _)) = heap.info.gc_dac_vars {
        for o in (0..32 * p).step_by(p as usize) {
            r.bookkeeping.extend(at(vars_at + o));
        }
        if let Some(vars) = heaplens_clr::dacvars::GcDacVars::parse(mem, vars_at) {
            let map = vars.handle_table_map;
            r.bookkeeping.extend(at(map));
            if let Ok(buckets) = mem.read_pointer(map) {
                r.bookkeeping.extend(at(buckets));
            }
            for i in 0..8 {
                r.bookkeeping.extend(at(vars.finalize_queue + p * i));
            }
        }
    }
    // The statics arrays: `Object[]`s held by a handle, holding a static's
    // object.
    let held: std::collections::HashSet<u64> = g
        .roots()
        .iter()
        .filter(|root| root.kind == RootKind::Static)
        .map(|root| g.node_address(root.object))
        .collect();
    for root in g.roots() {
        let n = root.object;
        let handle = matches!(root.kind, RootKind::StrongHandle | RootKind::PinnedHandle);
        if !handle || g.type_info(g.node_type(n)).name != "System.Object[]" {
            continue;
        }
        let (a, size) = (g.node_address(n), g.node_size(n));
        let mut slots = Vec::new();
        for slot in (a + 2 * p..a + size).step_by(p as usize) {
            if mem.read_pointer(slot).is_ok_and(|v| held.contains(&v)) {
                slots.push(slot);
            }
        }
        if !slots.is_empty() {
            r.statics.extend(at(a));
            r.statics.extend(at(a + p));
            r.statics.extend(slots.into_iter().filter_map(at));
        }
    }
    r
}

/// Counts of [`damage_clr_records`].
#[derive(Default, Clone, Copy)]
struct Outcomes {
    errors: u64,
    partial: u64,
    same: u64,
    unstated: u64,
}

impl Outcomes {
    /// Says what the damages gave (`what`), and fails unless at least
    /// `least` were read and at most one in ten changed a result unsaid.
    fn check(&self, what: &str, least: u64) {
        let Outcomes {
            errors,
            partial,
            same,
            unstated,
        } = *self;
        eprintln!(
            "{what}: {errors} refused, {partial} read differently ({unstated} of them \
             unsaid), {same} read the same"
        );
        assert!(
            unstated * 10 <= errors + partial + same,
            "{unstated} unsaid"
        );
        assert!(errors + partial + same >= least);
    }
}

/// `rounds` random damages to each kind of CLR record of the dump `file`
/// (`fixture`'s): a word set to zero, all ones, a bit flipped or a random
/// value. Each read gives an error that says what and where, or a heap
/// whose departures from the undamaged one show in what it reports (walk
/// problems, references or roots to no object, bytes missing).
fn damage_clr_records(
    fixture: &str,
    file: &FileSource,
    recs: &Records,
    rng: &mut heaplens_corpus::patched::Rng,
    rounds: usize,
    out: &mut Outcomes,
) {
    let whole = read(file, fixture).unwrap();
    let kinds = [
        ("segment record", &recs.segment_fields),
        ("MethodTable", &recs.method_tables),
        ("object", &recs.objects),
        ("GC bookkeeping", &recs.bookkeeping),
        ("statics", &recs.statics),
    ];
    let p = recs.pointer_size;
    for (kind, offsets) in kinds {
        if kind == "statics" && offsets.is_empty() {
            // .NET 9 and later keep statics elsewhere.
            continue;
        }
        assert!(!offsets.is_empty(), "{fixture}: no {kind} found");
        for _ in 0..rounds {
            let at = offsets[rng.below(offsets.len() as u64) as usize];
            let old = if p == 4 {
                heaplens_corpus::patched::u32_at(file, at) as u64
            } else {
                heaplens_corpus::patched::u64_at(file, at)
            };
            let mask = if p == 4 { 0xFFFF_FFFF } else { u64::MAX };
            let v = match rng.below(4) {
                0 => 0,
                1 => mask,
                2 => old ^ (1 << rng.below(8 * p)),
                _ => rng.next_u64() & mask,
            };
            let what = format!("{fixture}: {kind} word at file offset {at}: {old:#x} -> {v:#x}");
            let damaged = if p == 4 {
                Patched::new(file).set_u32(at, v as u32)
            } else {
                Patched::new(file).set_u64(at, v)
            };
            match read(&damaged, &what) {
                Err(e) => {
                    let msg = e.to_string();
                    // What: a sentence; where: an address or an offset.
                    assert!(
                        msg.len() > 20 && (msg.contains("0x") || msg.contains("offset")),
                        "{what}: the error does not say what and where: {msg}"
                    );
                    out.errors += 1;
                }
                Ok(snap) => {
                    let clr = snap.info.clr.as_ref().unwrap();
                    let g = &snap.graph;
                    let changed = g.node_count() != whole.graph.node_count()
                        || g.edge_count() != whole.graph.edge_count();
                    let stated = !clr.problems.is_empty()
                        || clr.invalid_references > 0
                        || clr.dangling_roots > 0
                        || clr.gc.heap_bytes_captured < clr.gc.heap_bytes;
                    assert!(
                        g.node_count() <= 2 * whole.graph.node_count() + 1000,
                        "{what}: {} objects from a heap of {}",
                        g.node_count(),
                        whole.graph.node_count()
                    );
                    // Objects lost or gained are accounted for; a
                    // reference field zeroed or pointed at another object
                    // is data like any other. Known gap: a damaged GC
                    // variable (the ephemeral segment's pointer or end)
                    // can make the reader take the segment header's stale
                    // end without saying so.
                    if g.node_count() != whole.graph.node_count() && !stated {
                        assert_eq!(kind, "GC bookkeeping", "{what}: nothing said");
                        eprintln!(
                            "known gap: {what}: {} objects (whole: {}) and nothing said",
                            g.node_count(),
                            whole.graph.node_count()
                        );
                        out.unstated += 1;
                    }
                    if changed {
                        out.partial += 1;
                    } else {
                        out.same += 1;
                    }
                }
            }
        }
    }
}

/// Random damage to every kind of CLR record of every real Linux core: a
/// field of a segment or region record, a MethodTable, an object's header
/// or length, the GC's bookkeeping (GcDacVars, the handle-table map, the
/// finalization queue), the statics (the slots of the arrays that hold
/// them, their headers) set to zero, all ones, a bit flipped or a random
/// word. Each read gives an error naming what and where, or a heap whose
/// departures from the undamaged one show in what it reports (walk
/// problems, references or roots to no object, bytes missing) — never a
/// panic or an abort.
#[test]
fn damage_to_every_kind_of_clr_record_is_stated() {
    let Some(shared) = heaplens_corpus::shared_or_skip("damaged CLR records") else {
        return;
    };
    let mut rng = heaplens_corpus::patched::Rng(0x5eed_c0de_1357_9bdf);
    let mut out = Outcomes::default();
    let mut statics = 0;
    for fixture in [
        "linux-net31",
        "linux-net8",
        "linux-net8-clrgc",
        "linux-net10-sf",
    ] {
        let dir = shared.join("fixtures").join(fixture);
        let Some(zst) = heaplens_corpus::phase_dumps(&dir, 1, &[".core.zst"])
            .into_iter()
            .next()
        else {
            continue;
        };
        let file = FileSource::open(heaplens_corpus::unpacked(&zst).unwrap()).unwrap();
        let core = heaplens_elfcore::ElfCore::open(&file).unwrap();
        let symbols = heaplens_snapshot::elf::ElfSymbols(&core);
        let recs = records(
            &heaplens_snapshot::elf::target(&core, &symbols),
            core.memory(),
        );
        statics += recs.statics.len();
        damage_clr_records(fixture, &file, &recs, &mut rng, 6, &mut out);
    }
    assert!(statics > 0, "no statics arrays found in any core");
    out.check("damaged CLR records", 90);
}

/// The same damage in Windows minidumps: a 64-bit one (`windows-net8`,
/// the shared corpus) and a 32-bit one (`windows-net31-x86`, made by
/// `FIXTURES=x86 scripts/make-fixtures`; required when CI names the set),
/// words of the process's pointer size.
#[test]
fn damage_to_clr_records_of_windows_minidumps_is_stated() {
    let Some(shared) = heaplens_corpus::shared_or_skip("damaged CLR records of minidumps") else {
        return;
    };
    let mut dumps = vec![(
        "windows-net8".to_string(),
        shared.join("fixtures/windows-net8"),
    )];
    let x86 = heaplens_corpus::x86_fixture_dirs("damaged CLR records of a 32-bit minidump");
    if x86.is_empty()
        && heaplens_corpus::corpus_required()
        && heaplens_corpus::fixture_set_named("x86")
    {
        panic!(
            "no 32-bit fixtures, but {} names the x86 set",
            heaplens_corpus::CI_FIXTURES_ENV
        );
    }
    dumps.extend(
        x86.into_iter()
            .take(1)
            .map(|d| (d.file_name().unwrap().to_string_lossy().into_owned(), d)),
    );
    let mut rng = heaplens_corpus::patched::Rng(0x0dd5_eed5_2468_ace0);
    let mut out = Outcomes::default();
    let mut widths = Vec::new();
    for (fixture, dir) in &dumps {
        let Some(zst) = heaplens_corpus::phase_dumps(dir, 1, &[".windump.dmp.zst"])
            .into_iter()
            .next()
        else {
            panic!("{fixture}: no phase1.windump.dmp.zst");
        };
        let file = FileSource::open(heaplens_corpus::unpacked(&zst).unwrap()).unwrap();
        let dump = heaplens_minidump::Minidump::open(&file).unwrap();
        let symbols = heaplens_snapshot::minidump::PeSymbols(&dump);
        let recs = records(
            &heaplens_snapshot::minidump::target(&dump, &symbols),
            dump.memory(),
        );
        assert!(
            !recs.statics.is_empty(),
            "{fixture}: no statics arrays found"
        );
        widths.push(recs.pointer_size);
        damage_clr_records(fixture, &file, &recs, &mut rng, 8, &mut out);
    }
    out.check(
        &format!("damaged CLR records of minidumps ({widths:?}-byte pointers)"),
        40 * dumps.len() as u64,
    );
}
