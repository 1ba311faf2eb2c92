//! Read-ahead for sequential reads over a source whose calls are costly
//! (the browser's File API: a `Blob.slice` and a read per call, at 2–3×
//! the rate with 16 MiB slices than with 1 MiB ones).

use crate::{ReadAt, ReadError};
use std::sync::Mutex;

struct State {
    /// Bytes of the source from `at`, read ahead.
    buf: Vec<u8>,
    at: u64,
    /// Where the last read from the source ended.
    last_end: u64,
    /// Bytes the next read ahead of this run reads.
    next: usize,
    /// Reads of the source, and bytes read from it.
    reads: u64,
    bytes: u64,
}

/// Wraps a source so that a read which continues the previous one (it
/// starts where that ended, or where the bytes read ahead end) reads
/// ahead and answers the following reads from those bytes: 4 times the
/// read at the start of a run, twice as much each time the run goes on,
/// up to `ahead` bytes (so a short run reads little past its end). Other
/// reads go to the source as they are, and leave the bytes read ahead in
/// place (random reads between sequential ones do not break the run).
/// Memory: one buffer of `ahead` bytes (or the source's length, if
/// smaller), taken whole at the first read ahead.
///
/// Beneath a [`crate::PageCache`] of small pages it turns the cache's
/// sequential misses into few large reads, while random misses still read
/// one small page.
pub struct ReadAhead<R> {
    inner: R,
    ahead: usize,
    state: Mutex<State>,
}

impl<R: ReadAt> ReadAhead<R> {
    /// `inner`, read ahead `ahead` bytes at a time (at least 1).
    pub fn new(inner: R, ahead: usize) -> Self {
        ReadAhead {
            inner,
            ahead: ahead.max(1),
            state: Mutex::new(State {
                buf: Vec::new(),
                at: 0,
                last_end: u64::MAX,
                next: 0,
                reads: 0,
                bytes: 0,
            }),
        }
    }

    /// The source.
    pub fn inner(&self) -> &R {
        &self.inner
    }

    /// Reads of the source so far, and the bytes they read.
    pub fn source_reads(&self) -> (u64, u64) {
        let s = self.lock();
        (s.reads, s.bytes)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves only bytes and counters.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<R: ReadAt> ReadAt for ReadAhead<R> {
    fn len(&self) -> u64 {
        self.inner.len()
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
        let len = self.inner.len();
        ReadError::check_bounds(offset, buf.len(), len)?;
        if buf.is_empty() {
            return Ok(());
        }
        let end = offset + buf.len() as u64;
        let mut s = self.lock();
        let ahead_end = s.at + s.buf.len() as u64;
        if offset >= s.at && end <= ahead_end {
            let o = (offset - s.at) as usize;
            buf.copy_from_slice(&s.buf[o..o + buf.len()]);
            return Ok(());
        }
        let continues = offset == ahead_end && !s.buf.is_empty();
        let sequential = continues || offset == s.last_end;
        s.reads += 1;
        if sequential && buf.len() < self.ahead {
            s.next = if continues {
                s.next.saturating_mul(2)
            } else {
                buf.len().saturating_mul(4)
            }
            .clamp(buf.len(), self.ahead);
            let n = (len - offset).min(s.next as u64) as usize;
            let state = &mut *s;
            if state.buf.capacity() < n {
                // The buffer's whole room at once (never more than the
                // source holds): growing it run by run would leave the
                // smaller buffers behind as holes in a memory that never
                // shrinks (wasm's).
                let room = (len.min(self.ahead as u64) as usize).max(n);
                state.buf.clear();
                state.buf.reserve_exact(room);
            }
            state.buf.resize(n, 0);
            if let Err(e) = self.inner.read_at(offset, &mut state.buf) {
                state.buf.clear();
                return Err(e);
            }
            state.at = offset;
            state.bytes += n as u64;
            state.last_end = offset + n as u64;
            buf.copy_from_slice(&state.buf[..buf.len()]);
        } else {
            self.inner.read_at(offset, buf)?;
            s.bytes += buf.len() as u64;
            s.last_end = end;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A source that records its reads.
    struct Recorded {
        data: Vec<u8>,
        reads: RefCell<Vec<(u64, usize)>>,
    }

    impl ReadAt for Recorded {
        fn len(&self) -> u64 {
            self.data.len() as u64
        }
        fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), ReadError> {
            self.reads.borrow_mut().push((offset, buf.len()));
            self.data.read_at(offset, buf)
        }
    }

    fn source(n: usize) -> Recorded {
        Recorded {
            data: (0..n).map(|i| (i * 7 % 251) as u8).collect(),
            reads: RefCell::new(Vec::new()),
        }
    }

    /// Every read returns the source's bytes, whatever the order; a
    /// sequential run of 100-byte reads becomes reads of 400, 800, then
    /// 1,000 bytes, a random read between them reads only itself and does
    /// not end the run, and the last read ahead stops at the end.
    #[test]
    fn sequential_reads_are_read_ahead_and_random_ones_are_not() {
        let src = source(10_500);
        let r = ReadAhead::new(&src, 1_000);
        let mut buf = [0u8; 100];
        let check = |offset: u64, buf: &mut [u8]| {
            r.read_at(offset, buf).unwrap();
            let o = offset as usize;
            assert_eq!(buf, &src.data[o..o + buf.len()], "at {offset}");
        };
        // The first read cannot know it starts a run.
        check(0, &mut buf);
        // The second continues it: 400 bytes read at 100.
        check(100, &mut buf);
        check(200, &mut buf);
        // A random read elsewhere, then the run goes on.
        check(7_000, &mut buf[..10]);
        for k in 3..30 {
            check(k * 100, &mut buf);
        }
        // Up to the end: the last read ahead is shorter.
        for k in 30..105 {
            check(k * 100, &mut buf);
        }
        let reads = src.reads.borrow().clone();
        let mut want = vec![(0, 100), (100, 400), (7_000, 10), (500, 800)];
        want.extend((0..8).map(|k| (1_300 + k * 1_000, 1_000)));
        want.push((9_300, 1_000));
        want.push((10_300, 200));
        assert_eq!(reads, want);
        // The buffer took its whole room once, not a larger one per
        // doubling of the run.
        assert_eq!(r.lock().buf.capacity(), 1_000);
        // A read past the end fails as the source would.
        assert!(r.read_at(10_450, &mut buf).is_err());
        // A read as large as the read-ahead goes to the source as it is.
        let mut big = vec![0u8; 1_000];
        check(2_000, &mut big[..]);
        assert_eq!(src.reads.borrow().last(), Some(&(2_000, 1_000)));
        assert_eq!(r.source_reads().0, src.reads.borrow().len() as u64);
    }
}
