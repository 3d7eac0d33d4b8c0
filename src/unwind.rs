//! Making the frames of relink-loaded objects visible to the unwinder (C++ exceptions, Rust
//! panics, `backtrace()`), before their constructors run.
//!
//! libgcc (12 and later, built against glibc 2.35 or later) finds the frames of a PC with
//! glibc's `_dl_find_object`, lock-free, once it has no frames registered by
//! `__register_frame`. librelink exports its own `_dl_find_object` (`ffi.rs`): it answers for
//! relink's objects from a lock-free table ([`find`]) and forwards every other address to
//! glibc's. When the system loader binds the unwinder's `_dl_find_object` to relink's (a host
//! linked with `-lrelink`), that table is all the unwinder needs. Otherwise (an unwinder that
//! does not use `_dl_find_object`, relink linked statically or loaded `RTLD_LOCAL`) each object's
//! .eh_frame is registered with libgcc's `__register_frame`, and deregistered when it is
//! unloaded; every registered table makes each search take libgcc's global mutex.
//!
//! The unwinder trusts what it is given: it follows record lengths and CIE pointers, and decodes
//! pointers with the encodings the CIEs name, aborting on those it does not know. So nothing of
//! a table reaches an unwinder unchecked: every record inside the object's readable memory and
//! ended by a terminator, every encoding one libgcc decodes, every FDE's code range inside the
//! object's executable segments, and the search table of .eh_frame_hdr pointing at those FDEs in
//! order.
//!
//! What is checked when depends on what reads the table:
//!
//! - Unwinders registered with `__register_frame` walk every registered table on the next
//!   search for *any* address, and unwinders that find frames through `dl_iterate_phdr` may
//!   walk .eh_frame whole (LLVM's libunwind falls back to a linear scan when the search table
//!   has no answer; libgcc scans when there is no usable search table). For those the table is
//!   walked whole ([`walk_whole`]): before `__register_frame` (a malformed table refuses the
//!   image), and before `rl_iterate_phdr` first describes the object (a malformed table is
//!   hidden from its callbacks: its PT_GNU_EH_FRAME is given as PT_NULL).
//! - An unwinder that finds frames through `_dl_find_object` reads the search table, binary
//!   searches it, and reads the one FDE it names and that FDE's CIE. At open only the search
//!   table is checked ([`check`]: in the object, aligned, in ascending order, a few
//!   instructions per entry); the FDE and CIE are checked when `_dl_find_object` is asked about
//!   an address ([`find`]), and a malformed one is answered as code without unwind tables
//!   (no .eh_frame_hdr). Walking every record at open cost about 150 instructions per FDE, a
//!   quarter of the first open of libsqlite3; the check at lookup costs a binary search and
//!   one record per frame. An object without a usable search table is walked whole at open.
//!
//! A file walked whole and found sound is not walked again when it is opened again unchanged,
//! and its FDEs are not checked at lookup; one whose search table was found sound does not have
//! it checked again (see [`walk_whole`]).
//!
//! On Arm, libgcc's unwinder reads .ARM.exidx tables (EHABI) instead, and finds them with
//! `__gnu_Unwind_Find_exidx`, which librelink exports (`ffi.rs`) and answers from the same
//! lock-free table; glibc's own would ask its loader, which knows nothing of relink's objects.
//! Those tables are checked whole at open ([`check_exidx`]).
//!
//! The unwinders used are those the object can outlive: the host's, and any in the object's own
//! dependency scope (the libgcc_s a C++ plugin pulled in when the host has none) other than the
//! object itself, whose functions must be code of theirs.

use crate::module::{Image, Module};
use crate::raw::Span;
use crate::symbols::Query;
// The size of a fixed-size pointer format, as the unwinder computes it.
use relink_core::link::eh_pointer_size as fixed_size;
use std::sync::atomic::{fence, AtomicPtr, AtomicUsize, Ordering};
use std::sync::Arc;

const DW_EH_PE_OMIT: u8 = 0xff;
/// Pointer encodings: the format (low nibble), the application (bits 4-6), indirection.
const PE_ABSPTR: u8 = 0x00;
const PE_PCREL: u8 = 0x10;
const PE_DATAREL: u8 = 0x30;
const PE_INDIRECT: u8 = 0x80;
/// The one encoding of .eh_frame_hdr's search table that unwinders binary-search.
const PE_DATAREL_SDATA4: u8 = 0x3b;

/// Held around every call into an unwinder's registration functions, and around every change
/// of the table [`find`] reads. The registration functions take the unwinder's own lock, which
/// a `fork()` would otherwise catch held by a thread the child does not have; the fork handlers
/// take this one instead (see `fork.rs`).
static CALLS: crate::sync::Mutex<Objects> =
    crate::sync::Mutex::new(Objects { list: Vec::new(), retired: Vec::new(), checked: Vec::new() });

/// How many files [`check`] remembers as checked.
const CHECKED_FILES: usize = 64;

/// Keep registrations out of the way across `fork()`.
pub fn fork_prepare() -> crate::sync::MutexGuard<'static, Objects> {
    CALLS.lock()
}

/// A relink-mapped object as `_dl_find_object` describes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Found {
    /// Its whole mapping: `start..end`.
    pub start: usize,
    pub end: usize,
    /// Its .eh_frame_hdr (PT_GNU_EH_FRAME), or on Arm its .ARM.exidx (PT_ARM_EXIDX); 0
    /// without one.
    pub eh_frame_hdr: usize,
    /// The number of .ARM.exidx entries (0 elsewhere).
    pub eh_count: usize,
}

/// How far an object's unwind tables were checked (`Image::unwind_checked`): the search table
/// only (each FDE is checked when the unwinder asks for it), walked whole and sound, or walked
/// whole and malformed.
const TABLE_ONLY: u8 = 0;
const WALKED: u8 = 1;
const MALFORMED: u8 = 2;

/// The most readable and executable ranges an object may have for its FDEs to be checked at
/// lookup (their bounds are kept in [`find`]'s table); an object with more is walked whole.
const RANGES_MAX: usize = 6;
const EXEC_MAX: usize = 2;

/// What [`find`] needs to check the FDE the search table gives for an address: the table, and
/// the object's readable and executable ranges (unused ones are `(0, 0)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Lazy {
    table: usize,
    count: usize,
    ranges: [(usize, usize); RANGES_MAX],
    exec: [(usize, usize); EXEC_MAX],
}

/// One object of the table: what `_dl_find_object` reports, and what checks its FDEs when its
/// tables were not walked whole, with the object's id (never reused in the process).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    found: Found,
    lazy: Option<Lazy>,
    id: u64,
}

/// An entry as the table stores it: start, end, eh_frame_hdr, then whether `lazy` is there, its
/// table and count, the id, the .ARM.exidx entry count (the `HEAD` words: enough to know the object and whether its FDEs
/// are checked at lookup), then ranges and executable ranges.
const HEAD: usize = 8;
const WORDS: usize = HEAD + 2 * (RANGES_MAX + EXEC_MAX);

impl Entry {
    fn words(&self) -> [usize; WORDS] {
        let mut w = [0; WORDS];
        (w[0], w[1], w[2], w[6], w[7]) = (self.found.start, self.found.end, self.found.eh_frame_hdr, self.id as usize, self.found.eh_count);
        if let Some(l) = &self.lazy {
            (w[3], w[4], w[5]) = (1, l.table, l.count);
            for (k, &(lo, hi)) in l.ranges.iter().chain(&l.exec).enumerate() {
                (w[HEAD + 2 * k], w[HEAD + 1 + 2 * k]) = (lo, hi);
            }
        }
        w
    }

    fn from_words(w: &[usize; WORDS]) -> Entry {
        let found = Found { start: w[0], end: w[1], eh_frame_hdr: w[2], eh_count: w[7] };
        let pair = |k: usize| (w[HEAD + 2 * k], w[HEAD + 1 + 2 * k]);
        let lazy = (w[3] != 0).then(|| Lazy {
            table: w[4],
            count: w[5],
            ranges: std::array::from_fn(pair),
            exec: std::array::from_fn(|k| pair(RANGES_MAX + k)),
        });
        Entry { found, lazy, id: w[6] as u64 }
    }
}

/// The writers' side of the table: the objects in address order, and the buffers replaced by
/// larger ones (a reader may still be inside one, so they are never freed).
pub struct Objects {
    list: Vec<Entry>,
    retired: Vec<usize>,
    /// Files whose unwind tables were found sound wherever they are loaded, most recent last,
    /// each with whether they were walked whole or only their search table was checked (see
    /// [`walk_whole`]).
    checked: Vec<(crate::os::Stamp, bool)>,
}

impl Objects {
    /// How the file of `stamp` was found sound: walked whole (true), its search table only
    /// (false), or not at all.
    fn known(&self, stamp: &crate::os::Stamp) -> Option<bool> {
        self.checked.iter().find(|(s, _)| s == stamp).map(|&(_, whole)| whole)
    }

    fn remember(&mut self, stamp: crate::os::Stamp, whole: bool) {
        match self.checked.iter_mut().find(|(s, _)| *s == stamp) {
            Some(known) => known.1 |= whole,
            None => {
                if self.checked.len() == CHECKED_FILES {
                    self.checked.remove(0);
                }
                self.checked.push((stamp, whole));
            }
        }
    }
}

/// The readers' side: two copies, the one in use named by the low bit of `version`. A change is
/// written into the other copy, then `version` moves on; a reader that sees `version` change
/// under it reads again. Readers take no lock and never wait for a writer.
struct Table {
    version: AtomicUsize,
    copies: [Copy; 2],
}

struct Copy {
    buf: AtomicPtr<Buf>,
    len: AtomicUsize,
}

/// Each object's [`Entry::words`].
struct Buf(Box<[[AtomicUsize; WORDS]]>);

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Copy = Copy { buf: AtomicPtr::new(std::ptr::null_mut()), len: AtomicUsize::new(0) };
static TABLE: Table = Table { version: AtomicUsize::new(0), copies: [EMPTY; 2] };

/// Make `objects.list` what [`find`] reads.
fn publish(objects: &mut Objects) {
    let v = TABLE.version.load(Ordering::Relaxed);
    let copy = &TABLE.copies[(v + 1) & 1];
    let mut buf = copy.buf.load(Ordering::Relaxed);
    // SAFETY: buffers are never freed (see `Objects::retired`).
    let room = if buf.is_null() { 0 } else { unsafe { &*buf }.0.len() };
    let n = objects.list.len();
    if buf.is_null() || room < n {
        let fresh = (0..n.next_power_of_two().max(8)).map(|_| Default::default()).collect();
        if !buf.is_null() {
            objects.retired.push(buf as usize);
        }
        buf = Box::into_raw(Box::new(Buf(fresh)));
        copy.buf.store(buf, Ordering::Release);
    }
    // A reader that sees any of the stores below sees the version that made this copy unused.
    fence(Ordering::Release);
    // SAFETY: as above.
    let entries = unsafe { &(*buf).0 };
    for (e, o) in entries.iter().zip(&objects.list) {
        for (slot, value) in e.iter().zip(o.words()) {
            slot.store(value, Ordering::Relaxed);
        }
    }
    copy.len.store(n, Ordering::Relaxed);
    TABLE.version.store(v + 1, Ordering::Release);
}

/// The relink-mapped object whose mapping holds `pc`, lock-free (for `_dl_find_object`, which
/// the unwinder calls for every frame of every throw). When its tables were not walked whole,
/// the FDE the unwinder will read for `pc` is checked first; without a sound one the object is
/// described without its .eh_frame_hdr (`eh_frame_hdr` 0), as code without unwind tables.
pub fn find(pc: usize) -> Option<Found> {
    let [start, end, eh_frame_hdr, lazy, _, _, id, eh_count] = words_of::<HEAD>(pc)?;
    if lazy == 0 {
        return Some(Found { start, end, eh_frame_hdr, eh_count });
    }
    // An unwinder asks about the same return addresses again and again (every throw through
    // the same calls): each thread remembers the last ones whose FDE was sound, with the
    // object's id, so that a later object at the same address is never taken for this one.
    let slot = (pc ^ (pc >> 4) ^ (pc >> 8)) % SOUND_SLOTS;
    if SOUND.try_with(|s| s[slot].get() == (pc, id as u64)).unwrap_or(false) {
        return Some(Found { start, end, eh_frame_hdr, eh_count });
    }
    let Entry { mut found, lazy, id } = Entry::from_words(&words_of::<WORDS>(pc)?);
    let Some(l) = lazy else { return Some(found) };
    if fde_sound(found.eh_frame_hdr, &l, pc) {
        let _ = SOUND.try_with(|s| s[slot].set((pc, id)));
    } else {
        found.eh_frame_hdr = 0;
    }
    Some(found)
}

const SOUND_SLOTS: usize = 16;

thread_local! {
    /// Per thread: addresses whose FDE [`find`] found sound, each with its object's id.
    static SOUND: [std::cell::Cell<(usize, u64)>; SOUND_SLOTS] = const { [const { std::cell::Cell::new((0, 0)) }; SOUND_SLOTS] };
}

/// The first `N` words of the entry of [`find`]'s table whose mapping holds `pc`.
fn words_of<const N: usize>(pc: usize) -> Option<[usize; N]> {
    loop {
        let v = TABLE.version.load(Ordering::Acquire);
        let copy = &TABLE.copies[v & 1];
        let buf = copy.buf.load(Ordering::Acquire);
        let found = if buf.is_null() {
            None
        } else {
            // SAFETY: buffers are never freed (see `Objects::retired`).
            let entries = unsafe { &(*buf).0 };
            let entries = &entries[..copy.len.load(Ordering::Relaxed).min(entries.len())];
            let i = entries.partition_point(|e| e[0].load(Ordering::Relaxed) <= pc);
            i.checked_sub(1).map(|i| std::array::from_fn(|k| entries[i][k].load(Ordering::Relaxed)))
        };
        fence(Ordering::Acquire);
        if TABLE.version.load(Ordering::Relaxed) == v {
            return found.filter(|w: &[usize; N]| pc < w[1]);
        }
    }
}

/// The address of librelink's exported `_dl_find_object` (`ffi.rs`), which answers from
/// [`find`]. Stored once by relink's start-up, before anything is opened; 0 before that.
static OWN_FIND_OBJECT: AtomicUsize = AtomicUsize::new(0);

/// Records the address of librelink's `_dl_find_object` export (relink's start-up calls it).
pub fn set_own_find_object(addr: usize) {
    OWN_FIND_OBJECT.store(addr, Ordering::Relaxed);
}

/// Whether the unwinder `p` finds frames through [`find`]: it calls `_dl_find_object`, and the
/// first host object of the global scope that defines that name is relink (the system loader
/// and relink bind the unwinder's reference to it).
fn reads_table(p: &Module, providers: &[&Arc<Module>]) -> bool {
    const NAME: &[u8] = b"_dl_find_object";
    if !p.symtab.references().any(|(_, s)| p.symtab.name(s) == NAME) {
        return false;
    }
    let q = Query::new(NAME, None);
    let first = providers.iter().filter(|h| h.is_host && h.host_local.get() != Some(&true)).find_map(|h| {
        let s = h.symtab.sym(h.symtab.lookup(&q)?)?;
        Some(h.bias.wrapping_add(s.st_value as usize))
    });
    let own = OWN_FIND_OBJECT.load(Ordering::Relaxed);
    own != 0 && first == Some(own)
}

/// A cursor over bytes of the object in memory that knows the address of each byte.
struct Reader {
    bytes: &'static [u8],
    /// Address of `bytes[0]`.
    base: usize,
    pos: usize,
}

impl Reader {
    fn at(span: &Span, addr: usize) -> Option<Reader> {
        Some(Reader { bytes: span.rest(addr)?, base: addr, pos: 0 })
    }

    fn addr(&self) -> usize {
        self.base + self.pos
    }

    fn take(&mut self, n: usize) -> Option<&'static [u8]> {
        let s = self.bytes.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }

    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn uleb(&mut self) -> Option<u64> {
        let (mut v, mut shift) = (0u64, 0u32);
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= ((b & 0x7f) as u64) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
    }

    fn sleb(&mut self) -> Option<i64> {
        let (mut v, mut shift) = (0i64, 0u32);
        loop {
            let b = self.u8()?;
            if shift < 64 {
                v |= ((b & 0x7f) as i64) << shift;
            }
            shift += 7;
            if b & 0x80 == 0 {
                if shift < 64 && b & 0x40 != 0 {
                    v |= -1i64 << shift;
                }
                return Some(v);
            }
        }
    }

    /// A value in the format of encoding `enc` (its low nibble), sign-extended where signed.
    /// `None` for a format the unwinder does not know.
    fn value(&mut self, enc: u8) -> Option<u64> {
        let v = match enc & 0x0f {
            // An absolute pointer is a native word.
            0x00 => usize::from_le_bytes(self.take(crate::raw::WORD)?.try_into().ok()?) as u64,
            0x04 | 0x0c => u64::from_le_bytes(self.take(8)?.try_into().ok()?),
            0x01 => self.uleb()?,
            0x02 => u16::from_le_bytes(self.take(2)?.try_into().ok()?) as u64,
            0x03 => self.u32()? as u64,
            0x09 => self.sleb()? as u64,
            0x0a => i16::from_le_bytes(self.take(2)?.try_into().ok()?) as i64 as u64,
            0x0b => self.u32()? as i32 as i64 as u64,
            _ => return None,
        };
        Some(v)
    }

    /// A pointer in encoding `enc`, applied: absolute, or relative to its own field or to
    /// `datarel` when given. Indirect pointers are returned as the address that holds them.
    fn pointer(&mut self, enc: u8, datarel: Option<usize>) -> Option<usize> {
        let field = self.addr();
        let v = self.value(enc)? as usize;
        match enc & 0x70 {
            PE_ABSPTR => Some(v),
            PE_PCREL => Some(field.wrapping_add(v)),
            PE_DATAREL => datarel.map(|b| b.wrapping_add(v)),
            _ => None,
        }
    }
}

/// Decode the `eh_frame_ptr` field of .eh_frame_hdr at `hdr` into the address of .eh_frame.
pub fn eh_frame_from_hdr(span: &Span, hdr: usize) -> Option<usize> {
    let mut r = Reader::at(span, hdr)?;
    let (version, enc) = (r.u8()?, r.u8()?);
    r.take(2)?;
    if version != 1 || enc == DW_EH_PE_OMIT || enc & PE_INDIRECT != 0 {
        return None;
    }
    let addr = r.pointer(enc, None)?;
    // The section must lie in the object and start with a word we can read.
    span.slice::<u32>(addr, 1).map(|_| addr)
}

/// What an FDE needs from its CIE.
#[derive(Clone, Copy)]
struct Cie {
    /// Encoding of the FDE's code range.
    fde_enc: u8,
    /// Whether FDEs carry augmentation data (the CIE's augmentation starts with 'z').
    has_data: bool,
    /// Encoding of the FDE's LSDA pointer, if any.
    lsda_enc: u8,
    /// Whether what is checked of it and its FDEs depends on where the object is loaded
    /// (absolute code ranges, an absolute address of the personality routine's pointer).
    moves: bool,
}

/// An FDE the unwinder will use: where it is and the first address it covers.
struct Fde {
    at: usize,
    pc_begin: usize,
}

/// What [`walk`] found: the FDEs the unwinder will use, in the order of .eh_frame (so by
/// `at`), the end of the terminator, and whether any CIE makes the result depend on where the
/// object is loaded.
struct Walked {
    fdes: Vec<Fde>,
    end: usize,
    moves: bool,
}

/// Check the CIE whose body (after its id) `r` reads; `r` ends with the record. `ranges` are the
/// object's readable ranges.
fn parse_cie(ranges: &[(usize, usize)], r: &mut Reader) -> Result<Cie, &'static str> {
    let end = r.bytes.len();
    let version = r.u8().ok_or("truncated CIE")?;
    if version != 1 && version != 3 {
        return Err("CIE version is neither 1 nor 3");
    }
    let aug_len = r.bytes[r.pos..end].iter().position(|&b| b == 0).ok_or("CIE augmentation string not terminated")?;
    let aug = r.take(aug_len + 1).ok_or("truncated CIE")?;
    let aug = &aug[..aug_len];
    r.uleb().ok_or("truncated CIE")?;
    r.sleb().ok_or("truncated CIE")?;
    if version == 1 {
        r.u8().ok_or("truncated CIE")?;
    } else {
        r.uleb().ok_or("truncated CIE")?;
    }
    let mut cie = Cie { fde_enc: PE_ABSPTR, has_data: false, lsda_enc: DW_EH_PE_OMIT, moves: false };
    let Some((&b'z', letters)) = aug.split_first() else {
        // Absolute code ranges.
        return if aug.is_empty() { Ok(Cie { moves: true, ..cie }) } else { Err("CIE augmentation the unwinder does not know") };
    };
    cie.has_data = true;
    let len = r.uleb().ok_or("truncated CIE")? as usize;
    let data_end = r.pos.checked_add(len).filter(|&e| e <= end).ok_or("CIE augmentation data runs past the record")?;
    for &letter in letters {
        match letter {
            b'R' => {
                let enc = r.u8().ok_or("truncated CIE")?;
                if fixed_size(enc).is_none() || !matches!(enc & 0x70, PE_ABSPTR | PE_PCREL) || enc & PE_INDIRECT != 0 {
                    return Err("FDE pointer encoding the unwinder does not decode");
                }
                cie.fde_enc = enc;
            }
            b'P' => {
                let enc = r.u8().ok_or("truncated CIE")?;
                let p = r.pointer(enc & !PE_INDIRECT, None).ok_or("personality pointer encoding the unwinder does not decode")?;
                if enc & PE_INDIRECT != 0 && !(crate::raw::within(ranges, p, size_of::<usize>()) && p.is_multiple_of(size_of::<usize>())) {
                    return Err("personality pointer outside the object");
                }
                cie.moves |= enc & PE_INDIRECT != 0 && enc & 0x70 != PE_PCREL;
            }
            b'L' => {
                let enc = r.u8().ok_or("truncated CIE")?;
                if enc != DW_EH_PE_OMIT && (fixed_size(enc).is_none() || !matches!(enc & 0x70, PE_ABSPTR | PE_PCREL)) {
                    return Err("LSDA pointer encoding the unwinder does not decode");
                }
                cie.lsda_enc = enc;
            }
            b'S' => {}
            _ => return Err("CIE augmentation the unwinder does not know"),
        }
        if r.pos > data_end {
            return Err("CIE augmentation data runs past its length");
        }
    }
    r.pos = data_end;
    cie.moves |= cie.fde_enc & 0x70 != PE_PCREL;
    Ok(cie)
}

/// Check the FDE whose body (after its CIE pointer) `r` reads; `r` ends with the record. `None`
/// when the unwinder skips it (a zero start address: code the linker discarded).
fn parse_fde(cie: &Cie, exec: &[(usize, usize)], r: &mut Reader) -> Result<Option<usize>, &'static str> {
    let end = r.bytes.len();
    let size = fixed_size(cie.fde_enc).expect("checked with the CIE");
    if r.pos + 2 * size > end {
        return Err("FDE too short for its code range");
    }
    let field = r.addr();
    let raw = r.value(cie.fde_enc).ok_or("truncated FDE")?;
    let range = r.value(cie.fde_enc & 0x0f).ok_or("truncated FDE")? as usize;
    if cie.has_data {
        let len = r.uleb().ok_or("truncated FDE")? as usize;
        let data_end = r.pos.checked_add(len).filter(|&e| e <= end).ok_or("FDE augmentation data runs past the record")?;
        if cie.lsda_enc != DW_EH_PE_OMIT && fixed_size(cie.lsda_enc).is_some_and(|n| r.pos + n > data_end) {
            return Err("FDE augmentation data too short for its LSDA pointer");
        }
        r.pos = data_end;
    }
    // The unwinder applies the encoding to nonzero values only, and its linear search skips an
    // FDE whose start, cut to the encoding's width, is zero: one the linker discarded (a zero
    // field). A pc-relative start whose low bits are zero by where the object was loaded (code
    // at a 4 GiB boundary) is skipped by that search too, but the search table names it and
    // the unwinder uses it from there: it is checked like any other.
    let mask = if size < 8 { (1u64 << (8 * size)) - 1 } else { u64::MAX };
    if raw & mask == 0 {
        return Ok(None);
    }
    let pc_begin = match raw {
        v if cie.fde_enc & 0x70 == PE_PCREL => field.wrapping_add(v as usize),
        v => v as usize,
    };
    if !crate::raw::within(exec, pc_begin, range) {
        return Err("FDE covers addresses outside the object's executable segments");
    }
    Ok(Some(pc_begin))
}

/// The FDE pointer encoding of nearly every CIE (GCC and Clang on x86-64): 32-bit signed,
/// relative to the field. [`walk`] reads such FDEs without the general decoder.
const PE_PCREL_SDATA4: u8 = PE_PCREL | 0x0b;

/// A little-endian 32-bit word of `b` at `at`, if it is there.
#[inline]
fn word(b: &[u8], at: usize) -> Option<u32> {
    relink_core::raw::le_u32(b, at)
}

/// Walk .eh_frame at `start`: every record, up to its terminator, or why the table is
/// malformed (and at which offset). `expect` is a capacity hint (the search table's count).
///
/// This runs before every load's constructors, over thousands of FDEs for a large library,
/// so the common record shapes take a straight path: CIEs are looked up through the last one
/// used, and FDEs whose CIE names the usual pc-relative 32-bit encoding are read in place.
/// Every other shape goes through [`parse_fde`]; both check the same things.
fn walk(span: &Span, exec: &[(usize, usize)], start: usize, expect: usize) -> Result<Walked, String> {
    let bytes = span.rest(start).ok_or("not readable")?;
    let mut cies: Vec<(usize, Cie)> = Vec::new();
    let mut last: Option<(usize, Cie)> = None;
    let mut fdes = Vec::with_capacity(expect);
    let mut pos = 0usize;
    loop {
        let at = pos;
        let fail = |what: &str| format!("{what} (record at offset {at:#x})");
        let Some(end) = record_end(bytes, pos).map_err(fail)? else {
            return Ok(Walked { fdes, end: start + pos + 4, moves: cies.iter().any(|(_, c)| c.moves) });
        };
        // The record alone: nothing in it is read past its end.
        let rec = &bytes[..end];
        let id_at = pos + 4;
        let id = word(rec, id_at).expect("inside the record");
        if id == 0 {
            let mut r = Reader { bytes: rec, base: start, pos: id_at + 4 };
            let cie = parse_cie(span.ranges(), &mut r).map_err(fail)?;
            cies.push((start + at, cie));
        } else {
            // The unwinder finds the CIE at the CIE pointer's own address minus its value.
            let cie_at = (start + id_at).wrapping_sub(id as i32 as isize as usize);
            let cie = match last {
                Some((a, c)) if a == cie_at => c,
                _ => {
                    let cie = cies.iter().find(|&&(a, _)| a == cie_at).map(|&(_, c)| c);
                    let cie = cie.ok_or_else(|| fail("FDE whose CIE pointer is not an earlier CIE of the table"))?;
                    last = Some((cie_at, cie));
                    cie
                }
            };
            if let Some(pc_begin) = fde_body(&cie, exec, rec, start, id_at + 4).map_err(fail)? {
                fdes.push(Fde { at: start + at, pc_begin });
            }
        }
        pos = end;
    }
}

/// The end (an offset into `bytes`) of the record at offset `pos`, `None` for the terminator.
#[inline]
fn record_end(bytes: &[u8], pos: usize) -> Result<Option<usize>, &'static str> {
    let len = word(bytes, pos).ok_or("no terminator before the end of the readable segment")?;
    if len == 0 {
        return Ok(None);
    }
    if len == u32::MAX {
        return Err("64-bit record length, which the unwinder does not support");
    }
    let end = pos + 4 + len as usize;
    if end > bytes.len() || len < 4 {
        return Err("record length runs past the readable segment");
    }
    Ok(Some(end))
}

/// Check the FDE of `cie` that ends `rec` (whose first byte is at address `base`) from its
/// initial location at offset `body`: the start address of the code it covers, `None` for an
/// FDE the unwinder skips (see [`parse_fde`]).
#[inline]
fn fde_body(cie: &Cie, exec: &[(usize, usize)], rec: &'static [u8], base: usize, body: usize) -> Result<Option<usize>, &'static str> {
    if cie.fde_enc == PE_PCREL_SDATA4 && body + 8 <= rec.len() {
        fast_fde(cie, exec, rec, base, body)
    } else {
        parse_fde(cie, exec, &mut Reader { bytes: rec, base, pos: body })
    }
}

/// [`parse_fde`] for an FDE of encoding [`PE_PCREL_SDATA4`] whose code range fits the record:
/// `rec` ends with the record, `body` is the offset of its initial location, `base` the
/// address of `rec[0]`.
#[inline]
fn fast_fde(cie: &Cie, exec: &[(usize, usize)], rec: &'static [u8], base: usize, body: usize) -> Result<Option<usize>, &'static str> {
    let raw = word(rec, body).expect("checked by the caller") as i32;
    let range = word(rec, body + 4).expect("checked by the caller") as i32 as isize as usize;
    if cie.has_data {
        // The augmentation length is one ULEB128 byte unless it is 128 or more.
        let (len, first) = match rec.get(body + 8) {
            Some(&b) if b & 0x80 == 0 => (b as usize, body + 9),
            _ => {
                let mut r = Reader { bytes: rec, base, pos: body + 8 };
                let len = r.uleb().ok_or("truncated FDE")? as usize;
                (len, r.pos)
            }
        };
        let data_end = first.checked_add(len).filter(|&e| e <= rec.len()).ok_or("FDE augmentation data runs past the record")?;
        if cie.lsda_enc != DW_EH_PE_OMIT && fixed_size(cie.lsda_enc).is_some_and(|n| first + n > data_end) {
            return Err("FDE augmentation data too short for its LSDA pointer");
        }
    }
    // As in `parse_fde`: a zero field is a discarded FDE.
    if raw == 0 {
        return Ok(None);
    }
    let pc_begin = (base + body).wrapping_add(raw as isize as usize);
    let inside = match exec {
        &[one] => crate::raw::range_holds(one, pc_begin, range),
        _ => crate::raw::within(exec, pc_begin, range),
    };
    if !inside {
        return Err("FDE covers addresses outside the object's executable segments");
    }
    Ok(Some(pc_begin))
}

/// .eh_frame_hdr's fields, once its encodings are checked.
struct Header {
    /// The search table and its number of entries, `None` when the header has none.
    table: Option<(usize, usize)>,
    /// The end of the header and its table.
    end: usize,
    /// Whether the pointer to .eh_frame is absolute (so it does not move with the object).
    moves: bool,
}

/// Read and check .eh_frame_hdr's header at `hdr`.
fn search_table(span: &Span, hdr: usize) -> Result<Header, String> {
    let mut r = Reader::at(span, hdr).ok_or("not readable")?;
    let head = r.take(4).ok_or("truncated")?;
    let (ptr_enc, count_enc, table_enc) = (head[1], head[2], head[3]);
    r.pointer(ptr_enc, None).ok_or("truncated")?;
    let moves = ptr_enc & 0x70 == PE_ABSPTR;
    if count_enc == DW_EH_PE_OMIT || table_enc == DW_EH_PE_OMIT {
        return Ok(Header { table: None, end: r.addr(), moves });
    }
    if table_enc != PE_DATAREL_SDATA4 || count_enc & (0x70 | PE_INDIRECT) != 0 {
        return Err(format!("search table encodings {count_enc:#x}/{table_enc:#x} that unwinders do not use"));
    }
    let count = r.value(count_enc).ok_or("truncated")? as usize;
    let end = count.checked_mul(8).and_then(|n| r.addr().checked_add(n)).ok_or("search table runs past the address space")?;
    Ok(Header { table: Some((r.addr(), count)), end, moves })
}

/// Check .eh_frame_hdr's search table (at `table`, `count` entries, relative to `hdr`): each
/// entry names one of `fdes` and the address it starts at, in ascending order.
fn check_search_table(span: &Span, hdr: usize, (table, count): (usize, usize), fdes: &[Fde]) -> Result<(), String> {
    let entries = count.checked_mul(8).and_then(|n| span.slice::<u8>(table, n));
    let entries = entries.ok_or("search table runs past the readable segment")?;
    let (mut last, mut next) = (0usize, 0usize);
    for (i, e) in entries.chunks_exact(8).enumerate() {
        let rel = |k: usize| hdr.wrapping_add(word(e, k).expect("8-byte entry") as i32 as isize as usize);
        let (pc, fde) = (rel(0), rel(4));
        // FDEs usually come in the order of the code they describe: try the one after the last.
        let j = match fdes.get(next) {
            Some(f) if f.at == fde => Some(next),
            _ => fdes.binary_search_by_key(&fde, |f| f.at).ok(),
        };
        if j.map(|j| fdes[j].pc_begin) != Some(pc) || pc < last {
            return Err(format!("search table entry {i} does not name an FDE of .eh_frame in address order"));
        }
        (last, next) = (pc, j.map_or(0, |j| j + 1));
    }
    Ok(())
}

/// Check .eh_frame_hdr's search table (at `table`, `count` entries) as far as an unwinder reads
/// it before it reads an FDE: inside the object, and in ascending order of the addresses it
/// names (the unwinder's binary search fails an assertion otherwise). The FDEs it names are
/// checked when the unwinder asks for them ([`fde_sound`]). Also tells whether the order holds
/// wherever the object is loaded (the offsets themselves are in order).
fn check_order(span: &Span, hdr: usize, (table, count): (usize, usize)) -> Result<bool, String> {
    let entries = count.checked_mul(8).and_then(|n| span.slice::<u8>(table, n));
    let entries = entries.ok_or("search table runs past the readable segment")?;
    let (mut last, mut last_rel, mut anywhere) = (0usize, i32::MIN, true);
    for (i, e) in entries.chunks_exact(8).enumerate() {
        let rel = word(e, 0).expect("8-byte entry") as i32;
        let pc = hdr.wrapping_add(rel as isize as usize);
        if pc < last {
            return Err(format!("search table entry {i} is not in address order"));
        }
        anywhere &= rel >= last_rel;
        (last, last_rel) = (pc, rel);
    }
    Ok(anywhere)
}

/// Whether the FDE the unwinder reads for `pc`, through the search table of the object whose
/// .eh_frame_hdr is at `hdr`, is sound, with its CIE (true when the table names none: the
/// unwinder then reads no FDE).
fn fde_sound(hdr: usize, l: &Lazy, pc: usize) -> bool {
    let used = |r: &[(usize, usize)]| r.iter().take_while(|&&(_, hi)| hi != 0).count();
    let (ranges, exec) = (&l.ranges[..used(&l.ranges)], &l.exec[..used(&l.exec)]);
    // SAFETY: `l.ranges` is a copy of the object's span's ranges (`lazy_of`), and the object
    // is mapped while the unwinder asks about its code.
    let Some(entries) = unsafe { crate::raw::rest_in(ranges, l.table) }.and_then(|b| b.get(..l.count.checked_mul(8)?)) else {
        return false;
    };
    let rel = |i: usize, k: usize| hdr.wrapping_add(word(entries, 8 * i + k).expect("inside the table") as i32 as isize as usize);
    // The unwinder's binary search ends at the last entry that starts at or below `pc`.
    let (mut lo, mut hi) = (0, l.count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if rel(mid, 0) <= pc {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let Some(i) = lo.checked_sub(1) else { return true };
    fde_at(ranges, exec, rel(i, 4)) == Ok(Some(rel(i, 0)))
}

/// Check the FDE at `fde` and its CIE, each record alone, as the unwinder reads them when the
/// search table names `fde`: the start address of the code it covers, `None` for an FDE the
/// unwinder skips.
fn fde_at(ranges: &[(usize, usize)], exec: &[(usize, usize)], fde: usize) -> Result<Option<usize>, &'static str> {
    let record = |at: usize| {
        // SAFETY: `ranges` are a span's ranges, or a copy of them (`fde_sound`).
        let bytes = unsafe { crate::raw::rest_in(ranges, at) }.ok_or("record outside the object")?;
        let end = record_end(bytes, 0)?.ok_or("a terminator where a record should be")?;
        Ok::<_, &'static str>(&bytes[..end])
    };
    let rec = record(fde)?;
    let id = word(rec, 4).expect("inside the record");
    if id == 0 {
        return Err("a CIE where an FDE should be");
    }
    let cie_at = (fde + 4).wrapping_sub(id as i32 as isize as usize);
    let cie_rec = record(cie_at)?;
    if word(cie_rec, 4) != Some(0) {
        return Err("FDE whose CIE pointer does not name a CIE");
    }
    let cie = parse_cie(ranges, &mut Reader { bytes: cie_rec, base: cie_at, pos: 8 })?;
    fde_body(&cie, exec, rec, fde, 8)
}

/// What [`find`] needs to check `m`'s FDEs at lookup, unless its tables were walked whole or
/// cannot be checked that way: no usable search table (an unwinder then walks .eh_frame whole:
/// none, or one at an address that is not a multiple of 4, which libgcc does not search), or
/// more ranges than [`find`]'s table keeps.
fn lazy_of(m: &Module) -> Option<Lazy> {
    let image = m.image.as_ref()?;
    let (hdr, _) = image.eh_frame?;
    // On Arm the table handed out is .ARM.exidx, checked whole at open.
    if image.exidx.is_some() || image.unwind_checked.load(Ordering::Relaxed) == WALKED || m.span.ranges().len() > RANGES_MAX || image.exec.len() > EXEC_MAX {
        return None;
    }
    let (table, count) = search_table(&m.span, hdr).ok()?.table.filter(|&(t, _)| t.is_multiple_of(4))?;
    let mut l = Lazy { table, count, ranges: [(0, 0); RANGES_MAX], exec: [(0, 0); EXEC_MAX] };
    l.ranges[..m.span.ranges().len()].copy_from_slice(m.span.ranges());
    l.exec[..image.exec.len()].copy_from_slice(&image.exec);
    Some(l)
}

/// Check, once the object is relocated (absolute pointers in .eh_frame are relocated data),
/// what an unwinder reads of its .eh_frame_hdr before it reads any FDE, and walk .eh_frame
/// whole when an unwinder would (see the module's documentation).
pub fn check(m: &Module) -> crate::error::Result<()> {
    let Some(image) = &m.image else { return Ok(()) };
    if let Some(exidx) = image.exidx {
        check_exidx(&m.span, &image.exec, exidx).map_err(|e| malformed(m, ".ARM.exidx", e))?;
    }
    let Some((hdr, _)) = image.eh_frame else { return Ok(()) };
    let stamp = image.stamp.filter(crate::os::Stamp::settled);
    let known = stamp.and_then(|s| CALLS.lock().known(&s));
    if known == Some(true) {
        image.unwind_checked.store(WALKED, Ordering::Relaxed);
        return Ok(());
    }
    match lazy_of(m) {
        Some(_) if known == Some(false) => Ok(()),
        Some(l) => {
            let anywhere = check_order(&m.span, hdr, (l.table, l.count)).map_err(|e| malformed(m, ".eh_frame_hdr", e))?;
            let written = image.writable.iter().any(|&(a, b)| l.table < b && a < l.table + 8 * l.count);
            if let Some(stamp) = stamp.filter(|_| anywhere && !written) {
                CALLS.lock().remember(stamp, false);
            }
            Ok(())
        }
        None => walk_whole(m),
    }
}

fn malformed(m: &Module, table: &str, reason: String) -> crate::error::Error {
    crate::error::Error::Malformed { file: m.name().to_string(), reason: format!("malformed {table}: {reason}") }
}

/// Check everything an unwinder may read of `m`'s .eh_frame and .eh_frame_hdr: every record,
/// and every entry of the search table against the FDEs.
///
/// A file whose tables were found sound is not walked again when it is loaded again (the
/// steady open and close of a library), provided that nothing of the check depended on the
/// load: the tables lie outside every range relocations may write, every pointer checked is
/// relative to the object, and the file is the same. Same means the same stamp (device,
/// inode, size, modification and status change times) from `fstat` at open, remembered only
/// when those times are older than the file system's clock tick ([`crate::os::Stamp::settled`]),
/// so that a write after the check always gives another stamp. (A write to the file while it
/// is mapped reaches pages not yet copied whether or not the tables were walked again.) A file
/// of which [`check`] checked only the search table is remembered the same way, and its search
/// table is not checked again.
fn walk_whole(m: &Module) -> crate::error::Result<()> {
    let Some(image) = &m.image else { return Ok(()) };
    let Some((hdr, eh_frame)) = image.eh_frame else { return Ok(()) };
    let result = walk_tables(m, image, hdr, eh_frame);
    image.unwind_checked.store(if result.is_ok() { WALKED } else { MALFORMED }, Ordering::Relaxed);
    let Ok(remember) = result else { return result.map(|_| ()) };
    let stamp = image.stamp.filter(crate::os::Stamp::settled);
    let mut calls = CALLS.lock();
    if let Some(stamp) = stamp.filter(|_| remember) {
        calls.remember(stamp, true);
    }
    // Its FDEs need no more checks at lookup.
    let start = image.region.base;
    if let Some(e) = calls.list.iter_mut().find(|e| e.found.start == start && e.lazy.is_some()) {
        e.lazy = None;
        publish(&mut calls);
    }
    Ok(())
}

/// [`walk_whole`]'s checks: whether the result holds wherever the file is loaded.
fn walk_tables(m: &Module, image: &Image, hdr: usize, eh_frame: usize) -> crate::error::Result<bool> {
    let bad_hdr = |e| malformed(m, ".eh_frame_hdr", e);
    let header = search_table(&m.span, hdr).map_err(bad_hdr)?;
    // A count the readable segment cannot hold is refused below; it only sizes the list here.
    let expect = header.table.map_or(0, |(_, n)| n.min(m.span.room(hdr) / 8));
    let walked = walk(&m.span, &image.exec, eh_frame, expect).map_err(|e| malformed(m, ".eh_frame", e))?;
    if let Some(table) = header.table {
        check_search_table(&m.span, hdr, table, &walked.fdes).map_err(bad_hdr)?;
    }
    let written = |(lo, hi): (usize, usize)| image.writable.iter().any(|&(a, b)| lo < b && a < hi);
    Ok(!walked.moves && !header.moves && !written((eh_frame, walked.end)) && !written((hdr, header.end)))
}

/// The program headers `rl_iterate_phdr` gives for `m`, when they are not its own: its callbacks
/// may walk .eh_frame whole, so the first call that describes the object walks it
/// ([`walk_whole`]), and the headers of an object whose tables are malformed are given with
/// its PT_GNU_EH_FRAME as PT_NULL.
pub fn phdrs_for_iteration(m: &Module) -> Option<Vec<crate::raw::Phdr>> {
    let image = m.image.as_ref()?;
    image.eh_frame?;
    if image.unwind_checked.load(Ordering::Relaxed) == TABLE_ONLY {
        // A malformed table is recorded as such, and hidden below.
        let _ = walk_whole(m);
    }
    if image.unwind_checked.load(Ordering::Relaxed) != MALFORMED {
        return None;
    }
    let hide = |p: &crate::raw::Phdr| crate::raw::Phdr {
        p_type: if p.p_type == libc::PT_GNU_EH_FRAME { libc::PT_NULL } else { p.p_type },
        ..*p
    };
    Some(image._phdrs.iter().map(hide).collect())
}

/// Check what Arm's EHABI unwinder reads of an object's .ARM.exidx table (`n` entries at
/// `table`) when it unwinds a frame of the object: the entries in order of their functions, each
/// function inside the object's code (the last entry may mark the end of it), and each entry's
/// second word either "cannot unwind" (1), unwinding instructions in place (bit 31 set), or the
/// place of an .ARM.extab entry inside the object, whose personality routine, when it names one
/// (bit 31 clear), is code of the object (its PLT entry). Each word but "cannot unwind" is a
/// 31-bit offset from its own place.
fn check_exidx(span: &Span, exec: &[(usize, usize)], (table, n): (usize, usize)) -> Result<(), String> {
    let word = |at: usize| span.get::<u32>(at).copied().ok_or_else(|| format!("word at {at:#x} unreadable"));
    let prel31 = |at: usize, w: u32| at.wrapping_add(((w << 1) as i32 >> 1) as isize as usize);
    let code = |a: usize, end_ok: bool| exec.iter().any(|&(lo, hi)| a >= lo && (a < hi || (end_ok && a == hi)));
    let mut last = 0;
    for i in 0..n {
        let at = table + 8 * i;
        let (w0, w1) = (word(at)?, word(at + 4)?);
        let f = prel31(at, w0);
        if w0 & 1 << 31 != 0 || !code(f, i + 1 == n) {
            return Err(format!("entry {i}: function at {f:#x} outside the object's code"));
        }
        if f < last {
            return Err(format!("entry {i}: functions out of order"));
        }
        last = f;
        if w1 == 1 || w1 & 1 << 31 != 0 {
            continue;
        }
        let extab = prel31(at + 4, w1);
        let first = word(extab).map_err(|e| format!("entry {i}: .ARM.extab {e}"))?;
        if first & 1 << 31 == 0 && !code(prel31(extab, first), false) {
            return Err(format!("entry {i}: personality routine outside the object's code"));
        }
    }
    Ok(())
}

/// Register `m`'s frames with the unwinders defined by `providers`: only functions that are code
/// of their object, and never the object's own (it would call itself into being, and keep
/// itself alive). Its tables are walked whole first when an unwinder registers them.
pub fn register(m: &Module, providers: &[&Arc<Module>]) -> crate::error::Result<()> {
    let Some(image) = &m.image else { return Ok(()) };
    let reg_q = Query::new(b"__register_frame", None);
    let dereg_q = Query::new(b"__deregister_frame", None);
    let function = |p: &Module, q: &Query| {
        let s = p.symtab.sym(p.symtab.lookup(q)?)?;
        let addr = p.bias.wrapping_add(s.st_value as usize);
        (s.kind() == elf::abi::STT_FUNC && s.st_shndx != elf::abi::SHN_ABS && p.is_code(addr)).then_some(addr)
    };
    let unwinders: Vec<(usize, usize, &Arc<Module>)> = match image.eh_frame {
        None => Vec::new(),
        Some(_) => providers
            .iter()
            .filter(|p| p.id != m.id)
            .filter_map(|p| Some((function(p, &reg_q)?, function(p, &dereg_q)?, *p)))
            .filter(|(_, _, p)| !reads_table(p, providers))
            .collect(),
    };
    if !unwinders.is_empty() && image.unwind_checked.load(Ordering::Relaxed) != WALKED {
        walk_whole(m)?;
    }
    let mut calls = CALLS.lock();
    let start = image.region.base;
    let (eh_frame_hdr, eh_count) = match image.exidx {
        Some(exidx) => exidx,
        None => (image.eh_frame.map_or(0, |(hdr, _)| hdr), 0),
    };
    let found = Found { start, end: start + image.region.len, eh_frame_hdr, eh_count };
    let at = calls.list.partition_point(|o| o.found.start < start);
    if calls.list.get(at).map(|e| e.found) != Some(found) {
        calls.list.insert(at, Entry { found, lazy: lazy_of(m), id: m.id });
        publish(&mut calls);
    }
    let Some((_, eh_frame)) = image.eh_frame else { return Ok(()) };
    let mut done = image.unwinders.lock();
    for (reg, dereg, p) in unwinders {
        if done.iter().any(|(d, _)| *d == dereg) {
            continue;
        }
        // SAFETY: `__register_frame(void *)` of a loaded libgcc, given the object's .eh_frame,
        // which `walk_whole` validated and which stays mapped until `deregister` has run.
        unsafe { std::mem::transmute::<usize, extern "C" fn(usize)>(reg)(eh_frame) };
        done.push((dereg, Arc::clone(p)));
    }
    Ok(())
}

/// Undo [`register`] (when the object is unloaded, or at the latest unmapped). Drops the
/// references to the unwinders' objects, so objects going together never keep each other.
pub fn deregister(image: &Image) {
    let done: Vec<(usize, Arc<Module>)> = image.unwinders.lock().drain(..).collect();
    {
        let mut calls = CALLS.lock();
        let start = image.region.base;
        if let Some(at) = calls.list.iter().position(|o| o.found.start == start) {
            calls.list.remove(at);
            publish(&mut calls);
        }
        let Some((_, eh_frame)) = image.eh_frame else { return };
        for (dereg, _provider) in &done {
            // SAFETY: the matching `__deregister_frame`, in a library `done` holds mapped.
            unsafe { std::mem::transmute::<usize, extern "C" fn(usize)>(*dereg)(eh_frame) };
        }
    }
    // Only now may a provider go (its own unmapping calls back into this module).
    drop(done);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdr_decodes() {
        let mut buf = vec![0u8; 0x100];
        buf[..8].copy_from_slice(&[1, 0x1b, 3, 0x3b, 0x2c, 0, 0, 0]);
        buf[0x30] = 1;
        let base = buf.as_ptr() as usize;
        // SAFETY: the span covers the test's own buffer, alive for the whole test.
        let span = unsafe { Span::new(vec![(base, base + buf.len())]) };
        assert_eq!(eh_frame_from_hdr(&span, base), Some(base + 0x30));
    }

    /// A function loaded at a 4 GiB boundary: the low 32 bits of its address are zero, yet its
    /// FDE is a real one that the search table names (only a zero field marks a discarded FDE).
    #[test]
    fn fde_at_4gib_boundary() {
        let page = crate::os::page_size();
        let boundary = 0x5000_0000_0000usize;
        let region = crate::os::Region::reserve_in(2 * page, page, boundary - page, boundary + page).expect("reserve");
        assert_eq!(region.base, boundary - page);
        region.map_anon(region.base, 2 * page, crate::os::Prot::RW).expect("map");
        let table = region.base;
        // SAFETY: the first page is ours, mapped read-write just above.
        let buf = unsafe { std::slice::from_raw_parts_mut(table as *mut u8, page) };
        // .eh_frame at +0x40: a "zR" CIE (pcrel|sdata4), one FDE for [boundary, boundary + 16).
        let cie = [1u8, b'z', b'R', 0, 1, 0x78, 16, 1, 0x1b, 0, 0, 0];
        let eh = 0x40;
        buf[eh..eh + 4].copy_from_slice(&(4 + cie.len() as u32).to_le_bytes());
        buf[eh + 8..eh + 8 + cie.len()].copy_from_slice(&cie);
        let fde = eh + 8 + cie.len();
        buf[fde..fde + 4].copy_from_slice(&20u32.to_le_bytes());
        buf[fde + 4..fde + 8].copy_from_slice(&((fde + 4 - eh) as u32).to_le_bytes());
        let field = table + fde + 8;
        buf[fde + 8..fde + 12].copy_from_slice(&((boundary - field) as u32).to_le_bytes());
        buf[fde + 12..fde + 16].copy_from_slice(&16u32.to_le_bytes());
        // .eh_frame_hdr at +0: one search table entry, relative to the header.
        buf[..4].copy_from_slice(&[1, 0x1b, 0x03, PE_DATAREL_SDATA4]);
        buf[4..8].copy_from_slice(&((eh - 4) as u32).to_le_bytes());
        buf[8..12].copy_from_slice(&1u32.to_le_bytes());
        buf[12..16].copy_from_slice(&(page as u32).to_le_bytes());
        buf[16..20].copy_from_slice(&(fde as u32).to_le_bytes());
        // SAFETY: the span covers the test's own buffer, alive for the whole test.
        let span = unsafe { Span::new(vec![(table, table + page)]) };
        let exec = [(boundary, boundary + page)];
        assert_eq!(eh_frame_from_hdr(&span, table), Some(table + eh));
        let walked = walk(&span, &exec, table + eh, 1).expect("walk");
        assert_eq!(walked.fdes.iter().map(|f| (f.at, f.pc_begin)).collect::<Vec<_>>(), [(table + fde, boundary)]);
        let found = search_table(&span, table).expect("header").table.expect("a search table");
        check_search_table(&span, table, found, &walked.fdes).expect("the table names the FDE");
    }
}
