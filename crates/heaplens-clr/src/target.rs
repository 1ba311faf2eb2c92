//! What the CLR reader needs from a dump container.
//!
//! A container (ELF core, Windows minidump) describes the dumped process as
//! a [`Target`]: its memory, the modules mapped into it, its threads and a
//! way to look up exported symbols of native modules. The reader never sees
//! the container's own format.

use heaplens_memory::AddressSpace;

/// A module (executable file) mapped into the dumped process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetModule {
    /// The module's path as the dump records it.
    pub path: String,
    /// The lowest address of the module's mappings.
    pub start: u64,
    /// One past the highest address of the module's mappings.
    pub end: u64,
    /// Where the module's image headers are mapped (for ELF cores, every
    /// mapping of file offset 0; for minidumps, the module's base).
    pub header_addresses: Vec<u64>,
    /// Each mapping of the module, `[start, end)`. A file mapped in several
    /// places spans others' mappings between `start` and `end`; empty means
    /// the one range `[start, end)`.
    pub ranges: Vec<(u64, u64)>,
    /// The module's file version as the container records it (a
    /// minidump's module list: `VS_FIXEDFILEINFO`, e.g. `8.0.424.16909`),
    /// for dumps that lack the module's own pages; `None` when the
    /// container records none (ELF cores).
    pub version: Option<String>,
}

impl TargetModule {
    /// The last component of the path (either separator), without a
    /// ` (deleted)` suffix.
    pub fn file_name(&self) -> &str {
        let p = self.path.strip_suffix(" (deleted)").unwrap_or(&self.path);
        p.rsplit(['/', '\\']).next().unwrap_or(p)
    }

    /// True when `addr` lies in one of the module's mappings.
    pub fn contains(&self, addr: u64) -> bool {
        if self.ranges.is_empty() {
            addr >= self.start && addr < self.end
        } else {
            self.ranges.iter().any(|&(a, b)| addr >= a && addr < b)
        }
    }
}

/// A thread of the dumped process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetThread {
    /// The OS thread id.
    pub id: u32,
    /// The general-purpose register values (any order; each value is
    /// treated as a possible reference).
    pub registers: Vec<u64>,
    /// The stack pointer.
    pub stack_pointer: u64,
    /// The end (highest address, exclusive) of the thread's stack, when the
    /// container knows it; otherwise the end of the memory region holding
    /// the stack pointer is used.
    pub stack_end: Option<u64>,
    /// The thread's thread-local storage, as `[start, end)` ranges, when
    /// the container or the C library shows it (an ELF core: glibc's
    /// static TLS block and DTV). Scanned conservatively like the stack:
    /// .NET 9+ keeps thread statics' arrays there.
    pub thread_local: Vec<(u64, u64)>,
}

/// Symbol lookup in native modules (ELF dynamic symbols, PE exports).
pub trait SymbolSource {
    /// The address of the symbol `name` exported by `module`, if the dump
    /// holds the pages needed to find it.
    fn find_symbol(&self, module: &TargetModule, name: &str) -> Option<u64>;
}

/// A [`SymbolSource`] that knows no symbols.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSymbols;

impl SymbolSource for NoSymbols {
    fn find_symbol(&self, _module: &TargetModule, _name: &str) -> Option<u64> {
        None
    }
}

/// The dumped process as the CLR reader sees it.
pub struct Target<'a> {
    /// The process's memory.
    pub memory: &'a dyn AddressSpace,
    /// The same memory as [`Target::memory`], when threads may share it
    /// (a file read natively): the heap is then walked on several threads
    /// ([`crate::ReadOptions::threads`]).
    /// `None` where it cannot be shared (the browser's `File`).
    pub shared_memory: Option<&'a (dyn AddressSpace + Sync)>,
    /// Its modules.
    pub modules: Vec<TargetModule>,
    /// Its threads.
    pub threads: Vec<TargetThread>,
    /// Symbol lookup in its native modules.
    pub symbols: &'a dyn SymbolSource,
    /// Managed module files supplied from outside the dump, for modules
    /// whose metadata the dump does not hold.
    pub module_files: Option<&'a dyn crate::names::ModuleFiles>,
}

impl std::fmt::Debug for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("modules", &self.modules.len())
            .field("threads", &self.threads.len())
            .finish()
    }
}
