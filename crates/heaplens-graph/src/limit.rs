//! A cap on the memory a producer may use while it builds a graph.

use std::fmt;

/// At most `cap` bytes in all, of which `in_use()` are in use at the time
/// of a check: a WebAssembly worker's cap (its `--max-memory`) and the
/// bytes its allocator has handed out and not taken back. Natively there
/// is none (the machine's memory). Producers check their projected need
/// against it before and while they build, and say so with numbers.
#[derive(Clone, Copy)]
pub struct MemoryLimit {
    /// Bytes the engine may use in all.
    pub cap: u64,
    /// Bytes in use now.
    pub in_use: fn() -> u64,
}

impl MemoryLimit {
    /// Bytes left under the cap now.
    pub fn available(&self) -> u64 {
        self.cap.saturating_sub((self.in_use)())
    }
}

impl fmt::Debug for MemoryLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryLimit")
            .field("cap", &self.cap)
            .field("in_use", &(self.in_use)())
            .finish()
    }
}

/// Two limits are the same when their caps are (the measure is the
/// process's).
impl PartialEq for MemoryLimit {
    fn eq(&self, other: &Self) -> bool {
        self.cap == other.cap
    }
}

impl Eq for MemoryLimit {}
