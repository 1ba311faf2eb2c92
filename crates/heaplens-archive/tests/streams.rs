//! The archive readers on archives made here by other encoders (flate2's
//! and libzstd's, through the `zstd` crate): bounded scratch space, zip
//! bombs refused before a byte is written, cancellation, streams cut
//! short, zstd's window bound.

use heaplens_archive::zip::ZipReader;
use heaplens_archive::{gzip, zstd, ArchiveError, MemoryScratch, Scratch, ScratchError};
use heaplens_graph::{Cancelled, NoProgress, Phase};
use std::io::Write;

/// Bytes that compress well but not to nothing.
fn content(n: usize) -> Vec<u8> {
    (0..n).map(|i| ((i / 7) % 251) as u8).collect()
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A zstd stream as `zstd --long=N` from a pipe writes it: the window in
/// the header, no recorded size.
fn zst(data: &[u8], window_log: u32) -> Vec<u8> {
    let mut e = ::zstd::stream::write::Encoder::new(Vec::new(), 3).unwrap();
    e.window_log(window_log).unwrap();
    e.long_distance_matching(true).unwrap();
    e.include_contentsize(false).unwrap();
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A scratch space that counts what it was asked to hold.
struct Counting(MemoryScratch, u64);

impl Scratch for Counting {
    fn location(&self) -> String {
        self.0.location()
    }
    fn available(&mut self) -> Option<u64> {
        self.0.available()
    }
    fn create(&mut self) -> Result<Box<dyn heaplens_archive::ScratchWriter>, ScratchError> {
        self.1 += 1;
        self.0.create()
    }
}

#[test]
fn gzip_and_zstd_unpack_what_their_encoders_packed() {
    let data = content(3 << 20);
    for (name, packed) in [("gzip", gz(&data)), ("zstd", zst(&data, 27))] {
        let mut scratch = MemoryScratch::new(64 << 20);
        let u = match name {
            "gzip" => gzip::inflate(&packed, &mut scratch, &mut NoProgress),
            _ => zstd::inflate(&packed, &mut scratch, &mut NoProgress),
        }
        .unwrap();
        assert_eq!(u.inflated_bytes, data.len() as u64, "{name}");
        assert_eq!(u.compressed_bytes, packed.len() as u64, "{name}");
        let mut back = vec![0u8; data.len()];
        u.bytes.as_read_at().read_at(0, &mut back).unwrap();
        assert!(back == data, "{name}");
    }
}

#[test]
fn progress_counts_compressed_bytes_and_cancels() {
    let data = content(4 << 20);
    let packed = gz(&data);
    let mut seen = Vec::new();
    let mut scratch = MemoryScratch::new(64 << 20);
    gzip::inflate(
        &packed,
        &mut scratch,
        &mut |phase: Phase, done: u64, total: u64| {
            assert_eq!(phase, heaplens_archive::PHASE);
            seen.push((done, total));
            Ok(())
        },
    )
    .unwrap();
    assert!(seen.len() >= 4, "{seen:?}");
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0));
    assert!(seen
        .iter()
        .all(|&(d, t)| t == packed.len() as u64 && d <= t));
    // Stopped at the second report.
    let mut n = 0;
    let mut scratch = MemoryScratch::new(64 << 20);
    let e = gzip::inflate(&packed, &mut scratch, &mut |_: Phase, _: u64, _: u64| {
        n += 1;
        if n == 2 {
            Err(Cancelled)
        } else {
            Ok(())
        }
    })
    .err()
    .unwrap();
    assert!(matches!(e, ArchiveError::Cancelled), "{e:?}");
    assert_eq!(e.kind(), "cancelled");
}

#[test]
fn streams_cut_short_say_so() {
    let data = content(2 << 20);
    for (name, packed) in [("gzip", gz(&data)), ("zstd", zst(&data, 27))] {
        for cut in [packed.len() / 3, packed.len() - 3] {
            let mut scratch = MemoryScratch::new(64 << 20);
            let short = packed[..cut].to_vec();
            let e = match name {
                "gzip" => gzip::inflate(&short, &mut scratch, &mut NoProgress),
                _ => zstd::inflate(&short, &mut scratch, &mut NoProgress),
            }
            .err()
            .unwrap_or_else(|| panic!("{name} cut at {cut} opened"));
            assert_eq!(e.kind(), "truncated_archive", "{name} at {cut}: {e}");
        }
    }
}

#[test]
fn unrecorded_sizes_stop_at_the_rooms_end() {
    // 8 MiB unpacked into room for 1 MiB: stopped, not filled past.
    let packed = gz(&content(8 << 20));
    let mut scratch = MemoryScratch::new(1 << 20);
    let e = gzip::inflate(&packed, &mut scratch, &mut NoProgress)
        .err()
        .unwrap();
    assert_eq!(e.kind(), "no_scratch_space", "{e}");
    assert!(scratch.available().unwrap() <= 1 << 20);
}

#[test]
fn a_zip_bomb_is_refused_before_a_byte_is_written() {
    // A zip written by the `zip` crate's writer, its entry's recorded size
    // then raised (central directory and local header) past the room.
    let data = b"MDMP"
        .iter()
        .copied()
        .chain(std::iter::repeat_n(0, 1 << 20))
        .collect::<Vec<u8>>();
    let mut w = zip_writer();
    w.write_all(&data).unwrap();
    let mut zip = w.finish().unwrap().into_inner();
    let claim = 512u32 << 20;
    for sig in [&b"PK\x03\x04"[..], &b"PK\x01\x02"[..]] {
        let at = zip.windows(4).position(|w| w == sig).unwrap();
        let off = if sig == b"PK\x03\x04" { 22 } else { 24 };
        zip[at + off..at + off + 4].copy_from_slice(&claim.to_le_bytes());
    }
    let mut z = ZipReader::open(&zip).unwrap();
    assert_eq!(z.entries()[0].size, u64::from(claim));
    let mut scratch = Counting(MemoryScratch::new(64 << 20), 0);
    let e = z.inflate(0, &mut scratch, &mut NoProgress).err().unwrap();
    assert_eq!(e.kind(), "no_scratch_space", "{e}");
    assert_eq!(scratch.1, 0, "a scratch file was created");
    // With room for it, deflate cannot make 512 MiB of 1 KiB: refused too.
    let mut scratch = Counting(MemoryScratch::new(1 << 30), 0);
    let e = z.inflate(0, &mut scratch, &mut NoProgress).err().unwrap();
    assert!(e.to_string().contains("zip bomb"), "{e}");
    assert_eq!(scratch.1, 0, "a scratch file was created");
}

fn zip_writer() -> ::zip::ZipWriter<std::io::Cursor<Vec<u8>>> {
    let mut w = ::zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = ::zip::write::SimpleFileOptions::default()
        .compression_method(::zip::CompressionMethod::Deflated);
    w.start_file("w3wp.dmp", options).unwrap();
    w
}

#[test]
fn a_window_larger_than_the_memory_bound_stops_before_outgrowing_it() {
    // A 2 MiB window from a pipe, decoded with a bound of 1 MiB: stopped
    // (as a 2 GiB window is in the page, bound 1 GiB); 512 KiB of content
    // fits.
    let big = zst(&content(4 << 20), 21);
    let mut scratch = MemoryScratch::new(64 << 20);
    let e = zstd::inflate_bounded(&big, &mut scratch, &mut NoProgress, 1 << 20)
        .err()
        .unwrap();
    assert_eq!(e.kind(), "unsupported_archive", "{e}");
    assert!(e.to_string().contains("window"), "{e}");
    let small = zst(&content(512 << 10), 21);
    let mut scratch = MemoryScratch::new(64 << 20);
    let u = zstd::inflate_bounded(&small, &mut scratch, &mut NoProgress, 1 << 20).unwrap();
    assert_eq!(u.inflated_bytes, 512 << 10);
}
