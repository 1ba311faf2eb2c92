//! Per-type differences between two snapshots.
//!
//! The diff compares per-type statistics ([`crate::stats`]) of a *base* and
//! a *current* snapshot by type name, so it works for any two inputs, also
//! of different formats: every type whose count or bytes changed is listed
//! with both counts and the count and byte deltas, new types (absent from
//! the base) and vanished types (absent from the current snapshot)
//! included, largest byte change first (like PerfView's Diff, which sorts
//! by absolute exclusive metric). Types present in only one input are the
//! new and vanished ones.
//!
//! Names from different producers differ in spelling (`List<System.Int32>`
//! from EventPipe, ``List`1[System.Int32]`` from the runtime); with
//! [`DiffOptions::normalize_names`] both become `List<System.Int32>` and
//! the size buckets some producers append (` (Bytes > 10K)`) are dropped.
//! The naming rule — normalize when the two inputs spell names differently
//! ([`names_differ_in_spelling`]), or when asked — is
//! [`DiffOptions::with_naming_rule`]; every view (the CLI, the page)
//! diffs through it (`heaplens_results::diff::diff_snapshots`).
//!
//! Each delta lists the rows ([`crate::stats::TypeRow::id`]) it compares
//! on either side, so a view goes from a diff row to a type of either
//! snapshot by id.

use crate::stats::TypeStats;
use heaplens_graph::{Capabilities, TypeIndex};
use std::collections::HashMap;

/// How to compare.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Compare names after [`normalize_type_name`]. Diffing snapshots
    /// turns it on by itself when the naming rule asks for it
    /// ([`DiffOptions::with_naming_rule`]); setting it forces it (the CLI's
    /// `--normalize-names`).
    pub normalize_names: bool,
}

impl DiffOptions {
    /// The naming rule: names are normalized when asked, or when the two
    /// snapshots spell type names differently ([`names_differ_in_spelling`]).
    pub fn with_naming_rule(self, base: Capabilities, current: Capabilities) -> DiffOptions {
        DiffOptions {
            normalize_names: self.normalize_names || names_differ_in_spelling(base, current),
        }
    }
}

/// True when two inputs may spell one type's name differently: one spells
/// names the runtime's way and the other EventPipe's
/// ([`Capabilities::runtime_type_names`]), so a diff must compare them
/// after [`normalize_type_name`].
pub fn names_differ_in_spelling(base: Capabilities, current: Capabilities) -> bool {
    base.runtime_type_names != current.runtime_type_names
}

/// The change of one type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDelta {
    /// The type's name (normalized if asked).
    pub name: String,
    /// The base snapshot's rows of that name ([`crate::stats::TypeRow::id`]),
    /// in the order of its statistics; empty for a new type.
    pub base_types: Vec<TypeIndex>,
    /// The current snapshot's rows of that name; empty for a vanished type.
    pub current_types: Vec<TypeIndex>,
    /// Objects in the base snapshot.
    pub count_base: u64,
    /// Objects in the current snapshot.
    pub count_current: u64,
    /// Bytes in the base snapshot.
    pub bytes_base: u64,
    /// Bytes in the current snapshot.
    pub bytes_current: u64,
    /// Retained bytes in the base snapshot, once computed
    /// ([`TypeDiff::set_retained`]).
    pub retained_base: Option<u64>,
    /// Retained bytes in the current snapshot, once computed.
    pub retained_current: Option<u64>,
}

impl TypeDelta {
    /// Current retained bytes minus base retained bytes, once computed.
    pub fn retained_delta(&self) -> Option<i64> {
        Some(self.retained_current? as i64 - self.retained_base? as i64)
    }

    /// The retained growth in percent of the base's retained bytes (`None`
    /// when not computed, or when the base retains nothing: a new type).
    pub fn retained_delta_percent(&self) -> Option<f64> {
        let base = self.retained_base.filter(|&b| b > 0)?;
        Some(self.retained_delta()? as f64 * 100.0 / base as f64)
    }

    /// Current count minus base count.
    pub fn count_delta(&self) -> i64 {
        self.count_current as i64 - self.count_base as i64
    }

    /// Current bytes minus base bytes.
    pub fn bytes_delta(&self) -> i64 {
        self.bytes_current as i64 - self.bytes_base as i64
    }

    /// True if the base snapshot has no object of the type.
    pub fn is_new(&self) -> bool {
        self.count_base == 0 && self.count_current > 0
    }

    /// True if the current snapshot has no object of the type.
    pub fn is_vanished(&self) -> bool {
        self.count_current == 0 && self.count_base > 0
    }
}

/// The per-type diff of two snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeDiff {
    /// Types whose count or bytes changed, by |bytes delta| descending,
    /// then |count delta| descending, then name.
    pub types: Vec<TypeDelta>,
    /// Types present in both with the same count and bytes (and, once
    /// computed, the same retained bytes).
    pub unchanged: usize,
    /// Those types, by name.
    pub same: Vec<TypeDelta>,
    /// Objects and bytes in the base snapshot.
    pub base: (u64, u64),
    /// Objects and bytes in the current snapshot.
    pub current: (u64, u64),
    /// True when names were compared after [`normalize_type_name`].
    pub names_normalized: bool,
}

impl TypeDiff {
    /// Types absent from the base.
    pub fn new_types(&self) -> impl Iterator<Item = &TypeDelta> {
        self.types.iter().filter(|t| t.is_new())
    }

    /// Types absent from the current snapshot.
    pub fn vanished_types(&self) -> impl Iterator<Item = &TypeDelta> {
        self.types.iter().filter(|t| t.is_vanished())
    }

    /// Total count delta.
    pub fn count_delta(&self) -> i64 {
        self.current.0 as i64 - self.base.0 as i64
    }

    /// Total byte delta.
    pub fn bytes_delta(&self) -> i64 {
        self.current.1 as i64 - self.base.1 as i64
    }

    /// Every type compared: the changed ones ([`TypeDiff::types`]), then
    /// the unchanged ones ([`TypeDiff::same`]).
    pub fn all_types(&self) -> impl Iterator<Item = &TypeDelta> {
        self.types.iter().chain(&self.same)
    }

    /// Gives every type its retained bytes on both sides, `base[i]` and
    /// `current[i]` for the `i`-th of [`TypeDiff::all_types`]. A type whose
    /// count and bytes did not change but whose retained bytes did (a
    /// collection whose contents grew) moves to the changed types, last;
    /// sort them after.
    pub fn set_retained(&mut self, base: &[u64], current: &[u64]) {
        for (i, d) in self.types.iter_mut().chain(&mut self.same).enumerate() {
            d.retained_base = base.get(i).copied();
            d.retained_current = current.get(i).copied();
        }
        let (moved, stay): (Vec<TypeDelta>, Vec<TypeDelta>) = std::mem::take(&mut self.same)
            .into_iter()
            .partition(|d| d.retained_base != d.retained_current);
        self.types.extend(moved);
        self.same = stay;
        self.unchanged = self.same.len();
    }

    /// Orders the changed types.
    pub fn sort(&mut self, order: DiffOrder) {
        sort(&mut self.types, order);
    }
}

/// Diffs two sets of type statistics by type name (rows with the same name
/// are added together).
pub fn diff_type_stats(base: &TypeStats, current: &TypeStats, options: DiffOptions) -> TypeDiff {
    let key = |name: &str| {
        if options.normalize_names {
            normalize_type_name(name)
        } else {
            name.to_owned()
        }
    };
    let mut by_name: HashMap<String, TypeDelta> = HashMap::new();
    for (stats, is_base) in [(base, true), (current, false)] {
        for r in &stats.rows {
            let name = key(&r.name);
            let d = by_name.entry(name.clone()).or_insert_with(|| TypeDelta {
                name,
                base_types: Vec::new(),
                current_types: Vec::new(),
                count_base: 0,
                count_current: 0,
                bytes_base: 0,
                bytes_current: 0,
                retained_base: None,
                retained_current: None,
            });
            if is_base {
                d.base_types.push(r.id);
                d.count_base += r.count;
                d.bytes_base += r.bytes;
            } else {
                d.current_types.push(r.id);
                d.count_current += r.count;
                d.bytes_current += r.bytes;
            }
        }
    }
    let (mut types, mut same): (Vec<TypeDelta>, Vec<TypeDelta>) = by_name
        .into_values()
        .partition(|d| d.count_delta() != 0 || d.bytes_delta() != 0);
    same.sort_by(|a, b| a.name.cmp(&b.name));
    sort(&mut types, DiffOrder::Bytes);
    TypeDiff {
        unchanged: same.len(),
        types,
        same,
        base: (base.objects, base.bytes),
        current: (current.objects, current.bytes),
        names_normalized: options.normalize_names,
    }
}

/// How the changed types are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffOrder {
    /// |bytes delta| descending, then |count delta|, then name (PerfView's
    /// Diff order).
    Bytes,
    /// |count delta| descending, then |bytes delta|, then name.
    Count,
    /// Retained growth: retained delta descending (growth first, shrinkage
    /// last), then current retained bytes descending (so of a holder and
    /// what it holds, which grow alike, the holder comes first), then
    /// |bytes delta|, then name. Needs [`TypeDiff::set_retained`].
    RetainedGrowth,
}

fn sort(types: &mut [TypeDelta], order: DiffOrder) {
    let bytes = |d: &TypeDelta| d.bytes_delta().unsigned_abs();
    let count = |d: &TypeDelta| d.count_delta().unsigned_abs();
    types.sort_by(|a, b| match order {
        DiffOrder::Bytes => bytes(b)
            .cmp(&bytes(a))
            .then(count(b).cmp(&count(a)))
            .then_with(|| a.name.cmp(&b.name)),
        DiffOrder::Count => count(b)
            .cmp(&count(a))
            .then(bytes(b).cmp(&bytes(a)))
            .then_with(|| a.name.cmp(&b.name)),
        DiffOrder::RetainedGrowth => b
            .retained_delta()
            .unwrap_or(0)
            .cmp(&a.retained_delta().unwrap_or(0))
            .then(b.retained_current.cmp(&a.retained_current))
            .then(bytes(b).cmp(&bytes(a)))
            .then_with(|| a.name.cmp(&b.name)),
    });
}

/// One spelling for a type name whatever produced it: generic arguments in
/// angle brackets without arity (``Dictionary`2[System.String,System.Int32]``
/// becomes `Dictionary<System.String,System.Int32>`; array brackets stay),
/// and no size bucket suffix (` (Bytes > 10K)`, ` (Bytes > 1K,Ptrs,ElemSize=8)`,
/// ` (NoPtrs,ElemSize=1)`).
pub fn normalize_type_name(name: &str) -> String {
    let mut s = name;
    if let Some(open) = s.rfind(" (") {
        let tail = &s[open + 2..];
        if tail.ends_with(')') && (tail.starts_with("Bytes > ") || tail.contains("ElemSize=")) {
            s = &s[..open];
        }
    }
    let chars: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    // true: a generic argument list (shown as < >); false: array brackets.
    let mut open: Vec<bool> = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_digit() {
                j += 1;
            }
            if j > i + 1 {
                if chars.get(j) == Some(&'[') {
                    out.push('<');
                    open.push(true);
                    i = j + 1;
                } else {
                    i = j;
                }
                continue;
            }
        }
        match c {
            '[' => {
                open.push(false);
                out.push('[');
            }
            ']' => out.push(if open.pop() == Some(true) { '>' } else { ']' }),
            _ => out.push(c),
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::{Totals, TypeRow};

    fn stats(rows: &[(&str, u64, u64)]) -> TypeStats {
        TypeStats {
            rows: rows
                .iter()
                .enumerate()
                .map(|(i, &(name, count, bytes))| TypeRow {
                    id: i as TypeIndex,
                    name: name.into(),
                    module: None,
                    method_table: 0,
                    count,
                    bytes,
                    present: count,
                })
                .collect(),
            objects: rows.iter().map(|r| r.1).sum(),
            bytes: rows.iter().map(|r| r.2).sum(),
            free: Totals::default(),
            unreachable: None,
            pseudo_nodes: 0,
            undefined_nodes: 0,
            scaled: false,
        }
    }

    #[test]
    fn deltas_new_vanished_and_order() {
        let base = stats(&[("A", 10, 100), ("B", 1, 24), ("C", 5, 50), ("A", 1, 8)]);
        let cur = stats(&[("A", 12, 140), ("C", 5, 50), ("D", 3, 300), ("E", 2, 16)]);
        let d = diff_type_stats(&base, &cur, DiffOptions::default());
        let got: Vec<(&str, i64, i64)> = d
            .types
            .iter()
            .map(|t| (t.name.as_str(), t.count_delta(), t.bytes_delta()))
            .collect();
        assert_eq!(
            got,
            vec![("D", 3, 300), ("A", 1, 32), ("B", -1, -24), ("E", 2, 16)]
        );
        assert_eq!(d.unchanged, 1);
        assert_eq!(
            d.new_types().map(|t| &t.name[..]).collect::<Vec<_>>(),
            ["D", "E"]
        );
        assert_eq!(d.vanished_types().count(), 1);
        assert_eq!(d.bytes_delta(), 506 - 182);
        assert_eq!(d.count_delta(), 22 - 17);
        let a = &d.types[1];
        assert_eq!((a.count_base, a.count_current), (11, 12));
        // "A" is rows 0 and 3 of the base, row 0 of the current stats.
        assert_eq!(
            (a.base_types.clone(), a.current_types.clone()),
            (vec![0, 3], vec![0])
        );
        let new = &d.types[0];
        assert!(new.base_types.is_empty() && new.current_types == [2]);
        assert!(!d.names_normalized);
    }

    #[test]
    fn the_naming_rule_normalizes_across_spellings_or_when_asked() {
        let spelled = |runtime_type_names| Capabilities {
            runtime_type_names,
            ..Capabilities::NONE
        };
        let (eventpipe, runtime) = (spelled(false), spelled(true));
        let auto = DiffOptions::default();
        assert!(!auto.with_naming_rule(runtime, runtime).normalize_names);
        assert!(auto.with_naming_rule(eventpipe, runtime).normalize_names);
        assert!(auto.with_naming_rule(runtime, eventpipe).normalize_names);
        let forced = DiffOptions {
            normalize_names: true,
        };
        assert!(
            forced
                .with_naming_rule(eventpipe, eventpipe)
                .normalize_names
        );
    }

    #[test]
    fn names_normalize_across_producers() {
        assert_eq!(
            normalize_type_name("System.Collections.Generic.Dictionary`2[System.String,System.Collections.Generic.List`1[System.Int32]]"),
            "System.Collections.Generic.Dictionary<System.String,System.Collections.Generic.List<System.Int32>>"
        );
        assert_eq!(
            normalize_type_name("System.Collections.Generic.List`1[System.Int32][]"),
            "System.Collections.Generic.List<System.Int32>[]"
        );
        assert_eq!(normalize_type_name("System.Int32[,]"), "System.Int32[,]");
        assert_eq!(
            normalize_type_name("System.Byte[] (Bytes > 10K)"),
            "System.Byte[]"
        );
        assert_eq!(
            normalize_type_name("System.Object[] (Bytes > 1K,Ptrs,ElemSize=8)"),
            "System.Object[]"
        );
        assert_eq!(normalize_type_name("Foo (bar)"), "Foo (bar)");
        assert_eq!(normalize_type_name("A`x"), "A`x");
        let base = stats(&[("List`1[System.Int32]", 1, 32)]);
        let cur = stats(&[("List<System.Int32>", 2, 64)]);
        let d = diff_type_stats(
            &base,
            &cur,
            DiffOptions {
                normalize_names: true,
            },
        );
        assert_eq!(d.types.len(), 1);
        assert_eq!(d.types[0].count_delta(), 1);
    }
}
