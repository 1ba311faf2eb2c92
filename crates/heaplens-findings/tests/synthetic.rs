//! Findings of small heaps built here, against numbers computed here:
//! a cache that grew between two heaps is the top finding with the growth
//! counted by hand; pinned objects reach their level; a heap without the
//! patterns' types leaves every detector silent with its reason; free
//! space per generation, with a pinned object beside free space only in
//! its own segment or region.

use heaplens_analysis::dominators::dominators;
use heaplens_analysis::paths::root_paths;
use heaplens_analysis::retained::retained_sizes;
use heaplens_findings::{
    findings, observe, Finding, Generation, Heap, HeapArea, Observations, Pattern,
};
use heaplens_graph::{
    GraphBuilder, HeapGraph, NoProgress, RootKind, TypeIndex, TypeInfo, TypeKind,
};

fn ty(b: &mut GraphBuilder, name: &str) -> TypeIndex {
    b.add_type(TypeInfo {
        name: name.into(),
        module: None,
        kind: TypeKind::Object,
        method_table: 0,
    })
}

/// A static `App.Cache` (a `List`1[Item]` of 48 bytes) → its `Item[]`
/// (8 bytes a slot) → `items` Items of 40 bytes each holding a
/// `System.Byte[]` of 100; `pinned` byte arrays of 64 bytes pinned by
/// handles; 10 `Other` objects of 1,000 bytes from a second static.
fn heap(items: u32, pinned: u32) -> HeapGraph {
    let mut b = GraphBuilder::new();
    let list = ty(&mut b, "System.Collections.Generic.List`1[App.Item]");
    let array = ty(&mut b, "App.Item[]");
    let item = ty(&mut b, "App.Item");
    let bytes = ty(&mut b, "System.Byte[]");
    let other = ty(&mut b, "App.Other");
    let mut addr = 0x1000u64;
    let mut next = || {
        addr += 0x1000;
        addr
    };
    // Node numbers: 0 list, 1 array, then item/byte[] pairs, then the
    // pinned arrays, then the others.
    let first_item = 2u32;
    b.add_node(list, 48, next(), [1]).unwrap();
    let slots: Vec<u32> = (0..items).map(|i| first_item + 2 * i).collect();
    b.add_node(array, 24 + 8 * u64::from(items), next(), slots)
        .unwrap();
    for i in 0..items {
        b.add_node(item, 40, next(), [first_item + 2 * i + 1])
            .unwrap();
        b.add_node(bytes, 100, next(), []).unwrap();
    }
    let first_pinned = first_item + 2 * items;
    for _ in 0..pinned {
        b.add_node(bytes, 64, next(), []).unwrap();
    }
    let first_other = first_pinned + pinned;
    for _ in 0..10 {
        b.add_node(other, 1000, next(), []).unwrap();
    }
    b.add_root(0, RootKind::Static, Some("App.Cache"));
    for p in 0..pinned {
        b.add_root(first_pinned + p, RootKind::PinnedHandle, None);
    }
    for o in 0..10 {
        b.add_root(first_other + o, RootKind::Static, Some("App.Others"));
    }
    b.finish().unwrap()
}

/// Observes `g` and runs `f` with its heap and observations.
fn with<T>(g: &HeapGraph, f: impl FnOnce(&Heap, &Observations) -> T) -> T {
    let dom = dominators(g, &mut NoProgress).unwrap();
    let sizes = retained_sizes(g, &dom);
    let paths = root_paths(g, &mut NoProgress).unwrap();
    let heap = Heap::new(g, &dom, &sizes, &paths, None);
    let obs = observe(&heap);
    f(&heap, &obs)
}

#[test]
fn a_cache_that_grew_is_the_top_finding_with_its_growth() {
    let (g1, g2) = (heap(10, 0), heap(200, 0));
    let base = with(&g1, |_, o| o.clone());
    let found: Vec<Finding> = with(&g2, |h, o| findings(h, o, Some(&base)));
    let top = found.first().expect("a finding");
    assert_eq!(top.group.pattern, Pattern::LargeHolder, "{found:#?}");
    // The list itself is the holder (not its array): node 0.
    assert_eq!(top.group.holder, Some(0));
    // Retained: 48 + (24 + 8 n) + n (40 + 100); growth between n = 10, 200.
    let retained = |n: i64| 48 + 24 + 8 * n + n * 140;
    assert_eq!(top.group.retained_bytes as i64, retained(200));
    assert_eq!(top.growth_bytes(), Some(retained(200) - retained(10)));
    assert!(top.leak && top.compared);
    // Its items' type grew with it and is told under it, not apart.
    assert!(
        top.group
            .details
            .iter()
            .any(|d| d.label == "grew with it: App.Item" && d.value.starts_with("+190 objects")),
        "{:?}",
        top.group.details
    );
    assert!(!found
        .iter()
        .any(|f| f.group.pattern == Pattern::TypeGrowth && f.group.key == "App.Item"));
    // The others did not change: no finding of theirs.
    assert!(!found.iter().any(|f| f.group.key.contains("App.Others")));
}

#[test]
fn one_heap_reports_its_large_holders_as_not_leaks() {
    let g = heap(200, 0);
    let found = with(&g, |h, o| findings(h, o, None));
    assert!(!found.is_empty());
    assert!(found.iter().all(|f| !f.leak && !f.compared));
    // Ranked by retained bytes.
    assert!(found
        .windows(2)
        .all(|w| w[0].group.retained_bytes >= w[1].group.retained_bytes));
}

#[test]
fn pinned_objects_reach_their_level_and_their_growth() {
    let t = Pattern::Pinned.threshold();
    let below = heap(1, t.level as u32 - 1);
    let at = heap(1, t.level as u32);
    let pinned = |f: &Vec<Finding>| {
        f.iter()
            .filter(|x| x.group.pattern == Pattern::Pinned)
            .map(|x| (x.group.key.clone(), x.group.objects))
            .collect::<Vec<_>>()
    };
    assert_eq!(pinned(&with(&below, |h, o| findings(h, o, None))), []);
    assert_eq!(
        pinned(&with(&at, |h, o| findings(h, o, None))),
        [("System.Byte[]".to_owned(), t.level)]
    );
    // Growth alone: from 10 to 10 + growth, far below the level.
    let base = with(&heap(1, 10), |_, o| o.clone());
    let grown = heap(1, 10 + t.growth as u32);
    let found = with(&grown, |h, o| findings(h, o, Some(&base)));
    let f = found
        .iter()
        .find(|x| x.group.pattern == Pattern::Pinned)
        .expect("a pinned finding");
    assert_eq!(f.growth_objects(), Some(t.growth as i64));
    // The retained growth of pinned arrays: growth × 64 bytes.
    assert_eq!(f.growth_bytes(), Some(t.growth as i64 * 64));
}

#[test]
fn detectors_without_their_types_say_why() {
    let g = heap(5, 0);
    let runs = with(&g, |_, o| o.runs.clone());
    assert_eq!(runs.len(), Pattern::ALL.len());
    for r in &runs {
        match r.pattern {
            Pattern::LargeHolder | Pattern::TypeGrowth | Pattern::Caches => {}
            _ => assert!(r.silent_because.is_some(), "{r:?}"),
        }
    }
    let timers = runs.iter().find(|r| r.pattern == Pattern::Timers).unwrap();
    assert!(timers
        .silent_because
        .as_deref()
        .is_some_and(|w| w.contains("TimerQueueTimer")));
    for p in Pattern::ALL {
        assert_eq!(Pattern::of_id(p.id()), Some(p));
    }
}

/// The GC's free-space type.
fn free_type(b: &mut GraphBuilder) -> TypeIndex {
    b.add_type(TypeInfo {
        name: "Free".into(),
        module: None,
        kind: TypeKind::Free,
        method_table: 0,
    })
}

/// A heap of areas: `(generation, start, bytes, free blocks' sizes)`;
/// each area holds a pinned 64-byte array right before each free block
/// and a 1,000-byte object after it.
fn fragmented(areas: &[(Generation, u64, u64, &[u64])]) -> (HeapGraph, Vec<HeapArea>) {
    let mut b = GraphBuilder::new();
    let bytes = ty(&mut b, "System.Byte[]");
    let free = free_type(&mut b);
    let mut n = 0u32;
    let mut out = Vec::new();
    for &(generation, start, span, blocks) in areas {
        let mut at = start;
        for &f in blocks {
            b.add_node(bytes, 64, at, []).unwrap();
            b.add_root(n, RootKind::PinnedHandle, None);
            b.add_node(free, f, at + 64, []).unwrap();
            b.add_node(bytes, 1000, at + 64 + f, []).unwrap();
            b.add_root(n + 2, RootKind::Static, Some("App.Keep"));
            n += 3;
            at += 64 + f + 1000;
        }
        assert!(at <= start + span);
        out.push(HeapArea {
            start,
            end: start + span,
            generation,
        });
    }
    (b.finish().unwrap(), out)
}

fn with_areas<T>(
    g: &HeapGraph,
    areas: &[HeapArea],
    f: impl FnOnce(&Heap, &Observations) -> T,
) -> T {
    let dom = dominators(g, &mut NoProgress).unwrap();
    let sizes = retained_sizes(g, &dom);
    let paths = root_paths(g, &mut NoProgress).unwrap();
    let mut heap = Heap::new(g, &dom, &sizes, &paths, None);
    heap.areas = areas.to_vec();
    let obs = observe(&heap);
    f(&heap, &obs)
}

const MB: u64 = 1 << 20;

#[test]
fn free_space_is_a_finding_where_a_generation_keeps_it_at_its_share_and_size() {
    use Generation::*;
    let level = heaplens_findings::FRAGMENTATION_MB * MB;
    let (g, areas) = fragmented(&[
        // Generation 0: most of it free, never judged.
        (Gen0, 0x1000_0000, 64 * MB, &[20 * MB, 20 * MB]),
        // Generation 2: 25 % free and at the level: a finding.
        (Gen2, 0x2000_0000, 4 * level, &[level / 2, level / 2]),
        // The LOH: at the level, below the share.
        (Loh, 0x4000_0000, 8 * level, &[level]),
        // The POH: at the share, below the level.
        (Poh, 0x6000_0000, MB, &[MB / 2]),
    ]);
    let (groups, found) = with_areas(&g, &areas, |h, o| {
        (
            o.groups
                .iter()
                .filter(|x| x.pattern == Pattern::Fragmentation)
                .map(|x| (x.key.clone(), x.retained_bytes, x.objects, x.span_bytes))
                .collect::<Vec<_>>(),
            findings(h, o, None),
        )
    });
    assert_eq!(
        groups,
        [
            ("gen0".to_owned(), 40 * MB, 2, None),
            ("gen2".to_owned(), level, 2, Some(4 * level)),
            ("LOH".to_owned(), level, 1, Some(8 * level)),
            ("POH".to_owned(), MB / 2, 1, Some(MB)),
        ]
    );
    let frag: Vec<&Finding> = found
        .iter()
        .filter(|f| f.group.pattern == Pattern::Fragmentation)
        .collect();
    assert_eq!(frag.len(), 1, "{frag:#?}");
    let f = frag[0];
    assert_eq!(f.group.key, "gen2");
    assert!(f.verdict.contains("25.0 %"), "{}", f.verdict);
    // The pinned arrays beside the free blocks: two in generation 2.
    assert!(
        f.group
            .details
            .iter()
            .any(|d| d.label == "pinned objects there"
                && d.value == "2 (2 of them beside free space)")
    );
    // Its example is a pinned array bordering free space.
    let x = f.group.example.unwrap();
    assert_eq!(g.node_size(x), 64);
    // One byte less of free space: quiet.
    let (g, areas) = fragmented(&[(Gen2, 0x2000_0000, 4 * level, &[level / 2, level / 2 - 1])]);
    let found = with_areas(&g, &areas, |h, o| findings(h, o, None));
    assert!(!found
        .iter()
        .any(|f| f.group.pattern == Pattern::Fragmentation));
    // Without areas (a .gcdump): silent, saying why.
    let runs = with(&g, |_, o| o.runs.clone());
    let r = runs
        .iter()
        .find(|r| r.pattern == Pattern::Fragmentation)
        .unwrap();
    assert!(r.silent_because.as_deref().unwrap().contains("generations"));
}

/// The graph's objects are in address order, so the node after an area's
/// last object is the first of the next area (and the one before an
/// area's first is the last of the previous one). A pinned object is
/// beside free space only when the free object is in its own segment or
/// region: here two generation-2 segments and a LOH one, where each pinned
/// object's neighbouring node is a free object across the boundary, and a
/// POH one where it is in the same area (the control).
#[test]
fn a_pinned_object_is_beside_free_space_only_in_its_own_area() {
    let mut b = GraphBuilder::new();
    let bytes = ty(&mut b, "System.Byte[]");
    let keep = ty(&mut b, "App.Keep");
    let free = free_type(&mut b);
    let (seg1, seg2, loh, poh) = (0x2000_0000u64, 0x3000_0000, 0x4000_0000, 0x6000_0000);
    let span = 0x10_0000u64;
    // Generation 2, first segment: a kept object, then a pinned array as
    // the segment's last object.
    let k1 = b.add_node(keep, 1000, seg1, []).unwrap();
    let p1 = b.add_node(bytes, 64, seg1 + 1000, []).unwrap();
    // Generation 2, second segment: a free object first (the node after
    // p1), a kept object, and a free object last (the node before p2).
    b.add_node(free, 4096, seg2, []).unwrap();
    let k2 = b.add_node(keep, 1000, seg2 + 4096, []).unwrap();
    b.add_node(free, 2048, seg2 + 5096, []).unwrap();
    // The LOH: a pinned array first, then a kept object.
    let p2 = b.add_node(bytes, 100_000, loh, []).unwrap();
    let k3 = b.add_node(keep, 1000, loh + 100_000, []).unwrap();
    // The POH: a pinned array with free space right after it, in the same
    // area.
    let p3 = b.add_node(bytes, 64, poh, []).unwrap();
    b.add_node(free, 512, poh + 64, []).unwrap();
    let k4 = b.add_node(keep, 1000, poh + 576, []).unwrap();
    for p in [p1, p2, p3] {
        b.add_root(p, RootKind::PinnedHandle, None);
    }
    for k in [k1, k2, k3, k4] {
        b.add_root(k, RootKind::Static, Some("App.Keep"));
    }
    let g = b.finish().unwrap();
    let area = |start: u64, generation| HeapArea {
        start,
        end: start + span,
        generation,
    };
    let areas = [
        area(seg1, Generation::Gen2),
        area(seg2, Generation::Gen2),
        area(loh, Generation::Loh),
        area(poh, Generation::Poh),
    ];
    let mut pinned = with_areas(&g, &areas, |_, o| {
        o.groups
            .iter()
            .filter(|x| x.pattern == Pattern::Fragmentation)
            .map(|x| {
                let d = x
                    .details
                    .iter()
                    .find(|d| d.label == "pinned objects there")
                    .unwrap();
                (x.key.clone(), d.value.clone(), x.example)
            })
            .collect::<Vec<_>>()
    });
    pinned.sort();
    let one = |key: &str, beside: u32, example| {
        let value = format!("1 ({beside} of them beside free space)");
        (key.to_owned(), value, example)
    };
    assert_eq!(
        pinned,
        [
            one("LOH", 0, None),
            one("POH", 1, Some(p3)),
            one("gen2", 0, None)
        ]
    );
}
