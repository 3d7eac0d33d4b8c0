//! Relocatable objects (`.o`) from memory: relink refuses them for now, with a message; once it
//! loads them, this target exercises that loader the way open_mem does shared objects. Inputs
//! with executable sections are skipped (their code would run when loaded; see screen.rs).
#![no_main]

#[path = "screen.rs"]
mod screen;

use libfuzzer_sys::fuzz_target;
use relink::ffi::*;

fuzz_target!(|data: &[u8]| {
    if !screen::runs_no_code(data) {
        return;
    }
    for flags in [RL_NOW, RL_LAZY] {
        // SAFETY: `data` is readable for its length; the name is a C string.
        unsafe {
            let h = rl_open_mem(data.as_ptr().cast(), data.len(), c"fuzz-object.o".as_ptr(), flags);
            if h.is_null() {
                assert!(!rl_error().is_null(), "refused without a message");
                continue;
            }
            let _ = rl_sym(h, c"fuzz".as_ptr());
            assert_eq!(rl_close(h), 0, "rl_close failed");
        }
    }
});
