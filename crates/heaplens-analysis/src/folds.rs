//! Folds, as PerfView's FoldPats: the objects of some types disappear into
//! their referrers.
//!
//! In PerfView a folded frame's cost goes to its caller in the spanning
//! tree: an array, a string, a boxed value is counted with the object that
//! holds it (the memory window folds `[]` by default). Here the frames of a
//! flame graph's tree ([`crate::flame`]) are folded the same way: each
//! frame of a folded type hands its own objects to its nearest ancestor
//! frame of a type that is not folded — over PerfView's spanning tree for
//! the flame graph by inclusive size, over the dominator tree for the one
//! by retained size. Objects with no such ancestor (a folded type held
//! straight by a root) go to the roots.

use crate::flame::{Flame, FrameLabel};
use crate::frames::TOP;

/// What folding gives each type row.
#[derive(Debug, Clone, PartialEq)]
pub struct Folded {
    /// Per type row (by [`crate::stats::TypeGroups`] group index): the
    /// bytes and objects of folded types that landed on it (PerfView's
    /// Fold and Fold Ct).
    pub into_row: Vec<(f64, f64)>,
    /// Bytes and objects of folded types held by no type that is not
    /// folded (they stay with their roots).
    pub into_roots: (f64, f64),
}

/// Folds the type rows for which `folded(row)` is true (rows by group
/// index) into their referrers in `flame`'s tree.
pub fn fold_types(flame: &Flame, folded: impl Fn(usize) -> bool) -> Folded {
    let t = &flame.tree;
    let rows = flame.type_rows();
    let mut into_row = vec![(0.0, 0.0); rows];
    let mut into_roots = (0.0, 0.0);
    // Per frame: the frame its objects count in (itself, unless folded).
    let mut target = vec![TOP; t.len()];
    let row_of = |f: u32| -> Option<usize> {
        match flame.label(t.key(f)) {
            FrameLabel::Type(_) if (t.key(f) as usize) < rows => Some(t.key(f) as usize),
            _ => None,
        }
    };
    for f in 1..t.len() as u32 {
        let parent = t.parent(f).unwrap_or(TOP);
        match row_of(f) {
            Some(r) if folded(r) => {
                let to = target[parent as usize];
                target[f as usize] = to;
                let (v, c) = (t.self_value(f), t.self_count(f));
                match (to != TOP).then(|| row_of(to)).flatten() {
                    Some(r2) => {
                        into_row[r2].0 += v;
                        into_row[r2].1 += c;
                    }
                    None => {
                        into_roots.0 += v;
                        into_roots.1 += c;
                    }
                }
            }
            _ => target[f as usize] = f,
        }
    }
    Folded {
        into_row,
        into_roots,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flame::inclusive_flame;
    use crate::stats::Selection;
    use heaplens_graph::{GraphBuilder, NoProgress, RootKind, TypeInfo, TypeKind};

    #[test]
    fn folded_types_go_to_their_nearest_unfolded_referrer() {
        let mut b = GraphBuilder::new();
        for name in ["App.Item", "System.Byte[]", "System.String"] {
            b.add_type(TypeInfo {
                name: name.into(),
                module: None,
                kind: TypeKind::Object,
                method_table: 0,
            });
        }
        // 0 Item -> 1 Byte[] ; 0 -> 2 String ; 3 String (root) -> nothing ;
        // 4 Byte[] (root) -> 5 String
        b.add_node(0, 32, 0x10, [1, 2]).unwrap();
        b.add_node(1, 88, 0x20, []).unwrap();
        b.add_node(2, 30, 0x30, []).unwrap();
        b.add_node(2, 40, 0x40, []).unwrap();
        b.add_node(1, 50, 0x50, [5]).unwrap();
        b.add_node(2, 20, 0x60, []).unwrap();
        b.add_root(0, RootKind::Static, Some("A.x"));
        b.add_root(3, RootKind::Static, Some("A.y"));
        b.add_root(4, RootKind::Static, Some("A.z"));
        let g = b.finish().unwrap();
        let fl = inclusive_flame(&g, None, Selection::Reachable, &mut NoProgress).unwrap();
        // Fold arrays and strings.
        let f = fold_types(&fl, |r| r != 0);
        assert_eq!(f.into_row[0], (118.0, 2.0));
        assert_eq!(f.into_roots, (110.0, 3.0));
    }
}
