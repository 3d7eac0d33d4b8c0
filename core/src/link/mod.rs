//! Linking a unit: relocatable objects (`.o`) and static archives (`.a`) become one ET_DYN image,
//! written for the address it will be mapped at, that a loader then maps like any shared
//! library.
//!
//! Every reference inside the unit is resolved here; only what the load decides is left to
//! dynamic relocations: addresses outside the unit (through GOT entries and call stubs the scan
//! adds), TLS module ids, IFUNC targets.
//!
//! Steps: read the inputs (`object`, `archive`) → resolve symbols, pull archive members
//! (`symbols`) → scan relocations and lay sections out (`layout`, `ehframe`): [`prepare`] → the
//! caller reserves the unit's span inside [`Prepared::window`] and maps it → write the image
//! (`emit`): [`Prepared::write`].
//!
//! What only the process knows comes in through the caller's answers: the scope the unit's
//! imports will be bound in ([`Scope`]), the page size, the address of the span, and a block of
//! static TLS when the unit's code needs one ([`StaticTls`]).

mod archive;
mod ehframe;
mod emit;
mod layout;
mod object;
mod runtime;
mod symbols;

use crate::arch::native as arch;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use alloc::format;
use object::NONE;

pub use ehframe::eh_pointer_size;

/// One input of a unit: a relocatable object, an archive, or a shared object (which the caller
/// loads; the linker skips it).
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    /// The path, or the name given for an image in memory.
    pub name: &'a str,
    pub data: &'a [u8],
    /// Link every member of an archive, not only those that define something needed.
    pub whole_archive: bool,
}

/// What an input is, from its content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputKind {
    Object,
    Archive,
    Shared,
    Other,
}

/// Recognize an input from its first bytes.
pub fn input_kind(data: &[u8]) -> InputKind {
    if object::Object::is_object(data) {
        InputKind::Object
    } else if archive::Archive::is_archive(data) {
        InputKind::Archive
    } else if data.len() >= 18 && data[..4] == *b"\x7fELF" && u16::from_le_bytes([data[16], data[17]]) == elf::abi::ET_DYN {
        InputKind::Shared
    } else {
        InputKind::Other
    }
}

/// Whether the loader must link this image rather than map it.
pub fn is_linkable(data: &[u8]) -> bool {
    matches!(input_kind(data), InputKind::Object | InputKind::Archive)
}

/// Why a unit could not be linked. Each names the file (input or unit) it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// An input is not a well-formed object or archive.
    Malformed { file: String, reason: String },
    /// An input needs something the link stage does not support.
    Unsupported { file: String, what: String },
    /// The objects cannot be linked together (duplicate or hidden undefined symbols, a
    /// relocation that cannot be satisfied, no place where the unit's 32-bit fields reach).
    Link { file: String, reason: String },
    /// A strong reference nothing defines, which the unit cannot leave to the load (a 32-bit
    /// PC-relative one).
    Undefined { file: String, symbol: String, version: Option<String> },
}

pub type Result<T> = core::result::Result<T, Error>;

pub(crate) fn bad(file: &str, reason: impl Into<String>) -> Error {
    Error::Malformed { file: file.to_string(), reason: reason.into() }
}

/// What the scopes the unit will be bound in say about a name it imports, before it is mapped:
/// where the definition is (for placement) and whether it is code (reached through a stub).
#[derive(Clone, Copy, Debug)]
pub struct Outside {
    pub addr: u64,
    pub func: bool,
    pub size: u64,
}

/// Where the linker looks names up that the unit does not define.
pub trait Scope {
    fn find(&self, name: &[u8]) -> Option<Outside>;
}

/// The unit's TLS image, for which [`StaticTls::reserve`] finds a block in static TLS.
pub struct TlsTemplate<'i> {
    /// The initialized bytes (in the image being written).
    pub image: &'i [u8],
    pub memsz: usize,
    pub align: usize,
}

/// Where the unit's own initial-exec and local-exec accesses find its TLS: a block at a fixed
/// offset from the thread pointer, which the caller reserves.
pub trait StaticTls {
    /// The block's offset from the thread pointer, or `None` when there is none for it.
    fn reserve(&mut self, t: &TlsTemplate, unit: &str) -> Option<i64>;
}

/// The hash of the linker's tables (symbol names, indices): FxHash, much cheaper than the
/// default SipHash for the many short keys a link looks up. Crafted collisions in an input cost
/// time only.
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl core::hash::Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("eight bytes")));
        }
        let rest = chunks.remainder();
        let n = rest.len();
        if n > 0 {
            // The last bytes in one or two loads (no copy of a variable length): the final eight
            // bytes of a longer name shifted past what was hashed, else overlapping halves.
            let word = |b: &[u8]| u64::from_le_bytes(b.try_into().expect("eight bytes"));
            let half = |b: &[u8]| u32::from_le_bytes(b.try_into().expect("four bytes")) as u64;
            let v = if bytes.len() >= 8 {
                word(&bytes[bytes.len() - 8..]) >> (8 * (8 - n))
            } else if n >= 4 {
                half(&rest[..4]) | half(&rest[n - 4..]) << 32
            } else {
                rest[0] as u64 | (rest[n / 2] as u64) << 8 | (rest[n - 1] as u64) << 16
            };
            self.add(v);
        }
    }
    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.add(v as u64);
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.add(v as u64);
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

/// A map with [`FxHasher`] (hashbrown's table, the one behind std's `HashMap`).
pub type FxMap<K, V> = hashbrown::HashMap<K, V, core::hash::BuildHasherDefault<FxHasher>>;

/// What a relocation's symbol resolves to, inside the unit or not.
#[derive(Clone, Copy, Debug)]
pub enum Target {
    /// An address of the unit (offset from its base).
    Local(u64),
    /// An IFUNC resolver of the unit (offset from its base).
    Ifunc(u64),
    /// A thread-local variable of the unit: offset in its TLS block.
    Tls(u64),
    /// An absolute value.
    Abs(u64),
    /// A global name bound at load.
    External(u32),
    /// In a section that is not linked.
    Discarded,
}

/// The linker's state for one unit.
pub(crate) struct Linker<'a> {
    /// The unit's name, for messages.
    pub unit: &'a str,
    /// The page size the unit is laid out for.
    pub page: u64,
    pub objs: Vec<object::Object<'a>>,
    pub archives: Vec<archive::Archive<'a>>,
    pub globals: Vec<symbols::Global<'a>>,
    pub names: FxMap<&'a [u8], u32>,
    /// COMDAT group signatures, and the object whose group was kept.
    pub comdats: FxMap<&'a [u8], u32>,
    /// Index of the runtime object, if it was linked.
    pub runtime_obj: u32,
}

/// A unit whose symbols are resolved and whose sections are laid out: what remains is to place
/// it in the address space and write it there.
pub struct Prepared<'a> {
    l: Linker<'a>,
    plan: layout::Plan,
    lay: layout::Layout,
    targets: layout::Targets,
}

/// Link `inputs` into one unit named `unit`, up to the writing of its image; `scope` is where
/// the unit's imports will be found, `page` the page size its segments are aligned to.
pub fn prepare<'a>(unit: &'a str, inputs: &[Input<'a>], scope: &dyn Scope, page: u64) -> Result<Prepared<'a>> {
    if !arch::OBJECT_LINKING {
        return Err(Error::Unsupported {
            file: inputs.first().map_or(unit, |i| i.name).to_string(),
            what: format!("relocatable objects and archives on {} (relink links them on x86_64, aarch64 and riscv64 only for now)", arch::NAME),
        });
    }
    let mut l = Linker {
        unit,
        page,
        objs: Vec::new(),
        archives: Vec::new(),
        globals: Vec::new(),
        names: FxMap::default(),
        comdats: FxMap::default(),
        runtime_obj: NONE,
    };
    l.load_inputs(inputs)?;
    l.pull_members()?;
    if l.objs.is_empty() {
        return Err(Error::Link { file: unit.to_string(), reason: "nothing to link: no object, and no archive member is needed".into() });
    }
    l.finish_symbols()?;
    let mut targets = layout::Targets::default();
    let plan = l.scan(scope, &mut targets)?;
    let lay = l.layout(&plan, &targets)?;
    Ok(Prepared { l, plan, lay, targets })
}

/// How far a 32-bit PC-relative field reaches, less room for addends and the unit's own size
/// (which the caller keeps inside the window).
const REACH: u64 = (1 << 31) - (1 << 24);

/// Where the unit's span may lie: `[lo, hi)`, the span inside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub lo: u64,
    pub hi: u64,
}

impl<'a> Prepared<'a> {
    /// The length of the unit's span, whole pages.
    pub fn span(&self) -> u64 {
        self.lay.rw.1.max(self.lay.relro.1).next_multiple_of(self.l.page)
    }

    /// The length of the image at the start of the span (the rest is `.bss`).
    pub fn image_len(&self) -> usize {
        self.lay.file_size as usize
    }

    /// Where the span must lie for the unit's 32-bit fields to reach what they refer to:
    /// `None` when anywhere will do; an error when there is no such place.
    pub fn window(&self) -> Result<Option<Window>> {
        let plan = &self.plan;
        if plan.near.is_empty() && plan.low_end.is_none() {
            return Ok(None);
        }
        let (mut lo, mut hi) = (0u64, 1u64 << 47);
        if let Some(end) = plan.low_end {
            hi = end;
        }
        for (addr, _) in &plan.near {
            lo = lo.max(addr.saturating_sub(REACH));
            hi = hi.min(addr.saturating_add(REACH));
        }
        if hi <= lo || hi - lo < self.span() {
            return Err(self.unplaceable());
        }
        Ok(Some(Window { lo, hi }))
    }

    /// Why the image cannot be mapped anywhere but at the base it is written for: a placement
    /// [`window`](Self::window), a block of static TLS, or a field only the link fills that
    /// depends on the base (the first relocation that asks for it). `None`: the image is
    /// position independent (every address of the unit it holds has a RELATIVE or IRELATIVE
    /// relocation), and may be written to a file and mapped elsewhere later.
    pub fn position_dependent(&self) -> Option<String> {
        let plan = &self.plan;
        if !plan.near.is_empty() || plan.low_end.is_some() {
            return Some("its 32-bit fields need a placement window".into());
        }
        if let Some(who) = &plan.static_tls {
            return Some(format!("{who} needs a block of static TLS"));
        }
        plan.pinned.as_ref().map(|why| format!("{why} holds a value that depends on the unit's address"))
    }

    /// The error for a unit that fits nowhere in its [`window`](Self::window): it names the
    /// object, relocation and symbol behind each bound.
    #[cold]
    pub fn unplaceable(&self) -> Error {
        let plan = &self.plan;
        let mut why: Vec<String> = Vec::new();
        if let Some(end) = plan.low_end {
            why.push(format!("{} needs the unit below {:#x}", plan.low_why.as_deref().unwrap_or("a 32-bit absolute field"), end));
        }
        for (addr, what) in &plan.near {
            why.push(format!("{what} needs the unit within 2 GiB of {addr:#x}"));
        }
        Error::Link { file: self.l.unit.to_string(), reason: format!("cannot place the unit where its 32-bit fields reach: {}", why.join("; ")) }
    }

    /// Write the image into `img` (the first [`image_len`](Self::image_len) bytes of the span,
    /// zeroed, at `base`); `tls` gives the unit's static TLS block when its code needs one.
    /// Returns, for each name the unit imports, the input that first referred to it (for
    /// messages).
    pub fn write(&mut self, img: &mut [u8], base: u64, tls: &mut dyn StaticTls) -> Result<Vec<(Vec<u8>, String)>> {
        let l = &self.l;
        l.emit(&self.plan, &self.lay, &mut self.targets, img, base, tls)?;
        let needers = self
            .plan
            .imports
            .iter()
            .map(|&g| {
                let gl = &l.globals[g as usize];
                let who = l.objs.get(gl.first_ref as usize).map_or_else(|| l.unit.to_string(), |o| o.name.clone());
                (gl.name.to_vec(), who)
            })
            .collect();
        Ok(needers)
    }

    /// The dynamic relocations [`write`](Self::write) wrote into `img`, for a loader that
    /// applies them itself.
    pub fn dynamic_relocations<'s>(&'s self, img: &'s [u8]) -> impl Iterator<Item = DynReloc<'a>> + 's {
        let first_import = 1 + self.lay.locals.len();
        let word = move |at: usize| u64::from_le_bytes(img[at..at + 8].try_into().expect("eight bytes"));
        (0..self.plan.ndyn).map(move |i| {
            let at = self.lay.rela as usize + 24 * i;
            let info = word(at + 8);
            let import = ((info >> 32) as usize).checked_sub(first_import).and_then(|k| self.plan.imports.get(k));
            let global = import.map(|&g| &self.l.globals[g as usize]);
            DynReloc {
                offset: word(at),
                ty: info as u32,
                addend: word(at + 16) as i64,
                symbol: global.map(|g| g.name),
                weak: global.is_some_and(|g| !g.strong_ref),
                tls: global.is_some_and(|g| g.tls_ref),
            }
        })
    }

    /// The unit's exported definitions in `img` as [`write`](Self::write) wrote them: name and
    /// offset from the base.
    pub fn exports<'s>(&self, img: &'s [u8]) -> impl Iterator<Item = (&'s [u8], u64)> + 's {
        let (dynsym, dynstr) = (self.lay.dynsym as usize, self.lay.dynstr as usize);
        let word = move |at: usize, n: usize| img[at..at + n].iter().rev().fold(0u64, |v, &b| v << 8 | b as u64);
        (1 + self.lay.locals.len() + self.plan.imports.len()..self.lay.nsyms).map(move |i| {
            let e = dynsym + 24 * i;
            let name = &img[dynstr + word(e, 4) as usize..];
            (object::until_nul(name).unwrap_or(name), word(e + 8, 8))
        })
    }
}

/// A dynamic relocation of a written unit.
#[derive(Clone, Copy, Debug)]
pub struct DynReloc<'a> {
    /// The place's offset from the unit's base.
    pub offset: u64,
    pub ty: u32,
    pub addend: i64,
    /// The imported name it refers to (none: the unit's own address or nothing).
    pub symbol: Option<&'a [u8]>,
    /// Every reference to the name is weak: it may stay undefined.
    pub weak: bool,
    /// The name is a thread-local variable.
    pub tls: bool,
}
