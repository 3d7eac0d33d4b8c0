//! Symbol interception through the Rust API: `OpenOptions` (before / after lookups, search,
//! relocation callbacks), `define` / `undefine`; global hooks and load events, which the Rust
//! API does not wrap, through `relink::ffi`. Fixtures are the c-tests/fixtures/hk_* libraries.
//!
//! All tests share one process, hence one set of global hooks and defined names: global hooks
//! only answer for libraries of their own test's scratch directory, and each test defines its
//! own names.

mod common;

use common::*;
use relink::{define, undefine, Library, OpenOptions, Relocation, LAZY, NOW};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const R_X86_64_64: u32 = 1;
const R_X86_64_GLOB_DAT: u32 = 6;
const R_X86_64_JUMP_SLOT: u32 = 7;

fn path_str(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// Whether a file is mapped into this process (by its canonical path).
fn is_mapped(path: &Path) -> bool {
    let want = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let want = want.to_string_lossy().into_owned();
    let maps = std::fs::read_to_string("/proc/self/maps").expect("read /proc/self/maps");
    maps.lines().any(|l| l.ends_with(&format!(" {want}")))
}

/// Descriptors of this process open on `path` (other tests open files concurrently, so the
/// total count is not a usable measure).
fn fds_on(path: &Path) -> usize {
    let want = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .flatten()
        .filter(|e| std::fs::read_link(e.path()).is_ok_and(|t| t == want))
        .count()
}

fn err_text<T: std::fmt::Debug>(r: relink::Result<T>) -> String {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => e.to_string(),
    }
}

/// Counting wrappers around the C library's allocator, one independent set per module.
macro_rules! counting_allocator {
    ($m:ident) => {
        mod $m {
            use std::ffi::c_void;
            use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
            pub static MALLOC: AtomicUsize = AtomicUsize::new(0);
            pub static CALLOC: AtomicUsize = AtomicUsize::new(0);
            pub static REALLOC: AtomicUsize = AtomicUsize::new(0);
            pub static FREE: AtomicUsize = AtomicUsize::new(0);
            pub extern "C" fn malloc(n: usize) -> *mut c_void {
                MALLOC.fetch_add(1, SeqCst);
                unsafe { libc::malloc(n) }
            }
            pub extern "C" fn calloc(n: usize, size: usize) -> *mut c_void {
                CALLOC.fetch_add(1, SeqCst);
                unsafe { libc::calloc(n, size) }
            }
            pub extern "C" fn realloc(p: *mut c_void, n: usize) -> *mut c_void {
                REALLOC.fetch_add(1, SeqCst);
                unsafe { libc::realloc(p, n) }
            }
            pub extern "C" fn free(p: *mut c_void) {
                FREE.fetch_add(1, SeqCst);
                unsafe { libc::free(p) }
            }
            /// (malloc, calloc, realloc, free)
            pub fn counts() -> (usize, usize, usize, usize) {
                (MALLOC.load(SeqCst), CALLOC.load(SeqCst), REALLOC.load(SeqCst), FREE.load(SeqCst))
            }
            pub fn reset() {
                for c in [&MALLOC, &CALLOC, &REALLOC, &FREE] {
                    c.store(0, SeqCst);
                }
            }
            pub fn lookup(name: &str) -> Option<*const c_void> {
                Some(match name {
                    "malloc" => malloc as *const c_void,
                    "calloc" => calloc as *const c_void,
                    "realloc" => realloc as *const c_void,
                    "free" => free as *const c_void,
                    _ => return None,
                })
            }
        }
    };
}

counting_allocator!(per_open_alloc);
counting_allocator!(global_alloc);

type IntFn = extern "C" fn(c_int) -> c_int;
type VoidIntFn = extern "C" fn() -> c_int;
type LongFn = extern "C" fn() -> i64;
type AddFn = extern "C" fn(c_int, c_int) -> c_int;

/// The host allocates on its own (C library and Rust allocator): no counter may move.
fn host_allocates(counts: fn() -> (usize, usize, usize, usize)) {
    let before = counts();
    unsafe {
        let p = libc::malloc(100);
        let q = libc::calloc(4, 8);
        let p = libc::realloc(p, 200);
        libc::free(p);
        libc::free(q);
    }
    let v: Vec<u8> = vec![1; 4096];
    drop(std::hint::black_box(v));
    assert_eq!(counts(), before, "the host's own allocations must not be counted");
}

/// Lookups a hook was asked: (name, version, requester).
type Asked = Arc<Mutex<Vec<(String, Option<String>, String)>>>;

#[test]
fn allocator_redirected_for_one_plugin() {
    use per_open_alloc as c;
    let s = Scratch::new("hkr_alloc");
    let lib = path_str(&s.lib("libhk_alloc.so", &["hk_alloc.c"], &[]));
    let lib2 = path_str(&s.lib("libhk_alloc2.so", &["hk_alloc.c"], &[]));
    let asked: Asked = Arc::default();
    let log = asked.clone();
    let opts = OpenOptions::new().before(move |name, version, requester| {
        log.lock().unwrap().push((name.to_string(), version.map(str::to_string), requester.to_string()));
        c::lookup(name)
    });
    let malloc_asks = |a: &Asked| -> Vec<(Option<String>, String)> {
        a.lock()
            .unwrap()
            .iter()
            .filter(|(n, ..)| n == "malloc")
            .map(|(_, v, r)| (v.clone(), r.clone()))
            .collect()
    };

    // RL_NOW.
    let h = unsafe { opts.open(&lib) }.expect("open with a before hook");
    assert_eq!(malloc_asks(&asked), vec![(Some("GLIBC_2.2.5".to_string()), lib.clone())]);
    c::reset();
    host_allocates(c::counts);
    let rounds = unsafe { h.get::<IntFn>("hk_alloc_rounds") }.unwrap();
    let calloc_sum = unsafe { h.get::<IntFn>("hk_calloc_sum") }.unwrap();
    assert_eq!(rounds(5), 5);
    assert_eq!(c::counts(), (5, 0, 5, 5));
    assert_eq!(calloc_sum(16), 0);
    assert_eq!(c::counts(), (5, 1, 5, 6));
    let hk_malloc = unsafe { h.get::<extern "C" fn(usize) -> *mut c_void>("hk_malloc") }.unwrap();
    let hk_free = unsafe { h.get::<extern "C" fn(*mut c_void)>("hk_free") }.unwrap();
    let p = hk_malloc(24);
    assert!(!p.is_null());
    unsafe { libc::free(p) };
    let q = unsafe { libc::malloc(24) };
    hk_free(q);
    assert_eq!(c::counts(), (6, 1, 5, 7), "only the plugin's halves of the exchange count");
    host_allocates(c::counts);

    // An unhooked copy next to it.
    let h2 = unsafe { Library::open(&lib2, NOW) }.expect("open the copy");
    assert_eq!(unsafe { h2.get::<IntFn>("hk_alloc_rounds") }.unwrap()(3), 3);
    assert_eq!(c::counts(), (6, 1, 5, 7), "the copy opened without hooks is not redirected");
    assert!(
        asked.lock().unwrap().iter().all(|(.., r)| *r == lib),
        "the per-open hook is only asked about its own open"
    );
    h.close().unwrap();
    h2.close().unwrap();
    assert!(!is_mapped(Path::new(&lib)) && !is_mapped(Path::new(&lib2)));

    // RL_LAZY: asked at the first call.
    asked.lock().unwrap().clear();
    let h = unsafe { opts.clone().flags(LAZY).open(&lib) }.expect("open RL_LAZY with a before hook");
    assert!(malloc_asks(&asked).is_empty(), "RL_LAZY: malloc is not bound at open");
    c::reset();
    let rounds = unsafe { h.get::<IntFn>("hk_alloc_rounds") }.unwrap();
    assert_eq!(rounds(1), 1);
    assert_eq!(malloc_asks(&asked), vec![(Some("GLIBC_2.2.5".to_string()), lib.clone())]);
    assert_eq!(c::counts(), (1, 0, 1, 1));
    assert_eq!(rounds(3), 3);
    assert_eq!(malloc_asks(&asked).len(), 1, "the slot stays bound");
    assert_eq!(c::counts(), (4, 0, 4, 4));
    host_allocates(c::counts);
}

/// Counters of the global hook of `allocator_redirected_by_global_hook`.
static GLOBAL_ALLOC_ONLY: Mutex<String> = Mutex::new(String::new());
static GLOBAL_ALLOC_MALLOC_ASKS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn global_alloc_hook(
    _user: *mut c_void,
    name: *const c_char,
    _version: *const c_char,
    requester: *const c_char,
) -> *mut c_void {
    let requester = unsafe { CStr::from_ptr(requester) }.to_string_lossy();
    if *GLOBAL_ALLOC_ONLY.lock().unwrap() != requester {
        return std::ptr::null_mut();
    }
    let name = unsafe { CStr::from_ptr(name) }.to_string_lossy();
    if name == "malloc" {
        GLOBAL_ALLOC_MALLOC_ASKS.fetch_add(1, SeqCst);
    }
    global_alloc::lookup(&name).map_or(std::ptr::null_mut(), |p| p as *mut c_void)
}

#[test]
fn allocator_redirected_by_global_hook_restricted_by_requester() {
    use global_alloc as c;
    use relink::ffi::{rl_hook_add, rl_hook_remove, RL_HOOK_BEFORE};
    let s = Scratch::new("hkr_global_alloc");
    let lib = path_str(&s.lib("libhk_alloc.so", &["hk_alloc.c"], &[]));
    let lib2 = path_str(&s.lib("libhk_alloc2.so", &["hk_alloc.c"], &[]));
    *GLOBAL_ALLOC_ONLY.lock().unwrap() = lib2.clone();
    let user = 0x5eed as *mut c_void;
    assert_eq!(unsafe { rl_hook_add(Some(global_alloc_hook), user, RL_HOOK_BEFORE) }, 0);
    for flags in [NOW, LAZY] {
        GLOBAL_ALLOC_MALLOC_ASKS.store(0, SeqCst);
        let h = unsafe { Library::open(&lib, flags) }.unwrap();
        let h2 = unsafe { Library::open(&lib2, flags) }.unwrap();
        assert_eq!(GLOBAL_ALLOC_MALLOC_ASKS.load(SeqCst), (flags == NOW) as usize, "asked at open only with NOW");
        c::reset();
        assert_eq!(unsafe { h.get::<IntFn>("hk_alloc_rounds") }.unwrap()(4), 4);
        assert_eq!(c::counts(), (0, 0, 0, 0), "libhk_alloc.so is not redirected (flags {flags})");
        assert_eq!(unsafe { h2.get::<IntFn>("hk_alloc_rounds") }.unwrap()(4), 4);
        assert_eq!(unsafe { h2.get::<IntFn>("hk_calloc_sum") }.unwrap()(3), 0);
        assert_eq!(c::counts(), (4, 1, 4, 5), "libhk_alloc2.so is redirected (flags {flags})");
        assert_eq!(GLOBAL_ALLOC_MALLOC_ASKS.load(SeqCst), 1);
        host_allocates(c::counts);
        drop((h, h2));
    }
    assert_eq!(unsafe { rl_hook_remove(Some(global_alloc_hook), user) }, 0);
    assert_eq!(unsafe { rl_hook_remove(Some(global_alloc_hook), user) }, -1, "removed already");
    let h2 = unsafe { Library::open(&lib2, NOW) }.unwrap();
    c::reset();
    assert_eq!(unsafe { h2.get::<IntFn>("hk_alloc_rounds") }.unwrap()(2), 2);
    assert_eq!(c::counts(), (0, 0, 0, 0), "not redirected once the hook is removed");
}

const FIXED_TIME: i64 = 1_000_000_000;

extern "C" fn fake_time(t: *mut i64) -> i64 {
    if !t.is_null() {
        unsafe { *t = FIXED_TIME };
    }
    FIXED_TIME
}

fn real_now() -> i64 {
    unsafe { libc::time(std::ptr::null_mut()) }
}

fn assert_real_clock(lib: &Library, what: &str) {
    let before = real_now();
    let v1 = unsafe { lib.get::<LongFn>("hk_now") }.unwrap()();
    let v2 = unsafe { lib.get::<LongFn>("hk_now_ptr") }.unwrap()();
    let after = real_now();
    assert!(
        (before..=after).contains(&v1) && (before..=after).contains(&v2),
        "{what}: real time expected in [{before}, {after}], got {v1} and {v2}"
    );
}

fn assert_fixed_clock(lib: &Library, what: &str) {
    assert_eq!(unsafe { lib.get::<LongFn>("hk_now") }.unwrap()(), FIXED_TIME, "{what}: hk_now");
    assert_eq!(unsafe { lib.get::<LongFn>("hk_now_ptr") }.unwrap()(), FIXED_TIME, "{what}: hk_now_ptr");
}

#[test]
fn time_faked_for_one_plugin_copy() {
    let s = Scratch::new("hkr_time");
    let a = path_str(&s.lib("libhk_clock_a.so", &["hk_clock.c"], &[]));
    let b = path_str(&s.lib("libhk_clock_b.so", &["hk_clock.c"], &[]));
    let requesters: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = requesters.clone();
    let opts = OpenOptions::new().before(move |name, _version, requester| {
        (name == "time").then(|| {
            seen.lock().unwrap().push(requester.to_string());
            fake_time as *const c_void
        })
    });
    for flags in [NOW, LAZY] {
        requesters.lock().unwrap().clear();
        let ha = unsafe { opts.clone().flags(flags).open(&a) }.expect("open copy a with the hook");
        let hb = unsafe { Library::open(&b, flags) }.expect("open copy b");
        assert_real_clock(&hb, "copy b");
        assert_fixed_clock(&ha, "copy a");
        assert_real_clock(&hb, "copy b, after copy a");
        assert_eq!(*requesters.lock().unwrap(), vec![a.clone()], "asked once, by copy a (flags {flags})");
        assert!(real_now() > FIXED_TIME + 1000, "the host's clock is real");
        drop((ha, hb));
        let ha = unsafe { Library::open(&a, flags) }.unwrap();
        assert_real_clock(&ha, "copy a reopened without the hook");
    }
    // From memory: the requester is the name given.
    let image = std::fs::read(&b).unwrap();
    requesters.lock().unwrap().clear();
    let hm = unsafe { opts.open_bytes(&image, "hk-clock-rust-memory") }.expect("open_bytes");
    drop(image);
    assert_fixed_clock(&hm, "in-memory copy");
    assert_eq!(*requesters.lock().unwrap(), vec!["hk-clock-rust-memory".to_string()]);
    let hb = unsafe { Library::open(&b, NOW) }.unwrap();
    assert_real_clock(&hb, "file copy next to its hooked in-memory twin");
}

extern "C" fn provided_by_hook(x: c_int) -> c_int {
    100 * x
}

extern "C" fn provided_by_define(x: c_int) -> c_int {
    1000 * x
}

static VAR_BY_HOOK: c_int = 7;
static VAR_BY_DEFINE: c_int = 8;

#[test]
fn after_hook_and_define_provide_missing_symbols() {
    let s = Scratch::new("hkr_provide");
    let lib = path_str(&s.lib("libhk_provide.so", &["hk_provide.c"], &[]));
    let clock = path_str(&s.lib("libhk_clock_a.so", &["hk_clock.c"], &[]));
    // hk_host_fn is provided the same way in every case: the test binary exports nothing.
    extern "C" fn host_fn() -> c_int {
        1
    }
    let asked: Asked = Arc::default();
    let log = asked.clone();
    let after = move |name: &str, version: Option<&str>, requester: &str| {
        log.lock().unwrap().push((name.to_string(), version.map(str::to_string), requester.to_string()));
        match name {
            "hk_provided" => Some(provided_by_hook as *const c_void),
            "hk_provided_var" => Some(&VAR_BY_HOOK as *const c_int as *const c_void),
            "hk_host_fn" => Some(host_fn as *const c_void),
            _ => None,
        }
    };

    let e = err_text(unsafe { Library::open(&lib, NOW) });
    assert!(e.contains("hk_provided") && e.contains("libhk_provide.so"), "{e}");
    assert!(!is_mapped(Path::new(&lib)));

    // Per-open after hook, eager and lazy.
    for flags in [NOW, LAZY] {
        asked.lock().unwrap().clear();
        let h = unsafe { OpenOptions::new().flags(flags).after(after.clone()).open(&lib) }.expect("after hook");
        let asked_provided = || asked.lock().unwrap().iter().filter(|(n, ..)| n == "hk_provided").count();
        assert_eq!(asked_provided(), (flags == NOW) as usize);
        assert_eq!(unsafe { h.get::<IntFn>("hk_use") }.unwrap()(3), 301);
        assert_eq!(unsafe { h.get::<VoidIntFn>("hk_read_var") }.unwrap()(), 7);
        assert_eq!(asked_provided(), 1, "asked once (flags {flags})");
        let a = asked.lock().unwrap();
        let (_, version, requester) = a.iter().find(|(n, ..)| n == "hk_provided").unwrap();
        assert_eq!((version.as_deref(), requester.as_str()), (None, lib.as_str()));
        assert!(
            !a.iter().any(|(n, ..)| n == "__cxa_finalize"),
            "an after hook is not asked about names the C library defines: {a:?}"
        );
    }

    // define / undefine.
    define("hk_provided", provided_by_define as *const c_void);
    define("hk_provided_var", &VAR_BY_DEFINE as *const c_int as *const c_void);
    define("hk_host_fn", host_fn as *const c_void);
    {
        let h = unsafe { Library::open(&lib, NOW) }.expect("open with defined names");
        assert_eq!(unsafe { h.get::<IntFn>("hk_use") }.unwrap()(3), 3001);
        assert_eq!(unsafe { h.get::<VoidIntFn>("hk_read_var") }.unwrap()(), 8);
        assert_eq!(unsafe { h.get::<VoidIntFn>("hk_call_host") }.unwrap()(), 1);
    }
    asked.lock().unwrap().clear();
    {
        let h = unsafe { OpenOptions::new().after(after.clone()).open(&lib) }.unwrap();
        assert_eq!(unsafe { h.get::<IntFn>("hk_use") }.unwrap()(1), 1001, "defined names come before after hooks");
        assert!(asked.lock().unwrap().iter().all(|(n, ..)| n != "hk_provided"));
        assert!(undefine("hk_provided"), "undefine");
        assert_eq!(unsafe { h.get::<IntFn>("hk_use") }.unwrap()(2), 2001, "bindings made stay");
    }
    assert!(!undefine("hk_provided"), "undefined twice");
    let e = err_text(unsafe { Library::open(&lib, NOW) });
    assert!(e.contains("hk_provided") && e.contains("libhk_provide.so"), "{e}");
    assert!(!is_mapped(Path::new(&lib)));
    assert!(undefine("hk_provided_var") && undefine("hk_host_fn"));

    // The C library's time() (a host definition): a before hook wins, an after hook and define
    // do not.
    let h = unsafe { OpenOptions::new().before(|n, _, _| (n == "time").then_some(fake_time as *const c_void)).open(&clock) }
        .unwrap();
    assert_fixed_clock(&h, "before hook");
    drop(h);
    let h = unsafe { OpenOptions::new().after(|n, _, _| (n == "time").then_some(fake_time as *const c_void)).open(&clock) }
        .unwrap();
    assert_real_clock(&h, "after hook");
    drop(h);
}

#[test]
fn relocation_callback_observes_redirects_and_vetoes() {
    #[derive(Clone, Debug)]
    struct Rec {
        requester: String,
        r_type: u32,
        name: String,
        version: Option<String>,
        place: usize,
        value: usize,
    }
    let s = Scratch::new("hkr_reloc");
    let dep = s.lib("libhk_rdep.so", &["hk_rdep.c"], &[]);
    let lib = s.lib("libhk_reloc.so", &["hk_reloc.c"], &["-L.", "-lhk_rdep", "-Wl,-rpath,$ORIGIN"]);
    let lib_s = path_str(&lib);
    let recs: Arc<Mutex<Vec<Rec>>> = Arc::default();
    let recorder = |recs: &Arc<Mutex<Vec<Rec>>>| {
        let recs = recs.clone();
        move |r: &mut Relocation| -> Result<(), String> {
            recs.lock().unwrap().push(Rec {
                requester: r.requester.to_string(),
                r_type: r.r_type,
                name: r.name.to_string(),
                version: r.version.map(str::to_string),
                place: r.place as usize,
                value: r.value,
            });
            Ok(())
        }
    };
    let find = |recs: &Arc<Mutex<Vec<Rec>>>, name: &str, ty: u32| -> Vec<Rec> {
        recs.lock()
            .unwrap()
            .iter()
            .filter(|r| r.requester == lib_s && r.name == name && r.r_type == ty)
            .cloned()
            .collect()
    };

    // Observe.
    let h = unsafe { OpenOptions::new().on_relocation(recorder(&recs)).open(&lib) }.expect("observing open");
    let var = unsafe { h.get::<*const c_int>("hk_rdep_var") }.unwrap().addr() as usize;
    let add = unsafe { h.get::<AddFn>("hk_rdep_add") }.unwrap().addr() as usize;
    let var_ptr = unsafe { h.get::<*const *const c_int>("hk_var_ptr") }.unwrap().addr() as usize;
    let glob = find(&recs, "hk_rdep_var", R_X86_64_GLOB_DAT);
    assert_eq!(glob.len(), 1, "{glob:?}");
    assert_eq!((glob[0].version.as_deref(), glob[0].value), (None, var));
    assert_eq!(unsafe { *(glob[0].place as *const usize) }, var, "the GOT entry holds the value shown");
    let abs = find(&recs, "hk_rdep_var", R_X86_64_64);
    assert_eq!(abs.len(), 1, "{abs:?}");
    assert_eq!((abs[0].version.as_deref(), abs[0].place, abs[0].value), (None, var_ptr, var));
    let slot = find(&recs, "hk_rdep_add", R_X86_64_JUMP_SLOT);
    assert_eq!(slot.len(), 1, "{slot:?}");
    assert_eq!((slot[0].version.as_deref(), slot[0].value), (None, add));
    let m = find(&recs, "malloc", R_X86_64_JUMP_SLOT);
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0].version.as_deref(), Some("GLIBC_2.2.5"));
    assert_eq!(m[0].value, unsafe { Library::global().get::<*const c_void>("malloc") }.unwrap().addr() as usize);
    let strlen: Vec<Rec> = recs.lock().unwrap().iter().filter(|r| r.name == "strlen").cloned().collect();
    assert_eq!(strlen.len(), 1, "the dependency's strlen relocation: {strlen:?}");
    assert_eq!(
        std::fs::canonicalize(&strlen[0].requester).unwrap(),
        std::fs::canonicalize(&dep).unwrap(),
        "requester of the dependency's relocation"
    );
    assert_eq!(strlen[0].version.as_deref(), Some("GLIBC_2.2.5"));
    assert_eq!(unsafe { h.get::<AddFn>("hk_add") }.unwrap()(3, 4), 7);
    drop(h);

    // Redirect one relocation, eagerly and lazily.
    extern "C" fn mul(a: c_int, b: c_int) -> c_int {
        a * b
    }
    for flags in [NOW, LAZY] {
        recs.lock().unwrap().clear();
        let rec = recorder(&recs);
        let h = unsafe {
            OpenOptions::new()
                .flags(flags)
                .on_relocation(move |r| {
                    rec(r)?;
                    if r.name == "hk_rdep_add" && r.r_type == R_X86_64_JUMP_SLOT {
                        r.value = mul as *const () as usize;
                    }
                    Ok(())
                })
                .open(&lib)
        }
        .expect("redirecting open");
        assert_eq!(find(&recs, "hk_rdep_add", R_X86_64_JUMP_SLOT).len(), (flags == NOW) as usize);
        assert_eq!(unsafe { h.get::<AddFn>("hk_add") }.unwrap()(5, 6), 30, "redirected (flags {flags})");
        assert_eq!(unsafe { h.get::<AddFn>("hk_rdep_add") }.unwrap()(5, 6), 11, "the target itself is intact");
        assert_eq!(find(&recs, "hk_rdep_add", R_X86_64_JUMP_SLOT).len(), 1);
    }

    // Veto: an error naming the file and carrying the message; nothing left behind. (Under
    // LAZY, PLT slots are shown at the first call: only the data reference is vetoed at open.)
    for (veto_name, file, lazy_too) in [
        ("hk_rdep_add", "libhk_reloc.so", false),
        ("strlen", "libhk_rdep.so", false),
        ("hk_rdep_var", "libhk_reloc.so", true),
    ] {
        for round in 0..20 {
            let r = unsafe {
                OpenOptions::new()
                    .flags(if lazy_too && round % 2 == 1 { LAZY } else { NOW })
                    .on_relocation(move |r| {
                        if r.name == veto_name {
                            Err(format!("rust test refuses {veto_name}"))
                        } else {
                            Ok(())
                        }
                    })
                    .open(&lib)
            };
            let e = err_text(r);
            assert!(e.contains(&format!("rust test refuses {veto_name}")) && e.contains(file), "{e}");
        }
        assert!(!is_mapped(&lib) && !is_mapped(&dep), "a vetoed load leaves nothing mapped");
        assert_eq!(fds_on(&lib) + fds_on(&dep), 0, "a vetoed load leaves no descriptor open");
        assert!(
            unsafe { Library::open(&lib, NOW | relink::NOLOAD) }.is_err(),
            "a vetoed library is not registered"
        );
    }
    let h = unsafe { Library::open(&lib, NOW) }.expect("plain open after vetoes");
    assert_eq!(unsafe { h.get::<AddFn>("hk_add") }.unwrap()(1, 2), 3);
}

/// Events of `map_and_unmap_events`: (event, path, base), for paths under EVENT_DIR.
static EVENT_DIR: Mutex<String> = Mutex::new(String::new());
static EVENT_LOG: Mutex<Vec<(c_int, String, usize)>> = Mutex::new(Vec::new());

unsafe extern "C" fn on_event(_user: *mut c_void, event: c_int, path: *const c_char, base: *mut c_void, _h: *mut relink::ffi::rl_handle) {
    let path = unsafe { CStr::from_ptr(path) }.to_string_lossy().into_owned();
    let dir = EVENT_DIR.lock().unwrap().clone();
    if !dir.is_empty() && path.starts_with(&dir) {
        EVENT_LOG.lock().unwrap().push((event, path, base as usize));
    }
}

extern "C" fn hk_ev_log(what: *const c_char) {
    let what = unsafe { CStr::from_ptr(what) }.to_string_lossy().into_owned();
    EVENT_LOG.lock().unwrap().push((0, what, 0));
}

#[test]
fn map_and_unmap_events() {
    use relink::ffi::{rl_addr, rl_addr_info, rl_off_event, rl_on_event, RL_EVENT_MAP, RL_EVENT_UNMAP};
    let s = Scratch::new("hkr_events");
    let dep = path_str(&s.lib("libhk_ev_dep.so", &["hk_ev_dep.c"], &[]));
    let top = path_str(&s.lib("libhk_ev_top.so", &["hk_ev_top.c"], &["-L.", "-lhk_ev_dep", "-Wl,-rpath,$ORIGIN"]));
    define("hk_ev_log", hk_ev_log as *const c_void);
    *EVENT_DIR.lock().unwrap() = s.dir_arg();
    let user = 0xe7 as *mut c_void;
    assert_eq!(unsafe { rl_on_event(Some(on_event), user) }, 0);
    let index = |event: c_int, what: &str| -> usize {
        let log = EVENT_LOG.lock().unwrap();
        let hits: Vec<usize> = log
            .iter()
            .enumerate()
            .filter(|(_, (e, p, _))| {
                *e == event
                    && (p == what
                        || std::fs::canonicalize(p).ok() == std::fs::canonicalize(what).ok() && event != 0)
            })
            .map(|(i, _)| i)
            .collect();
        assert_eq!(hits.len(), 1, "exactly one {event}/{what} in {log:?}");
        hits[0]
    };
    let base_of = |addr: *const c_void| -> usize {
        let mut info = rl_addr_info {
            fname: std::ptr::null(),
            fbase: std::ptr::null_mut(),
            sname: std::ptr::null(),
            saddr: std::ptr::null_mut(),
        };
        assert_ne!(unsafe { rl_addr(addr, &mut info) }, 0);
        info.fbase as usize
    };

    let h = unsafe { Library::open(&top, NOW) }.expect("open libhk_ev_top.so");
    let (mt, md) = (index(RL_EVENT_MAP, &top), index(RL_EVENT_MAP, &dep));
    let (ct, cd) = (index(0, "ctor top"), index(0, "ctor dep"));
    assert!(mt < ct && md < cd, "MAP before each constructor: {:?}", EVENT_LOG.lock().unwrap());
    let top_base = base_of(unsafe { h.get::<VoidIntFn>("hk_ev_top_value") }.unwrap().addr());
    let dep_base = base_of(unsafe { h.get::<VoidIntFn>("hk_ev_dep_value") }.unwrap().addr());
    {
        let log = EVENT_LOG.lock().unwrap();
        assert_eq!(log[mt].1, top, "the library's path as opened");
        assert_eq!((log[mt].2, log[md].2), (top_base, dep_base), "MAP bases");
    }
    assert_eq!(unsafe { h.get::<VoidIntFn>("hk_ev_top_value") }.unwrap()(), 6);
    h.close().unwrap();
    let (ut, ud) = (index(RL_EVENT_UNMAP, &top), index(RL_EVENT_UNMAP, &dep));
    let (dt, dd) = (index(0, "dtor top"), index(0, "dtor dep"));
    assert!(dt < ut && dd < ud, "UNMAP after each destructor: {:?}", EVENT_LOG.lock().unwrap());
    {
        let log = EVENT_LOG.lock().unwrap();
        assert_eq!((log[ut].2, log[ud].2), (top_base, dep_base), "UNMAP bases");
    }

    // A vetoed load sends nothing; after rl_off_event nothing arrives.
    let n = EVENT_LOG.lock().unwrap().len();
    let r = unsafe { OpenOptions::new().on_relocation(|_| Err("no".to_string())).open(&top) };
    assert!(r.is_err());
    assert_eq!(EVENT_LOG.lock().unwrap().len(), n, "no event (nor constructor) for a vetoed load");
    assert_eq!(unsafe { rl_off_event(Some(on_event), user) }, 0);
    assert_eq!(unsafe { rl_off_event(Some(on_event), user) }, -1);
    drop(unsafe { Library::open(&top, NOW) }.unwrap());
    let log = EVENT_LOG.lock().unwrap();
    assert!(
        log[n..].iter().all(|(e, ..)| *e == 0) && log.len() == n + 4,
        "only constructors and destructors after rl_off_event: {:?}",
        &log[n..]
    );
    drop(log);
    assert!(undefine("hk_ev_log"));
}

/// The directory whose libraries THREAD_HOOK answers for.
static THREAD_DIR: Mutex<String> = Mutex::new(String::new());

extern "C" fn mt_one() -> c_int {
    1
}

extern "C" fn mt_two() -> c_int {
    2
}

unsafe extern "C" fn thread_hook(_user: *mut c_void, name: *const c_char, _v: *const c_char, requester: *const c_char) -> *mut c_void {
    let requester = unsafe { CStr::from_ptr(requester) }.to_string_lossy();
    if !requester.starts_with(THREAD_DIR.lock().unwrap().as_str()) {
        return std::ptr::null_mut();
    }
    match unsafe { CStr::from_ptr(name) }.to_bytes() {
        b"hk_mt_a" | b"hk_mt_b" => mt_two as *mut c_void,
        _ => std::ptr::null_mut(),
    }
}

#[test]
fn global_hooks_changed_while_threads_open() {
    use relink::ffi::{rl_hook_add, rl_hook_remove, RL_HOOK_BEFORE};
    let s = Scratch::new("hkr_threads");
    let libs: Vec<String> = (0..4).map(|i| path_str(&s.lib(&format!("libhk_mt{i}.so"), &["hk_mt.c"], &[]))).collect();
    *THREAD_DIR.lock().unwrap() = s.dir_arg();
    define("hk_mt_a", mt_one as *const c_void);
    define("hk_mt_b", mt_one as *const c_void);
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = libs
        .iter()
        .enumerate()
        .map(|(id, lib)| {
            let (lib, stop) = (lib.clone(), stop.clone());
            std::thread::spawn(move || {
                let (mut hooked, mut plain, mut opens) = (0usize, 0usize, 0usize);
                while !stop.load(SeqCst) {
                    // Thread 3 also has a per-open before hook, consulted before the global ones.
                    let opts = if id == 3 {
                        OpenOptions::new().before(|n, _, _| (n == "hk_mt_a").then_some(mt_two as *const c_void))
                    } else {
                        OpenOptions::new()
                    };
                    let h = unsafe { opts.open(&lib) }.unwrap_or_else(|e| panic!("thread {id}: {e}"));
                    let v = unsafe { h.get::<VoidIntFn>("hk_mt_value") }.unwrap()();
                    match (id, v) {
                        (3, 21) | (0..=2, 11) => plain += 1,
                        (_, 22) => hooked += 1,
                        _ => panic!("thread {id}: hk_mt_value() = {v}: a torn or wrong binding"),
                    }
                    opens += 1;
                    h.close().unwrap();
                }
                (opens, hooked, plain)
            })
        })
        .collect();
    let t0 = Instant::now();
    let user = std::ptr::null_mut();
    while t0.elapsed() < Duration::from_millis(700) {
        assert_eq!(unsafe { rl_hook_add(Some(thread_hook), user, RL_HOOK_BEFORE) }, 0);
        std::thread::sleep(Duration::from_micros(200));
        assert_eq!(unsafe { rl_hook_remove(Some(thread_hook), user) }, 0);
        std::thread::sleep(Duration::from_micros(200));
    }
    stop.store(true, SeqCst);
    let (mut hooked, mut plain) = (0, 0);
    for (id, w) in workers.into_iter().enumerate() {
        let (o, h, p) = w.join().unwrap_or_else(|_| panic!("thread {id} failed"));
        assert!(o > 10, "thread {id} made progress ({o} opens)");
        hooked += h;
        plain += p;
    }
    assert!(hooked > 0 && plain > 0, "both outcomes seen: {hooked} hooked, {plain} plain");
    for lib in &libs {
        let h = unsafe { Library::open(lib, NOW) }.unwrap();
        assert_eq!(unsafe { h.get::<VoidIntFn>("hk_mt_value") }.unwrap()(), 11, "unhooked at the end");
    }
    assert!(undefine("hk_mt_a") && undefine("hk_mt_b"));
}

#[test]
fn search_finds_a_local_library() {
    let s = Scratch::new("hkr_search");
    let prov = s.lib("libhk_sp_provider.so", &["hk_sp_provider.c"], &[]);
    let user = s.lib("libhk_sp_user.so", &["hk_sp_user.c"], &[]);
    let provider = unsafe { Library::open(&prov, NOW) }.expect("open the provider RL_LOCAL");
    let e = err_text(unsafe { Library::open(&user, NOW) });
    assert!(e.contains("hk_sp_value") && e.contains("libhk_sp_user.so"), "{e}");
    let e = err_text(unsafe { OpenOptions::new().open(&user) });
    assert!(e.contains("hk_sp_value"), "{e}");
    for flags in [NOW, LAZY] {
        let u = unsafe { OpenOptions::new().flags(flags).search(&provider).open(&user) }.expect("open with search");
        assert_eq!(unsafe { u.get::<VoidIntFn>("hk_sp_use") }.unwrap()(), 42, "flags {flags}");
    }
    let u = unsafe { OpenOptions::new().search(&provider).open(&user) }.unwrap();
    provider.close().unwrap();
    assert!(is_mapped(&prov), "the provider stays while a library bound to it is open");
    assert_eq!(unsafe { u.get::<VoidIntFn>("hk_sp_use") }.unwrap()(), 42);
    u.close().unwrap();
    assert!(!is_mapped(&prov) && !is_mapped(&user), "both unloaded");
}
