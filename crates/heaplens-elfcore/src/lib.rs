//! Linux ELF core dumps, as `createdump`, `dotnet-dump` and the kernel
//! write them.
//!
//! [`ElfCore::open`] reads only the ELF header, the program header table
//! and the `PT_NOTE` segments; the process's memory (the `PT_LOAD`
//! segments) stays in the file and is served on demand through a
//! [`heaplens_memory::MemoryMap`]. From the notes come the threads and
//! their registers (`NT_PRSTATUS`), the process (`NT_PRPSINFO`, `NT_AUXV`)
//! and the files mapped into it (`NT_FILE`, grouped into [`Module`]s).
//!
//! [`ElfImage`] reads an ELF shared object or executable *inside* the
//! process's memory (the runtime `libcoreclr.so`, a single-file app host):
//! its segments, its dynamic symbols, and byte-string searches over it.
//!
//! # Memory use
//!
//! Opening a core holds, besides the source: one [`heaplens_memory::Region`]
//! and its file offset per `PT_LOAD` segment (about 64 bytes each), the
//! threads, the `NT_FILE` paths and the auxiliary vector. That is
//! O(segments, threads, mapped files), whatever the size of the core's
//! memory: a 4 GB core never sits in memory. The note bytes are read into
//! one buffer of at most [`MAX_NOTE_BYTES`] while opening and dropped after;
//! the program header table is read in chunks of at most [`PHDR_CHUNK`]
//! entries. Nothing is allocated that is larger than what the file holds.
//! Reads of memory go to the source each time: wrap a slow source in a
//! [`heaplens_bytes::PageCache`].
//!
//! # Errors
//!
//! A malformed core gives an [`ElfCoreError`] naming the structure and its
//! file offset; nothing here panics on bad input or loops without bound.
//! Memory a core lacks (a truncated file, a segment the dump writer left
//! out) is reported when read, as a [`heaplens_memory::MemoryError`].

mod dump;
mod error;
pub mod image;
mod modules;
mod notes;
mod stacks;

pub use dump::{Coverage, ElfCore};
pub use error::ElfCoreError;
pub use image::{ElfImage, ImageError, ImageSegment, Symbol};
pub use modules::Module;
pub use notes::{
    Aarch64Registers, MappedFile, ProcessInfo, PsInfo, Registers, Thread, X86_64Registers,
};
pub use stacks::{StackEnd, StackEndSource};

/// The most note bytes (all `PT_NOTE` segments together) [`ElfCore::open`]
/// reads: 256 MiB, room for the notes of tens of thousands of threads and
/// mappings.
pub const MAX_NOTE_BYTES: u64 = 256 << 20;

/// How many program headers [`ElfCore::open`] reads at a time.
pub const PHDR_CHUNK: usize = 4096;

/// The processor architecture of a dumped process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Machine {
    /// x86-64 (`EM_X86_64`).
    X86_64,
    /// AArch64 (`EM_AARCH64`).
    Aarch64,
}

impl Machine {
    /// The machine of an ELF `e_machine` value, if supported.
    pub fn from_e_machine(e_machine: u16) -> Option<Machine> {
        match e_machine {
            goblin::elf::header::EM_X86_64 => Some(Machine::X86_64),
            goblin::elf::header::EM_AARCH64 => Some(Machine::Aarch64),
            _ => None,
        }
    }

    /// The ELF `e_machine` value.
    pub fn e_machine(self) -> u16 {
        match self {
            Machine::X86_64 => goblin::elf::header::EM_X86_64,
            Machine::Aarch64 => goblin::elf::header::EM_AARCH64,
        }
    }

    /// The architecture's usual name: `x86-64`, `aarch64`.
    pub fn as_str(self) -> &'static str {
        match self {
            Machine::X86_64 => "x86-64",
            Machine::Aarch64 => "aarch64",
        }
    }

    /// Size of a pointer in bytes (8 for both supported machines).
    pub fn pointer_size(self) -> usize {
        8
    }
}
