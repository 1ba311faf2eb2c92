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

/// The little-endian `u16` at `off` of `s` (panics past the end).
pub fn u16_at(s: &dyn ReadAt, off: u64) -> u16 {
    let mut b = [0u8; 2];
    s.read_at(off, &mut b).unwrap();
    u16::from_le_bytes(b)
}

/// The little-endian `u32` at `off` of `s` (panics past the end).
pub fn u32_at(s: &dyn ReadAt, off: u64) -> u32 {
    let mut b = [0u8; 4];
    s.read_at(off, &mut b).unwrap();
    u32::from_le_bytes(b)
}

/// The little-endian `u64` at `off` of `s` (panics past the end).
pub fn u64_at(s: &dyn ReadAt, off: u64) -> u64 {
    let mut b = [0u8; 8];
    s.read_at(off, &mut b).unwrap();
    u64::from_le_bytes(b)
}

/// A small xorshift generator: the same damage on every run.
#[derive(Debug, Clone)]
pub struct Rng(pub u64);

impl Rng {
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// An offset picked uniformly among the bytes of `spans` (`[start, end)`
    /// file ranges).
    pub fn in_spans(&mut self, spans: &[(u64, u64)]) -> u64 {
        let total: u64 = spans.iter().map(|(a, b)| b - a).sum();
        let mut k = self.below(total);
        for &(a, b) in spans {
            if k < b - a {
                return a + k;
            }
            k -= b - a;
        }
        unreachable!("empty spans")
    }
}

/// Opens `iterations` damaged views of `real`, made with `rng`: each with
/// 1 to `max_bytes` bytes at offsets from `pick` zeroed, set to `0xff` or
/// with one bit flipped, and every tenth also cut (or extended) to a random
/// length. `try_open` opens one and says whether it opened (it asserts
/// what it must of the result). Returns (opened, refused).
pub fn random_damage(
    real: &dyn ReadAt,
    rng: &mut Rng,
    iterations: usize,
    max_bytes: u64,
    mut pick: impl FnMut(&mut Rng) -> u64,
    mut try_open: impl FnMut(Patched<'_>) -> bool,
) -> (usize, usize) {
    let file_len = real.len();
    let (mut opened, mut refused) = (0, 0);
    for i in 0..iterations {
        let mut p = Patched::new(real);
        for _ in 0..1 + rng.below(max_bytes) {
            let at = pick(rng);
            let mut b = [0u8; 1];
            real.read_at(at, &mut b).unwrap();
            let v = match rng.below(4) {
                0 => 0,
                1 => 0xff,
                _ => b[0] ^ (1 << rng.below(8)),
            };
            p = p.set(at, &[v]);
        }
        if i % 10 == 0 {
            p = p.truncate(rng.below(file_len + 1));
        }
        if try_open(p) {
            opened += 1;
        } else {
            refused += 1;
        }
    }
    (opened, refused)
}
