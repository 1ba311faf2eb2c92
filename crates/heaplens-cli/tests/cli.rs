//! The `heaplens` binary as users run it: exit codes, JSON shape, errors.

use std::path::{Path, PathBuf};
use std::process::Command;

fn heaplens() -> Command {
    Command::new(env!("CARGO_BIN_EXE_heaplens"))
}

/// The standard output of `heaplens ARGS FILE`, which must succeed.
fn ok_stdout(args: &[&str], file: &Path) -> Vec<u8> {
    let out = heaplens().args(args).arg(file).output().unwrap();
    assert!(
        out.status.success(),
        "heaplens {args:?} {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn sample(name: &str) -> Option<PathBuf> {
    heaplens_corpus::shared_or_skip("the CLI tests").map(|s| s.join("samples/gcdump").join(name))
}

#[test]
fn stats_json_has_the_documented_shape_and_agrees_with_the_report() {
    let Some(path) = sample("gcdump-analyze-test1-maui-windows-net9.gcdump") else {
        return;
    };
    let v: serde_json::Value =
        serde_json::from_slice(&ok_stdout(&["stats", "--json"], &path)).unwrap();
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
    let text = String::from_utf8(ok_stdout(
        &[
            "stats",
            "--top",
            "3",
            "--sort",
            "count",
            "--filter",
            "^System\\.",
        ],
        &path,
    ))
    .unwrap();
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

/// The linux-net8 phase 1 core, unpacked, and its fixture folder.
fn net8_core() -> Option<(PathBuf, PathBuf)> {
    let shared = heaplens_corpus::shared_or_skip("the CLI tests of Linux cores")?;
    let dir = shared.join("fixtures/linux-net8");
    let core = heaplens_corpus::unpacked(&dir.join("phase1.withheap.core.zst")).unwrap();
    Some((core, dir))
}

#[test]
fn stats_json_of_a_core_counts_live_objects_like_the_runtime() {
    let Some((core, dir)) = net8_core() else {
        return;
    };
    let v: serde_json::Value =
        serde_json::from_slice(&ok_stdout(&["stats", "--json"], &core)).unwrap();
    assert_eq!(v["format"], "elf-core");
    assert_eq!(v["runtime"], ".NET 8.0.4");
    assert_eq!(v["clr"]["gc_mode"], "workstation");
    assert_eq!(v["clr"]["heap_layout"], "regions");
    let types = v["types"].as_array().unwrap();
    let (objects, bytes) = (v["objects"].as_u64().unwrap(), v["bytes"].as_u64().unwrap());
    let count: u64 = types.iter().map(|t| t["count"].as_u64().unwrap()).sum();
    let sum: u64 = types.iter().map(|t| t["bytes"].as_u64().unwrap()).sum();
    assert_eq!((count, sum), (objects, bytes));
    // One row per MethodTable, each with its MethodTable in hex.
    let mut mts: Vec<u64> = types
        .iter()
        .map(|t| {
            let mt = t["mt"].as_str().unwrap();
            u64::from_str_radix(mt.strip_prefix("0x").unwrap(), 16).unwrap()
        })
        .collect();
    mts.sort_unstable();
    mts.dedup();
    assert_eq!(mts.len(), types.len());
    assert!(types.iter().all(|t| t["name"] != "Free"));
    // Free space and unreachable objects apart from the table.
    assert!(v["free"]["count"].as_u64().unwrap() > 0);
    assert!(v["free"]["bytes"].as_u64().unwrap() > 0);
    assert!(v["unreachable"]["count"].is_u64() && v["unreachable"]["bytes"].is_u64());

    // The runtime's own live totals, give or take the objects allocated
    // after its walk and reclaimed since (sorted object by object).
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("phase1.reference.json")).unwrap()).unwrap();
    let want =
        heaplens_tests::fixture_graph::load(&dir.join("phase1.graph.json.zst"), false).unwrap();
    let src = heaplens_bytes::FileSource::open(&core).unwrap();
    let snap = heaplens_snapshot::open(&src, &mut heaplens_graph::NoProgress).unwrap();
    let clr = snap.info.clr.as_ref().unwrap();
    let live = heaplens_analysis::reach::reachable(&snap.graph);
    // Objects the runtime's walk found f-reachable, whose finalizer has
    // run since, are no longer rooted in the dump.
    let registered = heaplens_tests::clr_check::registered_for_finalization_in(&core).unwrap();
    let excused = heaplens_tests::reconcile::finalized_since(&want, &registered);
    let rec =
        heaplens_tests::reconcile::reconcile(&snap.graph, &live, &clr.gc.segments, &want, &excused)
            .unwrap();
    let later: u64 = rec.later.iter().map(|&o| snap.graph.node_size(o)).sum();
    let gone_nodes: Vec<u32> = rec
        .reclaimed
        .iter()
        .copied()
        .chain(rec.released.iter().map(|&(r, _)| r))
        .collect();
    let gone: u64 = gone_nodes.iter().map(|&r| want.node_size(r)).sum();
    let ref_objects = reference["object_count"].as_u64().unwrap();
    let ref_bytes = reference["total_size"].as_u64().unwrap();
    assert_eq!(
        objects,
        ref_objects + rec.later.len() as u64 - gone_nodes.len() as u64,
        "objects: ours {objects}, reference {ref_objects}, {} allocated later, {} reclaimed or \
         finalized",
        rec.later.len(),
        gone_nodes.len()
    );
    assert_eq!(
        bytes,
        ref_bytes + later - gone,
        "bytes: ours {bytes}, reference {ref_bytes}, {later} allocated later, {gone} reclaimed"
    );
    // A moment, not a different heap.
    assert!(rec.later.len() + rec.reclaimed.len() < 100);
    let widgets = types
        .iter()
        .find(|t| t["name"] == "DumpLab.Widget")
        .expect("DumpLab.Widget");
    assert_eq!(widgets["count"], 10_000);
}

#[test]
fn stats_table_of_a_core_shows_the_runtime_and_what_is_left_out() {
    let Some((core, _)) = net8_core() else {
        return;
    };
    let text = String::from_utf8(ok_stdout(&["stats", "--top", "3"], &core)).unwrap();
    for want in [
        ": elf-core, 64-bit",
        "process: dotnet (pid ",
        "runtime: .NET 8.0.4",
        "workstation GC, regions, 1 heap",
        "all of them in the dump",
        "finalization: ",
        "live objects only",
        "\nfree: ",
        "\nunreachable: ",
    ] {
        assert!(text.contains(want), "{want:?} missing from:\n{text}");
    }
}

#[test]
fn a_core_without_a_runtime_is_refused_with_a_reason() {
    // A valid x86-64 core with one page of memory and nothing else.
    let core = heaplens_corpus::synthetic::tiny_elf_core(&[0; 8]);
    let dir = std::env::temp_dir().join(format!("heaplens-cli-core-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("empty.core");
    std::fs::write(&path, &core).unwrap();
    let out = heaplens().args(["stats"]).arg(&path).output().unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no .NET runtime in this Linux core dump"),
        "{err}"
    );
}

/// `heaplens stats FILE | head`: the reader closes the pipe early, and
/// `heaplens` ends quietly and successfully (as coreutils do), no panic.
#[test]
fn a_closed_stdout_ends_quietly() {
    let Some(path) = sample("perfview-test2-wpf-netfx-x86.gcdump") else {
        return;
    };
    let mut child = heaplens()
        .args(["stats"])
        .arg(&path)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line (the output is far larger than a pipe's buffer), then
    // close the pipe.
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    std::io::Read::read_exact(&mut stdout, &mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// The first `len` bytes of `file`, written to a temporary file.
fn prefix_of(file: &Path, len: usize, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("heaplens-cli-partial-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let bytes = std::fs::read(file).unwrap();
    std::fs::write(&path, &bytes[..len]).unwrap();
    path
}

#[test]
fn a_dump_cut_short_is_a_partial_result_with_its_own_exit_code() {
    let Some(shared) = heaplens_corpus::shared_or_skip("the CLI tests of partial dumps") else {
        return;
    };
    // The first 60 MB of a 129 MB full-memory minidump (the memory list's
    // data of the heap lies past the cut).
    let full =
        heaplens_corpus::unpacked(&shared.join("fixtures/windows-net8/phase1.windump.dmp.zst"))
            .unwrap();
    let whole_len = std::fs::metadata(&full).unwrap().len();
    let cut = prefix_of(&full, 60_000_000, "cut.dmp");
    for cmd in [
        vec!["stats"],
        vec!["roots", "--type", "System.String"],
        vec!["retained"],
    ] {
        let out = heaplens().args(&cmd).arg(&cut).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(3), "{cmd:?}: {text}");
        assert!(
            text.lines().any(|l| l.starts_with("partial result: heap: ")
                && l.contains("the file ends at 60.0 MB of the 129.5 MB its directory describes")),
            "{cmd:?}: {text}"
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--allow-partial"), "{err}");
        // Accepted when asked.
        let out = heaplens()
            .args(&cmd)
            .arg("--allow-partial")
            .arg(&cut)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{cmd:?} --allow-partial");
        // JSON: complete false, with the figures.
        let out = heaplens()
            .args(&cmd)
            .arg("--json")
            .arg(&cut)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(3));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["complete"], false, "{cmd:?}");
        let c = &v["coverage"];
        assert_eq!(c["file_bytes"], 60_000_000);
        assert_eq!(c["described_bytes"], whole_len);
        assert_eq!(
            c["missing_file_bytes"].as_u64(),
            Some(whole_len - 60_000_000)
        );
        assert!(c["heap_bytes_captured"].as_u64() < c["heap_bytes"].as_u64());
        assert!(c["summary"].as_str().unwrap().starts_with("heap: "));
    }
    // The diff of a whole dump and a partial one is partial too.
    let out = heaplens()
        .args(["diff", "--json"])
        .arg(&full)
        .arg(&cut)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            &v["complete"],
            &v["base"]["coverage"]["complete"],
            &v["current"]["coverage"]["complete"]
        ),
        (
            &serde_json::json!(false),
            &serde_json::json!(true),
            &serde_json::json!(false)
        )
    );
    // The whole file is complete: exit code 0, no partial line.
    let out = heaplens()
        .args(["stats", "--json"])
        .arg(&full)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["complete"], true);
    // `info` describes the cut file (exit code 0) and says it is partial.
    let out = heaplens().args(["info"]).arg(&cut).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("coverage:        partial: heap: "), "{text}");
    assert!(text.contains("finalization:    "), "{text}");

    // A .gcdump cut short is an error that says so.
    let gcdump = shared.join("samples/gcdump/perfview-test2-wpf-netfx-x86.gcdump");
    let len = std::fs::metadata(&gcdump).unwrap().len() as usize;
    let cut = prefix_of(&gcdump, len / 2, "cut.gcdump");
    let out = heaplens().args(["stats"]).arg(&cut).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cut short"), "{err}");
    std::fs::remove_dir_all(cut.parent().unwrap()).ok();
}

#[test]
fn a_gcdump_counts_what_its_roots_do_not_reach_and_says_so() {
    // docs/gcdump-format.md §6, from PerfView: test2 (written by walking
    // whole segments) reaches only 689,116 of its 4,147,128 bytes from its
    // roots; test1 (from the runtime's events) has 2,462 nodes of 145,876
    // bytes that its roots do not reach.
    for (name, objects_bytes, not_reached) in [
        (
            "perfview-test2-wpf-netfx-x86.gcdump",
            4_146_784u64,
            4_146_784 - 689_116u64,
        ),
        (
            "gcdump-analyze-test1-maui-windows-net9.gcdump",
            3_339_490,
            145_876,
        ),
    ] {
        let Some(path) = sample(name) else {
            return;
        };
        let v: serde_json::Value =
            serde_json::from_slice(&ok_stdout(&["stats", "--json"], &path)).unwrap();
        // Counted in the statistics, and said apart.
        assert_eq!(v["bytes"].as_u64(), Some(objects_bytes), "{name}");
        assert_eq!(
            v["not_reachable_from_roots"]["bytes"].as_u64(),
            Some(not_reached),
            "{name}"
        );
        assert!(v["unreachable"].is_null(), "{name}: not garbage");
        let text = String::from_utf8(ok_stdout(&["retained"], &path)).unwrap();
        assert!(
            text.contains("PerfView's [not reachable from roots]") && !text.contains("garbage"),
            "{name}: {text}"
        );
    }
    if let Some(path) = sample("gcdump-analyze-test1-maui-windows-net9.gcdump") {
        let v: serde_json::Value =
            serde_json::from_slice(&ok_stdout(&["stats", "--json"], &path)).unwrap();
        assert_eq!(v["not_reachable_from_roots"]["count"], 2_462);
    }
}
