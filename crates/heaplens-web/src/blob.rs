//! The dropped `File` as the engine's [`ReadAt`], read in slices with
//! `Blob.slice` and `FileReaderSync` (which exists only in workers).

use heaplens_bytes::{ReadAt, ReadError};
use std::cell::Cell;
use wasm_bindgen::JsCast;
use web_sys::{Blob, FileReaderSync};

/// Random access to a `Blob` (a `File`) from a worker. Only the bytes a
/// read asks for are copied into wasm memory; the file is never held whole.
pub struct BlobReader {
    blob: Blob,
    reader: FileReaderSync,
    len: u64,
    position: Cell<u64>,
    bytes_read: Cell<u64>,
    reads: Cell<u64>,
    read_ms: Cell<f64>,
}

impl BlobReader {
    /// A reader over `blob`.
    pub fn new(blob: Blob) -> Result<Self, String> {
        let reader = FileReaderSync::new()
            .map_err(|e| format!("FileReaderSync is not available: {}", js_error(&e)))?;
        let len = blob.size() as u64;
        Ok(BlobReader {
            blob,
            reader,
            len,
            position: Cell::new(0),
            bytes_read: Cell::new(0),
            reads: Cell::new(0),
            read_ms: Cell::new(0.0),
        })
    }

    /// Furthest offset read so far.
    pub fn position(&self) -> u64 {
        self.position.get()
    }

    /// Bytes read so far (re-reads count again).
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read.get()
    }

    /// Milliseconds spent in the File API (slice, read, copy) so far.
    pub fn read_ms(&self) -> f64 {
        self.read_ms.get()
    }

    /// Number of slices read so far.
    pub fn reads(&self) -> u64 {
        self.reads.get()
    }
}

impl ReadAt for BlobReader {
    fn len(&self) -> u64 {
        self.len
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        ReadError::check_bounds(offset, buf.len(), self.len)?;
        if buf.is_empty() {
            return Ok(());
        }
        let t0 = js_sys::Date::now();
        let end = offset + buf.len() as u64;
        let fail = |message: String| ReadError::Source {
            offset,
            len: buf.len() as u64,
            message,
        };
        let slice = self
            .blob
            .slice_with_f64_and_f64(offset as f64, end as f64)
            .map_err(|e| fail(js_error(&e)))?;
        let data = self
            .reader
            .read_as_array_buffer(&slice)
            .map_err(|e| fail(js_error(&e)))?;
        let bytes = js_sys::Uint8Array::new(&data);
        if bytes.length() as usize != buf.len() {
            return Err(fail(format!(
                "the browser returned {} bytes instead of {} (did the file change on disk?)",
                bytes.length(),
                buf.len()
            )));
        }
        bytes.copy_to(buf);
        self.position.set(self.position.get().max(end));
        self.bytes_read
            .set(self.bytes_read.get() + buf.len() as u64);
        self.reads.set(self.reads.get() + 1);
        self.read_ms
            .set(self.read_ms.get() + js_sys::Date::now() - t0);
        Ok(())
    }
}

/// A JavaScript exception as text.
pub fn js_error(e: &wasm_bindgen::JsValue) -> String {
    if let Some(err) = e.dyn_ref::<js_sys::Error>() {
        return String::from(err.message());
    }
    e.as_string().unwrap_or_else(|| format!("{e:?}"))
}

/// Largest blob [`read_whole`] takes: beside the graph it is opened into,
/// a bigger one would not fit in a worker's wasm memory.
const WHOLE_MAX: f64 = (1u64 << 30) as f64;

/// The whole of `blob` in memory (benchmarks only: the engine never
/// loads a dump whole). Refused past [`WHOLE_MAX`] bytes, before reading.
pub fn read_whole(blob: &Blob) -> Result<Vec<u8>, String> {
    if blob.size() > WHOLE_MAX {
        return Err(format!(
            "the compute benchmark reads the file whole into memory: {} bytes is more than its {} bytes",
            blob.size(),
            WHOLE_MAX
        ));
    }
    let reader = FileReaderSync::new().map_err(|e| js_error(&e))?;
    let data = reader
        .read_as_array_buffer(blob)
        .map_err(|e| js_error(&e))?;
    Ok(js_sys::Uint8Array::new(&data).to_vec())
}

/// Reads `blob` from start to end in `chunk`-byte slices and discards the
/// bytes: the raw File API rate, to compare the engine's reads with.
/// Returns the bytes read.
pub fn bench_read(blob: &Blob, chunk: u64) -> Result<u64, String> {
    let reader = FileReaderSync::new().map_err(|e| js_error(&e))?;
    let len = blob.size() as u64;
    let mut off = 0;
    let mut total = 0;
    while off < len {
        let end = (off + chunk.max(1)).min(len);
        let slice = blob
            .slice_with_f64_and_f64(off as f64, end as f64)
            .map_err(|e| js_error(&e))?;
        let data = reader
            .read_as_array_buffer(&slice)
            .map_err(|e| js_error(&e))?;
        total += data.unchecked_into::<js_sys::ArrayBuffer>().byte_length() as u64;
        off = end;
    }
    Ok(total)
}
