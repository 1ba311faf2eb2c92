//! The `flame` document: a flame graph (icicle) of what holds the heap, by
//! retained size or by PerfView's inclusive size, of one snapshot or of the
//! difference of two (`heaplens flame`; the page's flame graph).
//!
//! The engine aggregates objects by their path of types from the roots
//! ([`heaplens_analysis::flame`]): the full tree has one frame per
//! distinct path, whatever the heap's size; the document keeps the largest
//! frames up to a budget ([`FlameLimits::max_frames`], others included)
//! and merges the rest of each frame's children into one `other` frame
//! with their totals, so every frame's children and `self_bytes` add up to
//! its `bytes`.

use crate::{heaplens_version, is_zero, DocumentKind, TypeId, SCHEMA_VERSION};
use heaplens_analysis::dominators::dominators;
use heaplens_analysis::flame::{
    diff_flames, inclusive_flame, retained_flame, Flame, FlameBy, FlameDiff, FrameLabel,
};
use heaplens_analysis::frames::{select_frames, Shown, TOP};
use heaplens_analysis::stats::{Selection, TypeGroups};
use heaplens_graph::{Cancelled, HeapGraph, Progress, TypeKind};
use heaplens_snapshot::Snapshot;
use serde::{Deserialize, Serialize};

/// How a flame graph measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlameMeasure {
    /// Retained size: frames follow the dominator tree.
    Retained,
    /// PerfView's inclusive size: frames follow PerfView's spanning tree.
    Inclusive,
}

impl FlameMeasure {
    /// The name as the JSON and the CLI write it.
    pub fn as_str(self) -> &'static str {
        match self {
            FlameMeasure::Retained => "retained",
            FlameMeasure::Inclusive => "inclusive",
        }
    }

    fn by(self) -> FlameBy {
        match self {
            FlameMeasure::Retained => FlameBy::Retained,
            FlameMeasure::Inclusive => FlameBy::Inclusive,
        }
    }
}

/// The flame graph of a snapshot as every view computes it: by retained
/// size over its dominator tree, or by PerfView's inclusive size over its
/// spanning tree of the objects its capabilities count
/// ([`Selection::for_input`]), scaled as PerfView scales a sampled heap.
pub fn flame_of(
    snapshot: &Snapshot,
    by: FlameMeasure,
    progress: &mut dyn Progress,
) -> Result<Flame, Cancelled> {
    let g = &snapshot.graph;
    match by.by() {
        FlameBy::Retained => {
            let dom = dominators(g, progress)?;
            retained_flame(g, &dom, progress)
        }
        FlameBy::Inclusive => inclusive_flame(
            g,
            snapshot.info.sampling.as_ref(),
            Selection::for_input(snapshot.info.capabilities),
            progress,
        ),
    }
}

/// How much of the tree to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlameLimits {
    /// Frames in the document at most, `other` frames and the top
    /// included (at least 2).
    pub max_frames: usize,
    /// Frames below this share of the top's bytes (in percent; of the
    /// larger side in a diff) are merged into `other` whatever the budget.
    pub min_percent: f64,
}

impl Default for FlameLimits {
    fn default() -> Self {
        FlameLimits {
            max_frames: 10_000,
            min_percent: 0.0,
        }
    }
}

/// What a frame stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameKind {
    /// The top frame (`ROOT`): the whole graph.
    Root,
    /// A pseudo-frame: a root category (`[static vars]`, `[local vars]`,
    /// `[other roots]` → `[strong Handles]`, …), a static
    /// (`[static var Type.field]`), `[.NET Roots]`, `[not reachable from
    /// roots]`, `[reached from several roots]`.
    Roots,
    /// The objects of a type.
    Type,
    /// Frames left out (see `merged_frames`), with their subtrees.
    Other,
}

/// Bytes and objects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlameTotal {
    /// Bytes (retained, or PerfView's inclusive).
    pub bytes: u64,
    /// Objects (PerfView's samples: a `.gcdump`'s pseudo-nodes count too).
    pub count: u64,
}

/// A frame: the objects of one path of types, and what they hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlameFrame {
    /// Its index in `frames`.
    pub id: u32,
    /// Its parent's index (`null` for the top); parents come first.
    pub parent: Option<u32>,
    /// Levels below the top.
    pub depth: u32,
    /// A type's name (normalized in a diff that normalizes), a
    /// pseudo-frame's, `ROOT`, or `[other]`.
    pub name: String,
    /// What it stands for.
    pub kind: FrameKind,
    /// The type's row id (a type frame of one snapshot).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<TypeId>,
    /// Bytes of the frame and below (the current snapshot's in a diff).
    pub bytes: u64,
    /// Objects of the frame and below.
    pub count: u64,
    /// Bytes of the frame's own objects: `bytes` minus its children's.
    pub self_bytes: u64,
    /// Objects of the frame itself.
    pub self_count: u64,
    /// The base's `bytes` (a diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_bytes: Option<u64>,
    /// The base's `count` (a diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_count: Option<u64>,
    /// The base's `self_bytes` (a diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_self_bytes: Option<u64>,
    /// `bytes` minus `base_bytes` (a diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_bytes: Option<i64>,
    /// `count` minus `base_count` (a diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delta_count: Option<i64>,
    /// For an `other` frame: how many frames it merges.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub merged_frames: u64,
}

/// A flame graph of one snapshot, or the difference of two.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FlameDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Flame`].
    pub document: DocumentKind,
    /// The file as it was given (the current snapshot of a diff).
    pub file: String,
    /// The base snapshot of a diff (`null` for one snapshot).
    pub base_file: Option<String>,
    /// Retained or inclusive size.
    pub by: FlameMeasure,
    /// True when sizes were scaled from a sampled heap (inclusive size of
    /// a sampled `.gcdump`, as PerfView scales it).
    pub scaled: bool,
    /// A diff: true when type names were compared normalized.
    pub names_normalized: bool,
    /// The top's bytes and objects (the current snapshot's in a diff): all
    /// the live roots retain, or all PerfView's spanning tree holds.
    pub total: FlameTotal,
    /// The base's (a diff).
    pub base_total: Option<FlameTotal>,
    /// Frames of the whole tree (distinct paths of types).
    pub tree_frames: u64,
    /// The budget the frames were cut to.
    pub max_frames: u64,
    /// The frames in preorder: each after its parent, children by bytes
    /// descending (in a diff, by the larger of the two sides), a frame's
    /// `other` after its other children.
    pub frames: Vec<FlameFrame>,
    /// What the numbers mean where it is not obvious.
    pub notes: Vec<String>,
}

fn round(v: f64) -> u64 {
    v.max(0.0).round() as u64
}

fn notes_for(by: FlameMeasure, diff: bool) -> Vec<String> {
    let mut notes = vec![match by {
        FlameMeasure::Retained => {
            "Frames follow the dominator tree: a frame's bytes are what freeing its objects \
             would free. Objects that several roots reach by separate paths, and none alone, \
             are under [reached from several roots]."
        }
        FlameMeasure::Inclusive => {
            "Frames follow PerfView's spanning tree (its default priorities): a frame's bytes \
             are those of the objects below it in that tree, as PerfView's RefTree and flame \
             graph show them."
        }
    }
    .to_owned()];
    notes.push(
        "A run of objects of one type (a linked list) is one frame, as PerfView folds \
         recursion."
            .to_owned(),
    );
    if diff {
        notes.push(
            "Frames of the two snapshots are matched by their path of names; deltas are \
             current minus base (PerfView's Diff)."
                .to_owned(),
        );
    }
    notes
}

impl FlameDocument {
    /// The document of the flame graph `flame` of graph `g`, read from
    /// `file`, cut to `limits`.
    pub fn build(file: &str, g: &HeapGraph, flame: &Flame, limits: FlameLimits) -> FlameDocument {
        let t = &flame.tree;
        let groups = TypeGroups::of(g);
        let total = t.value(TOP);
        let shown = select_frames(
            t.parents(),
            t.values(),
            limits.max_frames.max(2),
            total * limits.min_percent / 100.0,
        );
        let mut frames: Vec<FlameFrame> = Vec::with_capacity(shown.len());
        for s in &shown {
            let f = match s {
                Shown::Frame { frame, parent } => {
                    let key = t.key(*frame);
                    let (kind, type_id) = if *frame == TOP {
                        (FrameKind::Root, None)
                    } else {
                        match flame.label(key) {
                            FrameLabel::Type(id) if g.type_info(*id).kind != TypeKind::Pseudo => {
                                (FrameKind::Type, Some(TypeId(groups.id_of(*id))))
                            }
                            _ => (FrameKind::Roots, None),
                        }
                    };
                    let (value, count) = (t.value(*frame), t.count(*frame));
                    FlameFrame {
                        type_id,
                        ..new_frame(
                            &frames,
                            *parent,
                            flame.frame_name(g, *frame, false),
                            kind,
                            (round(value), round(count)),
                        )
                    }
                }
                Shown::Other {
                    parent,
                    frames: left,
                } => {
                    let value: f64 = left.iter().map(|&f| t.value(f)).sum();
                    let count: f64 = left.iter().map(|&f| t.count(f)).sum();
                    other_frame(&frames, *parent, round(value), round(count), left.len())
                }
            };
            frames.push(f);
        }
        fill_self(&mut frames);
        FlameDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Flame,
            file: file.to_owned(),
            base_file: None,
            by: measure(flame),
            scaled: flame.scaled,
            names_normalized: false,
            total: FlameTotal {
                bytes: round(total),
                count: round(t.count(TOP)),
            },
            base_total: None,
            tree_frames: t.len() as u64,
            max_frames: limits.max_frames.max(2) as u64,
            frames,
            notes: {
                let mut n = notes_for(measure(flame), false);
                if t.truncated() {
                    n.push(truncated_note(t.len()));
                }
                n
            },
        }
    }

    /// The document of the difference `diff` ([`diff_flames`]) of the
    /// flame graphs of `base_file` and `file`, cut to `limits` by the
    /// larger side of each frame.
    pub fn build_diff(
        base_file: &str,
        file: &str,
        by: FlameMeasure,
        scaled: bool,
        diff: &FlameDiff,
        limits: FlameLimits,
    ) -> FlameDocument {
        let parents = diff.parents();
        let importance: Vec<f64> = diff
            .frames
            .iter()
            .map(|f| f.base.value.abs().max(f.current.value.abs()))
            .collect();
        let top = &diff.frames[0];
        let total = importance[0];
        let shown = select_frames(
            &parents,
            &importance,
            limits.max_frames.max(2),
            total * limits.min_percent / 100.0,
        );
        let mut frames: Vec<FlameFrame> = Vec::with_capacity(shown.len());
        for s in &shown {
            let f = match s {
                Shown::Frame { frame, parent } => {
                    let d = &diff.frames[*frame as usize];
                    let kind = if *frame == 0 {
                        FrameKind::Root
                    } else if d.is_type {
                        FrameKind::Type
                    } else {
                        FrameKind::Roots
                    };
                    FlameFrame {
                        base_bytes: Some(round(d.base.value)),
                        base_count: Some(round(d.base.count)),
                        ..new_frame(
                            &frames,
                            *parent,
                            d.name.clone(),
                            kind,
                            (round(d.current.value), round(d.current.count)),
                        )
                    }
                }
                Shown::Other {
                    parent,
                    frames: left,
                } => {
                    let sum = |f: &dyn Fn(&heaplens_analysis::flame::DiffFrame) -> f64| -> u64 {
                        round(left.iter().map(|&i| f(&diff.frames[i as usize])).sum())
                    };
                    let mut o = other_frame(
                        &frames,
                        *parent,
                        sum(&|d| d.current.value),
                        sum(&|d| d.current.count),
                        left.len(),
                    );
                    o.base_bytes = Some(sum(&|d| d.base.value));
                    o.base_count = Some(sum(&|d| d.base.count));
                    o
                }
            };
            frames.push(f);
        }
        fill_self(&mut frames);
        FlameDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Flame,
            file: file.to_owned(),
            base_file: Some(base_file.to_owned()),
            by,
            scaled,
            names_normalized: diff.names_normalized,
            total: FlameTotal {
                bytes: round(top.current.value),
                count: round(top.current.count),
            },
            base_total: Some(FlameTotal {
                bytes: round(top.base.value),
                count: round(top.base.count),
            }),
            tree_frames: diff.frames.len() as u64,
            max_frames: limits.max_frames.max(2) as u64,
            frames,
            notes: notes_for(by, true),
        }
    }

    /// The frames as folded stacks, one line per frame with objects of its
    /// own: its path of names from below the top, joined by `;`, and its
    /// `self_bytes` — the text flamegraph.pl and speedscope read
    /// (`[static vars];[static var App.s];List<T> 1024`). A diff gives two
    /// numbers per line, the base's and the current snapshot's
    /// (flamegraph.pl's differential input; speedscope reads one number).
    /// A `;` in a name becomes `:`.
    pub fn folded(&self) -> String {
        let mut paths: Vec<String> = Vec::with_capacity(self.frames.len());
        let mut out = String::new();
        for f in &self.frames {
            let name = f.name.replace(';', ":").replace('\n', " ");
            let path = match f.parent {
                None => String::new(),
                Some(p) if self.frames[p as usize].parent.is_none() => name,
                Some(p) => format!("{};{name}", paths[p as usize]),
            };
            if f.parent.is_some() {
                match f.base_self_bytes {
                    Some(b) if b > 0 || f.self_bytes > 0 => {
                        out += &format!("{path} {b} {}\n", f.self_bytes);
                    }
                    None if f.self_bytes > 0 => out += &format!("{path} {}\n", f.self_bytes),
                    _ => {}
                }
            }
            paths.push(path);
        }
        out
    }
}

/// The note of a tree that reached the builder's frame limit.
pub(crate) fn truncated_note(frames: usize) -> String {
    format!(
        "The heap has more distinct paths of types than the {frames} frames heaplens keeps: \
         objects on longer paths are counted in their nearest kept frame (every frame's \
         totals are exact; the types below the cut are not broken out)."
    )
}

fn measure(flame: &Flame) -> FlameMeasure {
    match flame.by {
        FlameBy::Retained => FlameMeasure::Retained,
        FlameBy::Inclusive => FlameMeasure::Inclusive,
    }
}

/// A frame of `bytes` and `count` under the entry `parent` of `frames`
/// (none for the top), to be appended to them; its own numbers are filled
/// in at the end ([`fill_self`]).
fn new_frame(
    frames: &[FlameFrame],
    parent: Option<usize>,
    name: String,
    kind: FrameKind,
    (bytes, count): (u64, u64),
) -> FlameFrame {
    FlameFrame {
        id: frames.len() as u32,
        parent: parent.map(|p| p as u32),
        depth: parent.map_or(0, |p| frames[p].depth + 1),
        name,
        kind,
        type_id: None,
        bytes,
        count,
        self_bytes: 0,
        self_count: 0,
        base_bytes: None,
        base_count: None,
        base_self_bytes: None,
        delta_bytes: None,
        delta_count: None,
        merged_frames: 0,
    }
}

fn other_frame(
    frames: &[FlameFrame],
    parent: usize,
    bytes: u64,
    count: u64,
    merged: usize,
) -> FlameFrame {
    FlameFrame {
        merged_frames: merged as u64,
        ..new_frame(
            frames,
            Some(parent),
            "[other]".to_owned(),
            FrameKind::Other,
            (bytes, count),
        )
    }
}

/// Each frame's own bytes and objects (its total minus its children's
/// totals in the document), and a diff's deltas.
fn fill_self(frames: &mut [FlameFrame]) {
    let n = frames.len();
    let mut kids = vec![(0u64, 0u64, 0u64); n];
    for f in frames.iter() {
        if let Some(p) = f.parent {
            let k = &mut kids[p as usize];
            k.0 += f.bytes;
            k.1 += f.count;
            k.2 += f.base_bytes.unwrap_or(0);
        }
    }
    for (f, (b, c, bb)) in frames.iter_mut().zip(kids) {
        f.self_bytes = f.bytes.saturating_sub(b);
        f.self_count = f.count.saturating_sub(c);
        if let (Some(base), Some(base_count)) = (f.base_bytes, f.base_count) {
            f.base_self_bytes = Some(base.saturating_sub(bb));
            f.delta_bytes = Some(f.bytes as i64 - base as i64);
            f.delta_count = Some(f.count as i64 - base_count as i64);
        }
    }
}

/// The flame graphs of `base` and `current` merged by frame names, under
/// the diff's naming rule.
pub fn diff_of(
    base: (&Snapshot, &Flame),
    current: (&Snapshot, &Flame),
    normalize_names: bool,
) -> FlameDiff {
    let normalize = heaplens_analysis::diff::DiffOptions { normalize_names }
        .with_naming_rule(base.0.info.capabilities, current.0.info.capabilities)
        .normalize_names;
    diff_flames(
        base.1,
        &base.0.graph,
        current.1,
        &current.0.graph,
        normalize,
    )
}

/// The flame graphs of two documents (each a whole snapshot's, as
/// [`FlameDocument::build`] writes it) merged by frame names, as
/// [`diff_of`] merges the snapshots' trees: a snapshot read apart (the web
/// page's workers) sends its document, and the difference is the same as
/// from the trees while neither document was cut to its `max_frames`
/// (frames merged into `other` merge by that name). `normalize`: compare
/// type names normalized (the diff's naming rule).
pub fn diff_of_documents(
    base: &FlameDocument,
    current: &FlameDocument,
    normalize: bool,
) -> FlameDiff {
    heaplens_analysis::flame::merge_by_name(
        &DocumentSide::of(base),
        &DocumentSide::of(current),
        normalize,
    )
}

/// A [`FlameDocument`] as one side of a merge by frame names.
struct DocumentSide<'a> {
    doc: &'a FlameDocument,
    children: Vec<Vec<u32>>,
}

impl<'a> DocumentSide<'a> {
    fn of(doc: &'a FlameDocument) -> DocumentSide<'a> {
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); doc.frames.len()];
        let n = doc.frames.len();
        for f in doc.frames.iter().filter(|f| (f.id as usize) < n) {
            if let Some(v) = f.parent.and_then(|p| children.get_mut(p as usize)) {
                v.push(f.id);
            }
        }
        DocumentSide { doc, children }
    }
}

impl heaplens_analysis::flame::NamedFrames for DocumentSide<'_> {
    fn tops(&self) -> Vec<u32> {
        if self.doc.frames.is_empty() {
            vec![]
        } else {
            vec![0]
        }
    }
    fn children_of(&self, f: u32) -> &[u32] {
        self.children.get(f as usize).map_or(&[], Vec::as_slice)
    }
    fn name(&self, f: u32, normalize: bool) -> (String, bool) {
        let frame = &self.doc.frames[f as usize];
        let is_type = frame.kind == FrameKind::Type;
        let name = if is_type && normalize {
            heaplens_analysis::diff::normalize_type_name(&frame.name)
        } else {
            frame.name.clone()
        };
        (name, is_type)
    }
    fn side(&self, f: u32) -> heaplens_analysis::flame::Side {
        let x = &self.doc.frames[f as usize];
        heaplens_analysis::flame::Side {
            value: x.bytes as f64,
            count: x.count as f64,
            self_value: x.self_bytes as f64,
            self_count: x.self_count as f64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_analysis::flame::inclusive_flame;
    use heaplens_graph::{GraphBuilder, NoProgress, RootKind, TypeInfo};

    fn graph(items: u32) -> HeapGraph {
        let mut b = GraphBuilder::new();
        for name in ["App.Cache", "App.Item", "System.Byte[]"] {
            b.add_type(TypeInfo {
                name: name.into(),
                module: None,
                kind: TypeKind::Object,
                method_table: 0,
            });
        }
        let kids: Vec<u32> = (0..items).map(|i| 1 + 2 * i).collect();
        b.add_node(0, 40, 0x10, kids).unwrap();
        for i in 0..items {
            b.add_node(1, 32, 0x100 + 64 * i as u64, [2 + 2 * i])
                .unwrap();
            b.add_node(2, 88, 0x120 + 64 * i as u64, []).unwrap();
        }
        b.add_root(0, RootKind::Static, Some("App.s_cache;x"));
        b.finish().unwrap()
    }

    #[test]
    fn frames_add_up_and_fold_into_text() {
        let g = graph(3);
        let fl = inclusive_flame(&g, None, Selection::Reachable, &mut NoProgress).unwrap();
        let doc = FlameDocument::build("x", &g, &fl, FlameLimits::default());
        assert_eq!(doc.total.bytes, 40 + 3 * 120);
        for f in &doc.frames {
            let kids: u64 = doc
                .frames
                .iter()
                .filter(|c| c.parent == Some(f.id))
                .map(|c| c.bytes)
                .sum();
            assert_eq!(kids + f.self_bytes, f.bytes, "{}", f.name);
        }
        let text = doc.folded();
        assert_eq!(
            text,
            "[.NET Roots];[static vars];[static var App.s_cache:x];App.Cache 40\n\
             [.NET Roots];[static vars];[static var App.s_cache:x];App.Cache;App.Item 96\n\
             [.NET Roots];[static vars];[static var App.s_cache:x];App.Cache;App.Item;System.Byte[] 264\n"
        );
        let sum: u64 = text
            .lines()
            .map(|l| l.rsplit(' ').next().unwrap().parse::<u64>().unwrap())
            .sum();
        assert_eq!(sum, doc.total.bytes);
        // A budget of 4: ROOT, [.NET Roots], [static vars], and an Other.
        let cut = FlameDocument::build(
            "x",
            &g,
            &fl,
            FlameLimits {
                max_frames: 4,
                min_percent: 0.0,
            },
        );
        assert_eq!(cut.frames.len(), 4);
        assert_eq!(cut.frames[3].kind, FrameKind::Other);
        assert_eq!(cut.frames[3].bytes, doc.total.bytes);
        assert_eq!(cut.frames[3].merged_frames, 1);
    }

    #[test]
    fn a_diff_has_both_sides_and_deltas() {
        let (bg, cg) = (graph(1), graph(4));
        let b = inclusive_flame(&bg, None, Selection::Reachable, &mut NoProgress).unwrap();
        let c = inclusive_flame(&cg, None, Selection::Reachable, &mut NoProgress).unwrap();
        let d = diff_flames(&b, &bg, &c, &cg, false);
        let doc = FlameDocument::build_diff(
            "a",
            "b",
            FlameMeasure::Inclusive,
            false,
            &d,
            FlameLimits::default(),
        );
        let item = doc.frames.iter().find(|f| f.name == "App.Item").unwrap();
        assert_eq!((item.base_bytes, item.bytes), (Some(120), 480));
        assert_eq!(item.delta_bytes, Some(360));
        assert_eq!(item.delta_count, Some(6));
        let text = doc.folded();
        assert!(text.contains(";App.Item 32 128\n"), "{text}");
    }

    /// The page's differential flame graph (from the two documents its
    /// workers send) equals the CLI's (from the two trees): frame for
    /// frame, and as a flame document; and a cancelled progress stops the
    /// frame tree's building.
    #[test]
    fn a_diff_of_documents_equals_the_diff_of_trees() {
        let (bg, cg) = (graph(2), graph(5));
        let b = inclusive_flame(&bg, None, Selection::Reachable, &mut NoProgress).unwrap();
        let c = inclusive_flame(&cg, None, Selection::Reachable, &mut NoProgress).unwrap();
        for normalize in [false, true] {
            let trees = diff_flames(&b, &bg, &c, &cg, normalize);
            let docs = diff_of_documents(
                &FlameDocument::build("a", &bg, &b, FlameLimits::default()),
                &FlameDocument::build("b", &cg, &c, FlameLimits::default()),
                normalize,
            );
            assert_eq!(docs, trees);
            let doc = |d: &FlameDiff| {
                FlameDocument::build_diff(
                    "a",
                    "b",
                    FlameMeasure::Inclusive,
                    false,
                    d,
                    FlameLimits::default(),
                )
            };
            assert_eq!(doc(&docs), doc(&trees));
        }
        // Cancelled in the frame tree's own phase (not before it).
        let mut cancel = |p: heaplens_graph::Phase, _: u64, _: u64| {
            if p == heaplens_graph::Phase::FlameGraph {
                Err(Cancelled)
            } else {
                Ok(())
            }
        };
        assert_eq!(
            inclusive_flame(&cg, None, Selection::Reachable, &mut cancel).err(),
            Some(Cancelled)
        );
        let dom = dominators(&cg, &mut NoProgress).unwrap();
        assert!(retained_flame(&cg, &dom, &mut cancel).is_err());
    }
}
