//! What can be wrong with a minidump file.

use heaplens_bytes::ReadError;

/// Why a minidump could not be opened, or (see
/// [`crate::Minidump::problems`]) why one of its auxiliary streams was left
/// out. Every variant says where in the file the problem is.
#[derive(Debug, thiserror::Error)]
pub enum MinidumpError {
    /// Reading the file failed.
    #[error("reading the {what} at offset {offset}: {source}")]
    Read {
        /// What was being read.
        what: String,
        /// Its file offset.
        offset: u64,
        /// What the source said.
        #[source]
        source: ReadError,
    },
    /// The file does not start with `MDMP`.
    #[error("not a minidump: it starts with {magic:02x?} instead of 4d 44 4d 50 (MDMP)")]
    NotMinidump {
        /// The first bytes of the file (up to four).
        magic: Vec<u8>,
    },
    /// The header's format version is not the one every minidump writer
    /// uses (`0xa793` in the low 16 bits).
    #[error("unsupported minidump format version {version:#06x} at offset 4 (0xa793 expected)")]
    UnsupportedVersion {
        /// The low 16 bits of the header's version field.
        version: u16,
    },
    /// A structure runs past the end of the file.
    #[error(
        "the {what} at offset {offset} ({len} bytes) runs past the end of the file ({file_len} bytes)"
    )]
    Truncated {
        /// Which structure.
        what: String,
        /// Its file offset.
        offset: u64,
        /// Its length (saturated at `u64::MAX` when it overflows).
        len: u64,
        /// The file's length.
        file_len: u64,
    },
    /// A structure is larger than this reader is willing to load.
    #[error("the {what} at offset {offset} is {len} bytes; at most {limit} bytes are read")]
    TooLarge {
        /// Which structure.
        what: String,
        /// Its file offset.
        offset: u64,
        /// Its length.
        len: u64,
        /// The limit.
        limit: u64,
    },
    /// A header field holds an impossible value.
    #[error("bad minidump header at offset {offset}: {message}")]
    BadHeader {
        /// File offset of the field.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// A stream (its header, a record or data it points at) is malformed.
    #[error("bad {stream} at offset {offset}: {message}")]
    BadStream {
        /// The stream's type name (`ModuleListStream`, …).
        stream: &'static str,
        /// File offset of the bad field or record.
        offset: u64,
        /// What is wrong.
        message: String,
    },
    /// A memory descriptor of `Memory64ListStream`, `MemoryListStream` or a
    /// thread's stack is inconsistent (wraps around, overlaps another).
    #[error("bad memory descriptor {index} of the {stream} (at offset {offset}): {message}")]
    BadMemoryRange {
        /// `Memory64ListStream`, `MemoryListStream` or `ThreadListStream`.
        stream: &'static str,
        /// The descriptor's index in its list.
        index: usize,
        /// File offset of the descriptor.
        offset: u64,
        /// What is wrong.
        message: String,
    },
}

impl MinidumpError {
    /// The file offset the error is about.
    pub fn offset(&self) -> u64 {
        match self {
            MinidumpError::Read { offset, .. }
            | MinidumpError::Truncated { offset, .. }
            | MinidumpError::TooLarge { offset, .. }
            | MinidumpError::BadHeader { offset, .. }
            | MinidumpError::BadStream { offset, .. }
            | MinidumpError::BadMemoryRange { offset, .. } => *offset,
            MinidumpError::NotMinidump { .. } => 0,
            MinidumpError::UnsupportedVersion { .. } => 4,
        }
    }
}

/// The byte-decoding library's error in our words (never its raw text
/// alone).
pub(crate) fn scroll_words(e: &scroll::Error) -> String {
    match e {
        scroll::Error::TooBig { size, len } => {
            format!("{size} bytes are needed where only {len} are left")
        }
        scroll::Error::BadOffset(o) => format!("offset {o} lies outside the stream"),
        scroll::Error::BadInput { size, msg } => match *msg {
            "invalid utf8" => format!("{size} bytes that should be text are not UTF-8"),
            m => format!("{size} bytes that cannot be decoded ({m})"),
        },
        #[allow(unreachable_patterns)]
        other => format!("bytes that cannot be decoded ({other})"),
    }
}

/// The `minidump` crate's error, reading a stream, in our words.
pub(crate) fn minidump_words(e: &minidump::Error) -> String {
    match e {
        minidump::Error::StreamSizeMismatch { expected, actual } => {
            format!("the stream holds {actual} bytes where its layout needs {expected}")
        }
        minidump::Error::StreamReadFailure | minidump::Error::DataError => {
            "its contents do not have the stream's layout".into()
        }
        minidump::Error::CodeViewReadFailure => "its CodeView record is malformed".into(),
        minidump::Error::ModuleReadFailure => "a module record is malformed".into(),
        minidump::Error::MemoryReadFailure => "a memory record is malformed".into(),
        other => format!("it cannot be read ({other})"),
    }
}
