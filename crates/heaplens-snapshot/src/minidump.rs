//! A Windows minidump as the CLR reader's [`Target`].

use crate::format::{Context, Format, Source};
use crate::OpenError;
use crate::{Snapshot, SnapshotInfo};
use heaplens_bytes::ReadAt;
use heaplens_clr::{ClrInfo, SymbolSource, Target, TargetModule, TargetThread};
use heaplens_memory::AddressSpace;
use heaplens_minidump::Minidump;
use heaplens_pe::PeImage;

/// Symbol lookup in the dump's modules: the export tables of their PE
/// images, read from the process's memory (`g_dacTable` in
/// `coreclr.dll`).
pub struct PeSymbols<'a, R>(pub &'a Minidump<R>);

impl<R: ReadAt> SymbolSource for PeSymbols<'_, R> {
    fn find_symbol(&self, module: &TargetModule, name: &str) -> Option<u64> {
        let image = PeImage::detect(self.0.memory(), module.start).ok()?;
        image.find_export(name).ok().flatten()
    }
}

/// The process in `dump`, as the CLR reader sees it: modules from the
/// module list (one range each, `[base, base + SizeOfImage)`, with the
/// list's file version), threads
/// from the thread list (the context's general-purpose registers; the
/// stack ends where the thread's stack descriptor ends, at the stack's
/// base; a thread without a context is scanned over its whole stack).
pub fn target<'a, R: ReadAt>(dump: &'a Minidump<R>, symbols: &'a PeSymbols<'a, R>) -> Target<'a> {
    Target {
        memory: dump.memory(),
        modules: dump
            .modules()
            .iter()
            .map(|m| TargetModule {
                path: m.path.clone(),
                start: m.base,
                end: m.end(),
                header_addresses: vec![m.base],
                ranges: vec![(m.base, m.end())],
                version: m.version.clone(),
            })
            .collect(),
        threads: dump
            .threads()
            .iter()
            .filter_map(|t| {
                // Without a context, the stack the dump holds is scanned
                // whole.
                let (registers, stack_pointer) = match &t.context {
                    Some(c) => (
                        c.general_purpose.iter().map(|&(_, v)| v).collect(),
                        c.stack_pointer,
                    ),
                    None => (Vec::new(), t.stack?.0),
                };
                Some(TargetThread {
                    id: t.id,
                    registers,
                    stack_pointer,
                    stack_end: t.stack.map(|(_, end)| end),
                    thread_local: Vec::new(),
                })
            })
            .collect(),
        symbols,
        module_files: None,
        shared_memory: None,
    }
}

/// Where the data a minidump's directory describes ends: its streams and
/// the memory its memory lists place in the file.
pub(crate) fn described_len<R: ReadAt>(dump: &Minidump<R>) -> u64 {
    dump.streams()
        .iter()
        .filter(|e| e.stream_type != heaplens_minidump::stream_type::UNUSED)
        .map(|e| e.rva.saturating_add(u64::from(e.size)))
        .chain([dump.memory().described_len()])
        .max()
        .unwrap_or(0)
}

/// The kind of dump, as error messages name it.
pub(crate) const WHAT: &str = "Windows minidump";

/// Opens a Windows minidump: its streams and memory map
/// ([`heaplens_minidump`]), then the CLR heap in it
/// ([`heaplens_clr::read`]). `modules` name the types of modules whose
/// images the dump lacks (a heap-only dump).
pub(crate) fn open(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<Snapshot, OpenError> {
    match src {
        Source::Local(src) => open_dump(format, &Minidump::open(src)?, None, cx),
        // Threads can share the memory (a file read natively): the heap is
        // walked on two threads.
        Source::Shared(src) => {
            let dump = Minidump::open(src)?;
            open_dump(format, &dump, Some(dump.memory()), cx)
        }
    }
}

fn open_dump<R: ReadAt>(
    format: &'static Format,
    dump: &Minidump<R>,
    shared_memory: Option<&(dyn AddressSpace + Sync)>,
    cx: &mut Context<'_>,
) -> Result<Snapshot, OpenError> {
    let ((graph, contents), info) = read_dump(format, dump, shared_memory, cx, |target, cx| {
        let heap = crate::read_clr_in(target, cx, WHAT)?;
        Ok(((heap.graph, heap.contents), heap.info))
    })?;
    let info = SnapshotInfo {
        contents: Some(crate::ContentsIndex::new(dump.memory(), contents)),
        ..info
    };
    Ok(Snapshot { graph, info })
}

/// Counts a Windows minidump's objects per type without the graph
/// ([`heaplens_clr::count_with`]).
pub(crate) fn count(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<crate::HeapCounts, OpenError> {
    let dump = Minidump::open(src.bytes())?;
    let (types, info) = read_dump(format, &dump, None, cx, |target, cx| {
        let counts = crate::count_clr(target, cx.progress, WHAT)?;
        Ok((counts.types, counts.info))
    })?;
    Ok(crate::HeapCounts { types, info })
}

/// Reads the CLR heap of `dump` with `read` (the full read or the count),
/// given the dump as its target (the module files `cx` gives; threads
/// share `shared_memory` when given): what `read` gives, and the snapshot
/// info of the runtime it learned, with the dump's process and time and
/// the file's coverage (an error of a file cut short says so).
fn read_dump<R: ReadAt, T>(
    format: &'static Format,
    dump: &Minidump<R>,
    shared_memory: Option<&(dyn AddressSpace + Sync)>,
    cx: &mut Context<'_>,
    read: impl FnOnce(&Target<'_>, &mut Context<'_>) -> Result<(T, ClrInfo), OpenError>,
) -> Result<(T, SnapshotInfo), OpenError> {
    let memory = dump.memory();
    let file = (
        memory.source().len(),
        described_len(dump),
        memory.missing_bytes(),
    );
    let symbols = PeSymbols(dump);
    let target = target(dump, &symbols);
    let (read, clr) = crate::read_target(format, target, shared_memory, file, cx, read)?;
    let info = SnapshotInfo {
        pointer_size: Some(dump.pointer_size() as u8),
        process_name: dump.modules().first().map(|m| m.file_name().to_owned()),
        process_id: dump.process().process_id,
        dump_time: dump_time(dump),
        ..clr
    };
    Ok((read, info))
}

/// When the dump was written: its header's `TimeDateStamp` (UTC), `None`
/// when the writer left it 0.
pub(crate) fn dump_time<R: ReadAt>(dump: &Minidump<R>) -> Option<crate::Timestamp> {
    let t = dump.header().time_date_stamp;
    (t != 0).then(|| crate::Timestamp::Unix(u64::from(t)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_minidump::MinidumpError;

    #[test]
    fn errors_are_typed() {
        let mut head = b"MDMP\x93\xa7\x00\x00".to_vec();
        head.resize(32, 0);
        let e = crate::open(&head, &mut heaplens_graph::NoProgress).unwrap_err();
        assert!(matches!(e, OpenError::NoRuntime { .. }), "{e:?}");
        assert!(e.to_string().contains("Windows minidump"), "{e}");
        head[4] = 0x94;
        let e = crate::open(&head, &mut heaplens_graph::NoProgress).unwrap_err();
        assert!(
            matches!(
                e,
                OpenError::Minidump(MinidumpError::UnsupportedVersion { .. })
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("0xa794"), "{e}");
    }
}
