//! Byte access for heaplens.
//!
//! Every reader in the engine sees its input through [`ReadAt`]: a length and
//! positioned reads. Nothing here reads a whole file into memory:
//!
//! * [`FileSource`] reads a file on disk with positioned reads;
//! * `&[u8]` and `Vec<u8>` implement [`ReadAt`] for data already in memory
//!   (tests, small inputs);
//! * [`PageCache`] wraps any source in a bounded LRU cache of fixed-size pages,
//!   which is what slow sources (the browser's File API) need;
//! * [`ReadAhead`] turns sequential reads of such a source into few large
//!   ones;
//! * [`Cursor`] is a buffered little-endian reader on top of a source, for
//!   parsers that mostly read forward.

mod ahead;
mod cache;
mod cursor;
mod file;

pub use ahead::ReadAhead;
pub use cache::{CacheStats, PageCache};
pub use cursor::Cursor;
pub use file::FileSource;

use std::sync::Arc;

/// What went wrong reading bytes from a source.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The read reaches past the end of the source.
    #[error("read of {len} bytes at offset {offset} goes past the end of the data ({size} bytes)")]
    OutOfBounds {
        /// Offset of the read.
        offset: u64,
        /// Length of the read.
        len: u64,
        /// Size of the source.
        size: u64,
    },
    /// The operating system reported an error.
    #[error("I/O error reading {len} bytes at offset {offset}: {source}")]
    Io {
        /// Offset of the read.
        offset: u64,
        /// Length of the read.
        len: u64,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A source of another kind (such as the browser's File API) failed.
    #[error("reading {len} bytes at offset {offset} failed: {message}")]
    Source {
        /// Offset of the read.
        offset: u64,
        /// Length of the read.
        len: u64,
        /// What the source said.
        message: String,
    },
    /// The work was cancelled by the user while reading.
    #[error("cancelled")]
    Cancelled,
}

impl ReadError {
    /// Checks that `len` bytes at `offset` lie inside a source of `size` bytes.
    pub fn check_bounds(offset: u64, len: usize, size: u64) -> Result<(), ReadError> {
        let len = len as u64;
        match offset.checked_add(len) {
            Some(end) if end <= size => Ok(()),
            _ => Err(ReadError::OutOfBounds { offset, len, size }),
        }
    }
}

/// Random access to a sequence of bytes of known length.
///
/// Implementations take `&self` so that one source can be shared by several
/// readers; sources that keep state (caches, file handles) use interior
/// mutability.
pub trait ReadAt {
    /// Total length in bytes.
    fn len(&self) -> u64;

    /// Fills `buf` with the bytes starting at `offset`.
    ///
    /// Fails with [`ReadError::OutOfBounds`] if the range is not entirely
    /// inside the source; nothing is guaranteed about `buf` on error.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError>;

    /// True when the source holds no bytes.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl ReadAt for [u8] {
    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        ReadError::check_bounds(offset, buf.len(), ReadAt::len(self))?;
        let start = offset as usize;
        buf.copy_from_slice(&self[start..start + buf.len()]);
        Ok(())
    }
}

impl ReadAt for Vec<u8> {
    fn len(&self) -> u64 {
        self.as_slice().len() as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        self.as_slice().read_at(offset, buf)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for &T {
    fn len(&self) -> u64 {
        (**self).len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        (**self).read_at(offset, buf)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for Box<T> {
    fn len(&self) -> u64 {
        (**self).len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        (**self).read_at(offset, buf)
    }
}

impl<T: ReadAt + ?Sized> ReadAt for Arc<T> {
    fn len(&self) -> u64 {
        (**self).len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        (**self).read_at(offset, buf)
    }
}

/// A window `[start, start + len)` of another source, itself a source whose
/// offsets start at 0.
#[derive(Debug, Clone)]
pub struct SubRange<R> {
    inner: R,
    start: u64,
    len: u64,
}

impl<R: ReadAt> SubRange<R> {
    /// The window of `inner` starting at `start` and `len` bytes long.
    ///
    /// Fails if the window does not lie inside `inner`.
    pub fn new(inner: R, start: u64, len: u64) -> Result<Self, ReadError> {
        match start.checked_add(len) {
            Some(end) if end <= inner.len() => Ok(SubRange { inner, start, len }),
            _ => Err(ReadError::OutOfBounds {
                offset: start,
                len,
                size: inner.len(),
            }),
        }
    }
}

impl<R: ReadAt> ReadAt for SubRange<R> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        ReadError::check_bounds(offset, buf.len(), self.len)?;
        self.inner.read_at(self.start + offset, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_reads_and_bounds() {
        let data: Vec<u8> = (0u8..=255).collect();
        let mut buf = [0u8; 4];
        data.read_at(10, &mut buf).unwrap();
        assert_eq!(buf, [10, 11, 12, 13]);
        data.read_at(252, &mut buf).unwrap();
        assert_eq!(buf, [252, 253, 254, 255]);
        let err = data.read_at(253, &mut buf).unwrap_err();
        assert!(matches!(
            err,
            ReadError::OutOfBounds {
                offset: 253,
                len: 4,
                size: 256
            }
        ));
        assert!(data.read_at(u64::MAX - 1, &mut buf).is_err());
    }

    #[test]
    fn sub_range_is_relative() {
        let data: Vec<u8> = (0u8..100).collect();
        let sub = SubRange::new(&data, 50, 10).unwrap();
        assert_eq!(sub.len(), 10);
        let mut buf = [0u8; 3];
        sub.read_at(7, &mut buf).unwrap();
        assert_eq!(buf, [57, 58, 59]);
        assert!(sub.read_at(8, &mut buf).is_err());
        assert!(SubRange::new(&data, 95, 10).is_err());
    }
}
