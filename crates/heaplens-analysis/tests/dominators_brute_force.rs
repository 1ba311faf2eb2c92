//! Dominators, retained sizes and per-type retained sizes against their
//! definitions, computed by brute force (remove a node, see what the roots
//! no longer reach), on thousands of random graphs and on adversarial
//! families (long chains with back edges, complete DAGs, ladders, graphs
//! built to make path compression work hard, roots reachable from other
//! roots, weak roots, self-loops, duplicate edges).

use heaplens_analysis::dominators::{dominators, Dominator};
use heaplens_analysis::retained::{
    dominator_children, largest_objects, retained_by_type, retained_sizes,
};
use heaplens_corpus::patched::Rng;
use heaplens_graph::{GraphBuilder, HeapGraph, NoProgress, RootKind, TypeInfo, TypeKind};
use std::collections::HashMap;

struct Spec {
    edges: Vec<Vec<u32>>,
    sizes: Vec<u64>,
    types: Vec<u32>,
    roots: Vec<(u32, RootKind)>,
}

fn build(spec: &Spec) -> HeapGraph {
    let mut b = GraphBuilder::new();
    for name in ["A", "B", "C"] {
        b.add_type(TypeInfo {
            name: name.into(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
    }
    for (i, e) in spec.edges.iter().enumerate() {
        b.add_node(
            spec.types[i],
            spec.sizes[i],
            0x1000 + 8 * i as u64,
            e.iter().copied(),
        )
        .unwrap();
    }
    for &(r, k) in &spec.roots {
        b.add_root(r, k, None);
    }
    b.finish().unwrap()
}

/// Nodes reached from the live roots without passing through `removed`.
fn reach(spec: &Spec, removed: Option<u32>) -> Vec<bool> {
    let mut seen = vec![false; spec.edges.len()];
    let mut stack: Vec<u32> = spec
        .roots
        .iter()
        .filter(|(_, k)| k.keeps_alive())
        .map(|&(r, _)| r)
        .filter(|&r| Some(r) != removed)
        .collect();
    for &r in &stack {
        seen[r as usize] = true;
    }
    while let Some(x) = stack.pop() {
        for &c in &spec.edges[x as usize] {
            if Some(c) != removed && !seen[c as usize] {
                seen[c as usize] = true;
                stack.push(c);
            }
        }
    }
    seen
}

/// Checks dominators, retained sizes, per-type retained sizes, the
/// dominator tree's children and the largest objects against brute force.
fn check(spec: &Spec, what: &str) {
    let n = spec.edges.len();
    let g = build(spec);
    let dom = dominators(&g, &mut NoProgress).unwrap();
    let live = reach(spec, None);
    // dominated[d][x]: x is unreachable once d is removed (d included).
    let dominated: Vec<Vec<bool>> = (0..n as u32)
        .map(|d| {
            if !live[d as usize] {
                return vec![false; n];
            }
            let without = reach(spec, Some(d));
            (0..n).map(|x| live[x] && !without[x]).collect()
        })
        .collect();
    let ret = retained_sizes(&g, &dom);
    let mut reachable_bytes = 0;
    for x in 0..n {
        if !live[x] {
            assert_eq!(dom.idom(x as u32), None, "{what}: node {x} is unreachable");
            assert_eq!(ret.get(x as u32), 0, "{what}");
            continue;
        }
        reachable_bytes += spec.sizes[x];
        // Strict dominators form a chain; the immediate one dominates the
        // fewest nodes.
        let expected = (0..n)
            .filter(|&d| d != x && dominated[d][x])
            .min_by_key(|&d| dominated[d].iter().filter(|&&b| b).count())
            .map_or(Dominator::Root, |d| Dominator::Node(d as u32));
        assert_eq!(dom.idom(x as u32), Some(expected), "{what}: idom of {x}");
        let retained: u64 = (0..n)
            .filter(|&y| dominated[x][y])
            .map(|y| spec.sizes[y])
            .sum();
        assert_eq!(ret.get(x as u32), retained, "{what}: retained size of {x}");
    }
    assert_eq!(ret.reachable_bytes(), reachable_bytes, "{what}");
    assert_eq!(dom.reachable_count(), live.iter().filter(|&&b| b).count());
    // Preorder: every node after its immediate dominator.
    let mut pos = vec![usize::MAX; n];
    let preorder = dom.preorder(&g);
    for (i, &x) in preorder.iter().enumerate() {
        pos[x as usize] = i;
    }
    for &x in &preorder {
        if let Some(Dominator::Node(d)) = dom.idom(x) {
            assert!(pos[d as usize] < pos[x as usize], "{what}: preorder");
        }
    }
    // Per type: the union of what the type's objects dominate.
    let by_type = retained_by_type(&g, &dom, &ret);
    for (t, name) in ["A", "B", "C"].iter().enumerate() {
        let objects: Vec<usize> = (0..n)
            .filter(|&x| live[x] && spec.types[x] == t as u32)
            .collect();
        let union: u64 = (0..n)
            .filter(|&y| objects.iter().any(|&x| dominated[x][y]))
            .map(|y| spec.sizes[y])
            .sum();
        let top = objects
            .iter()
            .filter(|&&x| !objects.iter().any(|&o| o != x && dominated[o][x]))
            .count() as u64;
        let row = by_type.iter().find(|r| r.name == *name);
        if objects.is_empty() {
            assert!(row.is_none(), "{what}");
            continue;
        }
        let row = row.unwrap_or_else(|| panic!("{what}: no row for {name}"));
        assert_eq!(row.retained_bytes, union, "{what}: type {name}");
        assert_eq!(row.count, objects.len() as u64, "{what}");
        assert_eq!(row.top_level, top, "{what}");
        let shallow: u64 = objects.iter().map(|&x| spec.sizes[x]).sum();
        assert_eq!(row.shallow_bytes, shallow, "{what}");
    }
    // Children lists agree with idom.
    let tree = dominator_children(&dom);
    let mut seen = 0;
    for d in std::iter::once(Dominator::Root).chain((0..n as u32).map(Dominator::Node)) {
        for &c in tree.of(d) {
            assert_eq!(dom.idom(c), Some(d), "{what}");
            seen += 1;
        }
    }
    assert_eq!(seen, dom.reachable_count(), "{what}");
    // Largest objects: sorted, and nothing left out is larger.
    let top = largest_objects(&dom, &ret, 3);
    assert!(top.windows(2).all(|w| w[0].1 >= w[1].1), "{what}");
    if let Some(&(_, smallest)) = top.last() {
        let larger = (0..n as u32)
            .filter(|&x| live[x as usize] && ret.get(x) > smallest)
            .count();
        assert!(larger <= top.len(), "{what}");
    }
}

fn random_spec(rng: &mut Rng, n: usize) -> Spec {
    let density = 1 + rng.below(4);
    let mut edges = vec![Vec::new(); n];
    for e in edges.iter_mut() {
        let k = rng.below(density * 2 + 1);
        for _ in 0..k {
            e.push(rng.below(n as u64) as u32);
        }
    }
    let kinds = [
        RootKind::Static,
        RootKind::Stack,
        RootKind::StrongHandle,
        RootKind::WeakHandle,
        RootKind::Finalizer,
    ];
    let roots = (0..1 + rng.below(4))
        .map(|_| {
            (
                rng.below(n as u64) as u32,
                kinds[rng.below(kinds.len() as u64) as usize],
            )
        })
        .collect();
    Spec {
        edges,
        sizes: (0..n).map(|_| 1 + rng.below(100)).collect(),
        types: (0..n).map(|_| rng.below(3) as u32).collect(),
        roots,
    }
}

fn plain(edges: Vec<Vec<u32>>, roots: Vec<(u32, RootKind)>) -> Spec {
    let n = edges.len();
    Spec {
        edges,
        sizes: (0..n).map(|i| 8 + (i as u64 % 7) * 8).collect(),
        types: (0..n).map(|i| (i % 3) as u32).collect(),
        roots,
    }
}

#[test]
fn random_graphs_match_the_definition() {
    let mut rng = Rng(0x5EED_0001);
    for case in 0..3000 {
        let n = 1 + rng.below(if case < 2000 { 12 } else { 40 }) as usize;
        let spec = random_spec(&mut rng, n);
        check(&spec, &format!("random case {case} (n = {n})"));
    }
}

/// A heap-like graph of `n` nodes: each node owned by one a little before
/// it (sometimes far before), plus `extra` more references per node, near
/// or anywhere, so that the walk makes long paths and many edges go back to
/// numbered nodes (hundreds of semi-dominator queries: more than the
/// evaluation's lookahead).
fn heap_like_spec(rng: &mut Rng, n: usize, extra: u64) -> Spec {
    let mut edges = vec![Vec::new(); n];
    for j in 1..n {
        let back = if rng.below(10) < 8 {
            1 + rng.below(8)
        } else {
            1 + rng.below(j as u64)
        };
        let owner = j.saturating_sub(back as usize);
        edges[owner].push(j as u32);
    }
    for (i, e) in edges.iter_mut().enumerate() {
        for _ in 0..rng.below(2 * extra + 1) {
            let t = if rng.below(2) == 0 {
                (i as u64 + rng.below(33)).saturating_sub(16)
            } else {
                rng.below(n as u64)
            };
            e.insert(
                rng.below(e.len() as u64 + 1) as usize,
                t.min(n as u64 - 1) as u32,
            );
        }
    }
    let kinds = [RootKind::Static, RootKind::Stack, RootKind::WeakHandle];
    let mut roots = vec![(0, RootKind::Static)];
    for _ in 0..rng.below(6) {
        roots.push((
            rng.below(n as u64) as u32,
            kinds[rng.below(kinds.len() as u64) as usize],
        ));
    }
    Spec {
        edges,
        sizes: (0..n).map(|_| 1 + rng.below(100)).collect(),
        types: (0..n).map(|_| rng.below(3) as u32).collect(),
        roots,
    }
}

#[test]
fn larger_graphs_match_the_definition() {
    let mut rng = Rng(0x5EED_0002);
    for case in 0..12 {
        let n = 300 + rng.below(900) as usize;
        let spec = if case % 3 == 2 {
            random_spec(&mut rng, n)
        } else {
            heap_like_spec(&mut rng, n, 1 + case % 2)
        };
        check(&spec, &format!("larger case {case} (n = {n})"));
    }
}

#[test]
fn adversarial_families_match_the_definition() {
    let s = RootKind::Static;
    for k in [1usize, 2, 3, 5, 8, 13, 30, 60] {
        // Chain with a back edge from every node to the first.
        let chain: Vec<Vec<u32>> = (0..k)
            .map(|i| {
                if i + 1 < k {
                    vec![i as u32 + 1, 0]
                } else {
                    vec![0]
                }
            })
            .collect();
        check(&plain(chain, vec![(0, s)]), &format!("chain+back {k}"));
        // Chain whose last node points at every earlier node.
        let mut fan: Vec<Vec<u32>> = (0..k)
            .map(|i| {
                if i + 1 < k {
                    vec![i as u32 + 1]
                } else {
                    vec![]
                }
            })
            .collect();
        fan[k - 1] = (0..k as u32).rev().collect();
        check(&plain(fan, vec![(0, s)]), &format!("chain+fan {k}"));
        // Complete DAG, edges listed backwards.
        let dag: Vec<Vec<u32>> = (0..k)
            .map(|i| ((i as u32 + 1)..k as u32).rev().collect())
            .collect();
        check(&plain(dag, vec![(0, s)]), &format!("complete DAG {k}"));
        // Ladder: two chains with rungs both ways.
        let mut ladder = vec![Vec::new(); 2 * k];
        for i in 0..k {
            let (a, b) = (2 * i as u32, 2 * i as u32 + 1);
            ladder[a as usize].push(b);
            ladder[b as usize].push(a);
            if i + 1 < k {
                ladder[a as usize].push(a + 2);
                ladder[b as usize].push(b + 2);
            }
        }
        check(&plain(ladder, vec![(0, s)]), &format!("ladder {k}"));
        // Two interleaved chains x and y: x_i -> x_{i+1}, x_i -> y_i,
        // y_i -> y_{i-1}: semi-dominators far from the parents, long eval
        // paths (a worst case of simple path compression).
        let mut xy = vec![Vec::new(); 2 * k];
        for i in 0..k {
            let (x, y) = (i as u32, (k + i) as u32);
            if i + 1 < k {
                xy[x as usize].push(x + 1);
            }
            xy[x as usize].push(y);
            if i > 0 {
                xy[y as usize].push(y - 1);
            }
        }
        xy[k].push(k as u32 - 1);
        check(&plain(xy, vec![(0, s)]), &format!("interleaved {k}"));
        // Several roots, each also reachable from the next one; a weak root
        // at the end of the cycle.
        let ring: Vec<Vec<u32>> = (0..k).map(|i| vec![((i + 1) % k) as u32]).collect();
        let roots = (0..k as u32)
            .step_by(2)
            .map(|r| (r, RootKind::StrongHandle))
            .chain([(k as u32 - 1, RootKind::WeakHandle)])
            .collect();
        check(&plain(ring, roots), &format!("ring of roots {k}"));
        // Self-loops and duplicate edges everywhere.
        let loops: Vec<Vec<u32>> = (0..k)
            .map(|i| {
                let next = ((i + 1) % k) as u32;
                vec![i as u32, next, next, i as u32]
            })
            .collect();
        check(&plain(loops, vec![(0, s), (0, s)]), &format!("loops {k}"));
    }
    // Only weak roots: nothing is reachable.
    check(
        &plain(vec![vec![1], vec![0]], vec![(0, RootKind::WeakHandle)]),
        "weak only",
    );
    // No roots at all.
    check(&plain(vec![vec![1], vec![]], vec![]), "no roots");
}

#[test]
fn deep_chains_use_no_call_stack() {
    // Two million objects in a chain, plus a back edge from the end to the
    // start (a long path to compress): iterative code only.
    let n = 2_000_000u32;
    let mut b = GraphBuilder::new();
    let t = b.add_type(TypeInfo {
        name: "Node".into(),
        module: None,
        kind: TypeKind::Object,
        method_table: 0,
    });
    for i in 0..n {
        let next: Vec<u32> = if i + 1 < n {
            vec![i + 1]
        } else {
            vec![0, n / 2]
        };
        b.add_node(t, 24, 0, next).unwrap();
    }
    b.add_root(0, RootKind::Static, None);
    let g = b.finish().unwrap();
    let dom = dominators(&g, &mut NoProgress).unwrap();
    assert_eq!(dom.idom(0), Some(Dominator::Root));
    assert_eq!(dom.idom(n - 1), Some(Dominator::Node(n - 2)));
    let ret = retained_sizes(&g, &dom);
    assert_eq!(ret.get(0), 24 * n as u64);
    assert_eq!(ret.get(n / 2), 24 * (n / 2) as u64);
    let by_type = retained_by_type(&g, &dom, &ret);
    assert_eq!(by_type[0].retained_bytes, 24 * n as u64);
    assert_eq!(by_type[0].top_level, 1);
}

#[test]
fn retained_sizes_beyond_four_gib() {
    // 3 arrays of 3 GiB under one holder: sizes and sums above u32::MAX.
    let mut b = GraphBuilder::new();
    let t = b.add_type(TypeInfo {
        name: "Big".into(),
        module: None,
        kind: TypeKind::Object,
        method_table: 0,
    });
    b.add_node(t, 40, 0, [1, 2, 3]).unwrap();
    for _ in 0..3 {
        b.add_node(t, 3 << 30, 0, []).unwrap();
    }
    b.add_root(0, RootKind::Static, None);
    let g = b.finish().unwrap();
    let dom = dominators(&g, &mut NoProgress).unwrap();
    let ret = retained_sizes(&g, &dom);
    assert_eq!(ret.get(0), 40 + 9 * (1 << 30));
    assert_eq!(ret.get(1), 3 << 30);
    assert_eq!(ret.reachable_bytes(), 40 + 9 * (1 << 30));
    let top = largest_objects(&dom, &ret, 2);
    assert_eq!(top, vec![(0, 40 + 9 * (1 << 30)), (1, 3 << 30)]);
    let mut per: HashMap<String, u64> = HashMap::new();
    for r in retained_by_type(&g, &dom, &ret) {
        per.insert(r.name, r.retained_bytes);
    }
    assert_eq!(per["Big"], 40 + 9 * (1 << 30));
}
