//! Linking one relocatable ELF64 object (a `.o`) into the caller's [`Memory`]: a minimal
//! linker, without archives, COMDAT groups, common symbols, GOT and PLT entries or TLS, which
//! the caller-memory example uses. The full link stage is [`crate::link`]; this module is to
//! become a driver of it that places the unit in a [`Memory`].
//!
//! [`link`] lays the object's SHF_ALLOC sections out in three page-aligned groups — code,
//! read-only data, writable data (with .bss) — each section at its `sh_addralign`; binds its
//! symbols (its own definitions, then the caller's [`Resolver`] for the undefined ones);
//! reserves one span, within reach of what PC-relative relocations refer to when the memory
//! can place it there ([`Memory::reserve_in`]); copies the sections in, applies the RELA
//! relocations with the architecture's table ([`Howto::apply`]) and protects each group: code
//! read and execute, read-only data read, data read-write.

use crate::mem::{Definition, Memory, Prot, Request, Resolver, Span};
use crate::reloc::{self, Calc, Check, Howto, Inputs};
use alloc::vec;
use alloc::vec::Vec;

const ET_REL: u16 = 1;
const SHT_SYMTAB: u32 = 2;
const SHT_RELA: u32 = 4;
const SHT_NOBITS: u32 = 8;
const SHT_REL: u32 = 9;
const SHF_WRITE: u64 = 1;
const SHF_ALLOC: u64 = 2;
const SHF_EXECINSTR: u64 = 4;
const SHN_UNDEF: u16 = 0;
const SHN_LORESERVE: u16 = 0xff00;
const SHN_ABS: u16 = 0xfff1;
const SHN_COMMON: u16 = 0xfff2;
const STB_LOCAL: u8 = 0;
const STB_WEAK: u8 = 2;
const STT_TLS: u8 = 6;

/// Why linking failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error<E> {
    /// The object is not a relocatable ELF64 object for the machine, or is malformed (the reason).
    Malformed(&'static str),
    /// Something the core does not link yet (what).
    Unsupported(&'static str),
    /// A relocation type the architecture's table does not have.
    RelocationType(u32),
    /// A strong reference the object's definitions and the resolver leave unbound (its name).
    Undefined(Vec<u8>),
    /// A relocation that does not fit: its type, the symbol's name, its offset in its section.
    Relocation { name: &'static str, symbol: Vec<u8>, offset: u64, error: reloc::Error },
    /// The caller's memory refused.
    Memory(E),
}

/// What the architecture contributes: its `e_machine` and its relocation table.
#[derive(Clone, Copy, Debug)]
pub struct Machine {
    pub e_machine: u16,
    pub howto: fn(u32) -> Option<Howto>,
    /// Width of an address (32 or 64).
    pub address_bits: u32,
}

/// Global and weak definitions: name and run address.
pub type Definitions = Vec<(Vec<u8>, u64)>;

/// A linked object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linked {
    /// Where it is: the code group first, then read-only data, then data.
    pub span: Span,
    /// Its global and weak definitions.
    pub symbols: Definitions,
}

impl Linked {
    /// The run address of the global or weak definition of `name`.
    pub fn symbol(&self, name: &[u8]) -> Option<u64> {
        self.symbols.iter().find(|(n, _)| n == name).map(|&(_, v)| v)
    }
}

/// The little-endian integer of `len` bytes at `at`.
fn le(bytes: &[u8], at: usize, len: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(len)?)?;
    Some(b.iter().rev().fold(0, |v, &x| v << 8 | u64::from(x)))
}

/// The fields of an Elf64_Shdr that linking reads.
#[derive(Clone, Copy, Debug, Default)]
struct Section {
    kind: u32,
    flags: u64,
    offset: u64,
    size: u64,
    link: u32,
    info: u32,
    align: u64,
    entsize: u64,
}

impl Section {
    fn parse(b: &[u8]) -> Option<Section> {
        Some(Section {
            kind: le(b, 4, 4)? as u32,
            flags: le(b, 8, 8)?,
            offset: le(b, 24, 8)?,
            size: le(b, 32, 8)?,
            link: le(b, 40, 4)? as u32,
            info: le(b, 44, 4)? as u32,
            align: le(b, 48, 8)?,
            entsize: le(b, 56, 8)?,
        })
    }

    /// The section's bytes in the object (none for SHT_NOBITS).
    fn bytes<'a>(&self, image: &'a [u8]) -> Option<&'a [u8]> {
        if self.kind == SHT_NOBITS {
            return Some(&[]);
        }
        let start = usize::try_from(self.offset).ok()?;
        image.get(start..start.checked_add(usize::try_from(self.size).ok()?)?)
    }

    /// The section as a table of `size`-byte entries.
    fn entries<'a>(&self, image: &'a [u8], size: usize) -> Option<core::slice::ChunksExact<'a, u8>> {
        (self.entsize == size as u64).then_some(())?;
        Some(self.bytes(image)?.chunks_exact(size))
    }

    fn group(&self) -> usize {
        if self.flags & SHF_EXECINSTR != 0 {
            0
        } else if self.flags & SHF_WRITE == 0 {
            1
        } else {
            2
        }
    }
}

/// The protections of the three groups, in layout order.
const GROUPS: [Prot; 3] = [Prot::RX, Prot::R, Prot::RW];

/// An Elf64_Sym's fields.
struct Symbol {
    name: u32,
    bind: u8,
    kind: u8,
    shndx: u16,
    value: u64,
}

impl Symbol {
    fn parse(b: &[u8]) -> Option<Symbol> {
        let info = le(b, 4, 1)? as u8;
        Some(Symbol { name: le(b, 0, 4)? as u32, bind: info >> 4, kind: info & 0xf, shndx: le(b, 6, 2)? as u16, value: le(b, 8, 8)? })
    }
}

/// The NUL-terminated string at `at` of a string table.
fn string(table: &[u8], at: u32) -> Option<&[u8]> {
    let rest = table.get(at as usize..)?;
    rest.get(..rest.iter().position(|&b| b == 0)?)
}

fn up(v: usize, align: usize) -> Option<usize> {
    Some(v.checked_add(align - 1)? & !(align - 1))
}

/// Link `image`, a relocatable object for `machine`, into `mem`; undefined symbols bind
/// through `resolver`. On failure nothing stays reserved.
pub fn link<M>(mem: &mut M, image: &[u8], machine: &Machine, resolver: &mut dyn Resolver) -> Result<Linked, Error<M::Error>>
where
    M: Memory<[u8]> + ?Sized,
{
    let bad = Error::Malformed;
    if image.get(..4) != Some(b"\x7fELF") || image.get(4) != Some(&2) || image.get(5) != Some(&1) {
        return Err(bad("not a little-endian ELF64 file"));
    }
    if le(image, 16, 2) != Some(u64::from(ET_REL)) || le(image, 18, 2) != Some(u64::from(machine.e_machine)) {
        return Err(bad("not a relocatable object for this machine"));
    }
    let (shoff, shentsize, shnum) = (le(image, 40, 8), le(image, 58, 2), le(image, 60, 2));
    let (Some(shoff), Some(64), Some(shnum)) = (shoff, shentsize, shnum) else { return Err(bad("bad section header table")) };
    let sections: Vec<Section> = (0..shnum as usize)
        .map(|i| image.get(usize::try_from(shoff).ok()?.checked_add(i * 64)?..).and_then(Section::parse))
        .collect::<Option<_>>()
        .ok_or(bad("section header table outside the file"))?;
    if sections.iter().any(|s| s.kind == SHT_REL) {
        return Err(Error::Unsupported("SHT_REL relocations"));
    }

    // Layout: offsets in the span, per section, group after group.
    let page = mem.page_size();
    let mut at = vec![None; sections.len()];
    let mut groups = [(0usize, 0usize); 3];
    let mut end = 0usize;
    let mut align = page;
    for (g, range) in groups.iter_mut().enumerate() {
        let start = end;
        for (i, s) in sections.iter().enumerate().filter(|(_, s)| s.flags & SHF_ALLOC != 0 && s.group() == g) {
            let a = usize::try_from(s.align.max(1)).ok().filter(|a| a.is_power_of_two()).ok_or(bad("bad section alignment"))?;
            align = align.max(a);
            let off = up(end, a).ok_or(bad("sections too large"))?;
            s.bytes(image).ok_or(bad("section outside the file"))?;
            at[i] = Some(off);
            end = usize::try_from(s.size).ok().and_then(|n| off.checked_add(n)).ok_or(bad("sections too large"))?;
        }
        end = up(end, page).ok_or(bad("sections too large"))?;
        *range = (start, end - start);
    }
    if end == 0 {
        return Err(bad("no allocated section"));
    }

    // Symbols: the object's own definitions are offsets in the span until it is placed;
    // undefined ones take the resolver's answer.
    let symtab_index = sections.iter().position(|s| s.kind == SHT_SYMTAB).ok_or(bad("no symbol table"))?;
    let symtab = sections[symtab_index];
    let strtab = sections.get(symtab.link as usize).and_then(|s| s.bytes(image)).ok_or(bad("bad string table"))?;
    let symbols: Vec<Symbol> =
        symtab.entries(image, 24).ok_or(bad("bad symbol table"))?.map(Symbol::parse).collect::<Option<_>>().ok_or(bad("bad symbol"))?;
    let name = |s: &Symbol| string(strtab, s.name).ok_or(bad("bad symbol name"));
    // Per symbol: the value, and whether it is relative to the span's base.
    let mut values = Vec::with_capacity(symbols.len());
    for (i, s) in symbols.iter().enumerate() {
        values.push(match s.shndx {
            _ if i == 0 => (0, false),
            SHN_UNDEF => {
                let weak = s.bind == STB_WEAK;
                let request = Request { name: name(s)?, version: None, version_file: None, weak, tls: s.kind == STT_TLS };
                match resolver.resolve(&request) {
                    Some(Definition::Address { value, .. }) => (value, false),
                    Some(Definition::Tls { .. }) => return Err(Error::Unsupported("thread-local symbols")),
                    None if weak => (0, false),
                    None => return Err(Error::Undefined(request.name.into())),
                }
            }
            SHN_ABS => (s.value, false),
            SHN_COMMON => return Err(Error::Unsupported("common symbols (build with -fno-common)")),
            n if n >= SHN_LORESERVE => return Err(Error::Unsupported("reserved section indices")),
            n => match at.get(n as usize).ok_or(bad("symbol in a section that does not exist"))? {
                Some(off) => ((*off as u64).wrapping_add(s.value), true),
                // A symbol of a section that is not loaded (debugging information).
                None => (s.value, false),
            },
        });
    }

    // The relocation sections that apply to loaded sections, checked before anything is reserved.
    let mut relocations = Vec::new();
    for s in sections.iter().filter(|s| s.kind == SHT_RELA) {
        let Some(&Some(target_at)) = at.get(s.info as usize) else { continue };
        if s.link as usize != symtab_index {
            return Err(bad("relocations against another symbol table"));
        }
        let target = sections[s.info as usize];
        for r in s.entries(image, 24).ok_or(bad("bad relocation table"))? {
            let (offset, info, addend) = (le(r, 0, 8).unwrap_or(0), le(r, 8, 8).unwrap_or(0), le(r, 16, 8).unwrap_or(0) as i64);
            let (sym, r_type) = ((info >> 32) as usize, info as u32);
            let howto = (machine.howto)(r_type).ok_or(Error::RelocationType(r_type))?;
            if sym >= symbols.len() || offset >= target.size || target.kind == SHT_NOBITS {
                return Err(bad("relocation outside its section or symbol table"));
            }
            relocations.push(Relocation { howto, sym, at: target_at + offset as usize, offset, addend, room: target.size - offset });
        }
    }

    // Where PC-relative references to what the caller defines reach from: `lo .. hi`.
    let mut window: Option<(u64, u64)> = None;
    for &Relocation { howto: h, sym, .. } in &relocations {
        let Check::Signed(bits @ 1..=63) = h.check else { continue };
        if h.calc == Calc::Pc && sym != 0 && symbols[sym].shndx == SHN_UNDEF {
            let (target, reach) = (values[sym].0, 1u64 << (bits - 1));
            let (lo, hi) = window.unwrap_or((0, u64::MAX));
            window = Some((lo.max(target.saturating_sub(reach) + page as u64), hi.min(target.saturating_add(reach) - page as u64)));
        }
    }
    let near = match window {
        Some((lo, hi)) if lo < hi => mem.reserve_in(end, align, lo, hi).map_err(Error::Memory)?,
        _ => None,
    };
    // Otherwise anywhere: relocations that do not reach say so.
    let span = match near {
        Some(span) => span,
        None => mem.reserve(end, align).map_err(Error::Memory)?,
    };
    let object = Object { image, sections: &sections, at: &at, symbols: &symbols, values: &values, strtab, machine };
    let placed = object.place(mem, &span, &relocations).and_then(|symbols| protect(mem, &span, &groups).map(|()| Linked { span, symbols }));
    placed.inspect_err(|_| mem.release(span))
}

/// One relocation, checked against its section.
struct Relocation {
    howto: Howto,
    /// Its symbol's index.
    sym: usize,
    /// Its place's offset in the span, and in its section.
    at: usize,
    offset: u64,
    addend: i64,
    /// The bytes from the place to the end of its section.
    room: u64,
}

/// A parsed object, laid out.
struct Object<'a> {
    image: &'a [u8],
    sections: &'a [Section],
    /// Per section, its offset in the span when it is loaded.
    at: &'a [Option<usize>],
    symbols: &'a [Symbol],
    /// Per symbol, its value and whether that is an offset in the span.
    values: &'a [(u64, bool)],
    strtab: &'a [u8],
    machine: &'a Machine,
}

impl Object<'_> {
    fn value(&self, span: &Span, sym: usize) -> u64 {
        match self.values[sym] {
            (v, true) => span.base.wrapping_add(v),
            (v, false) => v,
        }
    }

    /// Copy the sections into `span`, apply the relocations and list the global definitions.
    fn place<M>(&self, mem: &mut M, span: &Span, relocations: &[Relocation]) -> Result<Definitions, Error<M::Error>>
    where
        M: Memory<[u8]> + ?Sized,
    {
        mem.zero(span, 0, span.len, Prot::RW).map_err(Error::Memory)?;
        for (s, off) in self.sections.iter().zip(self.at) {
            let (Some(off), Some(bytes)) = (off, s.bytes(self.image)) else { continue };
            let dest = mem.bytes_mut(span, *off, bytes.len()).ok_or(Error::Malformed("section outside the span"))?;
            dest.copy_from_slice(bytes);
        }
        let name = |sym: usize| string(self.strtab, self.symbols[sym].name).unwrap_or_default();
        for r in relocations {
            let x = Inputs { s: self.value(span, r.sym), a: r.addend, p: span.base.wrapping_add(r.at as u64), ..Inputs::default() };
            let place = mem.bytes_mut(span, r.at, r.room as usize).ok_or(Error::Malformed("relocation outside the span"))?;
            r.howto.apply(place, &x, self.machine.address_bits).map_err(|error| Error::Relocation {
                name: r.howto.name,
                symbol: name(r.sym).into(),
                offset: r.offset,
                error,
            })?;
        }
        let global = |(i, s): (usize, &Symbol)| (s.bind != STB_LOCAL && s.shndx != SHN_UNDEF).then(|| (name(i).into(), self.value(span, i)));
        Ok(self.symbols.iter().enumerate().filter_map(global).collect())
    }
}

/// Give each group its protection.
fn protect<M>(mem: &mut M, span: &Span, groups: &[(usize, usize); 3]) -> Result<(), Error<M::Error>>
where
    M: Memory<[u8]> + ?Sized,
{
    for (&(start, len), prot) in groups.iter().zip(GROUPS) {
        if len > 0 {
            mem.protect(span, start, len, prot).map_err(Error::Memory)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::x86_64;
    use crate::mem::{Buffer, BufferError};

    const X86_64: Machine = Machine { e_machine: x86_64::EM_X86_64, howto: x86_64::howto, address_bits: 64 };

    /// An ELF64 header of type `e_type` for `machine`, with no sections.
    fn header(e_type: u16, machine: u16) -> std::vec::Vec<u8> {
        let mut h = std::vec![0u8; 64];
        h[..6].copy_from_slice(b"\x7fELF\x02\x01");
        h[16..18].copy_from_slice(&e_type.to_le_bytes());
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h[58..60].copy_from_slice(&64u16.to_le_bytes());
        h
    }

    #[test]
    fn refuses_what_it_cannot_link() {
        let mut storage = std::vec![0u8; 0x4000];
        let mut mem = Buffer::new(&mut storage, 0x10_0000, 0x1000);
        let mut nothing = |_: &Request<'_>| None;
        let mut link = |image: &[u8]| link(&mut mem, image, &X86_64, &mut nothing);
        let malformed = |why| Err::<Linked, Error<BufferError>>(Error::Malformed(why));
        assert_eq!(link(b"\x7fELF"), malformed("not a little-endian ELF64 file"));
        let mut elf32 = header(ET_REL, x86_64::EM_X86_64);
        elf32[4] = 1;
        assert_eq!(link(&elf32), malformed("not a little-endian ELF64 file"));
        assert_eq!(link(&header(3, x86_64::EM_X86_64)), malformed("not a relocatable object for this machine"));
        assert_eq!(link(&header(ET_REL, 183)), malformed("not a relocatable object for this machine"));
        // No section at all, then a section table past the end of the file.
        assert_eq!(link(&header(ET_REL, x86_64::EM_X86_64)), malformed("no allocated section"));
        let mut past = header(ET_REL, x86_64::EM_X86_64);
        past[40..48].copy_from_slice(&64u64.to_le_bytes());
        past[60..62].copy_from_slice(&1u16.to_le_bytes());
        assert_eq!(link(&past), malformed("section header table outside the file"));
    }
}
