//! heaplens' results as one schema: typed, serialisable, versioned.
//!
//! Everything heaplens tells about a dump leaves the engine as one of the
//! documents below: `heaplens … --json` prints them, the web worker sends
//! them to the page, and an export writes them. Each document has **one
//! builder**, here, from the engine's outputs (a
//! [`heaplens_snapshot::Snapshot`], the analyses of [`heaplens_analysis`], a
//! [`heaplens_snapshot::Description`]); no consumer converts engine
//! structures itself.
//!
//! | document | what | type | built by |
//! |---|---|---|---|
//! | `info` | what a dump is (`heaplens info`) | [`info::InfoDocument`] | [`info::InfoDocument::build`] |
//! | `stats` | the snapshot's overview and its type statistics (`heaplens stats`, the page's overview and type table) | [`stats::StatsDocument`] | [`stats::StatsDocument::build`] |
//! | `retained` | retained sizes per type and the largest objects (`heaplens retained`, the page's retained column) | [`retained::RetainedDocument`] | [`retained::RetainedDocument::build`] |
//! | `roots` | why a type's objects are alive: root paths and the referred-from tree (`heaplens roots`, the page's type detail) | [`roots::RootsDocument`] | [`roots::RootsDocument::build`] |
//! | `diff` | what changed between two snapshots (`heaplens diff`, the page's comparison) | [`diff::DiffDocument`] | [`diff::DiffDocument::build`], [`diff::diff_documents`] |
//! | `analysis` | a session's documents in one file (the page's export) | [`analysis::AnalysisDocument`] | [`analysis::AnalysisDocument::new`] |
//! | `object` | one object: fields and values, referrers, dominators (`heaplens object`, the page's inspector) | [`object::ObjectDocument`] | [`object::ObjectDocument::build`] |
//! | `instances` | a type's objects, sorted and paged, and its static fields (`heaplens instances`) | [`instances::InstancesDocument`] | [`instances::InstancesDocument::build`] |
//! | `strings` | duplicate strings and string search (`heaplens strings`) | [`strings::StringsDocument`] | [`strings::StringsDocument::build`] |
//! | `waste` | wasted collections (`heaplens waste`) | [`waste::WasteDocument`] | [`waste::WasteDocument::build`] |
//! | `findings` | leak suspects: the .NET patterns holding memory, ranked by what they retain or how it grew (`heaplens findings`) | [`findings::FindingsDocument`] | [`findings::FindingsDocument::build`] |
//! | `counts` | every object on the heap (garbage included) counted per type without the graph, when the graph does not fit or is not wanted (`heaplens stats --all-objects`; the page's statistics-only open) | [`counts::CountsDocument`] | [`counts::CountsDocument::build`] |
//! | `flame` | a flame graph of what holds the heap, by retained or inclusive size, of one snapshot or of two's difference (`heaplens flame`, the page's flame graph) | [`flame::FlameDocument`] | [`flame::FlameDocument::build`], [`flame::FlameDocument::build_diff`] |
//!
//! The optional columns and tables of `stats` and `diff` (PerfView's
//! inclusive size, retained sizes, groups: [`groups`]) cost a spanning or
//! a dominator tree; they are computed on request and left out otherwise.
//!
//! # Values
//!
//! Documents read from object contents (`object`, `instances`' static
//! fields, `strings`) carry values from the dump — field values, string
//! text — and say so in `values`; built without them (the CLI's
//! `--no-values`) they say `"values": false` and carry none
//! ([`values`]).
//!
//! # Every document starts with
//!
//! * `schema_version` — [`SCHEMA_VERSION`] of the heaplens that wrote it;
//!   every change to a document (a field added, renamed, removed or given a
//!   new meaning, a new document) increases it and is listed in
//!   `CHANGELOG.md` beside this crate. Output of heaplens before the schema
//!   has no `schema_version` and counts as version 0.
//! * `heaplens_version` — the version of heaplens that wrote it.
//! * `document` — which document it is ([`DocumentKind`]).
//!
//! [`Header`] reads these three from any document, so a reader checks
//! ([`Header::check`]) before it reads the rest.
//!
//! # Ids
//!
//! Rows carry ids, so a view joins rows of different documents by id and
//! never by name:
//!
//! * [`TypeId`]: a row of the type statistics — one per type, that is per
//!   MethodTable for a dump of process memory, and per (name, module,
//!   MethodTable) for a `.gcdump` that repeats a type. Two types with one
//!   name (in different modules, or generic instantiations the input names
//!   alike) are two rows with two ids. A `TypeId` is the graph's index of
//!   the row's first type ([`heaplens_analysis::stats::TypeGroups`]): the
//!   same in every document about one snapshot (`stats`, `retained`,
//!   `roots`, a `diff`'s side), and the same whenever heaplens of one
//!   schema version reads the same file.
//! * [`NodeId`]: an object (a node of the heap graph) within its snapshot.
//! * A diff row's `id` is its place in the diff's full order; it links to
//!   the rows it compares on either side (`base_type_ids`,
//!   `current_type_ids`).
//!
//! # Conventions
//!
//! Sizes are bytes, counts are objects. Addresses and MethodTables are hex
//! strings (`"0x7ff9b4e0d7c8"`) so no reader loses precision. A document's
//! own fields are always present, `null` when the input does not record
//! them; in rows and tree entries, a field that does not apply is left out
//! (its default: `null`, `false`, `0`, `[]`), to keep large tables small.

pub mod analysis;
pub mod counts;
pub mod coverage;
pub mod diff;
pub mod findings;
pub mod flame;
pub mod groups;
pub mod info;
pub mod instances;
pub mod object;
pub mod retained;
pub mod roots;
pub mod stats;
pub mod strings;
pub mod values;
pub mod waste;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The version of the schema this heaplens writes. See `CHANGELOG.md`.
pub const SCHEMA_VERSION: u32 = 10;

/// The oldest version this heaplens reads as it stands: version 10 only
/// added a document to version 9, version 9 only
/// added patterns and detail values to the `findings` of version 8, version 8 only
/// added fields to the `findings` document of version 7 (absent ones read
/// as false) and a pattern, version 7 only added a document to version 6, version 6 only added fields (absent
/// ones read as `null` or empty) and a document to version 5, and version
/// 5 only added documents to version 4.
pub const OLDEST_READABLE: u32 = 4;

/// The version of heaplens (the workspace's; every crate shares it).
pub const HEAPLENS_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Which document a JSON object is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    /// [`info::InfoDocument`].
    Info,
    /// [`stats::StatsDocument`].
    Stats,
    /// [`retained::RetainedDocument`].
    Retained,
    /// [`roots::RootsDocument`].
    Roots,
    /// [`diff::DiffDocument`].
    Diff,
    /// [`analysis::AnalysisDocument`].
    Analysis,
    /// [`flame::FlameDocument`].
    Flame,
    /// [`object::ObjectDocument`].
    Object,
    /// [`instances::InstancesDocument`].
    Instances,
    /// [`strings::StringsDocument`].
    Strings,
    /// [`waste::WasteDocument`].
    Waste,
    /// [`findings::FindingsDocument`].
    Findings,
    /// [`counts::CountsDocument`].
    Counts,
}

/// The fields every document starts with. Deserialising any document as a
/// `Header` reads just these (unknown fields are ignored); a document
/// without `schema_version` (heaplens before the schema) reads as version 0.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// The schema version it was written with.
    #[serde(default)]
    pub schema_version: u32,
    /// The heaplens that wrote it.
    #[serde(default)]
    pub heaplens_version: Option<String>,
    /// Which document it is (absent before the schema).
    #[serde(default)]
    pub document: Option<DocumentKind>,
}

/// The fields the `stats` and `counts` documents start with, in this
/// order: the [`Header`]'s three, then the file and what the input is
/// (each document holds them flattened, at its top level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DumpHeader {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Which document it is.
    pub document: DocumentKind,
    /// The file as it was given (a path, or a file name in the page).
    pub file: String,
    /// The file's size in bytes.
    pub file_bytes: u64,
    /// True when the result is the whole heap's; false for a partial
    /// input (`coverage` says what is missing).
    pub complete: bool,
    /// How much of the heap, its roots and the file the input holds (a
    /// `counts` document reads no roots: their figures are 0).
    pub coverage: coverage::CoverageFacts,
    /// `gcdump`, `elf-core` or `minidump`.
    pub format: String,
    /// The archives the dump came in, outermost first (`[]`: none).
    pub archives: Vec<ArchiveFacts>,
    /// Size of a pointer in the process, in bytes.
    pub pointer_size: Option<u8>,
    /// The process's name.
    pub process_name: Option<String>,
    /// The process's id.
    pub process_id: Option<u32>,
}

impl DumpHeader {
    /// The header of a `document` of the input `info` describes, read from
    /// `file` of `file_bytes` bytes.
    pub fn of(
        document: DocumentKind,
        file: &str,
        file_bytes: u64,
        info: &heaplens_snapshot::SnapshotInfo,
    ) -> DumpHeader {
        DumpHeader {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document,
            file: file.to_owned(),
            file_bytes,
            complete: info.coverage.is_complete(),
            coverage: coverage::CoverageFacts::of(&info.coverage),
            format: format_name(info.format),
            archives: ArchiveFacts::all(&info.archives),
            pointer_size: info.pointer_size,
            process_name: info.process_name.clone(),
            process_id: info.process_id,
        }
    }
}

/// A document this heaplens cannot read as it stands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// Written by a newer heaplens.
    #[error(
        "the results were written with schema version {found} (heaplens {heaplens}); this \
         heaplens reads versions {OLDEST_READABLE} to {SCHEMA_VERSION}: use heaplens {heaplens} or newer"
    )]
    Newer {
        /// The document's version.
        found: u32,
        /// The heaplens that wrote it.
        heaplens: String,
    },
    /// Written by an older heaplens, in a version no upgrader reads.
    #[error(
        "the results were written with schema version {found} (heaplens {heaplens}); this \
         heaplens reads versions {OLDEST_READABLE} to {SCHEMA_VERSION}: read the dump again to get them in this version"
    )]
    Older {
        /// The document's version.
        found: u32,
        /// The heaplens that wrote it (`unknown` before version 1).
        heaplens: String,
    },
}

impl Header {
    /// The header of a document written now.
    pub fn current(document: DocumentKind) -> Header {
        Header {
            schema_version: SCHEMA_VERSION,
            heaplens_version: Some(HEAPLENS_VERSION.to_owned()),
            document: Some(document),
        }
    }

    /// Whether this heaplens reads the document: versions
    /// [`OLDEST_READABLE`] to [`SCHEMA_VERSION`] (version 9 only added
    /// patterns to version 8, version 8 only added
    /// fields to version 7, version 7 only added a
    /// document to version 6, version 6 only fields and a document to
    /// version 5, version 5 only documents to
    /// version 4, see `CHANGELOG.md`; upgraders
    /// from older versions will sit here, as in Firefox Profiler's
    /// processed-profile versioning).
    pub fn check(&self) -> Result<(), VersionError> {
        let heaplens = || {
            self.heaplens_version
                .clone()
                .unwrap_or_else(|| "unknown".to_owned())
        };
        if self.schema_version > SCHEMA_VERSION {
            Err(VersionError::Newer {
                found: self.schema_version,
                heaplens: heaplens(),
            })
        } else if self.schema_version < OLDEST_READABLE {
            Err(VersionError::Older {
                found: self.schema_version,
                heaplens: heaplens(),
            })
        } else {
            Ok(())
        }
    }
}

/// The `heaplens_version` field of a document written now.
fn heaplens_version() -> String {
    HEAPLENS_VERSION.to_owned()
}

/// A row of a snapshot's type statistics, within its snapshot (see the
/// crate's documentation on ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TypeId(pub u32);

/// An object (a node of the heap graph) within its snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub u32);

/// An address in the dumped process (an object, a MethodTable), written
/// as a hex string (`"0x7ff9b4e0d7c8"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address(pub u64);

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#x}", self.0)
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.strip_prefix("0x")
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .map(Address)
            .ok_or_else(|| serde::de::Error::custom(format!("not a hex address: {s:?}")))
    }
}

/// A count of objects (or blocks) and their bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// How many.
    pub count: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl From<heaplens_analysis::stats::Totals> for Totals {
    fn from(t: heaplens_analysis::stats::Totals) -> Self {
        Totals {
            count: t.count,
            bytes: t.bytes,
        }
    }
}

/// How the GC runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GcMode {
    /// One heap.
    Workstation,
    /// A heap per core (or as many as DATAS decides).
    Server,
}

impl GcMode {
    /// The name as the JSON writes it (`workstation`, `server`).
    pub fn as_str(self) -> &'static str {
        match self {
            GcMode::Workstation => "workstation",
            GcMode::Server => "server",
        }
    }
}

impl From<heaplens_snapshot::GcMode> for GcMode {
    fn from(m: heaplens_snapshot::GcMode) -> Self {
        match m {
            heaplens_snapshot::GcMode::Workstation => GcMode::Workstation,
            heaplens_snapshot::GcMode::Server => GcMode::Server,
        }
    }
}

/// How the GC lays out its heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeapLayout {
    /// Segments.
    Segments,
    /// Regions (.NET 7+).
    Regions,
}

impl HeapLayout {
    /// The name as the JSON writes it (`segments`, `regions`).
    pub fn as_str(self) -> &'static str {
        match self {
            HeapLayout::Segments => "segments",
            HeapLayout::Regions => "regions",
        }
    }
}

impl From<heaplens_snapshot::HeapLayout> for HeapLayout {
    fn from(l: heaplens_snapshot::HeapLayout) -> Self {
        match l {
            heaplens_snapshot::HeapLayout::Segments => HeapLayout::Segments,
            heaplens_snapshot::HeapLayout::Regions => HeapLayout::Regions,
        }
    }
}

/// How heaplens found the GC heap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HeapFoundBy {
    /// From the runtime's own bookkeeping (`GcDacVars`).
    GcDacVars,
    /// By a heuristic scan of the dump's memory (.NET Framework keeps no
    /// `GcDacVars`).
    Shape,
}

impl HeapFoundBy {
    fn of(found_by_shape: bool) -> HeapFoundBy {
        if found_by_shape {
            HeapFoundBy::Shape
        } else {
            HeapFoundBy::GcDacVars
        }
    }
}

/// An archive or compressed file the dump was read from: `archives` of the
/// `info` and `stats` documents, outermost first (a `.zst` in a `.zip`:
/// the zip, then the zstd); `[]` for a dump read as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchiveFacts {
    /// `zip`, `gzip` or `zstd`.
    pub format: String,
    /// The entry read: a zip entry's name (`w3wp.dmp`), the file name a
    /// gzip member records; `null` when the archive names none (zstd).
    pub entry: Option<String>,
    /// How the entry's bytes are stored: `stored` or `deflate` (zip),
    /// `gzip`, `zstd`.
    pub method: String,
    /// Bytes of compressed input (the zip entry's, the whole file's).
    pub compressed_bytes: u64,
    /// Bytes unpacked.
    pub inflated_bytes: u64,
    /// The zip's other entries, not read (Kudu's `sos.dll`,
    /// `mscordaccore.dll`: heaplens does not need them); at most 50
    /// names, then `… and N more`.
    pub other_entries: Vec<String>,
    /// Where the bytes were unpacked while the dump was read (`a temporary
    /// file in /tmp`, `the browser's private storage`), deleted afterwards;
    /// `null` when read in place (a stored zip entry).
    pub unpacked_to: Option<String>,
}

impl ArchiveFacts {
    /// The facts of each layer, outermost first.
    pub fn all(layers: &[heaplens_snapshot::ArchiveLayer]) -> Vec<ArchiveFacts> {
        layers
            .iter()
            .map(|l| ArchiveFacts {
                format: format_name(l.format),
                entry: l.entry.clone(),
                method: l.method.clone(),
                compressed_bytes: l.compressed_bytes,
                inflated_bytes: l.inflated_bytes,
                other_entries: l.other_entries.clone(),
                unpacked_to: l.unpacked_to.clone(),
            })
            .collect()
    }

    /// What was read, in words: `zip entry w3wp.dmp (deflate): 8,115,926
    /// bytes unpacked to 47,688,819 in a temporary file in /tmp, deleted
    /// afterwards`.
    pub fn words(&self) -> String {
        match self.unpacked_to {
            Some(_) => format!("{}, deleted afterwards", self.words_without_fate()),
            None => self.words_without_fate(),
        }
    }

    /// [`ArchiveLayer::words`] without what became of the unpacked copy
    /// (for a copy kept, which the page says apart).
    pub fn words_without_fate(&self) -> String {
        use heaplens_analysis::format::thousands;
        let what = match (&self.entry, self.format.as_str()) {
            (Some(e), "zip") => format!("zip entry {e} ({})", self.method),
            (Some(e), f) => format!("{f} file of {e}"),
            (None, f) => format!("{f} file"),
        };
        match &self.unpacked_to {
            Some(to) => format!(
                "{what}: {} bytes unpacked to {} in {to}",
                thousands(self.compressed_bytes),
                thousands(self.inflated_bytes)
            ),
            None => format!(
                "{what}: {} bytes read in place",
                thousands(self.inflated_bytes)
            ),
        }
    }

    /// The zip's other entries in words, when it has any: `also in the zip,
    /// not read: sos.dll and mscordaccore.dll (heaplens needs neither SOS
    /// nor the DAC)`.
    pub fn others_words(&self) -> Option<String> {
        let (last, rest) = self.other_entries.split_last()?;
        let names = if rest.is_empty() {
            last.clone()
        } else {
            format!("{} and {last}", rest.join(", "))
        };
        let lower = |n: &String| n.to_ascii_lowercase();
        let sos_or_dac =
            self.other_entries.iter().map(lower).any(|n| {
                n.ends_with("sos.dll") || n.contains("mscordac") || n.contains("libmscordac")
            });
        Some(format!(
            "also in the {}, not read: {names}{}",
            self.format,
            if sos_or_dac {
                " (heaplens needs neither SOS nor the DAC)"
            } else {
                ""
            }
        ))
    }
}

/// The input format's stable name (`gcdump`, `elf-core`, `minidump`): its
/// registry entry's.
fn format_name(format: &heaplens_snapshot::Format) -> String {
    format.name.to_owned()
}

/// `true` for serde's `skip_serializing_if`.
fn is_false(v: &bool) -> bool {
    !*v
}

/// `0` for serde's `skip_serializing_if`.
fn is_zero(v: &u64) -> bool {
    *v == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_checked_against_this_version() {
        let h = Header::current(DocumentKind::Stats);
        assert_eq!(h.schema_version, SCHEMA_VERSION);
        assert!(h.check().is_ok());
        let newer = Header {
            schema_version: SCHEMA_VERSION + 1,
            ..h.clone()
        };
        assert!(matches!(newer.check(), Err(VersionError::Newer { .. })));
        // Version 4 and 5 documents read as they stand (version 5 added
        // documents, version 6 fields and a document); version 3 does not.
        let v5 = Header {
            schema_version: 5,
            ..h.clone()
        };
        assert!(v5.check().is_ok());
        let v6 = Header {
            schema_version: 6,
            ..h.clone()
        };
        assert!(v6.check().is_ok());
        let v4 = Header {
            schema_version: 4,
            ..h.clone()
        };
        assert!(v4.check().is_ok());
        let v3 = Header {
            schema_version: 3,
            ..h.clone()
        };
        assert!(matches!(
            v3.check(),
            Err(VersionError::Older { found: 3, .. })
        ));
        // Output of heaplens before the schema: version 0.
        let old: Header = serde_json::from_str(r#"{"format":"gcdump","types":[]}"#).unwrap();
        assert_eq!(old.schema_version, 0);
        let err = old.check().unwrap_err();
        assert!(matches!(err, VersionError::Older { found: 0, .. }));
        assert!(err.to_string().contains("heaplens unknown"), "{err}");
    }

    #[test]
    fn addresses_are_hex_strings() {
        let a = Address(0x7ff9_b4e0_d7c8);
        let s = serde_json::to_string(&a).unwrap();
        assert_eq!(s, r#""0x7ff9b4e0d7c8""#);
        assert_eq!(serde_json::from_str::<Address>(&s).unwrap(), a);
        assert!(serde_json::from_str::<Address>(r#""7ff9""#).is_err());
        assert_eq!(serde_json::to_string(&Address(0)).unwrap(), r#""0x0""#);
    }
}
