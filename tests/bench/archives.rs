//! Benchmark: unpacking a dump from its archive, as `heaplens` does before
//! it reads a `.zip`, `.gz` or `.zst`: the largest fixture dump (or
//! `HEAPLENS_BENCH_DUMP=path`, raw or `.zst`) deflated into a zip and a
//! gzip file by the system's `zip` and `gzip`, and zstd-compressed
//! (`zstd -3 --long=27` from a pipe, as the corpus' files: a 128 MiB
//! window), each unpacked with `heaplens_archive` into the system's
//! temporary directory (what the CLI does), best of 3. Prints MB/s of
//! unpacked and of compressed bytes, and the process's peak resident
//! memory after each format (it only grows: zip, then gzip, then zstd).
//!
//! `cargo bench -p heaplens-tests --bench archives`

use heaplens_archive::zip::ZipReader;
use heaplens_archive::{gzip, zstd, TempScratch, Unpacked};
use heaplens_bytes::{FileSource, PageCache};
use heaplens_graph::NoProgress;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The largest fixture dump, unpacked.
fn dump() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("HEAPLENS_BENCH_DUMP") {
        return heaplens_corpus::unpacked(Path::new(&p)).ok();
    }
    let shared = heaplens_corpus::shared_or_skip("the archive benchmark")?;
    let mut all: Vec<PathBuf> = Vec::new();
    for dir in heaplens_corpus::fixture_dirs(&shared) {
        for phase in [1, 2] {
            all.extend(heaplens_corpus::phase_dumps(
                &dir,
                phase,
                &[".core.zst", ".dmp.zst"],
            ));
        }
    }
    let raw: Vec<PathBuf> = all
        .iter()
        .filter_map(|z| heaplens_corpus::unpacked(z).ok())
        .collect();
    raw.into_iter()
        .max_by_key(|p| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
}

fn sh(cmd: &str, dir: &Path) {
    let ok = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .current_dir(dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "{cmd}");
}

fn best_of(n: usize, mut f: impl FnMut() -> Unpacked) -> (Duration, Unpacked) {
    let mut best = None;
    let mut last = None;
    for _ in 0..n {
        let t = Instant::now();
        let u = f();
        let d = t.elapsed();
        best = Some(best.map_or(d, |b: Duration| b.min(d)));
        last = Some(u);
    }
    (best.unwrap_or_default(), last.expect("at least one run"))
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` asks for a listing
    }
    let Some(raw) = dump() else { return };
    let size = std::fs::metadata(&raw).unwrap().len();
    let dir = std::env::temp_dir().join(format!("heaplens-bench-archives-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let r = raw.display();
    sh(
        &format!("ln -sf '{r}' dump && zip -q -6 dump.zip dump"),
        &dir,
    );
    sh(&format!("gzip -6 -c '{r}' > dump.gz"), &dir);
    sh(&format!("zstd -q -3 --long=27 -c < '{r}' > dump.zst"), &dir);
    println!(
        "dump: {} ({:.1} MB); scratch: {}",
        raw.display(),
        size as f64 / 1e6,
        std::env::temp_dir().display()
    );
    println!(
        "{:<8} {:>12} {:>10} {:>14} {:>16} {:>14}",
        "format", "compressed", "best ms", "MB/s unpacked", "MB/s compressed", "peak RSS MiB"
    );
    let mut scratch = TempScratch::from_env();
    for (name, file) in [
        ("zip", "dump.zip"),
        ("gzip", "dump.gz"),
        ("zstd", "dump.zst"),
    ] {
        let src = PageCache::new(FileSource::open(dir.join(file)).unwrap());
        let (t, u) = best_of(3, || match name {
            "zip" => {
                let mut z = ZipReader::open(&src).unwrap();
                z.inflate(0, &mut scratch, &mut NoProgress).unwrap()
            }
            "gzip" => gzip::inflate(&src, &mut scratch, &mut NoProgress).unwrap(),
            _ => zstd::inflate(&src, &mut scratch, &mut NoProgress).unwrap(),
        });
        assert_eq!(u.inflated_bytes, size);
        let secs = t.as_secs_f64();
        println!(
            "{name:<8} {:>12} {:>10.1} {:>14.1} {:>16.1} {:>14.1}",
            u.compressed_bytes,
            secs * 1e3,
            size as f64 / 1e6 / secs,
            u.compressed_bytes as f64 / 1e6 / secs,
            peak_rss_kib().unwrap_or(0) as f64 / 1024.0
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
