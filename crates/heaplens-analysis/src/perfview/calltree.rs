//! PerfView's call tree ("RefTree" in a memory window) and By Name view.
//!
//! Each kept sample lands on the tree node of its filtered stack: a path of
//! frame names from `ROOT`. It adds its metric and count to that node's
//! exclusive columns (and to its Fold columns if a pattern folded a frame
//! into the stack), and to the inclusive columns of the node and every
//! ancestor. By Name sums, per name, every tree node's exclusive and fold
//! columns, and the inclusive columns of the tree nodes that have no
//! ancestor of the same name (so recursion is not counted twice). Sums are
//! kept in f64 (PerfView uses f32, which only differs above 2^24).

use super::filter::{FilterParams, FilteredStacks};
use super::pattern::PatternError;
use super::stacks::{StackSource, NO_CALLER};
use std::collections::HashMap;

/// Index of a tree node; the root is [`CallTree::ROOT`].
pub type TreeIndex = u32;

/// The columns of a tree node or a By Name row.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Columns {
    /// Exc: metric of the samples at this node (bytes).
    pub exc: f64,
    /// Exc Ct.
    pub exc_count: f64,
    /// Inc: metric of the samples at this node and below.
    pub inc: f64,
    /// Inc Ct.
    pub inc_count: f64,
    /// Fold: the part of Exc that was folded into this node.
    pub fold: f64,
    /// Fold Ct.
    pub fold_count: f64,
}

/// A node of the call tree.
#[derive(Debug, Clone, PartialEq)]
pub struct TreeNode {
    /// The node's frame name (after grouping).
    pub name: String,
    /// Its parent ([`CallTree::ROOT`] has none).
    pub parent: Option<TreeIndex>,
    /// Its columns.
    pub columns: Columns,
    /// Smallest sample time at or below the node (for a heap: the lowest
    /// address), which breaks ties when sorting.
    pub first_time: f64,
    /// Key of the node's By Name row.
    key: u32,
    children: Vec<TreeIndex>,
    removed: bool,
}

/// A row of the By Name view.
#[derive(Debug, Clone, PartialEq)]
pub struct ByNameEntry {
    /// The frame name (`ROOT` for the root row).
    pub name: String,
    /// Its columns.
    pub columns: Columns,
}

/// A call tree with its By Name view.
#[derive(Debug, Clone)]
pub struct CallTree {
    nodes: Vec<TreeNode>,
    keys: Vec<String>,
    by_name: Vec<ByNameEntry>,
}

impl CallTree {
    /// The root node, `ROOT`.
    pub const ROOT: TreeIndex = 0;

    /// Builds the tree of `src` filtered by `params` (including Fold %).
    pub fn new(src: &StackSource, params: &FilterParams) -> Result<Self, PatternError> {
        let filtered = FilteredStacks::compute(src, params)?;
        let mut tree = CallTree {
            nodes: vec![TreeNode {
                name: "ROOT".into(),
                parent: None,
                columns: Columns::default(),
                first_time: f64::INFINITY,
                key: 0,
                children: Vec::new(),
                removed: false,
            }],
            keys: vec!["ROOT".into()],
            by_name: Vec::new(),
        };
        // Per frame: its By Name key, by shown name (frames PerfView
        // confuses with ROOT's index share ROOT's key).
        let mut key_of_name: HashMap<&str, u32> = HashMap::new();
        let frame_key: Vec<u32> = filtered
            .names
            .iter()
            .enumerate()
            .map(|(f, name)| {
                if src.root_alias == Some(f as u32) {
                    return 0;
                }
                *key_of_name.entry(name.as_str()).or_insert_with(|| {
                    tree.keys.push(name.clone());
                    tree.keys.len() as u32 - 1
                })
            })
            .collect();
        let mut child_of: HashMap<(TreeIndex, u32), TreeIndex> = HashMap::new();
        let mut node_of_stack = vec![u32::MAX; src.stack_count()];
        let mut path: Vec<u32> = Vec::new();
        for sample in &src.samples {
            if !filtered.keeps(sample.stack) {
                continue;
            }
            // Find (or make) the tree node of the stack, callers first.
            let mut x = sample.stack;
            while node_of_stack[x as usize] == u32::MAX {
                path.push(x);
                match src.caller_of(x) {
                    NO_CALLER => break,
                    c => x = c,
                }
            }
            while let Some(y) = path.pop() {
                let caller = src.caller_of(y);
                let caller_node = if caller == NO_CALLER {
                    Self::ROOT
                } else {
                    node_of_stack[caller as usize]
                };
                node_of_stack[y as usize] = if filtered.merged[y as usize] {
                    caller_node
                } else {
                    let frame = filtered.frame[y as usize];
                    let name_key = if src.root_alias == Some(frame) {
                        // Named as the frame, counted as ROOT.
                        u32::MAX - frame
                    } else {
                        frame_key[frame as usize]
                    };
                    *child_of.entry((caller_node, name_key)).or_insert_with(|| {
                        let idx = tree.nodes.len() as TreeIndex;
                        tree.nodes.push(TreeNode {
                            name: filtered.names[frame as usize].clone(),
                            parent: Some(caller_node),
                            columns: Columns::default(),
                            first_time: f64::INFINITY,
                            key: frame_key[frame as usize],
                            children: Vec::new(),
                            removed: false,
                        });
                        tree.nodes[caller_node as usize].children.push(idx);
                        idx
                    })
                };
            }
            let node = &mut tree.nodes[node_of_stack[sample.stack as usize] as usize];
            node.columns.exc += sample.metric;
            node.columns.exc_count += sample.count;
            if filtered.folded[sample.stack as usize] > 0 {
                node.columns.fold += sample.metric;
                node.columns.fold_count += sample.count;
            }
            node.first_time = node.first_time.min(sample.time);
        }
        // Inclusive columns: children are created after their parents.
        for i in (0..tree.nodes.len()).rev() {
            let n = &mut tree.nodes[i];
            n.columns.inc += n.columns.exc;
            n.columns.inc_count += n.columns.exc_count;
            let (inc, inc_count, first, parent) =
                (n.columns.inc, n.columns.inc_count, n.first_time, n.parent);
            if let Some(p) = parent {
                let p = &mut tree.nodes[p as usize];
                p.columns.inc += inc;
                p.columns.inc_count += inc_count;
                p.first_time = p.first_time.min(first);
            }
        }
        tree.by_name = tree.compute_by_name();
        if let Some(pct) = params.fold_percent.filter(|&p| p > 0.0) {
            tree.fold_small(pct);
            tree.by_name = tree.compute_by_name();
        }
        tree.sort_children();
        Ok(tree)
    }

    /// A node.
    pub fn node(&self, i: TreeIndex) -> &TreeNode {
        &self.nodes[i as usize]
    }

    /// The children of a node, by |Inc| descending, then lowest first time.
    pub fn children(&self, i: TreeIndex) -> &[TreeIndex] {
        &self.nodes[i as usize].children
    }

    /// Totals: ROOT's inclusive metric and count.
    pub fn totals(&self) -> (f64, f64) {
        let c = self.nodes[0].columns;
        (c.inc, c.inc_count)
    }

    /// The By Name rows (ROOT included), by |Exc| descending.
    pub fn by_name(&self) -> &[ByNameEntry] {
        &self.by_name
    }

    /// PerfView's `AccumulateSumByID`, without recursion.
    fn compute_by_name(&self) -> Vec<ByNameEntry> {
        let mut rows: Vec<Option<ByNameEntry>> = vec![None; self.keys.len()];
        let mut on_stack = vec![false; self.keys.len()];
        let mut order: Vec<u32> = Vec::new();
        // (node, next child position, pushed onto on_stack)
        let mut stack: Vec<(TreeIndex, usize, bool)> = Vec::new();
        let mut enter = |i: TreeIndex, on_stack: &mut Vec<bool>| -> bool {
            let n = &self.nodes[i as usize];
            let row = rows[n.key as usize].get_or_insert_with(|| {
                order.push(n.key);
                ByNameEntry {
                    name: self.keys[n.key as usize].clone(),
                    columns: Columns::default(),
                }
            });
            let fresh = !on_stack[n.key as usize];
            let c = &mut row.columns;
            c.exc += n.columns.exc;
            c.exc_count += n.columns.exc_count;
            c.fold += n.columns.fold;
            c.fold_count += n.columns.fold_count;
            if fresh {
                c.inc += n.columns.inc;
                c.inc_count += n.columns.inc_count;
                on_stack[n.key as usize] = true;
            }
            fresh
        };
        let fresh = enter(Self::ROOT, &mut on_stack);
        stack.push((Self::ROOT, 0, fresh));
        while let Some(top) = stack.last_mut() {
            let (i, pos, fresh) = *top;
            // Removed nodes are no longer anyone's children.
            if let Some(&c) = self.nodes[i as usize].children.get(pos) {
                top.1 += 1;
                let f = enter(c, &mut on_stack);
                stack.push((c, 0, f));
            } else {
                if fresh {
                    on_stack[self.nodes[i as usize].key as usize] = false;
                }
                stack.pop();
            }
        }
        let mut out: Vec<ByNameEntry> = order
            .into_iter()
            .filter_map(|k| rows[k as usize].take())
            .collect();
        out.sort_by(|a, b| b.columns.exc.abs().total_cmp(&a.columns.exc.abs()));
        out
    }

    /// PerfView's Fold % (`FoldNodesUnder` with whole-trace metrics): a
    /// node whose Inc and whose name's By Name Inc are both below
    /// `percent` of ROOT's Inc is removed, with its whole subtree, and its
    /// inclusive columns are added to its parent's exclusive and fold ones.
    fn fold_small(&mut self, percent: f32) {
        let min = percent * self.nodes[0].columns.inc as f32 / 100.0;
        let by_key: HashMap<&str, f64> = self
            .by_name
            .iter()
            .map(|r| (r.name.as_str(), r.columns.inc))
            .collect();
        let mut foldable = vec![false; self.nodes.len()];
        for (i, n) in self.nodes.iter().enumerate().skip(1) {
            let whole = by_key
                .get(self.keys[n.key as usize].as_str())
                .copied()
                .unwrap_or(0.0);
            foldable[i] = (n.columns.inc as f32).abs() < min && (whole as f32).abs() < min;
        }
        // Parents come before children: decide top-down.
        for (i, &fold) in foldable.iter().enumerate().skip(1) {
            let p = self.nodes[i].parent.expect("non-root") as usize;
            if self.nodes[p].removed {
                self.nodes[i].removed = true;
            } else if fold {
                self.nodes[i].removed = true;
                let c = self.nodes[i].columns;
                let pc = &mut self.nodes[p].columns;
                pc.exc += c.inc;
                pc.exc_count += c.inc_count;
                pc.fold += c.inc;
                pc.fold_count += c.inc_count;
            }
        }
        for n in &mut self.nodes {
            n.children.clear();
        }
        for i in 1..self.nodes.len() {
            if !self.nodes[i].removed {
                let p = self.nodes[i].parent.expect("non-root") as usize;
                self.nodes[p].children.push(i as TreeIndex);
            }
        }
    }

    fn sort_children(&mut self) {
        let keys: Vec<(f64, f64)> = self
            .nodes
            .iter()
            .map(|n| (n.columns.inc.abs(), n.first_time))
            .collect();
        for n in &mut self.nodes {
            n.children.sort_by(|&a, &b| {
                let (ia, ta) = keys[a as usize];
                let (ib, tb) = keys[b as usize];
                ib.total_cmp(&ia).then(ta.total_cmp(&tb))
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::perfview::spanning::{spanning_tree, Priorities};
    use heaplens_graph::{GraphBuilder, NoProgress, TypeInfo, TypeKind};

    #[test]
    fn inclusive_by_name_counts_recursion_once() {
        // Type 0 is a real type here (not a .gcdump's UNDEFINED).
        let mut b = GraphBuilder::new();
        for (name, kind) in [
            ("Node", TypeKind::Object),
            ("[Roots]", TypeKind::Pseudo),
            ("Leaf", TypeKind::Object),
        ] {
            b.add_type(TypeInfo {
                name: name.into(),
                module: None,
                kind,
                method_table: 0,
            });
        }
        // 0 [Roots] -> 1 Node -> 2 Node -> 3 Leaf ; 4 Leaf unreachable.
        b.add_node(1, 0, 0, [1]).unwrap();
        b.add_node(0, 10, 0x10, [2]).unwrap();
        b.add_node(0, 20, 0x20, [3]).unwrap();
        b.add_node(2, 5, 0x30, []).unwrap();
        b.add_node(2, 7, 0x40, []).unwrap();
        b.set_root_node(0);
        let g = b.finish().unwrap();
        let tree = spanning_tree(&g, &Priorities::default(), &mut NoProgress).unwrap();
        let src = StackSource::from_graph(&g, None, &tree);
        let view = CallTree::new(&src, &FilterParams::none()).unwrap();
        let row = |name: &str| {
            view.by_name()
                .iter()
                .find(|r| r.name == name)
                .unwrap_or_else(|| panic!("{name}"))
                .columns
        };
        assert_eq!(view.totals(), (42.0, 5.0));
        // Node -> Node folds by recursion: one tree node, both objects.
        let n = row("Node");
        assert_eq!(
            (n.exc, n.exc_count, n.inc, n.inc_count),
            (30.0, 2.0, 35.0, 3.0)
        );
        assert_eq!((n.fold, n.fold_count), (0.0, 0.0));
        let l = row("Leaf");
        assert_eq!((l.exc, l.inc, l.inc_count), (12.0, 12.0, 2.0));
        assert_eq!(row(crate::perfview::NOT_REACHABLE).inc, 7.0);
        // ROOT, [Roots], Node, Leaf, [not reachable from roots].
        assert_eq!(view.by_name().len(), 5);
        // Excluding unreachable nodes and folding Leaf into its parent.
        let params = FilterParams {
            fold: "Leaf".into(),
            exclude: crate::perfview::NOT_REACHABLE.into(),
            ..FilterParams::none()
        };
        let view = CallTree::new(&src, &params).unwrap();
        assert_eq!(view.totals(), (35.0, 4.0));
        let n = view
            .by_name()
            .iter()
            .find(|r| r.name == "Node")
            .unwrap()
            .columns;
        assert_eq!((n.exc, n.fold, n.fold_count), (35.0, 5.0, 1.0));
        let root = view.node(CallTree::ROOT);
        assert_eq!(view.node(view.children(CallTree::ROOT)[0]).name, "[Roots]");
        assert_eq!(root.columns.inc, 35.0);
    }
}
