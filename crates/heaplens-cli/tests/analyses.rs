//! `heaplens roots`, `retained` and `diff` as users run them: the JSON
//! shapes of README.md, checked against independent numbers (PerfView's
//! golden views, the runtime's own diff of two fixture heaps).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn heaplens(args: &[&str], files: &[&PathBuf]) -> Value {
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
    serde_json::from_slice(&out.stdout).unwrap()
}

fn samples() -> Option<PathBuf> {
    heaplens_corpus::shared_or_skip("the CLI analysis tests").map(|s| s.join("samples/gcdump"))
}

#[test]
fn roots_json_shows_the_static_field_perfview_shows() {
    let Some(dir) = samples() else { return };
    let file = dir.join("gcdump-analyze-test1-maui-windows-net9.gcdump");
    let v = heaplens(
        &["roots", "--json", "--type", "MauiApp3.App", "--depth", "3"],
        &[&file],
    );
    let path = &v["shortest_path"];
    assert_eq!(path["root_kind"], "static");
    assert_eq!(
        path["path"].as_array().unwrap().last().unwrap(),
        "MauiApp3.App"
    );
    // PerfView's RefTree shows the object under this static variable.
    let view =
        std::fs::read_to_string(dir.join("golden/gcdump-analyze-test1-maui-windows-net9.view.txt"))
            .unwrap();
    let name = path["root_name"].as_str().unwrap();
    assert!(
        view.contains(&format!("[static var {name}]")),
        "{name} not in PerfView's RefTree"
    );
    // Objects and bytes agree with `heaplens stats`.
    let stats = heaplens(
        &["stats", "--json", "--filter", "^MauiApp3\\.App$"],
        &[&file],
    );
    let row = &stats["types"][0];
    assert_eq!(v["count"], row["count"]);
    assert_eq!(v["bytes"], row["bytes"]);
    let tree = &v["referred_from"];
    assert_eq!(tree["count"], v["count"]);
    let children = tree["children"].as_array().unwrap();
    let sum: u64 = children.iter().map(|c| c["count"].as_u64().unwrap()).sum();
    assert_eq!(Some(sum), v["count"].as_u64());
    assert!(children.iter().any(|c| c["root_kind"] == "static"));
}

#[test]
fn roots_of_a_type_reached_through_objects() {
    let Some(dir) = samples() else { return };
    let file = dir.join("monogcdumprepro-20231108_150644_31024.gcdump");
    let v = heaplens(&["roots", "--json", "--type", "System.String"], &[&file]);
    let path = v["shortest_path"]["path"].as_array().unwrap();
    assert_eq!(path.last().unwrap(), "System.String");
    // Every path in the tree ends at a root: leaves without "truncated"
    // are roots.
    fn leaves_are_roots(e: &Value) -> bool {
        match e["children"].as_array() {
            Some(c) if !c.is_empty() => c.iter().all(leaves_are_roots),
            _ => {
                e.get("root_kind").is_some()
                    || e.get("truncated").is_some()
                    || e.get("omitted_children").is_some()
            }
        }
    }
    assert!(leaves_are_roots(&v["referred_from"]));
    let stats = heaplens(
        &["stats", "--json", "--filter", "^System\\.String$"],
        &[&file],
    );
    let total = stats["types"][0]["count"].as_u64().unwrap();
    let counted = v["count"].as_u64().unwrap() + v["unreachable"].as_u64().unwrap();
    assert_eq!(counted, total);
}

/// A core's static fields are roots named by the field: the shortest way
/// to the fixture's `DumpLab.RootTarget` is the static field the program
/// stored its chain in (`expected.json`'s note), not the statics array.
#[test]
fn roots_json_of_a_core_starts_at_the_static_field() {
    let Some(shared) = heaplens_corpus::shared_or_skip("the CLI roots test of a core") else {
        return;
    };
    let dir = shared.join("fixtures/linux-net8");
    let core = heaplens_corpus::unpacked(&dir.join("phase1.withheap.core.zst")).unwrap();
    let v = heaplens(
        &["roots", "--json", "--type", "DumpLab.RootTarget"],
        &[&core],
    );
    let expected: Value =
        serde_json::from_slice(&std::fs::read(dir.join("phase1.expected.json")).unwrap()).unwrap();
    let note = expected["notes"]["root path"].as_str().unwrap();
    let field = note
        .strip_prefix("static ")
        .and_then(|n| n.split_whitespace().next())
        .unwrap();
    let path = &v["shortest_path"];
    assert_eq!(path["root_kind"], "static", "{path}");
    assert_eq!(path["root_name"], field, "{path}");
    let types = path["path"].as_array().unwrap();
    assert_eq!(types.first().unwrap(), "DumpLab.ChainNode", "{path}");
    assert_eq!(types.last().unwrap(), "DumpLab.RootTarget", "{path}");
    assert_eq!(v["count"], 1);
}

#[test]
fn retained_json_totals_equal_perfviews_reachable_heap() {
    let Some(dir) = samples() else { return };
    let file = dir.join("gcdump-analyze-test1-maui-windows-net9.gcdump");
    let v = heaplens(&["retained", "--json", "--top", "5"], &[&file]);
    // PerfView's defaults view excludes what the roots do not reach: its
    // total is the reachable heap.
    let view =
        std::fs::read_to_string(dir.join("golden/gcdump-analyze-test1-maui-windows-net9.view.txt"))
            .unwrap();
    let totals = |section: &str| -> u64 {
        view.split(section)
            .nth(1)
            .unwrap()
            .split("Totals Metric: ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .trim_end_matches(".0")
            .replace(',', "")
            .parse()
            .unwrap()
    };
    let total = totals("## PerfView memory-window defaults");
    let everything = totals("## raw");
    assert_eq!(v["reachable_bytes"].as_u64(), Some(total));
    assert_eq!(v["unreachable_bytes"].as_u64(), Some(everything - total));
    let types = v["types"].as_array().unwrap();
    assert_eq!(types.len(), 5);
    assert!(types
        .windows(2)
        .all(|w| w[0]["retained_bytes"].as_u64() >= w[1]["retained_bytes"].as_u64()));
    for t in types {
        assert!(t["retained_bytes"].as_u64() >= t["shallow_bytes"].as_u64());
        assert!(t["top_level"].as_u64() <= t["count"].as_u64());
    }
    let objects = v["objects"].as_array().unwrap();
    assert_eq!(objects.len(), 5);
    assert!(objects[0]["retained_bytes"].as_u64().unwrap() <= total);
    assert!(objects[0]["address"].as_str().unwrap().starts_with("0x"));
}

/// `heaplens diff --json` on two real cores equals the runtime's own diff
/// of the same heaps (`diff.reference.json`): every changed type, its
/// deltas and counts, in the same order. The `linux-net8-clrgc` pair is
/// the one whose dumps hold exactly the objects of the runtime's walks in
/// every changed type (the other pairs need the reconciliation of
/// `tests/analysis_fixtures.rs`).
#[test]
fn diff_json_equals_the_runtimes_diff() {
    let Some(shared) = heaplens_corpus::shared_or_skip("the CLI diff test") else {
        return;
    };
    let dir = shared.join("fixtures/linux-net8-clrgc");
    let core = |p: u32| {
        heaplens_corpus::unpacked(&dir.join(format!("phase{p}.withheap.core.zst"))).unwrap()
    };
    let v = heaplens(&["diff", "--json"], &[&core(1), &core(2)]);
    let ours: Vec<(String, i64, i64, i64, i64)> = v["types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_owned(),
                t["count_delta"].as_i64().unwrap(),
                t["bytes_delta"].as_i64().unwrap(),
                t["count_base"].as_i64().unwrap(),
                t["count_current"].as_i64().unwrap(),
            )
        })
        .collect();
    let reference: Value =
        serde_json::from_slice(&std::fs::read(dir.join("diff.reference.json")).unwrap()).unwrap();
    let want: Vec<(String, i64, i64, i64, i64)> = reference["diff"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["type"].as_str().unwrap().to_owned(),
                t["count_delta"].as_i64().unwrap(),
                t["size_delta"].as_i64().unwrap(),
                t["count_1"].as_i64().unwrap(),
                t["count_2"].as_i64().unwrap(),
            )
        })
        .collect();
    assert!(!want.is_empty());
    assert_eq!(ours, want);
    // The totals are those of the two snapshots' live objects.
    let sum: i64 = ours.iter().map(|t| t.2).sum();
    assert_eq!(v["bytes_delta"].as_i64(), Some(sum));
}

#[test]
fn unknown_type_names_fail_with_suggestions() {
    let Some(dir) = samples() else { return };
    let file = dir.join("monogcdumprepro-20231108_150644_31024.gcdump");
    let out = Command::new(env!("CARGO_BIN_EXE_heaplens"))
        .args(["roots", "--type", "HillClimbing"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no type named \"HillClimbing\""), "{err}");
    assert!(err.contains("PortableThreadPool.HillClimbing"), "{err}");
}
