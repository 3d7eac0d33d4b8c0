//! Stage 2b — link: relocatable objects (`.o`) and static archives (`.a`) become one unit, an
//! ET_DYN image built in memory that the rest of the pipeline (map → resolve → relocate → init →
//! registry) loads exactly like a shared library.
//!
//! The unit is linked for the address it will be mapped at: its span is reserved first (where
//! its 32-bit fields reach what they refer to, see [`Plan`](layout::Plan)), so every reference
//! inside the unit is resolved here, and only what the load decides is left to dynamic
//! relocations: addresses outside the unit (through GOT entries and call stubs the scan adds),
//! TLS module ids, IFUNC targets.
//!
//! Steps: read the inputs ([`object`], [`archive`]) → resolve symbols, pull archive members
//! ([`symbols`]) → scan relocations and lay sections out ([`layout`], [`ehframe`]) → reserve the
//! span → write the image ([`emit`]).

mod archive;
mod ehframe;
mod emit;
mod layout;
mod object;
mod runtime;
mod symbols;

use crate::error::{Error, Result};
use crate::module::Module;
use crate::os::Region;
use object::NONE;
use std::collections::HashMap;

/// One input of a unit: a relocatable object, an archive, or a shared object (which the caller
/// loads; the linker skips it).
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

impl std::hash::Hasher for FxHasher {
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

/// A map with [`FxHasher`].
pub type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

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
pub struct Linker<'a> {
    /// The unit's name, for messages.
    pub unit: &'a str,
    pub objs: Vec<object::Object<'a>>,
    pub archives: Vec<archive::Archive<'a>>,
    pub globals: Vec<symbols::Global<'a>>,
    pub names: FxMap<&'a [u8], u32>,
    /// COMDAT group signatures, and the object whose group was kept.
    pub comdats: FxMap<&'a [u8], u32>,
    /// Index of the runtime object, if it was linked.
    pub runtime_obj: u32,
}

/// A linked unit, written in place, ready for the map stage to set its protections.
pub struct Unit {
    /// The span reserved for it, mapped read-write: its first `image_len` bytes are the image,
    /// linked for the span's base.
    pub region: Region,
    pub image_len: usize,
    pub static_tls: Option<std::sync::Arc<crate::tls::StaticBlock>>,
    /// For each name the unit imports, the input that first referred to it (for messages).
    pub needers: Needers,
}

/// Link `inputs` into one unit named `unit`; `scope` is where the unit's imports will be found.
pub fn link(unit: &str, inputs: &[Input], scope: &dyn Scope) -> Result<Unit> {
    if !crate::arch::OBJECT_LINKING {
        return Err(Error::Unsupported {
            file: inputs.first().map_or(unit, |i| i.name).to_string(),
            what: format!("relocatable objects and archives on {} (relink links them on x86_64, aarch64 and riscv64 only for now)", crate::arch::NAME),
        });
    }
    let mut l = Linker {
        unit,
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
    let span = lay.rw.1.max(lay.relro.1).next_multiple_of(crate::os::page_size() as u64);
    let region = l.reserve(&plan, span)?;
    let map_err = |e: std::io::Error| Error::Map { file: unit.to_string(), reason: e.to_string() };
    // The image is written from end to end: its pages are allocated in one go rather than one
    // fault at a time; the rest of the span (.bss) is left to fault in when used. Not when the
    // image is much larger than its inputs (sections with huge alignments, say): then its gaps
    // stay unallocated.
    let written = (lay.file_size as usize).next_multiple_of(crate::os::page_size());
    let input_bytes: usize = inputs.iter().map(|i| i.data.len()).sum();
    if written <= 2 * input_bytes + (1 << 20) {
        region.map_anon_populated(region.base, written, crate::os::Prot::RW).map_err(map_err)?;
    } else {
        region.map_anon(region.base, written, crate::os::Prot::RW).map_err(map_err)?;
    }
    if region.len > written {
        region.map_anon(region.base + written, region.len - written, crate::os::Prot::RW).map_err(map_err)?;
    }
    // SAFETY: the span was just mapped read-write, and nothing else refers to it yet.
    let img = unsafe { crate::raw::bytes_mut(region.base, lay.file_size as usize) };
    let static_tls = l.emit(&plan, &lay, &mut targets, img, region.base as u64)?;
    let needers = plan
        .imports
        .iter()
        .map(|&g| {
            let gl = &l.globals[g as usize];
            let who = l.objs.get(gl.first_ref as usize).map_or_else(|| unit.to_string(), |o| o.name.clone());
            (gl.name.to_vec(), who)
        })
        .collect();
    Ok(Unit { region, image_len: lay.file_size as usize, static_tls, needers })
}

/// How far a 32-bit PC-relative field reaches, less room for addends and the unit's own size
/// (which `Region::reserve_in` keeps inside the window).
const REACH: u64 = (1 << 31) - (1 << 24);

impl Linker<'_> {
    /// Reserve the unit's span where its 32-bit fields reach what they refer to.
    fn reserve(&self, plan: &layout::Plan, len: u64) -> Result<Region> {
        let page = crate::os::page_size();
        let map_err = |e: std::io::Error| Error::Map { file: self.unit.to_string(), reason: e.to_string() };
        if plan.near.is_empty() && plan.low_end.is_none() {
            return Region::reserve(len as usize, page).map_err(map_err);
        }
        let (mut lo, mut hi) = (0u64, 1u64 << 47);
        let mut why: Vec<String> = Vec::new();
        if let Some(end) = plan.low_end {
            hi = end;
            why.push(format!("{} needs the unit below {:#x}", plan.low_why.as_deref().unwrap_or("a 32-bit absolute field"), end));
        }
        for (addr, what) in &plan.near {
            lo = lo.max(addr.saturating_sub(REACH));
            hi = hi.min(addr.saturating_add(REACH));
            why.push(format!("{what} needs the unit within 2 GiB of {addr:#x}"));
        }
        let fail = || Error::Link {
            file: self.unit.to_string(),
            reason: format!("cannot place the unit where its 32-bit fields reach: {}", why.join("; ")),
        };
        if hi <= lo || hi - lo < len {
            return Err(fail());
        }
        Region::reserve_in(len as usize, page, lo as usize, hi as usize).map_err(|_| fail())
    }
}

/// Link a unit and map it (relocation, initialization and registration follow as for any
/// object): the registry's part of opening objects and archives. `scope` is where imports will
/// be found.
pub fn load(
    name: &str,
    inputs: &[Input],
    scope: &dyn Scope,
    origin: Option<std::path::PathBuf>,
    file_id: Option<(u64, u64)>,
    id: u64,
) -> Result<(Module, Needers)> {
    let unit = link(name, inputs, scope)?;
    // SAFETY: the image lies in the unit's span, mapped and written by `link`; from now on it is
    // only read (the map stage reads the headers through this view, then sets protections).
    let image: &[u8] = unsafe { crate::raw::bytes_mut(unit.region.base, unit.image_len) };
    let placement = crate::map::Placement { region: unit.region, static_tls: unit.static_tls, file_id };
    let m = crate::map::load_placed(&crate::map::Source::Memory(image), None, name, origin, id, Some(placement))?;
    Ok((m, unit.needers))
}

/// For each name a unit imports, the input that first referred to it.
pub type Needers = HashMap<Vec<u8>, String>;

/// A unit's undefined-symbol error names the input that refers to the symbol.
pub fn blame(e: Error, needers: &Needers) -> Error {
    match e {
        Error::Undefined { file, symbol, version } => {
            let file = needers.get(symbol.as_bytes()).cloned().unwrap_or(file);
            Error::Undefined { file, symbol, version }
        }
        e => e,
    }
}
