//! What can be wrong with a core file.

use heaplens_bytes::ReadError;

/// Why a core file could not be opened. Every variant says where in the
/// file the problem is.
#[derive(Debug, thiserror::Error)]
pub enum ElfCoreError {
    /// Reading the file failed.
    #[error("reading the {what} at offset {offset}: {source}")]
    Read {
        /// What was being read.
        what: &'static str,
        /// Its file offset.
        offset: u64,
        /// What the source said.
        #[source]
        source: ReadError,
    },
    /// A structure runs past the end of the file.
    #[error("the {what} at offset {offset} ({len} bytes) runs past the end of the file ({file_len} bytes)")]
    Truncated {
        /// Which structure.
        what: &'static str,
        /// Its file offset.
        offset: u64,
        /// Its length (saturated at `u64::MAX` if it overflows).
        len: u64,
        /// The file's length.
        file_len: u64,
    },
    /// The file does not start with the ELF magic number.
    #[error("not an ELF file: it starts with {magic:02x?} instead of 7f 45 4c 46")]
    NotElf {
        /// The first bytes of the file (up to four).
        magic: Vec<u8>,
    },
    /// An ELF file of a kind this reader does not handle (big-endian, an
    /// unknown class).
    #[error("unsupported ELF file: {what} (at offset {offset})")]
    Unsupported {
        /// What is not supported.
        what: String,
        /// File offset of the field that says so.
        offset: u64,
    },
    /// An ELF file that is not a core dump (`e_type` is not `ET_CORE`).
    #[error("not a core dump: ELF type is {e_type} (4 is ET_CORE), at offset 16")]
    NotCore {
        /// The file's `e_type`.
        e_type: u16,
    },
    /// A header field holds an impossible value.
    #[error("bad ELF header at offset {offset}: {message}")]
    BadHeader {
        /// File offset of the field.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// A program header (segment) is inconsistent.
    #[error("bad program header {index} (at offset {offset}): {message}")]
    BadSegment {
        /// The program header's index in the table.
        index: usize,
        /// File offset of the program header.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// A `PT_NOTE` segment is larger than this reader is willing to load.
    #[error("the note segment at offset {offset} is {len} bytes; at most {limit} bytes of notes are read")]
    NotesTooLarge {
        /// File offset of the segment.
        offset: u64,
        /// Its length.
        len: u64,
        /// The limit ([`crate::MAX_NOTE_BYTES`], for all note segments together).
        limit: u64,
    },
    /// A note in a `PT_NOTE` segment is malformed.
    #[error("bad note at offset {offset}: {message}")]
    BadNote {
        /// File offset of the note (its header), or of the bad field in it.
        offset: u64,
        /// What is wrong.
        message: String,
    },
}

/// The byte-decoding library's error in our words (never its raw text
/// alone: "bad input invalid utf8 (2296)" means nothing to a reader).
pub(crate) fn scroll_words(e: &scroll::Error) -> String {
    match e {
        scroll::Error::TooBig { size, len } => {
            format!("{size} bytes are needed where only {len} are left")
        }
        scroll::Error::BadOffset(o) => format!("offset {o} lies outside the data"),
        scroll::Error::BadInput { size, msg } => match *msg {
            "invalid utf8" => format!("{size} bytes that should be text are not UTF-8"),
            m => format!("{size} bytes that cannot be decoded ({m})"),
        },
        #[allow(unreachable_patterns)]
        other => format!("bytes that cannot be decoded ({other})"),
    }
}

/// The ELF library's error in our words.
pub(crate) fn goblin_words(e: &goblin::error::Error) -> String {
    match e {
        goblin::error::Error::Malformed(m) => format!("malformed ELF data ({m})"),
        goblin::error::Error::BadMagic(m) => format!("{m:#x} is not the ELF magic number"),
        goblin::error::Error::Scroll(s) => scroll_words(s),
        goblin::error::Error::BufferTooShort(n, what) => {
            format!("the {what} needs {n} bytes, which are not there")
        }
        #[allow(unreachable_patterns)]
        other => format!("ELF data that cannot be decoded ({other})"),
    }
}
