//! A buffered, mostly-forward reader over a [`ReadAt`] source.

use crate::{ReadAt, ReadError};

/// Reads little-endian primitives from a source, keeping a small window of
/// it in memory. Seeking within the window is free; seeking elsewhere
/// refills it on the next read.
pub struct Cursor<'a> {
    src: &'a dyn ReadAt,
    pos: u64,
    window: Vec<u8>,
    window_start: u64,
    window_len: usize,
}

impl<'a> Cursor<'a> {
    /// Default window size: 64 KiB.
    pub const DEFAULT_WINDOW: usize = 64 * 1024;

    /// A cursor at offset 0 with the default window.
    pub fn new(src: &'a dyn ReadAt) -> Self {
        Self::with_window(src, Self::DEFAULT_WINDOW)
    }

    /// A cursor at offset 0 keeping `window` bytes (at least 16) in memory.
    pub fn with_window(src: &'a dyn ReadAt, window: usize) -> Self {
        Cursor {
            src,
            pos: 0,
            window: vec![0u8; window.max(16)],
            window_start: 0,
            window_len: 0,
        }
    }

    /// The current offset.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// Length of the source.
    pub fn len(&self) -> u64 {
        self.src.len()
    }

    /// True when the source is empty.
    pub fn is_empty(&self) -> bool {
        self.src.len() == 0
    }

    /// Bytes left after the current offset.
    pub fn remaining(&self) -> u64 {
        self.src.len().saturating_sub(self.pos)
    }

    /// Moves to `pos` (which may be anywhere; reads there fail if it is past the end).
    pub fn seek(&mut self, pos: u64) {
        self.pos = pos;
    }

    /// Skips `n` bytes, failing if that passes the end.
    pub fn skip(&mut self, n: u64) -> Result<(), ReadError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.src.len());
        match end {
            Some(end) => {
                self.pos = end;
                Ok(())
            }
            None => Err(ReadError::OutOfBounds {
                offset: self.pos,
                len: n,
                size: self.src.len(),
            }),
        }
    }

    /// The source this cursor reads.
    pub fn source(&self) -> &'a dyn ReadAt {
        self.src
    }

    /// Makes `n` bytes at the current position available in the window and
    /// returns their index in it.
    fn fill(&mut self, n: usize) -> Result<usize, ReadError> {
        let in_window = self.pos >= self.window_start
            && self.pos + n as u64 <= self.window_start + self.window_len as u64;
        if in_window {
            return Ok((self.pos - self.window_start) as usize);
        }
        let size = self.src.len();
        ReadError::check_bounds(self.pos, n, size)?;
        if n > self.window.len() {
            self.window.resize(n, 0);
        }
        let len = (size - self.pos).min(self.window.len() as u64) as usize;
        self.src.read_at(self.pos, &mut self.window[..len])?;
        self.window_start = self.pos;
        self.window_len = len;
        Ok(0)
    }

    /// Copies the next `out.len()` bytes into `out`.
    pub fn read_into(&mut self, out: &mut [u8]) -> Result<(), ReadError> {
        if out.len() > self.window.len() {
            self.src.read_at(self.pos, out)?;
        } else {
            let i = self.fill(out.len())?;
            out.copy_from_slice(&self.window[i..i + out.len()]);
        }
        self.pos += out.len() as u64;
        Ok(())
    }

    /// Reads the next `N` bytes.
    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], ReadError> {
        let i = self.fill(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.window[i..i + N]);
        self.pos += N as u64;
        Ok(out)
    }

    /// Reads one byte.
    pub fn u8(&mut self) -> Result<u8, ReadError> {
        let i = self.fill(1)?;
        self.pos += 1;
        Ok(self.window[i])
    }

    /// Reads a little-endian u16.
    pub fn u16(&mut self) -> Result<u16, ReadError> {
        self.array().map(u16::from_le_bytes)
    }

    /// Reads a little-endian u32.
    pub fn u32(&mut self) -> Result<u32, ReadError> {
        self.array().map(u32::from_le_bytes)
    }

    /// Reads a little-endian i32.
    pub fn i32(&mut self) -> Result<i32, ReadError> {
        self.array().map(i32::from_le_bytes)
    }

    /// Reads a little-endian u64.
    pub fn u64(&mut self) -> Result<u64, ReadError> {
        self.array().map(u64::from_le_bytes)
    }

    /// Reads a little-endian i64.
    pub fn i64(&mut self) -> Result<i64, ReadError> {
        self.array().map(i64::from_le_bytes)
    }

    /// Reads a little-endian IEEE-754 single.
    pub fn f32(&mut self) -> Result<f32, ReadError> {
        self.array().map(f32::from_le_bytes)
    }
}

impl std::fmt::Debug for Cursor<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("pos", &self.pos)
            .field("len", &self.src.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_primitives_across_window_refills() {
        let mut data = Vec::new();
        for i in 0..1000u32 {
            data.extend_from_slice(&i.to_le_bytes());
            data.extend_from_slice(&(-(i as i64)).to_le_bytes());
            data.push(i as u8);
        }
        let mut c = Cursor::with_window(&data, 16);
        for i in 0..1000u32 {
            assert_eq!(c.u32().unwrap(), i);
            assert_eq!(c.i64().unwrap(), -(i as i64));
            assert_eq!(c.u8().unwrap(), i as u8);
        }
        assert_eq!(c.remaining(), 0);
        assert!(matches!(c.u8(), Err(ReadError::OutOfBounds { .. })));
    }

    #[test]
    fn seek_skip_and_long_reads() {
        let data: Vec<u8> = (0..200u8).collect();
        let mut c = Cursor::with_window(&data, 16);
        c.seek(150);
        assert_eq!(c.u8().unwrap(), 150);
        c.seek(10);
        let mut long = [0u8; 40];
        c.read_into(&mut long).unwrap();
        assert_eq!(long[39], 49);
        c.skip(100).unwrap();
        assert_eq!(c.position(), 150);
        assert!(c.skip(51).is_err());
        assert_eq!(c.position(), 150);
        c.seek(199);
        assert!(c.u16().is_err());
        assert!(c.f32().is_err());
    }
}
