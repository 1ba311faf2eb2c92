//! A `.gcdump` ([`heaplens_gcdump`]) as a snapshot.

use crate::format::{Context, Format, Source};
use crate::{OpenError, Snapshot, SnapshotInfo};
use heaplens_gcdump::GcDump;

/// Reads a `.gcdump` into a snapshot.
pub(crate) fn open(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<Snapshot, OpenError> {
    let dump = heaplens_gcdump::read(src.bytes(), cx.progress)?;
    let mut info = info(format, &dump);
    // Read whole or not at all (one cut short is an error).
    info.coverage = crate::Coverage::whole_file(src.bytes().len());
    Ok(Snapshot {
        graph: dump.graph,
        info,
    })
}

/// What the `.gcdump` records about the process, with notes on sampling
/// and nodes never written.
pub(crate) fn info(format: &'static Format, dump: &GcDump) -> SnapshotInfo {
    let mut notes = Vec::new();
    if let Some(s) = &dump.sampling {
        notes.push(format!(
            "This heap was sampled by PerfView: counts and sizes are scaled by per-type \
             multipliers (mean count multiplier {:.2}, mean size multiplier {:.2}); \
             counts are estimates.",
            s.average_count_multiplier, s.average_size_multiplier
        ));
    }
    if dump.undefined_nodes > 0 {
        notes.push(format!(
            "{} node(s) are referenced but were never written (UNDEFINED).",
            dump.undefined_nodes
        ));
    }
    SnapshotInfo {
        pointer_size: dump.pointer_size,
        process_name: dump.process_name.clone(),
        process_id: dump.process_id,
        machine_name: dump.machine_name.clone(),
        dump_time: dump
            .time_collected_ticks
            .filter(|&t| t > 0)
            .map(crate::Timestamp::LocalTicks),
        creation_tool: dump.creation_tool.clone(),
        sampling: dump.sampling.clone(),
        notes,
        ..SnapshotInfo::new(format)
    }
}
