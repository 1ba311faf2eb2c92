//! Roots of a `.gcdump`: the objects hanging from its pseudo-node tree.
//!
//! Producers build `[.NET Roots]` → categories (`[static vars]`,
//! `[strong Handles]`, `[StrongHandle]`...) → sometimes named pseudo-nodes
//! (`[static var Foo.bar]`) → objects. The names differ between tools and
//! versions, so the kind of a root is inferred from the nearest pseudo-node
//! whose name says something, and falls back to [`RootKind::Other`].

use heaplens_graph::{GraphBuilder, HeapGraph, NodeIndex, RootKind, TypeKind};

/// Infers a root kind from a pseudo-node name, if the name says one.
pub fn kind_from_name(name: &str) -> Option<RootKind> {
    let n = name.to_ascii_lowercase();
    let has = |s: &str| n.contains(s);
    Some(if has("thread static") {
        RootKind::ThreadStatic
    } else if has("static var") {
        RootKind::Static
    } else if has("local var") {
        RootKind::Stack
    } else if has("finaliz") {
        RootKind::Finalizer
    } else if has("asyncpinned") || has("async pinned") {
        RootKind::AsyncPinnedHandle
    } else if has("pinned handle") || has("pinnedhandle") || has("pinning handle") {
        RootKind::PinnedHandle
    } else if has("strong") {
        RootKind::StrongHandle
    } else if has("dependent") {
        RootKind::DependentHandle
    } else if has("sizedref") {
        RootKind::SizedRefHandle
    } else if has("refcount") || has("ref counted") {
        RootKind::RefCountedHandle
    } else if has("weak") {
        RootKind::WeakHandle
    } else if has("com/winrt") || has("[ccw") || has("[rcw") {
        RootKind::ComInterop
    } else {
        return None;
    })
}

/// The name a root gets from the pseudo-node above it: `[static var X.y]`
/// gives `X.y`; other names are kept with their brackets.
fn root_name(pseudo: &str) -> &str {
    pseudo
        .strip_prefix("[static var ")
        .and_then(|s| s.strip_suffix(']'))
        .unwrap_or(pseudo)
}

/// Adds a root for every edge from a pseudo-node (reached from the root node
/// through pseudo-nodes only) to a non-pseudo node.
pub fn add_roots(b: &mut GraphBuilder) {
    let g: &HeapGraph = b.partial();
    let Some(root) = g.root_node() else { return };
    let n = g.node_count();
    let mut seen = vec![false; n];
    let mut found: Vec<(NodeIndex, RootKind, NodeIndex)> = Vec::new();
    // (pseudo-node, kind inherited from above)
    let mut stack: Vec<(NodeIndex, RootKind)> = vec![(root, RootKind::Other)];
    seen[root as usize] = true;
    while let Some((node, inherited)) = stack.pop() {
        let name = &g.type_info(g.node_type(node)).name;
        let kind = match (kind_from_name(name), inherited) {
            // `[static var X.y]` under `[thread static vars]` is thread-static.
            (Some(RootKind::Static), RootKind::ThreadStatic) => RootKind::ThreadStatic,
            (Some(k), _) => k,
            (None, k) => k,
        };
        for &child in g.children(node) {
            if g.node_kind(child) == TypeKind::Pseudo {
                if !seen[child as usize] {
                    seen[child as usize] = true;
                    stack.push((child, kind));
                }
            } else if g.node_kind(child) != TypeKind::Undefined {
                found.push((child, kind, node));
            }
        }
    }
    // Stable order: by the pseudo-node, then as listed.
    let names: Vec<(NodeIndex, RootKind, String)> = found
        .into_iter()
        .map(|(obj, kind, pseudo)| {
            let name = &g.type_info(g.node_type(pseudo)).name;
            (obj, kind, root_name(name).to_owned())
        })
        .collect();
    for (obj, kind, name) in names {
        b.add_root(obj, kind, Some(&name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_every_producer_map_to_kinds() {
        let cases = [
            ("[static var Foo.s_bar]", RootKind::Static),
            ("[thread static vars]", RootKind::ThreadStatic),
            ("[local vars]", RootKind::Stack),
            ("[Pinned local vars]", RootKind::Stack),
            ("[finalizer Handles]", RootKind::Finalizer),
            ("[FinalizerQueue]", RootKind::Finalizer),
            ("[pinning Handles]", RootKind::PinnedHandle),
            ("[PinnedHandle]", RootKind::PinnedHandle),
            ("[Pinned handles]", RootKind::PinnedHandle),
            ("[AsyncPinnedHandle]", RootKind::AsyncPinnedHandle),
            ("[strong Handles]", RootKind::StrongHandle),
            ("[StrongHandle]", RootKind::StrongHandle),
            ("[Strong handles]", RootKind::StrongHandle),
            ("[Dependent Handles]", RootKind::DependentHandle),
            ("[SizedRefHandle]", RootKind::SizedRefHandle),
            ("[COM/WinRT Objects]", RootKind::ComInterop),
        ];
        for (name, kind) in cases {
            assert_eq!(kind_from_name(name), Some(kind), "{name}");
        }
        assert_eq!(kind_from_name("[.NET Roots]"), None);
        assert_eq!(kind_from_name("[other roots]"), None);
        assert_eq!(root_name("[static var Foo.s_bar]"), "Foo.s_bar");
        assert_eq!(root_name("[strong Handles]"), "[strong Handles]");
    }
}
