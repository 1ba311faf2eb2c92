//! Opens any input heaplens reads into a [`Snapshot`].
//!
//! The format is recognised from the first bytes, never from the file name:
//! `!FastSerialization.1` is a `.gcdump`, `\x7fELF` an ELF core, `MDMP` a
//! Windows minidump.

use heaplens_bytes::{ReadAt, ReadError};
use heaplens_graph::{InputFormat, Progress, Snapshot};

pub use heaplens_graph;

pub mod elf;

/// Why an input could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The first bytes match no format heaplens reads.
    #[error(
        "unrecognised file: it starts with {head}, which is not a .gcdump \
         (!FastSerialization.1), an ELF core (\\x7fELF) or a Windows minidump (MDMP)"
    )]
    UnknownFormat {
        /// The first bytes, in hex.
        head: String,
    },
    /// A format heaplens recognises but cannot read yet.
    #[error("{0} files are recognised, but this version of heaplens cannot read them yet")]
    NotSupportedYet(&'static str),
    /// The `.gcdump` is damaged.
    #[error(transparent)]
    GcDump(#[from] heaplens_gcdump::GcdumpError),
    /// The input could not be read.
    #[error("could not read the input: {0}")]
    Read(#[from] ReadError),
}

/// Recognises the format from the first bytes.
pub fn detect(src: &dyn ReadAt) -> Result<InputFormat, OpenError> {
    let n = src.len().min(24) as usize;
    let mut head = vec![0u8; n];
    src.read_at(0, &mut head)?;
    if heaplens_gcdump::looks_like_gcdump(&head) {
        Ok(InputFormat::GcDump)
    } else if head.starts_with(b"\x7fELF") {
        Ok(InputFormat::ElfCore)
    } else if head.starts_with(b"MDMP") {
        Ok(InputFormat::Minidump)
    } else {
        let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
        Err(OpenError::UnknownFormat {
            head: if hex.is_empty() {
                "nothing (the file is empty)".to_owned()
            } else {
                hex.join(" ")
            },
        })
    }
}

/// Opens an input of any supported format.
pub fn open(src: &dyn ReadAt, progress: &mut dyn Progress) -> Result<Snapshot, OpenError> {
    match detect(src)? {
        InputFormat::GcDump => Ok(heaplens_gcdump::read(src, progress)?.snapshot),
        InputFormat::ElfCore => Err(OpenError::NotSupportedYet("ELF core dump")),
        InputFormat::Minidump => Err(OpenError::NotSupportedYet("Windows minidump")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_content() {
        let mut gc = b"\x14\x00\x00\x00!FastSerialization.1".to_vec();
        gc.extend_from_slice(&[0; 8]);
        assert_eq!(detect(&gc).unwrap(), InputFormat::GcDump);
        assert_eq!(
            detect(&b"\x7fELF\x02\x01".to_vec()).unwrap(),
            InputFormat::ElfCore
        );
        assert_eq!(
            detect(&b"MDMP\x93\xa7".to_vec()).unwrap(),
            InputFormat::Minidump
        );
        let e = detect(&b"PK\x03\x04".to_vec()).unwrap_err();
        assert!(e.to_string().contains("50 4b 03 04"), "{e}");
        let e = detect(&Vec::new()).unwrap_err();
        assert!(e.to_string().contains("empty"), "{e}");
    }
}
