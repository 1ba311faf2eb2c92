//! The `analysis` document: everything a session found about its dumps, in
//! one file (the web page's "Export analysis").
//!
//! It holds the other documents unchanged — each dump's `stats` (with every
//! row), its `retained` when computed, the `roots` of the types looked at,
//! and the comparison's `diff` — each with its own header, exactly as the
//! CLI writes them for the same files (`heaplens stats --json`, `heaplens
//! retained --json`, `heaplens roots --json`, `heaplens diff --json`; only
//! `file` differs where the CLI names a path and the page a file name). A
//! reader checks this document's header, then reads the parts as it reads
//! those documents.

use crate::diff::DiffDocument;
use crate::retained::RetainedDocument;
use crate::roots::RootsDocument;
use crate::stats::StatsDocument;
use crate::{heaplens_version, DocumentKind, SCHEMA_VERSION};
use serde::{Deserialize, Serialize};

/// A session's analysis of one or more dumps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnalysisDocument {
    /// [`SCHEMA_VERSION`] when written.
    pub schema_version: u32,
    /// The heaplens that wrote it.
    pub heaplens_version: String,
    /// Always [`DocumentKind::Analysis`].
    pub document: DocumentKind,
    /// The dumps, in the order they were opened.
    pub dumps: Vec<DumpAnalysis>,
    /// The comparison of two of them (`base` and `current` name their
    /// files), `null` when none was made.
    pub comparison: Option<DiffDocument>,
}

/// What was found about one dump.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DumpAnalysis {
    /// Its overview and type statistics, every row.
    pub stats: StatsDocument,
    /// Retained sizes, `null` when they were not computed.
    pub retained: Option<RetainedDocument>,
    /// Why the objects of the types looked at are alive, one document per
    /// type, in the order they were looked at.
    pub roots: Vec<RootsDocument>,
}

impl AnalysisDocument {
    /// The document of `dumps` and `comparison`.
    pub fn new(dumps: Vec<DumpAnalysis>, comparison: Option<DiffDocument>) -> AnalysisDocument {
        AnalysisDocument {
            schema_version: SCHEMA_VERSION,
            heaplens_version: heaplens_version(),
            document: DocumentKind::Analysis,
            dumps,
            comparison,
        }
    }
}
