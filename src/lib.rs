//! relink: a runtime linker for ELF shared libraries, relocatable objects and static archives,
//! with a C ABI and a safe Rust API.
//!
//! The loader is a pipeline, one module per stage:
//! parse → map → resolve → relocate → init → registry → C ABI; relocatable objects and
//! archives are first linked into an image in memory (`link`), which then takes the same path.
//!
//! ```no_run
//! use relink::{Library, NOW};
//! let lib = unsafe { Library::open("libz.so.1", NOW) }.unwrap();
//! let version = unsafe { lib.get::<extern "C" fn() -> *const std::ffi::c_char>("zlibVersion") }.unwrap();
//! let _v = version();
//! // drop(lib) here would not compile while `version` is still used.
//! ```

mod arch;
mod error;
mod os;
mod raw;

mod parse;
mod map;
mod link;
mod module;
mod host;
mod search;
mod symbols;
mod symcache;
mod resolve;
mod relocate;
mod init;
mod hooks;
mod registry;
mod runtime;
mod tls;
mod unwind;
mod sync;
mod fork;
mod debug;

mod api;
pub mod ffi;
pub mod inspect;
#[doc(hidden)]
pub mod interpose;

pub use api::{define, undefine, Input, Library, OpenOptions, Relocation, Symbol, DEEPBIND, GLOBAL, LAZY, NODELETE, NOLOAD, NOW};
pub use error::{Error, Result};
