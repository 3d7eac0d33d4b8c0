//! Validation of an ELF image's file header and program headers before anything is mapped, and
//! the dynamic section once the image is in memory ([`DynInfo`]).
//!
//! Images are of the machine's own class (as [`crate::raw`]'s records); the machine they must
//! be built for is the caller's [`Machine`]. Errors are messages naming what is wrong; the
//! caller adds the file's name.

use crate::raw::{self, Dyn, Span};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use elf::abi;
use elf::endian::LittleEndian;
use elf::file::{Class, FileHeader};
use elf::segment::ProgramHeader;

/// Tags the `elf` crate does not name yet.
const DT_RELRSZ: i64 = 35;
const DT_RELR: i64 = 36;
const DT_RELRENT: i64 = 37;

/// The native ELF class (ELF64, or ELF32 on 32-bit machines), for the `elf` crate's parsers.
pub const CLASS: Class = if raw::ELF_CLASS == 2 { Class::ELF64 } else { Class::ELF32 };
/// Size of a file header of the native class.
pub const EHDR_SIZE: usize = core::mem::size_of::<raw::Ehdr>();
pub const PHDR_SIZE: usize = core::mem::size_of::<raw::Phdr>();
/// Size of a section header of the native class.
pub const SHDR_SIZE: usize = if raw::WORD == 8 { 64 } else { 40 };
/// Size of a symbol of the native class.
const SYM_SIZE: u64 = core::mem::size_of::<raw::Sym>() as u64;
/// Sizes of a RELA and a REL record.
const RELA_SIZE: usize = core::mem::size_of::<raw::Rela>();
const REL_SIZE: usize = core::mem::size_of::<raw::Rel>();
/// The largest address span relink agrees to reserve for one object.
const MAX_SPAN: u64 = 1 << 40;
/// The first EI_ABIVERSION glibc refuses for ELFOSABI_GNU objects (its LIBC_ABI_MAX).
const GNU_ABI_MAX: u8 = 4;

/// What the headers say about an image, checked against the image's length.
#[derive(Debug)]
pub struct Layout {
    pub loads: Vec<ProgramHeader>,
    pub dynamic: Option<ProgramHeader>,
    pub relro: Option<ProgramHeader>,
    pub tls: Option<ProgramHeader>,
    pub eh_frame_hdr: Option<ProgramHeader>,
    pub phdrs: Vec<ProgramHeader>,
    /// Link-time address of the program headers in memory, if a load segment covers them.
    pub phdr_vaddr: Option<u64>,
    /// Page-aligned link-time span `[lo, hi)` of all load segments.
    pub lo: u64,
    pub hi: u64,
    /// The largest segment alignment (at least a page).
    pub align: u64,
    /// File offset and count of the section headers, when the file header declares them.
    pub shdrs: Option<(u64, usize)>,
}

/// What the file header says about the image.
pub struct Header {
    pub phoff: u64,
    pub phnum: usize,
    /// File offset and count of the section headers (the loader does not need them; they
    /// may be absent or wrong).
    pub shdrs: Option<(u64, usize)>,
}

/// The machine images must be built for.
#[derive(Clone, Copy, Debug)]
pub struct Machine {
    /// `e_machine`.
    pub e_machine: u16,
    /// Its name, for messages.
    pub name: &'static str,
    /// Why `e_flags` make an object unusable on it (an ABI the machine's loader refuses), if they do.
    pub flags_mismatch: fn(u32) -> Option<&'static str>,
}

impl Machine {
    /// The machine the core is compiled for ([`crate::arch::native`]).
    pub const fn native() -> Machine {
        use crate::arch::native;
        Machine { e_machine: native::ELF_MACHINE, name: native::NAME, flags_mismatch: native::flags_mismatch }
    }
}

fn machine_name(m: u16) -> &'static str {
    match m {
        abi::EM_X86_64 => "x86_64",
        abi::EM_386 => "i386",
        abi::EM_ARM => "arm",
        abi::EM_AARCH64 => "aarch64",
        abi::EM_RISCV => "riscv",
        abi::EM_PPC64 => "ppc64",
        abi::EM_S390 => "s390",
        _ => "another machine",
    }
}

/// Why a file header was refused.
#[derive(Debug)]
pub enum HeaderError {
    /// An object of the other ELF class (the system loader words this case its own way).
    WrongClass,
    Other(String),
}

impl From<String> for HeaderError {
    fn from(s: String) -> Self {
        HeaderError::Other(s)
    }
}

impl From<&str> for HeaderError {
    fn from(s: &str) -> Self {
        HeaderError::Other(s.to_string())
    }
}

/// Validate what every ELF file for `machine` shares, whatever its type: magic, class, data
/// encoding, machine (`ident` holds at least its first [`EHDR_SIZE`] bytes, or the whole file
/// when shorter).
pub fn file_header(ident: &[u8], machine: &Machine) -> Result<FileHeader<LittleEndian>, HeaderError> {
    if ident.len() < 4 || &ident[..4] != b"\x7fELF" {
        return Err("not an ELF file (bad magic)".into());
    }
    if ident.len() < EHDR_SIZE {
        return Err(format!("truncated ELF file ({} bytes)", ident.len()).into());
    }
    let id = elf::file::parse_ident::<LittleEndian>(ident).map_err(|e| match e {
        elf::ParseError::UnsupportedElfEndianness(_) => "big-endian ELF files are not supported".to_string(),
        e => format!("bad ELF identification: {e}"),
    })?;
    if id.1 != CLASS {
        return Err(HeaderError::WrongClass);
    }
    // The OS ABIs and ABI versions glibc accepts on Linux: System V, or GNU with an ABI version
    // below its LIBC_ABI_MAX (unique symbols, IFUNCs, absolute symbols); the rest of e_ident is
    // padding that must be zero.
    let (osabi, abiversion) = (id.2, id.3);
    if osabi != abi::ELFOSABI_NONE && osabi != abi::ELFOSABI_GNU {
        return Err(format!("unsupported OS ABI (EI_OSABI {osabi})").into());
    }
    if abiversion != 0 && (osabi != abi::ELFOSABI_GNU || abiversion >= GNU_ABI_MAX) {
        return Err(format!("unsupported ABI version (EI_ABIVERSION {abiversion} for EI_OSABI {osabi})").into());
    }
    if ident[abi::EI_ABIVERSION + 1..abi::EI_NIDENT].iter().any(|&b| b != 0) {
        return Err("nonzero padding in e_ident".into());
    }
    let h: FileHeader<LittleEndian> = FileHeader::parse_tail(id, &ident[abi::EI_NIDENT..EHDR_SIZE])
        .map_err(|e| format!("bad ELF header: {e}"))?;
    if h.version != abi::EV_CURRENT as u32 {
        return Err(format!("unsupported ELF version {} in e_version", h.version).into());
    }
    if h.e_machine != machine.e_machine {
        return Err(format!("built for {} (e_machine {}), not {}", machine_name(h.e_machine), h.e_machine, machine.name).into());
    }
    if let Some(why) = (machine.flags_mismatch)(h.e_flags) {
        return Err(format!("{why} (e_flags {:#x})", h.e_flags).into());
    }
    Ok(h)
}

/// Validate the file header of a shared object for `machine` (`ident` holds at least its first
/// [`EHDR_SIZE`] bytes, or the whole image when shorter).
pub fn check_header(ident: &[u8], image_len: u64, machine: &Machine) -> Result<Header, HeaderError> {
    let h = file_header(ident, machine)?;
    match h.e_type {
        abi::ET_DYN => {}
        abi::ET_EXEC => return Err("is an executable (ET_EXEC), not a shared library".into()),
        abi::ET_REL => return Err("is a relocatable object (ET_REL); loading .o files is not supported yet".into()),
        t => return Err(format!("unsupported ELF type {t}").into()),
    }
    if h.e_phnum == 0 {
        return Err("no program headers".into());
    }
    if h.e_phentsize as usize != PHDR_SIZE {
        return Err(format!("bad program header size {}", h.e_phentsize).into());
    }
    let end = (h.e_phnum as u64)
        .checked_mul(PHDR_SIZE as u64)
        .and_then(|n| n.checked_add(h.e_phoff))
        .ok_or("program header table overflows")?;
    if end > image_len {
        return Err(format!("program header table (ends at {end:#x}) lies past the end of the image ({image_len:#x})").into());
    }
    let shdrs = (h.e_shoff != 0 && h.e_shnum != 0 && h.e_shentsize as usize == SHDR_SIZE)
        .then_some((h.e_shoff, h.e_shnum as usize));
    Ok(Header { phoff: h.e_phoff, phnum: h.e_phnum as usize, shdrs })
}

/// The number of entries of the dynamic symbol table at link-time address `symtab`, as the
/// section headers (`raw`, the table's bytes) describe it, if one of them does.
pub fn dynsym_count(raw: &[u8], symtab: u64) -> Option<usize> {
    let table: elf::section::SectionHeaderTable<LittleEndian> =
        elf::parse::ParsingTable::new(LittleEndian, CLASS, raw);
    table
        .iter()
        .find(|s| s.sh_type == abi::SHT_DYNSYM && s.sh_addr == symtab && s.sh_entsize == SYM_SIZE)
        .map(|s| (s.sh_size / SYM_SIZE) as usize)
}

/// Validate the program headers (`raw` is the table's bytes) against an image of `image_len` bytes.
pub fn check_segments(raw: &[u8], phoff: u64, image_len: u64, page: u64) -> Result<Layout, String> {
    let table: elf::segment::SegmentTable<LittleEndian> =
        elf::parse::ParsingTable::new(LittleEndian, CLASS, raw);
    let phdrs: Vec<ProgramHeader> = table.iter().collect();
    let mut l = Layout {
        loads: Vec::new(),
        dynamic: None,
        relro: None,
        tls: None,
        eh_frame_hdr: None,
        phdrs: phdrs.clone(),
        phdr_vaddr: None,
        lo: u64::MAX,
        hi: 0,
        align: page,
        shdrs: None,
    };
    for ph in &phdrs {
        match ph.p_type {
            abi::PT_LOAD => {
                if ph.p_memsz == 0 {
                    continue;
                }
                let file_end = ph.p_offset.checked_add(ph.p_filesz).ok_or("segment offset overflows")?;
                if file_end > image_len {
                    return Err(format!(
                        "segment at offset {:#x} (+{:#x}) lies past the end of the image ({image_len:#x} bytes)",
                        ph.p_offset, ph.p_filesz
                    ));
                }
                if ph.p_filesz > ph.p_memsz {
                    return Err("segment file size exceeds its memory size".into());
                }
                if ph.p_align > 1 && !ph.p_align.is_power_of_two() {
                    return Err(format!("segment alignment {:#x} is not a power of two", ph.p_align));
                }
                if ph.p_vaddr % page != ph.p_offset % page {
                    return Err("segment address and file offset disagree modulo the page size".into());
                }
                let end = ph.p_vaddr.checked_add(ph.p_memsz).ok_or("segment address overflows")?;
                if let Some(prev) = l.loads.last() {
                    // Each segment gets pages of its own (protections are per page); no linker
                    // makes segments share one.
                    let prev_end = (prev.p_vaddr + prev.p_memsz).checked_add(page - 1).ok_or("segment address overflows")?;
                    if prev_end & !(page - 1) > ph.p_vaddr & !(page - 1) {
                        return Err("load segments overlap, share a page, or are not in address order".into());
                    }
                }
                l.lo = l.lo.min(ph.p_vaddr & !(page - 1));
                l.hi = l.hi.max(end.checked_add(page - 1).ok_or("segment address overflows")? & !(page - 1));
                l.align = l.align.max(ph.p_align);
                l.loads.push(*ph);
            }
            abi::PT_DYNAMIC => l.dynamic = Some(*ph),
            abi::PT_GNU_RELRO => l.relro = Some(*ph),
            abi::PT_TLS => l.tls = Some(*ph),
            abi::PT_GNU_EH_FRAME => l.eh_frame_hdr = Some(*ph),
            abi::PT_INTERP => return Err("is an executable (it has PT_INTERP), not a shared library".into()),
            abi::PT_GNU_STACK if ph.p_flags & abi::PF_X != 0 => {
                return Err("asks for an executable stack (PT_GNU_STACK with PF_X), which relink refuses".into())
            }
            _ => {}
        }
    }
    if l.loads.is_empty() {
        return Err("no loadable segments".into());
    }
    if l.hi - l.lo > MAX_SPAN {
        return Err(format!("address span {:#x} is too large", l.hi - l.lo));
    }
    if l.dynamic.is_none() {
        return Err("no dynamic section (PT_DYNAMIC)".into());
    }
    // Where the program headers sit in memory, for dl_iterate_phdr-style introspection.
    l.phdr_vaddr = l.phdrs.iter().find(|p| p.p_type == abi::PT_PHDR).map(|p| p.p_vaddr).or_else(|| {
        l.loads
            .iter()
            .find(|p| phoff >= p.p_offset && phoff + raw.len() as u64 <= p.p_offset + p.p_filesz)
            .map(|p| p.p_vaddr + (phoff - p.p_offset))
    });
    Ok(l)
}

/// What relink needs from a dynamic section. Addresses are runtime addresses.
#[derive(Debug, Default, Clone)]
pub struct DynInfo {
    pub strtab: usize,
    pub strsz: usize,
    pub symtab: usize,
    pub hash: Option<usize>,
    pub gnu_hash: Option<usize>,
    pub versym: Option<usize>,
    pub verdef: Option<usize>,
    pub verdefnum: usize,
    pub verneed: Option<usize>,
    pub verneednum: usize,
    pub rela: Option<(usize, usize)>,
    /// DT_REL: relocations whose addend is at the place.
    pub rel: Option<(usize, usize)>,
    /// DT_JMPREL, of RELA records when `pltrel_is_rela`, else of REL records.
    pub jmprel: Option<(usize, usize)>,
    pub pltrel_is_rela: bool,
    pub pltgot: Option<usize>,
    pub relr: Option<(usize, usize)>,
    pub init: Option<usize>,
    pub init_array: Option<(usize, usize)>,
    pub fini: Option<usize>,
    pub fini_array: Option<(usize, usize)>,
    pub needed: Vec<u32>,
    pub soname: Option<u32>,
    pub rpath: Option<u32>,
    pub runpath: Option<u32>,
    pub flags: u64,
    pub flags_1: u64,
    pub textrel: bool,
    pub symbolic: bool,
    /// DT_RELACOUNT and DT_RELCOUNT: how many records at the start of DT_RELA and DT_REL the
    /// linker says are RELATIVE ones. A hint for scans that look for other types; relocation
    /// reads every record anyway, so a wrong count is caught there.
    pub relacount: usize,
    pub relcount: usize,
}

impl DynInfo {
    /// DF_BIND_NOW / DF_1_NOW: the object asks to be bound at load.
    pub fn bind_now(&self) -> bool {
        self.flags & abi::DF_BIND_NOW as u64 != 0 || self.flags_1 & abi::DF_1_NOW as u64 != 0
    }
    pub fn nodelete(&self) -> bool {
        self.flags_1 & abi::DF_1_NODELETE as u64 != 0
    }

    /// Read the dynamic section at `addr` (runtime address) inside `span`. `fix` turns a d_ptr
    /// value into a runtime address (objects relink maps add the bias; the host's objects
    /// were already adjusted in place by the system loader).
    pub fn read(span: &Span, addr: usize, max: usize, fix: impl Fn(u64) -> usize) -> Result<DynInfo, String> {
        let all = span.slice::<Dyn>(addr, max.min(span.room(addr) / core::mem::size_of::<Dyn>()))
            .ok_or("dynamic section out of bounds")?;
        let mut d = DynInfo::default();
        let (mut rela, mut relasz, mut jmprel, mut pltrelsz, mut relr, mut relrsz) = (None, 0, None, 0, None, 0);
        let (mut rel, mut relsz) = (None, 0);
        let (mut ia, mut iasz, mut fa, mut fasz) = (None, 0, None, 0);
        let (mut strtab, mut symtab) = (None, None);
        for e in all {
            let v = e.val();
            match e.tag() {
                abi::DT_NULL => break,
                abi::DT_NEEDED => d.needed.push(v as u32),
                abi::DT_STRTAB => strtab = Some(fix(v)),
                abi::DT_STRSZ => d.strsz = v as usize,
                abi::DT_SYMTAB => symtab = Some(fix(v)),
                abi::DT_SYMENT if v != SYM_SIZE => return Err(format!("bad symbol entry size {v}")),
                abi::DT_HASH => d.hash = Some(fix(v)),
                abi::DT_GNU_HASH => d.gnu_hash = Some(fix(v)),
                abi::DT_VERSYM => d.versym = Some(fix(v)),
                abi::DT_VERDEF => d.verdef = Some(fix(v)),
                abi::DT_VERDEFNUM => d.verdefnum = v as usize,
                abi::DT_VERNEED => d.verneed = Some(fix(v)),
                abi::DT_VERNEEDNUM => d.verneednum = v as usize,
                abi::DT_RELA => rela = Some(fix(v)),
                abi::DT_RELASZ => relasz = v as usize,
                abi::DT_RELAENT if v != RELA_SIZE as u64 => return Err(format!("bad RELA entry size {v}")),
                abi::DT_REL => rel = Some(fix(v)),
                abi::DT_RELSZ => relsz = v as usize,
                abi::DT_RELENT if v != REL_SIZE as u64 => return Err(format!("bad REL entry size {v}")),
                abi::DT_JMPREL => jmprel = Some(fix(v)),
                abi::DT_PLTRELSZ => pltrelsz = v as usize,
                abi::DT_PLTREL => d.pltrel_is_rela = v == abi::DT_RELA as u64,
                abi::DT_PLTGOT => d.pltgot = Some(fix(v)),
                DT_RELR => relr = Some(fix(v)),
                DT_RELRSZ => relrsz = v as usize,
                DT_RELRENT if v != raw::WORD as u64 => return Err(format!("bad RELR entry size {v}")),
                abi::DT_INIT => d.init = Some(fix(v)),
                abi::DT_FINI => d.fini = Some(fix(v)),
                abi::DT_INIT_ARRAY => ia = Some(fix(v)),
                abi::DT_INIT_ARRAYSZ => iasz = v as usize,
                abi::DT_FINI_ARRAY => fa = Some(fix(v)),
                abi::DT_FINI_ARRAYSZ => fasz = v as usize,
                abi::DT_SONAME => d.soname = Some(v as u32),
                abi::DT_RPATH => d.rpath = Some(v as u32),
                abi::DT_RUNPATH => d.runpath = Some(v as u32),
                abi::DT_FLAGS => d.flags = v,
                abi::DT_FLAGS_1 => d.flags_1 = v,
                abi::DT_TEXTREL => d.textrel = true,
                abi::DT_BIND_NOW => d.flags |= abi::DF_BIND_NOW as u64,
                abi::DT_SYMBOLIC => d.symbolic = true,
                abi::DT_RELACOUNT => d.relacount = v as usize,
                abi::DT_RELCOUNT => d.relcount = v as usize,
                _ => {}
            }
        }
        d.strtab = strtab.ok_or("no string table (DT_STRTAB)")?;
        d.symtab = symtab.ok_or("no symbol table (DT_SYMTAB)")?;
        d.textrel |= d.flags & abi::DF_TEXTREL as u64 != 0;
        d.symbolic |= d.flags & abi::DF_SYMBOLIC as u64 != 0;
        // Some linkers (GNU ld for RISC-V and i386) count the PLT relocations, which come last,
        // in DT_RELASZ (DT_RELSZ) too: they are applied once, as PLT relocations (as glibc does).
        let plt_tail = |start: Option<usize>, size: &mut usize| {
            if let (Some(a), Some(j)) = (start, jmprel) {
                if j >= a && a.checked_add(*size) == j.checked_add(pltrelsz) {
                    *size -= pltrelsz;
                }
            }
        };
        if d.pltrel_is_rela {
            plt_tail(rela, &mut relasz);
        } else {
            plt_tail(rel, &mut relsz);
        }
        d.rela = rela.map(|a| (a, relasz / RELA_SIZE));
        d.rel = rel.map(|a| (a, relsz / REL_SIZE));
        let plt_size = if d.pltrel_is_rela { RELA_SIZE } else { REL_SIZE };
        d.jmprel = jmprel.map(|a| (a, pltrelsz / plt_size));
        d.relr = relr.map(|a| (a, relrsz / raw::WORD));
        d.init_array = ia.map(|a| (a, iasz / raw::WORD));
        d.fini_array = fa.map(|a| (a, fasz / raw::WORD));
        Ok(d)
    }
}

/// The places a RELR table (DT_RELR, `words`) relocates, as link-time addresses in the table's
/// order: an even word is a place, and the next bitmap starts at the word after it; an odd word
/// is a bitmap of the places among the 63 (31) words that follow, after which the next bitmap
/// starts. Addresses wrap around: the caller checks each place.
pub fn relr_places(words: &[usize]) -> RelrPlaces<'_> {
    RelrPlaces { words: words.iter(), next: 0, bits: 0, at: 0 }
}

/// The iterator of [`relr_places`].
pub struct RelrPlaces<'w> {
    words: core::slice::Iter<'w, usize>,
    /// Where the next bitmap starts.
    next: usize,
    /// What is left of the current bitmap, its lowest bit for the place `at`.
    bits: usize,
    at: usize,
}

impl Iterator for RelrPlaces<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        loop {
            if self.bits != 0 {
                let skip = self.bits.trailing_zeros() as usize;
                let place = self.at.wrapping_add(skip * raw::WORD);
                // (At most `usize::BITS - 2` here: the bitmap had its tag bit shifted out.)
                self.bits = (self.bits >> skip) >> 1;
                self.at = place.wrapping_add(raw::WORD);
                return Some(place);
            }
            let &w = self.words.next()?;
            if w & 1 == 0 {
                self.next = w.wrapping_add(raw::WORD);
                return Some(w);
            }
            self.bits = w >> 1;
            self.at = self.next;
            self.next = self.next.wrapping_add((usize::BITS as usize - 1) * raw::WORD);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::WORD;
    use std::vec;

    /// RELR as the gABI proposal describes it: an address, then bitmaps of the words after it.
    #[test]
    fn relr_places_decodes_addresses_and_bitmaps() {
        let w = WORD;
        let bits = usize::BITS as usize - 1;
        // 0x1000; then a bitmap of bits 1 and 3 (words 0x1000 + w and + 3w) and the last one;
        // then a second bitmap, for the words after the first's, with bit 1 (its first word).
        let last = 1usize << (usize::BITS - 1);
        let words = [0x1000, (1 << 1 | 1 << 3) | last | 1, 1 << 1 | 1, 0x8000];
        let got: vec::Vec<usize> = relr_places(&words).collect();
        let after = 0x1000 + w;
        assert_eq!(got, [0x1000, after, after + 2 * w, after + (bits - 1) * w, after + bits * w, 0x8000]);
        assert_eq!(relr_places(&[]).count(), 0);
        // A bitmap with no address before it starts at 0; one with no bits set relocates nothing.
        assert_eq!(relr_places(&[1, 0b101]).collect::<vec::Vec<_>>(), [bits * w + w]);
    }

    /// A machine that refuses objects with e_flags bit 0 set.
    const RISCV: Machine =
        Machine { e_machine: abi::EM_RISCV, name: "riscv", flags_mismatch: |f| (f & 1 != 0).then_some("built for another ABI") };

    fn put(b: &mut [u8], at: usize, v: u64, len: usize) {
        b[at..at + len].copy_from_slice(&v.to_le_bytes()[..len]);
    }

    /// A file header of the native class: a shared object for `RISCV` with `phnum` program
    /// headers right after it.
    fn header(phnum: u16) -> Vec<u8> {
        let mut h = vec![0u8; EHDR_SIZE];
        h[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', raw::ELF_CLASS, 1, 1, 0]);
        put(&mut h, 16, abi::ET_DYN as u64, 2);
        put(&mut h, 18, abi::EM_RISCV as u64, 2);
        put(&mut h, 20, 1, 4);
        put(&mut h, 24 + WORD, EHDR_SIZE as u64, WORD);
        put(&mut h, 24 + 3 * WORD + 6, PHDR_SIZE as u64, 2);
        put(&mut h, 24 + 3 * WORD + 8, phnum as u64, 2);
        h
    }

    fn refusal(h: &[u8], len: u64) -> String {
        match check_header(h, len, &RISCV) {
            Ok(_) => "accepted".to_string(),
            Err(HeaderError::WrongClass) => "wrong class".to_string(),
            Err(HeaderError::Other(why)) => why,
        }
    }

    #[test]
    fn headers_refused_for_each_reason() {
        let len = (EHDR_SIZE + 2 * PHDR_SIZE) as u64;
        let ok = header(2);
        let h = check_header(&ok, len, &RISCV).map_err(|_| ()).unwrap();
        assert_eq!((h.phoff, h.phnum, h.shdrs), (EHDR_SIZE as u64, 2, None));
        let with = |at: usize, v: u64, n: usize| {
            let mut h = ok.clone();
            put(&mut h, at, v, n);
            h
        };
        let cases: &[(Vec<u8>, &str)] = &[
            (with(0, 0x7f, 4), "not an ELF file (bad magic)"),
            (ok[..20].to_vec(), "truncated ELF file (20 bytes)"),
            (with(5, 2, 1), "big-endian ELF files are not supported"),
            (with(4, 3 - raw::ELF_CLASS as u64, 1), "wrong class"),
            (with(7, 9, 1), "unsupported OS ABI (EI_OSABI 9)"),
            (with(8, 1, 1), "unsupported ABI version (EI_ABIVERSION 1 for EI_OSABI 0)"),
            (with(7, 0x403, 2), "unsupported ABI version (EI_ABIVERSION 4 for EI_OSABI 3)"),
            (with(12, 1, 1), "nonzero padding in e_ident"),
            (with(20, 2, 4), "unsupported ELF version 2 in e_version"),
            (with(18, abi::EM_AARCH64 as u64, 2), "built for aarch64 (e_machine 183), not riscv"),
            (with(18, abi::EM_X86_64 as u64, 2), "built for x86_64 (e_machine 62), not riscv"),
            (with(18, 1234, 2), "built for another machine (e_machine 1234), not riscv"),
            (with(24 + 3 * WORD, 5, 4), "built for another ABI (e_flags 0x5)"),
            (with(16, abi::ET_EXEC as u64, 2), "is an executable (ET_EXEC), not a shared library"),
            (with(16, abi::ET_REL as u64, 2), "is a relocatable object (ET_REL); loading .o files is not supported yet"),
            (with(16, 4, 2), "unsupported ELF type 4"),
            (header(0), "no program headers"),
            (with(24 + 3 * WORD + 6, 20, 2), "bad program header size 20"),
            (header(3), "program header table (ends at"),
        ];
        for (h, why) in cases {
            let got = refusal(h, len);
            assert!(got.starts_with(why), "{got:?} is not {why:?}");
        }
        // A GNU OS ABI with an ABI version below glibc's limit is accepted.
        assert_eq!(refusal(&with(7, 0x303, 2), len), "accepted");
    }

    /// A program header of the native class.
    fn phdr(kind: u32, flags: u32, offset: u64, vaddr: u64, filesz: u64, memsz: u64) -> Vec<u8> {
        let mut p = vec![0u8; PHDR_SIZE];
        put(&mut p, 0, kind as u64, 4);
        let (flags_at, rest) = if WORD == 8 { (4, 8) } else { (24, 4) };
        put(&mut p, flags_at, flags as u64, 4);
        for (i, v) in [offset, vaddr, vaddr, filesz, memsz, 0x1000].into_iter().enumerate() {
            let at = if i < 5 { rest + i * WORD } else if WORD == 8 { 48 } else { 28 };
            put(&mut p, at, v, WORD);
        }
        p
    }

    #[test]
    fn segments_checked_against_the_image() {
        let text = phdr(abi::PT_LOAD, abi::PF_R | abi::PF_X, 0, 0, 0x800, 0x800);
        let data = phdr(abi::PT_LOAD, abi::PF_R | abi::PF_W, 0x1000, 0x1000, 0x100, 0x2000);
        let dynamic = phdr(abi::PT_DYNAMIC, abi::PF_R | abi::PF_W, 0x1000, 0x1000, 0x100, 0x100);
        let check = |phdrs: &[&Vec<u8>]| check_segments(&phdrs.iter().flat_map(|p| p.iter().copied()).collect::<Vec<u8>>(), EHDR_SIZE as u64, 0x1100, 0x1000);
        let l = check(&[&text, &data, &dynamic]).unwrap();
        assert_eq!((l.loads.len(), l.lo, l.hi, l.align), (2, 0, 0x3000, 0x1000));
        assert_eq!(l.dynamic.map(|d| d.p_vaddr), Some(0x1000));
        assert_eq!(l.phdr_vaddr, Some(EHDR_SIZE as u64), "the first segment maps the program headers");

        let why = |phdrs: &[&Vec<u8>]| check(phdrs).unwrap_err();
        assert_eq!(why(&[&text, &data]), "no dynamic section (PT_DYNAMIC)");
        assert_eq!(why(&[&dynamic]), "no loadable segments");
        assert_eq!(why(&[&data, &text, &dynamic]), "load segments overlap, share a page, or are not in address order");
        let past = phdr(abi::PT_LOAD, abi::PF_R, 0x1000, 0x1000, 0x200, 0x200);
        assert!(why(&[&text, &past, &dynamic]).contains("lies past the end of the image"));
        let bss_short = phdr(abi::PT_LOAD, abi::PF_R, 0x1000, 0x1000, 0x100, 0x80);
        assert_eq!(why(&[&text, &bss_short, &dynamic]), "segment file size exceeds its memory size");
        let misplaced = phdr(abi::PT_LOAD, abi::PF_R, 0x1000, 0x1010, 0x100, 0x100);
        assert_eq!(why(&[&text, &misplaced, &dynamic]), "segment address and file offset disagree modulo the page size");
        let interp = phdr(abi::PT_INTERP, abi::PF_R, 0, 0, 0, 0);
        assert_eq!(why(&[&interp, &text, &data, &dynamic]), "is an executable (it has PT_INTERP), not a shared library");
        let stack = phdr(abi::PT_GNU_STACK, abi::PF_R | abi::PF_W | abi::PF_X, 0, 0, 0, 0);
        assert!(why(&[&text, &data, &dynamic, &stack]).starts_with("asks for an executable stack"));
    }

    #[test]
    fn dynamic_section() {
        // DT_* tag and value pairs as native words, in memory aligned for them.
        let rela = RELA_SIZE as u64;
        let entries: &[(i64, u64)] = &[
            (abi::DT_NEEDED, 1),
            (abi::DT_STRTAB, 0x100),
            (abi::DT_STRSZ, 0x20),
            (abi::DT_SYMTAB, 0x200),
            (abi::DT_SYMENT, SYM_SIZE),
            (abi::DT_RELA, 0x300),
            (abi::DT_RELASZ, 5 * rela),
            (abi::DT_RELAENT, rela),
            (abi::DT_RELACOUNT, 2),
            // The PLT relocations, counted in DT_RELASZ too (as GNU ld does on some machines).
            (abi::DT_JMPREL, 0x300 + 3 * rela),
            (abi::DT_PLTRELSZ, 2 * rela),
            (abi::DT_PLTREL, abi::DT_RELA as u64),
            (abi::DT_FLAGS_1, abi::DF_1_NOW as u64 | abi::DF_1_NODELETE as u64),
            (abi::DT_NULL, 0),
            (abi::DT_NEEDED, 2),
        ];
        let words: Vec<usize> = entries.iter().flat_map(|&(t, v)| [t as usize, v as usize]).collect();
        let at = words.as_ptr() as usize;
        // SAFETY: the span covers the test's own buffer, alive for the whole test.
        let span = unsafe { Span::new(vec![(at, at + words.len() * WORD)]) };
        let d = DynInfo::read(&span, at, usize::MAX, |v| 0x10000 + v as usize).unwrap();
        assert_eq!((d.strtab, d.strsz, d.symtab, d.needed.as_slice()), (0x10100, 0x20, 0x10200, &[1][..]));
        assert_eq!(d.rela, Some((0x10300, 3)), "the PLT relocations are left out of DT_RELA");
        assert_eq!((d.relacount, d.relcount), (2, 0));
        assert_eq!(d.jmprel, Some((0x10300 + 3 * RELA_SIZE, 2)));
        assert!(d.pltrel_is_rela && d.bind_now() && d.nodelete());

        // A bad entry size, and a section without a string table.
        let mut bad = words.clone();
        bad[9] = 3;
        let at = bad.as_ptr() as usize;
        // SAFETY: the span covers the test's own buffer, alive for the whole test.
        let span = unsafe { Span::new(vec![(at, at + bad.len() * WORD)]) };
        assert_eq!(DynInfo::read(&span, at, usize::MAX, |v| v as usize).unwrap_err(), "bad symbol entry size 3");
        let at = words[4..].as_ptr() as usize;
        // SAFETY: the span covers the test's own buffer, alive for the whole test.
        let span = unsafe { Span::new(vec![(at, at + (words.len() - 4) * WORD)]) };
        assert_eq!(DynInfo::read(&span, at, usize::MAX, |v| v as usize).unwrap_err(), "no string table (DT_STRTAB)");
        assert_eq!(DynInfo::read(&span, at + 1, usize::MAX, |v| v as usize).unwrap_err(), "dynamic section out of bounds");
    }
}
