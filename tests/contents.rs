//! Object contents against what the programs put there.
//!
//! * The zoo (`FIXTURES=zoo scripts/make-fixtures`: `linux-net8-zoo`,
//!   `linux-net31-zoo`, `linux-net10-zoo`): every exhibit's objects, found
//!   by their static root, have the fields, offsets and values the
//!   runtime's own reflection described (`phase1.expected.json` "zoo":
//!   offsets measured by the JIT with `__makeref`), delegates call the
//!   methods reflection names on the targets it names, collections have
//!   the counts and storage lengths reflection read, and the duplicate
//!   strings equal those an independent reader finds: this file reads the
//!   core's `PT_LOAD` segments itself and the text of every string of the
//!   runtime's own heap walk (`phase1.graph.json.zst`) at its address.
//! * The corpus' DumpLab population (every fixture dump with its
//!   metadata): each `Widget` has an `Id` below 10,000 and the `Label`
//!   DumpLab built from it, each `GenericBox<string>` its `gbox-NNN`, the
//!   `Point3[]` its `(i, -i, 42)`, `Roots.Boxed` its boxed `1000000 + i`,
//!   the chain its depths, the `RootTarget` its tag.
//! * A `.gcdump` has no contents, and says why.

use heaplens_analysis::reach::Reachable;
use heaplens_analysis::strings::{duplicate_strings, StringOptions};
use heaplens_bytes::{FileSource, PageCache};
use heaplens_contents::collections::collection_fill;
use heaplens_contents::delegates::delegate;
use heaplens_contents::inspect::{read_object, string_text, Contents, ReadOptions};
use heaplens_contents::value::{guid_text, DecodeOptions, FieldValue, Value};
use heaplens_contents::ObjectReader;
use heaplens_graph::{HeapGraph, NoProgress, NodeIndex};
use heaplens_snapshot::Snapshot;
use heaplens_tests::core_segments::Segments;
use heaplens_tests::fixture_modules;
use libtest_mimic::{Arguments, Failed, Trial};
use serde_json::Value as Json;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// A dump opened with its fixture's module files, and its bytes.
struct Opened {
    snap: Snapshot,
    src: PageCache<FileSource>,
    file: PathBuf,
}

fn open(dir: &Path, dump: &Path) -> Result<Opened, Failed> {
    let modules = fixture_modules::for_fixture(dir)?.unwrap_or_default();
    let file = heaplens_corpus::unpacked(dump)?;
    let src = PageCache::new(FileSource::open(&file)?);
    let snap = heaplens_snapshot::open_with(&src, &modules, &mut NoProgress)
        .map_err(|e| format!("{}: {e}", dump.display()))?;
    Ok(Opened { snap, src, file })
}

/// The object a static root named `name` holds.
fn static_root(g: &HeapGraph, name: &str) -> Result<NodeIndex, String> {
    g.roots()
        .iter()
        .find(|r| g.root_name(r) == Some(name))
        .map(|r| r.object)
        .ok_or_else(|| format!("no static root {name}"))
}

fn zoo_of(dir: &Path) -> Result<Json, Failed> {
    let bytes = std::fs::read(dir.join("phase1.expected.json"))?;
    let v: Json = serde_json::from_slice(&bytes)?;
    let zoo = v["zoo"].clone();
    if zoo.is_null() {
        return Err(format!("{}: no zoo in phase1.expected.json", dir.display()).into());
    }
    Ok(zoo)
}

fn the_dump(dir: &Path) -> Result<PathBuf, Failed> {
    heaplens_corpus::phase_dumps(dir, 1, &[".core.zst"])
        .into_iter()
        .next()
        .ok_or_else(|| format!("{}: no phase 1 core", dir.display()).into())
}

/// Reads whole strings and boxes.
const FULL: DecodeOptions = DecodeOptions {
    string_chars: 1 << 20,
    depth: 8,
};

// ---------------------------------------------------------------------
// Values as reflection wrote them (see zoo/Zoo.cs in tests/dumplab/zoo.patch).

fn int_of(v: &Value) -> Option<i128> {
    match v {
        Value::Int(i) => Some(*i as i128),
        Value::UInt(u) => Some(*u as i128),
        Value::Enum { value, .. } => Some(*value),
        Value::Nullable(Some(b)) => int_of(b),
        Value::Ref(r) => r.boxed.as_deref().and_then(int_of),
        _ => None,
    }
}

/// Why `got` is not the value reflection described as `want`.
fn compare(want: &Json, got: &Value, at: &str) -> Result<(), String> {
    let fail = |what: &str| Err(format!("{at}: want {what} {want}, got {got:?}"));
    // A reference keeps its own comparisons; a null Nullable is null.
    if want.is_null() {
        return match got {
            Value::Null | Value::Nullable(None) => Ok(()),
            _ => fail("null"),
        };
    }
    if let Some(b) = want.as_bool() {
        let got_b = match got {
            Value::Bool(x) => Some(*x),
            Value::Ref(r) => match r.boxed.as_deref() {
                Some(Value::Bool(x)) => Some(*x),
                _ => None,
            },
            _ => None,
        };
        return if got_b == Some(b) {
            Ok(())
        } else {
            fail("bool")
        };
    }
    let o = want
        .as_object()
        .ok_or_else(|| format!("{at}: unreadable expectation {want}"))?;
    if let Some(t) = o.get("ref").and_then(Json::as_str) {
        let Value::Ref(r) = got else {
            return fail("a reference to");
        };
        if r.type_name.as_deref() != Some(t) {
            return fail("a reference to");
        }
        if let Some(inner) = o.get("boxed") {
            // A boxed struct's fields are read through its own object (see
            // check_values); a reference shows simpler boxes' values.
            if inner.get("struct").is_some() && r.boxed.is_none() {
                return Ok(());
            }
            let b = r
                .boxed
                .as_deref()
                .cloned()
                .unwrap_or(Value::Unreadable("no box".into()));
            return compare(inner, &b, at);
        }
        return Ok(());
    }
    if let Some(s) = o.get("string").and_then(Json::as_str) {
        return match got {
            Value::Ref(r)
                if r.string
                    .as_ref()
                    .is_some_and(|x| x.text == s && !x.truncated) =>
            {
                Ok(())
            }
            _ => fail("the string"),
        };
    }
    if let Some(name) = o.get("enum").and_then(Json::as_str) {
        let want_int: i128 = o["int"]
            .as_str()
            .unwrap_or("")
            .parse()
            .map_err(|_| "enum int")?;
        let inner = match got {
            Value::Ref(r) => r.boxed.as_deref().unwrap_or(got),
            v => v,
        };
        return match inner {
            Value::Enum {
                value,
                name: Some(n),
                ..
            } if *value == want_int && n == name => Ok(()),
            _ => fail("the enum value"),
        };
    }
    if let Some(i) = o.get("int").and_then(Json::as_str) {
        let want_int: i128 = i.parse().map_err(|_| format!("{at}: int {i}"))?;
        return if int_of(got) == Some(want_int) {
            Ok(())
        } else {
            fail("the integer")
        };
    }
    if let Some(c) = o.get("char").and_then(Json::as_u64) {
        let g = match got {
            Value::Char(x) => Some(u64::from(*x)),
            Value::Ref(r) => match r.boxed.as_deref() {
                Some(Value::Char(x)) => Some(u64::from(*x)),
                _ => None,
            },
            _ => None,
        };
        return if g == Some(c) {
            Ok(())
        } else {
            fail("the char")
        };
    }
    if let Some(f) = o.get("float").and_then(Json::as_str) {
        let w: f64 = f.parse().map_err(|_| format!("{at}: float {f}"))?;
        let inner = match got {
            Value::Ref(r) => r.boxed.as_deref().unwrap_or(got),
            v => v,
        };
        let ok = match inner {
            Value::F64(x) => x.to_bits() == w.to_bits(),
            Value::F32(x) => x.to_bits() == (w as f32).to_bits(),
            _ => false,
        };
        return if ok { Ok(()) } else { fail("the float") };
    }
    let unbox = |v: &Value| -> Value {
        match v {
            Value::Ref(r) => r.boxed.as_deref().cloned().unwrap_or_else(|| v.clone()),
            v => v.clone(),
        }
    };
    if let Some(d) = o.get("decimal").and_then(Json::as_str) {
        return match unbox(got) {
            Value::Decimal(x) if x == d => Ok(()),
            _ => fail("the decimal"),
        };
    }
    if let Some(t) = o.get("datetime_ticks").and_then(Json::as_str) {
        let kind = o["kind"].as_str().unwrap_or("");
        return match unbox(got) {
            Value::DateTime { ticks, kind: k } if ticks.to_string() == t && k.as_str() == kind => {
                Ok(())
            }
            _ => fail("the DateTime"),
        };
    }
    if let Some(t) = o.get("timespan_ticks").and_then(Json::as_str) {
        return match unbox(got) {
            Value::TimeSpan(x) if x.to_string() == t => Ok(()),
            _ => fail("the TimeSpan"),
        };
    }
    if let Some(gd) = o.get("guid").and_then(Json::as_str) {
        return match unbox(got) {
            Value::Guid(x) if guid_text(&x) == gd => Ok(()),
            _ => fail("the Guid"),
        };
    }
    if let Some(t) = o.get("struct").and_then(Json::as_str) {
        let (name, fields) = match got {
            Value::Struct { type_name, fields } => (type_name.as_str(), fields.as_slice()),
            _ => return fail("the struct"),
        };
        if name != t {
            return fail("a struct of type");
        }
        let wanted = o["fields"].as_array().ok_or("struct fields")?;
        return compare_fields(wanted, fields, at, false);
    }
    Err(format!("{at}: no comparison for {want}"))
}

/// Compares reflection's fields (`name`, `declared_in`, `type`, `offset`,
/// `value`) with ours; `offsets_from_object`: ours are from the object's
/// address as reflection's (measured) ones are.
fn compare_fields(
    wanted: &[Json],
    got: &[FieldValue],
    at: &str,
    offsets_from_object: bool,
) -> Result<(), String> {
    if wanted.len() != got.len() {
        let w: Vec<&str> = wanted.iter().filter_map(|f| f["name"].as_str()).collect();
        let g: Vec<&str> = got.iter().map(|f| f.name.as_str()).collect();
        return Err(format!("{at}: fields {g:?}, reflection has {w:?}"));
    }
    for f in wanted {
        let name = f["name"].as_str().ok_or("field name")?;
        let declared = f["declared_in"].as_str().ok_or("declared_in")?;
        let here = format!("{at}.{name}");
        let g = got
            .iter()
            .find(|x| x.name == name && x.declared_in == declared)
            .ok_or_else(|| format!("{here}: no field {name} declared in {declared}"))?;
        if g.type_name != f["type"].as_str().unwrap_or("") {
            return Err(format!(
                "{here}: type {}, reflection says {}",
                g.type_name, f["type"]
            ));
        }
        if let (Some(off), true) = (f["offset"].as_u64(), offsets_from_object) {
            if u64::from(g.offset) != off {
                return Err(format!("{here}: offset {}, the JIT's is {off}", g.offset));
            }
        }
        compare(&f["value"], &g.value, &here)?;
    }
    Ok(())
}

fn check_values(dir: &Path) -> Result<(), Failed> {
    let zoo = zoo_of(dir)?;
    let o = open(dir, &the_dump(dir)?)?;
    let r = o.snap.object_reader(&o.src)?;
    let g = &o.snap.graph;
    let mut offsets = 0;
    for obj in zoo["values"]["objects"].as_array().ok_or("zoo values")? {
        let root = obj["root"].as_str().ok_or("root")?;
        let node = static_root(g, root)?;
        let got = read_object(
            &r,
            node,
            ReadOptions {
                decode: FULL,
                ..Default::default()
            },
        )?;
        if got.layout.name != obj["type"].as_str().unwrap_or("") {
            return Err(format!(
                "{root}: type {}, reflection says {}",
                got.layout.name, obj["type"]
            )
            .into());
        }
        let Contents::Fields(fields) = &got.contents else {
            return Err(format!("{root}: no fields: {:?}", got.contents).into());
        };
        let wanted = obj["fields"].as_array().ok_or("fields")?;
        offsets += wanted.iter().filter(|f| f["offset"].is_u64()).count();
        compare_fields(wanted, fields, root, true)?;
    }
    if offsets < 30 {
        return Err(format!("only {offsets} measured offsets compared").into());
    }
    // Static fields: values where the FieldDescs and the statics records
    // place them.
    let st = &zoo["values"]["statics"];
    let owner = st["type"].as_str().ok_or("statics type")?;
    let t = (0..g.types().len() as u32)
        .find(|&t| g.type_info(t).name == owner)
        .ok_or_else(|| format!("no type {owner}"))?;
    let statics = r.static_fields(t)?;
    let wanted = st["fields"].as_array().ok_or("static fields")?;
    if wanted.len() < 8 {
        return Err("fewer static fields described than made".into());
    }
    for w in wanted {
        let name = w["name"].as_str().ok_or("name")?;
        let f = statics
            .iter()
            .find(|f| f.field.name == name)
            .ok_or_else(|| format!("no static {owner}.{name}"))?;
        if f.field.type_name != w["type"].as_str().unwrap_or("") {
            return Err(format!(
                "static {name}: type {}, reflection {}",
                f.field.type_name, w["type"]
            )
            .into());
        }
        let v = heaplens_contents::inspect::static_value(&r, f, FULL);
        compare(&w["value"], &v, &format!("static {owner}.{name}"))?;
    }
    // Every static reference field read so holds the object the statics
    // work named it on (a root of kind static, named Type.field).
    for f in &statics {
        if f.field.kind != heaplens_contents::layout::FieldKind::Reference {
            continue;
        }
        let v = heaplens_contents::inspect::static_value(&r, f, FULL);
        let root = g
            .roots()
            .iter()
            .find(|x| g.root_name(x) == Some(format!("{owner}.{}", f.field.name).as_str()));
        match (v, root) {
            (Value::Ref(x), Some(root)) if x.node == Some(root.object) => {}
            (Value::Null, None) => {}
            (v, root) => {
                return Err(
                    format!("static {}: {v:?}, the statics root: {root:?}", f.field.name).into(),
                )
            }
        }
    }
    // Boxed values in an object[].
    let boxes = &zoo["values"]["boxes"];
    let node = static_root(g, boxes["root"].as_str().ok_or("boxes root")?)?;
    let got = read_object(
        &r,
        node,
        ReadOptions {
            decode: FULL,
            ..Default::default()
        },
    )?;
    let Contents::Array { elements, .. } = &got.contents else {
        return Err("Boxes is not an array".into());
    };
    let wanted = boxes["elements"].as_array().ok_or("box elements")?;
    if wanted.len() != elements.len() {
        return Err(format!("{} boxes, reflection has {}", elements.len(), wanted.len()).into());
    }
    for (i, (w, e)) in wanted.iter().zip(elements).enumerate() {
        compare(w, e, &format!("Boxes[{i}]"))?;
    }
    // A boxed struct through its own object.
    let inst = static_root(g, "DumpLab.Zoo.ContentsValues.Instance")?;
    let Some(Value::Ref(b)) =
        heaplens_contents::inspect::field_value(&r, inst, "BoxedStruct", FULL)?
    else {
        return Err("no BoxedStruct".into());
    };
    let bnode = b.node.ok_or("BoxedStruct's object")?;
    let boxed = read_object(
        &r,
        bnode,
        ReadOptions {
            decode: FULL,
            ..Default::default()
        },
    )?;
    let Contents::Fields(bf) = &boxed.contents else {
        return Err("the boxed Inner has no fields".into());
    };
    let want_boxed = zoo["values"]["objects"][0]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|x| x["name"] == "BoxedStruct"))
        .map(|f| f["value"]["boxed"]["fields"].clone())
        .ok_or("reflection's BoxedStruct")?;
    compare_fields(
        want_boxed.as_array().ok_or("boxed fields")?,
        bf,
        "BoxedStruct",
        false,
    )?;
    Ok(())
}

fn check_delegates(dir: &Path) -> Result<(), Failed> {
    let zoo = zoo_of(dir)?;
    let o = open(dir, &the_dump(dir)?)?;
    let r = o.snap.object_reader(&o.src)?;
    let g = &o.snap.graph;
    let name_of = |n: NodeIndex| g.type_info(g.node_type(n)).name.clone();
    for d in zoo["delegates"]["delegates"]
        .as_array()
        .ok_or("delegates")?
    {
        let root = d["root"].as_str().ok_or("root")?;
        let node = static_root(g, root)?;
        let info = delegate(&r, node).ok_or_else(|| format!("{root} is not a delegate"))?;
        let want = d["invocations"].as_array().ok_or("invocations")?;
        if info.invocation_count != d["invocation_count"].as_u64().unwrap_or(0)
            || info.invocations.len() != want.len()
        {
            return Err(format!("{root}: {info:?}, reflection: {d}").into());
        }
        for (i, (w, got)) in want.iter().zip(&info.invocations).enumerate() {
            let method = got.method.as_ref().map(|m| m.full());
            if method.as_deref() != w["method"].as_str() {
                return Err(format!(
                    "{root}[{i}]: method {method:?}, reflection: {}",
                    w["method"]
                )
                .into());
            }
            // The heap names a nested type by its own name (the runtime's
            // TypeString at the top level); reflection by `Outer+Inner`.
            let target = got.target.map(name_of);
            let same = match (target.as_deref(), w["target"].as_str()) {
                (Some(a), Some(b)) => a == b || b.ends_with(&format!("+{a}")),
                (a, b) => a == b,
            };
            if !same || got.is_static != w["static"].as_bool().unwrap_or(false) {
                return Err(format!(
                    "{root}[{i}]: target {target:?} static {}, reflection: {w}",
                    got.is_static
                )
                .into());
            }
        }
    }
    // The timer's callback: a delegate among the objects the Timer leads
    // to (no BCL field name assumed), calling the method reflection named
    // with the state it named.
    let t = &zoo["delegates"]["timer"];
    let timer = static_root(g, t["root"].as_str().ok_or("timer root")?)?;
    let mut seen = HashSet::new();
    let mut layer = vec![timer];
    let mut found = None;
    for _ in 0..4 {
        let mut next = Vec::new();
        for n in layer {
            for &c in g.children(n) {
                if !seen.insert(c) {
                    continue;
                }
                if let Some(d) = delegate(&r, c) {
                    found = found.or(Some(d));
                }
                next.push(c);
            }
        }
        layer = next;
    }
    let d = found.ok_or("no delegate behind the Timer")?;
    let method = d
        .invocations
        .first()
        .and_then(|i| i.method.as_ref())
        .map(|m| m.full());
    if method.as_deref() != t["method"].as_str() {
        return Err(format!("the timer calls {method:?}, reflection: {}", t["method"]).into());
    }
    // Its state is among the objects the timer leads to.
    let state = t["state"].as_str().unwrap_or("");
    if !seen.iter().any(|&n| name_of(n) == state) {
        return Err(format!("no {state} behind the Timer").into());
    }
    Ok(())
}

fn check_collections(dir: &Path) -> Result<(), Failed> {
    let zoo = zoo_of(dir)?;
    let o = open(dir, &the_dump(dir)?)?;
    let r = o.snap.object_reader(&o.src)?;
    let g = &o.snap.graph;
    for c in zoo["collections"]["collections"]
        .as_array()
        .ok_or("collections")?
    {
        let root = c["root"].as_str().ok_or("root")?;
        let node = static_root(g, root)?;
        let f = collection_fill(&r, node).ok_or_else(|| format!("{root}: not measured"))?;
        let capacity = c["capacity"].as_u64().unwrap_or(0);
        if f.count != c["count"].as_u64().unwrap_or(u64::MAX) || f.capacity != capacity {
            return Err(format!("{root}: {f:?}; reflection: {c}").into());
        }
        if f.storage.is_none() != c["capacity"].is_null() {
            return Err(format!("{root}: storage {:?}; reflection: {c}", f.storage).into());
        }
    }
    for a in zoo["collections"]["arrays"].as_array().ok_or("arrays")? {
        let root = a["root"].as_str().ok_or("root")?;
        let node = static_root(g, root)?;
        let f = collection_fill(&r, node).ok_or_else(|| format!("{root}: not measured"))?;
        let all_zero = a["all_zero"].as_bool().unwrap_or(false);
        let len = a["length"].as_u64().unwrap_or(0);
        let layout = r.layout(g.node_type(node))?;
        let elem = match &layout.shape {
            heaplens_contents::layout::Shape::Array(x) => u64::from(x.element_size),
            _ => return Err(format!("{root}: not an array").into()),
        };
        let want_waste = if all_zero { len * elem } else { 0 };
        if f.all_zero != all_zero || f.capacity != len || f.wasted_bytes != want_waste {
            return Err(format!("{root}: {f:?}; reflection: {a}").into());
        }
    }
    Ok(())
}

fn check_strings(dir: &Path) -> Result<(), Failed> {
    let zoo = zoo_of(dir)?;
    let o = open(dir, &the_dump(dir)?)?;
    let r = o.snap.object_reader(&o.src)?;
    let g = &o.snap.graph;
    // The runtime's live strings, read from the core by this test alone.
    let graph = heaplens_tests::fixture_graph::read(&dir.join("phase1.graph.json.zst"))?;
    let string_mts: HashSet<u64> = graph
        .types
        .iter()
        .filter(|(_, n)| n.as_str() == "System.String")
        .filter_map(|(mt, _)| u64::from_str_radix(mt.trim_start_matches("0x"), 16).ok())
        .collect();
    let mut seg = Segments::open(&o.file)?;
    let mut texts: HashMap<Vec<u16>, u64> = HashMap::new();
    let (mut count, mut bytes) = (0u64, 0u64);
    let mut live: HashSet<u64> = HashSet::new();
    // Objects the walk had that a collection reclaimed before the dump
    // (the walk tests reconcile them): not in the dump, not compared.
    let mut reclaimed = 0;
    for &(addr, size, mt, _) in &graph.nodes {
        // (.NET Core 3.1's walk names arrays by their TypeDesc, not their
        // MethodTable: the address decides.)
        if heaplens_contents::node_at_sorted(g, addr.0).is_none() {
            reclaimed += 1;
            continue;
        }
        live.insert(addr.0);
        if !string_mts.contains(&mt.0) {
            continue;
        }
        count += 1;
        bytes += size;
        *texts.entry(seg.string_units(addr.0)?).or_insert(0) += 1;
    }
    let want: HashMap<String, u64> = texts
        .iter()
        .filter(|(_, &c)| c >= 2)
        .map(|(t, &c)| (String::from_utf16_lossy(t), c))
        .collect();
    if reclaimed > 16 {
        return Err(
            format!("{reclaimed} objects of the runtime's walk are not in the dump").into(),
        );
    }
    // Ours, over the same objects (the runtime's live set).
    let opts = StringOptions {
        min_copies: 2,
        top: usize::MAX,
        ..Default::default()
    };
    let report = duplicate_strings(
        &r,
        &|n| live.contains(&g.node_address(n)),
        &opts,
        &mut NoProgress,
    )?;
    if report.strings != count || report.bytes != bytes {
        return Err(format!(
            "{} strings of {} bytes; the runtime's walk has {count} of {bytes}",
            report.strings, report.bytes
        )
        .into());
    }
    let mut got: HashMap<String, u64> = HashMap::new();
    for d in &report.groups {
        let t = string_text(&r, d.example, 1 << 20)?;
        got.insert(t.text, d.copies);
    }
    if got != want {
        let extra: Vec<_> = got
            .iter()
            .filter(|(k, v)| want.get(*k) != Some(v))
            .take(5)
            .collect();
        let missing: Vec<_> = want
            .iter()
            .filter(|(k, v)| got.get(*k) != Some(v))
            .take(5)
            .collect();
        return Err(format!(
            "{} duplicated values, the independent reader finds {}; ours only: {extra:?}; \
             its only: {missing:?}",
            got.len(),
            want.len()
        )
        .into());
    }
    let wasted: u64 = report.groups.iter().map(|d| d.wasted_bytes).sum();
    if wasted != report.wasted_bytes {
        return Err("wasted bytes do not add up".into());
    }
    // The zoo's groups: at least the copies it made (its literal is one
    // more), held most by the type that holds them.
    for w in zoo["strings"]["duplicates"]
        .as_array()
        .ok_or("duplicates")?
    {
        let text = w["text"].as_str().ok_or("text")?;
        let copies = w["copies"].as_u64().unwrap_or(0);
        let group = report
            .groups
            .iter()
            .find(|d| string_text(&r, d.example, 1 << 20).is_ok_and(|t| t.text == text))
            .ok_or_else(|| format!("{text:.40}: not found as a duplicate"))?;
        if group.copies < copies || group.copies > copies + 1 {
            return Err(
                format!("{text:.40}: {} copies, DumpLab made {copies}", group.copies).into(),
            );
        }
        let (holder, held) = group.holders.first().copied().ok_or("no holder")?;
        if g.type_info(holder).name != w["holder"].as_str().unwrap_or("")
            || held != w["held_by_holder"].as_u64().unwrap_or(0)
        {
            return Err(format!(
                "{text:.40}: held most by {} ({held}), DumpLab: {}",
                g.type_info(holder).name,
                w
            )
            .into());
        }
    }
    // Search: every Label's text, and the literal.
    let search = StringOptions {
        search: Some("dup-ünï".into()),
        search_limit: 1000,
        ..opts
    };
    let live_all = Reachable::of(g);
    let found = duplicate_strings(&r, &|n| live_all.contains(n), &search, &mut NoProgress)?;
    if found.match_count < 30 || found.match_count > 31 {
        return Err(format!(
            "{} strings contain dup-ünï; DumpLab made 30 (+ its literal)",
            found.match_count
        )
        .into());
    }
    Ok(())
}

// ---------------------------------------------------------------------
// The corpus' DumpLab population.

fn field(r: &dyn ObjectReader, n: NodeIndex, name: &str) -> Result<Value, String> {
    heaplens_contents::inspect::field_value(r, n, name, FULL)
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no field {name}"))
}

fn text_of(v: &Value) -> Option<&str> {
    match v {
        Value::Ref(r) => r.string.as_ref().map(|s| s.text.as_str()),
        _ => None,
    }
}

fn check_dumplab(dir: &Path, dump: &Path) -> Result<(), Failed> {
    let o = open(dir, dump)?;
    let r = o.snap.object_reader(&o.src)?;
    let g = &o.snap.graph;
    let live = Reachable::of(g);
    let of_type = |name: &str| -> Vec<NodeIndex> {
        (0..g.node_count() as NodeIndex)
            .filter(|&n| live.contains(n) && g.type_info(g.node_type(n)).name == name)
            .collect()
    };
    // Widgets: Id i, Label "widget-%05d" of it; all 10,000 ids.
    let widgets = of_type("DumpLab.Widget");
    let mut ids = HashSet::new();
    for &w in &widgets {
        let id = int_of(&field(&r, w, "Id")?).ok_or("Id")?;
        let label = field(&r, w, "Label")?;
        if text_of(&label) != Some(&format!("widget-{id:05}")) {
            return Err(format!("Widget {id}: Label {label:?}").into());
        }
        ids.insert(id);
    }
    if widgets.len() != 10_000
        || ids.len() != 10_000
        || ids.iter().any(|&i| !(0..10_000).contains(&i))
    {
        return Err(format!("{} widgets with {} ids", widgets.len(), ids.len()).into());
    }
    // The root target's tag; the chain's depths 0..49.
    let target = of_type("DumpLab.RootTarget");
    if target.len() != 1 || text_of(&field(&r, target[0], "Tag")?) != Some("root-path-target") {
        return Err("RootTarget.Tag is not root-path-target".into());
    }
    let depths: HashSet<i128> = of_type("DumpLab.ChainNode")
        .into_iter()
        .filter_map(|n| int_of(&field(&r, n, "Depth").ok()?))
        .collect();
    if depths != (0..50).collect() {
        return Err(format!("chain depths {depths:?}").into());
    }
    // GenericBox<string>: "gbox-NNN"; GenericBox<int>: 0..29.
    let boxes: HashSet<String> = of_type("DumpLab.GenericBox`1[System.String]")
        .into_iter()
        .filter_map(|n| text_of(&field(&r, n, "Value").ok()?).map(str::to_owned))
        .collect();
    if boxes != (0..40).map(|i| format!("gbox-{i:03}")).collect() {
        return Err(format!("GenericBox<string> values {boxes:?}").into());
    }
    let ints: HashSet<i128> = of_type("DumpLab.GenericBox`1[System.Int32]")
        .into_iter()
        .filter_map(|n| int_of(&field(&r, n, "Value").ok()?))
        .collect();
    if ints != (0..30).collect() {
        return Err(format!("GenericBox<int> values {ints:?}").into());
    }
    // Roots.Points: (i, -i, 42); Roots.Boxed: boxed 1000000 + i.
    let points = static_root(g, "DumpLab.Roots.Points")?;
    let p = read_object(
        &r,
        points,
        ReadOptions {
            elements: 1000,
            ..Default::default()
        },
    )?;
    let Contents::Array {
        elements,
        length: 1000,
        ..
    } = &p.contents
    else {
        return Err(format!("Roots.Points: {:?}", p.contents).into());
    };
    for (i, e) in elements.iter().enumerate() {
        let Value::Struct { fields, .. } = e else {
            return Err(format!("Points[{i}]: {e:?}").into());
        };
        let get = |n: &str| {
            fields
                .iter()
                .find(|f| f.name == n)
                .and_then(|f| int_of(&f.value))
        };
        if (get("X"), get("Y"), get("Z")) != (Some(i as i128), Some(-(i as i128)), Some(42)) {
            return Err(format!("Points[{i}]: {fields:?}").into());
        }
    }
    let boxed = static_root(g, "DumpLab.Roots.Boxed")?;
    let b = read_object(
        &r,
        boxed,
        ReadOptions {
            decode: FULL,
            ..Default::default()
        },
    )?;
    let Contents::Array {
        elements,
        length: 100,
        ..
    } = &b.contents
    else {
        return Err(format!("Roots.Boxed: {:?}", b.contents).into());
    };
    for (i, e) in elements.iter().enumerate() {
        if int_of(e) != Some(1_000_000 + i as i128) {
            return Err(format!("Boxed[{i}]: {e:?}").into());
        }
    }
    Ok(())
}

fn check_gcdump(shared: &Path) -> Result<(), Failed> {
    let path = heaplens_corpus::gcdump_samples(shared)
        .into_iter()
        .next()
        .ok_or("no .gcdump sample")?;
    let src = PageCache::new(FileSource::open(&path)?);
    let snap = heaplens_snapshot::open(&src, &mut NoProgress)?;
    if snap.info.capabilities.object_contents {
        return Err("a .gcdump claims object contents".into());
    }
    let result = match snap.object_reader(&src) {
        Ok(_) => Err("a .gcdump gave an object reader".into()),
        Err(e) if e.to_string().contains(".gcdump records") => Ok(()),
        Err(e) => Err(format!("unclear reason: {e}").into()),
    };
    result
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    let zoo = heaplens_corpus::zoo_fixture_dirs("the object contents tests");
    for dir in zoo {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        type Check = fn(&Path) -> Result<(), Failed>;
        let checks: [(&str, Check); 4] = [
            ("values", check_values),
            ("delegates", check_delegates),
            ("collections", check_collections),
            ("strings", check_strings),
        ];
        for (what, f) in checks {
            let d = dir.clone();
            trials.push(Trial::test(format!("zoo::{name}::{what}"), move || f(&d)));
        }
    }
    match heaplens_corpus::shared_or_skip("the object contents tests") {
        Some(shared) => {
            let mut n = 0;
            for dir in heaplens_corpus::fixture_dirs(&shared) {
                let name = dir.file_name().unwrap().to_string_lossy().into_owned();
                for dump in heaplens_corpus::phase_dumps(&dir, 1, &[".core.zst", ".dmp.zst"]) {
                    let supplied = fixture_modules::for_fixture(&dir).ok().flatten().is_some();
                    if !fixture_modules::holds_metadata(&dump, supplied) {
                        continue;
                    }
                    n += 1;
                    let kind = dump
                        .file_name()
                        .unwrap()
                        .to_string_lossy()
                        .split('.')
                        .nth(1)
                        .unwrap_or("")
                        .to_owned();
                    let d = dir.clone();
                    trials.push(Trial::test(format!("dumplab::{name}::{kind}"), move || {
                        check_dumplab(&d, &dump)
                    }));
                }
            }
            trials.push(Trial::test("dumplab_dumps_present", move || {
                if n >= 5 {
                    Ok(())
                } else {
                    Err(format!("only {n} corpus dumps with metadata").into())
                }
            }));
            trials.push(Trial::test("gcdump_has_no_contents", move || {
                check_gcdump(&shared)
            }));
        }
        None => trials.push(Trial::test("corpus", || Ok(())).with_ignored_flag(true)),
    }
    libtest_mimic::run(&args, trials).exit();
}
