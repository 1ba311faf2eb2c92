//! gzip files: headers (the recorded file name), members, and their
//! content unpacked into bounded memory.
#![no_main]

use heaplens_archive::{gzip, MemoryScratch};
use heaplens_graph::NoProgress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let src = data.to_vec();
    let _ = gzip::file_name(&src);
    let _ = gzip::head(&src, 64);
    let mut scratch = MemoryScratch::new(16 << 20);
    let _ = gzip::inflate(&src, &mut scratch, &mut NoProgress);
});
