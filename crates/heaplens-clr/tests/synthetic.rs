//! The CLR reader on a small synthetic process (`heaplens_corpus::
//! synthetic::SyntheticHeap`), against what the builder placed: objects,
//! references, roots; and on damaged copies of it.

use heaplens_clr::{read_with, ReadOptions};
use heaplens_corpus::synthetic::SyntheticHeap;
use heaplens_graph::{NoProgress, RootKind};

/// The heap read on one thread.
fn read_single(
    heap: &SyntheticHeap,
    memory: &dyn heaplens_memory::AddressSpace,
) -> heaplens_clr::ClrHeap {
    read_with(
        &heap.clr_target(memory),
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
            let mut t = heap.clr_target(&memory);
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
/// (`fuzz/regressions/clr_heap/`) or `clr_heap32` (the 32-bit process,
/// `fuzz/regressions/clr_heap32/` when it has any), replayed: the damaged
/// process reads as a heap or a typed error, on one thread, two and three.
#[test]
fn fuzz_regressions_read_without_a_panic() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let n = replay(&root.join("clr_heap"), &SyntheticHeap::new());
    assert!(n > 0, "no regression inputs for clr_heap");
    if root.join("clr_heap32").is_dir() {
        replay(&root.join("clr_heap32"), &SyntheticHeap::new_x86());
    }
}

/// Reads `seed` damaged by every input in `dir`: how many.
fn replay(dir: &std::path::Path, seed: &SyntheticHeap) -> usize {
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let heap = seed.damaged(&std::fs::read(&path).unwrap());
        let memory = heap.memory();
        for threads in [1, 2, 3] {
            let mut t = heap.clr_target(&memory);
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
    n
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

/// The 32-bit process (`SyntheticHeap::new_x86`: .NET Core 3.1 x86-shaped,
/// segments, 4-byte pointers) against a walk written here over its bytes:
/// each segment from its record's `mem` to its end, an object's size its
/// MethodTable's base size plus components × length, the next object at
/// that size rounded up to 4 bytes (12 at least) in the small object heap
/// and to 8 in the large one (its record's flag 8), a zero word skipped.
/// References: a node's fields after its MethodTable, every element of an
/// `object[]`, the first word of each 8-byte struct element; roots: the
/// handle table's two strong handles, the stack word and the register.
#[test]
fn the_32_bit_synthetic_heap_reads_as_built() {
    let heap = SyntheticHeap::new_x86();
    assert_eq!(heap.pointer_size, 4);
    let word = |a: u64| -> u64 {
        let r = heap
            .ranges
            .iter()
            .find(|r| a >= r.start && a + 4 <= r.start + r.bytes.len() as u64)
            .unwrap_or_else(|| panic!("{a:#x} is in the process"));
        let o = (a - r.start) as usize;
        u32::from_le_bytes(r.bytes[o..o + 4].try_into().unwrap()) as u64
    };
    // The walk.
    let mut walked: Vec<(u64, u64, u64)> = Vec::new(); // address, size, MT
    for &(record, mem, end) in &heap.regions {
        let align = if word(record + 20) & 8 != 0 { 8 } else { 4 };
        assert_eq!(word(record + 16), mem, "the record's mem");
        let mut a = mem;
        while a < end {
            let mt = word(a);
            if mt == 0 {
                a += 4;
                continue;
            }
            let flags = word(mt);
            let components = if flags & 0x8000_0000 != 0 {
                (flags & 0xFFFF) * word(a + 4)
            } else {
                0
            };
            let size = word(mt + 4) + components;
            walked.push((a, size, mt));
            a += size.max(12).div_ceil(align) * align;
        }
    }
    let placed: Vec<(u64, u64, u64)> = heap
        .objects
        .iter()
        .map(|o| (o.address, o.size, o.method_table))
        .collect();
    assert_eq!(walked, placed, "the builder placed what its bytes say");
    // The large object heap's alignment matters: its first object's size
    // is a multiple of 4, not of 8, and the next one is 4 bytes past it.
    let (loh, loh_end) = (heap.regions[1].1, heap.regions[1].2);
    let large: Vec<&(u64, u64, u64)> = walked
        .iter()
        .filter(|o| (loh..loh_end).contains(&o.0))
        .collect();
    assert!(large.len() >= 2 && large[0].1 % 8 == 4);
    assert_eq!(large[1].0, large[0].0 + large[0].1 + 4);

    let memory = heap.memory();
    let read = read_single(&heap, &memory);
    let g = &read.graph;
    let found: Vec<(u64, u64)> = (0..g.node_count())
        .map(|i| (g.node_address(i as u32), g.node_size(i as u32)))
        .collect();
    let want: Vec<(u64, u64)> = walked.iter().map(|&(a, s, _)| (a, s)).collect();
    assert_eq!(found, want);
    assert!(read.info.problems.is_empty(), "{:?}", read.info.problems);
    assert_eq!(read.info.invalid_references, 0);

    // References, from the fields as this test knows the types.
    let mut refs = Vec::new();
    for &(a, size, mt) in &walked {
        let flags = word(mt);
        if flags & 0x0100_0000 == 0 {
            continue;
        }
        let slots: Vec<u64> = match flags & 0xFFFF {
            0 => (4..word(mt + 4) - 4).step_by(4).collect(),
            4 => (8..size).step_by(4).collect(),
            8 => (8..size).step_by(8).collect(),
            c => panic!("component size {c}"),
        };
        refs.extend(
            slots
                .into_iter()
                .map(|o| word(a + o))
                .filter(|&t| t != 0)
                .map(|t| (a, t)),
        );
    }
    // The dependent handle (block 1's first handle, its secondary in
    // block 2): primary → secondary.
    let handles = heaplens_corpus::synthetic::layout_x86::HANDLES;
    refs.push((word(handles + 0x1100), word(handles + 0x1200)));
    refs.sort_unstable();
    let addr = |n: u32| g.node_address(n);
    let mut edges: Vec<(u64, u64)> = (0..g.node_count() as u32)
        .flat_map(|n| g.children(n).iter().map(move |&c| (addr(n), addr(c))))
        .collect();
    edges.sort_unstable();
    assert_eq!(edges, refs);
    let mut built = heap.references.clone();
    built.push((word(handles + 0x1100), word(handles + 0x1200)));
    built.sort_unstable();
    assert_eq!(built, refs, "the builder's list of references");

    // Roots.
    let containing = |p: u64| {
        walked
            .iter()
            .find(|&&(a, s, _)| a <= p && p < a + s)
            .unwrap()
            .0
    };
    let mut want = vec![
        (RootKind::StrongHandle, word(handles + 0x1000)),
        (RootKind::StrongHandle, word(handles + 0x1004)),
        (RootKind::Stack, containing(word(heap.thread.0 + 0x20))),
        (RootKind::Stack, heap.thread.2[0]),
    ];
    want.sort_by_key(|&(k, a)| (k.as_str(), a));
    let mut roots: Vec<(RootKind, u64)> =
        g.roots().iter().map(|r| (r.kind, addr(r.object))).collect();
    roots.sort_by_key(|&(k, a)| (k.as_str(), a));
    roots.dedup();
    assert_eq!(roots, want);
}

/// The 32-bit process damaged: a segment record claiming more than the
/// dump holds, and every single word set to 0 and to 0xFFFFFFFF,
/// reads as a heap or a typed error, never a panic.
#[test]
fn the_32_bit_heap_damaged_word_by_word_reads_without_a_panic() {
    let heap = SyntheticHeap::new_x86();
    let mut big = heap.clone();
    big.claim_more(0, 1 << 30);
    let memory = big.memory();
    let _ = read_with(
        &big.clr_target(&memory),
        &mut NoProgress,
        ReadOptions::default(),
    );
    for r in &heap.ranges {
        for o in (0..r.bytes.len() as u64).step_by(4) {
            for v in [0u64, 0xFFFF_FFFF] {
                let mut d = heap.clone();
                d.set_word(r.start + o, v);
                let memory = d.memory();
                let _ = read_with(
                    &d.clr_target(&memory),
                    &mut NoProgress,
                    ReadOptions {
                        single_thread: true,
                        ..ReadOptions::default()
                    },
                );
            }
        }
    }
}
