//! The rows of the object-contents views' tables in the one table
//! ([`crate::table`]): duplicate strings ([`DuplicateRowView`], the
//! `strings` document's `duplicates`) and wasted collections by type
//! ([`WasteRowView`], the `waste` document's `types`), with their columns,
//! so what they sort by, filter on and write to CSV is tested natively.
//! Each table's default sort is the engine's order, so the rows first show
//! as `heaplens strings|waste --json` lists them.

use crate::format::{bytes, thousands};
use crate::table::{ColumnSpec, Sort, TableRow};
use heaplens_results::strings::{DuplicateDoc, StringsDocument};
use heaplens_results::waste::{WasteDocument, WasteTypeRow};

/// A duplicated string value.
#[derive(Debug, Clone, PartialEq)]
pub struct DuplicateRowView {
    /// Its place in the document (the engine's order).
    pub pos: usize,
    /// The document's row.
    pub dup: DuplicateDoc,
    /// The document carries the text (`values`).
    pub values: bool,
}

impl DuplicateRowView {
    /// The rows of `doc`'s duplicates.
    pub fn rows(doc: &StringsDocument) -> Vec<Self> {
        doc.duplicates
            .iter()
            .enumerate()
            .map(|(pos, d)| DuplicateRowView {
                pos,
                dup: d.clone(),
                values: doc.values,
            })
            .collect()
    }

    /// The value as shown: quoted, `…` when only its start is known; or
    /// its length when the document carries no text.
    pub fn shown(&self) -> String {
        if self.values {
            format!(
                "\"{}{}\"",
                self.dup.text,
                if self.dup.truncated { "…" } else { "" }
            )
        } else {
            format!("({} characters, text not shown)", self.dup.length)
        }
    }

    /// The type holding most copies, with how many (`None`: roots only).
    pub fn holder(&self) -> Option<String> {
        self.dup
            .holder
            .as_ref()
            .map(|h| format!("{} ({})", h.type_name, thousands(h.copies)))
    }

    /// The row in full, for the line under the table.
    pub fn describe(&self) -> String {
        format!(
            "{}  ·  {} characters  ·  held most by {}",
            self.shown(),
            thousands(u64::from(self.dup.length)),
            self.holder().unwrap_or_else(|| "roots only".to_owned())
        )
    }

    /// The columns of the duplicate-strings table.
    pub fn columns() -> Vec<ColumnSpec<DuplicateRowView>> {
        vec![
            ColumnSpec {
                id: "value",
                label: "Value",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| {
                    a.dup
                        .text
                        .cmp(&b.dup.text)
                        .then(a.dup.length.cmp(&b.dup.length))
                }),
                text: |r| r.dup.text.clone(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "length",
                label: "Length",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.dup.length.cmp(&b.dup.length)),
                text: |r| r.dup.length.to_string(),
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "copies",
                label: "Copies",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    (a.dup.copies, a.dup.wasted_bytes).cmp(&(b.dup.copies, b.dup.wasted_bytes))
                }),
                text: |r| r.dup.copies.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "size",
                label: "Size",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    (a.dup.size, a.dup.wasted_bytes).cmp(&(b.dup.size, b.dup.wasted_bytes))
                }),
                text: |r| r.dup.size.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "wasted",
                label: "Wasted",
                numeric: true,
                first_descending: true,
                // The engine's order: wasted bytes, then copies.
                cmp: Some(|a, b| {
                    (a.dup.wasted_bytes, a.dup.copies).cmp(&(b.dup.wasted_bytes, b.dup.copies))
                }),
                text: |r| r.dup.wasted_bytes.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "holder",
                label: "Held most by",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| {
                    let h = |r: &DuplicateRowView| {
                        r.dup
                            .holder
                            .as_ref()
                            .map(|h| (h.type_name.clone(), std::cmp::Reverse(h.copies)))
                    };
                    h(a).cmp(&h(b))
                }),
                text: |r| {
                    r.dup
                        .holder
                        .as_ref()
                        .map(|h| h.type_name.clone())
                        .unwrap_or_default()
                },
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "holder_copies",
                label: "Copies it holds",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    let c = |r: &DuplicateRowView| r.dup.holder.as_ref().map(|h| h.copies);
                    c(a).cmp(&c(b))
                }),
                text: |r| {
                    r.dup
                        .holder
                        .as_ref()
                        .map(|h| h.copies.to_string())
                        .unwrap_or_default()
                },
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "example",
                label: "A copy",
                numeric: false,
                first_descending: false,
                cmp: None,
                text: |r| r.dup.example.address.to_string(),
                visible: true,
                csv: true,
            },
        ]
    }

    /// The engine's order: wasted bytes, largest first.
    pub fn default_sort() -> Sort {
        Sort::new("wasted", true)
    }
}

impl TableRow for DuplicateRowView {
    /// The value's text (empty without values).
    fn filter_text(&self) -> &str {
        &self.dup.text
    }
    fn key(&self) -> String {
        self.pos.to_string()
    }
    fn subtotal(rows: &[Self], order: &[u32]) -> Option<String> {
        let (copies, wasted) = order.iter().fold((0u64, 0u64), |(c, w), &i| {
            let d = &rows[i as usize].dup;
            (c + d.copies, w + d.wasted_bytes)
        });
        Some(format!(
            "{} copies, {} wasted",
            thousands(copies),
            bytes(wasted)
        ))
    }
}

/// A type of wasted collections.
#[derive(Debug, Clone, PartialEq)]
pub struct WasteRowView {
    /// Its place in the document (the engine's order).
    pub pos: usize,
    /// The document's row.
    pub row: WasteTypeRow,
}

impl WasteRowView {
    /// The rows of `doc`'s types.
    pub fn rows(doc: &WasteDocument) -> Vec<Self> {
        doc.types
            .iter()
            .enumerate()
            .map(|(pos, r)| WasteRowView {
                pos,
                row: r.clone(),
            })
            .collect()
    }

    /// Unused slots' bytes and the empty collections' own bytes: what the
    /// engine ranks types by.
    pub fn total(&self) -> u64 {
        self.row.wasted_bytes + self.row.empty_bytes
    }

    /// `list`, `hash set`… (the document's kind with spaces).
    pub fn kind(&self) -> String {
        self.row.kind.replace('_', " ")
    }

    /// The columns of the waste table.
    pub fn columns() -> Vec<ColumnSpec<WasteRowView>> {
        vec![
            ColumnSpec {
                id: "id",
                label: "Id",
                numeric: true,
                first_descending: false,
                cmp: Some(|a, b| a.row.type_id.cmp(&b.row.type_id)),
                text: |r| r.row.type_id.0.to_string(),
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "name",
                label: "Type",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.row.type_name.cmp(&b.row.type_name)),
                text: |r| r.row.type_name.clone(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "kind",
                label: "Kind",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.row.kind.cmp(&b.row.kind)),
                text: |r| r.kind(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "objects",
                label: "Objects",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.objects.cmp(&b.row.objects)),
                text: |r| r.row.objects.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "empty",
                label: "Empty",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    (a.row.empty, a.row.empty_bytes).cmp(&(b.row.empty, b.row.empty_bytes))
                }),
                text: |r| r.row.empty.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "empty_bytes",
                label: "Empty bytes",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.empty_bytes.cmp(&b.row.empty_bytes)),
                text: |r| r.row.empty_bytes.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "count",
                label: "Elements",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.count.cmp(&b.row.count)),
                text: |r| r.row.count.to_string(),
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "capacity",
                label: "Capacity",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.capacity.cmp(&b.row.capacity)),
                text: |r| r.row.capacity.to_string(),
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "fill",
                label: "Fill",
                numeric: true,
                first_descending: false,
                cmp: Some(|a, b| a.row.fill_ratio.total_cmp(&b.row.fill_ratio)),
                text: |r| format!("{:.4}", r.row.fill_ratio),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "all_zero",
                label: "All zero",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.all_zero.cmp(&b.row.all_zero)),
                text: |r| r.row.all_zero.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "wasted",
                label: "Wasted",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.wasted_bytes.cmp(&b.row.wasted_bytes)),
                text: |r| r.row.wasted_bytes.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "total",
                label: "Wasted + empty",
                numeric: true,
                first_descending: true,
                // The engine's order (ties keep it: by type).
                cmp: Some(|a, b| a.total().cmp(&b.total())),
                text: |r| r.total().to_string(),
                visible: true,
                csv: true,
            },
        ]
    }

    /// The engine's order: unused slots and empty collections' bytes,
    /// largest first.
    pub fn default_sort() -> Sort {
        Sort::new("total", true)
    }
}

impl TableRow for WasteRowView {
    fn filter_text(&self) -> &str {
        &self.row.type_name
    }
    fn key(&self) -> String {
        self.pos.to_string()
    }
    fn subtotal(rows: &[Self], order: &[u32]) -> Option<String> {
        let (objects, wasted) = order.iter().fold((0u64, 0u64), |(o, w), &i| {
            let r = &rows[i as usize];
            (o + r.row.objects, w + r.total())
        });
        Some(format!(
            "{} collections, {} wasted",
            thousands(objects),
            bytes(wasted)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::{csv, order, TableView};
    use heaplens_results::object::ObjectRef;
    use heaplens_results::strings::HolderDoc;
    use heaplens_results::{NodeId, TypeId};

    fn dup(text: &str, copies: u64, size: u64, holder: Option<(&str, u64)>) -> DuplicateDoc {
        DuplicateDoc {
            text: text.into(),
            length: text.len() as u32,
            truncated: false,
            copies,
            size,
            wasted_bytes: (copies - 1) * size,
            holder: holder.map(|(n, c)| HolderDoc {
                type_id: TypeId(1),
                type_name: n.into(),
                copies: c,
            }),
            other_holders: Vec::new(),
            example: ObjectRef {
                node: NodeId(copies as u32),
                address: heaplens_results::Address(0x1000 + copies),
                type_id: TypeId(0),
                type_name: "System.String".into(),
            },
        }
    }

    #[test]
    fn duplicate_strings_sort_filter_and_sum_as_written_out_here() {
        // Wasted bytes are (copies − 1) × size.
        let rows: Vec<DuplicateRowView> = [
            dup("GET /api", 11, 40, Some(("Request", 10))),  // 400
            dup("en-US", 21, 20, None),                      // 400
            dup("Content-Type", 5, 50, Some(("Header", 5))), // 200
            dup("api-key", 3, 30, Some(("Header", 2))),      // 60
        ]
        .into_iter()
        .enumerate()
        .map(|(pos, dup)| DuplicateRowView {
            pos,
            dup,
            values: true,
        })
        .collect();
        let cols = DuplicateRowView::columns();
        let default = DuplicateRowView::default_sort();
        // The default sort is by wasted bytes then copies: 400 (21 copies),
        // 400 (11), 200, 60.
        assert_eq!(
            order(&rows, &cols, &TableView::default(), &default),
            [1, 0, 2, 3]
        );
        let view = |sort: &str, desc: bool, filter: &str| TableView {
            sort: Some(Sort::new(sort, desc)),
            filter: filter.into(),
        };
        assert_eq!(
            order(&rows, &cols, &view("copies", false, ""), &default),
            [3, 2, 0, 1]
        );
        // The filter is a regular expression on the value.
        let shown = order(&rows, &cols, &view("value", false, "(?i)^[a-c]"), &default);
        // "Content-Type" before "api-key": byte order, as the CLI sorts.
        assert_eq!(shown, [2, 3]);
        assert_eq!(
            DuplicateRowView::subtotal(&rows, &shown).as_deref(),
            Some("8 copies, 260 B wasted")
        );
        // Holders A to Z, roots only first.
        assert_eq!(
            order(&rows, &cols, &view("holder", false, ""), &default),
            [1, 2, 3, 0]
        );
        assert_eq!(
            csv(&rows, &[3], &cols),
            "Value,Length,Copies,Size,Wasted,Held most by,Copies it holds,A copy\r\n\
             api-key,7,3,30,60,Header,2,0x1003\r\n"
        );
        assert_eq!(rows[1].shown(), "\"en-US\"");
        let hidden = DuplicateRowView {
            values: false,
            ..rows[1].clone()
        };
        assert_eq!(hidden.shown(), "(5 characters, text not shown)");
    }

    fn waste(name: &str, wasted: u64, empty_bytes: u64) -> WasteTypeRow {
        WasteTypeRow {
            type_id: TypeId(name.len() as u32),
            type_name: name.into(),
            kind: "hash_set".into(),
            objects: 2,
            empty: u64::from(empty_bytes > 0),
            empty_bytes,
            count: 1,
            capacity: 4,
            fill_ratio: 0.25,
            wasted_bytes: wasted,
            all_zero: 0,
        }
    }

    #[test]
    fn waste_types_in_the_engines_order_and_by_any_column() {
        // The engine ranks by unused slots + empty collections' bytes.
        let rows: Vec<WasteRowView> = [
            waste("System.Collections.Generic.List<A>", 100, 200), // 300
            waste("System.Int32[]", 250, 0),                       // 250
            waste("System.Collections.Generic.HashSet<B>", 0, 40), // 40
        ]
        .into_iter()
        .enumerate()
        .map(|(pos, row)| WasteRowView { pos, row })
        .collect();
        let cols = WasteRowView::columns();
        let default = WasteRowView::default_sort();
        assert_eq!(
            order(&rows, &cols, &TableView::default(), &default),
            [0, 1, 2]
        );
        let by_slots = TableView {
            sort: Some(Sort::new("wasted", true)),
            filter: "Generic".into(),
        };
        let shown = order(&rows, &cols, &by_slots, &default);
        assert_eq!(shown, [0, 2]);
        assert_eq!(
            WasteRowView::subtotal(&rows, &shown).as_deref(),
            Some("4 collections, 340 B wasted")
        );
        assert_eq!(rows[2].kind(), "hash set");
    }
}
