//! Memory bounded by what the dump holds, proven with the address space
//! limited (`ulimit -v`): a region that claims 64 GiB, or a damaged
//! record that makes one claim terabytes, must not make `heaplens` reserve
//! it. A claimed size that were reserved would exceed the limit and abort
//! the process ("memory allocation of … failed"); bounded, it reads the
//! heap and says what the dump lacks.

use heaplens_corpus::synthetic::SyntheticHeap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Address space allowed (KiB): far below what the damage claims, enough
/// for the CLI's own threads and allocator arenas.
const LIMIT_KIB: u64 = 1 << 20;

fn temp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("heaplens-bounded-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// `heaplens ARGS FILE` with the address space limited to [`LIMIT_KIB`].
fn limited(args: &str, file: &Path) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {LIMIT_KIB} && exec \"$0\" {args} \"$1\""
        ))
        .arg(env!("CARGO_BIN_EXE_heaplens"))
        .arg(file)
        .output()
        .unwrap()
}

#[test]
fn the_synthetic_core_reads_whole() {
    let path = temp("synthetic.core");
    std::fs::write(&path, SyntheticHeap::new().elf_core()).unwrap();
    let out = limited("stats --json", &path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "elf-core");
    // Every object placed (one of them free space), live or not.
    let heap = SyntheticHeap::new();
    assert_eq!(v["nodes"].as_u64(), Some(heap.objects.len() as u64), "{v}");
    let objects = heap.objects.iter().filter(|o| !o.free).count() as u64;
    let counted = v["objects"].as_u64().unwrap() + v["unreachable"]["count"].as_u64().unwrap();
    assert_eq!(counted, objects, "{v}");
}

#[test]
fn a_region_claiming_64_gib_is_not_reserved() {
    let mut heap = SyntheticHeap::new();
    heap.claim_more(4, 64 << 30);
    let path = temp("claims-64-gib.core");
    std::fs::write(&path, heap.elf_core()).unwrap();
    let out = limited("stats", &path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // A partial result: printed, with the partial exit code (3).
    assert_eq!(out.status.code(), Some(3), "{stdout}\n{stderr}");
    // The result says the dump lacks most of what the heap claims.
    assert!(
        stdout.contains("not in the dump") || stdout.contains("holds"),
        "{stdout}"
    );
}

/// Issue 13's first reproducer, under the limit: `0x28` in the `mem` field
/// of the pinned-object heap's region record of the net8 core.
#[test]
fn a_region_record_claiming_terabytes_is_not_reserved() {
    let Some(shared) = heaplens_corpus::shared_or_skip("bounded memory on a damaged core") else {
        return;
    };
    let zst = shared.join("fixtures/linux-net8/phase1.withheap.core.zst");
    let mut bytes = std::fs::read(heaplens_corpus::unpacked(&zst).unwrap()).unwrap();
    bytes[3_301_472..3_301_480].copy_from_slice(&0x28u64.to_le_bytes());
    let path = temp("net8-poh-mem-0x28.core");
    std::fs::write(&path, &bytes).unwrap();
    drop(bytes);
    let out = limited("stats", &path);
    let _ = std::fs::remove_file(&path);
    // A result (whole or partial), never an abort.
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
}
