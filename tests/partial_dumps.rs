//! Dumps cut short, as a download that stopped leaves them: prefixes of
//! every kind of fixture (Linux cores of .NET 8 with regions, .NET Core
//! 3.1 with segments and a .NET 10 `--full` core; Windows full-memory and
//! heap minidumps; a `.gcdump`), opened as `heaplens` opens them
//! (`heaplens_snapshot::open_with`; and the statistics-only read,
//! `heaplens_snapshot::count_in`, states the same heap coverage). Each prefix is either
//!
//! * refused with an error that says the file is cut short, or
//! * read, with [`heaplens_snapshot::Coverage`] telling the truth: the file's
//!   length, where its directory says its data ends (that of the whole
//!   file), and per segment or region the bytes the prefix holds —
//!   computed here from where the whole dump places each segment's bytes
//!   in the file. A result said to be complete is the whole file's (the
//!   same live objects per type, the same unreachable ones); one missing
//!   heap bytes is said to be partial, and says how much.
//!
//! A `.gcdump` is read from its end, so every prefix is an error saying it
//! is cut short (`crates/heaplens-gcdump/tests/malformed.rs` tries every
//! prefix of the smallest sample; here the largest, at a few cuts).

use heaplens_analysis::stats::{type_stats, Selection};
use heaplens_bytes::{FileSource, PageCache, ReadAt, SubRange};
use heaplens_graph::NoProgress;
use heaplens_snapshot::modules::ModuleSet;
use heaplens_snapshot::Snapshot;
use heaplens_tests::fixture_modules;
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The whole dump's memory map: where it places the process's memory in
/// the file.
enum Whole<R> {
    Core(Box<heaplens_elfcore::ElfCore<R>>),
    Minidump(Box<heaplens_minidump::Minidump<R>>),
}

impl<R: ReadAt> Whole<R> {
    fn open(src: R) -> Result<Whole<R>, Failed>
    where
        R: Clone,
    {
        match heaplens_elfcore::ElfCore::open(src.clone()) {
            Ok(core) => Ok(Whole::Core(Box::new(core))),
            Err(_) => Ok(Whole::Minidump(Box::new(
                heaplens_minidump::Minidump::open(src)?,
            ))),
        }
    }

    fn map(&self) -> &heaplens_memory::MemoryMap<R> {
        match self {
            Whole::Core(c) => c.memory(),
            Whole::Minidump(m) => m.memory(),
        }
    }

    /// How many bytes of `[start, end)` the whole dump places before byte
    /// `cut` of the file.
    fn held_before(&self, start: u64, end: u64, cut: u64) -> u64 {
        let map = self.map();
        heaplens_memory::data_runs(map, start, end)
            .map(|(a, b)| match map.file_offset(a) {
                Some(off) => cut.saturating_sub(off).min(b - a),
                None => 0,
            })
            .sum()
    }
}

/// Live objects per MethodTable (count, bytes), and the unreachable ones.
type Live = (BTreeMap<u64, (u64, u64)>, Option<(u64, u64)>);

/// The [`Live`] objects of a snapshot.
fn live(s: &Snapshot) -> Live {
    let st = type_stats(&s.graph, None, Selection::Reachable);
    let rows = st
        .rows
        .iter()
        .map(|r| (r.method_table, (r.count, r.bytes)))
        .collect();
    (rows, st.unreachable.map(|u| (u.count, u.bytes)))
}

/// The cuts tried in a file of `len` bytes.
fn cuts(len: u64) -> Vec<u64> {
    let mut v: Vec<u64> = [
        10, 100, 500, 1_000, 2_500, 5_000, 7_500, 9_000, 9_500, 9_900, 9_990,
    ]
    .iter()
    .map(|&per_10k| len * per_10k / 10_000)
    .collect();
    v.push(len - 1);
    v
}

/// Every prefix of a core or a minidump.
fn dump_prefixes(path: &Path) -> Result<(), Failed> {
    let dir = path.parent().ok_or("no fixture dir")?;
    let modules: ModuleSet = fixture_modules::for_fixture(dir)?.unwrap_or_default();
    let file = heaplens_corpus::unpacked(path)?;
    let src = PageCache::new(FileSource::open(&file)?);
    let len = src.len();
    let whole = heaplens_snapshot::open_with(&src, &modules, &mut NoProgress);
    // Where the whole file places the process's memory.
    let placement = Whole::open(&src)?;
    let (whole_live, described) = match &whole {
        Ok(s) => {
            if !s.info.coverage.is_complete() || s.info.coverage.file_truncated() {
                return Err(
                    format!("the whole file reads as partial: {:?}", s.info.coverage).into(),
                );
            }
            (Some(live(s)), s.info.coverage.described_bytes)
        }
        Err(e) => {
            eprintln!(
                "{}: the whole file is refused ({e}); its prefixes must be too",
                path.display()
            );
            (None, 0)
        }
    };
    let mut lines = Vec::new();
    for cut in cuts(len) {
        let prefix = SubRange::new(&src, 0, cut)?;
        let label = format!("{} bytes of {len}", cut);
        match heaplens_snapshot::open_with(&prefix, &modules, &mut NoProgress) {
            Err(e) => {
                let msg = e.to_string();
                let says_so = msg.contains("cut short") || msg.contains("past the end of the file");
                if !says_so {
                    return Err(format!(
                        "{label}: the error does not say the file is cut short: {msg}"
                    )
                    .into());
                }
                lines.push(format!("{label}: refused ({})", e.kind()));
            }
            Ok(s) => {
                let Some(whole_live) = &whole_live else {
                    return Err(format!("{label}: read, but the whole file is refused").into());
                };
                let c = &s.info.coverage;
                if c.file_bytes != cut || c.described_bytes != described {
                    return Err(format!(
                        "{label}: coverage says {} bytes, described {}; the file has {cut}, the whole \
                         file's directory describes {described}",
                        c.file_bytes, c.described_bytes
                    )
                    .into());
                }
                if !c.file_truncated()
                    || c.summary().is_none_or(|s| !s.contains("the file ends at"))
                {
                    return Err(
                        format!("{label}: not said to be cut short: {:?}", c.summary()).into(),
                    );
                }
                for seg in &c.segments {
                    let want = placement.held_before(seg.start, seg.end, cut);
                    if seg.captured != want {
                        return Err(format!(
                            "{label}: segment {:#x}..{:#x}: {} bytes said held, {want} before the cut",
                            seg.start, seg.end, seg.captured
                        )
                        .into());
                    }
                }
                // The statistics-only read (`heaplens stats --all-objects`)
                // states the same heap as partial, in the same numbers.
                let counted = heaplens_snapshot::count_in(
                    heaplens_snapshot::format::Source::Local(&prefix),
                    &mut heaplens_snapshot::Context::new(&modules, &mut NoProgress),
                )
                .map_err(|e| format!("{label}: the statistics-only read failed: {e}"))?;
                let k = &counted.info.coverage;
                let heap_whole = c.heap_bytes_missing() == 0 && c.heap_bytes_not_walked == 0;
                if k.segments != c.segments
                    || k.heap_bytes_not_walked != c.heap_bytes_not_walked
                    || (k.file_bytes, k.described_bytes) != (c.file_bytes, c.described_bytes)
                    || k.is_complete() != heap_whole
                {
                    return Err(format!(
                        "{label}: the statistics-only read's coverage {k:?} is not the full \
                         open's {c:?}"
                    )
                    .into());
                }
                let got = live(&s);
                if c.is_complete() {
                    // Complete means the whole file's answer.
                    if &got != whole_live {
                        return Err(format!(
                            "{label}: said complete, but its live objects differ from the whole \
                             file's ({} / {} types)",
                            got.0.len(),
                            whole_live.0.len()
                        )
                        .into());
                    }
                } else {
                    let summary = c.summary().unwrap_or_default();
                    if c.heap_bytes_missing() > 0 && !summary.starts_with("heap: ") {
                        return Err(format!("{label}: heap bytes missing, but: {summary}").into());
                    }
                }
                lines.push(format!(
                    "{label}: {} ({} live objects, {:.1} % of the heap, {} stack bytes missing){}",
                    if c.is_complete() {
                        "complete"
                    } else {
                        "partial"
                    },
                    got.0.values().map(|v| v.0).sum::<u64>(),
                    c.heap_percent(),
                    c.stack_bytes_missing,
                    c.summary().map(|s| format!(": {s}")).unwrap_or_default()
                ));
            }
        }
    }
    eprintln!("{}:\n  {}", path.display(), lines.join("\n  "));
    Ok(())
}

/// Prefixes of a `.gcdump` are errors that say the file is cut short.
fn gcdump_prefixes(path: &Path) -> Result<(), Failed> {
    let src = FileSource::open(path)?;
    let len = src.len();
    for cut in cuts(len) {
        let prefix = SubRange::new(&src, 0, cut)?;
        match heaplens_snapshot::open(&prefix, &mut NoProgress) {
            Ok(_) => return Err(format!("{cut} of {len} bytes read as a whole .gcdump").into()),
            Err(e) if e.kind() == "truncated_gcdump" && e.to_string().contains("cut short") => {}
            Err(e) => return Err(format!("{cut} of {len} bytes: {} ({e})", e.kind()).into()),
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match heaplens_corpus::shared_or_skip("the partial-dump tests") {
        Some(shared) => {
            let fixtures = shared.join("fixtures");
            let dumps: Vec<PathBuf> = [
                "linux-net8/phase1.withheap.core.zst",
                "linux-net31/phase1.withheap.core.zst",
                "linux-net10-sf/phase1.full.core.zst",
                "windows-net8/phase1.windump.dmp.zst",
                "windows-net31/phase1.windump.dmp.zst",
                "windows-net31/phase1.heap.dmp.zst",
                "windows-net8/phase1.heap.dmp.zst",
            ]
            .iter()
            .map(|p| fixtures.join(p))
            .collect();
            for dump in dumps {
                let name = dump
                    .strip_prefix(&fixtures)
                    .unwrap_or(&dump)
                    .to_string_lossy()
                    .replace('/', "::");
                trials.push(Trial::test(format!("prefixes::{name}"), move || {
                    if !dump.is_file() {
                        return Err(format!("{} missing", dump.display()).into());
                    }
                    dump_prefixes(&dump)
                }));
            }
            let gcdump = shared.join("samples/gcdump/perfview-test2-wpf-netfx-x86.gcdump");
            trials.push(Trial::test("prefixes::gcdump", move || {
                gcdump_prefixes(&gcdump)
            }));
        }
        None => trials.push(Trial::test("corpus", || Ok(())).with_ignored_flag(true)),
    }
    libtest_mimic::run(&args, trials).exit();
}
