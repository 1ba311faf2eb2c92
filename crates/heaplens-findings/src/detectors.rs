//! The detectors: each finds the groups of its pattern in one heap.

use crate::heap::Heap;
use crate::{
    thousands, Detail, DetectorRun, Observation, Observations, Pattern, TypeRetainedEntry,
};
use heaplens_analysis::dominators::Dominator;
use heaplens_analysis::retained::{largest_objects, retained_by_type};
use heaplens_analysis::strings::StringOptions;
use heaplens_contents::collections::collection_fill;
use heaplens_contents::delegates::delegate;
use heaplens_contents::inspect::string_text;
use heaplens_contents::inspect::{field_int, field_int_or_null, field_ref};
use heaplens_contents::layout::{FieldKind, Shape};
use heaplens_contents::ObjectReader;
use heaplens_graph::{NodeIndex, RootKind};
use std::collections::{BTreeMap, HashMap};

/// Groups kept per pattern (the largest by objects), so a heap of many
/// small groups stays cheap to compare.
const MAX_GROUPS: usize = 200;

const NO_CONTENTS: &str =
    "the input holds no object contents (a .gcdump), which this detector reads";

/// Runs every detector.
pub(crate) fn observe(heap: &Heap) -> Observations {
    type Detector = fn(&Heap) -> Result<Vec<Observation>, String>;
    let detectors: [(Pattern, Detector); 16] = [
        (Pattern::Timers, timers),
        (Pattern::Events, events),
        (
            Pattern::CancellationRegistrations,
            cancellation_registrations,
        ),
        (Pattern::Caches, caches),
        (Pattern::EntityFramework, crate::ef::entity_framework),
        (Pattern::HttpClients, http_clients),
        (Pattern::Telemetry, telemetry),
        (Pattern::RootScopeDisposables, root_scope),
        (Pattern::AsyncStateMachines, async_state_machines),
        (Pattern::Finalization, finalization),
        (Pattern::Pinned, pinned),
        (Pattern::Fragmentation, fragmentation),
        (Pattern::ConditionalWeakTable, conditional_weak_table),
        (Pattern::Serializers, serializers),
        (Pattern::LargeHolder, large_holders),
        (Pattern::DuplicateStrings, duplicate_strings),
    ];
    let mut groups = Vec::new();
    let mut runs = Vec::new();
    for (pattern, run) in detectors {
        match run(heap) {
            Ok(mut found) => {
                found.sort_by(|a, b| {
                    b.objects
                        .cmp(&a.objects)
                        .then(b.retained_bytes.cmp(&a.retained_bytes))
                        .then_with(|| a.key.cmp(&b.key))
                });
                found.truncate(MAX_GROUPS);
                runs.push(DetectorRun {
                    pattern,
                    groups: found.len() as u64,
                    silent_because: None,
                });
                groups.extend(found);
            }
            Err(why) => runs.push(DetectorRun {
                pattern,
                groups: 0,
                silent_because: Some(why),
            }),
        }
    }
    let types = retained_by_type(heap.graph, heap.dominators, heap.retained)
        .into_iter()
        .fold(
            HashMap::new(),
            |mut m: HashMap<String, TypeRetainedEntry>, r| {
                let e = m.entry(r.name).or_insert(TypeRetainedEntry {
                    retained_bytes: 0,
                    objects: 0,
                });
                e.retained_bytes += r.retained_bytes;
                e.objects += r.count;
                m
            },
        );
    runs.push(DetectorRun {
        pattern: Pattern::TypeGrowth,
        groups: types.len() as u64,
        silent_because: None,
    });
    Observations {
        reachable_bytes: heap.retained.reachable_bytes(),
        groups,
        types,
        runs,
    }
}

/// The contents, or why the detector cannot look.
fn contents<'a>(heap: &Heap<'a>) -> Result<&'a dyn ObjectReader, String> {
    heap.contents.ok_or_else(|| NO_CONTENTS.to_owned())
}

/// True for an array type's name (`T[]`, `T[,]`), not a generic
/// type's (`List`1[T]`).
fn is_array(name: &str) -> bool {
    name.ends_with("[]") || (name.ends_with(",]") && name.contains("[,"))
}

/// A type's name with a nested type named as the heap names it (by its
/// own name: `CallbackNode` for `CancellationTokenSource+CallbackNode`)
/// or as reflection does: true when `name` is `full` or its last nested
/// part (what follows the last `+` before the first `[`).
fn named(name: &str, full: &str) -> bool {
    if name == full {
        return true;
    }
    let head = full.split('[').next().unwrap_or(full);
    match head.rfind('+') {
        Some(i) => name == &full[i + 1..],
        None => false,
    }
}

/// True when type `t` comes from the runtime's core library (where a
/// nested type named by its own name, `CallbackNode`, is the runtime's
/// and not an application's of the same name).
fn in_corelib(heap: &Heap, t: u32) -> bool {
    heap.graph.type_module(t).is_some_and(|m| {
        let m = m
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(m)
            .to_ascii_lowercase();
        m.starts_with("system.private.corelib") || m.starts_with("mscorlib")
    })
}

/// "its types are absent".
pub(crate) fn absent(what: &str) -> String {
    format!("no {what} in this heap")
}

/// A reference field's target by the first of `names` the layout has
/// (field names differ between runtime versions: `_timerCallback` in .NET
/// Core, `m_timerCallback` in .NET Framework).
fn field_ref_any(r: &dyn ObjectReader, n: NodeIndex, names: &[&str]) -> Option<NodeIndex> {
    names.iter().find_map(|f| field_ref(r, n, f))
}

fn field_int_any(r: &dyn ObjectReader, n: NodeIndex, names: &[&str]) -> Option<i128> {
    names.iter().find_map(|f| field_int(r, n, f))
}

/// The `k` most frequent values of `counts`, as `A (12), B (3)`.
fn top_counts(counts: &HashMap<String, u64>, k: usize) -> String {
    let mut v: Vec<(&String, &u64)> = counts.iter().collect();
    v.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut s: Vec<String> = v
        .iter()
        .take(k)
        .map(|(n, c)| format!("{n} ({})", thousands(**c)))
        .collect();
    if v.len() > k {
        s.push(format!("{} more", v.len() - k));
    }
    s.join(", ")
}

// ---------------------------------------------------------------------
// 1. Timers.

/// `TimerQueueTimer`s grouped by the method their callback calls and the
/// type of its target. Retained: each timer's own payload (callback,
/// state, execution context), not the rest of the timer list.
fn timers(heap: &Heap) -> Result<Vec<Observation>, String> {
    let mask = heap.types_where(|n| n == "System.Threading.TimerQueueTimer");
    let nodes = heap.live_of(&mask);
    if nodes.is_empty() {
        return Err(absent("System.Threading.TimerQueueTimer"));
    }
    let r = contents(heap)?;
    #[derive(Default)]
    struct G {
        n: u64,
        bytes: u64,
        first: Option<NodeIndex>,
        target: Option<NodeIndex>,
        periods: HashMap<String, u64>,
    }
    let mut groups: BTreeMap<(String, String), G> = BTreeMap::new();
    for &t in &nodes {
        let cb = field_ref_any(r, t, &["_timerCallback", "m_timerCallback"]);
        let inv = cb
            .and_then(|d| delegate(r, d))
            .and_then(|d| d.invocations.into_iter().next());
        let method = inv
            .as_ref()
            .and_then(|i| i.method.as_ref().map(|m| m.full()))
            .unwrap_or_else(|| "(method not known)".to_owned());
        let target = inv.as_ref().and_then(|i| i.target);
        let target_type = target.map_or_else(
            || "(static method)".to_owned(),
            |x| heap.type_name(x).to_owned(),
        );
        // The state a TimerCallback gets: the target of a Timer created
        // with a lambda is a closure; `_state` often is the owner.
        let period = field_int_any(r, t, &["_period", "m_period"]).map_or_else(
            || "not read".to_owned(),
            |p| {
                if p as u32 == u32::MAX {
                    "none (one shot)".to_owned()
                } else {
                    format!("{p} ms")
                }
            },
        );
        let g = groups.entry((method, target_type)).or_default();
        g.n += 1;
        g.bytes += heap.own_retained(t);
        g.first.get_or_insert(t);
        if g.target.is_none() {
            g.target = target;
        }
        *g.periods.entry(period).or_default() += 1;
    }
    Ok(groups
        .into_iter()
        .map(|((method, target_type), g)| Observation {
            pattern: Pattern::Timers,
            key: format!("{method} on {target_type}"),
            subject: format!("timers calling {method} on {target_type}"),
            objects: g.n,
            retained_bytes: g.bytes,
            holder: g.target.or(g.first),
            example: g.first,
            details: vec![
                Detail::new("callback", method),
                Detail::new("target type", target_type),
                Detail::new("period", top_counts(&g.periods, 3)),
                Detail::new("timers in the heap", thousands(nodes.len() as u64)),
            ],
            level_by_bytes: false,
            level: None,
            span_bytes: None,
        })
        .collect())
}

// ---------------------------------------------------------------------
// 2. Events.

/// Multicast delegates (`_invocationList` set), by where they are held:
/// the static field, or the type of the object holding them. The largest
/// delegate of each place counts.
fn events(heap: &Heap) -> Result<Vec<Observation>, String> {
    let r = contents(heap)?;
    let g = heap.graph;
    let mask: Vec<bool> = g
        .types()
        .iter()
        .enumerate()
        .map(|(t, info)| {
            info.kind == heaplens_graph::TypeKind::Object
                && !is_array(&info.name)
                && r.layout(t as u32).is_ok_and(|l| {
                    heaplens_contents::delegates::is_delegate(&l)
                        && l.field("_invocationList").is_some()
                        && l.field("_invocationCount").is_some()
                })
        })
        .collect();
    let nodes = heap.live_of(&mask);
    if nodes.is_empty() {
        return Err(absent("delegates"));
    }
    let mut best: HashMap<String, (u64, NodeIndex, u64)> = HashMap::new();
    for &d in &nodes {
        // Only a delegate whose list is an array is multicast.
        let Some(list) = field_ref(r, d, "_invocationList") else {
            continue;
        };
        if !matches!(
            r.layout(g.node_type(list))
                .map(|l| matches!(l.shape, Shape::Array(_))),
            Ok(true)
        ) {
            continue;
        }
        let count = field_int(r, d, "_invocationCount").unwrap_or(0).max(0) as u64;
        if count < 2 {
            continue;
        }
        let holder = match heap.paths.parent(d) {
            Some(p) => format!("{} field of {}", heap.type_name(d), heap.type_name(p)),
            None => heap.place(d),
        };
        let e = best.entry(holder).or_insert((0, d, 0));
        e.2 += 1;
        if count > e.0 {
            e.0 = count;
            e.1 = d;
        }
    }
    Ok(best
        .into_iter()
        .map(|(key, (count, d, delegates))| {
            let mut subscribers: HashMap<String, u64> = HashMap::new();
            let mut methods: HashMap<String, u64> = HashMap::new();
            if let Some(info) = delegate(r, d) {
                for i in &info.invocations {
                    let t = i
                        .target
                        .map_or("(static)".to_owned(), |x| heap.type_name(x).to_owned());
                    *subscribers.entry(t).or_default() += 1;
                    let m = i
                        .method
                        .as_ref()
                        .map_or("(not known)".to_owned(), |m| m.full());
                    *methods.entry(m).or_default() += 1;
                }
            }
            let publisher = heap.paths.parent(d).map_or_else(
                || heap.root_words(d).unwrap_or_default(),
                |p| heap.type_name(p).to_owned(),
            );
            Observation {
                pattern: Pattern::Events,
                subject: format!("{} held by {publisher} with subscribers", heap.type_name(d)),
                key,
                objects: count,
                retained_bytes: heap.retained.get(d),
                holder: Some(d),
                example: Some(d),
                details: vec![
                    Detail::new("delegate type", heap.type_name(d)),
                    Detail::new("held by", publisher),
                    Detail::new("subscriber types", top_counts(&subscribers, 3)),
                    Detail::new("methods", top_counts(&methods, 3)),
                    Detail::new("multicast delegates held there", thousands(delegates)),
                ],
                level_by_bytes: false,
                level: None,
                span_bytes: None,
            }
        })
        .collect())
}

// ---------------------------------------------------------------------
// 3. CancellationTokenSource registrations.

/// Whether a type name is a `CancellationTokenSource` (or a linked one).
fn is_cts(n: &str) -> bool {
    n == "System.Threading.CancellationTokenSource"
        || ["Linked1", "Linked2", "LinkedN"].iter().any(|l| {
            named(
                n,
                &format!("System.Threading.CancellationTokenSource+{l}CancellationTokenSource"),
            )
        })
}

/// Types of the core library whose name satisfies `f` (see [`in_corelib`];
/// a full name `System.…` of another module counts too, for dumps whose
/// modules are not named).
fn corelib_types_where(heap: &Heap, f: impl Fn(&str) -> bool) -> Vec<bool> {
    heap.graph
        .types()
        .iter()
        .enumerate()
        .map(|(t, info)| {
            info.kind == heaplens_graph::TypeKind::Object
                && f(&info.name)
                && (info.name.starts_with("System.") || in_corelib(heap, t as u32))
        })
        .collect()
}

/// Callback nodes grouped by the source they are registered on (the
/// nearest `CancellationTokenSource` on their shortest path).
fn cancellation_registrations(heap: &Heap) -> Result<Vec<Observation>, String> {
    let mask = corelib_types_where(heap, |n| {
        named(n, "System.Threading.CancellationTokenSource+CallbackNode")
            || n == "System.Threading.CancellationCallbackInfo"
            || n.starts_with("System.Threading.CancellationCallbackInfo+")
    });
    let nodes = heap.live_of(&mask);
    if nodes.is_empty() {
        return Err(absent(
            "CancellationTokenSource registrations (CallbackNode)",
        ));
    }
    let owners = corelib_types_where(heap, is_cts);
    let mut groups: HashMap<Option<NodeIndex>, (u64, u64, NodeIndex)> = HashMap::new();
    for &x in &nodes {
        let o = heap.owner(3, &owners, x);
        let e = groups.entry(o).or_insert((0, 0, x));
        e.0 += 1;
        e.1 += heap.own_retained(x);
    }
    let r = heap.contents;
    Ok(groups
        .into_iter()
        .map(|(owner, (n, bytes, first))| {
            let place =
                owner.map_or_else(|| "(no source on the path)".to_owned(), |o| heap.place(o));
            let mut details = vec![Detail::new(
                "source",
                owner.map_or("(not found)".to_owned(), |o| heap.type_name(o).to_owned()),
            )];
            if let Some(w) = owner.and_then(|o| heap.root_words(o)) {
                details.push(Detail::new("source held by", w));
            }
            // What the first registration calls.
            if let Some(r) = r {
                let cb = field_ref_any(r, first, &["Callback", "m_callback", "Handler"]);
                if let Some(m) = cb
                    .and_then(|d| delegate(r, d))
                    .and_then(|d| d.invocations.into_iter().next())
                    .and_then(|i| i.method)
                {
                    details.push(Detail::new("callback (first)", m.full()));
                }
                if let Some(s) = field_ref_any(r, first, &["CallbackState", "m_stateForCallback"]) {
                    details.push(Detail::new("state (first)", heap.type_name(s)));
                }
            }
            Observation {
                pattern: Pattern::CancellationRegistrations,
                key: place.clone(),
                subject: format!(
                    "registrations on the {} at {place}",
                    owner.map_or("source", |o| heap.type_name(o))
                ),
                objects: n,
                retained_bytes: bytes,
                holder: owner,
                example: Some(first),
                details,
                level_by_bytes: false,
                level: None,
                span_bytes: None,
            }
        })
        .collect())
}

// ---------------------------------------------------------------------
// 4. Caches and static dictionaries.

fn caches(heap: &Heap) -> Result<Vec<Observation>, String> {
    let g = heap.graph;
    let mut out = Vec::new();
    // MemoryCache entries by cache (both libraries).
    for (cache, entry) in [
        (
            "Microsoft.Extensions.Caching.Memory.MemoryCache",
            "Microsoft.Extensions.Caching.Memory.CacheEntry",
        ),
        (
            "System.Runtime.Caching.MemoryCache",
            "System.Runtime.Caching.MemoryCacheEntry",
        ),
    ] {
        let entries = heap.live_of(&heap.types_where(|n| n == entry));
        let owners = heap.types_where(|n| n == cache);
        let mut by: HashMap<NodeIndex, (u64, u64, NodeIndex)> = HashMap::new();
        for &e in &entries {
            if let Some(c) = heap.owner(4, &owners, e) {
                let x = by.entry(c).or_insert((0, 0, e));
                x.0 += 1;
                x.1 += heap.retained.get(e);
            }
        }
        for (c, (n, _, first)) in by {
            let place = heap.place(c);
            let mut details = vec![Detail::new("entry type", entry)];
            let mut limit_words = String::new();
            // Microsoft.Extensions.Caching's options and counts, read by
            // the fields its versions have.
            if let (Some(r), true) = (heap.contents, cache.starts_with("Microsoft.")) {
                let facts = memory_cache_facts(r, c);
                limit_words = match facts.limit {
                    Some(Some(_)) => ", with a size limit".to_owned(),
                    Some(None) => ", no size limit".to_owned(),
                    None => String::new(),
                };
                details.extend(facts.details());
            }
            out.push(Observation {
                pattern: Pattern::Caches,
                subject: format!("{cache} at {place} with entries{limit_words}"),
                key: place,
                objects: n,
                retained_bytes: heap.retained.get(c),
                holder: Some(c),
                example: Some(first),
                details,
                level_by_bytes: false,
                level: None,
                span_bytes: None,
            });
        }
    }
    // Dictionaries held by static fields.
    if let Some(r) = heap.contents {
        for root in g.roots() {
            if root.kind != RootKind::Static {
                continue;
            }
            let d = root.object;
            let name = heap.type_name(d);
            let dict = name.starts_with("System.Collections.Generic.Dictionary`2[")
                || name.starts_with("System.Collections.Concurrent.ConcurrentDictionary`2[");
            if !dict {
                continue;
            }
            let Some(fill) = collection_fill(r, d) else {
                continue;
            };
            let field = g.root_name(root).unwrap_or("(a static field)").to_owned();
            out.push(Observation {
                pattern: Pattern::Caches,
                subject: format!("{name} in the static {field} with entries"),
                key: format!("static {field}"),
                objects: fill.count,
                retained_bytes: heap.retained.get(d),
                holder: Some(d),
                example: Some(d),
                details: vec![
                    Detail::new("static field", field),
                    Detail::new("capacity", thousands(fill.capacity)),
                ],
                level_by_bytes: false,
                level: None,
                span_bytes: None,
            });
        }
    }
    if out.is_empty() {
        return Err(absent("MemoryCache or dictionary held by a static field"));
    }
    Ok(out)
}

/// What a `Microsoft.Extensions.Caching.Memory.MemoryCache` says of
/// itself, each `None` when its fields are not in this version's layout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MemoryCacheFacts {
    /// `_options._sizeLimit`: `Some(None)` when not set (a null `long?`
    /// before .NET 7, -1 since), `Some(Some(n))` the limit.
    pub limit: Option<Option<i128>>,
    /// `_cacheSize` (the sum of the entries' `Size`, kept only when there
    /// is a limit).
    pub size: Option<i128>,
    /// The entries its dictionaries hold.
    pub entries: Option<u64>,
}

/// Reads a `MemoryCache`'s options and counts by the fields of each
/// version of Microsoft.Extensions.Caching.Memory: up to 6, `_entries`
/// and `_cacheSize` on the cache; 7 and 8, on its `_coherentState`; 9
/// on, `_stringEntries` and `_nonStringEntries` there. `_options` is a
/// `MemoryCacheOptions` whose `_sizeLimit` is a `long?` up to 6 and a
/// `long` (-1: not set) since.
pub(crate) fn memory_cache_facts(r: &dyn ObjectReader, cache: NodeIndex) -> MemoryCacheFacts {
    let state = field_ref(r, cache, "_coherentState").unwrap_or(cache);
    let counts: Vec<u64> = ["_entries", "_stringEntries", "_nonStringEntries"]
        .iter()
        .filter_map(|f| field_ref(r, state, f))
        .filter_map(|d| collection_fill(r, d).map(|f| f.count))
        .collect();
    let limit = field_ref(r, cache, "_options")
        .and_then(|o| field_int_or_null(r, o, "_sizeLimit"))
        .map(|l| l.filter(|&v| v >= 0));
    MemoryCacheFacts {
        limit,
        size: field_int(r, state, "_cacheSize"),
        entries: (!counts.is_empty()).then(|| counts.iter().sum()),
    }
}

impl MemoryCacheFacts {
    /// The facts as details.
    pub(crate) fn details(&self) -> Vec<Detail> {
        let mut d = vec![Detail::new(
            "size limit",
            match self.limit {
                Some(Some(l)) => format!(
                    "{} (SizeLimit, in the units of the entries' Size){}",
                    thousands(l as u64),
                    self.size.map_or_else(String::new, |s| format!(
                        "; current size {} ({:.0} % of it)",
                        thousands(s.max(0) as u64),
                        s as f64 * 100.0 / (l.max(1)) as f64
                    ))
                ),
                Some(None) => "none (SizeLimit not set: the cache grows without bound)".to_owned(),
                None => "not read (no _options._sizeLimit in this version's layout)".to_owned(),
            },
        )];
        if let Some(n) = self.entries {
            d.push(Detail::new("entries (the cache's own count)", thousands(n)));
        }
        d
    }
}

// ---------------------------------------------------------------------
// 5–6, 12. Counted types: HttpClient churn, telemetry, serializers.

/// One group per type name of `names` present in the heap: its live
/// objects, their retained bytes (each once: objects dominated by another
/// of the group are not added again).
fn counted(heap: &Heap, pattern: Pattern, names: &[(&str, &str)]) -> Vec<Observation> {
    let mut out = Vec::new();
    for &(name, what) in names {
        let mask = heap.types_where(|n| n == name);
        let nodes = heap.live_of(&mask);
        if nodes.is_empty() {
            continue;
        }
        out.push(counted_group(heap, pattern, name, what, &mask, &nodes));
    }
    out
}

fn counted_group(
    heap: &Heap,
    pattern: Pattern,
    key: &str,
    what: &str,
    mask: &[bool],
    nodes: &[NodeIndex],
) -> Observation {
    let bytes: u64 = nodes
        .iter()
        .filter(|&&x| !dominated_by_mask(heap, x, mask))
        .map(|&x| heap.retained.get(x))
        .sum();
    Observation {
        pattern,
        key: key.to_owned(),
        subject: format!("live {what}"),
        objects: nodes.len() as u64,
        retained_bytes: bytes,
        holder: nodes.first().copied(),
        example: nodes.first().copied(),
        details: vec![Detail::new("type", key)],
        level_by_bytes: false,
        level: None,
        span_bytes: None,
    }
}

/// True when an object of `mask`'s types dominates `x` (up to 64 steps).
pub(crate) fn dominated_by_mask(heap: &Heap, x: NodeIndex, mask: &[bool]) -> bool {
    let mut y = x;
    for _ in 0..64 {
        match heap.dominators.idom(y) {
            Some(Dominator::Node(d)) if d != y => {
                if mask[heap.graph.node_type(d) as usize] {
                    return true;
                }
                y = d;
            }
            _ => return false,
        }
    }
    false
}

/// HTTP clients and handlers as one group: the handlers (each with its
/// connection pools) or the clients, whichever are more, counted; the
/// bytes of all of them (each once).
fn http_clients(heap: &Heap) -> Result<Vec<Observation>, String> {
    const TYPES: [(&str, &str); 5] = [
        ("System.Net.Http.HttpClient", "HttpClient"),
        ("System.Net.Http.HttpClientHandler", "HttpClientHandler"),
        ("System.Net.Http.SocketsHttpHandler", "SocketsHttpHandler"),
        (
            "System.Net.Http.HttpConnectionPoolManager",
            "HttpConnectionPoolManager",
        ),
        (
            "Microsoft.Extensions.Http.ExpiredHandlerTrackingEntry",
            "ExpiredHandlerTrackingEntry",
        ),
    ];
    let mask = heap.types_where(|n| TYPES.iter().any(|t| t.0 == n));
    let nodes = heap.live_of(&mask);
    if nodes.is_empty() {
        return Err(absent("HttpClient or handler"));
    }
    let mut counts: HashMap<String, u64> = HashMap::new();
    for &x in &nodes {
        *counts.entry(heap.type_name(x).to_owned()).or_default() += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    let mut o = counted_group(
        heap,
        Pattern::HttpClients,
        "HttpClient and handlers",
        "HTTP clients and handlers",
        &mask,
        &nodes,
    );
    o.objects = most;
    // The object to look at: a client (its path shows who keeps it).
    o.holder = nodes
        .iter()
        .copied()
        .find(|&x| heap.type_name(x) == TYPES[0].0)
        .or(o.holder);
    o.example = o.holder;
    o.subject = "HTTP clients and handlers (the most numerous type counted)".to_owned();
    o.details = TYPES
        .iter()
        .filter_map(|(t, short)| counts.get(*t).map(|c| Detail::new(short, thousands(*c))))
        .collect();
    Ok(vec![o])
}

fn telemetry(heap: &Heap) -> Result<Vec<Observation>, String> {
    let mut out = counted(
        heap,
        Pattern::Telemetry,
        &[(
            "Microsoft.ApplicationInsights.Extensibility.TelemetryConfiguration",
            "TelemetryConfigurations (each has its own channel)",
        )],
    );
    // ITelemetry: implementers by the metadata where known, else the
    // DataContracts' *Telemetry types by name.
    let g = heap.graph;
    let mask: Vec<bool> = g
        .types()
        .iter()
        .enumerate()
        .map(|(t, info)| {
            info.kind == heaplens_graph::TypeKind::Object
                && match g.hierarchy().filter(|h| h.known(t as u32)) {
                    Some(h) => h
                        .interfaces(t as u32)
                        .any(|i| i == "Microsoft.ApplicationInsights.Channel.ITelemetry"),
                    None => {
                        info.name
                            .starts_with("Microsoft.ApplicationInsights.DataContracts.")
                            && info.name.ends_with("Telemetry")
                    }
                }
        })
        .collect();
    let nodes = heap.live_of(&mask);
    if !nodes.is_empty() {
        let mut o = counted_group(
            heap,
            Pattern::Telemetry,
            "Microsoft.ApplicationInsights.Channel.ITelemetry",
            "ITelemetry items (buffered telemetry)",
            &mask,
            &nodes,
        );
        o.level = Some((5_000, 2_000));
        out.push(o);
    }
    if out.is_empty() {
        return Err(absent("Application Insights type"));
    }
    Ok(out)
}

fn serializers(heap: &Heap) -> Result<Vec<Observation>, String> {
    let mut out = counted(
        heap,
        Pattern::Serializers,
        &[(
            "System.Text.Json.JsonSerializerOptions",
            "JsonSerializerOptions",
        )],
    );
    for o in counted(
        heap,
        Pattern::Serializers,
        &[
            (
                "System.Reflection.Emit.RuntimeAssemblyBuilder",
                "dynamic assemblies (AssemblyBuilder)",
            ),
            (
                "System.Reflection.Emit.InternalAssemblyBuilder",
                "dynamic assemblies (AssemblyBuilder)",
            ),
        ],
    ) {
        out.push(Observation {
            level: Some((20, 10)),
            span_bytes: None,
            ..o
        });
    }
    if out.is_empty() {
        return Err(absent("JsonSerializerOptions or AssemblyBuilder"));
    }
    Ok(out)
}

// ---------------------------------------------------------------------
// 9. The DI root scope.

/// The type of a DI scope (the root scope is one: `IsRootScope`).
pub(crate) const SCOPE_TYPE: &str =
    "Microsoft.Extensions.DependencyInjection.ServiceLookup.ServiceProviderEngineScope";

/// Whether the scope `n` is the DI root scope, when its field is read.
pub(crate) fn is_root_scope(r: &dyn ObjectReader, n: NodeIndex) -> Option<bool> {
    field_int(r, n, "<IsRootScope>k__BackingField").map(|v| v != 0)
}

fn root_scope(heap: &Heap) -> Result<Vec<Observation>, String> {
    let mask = heap.types_where(|n| n == SCOPE_TYPE);
    let nodes = heap.live_of(&mask);
    if nodes.is_empty() {
        return Err(absent("ServiceProviderEngineScope"));
    }
    let r = contents(heap)?;
    let mut out = Vec::new();
    for &s in &nodes {
        let Some(list) = field_ref(r, s, "_disposables") else {
            continue;
        };
        let Some(fill) = collection_fill(r, list) else {
            continue;
        };
        let root = is_root_scope(r, s);
        let place = heap.place(s);
        out.push(Observation {
            pattern: Pattern::RootScopeDisposables,
            subject: format!(
                "disposables in the {} at {place}",
                if root == Some(true) {
                    "root scope"
                } else {
                    "scope"
                }
            ),
            key: place,
            objects: fill.count,
            retained_bytes: heap.retained.get(list),
            holder: Some(s),
            example: Some(list),
            details: vec![Detail::new(
                "root scope",
                root.map_or("not read", |r| if r { "yes" } else { "no" }),
            )],
            level_by_bytes: false,
            level: None,
            span_bytes: None,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------
// 10. Async state machines.

/// The last generic argument of a type name (`X`1[A,B]` → `B`).
fn last_generic_argument(name: &str) -> Option<&str> {
    let inner = name.strip_suffix(']')?;
    let open = inner.find('[')?;
    let args = &inner[open + 1..];
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in args.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => start = i + 1,
            _ => {}
        }
    }
    let last = args[start..].trim();
    // `[[A],[B]]`-style arguments: one pair of brackets around each.
    Some(
        match last.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            Some(inner) => inner,
            None => last,
        },
    )
}

/// The `<>1__state` of a box's state machine, read by the box's layout.
fn state_of(r: &dyn ObjectReader, heap: &Heap, b: NodeIndex) -> Option<i64> {
    let layout = r.layout(heap.graph.node_type(b)).ok()?;
    let f = layout.field("StateMachine")?;
    let FieldKind::Struct(s) = &f.kind else {
        return None;
    };
    // Roslyn's `<>1__state`; Mono's compiler calls it `$PC`.
    let st = s
        .fields
        .iter()
        .find(|x| x.name == "<>1__state" || x.name == "$PC")?;
    let at = heap
        .graph
        .node_address(b)
        .checked_add(u64::from(layout.data_offset) + u64::from(f.offset) + u64::from(st.offset))?;
    let mut buf = [0u8; 4];
    r.read_memory(at, &mut buf).ok()?;
    Some(i64::from(i32::from_le_bytes(buf)))
}

fn async_state_machines(heap: &Heap) -> Result<Vec<Observation>, String> {
    let mask = corelib_types_where(heap, |n| {
        n.contains("+AsyncStateMachineBox`1[") || n.starts_with("AsyncStateMachineBox`1[")
    });
    let nodes = heap.live_of(&mask);
    if nodes.is_empty() {
        return Err(absent("async state machine box"));
    }
    let r = heap.contents;
    let mut groups: BTreeMap<(String, Option<i64>), (u64, u64, NodeIndex)> = BTreeMap::new();
    for &b in &nodes {
        let state = r.and_then(|r| state_of(r, heap, b));
        let name = heap.type_name(b);
        let machine = last_generic_argument(name).unwrap_or(name).to_owned();
        let e = groups.entry((machine, state)).or_insert((0, 0, b));
        e.0 += 1;
        e.1 += heap.retained.get(b);
    }
    Ok(groups
        .into_iter()
        .map(|((machine, state), (n, bytes, first))| {
            let st = match state {
                Some(s) if s >= 0 => format!("suspended at await {s}"),
                Some(-1) => "running or not started".to_owned(),
                Some(-2) => "finished".to_owned(),
                Some(s) => format!("state {s}"),
                None => "state not read".to_owned(),
            };
            Observation {
                pattern: Pattern::AsyncStateMachines,
                key: format!("{machine} {st}"),
                subject: format!("async {machine}, {st}"),
                objects: n,
                retained_bytes: bytes,
                holder: Some(first),
                example: Some(first),
                details: vec![
                    Detail::new("state machine", machine),
                    Detail::new("state", st),
                    Detail::new("box type", heap.type_name(first)),
                ],
                level_by_bytes: false,
                level: None,
                span_bytes: None,
            }
        })
        .collect())
}

// ---------------------------------------------------------------------
// 11, 13, 17. Roots by kind: finalization, pinning, dependent handles.

fn roots_by_type(
    heap: &Heap,
    pattern: Pattern,
    kinds: &[RootKind],
    what: &str,
) -> Result<Vec<Observation>, String> {
    let g = heap.graph;
    let mut by: HashMap<u32, (u64, u64, NodeIndex)> = HashMap::new();
    let mut seen = std::collections::HashSet::new();
    for r in g.roots() {
        if !kinds.contains(&r.kind) || !seen.insert(r.object) {
            continue;
        }
        let t = g.node_type(r.object);
        let e = by.entry(t).or_insert((0, 0, r.object));
        e.0 += 1;
        e.1 += heap.retained.get(r.object);
    }
    if by.is_empty() {
        return Err(absent(what));
    }
    Ok(by
        .into_values()
        .map(|(n, bytes, first)| {
            let name = heap.type_name(first).to_owned();
            let mut details = vec![Detail::new("type", name.clone())];
            if pattern == Pattern::Finalization {
                if let Some(reg) = heap.finalization_registered {
                    details.push(Detail::new(
                        "registered for finalization (all types, not ready)",
                        thousands(reg),
                    ));
                }
            }
            Observation {
                pattern,
                key: name.clone(),
                subject: format!("{name} {what}"),
                objects: n,
                retained_bytes: bytes,
                holder: Some(first),
                example: Some(first),
                details,
                level_by_bytes: false,
                level: None,
                span_bytes: None,
            }
        })
        .collect())
}

fn finalization(heap: &Heap) -> Result<Vec<Observation>, String> {
    roots_by_type(
        heap,
        Pattern::Finalization,
        &[RootKind::Finalizer],
        "objects ready for finalization",
    )
}

fn pinned(heap: &Heap) -> Result<Vec<Observation>, String> {
    roots_by_type(
        heap,
        Pattern::Pinned,
        &[RootKind::PinnedHandle, RootKind::AsyncPinnedHandle],
        "objects pinned by handles",
    )
}

/// Free space per generation: the `Free` objects in each segment or
/// region, summed by what it holds, with the objects pinned by handles
/// there and those of them beside free space (what keeps it from being
/// compacted away). One group per generation present; the groups of
/// generation 2, the LOH and the POH can be findings (see
/// [`crate::FRAGMENTATION_PERCENT`]); every group's details give every
/// generation's figures.
fn fragmentation(heap: &Heap) -> Result<Vec<Observation>, String> {
    use crate::heap::Generation;
    let g = heap.graph;
    if heap.areas.is_empty() {
        return Err(
            "the input does not say where the generations are (a .gcdump), which this \
             detector needs"
                .to_owned(),
        );
    }
    let mut areas = heap.areas.clone();
    areas.sort_by_key(|a| a.start);
    // The segment or region holding `addr` (its index in `areas`).
    let area_index = |addr: u64| {
        let i = areas.partition_point(|a| a.start <= addr);
        (i > 0 && addr < areas[i - 1].end).then_some(i - 1)
    };
    let area_of = |addr: u64| area_index(addr).map(|i| areas[i].generation);
    #[derive(Default)]
    struct G {
        span: u64,
        free: u64,
        blocks: u64,
        pinned: u64,
        beside: u64,
        example: Option<NodeIndex>,
    }
    let mut by: BTreeMap<Generation, G> = BTreeMap::new();
    for a in &areas {
        by.entry(a.generation).or_default().span += a.end.saturating_sub(a.start);
    }
    let is_free = |n: NodeIndex| g.type_info(g.node_type(n)).kind == heaplens_graph::TypeKind::Free;
    g.for_each_node(|n, _, size| {
        if is_free(n) {
            if let Some(x) = area_of(g.node_address(n)).and_then(|a| by.get_mut(&a)) {
                x.free += size;
                x.blocks += 1;
            }
        }
    });
    // Pinned objects (once each), and those with free space right before
    // or after them in the same segment or region (the graph's objects are
    // in address order; the node next to the last of one area is the first
    // of another).
    let mut seen = std::collections::HashSet::new();
    for r in g.roots() {
        if !matches!(r.kind, RootKind::PinnedHandle | RootKind::AsyncPinnedHandle)
            || !seen.insert(r.object)
        {
            continue;
        }
        let n = r.object;
        let Some(x) = area_of(g.node_address(n)).and_then(|a| by.get_mut(&a)) else {
            continue;
        };
        x.pinned += 1;
        let here = area_index(g.node_address(n));
        let free_beside = |m: NodeIndex| is_free(m) && area_index(g.node_address(m)) == here;
        let next = n.checked_add(1).filter(|&m| (m as usize) < g.node_count());
        let beside = n.checked_sub(1).is_some_and(free_beside) || next.is_some_and(free_beside);
        if beside {
            x.beside += 1;
            x.example.get_or_insert(n);
        }
    }
    let all = by
        .iter()
        .map(|(k, x)| {
            format!(
                "{} {} of {} bytes ({:.1} %)",
                k.name(),
                thousands(x.free),
                thousands(x.span),
                x.free as f64 * 100.0 / x.span.max(1) as f64
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    Ok(by
        .into_iter()
        .map(|(k, x)| Observation {
            pattern: Pattern::Fragmentation,
            key: k.name().to_owned(),
            subject: format!("free space in the {}", k.name()),
            objects: x.blocks,
            retained_bytes: x.free,
            holder: x.example,
            example: x.example,
            details: vec![
                Detail::new(
                    "pinned objects there",
                    format!(
                        "{} ({} of them beside free space)",
                        thousands(x.pinned),
                        thousands(x.beside)
                    ),
                ),
                Detail::new("free space by generation", all.clone()),
                Detail::new(
                    "can be a finding",
                    if k.keeps_free_space() {
                        "yes"
                    } else {
                        "no: the GC allocates into its free space at once"
                    },
                ),
            ],
            level_by_bytes: false,
            level: None,
            span_bytes: k.keeps_free_space().then_some(x.span),
        })
        .collect())
}

/// The generic arguments of a type name, split at the top level
/// (`X`2[A,B`1[C,D]]` → `A`, `B`1[C,D]`; `[[A],[B]]` style unwrapped).
fn generic_arguments(name: &str) -> Vec<&str> {
    let Some(open) = name.find('[') else {
        return Vec::new();
    };
    let Some(inner) = name[open + 1..].strip_suffix(']') else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&inner[start..]);
    out.into_iter()
        .map(|a| {
            let a = a.trim();
            a.strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .unwrap_or(a)
        })
        .collect()
}

/// `ConditionalWeakTable<K,V>`: a table's values are kept by dependent
/// handles, which the graph holds as edges key → value. Per table type:
/// the live values of type `V` whose shortest path reaches them from a
/// key of type `K` (so through the dependent handle), and what only they
/// keep alive.
fn conditional_weak_table(heap: &Heap) -> Result<Vec<Observation>, String> {
    const CWT: &str = "System.Runtime.CompilerServices.ConditionalWeakTable`2[";
    let tables_mask = corelib_types_where(heap, |n| n.starts_with(CWT));
    let tables = heap.live_of(&tables_mask);
    if tables.is_empty() {
        return Err(absent("ConditionalWeakTable"));
    }
    let g = heap.graph;
    // One group per table type (its K and V), its first table the holder.
    let mut first_of: BTreeMap<u32, NodeIndex> = BTreeMap::new();
    for &t in &tables {
        first_of.entry(g.node_type(t)).or_insert(t);
    }
    let mut out = Vec::new();
    for (ty, table) in first_of {
        let name = &g.type_info(ty).name;
        let args = generic_arguments(name);
        let [k, v] = args.as_slice() else { continue };
        let keys = heap.types_where(|n| named(n, k));
        let values = heap.types_where(|n| named(n, v));
        let mut n = 0u64;
        let mut bytes = 0u64;
        let mut example = None;
        for x in heap.live_of(&values) {
            let through_key = heap
                .paths
                .parent(x)
                .is_some_and(|p| keys[g.node_type(p) as usize]);
            if through_key {
                n += 1;
                bytes += heap.retained.get(x);
                example.get_or_insert(x);
            }
        }
        let place = heap.place(table);
        out.push(Observation {
            pattern: Pattern::ConditionalWeakTable,
            subject: format!("values of {name} at {place}"),
            key: place,
            objects: n,
            retained_bytes: bytes,
            holder: Some(table),
            example: example.or(Some(table)),
            details: vec![
                Detail::new("key type", *k),
                Detail::new("value type", *v),
                Detail::new(
                    "tables of this type",
                    thousands(tables.iter().filter(|&&t| g.node_type(t) == ty).count() as u64),
                ),
            ],
            level_by_bytes: false,
            level: None,
            span_bytes: None,
        });
    }
    Ok(out)
}

// ---------------------------------------------------------------------
// Generic: large holders.

/// Objects retaining 1 % of the heap or more, taken where they hold it:
/// going down the dominator tree while one child keeps 90 % of what its
/// parent retains (a list to its array), stopping where it fans out, and
/// back up from an array to the collection whose storage it is. Objects at
/// one place (one key: the same path of types from the same root) are one
/// group, its largest object's.
fn large_holders(heap: &Heap) -> Result<Vec<Observation>, String> {
    let total = heap.retained.reachable_bytes();
    if total == 0 {
        return Err(absent("reachable object"));
    }
    let min = total / 100;
    let g = heap.graph;
    let mut out = Vec::new();
    let mut reported: Vec<NodeIndex> = Vec::new();
    let mut places = std::collections::HashSet::new();
    for (x, size) in largest_objects(heap.dominators, heap.retained, 200) {
        if size < min {
            break;
        }
        // Down while one dominated child holds nearly all of it.
        let mut at = x;
        loop {
            let here = heap.retained.get(at);
            let next = g.children(at).iter().copied().find(|&c| {
                c != at
                    && heap.dominators.idom(c) == Some(Dominator::Node(at))
                    && heap.retained.get(c) as f64 >= 0.9 * here as f64
            });
            match next {
                Some(c) => at = c,
                None => break,
            }
        }
        // An array held by its collection: the collection.
        let mut holder = at;
        if is_array(heap.type_name(at)) {
            if let Some(Dominator::Node(p)) = heap.dominators.idom(at) {
                if !is_array(heap.type_name(p))
                    && heap.retained.get(p) <= heap.retained.get(at) + g.node_size(p) + 4096
                {
                    holder = p;
                }
            }
        }
        if reported.contains(&holder) {
            continue;
        }
        reported.push(holder);
        let place = heap.place(holder);
        if !places.insert(place.clone()) {
            continue;
        }
        let size = heap.retained.get(holder);
        out.push(Observation {
            pattern: Pattern::LargeHolder,
            subject: format!("{} at {place}", heap.type_name(holder)),
            key: place,
            objects: 1,
            retained_bytes: size,
            holder: Some(holder),
            example: Some(holder),
            details: vec![Detail::new(
                "share of the heap",
                format!("{:.1} %", size as f64 * 100.0 / total as f64),
            )],
            level_by_bytes: true,
            level: None,
            span_bytes: None,
        });
    }
    Ok(out)
}

/// The group of a type whose retained size grew (one per type name): the
/// example is on its key retention path holding the most of its objects
/// ([`heaplens_analysis::keypaths`]), where they accumulate.
pub(crate) fn type_growth_group(heap: &Heap, name: &str, t: TypeRetainedEntry) -> Observation {
    let g = heap.graph;
    let focus: Vec<u32> = (0..g.types().len() as u32)
        .filter(|&i| g.type_info(i).name == name)
        .collect();
    let key = heaplens_analysis::keypaths::key_paths(
        g,
        heap.paths,
        &focus,
        None,
        &mut heaplens_graph::NoProgress,
    )
    .ok()
    .and_then(|k| k.paths.into_iter().next());
    let mut details = vec![Detail::new("type", name)];
    if let Some(k) = &key {
        details.push(Detail::new(
            "its key path holding the most",
            format!("{} objects", thousands(k.count)),
        ));
    }
    let example = key.map(|k| k.example);
    Observation {
        pattern: Pattern::TypeGrowth,
        key: name.to_owned(),
        subject: format!("the retained size of {name}"),
        objects: t.objects,
        retained_bytes: t.retained_bytes,
        holder: example.and_then(|x| heap.paths.parent(x)),
        example,
        details,
        level_by_bytes: true,
        level: None,
        span_bytes: None,
    }
}

/// Duplicate strings (`heaplens strings`' analysis, over the reachable
/// strings): one group, the extra copies of every duplicated value and
/// the bytes they take; the string to look at is a copy of the value
/// wasting most, its path who holds it; the details name the values
/// wasting most (their text, shortened: values read from the dump).
fn duplicate_strings(heap: &Heap) -> Result<Vec<Observation>, String> {
    let r = contents(heap)?;
    let opts = StringOptions {
        top: crate::DUPLICATE_STRINGS_VALUES,
        ..StringOptions::default()
    };
    let report = heaplens_analysis::strings::duplicate_strings(
        r,
        &|n| heap.live(n),
        &opts,
        &mut heaplens_graph::NoProgress,
    )
    .map_err(|e| format!("the strings could not be read: {e}"))?;
    if report.strings == 0 {
        return Err(absent("System.String"));
    }
    if report.duplicated_values == 0 {
        return Ok(Vec::new());
    }
    let mut details = vec![
        Detail::new("duplicated values", thousands(report.duplicated_values)),
        Detail::new(
            "strings",
            format!(
                "{} strings, {} bytes; {} distinct values",
                thousands(report.strings),
                thousands(report.bytes),
                thousands(report.distinct)
            ),
        ),
    ];
    for (i, d) in report.groups.iter().enumerate() {
        let text = match string_text(r, d.example, crate::DUPLICATE_STRINGS_CHARS) {
            Ok(t) if t.truncated => {
                format!("{:?}…", t.text)
            }
            Ok(t) => format!("{:?}", t.text),
            Err(_) => "(unreadable)".to_owned(),
        };
        let held = d
            .holders
            .first()
            .map(|&(t, n)| {
                format!(
                    ", held most by {} ({})",
                    heap.graph.type_info(t).name,
                    thousands(n)
                )
            })
            .unwrap_or_default();
        details.push(Detail {
            label: format!("value {}", i + 1),
            value: format!(
                "{text} ({} chars) ×{}: {} bytes wasted{held}",
                thousands(u64::from(d.length)),
                thousands(d.copies),
                thousands(d.wasted_bytes)
            ),
            from_dump: true,
        });
    }
    let top = report.groups.first().map(|d| d.example);
    Ok(vec![Observation {
        pattern: Pattern::DuplicateStrings,
        key: "duplicate strings".to_owned(),
        subject: "duplicate strings".to_owned(),
        objects: report.extra_copies,
        retained_bytes: report.wasted_bytes,
        holder: top,
        example: top,
        details,
        level_by_bytes: true,
        level: None,
        span_bytes: None,
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_generic_argument_is_the_state_machine() {
        assert_eq!(
            last_generic_argument(
                "System.Runtime.CompilerServices.AsyncTaskMethodBuilder`1+AsyncStateMachineBox`1[System.Int32,DumpLab.Leaks+<Wait>d__3]"
            ),
            Some("DumpLab.Leaks+<Wait>d__3")
        );
        assert_eq!(
            last_generic_argument("X`1+Box`1[System.Threading.Tasks.VoidTaskResult,A`1[B,C]]"),
            Some("A`1[B,C]")
        );
        assert_eq!(last_generic_argument("System.String"), None);
        assert_eq!(
            generic_arguments("ConditionalWeakTable`2[A.K,B`1[C,D]]"),
            vec!["A.K", "B`1[C,D]"]
        );
        assert_eq!(generic_arguments("X`2[[A],[B]]"), vec!["A", "B"]);
        assert!(named(
            "CallbackNode",
            "System.Threading.CancellationTokenSource+CallbackNode"
        ));
        assert!(named(
            "Node[System.String,X]",
            "System.Collections.Concurrent.ConcurrentDictionary`2+Node[System.String,X]"
        ));
        assert!(!named("Node", "System.String"));
    }
}
