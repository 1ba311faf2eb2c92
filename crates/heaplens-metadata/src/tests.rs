//! Unit tests on synthetic metadata, written here by a small builder.

use super::*;
use std::collections::BTreeMap;
use tables::layouts;

/// Writes metadata: heaps, tables (rows as column values), the root.
#[derive(Default)]
struct Builder {
    strings: Vec<u8>,
    blobs: Vec<u8>,
    guids: Vec<u8>,
    tables: BTreeMap<TableId, Vec<Vec<u32>>>,
    uncompressed: bool,
    extra_data: bool,
    heap_sizes: u8,
    unsorted: u64,
}

impl Builder {
    fn new() -> Builder {
        Builder {
            strings: vec![0],
            blobs: vec![0],
            ..Default::default()
        }
    }

    fn s(&mut self, s: &str) -> u32 {
        let i = self.strings.len() as u32;
        self.strings.extend_from_slice(s.as_bytes());
        self.strings.push(0);
        i
    }

    fn b(&mut self, b: &[u8]) -> u32 {
        let i = self.blobs.len() as u32;
        assert!(b.len() < 0x80);
        self.blobs.push(b.len() as u8);
        self.blobs.extend_from_slice(b);
        i
    }

    fn g(&mut self, g: [u8; 16]) -> u32 {
        self.guids.extend_from_slice(&g);
        (self.guids.len() / 16) as u32
    }

    fn row(&mut self, t: TableId, cols: &[u32]) -> u32 {
        assert_eq!(cols.len(), tables::schema(t).len(), "{t:?}");
        let v = self.tables.entry(t).or_default();
        v.push(cols.to_vec());
        v.len() as u32
    }

    fn build(&self) -> Vec<u8> {
        let mut rows = [0u32; 64];
        let mut valid = 0u64;
        for (t, r) in &self.tables {
            rows[*t as usize] = r.len() as u32;
            valid |= 1 << *t as u32;
        }
        let w = |bit: u8| if self.heap_sizes & bit != 0 { 4 } else { 2 };
        let lay = layouts(
            &rows,
            tables::HeapWidths {
                string: w(1),
                guid: w(2),
                blob: w(4),
            },
        );
        let mut ts = vec![
            0,
            0,
            0,
            0,
            2,
            0,
            self.heap_sizes | if self.extra_data { 0x40 } else { 0 },
            1,
        ];
        ts.extend(valid.to_le_bytes());
        let sorted = ((1u64 << TableId::NestedClass as u32) | (1 << TableId::GenericParam as u32))
            & !self.unsorted;
        ts.extend(sorted.to_le_bytes());
        for r in self.tables.values() {
            ts.extend((r.len() as u32).to_le_bytes());
        }
        if self.extra_data {
            ts.extend(0xDEAD_BEEFu32.to_le_bytes());
        }
        for (t, r) in &self.tables {
            let l = &lay[*t as usize];
            for row in r {
                for (i, v) in row.iter().enumerate() {
                    let (_, width) = l.cols[i];
                    ts.extend(&v.to_le_bytes()[..usize::from(width)]);
                }
            }
        }
        let table_name = if self.uncompressed { "#-" } else { "#~" };
        let streams: Vec<(&str, &[u8])> = vec![
            (table_name, &ts),
            ("#Strings", &self.strings),
            ("#US", &[0]),
            ("#GUID", &self.guids),
            ("#Blob", &self.blobs),
        ];
        let mut root = b"BSJB".to_vec();
        root.extend(1u16.to_le_bytes());
        root.extend(1u16.to_le_bytes());
        root.extend(0u32.to_le_bytes());
        root.extend(12u32.to_le_bytes());
        root.extend(b"v4.0.30319\0\0");
        root.extend(0u16.to_le_bytes());
        root.extend((streams.len() as u16).to_le_bytes());
        let header_len: usize = streams.iter().map(|(n, _)| 8 + ((n.len() + 4) & !3)).sum();
        let mut offset = root.len() + header_len;
        let mut data = Vec::new();
        for (name, bytes) in &streams {
            let size = (bytes.len() + 3) & !3;
            root.extend((offset as u32).to_le_bytes());
            root.extend((size as u32).to_le_bytes());
            root.extend(name.as_bytes());
            root.extend(vec![0u8; ((name.len() + 4) & !3) - name.len()]);
            data.extend_from_slice(bytes);
            data.resize(data.len() + size - bytes.len(), 0);
            offset += size;
        }
        root.extend(data);
        root
    }
}

/// A small assembly:
/// 1 `<Module>`, 2 `NS.Outer` (fields 1–3), 3 `Inner` in Outer,
/// 4 `Deep` in Inner, 5 `` NS.Gen`2 `` (2 params, field 4), 6 `Other.Plain`
/// (fields 5–7), 7 `` Nested`1 `` in Gen (3 params: T, U, V).
fn sample() -> Builder {
    use TableId as T;
    let mut b = Builder::new();
    let name = b.s("test.dll");
    let mvid = b.g([7; 16]);
    b.row(T::Module, &[0, name, mvid, 0, 0]);
    let asm = b.s("Test");
    let pk = b.b(&[1, 2, 3]);
    b.row(T::Assembly, &[0x8004, 1, 2, 3, 4, 1, pk, asm, 0]);
    let sys = b.s("System");
    let obj = b.s("Object");
    let runtime = b.s("System.Runtime");
    b.row(T::AssemblyRef, &[8, 0, 0, 0, 0, 0, runtime, 0, 0]);
    let tr = b.row(
        T::TypeRef,
        &[
            CodedIndex::ResolutionScope
                .encode(T::AssemblyRef, 1)
                .unwrap(),
            obj,
            sys,
        ],
    );
    let nested_ref = b.s("Enumerator");
    b.row(
        T::TypeRef,
        &[
            CodedIndex::ResolutionScope.encode(T::TypeRef, 1).unwrap(),
            nested_ref,
            0,
        ],
    );
    let extends_obj = CodedIndex::TypeDefOrRef.encode(T::TypeRef, tr).unwrap();
    let ns = b.s("NS");
    let names = [
        "<Module>", "Outer", "Inner", "Deep", "Gen`2", "Plain", "Nested`1",
    ];
    let spaces = [0, ns, 0, 0, ns, b.s("Other"), 0];
    let field_lists = [1, 1, 4, 4, 4, 5, 8];
    for i in 0..7 {
        let n = b.s(names[i]);
        let flags = if spaces[i] == 0 && i > 0 { 2 } else { 1 };
        b.row(
            T::TypeDef,
            &[flags, n, spaces[i], extends_obj, field_lists[i], 1],
        );
    }
    // Fields: Outer: static string s, int32 i, static NS.Outer o;
    // Gen: !0 t; Plain: static Gen<..> g (class inst), static object[] a
    // (with a custom modifier), static ValueTuple v (valuetype inst).
    let sigs: [(u16, &str, Vec<u8>); 7] = [
        (0x16, "s", vec![0x06, element_type::STRING]),
        (0x01, "i", vec![0x06, element_type::I4]),
        (0x16, "o", vec![0x06, element_type::CLASS, 2 << 2]),
        (0x01, "t", vec![0x06, element_type::VAR, 0]),
        (
            0x16,
            "g",
            vec![
                0x06,
                element_type::GENERICINST,
                element_type::CLASS,
                5 << 2,
                2,
                element_type::I4,
                element_type::STRING,
            ],
        ),
        (
            0x16,
            "a",
            vec![
                0x06,
                element_type::CMOD_OPT,
                (1 << 2) | 1,
                element_type::SZARRAY,
                element_type::OBJECT,
            ],
        ),
        (
            0x16,
            "v",
            vec![
                0x06,
                element_type::GENERICINST,
                element_type::VALUETYPE,
                (1 << 2) | 1,
                1,
                element_type::I4,
            ],
        ),
    ];
    for (flags, name, sig) in sigs {
        let n = b.s(name);
        let s = b.b(&sig);
        b.row(T::Field, &[u32::from(flags), n, s]);
    }
    let (m, msig) = (b.s("M"), b.b(&[0, 0, 1]));
    b.row(T::MethodDef, &[0, 0, 0, m, msig, 1]);
    // NestedClass, sorted by the nested type.
    b.row(T::NestedClass, &[3, 2]);
    b.row(T::NestedClass, &[4, 3]);
    b.row(T::NestedClass, &[7, 5]);
    // GenericParam, sorted by owner: Gen (TypeDef 5) T, U; method 1 M0;
    // Nested`1 (TypeDef 7) T, U, V.
    let td = |rid| CodedIndex::TypeOrMethodDef.encode(T::TypeDef, rid).unwrap();
    let md = |rid| {
        CodedIndex::TypeOrMethodDef
            .encode(T::MethodDef, rid)
            .unwrap()
    };
    let mut gp = vec![
        (td(5), 0, "T"),
        (td(5), 1, "U"),
        (md(1), 0, "M0"),
        (td(7), 0, "T"),
        (td(7), 1, "U"),
        (td(7), 2, "V"),
    ];
    gp.sort_by_key(|g| (g.0, g.1));
    for (owner, number, name) in gp {
        let n = b.s(name);
        b.row(T::GenericParam, &[number, 0, owner, n]);
    }
    b
}

#[test]
fn parses_the_root_and_tables() {
    let md = Metadata::parse(sample().build()).unwrap();
    assert_eq!(md.version(), "v4.0.30319");
    assert!(!md.is_uncompressed());
    let names: Vec<&str> = md.streams().iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["#~", "#Strings", "#US", "#GUID", "#Blob"]);
    assert_eq!(md.type_def_count(), 7);
    assert_eq!(md.row_count(TableId::Field), 7);
    assert_eq!(md.row_size(TableId::TypeDef), 14);
    assert_eq!(md.row_size(TableId::Assembly), 22);
    assert_eq!(md.module_name().unwrap(), "test.dll");
    assert_eq!(md.module_mvid().unwrap(), Some([7; 16]));
    let a = md.assembly().unwrap().unwrap();
    assert_eq!(
        (a.name, a.version, a.public_key),
        ("Test", (1, 2, 3, 4), &[1u8, 2, 3][..])
    );
    assert_eq!(md.assembly_name().unwrap(), Some("Test"));
}

#[test]
fn type_names_with_nesting_and_arity() {
    let md = Metadata::parse(sample().build()).unwrap();
    let t = md.type_def(2).unwrap();
    assert_eq!((t.name, t.namespace), ("Outer", "NS"));
    assert_eq!(t.extends, Token::new(TableId::TypeRef, 1));
    assert!(!t.is_nested());
    assert!(md.type_def(3).unwrap().is_nested());
    assert_eq!(md.enclosing_type(1), None);
    assert_eq!(md.enclosing_type(2), None);
    assert_eq!(md.enclosing_type(3), Some(2));
    assert_eq!(md.enclosing_type(4), Some(3));
    assert_eq!(md.enclosing_type(0), None);
    assert_eq!(md.enclosing_type(99), None);
    assert_eq!(md.nested_types(2), vec![3]);
    let full: Vec<String> = (1..=7).map(|r| md.full_type_name(r).unwrap()).collect();
    assert_eq!(
        full,
        [
            "<Module>",
            "NS.Outer",
            "NS.Outer+Inner",
            "NS.Outer+Inner+Deep",
            "NS.Gen`2",
            "Other.Plain",
            "NS.Gen`2+Nested`1"
        ]
    );
    assert_eq!(md.find_type_def("NS.Outer+Inner"), Some(3));
    assert_eq!(md.find_type_def("Inner"), None);
    assert_eq!(md.generic_param_count(5), 2);
    assert_eq!(md.generic_param_count(7), 3);
    assert_eq!(md.generic_param_count(2), 0);
    assert_eq!(md.generic_param_count(0), 0);
    assert_eq!(md.generic_params_of(TableId::MethodDef, 1).len(), 1);
    let gp: Vec<_> = md
        .generic_params_of(TableId::TypeDef, 5)
        .into_iter()
        .map(|r| md.generic_param(r).unwrap())
        .collect();
    assert_eq!((gp[0].name, gp[0].number, gp[1].name), ("T", 0, "U"));
    assert_eq!(gp[0].owner, Token::new(TableId::TypeDef, 5));
    assert_eq!(md.type_ref_full_name(1).unwrap(), "System.Object");
    assert_eq!(
        md.type_ref_full_name(2).unwrap(),
        "System.Object+Enumerator"
    );
    assert!(matches!(
        md.type_def(8),
        Err(MetadataError::RidOutOfRange {
            table: TableId::TypeDef,
            rid: 8,
            rows: 7
        })
    ));
    assert!(md.type_def(0).is_err());
}

#[test]
fn fields_and_their_types() {
    let md = Metadata::parse(sample().build()).unwrap();
    assert_eq!(md.fields(1), 1..1);
    assert_eq!(md.fields(2), 1..4);
    assert_eq!(md.fields(3), 4..4);
    assert_eq!(md.fields(5), 4..5);
    assert_eq!(md.fields(6), 5..8);
    assert_eq!(md.fields(7), 8..8);
    assert_eq!(md.fields(0), 8..8);
    assert_eq!(md.type_fields(6).collect::<Vec<_>>(), vec![5, 6, 7]);
    let f = md.field(1).unwrap();
    assert_eq!(
        (f.name, f.is_static(), f.signature),
        ("s", true, &[0x06, 0x0E][..])
    );
    assert!(md.field_is_static(1).unwrap());
    assert!(!md.field_is_static(2).unwrap());
    let types: Vec<FieldType> = (1..=7).map(|r| md.field_type(r).unwrap()).collect();
    assert_eq!(types[0], FieldType::String);
    assert_eq!(types[1], FieldType::Primitive(element_type::I4));
    assert_eq!(types[2], FieldType::Class(Token::new(TableId::TypeDef, 2)));
    assert_eq!(types[3], FieldType::Var(0));
    assert_eq!(
        types[4],
        FieldType::GenericInst {
            generic_type: Token::new(TableId::TypeDef, 5),
            value_type: false
        }
    );
    assert_eq!(types[5], FieldType::SzArray);
    assert_eq!(
        types[6],
        FieldType::GenericInst {
            generic_type: Token::new(TableId::TypeRef, 1),
            value_type: true
        }
    );
    let refs: Vec<Option<bool>> = types.iter().map(|t| t.is_reference()).collect();
    assert_eq!(
        refs,
        [
            Some(true),
            Some(false),
            Some(true),
            None,
            Some(true),
            Some(true),
            Some(false)
        ]
    );
    assert!(md.field(8).is_err());
}

#[test]
fn uncompressed_stream_with_field_ptr_and_extra_data() {
    let mut b = sample();
    b.uncompressed = true;
    b.extra_data = true;
    // FieldPtr reverses the field list.
    for i in (1..=7).rev() {
        b.row(TableId::FieldPtr, &[i]);
    }
    let md = Metadata::parse(b.build()).unwrap();
    assert!(md.is_uncompressed());
    assert_eq!(md.fields(2), 1..4);
    assert_eq!(md.type_fields(2).collect::<Vec<_>>(), vec![7, 6, 5]);
    assert_eq!(md.field(md.field_list_entry(1)).unwrap().name, "v");
    assert_eq!(md.full_type_name(4).unwrap(), "NS.Outer+Inner+Deep");
}

#[test]
fn unsorted_tables_are_scanned() {
    let mut b = sample();
    b.unsorted = (1 << TableId::NestedClass as u32) | (1 << TableId::GenericParam as u32);
    let rows = b.tables.get_mut(&TableId::NestedClass).unwrap();
    rows.reverse();
    b.tables.get_mut(&TableId::GenericParam).unwrap().reverse();
    let md = Metadata::parse(b.build()).unwrap();
    assert_eq!(md.enclosing_type(3), Some(2));
    assert_eq!(md.enclosing_type(7), Some(5));
    assert_eq!(md.generic_param_count(7), 3);
    assert_eq!(md.full_type_name(7).unwrap(), "NS.Gen`2+Nested`1");
}

#[test]
fn wide_indexes() {
    // Widths written out by hand from ECMA-335 II.24.2.6.
    let mut b = sample();
    b.heap_sizes = 0x07;
    let md = Metadata::parse(b.build()).unwrap();
    // Flags 4, Name 4, Namespace 4, Extends 2, FieldList 2, MethodList 2.
    assert_eq!(md.row_size(TableId::TypeDef), 18);
    assert_eq!(md.full_type_name(3).unwrap(), "NS.Outer+Inner");
    assert_eq!(md.field_type(5).unwrap().is_reference(), Some(true));

    // 16384 TypeRefs: TypeDefOrRef (2 tag bits) needs 4 bytes, a simple
    // index into TypeRef still 2; ResolutionScope (2 bits) also 4.
    let mut b = sample();
    for _ in 0..16382 {
        b.row(TableId::TypeRef, &[0, 0, 0]);
    }
    let md = Metadata::parse(b.build()).unwrap();
    assert_eq!(md.row_count(TableId::TypeRef), 16384);
    assert_eq!(md.row_size(TableId::TypeDef), 16);
    assert_eq!(md.row_size(TableId::TypeRef), 8);
    assert_eq!(md.row_size(TableId::NestedClass), 4);
    // HasCustomAttribute (5 bits) switches at 2048 rows.
    assert_eq!(md.row_size(TableId::CustomAttribute), 4 + 2 + 2);
    assert_eq!(md.full_type_name(4).unwrap(), "NS.Outer+Inner+Deep");
    assert_eq!(
        md.type_def(2).unwrap().extends,
        Token::new(TableId::TypeRef, 1)
    );

    // 65536 Fields: the simple index TypeDef.FieldList becomes 4 bytes.
    let mut b = sample();
    for _ in 0..65529 {
        b.row(TableId::Field, &[0, 0, 0]);
    }
    let md = Metadata::parse(b.build()).unwrap();
    assert_eq!(md.row_size(TableId::TypeDef), 4 + 2 + 2 + 2 + 4 + 2);
    assert_eq!(md.fields(6), 5..8);
    assert_eq!(md.fields(7), 8..65537);
}

#[test]
fn typed_errors() {
    let good = sample().build();
    assert!(matches!(
        Metadata::parse(b"BSJ".to_vec()),
        Err(MetadataError::Truncated { .. })
    ));
    let mut bad = good.clone();
    bad[0] = b'X';
    assert!(matches!(
        Metadata::parse(bad),
        Err(MetadataError::BadSignature { .. })
    ));
    // Unknown table bit (0x2D).
    let mut b = sample();
    b.tables.clear();
    let mut bytes = b.build();
    let ts = rd32(&bytes, 16 + 12 + 4) as usize;
    bytes[ts + 8 + 5] |= 0x20; // bit 45
    assert!(matches!(
        Metadata::parse(bytes),
        Err(MetadataError::UnknownTables { bits }) if bits == 1 << 45
    ));
    // Truncated table data.
    let cut = good.len() - 200;
    assert!(Metadata::parse(good[..cut].to_vec()).is_err());
    let md = Metadata::parse(good).unwrap();
    assert!(matches!(
        md.string(1 << 20),
        Err(MetadataError::BadHeapIndex { .. })
    ));
    assert!(matches!(
        md.blob(1 << 20),
        Err(MetadataError::BadHeapIndex { .. })
    ));
    assert!(matches!(
        md.guid(u32::MAX),
        Err(MetadataError::BadHeapIndex { .. })
    ));
    assert_eq!(md.cell(TableId::TypeDef, 1, 6), None);
    assert_eq!(md.cell(TableId::TypeDef, 8, 0), None);
}

#[test]
fn nesting_cycles_are_an_error() {
    let mut b = sample();
    // Outer (2) nested in Deep (4), which is nested in Inner in Outer.
    b.tables
        .get_mut(&TableId::NestedClass)
        .unwrap()
        .insert(0, vec![2, 4]);
    let md = Metadata::parse(b.build()).unwrap();
    assert!(matches!(
        md.full_type_name(3),
        Err(MetadataError::NestingTooDeep { rid: 3 })
    ));
    assert_eq!(md.full_type_name(5).unwrap(), "NS.Gen`2");
}

#[test]
fn compressed_integers() {
    assert_eq!(decode_compressed(&[0x03]), Some((3, 1)));
    assert_eq!(decode_compressed(&[0x7F]), Some((0x7F, 1)));
    assert_eq!(decode_compressed(&[0x80, 0x80]), Some((0x80, 2)));
    assert_eq!(decode_compressed(&[0xBF, 0xFF]), Some((0x3FFF, 2)));
    assert_eq!(
        decode_compressed(&[0xC0, 0x00, 0x40, 0x00]),
        Some((0x4000, 4))
    );
    assert_eq!(
        decode_compressed(&[0xDF, 0xFF, 0xFF, 0xFF]),
        Some((0x1FFF_FFFF, 4))
    );
    assert_eq!(decode_compressed(&[0xE0]), None);
    assert_eq!(decode_compressed(&[0xC0, 0]), None);
    assert_eq!(decode_compressed(&[]), None);
}

/// Calls everything; only panics matter.
pub(crate) fn exercise(md: &Metadata) {
    let _ = md.module_name();
    let _ = md.module_mvid();
    let _ = md.assembly();
    let n = md.type_def_count().min(3000);
    for rid in 0..=n + 1 {
        let _ = md.type_def(rid);
        let _ = md.full_type_name(rid);
        let _ = md.enclosing_type(rid);
        let _ = md.generic_param_count(rid);
        for f in md.type_fields(rid).take(50) {
            let _ = md.field(f);
            let _ = md.field_type(f);
            let _ = md.field_is_static(f);
        }
        let _ = md.methods(rid);
    }
    for rid in 0..=md.row_count(TableId::TypeRef).min(500) + 1 {
        let _ = md.type_ref_full_name(rid);
    }
    for rid in 0..=md.row_count(TableId::GenericParam).min(500) + 1 {
        let _ = md.generic_param(rid);
    }
    for t in TableId::all() {
        let _ = md.cell(*t, 1, 0);
        let _ = md.cell(*t, md.row_count(*t), 8);
    }
    let _ = md.user_string(1);
    let _ = md.find_type_def("NS.Outer");
}

#[test]
fn random_corruption_does_not_panic() {
    let good = sample().build();
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..5000 {
        let mut b = good.clone();
        for _ in 0..1 + next() % 6 {
            let at = (next() % b.len() as u64) as usize;
            b[at] = next() as u8;
        }
        if let Ok(md) = Metadata::parse(b) {
            exercise(&md);
        }
    }
    for len in 0..good.len() {
        if let Ok(md) = Metadata::parse(good[..len].to_vec()) {
            exercise(&md);
        }
    }
}

#[test]
fn interfaces_and_their_names() {
    use TableId as T;
    let mut b = sample();
    // TypeSpec 1: Gen`2<int32, string> (a generic instantiation).
    let spec = b.b(&[
        element_type::GENERICINST,
        element_type::CLASS,
        5 << 2,
        2,
        element_type::I4,
        element_type::STRING,
    ]);
    b.row(T::TypeSpec, &[spec]);
    // TypeSpec 2: not an instantiation (string[]).
    let arr = b.b(&[element_type::SZARRAY, element_type::STRING]);
    b.row(T::TypeSpec, &[arr]);
    let tdor = |t, rid| CodedIndex::TypeDefOrRef.encode(t, rid).unwrap();
    b.row(T::InterfaceImpl, &[2, tdor(T::TypeRef, 1)]);
    b.row(T::InterfaceImpl, &[2, tdor(T::TypeSpec, 1)]);
    b.row(T::InterfaceImpl, &[6, tdor(T::TypeDef, 3)]);
    b.row(T::InterfaceImpl, &[6, tdor(T::TypeSpec, 2)]);
    let md = Metadata::parse(b.build()).unwrap();
    let names = |rid| -> Vec<Option<String>> {
        md.interface_impls(rid)
            .into_iter()
            .map(|t| md.type_def_or_ref_name(t).ok())
            .collect()
    };
    assert_eq!(
        names(2),
        [
            Some("System.Object".to_owned()),
            Some("NS.Gen`2".to_owned())
        ]
    );
    let plain = names(6);
    assert_eq!(plain[0].as_deref(), Some("NS.Outer+Inner"));
    assert!(plain[1].is_none());
    assert!(names(3).is_empty() && names(0).is_empty());
    assert_eq!(md.type_namespace(4).unwrap(), "NS");
    assert_eq!(md.type_namespace(6).unwrap(), "Other");
}
