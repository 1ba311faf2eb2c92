//! Collections and how full they are: `List<T>`, `Dictionary<K,V>`,
//! `HashSet<T>`, `ConcurrentDictionary<K,V>`, `Queue<T>`, `Stack<T>` and
//! arrays.
//!
//! Field names differ between runtime versions (`HashSet<T>` keeps
//! `_slots` and no free count in .NET Core 3.1, `_entries` and
//! `_freeCount` since .NET 5); they are read from the type's layout (the
//! dump's own metadata), never assumed: a collection whose layout has
//! none of the known field sets is not measured.

use crate::inspect::{array_is_all_zero, array_length, field_int, field_ref};
use crate::layout::{Shape, TypeLayout};
use crate::reader::ObjectReader;
use heaplens_graph::NodeIndex;

/// What kind of collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CollectionKind {
    /// `System.Collections.Generic.List<T>`.
    List,
    /// `System.Collections.Generic.Dictionary<K,V>`.
    Dictionary,
    /// `System.Collections.Generic.HashSet<T>`.
    HashSet,
    /// `System.Collections.Concurrent.ConcurrentDictionary<K,V>`.
    ConcurrentDictionary,
    /// `System.Collections.Generic.Queue<T>`.
    Queue,
    /// `System.Collections.Generic.Stack<T>`.
    Stack,
    /// An array.
    Array,
}

impl CollectionKind {
    /// A short stable name (`list`, `dictionary`, …), used in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            CollectionKind::List => "list",
            CollectionKind::Dictionary => "dictionary",
            CollectionKind::HashSet => "hash_set",
            CollectionKind::ConcurrentDictionary => "concurrent_dictionary",
            CollectionKind::Queue => "queue",
            CollectionKind::Stack => "stack",
            CollectionKind::Array => "array",
        }
    }

    /// The kind of a type by its name (`None` for other types).
    pub fn of(type_name: &str) -> Option<CollectionKind> {
        const KINDS: [(&str, CollectionKind); 6] = [
            ("System.Collections.Generic.List`1[", CollectionKind::List),
            (
                "System.Collections.Generic.Dictionary`2[",
                CollectionKind::Dictionary,
            ),
            (
                "System.Collections.Generic.HashSet`1[",
                CollectionKind::HashSet,
            ),
            (
                "System.Collections.Concurrent.ConcurrentDictionary`2[",
                CollectionKind::ConcurrentDictionary,
            ),
            ("System.Collections.Generic.Queue`1[", CollectionKind::Queue),
            ("System.Collections.Generic.Stack`1[", CollectionKind::Stack),
        ];
        KINDS
            .iter()
            .find(|(p, _)| type_name.starts_with(p))
            .map(|&(_, k)| k)
    }
}

/// How full one collection is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionFill {
    /// The collection.
    pub node: NodeIndex,
    /// Its kind.
    pub kind: CollectionKind,
    /// Elements held.
    pub count: u64,
    /// Slots its storage has (an array's length).
    pub capacity: u64,
    /// Bytes of storage its unused slots take (for an array of zeros or
    /// nulls, all its elements' bytes).
    pub wasted_bytes: u64,
    /// The array holding the elements (for a collection; `None` before it
    /// has one).
    pub storage: Option<NodeIndex>,
    /// Another array of the collection's (a hash table's buckets).
    pub also: Option<NodeIndex>,
    /// Which fields were read (`_items`/`_size`, …), for the report.
    pub fields: &'static str,
    /// For an array: every element zero or null.
    pub all_zero: bool,
}

impl CollectionFill {
    /// `count ÷ capacity` (1 for no capacity).
    pub fn fill_ratio(&self) -> f64 {
        if self.capacity == 0 {
            1.0
        } else {
            self.count as f64 / self.capacity as f64
        }
    }

    /// Holds nothing.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }
}

/// Bytes per element and length of the array `node` (`None` if it is not
/// one or cannot be read).
fn array_shape(r: &dyn ObjectReader, node: NodeIndex) -> Option<(u64, u64)> {
    let layout = r.layout(r.graph().node_type(node)).ok()?;
    let Shape::Array(a) = &layout.shape else {
        return None;
    };
    Some((
        u64::from(a.element_size),
        array_length(r, node, &layout).ok()?,
    ))
}

/// A collection's fill: `count` elements in the storage array at field
/// `store` (bytes per unused slot: the storage's element size plus
/// `extra` bytes per slot of another array of the same length).
fn fill(
    r: &dyn ObjectReader,
    node: NodeIndex,
    kind: CollectionKind,
    store: &str,
    count: i128,
    extra: u64,
    fields: &'static str,
) -> Option<CollectionFill> {
    let count = count.max(0) as u64;
    let storage = field_ref(r, node, store);
    let (elem, capacity) = match storage {
        Some(s) => array_shape(r, s)?,
        None => (0, 0),
    };
    let unused = capacity.saturating_sub(count);
    Some(CollectionFill {
        node,
        kind,
        count,
        capacity,
        wasted_bytes: unused.saturating_mul(elem + extra),
        storage,
        also: None,
        fields,
        all_zero: false,
    })
}

/// How full object `node` is, when it is a collection heaplens knows or an
/// array.
pub fn collection_fill(r: &dyn ObjectReader, node: NodeIndex) -> Option<CollectionFill> {
    let g = r.graph();
    let layout = r.layout(g.node_type(node)).ok()?;
    if let Shape::Array(a) = &layout.shape {
        return array_fill(r, node, &layout, u64::from(a.element_size));
    }
    let kind = CollectionKind::of(&layout.name)?;
    let has = |f: &str| layout.field(f).is_some();
    let int = |f: &str| field_int(r, node, f);
    match kind {
        CollectionKind::List if has("_items") && has("_size") => {
            fill(r, node, kind, "_items", int("_size")?, 0, "_items/_size")
        }
        CollectionKind::Queue | CollectionKind::Stack if has("_array") && has("_size") => {
            fill(r, node, kind, "_array", int("_size")?, 0, "_array/_size")
        }
        CollectionKind::Dictionary | CollectionKind::HashSet => {
            let (store, fields) = if has("_entries") {
                ("_entries", "_entries/_count/_freeCount")
            } else if has("_slots") {
                ("_slots", "_slots/_count")
            } else {
                return None;
            };
            // Live elements: `_count` less the free list's `_freeCount`
            // where there is one (.NET Core 3.1's HashSet counts live
            // elements in `_count`).
            let count = int("_count")?
                - if has("_freeCount") {
                    int("_freeCount")?
                } else {
                    0
                };
            // The buckets (an int[] as long as the entries) are unused
            // slots too.
            let buckets = field_ref(r, node, "_buckets");
            let bucket = buckets
                .and_then(|b| array_shape(r, b))
                .map_or(0, |(e, _)| e);
            let mut f = fill(r, node, kind, store, count, bucket, fields)?;
            f.also = buckets;
            Some(f)
        }
        CollectionKind::ConcurrentDictionary => {
            let tables = field_ref(r, node, "_tables")?;
            let counts = field_ref(r, tables, "_countPerLock")?;
            let cl = r.layout(g.node_type(counts)).ok()?;
            let n = array_length(r, counts, &cl).ok()?.min(1 << 16);
            let values =
                crate::inspect::array_elements(r, counts, &cl, 0, n, Default::default()).ok()?;
            let count: i128 = values
                .iter()
                .map(|v| match v {
                    crate::value::Value::Int(x) => *x as i128,
                    crate::value::Value::UInt(x) => *x as i128,
                    _ => 0,
                })
                .sum();
            let mut f = fill(
                r,
                tables,
                kind,
                "_buckets",
                count,
                0,
                "_tables._buckets/_countPerLock",
            )?;
            f.node = node;
            Some(f)
        }
        _ => None,
    }
}

/// An array's fill: its length; all of it wasted when every element is
/// zero or null.
fn array_fill(
    r: &dyn ObjectReader,
    node: NodeIndex,
    layout: &TypeLayout,
    element_size: u64,
) -> Option<CollectionFill> {
    let length = array_length(r, node, layout).ok()?;
    let all_zero = length > 0 && array_is_all_zero(r, node, layout)?;
    Some(CollectionFill {
        node,
        kind: CollectionKind::Array,
        count: if all_zero { 0 } else { length },
        capacity: length,
        wasted_bytes: if all_zero {
            length.saturating_mul(element_size)
        } else {
            0
        },
        storage: None,
        also: None,
        fields: "",
        all_zero,
    })
}
