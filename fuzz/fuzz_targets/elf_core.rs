//! Linux ELF cores: program headers, notes (NT_FILE, NT_PRSTATUS,
//! NT_PRPSINFO), memory reads and the in-memory ELF images of the modules
//! (dynamic symbols, GNU/SysV hash tables).
#![no_main]

use heaplens_elfcore::ElfCore;
use heaplens_memory::AddressSpace;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(core) = ElfCore::open(data.to_vec()) else {
        return;
    };
    std::hint::black_box((core.threads().len(), core.process(), core.coverage()));
    let mut buf = [0u8; 64];
    for r in core.memory().regions().iter().take(16) {
        let _ = core.memory().read_virtual(r.start, &mut buf);
    }
    for m in core.modules().iter().take(4) {
        if let Ok(image) = core.module_image(m) {
            std::hint::black_box(image.find_symbol("g_dacTable"));
        }
        std::hint::black_box(core.find_symbol(m, "DotNetRuntimeInfo"));
    }
});
