//! What the metadata says about types beyond their names: their namespace,
//! their base types and the interfaces they implement.
//!
//! An input that knows them (a dump of process memory whose modules'
//! metadata is at hand) gives the graph a [`TypeHierarchy`]; one that does
//! not (a `.gcdump` holds names only) gives none, and
//! [`crate::Capabilities::type_hierarchy`] says so. Within a hierarchy, a
//! type whose module's metadata is missing is not [`known`]: nothing is
//! guessed from names.
//!
//! [`known`]: TypeHierarchy::known

use crate::graph::TypeIndex;
use std::collections::HashMap;

const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Entry {
    known: bool,
    namespace: u32,
    bases: (u32, u32),
    interfaces: (u32, u32),
}

const UNKNOWN: Entry = Entry {
    known: false,
    namespace: NONE,
    bases: (0, 0),
    interfaces: (0, 0),
};

/// Namespaces, base types and interfaces of a graph's types (by type
/// index), as names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeHierarchy {
    names: Vec<String>,
    entries: Vec<Entry>,
    lists: Vec<u32>,
}

impl TypeHierarchy {
    /// True when the hierarchy of type `t` is known (its metadata was
    /// read).
    pub fn known(&self, t: TypeIndex) -> bool {
        self.entry(t).known
    }

    /// The namespace of type `t` (of its outermost type for a nested one;
    /// of the element type for an array), when known and not empty.
    pub fn namespace(&self, t: TypeIndex) -> Option<&str> {
        match self.entry(t).namespace {
            NONE => None,
            i => Some(&self.names[i as usize]),
        }
    }

    /// The base types of type `t`, nearest first, `System.Object` last
    /// (empty when unknown, and for `System.Object` and interfaces).
    pub fn bases(&self, t: TypeIndex) -> impl Iterator<Item = &str> + '_ {
        self.list(self.entry(t).bases)
    }

    /// The interfaces type `t` implements: those its metadata and its base
    /// types' declare (`InterfaceImpl`), and those the runtime gives an
    /// array; a generic interface by its definition's name
    /// (``System.Collections.Generic.IList`1``). Empty when unknown.
    pub fn interfaces(&self, t: TypeIndex) -> impl Iterator<Item = &str> + '_ {
        self.list(self.entry(t).interfaces)
    }

    /// Heap memory held, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.names.iter().map(|s| s.capacity()).sum::<usize>()
            + self.names.capacity() * std::mem::size_of::<String>()
            + self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.lists.capacity() * 4
    }

    fn entry(&self, t: TypeIndex) -> Entry {
        self.entries.get(t as usize).copied().unwrap_or(UNKNOWN)
    }

    fn list(&self, (start, len): (u32, u32)) -> impl Iterator<Item = &str> + '_ {
        self.lists[start as usize..(start + len) as usize]
            .iter()
            .map(|&i| self.names[i as usize].as_str())
    }
}

/// Builds a [`TypeHierarchy`] type by type.
#[derive(Debug, Default)]
pub struct TypeHierarchyBuilder {
    h: TypeHierarchy,
    ids: HashMap<String, u32>,
}

impl TypeHierarchyBuilder {
    /// An empty hierarchy (every type unknown).
    pub fn new() -> Self {
        TypeHierarchyBuilder::default()
    }

    fn name(&mut self, s: &str) -> u32 {
        if let Some(&i) = self.ids.get(s) {
            return i;
        }
        let i = self.h.names.len() as u32;
        self.h.names.push(s.to_owned());
        self.ids.insert(s.to_owned(), i);
        i
    }

    fn names(&mut self, v: &[String]) -> (u32, u32) {
        let start = self.h.lists.len() as u32;
        for s in v {
            let i = self.name(s);
            self.h.lists.push(i);
        }
        (start, v.len() as u32)
    }

    /// Records that type `t` is in `namespace`, derives from `bases`
    /// (nearest first) and implements `interfaces`.
    pub fn set(
        &mut self,
        t: TypeIndex,
        namespace: Option<&str>,
        bases: &[String],
        interfaces: &[String],
    ) {
        let t = t as usize;
        if self.h.entries.len() <= t {
            self.h.entries.resize(t + 1, UNKNOWN);
        }
        let namespace = match namespace.filter(|n| !n.is_empty()) {
            Some(n) => self.name(n),
            None => NONE,
        };
        let bases = self.names(bases);
        let interfaces = self.names(interfaces);
        self.h.entries[t] = Entry {
            known: true,
            namespace,
            bases,
            interfaces,
        };
    }

    /// The hierarchy.
    pub fn finish(self) -> TypeHierarchy {
        self.h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_known_only_when_set() {
        let mut b = TypeHierarchyBuilder::new();
        b.set(
            2,
            Some("System.Collections.Generic"),
            &["System.Object".into()],
            &[
                "System.Collections.Generic.IList`1".into(),
                "System.Collections.IList".into(),
            ],
        );
        b.set(0, None, &[], &[]);
        let h = b.finish();
        assert!(h.known(2) && h.known(0) && !h.known(1) && !h.known(7));
        assert_eq!(h.namespace(2), Some("System.Collections.Generic"));
        assert_eq!(h.namespace(0), None);
        assert_eq!(h.bases(2).collect::<Vec<_>>(), ["System.Object"]);
        assert_eq!(h.interfaces(2).count(), 2);
        assert_eq!(h.interfaces(1).count(), 0);
    }
}
