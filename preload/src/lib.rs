//! `librelink_preload.so`: preloaded (`LD_PRELOAD`), it gives an unmodified program relink in
//! place of glibc's `dlopen` family. Everything the program (or a library) loads at run time is
//! then mapped, linked and tracked by relink; the libraries loaded at startup stay glibc's.
//!
//! The exports carry glibc's symbol versions (`exports.map`), so that programs built against
//! any glibc release bind to them. Each is a small entry point that hands its arguments, and for
//! the functions whose meaning depends on the calling object (`dlopen`, `dlmopen`, `dlsym`,
//! `dlvsym`) the caller's return address, to `relink::interpose`. Being naked, the entry points
//! leave the return address where the caller put it, and a tail call keeps it out of the stack
//! trace.

use relink::interpose as i;

/// One exported function: `$label` jumps to `$target`, after loading the return address into
/// integer argument register `$arg` (0: none); `.symver` gives the label each versioned name
/// (versions as of x86_64, mapped to the machine's by `relink::entry_asm!`; `dl_iterate_phdr`
/// came with GLIBC_2.2.4, and i386 has `dlopen` and `dlvsym` at GLIBC_2.1 too: x86_64's first
/// version, GLIBC_2.2.5, stands for both there).
macro_rules! exports {
    ($( $label:literal => $target:path, $arg:tt, [$($name:literal @ $sep:literal $ver:tt),+] );+ $(;)?) => {
        $(
            core::arch::global_asm!(
                concat!(".globl ", $label),
                concat!(".type ", $label, ", %function"),
                concat!($label, ":"),
                relink::entry_asm!(pad),
                relink::entry_asm!(caller $arg),
                relink::entry_asm!(jump),
                concat!(".size ", $label, ", . - ", $label),
                $(concat!(".symver ", $label, ", ", $name, $sep, relink::entry_asm!(version $ver)),)+
                t = sym $target,
            );
        )+
    };
}

exports! {
    "relink_dlopen" => i::dlopen, 2, ["dlopen" @ "@" "GLIBC_2.2.5", "dlopen" @ "@" "GLIBC_2.1"];
    "relink_dlopen_234" => i::dlopen, 2, ["dlopen" @ "@@" "GLIBC_2.34"];
    "relink_dlmopen" => i::dlmopen, 3, ["dlmopen" @ "@" "GLIBC_2.3.4"];
    "relink_dlmopen_234" => i::dlmopen, 3, ["dlmopen" @ "@@" "GLIBC_2.34"];
    "relink_dlsym" => i::dlsym, 2, ["dlsym" @ "@" "GLIBC_2.2.5"];
    "relink_dlsym_234" => i::dlsym, 2, ["dlsym" @ "@@" "GLIBC_2.34"];
    "relink_dlvsym" => i::dlvsym, 3, ["dlvsym" @ "@" "GLIBC_2.2.5", "dlvsym" @ "@" "GLIBC_2.1"];
    "relink_dlvsym_234" => i::dlvsym, 3, ["dlvsym" @ "@@" "GLIBC_2.34"];
    "relink_dlclose" => i::dlclose, 0, ["dlclose" @ "@" "GLIBC_2.2.5"];
    "relink_dlclose_234" => i::dlclose, 0, ["dlclose" @ "@@" "GLIBC_2.34"];
    "relink_dlerror" => i::dlerror, 0, ["dlerror" @ "@" "GLIBC_2.2.5"];
    "relink_dlerror_234" => i::dlerror, 0, ["dlerror" @ "@@" "GLIBC_2.34"];
    "relink_dladdr" => i::dladdr, 0, ["dladdr" @ "@" "GLIBC_2.2.5"];
    "relink_dladdr_234" => i::dladdr, 0, ["dladdr" @ "@@" "GLIBC_2.34"];
    "relink_dladdr1" => i::dladdr1, 0, ["dladdr1" @ "@" "GLIBC_2.3.3"];
    "relink_dladdr1_234" => i::dladdr1, 0, ["dladdr1" @ "@@" "GLIBC_2.34"];
    "relink_dlinfo" => i::dlinfo, 0, ["dlinfo" @ "@" "GLIBC_2.3.3"];
    "relink_dlinfo_234" => i::dlinfo, 0, ["dlinfo" @ "@@" "GLIBC_2.34"];
    "relink_dl_iterate_phdr" => i::dl_iterate_phdr, 0, ["dl_iterate_phdr" @ "@@" "GLIBC_2.2.4"];
}

/// relink's own memory comes from the C library's allocator under its internal names, never
/// through `malloc`: a program that wraps `malloc` (and looks the real one up with
/// `dlsym(RTLD_NEXT, "malloc")` on its first call) would otherwise be called back from inside
/// relink's loader, in the middle of an open or of relink's own initialization.
struct LibcAllocator;

extern "C" {
    fn __libc_malloc(size: usize) -> *mut u8;
    fn __libc_calloc(n: usize, size: usize) -> *mut u8;
    fn __libc_realloc(p: *mut u8, size: usize) -> *mut u8;
    fn __libc_memalign(align: usize, size: usize) -> *mut u8;
    fn __libc_free(p: *mut u8);
}

/// The alignment the C library's malloc guarantees (x86_64 and aarch64).
#[cfg(not(target_arch = "arm"))]
const MALLOC_ALIGN: usize = 16;
/// The alignment the C library's malloc guarantees (32-bit Arm: two words).
#[cfg(target_arch = "arm")]
const MALLOC_ALIGN: usize = 8;

// SAFETY: each method forwards to the C library's allocator with a size and alignment it
// honours (memalign for alignments above malloc's), and frees only what it returned.
unsafe impl std::alloc::GlobalAlloc for LibcAllocator {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        // SAFETY: plain allocation calls.
        unsafe {
            if l.align() <= MALLOC_ALIGN {
                __libc_malloc(l.size())
            } else {
                __libc_memalign(l.align(), l.size())
            }
        }
    }

    unsafe fn alloc_zeroed(&self, l: std::alloc::Layout) -> *mut u8 {
        if l.align() <= MALLOC_ALIGN {
            // SAFETY: a plain allocation call.
            return unsafe { __libc_calloc(1, l.size()) };
        }
        // SAFETY: `alloc` returned `l.size()` writable bytes, or NULL.
        unsafe {
            let p = self.alloc(l);
            if !p.is_null() {
                std::ptr::write_bytes(p, 0, l.size());
            }
            p
        }
    }

    unsafe fn realloc(&self, p: *mut u8, l: std::alloc::Layout, size: usize) -> *mut u8 {
        if l.align() <= MALLOC_ALIGN {
            // SAFETY: `p` came from `__libc_malloc`/`__libc_calloc` (see `alloc`).
            return unsafe { __libc_realloc(p, size) };
        }
        // SAFETY: a new block of the same alignment; the old one holds `l.size()` bytes.
        unsafe {
            let q = self.alloc(std::alloc::Layout::from_size_align_unchecked(size, l.align()));
            if !q.is_null() {
                std::ptr::copy_nonoverlapping(p, q, l.size().min(size));
                __libc_free(p);
            }
            q
        }
    }

    unsafe fn dealloc(&self, p: *mut u8, _: std::alloc::Layout) {
        // SAFETY: `p` came from this allocator.
        unsafe { __libc_free(p) }
    }
}

#[global_allocator]
static ALLOCATOR: LibcAllocator = LibcAllocator;
