//! PerfView's simplified pattern syntax, translated to regular expressions.
//!
//! A pattern is literal text except for: `%` (any run of `.`, word
//! characters, digits and `?`), `*` (anything), `^` (anchor), `|` (or) and
//! `{…}` (a capture group). A leading `@` means the rest is a regular
//! expression as it is. Matching is case-insensitive and unanchored
//! (PerfView's `FilterStackSource.ToDotNetRegEx`).

use regex::Regex;

/// A pattern that does not translate to a valid regular expression.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PatternError {
    /// The translated regular expression does not compile.
    #[error("pattern {pattern:?} is not valid: {message}")]
    Invalid {
        /// The pattern as given.
        pattern: String,
        /// Why the regular expression was refused.
        message: String,
    },
    /// A priority entry is not of the form `Pattern->Number`.
    #[error("priority {0:?} is not of the form Pattern->Number")]
    BadPriority(String),
}

/// The regular expression (without the case-insensitivity flag) that a
/// PerfView pattern stands for.
pub fn to_regex_source(pattern: &str) -> String {
    if let Some(raw) = pattern.strip_prefix('@') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut buf = [0u8; 4];
    for c in pattern.chars() {
        match c {
            '%' => out.push_str(r"[.\w\d?]*"),
            '*' => out.push_str(".*"),
            '^' => out.push('^'),
            '|' => out.push('|'),
            '{' => out.push('('),
            '}' => out.push(')'),
            _ => out.push_str(&regex::escape(c.encode_utf8(&mut buf))),
        }
    }
    out
}

/// Compiles a PerfView pattern, case-insensitive.
pub fn compile(pattern: &str) -> Result<Regex, PatternError> {
    Regex::new(&format!("(?i){}", to_regex_source(pattern))).map_err(|e| PatternError::Invalid {
        pattern: pattern.to_owned(),
        message: e.to_string(),
    })
}

/// Compiles a `;`-separated list of patterns (empty entries are skipped),
/// keeping each pattern's position in the list.
pub fn compile_list(patterns: &str) -> Result<Vec<Regex>, PatternError> {
    patterns
        .trim()
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(compile)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_like_perfview() {
        assert_eq!(to_regex_source("System%!"), r"System[.\w\d?]*!");
        assert_eq!(to_regex_source("[*local vars]"), r"\[.*local vars\]");
        assert_eq!(to_regex_source("{%}!=>x"), r"([.\w\d?]*)!=>x");
        assert_eq!(to_regex_source("^a|b."), r"^a|b\.");
        assert_eq!(to_regex_source("@a.b"), "a.b");
        let re = compile("[]").unwrap();
        assert!(re.is_match("System.Private.CoreLib!Byte[]"));
        assert!(!re.is_match("System.Private.CoreLib!Byte"));
        let re = compile("System%!").unwrap();
        assert!(re.is_match(r"C:\dotnet\SYSTEM.Private.CoreLib!String"));
        assert!(!re.is_match("MauiApp3!App"));
        assert!(compile("{").is_err());
        assert_eq!(compile_list(" a; ;b ").unwrap().len(), 2);
    }
}
