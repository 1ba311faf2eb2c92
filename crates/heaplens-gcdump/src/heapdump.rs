//! The `GCHeapDump` entry object and everything around the graph.

use crate::error::{ErrorKind, GcdumpError};
use crate::memory_graph::read_memory_graph;
use crate::serializer::{tag, Deserializer};
use heaplens_bytes::ReadAt;
use heaplens_graph::{InputFormat, Progress, Sampling, Snapshot, SnapshotInfo};

/// A GC heap segment recorded by PerfView (`GCHeapDumpSegment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment {
    /// First address.
    pub start: u64,
    /// Address past the end.
    pub end: u64,
    /// End of each generation's range: gen 0 to 3, and gen 4 if the file has it.
    pub gen_end: [u64; 5],
    /// False for version-0 segments, which have no gen-4 end.
    pub has_gen4: bool,
}

/// Sizes of the COM interop tables (PerfView's `InteropInfo`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InteropSummary {
    /// Runtime-callable wrappers.
    pub rcws: u32,
    /// COM-callable wrappers.
    pub ccws: u32,
    /// COM interfaces.
    pub interfaces: u32,
    /// Native modules listed.
    pub modules: u32,
}

/// A `.gcdump` as read: the snapshot and the format's own extras.
#[derive(Debug, Clone)]
pub struct GcDump {
    /// The heap graph and its metadata.
    pub snapshot: Snapshot,
    /// `GCHeapDump` version in the file.
    pub version: i32,
    /// Nodes referenced but never defined (type `UNDEFINED`).
    pub undefined_nodes: usize,
    /// Total size of the GC segments, when recorded.
    pub size_of_all_segments: Option<i64>,
    /// GC segments, when recorded (PerfView).
    pub segments: Vec<Segment>,
    /// COM interop summary, when recorded.
    pub interop: Option<InteropSummary>,
    /// PerfView's collection log, when recorded.
    pub collection_log: Option<String>,
    /// Process commit in bytes, when recorded.
    pub total_process_commit: Option<i64>,
    /// Process working set in bytes, when recorded.
    pub total_process_working_set: Option<i64>,
}

/// Reads a `.gcdump`.
pub fn read(src: &dyn ReadAt, progress: &mut dyn Progress) -> Result<GcDump, GcdumpError> {
    let mut d = Deserializer::new(src)?;
    let at = d.pos();
    let Some(def) = d.begin_typed("GCHeapDump")? else {
        return Err(d.err_at(
            at,
            ErrorKind::Invalid("the file holds no GCHeapDump object".into()),
        ));
    };
    if def.version < 4 || def.version == 8 {
        return Err(d.err_at(
            at,
            ErrorKind::UnsupportedVersion {
                what: "GCHeapDump",
                version: def.version,
            },
        ));
    }
    d.enter()?;
    let graph_at = d.pos();
    let mut graph = read_memory_graph(&mut d, progress)?.ok_or_else(|| {
        GcdumpError::new(
            graph_at,
            ErrorKind::Invalid("the GCHeapDump has no MemoryGraph".into()),
        )
    })?;
    let mut info = SnapshotInfo {
        format: Some(InputFormat::GcDump),
        pointer_size: Some(if graph.is_64bit { 8 } else { 4 }),
        ..SnapshotInfo::default()
    };
    let mut dump = GcDump {
        snapshot: Snapshot::default(),
        version: def.version,
        undefined_nodes: graph.undefined_nodes,
        size_of_all_segments: None,
        segments: Vec::new(),
        interop: None,
        collection_log: None,
        total_process_commit: None,
        total_process_working_set: None,
    };
    if def.version >= 9 {
        read_v9_fields(&mut d, &mut info, &mut dump, graph.type_count)?;
    } else {
        read_old_fields(&mut d, &mut info, &mut dump, def.version)?;
    }
    d.leave()?;
    if let Some(s) = &info.sampling {
        info.notes.push(format!(
            "This heap was sampled by PerfView: counts and sizes are scaled by per-type \
             multipliers (mean count multiplier {:.2}, mean size multiplier {:.2}); \
             counts are estimates.",
            s.average_count_multiplier, s.average_size_multiplier
        ));
    }
    if dump.undefined_nodes > 0 {
        info.notes.push(format!(
            "{} node(s) are referenced but were never written (UNDEFINED).",
            dump.undefined_nodes
        ));
    }
    dump.snapshot = Snapshot {
        graph: std::mem::take(&mut graph.graph),
        info,
    };
    Ok(dump)
}

fn none_if_zero(v: i64) -> Option<i64> {
    (v != 0).then_some(v)
}

fn read_v9_fields(
    d: &mut Deserializer<'_>,
    info: &mut SnapshotInfo,
    dump: &mut GcDump,
    type_count: usize,
) -> Result<(), GcdumpError> {
    d.bool("legacy Is64Bit")?;
    let avg_count = d.f32("average count multiplier")?;
    let avg_size = d.f32("average size multiplier")?;
    // JSHeapInfo: an object with no fields.
    if d.begin_typed("JSHeapInfo")?.is_some() {
        d.enter()?;
        d.leave()?;
    }
    read_dotnet_heap_info(d, dump)?;
    dump.collection_log = d.string("collection log")?;
    info.time_collected_ticks = none_if_zero(d.i64("time collected")?);
    info.machine_name = d.string("machine name")?;
    info.process_name = d.string("process name")?;
    let pid = d.i32("process id")?;
    info.process_id = (pid != 0).then_some(pid as u32);
    dump.total_process_commit = none_if_zero(d.i64("process commit")?);
    dump.total_process_working_set = none_if_zero(d.i64("process working set")?);
    let at = d.pos();
    let n = d.count("count multiplier", 4)?;
    if n > 0 {
        if n > type_count {
            return Err(d.err_at(
                at,
                ErrorKind::BadCount {
                    what: "count multiplier",
                    count: n as i64,
                    limit: type_count as u64,
                },
            ));
        }
        let mut m = Vec::with_capacity(n);
        for _ in 0..n {
            m.push(d.f32("count multiplier")?);
        }
        info.sampling = Some(Sampling {
            count_multipliers: m,
            average_count_multiplier: avg_count,
            average_size_multiplier: avg_size,
        });
    }
    if d.try_tag(tag::SKIP_REGION)? {
        d.i32("InteropInfo region index")?;
        dump.interop = read_interop(d)?;
    }
    if d.try_tag(tag::STRING)? {
        info.creation_tool = d.string("creation tool")?;
    }
    Ok(())
}

fn read_old_fields(
    d: &mut Deserializer<'_>,
    info: &mut SnapshotInfo,
    dump: &mut GcDump,
    version: i32,
) -> Result<(), GcdumpError> {
    dump.size_of_all_segments = Some(d.i64("size of all segments")?);
    d.i64("size of dumped objects")?;
    d.i64("number of dumped objects")?;
    d.bool("all objects dumped")?;
    if version >= 5 {
        dump.collection_log = d.string("collection log")?;
        info.time_collected_ticks = none_if_zero(d.i64("time collected")?);
        info.machine_name = d.string("machine name")?;
        info.process_name = d.string("process name")?;
        let pid = d.i32("process id")?;
        info.process_id = (pid != 0).then_some(pid as u32);
        dump.total_process_commit = none_if_zero(d.i64("process commit")?);
        dump.total_process_working_set = none_if_zero(d.i64("process working set")?);
    }
    if version >= 6 {
        let n = d.count("segment", 1)?;
        for _ in 0..n {
            if d.begin_object()?.is_some() {
                d.enter()?;
                d.leave()?;
            }
        }
    }
    if version >= 7 {
        let is64 = d.bool("Is64Bit")?;
        info.pointer_size = Some(if is64 { 8 } else { 4 });
    }
    Ok(())
}

fn read_dotnet_heap_info(d: &mut Deserializer<'_>, dump: &mut GcDump) -> Result<(), GcdumpError> {
    if d.begin_typed("DotNetHeapInfo")?.is_none() {
        return Ok(());
    }
    d.enter()?;
    dump.size_of_all_segments = Some(d.i64("size of all segments")?);
    let n = d.count("segment", 1)?;
    for _ in 0..n {
        let at = d.pos();
        let Some(def) = d.begin_typed("GCHeapDumpSegment")? else {
            return Err(d.err_at(at, ErrorKind::Invalid("a segment is null".into())));
        };
        d.enter()?;
        let start = d.u64("segment start")?;
        let end = d.u64("segment end")?;
        let mut gen_end = [0u64; 5];
        let has_gen4 = def.version >= 1;
        for g in gen_end.iter_mut().take(if has_gen4 { 5 } else { 4 }) {
            *g = d.u64("segment generation end")?;
        }
        d.leave()?;
        dump.segments.push(Segment {
            start,
            end,
            gen_end,
            has_gen4,
        });
    }
    d.leave()
}

fn read_interop(d: &mut Deserializer<'_>) -> Result<Option<InteropSummary>, GcdumpError> {
    if d.begin_typed("InteropInfo")?.is_none() {
        return Ok(None);
    }
    d.enter()?;
    let mut s = InteropSummary::default();
    let total = d.i32("RCW and CCW count")?;
    if total != 0 {
        let rcws = d.count("RCW", 40)?;
        let ccws = d.count("CCW", 32)?;
        let interfaces = d.count("COM interface", 33)?;
        let modules = d.count("interop module", 20)?;
        d.skip(rcws as u64 * 40, "RCW records")?;
        d.skip(ccws as u64 * 32, "CCW records")?;
        d.skip(interfaces as u64 * 33, "COM interface records")?;
        for _ in 0..modules {
            d.skip(16, "interop module record")?;
            d.string("interop module file name")?;
        }
        s = InteropSummary {
            rcws: rcws as u32,
            ccws: ccws as u32,
            interfaces: interfaces as u32,
            modules: modules as u32,
        };
    }
    d.leave()?;
    Ok(Some(s))
}
