//! Delegates and events: what a delegate calls and on what.
//!
//! A delegate (`System.Delegate`) keeps its target in `_target` and the
//! code it calls in `_methodPtr`, or, for an open static method, a shuffle
//! thunk in `_methodPtr` and the method's entry in `_methodPtrAux` (then
//! `_target` is the delegate itself). A multicast delegate
//! (`System.MulticastDelegate`, every event with more than one
//! subscriber) keeps its delegates in `_invocationList` (an `object[]`)
//! and their number in `_invocationCount`. The method's name comes from
//! the reader ([`ObjectReader::method_at`]: the runtime's method
//! descriptor behind the code pointer, named by the metadata).

use crate::inspect::{field_int, field_ref, read_pointer};
use crate::layout::{Shape, TypeLayout};
use crate::reader::{MethodName, ObjectReader};
use heaplens_graph::NodeIndex;

/// Most invocations of one multicast delegate read.
pub const MAX_INVOCATIONS: u64 = 1 << 16;

/// One delegate of an invocation list (or a single-cast delegate).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The delegate object.
    pub delegate: NodeIndex,
    /// The object the method is called on (`None` for a static method or
    /// a null target).
    pub target: Option<NodeIndex>,
    /// The target's address when no object of the snapshot starts there.
    pub target_address: Option<u64>,
    /// The method (`None` when the code pointer could not be resolved).
    pub method: Option<MethodName>,
    /// The code pointer resolved (`_methodPtrAux` when set, else
    /// `_methodPtr`).
    pub code: u64,
    /// True for a static method (open static: `_target` is the delegate
    /// itself).
    pub is_static: bool,
}

/// A delegate's invocations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateInfo {
    /// The delegate.
    pub node: NodeIndex,
    /// Its invocation list's count (`_invocationCount`) for a multicast
    /// delegate, 1 otherwise.
    pub invocation_count: u64,
    /// The invocations read (all of them, up to [`MAX_INVOCATIONS`]).
    pub invocations: Vec<Invocation>,
}

/// True when `layout` is a delegate's (it has `System.Delegate`'s
/// `_methodPtr` and `_target`).
pub fn is_delegate(layout: &TypeLayout) -> bool {
    matches!(layout.shape, Shape::Class)
        && layout.field_in("System.Delegate", "_methodPtr").is_some()
        && layout.field_in("System.Delegate", "_target").is_some()
}

/// Delegate `node`'s invocations; `None` when it is not a delegate.
pub fn delegate(r: &dyn ObjectReader, node: NodeIndex) -> Option<DelegateInfo> {
    let g = r.graph();
    let layout = r.layout(g.node_type(node)).ok()?;
    if !is_delegate(&layout) {
        return None;
    }
    // A multicast delegate's list: an object[] of delegates.
    if let Some(list) = field_ref(r, node, "_invocationList") {
        let list_layout = r.layout(g.node_type(list)).ok()?;
        if let Shape::Array(a) = &list_layout.shape {
            let count = field_int(r, node, "_invocationCount").unwrap_or(0).max(0) as u64;
            let length = crate::inspect::array_length(r, list, &list_layout).ok()?;
            let n = count.min(length).min(MAX_INVOCATIONS);
            let base = g
                .node_address(list)
                .saturating_add(u64::from(a.data_offset));
            let ptr = u64::from(r.pointer_size());
            let invocations = (0..n)
                .filter_map(|i| read_pointer(r, base.saturating_add(i * ptr)))
                .filter_map(|p| r.node_at(p))
                .filter_map(|d| single(r, d))
                .collect();
            return Some(DelegateInfo {
                node,
                invocation_count: count,
                invocations,
            });
        }
    }
    Some(DelegateInfo {
        node,
        invocation_count: 1,
        invocations: single(r, node).into_iter().collect(),
    })
}

/// One delegate's target and method.
fn single(r: &dyn ObjectReader, d: NodeIndex) -> Option<Invocation> {
    let g = r.graph();
    let layout = r.layout(g.node_type(d)).ok()?;
    if !is_delegate(&layout) {
        return None;
    }
    let word = |name: &str| -> u64 {
        layout
            .field(name)
            .and_then(|f| {
                read_pointer(
                    r,
                    g.node_address(d)
                        .saturating_add(u64::from(layout.data_offset) + u64::from(f.offset)),
                )
            })
            .unwrap_or(0)
    };
    let (ptr, aux, target) = (word("_methodPtr"), word("_methodPtrAux"), word("_target"));
    let code = if aux != 0 { aux } else { ptr };
    let target_node = (target != 0).then(|| r.node_at(target)).flatten();
    let is_static = target == 0 || target_node == Some(d);
    let method = r.method_at(code).or_else(|| {
        // The other pointer, when the first leads nowhere.
        (aux != 0 && ptr != 0).then(|| r.method_at(ptr)).flatten()
    });
    Some(Invocation {
        delegate: d,
        target: if is_static { None } else { target_node },
        target_address: (!is_static && target_node.is_none()).then_some(target),
        method,
        code,
        is_static,
    })
}
