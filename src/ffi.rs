//! Stage 7 — the C ABI (`include/relink.h`, generated from this file by cbindgen).
//!
//! Every export goes through `ffi_boundary!`: panics never unwind into C, NULL and bad
//! arguments are checked, and failures are reported through the thread-local [`rl_error`].
//! Handles are opaque tokens, never dereferenced: a closed or garbage handle is looked up in the
//! registry and rejected.

use crate::error::Error;
use crate::hooks::{self, Event, OpenHooks, Phase};
use crate::registry::{self, Handle, Input, Target};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CString};

/// What [`rl_addr`] reports about an address (the layout of glibc's `Dl_info`).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct rl_addr_info {
    /// Path the object was loaded from (or the name given to `rl_open_mem`).
    pub fname: *const c_char,
    /// Its base address.
    pub fbase: *mut c_void,
    /// The exported symbol whose bytes include the address (as `dladdr` picks it), or NULL.
    pub sname: *const c_char,
    /// That symbol's address, or NULL.
    pub saddr: *mut c_void,
}

/// An open library, or the global scope (`rl_open(NULL, …)`). Opaque: only relink reads it.
#[allow(non_camel_case_types)]
pub struct rl_handle {
    _private: [u8; 0],
}

/// Bind functions on their first call (data references are still bound at open).
pub const RL_LAZY: c_int = 0x1;
/// Resolve every undefined symbol at open.
pub const RL_NOW: c_int = 0x2;
/// Do not load: return the handle only if the library is loaded already.
pub const RL_NOLOAD: c_int = 0x4;
/// Look symbols up in the library's own dependency scope before the global scope.
pub const RL_DEEPBIND: c_int = 0x8;
/// Make the library's symbols available to libraries opened later.
pub const RL_GLOBAL: c_int = 0x100;
/// The opposite of RL_GLOBAL (the default).
pub const RL_LOCAL: c_int = 0;
/// Never unload the library, even when its last handle is closed.
pub const RL_NODELETE: c_int = 0x1000;

/// A thread's `rl_error` state.
struct ErrorSlot {
    /// The error waiting to be read (formatted only when it is) ...
    pending: Option<Error>,
    /// ... or, when `miss` is set, the lookup that found nothing described by `missed`.
    miss: bool,
    missed: Missed,
    /// The message returned last (kept alive for the caller).
    last: Option<CString>,
}

impl Drop for ErrorSlot {
    fn drop(&mut self) {
        // The thread's state goes: `with_error` must not reach it any more.
        crate::arch::hot_set(crate::arch::HOT_ERROR, 0);
    }
}

/// Run `f` with the calling thread's `rl_error` state, reached through a word of per-thread
/// state once it has been reached through [`ERROR`] (no `__tls_get_addr` where the machine
/// allows); None once the thread's state is gone.
#[inline]
fn with_error<R>(f: impl FnOnce(&RefCell<ErrorSlot>) -> R) -> Option<R> {
    let p = crate::arch::hot_get(crate::arch::HOT_ERROR) as *const RefCell<ErrorSlot>;
    if !p.is_null() {
        // SAFETY: the address of this thread's `ERROR`, set below; its drop clears the word.
        return Some(f(unsafe { &*p }));
    }
    ERROR
        .try_with(|slot| {
            crate::arch::hot_set(crate::arch::HOT_ERROR, slot as *const RefCell<ErrorSlot> as usize);
            f(slot)
        })
        .ok()
}

/// A lookup that found nothing: what was searched, the name and the version. The buffers are
/// reused from one miss to the next, so a loop of lookups that miss allocates nothing.
struct Missed {
    file: String,
    /// The object whose name `file` is, when it is one (ids are never reused: the same id is
    /// the same name, not copied again).
    file_of: Option<u64>,
    symbol: Vec<u8>,
    /// The version, when `versioned` is set.
    version: Vec<u8>,
    versioned: bool,
}

thread_local! {
    static ERROR: RefCell<ErrorSlot> = const {
        RefCell::new(ErrorSlot {
            pending: None,
            miss: false,
            missed: Missed { file: String::new(), file_of: None, symbol: Vec::new(), version: Vec::new(), versioned: false },
            last: None,
        })
    };
}

pub(crate) fn set_error(e: Error) {
    let _ = ERROR.try_with(|slot| {
        let mut slot = slot.borrow_mut();
        slot.pending = Some(e);
        slot.miss = false;
    });
}

/// What `rl_sym` and `rl_vsym` make of a lookup: found nothing (kept for `rl_error`), or failed.
enum Lookup {
    Missed,
    Failed(Error),
}

impl From<Error> for Lookup {
    fn from(e: Error) -> Lookup {
        Lookup::Failed(e)
    }
}

/// Keep a lookup that found nothing for `rl_error`, without formatting it. `file_of`: the
/// object whose name `file` is, if it is one.
fn record_miss(file: &str, file_of: Option<u64>, symbol: &[u8], version: Option<&[u8]>) -> Lookup {
    with_error(|slot| {
        let mut slot = slot.borrow_mut();
        slot.pending = None;
        slot.miss = true;
        let m = &mut slot.missed;
        if file_of.is_none() || m.file_of != file_of {
            m.file.clear();
            m.file.push_str(file);
            m.file_of = file_of;
        }
        m.symbol.clear();
        m.symbol.extend_from_slice(symbol);
        m.versioned = version.is_some();
        if let Some(version) = version {
            m.version.clear();
            m.version.extend_from_slice(version);
        }
    });
    Lookup::Missed
}

/// Look a symbol up for `rl_sym` / `rl_vsym`: NULL and the miss kept when nothing is found.
fn lookup(target: Target, name: &[u8], version: Option<&[u8]>, caller: usize) -> Result<*mut c_void, Error> {
    match registry::sym_from_or(target, name, version, caller, &|file| record_miss(file, None, name, version)) {
        Ok(addr) => Ok(addr as *mut c_void),
        Err(Lookup::Missed) => Ok(std::ptr::null_mut()),
        Err(Lookup::Failed(e)) => Err(e),
    }
}

/// Run `body`, turning an `Err` or a panic into `fail` with the message stored for `rl_error`.
/// With `fast`, first an infallible path that returns `Some` when it can answer (the result of
/// a small type is returned as is, never copied through `body`'s `Result`).
macro_rules! ffi_boundary {
    ($fail:expr, fast: $fast:block, $body:block) => {{
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| $fast)) {
            Ok(Some(v)) => v,
            Ok(None) => $crate::ffi::cold(|| $crate::ffi::ffi_boundary!($fail, $body)),
            Err(_) => {
                $crate::ffi::set_error($crate::error::Error::Internal);
                $fail
            }
        }
    }};
    ($fail:expr, $body:block) => {{
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<_, Error> { $body })) {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                $crate::ffi::set_error(e);
                $fail
            }
            Err(_) => {
                $crate::ffi::set_error($crate::error::Error::Internal);
                $fail
            }
        }
    }};
}

pub(crate) use ffi_boundary;

/// Run `f` out of line: the slow path of an export whose fast path should keep a small frame.
#[cold]
#[inline(never)]
pub(crate) fn cold<R>(f: impl FnOnce() -> R) -> R {
    f()
}

const HANDLE_TAG: usize = 0x8;

/// Handles are unguessable tokens: a handle's id goes through a bijection keyed at random per
/// process (a multiplication by an odd number, then an exclusive or, on 60 bits, or 28 on 32-bit
/// machines: the pointer's width less the tag), so that a
/// small integer, a stray pointer or a real handle plus a few bytes passed as one decodes to an
/// id the registry almost surely does not know, and is rejected.
struct HandleKey {
    mul: u64,
    inverse: u64,
    xor: u64,
}

const HANDLE_BITS: u64 = (1 << (usize::BITS - 4)) - 1;

fn handle_key() -> &'static HandleKey {
    static KEY: once_cell::sync::OnceCell<HandleKey> = once_cell::sync::OnceCell::new();
    KEY.get_or_init(|| {
        let [mul, xor] = crate::os::random_words();
        let mul = mul | 1;
        // The inverse of an odd number modulo 2^64 (Newton's iteration doubles the correct low
        // bits each step, from 3 correct ones).
        let mut inverse = mul;
        for _ in 0..5 {
            inverse = inverse.wrapping_mul(2u64.wrapping_sub(mul.wrapping_mul(inverse)));
        }
        HandleKey { mul, inverse, xor: xor & HANDLE_BITS }
    })
}

/// Whether `p` is a handle relink made (or a pseudo-handle), rather than another loader's.
pub(crate) fn is_relink_handle(p: *mut rl_handle) -> bool {
    matches!(p as usize, 0 | usize::MAX) || p as usize & 0xf == HANDLE_TAG
}

fn to_ptr(h: Handle) -> *mut rl_handle {
    let k = handle_key();
    let body = (h.0.wrapping_mul(k.mul) & HANDLE_BITS) ^ k.xor;
    ((body as usize) << 4 | HANDLE_TAG) as *mut rl_handle
}

pub(crate) fn from_ptr(p: *mut rl_handle) -> Result<Handle, Error> {
    let v = p as usize;
    if p.is_null() || v & 0xf != HANDLE_TAG {
        return Err(Error::InvalidHandle);
    }
    let k = handle_key();
    Ok(Handle(((v as u64 >> 4) ^ k.xor).wrapping_mul(k.inverse) & HANDLE_BITS))
}

/// Borrow a C string argument as UTF-8.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
unsafe fn arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, Error> {
    // SAFETY: forwarded contract.
    let bytes = unsafe { bytes_arg(p, what) }?;
    // Names are nearly always ASCII, which is checked a word at a time.
    if bytes.is_ascii() {
        // SAFETY: ASCII is valid UTF-8.
        return Ok(unsafe { std::str::from_utf8_unchecked(bytes) });
    }
    std::str::from_utf8(bytes).map_err(|_| Error::InvalidArgument(format!("{what} is not valid UTF-8")))
}

/// Borrow a C string argument as bytes (symbol and version names: compared, never decoded).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
unsafe fn bytes_arg<'a>(p: *const c_char, what: &str) -> Result<&'a [u8], Error> {
    if p.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    Ok(unsafe { crate::raw::cstr(p) })
}

/// What the open calls return: the handle, or NULL with no error when RL_NOLOAD found the
/// library not loaded (as dlopen does).
fn opened(r: Result<Handle, Error>) -> Result<*mut rl_handle, Error> {
    match r {
        Err(Error::NotLoaded { .. }) => Ok(std::ptr::null_mut()),
        r => r.map(to_ptr),
    }
}

/// Open a shared library (or a relocatable object or archive, linked as by [`rl_link`]: an
/// archive with all its members) and return a handle to it, or NULL with `rl_error()` set.
///
/// `path` containing a slash is opened as is, once its dynamic string tokens are expanded
/// (`$ORIGIN`, `$LIB`, `$PLATFORM`, also written `${ORIGIN}` ...); a bare name is searched like
/// `dlopen` does (DT_RPATH, LD_LIBRARY_PATH, DT_RUNPATH, /etc/ld.so.cache, default
/// directories). As with `dlopen`, the calling object decides: its DT_RPATH/DT_RUNPATH are
/// searched and `$ORIGIN` is its directory (the program's, when called from code no loader
/// loaded). NULL gives a handle on the global scope. `flags` must include `RL_LAZY` or
/// `RL_NOW`, and no other bits than the `RL_*` flags. Opening the same file again returns the same
/// handle with one more reference. With `RL_NOLOAD`, a library that is not loaded gives NULL
/// without an error.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[no_mangle]
// SAFETY: the body only passes the return address on to `rl_open_from` (see `with_caller`).
#[unsafe(naked)]
pub unsafe extern "C" fn rl_open(path: *const c_char, flags: c_int) -> *mut rl_handle {
    crate::arch::with_caller!(rl_open_from, 2)
}

/// [`rl_open`] called from code at `caller`.
///
/// # Safety
/// As for [`rl_open`].
#[doc(hidden)]
pub unsafe extern "C" fn rl_open_from(path: *const c_char, flags: c_int, caller: usize) -> *mut rl_handle {
    // SAFETY: forwarded contract.
    ffi_boundary!(std::ptr::null_mut(), { unsafe { open_path(path, flags, caller) } })
}

/// The body of [`rl_open_from`].
///
/// # Safety
/// As for [`rl_open`].
pub(crate) unsafe fn open_path(path: *const c_char, flags: c_int, caller: usize) -> Result<*mut rl_handle, Error> {
    if path.is_null() {
        return registry::open_global(flags).map(to_ptr);
    }
    // SAFETY: non-NULL, NUL-terminated by the caller's contract.
    let path = unsafe { arg(path, "path") }?;
    opened(registry::open_from(Input::Path(path), flags, &OpenHooks::default(), caller))
}

/// Load a shared library (or a relocatable object or archive, as [`rl_open`] does) from an
/// image in memory. The image is copied: the caller may free it as soon as this returns. `name` is used in messages and matched against DT_NEEDED names of
/// later loads; it may be NULL.
///
/// # Safety
/// `image` points to `len` readable bytes; `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rl_open_mem(image: *const c_void, len: usize, name: *const c_char, flags: c_int) -> *mut rl_handle {
    ffi_boundary!(std::ptr::null_mut(), {
        let name = if name.is_null() {
            "<memory image>"
        } else {
            // SAFETY: non-NULL, NUL-terminated by the caller's contract.
            unsafe { arg(name, "name") }?
        };
        if image.is_null() || len == 0 {
            return Err(Error::InvalidArgument(format!("{name}: image is NULL or empty")));
        }
        // SAFETY: the caller guarantees `len` readable bytes at `image`.
        let bytes = unsafe { std::slice::from_raw_parts(image as *const u8, len) };
        opened(registry::open(Input::Memory { image: bytes, name }, flags, &OpenHooks::default()))
    })
}

/// The address of `name` in the library behind `h` or its dependencies (breadth-first), or in
/// the global scope for the handle of `rl_open(NULL, …)`. Takes the default version of a
/// versioned symbol. NULL with `rl_error()` set when it is not found.
///
/// Two pseudo-handles search relative to the calling object, as glibc's `RTLD_DEFAULT` and
/// `RTLD_NEXT` do: `RL_DEFAULT` the global scope, then (from a relink-loaded library) the
/// group of libraries loaded with it; what it finds stays loaded as long as the caller (for
/// ever, when the caller is the program's code). `RL_NEXT` the definitions after the caller in
/// its own lookup order: for a relink-loaded library, the scope of the library whose
/// `rl_open` loaded it; for the host's objects, the host's objects after it, then the
/// libraries opened `RL_GLOBAL`. `RL_NEXT` from code no loader loaded is an error.
///
/// # Safety
/// `name` is a NUL-terminated string. `h` may be anything: invalid handles are reported.
#[no_mangle]
// SAFETY: the body only passes the return address on to `rl_sym_from` (see `with_caller`).
#[unsafe(naked)]
pub unsafe extern "C" fn rl_sym(h: *mut rl_handle, name: *const c_char) -> *mut c_void {
    crate::arch::with_caller!(rl_sym_from, 2)
}

/// [`rl_sym`] called from code at `caller`.
///
/// # Safety
/// As for [`rl_sym`].
#[doc(hidden)]
pub unsafe extern "C" fn rl_sym_from(h: *mut rl_handle, name: *const c_char, caller: usize) -> *mut c_void {
    // SAFETY: forwarded contract (both).
    ffi_boundary!(std::ptr::null_mut(), fast: { unsafe { sym_from_table(h, name) } }, { unsafe { sym_searching(h, name, caller) } })
}

/// [`rl_sym`] answered by the handle's lookup table, if it can (see `registry::sym_fast`).
///
/// # Safety
/// As for [`rl_sym`].
#[inline(always)]
unsafe fn sym_from_table(h: *mut rl_handle, name: *const c_char) -> Option<*mut c_void> {
    let h = from_ptr(h).ok().filter(|_| !name.is_null())?;
    // SAFETY: non-NULL, NUL-terminated by the caller's contract.
    let name = unsafe { crate::raw::cstr(name) };
    let found = registry::sym_fast(h, name, |file| {
        record_miss(file, Some(h.0), name, None);
    })?;
    Some(found.map_or(std::ptr::null_mut(), |addr| addr as *mut c_void))
}

/// [`rl_sym`] searching the scope.
///
/// # Safety
/// As for [`rl_sym`].
#[inline(never)]
unsafe fn sym_searching(h: *mut rl_handle, name: *const c_char, caller: usize) -> Result<*mut c_void, Error> {
    let target = target(h)?;
    // SAFETY: NUL-terminated by the caller's contract.
    let name = unsafe { bytes_arg(name, "symbol name") }?;
    lookup(target, name, None, caller)
}

/// Like [`rl_sym`], for the given version of `name` (`"VERS_1.0"`, without `@`).
///
/// # Safety
/// `name` and `version` are NUL-terminated strings.
#[no_mangle]
// SAFETY: the body only passes the return address on to `rl_vsym_from` (see `with_caller`).
#[unsafe(naked)]
pub unsafe extern "C" fn rl_vsym(h: *mut rl_handle, name: *const c_char, version: *const c_char) -> *mut c_void {
    crate::arch::with_caller!(rl_vsym_from, 3)
}

/// [`rl_vsym`] called from code at `caller`.
///
/// # Safety
/// As for [`rl_vsym`].
#[doc(hidden)]
pub unsafe extern "C" fn rl_vsym_from(h: *mut rl_handle, name: *const c_char, version: *const c_char, caller: usize) -> *mut c_void {
    ffi_boundary!(std::ptr::null_mut(), {
        let target = target(h)?;
        // SAFETY: NUL-terminated by the caller's contract.
        let name = unsafe { bytes_arg(name, "symbol name") }?;
        // SAFETY: as above.
        let version = unsafe { bytes_arg(version, "version") }?;
        lookup(target, name, Some(version), caller)
    })
}

/// What a handle argument of [`rl_sym`]/[`rl_vsym`] asks to search.
fn target(h: *mut rl_handle) -> Result<Target, Error> {
    Ok(match h as usize {
        0 => Target::Default,
        usize::MAX => Target::Next,
        _ => Target::Handle(from_ptr(h)?),
    })
}

/// Release one reference to `h`. When none is left, the library and the dependencies only it
/// held are finalized and unmapped (unless NODELETE). Returns 0, or -1 with `rl_error()` set.
///
/// # Safety
/// None beyond passing a value: invalid handles are reported.
#[no_mangle]
pub unsafe extern "C" fn rl_close(h: *mut rl_handle) -> c_int {
    ffi_boundary!(-1, {
        let h = from_ptr(h)?;
        registry::close(h).map(|_| 0)
    })
}

/// The last error of the calling thread as a human-readable string naming the file (and the
/// symbol and version), or NULL when there was none since the last call. The string stays
/// valid until the next `rl_error()` call on the same thread.
#[no_mangle]
pub extern "C" fn rl_error() -> *const c_char {
    ERROR
        .try_with(|e| {
            let mut e = e.borrow_mut();
            let e = &mut *e;
            if std::mem::take(&mut e.miss) {
                let m = &e.missed;
                e.pending = Some(registry::symbol_not_found(&m.file, &m.symbol, m.versioned.then_some(&m.version[..])));
            }
            let pending = e.pending.take().map(|err| CString::new(err.to_string().replace('\0', "?")).unwrap_or_default());
            e.last = pending;
            e.last.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
        })
        .unwrap_or(std::ptr::null())
}

/// Describe the relink-loaded object containing `addr`, like `dladdr`. Returns nonzero and fills
/// `*info` when `addr` lies in an object relink loaded; 0 otherwise (including for the host's
/// own objects: ask `dladdr` about those). The strings live as long as the object is loaded.
///
/// # Safety
/// `info` is NULL or points to writable memory for one `rl_addr_info`.
#[no_mangle]
pub unsafe extern "C" fn rl_addr(addr: *const c_void, info: *mut rl_addr_info) -> c_int {
    ffi_boundary!(0, {
        if info.is_null() {
            return Err(Error::InvalidArgument("info is NULL".into()));
        }
        let Some(m) = registry::containing(addr as usize) else { return Ok(0) };
        let (sname, saddr) = match m.symbol_at(addr as usize) {
            // The name is a NUL-terminated string of the object's string table.
            Some((name, a, _)) => (name.as_ptr(), a as *mut c_void),
            None => (std::ptr::null(), std::ptr::null_mut()),
        };
        // SAFETY: `info` is non-NULL and writable by the caller's contract.
        unsafe {
            info.write(rl_addr_info { fname: m.c_name().as_ptr(), fbase: m.base() as *mut c_void, sname, saddr });
        }
        Ok(1)
    })
}

/// glibc's `_dl_find_object`, which libgcc's unwinder calls for every frame it unwinds: for an
/// address inside an object relink mapped, its mapping and its .eh_frame_hdr (no `link_map`:
/// relink's objects have none), found without taking a lock; any other address is answered by
/// glibc's own. Returns 0 when found, -1 otherwise. Not part of `relink.h`: it exists for the
/// unwinder, which the system loader binds to it when librelink comes before the C library.
///
/// # Safety
/// `result` must point to writable memory for a `struct dl_find_object`.
#[no_mangle]
pub unsafe extern "C" fn _dl_find_object(pc: *mut c_void, result: *mut crate::host::dl_find_object) -> c_int {
    ffi_boundary!(-1, {
        let Some(f) = crate::unwind::find(pc as usize) else {
            // SAFETY: forwarded contract.
            return Ok(unsafe { crate::host::find_object(pc, result.cast()) });
        };
        if result.is_null() {
            return Ok(-1);
        }
        let out = crate::host::dl_find_object {
            dlfo_flags: 0,
            dlfo_map_start: f.start as *mut c_void,
            dlfo_map_end: f.end as *mut c_void,
            dlfo_link_map: std::ptr::null_mut(),
            dlfo_eh_frame: f.eh_frame_hdr as *mut c_void,
            // Pointers relative to a data base are refused in relink's objects (`unwind.rs`).
            #[cfg(dlfo_eh_dbase)]
            dlfo_eh_dbase: [0, 0],
            #[cfg(dlfo_eh_count)]
            dlfo_eh_count: [f.eh_count as c_int, 0],
            dlfo_reserved: [0; 7],
        };
        // SAFETY: `result` is non-NULL and writable by the caller's contract.
        unsafe { result.write(out) };
        Ok(0)
    })
}

/// glibc's `__gnu_Unwind_Find_exidx` on Arm, which libgcc's EHABI unwinder calls for every
/// frame it unwinds (glibc's own asks the loader's internal `_dl_find_object`, which knows
/// nothing of relink's objects): for an address inside an object relink mapped, its
/// .ARM.exidx table, with the number of entries in `*count`, found without taking a lock; any
/// other address is answered as glibc's function answers it (`host::find_exidx`). Returns 0
/// when no table covers `pc`. Not part of `relink.h`: it exists for the unwinder, which the
/// system loader binds to it when librelink comes before the C library.
///
/// # Safety
/// `count` must point to a writable `int`.
#[cfg(dlfo_eh_count)]
#[no_mangle]
pub unsafe extern "C" fn __gnu_Unwind_Find_exidx(pc: usize, count: *mut c_int) -> usize {
    ffi_boundary!(0, {
        let (table, n) = match crate::unwind::find(pc) {
            Some(f) => (f.eh_frame_hdr, f.eh_count),
            None => crate::host::find_exidx(pc).unwrap_or((0, 0)),
        };
        if table == 0 || count.is_null() {
            return Ok(0);
        }
        // SAFETY: `count` is non-NULL and writable by the caller's contract.
        unsafe { count.write(n as c_int) };
        Ok(table)
    })
}

/// The callback type of [`rl_iterate_phdr`], as for `dl_iterate_phdr`.
#[allow(non_camel_case_types)]
pub type rl_phdr_callback = Option<unsafe extern "C" fn(*mut libc::dl_phdr_info, usize, *mut c_void) -> c_int>;

/// Call `cb` for every object of the process, like `dl_iterate_phdr`: the host's objects first
/// (through the system loader), then each object relink loaded. Stops at the first nonzero
/// return value and returns it. No relink lock is held while `cb` runs, so it may call relink.
/// The `dlpi_adds` and `dlpi_subs` counters count the objects both loaders mapped and unmapped
/// (callers such as the unwinder cache what they found until these change).
///
/// # Safety
/// `cb` must be safe to call with a `dl_phdr_info` and `data`.
#[no_mangle]
pub unsafe extern "C" fn rl_iterate_phdr(cb: rl_phdr_callback, data: *mut c_void) -> c_int {
    /// The caller's callback and data, relink's counters, and the system loader's as it told them.
    struct Shim {
        f: unsafe extern "C" fn(*mut libc::dl_phdr_info, usize, *mut c_void) -> c_int,
        data: *mut c_void,
        relink: (u64, u64),
        host: (u64, u64),
    }
    unsafe extern "C" fn shim(info: *mut libc::dl_phdr_info, size: usize, data: *mut c_void) -> c_int {
        // SAFETY: `data` is the Shim below; the system loader passes a valid record of `size`
        // bytes, which holds the counters when it is as large as glibc's.
        unsafe {
            let s = &mut *(data as *mut Shim);
            // The objects through which glibc holds relink's static TLS blocks are relink's own.
            if crate::host::is_stub(std::slice::from_raw_parts((*info).dlpi_phdr.cast(), (*info).dlpi_phnum as usize)) {
                return 0;
            }
            if size >= std::mem::size_of::<libc::dl_phdr_info>() {
                let i = &mut *info;
                s.host = (i.dlpi_adds, i.dlpi_subs);
                i.dlpi_adds += s.relink.0;
                i.dlpi_subs += s.relink.1;
            }
            (s.f)(info, size, s.data)
        }
    }
    ffi_boundary!(-1, {
        let Some(f) = cb else { return Err(Error::InvalidArgument("callback is NULL".into())) };
        let (objects, relink) = registry::loaded();
        let mut s = Shim { f, data, relink, host: (0, 0) };
        // SAFETY: the system loader calls `shim` with its own records and the Shim, which calls
        // `f` with `data`, as the caller asked.
        let host = unsafe { (crate::host::real().dl_iterate_phdr)(Some(shim), &mut s as *mut Shim as *mut c_void) };
        if host != 0 {
            return Ok(host);
        }
        let (adds, subs) = (s.host.0 + relink.0, s.host.1 + relink.1);
        for m in &objects {
            let (tls_modid, tls_data) = crate::tls::now(m);
            let hidden = crate::unwind::phdrs_for_iteration(m);
            let (phdr, phnum) = hidden.as_ref().map_or(m.phdr, |p| (p.as_ptr() as usize, p.len()));
            let mut info = libc::dl_phdr_info {
                dlpi_addr: m.bias as _,
                dlpi_name: m.c_name().as_ptr(),
                dlpi_phdr: phdr as *const _,
                dlpi_phnum: phnum as u16,
                dlpi_adds: adds,
                dlpi_subs: subs,
                dlpi_tls_modid: tls_modid as usize,
                dlpi_tls_data: tls_data.map_or(std::ptr::null_mut(), |b| b as *mut c_void),
            };
            // SAFETY: `info` describes a loaded object (kept alive by `objects`) and lives
            // across the call.
            let r = unsafe { f(&mut info, std::mem::size_of::<libc::dl_phdr_info>(), data) };
            if r != 0 {
                return Ok(r);
            }
        }
        Ok(0)
    })
}

/// Describe the object behind a handle: the path it was loaded from (or its `rl_open_mem`
/// name; valid while it stays loaded), its base address, and its TLS module id (0 without TLS).
/// Each out pointer may be NULL. Returns 0, or -1 with `rl_error()` set.
///
/// # Safety
/// Each out pointer is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn rl_info(h: *mut rl_handle, path: *mut *const c_char, base: *mut *mut c_void, tls_modid: *mut usize) -> c_int {
    ffi_boundary!(-1, {
        let (p, b, t) = registry::info(from_ptr(h)?)?;
        // SAFETY: each pointer is NULL or writable by the caller's contract.
        unsafe {
            if !path.is_null() {
                path.write(p);
            }
            if !base.is_null() {
                base.write(b as *mut c_void);
            }
            if !tls_modid.is_null() {
                tls_modid.write(t as usize);
            }
        }
        Ok(0)
    })
}

/// The calling thread's block of thread-local storage of the object behind `h` (as glibc's
/// `dlinfo(RTLD_DI_TLS_DATA)`): the address its TLS segment's initialization image was copied
/// to for this thread. NULL, without an error, when the object has no TLS or this thread has
/// not used it yet (blocks are allocated on first use); NULL with `rl_error()` set when `h` is
/// no open handle of one object.
///
/// # Safety
/// None beyond passing a value: invalid handles are reported.
#[no_mangle]
pub unsafe extern "C" fn rl_tls_block(h: *mut rl_handle) -> *mut c_void {
    ffi_boundary!(std::ptr::null_mut(), { registry::tls_block(from_ptr(h)?).map(|b| b as *mut c_void) })
}

/// A lookup hook. Called with the symbol's name, the version the reference asks for (NULL for
/// an unversioned reference) and the path (or `rl_open_mem` name) of the object whose reference
/// is being bound. Returns the address to bind, or NULL to pass the question on. It is asked once
/// per distinct symbol an object references (not per relocation). The strings are valid during
/// the call only. When and where it runs, and what it may call: see [`rl_hook_add`] (per-open
/// hooks given through [`rl_open_opts`] follow the same contract).
#[allow(non_camel_case_types)]
pub type rl_lookup_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, name: *const c_char, version: *const c_char, requester: *const c_char) -> *mut c_void>;

/// Consulted before every scope.
pub const RL_HOOK_BEFORE: c_int = 1;
/// Consulted only when no scope (and no `rl_define`) defines the symbol.
pub const RL_HOOK_AFTER: c_int = 2;

/// One symbolic relocation, shown to a relocation callback.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct rl_reloc {
    /// Path (or `rl_open_mem` name) of the object being relocated.
    pub requester: *const c_char,
    /// The relocation type (`R_X86_64_*`).
    pub r_type: u32,
    /// The symbol's name, and the version asked for (NULL if unversioned).
    pub name: *const c_char,
    pub version: *const c_char,
    /// Where the relocation writes.
    pub place: *mut c_void,
    /// The address the symbol resolved to (the addend, and for PC-relative types the place, are
    /// applied afterwards); the callback may replace it to redirect the reference.
    pub value: usize,
    /// Set by a callback that returns nonzero: why it refuses the load (copied by relink).
    pub veto: *const c_char,
}

/// A relocation callback: return 0 to go on (with `r->value` possibly replaced), nonzero to
/// refuse the whole load (with `r->veto` saying why). It runs for every symbolic relocation of
/// the objects an `rl_open_ex` maps, in the opening thread with the registry lock held (it may
/// call `rl_sym`, `rl_vsym`, `rl_error`, `rl_addr`, not `rl_open*` or `rl_close`). For a PLT slot
/// bound lazily it runs at the first call instead, in the calling thread; a veto there cannot
/// refuse a load any more and ends the process, as an unresolvable lazy symbol does.
#[allow(non_camel_case_types)]
pub type rl_reloc_fn = Option<unsafe extern "C" fn(user: *mut c_void, r: *mut rl_reloc) -> c_int>;

/// Options for [`rl_open_ex`]. Zero-initialize it and set `size` to `sizeof(rl_open_opts)`:
/// fields added later go at the end, and relink reads only the first `size` bytes.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct rl_open_opts {
    /// `sizeof(rl_open_opts)` as the caller knows it.
    pub size: usize,
    /// A lookup hook consulted before every scope (and before the global RL_HOOK_BEFORE hooks),
    /// with its user pointer. It stays in use for the library's lazy bindings, so it (and its
    /// user data) must stay valid as long as the library is loaded.
    pub before: rl_lookup_fn,
    pub before_user: *mut c_void,
    /// A lookup hook consulted when no scope and no `rl_define` defines a symbol (before the
    /// global RL_HOOK_AFTER hooks); same lifetime rule as `before`.
    pub after: rl_lookup_fn,
    pub after_user: *mut c_void,
    /// Handles whose libraries (and their dependencies) are searched after the global scope.
    pub search: *const *mut rl_handle,
    pub search_len: usize,
    /// A relocation callback and its user pointer.
    pub on_relocation: rl_reloc_fn,
    pub relocation_user: *mut c_void,
    /// A directory for linked units (`rl_link`, and `rl_open_ex` of a `.o` or `.a` file), or
    /// NULL: a unit whose inputs are all files is written there once linked, and the next link
    /// of the same unchanged inputs maps it from there instead of linking it again. The
    /// directory must exist, belong to the effective user and be writable by no one else
    /// (otherwise nothing is cached). Deleting its files clears the cache; never modify them in
    /// place (a process may have them mapped).
    pub cache_dir: *const c_char,
}

/// An event callback: `event` is `RL_EVENT_MAP` or `RL_EVENT_UNMAP`, `path` the object's path (or
/// `rl_open_mem` name), `base` its base address, `h` its handle identity (usable with rl_* calls
/// only while a reference to it is held).
#[allow(non_camel_case_types)]
pub type rl_event_fn =
    Option<unsafe extern "C" fn(user: *mut c_void, event: c_int, path: *const c_char, base: *mut c_void, h: *mut rl_handle)>;

/// An object was mapped and relocated (told before its constructors run).
pub const RL_EVENT_MAP: c_int = 1;
/// An object was finalized and is being unmapped.
pub const RL_EVENT_UNMAP: c_int = 2;

/// A C user pointer handed back to the C callback it came with.
#[derive(Clone, Copy)]
struct User(*mut c_void);
// SAFETY: relink only passes it back to the caller's own callback; its thread-safety is the
// caller's contract (documented in the header).
unsafe impl Send for User {}
// SAFETY: as above.
unsafe impl Sync for User {}

fn lookup_hook(f: unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char, *const c_char) -> *mut c_void, user: *mut c_void) -> hooks::LookupHook {
    let user = User(user);
    std::sync::Arc::new(move |name, version, requester| {
        let user = user;
        let v = version.map_or(std::ptr::null(), |v| v.as_ptr());
        // SAFETY: the caller registered `f` for exactly these arguments.
        let r = unsafe { f(user.0, name.as_ptr(), v, requester.as_ptr()) };
        (!r.is_null()).then_some(r as usize)
    })
}

/// Add a global lookup hook for every object relink binds from now on, eager or lazy.
/// `phase` is `RL_HOOK_BEFORE` or `RL_HOOK_AFTER`; hooks of a phase are consulted in the order
/// they were added, and the first non-NULL answer decides. Returns 0, or -1 with `rl_error()`.
///
/// The hook is called from the thread that binds: the one calling `rl_open*` (with relink's
/// registry lock held for reading, so it may call `rl_sym`, `rl_vsym`, `rl_error`, `rl_addr`,
/// but not `rl_open*`, `rl_close` or the hook calls), or the thread making the first call
/// through a lazily bound PLT slot (no lock held). It must be thread-safe.
///
/// # Safety
/// `f` must stay callable with `user` until it is removed.
#[no_mangle]
pub unsafe extern "C" fn rl_hook_add(f: rl_lookup_fn, user: *mut c_void, phase: c_int) -> c_int {
    ffi_boundary!(-1, {
        let Some(f) = f else { return Err(Error::InvalidArgument("hook function is NULL".into())) };
        let phase = match phase {
            RL_HOOK_BEFORE => Phase::Before,
            RL_HOOK_AFTER => Phase::After,
            p => return Err(Error::InvalidArgument(format!("phase {p} is neither RL_HOOK_BEFORE nor RL_HOOK_AFTER"))),
        };
        hooks::add_lookup((f as usize, user as usize), phase, lookup_hook(f, user));
        Ok(0)
    })
}

/// Remove the global lookup hook(s) added with this function and user pointer. Returns 0, or -1
/// with `rl_error()` when there is none. Bindings it already decided stay; it is not called for
/// later bindings, lazy ones included.
///
/// # Safety
/// None beyond passing values.
#[no_mangle]
pub unsafe extern "C" fn rl_hook_remove(f: rl_lookup_fn, user: *mut c_void) -> c_int {
    ffi_boundary!(-1, {
        let key = (f.map_or(0, |f| f as usize), user as usize);
        if hooks::remove_lookup(key) {
            Ok(0)
        } else {
            Err(Error::InvalidArgument("no such lookup hook".into()))
        }
    })
}

/// Add `name` at `addr` to relink's global scope: references no loaded object defines bind to
/// it (before the RL_HOOK_AFTER hooks). Defining a name again replaces its address. For hosts
/// whose functions are not in their dynamic symbol table. Returns 0, or -1 with `rl_error()`.
///
/// # Safety
/// `name` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rl_define(name: *const c_char, addr: *mut c_void) -> c_int {
    ffi_boundary!(-1, {
        // SAFETY: NUL-terminated by the caller's contract.
        let name = unsafe { arg(name, "symbol name") }?;
        hooks::define(name.as_bytes(), addr as usize);
        Ok(0)
    })
}

/// Remove a symbol added with [`rl_define`]. Returns 0, or -1 with `rl_error()` if it was not
/// defined. Bindings made with it stay.
///
/// # Safety
/// `name` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rl_undefine(name: *const c_char) -> c_int {
    ffi_boundary!(-1, {
        // SAFETY: NUL-terminated by the caller's contract.
        let name = unsafe { arg(name, "symbol name") }?;
        if hooks::undefine(name.as_bytes()) {
            Ok(0)
        } else {
            Err(Error::InvalidArgument(format!("{name} was not defined with rl_define")))
        }
    })
}

/// Be told of every object relink maps or unmaps. Called without relink's locks held, from the
/// thread that opens or closes; it may call any rl_* function. Returns 0, or -1 with `rl_error()`.
///
/// # Safety
/// `f` must stay callable with `user` until removed with [`rl_off_event`].
#[no_mangle]
pub unsafe extern "C" fn rl_on_event(f: rl_event_fn, user: *mut c_void) -> c_int {
    ffi_boundary!(-1, {
        let Some(f) = f else { return Err(Error::InvalidArgument("event function is NULL".into())) };
        let u = User(user);
        let hook: hooks::EventHook = std::sync::Arc::new(move |event, path, base, id| {
            let u = u;
            let e = if event == Event::Map { RL_EVENT_MAP } else { RL_EVENT_UNMAP };
            // SAFETY: the caller registered `f` for exactly these arguments.
            unsafe { f(u.0, e, path.as_ptr(), base as *mut c_void, to_ptr(Handle(id))) };
        });
        hooks::add_event((f as usize, user as usize), hook);
        Ok(0)
    })
}

/// Stop the event callback(s) added with this function and user pointer. Returns 0, or -1.
///
/// # Safety
/// None beyond passing values.
#[no_mangle]
pub unsafe extern "C" fn rl_off_event(f: rl_event_fn, user: *mut c_void) -> c_int {
    ffi_boundary!(-1, {
        if hooks::remove_event((f.map_or(0, |f| f as usize), user as usize)) {
            Ok(0)
        } else {
            Err(Error::InvalidArgument("no such event callback".into()))
        }
    })
}

/// Open with options: `image`/`len` non-NULL loads from memory (then `path` is the name, and
/// may be NULL), otherwise `path` is opened as by [`rl_open`] (NULL is refused here), for the
/// calling object as well. `opts` may be NULL. Per-open hooks apply to the objects this call
/// maps; a library that is already loaded is returned as it is.
///
/// # Safety
/// As for [`rl_open`] and [`rl_open_mem`]; `opts` is NULL or points to at least `opts->size`
/// readable bytes laid out as `rl_open_opts`; `opts->search` points to `search_len` handles.
#[no_mangle]
// SAFETY: the body only passes the return address on to `rl_open_ex_from` (see `with_caller`).
#[unsafe(naked)]
pub unsafe extern "C" fn rl_open_ex(path: *const c_char, image: *const c_void, len: usize, flags: c_int, opts: *const rl_open_opts) -> *mut rl_handle {
    crate::arch::with_caller!(rl_open_ex_from, 5)
}

/// [`rl_open_ex`] called from code at `caller`.
///
/// # Safety
/// As for [`rl_open_ex`].
unsafe extern "C" fn rl_open_ex_from(
    path: *const c_char,
    image: *const c_void,
    len: usize,
    flags: c_int,
    opts: *const rl_open_opts,
    caller: usize,
) -> *mut rl_handle {
    ffi_boundary!(std::ptr::null_mut(), {
        // SAFETY: per the contract, `opts` is NULL or valid for `opts->size` bytes.
        let hooks = unsafe { open_hooks(opts) }?;
        let input = if !image.is_null() {
            if len == 0 {
                return Err(Error::InvalidArgument("image length is 0".into()));
            }
            let name = if path.is_null() {
                "<memory image>"
            } else {
                // SAFETY: NUL-terminated by the caller's contract.
                unsafe { arg(path, "name") }?
            };
            // SAFETY: the caller guarantees `len` readable bytes at `image`.
            Input::Memory { image: unsafe { std::slice::from_raw_parts(image as *const u8, len) }, name }
        } else {
            // SAFETY: NUL-terminated by the caller's contract.
            Input::Path(unsafe { arg(path, "path") }?)
        };
        opened(registry::open_from(input, flags, &hooks, caller))
    })
}

/// An [`rl_input`] flag: link every member of the archive, not only those that define a symbol
/// the unit still needs.
pub const RL_INPUT_WHOLE_ARCHIVE: c_int = 0x1;

/// One input of [`rl_link`]: an ELF relocatable object, an `ar` archive, or a shared object,
/// recognized from its content.
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct rl_input {
    /// A file to read (a name without a slash that names no file is a shared object, searched
    /// as `rl_open` searches it); or NULL, and then `image`/`len`/`name` describe an image in
    /// memory (copied: it may be freed once `rl_link` returns).
    pub path: *const c_char,
    pub image: *const c_void,
    pub len: usize,
    /// The name used in messages and by `rl_addr` for an image in memory (may be NULL).
    pub name: *const c_char,
    /// `RL_INPUT_WHOLE_ARCHIVE` or 0.
    pub flags: c_int,
}

/// Link `n` inputs into one unit and return its handle, or NULL with `rl_error()` set.
///
/// Relocatable objects are always linked; an archive's members are pulled in as `ld` pulls them
/// (a member that defines a symbol the unit still needs, until nothing changes), or all of them
/// with `RL_INPUT_WHOLE_ARCHIVE`. Shared objects are loaded as by `rl_open` and become
/// dependencies of the unit: its undefined symbols are looked up in the unit, then in its
/// shared-object inputs, then in the global scope. `flags` and `opts` (which may be NULL) mean
/// what they mean for [`rl_open_ex`]. `rl_close` on the handle unloads the unit.
///
/// # Safety
/// `inputs` points to `n` inputs whose strings are NUL-terminated and whose images have `len`
/// readable bytes; `opts` as for [`rl_open_ex`].
#[no_mangle]
pub unsafe extern "C" fn rl_link(inputs: *const rl_input, n: usize, flags: c_int, opts: *const rl_open_opts) -> *mut rl_handle {
    ffi_boundary!(std::ptr::null_mut(), {
        // SAFETY: per the contract, `opts` is NULL or valid for `opts->size` bytes.
        let hooks = unsafe { open_hooks(opts) }?;
        if inputs.is_null() || n == 0 {
            return Err(Error::InvalidArgument("rl_link: no inputs".into()));
        }
        // SAFETY: the caller guarantees `n` inputs at `inputs`.
        let list = unsafe { std::slice::from_raw_parts(inputs, n) };
        let mut given = Vec::with_capacity(n);
        for (i, input) in list.iter().enumerate() {
            if input.flags & !RL_INPUT_WHOLE_ARCHIVE != 0 {
                return Err(Error::InvalidArgument(format!("rl_link: input {i} has unknown flags {:#x}", input.flags)));
            }
            let opt = |p: *const c_char, what: &str| -> Result<Option<&str>, Error> {
                // SAFETY: NULL or NUL-terminated by the caller's contract.
                if p.is_null() { Ok(None) } else { unsafe { arg(p, what) }.map(Some) }
            };
            let image = (!input.image.is_null() && input.len > 0)
                // SAFETY: the caller guarantees `len` readable bytes at `image`.
                .then(|| unsafe { std::slice::from_raw_parts(input.image as *const u8, input.len) });
            given.push(crate::registry::Given {
                path: opt(input.path, "input path")?,
                image,
                name: opt(input.name, "input name")?,
                whole_archive: input.flags & RL_INPUT_WHOLE_ARCHIVE != 0,
            });
        }
        crate::registry::link(&given, flags, &hooks).map(to_ptr)
    })
}

/// Read the fields of `opts` that its `size` covers.
///
/// # Safety
/// As for [`rl_open_ex`].
unsafe fn open_hooks(opts: *const rl_open_opts) -> Result<OpenHooks, Error> {
    let mut out = OpenHooks::default();
    if opts.is_null() {
        return Ok(out);
    }
    // SAFETY: `size` is the first field, always present.
    let size = unsafe { (*opts).size };
    if size < std::mem::size_of::<usize>() {
        return Err(Error::InvalidArgument("rl_open_opts.size is too small".into()));
    }
    // Copy what the caller has into a zeroed full-size structure.
    let mut o = std::mem::MaybeUninit::<rl_open_opts>::zeroed();
    let n = size.min(std::mem::size_of::<rl_open_opts>());
    // SAFETY: `opts` has at least `size` readable bytes; the destination is large enough; an
    // all-zero rl_open_opts is valid (NULL pointers, None callbacks, zero lengths).
    let o = unsafe {
        std::ptr::copy_nonoverlapping(opts as *const u8, o.as_mut_ptr() as *mut u8, n);
        o.assume_init()
    };
    out.before = o.before.map(|f| lookup_hook(f, o.before_user));
    out.after = o.after.map(|f| lookup_hook(f, o.after_user));
    if o.search_len > 0 {
        if o.search.is_null() {
            return Err(Error::InvalidArgument("rl_open_opts.search is NULL".into()));
        }
        // SAFETY: the caller guarantees `search_len` handles at `search`.
        let hs = unsafe { std::slice::from_raw_parts(o.search, o.search_len) };
        out.search = hs.iter().map(|&h| from_ptr(h)).collect::<Result<_, _>>()?;
    }
    if !o.cache_dir.is_null() {
        // SAFETY: NUL-terminated by the caller's contract.
        let dir = unsafe { bytes_arg(o.cache_dir, "cache_dir") }?;
        out.cache_dir = Some(std::path::PathBuf::from(<std::ffi::OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(dir)));
    }
    if let Some(f) = o.on_relocation {
        let u = User(o.relocation_user);
        out.on_relocation = Some(std::sync::Arc::new(move |ev: &mut hooks::RelocEvent| {
            let u = u;
            let mut r = rl_reloc {
                requester: ev.requester.as_ptr(),
                r_type: ev.r_type,
                name: ev.name.as_ptr(),
                version: ev.version.map_or(std::ptr::null(), |v| v.as_ptr()),
                place: ev.place as *mut c_void,
                value: ev.value,
                veto: std::ptr::null(),
            };
            // SAFETY: the caller registered `f` for exactly these arguments.
            if unsafe { f(u.0, &mut r) } != 0 {
                let why = if r.veto.is_null() {
                    "vetoed".to_string()
                } else {
                    // SAFETY: the callback set a NUL-terminated message.
                    String::from_utf8_lossy(unsafe { crate::raw::cstr(r.veto) }).into_owned()
                };
                return Err(why);
            }
            ev.value = r.value;
            Ok(())
        }));
    }
    Ok(out)
}

/// Relink's start-up, which the system loader runs with the program's arguments when it
/// initializes relink (as a shared library, or linked statically into the program): the
/// arguments for initializers, the address of the `_dl_find_object` export, the fork handlers,
/// `RELINK_DEBUG`. (Here, at the top of the layers, since it reaches several of them; this file
/// is always linked in with the exports.)
unsafe extern "C" fn start(argc: c_int, argv: *const *const c_char, envp: *const *const c_char) {
    crate::init::capture_args(argc, argv, envp);
    crate::unwind::set_own_find_object(_dl_find_object as *const () as usize);
    crate::fork::install();
    crate::debug::init();
}

#[used]
#[link_section = ".init_array"]
static START: crate::init::InitFn = start;
