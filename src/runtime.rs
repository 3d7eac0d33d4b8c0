//! Runtime functions relink binds in the objects it relocates, in place of the C library's,
//! because the system loader cannot do their job for objects it does not know:
//!
//! - `__tls_get_addr`: serves relink's TLS module ids (see `tls.rs`).
//! - `__cxa_thread_atexit_impl` / `__cxa_thread_atexit`: a C++ `thread_local` destructor
//!   registered by a relink-loaded object keeps that object (and so its dependencies) loaded
//!   until it has run, even if the library is closed first: its finalizers run, and it is
//!   unmapped, only then (glibc treats pending destructors the same way).

use crate::module::Module;
use std::ffi::{c_int, c_void};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};

type Dtor = unsafe extern "C" fn(*mut c_void);

extern "C" {
    /// glibc's.
    #[link_name = "__cxa_thread_atexit_impl"]
    fn glibc_thread_atexit(dtor: Dtor, obj: *mut c_void, dso: *mut c_void) -> c_int;
}

/// The address of relink's replacement for `name`, if it has one.
pub fn interposed(name: &[u8]) -> Option<usize> {
    match name {
        // The arch file's entry point where the machine has one, else the Rust function.
        b"__tls_get_addr" => {
            Some(crate::arch::tls_get_addr_entry().unwrap_or(crate::tls::tls_get_addr as *const () as usize))
        }
        b"__cxa_thread_atexit_impl" | b"__cxa_thread_atexit" => Some(thread_atexit as *const () as usize),
        _ => crate::arch::tls_get_addr_alias(name),
    }
}

struct Pending {
    dtor: Dtor,
    obj: *mut c_void,
    /// The object that registered the destructor and its dependencies.
    _pin: Vec<Arc<Module>>,
}

/// A byte of relink's own, handed to glibc as the registering object.
static ANCHOR: u8 = 0;

/// How the registry keeps an object with pending destructors loaded.
pub struct Keeper {
    /// The object containing an address, first, with its dependencies; `None` for an address
    /// outside relink's objects.
    pub pin: fn(usize) -> Option<Vec<Arc<Module>>>,
    /// Unloads what nothing holds any more.
    pub collect: fn(),
}

/// Set once by the registry when it is made, before any object is loaded.
static KEEPER: OnceLock<Keeper> = OnceLock::new();

/// Hands down the registry's side of `__cxa_thread_atexit`.
pub fn set_keeper(k: Keeper) {
    let _ = KEEPER.set(k);
}

extern "C" fn thread_atexit(dtor: Dtor, obj: *mut c_void, dso: *mut c_void) -> c_int {
    let Some(pin) = KEEPER.get().and_then(|k| (k.pin)(dso as usize)) else {
        // SAFETY: forwarding the caller's registration unchanged.
        return unsafe { glibc_thread_atexit(dtor, obj, dso) };
    };
    if let Some(m) = pin.first() {
        m.pending_tls_dtors.fetch_add(1, Ordering::AcqRel);
    }
    let pending = Box::into_raw(Box::new(Pending { dtor, obj, _pin: pin }));
    // SAFETY: `run_pending` takes back the box exactly once, when the thread exits.
    unsafe { glibc_thread_atexit(run_pending, pending as *mut c_void, &ANCHOR as *const u8 as *mut c_void) }
}

unsafe extern "C" fn run_pending(p: *mut c_void) {
    // SAFETY: `p` is the box made by `thread_atexit`, passed back once by glibc.
    let pending = unsafe { Box::from_raw(p as *mut Pending) };
    // SAFETY: the destructor and its object belong to a pinned (still loaded) object.
    unsafe { (pending.dtor)(pending.obj) };
    let last = pending._pin.first().is_some_and(|m| m.pending_tls_dtors.fetch_sub(1, Ordering::AcqRel) == 1);
    // Without the pin the object may be unreachable now: unload it (it is unmapped when the
    // last reference, possibly this one, goes).
    drop(pending);
    if let Some(k) = KEEPER.get().filter(|_| last) {
        (k.collect)();
    }
}
