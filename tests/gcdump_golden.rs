//! Every `.gcdump` sample of the corpus against the golden outputs of
//! PerfView's own view code and `dotnet-gcdump report`:
//!
//! * the raw By Name view (Exc, Exc Ct, Exc %, the totals line, the row
//!   count) from the graph;
//! * `heaplens stats` numbers (type statistics) summed per PerfView frame
//!   name equal the same Exc / Exc Ct;
//! * the totals of `dotnet-gcdump report`;
//! * test1's whole graph against PerfView's XML rendering of it.
//!
//! One trial per sample and check; without the corpus every trial is
//! reported as ignored, after a line saying why (or they fail when
//! `HEAPLENS_REQUIRE_CORPUS=1`).

use heaplens_analysis::perfview::{by_name_exclusive, short_module, shorten_namespaces};
use heaplens_analysis::stats::{type_stats, Selection};
use heaplens_bytes::FileSource;
use heaplens_gcdump::GcDump;
use heaplens_tests::golden::{parse_graph_xml, parse_report, parse_view};
use libtest_mimic::{Arguments, Failed, Trial};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

const CHECKS: [&str; 3] = ["raw_by_name", "stats_per_frame", "report_totals"];

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
    let g = &dump.snapshot.graph;
    let sections = parse_view(&golden(shared, &stem(sample), "view.txt")?);
    let raw = sections
        .iter()
        .find(|s| s.title.starts_with("raw"))
        .ok_or("no raw section in the golden view")?;
    let view = by_name_exclusive(g, dump.snapshot.info.sampling.as_ref());
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
    let g = &dump.snapshot.graph;
    let st = type_stats(g, dump.snapshot.info.sampling.as_ref(), Selection::All);
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
    let g = &dump.snapshot.graph;
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
    let g = &dump.snapshot.graph;
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
                            _ => report_totals(&shared, &sample),
                        },
                    ));
                }
            }
            trials.push(Trial::test(
                "xml_graph::perfview-test1-jscript-ie",
                move || xml_graph(&shared),
            ));
        }
        None => {
            for check in CHECKS.iter().chain(&["xml_graph", "corpus_has_samples"]) {
                trials.push(
                    Trial::test(format!("{check}::<corpus missing>"), || Ok(()))
                        .with_ignored_flag(true),
                );
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
