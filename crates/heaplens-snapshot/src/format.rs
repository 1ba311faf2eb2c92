//! The registry of input formats: everything heaplens reads is one
//! [`Format`] entry of [`FORMATS`], with its name, its description in
//! words, how it is recognised (by content, never by file name), how it is
//! read and described, and what its snapshots can answer.
//!
//! [`open`](crate::open), [`describe`](crate::describe) and the page's list
//! of what it takes all go through this table: adding a format is adding an
//! entry (its reader lives in its own crate or module).
//!
//! An archive or compressed file is an entry too, of kind
//! [`Reader::Archive`]: it unwraps to the bytes it holds, whose format is
//! recognised again from the same table (a zip holding a minidump opens as
//! the minidump).

use crate::archive::{self, ArchiveLayer};
use crate::describe::{self, Description};
use crate::modules::ModuleSet;
use crate::{elf, gcdump, minidump, OpenError, Snapshot};
use heaplens_archive::Scratch;
use heaplens_bytes::ReadAt;
use heaplens_graph::{Capabilities, Progress};

/// How many of an input's first bytes a [`Format::sniff`] sees (fewer when
/// the input is shorter).
pub const SNIFF_BYTES: usize = 64;

/// How many archives may be nested (a `.zst` of a `.zip` of a dump is 2).
pub const MAX_NESTING: usize = 4;

/// One input format heaplens recognises.
pub struct Format {
    /// A short stable name: `gcdump`, `elf-core`, `minidump`; used in JSON
    /// output and the result schema.
    pub name: &'static str,
    /// What one such input is, for people: `Windows minidump`.
    pub title: &'static str,
    /// Such inputs and where they come from, for the page's list of what
    /// it takes: `Windows minidumps (.dmp: procdump, …)`.
    pub description: &'static str,
    /// How such an input starts, for messages: `MDMP`.
    pub signature: &'static str,
    /// True when an input's first bytes (at most [`SNIFF_BYTES`]) are this
    /// format's. By content only, never by file name.
    pub sniff: fn(head: &[u8]) -> bool,
    /// What snapshots of this format can answer. `sampled` says whether
    /// they may be sampled; each snapshot's
    /// [`SnapshotInfo::capabilities`](crate::SnapshotInfo::capabilities)
    /// says whether it is.
    pub capabilities: Capabilities,
    /// How it is read.
    pub reader: Reader,
}

/// How a [`Format`] is read.
#[derive(Clone, Copy)]
pub enum Reader {
    /// A dump: opened into a [`Snapshot`], described into a
    /// [`Description`].
    Dump(Dump),
    /// A container of another input (an archive, a compressed file): the
    /// bytes it holds are recognised and read again.
    Archive {
        /// Gives the bytes inside.
        unwrap: UnwrapFn,
    },
    /// Recognised, but not read by this version: opening such an input
    /// fails with this error.
    Refused(fn() -> OpenError),
}

/// How a dump is read.
#[derive(Clone, Copy)]
pub struct Dump {
    /// Reads the input into a snapshot.
    pub open: OpenFn,
    /// Says what the input is (`heaplens info`).
    pub describe: DescribeFn,
    /// Counts the input's objects per type without its graph
    /// ([`count_in`](crate::count_in)); `None`: the graph is opened and
    /// its objects counted (a `.gcdump`, which is small).
    pub count: Option<CountFn>,
}

/// Reads an input of `format` into a snapshot (whose info is
/// [`SnapshotInfo::new`](crate::SnapshotInfo::new)`(format)` filled in).
pub type OpenFn = fn(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<Snapshot, OpenError>;

/// Counts an input of `format`'s objects per type without its graph.
pub type CountFn = fn(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<crate::HeapCounts, OpenError>;

/// Describes an input of `format`; fails only when its container cannot be
/// read (a heap that cannot be read is part of the description).
pub type DescribeFn = fn(
    format: &'static Format,
    src: Source<'_>,
    cx: &mut Context<'_>,
) -> Result<Description, OpenError>;

/// Unwraps an archive: the bytes inside, as a source of their own.
pub type UnwrapFn =
    for<'a> fn(src: Source<'a>, cx: &mut Context<'_>) -> Result<Unwrapped<'a>, OpenError>;

/// The bytes of an input.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// Read from one thread (the browser's worker).
    Local(&'a dyn ReadAt),
    /// Threads can share it (a file read natively): a dump's heap is
    /// walked on two threads.
    Shared(&'a (dyn ReadAt + Sync)),
}

impl<'a> Source<'a> {
    /// The bytes, to read from this thread.
    pub fn bytes(self) -> &'a dyn ReadAt {
        match self {
            Source::Local(s) => s,
            Source::Shared(s) => s,
        }
    }
}

/// What an open or describe needs besides the bytes (made by
/// [`Context::new`]; [`open`](crate::open) and
/// [`describe`](crate::describe) make one with the defaults).
#[non_exhaustive]
pub struct Context<'a> {
    /// Module files naming the types of dumps that lack their images (see
    /// [`crate::modules`]).
    pub modules: &'a ModuleSet,
    /// Progress reports; cancels the work when it returns an error.
    pub progress: &'a mut dyn Progress,
    /// Where archives are unpacked. `None`: natively the system's
    /// temporary directory (`TMPDIR`,
    /// [`heaplens_archive::TempScratch::from_env`]); in a wasm32 build
    /// none, so only stored zip entries (read in place) open — the page
    /// gives its own, in the browser's origin-private file system.
    pub scratch: Option<&'a mut dyn Scratch>,
    /// The archives unwrapped on the way to the dump, outermost first
    /// (filled in by their entries; the snapshot's and the description's
    /// `archives`).
    pub archives: Vec<ArchiveLayer>,
    /// What reading the heap may use (a WebAssembly worker's cap; `None`,
    /// the default: no cap). A CLR heap that does not fit is refused with
    /// numbers (`over_budget`), before or during its walk.
    pub memory: Option<heaplens_graph::MemoryLimit>,
    /// Walkers of a CLR heap that share no memory with the read (the
    /// page's Web Workers; [`heaplens_clr::Walkers`]): each opens the
    /// input's own bytes ([`crate::walk_run`]), so they walk only a dump
    /// read straight from the input, never one unpacked from an archive
    /// (then the read walks the heap itself). `None`, the default: the
    /// read walks it.
    pub walkers: Option<&'a mut dyn heaplens_clr::Walkers>,
}

impl<'a> Context<'a> {
    /// A context with `modules` and `progress`, the platform's scratch
    /// space, no archive unwrapped yet.
    pub fn new(modules: &'a ModuleSet, progress: &'a mut dyn Progress) -> Context<'a> {
        Context {
            modules,
            progress,
            scratch: None,
            archives: Vec::new(),
            memory: None,
            walkers: None,
        }
    }

    /// The same, unpacking archives into `scratch`.
    pub fn with_scratch(mut self, scratch: &'a mut dyn Scratch) -> Context<'a> {
        self.scratch = Some(scratch);
        self
    }
}

/// What an archive holds: the bytes of the input inside.
pub enum Unwrapped<'a> {
    /// Bytes to read from one thread.
    Local(Box<dyn ReadAt + 'a>),
    /// Bytes threads can share.
    Shared(Box<dyn ReadAt + Sync + 'a>),
}

impl Unwrapped<'_> {
    /// The bytes inside, as a source.
    pub fn source(&self) -> Source<'_> {
        match self {
            Unwrapped::Local(s) => Source::Local(s.as_ref()),
            Unwrapped::Shared(s) => Source::Shared(s.as_ref()),
        }
    }
}

impl Format {
    /// True when inputs of this format can be read (dumps, and archives of
    /// them); false for formats only recognised.
    pub fn is_readable(&self) -> bool {
        !matches!(self.reader, Reader::Refused(_))
    }
}

impl std::fmt::Debug for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Format")
            .field("name", &self.name)
            .field("capabilities", &self.capabilities)
            .finish_non_exhaustive()
    }
}

impl PartialEq for Format {
    fn eq(&self, other: &Format) -> bool {
        self.name == other.name
    }
}

impl Eq for Format {}

/// A whole-heap dump of the process's memory: every object, reachable or
/// not, at its address, with its bytes; types with their base types and
/// interfaces where the modules' metadata is at hand.
const PROCESS_MEMORY: Capabilities = Capabilities {
    unreachable_objects: true,
    sampled: false,
    object_addresses: true,
    object_contents: true,
    runtime_type_names: true,
    type_hierarchy: true,
};

/// Every format heaplens recognises, dumps first.
pub static FORMATS: &[Format] = &[
    Format {
        name: "gcdump",
        title: ".gcdump (dotnet-gcdump / PerfView heap snapshot)",
        description: ".gcdump files (dotnet-gcdump, PerfView heap snapshots)",
        signature: "!FastSerialization.1",
        sniff: heaplens_gcdump::looks_like_gcdump,
        // The GC wrote only the objects it found live, at their addresses;
        // no object's bytes. dotnet-gcdump samples big heaps.
        capabilities: Capabilities {
            unreachable_objects: false,
            sampled: true,
            object_addresses: true,
            object_contents: false,
            runtime_type_names: false,
            type_hierarchy: false,
        },
        reader: Reader::Dump(Dump {
            open: gcdump::open,
            describe: describe::gcdump,
            count: None,
        }),
    },
    Format {
        name: "elf-core",
        title: "Linux core dump (ELF)",
        description: "Linux core dumps of .NET processes (createdump, dotnet-dump)",
        signature: "\\x7fELF",
        sniff: |head| head.starts_with(b"\x7fELF"),
        capabilities: PROCESS_MEMORY,
        reader: Reader::Dump(Dump {
            open: elf::open,
            describe: describe::elf,
            count: Some(elf::count),
        }),
    },
    Format {
        name: "minidump",
        title: "Windows minidump",
        description: "Windows minidumps (.dmp: procdump, Task Manager, Kudu, dotnet-dump)",
        signature: "MDMP",
        sniff: |head| head.starts_with(b"MDMP"),
        capabilities: PROCESS_MEMORY,
        reader: Reader::Dump(Dump {
            open: minidump::open,
            describe: describe::minidump,
            count: Some(minidump::count),
        }),
    },
    Format {
        name: "zstd",
        title: "zstd-compressed file",
        description: "zstd-compressed dumps (.zst)",
        signature: "\\x28\\xb5\\x2f\\xfd",
        sniff: |head| head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]),
        capabilities: Capabilities::NONE,
        reader: Reader::Archive {
            unwrap: archive::unwrap_zstd,
        },
    },
    Format {
        name: "gzip",
        title: "gzip-compressed file",
        description: "gzip-compressed dumps (.gz)",
        signature: "\\x1f\\x8b",
        sniff: |head| head.starts_with(&[0x1f, 0x8b]),
        capabilities: Capabilities::NONE,
        reader: Reader::Archive {
            unwrap: archive::unwrap_gzip,
        },
    },
    Format {
        name: "zip",
        title: "zip archive",
        description: "zip archives of a dump (.zip: Kudu's download; the sos.dll and \
                      mscordaccore.dll or mscordacwks.dll beside it are not needed)",
        signature: "PK\\x03\\x04",
        sniff: |head| head.starts_with(b"PK\x03\x04"),
        capabilities: Capabilities::NONE,
        reader: Reader::Archive {
            unwrap: archive::unwrap_zip,
        },
    },
];

/// The entry named `name` (`gcdump`, `elf-core`, `minidump`, …).
pub fn by_name(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name == name)
}

/// The formats heaplens reads, for a list of what it takes.
pub fn readable() -> impl Iterator<Item = &'static Format> {
    FORMATS.iter().filter(|f| f.is_readable())
}

/// Recognises the format of `src` from its first bytes: the entry of
/// [`FORMATS`] whose sniff accepts them, or [`OpenError::UnknownFormat`].
pub fn detect(src: &dyn ReadAt) -> Result<&'static Format, OpenError> {
    detect_in(FORMATS, src)
}

/// [`detect`] against `table`.
pub(crate) fn detect_in<'t>(
    table: &'t [Format],
    src: &dyn ReadAt,
) -> Result<&'t Format, OpenError> {
    let n = src.len().min(SNIFF_BYTES as u64) as usize;
    let mut head = vec![0u8; n];
    src.read_at(0, &mut head)?;
    table
        .iter()
        .find(|f| (f.sniff)(&head))
        .ok_or_else(|| OpenError::UnknownFormat {
            head: if head.is_empty() {
                "nothing (the file is empty)".to_owned()
            } else {
                let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
                hex.join(" ")
            },
        })
}

/// The readable formats as a message says them: `a .gcdump
/// (!FastSerialization.1), … or a Windows minidump (MDMP), or one of them
/// in a zstd-compressed file (\x28\xb5\x2f\xfd), …`.
pub(crate) fn known_dumps() -> String {
    let words = |kind: fn(&Reader) -> bool, article: &str| -> String {
        let items: Vec<String> = FORMATS
            .iter()
            .filter(|f| kind(&f.reader))
            .map(|f| format!("{article}{} ({})", f.title, f.signature))
            .collect();
        match items.split_last() {
            Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
            _ => items.concat(),
        }
    };
    let dumps = words(|r| matches!(r, Reader::Dump(_)), "a ");
    let archives = words(|r| matches!(r, Reader::Archive { .. }), "");
    if archives.is_empty() {
        dumps
    } else {
        format!("{dumps}, or one of them in a {archives}")
    }
}

/// What [`read_in`] does with the dump it found: its entry and reader, its
/// bytes.
pub(crate) type ReadDump<'r, T> =
    dyn FnMut(&'static Format, Dump, Source<'_>, &mut Context<'_>) -> Result<T, OpenError> + 'r;

/// Recognises `src` in `table` and hands the dump it is (unwrapping
/// archives, at most [`MAX_NESTING`] deep) to `read` with its entry and
/// reader.
pub(crate) fn read_in<T>(
    table: &'static [Format],
    src: Source<'_>,
    cx: &mut Context<'_>,
    read: &mut ReadDump<'_, T>,
) -> Result<T, OpenError> {
    read_nested(table, src, cx, read, 0)
}

fn read_nested<T>(
    table: &'static [Format],
    src: Source<'_>,
    cx: &mut Context<'_>,
    read: &mut ReadDump<'_, T>,
    depth: usize,
) -> Result<T, OpenError> {
    let format = detect_in(table, src.bytes())?;
    match format.reader {
        Reader::Dump(dump) => read(format, dump, src, cx),
        Reader::Archive { unwrap } => {
            if depth >= MAX_NESTING {
                return Err(OpenError::TooDeep(MAX_NESTING));
            }
            let inner = unwrap(src, cx)?;
            read_nested(table, inner.source(), cx, read, depth + 1)
        }
        Reader::Refused(error) => Err(error()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use heaplens_bytes::ReadError;
    use heaplens_graph::NoProgress;
    use std::path::{Path, PathBuf};

    /// The names of the entries whose sniff accepts `head`.
    fn sniffed_by(head: &[u8]) -> Vec<&'static str> {
        FORMATS
            .iter()
            .filter(|f| (f.sniff)(&head[..head.len().min(SNIFF_BYTES)]))
            .map(|f| f.name)
            .collect()
    }

    #[test]
    fn names_are_unique_and_stable() {
        let names: Vec<&str> = FORMATS.iter().map(|f| f.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len(), "{names:?}");
        // The names JSON output and the result schema use.
        for name in ["gcdump", "elf-core", "minidump"] {
            let f = by_name(name).unwrap();
            assert!(f.is_readable(), "{name}");
            assert!(matches!(f.reader, Reader::Dump(_)), "{name}");
        }
        let readable: Vec<&str> = readable().map(|f| f.name).collect();
        assert_eq!(
            readable,
            ["gcdump", "elf-core", "minidump", "zstd", "gzip", "zip"]
        );
        for name in ["zstd", "gzip", "zip"] {
            let f = by_name(name).unwrap();
            assert!(matches!(f.reader, Reader::Archive { .. }), "{name}");
        }
    }

    #[test]
    fn detects_by_content() {
        // Heads written here from the formats' specifications.
        let mut gc = b"\x14\x00\x00\x00!FastSerialization.1".to_vec();
        gc.extend_from_slice(&[0; 8]);
        assert_eq!(detect(&gc).unwrap().name, "gcdump");
        assert_eq!(
            detect(&b"\x7fELF\x02\x01".to_vec()).unwrap().name,
            "elf-core"
        );
        assert_eq!(detect(&b"MDMP\x93\xa7".to_vec()).unwrap().name, "minidump");
        // RFC 1952 (gzip member: ID1 ID2 CM=deflate), PKWARE APPNOTE
        // (local file header), RFC 8878 (zstd frame magic, little-endian).
        // Their first bytes alone are archives cut short.
        for (head, name) in [
            (&b"\x1f\x8b\x08\x00\x00\x00\x00\x00"[..], "gzip"),
            (&b"PK\x03\x04\x14\x00\x00\x00"[..], "zip"),
            (&b"\x28\xb5\x2f\xfd\x04\x58"[..], "zstd"),
        ] {
            assert_eq!(sniffed_by(head), [name]);
            let e = crate::open(&head.to_vec(), &mut NoProgress).unwrap_err();
            assert_eq!(e.kind(), "truncated_archive", "{e:?}");
            assert!(e.to_string().contains("cut short"), "{e}");
            assert!(e.to_string().contains(name), "{e}");
        }
    }

    #[test]
    fn unknown_input_is_a_typed_error() {
        for (input, says) in [
            (&b"JUNKJUNKJUNK"[..], "4a 55 4e 4b 4a 55 4e 4b"),
            (&b"\x7fEL"[..], "7f 45 4c"),
            (&b""[..], "empty"),
        ] {
            let e = detect(&input.to_vec()).unwrap_err();
            assert!(matches!(e, OpenError::UnknownFormat { .. }), "{e:?}");
            assert_eq!(e.kind(), "unknown_format");
            let msg = e.to_string();
            assert!(msg.contains(says), "{msg}");
            // The message names every format heaplens reads.
            for f in readable() {
                assert!(msg.contains(f.signature), "{msg} lacks {}", f.name);
            }
            let e = crate::open(&input.to_vec(), &mut NoProgress).unwrap_err();
            assert!(matches!(e, OpenError::UnknownFormat { .. }), "{e:?}");
            let d = crate::describe(&input.to_vec(), &ModuleSet::new(), &mut NoProgress);
            assert!(matches!(d, Err(OpenError::UnknownFormat { .. })));
        }
    }

    /// The corpus' inputs with the entry each is: every `.gcdump` sample,
    /// every fixture's cores and minidumps (unpacked), and the `.zst` files
    /// as they are stored (zstd).
    fn corpus_inputs(shared: &Path) -> Vec<(PathBuf, bool, &'static str)> {
        let mut v: Vec<(PathBuf, bool, &str)> = heaplens_corpus::gcdump_samples(shared)
            .into_iter()
            .map(|p| (p, false, "gcdump"))
            .collect();
        for dir in heaplens_corpus::fixture_dirs(shared) {
            for phase in [1, 2] {
                for (suffix, name) in [(".core.zst", "elf-core"), (".dmp.zst", "minidump")] {
                    for p in heaplens_corpus::phase_dumps(&dir, phase, &[suffix]) {
                        v.push((p.clone(), true, name));
                        v.push((p, false, "zstd"));
                    }
                }
            }
        }
        v
    }

    #[test]
    fn every_entry_recognises_its_own_fixtures_and_no_other() {
        let Some(shared) = heaplens_corpus::shared_or_skip("format registry on the corpus") else {
            return;
        };
        let inputs = corpus_inputs(&shared);
        for (path, unpack, want) in &inputs {
            let head = if *unpack {
                heaplens_corpus::head(path, SNIFF_BYTES).unwrap()
            } else {
                let bytes = std::fs::read(path).unwrap();
                bytes[..bytes.len().min(SNIFF_BYTES)].to_vec()
            };
            assert_eq!(sniffed_by(&head), [*want], "{}", path.display());
            assert_eq!(detect(&head).unwrap().name, *want, "{}", path.display());
        }
        // Every format that reads dumps, and zstd, met a real input.
        for f in FORMATS
            .iter()
            .filter(|f| matches!(f.reader, Reader::Dump(_)))
            .chain(by_name("zstd"))
        {
            assert!(
                inputs.iter().any(|(_, _, n)| *n == f.name),
                "no fixture of {}",
                f.name
            );
        }
    }

    #[test]
    fn a_snapshot_has_its_formats_capabilities() {
        let Some(shared) = heaplens_corpus::shared_or_skip("format capabilities") else {
            return;
        };
        for path in heaplens_corpus::gcdump_samples(&shared) {
            let bytes = std::fs::read(&path).unwrap();
            let snap = crate::open(&bytes, &mut NoProgress).unwrap();
            let info = &snap.info;
            assert_eq!(info.format.name, "gcdump");
            let c = info.capabilities;
            // The GC wrote only the objects it found live, no contents.
            assert!(!c.unreachable_objects && !c.object_contents, "{c:?}");
            assert!(c.object_addresses);
            assert_eq!(c.sampled, info.sampling.is_some(), "{}", path.display());
            // Names only: no base types or interfaces.
            assert!(!c.type_hierarchy && snap.graph.hierarchy().is_none());
        }
    }

    /// A test archive: `WRAP` and the bytes of the input inside.
    struct Skip<'a>(&'a dyn ReadAt);

    impl ReadAt for Skip<'_> {
        fn len(&self) -> u64 {
            self.0.len().saturating_sub(4)
        }

        fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
            ReadError::check_bounds(offset, buf.len(), self.len())?;
            self.0.read_at(offset + 4, buf)
        }
    }

    fn unwrap_test_archive<'a>(
        src: Source<'a>,
        _: &mut Context<'_>,
    ) -> Result<Unwrapped<'a>, OpenError> {
        Ok(Unwrapped::Local(Box::new(Skip(src.bytes()))))
    }

    /// The `.gcdump` entry and a test archive.
    static WITH_ARCHIVE: &[Format] = &[
        Format {
            name: "gcdump",
            title: "",
            description: "",
            signature: "",
            sniff: heaplens_gcdump::looks_like_gcdump,
            capabilities: Capabilities::NONE,
            reader: Reader::Dump(Dump {
                open: gcdump::open,
                describe: describe::gcdump,
                count: None,
            }),
        },
        Format {
            name: "wrap",
            title: "",
            description: "",
            signature: "WRAP",
            sniff: |head| head.starts_with(b"WRAP"),
            capabilities: Capabilities::NONE,
            reader: Reader::Archive {
                unwrap: unwrap_test_archive,
            },
        },
    ];

    #[test]
    fn an_archive_unwraps_to_the_input_inside() {
        let Some(shared) = heaplens_corpus::shared_or_skip("archive entries") else {
            return;
        };
        let path = shared.join("samples/gcdump/perfview-test2-wpf-netfx-x86.gcdump");
        let raw = std::fs::read(path).unwrap();
        let direct = heaplens_gcdump::read(&raw, &mut NoProgress).unwrap().graph;
        let modules = ModuleSet::new();
        let open = |input: &Vec<u8>| {
            let mut progress = NoProgress;
            let mut cx = Context::new(&modules, &mut progress);
            read_in(
                WITH_ARCHIVE,
                Source::Local(input),
                &mut cx,
                &mut |f, dump, src, cx| Ok((f.name, (dump.open)(f, src, cx)?)),
            )
        };
        let mut wrapped = raw.clone();
        for depth in 1..=MAX_NESTING + 1 {
            wrapped.splice(0..0, *b"WRAP");
            match open(&wrapped) {
                Ok((name, snap)) => {
                    assert!(depth <= MAX_NESTING);
                    assert_eq!(name, "gcdump");
                    assert_eq!(snap.graph.node_count(), direct.node_count());
                    assert_eq!(snap.graph.total_size(), direct.total_size());
                }
                Err(e) => {
                    assert_eq!(depth, MAX_NESTING + 1);
                    assert!(
                        matches!(e, OpenError::TooDeep(n) if n == MAX_NESTING),
                        "{e:?}"
                    );
                }
            }
        }
        // Inside the archive, an input of no known format.
        let e = open(&b"WRAPJUNKJUNK".to_vec()).unwrap_err();
        assert!(matches!(e, OpenError::UnknownFormat { .. }), "{e:?}");
    }
}
