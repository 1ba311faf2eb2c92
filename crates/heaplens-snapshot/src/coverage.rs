//! How much of what an input describes it holds: a dump cut short (a
//! half-downloaded file), or one whose writer left part of the heap out,
//! gives a partial result, and [`Coverage`] says which part, in numbers.

/// One segment or region of the GC heap: the range its objects span and
/// how many of those bytes the input holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentCoverage {
    /// The first object.
    pub start: u64,
    /// One past the end of the objects (what the GC has allocated there).
    pub end: u64,
    /// Bytes of `[start, end)` the input holds.
    pub captured: u64,
}

/// How much of the heap, its roots and the file the input holds.
///
/// The result of an input is **complete** ([`Coverage::is_complete`]) when
/// every byte the GC has allocated in its segments or regions is in the
/// input and was walked, and the roots' memory (thread stacks, handle
/// tables, finalization queues) is there too. Otherwise objects are
/// missing or taken for garbage, and the result is partial:
/// [`Coverage::summary`] says which part is missing.
///
/// Inputs that list objects rather than memory (a `.gcdump`) have no
/// segments here and are complete when they could be read at all (a
/// `.gcdump` cut short cannot be read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Coverage {
    /// The input file's length in bytes.
    pub file_bytes: u64,
    /// Where the data the file's own directory describes ends (ELF program
    /// headers, a minidump's directory and memory lists): more than
    /// [`Coverage::file_bytes`] for a file cut short; equal otherwise.
    pub described_bytes: u64,
    /// Bytes of memory the directory says the file holds that lie past its
    /// end.
    pub missing_bytes: u64,
    /// The GC heap's segments or regions, by address (empty for inputs
    /// without the heap's memory, such as a `.gcdump`).
    pub segments: Vec<SegmentCoverage>,
    /// Bytes of segments the input holds but the heap walk could not go
    /// through (it stopped at damaged data): their objects are missing.
    pub heap_bytes_not_walked: u64,
    /// Bytes of thread stacks the input lacks: roots there are not seen.
    pub stack_bytes_missing: u64,
    /// Handle-table segments and finalization queues whose bookkeeping
    /// the input lacks: their roots are not seen.
    pub root_tables_missing: u64,
}

impl Coverage {
    /// A complete input of `file_bytes` bytes without heap memory (a
    /// `.gcdump`).
    pub fn whole_file(file_bytes: u64) -> Coverage {
        Coverage {
            file_bytes,
            described_bytes: file_bytes,
            ..Coverage::default()
        }
    }

    /// Bytes the GC has allocated in its segments or regions.
    pub fn heap_bytes(&self) -> u64 {
        self.segments.iter().map(|s| s.end - s.start).sum()
    }

    /// Bytes of them the input holds.
    pub fn heap_bytes_captured(&self) -> u64 {
        self.segments.iter().map(|s| s.captured).sum()
    }

    /// Bytes of the heap the input lacks.
    pub fn heap_bytes_missing(&self) -> u64 {
        self.heap_bytes() - self.heap_bytes_captured()
    }

    /// Segments or regions the input holds only in part (or not at all).
    pub fn partial_segments(&self) -> usize {
        self.segments
            .iter()
            .filter(|s| s.captured < s.end - s.start)
            .count()
    }

    /// The share of the heap's bytes the input holds, in percent (100 for
    /// an input without heap memory).
    pub fn heap_percent(&self) -> f64 {
        match self.heap_bytes() {
            0 => 100.0,
            total => self.heap_bytes_captured() as f64 * 100.0 / total as f64,
        }
    }

    /// True when the file is shorter than its directory says.
    pub fn file_truncated(&self) -> bool {
        self.described_bytes > self.file_bytes || self.missing_bytes > 0
    }

    /// True when the result is whole: the heap all there and walked, and
    /// the roots' memory there (see [`Coverage`]).
    pub fn is_complete(&self) -> bool {
        self.heap_bytes_missing() == 0
            && self.heap_bytes_not_walked == 0
            && self.stack_bytes_missing == 0
            && self.root_tables_missing == 0
    }

    /// In words, for a header or a banner: `None` for a complete input of
    /// a whole file; otherwise what is missing, e.g. `heap: 46.0 % of 5.5
    /// MB captured (2 of 5 regions in part); the file ends at 60.0 MB of
    /// the 129.4 MB its directory describes`.
    pub fn summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.heap_bytes_missing() > 0 {
            parts.push(format!(
                "heap: {:.1} % of {} captured ({} of {} segments or regions in part)",
                floor_one_decimal(self.heap_percent()),
                megabytes(self.heap_bytes()),
                self.partial_segments(),
                self.segments.len()
            ));
        }
        if self.heap_bytes_not_walked > 0 {
            parts.push(format!(
                "{} of the heap could not be walked",
                megabytes(self.heap_bytes_not_walked)
            ));
        }
        if self.stack_bytes_missing > 0 {
            parts.push(format!(
                "{} of thread stacks missing (roots there are not seen)",
                megabytes(self.stack_bytes_missing)
            ));
        }
        if self.root_tables_missing > 0 {
            parts.push(format!(
                "{} handle-table segment(s) or finalization queue(s) missing (their roots are \
                 not seen)",
                self.root_tables_missing
            ));
        }
        if self.file_truncated() {
            let described = self
                .described_bytes
                .max(self.file_bytes + self.missing_bytes);
            let (mut at, mut of) = (megabytes(self.file_bytes), megabytes(described));
            if at == of {
                // Too close for megabytes to tell apart.
                (at, of) = (bytes(self.file_bytes), bytes(described));
            }
            parts.push(format!(
                "the file ends at {at} of the {of} its directory describes"
            ));
        }
        if parts.is_empty() {
            return None;
        }
        if self.is_complete() {
            parts.push("the GC heap and its roots are all in the part it holds".to_owned());
        }
        Some(parts.join("; "))
    }
}

/// A percentage rounded down to one decimal, so that a heap missing a
/// single byte never shows as 100.0 %.
fn floor_one_decimal(p: f64) -> f64 {
    (p * 10.0).floor() / 10.0
}

/// Bytes with thousands separators: `27,308,032 bytes`.
fn bytes(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out + " bytes"
}

/// Bytes in megabytes (10⁶) with one decimal: `5.5 MB`; small amounts in
/// bytes.
pub fn megabytes(bytes: u64) -> String {
    if bytes < 100_000 {
        format!("{bytes} bytes")
    } else {
        format!("{:.1} MB", bytes as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heap_missing_bytes_is_partial_and_says_which_part() {
        let mut c = Coverage {
            file_bytes: 60_000_000,
            described_bytes: 129_388_544,
            missing_bytes: 69_388_544,
            segments: vec![
                SegmentCoverage {
                    start: 0x1000,
                    end: 0x1000 + 3_000_000,
                    captured: 3_000_000,
                },
                SegmentCoverage {
                    start: 0x1000_0000,
                    end: 0x1000_0000 + 2_500_000,
                    captured: 0,
                },
            ],
            ..Coverage::default()
        };
        assert!(!c.is_complete());
        assert_eq!(c.heap_bytes(), 5_500_000);
        assert_eq!(c.heap_bytes_missing(), 2_500_000);
        assert_eq!(
            c.summary().unwrap(),
            "heap: 54.5 % of 5.5 MB captured (1 of 2 segments or regions in part); the file \
             ends at 60.0 MB of the 129.4 MB its directory describes"
        );
        // One byte missing is not 100 %.
        c.segments[1].captured = 2_499_999;
        assert!(c.summary().unwrap().starts_with("heap: 99.9 %"));
        // The heap whole, the file cut short past it: complete, and said.
        c.segments[1].captured = 2_500_000;
        c.file_bytes = 129_388_543;
        c.missing_bytes = 1;
        let summary = c.summary().unwrap();
        assert!(
            summary.contains("ends at 129,388,543 bytes of the 129,388,544 bytes"),
            "{summary}"
        );
        assert!(c.is_complete());
        assert!(c.summary().unwrap().ends_with("all in the part it holds"));
        assert_eq!(Coverage::whole_file(10).summary(), None);
        assert!(Coverage::whole_file(10).is_complete());
    }
}
