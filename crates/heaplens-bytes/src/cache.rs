//! A bounded LRU cache of fixed-size pages over a slow source.

use crate::{ReadAt, ReadError};
use std::collections::HashMap;
use std::sync::Mutex;

/// Counters of a [`PageCache`], for benchmarks and progress displays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheStats {
    /// Page look-ups answered from the cache.
    pub hits: u64,
    /// Page look-ups that read from the source.
    pub misses: u64,
    /// Bytes read from the underlying source (pages and bypassing reads).
    pub bytes_from_source: u64,
}

struct Page {
    index: u64,
    data: Box<[u8]>,
    last_used: u64,
}

struct State {
    pages: Vec<Page>,
    by_index: HashMap<u64, usize>,
    clock: u64,
    stats: CacheStats,
}

/// Wraps a source in an LRU cache of at most `capacity` pages of `page_size`
/// bytes each, so memory stays bounded whatever the source's size.
///
/// Reads of at least [`PageCache::BYPASS_PAGES`] pages go straight to the
/// source, so one big read does not flush the cache.
pub struct PageCache<R> {
    inner: R,
    page_size: usize,
    capacity: usize,
    state: Mutex<State>,
}

impl<R: ReadAt> PageCache<R> {
    /// Page size used by [`PageCache::new`]: 64 KiB.
    pub const DEFAULT_PAGE_SIZE: usize = 64 * 1024;
    /// Number of pages kept by [`PageCache::new`]: 256 (16 MiB).
    pub const DEFAULT_CAPACITY: usize = 256;
    /// Reads this many pages long or longer bypass the cache.
    pub const BYPASS_PAGES: usize = 4;

    /// A cache with the default page size and capacity.
    pub fn new(inner: R) -> Self {
        Self::with_capacity(inner, Self::DEFAULT_PAGE_SIZE, Self::DEFAULT_CAPACITY)
    }

    /// A cache of `capacity` pages of `page_size` bytes (both at least 1;
    /// `page_size` is rounded up to a power of two).
    pub fn with_capacity(inner: R, page_size: usize, capacity: usize) -> Self {
        PageCache {
            inner,
            page_size: page_size.max(1).next_power_of_two(),
            capacity: capacity.max(1),
            state: Mutex::new(State {
                pages: Vec::new(),
                by_index: HashMap::new(),
                clock: 0,
                stats: CacheStats::default(),
            }),
        }
    }

    /// The most memory the cache's pages can take, in bytes.
    pub fn max_bytes(&self) -> usize {
        self.page_size * self.capacity
    }

    /// Counters so far.
    pub fn stats(&self) -> CacheStats {
        self.lock().stats
    }

    /// The wrapped source.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Copies from page `index` at `within` into `out`, loading the page on a miss.
    fn copy_from_page(
        &self,
        state: &mut State,
        index: u64,
        within: usize,
        out: &mut [u8],
    ) -> Result<(), ReadError> {
        state.clock += 1;
        let clock = state.clock;
        if let Some(&slot) = state.by_index.get(&index) {
            state.stats.hits += 1;
            let page = &mut state.pages[slot];
            page.last_used = clock;
            out.copy_from_slice(&page.data[within..within + out.len()]);
            return Ok(());
        }
        state.stats.misses += 1;
        let start = index * self.page_size as u64;
        let len = (self.inner.len() - start).min(self.page_size as u64) as usize;
        let slot = if state.pages.len() < self.capacity {
            state.pages.push(Page {
                index,
                data: vec![0u8; self.page_size].into_boxed_slice(),
                last_used: clock,
            });
            state.pages.len() - 1
        } else {
            let (slot, _) = state
                .pages
                .iter()
                .enumerate()
                .min_by_key(|(_, p)| p.last_used)
                .expect("capacity is at least one page");
            let old = state.pages[slot].index;
            state.by_index.remove(&old);
            slot
        };
        let page = &mut state.pages[slot];
        page.index = index;
        page.last_used = clock;
        // On failure the slot stays unmapped: its contents are not valid.
        self.inner.read_at(start, &mut page.data[..len])?;
        state.stats.bytes_from_source += len as u64;
        state.by_index.insert(index, slot);
        out.copy_from_slice(&state.pages[slot].data[within..within + out.len()]);
        Ok(())
    }
}

impl<R: ReadAt> ReadAt for PageCache<R> {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        ReadError::check_bounds(offset, buf.len(), self.inner.len())?;
        if buf.len() >= Self::BYPASS_PAGES * self.page_size {
            self.inner.read_at(offset, buf)?;
            self.lock().stats.bytes_from_source += buf.len() as u64;
            return Ok(());
        }
        let mut state = self.lock();
        let page_size = self.page_size as u64;
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset + done as u64;
            let index = pos / page_size;
            let within = (pos % page_size) as usize;
            let n = (self.page_size - within).min(buf.len() - done);
            self.copy_from_page(&mut state, index, within, &mut buf[done..done + n])?;
            done += n;
        }
        Ok(())
    }
}

impl<R> std::fmt::Debug for PageCache<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageCache")
            .field("page_size", &self.page_size)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn reads_match_the_source_across_pages() {
        let src = data(10_000);
        let cache = PageCache::with_capacity(&src, 64, 4);
        for (off, len) in [
            (0, 1),
            (60, 10),
            (63, 130),
            (9_990, 10),
            (5_000, 255),
            (1, 0),
        ] {
            let mut buf = vec![0u8; len];
            cache.read_at(off as u64, &mut buf).unwrap();
            assert_eq!(&buf[..], &src[off..off + len], "offset {off} len {len}");
        }
        let mut buf = [0u8; 2];
        assert!(cache.read_at(9_999, &mut buf).is_err());
    }

    #[test]
    fn stays_bounded_and_counts_hits() {
        let src = data(1 << 16);
        let cache = PageCache::with_capacity(&src, 256, 8);
        let mut buf = [0u8; 16];
        for round in 0..3 {
            for off in (0..src.len() - 16).step_by(100) {
                cache.read_at(off as u64, &mut buf).unwrap();
                assert_eq!(&buf[..], &src[off..off + 16], "round {round}");
            }
        }
        assert!(cache.lock().pages.len() <= 8);
        let stats = cache.stats();
        assert!(stats.hits > stats.misses);
        // A sequential scan touches each page once per round.
        assert_eq!(stats.misses, 3 * 256);
        // Re-reading the hot page is a hit.
        let before = cache.stats().misses;
        cache.read_at(src.len() as u64 - 20, &mut buf).unwrap();
        assert_eq!(cache.stats().misses, before);
    }

    #[test]
    fn big_reads_bypass_the_cache() {
        let src = data(4096);
        let cache = PageCache::with_capacity(&src, 64, 2);
        let mut buf = vec![0u8; 1024];
        cache.read_at(100, &mut buf).unwrap();
        assert_eq!(&buf[..], &src[100..1124]);
        assert_eq!(cache.stats().misses, 0);
        assert_eq!(cache.stats().bytes_from_source, 1024);
    }
}
