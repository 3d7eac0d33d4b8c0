//! Stage 2 — map: reserve the object's whole span once, map its PT_LOAD segments (from the file
//! descriptor, or copied into anonymous memory for images given in memory), zero .bss, and read
//! its dynamic section into a [`Module`].
//!
//! No mapping is ever writable and executable at once: a segment that asks for both is refused,
//! and a segment made writable for text relocations loses its execute bit until relocation ends.

use crate::arch::Kind;
use crate::error::{Error, Result};
use crate::module::{HostTls, Image, Module, Parts};
use crate::os::{self, Prot, Region};
use crate::parse::{self, DynInfo, Layout};
use crate::raw::{Rel, Rela, Reloc, Span};
use crate::symbols::SymTab;
use elf::abi;
use elf::segment::ProgramHeader;
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

    /// Read up to `len` bytes at `off` (fewer when the image ends first, none past its end).
    fn read(&self, off: u64, len: usize) -> std::io::Result<Vec<u8>> {
        let off = off.min(self.len());
        let len = (len as u64).min(self.len() - off) as usize;
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

/// The protection a segment is mapped with first, and whether the part of its last file page
/// past its file bytes belongs to .bss (and is zeroed): writable first when bytes must be
/// written into a non-writable segment (that part, or an image copied from memory).
fn first_prot(src: &Source, ph: &ProgramHeader, page: usize) -> (Prot, bool) {
    let prot = prot_of(ph.p_flags);
    let bss_tail = ph.p_filesz > 0 && ph.p_memsz > ph.p_filesz && !(ph.p_vaddr + ph.p_filesz).is_multiple_of(page as u64);
    let write_first = !prot.write && (bss_tail || matches!(src, Source::Memory(_)));
    (if write_first { Prot::RW } else { prot }, bss_tail)
}

fn io_error(name: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io { file: name.to_string(), reason: crate::error::io_reason(&e) }
}

/// The first bytes of an image, which hold its ELF header and, in every linker's output, its
/// program headers: one read takes both (as much as glibc reads first).
pub fn read_head(src: &Source, name: &str) -> Result<Vec<u8>> {
    const FIRST_READ: usize = 1024;
    src.read(0, FIRST_READ).map_err(io_error(name))
}

/// Validate the headers of an image without mapping anything.
pub fn read_layout(src: &Source, name: &str) -> Result<Layout> {
    layout_from_head(src, &read_head(src, name)?, name)
}

/// [`read_layout`], given the image's first bytes as [`read_head`] read them: a second read is
/// needed only when the program headers lie elsewhere.
pub fn layout_from_head(src: &Source, head: &[u8], name: &str) -> Result<Layout> {
    let bad = |reason: String| Error::Malformed { file: name.to_string(), reason };
    let io = io_error(name);
    let header = parse::check_header(&head[..head.len().min(parse::EHDR_SIZE)], src.len()).map_err(|e| match e {
        parse::HeaderError::WrongClass => Error::WrongClass { file: name.to_string() },
        parse::HeaderError::Other(reason) => bad(reason),
    })?;
    let size = header.phnum * std::mem::size_of::<crate::raw::Phdr>();
    let elsewhere;
    let raw = match usize::try_from(header.phoff).ok().and_then(|o| head.get(o..o.checked_add(size)?)) {
        Some(raw) => raw,
        None => {
            elsewhere = src.read(header.phoff, size).map_err(io)?;
            &elsewhere[..]
        }
    };
    let mut layout = parse::check_segments(raw, header.phoff, src.len(), os::page_size() as u64).map_err(bad)?;
    layout.shdrs = header.shdrs;
    Ok(layout)
}

/// How many symbols the object's relocations may refer to, beyond what its hash tables cover
/// (they leave out what nothing can look up: the GNU hash table of an object that exports
/// nothing covers symbol 0 only; asked only then, see [`SymTab::counts_all`]). The `.dynsym`
/// section header tells, when there is a usable one; otherwise the highest symbol index the
/// relocations use.
fn symbols_in_use(src: &Source, layout: &Layout, d: &DynInfo, bias: usize, span: &Span) -> usize {
    let from_headers = layout.shdrs.and_then(|(off, n)| {
        let size = n.checked_mul(parse::SHDR_SIZE)?;
        let raw = src.read(off, size).ok().filter(|r| r.len() == size)?;
        let count = parse::dynsym_count(&raw, d.symtab.wrapping_sub(bias) as u64)?;
        span.slice::<crate::raw::Sym>(d.symtab, count).map(|_| count)
    });
    from_headers.unwrap_or_else(|| {
        symbols_and_types(span, d).map(|(sym, _)| sym as usize + 1).max().unwrap_or(0)
    })
}

/// Whether an object uses its own TLS block initial-exec: a TPOFF relocation against the block
/// (symbol 0) or against a thread-local variable the object defines. Such an object needs static
/// TLS. (Malformed tables are reported when the object is relocated.)
fn initial_exec_to_own_tls(span: &Span, dynamic: &DynInfo, symtab: &SymTab) -> bool {
    // Most records of a large library are RELATIVE ones: one comparison each, in a loop over
    // each table's slice (no iterator chain per record).
    let own = |sym: u32, ty: u32| {
        ty != crate::arch::RELATIVE
            && matches!(crate::arch::classify(ty), Kind::TpOff | Kind::TpOffNeg)
            && (sym == 0 || symtab.sym(sym).is_some_and(|s| s.st_shndx != abi::SHN_UNDEF))
    };
    // DT_RELACOUNT (DT_RELCOUNT) leading records of DT_RELA (DT_REL) are RELATIVE, says the
    // linker. Should a file lie, a TPOFF among them meets dynamic TLS when the object is
    // relocated and is refused there with a message.
    let past = |t: usize, len: usize, table: Option<(usize, usize)>, count: usize| {
        if table.is_some_and(|(at, _)| at == t) { count.min(len) } else { 0 }
    };
    let (mut rela, mut rel) = relocation_tables(span, dynamic);
    rela.any(|t| t[past(t.as_ptr() as usize, t.len(), dynamic.rela, dynamic.relacount)..].iter().any(|r| own(r.sym(), r.kind())))
        || rel.any(|t| t[past(t.as_ptr() as usize, t.len(), dynamic.rel, dynamic.relcount)..].iter().any(|r| own(r.sym(), r.kind())))
}

/// The symbol index and type of every dynamic relocation of an object (see
/// [`relocation_tables`]).
fn symbols_and_types<'a>(span: &'a Span, d: &'a DynInfo) -> impl Iterator<Item = (u32, u32)> + 'a {
    let (rela, rel) = relocation_tables(span, d);
    rela.flatten().map(|r| (r.sym(), r.kind())).chain(rel.flatten().map(|r| (r.sym(), r.kind())))
}

/// An object's dynamic relocation tables: RELA (DT_RELA and a DT_JMPREL of RELA records) and
/// REL ones; those outside `span` are passed over (relocating the object reports them).
pub fn relocation_tables<'a>(span: &'a Span, d: &DynInfo) -> (impl Iterator<Item = &'static [Rela]> + 'a, impl Iterator<Item = &'static [Rel]> + 'a) {
    let (rela_plt, rel_plt) = if d.pltrel_is_rela { (d.jmprel, None) } else { (None, d.jmprel) };
    let rela = [d.rela, rela_plt].into_iter().flatten().filter_map(|(addr, n)| span.slice::<Rela>(addr, n));
    let rel = [d.rel, rel_plt].into_iter().flatten().filter_map(|(addr, n)| span.slice::<Rel>(addr, n));
    (rela, rel)
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
    pub static_tls: Option<std::sync::Arc<crate::tls::StaticBlock>>,
    pub file_id: Option<(u64, u64)>,
}

/// Map an image and build its [`Module`]. On error everything mapped so far is unmapped.
/// `layout` is the image's checked headers when the caller has read them already.
pub fn load(src: &Source, layout: Option<Layout>, name: &str, origin: Option<PathBuf>, id: u64) -> Result<Module> {
    load_placed(src, layout, name, origin, id, None, None)
}

/// [`load`] of a linked unit's image kept in a file (the unit cache, see `link::cache`): the
/// object is the unit, known by the identity of the file it was linked from (`file_id`), not
/// of the file it is mapped from.
pub fn load_unit_file(file: os::File, name: &str, origin: Option<PathBuf>, id: u64, file_id: Option<(u64, u64)>) -> Result<Module> {
    load_placed(&Source::File(file), None, name, origin, id, None, Some(file_id))
}

/// [`load`], into the span `placement` reserved when it is given; `identity`, when given, is the
/// object's file identity whatever the source (see [`load_unit_file`]).
pub fn load_placed(
    src: &Source,
    layout: Option<Layout>,
    name: &str,
    origin: Option<PathBuf>,
    id: u64,
    placement: Option<Placement>,
    identity: Option<Option<(u64, u64)>>,
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
    // A file's first segment, when it begins the span and has bytes in the file, is mapped with
    // the whole span in one call (as glibc maps): no separate reservation. Larger alignments
    // than a page need the reservation's trimming; a segment both writable and executable is
    // refused below.
    let spanning = match (src, layout.loads.first()) {
        (Source::File(f), Some(ph)) if placement.is_none() && layout.align <= page as u64 && ph.p_filesz > 0 && ph.p_vaddr & !(page as u64 - 1) == layout.lo => {
            let prot = first_prot(src, ph, page).0;
            (!(prot.write && prot.exec)).then_some((f, ph.p_offset & !(page as u64 - 1), prot))
        }
        _ => None,
    };
    let (region, unit_tls, unit_file) = match (placement, spanning) {
        (Some(p), _) if p.region.len >= span_len => (p.region, p.static_tls, p.file_id),
        (Some(_), _) => return Err(bad("the image is larger than the span reserved for it")),
        (None, Some((f, off, prot))) => (Region::map_file_span(span_len, f, off, prot).map_err(map_err)?, None, None),
        (None, None) => (Region::reserve(span_len, layout.align as usize).map_err(map_err)?, None, None),
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
    for (i, (seg, ph)) in segments.iter().zip(&layout.loads).enumerate() {
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
        let (first, bss_tail) = first_prot(src, ph, page);
        if first != seg.prot {
            restore.push((seg.start, seg.end - seg.start, seg.prot));
        }
        if i == 0 && spanning.is_some() {
            // Mapped with the span. Whatever of the span no segment covers is closed below.
        } else if ph.p_filesz > 0 {
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
    if spanning.is_some() {
        // The span was mapped from the file: the holes between segments must not show it.
        for w in segments.windows(2).filter(|w| w[1].start > w[0].end) {
            region.protect(w[0].end, w[1].start - w[0].end, Prot::NONE).map_err(map_err)?;
        }
    }
    // Bytes are in place: give the segments written above their final protections now, so
    // that code (IFUNC resolvers among it) is executable while the object is relocated.
    for (start, len, prot) in restore.drain(..) {
        region.protect(start, len, prot).map_err(map_err)?;
    }
    // SAFETY: the readable segments were just mapped into `region`, which the `Module` owns:
    // they stay mapped until the module is dropped.
    let span = unsafe { Span::new(segments.iter().filter(|s| s.prot.read).map(|s| (s.start, s.end)).collect()) };
    let mut writable: Vec<(usize, usize)> = segments.iter().filter(|s| s.prot.write).map(|s| (s.lo, s.hi)).collect();
    let exec = segments.iter().filter(|s| s.prot.exec).map(|s| (s.lo, s.hi)).collect();

    let dynph = layout.dynamic.expect("checked by parse");
    let dynamic = DynInfo::read(&span, at(dynph.p_vaddr), dynph.p_memsz as usize / std::mem::size_of::<crate::raw::Dyn>(), at)
        .map_err(|reason| Error::Malformed { file: file(), reason })?;
    // Everything relink maps is opened the way dlopen opens: objects that refuse that are left
    // alone (one loaded already is reused without coming here).
    if dynamic.flags_1 & abi::DF_1_NOOPEN as u64 != 0 {
        return Err(Error::NotDlopenable { file: file() });
    }
    let has_rel = dynamic.rel.is_some_and(|(_, n)| n != 0) || (dynamic.jmprel.is_some() && !dynamic.pltrel_is_rela);
    if has_rel && !crate::arch::ACCEPTS_REL {
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
    let malformed = |reason| Error::Malformed { file: file(), reason };
    let mut symtab = SymTab::new(&dynamic, &span, 0).map_err(malformed)?;
    if !symtab.counts_all() {
        let in_use = symbols_in_use(src, &layout, &dynamic, bias, &span);
        symtab = SymTab::new(&dynamic, &span, in_use).map_err(malformed)?;
    }
    let (tls_id, host_tls, static_tls) = match layout.tls {
        None => (None, None, None),
        Some(t) => {
            let image = at(t.p_vaddr);
            if span.slice::<u8>(image, t.p_filesz as usize).is_none() || t.p_memsz > 1 << 30 || t.p_align > 1 << 20 {
                return Err(bad("PT_TLS segment outside the image or too large"));
            }
            let template = crate::module::Template {
                image,
                filesz: t.p_filesz as usize,
                memsz: t.p_memsz as usize,
                align: t.p_align.max(1) as usize,
            };
            // Initial-exec code reaches the block at a fixed offset from the thread pointer: it
            // needs a block in static TLS, reserved before the open took its lock (for a linked
            // unit, the linker has it already). Everything else gets dynamic TLS.
            if let Some(block) = unit_tls {
                let host = HostTls { modid: block.modid as usize, tp_offset: Some(block.tp_offset) };
                (None, Some(host), Some((block, template)))
            } else if dynamic.flags & abi::DF_STATIC_TLS as u64 != 0 || initial_exec_to_own_tls(&span, &dynamic, &symtab) {
                let Some(block) = crate::tls::reserved_for(&template, name) else {
                    return Err(Error::StaticTls { file: file(), reason: "static TLS block not reserved".into(), no_block: false });
                };
                let host = HostTls { modid: block.modid as usize, tp_offset: Some(block.tp_offset) };
                (None, Some(host), Some((block, template)))
            } else {
                let id = crate::tls::register(template).map_err(|reason| Error::Malformed { file: file(), reason })?;
                (Some(id), None, None)
            }
        }
    };
    let eh_frame = match layout.eh_frame_hdr.map(|h| at(h.p_vaddr)) {
        None => None,
        Some(hdr) => {
            let start = crate::unwind::eh_frame_from_hdr(&span, hdr)
                .ok_or_else(|| bad(".eh_frame_hdr unreadable, of an unknown version, or pointing outside the object"))?;
            // An empty .eh_frame (its terminator first) has nothing to register.
            span.get::<u32>(start).is_some_and(|&w| w != 0).then_some((hdr, start))
        }
    };
    // Arm's unwinder reads .ARM.exidx (PT_ARM_EXIDX), a table of 8-byte entries, instead.
    let exidx = match layout.phdrs.iter().find(|p| cfg!(target_arch = "arm") && p.p_type == abi::PT_ARM_EXIDX) {
        None => None,
        Some(p) => {
            let n = (p.p_memsz / 8) as usize;
            if p.p_memsz % 8 != 0 || span.slice::<u32>(at(p.p_vaddr), 2 * n).is_none() {
                return Err(bad("PT_ARM_EXIDX lies outside the readable segments, or is not a whole number of entries"));
            }
            (n > 0).then_some((at(p.p_vaddr), n))
        }
    };
    // RELRO is made read-only after relocation: it must be part of a writable segment.
    let relro = match layout.relro {
        None => None,
        Some(r) => {
            let s = at(r.p_vaddr) & !(page - 1);
            let e = r.p_vaddr.checked_add(r.p_memsz).map(|end| at(end) & !(page - 1)).filter(|&e| e >= s);
            let inside = |e: usize| segments.iter().any(|seg| seg.prot.write && s >= seg.start && e <= seg.end);
            match e {
                Some(e) if inside(e) => Some((s, e - s)),
                _ => return Err(bad("PT_GNU_RELRO lies outside the writable segments")),
            }
        }
    };
    // The program headers handed to rl_iterate_phdr callbacks: a copy relink owns.
    let phdrs: Box<[crate::raw::Phdr]> = layout
        .phdrs
        .iter()
        .map(|p| crate::raw::Phdr {
            p_type: p.p_type,
            p_flags: p.p_flags,
            p_offset: p.p_offset as _,
            p_vaddr: p.p_vaddr as _,
            p_paddr: p.p_paddr as _,
            p_filesz: p.p_filesz as _,
            p_memsz: p.p_memsz as _,
            p_align: p.p_align as _,
        })
        .collect();
    let phdr = (phdrs.as_ptr() as usize, phdrs.len());
    let file_id = match (identity, src) {
        (Some(id), _) => id,
        (None, Source::File(f)) => Some(f.id),
        (None, Source::Memory(_)) => unit_file,
    };
    let image = Image {
        region,
        writable,
        exec,
        restore,
        relro,
        eh_frame,
        unwind_checked: Default::default(),
        exidx,
        stamp: match src {
            Source::File(f) => Some(f.stamp),
            Source::Memory(_) => None,
        },
        _phdrs: phdrs,
        unwinders: Default::default(),
        lazy: Default::default(),
        lazy_pins: Default::default(),
        lazy_later: Default::default(),
        tls_descs: Default::default(),
        static_tls: static_tls.map(|(block, template)| (block as std::sync::Arc<dyn crate::module::StaticTls>, template)),
    };
    let parts = Parts { id, name, program: false, origin, file_id, bias, span, dynamic, symtab, phdr };
    Ok(Module::new(parts, host_tls, tls_id, Some(image), teardown))
}

/// What an object relink mapped gives back when it goes: its frames registered with unwinders
/// and its dynamic TLS.
fn teardown(m: &Module) {
    if let Some(image) = &m.image {
        crate::unwind::deregister(image);
    }
    if let Some(id) = m.tls_id {
        crate::tls::unregister(id);
    }
}
