//! The archives and compressed files dumps come in: Kudu's `.zip` (the
//! dump, and `sos.dll` and the DAC beside it), `.gz` and `.zst`.
//!
//! Nothing here knows dump formats: this crate lists a zip's entries and
//! reads the first bytes of each (the caller recognises a dump by them),
//! and unpacks one entry, or a gzip or zstd stream, **by streaming** into
//! [`Scratch`] space — a temporary file natively, the browser's
//! origin-private file system in the page — from where the dump is read
//! through the same [`heaplens_bytes::ReadAt`] as any file. A stored zip
//! entry is read in place ([`zip::ZipReader::stored_range`]), with no
//! copy.
//!
//! Bounded memory, whatever the input claims:
//!
//! * sizes an archive records are never used to allocate: they are checked
//!   against the scratch space's free room **before** inflating (a zip
//!   bomb, a tiny file claiming terabytes, is refused there), against what
//!   the method can produce (deflate inflates at most 1032-fold), and
//!   against what the stream really gives while it is inflated;
//! * streams without a recorded size (gzip, zstd frames without one) stop
//!   when the scratch space's room at the start is used up;
//! * the decoders work in fixed buffers, except zstd's window: the history
//!   a frame may refer back to, kept in memory up to
//!   [`zstd::MAX_WINDOW_MEMORY`] (2 GiB natively, `zstd -d --long=31`;
//!   1 GiB in the browser, whose worker has 2 GiB), and only as much of it
//!   as the frame has produced.
//!
//! Decoders are kept crates, not our own: `zip` (directories, zip64) with
//! `flate2`'s pure-Rust deflate (`miniz_oxide`), and `ruzstd`; all build for
//! `wasm32-unknown-unknown`.
//!
//! Unpacking reports progress as phase [`PHASE`] in bytes of compressed
//! input, and stops with [`ArchiveError::Cancelled`] when the progress
//! callback says so.

pub mod gzip;
pub mod scratch;
mod stream;
pub mod zip;
pub mod zstd;

#[cfg(not(target_arch = "wasm32"))]
pub use scratch::TempScratch;
pub use scratch::{MemoryScratch, NoScratch, Scratch, ScratchBytes, ScratchError, ScratchWriter};
pub use stream::ReadAtStream;

use heaplens_bytes::ReadError;
use heaplens_graph::Progress;
use std::io::Read;

/// The progress phase of unpacking; its units are bytes of compressed
/// input (`done` of `total`).
pub const PHASE: heaplens_graph::Phase = heaplens_graph::Phase::Unpacking;

/// How many bytes of an entry's or a stream's start [`zip::ZipReader::head`],
/// [`gzip::head`] and [`zstd::head`] give at most.
pub const HEAD_BYTES: usize = 64;

/// Deflate produces at most this many bytes per compressed byte (a
/// 258-byte match in about two bits): a zip entry claiming more is damaged
/// or a zip bomb.
pub const DEFLATE_MAX_RATIO: u64 = 1032;

/// Why an archive could not be read or unpacked.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The archive ends before its data does (an incomplete download).
    #[error("the {format} file is cut short (was the download complete?): {detail}")]
    Truncated {
        /// `zip`, `gzip` or `zstd`.
        format: &'static str,
        /// What is missing, where.
        detail: String,
    },
    /// The archive's structure or data is damaged.
    #[error("the {format} file is damaged: {detail}")]
    Damaged {
        /// `zip`, `gzip` or `zstd`.
        format: &'static str,
        /// What is wrong, where.
        detail: String,
    },
    /// A valid archive of a kind heaplens does not unpack (an encrypted
    /// entry, another compression method, a window too large).
    #[error("{detail}")]
    Unsupported {
        /// `zip`, `gzip` or `zstd`.
        format: &'static str,
        /// What it is, and what to do instead.
        detail: String,
    },
    /// Not enough scratch space for the unpacked bytes: refused before
    /// inflating when the archive records the size, or when the room was
    /// used up.
    #[error(
        "{what} needs {needed} bytes unpacked, but {location} has room for {available}: \
         free some space{hint}, or unpack it elsewhere first"
    )]
    NoSpace {
        /// What was to be unpacked (`w3wp.dmp from the zip`).
        what: String,
        /// Bytes it needs (at least).
        needed: u64,
        /// Bytes the scratch space had.
        available: u64,
        /// The scratch space, in words.
        location: String,
        /// How to get more room there (`, or set TMPDIR to a larger disk`).
        hint: &'static str,
    },
    /// The scratch space failed or refused the bytes.
    #[error(transparent)]
    Scratch(#[from] ScratchError),
    /// The caller's progress callback cancelled.
    #[error("cancelled")]
    Cancelled,
    /// The archive's own bytes could not be read.
    #[error("could not read the archive: {0}")]
    Read(#[from] ReadError),
}

impl ArchiveError {
    /// A short stable name of the reason (`truncated_archive`, …), for
    /// JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            ArchiveError::Truncated { .. } => "truncated_archive",
            ArchiveError::Damaged { .. } => "damaged_archive",
            ArchiveError::Unsupported { .. } => "unsupported_archive",
            ArchiveError::NoSpace { .. } => "no_scratch_space",
            ArchiveError::Scratch(ScratchError::Unavailable(_)) => "no_scratch_space",
            ArchiveError::Scratch(_) => "scratch_failed",
            ArchiveError::Cancelled => "cancelled",
            ArchiveError::Read(ReadError::Cancelled) => "cancelled",
            ArchiveError::Read(_) => "read_failed",
        }
    }

    /// The error a decoder's `io::Error` stands for: the source's own read
    /// error, a stream cut short, or damage.
    pub(crate) fn from_io(format: &'static str, e: std::io::Error, at: &str) -> ArchiveError {
        let e = match stream::source_error(e) {
            Ok(source) => return source,
            Err(e) => e,
        };
        if let Some(w) = e
            .get_ref()
            .and_then(|i| i.downcast_ref::<zstd::WindowTooLarge>())
        {
            return w.error();
        }
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            ArchiveError::Truncated {
                format,
                detail: format!("the compressed data ends {at}"),
            }
        } else {
            ArchiveError::Damaged {
                format,
                detail: format!("{e} ({at})"),
            }
        }
    }
}

/// What unpacking gave: the bytes inside and how many.
pub struct Unpacked {
    /// The unpacked bytes, in scratch space.
    pub bytes: ScratchBytes,
    /// How many (what the stream gave, not what it claimed).
    pub inflated_bytes: u64,
    /// Bytes of compressed input read.
    pub compressed_bytes: u64,
}

/// Limits of one stream's unpacking.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// The exact size the archive records, checked as the stream goes.
    pub expected: Option<u64>,
    /// Room in the scratch space at the start (`None`: unknown).
    pub room: Option<u64>,
}

/// What is being unpacked, for messages.
pub(crate) struct Job<'a> {
    pub format: &'static str,
    /// `w3wp.dmp from the zip`, `the gzip stream`.
    pub what: String,
    pub scratch: &'a mut dyn Scratch,
    pub progress: &'a mut dyn Progress,
    /// Compressed input in all (the progress total).
    pub total_in: u64,
}

impl Job<'_> {
    /// Refuses `needed` bytes the scratch space has no room for, before
    /// anything is inflated.
    pub fn check_room(&mut self, needed: u64) -> Result<Option<u64>, ArchiveError> {
        let room = self.scratch.available();
        if let Some(available) = room {
            if needed > available {
                return Err(self.no_space(needed, available));
            }
        }
        Ok(room)
    }

    pub fn no_space(&self, needed: u64, available: u64) -> ArchiveError {
        ArchiveError::NoSpace {
            what: self.what.clone(),
            needed,
            available,
            location: self.scratch.location(),
            hint: self.scratch.more_room_hint(),
        }
    }

    /// Streams `decoder` into a new scratch file, reporting `consumed()`
    /// bytes of compressed input as progress; returns the bytes written.
    pub fn pump(
        &mut self,
        decoder: &mut dyn Read,
        consumed: &dyn Fn() -> u64,
        limits: Limits,
        out: &mut dyn ScratchWriter,
        written_before: u64,
    ) -> Result<u64, ArchiveError> {
        let mut buf = vec![0u8; CHUNK];
        let mut written = written_before;
        loop {
            let n = match decoder.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let at = format!(
                        "after {} of {} compressed bytes, {written} bytes unpacked",
                        consumed().min(self.total_in),
                        self.total_in
                    );
                    return Err(match ArchiveError::from_io(self.format, e, &at) {
                        // Every compressed byte was read and the stream
                        // wants more: the file is cut short.
                        ArchiveError::Damaged { format, .. } if consumed() >= self.total_in => {
                            ArchiveError::Truncated {
                                format,
                                detail: format!("the compressed data ends {at}"),
                            }
                        }
                        e => e,
                    });
                }
            };
            written += n as u64;
            if let Some(expected) = limits.expected {
                if written > expected {
                    return Err(ArchiveError::Damaged {
                        format: self.format,
                        detail: format!(
                            "{} unpacks to more than the {expected} bytes it records",
                            self.what
                        ),
                    });
                }
            }
            if let Some(room) = limits.room {
                if written > room {
                    return Err(self.no_space(written, room));
                }
            }
            out.write(&buf[..n])?;
            self.progress
                .update(PHASE, consumed().min(self.total_in), self.total_in)
                .map_err(|_| ArchiveError::Cancelled)?;
        }
        Ok(written)
    }
}

/// Bytes inflated per step (and between progress reports).
const CHUNK: usize = 1 << 20;

/// Reads up to `n` bytes from the start of `r` (fewer when it ends first);
/// `at_end()` tells whether every compressed byte was read (so a failure
/// means the file is cut short).
pub(crate) fn read_head(
    r: &mut dyn Read,
    n: usize,
    format: &'static str,
    at_end: &dyn Fn() -> bool,
) -> Result<Vec<u8>, ArchiveError> {
    let mut head = vec![0u8; n];
    let mut got = 0;
    while got < n {
        match r.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(match ArchiveError::from_io(format, e, "at its start") {
                    ArchiveError::Damaged { format, .. } if at_end() => ArchiveError::Truncated {
                        format,
                        detail: "the compressed data ends at its start".to_owned(),
                    },
                    e => e,
                })
            }
        }
    }
    head.truncate(got);
    Ok(head)
}
