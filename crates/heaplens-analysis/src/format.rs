//! Number formatting shared by the views (the CLI's tables, the web app).

/// A change with its sign and thousands separators: `+1,234`, `-1,234`,
/// `0`.
pub fn signed_thousands(n: i64) -> String {
    let s = thousands(n.unsigned_abs());
    match n.signum() {
        1 => format!("+{s}"),
        -1 => format!("-{s}"),
        _ => s,
    }
}

/// An integer with thousands separators: `3,339,490`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn groups_of_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(3_339_490), "3,339,490");
        assert_eq!(thousands(u64::MAX), "18,446,744,073,709,551,615");
    }
}
