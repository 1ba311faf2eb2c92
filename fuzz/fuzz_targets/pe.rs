//! PE images as they sit in process memory (loaded or flat): headers,
//! sections, exports, resources and the version resource, the debug
//! directory and CodeView, the CLI header and the metadata it points at.
#![no_main]

use heaplens_memory::{MappedRange, MemoryMap, Region};
use libfuzzer_sys::fuzz_target;

const BASE: u64 = 0x1_8000_0000;

fuzz_target!(|data: &[u8]| {
    let size = data.len() as u64;
    let range = MappedRange {
        region: Region {
            start: BASE,
            size,
            data_size: size,
            protection: None,
        },
        file_offset: 0,
    };
    let Ok(mem) = MemoryMap::new(data, 8, &[range]) else {
        return;
    };
    let Ok(image) = heaplens_pe::PeImage::detect(&mem, BASE) else {
        return;
    };
    let _ = image.exports();
    let _ = image.find_export("g_dacTable");
    let _ = image.version_info();
    let _ = image.codeview();
    if let Ok(Some(_)) = image.cli_header() {
        if let Ok(md) = heaplens_metadata::Metadata::read_from(&image) {
            std::hint::black_box(md.type_def_count());
        }
    }
});
