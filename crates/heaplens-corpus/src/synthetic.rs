//! Small synthetic inputs built byte by byte.

/// A little-endian x86-64 ELF core (`ET_CORE`) with one program header: a
/// read-write `PT_LOAD` of one page at `0x1000` whose file data is `data`
/// (the rest of the page is not in the file), and nothing else.
pub fn tiny_elf_core(data: &[u8]) -> Vec<u8> {
    let mut core = vec![0u8; 64 + 56];
    core[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
    let mut put = |at: usize, v: u64, n: usize| {
        core[at..at + n].copy_from_slice(&v.to_le_bytes()[..n]);
    };
    put(16, 4, 2); // e_type ET_CORE
    put(18, 62, 2); // e_machine EM_X86_64
    put(20, 1, 4); // e_version
    put(32, 64, 8); // e_phoff
    put(52, 64, 2); // e_ehsize
    put(54, 56, 2); // e_phentsize
    put(56, 1, 2); // e_phnum
    put(64, 1, 4); // p_type PT_LOAD
    put(68, 6, 4); // p_flags RW
    put(72, 120, 8); // p_offset
    put(80, 0x1000, 8); // p_vaddr
    put(96, data.len() as u64, 8); // p_filesz
    put(104, 0x1000, 8); // p_memsz
    core.extend_from_slice(data);
    core
}
