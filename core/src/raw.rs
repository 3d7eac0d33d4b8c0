//! All byte-casting of the core: the ELF records of the machine's own class, read in place
//! from an image in memory, and the bounds-checked views that hand them out.
//!
//! The records are those of the class `target_pointer_width` selects, with the same field names
//! in both (a field is as wide as the class makes it; [`Addr`] and [`Sword`] name those widths):
//! ELF64 ones are defined here, ELF32 ones are [`crate::elf32`]'s, which also decodes them from
//! bytes. Version records are the same in both classes. An image is read through [`Span`],
//! which checks every range once.

use alloc::vec::Vec;
use core::ffi::CStr;

/// The ELF class of objects for this machine: `ELFCLASS64`, or `ELFCLASS32` on 32-bit machines.
#[cfg(target_pointer_width = "64")]
pub const ELF_CLASS: u8 = 2;
#[cfg(target_pointer_width = "32")]
pub const ELF_CLASS: u8 = crate::elf32::ELFCLASS32;

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
pub const WORD: usize = core::mem::size_of::<usize>();

#[cfg(target_pointer_width = "32")]
pub use crate::elf32::{Dyn, Ehdr, Phdr, Rel, Rela, Sym};

/// `Elf64_Ehdr`.
#[cfg(target_pointer_width = "64")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Ehdr {
    pub e_ident: [u8; 16],
    pub e_type: u16,
    pub e_machine: u16,
    pub e_version: u32,
    pub e_entry: u64,
    pub e_phoff: u64,
    pub e_shoff: u64,
    pub e_flags: u32,
    pub e_ehsize: u16,
    pub e_phentsize: u16,
    pub e_phnum: u16,
    pub e_shentsize: u16,
    pub e_shnum: u16,
    pub e_shstrndx: u16,
}

/// `Elf64_Phdr` (`p_flags` comes second in ELF64).
#[cfg(target_pointer_width = "64")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Phdr {
    pub p_type: u32,
    pub p_flags: u32,
    pub p_offset: u64,
    pub p_vaddr: u64,
    pub p_paddr: u64,
    pub p_filesz: u64,
    pub p_memsz: u64,
    pub p_align: u64,
}

/// `Elf64_Sym`.
#[cfg(target_pointer_width = "64")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sym {
    pub st_name: u32,
    pub st_info: u8,
    pub st_other: u8,
    pub st_shndx: u16,
    pub st_value: u64,
    pub st_size: u64,
}

/// `Elf64_Rela`.
#[cfg(target_pointer_width = "64")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rela {
    pub r_offset: u64,
    pub r_info: u64,
    pub r_addend: i64,
}

/// `Elf64_Rel`: the addend is the value at the place (an in-place addend).
#[cfg(target_pointer_width = "64")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rel {
    pub r_offset: u64,
    pub r_info: u64,
}

/// `Elf64_Dyn`.
#[cfg(target_pointer_width = "64")]
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dyn {
    pub d_tag: i64,
    pub d_val: u64,
}

#[cfg(target_pointer_width = "64")]
crate::elf32::widening_accessors!(Sym, Rela, Dyn);

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
    #[inline]
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

/// `Elf64_Verdef` (the same in ELF32).
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
// SAFETY: all of these are repr(C) aggregates of integers (and arrays of them) without padding,
// or integers; the ELF32 ones are declared `repr(C)` in `elf32.rs` for this.
unsafe impl Pod for Ehdr {}
// SAFETY: as above.
unsafe impl Pod for Phdr {}
// SAFETY: as above.
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

/// The readable address ranges of an object in memory. Everything read out of an image in
/// memory is checked against one of these, so a table pointing into a gap between segments
/// (left inaccessible) or outside the object is an error, never a fault.
///
/// A `Span` is made only by [`Span::new`], whose caller vouches that the ranges are readable for
/// as long as anything read through it is used (the records it hands out are `'static`); the
/// empty span reads nothing.
#[derive(Clone, Debug, Default)]
pub struct Span {
    /// Disjoint `[lo, hi)` ranges.
    ranges: Vec<(usize, usize)>,
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
    /// A span over `ranges` (disjoint `[lo, hi)` address ranges).
    ///
    /// # Safety
    /// Every byte of every range must be readable memory, and stay so (unchanged where records
    /// read through the span are relied on) for as long as anything read through the span, or
    /// through a copy of it, is used.
    #[inline]
    pub unsafe fn new(ranges: Vec<(usize, usize)>) -> Span {
        Span { ranges }
    }

    /// The ranges, in the order they were given.
    #[inline]
    pub fn ranges(&self) -> &[(usize, usize)] {
        &self.ranges
    }

    /// `n` records of type `T` at `addr`, if they lie inside one range and are aligned.
    #[inline]
    pub fn slice<T: Pod>(&self, addr: usize, n: usize) -> Option<&'static [T]> {
        let bytes = n.checked_mul(core::mem::size_of::<T>())?;
        if !within(&self.ranges, addr, bytes) || !addr.is_multiple_of(core::mem::align_of::<T>()) {
            return None;
        }
        // SAFETY: the range is inside a readable mapping of the object (the span's invariant),
        // aligned, and `T` is valid for any bit pattern. The 'static lifetime is the caller's
        // contract: the object outlives every use (it is unmapped only after it is unreachable).
        Some(unsafe { core::slice::from_raw_parts(addr as *const T, n) })
    }

    /// One record at `addr`.
    #[inline]
    pub fn get<T: Pod>(&self, addr: usize) -> Option<&'static T> {
        self.slice::<T>(addr, 1).map(|s| &s[0])
    }

    /// The range `addr` lies in; an address at the end of one range and the start of the next
    /// lies in the next, and one only at the end of a range in none.
    #[inline]
    pub fn range_of(&self, addr: usize) -> Option<(usize, usize)> {
        self.ranges.iter().find(|&&(lo, hi)| addr >= lo && addr < hi).copied()
    }

    /// The bytes from `addr` to the end of its range, for tables whose length is found by walking.
    /// (An address where one range ends and the next begins belongs to the next.)
    #[inline]
    pub fn rest(&self, addr: usize) -> Option<&'static [u8]> {
        // SAFETY: a span's ranges are readable for as long as what is read through it is used
        // (the contract of `Span::new`).
        unsafe { rest_in(&self.ranges, addr) }
    }

    /// Bytes available from `addr` to the end of its range (0 when outside).
    #[inline]
    pub fn room(&self, addr: usize) -> usize {
        self.range_of(addr).map_or(0, |(_, hi)| hi - addr)
    }
}

/// [`Span::rest`] over readable ranges kept without a `Span` (where nothing may be allocated:
/// the unwinder's `_dl_find_object`, once per frame).
///
/// # Safety
/// `ranges` must satisfy the contract of [`Span::new`] (a copy of a span's ranges does).
#[inline]
pub unsafe fn rest_in(ranges: &[(usize, usize)], addr: usize) -> Option<&'static [u8]> {
    let &(_, hi) = ranges.iter().find(|&&(lo, hi)| addr >= lo && addr < hi)?;
    // SAFETY: `ranges` are readable ranges of an object in memory (a span's, whose invariant and
    // lifetime contract are those of [`Span::slice`]), and `addr..hi` lies inside one.
    Some(unsafe { core::slice::from_raw_parts(addr as *const u8, hi - addr) })
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

    /// Whether a name (a NUL-terminated string of at least one byte) starts at `off`: its first
    /// byte, and the table's last one (a NUL there ends every string) tell, without finding
    /// its end.
    #[inline]
    pub fn has_name(&self, off: u32) -> bool {
        match self.0.get(off as usize..) {
            Some(tail) if tail.first().is_some_and(|&b| b != 0) => self.0.last() == Some(&0) || tail.contains(&0),
            _ => false,
        }
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

/// The little-endian integer of the `len` bytes (at most 8) at `at` of `bytes`, if they are all
/// there: the one reader of byte-encoded fields (object files, unwind tables, images in
/// memory) that are not read as records.
#[inline]
pub fn le(bytes: &[u8], at: usize, len: usize) -> Option<u64> {
    let field = bytes.get(at..at.checked_add(len)?)?;
    match *field {
        [a, b, c, d] => Some(u32::from_le_bytes([a, b, c, d]) as u64),
        [a, b, c, d, e, f, g, h] => Some(u64::from_le_bytes([a, b, c, d, e, f, g, h])),
        _ if len <= 8 => Some(field.iter().rev().fold(0, |v, &x| v << 8 | u64::from(x))),
        _ => None,
    }
}

/// The little-endian `u32` at `at` of `bytes` (see [`le`]).
#[inline]
pub fn le_u32(bytes: &[u8], at: usize) -> Option<u32> {
    le(bytes, at, 4).map(|v| v as u32)
}

/// The little-endian `u64` at `at` of `bytes` (see [`le`]).
#[inline]
pub fn le_u64(bytes: &[u8], at: usize) -> Option<u64> {
    le(bytes, at, 8)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn little_endian_fields() {
        let b = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09];
        assert_eq!(le(&b, 0, 2), Some(0x0201));
        assert_eq!(le_u32(&b, 1), Some(0x0504_0302));
        assert_eq!(le_u64(&b, 1), Some(0x0908_0706_0504_0302));
        assert_eq!(le(&b, 6, 3), Some(0x09_0807));
        assert_eq!(le_u32(&b, 6), None, "past the end");
        assert_eq!(le(&b, usize::MAX, 4), None, "offset overflows");
        assert_eq!(le(&b, 0, 9), None, "wider than 8 bytes");
    }

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

    #[test]
    fn records_have_the_sizes_of_their_class() {
        use core::mem::size_of;
        let sizes = [size_of::<Ehdr>(), size_of::<Phdr>(), size_of::<Sym>(), size_of::<Rela>(), size_of::<Rel>(), size_of::<Dyn>()];
        #[cfg(target_pointer_width = "64")]
        assert_eq!(sizes, [64, 56, 24, 24, 16, 16]);
        #[cfg(target_pointer_width = "32")]
        assert_eq!(sizes, [52, 32, 16, 12, 8, 8]);
        assert_eq!([size_of::<Verdef>(), size_of::<Verdaux>(), size_of::<Verneed>(), size_of::<Vernaux>()], [20, 8, 16, 16]);
    }

    #[test]
    fn strings_compare_by_words() {
        let t = StrTab(b"\0abc\0abcdefgh\0abcdefghijk\0");
        assert_eq!(t.get(1), Some(&b"abc"[..]));
        assert_eq!(t.get_cstr(5).map(CStr::to_bytes), Some(&b"abcdefgh"[..]));
        assert!(t.eq(1, b"abc") && t.eq(5, b"abcdefgh") && t.eq(14, b"abcdefghijk"));
        assert!(!t.eq(1, b"ab") && !t.eq(5, b"abcdefgi") && !t.eq(14, b"abcdefghij") && !t.eq(25, b"x"));
        assert_eq!(t.get(26), None);
    }

    #[test]
    fn names_are_told_by_their_first_byte_and_a_terminator() {
        let t = StrTab(b"\0abc\0abcdefgh\0");
        assert!(t.has_name(1) && t.has_name(3) && t.has_name(5));
        assert!(!t.has_name(0) && !t.has_name(4) && !t.has_name(14) && !t.has_name(15) && !t.has_name(u32::MAX));
        // A table whose last string is not terminated: that one is no name, the others are.
        let t = StrTab(b"\0abc\0abc");
        assert!(t.has_name(1) && !t.has_name(5) && !t.has_name(7));
        for off in 0..12 {
            assert_eq!(t.has_name(off), t.get(off).is_some_and(|s| !s.is_empty()), "offset {off}");
        }
    }
}
