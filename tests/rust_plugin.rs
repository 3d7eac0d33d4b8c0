//! A Rust cdylib loaded by relink: its panics unwind and are caught inside it (the unwinder
//! finds its frames), and its thread-locals work in every thread.

use relink::{Library, NOW};
use std::path::PathBuf;
use std::process::Command;

fn build_plugin() -> PathBuf {
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("rust_plugin_{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let lib = out.join("libpanicky.so");
    // The rustc of the toolchain running this test sits beside its cargo.
    let rustc = PathBuf::from(env!("CARGO")).with_file_name("rustc");
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/plugins/panicky.rs");
    let st = Command::new(&rustc)
        .args(["--edition", "2021", "--crate-type", "cdylib", "-O", "-C", "panic=unwind", "-o"])
        .arg(&lib)
        .arg(&src)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", rustc.display()));
    assert!(st.success(), "building the Rust plugin failed");
    lib
}

#[test]
fn rust_cdylib_panics_and_catches_inside() {
    let path = build_plugin();
    let lib = unsafe { Library::open(&path, NOW) }.expect("the Rust plugin loads");
    let double = unsafe { lib.get::<extern "C" fn(i32) -> i32>("checked_double") }.unwrap();
    let calls = unsafe { lib.get::<extern "C" fn() -> u32>("calls_in_this_thread") }.unwrap();
    assert_eq!(double(21), 42);
    assert_eq!(double(-5), -1, "the panic is caught inside the plugin");
    assert_eq!(double(4), 8, "and the plugin keeps working");
    assert_eq!(calls(), 3);
    let (d, c) = (*double, *calls);
    let other = std::thread::spawn(move || (d(-1), d(7), c())).join().unwrap();
    assert_eq!(other, (-1, 14, 2), "thread-locals are per thread, panics caught in another thread too");
    assert_eq!(calls(), 3);
}
