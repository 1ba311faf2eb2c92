//! The reading functions over a reader of hand-made objects: values
//! decoded as laid out, damaged lengths clamped to the object, bytes the
//! dump lacks reported, delegates and collections recognised by their
//! fields.

use crate::bytes::BytesReader;
use crate::collections::{collection_fill, CollectionKind};
use crate::delegates::delegate;
use crate::inspect::{read_object, string_text, Contents, ReadOptions};
use crate::layout::*;
use crate::reader::{MethodName, ObjectReader};
use crate::value::Value;
use heaplens_graph::{GraphBuilder, NodeIndex, TypeInfo, TypeKind};
use std::sync::Arc;

const BASE: u64 = 0x1000;

type Fake = BytesReader<'static>;

/// The method a delegate's code pointer (`0xC0DE`) leads to.
fn on_tick() -> MethodName {
    MethodName {
        type_name: "App.Handler".into(),
        method: "OnTick".into(),
        token: 0x0600_0001,
        method_desc: 0x5000,
        via: "test",
    }
}

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

/// Builds the heap: `objects` as (type, size, bytes), laid end to end.
fn heap(layouts: Vec<TypeLayout>, objects: &[(u32, u64, Vec<u8>)]) -> Fake {
    let mut b = GraphBuilder::new();
    for l in &layouts {
        b.add_type(TypeInfo {
            name: l.name.clone(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
    }
    let mut mem = Vec::new();
    let mut addrs = Vec::new();
    for (_, size, bytes) in objects {
        addrs.push(BASE + mem.len() as u64);
        let mut o = bytes.clone();
        o.resize(*size as usize, 0);
        mem.extend(o);
    }
    for (i, (t, size, _)) in objects.iter().enumerate() {
        b.add_node(*t, *size, addrs[i], []).unwrap();
    }
    let layouts: Vec<Arc<TypeLayout>> = layouts.into_iter().map(Arc::new).collect();
    BytesReader::new(b.finish().unwrap(), BASE, mem, layouts).with_method(0xC0DE, on_tick())
}

fn string_layout() -> TypeLayout {
    TypeLayout {
        shape: Shape::String {
            length_offset: 8,
            chars_offset: 12,
        },
        ..class("System.String", Vec::new())
    }
}

fn string_bytes(text: &str, claimed: Option<u32>) -> Vec<u8> {
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut b = vec![0u8; 8];
    b.extend(claimed.unwrap_or(units.len() as u32).to_le_bytes());
    for u in units {
        b.extend(u.to_le_bytes());
    }
    b
}

#[test]
fn fields_decode_as_laid_out() {
    let mut data = vec![0u8; 8];
    data.extend(7i32.to_le_bytes()); // +8  Id
    data.extend([1, 0, 0, 0]); // +12 Flag
    data.extend((BASE + 48).to_le_bytes()); // +16 Name -> the string
    data.extend(0u64.to_le_bytes()); // +24 Next (null)
    data.extend(2.5f64.to_le_bytes()); // +32 Weight
    let colors = Arc::new(EnumInfo {
        name: "Color".into(),
        underlying: Primitive::I32,
        flags: false,
        literals: vec![(2, "Green".into())],
    });
    data.extend(2i32.to_le_bytes()); // +40 Color
    let f = heap(
        vec![
            class(
                "App.Item",
                vec![
                    field("Id", 0, FieldKind::Primitive(Primitive::I32)),
                    field("Flag", 4, FieldKind::Primitive(Primitive::Bool)),
                    field("Name", 8, FieldKind::Reference),
                    field("Next", 16, FieldKind::Reference),
                    field("Weight", 24, FieldKind::Primitive(Primitive::F64)),
                    field("Color", 32, FieldKind::Enum(colors)),
                ],
            ),
            string_layout(),
        ],
        &[(0, 48, data), (1, 32, string_bytes("abc", None))],
    );
    let o = read_object(&f, 0, ReadOptions::default()).unwrap();
    let Contents::Fields(fs) = o.contents else {
        panic!()
    };
    let v: Vec<(&str, u32, String)> = fs
        .iter()
        .map(|x| (x.name.as_str(), x.offset, x.value.display()))
        .collect();
    assert_eq!(
        v,
        [
            ("Id", 8, "7".to_owned()),
            ("Flag", 12, "true".to_owned()),
            ("Name", 16, "\"abc\"".to_owned()),
            ("Next", 24, "null".to_owned()),
            ("Weight", 32, "2.5".to_owned()),
            ("Color", 40, "Green (2)".to_owned()),
        ]
    );
}

#[test]
fn damaged_lengths_are_clamped_to_the_object() {
    // A string claiming 1,000,000 characters in a 32-byte object, an
    // array claiming 2^31 elements in 40 bytes.
    let mut arr = vec![0u8; 8];
    arr.extend(0x8000_0000u32.to_le_bytes());
    arr.extend([0u8; 4]);
    arr.extend([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    let array = TypeLayout {
        shape: Shape::Array(ArrayLayout {
            element_type: "System.Int32".into(),
            element: FieldKind::Primitive(Primitive::I32),
            element_size: 4,
            rank: 1,
            length_offset: 8,
            data_offset: 16,
        }),
        ..class("System.Int32[]", Vec::new())
    };
    let f = heap(
        vec![string_layout(), array],
        &[
            (0, 32, string_bytes("abcdefghij", Some(1_000_000))),
            (1, 40, arr),
        ],
    );
    let s = string_text(&f, 0, usize::MAX).unwrap();
    assert_eq!((s.length, s.truncated), (1_000_000, true));
    assert_eq!(s.text.encode_utf16().count(), 10);
    let o = read_object(&f, 1, ReadOptions::default()).unwrap();
    let Contents::Array {
        length, elements, ..
    } = o.contents
    else {
        panic!()
    };
    // (40 − 16) / 4 elements fit.
    assert_eq!(length, 6);
    assert_eq!(elements[..3], [Value::Int(1), Value::Int(2), Value::Int(3)]);
    // An array whose elements are all zero is wasted whole.
    let c = collection_fill(&f, 1).unwrap();
    assert_eq!((c.kind, c.all_zero), (CollectionKind::Array, false));
}

#[test]
fn references_out_of_the_dump_say_so() {
    let mut data = vec![0u8; 8];
    data.extend(0xDEAD_0000u64.to_le_bytes());
    let f = heap(
        vec![class(
            "App.Holder",
            vec![field("P", 0, FieldKind::Reference)],
        )],
        &[(0, 24, data)],
    );
    let o = read_object(&f, 0, ReadOptions::default()).unwrap();
    let Contents::Fields(fs) = o.contents else {
        panic!()
    };
    match &fs[0].value {
        Value::Ref(r) => assert_eq!((r.address, r.node), (0xDEAD_0000, None)),
        v => panic!("{v:?}"),
    }
    // Reading past the dump is an error, not a panic.
    assert!(f.read_memory(BASE + 1000, &mut [0u8; 8]).is_err());
}

#[test]
fn delegates_and_lists_are_recognised_by_their_fields() {
    let d = |name: &str, off: u32| FieldLayout {
        declared_in: "System.Delegate".into(),
        ..field(name, off, FieldKind::Reference)
    };
    let handler = class(
        "System.EventHandler",
        vec![
            d("_target", 0),
            d("_methodBase", 8),
            FieldLayout {
                kind: FieldKind::Primitive(Primitive::IntPtr),
                ..d("_methodPtr", 16)
            },
            FieldLayout {
                kind: FieldKind::Primitive(Primitive::IntPtr),
                ..d("_methodPtrAux", 24)
            },
        ],
    );
    let list = class(
        "System.Collections.Generic.List`1[System.Int32]",
        vec![
            field("_items", 0, FieldKind::Reference),
            field("_size", 8, FieldKind::Primitive(Primitive::I32)),
        ],
    );
    let array = TypeLayout {
        shape: Shape::Array(ArrayLayout {
            element_type: "System.Int32".into(),
            element: FieldKind::Primitive(Primitive::I32),
            element_size: 4,
            rank: 1,
            length_offset: 8,
            data_offset: 16,
        }),
        ..class("System.Int32[]", Vec::new())
    };
    let target = class("App.Handler", Vec::new());
    // 0: the delegate (target: object 3), 1: the list, 2: its items, 3: the
    // target.
    let mut del = vec![0u8; 8];
    del.extend((BASE + 40 + 32 + 56).to_le_bytes());
    del.extend(0u64.to_le_bytes());
    del.extend(0xC0DEu64.to_le_bytes());
    del.extend(0u64.to_le_bytes());
    let mut l = vec![0u8; 8];
    l.extend((BASE + 40 + 32).to_le_bytes());
    l.extend(3i32.to_le_bytes());
    let mut items = vec![0u8; 8];
    items.extend(10u32.to_le_bytes());
    let f = heap(
        vec![handler, list, array, target],
        &[(0, 40, del), (1, 32, l), (2, 56, items), (3, 24, vec![])],
    );
    let info = delegate(&f, 0).unwrap();
    assert_eq!(info.invocation_count, 1);
    let i = &info.invocations[0];
    assert_eq!(i.target, Some(3 as NodeIndex));
    assert!(!i.is_static);
    assert_eq!(i.method.as_ref().unwrap().full(), "App.Handler.OnTick");
    let c = collection_fill(&f, 1).unwrap();
    assert_eq!(
        (c.kind, c.count, c.capacity, c.wasted_bytes),
        (CollectionKind::List, 3, 10, 28)
    );
    assert!(delegate(&f, 1).is_none());
}
