//! Stage 2b — link: relocatable objects (`.o`) and static archives (`.a`) become one unit, an
//! ET_DYN image built in memory that the rest of the pipeline (map → resolve → relocate → init →
//! registry) loads exactly like a shared library.
//!
//! The linking itself (reading the inputs, symbols, the scan and layout, writing the image) is
//! relink-core's `link`, a function of the input bytes and of the answers given here: what the
//! registry's scope says about imported names, the page size, a block of static TLS
//! (`tls::reserve_static`), and where the span goes in the address space (reserved here, inside
//! the window the core computes, over /proc/self/maps). The unit is then mapped by
//! `map::load_placed`.

pub mod cache;

use crate::error::{Error, Result};
use crate::module::Module;
use crate::os::Region;
use relink_core::link as core_link;
use std::sync::Arc;

pub use relink_core::link::{input_kind, is_linkable, Input, InputKind, Outside, Scope};

impl From<core_link::Error> for Error {
    fn from(e: core_link::Error) -> Error {
        match e {
            core_link::Error::Malformed { file, reason } => Error::Malformed { file, reason },
            core_link::Error::Unsupported { file, what } => Error::Unsupported { file, what },
            core_link::Error::Link { file, reason } => Error::Link { file, reason },
            core_link::Error::Undefined { file, symbol, version } => Error::Undefined { file, symbol, version },
        }
    }
}

/// A linked unit, written in place, ready for the map stage to set its protections.
pub struct Unit {
    /// The span reserved for it, mapped read-write: its first `image_len` bytes are the image,
    /// linked for the span's base.
    pub region: Region,
    pub image_len: usize,
    pub static_tls: Option<Arc<crate::tls::StaticBlock>>,
    /// For each name the unit imports, the input that first referred to it (for messages).
    pub needers: Needers,
    /// Why the image holds values that are only right at the span's base (see
    /// `Prepared::position_dependent`); none: it may be mapped anywhere.
    pub position_dependent: Option<String>,
}

/// The unit's block in glibc's static TLS area, once found.
#[derive(Default)]
struct StaticTls(Option<Arc<crate::tls::StaticBlock>>);

impl core_link::StaticTls for StaticTls {
    fn reserve(&mut self, t: &core_link::TlsTemplate, unit: &str) -> Option<i64> {
        let t = crate::tls::Template { image: t.image.as_ptr() as usize, filesz: t.image.len(), memsz: t.memsz, align: t.align };
        // Reserved before the open took relink's lock; the first attempt notes that it needs it
        // and fails (see `tls::Reservations`), and the open links again.
        let block = crate::tls::reserved_for(&t, unit)?;
        let tp_offset = block.tp_offset as i64;
        self.0 = Some(block);
        Some(tp_offset)
    }
}

/// Link `inputs` into one unit named `unit`; `scope` is where the unit's imports will be found.
pub fn link(unit: &str, inputs: &[Input], scope: &dyn Scope) -> Result<Unit> {
    let page = crate::os::page_size();
    let mut prepared = core_link::prepare(unit, inputs, scope, page as u64)?;
    let len = prepared.span() as usize;
    let map_err = |e: std::io::Error| Error::Map { file: unit.to_string(), reason: e.to_string() };
    // Where its 32-bit fields reach what they refer to.
    let region = match prepared.window()? {
        None => Region::reserve(len, page).map_err(map_err)?,
        Some(w) => Region::reserve_in(len, page, w.lo as usize, w.hi as usize).map_err(|_| prepared.unplaceable())?,
    };
    let image_len = prepared.image_len();
    // The image is written from end to end: its pages are allocated in one go rather than one
    // fault at a time; the rest of the span (.bss) is left to fault in when used. Not when the
    // image is much larger than its inputs (sections with huge alignments, say): then its gaps
    // stay unallocated.
    let written = image_len.next_multiple_of(page);
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
    let img = unsafe { crate::raw::bytes_mut(region.base, image_len) };
    let mut tls = StaticTls::default();
    let mut needers = Needers::default();
    for (name, who) in prepared.write(img, region.base as u64, &mut tls)? {
        needers.push(&name, &who);
    }
    let position_dependent = prepared.position_dependent();
    Ok(Unit { region, image_len, static_tls: tls.0, needers, position_dependent })
}

/// A unit's inputs, read when the unit is linked: a unit mapped from the cache needs only their
/// identities (the cache key), not their bytes.
pub trait Sources {
    /// The inputs, read now if they were not yet.
    fn inputs(&self) -> Result<Vec<Input<'_>>>;
}

/// One input already in memory.
impl Sources for Input<'_> {
    fn inputs(&self) -> Result<Vec<Input<'_>>> {
        Ok(vec![*self])
    }
}

/// Where a unit is cached, and the key of its inputs (see [`cache`]).
pub struct CacheRequest<'a> {
    pub dir: &'a std::path::Path,
    pub inputs: &'a [cache::KeyInput<'a>],
}

/// Link a unit and map it (relocation, initialization and registration follow as for any
/// object): the registry's part of opening objects and archives. `scope` is where imports will
/// be found. With a cache, a sound entry for the same inputs is mapped instead (its path comes
/// back with the module), and a unit linked here is written to it when its image is position
/// independent.
pub fn load(
    name: &str,
    inputs: &dyn Sources,
    scope: &dyn Scope,
    origin: Option<std::path::PathBuf>,
    file_id: Option<(u64, u64)>,
    id: u64,
    cache: Option<CacheRequest>,
) -> Result<(Module, Needers, Option<std::path::PathBuf>)> {
    let entry = cache.and_then(|c| cache::Entry::new(c.dir, name, c.inputs));
    if let Some(e) = &entry {
        if let Some((m, needers)) = e.load(scope, name, origin.clone(), file_id, id) {
            return Ok((m, needers, Some(e.path().to_path_buf())));
        }
    }
    let recorder = entry.as_ref().map(|_| cache::Recorder::new(scope));
    let inputs = inputs.inputs()?;
    let unit = link(name, &inputs, recorder.as_ref().map_or(scope, |r| r as &dyn Scope))?;
    // SAFETY: the image lies in the unit's span, mapped and written by `link`; from now on it is
    // only read (the map stage reads the headers through this view, then sets protections).
    let image: &[u8] = unsafe { crate::raw::bytes_mut(unit.region.base, unit.image_len) };
    if let (Some(entry), Some(recorder)) = (entry, recorder) {
        match &unit.position_dependent {
            None => entry.store(image, recorder, &unit.needers),
            Some(why) => crate::debug::report!(crate::debug::FILES, "unit cache: {name} not cached: {why}"),
        }
    }
    let placement = crate::map::Placement { region: unit.region, static_tls: unit.static_tls, file_id };
    let m = crate::map::load_placed(&crate::map::Source::Memory(image), None, name, origin, id, Some(placement), None)?;
    Ok((m, unit.needers, None))
}

/// For each name a unit imports (once each), the input that first referred to it. Read only to
/// word an error, so kept as the unit cache stores it: each name and input name after its
/// length, one after the other in one buffer. A unit mapped from the cache copies the entry's
/// bytes as they are.
#[derive(Default)]
pub struct Needers {
    encoded: Vec<u8>,
    count: usize,
}

impl Needers {
    pub fn push(&mut self, name: &[u8], who: &str) {
        cache::put_bytes(&mut self.encoded, name);
        cache::put_bytes(&mut self.encoded, who.as_bytes());
        self.count += 1;
    }

    /// The needers encoded as `encoded` (see [`Needers::encoded`]), if that holds `count` of
    /// them and nothing else.
    pub fn from_encoded(encoded: &[u8], count: usize) -> Option<Needers> {
        let mut r = cache::Reader(encoded);
        for _ in 0..count {
            r.bytes()?;
            r.bytes()?;
        }
        r.0.is_empty().then(|| Needers { encoded: encoded.to_vec(), count })
    }

    /// How many there are, and their encoding.
    pub fn encoded(&self) -> (usize, &[u8]) {
        (self.count, &self.encoded)
    }

    /// Each import's name and the input that needs it, in the order they were pushed (an input
    /// name that is not UTF-8, only possible in a damaged cache entry, reads as "").
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &str)> {
        let mut r = cache::Reader(&self.encoded);
        std::iter::from_fn(move || Some((r.bytes()?, std::str::from_utf8(r.bytes()?).unwrap_or_default())))
    }
}

/// A unit's undefined-symbol error names the input that refers to the symbol.
pub fn blame(e: Error, needers: &Needers) -> Error {
    match e {
        Error::Undefined { file, symbol, version } => {
            let file = needers.iter().find(|&(name, _)| name == symbol.as_bytes()).map_or(file, |(_, who)| who.to_string());
            Error::Undefined { file, symbol, version }
        }
        e => e,
    }
}
