//! What a heap graph holds, beyond its nodes: how a sampled graph scales
//! back to the real heap, and what the input that gave it can answer. Both
//! are facts about the graph, whoever produced it; the formats themselves
//! are known only to `heaplens-snapshot`.

use crate::graph::TypeIndex;

/// How a sampled heap (PerfView's `MaxDumpCountK`) scales back to the real
/// heap. PerfView multiplies both the count and the size of every node of a
/// type by that type's multiplier, so per-type bytes match the real heap and
/// counts are estimates.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// Per type index: the multiplier (0 for types with no original).
    pub count_multipliers: Vec<f32>,
    /// Original node count divided by sampled node count.
    pub average_count_multiplier: f32,
    /// Original bytes divided by sampled bytes.
    pub average_size_multiplier: f32,
}

impl Sampling {
    /// The multiplier of one type (1 if the table is shorter).
    pub fn multiplier(&self, t: TypeIndex) -> f32 {
        self.count_multipliers
            .get(t as usize)
            .copied()
            .unwrap_or(1.0)
    }
}

/// What a snapshot's input can answer. Analyses decide by these, never by
/// the input's format: a new format states its capabilities and every
/// analysis treats it right.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Capabilities {
    /// The graph holds every object of the heap, the ones no root reaches
    /// included (a walk of the whole heap: core dumps, minidumps): those
    /// are garbage not yet collected, and statistics count only what the
    /// roots reach. Without it (a `.gcdump`) the graph holds the objects
    /// its writer listed, and statistics count them all; those its
    /// recorded references do not connect to its roots are PerfView's
    /// `[not reachable from roots]` — in a `.gcdump` written from the
    /// runtime's events the runtime found them live (held by a dependent
    /// handle, for example, whose edges the file does not record), in one
    /// written by walking whole segments (PerfView's older ClrMD snapshot)
    /// mostly dead — never called garbage, without a root path or a
    /// retained size.
    pub unreachable_objects: bool,
    /// The graph is a sample of the heap: counts and bytes are scaled by
    /// its [`Sampling`] and counts are estimates.
    pub sampled: bool,
    /// Nodes carry the objects' addresses in the dumped process.
    pub object_addresses: bool,
    /// The input holds the objects' bytes, so their fields and values can
    /// be read (a dump of the process's memory); a `.gcdump` holds only
    /// the graph.
    pub object_contents: bool,
    /// Type names are spelled the runtime's way (its TypeString names from
    /// the metadata: ``List`1[System.Int32]``); without it they are
    /// EventPipe's, as a `.gcdump` holds them (`List<System.Int32>`, with
    /// size buckets such as ` (Bytes > 10K)`). A diff of inputs that spell
    /// names differently compares them normalized.
    pub runtime_type_names: bool,
    /// Types come with their namespace, base types and interfaces from the
    /// metadata ([`crate::TypeHierarchy`]), so objects can be grouped by
    /// what they implement; a `.gcdump` holds names only, and a dump
    /// without the modules' metadata cannot know them.
    pub type_hierarchy: bool,
}

impl Capabilities {
    /// None of them.
    pub const NONE: Capabilities = Capabilities {
        unreachable_objects: false,
        sampled: false,
        object_addresses: false,
        object_contents: false,
        runtime_type_names: false,
        type_hierarchy: false,
    };

    /// The stable names of the capabilities (`unreachable_objects`,
    /// `sampled`, `object_addresses`, `object_contents`,
    /// `runtime_type_names`, `type_hierarchy`) with their values, in that
    /// order: for JSON output and the result schema.
    pub fn named(self) -> [(&'static str, bool); 6] {
        [
            ("unreachable_objects", self.unreachable_objects),
            ("sampled", self.sampled),
            ("object_addresses", self.object_addresses),
            ("object_contents", self.object_contents),
            ("runtime_type_names", self.runtime_type_names),
            ("type_hierarchy", self.type_hierarchy),
        ]
    }
}
