//! Object contents read from untrusted memory: strings, arrays and fields
//! whose bytes are random, lengths that claim far more than their object
//! holds, objects the dump does not hold. Reading every object, duplicate
//! strings and collection waste never panic, never read past an object and
//! never size a buffer by a claimed length.

use heaplens_analysis::strings::{duplicate_strings, StringOptions};
use heaplens_analysis::waste::{collection_waste, WasteOptions};
use heaplens_contents::bytes::BytesReader;
use heaplens_contents::inspect::{read_object, ReadOptions};
use heaplens_contents::layout::*;
use heaplens_contents::ObjectReader;
use heaplens_corpus::patched::Rng;
use heaplens_graph::{GraphBuilder, NoProgress, TypeInfo, TypeKind};
use std::sync::Arc;

const BASE: u64 = 0x10_000;

/// Objects in one block of memory at `BASE`, of which the dump holds a
/// first part.
type Fake = BytesReader<'static>;

fn field(name: &str, offset: u32, kind: FieldKind) -> FieldLayout {
    FieldLayout {
        name: name.into(),
        declared_in: "T".into(),
        type_name: "?".into(),
        offset,
        kind,
    }
}

fn class(name: &str, fields: Vec<FieldLayout>) -> TypeLayout {
    TypeLayout {
        name: name.into(),
        shape: Shape::Class,
        fields,
        data_offset: 8,
        notes: Vec::new(),
    }
}

fn layouts() -> Vec<TypeLayout> {
    vec![
        TypeLayout {
            shape: Shape::String {
                length_offset: 8,
                chars_offset: 12,
            },
            ..class("System.String", Vec::new())
        },
        TypeLayout {
            shape: Shape::Array(ArrayLayout {
                element_type: "System.Object".into(),
                element: FieldKind::Reference,
                element_size: 8,
                rank: 1,
                length_offset: 8,
                data_offset: 16,
            }),
            ..class("System.Object[]", Vec::new())
        },
        class(
            "System.Collections.Generic.List`1[System.Object]",
            vec![
                field("_items", 0, FieldKind::Reference),
                field("_size", 8, FieldKind::Primitive(Primitive::I32)),
                field("_version", 12, FieldKind::Primitive(Primitive::I32)),
            ],
        ),
        class(
            "App.Thing",
            vec![
                field("name", 0, FieldKind::Reference),
                field("when", 8, FieldKind::Primitive(Primitive::I64)),
                field("ratio", 16, FieldKind::Primitive(Primitive::F64)),
                field("ptr", 24, FieldKind::Pointer),
            ],
        ),
    ]
}

/// A heap of `objects` (type, size) laid end to end over `mem`.
fn heap(objects: &[(u32, u64)], mem: Vec<u8>, held: usize) -> Fake {
    let mut b = GraphBuilder::new();
    let ls = layouts();
    for l in &ls {
        b.add_type(TypeInfo {
            name: l.name.clone(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
    }
    let mut at = BASE;
    for &(t, size) in objects {
        b.add_node(t, size, at, []).unwrap();
        at += size;
    }
    let mut mem = mem;
    mem.truncate(held);
    let layouts: Vec<Arc<TypeLayout>> = ls.into_iter().map(Arc::new).collect();
    BytesReader::new(b.finish().unwrap(), BASE, mem, layouts)
}

fn read_everything(f: &Fake) {
    for n in 0..f.graph().node_count() as u32 {
        let _ = read_object(f, n, ReadOptions::default());
    }
    let all = |_| true;
    let s = duplicate_strings(f, &all, &StringOptions::default(), &mut NoProgress).unwrap();
    for g in &s.groups {
        // A group's length is what its objects hold, never what they claim.
        let room = (f.graph().node_size(g.example) - 12) / 2;
        assert!(u64::from(g.length) <= room, "{} > {room}", g.length);
    }
    let w = collection_waste(f, &all, WasteOptions::default(), &mut NoProgress).unwrap();
    let heap: u64 = (0..f.graph().node_count() as u32)
        .map(|n| f.graph().node_size(n))
        .sum();
    assert!(
        w.wasted_bytes <= heap,
        "{} wasted of {heap}",
        w.wasted_bytes
    );
}

/// Strings claiming 4 G characters in 32-byte objects: grouped by the
/// characters their objects hold.
#[test]
fn claimed_lengths_are_clamped() {
    let mut mem = Vec::new();
    for text in ["abcdefghij", "abcdefghij", "abc"] {
        let mut o = vec![0u8; 8];
        o.extend(u32::MAX.to_le_bytes());
        for u in text.encode_utf16() {
            o.extend(u.to_le_bytes());
        }
        o.resize(32, 0);
        mem.extend(o);
    }
    let n = mem.len();
    let f = heap(&[(0, 32), (0, 32), (0, 32)], mem, n);
    let s = duplicate_strings(&f, &|_| true, &StringOptions::default(), &mut NoProgress).unwrap();
    assert_eq!(s.strings, 3);
    assert_eq!(s.groups.len(), 1);
    assert_eq!((s.groups[0].copies, s.groups[0].length), (2, 10));
    read_everything(&f);
}

/// A string object of 64 MiB the dump does not hold: unreadable, and no
/// buffer of its size is made.
#[test]
fn objects_the_dump_does_not_hold_are_unreadable() {
    let mut mem = vec![0u8; 64];
    mem[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    let f = heap(&[(0, 32), (0, 64 << 20)], mem, 64);
    let s = duplicate_strings(&f, &|_| true, &StringOptions::default(), &mut NoProgress).unwrap();
    assert_eq!((s.strings, s.unreadable), (2, 1));
    read_everything(&f);
}

/// Random bytes under every kind of object, the dump cut anywhere.
#[test]
fn random_contents_never_panic() {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..300 {
        let count = 1 + rng.next_u64() % 24;
        let objects: Vec<(u32, u64)> = (0..count)
            .map(|_| ((rng.next_u64() % 4) as u32, 16 + 8 * (rng.next_u64() % 12)))
            .collect();
        let total: u64 = objects.iter().map(|o| o.1).sum();
        let mut mem: Vec<u8> = (0..total).map(|_| rng.next_u64() as u8).collect();
        // Some words point into the heap, some lengths are huge.
        for w in mem.chunks_exact_mut(8) {
            match rng.next_u64() % 6 {
                0 => w.copy_from_slice(&(BASE + rng.next_u64() % total).to_le_bytes()),
                1 => w.copy_from_slice(&u64::MAX.to_le_bytes()),
                2 => w.copy_from_slice(&0u64.to_le_bytes()),
                _ => {}
            }
        }
        let held = (rng.next_u64() % (total + 1)) as usize;
        let held = if rng.next_u64().is_multiple_of(2) {
            total as usize
        } else {
            held
        };
        read_everything(&heap(&objects, mem, held));
    }
}
