//! Stage 4 — relocate: one generic loop applies every relocation of an object, using the kinds
//! the architecture file maps raw types onto; then RELRO is made read-only.
//!
//! Each distinct symbol of an object is looked up once, however many relocations name it.
//!
//! Before the loop, the pages the relocation tables write are faulted in, writable, a run of
//! pages per call (`os::Region::populate_write`): that costs less than a write fault per page,
//! and only pages some relocation writes become resident.

use crate::arch::{self, Kind};
use relink_core::arch::Inputs;
use crate::error::{Error, Result};
use crate::module::Module;
use crate::raw::{self, Rel, Rela, Reloc, WORD};
use crate::symbols::{Query, Version};
use crate::resolve::{self, Binding};
use crate::hooks::{Lookups, OpenHooks, Phase, RelocEvent, RelocHook};
use elf::abi;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, Weak};

/// Where a thread-local variable's block is.
#[derive(Clone, Copy)]
enum Tls {
    /// At a fixed offset from the thread pointer (the host's static TLS), with its module id.
    Static { modid: u64, tp: isize },
    /// Reached through a module id.
    Dynamic(u64),
}

/// What a symbol reference resolved to.
#[derive(Clone, Copy)]
struct Resolved {
    /// Runtime address (IFUNCs already called), or 0 for an undefined weak reference.
    value: usize,
    /// The defining object and symbol, for TLS relocations.
    def: Option<(*const Module, u64)>,
    /// Whether the definition is a thread-local variable.
    tls: bool,
}

/// What the lazy-binding trampoline is handed (through GOT[1]) to bind a PLT slot on first call.
pub struct LazyCtx {
    module: *const Module,
    /// The scopes besides the global one (read at each binding); objects unloaded since are
    /// skipped.
    scope: LazyScope,
    /// For each object of `scope.local`: whether it is one of the object's own dependencies,
    /// which stay loaded as long as the object does (a binding reads them without holding them).
    local_own: Box<[bool]>,
    /// The object's place in `scope.local`.
    at: usize,
    /// While nothing is held (see `holds`): the objects searched before the global scope (the
    /// object itself if DT_SYMBOLIC, then `scope.local` under RTLD_DEEPBIND) and after it
    /// (`scope.local` otherwise), all of them the object's own dependencies.
    own_order: [Box<[*const Module]>; 2],
    /// The object's PLT relocations (DT_JMPREL), checked when it was relocated.
    plt: Plt,
    /// Whether a binding holds some scope object for its duration: `scope.extra` is not
    /// empty, some of `scope.local` is not the object's own, or a later open added a scope.
    holds: AtomicBool,
    /// The hooks of the open that mapped the object; global hooks are read at each binding, so
    /// a hook added later is consulted and a removed one never called again.
    hooks: OpenHooks,
}

/// An object's PLT relocation table, of the kind DT_PLTREL names.
enum Plt {
    Rela(&'static [Rela]),
    Rel(&'static [Rel]),
}

impl Plt {
    fn record_size(&self) -> usize {
        match self {
            Plt::Rela(_) => std::mem::size_of::<Rela>(),
            Plt::Rel(_) => std::mem::size_of::<Rel>(),
        }
    }

    /// Relocation `index` (a PLT slot's addend is not used).
    fn get(&self, index: usize) -> Option<Rela> {
        match self {
            Plt::Rela(t) => t.get(index).copied(),
            Plt::Rel(t) => t.get(index).map(|r| r.with_addend(0)),
        }
    }
}

/// What lazy binding needs to rebuild an object's lookup scope at a first call.
pub struct LazyScope {
    /// The dependency scope of the library whose open mapped the object (it among them).
    pub local: Vec<Weak<Module>>,
    /// Extra handles' scopes from the open's options.
    pub extra: Vec<Weak<Module>>,
    pub deepbind: bool,
    /// The object's own dependency closure (ids): a binding outside it pins its target.
    pub own: Vec<u64>,
}

/// The hooks one eager binding pass consults.
#[derive(Clone, Default)]
pub struct Hooks {
    /// The open's own hooks.
    pub open: OpenHooks,
    /// Those and the global ones, as they are when the pass starts.
    pub lookups: Lookups,
}

impl std::fmt::Debug for LazyCtx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "LazyCtx({} objects in its own scope)", self.scope.local.len())
    }
}

// SAFETY: read-only after creation; `module` is the object that owns the context.
unsafe impl Send for LazyCtx {}
// SAFETY: as above.
unsafe impl Sync for LazyCtx {}

/// Relocate `m`, looking its symbols up through `scope`. `bound` collects the ids of the objects
/// that definitions came from. With `lazy` (the same scope, held weakly), PLT slots are left to
/// be bound on first call.
pub fn relocate(m: &Module, scope: &[&Module], hooks: &Hooks, lazy: Option<LazyScope>, bound: &mut Vec<u64>) -> Result<()> {
    let image = m.image.as_ref().expect("only objects relink mapped are relocated");
    let mut cache = Cache::new(m.symtab.len());
    let mut ctx = Ctx { m, scope, hooks, cache: &mut cache, writable: &image.writable, last: 0, bound };
    populate(m, image);

    if let Some((addr, n)) = m.dynamic.relr {
        let words = span_slice::<usize>(m, addr, n)?;
        ctx.apply_relr(words)?;
    }
    if let Some((addr, n)) = m.dynamic.rela {
        ctx.apply_all(span_slice::<Rela>(m, addr, n)?)?;
    }
    if let Some((addr, n)) = m.dynamic.rel {
        ctx.apply_all(span_slice::<Rel>(m, addr, n)?)?;
    }
    if let Some((addr, n)) = m.dynamic.jmprel {
        if m.dynamic.pltrel_is_rela {
            ctx.apply_plt(span_slice::<Rela>(m, addr, n)?, lazy)?;
        } else {
            ctx.apply_plt(span_slice::<Rel>(m, addr, n)?, lazy)?;
        }
    }
    if let Some((block, template)) = &image.static_tls {
        // Every thread's block was initialized from the image as it was before relocation.
        if !block.initializes(template) {
            return Err(Error::StaticTls {
                file: m.name().to_string(),
                reason: "static TLS whose initialization image is relocated (initial-exec thread-local variables \
                         initialized with addresses)"
                    .into(),
                no_block: false,
            });
        }
    }
    let region = &image.region;
    let prot_err = |e: std::io::Error| Error::Map { file: m.name().to_string(), reason: e.to_string() };
    for &(start, len, prot) in &image.restore {
        region.protect(start, len, prot).map_err(prot_err)?;
    }
    if let Some((start, len)) = image.relro {
        if len > 0 {
            region.protect(start, len, crate::os::Prot { read: true, write: false, exec: false }).map_err(prot_err)?;
        }
    }
    Ok(())
}

/// Fault in, before relocation, the pages its relocations will write, a run of pages per
/// call, rather than one page fault per page as they are written: the kernel populates a run
/// faster than it serves its faults. Only pages some relocation writes, inside the writable
/// segments (see [`Pages`]); tables that do not lie in the object are left to the relocation
/// pass, which reports them.
fn populate(m: &Module, image: &crate::module::Image) {
    let Some(mut pages) = Pages::new(&image.writable) else { return };
    if let Some(words) = m.dynamic.relr.and_then(|(addr, n)| m.span.slice::<usize>(addr, n)) {
        pages.relr(m.bias, words);
    }
    let (rela, rel) = crate::map::relocation_tables(&m.span, &m.dynamic);
    for table in rela {
        pages.table(m.bias, table);
    }
    for table in rel {
        pages.table(m.bias, table);
    }
    for (start, end) in pages.runs() {
        for &(lo, hi) in &image.writable {
            let (s, e) = (start.max(lo & !(pages.mask)), end.min(hi.saturating_add(pages.mask) & !pages.mask));
            // A lone page gains nothing over its fault.
            if e > s + pages.mask + 1 {
                image.region.populate_write(s, e - s);
            }
        }
    }
}

/// The pages relocations write, a byte per page from the first writable page to the last
/// (places outside are left out: relocating reports them), so that the order of the records
/// does not matter.
struct Pages {
    /// The first writable page, and the page size less one.
    lo: usize,
    mask: usize,
    shift: u32,
    written: Vec<bool>,
}

impl Pages {
    /// For an object whose writable segments are `writable`, if it has any and they span
    /// less than `MAX_PAGES` pages (a huge .bss is left to fault as it is written).
    fn new(writable: &[(usize, usize)]) -> Option<Pages> {
        const MAX_PAGES: usize = 1 << 22;
        let page = crate::os::page_size();
        let lo = writable.iter().map(|r| r.0).min()? & !(page - 1);
        let hi = writable.iter().map(|r| r.1).max()?;
        let n = (hi - lo).div_ceil(page);
        if n > MAX_PAGES {
            return None;
        }
        Some(Pages { lo, mask: page - 1, shift: page.trailing_zeros(), written: vec![false; n] })
    }

    /// The page of address `p`.
    #[inline]
    fn add(&mut self, p: usize) {
        if let Some(w) = self.written.get_mut(p.wrapping_sub(self.lo) >> self.shift) {
            *w = true;
        }
    }

    /// The pages of a word written at `p`.
    #[inline]
    fn word(&mut self, p: usize) {
        self.add(p);
        if p & self.mask > self.mask + 1 - WORD {
            self.add(p.wrapping_add(WORD - 1));
        }
    }

    /// The places of a RELA or REL table. Where two records `STRIDE` apart write the same page
    /// or neighbouring ones, those pages are taken and the records between are not read: in a
    /// table in address order they write nothing else, and in any other order, what they
    /// write elsewhere faults in as usual. Only pages some record writes are ever taken.
    fn table<R: Reloc>(&mut self, bias: usize, table: &[R]) {
        const STRIDE: usize = 32;
        let place = |r: &R| bias.wrapping_add(r.offset() as usize);
        let mut i = 0;
        while i < table.len() {
            let end = (i + STRIDE).min(table.len());
            if let (Some(a), Some(b)) = (table.get(i), table.get(i + STRIDE)) {
                let (pa, pb) = (place(a), place(b));
                let pages_apart = (pb & !self.mask).wrapping_sub(pa & !self.mask);
                if a.kind() != 0 && b.kind() != 0 && pages_apart <= self.mask + 1 {
                    self.word(pa);
                    self.word(pb);
                    i = end;
                    continue;
                }
            }
            for r in &table[i..end] {
                if r.kind() != 0 {
                    self.word(place(r));
                }
            }
            i = end;
        }
    }

    /// The places of a RELR table (see [`Ctx::apply_relr`]).
    fn relr(&mut self, bias: usize, words: &[usize]) {
        let mut next = 0usize;
        for &w in words {
            if w & 1 == 0 {
                let p = bias.wrapping_add(w);
                self.word(p);
                next = p.wrapping_add(WORD);
            } else {
                let mut bits = w >> 1;
                let mut p = next;
                while bits != 0 {
                    // A page at a time: the lowest set bit's place, then on from the first
                    // word of the next page.
                    let skip = bits.trailing_zeros() as usize;
                    p = p.wrapping_add(skip * WORD);
                    bits >>= skip;
                    self.word(p);
                    let left = ((self.mask + 1 - (p & self.mask)) / WORD).max(1);
                    if left >= usize::BITS as usize {
                        break;
                    }
                    bits >>= left;
                    p = p.wrapping_add(left * WORD);
                }
                next = next.wrapping_add((usize::BITS as usize - 1) * WORD);
            }
        }
    }

    /// The runs of pages taken, `[start, end)`, in address order.
    fn runs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let at = |i: usize| self.lo + (i << self.shift);
        self.written.chunk_by(|a, b| a == b).scan(0, move |i, run| {
            *i += run.len();
            Some((run[0], at(*i - run.len()), at(*i)))
        })
        .filter_map(|(written, start, end)| written.then_some((start, end)))
    }
}

fn span_slice<T: raw::Pod>(m: &Module, addr: usize, n: usize) -> Result<&'static [T]> {
    m.span.slice::<T>(addr, n).ok_or_else(|| Error::Malformed {
        file: m.name().to_string(),
        reason: "relocation table outside the readable segments".into(),
    })
}

/// What each symbol of an object resolved to, once looked up. `at[idx]` is 0 before; then,
/// for a reference through a thread-local symbol, `TLS` and one more than the place of its
/// result in `tls`; for any other, one more than the place of its value in `values`: that is
/// all relocating needs of it afterwards (the definition matters only to TLS relocations, which
/// refuse a symbol that is not thread-local before looking it up). Four bytes a symbol, zeroed
/// by the allocator, and results one after the other in room reserved at once (never moved):
/// of a large object's tables, only the pages that hold the symbols its relocations name are
/// ever touched (a 40-byte result per symbol of `.dynsym` made the first open of libLLVM fault
/// in 1.8 MB). An object has fewer than 2^31 symbols: its symbol table lies in its image.
struct Cache {
    at: Vec<u32>,
    values: Vec<usize>,
    tls: Vec<Resolved>,
}

impl Cache {
    const TLS: u32 = 1 << 31;

    fn new(symbols: usize) -> Cache {
        Cache { at: vec![0; symbols], values: Vec::with_capacity(symbols), tls: Vec::new() }
    }

    /// The value symbol `idx` resolved to, if it was looked up.
    #[inline]
    fn value(&self, idx: u32) -> Option<usize> {
        match self.at.get(idx as usize) {
            Some(&i) if i & Self::TLS != 0 => self.tls.get((i & !Self::TLS) as usize - 1).map(|r| r.value),
            Some(&i) if i != 0 => self.values.get(i as usize - 1).copied(),
            _ => None,
        }
    }

    #[inline]
    fn get(&self, idx: u32) -> Option<Resolved> {
        match self.at.get(idx as usize) {
            Some(&i) if i & Self::TLS != 0 => self.tls.get((i & !Self::TLS) as usize - 1).copied(),
            Some(&i) if i != 0 => self.values.get(i as usize - 1).map(|&value| Resolved { value, def: None, tls: false }),
            _ => None,
        }
    }

    /// Keep what symbol `idx` (thread-local or not) resolved to.
    fn set(&mut self, idx: u32, thread_local: bool, r: Resolved) {
        if let Some(slot) = self.at.get_mut(idx as usize) {
            *slot = if thread_local {
                self.tls.push(r);
                self.tls.len() as u32 | Self::TLS
            } else {
                self.values.push(r.value);
                self.values.len() as u32
            };
        }
    }
}

struct Ctx<'a, 'c> {
    m: &'a Module,
    scope: &'a [&'a Module],
    hooks: &'a Hooks,
    cache: &'c mut Cache,
    writable: &'a [(usize, usize)],
    last: usize,
    bound: &'c mut Vec<u64>,
}

impl Ctx<'_, '_> {
    fn bad(&self, reason: impl Into<String>) -> Error {
        Error::Malformed { file: self.m.name().to_string(), reason: reason.into() }
    }

    /// Check that `[p, p + n)` lies in a segment relocations may write (a range that wraps
    /// around the end of the address space lies in none).
    #[inline]
    fn place(&mut self, p: usize, n: usize) -> Result<usize> {
        if self.writable.get(self.last).is_some_and(|&r| raw::range_holds(r, p, n)) {
            return Ok(p);
        }
        if let Some(i) = self.writable.iter().position(|&r| raw::range_holds(r, p, n)) {
            self.last = i;
            return Ok(p);
        }
        Err(self.bad(format!("relocation at {:#x} outside the writable segments", p.wrapping_sub(self.m.bias))))
    }

    /// Apply the PLT relocations (DT_JMPREL). With `lazy` and a PLT GOT, PLT slots are left to
    /// the lazy-binding trampoline; everything else is applied now.
    fn apply_plt<R: Reloc>(&mut self, relas: &[R], lazy: Option<LazyScope>) -> Result<()> {
        let m = self.m;
        let (scope, got) = match (lazy, m.dynamic.pltgot) {
            (Some(_), Some(got)) if !got.is_multiple_of(WORD) => return Err(self.bad("misaligned DT_PLTGOT")),
            (Some(scope), Some(got)) => (scope, got),
            _ => return self.apply_all(relas),
        };
        for r in relas {
            // Calls with another register convention than the trampoline preserves are
            // bound now.
            let now = m.symtab.sym(r.sym()).is_some_and(|s| arch::binds_at_load(s.st_other));
            if arch::classify(r.kind()) == Kind::PltSlot && !now {
                // The slot holds the link-time address of code in its PLT entry that
                // enters the trampoline: relocate it. (Aligned: it is later rewritten
                // with one atomic store.)
                if !(r.offset() as usize).is_multiple_of(WORD) {
                    return Err(self.bad("misaligned PLT slot"));
                }
                // Bound at the first call, where an error ends the process: what can be
                // checked now is.
                if m.symtab.sym(r.sym()).is_none_or(|s| r.sym() == 0 || !m.symtab.strtab.has_name(s.st_name)) {
                    return Err(self.bad(format!("PLT slot relocation against symbol {} (no such symbol, or it has no name)", r.sym())));
                }
                let p = self.place(m.bias.wrapping_add(r.offset() as usize), WORD)?;
                // SAFETY: `place` checked the target.
                unsafe { raw::write_bytes(p, raw::read_word(p).wrapping_add(m.bias).to_le_bytes()) };
            } else {
                self.apply_one(r)?;
            }
        }
        let image = m.image.as_ref().expect("only objects relink mapped are relocated");
        let (addr, n) = m.dynamic.jmprel.expect("the PLT relocations are DT_JMPREL's");
        let plt = match m.dynamic.pltrel_is_rela {
            true => Plt::Rela(span_slice(m, addr, n)?),
            false => Plt::Rel(span_slice(m, addr, n)?),
        };
        let local_own: Box<[bool]> = scope.local.iter().map(|w| w.upgrade().is_some_and(|l| scope.own.contains(&l.id))).collect();
        let holds = AtomicBool::new(!scope.extra.is_empty() || local_own.contains(&false));
        let Some(at) = scope.local.iter().position(|w| std::ptr::eq(w.as_ptr(), m)) else {
            return Err(self.bad("lazy binding outside the scope of the object's open"));
        };
        let own_order = {
            let local = || scope.local.iter().map(Weak::as_ptr);
            let symbolic = m.dynamic.symbolic.then_some(m as *const Module);
            let before = symbolic.into_iter().chain(local().filter(|_| scope.deepbind)).collect();
            [before, local().filter(|_| !scope.deepbind).collect()]
        };
        let lazy = Box::new(LazyCtx { module: m, scope, local_own, at, own_order, plt, holds, hooks: self.hooks.open.clone() });
        let context = self.place(got.wrapping_add(WORD * arch::LAZY_GOT_CONTEXT), WORD)?;
        let entry = self.place(got.wrapping_add(WORD * arch::LAZY_GOT_ENTRY), WORD)?;
        // SAFETY: these GOT words are reserved for the dynamic linker; `place` checked them.
        unsafe {
            raw::write_bytes(context, (&*lazy as *const LazyCtx as usize).to_le_bytes());
            raw::write_bytes(entry, arch::lazy_entry().to_le_bytes());
        }
        *image.lazy.lock() = Some(lazy);
        Ok(())
    }

    fn apply_relr(&mut self, words: &[usize]) -> Result<()> {
        let bias = self.m.bias;
        for place in relink_core::parse::relr_places(words) {
            let p = self.place(bias.wrapping_add(place), WORD)?;
            // SAFETY: `place` checked that the word is inside a writable segment.
            unsafe { raw::write_bytes(p, raw::read_word(p).wrapping_add(bias).to_le_bytes()) };
        }
        Ok(())
    }

    /// Apply a RELA or REL table. RELATIVE relocations — most of them in large libraries — take a
    /// tight path that checks the target against the first writable segment only; so do the
    /// word-sized symbolic ones (absolute words, GOT and PLT slots), their symbol bound the
    /// first time one names it, when no relocation callback is to see them. Everything else,
    /// and anything that would fail, goes through [`Ctx::apply`].
    fn apply_all<R: Reloc>(&mut self, relas: &[R]) -> Result<()> {
        let bias = self.m.bias;
        let (lo, hi) = self.writable.first().copied().unwrap_or((1, 0));
        // `p` holds a word of the first writable segment when `p - lo <= room` (wrapping: a `p`
        // below `lo` is far above `room`).
        let room = hi.checked_sub(lo).and_then(|n| n.checked_sub(WORD));
        let holds = |p: usize| room.is_some_and(|room| p.wrapping_sub(lo) <= room);
        let observed = self.hooks.open.on_relocation.is_some();
        // Types come in runs: classify each run once.
        let (mut last_ty, mut last_kind) = (arch::RELATIVE, Kind::Relative);
        for r in relas {
            let ty = r.kind();
            let p = bias.wrapping_add(r.offset() as usize);
            // The addend of a word at `p`, which lies in a writable segment.
            let addend = |p: usize| match r.explicit_addend() {
                Some(a) => a as usize,
                // SAFETY: the caller checked the word (REL: the addend is in place).
                None => unsafe { raw::read_word(p) },
            };
            if ty == arch::RELATIVE {
                if !holds(p) {
                    self.place(p, WORD)?;
                }
                let v = Kind::Relative.word(&Inputs { b: bias as u64, a: addend(p) as i64, ..Inputs::default() });
                // SAFETY: the target lies in a writable segment (checked just above).
                unsafe { raw::write_bytes(p, (v as usize).to_le_bytes()) };
                continue;
            }
            // A word with a symbol's value (not the null one's, whose PLT slots are refused) that
            // no callback observes: the symbol's value (bound the first time it is named) is
            // written here; anything else, or a place `apply` must check, goes through it.
            if !observed && r.sym() != 0 {
                if ty != last_ty {
                    (last_ty, last_kind) = (ty, arch::classify(ty));
                }
                let kind = last_kind;
                let word = matches!(kind, Kind::Symbolic | Kind::GotEntry | Kind::PltSlot);
                if word && holds(p) && (!kind.is_got_word() || p.is_multiple_of(WORD)) {
                    let s = match self.cache.value(r.sym()) {
                        Some(value) => value,
                        None => self.symbol_slow(r.sym())?.value,
                    };
                    let v = kind.word(&Inputs { s: s as u64, a: addend(p) as i64, ..Inputs::default() });
                    // SAFETY: the target lies in a writable segment (checked just above).
                    unsafe { raw::write_bytes(p, (v as usize).to_le_bytes()) };
                    continue;
                }
            }
            self.apply_one(r)?;
        }
        Ok(())
    }

    /// Apply one relocation of a RELA or REL table.
    #[inline]
    fn apply_one<R: Reloc>(&mut self, r: &R) -> Result<()> {
        let a = match r.explicit_addend() {
            Some(a) => a,
            None => self.in_place_addend(r)?,
        };
        self.apply(&r.with_addend(a))
    }

    /// The addend of a REL record: the word at the place, the second word of a TLS
    /// descriptor (its argument, as glibc reads it). Types that take none get 0.
    fn in_place_addend<R: Reloc>(&mut self, r: &R) -> Result<raw::Sword> {
        let at = match arch::classify(r.kind()) {
            Kind::None | Kind::Copy | Kind::Unknown => return Ok(0),
            Kind::TlsDesc => WORD,
            _ => 0,
        };
        let p = self.place(self.m.bias.wrapping_add(r.offset() as usize).wrapping_add(at), WORD)?;
        // SAFETY: `place` checked the word.
        Ok(unsafe { raw::read_word(p) } as raw::Sword)
    }

    #[inline(never)]
    fn apply(&mut self, r: &Rela) -> Result<()> {
        let bias = self.m.bias;
        let p = bias.wrapping_add(r.r_offset as usize);
        let a = r.addend();
        let ty = r.kind();
        let kind = arch::classify(ty);
        // A word's value, worked out in 64 bits: the low bits are the native word.
        let word = |v: u64| (v as usize).to_le_bytes();
        if kind.is_got_word() && !p.is_multiple_of(WORD) {
            // GOT and PLT slots and TLS words are aligned words of the GOT: one anywhere else
            // would overwrite parts of two others.
            return Err(self.bad(format!("{} relocation at a misaligned place {:#x}", arch::type_name(ty), r.r_offset)));
        }
        if kind == Kind::PltSlot && r.sym() == 0 {
            return Err(self.bad("PLT slot relocation without a symbol"));
        }
        let base = || Inputs { a, b: bias as u64, ..Inputs::default() };
        match kind {
            Kind::None => {}
            Kind::Relative => {
                let p = self.place(p, WORD)?;
                // SAFETY: `place` checked the target.
                unsafe { raw::write_bytes(p, word(kind.word(&base()))) };
            }
            Kind::Irelative => {
                let p = self.place(p, WORD)?;
                let v = resolve::call_resolver(self.m, Kind::Relative.word(&base()) as usize)?;
                // SAFETY: `place` checked the target.
                unsafe { raw::write_bytes(p, word(v as u64)) };
            }
            Kind::Symbolic | Kind::GotEntry | Kind::PltSlot => {
                let s = self.symbol(r.sym())?.value;
                let s = self.observe(r, p, s)? as u64;
                let v = kind.word(&Inputs { s, a, ..Inputs::default() });
                let p = self.place(p, WORD)?;
                // SAFETY: `place` checked the target.
                unsafe { raw::write_bytes(p, word(v)) };
            }
            Kind::PcRel32 | Kind::Abs32 | Kind::Abs32Signed => {
                let s = self.symbol(r.sym())?.value;
                let s = self.observe(r, p, s)? as u64;
                let Ok(v) = kind.field32(&Inputs { s, a, p: p as u64, ..Inputs::default() }, WORD) else {
                    return Err(self.bad(format!("{} value out of range", arch::type_name(ty))));
                };
                let p = self.place(p, 4)?;
                // SAFETY: `place` checked the target.
                unsafe { raw::write_bytes(p, v.to_le_bytes()) };
            }
            Kind::DtpMod | Kind::DtpOff | Kind::TpOff | Kind::TpOffNeg | Kind::TlsDesc => self.apply_tls(r, kind, p)?,
            Kind::Copy => {
                return Err(Error::Unsupported {
                    file: self.m.name().to_string(),
                    what: format!("{} relocation in a shared object", arch::type_name(ty)),
                })
            }
            Kind::Unknown => {
                return Err(Error::Unsupported {
                    file: self.m.name().to_string(),
                    what: format!("{} (type {ty})", arch::type_name(ty)),
                })
            }
        }
        Ok(())
    }

    /// Where a TLS relocation's variable lives: the defining module's TLS and S, the offset of
    /// the variable inside its block.
    fn tls_target(&mut self, r: &Rela) -> Result<(Tls, u64)> {
        let unsupported = |what: String| Error::Unsupported { file: self.m.name().to_string(), what };
        let (def, value): (&Module, u64) = if r.sym() == 0 {
            // Local-dynamic and descriptor references to the object's own block.
            (self.m, 0)
        } else {
            // The reference itself names a thread-local variable (defined or not) in any valid
            // object; anything else would have a word meant for data read as a descriptor.
            if self.m.symtab.sym(r.sym()).is_some_and(|s| s.kind() != abi::STT_TLS) {
                return Err(self.bad(format!("{} against a symbol that is not thread-local", arch::type_name(r.kind()))));
            }
            let res = self.symbol(r.sym())?;
            let Some((def, value)) = res.def else {
                // An undefined weak reference gets module id 0, whose variables relink's
                // `__tls_get_addr` places at address 0 (plus the offset), so that the code sees a
                // NULL address as with glibc. An initial-exec access has no such way out.
                if res.value == 0 && !matches!(arch::classify(r.kind()), Kind::TpOff | Kind::TpOffNeg) {
                    return Ok((Tls::Dynamic(0), 0));
                }
                return Err(unsupported(format!("{} against an undefined weak symbol", arch::type_name(r.kind()))));
            };
            if !res.tls {
                return Err(self.bad(format!("{} against a symbol that is not thread-local", arch::type_name(r.kind()))));
            }
            // SAFETY: `def` points into the scope, which outlives this relocation pass.
            (unsafe { &*def }, value)
        };
        match (def.tls_id, def.host_tls) {
            (Some(id), _) => Ok((Tls::Dynamic(id), value)),
            (None, Some(t)) => {
                let modid = t.modid as u64;
                Ok((t.tp_offset.map_or(Tls::Dynamic(modid), |tp| Tls::Static { modid, tp }), value))
            }
            (None, None) => Err(self.bad(format!("{} refers to {}, which has no TLS segment", arch::type_name(r.kind()), def.name()))),
        }
    }

    fn apply_tls(&mut self, r: &Rela, kind: Kind, p: usize) -> Result<()> {
        let ty = arch::type_name(r.kind());
        let (tls, s) = self.tls_target(r)?;
        let (module, tls_offset) = match tls {
            Tls::Dynamic(modid) => (modid, 0),
            Tls::Static { modid, tp } => (modid, tp as i64),
        };
        let x = Inputs { s, a: r.addend(), module, tls_offset, ..Inputs::default() };
        let tls_word = |kind: Kind| kind.tls_word(&x, arch::DTV_OFFSET);
        let words: [u64; 2] = match (kind, tls) {
            (Kind::DtpMod | Kind::DtpOff, _) | (Kind::TpOff | Kind::TpOffNeg, Tls::Static { .. }) => [tls_word(kind), 0],
            (Kind::TpOff | Kind::TpOffNeg, Tls::Dynamic(_)) => {
                let sym = self.m.symtab.sym(r.sym()).map_or(&b""[..], |s| self.m.symtab.name(s));
                let what = if sym.is_empty() { "its own thread-local storage".to_string() } else { String::from_utf8_lossy(sym).into_owned() };
                // SAFETY: `def` points into the scope, which outlives this relocation pass.
                let def = self.symbol(r.sym()).ok().and_then(|res| res.def).map(|(d, _)| unsafe { &*d }.name().to_string());
                let owner = def.map_or(String::new(), |d| format!(" of {d}"));
                return Err(Error::StaticTls {
                    file: self.m.name().to_string(),
                    reason: format!(
                        "static TLS: {ty} against {what} (initial-exec access) in the dynamic TLS{owner}: relink \
                         gives static TLS only to objects that use their own thread-local variables initial-exec; \
                         build with -ftls-model=global-dynamic"
                    ),
                    no_block: false,
                });
            }
            (Kind::TlsDesc, Tls::Static { .. }) => [arch::tlsdesc_entries().0 as u64, tls_word(Kind::TpOff)],
            (Kind::TlsDesc, Tls::Dynamic(_)) if !arch::trampolines_supported() => {
                return Err(Error::Unsupported {
                    file: self.m.name().to_string(),
                    what: "dynamic TLS descriptors on a CPU without XSAVE".into(),
                })
            }
            (Kind::TlsDesc, Tls::Dynamic(id)) => {
                let arg = Box::new(crate::tls::TlsIndex { module: id as usize, offset: tls_word(Kind::DtpOff) as usize });
                let a = &*arg as *const crate::tls::TlsIndex as u64;
                self.m.image.as_ref().expect("mapped").tls_descs.lock().push(arg);
                [arch::tlsdesc_entries().1 as u64, a]
            }
            _ => unreachable!("not a TLS kind"),
        };
        // Arm's descriptors hold the argument first.
        let words = if kind == Kind::TlsDesc && arch::TLSDESC_ARGUMENT_FIRST { [words[1], words[0]] } else { words };
        let n = if kind == Kind::TlsDesc { 2 * WORD } else { WORD };
        let p = self.place(p, n)?;
        // SAFETY: `place` checked the target.
        unsafe { raw::write_bytes(p, (words[0] as usize).to_le_bytes()) };
        if kind == Kind::TlsDesc {
            // SAFETY: as above (the checked range covers both words).
            unsafe { raw::write_bytes(p + WORD, (words[1] as usize).to_le_bytes()) };
        }
        Ok(())
    }

    #[inline]
    fn symbol(&mut self, idx: u32) -> Result<Resolved> {
        match self.cache.get(idx) {
            Some(r) => Ok(r),
            None => self.symbol_slow(idx),
        }
    }

    #[inline(never)]
    fn symbol_slow(&mut self, idx: u32) -> Result<Resolved> {
        let r = self.resolve(idx)?;
        let thread_local = self.m.symtab.sym(idx).is_some_and(|s| s.kind() == abi::STT_TLS);
        self.cache.set(idx, thread_local, r);
        Ok(r)
    }

    /// Show a symbolic relocation to the relocation callback, which may replace its value.
    fn observe(&self, r: &Rela, place: usize, value: usize) -> Result<usize> {
        match &self.hooks.open.on_relocation {
            None => Ok(value),
            Some(hook) => observe(hook, self.m, r, place, value),
        }
    }

    fn resolve(&mut self, idx: u32) -> Result<Resolved> {
        let r = bind_symbol(self.m, idx, self.scope.iter().copied(), &self.hooks.lookups)?;
        if let Some((def, _)) = r.def {
            // SAFETY: `def` points into the scope, which outlives this relocation pass.
            let id = unsafe { &*def }.id;
            if id != self.m.id && !self.bound.contains(&id) {
                self.bound.push(id);
            }
        }
        Ok(r)
    }
}

/// What binding asks of the registry, which hands it down when it is made (before any object).
pub struct Registry {
    /// The definition every binding of an STB_GNU_UNIQUE name gets (`b` itself for others).
    pub definition: for<'a> fn(Binding<'a>) -> Binding<'a>,
    /// The global scope as it is now (for lazy binding).
    pub global_scope_now: fn() -> Arc<[Arc<Module>]>,
}

static REGISTRY: OnceLock<Registry> = OnceLock::new();

/// Hands down the registry's side of binding (see [`Registry`]).
pub fn set_registry(r: Registry) {
    let _ = REGISTRY.set(r);
}

fn registry() -> &'static Registry {
    REGISTRY.get().expect("the registry is made before any object is bound")
}

/// Bind the reference through symbol `idx` of `m`, looking it up through `scope` (used by the
/// eager relocation loop and by lazy binding alike).
fn bind_symbol<'a>(m: &'a Module, idx: u32, scope: impl Iterator<Item = &'a Module> + Clone, hooks: &Lookups) -> Result<Resolved> {
    if idx == 0 {
        return Ok(Resolved { value: 0, def: None, tls: false });
    }
    Ok(match target(m, idx, scope, hooks)? {
        Target::Runtime(value) | Target::Supplied(value) => Resolved { value, def: None, tls: false },
        Target::UndefinedWeak => Resolved { value: 0, def: None, tls: false },
        Target::Definition(b) => {
            // Only an STB_GNU_UNIQUE definition may be replaced by the registry's choice.
            let b = if b.sym.bind() == abi::STB_GNU_UNIQUE { (registry().definition)(b) } else { b };
            if crate::debug::on(crate::debug::BINDINGS) {
                report_binding(m, idx, &b);
            }
            let tls = b.sym.kind() == abi::STT_TLS;
            let value = if tls { 0 } else { b.address()? };
            Resolved { value, def: Some((b.module as *const Module, b.sym.value())), tls }
        }
    })
}

/// Report (`RELINK_DEBUG=bindings`) that the reference through symbol `idx` of `m` binds to
/// `b`. Kept out of the binding path.
#[cold]
#[inline(never)]
fn report_binding(m: &Module, idx: u32, b: &Binding) {
    crate::debug::say(format_args!(
        "binding file {} [{}] to {} [{}]: normal symbol `{}'{}",
        m.name(),
        m.id,
        b.module.name(),
        b.module.id,
        String::from_utf8_lossy(m.symtab.sym(idx).map_or(&b""[..], |s| m.symtab.name(s))),
        m.symtab.needed_version(idx).map_or(String::new(), |v| format!(" [{}]", String::from_utf8_lossy(v.name)))
    ));
}

/// What a symbolic reference binds to, before any address is worked out.
pub enum Target<'a> {
    /// One of relink's own runtime functions (`runtime::interposed`).
    Runtime(usize),
    /// A value a lookup hook or `rl_define` supplied.
    Supplied(usize),
    /// A definition in the scope, or the object's own for a reference it resolves to itself.
    Definition(Binding<'a>),
    /// A weak reference nothing defines: it gets 0.
    UndefinedWeak,
}

/// Find what the reference through symbol `idx` (not 0) of `m` binds to through `scope`, as a
/// relocation would, without calling anything of the objects: hooks in `hooks` are asked,
/// IFUNC resolvers are not run.
pub fn target<'a>(m: &'a Module, idx: u32, scope: impl Iterator<Item = &'a Module> + Clone, hooks: &Lookups) -> Result<Target<'a>> {
    let sym = m.symtab.sym(idx).ok_or_else(|| Error::Malformed {
        file: m.name().to_string(),
        reason: format!("symbol index {idx} out of range"),
    })?;
    let local = sym.bind() == abi::STB_LOCAL || (sym.st_shndx != abi::SHN_UNDEF && (sym.st_other & 3) != abi::STV_DEFAULT);
    let binding = if local {
        // A reference the object resolves to itself must name something it defines.
        let addr = m.bias.wrapping_add(sym.st_value as usize);
        if sym.st_shndx == abi::SHN_UNDEF || (sym.st_shndx != abi::SHN_ABS && sym.kind() != abi::STT_TLS && !m.contains(addr)) {
            return Err(Error::Malformed {
                file: m.name().to_string(),
                reason: format!("relocation against local symbol {idx} that the object does not define"),
            });
        }
        Some(Binding { module: m, sym })
    } else {
        let version = m.symtab.needed_version(idx);
        let q = m.symtab.name_query(sym, version);
        let name = q.name;
        if let Some(value) = crate::runtime::interposed(name) {
            return Ok(Target::Runtime(value));
        }
        let hooked = |phase| {
            if hooks.is_empty() {
                return None;
            }
            hooks.ask(phase, m.symtab.name_cstr(sym), m.symtab.needed_version_cstr(idx), m.c_name())
        };
        if let Some(value) = hooked(Phase::Before) {
            return Ok(Target::Supplied(value));
        }
        // One test of the debug settings in the usual case, where nothing is reported.
        let found = if crate::debug::on(crate::debug::SYMBOLS | crate::debug::STATISTICS) {
            lookup_reported(scope.clone(), &q)
        } else {
            resolve::lookup(scope.clone(), &q)
        };
        if found.is_none() {
            if let Some(value) = crate::hooks::defined(name).or_else(|| hooked(Phase::After)) {
                return Ok(Target::Supplied(value));
            }
        }
        if found.is_none() && sym.bind() != abi::STB_WEAK {
            return Err(undefined(m, idx, name, version, scope));
        }
        found
    };
    Ok(binding.map_or(Target::UndefinedWeak, Target::Definition))
}

/// [`resolve::lookup`] timed (`RELINK_DEBUG=statistics`), telling each object searched
/// (`RELINK_DEBUG=symbols`). Kept out of the binding path.
#[cold]
#[inline(never)]
fn lookup_reported<'a>(scope: impl Iterator<Item = &'a Module> + Clone, q: &Query) -> Option<Binding<'a>> {
    let _timer = crate::debug::LookupTimer::start();
    if crate::debug::on(crate::debug::SYMBOLS) {
        let name = String::from_utf8_lossy(q.name);
        let seen = |s: &&Module| crate::debug::say(format_args!("symbol={name};  lookup in file={} [{}]", s.name(), s.id));
        resolve::lookup(scope.inspect(seen), q)
    } else {
        resolve::lookup(scope, q)
    }
}

/// The error of a reference through symbol `idx` of `m` (named `name`, asking for `version`)
/// that nothing in `scope` defines. Kept out of the binding path.
#[cold]
#[inline(never)]
fn undefined<'a>(m: &Module, idx: u32, name: &[u8], version: Option<Version<'static>>, mut scope: impl Iterator<Item = &'a Module>) -> Error {
    let symbol = String::from_utf8_lossy(name).into_owned();
    // The file the version comes from is there, without the symbol in that version.
    let provider = m.symtab.needed_from(idx).filter(|&file| scope.any(|s| s.answers_to(file)));
    if let (Some(v), Some(provider)) = (version, provider) {
        return Error::VersionNotInFile {
            file: m.name().to_string(),
            symbol,
            version: String::from_utf8_lossy(v.name).into_owned(),
            provider: String::from_utf8_lossy(provider).into_owned(),
        };
    }
    Error::Undefined { file: m.name().to_string(), symbol, version: version.map(|v| String::from_utf8_lossy(v.name).into_owned()) }
}

/// Add the scope of library `root`, whose open pulled in `m` (mapped by an earlier open), to the
/// scopes `m`'s lazy bindings search, once per library; scopes of libraries unloaded since are
/// dropped.
pub fn extend_lazy_scope(m: &Module, root: u64, scope: &[Arc<Module>]) {
    let Some(image) = &m.image else { return };
    match &*image.lazy.lock() {
        Some(ctx) => match ctx.downcast_ref::<LazyCtx>() {
            Some(ctx) => ctx.holds.store(true, Ordering::Release),
            None => return,
        },
        None => return,
    }
    let mut later = image.lazy_later.lock();
    later.retain(|(_, v)| v.first().is_some_and(|r| r.strong_count() > 0));
    if !later.iter().any(|(id, _)| *id == root) {
        later.push((root, scope.iter().map(Arc::downgrade).collect()));
    }
}

/// Bind PLT slot `index` of the object behind `ctx` on its first call (from the arch file's
/// trampoline) and return the target. An undefined symbol ends the process, as with glibc.
pub extern "C" fn lazy_fixup(ctx: *const LazyCtx, arg: usize) -> usize {
    // SAFETY: GOT[1] holds the context of the object whose PLT called us; it lives as long as
    // the object, which is executing.
    let ctx = unsafe { &*ctx };
    // SAFETY: as above.
    let m = unsafe { &*ctx.module };
    // The index, or on some machines the byte offset, of the PLT relocation.
    let index = match arch::LAZY_ARG_IS_OFFSET {
        true if !arg.is_multiple_of(ctx.plt.record_size()) => usize::MAX,
        true => arg / ctx.plt.record_size(),
        false => arg,
    };
    let Some(r) = &ctx.plt.get(index) else { fatal(m, "bad PLT relocation index") };
    let slot = m.bias.wrapping_add(r.r_offset as usize);
    // Checked when the object was relocated; checked again since the table may be writable.
    if !slot.is_multiple_of(WORD) || !m.image.as_ref().is_some_and(|i| raw::within(&i.writable, slot, WORD)) {
        fatal(m, "PLT slot outside the writable segments");
    }
    if !ctx.holds.load(Ordering::Acquire) {
        // Every object searched outside the global scope is one of the object's own
        // dependencies: nothing to hold, and their order is known.
        return bind_own(ctx, m, r, slot);
    }
    // The scopes' objects held for the binding, in a buffer the thread reuses from one binding
    // to the next; a fresh one when a binding runs inside another (a hook or resolver calling
    // through a PLT slot of its own) or after the thread's buffer is gone (thread exit).
    let reused = LIVE.try_with(|buf| {
        let mut held = buf.try_borrow_mut().ok()?;
        let value = bind_slot(ctx, m, r, slot, &mut held);
        held.clear();
        Some(value)
    });
    match reused {
        Ok(Some(value)) => value,
        _ => bind_slot(ctx, m, r, slot, &mut Vec::new()),
    }
}

// The machine's lazy-binding trampoline (GOT word `arch::LAZY_GOT_ENTRY`), which calls
// `lazy_fixup`.
arch::lazy_entry_asm!(fixup = lazy_fixup);

thread_local! {
    /// See [`lazy_fixup`].
    static LIVE: std::cell::RefCell<Vec<Arc<Module>>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The body of [`lazy_fixup`] when the object's own dependencies are all it searches besides
/// the global scope.
fn bind_own(ctx: &LazyCtx, m: &Module, r: &Rela, slot: usize) -> usize {
    let own_in = |global: &[Arc<Module>]| bind_own_in(ctx, m, r, slot, global);
    crate::symcache::with_global(own_in).unwrap_or_else(|| own_in(&(registry().global_scope_now)()))
}

/// [`bind_own`] through the global scope `global`.
fn bind_own_in(ctx: &LazyCtx, m: &Module, r: &Rela, slot: usize, global: &[Arc<Module>]) -> usize {
    check_loaded(ctx, m);
    let [before, after] = &ctx.own_order;
    let scope = own(before).chain(global.iter().map(|g| &**g)).chain(own(after));
    bind_listed(ctx, m, r, slot, scope, global, &[])
}

/// The objects of [`LazyCtx::own_order`].
fn own(objects: &[*const Module]) -> impl Iterator<Item = &Module> + Clone {
    // SAFETY: the object's own dependencies stay loaded as long as the object, which is
    // running (it called through its PLT), and its context lives as long as it does.
    objects.iter().map(|&p| unsafe { &*p })
}

/// Die if the object was unloaded (a call through a PLT slot of an object closed since).
#[inline]
fn check_loaded(ctx: &LazyCtx, m: &Module) {
    if ctx.scope.local.get(ctx.at).is_none_or(|w| w.strong_count() == 0) {
        fatal(m, "lazy binding after unload");
    }
}

/// The body of [`lazy_fixup`]: `held` is empty, and holds on return the scopes' objects that
/// the object's own dependencies do not keep loaded.
fn bind_slot(ctx: &LazyCtx, m: &Module, r: &Rela, slot: usize, held: &mut Vec<Arc<Module>>) -> usize {
    let live = |w: &Weak<Module>, held: &mut Vec<Arc<Module>>| {
        if let Some(m) = w.upgrade() {
            held.push(m);
        }
    };
    for w in &ctx.scope.extra {
        live(w, held);
    }
    let n_extra = held.len();
    for (w, own) in ctx.scope.local.iter().zip(&*ctx.local_own) {
        if !own {
            live(w, held);
        }
    }
    let n_local = held.len();
    if let Some(i) = m.image.as_ref().filter(|_| ctx.holds.load(Ordering::Acquire)) {
        for (_, v) in i.lazy_later.lock().iter() {
            for w in v {
                live(w, held);
            }
        }
    }
    let (extra, rest) = held.split_at(n_extra);
    let later = &rest[n_local - n_extra..];
    let global = (registry().global_scope_now)();
    check_loaded(ctx, m);
    // The order of `resolve::binding_scope`, in a list: searching it is cheaper than walking
    // chained parts of the scope. An object of the local scope is searched if it is one of the
    // object's own dependencies (loaded while the object is), or if it was held above: its count
    // stays above zero while held, and one that had dropped to zero stays there.
    let mut list = List::new(m);
    if m.dynamic.symbolic {
        list.push(m);
    }
    let push_local = |list: &mut List<'_>| {
        for (w, own) in ctx.scope.local.iter().zip(&*ctx.local_own) {
            if *own || w.strong_count() > 0 {
                // SAFETY: loaded, as said above.
                list.push(unsafe { &*w.as_ptr() });
            }
        }
    };
    if ctx.scope.deepbind {
        push_local(&mut list);
    }
    list.extend(global.iter().map(|g| &**g));
    list.extend(extra.iter().map(|e| &**e));
    if !ctx.scope.deepbind {
        push_local(&mut list);
    }
    list.extend(later.iter().map(|l| &**l));
    bind_listed(ctx, m, r, slot, list.get().iter().copied(), &global, held)
}

/// Bind the slot through the objects of `list` (in order), which `global` and `held` keep
/// loaded, and return the target.
fn bind_listed<'a>(
    ctx: &LazyCtx,
    m: &'a Module,
    r: &Rela,
    slot: usize,
    list: impl Iterator<Item = &'a Module> + Clone,
    global: &[Arc<Module>],
    held: &[Arc<Module>],
) -> usize {
    let failed = |e: Error| -> ! { fatal(m, &format!("symbol lookup error: {e}")) };
    // Each result is taken apart at once: no `Result` of the error's size is moved along.
    let res = Lookups::with_snapshot(&ctx.hooks, |lookups| bind_symbol(m, r.sym(), list, lookups)).unwrap_or_else(|e| failed(e));
    let value = match &ctx.hooks.on_relocation {
        Some(hook) => observe(hook, m, r, slot, res.value).unwrap_or_else(|e| failed(e)),
        None => res.value,
    };
    if let Some((def, _)) = res.def {
        // SAFETY: `def` is one of the scope's objects, held above.
        let id = unsafe { &*def }.id;
        if !ctx.scope.own.contains(&id) {
            // Bound outside its own dependencies (if only to another object of the same open):
            // keep the definition loaded with this object.
            if let (Some(image), Some(target)) = (&m.image, global.iter().chain(held.iter()).find(|g| g.id == id)) {
                let mut pins = image.lazy_pins.lock();
                if !pins.iter().any(|p| p.id == id) {
                    pins.push(target.clone());
                }
            }
        }
    }
    // One atomic store: other threads may be jumping through the slot right now.
    // SAFETY: the slot is this object's word-aligned GOT entry for the PLT entry being called;
    // it stays writable under lazy binding (it is outside RELRO).
    unsafe { (*(slot as *const std::sync::atomic::AtomicUsize)).store(value, std::sync::atomic::Ordering::Release) };
    value
}

/// The objects one lazy binding searches, in order: on the stack while they are few.
struct List<'a, T = Module> {
    stack: [&'a T; 16],
    n: usize,
    heap: Vec<&'a T>,
}

impl<'a, T> List<'a, T> {
    /// An empty list (`any` fills the unused places).
    #[inline]
    fn new(any: &'a T) -> Self {
        List { stack: [any; 16], n: 0, heap: Vec::new() }
    }

    fn push(&mut self, m: &'a T) {
        if let Some(place) = self.stack.get_mut(self.n) {
            *place = m;
            self.n += 1;
        } else {
            self.spill().push(m);
        }
    }

    fn extend(&mut self, objects: impl ExactSizeIterator<Item = &'a T>) {
        let n = objects.len();
        match self.stack.get_mut(self.n..self.n + n) {
            Some(places) => {
                for (place, m) in places.iter_mut().zip(objects) {
                    *place = m;
                }
                self.n += n;
            }
            None => self.spill().extend(objects),
        }
    }

    /// The list on the heap, from now on.
    #[cold]
    fn spill(&mut self) -> &mut Vec<&'a T> {
        if self.heap.is_empty() {
            self.heap.extend_from_slice(&self.stack[..self.n]);
            // Nothing more goes on the stack.
            self.n = self.stack.len();
        }
        &mut self.heap
    }

    fn get(&self) -> &[&'a T] {
        if self.heap.is_empty() {
            &self.stack[..self.n]
        } else {
            &self.heap
        }
    }
}

fn fatal(m: &Module, what: &str) -> ! {
    crate::os::die(&format!("{}: {what}", m.name()))
}

/// Run the relocation callback on one symbolic relocation; its veto becomes the load's error.
fn observe(hook: &RelocHook, m: &Module, r: &Rela, place: usize, value: usize) -> Result<usize> {
    let sym = m.symtab.sym(r.sym());
    let mut ev = RelocEvent {
        requester: m.c_name(),
        r_type: r.kind(),
        name: sym.map_or(c"", |s| m.symtab.name_cstr(s)),
        version: m.symtab.needed_version_cstr(r.sym()),
        place,
        value,
    };
    match hook(&mut ev) {
        Ok(()) => Ok(ev.value),
        Err(message) => Err(Error::Vetoed { file: m.name().to_string(), message }),
    }
}

#[cfg(test)]
mod tests {
    use super::{List, Pages};
    use crate::raw::{Rela, WORD};
    use std::sync::Arc;

    /// The pages a test object's writable span holds: 64 from 0x10000.
    const LO: usize = 0x10000;

    fn pages_of(f: impl FnOnce(&mut Pages)) -> Vec<(usize, usize)> {
        let page = crate::os::page_size();
        let mut p = Pages::new(&[(LO + 8, LO + 64 * page - 8)]).unwrap();
        f(&mut p);
        p.runs().collect()
    }

    /// Runs of the pages of `places` (inside the span), by brute force.
    fn naive(places: &[usize]) -> Vec<(usize, usize)> {
        let page = crate::os::page_size();
        let mut set: Vec<usize> = places.iter().filter(|&&p| (LO..LO + 64 * page).contains(&p)).map(|p| p & !(page - 1)).collect();
        set.sort_unstable();
        set.dedup();
        let mut runs: Vec<(usize, usize)> = Vec::new();
        for p in set {
            match runs.last_mut() {
                Some(last) if last.1 == p => last.1 += page,
                _ => runs.push((p, p + page)),
            }
        }
        runs
    }

    fn rela(offset: usize, kind: u32) -> Rela {
        Rela { r_offset: offset as _, r_info: kind as _, r_addend: 0 }
    }

    /// A small pseudo-random sequence (xorshift), the same on every run.
    fn sequence(n: usize, mut x: u64) -> Vec<u64> {
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            })
            .collect()
    }

    #[test]
    fn pages_of_a_sorted_table_are_exact() {
        let page = crate::os::page_size();
        // Dense stretches, gaps of several pages, places outside the span, R_*_NONE records.
        let mut places: Vec<usize> = (0..3000).map(|i| LO + i * WORD).collect();
        places.extend((0..40).map(|i| LO + 20 * page + i * 97 * WORD));
        places.push(LO + 40 * page + 16);
        places.extend((0..500).map(|i| LO + 50 * page + i * WORD));
        places.push(LO + 200 * page);
        places.sort_unstable();
        let table: Vec<Rela> = places.iter().map(|&p| rela(p, 8)).collect();
        let mut with_none = table.clone();
        with_none.push(rela(LO + 60 * page, 0));
        assert_eq!(pages_of(|p| p.table(0, &with_none)), naive(&places));
        // The same places, biased.
        let biased: Vec<Rela> = places.iter().map(|&p| rela(p - 0x4000, 8)).collect();
        assert_eq!(pages_of(|p| p.table(0x4000, &biased)), naive(&places));
    }

    #[test]
    fn pages_of_a_shuffled_table_are_written_ones() {
        let page = crate::os::page_size();
        let pages = |runs: Vec<(usize, usize)>| runs.into_iter().flat_map(|(s, e)| (s..e).step_by(page)).collect::<Vec<_>>();
        for (n, seed) in [(60, 1), (300, 2), (2000, 3)] {
            let places: Vec<usize> = sequence(n, seed).iter().map(|&x| LO + (x as usize % (64 * page)) / WORD * WORD).collect();
            let table: Vec<Rela> = places.iter().map(|&p| rela(p, 8)).collect();
            let written = pages(naive(&places));
            let got = pages(pages_of(|p| p.table(0, &table)));
            // Every page taken is written (records between two on neighbouring pages are
            // passed over: some pages written may be left out).
            assert!(got.iter().all(|p| written.contains(p)), "{n} places: {got:x?} not all in {written:x?}");
            assert!(!got.is_empty());
        }
    }

    #[test]
    fn pages_of_relr_tables_are_exact() {
        let page = crate::os::page_size();
        let bits = usize::BITS as usize - 1;
        for seed in 1..40u64 {
            // An address entry, then bitmaps; now and then a new address entry further on.
            let mut words = Vec::new();
            let mut places = Vec::new();
            let mut next = 0;
            for (i, x) in sequence(30, seed).into_iter().enumerate() {
                if i == 0 || x % 7 == 0 {
                    let at = LO + (x as usize % (48 * page)) / WORD * WORD;
                    words.push(at);
                    places.push(at);
                    next = at + WORD;
                } else {
                    // Sparse or dense bitmaps of `bits` words after `next`.
                    let mask = if x % 3 == 0 { x >> 20 } else { x & (x >> 9) & (x >> 31) };
                    let mask = mask as usize & ((1 << bits) - 1);
                    for b in 0..bits {
                        if mask >> b & 1 != 0 {
                            places.push(next + b * WORD);
                        }
                    }
                    words.push(mask << 1 | 1);
                    next += bits * WORD;
                }
            }
            assert_eq!(pages_of(|p| p.relr(0, &words)), naive(&places), "seed {seed}");
        }
    }

    #[test]
    fn list_keeps_order_past_the_stack() {
        let items: Vec<Arc<u32>> = (0..40).map(Arc::new).collect();
        let (first, rest) = items.split_at(1);
        for split in [0, 5, 15, 16, 17, 30] {
            let mut list = List::new(&*first[0]);
            list.push(&*first[0]);
            list.extend(rest[..split].iter().map(|v| &**v));
            for one in &rest[split..split + 3] {
                list.push(one);
            }
            list.extend(rest[split + 3..].iter().map(|v| &**v));
            let got: Vec<u32> = list.get().iter().map(|v| **v).collect();
            assert_eq!(got, (0..40).collect::<Vec<u32>>(), "split at {split}");
        }
    }
}
