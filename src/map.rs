//! Stage 2 — map: reserve the object's whole span once, map its PT_LOAD segments (from the file
//! descriptor, or copied into anonymous memory for images given in memory), zero .bss, and read
//! its dynamic section into a [`Module`].
//!
//! No mapping is ever writable and executable at once: a segment that asks for both is refused,
//! and a segment made writable for text relocations loses its execute bit until relocation ends.

use crate::error::{Error, Result};
use crate::module::{Image, Module};
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

/// Map an image and build its [`Module`]. On error everything mapped so far is unmapped.
pub fn load(src: &Source, name: &str, origin: Option<PathBuf>, id: u64) -> Result<Module> {
    let layout = read_layout(src, name)?;
    let file = || name.to_string();
    let map_err = |e: std::io::Error| Error::Map { file: file(), reason: e.to_string() };
    let page = os::page_size();
    let region = Region::reserve((layout.hi - layout.lo) as usize, layout.align as usize).map_err(map_err)?;
    let bias = region.base.wrapping_sub(layout.lo as usize);

    let mut writable = Vec::new();
    let mut restore = Vec::new();
    let mut readable = Vec::new();
    let mut exec = Vec::new();
    for ph in &layout.loads {
        let want = prot_of(ph.p_flags);
        if want.write && want.exec {
            return Err(Error::Malformed {
                file: file(),
                reason: "a segment is both writable and executable, which relink refuses".into(),
            });
        }
        let start = (bias + ph.p_vaddr as usize) & !(page - 1);
        let file_end = bias + (ph.p_vaddr + ph.p_filesz) as usize;
        let mem_end = (bias + (ph.p_vaddr + ph.p_memsz) as usize + page - 1) & !(page - 1);
        let file_pages_end = (file_end + page - 1) & !(page - 1);
        let has_bss_tail = ph.p_memsz > ph.p_filesz && file_end % page != 0;
        // Map writable first when bytes must be written into a non-writable segment.
        let mut first = want;
        if !want.write && (has_bss_tail || matches!(src, Source::Memory(_))) {
            first = Prot::RW;
            restore.push((start, mem_end - start, want));
        }
        match src {
            Source::File(f) if ph.p_filesz > 0 => {
                let off = ph.p_offset & !(page as u64 - 1);
                region.map_file(start, file_pages_end - start, f, off, first).map_err(map_err)?;
            }
            Source::Memory(m) if ph.p_filesz > 0 => {
                region.map_anon(start, file_pages_end - start, first).map_err(map_err)?;
                let head = (bias + ph.p_vaddr as usize) - start;
                let off = ph.p_offset as usize - head;
                let len = ph.p_filesz as usize + head;
                // SAFETY: the destination lies in the fresh RW mapping just made; the source
                // range was checked against the image's length by check_segments.
                unsafe { std::ptr::copy_nonoverlapping(m.as_ptr().add(off), start as *mut u8, len) };
            }
            _ => {}
        }
        if has_bss_tail {
            // SAFETY: the tail of the last file page belongs to this segment and is writable now.
            unsafe { std::ptr::write_bytes(file_end as *mut u8, 0, file_pages_end - file_end) };
        }
        let anon_start = if ph.p_filesz > 0 { file_pages_end } else { start };
        if mem_end > anon_start {
            region.map_anon(anon_start, mem_end - anon_start, first).map_err(map_err)?;
        }
        if want.read {
            readable.push((start, mem_end));
        }
        if want.exec {
            exec.push((bias + ph.p_vaddr as usize, bias + (ph.p_vaddr + ph.p_memsz) as usize));
        }
        if want.write {
            writable.push((bias + ph.p_vaddr as usize, bias + (ph.p_vaddr + ph.p_memsz) as usize));
        }
    }
    // Bytes are in place: give the segments written above their final protections now, so
    // that code (IFUNC resolvers among it) is executable while the object is relocated.
    for (start, len, prot) in restore.drain(..) {
        region.protect(start, len, prot).map_err(map_err)?;
    }
    let span = Span { ranges: readable };
    let dynph = layout.dynamic.expect("checked by parse");
    let dyn_addr = bias + dynph.p_vaddr as usize;
    let fix = |v: u64| bias.wrapping_add(v as usize);
    let dynamic = DynInfo::read(&span, dyn_addr, dynph.p_memsz as usize / 16, fix)
        .map_err(|reason| Error::Malformed { file: file(), reason })?;
    if dynamic.has_rel {
        return Err(Error::Malformed { file: file(), reason: "REL relocations are not used on x86_64".into() });
    }
    if dynamic.textrel {
        // Text relocations: make the non-writable segments writable (never executable) until
        // relocation is done.
        for ph in &layout.loads {
            let want = prot_of(ph.p_flags);
            if want.write {
                continue;
            }
            let start = (bias + ph.p_vaddr as usize) & !(page - 1);
            let end = (bias + (ph.p_vaddr + ph.p_memsz) as usize + page - 1) & !(page - 1);
            region.protect(start, end - start, Prot::RW).map_err(map_err)?;
            restore.push((start, end - start, want));
            writable.push((bias + ph.p_vaddr as usize, bias + (ph.p_vaddr + ph.p_memsz) as usize));
        }
    }
    let symtab = SymTab::new(&dynamic, &span).map_err(|reason| Error::Malformed { file: file(), reason })?;
    if layout.tls.is_some() && dynamic.flags & abi::DF_STATIC_TLS as u64 != 0 {
        return Err(Error::Unsupported {
            file: file(),
            what: "static TLS (DF_STATIC_TLS: initial-exec thread-local variables), but relink gives the \
                   objects it loads dynamic TLS only; build the library with -ftls-model=global-dynamic"
                .into(),
        });
    }
    let tls_id = match layout.tls {
        Some(t) => Some(
            crate::tls::register(crate::tls::Template {
                image: bias + t.p_vaddr as usize,
                filesz: t.p_filesz as usize,
                memsz: t.p_memsz as usize,
                align: t.p_align.max(1) as usize,
            })
            .map_err(|reason| Error::Malformed { file: file(), reason })?,
        ),
        None => None,
    };
    let eh_frame = layout.eh_frame_hdr.and_then(|h| crate::unwind::eh_frame_from_hdr(&span, bias + h.p_vaddr as usize));
    let relro = layout.relro.map(|r| {
        let s = (bias + r.p_vaddr as usize) & !(page - 1);
        let e = (bias + (r.p_vaddr + r.p_memsz) as usize) & !(page - 1);
        (s, e.saturating_sub(s))
    });
    let phdr = (layout.phdr_vaddr.map_or(0, |v| bias + v as usize), layout.phdrs.len());
    Ok(Module {
        id,
        name: name.to_string(),
        c_name: std::ffi::CString::new(name.replace('\0', "?")).unwrap_or_default(),
        phdr,
        origin,
        file_id: match src {
            Source::File(f) => Some(f.id),
            Source::Memory(_) => None,
        },
        bias,
        span,
        dynamic,
        symtab,
        host_tls: None,
        tls_id,
        is_host: false,
        image: Some(Image {
            region,
            writable,
            exec,
            restore,
            relro,
            eh_frame,
            unwinders: Default::default(),
            lazy: Default::default(),
            tls_descs: Default::default(),
        }),
        initialized: false.into(),
        init_owner: 0.into(),
        unique: Default::default(),
    })
}
