//! The documents of the result schema, built from small graphs whose
//! answers are worked out by hand in the tests: their numbers and ids, the
//! JSON they make and read back, and the schema version.

use heaplens_analysis::diff::DiffOptions;
use heaplens_analysis::dominators::dominators;
use heaplens_analysis::paths::root_paths;
use heaplens_analysis::retained::retained_sizes;
use heaplens_analysis::stats::{type_stats, Selection};
use heaplens_graph::{GraphBuilder, NoProgress, RootKind, TypeIndex, TypeInfo, TypeKind};
use heaplens_results::analysis::{AnalysisDocument, DumpAnalysis};
use heaplens_results::diff::{
    diff_documents, diff_snapshots, DiffDocument, DiffInputError, DiffStatus,
};
use heaplens_results::retained::{Dominator, RetainedDocument, RetainedLimits};
use heaplens_results::roots::{RefNode, RootsDocument, RootsLimits};
use heaplens_results::stats::stats_of;
use heaplens_results::stats::StatsDocument;
use heaplens_results::{DocumentKind, Header, TypeId, SCHEMA_VERSION};
use heaplens_snapshot::format::{by_name, Format};
use heaplens_snapshot::{Snapshot, SnapshotInfo};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;

fn object_type(b: &mut GraphBuilder, name: &str, module: Option<u32>, mt: u64) -> TypeIndex {
    b.add_type(TypeInfo {
        name: name.into(),
        module,
        kind: TypeKind::Object,
        method_table: mt,
    })
}

/// Two types named `App.Cache`1` in one module (two MethodTables: two
/// instantiations the input names alike), each holding a byte array, plus a
/// holder of both and an unreachable object:
///
/// ```text
/// [static App.a] → 0 Cache#1 (24) → 2 Byte[] (1,000)
/// [static App.b] → 1 Cache#2 (24) → 3 Byte[] (5,000)
/// [handle]       → 4 Holder (16) → 0, 1
/// 5 Cache#2 (24), unreachable
/// ```
///
/// Each cache is reached from its static and from the holder, so none
/// dominates another: retained sizes are 1,024 and 5,024, the holder
/// retains itself only.
fn elf_core() -> &'static Format {
    by_name("elf-core").unwrap()
}

fn gcdump() -> &'static Format {
    by_name("gcdump").unwrap()
}

fn two_caches(format: &'static Format) -> (Snapshot, TypeIndex, TypeIndex) {
    let mut b = GraphBuilder::new();
    let m = b.module("App.dll");
    let c1 = object_type(&mut b, "App.Cache`1", Some(m), 0x1000);
    let c2 = object_type(&mut b, "App.Cache`1", Some(m), 0x2000);
    let blob = object_type(&mut b, "System.Byte[]", None, 0x3000);
    let holder = object_type(&mut b, "App.Holder", Some(m), 0x4000);
    b.add_node(c1, 24, 0x100, [2]).unwrap();
    b.add_node(c2, 24, 0x200, [3]).unwrap();
    b.add_node(blob, 1000, 0x300, []).unwrap();
    b.add_node(blob, 5000, 0x400, []).unwrap();
    b.add_node(holder, 16, 0x500, [0, 1]).unwrap();
    b.add_node(c2, 24, 0x600, []).unwrap();
    b.add_root(0, RootKind::Static, Some("App.a"));
    b.add_root(1, RootKind::Static, Some("App.b"));
    b.add_root(4, RootKind::StrongHandle, None);
    let snapshot = Snapshot {
        graph: b.finish().unwrap(),
        info: SnapshotInfo::new(format),
    };
    (snapshot, c1, c2)
}

/// JSON out and back in: the same value, and a header this heaplens reads.
fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
    doc: &T,
    kind: DocumentKind,
) -> serde_json::Value {
    let json = serde_json::to_string(doc).unwrap();
    let back: T = serde_json::from_str(&json).unwrap();
    assert_eq!(&back, doc);
    let header: Header = serde_json::from_str(&json).unwrap();
    assert_eq!(header.schema_version, SCHEMA_VERSION);
    assert_eq!(header.document, Some(kind));
    assert_eq!(
        header.heaplens_version.as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    header.check().unwrap();
    serde_json::from_str(&json).unwrap()
}

#[test]
fn two_types_of_one_name_and_module_keep_separate_rows_and_retained_sizes() {
    let (snap, c1, c2) = two_caches(elf_core());
    let g = &snap.graph;
    let st = type_stats(g, None, Selection::Reachable);
    let stats = StatsDocument::build_all("two.core", 1, &snap, &st);
    let caches: Vec<_> = stats
        .types
        .iter()
        .filter(|r| r.name == "App.Cache`1")
        .collect();
    assert_eq!(caches.len(), 2, "one row per MethodTable");
    let ids: Vec<TypeId> = caches.iter().map(|r| r.id).collect();
    assert!(ids.contains(&TypeId(c1)) && ids.contains(&TypeId(c2)));
    // The unreachable Cache#2 is not in its row.
    assert!(caches.iter().all(|r| (r.count, r.bytes) == (1, 24)));

    let dom = dominators(g, &mut NoProgress).unwrap();
    let sizes = retained_sizes(g, &dom);
    let limits = RetainedLimits {
        types: None,
        objects: 3,
    };
    let retained = RetainedDocument::build("two.core", &snap, &dom, &sizes, limits);
    let by_id = retained.retained_by_id();
    // Worked out above, by hand: each cache retains its own array.
    assert_eq!(by_id[&TypeId(c1)], 24 + 1000);
    assert_eq!(by_id[&TypeId(c2)], 24 + 5000);
    assert_eq!(
        by_id[&stats
            .types
            .iter()
            .find(|r| r.name == "App.Holder")
            .unwrap()
            .id],
        16
    );
    // Every row of the table finds its retained size by id; the sum of
    // the top-level retained sizes is the reachable heap.
    assert!(stats.types.iter().all(|r| by_id.contains_key(&r.id)));
    assert_eq!(retained.reachable_bytes, 24 + 24 + 1000 + 5000 + 16);
    assert_eq!(
        (retained.unreachable_objects, retained.unreachable_bytes),
        (1, 24)
    );
    // The largest object is the second cache; the roots keep it alive.
    let top = &retained.objects[0];
    assert_eq!(
        (top.type_id, top.retained_bytes, top.address.0),
        (TypeId(c2), 5024, 0x200)
    );
    assert!(matches!(top.dominator, Dominator::Roots(_)));
    // The arrays are kept alive by their caches.
    let array = retained
        .objects
        .iter()
        .find(|o| o.type_name == "System.Byte[]")
        .unwrap();
    assert!(
        matches!(&array.dominator, Dominator::Object { type_id, .. } if *type_id == TypeId(c2))
    );
    let v = round_trip(&retained, DocumentKind::Retained);
    assert_eq!(v["objects"][0]["dominator"], "root");
    assert_eq!(v["objects"][0]["address"], "0x200");
    round_trip(&stats, DocumentKind::Stats);
}

#[test]
fn stats_document_fields() {
    let (snap, c1, _) = two_caches(elf_core());
    let st = type_stats(&snap.graph, None, Selection::Reachable);
    let doc = StatsDocument::build_all("two.core", 4096, &snap, &st);
    let v = round_trip(&doc, DocumentKind::Stats);
    assert_eq!(v["document"], "stats");
    assert_eq!(v["format"], "elf-core");
    assert_eq!(
        (v["objects"].as_u64(), v["bytes"].as_u64()),
        (Some(5), Some(6064))
    );
    assert_eq!(
        v["unreachable"],
        serde_json::json!({"count": 1, "bytes": 24})
    );
    assert_eq!(
        (
            v["nodes"].as_u64(),
            v["edges"].as_u64(),
            v["roots"].as_u64()
        ),
        (Some(6), Some(4), Some(3))
    );
    assert_eq!(v["file_bytes"], 4096);
    // Unknown top-level facts are null, not absent.
    for k in ["process_name", "runtime", "clr", "sampling", "dump_time"] {
        assert!(v.get(k).is_some_and(|x| x.is_null()), "{k}");
    }
    let row = v["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == c1)
        .unwrap();
    assert_eq!(row["mt"], "0x1000");
    assert_eq!(row["module"], "App.dll");
    // A byte array has no module: left out of the row.
    let bytes_row = v["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "System.Byte[]")
        .unwrap();
    assert!(bytes_row.get("module").is_none());
}

#[test]
fn roots_document_paths_tree_and_limits() {
    let (snap, c1, c2) = two_caches(elf_core());
    let g = &snap.graph;
    let paths = root_paths(g, &mut NoProgress).unwrap();
    let blob = 2;
    let all = RootsLimits {
        paths: 5,
        depth: 8,
        children: 8,
        entries: None,
    };
    let doc = RootsDocument::build("two.core", &snap, &paths, &[blob], all);
    assert_eq!(doc.type_name, "System.Byte[]");
    assert_eq!(doc.type_ids, [TypeId(blob)]);
    assert_eq!((doc.count, doc.bytes, doc.unreachable), (2, 6000, 0));
    // Both arrays are one step from a static; the chains of types differ
    // (Cache#1 → Byte[], Cache#2 → Byte[]), so both paths are listed.
    assert_eq!(doc.paths.len(), 2);
    let p = &doc.paths[0];
    assert_eq!(p.root_kind.as_str(), "static");
    assert_eq!(p.root_name.as_deref(), Some("App.a"));
    assert_eq!(p.path, ["App.Cache`1", "System.Byte[]"]);
    assert_eq!(
        p.steps.iter().map(|s| s.type_id).collect::<Vec<_>>(),
        [TypeId(c1), TypeId(blob)]
    );
    assert_eq!(doc.shortest_path.as_ref(), Some(p));
    // The tree: Byte[] ← App.Cache`1 (both rows of that name) ← the statics.
    let t = &doc.referred_from;
    assert_eq!((t.count, t.bytes, t.inclusive_bytes), (2, 6000, 6000));
    assert_eq!(t.children.len(), 1);
    let cache = &t.children[0];
    assert_eq!(cache.name, "App.Cache`1");
    assert_eq!(cache.type_ids, [TypeId(c1), TypeId(c2)]);
    let roots: Vec<&str> = cache.children.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(roots, ["[static root] App.b", "[static root] App.a"]);
    assert!(cache.children.iter().all(|c| c.root_kind.is_some()));
    round_trip(&doc, DocumentKind::Roots);

    // Limits: one path, one child per entry, two entries in all.
    let few = RootsLimits {
        paths: 1,
        depth: 8,
        children: 1,
        entries: Some(2),
    };
    let doc = RootsDocument::build("two.core", &snap, &paths, &[blob], few);
    assert_eq!(doc.paths.len(), 1);
    fn entries(n: &RefNode) -> usize {
        1 + n.children.iter().map(entries).sum::<usize>()
    }
    assert_eq!(entries(&doc.referred_from), 2);
    let cache = &doc.referred_from.children[0];
    assert!(cache.children.is_empty());
    assert_eq!(cache.omitted_children, 2, "both statics left out");
    // A depth of 1 cuts the paths below the caches and says so.
    let shallow = RootsLimits { depth: 1, ..all };
    let doc = RootsDocument::build("two.core", &snap, &paths, &[blob], shallow);
    assert!(doc.referred_from.children[0].truncated);
    let v = round_trip(&doc, DocumentKind::Roots);
    assert_eq!(v["referred_from"]["children"][0]["truncated"], true);
    assert!(v["referred_from"].get("root_kind").is_none());
}

#[test]
fn diff_document_links_rows_of_both_sides() {
    let (base, c1, c2) = two_caches(elf_core());
    // The current snapshot: a third cache array and no holder.
    let mut b = GraphBuilder::new();
    let m = b.module("App.dll");
    let k = object_type(&mut b, "App.Cache`1", Some(m), 0x1000);
    let blob = object_type(&mut b, "System.Byte[]", None, 0x3000);
    b.add_node(k, 24, 0x100, [1, 2]).unwrap();
    b.add_node(blob, 1000, 0x200, []).unwrap();
    b.add_node(blob, 9000, 0x300, []).unwrap();
    b.add_root(0, RootKind::Static, Some("App.a"));
    let current = Snapshot {
        graph: b.finish().unwrap(),
        info: SnapshotInfo::new(elf_core()),
    };
    let d = diff_snapshots(&base, &current, DiffOptions::default());
    let doc = DiffDocument::build(("a.core", &base.info), ("b.core", &current.info), &d, None);
    // Computed by hand: Byte[] 6,000 → 10,000; App.Cache`1 48 → 24 (two
    // rows, one of each MethodTable, against one); App.Holder vanished.
    let rows: Vec<(&str, i64, i64, DiffStatus)> = doc
        .types
        .iter()
        .map(|r| (r.name.as_str(), r.count_delta, r.bytes_delta, r.status))
        .collect();
    assert_eq!(
        rows,
        [
            ("System.Byte[]", 0, 4000, DiffStatus::Changed),
            ("App.Cache`1", -1, -24, DiffStatus::Changed),
            ("App.Holder", -1, -16, DiffStatus::Vanished),
        ]
    );
    let cache = &doc.types[1];
    assert_eq!(cache.base_type_ids, [TypeId(c1), TypeId(c2)]);
    assert_eq!(cache.current_type_ids, [TypeId(k)]);
    assert!(doc.types[2].current_type_ids.is_empty());
    assert_eq!(
        (doc.changed_types, doc.vanished_types, doc.new_types),
        (3, 1, 0)
    );
    assert_eq!(doc.bytes_delta, 10024 - 6064);
    assert!(!doc.names_normalized);
    assert_eq!(
        doc.types.iter().map(|r| r.id).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    let v = round_trip(&doc, DocumentKind::Diff);
    assert!(v["types"][2].get("current_type_ids").is_none());
    assert_eq!(v["types"][2]["status"], "vanished");

    // `--top` keeps the first rows and the totals of all.
    let top = DiffDocument::build(
        ("a.core", &base.info),
        ("b.core", &current.info),
        &d,
        Some(1),
    );
    assert_eq!((top.types.len(), top.changed_types), (1, 3));

    // Inputs of two formats: the naming rule normalizes the names.
    let gcdump_info = SnapshotInfo::new(gcdump());
    let as_gcdump = Snapshot {
        graph: current.graph.clone(),
        info: gcdump_info,
    };
    let d = diff_snapshots(&base, &as_gcdump, DiffOptions::default());
    let doc = DiffDocument::build(
        ("a.core", &base.info),
        ("b.gcdump", &as_gcdump.info),
        &d,
        None,
    );
    assert!(doc.names_normalized);
    // ``App.Cache`1`` is spelled `App.Cache` once normalized.
    assert!(doc.types.iter().any(|r| r.name == "App.Cache"));
    assert_eq!(doc.current.format, "gcdump");
}

/// A diff made from the two sides' `stats` documents (as the web page makes
/// it, each dump read in a worker of its own) is the document made from the
/// snapshots, also across formats (the naming rule), and a document that
/// lists only some rows is refused.
#[test]
fn a_diff_of_two_stats_documents_is_the_diff_of_the_snapshots() {
    let (base, _, _) = two_caches(elf_core());
    let (mut current, _, _) = two_caches(elf_core());
    current.graph = {
        let mut b = GraphBuilder::new();
        let k = object_type(&mut b, "App.Cache`1", None, 0x1000);
        let blob = object_type(&mut b, "System.Byte[]", None, 0x3000);
        b.add_node(k, 24, 0x100, [1]).unwrap();
        b.add_node(blob, 7000, 0x200, []).unwrap();
        b.add_root(0, RootKind::Static, Some("App.a"));
        b.finish().unwrap()
    };
    let as_gcdump = Snapshot {
        graph: current.graph.clone(),
        info: SnapshotInfo::new(gcdump()),
    };
    for (cur, name) in [(&current, "b.core"), (&as_gcdump, "b.gcdump")] {
        let from_snapshots = DiffDocument::build(
            ("a.core", &base.info),
            (name, &cur.info),
            &diff_snapshots(&base, cur, DiffOptions::default()),
            None,
        );
        let stats = |s: &Snapshot, file: &str| StatsDocument::build_all(file, 1, s, &stats_of(s));
        let from_documents = diff_documents(
            &stats(&base, "a.core"),
            &stats(cur, name),
            DiffOptions::default(),
            None,
        )
        .unwrap();
        assert_eq!(from_documents, from_snapshots, "{name}");
    }
    let st = stats_of(&base);
    let cut = StatsDocument::build("a.core", 1, &base, &st, st.rows.len() + 1, st.rows.len());
    assert!(matches!(
        diff_documents(&cut, &cut, DiffOptions::default(), None),
        Err(DiffInputError::NotAllRows { .. })
    ));
}

/// The `analysis` document holds the other documents as they are, each
/// with its own header, and reads back.
#[test]
fn the_analysis_document_holds_the_documents_unchanged() {
    let (snap, c1, _) = two_caches(elf_core());
    let stats = StatsDocument::build_all("a.core", 1, &snap, &stats_of(&snap));
    let dom = dominators(&snap.graph, &mut NoProgress).unwrap();
    let sizes = retained_sizes(&snap.graph, &dom);
    let limits = RetainedLimits {
        types: None,
        objects: 5,
    };
    let retained = RetainedDocument::build("a.core", &snap, &dom, &sizes, limits);
    let paths = root_paths(&snap.graph, &mut NoProgress).unwrap();
    let limits = RootsLimits {
        paths: 1,
        depth: 4,
        children: 4,
        entries: None,
    };
    let roots = RootsDocument::build("a.core", &snap, &paths, &[c1], limits);
    let diff = diff_documents(&stats, &stats, DiffOptions::default(), None).unwrap();
    let doc = AnalysisDocument::new(
        vec![DumpAnalysis {
            stats: stats.clone(),
            retained: Some(retained.clone()),
            roots: vec![roots.clone()],
        }],
        Some(diff.clone()),
    );
    let v = round_trip(&doc, DocumentKind::Analysis);
    assert_eq!(
        v["dumps"][0]["stats"],
        serde_json::to_value(&stats).unwrap()
    );
    assert_eq!(
        v["dumps"][0]["retained"],
        serde_json::to_value(&retained).unwrap()
    );
    assert_eq!(
        v["dumps"][0]["roots"][0],
        serde_json::to_value(&roots).unwrap()
    );
    assert_eq!(v["comparison"], serde_json::to_value(&diff).unwrap());
    assert_eq!(v["dumps"][0]["stats"]["document"], "stats");
}

/// The crate's CHANGELOG lists every schema version, newest first, and the
/// newest is the one this heaplens writes.
#[test]
fn the_changelog_describes_this_schema_version() {
    let log = include_str!("../CHANGELOG.md");
    let versions: Vec<u32> = log
        .lines()
        .filter_map(|l| l.strip_prefix("## Version "))
        .map(|v| v.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert_eq!(versions.first(), Some(&SCHEMA_VERSION), "{versions:?}");
    let mut sorted = versions.clone();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    assert_eq!(sorted, versions, "one entry per version, newest first");
}

/// Every document of a snapshot names its types by the same ids: the
/// `stats` rows, the `retained` rows, the `roots` steps and tree, the
/// `diff` rows.
#[test]
fn ids_agree_across_documents() {
    let (snap, _, _) = two_caches(elf_core());
    let g = &snap.graph;
    let st = type_stats(g, None, Selection::Reachable);
    let stats = StatsDocument::build_all("x", 1, &snap, &st);
    let names: HashMap<TypeId, &str> = stats
        .types
        .iter()
        .map(|r| (r.id, r.name.as_str()))
        .collect();
    let dom = dominators(g, &mut NoProgress).unwrap();
    let sizes = retained_sizes(g, &dom);
    let limits = RetainedLimits {
        types: None,
        objects: 10,
    };
    let retained = RetainedDocument::build("x", &snap, &dom, &sizes, limits);
    for r in &retained.types {
        assert_eq!(names[&r.id], r.name);
    }
    for o in &retained.objects {
        assert_eq!(names[&o.type_id], o.type_name);
    }
    let paths = root_paths(g, &mut NoProgress).unwrap();
    let all: Vec<TypeIndex> = (0..g.types().len() as TypeIndex).collect();
    let roots = RootsDocument::build(
        "x",
        &snap,
        &paths,
        &all,
        RootsLimits {
            paths: 10,
            depth: 8,
            children: 8,
            entries: None,
        },
    );
    for step in roots.paths.iter().flat_map(|p| &p.steps) {
        assert_eq!(names[&step.type_id], step.type_name);
    }
    let d = diff_snapshots(&snap, &snap, DiffOptions::default());
    assert!(d.types.is_empty());
}
