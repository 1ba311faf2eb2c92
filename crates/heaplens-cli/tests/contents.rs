//! `heaplens object`, `instances`, `strings` and `waste` on the corpus'
//! .NET 8 core, against what DumpLab built (DumpLab.cs: 10,000 `Widget`s
//! with `Id` i and `Label` `widget-%05d`, a `Dictionary<string, Widget>`
//! of 2,000), and on a `.gcdump`, which holds no values.

use heaplens_results::instances::InstancesDocument;
use heaplens_results::object::{ObjectDocument, ObjectKind};
use heaplens_results::strings::StringsDocument;
use heaplens_results::values::ValueDoc;
use heaplens_results::waste::WasteDocument;
use heaplens_results::{DocumentKind, Header, SCHEMA_VERSION};
use serde::de::DeserializeOwned;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_heaplens"))
        .args(args)
        .output()
        .unwrap()
}

fn document<T: DeserializeOwned>(args: &[&str], kind: DocumentKind) -> (T, String) {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let header: Header = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(header.schema_version, SCHEMA_VERSION);
    assert_eq!(header.document, Some(kind), "{args:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let doc = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{args:?}: {e}"));
    (doc, text)
}

fn core() -> Option<PathBuf> {
    let shared = heaplens_corpus::shared_or_skip("the CLI contents tests")?;
    Some(
        heaplens_corpus::unpacked(&shared.join("fixtures/linux-net8/phase1.withheap.core.zst"))
            .unwrap(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn instances_then_object_read_a_widget_as_dumplab_built_it() {
    let Some(core) = core() else { return };
    let (list, _): (InstancesDocument, _) = document(
        &[
            "instances",
            s(&core),
            "--type",
            "DumpLab.Widget",
            "--sort",
            "retained",
            "--limit",
            "5",
            "--json",
        ],
        DocumentKind::Instances,
    );
    assert_eq!(list.count, 10_000);
    assert_eq!(list.objects.len(), 5);
    let retained: Vec<u64> = list
        .objects
        .iter()
        .map(|o| o.retained_bytes.unwrap())
        .collect();
    assert!(retained.windows(2).all(|w| w[0] >= w[1]), "{retained:?}");
    // A page further on starts where the first one ended.
    let (next, _): (InstancesDocument, _) = document(
        &[
            "instances",
            s(&core),
            "--type",
            "DumpLab.Widget",
            "--sort",
            "retained",
            "--offset",
            "4",
            "--limit",
            "2",
            "--json",
        ],
        DocumentKind::Instances,
    );
    assert_eq!(next.objects[0], list.objects[4]);

    let address = list.objects[0].address.to_string();
    let (obj, _): (ObjectDocument, _) = document(
        &["object", s(&core), &address, "--json"],
        DocumentKind::Object,
    );
    assert!(obj.values && obj.contents);
    assert_eq!(obj.kind, ObjectKind::Object);
    assert_eq!(obj.type_name, "DumpLab.Widget");
    let id = match &obj.fields.iter().find(|f| f.name == "Id").unwrap().value {
        ValueDoc::Int { value, .. } => value.parse::<u32>().unwrap(),
        v => panic!("Id: {v:?}"),
    };
    assert!(id < 10_000);
    match &obj.fields.iter().find(|f| f.name == "Label").unwrap().value {
        ValueDoc::Ref {
            string: Some(t), ..
        } => assert_eq!(t.text, format!("widget-{id:05}")),
        v => panic!("Label: {v:?}"),
    }
    // Offsets from the object's address: the MethodTable pointer first.
    assert!(obj.fields.iter().all(|f| f.offset >= 8));
    // Held by the Widget[] (and every fifth by the dictionary), kept alive
    // through the statics: the chain ends at a root.
    assert!(obj.referrer_count >= 1);
    assert!(obj
        .referrers
        .iter()
        .any(|r| r.type_name == "DumpLab.Widget[]"));
    assert_eq!(obj.reachable, Some(true));
    assert!(obj.retained_bytes.unwrap() >= obj.size);
    // The chain ends at an object a root holds (the statics' arrays), or
    // is empty when separate roots reach the widget by separate paths
    // (the array and the dictionary).
    if let Some(top) = obj.dominators.last() {
        assert!(!obj.roots.is_empty(), "{top:?} held by no root");
    }

    // Without values: no value, no text, the structure kept.
    let (bare, text): (ObjectDocument, _) = document(
        &["object", s(&core), &address, "--json", "--no-values"],
        DocumentKind::Object,
    );
    assert!(!bare.values);
    assert!(!text.contains("widget-"), "{text}");
    assert!(bare.fields.iter().all(|f| matches!(
        f.value,
        ValueDoc::Redacted { .. } | ValueDoc::Ref { string: None, .. } | ValueDoc::Null { .. }
    )));
    assert_eq!(bare.referrer_count, obj.referrer_count);

    // An address inside the object is named as such.
    let inside = format!("{:#x}", list.objects[0].address.0 + 8);
    let out = run(&["object", s(&core), &inside]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("inside DumpLab.Widget"));
}

#[test]
fn strings_finds_the_labels_and_waste_the_dictionary() {
    let Some(core) = core() else { return };
    let (doc, _): (StringsDocument, _) = document(
        &["strings", s(&core), "--json", "--search", "widget-0000"],
        DocumentKind::Strings,
    );
    assert!(doc.values);
    // widget-00000 … widget-00009.
    assert_eq!(doc.match_count, 10);
    assert!(doc
        .matches
        .iter()
        .all(|m| m.text.starts_with("widget-0000")));
    assert!(doc.strings >= 10_000 + 5_000 + 2_000);
    assert_eq!(
        doc.wasted_bytes,
        doc.duplicates
            .iter()
            .map(|d| d.wasted_bytes)
            .sum::<u64>()
            .max(doc.wasted_bytes)
    );
    for d in &doc.duplicates {
        assert_eq!(d.wasted_bytes, (d.copies - 1) * d.size);
    }
    let (bare, text): (StringsDocument, _) = document(
        &[
            "strings",
            s(&core),
            "--json",
            "--search",
            "widget-0000",
            "--no-values",
        ],
        DocumentKind::Strings,
    );
    assert!(!bare.values && bare.match_count == 10);
    assert!(bare.matches.iter().all(|m| m.text.is_empty()), "{text}");
    assert!(!text.contains("widget-00001"), "{text}");

    let (waste, _): (WasteDocument, _) =
        document(&["waste", s(&core), "--json"], DocumentKind::Waste);
    let dict = waste
        .types
        .iter()
        .find(|t| {
            t.type_name == "System.Collections.Generic.Dictionary`2[System.String,DumpLab.Widget]"
        })
        .expect("the index dictionary");
    assert_eq!(dict.count, 2000);
    assert!(dict.capacity >= 2000);
    assert!(waste.wasted_bytes >= dict.wasted_bytes);
}

#[test]
fn a_gcdump_has_no_values_and_says_why() {
    let Some(shared) = heaplens_corpus::shared_or_skip("the CLI contents tests") else {
        return;
    };
    let g = shared.join("samples/gcdump/monogcdumprepro-20231108_150515_31024.gcdump");
    let out = run(&["strings", s(&g)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("holds no object contents"));
    // The inspector still shows what a .gcdump records.
    let (list, _): (InstancesDocument, _) = document(
        &[
            "instances",
            s(&g),
            "--type",
            "Microsoft.Maui.Controls.Button",
            "--json",
        ],
        DocumentKind::Instances,
    );
    let address = list.objects[0].address.to_string();
    let (obj, _): (ObjectDocument, _) =
        document(&["object", s(&g), &address, "--json"], DocumentKind::Object);
    assert!(!obj.contents && !obj.values);
    assert!(obj.contents_note.unwrap().contains(".gcdump"));
    assert!(obj.fields.is_empty());
    assert_eq!(obj.type_name, "Microsoft.Maui.Controls.Button");
}
