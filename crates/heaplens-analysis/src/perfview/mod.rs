//! PerfView's view of a heap snapshot, reproduced number for number.
//!
//! PerfView shows a heap as one sample per node, whose frame is the node's
//! type named `module!ShortName` (module file name without extension, with
//! common `System.` namespaces removed), and whose "stack" is the node's path
//! to the root in a spanning tree of the graph. The pieces, in data-flow
//! order:
//!
//! * [`spanning`]: the spanning tree (PerfView's best-first traversal with
//!   type priorities, f32 arithmetic and its own heap), giving every node
//!   one parent and the order in which samples are emitted; [`rooted`]
//!   gives a graph without a root node (a dump of process memory) the
//!   pseudo-nodes a `.gcdump` has, so the same traversal applies to it;
//! * [`stacks`]: the samples and stacks of one snapshot (or of the diff of
//!   two) as a [`stacks::StackSource`];
//! * [`filter`]: grouping, folding, exclusion and inclusion patterns
//!   ([`filter::FilterParams`], with PerfView's memory-window defaults);
//! * [`calltree`]: the RefTree (call tree) with exclusive, inclusive and
//!   fold columns, Fold %, and the By Name view.
//!
//! [`by_name_exclusive`] is a shortcut for the raw By Name exclusive
//! columns, which need no spanning tree: it sums, per frame name, the bytes
//! (Exc) and nodes (Exc Ct) — pseudo-nodes included, with size 0 and count 1.

pub mod calltree;
pub mod filter;
pub mod pattern;
pub mod rooted;
pub mod spanning;
pub mod stacks;

use heaplens_graph::{HeapGraph, Sampling, TypeIndex};
use std::collections::HashMap;

/// The frame name of unreachable nodes' extra parent.
pub const NOT_REACHABLE: &str = "[not reachable from roots]";

/// PerfView's short module name: the file name after the last `\`, `/` or
/// `:`, without its extension — but only when the name contains a path
/// separator; an empty result becomes `?`.
pub fn short_module(module: &str) -> String {
    let m = if module.contains(['\\', '/']) {
        let file = module.rsplit(['\\', '/', ':']).next().unwrap_or(module);
        match file.rfind('.') {
            Some(dot) => &file[..dot],
            None => file,
        }
    } else {
        module
    };
    if m.is_empty() {
        "?".to_owned()
    } else {
        m.to_owned()
    }
}

/// Removes `System.Collections.Generic.`, `System.Collections.Concurrent.`,
/// `System.Collections.ObjectModel.`, `System.Collections.`,
/// `System.Threading.` and `System.` wherever they occur, repeatedly, as
/// PerfView's `ShortenNameSpaces` does (`System.` matched exactly, what
/// follows it case-insensitively).
pub fn shorten_namespaces(name: &str) -> String {
    let mut s = name.to_owned();
    let follows = |s: &str, at: usize, word: &str| {
        s.get(at..at + word.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(word))
    };
    while let Some(i) = s.find("System.") {
        let after = i + 7;
        let cut = if follows(&s, after, "Collections.") {
            let after2 = after + 12;
            if follows(&s, after2, "Generic.") {
                27
            } else if follows(&s, after2, "Concurrent.") {
                30
            } else if follows(&s, after2, "ObjectModel.") {
                31
            } else {
                19
            }
        } else if follows(&s, after, "Threading.") {
            17
        } else {
            7
        };
        s.replace_range(i..i + cut, "");
    }
    s
}

/// A type's frame name as PerfView's stack viewer shows it.
pub fn frame_name(g: &HeapGraph, t: TypeIndex) -> String {
    let info = g.type_info(t);
    match g.type_module(t) {
        None => info.name.clone(),
        Some(m) => format!("{}!{}", short_module(m), shorten_namespaces(&info.name)),
    }
}

/// One row of PerfView's By Name view (exclusive columns).
#[derive(Debug, Clone, PartialEq)]
pub struct ByNameRow {
    /// Frame name.
    pub name: String,
    /// Exclusive metric (bytes).
    pub exc: f64,
    /// Exclusive count.
    pub exc_count: f64,
}

/// PerfView's raw By Name view (exclusive columns).
#[derive(Debug, Clone, PartialEq)]
pub struct ByNameView {
    /// One row per frame name, sorted by |Exc| descending.
    pub rows: Vec<ByNameRow>,
    /// Exc Ct of the `ROOT` row: PerfView's frame index 0 is ROOT, and the
    /// graph's type 0 (`UNDEFINED`) maps to it, so undefined nodes are
    /// counted there and not as a row of their own.
    pub root_exc_count: f64,
    /// Number of rows PerfView lists: `ROOT`, the rows above, and
    /// `[not reachable from roots]` when some node is not reachable from
    /// the root node.
    pub row_count: usize,
}

impl ByNameView {
    /// The totals line: (metric, count) over all rows and ROOT.
    pub fn totals(&self) -> (f64, f64) {
        let metric = self.rows.iter().map(|r| r.exc).sum();
        let count = self.rows.iter().map(|r| r.exc_count).sum::<f64>() + self.root_exc_count;
        (metric, count)
    }
}

/// Computes PerfView's raw By Name view (no grouping, folding or
/// exclusion): one sample per node, with its size as metric (both scaled by
/// the type's multiplier on a sampled heap).
pub fn by_name_exclusive(g: &HeapGraph, sampling: Option<&Sampling>) -> ByNameView {
    let frames: Vec<String> = (0..g.types().len() as TypeIndex)
        .map(|t| frame_name(g, t))
        .collect();
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut rows: Vec<ByNameRow> = Vec::new();
    let mut root_exc_count = 0.0;
    for n in 0..g.node_count() as u32 {
        let t = g.node_type(n);
        let m = sampling.map_or(1.0, |s| s.multiplier(t) as f64);
        if t == 0 {
            root_exc_count += m;
            continue;
        }
        let f = frames[t as usize].as_str();
        let i = *index.entry(f).or_insert_with(|| {
            rows.push(ByNameRow {
                name: f.to_owned(),
                exc: 0.0,
                exc_count: 0.0,
            });
            rows.len() - 1
        });
        rows[i].exc += g.node_size(n) as f64 * m;
        rows[i].exc_count += m;
    }
    let unreachable = match g.root_node() {
        Some(root) => {
            // PerfView's traversal follows edges from the root node only.
            let mut seen = vec![false; g.node_count()];
            seen[root as usize] = true;
            let mut stack = vec![root];
            while let Some(x) = stack.pop() {
                for &c in g.children(x) {
                    if !seen[c as usize] {
                        seen[c as usize] = true;
                        stack.push(c);
                    }
                }
            }
            seen.iter().any(|s| !s)
        }
        None => g.node_count() > 0,
    };
    rows.sort_by(|a, b| b.exc.abs().total_cmp(&a.exc.abs()));
    let row_count = rows.len() + 1 + usize::from(unreachable);
    ByNameView {
        rows,
        root_exc_count,
        row_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_are_shortened_like_perfview() {
        assert_eq!(shorten_namespaces("System.String"), "String");
        assert_eq!(
            shorten_namespaces(
                "System.Collections.Generic.Dictionary<System.String,System.Collections.Generic.List<System.Int32>>"
            ),
            "Dictionary<String,List<Int32>>"
        );
        assert_eq!(
            shorten_namespaces("System.Collections.Concurrent.ConcurrentDictionary<System.Reflection.MemberInfo,System.ComponentModel.TypeConverter>"),
            "ConcurrentDictionary<Reflection.MemberInfo,ComponentModel.TypeConverter>"
        );
        assert_eq!(
            shorten_namespaces("System.Collections.ObjectModel.Collection<X>"),
            "Collection<X>"
        );
        assert_eq!(
            shorten_namespaces("System.Collections.Hashtable"),
            "Hashtable"
        );
        assert_eq!(
            shorten_namespaces("System.Threading.Tasks.Task"),
            "Tasks.Task"
        );
        assert_eq!(
            shorten_namespaces("Microsoft.Maui.Controls.Setter"),
            "Microsoft.Maui.Controls.Setter"
        );
        // Case-insensitive after `System.`; `System.` itself is case-sensitive.
        assert_eq!(shorten_namespaces("System.collections.generic.X"), "X");
        assert_eq!(shorten_namespaces("system.X"), "system.X");
        // Repeated application can join pieces into a new match.
        assert_eq!(
            shorten_namespaces("SystemSystem..X"),
            "System.X".replace("System.", "")
        );
    }

    #[test]
    fn modules_are_shortened_like_perfview_on_windows() {
        assert_eq!(
            short_module(r"C:\Program Files\dotnet\System.Private.CoreLib.dll"),
            "System.Private.CoreLib"
        );
        assert_eq!(short_module("/data/app/Mono.Android.dll"), "Mono.Android");
        assert_eq!(
            short_module("System.Private.CoreLib.dll"),
            "System.Private.CoreLib.dll"
        );
        assert_eq!(short_module("Module(0x7ff0)"), "Module(0x7ff0)");
        assert_eq!(short_module("/x/"), "?");
        assert_eq!(short_module(""), "?");
        assert_eq!(short_module(r"C:\x\noext"), "noext");
    }
}
