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

#[cfg(not(target_arch = "x86_64"))]
compile_error!("librelink_preload supports x86_64 only for now");

use relink::interpose as i;

/// One exported function: `$label` jumps to `$target`, after loading the return address into
/// the argument register `$reg` when one is given; `.symver` gives the label each versioned name.
macro_rules! exports {
    ($( $label:literal => $target:path, $reg:literal, [$($ver:literal),+] );+ $(;)?) => {
        $(
            core::arch::global_asm!(
                concat!(".globl ", $label),
                concat!(".type ", $label, ", @function"),
                concat!($label, ":"),
                "endbr64",
                $reg,
                "jmp {t}",
                concat!(".size ", $label, ", . - ", $label),
                $(concat!(".symver ", $label, ", ", $ver),)+
                t = sym $target,
            );
        )+
    };
}

exports! {
    "relink_dlopen" => i::dlopen, "mov rdx, [rsp]", ["dlopen@GLIBC_2.2.5"];
    "relink_dlopen_234" => i::dlopen, "mov rdx, [rsp]", ["dlopen@@GLIBC_2.34"];
    "relink_dlmopen" => i::dlmopen, "mov rcx, [rsp]", ["dlmopen@GLIBC_2.3.4"];
    "relink_dlmopen_234" => i::dlmopen, "mov rcx, [rsp]", ["dlmopen@@GLIBC_2.34"];
    "relink_dlsym" => i::dlsym, "mov rdx, [rsp]", ["dlsym@GLIBC_2.2.5"];
    "relink_dlsym_234" => i::dlsym, "mov rdx, [rsp]", ["dlsym@@GLIBC_2.34"];
    "relink_dlvsym" => i::dlvsym, "mov rcx, [rsp]", ["dlvsym@GLIBC_2.2.5"];
    "relink_dlvsym_234" => i::dlvsym, "mov rcx, [rsp]", ["dlvsym@@GLIBC_2.34"];
    "relink_dlclose" => i::dlclose, "", ["dlclose@GLIBC_2.2.5"];
    "relink_dlclose_234" => i::dlclose, "", ["dlclose@@GLIBC_2.34"];
    "relink_dlerror" => i::dlerror, "", ["dlerror@GLIBC_2.2.5"];
    "relink_dlerror_234" => i::dlerror, "", ["dlerror@@GLIBC_2.34"];
    "relink_dladdr" => i::dladdr, "", ["dladdr@GLIBC_2.2.5"];
    "relink_dladdr_234" => i::dladdr, "", ["dladdr@@GLIBC_2.34"];
    "relink_dladdr1" => i::dladdr1, "", ["dladdr1@GLIBC_2.3.3"];
    "relink_dladdr1_234" => i::dladdr1, "", ["dladdr1@@GLIBC_2.34"];
    "relink_dlinfo" => i::dlinfo, "", ["dlinfo@GLIBC_2.3.3"];
    "relink_dlinfo_234" => i::dlinfo, "", ["dlinfo@@GLIBC_2.34"];
    "relink_dl_iterate_phdr" => i::dl_iterate_phdr, "", ["dl_iterate_phdr@@GLIBC_2.2.5"];
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

/// The alignment the C library's malloc guarantees on x86_64.
const MALLOC_ALIGN: usize = 16;

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
