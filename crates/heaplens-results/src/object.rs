//! The `object` document: one object as the inspector shows it
//! (`heaplens object`; the page's inspector) — its type, size and retained
//! size, its fields and their values (or a string's text, an array's
//! elements, a boxed value), what a delegate calls, how full a collection
//! is, the objects referring to it and the chain of its dominators to a
//! root.

use crate::coverage::CoverageFacts;
use crate::roots::RootKind;
use crate::values::{FieldDoc, StringDoc, ValueDoc, Values};
use crate::{heaplens_version, Address, DocumentKind, NodeId, TypeId, SCHEMA_VERSION};
use heaplens_analysis::dominators::Dominators;
use heaplens_analysis::objects::{dominator_chain, referrers};
use heaplens_analysis::stats::TypeGroups;
use heaplens_contents::collections::collection_fill;
use heaplens_contents::delegates::delegate;
use heaplens_contents::inspect::{read_object, Contents, ReadOptions};
use heaplens_contents::ObjectReader;
use heaplens_graph::{HeapGraph, NodeIndex};
use heaplens_snapshot::Snapshot;
use serde::{Deserialize, Serialize};

/// An object of a snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The object.
    pub node: NodeId,
    /// Its address.
    pub address: Address,
    /// Its type's row id.
    pub type_id: TypeId,
    /// Its type's name.
    #[serde(rename = "type")]
    pub type_name: String,
}

impl ObjectRef {
    /// Object `n` of `g`.
    pub fn of(g: &HeapGraph, groups: &TypeGroups, n: NodeIndex) -> ObjectRef {
        let t = g.node_type(n);
        ObjectRef {
            node: NodeId(n),
            address: Address(g.node_address(n)),
            type_id: TypeId(groups.id_of(t)),
            type_name: g.type_info(t).name.clone(),
        }
    }
}

/// What an object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A class's instance (fields).
    Object,
    /// A boxed value type.
    Boxed,
    /// A string.
    String,
    /// An array.
    Array,
    /// Free space.
    Free,
    /// Its contents were not read (an input without them, or unreadable).
    Unknown,
}

/// An array's elements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArrayDoc {
    /// The element type.
    pub element_type: String,
    /// 1 for `T[]`.
    pub rank: u32,
    /// Elements in all.
    pub length: u64,
    /// The first element in `elements`.
    pub offset: u64,
    /// Elements from `offset`.
    pub elements: Vec<ValueDoc>,
}

/// What a delegate calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DelegateDoc {
    /// `_invocationCount` of a multicast delegate, 1 otherwise.
    pub invocation_count: u64,
    /// The delegates called, in order.
    pub invocations: Vec<InvocationDoc>,
}

/// One delegate of an invocation list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InvocationDoc {
    /// The delegate object.
    pub delegate: NodeId,
    /// The object the method is called on (`null` for a static method).
    pub target: Option<ObjectRef>,
    /// `Namespace.Type.Method`, `null` when the code pointer could not be
    /// resolved.
    pub method: Option<String>,
    /// The method's declaring type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_type: Option<String>,
    /// The method's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method_name: Option<String>,
    /// Its MethodDef token (hex).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// How the code pointer was resolved (`stub precode`, `fixup precode`,
    /// `jitted code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_via: Option<String>,
    /// The code pointer (`_methodPtrAux` when set, else `_methodPtr`).
    pub code: Address,
    /// A static method.
    pub is_static: bool,
}

/// How full a collection is (see the `waste` document).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CollectionDoc {
    /// `list`, `dictionary`, `hash_set`, `concurrent_dictionary`, `queue`,
    /// `stack`, `array`.
    pub kind: String,
    /// Elements held.
    pub count: u64,
    /// Slots of its storage.
    pub capacity: u64,
    /// `count ÷ capacity` (1 without capacity).
    pub fill_ratio: f64,
    /// Bytes of unused slots (an array of zeros or nulls: all of it).
    pub wasted_bytes: u64,
    /// The array holding the elements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage: Option<ObjectRef>,
    /// An array of nothing but zeros or nulls.
    #[serde(default, skip_serializing_if = "crate::is_false")]
    pub all_zero: bool,
}

/// A root holding an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RootRef {
    /// How it holds the object.
    pub kind: RootKind,
    /// The static field (`Type.field`) or the root's category, when known.
    pub name: Option<String>,
}

/// One object, as the inspector shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Object`].
    pub document: DocumentKind,
    /// The file as it was given.
    pub file: String,
    /// True when the snapshot is the whole heap's.
    pub complete: bool,
    /// How much of the heap, its roots and the file the input holds.
    pub coverage: CoverageFacts,
    /// True when the document carries values (field values, string
    /// text): they come from the dump and never leave the machine unless
    /// the document is exported; `--no-values` writes none.
    pub values: bool,
    /// True when the input holds object contents (false for a `.gcdump`:
    /// then `fields`, `string`, `array`, `boxed`, `delegate` and
    /// `collection` are empty, and `contents_note` says why).
    pub contents: bool,
    /// Why the contents are not shown, when they are not.
    pub contents_note: Option<String>,
    /// The object.
    pub node: NodeId,
    /// Its address.
    pub address: Address,
    /// Its type's row id.
    pub type_id: TypeId,
    /// Its type's name.
    #[serde(rename = "type")]
    pub type_name: String,
    /// Its type's module.
    pub module: Option<String>,
    /// Its size in bytes.
    pub size: u64,
    /// Bytes freed if it were freed (`null` for an object no root
    /// reaches, or without the dominator tree).
    pub retained_bytes: Option<u64>,
    /// A live root reaches it (`null` without the dominator tree).
    pub reachable: Option<bool>,
    /// What it is.
    pub kind: ObjectKind,
    /// Its fields (its base classes' first), offsets from its address.
    pub fields: Vec<FieldDoc>,
    /// A string's text (up to the characters asked for).
    pub string: Option<StringDoc>,
    /// An array's elements (those asked for).
    pub array: Option<ArrayDoc>,
    /// A boxed value type's value.
    pub boxed: Option<ValueDoc>,
    /// What a delegate calls.
    pub delegate: Option<DelegateDoc>,
    /// How full a collection (or an array) is.
    pub collection: Option<CollectionDoc>,
    /// Objects referring to it (the first `referrers` asked for, in
    /// address order).
    pub referrers: Vec<ObjectRef>,
    /// How many objects refer to it.
    pub referrer_count: u64,
    /// Its immediate dominator, that one's, … up to the object a root holds
    /// (nearest first; empty when a root holds the object itself).
    pub dominators: Vec<ObjectRef>,
    /// The roots holding the last of `dominators` (or the object itself);
    /// none listed when separate roots reach it by separate paths.
    pub roots: Vec<RootRef>,
    /// What could not be read, in words.
    pub notes: Vec<String>,
}

/// What to put in an object document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectOptions {
    /// Write values (false: every value redacted, `values` false).
    pub values: bool,
    /// Characters of the object's own text (a string).
    pub string_chars: usize,
    /// Characters of referenced strings.
    pub preview_chars: usize,
    /// First array element.
    pub element_offset: u64,
    /// Array elements.
    pub elements: usize,
    /// Referrers to list.
    pub referrers: usize,
    /// Dominators to list.
    pub dominators: usize,
}

impl Default for ObjectOptions {
    fn default() -> Self {
        ObjectOptions {
            values: true,
            string_chars: 4096,
            preview_chars: 100,
            element_offset: 0,
            elements: 100,
            referrers: 50,
            dominators: 64,
        }
    }
}

impl ObjectDocument {
    /// Object `node` of `snapshot`; its contents through `reader` (none
    /// for an input without contents: `no_contents` says why), its
    /// retained size and dominators from `dom` when given.
    pub fn build(
        file: &str,
        snapshot: &Snapshot,
        node: NodeIndex,
        reader: Result<&dyn ObjectReader, String>,
        dom: Option<&Dominators>,
        opts: ObjectOptions,
    ) -> ObjectDocument {
        let g = &snapshot.graph;
        let groups = TypeGroups::of(g);
        let values = Values::new(g, &groups, opts.values);
        let t = g.node_type(node);
        let mut doc = ObjectDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Object,
            file: file.to_owned(),
            complete: snapshot.info.coverage.is_complete(),
            coverage: CoverageFacts::of(&snapshot.info.coverage),
            values: false,
            contents: false,
            contents_note: None,
            node: NodeId(node),
            address: Address(g.node_address(node)),
            type_id: TypeId(groups.id_of(t)),
            type_name: g.type_info(t).name.clone(),
            module: g.type_module(t).map(str::to_owned),
            size: g.node_size(node),
            retained_bytes: dom
                .filter(|d| d.is_reachable(node))
                .map(|d| heaplens_analysis::retained::retained_sizes(g, d).get(node)),
            reachable: dom.map(|d| d.is_reachable(node)),
            kind: ObjectKind::Unknown,
            fields: Vec::new(),
            string: None,
            array: None,
            boxed: None,
            delegate: None,
            collection: None,
            referrers: Vec::new(),
            referrer_count: 0,
            dominators: Vec::new(),
            roots: Vec::new(),
            notes: Vec::new(),
        };
        match reader {
            Ok(r) => doc.read_contents(r, node, &values, &groups, opts),
            Err(why) => doc.contents_note = Some(why),
        }
        let (refs, count) = referrers(g, node, opts.referrers);
        doc.referrers = refs.iter().map(|&n| ObjectRef::of(g, &groups, n)).collect();
        doc.referrer_count = count;
        if let Some(chain) = dom.and_then(|d| dominator_chain(d, node, opts.dominators)) {
            let top = chain.last().copied().unwrap_or(node);
            doc.dominators = chain
                .iter()
                .map(|&n| ObjectRef::of(g, &groups, n))
                .collect();
            doc.roots = g
                .roots()
                .iter()
                .filter(|r| r.object == top && r.kind.keeps_alive())
                .take(10)
                .map(|r| RootRef {
                    kind: RootKind::from(r.kind),
                    name: g.root_name(r).map(str::to_owned),
                })
                .collect();
        }
        doc
    }

    fn read_contents(
        &mut self,
        r: &dyn ObjectReader,
        node: NodeIndex,
        values: &Values<'_>,
        groups: &TypeGroups,
        opts: ObjectOptions,
    ) {
        let g = r.graph();
        let read = ReadOptions {
            decode: heaplens_contents::value::DecodeOptions {
                string_chars: opts.preview_chars,
                depth: 4,
            },
            string_chars: opts.string_chars,
            element_offset: opts.element_offset,
            elements: opts.elements,
        };
        let o = match read_object(r, node, read) {
            Ok(o) => o,
            Err(e) => {
                self.contents_note = Some(e.to_string());
                return;
            }
        };
        self.contents = true;
        self.values = opts.values;
        self.notes.extend(o.layout.notes.iter().cloned());
        match &o.contents {
            Contents::Fields(f) => {
                self.kind = ObjectKind::Object;
                self.fields = f.iter().map(|f| values.field(f)).collect();
            }
            Contents::Boxed { value, fields } => {
                self.kind = ObjectKind::Boxed;
                self.boxed = Some(values.value(value));
                self.fields = fields.iter().map(|f| values.field(f)).collect();
            }
            Contents::String(s) => {
                self.kind = ObjectKind::String;
                self.string = Some(StringDoc {
                    text: if opts.values {
                        s.text.clone()
                    } else {
                        String::new()
                    },
                    length: s.length,
                    truncated: s.truncated || !opts.values,
                });
            }
            Contents::Array {
                element_type,
                rank,
                length,
                offset,
                elements,
            } => {
                self.kind = ObjectKind::Array;
                self.array = Some(ArrayDoc {
                    element_type: element_type.clone(),
                    rank: *rank,
                    length: *length,
                    offset: *offset,
                    elements: elements.iter().map(|v| values.value(v)).collect(),
                });
            }
            Contents::Free => self.kind = ObjectKind::Free,
        }
        if let Some(d) = delegate(r, node) {
            self.delegate = Some(DelegateDoc {
                invocation_count: d.invocation_count,
                invocations: d
                    .invocations
                    .iter()
                    .map(|i| InvocationDoc {
                        delegate: NodeId(i.delegate),
                        target: i.target.map(|t| ObjectRef::of(g, groups, t)),
                        method: i.method.as_ref().map(|m| m.full()),
                        method_type: i.method.as_ref().map(|m| m.type_name.clone()),
                        method_name: i.method.as_ref().map(|m| m.method.clone()),
                        token: i.method.as_ref().map(|m| format!("{:#010x}", m.token)),
                        resolved_via: i.method.as_ref().map(|m| m.via.to_owned()),
                        code: Address(i.code),
                        is_static: i.is_static,
                    })
                    .collect(),
            });
        }
        if let Some(c) = collection_fill(r, node) {
            self.collection = Some(CollectionDoc {
                kind: c.kind.as_str().to_owned(),
                count: c.count,
                capacity: c.capacity,
                fill_ratio: c.fill_ratio(),
                wasted_bytes: c.wasted_bytes,
                storage: c.storage.map(|s| ObjectRef::of(g, groups, s)),
                all_zero: c.all_zero,
            });
        }
    }
}
