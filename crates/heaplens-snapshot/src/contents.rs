//! Object contents of a snapshot: what it keeps after opening to read its
//! objects later — the dump's memory map (where each range of the process
//! is in the file) and the CLR reader's type data and metadata, never the
//! dump's bytes — and the reader over the same bytes, read again through
//! the caller's `ReadAt` (its page cache) when asked.
//!
//! Memory: the map is one entry (48 bytes) per memory range of the dump
//! (hundreds for a core, up to tens of thousands for a minidump); the CLR
//! part is the modules' metadata (a few MB, CoreLib's about 3) and a few
//! words per MethodTable ([`ContentsIndex::memory_bytes`]). Readers keep the
//! layouts they computed (a few KB per type read) and nothing else.

use crate::Snapshot;
use heaplens_bytes::ReadAt;
use heaplens_clr::contents::{ClrContents, ClrReader};
use heaplens_contents::ContentsError;
use heaplens_memory::{AddressSpace, MappedRange, MemoryMap, Unbacked};
use std::sync::Arc;

/// What a snapshot of process memory keeps to read its objects' contents.
#[derive(Debug, Clone)]
pub struct ContentsIndex {
    clr: Arc<ClrContents>,
    ranges: Arc<Vec<MappedRange>>,
    pointer_size: usize,
    unbacked: Unbacked,
    file_bytes: u64,
}

impl ContentsIndex {
    /// The index of a dump whose memory map is `memory` and whose CLR heap
    /// read kept `clr`.
    pub(crate) fn new<R: ReadAt>(memory: &MemoryMap<R>, clr: ClrContents) -> ContentsIndex {
        ContentsIndex {
            clr: Arc::new(clr),
            ranges: Arc::new(memory.mapped_ranges()),
            pointer_size: memory.pointer_size(),
            unbacked: memory.unbacked(),
            file_bytes: memory.source().len(),
        }
    }

    /// Bytes it keeps (the memory map, the metadata, the type data).
    pub fn memory_bytes(&self) -> usize {
        self.ranges.len() * std::mem::size_of::<MappedRange>() + self.clr.memory_bytes()
    }

    /// What contents reading calibrated on the dump.
    pub fn report(&self) -> &heaplens_clr::contents::ContentsReport {
        &self.clr.report
    }
}

/// Why a `.gcdump` has no contents, in words.
pub const NO_CONTENTS_GCDUMP: &str = "this input holds no object contents: a .gcdump records each \
     object's type, size and references, never the values of its fields. Take a core or a \
     minidump of the process (dotnet-dump collect, createdump, procdump) to see values";

impl Snapshot {
    /// A reader of this snapshot's objects over `src`, the bytes the
    /// snapshot was read from (the same file, through any `ReadAt`: the
    /// CLI's file, the page's File API slices). Fails for inputs without
    /// contents ([`heaplens_graph::Capabilities::object_contents`] false:
    /// a `.gcdump`) and when `src` is not the file the snapshot was read
    /// from (its length differs, or the objects' MethodTables are not at
    /// their addresses in it).
    pub fn object_reader<'a>(
        &'a self,
        src: &'a dyn ReadAt,
    ) -> Result<ClrReader<'a>, ContentsError> {
        let Some(index) = &self.info.contents else {
            return Err(ContentsError::NoContents(
                if self.info.capabilities.object_contents {
                    "the dump's runtime data could not be read: no object contents".into()
                } else {
                    NO_CONTENTS_GCDUMP.into()
                },
            ));
        };
        if src.len() != index.file_bytes {
            return Err(ContentsError::NoContents(format!(
                "the file given ({} bytes) is not the one this snapshot was read from ({} bytes)",
                src.len(),
                index.file_bytes
            )));
        }
        let memory = MemoryMap::new(src, index.pointer_size, &index.ranges)
            .map_err(|e| ContentsError::NoContents(format!("the dump's memory map: {e}")))?
            .with_unbacked(index.unbacked);
        check_same_dump(&memory, self)?;
        Ok(index.clr.reader(Box::new(memory), &self.graph))
    }
}

/// Checks that a few objects' MethodTables are at their addresses in
/// `memory`: the bytes are the snapshot's.
fn check_same_dump(memory: &dyn AddressSpace, snap: &Snapshot) -> Result<(), ContentsError> {
    let g = &snap.graph;
    let n = g.node_count();
    for i in [0, n / 3, n / 2, 2 * n / 3, n.saturating_sub(1)] {
        if i >= n {
            continue;
        }
        let node = i as u32;
        let mt = g.type_info(g.node_type(node)).method_table;
        let addr = g.node_address(node);
        if mt == 0 || addr == 0 {
            continue;
        }
        let (got, tag) = match memory.pointer_size() {
            4 => (
                memory.read_u32(addr).map(u64::from),
                heaplens_clr::PointerSize::Four.method_table_tag(),
            ),
            _ => (
                memory.read_u64(addr),
                heaplens_clr::PointerSize::Eight.method_table_tag(),
            ),
        };
        match got {
            // A 32-bit MethodTable is 4-byte aligned: only its two low
            // bits are the GC's.
            Ok(v) if v & !tag == mt => {}
            // Bytes a partial dump lacks prove nothing.
            Err(_) => {}
            Ok(v) => {
                return Err(ContentsError::NoContents(format!(
                    "the file given is not the one this snapshot was read from (the object at \
                     {addr:#x} has MethodTable {:#x} there, {mt:#x} in the snapshot)",
                    v & !tag
                )))
            }
        }
    }
    Ok(())
}
