//! Linking one relocatable ELF64 object (a `.o`) into the caller's [`Memory`]: a driver of the
//! link stage ([`crate::link`]) for callers that have a [`Memory`] and a [`Resolver`] rather
//! than a process.
//!
//! [`link`] links the object into a unit with the link stage (symbols, the relocation scan,
//! GOT entries and call stubs for what the object imports, layout, the image), the object's
//! imports looked up through the caller's [`Resolver`]; reserves the unit's span where its
//! 32-bit fields reach what they refer to when the memory can place it there
//! ([`Memory::reserve_in`]); writes the image into it, applies the unit's dynamic relocations
//! (the running machine's `classify`, then [`arch::dynamic`]) and gives each segment its protection
//! ([`load::protect`]): code read and execute, read-only data read, data read-write, RELRO
//! read-only. Thread-local variables and IFUNCs are the runtime's: refused here.

use crate::arch::{self, native, Inputs, Refused, Value};
use crate::link::{self, Input, Outside, Scope, StaticTls, TlsTemplate};
use crate::load::{self, Placed, Segment};
use crate::mem::{Definition, Memory, Prot, Request, Resolver, Span};
use alloc::vec::Vec;
use core::cell::RefCell;

const ET_REL: u16 = 1;
const PT_LOAD: u32 = 1;
const PT_GNU_RELRO: u32 = 0x6474_e552;

/// The unit's name in the link stage's messages.
const NAME: &str = "object";

/// Why linking failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error<E> {
    /// The object is not a relocatable ELF64 object for the machine, or is malformed (the reason).
    Malformed(&'static str),
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

/// The little-endian integer of `len` bytes at `at`.
fn le(bytes: &[u8], at: usize, len: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(len)?)?;
    Some(b.iter().rev().fold(0, |v, &x| v << 8 | u64::from(x)))
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
    if le(image, 16, 2) != Some(u64::from(ET_REL)) || le(image, 18, 2) != Some(u64::from(native::ELF_MACHINE)) {
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
    mem.zero(span, 0, span.len, Prot::RW).map_err(Error::Memory)?;
    let img = mem.bytes_mut(span, 0, unit.image_len()).ok_or(Error::Malformed("image outside the span"))?;
    unit.write(img, span.base, &mut NoStaticTls).map_err(Error::Link)?;
    let relocations: Vec<link::DynReloc> = unit.dynamic_relocations(img).collect();
    for r in relocations {
        let kind = native::classify(r.ty);
        let mut x = Inputs { a: r.addend, p: span.base.wrapping_add(r.offset), b: span.base, ..Inputs::default() };
        if let Some(name) = r.symbol {
            let request = Request { name, version: None, version_file: None, weak: r.weak, tls: r.tls };
            match resolver.resolve(&request) {
                Some(d @ Definition::Address { .. }) => x = d.inputs(x),
                Some(Definition::Tls { .. }) => return Err(Error::Unsupported("thread-local symbols")),
                None if r.weak => {}
                None => return Err(Error::Undefined(name.into())),
            }
        }
        // The unit is ELF64: its words are 8 bytes.
        let (v, n) = match arch::dynamic(kind, &x, 8, native::DTV_OFFSET) {
            Ok(Value::None) => continue,
            Ok(Value::Word(v)) => (v, 8),
            Ok(Value::Word32(v)) => (u64::from(v), 4),
            Ok(Value::Ifunc(_)) => return Err(Error::Unsupported("IFUNCs")),
            Err(Refused::Unknown) => return Err(Error::RelocationType(r.ty)),
            Err(error) => {
                let symbol = r.symbol.unwrap_or_default().into();
                return Err(Error::Relocation { name: native::type_name(r.ty), symbol, offset: r.offset, error });
            }
        };
        let place = usize::try_from(r.offset).ok().and_then(|at| img.get_mut(at..at.checked_add(n)?));
        place.ok_or(Error::Malformed("relocation outside the image"))?.copy_from_slice(&v.to_le_bytes()[..n]);
    }
    let symbols = unit.exports(img).map(|(name, value)| (name.into(), span.base.wrapping_add(value))).collect();
    // The program headers the link stage wrote: 56 bytes each, after the 64-byte ELF header.
    let phnum = le(img, 56, 2).unwrap_or(0) as usize;
    let (mut loads, mut relro) = (Vec::new(), None);
    for ph in img.get(64..64 + 56 * phnum).unwrap_or_default().chunks_exact(56) {
        let field = |at| le(ph, at, 8).unwrap_or(0);
        match le(ph, 0, 4).unwrap_or(0) as u32 {
            PT_LOAD => loads.push(Segment { vaddr: field(16), memsz: field(40), offset: field(8), filesz: field(32), flags: le(ph, 4, 4).unwrap_or(0) as u32 }),
            PT_GNU_RELRO => relro = Some((field(16), field(40))),
            _ => {}
        }
    }
    let placed = Placed { span: *span, lo: 0, bias: span.base };
    load::protect::<[u8], _>(mem, &placed, &loads, relro).map_err(|e| match e {
        load::Error::Layout(why) => Error::Malformed(why),
        load::Error::Memory(e) => Error::Memory(e),
    })?;
    Ok(Linked { span: *span, symbols })
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
