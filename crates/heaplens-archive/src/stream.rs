//! A [`ReadAt`] source read forward, as the decoders' `std::io::Read`.

use crate::ArchiveError;
use heaplens_bytes::{ReadAt, ReadError};
use std::cell::Cell;
use std::io::{Read, Seek, SeekFrom};
use std::rc::Rc;

/// Reads the window `[start, end)` of a [`ReadAt`] as `Read + Seek`
/// (positions relative to the source's start), sharing how far it got with
/// [`ReadAtStream::position_cell`] so progress can be told while a decoder
/// owns the stream.
pub struct ReadAtStream<'a> {
    src: &'a dyn ReadAt,
    end: u64,
    pos: Rc<Cell<u64>>,
}

impl<'a> ReadAtStream<'a> {
    /// The whole of `src`, from its start.
    pub fn new(src: &'a dyn ReadAt) -> Self {
        Self::window(src, 0, src.len())
    }

    /// `len` bytes of `src` from `start` (clamped to the source).
    pub fn window(src: &'a dyn ReadAt, start: u64, len: u64) -> Self {
        let end = start.saturating_add(len).min(src.len());
        ReadAtStream {
            src,
            end,
            pos: Rc::new(Cell::new(start.min(end))),
        }
    }

    /// The current position.
    pub fn position(&self) -> u64 {
        self.pos.get()
    }

    /// The position, shared: it follows the stream after the stream moved
    /// into a decoder.
    pub fn position_cell(&self) -> Rc<Cell<u64>> {
        Rc::clone(&self.pos)
    }
}

/// A read error of the source, carried through `std::io::Error`.
#[derive(Debug)]
struct SourceError(ReadError);

impl std::fmt::Display for SourceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for SourceError {}

/// The source's read error carried by `e`, or `e` back when it is none.
pub(crate) fn source_error(e: std::io::Error) -> Result<ArchiveError, std::io::Error> {
    if e.get_ref().is_none() {
        return Err(e);
    }
    let kind = e.kind();
    match e.into_inner().map(|i| i.downcast::<SourceError>()) {
        Some(Ok(s)) => Ok(ArchiveError::Read(s.0)),
        Some(Err(other)) => Err(std::io::Error::new(kind, other)),
        None => Err(std::io::Error::from(kind)),
    }
}

impl Read for ReadAtStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let pos = self.pos.get();
        let n = (self.end.saturating_sub(pos)).min(buf.len() as u64) as usize;
        if n == 0 {
            return Ok(0);
        }
        self.src
            .read_at(pos, &mut buf[..n])
            .map_err(|e| std::io::Error::other(SourceError(e)))?;
        self.pos.set(pos + n as u64);
        Ok(n)
    }
}

impl Seek for ReadAtStream<'_> {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.end.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.get().checked_add_signed(d),
        };
        match target {
            Some(p) => {
                // Past the end is allowed, as for files; reads there give 0.
                self.pos.set(p);
                Ok(p)
            }
            None => Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "seek before the start of the archive",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_seeks_a_window() {
        let data: Vec<u8> = (0u8..100).collect();
        let mut s = ReadAtStream::window(&data, 10, 20);
        let cell = s.position_cell();
        let mut buf = [0u8; 8];
        assert_eq!(s.read(&mut buf).unwrap(), 8);
        assert_eq!(buf[0], 10);
        assert_eq!(cell.get(), 18);
        assert_eq!(s.seek(SeekFrom::End(-2)).unwrap(), 28);
        assert_eq!(s.read(&mut buf).unwrap(), 2);
        assert_eq!(s.read(&mut buf).unwrap(), 0);
        assert!(s.seek(SeekFrom::Current(-100)).is_err());
        let mut whole = ReadAtStream::new(&data);
        assert_eq!(whole.seek(SeekFrom::End(0)).unwrap(), 100);
    }

    #[test]
    fn source_errors_keep_their_kind() {
        let e = std::io::Error::other(SourceError(ReadError::Cancelled));
        assert!(matches!(
            source_error(e),
            Ok(ArchiveError::Read(ReadError::Cancelled))
        ));
        assert!(source_error(std::io::Error::other("x")).is_err());
    }
}
