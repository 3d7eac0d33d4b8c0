//! A Rust cdylib plugin that panics and catches the panic inside itself.

use std::cell::Cell;
use std::panic;

thread_local! {
    static CALLS: Cell<u32> = const { Cell::new(0) };
}

/// Returns `x * 2`, or -1 when `x` is negative: that path panics and is caught here.
#[no_mangle]
pub extern "C" fn checked_double(x: i32) -> i32 {
    CALLS.with(|c| c.set(c.get() + 1));
    panic::set_hook(Box::new(|_| {}));
    let r = panic::catch_unwind(|| {
        if x < 0 {
            panic!("negative input {x}");
        }
        x * 2
    });
    r.unwrap_or(-1)
}

/// How many times this thread called `checked_double`.
#[no_mangle]
pub extern "C" fn calls_in_this_thread() -> u32 {
    CALLS.with(|c| c.get())
}
