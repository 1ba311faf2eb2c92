//! The `GCHeapDump` entry object and everything around the graph.

use crate::error::{ErrorKind, GcdumpError};
use crate::memory_graph::read_memory_graph;
use crate::serializer::{tag, Deserializer};
use heaplens_bytes::ReadAt;
use heaplens_graph::{HeapGraph, Progress, Sampling};

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

/// A `.gcdump` as read: the heap graph and what the file records besides.
#[derive(Debug, Clone)]
pub struct GcDump {
    /// The heap graph.
    pub graph: HeapGraph,
    /// How the heap was sampled, when it was (PerfView's `MaxDumpCountK`,
    /// dotnet-gcdump on big heaps).
    pub sampling: Option<Sampling>,
    /// Pointer size of the process in bytes (4 or 8), when recorded.
    pub pointer_size: Option<u8>,
    /// The process's name, when recorded.
    pub process_name: Option<String>,
    /// The process's id, when recorded.
    pub process_id: Option<u32>,
    /// The machine's name, when recorded.
    pub machine_name: Option<String>,
    /// When the heap was dumped, in .NET ticks (100 ns since 0001-01-01)
    /// in the local time of the machine that wrote it.
    pub time_collected_ticks: Option<i64>,
    /// The tool that wrote the file, when recorded.
    pub creation_tool: Option<String>,
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
    let mut d = match Deserializer::new(src) {
        Ok(d) => d,
        Err(e) if matches!(e.kind, ErrorKind::BadSignature | ErrorKind::Cancelled) => {
            return Err(e)
        }
        // No trailer: a file cut short, if its data says more was to come.
        Err(e) => return Err(truncation(src).unwrap_or(e)),
    };
    read_body(&mut d, progress)
}

/// What a file without its trailer promised: its data read from the start
/// as far as it goes; `Some` when a structure runs past the file's end (a
/// truncated file), `None` when the data gives out otherwise (a damaged
/// trailer on a whole file).
fn truncation(src: &dyn ReadAt) -> Option<GcdumpError> {
    let mut d = Deserializer::without_trailer(src).ok()?;
    let len = src.len();
    let e = read_body(&mut d, &mut heaplens_graph::NoProgress).err()?;
    let at = e.offset;
    let promise = match e.kind {
        ErrorKind::Truncated {
            what,
            needed,
            available,
        } => format!(
            "{what} at byte {at} needs {needed} bytes (to byte {}), {available} are left",
            at + needed
        ),
        ErrorKind::BadCount { what, count, limit } if count > limit as i64 => format!(
            "the {what} count at byte {at} promises {count} of them, more than the {limit} \
             the rest of the file can hold"
        ),
        _ => return None,
    };
    Some(GcdumpError::new(
        len,
        ErrorKind::TruncatedFile { len, at, promise },
    ))
}

/// Reads the `GCHeapDump` object from where `d` stands.
fn read_body(d: &mut Deserializer<'_>, progress: &mut dyn Progress) -> Result<GcDump, GcdumpError> {
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
    let mut graph = read_memory_graph(d, progress)?.ok_or_else(|| {
        GcdumpError::new(
            graph_at,
            ErrorKind::Invalid("the GCHeapDump has no MemoryGraph".into()),
        )
    })?;
    let mut dump = GcDump {
        graph: HeapGraph::default(),
        sampling: None,
        pointer_size: Some(if graph.is_64bit { 8 } else { 4 }),
        process_name: None,
        process_id: None,
        machine_name: None,
        time_collected_ticks: None,
        creation_tool: None,
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
        read_v9_fields(d, &mut dump, graph.type_count)?;
    } else {
        read_old_fields(d, &mut dump, def.version)?;
    }
    d.leave()?;
    dump.graph = std::mem::take(&mut graph.graph);
    Ok(dump)
}

fn none_if_zero(v: i64) -> Option<i64> {
    (v != 0).then_some(v)
}

fn read_v9_fields(
    d: &mut Deserializer<'_>,
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
    dump.time_collected_ticks = none_if_zero(d.i64("time collected")?);
    dump.machine_name = d.string("machine name")?;
    dump.process_name = d.string("process name")?;
    let pid = d.i32("process id")?;
    dump.process_id = (pid != 0).then_some(pid as u32);
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
        dump.sampling = Some(Sampling {
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
        dump.creation_tool = d.string("creation tool")?;
    }
    Ok(())
}

fn read_old_fields(
    d: &mut Deserializer<'_>,
    dump: &mut GcDump,
    version: i32,
) -> Result<(), GcdumpError> {
    dump.size_of_all_segments = Some(d.i64("size of all segments")?);
    d.i64("size of dumped objects")?;
    d.i64("number of dumped objects")?;
    d.bool("all objects dumped")?;
    if version >= 5 {
        dump.collection_log = d.string("collection log")?;
        dump.time_collected_ticks = none_if_zero(d.i64("time collected")?);
        dump.machine_name = d.string("machine name")?;
        dump.process_name = d.string("process name")?;
        let pid = d.i32("process id")?;
        dump.process_id = (pid != 0).then_some(pid as u32);
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
        dump.pointer_size = Some(if is64 { 8 } else { 4 });
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{gcdump, record, Graph};
    use heaplens_graph::{NoProgress, RootKind, TypeKind};

    const TYPES: &[(&str, i32, Option<&str>)] = &[
        ("UNDEFINED", 0, None),
        ("[.NET Roots]", 0, None),
        ("[static var Foo.s_bar]", 0, None),
        ("Foo", 24, Some("/x/A.dll")),
        ("Unsized", -1, None),
    ];

    /// Node records in the order PerfView writes them (objects first, the
    /// root last) after the dummy record; returns the blob and offsets.
    fn blob(records: &[(usize, Vec<u8>)], nodes: usize) -> (Vec<u8>, Vec<u32>) {
        let mut blob = record(0, 0, None, &[]);
        let mut offsets = vec![0; nodes];
        for (node, r) in records {
            offsets[*node] = blob.len() as u32;
            blob.extend(r);
        }
        (blob, offsets)
    }

    #[test]
    fn a_synthetic_file_reads() {
        // 0 root -> 1 static var -> 2 Foo (type size) -> 3 Foo (explicit
        // 40) -> 4 undefined, and 3 -> 3.
        let (blob, offsets) = blob(
            &[
                (2, record(2, 3, None, &[3])),
                (3, record(3, 3, Some(40), &[4, 3])),
                (1, record(1, 2, None, &[2])),
                (0, record(0, 1, None, &[1])),
            ],
            5,
        );
        let data = gcdump(&Graph {
            types: TYPES,
            blob: &blob,
            offsets: &offsets,
            addresses: &[0, 0, 0x1000, 0x2000, 0],
            total_size: 64,
            root: 0,
        });
        let dump = read(&data, &mut NoProgress).unwrap();
        let g = &dump.graph;
        assert_eq!(dump.version, 10);
        assert_eq!(dump.undefined_nodes, 1);
        assert_eq!(dump.creation_tool.as_deref(), Some("test"));
        assert_eq!(dump.pointer_size, Some(8));
        assert_eq!(g.node_count(), 5);
        assert_eq!((g.node_size(2), g.node_size(3)), (24, 40));
        assert_eq!(g.children(3), &[4, 3]);
        assert_eq!(g.node_address(3), 0x2000);
        assert_eq!(g.node_kind(0), TypeKind::Pseudo);
        assert_eq!(g.node_kind(4), TypeKind::Undefined);
        assert_eq!(g.type_module(3), Some("/x/A.dll"));
        assert_eq!(g.roots().len(), 1);
        assert_eq!(g.roots()[0].object, 2);
        assert_eq!(g.roots()[0].kind, RootKind::Static);
        assert_eq!(g.root_name(&g.roots()[0]), Some("Foo.s_bar"));
    }

    #[test]
    fn nodes_sharing_a_record_with_children_are_refused() {
        // Every node points at one record with ten children (itself, so
        // every index is in range): 1000 nodes would make 10,000 edges out
        // of a 24-byte blob.
        let nodes = 1000;
        let mut blob = record(0, 0, None, &[]);
        let shared = blob.len() as u32;
        blob.extend(record(0, 3, None, &[0; 10]));
        let offsets = vec![shared; nodes];
        let data = gcdump(&Graph {
            types: TYPES,
            blob: &blob,
            offsets: &offsets,
            addresses: &vec![0x1000; nodes],
            total_size: 24 * nodes as i64,
            root: 0,
        });
        let e = read(&data, &mut NoProgress).unwrap_err();
        assert!(
            matches!(
                e.kind,
                ErrorKind::BadCount {
                    what: "child (all nodes together)",
                    count: 20,
                    limit: 14
                }
            ),
            "{e}"
        );
        // The offset is the shared record's child count.
        let at = data.windows(blob.len()).position(|w| w == blob).unwrap() as u64;
        assert_eq!(e.offset, at + shared as u64 + 1);
    }

    #[test]
    fn a_node_needs_a_size() {
        let (blob, offsets) = blob(&[(0, record(0, 4, None, &[]))], 1);
        let data = gcdump(&Graph {
            types: TYPES,
            blob: &blob,
            offsets: &offsets,
            addresses: &[0x1000],
            total_size: 0,
            root: 0,
        });
        let e = read(&data, &mut NoProgress).unwrap_err();
        assert!(matches!(e.kind, ErrorKind::Invalid(_)), "{e}");
    }

    /// The fuzz target's seed (`fuzz/seeds/gcdump/synthetic.gcdump`) is
    /// this synthetic file; `HEAPLENS_WRITE_FUZZ_SEEDS=1` writes it anew.
    #[test]
    fn the_fuzz_seed_is_the_synthetic_file() {
        let (blob, offsets) = blob(
            &[
                (1, record(1, 3, Some(40), &[1, 0])),
                (0, record(0, 1, None, &[1])),
            ],
            2,
        );
        let data = gcdump(&Graph {
            types: TYPES,
            blob: &blob,
            offsets: &offsets,
            addresses: &[0, 0x1000],
            total_size: 40,
            root: 0,
        });
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/seeds/gcdump/synthetic.gcdump");
        if std::env::var_os("HEAPLENS_WRITE_FUZZ_SEEDS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &data).unwrap();
        }
        assert_eq!(std::fs::read(&path).ok(), Some(data), "{}", path.display());
    }

    #[test]
    fn every_prefix_and_byte_of_a_synthetic_file_is_safe() {
        let (blob, offsets) = blob(
            &[
                (1, record(1, 3, Some(40), &[1, 0])),
                (0, record(0, 1, None, &[1])),
            ],
            2,
        );
        let data = gcdump(&Graph {
            types: TYPES,
            blob: &blob,
            offsets: &offsets,
            addresses: &[0, 0x1000],
            total_size: 40,
            root: 0,
        });
        read(&data, &mut NoProgress).unwrap();
        for len in 0..data.len() {
            assert!(read(&&data[..len], &mut NoProgress).is_err(), "{len}");
        }
        // Every byte set to values that matter to the format.
        for at in 0..data.len() {
            for v in [0, 1, 2, 4, 6, 0x7F, 0x80, 0xFF] {
                let mut d = data.clone();
                d[at] = v;
                if let Err(e) = read(&d, &mut NoProgress) {
                    assert!(e.offset <= d.len() as u64, "byte {at} = {v}: {e}");
                }
            }
        }
    }
}
