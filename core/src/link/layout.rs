//! The relocation scan and the layout.
//!
//! The scan looks at every relocation once and decides what the unit must contain for it, in
//! the spirit of mold's scan pass and LLVM JITLink's x86-64 GOT and stub builders: a GOT entry
//! for each symbol some code loads the address of, a call stub for each call that leaves the
//! unit (or reaches an IFUNC), the TLS entries general and local dynamic, descriptors and
//! initial exec need, a dynamic relocation for each value only the load can know, and where the
//! unit must be placed for its 32-bit fields to fit.
//!
//! The layout then gives every section its place: a read-only segment (headers, dynamic symbol
//! table, read-only data, unwind tables), a read-execute one (code, stubs), a read-write one that
//! becomes read-only after relocation (RELRO: TLS image, `.data.rel.ro`, init and fini arrays,
//! `.dynamic`, the GOT) and a read-write one (data, `.bss`, COMMON).

use super::ehframe::{self, EhFrame};
use super::object::{show, NONE};
use super::symbols::Def;
use super::{Linker, Outside, Scope, Target};
use super::{arch, Error, Result};
use crate::arch::Calc;
use arch::Field;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use elf::abi;
use super::FxMap;

/// Why an absolute reference to a symbol outside the unit is refused.
const EXTERNAL_ABS: &str = "a field under 32 bits or an instruction's immediate cannot hold the address of a symbol outside the unit";

/// What a GOT entry or a stub is for: a global name, or a local symbol of one object.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Key {
    Global(u32),
    Local(u32, u32),
}

/// The kinds of GOT entries.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq)]
pub enum Slot {
    /// The symbol's address (8 bytes).
    Addr,
    /// A general-dynamic `tls_index` pair (16 bytes).
    Gd,
    /// The unit's local-dynamic `tls_index` pair (16 bytes).
    Ld,
    /// A TLS descriptor (16 bytes).
    Desc,
    /// The thread-pointer offset (8 bytes, initial exec).
    TpOff,
}

impl Slot {
    fn size(self) -> u64 {
        match self {
            Slot::Addr | Slot::TpOff => 8,
            _ => 16,
        }
    }
}

/// What the scan found.
#[derive(Default)]
pub struct Plan {
    /// GOT entries in order: kind, what for, offset from the GOT base.
    pub got: Vec<(Slot, Key, u64)>,
    pub got_at: FxMap<(Slot, Key), u64>,
    pub got_size: u64,
    /// Stubs in order, each jumping through the `Slot::Addr` entry of its key.
    pub stubs: Vec<Key>,
    pub stub_at: FxMap<Key, u32>,
    /// Dynamic relocations the unit will have.
    pub ndyn: usize,
    /// Global names bound at load (their dynamic symbol table entries), and their positions.
    pub imports: Vec<u32>,
    pub import_at: FxMap<u32, u32>,
    /// The unit must end below this address (32-bit absolute fields), if set, and the first
    /// relocation that asks for it.
    pub low_end: Option<u64>,
    pub low_why: Option<String>,
    /// PC-relative 32-bit references to data outside the unit: its address, and what refers to it.
    pub near: Vec<(u64, String)>,
    /// Some object uses initial-exec or local-exec access to the unit's own TLS: which, for
    /// messages.
    pub static_tls: Option<String>,
    /// Dynamic relocations in sections that are not writable.
    pub textrel: bool,
    /// A field that only the link can fill, with a value that depends on the address the unit
    /// is written for (the unit's own address in read-only data or code, a PC-relative
    /// reference to an absolute symbol): the first such relocation, for messages. Without one
    /// (and without a placement window or static TLS), the image is position independent.
    pub pinned: Option<String>,
    /// What the scopes say about imported names (for placement and stubs).
    pub outside: FxMap<u32, Option<Outside>>,
}

/// What the symbols of the unit's objects resolve to (see [`Linker::resolve_targets`]).
#[derive(Default)]
pub struct Targets {
    /// Where each object's symbols start in `all`, and the end.
    start: Vec<usize>,
    all: Vec<Target>,
    /// What each global name resolves to.
    globals: Vec<Target>,
}

impl Targets {
    /// The target of symbol `sym` of object `obj` (as [`Linker::reloc_target`] gives it).
    pub fn get(&self, obj: u32, sym: u32) -> Target {
        target_in(self.of(obj), sym)
    }

    /// The targets of object `obj`'s symbols, by symbol index (see [`target_in`]).
    #[inline]
    pub fn of(&self, obj: u32) -> &[Target] {
        &self.all[self.start[obj as usize]..self.start[obj as usize + 1]]
    }
}

/// The target of symbol `sym` in an object's [`Targets::of`].
#[inline(always)]
pub fn target_in(targets: &[Target], sym: u32) -> Target {
    targets.get(sym as usize).copied().unwrap_or(Target::Abs(0))
}

/// Where the layout put the unit's parts: offsets from the base.
#[derive(Default, Debug)]
pub struct Layout {
    pub phnum: usize,
    pub dynsym: u64,
    pub nsyms: usize,
    pub dynstr: u64,
    pub strsz: u64,
    pub hash: u64,
    pub hash_size: u64,
    pub rela: u64,
    pub eh_frame: u64,
    pub eh_frame_size: u64,
    pub eh_hdr: u64,
    /// The room for `.eh_frame_hdr`: its header, and a search table entry for every FDE.
    pub eh_hdr_size: u64,
    pub r_end: u64,
    pub rx: (u64, u64),
    /// `_init` and `_fini` (crti/crtn-style prologue, the objects' fragments, epilogue), if any
    /// object has fragments: start and end.
    pub init_fn: Option<(u64, u64)>,
    pub fini_fn: Option<(u64, u64)>,
    pub stubs: u64,
    /// Range-extension veneers, after the code sections whose branches need them: for each
    /// such section, where they start and what each jumps to (the key as for a stub, and the
    /// addend).
    pub veneers: Veneers,
    pub relro: (u64, u64),
    /// TLS block: image start, initialized size, whole size, alignment.
    pub tls: Option<(u64, u64, u64, u64)>,
    pub init_array: (u64, u64),
    pub fini_array: (u64, u64),
    pub dynamic: u64,
    pub got: u64,
    pub rw: (u64, u64),
    /// Bytes of the image that come from the file (the rest of the last segment is .bss).
    pub file_size: u64,
    /// Init and fini array input sections, in order: object, section, whether reversed
    /// (`.ctors` / `.dtors` entries run in the opposite order).
    pub init_order: Vec<(u32, u32, bool)>,
    pub fini_order: Vec<(u32, u32, bool)>,
    /// Local symbols listed in the dynamic symbol table for `rl_addr`: object and index.
    pub locals: Vec<(u32, u32)>,
    /// Exported global names, in dynamic symbol table order, and the GNU hash parameters.
    pub exports: Vec<u32>,
    pub nbuckets: u32,
    pub bloom_words: u32,
    pub eh: EhFrame,
}

impl Layout {
    /// The address of stub `i`.
    pub fn stub(&self, i: u32) -> u64 {
        self.stubs + i as u64 * arch::STUB_SIZE as u64
    }
}

/// Veneers by code section (see [`Layout::veneers`]).
pub type Veneers = FxMap<(u32, u32), (u64, Vec<(Key, i64)>)>;

pub const DYNAMIC_ENTRIES: u64 = 20;
pub const EH_HDR_SIZE: u64 = 8;

/// Where an allocated section goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Bucket {
    Rodata,
    EhFrame,
    Text,
    /// `.init` / `.fini` fragments: the bodies of `_init` / `_fini`.
    InitCode,
    FiniCode,
    Tdata,
    Tbss,
    Relro,
    Init,
    Fini,
    Data,
    Bss,
}

fn init_priority(name: &[u8], prefix: &[u8]) -> Option<u32> {
    let n = name.strip_prefix(prefix)?.strip_prefix(b".")?;
    core::str::from_utf8(n).ok()?.parse().ok()
}

/// The init-array priority of a section (`.init_array.N`: N; `.ctors.N`: 65535 - N, as `ld`
/// sorts them) and whether its entries run in reverse (`.ctors`, `.dtors`).
fn array_order(name: &[u8], init: bool) -> (Option<u32>, bool) {
    let (array, old) = if init { (&b".init_array"[..], &b".ctors"[..]) } else { (&b".fini_array"[..], &b".dtors"[..]) };
    if name.starts_with(old) {
        (init_priority(name, old).map(|n| 65535u32.saturating_sub(n)), true)
    } else {
        (init_priority(name, array), false)
    }
}

fn is_c_identifier(name: &[u8]) -> bool {
    !name.is_empty() && !name[0].is_ascii_digit() && name.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
}

/// What symbol `s` of object `o` stands for by itself (its own definition, or 0).
#[inline]
fn defined_target(o: &super::object::Object, s: &super::object::Sym) -> Target {
    match s.shndx {
        super::object::SHN_ABS => Target::Abs(s.value),
        super::object::SHN_COMMON => Target::Abs(0),
        0 => Target::Abs(0),
        shndx => {
            let sec = &o.sections[shndx as usize];
            if !sec.live {
                Target::Discarded
            } else if sec.tls() {
                Target::Tls(sec.addr.wrapping_add(s.value))
            } else if s.kind == abi::STT_GNU_IFUNC {
                Target::Ifunc(sec.addr.wrapping_add(s.value))
            } else {
                Target::Local(sec.addr.wrapping_add(s.value))
            }
        }
    }
}

impl<'a> Linker<'a> {
    fn bucket(&self, obj: u32, sec: u32) -> Result<Option<Bucket>> {
        let s = &self.objs[obj as usize].sections[sec as usize];
        if !s.live {
            return Ok(None);
        }
        let name = s.name;
        let (write, exec) = (s.flags & abi::SHF_WRITE as u64 != 0, s.flags & abi::SHF_EXECINSTR as u64 != 0);
        if s.ty == abi::SHT_PREINIT_ARRAY || name.starts_with(b".preinit_array") {
            return Err(Error::Unsupported {
                file: self.objs[obj as usize].name.clone(),
                what: "a .preinit_array section: only an executable can have pre-initializers".into(),
            });
        }
        if write && exec {
            return Err(Error::Link {
                file: self.objs[obj as usize].name.clone(),
                reason: format!("section {} is both writable and executable, which relink refuses", show(name)),
            });
        }
        Ok(Some(if s.ty == abi::SHT_INIT_ARRAY || name.starts_with(b".init_array") || name.starts_with(b".ctors") {
            Bucket::Init
        } else if s.ty == abi::SHT_FINI_ARRAY || name.starts_with(b".fini_array") || name.starts_with(b".dtors") {
            Bucket::Fini
        } else if name == b".eh_frame" {
            Bucket::EhFrame
        } else if exec && (name == b".init" || name == b".fini") {
            if name == b".init" { Bucket::InitCode } else { Bucket::FiniCode }
        } else if s.tls() {
            if s.ty == abi::SHT_NOBITS { Bucket::Tbss } else { Bucket::Tdata }
        } else if exec {
            Bucket::Text
        } else if write && s.ty == abi::SHT_NOBITS {
            Bucket::Bss
        } else if write && (name.starts_with(b".data.rel.ro") || name == b".got") {
            Bucket::Relro
        } else if write {
            Bucket::Data
        } else {
            Bucket::Rodata
        }))
    }

    /// A relocation's symbol: its GOT/stub key and what it resolves to.
    pub fn reloc_target(&self, obj: u32, sym: u32) -> (Key, Target) {
        let key = self.key(obj, sym);
        let t = match key {
            Key::Global(g) => self.global_target(g),
            Key::Local(..) => self.symbol_target(obj, sym),
        };
        (key, t)
    }

    /// The GOT/stub key of a relocation's symbol.
    pub fn key(&self, obj: u32, sym: u32) -> Key {
        let o = &self.objs[obj as usize];
        let i = sym as usize;
        match o.globals.get(i.wrapping_sub(o.first_global)) {
            Some(&g) if i >= o.first_global && g != NONE => Key::Global(g),
            _ => Key::Local(obj, sym),
        }
    }

    /// What every symbol of every object resolves to now: for a pass over all relocations, which
    /// name the same symbols many times. (The table of the previous pass is refilled: the
    /// layout changes addresses, not which symbols there are.)
    pub fn resolve_targets(&self, targets: &mut Targets) {
        let Targets { start, all, globals } = targets;
        globals.clear();
        globals.extend((0..self.globals.len() as u32).map(|g| self.global_target(g)));
        start.clear();
        all.clear();
        all.reserve(self.objs.iter().map(|o| o.syms.len()).sum());
        for o in &self.objs {
            start.push(all.len());
            let (locals, rest) = o.syms.split_at(o.first_global.min(o.syms.len()));
            all.extend(locals.iter().map(|s| defined_target(o, s)));
            // (`globals` has one id per non-local symbol; NONE for a malformed local one.)
            let ids = o.globals.iter().copied().chain(core::iter::repeat(NONE));
            all.extend(rest.iter().zip(ids).map(|(s, g)| match globals.get(g as usize) {
                Some(&t) => t,
                None => defined_target(o, s),
            }));
        }
        start.push(all.len());
    }

    pub fn global_target(&self, g: u32) -> Target {
        let gl = &self.globals[g as usize];
        match gl.def {
            Def::Undef if gl.vis != abi::STV_DEFAULT => Target::Abs(0),
            Def::Undef => Target::External(g),
            Def::Sym { obj, sym } => self.symbol_target(obj, sym),
            Def::Common { .. } | Def::Synthetic => Target::Local(gl.addr),
        }
    }

    pub fn symbol_target(&self, obj: u32, sym: u32) -> Target {
        let o = &self.objs[obj as usize];
        o.syms.get(sym as usize).map_or(Target::Abs(0), |s| defined_target(o, s))
    }

    /// The name of a relocation's symbol, for messages.
    pub fn sym_name(&self, obj: u32, sym: u32) -> String {
        let o = &self.objs[obj as usize];
        match o.syms.get(sym as usize) {
            Some(s) if s.kind == abi::STT_SECTION => {
                format!("section {}", show(o.sections.get(s.shndx as usize).map_or(&b"?"[..], |x| x.name)))
            }
            Some(s) => show(s.name).into_owned(),
            None => "?".into(),
        }
    }

    /// Scan every relocation of the unit's sections.
    pub fn scan(&self, scope: &dyn Scope, targets: &mut Targets) -> Result<Plan> {
        let mut plan = Plan::default();
        self.resolve_targets(targets);
        for (oi, o) in self.objs.iter().enumerate() {
            let oi = oi as u32;
            let ts = targets.of(oi);
            for (si, sec) in o.sections.iter().enumerate() {
                let si = si as u32;
                if !sec.live || sec.relocs.is_empty() {
                    continue;
                }
                let writable = self.lands_writable(oi, si);
                let check = o.reloc_checker(si);
                for r in sec.relocs.iter() {
                    let (calc, field) = arch::object_reloc(r.ty);
                    check(&r, calc, field)?;
                    match (calc, target_in(ts, r.sym)) {
                        // Most relocations: a reference inside the unit needs nothing.
                        (Calc::Pc | Calc::CallPc, Target::Local(_)) => continue,
                        // The unit's own address in a data word: a RELATIVE relocation adds the
                        // base at load, wherever the image is mapped.
                        (Calc::Abs, Target::Local(_)) if field == Field::W64 && writable => {
                            plan.ndyn += 1;
                            continue;
                        }
                        _ => {}
                    }
                    self.scan_one(&mut plan, scope, ts, oi, si, r, (calc, field), writable)?;
                }
            }
        }
        Ok(plan)
    }

    #[allow(clippy::too_many_arguments)]
    fn scan_one(
        &self,
        plan: &mut Plan,
        scope: &dyn Scope,
        targets: &[Target],
        oi: u32,
        si: u32,
        r: super::object::Reloc,
        (calc, field): (Calc, Field),
        writable: bool,
    ) -> Result<()> {
        if matches!(calc, Calc::None | Calc::TlsDescCall | Calc::PairedLo) {
            return Ok(());
        }
        let t = target_in(targets, r.sym);
        let key = self.key(oi, r.sym);
        let unsupported = |why: &str| self.reloc_error(oi, si, r, why);
        let describe = || {
            let o = &self.objs[oi as usize];
            format!("{} ({} against {} at {}+{:#x})", o.name, arch::type_name(r.ty), self.sym_name(oi, r.sym), show(o.sections[si as usize].name), r.offset)
        };
        let dynamic = |plan: &mut Plan, g: Option<u32>| {
            plan.ndyn += 1;
            plan.textrel |= !writable;
            if let Some(g) = g {
                plan.import(g);
            }
        };
        match (calc, t) {
            (Calc::Abs, Target::External(g)) => match field {
                Field::W64 => dynamic(plan, Some(g)),
                _ if field.low_end().is_some() => match self.outside(plan, scope, g) {
                    Some(o) if o.func => {
                        // The stub is the function's address as the unit sees it.
                        plan.stub(self, key);
                        plan.low(field, describe);
                    }
                    // An instruction's immediate has no dynamic relocation, and data outside
                    // the unit is not in the low 2 GiB the unit's own addresses are in.
                    _ if matches!(field, Field::Insn(_)) => return Err(unsupported(EXTERNAL_ABS)),
                    _ => dynamic(plan, Some(g)),
                },
                _ => return Err(unsupported(EXTERNAL_ABS)),
            },
            (Calc::Abs, Target::Ifunc(_)) => match field {
                Field::W64 => dynamic(plan, None),
                _ if field.low_end().is_some() => {
                    plan.stub(self, key);
                    plan.low(field, describe);
                }
                _ => return Err(unsupported("a field under 32 bits or an instruction's immediate cannot hold an IFUNC's address")),
            },
            // (A 64-bit field of a writable section takes the fast path in `scan`.)
            (Calc::Abs, Target::Local(_)) => {
                plan.low(field, describe);
                plan.pin(describe);
            }
            (Calc::Pc, Target::External(g)) => match self.outside(plan, scope, g) {
                Some(o) if o.func => plan.stub(self, key),
                None if self.globals[g as usize].strong_ref => {
                    return Err(Error::Undefined {
                        file: self.objs[oi as usize].name.clone(),
                        symbol: show(self.globals[g as usize].name).into_owned(),
                        version: None,
                    })
                }
                found => {
                    if field != Field::S32 {
                        return Err(unsupported("only a 32-bit PC-relative field can refer to data outside the unit"));
                    }
                    dynamic(plan, Some(g));
                    plan.near.push((found.map_or(0, |o| o.addr), describe()));
                }
            },
            (Calc::Pc | Calc::CallPc | Calc::CallGotRel, Target::Ifunc(_)) | (Calc::CallPc | Calc::CallGotRel, Target::External(_)) => {
                plan.stub(self, key)
            }
            (Calc::GotEntryPc { relax }, Target::Local(_)) if relax && self.relaxable(oi, si, r.offset) => {}
            (Calc::GotEntryPc { .. } | Calc::GotEntry, Target::Tls(_)) => return Err(unsupported("a GOT entry for a thread-local variable")),
            (Calc::GotEntryPc { .. } | Calc::GotEntry, _) => {
                plan.slot(self, Slot::Addr, key);
            }
            (Calc::Size, Target::External(g)) if self.outside(plan, scope, g).is_none() => {
                return Err(unsupported("the size of a symbol no scope defines"));
            }
            (Calc::GotRel | Calc::DtpOff | Calc::TpOff, Target::External(_)) => {
                return Err(unsupported("must refer to a symbol the unit defines"));
            }
            (Calc::TlsGd, _) => plan.slot(self, Slot::Gd, key),
            (Calc::TlsLd, _) => plan.slot(self, Slot::Ld, Key::Local(NONE, NONE)),
            (Calc::TlsDesc, _) => plan.slot(self, Slot::Desc, key),
            (Calc::GotTpOff, t) => {
                if let Target::Tls(_) = t {
                    plan.static_tls.get_or_insert_with(|| format!("{} ({})", self.objs[oi as usize].name, self.sym_name(oi, r.sym)));
                }
                plan.slot(self, Slot::TpOff, key);
            }
            (Calc::TpOff, Target::Tls(_)) => {
                plan.static_tls.get_or_insert_with(|| format!("{} ({})", self.objs[oi as usize].name, self.sym_name(oi, r.sym)));
            }
            // The distance from the unit to a fixed address.
            (Calc::Pc | Calc::CallPc | Calc::GotRel | Calc::CallGotRel, Target::Abs(_)) => plan.pin(describe),
            _ => {}
        }
        Ok(())
    }

    /// Whether section `si` of object `oi` surely lands in a segment that is writable while the
    /// unit is relocated: a writable section other than `.eh_frame` (see `bucket`; an
    /// executable one is refused).
    #[inline]
    pub fn lands_writable(&self, oi: u32, si: u32) -> bool {
        let s = &self.objs[oi as usize].sections[si as usize];
        s.flags & abi::SHF_WRITE as u64 != 0 && s.name != b".eh_frame"
    }

    /// Whether the GOT load at `off` of a section may become a `lea` (checked on the original
    /// bytes, the same in the scan and when writing).
    pub fn relaxable(&self, oi: u32, si: u32, off: u64) -> bool {
        let data = self.objs[oi as usize].sections[si as usize].data;
        let at = off as usize;
        let mut probe = [0u8; 2];
        match at.checked_sub(2).and_then(|i| data.get(i..at)) {
            Some(b) => {
                probe.copy_from_slice(b);
                let mut code = [probe[0], probe[1], 0];
                arch::relax_got_load(&mut code, 2)
            }
            None => false,
        }
    }

    fn outside(&self, plan: &mut Plan, scope: &dyn Scope, g: u32) -> Option<Outside> {
        *plan.outside.entry(g).or_insert_with(|| scope.find(self.globals[g as usize].name))
    }

    /// An error about one relocation, naming the object, section, offset, type and symbol.
    pub fn reloc_error(&self, oi: u32, si: u32, r: super::object::Reloc, why: &str) -> Error {
        let o = &self.objs[oi as usize];
        Error::Link {
            file: o.name.clone(),
            reason: format!(
                "{} against {} at {}+{:#x}: {why}",
                arch::type_name(r.ty),
                self.sym_name(oi, r.sym),
                show(o.sections[si as usize].name),
                r.offset
            ),
        }
    }

    /// Give every section its place; `targets` are the scan's.
    pub fn layout(&mut self, plan: &Plan, targets: &Targets) -> Result<Layout> {
        let page = self.page;
        let mut lay = Layout::default();
        let mut buckets: FxMap<u8, Vec<(u32, u32)>> = FxMap::default();
        let mut init: Vec<(Option<u32>, bool, u32, u32)> = Vec::new();
        let mut fini: Vec<(Option<u32>, bool, u32, u32)> = Vec::new();
        for oi in 0..self.objs.len() as u32 {
            for si in 0..self.objs[oi as usize].sections.len() as u32 {
                let Some(b) = self.bucket(oi, si)? else { continue };
                let name = self.objs[oi as usize].sections[si as usize].name;
                match b {
                    Bucket::Init => {
                        let (prio, rev) = array_order(name, true);
                        init.push((prio, rev, oi, si));
                    }
                    Bucket::Fini => {
                        let (prio, rev) = array_order(name, false);
                        fini.push((prio, rev, oi, si));
                    }
                    b => buckets.entry(b as u8).or_default().push((oi, si)),
                }
            }
        }
        // Sections with C-identifier names stay together (their __start_/__stop_ symbols).
        // (Few sections have such names: most buckets need no sorting.)
        for v in buckets.values_mut() {
            let objs = &self.objs;
            let key = |&(o, s): &(u32, u32)| {
                let n = objs[o as usize].sections[s as usize].name;
                if is_c_identifier(n) { Some(n) } else { None }
            };
            if v.iter().any(|e| key(e).is_some()) {
                v.sort_by_cached_key(key);
            }
        }
        lay.init_order = self.array_order(init, true);
        lay.fini_order = self.array_order(fini, false);

        lay.eh = ehframe::plan(self, targets)?;
        self.list_symbols(&mut lay);
        lay.nsyms += plan.imports.len();
        lay.strsz += plan.imports.iter().map(|&g| self.globals[g as usize].name.len() as u64 + 1).sum::<u64>();

        // Read-only: headers, dynamic symbols, strings, hash, relocations, data, unwind tables.
        lay.phnum = 9;
        let mut at = 64 + 56 * lay.phnum as u64;
        at = at.next_multiple_of(8);
        lay.dynsym = at;
        at += 24 * lay.nsyms as u64;
        lay.dynstr = at;
        at += lay.strsz;
        at = at.next_multiple_of(8);
        lay.hash = at;
        at += lay.hash_size;
        at = at.next_multiple_of(8);
        lay.rela = at;
        at += 24 * plan.ndyn as u64;
        at = self.place_bucket(&buckets, Bucket::Rodata, at);
        at = at.next_multiple_of(8);
        lay.eh_frame = at;
        lay.eh_frame_size = lay.eh.size + 4;
        at += lay.eh_frame_size;
        at = at.next_multiple_of(4);
        lay.eh_hdr = at;
        lay.eh_hdr_size = EH_HDR_SIZE + if lay.eh.fdes > 0 { 4 + 8 * lay.eh.fdes } else { 0 };
        at += lay.eh_hdr_size;
        lay.r_end = at;

        // Read-execute: code, then the stubs. Where the code is too large for some branch to
        // reach its target, veneers follow the sections that need them (which moves what
        // follows: again until every branch reaches).
        at = at.next_multiple_of(page);
        let rx = at;
        loop {
            at = self.place_code(&buckets, Bucket::Text, rx, &mut lay.veneers);
            for (b, f) in [(Bucket::InitCode, &mut lay.init_fn), (Bucket::FiniCode, &mut lay.fini_fn)] {
                if buckets.contains_key(&(b as u8)) {
                    let start = at.next_multiple_of(16);
                    at = self.place_bucket(&buckets, b, start + arch::INIT_PROLOGUE.len() as u64);
                    at += arch::INIT_EPILOGUE.len() as u64;
                    *f = Some((start, at));
                }
            }
            at = at.next_multiple_of(16);
            lay.stubs = at;
            at += (arch::STUB_SIZE * plan.stubs.len()) as u64;
            if at - rx < arch::BRANCH_REACH || !self.add_veneers(plan, &buckets, &mut lay) {
                break;
            }
        }
        lay.rx = (rx, at);

        // RELRO: TLS image, .data.rel.ro, init/fini arrays, .dynamic, GOT.
        at = at.next_multiple_of(page);
        let relro = at;
        let tls_align = [Bucket::Tdata, Bucket::Tbss]
            .iter()
            .flat_map(|b| buckets.get(&(*b as u8)).into_iter().flatten())
            .map(|&(o, s)| self.objs[o as usize].sections[s as usize].align)
            .max();
        if let Some(align) = tls_align {
            at = at.next_multiple_of(align);
            let start = at;
            // TLS sections get offsets inside the block.
            let filesz = self.place_bucket(&buckets, Bucket::Tdata, 0);
            let memsz = self.place_bucket(&buckets, Bucket::Tbss, filesz);
            lay.tls = Some((start, filesz, memsz, align));
            at += filesz;
        }
        at = self.place_bucket(&buckets, Bucket::Relro, at);
        lay.init_array = self.place_array(&lay.init_order, at);
        lay.fini_array = self.place_array(&lay.fini_order, lay.init_array.0 + lay.init_array.1);
        at = (lay.fini_array.0 + lay.fini_array.1).next_multiple_of(8);
        lay.dynamic = at;
        at += 16 * DYNAMIC_ENTRIES;
        at = at.next_multiple_of(16);
        lay.got = at;
        at += plan.got_size;
        at = at.next_multiple_of(page);
        lay.relro = (relro, at);

        // Read-write: data, then .bss and COMMON.
        let rw = at;
        at = self.place_bucket(&buckets, Bucket::Data, at);
        lay.file_size = at;
        at = self.place_bucket(&buckets, Bucket::Bss, at);
        for g in self.globals.iter_mut() {
            if let Def::Common { size, align, .. } = g.def {
                at = at.next_multiple_of(align.max(1));
                g.addr = at;
                at += size;
            }
        }
        lay.rw = (rw, at);
        if lay.rw.1 == lay.rw.0 {
            lay.file_size = lay.relro.1;
        }
        self.place_synthetic(&lay);
        Ok(lay)
    }

    /// Lay init or fini array sections out back to back (no padding: a zero entry would be
    /// one more call) from `at`, 8-aligned; returns the array's start and size.
    fn place_array(&mut self, order: &[(u32, u32, bool)], at: u64) -> (u64, u64) {
        let start = at.next_multiple_of(8);
        let mut at = start;
        for &(o, s, _) in order {
            let sec = &mut self.objs[o as usize].sections[s as usize];
            sec.addr = at;
            at += sec.size;
        }
        (start, at - start)
    }

    /// Lay the sections of one bucket out from `at`; returns the end.
    fn place_bucket(&mut self, buckets: &FxMap<u8, Vec<(u32, u32)>>, b: Bucket, at: u64) -> u64 {
        self.place_code(buckets, b, at, &mut FxMap::default())
    }

    /// [`place_bucket`](Self::place_bucket), with room for the veneers of each section that
    /// has some after it.
    fn place_code(&mut self, buckets: &FxMap<u8, Vec<(u32, u32)>>, b: Bucket, mut at: u64, veneers: &mut Veneers) -> u64 {
        for &(o, s) in buckets.get(&(b as u8)).into_iter().flatten() {
            let sec = &mut self.objs[o as usize].sections[s as usize];
            at = at.next_multiple_of(sec.align);
            sec.addr = at;
            at += sec.size;
            if let Some((start, v)) = veneers.get_mut(&(o, s)) {
                *start = at.next_multiple_of(4);
                at = *start + (v.len() * arch::VENEER_SIZE) as u64;
            }
        }
        at
    }

    /// Give a veneer (after its section) to every branch of the code that does not reach its
    /// target as the code is laid out now; whether any was added. (The target is the stub of a
    /// function outside the unit, or the unit's own code; a veneer reaches ±4 GiB.)
    #[cold]
    fn add_veneers(&self, plan: &Plan, buckets: &FxMap<u8, Vec<(u32, u32)>>, lay: &mut Layout) -> bool {
        let mut added = false;
        for &(oi, si) in buckets.get(&(Bucket::Text as u8)).into_iter().flatten() {
            let sec = &self.objs[oi as usize].sections[si as usize];
            for r in sec.relocs.iter().filter(|r| arch::veneered_branch(r.ty)) {
                let (key, t) = self.reloc_target(oi, r.sym);
                let to = match (t, plan.stub_at.get(&key)) {
                    (Target::External(_) | Target::Ifunc(_), Some(&i)) => lay.stub(i),
                    (Target::Local(x), _) => x,
                    _ => continue,
                };
                let off = (to as i64).wrapping_add(r.addend).wrapping_sub((sec.addr + r.offset) as i64);
                if (-(arch::BRANCH_REACH as i64)..arch::BRANCH_REACH as i64).contains(&off) {
                    continue;
                }
                let (_, v) = lay.veneers.entry((oi, si)).or_default();
                if !v.contains(&(key, r.addend)) {
                    v.push((key, r.addend));
                    added = true;
                }
            }
        }
        added
    }

    /// Order init or fini array sections as `ld` does: those with a priority sorted by it
    /// (`.init_array.N` first, then `.ctors.N`), then the plain ones in input order (objects,
    /// then sections); the entries of each `.ctors`/`.dtors` section are reversed. The runtime
    /// object's finalizer is the first plain entry (where crtbeginS.o's is), so that it runs
    /// after the plain finalizers and before those with a priority.
    fn array_order(&self, mut v: Vec<(Option<u32>, bool, u32, u32)>, init: bool) -> Vec<(u32, u32, bool)> {
        let runtime = self.runtime_obj;
        v.sort_by_key(|&(prio, rev, o, _)| {
            let first = !init && o == runtime;
            (prio.is_none(), !first, prio.is_some() && rev, prio)
        });
        v.into_iter().map(|(_, rev, o, s)| (o, s, rev)).collect()
    }

    /// The dynamic symbol table's contents: local functions and objects (for `rl_addr`), the
    /// imports, then the exports (hashed).
    fn list_symbols(&self, lay: &mut Layout) {
        let mut strsz = 1u64;
        for (oi, o) in self.objs.iter().enumerate() {
            for (i, s) in o.syms.iter().enumerate() {
                let local = i < o.first_global || o.globals.get(i - o.first_global) == Some(&NONE);
                let hidden_def = !local && s.defined() && s.vis != abi::STV_DEFAULT && s.vis != abi::STV_PROTECTED;
                if (local || hidden_def)
                    && matches!(s.kind, abi::STT_FUNC | abi::STT_OBJECT | abi::STT_GNU_IFUNC)
                    && !s.name.is_empty()
                    && s.shndx < super::object::SHN_COMMON
                    && s.shndx != 0
                    && o.sections[s.shndx as usize].live
                    && !o.sections[s.shndx as usize].tls()
                {
                    lay.locals.push((oi as u32, i as u32));
                    strsz += s.name.len() as u64 + 1;
                }
            }
        }
        for (g, gl) in self.globals.iter().enumerate() {
            if gl.exported() {
                lay.exports.push(g as u32);
                strsz += gl.name.len() as u64 + 1;
            }
        }
        lay.nbuckets = (lay.exports.len() as u32 / 4).max(1);
        lay.bloom_words = (lay.exports.len() as u32 / 16).max(1).next_power_of_two();
        lay.hash_size = 16 + 8 * lay.bloom_words as u64 + 4 * lay.nbuckets as u64 + 4 * lay.exports.len() as u64;
        lay.strsz = strsz;
        lay.nsyms = 1 + lay.locals.len() + lay.exports.len();
    }

    /// Addresses of the linker's own symbols.
    fn place_synthetic(&mut self, lay: &Layout) {
        for g in 0..self.globals.len() {
            if self.globals[g].def != Def::Synthetic {
                continue;
            }
            let name = self.globals[g].name;
            let addr = if name == b"_GLOBAL_OFFSET_TABLE_" {
                lay.got
            } else {
                let (sec, stop) = match name.strip_prefix(b"__start_") {
                    Some(s) => (s, false),
                    None => (name.strip_prefix(b"__stop_").unwrap_or(name), true),
                };
                let placed = self
                    .objs
                    .iter()
                    .flat_map(|o| o.sections.iter())
                    .filter(|s| s.live && !s.tls() && s.name == sec)
                    .map(|s| if stop { s.addr + s.size } else { s.addr });
                if stop { placed.max() } else { placed.min() }.unwrap_or(0)
            };
            self.globals[g].addr = addr;
        }
    }
}

impl Plan {
    pub fn import(&mut self, g: u32) {
        if !self.import_at.contains_key(&g) {
            self.import_at.insert(g, self.imports.len() as u32);
            self.imports.push(g);
        }
    }

    /// A GOT entry of `kind` for `key` (once).
    fn slot(&mut self, l: &Linker, kind: Slot, key: Key) {
        if self.got_at.contains_key(&(kind, key)) {
            return;
        }
        let size = kind.size();
        let at = self.got_size.next_multiple_of(size.min(16));
        self.got_size = at + size;
        self.got_at.insert((kind, key), at);
        self.got.push((kind, key, at));
        let external = match key {
            Key::Global(g) => match l.global_target(g) {
                Target::External(g) => Some(g),
                _ => None,
            },
            Key::Local(..) => None,
        };
        let target = match key {
            Key::Global(g) => l.global_target(g),
            Key::Local(o, s) if o != NONE => l.symbol_target(o, s),
            Key::Local(..) => Target::Abs(0),
        };
        self.ndyn += match (kind, external) {
            (Slot::Addr, Some(_)) => 1,
            // IRELATIVE, or RELATIVE for the unit's own address.
            (Slot::Addr, None) => matches!(target, Target::Ifunc(_) | Target::Local(_)) as usize,
            (Slot::Gd, Some(_)) => 2,
            (Slot::Gd | Slot::Ld | Slot::Desc, _) => 1,
            (Slot::TpOff, Some(_)) => 1,
            (Slot::TpOff, None) => 0,
        };
        if let Some(g) = external {
            self.import(g);
        }
    }

    /// A call stub for `key` (once), with the GOT entry it jumps through.
    fn stub(&mut self, l: &Linker, key: Key) {
        if self.stub_at.contains_key(&key) {
            return;
        }
        self.slot(l, Slot::Addr, key);
        self.stub_at.insert(key, self.stubs.len() as u32);
        self.stubs.push(key);
    }

    /// A field the link fills with a value that depends on the unit's address (see `pinned`).
    fn pin(&mut self, why: impl FnOnce() -> String) {
        if self.pinned.is_none() {
            self.pinned = Some(why());
        }
    }

    /// A 32-bit absolute field (or an instruction pair that holds such an address) must hold
    /// an address of the unit.
    fn low(&mut self, field: Field, why: impl FnOnce() -> String) {
        let Some(end) = field.low_end() else { return };
        self.low_end = Some(self.low_end.map_or(end, |e| e.min(end)));
        if self.low_why.is_none() {
            self.low_why = Some(why());
        }
    }
}
