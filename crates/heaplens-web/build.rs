//! Links the engine worker with the largest memory wasm32 has: 4 GiB
//! (65,536 pages of 64 KiB; Chromium and Firefox allow it), so that a heap
//! of 100 M objects and more can open in a tab. The UI's binary keeps the
//! default (it holds no dump). What the worker may use is the budget's cap
//! (`heaplens_web::worker::MEMORY_CAP`): a dump that would need more is
//! refused with numbers before the walk, during it, or before an analysis,
//! instead of taking the tab down.

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        // 4 GiB = 65,536 pages of 64 KiB: `MEMORY_CAP` in src/worker.rs.
        println!("cargo::rustc-link-arg-bin=worker=--max-memory=4294967296");
    }
}
