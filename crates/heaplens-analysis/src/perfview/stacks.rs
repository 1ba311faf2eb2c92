//! Samples and stacks: the form in which PerfView's viewer sees a heap.
//!
//! A [`StackSource`] has a table of frames (each with a verbose name, used
//! for pattern matching, and a short name, shown), a table of stacks (a
//! frame and a caller stack) and a list of samples (a stack, a metric, a
//! count and a time). For a heap snapshot ([`StackSource::from_graph`])
//! frames are types, stacks are nodes (the caller being the node's parent
//! in the spanning tree) and there is one sample per node: its size and a
//! count of 1 (both scaled on a sampled heap), with its address as time.
//! [`StackSource::diff`] merges two sources as PerfView's Diff command does.

use super::filter::{FilterParams, FilteredStacks};
use super::pattern::PatternError;
use super::spanning::SpanningTree;
use super::{short_module, shorten_namespaces, NOT_REACHABLE};
use heaplens_graph::{HeapGraph, NodeIndex, Sampling, TypeIndex, TypeKind};
use std::collections::HashMap;

/// "No caller": the stack is a top-level frame under `ROOT`.
pub const NO_CALLER: u32 = u32::MAX;

/// The names of a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Full name (full module path without a 3-letter extension), matched
    /// against patterns.
    pub verbose: String,
    /// The name shown.
    pub short: String,
}

/// One sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    /// Its stack.
    pub stack: u32,
    /// Its metric (bytes; negative for a diff's baseline).
    pub metric: f64,
    /// Its count (negative for a diff's baseline).
    pub count: f64,
    /// Its time: for a heap, the node's address.
    pub time: f64,
}

/// Frames, stacks and samples.
#[derive(Debug, Clone, Default)]
pub struct StackSource {
    pub(crate) frames: Vec<Frame>,
    pub(crate) stack_frame: Vec<u32>,
    pub(crate) stack_caller: Vec<u32>,
    pub(crate) samples: Vec<Sample>,
    /// A frame whose index PerfView confuses with `ROOT`'s (a graph's type
    /// 0, `UNDEFINED`): its tree nodes are counted in the `ROOT` row of
    /// By Name.
    pub(crate) root_alias: Option<u32>,
}

/// PerfView's verbose frame name of a type: the full module path without a
/// 3-letter extension, `!`, the shortened type name.
pub fn verbose_frame_name(g: &HeapGraph, t: TypeIndex) -> String {
    let info = g.type_info(t);
    match g.type_module(t) {
        None => info.name.clone(),
        Some(m) => {
            let chars: Vec<(usize, char)> = m.char_indices().collect();
            let mut module = m;
            if chars.len() >= 4 && chars[chars.len() - 4].1 == '.' {
                module = &m[..chars[chars.len() - 4].0];
            }
            let module = if module.is_empty() { "?" } else { module };
            format!("{module}!{}", shorten_namespaces(&info.name))
        }
    }
}

impl StackSource {
    /// One sample per node of the graph, in the spanning tree's visit order.
    /// Frame `t` is type `t`; the extra last frame and stack are
    /// `[not reachable from roots]`.
    pub fn from_graph(g: &HeapGraph, sampling: Option<&Sampling>, tree: &SpanningTree) -> Self {
        let n = g.node_count();
        assert_eq!(
            tree.node_count(),
            n,
            "the spanning tree is of another graph"
        );
        let mut frames: Vec<Frame> = (0..g.types().len() as TypeIndex)
            .map(|t| {
                let short = match g.type_module(t) {
                    None => g.type_info(t).name.clone(),
                    Some(m) => format!(
                        "{}!{}",
                        short_module(m),
                        shorten_namespaces(&g.type_info(t).name)
                    ),
                };
                Frame {
                    verbose: verbose_frame_name(g, t),
                    short,
                }
            })
            .collect();
        let orphan_frame = frames.len() as u32;
        frames.push(Frame {
            verbose: NOT_REACHABLE.to_owned(),
            short: NOT_REACHABLE.to_owned(),
        });
        let mut stack_frame: Vec<u32> = (0..n as NodeIndex).map(|i| g.node_type(i)).collect();
        stack_frame.push(orphan_frame);
        let mut stack_caller: Vec<u32> = tree.raw_parents().to_vec();
        stack_caller.push(NO_CALLER);
        let samples = tree
            .order()
            .iter()
            .map(|&i| {
                let m = sampling.map_or(1.0, |s| s.multiplier(g.node_type(i)) as f64);
                Sample {
                    stack: i,
                    metric: g.node_size(i) as f64 * m,
                    count: m,
                    time: g.node_address(i) as f64,
                }
            })
            .collect();
        StackSource {
            frames,
            stack_frame,
            stack_caller,
            samples,
            // PerfView's frame 0 is ROOT's index too; a `.gcdump`'s type 0
            // is always UNDEFINED. Other inputs have no such type.
            root_alias: g
                .types()
                .first()
                .filter(|t| t.kind == TypeKind::Undefined)
                .map(|_| 0),
        }
    }

    /// The frames.
    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// The samples.
    pub fn samples(&self) -> &[Sample] {
        &self.samples
    }

    /// Number of stacks.
    pub fn stack_count(&self) -> usize {
        self.stack_frame.len()
    }

    /// The frame of a stack.
    pub fn frame_of(&self, stack: u32) -> u32 {
        self.stack_frame[stack as usize]
    }

    /// The caller of a stack, or [`NO_CALLER`].
    pub fn caller_of(&self, stack: u32) -> u32 {
        self.stack_caller[stack as usize]
    }

    /// PerfView's Diff of two windows: the samples of `test` that pass
    /// `test_filter` and those of `baseline` that pass `baseline_filter`,
    /// negated, each with its full unfiltered stack re-interned by frame
    /// names (stacks deeper than 1,001 frames lose their root end, as in
    /// PerfView). Fold % plays no part.
    pub fn diff(
        test: &StackSource,
        test_filter: &FilterParams,
        baseline: &StackSource,
        baseline_filter: &FilterParams,
    ) -> Result<StackSource, PatternError> {
        let mut out = Interner::default();
        for (src, filter, sign) in [(test, test_filter, 1.0), (baseline, baseline_filter, -1.0)] {
            let filtered = FilteredStacks::compute(src, filter)?;
            let mut memo: Vec<u32> = vec![u32::MAX; src.stack_count()];
            let depth = stack_depths(src);
            for s in &src.samples {
                if !filtered.keeps(s.stack) {
                    continue;
                }
                let stack = out.intern_stack(src, s.stack, &depth, &mut memo);
                out.samples.push(Sample {
                    stack,
                    metric: s.metric * sign,
                    count: s.count * sign,
                    time: s.time,
                });
            }
        }
        Ok(StackSource {
            frames: out.frames,
            stack_frame: out.stack_frame,
            stack_caller: out.stack_caller,
            samples: out.samples,
            root_alias: None,
        })
    }
}

/// Number of callers above each stack.
fn stack_depths(src: &StackSource) -> Vec<u32> {
    let n = src.stack_count();
    let mut depth = vec![u32::MAX; n];
    let mut path: Vec<u32> = Vec::new();
    for s in 0..n as u32 {
        let mut x = s;
        let base = loop {
            if depth[x as usize] != u32::MAX {
                break None;
            }
            path.push(x);
            match src.caller_of(x) {
                NO_CALLER => break Some(0),
                c if depth[c as usize] != u32::MAX => break Some(depth[c as usize] + 1),
                c => x = c,
            }
        };
        let mut d = base.unwrap_or(0);
        while let Some(y) = path.pop() {
            depth[y as usize] = d;
            d += 1;
        }
    }
    depth
}

/// Deepest frame PerfView keeps when interning a stack (frames `0..=MAX`).
const MAX_INTERN_DEPTH: u32 = 1000;

#[derive(Default)]
struct Interner {
    modules: HashMap<String, u32>,
    frame_ids: HashMap<(u32, String), u32>,
    frames: Vec<Frame>,
    stack_ids: HashMap<(u32, u32), u32>,
    stack_frame: Vec<u32>,
    stack_caller: Vec<u32>,
    samples: Vec<Sample>,
}

impl Interner {
    /// The interned frame of a source frame: its verbose name split at the
    /// first `!` into module and name (`InternFullStackFromSource`).
    fn frame(&mut self, verbose: &str) -> u32 {
        let (module, name) = match verbose.find('!') {
            Some(i) => (&verbose[..i], &verbose[i + 1..]),
            None => ("", verbose),
        };
        let next = self.modules.len() as u32;
        let m = *self.modules.entry(module.to_owned()).or_insert(next);
        if let Some(&f) = self.frame_ids.get(&(m, name.to_owned())) {
            return f;
        }
        let f = self.frames.len() as u32;
        self.frames.push(interned_frame_names(module, name));
        self.frame_ids.insert((m, name.to_owned()), f);
        f
    }

    fn stack(&mut self, frame: u32, caller: u32) -> u32 {
        *self.stack_ids.entry((frame, caller)).or_insert_with(|| {
            self.stack_frame.push(frame);
            self.stack_caller.push(caller);
            self.stack_frame.len() as u32 - 1
        })
    }

    /// Interns the stack of a sample. Stacks no deeper than the limit are
    /// memoized; deeper ones are cut and interned frame by frame.
    fn intern_stack(
        &mut self,
        src: &StackSource,
        stack: u32,
        depth: &[u32],
        memo: &mut [u32],
    ) -> u32 {
        let mut path: Vec<u32> = Vec::new();
        let mut caller = NO_CALLER;
        let mut x = stack;
        let truncated = depth[stack as usize] > MAX_INTERN_DEPTH;
        loop {
            if !truncated && memo[x as usize] != u32::MAX {
                caller = memo[x as usize];
                break;
            }
            path.push(x);
            if truncated && path.len() as u32 > MAX_INTERN_DEPTH {
                break;
            }
            match src.caller_of(x) {
                NO_CALLER => break,
                c => x = c,
            }
        }
        while let Some(y) = path.pop() {
            let f = self.frame(&src.frames[src.frame_of(y) as usize].verbose);
            caller = self.stack(f, caller);
            if !truncated {
                memo[y as usize] = caller;
            }
        }
        caller
    }
}

/// The names PerfView's interner gives a frame: the module is shown by its
/// file name (after the last `\` or `/`) without a `.dll` / `.exe`.
fn interned_frame_names(module: &str, name: &str) -> Frame {
    if module.is_empty() {
        return Frame {
            verbose: name.to_owned(),
            short: name.to_owned(),
        };
    }
    let strip = |m: &str| -> String {
        let lower = m.to_ascii_lowercase();
        if (lower.ends_with(".dll") || lower.ends_with(".exe")) && m.rfind('.') == Some(m.len() - 4)
        {
            m[..m.len() - 4].to_owned()
        } else {
            m.to_owned()
        }
    };
    let file = module.rsplit(['\\', '/']).next().unwrap_or(module);
    Frame {
        verbose: format!("{}!{name}", strip(module)),
        short: format!("{}!{name}", strip(file)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interned_names_follow_perfview() {
        let f = interned_frame_names(r"C:\x\System.Private.CoreLib", "String");
        assert_eq!(f.verbose, r"C:\x\System.Private.CoreLib!String");
        assert_eq!(f.short, "System.Private.CoreLib!String");
        let f = interned_frame_names("/a/b/Mono.Android.DLL", "X");
        assert_eq!(f.short, "Mono.Android!X");
        let f = interned_frame_names("", "[.NET Roots]");
        assert_eq!(f.short, "[.NET Roots]");
    }

    #[test]
    fn depths_and_deep_stacks_are_cut_at_the_root_end() {
        // A chain of 1,500 stacks: 0 <- 1 <- 2 ...
        let n = 1500u32;
        let src = StackSource {
            frames: vec![Frame {
                verbose: "m!A".into(),
                short: "m!A".into(),
            }],
            stack_frame: vec![0; n as usize],
            stack_caller: (0..n)
                .map(|i| if i == 0 { NO_CALLER } else { i - 1 })
                .collect(),
            samples: (0..n)
                .map(|i| Sample {
                    stack: i,
                    metric: 1.0,
                    count: 1.0,
                    time: 0.0,
                })
                .collect(),
            root_alias: None,
        };
        let d = stack_depths(&src);
        assert_eq!((d[0], d[1499]), (0, 1499));
        let none = FilterParams::none();
        let diff = StackSource::diff(&src, &none, &StackSource::default(), &none).unwrap();
        // Interned stacks of the cut samples are at most 1,001 deep.
        let dd = stack_depths(&diff);
        let deepest = diff.samples.iter().map(|s| dd[s.stack as usize]).max();
        assert_eq!(deepest, Some(1000));
        assert_eq!(diff.frames.len(), 1);
        assert_eq!(diff.samples.len(), 1500);
    }
}
