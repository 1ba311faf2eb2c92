//! A Linux core as the CLR reader's [`Target`].

use crate::format::{Context, Format, Source};
use crate::OpenError;
use crate::{Snapshot, SnapshotInfo};
use heaplens_bytes::ReadAt;
use heaplens_clr::{ClrInfo, SymbolSource, Target, TargetModule, TargetThread};
use heaplens_elfcore::ElfCore;
use heaplens_memory::AddressSpace;

/// Symbol lookup in the core's modules (their dynamic symbol tables, read
/// from the process's memory).
pub struct ElfSymbols<'a, R>(pub &'a ElfCore<R>);

impl<R: ReadAt> SymbolSource for ElfSymbols<'_, R> {
    fn find_symbol(&self, module: &TargetModule, name: &str) -> Option<u64> {
        let m = self.0.modules().iter().find(|m| m.path == module.path)?;
        self.0.find_symbol(m, name)
    }
}

/// The process in `core`, as the CLR reader sees it.
pub fn target<'a, R: ReadAt>(core: &'a ElfCore<R>, symbols: &'a ElfSymbols<'a, R>) -> Target<'a> {
    Target {
        memory: core.memory(),
        modules: core
            .modules()
            .iter()
            .map(|m| TargetModule {
                path: m.path.clone(),
                start: m.start,
                end: m.end,
                header_addresses: m.header_addresses().collect(),
                ranges: m.mappings.iter().map(|f| (f.start, f.end)).collect(),
                version: None,
            })
            .collect(),
        threads: core
            .threads()
            .iter()
            .map(|t| TargetThread {
                id: t.tid,
                registers: t
                    .registers
                    .general_purpose()
                    .into_iter()
                    .map(|(_, v)| v)
                    .collect(),
                stack_pointer: t.stack_pointer(),
                // The core records no stack ranges: found from the process
                // (the C library's thread descriptor, the initial stack).
                stack_end: core.stack_end(t).map(|s| s.end),
                thread_local: core.thread_local_storage(t),
            })
            .collect(),
        symbols,
        module_files: None,
        shared_memory: None,
    }
}

/// The kind of dump, as error messages name it.
pub(crate) const WHAT: &str = "Linux core dump";

/// Opens a Linux core: the core's notes and memory map
/// ([`heaplens_elfcore`]), then the CLR heap in it ([`heaplens_clr::read`]).
pub(crate) fn open(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<Snapshot, OpenError> {
    match src {
        Source::Local(src) => open_core(format, &ElfCore::open(src)?, None, cx),
        // Threads can share the memory (a file read natively): the heap is
        // walked on two threads.
        Source::Shared(src) => {
            let core = ElfCore::open(src)?;
            open_core(format, &core, Some(core.memory()), cx)
        }
    }
}

fn open_core<R: ReadAt>(
    format: &'static Format,
    core: &ElfCore<R>,
    shared_memory: Option<&(dyn AddressSpace + Sync)>,
    cx: &mut Context<'_>,
) -> Result<Snapshot, OpenError> {
    let ((graph, contents), info) = read_core(format, core, shared_memory, cx, |target, cx| {
        let heap = crate::read_clr_in(target, cx, WHAT)?;
        Ok(((heap.graph, heap.contents), heap.info))
    })?;
    let info = SnapshotInfo {
        contents: Some(crate::ContentsIndex::new(core.memory(), contents)),
        ..info
    };
    Ok(Snapshot { graph, info })
}

/// Counts a Linux core's objects per type without the graph
/// ([`heaplens_clr::count_with`]).
pub(crate) fn count(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<crate::HeapCounts, OpenError> {
    let core = ElfCore::open(src.bytes())?;
    let (types, info) = read_core(format, &core, None, cx, |target, cx| {
        let counts = crate::count_clr(target, cx.progress, WHAT)?;
        Ok((counts.types, counts.info))
    })?;
    Ok(crate::HeapCounts { types, info })
}

/// Reads the CLR heap of `core` with `read` (the full read or the count),
/// given the core as its target (the module files `cx` gives; threads
/// share `shared_memory` when given): what `read` gives, and the snapshot
/// info of the runtime it learned, with the core's process and the file's
/// coverage (an error of a file cut short says so).
fn read_core<R: ReadAt, T>(
    format: &'static Format,
    core: &ElfCore<R>,
    shared_memory: Option<&(dyn AddressSpace + Sync)>,
    cx: &mut Context<'_>,
    read: impl FnOnce(&Target<'_>, &mut Context<'_>) -> Result<(T, ClrInfo), OpenError>,
) -> Result<(T, SnapshotInfo), OpenError> {
    let memory = core.memory();
    let file = (
        memory.source().len(),
        memory.described_len(),
        memory.missing_bytes(),
    );
    let symbols = ElfSymbols(core);
    let target = target(core, &symbols);
    let (read, clr) = crate::read_target(format, target, shared_memory, file, cx, read)?;
    let info = SnapshotInfo {
        pointer_size: Some(core.pointer_size() as u8),
        process_name: process_name(core),
        process_id: core.process().pid(),
        ..clr
    };
    Ok((read, info))
}

/// The process's name: `NT_PRPSINFO`'s, else the executable's file name.
pub(crate) fn process_name<R: ReadAt>(core: &ElfCore<R>) -> Option<String> {
    core.process()
        .name()
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .or_else(|| core.executable().map(|m| m.file_name().to_owned()))
}
