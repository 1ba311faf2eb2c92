//! An independent reader of a Linux core's memory: its `PT_LOAD` segments,
//! read with nothing of heaplens (the tests compare heaplens' readers, and
//! the fixtures' planted facts, with it).

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The `PT_LOAD` segments of an ELF64 core file.
pub struct Segments {
    file: std::fs::File,
    /// (vaddr, file offset, bytes in the file).
    loads: Vec<(u64, u64, u64)>,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("{}: {e}", path.display())
}

impl Segments {
    /// Reads the program headers of the (unpacked) core at `path`.
    pub fn open(path: &Path) -> Result<Segments, String> {
        let mut file = std::fs::File::open(path).map_err(io(path))?;
        let mut h = [0u8; 64];
        file.read_exact(&mut h).map_err(io(path))?;
        if &h[..4] != b"\x7fELF" || h[4] != 2 {
            return Err(format!("{}: not an ELF64 core", path.display()));
        }
        let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
        let u16_at = |b: &[u8], at: usize| u64::from(u16::from_le_bytes([b[at], b[at + 1]]));
        let (phoff, phentsize, phnum) = (u64_at(&h, 0x20), u16_at(&h, 0x36), u16_at(&h, 0x38));
        let mut loads = Vec::new();
        for i in 0..phnum {
            let mut p = [0u8; 56];
            file.seek(SeekFrom::Start(phoff + i * phentsize))
                .map_err(io(path))?;
            file.read_exact(&mut p).map_err(io(path))?;
            if p[0..4] != [1, 0, 0, 0] {
                continue;
            }
            loads.push((u64_at(&p, 16), u64_at(&p, 8), u64_at(&p, 32)));
        }
        Ok(Segments { file, loads })
    }

    /// Fills `buf` from the process memory at `addr` (one segment must hold
    /// it all).
    pub fn read(&mut self, addr: u64, buf: &mut [u8]) -> Result<(), String> {
        let &(v, off, _) = self
            .loads
            .iter()
            .find(|&&(v, _, size)| addr >= v && addr + buf.len() as u64 <= v + size)
            .ok_or_else(|| format!("{addr:#x} is not in one PT_LOAD segment"))?;
        self.file
            .seek(SeekFrom::Start(off + (addr - v)))
            .and_then(|_| self.file.read_exact(buf))
            .map_err(|e| format!("{addr:#x}: {e}"))
    }

    /// The UTF-16 code units of the 64-bit `System.String` at `addr`
    /// (length at +8, characters from +12).
    pub fn string_units(&mut self, addr: u64) -> Result<Vec<u16>, String> {
        let mut len = [0u8; 4];
        self.read(addr + 8, &mut len)?;
        let mut chars = vec![0u8; 2 * u32::from_le_bytes(len) as usize];
        self.read(addr + 12, &mut chars)?;
        Ok(chars
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect())
    }
}
