//! The CLR reader on a small synthetic process (`heaplens_corpus::
//! synthetic::SyntheticHeap`), against what the builder placed: objects,
//! references, roots; and on damaged copies of it.

use heaplens_clr::{read_with, ReadOptions, Target, TargetModule, TargetThread};
use heaplens_corpus::synthetic::SyntheticHeap;
use heaplens_graph::{NoProgress, RootKind};

fn target<'a>(heap: &SyntheticHeap, memory: &'a dyn heaplens_memory::AddressSpace) -> Target<'a> {
    Target {
        memory,
        shared_memory: None,
        modules: vec![TargetModule {
            path: "/usr/share/dotnet/shared/Microsoft.NETCore.App/8.0.0/libcoreclr.so".into(),
            start: heap.runtime.0,
            end: heap.runtime.1,
            header_addresses: vec![],
            ranges: vec![],
            version: None,
        }],
        threads: vec![TargetThread {
            id: 7,
            registers: heap.thread.2.clone(),
            stack_pointer: heap.thread.0,
            stack_end: Some(heap.thread.1),
            thread_local: Vec::new(),
        }],
        symbols: &heaplens_clr::NoSymbols,
        module_files: None,
    }
}

/// The heap read on one thread.
fn read_single(
    heap: &SyntheticHeap,
    memory: &dyn heaplens_memory::AddressSpace,
) -> heaplens_clr::ClrHeap {
    read_with(
        &target(heap, memory),
        &mut NoProgress,
        ReadOptions {
            single_thread: true,
            ..ReadOptions::default()
        },
    )
    .expect("the synthetic heap reads")
}

#[test]
fn the_synthetic_heap_reads_as_built() {
    let heap = SyntheticHeap::new();
    let memory = heap.memory();
    let read = read_single(&heap, &memory);
    let g = &read.graph;
    let found: Vec<(u64, u64)> = (0..g.node_count())
        .map(|i| (g.node_address(i as u32), g.node_size(i as u32)))
        .collect();
    let placed: Vec<(u64, u64)> = heap.objects.iter().map(|o| (o.address, o.size)).collect();
    assert_eq!(found, placed);
    assert!(read.info.problems.is_empty(), "{:?}", read.info.problems);
    assert_eq!(read.info.invalid_references, 0);
}

#[test]
fn references_and_roots_are_those_placed() {
    let heap = SyntheticHeap::new();
    let memory = heap.memory();
    let read = read_single(&heap, &memory);
    let g = &read.graph;
    let addr = |n: u32| g.node_address(n);
    let mut edges: Vec<(u64, u64)> = (0..g.node_count() as u32)
        .flat_map(|n| g.children(n).iter().map(move |&c| (addr(n), addr(c))))
        .collect();
    edges.sort_unstable();
    let (n1, plain) = (heap.objects[0].address, heap.objects[4].address);
    let mut placed = heap.references.clone();
    placed.push((n1, plain)); // the dependent handle's edge
    placed.sort_unstable();
    assert_eq!(edges, placed);

    let mut roots: Vec<(RootKind, u64)> =
        g.roots().iter().map(|r| (r.kind, addr(r.object))).collect();
    roots.sort_by_key(|&(k, a)| (k.as_str(), a));
    roots.dedup();
    let by = |mt_of: usize| heap.objects[mt_of].address;
    let find = |pred: &dyn Fn(&heaplens_corpus::synthetic::SyntheticObject) -> bool| {
        heap.objects.iter().find(|o| pred(o)).unwrap().address
    };
    let pinned_string = heap.objects.last().unwrap().address;
    let large_array = heap.thread.2[0];
    // The finalizable object is registered in the queue's generation
    // parts, not ready for its finalizer: no root (only the f-reachable
    // part roots objects).
    let structs = find(&|o| o.size == 0x18 + 32);
    let mut want = vec![
        (RootKind::StrongHandle, by(0)),
        (RootKind::StrongHandle, pinned_string),
        (RootKind::Stack, structs),
        (RootKind::Stack, large_array),
    ];
    want.sort_by_key(|&(k, a)| (k.as_str(), a));
    assert_eq!(roots, want);
}

/// Answering `Cancelled` to the first report of `phase` (what a worker's
/// progress callback does when the user cancels) ends the read with
/// `ClrError::Cancelled`, with no report after it — on one thread, two,
/// three and five.
#[test]
fn a_cancel_in_each_phase_stops_the_read() {
    use heaplens_graph::{Cancelled, Phase};
    let heap = SyntheticHeap::new();
    let memory = heap.memory();
    for phase in [Phase::ReadingHeap, Phase::FollowingReferences] {
        for threads in [1, 2, 3, 5] {
            let single_thread = threads == 1;
            let mut t = target(&heap, &memory);
            t.shared_memory = Some(&memory);
            let (mut seen, mut after) = (0, 0);
            let mut progress = |p: Phase, _: u64, _: u64| -> Result<(), Cancelled> {
                if seen > 0 {
                    after += 1;
                }
                if p == phase {
                    seen += 1;
                    return Err(Cancelled);
                }
                Ok(())
            };
            let r = read_with(
                &t,
                &mut progress,
                ReadOptions {
                    single_thread,
                    threads: std::num::NonZeroUsize::new(threads),
                    ..ReadOptions::default()
                },
            );
            assert!(
                matches!(r, Err(heaplens_clr::ClrError::Cancelled)),
                "{phase:?}, {threads} threads: {r:?}"
            );
            assert_eq!((seen, after), (1, 0), "{phase:?}, {threads} threads");
        }
    }
}

/// Every input that once crashed the `clr_heap` fuzz target
/// (`fuzz/regressions/clr_heap/`), replayed: the damaged process reads as
/// a heap or a typed error, on one thread, two and three.
#[test]
fn fuzz_regressions_read_without_a_panic() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/clr_heap");
    let mut n = 0;
    let seed = SyntheticHeap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let heap = seed.damaged(&std::fs::read(&path).unwrap());
        let memory = heap.memory();
        for threads in [1, 2, 3] {
            let mut t = target(&heap, &memory);
            t.shared_memory = Some(&memory);
            let options = ReadOptions {
                single_thread: threads == 1,
                threads: std::num::NonZeroUsize::new(threads),
                ..ReadOptions::default()
            };
            let _ = read_with(&t, &mut NoProgress, options);
        }
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

/// After a zero gap (the cleared start of an allocation context), the
/// first word that is not zero may be the next object's header — a sync
/// block index or a hash code — rather than its MethodTable: the walk goes
/// on at the MethodTable after it and finds every object placed (a .NET 10
/// core of the zoo fixtures had a header of 1 there).
#[test]
fn an_object_with_a_header_after_a_zero_gap_is_found() {
    let mut heap = SyntheticHeap::new();
    // The struct array after generation 0's zero gap: the object after
    // the first Free one, with zeros between them.
    let free = heap
        .objects
        .iter()
        .position(|o| o.free)
        .expect("generation 0 has a Free object");
    let (f, after_gap) = (&heap.objects[free], heap.objects[free + 1].address);
    assert!(after_gap - 8 > f.address + f.size, "a zero gap before it");
    for header in [1u64, 0x0800_0000_1234_5678] {
        heap.set_u64(after_gap - 8, header);
        let memory = heap.memory();
        let read = read_single(&heap, &memory);
        let g = &read.graph;
        let found: Vec<u64> = (0..g.node_count() as u32)
            .map(|i| g.node_address(i))
            .collect();
        let placed: Vec<u64> = heap.objects.iter().map(|o| o.address).collect();
        assert_eq!(found, placed, "header {header:#x}");
        assert!(read.info.problems.is_empty(), "{:?}", read.info.problems);
    }
}
