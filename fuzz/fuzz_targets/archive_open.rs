//! Any input through the registry with archives unwrapped: a zip's entries
//! sniffed for a dump, gzip and zstd layers nested up to the limit, each
//! unpacked into bounded memory, then the dump inside opened.
#![no_main]

use heaplens_archive::MemoryScratch;
use heaplens_graph::NoProgress;
use heaplens_snapshot::format::Source;
use heaplens_snapshot::modules::ModuleSet;
use heaplens_snapshot::Context;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let src = data.to_vec();
    let modules = ModuleSet::new();
    let mut progress = NoProgress;
    let mut scratch = MemoryScratch::new(32 << 20);
    let mut cx = Context::new(&modules, &mut progress).with_scratch(&mut scratch);
    let _ = heaplens_snapshot::open_in(Source::Local(&src), &mut cx);
});
