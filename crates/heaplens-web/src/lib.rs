//! The heaplens web app: drop .NET memory dumps into a browser tab and see
//! what fills the heap, why it is alive and what grew.
//!
//! Two wasm modules are built from this crate (see `index.html`):
//!
//! * `app` — the page ([`ui`]): Yew function components, one file per
//!   screen, around one reducer ([`state`]); one generic table
//!   ([`table`], `ui::table`) for every table; the view in the URL
//!   ([`route`]). It never holds dump bytes and runs no analysis: its
//!   bridge ([`bridge`]) gives each dump an engine worker of its own.
//! * `worker` — an engine worker ([`worker`]), started from a `blob:` URL
//!   so that it runs under the page's Content-Security-Policy. It reads a
//!   `File` in slices (`Blob.slice` + `FileReaderSync`, see [`blob`])
//!   through the engine's `ReadAt`, opens it with
//!   `heaplens_snapshot::open_in` (every format the engine reads) and
//!   answers with the documents of the result schema ([`protocol`]).
//!
//! A `.zip`, `.gz` or `.zst` is unpacked by the engine worker into the
//! browser's origin-private file system ([`scratch`]) and read from there.
//!
//! What a worker computes lives in [`model`]; the messages in
//! [`protocol`]. Both, the reducer, the route and the table's model are
//! plain Rust, built and tested natively as well.

pub mod contents_rows;
pub mod eta;
pub mod flame;
pub mod format;
pub mod model;
pub mod protocol;
pub mod route;
pub mod state;
pub mod table;
pub mod walkers;

#[cfg(target_arch = "wasm32")]
pub mod blob;
#[cfg(target_arch = "wasm32")]
pub mod bridge;
#[cfg(target_arch = "wasm32")]
pub mod scratch;
#[cfg(target_arch = "wasm32")]
pub mod ui;
#[cfg(target_arch = "wasm32")]
pub mod worker;
