//! Writing the unit: an ET_DYN image, linked for the base address its span was reserved at. What
//! only the load can know (addresses outside the unit, TLS module ids, IFUNC targets) is left to
//! dynamic relocations, which the relocation stage applies as it does for any shared library.

use super::ehframe;
use super::layout::{target_in, Key, Layout, Plan, Slot, Targets, DYNAMIC_ENTRIES, EH_HDR_SIZE};
use super::object::{Reloc, NONE};
use super::symbols::Def;
use super::{arch, Error, FxMap, Linker, Result, StaticTls, Target, TlsTemplate};
use crate::arch::Calc;
use arch::{dynrel, Field};
use alloc::format;
use alloc::string::ToString;
use alloc::vec;
use alloc::vec::Vec;
use elf::abi;

/// Init and fini array sections whose entries run in reverse (`.ctors`, `.dtors`): object and
/// section.
type ReversedSet = hashbrown::HashSet<(u32, u32), core::hash::BuildHasherDefault<super::FxHasher>>;

/// How a section's bytes are placed in the image.
#[derive(Clone, Copy)]
enum Placing<'l> {
    /// From this offset on.
    At(u64),
    /// At this offset, this many bytes, its 8-byte entries in reverse order (`.ctors`).
    Reversed(u64, u64),
    /// Record by record (see `ehframe`): the section's kept records.
    EhFrame(&'l [ehframe::Piece]),
    Nowhere,
}

/// A dynamic relocation: offset from the base, type, dynamic symbol, addend.
type DynRel = (u64, u32, u32, i64);

struct Writer<'l, 'a> {
    l: &'l Linker<'a>,
    plan: &'l Plan,
    lay: &'l Layout,
    base: u64,
    img: &'l mut [u8],
    /// What the objects' symbols resolve to, now that sections have their places.
    targets: &'l Targets,
    dyns: Vec<DynRel>,
    /// Fields that hold a thread-pointer offset: (offset, field, value without the block's).
    tp_patches: Vec<(u64, Field, i64)>,
    nlocals: u32,
}

#[inline]
fn put(img: &mut [u8], at: u64, field: Field, v: i64) -> bool {
    if !field.fits(v) {
        return false;
    }
    let at = at as usize;
    if let Field::Insn(f) = field {
        // The image's base is page-aligned: the place and its offset in the image share their
        // low 12 bits, which is all the page-relative fields need of it.
        return arch::write_insn(f, &mut img[at..], v, at as u64);
    }
    // (Fixed sizes for the common fields: copies the compiler inlines.)
    match field.size() {
        4 => img[at..at + 4].copy_from_slice(&(v as u32).to_le_bytes()),
        8 => img[at..at + 8].copy_from_slice(&v.to_le_bytes()),
        n => img[at..at + n].copy_from_slice(&v.to_le_bytes()[..n]),
    }
    true
}

/// The exports' indices grouped by GNU hash bucket, in bucket order (stable within a bucket):
/// a counting sort.
fn bucket_order(hashes: &[u32], nbuckets: u32) -> Vec<usize> {
    let mut start = vec![0usize; nbuckets as usize + 1];
    for &h in hashes {
        start[(h % nbuckets) as usize + 1] += 1;
    }
    for b in 1..start.len() {
        start[b] += start[b - 1];
    }
    let mut order = vec![0usize; hashes.len()];
    for (i, &h) in hashes.iter().enumerate() {
        let slot = &mut start[(h % nbuckets) as usize];
        order[*slot] = i;
        *slot += 1;
    }
    order
}

impl<'a> Linker<'a> {
    /// Write the image into `img` (zeroed memory at `base`, `lay.file_size` bytes); `tls`
    /// reserves the unit's block in static TLS, when its code uses initial or local exec on its
    /// own variables. `targets` is the scan's table, refilled here with the layout's addresses.
    pub fn emit(&self, plan: &Plan, lay: &Layout, targets: &mut Targets, img: &mut [u8], base: u64, tls: &mut dyn StaticTls) -> Result<()> {
        self.resolve_targets(targets);
        let mut w = Writer {
            l: self,
            plan,
            lay,
            base,
            img,
            targets,
            dyns: Vec::with_capacity(plan.ndyn),
            tp_patches: Vec::new(),
            nlocals: lay.locals.len() as u32,
        };
        w.init_functions();
        w.copy_sections();
        w.relocate_sections()?;
        w.got_and_stubs()?;
        w.tables();
        w.static_tls(tls)?;
        if w.dyns.len() != plan.ndyn {
            return Err(Error::Link {
                file: self.unit.to_string(),
                reason: format!("internal error: {} dynamic relocations written, {} planned", w.dyns.len(), plan.ndyn),
            });
        }
        let rela = &mut w.img[lay.rela as usize..lay.rela as usize + 24 * plan.ndyn];
        for (e, &(off, ty, sym, addend)) in rela.chunks_exact_mut(24).zip(&w.dyns) {
            e[..8].copy_from_slice(&off.to_le_bytes());
            e[8..16].copy_from_slice(&((sym as u64) << 32 | ty as u64).to_le_bytes());
            e[16..].copy_from_slice(&addend.to_le_bytes());
        }
        Ok(())
    }
}

impl<'l> Writer<'l, '_> {
    /// How the bytes of section `si` of object `oi` are placed in the image.
    fn placing(&self, reversed: &ReversedSet, oi: u32, si: u32) -> Placing<'l> {
        let s = &self.l.objs[oi as usize].sections[si as usize];
        if s.name == b".eh_frame" {
            Placing::EhFrame(self.lay.eh.pieces_of(oi, si))
        } else if s.tls() {
            self.lay.tls.map_or(Placing::Nowhere, |(start, ..)| Placing::At(start + s.addr))
        } else if !reversed.is_empty() && reversed.contains(&(oi, si)) {
            Placing::Reversed(s.addr, s.size)
        } else {
            Placing::At(s.addr)
        }
    }

    /// Where byte `off` of a section placed as `how` is in the image (None: not linked);
    /// `hint` carries a record lookup over to the next call for the same section.
    #[inline]
    fn place(&self, how: Placing, hint: &mut usize, off: u64) -> Option<u64> {
        match how {
            Placing::At(addr) => Some(addr + off),
            Placing::Reversed(addr, size) => Some(addr + (size - 8 - (off & !7)) + (off & 7)),
            Placing::EhFrame(pieces) => ehframe::place_in(pieces, hint, off).map(|o| self.lay.eh_frame + o),
            Placing::Nowhere => None,
        }
    }

    fn reversed(&self) -> ReversedSet {
        self.lay.init_order.iter().chain(&self.lay.fini_order).filter(|e| e.2).map(|&(o, s, _)| (o, s)).collect()
    }

    /// The frame of `_init` and `_fini` around the objects' fragments (copied next).
    fn init_functions(&mut self) {
        for (start, end) in [self.lay.init_fn, self.lay.fini_fn].into_iter().flatten() {
            let (start, end) = (start as usize, end as usize);
            self.img[start..end].fill(arch::CODE_FILL);
            self.img[start..start + arch::INIT_PROLOGUE.len()].copy_from_slice(arch::INIT_PROLOGUE);
            self.img[end - arch::INIT_EPILOGUE.len()..end].copy_from_slice(arch::INIT_EPILOGUE);
        }
    }

    fn copy_sections(&mut self) {
        let reversed = self.reversed();
        for (oi, o) in self.l.objs.iter().enumerate() {
            for (si, s) in o.sections.iter().enumerate() {
                if !s.live || s.ty == abi::SHT_NOBITS || s.name == b".eh_frame" || s.data.is_empty() {
                    continue;
                }
                let how = self.placing(&reversed, oi as u32, si as u32);
                let Some(at) = self.place(how, &mut 0, 0) else { continue };
                if let Placing::Reversed(..) = how {
                    let end = (s.addr + s.size) as usize;
                    for (i, word) in s.data.chunks(8).enumerate() {
                        let to = end - 8 * (i + 1);
                        self.img[to..to + word.len()].copy_from_slice(word);
                    }
                } else {
                    self.img[at as usize..at as usize + s.data.len()].copy_from_slice(s.data);
                }
            }
        }
        for p in &self.lay.eh.pieces {
            let s = &self.l.objs[p.obj as usize].sections[p.sec as usize];
            let to = (self.lay.eh_frame + p.to) as usize;
            self.img[to..to + p.len as usize].copy_from_slice(&s.data[p.from as usize..(p.from + p.len) as usize]);
            if let Some(cie) = p.cie {
                // The CIE pointer: from this field back to the CIE, in the output.
                let ptr = (p.to + 4 - cie) as u32;
                self.img[to + 4..to + 8].copy_from_slice(&ptr.to_le_bytes());
            }
        }
    }

    fn dynamic(&mut self, at: u64, ty: u32, sym: u32, addend: i64) {
        self.dyns.push((at, ty, sym, addend));
    }

    fn import(&self, g: u32) -> u32 {
        1 + self.nlocals + self.plan.import_at[&g]
    }

    fn got(&self, kind: Slot, key: Key) -> u64 {
        self.lay.got + self.plan.got_at[&(kind, key)]
    }

    fn key_target(&self, key: Key) -> Target {
        match key {
            Key::Global(g) => self.l.global_target(g),
            Key::Local(o, s) if o != NONE => self.l.reloc_target(o, s).1,
            Key::Local(..) => Target::Tls(0),
        }
    }

    /// The size of a relocation's symbol (R_X86_64_SIZE*).
    fn size_of(&self, oi: u32, sym: u32, t: Target) -> u64 {
        let (key, _) = self.l.reloc_target(oi, sym);
        match key {
            Key::Global(g) => match self.l.globals[g as usize].def {
                Def::Sym { obj, sym } => self.l.objs[obj as usize].syms[sym as usize].size,
                Def::Common { size, .. } => size,
                Def::Undef => match t {
                    Target::External(g) => self.plan.outside.get(&g).copied().flatten().map_or(0, |o| o.size),
                    _ => 0,
                },
                Def::Synthetic => 0,
            },
            Key::Local(o, s) => self.l.objs[o as usize].syms[s as usize].size,
        }
    }

    fn relocate_sections(&mut self) -> Result<()> {
        let reversed = self.reversed();
        // The values of relocations that others pair with (by place), and those others.
        let mut his: FxMap<u64, Option<i64>> = FxMap::default();
        let mut los = Vec::new();
        let (l, targets) = (self.l, self.targets);
        for (oi, o) in l.objs.iter().enumerate() {
            let oi = oi as u32;
            let ts = targets.of(oi);
            for (si, s) in o.sections.iter().enumerate() {
                let si = si as u32;
                if !s.live || s.relocs.is_empty() {
                    continue;
                }
                let how = self.placing(&reversed, oi, si);
                let writable = l.lands_writable(oi, si);
                let mut hint = 0;
                for r in s.relocs.iter() {
                    let at = match how {
                        // (Most sections: no call, no lookup.)
                        Placing::At(addr) => addr + r.offset,
                        how => match self.place(how, &mut hint, r.offset) {
                            Some(at) => at,
                            None => continue,
                        },
                    };
                    let t = target_in(ts, r.sym);
                    let value = match self.apply_local(t, r, at, writable) {
                        Some(v) => Some(v),
                        None => self.apply(oi, si, r, at, t)?,
                    };
                    if arch::is_pair_hi(r.ty) {
                        his.insert(at, value);
                    } else if value.is_none() && arch::object_reloc(r.ty).0 == Calc::PairedLo {
                        los.push((oi, si, r, at));
                    }
                }
            }
        }
        for (oi, si, r, at) in los {
            self.apply_paired_lo(&his, oi, si, r, at)?;
        }
        Ok(())
    }

    /// A relocation that takes the value of the one at the place its symbol labels (once every
    /// other relocation is done: it may come before that one).
    #[cold]
    fn apply_paired_lo(&mut self, his: &FxMap<u64, Option<i64>>, oi: u32, si: u32, r: Reloc, at: u64) -> Result<()> {
        let fail = |why: &str| self.l.reloc_error(oi, si, r, why);
        let Target::Local(label) = self.targets.get(oi, r.sym) else {
            return Err(fail("must refer to a label of the unit's code"));
        };
        let Some(&value) = his.get(&label) else {
            return Err(fail("its symbol labels no instruction that a PC-relative HI20 relocation fills"));
        };
        let value = value.ok_or_else(|| fail("the HI20 relocation it pairs with has no value of its own"))?;
        if !put(self.img, at, arch::object_reloc(r.ty).1, value) {
            return Err(fail(&format!("the value {value:#x} does not fit the field")));
        }
        Ok(())
    }

    /// Most relocations refer to an address inside the unit: no stub, GOT entry or dynamic
    /// relocation, only the value (as [`apply`](Self::apply) computes it). Whether `r` was one
    /// and is done (its value); if not, or if its value does not fit, `apply` takes it.
    #[inline(always)]
    fn apply_local(&mut self, t: Target, r: Reloc, at: u64, writable: bool) -> Option<i64> {
        let Target::Local(x) = t else { return None };
        let (calc, field) = arch::object_reloc(r.ty);
        let s = self.base as i64 + x as i64;
        let value = match (calc, field) {
            (Calc::Pc | Calc::CallPc, _) => s + r.addend - (self.base + at) as i64,
            (Calc::Abs, Field::W64) => {
                // Written for this base, and relocated for wherever the image is mapped (see
                // the scan).
                if writable {
                    self.dynamic(at, arch::RELATIVE, 0, (x as i64).wrapping_add(r.addend));
                }
                s + r.addend
            }
            _ => return None,
        };
        put(self.img, at, field, value).then_some(value)
    }

    /// Apply relocation `r` of section `si` of object `oi` at `at`; `t` is its symbol's target.
    /// (Not inlined: kept out of the loop that takes the common relocations, see `apply_local`.)
    #[inline(never)]
    fn apply(&mut self, oi: u32, si: u32, r: Reloc, at: u64, t: Target) -> Result<Option<i64>> {
        let (calc, field) = arch::object_reloc(r.ty);
        let l = self.l;
        let base = self.base as i64;
        let a = r.addend;
        let p = base + at as i64;
        let fail = |why: &str| l.reloc_error(oi, si, r, why);
        let key = l.key(oi, r.sym);
        let got_base = base + self.lay.got as i64;
        // A stub only for what leaves the unit or is an IFUNC; data references reach code
        // outside the unit through it, as the scan decided.
        let (stub, data_stub) = match t {
            Target::External(_) | Target::Ifunc(_) => {
                let stub = self.plan.stub_at.get(&key).map(|&i| base + (self.lay.stubs + i as u64 * arch::STUB_SIZE as u64) as i64);
                let code = match t {
                    Target::External(g) => self.plan.outside.get(&g).copied().flatten().is_some_and(|o| o.func),
                    _ => true,
                };
                (stub, stub.filter(|_| code))
            }
            _ => (None, None),
        };
        // S: the symbol's address as the unit sees it.
        let s = match t {
            Target::Local(x) | Target::Ifunc(x) => base + x as i64,
            Target::Abs(v) => v as i64,
            Target::Tls(x) => x as i64,
            Target::External(_) => 0,
            Target::Discarded => {
                return Err(fail("refers to a section that is not linked (it belongs to a COMDAT group another object provided)"))
            }
        };
        let is_tls = matches!(t, Target::Tls(_));
        let tls_calc = matches!(calc, Calc::TlsGd | Calc::TlsLd | Calc::DtpOff | Calc::GotTpOff | Calc::TpOff | Calc::TlsDesc | Calc::TlsDescCall);
        if is_tls != tls_calc && !matches!(calc, Calc::TlsLd | Calc::None | Calc::Size) && !matches!(t, Target::External(_)) {
            return Err(fail(if is_tls { "a thread-local variable used as an address" } else { "a TLS relocation against a symbol that is not thread-local" }));
        }
        let value: i64 = match calc {
            Calc::None | Calc::TlsDescCall | Calc::PairedLo => return Ok(None),
            Calc::Abs => match (t, data_stub) {
                (Target::External(g), _) if field == Field::W64 => {
                    self.dynamic(at, dynrel::ABS64, self.import(g), a);
                    return Ok(None);
                }
                (Target::Ifunc(x), _) if field == Field::W64 => {
                    self.dynamic(at, dynrel::IRELATIVE, 0, x as i64);
                    return Ok(None);
                }
                (Target::External(_) | Target::Ifunc(_), Some(l)) => l + a,
                (Target::External(g), None) => {
                    let ty = if field == Field::U32 { dynrel::ABS32 } else { dynrel::ABS32S };
                    self.dynamic(at, ty, self.import(g), a);
                    return Ok(None);
                }
                _ => s + a,
            },
            Calc::Pc => match (t, data_stub) {
                (Target::External(_) | Target::Ifunc(_), Some(l)) => l + a - p,
                (Target::External(g), None) => {
                    self.dynamic(at, dynrel::PC32, self.import(g), a);
                    return Ok(None);
                }
                _ => s + a - p,
            },
            Calc::CallPc => stub.unwrap_or(s) + a - p,
            Calc::CallGotRel => stub.unwrap_or(s) + a - got_base,
            Calc::GotEntryPc { relax } => {
                if relax && matches!(t, Target::Local(_)) && l.relaxable(oi, si, r.offset) {
                    arch::relax_got_load(self.img, at as usize);
                    s + a - p
                } else {
                    self.got(Slot::Addr, key) as i64 + base + a - p
                }
            }
            Calc::GotEntry => (self.got(Slot::Addr, key) - self.lay.got) as i64 + a,
            Calc::GotRel => s + a - got_base,
            Calc::GotBasePc => got_base + a - p,
            Calc::Size => self.size_of(oi, r.sym, t) as i64 + a,
            Calc::TlsGd => self.got(Slot::Gd, key) as i64 + base + a - p,
            Calc::TlsLd => self.got(Slot::Ld, Key::Local(NONE, NONE)) as i64 + base + a - p,
            Calc::TlsDesc => self.got(Slot::Desc, key) as i64 + base + a - p,
            Calc::GotTpOff => self.got(Slot::TpOff, key) as i64 + base + a - p,
            Calc::DtpOff => s + a,
            Calc::TpOff => {
                self.tp_patches.push((at, field, s + a));
                return Ok(None);
            }
            Calc::Unknown => return Err(fail("unknown relocation type")),
        };
        if !put(self.img, at, field, value) {
            // A branch too far for its field goes through its veneer, if the layout gave it one.
            let veneer = self.lay.veneers.get(&(oi, si)).and_then(|(start, v)| {
                let i = v.iter().position(|&e| e == (key, a))?;
                Some(base + (start + (i * arch::VENEER_SIZE) as u64) as i64 - p)
            });
            match veneer {
                Some(v) if calc == Calc::CallPc && put(self.img, at, field, v) => return Ok(Some(v)),
                _ => return Err(fail(&format!("the value {value:#x} does not fit the field"))),
            }
        }
        Ok(Some(value))
    }

    fn got_and_stubs(&mut self) -> Result<()> {
        let base = self.base;
        for &(kind, key, off) in &self.plan.got {
            let at = self.lay.got + off;
            let t = self.key_target(key);
            match (kind, t) {
                (Slot::Addr, Target::External(g)) => self.dynamic(at, dynrel::GLOB_DAT, self.import(g), 0),
                (Slot::Addr, Target::Ifunc(x)) => self.dynamic(at, dynrel::IRELATIVE, 0, x as i64),
                (Slot::Addr, Target::Local(x)) => {
                    put(self.img, at, Field::W64, (base + x) as i64);
                    self.dynamic(at, arch::RELATIVE, 0, x as i64);
                }
                (Slot::Addr, Target::Abs(v)) => {
                    put(self.img, at, Field::W64, v as i64);
                }
                (Slot::Gd, Target::External(g)) => {
                    let sym = self.import(g);
                    self.dynamic(at, dynrel::DTPMOD64, sym, 0);
                    self.dynamic(at + 8, dynrel::DTPOFF64, sym, 0);
                }
                (Slot::Gd, Target::Tls(x)) => {
                    self.dynamic(at, dynrel::DTPMOD64, 0, 0);
                    // `tls_index` offsets are biased as `__tls_get_addr` expects them.
                    put(self.img, at + 8, Field::W64, (x as i64).wrapping_sub(arch::DTV_OFFSET as i64));
                }
                (Slot::Ld, _) => self.dynamic(at, dynrel::DTPMOD64, 0, 0),
                (Slot::Desc, Target::External(g)) => self.dynamic(at, dynrel::TLSDESC, self.import(g), 0),
                (Slot::Desc, Target::Tls(x)) => self.dynamic(at, dynrel::TLSDESC, 0, x as i64),
                (Slot::TpOff, Target::External(g)) => self.dynamic(at, dynrel::TPOFF64, self.import(g), 0),
                (Slot::TpOff, Target::Tls(x)) => self.tp_patches.push((at, Field::W64, x as i64)),
                (kind, t) => {
                    return Err(Error::Link {
                        file: self.l.unit.to_string(),
                        reason: format!("a {kind:?} GOT entry cannot refer to {t:?}"),
                    })
                }
            }
        }
        for (i, &key) in self.plan.stubs.iter().enumerate() {
            let at = self.lay.stubs + (i * arch::STUB_SIZE) as u64;
            let code = arch::call_stub(base + at, base + self.got(Slot::Addr, key));
            self.img[at as usize..at as usize + arch::STUB_SIZE].copy_from_slice(&code);
        }
        for (start, v) in self.lay.veneers.values() {
            for (i, &(key, addend)) in v.iter().enumerate() {
                let at = start + (i * arch::VENEER_SIZE) as u64;
                // To the stub of a function outside the unit, else to the unit's own code.
                let to = match (self.key_target(key), self.plan.stub_at.get(&key)) {
                    (Target::Local(x), _) => x,
                    (_, Some(&s)) => self.lay.stub(s),
                    _ => continue,
                };
                let code = arch::veneer(base + at, (base + to).wrapping_add_signed(addend));
                self.img[at as usize..at as usize + arch::VENEER_SIZE].copy_from_slice(&code);
            }
        }
        Ok(())
    }

    /// `.eh_frame_hdr`, once `.eh_frame` is relocated: the pointer to `.eh_frame` (pc-relative
    /// 32-bit), then the binary search table `ld --eh-frame-hdr` writes when the unit's FDEs make
    /// one (see [`ehframe::write_search_table`]). Returns its size.
    fn eh_frame_hdr(&mut self) -> u64 {
        let lay = self.lay;
        let eh = lay.eh_hdr as usize;
        let entries = ehframe::write_search_table(self.img, &lay.eh, lay.eh_frame, self.base, lay.eh_hdr);
        // Encodings: .eh_frame pc-relative sdata4; the count udata4 and the table datarel
        // sdata4, or omitted.
        let (count_enc, table_enc) = if entries.is_some() { (0x03, 0x3b) } else { (0xff, 0xff) };
        self.img[eh..eh + 4].copy_from_slice(&[1, 0x1b, count_enc, table_enc]);
        let ptr = (lay.eh_frame as i64 - (lay.eh_hdr as i64 + 4)) as i32;
        self.img[eh + 4..eh + 8].copy_from_slice(&ptr.to_le_bytes());
        EH_HDR_SIZE + entries.map_or(0, |n| 4 + 8 * n as u64)
    }

    /// The ELF header, program headers, dynamic section and symbols, and the unwind header.
    fn tables(&mut self) {
        let eh_hdr_size = self.eh_frame_hdr();
        let lay = self.lay;
        let page = self.l.page;
        let mut h = [0u8; 64];
        h[..8].copy_from_slice(&[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
        h[16..18].copy_from_slice(&abi::ET_DYN.to_le_bytes());
        h[18..20].copy_from_slice(&arch::ELF_MACHINE.to_le_bytes());
        h[20..24].copy_from_slice(&1u32.to_le_bytes());
        h[32..40].copy_from_slice(&64u64.to_le_bytes());
        h[48..52].copy_from_slice(&arch::ELF_FLAGS.to_le_bytes());
        h[52..54].copy_from_slice(&64u16.to_le_bytes());
        h[54..56].copy_from_slice(&56u16.to_le_bytes());
        h[56..58].copy_from_slice(&(lay.phnum as u16).to_le_bytes());
        h[58..60].copy_from_slice(&64u16.to_le_bytes());
        self.img[..64].copy_from_slice(&h);

        let (r, w, x) = (abi::PF_R, abi::PF_W, abi::PF_X);
        let mut ph: Vec<(u32, u32, u64, u64, u64, u64)> = vec![(abi::PT_LOAD, r, 0, lay.r_end, lay.r_end, page)];
        if lay.rx.1 > lay.rx.0 {
            ph.push((abi::PT_LOAD, r | x, lay.rx.0, lay.rx.1 - lay.rx.0, lay.rx.1 - lay.rx.0, page));
        }
        let relro_len = lay.relro.1 - lay.relro.0;
        ph.push((abi::PT_LOAD, r | w, lay.relro.0, relro_len, relro_len, page));
        if lay.rw.1 > lay.rw.0 {
            ph.push((abi::PT_LOAD, r | w, lay.rw.0, lay.file_size.saturating_sub(lay.rw.0), lay.rw.1 - lay.rw.0, page));
        }
        ph.push((abi::PT_DYNAMIC, r | w, lay.dynamic, 16 * DYNAMIC_ENTRIES, 16 * DYNAMIC_ENTRIES, 8));
        ph.push((abi::PT_GNU_RELRO, r, lay.relro.0, relro_len, relro_len, 1));
        if let Some((start, filesz, memsz, align)) = lay.tls {
            ph.push((abi::PT_TLS, r, start, filesz, memsz, align));
        }
        ph.push((abi::PT_GNU_EH_FRAME, r, lay.eh_hdr, eh_hdr_size, eh_hdr_size, 4));
        ph.push((abi::PT_GNU_STACK, r | w, 0, 0, 0, 16));
        for (i, &(ty, flags, vaddr, filesz, memsz, align)) in ph.iter().enumerate() {
            let at = 64 + 56 * i;
            let e = &mut self.img[at..at + 56];
            e[..4].copy_from_slice(&ty.to_le_bytes());
            e[4..8].copy_from_slice(&flags.to_le_bytes());
            e[8..16].copy_from_slice(&vaddr.to_le_bytes());
            e[16..24].copy_from_slice(&vaddr.to_le_bytes());
            e[24..32].copy_from_slice(&vaddr.to_le_bytes());
            e[32..40].copy_from_slice(&filesz.to_le_bytes());
            e[40..48].copy_from_slice(&memsz.to_le_bytes());
            e[48..56].copy_from_slice(&align.to_le_bytes());
        }

        self.symbols();

        let mut flags = abi::DF_BIND_NOW as u64;
        if self.plan.textrel {
            flags |= abi::DF_TEXTREL as u64;
        }
        if self.plan.static_tls.is_some() {
            flags |= abi::DF_STATIC_TLS as u64;
        }
        let mut d: Vec<(i64, u64)> = vec![
            (abi::DT_GNU_HASH, lay.hash),
            (abi::DT_STRTAB, lay.dynstr),
            (abi::DT_SYMTAB, lay.dynsym),
            (abi::DT_STRSZ, lay.strsz),
            (abi::DT_SYMENT, 24),
            (abi::DT_FLAGS, flags),
            (abi::DT_FLAGS_1, abi::DF_1_NOW as u64),
        ];
        if self.plan.ndyn > 0 {
            d.extend([(abi::DT_RELA, lay.rela), (abi::DT_RELASZ, 24 * self.plan.ndyn as u64), (abi::DT_RELAENT, 24)]);
        }
        if let Some((init, _)) = lay.init_fn {
            d.push((abi::DT_INIT, init));
        }
        if let Some((fini, _)) = lay.fini_fn {
            d.push((abi::DT_FINI, fini));
        }
        if lay.init_array.1 > 0 {
            d.extend([(abi::DT_INIT_ARRAY, lay.init_array.0), (abi::DT_INIT_ARRAYSZ, lay.init_array.1)]);
        }
        if lay.fini_array.1 > 0 {
            d.extend([(abi::DT_FINI_ARRAY, lay.fini_array.0), (abi::DT_FINI_ARRAYSZ, lay.fini_array.1)]);
        }
        if self.plan.textrel {
            d.push((abi::DT_TEXTREL, 0));
        }
        for (i, (tag, val)) in d.into_iter().enumerate() {
            let at = (lay.dynamic + 16 * i as u64) as usize;
            self.img[at..at + 8].copy_from_slice(&tag.to_le_bytes());
            self.img[at + 8..at + 16].copy_from_slice(&val.to_le_bytes());
        }
    }

    /// .dynsym (locals, imports, exports), .dynstr and the GNU hash table of the exports.
    fn symbols(&mut self) {
        let lay = self.lay;
        let l = self.l;
        let mut str_at = 1u64;
        let mut index = 1usize;
        let mut put_sym = |img: &mut [u8], name: &[u8], info: u8, other: u8, shndx: u16, value: u64, size: u64| {
            let s = (lay.dynstr + str_at) as usize;
            img[s..s + name.len()].copy_from_slice(name);
            let at = (lay.dynsym + 24 * index as u64) as usize;
            let e = &mut img[at..at + 24];
            e[..4].copy_from_slice(&(str_at as u32).to_le_bytes());
            e[4] = info;
            e[5] = other;
            e[6..8].copy_from_slice(&shndx.to_le_bytes());
            e[8..16].copy_from_slice(&value.to_le_bytes());
            e[16..24].copy_from_slice(&size.to_le_bytes());
            str_at += name.len() as u64 + 1;
            index += 1;
        };
        // Defined symbols point at no particular section; any index but the special ones does.
        const DEFINED: u16 = 1;
        for &(o, i) in &lay.locals {
            let s = &l.objs[o as usize].syms[i as usize];
            let value = l.objs[o as usize].sections[s.shndx as usize].addr + s.value;
            put_sym(self.img, s.name, s.kind, 0, DEFINED, value, s.size);
        }
        for &g in &self.plan.imports {
            let gl = &l.globals[g as usize];
            let bind = if gl.strong_ref { abi::STB_GLOBAL } else { abi::STB_WEAK };
            let kind = if gl.tls_ref { abi::STT_TLS } else { abi::STT_NOTYPE };
            put_sym(self.img, gl.name, bind << 4 | kind, 0, 0, 0, 0);
        }
        let symoffset = 1 + lay.locals.len() as u32 + self.plan.imports.len() as u32;
        // Exports, in GNU hash bucket order.
        let hashes: Vec<u32> = lay.exports.iter().map(|&g| elf::hash::gnu_hash(l.globals[g as usize].name)).collect();
        let order = bucket_order(&hashes, lay.nbuckets);
        for &i in &order {
            let g = lay.exports[i];
            let gl = &l.globals[g as usize];
            let (bind, kind, size) = match gl.def {
                Def::Sym { obj, sym } => {
                    let s = &l.objs[obj as usize].syms[sym as usize];
                    (s.bind, s.kind, s.size)
                }
                Def::Common { size, .. } => (abi::STB_GLOBAL, abi::STT_OBJECT, size),
                _ => (abi::STB_GLOBAL, abi::STT_NOTYPE, 0),
            };
            let (shndx, value) = match l.global_target(g) {
                Target::Abs(v) => (abi::SHN_ABS, v),
                Target::Local(x) | Target::Ifunc(x) | Target::Tls(x) => (DEFINED, x),
                Target::External(_) | Target::Discarded => (DEFINED, 0),
            };
            let kind = if kind == abi::STT_COMMON { abi::STT_OBJECT } else { kind };
            put_sym(self.img, gl.name, bind << 4 | kind, gl.vis, shndx, value, size);
        }

        // GNU hash: header, Bloom filter, buckets, chain.
        let (nb, nw) = (lay.nbuckets as usize, lay.bloom_words as usize);
        const SHIFT: u32 = 6;
        let mut bloom = vec![0u64; nw];
        let mut buckets = vec![0u32; nb];
        let mut chain = vec![0u32; order.len()];
        for (pos, &i) in order.iter().enumerate() {
            let h = hashes[i];
            bloom[(h as usize / 64) % nw] |= 1 << (h % 64) | 1 << ((h >> SHIFT) % 64);
            let b = h as usize % nb;
            if buckets[b] == 0 {
                buckets[b] = symoffset + pos as u32;
            }
            let last = order.get(pos + 1).is_none_or(|&j| hashes[j] as usize % nb != b);
            chain[pos] = (h & !1) | last as u32;
        }
        let mut at = lay.hash as usize;
        let mut put32 = |img: &mut [u8], v: u32| {
            img[at..at + 4].copy_from_slice(&v.to_le_bytes());
            at += 4;
        };
        for v in [nb as u32, symoffset, nw as u32, SHIFT] {
            put32(self.img, v);
        }
        for word in bloom {
            put32(self.img, word as u32);
            put32(self.img, (word >> 32) as u32);
        }
        for v in buckets.into_iter().chain(chain) {
            put32(self.img, v);
        }
    }

    /// Reserve the unit's static TLS block and write the thread-pointer offsets that depend on
    /// where it is.
    fn static_tls(&mut self, tls: &mut dyn StaticTls) -> Result<()> {
        let (Some(who), Some((start, filesz, memsz, align))) = (&self.plan.static_tls, self.lay.tls) else {
            return Ok(());
        };
        let image = &self.img[start as usize..(start + filesz) as usize];
        let t = TlsTemplate { image, memsz: memsz as usize, align: align as usize };
        let Some(tp_offset) = tls.reserve(&t, self.l.unit) else {
            return Err(Error::Unsupported {
                file: who.clone(),
                what: "initial-exec or local-exec access to the unit's own thread-local variables: static TLS block not reserved".into(),
            });
        };
        for &(at, field, v) in &self.tp_patches {
            let v = v + tp_offset;
            if !put(self.img, at, field, v) {
                return Err(Error::Link { file: who.clone(), reason: format!("thread-pointer offset {v:#x} does not fit its field") });
            }
        }
        Ok(())
    }
}
