//! Fork safety: every relink entry point works in a child process, whatever the parent's other
//! threads were doing when one of them called `fork()`.
//!
//! A `pthread_atfork` prepare handler takes relink's global locks in one fixed order (the
//! registry with the initialization signal and each object's lazy-binding pins, then the hook
//! tables, the lock around unwinder registrations, the TLS tables, then what library searches
//! remember), so that no other thread is inside relink's state at the moment
//! of the fork. The parent handler releases them; the child handler first makes the state the
//! child's own and then releases them:
//!
//! - opens that other threads had not returned from yet (their objects were committed and
//!   their constructors were running, or they were waiting for another thread's constructors)
//!   give their references back, and what nothing else holds is unloaded, without finalizers
//!   for objects whose constructors did not finish; objects still held are marked initialized,
//!   so nobody in the child waits for a thread that does not exist there;
//! - the TLS blocks of the other threads are freed; the forking thread's stay, as does its
//!   `rl_error()` text (a Rust thread-local, copied with the thread).
//!
//! The thread that forks may itself be inside an open (a lookup hook or an IFUNC resolver that
//! forks): then it holds the registry already, and the child goes on with that open and releases
//! it as the parent does.
//!
//! Constructors and destructors run with no relink lock held, so a constructor that forks finds
//! every lock free. The prepare handler does wait, first of all, until no other thread is
//! running a constructor or destructor of a relink-loaded object, and none starts until the fork
//! is done: the child never sees one cut in half, with the C library's locks it takes (the
//! `atexit` list's, by `__cxa_finalize` and `__cxa_atexit`) held by a thread it does not have.
//! (So a constructor must not wait for a thread that forks.)

use crate::sync::MutexGuard;
use std::cell::RefCell;

/// The locks the forking thread holds between the prepare handler and the parent or child
/// handler. Fields are released in declaration order: the reverse of the order they are taken.
struct Held {
    search: crate::sync::MutexGuard<'static, crate::search::Remembered>,
    tls: crate::tls::ForkHold,
    unwind: MutexGuard<'static, crate::unwind::Objects>,
    hooks: crate::hooks::ForkHold,
    registry: Option<crate::registry::ForkHold>,
    running: MutexGuard<'static, usize>,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

/// Register the handlers (once per process).
pub fn install() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| crate::os::at_fork(prepare, parent, child));
}

extern "C" fn prepare() {
    let running = crate::init::quiesce();
    let registry = crate::registry::fork_prepare();
    let hooks = crate::hooks::fork_prepare();
    let unwind = crate::unwind::fork_prepare();
    let tls = crate::tls::fork_prepare();
    let search = crate::search::fork_prepare();
    HELD.with(|h| *h.borrow_mut() = Some(Held { search, tls, unwind, hooks, registry, running }));
}

extern "C" fn parent() {
    drop(HELD.with(|h| h.borrow_mut().take()));
}

extern "C" fn child() {
    let Some(held) = HELD.with(|h| h.borrow_mut().take()) else { return };
    let Held { search, tls, unwind, hooks, registry, running } = held;
    drop(search);
    crate::tls::fork_child(tls);
    drop(unwind);
    drop(hooks);
    // No other thread was running constructors (see `init::quiesce`): the count is right as it is.
    drop(running);
    // Last: unloading what the child does not need runs finalizers, which may call relink.
    if let Some(r) = registry {
        crate::registry::fork_child(r);
    }
}
