//! Test support for heaplens: where the shared reference corpus is, and
//! unpacked copies of its compressed dumps.
//!
//! The corpus (`shared/` beside the project root: `.gcdump` samples with
//! PerfView's golden outputs, real core dumps with the runtime's own heap
//! walk) is not part of the repository. Tests find it through
//! [`shared_dir`]:
//!
//! * `HEAPLENS_SHARED` names it explicitly;
//! * otherwise `../shared` beside the workspace root is used.
//!
//! When it is missing, corpus tests are skipped with a message saying so,
//! unless `HEAPLENS_REQUIRE_CORPUS=1` (set by `.ci/run`), in which case they
//! fail.

pub mod patched;
pub mod synthetic;

use std::path::{Path, PathBuf};

/// Environment variable naming the corpus directory.
pub const SHARED_ENV: &str = "HEAPLENS_SHARED";
/// Environment variable that turns a missing corpus into a failure.
pub const REQUIRE_ENV: &str = "HEAPLENS_REQUIRE_CORPUS";

/// The workspace root (this crate lives in `crates/heaplens-corpus`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// Where the corpus should be (whether or not it exists).
pub fn shared_path() -> PathBuf {
    match std::env::var_os(SHARED_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join("../shared"),
    }
}

/// True when a missing corpus must fail the tests.
pub fn corpus_required() -> bool {
    matches!(std::env::var(REQUIRE_ENV).as_deref(), Ok("1") | Ok("true"))
}

/// The corpus directory, if it exists.
pub fn shared_dir() -> Option<PathBuf> {
    let p = shared_path();
    p.join("samples").is_dir().then_some(p)
}

/// The corpus directory, or `None` after saying (on stderr) that `what` is
/// skipped. Panics instead when [`corpus_required`].
pub fn shared_or_skip(what: &str) -> Option<PathBuf> {
    if let Some(p) = shared_dir() {
        return Some(p);
    }
    let msg = format!(
        "SKIPPED {what}: the reference corpus was not found at {} (set {SHARED_ENV} to its path)",
        shared_path().display()
    );
    if corpus_required() {
        panic!("{msg}; {REQUIRE_ENV} is set, so this is a failure");
    }
    eprintln!("{msg}");
    None
}

/// Every `.gcdump` file in `samples/gcdump/`, sorted by name.
pub fn gcdump_samples(shared: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(shared.join("samples/gcdump"))
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "gcdump"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The fixture folders of `fixtures/` (those with a `manifest.json`), sorted.
pub fn fixture_dirs(shared: &Path) -> Vec<PathBuf> {
    manifest_dirs(&shared.join("fixtures"))
}

/// The folders in `dir` that hold a `manifest.json`, sorted.
fn manifest_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.join("manifest.json").is_file())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Environment variable naming the folder of the fixtures made by
/// `scripts/make-fixtures` (server GC, a big heap).
pub const GENERATED_ENV: &str = "HEAPLENS_GENERATED_FIXTURES";

/// Where `scripts/make-fixtures` puts its fixtures (whether or not they
/// exist): `$HEAPLENS_GENERATED_FIXTURES`, else `../dumplab/out` beside the
/// repository.
pub fn generated_path() -> PathBuf {
    match std::env::var_os(GENERATED_ENV) {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => workspace_root().join("../dumplab/out"),
    }
}

/// The generated fixture folders (with a `manifest.json`), sorted; when
/// there are none, says (on stderr) that `what` skips them.
pub fn generated_fixture_dirs(what: &str) -> Vec<PathBuf> {
    let p = generated_path();
    let v = manifest_dirs(&p);
    if v.is_empty() {
        eprintln!(
            "SKIPPED {what} on generated fixtures (server GC, big heap): none in {} \
             (make them with scripts/make-fixtures, or set {GENERATED_ENV})",
            p.display()
        );
    }
    v
}

/// True for a fixture folder of a 32-bit process (`scripts/make-fixtures`
/// names them `…-x86`, e.g. `windows-net31-x86`).
pub fn is_x86_fixture(dir: &Path) -> bool {
    dir.file_name()
        .is_some_and(|n| n.to_string_lossy().ends_with("-x86"))
}

/// The fixture folders the heap-walk tests run on: the corpus' (sorted),
/// then those of `scripts/make-fixtures` but its `-big` one (that heap is
/// the benchmark's), its 32-bit ones ([`x86_fixture_dirs`]) included; says
/// (on stderr) when `what` has no generated ones.
pub fn walk_fixture_dirs(shared: &Path, what: &str) -> Vec<PathBuf> {
    let mut v = fixture_dirs(shared);
    v.extend(
        generated_fixture_dirs(what)
            .into_iter()
            .filter(|d| !d.to_string_lossy().ends_with("-big")),
    );
    v
}

/// The generated fixture sets of the zoo (`FIXTURES=zoo
/// scripts/make-fixtures`: `linux-net8-zoo`, `linux-net31-zoo`,
/// `linux-net10-zoo`: objects of known contents), sorted; when there are
/// none, says (on stderr) that `what` skips them.
pub fn zoo_fixture_dirs(what: &str) -> Vec<PathBuf> {
    let v: Vec<PathBuf> = manifest_dirs(&generated_path())
        .into_iter()
        .filter(|d| d.to_string_lossy().ends_with("-zoo"))
        .collect();
    if v.is_empty() {
        eprintln!(
            "SKIPPED {what} on the zoo (objects of known contents): none in {} (make them with \
             FIXTURES=zoo scripts/make-fixtures, or set {GENERATED_ENV})",
            generated_path().display()
        );
    }
    v
}

/// Environment variable listing the fixture sets CI makes (`.ci/run`:
/// `HEAPLENS_CI_FIXTURES`, space separated, e.g. `x86 svr zoo`).
pub const CI_FIXTURES_ENV: &str = "HEAPLENS_CI_FIXTURES";

/// True when `set` (a `scripts/make-fixtures` set: `zoo`, `leaks`, ...) is
/// named in [`CI_FIXTURES_ENV`]: then its fixtures were made for this run.
pub fn fixture_set_named(set: &str) -> bool {
    std::env::var(CI_FIXTURES_ENV).is_ok_and(|v| v.split_whitespace().any(|s| s == set))
}

/// The generated fixture sets of the leak zoo (`FIXTURES=leaks
/// scripts/make-fixtures`: `linux-net8-leaks`, `linux-net31-leaks`,
/// `linux-net10-leaks`: leak patterns planted in phase 1 and grown in
/// phase 2), sorted; when there are none, says (on stderr) that `what`
/// skips them, or panics when [`corpus_required`] and the set is named in
/// [`CI_FIXTURES_ENV`] (it was to be made for this run).
pub fn leaks_fixture_dirs(what: &str) -> Vec<PathBuf> {
    let v: Vec<PathBuf> = manifest_dirs(&generated_path())
        .into_iter()
        .filter(|d| d.to_string_lossy().ends_with("-leaks"))
        .collect();
    if v.is_empty() {
        let msg = format!(
            "SKIPPED {what} on the leak zoo: none in {} (make them with \
             FIXTURES=leaks scripts/make-fixtures, or set {GENERATED_ENV})",
            generated_path().display()
        );
        if corpus_required() && fixture_set_named("leaks") {
            panic!("{msg}; {REQUIRE_ENV} is set and {CI_FIXTURES_ENV} names leaks, so this is a failure");
        }
        eprintln!("{msg}");
    }
    v
}

/// The generated fixture folders of 32-bit processes (`FIXTURES=x86
/// scripts/make-fixtures`: `windows-net31-x86`), sorted; when there are
/// none, says (on stderr) that `what` skips them.
pub fn x86_fixture_dirs(what: &str) -> Vec<PathBuf> {
    let p = generated_path();
    let v: Vec<PathBuf> = manifest_dirs(&p)
        .into_iter()
        .filter(|d| is_x86_fixture(d))
        .collect();
    if v.is_empty() {
        eprintln!(
            "SKIPPED {what}: no 32-bit fixtures in {} (make them with \
             FIXTURES=x86 scripts/make-fixtures, or set {GENERATED_ENV})",
            p.display()
        );
    }
    v
}

/// The dumps of `phase` in a fixture folder: its files `phaseN.<kind><suffix>`
/// for each of `suffixes` (`.core.zst`, `.dmp.zst`), sorted by name.
pub fn phase_dumps(dir: &Path, phase: u32, suffixes: &[&str]) -> Vec<PathBuf> {
    let prefix = format!("phase{phase}.");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    let n = p.file_name().unwrap_or_default().to_string_lossy();
                    n.starts_with(&prefix) && suffixes.iter().any(|s| n.ends_with(s))
                })
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Where unpacked copies of compressed corpus files are kept.
pub fn unpack_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("heaplens-corpus")
}

#[cfg(feature = "unpack")]
/// The contents of a `.zst` file as an unpacked file on disk, unpacked on
/// first use (and again if the source is newer). Other files are returned
/// as they are.
pub fn unpacked(path: &Path) -> std::io::Result<PathBuf> {
    if path.extension().is_none_or(|x| x != "zst") {
        return Ok(path.to_path_buf());
    }
    let parent = path
        .parent()
        .and_then(|p| p.file_name())
        .unwrap_or_default();
    // Keyed by the source's full path too: two fixture sets of one name
    // (say, regenerated into another directory) never share an unpacked
    // copy, however their times compare.
    let full = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&full, &mut hasher);
    let key = std::hash::Hasher::finish(&hasher);
    let dir = unpack_dir().join(format!("{}-{key:016x}", parent.to_string_lossy()));
    std::fs::create_dir_all(&dir)?;
    let out = dir.join(path.file_stem().unwrap_or_default());
    let src_time = std::fs::metadata(path)?.modified()?;
    if let Ok(m) = std::fs::metadata(&out) {
        if m.modified()? >= src_time {
            return Ok(out);
        }
    }
    // Unique per process and per call: tests of one binary run on several
    // threads and may unpack the same file at once.
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let tmp = dir.join(format!(
        ".{}.{}.{}.tmp",
        out.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    {
        let input = std::fs::File::open(path)?;
        let mut dec = zstd::stream::read::Decoder::new(input)?;
        dec.window_log_max(31)?;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        std::io::copy(&mut dec, &mut f)?;
        std::io::Write::flush(&mut f)?;
    }
    std::fs::rename(&tmp, &out)?;
    Ok(out)
}

#[cfg(feature = "unpack")]
/// The first `n` bytes (fewer if the file is shorter) of a corpus file's
/// contents, a `.zst` file's unpacked, without unpacking the rest.
pub fn head(path: &Path, n: usize) -> std::io::Result<Vec<u8>> {
    let input = std::fs::File::open(path)?;
    let mut out = Vec::with_capacity(n);
    if path.extension().is_some_and(|x| x == "zst") {
        let mut dec = zstd::stream::read::Decoder::new(input)?;
        dec.window_log_max(31)?;
        std::io::Read::read_to_end(&mut std::io::Read::take(dec, n as u64), &mut out)?;
    } else {
        std::io::Read::read_to_end(&mut std::io::Read::take(input, n as u64), &mut out)?;
    }
    Ok(out)
}

#[cfg(feature = "unpack")]
/// The contents of a (possibly `.zst`) corpus file, in memory. For the
/// small reference files (JSON), not for dumps.
pub fn read_maybe_zst(path: &Path) -> std::io::Result<Vec<u8>> {
    let raw = std::fs::read(path)?;
    if path.extension().is_some_and(|x| x == "zst") {
        let mut dec = zstd::stream::read::Decoder::new(&raw[..])?;
        dec.window_log_max(31)?;
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut dec, &mut out)?;
        Ok(out)
    } else {
        Ok(raw)
    }
}
