//! `heaplens flame`, and the answers `stats`, `diff` and `roots` give with
//! their new flags, as users run them: the documents read back as their
//! types, folded stacks are what speedscope and flamegraph.pl read and add
//! up to the document's totals, the columns equal PerfView's, the leak's
//! holder comes first by retained growth. (The numbers themselves are
//! checked against independent references in `tests/answers.rs`.)

use heaplens_results::diff::{DiffDocument, DiffSort};
use heaplens_results::flame::{FlameDocument, FrameKind};
use heaplens_results::roots::RootsDocument;
use heaplens_results::stats::StatsDocument;
use heaplens_results::{DocumentKind, Header, SCHEMA_VERSION};
use heaplens_tests::golden::parse_view;
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str], files: &[&Path]) -> Vec<u8> {
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
    out.stdout
}

fn document<T: DeserializeOwned>(args: &[&str], files: &[&Path], kind: DocumentKind) -> T {
    let out = run(args, files);
    let header: Header = serde_json::from_slice(&out).unwrap();
    assert_eq!(header.schema_version, SCHEMA_VERSION);
    assert_eq!(header.document, Some(kind), "{args:?}");
    serde_json::from_slice(&out).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

fn samples() -> Option<PathBuf> {
    heaplens_corpus::shared_or_skip("the CLI answers tests").map(|s| s.join("samples/gcdump"))
}

/// The linux-net8 cores of phases 1 and 2, unpacked.
fn net8_cores() -> Option<(PathBuf, PathBuf)> {
    let shared = heaplens_corpus::shared_or_skip("the CLI answers tests of cores")?;
    let dir = shared.join("fixtures/linux-net8");
    let core = |p| heaplens_corpus::unpacked(&dir.join(format!("phase{p}.withheap.core.zst")));
    Some((core(1).unwrap(), core(2).unwrap()))
}

/// Every frame's children and own bytes add up to its bytes.
fn adds_up(doc: &FlameDocument) {
    for f in &doc.frames {
        let kids: u64 = doc
            .frames
            .iter()
            .filter(|c| c.parent == Some(f.id))
            .map(|c| c.bytes)
            .sum();
        assert_eq!(kids + f.self_bytes, f.bytes, "{}", f.name);
    }
    assert_eq!(doc.frames[0].bytes, doc.total.bytes);
}

/// Parses folded stacks as speedscope's importer does
/// (`/^(.*) (\d+)$/`, stack split at `;`): the stacks and their weights.
fn speedscope(text: &str) -> Vec<(Vec<String>, u64)> {
    text.lines()
        .map(|l| {
            let (stack, n) = l.rsplit_once(' ').expect("a line `stack count`");
            assert!(n.bytes().all(|b| b.is_ascii_digit()), "{l}");
            (
                stack.split(';').map(str::to_owned).collect(),
                n.parse().unwrap(),
            )
        })
        .collect()
}

#[test]
fn flame_documents_and_folded_stacks_add_up() {
    let Some(dir) = samples() else { return };
    let a = dir.join("monogcdumprepro-20231108_150515_31024.gcdump");
    let b = dir.join("monogcdumprepro-20231108_150644_31024.gcdump");
    for by in ["retained", "inclusive"] {
        let doc: FlameDocument =
            document(&["flame", "--json", "--by", by], &[&a], DocumentKind::Flame);
        adds_up(&doc);
        assert!(doc.frames.len() as u64 <= doc.max_frames);
        let folded = String::from_utf8(run(&["flame", "--folded", "--by", by], &[&a])).unwrap();
        let lines = speedscope(&folded);
        let sum: u64 = lines.iter().map(|(_, n)| n).sum();
        assert_eq!(sum, doc.total.bytes, "{by}");
        // A budget keeps the totals: the rest is in [other] frames.
        let cut: FlameDocument = document(
            &["flame", "--json", "--by", by, "--max-frames", "50"],
            &[&a],
            DocumentKind::Flame,
        );
        adds_up(&cut);
        assert!(cut.frames.len() <= 50);
        assert!(cut.frames.iter().any(|f| f.kind == FrameKind::Other));
        assert_eq!(cut.total, doc.total);
    }
    // A differential flame graph: base and current sides, deltas, and
    // flamegraph.pl's two-number lines.
    let d: FlameDocument = document(
        &["flame", "--json", "--base"],
        &[&a, &b],
        DocumentKind::Flame,
    );
    adds_up(&d);
    let base = d.base_total.unwrap();
    assert_eq!(d.base_file.as_deref(), Some(a.to_str().unwrap()));
    let root = &d.frames[0];
    assert_eq!(root.base_bytes, Some(base.bytes));
    assert_eq!(
        root.delta_bytes,
        Some(d.total.bytes as i64 - base.bytes as i64)
    );
    let text = String::from_utf8(run(&["flame", "--folded", "--base"], &[&a, &b])).unwrap();
    let (mut sb, mut sc) = (0u64, 0u64);
    for l in text.lines() {
        let mut it = l.rsplitn(3, ' ');
        sc += it.next().unwrap().parse::<u64>().unwrap();
        sb += it.next().unwrap().parse::<u64>().unwrap();
    }
    assert_eq!((sb, sc), (base.bytes, d.total.bytes));
}

/// `stats --inclusive --json`: Inc and Inc Ct equal PerfView's By Name
/// view (its raw section) for the rows that are one type each.
#[test]
fn stats_inclusive_columns_equal_perfviews() {
    let Some(dir) = samples() else { return };
    let a = dir.join("perfview-test2-wpf-netfx-x86.gcdump");
    let doc: StatsDocument = document(
        &["stats", "--json", "--inclusive", "--retained"],
        &[&a],
        DocumentKind::Stats,
    );
    let view =
        std::fs::read_to_string(dir.join("golden/perfview-test2-wpf-netfx-x86.view.txt")).unwrap();
    let raw = parse_view(&view).into_iter().next().unwrap();
    assert_eq!(doc.inclusive_total, Some(raw.total_metric as u64));
    let mut checked = 0;
    for w in &raw.rows {
        let Some((_, short)) = w.name.split_once('!') else {
            continue;
        };
        let rows: Vec<_> = doc
            .types
            .iter()
            .filter(|r| heaplens_analysis::perfview::shorten_namespaces(&r.name) == short)
            .collect();
        if let [r] = rows[..] {
            assert_eq!(
                (r.inc, r.inc_count),
                (Some(w.inc as u64), Some(w.inc_count as u64)),
                "{}",
                w.name
            );
            assert!(r.retained_bytes.is_some());
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
    // The CSV has a line per type, every column.
    let csv = String::from_utf8(run(&["stats", "--csv", "--inclusive"], &[&a])).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("count,bytes,percent,"));
    assert_eq!(lines.count() as u64, doc.type_count);
}

#[test]
fn growth_by_retained_size_and_groups_and_key_paths() {
    let Some((p1, p2)) = net8_cores() else { return };
    let d: DiffDocument = document(
        &["diff", "--json", "--by", "retained", "--group", "interface"],
        &[&p1, &p2],
        DocumentKind::Diff,
    );
    assert_eq!(d.sorted_by, DiffSort::RetainedGrowth);
    assert!(d.retained);
    let first = &d.types[0];
    assert_eq!(
        first.name,
        "System.Collections.Generic.List`1[DumpLab.LeakItem]"
    );
    assert_eq!((first.count_delta, first.bytes_delta), (0, 0));
    assert!(first.retained_delta.unwrap() > 300_000);
    let groups = d.groups.unwrap();
    let ilist = groups
        .rows
        .iter()
        .find(|r| r.name == "System.Collections.Generic.IList`1")
        .unwrap();
    assert!(ilist.retained_delta.unwrap() > 300_000);
    let s: StatsDocument = document(
        &["stats", "--json", "--group", "interface"],
        &[&p2],
        DocumentKind::Stats,
    );
    assert!(s.type_hierarchy);
    let list = s
        .types
        .iter()
        .find(|r| r.name == "System.Collections.Generic.List`1[DumpLab.LeakItem]")
        .unwrap();
    let g = s.groups.unwrap();
    assert!(g.overlapping);
    assert!(g
        .rows
        .iter()
        .any(|r| r.name == "System.Collections.Generic.IList`1" && r.type_ids.contains(&list.id)));
    let r: RootsDocument = document(
        &[
            "roots",
            "--json",
            "--type",
            "DumpLab.LeakItem",
            "--retained",
        ],
        &[&p2],
        DocumentKind::Roots,
    );
    assert_eq!(r.key_path_count, 1);
    let k = &r.key_paths[0];
    assert_eq!(k.count, 3_500);
    assert_eq!(k.root_name.as_deref(), Some("DumpLab.Roots.Leak"));
    assert_eq!(k.path.last().map(String::as_str), Some("DumpLab.LeakItem"));
    assert!(k.retained_bytes.unwrap() >= k.bytes);
}
