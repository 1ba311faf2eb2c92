//! The leak zoo's planted facts against the runtime's own heap walk.
//!
//! `FIXTURES=leaks scripts/make-fixtures` makes `linux-net8-leaks`,
//! `linux-net31-leaks` and `linux-net10-leaks`: DumpLab plants the
//! base-runtime leak patterns of `../shared/docs/leak-patterns.md` in
//! phase 1 and grows them in phase 2, and writes what it planted under
//! "leaks" in `phaseN.expected.json` (tests/dumplab/leaks.patch,
//! `leaks/Leaks.cs`). Before a detector is judged on these dumps, this test
//! proves the fixtures say the truth, with nothing of heaplens:
//!
//! * counts: every planted type has, in the runtime's walk of that phase
//!   (`phaseN.reference.json`), exactly (or at least) the instances the
//!   program says, and the patterns grew from phase 1 to phase 2;
//! * shapes: in the walk's object graph (`phaseN.graph.json.zst`), each
//!   planted object is held the way the pattern holds it — a timer's owner
//!   only by its `TimerCallback`, a subscriber only by its `EventHandler`,
//!   a request only by its CTS `CallbackNode`, a waiter only by its
//!   state-machine box, a `ConditionalWeakTable` value and a finalizer
//!   backlog object by no object at all (dependent handles, the
//!   finalization queue: every backlog object is a finalizer root), cache
//!   values by their dictionary's storage, clients and options each by the
//!   one list that keeps them;
//! * memory: the pinned buffers are pinned-handle roots to arrays of the
//!   planted length whose first byte (read from the core's `PT_LOAD`
//!   segments by this test) is the planted one, and one `String[]` holds
//!   the planted number of copies of the duplicated header text (read the
//!   same way).
//!
//! The heap names a nested type by its own name (`CallbackNode`), reflection
//! by `Outer+Inner` (`System.Threading.CancellationTokenSource+CallbackNode`):
//! [`walk_name`]. Without the sets the tests are skipped (required when
//! `HEAPLENS_REQUIRE_CORPUS=1` and `HEAPLENS_CI_FIXTURES` names `leaks`).

use heaplens_tests::core_segments::Segments;
use heaplens_tests::fixture_graph::{self, GraphFile, Hex};
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::path::Path;

/// The patterns DumpLab plants (`leaks/Leaks.cs`).
const PATTERNS: [&str; 12] = [
    "timers",
    "static_event",
    "cts_registrations",
    "conditional_weak_table",
    "async_waits",
    "finalizer_backlog",
    "pinned_buffers",
    "httpclient_churn",
    "json_options_per_call",
    "dictionary_cache",
    "concurrent_dictionary_cache",
    "duplicate_strings",
];

/// Patterns that need a library the runtime may lack (then `present` is
/// false and `error` says why).
const OPTIONAL: [&str; 2] = ["httpclient_churn", "json_options_per_call"];

/// The name the runtime's heap walk gives a type reflection names `full`:
/// a nested type by its own name (`A+B[X]` → `B[X]`; generic arguments are
/// kept as they are).
fn walk_name(full: &str) -> &str {
    let head = full.find('[').map_or(full, |i| &full[..i]);
    match head.rfind('+') {
        Some(i) => &full[i + 1..],
        None => full,
    }
}

fn load_json(path: &Path) -> Result<Json, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

fn leaks_of(dir: &Path, phase: u32) -> Result<Json, String> {
    let v = load_json(&dir.join(format!("phase{phase}.expected.json")))?;
    let l = v["leaks"].clone();
    if l.is_null() {
        return Err(format!(
            "{}: no \"leaks\" in phase{phase}.expected.json",
            dir.display()
        ));
    }
    Ok(l)
}

fn str_of<'a>(v: &'a Json, key: &str) -> Result<&'a str, String> {
    v[key].as_str().ok_or_else(|| format!("no {key} in {v}"))
}

fn u64_of(v: &Json, key: &str) -> Result<u64, String> {
    v[key].as_u64().ok_or_else(|| format!("no {key} in {v}"))
}

/// The planted patterns of one phase: (name, description), each present
/// (or, for an optional one, absent with its reason).
fn present_patterns(leaks: &Json) -> Result<Vec<(&'static str, &Json)>, String> {
    let mut v = Vec::new();
    for name in PATTERNS {
        let p = &leaks["patterns"][name];
        if p.is_null() {
            return Err(format!("pattern {name} is not described"));
        }
        if p["present"].as_bool() == Some(true) {
            v.push((name, p));
        } else if !OPTIONAL.contains(&name) || p["error"].as_str().is_none() {
            return Err(format!(
                "pattern {name} is not present, and not for a stated reason: {p}"
            ));
        }
    }
    Ok(v)
}

/// Counts: the program's numbers against the runtime's walk of the phase.
fn check_counts(dir: &Path, phase: u32) -> Result<(), Failed> {
    let leaks = leaks_of(dir, phase)?;
    if leaks["phase"].as_u64() != Some(u64::from(phase)) {
        return Err(format!(
            "phase{phase}.expected.json describes phase {}",
            leaks["phase"]
        )
        .into());
    }
    let reference = load_json(&dir.join(format!("phase{phase}.reference.json")))?;
    let mut walk: HashMap<&str, u64> = HashMap::new();
    for row in reference["dumpheap_stat"]
        .as_array()
        .ok_or("no dumpheap_stat")?
    {
        walk.insert(str_of(row, "type")?, u64_of(row, "count")?);
    }
    let count_of = |t: &str| {
        walk.get(t)
            .or_else(|| walk.get(walk_name(t)))
            .copied()
            .unwrap_or(0)
    };
    let other = leaks_of(dir, 3 - phase)?;
    for (name, p) in present_patterns(&leaks)? {
        let (n, n1, n2) = (
            u64_of(p, "count")?,
            u64_of(p, "phase1_count")?,
            u64_of(p, "phase2_count")?,
        );
        if n != [n1, n2][phase as usize - 1] || n1 == 0 || n2 <= n1 {
            return Err(format!(
                "{name}: count {n}, phase 1 {n1}, phase 2 {n2}: not a pattern that grew"
            )
            .into());
        }
        // Both phases' files agree on the plan.
        let q = &other["patterns"][name];
        if q["phase1_count"] != p["phase1_count"] || q["phase2_count"] != p["phase2_count"] {
            return Err(format!("{name}: the two phases' files disagree: {p} / {q}").into());
        }
        let exact = p["exact_type_counts"]
            .as_object()
            .ok_or("no exact_type_counts")?;
        let at_least = p["at_least_type_counts"]
            .as_object()
            .ok_or("no at_least_type_counts")?;
        if exact.is_empty() && at_least.is_empty() {
            return Err(format!("{name}: no type counts to check").into());
        }
        for (t, want) in exact {
            let want = want.as_u64().ok_or("not a count")?;
            if count_of(t) != want {
                return Err(format!(
                    "{name}: {t}: the runtime's walk has {}, the program made {want}",
                    count_of(t)
                )
                .into());
            }
        }
        for (t, want) in at_least {
            let want = want.as_u64().ok_or("not a count")?;
            if count_of(t) < want {
                return Err(format!(
                    "{name}: {t}: the runtime's walk has {}, the program made at least {want}",
                    count_of(t)
                )
                .into());
            }
        }
        // What the program read back with reflection agrees with its plan.
        for key in ["invocation_count", "entry_count", "copies"] {
            if let Some(k) = p[key].as_u64() {
                if k != n {
                    return Err(format!("{name}: {key} {k}, count {n}").into());
                }
            }
        }
    }
    Ok(())
}

/// The walk's object graph, by address: type names, referrers, roots.
struct Walk {
    graph: GraphFile,
    names: HashMap<u64, String>,
    /// node address → its type's name
    type_of: HashMap<u64, String>,
    /// target address → the distinct objects that reference it
    referrers: HashMap<u64, Vec<u64>>,
}

impl Walk {
    fn load(dir: &Path, phase: u32) -> Result<Walk, String> {
        let graph = fixture_graph::read(&dir.join(format!("phase{phase}.graph.json.zst")))?;
        let mut names = HashMap::new();
        for (mt, n) in &graph.types {
            let mt = u64::from_str_radix(mt.trim_start_matches("0x"), 16)
                .map_err(|e| format!("{mt}: {e}"))?;
            names.insert(mt, n.clone());
        }
        let mut type_of = HashMap::with_capacity(graph.nodes.len());
        let mut referrers: HashMap<u64, Vec<u64>> = HashMap::new();
        let mut next = 0usize;
        for &(Hex(addr), _, Hex(mt), count) in &graph.nodes {
            type_of.insert(
                addr,
                names
                    .get(&mt)
                    .cloned()
                    .unwrap_or_else(|| format!("MethodTable {mt:#x}")),
            );
            let targets = graph
                .edges
                .get(next..next + count)
                .ok_or("fewer edges than the nodes count")?;
            let distinct: HashSet<u64> = targets.iter().map(|e| e.0).collect();
            for t in distinct {
                referrers.entry(t).or_default().push(addr);
            }
            next += count;
        }
        Ok(Walk {
            graph,
            names,
            type_of,
            referrers,
        })
    }

    /// The objects of a type (reflection's name or the walk's).
    fn objects(&self, full: &str) -> Vec<u64> {
        let short = walk_name(full);
        let mut v: Vec<u64> = self
            .type_of
            .iter()
            .filter(|(_, t)| t.as_str() == full || t.as_str() == short)
            .map(|(&a, _)| a)
            .collect();
        v.sort_unstable();
        v
    }

    fn referrers_of(&self, addr: u64) -> &[u64] {
        self.referrers.get(&addr).map_or(&[], Vec::as_slice)
    }

    fn type_name(&self, addr: u64) -> &str {
        self.type_of.get(&addr).map_or("?", String::as_str)
    }

    /// Every object of `full` is referenced by exactly `per_object` objects,
    /// all of type `by` (reflection's or the walk's name); `count` of them.
    fn held_only_by(
        &self,
        full: &str,
        count: u64,
        by: &str,
        per_object: usize,
    ) -> Result<(), String> {
        let objs = self.objects(full);
        if objs.len() as u64 != count {
            return Err(format!("{} objects of {full}, {count} planted", objs.len()));
        }
        for a in objs {
            let refs = self.referrers_of(a);
            let bad: Vec<&str> = refs
                .iter()
                .map(|&r| self.type_name(r))
                .filter(|t| *t != by && *t != walk_name(by))
                .collect();
            if refs.len() != per_object || !bad.is_empty() {
                return Err(format!(
                    "{full} at {a:#x} is referenced by {:?}, not only by {per_object} {by}",
                    refs.iter().map(|&r| self.type_name(r)).collect::<Vec<_>>()
                ));
            }
        }
        Ok(())
    }

    /// The largest number of objects of `full` one object of type `by`
    /// references.
    fn most_held_by_one(&self, full: &str, by: &str) -> usize {
        let mut per: HashMap<u64, usize> = HashMap::new();
        for a in self.objects(full) {
            for &r in self.referrers_of(a) {
                if self.type_name(r) == by {
                    *per.entry(r).or_default() += 1;
                }
            }
        }
        per.into_values().max().unwrap_or(0)
    }
}

/// Shapes: how the walk holds each planted object.
fn check_shapes(dir: &Path, phase: u32) -> Result<(), Failed> {
    let leaks = leaks_of(dir, phase)?;
    let w = Walk::load(dir, phase)?;
    for (name, p) in present_patterns(&leaks)? {
        let n = u64_of(p, "count")?;
        let shape = |r: Result<(), String>| r.map_err(|e| format!("{name}: {e}"));
        match name {
            "timers" => shape(w.held_only_by(
                str_of(p, "instance_type")?,
                n,
                "System.Threading.TimerCallback",
                1,
            ))?,
            "static_event" => {
                let delegate = str_of(&p["callback"], "delegate_type")?;
                shape(w.held_only_by(str_of(p, "instance_type")?, n, delegate, 1))?
            }
            "cts_registrations" => shape(w.held_only_by(
                str_of(p, "instance_type")?,
                n,
                "System.Threading.CancellationTokenSource+CallbackNode",
                1,
            ))?,
            "conditional_weak_table" => {
                // The values: no object references them (dependent handles
                // do); the keys: the list's array.
                shape(w.held_only_by(str_of(p, "value_type")?, n, "-", 0))?;
                let keys = format!("{}[]", str_of(p, "key_type")?);
                shape(w.held_only_by(str_of(p, "key_type")?, n, &keys, 1))?
            }
            "async_waits" => {
                shape(w.held_only_by(str_of(p, "instance_type")?, n, str_of(p, "box_type")?, 1))?
            }
            "finalizer_backlog" => {
                let t = str_of(p, "instance_type")?;
                shape(w.held_only_by(t, n, "-", 0))?;
                let objs: HashSet<u64> = w.objects(t).into_iter().collect();
                let rooted: HashSet<u64> = w
                    .graph
                    .roots
                    .iter()
                    .filter(|r| r.1 == "finalizer" && objs.contains(&r.0 .0))
                    .map(|r| r.0 .0)
                    .collect();
                if rooted.len() as u64 != n {
                    return Err(
                        format!("{name}: {} of {n} {t} are finalizer roots", rooted.len()).into(),
                    );
                }
            }
            "dictionary_cache" => {
                let t = str_of(p, "instance_type")?;
                let entries = format!("Entry[System.String,{t}][]");
                shape(w.held_only_by(t, n, &entries, 1))?;
                if w.most_held_by_one(t, &entries) as u64 != n {
                    return Err(
                        format!("{name}: the {n} values are not in one entries array").into(),
                    );
                }
            }
            "concurrent_dictionary_cache" => {
                let t = str_of(p, "instance_type")?;
                shape(w.held_only_by(t, n, &format!("Node[System.String,{t}]"), 1))?
            }
            "httpclient_churn" => {
                let (client, handler) = (
                    "System.Net.Http.HttpClient",
                    "System.Net.Http.HttpClientHandler",
                );
                shape(w.held_only_by(client, n, "System.Object[]", 1))?;
                if w.most_held_by_one(client, "System.Object[]") as u64 != n
                    || w.most_held_by_one(handler, client) != 1
                    || w.objects(handler)
                        .iter()
                        .filter(|&&h| w.referrers_of(h).iter().any(|&r| w.type_name(r) == client))
                        .count() as u64
                        != n
                {
                    return Err(format!(
                        "{name}: not {n} clients in one list, each with a handler of its own"
                    )
                    .into());
                }
            }
            "json_options_per_call" => {
                let t = "System.Text.Json.JsonSerializerOptions";
                if w.most_held_by_one(t, "System.Object[]") as u64 != n {
                    return Err(format!("{name}: no list holds the {n} options").into());
                }
            }
            "pinned_buffers" | "duplicate_strings" => {} // check_memory
            other => return Err(format!("no shape check for {other}").into()),
        }
    }
    Ok(())
}

/// Memory: what the pinned buffers and the duplicated strings hold, read
/// from the core by this test.
fn check_memory(dir: &Path, phase: u32) -> Result<(), Failed> {
    let leaks = leaks_of(dir, phase)?;
    let w = Walk::load(dir, phase)?;
    let dump = heaplens_corpus::phase_dumps(dir, phase, &[".core.zst"])
        .into_iter()
        .next()
        .ok_or("no core of the phase")?;
    let mut seg = Segments::open(&heaplens_corpus::unpacked(&dump)?)?;
    let sizes: HashMap<u64, u64> = w.graph.nodes.iter().map(|n| (n.0 .0, n.1)).collect();

    let pins = &leaks["patterns"]["pinned_buffers"];
    let (n, len, first) = (
        u64_of(pins, "count")?,
        u64_of(pins, "array_length")?,
        u64_of(pins, "first_byte")?,
    );
    // A 64-bit byte[]: MethodTable, length (+ padding), then the bytes.
    let mut pinned = HashSet::new();
    for &(Hex(addr), ref kind, flags, _) in &w.graph.roots {
        if kind == "handle"
            && flags & 1 != 0
            && w.type_name(addr) == "System.Byte[]"
            && sizes.get(&addr) == Some(&(len + 24))
        {
            let mut b = [0u8; 1];
            seg.read(addr + 16, &mut b)?;
            if u64::from(b[0]) == first {
                pinned.insert(addr);
            }
        }
    }
    if pinned.len() as u64 != n {
        return Err(format!(
            "pinned_buffers: {} pinned byte[{len}] starting with {first:#x}, {n} planted",
            pinned.len()
        )
        .into());
    }

    let dup = &leaks["patterns"]["duplicate_strings"];
    let (copies, value) = (u64_of(dup, "copies")?, str_of(dup, "value")?);
    let want: Vec<u16> = value.encode_utf16().collect();
    let mut same = HashSet::new();
    for &(Hex(addr), _, Hex(mt), _) in &w.graph.nodes {
        if w.names.get(&mt).map(String::as_str) == Some("System.String")
            && seg.string_units(addr)? == want
        {
            same.insert(addr);
        }
    }
    // The program's list: one String[] holding exactly the copies.
    let mut per_array: HashMap<u64, u64> = HashMap::new();
    for &s in &same {
        for &r in w.referrers_of(s) {
            if w.type_name(r) == "System.String[]" {
                *per_array.entry(r).or_default() += 1;
            }
        }
    }
    if (same.len() as u64) < copies || per_array.values().max().copied() != Some(copies) {
        return Err(format!(
            "duplicate_strings: {} strings {value:?} in the heap, at most {:?} in one String[]; {copies} planted",
            same.len(),
            per_array.values().max()
        )
        .into());
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let dirs = heaplens_corpus::leaks_fixture_dirs("the planted-facts tests");
    for dir in &dirs {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        type Check = fn(&Path, u32) -> Result<(), Failed>;
        let mut checks: Vec<(&str, Check)> =
            vec![("counts", check_counts), ("shapes", check_shapes)];
        // The memory checks read a 64-bit core's segments (the Windows
        // set's minidumps are read by heaplens' own findings tests).
        if !heaplens_corpus::phase_dumps(dir, 1, &[".core.zst"]).is_empty() {
            checks.push(("memory", check_memory));
        }
        for phase in [1, 2] {
            for &(what, f) in &checks {
                let d = dir.clone();
                trials.push(Trial::test(
                    format!("leaks::{name}::phase{phase}::{what}"),
                    move || f(&d, phase),
                ));
            }
        }
    }
    if dirs.is_empty() {
        trials.push(Trial::test("leaks_reference", || Ok(())).with_ignored_flag(true));
    }
    trials.push(Trial::test("walk_name", || {
        let cases = [
            ("System.Threading.CancellationTokenSource+CallbackNode", "CallbackNode"),
            (
                "System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1[System.Int32,A.B+<M>c__async0]",
                "AsyncStateMachineBox`1[System.Int32,A.B+<M>c__async0]",
            ),
            ("System.Collections.Generic.List`1[A+B]", "System.Collections.Generic.List`1[A+B]"),
            ("DumpLab.Leaks.PollingSession", "DumpLab.Leaks.PollingSession"),
        ];
        for (full, want) in cases {
            if walk_name(full) != want {
                return Err(format!("walk_name({full}) = {}, not {want}", walk_name(full)).into());
            }
        }
        Ok(())
    }));
    libtest_mimic::run(&args, trials).exit();
}
