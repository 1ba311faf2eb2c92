//! Grouping, folding, exclusion and inclusion of stacks
//! (PerfView's `FilterStackSource`).
//!
//! Patterns use PerfView's syntax ([`super::pattern`]) and are matched
//! against verbose frame names (full module path):
//!
//! * **GroupPats** `Pat->Name` (merge every matching frame into one frame
//!   `Name`, and keep matching later patterns against it) or `Pat=>Name`
//!   (an *entry* group: the frame is shown as `Name <<short name>>`, and a
//!   frame whose caller is in the same group is folded into it). `$1`…`$9`
//!   and `$&` in `Name` take captured text. A leading `[comment]` is
//!   ignored.
//! * **ExcPats**: a sample whose stack has a matching frame is dropped.
//! * **FoldPats**: a matching frame disappears into its caller; so does a
//!   frame equal to its caller's (direct recursion).
//! * **IncPats**: every pattern must match some frame of a kept sample.

use super::pattern::{compile, compile_list, PatternError};
use super::stacks::{StackSource, NO_CALLER};
use regex::Regex;
use std::collections::HashMap;

/// Filter settings of a view, as in PerfView's text boxes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilterParams {
    /// GroupPats.
    pub group: String,
    /// FoldPats.
    pub fold: String,
    /// IncPats.
    pub include: String,
    /// ExcPats.
    pub exclude: String,
    /// Fold %: tree nodes (and names) with less than this percentage of the
    /// total inclusive metric are folded into their parent.
    pub fold_percent: Option<f32>,
}

impl FilterParams {
    /// PerfView's memory-window GroupPats: framework types become entry
    /// groups `LIB <<…>>`.
    pub const MEMORY_GROUPS: &'static str = "[group Framework] mscorlib!=>LIB;System%!=>LIB;";
    /// PerfView's memory-window FoldPats: arrays and .NET Framework strings.
    pub const MEMORY_FOLDS: &'static str = "[];mscorlib!String";

    /// No grouping, folding or filtering (PerfView's "raw" view).
    pub fn none() -> Self {
        FilterParams::default()
    }

    /// The defaults of PerfView's memory window: framework groups, array
    /// and string folding, unreachable nodes excluded, no Fold %.
    pub fn memory_defaults() -> Self {
        FilterParams {
            group: Self::MEMORY_GROUPS.to_owned(),
            fold: Self::MEMORY_FOLDS.to_owned(),
            include: String::new(),
            exclude: super::NOT_REACHABLE.to_owned(),
            fold_percent: None,
        }
    }
}

struct GroupPattern {
    re: Regex,
    template: String,
    entry: bool,
    module_entry: bool,
}

fn parse_groups(spec: &str) -> Result<Vec<GroupPattern>, PatternError> {
    let comment = Regex::new(r"^\s*(\[.*?\])?\s*(.*?)\s*$").expect("valid");
    let body = comment
        .captures(spec)
        .and_then(|c| c.get(2))
        .map_or(spec, |m| m.as_str());
    let mut out = Vec::new();
    for item in body.split(';') {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let (pat, template, entry) = if let Some(i) = item.find("=>") {
            (&item[..i], item[i + 2..].trim(), true)
        } else if let Some(i) = item.find("->") {
            (&item[..i], item[i + 2..].trim(), false)
        } else {
            (item, "$&", false)
        };
        out.push(GroupPattern {
            re: compile(pat)?,
            template: template.to_owned(),
            entry,
            module_entry: item == "{%}!=>module $1",
        });
    }
    Ok(out)
}

/// PerfView's `FindGroupNameFromFrameName`: the group name of a frame and
/// whether it is an entry group.
fn group_name(groups: &[GroupPattern], frame: &str) -> Option<(String, bool)> {
    let digit = Regex::new(r"\$(\d)").expect("valid");
    let mut name = frame.to_owned();
    let mut result: Option<(String, bool)> = None;
    for g in groups {
        if g.module_entry {
            if let Some(bang) = name.find('!').filter(|&b| b > 0) {
                let start = name[..bang]
                    .char_indices()
                    .rev()
                    .take_while(|&(_, c)| c.is_alphanumeric() || c == '.' || c == '_')
                    .last()
                    .map_or(bang, |(i, _)| i);
                return Some((format!("module {}", &name[start..bang]), true));
            }
            continue;
        }
        let Some(m) = g.re.captures(&name) else {
            continue;
        };
        let mut group = g.template.clone();
        if group.contains('$') {
            if group == "$&" {
                group = m[0].to_owned();
            } else {
                group = digit
                    .replace_all(&group, |c: &regex::Captures| {
                        let i = (c[1].as_bytes()[0] - b'0') as usize;
                        m.get(i).map_or("", |x| x.as_str()).to_owned()
                    })
                    .into_owned();
                group = group.replace("$&", &m[0]);
            }
        }
        if group.is_empty() {
            return None;
        }
        if g.entry {
            return Some((group, true));
        }
        name = group.clone();
        result = Some((group, false));
    }
    result
}

/// What the patterns say about one frame (PerfView's `FrameInfo`).
#[derive(Debug, Clone, Default)]
struct FrameInfo {
    /// Index into the group names, unless folding or exclusion overrides.
    group: Option<u32>,
    entry: bool,
    fold: bool,
    discard: bool,
    move_next: bool,
    inc: u64,
}

/// Marks a discarded stack.
const DISCARD: u32 = u32::MAX;

/// The result of filtering every stack of a source (PerfView's `StackInfo`
/// for each stack).
pub(crate) struct FilteredStacks {
    /// Per frame: the name shown after grouping.
    pub names: Vec<String>,
    /// Per stack: the frame shown (a frame index standing for its group),
    /// or [`DISCARD`].
    pub frame: Vec<u32>,
    /// Per stack: 1 + the number of frames folded into it by a pattern
    /// (0: none), saturating.
    pub folded: Vec<u32>,
    /// Per stack: true if it took its caller's place (folded).
    pub merged: Vec<bool>,
    inc: Vec<u64>,
    all_inc: u64,
    /// Per stack: the frame whose information applies.
    info_of: Vec<u32>,
}

impl FilteredStacks {
    /// Applies `params` (all but Fold %) to every stack of `src`.
    pub fn compute(src: &StackSource, params: &FilterParams) -> Result<Self, PatternError> {
        let groups = parse_groups(&params.group)?;
        let folds = compile_list(&params.fold)?;
        let excludes = compile_list(&params.exclude)?;
        let includes = compile_list(&params.include)?;
        if includes.len() > 64 {
            return Err(PatternError::Invalid {
                pattern: params.include.clone(),
                message: "more than 64 include patterns".into(),
            });
        }
        let all_inc = if includes.len() == 64 {
            u64::MAX
        } else {
            (1u64 << includes.len()) - 1
        };
        let match_set = |name: &str| -> u64 {
            includes
                .iter()
                .enumerate()
                .filter(|(_, re)| re.is_match(name))
                .fold(0, |acc, (i, _)| acc | 1 << i)
        };
        let mut group_ids: HashMap<String, u32> = HashMap::new();
        let mut group_names: Vec<String> = Vec::new();
        let mut group_canonical: Vec<u32> = Vec::new();
        let mut infos = Vec::with_capacity(src.frames.len());
        let mut names = Vec::with_capacity(src.frames.len());
        for (f, frame) in src.frames.iter().enumerate() {
            let mut found = group_name(&groups, &frame.verbose);
            if found.is_none() && frame.verbose.ends_with("!?") {
                found = Some((frame.short.clone(), false));
            }
            let mut info = FrameInfo::default();
            let full = match &found {
                Some((g, entry)) => {
                    let id = *group_ids.entry(g.clone()).or_insert_with(|| {
                        group_names.push(g.clone());
                        group_canonical.push(f as u32);
                        group_names.len() as u32 - 1
                    });
                    info.group = Some(id);
                    info.entry = *entry;
                    if *entry {
                        format!("{g} <<{}>>", frame.short)
                    } else {
                        g.clone()
                    }
                }
                None => {
                    info.move_next = frame.verbose.contains(".MoveNext()");
                    frame.verbose.clone()
                }
            };
            info.inc = match_set(&full);
            if excludes.iter().any(|re| re.is_match(&full)) {
                info = FrameInfo {
                    discard: true,
                    ..FrameInfo::default()
                };
            } else if folds.iter().any(|re| re.is_match(&full)) {
                info = FrameInfo {
                    fold: true,
                    ..FrameInfo::default()
                };
            }
            names.push(match info.group {
                Some(_) if info.entry => full,
                Some(g) => group_names[g as usize].clone(),
                None => frame.short.clone(),
            });
            infos.push(info);
        }
        let n = src.stack_count();
        let mut out = FilteredStacks {
            names,
            frame: vec![DISCARD; n],
            folded: vec![0; n],
            merged: vec![false; n],
            inc: vec![0; n],
            all_inc,
            info_of: vec![0; n],
        };
        let mut done = vec![false; n];
        let mut path: Vec<u32> = Vec::new();
        for s in 0..n as u32 {
            let mut x = s;
            while !done[x as usize] {
                path.push(x);
                match src.caller_of(x) {
                    NO_CALLER => break,
                    c => x = c,
                }
            }
            while let Some(y) = path.pop() {
                out.generate(src, &infos, &group_canonical, y);
                done[y as usize] = true;
            }
        }
        Ok(out)
    }

    /// PerfView's `GenerateStackInfo` for one stack whose caller is done.
    fn generate(&mut self, src: &StackSource, infos: &[FrameInfo], canonical: &[u32], s: u32) {
        let i = s as usize;
        let caller = src.caller_of(s);
        let parent = (caller != NO_CALLER).then_some(caller as usize);
        if let Some(p) = parent {
            if self.frame[p] == DISCARD {
                self.frame[i] = DISCARD;
                return;
            }
        }
        let own = src.frame_of(s);
        let info = &infos[own as usize];
        if info.discard {
            self.frame[i] = DISCARD;
            return;
        }
        let mut frame = own;
        if let Some(g) = info.group {
            if info.entry {
                if let Some(p) = parent {
                    if infos[self.info_of[p] as usize].group == Some(g) {
                        frame = self.frame[p];
                    }
                }
            } else {
                frame = canonical[g as usize];
            }
        }
        if let Some(p) = parent {
            let pinfo = &infos[self.info_of[p] as usize];
            let fold = info.fold
                || frame == self.frame[p]
                || (info.move_next
                    && pinfo.move_next
                    && src.frames[frame as usize].verbose
                        == src.frames[self.frame[p] as usize].verbose);
            if fold {
                self.frame[i] = self.frame[p];
                self.info_of[i] = self.info_of[p];
                self.inc[i] = self.inc[p];
                self.folded[i] = self.folded[p].saturating_add(u32::from(info.fold));
                self.merged[i] = true;
                return;
            }
        }
        self.frame[i] = frame;
        self.info_of[i] = own;
        self.inc[i] = parent.map_or(0, |p| self.inc[p]) | info.inc;
    }

    /// True if a sample with this stack is kept.
    pub fn keeps(&self, stack: u32) -> bool {
        self.frame[stack as usize] != DISCARD && self.inc[stack as usize] == self.all_inc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_like_perfview() {
        let g = parse_groups(FilterParams::MEMORY_GROUPS).unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(
            group_name(&g, r"C:\dotnet\System.Private.CoreLib!String"),
            Some(("LIB".into(), true))
        );
        assert_eq!(
            group_name(&g, r"C:\fx\mscorlib!Foo"),
            Some(("LIB".into(), true))
        );
        assert_eq!(group_name(&g, "MauiApp3!App"), None);
        let g = parse_groups("{%}!->module $1; module System.Private.CoreLib->CORE").unwrap();
        assert_eq!(
            group_name(&g, r"C:\x\System.Private.CoreLib!String"),
            Some(("CORE".into(), false))
        );
        assert_eq!(group_name(&g, "A.B!C"), Some(("module A.B".into(), false)));
        let g = parse_groups("{%}!=>module $1").unwrap();
        assert_eq!(
            group_name(&g, r"C:\x\Sys_tem.Y!Z"),
            Some(("module Sys_tem.Y".into(), true))
        );
        let g = parse_groups("Foo->").unwrap();
        assert_eq!(group_name(&g, "Foo"), None);
    }
}
