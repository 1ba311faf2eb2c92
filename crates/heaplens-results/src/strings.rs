//! The `strings` document: duplicate strings and string search
//! (`heaplens strings`; the page's strings view).

use crate::coverage::CoverageFacts;
use crate::object::ObjectRef;
use crate::{heaplens_version, DocumentKind, TypeId, SCHEMA_VERSION};
use heaplens_analysis::stats::TypeGroups;
use heaplens_analysis::strings::{StringOptions, StringReport};
use heaplens_contents::inspect::string_text;
use heaplens_contents::ObjectReader;
use heaplens_snapshot::Snapshot;
use serde::{Deserialize, Serialize};

/// The type referring to a value's copies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderDoc {
    /// Its row id.
    pub type_id: TypeId,
    /// Its name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Copies its objects refer to.
    pub copies: u64,
}

/// A duplicated value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuplicateDoc {
    /// The text (its start when `truncated`; empty without values).
    pub text: String,
    /// Its length in UTF-16 code units.
    pub length: u32,
    /// True when `text` is only its start (or left out).
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub truncated: bool,
    /// Copies.
    pub copies: u64,
    /// Bytes of one copy.
    pub size: u64,
    /// `(copies − 1) × size`.
    pub wasted_bytes: u64,
    /// The type referring to the most copies (`null` when none does: only
    /// roots hold them).
    pub holder: Option<HolderDoc>,
    /// The next types referring to copies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_holders: Vec<HolderDoc>,
    /// One copy.
    pub example: ObjectRef,
}

/// A string containing the text searched for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchDoc {
    /// The string.
    pub object: ObjectRef,
    /// Its length.
    pub length: u32,
    /// Its text (shortened; empty without values).
    pub text: String,
    /// True when `text` is only its start.
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub truncated: bool,
}

/// Duplicate strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StringsDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Strings`].
    pub document: DocumentKind,
    /// The file as it was given.
    pub file: String,
    /// True when the snapshot is the whole heap's.
    pub complete: bool,
    /// How much of the heap the input holds.
    pub coverage: CoverageFacts,
    /// True when the document carries the strings' text.
    pub values: bool,
    /// Live string objects.
    pub strings: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Distinct values.
    pub distinct: u64,
    /// Values with at least `min_copies` copies.
    pub duplicated_values: u64,
    /// Copies beyond the first of each of those.
    pub extra_copies: u64,
    /// Their bytes: freed if each value were kept once.
    pub wasted_bytes: u64,
    /// The least copies listed.
    pub min_copies: u64,
    /// How `holder` is chosen: `referrer` (the type of the objects
    /// referring to the copies; a copy referred to by two types counts for
    /// both).
    pub holder_is: String,
    /// The values wasting the most, most first.
    pub duplicates: Vec<DuplicateDoc>,
    /// The text searched for (`null`: no search).
    pub search: Option<String>,
    /// Strings containing it (the first ones, in address order).
    pub matches: Vec<MatchDoc>,
    /// How many strings contain it.
    pub match_count: u64,
    /// Strings whose bytes the dump lacks.
    pub unreadable: u64,
}

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StringsDocOptions {
    /// Write the strings' text.
    pub values: bool,
    /// Characters of each text.
    pub chars: usize,
}

impl StringsDocument {
    /// The document of `report` (from
    /// [`heaplens_analysis::strings::duplicate_strings`] over `reader`).
    pub fn build(
        file: &str,
        snapshot: &Snapshot,
        reader: &dyn ObjectReader,
        report: &StringReport,
        opts: &StringOptions,
        doc: StringsDocOptions,
    ) -> StringsDocument {
        let g = &snapshot.graph;
        let groups = TypeGroups::of(g);
        let text = |n| match string_text(reader, n, doc.chars) {
            Ok(s) if doc.values => (s.text, s.length, s.truncated),
            Ok(s) => (String::new(), s.length, true),
            Err(_) => (String::new(), 0, true),
        };
        let holder = |(t, c): &(u32, u64)| HolderDoc {
            type_id: TypeId(groups.id_of(*t)),
            type_name: g.type_info(*t).name.clone(),
            copies: *c,
        };
        StringsDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Strings,
            file: file.to_owned(),
            complete: snapshot.info.coverage.is_complete(),
            coverage: CoverageFacts::of(&snapshot.info.coverage),
            values: doc.values,
            strings: report.strings,
            bytes: report.bytes,
            distinct: report.distinct,
            duplicated_values: report.duplicated_values,
            extra_copies: report.extra_copies,
            wasted_bytes: report.wasted_bytes,
            min_copies: opts.min_copies.max(2),
            holder_is: "referrer".into(),
            duplicates: report
                .groups
                .iter()
                .map(|d| {
                    let (text, _, truncated) = text(d.example);
                    DuplicateDoc {
                        text,
                        length: d.length,
                        truncated,
                        copies: d.copies,
                        size: d.size,
                        wasted_bytes: d.wasted_bytes,
                        holder: d.holders.first().map(holder),
                        other_holders: d.holders.iter().skip(1).map(holder).collect(),
                        example: ObjectRef::of(g, &groups, d.example),
                    }
                })
                .collect(),
            search: opts.search.clone(),
            matches: report
                .matches
                .iter()
                .map(|&n| {
                    let (text, length, truncated) = text(n);
                    MatchDoc {
                        object: ObjectRef::of(g, &groups, n),
                        length,
                        text,
                        truncated,
                    }
                })
                .collect(),
            match_count: report.match_count,
            unreadable: report.unreadable,
        }
    }
}
