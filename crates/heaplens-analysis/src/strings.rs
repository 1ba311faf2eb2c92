//! Duplicate strings: string objects with equal text, the bytes all but
//! one copy of each take, and the type that holds the most copies.
//!
//! Reads every live string's text through the [`ObjectReader`] in large
//! sequential blocks (the heap's order), hashes it, then confirms each
//! group of equal hashes byte for byte (so the groups are exact). The
//! holder of a group is the type of the objects that refer to its copies:
//! the one referring to the most copies (a copy referred to by objects of
//! two types counts for both).

use heaplens_contents::layout::Shape;
use heaplens_contents::{ContentsError, ObjectReader};
use heaplens_graph::{HeapGraph, NodeIndex, Phase, Progress, TypeIndex};
use std::collections::HashMap;

/// Bytes read at once when the strings are scanned.
const BLOCK: u64 = 1 << 20;
/// Largest gap between objects a block spans.
const MAX_GAP: u64 = 4096;

/// What to look for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringOptions {
    /// Values with at least this many copies are duplicates (at least 2).
    pub min_copies: u64,
    /// Groups to keep, most wasted bytes first.
    pub top: usize,
    /// Strings containing this text (UTF-16 code units, case-sensitive).
    pub search: Option<String>,
    /// Matches to keep.
    pub search_limit: usize,
}

impl Default for StringOptions {
    fn default() -> Self {
        StringOptions {
            min_copies: 2,
            top: 50,
            search: None,
            search_limit: 100,
        }
    }
}

/// One duplicated value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateGroup {
    /// A copy (the first in address order).
    pub example: NodeIndex,
    /// Copies.
    pub copies: u64,
    /// Its length in UTF-16 code units.
    pub length: u32,
    /// Bytes of one copy (its object's size).
    pub size: u64,
    /// `(copies − 1) × size`: freed if all copies were one.
    pub wasted_bytes: u64,
    /// The types of the objects referring to its copies, with how many
    /// copies each refers to, most first (at most 5).
    pub holders: Vec<(TypeIndex, u64)>,
}

/// The strings of a heap.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StringReport {
    /// Live string objects.
    pub strings: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Distinct values.
    pub distinct: u64,
    /// Values with at least `min_copies` copies.
    pub duplicated_values: u64,
    /// Copies beyond the first of those values.
    pub extra_copies: u64,
    /// Bytes of those extra copies.
    pub wasted_bytes: u64,
    /// The groups with the most wasted bytes (`top` of them).
    pub groups: Vec<DuplicateGroup>,
    /// Strings containing the text searched for (`search_limit` of them),
    /// and how many in all.
    pub matches: Vec<NodeIndex>,
    /// All matches.
    pub match_count: u64,
    /// Strings whose bytes the dump does not hold.
    pub unreadable: u64,
}

/// Sequential reads of the heap in blocks: an object's bytes come from the
/// block holding it.
struct Blocks<'a> {
    r: &'a dyn ObjectReader,
    g: &'a HeapGraph,
    start: u64,
    buf: Vec<u8>,
}

impl<'a> Blocks<'a> {
    fn new(r: &'a dyn ObjectReader) -> Blocks<'a> {
        Blocks {
            r,
            g: r.graph(),
            start: 0,
            buf: Vec::new(),
        }
    }

    /// The `len` bytes at `addr` of node `n` (read with the objects after
    /// it, up to a block), or `None` when the dump lacks them.
    fn get(&mut self, n: NodeIndex, addr: u64, len: u64) -> Option<&[u8]> {
        let end = addr.checked_add(len)?;
        let have = addr >= self.start && end <= self.start + self.buf.len() as u64;
        if !have {
            // A block from this object over its neighbours, never over a
            // gap (memory between segments may be missing).
            let mut block_end = end;
            let mut m = n + 1;
            while (m as usize) < self.g.node_count() {
                let a = self.g.node_address(m);
                let e = a.saturating_add(self.g.node_size(m));
                if a > block_end.saturating_add(MAX_GAP) || e - addr > BLOCK {
                    break;
                }
                block_end = block_end.max(e);
                m += 1;
            }
            // An object bigger than a block is read alone, and only when
            // the dump holds its last byte: no buffer is sized by an
            // object the dump does not hold.
            if len > BLOCK {
                let mut last = [0u8; 1];
                self.r.read_memory(end - 1, &mut last).ok()?;
            }
            self.buf.resize((block_end - addr) as usize, 0);
            self.start = addr;
            if self.r.read_memory(addr, &mut self.buf).is_err() {
                // The block may run into missing memory: this object only.
                self.buf.resize(len as usize, 0);
                if self.r.read_memory(addr, &mut self.buf).is_err() {
                    self.buf.clear();
                    return None;
                }
            }
        }
        let off = (addr - self.start) as usize;
        self.buf.get(off..off + len as usize)
    }
}

/// A 64-bit hash of a string's bytes (word at a time; collisions are
/// resolved by comparing the bytes).
fn hash(b: &[u8]) -> u64 {
    let mut h: u64 = 0x9E37_79B9_7F4A_7C15 ^ b.len() as u64;
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_le_bytes(w.try_into().unwrap_or([0; 8]));
        h = (h ^ v).wrapping_mul(0xFF51_AFD7_ED55_8CCD).rotate_left(29);
    }
    for &x in words.remainder() {
        h = (h ^ u64::from(x))
            .wrapping_mul(0xC4CE_B9FE_1A85_EC53)
            .rotate_left(23);
    }
    h ^ (h >> 33)
}

/// The duplicate strings among the live (`live(n)`) strings of the heap
/// `r` reads.
pub fn duplicate_strings(
    r: &dyn ObjectReader,
    live: &dyn Fn(NodeIndex) -> bool,
    opts: &StringOptions,
    progress: &mut dyn Progress,
) -> Result<StringReport, ContentsError> {
    let g = r.graph();
    // Which types are strings, and where their text is.
    let mut shape: Vec<Option<(u32, u32)>> = vec![None; g.types().len()];
    for (t, info) in g.types().iter().enumerate() {
        if info.kind != heaplens_graph::TypeKind::Object || !info.name.contains("String") {
            continue;
        }
        if let Ok(l) = r.layout(t as TypeIndex) {
            if let Shape::String {
                length_offset,
                chars_offset,
            } = l.shape
            {
                shape[t] = Some((length_offset, chars_offset));
            }
        }
    }
    let needle: Option<Vec<u8>> = opts
        .search
        .as_ref()
        .map(|s| s.encode_utf16().flat_map(|u| u.to_le_bytes()).collect());
    let finder = needle
        .as_ref()
        .filter(|n| !n.is_empty())
        .map(|n| memchr::memmem::Finder::new(n.as_slice()).into_owned());
    let mut report = StringReport::default();
    let mut keys: Vec<(u64, u32, NodeIndex)> = Vec::new();
    let mut blocks = Blocks::new(r);
    let n = g.node_count() as NodeIndex;
    for node in 0..n {
        if node % (1 << 16) == 0 {
            progress.update(Phase::ReadingStrings, u64::from(node), u64::from(n))?;
        }
        let Some((lo, co)) = shape[g.node_type(node) as usize] else {
            continue;
        };
        if !live(node) {
            continue;
        }
        let size = g.node_size(node);
        report.strings += 1;
        report.bytes += size;
        let addr = g.node_address(node);
        let Some(obj) = blocks.get(node, addr, size) else {
            report.unreadable += 1;
            continue;
        };
        let Some(len) = obj
            .get(lo as usize..lo as usize + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        else {
            report.unreadable += 1;
            continue;
        };
        // The length the string claims, clamped to what its object holds
        // (a damaged length never decides what is read or allocated).
        let chars = (u64::from(len) * 2).min(size.saturating_sub(u64::from(co))) as usize;
        let len = (chars / 2) as u32;
        let text = obj.get(co as usize..co as usize + chars).unwrap_or(&[]);
        if let Some(f) = &finder {
            // A match at an even offset (whole code units).
            let hit = f.find_iter(text).any(|i| i % 2 == 0);
            if hit {
                report.match_count += 1;
                if report.matches.len() < opts.search_limit {
                    report.matches.push(node);
                }
            }
        }
        keys.push((hash(text), len, node));
    }
    // Groups of equal hash and length, confirmed byte for byte.
    keys.sort_unstable();
    let min = opts.min_copies.max(2);
    let mut groups: Vec<(DuplicateGroup, Vec<NodeIndex>)> = Vec::new();
    let mut i = 0;
    while i < keys.len() {
        let mut j = i + 1;
        while j < keys.len() && keys[j].0 == keys[i].0 && keys[j].1 == keys[i].1 {
            j += 1;
        }
        for members in confirm(r, &keys[i..j]) {
            report.distinct += 1;
            let copies = members.len() as u64;
            if copies < min {
                continue;
            }
            let example = members[0];
            let size = g.node_size(example);
            let wasted = (copies - 1) * size;
            report.duplicated_values += 1;
            report.extra_copies += copies - 1;
            report.wasted_bytes += wasted;
            groups.push((
                DuplicateGroup {
                    example,
                    copies,
                    length: keys[i].1,
                    size,
                    wasted_bytes: wasted,
                    holders: Vec::new(),
                },
                members,
            ));
        }
        i = j;
    }
    groups.sort_by(|a, b| {
        (b.0.wasted_bytes, b.0.copies)
            .cmp(&(a.0.wasted_bytes, a.0.copies))
            .then(a.0.example.cmp(&b.0.example))
    });
    groups.truncate(opts.top);
    holders(g, &mut groups);
    report.groups = groups.into_iter().map(|(g, _)| g).collect();
    Ok(report)
}

/// Splits nodes of equal hash and length into groups of equal bytes.
fn confirm(r: &dyn ObjectReader, keys: &[(u64, u32, NodeIndex)]) -> Vec<Vec<NodeIndex>> {
    if keys.len() == 1 {
        return vec![vec![keys[0].2]];
    }
    let g = r.graph();
    let text = |n: NodeIndex| -> Option<Vec<u8>> {
        let l = r.layout(g.node_type(n)).ok()?;
        let Shape::String { chars_offset, .. } = l.shape else {
            return None;
        };
        let len = u64::from(keys[0].1) * 2;
        let mut b = vec![0u8; len as usize];
        r.read_memory(g.node_address(n) + u64::from(chars_offset), &mut b)
            .ok()?;
        Some(b)
    };
    let mut out: Vec<(Vec<u8>, Vec<NodeIndex>)> = Vec::new();
    let mut nodes: Vec<NodeIndex> = keys.iter().map(|k| k.2).collect();
    nodes.sort_unstable();
    for n in nodes {
        let Some(t) = text(n) else { continue };
        match out.iter_mut().find(|(b, _)| *b == t) {
            Some((_, v)) => v.push(n),
            None => out.push((t, vec![n])),
        }
    }
    out.into_iter().map(|(_, v)| v).collect()
}

/// The types referring to each group's copies (one pass over the
/// references).
fn holders(g: &HeapGraph, groups: &mut [(DuplicateGroup, Vec<NodeIndex>)]) {
    let mut member: HashMap<NodeIndex, usize> = HashMap::new();
    for (i, (_, m)) in groups.iter().enumerate() {
        for &n in m {
            member.insert(n, i);
        }
    }
    if member.is_empty() {
        return;
    }
    let mut counts: Vec<HashMap<TypeIndex, u64>> = vec![HashMap::new(); groups.len()];
    for src in 0..g.node_count() as NodeIndex {
        let children = g.children(src);
        if children.is_empty() {
            continue;
        }
        let t = g.node_type(src);
        let mut seen: Vec<NodeIndex> = Vec::new();
        for c in children {
            if let Some(&i) = member.get(c) {
                // A copy counts once per referring object.
                if !seen.contains(c) {
                    seen.push(*c);
                    *counts[i].entry(t).or_insert(0) += 1;
                }
            }
        }
    }
    for (i, (group, _)) in groups.iter_mut().enumerate() {
        let mut h: Vec<(TypeIndex, u64)> = counts[i].iter().map(|(&t, &c)| (t, c)).collect();
        h.sort_by_key(|&(t, c)| (std::cmp::Reverse(c), t));
        h.truncate(5);
        group.holders = h;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_hash_alike() {
        assert_eq!(hash(b"abcdefghij"), hash(b"abcdefghij"));
        assert_ne!(hash(b"abcdefghij"), hash(b"abcdefghik"));
        assert_ne!(hash(b""), hash(b"\0\0"));
    }
}
