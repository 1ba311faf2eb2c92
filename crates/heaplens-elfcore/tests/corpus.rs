//! The real Linux cores of the reference corpus (`shared/fixtures/linux-*`):
//! every fact checked here comes from the fixture's manifest or from the
//! runtime's own heap walk, not from this reader.

use heaplens_bytes::{FileSource, PageCache};
use heaplens_elfcore::{ElfCore, Machine};
use heaplens_memory::{AddressSpace, MemoryError};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One core of one fixture.
struct Core {
    fixture: String,
    phase: String,
    kind: String,
    path: PathBuf,
    manifest: Value,
}

impl Core {
    fn name(&self) -> String {
        format!("{}/phase{}.{}", self.fixture, self.phase, self.kind)
    }

    fn phase_facts(&self) -> &Value {
        &self.manifest["phases"][&self.phase]
    }

    fn dump_facts(&self) -> &Value {
        &self.phase_facts()["dumps"][&self.kind]
    }

    fn single_file(&self) -> bool {
        self.fixture.ends_with("-sf")
    }

    fn open(&self) -> ElfCore<PageCache<FileSource>> {
        let file = heaplens_corpus::unpacked(&self.path)
            .unwrap_or_else(|e| panic!("unpacking {}: {e}", self.path.display()));
        let source = PageCache::new(FileSource::open(&file).unwrap());
        ElfCore::open(source).unwrap_or_else(|e| panic!("{}: {e}", self.name()))
    }
}

/// Every `phaseN.<kind>.core.zst` of the `linux-*` fixtures, or `None`
/// (skipped) without the corpus.
fn cores(what: &str) -> Option<Vec<Core>> {
    let shared = heaplens_corpus::shared_or_skip(what)?;
    let mut out = Vec::new();
    for dir in heaplens_corpus::fixture_dirs(&shared) {
        let fixture = dir.file_name().unwrap().to_string_lossy().into_owned();
        if !fixture.starts_with("linux-") {
            continue;
        }
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".core.zst"))
            .collect();
        names.sort();
        for n in names {
            // phase1.withheap.core.zst
            let mut parts = n.split('.');
            let phase = parts
                .next()
                .unwrap()
                .trim_start_matches("phase")
                .to_string();
            let kind = parts.next().unwrap().to_string();
            out.push(Core {
                fixture: fixture.clone(),
                phase,
                kind,
                path: dir.join(&n),
                manifest: manifest.clone(),
            });
        }
    }
    assert!(
        out.len() >= 7,
        "expected the 7 Linux cores of the corpus, found {}",
        out.len()
    );
    Some(out)
}

fn u64_of(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn hex(v: &Value) -> u64 {
    let s = v.as_str().unwrap_or_else(|| panic!("not a string: {v}"));
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// The product version of a .NET binary's file version: `8.0.424.16909`
/// → `8.0.4`, `3.100.2322.12204` → `3.1.23`, `10.0.1226.42308` → `10.0.12`
/// (the minor is ×100 in .NET Core 3.x hosts, the patch ×100 everywhere).
fn product_version(file_version: &str) -> Option<String> {
    let mut it = file_version.split([' ', '.']);
    let major: u32 = it.next()?.parse().ok()?;
    let minor: u32 = it.next()?.parse().ok()?;
    let build: u32 = it.next()?.parse().ok()?;
    let minor = if minor >= 100 { minor / 100 } else { minor };
    Some(format!("{major}.{minor}.{}", build / 100))
}

#[test]
fn product_versions() {
    assert_eq!(
        product_version("8.0.424.16909 @Commit: x").unwrap(),
        "8.0.4"
    );
    assert_eq!(product_version("3.100.2322.12204").unwrap(), "3.1.23");
    assert_eq!(product_version("10.0.1226.42308").unwrap(), "10.0.12");
    assert_eq!(product_version("4.700.22.11601").unwrap(), "4.7.0");
    assert!(product_version("garbage").is_none());
}

#[test]
fn threads_process_and_segments_match_the_manifest() {
    let Some(cores) = cores("ELF core threads and segments") else {
        return;
    };
    for c in &cores {
        let core = c.open();
        let name = c.name();
        assert_eq!(core.machine(), Machine::X86_64, "{name}");
        assert_eq!(core.pointer_size(), 8);
        assert_eq!(core.memory().pointer_size(), 8);
        assert_eq!(
            core.threads().len() as u64,
            u64_of(&c.dump_facts()["threads"]),
            "{name}: thread count"
        );
        let cov = core.coverage();
        assert_eq!(
            cov.segments as u64,
            u64_of(&c.dump_facts()["segments"]),
            "{name}: PT_LOAD count"
        );
        assert_eq!(cov.segments, core.memory().regions().len());
        assert_eq!(cov.missing_bytes, 0, "{name}");
        let pid = u64_of(&c.phase_facts()["pid"]) as u32;
        assert_eq!(core.process().pid(), Some(pid), "{name}: pid");
        assert!(core.process().ppid().is_some_and(|p| p != 0), "{name}");
        // createdump writes the main thread (tid == pid) first.
        assert_eq!(core.threads()[0].tid, pid, "{name}: first thread");
        // The kernel truncates the command name to 15 bytes.
        let exe = c.manifest["argv"][0].as_str().unwrap();
        let exe_name = exe.rsplit('/').next().unwrap();
        let comm: String = exe_name.chars().take(15).collect();
        assert_eq!(core.process().name(), Some(comm.as_str()), "{name}: name");
        assert_eq!(
            core.executable().map(|m| m.path.as_str()),
            Some(exe),
            "{name}: executable (AT_ENTRY)"
        );
        assert_eq!(
            core.process().auxv_value(6),
            Some(4096),
            "{name}: AT_PAGESZ"
        );

        // Every thread's stack pointer is in captured, writable memory.
        let mut tids: Vec<u32> = core.threads().iter().map(|t| t.tid).collect();
        tids.sort_unstable();
        tids.dedup();
        assert_eq!(
            tids.len(),
            core.threads().len(),
            "{name}: thread ids unique"
        );
        for t in core.threads() {
            let sp = t.stack_pointer();
            let r = core
                .memory()
                .region_at(sp)
                .unwrap_or_else(|| panic!("{name}: thread {} sp {sp:#x} unmapped", t.tid));
            assert!(
                r.has_data_at(sp),
                "{name}: thread {} stack not captured",
                t.tid
            );
            assert!(
                r.protection.is_some_and(|p| p.write),
                "{name}: stack writable"
            );
            core.memory().read_u64(sp).unwrap();
            assert_eq!(t.registers.general_purpose().len(), 16);
            // The stack is anonymous memory, not a file mapping.
            assert!(core.module_containing(sp).is_none(), "{name}");
        }

        // A --withheap or --full core holds the GC heap in anonymous
        // writable memory: at least the live objects' total size.
        let heap = u64_of(&c.phase_facts()["reference"]["total_size"]);
        assert!(
            cov.anonymous_writable_data_bytes > heap,
            "{name}: {} anonymous writable bytes for a {heap}-byte heap",
            cov.anonymous_writable_data_bytes
        );
        assert!(cov.anonymous_data_bytes <= cov.data_bytes && cov.data_bytes <= cov.mapped_bytes);
        eprintln!("{name}: {cov:?}");
    }
}

#[test]
fn the_runtime_and_its_exports_are_found() {
    let Some(cores) = cores("ELF core runtime symbols") else {
        return;
    };
    for c in &cores {
        let core = c.open();
        let name = c.name();
        let runtime = if c.single_file() {
            // The runtime is linked into the app's own executable.
            assert!(core.find_module("libcoreclr.so").is_none(), "{name}");
            let host = core.executable().expect("the executable");
            let (m, info) = core
                .find_exported_symbol("DotNetRuntimeInfo")
                .expect("DotNetRuntimeInfo");
            assert_eq!(m.path, host.path, "{name}");
            // The symbol holds its own name as signature.
            let mut sig = [0u8; 18];
            core.memory().read_virtual(info, &mut sig).unwrap();
            assert_eq!(&sig, b"DotNetRuntimeInfo\0", "{name}");
            // Bundled assemblies are mappings of the same file at other
            // offsets: the module has several mappings, one of offset 0.
            assert_eq!(host.header_addresses().count(), 1, "{name}");
            assert!(host.mappings.len() > 6, "{name}");
            m
        } else {
            core.find_module("libcoreclr.so")
                .unwrap_or_else(|| panic!("{name}: no libcoreclr.so"))
        };
        if !c.single_file() {
            // .../Microsoft.NETCore.App/8.0.4/libcoreclr.so
            let version = c.manifest["info"]["runtime"].as_str().unwrap();
            assert!(runtime.path.contains(&format!("/{version}/")), "{name}");
        }
        let image = core.module_image(runtime).unwrap();
        assert_eq!(image.base(), runtime.base.unwrap());
        assert!(image.writable_segments().count() >= 1, "{name}");
        // The segments start in the file's mappings (.bss may run past
        // them into anonymous memory).
        for s in image.segments() {
            assert!(
                runtime.contains(s.start),
                "{name}: segment at {:#x}",
                s.start
            );
        }

        let dac = image.find_symbol("g_dacTable");
        assert_eq!(dac, core.find_symbol(runtime, "g_dacTable"));
        if c.fixture.contains("net31") {
            // 3.1 does not export it (the DAC had its RVA baked in).
            assert_eq!(dac, None, "{name}");
        } else {
            let dac = dac.unwrap_or_else(|| panic!("{name}: g_dacTable not found"));
            let sym = image.lookup_symbol("g_dacTable").unwrap().unwrap();
            assert!(sym.size >= 0x100, "{name}: g_dacTable size {}", sym.size);
            let seg = image
                .segments()
                .iter()
                .find(|s| s.contains(dac))
                .expect("g_dacTable in the image");
            assert!(seg.is_writable(), "{name}: g_dacTable in a data segment");
            // The table's entries (pointers on .NET 5+) are readable and
            // mostly point into the runtime image.
            let mut inside = 0;
            for i in 0..sym.size / 8 {
                let p = core.memory().read_u64(dac + i * 8).unwrap();
                inside += u64::from(image.contains(p));
            }
            assert!(
                inside * 2 > sym.size / 8,
                "{name}: {inside} entries in the image"
            );
        }
        let net10 = c.fixture.contains("net10");
        assert_eq!(
            image
                .find_symbol("DotNetRuntimeContractDescriptor")
                .is_some(),
            net10,
            "{name}: the cDAC descriptor exists from .NET 9 on"
        );
        if net10 {
            let d = image
                .find_symbol("DotNetRuntimeContractDescriptor")
                .unwrap();
            assert_eq!(
                &core.memory().read_u64(d).unwrap().to_le_bytes(),
                b"DNCCDAC\0"
            );
        }
        assert_eq!(image.find_symbol("no_such_symbol_in_any_image"), None);
    }
}

#[test]
fn the_runtime_version_marker_matches_the_manifest() {
    let Some(cores) = cores("ELF core version strings") else {
        return;
    };
    for c in &cores {
        let core = c.open();
        let name = c.name();
        let want = c.manifest["info"]["runtime"].as_str().unwrap();
        let mut found = Vec::new();
        for m in core.modules() {
            if let Ok(image) = core.module_image(m) {
                if let Some(v) = image.version_string() {
                    found.push((m.file_name().to_string(), v));
                }
            }
        }
        assert!(
            found
                .iter()
                .any(|(_, v)| product_version(v).as_deref() == Some(want)),
            "{name}: no @(#)Version for {want} in {found:?}"
        );
        let runtime_version = found
            .iter()
            .find(|(f, _)| f == "libcoreclr.so" || f == "msbuild-extractor")
            .map(|(_, v)| v.as_str());
        match c.fixture.as_str() {
            // createdump left libcoreclr's .rodata out of the .NET 8 cores.
            "linux-net8" | "linux-net8-clrgc" => assert_eq!(runtime_version, None, "{name}"),
            // CoreCLR 3.1 carries its own file version, 4.700.x.
            "linux-net31" => assert!(
                runtime_version.is_some_and(|v| v.starts_with("4.700.")),
                "{name}: {runtime_version:?}"
            ),
            _ => assert_eq!(
                runtime_version.and_then(product_version).as_deref(),
                Some(want),
                "{name}"
            ),
        }
        eprintln!("{name}: {found:?}");
    }
}

#[test]
fn every_reference_object_reads_its_method_table() {
    let Some(cores) = cores("ELF core reference objects") else {
        return;
    };
    for c in &cores {
        let core = c.open();
        let name = c.name();
        let graph_path: &Path = &c
            .path
            .with_file_name(format!("phase{}.graph.json.zst", c.phase));
        let graph: Value =
            serde_json::from_slice(&heaplens_corpus::read_maybe_zst(graph_path).unwrap()).unwrap();
        let nodes = graph["nodes"].as_array().unwrap();
        let facts = &c.dump_facts()["reference_objects_in_dump"];
        assert_eq!(nodes.len() as u64, u64_of(&facts["objects"]), "{name}");
        let (mut matched, mut type_descs) = (0u64, 0u64);
        for n in nodes {
            let addr = hex(&n[0]);
            let mt = hex(&n[2]);
            let read = core
                .memory()
                .read_u64(addr)
                .unwrap_or_else(|e| panic!("{name}: object {addr:#x}: {e}"))
                & !7;
            if read == mt {
                matched += 1;
            } else if mt & 2 != 0 {
                // 3.1's heap dump names some types by a TypeDesc handle
                // (tagged with bit 1), not the object's MethodTable.
                type_descs += 1;
            } else {
                panic!("{name}: object {addr:#x} has MT {read:#x}, reference says {mt:#x}");
            }
            // The whole object is captured.
            let size = u64_of(&n[1]);
            assert!(core.memory().is_mapped(addr, size), "{name}: {addr:#x}");
        }
        assert_eq!(matched, u64_of(&facts["mt_match"]), "{name}");
        let want_td = facts.get("typedesc_objects").map_or(0, u64_of);
        assert_eq!(type_descs, want_td, "{name}");
    }
}

#[test]
fn uncaptured_memory_is_an_error_not_zeros() {
    let Some(cores) = cores("ELF core uncaptured memory") else {
        return;
    };
    // The 3.1 cores have segments with p_filesz < p_memsz (code, PROT_NONE
    // reservations).
    let c = cores.iter().find(|c| c.fixture == "linux-net31").unwrap();
    let core = c.open();
    let partial = core
        .memory()
        .regions()
        .iter()
        .filter(|r| r.data_size < r.size)
        .count();
    assert!(partial > 100, "{partial} partial segments");
    let r = core
        .memory()
        .regions()
        .iter()
        .find(|r| r.data_size == 0)
        .unwrap();
    let e = core.memory().read_u64(r.start + 8).unwrap_err();
    assert!(
        matches!(e, MemoryError::NotCaptured { addr, .. } if addr == r.start + 8),
        "{e}"
    );
    let cov = core.coverage();
    assert!(cov.mapped_bytes > 20 * cov.data_bytes, "{cov:?}");
    // Unmapped memory is a different error.
    assert!(matches!(
        core.memory().read_u8(8),
        Err(MemoryError::Unmapped { .. })
    ));
}
