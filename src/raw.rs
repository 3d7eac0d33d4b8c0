//! All byte-casting of the `relink` crate lives here: the records of the running process (C
//! strings, glibc's `link_map` and `r_debug`, `Dl_serinfo`) and the reads and writes of
//! mapped images.
//!
//! The ELF records of the machine's own class and the bounds-checked [`Span`] views that hand
//! them out are the core's (`relink_core::raw`), re-exported here: the `elf` crate parses
//! headers from bytes; once an image is mapped, the dynamic linker reads its tables in place (as
//! every loader does), through a [`Span`], which checks every range once.

pub use relink_core::raw::{
    range_holds, rest_in, short_word, within, Dyn, Ehdr, Phdr, Pod, Rel, Rela, Reloc, Span, StrTab, Sword, Sym, ELF_CLASS, WORD,
};
use std::ffi::CStr;

// The system loader's program headers (`dl_phdr_info`) are read as the core's records.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<Phdr>() == std::mem::size_of::<libc::Elf64_Phdr>());
#[cfg(target_pointer_width = "32")]
const _: () = assert!(std::mem::size_of::<Phdr>() == std::mem::size_of::<libc::Elf32_Phdr>());

/// Read a C string the caller vouches for.
///
/// # Safety
/// `p` must be non-NULL and point to a NUL-terminated string that lives for `'a`.
pub unsafe fn cstr<'a>(p: *const libc::c_char) -> &'a [u8] {
    // SAFETY: guaranteed by the caller.
    unsafe { CStr::from_ptr(p) }.to_bytes()
}

/// Write a relocated word of `N` bytes at `addr` (unaligned writes allowed).
///
/// # Safety
/// `addr..addr+N` must be writable memory of an object being relocated.
#[inline]
pub unsafe fn write_bytes<const N: usize>(addr: usize, value: [u8; N]) {
    // SAFETY: guaranteed by the caller.
    unsafe { std::ptr::copy_nonoverlapping(value.as_ptr(), addr as *mut u8, N) }
}

/// The bytes of memory at `addr..addr+len`, for writing an image in place.
///
/// # Safety
/// The range must be mapped writable, and nothing else may refer to it during `'a`.
pub unsafe fn bytes_mut<'a>(addr: usize, len: usize) -> &'a mut [u8] {
    // SAFETY: guaranteed by the caller.
    unsafe { std::slice::from_raw_parts_mut(addr as *mut u8, len) }
}

/// Read a native word at `addr` (unaligned reads allowed).
///
/// # Safety
/// `addr..addr+WORD` must be readable.
#[inline]
pub unsafe fn read_word(addr: usize) -> usize {
    // SAFETY: guaranteed by the caller.
    unsafe { std::ptr::read_unaligned(addr as *const usize) }
}

/// The public head of glibc's `struct link_map` (`<link.h>`): what the system loader's list of
/// objects and `dlinfo(RTLD_DI_LINKMAP)` show.
#[repr(C)]
#[derive(Debug)]
pub struct LinkMap {
    pub l_addr: usize,
    pub l_name: *const libc::c_char,
    pub l_ld: usize,
    pub l_next: *const LinkMap,
    pub l_prev: *const LinkMap,
}

/// glibc's `struct r_debug` (`<link.h>`), the head of the system loader's list of objects.
#[repr(C)]
pub struct RDebug {
    pub r_version: libc::c_int,
    pub r_map: *const LinkMap,
    pub r_brk: usize,
    pub r_state: libc::c_int,
    pub r_ldbase: usize,
}

/// The program headers `(address, count)` of an object whose ELF header is mapped at `base`, if
/// an ELF header of the native class is there.
///
/// # Safety
/// `base..base+size_of::<Ehdr>()` must be readable, and so must the program headers it names.
pub unsafe fn program_headers(base: usize) -> Option<(usize, usize)> {
    // SAFETY: the caller guarantees the header is readable; any bit pattern is a valid Ehdr.
    let h = unsafe { std::ptr::read_unaligned(base as *const Ehdr) };
    let elf = h.e_ident[..4] == *b"\x7fELF" && h.e_ident[4] == ELF_CLASS && h.e_phentsize as usize == std::mem::size_of::<Phdr>();
    elf.then(|| (base + h.e_phoff as usize, h.e_phnum as usize))
}

/// `Dl_serpath` (`<dlfcn.h>`).
#[repr(C)]
struct SerPath {
    name: *mut libc::c_char,
    flags: libc::c_uint,
}

/// The head of `Dl_serinfo` (`<dlfcn.h>`): its `dls_serpath` array follows.
#[repr(C)]
struct SerInfo {
    size: usize,
    cnt: libc::c_uint,
}

/// The bytes `Dl_serinfo` needs for `dirs` (entries, then their names).
pub fn serinfo_size(dirs: &[(Vec<u8>, u32)]) -> usize {
    std::mem::size_of::<SerInfo>() + dirs.len() * std::mem::size_of::<SerPath>() + dirs.iter().map(|(d, _)| d.len() + 1).sum::<usize>()
}

/// Fill the `Dl_serinfo` at `out` as `dlinfo(RTLD_DI_SERINFOSIZE)` does (`size_only`: the size
/// and count) or `dlinfo(RTLD_DI_SERINFO)` (the entries, their names after them).
///
/// # Safety
/// `out` points to a writable `Dl_serinfo`; unless `size_only`, one of the size and count that
/// `RTLD_DI_SERINFOSIZE` gave for the same `dirs`.
pub unsafe fn write_serinfo(out: *mut libc::c_void, dirs: &[(Vec<u8>, u32)], size_only: bool) {
    let head = out as *mut SerInfo;
    // SAFETY: the caller's contract.
    unsafe {
        if size_only {
            head.write(SerInfo { size: serinfo_size(dirs), cnt: dirs.len() as libc::c_uint });
            return;
        }
        let entries = (out as *mut u8).add(std::mem::size_of::<SerInfo>()) as *mut SerPath;
        let mut names = entries.add(dirs.len()) as *mut u8;
        for (i, (d, flags)) in dirs.iter().enumerate() {
            std::ptr::copy_nonoverlapping(d.as_ptr(), names, d.len());
            names.add(d.len()).write(0);
            entries.add(i).write(SerPath { name: names as *mut libc::c_char, flags: *flags });
            names = names.add(d.len() + 1);
        }
    }
}
