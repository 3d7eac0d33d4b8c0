//! Shared objects from memory: `rl_open_mem` (RL_NOW, then RL_LAZY), then what a host does with
//! a library: `rl_sym`, `rl_info`, `rl_addr`, `rl_iterate_phdr`, a backtrace (which makes the
//! unwinder walk every registered .eh_frame), `rl_close`. A refusal must come with a message.
//! Inputs that could make relink run code of the image itself are skipped (see harness.rs).
#![no_main]

#[path = "harness.rs"]
mod harness;

use libfuzzer_sys::fuzz_target;
use relink::ffi::*;
use std::ffi::{c_int, c_void, CStr};

const NAMES: &[&CStr] = &[c"simple_triple", c"simple_counter", c"foo", c"bar", c"tls_counter", c"relr_fns", c"fuzz"];

unsafe extern "C" fn each_object(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> c_int {
    // SAFETY: relink passes a valid record describing a loaded object.
    let info = unsafe { &*info };
    let mut sum = 0u64;
    for i in 0..info.dlpi_phnum as usize {
        // SAFETY: dlpi_phdr holds dlpi_phnum program headers.
        sum = sum.wrapping_add(unsafe { (*info.dlpi_phdr.add(i)).p_vaddr });
    }
    // SAFETY: `data` is the counter below.
    unsafe { *(data as *mut u64) = (*(data as *mut u64)).wrapping_add(sum) };
    0
}

/// Look at a loaded library the ways a host would.
unsafe fn exercise(h: *mut rl_handle) {
    // SAFETY: `h` is a loaded library's handle; the out pointers are valid.
    unsafe {
        for name in NAMES {
            if rl_sym(h, name.as_ptr()).is_null() {
                assert!(!rl_error().is_null(), "rl_sym failed without a message");
            }
        }
        let (mut path, mut base, mut modid) = (std::ptr::null(), std::ptr::null_mut(), 0usize);
        assert_eq!(rl_info(h, &mut path, &mut base, &mut modid), 0);
        let _ = CStr::from_ptr(path).to_bytes().len();
        for off in [0usize, 0x40, 0x1000, 0x1800, 0x2000, 0x3000, 0x4000] {
            let mut ai: rl_addr_info = std::mem::zeroed();
            if rl_addr((base as *const u8).wrapping_add(off).cast(), &mut ai) != 0 && !ai.sname.is_null() {
                let _ = CStr::from_ptr(ai.sname).to_bytes().len();
            }
        }
        let mut sum = 0u64;
        assert_eq!(rl_iterate_phdr(Some(each_object), (&mut sum as *mut u64).cast()), 0);
    }
    // Walks the frames of this thread: the unwinder looks at every registered table on the way.
    let _ = std::backtrace::Backtrace::force_capture().to_string().len();
}

fuzz_target!(|data: &[u8]| harness::open_each_way(data, c"fuzz-input", exercise));
