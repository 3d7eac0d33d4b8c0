//! All byte-casting lives here: the in-memory ELF records (of the machine's own class) the loader reads from mapped images,
//! and the bounds-checked views that hand them out.
//!
//! The `elf` crate parses headers from bytes; once an image is mapped, the dynamic linker reads its
//! tables in place (as every loader does), through [`Span`], which checks every range once.

use std::ffi::CStr;

// The records of the native ELF class: ELF64 on 64-bit machines, ELF32 on 32-bit ones, with
// the same field names (a field is as wide as the class makes it; `Word`, `Addr` and `Sword`
// name those widths). Version records are the same in both classes.

/// The ELF class of objects for this machine: `ELFCLASS64`, or `ELFCLASS32` on 32-bit machines.
#[cfg(target_pointer_width = "64")]
pub const ELF_CLASS: u8 = 2;
#[cfg(target_pointer_width = "32")]
pub const ELF_CLASS: u8 = 1;

/// A native-class address or size (`ElfN_Addr`, `ElfN_Xword`/`ElfN_Word`).
#[cfg(target_pointer_width = "64")]
pub type Addr = u64;
#[cfg(target_pointer_width = "32")]
pub type Addr = u32;
/// A native-class signed word (`d_tag`, `r_addend`).
#[cfg(target_pointer_width = "64")]
pub type Sword = i64;
#[cfg(target_pointer_width = "32")]
pub type Sword = i32;

/// Bytes of a native word (an address, a GOT entry).
pub const WORD: usize = std::mem::size_of::<usize>();

/// `ElfN_Ehdr` and `ElfN_Phdr` of the native class.
#[cfg(target_pointer_width = "64")]
pub type Ehdr = libc::Elf64_Ehdr;
#[cfg(target_pointer_width = "64")]
pub type Phdr = libc::Elf64_Phdr;
#[cfg(target_pointer_width = "32")]
pub type Ehdr = libc::Elf32_Ehdr;
#[cfg(target_pointer_width = "32")]
pub type Phdr = libc::Elf32_Phdr;

/// `Elf64_Sym`.
#[cfg(target_pointer_width = "64")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Sym {
    pub st_name: u32,
    pub st_info: u8,
    pub st_other: u8,
    pub st_shndx: u16,
    pub st_value: u64,
    pub st_size: u64,
}

/// `Elf32_Sym` (the value and size come before the info bytes).
#[cfg(target_pointer_width = "32")]
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Sym {
    pub st_name: u32,
    pub st_value: u32,
    pub st_size: u32,
    pub st_info: u8,
    pub st_other: u8,
    pub st_shndx: u16,
}

// Widening accessors: the same code reads both classes (the casts are no-ops in ELF64).
#[allow(clippy::unnecessary_cast)]
impl Sym {
    /// `st_value`, widened to 64 bits.
    pub fn value(&self) -> u64 {
        self.st_value as u64
    }
    /// `st_size`, widened to 64 bits.
    pub fn size(&self) -> u64 {
        self.st_size as u64
    }
    pub fn bind(&self) -> u8 {
        self.st_info >> 4
    }
    pub fn kind(&self) -> u8 {
        self.st_info & 0xf
    }
}

/// `ElfN_Rela`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Rela {
    pub r_offset: Addr,
    pub r_info: Addr,
    pub r_addend: Sword,
}

#[allow(clippy::unnecessary_cast)]
impl Rela {
    /// `r_addend`, sign-extended to 64 bits.
    pub fn addend(&self) -> i64 {
        self.r_addend as i64
    }
}

/// `ElfN_Rel`: the addend is the value at the place (an in-place addend).
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Rel {
    pub r_offset: Addr,
    pub r_info: Addr,
}

/// The symbol index and the type of an `r_info` word: split 32/32 in ELF64, 24/8 in ELF32.
#[cfg(target_pointer_width = "64")]
#[inline]
fn info_parts(info: Addr) -> (u32, u32) {
    ((info >> 32) as u32, info as u32)
}
#[cfg(target_pointer_width = "32")]
#[inline]
fn info_parts(info: Addr) -> (u32, u32) {
    (info >> 8, info & 0xff)
}

/// A record of a dynamic relocation table, RELA or REL.
pub trait Reloc: Pod {
    fn offset(&self) -> Addr;
    fn info(&self) -> Addr;
    /// The addend, when the record holds it (RELA); a REL record's is at the place.
    fn explicit_addend(&self) -> Option<Sword>;
    fn sym(&self) -> u32 {
        info_parts(self.info()).0
    }
    fn kind(&self) -> u32 {
        info_parts(self.info()).1
    }
    /// The record as a RELA one with addend `a`.
    fn with_addend(&self, a: Sword) -> Rela {
        Rela { r_offset: self.offset(), r_info: self.info(), r_addend: a }
    }
}

impl Reloc for Rela {
    #[inline]
    fn offset(&self) -> Addr {
        self.r_offset
    }
    #[inline]
    fn info(&self) -> Addr {
        self.r_info
    }
    #[inline]
    fn explicit_addend(&self) -> Option<Sword> {
        Some(self.r_addend)
    }
}

impl Reloc for Rel {
    #[inline]
    fn offset(&self) -> Addr {
        self.r_offset
    }
    #[inline]
    fn info(&self) -> Addr {
        self.r_info
    }
    #[inline]
    fn explicit_addend(&self) -> Option<Sword> {
        None
    }
}

/// `ElfN_Dyn`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Dyn {
    pub d_tag: Sword,
    pub d_val: Addr,
}

#[allow(clippy::unnecessary_cast)]
impl Dyn {
    /// `d_tag`, sign-extended to 64 bits (as the `DT_*` constants are).
    pub fn tag(&self) -> i64 {
        self.d_tag as i64
    }
    /// `d_val`, widened to 64 bits.
    pub fn val(&self) -> u64 {
        self.d_val as u64
    }
}

/// `Elf64_Verdef`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Verdef {
    pub vd_version: u16,
    pub vd_flags: u16,
    pub vd_ndx: u16,
    pub vd_cnt: u16,
    pub vd_hash: u32,
    pub vd_aux: u32,
    pub vd_next: u32,
}

/// `Elf64_Verdaux`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Verdaux {
    pub vda_name: u32,
    pub vda_next: u32,
}

/// `Elf64_Verneed`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Verneed {
    pub vn_version: u16,
    pub vn_cnt: u16,
    pub vn_file: u32,
    pub vn_aux: u32,
    pub vn_next: u32,
}

/// `Elf64_Vernaux`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct Vernaux {
    pub vna_hash: u32,
    pub vna_flags: u16,
    pub vna_other: u16,
    pub vna_name: u32,
    pub vna_next: u32,
}

/// Marker for plain-old-data records that any bit pattern makes valid.
///
/// # Safety
/// Implementors must be `repr(C)` structs of integers (or integers) with no padding invariants.
pub unsafe trait Pod: Copy {}
// SAFETY: all of these are repr(C) aggregates of integers, or integers.
unsafe impl Pod for Sym {}
// SAFETY: as above.
unsafe impl Pod for Rela {}
// SAFETY: as above.
unsafe impl Pod for Rel {}
// SAFETY: as above.
unsafe impl Pod for Dyn {}
// SAFETY: as above.
unsafe impl Pod for Verdef {}
// SAFETY: as above.
unsafe impl Pod for Verdaux {}
// SAFETY: as above.
unsafe impl Pod for Verneed {}
// SAFETY: as above.
unsafe impl Pod for Vernaux {}
// SAFETY: integers.
unsafe impl Pod for u8 {}
// SAFETY: integers.
unsafe impl Pod for u16 {}
// SAFETY: integers.
unsafe impl Pod for u32 {}
// SAFETY: integers.
unsafe impl Pod for u64 {}
// SAFETY: integers.
unsafe impl Pod for usize {}

/// The readable address ranges of a mapped object. Everything the loader reads out of an image
/// in memory is checked against one of these, so a table pointing into a gap between segments
/// (left inaccessible) or outside the object is an error, never a fault.
#[derive(Clone, Debug, Default)]
pub struct Span {
    /// Disjoint `[lo, hi)` ranges.
    pub ranges: Vec<(usize, usize)>,
}

/// Whether `[addr, addr + len)` lies inside the range `[lo, hi)`. The end is computed with
/// checked arithmetic: a range that wraps around the address space lies in no range.
#[inline]
pub fn range_holds((lo, hi): (usize, usize), addr: usize, len: usize) -> bool {
    addr >= lo && addr.checked_add(len).is_some_and(|end| end <= hi)
}

/// Whether `[addr, addr + len)` lies inside one of `ranges`.
#[inline]
pub fn within(ranges: &[(usize, usize)], addr: usize, len: usize) -> bool {
    ranges.iter().any(|&r| range_holds(r, addr, len))
}

impl Span {
    /// `n` records of type `T` at `addr`, if they lie inside one range and are aligned.
    pub fn slice<T: Pod>(&self, addr: usize, n: usize) -> Option<&'static [T]> {
        let bytes = n.checked_mul(std::mem::size_of::<T>())?;
        if !within(&self.ranges, addr, bytes) || !addr.is_multiple_of(std::mem::align_of::<T>()) {
            return None;
        }
        // SAFETY: the range is inside a readable mapping of the object (the span's invariant),
        // aligned, and `T` is valid for any bit pattern. The 'static lifetime is the caller's
        // contract: the object outlives every use (it is unmapped only after it is unreachable).
        Some(unsafe { std::slice::from_raw_parts(addr as *const T, n) })
    }

    /// One record at `addr`.
    pub fn get<T: Pod>(&self, addr: usize) -> Option<&'static T> {
        self.slice::<T>(addr, 1).map(|s| &s[0])
    }

    /// The range `addr` lies in; an address at the end of one range and the start of the next
    /// lies in the next, and one only at the end of a range in none.
    pub fn range_of(&self, addr: usize) -> Option<(usize, usize)> {
        self.ranges.iter().find(|&&(lo, hi)| addr >= lo && addr < hi).copied()
    }

    /// The bytes from `addr` to the end of its range, for tables whose length is found by walking.
    /// (An address where one range ends and the next begins belongs to the next.)
    pub fn rest(&self, addr: usize) -> Option<&'static [u8]> {
        rest_in(&self.ranges, addr)
    }

    /// Bytes available from `addr` to the end of its range (0 when outside).
    pub fn room(&self, addr: usize) -> usize {
        self.range_of(addr).map_or(0, |(_, hi)| hi - addr)
    }
}

/// [`Span::rest`] over readable ranges kept without a `Span` (where nothing may be allocated:
/// the unwinder's `_dl_find_object`, once per frame).
pub fn rest_in(ranges: &[(usize, usize)], addr: usize) -> Option<&'static [u8]> {
    let &(_, hi) = ranges.iter().find(|&&(lo, hi)| addr >= lo && addr < hi)?;
    // SAFETY: `ranges` are readable ranges of a mapped object (a span's, whose invariant and
    // lifetime contract are those of [`Span::slice`]), and `addr..hi` lies inside one.
    Some(unsafe { std::slice::from_raw_parts(addr as *const u8, hi - addr) })
}

/// A string table: its bytes, bounds-checked on every access.
#[derive(Clone, Copy, Debug)]
pub struct StrTab(pub &'static [u8]);

impl StrTab {
    /// The NUL-terminated string at `off`, without its NUL.
    #[inline]
    pub fn get(&self, off: u32) -> Option<&'static [u8]> {
        let tail = self.0.get(off as usize..)?;
        let n = tail.iter().position(|&b| b == 0)?;
        Some(&tail[..n])
    }

    /// The NUL-terminated string at `off`, as a C string.
    pub fn get_cstr(&self, off: u32) -> Option<&'static CStr> {
        let tail = self.0.get(off as usize..)?;
        CStr::from_bytes_until_nul(tail).ok()
    }

    /// Whether the string at `off` equals `name` (cheaper than `get` for a miss), compared
    /// 8 bytes at a time.
    #[inline]
    pub fn eq(&self, off: u32, name: &[u8]) -> bool {
        let off = off as usize;
        let Some(s) = self.0.get(off..off + name.len() + 1) else { return false };
        let (s, nul) = s.split_at(name.len());
        if nul[0] != 0 {
            return false;
        }
        let n = name.len();
        if n < 8 {
            return short_word(s) == short_word(name);
        }
        let word = |b: &[u8], at: usize| u64::from_le_bytes(b[at..at + 8].try_into().unwrap_or_default());
        // Whole words, then the last 8 bytes (overlapping the last word).
        let mut at = 0;
        while at + 8 <= n {
            if word(s, at) != word(name, at) {
                return false;
            }
            at += 8;
        }
        word(s, n - 8) == word(name, n - 8)
    }
}

/// A name of fewer than 8 bytes as a word: its first and last 4 bytes (which overlap below 8)
/// or, below 4, its bytes.
#[inline(always)]
pub fn short_word(name: &[u8]) -> u64 {
    let n = name.len();
    if n >= 4 {
        let half = |at: usize| u32::from_le_bytes(name[at..at + 4].try_into().unwrap_or_default()) as u64;
        half(0) | half(n - 4) << 32
    } else {
        name.iter().rev().fold(0, |t, &b| t << 8 | b as u64)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_never_wrap() {
        let r = (0x1000, 0x2000);
        assert!(range_holds(r, 0x1000, 0x1000));
        assert!(!range_holds(r, 0x1ff9, 8));
        assert!(!range_holds(r, usize::MAX - 3, 8), "an end past the address space wraps to a small value");
        assert!(!within(&[(0, usize::MAX)], usize::MAX - 3, 8));
        assert!(within(&[(0x3000, 0x4000), r], 0x1ff8, 8));
    }

    #[test]
    fn rest_at_a_boundary_belongs_to_the_next_range() {
        let buf = vec![7u8; 0x100];
        let base = buf.as_ptr() as usize;
        let span = Span { ranges: vec![(base, base + 0x80), (base + 0x80, base + 0x100)] };
        assert_eq!(span.rest(base + 0x80).map(<[u8]>::len), Some(0x80));
        assert_eq!(span.room(base + 0x80), 0x80);
        assert_eq!(span.rest(base + 0x100), None);
    }
}
