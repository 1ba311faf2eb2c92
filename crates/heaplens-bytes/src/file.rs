//! A file on disk as a [`ReadAt`] source.

use crate::{ReadAt, ReadError};
use std::fs::File;
use std::path::Path;

/// A file read with positioned reads (`pread` on Unix, `ReadFile` at an
/// offset on Windows), so threads can read it at once; the file is never
/// loaded whole.
#[derive(Debug)]
pub struct FileSource {
    file: File,
    len: u64,
    /// Elsewhere reads seek first, one at a time.
    #[cfg(not(any(unix, windows)))]
    seek: std::sync::Mutex<()>,
}

impl FileSource {
    /// Opens `path` for reading.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        Self::from_file(File::open(path)?)
    }

    /// Reads an open file (such as a temporary file that has no name).
    pub fn from_file(file: File) -> std::io::Result<Self> {
        let len = file.metadata()?.len();
        Ok(FileSource {
            file,
            len,
            #[cfg(not(any(unix, windows)))]
            seek: std::sync::Mutex::new(()),
        })
    }

    /// Fills `buf` from `offset`.
    fn read_exact_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset)
        }
        #[cfg(windows)]
        {
            use std::os::windows::fs::FileExt;
            let mut done = 0;
            while done < buf.len() {
                match self.file.seek_read(&mut buf[done..], offset + done as u64) {
                    Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                    Ok(n) => done += n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        }
        #[cfg(not(any(unix, windows)))]
        {
            use std::io::{Read, Seek, SeekFrom};
            // A poisoned lock only means another reader panicked mid-read;
            // every read seeks first.
            let _one_at_a_time = self.seek.lock().unwrap_or_else(|e| e.into_inner());
            let mut file = &self.file;
            file.seek(SeekFrom::Start(offset))?;
            file.read_exact(buf)
        }
    }
}

impl ReadAt for FileSource {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        ReadError::check_bounds(offset, buf.len(), self.len)?;
        self.read_exact_at(offset, buf)
            .map_err(|source| ReadError::Io {
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
