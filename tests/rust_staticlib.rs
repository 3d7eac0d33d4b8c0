//! A Rust `staticlib` (the whole standard library in an archive) linked by relink with
//! `Library::link`: its panics unwind and are caught inside it, and its thread-locals work in
//! every thread; with a C object that uses it, only the members needed are pulled.

mod common;

use relink::{Input, Library, OpenOptions, NOW};

#[test]
fn rust_staticlib_through_link() {
    let path = common::build_rust("panicky.rs", "staticlib", "libpanicky.a");
    let path = path.to_str().unwrap();
    let lib = unsafe { Library::link(&[Input::path(path).whole_archive()]) }.expect("the Rust staticlib links");
    let double = unsafe { lib.get::<extern "C" fn(i32) -> i32>("checked_double") }.unwrap();
    let calls = unsafe { lib.get::<extern "C" fn() -> u32>("calls_in_this_thread") }.unwrap();
    assert_eq!(double(21), 42);
    assert_eq!(double(-5), -1, "the panic is caught inside the unit");
    assert_eq!(double(4), 8, "and the unit keeps working");
    assert_eq!(calls(), 3);
    let (d, c) = (*double, *calls);
    let other = std::thread::spawn(move || (d(-1), d(7), c())).join().unwrap();
    assert_eq!(other, (-1, 14, 2), "thread-locals are per thread, panics caught in another thread too");
    assert_eq!(calls(), 3);
    drop(lib);

    // A C object that calls into it, and the archive from memory: members are pulled for it.
    let s = common::Scratch::new("rust_staticlib");
    let obj = s.object("rust_user.o", "rust_user.c", &[]);
    let bytes = std::fs::read(path).unwrap();
    let lib = unsafe { OpenOptions::new().flags(NOW).link(&[Input::path(obj.to_str().unwrap()), Input::bytes(&bytes, "panicky.a")]) }
        .expect("links with an object, from memory");
    let user = unsafe { lib.get::<extern "C" fn(i32) -> i32>("user_double") }.unwrap();
    assert_eq!(user(20), 41);
    assert_eq!(user(-3), 0, "the panic is caught inside the unit");
    assert!(lib.name().ends_with("rust_user.o+panicky.a"), "{}", lib.name());
}
