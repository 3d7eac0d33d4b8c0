//! Linking one relocatable ELF64 object (a `.o`) into the caller's [`Memory`]: a driver of the
//! link stage ([`crate::link`]) for callers that have a [`Memory`] and a [`Resolver`] rather
//! than a process.
//!
//! [`link()`] links the object into a unit with the link stage (symbols, the relocation scan,
//! GOT entries and call stubs for what the object imports, layout, the image), the object's
//! imports looked up through the caller's [`Resolver`]; reserves the unit's span where its
//! 32-bit fields reach what they refer to when the memory can place it there
//! ([`Memory::reserve_in`]); writes the image into it, applies the unit's dynamic relocations
//! (the running machine's `classify`, then [`arch::dynamic`]) and gives each segment its protection
//! ([`load::protect`]): code read and execute, read-only data read, data read-write, RELRO
//! read-only. Thread-local variables and IFUNCs are the runtime's: refused here.
//!
//! [`load_shared`] does the same for a shared object (ET_DYN) of the running machine: headers
//! checked by [`parse`], segments placed by [`load::place`], the dynamic section and symbols
//! read by [`parse::DynInfo`] and [`SymTab`], its RELR, RELA and REL relocations applied with
//! the same arithmetic, then protected. Constructors are not run.

use crate::arch::{self, native, Inputs, Refused, Value};
use crate::link::{self, Input, Outside, Scope, StaticTls, TlsTemplate};
use crate::load::{self, Placed, Segment};
use crate::mem::{Definition, Memory, Prot, Request, Resolver, Span};
use crate::parse::{self, DynInfo, HeaderError};
use crate::raw::{self, Reloc};
use crate::symbols::SymTab;
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::RefCell;

const ET_REL: u16 = 1;

/// The unit's name in the link stage's messages.
const NAME: &str = "object";

/// Why linking failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error<E> {
    /// The object is not a relocatable ELF64 object for the machine, or is malformed (the reason).
    Malformed(&'static str),
    /// A shared object's headers or dynamic section are unusable (what [`parse`] says).
    Invalid(String),
    /// The link stage refused the object.
    Link(link::Error),
    /// Something the core does not load (what).
    Unsupported(&'static str),
    /// A relocation type the machine's table does not have.
    RelocationType(u32),
    /// A strong reference the object's definitions and the resolver leave unbound (its name).
    Undefined(Vec<u8>),
    /// A relocation that does not fit: its type, the symbol's name, its offset in the unit.
    Relocation { name: &'static str, symbol: Vec<u8>, offset: u64, error: Refused },
    /// The caller's memory refused.
    Memory(E),
}

/// Global and weak definitions: name and run address.
pub type Definitions = Vec<(Vec<u8>, u64)>;

/// A linked object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Linked {
    /// Where it is: its headers and read-only data, code, then data.
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

/// The caller's resolver as the scope the link stage looks imported names up in.
struct Imports<'r>(RefCell<&'r mut dyn Resolver>);

impl Scope for Imports<'_> {
    fn find(&self, name: &[u8]) -> Option<Outside> {
        let request = Request { name, version: None, version_file: None, weak: false, tls: false };
        match self.0.borrow_mut().resolve(&request)? {
            // Whether it is code the resolver does not say: calls reach it through a stub anyway.
            Definition::Address { value, size } => Some(Outside { addr: value, func: false, size }),
            Definition::Tls { .. } => None,
        }
    }
}

/// No static TLS here: initial-exec and local-exec accesses to the object's own thread-local
/// variables are refused.
struct NoStaticTls;

impl StaticTls for NoStaticTls {
    fn reserve(&mut self, _: &TlsTemplate, _: &str) -> Option<i64> {
        None
    }
}

/// Link `image`, a relocatable object for the machine the core runs on ([`arch::native`]), into
/// `mem`; undefined symbols bind through `resolver`. On failure nothing stays reserved.
pub fn link<M>(mem: &mut M, image: &[u8], resolver: &mut dyn Resolver) -> Result<Linked, Error<M::Error>>
where
    M: Memory<[u8]> + ?Sized,
{
    let bad = Error::Malformed;
    if image.get(..4) != Some(b"\x7fELF") || image.get(4) != Some(&2) || image.get(5) != Some(&1) {
        return Err(bad("not a little-endian ELF64 file"));
    }
    if crate::raw::le(image, 16, 2) != Some(u64::from(ET_REL)) || crate::raw::le(image, 18, 2) != Some(u64::from(native::ELF_MACHINE)) {
        return Err(bad("not a relocatable object for this machine"));
    }
    let page = mem.page_size();
    let imports = Imports(RefCell::new(resolver));
    let inputs = [Input { name: NAME, data: image, whole_archive: false }];
    let mut unit = link::prepare(NAME, &inputs, &imports, page as u64).map_err(Error::Link)?;
    let len = usize::try_from(unit.span()).map_err(|_| bad("object too large"))?;
    let span = match unit.window().map_err(Error::Link)? {
        None => mem.reserve(len, page).map_err(Error::Memory)?,
        Some(w) => mem.reserve_in(len, page, w.lo, w.hi).map_err(Error::Memory)?.ok_or_else(|| Error::Link(unit.unplaceable()))?,
    };
    let resolver = imports.0.into_inner();
    place(mem, &span, &mut unit, resolver).inspect_err(|_| mem.release(span))
}

/// Write the unit into `span`, relocate and protect it.
fn place<M>(mem: &mut M, span: &Span, unit: &mut link::Prepared, resolver: &mut dyn Resolver) -> Result<Linked, Error<M::Error>>
where
    M: Memory<[u8]> + ?Sized,
{
    let page = mem.page_size() as u64;
    mem.zero(span, 0, span.len, Prot::RW).map_err(Error::Memory)?;
    let img = mem.bytes_mut(span, 0, unit.image_len()).ok_or(Error::Malformed("image outside the span"))?;
    unit.write(img, span.base, &mut NoStaticTls).map_err(Error::Link)?;
    let relocations: Vec<link::DynReloc> = unit.dynamic_relocations(img).collect();
    for r in relocations {
        let mut x = Inputs { a: r.addend, p: span.base.wrapping_add(r.offset), b: span.base, ..Inputs::default() };
        if let Some(name) = r.symbol {
            x = import(resolver, name, r.weak, r.tls, x)?;
        }
        // The unit is ELF64: its words are 8 bytes.
        let Some((v, n)) = value(r.ty, &x, 8, r.offset, r.symbol)? else { continue };
        let place = usize::try_from(r.offset).ok().and_then(|at| img.get_mut(at..at.checked_add(n)?));
        place.ok_or(Error::Malformed("relocation outside the image"))?.copy_from_slice(&v.to_le_bytes()[..n]);
    }
    let symbols = unit.exports(img).map(|(name, value)| (name.into(), span.base.wrapping_add(value))).collect();
    // The program headers the link stage wrote, read as any shared object's are.
    let (_, loads, relro) = headers(img, page)?;
    let placed = Placed { span: *span, lo: 0, bias: span.base };
    load::protect::<[u8], _>(mem, &placed, &loads, relro).map_err(placing)?;
    Ok(Linked { span: *span, symbols })
}

fn placing<E>(e: load::Error<E>) -> Error<E> {
    match e {
        load::Error::Layout(why) => Error::Malformed(why),
        load::Error::Memory(e) => Error::Memory(e),
    }
}

/// `x` with the definition `resolver` gives for `name` (a weak reference may stay unbound).
fn import<E>(resolver: &mut dyn Resolver, name: &[u8], weak: bool, tls: bool, x: Inputs) -> Result<Inputs, Error<E>> {
    let request = Request { name, version: None, version_file: None, weak, tls };
    match resolver.resolve(&request) {
        Some(d @ Definition::Address { .. }) => Ok(d.inputs(x)),
        Some(Definition::Tls { .. }) => Err(Error::Unsupported("thread-local symbols")),
        None if weak => Ok(x),
        None => Err(Error::Undefined(name.into())),
    }
}

/// What a dynamic relocation of type `ty` writes, with the running machine's table and
/// [`arch::dynamic`]: the value and its width in bytes (`word` for a machine word), or nothing.
/// `offset` and `symbol` name it in messages.
fn value<E>(ty: u32, x: &Inputs, word: usize, offset: u64, symbol: Option<&[u8]>) -> Result<Option<(u64, usize)>, Error<E>> {
    match arch::dynamic(native::classify(ty), x, word, native::DTV_OFFSET) {
        Ok(Value::None) => Ok(None),
        Ok(Value::Word(v)) => Ok(Some((v, word))),
        Ok(Value::Word32(v)) => Ok(Some((u64::from(v), 4))),
        Ok(Value::Ifunc(_)) => Err(Error::Unsupported("IFUNCs")),
        Err(Refused::Unknown) => Err(Error::RelocationType(ty)),
        Err(error) => Err(Error::Relocation { name: native::type_name(ty), symbol: symbol.unwrap_or_default().into(), offset, error }),
    }
}

/// The checked headers of `image`, a shared object (ET_DYN) for the machine the core runs on:
/// its layout, its PT_LOAD segments as [`load`] takes them, and its RELRO range.
#[allow(clippy::type_complexity)]
fn headers<E>(image: &[u8], page: u64) -> Result<(parse::Layout, Vec<Segment>, Option<(u64, u64)>), Error<E>> {
    let header = parse::check_header(image, image.len() as u64, &parse::Machine::native()).map_err(|e| match e {
        HeaderError::WrongClass => Error::Malformed("an object of the other ELF class"),
        HeaderError::Other(why) => Error::Invalid(why),
    })?;
    let phdrs = usize::try_from(header.phoff).ok().and_then(|at| image.get(at..at.checked_add(header.phnum * parse::PHDR_SIZE)?));
    let phdrs = phdrs.ok_or(Error::Malformed("program headers outside the image"))?;
    let layout = parse::check_segments(phdrs, header.phoff, image.len() as u64, page).map_err(Error::Invalid)?;
    let loads = layout
        .loads
        .iter()
        .map(|p| Segment { vaddr: p.p_vaddr, memsz: p.p_memsz, offset: p.p_offset, filesz: p.p_filesz, flags: p.p_flags })
        .collect();
    let relro = layout.relro.as_ref().map(|p| (p.p_vaddr, p.p_memsz));
    Ok((layout, loads, relro))
}

/// Load `image`, a shared object (ET_DYN) for the machine the core runs on ([`arch::native`]),
/// into `mem`: the object's own definitions bind inside it, its other references through
/// `resolver`. Gives its span and its global and weak definitions (run addresses). Thread-local
/// storage and IFUNCs, which need a runtime, are refused; constructors are not run. On failure
/// nothing stays reserved.
pub fn load_shared<M>(mem: &mut M, image: &[u8], resolver: &mut dyn Resolver) -> Result<Linked, Error<M::Error>>
where
    M: Memory<[u8]> + ?Sized,
{
    let (layout, loads, relro) = headers(image, mem.page_size() as u64)?;
    let placed = load::place::<[u8], _>(mem, image, &loads, layout.align).map_err(placing)?;
    relocate_shared(mem, &placed, &layout, &loads, resolver)
        .and_then(|symbols| {
            load::protect::<[u8], _>(mem, &placed, &loads, relro).map_err(placing)?;
            Ok(Linked { span: placed.span, symbols })
        })
        .inspect_err(|_| mem.release(placed.span))
}

/// Apply the relocations of a shared object `placed` in `mem` (every page still writable):
/// first every value is computed, reading the placed object, then written. Gives the object's
/// global and weak definitions.
// (Records' fields are 32 bits wide on ELF32 machines: the casts widen them there.)
#[allow(clippy::unnecessary_cast, clippy::useless_conversion)]
fn relocate_shared<M>(
    mem: &mut M,
    placed: &Placed,
    layout: &parse::Layout,
    loads: &[Segment],
    resolver: &mut dyn Resolver,
) -> Result<Definitions, Error<M::Error>>
where
    M: Memory<[u8]> + ?Sized,
{
    let dynamic = layout.dynamic.as_ref().ok_or(Error::Malformed("no dynamic section"))?;
    let page = mem.page_size() as u64;
    // Each segment's pages as the memory shows them: (first link-time address, bytes).
    let mut segments: Vec<(u64, &[u8])> = Vec::with_capacity(loads.len());
    for s in loads {
        let lo = s.vaddr & !(page - 1);
        let len = (s.vaddr + s.memsz).next_multiple_of(page) - lo;
        let at = placed.offset(lo, len as usize).ok_or(Error::Malformed("segment outside the span"))?;
        segments.push((lo, mem.bytes(&placed.span, at, len as usize).ok_or(Error::Malformed("segment not readable"))?));
    }
    // Where a link-time address is in this process's view of the memory (0 outside every segment,
    // which the span's checks refuse).
    let fix = |v: u64| {
        let inside = segments.iter().find(|(lo, b)| v >= *lo && v - lo < b.len() as u64);
        inside.map_or(0, |(lo, b)| b.as_ptr() as usize + (v - lo) as usize)
    };
    // SAFETY: the ranges are the segments' bytes, borrowed from `mem` until the end of this
    // block's reads: every record read through the span (the dynamic section, symbols, strings,
    // relocation records) is used before `writes` are made, after the borrows end.
    let span = unsafe { raw::Span::new(segments.iter().map(|(_, b)| (b.as_ptr() as usize, b.as_ptr() as usize + b.len())).collect()) };
    let d = DynInfo::read(&span, fix(dynamic.p_vaddr), dynamic.p_memsz as usize, fix).map_err(Error::Invalid)?;
    let syms = SymTab::new(&d, &span, 0).map_err(Error::Invalid)?;
    let word = raw::WORD;
    // (place, value, width) of each relocation.
    let mut writes: Vec<(u64, u64, usize)> = Vec::new();
    let mut one = |offset: u64, ty: u32, sym: u32, addend: Option<i64>| -> Result<(), Error<M::Error>> {
        let a = match addend {
            Some(a) => a,
            // REL: the addend is the word at the place.
            None => {
                let b = span.slice::<u8>(fix(offset), word).ok_or(Error::Malformed("relocation outside the object"))?;
                let mut w = [0u8; 8];
                w[..word].copy_from_slice(b);
                let w = u64::from_le_bytes(w);
                if word == 4 { w as u32 as i32 as i64 } else { w as i64 }
            }
        };
        let mut x = Inputs { a, p: placed.bias.wrapping_add(offset), b: placed.bias, ..Inputs::default() };
        let mut name = None;
        if sym != 0 {
            let s = syms.sym(sym).ok_or(Error::Malformed("relocation against a symbol past the table"))?;
            name = Some(syms.name(s));
            if s.kind() == elf::abi::STT_TLS {
                return Err(Error::Unsupported("thread-local symbols"));
            }
            x = match s.st_shndx {
                0 => import(resolver, syms.name(s), s.bind() == elf::abi::STB_WEAK, false, x)?,
                _ => Inputs { s: placed.bias.wrapping_add(s.value()), ..x },
            };
        }
        if let Some((v, n)) = value(ty, &x, word, offset, name)? {
            writes.push((offset, v, n));
        }
        Ok(())
    };
    if let Some((at, n)) = d.relr {
        let words = span.slice::<usize>(at, n).ok_or(Error::Malformed("RELR table outside the object"))?;
        for place in parse::relr_places(words) {
            one(place as u64, native::RELATIVE, 0, None)?;
        }
    }
    let rela = |t: Option<(usize, usize)>| t.map_or(Some(&[][..]), |(at, n)| span.slice::<raw::Rela>(at, n));
    let rel = |t: Option<(usize, usize)>| t.map_or(Some(&[][..]), |(at, n)| span.slice::<raw::Rel>(at, n));
    let (plt_rela, plt_rel) = if d.pltrel_is_rela { (d.jmprel, None) } else { (None, d.jmprel) };
    let outside = || Error::Malformed("relocation table outside the object");
    for r in rela(d.rela).ok_or_else(outside)?.iter().chain(rela(plt_rela).ok_or_else(outside)?) {
        one(r.offset() as u64, r.kind(), r.sym(), r.explicit_addend().map(i64::from))?;
    }
    for r in rel(d.rel).ok_or_else(outside)?.iter().chain(rel(plt_rel).ok_or_else(outside)?) {
        one(r.offset() as u64, r.kind(), r.sym(), None)?;
    }
    let symbols = (1..syms.len() as u32)
        .filter_map(|i| syms.sym(i))
        .filter(|s| s.st_shndx != 0 && matches!(s.bind(), elf::abi::STB_GLOBAL | elf::abi::STB_WEAK))
        .filter(|s| !matches!(s.kind(), elf::abi::STT_TLS | elf::abi::STT_GNU_IFUNC))
        .map(|s| (syms.name(s).to_vec(), placed.bias.wrapping_add(s.value())))
        .collect();
    // The borrows of `mem` end here; the values are written.
    for (offset, v, n) in writes {
        let at = placed.offset(offset, n).ok_or(Error::Malformed("relocation outside the object"))?;
        let place = mem.bytes_mut(&placed.span, at, n).ok_or(Error::Malformed("relocation in a page that is not writable"))?;
        place.copy_from_slice(&v.to_le_bytes()[..n]);
    }
    Ok(symbols)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::{Buffer, BufferError};

    const HERE: u16 = native::ELF_MACHINE;

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
        let mut link = |image: &[u8]| link(&mut mem, image, &mut nothing);
        let malformed = |why| Err::<Linked, Error<BufferError>>(Error::Malformed(why));
        assert_eq!(link(b"\x7fELF"), malformed("not a little-endian ELF64 file"));
        let mut elf32 = header(ET_REL, HERE);
        elf32[4] = 1;
        assert_eq!(link(&elf32), malformed("not a little-endian ELF64 file"));
        assert_eq!(link(&header(3, HERE)), malformed("not a relocatable object for this machine"));
        assert_eq!(link(&header(ET_REL, HERE ^ 1)), malformed("not a relocatable object for this machine"));
        // What the link stage refuses it names: no section at all, then a section table past
        // the end of the file.
        let refused = |r: Result<Linked, Error<BufferError>>| match r {
            Err(Error::Link(link::Error::Malformed { file, reason })) => std::format!("{file}: {reason}"),
            r => panic!("{r:?}"),
        };
        let mut version = header(ET_REL, HERE);
        version[6] = 1;
        assert_eq!(refused(link(&version)), "object: no section headers");
        let mut past = version.clone();
        past[40..48].copy_from_slice(&64u64.to_le_bytes());
        past[60..62].copy_from_slice(&1u16.to_le_bytes());
        assert!(refused(link(&past)).starts_with("object: bad ELF header or section header table"));
    }
}
