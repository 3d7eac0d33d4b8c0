//! Reading one relocatable object (ET_REL): its sections, symbol table, COMDAT groups and the
//! relocations of its allocated sections. Every index and range is checked here, so that the
//! later stages can index without failing.

use super::bad;
use super::{arch, Error, Result};
use crate::arch::Calc;
use alloc::borrow::Cow;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use elf::abi;
use elf::endian::LittleEndian;
use elf::file::Class;

/// "No such thing" in index fields.
pub const NONE: u32 = u32::MAX;
/// Section indices of special symbols (kept apart from real indices, which may exceed 0xff00).
pub const SHN_ABS: u32 = NONE - 1;
pub const SHN_COMMON: u32 = NONE - 2;

/// One relocation of an allocated section.
#[derive(Clone, Copy, Debug)]
pub struct Reloc {
    pub offset: u64,
    pub ty: u32,
    pub sym: u32,
    pub addend: i64,
}

/// Size of an `Elf64_Rela` and of an `Elf64_Sym`.
const RELA_SIZE: usize = 24;
const SYM_SIZE: usize = 24;

/// Fields of records whose bounds the caller checked.
fn u64_at(d: &[u8], at: usize) -> u64 {
    crate::raw::le_u64(d, at).expect("eight bytes")
}

fn u32_at(d: &[u8], at: usize) -> u32 {
    crate::raw::le_u32(d, at).expect("four bytes")
}

/// Where byte `b` first occurs in `bytes`, looking at eight bytes at a time (names in string
/// tables, which are scanned for every symbol).
#[inline]
pub fn find_byte(bytes: &[u8], b: u8) -> Option<usize> {
    const LOW: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let pattern = LOW * b as u64;
    let mut at = 0;
    for w in bytes.chunks_exact(8) {
        let v = u64::from_le_bytes(w.try_into().expect("eight bytes")) ^ pattern;
        // Nonzero exactly when some byte of `v` is zero, that is, some byte of `w` is `b`; its
        // lowest set bit is in the first such byte (only bytes after it can be set wrongly).
        let found = v.wrapping_sub(LOW) & !v & HIGH;
        if found != 0 {
            return Some(at + found.trailing_zeros() as usize / 8);
        }
        at += 8;
    }
    Some(at + bytes[at..].iter().position(|&c| c == b)?)
}

/// The bytes before the first NUL (a name in a string table).
#[inline]
pub fn until_nul(bytes: &[u8]) -> Option<&[u8]> {
    find_byte(bytes, 0).map(|end| &bytes[..end])
}

impl Reloc {
    /// An `Elf64_Rela` entry (24 bytes).
    fn decode(e: &[u8]) -> Reloc {
        let info = u64_at(e, 8);
        Reloc { offset: u64_at(e, 0), ty: info as u32, sym: (info >> 32) as u32, addend: u64_at(e, 16) as i64 }
    }

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.offset.to_le_bytes());
        out.extend_from_slice(&((self.sym as u64) << 32 | self.ty as u64).to_le_bytes());
        out.extend_from_slice(&self.addend.to_le_bytes());
    }
}

/// The relocations of a section: its RELA entries as the object stores them (checked by
/// [`Object::parse`]), decoded as they are read, so that linking copies none of them.
#[derive(Debug, Default)]
pub struct Relocs<'a>(Cow<'a, [u8]>);

impl Relocs<'_> {
    pub fn from_list(list: &[Reloc]) -> Relocs<'static> {
        let mut bytes = Vec::with_capacity(list.len() * RELA_SIZE);
        for r in list {
            r.encode(&mut bytes);
        }
        Relocs(bytes.into())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Reloc> + '_ {
        self.0.chunks_exact(RELA_SIZE).map(Reloc::decode)
    }
}

/// One section of the object.
#[derive(Debug)]
pub struct Section<'a> {
    pub name: &'a [u8],
    pub ty: u32,
    pub flags: u64,
    pub size: u64,
    pub align: u64,
    /// Its bytes (empty for SHT_NOBITS).
    pub data: &'a [u8],
    pub relocs: Relocs<'a>,
    /// Linked into the unit: allocated, and not in a COMDAT group another object provided.
    pub live: bool,
    /// Where the layout put it: offset from the unit's base (for TLS sections, from the start of
    /// the TLS block).
    pub addr: u64,
}

impl Section<'_> {
    pub fn alloc(&self) -> bool {
        self.flags & abi::SHF_ALLOC as u64 != 0
    }
    pub fn tls(&self) -> bool {
        self.flags & abi::SHF_TLS as u64 != 0
    }
}

/// One symbol of the object.
#[derive(Clone, Copy, Debug)]
pub struct Sym<'a> {
    pub name: &'a [u8],
    pub value: u64,
    pub size: u64,
    /// A section index, `abi::SHN_UNDEF`, [`SHN_ABS`] or [`SHN_COMMON`].
    pub shndx: u32,
    pub bind: u8,
    pub kind: u8,
    pub vis: u8,
}

impl Sym<'_> {
    pub fn defined(&self) -> bool {
        self.shndx != abi::SHN_UNDEF as u32
    }
}

/// A parsed relocatable object.
pub struct Object<'a> {
    /// `a.o`, or `libx.a(member.o)`, for messages.
    pub name: String,
    pub sections: Vec<Section<'a>>,
    pub syms: Vec<Sym<'a>>,
    /// Index of the first non-local symbol.
    pub first_global: usize,
    /// COMDAT groups: signature and member sections.
    pub groups: Vec<(&'a [u8], Vec<u32>)>,
    /// The unit-wide id of each non-local symbol (`syms[first_global + i]`), set by the symbol
    /// table.
    pub globals: Vec<u32>,
    /// The object asks for an executable stack (.note.GNU-stack with SHF_EXECINSTR).
    pub exec_stack: bool,
}

const SHT_X86_64_UNWIND: u32 = 0x7000_0001;
const SHF_EXCLUDE: u64 = 0x8000_0000;
const GRP_COMDAT: u32 = 1;

impl<'a> Object<'a> {
    /// Whether `data` is an ELF relocatable object (the class and machine are checked later).
    pub fn is_object(data: &[u8]) -> bool {
        data.len() >= 18 && data[..4] == *b"\x7fELF" && u16::from_le_bytes([data[16], data[17]]) == abi::ET_REL
    }

    pub fn parse(name: String, data: &'a [u8]) -> Result<Object<'a>> {
        if data.len() < 64 {
            return Err(bad(&name, format!("truncated ELF header ({} bytes)", data.len())));
        }
        let file = elf::ElfBytes::<LittleEndian>::minimal_parse(data)
            .map_err(|e| bad(&name, format!("bad ELF header or section header table: {e}")))?;
        let h = &file.ehdr;
        if h.class != Class::ELF64 {
            return Err(bad(&name, "32-bit ELF (ELFCLASS32) is not supported: relink links 64-bit objects"));
        }
        if h.e_machine != arch::ELF_MACHINE {
            return Err(bad(&name, format!("built for machine {}, not {}", h.e_machine, arch::NAME)));
        }
        if let Some(why) = arch::flags_mismatch(h.e_flags) {
            return Err(bad(&name, format!("{why} (e_flags {:#x})", h.e_flags)));
        }
        if h.e_type != abi::ET_REL {
            return Err(bad(&name, format!("ELF type {} is not a relocatable object", h.e_type)));
        }
        let (shdrs, shstrtab) = file
            .section_headers_with_strtab()
            .map_err(|e| bad(&name, format!("section header table: {e}")))?;
        let shdrs: Vec<_> = shdrs.ok_or_else(|| bad(&name, "no section headers"))?.iter().collect();
        let shstrtab = shstrtab.ok_or_else(|| bad(&name, "no section name table"))?;
        let n = shdrs.len();
        let mut sections = Vec::with_capacity(n);
        for (i, sh) in shdrs.iter().enumerate() {
            let sname = shstrtab.get_raw(sh.sh_name as usize).map_err(|_| bad(&name, format!("section {i}: name out of bounds")))?;
            let bytes = if sh.sh_type == abi::SHT_NOBITS || sh.sh_type == abi::SHT_NULL {
                &[][..]
            } else {
                let end = sh.sh_offset.checked_add(sh.sh_size);
                end.and_then(|end| data.get(sh.sh_offset as usize..end as usize)).ok_or_else(|| {
                    bad(&name, format!("section {} (at {:#x}, {:#x} bytes) lies past the end of the file", show(sname), sh.sh_offset, sh.sh_size))
                })?
            };
            let align = sh.sh_addralign.max(1);
            if !align.is_power_of_two() || align > 1 << 20 {
                return Err(bad(&name, format!("section {}: bad alignment {:#x}", show(sname), sh.sh_addralign)));
            }
            if sh.sh_size > 1 << 40 {
                return Err(bad(&name, format!("section {}: size {:#x} is too large", show(sname), sh.sh_size)));
            }
            sections.push(Section {
                name: sname,
                ty: sh.sh_type,
                flags: sh.sh_flags,
                size: sh.sh_size,
                align,
                data: bytes,
                relocs: Relocs::default(),
                live: false,
                addr: 0,
            });
        }

        // The symbol table (at most one), with its string table and extended indices.
        let mut syms = Vec::new();
        let mut first_global = 0;
        let mut symtab_index = NONE;
        if let Some(si) = shdrs.iter().position(|s| s.sh_type == abi::SHT_SYMTAB) {
            symtab_index = si as u32;
            let st = &shdrs[si];
            if st.sh_entsize != 24 || st.sh_size % 24 != 0 {
                return Err(bad(&name, format!("bad symbol table entry size {}", st.sh_entsize)));
            }
            let strtab = match sections.get(st.sh_link as usize) {
                Some(s) if s.ty == abi::SHT_STRTAB => s.data,
                _ => return Err(bad(&name, format!("symbol table links to section {}, not a string table", st.sh_link))),
            };
            let xindex = shdrs
                .iter()
                .position(|s| s.sh_type == abi::SHT_SYMTAB_SHNDX && s.sh_link as usize == si)
                .map(|i| sections[i].data);
            let table = sections[si].data;
            let count = table.len() / SYM_SIZE;
            first_global = st.sh_info as usize;
            if first_global > count {
                return Err(bad(&name, format!("symbol table: first global index {first_global} beyond its {count} entries")));
            }
            syms.reserve(count);
            for (i, e) in table.chunks_exact(SYM_SIZE).enumerate() {
                let sname = strtab
                    .get(u32_at(e, 0) as usize..)
                    .and_then(until_nul)
                    .ok_or_else(|| bad(&name, format!("symbol {i}: name out of bounds")))?;
                let (info, other) = (e[4], e[5]);
                let shndx = match u16::from_le_bytes([e[6], e[7]]) {
                    abi::SHN_ABS => SHN_ABS,
                    abi::SHN_COMMON => SHN_COMMON,
                    abi::SHN_XINDEX => {
                        let x = xindex.and_then(|d| d.get(i * 4..i * 4 + 4)).ok_or_else(|| {
                            bad(&name, format!("symbol {} uses an extended section index, but there is no SHT_SYMTAB_SHNDX entry for it", show(sname)))
                        })?;
                        u32::from_le_bytes(x.try_into().expect("four bytes"))
                    }
                    x => x as u32,
                };
                if shndx < SHN_COMMON && shndx as usize >= n {
                    return Err(bad(&name, format!("symbol {} (index {i}) refers to section {shndx}, but there are only {n}", show(sname))));
                }
                syms.push(Sym {
                    name: sname,
                    value: u64_at(e, 8),
                    size: u64_at(e, 16),
                    shndx,
                    bind: info >> 4,
                    kind: info & 0xf,
                    vis: other & 3,
                });
            }
        }

        if sections.iter().any(|s| s.name.starts_with(b".gnu.lto_")) || syms.iter().any(|s| s.name == b"__gnu_lto_slim") {
            return Err(Error::Unsupported {
                file: name,
                what: "an LTO object (compiled with -flto): it holds compiler bitcode, not machine code".into(),
            });
        }
        let mut groups = Vec::new();
        let mut exec_stack = false;
        for (i, sh) in shdrs.iter().enumerate() {
            match sh.sh_type {
                abi::SHT_GROUP => {
                    let words: Vec<u32> = sections[i].data.chunks_exact(4).map(|w| u32::from_le_bytes(w.try_into().expect("four bytes"))).collect();
                    if words.first().copied().unwrap_or(0) & GRP_COMDAT == 0 {
                        continue;
                    }
                    if sh.sh_link != symtab_index {
                        return Err(bad(&name, "COMDAT group without the symbol table"));
                    }
                    let sig = syms
                        .get(sh.sh_info as usize)
                        .ok_or_else(|| bad(&name, format!("COMDAT group signature {} out of range", sh.sh_info)))?;
                    // A section symbol as signature stands for the section's name (old assemblers).
                    let sig_name = if sig.kind == abi::STT_SECTION {
                        sections.get(sig.shndx as usize).map_or(sig.name, |s| s.name)
                    } else {
                        sig.name
                    };
                    let members = words[1..].to_vec();
                    if let Some(&m) = members.iter().find(|&&m| m as usize >= n || m == 0) {
                        return Err(bad(&name, format!("COMDAT group {} names section {m}, which does not exist", show(sig_name))));
                    }
                    groups.push((sig_name, members));
                }
                abi::SHT_REL if sections.get(sh.sh_info as usize).is_some_and(|s| s.alloc()) => {
                    return Err(bad(&name, "REL relocations (SHT_REL): x86_64 objects use RELA"));
                }
                abi::SHT_PROGBITS if sections[i].name == b".note.GNU-stack" => {
                    exec_stack = sh.sh_flags & abi::SHF_EXECINSTR as u64 != 0;
                }
                _ => {}
            }
        }

        // Relocations of allocated sections (those of debug sections are never needed).
        for (i, sh) in shdrs.iter().enumerate() {
            if sh.sh_type != abi::SHT_RELA {
                continue;
            }
            let target = sh.sh_info as usize;
            let rname = sections[i].name;
            match sections.get(target) {
                Some(t) if t.alloc() => {}
                Some(_) => continue,
                None => return Err(bad(&name, format!("relocation section {} applies to section {target}, which does not exist", show(rname)))),
            }
            if sh.sh_link != symtab_index {
                return Err(bad(&name, format!("relocation section {} does not use the symbol table", show(rname))));
            }
            if sh.sh_entsize != 24 || sh.sh_size % 24 != 0 {
                return Err(bad(&name, format!("relocation section {}: bad entry size {}", show(rname), sh.sh_entsize)));
            }
            // The entries are checked where they are first read, by the scan (`reloc_checker`).
            let raw = sections[i].data;
            let relocs = &mut sections[target].relocs;
            if relocs.is_empty() {
                *relocs = Relocs(raw.into());
            } else {
                // A second relocation section for the same section (rare): one list of both.
                relocs.0.to_mut().extend_from_slice(raw);
            }
        }

        for s in sections.iter_mut() {
            s.live = s.alloc()
                && s.flags & SHF_EXCLUDE == 0
                && matches!(
                    s.ty,
                    abi::SHT_PROGBITS | abi::SHT_NOBITS | abi::SHT_INIT_ARRAY | abi::SHT_FINI_ARRAY | abi::SHT_PREINIT_ARRAY | SHT_X86_64_UNWIND
                );
        }
        Ok(Object { name, sections, syms, first_global, groups, globals: Vec::new(), exec_stack })
    }
}

impl Object<'_> {
    /// The check of the relocations of section `si` (each one's type is known, its symbol
    /// exists, its field lies inside the section), given its calculation and field; before
    /// anything uses it. What it needs of the section and the object is read once.
    #[inline(always)]
    pub fn reloc_checker(&self, si: u32) -> impl Fn(&Reloc, Calc, arch::Field) -> Result<()> + '_ {
        let (size, nsyms) = (self.sections[si as usize].size, self.syms.len());
        move |r, calc, field| {
            let fits = r.offset <= size && size - r.offset >= field.size() as u64;
            if fits && calc != Calc::Unknown && ((r.sym as usize) < nsyms || calc == Calc::None) {
                return Ok(());
            }
            self.reloc_problem(si, r, calc, field)
        }
    }

    #[cold]
    fn reloc_problem(&self, si: u32, r: &Reloc, calc: Calc, field: arch::Field) -> Result<()> {
        let name = &self.name;
        let sec = &self.sections[si as usize];
        let tname = sec.name;
        if calc == Calc::Unknown {
            return Err(Error::Unsupported {
                file: name.clone(),
                what: format!("relocation type {} ({}) in section {} at offset {:#x}", r.ty, arch::type_name(r.ty), show(tname), r.offset),
            });
        }
        if r.sym as usize >= self.syms.len() && calc != Calc::None {
            return Err(bad(
                name,
                format!("relocation at {}+{:#x} refers to symbol {}, but the table has {}", show(tname), r.offset, r.sym, self.syms.len()),
            ));
        }
        if r.offset.checked_add(field.size() as u64).is_none_or(|end| end > sec.size) {
            return Err(bad(
                name,
                format!("{} at offset {:#x} lies outside section {} ({:#x} bytes)", arch::type_name(r.ty), r.offset, show(tname), sec.size),
            ));
        }
        Ok(())
    }
}

/// A name from an object, for messages.
pub fn show(name: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(name)
}

#[cfg(test)]
mod tests {
    use super::{find_byte, until_nul};
    use alloc::vec;

    #[test]
    fn names_end_at_the_first_nul() {
        let mut bytes = vec![b'a'; 40];
        for end in 0..40 {
            bytes[end] = 0;
            assert_eq!(until_nul(&bytes), Some(&bytes[..end]), "NUL at {end}");
            bytes[end] = 0x80 | end as u8;
        }
        assert_eq!(until_nul(&bytes), None);
        assert_eq!(until_nul(b""), None);
        assert_eq!(until_nul(b"\x81\x80\x01\xff\xfe\x7f\x00\x00x"), Some(&b"\x81\x80\x01\xff\xfe\x7f"[..]));
        assert_eq!(find_byte(b"memcpy_fast@@GLIBC_2.14", b'@'), Some(11));
        assert_eq!(find_byte(b"\x40\xc0AAAAAAAAA@", b'@'), Some(0));
        assert_eq!(find_byte(b"\xc0AAAAAAAAAAAAAA", b'@'), None);
    }
}
