//! Caps the worker's wasm memory at 2 GiB, so a dump that would need more
//! fails with a clear message instead of taking the browser down, and the
//! "a 4 GB dump opens within 2 GB" promise is enforced, not hoped for.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        // 2 GiB = 32,768 pages of 64 KiB.
        println!("cargo::rustc-link-arg-bin=worker=--max-memory=2147483648");
    }
}
