//! Every `.gcdump` sample of the corpus against the golden outputs of
//! PerfView's own view code and `dotnet-gcdump report`:
//!
//! * the raw By Name view (Exc, Exc Ct, Exc %, the totals line, the row
//!   count) from the graph;
//! * `heaplens stats` numbers (type statistics) summed per PerfView frame
//!   name equal the same Exc / Exc Ct;
//! * the totals of `dotnet-gcdump report`;
//! * test1's whole graph against PerfView's XML rendering of it;
//! * PerfView's spanning tree: every node's parent and the visit order
//!   (`<sample>.parents.txt`);
//! * the raw By Name view's inclusive columns, the memory-window defaults
//!   view (grouping, folding, `[not reachable from roots]` excluded), its
//!   RefTree, and the defaults with Fold % 1 — every listed row and
//!   column, the totals and the row counts;
//! * PerfView's Diff of the two MonoGCDumpRepro snapshots, and
//!   `heaplens diff`'s per-type deltas against the same pair.
//!
//! One trial per sample and check; without the corpus every trial is
//! reported as ignored, after a line saying why (or they fail when
//! `HEAPLENS_REQUIRE_CORPUS=1`).

use heaplens_analysis::diff::{diff_type_stats, DiffOptions};
use heaplens_analysis::perfview::calltree::{CallTree, TreeIndex};
use heaplens_analysis::perfview::filter::FilterParams;
use heaplens_analysis::perfview::spanning::{spanning_tree, Priorities, SpanningTree};
use heaplens_analysis::perfview::stacks::StackSource;
use heaplens_analysis::perfview::{
    by_name_exclusive, short_module, shorten_namespaces, NOT_REACHABLE,
};
use heaplens_analysis::stats::{type_stats, Selection};
use heaplens_bytes::FileSource;
use heaplens_gcdump::GcDump;
use heaplens_tests::golden::{
    parse_graph_xml, parse_parents, parse_ref_tree, parse_report, parse_view, ViewSection,
};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const CHECKS: [&str; 8] = [
    "raw_by_name",
    "stats_per_frame",
    "report_totals",
    "spanning_tree",
    "raw_inclusive",
    "defaults_view",
    "ref_tree",
    "fold_percent",
];

fn read(path: &Path) -> Result<GcDump, Failed> {
    let f = FileSource::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    heaplens_gcdump::read(&f, &mut heaplens_graph::NoProgress)
        .map_err(|e| format!("{}: {e}", path.display()).into())
}

fn golden(shared: &Path, stem: &str, ext: &str) -> Result<String, Failed> {
    let p = shared
        .join("samples/gcdump/golden")
        .join(format!("{stem}.{ext}"));
    std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()).into())
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// Raw By Name section: every listed row equal, in the same order of Exc.
fn raw_by_name(shared: &Path, sample: &Path) -> Result<(), Failed> {
    let dump = read(sample)?;
    let g = &dump.graph;
    let sections = parse_view(&golden(shared, &stem(sample), "view.txt")?);
    let raw = sections
        .iter()
        .find(|s| s.title.starts_with("raw"))
        .ok_or("no raw section in the golden view")?;
    let view = by_name_exclusive(g, dump.sampling.as_ref());
    let (total, count) = view.totals();
    let (rows, row_count) = (&view.rows, view.row_count);
    if total != raw.total_metric || count != raw.total_count {
        return Err(format!(
            "totals: ours {total} bytes / {count} nodes, PerfView {} / {}",
            raw.total_metric, raw.total_count
        )
        .into());
    }
    if row_count != raw.by_name_rows {
        return Err(format!(
            "By Name rows: ours {row_count}, PerfView {}",
            raw.by_name_rows
        )
        .into());
    }
    let ours: HashMap<&str, (f64, f64)> = rows
        .iter()
        .map(|r| (r.name.as_str(), (r.exc, r.exc_count)))
        .collect();
    for (i, want) in raw.rows.iter().enumerate() {
        let Some(&(exc, ct)) = ours.get(want.name.as_str()) else {
            return Err(format!("row {i} {:?} is missing", want.name).into());
        };
        if exc != want.exc || ct != want.exc_count {
            return Err(format!(
                "row {:?}: ours Exc {exc} ExcCt {ct}, PerfView {} {}",
                want.name, want.exc, want.exc_count
            )
            .into());
        }
        let pct = exc * 100.0 / total;
        if (pct - want.exc_pct).abs() > 0.005 + 1e-9 {
            return Err(format!("row {:?}: Exc% {pct:.4} vs {}", want.name, want.exc_pct).into());
        }
        // Same order of |Exc| (names with equal Exc may be listed in any order).
        if rows[i].exc != want.exc {
            return Err(format!(
                "row {i}: ours {:?} Exc {}, PerfView {:?} Exc {}",
                rows[i].name, rows[i].exc, want.name, want.exc
            )
            .into());
        }
    }
    Ok(())
}

/// `heaplens stats` rows (type statistics, free space separate), summed per
/// PerfView frame name, equal PerfView's Exc and Exc Ct for every listed
/// row that holds objects.
fn stats_per_frame(shared: &Path, sample: &Path) -> Result<(), Failed> {
    let dump = read(sample)?;
    let g = &dump.graph;
    let st = type_stats(g, dump.sampling.as_ref(), Selection::All);
    let mut per_frame: HashMap<String, (u64, u64)> = HashMap::new();
    let frame = |name: &str, module: Option<&str>| match module {
        Some(m) => format!("{}!{}", short_module(m), shorten_namespaces(name)),
        None => name.to_owned(),
    };
    for r in &st.rows {
        let e = per_frame
            .entry(frame(&r.name, r.module.as_deref()))
            .or_default();
        e.0 += r.bytes;
        e.1 += r.count;
    }
    let graph_total = g.total_size();
    if st.bytes + st.free.bytes != graph_total {
        return Err(format!(
            "stats bytes {} + free {} != graph total {graph_total}",
            st.bytes, st.free.bytes
        )
        .into());
    }
    let nodes = g.node_count() as u64;
    let accounted = st.objects + st.free.count + st.pseudo_nodes + st.undefined_nodes;
    if accounted != nodes {
        return Err(format!("{accounted} nodes accounted for, graph has {nodes}").into());
    }
    let free_frames: Vec<String> = g
        .types()
        .iter()
        .enumerate()
        .filter(|(_, t)| t.kind == heaplens_graph::TypeKind::Free)
        .map(|(i, _)| heaplens_analysis::perfview::frame_name(g, i as u32))
        .collect();
    let sections = parse_view(&golden(shared, &stem(sample), "view.txt")?);
    let raw = &sections[0];
    let mut checked = 0;
    for want in &raw.rows {
        if free_frames.contains(&want.name) {
            if (st.free.bytes as f64, st.free.count as f64) != (want.exc, want.exc_count) {
                return Err(format!("free: ours {:?}, PerfView {want:?}", st.free).into());
            }
            continue;
        }
        if want.exc == 0.0 {
            continue; // pseudo-nodes: not objects
        }
        let got = per_frame
            .get(&want.name)
            .ok_or_else(|| format!("{:?} has bytes in PerfView but no stats row", want.name))?;
        if (got.0 as f64, got.1 as f64) != (want.exc, want.exc_count) {
            return Err(format!(
                "{:?}: stats {} bytes / {} objects, PerfView {} / {}",
                want.name, got.0, got.1, want.exc, want.exc_count
            )
            .into());
        }
        checked += 1;
    }
    if checked < 20 {
        return Err(format!("only {checked} rows compared").into());
    }
    Ok(())
}

/// `dotnet-gcdump report` totals: GC Heap bytes and objects.
fn report_totals(shared: &Path, sample: &Path) -> Result<(), Failed> {
    let dump = read(sample)?;
    let g = &dump.graph;
    let want = parse_report(&golden(shared, &stem(sample), "report-linux.txt")?);
    if g.total_size() != want.heap_bytes || g.node_count() as u64 != want.heap_objects {
        return Err(format!(
            "ours {} bytes / {} nodes, report {} / {}",
            g.total_size(),
            g.node_count(),
            want.heap_bytes,
            want.heap_objects
        )
        .into());
    }
    if want.references.is_some() {
        return Err("the report lists references, which a file does not store".into());
    }
    Ok(())
}

/// test1 against PerfView's XML rendering: every type name, every node's
/// type, size, address and children in order.
fn xml_graph(shared: &Path) -> Result<(), Failed> {
    let sample = shared.join("samples/gcdump/perfview-test1-jscript-ie.gcdump");
    let dump = read(&sample)?;
    let g = &dump.graph;
    let xml = std::fs::read_to_string(
        shared.join("samples/gcdump/golden/perfview-test1-jscript-ie_baseline.gcdump.xml"),
    )?;
    let (types, nodes) = parse_graph_xml(&xml);
    if types.len() != g.types().len() || nodes.len() != g.node_count() {
        return Err(format!(
            "{} types / {} nodes in XML, {} / {} read",
            types.len(),
            nodes.len(),
            g.types().len(),
            g.node_count()
        )
        .into());
    }
    for (i, name) in types.iter().enumerate() {
        if &g.types()[i].name != name {
            return Err(format!("type {i}: {:?} vs {name:?}", g.types()[i].name).into());
        }
    }
    for n in &nodes {
        let i = n.index;
        let got = (
            g.node_type(i),
            g.node_size(i),
            g.node_address(i),
            g.children(i),
        );
        if got != (n.type_index, n.size, n.address, &n.children[..]) {
            return Err(format!("node {i}: read {got:?}, XML {n:?}").into());
        }
    }
    Ok(())
}

/// The spanning tree of a sample with PerfView's default priorities.
fn tree_of(dump: &GcDump) -> SpanningTree {
    spanning_tree(
        &dump.graph,
        &Priorities::default(),
        &mut heaplens_graph::NoProgress,
    )
    .expect("no cancellation")
}

/// The stack source of a sample (one sample per node, spanning-tree stacks).
fn source_of(dump: &GcDump) -> StackSource {
    let tree = tree_of(dump);
    StackSource::from_graph(&dump.graph, dump.sampling.as_ref(), &tree)
}

/// PerfView's spanning tree: every node's parent and the visit order equal
/// `<sample>.parents.txt`.
fn spanning_tree_check(shared: &Path, sample: &Path) -> Result<(), Failed> {
    let dump = read(sample)?;
    let n = dump.graph.node_count();
    let want = parse_parents(&golden(shared, &stem(sample), "parents.txt")?);
    if want.parents.len() != n || want.order.len() != n {
        return Err(format!(
            "golden has {} parents / {} visits for {n} nodes",
            want.parents.len(),
            want.order.len()
        )
        .into());
    }
    let tree = tree_of(&dump);
    let ours: Vec<i64> = tree
        .raw_parents()
        .iter()
        .map(|&p| {
            if p == SpanningTree::NO_PARENT {
                -1
            } else {
                p as i64
            }
        })
        .collect();
    if let Some(i) = (0..n).find(|&i| ours[i] != want.parents[i]) {
        let differ = (0..n).filter(|&i| ours[i] != want.parents[i]).count();
        return Err(format!(
            "{differ} parents differ; first: node {i} has parent {} (PerfView {})",
            ours[i], want.parents[i]
        )
        .into());
    }
    if let Some(i) = (0..n).find(|&i| tree.order()[i] != want.order[i]) {
        return Err(format!(
            "visit {i}: node {} (PerfView {})",
            tree.order()[i],
            want.order[i]
        )
        .into());
    }
    Ok(())
}

/// A By Name section of the golden view against our call tree: totals, the
/// row count, and every listed row's six columns and two percentages, in
/// the same order of |Exc|.
fn compare_by_name(ours: &CallTree, want: &ViewSection) -> Result<(), Failed> {
    let (total, count) = ours.totals();
    if total != want.total_metric || count != want.total_count {
        return Err(format!(
            "totals: ours {total} / {count}, PerfView {} / {}",
            want.total_metric, want.total_count
        )
        .into());
    }
    let rows = ours.by_name();
    if rows.len() != want.by_name_rows {
        return Err(format!(
            "By Name rows: ours {}, PerfView {}",
            rows.len(),
            want.by_name_rows
        )
        .into());
    }
    let by_name: HashMap<&str, _> = rows.iter().map(|r| (r.name.as_str(), r.columns)).collect();
    for (i, w) in want.rows.iter().enumerate() {
        let c = by_name
            .get(w.name.as_str())
            .ok_or_else(|| format!("row {i} {:?} is missing", w.name))?;
        let got = [c.exc, c.exc_count, c.inc, c.inc_count, c.fold, c.fold_count];
        let exp = [w.exc, w.exc_count, w.inc, w.inc_count, w.fold, w.fold_count];
        if got != exp {
            return Err(format!(
                "row {:?}: ours Exc/ExcCt/Inc/IncCt/Fold/FoldCt {got:?}, PerfView {exp:?}",
                w.name
            )
            .into());
        }
        for (ours_pct, theirs) in [
            (c.exc * 100.0 / total.abs(), w.exc_pct),
            (c.inc * 100.0 / total.abs(), w.inc_pct),
        ] {
            if (ours_pct - theirs).abs() > 0.005 + 1e-9 {
                return Err(format!("row {:?}: {ours_pct:.4}% vs {theirs}%", w.name).into());
            }
        }
        if rows[i].columns.exc.abs() != w.exc.abs() {
            return Err(format!(
                "row {i}: ours {:?} Exc {}, PerfView {:?} Exc {}",
                rows[i].name, rows[i].columns.exc, w.name, w.exc
            )
            .into());
        }
    }
    if want.rows.len() < 20 {
        return Err(format!("only {} golden rows", want.rows.len()).into());
    }
    Ok(())
}

fn section<'a>(sections: &'a [ViewSection], title: &str) -> Result<&'a ViewSection, Failed> {
    sections
        .iter()
        .find(|s| s.title.starts_with(title))
        .ok_or_else(|| format!("no {title:?} section in the golden view").into())
}

/// A By Name section of `<sample>.view.txt`: `raw` with no filter, the
/// others with PerfView's memory-window defaults (and Fold %).
fn view_section(
    shared: &Path,
    sample: &Path,
    title: &str,
    fold_percent: Option<f32>,
) -> Result<(), Failed> {
    let dump = read(sample)?;
    let sections = parse_view(&golden(shared, &stem(sample), "view.txt")?);
    let want = section(&sections, title)?;
    let params = if title == "raw" {
        FilterParams::none()
    } else {
        FilterParams {
            fold_percent,
            ..FilterParams::memory_defaults()
        }
    };
    let tree = CallTree::new(&source_of(&dump), &params)?;
    compare_by_name(&tree, want)
}

/// The RefTree section (defaults, depth 4, 8 children per node): every
/// line's name, depth and columns, in order.
fn ref_tree(shared: &Path, sample: &Path) -> Result<(), Failed> {
    let dump = read(sample)?;
    let want = parse_ref_tree(&golden(shared, &stem(sample), "view.txt")?);
    let tree = CallTree::new(&source_of(&dump), &FilterParams::memory_defaults())?;
    let mut ours = Vec::new();
    let mut stack: Vec<(TreeIndex, usize)> = vec![(CallTree::ROOT, 0)];
    while let Some((i, depth)) = stack.pop() {
        let n = tree.node(i);
        let c = n.columns;
        ours.push((
            depth,
            n.name.clone(),
            c.inc,
            c.inc_count,
            c.exc,
            c.exc_count,
        ));
        if depth < 4 {
            for &child in tree.children(i).iter().take(8).rev() {
                stack.push((child, depth + 1));
            }
        }
    }
    if want.len() < 10 {
        return Err(format!("only {} golden RefTree lines", want.len()).into());
    }
    for (i, w) in want.iter().enumerate() {
        let exp = (
            w.depth,
            w.name.clone(),
            w.inc,
            w.inc_count,
            w.exc,
            w.exc_count,
        );
        match ours.get(i) {
            Some(got) if *got == exp => {}
            got => return Err(format!("line {i}: ours {got:?}, PerfView {exp:?}").into()),
        }
    }
    if ours.len() != want.len() {
        return Err(format!("{} lines, PerfView {}", ours.len(), want.len()).into());
    }
    Ok(())
}

/// PerfView's Diff (test 150644 minus baseline 150515, memory-window
/// defaults in both windows and in the diff window).
fn perfview_diff(shared: &Path) -> Result<(), Failed> {
    let dir = shared.join("samples/gcdump");
    let test = read(&dir.join("monogcdumprepro-20231108_150644_31024.gcdump"))?;
    let base = read(&dir.join("monogcdumprepro-20231108_150515_31024.gcdump"))?;
    let defaults = FilterParams::memory_defaults();
    let diff = StackSource::diff(&source_of(&test), &defaults, &source_of(&base), &defaults)?;
    let tree = CallTree::new(&diff, &defaults)?;
    let text =
        std::fs::read_to_string(dir.join("golden/diff-monogcdumprepro-150644-minus-150515.txt"))?;
    // One By Name section under a `# diff …` line, without a `## ` title.
    let body = text.split_once('\n').map_or("", |(_, rest)| rest);
    let sections = parse_view(&format!("## diff\n{body}"));
    compare_by_name(
        &tree,
        sections.first().ok_or("no section in the golden diff")?,
    )
}

/// `heaplens diff`'s per-type deltas (reachable objects) against PerfView's
/// Diff of the same pair: the golden totals, the golden rows that stand for
/// one type name (not a group, nothing folded into them), and every frame of
/// PerfView's Diff without grouping or folding — compared by short type
/// name, the level both share (PerfView merges a module's types by short
/// name, `heaplens diff` a name's types across modules).
fn type_diff_vs_perfview(shared: &Path) -> Result<(), Failed> {
    let dir = shared.join("samples/gcdump");
    let test = read(&dir.join("monogcdumprepro-20231108_150644_31024.gcdump"))?;
    let base = read(&dir.join("monogcdumprepro-20231108_150515_31024.gcdump"))?;
    let stats = |d: &GcDump| type_stats(&d.graph, d.sampling.as_ref(), Selection::Reachable);
    let ours = diff_type_stats(&stats(&base), &stats(&test), DiffOptions::default());
    let mut by_short: HashMap<String, (f64, f64)> = HashMap::new();
    for t in &ours.types {
        let e = by_short.entry(shorten_namespaces(&t.name)).or_default();
        e.0 += t.bytes_delta() as f64;
        e.1 += t.count_delta() as f64;
    }
    by_short.retain(|_, v| *v != (0.0, 0.0));
    let text =
        std::fs::read_to_string(dir.join("golden/diff-monogcdumprepro-150644-minus-150515.txt"))?;
    let body = text.split_once('\n').map_or("", |(_, rest)| rest);
    let golden = parse_view(&format!("## diff\n{body}"));
    let golden = golden.first().ok_or("no section in the golden diff")?;
    if ours.bytes_delta() as f64 != golden.total_metric {
        return Err(format!(
            "bytes delta {} vs PerfView {}",
            ours.bytes_delta(),
            golden.total_metric
        )
        .into());
    }
    let short = |frame: &str| frame.split_once('!').map(|(_, s)| s.to_owned());
    let mut rows = 0;
    for w in &golden.rows {
        if w.fold != 0.0 || w.name.starts_with("LIB <<") || w.name.starts_with('[') {
            continue;
        }
        let s = short(&w.name).ok_or_else(|| format!("{:?} has no module", w.name))?;
        let got = by_short.get(&s).copied().unwrap_or_default();
        if got != (w.exc, w.exc_count) {
            return Err(format!(
                "{:?}: ours {got:?}, PerfView {:?}",
                w.name,
                (w.exc, w.exc_count)
            )
            .into());
        }
        rows += 1;
    }
    if rows < 3 {
        return Err(format!("only {rows} golden rows compared").into());
    }
    // PerfView's Diff with unreachable nodes excluded and nothing grouped.
    let reachable_only = FilterParams {
        exclude: NOT_REACHABLE.to_owned(),
        ..FilterParams::none()
    };
    let diff = StackSource::diff(
        &source_of(&test),
        &reachable_only,
        &source_of(&base),
        &reachable_only,
    )?;
    let tree = CallTree::new(&diff, &FilterParams::none())?;
    let mut perfview: HashMap<String, (f64, f64)> = HashMap::new();
    for r in tree.by_name() {
        if let Some(s) = short(&r.name) {
            let e = perfview.entry(s).or_default();
            e.0 += r.columns.exc;
            e.1 += r.columns.exc_count;
        }
    }
    perfview.retain(|_, v| *v != (0.0, 0.0));
    if perfview != by_short {
        let only: Vec<_> = perfview
            .iter()
            .filter(|(k, v)| by_short.get(*k) != Some(v))
            .take(5)
            .collect();
        return Err(format!(
            "{} names in PerfView's diff, {} in ours; differing: {only:?}",
            perfview.len(),
            by_short.len()
        )
        .into());
    }
    if perfview.len() < 20 {
        return Err(format!("only {} changed names", perfview.len()).into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match heaplens_corpus::shared_or_skip("the .gcdump golden tests") {
        Some(shared) => {
            let samples: Vec<PathBuf> = heaplens_corpus::gcdump_samples(&shared);
            trials.push(Trial::test("corpus_has_samples", {
                let n = samples.len();
                move || {
                    if n >= 5 {
                        Ok(())
                    } else {
                        Err(format!("only {n} .gcdump samples found").into())
                    }
                }
            }));
            for sample in samples {
                let name = stem(&sample);
                for check in CHECKS {
                    let (shared, sample) = (shared.clone(), sample.clone());
                    trials.push(Trial::test(
                        format!("{check}::{name}"),
                        move || match check {
                            "raw_by_name" => raw_by_name(&shared, &sample),
                            "stats_per_frame" => stats_per_frame(&shared, &sample),
                            "report_totals" => report_totals(&shared, &sample),
                            "spanning_tree" => spanning_tree_check(&shared, &sample),
                            "raw_inclusive" => view_section(&shared, &sample, "raw", None),
                            "defaults_view" => {
                                view_section(&shared, &sample, "PerfView memory-window", None)
                            }
                            "fold_percent" => {
                                view_section(&shared, &sample, "defaults + Fold% 1", Some(1.0))
                            }
                            _ => ref_tree(&shared, &sample),
                        },
                    ));
                }
            }
            {
                let shared = shared.clone();
                trials.push(Trial::test(
                    "perfview_diff::monogcdumprepro-150644-minus-150515",
                    move || perfview_diff(&shared),
                ));
            }
            {
                let shared = shared.clone();
                trials.push(Trial::test(
                    "type_diff::monogcdumprepro-150644-minus-150515",
                    move || type_diff_vs_perfview(&shared),
                ));
            }
            trials.push(Trial::test(
                "xml_graph::perfview-test1-jscript-ie",
                move || xml_graph(&shared),
            ));
        }
        None => {
            for check in CHECKS.iter().chain(&[
                "xml_graph",
                "corpus_has_samples",
                "perfview_diff",
                "type_diff",
            ]) {
                trials.push(
                    Trial::test(format!("{check}::<corpus missing>"), || Ok(()))
                        .with_ignored_flag(true),
                );
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
