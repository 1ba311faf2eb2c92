//! Why a CLR heap could not be read.

use heaplens_memory::MemoryError;

/// Why the CLR heap of a dump could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ClrError {
    /// A runtime heaplens recognises but does not read.
    #[error(
        "the process runs {what} ({module}), whose heap heaplens does not read: it reads \
         .NET Core 3.1, .NET 5 and later, and .NET Framework 4.x, in 32- and 64-bit processes"
    )]
    UnsupportedRuntime {
        /// The runtime, in words.
        what: &'static str,
        /// Its module's file name.
        module: String,
    },
    /// The dump holds the GC heap but not the runtime's type data
    /// (MethodTables): objects cannot be sized or followed.
    #[error(
        "the dump holds the GC heap but not the runtime's type data: the walk of every heap \
         segment stopped at a MethodTable that is not in the dump ({segments} segments). \
         Dumps of private memory only (Windows heap minidumps of .NET 7 and later) leave the \
         runtime's loader heaps out; take a full-memory dump (procdump -ma, dotnet-dump \
         collect --type Full)"
    )]
    NoTypeData {
        /// Segments whose walk stopped so.
        segments: usize,
    },
    /// No module of the process looks like a .NET runtime.
    #[error(
        "no .NET runtime in this process: no module is libcoreclr.so, coreclr.dll or clr.dll, \
         and none exports the runtime's symbols (g_dacTable, DotNetRuntimeInfo)"
    )]
    NoRuntime,
    /// The runtime was found but its GC bookkeeping (`GcDacVars`) was not.
    #[error(
        "found the .NET runtime {runtime} but not its GC's bookkeeping (GcDacVars): {why}. \
         The runtime's data pages may be missing from the dump, or this runtime's layout is \
         one heaplens does not recognise"
    )]
    NoGcInfo {
        /// The runtime module's file name.
        runtime: String,
        /// What was tried.
        why: String,
    },
    /// A heap looked for by shape (.NET Framework 4.x, which keeps no
    /// `GcDacVars`, or [`crate::Discovery::Heuristic`]) was not found with
    /// evidence enough to stand behind.
    #[error(
        "found the .NET runtime {runtime}, but not its GC heap: a heap found without the \
         runtime's GcDacVars (.NET Framework keeps none) must be found by shape, and {why}"
    )]
    HeapNotFound {
        /// The runtime module's file name.
        runtime: String,
        /// What was missing or contradictory.
        why: String,
    },
    /// The dump lacks the memory of the GC heap (a `--normal`/`--triage`
    /// core, or a minidump without heap memory).
    #[error(
        "the dump does not contain the GC heap's memory ({missing} of {total} bytes of heap \
         missing): take a dump with the heap (createdump --withheap or --full, \
         dotnet-dump collect --type Heap or Full, procdump -ma)"
    )]
    NoHeapMemory {
        /// Bytes of heap ranges the dump lacks.
        missing: u64,
        /// Bytes of heap ranges in all.
        total: u64,
    },
    /// The GC was in the middle of a collection when the dump was taken.
    #[error(
        "the dump was taken while a garbage collection was running \
         (gc_structures_invalid_cnt = {0}); the heap cannot be walked reliably"
    )]
    GcInProgress(i32),
    /// A runtime structure holds a value that cannot be right.
    #[error("{what} at {addr:#x} is not valid: {why}")]
    Corrupt {
        /// Which structure.
        what: &'static str,
        /// Where it is.
        addr: u64,
        /// What is wrong with it.
        why: String,
    },
    /// Reading memory the reader relies on failed.
    #[error("reading {what}: {source}")]
    Memory {
        /// What was being read.
        what: &'static str,
        /// The memory error.
        #[source]
        source: MemoryError,
    },
    /// The heap does not fit in the memory the read may use
    /// ([`crate::ReadOptions::memory`]): found before the walk, projected
    /// from what was walked, or an allocation was refused.
    #[error("{0}")]
    OverBudget(Box<crate::walk::OpenOverBudget>),
    /// The caller cancelled the read.
    #[error("cancelled")]
    Cancelled,
    /// The heap's walkers ([`crate::Walkers`]) failed, or what they found
    /// could not be joined.
    #[error("the heap's walkers failed: {0}")]
    Walker(String),
    /// The heap graph could not be built.
    #[error(transparent)]
    Build(#[from] heaplens_graph::BuildError),
}

impl From<heaplens_graph::Cancelled> for ClrError {
    fn from(_: heaplens_graph::Cancelled) -> ClrError {
        ClrError::Cancelled
    }
}

/// Attaches a description to a memory error.
pub(crate) trait MemCtx<T> {
    /// Wraps a memory error as [`ClrError::Memory`].
    fn ctx(self, what: &'static str) -> Result<T, ClrError>;
}

impl<T> MemCtx<T> for Result<T, MemoryError> {
    fn ctx(self, what: &'static str) -> Result<T, ClrError> {
        self.map_err(|source| ClrError::Memory { what, source })
    }
}
