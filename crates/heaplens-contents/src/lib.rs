//! Object contents behind a seam.
//!
//! The heap graph keeps each object's type, size, address and references;
//! what an object *holds* — its fields' values, a string's text, the
//! method a delegate calls — stays in the dump and is read on demand
//! through an [`ObjectReader`]. An input that keeps its objects' bytes (a
//! core or a minidump: `Capabilities::object_contents`) gives one; a
//! `.gcdump` never does, since it records no values. Analyses that need
//! values take a reader explicitly.
//!
//! The reader (implemented by the CLR reader over the dump's page cache)
//! gives type layouts ([`layout::TypeLayout`]: fields by name, declared
//! type and offset, base classes included, value-type fields inline,
//! array element types), memory reads, the method behind a code pointer
//! and static fields. On top of it, for any reader:
//!
//! * [`inspect`]: an object's fields and their values
//!   ([`value::Value`]: numbers, booleans, enums by name, `DateTime`,
//!   `TimeSpan`, `Guid`, `decimal`, `Nullable<T>`, strings, references),
//!   a string's text, an array's elements, a boxed value;
//! * [`delegates`]: a delegate's target and method, a multicast
//!   delegate's invocation list;
//! * [`collections`]: how full a `List`, `Dictionary`, `HashSet`,
//!   `ConcurrentDictionary`, `Queue`, `Stack` or array is.
//!
//! Everything is bounded: reads are capped per call
//! ([`inspect::MAX_FIELD_BYTES`], [`inspect::MAX_STRING_CHARS`]), counts
//! and lengths read from the dump are clamped to the object's size, and
//! nothing panics on damaged bytes.

pub mod bytes;
pub mod collections;
pub mod delegates;
pub mod inspect;
pub mod layout;
pub mod reader;
pub mod value;

pub use reader::{node_at_sorted, ContentsError, MethodName, ObjectReader, StaticField};

#[cfg(test)]
mod tests;
