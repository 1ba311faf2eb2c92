//! A reader of objects whose bytes are in memory, laid out from one base
//! address: for tests, fuzzing and tools that hold a heap's bytes
//! themselves (a dump's reader is `heaplens-clr`'s).

use crate::layout::TypeLayout;
use crate::reader::{ContentsError, MethodName, ObjectReader, StaticField};
use heaplens_graph::{HeapGraph, TypeIndex};
use std::borrow::Cow;
use std::sync::Arc;

/// The objects of `graph` over `bytes`, the memory from `base` on (the
/// dump holds exactly those bytes; a read past them is
/// [`ContentsError::Unreadable`]); one layout per type of the graph, in
/// its order; 8-byte pointers; no statics; the methods given with
/// [`BytesReader::with_method`].
#[derive(Debug)]
pub struct BytesReader<'a> {
    graph: HeapGraph,
    base: u64,
    bytes: Cow<'a, [u8]>,
    layouts: Cow<'a, [Arc<TypeLayout>]>,
    methods: Vec<(u64, MethodName)>,
}

impl<'a> BytesReader<'a> {
    /// The objects of `graph` over `bytes` from `base`, laid out as
    /// `layouts` say (indexed by type).
    pub fn new(
        graph: HeapGraph,
        base: u64,
        bytes: impl Into<Cow<'a, [u8]>>,
        layouts: impl Into<Cow<'a, [Arc<TypeLayout>]>>,
    ) -> Self {
        BytesReader {
            graph,
            base,
            bytes: bytes.into(),
            layouts: layouts.into(),
            methods: Vec::new(),
        }
    }

    /// The reader, with `name` the method whose code is at `code` (what a
    /// delegate's code pointer leads to).
    pub fn with_method(mut self, code: u64, name: MethodName) -> Self {
        self.methods.push((code, name));
        self
    }
}

impl ObjectReader for BytesReader<'_> {
    fn pointer_size(&self) -> u8 {
        8
    }
    fn graph(&self) -> &HeapGraph {
        &self.graph
    }
    fn read_memory(&self, address: u64, buf: &mut [u8]) -> Result<(), ContentsError> {
        let start = address
            .checked_sub(self.base)
            .and_then(|s| usize::try_from(s).ok());
        match start.and_then(|s| self.bytes.get(s..s.checked_add(buf.len())?)) {
            Some(b) => {
                buf.copy_from_slice(b);
                Ok(())
            }
            None => Err(ContentsError::Unreadable {
                address,
                len: buf.len() as u64,
                why: "not in the dump".into(),
            }),
        }
    }
    fn layout(&self, ty: TypeIndex) -> Result<Arc<TypeLayout>, ContentsError> {
        self.layouts
            .get(ty as usize)
            .cloned()
            .ok_or_else(|| ContentsError::Layout {
                type_name: format!("type {ty}"),
                why: "no such type".into(),
            })
    }
    fn method_at(&self, code: u64) -> Option<MethodName> {
        self.methods
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, m)| m.clone())
    }
    fn static_fields(&self, _: TypeIndex) -> Result<Vec<StaticField>, ContentsError> {
        Ok(Vec::new())
    }
}
