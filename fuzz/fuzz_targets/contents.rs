//! Object contents over hostile bytes: the input is a heap — a list of
//! objects (a type out of a fixed set of layouts, and the size the graph
//! claims for it, up to 4 GiB) followed by the bytes the dump holds for
//! them, laid end to end — and every reading function of
//! `heaplens_contents` runs on every object: `read_object` (fields of
//! every kind: numbers, enums, references, inline structs, `DateTime`,
//! `Guid`, `decimal`, `Nullable`), `string_text`, `array_elements`,
//! `array_is_all_zero`, `boxed_value`, `delegate` (single and multicast),
//! `collection_fill` (`List`, `Dictionary`, `HashSet`, `Queue`, arrays);
//! then the analyses that read contents over the whole heap,
//! `duplicate_strings` and `collection_waste`. Lengths, counts and
//! pointers come from the input: any of them gives values or a
//! `ContentsError`, never a panic, hang or abort, and never an allocation
//! by a length the bytes claim (libFuzzer's 2 GiB malloc limit).
#![no_main]

use heaplens_analysis::strings::{duplicate_strings, StringOptions};
use heaplens_analysis::waste::{collection_waste, WasteOptions};
use heaplens_contents::bytes::BytesReader;
use heaplens_contents::collections::collection_fill;
use heaplens_contents::delegates::delegate;
use heaplens_contents::inspect::{
    array_elements, array_is_all_zero, boxed_value, read_object, string_text, ReadOptions,
};
use heaplens_contents::layout::{
    ArrayLayout, EnumInfo, FieldKind, FieldLayout, Primitive, Shape, Special, StructLayout,
    TypeLayout,
};
use heaplens_contents::value::DecodeOptions;
use heaplens_contents::{MethodName, ObjectReader};
use heaplens_graph::{GraphBuilder, NoProgress, TypeIndex, TypeInfo, TypeKind};
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

/// Where the heap's bytes start.
const BASE: u64 = 0x10000;
/// Most objects one input makes.
const MAX_OBJECTS: usize = 64;
/// The code pointer the reader knows a method for.
const CODE: u64 = 0xC0DE;

fn field(name: &str, declared_in: &str, offset: u32, kind: FieldKind) -> FieldLayout {
    FieldLayout {
        name: name.into(),
        declared_in: declared_in.into(),
        type_name: "?".into(),
        offset,
        kind,
    }
}

fn prim(p: Primitive) -> FieldKind {
    FieldKind::Primitive(p)
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

fn array(name: &str, element: FieldKind, element_size: u32, rank: u32) -> TypeLayout {
    TypeLayout {
        name: name.into(),
        shape: Shape::Array(ArrayLayout {
            element_type: "?".into(),
            element,
            element_size,
            rank,
            length_offset: 8,
            data_offset: 16 + 8 * (rank.saturating_sub(1)),
        }),
        fields: Vec::new(),
        data_offset: 16,
        notes: Vec::new(),
    }
}

fn special(name: &str, size: u32, s: Special, fields: Vec<FieldLayout>) -> Arc<StructLayout> {
    Arc::new(StructLayout {
        name: name.into(),
        size,
        fields,
        special: Some(s),
    })
}

/// The layouts an input's objects take: every shape and field kind the
/// readers decode, and the delegates and collections they recognise.
fn layouts() -> Vec<Arc<TypeLayout>> {
    let colors = Arc::new(EnumInfo {
        name: "Color".into(),
        underlying: Primitive::I32,
        flags: false,
        literals: vec![(1, "Red".into()), (2, "Green".into())],
    });
    let access = Arc::new(EnumInfo {
        name: "Access".into(),
        underlying: Primitive::U8,
        flags: true,
        literals: vec![(1, "Read".into()), (2, "Write".into())],
    });
    let ticks = || vec![field("_dateData", "S", 0, prim(Primitive::U64))];
    let date = special("System.DateTime", 8, Special::DateTime, ticks());
    let span = special(
        "System.TimeSpan",
        8,
        Special::TimeSpan,
        vec![field("_ticks", "S", 0, prim(Primitive::I64))],
    );
    let guid = special("System.Guid", 16, Special::Guid, Vec::new());
    let decimal = special("System.Decimal", 16, Special::Decimal, Vec::new());
    let nullable = special(
        "System.Nullable`1[System.Int32]",
        8,
        Special::Nullable,
        vec![
            field("hasValue", "S", 0, prim(Primitive::Bool)),
            field("value", "S", 4, prim(Primitive::I32)),
        ],
    );
    let pair = Arc::new(StructLayout {
        name: "App.Pair".into(),
        size: 24,
        fields: vec![
            field("Key", "App.Pair", 0, FieldKind::Reference),
            field("Value", "App.Pair", 8, FieldKind::Struct(date.clone())),
            field(
                "Inner",
                "App.Pair",
                16,
                FieldKind::OpaqueStruct {
                    size: Some(8),
                    why: "fuzz".into(),
                },
            ),
        ],
        special: None,
    });
    let delegate_fields = || {
        vec![
            field("_target", "System.Delegate", 0, FieldKind::Reference),
            field("_methodBase", "System.Delegate", 8, FieldKind::Reference),
            field("_methodPtr", "System.Delegate", 16, FieldKind::Pointer),
            field("_methodPtrAux", "System.Delegate", 24, FieldKind::Pointer),
        ]
    };
    let mut multicast = delegate_fields();
    multicast.push(field(
        "_invocationList",
        "System.MulticastDelegate",
        32,
        FieldKind::Reference,
    ));
    multicast.push(field(
        "_invocationCount",
        "System.MulticastDelegate",
        40,
        prim(Primitive::IntPtr),
    ));
    let i32f = |n: &str, o: u32| field(n, "C", o, prim(Primitive::I32));
    let rf = |n: &str, o: u32| field(n, "C", o, FieldKind::Reference);
    let layouts = vec![
        TypeLayout {
            shape: Shape::String {
                length_offset: 8,
                chars_offset: 12,
            },
            ..class("System.String", Vec::new())
        },
        class(
            "App.Item",
            vec![
                field("Id", "App.Item", 0, prim(Primitive::I32)),
                field("Flag", "App.Item", 4, prim(Primitive::Bool)),
                field("Name", "App.Item", 8, FieldKind::Reference),
                field("Weight", "App.Item", 16, prim(Primitive::F64)),
                field("Color", "App.Item", 24, FieldKind::Enum(colors)),
                field("Access", "App.Item", 28, FieldKind::Enum(access)),
                field("Letter", "App.Item", 30, prim(Primitive::Char)),
                field("When", "App.Item", 32, FieldKind::Struct(date)),
                field("Took", "App.Item", 40, FieldKind::Struct(span)),
                field("Id2", "App.Item", 48, FieldKind::Struct(guid)),
                field("Price", "App.Item", 64, FieldKind::Struct(decimal)),
                field("Maybe", "App.Item", 80, FieldKind::Struct(nullable)),
                field("Pair", "App.Item", 88, FieldKind::Struct(pair.clone())),
                field("Raw", "App.Item", 112, FieldKind::Pointer),
                field("Half", "App.Item", 120, prim(Primitive::F32)),
                field("Big", "App.Item", 124, prim(Primitive::U64)),
                // Past any object the input makes small: read as missing.
                field("Far", "App.Item", 1 << 20, prim(Primitive::I64)),
            ],
        ),
        array("System.Int32[]", prim(Primitive::I32), 4, 1),
        array("System.Object[]", FieldKind::Reference, 8, 1),
        array("App.Pair[]", FieldKind::Struct(pair), 24, 1),
        array("System.Byte[,]", prim(Primitive::U8), 1, 2),
        TypeLayout {
            shape: Shape::Boxed(Some(Special::DateTime)),
            ..class("System.DateTime", ticks())
        },
        TypeLayout {
            shape: Shape::Boxed(None),
            ..class(
                "System.Int64",
                vec![field("m_value", "System.Int64", 0, prim(Primitive::I64))],
            )
        },
        class("System.Action", delegate_fields()),
        class("System.EventHandler", multicast),
        class(
            "System.Collections.Generic.List`1[[System.String]]",
            vec![rf("_items", 0), i32f("_size", 8), i32f("_version", 12)],
        ),
        class(
            "System.Collections.Generic.Dictionary`2[[System.String],[System.Object]]",
            vec![
                rf("_buckets", 0),
                rf("_entries", 8),
                i32f("_count", 16),
                i32f("_freeCount", 20),
            ],
        ),
        class(
            "System.Collections.Generic.HashSet`1[[System.Int32]]",
            vec![rf("_buckets", 0), rf("_slots", 8), i32f("_count", 16)],
        ),
        class(
            "System.Collections.Generic.Queue`1[[System.Object]]",
            vec![
                rf("_array", 0),
                i32f("_head", 8),
                i32f("_tail", 12),
                i32f("_size", 16),
            ],
        ),
        TypeLayout {
            shape: Shape::Free,
            ..class("Free", Vec::new())
        },
    ];
    layouts.into_iter().map(Arc::new).collect()
}

fuzz_target!(|input: &[u8]| {
    static LAYOUTS: OnceLock<Vec<Arc<TypeLayout>>> = OnceLock::new();
    let layouts = LAYOUTS.get_or_init(layouts);
    // The objects: a count, then (type, claimed size) per object; the rest
    // is the heap's bytes, each object where the sizes before it end (the
    // claimed size is the graph's, which the bytes need not back).
    let Some((&n, rest)) = input.split_first() else {
        return;
    };
    let n = (n as usize % MAX_OBJECTS) + 1;
    if rest.len() < n * 5 {
        return;
    }
    let (heads, mem) = rest.split_at(n * 5);
    let mut b = GraphBuilder::new();
    for l in layouts {
        b.add_type(TypeInfo {
            name: l.name.clone(),
            module: None,
            kind: TypeKind::Object,
            method_table: 0,
        });
    }
    let mut at = BASE;
    for h in heads.chunks_exact(5) {
        let ty = (h[0] as usize % layouts.len()) as TypeIndex;
        let size = u64::from(u32::from_le_bytes([h[1], h[2], h[3], h[4]])).max(8);
        if b.add_node(ty, size, at, []).is_err() {
            return;
        }
        // The next object after this one, as a walk would place it: a
        // claimed size past the bytes leaves the rest unbacked.
        at = at.saturating_add((size + 7) & !7);
    }
    let Ok(graph) = b.finish() else {
        return;
    };
    let heap = BytesReader::new(graph, BASE, mem, layouts.as_slice()).with_method(
        CODE,
        MethodName {
            type_name: "App.Handler".into(),
            method: "OnTick".into(),
            token: 0x0600_0001,
            method_desc: 0x5000,
            via: "fuzz",
        },
    );
    let decode = DecodeOptions::default();
    for node in 0..n as u32 {
        let _ = read_object(&heap, node, ReadOptions::default());
        let _ = string_text(&heap, node, 4096);
        let _ = boxed_value(&heap, node, decode);
        let _ = delegate(&heap, node);
        let _ = collection_fill(&heap, node);
        if let Ok(l) = heap.layout(heap.graph().node_type(node)) {
            let _ = array_elements(&heap, node, &l, 0, 64, decode);
            let _ = array_elements(&heap, node, &l, u64::MAX - 1, u64::MAX, decode);
            let _ = array_is_all_zero(&heap, node, &l);
        }
    }
    let live = |_| true;
    let opts = StringOptions {
        search: Some("a".into()),
        ..StringOptions::default()
    };
    let _ = duplicate_strings(&heap, &live, &opts, &mut NoProgress);
    let _ = collection_waste(&heap, &live, WasteOptions::default(), &mut NoProgress);
});
