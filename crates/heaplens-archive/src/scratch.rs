//! Scratch space: where unpacked bytes are written, to be read back as a
//! [`ReadAt`] source.
//!
//! The CLI unpacks into an anonymous temporary file ([`TempScratch`]); the
//! page into the browser's origin-private file system (the web crate's
//! `scratch` module); tests and fuzzing into memory ([`MemoryScratch`]).

use heaplens_bytes::ReadAt;

/// Why scratch space failed.
#[derive(Debug, thiserror::Error)]
pub enum ScratchError {
    /// There is no scratch space here (this build has none, or the browser
    /// gives the page no private file system), with the reason.
    #[error("no space to unpack into: {0}")]
    Unavailable(String),
    /// The space refused more bytes (the disk is full, the browser's quota
    /// is used up).
    #[error("{location} refused more bytes after {written} bytes: {message}")]
    Full {
        /// The space, in words.
        location: String,
        /// Bytes written before.
        written: u64,
        /// What the system said.
        message: String,
    },
    /// Another failure of the space.
    #[error("{location}: {message}")]
    Failed {
        /// The space, in words.
        location: String,
        /// What the system said.
        message: String,
    },
}

/// Unpacked bytes, to read back.
pub enum ScratchBytes {
    /// To read from one thread (the browser's worker).
    Local(Box<dyn ReadAt>),
    /// Threads can share it (a file read natively).
    Shared(Box<dyn ReadAt + Sync>),
}

impl ScratchBytes {
    /// The bytes, to read from this thread.
    pub fn as_read_at(&self) -> &dyn ReadAt {
        match self {
            ScratchBytes::Local(b) => b.as_ref(),
            ScratchBytes::Shared(b) => b.as_ref(),
        }
    }
}

/// Where unpacked bytes go. Each [`Scratch::create`] starts a new file;
/// what is written is read back after [`ScratchWriter::finish`], and is
/// deleted when the returned bytes are dropped (or, for the page, when the
/// open ends).
pub trait Scratch {
    /// Where, in words (`a temporary file in /tmp`), for messages.
    fn location(&self) -> String;
    /// How to get more room there, appended to a no-space message
    /// (`, or set TMPDIR to a directory on a larger disk`).
    fn more_room_hint(&self) -> &'static str {
        ""
    }
    /// Bytes it can still take, when known.
    fn available(&mut self) -> Option<u64>;
    /// A new, empty file to write into.
    fn create(&mut self) -> Result<Box<dyn ScratchWriter>, ScratchError>;
}

/// A file of scratch space being written.
pub trait ScratchWriter {
    /// Appends `bytes`.
    fn write(&mut self, bytes: &[u8]) -> Result<(), ScratchError>;
    /// Ends writing; the bytes written, to read.
    fn finish(self: Box<Self>) -> Result<ScratchBytes, ScratchError>;
}

/// No scratch space: only what needs none (a stored zip entry, read in
/// place) can be opened.
#[derive(Debug, Clone)]
pub struct NoScratch(
    /// Why there is none, for the message.
    pub String,
);

impl Scratch for NoScratch {
    fn location(&self) -> String {
        "no scratch space".to_owned()
    }

    fn available(&mut self) -> Option<u64> {
        None
    }

    fn create(&mut self) -> Result<Box<dyn ScratchWriter>, ScratchError> {
        Err(ScratchError::Unavailable(self.0.clone()))
    }
}

/// Scratch space in memory, at most `limit` bytes in all: for tests and
/// fuzzing (and small inputs).
#[derive(Debug, Clone)]
pub struct MemoryScratch {
    limit: u64,
    used: std::rc::Rc<std::cell::Cell<u64>>,
}

impl MemoryScratch {
    /// Room for `limit` bytes.
    pub fn new(limit: u64) -> Self {
        MemoryScratch {
            limit,
            used: Default::default(),
        }
    }
}

impl Scratch for MemoryScratch {
    fn location(&self) -> String {
        "memory".to_owned()
    }

    fn available(&mut self) -> Option<u64> {
        Some(self.limit.saturating_sub(self.used.get()))
    }

    fn create(&mut self) -> Result<Box<dyn ScratchWriter>, ScratchError> {
        Ok(Box::new(MemoryWriter {
            bytes: Vec::new(),
            limit: self.limit,
            used: self.used.clone(),
        }))
    }
}

struct MemoryWriter {
    bytes: Vec<u8>,
    limit: u64,
    used: std::rc::Rc<std::cell::Cell<u64>>,
}

impl ScratchWriter for MemoryWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), ScratchError> {
        let used = self.used.get() + bytes.len() as u64;
        if used > self.limit {
            return Err(ScratchError::Full {
                location: "memory".to_owned(),
                written: self.bytes.len() as u64,
                message: format!("the limit is {} bytes", self.limit),
            });
        }
        self.used.set(used);
        self.bytes.extend_from_slice(bytes);
        Ok(())
    }

    fn finish(self: Box<Self>) -> Result<ScratchBytes, ScratchError> {
        Ok(ScratchBytes::Shared(Box::new(self.bytes)))
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub use native::TempScratch;

#[cfg(not(target_arch = "wasm32"))]
mod native {
    use super::*;
    use heaplens_bytes::{FileSource, PageCache};
    use std::io::Write;
    use std::path::{Path, PathBuf};

    /// Scratch space in a directory (the system's temporary directory:
    /// `TMPDIR` on Unix): each file is created already unlinked, so the
    /// system deletes it when heaplens closes it — also when heaplens is
    /// killed. Its room is the directory's free space.
    #[derive(Debug, Clone)]
    pub struct TempScratch {
        dir: PathBuf,
    }

    impl TempScratch {
        /// In `dir`.
        pub fn new(dir: impl AsRef<Path>) -> Self {
            TempScratch {
                dir: dir.as_ref().to_owned(),
            }
        }

        /// In the system's temporary directory (`TMPDIR`, else `/tmp`).
        pub fn from_env() -> Self {
            Self::new(std::env::temp_dir())
        }

        /// The directory.
        pub fn dir(&self) -> &Path {
            &self.dir
        }
    }

    impl Scratch for TempScratch {
        fn location(&self) -> String {
            format!("a temporary file in {}", self.dir.display())
        }

        fn more_room_hint(&self) -> &'static str {
            ", or set TMPDIR to a directory on a larger disk"
        }

        fn available(&mut self) -> Option<u64> {
            fs4::available_space(&self.dir).ok()
        }

        fn create(&mut self) -> Result<Box<dyn ScratchWriter>, ScratchError> {
            let file = tempfile::tempfile_in(&self.dir).map_err(|e| ScratchError::Failed {
                location: self.location(),
                message: format!("cannot create a temporary file: {e}"),
            })?;
            Ok(Box::new(TempWriter {
                out: std::io::BufWriter::with_capacity(1 << 20, file),
                written: 0,
                location: self.location(),
            }))
        }
    }

    struct TempWriter {
        out: std::io::BufWriter<std::fs::File>,
        written: u64,
        location: String,
    }

    impl TempWriter {
        fn error(&self, e: std::io::Error) -> ScratchError {
            if e.kind() == std::io::ErrorKind::StorageFull
                || e.kind() == std::io::ErrorKind::QuotaExceeded
                || e.kind() == std::io::ErrorKind::FileTooLarge
            {
                ScratchError::Full {
                    location: self.location.clone(),
                    written: self.written,
                    message: e.to_string(),
                }
            } else {
                ScratchError::Failed {
                    location: self.location.clone(),
                    message: e.to_string(),
                }
            }
        }
    }

    impl ScratchWriter for TempWriter {
        fn write(&mut self, bytes: &[u8]) -> Result<(), ScratchError> {
            if let Err(e) = self.out.write_all(bytes) {
                return Err(self.error(e));
            }
            self.written += bytes.len() as u64;
            Ok(())
        }

        fn finish(mut self: Box<Self>) -> Result<ScratchBytes, ScratchError> {
            if let Err(e) = self.out.flush() {
                return Err(self.error(e));
            }
            let location = self.location.clone();
            let file = self.out.into_inner().map_err(|e| ScratchError::Failed {
                location: location.clone(),
                message: e.to_string(),
            })?;
            let src = FileSource::from_file(file).map_err(|e| ScratchError::Failed {
                location,
                message: e.to_string(),
            })?;
            Ok(ScratchBytes::Shared(Box::new(PageCache::new(src))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_scratch_keeps_its_limit() {
        let mut s = MemoryScratch::new(10);
        let mut w = s.create().unwrap();
        w.write(b"123456").unwrap();
        assert_eq!(s.available(), Some(4));
        assert!(matches!(
            w.write(b"12345"),
            Err(ScratchError::Full { written: 6, .. })
        ));
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.as_read_at().len(), 6);
    }

    #[cfg(not(target_arch = "wasm32"))]
    #[test]
    fn temp_scratch_writes_reads_and_leaves_nothing() {
        let dir =
            std::env::temp_dir().join(format!("heaplens-scratch-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut s = TempScratch::new(&dir);
        assert!(s.available().unwrap() > 0);
        assert!(s.location().contains(&dir.display().to_string()));
        let mut w = s.create().unwrap();
        w.write(b"hello ").unwrap();
        w.write(b"world").unwrap();
        let bytes = w.finish().unwrap();
        let mut buf = [0u8; 5];
        bytes.as_read_at().read_at(6, &mut buf).unwrap();
        assert_eq!(&buf, b"world");
        // The file has no name: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        drop(bytes);
        std::fs::remove_dir(&dir).unwrap();
    }
}
