//! Placing an object's loadable segments into the caller's [`Memory`].
//!
//! [`place`] reserves one span for all PT_LOAD segments, maps each one's file pages, zeroes
//! the rest of its last file page and maps zeroed pages for the remainder of its .bss. Every
//! page stays writable (never executable) so that relocations can be written; [`protect`]
//! then gives each segment its own protection and makes the RELRO range read-only.

use crate::mem::{Image, Memory, Prot, Span};
use alloc::vec::Vec;

/// A PT_LOAD program header, in the fields placing needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Segment {
    pub vaddr: u64,
    pub memsz: u64,
    pub offset: u64,
    pub filesz: u64,
    /// PF_R 4, PF_W 2, PF_X 1.
    pub flags: u32,
}

/// Where an object was placed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Placed {
    pub span: Span,
    /// The lowest segment page's `p_vaddr`: span offset 0.
    pub lo: u64,
    /// The load bias: run address = bias + `p_vaddr`.
    pub bias: u64,
}

impl Placed {
    /// The offset in the span of `vaddr .. vaddr + len`, when it lies inside.
    pub fn offset(&self, vaddr: u64, len: usize) -> Option<usize> {
        let at = usize::try_from(vaddr.checked_sub(self.lo)?).ok()?;
        (at.checked_add(len)? <= self.span.len).then_some(at)
    }
}

/// Why placing failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error<E> {
    /// The segments do not describe a loadable image (the reason).
    Layout(&'static str),
    /// The caller's memory refused.
    Memory(E),
}

fn down(v: u64, page: u64) -> u64 {
    v & !(page - 1)
}

fn up(v: u64, page: u64) -> Option<u64> {
    Some(v.checked_add(page - 1)? & !(page - 1))
}

/// Per segment: the page range it covers and the end of its file bytes, as span offsets.
struct Pages {
    start: usize,
    file_end: usize,
    file_pages_end: usize,
    end: usize,
}

fn pages(segments: &[Segment], page: u64, lo: u64) -> Result<Vec<Pages>, &'static str> {
    let off = |v: u64| usize::try_from(v - lo).map_err(|_| "segment too large");
    segments
        .iter()
        .map(|s| {
            let mem_end = s.vaddr.checked_add(s.memsz).ok_or("segment wraps around")?;
            let file_end = s.vaddr + s.filesz;
            if s.filesz > s.memsz {
                return Err("a segment's file size exceeds its memory size");
            }
            if s.offset % page != s.vaddr % page {
                return Err("a segment's offset and address disagree modulo the page size");
            }
            if s.flags & 3 == 3 {
                return Err("a segment is both writable and executable");
            }
            Ok(Pages {
                start: off(down(s.vaddr, page))?,
                file_end: off(file_end)?,
                file_pages_end: off(up(file_end, page).ok_or("segment wraps around")?)?,
                end: off(up(mem_end, page).ok_or("segment wraps around")?)?,
            })
        })
        .collect()
}

/// Reserve a span aligned to `align` for `segments` (in ascending `vaddr` order) and place
/// their bytes from `image`, everything read-write.
pub fn place<I, M>(mem: &mut M, image: &I, segments: &[Segment], align: u64) -> Result<Placed, Error<M::Error>>
where
    I: Image + ?Sized,
    M: Memory<I> + ?Sized,
{
    let page = mem.page_size() as u64;
    let (first, last) = match (segments.first(), segments.last()) {
        (Some(f), Some(l)) => (f, l),
        _ => return Err(Error::Layout("no loadable segment")),
    };
    if segments.windows(2).any(|w| w[1].vaddr < w[0].vaddr.saturating_add(w[0].memsz)) {
        return Err(Error::Layout("loadable segments overlap or are out of order"));
    }
    let lo = down(first.vaddr, page);
    let hi = last.vaddr.checked_add(last.memsz).and_then(|e| up(e, page)).ok_or(Error::Layout("segment wraps around"))?;
    let layout = pages(segments, page, lo).map_err(Error::Layout)?;
    let len = usize::try_from(hi - lo).map_err(|_| Error::Layout("image too large"))?;
    let span = mem.reserve(len, align.max(page) as usize).map_err(Error::Memory)?;
    let placed = Placed { span, lo, bias: span.base.wrapping_sub(lo) };
    let fill = |mem: &mut M| -> Result<(), Error<M::Error>> {
        for (s, p) in segments.iter().zip(&layout) {
            if s.filesz > 0 {
                let len = p.file_pages_end - p.start;
                mem.map(&span, p.start, len, image, down(s.offset, page), Prot::RW).map_err(Error::Memory)?;
                if s.memsz > s.filesz {
                    // The rest of the last file page belongs to .bss.
                    let tail = mem.bytes_mut(&span, p.file_end, p.file_pages_end - p.file_end);
                    tail.ok_or(Error::Layout("segment bytes not writable"))?.fill(0);
                }
            }
            let anon = if s.filesz > 0 { p.file_pages_end } else { p.start };
            if p.end > anon {
                mem.zero(&span, anon, p.end - anon, Prot::RW).map_err(Error::Memory)?;
            }
        }
        Ok(())
    };
    fill(mem).inspect_err(|_| mem.release(span))?;
    Ok(placed)
}

/// Give each segment its protection, then make `relro` (PT_GNU_RELRO's `p_vaddr` and
/// `p_memsz`) read-only: from its first page to the last page it ends in, as glibc does.
pub fn protect<I, M>(mem: &mut M, placed: &Placed, segments: &[Segment], relro: Option<(u64, u64)>) -> Result<(), Error<M::Error>>
where
    I: Image + ?Sized,
    M: Memory<I> + ?Sized,
{
    let page = mem.page_size() as u64;
    for (s, p) in segments.iter().zip(pages(segments, page, placed.lo).map_err(Error::Layout)?) {
        let prot = Prot::from_flags(s.flags);
        mem.protect(&placed.span, p.start, p.end - p.start, prot).map_err(Error::Memory)?;
    }
    if let Some((vaddr, memsz)) = relro {
        let start = down(vaddr, page);
        let end = down(vaddr.saturating_add(memsz), page);
        if end > start {
            let at = placed.offset(start, (end - start) as usize).ok_or(Error::Layout("RELRO outside the image"))?;
            mem.protect(&placed.span, at, (end - start) as usize, Prot::R).map_err(Error::Memory)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::{Buffer, BufferError};

    #[test]
    fn segments_placed_and_protected() {
        // Text at 0..0x1800 (file 0..0x1800), data at 0x2800 with 0x100 file bytes at file
        // offset 0x1800 and 0x1000 of memory (.bss spills into a second page), RELRO on the
        // data's first page.
        let mut image = std::vec![0x11u8; 0x1900];
        image[0x1800..].fill(0x22);
        let segments = [
            Segment { vaddr: 0, memsz: 0x1800, offset: 0, filesz: 0x1800, flags: 5 },
            Segment { vaddr: 0x2800, memsz: 0x1000, offset: 0x1800, filesz: 0x100, flags: 6 },
        ];
        let mut storage = std::vec![0xeeu8; 0x8000];
        let mut mem = Buffer::new(&mut storage, 0x10_0000, 0x1000);
        let placed = place(&mut mem, &image[..], &segments, 0x1000).unwrap();
        assert_eq!(placed, Placed { span: Span { base: 0x10_0000, len: 0x4000 }, lo: 0, bias: 0x10_0000 });
        let m: &mut dyn Memory<[u8], Error = BufferError> = &mut mem;
        // Data bytes at 0x2800 (the file page at 0x1000 mapped at 0x2000), then zeros.
        assert_eq!(m.bytes(&placed.span, 0x2800, 2), Some(&[0x22, 0x22][..]));
        assert_eq!(m.bytes(&placed.span, 0x2900, 1), Some(&[0][..]));
        assert_eq!(m.bytes(&placed.span, 0x37ff, 1), Some(&[0][..]));
        // Text's last page past the file's text is the data's file bytes, as a mapping shows.
        assert_eq!(m.bytes(&placed.span, 0x17ff, 2), Some(&[0x11, 0x22][..]));
        protect(m, &placed, &segments, Some((0x2800, 0x400))).unwrap();
        assert_eq!(mem.prot_at(0x10_0000), Some(Prot::RX));
        assert_eq!(mem.prot_at(0x10_2000), Some(Prot::RW), "RELRO ends inside its first page");
        assert_eq!(mem.prot_at(0x10_3000), Some(Prot::RW));
        let m: &mut dyn Memory<[u8], Error = BufferError> = &mut mem;
        protect(m, &placed, &segments, Some((0x2800, 0x800))).unwrap();
        assert_eq!(mem.prot_at(0x10_2000), Some(Prot::R));
        assert_eq!(mem.prot_at(0x10_3000), Some(Prot::RW));
    }

    #[test]
    fn bad_layouts() {
        let mut storage = std::vec![0u8; 0x4000];
        let mut mem = Buffer::new(&mut storage, 0, 0x1000);
        let image = [0u8; 16];
        let m: &mut dyn Memory<[u8], Error = BufferError> = &mut mem;
        let seg = |vaddr, offset, filesz, memsz, flags| Segment { vaddr, offset, filesz, memsz, flags };
        let cases: [(&[Segment], &str); 5] = [
            (&[], "no loadable segment"),
            (&[seg(0, 0, 16, 8, 4)], "a segment's file size exceeds its memory size"),
            (&[seg(0x10, 0x20, 0, 8, 4)], "a segment's offset and address disagree modulo the page size"),
            (&[seg(0, 0, 0, 8, 7)], "a segment is both writable and executable"),
            (&[seg(0x1000, 0, 0, 8, 4), seg(0, 0, 0, 8, 4)], "loadable segments overlap or are out of order"),
        ];
        for (segments, reason) in cases {
            assert_eq!(place(m, &image[..], segments, 0x1000), Err(Error::Layout(reason)));
        }
        // More than the buffer holds.
        assert_eq!(place(m, &image[..], &[seg(0, 0, 16, 0x5000, 4)], 0x1000), Err(Error::Memory(BufferError::Full)));
    }
}
