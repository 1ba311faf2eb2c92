//! Replays a `trace` through dlmalloc — the allocator Rust's
//! `wasm32-unknown-unknown` std uses — over a simulated wasm memory (grown
//! by 64 KiB pages, never returned), and prints the memory's size, the
//! bytes in use and the holes between them at each phase mark, and each
//! event that grew the memory by the second argument's bytes or more
//! (default 1 MiB). `replay TRACE [MIN_GROWTH]`.
use dlmalloc::{Allocator, Dlmalloc};
use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};

static BASE: AtomicUsize = AtomicUsize::new(0);
static TOP: AtomicUsize = AtomicUsize::new(0);
const SPACE: usize = 1 << 33;

struct Sim;
unsafe impl Allocator for Sim {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        let pages = size.div_ceil(65536);
        let top = TOP.fetch_add(pages * 65536, Ordering::Relaxed);
        if top + pages * 65536 > SPACE {
            return (std::ptr::null_mut(), 0, 0);
        }
        ((BASE.load(Ordering::Relaxed) + top) as *mut u8, pages * 65536, 0)
    }
    fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 { std::ptr::null_mut() }
    fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool { false }
    fn free(&self, _: *mut u8, _: usize) -> bool { false }
    fn can_release_part(&self, _: u32) -> bool { false }
    fn allocates_zeros(&self) -> bool { true }
    fn page_size(&self) -> usize { 65536 }
}

fn main() {
    let path = std::env::args().nth(1).expect("trace");
    let min_report: usize = std::env::args().nth(2).map_or(1 << 20, |s| s.parse().unwrap());
    let base = unsafe {
        libc::mmap(std::ptr::null_mut(), SPACE, libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE, -1, 0)
    };
    BASE.store(base as usize, Ordering::Relaxed);
    let mut dl = Dlmalloc::new_with_allocator(Sim);
    let mut f = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(path).unwrap());
    let mut map: HashMap<u64, (*mut u8, usize, usize)> = HashMap::new();
    let mut live: usize = 0;
    let mut rec = [0u8; 40];
    let mut n = 0u64;
    let mut grown_by_big = 0usize;
    let u = |r: &[u8], o: usize| u64::from_le_bytes(r[o..o + 8].try_into().unwrap());
    let mb = |b: usize| b as f64 / 1e6;
    while f.read_exact(&mut rec).is_ok() {
        n += 1;
        let before = TOP.load(Ordering::Relaxed);
        let align = 1usize << rec[1];
        let (a, asz, b, bsz) = (u(&rec, 8), u(&rec, 16) as usize, u(&rec, 24), u(&rec, 32) as usize);
        let what;
        match rec[0] {
            b'a' => {
                let p = unsafe { dl.malloc(bsz, align) };
                assert!(!p.is_null());
                map.insert(b, (p, bsz, align));
                live += bsz;
                what = format!("alloc {:.1} MB", mb(bsz));
            }
            b'f' => {
                let Some((p, sz, al)) = map.remove(&a) else { continue };
                unsafe { dl.free(p, sz, al) };
                live -= sz;
                what = String::new();
            }
            b'r' => {
                let Some((p, sz, al)) = map.remove(&a) else { continue };
                let q = unsafe { dl.realloc(p, sz, al, bsz) };
                assert!(!q.is_null());
                map.insert(b, (q, bsz, al));
                live = live - sz + bsz;
                what = format!("realloc {:.1} -> {:.1} MB{}", mb(asz), mb(bsz), if q == p { " in place" } else { " moved" });
            }
            b'p' => {
                println!("-- mark {asz}: memory {:.1} MB, live {:.1} MB, holes {:.1} MB", mb(before), mb(live), mb(before) - mb(live));
                continue;
            }
            _ => panic!("bad op"),
        }
        let after = TOP.load(Ordering::Relaxed);
        if after > before {
            if after - before >= min_report {
                println!("#{n}: {what}: memory {:.1} -> {:.1} MB (live {:.1})", mb(before), mb(after), mb(live));
            } else {
                grown_by_big += after - before;
            }
        } else if bsz >= (16 << 20) || asz >= (16 << 20) {
            println!("#{n}: {what} (no growth; memory {:.1}, live {:.1})", mb(after), mb(live));
        }
    }
    println!("end: memory {:.1} MB, live {:.1} MB; small growths {:.1} MB; {} events", mb(TOP.load(Ordering::Relaxed)), mb(live), mb(grown_by_big), n);
}
