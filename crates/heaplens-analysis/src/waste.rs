//! Wasted collections (Eclipse MAT's component report): empty collections,
//! collections whose storage is mostly unused (fill ratio = count ÷
//! capacity), arrays of nothing but zeros or nulls — with the bytes the
//! unused slots take and the types that hold them.
//!
//! An array that is a known collection's storage is counted with its
//! collection, not again as an array.

use heaplens_contents::collections::{collection_fill, CollectionFill, CollectionKind};
use heaplens_contents::layout::Shape;
use heaplens_contents::{ContentsError, ObjectReader};
use heaplens_graph::{HeapGraph, NodeIndex, Phase, Progress, TypeIndex};
use std::collections::{HashMap, HashSet};

/// What to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasteOptions {
    /// Collections to list, most wasted bytes first.
    pub top: usize,
    /// Types and holders to list.
    pub types: usize,
}

impl Default for WasteOptions {
    fn default() -> Self {
        WasteOptions { top: 20, types: 50 }
    }
}

/// The collections of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeWaste {
    /// The type.
    pub type_index: TypeIndex,
    /// Its kind.
    pub kind: CollectionKind,
    /// Live objects of it examined.
    pub objects: u64,
    /// Those holding nothing.
    pub empty: u64,
    /// Bytes of the empty ones (their own size).
    pub empty_bytes: u64,
    /// Elements held, in all.
    pub count: u64,
    /// Slots, in all.
    pub capacity: u64,
    /// Bytes of unused slots (and of arrays of zeros or nulls).
    pub wasted_bytes: u64,
    /// Arrays of nothing but zeros or nulls (arrays only).
    pub all_zero: u64,
}

impl TypeWaste {
    /// `count ÷ capacity` over the type's objects (1 without capacity).
    pub fn fill_ratio(&self) -> f64 {
        if self.capacity == 0 {
            1.0
        } else {
            self.count as f64 / self.capacity as f64
        }
    }
}

/// A type holding wasteful collections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// The holding type (of the first object referring to each
    /// collection, in address order).
    pub type_index: TypeIndex,
    /// Collections it holds that waste bytes or are empty.
    pub collections: u64,
    /// Their wasted bytes.
    pub wasted_bytes: u64,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WasteReport {
    /// Live collections and arrays examined.
    pub examined: u64,
    /// Bytes of unused slots and arrays of zeros, in all.
    pub wasted_bytes: u64,
    /// Empty collections (arrays of length 0 not counted).
    pub empty: u64,
    /// Per type, most wasted bytes first (`types` of them).
    pub types: Vec<TypeWaste>,
    /// The collections wasting the most (`top` of them), each with its
    /// holder (the first object referring to it).
    pub top: Vec<(CollectionFill, Option<NodeIndex>)>,
    /// Holding types, most wasted bytes first (`types` of them).
    pub holders: Vec<Holder>,
    /// Objects whose contents could not be read.
    pub unreadable: u64,
}

/// The wasted collections among the live (`live(n)`) objects.
pub fn collection_waste(
    r: &dyn ObjectReader,
    live: &dyn Fn(NodeIndex) -> bool,
    opts: WasteOptions,
    progress: &mut dyn Progress,
) -> Result<WasteReport, ContentsError> {
    let g = r.graph();
    // Which types are collections (by kind) or arrays.
    let mut kind: Vec<Option<CollectionKind>> = vec![None; g.types().len()];
    for (t, info) in g.types().iter().enumerate() {
        if info.kind != heaplens_graph::TypeKind::Object {
            continue;
        }
        kind[t] = CollectionKind::of(&info.name).or_else(|| {
            info.name
                .ends_with(']')
                .then(|| r.layout(t as TypeIndex).ok())
                .flatten()
                .filter(|l| matches!(l.shape, Shape::Array(_)))
                .map(|_| CollectionKind::Array)
        });
    }
    let n = g.node_count() as NodeIndex;
    let mut fills: Vec<CollectionFill> = Vec::new();
    let mut storage: HashSet<NodeIndex> = HashSet::new();
    let mut report = WasteReport::default();
    // Collections first: their storage arrays are theirs.
    for pass in [false, true] {
        for node in 0..n {
            if node % (1 << 16) == 0 {
                progress.update(
                    Phase::MeasuringCollections,
                    u64::from(node) + if pass { u64::from(n) } else { 0 },
                    2 * u64::from(n),
                )?;
            }
            let Some(k) = kind[g.node_type(node) as usize] else {
                continue;
            };
            if (k == CollectionKind::Array) != pass || !live(node) {
                continue;
            }
            if pass && storage.contains(&node) {
                continue;
            }
            match collection_fill(r, node) {
                Some(f) => {
                    storage.extend(f.storage);
                    storage.extend(f.also);
                    fills.push(f);
                }
                None => report.unreadable += 1,
            }
        }
    }
    report.examined = fills.len() as u64;
    // Per type.
    let mut by_type: HashMap<TypeIndex, TypeWaste> = HashMap::new();
    for f in &fills {
        let t = g.node_type(f.node);
        let w = by_type.entry(t).or_insert(TypeWaste {
            type_index: t,
            kind: f.kind,
            objects: 0,
            empty: 0,
            empty_bytes: 0,
            count: 0,
            capacity: 0,
            wasted_bytes: 0,
            all_zero: 0,
        });
        w.objects += 1;
        let empty = f.kind != CollectionKind::Array && f.is_empty();
        if empty {
            w.empty += 1;
            w.empty_bytes += g.node_size(f.node);
            report.empty += 1;
        }
        w.count += f.count;
        w.capacity += f.capacity;
        w.wasted_bytes += f.wasted_bytes;
        w.all_zero += u64::from(f.all_zero);
        report.wasted_bytes += f.wasted_bytes;
    }
    let mut types: Vec<TypeWaste> = by_type.into_values().collect();
    types.sort_by_key(|w| {
        (
            std::cmp::Reverse(w.wasted_bytes + w.empty_bytes),
            w.type_index,
        )
    });
    types.truncate(opts.types);
    report.types = types;
    // Holders: the first referrer of each wasteful collection.
    let wasteful: HashSet<NodeIndex> = fills
        .iter()
        .filter(|f| f.wasted_bytes > 0 || (f.kind != CollectionKind::Array && f.is_empty()))
        .map(|f| f.node)
        .collect();
    let holder_of = first_referrers(g, &wasteful);
    let mut holders: HashMap<TypeIndex, Holder> = HashMap::new();
    for f in fills.iter().filter(|f| wasteful.contains(&f.node)) {
        if let Some(&h) = holder_of.get(&f.node) {
            let t = g.node_type(h);
            let e = holders.entry(t).or_insert(Holder {
                type_index: t,
                collections: 0,
                wasted_bytes: 0,
            });
            e.collections += 1;
            e.wasted_bytes += f.wasted_bytes;
        }
    }
    let mut holders: Vec<Holder> = holders.into_values().collect();
    holders.sort_by_key(|h| {
        (
            std::cmp::Reverse(h.wasted_bytes),
            std::cmp::Reverse(h.collections),
            h.type_index,
        )
    });
    holders.truncate(opts.types);
    report.holders = holders;
    fills.sort_by_key(|f| (std::cmp::Reverse(f.wasted_bytes), f.node));
    report.top = fills
        .into_iter()
        .filter(|f| f.wasted_bytes > 0)
        .take(opts.top)
        .map(|f| {
            let h = holder_of.get(&f.node).copied();
            (f, h)
        })
        .collect();
    Ok(report)
}

/// The first object (in node order) referring to each of `targets`.
pub fn first_referrers(
    g: &HeapGraph,
    targets: &HashSet<NodeIndex>,
) -> HashMap<NodeIndex, NodeIndex> {
    let mut out = HashMap::new();
    if targets.is_empty() {
        return out;
    }
    for src in 0..g.node_count() as NodeIndex {
        for c in g.children(src) {
            if *c != src && targets.contains(c) {
                out.entry(*c).or_insert(src);
            }
        }
    }
    out
}
