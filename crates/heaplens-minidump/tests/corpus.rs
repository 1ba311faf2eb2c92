//! The Windows minidump fixtures (`windows-*/phaseN.<kind>.dmp.zst`),
//! against what their writer recorded in `manifest.json`: streams, module
//! and thread counts, memory ranges and bytes, the process id; and the
//! process's memory where the dump must hold it (thread stacks, the
//! runtime's image in a full dump).

use heaplens_bytes::{FileSource, PageCache};
use heaplens_memory::{AddressSpace, MemoryError};
use heaplens_minidump::{stream_type, Minidump};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Every Windows fixture dump: (folder, phase, kind, path of the `.zst`).
fn dumps() -> Vec<(PathBuf, String, String, PathBuf)> {
    let Some(shared) = heaplens_corpus::shared_or_skip("minidump corpus tests") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for dir in heaplens_corpus::fixture_dirs(&shared) {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            let Some(rest) = n.strip_suffix(".dmp.zst") else {
                continue;
            };
            let (phase, kind) = rest.split_once('.').unwrap();
            out.push((
                dir.clone(),
                phase.trim_start_matches("phase").to_owned(),
                kind.to_owned(),
                e.path(),
            ));
        }
    }
    out.sort();
    out
}

fn open(zst: &Path) -> Minidump<PageCache<FileSource>> {
    let path = heaplens_corpus::unpacked(zst).unwrap();
    Minidump::open(PageCache::new(FileSource::open(path).unwrap())).unwrap()
}

#[test]
fn fixtures_match_their_manifests() {
    let all = dumps();
    if all.is_empty() {
        return;
    }
    assert!(all.len() >= 6, "{all:?}");
    for (dir, phase, kind, zst) in all {
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let m = &manifest["phases"][&phase]["dumps"][&kind];
        let what = zst.display();
        let dump = open(&zst);
        assert!(dump.problems().is_empty(), "{what}: {:?}", dump.problems());

        // Streams, in file order, unused slots left out.
        let streams: Vec<&str> = dump
            .streams()
            .iter()
            .filter(|s| s.stream_type != stream_type::UNUSED)
            .map(|s| s.name())
            .collect();
        let want: Vec<&str> = m["streams"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(streams, want, "{what}");

        let pid = manifest["phases"][&phase]["pid"].as_u64().unwrap() as u32;
        assert_eq!(dump.process().process_id, Some(pid), "{what}");
        assert!(dump.process().create_time.is_some(), "{what}");
        let sys = dump.system_info().unwrap();
        assert_eq!(
            (
                sys.processor_architecture,
                sys.cpu.as_str(),
                sys.os.as_str()
            ),
            (9, "amd64", "windows"),
            "{what}"
        );
        assert_eq!(dump.pointer_size(), 8);
        assert_eq!(dump.header().version & 0xffff, 0xa793);
        assert_eq!(dump.comments().len(), 1, "{what}");
        assert!(dump.comments()[0].contains("MiniDumpWriteDump"), "{what}");

        // Modules: counts, CodeView records, the runtime.
        assert_eq!(dump.modules().len() as u64, m["modules"].as_u64().unwrap());
        let with_cv = dump
            .modules()
            .iter()
            .filter(|m| m.debug_file.is_some())
            .count() as u64;
        assert_eq!(
            with_cv,
            m["modules_with_cv_record"].as_u64().unwrap(),
            "{what}"
        );
        assert!(dump.modules()[0].path.ends_with("dotnet.exe"), "{what}");
        let coreclr = dump.find_module("coreclr.dll").expect("coreclr.dll");
        assert!(coreclr.path.contains("Microsoft.NETCore.App"), "{what}");
        assert!(
            coreclr.version.is_some() && coreclr.code_id.is_some(),
            "{what}"
        );
        assert_eq!(
            dump.module_containing(coreclr.base + 0x1000)
                .map(|m| &m.path),
            Some(&coreclr.path)
        );
        assert!(dump.find_module("DumpLab.dll").is_some(), "{what}");

        // Memory: what the writer says it put in.
        let c = dump.coverage();
        assert_eq!(c.missing_bytes, 0, "{what}");
        assert_eq!(c.stack_ranges, 0, "{what}: stacks are in the memory lists");
        let m64 = m["memory64_ranges"].as_u64().unwrap() as usize;
        assert_eq!(c.memory64_ranges, m64, "{what}");
        if m64 > 0 {
            assert_eq!(c.bytes, m["memory64_bytes"].as_u64().unwrap(), "{what}");
            assert_eq!(c.memory_list_ranges, 0);
        } else {
            assert!(c.memory_list_ranges > 0, "{what}");
            assert_eq!(c.bytes, m["memory_list_bytes"].as_u64().unwrap(), "{what}");
        }
        let image = dump.memory().read_u16(coreclr.base);
        if kind == "windump" {
            // A full dump holds the runtime's image: its MZ header.
            assert_eq!(image.unwrap(), 0x5a4d, "{what}");
        } else {
            // A dump of private memory holds no image.
            assert!(matches!(image, Err(MemoryError::Unmapped { .. })), "{what}");
        }

        // Threads: contexts, and stacks the dump holds.
        assert_eq!(dump.threads().len() as u64, m["threads"].as_u64().unwrap());
        for t in dump.threads() {
            let (lo, hi) = t.stack.expect("a stack");
            let sp = t.stack_pointer().expect("a context");
            assert!(lo <= sp && sp < hi, "{what}: thread {} sp {sp:#x}", t.id);
            let regs = &t.context.as_ref().unwrap().general_purpose;
            assert!(regs.iter().any(|&(n, v)| n == "rsp" && v == sp), "{regs:?}");
            let mut stack = vec![0u8; (hi - lo) as usize];
            dump.memory().read_virtual(lo, &mut stack).unwrap();
            assert!(
                t.info.is_some(),
                "{what}: thread {} has no ThreadInfo",
                t.id
            );
            assert!(t.teb != 0);
        }
        if let Some(w) = m.get("windump") {
            assert_eq!(
                dump.memory_info().len() as u64,
                w["memory_info_entries"].as_u64().unwrap(),
                "{what}"
            );
            assert_eq!(dump.handles().len() as u64, w["handles"].as_u64().unwrap());
        }
        assert!(!dump.memory_info().is_empty() && !dump.handles().is_empty());
        // Every captured range is committed memory.
        for r in dump.memory().regions().iter().take(50) {
            let info = dump.memory_info_at(r.start).expect("memory info");
            assert!(info.is_committed(), "{what}: {r:x?} {info:x?}");
        }
        // Memory by kind: every captured byte is in one kind or
        // unclassified; a dump of private memory holds no mapped files.
        let k = dump.memory_kinds();
        assert_eq!(
            k.image.captured + k.mapped.captured + k.private.captured + k.unclassified_captured,
            dump.coverage().bytes,
            "{what}: {k:?}"
        );
        for b in [k.image, k.mapped, k.private, k.private_writable] {
            assert!(b.captured <= b.committed, "{what}: {k:?}");
        }
        assert!(k.private_writable.committed <= k.private.committed);
        assert!(
            k.image.committed > 0 && k.private_writable.captured > 0,
            "{k:?}"
        );
        if kind == "heap" {
            assert_eq!(k.mapped.captured, 0, "{what}: {k:?}");
        }
        assert!(dump.exception().is_none());
        assert!(dump.unloaded_modules().is_empty());
    }
}
