//! Errors of the `.gcdump` reader.

use heaplens_bytes::ReadError;
use heaplens_graph::BuildError;

/// A `.gcdump` that cannot be read, and where.
#[derive(Debug, thiserror::Error)]
#[error("invalid .gcdump at byte offset {offset}: {kind}")]
pub struct GcdumpError {
    /// Byte offset in the file where the problem was found.
    pub offset: u64,
    /// What is wrong.
    pub kind: ErrorKind,
}

/// What is wrong with a `.gcdump`.
#[derive(Debug, thiserror::Error)]
pub enum ErrorKind {
    /// The file does not start with `!FastSerialization.1`.
    #[error("not a .gcdump: the file does not start with the FastSerialization signature")]
    BadSignature,
    /// The file, or its object data (which ends where the forward-reference
    /// table starts), ends in the middle of a structure.
    #[error("the file ends early: {what} needs {needed} bytes, {available} are left")]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Bytes needed.
        needed: u64,
        /// Bytes left in the file.
        available: u64,
    },
    /// The file ends before its end: the trailer every `.gcdump` ends with
    /// is not there, and the data before says more was to come.
    #[error(
        "the file is truncated (cut short): it ends at byte {len} without the trailer a .gcdump ends \
         with, and {promise}"
    )]
    TruncatedFile {
        /// The file's length.
        len: u64,
        /// Where the data that runs past the end is.
        at: u64,
        /// What it promises, in words ("the node count at byte 300
        /// promises 6482 of them, more than …").
        promise: String,
    },
    /// A tag byte that is not allowed here.
    #[error("unexpected tag {found} where {expected} was expected")]
    UnexpectedTag {
        /// What the reader expected.
        expected: &'static str,
        /// The tag byte found.
        found: u8,
    },
    /// A stream label (file offset) that points nowhere valid.
    #[error("{what} points to byte {label}, which is not valid here")]
    BadLabel {
        /// What the label is.
        what: &'static str,
        /// The label.
        label: u64,
    },
    /// The trailer or forward-reference table at the end of the file is damaged.
    #[error("the trailer is damaged: {0}")]
    BadTrailer(&'static str),
    /// The file does not end with a `.gcdump`'s trailer (the suffix label
    /// and the forward-reference table it points to): it was cut short, or
    /// its end is damaged. A `.gcdump` is read from its end, so such a file
    /// cannot be read at all, not even in part.
    #[error(
        "the file does not end with a .gcdump's trailer ({detail}): it is cut short \
         (truncated, e.g. a download that stopped) or its end is damaged. A .gcdump is read \
         from its end (its forward-reference table is written last), so it cannot be read \
         in part: copy or download it again whole"
    )]
    EndMissing {
        /// What is wrong with the end of the file.
        detail: Box<ErrorKind>,
    },
    /// An object type the reader does not know where a known one is required.
    #[error("expected an object of type {expected}, found {found:?}")]
    WrongObjectType {
        /// The type required.
        expected: &'static str,
        /// The type found.
        found: String,
    },
    /// A version this reader does not support.
    #[error("{what} version {version} is not supported")]
    UnsupportedVersion {
        /// Of what.
        what: &'static str,
        /// The version in the file.
        version: i32,
    },
    /// A feature of FastSerialization that .gcdump writers do not use.
    #[error("{0} are not supported in a .gcdump")]
    Unsupported(&'static str),
    /// A count that is negative or larger than the rest of the file can hold.
    #[error("{what} count {count} is impossible here (at most {limit})")]
    BadCount {
        /// What is counted.
        what: &'static str,
        /// The count in the file.
        count: i64,
        /// The largest count the remaining bytes allow.
        limit: u64,
    },
    /// An index outside its table.
    #[error("{what} {index} is out of range (0..{limit})")]
    IndexOutOfRange {
        /// What the index is of.
        what: &'static str,
        /// The index in the file.
        index: i64,
        /// Size of the table.
        limit: u64,
    },
    /// A value that is not allowed, with the reason.
    #[error("{0}")]
    Invalid(String),
    /// The header's total size disagrees with the nodes.
    #[error("the graph says its nodes total {header} bytes, but they add up to {nodes}")]
    TotalSizeMismatch {
        /// The header's figure.
        header: i64,
        /// The sum of node sizes.
        nodes: u64,
    },
    /// The source could not be read.
    #[error(transparent)]
    Read(ReadError),
    /// The graph could not be built.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The user cancelled.
    #[error("cancelled")]
    Cancelled,
}

impl GcdumpError {
    pub(crate) fn new(offset: u64, kind: ErrorKind) -> Self {
        GcdumpError { offset, kind }
    }

    /// True when the file is cut short (its end is missing, or its data
    /// promises more than the file holds): one kind of problem, however
    /// it was found.
    pub fn is_cut_short(&self) -> bool {
        matches!(
            self.kind,
            ErrorKind::EndMissing { .. } | ErrorKind::TruncatedFile { .. }
        )
    }
}
