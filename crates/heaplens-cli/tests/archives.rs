//! Dumps as they are downloaded: every fixture dump and `.gcdump` sample,
//! zipped (deflated and stored, with Kudu's `sos.dll` and
//! `mscordaccore.dll` beside it), gzipped and zstd-compressed, gives
//! exactly what the raw file gives (`stats --json`, but for the fields
//! naming the file and the archive). The archives are made here by the
//! system's own `zip`, `gzip` and `zstd` (installed by `scripts/setup`), or
//! written here from the zip specification (zip64 past 4 GB, zip bombs),
//! not by the crates heaplens reads them with.

use heaplens_results::stats::StatsDocument;
use serde_json::Value;
use std::collections::HashMap;
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;

fn heaplens(args: &[&str], file: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_heaplens"))
        .args(args)
        .arg(file)
        .output()
        .unwrap()
}

/// A tool of the system (`zip`, `gzip`, `zstd`); the tests need them.
fn tool(name: &str, args: &[&str], dir: &Path) {
    let out = Command::new(name)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| {
            panic!("{name} is needed for these tests (scripts/setup installs it): {e}")
        });
    assert!(
        out.status.success(),
        "{name} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// What `heaplens stats --json` says of a file: the document without the
/// fields naming the file and the archive, or the error message without
/// the file's name.
#[derive(Debug, PartialEq)]
enum Said {
    Stats(Value),
    Error(String),
}

fn said(file: &Path) -> (Said, Value) {
    let out = heaplens(&["stats", "--json"], file);
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        let err = err.replace(&file.display().to_string(), "FILE");
        return (Said::Error(err), Value::Null);
    }
    // Typed first: the schema's document.
    let _: StatsDocument = serde_json::from_slice(&out.stdout).unwrap();
    let mut v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let archives = v["archives"].take();
    let o = v.as_object_mut().unwrap();
    for k in ["file", "file_bytes", "archives"] {
        o.remove(k);
    }
    (Said::Stats(v), archives)
}

/// A scratch folder of its own for one test.
fn work_dir(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("archives-{name}"));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Every fixture dump (unpacked from the corpus' `.zst`, with its `.zst`)
/// and every `.gcdump` sample (no `.zst`).
fn inputs() -> Vec<(PathBuf, Option<PathBuf>)> {
    let Some(shared) = heaplens_corpus::shared_or_skip("archives of the corpus' dumps") else {
        return Vec::new();
    };
    let mut v: Vec<(PathBuf, Option<PathBuf>)> = heaplens_corpus::gcdump_samples(&shared)
        .into_iter()
        .map(|p| (p, None))
        .collect();
    for dir in heaplens_corpus::fixture_dirs(&shared) {
        for phase in [1, 2] {
            for zst in heaplens_corpus::phase_dumps(&dir, phase, &[".core.zst", ".dmp.zst"]) {
                v.push((heaplens_corpus::unpacked(&zst).unwrap(), Some(zst)));
            }
        }
    }
    assert!(!v.is_empty());
    v
}

/// The raw file's answer, once per file (tests share it).
fn raw(file: &Path) -> Said {
    static SEEN: Mutex<Option<HashMap<PathBuf, String>>> = Mutex::new(None);
    let key = file.to_path_buf();
    if let Some(s) = SEEN.lock().unwrap().get_or_insert_default().get(&key) {
        return serde_json::from_str::<Value>(s)
            .map(Said::Stats)
            .unwrap_or_else(|_| Said::Error(s.clone()));
    }
    let (s, _) = said(file);
    let text = match &s {
        Said::Stats(v) => v.to_string(),
        Said::Error(e) => e.clone(),
    };
    SEEN.lock()
        .unwrap()
        .get_or_insert_default()
        .insert(key, text);
    s
}

/// Checks that `archive` (of `file`) says what `file` says, and that its
/// `archives` are `want` (format, entry, method) with the file's size
/// unpacked; returns them.
fn same_as_raw(file: &Path, archive: &Path, want: &[(&str, Option<&str>, &str)]) -> Value {
    let (got, layers) = said(archive);
    let expected = raw(file);
    assert!(
        got == expected,
        "{} in {}: {got:?}\nraw: {expected:?}",
        file.display(),
        archive.display()
    );
    if matches!(got, Said::Error(_)) {
        return layers;
    }
    let all = layers.clone();
    let layers = layers.as_array().unwrap();
    assert_eq!(layers.len(), want.len(), "{layers:?}");
    for (l, (format, entry, method)) in layers.iter().zip(want) {
        assert_eq!(l["format"], *format, "{l}");
        assert_eq!(l["entry"].as_str(), *entry, "{l}");
        assert_eq!(l["method"], *method, "{l}");
        assert_eq!(
            l["unpacked_to"].is_null(),
            *method == "stored",
            "stored entries are read in place: {l}"
        );
    }
    let inner = layers.last().unwrap();
    assert_eq!(
        inner["inflated_bytes"].as_u64(),
        Some(std::fs::metadata(file).unwrap().len()),
        "{inner}"
    );
    all
}

fn name_of(p: &Path) -> &str {
    p.file_name().unwrap().to_str().unwrap()
}

#[test]
fn every_dump_zipped_deflated_with_kudus_dlls_reads_as_the_raw_file() {
    let dir = work_dir("zip-deflate");
    // Kudu's download: the dump, SOS and the DAC.
    std::fs::write(dir.join("sos.dll"), b"MZ not needed".repeat(1000)).unwrap();
    std::fs::write(dir.join("mscordaccore.dll"), b"MZ not needed".repeat(500)).unwrap();
    for (file, _) in inputs() {
        let zip = dir.join("kudu.zip");
        let _ = std::fs::remove_file(&zip);
        let name = name_of(&file);
        std::fs::copy(&file, dir.join(name)).unwrap();
        tool(
            "zip",
            &["-q", "-1", "kudu.zip", "sos.dll", name, "mscordaccore.dll"],
            &dir,
        );
        std::fs::remove_file(dir.join(name)).unwrap();
        let layers = same_as_raw(&file, &zip, &[("zip", Some(name), "deflate")]);
        if !layers.is_null() {
            assert_eq!(
                layers[0]["other_entries"],
                serde_json::json!(["sos.dll", "mscordaccore.dll"])
            );
        }
    }
}

#[test]
fn every_dump_zipped_stored_is_read_in_place() {
    let dir = work_dir("zip-stored");
    for (file, _) in inputs() {
        let zip = dir.join("stored.zip");
        let _ = std::fs::remove_file(&zip);
        let name = name_of(&file);
        std::fs::copy(&file, dir.join(name)).unwrap();
        tool("zip", &["-q", "-0", "stored.zip", name], &dir);
        std::fs::remove_file(dir.join(name)).unwrap();
        same_as_raw(&file, &zip, &[("zip", Some(name), "stored")]);
    }
}

#[test]
fn every_dump_gzipped_reads_as_the_raw_file() {
    let dir = work_dir("gzip");
    for (file, _) in inputs() {
        let name = name_of(&file);
        std::fs::copy(&file, dir.join(name)).unwrap();
        // gzip records the file's name.
        tool("gzip", &["-1", "-f", name], &dir);
        let gz = dir.join(format!("{name}.gz"));
        same_as_raw(&file, &gz, &[("gzip", Some(name), "gzip")]);
        std::fs::remove_file(&gz).unwrap();
    }
}

#[test]
fn every_dump_zstd_compressed_reads_as_the_raw_file() {
    let dir = work_dir("zstd");
    for (file, zst) in inputs() {
        match zst {
            // The corpus' own: `zstd --long=27` from a pipe, a 128 MiB
            // window and no recorded size.
            Some(zst) => {
                same_as_raw(&file, &zst, &[("zstd", None, "zstd")]);
            }
            None => {
                let out = dir.join("sample.zst");
                tool(
                    "zstd",
                    &["-q", "-f", "-3", file.to_str().unwrap(), "-o", "sample.zst"],
                    &dir,
                );
                same_as_raw(&file, &out, &[("zstd", None, "zstd")]);
            }
        }
    }
}

/// The first fixture core, unpacked, with its `.zst`.
fn a_core() -> Option<(PathBuf, PathBuf)> {
    inputs()
        .into_iter()
        .find_map(|(f, z)| Some((f, z?)).filter(|(f, _)| f.to_string_lossy().ends_with(".core")))
}

#[test]
fn long_windows_frames_and_zip64_records() {
    let Some((core, _)) = a_core() else { return };
    let dir = work_dir("zstd-long");
    let c = core.to_str().unwrap();
    // --long=31 from a pipe declares a 2 GiB window; from the file, the
    // file's size. Two frames (two files concatenated) read as one.
    let sh = |cmd: &str| {
        let out = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{cmd}: {out:?}");
    };
    sh(&format!("zstd -q --long=31 -c < '{c}' > pipe31.zst"));
    sh(&format!("zstd -q --long=31 -f '{c}' -o file31.zst"));
    let half = std::fs::metadata(&core).unwrap().len() / 2;
    sh(&format!(
        "head -c {half} '{c}' | zstd -q -c > two.zst && tail -c +{} '{c}' | zstd -q -c >> two.zst",
        half + 1
    ));
    for z in ["pipe31.zst", "file31.zst", "two.zst"] {
        same_as_raw(&core, &dir.join(z), &[("zstd", None, "zstd")]);
    }
    // Info-ZIP's zip64 records, forced on a small file (`-fz`).
    std::fs::copy(&core, dir.join("dump.core")).unwrap();
    tool("zip", &["-q", "-fz", "z64.zip", "dump.core"], &dir);
    same_as_raw(
        &core,
        &dir.join("z64.zip"),
        &[("zip", Some("dump.core"), "deflate")],
    );
}

#[test]
fn nested_archives_up_to_the_nesting_limit() {
    let Some((core, zst)) = a_core() else { return };
    let dir = work_dir("nested");
    // The corpus' .zst in a zip, deflated and stored.
    std::fs::copy(&zst, dir.join("dump.core.zst")).unwrap();
    tool("zip", &["-q", "-1", "deflated.zip", "dump.core.zst"], &dir);
    tool("zip", &["-q", "-0", "stored.zip", "dump.core.zst"], &dir);
    same_as_raw(
        &core,
        &dir.join("deflated.zip"),
        &[
            ("zip", Some("dump.core.zst"), "deflate"),
            ("zstd", None, "zstd"),
        ],
    );
    same_as_raw(
        &core,
        &dir.join("stored.zip"),
        &[
            ("zip", Some("dump.core.zst"), "stored"),
            ("zstd", None, "zstd"),
        ],
    );
    // A .gcdump in 4 layers opens; in 5, the limit (MAX_NESTING) says so.
    let Some(shared) = heaplens_corpus::shared_dir() else {
        return;
    };
    let sample = heaplens_corpus::gcdump_samples(&shared).remove(0);
    std::fs::copy(&sample, dir.join("s.gcdump")).unwrap();
    tool("gzip", &["-1", "-k", "s.gcdump"], &dir);
    tool("zip", &["-q", "-1", "l2.zip", "s.gcdump.gz"], &dir);
    tool("zstd", &["-q", "l2.zip", "-o", "l3.zst"], &dir);
    tool("zip", &["-q", "-0", "l4.zip", "l3.zst"], &dir);
    same_as_raw(
        &sample,
        &dir.join("l4.zip"),
        &[
            ("zip", Some("l3.zst"), "stored"),
            ("zstd", None, "zstd"),
            ("zip", Some("s.gcdump.gz"), "deflate"),
            ("gzip", Some("s.gcdump"), "gzip"),
        ],
    );
    tool("gzip", &["-1", "-k", "l4.zip"], &dir);
    let out = heaplens(&["stats"], &dir.join("l4.zip.gz"));
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nested more than 4 deep"), "{err}");
}

#[test]
fn a_cut_short_archive_says_so() {
    let Some((core, zst)) = a_core() else { return };
    let dir = work_dir("truncated");
    std::fs::copy(&core, dir.join("dump.core")).unwrap();
    tool("zip", &["-q", "-1", "dump.zip", "dump.core"], &dir);
    tool("gzip", &["-1", "-k", "dump.core"], &dir);
    std::fs::copy(&zst, dir.join("dump.core.zst")).unwrap();
    for (name, cuts) in [
        // A zip cut anywhere loses its directory, at its end.
        ("dump.zip", &[0.5, 0.99][..]),
        ("dump.core.gz", &[0.01, 0.5, 0.999][..]),
        ("dump.core.zst", &[0.01, 0.5, 0.999][..]),
    ] {
        let full = std::fs::read(dir.join(name)).unwrap();
        for &cut in cuts {
            let short = dir.join(format!("short-{name}"));
            std::fs::write(&short, &full[..(full.len() as f64 * cut) as usize]).unwrap();
            let out = heaplens(&["stats"], &short);
            assert!(!out.status.success(), "{name} at {cut}");
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(err.contains("is cut short"), "{name} at {cut}: {err}");
            let out = heaplens(&["stats", "--json"], &short);
            assert_eq!(out.status.code(), Some(1));
        }
    }
}

#[test]
fn a_zip_without_a_dump_names_what_it_holds() {
    let dir = work_dir("no-dump");
    std::fs::write(dir.join("sos.dll"), b"MZ").unwrap();
    std::fs::write(dir.join("readme.txt"), b"hello").unwrap();
    tool("zip", &["-q", "nodump.zip", "sos.dll", "readme.txt"], &dir);
    let out = heaplens(&["stats"], &dir.join("nodump.zip"));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("holds no dump"), "{err}");
    assert!(err.contains("sos.dll (2 bytes)"), "{err}");
    assert!(err.contains("readme.txt (5 bytes)"), "{err}");
    tool("gzip", &["-k", "readme.txt"], &dir);
    let err = String::from_utf8_lossy(&heaplens(&["info"], &dir.join("readme.txt.gz")).stderr)
        .into_owned();
    assert!(
        err.contains("holds no dump") && err.contains("readme.txt"),
        "{err}"
    );
}

/// One entry of a zip64 archive, written here from PKWARE's APPNOTE
/// (4.3.7 local file header, 4.3.12 central directory header, 4.5.3 zip64
/// extended information, 4.3.14–4.3.16 zip64 end records): every size and
/// offset in the zip64 fields.
struct Zip64Entry<'a> {
    name: &'a str,
    /// 0 stored, 8 deflated.
    method: u16,
    crc: u32,
    /// The size it records unpacked.
    size: u64,
    /// Its data's size in the archive.
    compressed: u64,
}

/// Writes a zip64 archive of one entry to `path`; `data` writes the
/// entry's `compressed` bytes (it may leave a hole: a sparse file).
fn write_zip64(path: &Path, e: &Zip64Entry, data: impl FnOnce(&mut std::fs::File)) {
    let mut f = std::fs::File::create(path).unwrap();
    let name = e.name.as_bytes();
    let mut h = Vec::new();
    h.extend(0x0403_4b50u32.to_le_bytes());
    h.extend(45u16.to_le_bytes()); // version needed: zip64
    h.extend(0u16.to_le_bytes()); // flags
    h.extend(e.method.to_le_bytes());
    h.extend(0u16.to_le_bytes()); // time
    h.extend(0x21u16.to_le_bytes()); // date: 1980-01-01
    h.extend(e.crc.to_le_bytes());
    h.extend(u32::MAX.to_le_bytes()); // sizes: in the zip64 field
    h.extend(u32::MAX.to_le_bytes());
    h.extend((name.len() as u16).to_le_bytes());
    h.extend(20u16.to_le_bytes());
    h.extend(name);
    h.extend(1u16.to_le_bytes()); // zip64 extended information
    h.extend(16u16.to_le_bytes());
    h.extend(e.size.to_le_bytes());
    h.extend(e.compressed.to_le_bytes());
    f.write_all(&h).unwrap();
    let data_start = h.len() as u64;
    data(&mut f);
    let cd_start = data_start + e.compressed;
    f.set_len(cd_start).unwrap();
    f.seek(SeekFrom::Start(cd_start)).unwrap();
    let mut c = Vec::new();
    c.extend(0x0201_4b50u32.to_le_bytes());
    c.extend((45u16 | 3 << 8).to_le_bytes()); // made by: Unix, zip64
    c.extend(45u16.to_le_bytes());
    c.extend(0u16.to_le_bytes());
    c.extend(e.method.to_le_bytes());
    c.extend(0u16.to_le_bytes());
    c.extend(0x21u16.to_le_bytes());
    c.extend(e.crc.to_le_bytes());
    c.extend(u32::MAX.to_le_bytes());
    c.extend(u32::MAX.to_le_bytes());
    c.extend((name.len() as u16).to_le_bytes());
    c.extend(28u16.to_le_bytes()); // extra
    c.extend(0u16.to_le_bytes()); // comment
    c.extend(0u16.to_le_bytes()); // disk
    c.extend(0u16.to_le_bytes()); // internal attributes
    c.extend((0o100644u32 << 16).to_le_bytes());
    c.extend(u32::MAX.to_le_bytes()); // local header offset: zip64
    c.extend(name);
    c.extend(1u16.to_le_bytes());
    c.extend(24u16.to_le_bytes());
    c.extend(e.size.to_le_bytes());
    c.extend(e.compressed.to_le_bytes());
    c.extend(0u64.to_le_bytes());
    let eocd64_at = cd_start + c.len() as u64;
    let mut end = Vec::new();
    end.extend(0x0606_4b50u32.to_le_bytes());
    end.extend(44u64.to_le_bytes());
    end.extend(45u16.to_le_bytes());
    end.extend(45u16.to_le_bytes());
    end.extend(0u32.to_le_bytes());
    end.extend(0u32.to_le_bytes());
    end.extend(1u64.to_le_bytes());
    end.extend(1u64.to_le_bytes());
    end.extend((c.len() as u64).to_le_bytes());
    end.extend(cd_start.to_le_bytes());
    end.extend(0x0706_4b50u32.to_le_bytes());
    end.extend(0u32.to_le_bytes());
    end.extend(eocd64_at.to_le_bytes());
    end.extend(1u32.to_le_bytes());
    end.extend(0x0605_4b50u32.to_le_bytes());
    end.extend([0u8; 4]);
    end.extend(u16::MAX.to_le_bytes());
    end.extend(u16::MAX.to_le_bytes());
    end.extend(u32::MAX.to_le_bytes());
    end.extend(u32::MAX.to_le_bytes());
    end.extend(0u16.to_le_bytes());
    f.write_all(&c).unwrap();
    f.write_all(&end).unwrap();
}

#[test]
fn a_stored_dump_past_4_gb_in_a_zip64_is_read_in_place() {
    let Some((core, _)) = a_core() else { return };
    let dir = work_dir("zip64-big");
    // The core padded with zeros to 4.5 GB (a hole: the file is sparse),
    // as it is and stored in a zip64 archive.
    const BIG: u64 = 4_500_000_000;
    let raw = std::fs::read(&core).unwrap();
    let padded = dir.join("padded.core");
    {
        let mut f = std::fs::File::create(&padded).unwrap();
        f.write_all(&raw).unwrap();
        f.set_len(BIG).unwrap();
    }
    let mut crc = crc32fast::Hasher::new();
    crc.update(&raw);
    let zeros = vec![0u8; 1 << 20];
    let mut left = BIG - raw.len() as u64;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        crc.update(&zeros[..n]);
        left -= n as u64;
    }
    let zip = dir.join("big.zip");
    let entry = Zip64Entry {
        name: "padded.core",
        method: 0,
        crc: crc.finalize(),
        size: BIG,
        compressed: BIG,
    };
    write_zip64(&zip, &entry, |f| {
        f.write_all(&raw).unwrap();
    });
    // Info-ZIP reads the directory as written (its test of the CRC would
    // read all 4.5 GB).
    let t = Command::new("unzip").arg("-l").arg(&zip).output();
    if let Ok(t) = t {
        let listing = String::from_utf8_lossy(&t.stdout);
        assert!(
            t.status.success() && listing.contains("4500000000") && listing.contains("padded.core"),
            "unzip -l: {t:?}"
        );
    }
    assert!(std::fs::metadata(&zip).unwrap().len() > BIG);
    same_as_raw(&padded, &zip, &[("zip", Some("padded.core"), "stored")]);
}

#[test]
fn a_zip_bomb_is_refused_before_inflating() {
    let dir = work_dir("bomb");
    // A minidump's signature and zeros, deflated: a few hundred bytes.
    let mut body = b"MDMP".to_vec();
    body.resize(1 << 20, 0);
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&body).unwrap();
    let deflated = z.finish().unwrap();
    assert!(deflated.len() < 4096);
    let bomb = |name: &str, size: u64| {
        let path = dir.join(name);
        let entry = Zip64Entry {
            name: "w3wp.dmp",
            method: 8,
            crc: 0,
            size,
            compressed: deflated.len() as u64,
        };
        write_zip64(&path, &entry, |f| f.write_all(&deflated).unwrap());
        path
    };
    // A petabyte: no scratch space has room, refused by the space check.
    let out = heaplens(&["stats", "--json"], &bomb("pb.zip", 1 << 50));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("needs 1125899906842624 bytes unpacked") && err.contains("has room for"),
        "{err}"
    );
    // 2 GiB from a few hundred bytes: more than deflate can make (1032
    // times its input), refused before inflating too (or by the space check
    // where the temporary directory has less room).
    let out = heaplens(&["stats"], &bomb("gb.zip", 1 << 31));
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("zip bomb") || err.contains("has room for"),
        "{err}"
    );
    // Claims less than it holds: stopped when it passes the claim.
    let out = heaplens(&["stats"], &bomb("small.zip", 1000));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unpacks to more than the 1000 bytes it records"),
        "{err}"
    );
}

#[test]
fn info_says_where_the_dump_came_from() {
    let Some((core, _)) = a_core() else { return };
    let dir = work_dir("info");
    std::fs::copy(&core, dir.join("dump.core")).unwrap();
    std::fs::write(dir.join("sos.dll"), b"MZ").unwrap();
    tool(
        "zip",
        &["-q", "-1", "kudu.zip", "dump.core", "sos.dll"],
        &dir,
    );
    let zip = dir.join("kudu.zip");
    let json = |f: &Path| {
        let out = heaplens(&["info", "--json"], f);
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let mut a = json(&zip);
    let mut b = json(&core);
    assert_eq!(a["file_bytes"], std::fs::metadata(&zip).unwrap().len());
    let layer = &a["archives"][0];
    assert_eq!(layer["entry"], "dump.core");
    assert_eq!(layer["inflated_bytes"], b["file_bytes"]);
    assert_eq!(layer["other_entries"], serde_json::json!(["sos.dll"]));
    assert_eq!(b["archives"], serde_json::json!([]));
    for v in [&mut a, &mut b] {
        let o = v.as_object_mut().unwrap();
        for k in ["file", "file_bytes", "archives"] {
            o.remove(k);
        }
    }
    assert_eq!(a, b);
    let out = heaplens(&["info"], &zip);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("from: zip entry dump.core (deflate)") && text.contains("deleted afterwards"),
        "{text}"
    );
    assert!(
        text.contains(
            "also in the zip, not read: sos.dll (heaplens needs neither SOS nor the DAC)"
        ),
        "{text}"
    );
}
