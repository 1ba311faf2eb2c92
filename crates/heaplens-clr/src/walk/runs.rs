//! The heap walk split between walkers that share no memory (the page's
//! Web Workers, each its own WebAssembly instance): a [`WalkPlan`] says
//! what to walk and how the segments are split into runs, a walker walks
//! one run over its own view of the dump ([`walk_run`]) and hands back its
//! objects, references and problems as bytes, and a [`Join`] appends those
//! bytes in address order into what one [`walk`](super::walk) would have
//! given: the same objects, the same references, the MethodTables numbered
//! in the order one walk meets them, the same problems.
//!
//! A walker needs only the dump's address space (a minidump or ELF core
//! opened over the file, which is cheap) and the plan's bytes; a result
//! carries the addresses of the MethodTables its walk met, in the order it
//! met them, and the join reads each table again from the joiner's own
//! view of the same dump (the first time it meets it), so no MethodTable
//! is sent between walkers. The bytes are checked as they are read — a
//! result that does not fit its plan is a [`JoinError`], never a panic —
//! and read in slices: the join holds no whole result beside the joined
//! arrays, and grows them fallibly within its memory limit.

use super::{
    before_the_walk, grow_by, grow_starts, held_bytes, references_on_the_way, split_by_bytes,
    AddrMap, HeapWords, MethodTables, OpenOverBudget, Part, WalkProblem, WalkStop, Walked,
};
use crate::heap::{Segment, SegmentKind};
use heaplens_graph::{MemoryLimit, PackedStarts};
use heaplens_memory::AddressSpace;
use std::io::Read;
use std::ops::Range;

/// The first bytes of a [`WalkPlan`]'s bytes.
const PLAN_MAGIC: &[u8; 8] = b"HLPLAN01";
/// The first bytes of a walker's result ([`walk_run`]).
const RUN_MAGIC: &[u8; 8] = b"HLRUN001";
/// Bytes of one object in a result: address, MethodTable, size.
const OBJECT_BYTES: u64 = 20;
/// Objects (or references) read from a result at a time.
const SLICE: usize = 1 << 14;

/// What the walkers of one heap walk: the segments (all of them, in
/// address order: references are numbered over all of them), the threads'
/// allocation contexts, whether references are read on the way, and the
/// runs of consecutive segments, about as many bytes each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalkPlan {
    segments: Vec<Segment>,
    /// Allocation contexts (start, limit), by start.
    contexts: Vec<(u64, u64)>,
    /// References read on the way ([`references_on_the_way`]).
    read_references: bool,
    runs: Vec<Range<usize>>,
    /// Bytes the dump holds of each run.
    run_bytes: Vec<u64>,
    /// Bytes the dump holds of the heap.
    heap: u64,
}

impl WalkPlan {
    /// The plan of the walk of `segments` of `mem` (as [`walk`](super::walk)
    /// takes them) by `walkers` walkers: as many runs, of about equal
    /// bytes (fewer when there are fewer segments).
    pub fn new(
        mem: &dyn AddressSpace,
        segments: &[Segment],
        contexts: &AddrMap<u64>,
        read_references: bool,
        walkers: usize,
    ) -> WalkPlan {
        let sizes: Vec<u64> = segments
            .iter()
            .map(|s| held_bytes(mem, std::slice::from_ref(s)))
            .collect();
        let runs: Vec<Range<usize>> =
            split_by_bytes(&sizes, walkers.clamp(1, segments.len().max(1)))
                .into_iter()
                .filter(|r| !r.is_empty())
                .collect();
        let run_bytes = runs.iter().map(|r| sizes[r.clone()].iter().sum()).collect();
        let words = HeapWords::held(mem, segments);
        let mut contexts: Vec<(u64, u64)> = contexts.iter().map(|(&a, &b)| (a, b)).collect();
        contexts.sort_unstable();
        WalkPlan {
            segments: segments.to_vec(),
            contexts,
            read_references: references_on_the_way(&words, read_references),
            runs,
            run_bytes,
            heap: sizes.iter().sum(),
        }
    }

    /// How many runs (walkers) the plan has.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Bytes the dump holds of run `run` (for progress).
    pub fn run_bytes(&self, run: usize) -> u64 {
        self.run_bytes.get(run).copied().unwrap_or(0)
    }

    /// Bytes the dump holds of the heap.
    pub fn heap_bytes(&self) -> u64 {
        self.heap
    }

    /// The plan as bytes, for a walker ([`WalkPlan::from_bytes`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(64 + self.segments.len() * 40 + self.contexts.len() * 16);
        b.extend_from_slice(PLAN_MAGIC);
        b.push(self.read_references as u8);
        put_u64(&mut b, self.heap);
        put_u32(&mut b, self.segments.len() as u32);
        for s in &self.segments {
            put_u64(&mut b, s.record);
            put_u64(&mut b, s.start);
            put_u64(&mut b, s.end);
            b.push(match s.kind {
                SegmentKind::Small => 0,
                SegmentKind::Large => 1,
                SegmentKind::Pinned => 2,
                SegmentKind::Frozen => 3,
            });
            b.push(s.generation);
            put_u32(&mut b, s.heap);
            b.push(s.ephemeral as u8);
        }
        put_u32(&mut b, self.contexts.len() as u32);
        for &(start, limit) in &self.contexts {
            put_u64(&mut b, start);
            put_u64(&mut b, limit);
        }
        put_u32(&mut b, self.runs.len() as u32);
        for (r, &bytes) in self.runs.iter().zip(&self.run_bytes) {
            put_u32(&mut b, r.start as u32);
            put_u32(&mut b, r.end as u32);
            put_u64(&mut b, bytes);
        }
        b
    }

    /// The plan [`WalkPlan::to_bytes`] wrote; bytes that are not one are a
    /// [`JoinError::Malformed`].
    pub fn from_bytes(bytes: &[u8]) -> Result<WalkPlan, JoinError> {
        let mut r = Bytes::new(bytes, "walk plan");
        r.magic(PLAN_MAGIC)?;
        let read_references = r.flag()?;
        let heap = r.u64()?;
        let n = r.count(30)?;
        let mut segments = Vec::with_capacity(n);
        for _ in 0..n {
            let (record, start, end) = (r.u64()?, r.u64()?, r.u64()?);
            let kind = match r.u8()? {
                0 => SegmentKind::Small,
                1 => SegmentKind::Large,
                2 => SegmentKind::Pinned,
                3 => SegmentKind::Frozen,
                k => return Err(r.bad(format!("segment kind {k}"))),
            };
            let (generation, heap, ephemeral) = (r.u8()?, r.u32()?, r.flag()?);
            if end < start || segments.last().is_some_and(|p: &Segment| p.end > start) {
                return Err(r.bad(format!("segment {start:#x}..{end:#x} out of order")));
            }
            segments.push(Segment {
                record,
                start,
                end,
                kind,
                generation,
                heap,
                ephemeral,
            });
        }
        let n = r.count(16)?;
        let mut contexts = Vec::with_capacity(n);
        for _ in 0..n {
            contexts.push((r.u64()?, r.u64()?));
        }
        let n = r.count(16)?;
        let (mut runs, mut run_bytes) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut next = 0;
        for _ in 0..n {
            let (start, end) = (r.u32()? as usize, r.u32()? as usize);
            if start != next || end <= start || end > segments.len() {
                return Err(r.bad(format!("run of segments {start}..{end}")));
            }
            next = end;
            runs.push(start..end);
            run_bytes.push(r.u64()?);
        }
        if next != segments.len() {
            return Err(r.bad("runs that do not cover the segments".into()));
        }
        r.end()?;
        Ok(WalkPlan {
            segments,
            contexts,
            read_references,
            runs,
            run_bytes,
            heap,
        })
    }
}

/// Why a walker's result could not be joined.
#[derive(Debug, thiserror::Error)]
pub enum JoinError {
    /// The bytes are not what the plan's walker writes.
    #[error("a heap walker's {what} is malformed: {why}")]
    Malformed {
        /// What was read (the plan, a run's result).
        what: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The joined walk does not fit in the memory the open may use.
    #[error("{0}")]
    OverBudget(Box<OpenOverBudget>),
}

impl From<JoinError> for WalkStop {
    fn from(e: JoinError) -> WalkStop {
        match e {
            JoinError::OverBudget(o) => WalkStop::OverBudget(o),
            e => WalkStop::Walker(e.to_string()),
        }
    }
}

/// Walks run `run` of `plan` over `mem` (the same dump the plan was made
/// of), calling `progress(bytes_done)` (of the run) now and then, and
/// returns what it found as bytes for [`Join::add`]. `limit`: the memory
/// this walker may use (its projections are of its run alone).
pub fn walk_run(
    mem: &dyn AddressSpace,
    plan: &WalkPlan,
    run: usize,
    limit: Option<MemoryLimit>,
    progress: &mut dyn FnMut(u64) -> bool,
) -> Result<Vec<u8>, WalkStop> {
    let Some(range) = plan.runs.get(run).cloned() else {
        return Err(WalkStop::Walker(format!(
            "run {run} of a plan of {}",
            plan.runs.len()
        )));
    };
    let words = HeapWords::held(mem, &plan.segments);
    let contexts: AddrMap<u64> = plan.contexts.iter().copied().collect();
    let share = plan.run_bytes[run];
    let mut part = Part::whole(share, &words, plan.read_references, limit);
    part.large.total = held_bytes(
        mem,
        plan.segments[range.clone()]
            .iter()
            .filter(|s| matches!(s.kind, SegmentKind::Large | SegmentKind::Pinned)),
    );
    let mut mts = MethodTables::default();
    let mut next = range;
    part.walk_segments(
        mem,
        &plan.segments,
        &mut || next.next(),
        &contexts,
        &mut mts,
        &words,
        progress,
    )?;
    Ok(result_bytes(plan, run, &part, &mts))
}

/// The bytes of run `run`'s result: see the module's documentation.
fn result_bytes(plan: &WalkPlan, run: usize, part: &Part, mts: &MethodTables) -> Vec<u8> {
    let n = part.objects.len();
    let raw = part.raw.as_ref();
    let references = raw.map_or(0, |r| r.words.len());
    let mut b = Vec::with_capacity(
        64 + mts.addresses.len() * 8
            + n * OBJECT_BYTES as usize
            + raw.map_or(0, |_| n * 4 + references * 4),
    );
    b.extend_from_slice(RUN_MAGIC);
    put_u64(&mut b, plan.heap);
    put_u32(&mut b, run as u32);
    put_u32(&mut b, mts.addresses.len() as u32);
    put_u64(&mut b, n as u64);
    b.push(raw.is_some() as u8);
    put_u64(&mut b, references as u64);
    put_u64(&mut b, raw.map_or(0, |r| r.invalid));
    put_u32(&mut b, part.problems.len() as u32);
    for &mt in &mts.addresses {
        put_u64(&mut b, mt);
    }
    for i in 0..n {
        put_u64(&mut b, part.objects.address(i));
        put_u32(&mut b, part.objects.mt(i));
        put_u64(&mut b, part.objects.size(i));
    }
    if let Some(r) = raw {
        for i in 1..r.starts.len() {
            put_u32(&mut b, r.starts.get(i));
        }
        for &w in &r.words {
            put_u32(&mut b, w);
        }
    }
    for p in &part.problems {
        put_u64(&mut b, p.segment);
        put_u64(&mut b, p.addr);
        put_u64(&mut b, p.bytes_skipped);
        b.push(p.type_data_missing as u8);
        put_u32(&mut b, p.why.len() as u32);
        b.extend_from_slice(p.why.as_bytes());
    }
    b
}

/// The walkers' results of one plan, appended in run order into what one
/// walk gives ([`Join::finish`]).
pub struct Join<'a> {
    mem: &'a dyn AddressSpace,
    plan: &'a WalkPlan,
    part: Part,
    /// The next run to append.
    next: usize,
}

impl<'a> Join<'a> {
    /// A join of `plan`'s results (a plan of `mem`'s heap) within `limit`:
    /// a heap that does not fit even at its least is refused here, before
    /// any walker is started ([`WalkStop::OverBudget`], as
    /// [`walk`](super::walk) refuses it).
    pub fn new(
        mem: &'a dyn AddressSpace,
        plan: &'a WalkPlan,
        limit: Option<MemoryLimit>,
    ) -> Result<Join<'a>, WalkStop> {
        before_the_walk(mem, &plan.segments, plan.heap, limit.as_ref())?;
        let words = HeapWords::held(mem, &plan.segments);
        // The arrays grow as results come: room asked for by what each
        // result holds, not by a guess of the whole heap.
        let mut part = Part::new(0, &words, plan.read_references, limit, plan.heap);
        part.large.total = held_bytes(
            mem,
            plan.segments
                .iter()
                .filter(|s| matches!(s.kind, SegmentKind::Large | SegmentKind::Pinned)),
        );
        Ok(Join {
            mem,
            plan,
            part,
            next: 0,
        })
    }

    /// The run whose result [`Join::add`] takes next.
    pub fn next_run(&self) -> usize {
        self.next
    }

    /// Appends the next run's result, `len` bytes read from `bytes`, its
    /// MethodTables renumbered into `mts` (read again from the dump the
    /// first time met). The result is checked as it is read: its run, its
    /// counts against `len`, every object within the run's segments and
    /// above the one before, every MethodTable one the dump holds, every
    /// reference to a word of the heap. Then the need of the open is
    /// projected from what is joined, as the walk projects it.
    pub fn add(
        &mut self,
        mts: &mut MethodTables,
        bytes: &mut dyn Read,
        len: u64,
    ) -> Result<(), JoinError> {
        let run = self.next;
        let range = self.plan.runs.get(run).cloned().ok_or_else(|| {
            malformed(
                "run result",
                format!("a result past the plan's {} runs", self.plan.runs.len()),
            )
        })?;
        let mut r = Stream::new(bytes, len);
        let RunHeader {
            heap,
            run: of_run,
            tables,
            objects: n,
            with_raw,
            references,
        } = RunHeader::read(&mut r)?;
        if heap != self.plan.heap || of_run != run {
            return Err(malformed(
                "run result",
                format!("the result of run {of_run} of a heap of {heap} bytes where run {run} of {} bytes was due", self.plan.heap),
            ));
        }
        let invalid = r.u64()?;
        let problems = r.u32()? as u64;
        if with_raw != self.plan.read_references || (!with_raw && references != 0) {
            return Err(malformed(
                "run result",
                "references where none were asked, or none where they were".into(),
            ));
        }
        // The fixed part must fit in what is left (each problem at least 29 bytes).
        let fixed = tables
            .checked_mul(8)
            .and_then(|t| {
                n.checked_mul(OBJECT_BYTES + 4 * with_raw as u64)?
                    .checked_add(t)
            })
            .and_then(|t| references.checked_mul(4)?.checked_add(t))
            .and_then(|t| problems.checked_mul(29)?.checked_add(t));
        if fixed.is_none_or(|f| f > r.left) {
            return Err(malformed(
                "run result",
                format!("{tables} MethodTables, {n} objects, {references} references and {problems} problems in {} bytes", r.left),
            ));
        }
        // The MethodTables, renumbered into the join's.
        let mut renumber = Vec::with_capacity(tables as usize);
        for _ in 0..tables {
            let mt = r.u64()?;
            let i = mts.lookup(self.mem, mt).ok_or_else(|| {
                malformed(
                    "run result",
                    format!("the MethodTable at {mt:#x} is not one the dump holds"),
                )
            })?;
            renumber.push(i);
        }
        let limit = self.part.limit.map(|(l, _)| l);
        let walked_before: u64 = self.plan.run_bytes[..run].iter().sum();
        let refused = |part: &Part, bytes: u64| {
            JoinError::OverBudget(Box::new(
                part.over_budget(walked_before, Some(bytes))
                    .unwrap_or_else(|| refused_alone(bytes)),
            ))
        };
        // The objects: within the run's segments, in address order.
        let (lo, hi) = (
            self.plan.segments[range.start].start,
            self.plan.segments[range.end - 1].end,
        );
        let mut last = match self.part.objects.len() {
            0 => None,
            k => Some(self.part.objects.address(k - 1)),
        };
        let first = self.part.objects.len();
        // Room for the run's objects at once (their count is bounded by
        // the bytes checked above), fallibly and within the limit.
        if let Err(bytes) = self.part.objects.grow(n as usize, limit.as_ref()) {
            return Err(refused(&self.part, bytes));
        }
        let mut left = n;
        let mut buf = vec![0u8; SLICE * OBJECT_BYTES as usize];
        while left > 0 {
            let k = left.min(SLICE as u64) as usize;
            if let Err(bytes) = self.part.objects.grow(k, limit.as_ref()) {
                return Err(refused(&self.part, bytes));
            }
            let slice = &mut buf[..k * OBJECT_BYTES as usize];
            r.fill(slice)?;
            for o in slice.chunks_exact(OBJECT_BYTES as usize) {
                let address = le64(&o[0..8]);
                let t = u32::from_le_bytes(o[8..12].try_into().unwrap_or_default());
                let size = le64(&o[12..20]);
                let Some(&t) = renumber.get(t as usize) else {
                    return Err(malformed(
                        "run result",
                        format!("MethodTable {t} of {tables}"),
                    ));
                };
                if address < lo
                    || address.checked_add(size).is_none_or(|e| e > hi)
                    || last.is_some_and(|l| address <= l)
                {
                    return Err(malformed(
                        "run result",
                        format!("an object of {size} bytes at {address:#x}, outside run {run} ({lo:#x}..{hi:#x}) or out of order"),
                    ));
                }
                last = Some(address);
                self.part.objects.push(address, t, size);
            }
            left -= k as u64;
        }
        // The references: each object's, numbered by the heap's words.
        if self.plan.read_references {
            let Some(raw) = self.part.raw.as_mut() else {
                return Err(malformed("run result", "references past the join's".into()));
            };
            let base = raw.words.len() as u64;
            let count = raw.numbering.count();
            if base + references > u32::MAX as u64 {
                return Err(malformed(
                    "run result",
                    format!("{} references in all", base + references),
                ));
            }
            // Room for the run's reference lists and references at once.
            let room = grow_starts(&mut raw.starts, n as usize, 1, limit.as_ref())
                .and_then(|()| grow_by(&mut raw.words, references as usize, 1, limit.as_ref()));
            if let Err(bytes) = room {
                return Err(refused(&self.part, bytes));
            }
            let Some(raw) = self.part.raw.as_mut() else {
                return Err(malformed("run result", "references past the join's".into()));
            };
            let mut previous = 0u32;
            let starts = read_u32s(&mut raw.starts, n, &mut r, limit.as_ref(), |x| {
                if x < previous || x as u64 > references {
                    return Err(malformed(
                        "run result",
                        format!("a reference list ending at {x} after {previous} of {references}"),
                    ));
                }
                previous = x;
                Ok(base as u32 + x)
            });
            let words = starts.and_then(|()| {
                if previous as u64 != references {
                    return Err(Refusal::Bad(malformed(
                        "run result",
                        format!("reference lists ending at {previous} of {references}"),
                    )));
                }
                read_u32s(&mut raw.words, references, &mut r, limit.as_ref(), |x| {
                    if x as u64 >= count {
                        return Err(malformed(
                            "run result",
                            format!("a reference to word {x} of {count}"),
                        ));
                    }
                    Ok(x)
                })
            });
            raw.invalid += invalid;
            match words {
                Ok(()) => {}
                Err(Refusal::Bad(e)) => return Err(e),
                Err(Refusal::Memory(bytes)) => return Err(refused(&self.part, bytes)),
            }
        }
        // The problems.
        for _ in 0..problems {
            let (segment, addr, bytes_skipped) = (r.u64()?, r.u64()?, r.u64()?);
            let type_data_missing = r.u8()? != 0;
            let len = r.u32()? as u64;
            if len > r.left {
                return Err(malformed("run result", format!("a problem of {len} bytes")));
            }
            let mut why = vec![0u8; len as usize];
            r.fill(&mut why)?;
            let why = String::from_utf8(why)
                .map_err(|_| malformed("run result", "a problem not in UTF-8".into()))?;
            self.part.problems.push(WalkProblem {
                segment,
                addr,
                why,
                bytes_skipped,
                type_data_missing,
            });
        }
        if r.left != 0 {
            return Err(malformed(
                "run result",
                format!("{} bytes past its end", r.left),
            ));
        }
        self.part.walked.extend(range);
        self.next += 1;
        // The projection of the whole open from what is joined.
        let walked = walked_before + self.plan.run_bytes[run];
        if let Some(over) = self.part.over_budget(walked, None) {
            return Err(JoinError::OverBudget(Box::new(over)));
        }
        debug_assert!(self.part.objects.len() - first == n as usize);
        Ok(())
    }

    /// Room for `objects` more objects and `references` more references
    /// at once — the counts of all the results still to come
    /// ([`result_counts`]) — asked for fallibly and within the limit, so
    /// that [`Join::add`] grows no array by a copy (in wasm memory, which
    /// never shrinks, each copy would leave the old array behind as a hole).
    /// A refusal leaves the arrays as they are: `add` grows them as it
    /// goes, and says so with numbers if it cannot.
    pub fn reserve(&mut self, objects: u64, references: u64) {
        let limit = self.part.limit.map(|(l, _)| l);
        let objects = usize::try_from(objects).unwrap_or(usize::MAX);
        let _ = self.part.objects.grow(objects, limit.as_ref());
        if let Some(raw) = self.part.raw.as_mut() {
            let references = usize::try_from(references).unwrap_or(usize::MAX);
            let _ = grow_starts(&mut raw.starts, objects, 1, limit.as_ref());
            let _ = grow_by(&mut raw.words, references, 1, limit.as_ref());
        }
    }

    /// What one walk would have found, once every run is joined.
    pub fn finish(self) -> Result<Walked, JoinError> {
        if self.next != self.plan.runs.len() {
            return Err(malformed(
                "run result",
                format!("{} of {} runs joined", self.next, self.plan.runs.len()),
            ));
        }
        Ok(Walked {
            objects: self.part.objects,
            problems: self.part.problems,
            raw: self.part.raw,
        })
    }
}

/// The objects and references a run's result of `len` bytes says it holds
/// (its header; the rest is not read), each clamped to what `len` bytes
/// can hold: for [`Join::reserve`], before the results are added. A
/// result without a run result's header is malformed.
pub fn result_counts(bytes: &mut dyn Read, len: u64) -> Result<(u64, u64), JoinError> {
    let h = RunHeader::read(&mut Stream::new(bytes, len))?;
    Ok((h.objects.min(len / OBJECT_BYTES), h.references.min(len / 4)))
}

/// The start of a run's result, as [`walk_run`] writes it.
struct RunHeader {
    /// Bytes of the heap the plan was of.
    heap: u64,
    /// The run.
    run: usize,
    /// MethodTables listed.
    tables: u64,
    /// Objects.
    objects: u64,
    /// Whether references follow.
    with_raw: bool,
    /// References.
    references: u64,
}

impl RunHeader {
    /// Reads it from `r` (malformed without the run result's magic).
    fn read(r: &mut Stream<'_>) -> Result<RunHeader, JoinError> {
        let mut magic = [0u8; 8];
        r.fill(&mut magic)?;
        if &magic != RUN_MAGIC {
            return Err(malformed("run result", "not a run result".into()));
        }
        Ok(RunHeader {
            heap: r.u64()?,
            run: r.u32()? as usize,
            tables: r.u32()? as u64,
            objects: r.u64()?,
            with_raw: r.u8()? != 0,
            references: r.u64()?,
        })
    }
}

/// Why [`read_u32s`] stopped.
enum Refusal {
    /// The bytes are not a result.
    Bad(JoinError),
    /// Growing the array by these bytes was refused.
    Memory(u64),
}

/// What [`read_u32s`] reads onto: a vector, or packed starts.
trait U32s {
    /// Room for `k` more, fallibly within `limit` (the bytes refused).
    fn grow(&mut self, k: usize, limit: Option<&MemoryLimit>) -> Result<(), u64>;
    /// Appends `x`.
    fn push(&mut self, x: u32);
}

impl U32s for Vec<u32> {
    fn grow(&mut self, k: usize, limit: Option<&MemoryLimit>) -> Result<(), u64> {
        grow_by(self, k, 1 << 12, limit)
    }
    fn push(&mut self, x: u32) {
        Vec::push(self, x);
    }
}

impl U32s for PackedStarts {
    fn grow(&mut self, k: usize, limit: Option<&MemoryLimit>) -> Result<(), u64> {
        grow_starts(self, k, 1 << 12, limit)
    }
    fn push(&mut self, x: u32) {
        PackedStarts::push(self, x);
    }
}

/// Reads `total` numbers from `r` onto `v`, in slices, each checked and
/// mapped by `f`; `v` grows fallibly within `limit`.
fn read_u32s(
    v: &mut impl U32s,
    total: u64,
    r: &mut Stream<'_>,
    limit: Option<&MemoryLimit>,
    mut f: impl FnMut(u32) -> Result<u32, JoinError>,
) -> Result<(), Refusal> {
    let mut left = total;
    let mut buf = vec![0u8; SLICE * 4];
    while left > 0 {
        let k = left.min(SLICE as u64) as usize;
        v.grow(k, limit).map_err(Refusal::Memory)?;
        let slice = &mut buf[..k * 4];
        r.fill(slice).map_err(Refusal::Bad)?;
        for x in slice.chunks_exact(4) {
            let x = u32::from_le_bytes(x.try_into().unwrap_or_default());
            v.push(f(x).map_err(Refusal::Bad)?);
        }
        left -= k as u64;
    }
    Ok(())
}

/// An allocation of `bytes` refused (stated with the bytes when the walk's
/// projection has nothing to add).
fn refused_alone(bytes: u64) -> OpenOverBudget {
    OpenOverBudget {
        objects: 0,
        references: 0,
        walked: 0,
        heap: 0,
        needed: bytes,
        available: 0,
        cap: None,
        refused: Some(bytes),
    }
}

fn malformed(what: &'static str, why: String) -> JoinError {
    JoinError::Malformed { what, why }
}

fn put_u64(b: &mut Vec<u8>, v: u64) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn put_u32(b: &mut Vec<u8>, v: u32) {
    b.extend_from_slice(&v.to_le_bytes());
}

fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b.try_into().unwrap_or_default())
}

/// A reader of a plan's bytes, checked.
struct Bytes<'b> {
    b: &'b [u8],
    at: usize,
    what: &'static str,
}

impl<'b> Bytes<'b> {
    fn new(b: &'b [u8], what: &'static str) -> Self {
        Bytes { b, at: 0, what }
    }

    fn bad(&self, why: String) -> JoinError {
        malformed(self.what, format!("{why} (at byte {})", self.at))
    }

    fn take(&mut self, n: usize) -> Result<&'b [u8], JoinError> {
        let s = self
            .b
            .get(self.at..self.at.saturating_add(n))
            .ok_or_else(|| self.bad(format!("{n} bytes past the end")))?;
        self.at += n;
        Ok(s)
    }

    fn magic(&mut self, m: &[u8; 8]) -> Result<(), JoinError> {
        if self.take(8)? != m {
            return Err(self.bad("not one".into()));
        }
        Ok(())
    }

    fn u8(&mut self) -> Result<u8, JoinError> {
        Ok(self.take(1)?[0])
    }

    fn flag(&mut self) -> Result<bool, JoinError> {
        Ok(self.u8()? != 0)
    }

    fn u32(&mut self) -> Result<u32, JoinError> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }

    fn u64(&mut self) -> Result<u64, JoinError> {
        Ok(le64(self.take(8)?))
    }

    /// A count of items of at least `each` bytes, checked against the bytes left.
    fn count(&mut self, each: usize) -> Result<usize, JoinError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(each) > self.b.len() - self.at {
            return Err(self.bad(format!("{n} items")));
        }
        Ok(n)
    }

    fn end(&self) -> Result<(), JoinError> {
        if self.at != self.b.len() {
            return Err(self.bad("bytes past the end".into()));
        }
        Ok(())
    }
}

/// A reader of a result's `left` bytes, checked.
struct Stream<'r> {
    r: &'r mut dyn Read,
    left: u64,
}

impl<'r> Stream<'r> {
    fn new(r: &'r mut dyn Read, len: u64) -> Self {
        Stream { r, left: len }
    }

    fn fill(&mut self, buf: &mut [u8]) -> Result<(), JoinError> {
        if buf.len() as u64 > self.left {
            return Err(malformed("run result", "cut short".into()));
        }
        self.r
            .read_exact(buf)
            .map_err(|e| malformed("run result", format!("unreadable: {e}")))?;
        self.left -= buf.len() as u64;
        Ok(())
    }

    fn u8(&mut self) -> Result<u8, JoinError> {
        let mut b = [0u8; 1];
        self.fill(&mut b)?;
        Ok(b[0])
    }

    fn u32(&mut self) -> Result<u32, JoinError> {
        let mut b = [0u8; 4];
        self.fill(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64, JoinError> {
        let mut b = [0u8; 8];
        self.fill(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> WalkPlan {
        let seg = |start: u64, end: u64, kind| Segment {
            record: start - 0x1000,
            start,
            end,
            kind,
            generation: 2,
            heap: 0,
            ephemeral: false,
        };
        WalkPlan {
            segments: vec![
                seg(0x10_0000, 0x20_0000, SegmentKind::Small),
                seg(0x30_0000, 0x38_0000, SegmentKind::Small),
                seg(0x40_0000, 0x50_0000, SegmentKind::Large),
            ],
            contexts: vec![(0x10_1000, 0x10_2000), (0x30_0100, 0x30_0800)],
            read_references: true,
            runs: vec![0..1, 1..3],
            run_bytes: vec![0x10_0000, 0x18_0000],
            heap: 0x28_0000,
        }
    }

    #[test]
    fn a_plan_comes_back_from_its_bytes() {
        let p = plan();
        assert_eq!(WalkPlan::from_bytes(&p.to_bytes()).unwrap(), p);
    }

    /// Every cut and every byte changed to each of a few values: an error
    /// or a plan, never a panic; every cut is an error.
    #[test]
    fn bytes_that_are_not_a_plan_are_refused() {
        let bytes = plan().to_bytes();
        for cut in 0..bytes.len() {
            assert!(WalkPlan::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(WalkPlan::from_bytes(&longer).is_err());
        for i in 0..bytes.len() {
            for v in [0u8, 1, 3, 0x7f, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                if let Ok(p) = WalkPlan::from_bytes(&b) {
                    // What is read is a plan: runs cover the segments in order.
                    let mut next = 0;
                    for r in &p.runs {
                        assert_eq!(r.start, next);
                        assert!(r.end > r.start);
                        next = r.end;
                    }
                    assert_eq!(next, p.segments.len());
                }
            }
        }
    }
}
