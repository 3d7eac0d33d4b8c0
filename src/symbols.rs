//! Dynamic symbol tables: GNU hash (with its Bloom filter), SysV hash, and symbol versions,
//! the core's (`relink_core::symbols`).
//!
//! One [`SymTab`] serves both the host's objects (read where the system loader mapped them) and
//! the objects relink maps itself. A [`Query`] carries a name with its hashes computed once, so
//! that walking a scope of many objects hashes the name a single time.

pub use relink_core::symbols::{Query, SymTab, Version};
