//! The heaplens web app: drop a .NET memory dump into a browser tab and see
//! what fills the heap, why it is alive and what grew.
//!
//! Two wasm modules are built from this crate (see `index.html`):
//!
//! * `app` — the Yew UI ([`ui`]). It never holds dump bytes: it posts the
//!   dropped `File` handle to the worker and receives the results as the
//!   documents of the result schema (`heaplens_results`).
//! * `worker` — a dedicated Web Worker ([`worker`]). It reads the `File` in
//!   chunks (`Blob.slice` + `FileReaderSync`, see [`blob`]) through the
//!   engine's `ReadAt`, opens it with `heaplens_snapshot::open_with` (every
//!   format the engine reads, with no change here; `.dll`/`.exe` files
//!   dropped with the dump are its module files, as the CLI's `--modules`)
//!   and answers the UI's requests.
//!
//! A `.zip`, `.gz` or `.zst` is unpacked by the engine into the browser's
//! origin-private file system ([`scratch`]) and read from there.
//!
//! Everything the worker computes lives in [`model`] and the messages in
//! [`protocol`]; both are plain Rust, built and tested natively as well.

pub mod format;
pub mod model;
pub mod protocol;

#[cfg(target_arch = "wasm32")]
pub mod blob;
#[cfg(target_arch = "wasm32")]
pub mod scratch;
#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;
