//! What `heaplens … --json` prints is the result schema (`heaplens_results`):
//! every command's document carries the schema version and reads back as
//! its type; the rows agree with PerfView's own views and the runtime's own
//! heap walk; rows of one name and module keep their own numbers, joined
//! across documents by id.

use heaplens_analysis::perfview::{short_module, shorten_namespaces};
use heaplens_results::diff::DiffDocument;
use heaplens_results::findings::FindingsDocument;
use heaplens_results::info::InfoDocument;
use heaplens_results::retained::RetainedDocument;
use heaplens_results::roots::RootsDocument;
use heaplens_results::stats::StatsDocument;
use heaplens_results::{DocumentKind, Header, TypeId, SCHEMA_VERSION};
use heaplens_tests::golden::parse_view;
use serde::de::DeserializeOwned;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `heaplens ARGS FILES` (which must succeed), read as document `T` after
/// its header is checked.
fn document<T: DeserializeOwned>(args: &[&str], files: &[&Path], kind: DocumentKind) -> T {
    let out = Command::new(env!("CARGO_BIN_EXE_heaplens"))
        .args(args)
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let header: Header = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(header.schema_version, SCHEMA_VERSION, "{args:?}");
    assert_eq!(
        header.heaplens_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION")),
        "{args:?}"
    );
    assert_eq!(header.document, Some(kind), "{args:?}");
    header.check().unwrap();
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: not a {kind:?} document: {e}"))
}

fn samples() -> Option<PathBuf> {
    heaplens_corpus::shared_or_skip("the CLI schema tests").map(|s| s.join("samples/gcdump"))
}

#[test]
fn every_command_writes_a_versioned_document() {
    let Some(dir) = samples() else { return };
    let a = dir.join("monogcdumprepro-20231108_150515_31024.gcdump");
    let b = dir.join("monogcdumprepro-20231108_150644_31024.gcdump");
    let stats: StatsDocument = document(&["stats", "--json"], &[&a], DocumentKind::Stats);
    assert_eq!(stats.header.file, a.display().to_string());
    assert_eq!(
        stats.header.file_bytes,
        std::fs::metadata(&a).unwrap().len()
    );
    let info: InfoDocument = document(&["info", "--json"], &[&a], DocumentKind::Info);
    assert_eq!(info.file_bytes, stats.header.file_bytes);
    let _: RetainedDocument = document(&["retained", "--json"], &[&a], DocumentKind::Retained);
    let roots: RootsDocument = document(
        &["roots", "--json", "--type", "System.String", "--paths", "3"],
        &[&a],
        DocumentKind::Roots,
    );
    assert!(!roots.paths.is_empty() && roots.paths.len() <= 3);
    assert_eq!(roots.shortest_path.as_ref(), roots.paths.first());
    let diff: DiffDocument = document(&["diff", "--json"], &[&a, &b], DocumentKind::Diff);
    assert_eq!(diff.base.file, a.display().to_string());
    // A .gcdump holds no values: the detectors that read them say so.
    let f: FindingsDocument = document(&["findings", "--json"], &[&a, &b], DocumentKind::Findings);
    assert_eq!(
        f.base_file.as_deref(),
        Some(a.display().to_string().as_str())
    );
    assert_eq!(f.file, b.display().to_string());
    let events = f.detectors.iter().find(|d| d.pattern == "events").unwrap();
    assert!(
        events
            .silent_because
            .as_deref()
            .is_some_and(|w| w.contains("no object contents")),
        "{events:?}"
    );
    assert!(f.findings.iter().all(|x| x.growth_retained_bytes.is_some()));
}

/// `findings` of the linux-net8 phase 1 and 2 cores: the text and the JSON
/// tell the same findings, the first the LeakItem list DumpLab grows
/// (`tests/findings.rs` checks its numbers against the runtime's).
#[test]
fn findings_text_and_json_agree() {
    let Some((p1, dir)) = net8_core() else { return };
    let p2 = heaplens_corpus::unpacked(&dir.join("phase2.withheap.core.zst")).unwrap();
    let doc: FindingsDocument =
        document(&["findings", "--json"], &[&p1, &p2], DocumentKind::Findings);
    let top = doc.findings.first().expect("a finding");
    assert_eq!(
        top.path.as_ref().and_then(|p| p.root_name.as_deref()),
        Some("DumpLab.Roots.Leak")
    );
    let out = Command::new(env!("CARGO_BIN_EXE_heaplens"))
        .args(["findings"])
        .args([&p1, &p2])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for f in &doc.findings {
        assert!(text.contains(&f.verdict), "{text}\nlacks {}", f.verdict);
    }
    assert!(text.contains("1. [large_holder]"), "{text}");
}

/// `heaplens stats --json` of every `.gcdump` sample: its rows, summed per
/// PerfView frame name (module!name with namespaces shortened), equal the
/// Exc and Exc Ct of every row of PerfView's own raw By Name view, and its
/// free space equals PerfView's `Free` rows.
#[test]
fn stats_json_rows_equal_perfviews_by_name_view_on_every_sample() {
    let Some(dir) = samples() else { return };
    let mut samples: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "gcdump"))
        .collect();
    samples.sort();
    assert!(samples.len() >= 5, "{samples:?}");
    for sample in &samples {
        let stem = sample.file_stem().unwrap().to_string_lossy();
        let doc: StatsDocument = document(&["stats", "--json"], &[sample], DocumentKind::Stats);
        let mut per_frame: HashMap<String, (u64, u64)> = HashMap::new();
        for r in &doc.types {
            let frame = match &r.module {
                Some(m) => format!("{}!{}", short_module(m), shorten_namespaces(&r.name)),
                None => r.name.clone(),
            };
            let e = per_frame.entry(frame).or_default();
            e.0 += r.bytes;
            e.1 += r.count;
        }
        let view = std::fs::read_to_string(dir.join(format!("golden/{stem}.view.txt"))).unwrap();
        let sections = parse_view(&view);
        let raw = &sections[0];
        let mut checked = 0;
        for want in &raw.rows {
            if want.exc == 0.0 {
                continue; // pseudo-nodes: not objects
            }
            let got = match per_frame.get(&want.name) {
                Some(&g) => g,
                // Free space is apart from the rows, as SOS has it.
                None if want.name.ends_with("Free") || want.name.contains("!Free") => {
                    (doc.free.bytes, doc.free.count)
                }
                None => panic!("{stem}: {:?} has bytes in PerfView but no row", want.name),
            };
            assert_eq!(
                (got.0 as f64, got.1 as f64),
                (want.exc, want.exc_count),
                "{stem}: {:?}",
                want.name
            );
            checked += 1;
        }
        assert!(checked >= 10, "{stem}: only {checked} rows compared");
        // The document's totals are its rows'.
        let objects: u64 = doc.types.iter().map(|r| r.count).sum();
        let bytes: u64 = doc.types.iter().map(|r| r.bytes).sum();
        assert_eq!((objects, bytes), (doc.objects, doc.bytes), "{stem}");
        assert_eq!(doc.type_count, doc.types.len() as u64, "{stem}");
    }
}

/// The linux-net8 phase 1 core, unpacked, and its fixture folder.
fn net8_core() -> Option<(PathBuf, PathBuf)> {
    let shared = heaplens_corpus::shared_or_skip("the CLI schema tests of Linux cores")?;
    let dir = shared.join("fixtures/linux-net8");
    let core = heaplens_corpus::unpacked(&dir.join("phase1.withheap.core.zst")).unwrap();
    Some((core, dir))
}

/// `stats --json` of a core: the program's own types have the counts and
/// bytes of the runtime's own heap walk (`reference.json`'s `!dumpheap
/// -stat`), one row each.
#[test]
fn stats_json_rows_of_a_core_equal_the_runtimes_heap_walk() {
    let Some((core, dir)) = net8_core() else {
        return;
    };
    let doc: StatsDocument = document(&["stats", "--json"], &[&core], DocumentKind::Stats);
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("phase1.reference.json")).unwrap()).unwrap();
    let walk: HashMap<&str, (u64, u64)> = reference["dumpheap_stat"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["type"].as_str().unwrap(),
                (
                    t["count"].as_u64().unwrap(),
                    t["total_size"].as_u64().unwrap(),
                ),
            )
        })
        .collect();
    // The types whose count the program fixes (`check_against_expected`'s
    // exact ones): nothing allocates or frees them around the walk.
    let exact = reference["check_against_expected"]["exact"]
        .as_object()
        .unwrap();
    let mut checked = 0;
    for name in exact.keys() {
        let Some(&(count, bytes)) = walk.get(name.as_str()) else {
            continue; // none alive (DumpLab.Garbage)
        };
        let rows: Vec<_> = doc.types.iter().filter(|r| &r.name == name).collect();
        assert_eq!(rows.len(), 1, "{name}");
        assert_eq!((rows[0].count, rows[0].bytes), (count, bytes), "{name}");
        assert!(rows[0].mt.is_some(), "{name}");
        checked += 1;
    }
    assert!(checked >= 15, "only {checked} types compared");
}

/// Types of one name and module — `<>c`, the closure classes of several
/// outer classes of System.Private.CoreLib, in the linux-net8 core — are one
/// row each, with their own id, and keep their own numbers in every
/// document: `retained --json` rows found by id count what the `stats` row
/// of that id counts (the same live objects), not the sum of the name.
#[test]
fn rows_of_one_name_and_module_keep_their_own_numbers_across_documents() {
    let Some((core, _)) = net8_core() else {
        return;
    };
    let stats: StatsDocument = document(&["stats", "--json"], &[&core], DocumentKind::Stats);
    let retained: RetainedDocument = document(
        &["retained", "--json", "--top", "1000000"],
        &[&core],
        DocumentKind::Retained,
    );
    let mut by_key: HashMap<(&str, Option<&str>), Vec<TypeId>> = HashMap::new();
    for r in &stats.types {
        by_key
            .entry((r.name.as_str(), r.module.as_deref()))
            .or_default()
            .push(r.id);
    }
    let shared: Vec<TypeId> = by_key
        .values()
        .filter(|ids| ids.len() > 1)
        .flatten()
        .copied()
        .collect();
    assert!(
        shared.len() >= 2,
        "the core has no two types of one name and module"
    );
    let ids: HashSet<TypeId> = stats.types.iter().map(|r| r.id).collect();
    assert_eq!(ids.len(), stats.types.len(), "ids are unique");
    let stats_by_id: HashMap<TypeId, _> = stats.types.iter().map(|r| (r.id, r)).collect();
    assert_eq!(retained.type_count, stats.types.len() as u64);
    for r in &retained.types {
        let s = stats_by_id[&r.id];
        assert_eq!(
            (&r.name, r.count, r.shallow_bytes),
            (&s.name, s.count, s.bytes),
            "row {:?}",
            r.id
        );
        assert!(r.retained_bytes >= r.shallow_bytes);
    }
    let shared_rows: Vec<_> = retained
        .types
        .iter()
        .filter(|r| shared.contains(&r.id))
        .collect();
    assert_eq!(shared_rows.len(), shared.len());
    // The objects' types are rows of the table too.
    for o in &retained.objects {
        assert_eq!(stats_by_id[&o.type_id].name, o.type_name);
    }
}

/// A diff's rows link to the rows of both snapshots' `stats` documents.
#[test]
fn diff_rows_link_to_both_snapshots_rows() {
    let Some(dir) = samples() else { return };
    let a = dir.join("monogcdumprepro-20231108_150515_31024.gcdump");
    let b = dir.join("monogcdumprepro-20231108_150644_31024.gcdump");
    let base: StatsDocument = document(&["stats", "--json"], &[&a], DocumentKind::Stats);
    let current: StatsDocument = document(&["stats", "--json"], &[&b], DocumentKind::Stats);
    let diff: DiffDocument = document(&["diff", "--json"], &[&a, &b], DocumentKind::Diff);
    let rows = |doc: &StatsDocument| -> HashMap<TypeId, (String, u64, u64)> {
        doc.types
            .iter()
            .map(|r| (r.id, (r.name.clone(), r.count, r.bytes)))
            .collect()
    };
    let (base_rows, current_rows) = (rows(&base), rows(&current));
    assert!(!diff.types.is_empty());
    for t in &diff.types {
        let sum = |ids: &[TypeId], rows: &HashMap<TypeId, (String, u64, u64)>| {
            ids.iter().fold((0, 0), |(c, b), id| {
                let (name, count, bytes) = &rows[id];
                assert_eq!(name, &t.name);
                (c + count, b + bytes)
            })
        };
        assert_eq!(
            sum(&t.base_type_ids, &base_rows),
            (t.count_base, t.bytes_base),
            "{}",
            t.name
        );
        assert_eq!(
            sum(&t.current_type_ids, &current_rows),
            (t.count_current, t.bytes_current),
            "{}",
            t.name
        );
    }
}
