//! Leak findings: the .NET patterns that hold memory, found in a heap and
//! ranked by what they retain (one dump) or by how much that grew (two).
//!
//! Each detector ([`Pattern`]) looks at objects of types the runtime and
//! the libraries name (`System.Threading.TimerQueueTimer`,
//! `System.Threading.CancellationTokenSource+CallbackNode`, …; see
//! `../shared/docs/leak-patterns.md`), found by name in the dump's own type
//! table; fields are read by name from the dump's own layouts
//! ([`heaplens_contents::ObjectReader`], passed in explicitly), never at
//! assumed offsets. A detector whose types are absent from the dump says
//! nothing.
//!
//! Detectors first *observe* a heap ([`observe`]): every group of objects
//! of their pattern (the timers calling one method on one type of target,
//! the registrations of one `CancellationTokenSource`, …) with its count,
//! the bytes only those objects keep alive, the object to look at and an
//! object whose path from a root shows the retention shape. Each group
//! has a key that names it in words stable from one dump of a process to
//! the next, so two dumps' groups are joined by key ([`findings`]) and
//! their growth measured. A group becomes a [`Finding`] when it reaches
//! its pattern's stated level in the (current) dump or grew by its stated
//! growth between two dumps ([`Threshold`]); a healthy heap has no group
//! at either.
//!
//! Two generic findings stand beside the patterns: an object retaining
//! 10 % of the heap or more ([`Pattern::LargeHolder`], reported as what
//! holds the heap, not as a leak, in one dump; in two, when its retained
//! size grew by 10 % of the heap) and a type whose retained size grew by
//! 10 % of the heap ([`Pattern::TypeGrowth`]).

mod detectors;
mod ef;
mod heap;

pub use ef::{
    CACHED_MODELS, COMPILED_QUERIES, LONG_LIVED_CONTEXTS, SERVICE_PROVIDERS, TRACKED_ENTITIES,
};
pub use heap::{Generation, Heap, HeapArea};

use heaplens_graph::NodeIndex;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A pattern a detector recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// Timers (`TimerQueueTimer`) calling one method on one type of
    /// target.
    Timers,
    /// A multicast delegate (an event) with many subscribers.
    Events,
    /// Registrations (`CallbackNode`) on one `CancellationTokenSource`.
    CancellationRegistrations,
    /// A cache (`MemoryCache`) or a static dictionary with many entries.
    Caches,
    /// Entity Framework: contexts held by statics or the DI root scope,
    /// large change trackers, EF Core's service providers and compiled
    /// queries, EF6's query plans and models.
    EntityFramework,
    /// Many HTTP handlers or clients (`HttpClient` created per call).
    HttpClients,
    /// Application Insights: several `TelemetryConfiguration`s, buffered
    /// `ITelemetry`.
    Telemetry,
    /// The DI root scope's `_disposables`.
    RootScopeDisposables,
    /// Async state machines of one type suspended at one state.
    AsyncStateMachines,
    /// Objects ready for finalization, by type.
    Finalization,
    /// Objects pinned by handles, by type.
    Pinned,
    /// Free space between objects in a generation that keeps it
    /// (generation 2, the LOH, the POH), with the pinned objects beside
    /// it.
    Fragmentation,
    /// Values kept by dependent handles: a `ConditionalWeakTable`'s.
    ConditionalWeakTable,
    /// `JsonSerializerOptions` (and dynamic assemblies) created per call.
    Serializers,
    /// One object retaining 10 % of the heap or more.
    LargeHolder,
    /// A type whose retained size grew by 10 % of the heap or more.
    TypeGrowth,
    /// Duplicate strings wasting 5 % of the heap or more (waste, not a
    /// leak by itself).
    DuplicateStrings,
}

impl Pattern {
    /// Every pattern, in the order detectors run.
    pub const ALL: [Pattern; 17] = [
        Pattern::Timers,
        Pattern::Events,
        Pattern::CancellationRegistrations,
        Pattern::Caches,
        Pattern::EntityFramework,
        Pattern::HttpClients,
        Pattern::Telemetry,
        Pattern::RootScopeDisposables,
        Pattern::AsyncStateMachines,
        Pattern::Finalization,
        Pattern::Pinned,
        Pattern::Fragmentation,
        Pattern::ConditionalWeakTable,
        Pattern::Serializers,
        Pattern::LargeHolder,
        Pattern::TypeGrowth,
        Pattern::DuplicateStrings,
    ];

    /// A short stable id (`timers`, `events`, …), used in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Pattern::Timers => "timers",
            Pattern::Events => "events",
            Pattern::CancellationRegistrations => "cancellation_registrations",
            Pattern::Caches => "caches",
            Pattern::EntityFramework => "entity_framework",
            Pattern::HttpClients => "http_clients",
            Pattern::Telemetry => "telemetry",
            Pattern::RootScopeDisposables => "root_scope_disposables",
            Pattern::AsyncStateMachines => "async_state_machines",
            Pattern::Finalization => "finalization",
            Pattern::Pinned => "pinned",
            Pattern::Fragmentation => "fragmentation",
            Pattern::ConditionalWeakTable => "conditional_weak_table",
            Pattern::Serializers => "serializers",
            Pattern::LargeHolder => "large_holder",
            Pattern::TypeGrowth => "type_growth",
            Pattern::DuplicateStrings => "duplicate_strings",
        }
    }

    /// The pattern of an id.
    pub fn of_id(id: &str) -> Option<Pattern> {
        Pattern::ALL.into_iter().find(|p| p.id() == id)
    }

    /// Its name in words.
    pub fn title(self) -> &'static str {
        match self {
            Pattern::Timers => "Timers keeping their callbacks alive",
            Pattern::Events => "Event with many subscribers",
            Pattern::CancellationRegistrations => {
                "Registrations on a long-lived CancellationTokenSource"
            }
            Pattern::Caches => "Cache or static dictionary with many entries",
            Pattern::EntityFramework => "Entity Framework contexts and caches",
            Pattern::HttpClients => "HttpClient or handler created per call",
            Pattern::Telemetry => "Application Insights pipelines or buffered telemetry",
            Pattern::RootScopeDisposables => "Disposables captured by the DI root scope",
            Pattern::AsyncStateMachines => "Async methods suspended and never resumed",
            Pattern::Finalization => "Finalizer backlog",
            Pattern::Pinned => "Pinned objects",
            Pattern::Fragmentation => "Free space fragmenting a generation",
            Pattern::ConditionalWeakTable => "Values kept by a ConditionalWeakTable",
            Pattern::Serializers => "Serializer options or dynamic assemblies created per call",
            Pattern::LargeHolder => "One object holds a large share of the heap",
            Pattern::TypeGrowth => "A type's retained size grew",
            Pattern::DuplicateStrings => "Duplicate strings waste the heap",
        }
    }

    /// The usual fix, in one or two sentences.
    pub fn fix(self) -> &'static str {
        match self {
            Pattern::Timers => {
                "Dispose every Timer you create (or share one timer); a timer that is never \
                 disposed keeps its callback's target and state alive, and so does a cycle \
                 owner → Timer → callback → owner."
            }
            Pattern::Events => {
                "Unsubscribe (-=) when the subscriber is done, or make the publisher live no \
                 longer than its subscribers; a static event keeps every subscriber alive."
            }
            Pattern::CancellationRegistrations => {
                "Dispose the CancellationTokenRegistration (a `using` around Register) and \
                 linked sources (CreateLinkedTokenSource) when the operation ends; registrations \
                 on a long-lived token stay until it is cancelled."
            }
            Pattern::Caches => {
                "Bound the cache: set SizeLimit and a size per entry, give entries an \
                 expiration, and never use request input (ids, URLs, query text) as keys \
                 without a limit."
            }
            Pattern::EntityFramework => {
                "Give each unit of work its own short-lived DbContext (a scoped service, or \
                 IDbContextFactory) and never keep one in a static or resolve it from the root \
                 provider; use AsNoTracking for reads; build DbContextOptions once; parameterise \
                 queries (no constants or string-built expressions) so their plans are reused."
            }
            Pattern::HttpClients => {
                "Reuse one HttpClient (or use IHttpClientFactory) instead of creating and \
                 dropping clients and handlers per request."
            }
            Pattern::Telemetry => {
                "Create one TelemetryConfiguration (and TelemetryClient) for the process and \
                 reuse it; dispose any other, and flush channels that buffer."
            }
            Pattern::RootScopeDisposables => {
                "Resolve disposable transients from a scope (IServiceScopeFactory.CreateScope) \
                 and dispose it, not from the root provider, which keeps them until the process \
                 ends."
            }
            Pattern::AsyncStateMachines => {
                "Find what these methods await (the path shows it) and make sure it completes or \
                 is cancelled: a TaskCompletionSource never set, a token never cancelled, a \
                 channel never written."
            }
            Pattern::Finalization => {
                "Dispose these objects instead of leaving them to the finalizer (and suppress \
                 finalization in Dispose); a finalizer that blocks holds up the whole queue."
            }
            Pattern::Pinned => {
                "Pin for as short as you can, or pin buffers from a pool allocated once \
                 (ArrayPool, the pinned object heap) instead of pinning new objects."
            }
            Pattern::Fragmentation => {
                "Free space the GC cannot compact away sits between pinned objects (or, on the \
                 LOH, between large arrays): pin briefly or pin buffers allocated once (ArrayPool, \
                 the pinned object heap), and rent large arrays from a pool instead of \
                 allocating them per call; GCSettings.LargeObjectHeapCompactionMode compacts the \
                 LOH once."
            }
            Pattern::ConditionalWeakTable => {
                "A value that refers back to its key (or to the table) keeps both alive as long \
                 as the key lives; remove entries you no longer need, and keep keys short-lived."
            }
            Pattern::Serializers => {
                "Create JsonSerializerOptions (and XmlSerializers with overrides) once and \
                 reuse them: each new one builds its metadata and emitted code again."
            }
            Pattern::LargeHolder => {
                "Look at what this object holds (its dominated objects): if it is a cache or a \
                 collection, bound it; if it should be gone, find who keeps it (the path)."
            }
            Pattern::TypeGrowth => {
                "Open the type's key retention paths: the path holding most of its objects is \
                 where they accumulate."
            }
            Pattern::DuplicateStrings => {
                "Keep one copy of each value: intern the few values that recur forever \
                 (string.Intern, or a pool such as a Dictionary<string, string> or \
                 CommunityToolkit's StringPool where the strings are read: headers, JSON \
                 property values, database rows), and cache the parsed value (an enum, a \
                 number, a DateTime, a MediaTypeHeaderValue) instead of keeping the text."
            }
        }
    }

    /// The pattern's threshold.
    pub fn threshold(self) -> Threshold {
        let t = |level: u64, growth: u64, unit: &'static str| Threshold {
            level,
            growth,
            unit,
            heap_percent: None,
        };
        match self {
            Pattern::Timers => t(200, 100, "timers calling one method on one type of target"),
            Pattern::Events => t(200, 100, "subscribers of one delegate"),
            Pattern::CancellationRegistrations => {
                t(200, 100, "registrations on one CancellationTokenSource")
            }
            Pattern::Caches => t(10_000, 500, "entries in one cache or static dictionary"),
            Pattern::EntityFramework => t(
                crate::ef::LONG_LIVED_CONTEXTS.0,
                crate::ef::LONG_LIVED_CONTEXTS.1,
                "DbContexts of one type held by a static or the DI root scope (entities one \
                 context tracks: 10,000 and +2,000; EF Core internal service providers: 20 and \
                 +10; compiled queries or EF6 query plans: 2,000 and +500; EF6 cached models: \
                 20 and +5)",
            ),
            Pattern::HttpClients => t(
                20,
                10,
                "live HTTP handlers (or clients, whichever are more)",
            ),
            Pattern::Telemetry => t(
                3,
                2,
                "TelemetryConfigurations (ITelemetry: 5,000 and +2,000)",
            ),
            Pattern::RootScopeDisposables => t(1_000, 500, "disposables in the root scope"),
            Pattern::AsyncStateMachines => {
                t(200, 50, "async state machines of one type at one state")
            }
            Pattern::Finalization => t(1_000, 50, "objects of one type ready for finalization"),
            Pattern::Pinned => t(200, 25, "objects of one type pinned by handles"),
            Pattern::Fragmentation => t(
                FRAGMENTATION_MB,
                FRAGMENTATION_MB,
                "MB of free space in generation 2, the LOH or the POH, when it is 25 % of that \
                 generation or more (growth in MB too)",
            ),
            Pattern::ConditionalWeakTable => t(
                1_000,
                100,
                "values of one ConditionalWeakTable type kept by its keys",
            ),
            Pattern::Serializers => t(
                50,
                20,
                "JsonSerializerOptions (dynamic assemblies: 20 and +10)",
            ),
            Pattern::LargeHolder => Threshold {
                heap_percent: Some(10.0),
                ..t(
                    0,
                    0,
                    "of the heap retained by one object (with two dumps: that much gained)",
                )
            },
            Pattern::TypeGrowth => Threshold {
                heap_percent: Some(10.0),
                ..t(0, 0, "of the heap gained by one type's retained size")
            },
            Pattern::DuplicateStrings => Threshold {
                heap_percent: Some(DUPLICATE_STRINGS_PERCENT),
                ..t(
                    0,
                    0,
                    "of the heap taken by the extra copies of duplicated strings (with two \
                     dumps: that much, or that much gained)",
                )
            },
        }
    }
}

/// When a group is a finding: it holds `level` objects in the dump, or
/// grew by `growth` objects between two dumps (for the generic patterns:
/// `heap_percent` of the heap's bytes).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Threshold {
    /// Objects in one dump.
    pub level: u64,
    /// Objects gained between two dumps.
    pub growth: u64,
    /// What is counted.
    pub unit: &'static str,
    /// For the generic patterns: the share of the heap's reachable bytes.
    pub heap_percent: Option<f64>,
}

impl Threshold {
    /// The threshold in words: `200 timers calling one method on one type
    /// of target, or +100 between dumps`.
    pub fn words(&self) -> String {
        match self.heap_percent {
            Some(p) => format!("{p} % {}", self.unit),
            None => format!(
                "{} {}, or +{} between dumps",
                self.level, self.unit, self.growth
            ),
        }
    }
}

/// A label and a value telling more about a group (`callback`:
/// `DumpLab.Leaks.Ticker.OnTick`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detail {
    /// What it is.
    pub label: String,
    /// Its value, in words.
    pub value: String,
    /// True when the value carries a value read from the dump (a
    /// string's text), not only names of types, methods and fields.
    #[serde(default)]
    pub from_dump: bool,
}

impl Detail {
    fn new(label: &str, value: impl Into<String>) -> Detail {
        Detail {
            label: label.to_owned(),
            value: value.into(),
            from_dump: false,
        }
    }
}

/// Free space is a finding in a generation that keeps it when it takes
/// this many MB ([`FRAGMENTATION_MB`]) and this share of the generation
/// (percent), or grew by that many MB at that share: a few MB of free
/// space between survivors is normal; a quarter of a large generation
/// is memory the process holds and cannot use for objects of other
/// generations.
pub const FRAGMENTATION_PERCENT: f64 = 25.0;

/// See [`FRAGMENTATION_PERCENT`].
pub const FRAGMENTATION_MB: u64 = 16;

/// Duplicate strings are a finding when their extra copies take this
/// share of the reachable heap (percent): the waste a real service
/// usually shows is a few percent; at 5 % interning or caching the parsed
/// values pays for itself, and a heap with less stays quiet.
pub const DUPLICATE_STRINGS_PERCENT: f64 = 5.0;

/// Duplicated values a duplicate-strings finding names (most wasted first).
pub const DUPLICATE_STRINGS_VALUES: usize = 5;

/// Characters of a duplicated value it shows.
pub const DUPLICATE_STRINGS_CHARS: usize = 60;

/// One group of objects of a pattern in one heap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The pattern.
    pub pattern: Pattern,
    /// Names the group in words stable between dumps of one process (the
    /// callback and target type, the static field holding a cache, …);
    /// two dumps' groups are joined by it.
    pub key: String,
    /// What the group is, in words (`timers calling X on Y`).
    pub subject: String,
    /// Objects counted against the threshold.
    pub objects: u64,
    /// Bytes only these objects keep alive (each once; see the pattern's
    /// detector for what is counted).
    pub retained_bytes: u64,
    /// The object to look at (the cache, the source, the delegate, the
    /// timer's target), when there is one.
    pub holder: Option<NodeIndex>,
    /// An object of the group whose path from a root shows the retention
    /// shape.
    pub example: Option<NodeIndex>,
    /// More about the group.
    pub details: Vec<Detail>,
    /// For [`Pattern::LargeHolder`] and [`Pattern::TypeGrowth`] in one
    /// dump: a level on bytes, not objects (the heap's share).
    pub level_by_bytes: bool,
    /// For [`Pattern::Fragmentation`]: the bytes of the generation whose
    /// free space the group is (`retained_bytes`: the free bytes; `None`
    /// for generations 0 and 1, whose free space is not judged).
    #[serde(default)]
    pub span_bytes: Option<u64>,
    /// The group's own level and growth, when its pattern counts it apart
    /// (buffered `ITelemetry`: 5,000 and +2,000; dynamic assemblies: 20
    /// and +10); `None`: the pattern's [`Threshold`].
    pub level: Option<(u64, u64)>,
}

/// A detector's outcome on one heap.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorRun {
    /// The pattern.
    pub pattern: Pattern,
    /// Groups observed.
    pub groups: u64,
    /// Why it could not look, when it could not (no object contents, its
    /// types absent, …).
    pub silent_because: Option<String>,
}

/// Everything the detectors saw in one heap. Serialisable: the page carries
/// a baseline's observations from its dump's worker to the current dump's
/// (the nodes in it are the baseline's and are not used against the
/// current heap).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observations {
    /// Bytes reachable from the roots (what "% of the heap" divides).
    pub reachable_bytes: u64,
    /// Every group of every pattern.
    pub groups: Vec<Observation>,
    /// Per type name: retained bytes, objects and the top-level object
    /// retaining most (for [`Pattern::TypeGrowth`]).
    pub types: HashMap<String, TypeRetainedEntry>,
    /// What each detector did.
    pub runs: Vec<DetectorRun>,
}

/// A type's retained size in one heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TypeRetainedEntry {
    /// Bytes retained by the type's objects (each once).
    pub retained_bytes: u64,
    /// Reachable objects.
    pub objects: u64,
}

/// A finding: a group above its pattern's threshold, with its evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The group, in the current (or only) heap.
    pub group: Observation,
    /// The same group in the baseline, when two heaps were compared and
    /// the baseline has it: its objects and retained bytes.
    pub base: Option<(u64, u64)>,
    /// True when two heaps were compared.
    pub compared: bool,
    /// True for a leak suspect; false for what merely holds much of one
    /// heap ([`Pattern::LargeHolder`] in one dump).
    pub leak: bool,
    /// The verdict in one line of plain words.
    pub verdict: String,
}

impl Finding {
    /// Objects gained since the baseline (`None` for one dump).
    pub fn growth_objects(&self) -> Option<i64> {
        self.compared
            .then(|| self.group.objects as i64 - self.base.map_or(0, |b| b.0) as i64)
    }

    /// Retained bytes gained since the baseline (`None` for one dump).
    pub fn growth_bytes(&self) -> Option<i64> {
        self.compared
            .then(|| self.group.retained_bytes as i64 - self.base.map_or(0, |b| b.1) as i64)
    }

    /// What the ranking orders by: retained growth for two heaps,
    /// retained bytes for one.
    pub fn rank_bytes(&self) -> i64 {
        self.growth_bytes()
            .unwrap_or(self.group.retained_bytes as i64)
    }
}

/// Observes `heap`: every detector's groups. Each detector is one pass
/// over the objects of its types (and their shortest paths), the type
/// growth one walk of the dominator tree: small beside the dominator tree
/// itself, so no progress is reported.
pub fn observe(heap: &Heap) -> Observations {
    detectors::observe(heap)
}

/// The findings of `current` (alone, or against `base`), ranked: by
/// retained bytes gained when there is a baseline, by retained bytes
/// otherwise.
pub fn findings(heap: &Heap, current: &Observations, base: Option<&Observations>) -> Vec<Finding> {
    let base_of: HashMap<(Pattern, &str), &Observation> = base
        .map(|b| {
            b.groups
                .iter()
                .map(|o| ((o.pattern, o.key.as_str()), o))
                .collect()
        })
        .unwrap_or_default();
    let heap_bytes = current.reachable_bytes.max(1) as f64;
    let compared = base.is_some();
    let mut out = Vec::new();
    for o in &current.groups {
        let t = o.pattern.threshold();
        let b = base_of.get(&(o.pattern, o.key.as_str()));
        let base_group = b.map(|b| (b.objects, b.retained_bytes));
        let (grown_objects, grown_bytes) = (
            o.objects as i64 - base_group.map_or(0, |b| b.0) as i64,
            o.retained_bytes as i64 - base_group.map_or(0, |b| b.1) as i64,
        );
        let (hit, leak) = match (o.pattern, t.heap_percent) {
            (Pattern::Fragmentation, _) => {
                let mb = FRAGMENTATION_MB << 20;
                let share = o.retained_bytes as f64 * 100.0
                    / o.span_bytes.unwrap_or(u64::MAX).max(1) as f64
                    >= FRAGMENTATION_PERCENT;
                (
                    share && (o.retained_bytes >= mb || (compared && grown_bytes >= mb as i64)),
                    true,
                )
            }
            (_, pct) => match pct {
                Some(p) => {
                    let share = |bytes: i64| bytes as f64 * 100.0 / heap_bytes >= p;
                    if o.pattern == Pattern::DuplicateStrings {
                        // Waste, not a leak: there (at its share), or grown
                        // by it.
                        (
                            share(o.retained_bytes as i64) || (compared && share(grown_bytes)),
                            false,
                        )
                    } else if compared {
                        (share(grown_bytes), true)
                    } else if o.pattern == Pattern::LargeHolder {
                        (share(o.retained_bytes as i64), false)
                    } else {
                        (false, true)
                    }
                }
                None => {
                    let (level, growth) = o.level.unwrap_or((t.level, t.growth));
                    let level = o.objects >= level;
                    let growth = compared && grown_objects >= growth as i64;
                    // Two dumps: a group at its level that did not grow is
                    // still reported (it is there), ranked by its growth.
                    (level || growth, true)
                }
            },
        };
        if !hit {
            continue;
        }
        let verdict = verdict(o, compared.then_some(base_group), grown_objects, heap_bytes);
        out.push(Finding {
            group: o.clone(),
            base: base_group,
            compared,
            leak,
            verdict,
        });
    }
    // Type growth: by name, joined across the two heaps.
    if let Some(b) = base {
        let mut names: Vec<&String> = current.types.keys().collect();
        names.sort();
        for name in names {
            let c = current.types[name];
            let bt = b.types.get(name).copied();
            let grown = c.retained_bytes as i64 - bt.map_or(0, |x| x.retained_bytes) as i64;
            if (grown as f64) * 100.0 / heap_bytes < 10.0 {
                continue;
            }
            let o = detectors::type_growth_group(heap, name, c);
            let grown_objects = c.objects as i64 - bt.map_or(0, |x| x.objects) as i64;
            let base = bt.map(|x| (x.objects, x.retained_bytes));
            let verdict = verdict(&o, Some(base), grown_objects, heap_bytes);
            out.push(Finding {
                group: o,
                base,
                compared: true,
                leak: true,
                verdict,
            });
        }
    }
    out.sort_by(|a, b| {
        b.rank_bytes()
            .cmp(&a.rank_bytes())
            .then(generic_order(a).cmp(&generic_order(b)))
            .then(b.group.objects.cmp(&a.group.objects))
            .then_with(|| a.group.key.cmp(&b.group.key))
    });
    merge_generic(heap, out)
}

/// Among generic findings of equal rank, the holder first, then the
/// outermost type.
fn generic_order(f: &Finding) -> u8 {
    match f.group.pattern {
        Pattern::LargeHolder => 0,
        Pattern::TypeGrowth => 1,
        _ => 2,
    }
}

/// One growth seen as several generic findings (the list that grew, its
/// array's type, its items' type) is one finding (and in one heap, an
/// object holding half of a larger holder's bytes is told under it): a generic finding whose
/// example the example of a finding ranked before it dominates, with at
/// least 90 % of its growth, is told as a detail of that one ("grew with
/// it").
fn merge_generic(heap: &Heap, found: Vec<Finding>) -> Vec<Finding> {
    let generic =
        |f: &Finding| matches!(f.group.pattern, Pattern::LargeHolder | Pattern::TypeGrowth);
    let mut out: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        // One heap: an object holding half of a larger holder's bytes or
        // more is part of that answer (a list inside the object holding
        // it), told under it.
        if !f.compared && f.group.pattern == Pattern::LargeHolder {
            let cover = out.iter_mut().find(|k| {
                k.group.pattern == Pattern::LargeHolder
                    && 2 * f.group.retained_bytes >= k.group.retained_bytes
                    && match (k.group.holder, f.group.holder) {
                        (Some(a), Some(b)) => heap.dominators.dominates(a, b),
                        _ => false,
                    }
            });
            if let Some(k) = cover {
                k.group.details.push(Detail {
                    from_dump: false,
                    label: "holds within it".to_owned(),
                    value: format!(
                        "{} ({} bytes)",
                        f.group.subject,
                        thousands(f.group.retained_bytes)
                    ),
                });
                continue;
            }
        }
        if f.compared && generic(&f) {
            let bytes = f.rank_bytes();
            let cover = out.iter_mut().find(|k| {
                generic(k)
                    && k.rank_bytes() as f64 >= 0.9 * bytes as f64
                    && match (k.group.example, f.group.example) {
                        (Some(a), Some(b)) => heap.dominators.dominates(a, b),
                        _ => false,
                    }
            });
            if let Some(k) = cover {
                let what = match f.group.pattern {
                    Pattern::TypeGrowth => f.group.key.clone(),
                    _ => f.group.subject.clone(),
                };
                if !k.group.details.iter().any(|d| d.value == what) {
                    k.group.details.push(Detail {
                        from_dump: false,
                        label: format!("grew with it: {what}"),
                        value: format!(
                            "{} objects, {} retained bytes",
                            heaplens_analysis::format::signed_thousands(
                                f.growth_objects().unwrap_or(0)
                            ),
                            heaplens_analysis::format::signed_thousands(
                                f.growth_bytes().unwrap_or(0)
                            )
                        ),
                    });
                }
                continue;
            }
        }
        out.push(f);
    }
    out
}

/// Thousands separators.
pub(crate) fn thousands(n: u64) -> String {
    heaplens_analysis::format::thousands(n)
}

/// The verdict in one line.
fn verdict(
    o: &Observation,
    base: Option<Option<(u64, u64)>>,
    grown_objects: i64,
    heap_bytes: f64,
) -> String {
    let share = o.retained_bytes as f64 * 100.0 / heap_bytes;
    let keeps = format!(
        "keeping {} bytes alive ({share:.1} % of the heap)",
        thousands(o.retained_bytes)
    );
    match (o.pattern, base) {
        (Pattern::DuplicateStrings, b) => {
            let values = o
                .details
                .iter()
                .find(|d| d.label == "duplicated values")
                .map_or_else(String::new, |d| format!(" of {} values", d.value));
            let wasted = format!(
                "{} extra copies{values} waste {} bytes ({share:.1} % of the heap)",
                thousands(o.objects),
                thousands(o.retained_bytes)
            );
            match b {
                Some(b) => format!(
                    "{wasted}; {} bytes in the baseline",
                    thousands(b.map_or(0, |b| b.1))
                ),
                None => wasted,
            }
        }
        (Pattern::LargeHolder, None) => format!("{} retains {share:.1} % of the heap", o.subject),
        (Pattern::LargeHolder | Pattern::TypeGrowth, Some(b)) => {
            let before = b.map_or(0, |b| b.1);
            format!(
                "{} grew from {} to {} retained bytes ({} % of the heap)",
                o.subject,
                thousands(before),
                thousands(o.retained_bytes),
                format_args!(
                    "{:+.1}",
                    (o.retained_bytes as f64 - before as f64) * 100.0 / heap_bytes
                )
            )
        }
        (Pattern::Fragmentation, b) => {
            let span = o.span_bytes.unwrap_or(0);
            let now = format!(
                "{}: {} free bytes in {} blocks, {:.1} % of its {} bytes",
                o.subject,
                thousands(o.retained_bytes),
                thousands(o.objects),
                o.retained_bytes as f64 * 100.0 / span.max(1) as f64,
                thousands(span)
            );
            match b {
                Some(b) => format!(
                    "{now}; {} free bytes in the baseline",
                    thousands(b.map_or(0, |b| b.1))
                ),
                None => now,
            }
        }
        (_, None) => format!("{}: {}, {keeps}", o.subject, thousands(o.objects)),
        (_, Some(b)) => format!(
            "{}: {} → {} ({} between the dumps), {keeps}",
            o.subject,
            thousands(b.map_or(0, |b| b.0)),
            thousands(o.objects),
            heaplens_analysis::format::signed_thousands(grown_objects)
        ),
    }
}
