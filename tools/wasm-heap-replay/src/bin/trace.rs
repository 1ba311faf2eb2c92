//! Opens a core as the page's engine worker does (one thread, the same
//! page cache over the same read-ahead, `Session::open`) and writes every
//! allocation event, in order, to `HEAPLENS_TRACE`: 40-byte records (op
//! `a`lloc / `f`ree / `r`ealloc / `p`hase mark, log2 of the alignment,
//! old pointer, old size, new pointer, new size). With `BT=1` it prints
//! where each allocation of 2 MB or more comes from. `replay` plays the
//! trace through wasm's allocator.
use heaplens_bytes::{FileSource, PageCache, ReadAhead, ReadAt};
use heaplens_graph::Phase;
use heaplens_snapshot::modules::ModuleSet;
use heaplens_web::model::Session;
use heaplens_web::protocol::DumpId;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};

struct Tracer;
static LOCK: AtomicBool = AtomicBool::new(false);
static FD: AtomicI32 = AtomicI32::new(-1);
static mut BUF: [u8; 1 << 22] = [0; 1 << 22];
static LEN: AtomicUsize = AtomicUsize::new(0);

unsafe fn flush() {
    let fd = FD.load(Ordering::Relaxed);
    let len = LEN.load(Ordering::Relaxed);
    if fd >= 0 && len > 0 {
        let p = std::ptr::addr_of!(BUF) as *const u8;
        let mut off = 0;
        while off < len {
            let w = libc::write(fd, p.add(off) as *const libc::c_void, len - off);
            if w <= 0 { break; }
            off += w as usize;
        }
    }
    LEN.store(0, Ordering::Relaxed);
}

unsafe fn log(op: u8, align: usize, a: *mut u8, asz: usize, b: *mut u8, bsz: usize) {
    if FD.load(Ordering::Relaxed) < 0 { return; }
    let mut len = LEN.load(Ordering::Relaxed);
    if len + 40 > (1 << 22) { flush(); len = 0; }
    let p = (std::ptr::addr_of_mut!(BUF) as *mut u8).add(len);
    let mut rec = [0u8; 40];
    rec[0] = op;
    rec[1] = align.trailing_zeros() as u8;
    rec[8..16].copy_from_slice(&(a as u64).to_le_bytes());
    rec[16..24].copy_from_slice(&(asz as u64).to_le_bytes());
    rec[24..32].copy_from_slice(&(b as u64).to_le_bytes());
    rec[32..40].copy_from_slice(&(bsz as u64).to_le_bytes());
    std::ptr::copy_nonoverlapping(rec.as_ptr(), p, 40);
    LEN.store(len + 40, Ordering::Relaxed);
}

fn lock() {
    while LOCK.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_err() {
        std::hint::spin_loop();
    }
}
fn unlock() {
    LOCK.store(false, Ordering::Release);
}

thread_local! {
    static INSIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// For big events, prints the stack (allocations it makes are not traced).
fn big(size: usize, what: &str) {
    if size < (2 << 20) || FD.load(Ordering::Relaxed) < 0 || std::env::var_os("BT").is_none() {
        return;
    }
    if INSIDE.with(|i| i.replace(true)) {
        return;
    }
    let bt = std::backtrace::Backtrace::force_capture().to_string();
    let keep: Vec<&str> = bt.lines().filter(|l| l.contains("heaplens")).map(|l| l.trim()).filter(|l| !l.starts_with("at ")).take(6).collect();
    eprintln!("BIG {what} {:.1} MB: {}", size as f64 / 1e6, keep.join(" < "));
    INSIDE.with(|i| i.set(false));
}

fn inside() -> bool {
    INSIDE.with(|i| i.get())
}

unsafe impl GlobalAlloc for Tracer {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if inside() { return System.alloc(l); }
        big(l.size(), "alloc");
        lock();
        let p = System.alloc(l);
        log(b'a', l.align(), std::ptr::null_mut(), 0, p, l.size());
        unlock();
        p
    }
    unsafe fn alloc_zeroed(&self, l: Layout) -> *mut u8 {
        if inside() { return System.alloc_zeroed(l); }
        big(l.size(), "alloc0");
        lock();
        let p = System.alloc_zeroed(l);
        log(b'a', l.align(), std::ptr::null_mut(), 0, p, l.size());
        unlock();
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if inside() { return System.dealloc(p, l); }
        lock();
        log(b'f', l.align(), p, l.size(), std::ptr::null_mut(), 0);
        System.dealloc(p, l);
        unlock();
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if inside() { return System.realloc(p, l, n); }
        if n >= (2 << 20) { big(n, &format!("realloc from {:.1}", l.size() as f64 / 1e6)); }
        lock();
        let q = System.realloc(p, l, n);
        log(b'r', l.align(), p, l.size(), q, n);
        unlock();
        q
    }
}

#[global_allocator]
static A: Tracer = Tracer;

/// Marks a phase in the trace (op 'p', size = phase number).
fn mark(k: usize) {
    lock();
    unsafe { log(b'p', 1, std::ptr::null_mut(), k, std::ptr::null_mut(), 0) }
    unlock();
}

fn main() {
    let path = std::env::var("HEAPLENS_BENCH_CORE").expect("core");
    let out = std::env::var("HEAPLENS_TRACE").expect("trace");
    let c = std::ffi::CString::new(out).unwrap();
    let fd = unsafe { libc::open(c.as_ptr(), libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC, 0o644) };
    FD.store(fd, Ordering::Relaxed);
    let file = FileSource::open(std::path::Path::new(&path)).expect("open the core");
    let source: &dyn ReadAt = &file;
    let cache = PageCache::with_capacity(ReadAhead::new(source, 16 << 20), 1 << 20, 64);
    let modules = ModuleSet::new();
    let mut session = Session::default();
    let mut last: Option<Phase> = None;
    let mut names = Vec::new();
    let opened = session
        .open(DumpId(0), &cache, &modules, "core", &mut |p, _, _| {
            if last != Some(p) {
                last = Some(p);
                names.push(p.words().to_string());
                mark(names.len());
            }
            Ok(())
        })
        .expect("read the core");
    mark(0);
    lock();
    unsafe { flush(); }
    unlock();
    FD.store(-1, Ordering::Relaxed);
    eprintln!("nodes {}", opened.snapshot.graph.node_count());
    for (i, n) in names.iter().enumerate() {
        eprintln!("phase {} {}", i + 1, n);
    }
    // Freeing the graph is not part of the open.
    std::mem::forget(opened);
}
