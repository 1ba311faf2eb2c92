//! The `findings` document: leak suspects (`heaplens findings`) — the
//! .NET patterns that hold memory, each with its verdict, its evidence in
//! numbers, its retention path from a root, the object to look at and the
//! usual fix, ranked by retained bytes gained (two dumps) or retained
//! bytes (one). Carries no values from the dump beyond type and method
//! names and the static fields' names, except the duplicate-strings
//! finding's values (their text, shortened): `values` says whether it
//! has them, and [`FindingsDocument::without_values`] leaves them out.

use crate::coverage::CoverageFacts;
use crate::object::ObjectRef;
use crate::roots::RootPath;
use crate::{heaplens_version, DocumentKind, SCHEMA_VERSION};
use heaplens_analysis::stats::TypeGroups;
use heaplens_findings::{Finding, Generation, Heap, HeapArea, Observations, Pattern};
use heaplens_snapshot::Snapshot;
use serde::{Deserialize, Serialize};

/// A label and its value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingDetail {
    /// What it is (`callback`, `target type`, `source held by`, …).
    pub label: String,
    /// Its value in words.
    pub value: String,
    /// True when `value` carries a value read from the dump (a string's
    /// text); left out when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub from_dump: bool,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingEntry {
    /// 1 for the first.
    pub rank: u32,
    /// The pattern's id (`timers`, `events`, `cancellation_registrations`,
    /// `caches`, `http_clients`, `telemetry`, `root_scope_disposables`,
    /// `async_state_machines`, `finalization`, `pinned`, `fragmentation`,
    /// `conditional_weak_table`, `serializers`, `large_holder`,
    /// `type_growth`, `duplicate_strings`, `entity_framework`).
    pub pattern: String,
    /// The pattern's name in words.
    pub title: String,
    /// True for a leak suspect; false for an object that merely holds much
    /// of one heap (`large_holder` in one dump).
    pub leak: bool,
    /// The verdict in one line.
    pub verdict: String,
    /// The group in words, stable between dumps of one process (what two
    /// dumps' groups are joined by).
    pub key: String,
    /// Objects counted (timers, subscribers, registrations, entries, …).
    pub objects: u64,
    /// Bytes only they keep alive.
    pub retained_bytes: u64,
    /// Their share of the heap's reachable bytes, in percent.
    pub retained_percent: f64,
    /// In the baseline (two dumps; `null` when the baseline has no such
    /// group, or for one dump).
    pub base_objects: Option<u64>,
    /// In the baseline.
    pub base_retained_bytes: Option<u64>,
    /// Objects gained (two dumps).
    pub growth_objects: Option<i64>,
    /// Retained bytes gained (two dumps): what the ranking orders by.
    pub growth_retained_bytes: Option<i64>,
    /// The object to look at.
    pub holder: Option<ObjectRef>,
    /// The retention shape: the shortest path from a root to an object of
    /// the group, in the (current) dump.
    pub path: Option<RootPath>,
    /// More about the group.
    pub details: Vec<FindingDetail>,
    /// The usual fix.
    pub fix: String,
    /// When the pattern reports, in words.
    pub threshold: String,
}

/// What one detector did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetectorEntry {
    /// The pattern's id.
    pub pattern: String,
    /// Its name in words.
    pub title: String,
    /// When it reports, in words.
    pub threshold: String,
    /// Groups it saw in the (current) dump.
    pub groups: u64,
    /// Why it could not look (its types absent, no object contents), or
    /// `null`.
    pub silent_because: Option<String>,
}

/// Leak findings of one dump, or of a dump against a baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingsDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Findings`].
    pub document: DocumentKind,
    /// The (current) file as it was given.
    pub file: String,
    /// The baseline's file, or `null` for one dump.
    pub base_file: Option<String>,
    /// True when the (current) snapshot is the whole heap's.
    pub complete: bool,
    /// How much of the heap the (current) input holds.
    pub coverage: CoverageFacts,
    /// False when the baseline is partial (growth then counts from part
    /// of it); `null` for one dump.
    pub base_complete: Option<bool>,
    /// Bytes reachable from the roots (what the percentages divide).
    pub reachable_bytes: u64,
    /// The baseline's.
    pub base_reachable_bytes: Option<u64>,
    /// Ranked: by `growth_retained_bytes` with a baseline, by
    /// `retained_bytes` otherwise.
    pub findings: Vec<FindingEntry>,
    /// Every detector, whether it found anything or not.
    pub detectors: Vec<DetectorEntry>,
    /// How the numbers are counted.
    pub notes: Vec<String>,
    /// True when a finding's details carry values read from the dump (the
    /// duplicated strings' text); false when there are none or they were
    /// left out (`--no-values`).
    #[serde(default)]
    pub values: bool,
}

impl FindingsDocument {
    /// The document of `found` ([`heaplens_findings::findings`]) for the
    /// current `snapshot` read as `heap`, its observations `current` and
    /// the baseline's file, whether it is complete and its observations
    /// when there is one.
    pub fn build(
        file: &str,
        snapshot: &Snapshot,
        heap: &Heap,
        current: &Observations,
        base: Option<(&str, bool, &Observations)>,
        found: &[Finding],
    ) -> FindingsDocument {
        let g = &snapshot.graph;
        let groups = TypeGroups::of(g);
        let total = current.reachable_bytes.max(1) as f64;
        let findings: Vec<FindingEntry> = found
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let o = &f.group;
                FindingEntry {
                    rank: i as u32 + 1,
                    pattern: o.pattern.id().to_owned(),
                    title: o.pattern.title().to_owned(),
                    leak: f.leak,
                    verdict: f.verdict.clone(),
                    key: o.key.clone(),
                    objects: o.objects,
                    retained_bytes: o.retained_bytes,
                    retained_percent: o.retained_bytes as f64 * 100.0 / total,
                    base_objects: f.base.map(|b| b.0),
                    base_retained_bytes: f.base.map(|b| b.1),
                    growth_objects: f.growth_objects(),
                    growth_retained_bytes: f.growth_bytes(),
                    holder: o.holder.map(|h| ObjectRef::of(g, &groups, h)),
                    path: o
                        .example
                        .and_then(|x| heap.paths.path_to(x))
                        .map(|p| RootPath::of(g, &groups, &p)),
                    details: o
                        .details
                        .iter()
                        .map(|d| FindingDetail {
                            label: d.label.clone(),
                            value: d.value.clone(),
                            from_dump: d.from_dump,
                        })
                        .collect(),
                    fix: o.pattern.fix().to_owned(),
                    threshold: o.pattern.threshold().words(),
                }
            })
            .collect();
        let detectors = current
            .runs
            .iter()
            .map(|r| DetectorEntry {
                pattern: r.pattern.id().to_owned(),
                title: r.pattern.title().to_owned(),
                threshold: r.pattern.threshold().words(),
                groups: r.groups,
                silent_because: r.silent_because.clone(),
            })
            .collect();
        let mut notes = vec![
            "retained bytes of a group: what only its objects keep alive, each once (a timer or \
             a registration counts its own callback, state and context, not the rest of the \
             list it is in)"
                .to_owned(),
            "groups of two dumps are joined by their key (the callback and target type, the \
             static field or path of types holding them), not by address"
                .to_owned(),
        ];
        if Pattern::ALL.len() != current.runs.len() {
            notes.push("some detectors did not run".to_owned());
        }
        let values = findings
            .iter()
            .any(|f| f.details.iter().any(|d| d.from_dump));
        FindingsDocument {
            values,
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Findings,
            file: file.to_owned(),
            base_file: base.map(|b| b.0.to_owned()),
            complete: snapshot.info.coverage.is_complete(),
            coverage: CoverageFacts::of(&snapshot.info.coverage),
            base_complete: base.map(|b| b.1),
            reachable_bytes: current.reachable_bytes,
            base_reachable_bytes: base.map(|b| b.2.reachable_bytes),
            findings,
            detectors,
            notes,
        }
    }

    /// The same document without any value read from the dump: every
    /// detail that carries one is left out (`--no-values`).
    pub fn without_values(mut self) -> FindingsDocument {
        for f in &mut self.findings {
            f.details.retain(|d| !d.from_dump);
        }
        self.values = false;
        self
    }
}

/// Where the generations of `snapshot`'s heap are, for
/// [`Heap::areas`]: its segments or regions by what they hold (regions:
/// their generation; segments: the ephemeral segment apart, the other
/// small-object segments generation 2); frozen segments left out; empty
/// when the input does not say (a `.gcdump`).
pub fn heap_areas(snapshot: &Snapshot) -> Vec<HeapArea> {
    use heaplens_snapshot::{HeapLayout, SegmentKind};
    let Some(clr) = snapshot.info.clr.as_ref() else {
        return Vec::new();
    };
    let regions = clr.gc.layout == HeapLayout::Regions;
    clr.gc
        .segments
        .iter()
        .filter_map(|s| {
            let generation = match s.kind {
                SegmentKind::Frozen => return None,
                SegmentKind::Large => Generation::Loh,
                SegmentKind::Pinned => Generation::Poh,
                SegmentKind::Small if regions => match s.generation {
                    0 => Generation::Gen0,
                    1 => Generation::Gen1,
                    _ => Generation::Gen2,
                },
                SegmentKind::Small if s.ephemeral => Generation::Ephemeral,
                SegmentKind::Small => Generation::Gen2,
            };
            Some(HeapArea {
                start: s.start,
                end: s.end,
                generation,
            })
        })
        .collect()
}
