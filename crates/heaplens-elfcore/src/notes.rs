//! The contents of a core's notes: threads and their registers
//! (`NT_PRSTATUS`), the process (`NT_PRPSINFO`), mapped files (`NT_FILE`)
//! and the auxiliary vector (`NT_AUXV`).
//!
//! The layouts are Linux's `struct elf_prstatus` and `struct elf_prpsinfo`
//! (`<sys/procfs.h>`) for 64-bit and 32-bit processes, which is what both
//! the kernel and .NET's `createdump` write.

use crate::{ElfCoreError, Machine};

/// One thread of the dumped process, from its `NT_PRSTATUS` note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thread {
    /// The thread's id (`pr_pid`: Linux puts the thread id there).
    pub tid: u32,
    /// `pr_ppid`: the parent process's id.
    pub ppid: u32,
    /// `pr_pgrp`: the process group (`createdump` writes the process id,
    /// the thread group id, here).
    pub pgrp: u32,
    /// `pr_sid`: the session id.
    pub sid: u32,
    /// `pr_cursig`: the signal the thread stopped on (0 for a dump taken from
    /// a live process).
    pub signal: u16,
    /// The thread's general-purpose registers.
    pub registers: Registers,
}

/// A thread's general-purpose registers (`pr_reg`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Registers {
    /// x86-64: `struct user_regs_struct`.
    X86_64(X86_64Registers),
    /// AArch64: `struct user_pt_regs`.
    Aarch64(Aarch64Registers),
}

impl Registers {
    /// The stack pointer (`rsp`, `sp`).
    pub fn stack_pointer(&self) -> u64 {
        match self {
            Registers::X86_64(r) => r.rsp,
            Registers::Aarch64(r) => r.sp,
        }
    }

    /// The instruction pointer (`rip`, `pc`).
    pub fn instruction_pointer(&self) -> u64 {
        match self {
            Registers::X86_64(r) => r.rip,
            Registers::Aarch64(r) => r.pc,
        }
    }

    /// The frame pointer (`rbp`, `x29`).
    pub fn frame_pointer(&self) -> u64 {
        match self {
            Registers::X86_64(r) => r.rbp,
            Registers::Aarch64(r) => r.x[29],
        }
    }

    /// The general-purpose registers by name: the sixteen of x86-64 (`rax`
    /// to `r15`), or AArch64's `x0` to `x30` and `sp`. Every value that may
    /// hold a pointer is here (what a conservative root scan needs).
    pub fn general_purpose(&self) -> Vec<(&'static str, u64)> {
        const X: [&str; 31] = [
            "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12", "x13",
            "x14", "x15", "x16", "x17", "x18", "x19", "x20", "x21", "x22", "x23", "x24", "x25",
            "x26", "x27", "x28", "x29", "x30",
        ];
        match self {
            Registers::X86_64(r) => r.gprs().to_vec(),
            Registers::Aarch64(r) => X.iter().copied().zip(r.x).chain([("sp", r.sp)]).collect(),
        }
    }
}

impl Thread {
    /// The thread's stack pointer.
    pub fn stack_pointer(&self) -> u64 {
        self.registers.stack_pointer()
    }

    /// The thread's instruction pointer.
    pub fn instruction_pointer(&self) -> u64 {
        self.registers.instruction_pointer()
    }
}

/// The x86-64 `struct user_regs_struct`, field for field and in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[allow(missing_docs)] // the field names are the registers' names
pub struct X86_64Registers {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rdx: u64,
    pub rsi: u64,
    pub rdi: u64,
    /// The system call number if the thread is in a system call, else -1.
    pub orig_rax: u64,
    pub rip: u64,
    pub cs: u64,
    pub eflags: u64,
    pub rsp: u64,
    pub ss: u64,
    /// The `fs` segment base: thread-local storage on Linux.
    pub fs_base: u64,
    pub gs_base: u64,
    pub ds: u64,
    pub es: u64,
    pub fs: u64,
    pub gs: u64,
}

impl X86_64Registers {
    /// Number of 8-byte words in `user_regs_struct`.
    pub const WORDS: usize = 27;

    /// The registers from the words of `user_regs_struct`, in order.
    pub fn from_words(w: &[u64; Self::WORDS]) -> Self {
        X86_64Registers {
            r15: w[0],
            r14: w[1],
            r13: w[2],
            r12: w[3],
            rbp: w[4],
            rbx: w[5],
            r11: w[6],
            r10: w[7],
            r9: w[8],
            r8: w[9],
            rax: w[10],
            rcx: w[11],
            rdx: w[12],
            rsi: w[13],
            rdi: w[14],
            orig_rax: w[15],
            rip: w[16],
            cs: w[17],
            eflags: w[18],
            rsp: w[19],
            ss: w[20],
            fs_base: w[21],
            gs_base: w[22],
            ds: w[23],
            es: w[24],
            fs: w[25],
            gs: w[26],
        }
    }

    /// The sixteen general-purpose registers, `rax` to `r15`, by name.
    pub fn gprs(&self) -> [(&'static str, u64); 16] {
        [
            ("rax", self.rax),
            ("rbx", self.rbx),
            ("rcx", self.rcx),
            ("rdx", self.rdx),
            ("rsi", self.rsi),
            ("rdi", self.rdi),
            ("rbp", self.rbp),
            ("rsp", self.rsp),
            ("r8", self.r8),
            ("r9", self.r9),
            ("r10", self.r10),
            ("r11", self.r11),
            ("r12", self.r12),
            ("r13", self.r13),
            ("r14", self.r14),
            ("r15", self.r15),
        ]
    }
}

/// The AArch64 `struct user_pt_regs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Aarch64Registers {
    /// `x0` to `x30` (`x29` is the frame pointer, `x30` the link register).
    pub x: [u64; 31],
    /// The stack pointer.
    pub sp: u64,
    /// The program counter.
    pub pc: u64,
    /// The processor state.
    pub pstate: u64,
}

impl Aarch64Registers {
    /// Number of 8-byte words in `user_pt_regs`.
    pub const WORDS: usize = 34;

    /// The registers from the words of `user_pt_regs`, in order.
    pub fn from_words(w: &[u64; Self::WORDS]) -> Self {
        let mut x = [0u64; 31];
        x.copy_from_slice(&w[..31]);
        Aarch64Registers {
            x,
            sp: w[31],
            pc: w[32],
            pstate: w[33],
        }
    }
}

/// The process: its `NT_PRPSINFO` note and its auxiliary vector.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcessInfo {
    /// The `NT_PRPSINFO` note, if the core has one (the kernel and
    /// `createdump` always write it).
    pub psinfo: Option<PsInfo>,
    /// The auxiliary vector (`NT_AUXV`): (`AT_*` type, value) pairs up to
    /// and without `AT_NULL`; empty if the core has none.
    pub auxv: Vec<(u64, u64)>,
}

impl ProcessInfo {
    /// `AT_PHDR`: where the executable's program headers are mapped.
    pub const AT_PHDR: u64 = 3;
    /// `AT_PAGESZ`: the system page size.
    pub const AT_PAGESZ: u64 = 6;
    /// `AT_BASE`: the dynamic loader's base address.
    pub const AT_BASE: u64 = 7;
    /// `AT_ENTRY`: the executable's entry point.
    pub const AT_ENTRY: u64 = 9;
    /// `AT_EXECFN`: address of the executable's path as passed to `execve`.
    pub const AT_EXECFN: u64 = 31;

    /// The process id, from `NT_PRPSINFO`.
    pub fn pid(&self) -> Option<u32> {
        self.psinfo.as_ref().map(|p| p.pid)
    }

    /// The parent process id, from `NT_PRPSINFO`.
    pub fn ppid(&self) -> Option<u32> {
        self.psinfo.as_ref().map(|p| p.ppid)
    }

    /// The command name (at most 15 bytes), from `NT_PRPSINFO`.
    pub fn name(&self) -> Option<&str> {
        self.psinfo.as_ref().map(|p| p.name.as_str())
    }

    /// The start of the command line (at most 79 bytes; empty when the
    /// dump writer left it out), from `NT_PRPSINFO`.
    pub fn args(&self) -> Option<&str> {
        self.psinfo.as_ref().map(|p| p.args.as_str())
    }

    /// The value of the first auxiliary vector entry of type `key`.
    pub fn auxv_value(&self, key: u64) -> Option<u64> {
        self.auxv.iter().find(|&&(k, _)| k == key).map(|&(_, v)| v)
    }
}

/// The process, from its `NT_PRPSINFO` note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PsInfo {
    /// The process id.
    pub pid: u32,
    /// The parent process's id.
    pub ppid: u32,
    /// The process group.
    pub pgrp: u32,
    /// The session id.
    pub sid: u32,
    /// The user id.
    pub uid: u32,
    /// The group id.
    pub gid: u32,
    /// `pr_sname`: the state as `ps` shows it (`R`, `S`, …), or NUL.
    pub state: u8,
    /// `pr_nice`.
    pub nice: i8,
    /// `pr_flag`: the kernel's process flags.
    pub flags: u64,
    /// `pr_fname`: the executable's name, at most 15 bytes (the kernel
    /// truncates it).
    pub name: String,
    /// `pr_psargs`: the start of the command line, at most 79 bytes, or
    /// empty (`createdump` leaves it empty).
    pub args: String,
}

/// One file mapping of the process, from the `NT_FILE` note.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MappedFile {
    /// First virtual address of the mapping.
    pub start: u64,
    /// One past its last address.
    pub end: u64,
    /// Offset in the file of the mapping's first byte (the note's page
    /// offset times its page size).
    pub file_offset: u64,
    /// The file's path as the kernel saw it (it may end in ` (deleted)`, or
    /// name a `memfd:`).
    pub path: String,
}

impl MappedFile {
    /// Length of the mapping in bytes.
    pub fn size(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// Reads little-endian words of one width from a note's descriptor,
/// reporting a short descriptor as a [`ElfCoreError::BadNote`].
pub(crate) struct Desc<'a> {
    pub bytes: &'a [u8],
    /// File offset of the descriptor.
    pub offset: u64,
    /// Note kind, for messages.
    pub what: &'static str,
}

impl Desc<'_> {
    fn bad(&self, at: usize, message: String) -> ElfCoreError {
        ElfCoreError::BadNote {
            offset: self.offset + at as u64,
            message: format!("{}: {message}", self.what),
        }
    }

    fn need(&self, len: usize) -> Result<(), ElfCoreError> {
        if self.bytes.len() < len {
            return Err(self.bad(
                0,
                format!(
                    "descriptor is {} bytes, at least {len} expected",
                    self.bytes.len()
                ),
            ));
        }
        Ok(())
    }

    fn u16(&self, at: usize) -> u16 {
        u16::from_le_bytes([self.bytes[at], self.bytes[at + 1]])
    }

    fn u32(&self, at: usize) -> u32 {
        let mut b = [0u8; 4];
        b.copy_from_slice(&self.bytes[at..at + 4]);
        u32::from_le_bytes(b)
    }

    fn u64(&self, at: usize) -> u64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&self.bytes[at..at + 8]);
        u64::from_le_bytes(b)
    }

    fn word(&self, at: usize, word: usize) -> u64 {
        if word == 8 {
            self.u64(at)
        } else {
            u64::from(self.u32(at))
        }
    }

    fn c_string(&self, at: usize, max: usize) -> String {
        let raw = &self.bytes[at..at + max];
        let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
        String::from_utf8_lossy(&raw[..end]).into_owned()
    }
}

/// Parses an `NT_PRSTATUS` descriptor of a process with `word`-byte
/// pointers (4 or 8).
pub(crate) fn parse_prstatus(
    d: &Desc<'_>,
    word: usize,
    machine: Machine,
) -> Result<Thread, ElfCoreError> {
    // struct elf_siginfo (3 ints) + short pr_cursig + padding, then
    // pr_sigpend and pr_sighold (unsigned long each).
    let pid_at = 16 + 2 * word;
    // pr_pid, pr_ppid, pr_pgrp, pr_sid, then four struct timeval (two longs).
    let reg_at = pid_at + 16 + 8 * word;
    // After pr_reg: int pr_fpvalid, padded to the struct's alignment.
    let trailer = word;
    d.need(reg_at + trailer)?;
    let reg_bytes = d.bytes.len() - reg_at - trailer;
    let words = |n: usize| -> Result<Vec<u64>, ElfCoreError> {
        if reg_bytes < n * word {
            return Err(d.bad(
                reg_at,
                format!(
                    "pr_reg has room for {} bytes, {} expected for {machine:?}",
                    reg_bytes,
                    n * word
                ),
            ));
        }
        Ok((0..n).map(|i| d.word(reg_at + i * word, word)).collect())
    };
    let registers = match machine {
        Machine::X86_64 => {
            let w = words(X86_64Registers::WORDS)?;
            let mut a = [0u64; X86_64Registers::WORDS];
            a.copy_from_slice(&w);
            Registers::X86_64(X86_64Registers::from_words(&a))
        }
        Machine::Aarch64 => {
            let w = words(Aarch64Registers::WORDS)?;
            let mut a = [0u64; Aarch64Registers::WORDS];
            a.copy_from_slice(&w);
            Registers::Aarch64(Aarch64Registers::from_words(&a))
        }
    };
    Ok(Thread {
        tid: d.u32(pid_at),
        ppid: d.u32(pid_at + 4),
        pgrp: d.u32(pid_at + 8),
        sid: d.u32(pid_at + 12),
        signal: d.u16(12),
        registers,
    })
}

/// Parses an `NT_PRPSINFO` descriptor.
pub(crate) fn parse_prpsinfo(d: &Desc<'_>, word: usize) -> Result<PsInfo, ElfCoreError> {
    // char pr_state, pr_sname, pr_zomb, pr_nice; unsigned long pr_flag;
    // uid and gid (unsigned int on 64-bit, unsigned short on 32-bit
    // x86 and Arm); pid_t pr_pid, pr_ppid, pr_pgrp, pr_sid;
    // char pr_fname[16], pr_psargs[80].
    let flag_at = word;
    let (uid, gid, pid_at) = if word == 8 {
        d.need(136)?;
        (d.u32(16), d.u32(20), 24)
    } else {
        d.need(124)?;
        (u32::from(d.u16(8)), u32::from(d.u16(10)), 12)
    };
    Ok(PsInfo {
        pid: d.u32(pid_at),
        ppid: d.u32(pid_at + 4),
        pgrp: d.u32(pid_at + 8),
        sid: d.u32(pid_at + 12),
        uid,
        gid,
        state: d.bytes[1],
        nice: d.bytes[3] as i8,
        flags: d.word(flag_at, word),
        name: d.c_string(pid_at + 16, 16),
        args: d.c_string(pid_at + 32, 80),
    })
}

/// Parses an `NT_FILE` descriptor: a count, a page size, `count` triples
/// (start, end, page offset), then `count` NUL-terminated paths.
pub(crate) fn parse_nt_file(d: &Desc<'_>, word: usize) -> Result<Vec<MappedFile>, ElfCoreError> {
    d.need(2 * word)?;
    let count = d.word(0, word);
    let page_size = d.word(word, word);
    let table_at = 2 * word;
    let room = (d.bytes.len() - table_at) / (3 * word);
    if count > room as u64 {
        return Err(d.bad(
            0,
            format!("claims {count} mappings but the descriptor has room for at most {room}"),
        ));
    }
    let count = count as usize;
    let mut names = d.bytes[table_at + count * 3 * word..].split(|&b| b == 0);
    let mut files = Vec::with_capacity(count);
    for i in 0..count {
        let at = table_at + i * 3 * word;
        let start = d.word(at, word);
        let end = d.word(at + word, word);
        let page = d.word(at + 2 * word, word);
        if end < start {
            return Err(d.bad(
                at,
                format!("mapping {i} ends ({end:#x}) before it starts ({start:#x})"),
            ));
        }
        let file_offset = page.checked_mul(page_size).ok_or_else(|| {
            d.bad(
                at,
                format!("mapping {i}: page offset {page:#x} times page size {page_size} overflows"),
            )
        })?;
        let Some(name) = names.next() else {
            return Err(d.bad(0, format!("{count} mappings but only {i} paths")));
        };
        files.push(MappedFile {
            start,
            end,
            file_offset,
            path: String::from_utf8_lossy(name).into_owned(),
        });
    }
    // The last path must be NUL-terminated: `split` yields a final piece
    // after the last NUL, so a missing terminator leaves no piece.
    if count > 0 && names.next().is_none() {
        return Err(d.bad(d.bytes.len(), "the last path is not NUL-terminated".into()));
    }
    Ok(files)
}

/// Parses an `NT_AUXV` descriptor into (type, value) pairs, up to and
/// without the terminating `AT_NULL`.
pub(crate) fn parse_auxv(d: &Desc<'_>, word: usize) -> Vec<(u64, u64)> {
    d.bytes
        .chunks_exact(2 * word)
        .map(|c| {
            let pair = Desc {
                bytes: c,
                offset: 0,
                what: "",
            };
            (pair.word(0, word), pair.word(word, word))
        })
        .take_while(|&(key, _)| key != 0)
        .collect()
}
