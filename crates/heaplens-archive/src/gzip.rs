//! gzip files (RFC 1952): one or more members, inflated by `flate2`'s
//! pure-Rust backend into scratch space.
//!
//! A gzip stream does not record its size reliably (only modulo 4 GiB), so
//! it is inflated until it ends or the scratch space's room at the start
//! is used up.

use crate::stream::ReadAtStream;
use crate::{ArchiveError, Job, Limits, Scratch, Unpacked};
use heaplens_bytes::ReadAt;
use heaplens_graph::Progress;
use std::io::BufReader;

const FORMAT: &str = "gzip";

type Decoder<'a> = flate2::read::MultiGzDecoder<BufReader<ReadAtStream<'a>>>;

/// A decoder of `src`, and where it is in `src`.
fn decoder(src: &dyn ReadAt) -> (Decoder<'_>, std::rc::Rc<std::cell::Cell<u64>>) {
    let raw = ReadAtStream::new(src);
    let pos = raw.position_cell();
    let d = flate2::read::MultiGzDecoder::new(BufReader::with_capacity(1 << 16, raw));
    (d, pos)
}

/// Up to `n` bytes of the start of what the gzip stream in `src` holds.
pub fn head(src: &dyn ReadAt, n: usize) -> Result<Vec<u8>, ArchiveError> {
    let (mut d, pos) = decoder(src);
    crate::read_head(&mut d, n, FORMAT, &|| pos.get() >= src.len())
}

/// The file name the (first) member records (`gzip` writes the original
/// one unless told `-n`), if any.
pub fn file_name(src: &dyn ReadAt) -> Option<String> {
    let (mut d, _) = decoder(src);
    // The header is read with the first bytes.
    crate::read_head(&mut d, 1, FORMAT, &|| false).ok()?;
    let name = d.header()?.filename()?;
    Some(String::from_utf8_lossy(name).into_owned())
}

/// Inflates the gzip stream in `src` into a new file of `scratch`,
/// reporting progress in bytes of `src`.
pub fn inflate(
    src: &dyn ReadAt,
    scratch: &mut dyn Scratch,
    progress: &mut dyn Progress,
) -> Result<Unpacked, ArchiveError> {
    let mut job = Job {
        format: FORMAT,
        what: "the gzip file's content".to_owned(),
        scratch,
        progress,
        total_in: src.len(),
    };
    let room = job.check_room(0)?;
    let (mut d, pos) = decoder(src);
    let mut out = job.scratch.create()?;
    let limits = Limits {
        expected: None,
        room,
    };
    let written = job.pump(&mut d, &|| pos.get(), limits, out.as_mut(), 0)?;
    Ok(Unpacked {
        bytes: out.finish()?,
        inflated_bytes: written,
        compressed_bytes: src.len(),
    })
}
