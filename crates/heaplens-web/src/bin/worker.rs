//! An engine worker's wasm entry point (loaded by the page's bridge from a
//! `blob:` URL; see `heaplens_web::bridge`).

/// Counts the memory in use, for the analyses' budget
/// (`heaplens_web::worker::memory_in_use`).
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

#[cfg(target_arch = "wasm32")]
fn main() {
    heaplens_web::worker::start();
}

/// The worker runs only in a browser; natively this binary does nothing.
#[cfg(not(target_arch = "wasm32"))]
fn main() {}
