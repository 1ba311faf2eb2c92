//! Damaged inputs made from real ones without copying them.

use heaplens_bytes::{ReadAt, ReadError};

/// A view of a source with some bytes replaced and a different length
/// (shorter: truncated; longer: zeros past the source's end).
pub struct Patched<'a> {
    base: &'a dyn ReadAt,
    len: u64,
    patches: Vec<(u64, Vec<u8>)>,
}

impl<'a> Patched<'a> {
    /// `base` as it is, to be patched.
    pub fn new(base: &'a dyn ReadAt) -> Self {
        Patched {
            base,
            len: base.len(),
            patches: Vec::new(),
        }
    }

    /// Replaces the bytes at `offset` with `bytes`.
    pub fn set(mut self, offset: u64, bytes: &[u8]) -> Self {
        self.patches.push((offset, bytes.to_vec()));
        self
    }

    /// Replaces the little-endian `u32` at `offset`.
    pub fn set_u32(self, offset: u64, v: u32) -> Self {
        self.set(offset, &v.to_le_bytes())
    }

    /// Replaces the little-endian `u64` at `offset`.
    pub fn set_u64(self, offset: u64, v: u64) -> Self {
        self.set(offset, &v.to_le_bytes())
    }

    /// Sets the length: shorter truncates, longer adds zeros.
    pub fn truncate(mut self, len: u64) -> Self {
        self.len = len;
        self
    }
}

impl std::fmt::Debug for Patched<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Patched")
            .field("len", &self.len)
            .field("patches", &self.patches.len())
            .finish()
    }
}

impl ReadAt for Patched<'_> {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        ReadError::check_bounds(offset, buf.len(), self.len)?;
        let end = offset + buf.len() as u64;
        let from_base = self.base.len().saturating_sub(offset).min(buf.len() as u64) as usize;
        self.base.read_at(offset, &mut buf[..from_base])?;
        buf[from_base..].fill(0);
        for (at, bytes) in &self.patches {
            let (s, e) = (*at, *at + bytes.len() as u64);
            if e <= offset || s >= end {
                continue;
            }
            let lo = s.max(offset);
            let hi = e.min(end);
            buf[(lo - offset) as usize..(hi - offset) as usize]
                .copy_from_slice(&bytes[(lo - s) as usize..(hi - s) as usize]);
        }
        Ok(())
    }
}
