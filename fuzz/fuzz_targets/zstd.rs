//! zstd files: frame headers (windows, content sizes, skippable frames),
//! frames decoded into bounded memory, their checksums.
#![no_main]

use heaplens_archive::{zstd, MemoryScratch};
use heaplens_graph::NoProgress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let src = data.to_vec();
    let _ = zstd::head(&src, 64);
    let mut scratch = MemoryScratch::new(16 << 20);
    let _ = zstd::inflate(&src, &mut scratch, &mut NoProgress);
});
