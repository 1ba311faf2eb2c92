//! Zip archives: the end records and directory (zip64 included, through
//! the `zip` crate), every entry's first bytes, a stored entry's range and
//! a deflated entry unpacked into bounded memory (what claims more is
//! refused before inflating).
#![no_main]

use heaplens_archive::zip::{Method, ZipReader};
use heaplens_archive::MemoryScratch;
use heaplens_graph::NoProgress;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let src = data.to_vec();
    let Ok(mut zip) = ZipReader::open(&src) else {
        return;
    };
    let entries = zip.entries().to_vec();
    for (i, e) in entries.iter().enumerate().take(32) {
        let _ = zip.head(i, 64);
        match e.method {
            Method::Stored => {
                if let Ok((start, len)) = zip.stored_range(i) {
                    assert!(start + len <= data.len() as u64);
                }
            }
            _ => {
                // Room for 16 MiB: a claim beyond it is refused unread.
                let mut scratch = MemoryScratch::new(16 << 20);
                if let Ok(u) = zip.inflate(i, &mut scratch, &mut NoProgress) {
                    assert_eq!(u.inflated_bytes, e.size);
                }
            }
        }
    }
});
