//! A Rust cdylib loaded by relink: its panics unwind and are caught inside it (the unwinder
//! finds its frames), and its thread-locals work in every thread.

mod common;

use relink::{Library, NOW};

#[test]
fn rust_cdylib_panics_and_catches_inside() {
    let path = common::build_rust("panicky.rs", "cdylib", "libpanicky.so");
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
