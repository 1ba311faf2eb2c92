//! Windows minidumps, as `MiniDumpWriteDump` (procdump, Task Manager,
//! dotnet-dump, Visual Studio) writes them.
//!
//! [`Minidump::open`] reads the header, the stream directory and the small
//! streams — `SystemInfoStream`, `ModuleListStream` (with each module's
//! CodeView record and version), `ThreadListStream` (with each thread's
//! register context), `ThreadInfoListStream`, `MiscInfoStream` (process id
//! and times), `MemoryInfoListStream`, `HandleDataStream`,
//! `UnloadedModuleListStream`, `ExceptionStream` and the comment streams —
//! through the `minidump` crate's parsers. The process's memory
//! (`Memory64ListStream` of a full dump, whose data may lie past 4 GiB;
//! `MemoryListStream` of a smaller dump; thread stacks that neither lists)
//! stays in the file and is served on demand through a
//! [`heaplens_memory::MemoryMap`]. Streams of other types are skipped.
//!
//! # Memory use
//!
//! The file is never read whole. `minidump`'s parsers want the whole file
//! as one slice, to follow the RVAs a stream holds (a module's name, its
//! CodeView record, a thread's context); here each stream gets its own
//! bytes instead, with those RVAs rewritten to point into a small buffer
//! holding just the data they name. Every read is bounded: a stream by
//! [`MAX_STREAM_BYTES`], a string by [`MAX_STRING_BYTES`], a CodeView
//! record or a context by [`MAX_RECORD_BYTES`], the directory by
//! [`MAX_STREAMS`] entries and the memory lists by [`MAX_MEMORY_RANGES`]
//! descriptors, read [`DESCRIPTOR_CHUNK`] at a time. What stays in memory
//! after opening is O(streams, modules, threads, memory ranges).
//!
//! # Errors
//!
//! A malformed minidump gives a [`MinidumpError`] naming the stream and the
//! file offset; nothing here panics on bad input or loops without bound.
//! The header, the directory, the memory lists, `SystemInfoStream`,
//! `ModuleListStream` and `ThreadListStream` must be sound for the dump to
//! open; damage in the other streams (or in a thread's context, a module's
//! CodeView record) leaves that part out and is listed in
//! [`Minidump::problems`]. Memory the file lacks (a truncated dump) is
//! reported when read, as a [`heaplens_memory::MemoryError::Truncated`].

mod dump;
mod error;
mod memory;
mod streams;

pub use dump::{Coverage, Header, KindBytes, MemoryKinds, Minidump, StreamEntry};
pub use error::MinidumpError;
pub use streams::{
    Exception, Handle, MemoryInfo, Module, ProcessInfo, Registers, SystemInfo, Thread, ThreadInfo,
    UnloadedModule,
};

/// The `minidump` crate, whose parsers read the small streams.
pub use minidump;

/// The most entries of the stream directory read (real dumps have a few
/// dozen).
pub const MAX_STREAMS: u32 = 1 << 16;

/// The most bytes of one small stream read (a module list of thousands of
/// modules is well below this).
pub const MAX_STREAM_BYTES: u64 = 64 << 20;

/// The most bytes of one string (a module's path, a handle's name) read.
pub const MAX_STRING_BYTES: u32 = 64 << 10;

/// The most bytes of one record a stream points at (a CodeView record, a
/// thread's register context) read.
pub const MAX_RECORD_BYTES: u32 = 1 << 20;

/// The most memory descriptors read from `Memory64ListStream` and
/// `MemoryListStream` together.
pub const MAX_MEMORY_RANGES: u64 = 1 << 24;

/// How many memory descriptors are read at a time.
pub const DESCRIPTOR_CHUNK: usize = 4096;

/// The `MINIDUMP_STREAM_TYPE` values this reader knows by name.
pub mod stream_type {
    /// `UnusedStream`: an empty directory slot.
    pub const UNUSED: u32 = 0;
    /// `ThreadListStream`.
    pub const THREAD_LIST: u32 = 3;
    /// `ModuleListStream`.
    pub const MODULE_LIST: u32 = 4;
    /// `MemoryListStream`.
    pub const MEMORY_LIST: u32 = 5;
    /// `ExceptionStream`.
    pub const EXCEPTION: u32 = 6;
    /// `SystemInfoStream`.
    pub const SYSTEM_INFO: u32 = 7;
    /// `ThreadExListStream`.
    pub const THREAD_EX_LIST: u32 = 8;
    /// `Memory64ListStream`.
    pub const MEMORY64_LIST: u32 = 9;
    /// `CommentStreamA` (ANSI text).
    pub const COMMENT_A: u32 = 10;
    /// `CommentStreamW` (UTF-16 text).
    pub const COMMENT_W: u32 = 11;
    /// `HandleDataStream`.
    pub const HANDLE_DATA: u32 = 12;
    /// `FunctionTableStream`.
    pub const FUNCTION_TABLE: u32 = 13;
    /// `UnloadedModuleListStream`.
    pub const UNLOADED_MODULE_LIST: u32 = 14;
    /// `MiscInfoStream`.
    pub const MISC_INFO: u32 = 15;
    /// `MemoryInfoListStream`.
    pub const MEMORY_INFO_LIST: u32 = 16;
    /// `ThreadInfoListStream`.
    pub const THREAD_INFO_LIST: u32 = 17;
    /// `HandleOperationListStream`.
    pub const HANDLE_OPERATION_LIST: u32 = 18;
    /// `TokenStream`.
    pub const TOKEN: u32 = 19;
    /// `ThreadNamesStream`.
    pub const THREAD_NAMES: u32 = 24;

    /// The name of stream type `t` (`ModuleListStream`), or `unknown stream`.
    pub fn name(t: u32) -> &'static str {
        match t {
            UNUSED => "UnusedStream",
            THREAD_LIST => "ThreadListStream",
            MODULE_LIST => "ModuleListStream",
            MEMORY_LIST => "MemoryListStream",
            EXCEPTION => "ExceptionStream",
            SYSTEM_INFO => "SystemInfoStream",
            THREAD_EX_LIST => "ThreadExListStream",
            MEMORY64_LIST => "Memory64ListStream",
            COMMENT_A => "CommentStreamA",
            COMMENT_W => "CommentStreamW",
            HANDLE_DATA => "HandleDataStream",
            FUNCTION_TABLE => "FunctionTableStream",
            UNLOADED_MODULE_LIST => "UnloadedModuleListStream",
            MISC_INFO => "MiscInfoStream",
            MEMORY_INFO_LIST => "MemoryInfoListStream",
            THREAD_INFO_LIST => "ThreadInfoListStream",
            HANDLE_OPERATION_LIST => "HandleOperationListStream",
            TOKEN => "TokenStream",
            THREAD_NAMES => "ThreadNamesStream",
            _ => "unknown stream",
        }
    }
}

/// A little-endian `u32` at `at` of `b` (0 past its end).
pub(crate) fn le32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// A little-endian `u64` at `at` of `b` (0 past its end).
pub(crate) fn le64(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}
