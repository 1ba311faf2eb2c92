//! A file on disk as a [`ReadAt`] source.

use crate::{ReadAt, ReadError};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Mutex;

/// A file read with positioned reads; the file is never loaded whole.
#[derive(Debug)]
pub struct FileSource {
    file: Mutex<File>,
    len: u64,
}

impl FileSource {
    /// Opens `path` for reading.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(FileSource {
            file: Mutex::new(file),
            len,
        })
    }
}

impl ReadAt for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        ReadError::check_bounds(offset, buf.len(), self.len)?;
        let io = |source| ReadError::Io {
            offset,
            len: buf.len() as u64,
            source,
        };
        // A poisoned lock only means another reader panicked mid-read; the
        // file handle itself is still usable because every read seeks first.
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        file.read_exact(buf).map_err(|source| ReadError::Io {
            offset,
            len: buf.len() as u64,
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn reads_a_file() {
        let dir = std::env::temp_dir().join(format!("heaplens-bytes-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.bin");
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 7) as u8).collect();
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&data)
            .unwrap();
        let src = FileSource::open(&path).unwrap();
        assert_eq!(src.len(), 10_000);
        let mut buf = [0u8; 16];
        src.read_at(9_984, &mut buf).unwrap();
        assert_eq!(&buf[..], &data[9_984..]);
        assert!(src.read_at(9_985, &mut buf).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
