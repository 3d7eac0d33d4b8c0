//! Stage 5 — init: run an object's DT_INIT and DT_INIT_ARRAY with (argc, argv, envp), and at
//! unload its DT_FINI_ARRAY (in reverse) and DT_FINI.

use crate::module::Module;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

static ARGC: AtomicI32 = AtomicI32::new(0);
static ARGV: AtomicUsize = AtomicUsize::new(0);
static ENVP: AtomicUsize = AtomicUsize::new(0);

pub type InitFn = unsafe extern "C" fn(libc::c_int, *const *const libc::c_char, *const *const libc::c_char);
type FiniFn = unsafe extern "C" fn();

/// Keep the program's arguments for the initializers (relink's start-up, `ffi::start`, has them).
pub fn capture_args(argc: libc::c_int, argv: *const *const libc::c_char, envp: *const *const libc::c_char) {
    ARGC.store(argc, Ordering::Relaxed);
    ARGV.store(argv as usize, Ordering::Relaxed);
    ENVP.store(envp as usize, Ordering::Relaxed);
}

/// How many threads are running constructors or destructors of relink-loaded objects.
static RUNNING: crate::sync::Mutex<usize> = crate::sync::Mutex::new(0);
static RUNNING_DONE: crate::sync::Condvar = crate::sync::Condvar::new();

thread_local! {
    /// Whether this thread is running a constructor or destructor (it may fork from there).
    static RUNNING_HERE: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Held while an object's constructors or destructors run.
pub struct UserCode(());

impl UserCode {
    pub fn enter() -> UserCode {
        let mut n = RUNNING.lock();
        if RUNNING_HERE.get() == 0 {
            *n += 1;
        }
        RUNNING_HERE.set(RUNNING_HERE.get() + 1);
        UserCode(())
    }
}

impl Drop for UserCode {
    fn drop(&mut self) {
        let mut n = RUNNING.lock();
        RUNNING_HERE.set(RUNNING_HERE.get() - 1);
        if RUNNING_HERE.get() == 0 {
            *n -= 1;
            RUNNING_DONE.notify_all();
        }
    }
}

/// Wait until no other thread runs constructors or destructors, and keep new ones from starting.
pub fn quiesce() -> crate::sync::MutexGuard<'static, usize> {
    let mut n = RUNNING.lock();
    let mine = (RUNNING_HERE.get() > 0) as usize;
    while *n > mine {
        RUNNING_DONE.wait(&mut n);
    }
    n
}

fn args() -> (libc::c_int, *const *const libc::c_char, *const *const libc::c_char) {
    static EMPTY: [usize; 1] = [0];
    let argv = ARGV.load(Ordering::Relaxed);
    let envp = ENVP.load(Ordering::Relaxed);
    extern "C" {
        static environ: *const *const libc::c_char;
    }
    let empty = EMPTY.as_ptr() as *const *const libc::c_char;
    // SAFETY: reading the C library's `environ` pointer.
    let env = if envp != 0 { envp as *const _ } else { unsafe { environ } };
    (ARGC.load(Ordering::Relaxed), if argv != 0 { argv as *const _ } else { empty }, env)
}

fn array(m: &Module, arr: Option<(usize, usize)>) -> &'static [usize] {
    arr.and_then(|(a, n)| m.span.slice::<usize>(a, n)).unwrap_or(&[])
}

/// Whether an init/fini array entry is a function to call (0 and -1 are placeholders).
fn callable(f: usize) -> bool {
    f != 0 && f != usize::MAX
}

/// Check, once the object is relocated, that its initializers and finalizers are its own code
/// and its unwind tables sound, so that a malformed image is refused rather than jumping
/// anywhere (now, or in the unwinder later).
pub fn check(m: &Module) -> crate::error::Result<()> {
    let single = [m.dynamic.init, m.dynamic.fini].into_iter().flatten();
    let (inits, finis) = (array(m, m.dynamic.init_array), array(m, m.dynamic.fini_array));
    let declared = |a: Option<(usize, usize)>| a.is_some_and(|(_, n)| n > 0);
    if (declared(m.dynamic.init_array) && inits.is_empty()) || (declared(m.dynamic.fini_array) && finis.is_empty()) {
        return Err(crate::error::Error::Malformed {
            file: m.name().to_string(),
            reason: "init or fini array outside the object's readable segments".into(),
        });
    }
    match single.chain(inits.iter().chain(finis).copied().filter(|&f| callable(f))).find(|&f| !m.is_code(f)) {
        // What the unwinder will read of it must be sound too.
        None => crate::unwind::check(m),
        Some(f) => Err(crate::error::Error::Malformed {
            file: m.name().to_string(),
            reason: format!("initializer or finalizer at {:#x} lies outside the object's code", f.wrapping_sub(m.bias)),
        }),
    }
}

/// Run the object's initializers.
pub fn run_init(m: &Module) {
    let _running = UserCode::enter();
    let (argc, argv, envp) = args();
    if let Some(f) = m.dynamic.init {
        // SAFETY: DT_INIT of a relocated object is a function with this signature (glibc passes
        // the same arguments).
        unsafe { std::mem::transmute::<usize, InitFn>(f)(argc, argv, envp) };
    }
    for &f in array(m, m.dynamic.init_array) {
        if callable(f) {
            // SAFETY: entries of a relocated DT_INIT_ARRAY are initializer functions.
            unsafe { std::mem::transmute::<usize, InitFn>(f)(argc, argv, envp) };
        }
    }
}

/// Run the object's finalizers.
pub fn run_fini(m: &Module) {
    let _running = UserCode::enter();
    for &f in array(m, m.dynamic.fini_array).iter().rev() {
        if callable(f) {
            // SAFETY: entries of a relocated DT_FINI_ARRAY are finalizer functions.
            unsafe { std::mem::transmute::<usize, FiniFn>(f)() };
        }
    }
    if let Some(f) = m.dynamic.fini {
        // SAFETY: DT_FINI of a relocated object is a function taking nothing.
        unsafe { std::mem::transmute::<usize, FiniFn>(f)() };
    }
}
