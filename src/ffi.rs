//! Stage 7 — the C ABI (`include/relink.h`, generated from this file by cbindgen).
//!
//! Every export goes through [`ffi_boundary!`]: panics never unwind into C, NULL and bad
//! arguments are checked, and failures are reported through the thread-local [`rl_error`].
//! Handles are opaque tokens, never dereferenced: a closed or garbage handle is looked up in the
//! registry and rejected.

use crate::error::Error;
use crate::registry::{self, Handle, Input};
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
    /// The nearest exported symbol at or below the address, or NULL.
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

thread_local! {
    /// The error waiting to be read, and the one returned last (kept alive for the caller).
    static ERROR: RefCell<(Option<CString>, Option<CString>)> = const { RefCell::new((None, None)) };
}

fn set_error(msg: String) {
    let c = CString::new(msg.replace('\0', "?")).unwrap_or_default();
    ERROR.with(|e| e.borrow_mut().0 = Some(c));
}

/// Run `body`, turning an `Err` or a panic into `fail` with the message stored for `rl_error`.
macro_rules! ffi_boundary {
    ($fail:expr, $body:block) => {{
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| -> Result<_, Error> { $body })) {
            Ok(Ok(v)) => v,
            Ok(Err(e)) => {
                set_error(e.to_string());
                $fail
            }
            Err(_) => {
                set_error("internal error: relink panicked; the operation was abandoned".to_string());
                $fail
            }
        }
    }};
}

const HANDLE_TAG: usize = 0x8;

fn to_ptr(h: Handle) -> *mut rl_handle {
    ((h.0 as usize) << 4 | HANDLE_TAG) as *mut rl_handle
}

fn from_ptr(p: *mut rl_handle) -> Result<Handle, Error> {
    let v = p as usize;
    if p.is_null() || v & 0xf != HANDLE_TAG {
        return Err(Error::InvalidHandle);
    }
    Ok(Handle((v >> 4) as u64))
}

/// Borrow a C string argument as UTF-8.
///
/// # Safety
/// `p` is NULL or a NUL-terminated string valid for the call.
unsafe fn arg<'a>(p: *const c_char, what: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(Error::InvalidArgument(format!("{what} is NULL")));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let bytes = unsafe { crate::raw::cstr(p) };
    std::str::from_utf8(bytes).map_err(|_| Error::InvalidArgument(format!("{what} is not valid UTF-8")))
}

/// Open a shared library and return a handle to it, or NULL with `rl_error()` set.
///
/// `path` containing a slash is opened as is; a bare name is searched like `dlopen` does
/// (DT_RPATH, LD_LIBRARY_PATH, DT_RUNPATH, /etc/ld.so.cache, default directories); NULL gives a
/// handle on the global scope. `flags` must include `RL_LAZY` or `RL_NOW`. Opening the same file
/// again returns the same handle with one more reference.
///
/// # Safety
/// `path` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rl_open(path: *const c_char, flags: c_int) -> *mut rl_handle {
    ffi_boundary!(std::ptr::null_mut(), {
        if path.is_null() {
            return Ok(to_ptr(Handle::GLOBAL));
        }
        // SAFETY: non-NULL, NUL-terminated by the caller's contract.
        let path = unsafe { arg(path, "path") }?;
        registry::open(Input::Path(path), flags).map(to_ptr)
    })
}

/// Load a shared library from an ELF image in memory. The image is copied: the caller may free
/// it as soon as this returns. `name` is used in messages and matched against DT_NEEDED names of
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
        registry::open(Input::Memory { image: bytes, name }, flags).map(to_ptr)
    })
}

/// The address of `name` in the library behind `h` or its dependencies (breadth-first), or in
/// the global scope for the handle of `rl_open(NULL, …)`. Takes the default version of a
/// versioned symbol. NULL with `rl_error()` set when it is not found.
///
/// # Safety
/// `name` is a NUL-terminated string. `h` may be anything: invalid handles are reported.
#[no_mangle]
pub unsafe extern "C" fn rl_sym(h: *mut rl_handle, name: *const c_char) -> *mut c_void {
    ffi_boundary!(std::ptr::null_mut(), {
        let h = from_ptr(h)?;
        // SAFETY: NUL-terminated by the caller's contract.
        let name = unsafe { arg(name, "symbol name") }?;
        registry::sym(h, name.as_bytes(), None).map(|a| a as *mut c_void)
    })
}

/// Like [`rl_sym`], for the given version of `name` (`"VERS_1.0"`, without `@`).
///
/// # Safety
/// `name` and `version` are NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn rl_vsym(h: *mut rl_handle, name: *const c_char, version: *const c_char) -> *mut c_void {
    ffi_boundary!(std::ptr::null_mut(), {
        let h = from_ptr(h)?;
        // SAFETY: NUL-terminated by the caller's contract.
        let name = unsafe { arg(name, "symbol name") }?;
        // SAFETY: as above.
        let version = unsafe { arg(version, "version") }?;
        registry::sym(h, name.as_bytes(), Some(version.as_bytes())).map(|a| a as *mut c_void)
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
            let pending = e.0.take();
            e.1 = pending;
            e.1.as_ref().map_or(std::ptr::null(), |c| c.as_ptr())
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
            // The name points into the object's string table, which is NUL-terminated.
            Some((name, a)) => (name.as_ptr() as *const c_char, a as *mut c_void),
            None => (std::ptr::null(), std::ptr::null_mut()),
        };
        // SAFETY: `info` is non-NULL and writable by the caller's contract.
        unsafe {
            info.write(rl_addr_info { fname: m.c_name.as_ptr(), fbase: m.base() as *mut c_void, sname, saddr });
        }
        Ok(1)
    })
}

/// The callback type of [`rl_iterate_phdr`], as for `dl_iterate_phdr`.
#[allow(non_camel_case_types)]
pub type rl_phdr_callback = Option<unsafe extern "C" fn(*mut libc::dl_phdr_info, usize, *mut c_void) -> c_int>;

/// Call `cb` for every object of the process, like `dl_iterate_phdr`: the host's objects first
/// (through the system loader), then each object relink loaded. Stops at the first nonzero
/// return value and returns it. No relink lock is held while `cb` runs, so it may call relink.
///
/// # Safety
/// `cb` must be safe to call with a `dl_phdr_info` and `data`.
#[no_mangle]
pub unsafe extern "C" fn rl_iterate_phdr(cb: rl_phdr_callback, data: *mut c_void) -> c_int {
    ffi_boundary!(-1, {
        let Some(f) = cb else { return Err(Error::InvalidArgument("callback is NULL".into())) };
        // SAFETY: the system loader calls `f` with its own records and `data`, as the caller asked.
        let host = unsafe { libc::dl_iterate_phdr(cb, data) };
        if host != 0 {
            return Ok(host);
        }
        let (objects, (adds, subs)) = registry::loaded();
        for m in &objects {
            let mut info = libc::dl_phdr_info {
                dlpi_addr: m.bias as u64,
                dlpi_name: m.c_name.as_ptr(),
                dlpi_phdr: m.phdr.0 as *const libc::Elf64_Phdr,
                dlpi_phnum: m.phdr.1 as u16,
                dlpi_adds: adds,
                dlpi_subs: subs,
                dlpi_tls_modid: m.tls_id.unwrap_or(0) as usize,
                dlpi_tls_data: m.tls_id.map_or(std::ptr::null_mut(), |id| crate::tls::block(id) as *mut c_void),
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
