//! The UI's wasm entry point (see `index.html`).

#[cfg(target_arch = "wasm32")]
fn main() {
    heaplens_web::ui::start();
}

/// The UI runs only in a browser; natively this binary does nothing.
#[cfg(not(target_arch = "wasm32"))]
fn main() {}
