//! Zip archives (PKWARE APPNOTE; zip64 included), as Kudu's dump download
//! is: the entries, the first bytes of each, a stored entry's place in the
//! archive, and a deflated entry unpacked into scratch space.
//!
//! The directory is read by the `zip` crate; deflate by `flate2`'s
//! pure-Rust backend. Only what heaplens needs of the format is accepted:
//! stored and deflated entries, unencrypted, on one disk.

use crate::stream::ReadAtStream;
use crate::{ArchiveError, Job, Limits, Scratch, Unpacked, DEFLATE_MAX_RATIO};
use heaplens_bytes::ReadAt;
use heaplens_graph::Progress;
use zip::result::ZipError;
use zip::CompressionMethod;

const FORMAT: &str = "zip";

/// A zip may list at most this many entries: more is refused before the
/// directory is read (its entries are kept in memory). A dump download
/// has a handful.
pub const MAX_ENTRIES: u64 = 100_000;

/// How an entry's bytes are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// As they are: read in place.
    Stored,
    /// Deflated: unpacked into scratch space.
    Deflate,
    /// Another method (bzip2, lzma, zstd, deflate64, …), by its number:
    /// not read.
    Other(u16),
}

impl Method {
    /// Its name: `stored`, `deflate`, or `method N`.
    pub fn name(self) -> String {
        match self {
            Method::Stored => "stored".to_owned(),
            Method::Deflate => "deflate".to_owned(),
            Method::Other(n) => format!("method {n}"),
        }
    }
}

/// One entry of a zip's directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its name (path) in the archive.
    pub name: String,
    /// How its bytes are stored.
    pub method: Method,
    /// Bytes it takes in the archive (as recorded).
    pub compressed_bytes: u64,
    /// Bytes it holds (as recorded; checked when it is unpacked).
    pub size: u64,
    /// A directory, not a file.
    pub is_dir: bool,
    /// Encrypted (not read).
    pub encrypted: bool,
}

impl Entry {
    /// The name without its folders: `w3wp.dmp`.
    pub fn file_name(&self) -> &str {
        self.name
            .trim_end_matches('/')
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(&self.name)
    }

    /// True when heaplens can read its bytes: a file, stored or deflated,
    /// not encrypted.
    pub fn is_readable(&self) -> bool {
        !self.is_dir && !self.encrypted && matches!(self.method, Method::Stored | Method::Deflate)
    }
}

/// The number APPNOTE gives a method (the zip crate deprecates asking,
/// but a message naming the method needs it).
#[allow(deprecated)]
fn method_number(m: CompressionMethod) -> u16 {
    m.to_u16()
}

/// A zip archive read from a [`ReadAt`] source.
pub struct ZipReader<'a> {
    src: &'a dyn ReadAt,
    archive: zip::ZipArchive<ReadAtStream<'a>>,
    entries: Vec<Entry>,
}

impl std::fmt::Debug for ZipReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZipReader")
            .field("entries", &self.entries)
            .finish_non_exhaustive()
    }
}

/// The zip crate's error in our words.
fn zip_error(e: ZipError, what: &str) -> ArchiveError {
    match e {
        ZipError::Io(e) => ArchiveError::from_io(FORMAT, e, what),
        ZipError::UnsupportedArchive(m) => ArchiveError::Unsupported {
            format: FORMAT,
            detail: format!("this zip archive cannot be read ({what}): {m}"),
        },
        e => ArchiveError::Damaged {
            format: FORMAT,
            detail: format!("{e} ({what})"),
        },
    }
}

impl<'a> ZipReader<'a> {
    /// Reads the directory of the zip in `src`.
    pub fn open(src: &'a dyn ReadAt) -> Result<ZipReader<'a>, ArchiveError> {
        let claimed = entries_claimed(src)?;
        if claimed.is_some_and(|n| n > MAX_ENTRIES) {
            return Err(ArchiveError::Unsupported {
                format: FORMAT,
                detail: format!(
                    "the zip archive lists {} entries; heaplens reads archives of at most \
                     {MAX_ENTRIES} (a dump download holds a few): unpack it first",
                    claimed.unwrap_or(0)
                ),
            });
        }
        let archive = match zip::ZipArchive::new(ReadAtStream::new(src)) {
            Ok(a) => a,
            // No end-of-directory record: zips are read from their end, so
            // a download cut short has none.
            Err(e) if claimed.is_none() => {
                return Err(ArchiveError::Truncated {
                    format: FORMAT,
                    detail: format!(
                        "its directory, at the end of a zip, is missing ({} bytes; {e})",
                        src.len()
                    ),
                })
            }
            Err(e) => return Err(zip_error(e, "reading its directory")),
        };
        let mut entries = Vec::with_capacity(archive.len());
        for i in 0..archive.len() {
            let e = archive
                .by_index_data(i)
                .map_err(|e| zip_error(e, &format!("entry {i}")))?;
            let method = match e.compression() {
                CompressionMethod::Stored => Method::Stored,
                CompressionMethod::Deflated => Method::Deflate,
                other => Method::Other(method_number(other)),
            };
            entries.push(Entry {
                name: e
                    .name()
                    .map(|n| n.into_owned())
                    .unwrap_or_else(|_| String::from_utf8_lossy(e.name_raw()).into_owned()),
                method,
                compressed_bytes: e.compressed_size(),
                size: e.size(),
                is_dir: e.is_dir(),
                encrypted: e.encrypted(),
            });
        }
        Ok(ZipReader {
            src,
            archive,
            entries,
        })
    }

    /// The entries, in directory order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn entry(&self, i: usize) -> Result<&Entry, ArchiveError> {
        self.entries.get(i).ok_or_else(|| ArchiveError::Damaged {
            format: FORMAT,
            detail: format!("no entry {i}"),
        })
    }

    fn unreadable(&self, e: &Entry) -> ArchiveError {
        let why = if e.encrypted {
            "it is encrypted".to_owned()
        } else if e.is_dir {
            "it is a folder".to_owned()
        } else {
            format!("it is compressed with {}, not deflate", e.method.name())
        };
        ArchiveError::Unsupported {
            format: FORMAT,
            detail: format!(
                "{} in the zip cannot be read: {why}; unpack it with another tool first",
                e.name
            ),
        }
    }

    /// Where a stored entry's bytes are in the archive: `(offset, length)`,
    /// checked to lie inside it, so they can be read in place.
    pub fn stored_range(&mut self, i: usize) -> Result<(u64, u64), ArchiveError> {
        let e = self.entry(i)?.clone();
        if e.method != Method::Stored || !e.is_readable() {
            return Err(self.unreadable(&e));
        }
        let f = self
            .archive
            .by_index_raw(i)
            .map_err(|err| zip_error(err, &e.name))?;
        let start = f.data_start().unwrap_or(0);
        let len = e.compressed_bytes;
        if e.size != len {
            return Err(ArchiveError::Damaged {
                format: FORMAT,
                detail: format!(
                    "{} is stored (not compressed) but records {len} bytes stored and {} bytes \
                     of content",
                    e.name, e.size
                ),
            });
        }
        match start.checked_add(len) {
            Some(end) if end <= self.src.len() => Ok((start, len)),
            _ => Err(ArchiveError::Truncated {
                format: FORMAT,
                detail: format!(
                    "{} ({len} bytes from offset {start}) goes past the archive's end ({} bytes)",
                    e.name,
                    self.src.len()
                ),
            }),
        }
    }

    /// Up to `n` bytes of the start of entry `i` (inflated when deflated):
    /// enough to recognise what it is.
    pub fn head(&mut self, i: usize, n: usize) -> Result<Vec<u8>, ArchiveError> {
        let e = self.entry(i)?.clone();
        if !e.is_readable() {
            return Err(self.unreadable(&e));
        }
        let mut f = self
            .archive
            .by_index(i)
            .map_err(|err| zip_error(err, &e.name))?;
        let n = n.min(usize::try_from(e.size).unwrap_or(usize::MAX));
        crate::read_head(&mut f, n, FORMAT, &|| false)
    }

    /// Unpacks deflated entry `i` into a new file of `scratch`, reporting
    /// progress in bytes of its compressed data. Refused before inflating
    /// when its recorded size is more than deflate can make of its
    /// compressed bytes, or more than `scratch` has room for; its content
    /// is checked against its recorded size and CRC-32.
    pub fn inflate(
        &mut self,
        i: usize,
        scratch: &mut dyn Scratch,
        progress: &mut dyn Progress,
    ) -> Result<Unpacked, ArchiveError> {
        let e = self.entry(i)?.clone();
        if e.method != Method::Deflate || !e.is_readable() {
            return Err(self.unreadable(&e));
        }
        let what = format!("{} from the zip", e.name);
        let mut job = Job {
            format: FORMAT,
            what,
            scratch,
            progress,
            total_in: e.compressed_bytes,
        };
        // The space first: a zip bomb claims more than any disk holds.
        job.check_room(e.size)?;
        if e.size > e.compressed_bytes.saturating_mul(DEFLATE_MAX_RATIO) + 1024 {
            return Err(ArchiveError::Damaged {
                format: FORMAT,
                detail: format!(
                    "{} records {} bytes deflated into {} bytes, more than deflate can make \
                     ({DEFLATE_MAX_RATIO} times): a damaged zip, or a zip bomb",
                    e.name, e.size, e.compressed_bytes
                ),
            });
        }
        let start = self
            .archive
            .by_index_raw(i)
            .map_err(|err| zip_error(err, &e.name))?
            .data_start()
            .unwrap_or(0);
        // A stream of its own over the entry's data, so progress is the
        // position in it (the zip crate reads through the archive's).
        let raw = ReadAtStream::window(self.src, start, e.compressed_bytes);
        let pos = raw.position_cell();
        let mut inflater =
            flate2::read::DeflateDecoder::new(std::io::BufReader::with_capacity(1 << 16, raw));
        let mut crc = Crc32Reader {
            inner: &mut inflater,
            hasher: flate2::Crc::new(),
        };
        let mut out = job.scratch.create()?;
        let limits = Limits {
            expected: Some(e.size),
            room: None,
        };
        let consumed = || pos.get().saturating_sub(start);
        let written = job.pump(&mut crc, &consumed, limits, out.as_mut(), 0)?;
        if written != e.size {
            return Err(ArchiveError::Damaged {
                format: FORMAT,
                detail: format!(
                    "{} unpacks to {written} bytes, but the zip records {}",
                    e.name, e.size
                ),
            });
        }
        let recorded = self
            .archive
            .by_index_data(i)
            .map_err(|err| zip_error(err, &e.name))?
            .crc32();
        let got = crc.hasher.sum();
        if got != recorded {
            return Err(ArchiveError::Damaged {
                format: FORMAT,
                detail: format!(
                    "{}'s content does not match its checksum (CRC-32 {got:08x}, the zip \
                     records {recorded:08x})",
                    e.name
                ),
            });
        }
        Ok(Unpacked {
            bytes: out.finish()?,
            inflated_bytes: written,
            compressed_bytes: e.compressed_bytes,
        })
    }
}

/// The CRC-32 of what passes through.
struct Crc32Reader<'r> {
    inner: &'r mut dyn std::io::Read,
    hasher: flate2::Crc,
}

impl std::io::Read for Crc32Reader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// The entry count the zip's end records claim (the zip64 record's when
/// there is one), or `None` when there is no end record (a zip cut short).
/// Read before the `zip` crate reads the directory, which keeps every
/// entry in memory.
fn entries_claimed(src: &dyn ReadAt) -> Result<Option<u64>, ArchiveError> {
    const EOCD: &[u8; 4] = b"PK\x05\x06";
    const LOCATOR: &[u8; 4] = b"PK\x06\x07";
    const EOCD64: &[u8; 4] = b"PK\x06\x06";
    let len = src.len();
    // The end record (22 bytes) and a comment of up to 64 KiB, and the
    // zip64 locator (20 bytes) before it.
    let tail_len = len.min(22 + 0xFFFF + 20) as usize;
    let tail_start = len - tail_len as u64;
    let mut tail = vec![0u8; tail_len];
    src.read_at(tail_start, &mut tail)?;
    let Some(at) = (0..tail_len.saturating_sub(21))
        .rev()
        .find(|&i| &tail[i..i + 4] == EOCD)
    else {
        return Ok(None);
    };
    let u16_at = |b: &[u8], i: usize| u16::from_le_bytes([b[i], b[i + 1]]);
    let u64_at = |b: &[u8], i: usize| {
        let mut a = [0u8; 8];
        a.copy_from_slice(&b[i..i + 8]);
        u64::from_le_bytes(a)
    };
    let entries = u16_at(&tail, at + 10);
    if at >= 20 && &tail[at - 20..at - 16] == LOCATOR {
        let eocd64_at = u64_at(&tail, at - 20 + 8);
        let mut rec = [0u8; 56];
        if eocd64_at
            .checked_add(56)
            .is_some_and(|end| end <= tail_start + at as u64 - 20)
        {
            src.read_at(eocd64_at, &mut rec)?;
            if &rec[..4] == EOCD64 {
                return Ok(Some(u64_at(&rec, 32)));
            }
        }
    }
    Ok(Some(u64::from(entries)))
}
