//! Stage 2 — map: reserve the object's whole span once, map its PT_LOAD segments (from the file
//! descriptor, or copied into anonymous memory for images given in memory), zero .bss, and read
//! its dynamic section into a [`Module`].
//!
//! No mapping is ever writable and executable at once: a segment that asks for both is refused,
//! and a segment made writable for text relocations loses its execute bit until relocation ends.

use crate::error::{Error, Result};
use crate::module::{Image, Module, Parts};
use crate::os::{self, Prot, Region};
use crate::parse::{self, DynInfo, Layout};
use crate::raw::Span;
use crate::symbols::SymTab;
use elf::abi;
use std::path::PathBuf;

/// Where an image's bytes come from.
pub enum Source<'a> {
    File(os::File),
    Memory(&'a [u8]),
}

impl Source<'_> {
    fn len(&self) -> u64 {
        match self {
            Source::File(f) => f.size,
            Source::Memory(m) => m.len() as u64,
        }
    }

    /// Read up to `len` bytes at `off` (fewer when the image ends first).
    fn read(&self, off: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let len = (len as u64).min(self.len().saturating_sub(off)) as usize;
        match self {
            Source::File(f) => {
                let mut buf = vec![0; len];
                f.read_at(&mut buf, off)?;
                Ok(buf)
            }
            Source::Memory(m) => Ok(m[off as usize..off as usize + len].to_vec()),
        }
    }
}

fn prot_of(flags: u32) -> Prot {
    Prot { read: flags & abi::PF_R != 0, write: flags & abi::PF_W != 0, exec: flags & abi::PF_X != 0 }
}

/// Validate the headers of an image without mapping anything.
pub fn read_layout(src: &Source, name: &str) -> Result<Layout> {
    let bad = |reason: String| Error::Malformed { file: name.to_string(), reason };
    let io = |e: std::io::Error| Error::Io { file: name.to_string(), reason: e.to_string() };
    let head = src.read(0, parse::EHDR_SIZE).map_err(io)?;
    let (phoff, phnum) = parse::check_header(&head, src.len()).map_err(bad)?;
    let raw = src.read(phoff, phnum * 56).map_err(io)?;
    parse::check_segments(&raw, phoff, src.len(), os::page_size() as u64).map_err(bad)
}

/// One PT_LOAD in memory (runtime addresses).
struct Segment {
    /// First page and end of the last page.
    start: usize,
    end: usize,
    /// The segment's own bytes: `[lo, hi)`, of which `[lo, file_end)` come from the image.
    lo: usize,
    hi: usize,
    file_end: usize,
    prot: Prot,
}

/// Where a unit the linker built is (see `link`): the span reserved for it, where its 32-bit
/// displacements fit, mapped read-write and holding the image already (the source is a view of
/// it); its block in static TLS, if it has one; and the file it was linked from.
pub struct Placement {
    pub region: Region,
    pub static_tls: Option<crate::tls::StaticBlock>,
    pub file_id: Option<(u64, u64)>,
}

/// Map an image and build its [`Module`]. On error everything mapped so far is unmapped.
/// `layout` is the image's checked headers when the caller has read them already.
pub fn load(src: &Source, layout: Option<Layout>, name: &str, origin: Option<PathBuf>, id: u64) -> Result<Module> {
    load_placed(src, layout, name, origin, id, None)
}

/// [`load`], into the span `placement` reserved when it is given.
pub fn load_placed(
    src: &Source,
    layout: Option<Layout>,
    name: &str,
    origin: Option<PathBuf>,
    id: u64,
    placement: Option<Placement>,
) -> Result<Module> {
    let layout = match layout {
        Some(l) => l,
        None => read_layout(src, name)?,
    };
    let file = || name.to_string();
    let bad = |reason: &str| Error::Malformed { file: file(), reason: reason.to_string() };
    let map_err = |e: std::io::Error| Error::Map { file: file(), reason: e.to_string() };
    let page = os::page_size();
    let span_len = (layout.hi - layout.lo) as usize;
    let in_place = placement.is_some();
    let (region, static_tls, unit_file) = match placement {
        Some(p) if p.region.len >= span_len => (p.region, p.static_tls, p.file_id),
        Some(_) => return Err(bad("the image is larger than the span reserved for it")),
        None => (Region::reserve(span_len, layout.align as usize).map_err(map_err)?, None, None),
    };
    let bias = region.base.wrapping_sub(layout.lo as usize);
    let at = |vaddr: u64| bias.wrapping_add(vaddr as usize);

    let segments: Vec<Segment> = layout
        .loads
        .iter()
        .map(|ph| {
            let lo = at(ph.p_vaddr);
            let hi = at(ph.p_vaddr + ph.p_memsz);
            Segment {
                start: lo & !(page - 1),
                end: (hi + page - 1) & !(page - 1),
                lo,
                hi,
                file_end: lo + ph.p_filesz as usize,
                prot: prot_of(ph.p_flags),
            }
        })
        .collect();
    let mut restore = Vec::new();
    for (seg, ph) in segments.iter().zip(&layout.loads) {
        if seg.prot.write && seg.prot.exec {
            return Err(bad("a segment is both writable and executable, which relink refuses"));
        }
        if in_place {
            // The bytes are there already: only the protections are left to set.
            if seg.prot != Prot::RW {
                restore.push((seg.start, seg.end - seg.start, seg.prot));
            }
            continue;
        }
        let file_pages_end = (seg.file_end + page - 1) & !(page - 1);
        // The part of the last file page past the file bytes belongs to .bss: zero it.
        let bss_tail = ph.p_filesz > 0 && ph.p_memsz > ph.p_filesz && seg.file_end % page != 0;
        // Map writable first when bytes must be written into a non-writable segment.
        let mut first = seg.prot;
        if !seg.prot.write && (bss_tail || matches!(src, Source::Memory(_))) {
            first = Prot::RW;
            restore.push((seg.start, seg.end - seg.start, seg.prot));
        }
        if ph.p_filesz > 0 {
            match src {
                Source::File(f) => {
                    let off = ph.p_offset & !(page as u64 - 1);
                    region.map_file(seg.start, file_pages_end - seg.start, f, off, first).map_err(map_err)?;
                }
                Source::Memory(m) => {
                    region.map_anon(seg.start, file_pages_end - seg.start, first).map_err(map_err)?;
                    let head = seg.lo - seg.start;
                    let off = ph.p_offset as usize - head;
                    // SAFETY: the destination lies in the fresh RW mapping just made; the source
                    // range was checked against the image's length by check_segments.
                    unsafe { std::ptr::copy_nonoverlapping(m.as_ptr().add(off), seg.start as *mut u8, ph.p_filesz as usize + head) };
                }
            }
        }
        if bss_tail {
            // SAFETY: the tail of the last file page belongs to this segment and is writable now.
            unsafe { std::ptr::write_bytes(seg.file_end as *mut u8, 0, file_pages_end - seg.file_end) };
        }
        let anon_start = if ph.p_filesz > 0 { file_pages_end } else { seg.start };
        if seg.end > anon_start {
            region.map_anon(anon_start, seg.end - anon_start, first).map_err(map_err)?;
        }
    }
    // Bytes are in place: give the segments written above their final protections now, so
    // that code (IFUNC resolvers among it) is executable while the object is relocated.
    for (start, len, prot) in restore.drain(..) {
        region.protect(start, len, prot).map_err(map_err)?;
    }
    let span = Span { ranges: segments.iter().filter(|s| s.prot.read).map(|s| (s.start, s.end)).collect() };
    let mut writable: Vec<(usize, usize)> = segments.iter().filter(|s| s.prot.write).map(|s| (s.lo, s.hi)).collect();
    let exec = segments.iter().filter(|s| s.prot.exec).map(|s| (s.lo, s.hi)).collect();

    let dynph = layout.dynamic.expect("checked by parse");
    let dynamic = DynInfo::read(&span, at(dynph.p_vaddr), dynph.p_memsz as usize / 16, at)
        .map_err(|reason| Error::Malformed { file: file(), reason })?;
    if dynamic.has_rel || (dynamic.jmprel.is_some() && !dynamic.pltrel_is_rela) {
        return Err(bad("REL relocations (DT_REL, DT_PLTREL = DT_REL): this architecture uses RELA"));
    }
    if dynamic.textrel {
        // Text relocations: make the non-writable segments writable (never executable) until
        // relocation is done. Their code cannot run meanwhile, so IFUNCs are refused for them.
        for seg in segments.iter().filter(|s| !s.prot.write) {
            region.protect(seg.start, seg.end - seg.start, Prot::RW).map_err(map_err)?;
            restore.push((seg.start, seg.end - seg.start, seg.prot));
            writable.push((seg.lo, seg.hi));
        }
    }
    let symtab = SymTab::new(&dynamic, &span).map_err(|reason| Error::Malformed { file: file(), reason })?;
    let mut host_tls = None;
    let tls_id = match layout.tls {
        Some(_) if static_tls.is_some() => {
            // A block the C library's loader reserved in static TLS for a linked unit.
            host_tls = static_tls.as_ref().map(|b| crate::module::HostTls { modid: b.modid as usize, tp_offset: Some(b.tp_offset) });
            None
        }
        Some(_) if dynamic.flags & abi::DF_STATIC_TLS as u64 != 0 => {
            return Err(Error::Unsupported {
                file: file(),
                what: "static TLS (DF_STATIC_TLS: initial-exec thread-local variables), but relink gives the \
                       objects it loads dynamic TLS only; build the library with -ftls-model=global-dynamic"
                    .into(),
            });
        }
        Some(t) => {
            let image = at(t.p_vaddr);
            if span.slice::<u8>(image, t.p_filesz as usize).is_none() || t.p_memsz > 1 << 30 || t.p_align > 1 << 20 {
                return Err(bad("PT_TLS segment outside the image or too large"));
            }
            let template = crate::tls::Template {
                image,
                filesz: t.p_filesz as usize,
                memsz: t.p_memsz as usize,
                align: t.p_align.max(1) as usize,
            };
            Some(crate::tls::register(template).map_err(|reason| Error::Malformed { file: file(), reason })?)
        }
        None => None,
    };
    let eh_frame = layout.eh_frame_hdr.and_then(|h| crate::unwind::eh_frame_from_hdr(&span, at(h.p_vaddr)));
    let relro = layout.relro.map(|r| {
        let s = at(r.p_vaddr) & !(page - 1);
        let e = at(r.p_vaddr.wrapping_add(r.p_memsz)) & !(page - 1);
        (s, e.saturating_sub(s))
    });
    // The program headers handed to rl_iterate_phdr callbacks: a copy relink owns.
    let phdrs: Box<[libc::Elf64_Phdr]> = layout
        .phdrs
        .iter()
        .map(|p| libc::Elf64_Phdr {
            p_type: p.p_type,
            p_flags: p.p_flags,
            p_offset: p.p_offset,
            p_vaddr: p.p_vaddr,
            p_paddr: p.p_paddr,
            p_filesz: p.p_filesz,
            p_memsz: p.p_memsz,
            p_align: p.p_align,
        })
        .collect();
    let phdr = (phdrs.as_ptr() as usize, phdrs.len());
    let file_id = match src {
        Source::File(f) => Some(f.id),
        Source::Memory(_) => unit_file,
    };
    let image = Image {
        region,
        writable,
        exec,
        restore,
        relro,
        eh_frame,
        _phdrs: phdrs,
        unwinders: Default::default(),
        lazy: Default::default(),
        lazy_pins: Default::default(),
        tls_descs: Default::default(),
        _static_tls: static_tls,
    };
    let parts = Parts { id, name, origin, file_id, bias, span, dynamic, symtab, phdr };
    Ok(Module::new(parts, host_tls, tls_id, Some(image)))
}
