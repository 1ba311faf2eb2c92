//! The registry's archive entries: a zip (Kudu's dump download), a gzip
//! and a zstd file unwrap to the input inside, which the registry then
//! recognises again (see [`crate::format`]). The archives themselves are
//! read by [`heaplens_archive`]; here the dump is picked by content and
//! what was unpacked is recorded ([`ArchiveLayer`]).

use crate::format::{self, Context, Format, Source, Unwrapped, FORMATS, SNIFF_BYTES};
use crate::OpenError;
use heaplens_archive::zip::{Method, ZipReader};
use heaplens_archive::{gzip, zstd, Scratch, ScratchBytes, Unpacked};
use heaplens_bytes::SubRange;
use heaplens_graph::Progress;

/// An archive or compressed file a dump was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveLayer {
    /// The archive's format (`zip`, `gzip`, `zstd`).
    pub format: &'static Format,
    /// The entry read: a zip entry's name (`w3wp.dmp`), the file name a
    /// gzip member records; `None` when the archive names none (zstd).
    pub entry: Option<String>,
    /// How the entry's bytes are stored: `stored`, `deflate` (zip), `gzip`,
    /// `zstd`.
    pub method: String,
    /// Bytes of compressed input (the zip entry's, the whole file's).
    pub compressed_bytes: u64,
    /// Bytes the entry holds, unpacked.
    pub inflated_bytes: u64,
    /// The zip's other entries (files; at most [`OTHER_ENTRIES_LISTED`]
    /// names, then `… and N more`), not read: Kudu's `sos.dll` and
    /// `mscordaccore.dll`, which heaplens does not need.
    pub other_entries: Vec<String>,
    /// Where it was unpacked while the dump was read (`a temporary file in
    /// /tmp`); `None` when it was read in place (a stored zip entry).
    pub unpacked_to: Option<String>,
}

/// How many of a zip's other entries an [`ArchiveLayer`] names.
pub const OTHER_ENTRIES_LISTED: usize = 50;

/// How many entries of a zip are looked into for a dump.
const ENTRIES_SNIFFED: usize = 1000;

/// The scratch space of `cx`, or the platform's: natively the system's
/// temporary directory (`TMPDIR`), none in a wasm32 build (the page passes
/// its own).
fn with_scratch<T>(
    cx: &mut Context<'_>,
    f: impl FnOnce(&mut dyn Scratch, &mut dyn Progress) -> T,
) -> T {
    match cx.scratch.as_deref_mut() {
        Some(s) => f(s, &mut *cx.progress),
        None => {
            #[cfg(not(target_arch = "wasm32"))]
            let mut default = heaplens_archive::TempScratch::from_env();
            #[cfg(target_arch = "wasm32")]
            let mut default = heaplens_archive::NoScratch(
                "this build of heaplens has no scratch space for unpacking".to_owned(),
            );
            f(&mut default, &mut *cx.progress)
        }
    }
}

fn unwrapped<'a>(bytes: ScratchBytes) -> Unwrapped<'a> {
    match bytes {
        ScratchBytes::Local(b) => Unwrapped::Local(b),
        ScratchBytes::Shared(b) => Unwrapped::Shared(b),
    }
}

/// `4a 55 4e 4b …`: the first bytes, for a message.
fn hex_head(head: &[u8]) -> String {
    if head.is_empty() {
        return "nothing (it is empty)".to_owned();
    }
    let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    hex.join(" ")
}

/// The format of an input starting with `head`, when heaplens reads it.
fn readable_format(head: &[u8]) -> Option<&'static Format> {
    format::detect_in(FORMATS, &head.to_vec())
        .ok()
        .filter(|f| f.is_readable())
}

/// Unwraps a zip: the entry that is a dump (or an archive of one),
/// recognised by its first bytes; the largest when several are. A stored
/// entry is read in place; a deflated one is unpacked into scratch space.
pub(crate) fn unwrap_zip<'a>(
    src: Source<'a>,
    cx: &mut Context<'_>,
) -> Result<Unwrapped<'a>, OpenError> {
    let bytes = src.bytes();
    let mut zip = ZipReader::open(bytes)?;
    let entries = zip.entries().to_vec();
    let mut dumps: Vec<(usize, &'static Format)> = Vec::new();
    let mut first_error = None;
    for (i, e) in entries.iter().enumerate() {
        if !e.is_readable() || i >= ENTRIES_SNIFFED {
            continue;
        }
        match zip.head(i, SNIFF_BYTES) {
            Ok(head) => {
                if let Some(f) = readable_format(&head) {
                    dumps.push((i, f));
                }
            }
            Err(err) => {
                first_error.get_or_insert(err);
            }
        }
    }
    let Some(&(pick, _)) = dumps.iter().max_by_key(|(i, _)| entries[*i].size) else {
        if let Some(err) = first_error {
            return Err(err.into());
        }
        let files: Vec<String> = entries
            .iter()
            .filter(|e| !e.is_dir)
            .map(|e| {
                let why = if e.encrypted {
                    ", encrypted".to_owned()
                } else if !e.is_readable() {
                    format!(", {}", e.method.name())
                } else {
                    String::new()
                };
                format!("{} ({} bytes{why})", e.name, e.size)
            })
            .collect();
        return Err(OpenError::NoDumpInArchive {
            format: "zip",
            holds: if files.is_empty() {
                "it is empty".to_owned()
            } else {
                format!("it holds {}", listed(&files, 20))
            },
        });
    };
    let e = &entries[pick];
    let others: Vec<String> = entries
        .iter()
        .enumerate()
        .filter(|(i, o)| *i != pick && !o.is_dir)
        .map(|(_, o)| o.name.clone())
        .collect();
    let mut layer = ArchiveLayer {
        format: format::by_name("zip").expect("the zip entry"),
        entry: Some(e.name.clone()),
        method: e.method.name(),
        compressed_bytes: e.compressed_bytes,
        inflated_bytes: e.size,
        other_entries: capped(others),
        unpacked_to: None,
    };
    let inner = match e.method {
        Method::Stored => {
            let (start, len) = zip.stored_range(pick)?;
            match src {
                Source::Local(s) => Unwrapped::Local(Box::new(SubRange::new(s, start, len)?)),
                Source::Shared(s) => Unwrapped::Shared(Box::new(SubRange::new(s, start, len)?)),
            }
        }
        _ => {
            let Unpacked {
                bytes,
                inflated_bytes,
                ..
            } = with_scratch(cx, |scratch, progress| {
                layer.unpacked_to = Some(scratch.location());
                zip.inflate(pick, scratch, progress)
            })?;
            layer.inflated_bytes = inflated_bytes;
            unwrapped(bytes)
        }
    };
    cx.archives.push(layer);
    Ok(inner)
}

/// `a, b and c`, at most `n` of them, then `and N more`.
fn listed(items: &[String], n: usize) -> String {
    let shown: Vec<&str> = items.iter().take(n).map(String::as_str).collect();
    let more = items.len().saturating_sub(n);
    match (shown.split_last(), more) {
        (None, _) => String::new(),
        (Some((last, [])), 0) => (*last).to_owned(),
        (Some((last, rest)), 0) => format!("{} and {last}", rest.join(", ")),
        (Some(_), more) => format!("{} and {more} more", shown.join(", ")),
    }
}

fn capped(mut names: Vec<String>) -> Vec<String> {
    if names.len() > OTHER_ENTRIES_LISTED {
        let more = names.len() - OTHER_ENTRIES_LISTED;
        names.truncate(OTHER_ENTRIES_LISTED);
        names.push(format!("… and {more} more"));
    }
    names
}

/// The first bytes of what a stream holds.
type Head =
    fn(&dyn heaplens_bytes::ReadAt, usize) -> Result<Vec<u8>, heaplens_archive::ArchiveError>;

/// Unpacks a stream into scratch space.
type Inflate = fn(
    &dyn heaplens_bytes::ReadAt,
    &mut dyn Scratch,
    &mut dyn Progress,
) -> Result<Unpacked, heaplens_archive::ArchiveError>;

/// A gzip or zstd stream, unpacked into scratch space; checked to hold an
/// input heaplens reads from its first bytes (before unpacking when `head`
/// gives them).
fn unwrap_stream<'a>(
    format_name: &'static str,
    src: Source<'a>,
    cx: &mut Context<'_>,
    head: Option<Head>,
    inflate: Inflate,
    entry: Option<String>,
) -> Result<Unwrapped<'a>, OpenError> {
    let bytes = src.bytes();
    let named = entry
        .as_deref()
        .map(|n| format!("{n}, a file "))
        .unwrap_or_else(|| "a file ".to_owned());
    let no_dump = |first: &[u8]| OpenError::NoDumpInArchive {
        format: format_name,
        holds: format!(
            "it holds {named}that starts with {}, which is not {}",
            hex_head(first),
            format::known_dumps()
        ),
    };
    // Checked before unpacking when the first bytes come cheaply.
    if let Some(head) = head {
        let first = head(bytes, SNIFF_BYTES)?;
        if readable_format(&first).is_none() {
            return Err(no_dump(&first));
        }
    }
    let mut layer = ArchiveLayer {
        format: format::by_name(format_name).expect("a registry entry"),
        entry,
        method: format_name.to_owned(),
        compressed_bytes: bytes.len(),
        inflated_bytes: 0,
        other_entries: Vec::new(),
        unpacked_to: None,
    };
    let unpacked = with_scratch(cx, |scratch, progress| {
        layer.unpacked_to = Some(scratch.location());
        inflate(bytes, scratch, progress)
    })?;
    layer.inflated_bytes = unpacked.inflated_bytes;
    let inner = unpacked.bytes.as_read_at();
    let mut first = vec![0u8; inner.len().min(SNIFF_BYTES as u64) as usize];
    inner.read_at(0, &mut first)?;
    if readable_format(&first).is_none() {
        return Err(no_dump(&first));
    }
    cx.archives.push(layer);
    Ok(unwrapped(unpacked.bytes))
}

/// Unwraps a gzip file (one or more members).
pub(crate) fn unwrap_gzip<'a>(
    src: Source<'a>,
    cx: &mut Context<'_>,
) -> Result<Unwrapped<'a>, OpenError> {
    let name = gzip::file_name(src.bytes());
    unwrap_stream("gzip", src, cx, Some(gzip::head), gzip::inflate, name)
}

/// Unwraps a zstd file (one or more frames).
pub(crate) fn unwrap_zstd<'a>(
    src: Source<'a>,
    cx: &mut Context<'_>,
) -> Result<Unwrapped<'a>, OpenError> {
    // Its decoder gives bytes once they leave the window: reading the
    // first ones would decode up to a window's worth twice.
    unwrap_stream("zstd", src, cx, None, zstd::inflate, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_as_words() {
        let v = |n: usize| (0..n).map(|i| format!("f{i}")).collect::<Vec<_>>();
        assert_eq!(listed(&v(1), 20), "f0");
        assert_eq!(listed(&v(3), 20), "f0, f1 and f2");
        assert_eq!(listed(&v(4), 2), "f0, f1 and 2 more");
        let c = capped(v(OTHER_ENTRIES_LISTED + 3));
        assert_eq!(c.len(), OTHER_ENTRIES_LISTED + 1);
        assert_eq!(c.last().unwrap(), "… and 3 more");
    }
}
