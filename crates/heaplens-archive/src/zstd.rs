//! zstd files (RFC 8878): frames (skippable ones skipped), decoded by
//! `ruzstd` into scratch space, each frame's checksum checked.
//!
//! A frame may refer back as far as its window (`zstd --long=27`: 128 MiB,
//! `--long=31`: 2 GiB; a stream compressed from a pipe declares the whole
//! window, one compressed from a file no more than the file). The decoder
//! keeps that history in memory — `ruzstd` hands out bytes only once they
//! are older than the window — so a frame takes the smaller of its window
//! and its content in memory: a 30 MB dump 30 MB, a 5 GB dump compressed
//! with `--long=27` 128 MiB. The history is bounded by
//! [`MAX_WINDOW_MEMORY`]: a frame whose window is larger stops with a
//! clear error once it has decoded that much (counted in blocks of at most
//! 128 KiB, so before the history outgrows the bound).

use crate::stream::ReadAtStream;
use crate::{ArchiveError, Job, Limits, Scratch, Unpacked};
use heaplens_bytes::ReadAt;
use heaplens_graph::Progress;
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};
use std::io::{BufReader, Read};

const FORMAT: &str = "zstd";

/// The most memory a frame's window (the history it refers back to) may
/// take: 2 GiB natively (what `zstd -d --long=31` allows), 1 GiB in the
/// browser, whose worker has 2 GiB for everything.
pub const MAX_WINDOW_MEMORY: u64 = if cfg!(target_arch = "wasm32") {
    1 << 30
} else {
    1 << 31
};

/// The largest window heaplens decodes at all (`--long=31`; zstd itself
/// writes no larger).
pub const MAX_WINDOW: u64 = 1 << 31;

/// The frame magic number (little-endian `28 b5 2f fd`).
const MAGIC: u32 = 0xFD2F_B528;

/// What a frame's header says (RFC 8878 §3.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// A zstd frame.
    Zstd {
        /// The window it may refer back over, in bytes.
        window: u64,
        /// The content size, when recorded.
        content_size: Option<u64>,
        /// A dictionary it needs (0: none).
        dictionary: u32,
    },
    /// A skippable frame of `len` bytes after its 8-byte header.
    Skippable { len: u64 },
}

fn damaged(detail: String) -> ArchiveError {
    ArchiveError::Damaged {
        format: FORMAT,
        detail,
    }
}

/// The header of the frame at `at` in `src`.
fn frame_at(src: &dyn ReadAt, at: u64) -> Result<Frame, ArchiveError> {
    let mut h = [0u8; 18];
    let n = (src.len().saturating_sub(at)).min(h.len() as u64) as usize;
    src.read_at(at, &mut h[..n])?;
    let cut = || ArchiveError::Truncated {
        format: FORMAT,
        detail: format!("a frame header at offset {at} is incomplete"),
    };
    if n < 4 {
        return Err(cut());
    }
    let magic = u32::from_le_bytes([h[0], h[1], h[2], h[3]]);
    if magic & 0xFFFF_FFF0 == 0x184D_2A50 {
        if n < 8 {
            return Err(cut());
        }
        let len = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
        return Ok(Frame::Skippable {
            len: u64::from(len),
        });
    }
    if magic != MAGIC {
        return Err(damaged(format!(
            "no zstd frame at offset {at} (it starts {:02x} {:02x} {:02x} {:02x})",
            h[0], h[1], h[2], h[3]
        )));
    }
    if n < 5 {
        return Err(cut());
    }
    let fhd = h[4];
    let fcs_flag = fhd >> 6;
    let single_segment = fhd & 0x20 != 0;
    let dict_flag = fhd & 0x03;
    let mut i = 5;
    let mut window = None;
    if !single_segment {
        let wd = *h.get(i).filter(|_| i < n).ok_or_else(cut)?;
        let log = 10 + u32::from(wd >> 3);
        let base = 1u64 << log;
        window = Some(base + base / 8 * u64::from(wd & 7));
        i += 1;
    }
    let dict_len = [0, 1, 2, 4][dict_flag as usize];
    let fcs_len = match fcs_flag {
        0 if single_segment => 1,
        0 => 0,
        1 => 2,
        2 => 4,
        _ => 8,
    };
    if i + dict_len + fcs_len > n {
        return Err(cut());
    }
    let le = |b: &[u8]| b.iter().rev().fold(0u64, |v, &x| (v << 8) | u64::from(x));
    let dictionary = le(&h[i..i + dict_len]) as u32;
    i += dict_len;
    let content_size = (fcs_len > 0).then(|| {
        let v = le(&h[i..i + fcs_len]);
        if fcs_len == 2 {
            v + 256
        } else {
            v
        }
    });
    Ok(Frame::Zstd {
        window: window.or(content_size).unwrap_or(0),
        content_size,
        dictionary,
    })
}

fn ruzstd_error(e: ruzstd::decoding::errors::FrameDecoderError, at: u64) -> ArchiveError {
    damaged(format!("the frame at offset {at} cannot be decoded: {e}"))
}

/// A frame's decoder as `Read`, stopping (with a [`WindowTooLarge`] error)
/// before a window larger than [`MAX_WINDOW_MEMORY`] outgrows it.
struct FrameReader<R: Read> {
    decoder: FrameDecoder,
    source: R,
    /// The frame's window, when it is larger than the bound.
    oversized: Option<u64>,
    /// The bound ([`MAX_WINDOW_MEMORY`], or less).
    bound: u64,
}

/// A frame's window would take more than [`MAX_WINDOW_MEMORY`].
#[derive(Debug)]
pub(crate) struct WindowTooLarge(pub u64, pub u64);

impl WindowTooLarge {
    /// The error to give.
    pub(crate) fn error(&self) -> ArchiveError {
        ArchiveError::Unsupported {
            format: FORMAT,
            detail: format!(
                "this zstd file was compressed with a window of {} bytes (zstd --long=31 from \
                 a pipe?) and holds more than the {} bytes of window heaplens \
                 keeps in memory here: unpack it first (`zstd -d --long=31`), or compress it \
                 again with a smaller window (--long=30 or less){}",
                self.0,
                self.1,
                if cfg!(target_arch = "wasm32") {
                    "; the command-line heaplens keeps up to 2 GiB"
                } else {
                    ""
                }
            ),
        }
    }
}

impl std::fmt::Display for WindowTooLarge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "a window of {} bytes", self.0)
    }
}

impl std::error::Error for WindowTooLarge {}

impl<R: Read> FrameReader<R> {
    fn new(mut source: R, window: u64, at: u64, bound: u64) -> Result<Self, ArchiveError> {
        let mut decoder = FrameDecoder::new();
        decoder.set_max_window_size(MAX_WINDOW);
        decoder.init(&mut source).map_err(|e| ruzstd_error(e, at))?;
        Ok(FrameReader {
            decoder,
            source,
            oversized: (window > bound).then_some(window),
            bound,
        })
    }
}

/// The most a zstd block holds.
const MAX_BLOCK: u64 = 128 << 10;

impl<R: Read> Read for FrameReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let d = &mut self.decoder;
        while d.can_collect() == 0 && !d.is_finished() {
            if let Some(window) = self.oversized {
                let decoded = (d.blocks_decoded() as u64 + 1) * MAX_BLOCK;
                if decoded > self.bound {
                    return Err(std::io::Error::other(WindowTooLarge(window, self.bound)));
                }
            }
            d.decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                .map_err(std::io::Error::other)?;
        }
        d.read(buf)
    }
}

/// Up to `n` bytes of the start of what the zstd stream in `src` holds.
/// (The decoder gives bytes once they leave the window: this decodes up to
/// a window's worth.)
pub fn head(src: &dyn ReadAt, n: usize) -> Result<Vec<u8>, ArchiveError> {
    let mut at = 0;
    while at < src.len() {
        match frame_at(src, at)? {
            Frame::Skippable { len } => at = at.saturating_add(8).saturating_add(len),
            Frame::Zstd {
                window, dictionary, ..
            } => {
                check_dictionary(dictionary)?;
                check_window(window)?;
                let raw = ReadAtStream::window(src, at, u64::MAX);
                let pos = raw.position_cell();
                let mut d = FrameReader::new(
                    BufReader::with_capacity(1 << 16, raw),
                    window,
                    at,
                    MAX_WINDOW_MEMORY,
                )?;
                return crate::read_head(&mut d, n, FORMAT, &|| pos.get() >= src.len());
            }
        }
    }
    Ok(Vec::new())
}

fn check_dictionary(dictionary: u32) -> Result<(), ArchiveError> {
    if dictionary != 0 {
        return Err(ArchiveError::Unsupported {
            format: FORMAT,
            detail: format!(
                "this zstd file was compressed with a dictionary (id {dictionary}), which it \
                 does not hold: unpack it with `zstd -d -D DICTIONARY` first"
            ),
        });
    }
    Ok(())
}

/// Decodes every frame of the zstd stream in `src` into a new file of
/// `scratch`, reporting progress in bytes of `src`. A frame that records
/// its content size is refused before decoding when `scratch` has no room
/// for it.
pub fn inflate(
    src: &dyn ReadAt,
    scratch: &mut dyn Scratch,
    progress: &mut dyn Progress,
) -> Result<Unpacked, ArchiveError> {
    inflate_bounded(src, scratch, progress, MAX_WINDOW_MEMORY)
}

/// [`inflate`] keeping at most `window_memory` bytes of a frame's window
/// (instead of [`MAX_WINDOW_MEMORY`]).
pub fn inflate_bounded(
    src: &dyn ReadAt,
    scratch: &mut dyn Scratch,
    progress: &mut dyn Progress,
    window_memory: u64,
) -> Result<Unpacked, ArchiveError> {
    let total = src.len();
    let mut job = Job {
        format: FORMAT,
        what: "the zstd file's content".to_owned(),
        scratch,
        progress,
        total_in: total,
    };
    // The recorded sizes of the frames, to check the room before decoding.
    let mut recorded = 0u64;
    let mut at = 0;
    while at < total {
        match frame_at(src, at)? {
            Frame::Skippable { len } => at = at.saturating_add(8).saturating_add(len),
            Frame::Zstd {
                window,
                content_size,
                dictionary,
            } => {
                check_dictionary(dictionary)?;
                check_window(window)?;
                recorded = recorded.saturating_add(content_size.unwrap_or(0));
                // The frames after the first are found as they are decoded.
                break;
            }
        }
    }
    let room = job.check_room(recorded)?;
    let mut out = job.scratch.create()?;
    let mut written = 0u64;
    let mut at = 0u64;
    while at < total {
        let (window, content_size) = match frame_at(src, at)? {
            Frame::Skippable { len } => {
                at = at.saturating_add(8).saturating_add(len);
                continue;
            }
            Frame::Zstd {
                window,
                content_size,
                dictionary,
            } => {
                check_dictionary(dictionary)?;
                check_window(window)?;
                (window, content_size)
            }
        };
        if let (Some(size), Some(room)) = (content_size, room) {
            if written.saturating_add(size) > room {
                return Err(job.no_space(written.saturating_add(size), room));
            }
        }
        let raw = ReadAtStream::window(src, at, total - at);
        let pos = raw.position_cell();
        let mut d = FrameReader::new(
            BufReader::with_capacity(1 << 16, raw),
            window,
            at,
            window_memory,
        )?;
        let limits = Limits {
            expected: content_size.map(|s| written + s),
            room,
        };
        let before = written;
        written = job.pump(&mut d, &|| pos.get(), limits, out.as_mut(), written)?;
        if let Some(size) = content_size {
            if written - before != size {
                return Err(damaged(format!(
                    "the frame at offset {at} holds {} bytes, but records {size}",
                    written - before
                )));
            }
        }
        if let (Some(stored), Some(computed)) = (
            d.decoder.get_checksum_from_data(),
            d.decoder.get_calculated_checksum(),
        ) {
            if stored != computed {
                return Err(damaged(format!(
                    "the frame at offset {at} does not match its checksum \
                     ({computed:08x}, the frame records {stored:08x})"
                )));
            }
        }
        // Where the frame ended: what the decoder took from the stream.
        let reader = d.source;
        let end = pos.get() - reader.buffer().len() as u64;
        if end <= at {
            return Err(damaged(format!("an empty frame at offset {at}")));
        }
        at = end;
    }
    Ok(Unpacked {
        bytes: out.finish()?,
        inflated_bytes: written,
        compressed_bytes: total,
    })
}

fn check_window(window: u64) -> Result<(), ArchiveError> {
    if window > MAX_WINDOW {
        return Err(ArchiveError::Unsupported {
            format: FORMAT,
            detail: format!(
                "this zstd file needs a window of {window} bytes, more than zstd itself writes \
                 (2 GiB, --long=31): unpack it with `zstd -d` first"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_headers_by_the_rfc() {
        // RFC 8878 §3.1.1.1: FHD 0x00 (no single segment, no FCS), window
        // descriptor 0x88: exponent 17 → 2^27, mantissa 0.
        let h = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x88, 0, 0];
        assert_eq!(
            frame_at(&h.to_vec(), 0).unwrap(),
            Frame::Zstd {
                window: 1 << 27,
                content_size: None,
                dictionary: 0
            }
        );
        // Single segment (0x20) with a 4-byte FCS (flag 2: 0x80): the
        // window is the content size.
        let h = [0x28, 0xb5, 0x2f, 0xfd, 0xa0, 0x00, 0x10, 0x00, 0x00];
        assert_eq!(
            frame_at(&h.to_vec(), 0).unwrap(),
            Frame::Zstd {
                window: 4096,
                content_size: Some(4096),
                dictionary: 0
            }
        );
        // A 2-byte FCS is 256 more than written; mantissa 3 adds 3/8.
        let h = [0x28, 0xb5, 0x2f, 0xfd, 0x40, 0x03, 0x00, 0x01];
        assert_eq!(
            frame_at(&h.to_vec(), 0).unwrap(),
            Frame::Zstd {
                window: 1024 + 3 * 128,
                content_size: Some(512),
                dictionary: 0
            }
        );
        let skip = [0x50, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3];
        assert_eq!(
            frame_at(&skip.to_vec(), 0).unwrap(),
            Frame::Skippable { len: 3 }
        );
        assert!(matches!(
            frame_at(&[0x28, 0xb5, 0x2f, 0xfd, 0x00].to_vec(), 0),
            Err(ArchiveError::Truncated { .. })
        ));
        assert!(matches!(
            frame_at(&b"JUNKJUNK".to_vec(), 0),
            Err(ArchiveError::Damaged { .. })
        ));
    }
}
