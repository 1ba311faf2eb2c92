//! The flame graph's geometry and keyboard moves, in plain Rust (tested
//! natively): where each frame of a `flame` document
//! ([`heaplens_results::flame::FlameDocument`]) lies when the graph is
//! zoomed on one frame, which frames a search matches, and where the arrow
//! keys go. The component (`ui::flame`) only draws what this says.

use heaplens_results::flame::{FlameDocument, FlameFrame, FrameKind};

/// A frame's place: its start and width in bytes along the top frame, and
/// the end (exclusive) of its subtree in the document's preorder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    /// Bytes before it at its depth (the sum of its earlier siblings' and
    /// its ancestors' earlier siblings').
    pub x: f64,
    /// Its width: its bytes (the current snapshot's in a diff).
    pub w: f64,
    /// One past its last descendant.
    pub end: u32,
}

/// The geometry of a flame document.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// Per frame (by id).
    pub places: Vec<Place>,
    /// Per frame, its children in the document's order (largest first).
    pub children: Vec<Vec<u32>>,
}

impl Layout {
    /// Lays out `doc`'s frames (ids are positions; parents come first).
    pub fn of(doc: &FlameDocument) -> Layout {
        let n = doc.frames.len();
        let mut places = vec![
            Place {
                x: 0.0,
                w: 0.0,
                end: 0
            };
            n
        ];
        let mut children: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut next_x = vec![0.0f64; n];
        for f in &doc.frames {
            let i = f.id as usize;
            let x = match f.parent {
                Some(p) => {
                    let p = p as usize;
                    children[p].push(f.id);
                    let x = next_x[p];
                    next_x[p] += f.bytes as f64;
                    x
                }
                None => 0.0,
            };
            places[i] = Place {
                x,
                w: f.bytes as f64,
                end: i as u32 + 1,
            };
            next_x[i] = x;
        }
        // Subtree ends, children before parents (reverse preorder).
        for f in doc.frames.iter().rev() {
            if let Some(p) = f.parent {
                let e = places[f.id as usize].end;
                let pe = &mut places[p as usize].end;
                *pe = (*pe).max(e);
            }
        }
        Layout { places, children }
    }

    /// True when `f` is `zoom` or below it.
    pub fn within(&self, zoom: u32, f: u32) -> bool {
        f >= zoom && f < self.places[zoom as usize].end
    }
}

/// What is drawn of a frame: its left edge and width as fractions of the
/// graph's width, and its row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drawn {
    /// The frame's id.
    pub id: u32,
    /// Left edge, 0 to 1.
    pub left: f64,
    /// Width, 0 to 1.
    pub width: f64,
    /// Row (its depth).
    pub row: u32,
    /// An ancestor of the zoomed frame (drawn full width, dimmed).
    pub above: bool,
}

/// The frames drawn when zoomed on `zoom`: its ancestors full width, then
/// it and its descendants scaled to the width; frames narrower than
/// `min_width` (a fraction) are left out, with their subtrees.
pub fn visible(doc: &FlameDocument, layout: &Layout, zoom: u32, min_width: f64) -> Vec<Drawn> {
    let mut out = Vec::new();
    let Some(z) = doc.frames.get(zoom as usize) else {
        return out;
    };
    let mut up = z.parent;
    let mut ancestors = Vec::new();
    while let Some(a) = up {
        ancestors.push(a);
        up = doc.frames[a as usize].parent;
    }
    for &a in ancestors.iter().rev() {
        out.push(Drawn {
            id: a,
            left: 0.0,
            width: 1.0,
            row: doc.frames[a as usize].depth,
            above: true,
        });
    }
    let zp = layout.places[zoom as usize];
    let span = zp.w.max(1.0);
    let mut stack = vec![zoom];
    while let Some(f) = stack.pop() {
        let p = layout.places[f as usize];
        let width = p.w / span;
        if width < min_width && f != zoom {
            continue;
        }
        out.push(Drawn {
            id: f,
            left: (p.x - zp.x) / span,
            width: width.min(1.0),
            row: doc.frames[f as usize].depth,
            above: false,
        });
        for &c in layout.children[f as usize].iter().rev() {
            stack.push(c);
        }
    }
    out
}

/// The frames whose name contains `query` (case-insensitive; none for an
/// empty query), and the bytes they stand for: each matching frame's bytes
/// once, not again for a match below another match.
pub fn search(doc: &FlameDocument, layout: &Layout, query: &str) -> (Vec<bool>, u64) {
    let q = query.trim().to_lowercase();
    let mut hit = vec![false; doc.frames.len()];
    if q.is_empty() {
        return (hit, 0);
    }
    let mut bytes = 0u64;
    let mut covered_until = 0u32;
    for f in &doc.frames {
        if f.name.to_lowercase().contains(&q) {
            hit[f.id as usize] = true;
            if f.id >= covered_until {
                bytes += f.bytes;
                covered_until = layout.places[f.id as usize].end;
            }
        }
    }
    (hit, bytes)
}

/// A move of the keyboard's selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// To the parent (ArrowUp).
    Up,
    /// To the largest child (ArrowDown).
    Down,
    /// To the previous sibling (ArrowLeft).
    Left,
    /// To the next sibling (ArrowRight).
    Right,
}

/// Where `m` takes the selection from `at`; it stays when there is nowhere
/// to go (or above the zoomed frame `zoom`).
pub fn step(doc: &FlameDocument, layout: &Layout, zoom: u32, at: u32, m: Move) -> u32 {
    let f = &doc.frames[at as usize];
    match m {
        Move::Up => match f.parent {
            Some(p) if at != zoom => p,
            _ => at,
        },
        Move::Down => layout.children[at as usize].first().copied().unwrap_or(at),
        Move::Left | Move::Right => {
            let Some(p) = f.parent.filter(|_| at != zoom) else {
                return at;
            };
            let sibs = &layout.children[p as usize];
            let i = sibs.iter().position(|&s| s == at).unwrap_or(0);
            let j = if m == Move::Left {
                i.checked_sub(1)
            } else {
                (i + 1 < sibs.len()).then_some(i + 1)
            };
            j.map_or(at, |j| sibs[j])
        }
    }
}

/// A frame in words: its name, objects, bytes and share of the top, its
/// own bytes, and in a diff the change.
pub fn describe(doc: &FlameDocument, f: &FlameFrame) -> String {
    let total = doc.total.bytes.max(1) as f64;
    let kind = match f.kind {
        FrameKind::Root => "all objects",
        FrameKind::Roots => "roots",
        FrameKind::Type => "type",
        FrameKind::Other => "smaller frames merged",
    };
    let mut s = format!(
        "{} ({kind}): {} objects, {} bytes, {:.2} % of {}; its own {} bytes",
        f.name,
        crate::format::thousands(f.count),
        crate::format::thousands(f.bytes),
        f.bytes as f64 * 100.0 / total,
        if doc.base_file.is_some() {
            "the current heap"
        } else {
            "the heap"
        },
        crate::format::thousands(f.self_bytes),
    );
    if let (Some(b), Some(d)) = (f.base_bytes, f.delta_bytes) {
        s.push_str(&format!(
            "; baseline {} bytes, change {} bytes",
            crate::format::thousands(b),
            crate::format::signed_thousands(d)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_results::flame::{FlameMeasure, FlameTotal};

    fn frame(id: u32, parent: Option<u32>, depth: u32, name: &str, bytes: u64) -> FlameFrame {
        FlameFrame {
            id,
            parent,
            depth,
            name: name.into(),
            kind: if parent.is_none() {
                FrameKind::Root
            } else {
                FrameKind::Type
            },
            type_id: None,
            bytes,
            count: 1,
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

    /// ROOT(100) → A(60) → C(50), A → D(10 … 5 here); ROOT → B(40) → C(30).
    fn doc() -> FlameDocument {
        FlameDocument {
            schema_version: 4,
            heaplens_version: String::new(),
            document: heaplens_results::DocumentKind::Flame,
            file: "x".into(),
            base_file: None,
            by: FlameMeasure::Retained,
            scaled: false,
            names_normalized: false,
            total: FlameTotal {
                bytes: 100,
                count: 5,
            },
            base_total: None,
            tree_frames: 6,
            max_frames: 10,
            frames: vec![
                frame(0, None, 0, "ROOT", 100),
                frame(1, Some(0), 1, "A", 60),
                frame(2, Some(1), 2, "C", 50),
                frame(3, Some(1), 2, "D", 5),
                frame(4, Some(0), 1, "B", 40),
                frame(5, Some(4), 2, "C", 30),
            ],
            notes: Vec::new(),
        }
    }

    #[test]
    fn frames_lie_after_their_earlier_siblings() {
        let d = doc();
        let l = Layout::of(&d);
        let xs: Vec<(f64, f64, u32)> = l.places.iter().map(|p| (p.x, p.w, p.end)).collect();
        assert_eq!(
            xs,
            [
                (0.0, 100.0, 6),
                (0.0, 60.0, 4),
                (0.0, 50.0, 3),
                (50.0, 5.0, 4),
                (60.0, 40.0, 6),
                (60.0, 30.0, 6)
            ]
        );
        // Zoomed on B: ROOT above, B full width, its C three quarters.
        let v = visible(&d, &l, 4, 0.0);
        let got: Vec<(u32, f64, f64, bool)> =
            v.iter().map(|x| (x.id, x.left, x.width, x.above)).collect();
        assert_eq!(
            got,
            [
                (0, 0.0, 1.0, true),
                (4, 0.0, 1.0, false),
                (5, 0.0, 0.75, false)
            ]
        );
        // Narrow frames are left out: D is 5 % of the heap.
        let v = visible(&d, &l, 0, 0.06);
        assert!(v.iter().all(|x| x.id != 3));
        assert_eq!(v.len(), 5);
    }

    #[test]
    fn search_counts_nested_matches_once() {
        let d = doc();
        let l = Layout::of(&d);
        let (hit, bytes) = search(&d, &l, "c");
        assert_eq!(hit, [false, false, true, false, false, true]);
        assert_eq!(bytes, 80);
        // A and its C below: A's bytes once.
        let mut d2 = d.clone();
        d2.frames[2].name = "AC".into();
        let (_, bytes) = search(&d2, &l, "a");
        assert_eq!(bytes, 60);
        assert_eq!(search(&d, &l, "  ").1, 0);
    }

    #[test]
    fn arrow_keys_walk_the_tree() {
        let d = doc();
        let l = Layout::of(&d);
        assert_eq!(step(&d, &l, 0, 0, Move::Down), 1);
        assert_eq!(step(&d, &l, 0, 1, Move::Right), 4);
        assert_eq!(step(&d, &l, 0, 4, Move::Right), 4);
        assert_eq!(step(&d, &l, 0, 4, Move::Left), 1);
        assert_eq!(step(&d, &l, 0, 3, Move::Up), 1);
        assert_eq!(step(&d, &l, 0, 0, Move::Up), 0);
        // Zoomed on A: no way above or beside it.
        assert_eq!(step(&d, &l, 1, 1, Move::Up), 1);
        assert_eq!(step(&d, &l, 1, 1, Move::Right), 1);
        assert_eq!(step(&d, &l, 1, 5, Move::Down), 5);
        let text = describe(&d, &d.frames[1]);
        assert!(
            text.starts_with("A (type): 1 objects, 60 bytes, 60.00 % of the heap"),
            "{text}"
        );
    }
}
