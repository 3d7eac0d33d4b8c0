//! The safe Rust API over the loader: open, look up, call, close; errors as values.

use relink::{Error, Input, Library, OpenOptions, NOLOAD, NOW};
use std::ffi::{c_char, c_int, c_ulong, CStr};

type Compress = unsafe extern "C" fn(*mut u8, *mut c_ulong, *const u8, c_ulong) -> c_int;
type Version = unsafe extern "C" fn() -> *const c_char;

fn zlib_round_trip(lib: &Library) {
    let compress = unsafe { lib.get::<Compress>("compress") }.unwrap();
    let uncompress = unsafe { lib.get::<Compress>("uncompress") }.unwrap();
    let text = b"relink relink relink relink relink relink relink".repeat(20);
    let mut packed = vec![0u8; 4096];
    let mut packed_len = packed.len() as c_ulong;
    assert_eq!(unsafe { compress(packed.as_mut_ptr(), &mut packed_len, text.as_ptr(), text.len() as c_ulong) }, 0);
    assert!((packed_len as usize) < text.len() / 4, "compressed to {packed_len}");
    let mut back = vec![0u8; text.len()];
    let mut back_len = back.len() as c_ulong;
    assert_eq!(unsafe { uncompress(back.as_mut_ptr(), &mut back_len, packed.as_ptr(), packed_len) }, 0);
    assert_eq!(&back[..back_len as usize], &text[..]);
}

#[test]
fn zlib_by_name_and_from_bytes() {
    let lib = unsafe { Library::open("libz.so.1", NOW) }.expect("libz.so.1 loads");
    let version = unsafe { lib.get::<Version>("zlibVersion") }.unwrap();
    let v = unsafe { CStr::from_ptr(version()) }.to_str().unwrap().to_owned();
    assert!(v.starts_with("1."), "zlib version {v}");
    zlib_round_trip(&lib);

    let bytes = std::fs::read("/usr/lib/x86_64-linux-gnu/libz.so.1").expect("libz.so.1 is installed (zlib1g)");
    let mem = unsafe { Library::from_bytes(&bytes, "libz-from-memory", NOW) }.expect("libz from memory");
    drop(bytes);
    zlib_round_trip(&mem);
    assert_eq!(mem.name(), "libz-from-memory");
}

#[test]
fn errors_are_values_with_messages() {
    match unsafe { Library::open("/nonexistent/libnothing.so", NOW) } {
        Err(e @ Error::Io { .. }) => assert!(e.to_string().contains("/nonexistent/libnothing.so"), "{e}"),
        other => panic!("expected an I/O error, got {other:?}"),
    }
    match unsafe { Library::open("/etc/hostname", NOW) } {
        Err(e @ Error::Malformed { .. }) => assert!(e.to_string().contains("/etc/hostname"), "{e}"),
        other => panic!("expected a malformed-image error, got {other:?}"),
    }
    let lib = unsafe { Library::open("libz.so.1", NOW) }.unwrap();
    match unsafe { lib.get::<Version>("no_such_function_here") } {
        Err(e @ Error::SymbolNotFound { .. }) => {
            let m = e.to_string();
            assert!(m.contains("no_such_function_here") && m.contains("libz.so.1"), "{m}");
        }
        other => panic!("expected a missing-symbol error, got {other:?}"),
    }
    match unsafe { lib.get_version::<Version>("zlibVersion", "NO_SUCH_VERSION") } {
        Err(e) => assert!(e.to_string().contains("NO_SUCH_VERSION"), "{e}"),
        Ok(_) => panic!("a version the library does not define must not bind"),
    }
}

#[test]
fn noload_sees_only_loaded_libraries() {
    // libsqlite3 is used by no other test of this binary.
    assert!(matches!(unsafe { Library::open("libsqlite3.so.0", NOW | NOLOAD) }, Err(Error::NotLoaded { .. })));
    let lib = unsafe { Library::open("libsqlite3.so.0", NOW) }.unwrap();
    let again = unsafe { Library::open("libsqlite3.so.0", NOW | NOLOAD) }.expect("loaded now");
    let f = unsafe { again.get::<unsafe extern "C" fn() -> c_int>("sqlite3_libversion_number") }.unwrap();
    assert!(unsafe { f() } >= 3_000_000);
    drop(again);
    lib.close().unwrap();
    assert!(matches!(unsafe { Library::open("libsqlite3.so.0", NOW | NOLOAD) }, Err(Error::NotLoaded { .. })));
}

#[test]
fn global_scope_finds_host_symbols() {
    let g = Library::global();
    let strlen = unsafe { g.get::<unsafe extern "C" fn(*const c_char) -> usize>("strlen") }.unwrap();
    assert_eq!(unsafe { strlen(c"four".as_ptr()) }, 4);
}

/// `OpenOptions::cache_dir`: the first link of libz.a writes the unit to the cache, the second
/// (after the first is unloaded) maps that entry, which stays as it was.
#[test]
fn unit_cache_from_rust() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("rust_api_unit_cache.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    let libz = "/usr/lib/x86_64-linux-gnu/libz.a";
    assert!(std::path::Path::new(libz).exists(), "{libz} is installed (zlib1g-dev)");
    let options = OpenOptions::new().cache_dir(&dir);
    let link = || unsafe { options.link(&[Input::path(libz).whole_archive()]) }.expect("libz.a links");
    let lib = link();
    zlib_round_trip(&lib);
    drop(lib);
    let entries = || std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect::<Vec<_>>();
    let written = entries();
    assert_eq!(written.len(), 1, "one entry: {written:?}");
    let before = std::fs::metadata(&written[0]).unwrap();
    let lib = link();
    zlib_round_trip(&lib);
    drop(lib);
    let after = std::fs::metadata(&written[0]).unwrap();
    assert_eq!((before.ino(), before.mtime_nsec()), (after.ino(), after.mtime_nsec()), "the entry was mapped, not written again");
    std::fs::remove_dir_all(&dir).unwrap();
}
