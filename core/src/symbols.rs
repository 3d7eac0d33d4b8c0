//! Dynamic symbol tables: GNU hash (with its Bloom filter), SysV hash, and symbol versions.
//!
//! One [`SymTab`] serves both the host's objects (read where the system loader mapped them) and
//! the objects relink maps itself. A [`Query`] carries a name with its hashes computed once, so
//! that walking a scope of many objects hashes the name a single time.

use crate::parse::DynInfo;
use crate::raw::{Span, StrTab, Sym, Verdaux, Verdef, Verneed, Vernaux};
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::ffi::CStr;
use elf::abi;
use once_cell::race::OnceBox;

/// A version a reference asks for, or a definition carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Version<'a> {
    pub name: &'a [u8],
    pub hash: u32,
}

impl<'a> Version<'a> {
    #[inline]
    pub fn new(name: &'a [u8]) -> Self {
        Version { name, hash: elf::hash::sysv_hash(name) }
    }

    /// [`Version::new`] for a name known at compile time, hashed by the compiler.
    pub const fn of_const(name: &'a [u8]) -> Self {
        let (mut h, mut i) = (0u32, 0);
        while i < name.len() {
            h = (h << 4).wrapping_add(name[i] as u32);
            h = (h ^ ((h & 0xf000_0000) >> 24)) & 0x0fff_ffff;
            i += 1;
        }
        Version { name, hash: h }
    }
}

/// A symbol name with its hashes, and the version wanted (if any).
#[derive(Clone, Copy, Debug)]
pub struct Query<'a> {
    pub name: &'a [u8],
    pub gnu: u32,
    pub version: Option<Version<'a>>,
    /// An explicit lookup (`rl_sym`, `rl_vsym`) rather than a relocation: an unversioned query
    /// takes the default (`@@`) version, and a versioned one only that exact version.
    pub explicit: bool,
}

impl<'a> Query<'a> {
    #[inline]
    pub fn new(name: &'a [u8], version: Option<Version<'a>>) -> Self {
        Query { name, gnu: gnu_hash(name), version, explicit: false }
    }

    /// [`Query::new`] for a name and version known at compile time, hashed by the compiler.
    pub const fn of_const(name: &'a [u8], version: Option<&'a [u8]>) -> Self {
        let mut h = 5381u32;
        let mut i = 0;
        while i < name.len() {
            h = mix_byte(h, name[i]);
            i += 1;
        }
        let version = match version {
            Some(v) => Some(Version::of_const(v)),
            None => None,
        };
        Query { name, gnu: h, version, explicit: false }
    }
}

/// The GNU hash of `name`, taking it 8 bytes at a time (the byte-wise multiply-add chain, with
/// the loop's own work once per word).
#[inline]
fn gnu_hash(name: &[u8]) -> u32 {
    let mut words = name.chunks_exact(8);
    let h = words.by_ref().fold(5381u32, |h, w| mix_word(h, u64::from_le_bytes(w.try_into().expect("8 bytes")), 8));
    words.remainder().iter().fold(h, |h, &c| mix_byte(h, c))
}

#[inline(always)]
const fn mix_byte(h: u32, c: u8) -> u32 {
    h.wrapping_mul(33).wrapping_add(c as u32)
}

/// Powers of 33: what `h` is multiplied by for `n` more bytes.
const POW33: [u32; 9] = {
    let mut p = [1u32; 9];
    let mut i = 1;
    while i < 9 {
        p[i] = p[i - 1].wrapping_mul(33);
        i += 1;
    }
    p
};

/// Hash the first `n` (at most 8) bytes in memory order of the little-endian word `w` into `h`:
/// the bytes are combined pairwise in lanes of the word (`33 * a + b`, then `33^2 * ab + cd`,
/// then `33^4 * abcd + efgh`), which gives the multiply-add chain's value in a few operations.
#[inline(always)]
fn mix_word(h: u32, w: u64, n: usize) -> u32 {
    if n == 0 {
        return h;
    }
    // The `n` bytes moved to the top of the word, zeros below them: a zero byte in front of the
    // others does not change the sum.
    let w = w << (64 - 8 * n);
    const BYTES: u64 = 0x00ff_00ff_00ff_00ff;
    const PAIRS: u64 = 0x0000_ffff_0000_ffff;
    // Each lane stays below its width: 255 * 33 + 255 < 2^16, 8670 * 33^2 + 8670 < 2^32.
    let pairs = (w & BYTES).wrapping_mul(33).wrapping_add((w >> 8) & BYTES);
    let quads = (pairs & PAIRS).wrapping_mul(33 * 33).wrapping_add((pairs >> 16) & PAIRS);
    let v = (quads as u32).wrapping_mul(POW33[4]).wrapping_add((quads >> 32) as u32);
    h.wrapping_mul(POW33[n]).wrapping_add(v)
}

/// The NUL-terminated string at the start of `tail` (without its NUL) and its GNU hash, found in
/// one pass that reads 8 bytes at a time; `None` when `tail` holds no NUL.
#[inline(always)]
fn hashed_cstr(tail: &[u8]) -> Option<(&[u8], u32)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut h = 5381u32;
    let mut words = tail.chunks_exact(8);
    let mut at = 0;
    for w in words.by_ref() {
        let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
        // The lowest byte flagged here is the first NUL (flags above it may be wrong).
        let zeros = w.wrapping_sub(ONES) & !w & HIGHS;
        if zeros != 0 {
            let n = zeros.trailing_zeros() as usize / 8;
            return Some((&tail[..at + n], mix_word(h, w, n)));
        }
        h = mix_word(h, w, 8);
        at += 8;
    }
    let rest = words.remainder();
    let n = rest.iter().position(|&c| c == 0)?;
    Some((&tail[..at + n], rest[..n].iter().fold(h, |h, &c| mix_byte(h, c))))
}

struct GnuHash {
    symoffset: u32,
    shift: u32,
    /// Bloom filter words, native words (ELFCLASS bits each).
    bloom: &'static [usize],
    buckets: &'static [u32],
    /// Indexed by `symidx - symoffset`.
    chain: &'static [u32],
}

struct SysvHash {
    buckets: &'static [u32],
    chains: &'static [u32],
}

/// A version an object defines: its name (a string-table offset, compared in place: a lookup
/// compares the names of the few definitions its candidates carry, and reading a table would
/// otherwise find the end of every name) and its hash.
#[derive(Clone, Copy)]
struct Def {
    name: u32,
    hash: u32,
}

/// A version an object needs: (version, file that should define it, weak, name offset).
type Need = (Version<'static>, &'static [u8], bool, u32);

/// A version table left to read the first time it is needed: the readable range it lies in,
/// its address and its number of entries.
#[derive(Clone, Copy)]
struct Unread {
    range: (usize, usize),
    at: usize,
    count: usize,
}

impl Unread {
    fn new(span: &Span, at: Option<usize>, count: usize) -> Option<Unread> {
        at.and_then(|at| Some(Unread { range: span.range_of(at)?, at, count }))
    }

    fn read<T>(u: Option<Unread>, strtab: &StrTab, read: impl FnOnce(&StrTab, &Span, usize, usize) -> Option<Vec<T>>) -> Vec<T> {
        // SAFETY: `u.range` is one range of the span the table was read from (`Unread::new`),
        // readable as long as the table is used.
        u.and_then(|u| read(strtab, &unsafe { Span::new(vec![u.range]) }, u.at, u.count)).unwrap_or_default()
    }
}

/// The value of `cell`, made by `make` the first time. Lookups read version tables: making one
/// is kept out of their way.
#[inline(always)]
fn once<T>(cell: &OnceBox<T>, make: impl FnOnce() -> T) -> &T {
    #[cold]
    #[inline(never)]
    fn first<T>(cell: &OnceBox<T>, make: impl FnOnce() -> T) -> &T {
        cell.get_or_init(|| Box::new(make()))
    }
    match cell.get() {
        Some(v) => v,
        None => first(cell, make),
    }
}

/// The dynamic symbol table of one object.
pub struct SymTab {
    syms: &'static [Sym],
    pub strtab: StrTab,
    gnu: Option<GnuHash>,
    sysv: Option<SysvHash>,
    versym: Option<&'static [u16]>,
    /// Version definitions by index (`vd_ndx`); `None` where the index defines nothing.
    defs: OnceBox<Vec<Option<Def>>>,
    /// Versions this object needs, by index (`vna_other`): the version, the file that should
    /// provide it, whether the need is weak, and the version name's string-table offset.
    needs: OnceBox<Vec<Option<Need>>>,
    /// For tables read in place (the host's objects): where the version definitions and needs
    /// lie, read on first use (most of the host's objects never need theirs).
    unread: [Option<Unread>; 2],
    /// Set for the program: an undefined function symbol with a value is the canonical address
    /// of the function (a PLT entry of a non-PIE program that takes the function's address), which
    /// every reference in the process must get, as with glibc.
    pub canonical_plt: bool,
}

impl SymTab {
    /// Build the table from a parsed dynamic section. Every range is checked against `span`.
    /// The hash tables tell how many symbols can be looked up; `in_use` (known from elsewhere)
    /// may extend that to symbols only relocations refer to.
    pub fn new(d: &DynInfo, span: &Span, in_use: usize) -> Result<SymTab, String> {
        let mut t = Self::without_versions(d, span, in_use)?;
        let defs = match d.verdef {
            Some(a) => read_verdefs(&t.strtab, span, a, d.verdefnum, true).ok_or("version definitions out of bounds")?,
            None => Vec::new(),
        };
        let needs = match d.verneed {
            Some(a) => read_verneeds(&t.strtab, span, a, d.verneednum).ok_or("version needs out of bounds")?,
            None => Vec::new(),
        };
        t.defs = OnceBox::with_value(Box::new(defs));
        t.needs = OnceBox::with_value(Box::new(needs));
        Ok(t)
    }

    /// [`SymTab::new`] for an object the system loader mapped and vouched for: its version
    /// tables are read the first time a lookup or a caller needs them (tables out of bounds then
    /// read as none).
    pub fn new_in_place(d: &DynInfo, span: &Span) -> Result<SymTab, String> {
        let mut t = Self::without_versions(d, span, 0)?;
        t.unread = [Unread::new(span, d.verdef, d.verdefnum), Unread::new(span, d.verneed, d.verneednum)];
        Ok(t)
    }

    fn without_versions(d: &DynInfo, span: &Span, in_use: usize) -> Result<SymTab, String> {
        let strtab = StrTab(span.slice::<u8>(d.strtab, d.strsz).ok_or("string table out of bounds")?);
        let sysv = match d.hash {
            Some(a) => Some(read_sysv(span, a).ok_or("SysV hash table out of bounds")?),
            None => None,
        };
        let gnu = match d.gnu_hash {
            Some(a) => Some(read_gnu(span, a, sysv.as_ref().map(|s| s.chains.len())).ok_or("GNU hash table out of bounds")?),
            None => None,
        };
        let hashed = if let Some(s) = &sysv {
            s.chains.len()
        } else if let Some(g) = &gnu {
            g.symoffset as usize + g.chain.len()
        } else {
            0
        };
        let nsyms = hashed.max(in_use);
        let syms = if nsyms == 0 {
            &[][..]
        } else {
            span.slice::<Sym>(d.symtab, nsyms).ok_or("symbol table out of bounds")?
        };
        let versym = match d.versym {
            Some(a) => Some(span.slice::<u16>(a, nsyms).ok_or("version symbol table out of bounds")?),
            None => None,
        };
        let (defs, needs) = (OnceBox::new(), OnceBox::new());
        Ok(SymTab { syms, strtab, gnu, sysv, versym, defs, needs, unread: [None; 2], canonical_plt: false })
    }

    /// Version definitions by index.
    #[inline]
    fn defs(&self) -> &[Option<Def>] {
        let read = |strtab: &StrTab, span: &Span, at, count| read_verdefs(strtab, span, at, count, false);
        once(&self.defs, || Unread::read(self.unread[0], &self.strtab, read)).as_slice()
    }

    /// Versions needed, by index.
    #[inline]
    fn needs(&self) -> &[Option<Need>] {
        once(&self.needs, || Unread::read(self.unread[1], &self.strtab, read_verneeds)).as_slice()
    }

    #[inline]
    pub fn len(&self) -> usize {
        self.syms.len()
    }

    /// Whether the hash tables tell how many symbols there are: a SysV table always does (one
    /// chain entry per symbol), a GNU table when it hashes something (every symbol from its
    /// first hashed one to the end of the table is hashed). A GNU table that hashes nothing
    /// tells nothing: GNU ld writes `symoffset` 1 then, whatever the object imports.
    pub fn counts_all(&self) -> bool {
        self.sysv.is_some() || self.gnu.as_ref().is_some_and(|g| !g.chain.is_empty())
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.syms.is_empty()
    }

    #[inline]
    pub fn sym(&self, idx: u32) -> Option<&'static Sym> {
        self.syms.get(idx as usize)
    }

    #[inline]
    pub fn name(&self, sym: &Sym) -> &'static [u8] {
        self.strtab.get(sym.st_name).unwrap_or(b"")
    }

    /// A query for the name of `sym` (hashed while its end is found), asking for `version`.
    /// Inlined into the binding path, which returns the query's parts in registers.
    #[inline(always)]
    pub fn name_query(&self, sym: &Sym, version: Option<Version<'static>>) -> Query<'static> {
        let named = self.strtab.0.get(sym.st_name as usize..).and_then(hashed_cstr);
        let (name, gnu) = named.unwrap_or((b"", gnu_hash(b"")));
        Query { name, gnu, version, explicit: false }
    }

    /// The name of `sym` as a C string.
    pub fn name_cstr(&self, sym: &Sym) -> &'static CStr {
        self.strtab.get_cstr(sym.st_name).unwrap_or(c"")
    }

    /// What a reference through symbol `idx` asks for: (version, provider, weak, name offset).
    #[inline]
    fn need_of(&self, idx: u32) -> Option<Need> {
        let ndx = *self.versym?.get(idx as usize)? as usize & 0x7fff;
        self.needs().get(ndx).copied().flatten()
    }

    /// The name of the version a reference through symbol `idx` asks for, as a C string.
    pub fn needed_version_cstr(&self, idx: u32) -> Option<&'static CStr> {
        self.need_of(idx).and_then(|(.., off)| self.strtab.get_cstr(off))
    }

    /// The version a reference through symbol `idx` of this object asks for, if any.
    #[inline]
    pub fn needed_version(&self, idx: u32) -> Option<Version<'static>> {
        self.need_of(idx).map(|(v, ..)| v)
    }

    /// The file a reference through symbol `idx` takes its version from (its DT_VERNEED entry's
    /// file name), if the reference is versioned.
    pub fn needed_from(&self, idx: u32) -> Option<&'static [u8]> {
        self.need_of(idx).map(|(_, file, ..)| file)
    }

    /// Every version this object needs: (version, file that should define it, weak).
    pub fn needed_versions(&self) -> impl Iterator<Item = (Version<'static>, &'static [u8], bool)> + '_ {
        self.needs().iter().flatten().map(|&(v, file, weak, _)| (v, file, weak))
    }

    /// Whether a defined symbol is a candidate at all (not undefined, not local, a data/code kind).
    #[inline]
    fn is_definition(sym: &Sym) -> bool {
        if sym.st_shndx == abi::SHN_UNDEF || (sym.st_value == 0 && sym.kind() != abi::STT_TLS && sym.st_shndx != abi::SHN_ABS) {
            return false;
        }
        if !matches!(sym.bind(), abi::STB_GLOBAL | abi::STB_WEAK | abi::STB_GNU_UNIQUE) {
            return false;
        }
        matches!(
            sym.kind(),
            abi::STT_NOTYPE | abi::STT_OBJECT | abi::STT_FUNC | abi::STT_COMMON | abi::STT_TLS | abi::STT_GNU_IFUNC
        )
    }

    /// An undefined function symbol with a value: a canonical PLT entry (see `canonical_plt`).
    #[inline]
    fn is_canonical_plt(sym: &Sym) -> bool {
        sym.st_shndx == abi::SHN_UNDEF
            && sym.st_value != 0
            && sym.kind() == abi::STT_FUNC
            && matches!(sym.bind(), abi::STB_GLOBAL | abi::STB_WEAK)
    }

    /// glibc's version check for a candidate definition at `idx`. The unversioned case is
    /// inlined into the chain walks; a versioned one reads the version definitions.
    #[inline(always)]
    fn version_ok(&self, idx: usize, q: &Query) -> bool {
        let Some(versym) = self.versym else { return true };
        let raw = versym[idx];
        let ndx = (raw & 0x7fff) as usize;
        let hidden = raw & 0x8000 != 0;
        match q.version {
            Some(want) => self.version_is(ndx, hidden, q.explicit, &want),
            // An unversioned reference takes an unversioned definition, or the default version.
            None => {
                if ndx < if q.explicit { 2 } else { 3 } {
                    true
                } else {
                    !hidden
                }
            }
        }
    }

    /// Whether a candidate definition of version index `ndx` (`hidden`: not the default
    /// version) satisfies a reference asking for `want`.
    #[inline(never)]
    fn version_is(&self, ndx: usize, hidden: bool, explicit: bool, want: &Version) -> bool {
        match self.defs().get(ndx).copied().flatten() {
            Some(have) => self.is(have, want),
            // Index 0/1 (or a gap): an unversioned definition satisfies a versioned reference
            // from a relocation (as in glibc), not an explicit request for that version.
            None => !hidden && !explicit,
        }
    }

    /// Inlined into the chain walks, which call it for every candidate whose hash matches.
    #[inline(always)]
    fn check(&self, idx: usize, q: &Query) -> bool {
        let sym = &self.syms[idx];
        (Self::is_definition(sym) || (self.canonical_plt && Self::is_canonical_plt(sym)))
            && self.strtab.eq(sym.st_name, q.name)
            && self.version_ok(idx, q)
    }

    /// Find the definition matching `q`, returning its index. The Bloom filter test is inlined
    /// into the caller: most objects of a scope are rejected by it.
    #[inline(always)]
    pub fn lookup(&self, q: &Query) -> Option<u32> {
        if let Some(g) = &self.gnu {
            let h = q.gnu;
            // The Bloom filter's size is a power of two (checked when the table was read).
            const BITS: u32 = usize::BITS;
            let word = g.bloom[(h / BITS) as usize & (g.bloom.len() - 1)];
            let mask = (1usize << (h % BITS)) | (1usize << ((h >> g.shift) % BITS));
            if word & mask != mask {
                return None;
            }
        }
        self.lookup_past_bloom(q)
    }

    #[inline(never)]
    fn lookup_past_bloom(&self, q: &Query) -> Option<u32> {
        if let Some(g) = &self.gnu {
            let h = q.gnu;
            if g.buckets.is_empty() {
                return None;
            }
            let mut idx = g.buckets[h as usize % g.buckets.len()];
            if idx < g.symoffset {
                return None;
            }
            loop {
                let c = *g.chain.get((idx - g.symoffset) as usize)?;
                if (c | 1) == (h | 1) && (idx as usize) < self.syms.len() && self.check(idx as usize, q) {
                    return Some(idx);
                }
                if c & 1 != 0 {
                    return None;
                }
                idx = idx.checked_add(1)?;
            }
        } else if let Some(s) = &self.sysv {
            if s.buckets.is_empty() {
                return None;
            }
            let mut idx = s.buckets[elf::hash::sysv_hash(q.name) as usize % s.buckets.len()];
            let mut steps = 0;
            while idx != 0 && (idx as usize) < self.syms.len() && steps <= self.syms.len() {
                if self.check(idx as usize, q) {
                    return Some(idx);
                }
                // The table may count fewer symbols than .dynsym holds: its chains end there.
                idx = *s.chains.get(idx as usize)?;
                steps += 1;
            }
            None
        } else {
            None
        }
    }

    /// What an explicit unversioned lookup (`rl_sym`) of symbol `idx`'s name finds in this
    /// object, when `idx` is a definition such a lookup may find at all.
    pub fn explicit_answer(&self, idx: u32) -> Option<u32> {
        let sym = self.syms.get(idx as usize)?;
        if sym.st_name == 0 || !(Self::is_definition(sym) || (self.canonical_plt && Self::is_canonical_plt(sym))) {
            return None;
        }
        let mut q = Query::new(self.name(sym), None);
        q.explicit = true;
        self.lookup(&q)
    }

    /// Every defined, exported symbol index (for pin checks and introspection).
    pub fn definitions(&self) -> impl Iterator<Item = (u32, &'static Sym)> + '_ {
        self.syms.iter().enumerate().filter(|(_, s)| Self::is_definition(s)).map(|(i, s)| (i as u32, s))
    }

    /// The symbols that name an address of the object, for `rl_addr`: its exported definitions,
    /// and the local functions and objects a linked unit lists too (a shared library's dynamic
    /// symbol table has none).
    pub fn addressable(&self) -> impl Iterator<Item = &'static Sym> + '_ {
        self.syms.iter().filter(|s| {
            Self::is_definition(s)
                || (s.bind() == abi::STB_LOCAL
                    && s.st_shndx != abi::SHN_UNDEF
                    && s.st_name != 0
                    && matches!(s.kind(), abi::STT_FUNC | abi::STT_OBJECT | abi::STT_GNU_IFUNC))
        })
    }

    /// Whether symbol `idx` is what an unversioned lookup finds (unversioned, or the default
    /// `@@` version).
    #[inline]
    pub fn is_default_version(&self, idx: u32) -> bool {
        self.versym.and_then(|v| v.get(idx as usize)).is_none_or(|&x| x & 0x8000 == 0)
    }

    /// The version definition `idx` carries (None: unversioned, or the object's base version).
    #[inline]
    pub fn defined_version(&self, idx: u32) -> Option<Version<'static>> {
        let ndx = *self.versym?.get(idx as usize)? as usize & 0x7fff;
        let d = self.defs().get(ndx).copied().flatten()?;
        Some(Version { name: self.strtab.get(d.name)?, hash: d.hash })
    }

    /// The index of `sym`, one of this table's symbols.
    pub fn index_of(&self, sym: &Sym) -> Option<u32> {
        self.syms.iter().position(|s| core::ptr::eq(s, sym)).map(|i| i as u32)
    }

    /// The object's references to symbols of other objects: its undefined symbols, by index.
    pub fn references(&self) -> impl Iterator<Item = (u32, &'static Sym)> + '_ {
        let syms = self.syms;
        syms.iter().enumerate().skip(1).filter(|(_, s)| s.st_shndx == abi::SHN_UNDEF).map(|(i, s)| (i as u32, s))
    }

    /// Whether the object defines the version `v` at all.
    pub fn defines_version(&self, v: &Version) -> bool {
        self.defs().iter().flatten().any(|&d| self.is(d, v))
    }

    /// Whether definition `d` is version `v`.
    #[inline]
    fn is(&self, d: Def, v: &Version) -> bool {
        d.hash == v.hash && self.strtab.eq(d.name, v.name)
    }
}

/// Version definitions by index (`vd_ndx`), `None` where an index defines nothing.
/// `check_names`: whether every name must be a string of `strtab` (for the objects relink maps;
/// the system loader vouched for the others, whose names are only compared in place).
fn read_verdefs(strtab: &StrTab, span: &Span, mut at: usize, count: usize, check_names: bool) -> Option<Vec<Option<Def>>> {
    // Indexes usually run from 1 to `count`: sized once (entries stay `None` until defined).
    let mut defs = vec![None; count.min(1 << 12) + 1];
    for _ in 0..count {
        let vd: &Verdef = span.get(at)?;
        let aux: &Verdaux = span.get(at.checked_add(vd.vd_aux as usize)?)?;
        if check_names {
            strtab.get(aux.vda_name)?;
        }
        let mut ndx = vd.vd_ndx as usize & 0x7fff;
        // The base definition (the object's own name) is no version a symbol can ask for.
        if vd.vd_flags & abi::VER_FLG_BASE != 0 {
            ndx = 0;
        }
        if ndx != 0 && defs.len() <= ndx {
            defs.resize(ndx + 1, None);
        }
        if ndx != 0 {
            defs[ndx] = Some(Def { name: aux.vda_name, hash: vd.vd_hash });
        }
        if vd.vd_next == 0 {
            break;
        }
        at = at.checked_add(vd.vd_next as usize)?;
    }
    Some(defs)
}

/// Versions needed by index (`vna_other`).
fn read_verneeds(strtab: &StrTab, span: &Span, mut at: usize, count: usize) -> Option<Vec<Option<Need>>> {
    let mut needs = Vec::new();
    for _ in 0..count {
        let vn: &Verneed = span.get(at)?;
        let file = strtab.get(vn.vn_file)?;
        let mut aux_at = at.checked_add(vn.vn_aux as usize)?;
        for _ in 0..vn.vn_cnt {
            let a: &Vernaux = span.get(aux_at)?;
            let ndx = a.vna_other as usize & 0x7fff;
            if needs.len() <= ndx {
                needs.resize(ndx + 1, None);
            }
            let weak = a.vna_flags & abi::VER_FLG_WEAK != 0;
            let v = Version { name: strtab.get(a.vna_name)?, hash: a.vna_hash };
            needs[ndx] = Some((v, file, weak, a.vna_name));
            if a.vna_next == 0 {
                break;
            }
            aux_at = aux_at.checked_add(a.vna_next as usize)?;
        }
        if vn.vn_next == 0 {
            break;
        }
        at = at.checked_add(vn.vn_next as usize)?;
    }
    Some(needs)
}

/// `nsyms`, when a SysV table tells the symbol count, spares the walk that finds the chain's end.
fn read_gnu(span: &Span, at: usize, nsyms: Option<usize>) -> Option<GnuHash> {
    let hdr = span.slice::<u32>(at, 4)?;
    let (nbuckets, symoffset, bloom_size, shift) = (hdr[0] as usize, hdr[1], hdr[2] as usize, hdr[3]);
    let bloom_at = at.checked_add(16)?;
    if !bloom_size.is_power_of_two() {
        return None;
    }
    let bloom = span.slice::<usize>(bloom_at, bloom_size)?;
    let buckets_at = bloom_at.checked_add(bloom_size.checked_mul(crate::raw::WORD)?)?;
    let buckets = span.slice::<u32>(buckets_at, nbuckets)?;
    // The chain's length is found by walking from the highest bucket to its end marker.
    let chain_at = buckets_at.checked_add(nbuckets.checked_mul(4)?)?;
    if let Some(chain) = nsyms.and_then(|n| n.checked_sub(symoffset as usize)).and_then(|n| span.slice::<u32>(chain_at, n)) {
        return Some(GnuHash { symoffset, shift: shift % 32, bloom, buckets, chain });
    }
    // (A plain fold: `max()` goes through `Ordering` and costs several instructions per bucket.)
    let max = buckets.iter().fold(0, |m, &b| m.max(b));
    let mut len = 0usize;
    if max >= symoffset {
        let all = span.rest(chain_at)?;
        let words = all.len() / 4;
        let mut i = (max - symoffset) as usize;
        loop {
            if i >= words {
                return None;
            }
            let w = u32::from_le_bytes(all[i * 4..i * 4 + 4].try_into().ok()?);
            if w & 1 != 0 {
                break;
            }
            i += 1;
        }
        len = i + 1;
    }
    let chain = span.slice::<u32>(chain_at, len)?;
    Some(GnuHash { symoffset, shift: shift % 32, bloom, buckets, chain })
}

fn read_sysv(span: &Span, at: usize) -> Option<SysvHash> {
    let hdr = span.slice::<u32>(at, 2)?;
    let (nbucket, nchain) = (hdr[0] as usize, hdr[1] as usize);
    let buckets_at = at.checked_add(8)?;
    let buckets = span.slice::<u32>(buckets_at, nbucket)?;
    let chains = span.slice::<u32>(buckets_at.checked_add(nbucket.checked_mul(4)?)?, nchain)?;
    Some(SysvHash { buckets, chains })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gnu_hash_matches_the_reference_values() {
        assert_eq!(gnu_hash(b""), 5381);
        assert_eq!(gnu_hash(b"printf"), 0x156b2bb8);
        assert_eq!(gnu_hash(b"exit"), elf::hash::gnu_hash(b"exit"));
    }

    #[test]
    fn compile_time_hashes_match_the_run_time_ones() {
        for name in [&b""[..], b"dl_iterate_phdr", b"GLIBC_2.2.5", b"\xff\x80longer than eight bytes"] {
            let q = Query::of_const(name, Some(name));
            assert_eq!(q.gnu, gnu_hash(name));
            assert_eq!(q.version, Some(Version::new(name)));
        }
        assert_eq!(Query::of_const(b"x", None).version, None);
    }

    #[test]
    fn names_are_hashed_while_their_end_is_found() {
        let text: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).chain([0xff, 0x80, 0x01]).collect();
        for len in 0..text.len() {
            let name = &text[..len];
            assert_eq!(gnu_hash(name), elf::hash::gnu_hash(name), "length {len}");
            for pad in 0..10 {
                let mut table = name.to_vec();
                table.push(0);
                table.extend(std::iter::repeat_n(0x80, pad));
                assert_eq!(hashed_cstr(&table), Some((name, elf::hash::gnu_hash(name))), "length {len}, pad {pad}");
            }
            assert_eq!(hashed_cstr(name), None, "no NUL, length {len}");
        }
    }

    use crate::raw::WORD;
    use std::string::ToString;
    use std::vec;

    /// An object's dynamic tables laid out in one buffer (aligned for native words), as a
    /// linker would write them.
    struct Tables {
        bytes: Vec<u8>,
    }

    impl Tables {
        /// Append `b` at the next multiple of 8 bytes; its offset.
        fn put(&mut self, b: &[u8]) -> usize {
            self.bytes.resize(self.bytes.len().next_multiple_of(8), 0);
            self.bytes.extend_from_slice(b);
            self.bytes.len() - b.len()
        }
    }

    fn words32(w: &[u32]) -> Vec<u8> {
        w.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    fn word(v: u64) -> Vec<u8> {
        v.to_le_bytes()[..WORD].to_vec()
    }

    /// A symbol of the native class: name offset, `st_info`, section, value.
    fn sym(name: u32, info: u8, shndx: u16, value: u64) -> Vec<u8> {
        let mut b = name.to_le_bytes().to_vec();
        let tail = [info, 0, shndx as u8, (shndx >> 8) as u8];
        if WORD == 8 {
            b.extend_from_slice(&tail);
            b.extend(word(value).into_iter().chain(word(4)));
        } else {
            b.extend(word(value).into_iter().chain(word(4)));
            b.extend_from_slice(&tail);
        }
        b
    }

    const FUNC: u8 = abi::STB_GLOBAL << 4 | abi::STT_FUNC;

    /// The symbols: (name, defined, version index). Index 0 is the null symbol.
    const SYMS: &[(&str, bool, u16)] = &[
        ("", false, 0),
        ("malloc", false, 0),
        ("foo", true, 1),
        ("bar", true, 1),
        ("a_name_longer_than_a_word", true, 1),
        ("vers", true, 2),
        ("vers", true, 0x8000 | 3),
        ("only_old", true, 0x8000 | 3),
    ];

    /// The object's base version and two versions: 2 (`V2`, the default) and 3 (`V1`).
    const VERSIONS: &[(u16, u16, &str)] = &[(1, abi::VER_FLG_BASE, "libt.so"), (2, 0, "V2"), (3, 0, "V1")];

    /// Lay the tables out with a GNU hash table, a SysV one, or both; the dynamic section's
    /// view of them and the buffer they are in (which must outlive the table).
    fn tables(gnu: bool, sysv: bool) -> (DynInfo, Span, Vec<u64>) {
        // The hashed symbols (from index 2 on, after the undefined one) in bucket order, as GNU
        // hash tables need them.
        const NBUCKETS: u32 = 3;
        const SYMOFFSET: usize = 2;
        let mut order: Vec<usize> = (SYMOFFSET..SYMS.len()).collect();
        order.sort_by_key(|&i| gnu_hash(SYMS[i].0.as_bytes()) % NBUCKETS);
        let order: Vec<usize> = (0..SYMOFFSET).chain(order).collect();
        let syms: Vec<(&str, bool, u16)> = order.iter().map(|&i| SYMS[i]).collect();

        let mut t = Tables { bytes: Vec::new() };
        let mut strtab = vec![0u8];
        let mut string = |s: &str| {
            strtab.extend_from_slice(s.as_bytes());
            strtab.push(0);
            (strtab.len() - s.len() - 1) as u32
        };
        let names: Vec<u32> = syms.iter().map(|s| string(s.0)).collect();
        let version_names: Vec<u32> = VERSIONS.iter().map(|v| string(v.2)).collect();
        let strtab_at = t.put(&strtab);
        let symtab: Vec<u8> = syms
            .iter()
            .zip(&names)
            .enumerate()
            .flat_map(|(i, (s, &n))| if i == 0 { sym(0, 0, 0, 0) } else { sym(n, FUNC, if s.1 { 7 } else { 0 }, if s.1 { 0x1000 + i as u64 } else { 0 }) })
            .collect();
        let symtab_at = t.put(&symtab);
        let versym: Vec<u8> = syms.iter().flat_map(|s| s.2.to_le_bytes()).collect();
        let versym_at = t.put(&versym);
        // Verdef (20 bytes) then its Verdaux (8 bytes), for each version.
        let mut verdef = Vec::new();
        for (i, (&(ndx, flags, name), &off)) in VERSIONS.iter().zip(&version_names).enumerate() {
            let next = if i + 1 < VERSIONS.len() { 28 } else { 0 };
            let head = [1, flags, ndx, 1];
            verdef.extend(head.iter().flat_map(|h: &u16| h.to_le_bytes()));
            verdef.extend(words32(&[elf::hash::sysv_hash(name.as_bytes()), 20, next, off, 0]));
        }
        let verdef_at = t.put(&verdef);

        let hash = |s: &str| gnu_hash(s.as_bytes());
        let gnu_at = gnu.then(|| {
            let (bloom_words, shift) = (2u32, 6u32);
            let mut bloom = vec![0u64; bloom_words as usize];
            let mut buckets = vec![0u32; NBUCKETS as usize];
            let mut chain = Vec::new();
            for (i, s) in syms.iter().enumerate().skip(SYMOFFSET) {
                let h = hash(s.0);
                let bits = usize::BITS;
                bloom[(h / bits % bloom_words) as usize] |= 1 << (h % bits) | 1 << ((h >> shift) % bits);
                let b = (h % NBUCKETS) as usize;
                if buckets[b] == 0 {
                    buckets[b] = i as u32;
                }
                let last = syms.get(i + 1).is_none_or(|n| hash(n.0) % NBUCKETS != b as u32);
                chain.push(h & !1 | last as u32);
            }
            let mut b = words32(&[NBUCKETS, SYMOFFSET as u32, bloom_words, shift]);
            b.extend(bloom.iter().flat_map(|&w| word(w)));
            b.extend(words32(&buckets));
            b.extend(words32(&chain));
            t.put(&b)
        });
        let sysv_at = sysv.then(|| {
            let mut buckets = vec![0u32; 2];
            let mut chains = vec![0u32; syms.len()];
            for (i, s) in syms.iter().enumerate().skip(1) {
                let b = (elf::hash::sysv_hash(s.0.as_bytes()) % 2) as usize;
                chains[i] = buckets[b];
                buckets[b] = i as u32;
            }
            let mut b = words32(&[2, syms.len() as u32]);
            b.extend(words32(&buckets).into_iter().chain(words32(&chains)));
            t.put(&b)
        });

        let mut memory = vec![0u64; t.bytes.len().div_ceil(8)];
        for (w, b) in memory.iter_mut().zip(t.bytes.chunks(8)) {
            let mut le = [0u8; 8];
            le[..b.len()].copy_from_slice(b);
            *w = u64::from_le_bytes(le);
        }
        let base = memory.as_ptr() as usize;
        let d = DynInfo {
            strtab: base + strtab_at,
            strsz: strtab.len(),
            symtab: base + symtab_at,
            hash: sysv_at.map(|a| base + a),
            gnu_hash: gnu_at.map(|a| base + a),
            versym: Some(base + versym_at),
            verdef: Some(base + verdef_at),
            verdefnum: VERSIONS.len(),
            ..DynInfo::default()
        };
        // SAFETY: the span covers `memory`, which the test keeps alive with the span.
        (d, unsafe { Span::new(vec![(base, base + t.bytes.len())]) }, memory)
    }

    /// What a lookup of `name` (at `version`, explicit or not) finds: the symbol's name and the
    /// version it defines.
    fn find(t: &SymTab, name: &str, version: Option<&str>, explicit: bool) -> Option<(String, Option<String>)> {
        let mut q = Query::new(name.as_bytes(), version.map(|v| Version::new(v.as_bytes())));
        q.explicit = explicit;
        let idx = t.lookup(&q)?;
        let found = String::from_utf8(t.name(t.sym(idx)?).to_vec()).ok()?;
        Some((found, t.defined_version(idx).map(|v| String::from_utf8(v.name.to_vec()).unwrap())))
    }

    fn lookups(t: &SymTab) {
        let some = |name: &str, v: Option<&str>| Some((name.to_string(), v.map(str::to_string)));
        assert_eq!(t.len(), SYMS.len());
        for name in ["foo", "bar", "a_name_longer_than_a_word"] {
            assert_eq!(find(t, name, None, false), some(name, None), "{name}");
            assert_eq!(find(t, name, None, true), some(name, None), "{name}");
        }
        for name in ["malloc", "fo", "foo2", "a_name_longer_than_a_wor", "nothing"] {
            assert_eq!(find(t, name, None, false), None, "{name}: undefined or absent");
        }
        // An unversioned lookup finds the default version, never a hidden one.
        assert_eq!(find(t, "vers", None, true), some("vers", Some("V2")));
        assert_eq!(find(t, "only_old", None, true), None);
        assert_eq!(find(t, "vers", Some("V1"), false), some("vers", Some("V1")));
        assert_eq!(find(t, "vers", Some("V2"), true), some("vers", Some("V2")));
        assert_eq!(find(t, "vers", Some("V3"), false), None);
        // An unversioned definition satisfies a versioned reference, not an explicit request.
        assert_eq!(find(t, "foo", Some("V1"), false), some("foo", None));
        assert_eq!(find(t, "foo", Some("V1"), true), None);
        assert!(t.defines_version(&Version::new(b"V1")) && !t.defines_version(&Version::new(b"libt.so")));
        assert_eq!(t.references().map(|(_, s)| t.name(s)).collect::<Vec<_>>(), [&b"malloc"[..]]);
        assert_eq!(t.definitions().count(), SYMS.len() - 2);
    }

    #[test]
    fn gnu_and_sysv_tables_looked_up() {
        for (gnu, sysv) in [(true, false), (false, true), (true, true)] {
            let (d, span, _memory) = tables(gnu, sysv);
            lookups(&SymTab::new(&d, &span, 0).unwrap());
            // Read in place, the version tables are read on first use.
            lookups(&SymTab::new_in_place(&d, &span).unwrap());
        }
    }

    #[test]
    fn tables_out_of_bounds_refused() {
        let (d, span, _memory) = tables(true, true);
        let refused = |d: &DynInfo| SymTab::new(d, &span, 0).err();
        assert_eq!(refused(&DynInfo { strsz: 1 << 20, ..d.clone() }).as_deref(), Some("string table out of bounds"));
        assert_eq!(refused(&DynInfo { symtab: d.symtab + 1, ..d.clone() }).as_deref(), Some("symbol table out of bounds"));
        assert_eq!(refused(&DynInfo { gnu_hash: Some(span.ranges()[0].1 - 8), ..d.clone() }).as_deref(), Some("GNU hash table out of bounds"));
        assert_eq!(refused(&DynInfo { hash: Some(span.ranges()[0].1 - 4), ..d.clone() }).as_deref(), Some("SysV hash table out of bounds"));
        assert_eq!(refused(&DynInfo { verdef: Some(span.ranges()[0].1 - 8), ..d.clone() }).as_deref(), Some("version definitions out of bounds"));
        // More symbols in use than the hash tables count, past the end of the tables.
        assert_eq!(SymTab::new(&d, &span, 1 << 16).err().as_deref(), Some("symbol table out of bounds"));
    }
}
