//! ECMA-335 metadata: the root and stream headers, the tables and heaps,
//! type, field and generic-parameter rows, names and signatures.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(md) = heaplens_metadata::Metadata::parse(data.to_vec()) else {
        return;
    };
    let _ = md.module_name();
    let _ = md.assembly_name();
    for rid in 1..=md.type_def_count().min(256) {
        let _ = md.full_type_name(rid);
        let _ = md.nested_types(rid);
        let _ = md.generic_param_count(rid);
        for f in md.type_fields(rid).take(64) {
            let _ = md.field(f);
            let _ = md.field_type(f);
        }
    }
    for rid in 1..=md.row_count(heaplens_metadata::TableId::TypeRef).min(256) {
        let _ = md.type_ref_full_name(rid);
    }
});
