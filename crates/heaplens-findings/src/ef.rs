//! Entity Framework (EF Core and EF6): contexts that live too long, their
//! change trackers, and the caches EF keeps per process. Type and field
//! names are EF's own (dotnet/efcore, dotnet/ef6 sources); a heap without
//! any of them leaves the detector silent.

use crate::detectors::{absent, dominated_by_mask, is_root_scope, memory_cache_facts, SCOPE_TYPE};
use crate::heap::Heap;
use crate::{thousands, Detail, Observation, Pattern};
use heaplens_contents::collections::collection_fill;
use heaplens_contents::inspect::{field_int, field_ref};
use heaplens_graph::{NodeIndex, RootKind, TypeKind};
use std::collections::BTreeMap;

/// The base classes of every context.
const DB_CONTEXTS: [&str; 2] = [
    "Microsoft.EntityFrameworkCore.DbContext",
    "System.Data.Entity.DbContext",
];

/// Long-lived contexts of one type: this many, or this many more.
pub const LONG_LIVED_CONTEXTS: (u64, u64) = (5, 3);
/// Entities one context tracks.
pub const TRACKED_ENTITIES: (u64, u64) = (10_000, 2_000);
/// EF Core's internal service providers (EF itself warns at 20:
/// `ManyServiceProvidersCreatedWarning`).
pub const SERVICE_PROVIDERS: (u64, u64) = (20, 10);
/// Compiled queries in EF Core's `CompiledQueryCache`, and query plans in
/// EF6's `QueryCacheManager` (whose soft limit is 1,000).
pub const COMPILED_QUERIES: (u64, u64) = (2_000, 500);
/// Models in EF6's `LazyInternalContext._cachedModels` (one per context
/// type and provider is expected).
pub const CACHED_MODELS: (u64, u64) = (20, 5);

/// Types whose base classes (by the dump's metadata) include a
/// `DbContext`, the `DbContext`s themselves too. Types whose metadata is
/// not known are not guessed from their names.
fn context_types(heap: &Heap) -> Vec<bool> {
    let g = heap.graph;
    g.types()
        .iter()
        .enumerate()
        .map(|(t, info)| {
            info.kind == TypeKind::Object
                && (DB_CONTEXTS.contains(&info.name.as_str())
                    || g.hierarchy().is_some_and(|h| {
                        h.known(t as u32) && h.bases(t as u32).any(|b| DB_CONTEXTS.contains(&b))
                    }))
        })
        .collect()
}

/// Why a context lives long: the static field its shortest path starts
/// at, or the DI root scope on that path; `None` for a context of a
/// request (or of EF Core's context pool, which keeps them by design).
fn long_lived_by(heap: &Heap, x: NodeIndex) -> Option<String> {
    let g = heap.graph;
    let p = heap.paths.path_to(x)?;
    let mut root_scope = false;
    for &n in &p.nodes {
        let name = heap.type_name(n);
        if name.starts_with("Microsoft.EntityFrameworkCore.Internal.DbContextPool`1") {
            return None;
        }
        if name == SCOPE_TYPE && heap.contents.and_then(|r| is_root_scope(r, n)) == Some(true) {
            root_scope = true;
        }
    }
    if root_scope {
        return Some("the DI root scope".to_owned());
    }
    let root = &g.roots()[p.root];
    (root.kind == RootKind::Static).then(|| {
        format!(
            "the static {}",
            g.root_name(root).unwrap_or("(a static field)")
        )
    })
}

/// The EF groups of one heap.
pub(crate) fn entity_framework(heap: &Heap) -> Result<Vec<Observation>, String> {
    let g = heap.graph;
    let contexts_mask = context_types(heap);
    let contexts = heap.live_of(&contexts_mask);
    let named = |n: &str| heap.live_of(&heap.types_where(|t| t == n));
    let provider_caches = named("Microsoft.EntityFrameworkCore.Internal.ServiceProviderCache");
    let query_caches = named("Microsoft.EntityFrameworkCore.Query.Internal.CompiledQueryCache");
    let plan_caches = named("System.Data.Entity.Core.Common.QueryCache.QueryCacheManager");
    let models: Vec<(NodeIndex, &str)> = g
        .roots()
        .iter()
        .filter(|r| r.kind == RootKind::Static)
        .filter_map(|r| {
            let name = g.root_name(r)?;
            (name == "System.Data.Entity.Internal.LazyInternalContext._cachedModels")
                .then_some((r.object, name))
        })
        .collect();
    if contexts.is_empty()
        && provider_caches.is_empty()
        && query_caches.is_empty()
        && plan_caches.is_empty()
        && models.is_empty()
    {
        return Err(absent(
            "Entity Framework type (a DbContext, ServiceProviderCache, CompiledQueryCache, \
             QueryCacheManager or LazyInternalContext._cachedModels)",
        ));
    }
    let mut out = Vec::new();

    // Long-lived contexts, by type and by what keeps them.
    let mut long: BTreeMap<(String, String), (u64, u64, NodeIndex)> = BTreeMap::new();
    for &c in &contexts {
        let Some(by) = long_lived_by(heap, c) else {
            continue;
        };
        let e = long
            .entry((heap.type_name(c).to_owned(), by))
            .or_insert((0, 0, c));
        e.0 += 1;
        if !dominated_by_mask(heap, c, &contexts_mask) {
            e.1 += heap.retained.get(c);
        }
    }
    for ((ty, by), (n, bytes, first)) in long {
        out.push(Observation {
            pattern: Pattern::EntityFramework,
            key: format!("{ty} held by {by}"),
            subject: format!("{ty} contexts held by {by}"),
            objects: n,
            retained_bytes: bytes,
            holder: Some(first),
            example: Some(first),
            details: vec![
                Detail::new("context type", ty),
                Detail::new("held by", by),
                Detail::new(
                    "live contexts of every type",
                    thousands(contexts.len() as u64),
                ),
            ],
            level_by_bytes: false,
            level: Some(LONG_LIVED_CONTEXTS),
            span_bytes: None,
        });
    }

    // Change trackers: tracked entries by the context they belong to.
    let entries_mask = heap.types_where(|n| {
        (n.starts_with("Microsoft.EntityFrameworkCore.ChangeTracking.Internal.Internal")
            && n.ends_with("EntityEntry"))
            || n == "System.Data.Entity.Core.Objects.EntityEntry"
    });
    let mut tracked: BTreeMap<NodeIndex, (u64, u64, NodeIndex)> = BTreeMap::new();
    for e in heap.live_of(&entries_mask) {
        if let Some(c) = heap.owner(6, &contexts_mask, e) {
            let x = tracked.entry(c).or_insert((0, 0, e));
            x.0 += 1;
            x.1 += heap.retained.get(e);
        }
    }
    for (c, (n, bytes, first)) in tracked {
        let place = heap.place(c);
        out.push(Observation {
            pattern: Pattern::EntityFramework,
            subject: format!("entities tracked by the {} at {place}", heap.type_name(c)),
            key: format!("tracked by {place}"),
            objects: n,
            retained_bytes: bytes,
            holder: Some(c),
            example: Some(first),
            details: vec![
                Detail::new("context type", heap.type_name(c)),
                Detail::new("entry type", heap.type_name(first)),
            ],
            level_by_bytes: false,
            level: Some(TRACKED_ENTITIES),
            span_bytes: None,
        });
    }

    let r = heap.contents;
    // EF Core: one internal service provider per distinct options.
    for &s in &provider_caches {
        let Some(n) = r
            .and_then(|r| field_ref(r, s, "_configurations").and_then(|d| collection_fill(r, d)))
            .map(|f| f.count)
        else {
            continue;
        };
        let place = heap.place(s);
        out.push(Observation {
            pattern: Pattern::EntityFramework,
            subject: format!(
                "EF Core internal service providers in the ServiceProviderCache at {place}"
            ),
            key: format!("service providers at {place}"),
            objects: n,
            retained_bytes: heap.retained.get(s),
            holder: Some(s),
            example: Some(s),
            details: vec![Detail::new(
                "what it means",
                "one provider per distinct DbContextOptions: many mean options (a logger \
                 factory, an interceptor, a model) built per context",
            )],
            level_by_bytes: false,
            level: Some(SERVICE_PROVIDERS),
            span_bytes: None,
        });
    }
    // EF Core: compiled queries, in the MemoryCache the cache keeps.
    for &q in &query_caches {
        let Some(r) = r else { break };
        let Some(mc) = field_ref(r, q, "_memoryCache") else {
            continue;
        };
        let facts = memory_cache_facts(r, mc);
        let Some(n) = facts.entries else { continue };
        let place = heap.place(q);
        let mut details = vec![Detail::new(
            "what it means",
            "one entry per query shape: many mean queries built with constants or \
             string-built expressions instead of parameters",
        )];
        details.extend(facts.details());
        out.push(Observation {
            pattern: Pattern::EntityFramework,
            subject: format!("EF Core compiled queries in the CompiledQueryCache at {place}"),
            key: format!("compiled queries at {place}"),
            objects: n,
            retained_bytes: heap.retained.get(mc),
            holder: Some(q),
            example: Some(mc),
            details,
            level_by_bytes: false,
            level: Some(COMPILED_QUERIES),
            span_bytes: None,
        });
    }
    // EF6: query plans.
    for &q in &plan_caches {
        let Some(r) = r else { break };
        let Some(d) = field_ref(r, q, "_cacheData") else {
            continue;
        };
        let Some(fill) = collection_fill(r, d) else {
            continue;
        };
        let place = heap.place(q);
        let mut details = Vec::new();
        if let Some(max) = field_int(r, q, "_maxNumberOfEntries") {
            details.push(Detail::new(
                "soft limit (_maxNumberOfEntries)",
                thousands(max.max(0) as u64),
            ));
        }
        out.push(Observation {
            pattern: Pattern::EntityFramework,
            subject: format!("EF6 query plans in the QueryCacheManager at {place}"),
            key: format!("query plans at {place}"),
            objects: fill.count,
            retained_bytes: heap.retained.get(d),
            holder: Some(q),
            example: Some(d),
            details,
            level_by_bytes: false,
            level: Some(COMPILED_QUERIES),
            span_bytes: None,
        });
    }
    // EF6: compiled models, one per context type and provider expected.
    for (d, name) in models {
        let Some(fill) = r.and_then(|r| collection_fill(r, d)) else {
            continue;
        };
        out.push(Observation {
            pattern: Pattern::EntityFramework,
            subject: format!("EF6 compiled models in the static {name}"),
            key: format!("static {name}"),
            objects: fill.count,
            retained_bytes: heap.retained.get(d),
            holder: Some(d),
            example: Some(d),
            details: vec![Detail::new(
                "what it means",
                "one model per context type and provider is expected: more mean a model cache \
                 key (IDbModelCacheKeyProvider) that differs per context",
            )],
            level_by_bytes: false,
            level: Some(CACHED_MODELS),
            span_bytes: None,
        });
    }
    Ok(out)
}
