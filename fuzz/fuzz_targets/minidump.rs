//! Windows minidumps: the header and stream directory, the small streams
//! (through the `minidump` crate), Memory64List/MemoryList and memory
//! reads.
#![no_main]

use heaplens_memory::AddressSpace;
use heaplens_minidump::Minidump;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dump) = Minidump::open(data.to_vec()) else {
        return;
    };
    std::hint::black_box((
        dump.modules().len(),
        dump.threads().len(),
        dump.memory_info().len(),
        dump.coverage(),
        dump.memory_kinds(),
        dump.problems().len(),
    ));
    let mut buf = [0u8; 64];
    for r in dump.memory().regions().iter().take(64) {
        let _ = dump.memory().read_virtual(r.start, &mut buf);
    }
});
