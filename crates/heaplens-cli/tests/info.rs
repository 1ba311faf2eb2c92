//! `heaplens info --json` on every kind of input, against what the corpus
//! records about each dump (`manifest.json` of the fixtures, PerfView's XML
//! of a `.gcdump`).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// `heaplens info --json FILE`, parsed; the command must succeed.
fn info(file: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_heaplens"))
        .args(["info", "--json"])
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "heaplens info {}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The unpacked dump `name` of fixture folder `fixture`, and the folder's
/// `manifest.json`.
fn fixture(fixture: &str, name: &str) -> Option<(PathBuf, Value)> {
    let dir = heaplens_corpus::shared_or_skip("the info CLI tests")?
        .join("fixtures")
        .join(fixture);
    let dump = heaplens_corpus::unpacked(&dir.join(name)).unwrap();
    let manifest =
        serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    Some((dump, manifest))
}

/// Each of `names` is among the managed modules `info` lists.
fn assert_managed(v: &Value, names: &[&str]) {
    let managed = v["modules"]["managed"].as_array().unwrap();
    for m in names {
        assert!(managed.iter().any(|x| x == m), "{m} in {managed:?}");
    }
}

/// Checks that hold for every core and minidump: the memory figures add
/// up, the module counts add up, a walkable heap has objects.
fn consistent(v: &Value) {
    let m = &v["memory"];
    let n = |k: &str| m[k].as_u64();
    let captured = n("captured_bytes").unwrap();
    assert!(captured <= v["file_bytes"].as_u64().unwrap(), "{m}");
    if let Some(a) = n("address_space_bytes") {
        assert!(captured <= a || v["format"] == "minidump", "{m}");
    }
    let parts = n("image_captured_bytes").unwrap_or(0)
        + n("mapped_captured_bytes").unwrap_or(0)
        + n("private_writable_captured_bytes").unwrap_or(0);
    assert!(parts <= captured, "{m}");
    let (gc, gc_captured) = (
        n("gc_heap_bytes").unwrap(),
        n("gc_heap_captured_bytes").unwrap(),
    );
    assert!(gc_captured <= gc && gc > 0, "{m}");
    assert_eq!(
        n("other_private_writable_captured_bytes"),
        n("private_writable_captured_bytes").map(|p| p.saturating_sub(gc_captured)),
        "{m}"
    );
    let modules = &v["modules"];
    let count = |k: &str| modules[k].as_u64().unwrap();
    assert_eq!(
        count("count"),
        modules["managed"].as_array().unwrap().len() as u64 + count("native") + count("unknown"),
        "{modules}"
    );
    assert!(modules["runtime"].as_str().is_some(), "{modules}");
    assert_eq!(modules["runtime"], v["runtime"]["path"]);
    let heap = &v["heap"];
    if heap["walkable"] == true {
        assert!(heap["objects"].as_u64().unwrap() > 0, "{heap}");
        assert!(
            heap["reason"].is_null() && heap["error"].is_null(),
            "{heap}"
        );
    } else {
        assert!(heap["reason"].as_str().is_some(), "{heap}");
        assert!(heap["error"].as_str().is_some(), "{heap}");
    }
}

#[test]
fn linux_net8_core() {
    let Some((core, manifest)) = fixture("linux-net8", "phase1.withheap.core.zst") else {
        return;
    };
    let v = info(&core);
    let phase = &manifest["phases"]["1"];
    let dump = &phase["dumps"]["withheap"];
    assert_eq!(v["format"], "elf-core");
    assert_eq!(v["file_bytes"], dump["raw_bytes"]);
    assert_eq!(v["os"], "Linux");
    assert_eq!(v["architecture"], "x86-64");
    assert_eq!(v["pointer_size"], 8);
    assert_eq!(v["container"]["elf_class"], "ELF64");
    assert_eq!(v["process"]["id"], phase["pid"]);
    assert_eq!(v["process"]["name"], "dotnet");
    assert_eq!(v["threads"], dump["threads"]);
    // A core records neither times nor (createdump) the command line.
    for k in ["start_time", "dump_time", "command_line"] {
        assert!(v["process"][k].is_null(), "{k}: {}", v["process"]);
    }
    let runtime = &v["runtime"];
    assert_eq!(
        runtime["name"].as_str(),
        Some(format!(".NET {}", manifest["info"]["runtime"].as_str().unwrap()).as_str())
    );
    assert_eq!(runtime["name"], ".NET 8.0.4");
    assert_eq!(runtime["gc_mode"], "workstation");
    assert_eq!(runtime["heap_layout"], "regions");
    assert_eq!(runtime["heap_count"], 1);
    assert!(runtime["path"]
        .as_str()
        .unwrap()
        .ends_with("/libcoreclr.so"));
    assert_managed(&v, &["DumpLab.dll", "System.Private.CoreLib.dll"]);
    assert_eq!(v["heap"]["walkable"], true);
    // Every object of the runtime's own walk, and the unreachable ones.
    assert!(
        v["heap"]["objects"].as_u64() >= phase["reference"]["object_count"].as_u64(),
        "{}",
        v["heap"]
    );
    consistent(&v);
}

/// The minidump facts the manifest records for dump kind `kind`.
fn minidump_facts(v: &Value, manifest: &Value, kind: &str) {
    let phase = &manifest["phases"]["1"];
    let dump = &phase["dumps"][kind];
    assert_eq!(v["format"], "minidump");
    assert_eq!(v["file_bytes"], dump["raw_bytes"]);
    // The generator records the process's architecture (`x86` for the
    // 32-bit sets of `FIXTURES=x86 scripts/make-fixtures`); the corpus'
    // sets are x64.
    let pointer = match manifest["info"]["architecture"].as_str() {
        Some("x86") => 4,
        _ => 8,
    };
    assert_eq!(v["pointer_size"], pointer);
    assert!(
        v["os"].as_str().unwrap().starts_with("Windows"),
        "{}",
        v["os"]
    );
    assert_eq!(v["process"]["id"], phase["pid"]);
    assert_eq!(v["process"]["id"], dump["windump"]["pid"]);
    assert_eq!(v["threads"], dump["threads"]);
    assert_eq!(v["modules"]["count"], dump["modules"]);
    assert_eq!(v["container"]["streams"], dump["streams"]);
    assert_eq!(
        v["container"]["flags"].as_str(),
        dump["windump"]["type"].as_str()
    );
    let held =
        dump["memory64_bytes"].as_u64().unwrap() + dump["memory_list_bytes"].as_u64().unwrap();
    assert_eq!(v["memory"]["captured_bytes"].as_u64(), Some(held));
    assert_eq!(
        v["container"]["full_memory"],
        dump["memory64_bytes"].as_u64().unwrap() > 0
    );
    // Minidumps record the process's start and the dump's time, not its
    // command line.
    let p = &v["process"];
    assert!(p["command_line"].is_null(), "{p}");
    let (start, dumped) = (
        p["start_time"].as_str().unwrap(),
        p["dump_time"].as_str().unwrap(),
    );
    assert!(start.ends_with('Z') && start <= dumped, "{p}");
    assert_eq!(
        v["runtime"]["name"].as_str(),
        Some(format!(".NET {}", manifest["info"]["runtime"].as_str().unwrap()).as_str())
    );
    assert!(v["runtime"]["path"]
        .as_str()
        .unwrap()
        .ends_with("\\coreclr.dll"));
    // Every kind reports the runtime's version: its version resource when
    // the dump holds the image, else the module list's file version.
    assert!(
        v["runtime"]["version"].as_str().is_some(),
        "{}",
        v["runtime"]
    );
    consistent(v);
}

#[test]
fn windows_net8_full_minidump() {
    let Some((dump, manifest)) = fixture("windows-net8", "phase1.windump.dmp.zst") else {
        return;
    };
    let v = info(&dump);
    minidump_facts(&v, &manifest, "windump");
    assert!(v["runtime"]["version"]
        .as_str()
        .unwrap()
        .starts_with("8.0.4"));
    assert_eq!(v["runtime"]["gc_mode"], "workstation");
    assert_eq!(v["runtime"]["heap_layout"], "regions");
    assert_eq!(v["heap"]["walkable"], true);
    assert_managed(&v, &["DumpLab.dll"]);
}

#[test]
fn windows_net8_heap_minidump_is_described_though_its_heap_cannot_be_read() {
    let Some((dump, manifest)) = fixture("windows-net8", "phase1.heap.dmp.zst") else {
        return;
    };
    let v = info(&dump);
    minidump_facts(&v, &manifest, "heap");
    let heap = &v["heap"];
    assert_eq!(heap["walkable"], false);
    assert_eq!(heap["reason"], "no_type_data");
    assert!(
        heap["error"].as_str().unwrap().contains("type data"),
        "{heap}"
    );
    // The runtime's version from the module list, the GC from its own
    // bookkeeping (the heap's memory is there, its type data is not).
    assert_eq!(v["runtime"]["heap_layout"], "regions");
    assert_eq!(
        v["memory"]["gc_heap_captured_bytes"],
        v["memory"]["gc_heap_bytes"]
    );
}

#[test]
fn windows_net31_heap_minidump() {
    let Some((dump, manifest)) = fixture("windows-net31", "phase1.heap.dmp.zst") else {
        return;
    };
    let v = info(&dump);
    minidump_facts(&v, &manifest, "heap");
    assert_eq!(v["runtime"]["name"], ".NET 3.1.23");
    assert_eq!(v["runtime"]["heap_layout"], "segments");
    assert_eq!(v["heap"]["walkable"], true);
    // The images are not in the dump: the runtime's heap names the managed
    // modules.
    assert_managed(&v, &["DumpLab.dll"]);
}

/// `stats --json` says when a minidump was taken: the `TimeDateStamp` of its
/// header (bytes 20..24, seconds since 1970, UTC), read here from the file,
/// the same time `info` reports (the web page orders dumps by it).
#[test]
fn stats_of_a_minidump_give_its_header_time() {
    for phase in ["phase1", "phase2"] {
        let Some((dump, _)) = fixture("windows-net31", &format!("{phase}.heap.dmp.zst")) else {
            return;
        };
        let mut head = [0u8; 24];
        std::io::Read::read_exact(&mut std::fs::File::open(&dump).unwrap(), &mut head).unwrap();
        let secs = i64::from(u32::from_le_bytes(head[20..24].try_into().unwrap()));
        // Days to a civil date (Howard Hinnant's algorithm).
        let z = secs.div_euclid(86_400) + 719_468;
        let (era, doe) = (z.div_euclid(146_097), z.rem_euclid(146_097));
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        let s = secs.rem_euclid(86_400);
        let want = format!(
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
            s / 3600,
            s / 60 % 60,
            s % 60
        );
        let out = Command::new(env!("CARGO_BIN_EXE_heaplens"))
            .args(["stats", "--json", "--top", "1"])
            .arg(&dump)
            .output()
            .unwrap();
        assert!(out.status.success());
        let stats: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(stats["dump_time"].as_str(), Some(want.as_str()), "{phase}");
        assert_eq!(
            info(&dump)["process"]["dump_time"].as_str(),
            Some(want.as_str())
        );
    }
}

/// `info` on every Windows fixture (each runtime, phase and dump kind)
/// reports the runtime `expected.json` and `manifest.json` give: its name
/// (`.NET 8.0.4`), and a version — from the image's version resource in a
/// full dump, from the module list's `VS_FIXEDFILEINFO` in a heap-only dump
/// that lacks the image — which is the same file version either way and,
/// from .NET 5 on, names the same release.
#[test]
fn windows_runtime_version_in_every_kind() {
    let Some(shared) = heaplens_corpus::shared_or_skip("the info CLI tests") else {
        return;
    };
    let mut checked = 0;
    for fixture in ["windows-net8", "windows-net31"] {
        let dir = shared.join("fixtures").join(fixture);
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let want = manifest["info"]["runtime"].as_str().unwrap().to_owned();
        let mut file_versions = Vec::new();
        for phase in [1, 2] {
            let expected: Value = serde_json::from_slice(
                &std::fs::read(dir.join(format!("phase{phase}.expected.json"))).unwrap(),
            )
            .unwrap();
            assert_eq!(expected["runtime_version"].as_str(), Some(want.as_str()));
            for dump in heaplens_corpus::phase_dumps(&dir, phase, &[".dmp.zst"]) {
                let v = info(&heaplens_corpus::unpacked(&dump).unwrap());
                let r = &v["runtime"];
                let what = format!("{}: {r}", dump.display());
                assert_eq!(
                    r["name"].as_str(),
                    Some(format!(".NET {want}").as_str()),
                    "{what}"
                );
                let version = r["version"].as_str().unwrap_or_else(|| panic!("{what}"));
                let file_version = version.split_whitespace().next().unwrap().to_owned();
                if !want.starts_with("3.") {
                    assert_eq!(
                        heaplens_clr::product_version_of(version).as_deref(),
                        Some(want.as_str()),
                        "{what}"
                    );
                }
                file_versions.push(file_version);
                checked += 1;
            }
        }
        file_versions.dedup();
        assert_eq!(file_versions.len(), 1, "{fixture}: {file_versions:?}");
    }
    assert!(checked >= 6, "{checked} Windows dumps");
}

#[test]
fn gcdump_facts_equal_perfviews() {
    let Some(shared) = heaplens_corpus::shared_or_skip("the info CLI tests") else {
        return;
    };
    let dir = shared.join("samples/gcdump");
    let v = info(&dir.join("perfview-test1-jscript-ie.gcdump"));
    // PerfView's XML export of the same file.
    let xml =
        std::fs::read_to_string(dir.join("golden/perfview-test1-jscript-ie_baseline.gcdump.xml"))
            .unwrap();
    let element = |name: &str| {
        let open = format!("<{name}>");
        let at = xml.find(&open).unwrap() + open.len();
        xml[at..at + xml[at..].find('<').unwrap()].to_owned()
    };
    let attribute = |name: &str| {
        let key = format!(" {name}=\"");
        let at = xml.find(&key).unwrap() + key.len();
        xml[at..at + xml[at..].find('"').unwrap()].to_owned()
    };
    assert_eq!(v["format"], "gcdump");
    assert_eq!(v["process"]["name"], element("ProcessName").as_str());
    assert_eq!(
        v["process"]["machine_name"],
        element("MachineName").as_str()
    );
    assert_eq!(
        v["memory"]["process_working_set_bytes"].as_u64(),
        element("TotalProcessWorkingSet").parse().ok()
    );
    // `1/5/2015 10:48:40 AM`, the machine's local time.
    let t = element("TimeCollected");
    let (date, clock) = t.split_once(' ').unwrap();
    let d: Vec<u32> = date.split('/').map(|x| x.parse().unwrap()).collect();
    let mut c: Vec<u32> = clock[..clock.find(' ').unwrap()]
        .split(':')
        .map(|x| x.parse().unwrap())
        .collect();
    c[0] = c[0] % 12 + if clock.ends_with("PM") { 12 } else { 0 };
    assert_eq!(
        v["process"]["dump_time"].as_str().unwrap(),
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            d[2], d[0], d[1], c[0], c[1], c[2]
        )
    );
    let heap = &v["heap"];
    assert_eq!(heap["walkable"], true);
    assert_eq!(
        heap["object_bytes"].as_u64(),
        attribute("TotalSize").parse().ok()
    );
    assert!(heap["objects"].as_u64() < attribute("NumNodes").parse().ok());
    let container = &v["container"];
    assert_eq!(container["sampled"], false);
    assert!(container["average_count_multiplier"].is_null());
    assert!(container["version"].as_i64().unwrap() >= 4);
    // No process memory in a .gcdump.
    assert!(v["threads"].is_null() && v["modules"].is_null() && v["runtime"].is_null());
    assert!(v["memory"]["captured_bytes"].is_null());

    // Every sample is described, with its object count.
    for s in heaplens_corpus::gcdump_samples(&shared) {
        let v = info(&s);
        assert_eq!(v["heap"]["walkable"], true, "{}", s.display());
        assert!(v["heap"]["objects"].as_u64().unwrap() > 0);
        assert_eq!(
            v["container"]["sampled"],
            !v["container"]["average_count_multiplier"].is_null()
        );
    }
}

#[test]
fn text_output_names_the_facts_and_damage_is_an_error() {
    let Some(shared) = heaplens_corpus::shared_or_skip("the info CLI tests") else {
        return;
    };
    let file = shared.join("samples/gcdump/perfview-test2-wpf-netfx-x86.gcdump");
    let out = Command::new(env!("CARGO_BIN_EXE_heaplens"))
        .arg("info")
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        ".gcdump (GCHeapDump version",
        "process:",
        "heap:",
        "sampling:",
    ] {
        assert!(text.contains(line), "{line} in {text}");
    }

    let dir = std::env::temp_dir().join(format!("heaplens-info-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.bin");
    std::fs::write(&junk, b"this is not a heap dump").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_heaplens"))
        .args(["info", "--json"])
        .arg(&junk)
        .output()
        .unwrap();
    assert!(!out.status.success() && out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("unrecognised file"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A 32-bit process's minidumps (`windows-net31-x86` of `FIXTURES=x86
/// scripts/make-fixtures`: .NET Core 3.1 win-x86): `info` says 32-bit in
/// its JSON and its text, names the x86 processor, and reads the heap; the
/// facts the generator recorded (pid, threads, modules, streams, memory)
/// hold as on the 64-bit ones.
#[test]
fn x86_minidumps_say_32_bit() {
    for dir in heaplens_corpus::x86_fixture_dirs("the 32-bit info CLI test") {
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        assert_eq!(manifest["info"]["architecture"], "x86");
        for kind in ["windump", "heap"] {
            let dump =
                heaplens_corpus::unpacked(&dir.join(format!("phase1.{kind}.dmp.zst"))).unwrap();
            let v = info(&dump);
            minidump_facts(&v, &manifest, kind);
            assert_eq!(v["pointer_size"], 4, "{}", dump.display());
            assert_eq!(v["architecture"], "x86", "{}", dump.display());
            assert_eq!(v["runtime"]["heap_layout"], "segments");
            assert_eq!(v["heap"]["walkable"], true, "{}", v["heap"]);
            let out = Command::new(env!("CARGO_BIN_EXE_heaplens"))
                .arg("info")
                .arg(&dump)
                .output()
                .unwrap();
            assert!(out.status.success());
            let text = String::from_utf8(out.stdout).unwrap();
            let system = text
                .lines()
                .find(|l| l.starts_with("system:"))
                .unwrap_or_else(|| panic!("no system line in {text}"));
            assert!(
                system.contains("x86") && system.ends_with("32-bit"),
                "{system}"
            );
        }
    }
}
