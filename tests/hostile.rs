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

/// Where the CLR records of a real core are, as file offsets: found by an
/// undamaged read.
struct Records {
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
}

fn records(core: &heaplens_elfcore::ElfCore<&FileSource>) -> Records {
    use heaplens_memory::AddressSpace;
    let symbols = heaplens_snapshot::elf::ElfSymbols(core);
    let target = heaplens_snapshot::elf::target(core, &symbols);
    let heap = heaplens_clr::read(&target, &mut NoProgress).unwrap();
    let mem = core.memory();
    let at = |addr: u64| mem.file_offset(addr);
    let mut r = Records {
        segment_fields: Vec::new(),
        method_tables: Vec::new(),
        objects: Vec::new(),
        bookkeeping: Vec::new(),
    };
    for s in &heap.info.gc.segments {
        for f in [0u64, 8, 0x10, 0x20, 0x28, 0x30] {
            r.segment_fields.extend(at(s.record + f));
        }
    }
    let g = &heap.graph;
    for t in g.types() {
        for off in [0i64, 0x10, -8] {
            r.method_tables
                .extend(at(t.method_table.wrapping_add(off as u64)));
        }
    }
    for n in (0..g.node_count() as u32).step_by(97) {
        r.objects.extend(at(g.node_address(n)));
        r.objects.extend(at(g.node_address(n) + 8));
    }
    if let Some((vars_at, _)) = heap.info.gc_dac_vars {
        for o in (0..0x100).step_by(8) {
            r.bookkeeping.extend(at(vars_at + o));
        }
        if let Some(vars) = heaplens_clr::dacvars::GcDacVars::parse(mem, vars_at) {
            let map = vars.handle_table_map;
            r.bookkeeping.extend(at(map));
            if let Ok(buckets) = mem.read_u64(map) {
                r.bookkeeping.extend(at(buckets));
            }
            for i in 0..8 {
                r.bookkeeping.extend(at(vars.finalize_queue + 8 * i));
            }
        }
    }
    r
}

/// Random damage to every kind of CLR record of every real Linux core: a
/// field of a segment or region record, a MethodTable, an object's header
/// or length, the GC's bookkeeping (GcDacVars, the handle-table map, the
/// finalization queue) set to zero, all ones, a bit flipped or a random
/// word. Each read gives a typed error, or a heap whose departures from
/// the undamaged one show in what it reports (walk problems, references
/// or roots to no object, bytes missing) — never a panic or an abort.
#[test]
fn damage_to_every_kind_of_clr_record_is_stated() {
    let Some(shared) = heaplens_corpus::shared_or_skip("damaged CLR records") else {
        return;
    };
    let mut rng = heaplens_corpus::patched::Rng(0x5eed_c0de_1357_9bdf);
    let (mut errors, mut partial, mut same, mut unstated) = (0, 0, 0, 0);
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
        let recs = records(&core);
        let whole = read(&file, fixture).unwrap();
        let kinds = [
            ("segment record", &recs.segment_fields),
            ("MethodTable", &recs.method_tables),
            ("object", &recs.objects),
            ("GC bookkeeping", &recs.bookkeeping),
        ];
        for (kind, offsets) in kinds {
            assert!(!offsets.is_empty(), "{fixture}: no {kind} found");
            for _ in 0..6 {
                let at = offsets[rng.below(offsets.len() as u64) as usize];
                let old = heaplens_corpus::patched::u64_at(&file, at);
                let v = match rng.below(4) {
                    0 => 0,
                    1 => u64::MAX,
                    2 => old ^ (1 << rng.below(64)),
                    _ => rng.next_u64(),
                };
                let what =
                    format!("{fixture}: {kind} word at file offset {at}: {old:#x} -> {v:#x}");
                let damaged = Patched::new(&file).set_u64(at, v);
                match read(&damaged, &what) {
                    Err(e) => {
                        assert!(!e.to_string().is_empty(), "{what}");
                        errors += 1;
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
                        // reference field zeroed or pointed at another
                        // object is data like any other. Known gap: a
                        // damaged GC variable (the ephemeral segment's
                        // pointer or end) can make the reader take the
                        // segment header's stale end without saying so.
                        if g.node_count() != whole.graph.node_count() && !stated {
                            assert_eq!(kind, "GC bookkeeping", "{what}: nothing said");
                            eprintln!(
                                "known gap: {what}: {} objects (whole: {}) and nothing said",
                                g.node_count(),
                                whole.graph.node_count()
                            );
                            unstated += 1;
                        }
                        if changed {
                            partial += 1;
                        } else {
                            same += 1;
                        }
                    }
                }
            }
        }
    }
    eprintln!(
        "damaged CLR records: {errors} refused, {partial} read differently \
         ({unstated} of them unsaid), {same} read the same"
    );
    assert!(
        unstated * 10 <= errors + partial + same,
        "{unstated} unsaid"
    );
    assert!(errors + partial + same >= 72);
}
