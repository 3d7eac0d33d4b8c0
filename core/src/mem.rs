//! What the core asks of its caller: memory to load objects into ([`Memory`]), the bytes of
//! the objects ([`Image`]), and the definitions of the symbols they import ([`Resolver`]).
//!
//! The core never allocates address space, maps, protects or opens anything itself. A
//! loader built on it goes through these traits in this order, for each object:
//!
//! 1. [`Memory::reserve`] one span for the object's whole address range (the lowest PT_LOAD
//!    page to the end of the highest), aligned to the largest `p_align`. The span's
//!    [`Span::base`] is the address the object's code will run at: the load bias is
//!    `base − lowest p_vaddr page`.
//! 2. For each PT_LOAD, [`Memory::map`] its file pages (page-aligned offset and length) at
//!    their place in the span, then [`Memory::zero`] for the pages past the file bytes
//!    (.bss). The core zeroes the tail of the last file page itself through
//!    [`Memory::bytes_mut`], with the segment mapped writable until then.
//! 3. Relocations are written through [`Memory::bytes_mut`]; symbols come from the
//!    [`Resolver`].
//! 4. [`Memory::protect`] gives each segment its final protection, and the RELRO range
//!    read-only. No range is ever asked to be writable and executable at once.
//! 5. [`Memory::release`] when the object is unloaded (or its load fails).
//!
//! Offsets (`at`) are relative to the start of the span and page aligned for `map`, `zero`
//! and `protect`; lengths there are whole pages.
//!
//! Two implementations are planned: the process (relink's `src/map.rs` over `src/os.rs`:
//! `reserve` is an anonymous PROT_NONE `mmap`, `map` maps the file descriptor with
//! `MAP_PRIVATE | MAP_FIXED` for [`Image`]s that are files and copies for images in memory,
//! `protect` is `mprotect`, `bytes_mut` views the mapped pages), and [`Buffer`] here: a
//! span inside bytes the caller owns (a kernel's module area, a test's array), where the
//! object runs at an address the caller chooses.

use alloc::vec;
use alloc::vec::Vec;

/// Access rights of a range of a span.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prot {
    pub read: bool,
    pub write: bool,
    pub exec: bool,
}

impl Prot {
    pub const NONE: Prot = Prot { read: false, write: false, exec: false };
    pub const R: Prot = Prot { read: true, write: false, exec: false };
    pub const RW: Prot = Prot { read: true, write: true, exec: false };
    pub const RX: Prot = Prot { read: true, write: false, exec: true };

    /// The protection a program header's `p_flags` (PF_X 1, PF_W 2, PF_R 4) asks for.
    pub fn from_flags(p_flags: u32) -> Prot {
        Prot { read: p_flags & 4 != 0, write: p_flags & 2 != 0, exec: p_flags & 1 != 0 }
    }
}

/// The bytes of an object, wherever they are: a file the caller can map or read, or bytes in
/// memory (`[u8]` implements it).
pub trait Image {
    type Error;

    /// Length in bytes.
    fn len(&self) -> u64;

    /// Whether the image is empty.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Fill `buf` with the bytes at `offset`; an error when they are not all there.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), Self::Error>;
}

/// A range outside an image or a span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutOfRange;

impl Image for [u8] {
    type Error = OutOfRange;

    fn len(&self) -> u64 {
        <[u8]>::len(self) as u64
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<(), OutOfRange> {
        let start = usize::try_from(offset).map_err(|_| OutOfRange)?;
        let end = start.checked_add(buf.len()).ok_or(OutOfRange)?;
        buf.copy_from_slice(self.get(start..end).ok_or(OutOfRange)?);
        Ok(())
    }
}

/// A span of address space reserved for one object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The address the object's first page runs at.
    pub base: u64,
    /// Length in bytes (whole pages).
    pub len: usize,
}

/// Memory the core loads objects into, provided by the caller for images of type `I`.
pub trait Memory<I: Image + ?Sized> {
    type Error;

    /// The page size: the granule of `map`, `zero` and `protect`.
    fn page_size(&self) -> usize;

    /// Reserve `len` bytes (whole pages) at an address aligned to `align` (a power of two,
    /// at least the page size), inaccessible until mapped.
    fn reserve(&mut self, len: usize, align: usize) -> Result<Span, Self::Error>;

    /// Reserve like [`Memory::reserve`], inside the addresses `lo .. hi`: where 32-bit
    /// displacements of linked code reach what they refer to (the link stage's placement).
    /// `Ok(None)` when there is no room there. By default a plain reservation kept only when
    /// it happens to fall inside; the process searches its address space instead.
    fn reserve_in(&mut self, len: usize, align: usize, lo: u64, hi: u64) -> Result<Option<Span>, Self::Error> {
        let span = self.reserve(len, align)?;
        if span.base >= lo && span.base.checked_add(len as u64).is_some_and(|end| end <= hi) {
            return Ok(Some(span));
        }
        self.release(span);
        Ok(None)
    }

    /// Make bytes `offset .. offset + len` of `image` appear at `at` in `span`, with `prot`.
    /// Bytes past the end of the image read as zero. The process maps the file's pages; a
    /// buffer copies.
    fn map(&mut self, span: &Span, at: usize, len: usize, image: &I, offset: u64, prot: Prot) -> Result<(), Self::Error>;

    /// Zero-filled pages at `at` in `span`, with `prot`.
    fn zero(&mut self, span: &Span, at: usize, len: usize, prot: Prot) -> Result<(), Self::Error>;

    /// Change the protection of mapped pages.
    fn protect(&mut self, span: &Span, at: usize, len: usize, prot: Prot) -> Result<(), Self::Error>;

    /// The bytes at `at` in `span`, when they are mapped readable.
    fn bytes(&self, span: &Span, at: usize, len: usize) -> Option<&[u8]>;

    /// The bytes at `at` in `span`, when they are mapped writable (relocations, .bss tails).
    fn bytes_mut(&mut self, span: &Span, at: usize, len: usize) -> Option<&mut [u8]>;

    /// Give the span back.
    fn release(&mut self, span: Span);
}

/// A reference to a symbol that the core needs bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    /// The symbol's name.
    pub name: &'a [u8],
    /// The version the reference asks for (from the object's version needs), if any.
    pub version: Option<&'a [u8]>,
    /// The file that version belongs to (`vna_name`'s library), if any.
    pub version_file: Option<&'a [u8]>,
    /// A weak reference: it may stay unresolved, and then binds to 0.
    pub weak: bool,
    /// A reference to thread-local storage.
    pub tls: bool,
}

/// What a symbol binds to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Definition {
    /// An address (code or data), and the symbol's size.
    Address { value: u64, size: u64 },
    /// A thread-local variable: its TLS module id, its offset in that module's block, and the
    /// block's offset from the thread pointer when the block is in static TLS.
    Tls { module: u64, offset: u64, tp_offset: Option<i64> },
}

impl Definition {
    /// The relocation inputs this definition gives (`S`, and for TLS the module id and
    /// TLSOFFSET), over the place's own `x`.
    pub fn inputs(&self, x: crate::arch::Inputs) -> crate::arch::Inputs {
        match *self {
            Definition::Address { value, .. } => crate::arch::Inputs { s: value, ..x },
            Definition::Tls { module, offset, tp_offset } => {
                crate::arch::Inputs { s: offset, module, tls_offset: tp_offset.unwrap_or(0), ..x }
            }
        }
    }
}

/// Binds the symbols an object imports. A closure `FnMut(&Request) -> Option<Definition>`
/// is one.
pub trait Resolver {
    /// The definition `request` binds to, or `None` when there is none.
    fn resolve(&mut self, request: &Request<'_>) -> Option<Definition>;
}

impl<F: FnMut(&Request<'_>) -> Option<Definition>> Resolver for F {
    fn resolve(&mut self, request: &Request<'_>) -> Option<Definition> {
        self(request)
    }
}

/// Why a [`Buffer`] refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BufferError {
    /// Not enough room left in the buffer.
    Full,
    /// A range outside the span or the image, or not page aligned.
    Range,
    /// Writable and executable at once.
    WriteExec,
}

/// [`Memory`] inside bytes the caller owns. The object runs at `run_base` + its offset in
/// the buffer: the address the caller will execute it at, which need not be where the bytes
/// are now (a kernel copying a module to its final place, a test checking relocated bytes).
/// Protections are recorded per page and enforced on [`Memory::bytes`] and
/// [`Memory::bytes_mut`]; applying them to the hardware is the caller's business.
pub struct Buffer<'a> {
    bytes: &'a mut [u8],
    run_base: u64,
    page: usize,
    /// Bytes handed out so far (spans are carved from the start, in order).
    used: usize,
    prot: Vec<Prot>,
}

impl<'a> Buffer<'a> {
    /// A buffer whose byte 0 runs at `run_base` (page aligned), with pages of `page` bytes (a
    /// power of two).
    pub fn new(bytes: &'a mut [u8], run_base: u64, page: usize) -> Buffer<'a> {
        assert!(page.is_power_of_two() && run_base.is_multiple_of(page as u64), "pages are powers of two and the base is page aligned");
        let pages = bytes.len() / page;
        Buffer { bytes, run_base, page, used: 0, prot: vec![Prot::NONE; pages] }
    }

    /// The protection recorded for the page holding run address `addr`.
    pub fn prot_at(&self, addr: u64) -> Option<Prot> {
        let off = usize::try_from(addr.checked_sub(self.run_base)?).ok()?;
        self.prot.get(off / self.page).copied()
    }

    /// Offset in the buffer of `at .. at + len` inside `span`, when it lies inside both.
    fn range(&self, span: &Span, at: usize, len: usize) -> Option<usize> {
        let start = usize::try_from(span.base.checked_sub(self.run_base)?).ok()?.checked_add(at)?;
        let end = start.checked_add(len)?;
        (at.checked_add(len)? <= span.len && end <= self.bytes.len()).then_some(start)
    }

    /// Like `range`, also requiring whole pages.
    fn pages(&self, span: &Span, at: usize, len: usize) -> Result<usize, BufferError> {
        let start = self.range(span, at, len).ok_or(BufferError::Range)?;
        if !at.is_multiple_of(self.page) || !len.is_multiple_of(self.page) {
            return Err(BufferError::Range);
        }
        Ok(start)
    }

    fn set_prot(&mut self, start: usize, len: usize, prot: Prot) -> Result<(), BufferError> {
        if prot.write && prot.exec {
            return Err(BufferError::WriteExec);
        }
        self.prot[start / self.page..(start + len) / self.page].fill(prot);
        Ok(())
    }

    fn allowed(&self, start: usize, len: usize, ok: fn(Prot) -> bool) -> bool {
        let last = (start + len.max(1) - 1) / self.page;
        self.prot.get(start / self.page..=last).is_some_and(|p| p.iter().all(|&p| ok(p)))
    }
}

impl<I: Image + ?Sized> Memory<I> for Buffer<'_> {
    type Error = BufferError;

    fn page_size(&self) -> usize {
        self.page
    }

    fn reserve(&mut self, len: usize, align: usize) -> Result<Span, BufferError> {
        if !align.is_power_of_two() || !len.is_multiple_of(self.page) {
            return Err(BufferError::Range);
        }
        let align = align.max(self.page) as u64;
        let next = self.run_base.checked_add(self.used as u64).ok_or(BufferError::Full)?;
        let base = next.checked_add(align - 1).ok_or(BufferError::Full)? & !(align - 1);
        let start = (base - self.run_base) as usize;
        let end = start.checked_add(len).filter(|&e| e <= self.bytes.len()).ok_or(BufferError::Full)?;
        self.used = end;
        Ok(Span { base, len })
    }

    fn map(&mut self, span: &Span, at: usize, len: usize, image: &I, offset: u64, prot: Prot) -> Result<(), BufferError> {
        let start = self.pages(span, at, len)?;
        let dest = &mut self.bytes[start..start + len];
        // The image's bytes, then zeros past its end.
        let have = usize::try_from(image.len().saturating_sub(offset)).unwrap_or(usize::MAX).min(len);
        image.read_at(offset, &mut dest[..have]).map_err(|_| BufferError::Range)?;
        dest[have..].fill(0);
        self.set_prot(start, len, prot)
    }

    fn zero(&mut self, span: &Span, at: usize, len: usize, prot: Prot) -> Result<(), BufferError> {
        let start = self.pages(span, at, len)?;
        self.bytes[start..start + len].fill(0);
        self.set_prot(start, len, prot)
    }

    fn protect(&mut self, span: &Span, at: usize, len: usize, prot: Prot) -> Result<(), BufferError> {
        let start = self.pages(span, at, len)?;
        self.set_prot(start, len, prot)
    }

    fn bytes(&self, span: &Span, at: usize, len: usize) -> Option<&[u8]> {
        let start = self.range(span, at, len)?;
        self.allowed(start, len, |p| p.read).then(|| &self.bytes[start..start + len])
    }

    fn bytes_mut(&mut self, span: &Span, at: usize, len: usize) -> Option<&mut [u8]> {
        let start = self.range(span, at, len)?;
        self.allowed(start, len, |p| p.write).then(|| &mut self.bytes[start..start + len])
    }

    fn release(&mut self, span: Span) {
        if let Some(start) = self.range(&span, 0, span.len) {
            self.prot[start / self.page..(start + span.len) / self.page].fill(Prot::NONE);
            // The last span handed out gives its room back.
            if start + span.len == self.used {
                self.used = start;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::Inputs;

    #[test]
    fn buffer_reserves_maps_and_protects() {
        let mut storage = [0xaau8; 0x4000];
        let mut mem = Buffer::new(&mut storage, 0x4000_0000, 0x1000);
        let image: &[u8] = &[1, 2, 3, 4, 5];
        let m: &mut dyn Memory<[u8], Error = BufferError> = &mut mem;
        let a = m.reserve(0x1000, 0x1000).unwrap();
        assert_eq!(a, Span { base: 0x4000_0000, len: 0x1000 });
        // Aligned to 8 KiB: the span starts at 0x4000_2000, leaving a hole.
        let b = m.reserve(0x2000, 0x2000).unwrap();
        assert_eq!(b, Span { base: 0x4000_2000, len: 0x2000 });
        assert_eq!(m.reserve(0x1000, 0x1000), Err(BufferError::Full));

        // Nothing is accessible before it is mapped.
        assert_eq!(m.bytes(&b, 0, 1), None);
        m.map(&b, 0, 0x1000, image, 2, Prot::R).unwrap();
        assert_eq!(m.bytes(&b, 0, 4), Some(&[3, 4, 5, 0][..]));
        assert_eq!(m.bytes(&b, 0xfff, 1), Some(&[0][..]));
        assert!(m.bytes_mut(&b, 0, 1).is_none(), "read-only");
        m.zero(&b, 0x1000, 0x1000, Prot::RW).unwrap();
        m.bytes_mut(&b, 0x1ffc, 4).unwrap().copy_from_slice(&[9; 4]);
        // A range crossing into the read-only page is not writable as a whole.
        assert!(m.bytes_mut(&b, 0xffc, 8).is_none());
        assert_eq!(m.protect(&b, 0, 0x1000, Prot { read: true, write: true, exec: true }), Err(BufferError::WriteExec));
        assert_eq!(m.protect(&b, 0x800, 0x1000, Prot::R), Err(BufferError::Range));
        assert_eq!(m.map(&b, 0, 0x1000, image, 6, Prot::R), Err(BufferError::Range));
        assert_eq!(m.bytes(&b, 0x1000, 0x1001), None, "past the span");
        m.protect(&b, 0x1000, 0x1000, Prot::RX).unwrap();
        m.release(b);
        assert_eq!(mem.prot_at(0x4000_3000), Some(Prot::NONE));
        // The last span's room is reusable; a window it does not fit gives it back again.
        let m: &mut dyn Memory<[u8], Error = BufferError> = &mut mem;
        assert_eq!(m.reserve_in(0x2000, 0x1000, 0, 0x4000_3000), Ok(None));
        assert_eq!(m.reserve_in(0x2000, 0x1000, 0x4000_2000, 0x4000_4000), Ok(Some(Span { base: 0x4000_2000, len: 0x2000 })));
        drop(mem);
        assert_eq!(&storage[0x3ffc..0x4000], &[9; 4]);
    }

    #[test]
    fn resolver_and_definitions() {
        let mut table = |r: &Request<'_>| match r.name {
            b"counter" => Some(Definition::Address { value: 0x1000, size: 4 }),
            b"tls_var" if r.tls => Some(Definition::Tls { module: 3, offset: 0x10, tp_offset: Some(-0x80) }),
            _ => None,
        };
        let ask = |name: &'static [u8], tls| Request { name, version: None, version_file: None, weak: false, tls };
        let r: &mut dyn Resolver = &mut table;
        let place = Inputs { p: 0x2000, a: 8, ..Inputs::default() };
        let d = r.resolve(&ask(b"counter", false)).unwrap();
        assert_eq!(d.inputs(place), Inputs { s: 0x1000, p: 0x2000, a: 8, ..Inputs::default() });
        let t = r.resolve(&ask(b"tls_var", true)).unwrap();
        assert_eq!(t.inputs(place), Inputs { s: 0x10, module: 3, tls_offset: -0x80, p: 0x2000, a: 8, ..Inputs::default() });
        assert_eq!(r.resolve(&ask(b"missing", false)), None);
    }

    #[test]
    fn images_in_memory() {
        let image: &[u8] = b"\x7fELF";
        let mut b = [0u8; 2];
        image.read_at(2, &mut b).unwrap();
        assert_eq!(&b, b"LF");
        assert_eq!(image.read_at(3, &mut b), Err(OutOfRange));
        assert_eq!(image.read_at(u64::MAX, &mut b), Err(OutOfRange));
        assert_eq!(Image::len(image), 4);
    }
}
