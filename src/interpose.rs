//! The system loader's interface (`dlopen`, `dlsym`, `dladdr`, `dl_iterate_phdr` ...) with
//! glibc's semantics on top of relink, for `librelink_preload.so` (the `preload/` package),
//! which exports these functions under glibc's names and symbol versions. Those that depend on
//! their caller take its return address last (see `with_caller`).
//!
//! Handles are relink's. A handle relink did not make (of a library `RELINK_PRELOAD_EXCLUDE`
//! leaves to glibc, or opened in another namespace with `dlmopen`) goes to the system loader,
//! and so does an address in one of the host's objects.

use crate::error::Error;
use crate::ffi::{self, ffi_boundary, rl_handle};
use crate::host::real;
use crate::module::Module;
use crate::registry;
use std::ffi::{c_char, c_int, c_long, c_void};
use std::sync::Arc;

/// Whether `RELINK_PRELOAD_EXCLUDE` (colon-separated shell patterns) leaves `file` to the system
/// loader: a pattern matches the name as given, or its last component.
fn excluded(file: &[u8]) -> bool {
    static PATTERNS: once_cell::sync::Lazy<Vec<std::ffi::CString>> = once_cell::sync::Lazy::new(|| {
        use std::os::unix::ffi::OsStrExt;
        let Some(v) = crate::os::env("RELINK_PRELOAD_EXCLUDE") else { return Vec::new() };
        v.as_bytes().split(|&b| b == b':').filter(|p| !p.is_empty()).filter_map(|p| std::ffi::CString::new(p).ok()).collect()
    });
    if PATTERNS.is_empty() {
        return false;
    }
    let base = file.rsplit(|&b| b == b'/').next().unwrap_or(file);
    let (Ok(file), Ok(base)) = (std::ffi::CString::new(file), std::ffi::CString::new(base)) else { return false };
    PATTERNS.iter().any(|p| crate::os::fnmatch(p, &file) || crate::os::fnmatch(p, &base))
}

/// `dlopen` called from code at `caller`.
///
/// # Safety
/// `file` is NULL or a NUL-terminated string.
pub unsafe extern "C" fn dlopen(file: *const c_char, mode: c_int, caller: usize) -> *mut c_void {
    // SAFETY: NUL-terminated by the caller's contract.
    if !file.is_null() && excluded(unsafe { crate::raw::cstr(file) }) {
        crate::debug::left_to_glibc(file, "RELINK_PRELOAD_EXCLUDE");
        // SAFETY: the system loader's dlopen, with the caller's arguments.
        return unsafe { (real().dlopen)(file, mode) };
    }
    ffi_boundary!(std::ptr::null_mut(), {
        // SAFETY: forwarded contract.
        match unsafe { ffi::open_path(file, mode, caller) } {
            // The system loader gives such a library the static TLS relink cannot.
            Err(e) if e.is_static_tls() => {
                crate::debug::left_to_glibc(file, &e.to_string());
                // SAFETY: the system loader's dlopen, with the caller's arguments.
                Ok(unsafe { (real().dlopen)(file, mode) })
            }
            r => r.map(|h| h as *mut c_void),
        }
    })
}

/// Glibc's `LM_ID_BASE`.
const LM_ID_BASE: c_long = 0;

/// `dlmopen` called from code at `caller`: the base namespace is relink's; any other one is
/// the system loader's.
///
/// # Safety
/// As for [`dlopen`].
pub unsafe extern "C" fn dlmopen(lmid: c_long, file: *const c_char, mode: c_int, caller: usize) -> *mut c_void {
    if lmid == LM_ID_BASE {
        // SAFETY: forwarded contract.
        return unsafe { dlopen(file, mode, caller) };
    }
    // SAFETY: the system loader's dlmopen, with the caller's arguments.
    unsafe { (real().dlmopen)(lmid, file, mode) }
}

/// `dlsym` called from code at `caller`.
///
/// # Safety
/// `name` is a NUL-terminated string.
pub unsafe extern "C" fn dlsym(h: *mut c_void, name: *const c_char, caller: usize) -> *mut c_void {
    if !ffi::is_relink_handle(h as *mut rl_handle) {
        // SAFETY: a handle of the system loader's.
        return unsafe { (real().dlsym)(h, name) };
    }
    // SAFETY: forwarded contract.
    unsafe { ffi::rl_sym_from(h as *mut rl_handle, name, caller) }
}

/// `dlvsym` called from code at `caller`.
///
/// # Safety
/// `name` and `version` are NUL-terminated strings.
pub unsafe extern "C" fn dlvsym(h: *mut c_void, name: *const c_char, version: *const c_char, caller: usize) -> *mut c_void {
    if !ffi::is_relink_handle(h as *mut rl_handle) {
        // SAFETY: a handle of the system loader's.
        return unsafe { (real().dlvsym)(h, name, version) };
    }
    // SAFETY: forwarded contract.
    unsafe { ffi::rl_vsym_from(h as *mut rl_handle, name, version, caller) }
}

/// `dlclose`.
///
/// # Safety
/// None beyond passing a value.
pub unsafe extern "C" fn dlclose(h: *mut c_void) -> c_int {
    if !ffi::is_relink_handle(h as *mut rl_handle) {
        // SAFETY: a handle of the system loader's.
        return unsafe { (real().dlclose)(h) };
    }
    // SAFETY: forwarded contract.
    unsafe { ffi::rl_close(h as *mut rl_handle) }
}

/// `dlerror`: relink's error of the calling thread, else the system loader's.
pub extern "C" fn dlerror() -> *mut c_char {
    let e = ffi::rl_error();
    if !e.is_null() {
        return e as *mut c_char;
    }
    // SAFETY: the system loader's dlerror takes no argument.
    unsafe { (real().dlerror)() }
}

/// `dladdr`.
///
/// # Safety
/// `info` points to a writable `Dl_info`.
pub unsafe extern "C" fn dladdr(addr: *const c_void, info: *mut libc::Dl_info) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { dladdr1(addr, info, std::ptr::null_mut(), 0) }
}

const RTLD_DL_SYMENT: c_int = 1;
const RTLD_DL_LINKMAP: c_int = 2;

/// `dladdr1`: for an address in an object relink loaded, its file, base and symbol (and with
/// `RTLD_DL_SYMENT` the symbol's record, with `RTLD_DL_LINKMAP` a `struct link_map`); other
/// addresses are the system loader's to describe.
///
/// # Safety
/// `info` points to a writable `Dl_info`; `extra` to a writable pointer when `flags` asks for
/// one.
pub unsafe extern "C" fn dladdr1(addr: *const c_void, info: *mut libc::Dl_info, extra: *mut *mut c_void, flags: c_int) -> c_int {
    let Some(m) = registry::containing(addr as usize) else {
        // SAFETY: the system loader's dladdr1, with the caller's arguments.
        return unsafe { (real().dladdr1)(addr, info, extra, flags) };
    };
    ffi_boundary!(0, {
        if info.is_null() {
            return Err(crate::error::Error::InvalidArgument("dladdr: info is NULL".into()));
        }
        let sym = m.symbol_at(addr as usize);
        let (sname, saddr) = sym.map_or((std::ptr::null(), std::ptr::null_mut()), |(n, a, _)| (n.as_ptr() as *const c_char, a as *mut c_void));
        // SAFETY: `info` is non-NULL and writable by the caller's contract; the strings live as
        // long as the object.
        unsafe { info.write(libc::Dl_info { dli_fname: m.c_name().as_ptr(), dli_fbase: m.base() as *mut c_void, dli_sname: sname, dli_saddr: saddr }) };
        let out = match flags {
            RTLD_DL_SYMENT => sym.map_or(std::ptr::null_mut(), |(_, _, s)| s as *const crate::raw::Sym as *mut c_void),
            RTLD_DL_LINKMAP => link_map(&m) as *mut c_void,
            _ => return Ok(1),
        };
        if !extra.is_null() {
            // SAFETY: writable by the caller's contract.
            unsafe { extra.write(out) };
        }
        Ok(1)
    })
}

/// A `struct link_map` for `m`: the system loader's for its objects, one made once for each of
/// relink's (its `l_next`/`l_prev` are NULL: relink's objects are on no list).
fn link_map(m: &Arc<Module>) -> usize {
    if m.is_host {
        return crate::host::link_map(m);
    }
    let lm = m.link_map.get_or_init(|| {
        Box::new(crate::raw::LinkMap {
            l_addr: m.bias,
            l_name: m.c_name().as_ptr(),
            l_ld: m.segment(elf::abi::PT_DYNAMIC).map_or(0, |(a, _)| a),
            l_next: std::ptr::null(),
            l_prev: std::ptr::null(),
        })
    });
    &**lm as *const crate::raw::LinkMap as usize
}

const RTLD_DI_LMID: c_int = 1;
const RTLD_DI_LINKMAP: c_int = 2;
const RTLD_DI_SERINFO: c_int = 4;
const RTLD_DI_SERINFOSIZE: c_int = 5;
const RTLD_DI_ORIGIN: c_int = 6;
const RTLD_DI_TLS_MODID: c_int = 9;
const RTLD_DI_TLS_DATA: c_int = 10;
const RTLD_DI_PHDR: c_int = 11;

/// `dlinfo`. The host's objects are the system loader's to describe (through their
/// `struct link_map`, which is its handle); relink answers for its own.
///
/// # Safety
/// `arg` points to what `request` writes (for `RTLD_DI_SERINFO`, a `Dl_serinfo` sized by
/// `RTLD_DI_SERINFOSIZE`).
pub unsafe extern "C" fn dlinfo(h: *mut c_void, request: c_int, arg: *mut c_void) -> c_int {
    if !ffi::is_relink_handle(h as *mut rl_handle) {
        // SAFETY: a handle of the system loader's.
        return unsafe { (real().dlinfo)(h, request, arg) };
    }
    ffi_boundary!(-1, {
        let m = registry::object_or_program(ffi::from_ptr(h as *mut rl_handle)?)?;
        if m.is_host {
            let lm = crate::host::link_map(&m);
            if lm != 0 {
                // SAFETY: the system loader's link_map of a loaded object is its handle.
                return Ok(unsafe { (real().dlinfo)(lm as *mut c_void, request, arg) });
            }
        }
        if arg.is_null() {
            return Err(Error::InvalidArgument("dlinfo: arg is NULL".into()));
        }
        // Each request writes what `arg` points to, as the caller's contract says.
        match request {
            // SAFETY: `arg` points to an `Lmid_t` for this request.
            RTLD_DI_LMID => unsafe { (arg as *mut c_long).write(LM_ID_BASE) },
            // SAFETY: `arg` points to a `struct link_map *` for this request.
            RTLD_DI_LINKMAP => unsafe { (arg as *mut usize).write(link_map(&m)) },
            RTLD_DI_ORIGIN => {
                use std::os::unix::ffi::OsStrExt;
                let o = m.origin().path().map_or(&b""[..], |o| o.as_os_str().as_bytes());
                // SAFETY: `arg` points to a buffer of at least PATH_MAX bytes for this request,
                // and an origin is a path.
                unsafe {
                    std::ptr::copy_nonoverlapping(o.as_ptr(), arg as *mut u8, o.len());
                    (arg as *mut u8).add(o.len()).write(0);
                }
            }
            RTLD_DI_SERINFO | RTLD_DI_SERINFOSIZE => {
                use crate::search::ListKind;
                // glibc's LA_SER_* flags.
                let flag = |k: ListKind| match k {
                    ListKind::Runpath => 0x04,
                    ListKind::LibPath => 0x02,
                    ListKind::Default => 0x40,
                };
                let program = registry::object_or_program(registry::Handle::GLOBAL).ok();
                let paths = crate::resolve::search_paths(Some(&m), program.as_deref());
                let dirs: Vec<(Vec<u8>, u32)> = crate::search::directories(&paths).into_iter().map(|(d, k)| (d, flag(k))).collect();
                // SAFETY: `arg` points to a `Dl_serinfo` sized as RTLD_DI_SERINFOSIZE told.
                unsafe { crate::raw::write_serinfo(arg, &dirs, request == RTLD_DI_SERINFOSIZE) };
            }
            // SAFETY: `arg` points to a `size_t` for this request.
            RTLD_DI_TLS_MODID => unsafe { (arg as *mut usize).write(crate::tls::now(&m).0 as usize) },
            RTLD_DI_TLS_DATA => {
                let block = crate::tls::now(&m).1.unwrap_or(0);
                // SAFETY: `arg` points to a `void *` for this request.
                unsafe { (arg as *mut usize).write(block) }
            }
            RTLD_DI_PHDR => {
                // SAFETY: `arg` points to an `ElfW(Phdr) *` for this request.
                unsafe { (arg as *mut usize).write(m.phdr.0) };
                return Ok(m.phdr.1 as c_int);
            }
            _ => return Err(Error::InvalidArgument(format!("{}: unsupported dlinfo request {request}", m.name()))),
        }
        Ok(0)
    })
}

/// `dl_iterate_phdr`: the host's objects, then relink's.
///
/// # Safety
/// As for [`ffi::rl_iterate_phdr`].
pub unsafe extern "C" fn dl_iterate_phdr(cb: ffi::rl_phdr_callback, data: *mut c_void) -> c_int {
    // SAFETY: forwarded contract.
    unsafe { ffi::rl_iterate_phdr(cb, data) }
}

