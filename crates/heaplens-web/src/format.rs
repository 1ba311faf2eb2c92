//! Number, size, time and date formatting for the UI.

use heaplens_snapshot::civil_from_days;

pub use heaplens_analysis::format::thousands;

/// A signed integer with thousands separators and an explicit sign
/// (`+1,024`, `−12`, `0`).
pub fn signed_thousands(n: i64) -> String {
    match n.cmp(&0) {
        std::cmp::Ordering::Greater => format!("+{}", thousands(n as u64)),
        std::cmp::Ordering::Less => format!("\u{2212}{}", thousands(n.unsigned_abs())),
        std::cmp::Ordering::Equal => "0".to_owned(),
    }
}

/// A byte count for people in decimal units, as the CLI writes sizes
/// (`heaplens info`, the partial-dump summary: `5.5 MB` is 5,500,000
/// bytes): `512 B`, `1.50 kB`, `23.4 MB`, `4.29 GB`. Powers of 1000, so
/// the labels are the SI ones (kB, MB, GB, TB), never KB for 1024.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    // 999,999 bytes is 1.00 MB, not "1000 kB".
    if v >= 999.5 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if v >= 99.95 {
        format!("{v:.0} {}", UNITS[u])
    } else if v >= 9.995 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.2} {}", UNITS[u])
    }
}

/// A signed byte count for people (`+1.50 MB`, `−512 B`).
pub fn signed_bytes(n: i64) -> String {
    match n.cmp(&0) {
        std::cmp::Ordering::Greater => format!("+{}", bytes(n as u64)),
        std::cmp::Ordering::Less => format!("\u{2212}{}", bytes(n.unsigned_abs())),
        std::cmp::Ordering::Equal => "0 B".to_owned(),
    }
}

/// A share in percent with two decimals: `12.34 %`.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0.00 %".to_owned();
    }
    format!("{:.2} %", part as f64 * 100.0 / whole as f64)
}

/// A duration for people: `850 ms`, `12 s`, `3 min 05 s`.
pub fn duration_ms(ms: f64) -> String {
    if !ms.is_finite() || ms < 0.0 {
        return "—".to_owned();
    }
    if ms < 1000.0 {
        return format!("{ms:.0} ms");
    }
    let s = (ms / 1000.0).round() as u64;
    if s < 60 {
        format!("{s} s")
    } else if s < 3600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3600, (s % 3600) / 60)
    }
}

/// `s` split before its last `tail` characters (all of it in the tail
/// when shorter), for a name the page cuts in the middle by its width:
/// the head is ellipsized in CSS, the tail (`…1903.dmp`) always shows.
pub fn split_tail(s: &str, tail: usize) -> (&str, &str) {
    let n = s.chars().count();
    let at = s
        .char_indices()
        .nth(n.saturating_sub(tail))
        .map_or(s.len(), |(i, _)| i);
    s.split_at(if n <= tail { 0 } else { at })
}

/// `s` cut to at most `max` characters in the middle, so what tells names
/// of one pattern apart (`…150515_31024.gcdump`) stays:
/// `monogcdumprepr…150515_31024.gcdump`.
pub fn middle_ellipsis(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max || max < 5 {
        return s.to_owned();
    }
    let tail = (max - 1) * 3 / 5;
    let head = max - 1 - tail;
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// Unix seconds (UTC) to `YYYY-MM-DD hh:mm:ss UTC`.
pub fn unix_seconds(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(3_339_490), "3,339,490");
        assert_eq!(signed_thousands(-1234), "\u{2212}1,234");
        assert_eq!(signed_thousands(5), "+5");
        // Decimal units, each written out by hand.
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1000), "1.00 kB");
        assert_eq!(bytes(1536), "1.54 kB");
        assert_eq!(bytes(947_820), "948 kB");
        assert_eq!(bytes(999_999), "1.00 MB");
        assert_eq!(bytes(9_996), "10.0 kB");
        assert_eq!(bytes(149_000_000), "149 MB");
        assert_eq!(bytes(5_500_000), "5.50 MB");
        assert_eq!(bytes(4 << 30), "4.29 GB");
        assert_eq!(signed_bytes(-2048), "\u{2212}2.05 kB");
        assert_eq!(percent(1, 3), "33.33 %");
        assert_eq!(percent(1, 0), "0.00 %");
    }

    #[test]
    fn names_are_cut_in_the_middle() {
        let n = "monogcdumprepro-20231108_150515_31024.gcdump";
        let cut = middle_ellipsis(n, 30);
        assert_eq!(cut.chars().count(), 30);
        assert_eq!(cut, "monogcdumpre…0515_31024.gcdump");
        assert_eq!(middle_ellipsis("short.core", 30), "short.core");
    }

    #[test]
    fn names_split_before_their_tail() {
        assert_eq!(
            split_tail("w3wp-20261206-190312.dmp", 10),
            ("w3wp-20261206-", "190312.dmp")
        );
        assert_eq!(split_tail("short", 10), ("", "short"));
        assert_eq!(split_tail("ünïcödé-ñame", 4), ("ünïcödé-", "ñame"));
        assert_eq!(split_tail("", 4), ("", ""));
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms(850.0), "850 ms");
        assert_eq!(duration_ms(12_400.0), "12 s");
        assert_eq!(duration_ms(185_000.0), "3 min 05 s");
        assert_eq!(duration_ms(f64::NAN), "—");
    }

    #[test]
    fn dates() {
        let unix = 1_699_455_915i64;
        assert_eq!(unix_seconds(unix), "2023-11-08 15:05:15 UTC");
        assert_eq!(unix_seconds(0), "1970-01-01 00:00:00 UTC");
    }
}
