//! Shared helpers of the corpus tests: parsers of the golden files.

pub mod golden;
