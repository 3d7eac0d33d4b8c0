//! Relocatable objects (`.o`) from memory: relink refuses them for now, with a message; once it
//! loads them, this target exercises that loader the way open_mem does shared objects. Inputs
//! with executable sections are skipped (their code would run when loaded; see harness.rs).
#![no_main]

#[path = "harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;
use relink::ffi::*;

/// Look a symbol up in a loaded object.
unsafe fn look(h: *mut rl_handle) {
    // SAFETY: `h` is a loaded object's handle; the name is a C string.
    let _ = unsafe { rl_sym(h, c"fuzz".as_ptr()) };
}

fuzz_target!(|data: &[u8]| harness::open_each_way(data, c"fuzz-object.o", look));
