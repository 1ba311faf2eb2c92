//! The one table every table of the page is: columns that know how to
//! compare and write their rows, a view (sort and filter) kept in the app's
//! state and the URL, the order of the rows under that view, and the same
//! rows as CSV or as text for the clipboard. Plain Rust: the Yew component
//! that renders it (`ui::table`) adds only the cells' markup.
//!
//! The rows of the page's tables live here too ([`TypeRowView`],
//! [`DiffRowView`]) with their columns, so what a table sorts by and what
//! its CSV holds is tested natively.

use heaplens_results::diff::{DiffDocument, DiffRow, DiffStatus};
use heaplens_results::stats::{StatsDocument, TypeStatsRow};
use heaplens_results::TypeId;
use std::cmp::Ordering;
use std::collections::HashMap;

/// A row of a table.
pub trait TableRow: 'static {
    /// What the filter matches: the type name, as the CLI's `--filter`.
    fn filter_text(&self) -> &str;
    /// A key that names the row in its table (for the page's markup).
    fn key(&self) -> String;
    /// The rows at `order` summed up for people ("1,234 objects, 5.6 MB"),
    /// shown beside the count of a filtered table; `None`: nothing to sum.
    fn subtotal(_rows: &[Self], _order: &[u32]) -> Option<String>
    where
        Self: Sized,
    {
        None
    }
}

/// The rows of a group table (a dump's types grouped, or a comparison's):
/// made from the engine's table, in its order, with their columns. One
/// component shows either (`ui::groups`).
pub trait GroupRows: TableRow + Clone + Sized {
    /// The engine's table.
    type Table: Clone + PartialEq + 'static;
    /// The rows of `table`, in its order.
    fn rows(table: &Self::Table) -> Vec<Self>;
    /// What the engine says about `table` (groups it could not make…).
    fn notes(table: &Self::Table) -> &[String];
    /// The columns.
    fn columns() -> Vec<ColumnSpec<Self>>;
    /// The engine's order.
    fn default_sort() -> Sort;
}

/// The table's filter, read as the CLI reads `--filter`: a regular
/// expression of the `regex` crate, matched anywhere in the name, case
/// sensitive (`(?i)` makes it not). Spaces around it are dropped. Text that
/// is not a valid expression is matched literally, and the error says why.
#[derive(Debug, Clone)]
pub struct Filter {
    re: Option<regex::Regex>,
    /// Why the text is not a valid regular expression (it is then matched
    /// as plain text).
    pub error: Option<String>,
}

impl Filter {
    /// The filter of `text` (empty: every row).
    pub fn new(text: &str) -> Filter {
        let text = text.trim();
        if text.is_empty() {
            return Filter {
                re: None,
                error: None,
            };
        }
        match regex::Regex::new(text) {
            Ok(re) => Filter {
                re: Some(re),
                error: None,
            },
            Err(e) => Filter {
                re: regex::Regex::new(&regex::escape(text)).ok(),
                error: Some(e.to_string()),
            },
        }
    }

    /// Whether the filter keeps a row whose name is `text`.
    pub fn matches(&self, text: &str) -> bool {
        self.re.as_ref().is_none_or(|re| re.is_match(text))
    }

    /// Whether it keeps every row.
    pub fn is_empty(&self) -> bool {
        self.re.is_none()
    }
}

/// One column: its id (in the URL and element ids), its heading, how it
/// sorts and what it writes to CSV and the clipboard.
pub struct ColumnSpec<R> {
    /// Stable id (`bytes`).
    pub id: &'static str,
    /// Heading (`Bytes`).
    pub label: &'static str,
    /// Right-aligned numbers.
    pub numeric: bool,
    /// The first click on the heading sorts descending (numbers: largest
    /// first).
    pub first_descending: bool,
    /// Rows compare by it, ascending; `None`: the column does not sort.
    pub cmp: Option<fn(&R, &R) -> Ordering>,
    /// The cell as text (CSV, clipboard).
    pub text: fn(&R) -> String,
    /// Shown in the table.
    pub visible: bool,
    /// Written to CSV and the clipboard.
    pub csv: bool,
}

/// How a table is sorted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// The column's id.
    pub column: String,
    /// Largest (or Z) first.
    pub descending: bool,
}

impl Sort {
    /// Sorted by `column`.
    pub fn new(column: &str, descending: bool) -> Sort {
        Sort {
            column: column.to_owned(),
            descending,
        }
    }

    /// `bytes-desc`, as the URL writes it.
    pub fn to_param(&self) -> String {
        format!(
            "{}-{}",
            self.column,
            if self.descending { "desc" } else { "asc" }
        )
    }

    /// Reads [`Sort::to_param`].
    pub fn from_param(s: &str) -> Option<Sort> {
        let (col, dir) = s.rsplit_once('-')?;
        let descending = match dir {
            "desc" => true,
            "asc" => false,
            _ => return None,
        };
        (!col.is_empty()).then(|| Sort::new(col, descending))
    }
}

/// What a table shows of its rows: the sort (`None`: the table's default)
/// and the filter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableView {
    /// The sort asked for.
    pub sort: Option<Sort>,
    /// Rows whose [`TableRow::filter_text`] matches this regular
    /// expression (see [`Filter`]).
    pub filter: String,
}

impl TableView {
    /// The view after a click on the heading of `column`: sorted by it in
    /// its first direction, or the other direction when it already is.
    pub fn clicked<R>(&self, column: &ColumnSpec<R>, default: &Sort) -> TableView {
        let now = self.sort.as_ref().unwrap_or(default);
        let sort = if now.column == column.id {
            Sort::new(column.id, !now.descending)
        } else {
            Sort::new(column.id, column.first_descending)
        };
        TableView {
            sort: Some(sort),
            filter: self.filter.clone(),
        }
    }
}

/// The positions of `rows` that `view` shows, in its order. Ties keep the
/// rows' own order (the engine's: by bytes).
pub fn order<R: TableRow>(
    rows: &[R],
    columns: &[ColumnSpec<R>],
    view: &TableView,
    default: &Sort,
) -> Vec<u32> {
    let filter = Filter::new(&view.filter);
    let mut order: Vec<u32> = (0..rows.len() as u32)
        .filter(|&i| filter.matches(rows[i as usize].filter_text()))
        .collect();
    let sort = view.sort.as_ref().unwrap_or(default);
    let cmp = columns
        .iter()
        .find(|c| c.id == sort.column)
        .or_else(|| columns.iter().find(|c| c.id == default.column))
        .and_then(|c| c.cmp);
    if let Some(cmp) = cmp {
        let desc = sort.descending;
        order.sort_by(|&a, &b| {
            let o = cmp(&rows[a as usize], &rows[b as usize]);
            let o = if desc { o.reverse() } else { o };
            o.then(a.cmp(&b))
        });
    }
    order
}

/// One CSV field (RFC 4180: quoted when it holds a comma, quote or line
/// break).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The rows at `order` as CSV: a heading line, then one line per row, every
/// column (also those only in CSV), lines ending in CRLF.
pub fn csv<R>(rows: &[R], order: &[u32], columns: &[ColumnSpec<R>]) -> String {
    let mut out = String::new();
    let line = |cells: Vec<String>| cells.join(",") + "\r\n";
    out.push_str(&line(columns.iter().map(|c| csv_field(c.label)).collect()));
    for &i in order {
        let r = &rows[i as usize];
        out.push_str(&line(
            columns.iter().map(|c| csv_field(&(c.text)(r))).collect(),
        ));
    }
    out
}

/// A row as text for the clipboard: `Heading: value` per column, tab
/// separated, on one line.
pub fn row_text<R>(row: &R, columns: &[ColumnSpec<R>]) -> String {
    columns
        .iter()
        .filter(|c| c.csv)
        .map(|c| format!("{}: {}", c.label, (c.text)(row)))
        .collect::<Vec<_>>()
        .join("\t")
}

/// A row of a dump's type table: its `stats` row, its share of the heap and
/// its retained size once known.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeRowView {
    /// The row's id.
    pub id: TypeId,
    /// The type's name.
    pub name: String,
    /// Its module, when known.
    pub module: Option<String>,
    /// Its MethodTable, when known (hex).
    pub mt: Option<String>,
    /// Objects.
    pub count: u64,
    /// Bytes.
    pub bytes: u64,
    /// Share of the heap's bytes, in percent.
    pub share: f64,
    /// Bytes relative to the largest row, in percent (the bar).
    pub bar: f64,
    /// Retained bytes: `None` while not known, `Some(None)` for a type with
    /// no reachable object.
    pub retained: Option<Option<u64>>,
    /// PerfView's inclusive bytes (`Inc`), once the analysis is in.
    pub inc: Option<u64>,
    /// PerfView's inclusive count (`Inc Ct`), once the analysis is in.
    pub inc_count: Option<u64>,
    /// Retained bytes in percent of the bytes the roots hold, once known.
    pub retained_pct: Option<f64>,
    /// With folds: the bytes and objects of folded types counted with this
    /// row (PerfView's Fold and Fold Ct; `count` and `bytes` include them).
    pub fold: Option<(u64, u64)>,
    /// Another row has the same name (two MethodTables of one name: the
    /// page shows their MethodTables to tell them apart).
    pub same_name: bool,
}

impl TypeRowView {
    /// The rows of `stats`, with retained sizes by id once known and the
    /// inclusive and retained columns of `columns` (the analysis's `stats`
    /// document with them, rows joined by id).
    pub fn rows(
        stats: &StatsDocument,
        retained: Option<&HashMap<TypeId, u64>>,
        columns: Option<&StatsDocument>,
    ) -> Vec<Self> {
        let cols: HashMap<TypeId, &heaplens_results::stats::TypeStatsRow> = columns
            .map(|c| c.types.iter().map(|r| (r.id, r)).collect())
            .unwrap_or_default();
        let retained_total = columns.and_then(|c| c.retained_total).filter(|&t| t > 0);
        let max = stats
            .types
            .iter()
            .map(|r| r.bytes + r.fold_bytes.unwrap_or(0))
            .max()
            .unwrap_or(1)
            .max(1);
        let mut names: HashMap<&str, u32> = HashMap::new();
        for r in &stats.types {
            *names.entry(&r.name).or_default() += 1;
        }
        stats
            .types
            .iter()
            .map(|r| TypeRowView {
                id: r.id,
                name: r.name.clone(),
                module: r.module.clone(),
                mt: r.mt.map(|a| a.to_string()),
                count: r.count + r.fold_count.unwrap_or(0),
                bytes: r.bytes + r.fold_bytes.unwrap_or(0),
                share: stats.percent(r)
                    + match stats.bytes {
                        0 => 0.0,
                        t => r.fold_bytes.unwrap_or(0) as f64 * 100.0 / t as f64,
                    },
                bar: (r.bytes + r.fold_bytes.unwrap_or(0)) as f64 * 100.0 / max as f64,
                retained: retained.map(|m| m.get(&r.id).copied()),
                inc: cols.get(&r.id).and_then(|c| c.inc),
                inc_count: cols.get(&r.id).and_then(|c| c.inc_count),
                retained_pct: retained
                    .zip(retained_total)
                    .map(|(m, t)| m.get(&r.id).copied().unwrap_or(0) as f64 * 100.0 / t as f64),
                same_name: names[r.name.as_str()] > 1,
                fold: r.fold_bytes.zip(r.fold_count),
            })
            .collect()
    }

    /// The columns of the type table with folds: [`TypeRowView::columns`]
    /// with Fold and Fold Ct after the bytes.
    pub fn columns_folded() -> Vec<ColumnSpec<TypeRowView>> {
        let mut cols = Self::columns();
        let at = cols
            .iter()
            .position(|c| c.id == "share")
            .unwrap_or(cols.len());
        cols.insert(
            at,
            ColumnSpec {
                id: "fold",
                label: "Fold",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    let f = |r: &TypeRowView| r.fold.unwrap_or((0, 0));
                    f(a).cmp(&f(b))
                }),
                text: |r| r.fold.map(|f| f.0.to_string()).unwrap_or_default(),
                visible: true,
                csv: true,
            },
        );
        cols.insert(
            at + 1,
            ColumnSpec {
                id: "fold_count",
                label: "Fold Ct",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    let f = |r: &TypeRowView| r.fold.map(|f| (f.1, f.0)).unwrap_or((0, 0));
                    f(a).cmp(&f(b))
                }),
                text: |r| r.fold.map(|f| f.1.to_string()).unwrap_or_default(),
                visible: true,
                csv: true,
            },
        );
        cols
    }

    /// The columns of the type table.
    pub fn columns() -> Vec<ColumnSpec<TypeRowView>> {
        vec![
            ColumnSpec {
                id: "id",
                label: "Id",
                numeric: true,
                first_descending: false,
                cmp: Some(|a, b| a.id.cmp(&b.id)),
                text: |r| r.id.0.to_string(),
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "name",
                label: "Type",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.name.cmp(&b.name)),
                text: |r| r.name.clone(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "module",
                label: "Module",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.module.cmp(&b.module)),
                text: |r| r.module.clone().unwrap_or_default(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "count",
                label: "Count",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.count.cmp(&b.count).then(a.bytes.cmp(&b.bytes))),
                text: |r| r.count.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "bytes",
                label: "Bytes",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.bytes.cmp(&b.bytes).then(a.count.cmp(&b.count))),
                text: |r| r.bytes.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "share",
                label: "% of heap",
                numeric: true,
                first_descending: true,
                cmp: None,
                text: |r| format!("{:.2}", r.share),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "retained",
                label: "Retained",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    let r = |x: &TypeRowView| x.retained.flatten().unwrap_or(0);
                    r(a).cmp(&r(b)).then(a.bytes.cmp(&b.bytes))
                }),
                text: |r| match r.retained {
                    Some(Some(b)) => b.to_string(),
                    _ => String::new(),
                },
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "retained_pct",
                label: "Retained %",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    let r = |x: &TypeRowView| x.retained.flatten().unwrap_or(0);
                    r(a).cmp(&r(b)).then(a.bytes.cmp(&b.bytes))
                }),
                text: |r| {
                    r.retained_pct
                        .map(|p| format!("{p:.2}"))
                        .unwrap_or_default()
                },
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "inc",
                label: "Inc",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.inc.cmp(&b.inc).then(a.bytes.cmp(&b.bytes))),
                text: |r| r.inc.map(|v| v.to_string()).unwrap_or_default(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "inc_count",
                label: "Inc Ct",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.inc_count.cmp(&b.inc_count).then(a.inc.cmp(&b.inc))),
                text: |r| r.inc_count.map(|v| v.to_string()).unwrap_or_default(),
                visible: true,
                csv: true,
            },
        ]
    }

    /// The type table's default sort: bytes, largest first.
    pub fn default_sort() -> Sort {
        Sort::new("bytes", true)
    }
}

impl TableRow for TypeRowView {
    fn filter_text(&self) -> &str {
        &self.name
    }
    fn key(&self) -> String {
        self.id.0.to_string()
    }
    fn subtotal(rows: &[Self], order: &[u32]) -> Option<String> {
        let (count, bytes) = order.iter().fold((0u64, 0u64), |(c, b), &i| {
            let r = &rows[i as usize];
            (c + r.count, b + r.bytes)
        });
        Some(format!(
            "{} objects, {}",
            crate::format::thousands(count),
            crate::format::bytes(bytes)
        ))
    }
}

/// A row of a comparison's table.
#[derive(Debug, Clone, PartialEq)]
pub struct DiffRowView {
    /// The diff's row.
    pub row: DiffRow,
}

impl DiffRowView {
    /// The rows of `diff`.
    pub fn rows(diff: &DiffDocument) -> Vec<Self> {
        diff.types
            .iter()
            .map(|r| DiffRowView { row: r.clone() })
            .collect()
    }

    /// `new`, `vanished` or `changed`.
    pub fn status(&self) -> &'static str {
        match self.row.status {
            DiffStatus::New => "new",
            DiffStatus::Vanished => "vanished",
            DiffStatus::Changed => "changed",
        }
    }

    /// The columns of the comparison's table.
    pub fn columns() -> Vec<ColumnSpec<DiffRowView>> {
        vec![
            ColumnSpec {
                id: "name",
                label: "Type",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.row.name.cmp(&b.row.name)),
                text: |r| r.row.name.clone(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "status",
                label: "Change",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.status().cmp(b.status())),
                text: |r| r.status().to_owned(),
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "bytes_delta",
                label: "Δ Bytes",
                numeric: true,
                first_descending: true,
                // Growth first: bytes gained, then objects gained, then
                // the name A to Z.
                cmp: Some(|a, b| {
                    a.row
                        .bytes_delta
                        .cmp(&b.row.bytes_delta)
                        .then(a.row.count_delta.cmp(&b.row.count_delta))
                        .then_with(|| b.row.name.cmp(&a.row.name))
                }),
                text: |r| r.row.bytes_delta.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "count_delta",
                label: "Δ Count",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    a.row
                        .count_delta
                        .cmp(&b.row.count_delta)
                        .then(a.row.bytes_delta.cmp(&b.row.bytes_delta))
                }),
                text: |r| r.row.count_delta.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "retained_delta",
                label: "Δ Retained",
                numeric: true,
                first_descending: true,
                // The engine's retained growth order: Δ retained, then the
                // current retained bytes (a holder before what it holds),
                // then |Δ bytes|, then the name A to Z.
                cmp: Some(|a, b| {
                    a.row
                        .retained_delta
                        .cmp(&b.row.retained_delta)
                        .then(a.row.retained_current.cmp(&b.row.retained_current))
                        .then(
                            a.row
                                .bytes_delta
                                .unsigned_abs()
                                .cmp(&b.row.bytes_delta.unsigned_abs()),
                        )
                        .then_with(|| b.row.name.cmp(&a.row.name))
                }),
                text: |r| {
                    r.row
                        .retained_delta
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                },
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "retained_delta_pct",
                label: "Δ Retained %",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    let p = |x: &DiffRowView| x.row.retained_delta_percent().unwrap_or(f64::MAX);
                    p(a).total_cmp(&p(b))
                }),
                text: |r| match (r.row.retained_delta_percent(), r.row.retained_delta) {
                    (Some(p), _) => format!("{p:.1}"),
                    (None, Some(_)) => "new".to_owned(),
                    _ => String::new(),
                },
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "retained_current",
                label: "Retained now",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.retained_current.cmp(&b.row.retained_current)),
                text: |r| {
                    r.row
                        .retained_current
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                },
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "count_base",
                label: "Count before",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.count_base.cmp(&b.row.count_base)),
                text: |r| r.row.count_base.to_string(),
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "count_current",
                label: "Count now",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.count_current.cmp(&b.row.count_current)),
                text: |r| r.row.count_current.to_string(),
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "counts",
                label: "Count before → now",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    a.row
                        .count_current
                        .cmp(&b.row.count_current)
                        .then(a.row.count_base.cmp(&b.row.count_base))
                }),
                text: |r| format!("{} → {}", r.row.count_base, r.row.count_current),
                visible: true,
                csv: false,
            },
            ColumnSpec {
                id: "bytes_base",
                label: "Bytes before",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.bytes_base.cmp(&b.row.bytes_base)),
                text: |r| r.row.bytes_base.to_string(),
                visible: false,
                csv: true,
            },
            ColumnSpec {
                id: "bytes_current",
                label: "Bytes now",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.bytes_current.cmp(&b.row.bytes_current)),
                text: |r| r.row.bytes_current.to_string(),
                visible: true,
                csv: true,
            },
        ]
    }

    /// The comparison's default sort: what grew most first — by retained
    /// bytes once both dumps' retained sizes are in (`retained`), else by
    /// bytes.
    pub fn default_sort(retained: bool) -> Sort {
        if retained {
            Sort::new("retained_delta", true)
        } else {
            Sort::new("bytes_delta", true)
        }
    }
}

impl TableRow for DiffRowView {
    fn filter_text(&self) -> &str {
        &self.row.name
    }
    fn subtotal(rows: &[Self], order: &[u32]) -> Option<String> {
        let (count, bytes) = order.iter().fold((0i64, 0i64), |(c, b), &i| {
            let r = &rows[i as usize].row;
            (c + r.count_delta, b + r.bytes_delta)
        });
        Some(format!(
            "{} objects, {}",
            crate::format::signed_thousands(count),
            crate::format::signed_bytes(bytes)
        ))
    }
    fn key(&self) -> String {
        self.row.id.to_string()
    }
}

/// A row of a dump's grouped type table (a `stats` group row).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRowView {
    /// Its place in the group table.
    pub pos: usize,
    /// The group's row.
    pub row: heaplens_results::groups::GroupRow,
}

fn opt(v: Option<u64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl GroupRowView {
    /// The rows of `table`.
    pub fn rows(table: &heaplens_results::groups::GroupTable) -> Vec<Self> {
        table
            .rows
            .iter()
            .enumerate()
            .map(|(pos, r)| GroupRowView {
                pos,
                row: r.clone(),
            })
            .collect()
    }

    /// The columns of the grouped type table.
    pub fn columns() -> Vec<ColumnSpec<GroupRowView>> {
        vec![
            ColumnSpec {
                id: "name",
                label: "Group",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.row.name.cmp(&b.row.name)),
                text: |r| r.row.name.clone(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "types",
                label: "Types",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.type_ids.len().cmp(&b.row.type_ids.len())),
                text: |r| r.row.type_ids.len().to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "count",
                label: "Count",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.count.cmp(&b.row.count)),
                text: |r| r.row.count.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "bytes",
                label: "Bytes",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.bytes.cmp(&b.row.bytes)),
                text: |r| r.row.bytes.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "retained",
                label: "Retained",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    a.row
                        .retained_bytes
                        .cmp(&b.row.retained_bytes)
                        .then(a.row.bytes.cmp(&b.row.bytes))
                }),
                text: |r| opt(r.row.retained_bytes),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "inc",
                label: "Inc",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.inc.cmp(&b.row.inc)),
                text: |r| opt(r.row.inc),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "inc_count",
                label: "Inc Ct",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.inc_count.cmp(&b.row.inc_count)),
                text: |r| opt(r.row.inc_count),
                visible: true,
                csv: true,
            },
        ]
    }

    /// The engine's order: retained bytes, largest first.
    pub fn default_sort() -> Sort {
        Sort::new("retained", true)
    }
}

/// A group's name is what the filter matches, as the CLI's `--filter`
/// reads a type's (case sensitive; `(?i)` makes it not).
impl TableRow for GroupRowView {
    fn filter_text(&self) -> &str {
        &self.row.name
    }
    fn key(&self) -> String {
        self.pos.to_string()
    }
}

impl GroupRows for GroupRowView {
    type Table = heaplens_results::groups::GroupTable;
    fn rows(table: &Self::Table) -> Vec<Self> {
        GroupRowView::rows(table)
    }
    fn notes(table: &Self::Table) -> &[String] {
        &table.notes
    }
    fn columns() -> Vec<ColumnSpec<Self>> {
        GroupRowView::columns()
    }
    fn default_sort() -> Sort {
        GroupRowView::default_sort()
    }
}

/// A type of a comparison's group: its objects and bytes in each dump (rows
/// of one name in a dump summed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMember {
    /// The type's name.
    pub name: String,
    /// Its first row in the baseline, if there.
    pub base_id: Option<TypeId>,
    /// Its first row in the current dump, if there.
    pub current_id: Option<TypeId>,
    /// Objects in the baseline.
    pub count_base: u64,
    /// Objects in the current dump.
    pub count_current: u64,
    /// Bytes in the baseline.
    pub bytes_base: u64,
    /// Bytes in the current dump.
    pub bytes_current: u64,
}

impl GroupMember {
    /// Bytes, current minus baseline.
    pub fn bytes_delta(&self) -> i64 {
        self.bytes_current as i64 - self.bytes_base as i64
    }
}

/// A row of the comparison's grouped table (a `diff` group row).
#[derive(Debug, Clone, PartialEq)]
pub struct DiffGroupRowView {
    /// Its place in the group table.
    pub pos: usize,
    /// The group's row.
    pub row: heaplens_results::groups::DiffGroupRow,
}

impl DiffGroupRowView {
    /// The group's types (its rows in each dump, `base` and `current`
    /// giving a dump's row of an id), matched by name: the largest change
    /// in bytes first, then by name.
    pub fn members<'a>(
        &self,
        base: impl Fn(TypeId) -> Option<&'a TypeStatsRow>,
        current: impl Fn(TypeId) -> Option<&'a TypeStatsRow>,
    ) -> Vec<GroupMember> {
        let mut by_name: HashMap<&str, GroupMember> = HashMap::new();
        let sides = [
            (
                &self.row.base_type_ids,
                &base as &dyn Fn(TypeId) -> Option<&'a TypeStatsRow>,
                false,
            ),
            (&self.row.current_type_ids, &current, true),
        ];
        for (ids, row_of, is_current) in sides {
            for r in ids.iter().filter_map(|&t| row_of(t)) {
                let m = by_name.entry(&r.name).or_insert_with(|| GroupMember {
                    name: r.name.clone(),
                    base_id: None,
                    current_id: None,
                    count_base: 0,
                    count_current: 0,
                    bytes_base: 0,
                    bytes_current: 0,
                });
                if is_current {
                    m.current_id.get_or_insert(r.id);
                    m.count_current += r.count;
                    m.bytes_current += r.bytes;
                } else {
                    m.base_id.get_or_insert(r.id);
                    m.count_base += r.count;
                    m.bytes_base += r.bytes;
                }
            }
        }
        let mut members: Vec<GroupMember> = by_name.into_values().collect();
        members.sort_by(|a, b| {
            b.bytes_delta()
                .unsigned_abs()
                .cmp(&a.bytes_delta().unsigned_abs())
                .then_with(|| a.name.cmp(&b.name))
        });
        members
    }

    /// The rows of `table`.
    pub fn rows(table: &heaplens_results::groups::DiffGroupTable) -> Vec<Self> {
        table
            .rows
            .iter()
            .enumerate()
            .map(|(pos, r)| DiffGroupRowView {
                pos,
                row: r.clone(),
            })
            .collect()
    }

    /// The columns of the comparison's grouped table.
    pub fn columns() -> Vec<ColumnSpec<DiffGroupRowView>> {
        vec![
            ColumnSpec {
                id: "name",
                label: "Group",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.row.name.cmp(&b.row.name)),
                text: |r| r.row.name.clone(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "retained_delta",
                label: "Δ Retained",
                numeric: true,
                first_descending: true,
                // The engine's order (see `DiffGroupTable`).
                cmp: Some(|a, b| b.pos.cmp(&a.pos)),
                text: |r| {
                    r.row
                        .retained_delta
                        .map(|d| d.to_string())
                        .unwrap_or_default()
                },
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "bytes_delta",
                label: "Δ Bytes",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.bytes_delta.cmp(&b.row.bytes_delta)),
                text: |r| r.row.bytes_delta.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "count_delta",
                label: "Δ Count",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.count_delta.cmp(&b.row.count_delta)),
                text: |r| r.row.count_delta.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "counts",
                label: "Count before → now",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.row.count_current.cmp(&b.row.count_current)),
                text: |r| format!("{} → {}", r.row.count_base, r.row.count_current),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "types",
                label: "Types",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| {
                    a.row
                        .current_type_ids
                        .len()
                        .cmp(&b.row.current_type_ids.len())
                }),
                text: |r| {
                    format!(
                        "{} → {}",
                        r.row.base_type_ids.len(),
                        r.row.current_type_ids.len()
                    )
                },
                visible: true,
                csv: true,
            },
        ]
    }

    /// The engine's order: retained growth first.
    pub fn default_sort() -> Sort {
        Sort::new("retained_delta", true)
    }
}

impl TableRow for DiffGroupRowView {
    fn filter_text(&self) -> &str {
        &self.row.name
    }
    fn key(&self) -> String {
        self.pos.to_string()
    }
}

impl GroupRows for DiffGroupRowView {
    type Table = heaplens_results::groups::DiffGroupTable;
    fn rows(table: &Self::Table) -> Vec<Self> {
        DiffGroupRowView::rows(table)
    }
    fn notes(table: &Self::Table) -> &[String] {
        &table.notes
    }
    fn columns() -> Vec<ColumnSpec<Self>> {
        DiffGroupRowView::columns()
    }
    fn default_sort() -> Sort {
        DiffGroupRowView::default_sort()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R(&'static str, u64);
    impl TableRow for R {
        fn filter_text(&self) -> &str {
            self.0
        }
        fn key(&self) -> String {
            self.0.to_owned()
        }
    }
    fn r(n: &'static str, v: u64) -> R {
        R(n, v)
    }
    fn cols() -> Vec<ColumnSpec<R>> {
        vec![
            ColumnSpec {
                id: "name",
                label: "Name",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.0.cmp(b.0)),
                text: |r| r.0.to_owned(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "v",
                label: "Value",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.1.cmp(&b.1)),
                text: |r| r.1.to_string(),
                visible: true,
                csv: true,
            },
        ]
    }

    #[test]
    fn sorts_filters_and_keeps_ties_in_order() {
        let rows = [r("b", 2), r("A, \"x\"", 5), r("c", 2), r("Ab", 1)];
        let c = cols();
        let default = Sort::new("v", true);
        let all = TableView::default();
        // Largest first; the two 2s keep their own order (b before c).
        assert_eq!(order(&rows, &c, &all, &default), [1, 0, 2, 3]);
        let asc = TableView {
            sort: Some(Sort::new("v", false)),
            ..all.clone()
        };
        assert_eq!(order(&rows, &c, &asc, &default), [3, 0, 2, 1]);
        let by_name = all.clicked(&c[0], &default);
        assert_eq!(by_name.sort, Some(Sort::new("name", false)));
        assert_eq!(order(&rows, &c, &by_name, &default), [1, 3, 0, 2]);
        // A second click turns it round.
        assert_eq!(
            by_name.clicked(&c[0], &default).sort,
            Some(Sort::new("name", true))
        );
        let filtered = TableView {
            filter: " A".into(),
            ..all
        };
        assert_eq!(order(&rows, &c, &filtered, &default), [1, 3]);
        // An unknown column in a URL falls back to the default.
        let odd = TableView {
            sort: Some(Sort::new("nope", false)),
            filter: String::new(),
        };
        assert_eq!(order(&rows, &c, &odd, &default), [3, 0, 2, 1]);
    }

    #[test]
    fn the_filter_is_the_clis_regular_expression() {
        let names = [
            "System.Collections.Generic.List<System.String>",
            "System.String",
            "System.Collections.Generic.Dictionary<System.String, System.Int32>",
            "MyApp.StringCache",
            "System.Int32[]",
        ];
        let rows: Vec<R> = names.iter().map(|&n| r(n, 1)).collect();
        let c = cols();
        let default = Sort::new("v", true);
        let shown = |f: &str| {
            let view = TableView {
                sort: None,
                filter: f.into(),
            };
            order(&rows, &c, &view, &default)
        };
        // What `regex::Regex::new(f)?.is_match(name)` keeps, as the CLI's
        // `--filter` (written out here, not computed by the code).
        assert_eq!(
            shown(r"^System\.Collections\.Generic\.(List|Dictionary)<"),
            [0, 2]
        );
        assert_eq!(shown("String$"), [1]);
        assert_eq!(shown(r"\[\]$"), [4]);
        // Case sensitive, as the CLI; `(?i)` is not.
        assert_eq!(shown("string"), Vec::<u32>::new());
        assert_eq!(shown("(?i)stringcache"), [3]);
        // Not a valid expression: matched as plain text, and the error says so.
        let f = Filter::new("Int32[");
        assert!(f.error.is_some());
        assert_eq!(shown("Int32["), [4]);
        assert!(Filter::new("  ").is_empty() && Filter::new("a|b").error.is_none());
    }

    #[test]
    fn subtotals_of_the_rows_shown() {
        let stats_rows = [(3u64, 2_000u64), (5, 947_820), (7, 1)];
        let rows: Vec<TypeRowView> = stats_rows
            .iter()
            .enumerate()
            .map(|(i, &(count, bytes))| TypeRowView {
                id: TypeId(i as u32),
                name: format!("T{i}"),
                module: None,
                mt: None,
                count,
                bytes,
                share: 0.0,
                bar: 0.0,
                retained: None,
                inc: None,
                inc_count: None,
                retained_pct: None,
                same_name: false,
                fold: None,
            })
            .collect();
        assert_eq!(
            TypeRowView::subtotal(&rows, &[0, 1]).as_deref(),
            Some("8 objects, 950 kB")
        );
    }

    #[test]
    fn csv_quotes_and_row_text() {
        let rows = [r("A, \"x\"", 5), r("b", 2)];
        let c = cols();
        assert_eq!(
            csv(&rows, &[1, 0], &c),
            "Name,Value\r\nb,2\r\n\"A, \"\"x\"\"\",5\r\n"
        );
        assert_eq!(row_text(&rows[1], &c), "Name: b\tValue: 2");
    }

    #[test]
    fn sort_params_round_trip() {
        let s = Sort::new("bytes_delta", true);
        assert_eq!(s.to_param(), "bytes_delta-desc");
        assert_eq!(Sort::from_param("bytes_delta-desc"), Some(s));
        assert_eq!(Sort::from_param("name-asc"), Some(Sort::new("name", false)));
        assert_eq!(Sort::from_param("name"), None);
        assert_eq!(Sort::from_param("-desc"), None);
    }

    #[test]
    fn a_group_tables_filter_is_the_clis_regular_expression_on_the_name() {
        let table: heaplens_results::groups::GroupTable =
            serde_json::from_value(serde_json::json!({
                "by": "namespace", "overlapping": false, "notes": [],
                "rows": [
                    { "name": "System.Collections.Generic", "type_ids": [1], "count": 3, "bytes": 90 },
                    { "name": "MyApp.Telemetry", "type_ids": [2], "count": 1, "bytes": 400 },
                    { "name": "System", "type_ids": [3], "count": 9, "bytes": 300 }
                ]
            }))
            .expect("a group table");
        let rows = <GroupRowView as GroupRows>::rows(&table);
        let cols = <GroupRowView as GroupRows>::columns();
        let shown = |f: &str| {
            let view = TableView {
                sort: Some(Sort::new("bytes", true)),
                filter: f.into(),
            };
            order(&rows, &cols, &view, &GroupRowView::default_sort())
        };
        // Case sensitive, as `heaplens stats --filter`; `(?i)` is not.
        assert_eq!(shown("^System"), [2, 0]);
        assert_eq!(shown("system"), Vec::<u32>::new());
        assert_eq!(shown("(?i)telemetry"), [1]);
    }

    #[test]
    fn a_comparison_group_lists_its_types_matched_by_name() {
        let row = |id: u32, name: &str, count: u64, bytes: u64| TypeStatsRow {
            id: TypeId(id),
            name: name.into(),
            module: None,
            mt: None,
            count,
            bytes,
            present: count,
            inc: None,
            inc_count: None,
            retained_bytes: None,
            fold_bytes: None,
            fold_count: None,
        };
        // Baseline: A (two rows of one name), B; current: A, C (new).
        let base = [row(1, "A", 2, 48), row(2, "A", 1, 24), row(3, "B", 5, 100)];
        let current = [row(7, "A", 10, 240), row(8, "C", 1, 4000)];
        let group: heaplens_results::groups::DiffGroupRow =
            serde_json::from_value(serde_json::json!({
                "name": "ITelemetry",
                "base_type_ids": [1, 2, 3],
                "current_type_ids": [7, 8],
                "count_base": 8, "count_current": 11, "bytes_base": 172, "bytes_current": 4240,
                "count_delta": 3, "bytes_delta": 4068
            }))
            .expect("a group row");
        let view = DiffGroupRowView { pos: 0, row: group };
        let m = view.members(
            |t| base.iter().find(|r| r.id == t),
            |t| current.iter().find(|r| r.id == t),
        );
        type Seen<'a> = (&'a str, Option<u32>, Option<u32>, u64, u64, i64);
        let got: Vec<Seen> = m
            .iter()
            .map(|m| {
                (
                    m.name.as_str(),
                    m.base_id.map(|t| t.0),
                    m.current_id.map(|t| t.0),
                    m.count_base,
                    m.count_current,
                    m.bytes_delta(),
                )
            })
            .collect();
        // C +4000, A +168 (240 − 72), B −100: by the size of the change.
        assert_eq!(
            got,
            [
                ("C", None, Some(8), 0, 1, 4000),
                ("A", Some(1), Some(7), 3, 10, 168),
                ("B", Some(3), None, 5, 0, -100),
            ]
        );
        // The members add up to the group.
        let sum: i64 = m.iter().map(GroupMember::bytes_delta).sum();
        assert_eq!(sum, view.row.bytes_delta);
    }
}

/// A row of the type statistics of a dump read without its graph (the
/// `counts` document: every object, garbage included).
#[derive(Debug, Clone, PartialEq)]
pub struct CountsRowView {
    /// The type's name.
    pub name: String,
    /// Its module.
    pub module: Option<String>,
    /// Its MethodTable (hex), when the input has one.
    pub mt: Option<String>,
    /// Objects.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Percent of the bytes of every row.
    pub share: f64,
}

impl CountsRowView {
    /// The rows of `doc`, in its order (by bytes).
    pub fn rows(doc: &heaplens_results::counts::CountsDocument) -> Vec<CountsRowView> {
        let total = doc.bytes.max(1) as f64;
        doc.types
            .iter()
            .map(|r| CountsRowView {
                name: r.name.clone(),
                module: r.module.clone(),
                mt: r.mt.map(|m| format!("{:#x}", m.0)),
                count: r.count,
                bytes: r.bytes,
                share: r.bytes as f64 * 100.0 / total,
            })
            .collect()
    }

    /// The columns: type, module, MethodTable, count, bytes, share.
    pub fn columns() -> Vec<ColumnSpec<CountsRowView>> {
        vec![
            ColumnSpec {
                id: "name",
                label: "Type",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.name.cmp(&b.name)),
                text: |r| r.name.clone(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "module",
                label: "Module",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.module.cmp(&b.module)),
                text: |r| r.module.clone().unwrap_or_default(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "mt",
                label: "MethodTable",
                numeric: false,
                first_descending: false,
                cmp: Some(|a, b| a.mt.cmp(&b.mt)),
                text: |r| r.mt.clone().unwrap_or_default(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "count",
                label: "Count",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.count.cmp(&b.count).then(a.bytes.cmp(&b.bytes))),
                text: |r| r.count.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "bytes",
                label: "Bytes",
                numeric: true,
                first_descending: true,
                cmp: Some(|a, b| a.bytes.cmp(&b.bytes).then(a.count.cmp(&b.count))),
                text: |r| r.bytes.to_string(),
                visible: true,
                csv: true,
            },
            ColumnSpec {
                id: "share",
                label: "% of objects' bytes",
                numeric: true,
                first_descending: true,
                cmp: None,
                text: |r| format!("{:.2}", r.share),
                visible: true,
                csv: true,
            },
        ]
    }
}

impl TableRow for CountsRowView {
    fn filter_text(&self) -> &str {
        &self.name
    }
    fn key(&self) -> String {
        match &self.mt {
            Some(mt) => mt.clone(),
            None => self.name.clone(),
        }
    }
    fn subtotal(rows: &[Self], order: &[u32]) -> Option<String> {
        let (count, bytes) = order.iter().fold((0u64, 0u64), |(c, b), &i| {
            let r = &rows[i as usize];
            (c + r.count, b + r.bytes)
        });
        Some(format!(
            "{} objects, {}",
            crate::format::thousands(count),
            crate::format::bytes(bytes)
        ))
    }
}
