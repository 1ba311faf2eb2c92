//! The `heaplens` binary as users run it: exit codes, JSON shape, errors.

use std::path::PathBuf;
use std::process::Command;

fn heaplens() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heaplens"))
}

fn sample(name: &str) -> Option<PathBuf> {
    heaplens_corpus::shared_or_skip("the CLI tests").map(|s| s.join("samples/gcdump").join(name))
}

#[test]
fn stats_json_has_the_documented_shape_and_agrees_with_the_report() {
    let Some(path) = sample("gcdump-analyze-test1-maui-windows-net9.gcdump") else {
        return;
    };
    let out = heaplens()
        .args(["stats", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "gcdump");
    // dotnet-gcdump report: 3,339,490 GC Heap bytes (all objects; no Free here).
    let report = heaplens_tests::golden::parse_report(
        &std::fs::read_to_string(
            path.parent()
                .unwrap()
                .join("golden/gcdump-analyze-test1-maui-windows-net9.report-linux.txt"),
        )
        .unwrap(),
    );
    assert_eq!(v["bytes"].as_u64(), Some(report.heap_bytes));
    let types = v["types"].as_array().unwrap();
    let sum: u64 = types.iter().map(|t| t["bytes"].as_u64().unwrap()).sum();
    let count: u64 = types.iter().map(|t| t["count"].as_u64().unwrap()).sum();
    assert_eq!(sum, report.heap_bytes);
    assert_eq!(count, v["objects"].as_u64().unwrap());
    // Sorted by bytes, names exactly as stored.
    assert!(types
        .windows(2)
        .all(|w| w[0]["bytes"].as_u64() >= w[1]["bytes"].as_u64()));
    let string = types.iter().find(|t| t["name"] == "System.String").unwrap();
    assert_eq!(
        (string["count"].as_u64(), string["bytes"].as_u64()),
        (Some(6_913), Some(518_562))
    );
}

#[test]
fn stats_table_top_sort_and_filter() {
    let Some(path) = sample("monogcdumprepro-20231108_150515_31024.gcdump") else {
        return;
    };
    let out = heaplens()
        .args([
            "stats",
            "--top",
            "3",
            "--sort",
            "count",
            "--filter",
            "^System\\.",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("Count"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .collect();
    assert_eq!(rows.len(), 3, "{text}");
    // System.String has the most objects (4,174 in PerfView's raw view).
    assert!(
        rows[0].contains("4,174") && rows[0].contains("System.String"),
        "{text}"
    );
    assert!(rows.iter().all(|r| r.contains(" System.")));
    assert!(text.contains("showing 3 of"), "{text}");
}

#[test]
fn errors_go_to_stderr_with_a_failure_code() {
    let dir = std::env::temp_dir().join(format!("heaplens-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"this is not a heap dump").unwrap();
    let out = heaplens().args(["stats"]).arg(&junk).output().unwrap();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unrecognised file"), "{err}");

    let truncated = dir.join("truncated.gcdump");
    let mut bytes = b"\x14\x00\x00\x00!FastSerialization.1".to_vec();
    bytes.extend_from_slice(&[4, 4, 1, 10, 0, 0]);
    std::fs::write(&truncated, &bytes).unwrap();
    let out = heaplens()
        .args(["stats", "--json"])
        .arg(&truncated)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("byte offset"), "{err}");

    let out = heaplens()
        .args(["stats", "--filter", "("])
        .arg(&junk)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--filter"));
    let out = heaplens()
        .args(["stats"])
        .arg(dir.join("missing.gcdump"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
    std::fs::remove_dir_all(&dir).ok();
}
