//! Malformed `.gcdump` files made from the real samples of the corpus.
//!
//! Every position changed here is found by walking the sample with a small
//! parser written for this test ([`Layout`], independent of the reader), so
//! the cases follow the real structure instead of fixed offsets that could
//! drift. Each case asserts the exact [`ErrorKind`] and the byte offset the
//! reader reports. On top of the named cases, every prefix of the smallest
//! sample (at a stride and at every boundary) and a few hundred seeded random
//! byte flips must be read without a panic.
//!
//! Without the corpus the tests print why and pass, or fail when
//! `HEAPLENS_REQUIRE_CORPUS=1` (see `heaplens-corpus`).

use heaplens_gcdump::{read, varint, ErrorKind, GcdumpError};
use heaplens_graph::NoProgress;
use std::collections::{HashMap, HashSet};
use std::ops::RangeInclusive;
use std::sync::OnceLock;

// ---------------------------------------------------------------------------
// The samples and their structure.

/// A sample of the corpus with its structure.
struct Sample {
    name: String,
    bytes: Vec<u8>,
    layout: Layout,
}

/// Where things are in a sample (byte offsets), found by [`Layout::of`].
#[derive(Debug, Default, Clone)]
struct Layout {
    /// BeginObject of the `GCHeapDump` entry object.
    root: usize,
    /// BeginObject of its `SerializationType`.
    root_type: usize,
    /// The type's null type reference.
    root_type_null: usize,
    /// The type's version (i32).
    root_type_version: usize,
    /// The type's name (a string).
    root_type_name: usize,
    /// EndObject of the type.
    root_type_end: usize,
    /// BeginObject of the `Graphs.MemoryGraph`.
    graph: usize,
    /// The graph type's name (a string).
    graph_type_name: usize,
    /// i64 total size.
    total_size: usize,
    /// i32 root node index.
    root_index: usize,
    /// i32 type count.
    type_count: usize,
    /// Each type entry (its name string).
    types: Vec<usize>,
    /// i32 node count.
    node_count: usize,
    /// The node offset table.
    offsets: usize,
    /// The node offsets.
    node_offsets: Vec<u32>,
    /// i32 blob length.
    blob_len: usize,
    /// The node blob.
    blob: usize,
    /// Its length.
    blob_size: usize,
    /// i32 address count.
    address_count: usize,
    /// The address table.
    addresses: usize,
    /// The tagged Is64Bit byte's tag, if present.
    is64_tag: Option<usize>,
    /// EndObject of the graph.
    graph_end: usize,
    /// The GCHeapDump's legacy Is64Bit bool, first field after the graph.
    after_graph: usize,
    /// The DotNetHeapInfo reference.
    dotnet_heap: usize,
    /// Its i32 segment count, if present.
    segment_count: Option<usize>,
    /// The type references of its segments (`04 …` or `02 label`).
    segment_type_refs: Vec<usize>,
    /// The i32 count of per-type count multipliers.
    count_multipliers: usize,
    /// The SkipRegion tag of the InteropInfo, if present.
    interop_tag: Option<usize>,
    /// The RCW count of a non-empty InteropInfo.
    rcw_count: Option<usize>,
    /// The String tag of the CreationTool, if present.
    tool_tag: Option<usize>,
    /// EndObject of the GCHeapDump.
    root_end: usize,
    /// The unbalanced EndObject ending the objects.
    end_of_objects: usize,
    /// The forward-reference table (its i32 count).
    table: usize,
    /// The forward references.
    forward: Vec<u32>,
    /// The trailer (u32 label of the table).
    trailer: usize,
    /// The suffix label (last 4 bytes).
    suffix: usize,
}

/// A forward-only reader of a well-formed sample; panics on anything
/// unexpected (that would be a bug of this test, not of the reader).
struct Walk<'a> {
    b: &'a [u8],
    p: usize,
    types: HashMap<usize, (String, i32)>,
}

impl Walk<'_> {
    fn u8(&mut self) -> u8 {
        self.p += 1;
        self.b[self.p - 1]
    }
    fn i32(&mut self) -> i32 {
        self.p += 4;
        i32::from_le_bytes(self.b[self.p - 4..self.p].try_into().unwrap())
    }
    fn u32(&mut self) -> u32 {
        self.i32() as u32
    }
    fn i64(&mut self) -> i64 {
        self.p += 8;
        i64::from_le_bytes(self.b[self.p - 8..self.p].try_into().unwrap())
    }
    fn skip(&mut self, n: usize) {
        self.p += n;
        assert!(self.p <= self.b.len());
    }
    fn tag(&mut self, t: u8) -> usize {
        let at = self.p;
        assert_eq!(self.u8(), t, "tag at {at}");
        at
    }
    fn try_tag(&mut self, t: u8) -> Option<usize> {
        (self.b[self.p] == t).then(|| self.tag(t))
    }
    fn string(&mut self) -> Option<String> {
        let n = self.i32();
        if n < 0 {
            return None;
        }
        let mut units = Vec::new();
        for _ in 0..n {
            let b = self.u8() as u16;
            units.push(if b < 0x80 {
                b
            } else if b < 0xE0 {
                ((b & 0x1F) << 6) | (self.u8() as u16 & 0x3F)
            } else {
                let (b1, b2) = (self.u8() as u16, self.u8() as u16);
                ((b & 0xF) << 12) | ((b1 & 0x3F) << 6) | (b2 & 0x3F)
            });
        }
        Some(String::from_utf16_lossy(&units))
    }
    /// A type reference: a SerializationType definition or a label.
    fn type_ref(&mut self) -> (String, i32) {
        let at = self.p;
        match self.u8() {
            4 => {
                self.tag(1);
                let version = self.i32();
                self.i32();
                let name = self.string().unwrap();
                self.tag(6);
                self.types.insert(at, (name.clone(), version));
                (name, version)
            }
            2 => {
                let label = self.u32() as usize;
                self.types[&label].clone()
            }
            t => panic!("type reference tag {t} at {at}"),
        }
    }
    /// An object reference: None if null, else its BeginObject offset and
    /// type (the walk is then at its first field).
    fn object(&mut self) -> Option<(usize, String, i32)> {
        let at = self.p;
        match self.u8() {
            1 => None,
            4 => {
                let (name, version) = self.type_ref();
                Some((at, name, version))
            }
            t => panic!("object tag {t} at {at}"),
        }
    }
}

impl Layout {
    fn of(b: &[u8]) -> Layout {
        let mut w = Walk {
            b,
            p: 24,
            types: HashMap::new(),
        };
        let mut l = Layout::default();
        let (root, name, version) = w.object().unwrap();
        assert_eq!(name, "GCHeapDump");
        assert!(version >= 9, "the walk knows the v9 layout only");
        l.root = root;
        l.root_type = root + 1;
        l.root_type_null = root + 2;
        l.root_type_version = root + 3;
        l.root_type_name = root + 11;
        l.root_type_end = w.p - 1;

        let (graph, name, _) = w.object().unwrap();
        assert_eq!(name, "Graphs.MemoryGraph");
        l.graph = graph;
        l.graph_type_name = graph + 11;
        l.total_size = w.p;
        w.i64();
        l.root_index = w.p;
        w.i32();
        l.type_count = w.p;
        for _ in 0..w.i32() {
            l.types.push(w.p);
            w.string();
            w.i32();
            w.string();
        }
        l.node_count = w.p;
        let nodes = w.i32() as usize;
        l.offsets = w.p;
        l.node_offsets = (0..nodes).map(|_| w.u32()).collect();
        l.blob_len = w.p;
        l.blob_size = w.i32() as usize;
        l.blob = w.p;
        w.skip(l.blob_size);
        l.address_count = w.p;
        assert_eq!(w.i32() as usize, nodes);
        l.addresses = w.p;
        w.skip(8 * nodes);
        l.is64_tag = w.try_tag(8);
        if l.is64_tag.is_some() {
            w.u8();
        }
        l.graph_end = w.tag(6);

        l.after_graph = w.p;
        w.skip(1 + 4 + 4);
        if w.object().is_some() {
            w.tag(6); // JSHeapInfo has no fields.
        }
        l.dotnet_heap = w.p;
        if w.object().is_some() {
            w.i64();
            l.segment_count = Some(w.p);
            for _ in 0..w.i32() {
                w.tag(4);
                l.segment_type_refs.push(w.p);
                let (name, version) = w.type_ref();
                assert_eq!(name, "GCHeapDumpSegment");
                w.skip(8 * if version >= 1 { 7 } else { 6 });
                w.tag(6);
            }
            w.tag(6);
        }
        w.string(); // collection log
        w.i64();
        w.string();
        w.string();
        w.i32();
        w.i64();
        w.i64();
        l.count_multipliers = w.p;
        let n = w.i32() as usize;
        w.skip(4 * n);
        l.interop_tag = w.try_tag(12);
        if l.interop_tag.is_some() {
            w.i32();
            if w.object().is_some() {
                if w.i32() != 0 {
                    l.rcw_count = Some(w.p);
                    let (rcw, ccw, itf, modules) = (w.i32(), w.i32(), w.i32(), w.i32());
                    w.skip(40 * rcw as usize + 32 * ccw as usize + 33 * itf as usize);
                    for _ in 0..modules {
                        w.skip(16);
                        w.string();
                    }
                }
                w.tag(6);
            }
        }
        l.tool_tag = w.try_tag(13);
        if l.tool_tag.is_some() {
            w.string();
        }
        l.root_end = w.tag(6);
        l.end_of_objects = w.tag(6);

        l.table = w.p;
        l.forward = (0..w.i32()).map(|_| w.u32()).collect();
        l.trailer = w.p;
        assert_eq!(w.u32() as usize, l.table);
        l.suffix = w.p;
        assert_eq!(w.u32() as usize, l.trailer);
        assert_eq!(w.p, b.len());
        l
    }

    fn nodes(&self) -> usize {
        self.node_offsets.len()
    }
}

/// One varint of a node record.
#[derive(Debug, Clone, Copy)]
struct Varint {
    at: usize,
    len: usize,
    value: i32,
}

/// A node record in the blob.
#[derive(Debug, Clone)]
struct Record {
    at: usize,
    type_and_size: Varint,
    size: Option<Varint>,
    child_count: Varint,
    children: Vec<Varint>,
}

fn varint_at(b: &[u8], at: usize) -> Varint {
    let mut p = at;
    let value = varint::decode(|| {
        p += 1;
        b.get(p - 1).copied()
    })
    .unwrap();
    Varint {
        at,
        len: p - at,
        value,
    }
}

fn record(s: &Sample, node: usize) -> Record {
    let at = s.layout.blob + s.layout.node_offsets[node] as usize;
    let type_and_size = varint_at(&s.bytes, at);
    let mut p = at + type_and_size.len;
    let size = (type_and_size.value & 1 != 0).then(|| varint_at(&s.bytes, p));
    p += size.map_or(0, |v| v.len);
    let child_count = varint_at(&s.bytes, p);
    p += child_count.len;
    let children = (0..child_count.value)
        .map(|_| {
            let v = varint_at(&s.bytes, p);
            p += v.len;
            v
        })
        .collect();
    Record {
        at,
        type_and_size,
        size,
        child_count,
        children,
    }
}

/// `value` as a varint of exactly `len` bytes (PerfView's reader accepts
/// non-minimal forms), so that it can replace one in place.
fn varint_of_len(value: i32, len: usize) -> Vec<u8> {
    assert!((1..5).contains(&len));
    let mut out: Vec<u8> = (1..len)
        .rev()
        .map(|k| (((value >> (7 * k)) as u32 | 0x80) & 0xFF) as u8)
        .collect();
    out.push((value & 0x7F) as u8);
    let mut it = out.iter().copied();
    assert_eq!(
        varint::decode(|| it.next()),
        Some(value),
        "{value} in {len} bytes"
    );
    out
}

static SAMPLES: OnceLock<Vec<Sample>> = OnceLock::new();

/// Every sample with its layout, or None (after saying so) without the corpus.
fn samples(what: &str) -> Option<&'static [Sample]> {
    let shared = heaplens_corpus::shared_or_skip(what)?;
    let v = SAMPLES.get_or_init(|| {
        let paths = heaplens_corpus::gcdump_samples(&shared);
        assert!(!paths.is_empty(), "no .gcdump samples in the corpus");
        paths
            .iter()
            .map(|p| {
                let bytes = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
                let layout = Layout::of(&bytes);
                let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                Sample {
                    name,
                    bytes,
                    layout,
                }
            })
            .collect()
    });
    Some(v)
}

/// The smallest sample.
fn smallest(all: &[Sample]) -> &Sample {
    all.iter().min_by_key(|s| s.bytes.len()).unwrap()
}

/// The smallest sample that has what `has` asks for.
fn smallest_with<'a>(all: &'a [Sample], what: &str, has: impl Fn(&Layout) -> bool) -> &'a Sample {
    all.iter()
        .filter(|s| has(&s.layout))
        .min_by_key(|s| s.bytes.len())
        .unwrap_or_else(|| panic!("no sample has {what}"))
}

// ---------------------------------------------------------------------------
// Mutations.

fn patch(b: &[u8], at: usize, with: &[u8]) -> Vec<u8> {
    let mut v = b.to_vec();
    v[at..at + with.len()].copy_from_slice(with);
    v
}

fn put_i32(b: &[u8], at: usize, value: i32) -> Vec<u8> {
    patch(b, at, &value.to_le_bytes())
}

fn put_u8(b: &[u8], at: usize, value: u8) -> Vec<u8> {
    patch(b, at, &[value])
}

/// The sample cut at `at`, with a forward-reference table, trailer and
/// suffix label rebuilt after the cut: the objects end early, but the
/// container is intact, so the object reader meets the end.
fn cut_body(s: &Sample, at: usize) -> Vec<u8> {
    let mut out = s.bytes[..at].to_vec();
    let table = out.len() as u32;
    out.extend((s.layout.forward.len() as i32).to_le_bytes());
    for &f in &s.layout.forward {
        out.extend(f.min(table).to_le_bytes());
    }
    let trailer = out.len() as u32;
    out.extend(table.to_le_bytes());
    out.extend(trailer.to_le_bytes());
    out
}

// ---------------------------------------------------------------------------
// Cases.

/// A malformed file and the error it must give.
struct Case {
    name: String,
    data: Vec<u8>,
    expected: &'static str,
    kind: Box<dyn Fn(&ErrorKind) -> bool>,
    offset: RangeInclusive<u64>,
}

/// Where an error may be reported.
trait Offsets {
    fn range(self) -> RangeInclusive<u64>;
}

impl Offsets for usize {
    fn range(self) -> RangeInclusive<u64> {
        self as u64..=self as u64
    }
}

impl Offsets for RangeInclusive<usize> {
    fn range(self) -> RangeInclusive<u64> {
        *self.start() as u64..=*self.end() as u64
    }
}

macro_rules! case {
    ($cases:expr, $name:expr, $data:expr, $pat:pat, $offset:expr) => {
        add(
            &mut $cases,
            Case {
                name: $name.to_string(),
                data: $data,
                expected: stringify!($pat),
                kind: Box::new(|k: &ErrorKind| matches!(k, $pat)),
                offset: Offsets::range($offset),
            },
        )
    };
}

fn add(cases: &mut Vec<Case>, case: Case) {
    cases.push(case);
}

fn read_err(data: &[u8]) -> Result<GcdumpError, String> {
    match read(&data, &mut NoProgress) {
        Ok(d) => Err(format!(
            "the reader accepted it ({} nodes)",
            d.graph.node_count()
        )),
        Err(e) => Ok(e),
    }
}

fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for c in cases {
        let e = match read_err(&c.data) {
            Ok(e) => e,
            Err(msg) => {
                failures.push(format!("{}: {msg}", c.name));
                continue;
            }
        };
        eprintln!("{}: {e}", c.name);
        // A damaged end is `EndMissing`, with the damage inside.
        let kind = match &e.kind {
            ErrorKind::EndMissing { detail } => detail,
            k => k,
        };
        if !(c.kind)(kind) {
            failures.push(format!(
                "{}: expected {}, got {:?} at {}",
                c.name, c.expected, e.kind, e.offset
            ));
        } else if !c.offset.contains(&e.offset) || e.offset > c.data.len() as u64 {
            failures.push(format!(
                "{}: error at offset {}, expected {:?} (file of {} bytes): {e}",
                c.name,
                e.offset,
                c.offset,
                c.data.len()
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

/// The trailer is lost when a file is cut: the reader checks it first, and
/// says the file is truncated when the data before promised more.
fn is_trailer_error(k: &ErrorKind) -> bool {
    matches!(
        k,
        ErrorKind::BadTrailer(_)
            | ErrorKind::TruncatedFile { .. }
            | ErrorKind::BadLabel {
                what: "the suffix label"
                    | "the forward-reference table label"
                    | "a forward reference",
                ..
            }
            | ErrorKind::BadCount {
                what: "forward reference",
                ..
            }
    )
}

/// Files cut short: the container's trailer is gone.
fn truncated_files(all: &[Sample]) -> Vec<Case> {
    let s = smallest(all);
    let (b, l) = (&s.bytes, &s.layout);
    let len = b.len();
    let mut cases = Vec::new();
    case!(cases, "empty file", Vec::new(), ErrorKind::BadSignature, 0);
    case!(
        cases,
        "cut inside the signature",
        b[..12].to_vec(),
        ErrorKind::BadSignature,
        0
    );
    case!(
        cases,
        "cut just after the signature",
        b[..24].to_vec(),
        ErrorKind::TruncatedFile { len: 24, .. },
        24
    );
    case!(
        cases,
        "cut inside the GCHeapDump type's version",
        b[..l.root_type_version + 2].to_vec(),
        ErrorKind::TruncatedFile { .. },
        l.root_type_version + 2
    );
    // From here on the last four bytes are taken for the suffix label,
    // which points nowhere; the data before says the file is cut.
    case!(
        cases,
        "cut inside the GCHeapDump type's name",
        b[..l.root_type_name + 6].to_vec(),
        ErrorKind::TruncatedFile { .. },
        l.root_type_name + 6
    );
    for (what, at) in [
        (
            "in the middle of the type table",
            l.types[l.types.len() / 2],
        ),
        ("in the middle of the node blob", l.blob + l.blob_size / 2),
        ("at the forward-reference table", l.table),
        ("one byte short of the end", len - 1),
    ] {
        let data = b[..at].to_vec();
        cases.push(Case {
            name: format!("cut {what}"),
            expected: "a trailer error",
            kind: Box::new(is_trailer_error),
            offset: Offsets::range(24..=at),
            data,
        });
    }
    // Without the suffix label the trailer is read as the suffix label, so
    // the table's count is taken for the table's label.
    case!(
        cases,
        "suffix label cut off",
        b[..len - 4].to_vec(),
        ErrorKind::BadLabel {
            what: "the forward-reference table label",
            ..
        },
        l.table
    );
    cases
}

/// Objects that end early inside an intact container: truncation at each
/// structural boundary, as the object reader sees it.
fn cut_bodies(all: &[Sample]) -> Vec<Case> {
    let s = smallest(all);
    let l = &s.layout;
    let mut cases = Vec::new();
    let name = |what: &str| format!("objects end {what}");
    case!(
        cases,
        name("right after the signature"),
        cut_body(s, 24),
        ErrorKind::Truncated {
            what: "object reference",
            ..
        },
        24
    );
    // The name's length (10 units) is checked against the bytes left.
    case!(
        cases,
        name("inside the GCHeapDump type name"),
        cut_body(s, l.root_type_name + 6),
        ErrorKind::BadCount {
            what: "type name",
            count: 10,
            ..
        },
        l.root_type_name
    );
    case!(
        cases,
        name("after the GCHeapDump type, before the MemoryGraph"),
        cut_body(s, l.graph),
        ErrorKind::Truncated {
            what: "object reference",
            ..
        },
        l.graph
    );
    case!(
        cases,
        name("inside the graph header"),
        cut_body(s, l.root_index),
        ErrorKind::Truncated {
            what: "root index",
            needed: 4,
            available: 0
        },
        l.root_index
    );
    case!(
        cases,
        name("right after the type count"),
        cut_body(s, l.type_count + 4),
        ErrorKind::BadCount {
            what: "type",
            limit: 0,
            ..
        },
        l.type_count
    );
    // In the middle of the type table: if the count still fits the bytes
    // left (12 per type at least), the first type past the end is truncated.
    let mid = l.types[l.types.len() / 2];
    if 12 * l.types.len() <= mid - (l.type_count + 4) {
        case!(
            cases,
            name("in the middle of the type table"),
            cut_body(s, mid),
            ErrorKind::Truncated {
                what: "type name",
                ..
            },
            mid
        );
    } else {
        case!(
            cases,
            name("in the middle of the type table"),
            cut_body(s, mid),
            ErrorKind::BadCount { what: "type", .. },
            l.type_count
        );
    }
    case!(
        cases,
        name("right after the node count"),
        cut_body(s, l.offsets),
        ErrorKind::BadCount {
            what: "node",
            limit: 0,
            ..
        },
        l.node_count
    );
    case!(
        cases,
        name("in the middle of the node offsets"),
        cut_body(s, l.offsets + 4 * (l.nodes() / 2)),
        ErrorKind::BadCount { what: "node", .. },
        l.node_count
    );
    case!(
        cases,
        name("right after the blob length"),
        cut_body(s, l.blob),
        ErrorKind::BadCount {
            what: "node blob byte",
            limit: 0,
            ..
        },
        l.blob_len
    );
    case!(
        cases,
        name("in the middle of the node blob"),
        cut_body(s, l.blob + l.blob_size / 2),
        ErrorKind::BadCount {
            what: "node blob byte",
            ..
        },
        l.blob_len
    );
    case!(
        cases,
        name("right after the node blob"),
        cut_body(s, l.address_count),
        ErrorKind::Truncated {
            what: "address",
            ..
        },
        l.address_count
    );
    case!(
        cases,
        name("in the middle of the addresses"),
        cut_body(s, l.addresses + 8 * (l.nodes() / 2)),
        ErrorKind::BadCount {
            what: "address",
            ..
        },
        l.address_count
    );
    if let Some(t) = l.is64_tag {
        case!(
            cases,
            name("before the graph's tagged Is64Bit"),
            cut_body(s, t),
            ErrorKind::Truncated {
                what: "end of object",
                ..
            },
            t
        );
    }
    case!(
        cases,
        name("right after the MemoryGraph"),
        cut_body(s, l.after_graph),
        ErrorKind::Truncated {
            what: "legacy Is64Bit",
            ..
        },
        l.after_graph
    );
    case!(
        cases,
        name("before the count multipliers"),
        cut_body(s, l.count_multipliers),
        ErrorKind::Truncated {
            what: "count multiplier",
            ..
        },
        l.count_multipliers
    );
    case!(
        cases,
        name("before the GCHeapDump's end"),
        cut_body(s, l.root_end),
        ErrorKind::Truncated {
            what: "end of object",
            ..
        },
        l.root_end
    );
    cases
}

/// Wrong signatures.
fn wrong_signatures(all: &[Sample]) -> Vec<Case> {
    let b = &smallest(all).bytes;
    let mut cases = Vec::new();
    case!(
        cases,
        "signature says FastSerialization.2",
        put_u8(b, 23, b'2'),
        ErrorKind::BadSignature,
        0
    );
    case!(
        cases,
        "signature length prefix 21",
        put_u8(b, 0, 21),
        ErrorKind::BadSignature,
        0
    );
    cases
}

/// Tag bytes replaced at the places the walk found them.
fn flipped_tags(all: &[Sample]) -> Vec<Case> {
    let s = smallest(all);
    let (b, l) = (&s.bytes, &s.layout);
    let mut cases = Vec::new();
    case!(
        cases,
        "GCHeapDump BeginObject tag 04 -> 00 (Error)",
        put_u8(b, l.root, 0),
        ErrorKind::UnexpectedTag {
            expected: "an object reference",
            found: 0
        },
        l.root
    );
    case!(
        cases,
        "GCHeapDump BeginObject tag 04 -> 02 (ObjectReference)",
        put_u8(b, l.root, 2),
        ErrorKind::Unsupported(_),
        l.root
    );
    case!(
        cases,
        "GCHeapDump type tag 04 -> 09 (Int16)",
        put_u8(b, l.root_type, 9),
        ErrorKind::UnexpectedTag {
            expected: "a type reference",
            found: 9
        },
        l.root_type
    );
    case!(
        cases,
        "SerializationType's null type 01 -> 04",
        put_u8(b, l.root_type_null, 4),
        ErrorKind::UnexpectedTag {
            expected: "the null type of a SerializationType",
            found: 4
        },
        l.root_type_null
    );
    case!(
        cases,
        "GCHeapDump type EndObject 06 -> FF",
        put_u8(b, l.root_type_end, 0xFF),
        ErrorKind::UnexpectedTag { found: 0xFF, .. },
        l.root_type_end
    );
    case!(
        cases,
        "MemoryGraph BeginObject 04 -> 01 (NullReference)",
        put_u8(b, l.graph, 1),
        ErrorKind::Invalid(_),
        l.graph
    );
    case!(
        cases,
        "MemoryGraph EndObject 06 -> 0F",
        put_u8(b, l.graph_end, 0x0F),
        ErrorKind::UnexpectedTag { found: 0x0F, .. },
        l.graph_end
    );
    if let Some(t) = l.is64_tag {
        case!(
            cases,
            "Is64Bit Byte tag 08 -> 10",
            put_u8(b, t, 0x10),
            ErrorKind::UnexpectedTag { found: 0x10, .. },
            t
        );
    }
    let s2 = smallest_with(all, "an InteropInfo region", |l| l.interop_tag.is_some());
    let t = s2.layout.interop_tag.unwrap();
    case!(
        cases,
        format!("{}: InteropInfo SkipRegion tag 0C -> 00", s2.name),
        put_u8(&s2.bytes, t, 0),
        ErrorKind::UnexpectedTag { found: 0, .. },
        t
    );
    let s3 = smallest_with(all, "a CreationTool", |l| l.tool_tag.is_some());
    let t = s3.layout.tool_tag.unwrap();
    case!(
        cases,
        format!("{}: CreationTool String tag 0D -> FF", s3.name),
        put_u8(&s3.bytes, t, 0xFF),
        ErrorKind::UnexpectedTag { found: 0xFF, .. },
        t
    );
    // Type names that change which object is where.
    case!(
        cases,
        "GCHeapDump type renamed GCHeapDumq",
        put_u8(b, l.root_type_name + 4 + 9, b'q'),
        ErrorKind::WrongObjectType {
            expected: "GCHeapDump",
            ..
        },
        l.root
    );
    case!(
        cases,
        "MemoryGraph type renamed Graphs.MemoryGrapX",
        put_u8(b, l.graph_type_name + 4 + 17, b'X'),
        ErrorKind::WrongObjectType {
            expected: "Graphs.MemoryGraph",
            ..
        },
        l.graph
    );
    case!(
        cases,
        "GCHeapDump version 8",
        put_i32(b, l.root_type_version, 8),
        ErrorKind::UnsupportedVersion { version: 8, .. },
        l.root
    );
    cases
}

/// Counts set to absurd or negative values.
fn bad_counts(all: &[Sample]) -> Vec<Case> {
    let s = smallest(all);
    let (b, l) = (&s.bytes, &s.layout);
    let huge = 0x7fff_ffff;
    let mut cases = Vec::new();
    case!(
        cases,
        "type count 0x7fffffff",
        put_i32(b, l.type_count, huge),
        ErrorKind::BadCount {
            what: "type",
            count: 0x7fff_ffff,
            ..
        },
        l.type_count
    );
    case!(
        cases,
        "type count -1",
        put_i32(b, l.type_count, -1),
        ErrorKind::BadCount {
            what: "type",
            count: -1,
            ..
        },
        l.type_count
    );
    case!(
        cases,
        "type name length 0x7fffffff",
        put_i32(b, l.types[1], huge),
        ErrorKind::BadCount {
            what: "type name",
            ..
        },
        l.types[1]
    );
    case!(
        cases,
        "node count 0x7fffffff",
        put_i32(b, l.node_count, huge),
        ErrorKind::BadCount { what: "node", .. },
        l.node_count
    );
    case!(
        cases,
        "node blob length 0x7fffffff",
        put_i32(b, l.blob_len, huge),
        ErrorKind::BadCount {
            what: "node blob byte",
            ..
        },
        l.blob_len
    );
    case!(
        cases,
        "address count 0x7fffffff",
        put_i32(b, l.address_count, huge),
        ErrorKind::BadCount {
            what: "address",
            ..
        },
        l.address_count
    );
    case!(
        cases,
        "address count one less than the node count",
        put_i32(b, l.address_count, l.nodes() as i32 - 1),
        ErrorKind::Invalid(_),
        l.address_count
    );
    case!(
        cases,
        "count multiplier count 0x7fffffff",
        put_i32(b, l.count_multipliers, huge),
        ErrorKind::BadCount {
            what: "count multiplier",
            ..
        },
        l.count_multipliers
    );
    case!(
        cases,
        "forward-reference count 0x7fffffff",
        put_i32(b, l.table, huge),
        ErrorKind::BadCount {
            what: "forward reference",
            ..
        },
        l.table
    );
    // A child count of -1 in a node record, written in the same length.
    let (node, r) = (1..l.nodes())
        .map(|i| (i, record(s, i)))
        .find(|(_, r)| !r.children.is_empty())
        .expect("a node with children");
    case!(
        cases,
        format!("node {node}: child count -1"),
        patch(b, r.child_count.at, &varint_of_len(-1, r.child_count.len)),
        ErrorKind::BadCount {
            what: "child",
            count: -1,
            ..
        },
        r.child_count.at
    );
    // Nodes sharing one record: a small file that would describe
    // nodes × children edges. Children are deltas from the node's own index,
    // so the record is shared by the window of nodes for which all its
    // children stay in range; the record giving the most edges is used.
    let all_children: usize = (0..l.nodes()).map(|i| record(s, i).children.len()).sum();
    let (shared, r, window) = (0..l.nodes())
        .map(|i| {
            let r = record(s, i);
            let lo = r.children.iter().map(|c| c.value).min().unwrap_or(0) as i64;
            let hi = r.children.iter().map(|c| c.value).max().unwrap_or(0) as i64;
            let window = (-lo).max(0)..(l.nodes() as i64 - hi).min(l.nodes() as i64);
            (i, r, window)
        })
        .max_by_key(|(_, r, w)| r.children.len() * w.clone().count())
        .unwrap();
    let mut data = b.clone();
    let off = l.node_offsets[shared].to_le_bytes();
    for i in window.clone() {
        let at = l.offsets + 4 * i as usize;
        data[at..at + 4].copy_from_slice(&off);
    }
    assert!(all_children + window.clone().count() * r.children.len() > 2 * l.blob_size);
    case!(
        cases,
        format!(
            "nodes {}..{} share node {shared}'s record ({} children)",
            window.start,
            window.end,
            r.children.len()
        ),
        data,
        ErrorKind::BadCount {
            what: "child (all nodes together)",
            ..
        },
        r.child_count.at
    );
    let s2 = smallest_with(all, "GC segments", |l| l.segment_count.is_some());
    let at = s2.layout.segment_count.unwrap();
    case!(
        cases,
        format!("{}: segment count 0x7fffffff", s2.name),
        put_i32(&s2.bytes, at, huge),
        ErrorKind::BadCount {
            what: "segment",
            ..
        },
        at
    );
    let s3 = smallest_with(all, "a non-empty InteropInfo", |l| l.rcw_count.is_some());
    let at = s3.layout.rcw_count.unwrap();
    case!(
        cases,
        format!("{}: RCW count 0x7fffffff", s3.name),
        put_i32(&s3.bytes, at, huge),
        ErrorKind::BadCount { what: "RCW", .. },
        at
    );
    cases
}

/// Indexes and labels that point outside their table or file.
fn bad_indexes_and_labels(all: &[Sample]) -> Vec<Case> {
    let s = smallest(all);
    let (b, l) = (&s.bytes, &s.layout);
    let len = b.len();
    let mut cases = Vec::new();
    case!(
        cases,
        "root index = node count",
        put_i32(b, l.root_index, l.nodes() as i32),
        ErrorKind::IndexOutOfRange {
            what: "root node",
            ..
        },
        l.root_index
    );
    case!(
        cases,
        "node offset past the blob",
        put_i32(b, l.offsets + 4 * 3, l.blob_size as i32),
        ErrorKind::IndexOutOfRange {
            what: "node blob offset",
            ..
        },
        l.offsets + 4 * 3
    );
    // Node type indexes just past the table and negative, in place.
    let types = l.types.len() as i32;
    let (node, r) = (1..l.nodes())
        .map(|i| (i, record(s, i)))
        .find(|(_, r)| {
            let lim = 1i64 << (7 * r.type_and_size.len - 1);
            (((types as i64) << 1) | 1) < lim && l.node_offsets[0] != 0
        })
        .expect("a node whose type varint can hold the type count");
    let flag = r.type_and_size.value & 1;
    case!(
        cases,
        format!("node {node}: type index = type count"),
        patch(
            b,
            r.at,
            &varint_of_len(types << 1 | flag, r.type_and_size.len)
        ),
        ErrorKind::IndexOutOfRange {
            what: "node type",
            ..
        },
        r.at
    );
    case!(
        cases,
        format!("node {node}: type index -1"),
        patch(b, r.at, &varint_of_len(-2 | flag, r.type_and_size.len)),
        ErrorKind::IndexOutOfRange {
            what: "node type",
            index: -1,
            ..
        },
        r.at
    );
    // A child delta that points before node 0.
    let (node, r) = (1..l.nodes())
        .map(|i| (i, record(s, i)))
        .find(|(i, r)| {
            r.children
                .first()
                .is_some_and(|c| -(*i as i64) > -(1i64 << (7 * c.len - 1)))
        })
        .expect("a node with a child");
    let c = r.children[0];
    case!(
        cases,
        format!("node {node}: child index -1"),
        patch(b, c.at, &varint_of_len(-(node as i32) - 1, c.len)),
        ErrorKind::IndexOutOfRange {
            what: "child node",
            index: -1,
            ..
        },
        c.at
    );
    // A negative explicit size.
    let s2 = smallest_with(all, "a node with an explicit size", |l| l.nodes() > 0);
    let found = (1..s2.layout.nodes())
        .map(|i| (i, record(s2, i)))
        .find(|(_, r)| r.size.is_some());
    if let Some((node, r)) = found {
        let v = r.size.unwrap();
        case!(
            cases,
            format!("{}: node {node} size -1", s2.name),
            patch(&s2.bytes, v.at, &varint_of_len(-1, v.len)),
            ErrorKind::Invalid(_),
            r.at
        );
    }
    // The last byte of the blob made a continuation byte: the last record
    // runs past the blob.
    let last = (0..l.nodes()).max_by_key(|&i| l.node_offsets[i]).unwrap();
    let end = l.blob + l.blob_size - 1;
    case!(
        cases,
        format!("node {last}'s record runs past the blob"),
        put_u8(b, end, b[end] | 0x80),
        ErrorKind::Invalid(_),
        l.blob + l.node_offsets[last] as usize
    );
    case!(
        cases,
        "graph total size off by one",
        patch(
            b,
            l.total_size,
            &(i64::from_le_bytes(b[l.total_size..l.total_size + 8].try_into().unwrap()) + 1)
                .to_le_bytes()
        ),
        ErrorKind::TotalSizeMismatch { .. },
        l.total_size
    );
    // The container's labels.
    case!(
        cases,
        "forward reference past the table",
        put_i32(b, l.table + 4, l.table as i32 + 1),
        ErrorKind::BadLabel {
            what: "a forward reference",
            ..
        },
        l.table + 4
    );
    case!(
        cases,
        "suffix label past the end",
        put_i32(b, l.suffix, -16),
        ErrorKind::BadLabel {
            what: "the suffix label",
            ..
        },
        l.suffix
    );
    case!(
        cases,
        "trailer points inside the signature",
        put_i32(b, l.trailer, 3),
        ErrorKind::BadLabel {
            what: "the forward-reference table label",
            label: 3
        },
        l.trailer
    );
    case!(
        cases,
        "suffix label points at itself",
        put_i32(b, l.suffix, l.suffix as i32),
        ErrorKind::BadLabel {
            what: "the suffix label",
            ..
        },
        len - 4
    );
    // A segment's type given by a label that is not a type definition.
    let s3 = smallest_with(all, "segments typed by label", |l| {
        l.segment_type_refs.len() > 1
    });
    let at = s3.layout.segment_type_refs[1];
    assert_eq!(s3.bytes[at], 2, "the second segment's type is a label");
    case!(
        cases,
        format!("{}: segment type label points at the graph", s3.name),
        put_i32(&s3.bytes, at + 1, s3.layout.graph as i32),
        ErrorKind::BadLabel {
            what: "a type reference",
            ..
        },
        at
    );
    cases
}

// ---------------------------------------------------------------------------
// Tests.

#[test]
fn the_walk_agrees_with_the_reader_on_every_sample() {
    let Some(all) = samples("gcdump malformed-input tests") else {
        return;
    };
    for s in all {
        let dump = read(&s.bytes, &mut NoProgress).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let g = &dump.graph;
        assert_eq!(g.node_count(), s.layout.nodes(), "{}", s.name);
        assert_eq!(g.types().len(), s.layout.types.len(), "{}", s.name);
        eprintln!(
            "{}: {} bytes, {} types, {} nodes, blob of {} bytes, segments: {}, interop: {}, tool: {}",
            s.name,
            s.bytes.len(),
            s.layout.types.len(),
            s.layout.nodes(),
            s.layout.blob_size,
            s.layout.segment_count.is_some(),
            s.layout.rcw_count.is_some(),
            s.layout.tool_tag.is_some()
        );
    }
}

#[test]
fn truncated_files_give_trailer_errors() {
    if let Some(all) = samples("truncated .gcdump files") {
        check(&truncated_files(all));
    }
}

#[test]
fn objects_ending_at_each_structural_boundary_give_typed_errors() {
    if let Some(all) = samples("cut .gcdump objects") {
        check(&cut_bodies(all));
    }
}

#[test]
fn wrong_signatures_are_rejected() {
    if let Some(all) = samples("wrong .gcdump signatures") {
        check(&wrong_signatures(all));
    }
}

#[test]
fn flipped_tags_give_typed_errors() {
    if let Some(all) = samples("flipped .gcdump tags") {
        check(&flipped_tags(all));
    }
}

#[test]
fn absurd_counts_give_typed_errors() {
    if let Some(all) = samples("absurd .gcdump counts") {
        check(&bad_counts(all));
    }
}

#[test]
fn out_of_range_indexes_and_labels_give_typed_errors() {
    if let Some(all) = samples("out-of-range .gcdump indexes") {
        check(&bad_indexes_and_labels(all));
    }
}

#[test]
fn there_are_at_least_twenty_distinct_malformed_files() {
    let Some(all) = samples("the malformed .gcdump catalogue") else {
        return;
    };
    let cases: Vec<Case> = [
        truncated_files(all),
        cut_bodies(all),
        wrong_signatures(all),
        flipped_tags(all),
        bad_counts(all),
        bad_indexes_and_labels(all),
    ]
    .into_iter()
    .flatten()
    .collect();
    let names: HashSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), cases.len(), "case names repeat");
    let distinct: HashSet<&[u8]> = cases.iter().map(|c| &c.data[..]).collect();
    assert_eq!(distinct.len(), cases.len(), "two cases are the same file");
    assert!(cases.len() >= 20, "only {} cases", cases.len());
    let originals: HashSet<&[u8]> = all.iter().map(|s| &s.bytes[..]).collect();
    assert!(cases.iter().all(|c| !originals.contains(&c.data[..])));
    eprintln!("{} distinct malformed files", cases.len());
}

/// Every boundary the walk found, for the prefix test.
fn boundaries(l: &Layout) -> Vec<usize> {
    let mut v = vec![
        l.root,
        l.root_type,
        l.root_type_name,
        l.root_type_end,
        l.graph,
        l.total_size,
        l.root_index,
        l.type_count,
        l.node_count,
        l.offsets,
        l.blob_len,
        l.blob,
        l.address_count,
        l.addresses,
        l.graph_end,
        l.after_graph,
        l.dotnet_heap,
        l.count_multipliers,
        l.root_end,
        l.end_of_objects,
        l.table,
        l.trailer,
        l.suffix,
    ];
    v.extend(&l.types);
    v.extend(l.is64_tag);
    v.extend(l.interop_tag);
    v.extend(l.tool_tag);
    v.extend(l.segment_count);
    v.extend(l.rcw_count);
    v
}

#[test]
fn every_prefix_of_the_smallest_sample_is_an_error() {
    let Some(all) = samples("prefixes of a .gcdump") else {
        return;
    };
    let s = smallest(all);
    let len = s.bytes.len();
    let mut cuts: Vec<usize> = (0..len).step_by(997).collect();
    for at in boundaries(&s.layout) {
        cuts.extend([at.saturating_sub(1), at, at + 1]);
    }
    cuts.extend(len - 8..len);
    cuts.sort_unstable();
    cuts.dedup();
    cuts.retain(|&c| c < len);
    for &at in &cuts {
        let data = &s.bytes[..at];
        match read(&data, &mut NoProgress) {
            Ok(_) => panic!("{}: the prefix of {at} bytes was accepted", s.name),
            Err(e) => {
                assert!(e.offset <= at as u64, "prefix {at}: {e}");
                // Past the signature, a cut file says it is cut short.
                if at >= 24 {
                    assert!(
                        matches!(
                            e.kind,
                            ErrorKind::EndMissing { .. } | ErrorKind::TruncatedFile { .. }
                        ) && e.to_string().contains("cut short"),
                        "prefix {at}: {e}"
                    );
                }
            }
        }
        // The same cut with the container rebuilt behind it: the objects
        // end early, which is an error up to the GCHeapDump's end tag.
        if at <= s.layout.root_end {
            let data = cut_body(s, at);
            match read(&data, &mut NoProgress) {
                Ok(_) => panic!("{}: objects cut at {at} were accepted", s.name),
                Err(e) => assert!(e.offset <= at as u64, "objects cut at {at}: {e}"),
            }
        }
    }
    eprintln!("{} prefixes of {}", cuts.len(), s.name);
}

#[test]
fn random_byte_flips_never_panic() {
    let Some(all) = samples("random .gcdump byte flips") else {
        return;
    };
    let s = smallest(all);
    let (b, l) = (&s.bytes, &s.layout);
    let len = b.len();
    // xorshift64*, fixed seed.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    };
    let header_end = l.blob + 64;
    let (mut ok, mut err) = (0, 0);
    for _ in 0..300 {
        let mut data = b.clone();
        let flips = 1 + next() % 4;
        for _ in 0..flips {
            // Half the flips hit the structure around the node blob (header,
            // type table, first records, tail); the rest anywhere.
            let r = next();
            let at = match r % 4 {
                0 => (r >> 8) as usize % header_end.min(len),
                1 => len - 1 - (r >> 8) as usize % (len - l.root_end.min(len - 1)),
                _ => (r >> 8) as usize % len,
            };
            let x = (next() % 255 + 1) as u8;
            data[at] ^= x;
        }
        match read(&data, &mut NoProgress) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(e.offset <= len as u64, "{e}");
                err += 1;
            }
        }
    }
    eprintln!("random flips of {}: {ok} read, {err} rejected", s.name);
}
