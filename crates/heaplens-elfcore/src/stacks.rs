//! Where each thread's stack ends.
//!
//! A core records each thread's registers but not its stack's range, and a
//! dump writer may merge neighbouring mappings into one `PT_LOAD` segment
//! (`createdump` does), so "the segment holding the stack pointer" can run
//! on into other memory: the GC heap, handle tables. The end (the highest
//! address) of a thread's stack is found from the process itself:
//!
//! * **a thread the C library started** (glibc's and musl's
//!   `pthread_create`, which .NET uses for every thread but the first) has
//!   its thread descriptor at the top of the memory it mapped for the
//!   thread, right above the stack and the thread's static TLS block. On
//!   x86-64 the thread pointer (`fs_base`) points at the descriptor, whose
//!   first word points to itself (glibc's `tcbhead_t.tcb`, musl's
//!   `pthread.self`): the stack is `[sp, fs_base)`.
//! * **the process's first thread** runs on the stack the kernel set up:
//!   the path passed to `execve` (`AT_EXECFN`) is the last thing on it,
//!   followed by one null pointer, and the stack ends there.
//!
//! Each bound is taken only when its evidence holds (the self pointer,
//! the first thread's id, every byte between the stack pointer and the
//! end mapped); otherwise the end is unknown and the caller must say so.

use crate::{ElfCore, Machine, ProcessInfo, Registers, Thread};
use heaplens_bytes::ReadAt;
use heaplens_memory::AddressSpace;

/// How a thread's stack end was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StackEndSource {
    /// The C library's thread descriptor at the thread pointer (x86-64
    /// `fs_base`), whose first word points to itself.
    ThreadDescriptor,
    /// The top of the process's initial stack, where the kernel put the
    /// executable's path (`AT_EXECFN`): the first thread's stack.
    InitialStack,
}

impl StackEndSource {
    /// In words, for notes.
    pub fn as_str(self) -> &'static str {
        match self {
            StackEndSource::ThreadDescriptor => "the C library's thread descriptor",
            StackEndSource::InitialStack => "the top of the process's initial stack",
        }
    }
}

/// The end of a thread's stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StackEnd {
    /// One past the highest address of the stack.
    pub end: u64,
    /// How it was found.
    pub source: StackEndSource,
}

/// The largest stack believed (bounds the evidence: a thread pointer
/// further above the stack pointer than this is not its stack's top).
const MAX_STACK: u64 = 1 << 30;

/// The longest `AT_EXECFN` path read (Linux's `PATH_MAX`).
const MAX_PATH: usize = 4096;

impl<R: ReadAt> ElfCore<R> {
    /// The end of `thread`'s stack, when the process shows it (see the
    /// module documentation); `None` when it cannot be known.
    pub fn stack_end(&self, thread: &Thread) -> Option<StackEnd> {
        let mem = self.memory();
        let sp = thread.stack_pointer();
        let mapped = |end: u64| end > sp && end - sp <= MAX_STACK && mem.is_mapped(sp, end - sp);
        if let Registers::X86_64(r) = &thread.registers {
            let tp = r.fs_base;
            if self.machine() == Machine::X86_64
                && tp % 8 == 0
                && mapped(tp)
                && mem.read_u64(tp).ok() == Some(tp)
            {
                return Some(StackEnd {
                    end: tp,
                    source: StackEndSource::ThreadDescriptor,
                });
            }
        }
        let first_thread = self.process().pid().is_some_and(|pid| pid == thread.tid);
        if first_thread {
            if let Some(end) = initial_stack_end(mem, self.process()) {
                if mapped(end) {
                    return Some(StackEnd {
                        end,
                        source: StackEndSource::InitialStack,
                    });
                }
            }
        }
        None
    }
}

/// The end of the initial stack: `AT_EXECFN`, its path, its NUL and the
/// null pointer after it (fs/exec.c puts them at the very top).
fn initial_stack_end(mem: &dyn AddressSpace, process: &ProcessInfo) -> Option<u64> {
    let at = process.auxv_value(ProcessInfo::AT_EXECFN)?;
    let path = heaplens_memory::read_c_string(mem, at, MAX_PATH).ok()??;
    let end = at
        .checked_add(path.len() as u64 + 1)?
        .checked_add(mem.pointer_size() as u64)?;
    // The stack's top is page aligned: round up within the page.
    let page = process
        .auxv_value(ProcessInfo::AT_PAGESZ)
        .filter(|p| p.is_power_of_two())
        .unwrap_or(4096);
    end.checked_add(page - 1).map(|e| e & !(page - 1))
}

/// Most modules with thread-local storage believed (bounds the DTV read).
const MAX_TLS_MODULES: u64 = 4096;

/// Most bytes of one module's thread-local block believed.
const MAX_TLS_BLOCK: u64 = 16 << 20;

impl<R: ReadAt> ElfCore<R> {
    /// The thread-local storage of `thread`, as `[start, end)` ranges: the
    /// static TLS block below the thread pointer and the blocks of modules
    /// loaded later, from glibc's dynamic thread vector (DTV, at
    /// `fs_base + 8`: its length at `dtv[-1]`, then one `{block,
    /// to_free}` pair per module). A dynamically allocated block's size
    /// comes from its `malloc` chunk header. Empty when the thread pointer
    /// is not a verified thread descriptor (x86-64 only) or its DTV does
    /// not have the shape.
    pub fn thread_local_storage(&self, thread: &Thread) -> Vec<(u64, u64)> {
        let mem = self.memory();
        let Registers::X86_64(r) = &thread.registers else {
            return Vec::new();
        };
        let tp = r.fs_base;
        if tp % 8 != 0 || mem.read_u64(tp).ok() != Some(tp) {
            return Vec::new();
        }
        let Ok(dtv) = mem.read_u64(tp + 8) else {
            return Vec::new();
        };
        let Some(n) = dtv
            .checked_sub(16)
            .and_then(|at| mem.read_u64(at).ok())
            .filter(|&n| n > 0 && n <= MAX_TLS_MODULES)
        else {
            return Vec::new();
        };
        let mut entries = vec![0u8; 16 * n as usize];
        if mem.read_virtual(dtv + 16, &mut entries).is_err() {
            return Vec::new();
        }
        let mut lowest_static = tp;
        let mut dynamic = Vec::new();
        for e in entries.chunks_exact(16) {
            let val = u64::from_le_bytes(e[..8].try_into().unwrap_or([0; 8]));
            let to_free = u64::from_le_bytes(e[8..].try_into().unwrap_or([0; 8]));
            if val == 0 || val == u64::MAX || val % 8 != 0 {
                continue;
            }
            if val < tp && tp - val <= MAX_TLS_BLOCK && to_free == 0 {
                // In the static TLS block (variant II: below the thread
                // pointer).
                lowest_static = lowest_static.min(val);
            } else if to_free != 0 && to_free <= val && val - to_free < 4096 {
                // malloc'ed: the chunk's size is the word before it (low
                // three bits are flags).
                let Ok(size) = mem.read_u64(to_free - 8) else {
                    continue;
                };
                let end = (to_free - 16).saturating_add(size & !7);
                if end > val && end - val <= MAX_TLS_BLOCK && mem.is_mapped(val, end - val) {
                    dynamic.push((val, end));
                }
            }
        }
        let mut out = Vec::new();
        if lowest_static < tp && mem.is_mapped(lowest_static, tp - lowest_static) {
            out.push((lowest_static, tp));
        }
        out.extend(dynamic);
        out
    }
}
