//! An engine worker's wasm entry point (loaded by the page's bridge from a
//! `blob:` URL; see `heaplens_web::bridge`).

#[cfg(target_arch = "wasm32")]
fn main() {
    heaplens_web::worker::start();
}

/// The worker runs only in a browser; natively this binary does nothing.
#[cfg(not(target_arch = "wasm32"))]
fn main() {}
