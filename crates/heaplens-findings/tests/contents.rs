//! Detectors that read object contents, over small heaps built here with
//! their bytes (a `BytesReader`), laid out with the type and field names
//! of the libraries' own sources: `MemoryCache`'s size limit and counts as
//! Microsoft.Extensions.Caching.Memory lays them out up to 6, in 7–8 and
//! from 9 on; Entity Framework's contexts (found by their base class,
//! not their name), change trackers and caches as dotnet/efcore and
//! dotnet/ef6 name them. Every figure asserted is the one the heap was
//! built with.

use heaplens_analysis::dominators::dominators;
use heaplens_analysis::paths::root_paths;
use heaplens_analysis::retained::retained_sizes;
use heaplens_contents::bytes::BytesReader;
use heaplens_contents::layout::{
    ArrayLayout, FieldKind, FieldLayout, Primitive, Shape, Special, StructLayout, TypeLayout,
};
use heaplens_contents::ObjectReader;
use heaplens_findings::{findings, observe, Finding, Heap, Observation, Observations, Pattern};
use heaplens_graph::{
    GraphBuilder, NoProgress, RootKind, TypeHierarchyBuilder, TypeInfo, TypeKind,
};
use std::sync::Arc;

const BASE: u64 = 0x10_0000;
/// Bytes between two objects (every object here is smaller).
const STRIDE: u64 = 0x40;

#[derive(Clone, Copy)]
enum F {
    Ref,
    I32,
    I64,
    NullableI64,
}

struct Obj {
    ty: u32,
    size: u64,
    bytes: Vec<u8>,
    children: Vec<u32>,
}

/// A heap under construction: classes whose fields take 8 bytes each
/// (a `long?` 16) after an 8-byte header, objects `STRIDE` apart.
#[derive(Default)]
struct Build {
    layouts: Vec<TypeLayout>,
    bases: Vec<Vec<String>>,
    objs: Vec<Obj>,
    roots: Vec<(u32, RootKind, Option<String>)>,
}

fn nullable_i64() -> FieldKind {
    let f = |name: &str, offset, p| FieldLayout {
        name: name.into(),
        declared_in: "System.Nullable`1".into(),
        type_name: "?".into(),
        offset,
        kind: FieldKind::Primitive(p),
    };
    FieldKind::Struct(Arc::new(StructLayout {
        name: "System.Nullable`1[System.Int64]".into(),
        size: 16,
        fields: vec![
            f("hasValue", 0, Primitive::Bool),
            f("value", 8, Primitive::I64),
        ],
        special: Some(Special::Nullable),
    }))
}

impl Build {
    /// A class deriving from `bases` (nearest first) with `fields`.
    fn class(&mut self, name: &str, bases: &[&str], fields: &[(&str, F)]) -> u32 {
        let mut offset = 0;
        let fields = fields
            .iter()
            .map(|&(n, k)| {
                let (kind, size) = match k {
                    F::Ref => (FieldKind::Reference, 8),
                    F::I32 => (FieldKind::Primitive(Primitive::I32), 8),
                    F::I64 => (FieldKind::Primitive(Primitive::I64), 8),
                    F::NullableI64 => (nullable_i64(), 16),
                };
                let f = FieldLayout {
                    name: n.into(),
                    declared_in: name.into(),
                    type_name: "?".into(),
                    offset,
                    kind,
                };
                offset += size;
                f
            })
            .collect();
        self.layouts.push(TypeLayout {
            name: name.into(),
            shape: Shape::Class,
            fields,
            data_offset: 8,
            notes: Vec::new(),
        });
        self.bases
            .push(bases.iter().map(|b| b.to_string()).collect());
        self.layouts.len() as u32 - 1
    }

    /// `System.Int32[]`.
    fn int_array(&mut self) -> u32 {
        self.layouts.push(TypeLayout {
            name: "System.Int32[]".into(),
            shape: Shape::Array(ArrayLayout {
                element_type: "System.Int32".into(),
                element: FieldKind::Primitive(Primitive::I32),
                element_size: 4,
                rank: 1,
                length_offset: 8,
                data_offset: 16,
            }),
            fields: Vec::new(),
            data_offset: 16,
            notes: Vec::new(),
        });
        self.bases.push(vec!["System.Array".into()]);
        self.layouts.len() as u32 - 1
    }

    fn obj(&mut self, ty: u32) -> u32 {
        self.objs.push(Obj {
            ty,
            size: 32,
            bytes: vec![0; STRIDE as usize],
            children: Vec::new(),
        });
        self.objs.len() as u32 - 1
    }

    fn addr(o: u32) -> u64 {
        BASE + u64::from(o) * STRIDE
    }

    fn at(&self, o: u32, field: &str) -> (usize, &FieldLayout) {
        let l = &self.layouts[self.objs[o as usize].ty as usize];
        let f = l
            .fields
            .iter()
            .find(|f| f.name == field)
            .unwrap_or_else(|| panic!("{} has no {field}", l.name));
        ((l.data_offset + f.offset) as usize, f)
    }

    fn put(&mut self, o: u32, at: usize, v: &[u8]) {
        self.objs[o as usize].bytes[at..at + v.len()].copy_from_slice(v);
    }

    /// Sets reference `field` of `o` to `target` (and the edge).
    fn set_ref(&mut self, o: u32, field: &str, target: u32) {
        let (at, _) = self.at(o, field);
        self.put(o, at, &Self::addr(target).to_le_bytes());
        self.edge(o, target);
    }

    fn set_int(&mut self, o: u32, field: &str, v: i64) {
        let (at, f) = self.at(o, field);
        match &f.kind {
            FieldKind::Primitive(Primitive::I32) => self.put(o, at, &(v as i32).to_le_bytes()),
            FieldKind::Primitive(Primitive::I64) => self.put(o, at, &v.to_le_bytes()),
            FieldKind::Struct(_) => {
                self.put(o, at, &[1]);
                self.put(o, at + 8, &v.to_le_bytes());
            }
            k => panic!("{k:?}"),
        }
    }

    fn edge(&mut self, o: u32, target: u32) {
        self.objs[o as usize].children.push(target);
    }

    fn root(&mut self, o: u32, kind: RootKind, name: Option<&str>) {
        self.roots.push((o, kind, name.map(str::to_owned)));
    }

    /// A `Dictionary<K,V>` (no entries array: `collection_fill` counts
    /// `_count - _freeCount`) holding `n` new objects of type `value`
    /// (edges only); returns the dictionary and the values.
    fn dictionary(&mut self, dict: u32, value: Option<u32>, n: u32) -> (u32, Vec<u32>) {
        let d = self.obj(dict);
        self.set_int(d, "_count", i64::from(n) + 2);
        self.set_int(d, "_freeCount", 2);
        let mut values = Vec::new();
        if let Some(v) = value {
            for _ in 0..n {
                let x = self.obj(v);
                self.edge(d, x);
                values.push(x);
            }
        }
        (d, values)
    }

    fn finish(self) -> BytesReader<'static> {
        let mut b = GraphBuilder::new();
        let mut h = TypeHierarchyBuilder::new();
        for (t, l) in self.layouts.iter().enumerate() {
            b.add_type(TypeInfo {
                name: l.name.clone(),
                module: None,
                kind: TypeKind::Object,
                method_table: 0,
            });
            h.set(t as u32, None, &self.bases[t], &[]);
        }
        b.set_hierarchy(h.finish());
        let mut mem = Vec::new();
        for (i, o) in self.objs.iter().enumerate() {
            b.add_node(
                o.ty,
                o.size,
                Self::addr(i as u32),
                o.children.iter().copied(),
            )
            .unwrap();
            mem.extend_from_slice(&o.bytes);
        }
        for (o, kind, name) in &self.roots {
            b.add_root(*o, *kind, name.as_deref());
        }
        let layouts: Vec<Arc<TypeLayout>> = self.layouts.into_iter().map(Arc::new).collect();
        BytesReader::new(b.finish().unwrap(), BASE, mem, layouts)
    }
}

const DICT: &str = "System.Collections.Generic.Dictionary`2[System.Object,System.Object]";
const MEMORY_CACHE: &str = "Microsoft.Extensions.Caching.Memory.MemoryCache";
const CACHE_ENTRY: &str = "Microsoft.Extensions.Caching.Memory.CacheEntry";
const OPTIONS: &str = "Microsoft.Extensions.Caching.Memory.MemoryCacheOptions";

fn dict_type(b: &mut Build) -> u32 {
    b.class(
        DICT,
        &["System.Object"],
        &[
            ("_entries", F::Ref),
            ("_count", F::I32),
            ("_freeCount", F::I32),
        ],
    )
}

/// Observes the heap of `r` and runs `f` with it.
fn with<T>(r: &BytesReader, f: impl FnOnce(&Heap, &Observations) -> T) -> T {
    let g = r.graph();
    let dom = dominators(g, &mut NoProgress).unwrap();
    let sizes = retained_sizes(g, &dom);
    let paths = root_paths(g, &mut NoProgress).unwrap();
    let heap = Heap::new(g, &dom, &sizes, &paths, Some(r as &dyn ObjectReader));
    let obs = observe(&heap);
    f(&heap, &obs)
}

fn detail<'a>(o: &'a Observation, label: &str) -> &'a str {
    o.details
        .iter()
        .find(|d| d.label == label)
        .map(|d| d.value.as_str())
        .unwrap_or_else(|| panic!("no {label} in {:?}", o.details))
}

/// Which Microsoft.Extensions.Caching.Memory lays the cache out.
#[derive(Clone, Copy, PartialEq)]
enum Version {
    /// Up to 6: `_entries`, `_cacheSize` on the cache; `long? _sizeLimit`.
    Six,
    /// 7 and 8: on `_coherentState`; `long _sizeLimit` (-1: not set).
    Eight,
    /// 9 on: `_stringEntries` and `_nonStringEntries`.
    Nine,
}

/// A static `App.Cache` holding a `MemoryCache` of `entries` entries (a
/// CacheEntry each) in the layout of `v`, its limit `limit` (none when
/// `None`) and its `_cacheSize` `size`.
fn memory_cache(v: Version, entries: u32, limit: Option<i64>, size: i64) -> BytesReader<'static> {
    let mut b = Build::default();
    let dict = dict_type(&mut b);
    let entry = b.class(CACHE_ENTRY, &["System.Object"], &[]);
    let limit_kind = if v == Version::Six {
        F::NullableI64
    } else {
        F::I64
    };
    let opts_t = b.class(OPTIONS, &["System.Object"], &[("_sizeLimit", limit_kind)]);
    let cache_fields: &[(&str, F)] = match v {
        Version::Six => &[
            ("_entries", F::Ref),
            ("_cacheSize", F::I64),
            ("_options", F::Ref),
        ],
        _ => &[("_options", F::Ref), ("_coherentState", F::Ref)],
    };
    let cache_t = b.class(MEMORY_CACHE, &["System.Object"], cache_fields);
    let state_t = b.class(
        "Microsoft.Extensions.Caching.Memory.MemoryCache+CoherentState",
        &["System.Object"],
        match v {
            Version::Nine => &[
                ("_stringEntries", F::Ref),
                ("_nonStringEntries", F::Ref),
                ("_cacheSize", F::I64),
            ],
            _ => &[("_entries", F::Ref), ("_cacheSize", F::I64)],
        },
    );
    let cache = b.obj(cache_t);
    b.root(cache, RootKind::Static, Some("App.Cache"));
    let opts = b.obj(opts_t);
    b.set_ref(cache, "_options", opts);
    match limit {
        Some(l) => b.set_int(opts, "_sizeLimit", l),
        // .NET 7 on: -1; before, a null `long?` (all zero).
        None if v != Version::Six => b.set_int(opts, "_sizeLimit", -1),
        None => {}
    }
    let holder = if v == Version::Six {
        cache
    } else {
        let s = b.obj(state_t);
        b.set_ref(cache, "_coherentState", s);
        s
    };
    b.set_int(holder, "_cacheSize", size);
    if v == Version::Nine {
        // A third of the entries have keys that are not strings.
        let (d1, _) = b.dictionary(dict, Some(entry), entries - entries / 3);
        let (d2, _) = b.dictionary(dict, Some(entry), entries / 3);
        b.set_ref(holder, "_stringEntries", d1);
        b.set_ref(holder, "_nonStringEntries", d2);
    } else {
        let (d, _) = b.dictionary(dict, Some(entry), entries);
        b.set_ref(holder, "_entries", d);
    }
    b.finish()
}

fn cache_group(o: &Observations) -> Observation {
    o.groups
        .iter()
        .find(|g| g.pattern == Pattern::Caches && g.subject.starts_with(MEMORY_CACHE))
        .cloned()
        .expect("the MemoryCache's group")
}

#[test]
fn a_memory_cache_without_a_size_limit_says_so_in_every_layout() {
    for v in [Version::Six, Version::Eight, Version::Nine] {
        let r = memory_cache(v, 300, None, 0);
        let g = with(&r, |_, o| cache_group(o));
        assert_eq!(g.objects, 300, "the CacheEntry objects under it");
        assert!(g.subject.ends_with("no size limit"), "{}", g.subject);
        assert!(detail(&g, "size limit").starts_with("none"));
        assert_eq!(detail(&g, "entries (the cache's own count)"), "300");
        assert_eq!(
            g.key,
            "[static] App.Cache → Microsoft.Extensions.Caching.Memory.MemoryCache"
        );
    }
}

#[test]
fn a_memory_cache_with_a_size_limit_states_it_and_its_current_size() {
    for v in [Version::Six, Version::Eight, Version::Nine] {
        let r = memory_cache(v, 90, Some(1_000), 640);
        let g = with(&r, |_, o| cache_group(o));
        assert!(g.subject.ends_with("with a size limit"), "{}", g.subject);
        let limit = detail(&g, "size limit");
        assert!(limit.starts_with("1,000 (SizeLimit"), "{limit}");
        assert!(limit.ends_with("current size 640 (64 % of it)"), "{limit}");
        assert_eq!(detail(&g, "entries (the cache's own count)"), "90");
    }
}

#[test]
fn an_unbounded_memory_cache_at_the_level_is_a_finding() {
    let level = Pattern::Caches.threshold().level as u32;
    let r = memory_cache(Version::Eight, level, None, 0);
    let found: Vec<Finding> = with(&r, |h, o| findings(h, o, None));
    let f = found
        .iter()
        .find(|f| f.group.pattern == Pattern::Caches)
        .expect("a cache finding");
    assert_eq!(f.group.objects, u64::from(level));
    assert!(f.verdict.contains("no size limit"), "{}", f.verdict);
    // One below: no cache finding.
    let r = memory_cache(Version::Eight, level - 1, None, 0);
    let found: Vec<Finding> = with(&r, |h, o| findings(h, o, None));
    assert!(!found.iter().any(|f| f.group.pattern == Pattern::Caches));
}

/// What an EF heap is built with.
#[derive(Clone, Copy)]
struct Ef {
    /// `App.ShopContext`s (deriving from EF Core's DbContext) held by the
    /// static `App.Globals.Contexts`.
    static_contexts: u32,
    /// `App.FakeDbContext`s (named like a context, deriving from none)
    /// held by the same static.
    fakes: u32,
    /// `App.ShopContext`s in EF Core's context pool, held by a static.
    pooled: u32,
    /// Entities tracked by one context of a request (a stack root).
    tracked: u32,
    /// EF Core internal service providers.
    providers: u32,
    /// Compiled queries (EF Core), with EF's SizeLimit of 10,240.
    queries: u32,
    /// EF6 query plans.
    plans: u32,
    /// EF6 cached models.
    models: u32,
}

const CONTEXT: &str = "App.ShopContext";
const EF_CORE_CONTEXT: &str = "Microsoft.EntityFrameworkCore.DbContext";

fn ef_heap(e: Ef) -> BytesReader<'static> {
    let mut b = Build::default();
    let dict = dict_type(&mut b);
    let obj_array = b.class("System.Object[]", &["System.Array"], &[]);
    b.class(EF_CORE_CONTEXT, &["System.Object"], &[]);
    let ctx = b.class(
        CONTEXT,
        &[EF_CORE_CONTEXT, "System.Object"],
        &[("_stateManager", F::Ref)],
    );
    let fake = b.class("App.FakeDbContext", &["System.Object"], &[]);
    let pool_t = b.class(
        "Microsoft.EntityFrameworkCore.Internal.DbContextPool`1[App.ShopContext]",
        &["System.Object"],
        &[],
    );
    let sm_t = b.class(
        "Microsoft.EntityFrameworkCore.ChangeTracking.Internal.StateManager",
        &["System.Object"],
        &[],
    );
    let entry_t = b.class(
        "Microsoft.EntityFrameworkCore.ChangeTracking.Internal.InternalEntityEntry",
        &["System.Object"],
        &[],
    );
    let order_t = b.class("App.Order", &["System.Object"], &[]);
    let spc_t = b.class(
        "Microsoft.EntityFrameworkCore.Internal.ServiceProviderCache",
        &["System.Object"],
        &[("_configurations", F::Ref)],
    );
    let cqc_t = b.class(
        "Microsoft.EntityFrameworkCore.Query.Internal.CompiledQueryCache",
        &["System.Object"],
        &[("_memoryCache", F::Ref)],
    );
    let opts_t = b.class(OPTIONS, &["System.Object"], &[("_sizeLimit", F::I64)]);
    let mc_t = b.class(
        MEMORY_CACHE,
        &["System.Object"],
        &[("_options", F::Ref), ("_coherentState", F::Ref)],
    );
    let state_t = b.class(
        "Microsoft.Extensions.Caching.Memory.MemoryCache+CoherentState",
        &["System.Object"],
        &[("_entries", F::Ref), ("_cacheSize", F::I64)],
    );
    let qcm_t = b.class(
        "System.Data.Entity.Core.Common.QueryCache.QueryCacheManager",
        &["System.Object"],
        &[("_cacheData", F::Ref), ("_maxNumberOfEntries", F::I32)],
    );
    let ints = b.int_array();
    let tables_t = b.class(
        "System.Collections.Concurrent.ConcurrentDictionary`2+Tables[System.Object,System.Object]",
        &["System.Object"],
        &[("_buckets", F::Ref), ("_countPerLock", F::Ref)],
    );
    let cd_t = b.class(
        "System.Collections.Concurrent.ConcurrentDictionary`2[System.Object,System.Object]",
        &["System.Object"],
        &[("_tables", F::Ref)],
    );

    // Contexts in a static array: ShopContexts and look-alikes.
    let held = b.obj(obj_array);
    b.root(held, RootKind::Static, Some("App.Globals.Contexts"));
    for _ in 0..e.static_contexts {
        let c = b.obj(ctx);
        b.edge(held, c);
    }
    for _ in 0..e.fakes {
        let c = b.obj(fake);
        b.edge(held, c);
    }
    let pool = b.obj(pool_t);
    b.root(pool, RootKind::Static, Some("App.Globals.Pool"));
    for _ in 0..e.pooled {
        let c = b.obj(ctx);
        b.edge(pool, c);
    }
    // A request's context and what it tracks.
    let c = b.obj(ctx);
    b.root(c, RootKind::Stack, None);
    let sm = b.obj(sm_t);
    b.set_ref(c, "_stateManager", sm);
    for _ in 0..e.tracked {
        let x = b.obj(entry_t);
        b.edge(sm, x);
        let o = b.obj(order_t);
        b.edge(x, o);
    }
    // EF Core's service providers.
    let spc = b.obj(spc_t);
    b.root(
        spc,
        RootKind::Static,
        Some(
            "Microsoft.EntityFrameworkCore.Internal.ServiceProviderCache.<Instance>k__BackingField",
        ),
    );
    let (d, _) = b.dictionary(dict, None, e.providers);
    b.set_ref(spc, "_configurations", d);
    // EF Core's compiled queries, in a MemoryCache of EF's.
    let cqc = b.obj(cqc_t);
    b.root(cqc, RootKind::StrongHandle, None);
    let mc = b.obj(mc_t);
    b.set_ref(cqc, "_memoryCache", mc);
    let opts = b.obj(opts_t);
    b.set_ref(mc, "_options", opts);
    b.set_int(opts, "_sizeLimit", 10_240);
    let st = b.obj(state_t);
    b.set_ref(mc, "_coherentState", st);
    b.set_int(st, "_cacheSize", i64::from(e.queries));
    let (d, _) = b.dictionary(dict, None, e.queries);
    b.set_ref(st, "_entries", d);
    // EF6's query plans.
    let qcm = b.obj(qcm_t);
    b.root(qcm, RootKind::StrongHandle, None);
    let (d, _) = b.dictionary(dict, None, e.plans);
    b.set_ref(qcm, "_cacheData", d);
    b.set_int(qcm, "_maxNumberOfEntries", 1_000);
    // EF6's models: a ConcurrentDictionary, its count in two locks.
    let cd = b.obj(cd_t);
    b.root(
        cd,
        RootKind::Static,
        Some("System.Data.Entity.Internal.LazyInternalContext._cachedModels"),
    );
    let tables = b.obj(tables_t);
    b.set_ref(cd, "_tables", tables);
    let counts = b.obj(ints);
    b.set_ref(tables, "_countPerLock", counts);
    b.put(counts, 8, &2u32.to_le_bytes());
    b.put(counts, 16, &(e.models / 2).to_le_bytes());
    b.put(counts, 20, &(e.models - e.models / 2).to_le_bytes());
    b.finish()
}

fn ef_groups(o: &Observations) -> Vec<Observation> {
    o.groups
        .iter()
        .filter(|g| g.pattern == Pattern::EntityFramework)
        .cloned()
        .collect()
}

fn group<'a>(gs: &'a [Observation], key_start: &str) -> Option<&'a Observation> {
    gs.iter().find(|g| g.key.starts_with(key_start))
}

const LEAKY: Ef = Ef {
    static_contexts: 6,
    fakes: 9,
    pooled: 7,
    tracked: 12_000,
    providers: 25,
    queries: 2_500,
    plans: 2_100,
    models: 25,
};

#[test]
fn entity_framework_contexts_trackers_and_caches_are_counted_as_built() {
    let r = ef_heap(LEAKY);
    let gs = with(&r, |_, o| ef_groups(o));
    // Long-lived: the six ShopContexts in the static, not the look-alikes
    // (no DbContext among their bases), not the pooled ones, not the
    // request's.
    let long = group(&gs, "App.ShopContext held by").expect("long-lived contexts");
    assert_eq!(
        long.key,
        "App.ShopContext held by the static App.Globals.Contexts"
    );
    assert_eq!(long.objects, 6);
    assert!(!gs.iter().any(|g| g.key.contains("FakeDbContext")));
    assert_eq!(gs.iter().filter(|g| g.key.contains(" held by ")).count(), 1);
    // The request's context tracks its entries.
    let tracked = group(&gs, "tracked by").expect("a change tracker");
    assert_eq!(tracked.objects, 12_000);
    assert_eq!(detail(tracked, "context type"), CONTEXT);
    assert_eq!(group(&gs, "service providers at").unwrap().objects, 25);
    let q = group(&gs, "compiled queries at").unwrap();
    assert_eq!(q.objects, 2_500);
    assert!(detail(q, "size limit").starts_with("10,240 (SizeLimit"));
    assert!(detail(q, "size limit").ends_with("current size 2,500 (24 % of it)"));
    let p = group(&gs, "query plans at").unwrap();
    assert_eq!(p.objects, 2_100);
    assert_eq!(detail(p, "soft limit (_maxNumberOfEntries)"), "1,000");
    let m = group(
        &gs,
        "static System.Data.Entity.Internal.LazyInternalContext._cachedModels",
    )
    .unwrap();
    assert_eq!(m.objects, 25);
    // Each is at its level: six findings of the pattern.
    let found: Vec<Finding> = with(&r, |h, o| findings(h, o, None));
    let ef: Vec<&Finding> = found
        .iter()
        .filter(|f| f.group.pattern == Pattern::EntityFramework)
        .collect();
    assert_eq!(
        ef.len(),
        6,
        "{:#?}",
        ef.iter().map(|f| &f.verdict).collect::<Vec<_>>()
    );
}

#[test]
fn entity_framework_below_its_levels_is_quiet_and_absent_is_silent() {
    let lv = |x: (u64, u64)| x.0 as u32 - 1;
    let quiet = Ef {
        static_contexts: lv(heaplens_findings::LONG_LIVED_CONTEXTS),
        fakes: 50,
        pooled: 100,
        tracked: lv(heaplens_findings::TRACKED_ENTITIES),
        providers: lv(heaplens_findings::SERVICE_PROVIDERS),
        queries: lv(heaplens_findings::COMPILED_QUERIES),
        plans: lv(heaplens_findings::COMPILED_QUERIES),
        models: lv(heaplens_findings::CACHED_MODELS),
    };
    let r = ef_heap(quiet);
    let (gs, found) = with(&r, |h, o| (ef_groups(o), findings(h, o, None)));
    assert_eq!(gs.len(), 6, "every group is seen");
    assert!(!found
        .iter()
        .any(|f| f.group.pattern == Pattern::EntityFramework));
    // Growth between two dumps reports a group below its level.
    let base = with(
        &ef_heap(Ef {
            static_contexts: 1,
            ..quiet
        }),
        |_, o| o.clone(),
    );
    let found: Vec<Finding> = with(&r, |h, o| findings(h, o, Some(&base)));
    let grown: Vec<&Finding> = found
        .iter()
        .filter(|f| f.group.pattern == Pattern::EntityFramework)
        .collect();
    assert_eq!(grown.len(), 1);
    assert_eq!(
        grown[0].growth_objects(),
        Some(i64::from(quiet.static_contexts) - 1)
    );
    // A heap without EF: silent, saying why.
    let r = memory_cache(Version::Eight, 3, None, 0);
    let run = with(&r, |_, o| o.runs.clone())
        .into_iter()
        .find(|r| r.pattern == Pattern::EntityFramework)
        .unwrap();
    assert!(run.silent_because.unwrap().contains("Entity Framework"));
}
