//! `heaplens stats` on the Linux core and Windows minidump fixtures (and
//! the server-GC ones `scripts/make-fixtures` makes), through
//! `heaplens_snapshot::open` as the CLI opens them, against the runtime's
//! own answer (`phaseN.reference.json`, `phaseN.expected.json`):
//!
//! * `stats`: the live objects per type (reachable from the roots; Free
//!   and unreachable apart, as SOS's `!dumpheap -stat` counts them) equal
//!   the reference's `dumpheap_stat`, count and bytes, except for objects
//!   allocated after the runtime's walk or reclaimed since — sorted object
//!   by object as `tests/clr_fixtures.rs` sorts them
//!   ([`heaplens_tests::reconcile`]); every difference is printed.
//!   `expected.json`'s `exact_type_counts` hold exactly and its
//!   `at_least_type_counts` as minimums;
//! * `root_path`: the shortest path from a root to the one
//!   `DumpLab.RootTarget` starts at the static field the program used
//!   (`expected.json`'s `notes["root path"]`: a static root named
//!   `DumpLab.Roots.ChainHead`), then the runtime's path without its
//!   statics array (50 `DumpLab.ChainNode`); a dump without the modules'
//!   metadata names no statics, and there the path is the runtime's (root
//!   kind, then `System.Object[]` and the chain);
//! * `names_equal_reference`: every live type's name is the runtime's
//!   (a dump without the assemblies' images — Windows heap minidumps —
//!   names them `module!token` and says so);
//! * `all_objects`: the statistics-only read (`heaplens stats
//!   --all-objects`, [`heaplens_snapshot::count_in`]: no graph) counts,
//!   per MethodTable, the live objects `stats` checks against the runtime
//!   plus the unreachable ones the full open lists below its table (and
//!   Free apart, the same blocks); every object of the runtime's walk still
//!   on the heap is in it; names and coverage are the full open's;
//! * `no_heap` (cores): the same core with the heap's bytes cut out is
//!   refused, saying the heap is missing.
//!
//! A Windows heap minidump of .NET 7+ lacks the runtime's type data and is
//! refused (`tests/clr_windows.rs` checks that); its checks are skipped.
//!
//! Our types are keyed by MethodTable and named with the reference's
//! MethodTable → name map (`graph.json`'s `types`), so the first two checks
//! do not depend on heaplens's own type names. The reference gives a
//! TypeDesc handle (bit 1 set) instead of the MethodTable for arrays of
//! .NET Core 3.1: those types are named through the reference objects at
//! the same addresses.

use heaplens_analysis::paths::root_paths;
use heaplens_analysis::reach::reachable;
use heaplens_analysis::stats::{type_stats, Selection, TypeStats};
use heaplens_bytes::{FileSource, PageCache};
use heaplens_graph::{HeapGraph, NoProgress, NodeIndex, RootKind, TypeKind};
use heaplens_snapshot::Snapshot;
use heaplens_tests::clr_check::registered_for_finalization_in;
use heaplens_tests::reconcile::{
    finalized_since, inconsistent_phase, reconcile, type_name, Reconciliation,
};
use heaplens_tests::{fixture_graph, fixture_modules};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// One fixture core and its reference files.
#[derive(Clone)]
struct Fixture {
    core: PathBuf,
    dir: PathBuf,
    phase: u32,
    /// Whether the dump holds every module's metadata, by what the fixture
    /// is ([`fixture_modules::holds_metadata`]).
    metadata_held: bool,
    /// Walkers of the heap that share no memory with the read, each
    /// opening the file on its own ([`heaplens_tests::walkers`], as the
    /// page's workers); 0: the read walks it, as the CLI does.
    walkers: usize,
}

impl Fixture {
    fn file(&self, suffix: &str) -> PathBuf {
        self.dir.join(format!("phase{}.{suffix}", self.phase))
    }
}

/// One check of one fixture core.
type Check = fn(&Fixture) -> Result<(), Failed>;

fn json(path: &Path) -> Result<Value, Failed> {
    let bytes =
        heaplens_corpus::read_maybe_zst(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// Opens a fixture core, with the module files its dump lacks (see
/// `fixture_modules`).
fn open(core: &Path) -> Result<Snapshot, Failed> {
    open_walked_by(core, 0)
}

/// [`open`], the heap walked by `walkers` walkers of the file (0: by the
/// read).
fn open_walked_by(core: &Path, walkers: usize) -> Result<Snapshot, Failed> {
    let dir = core.parent().ok_or("no fixture directory")?;
    let modules = fixture_modules::for_fixture(dir)?.unwrap_or_default();
    let file = heaplens_corpus::unpacked(core).map_err(|e| format!("{}: {e}", core.display()))?;
    let src = PageCache::new(FileSource::open(&file)?);
    let mut progress = NoProgress;
    let mut cx = heaplens_snapshot::Context::new(&modules, &mut progress);
    let mut file_walkers = heaplens_tests::walkers::FileWalkers::new(file, walkers);
    if walkers > 0 {
        cx.walkers = Some(&mut file_walkers);
    }
    let snap = heaplens_snapshot::open_in(heaplens_snapshot::format::Source::Local(&src), &mut cx)
        .map_err(|e| format!("{}: {e}", core.display()))?;
    drop(cx);
    if walkers > 1 && file_walkers.walked < 2 {
        return Err(format!("{} runs walked by the walkers", file_walkers.walked).into());
    }
    Ok(snap)
}

/// Counts a fixture core per type without its graph (`heaplens stats
/// --all-objects`), with the module files its dump lacks.
fn count(core: &Path) -> Result<heaplens_snapshot::HeapCounts, Failed> {
    let dir = core.parent().ok_or("no fixture directory")?;
    let modules = fixture_modules::for_fixture(dir)?.unwrap_or_default();
    let file = heaplens_corpus::unpacked(core).map_err(|e| format!("{}: {e}", core.display()))?;
    let src = PageCache::new(FileSource::open(&file)?);
    let mut progress = NoProgress;
    heaplens_snapshot::count_in(
        heaplens_snapshot::format::Source::Local(&src),
        &mut heaplens_snapshot::Context::new(&modules, &mut progress),
    )
    .map_err(|e| format!("{}: {e}", core.display()).into())
}

/// Count and bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Tally {
    count: i64,
    bytes: i64,
}

impl Tally {
    fn add(&mut self, bytes: u64) {
        self.count += 1;
        self.bytes += bytes as i64;
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} / {} B", self.count, self.bytes)
    }
}

/// A core read through `heaplens_snapshot::open`, reconciled with the
/// runtime's walk, its types named by the reference.
struct Read {
    snap: Snapshot,
    want: HeapGraph,
    live: Vec<bool>,
    rec: Reconciliation,
    /// Our MethodTable → the reference's type name.
    names: HashMap<u64, String>,
}

impl Read {
    fn of(f: &Fixture) -> Result<Read, Failed> {
        let snap = open_walked_by(&f.core, f.walkers)?;
        let want = fixture_graph::load(&f.file("graph.json.zst"), false)?;
        let clr = snap.info.clr.as_ref().ok_or("no CLR heap information")?;
        if !clr.problems.is_empty() {
            return Err(format!("the walk stopped early: {:?}", clr.problems).into());
        }
        let g = &snap.graph;
        let live = reachable(g);
        let excused = finalized_since(&want, &registered_for_finalization_in(&f.core)?);
        let rec = reconcile(g, &live, &clr.gc.segments, &want, &excused)?;
        // The reference's own MethodTable → name map; for the MethodTables
        // it does not list (TypeDesc handles), the names of the reference
        // objects at the same addresses.
        let mt_of = |g: &HeapGraph, n: NodeIndex| g.type_info(g.node_type(n)).method_table;
        let mut names: HashMap<u64, String> = want
            .types()
            .iter()
            .filter(|t| t.method_table & 2 == 0)
            .map(|t| (t.method_table, t.name.clone()))
            .collect();
        let mut by_object: HashMap<u64, BTreeSet<&str>> = HashMap::new();
        for &(r, o) in &rec.found {
            let (mt, name) = (mt_of(g, o), type_name(&want, r));
            match names.get(&mt) {
                Some(n) if n != name => {
                    return Err(format!(
                        "{:#x}: our MethodTable {mt:#x} is {n} in the reference, \
                         but the reference object there is a {name}",
                        g.node_address(o)
                    )
                    .into())
                }
                Some(_) => {}
                None => {
                    by_object.entry(mt).or_default().insert(name);
                }
            }
        }
        for (mt, n) in by_object {
            if n.len() != 1 {
                return Err(format!(
                    "MethodTable {mt:#x}: reference objects of several types {n:?}"
                )
                .into());
            }
            names.insert(mt, n.into_iter().next().unwrap().to_owned());
        }
        Ok(Read {
            snap,
            want,
            live,
            rec,
            names,
        })
    }

    /// The reference's name of our MethodTable `mt`, or a placeholder for
    /// one the reference never met.
    fn key(&self, mt: u64) -> String {
        self.names.get(&mt).cloned().unwrap_or_else(|| {
            let ours = self
                .snap
                .graph
                .types()
                .iter()
                .find(|t| t.method_table == mt)
                .map_or("?", |t| t.name.as_str());
            format!("<MethodTable {mt:#x} ({ours}), not in the reference>")
        })
    }

    fn node_key(&self, n: NodeIndex) -> String {
        let g = &self.snap.graph;
        self.key(g.type_info(g.node_type(n)).method_table)
    }

    /// The statistics `heaplens stats` shows: live objects only.
    fn stats(&self) -> TypeStats {
        type_stats(&self.snap.graph, None, Selection::Reachable)
    }

    /// Live objects per reference type name.
    fn by_reference_name(&self) -> BTreeMap<String, Tally> {
        let mut out: BTreeMap<String, Tally> = BTreeMap::new();
        for r in self.stats().rows {
            let t = out.entry(self.key(r.method_table)).or_default();
            t.count += r.count as i64;
            t.bytes += r.bytes as i64;
        }
        out
    }
}

/// Per type: ours = reference + allocated later − reclaimed.
/// A core opened from its `.zst` (a dump unpacked from an archive) with
/// walkers given: the walkers read the input's own bytes (the archive),
/// so the read walks the heap itself and asks them nothing; the heap is
/// the one opened from the unpacked file.
fn walkers_not_for_archives(f: &Fixture) -> Result<(), Failed> {
    let dir = f.core.parent().ok_or("no fixture directory")?;
    let modules = fixture_modules::for_fixture(dir)?.unwrap_or_default();
    let src = PageCache::new(FileSource::open(&f.core)?);
    let mut progress = NoProgress;
    let mut cx = heaplens_snapshot::Context::new(&modules, &mut progress);
    let mut walkers = heaplens_tests::walkers::FileWalkers::new(f.core.clone(), 3);
    cx.walkers = Some(&mut walkers);
    let snap = heaplens_snapshot::open_in(heaplens_snapshot::format::Source::Local(&src), &mut cx)
        .map_err(|e| format!("{}: {e}", f.core.display()))?;
    drop(cx);
    let archives = snap.info.archives.len();
    if archives == 0 || walkers.walked != 0 {
        return Err(format!("{archives} archives, {} runs walked", walkers.walked).into());
    }
    let plain = open(&f.core)?;
    if snap.graph.node_count() != plain.graph.node_count()
        || snap.graph.edge_count() != plain.graph.edge_count()
    {
        return Err("another heap than the unpacked file's".into());
    }
    Ok(())
}

/// [`stats`] with the heap walked by three walkers that share no memory
/// with the read, each opening the file on its own and handing its result
/// over as bytes, as the page's workers do
/// ([`heaplens_tests::walkers`]).
fn stats_walkers(f: &Fixture) -> Result<(), Failed> {
    stats(&Fixture {
        walkers: 3,
        ..f.clone()
    })
}

fn stats(f: &Fixture) -> Result<(), Failed> {
    let read = Read::of(f)?;
    let reference = json(&f.file("reference.json"))?;
    let g = &read.snap.graph;

    let st = read.stats();
    if st.free.count == 0 {
        return Err("no Free objects: is Free counted as a type?".into());
    }
    if st.rows.iter().any(|r| r.name == "Free") {
        return Err("a row named Free in the live statistics".into());
    }
    let unreachable = st.unreachable.ok_or("no unreachable totals")?;
    let live_count = read.live.iter().filter(|&&l| l).count() as u64;
    if st.objects != live_count {
        return Err(format!("{} objects in the rows, {live_count} reachable", st.objects).into());
    }

    let ours = read.by_reference_name();
    let mut want: BTreeMap<String, Tally> = BTreeMap::new();
    for t in reference["dumpheap_stat"]
        .as_array()
        .ok_or("no dumpheap_stat")?
    {
        let e = want
            .entry(t["type"].as_str().ok_or("no type")?.to_owned())
            .or_default();
        e.count += t["count"].as_i64().ok_or("no count")?;
        e.bytes += t["total_size"].as_i64().ok_or("no total_size")?;
    }
    let mut later: BTreeMap<String, Tally> = BTreeMap::new();
    for &o in &read.rec.later {
        later
            .entry(read.node_key(o))
            .or_default()
            .add(g.node_size(o));
    }
    // Reclaimed since, or finalized since (alive in the runtime's walk only
    // through objects whose finalizer has run since: see `reconcile`).
    let mut reclaimed: BTreeMap<String, Tally> = BTreeMap::new();
    for &r in read
        .rec
        .reclaimed
        .iter()
        .chain(read.rec.released.iter().map(|(r, _)| r))
    {
        reclaimed
            .entry(type_name(&read.want, r).to_owned())
            .or_default()
            .add(read.want.node_size(r));
    }

    let keys: BTreeSet<&String> = ours.keys().chain(want.keys()).collect();
    let mut differences = Vec::new();
    let mut unexplained = Vec::new();
    for k in keys {
        let get = |m: &BTreeMap<String, Tally>| m.get(k).copied().unwrap_or_default();
        let (o, w, l, r) = (get(&ours), get(&want), get(&later), get(&reclaimed));
        let expected = Tally {
            count: w.count + l.count - r.count,
            bytes: w.bytes + l.bytes - r.bytes,
        };
        let line = format!(
            "{k}: ours {o}, reference {w}; allocated later {l}, reclaimed or finalized since {r}"
        );
        if o != expected {
            unexplained.push(line);
        } else if o != w || l != Tally::default() || r != Tally::default() {
            differences.push(line);
        }
    }
    let sum = |m: &BTreeMap<String, Tally>| {
        m.values().fold(Tally::default(), |a, t| Tally {
            count: a.count + t.count,
            bytes: a.bytes + t.bytes,
        })
    };
    eprintln!(
        "{} phase {}: {} live types, {} objects, {} bytes (reference {} types, {}); \
         free {} / {} B, unreachable {} / {} B; {} objects allocated later ({}), {} reclaimed \
         since ({}); types that differ or have such objects:{}",
        f.dir.file_name().unwrap_or_default().to_string_lossy(),
        f.phase,
        ours.len(),
        st.objects,
        st.bytes,
        want.len(),
        sum(&want),
        st.free.count,
        st.free.bytes,
        unreachable.count,
        unreachable.bytes,
        read.rec.later.len(),
        sum(&later),
        read.rec.reclaimed.len(),
        sum(&reclaimed),
        differences
            .iter()
            .map(|d| format!("\n    {d}"))
            .collect::<String>()
    );
    if !unexplained.is_empty() {
        return Err(format!(
            "{} types differ from the reference beyond the objects allocated later or \
             reclaimed since:\n  {}",
            unexplained.len(),
            unexplained.join("\n  ")
        )
        .into());
    }

    // What DumpLab made itself.
    let expected = json(&f.file("expected.json"))?;
    let count = |name: &str| ours.get(name).map_or(0, |t| t.count);
    let mut wrong = Vec::new();
    for (name, n) in expected["exact_type_counts"]
        .as_object()
        .ok_or("no exact_type_counts")?
    {
        let n = n.as_i64().ok_or("bad count")?;
        if count(name) != n {
            wrong.push(format!("{name}: {} (exactly {n} expected)", count(name)));
        }
    }
    for (name, n) in expected["at_least_type_counts"]
        .as_object()
        .ok_or("no at_least_type_counts")?
    {
        let n = n.as_i64().ok_or("bad count")?;
        if count(name) < n {
            wrong.push(format!("{name}: {} (at least {n} expected)", count(name)));
        }
    }
    if !wrong.is_empty() {
        return Err(format!("expected.json: {}", wrong.join("; ")).into());
    }
    Ok(())
}

/// The shortest root path to `DumpLab.RootTarget`.
fn root_path(f: &Fixture) -> Result<(), Failed> {
    let read = Read::of(f)?;
    let reference = json(&f.file("reference.json"))?;
    let (want_path, want_kind) = fixture_graph::reference_root_path(&reference)?;
    let g = &read.snap.graph;
    let is_target = |x: NodeIndex| read.node_key(x) == "DumpLab.RootTarget";
    let targets = (0..g.node_count() as u32)
        .filter(|&x| read.live[x as usize] && is_target(x))
        .count();
    if targets != 1 {
        return Err(format!("{targets} live DumpLab.RootTarget objects, not 1").into());
    }
    let paths = root_paths(g, &mut NoProgress).map_err(|e| e.to_string())?;
    let p = paths
        .shortest_path_to(is_target)
        .ok_or("no path to DumpLab.RootTarget")?;
    let types: Vec<String> = p.nodes.iter().map(|&x| read.node_key(x)).collect();
    let root = &g.roots()[p.root];
    let name = g.root_name(root).unwrap_or("");
    agrees_on_metadata(f, &read)?;
    if !f.metadata_held {
        // No statics named: the runtime's path, through the statics array,
        // from a root of the runtime's kind. Roots holding the same object
        // are equally short: where ours starts at another root of that
        // object (the statics array is both pinned by a handle and, on
        // x86, held by a stack slot), the runtime's kind must hold it too.
        let tie = root.kind != want_kind
            && g.roots()
                .iter()
                .any(|r| r.object == root.object && r.kind == want_kind);
        if types != want_path || (root.kind != want_kind && !tie) {
            return Err(format!(
                "path from a {:?} root: {types:?}; the runtime's from a {want_kind:?} root: \
                 {want_path:?}",
                root.kind
            )
            .into());
        }
        return Ok(());
    }
    // The static field the program used, then the runtime's path without
    // the statics array it goes through.
    let expected = json(&f.file("expected.json"))?;
    let note = expected["notes"]["root path"]
        .as_str()
        .ok_or("no notes[\"root path\"] in expected.json")?;
    let field = note
        .strip_prefix("static ")
        .and_then(|n| n.split_whitespace().next())
        .ok_or_else(|| format!("the root path note names no static field: {note:?}"))?;
    if want_path.first().map(String::as_str) != Some("System.Object[]") {
        return Err(
            format!("the runtime's path does not start at a statics array: {want_path:?}").into(),
        );
    }
    if root.kind != RootKind::Static || name != field || types[..] != want_path[1..] {
        return Err(format!(
            "path from a {:?} root {name:?}: {types:?}; expected the static {field} then \
             {:?}",
            root.kind,
            &want_path[1..]
        )
        .into());
    }
    Ok(())
}

/// The report agrees with the fixture on the metadata: a dump that lacks
/// some modules' metadata (a Windows heap minidump) has types named
/// `module!token` and says so; one that holds it has neither.
fn agrees_on_metadata(f: &Fixture, read: &Read) -> Result<(), Failed> {
    let unnamed = read.snap.info.clr.as_ref().map_or(0, |c| c.names.unnamed);
    let says_so = read
        .snap
        .info
        .notes
        .iter()
        .any(|n| n.contains("does not hold the metadata"));
    let reports_lack = unnamed > 0 && says_so;
    if reports_lack == f.metadata_held {
        return Err(format!(
            "the dump {} every module's metadata, but heaplens reports {unnamed} unnamed \
             types{}",
            if f.metadata_held { "holds" } else { "lacks" },
            if says_so {
                " and says the dump lacks metadata"
            } else {
                ""
            }
        )
        .into());
    }
    Ok(())
}

/// The core with the contents of the GC heap's memory left out, as a
/// `--normal` or `--triage` core has it: opening it must say so.
fn no_heap(f: &Fixture) -> Result<(), Failed> {
    let snap = open(&f.core)?;
    let clr = snap.info.clr.as_ref().ok_or("no CLR heap information")?;
    let file = heaplens_corpus::unpacked(&f.core)?;
    let mut core = std::fs::read(&file)?;
    let u64_at = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap());
    let phoff = u64_at(&core, 32) as usize;
    let phentsize = u16::from_le_bytes([core[54], core[55]]) as usize;
    let phnum = u16::from_le_bytes([core[56], core[57]]) as usize;
    let mut dropped = 0;
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        let (vaddr, memsz) = (u64_at(&core, ph + 16), u64_at(&core, ph + 40));
        let is_load = core[ph..ph + 4] == 1u32.to_le_bytes();
        let holds_heap = clr
            .gc
            .segments
            .iter()
            .any(|s| s.start < vaddr + memsz && vaddr < s.end);
        if is_load && holds_heap {
            core[ph + 32..ph + 40].fill(0); // p_filesz
            dropped += 1;
        }
    }
    if dropped == 0 {
        return Err("no segment of the core holds the heap".into());
    }
    match heaplens_snapshot::open(&core, &mut NoProgress) {
        Err(e @ heaplens_snapshot::OpenError::NoHeap { .. }) => {
            let msg = e.to_string();
            eprintln!("{}: {msg}", f.core.display());
            if !msg.contains("--withheap") {
                return Err(format!("the message does not say how to fix it: {msg}").into());
            }
            Ok(())
        }
        Err(e) => Err(format!("{e:?}: {e}").into()),
        Ok(_) => Err("opened a core without its heap".into()),
    }
}

/// Our own type names equal the runtime's.
/// The statistics-only read: per MethodTable, every object of the full
/// open (its live ones, checked against the runtime by `stats`, and the
/// unreachable ones it lists apart), Free apart; each object of the
/// runtime's walk still on the heap counted.
fn all_objects(f: &Fixture) -> Result<(), Failed> {
    let read = Read::of(f)?;
    let counts = count(&f.core)?;
    let g = &read.snap.graph;
    // The full open's objects per MethodTable: reachable, unreachable
    // (garbage), and Free.
    let (mut live, mut garbage, mut free) = (
        HashMap::<u64, Tally>::new(),
        HashMap::<u64, Tally>::new(),
        Tally::default(),
    );
    g.for_each_node(|n, t, size| {
        let ty = g.type_info(t);
        match ty.kind {
            TypeKind::Free => free.add(size),
            TypeKind::Object if read.live[n as usize] => {
                live.entry(ty.method_table).or_default().add(size)
            }
            TypeKind::Object => garbage.entry(ty.method_table).or_default().add(size),
            _ => {}
        }
    });
    let mut all: HashMap<u64, Tally> = HashMap::new();
    let mut counted_free = Tally::default();
    for t in &counts.types {
        let tally = Tally {
            count: t.objects as i64,
            bytes: t.bytes as i64,
        };
        if t.is_free {
            counted_free.count += tally.count;
            counted_free.bytes += tally.bytes;
            continue;
        }
        if all.insert(t.method_table, tally).is_some() {
            return Err(format!("MethodTable {:#x} in two rows", t.method_table).into());
        }
        let ours = g
            .types()
            .iter()
            .find(|ty| ty.method_table == t.method_table);
        if ours.is_some_and(|ty| ty.name != t.name) {
            return Err(format!(
                "MethodTable {:#x}: named {} without the graph, {} with it",
                t.method_table,
                t.name,
                ours.map_or("", |ty| ty.name.as_str())
            )
            .into());
        }
    }
    if counted_free != free {
        return Err(format!("Free: {counted_free} without the graph, {free} with it").into());
    }
    let mts: BTreeSet<u64> = all
        .keys()
        .chain(live.keys())
        .chain(garbage.keys())
        .copied()
        .collect();
    let mut wrong = Vec::new();
    let (mut objects, mut garbage_objects) = (0, 0);
    for mt in mts {
        let get = |m: &HashMap<u64, Tally>| m.get(&mt).copied().unwrap_or_default();
        let (a, l, u) = (get(&all), get(&live), get(&garbage));
        objects += a.count;
        garbage_objects += u.count;
        if a.count != l.count + u.count || a.bytes != l.bytes + u.bytes {
            wrong.push(format!(
                "{}: all objects {a}; live {l} + unreachable {u}",
                read.key(mt)
            ));
        }
    }
    // Every object of the runtime's walk still on the heap (found at its
    // address by the full open) is counted, in its type.
    let mut found: HashMap<u64, i64> = HashMap::new();
    for &(_, o) in read.rec.found.iter().chain(&read.rec.released) {
        *found
            .entry(g.type_info(g.node_type(o)).method_table)
            .or_default() += 1;
    }
    for (mt, n) in found {
        let a = all.get(&mt).map_or(0, |t| t.count);
        if a < n {
            wrong.push(format!(
                "{}: {a} objects counted, {n} of the runtime's walk on the heap",
                read.key(mt)
            ));
        }
    }
    let (c, o) = (&counts.info.coverage, &read.snap.info.coverage);
    if c.is_complete() != o.is_complete()
        || c.heap_bytes_captured() != o.heap_bytes_captured()
        || c.heap_bytes_not_walked != o.heap_bytes_not_walked
    {
        wrong.push(format!("coverage {c:?} without the graph, {o:?} with it"));
    }
    eprintln!(
        "{} phase {}: {objects} objects in {} types without the graph ({garbage_objects} of them unreachable), free {counted_free}",
        f.dir.file_name().unwrap_or_default().to_string_lossy(),
        f.phase,
        all.len(),
    );
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(wrong.join("\n  ").into())
    }
}

fn names_equal_reference(f: &Fixture) -> Result<(), Failed> {
    let read = Read::of(f)?;
    // A dump without the assemblies' images (a Windows heap minidump)
    // names types `module!token`, and says so.
    read.snap
        .info
        .clr
        .as_ref()
        .ok_or("no CLR heap information")?;
    agrees_on_metadata(f, &read)?;
    let lacks_metadata = !f.metadata_held;
    let mut wrong = Vec::new();
    let rows = read.stats().rows;
    for r in &rows {
        if let Some(want) = read.names.get(&r.method_table) {
            if &r.name != want && !(lacks_metadata && r.name.contains('!')) {
                wrong.push(format!(
                    "{:#x}: {:?}, runtime {want:?}",
                    r.method_table, r.name
                ));
            }
        }
    }
    if !wrong.is_empty() {
        wrong.sort();
        return Err(format!(
            "{} of {} live types are named differently from the runtime:\n  {}",
            wrong.len(),
            rows.len(),
            wrong.join("\n  ")
        )
        .into());
    }
    Ok(())
}

/// The fixture's dumps of `phase`: its core (`phaseN.<kind>.core.zst`) or
/// its minidumps (`phaseN.<kind>.dmp.zst`, several kinds), by name.
fn dumps_of(dir: &Path, phase: u32) -> Vec<PathBuf> {
    heaplens_corpus::phase_dumps(dir, phase, &[".core.zst", ".dmp.zst"])
}

/// True (said on stderr) for a dump heaplens refuses because it lacks the
/// runtime's type data (a Windows heap minidump of .NET 7+; that refusal is
/// what `tests/clr_windows.rs` checks).
fn not_walkable(dump: &Path) -> Result<bool, Failed> {
    if !dump.to_string_lossy().ends_with(".dmp.zst") {
        return Ok(false);
    }
    let file = heaplens_corpus::unpacked(dump)?;
    let src = PageCache::new(FileSource::open(&file)?);
    match heaplens_snapshot::open(&src, &mut NoProgress) {
        Err(heaplens_snapshot::OpenError::Clr(heaplens_clr::ClrError::NoTypeData { .. })) => {
            eprintln!(
                "{}: not walkable (no type data in the dump), as tests/clr_windows.rs checks",
                dump.display()
            );
            Ok(true)
        }
        _ => Ok(false),
    }
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    match heaplens_corpus::shared_or_skip("the per-type statistics tests of the dumps") {
        Some(shared) => {
            let mut cores = 0;
            // The corpus' fixtures, and those of scripts/make-fixtures
            // (server GC).
            for dir in heaplens_corpus::walk_fixture_dirs(&shared, "the per-type statistics tests")
            {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                for phase in [1, 2] {
                    for dump in dumps_of(&dir, phase) {
                        let file = dump.file_name().unwrap().to_string_lossy().into_owned();
                        let is_core = file.ends_with(".core.zst");
                        // `phaseN.<kind>.dmp.zst`: a fixture may have several kinds.
                        let label = if is_core {
                            format!("{name}::phase{phase}")
                        } else {
                            let kind = file.split('.').nth(1).unwrap_or("dmp");
                            format!("{name}::phase{phase}::{kind}")
                        };
                        cores += usize::from(is_core);
                        let supplied = fixture_modules::for_fixture(&dir).ok().flatten().is_some();
                        let f = Fixture {
                            metadata_held: fixture_modules::holds_metadata(&dump, supplied),
                            core: dump,
                            dir: dir.clone(),
                            phase,
                            walkers: 0,
                        };
                        let mut checks: Vec<(&str, Check)> = vec![
                            ("stats", stats),
                            ("stats_walkers", stats_walkers),
                            ("root_path", root_path),
                            ("names_equal_reference", names_equal_reference),
                            ("all_objects", all_objects),
                        ];
                        if is_core {
                            checks.push(("no_heap", no_heap));
                        }
                        if is_core && phase == 1 && name == "linux-net8" {
                            checks.push(("walkers_not_for_archives", walkers_not_for_archives));
                        }
                        for (check, run) in checks {
                            let f = f.clone();
                            trials.push(Trial::test(format!("{check}::{label}"), move || {
                                if not_walkable(&f.core)? {
                                    return Ok(());
                                }
                                if check != "no_heap" {
                                    if let Some(why) = inconsistent_phase(&f.dir, f.phase) {
                                        eprintln!("SKIPPED {why}");
                                        return Ok(());
                                    }
                                }
                                run(&f)
                            }));
                        }
                    }
                }
            }
            trials.push(Trial::test("cores_present", move || {
                if cores >= 7 {
                    Ok(())
                } else {
                    Err(format!("only {cores} Linux cores in the corpus").into())
                }
            }));
        }
        None => trials.push(Trial::test("corpus", || Ok(())).with_ignored_flag(true)),
    }
    libtest_mimic::run(&args, trials).exit();
}
