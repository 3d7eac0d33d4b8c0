//! Finding the file behind a `DT_NEEDED` entry or an `rl_open` name.
//!
//! The rules are those of glibc's dynamic loader as shipped in Debian 12
//! (glibc 2.36, multiarch layout; the machine's directory names, cache
//! flags and capability subdirectories come from `src/arch/`):
//!
//! * A name that contains a `/` is a path. Its dynamic string tokens are
//!   expanded and the result is tried, nothing else.
//! * Otherwise these directories are tried in order: the `DT_RPATH` chain
//!   (only when the requester has no `DT_RUNPATH`), `LD_LIBRARY_PATH`, the
//!   requester's `DT_RUNPATH`, then the entry for the name in
//!   `/etc/ld.so.cache`, then the system directories.
//! * In every directory the loader first looks into the capability
//!   subdirectories that apply to this CPU (`glibc-hwcaps/x86-64-v4/` ...
//!   `glibc-hwcaps/x86-64-v2/`, then the legacy `tls/` and platform
//!   combinations), then into the directory itself. Subdirectory groups that
//!   do not exist are skipped with a single `stat` each, which keeps the
//!   order of the remaining candidates unchanged.
//!
//! Not modelled: `DF_1_NODEFLIB`, `GLIBC_TUNABLES`, `LD_HWCAP_MASK`, and
//! glibc's numeric comparison of version digits when matching cache keys
//! (keys are matched byte for byte).

use std::ffi::OsStr;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use once_cell::sync::Lazy;

use crate::{arch, os};

/// What `$LIB` expands to (Debian's multiarch directory).
const DST_LIB: &[u8] = concat!("lib/", arch::multiarch!()).as_bytes();

/// The system search directories, in glibc's order.
const DEFAULT_DIRS: [&[u8]; 4] = [
    concat!("/lib/", arch::multiarch!(), "/").as_bytes(),
    concat!("/usr/lib/", arch::multiarch!(), "/").as_bytes(),
    b"/lib/",
    b"/usr/lib/",
];

const LD_SO_CACHE: &str = "/etc/ld.so.cache";

/// Where one object's own search strings come from.
#[derive(Debug, Clone, Default)]
pub struct SearchPaths<'a> {
    /// `DT_RPATH` entries to try, in order, each with the `$ORIGIN` of the
    /// object that carries it: the requester's, then its loader's, ..., then
    /// the executable's. Only consulted when `runpath` is `None`.
    pub rpath: Vec<(&'a str, Origin<'a>)>,
    /// The requester's `DT_RUNPATH` and its `$ORIGIN`.
    pub runpath: Option<(&'a str, Origin<'a>)>,
}

/// The directory `$ORIGIN` stands for, looked up only when a name or list uses it: the running
/// program's takes a `readlink` of `/proc/self/exe`, which costs more than a whole search.
#[derive(Clone, Copy, Debug)]
pub enum Origin<'a> {
    /// A known directory, or None when it is unknown (an object from memory).
    Dir(Option<&'a Path>),
    /// The running program's directory.
    Program,
}

impl<'a> Origin<'a> {
    fn bytes(self) -> Option<&'a [u8]> {
        match self {
            Origin::Dir(d) => d.map(|p| p.as_os_str().as_bytes()),
            Origin::Program => EXE_ORIGIN.as_deref(),
        }
    }

    /// The directory, looked up now if it is the program's.
    pub fn path(self) -> Option<&'a Path> {
        match self {
            Origin::Dir(d) => d,
            Origin::Program => EXE_ORIGIN.as_deref().map(|b| Path::new(std::ffi::OsStr::from_bytes(b))),
        }
    }
}

/// Expand `$ORIGIN`, `${ORIGIN}`, `$LIB`, `${LIB}`, `$PLATFORM` and
/// `${PLATFORM}` in `s`.
///
/// Returns `None` when a token's value is unknown (`$ORIGIN` without an
/// origin, or no platform string); glibc drops such an entry. In a setuid or
/// setgid process `$ORIGIN` is only honoured as the whole first path
/// component and when the result lies in a system directory. A `$` that
/// does not start one of these tokens is kept as it is.
pub fn expand_dst(s: &str, origin: Origin<'_>) -> Option<String> {
    let out = expand_dst_bytes(s.as_bytes(), origin, &HOST, is_secure())?;
    Some(match String::from_utf8(out) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

/// Try candidates in glibc's order and return the first for which
/// `try_path` returns `Some`.
///
/// A name containing `/` is tried as is (after DST expansion with the
/// requester's `origin`, e.g. a `DT_NEEDED` entry of `$ORIGIN/libfoo.so`)
/// and nothing else. Otherwise: rpath entries (when there is no runpath),
/// `LD_LIBRARY_PATH`, runpath, `/etc/ld.so.cache`, then the default
/// directories. `try_path` opens and validates a candidate; returning `None`
/// (for example for a wrong ELF class or machine) makes the search go on.
pub fn search<T>(
    name: &str,
    origin: Origin<'_>,
    paths: &SearchPaths<'_>,
    try_path: impl FnMut(&Path) -> Option<T>,
) -> Option<T> {
    let ctx = process_ctx();
    search_in(&ctx, name.as_bytes(), origin, paths, try_path)
}

/// What the search depends on in this process.
fn process_ctx() -> Ctx<'static> {
    Ctx {
        host: &HOST,
        secure: is_secure(),
        llp: LD_LIBRARY_PATH.as_deref(),
        exe_origin: Origin::Program,
        cache: CacheRef::System,
        default_dirs: &DEFAULT_DIRS,
    }
}

/// What the searches of the process remember: `/etc/ld.so.cache` as last read (with the stamp
/// of the file it was read from, None when there was none), and which capability
/// subdirectories exist in each directory searched (glibc looks once per directory, too);
/// `bare`: the directories that hold none of the process's (most do: a search there tries the
/// name in the directory only).
pub struct Remembered {
    cache: Option<(Option<os::Stamp>, std::sync::Arc<Cache>)>,
    subdirs: Vec<(Vec<u8>, bool)>,
    bare: Vec<Vec<u8>>,
}

/// Taken only inside a search, never with another lock taken inside it; by the fork handlers
/// last.
static REMEMBERED: Lazy<crate::sync::Mutex<Remembered>> =
    Lazy::new(|| crate::sync::Mutex::new(Remembered { cache: None, subdirs: Vec::new(), bare: Vec::new() }));

thread_local! {
    /// Whether this thread's current open has compared `/etc/ld.so.cache` with the file yet.
    static CACHE_CHECKED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A new open begins: its first use of `/etc/ld.so.cache` checks whether the file changed
/// (`ldconfig` ran) and reads it again if so. The cache is unmapped when the returned value
/// goes, at the end of the open, as glibc's `dlopen` does: it takes no memory between opens.
pub fn new_open() -> OpenScope {
    OpenScope { outer: CACHE_CHECKED.replace(false) }
}

/// See [`new_open`].
pub struct OpenScope {
    /// Whether the open this one runs inside of (a constructor's `rl_open`) had used the cache.
    outer: bool,
}

impl Drop for OpenScope {
    fn drop(&mut self) {
        // An open that never used the cache (one that found its library loaded) leaves it to
        // the open that did. Another thread's open may be using it: it holds its own reference.
        if CACHE_CHECKED.replace(self.outer) {
            let gone = REMEMBERED.lock().cache.take();
            drop(gone);
        }
    }
}

/// `/etc/ld.so.cache`, read again if the file is no longer the one last read (checked once
/// per open).
fn ld_cache() -> std::sync::Arc<Cache> {
    let path = Path::new(LD_SO_CACHE);
    let mut r = REMEMBERED.lock();
    let checked = CACHE_CHECKED.replace(true);
    if let Some((stamp, cache)) = &r.cache {
        if checked || os::stamp(path) == *stamp {
            return cache.clone();
        }
    }
    let (stamp, cache) = match os::File::open(path) {
        Ok(f) => (Some(f.stamp()), f.map_all().map_or_else(|_| Cache::default(), |data| Cache::from_bytes(data, &HOST))),
        Err(_) => (None, Cache::default()),
    };
    let cache = std::sync::Arc::new(cache);
    r.cache = Some((stamp, cache.clone()));
    cache
}

/// Whether `dir` has the subdirectory `top` (both as the search writes them), asked of the
/// file system once per process.
fn has_subdir(dir: &[u8], top: &[u8]) -> bool {
    let is_it = |d: &[u8]| d.len() == dir.len() + top.len() && d.starts_with(dir) && d.ends_with(top);
    if let Some(&(_, known)) = REMEMBERED.lock().subdirs.iter().find(|(d, _)| is_it(d)) {
        return known;
    }
    let mut p = Vec::with_capacity(dir.len() + top.len());
    p.extend_from_slice(dir);
    p.extend_from_slice(top);
    let exists = os::is_dir(as_path(&p));
    REMEMBERED.lock().subdirs.push((p, exists));
    exists
}

/// For the fork handlers: hold what the searches remember.
pub fn fork_prepare() -> crate::sync::MutexGuard<'static, Remembered> {
    REMEMBERED.lock()
}

/// The cache a search uses: the system's, or one given (tests).
#[derive(Clone, Copy)]
enum CacheRef<'a> {
    System,
    #[cfg_attr(not(test), allow(dead_code))]
    Given(&'a Cache),
}

impl CacheRef<'_> {
    fn lookup(&self, name: &[u8]) -> Option<Vec<u8>> {
        match self {
            CacheRef::System => ld_cache().lookup(name).map(<[u8]>::to_vec),
            CacheRef::Given(c) => c.lookup(name).map(<[u8]>::to_vec),
        }
    }
}

/// `getauxval(AT_SECURE)`: the process runs setuid/setgid or with extra
/// capabilities.
fn is_secure() -> bool {
    os::auxv(libc::AT_SECURE) != 0
}

/// `LD_LIBRARY_PATH` as it was when first needed; the loader reads it once
/// too (at process start). Ignored in secure processes.
static LD_LIBRARY_PATH: Lazy<Option<Vec<u8>>> = Lazy::new(|| {
    if is_secure() {
        return None;
    }
    os::env("LD_LIBRARY_PATH").map(|v| v.into_vec())
});

/// The executable's directory: `$ORIGIN` inside `LD_LIBRARY_PATH`.
static EXE_ORIGIN: Lazy<Option<Vec<u8>>> = Lazy::new(|| {
    Some(dirname(os::executable()?.as_os_str().as_bytes())?.to_vec())
});

static HOST: Lazy<Host> = Lazy::new(Host::detect);

fn dirname(path: &[u8]) -> Option<&[u8]> {
    let slash = path.iter().rposition(|&c| c == b'/')?;
    Some(if slash == 0 { b"/" } else { &path[..slash] })
}

// ---------------------------------------------------------------------------
// The host: platform string, hardware capabilities, capability subdirectories.

/// Bits of the platform index in a legacy cache entry's hwcap field.
const HWCAP_PLATFORM_MASK: u64 = 0xf << 48;
/// The `tls` bit in a legacy cache entry's hwcap field.
const HWCAP_TLS_MASK: u64 = 1 << 63;

#[derive(Debug, Clone)]
struct Host {
    /// The value of `$PLATFORM`.
    platform: Option<Vec<u8>>,
    /// The platform bit legacy cache entries must carry (all ones when the
    /// platform has no number).
    platform_bit: u64,
    /// The loader's hwcap word, limited to the bits that pick directories.
    hwcap: u64,
    /// Supported ISA levels: bit 0 baseline, then the machine's levels
    /// (on x86_64: 1 x86-64-v2, 2 v3, 3 v4).
    isa_levels: u32,
    /// Active `glibc-hwcaps` subdirectory names, most preferred first.
    hwcaps_names: Vec<&'static str>,
    /// Subdirectories tried in each search directory, each ending in `/`,
    /// in order; the last one is empty (the directory itself).
    subdirs: Subdirs,
}

/// Names of subdirectories, one after the other in one buffer.
#[derive(Debug, Clone, Default)]
struct Subdirs {
    bytes: Vec<u8>,
    /// Where each name ends in `bytes`.
    ends: Vec<usize>,
}

impl Subdirs {
    fn len(&self) -> usize {
        self.ends.len()
    }

    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        self.ends.iter().scan(0, |start, &end| Some(&self.bytes[std::mem::replace(start, end)..end]))
    }

    /// Make the bytes added since the last name a name, unless `unique` and it is one already.
    fn end_name(&mut self, unique: bool) {
        let start = self.ends.last().copied().unwrap_or(0);
        if unique && self.iter().any(|n| *n == self.bytes[start..]) {
            self.bytes.truncate(start);
        } else {
            self.ends.push(self.bytes.len());
        }
    }
}

impl<'a> FromIterator<&'a [u8]> for Subdirs {
    fn from_iter<I: IntoIterator<Item = &'a [u8]>>(names: I) -> Subdirs {
        let mut s = Subdirs::default();
        for n in names {
            s.bytes.extend_from_slice(n);
            s.end_name(false);
        }
        s
    }
}

impl Host {
    fn detect() -> Host {
        Host::new(&arch::cpu_info(), os::auxv_string(libc::AT_PLATFORM))
    }

    fn new(cpu: &arch::CpuInfo, auxv_platform: Option<Vec<u8>>) -> Host {
        let arch::SearchCaps { platform, platform_bit, hwcap, hwcap_names, isa_levels, hwcaps_names } =
            arch::search_caps(cpu, auxv_platform);

        const HWCAPS_DIR: &[u8] = b"glibc-hwcaps/";
        let mut subdirs = Subdirs { bytes: Vec::with_capacity(512), ends: Vec::with_capacity(32) };
        for n in &hwcaps_names {
            subdirs.bytes.extend_from_slice(HWCAPS_DIR);
            subdirs.bytes.extend_from_slice(n.as_bytes());
            subdirs.bytes.push(b'/');
            subdirs.end_name(false);
        }

        // Legacy subdirectories: every subset of (hwcap names in bit order,
        // platform, "tls"), largest first, each written with the last
        // element outermost.
        let mut elems: Vec<&[u8]> = hwcap_names
            .iter()
            .filter(|(b, _)| hwcap & b != 0)
            .map(|(_, n)| n.as_bytes())
            .collect();
        if let Some(p) = platform.as_deref() {
            elems.push(p);
        }
        elems.push(b"tls");
        let count = elems.len();
        // Distinct elements give distinct subsets, none of them a `glibc-hwcaps` one.
        let distinct = elems.iter().enumerate().all(|(i, e)| *e != &HWCAPS_DIR[..HWCAPS_DIR.len() - 1] && !elems[..i].contains(e));
        for m in (0..1u32 << count).rev() {
            for n in (0..count).rev() {
                if m & (1 << n) != 0 {
                    subdirs.bytes.extend_from_slice(elems[n]);
                    subdirs.bytes.push(b'/');
                }
            }
            subdirs.end_name(!distinct);
        }

        Host {
            platform,
            platform_bit,
            hwcap,
            isa_levels,
            hwcaps_names,
            subdirs,
        }
    }

    /// Priority of a `glibc-hwcaps` subdirectory name: 1 is best, 0 means
    /// not usable on this CPU.
    fn hwcaps_priority(&self, name: &[u8]) -> u32 {
        self.hwcaps_names
            .iter()
            .position(|n| n.as_bytes() == name)
            .map_or(0, |i| i as u32 + 1)
    }
}

// ---------------------------------------------------------------------------
// Dynamic string tokens.

#[derive(Clone, Copy)]
enum Dst {
    Origin,
    Platform,
    Lib,
}

/// Recognise a token right after a `$`; returns it and the number of bytes
/// it takes (without the `$`).
fn parse_dst(s: &[u8]) -> Option<(Dst, usize)> {
    for (name, dst) in [
        (&b"ORIGIN"[..], Dst::Origin),
        (&b"PLATFORM"[..], Dst::Platform),
        (&b"LIB"[..], Dst::Lib),
    ] {
        let curly = s.first() == Some(&b'{');
        let body = if curly { &s[1..] } else { s };
        if !body.starts_with(name) {
            continue;
        }
        let next = body.get(name.len()).copied();
        if curly {
            if next == Some(b'}') {
                return Some((dst, name.len() + 2));
            }
        } else if !matches!(next, Some(c) if c.is_ascii_alphanumeric() || c == b'_') {
            return Some((dst, name.len()));
        }
    }
    None
}

fn expand_dst_bytes(s: &[u8], origin: Origin<'_>, host: &Host, secure: bool) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() + 32);
    let mut used_origin = false;
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'$' {
            if let Some((dst, len)) = parse_dst(&s[i + 1..]) {
                let value: &[u8] = match dst {
                    Dst::Origin => {
                        if secure && (i != 0 || !matches!(s.get(i + 1 + len), None | Some(b'/'))) {
                            return None;
                        }
                        used_origin = true;
                        origin.bytes()?
                    }
                    Dst::Platform => host.platform.as_deref()?,
                    Dst::Lib => DST_LIB,
                };
                out.extend_from_slice(value);
                i += 1 + len;
                continue;
            }
        }
        out.push(s[i]);
        i += 1;
    }
    if secure && used_origin && !is_trusted_dir(&out) {
        return None;
    }
    Some(out)
}

/// Whether an absolute path, once `.`/`..`/`//` are resolved lexically,
/// lies in one of the system directories.
fn is_trusted_dir(path: &[u8]) -> bool {
    if path.first() != Some(&b'/') {
        return false;
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in path.split(|&c| c == b'/') {
        match part {
            b"" | b"." => {}
            b".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    let mut norm = Vec::with_capacity(path.len() + 1);
    for p in &parts {
        norm.push(b'/');
        norm.extend_from_slice(p);
    }
    norm.push(b'/');
    DEFAULT_DIRS.iter().any(|d| norm.starts_with(d))
}

// ---------------------------------------------------------------------------
// /etc/ld.so.cache

const OLD_MAGIC: &[u8] = b"ld.so-1.7.0";
const OLD_HEADER: usize = 16;
const OLD_ENTRY: usize = 12;
const NEW_MAGIC: &[u8] = b"glibc-ld.so.cache1.1";
const NEW_HEADER: usize = 48;
const NEW_ENTRY: usize = 24;
const EXTENSION_MAGIC: u32 = 0xeaa4_2174;
const EXTENSION_TAG_GLIBC_HWCAPS: u32 = 1;
const HWCAP_EXTENSION: u64 = 1 << 62;
const HWCAP_ISA_LEVEL_MASK: u64 = 0x3ff;

/// A validated cache image. Names are resolved on demand by walking the
/// entries; nothing is indexed up front.
#[derive(Debug, Default)]
struct Cache {
    data: os::Bytes,
    /// Whether the entries are in the new format (24 bytes, with hwcap).
    new_format: bool,
    /// Where string offsets count from.
    table: usize,
    /// Where the first entry starts.
    entries: usize,
    /// Number of entries; all of them lie within `data`.
    nlibs: usize,
    /// Priority (see `Host::hwcaps_priority`) of each `glibc-hwcaps`
    /// extension name, by index; 0 for unusable or unreadable names.
    hwcaps_priority: Vec<u32>,
    /// Legacy hwcap bits that rule an entry out on this host.
    exclude: u64,
    platform_bit: u64,
    isa_levels: u32,
}

fn read_u32(d: &[u8], off: usize) -> Option<u32> {
    let b = d.get(off..off.checked_add(4)?)?;
    Some(u32::from_le_bytes(b.try_into().ok()?))
}

fn read_u64(d: &[u8], off: usize) -> Option<u64> {
    let b = d.get(off..off.checked_add(8)?)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

/// The NUL-terminated string at `off` in `table`.
fn string_at(table: &[u8], off: u32) -> Option<&[u8]> {
    let rest = table.get(off as usize..)?;
    let len = rest.iter().position(|&c| c == 0)?;
    Some(&rest[..len])
}

/// Whether the NUL-terminated string at `off` in `table` is exactly
/// `name` (which must not contain a NUL; `first` is its first byte, or 0
/// when it is empty).
#[inline]
fn string_is(table: &[u8], off: u32, name: &[u8], first: u8) -> bool {
    let off = off as usize;
    if table.get(off) != Some(&first) {
        return false;
    }
    let Some(end) = off.checked_add(name.len()) else {
        return false;
    };
    table.get(end) == Some(&0) && table.get(off..end) == Some(name)
}

/// Whether the endianness byte of a new-format header fits this host
/// (0: unknown, accepted; 2: little endian).
fn endian_ok(flags: u8) -> bool {
    matches!(flags & 3, 0 | 2)
}

/// The order of keys in ldconfig's cache (glibc's `_dl_cache_libcmp`): bytes compare as bytes,
/// except that runs of digits compare by their numeric value, and a digit sorts after any
/// other byte (and after the end of a key).
fn cache_order(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    use std::cmp::Ordering;
    let number = |s: &[u8], mut i: usize| {
        let mut v: u64 = 0;
        while let Some(d) = s.get(i).filter(|c| c.is_ascii_digit()) {
            v = v.saturating_mul(10).saturating_add(u64::from(d - b'0'));
            i += 1;
        }
        (v, i)
    };
    let (mut i, mut j) = (0, 0);
    loop {
        match (a.get(i).copied(), b.get(j).copied()) {
            (None, None) => return Ordering::Equal,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let ((va, ni), (vb, nj)) = (number(a, i), number(b, j));
                if va != vb {
                    return va.cmp(&vb);
                }
                (i, j) = (ni, nj);
            }
            (Some(x), _) if x.is_ascii_digit() => return Ordering::Greater,
            (_, Some(y)) if y.is_ascii_digit() => return Ordering::Less,
            (x, y) if x != y => return x.cmp(&y),
            _ => (i, j) = (i + 1, j + 1),
        }
    }
}

struct RawEntry {
    flags: u32,
    value: u32,
    hwcap: Option<u64>,
}

/// Where the entries of a validated image are.
struct Layout {
    new_format: bool,
    table: usize,
    entries: usize,
    nlibs: usize,
    /// Offset of the `glibc-hwcaps` extension (0: none).
    ext_offset: u32,
}

impl Cache {
    /// The path the loader would pick for `name` on this host: entries for
    /// `glibc-hwcaps` subdirectories come first and the usable one with the
    /// best priority wins; failing that, the first plain entry that fits
    /// this host.
    fn lookup(&self, name: &[u8]) -> Option<&[u8]> {
        if self.nlibs == 0 || name.contains(&0) {
            return None;
        }
        let data = &self.data[..];
        let table = data.get(self.table..)?;
        let first = name.first().copied().unwrap_or(0);
        let size = self.entry_size();
        let key = |i: usize| string_at(table, read_u32(data, self.entries + i * size + 4)?);
        // ldconfig sorts the entries by key, in decreasing order of `cache_order`: the
        // entries for `name` are a run found by binary search (an unsorted file finds
        // nothing, as with glibc).
        let (mut lo, mut hi) = (0, self.nlibs);
        let mut hit = None;
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match cache_order(name, key(mid)?) {
                std::cmp::Ordering::Equal => {
                    hit = Some(mid);
                    break;
                }
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Less => lo = mid + 1,
            }
        }
        let mut start = hit?;
        while start > 0 && key(start - 1).is_some_and(|k| cache_order(name, k).is_eq()) {
            start -= 1;
        }
        let mut best: Option<&[u8]> = None;
        let mut best_priority = 0;
        for i in start..self.nlibs {
            let at = self.entries + i * size;
            let Some(key) = read_u32(data, at + 4) else {
                break;
            };
            if !string_is(table, key, name, first) {
                if string_at(table, key).is_none_or(|k| !cache_order(name, k).is_eq()) {
                    break;
                }
                continue;
            }
            let Some(e) = self.entry(at) else {
                continue;
            };
            if e.flags != arch::CACHE_FLAGS {
                continue;
            }
            let Some(value) = string_at(table, e.value) else {
                continue;
            };
            if let Some(hwcap) = e.hwcap {
                let named = (hwcap >> 32) & !HWCAP_ISA_LEVEL_MASK == HWCAP_EXTENSION >> 32;
                if named {
                    let level = (hwcap >> 32) & HWCAP_ISA_LEVEL_MASK;
                    if level >= 32 || self.isa_levels & (1 << level) == 0 {
                        continue;
                    }
                } else if best.is_some() {
                    break;
                } else if hwcap & self.exclude != 0 {
                    continue;
                }
                let platform = hwcap & HWCAP_PLATFORM_MASK;
                if platform != 0 && platform != self.platform_bit {
                    continue;
                }
                if named {
                    let index = hwcap as u32 as usize;
                    let priority = self.hwcaps_priority.get(index).copied().unwrap_or(0);
                    if priority == 0 || (best.is_some() && priority >= best_priority) {
                        continue;
                    }
                    best = Some(value);
                    best_priority = priority;
                    continue;
                }
            }
            return Some(value);
        }
        best
    }

    fn entry_size(&self) -> usize {
        if self.new_format {
            NEW_ENTRY
        } else {
            OLD_ENTRY
        }
    }

    /// The entry at byte offset `at` of the image.
    fn entry(&self, at: usize) -> Option<RawEntry> {
        let d = &self.data[..];
        Some(RawEntry {
            flags: read_u32(d, at)?,
            value: read_u32(d, at + 8)?,
            hwcap: if self.new_format {
                Some(read_u64(d, at + 16)?)
            } else {
                None
            },
        })
    }

    #[cfg(test)]
    fn parse(data: &[u8], host: &Host) -> Cache {
        Cache::from_bytes(os::Bytes::Owned(data.to_vec()), host)
    }

    /// Take a cache image. Anything malformed yields fewer (or no)
    /// entries, never a panic.
    fn from_bytes(data: os::Bytes, host: &Host) -> Cache {
        let Some(layout) = Cache::layout(&data) else {
            return Cache::default();
        };
        let hwcaps_priority = read_hwcaps_names(&data, layout.ext_offset)
            .into_iter()
            .map(|n| n.map_or(0, |n| host.hwcaps_priority(n)))
            .collect();
        Cache {
            data,
            new_format: layout.new_format,
            table: layout.table,
            entries: layout.entries,
            nlibs: layout.nlibs,
            hwcaps_priority,
            exclude: !(host.hwcap | HWCAP_PLATFORM_MASK | HWCAP_TLS_MASK),
            platform_bit: host.platform_bit,
            isa_levels: host.isa_levels,
        }
    }

    fn layout(data: &[u8]) -> Option<Layout> {
        if data.len() > NEW_HEADER && data.starts_with(NEW_MAGIC) {
            let nlibs = read_u32(data, 20)? as usize;
            if (data.len() - NEW_HEADER) / NEW_ENTRY < nlibs || !endian_ok(data[28]) {
                return None;
            }
            return Some(Cache::layout_new(data, 0, nlibs));
        }
        if data.len() > OLD_HEADER && data.starts_with(OLD_MAGIC) {
            let nlibs = read_u32(data, 12)? as usize;
            if (data.len() - OLD_HEADER) / OLD_ENTRY < nlibs {
                return None;
            }
            let old_end = OLD_HEADER + nlibs * OLD_ENTRY;
            let new_start = old_end.checked_add(7)? & !7;
            if let Some(new) = data.get(new_start..) {
                if new.len() >= NEW_HEADER && new.starts_with(NEW_MAGIC) {
                    if !endian_ok(new[28]) {
                        return None;
                    }
                    let nlibs_new = read_u32(new, 20)? as usize;
                    let fits = (new.len() - NEW_HEADER) / NEW_ENTRY >= nlibs_new;
                    if fits {
                        return Some(Cache::layout_new(data, new_start, nlibs_new));
                    }
                }
            }
            return Some(Layout {
                new_format: false,
                table: old_end,
                entries: OLD_HEADER,
                nlibs,
                ext_offset: 0,
            });
        }
        None
    }

    /// New-format entries start `start` bytes into `file`; their string
    /// offsets count from `start`, extension offsets from the file start.
    /// The caller has checked that the `nlibs` entries fit.
    fn layout_new(file: &[u8], start: usize, nlibs: usize) -> Layout {
        Layout {
            new_format: true,
            table: start,
            entries: start + NEW_HEADER,
            nlibs,
            ext_offset: read_u32(file, start + 32).unwrap_or(0),
        }
    }

    /// Every distinct key in the image, in entry order.
    #[cfg(test)]
    fn keys(&self) -> Vec<&[u8]> {
        let size = self.entry_size();
        let table = self.data.get(self.table..).unwrap_or(&[]);
        let mut keys: Vec<&[u8]> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for i in 0..self.nlibs {
            let at = self.entries + i * size;
            let (Some(_), Some(key)) = (self.entry(at), read_u32(&self.data, at + 4)) else {
                continue;
            };
            if let Some(k) = string_at(table, key) {
                if seen.insert(k) {
                    keys.push(k);
                }
            }
        }
        keys
    }

    /// Number of names that resolve to a path.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.keys()
            .into_iter()
            .filter(|k| self.lookup(k).is_some())
            .count()
    }

    #[cfg(test)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The subdirectory names of the `glibc-hwcaps` extension section, by
/// index (`None` for an unreadable one).
fn read_hwcaps_names(file: &[u8], ext_offset: u32) -> Vec<Option<&[u8]>> {
    let ext = ext_offset as usize;
    if ext == 0 || read_u32(file, ext) != Some(EXTENSION_MAGIC) {
        return Vec::new();
    }
    let Some(count) = read_u32(file, ext + 4) else {
        return Vec::new();
    };
    for i in 0..count as usize {
        let Some(at) = i.checked_mul(16).and_then(|o| o.checked_add(ext + 8)) else {
            break;
        };
        let (Some(tag), Some(offset), Some(size)) = (
            read_u32(file, at),
            read_u32(file, at + 8),
            read_u32(file, at + 12),
        ) else {
            break;
        };
        if tag != EXTENSION_TAG_GLIBC_HWCAPS || offset % 4 != 0 || size % 4 != 0 {
            continue;
        }
        let (offset, size) = (offset as usize, size as usize);
        let Some(bytes) = offset
            .checked_add(size)
            .and_then(|end| file.get(offset..end))
        else {
            return Vec::new();
        };
        return bytes
            .chunks_exact(4)
            .map(|c| string_at(file, u32::from_le_bytes([c[0], c[1], c[2], c[3]])))
            .collect();
    }
    Vec::new()
}

// ---------------------------------------------------------------------------
// The search itself.

/// Everything the search depends on besides its arguments.
struct Ctx<'a> {
    host: &'a Host,
    secure: bool,
    /// Raw `LD_LIBRARY_PATH` (`None` when unset or in a secure process).
    llp: Option<&'a [u8]>,
    exe_origin: Origin<'a>,
    cache: CacheRef<'a>,
    default_dirs: &'a [&'a [u8]],
}

/// Split a search list into directories: DSTs expanded, entries with an
/// unknown token dropped, trailing slashes normalised to one, an empty
/// element meaning the current directory (written as an empty prefix).
fn split_dirs(list: &[u8], seps: &[u8], origin: Origin<'_>, ctx: &Ctx<'_>) -> Vec<Vec<u8>> {
    let mut dirs: Vec<Vec<u8>> = Vec::new();
    for elem in list.split(|c| seps.contains(c)) {
        let dir = if elem.is_empty() {
            Vec::new()
        } else {
            let Some(mut d) = expand_dst_bytes(elem, origin, ctx.host, ctx.secure) else {
                continue;
            };
            if d.is_empty() {
                continue;
            }
            while d.len() > 1 && d.ends_with(b"/") {
                d.pop();
            }
            if !d.ends_with(b"/") {
                d.push(b'/');
            }
            d
        };
        if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    dirs
}

fn as_path(bytes: &[u8]) -> &Path {
    Path::new(OsStr::from_bytes(bytes))
}

struct Walker<'c, 'n, F> {
    ctx: &'c Ctx<'c>,
    name: &'n [u8],
    /// Candidates tried so far (a few: a list is cheaper than hashing).
    tried: Vec<Vec<u8>>,
    try_path: F,
}

impl<T, F: FnMut(&Path) -> Option<T>> Walker<'_, '_, F> {
    fn try_file(&mut self, path: Vec<u8>) -> Option<T> {
        if self.tried.contains(&path) {
            return None;
        }
        let found = (self.try_path)(as_path(&path));
        self.tried.push(path);
        found
    }

    /// Try the name in `dir` (empty or ending in `/`) and its capability
    /// subdirectories.
    fn try_dir(&mut self, dir: &[u8]) -> Option<T> {
        let ctx = self.ctx;
        // (What is remembered holds for the process's host; tests search as other hosts.)
        let remember = std::ptr::eq(ctx.host, &*HOST);
        if remember && REMEMBERED.lock().bare.iter().any(|d| d == dir) {
            return self.try_file([dir, self.name].concat());
        }
        // One `stat` of the directory tells when it has no subdirectory at all (a link count of
        // 2, where the file system counts them), or is no directory: then none of the
        // capability subdirectories needs asking about. (An empty `dir` is the current one.)
        let here = if dir.is_empty() { &b"."[..] } else { dir };
        if ctx.host.subdirs.len() > 1 && os::dir_links(as_path(here)).is_none_or(|n| n == 2) {
            if remember {
                REMEMBERED.lock().bare.push(dir.to_vec());
            }
            return self.try_file([dir, self.name].concat());
        }
        // Whether each top-level subdirectory seen so far exists (a few names: glibc-hwcaps,
        // tls, the platform, the hwcap names).
        let mut tops: Vec<(&[u8], bool)> = Vec::with_capacity(8);
        for sub in ctx.host.subdirs.iter() {
            if sub.is_empty() && !tops.iter().any(|&(_, present)| present) && remember {
                REMEMBERED.lock().bare.push(dir.to_vec());
            }
            if let Some(slash) = sub.iter().position(|&c| c == b'/') {
                let top = &sub[..slash];
                let present = match tops.iter().find(|&&(t, _)| t == top) {
                    Some(&(_, present)) => present,
                    None => {
                        let present = has_subdir(dir, top);
                        tops.push((top, present));
                        present
                    }
                };
                if !present {
                    continue;
                }
            }
            let mut p = Vec::with_capacity(dir.len() + sub.len() + self.name.len());
            p.extend_from_slice(dir);
            p.extend_from_slice(sub);
            p.extend_from_slice(self.name);
            if let Some(t) = self.try_file(p) {
                return Some(t);
            }
        }
        None
    }

    fn try_list(&mut self, dirs: Dirs<'_>) -> Option<T> {
        dirs.iter().find_map(|d| self.try_dir(d))
    }
}

fn search_in<T>(
    ctx: &Ctx<'_>,
    name: &[u8],
    origin: Origin<'_>,
    paths: &SearchPaths<'_>,
    mut try_path: impl FnMut(&Path) -> Option<T>,
) -> Option<T> {
    if name.is_empty() || name.contains(&0) {
        return None;
    }
    if name.contains(&b'/') {
        let path = expand_dst_bytes(name, origin, ctx.host, ctx.secure)?;
        if path.is_empty() {
            return None;
        }
        return try_path(as_path(&path));
    }

    let mut w = Walker {
        ctx,
        name,
        tried: Vec::new(),
        try_path,
    };

    lists(ctx, paths, |dirs, kind| {
        if kind == ListKind::Default {
            if let Some(p) = ctx.cache.lookup(name) {
                if let Some(t) = w.try_file(p) {
                    return Some(t);
                }
            }
        }
        w.try_list(dirs)
    })
}

/// Where a directory of the search comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListKind {
    /// DT_RPATH or DT_RUNPATH.
    Runpath,
    /// LD_LIBRARY_PATH.
    LibPath,
    /// The default directories (after /etc/ld.so.cache).
    Default,
}

/// The directory lists of a search for a bare name, in glibc's order (rpath entries when there is
/// no runpath, LD_LIBRARY_PATH, runpath, the default directories), each given to `each` until it
/// returns something.
fn lists<T>(ctx: &Ctx<'_>, paths: &SearchPaths<'_>, mut each: impl FnMut(Dirs<'_>, ListKind) -> Option<T>) -> Option<T> {
    if paths.runpath.is_none() {
        for &(list, o) in &paths.rpath {
            if list.is_empty() {
                continue;
            }
            if let Some(t) = each(Dirs::Split(&split_dirs(list.as_bytes(), b":", o, ctx)), ListKind::Runpath) {
                return Some(t);
            }
        }
    }
    if let Some(llp) = ctx.llp.filter(|l| !l.is_empty() && !ctx.secure) {
        if let Some(t) = each(Dirs::Split(&split_dirs(llp, b":;", ctx.exe_origin, ctx)), ListKind::LibPath) {
            return Some(t);
        }
    }
    if let Some((list, o)) = paths.runpath {
        if !list.is_empty() {
            if let Some(t) = each(Dirs::Split(&split_dirs(list.as_bytes(), b":", o, ctx)), ListKind::Runpath) {
                return Some(t);
            }
        }
    }
    each(Dirs::Fixed(ctx.default_dirs), ListKind::Default)
}

/// One directory list of a search: split from a search string, or the default directories
/// (as they are: no copy per search).
#[derive(Clone, Copy)]
enum Dirs<'a> {
    Split(&'a [Vec<u8>]),
    Fixed(&'a [&'a [u8]]),
}

impl<'a> Dirs<'a> {
    fn iter(self) -> impl Iterator<Item = &'a [u8]> {
        let (split, fixed) = match self {
            Dirs::Split(d) => (d, &[][..]),
            Dirs::Fixed(d) => (&[][..], d),
        };
        split.iter().map(Vec::as_slice).chain(fixed.iter().copied())
    }
}

/// Every directory a search for a bare name with `paths` tries, in order, as
/// `dlinfo(RTLD_DI_SERINFO)` lists them (without their trailing `/`; `/etc/ld.so.cache` is no
/// directory and is not listed).
pub fn directories(paths: &SearchPaths<'_>) -> Vec<(Vec<u8>, ListKind)> {
    let ctx = process_ctx();
    let mut out: Vec<(Vec<u8>, ListKind)> = Vec::new();
    lists(&ctx, paths, |dirs, kind| {
        for d in dirs.iter() {
            let mut d = d.to_vec();
            if d.len() > 1 && d.ends_with(b"/") {
                d.pop();
            }
            if !out.iter().any(|(x, _)| *x == d) {
                out.push((d, kind));
            }
        }
        None::<()>
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::CpuInfo;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn test_host() -> Host {
        Host {
            platform: Some(b"x86_64".to_vec()),
            platform_bit: u64::MAX,
            hwcap: 1 << 1,
            isa_levels: 0b11,
            hwcaps_names: vec!["x86-64-v2"],
            subdirs: [&b"glibc-hwcaps/x86-64-v2/"[..], b"tls/", b""].into_iter().collect(),
        }
    }

    /// A fresh directory under the system temp dir, removed on drop.
    struct TempDir(PathBuf);

    impl TempDir {
        fn new(tag: &str) -> TempDir {
            static N: AtomicUsize = AtomicUsize::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let p = std::env::temp_dir()
                .join(format!("relink-search-{}-{tag}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
        fn sub(&self, rel: &str) -> PathBuf {
            let p = self.0.join(rel);
            std::fs::create_dir_all(&p).unwrap();
            p
        }
        fn file(&self, rel: &str) -> PathBuf {
            let p = self.0.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, b"x").unwrap();
            p
        }
        fn s(&self, rel: &str) -> String {
            self.0.join(rel).to_str().unwrap().to_owned()
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn ctx<'a>(
        host: &'a Host,
        cache: &'a Cache,
        llp: Option<&'a [u8]>,
        defaults: &'a [&'a [u8]],
    ) -> Ctx<'a> {
        Ctx {
            host,
            secure: false,
            llp,
            exe_origin: Origin::Dir(Some(Path::new("/exe/dir"))),
            cache: CacheRef::Given(cache),
            default_dirs: defaults,
        }
    }

    /// Run a search that accepts existing files; returns the hit and every
    /// path tried.
    fn run(ctx: &Ctx<'_>, name: &str, paths: &SearchPaths<'_>) -> (Option<PathBuf>, Vec<PathBuf>) {
        let mut tried = Vec::new();
        let hit = search_in(ctx, name.as_bytes(), Origin::Dir(None), paths, |p| {
            tried.push(p.to_path_buf());
            p.is_file().then(|| p.to_path_buf())
        });
        (hit, tried)
    }

    // -- DST expansion -----------------------------------------------------

    fn exp(s: &str, origin: Option<&str>) -> Option<String> {
        let out = expand_dst_bytes(s.as_bytes(), Origin::Dir(origin.map(Path::new)), &test_host(), false)?;
        Some(String::from_utf8(out).unwrap())
    }

    #[test]
    fn dst_origin_forms() {
        assert_eq!(
            exp("$ORIGIN/lib", Some("/opt/app")).as_deref(),
            Some("/opt/app/lib")
        );
        assert_eq!(
            exp("${ORIGIN}/lib", Some("/opt/app")).as_deref(),
            Some("/opt/app/lib")
        );
        assert_eq!(exp("$ORIGIN", Some("/o")).as_deref(), Some("/o"));
        assert_eq!(exp("a/${ORIGIN}b", Some("/o")).as_deref(), Some("a//ob"));
        assert_eq!(exp("$ORIGIN/lib", None), None);
        assert_eq!(exp("${ORIGIN}", None), None);
    }

    #[test]
    fn dst_lib_and_platform() {
        assert_eq!(
            exp("/usr/$LIB/foo", None).as_deref(),
            Some("/usr/lib/x86_64-linux-gnu/foo")
        );
        assert_eq!(
            exp("/usr/${LIB}", None).as_deref(),
            Some("/usr/lib/x86_64-linux-gnu")
        );
        assert_eq!(exp("/p/$PLATFORM/x", None).as_deref(), Some("/p/x86_64/x"));
        assert_eq!(exp("/p/${PLATFORM}", None).as_deref(), Some("/p/x86_64"));
        assert_eq!(
            exp("$ORIGIN/$LIB/${PLATFORM}", Some("/a")).as_deref(),
            Some("/a/lib/x86_64-linux-gnu/x86_64")
        );
        let no_platform = Host {
            platform: None,
            ..test_host()
        };
        assert_eq!(
            expand_dst_bytes(b"/p/$PLATFORM", Origin::Dir(None), &no_platform, false),
            None
        );
    }

    #[test]
    fn dst_non_tokens_are_literal() {
        assert_eq!(
            exp("$ORIGINAL/x", Some("/o")).as_deref(),
            Some("$ORIGINAL/x")
        );
        assert_eq!(exp("$LIB_X", None).as_deref(), Some("$LIB_X"));
        assert_eq!(exp("$LIB9", None).as_deref(), Some("$LIB9"));
        assert_eq!(exp("${ORIGIN", Some("/o")).as_deref(), Some("${ORIGIN"));
        assert_eq!(exp("$HOME/x", None).as_deref(), Some("$HOME/x"));
        assert_eq!(exp("a$", None).as_deref(), Some("a$"));
        assert_eq!(exp("", None).as_deref(), Some(""));
        assert_eq!(
            exp("$LIB.so", None).as_deref(),
            Some("lib/x86_64-linux-gnu.so")
        );
    }

    #[test]
    fn dst_secure_rules() {
        let h = test_host();
        let sec = |s: &str, o: &str| expand_dst_bytes(s.as_bytes(), Origin::Dir(Some(Path::new(o))), &h, true);
        assert_eq!(
            sec("$ORIGIN", "/usr/lib/x86_64-linux-gnu").as_deref(),
            Some(&b"/usr/lib/x86_64-linux-gnu"[..])
        );
        assert_eq!(
            sec("$ORIGIN/sub", "/usr/lib").as_deref(),
            Some(&b"/usr/lib/sub"[..])
        );
        assert_eq!(
            sec("$ORIGIN/../lib", "/usr/lib/x"),
            Some(b"/usr/lib/x/../lib".to_vec())
        );
        assert_eq!(sec("$ORIGIN", "/home/user"), None);
        assert_eq!(sec("$ORIGIN/../../tmp", "/usr/lib"), None);
        assert_eq!(sec("/usr/lib/$ORIGIN", "/usr/lib"), None);
        assert_eq!(sec("${ORIGIN}x", "/usr/lib"), None);
        assert_eq!(
            expand_dst_bytes(b"/usr/$LIB", Origin::Dir(None), &h, true),
            Some(b"/usr/lib/x86_64-linux-gnu".to_vec())
        );
    }

    #[test]
    fn public_expand_dst() {
        let lib = expand_dst("/x/$LIB", Origin::Dir(None)).unwrap();
        assert_eq!(lib, "/x/lib/x86_64-linux-gnu");
        assert_eq!(
            expand_dst("$ORIGIN/a", Origin::Dir(Some(Path::new("/b")))).as_deref(),
            Some("/b/a")
        );
        assert_eq!(expand_dst("$ORIGIN/a", Origin::Dir(None)), None);
        let plat = expand_dst("$PLATFORM", Origin::Dir(None)).unwrap();
        assert!(!plat.is_empty() && !plat.contains('$'));
    }

    // -- host capabilities ---------------------------------------------------

    #[test]
    fn legacy_subdirs_match_loader_order() {
        // AT_PLATFORM x86_64 on a non-Intel CPU with x86-64-v4, as the loader
        // reports on such machines.
        let cpu = CpuInfo {
            v2: true,
            v3: true,
            v4: true,
            ..CpuInfo::default()
        };
        let h = Host::new(&cpu, Some(b"x86_64".to_vec()));
        let subdirs: Vec<String> = h
            .subdirs
            .iter()
            .map(|s| String::from_utf8(s.to_vec()).unwrap())
            .collect();
        assert_eq!(
            subdirs,
            [
                "glibc-hwcaps/x86-64-v4/",
                "glibc-hwcaps/x86-64-v3/",
                "glibc-hwcaps/x86-64-v2/",
                "tls/x86_64/x86_64/",
                "tls/x86_64/",
                "tls/",
                "x86_64/x86_64/",
                "x86_64/",
                "",
            ]
        );
        assert_eq!(h.platform.as_deref(), Some(&b"x86_64"[..]));
    }

    #[test]
    fn intel_platform_override() {
        let haswell = CpuInfo {
            intel: true,
            v2: true,
            v3: true,
            avx2: true,
            fma: true,
            bmi1: true,
            bmi2: true,
            lzcnt: true,
            movbe: true,
            popcnt: true,
            ..CpuInfo::default()
        };
        let h = Host::new(&haswell, Some(b"x86_64".to_vec()));
        assert_eq!(h.platform.as_deref(), Some(&b"haswell"[..]));
        assert_eq!(h.platform_bit, 1 << 50);
        assert_eq!(h.hwcaps_names, ["x86-64-v3", "x86-64-v2"]);
        let skx = CpuInfo {
            v4: true,
            avx512cd: true,
            avx512bw: true,
            avx512dq: true,
            avx512vl: true,
            ..haswell
        };
        let h = Host::new(&skx, Some(b"x86_64".to_vec()));
        assert_eq!(h.hwcap, 0b110);
        assert_eq!(h.subdirs.iter().nth(3).unwrap(), b"tls/haswell/avx512_1/x86_64/");
        assert_eq!(h.subdirs.iter().last().unwrap(), b"");
        // Same features, other vendor: AT_PLATFORM stays.
        let h = Host::new(
            &CpuInfo {
                intel: false,
                ..skx
            },
            Some(b"x86_64".to_vec()),
        );
        assert_eq!(h.platform.as_deref(), Some(&b"x86_64"[..]));
        assert_eq!(h.hwcap, 0b10);
    }

    #[test]
    fn detected_host_is_consistent() {
        let h = Host::detect();
        assert_eq!(h.subdirs.iter().last().unwrap(), b"");
        assert!(h.platform.is_some());
        if h.hwcaps_names.contains(&"x86-64-v4") {
            assert!(h.hwcaps_names.contains(&"x86-64-v3"));
        }
        if h.hwcaps_names.contains(&"x86-64-v3") {
            assert!(h.hwcaps_names.contains(&"x86-64-v2"));
        }
    }

    // -- ld.so.cache ---------------------------------------------------------

    #[test]
    fn system_cache_finds_libz() {
        let cache = ld_cache();
        let p = cache
            .lookup(b"libz.so.1")
            .expect("libz.so.1 in /etc/ld.so.cache");
        assert!(
            p == b"/lib/x86_64-linux-gnu/libz.so.1" || p == b"/usr/lib/x86_64-linux-gnu/libz.so.1",
            "{}",
            String::from_utf8_lossy(p)
        );
        assert!(ld_cache()
            .lookup(b"libz.so")
            .is_none_or(|p| p.ends_with(b"libz.so")));
        assert!(ld_cache().lookup(b"libdefinitely-not-there.so.7").is_none());

        let found = search("libz.so.1", Origin::Dir(None), &SearchPaths::default(), |p| {
            p.is_file().then(|| p.to_path_buf())
        });
        let found = found.expect("libz.so.1 found by search");
        assert!(found.ends_with("libz.so.1"));
    }

    #[test]
    fn cache_order_is_ldconfigs() {
        use std::cmp::Ordering::*;
        assert_eq!(cache_order(b"libz.so.1", b"libz.so.1"), Equal);
        assert_eq!(cache_order(b"libz.so.01", b"libz.so.1"), Equal);
        assert_eq!(cache_order(b"libz.so.10", b"libz.so.9"), Greater);
        assert_eq!(cache_order(b"libz3.so", b"libzstd.so"), Greater);
        assert_eq!(cache_order(b"libz.so", b"libz.so.1"), Less);
        assert_eq!(cache_order(b"liba.so", b"libb.so"), Less);
        // The system's cache is sorted that way (decreasing), and every key in it is found.
        let cache = ld_cache();
        let keys = cache.keys();
        for w in keys.windows(2) {
            assert_ne!(cache_order(w[0], w[1]), Less, "{:?} before {:?}", String::from_utf8_lossy(w[0]), String::from_utf8_lossy(w[1]));
        }
        let found = keys.iter().filter(|k| cache.lookup(k).is_some()).count();
        assert!(found * 2 > keys.len(), "{found} of {} keys found", keys.len());
    }

    /// Builder for synthetic new-format cache images.
    struct CacheImage {
        strings: Vec<u8>,
        entries: Vec<(u32, u32, u32, u64)>,
        hwcaps: Vec<u32>,
    }

    impl CacheImage {
        fn new() -> CacheImage {
            CacheImage {
                strings: Vec::new(),
                entries: Vec::new(),
                hwcaps: Vec::new(),
            }
        }
        /// String offsets are relative to the string area; fixed up on build.
        fn add_str(&mut self, s: &str) -> u32 {
            let off = self.strings.len() as u32;
            self.strings.extend_from_slice(s.as_bytes());
            self.strings.push(0);
            off
        }
        fn entry(&mut self, flags: u32, key: &str, value: &str, hwcap: u64) -> &mut Self {
            let (k, v) = (self.add_str(key), self.add_str(value));
            self.entries.push((flags, k, v, hwcap));
            self
        }
        fn hwcap_name(&mut self, name: &str) -> u64 {
            let off = self.add_str(name);
            self.hwcaps.push(off);
            HWCAP_EXTENSION | (self.hwcaps.len() as u64 - 1)
        }
        fn build(&self) -> Vec<u8> {
            let strings_at = NEW_HEADER + self.entries.len() * NEW_ENTRY;
            let ext_at = (strings_at + self.strings.len() + 3) & !3;
            let mut d = Vec::new();
            d.extend_from_slice(NEW_MAGIC);
            d.extend_from_slice(&(self.entries.len() as u32).to_le_bytes());
            d.extend_from_slice(&(self.strings.len() as u32).to_le_bytes());
            d.extend_from_slice(&[2, 0, 0, 0]);
            let ext_off = if self.hwcaps.is_empty() {
                0
            } else {
                ext_at as u32
            };
            d.extend_from_slice(&ext_off.to_le_bytes());
            d.extend_from_slice(&[0; 12]);
            assert_eq!(d.len(), NEW_HEADER);
            let s = strings_at as u32;
            // In ldconfig's order: decreasing keys, entries of one key as added.
            let mut entries = self.entries.clone();
            let key = |k: u32| string_at(&self.strings, k).unwrap();
            entries.sort_by(|a, b| cache_order(key(b.1), key(a.1)));
            for &(f, k, v, h) in &entries {
                d.extend_from_slice(&f.to_le_bytes());
                d.extend_from_slice(&(k + s).to_le_bytes());
                d.extend_from_slice(&(v + s).to_le_bytes());
                d.extend_from_slice(&0u32.to_le_bytes());
                d.extend_from_slice(&h.to_le_bytes());
            }
            d.extend_from_slice(&self.strings);
            if !self.hwcaps.is_empty() {
                d.resize(ext_at, 0);
                let data_at = ext_at + 8 + 16;
                d.extend_from_slice(&EXTENSION_MAGIC.to_le_bytes());
                d.extend_from_slice(&1u32.to_le_bytes());
                for x in [
                    EXTENSION_TAG_GLIBC_HWCAPS,
                    0,
                    data_at as u32,
                    4 * self.hwcaps.len() as u32,
                ] {
                    d.extend_from_slice(&x.to_le_bytes());
                }
                for &o in &self.hwcaps {
                    d.extend_from_slice(&(o + s).to_le_bytes());
                }
            }
            d
        }
    }

    const F: u32 = arch::CACHE_FLAGS;

    #[test]
    fn cache_first_matching_entry_wins() {
        let mut img = CacheImage::new();
        img.entry(0x0003, "liba.so.1", "/i386/liba.so.1", 0) // no 64-bit flag
            .entry(0x0803, "liba.so.1", "/x32/liba.so.1", 0)
            .entry(F, "liba.so.1", "/first/liba.so.1", 0)
            .entry(F, "liba.so.1", "/second/liba.so.1", 0)
            .entry(F, "libb.so.2", "/b/libb.so.2", 0)
            .entry(F, "libc-like.so", "/tls/libc-like.so", 1 << 63)
            .entry(0x0003, "libonly32.so", "/i386/libonly32.so", 0);
        let c = Cache::parse(&img.build(), &test_host());
        assert_eq!(c.lookup(b"liba.so.1"), Some(&b"/first/liba.so.1"[..]));
        assert_eq!(c.lookup(b"libb.so.2"), Some(&b"/b/libb.so.2"[..]));
        assert_eq!(c.lookup(b"libc-like.so"), Some(&b"/tls/libc-like.so"[..]));
        assert_eq!(c.lookup(b"libonly32.so"), None);
        assert_eq!(c.lookup(b"liba.so"), None);
        assert_eq!(c.lookup(b"liba.so.01"), None);
    }

    #[test]
    fn cache_legacy_hwcap_entries() {
        let mut img = CacheImage::new();
        img.entry(F, "libp.so", "/haswell/libp.so", 1 << 50) // platform haswell
            .entry(F, "libp.so", "/avx512/libp.so", 1 << 2) // hwcap avx512_1
            .entry(F, "libp.so", "/plain/libp.so", 0);
        let data = img.build();
        let c = Cache::parse(&data, &test_host());
        assert_eq!(c.lookup(b"libp.so"), Some(&b"/plain/libp.so"[..]));
        let intel = Host {
            platform: Some(b"haswell".to_vec()),
            platform_bit: 1 << 50,
            ..test_host()
        };
        let c = Cache::parse(&data, &intel);
        assert_eq!(c.lookup(b"libp.so"), Some(&b"/haswell/libp.so"[..]));
    }

    #[test]
    fn cache_glibc_hwcaps_entries() {
        let mut img = CacheImage::new();
        let v3 = img.hwcap_name("x86-64-v3");
        let v2 = img.hwcap_name("x86-64-v2");
        let odd = img.hwcap_name("power10");
        img.entry(F, "libh.so", "/odd/libh.so", odd)
            .entry(F, "libh.so", "/v2/libh.so", v2)
            .entry(F, "libh.so", "/v3/libh.so", v3)
            .entry(F, "libh.so", "/plain/libh.so", 0)
            .entry(F, "libg.so", "/v3/libg.so", v3)
            .entry(F, "libg.so", "/plain/libg.so", 0)
            .entry(F, "libn.so", "/v3/libn.so", v3 | (2 << 32)); // needs ISA level v3
        let data = img.build();

        let v2_only = test_host();
        let c = Cache::parse(&data, &v2_only);
        assert_eq!(c.lookup(b"libh.so"), Some(&b"/v2/libh.so"[..]));
        assert_eq!(c.lookup(b"libg.so"), Some(&b"/plain/libg.so"[..]));
        assert_eq!(c.lookup(b"libn.so"), None);

        let v3_host = Host {
            hwcaps_names: vec!["x86-64-v3", "x86-64-v2"],
            isa_levels: 0b111,
            ..test_host()
        };
        let c = Cache::parse(&data, &v3_host);
        assert_eq!(c.lookup(b"libh.so"), Some(&b"/v3/libh.so"[..]));
        assert_eq!(c.lookup(b"libg.so"), Some(&b"/v3/libg.so"[..]));
        assert_eq!(c.lookup(b"libn.so"), Some(&b"/v3/libn.so"[..]));

        let baseline = Host {
            hwcaps_names: vec![],
            isa_levels: 1,
            ..test_host()
        };
        let c = Cache::parse(&data, &baseline);
        assert_eq!(c.lookup(b"libh.so"), Some(&b"/plain/libh.so"[..]));
    }

    fn old_image(entries: &[(u32, &str, &str)]) -> Vec<u8> {
        let mut strings = Vec::new();
        let mut offs = Vec::new();
        for (_, k, v) in entries {
            let ko = strings.len() as u32;
            strings.extend_from_slice(k.as_bytes());
            strings.push(0);
            let vo = strings.len() as u32;
            strings.extend_from_slice(v.as_bytes());
            strings.push(0);
            offs.push((ko, vo));
        }
        let mut d = Vec::new();
        d.extend_from_slice(OLD_MAGIC);
        d.push(0);
        d.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        for ((f, _, _), (k, v)) in entries.iter().zip(&offs) {
            d.extend_from_slice(&f.to_le_bytes());
            d.extend_from_slice(&k.to_le_bytes());
            d.extend_from_slice(&v.to_le_bytes());
        }
        d.extend_from_slice(&strings);
        d
    }

    #[test]
    fn cache_old_format_and_combined() {
        let old = old_image(&[
            (F, "libo.so.1", "/old/libo.so.1"),
            (1, "libe.so", "/libc5/libe.so"),
        ]);
        let c = Cache::parse(&old, &test_host());
        assert_eq!(c.lookup(b"libo.so.1"), Some(&b"/old/libo.so.1"[..]));
        assert_eq!(c.lookup(b"libe.so"), None);

        // Old header and entries, padding to 8 bytes, then a new-format
        // block: the new one is used, its offsets counting from its own
        // header.
        let mut combined = old_image(&[(F, "libo.so.1", "/old/libo.so.1")]);
        let old_end = OLD_HEADER + OLD_ENTRY;
        let aligned = (old_end + 7) & !7;
        combined.truncate(old_end);
        combined.resize(aligned, 0);
        let mut img = CacheImage::new();
        img.entry(F, "libo.so.1", "/new/libo.so.1", 0);
        combined.extend_from_slice(&img.build());
        let c = Cache::parse(&combined, &test_host());
        assert_eq!(c.lookup(b"libo.so.1"), Some(&b"/new/libo.so.1"[..]));

        // A new block of the wrong endianness makes the whole file unusable.
        let mut bad = combined.clone();
        bad[aligned + 28] = 3;
        assert!(Cache::parse(&bad, &test_host()).is_empty());
    }

    #[test]
    fn cache_rejects_bad_headers() {
        let mut img = CacheImage::new();
        img.entry(F, "liba.so", "/a/liba.so", 0);
        let good = img.build();
        assert_eq!(Cache::parse(&good, &test_host()).len(), 1);

        let mut big_endian = good.clone();
        big_endian[28] = 3;
        assert!(Cache::parse(&big_endian, &test_host()).is_empty());
        let mut too_many = good.clone();
        too_many[20..24].copy_from_slice(&2u32.to_le_bytes());
        assert!(Cache::parse(&too_many, &test_host()).is_empty());
        assert!(Cache::parse(b"", &test_host()).is_empty());
        assert!(Cache::parse(NEW_MAGIC, &test_host()).is_empty());
        assert!(Cache::parse(b"not a cache at all, just some text", &test_host()).is_empty());
    }

    /// Small deterministic generator for the corruption tests.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    #[test]
    fn corrupted_caches_never_panic() {
        let host = test_host();
        let mut samples: Vec<Vec<u8>> = Vec::new();
        let mut img = CacheImage::new();
        let v2 = img.hwcap_name("x86-64-v2");
        img.entry(F, "liba.so", "/a/liba.so", 0)
            .entry(F, "libb.so", "/b/libb.so", v2);
        samples.push(img.build());
        samples.push(old_image(&[
            (F, "libo.so", "/o/libo.so"),
            (F, "libp.so", "/p/libp.so"),
        ]));
        if let Ok(real) = std::fs::read(LD_SO_CACHE) {
            samples.push(real);
        }

        let mut rng = Lcg(0x5eed);
        for base in &samples {
            // Every truncation of the first part, and a spread of the rest.
            let step = (base.len() / 500).max(1);
            for len in (0..base.len().min(200)).chain((200..base.len()).step_by(step)) {
                let _ = Cache::parse(&base[..len], &host);
            }
            // Random byte damage.
            for _ in 0..300 {
                let mut d = base.clone();
                for _ in 0..1 + rng.next() % 16 {
                    let i = rng.next() as usize % d.len();
                    d[i] = rng.next() as u8;
                }
                let _ = Cache::parse(&d, &host);
            }
            // Counts and offsets pushed to their limits.
            for field in [12usize, 20, 24, 32] {
                for v in [u32::MAX, u32::MAX - 7, 0x8000_0000, base.len() as u32, 1] {
                    let mut d = base.clone();
                    if d.len() >= field + 4 {
                        d[field..field + 4].copy_from_slice(&v.to_le_bytes());
                    }
                    let _ = Cache::parse(&d, &host);
                }
            }
            // Every 32-bit word replaced by an out-of-range value, one at a time.
            for at in (0..base.len().saturating_sub(4)).step_by(4).take(1500) {
                let mut d = base.clone();
                d[at..at + 4].copy_from_slice(&u32::MAX.to_le_bytes());
                let _ = Cache::parse(&d, &host);
            }
        }
        // Strings without a terminator and an extension pointing past the end.
        let mut img = CacheImage::new();
        let v2 = img.hwcap_name("x86-64-v2");
        img.entry(F, "libz", "/z", v2);
        let mut d = img.build();
        let n = d.len();
        d[n - 1] = b'x';
        let _ = Cache::parse(&d, &host);
        let mut d = img.build();
        d[32..36].copy_from_slice(&(n as u32 - 2).to_le_bytes());
        let _ = Cache::parse(&d, &host);
        let mut d = img.build();
        d.truncate(n - 5);
        let _ = Cache::parse(&d, &host);
    }

    // -- search order --------------------------------------------------------

    #[test]
    fn order_rpath_then_llp_then_runpath_then_cache_then_defaults() {
        let t = TempDir::new("order");
        for d in ["rp1", "rp2", "llp", "run", "cache", "def"] {
            t.file(&format!("{d}/libq.so"));
        }
        let mut img = CacheImage::new();
        img.entry(F, "libq.so", &t.s("cache/libq.so"), 0);
        let cache = Cache::parse(&img.build(), &test_host());
        let def = format!("{}/", t.s("def"));
        let defaults = [def.as_bytes()];
        let host = test_host();
        let llp = t.s("llp");

        let (rp1, rp2, rn) = (t.s("rp1"), t.s("rp2"), t.s("run"));
        let with_rpath = SearchPaths {
            rpath: vec![(&rp1, Origin::Dir(None)), (&rp2, Origin::Dir(None))],
            runpath: None,
        };
        let c = ctx(&host, &cache, Some(llp.as_bytes()), &defaults);
        assert_eq!(
            run(&c, "libq.so", &with_rpath).0,
            Some(t.0.join("rp1/libq.so"))
        );

        std::fs::remove_file(t.0.join("rp1/libq.so")).unwrap();
        assert_eq!(
            run(&c, "libq.so", &with_rpath).0,
            Some(t.0.join("rp2/libq.so"))
        );
        std::fs::remove_file(t.0.join("rp2/libq.so")).unwrap();
        assert_eq!(
            run(&c, "libq.so", &with_rpath).0,
            Some(t.0.join("llp/libq.so"))
        );

        // With a runpath the rpath list is not used, and LD_LIBRARY_PATH
        // still comes first.
        t.file("rp1/libq.so");
        let with_runpath = SearchPaths {
            rpath: vec![(&rp1, Origin::Dir(None))],
            runpath: Some((&rn, Origin::Dir(None))),
        };
        assert_eq!(
            run(&c, "libq.so", &with_runpath).0,
            Some(t.0.join("llp/libq.so"))
        );
        let c_nollp = ctx(&host, &cache, None, &defaults);
        assert_eq!(
            run(&c_nollp, "libq.so", &with_runpath).0,
            Some(t.0.join("run/libq.so"))
        );

        std::fs::remove_file(t.0.join("run/libq.so")).unwrap();
        assert_eq!(
            run(&c_nollp, "libq.so", &with_runpath).0,
            Some(t.0.join("cache/libq.so"))
        );
        std::fs::remove_file(t.0.join("cache/libq.so")).unwrap();
        assert_eq!(
            run(&c_nollp, "libq.so", &with_runpath).0,
            Some(t.0.join("def/libq.so"))
        );
        std::fs::remove_file(t.0.join("def/libq.so")).unwrap();
        let (hit, tried) = run(&c_nollp, "libq.so", &with_runpath);
        assert_eq!(hit, None);
        let expect: Vec<PathBuf> = ["run/libq.so", "cache/libq.so", "def/libq.so"]
            .iter()
            .map(|r| t.0.join(r))
            .collect();
        assert_eq!(tried, expect);
    }

    #[test]
    fn order_of_tried_candidates() {
        let t = TempDir::new("tried");
        for d in ["a", "b", "l1", "l2", "r"] {
            t.sub(d);
        }
        let cache = Cache::default();
        let host = test_host();
        let llp = format!("{}:{};{}", t.s("l1"), t.s("l2"), t.s("l1"));
        let (a, b, r) = (
            format!("{}:{}", t.s("a"), t.s("a")),
            t.s("b"),
            format!("{}//", t.s("r")),
        );
        let paths = SearchPaths {
            rpath: vec![(&a, Origin::Dir(None)), (&b, Origin::Dir(None)), ("", Origin::Dir(None))],
            runpath: None,
        };
        let c = ctx(&host, &cache, Some(llp.as_bytes()), &[]);
        let (hit, tried) = run(&c, "libnone.so", &paths);
        assert_eq!(hit, None);
        let expect: Vec<PathBuf> = [
            "a/libnone.so",
            "b/libnone.so",
            "l1/libnone.so",
            "l2/libnone.so",
        ]
        .iter()
        .map(|r| t.0.join(r))
        .collect();
        assert_eq!(tried, expect);

        let paths = SearchPaths {
            rpath: vec![(&a, Origin::Dir(None))],
            runpath: Some((&r, Origin::Dir(None))),
        };
        let (_, tried) = run(&c, "libnone.so", &paths);
        let expect: Vec<PathBuf> = ["l1/libnone.so", "l2/libnone.so", "r/libnone.so"]
            .iter()
            .map(|r| t.0.join(r))
            .collect();
        assert_eq!(tried, expect);
    }

    #[test]
    fn capability_subdirs_come_first() {
        let t = TempDir::new("hwcaps");
        t.file("d/libc1.so");
        t.file("d/tls/libc1.so");
        t.file("d/glibc-hwcaps/x86-64-v2/libc1.so");
        t.sub("d/glibc-hwcaps/x86-64-v3");
        t.file("d/glibc-hwcaps/x86-64-v3/libc1.so"); // not active on the test host
        let cache = Cache::default();
        let host = test_host();
        let d = t.s("d");
        let c = ctx(&host, &cache, None, &[]);
        let paths = SearchPaths {
            rpath: vec![],
            runpath: Some((&d, Origin::Dir(None))),
        };
        assert_eq!(
            run(&c, "libc1.so", &paths).0,
            Some(t.0.join("d/glibc-hwcaps/x86-64-v2/libc1.so"))
        );
        std::fs::remove_file(t.0.join("d/glibc-hwcaps/x86-64-v2/libc1.so")).unwrap();
        assert_eq!(
            run(&c, "libc1.so", &paths).0,
            Some(t.0.join("d/tls/libc1.so"))
        );
        std::fs::remove_file(t.0.join("d/tls/libc1.so")).unwrap();
        let (hit, tried) = run(&c, "libc1.so", &paths);
        assert_eq!(hit, Some(t.0.join("d/libc1.so")));
        assert_eq!(
            tried,
            [
                t.0.join("d/glibc-hwcaps/x86-64-v2/libc1.so"),
                t.0.join("d/tls/libc1.so"),
                t.0.join("d/libc1.so")
            ]
        );
    }

    #[test]
    fn directories_without_subdirectories_are_not_probed() {
        let t = TempDir::new("leaf");
        t.file("leaf/libl.so");
        t.file("full/libl.so");
        t.sub("full/other");
        let cache = Cache::default();
        assert!(HOST.subdirs.len() > 1, "the process's host has capability subdirectories");
        let c = Ctx { host: &HOST, ..ctx(&HOST, &cache, None, &[]) };
        let probed = |dir: &str| REMEMBERED.lock().subdirs.iter().any(|(d, _)| d.starts_with(dir.as_bytes()));
        for (dir, has_subdirs) in [("leaf", false), ("full", true)] {
            let d = t.s(dir) + "/";
            let paths = SearchPaths { rpath: vec![], runpath: Some((&d, Origin::Dir(None))) };
            let (hit, tried) = run(&c, "libl.so", &paths);
            assert_eq!(hit, Some(t.0.join(dir).join("libl.so")));
            assert_eq!(tried, [t.0.join(dir).join("libl.so")]);
            // The leaf is known to have none from one `stat` of it; the other one is asked.
            assert_eq!(probed(&d), has_subdirs, "{dir}");
        }
    }

    #[test]
    fn try_path_rejection_continues_the_search() {
        let t = TempDir::new("reject");
        t.file("wrong/libw.so");
        t.file("right/libw.so");
        let cache = Cache::default();
        let host = test_host();
        let list = format!("{}:{}", t.s("wrong"), t.s("right"));
        let c = ctx(&host, &cache, None, &[]);
        let paths = SearchPaths {
            rpath: vec![(&list, Origin::Dir(None))],
            runpath: None,
        };
        let wrong = t.0.join("wrong/libw.so");
        let hit = search_in(&c, b"libw.so", Origin::Dir(None), &paths, |p| {
            (p.is_file() && p != wrong).then(|| p.to_path_buf())
        });
        assert_eq!(hit, Some(t.0.join("right/libw.so")));
    }

    #[test]
    fn origin_in_search_lists() {
        let t = TempDir::new("origin");
        t.file("app/lib/libo.so");
        t.file("exe/x/libe.so");
        let cache = Cache::default();
        let host = test_host();
        let app = t.0.join("app");
        let c = ctx(&host, &cache, None, &[]);
        let paths = SearchPaths {
            rpath: vec![("$ORIGIN/lib", Origin::Dir(Some(&app)))],
            runpath: None,
        };
        assert_eq!(
            run(&c, "libo.so", &paths).0,
            Some(t.0.join("app/lib/libo.so"))
        );
        // Unknown origin: the entry is dropped.
        let paths = SearchPaths {
            rpath: vec![("${ORIGIN}/lib", Origin::Dir(None))],
            runpath: None,
        };
        let (hit, tried) = run(&c, "libo.so", &paths);
        assert_eq!((hit, tried.len()), (None, 0));
        let paths = SearchPaths {
            rpath: vec![],
            runpath: Some(("$ORIGIN/lib", Origin::Dir(Some(&app)))),
        };
        assert_eq!(
            run(&c, "libo.so", &paths).0,
            Some(t.0.join("app/lib/libo.so"))
        );

        // $ORIGIN in LD_LIBRARY_PATH is the executable's directory.
        let exe = t.0.join("exe").into_os_string().into_vec();
        let c = Ctx {
            exe_origin: Origin::Dir(Some(as_path(&exe))),
            llp: Some(b"$ORIGIN/x"),
            ..ctx(&host, &cache, None, &[])
        };
        assert_eq!(
            run(&c, "libe.so", &SearchPaths::default()).0,
            Some(t.0.join("exe/x/libe.so"))
        );
    }

    #[test]
    fn llp_empty_element_is_current_dir() {
        let cache = Cache::default();
        let host = test_host();
        let c = ctx(&host, &cache, Some(b"/nonexistent-relink-dir:"), &[]);
        let (_, tried) = run(&c, "libcwd.so", &SearchPaths::default());
        assert_eq!(
            tried,
            [
                PathBuf::from("/nonexistent-relink-dir/libcwd.so"),
                PathBuf::from("libcwd.so")
            ]
        );
        // An empty variable is no list at all.
        let c = ctx(&host, &cache, Some(b""), &[]);
        assert!(run(&c, "libcwd.so", &SearchPaths::default()).1.is_empty());
        // Semicolons separate too.
        let c = ctx(&host, &cache, Some(b"/n1;/n2"), &[]);
        assert_eq!(
            run(&c, "l.so", &SearchPaths::default()).1,
            [PathBuf::from("/n1/l.so"), PathBuf::from("/n2/l.so")]
        );
        // DT_RPATH/DT_RUNPATH split on ':' only.
        let c = ctx(&host, &cache, None, &[]);
        let paths = SearchPaths {
            rpath: vec![],
            runpath: Some(("/n1;/n2", Origin::Dir(None))),
        };
        assert_eq!(run(&c, "l.so", &paths).1, [PathBuf::from("/n1;/n2/l.so")]);
    }

    #[test]
    fn names_with_slash_are_tried_alone() {
        let t = TempDir::new("slash");
        t.file("o/libs.so");
        t.file("r/libs.so");
        let mut img = CacheImage::new();
        img.entry(F, "./libs.so", "/cache/libs.so", 0);
        let cache = Cache::parse(&img.build(), &test_host());
        let host = test_host();
        let r = t.s("r");
        let c = ctx(&host, &cache, Some(r.as_bytes()), &[b"/lib/"]);
        let paths = SearchPaths {
            rpath: vec![(&r, Origin::Dir(None))],
            runpath: Some((&r, Origin::Dir(None))),
        };

        let mut tried = Vec::new();
        let hit = search_in(&c, b"./libs.so", Origin::Dir(None), &paths, |p| {
            tried.push(p.to_path_buf());
            None::<()>
        });
        assert_eq!((hit, tried), (None, vec![PathBuf::from("./libs.so")]));

        let o = t.0.join("o");
        let mut tried = Vec::new();
        let hit = search_in(
            &c,
            b"$ORIGIN/libs.so",
            Origin::Dir(Some(&o)),
            &paths,
            |p| {
                tried.push(p.to_path_buf());
                p.is_file().then_some(())
            },
        );
        assert_eq!((hit, tried), (Some(()), vec![t.0.join("o/libs.so")]));

        let mut called = false;
        let hit = search_in(&c, b"$ORIGIN/libs.so", Origin::Dir(None), &paths, |_| {
            called = true;
            Some(())
        });
        assert_eq!((hit, called), (None, false));
        assert_eq!(search_in(&c, b"", Origin::Dir(None), &paths, |_| Some(())), None);
    }

    #[test]
    fn secure_mode_rules() {
        let t = TempDir::new("secure");
        t.file("l/libs.so");
        let cache = Cache::default();
        let host = test_host();
        let l = t.s("l");
        let c = Ctx {
            secure: true,
            ..ctx(&host, &cache, Some(l.as_bytes()), &[])
        };
        let (hit, tried) = run(&c, "libs.so", &SearchPaths::default());
        assert_eq!((hit, tried.len()), (None, 0));
        // $ORIGIN outside the system directories is refused.
        let o = t.0.join("l");
        let paths = SearchPaths {
            rpath: vec![("$ORIGIN", Origin::Dir(Some(&o)))],
            runpath: None,
        };
        let (hit, tried) = run(&c, "libs.so", &paths);
        assert_eq!((hit, tried.len()), (None, 0));
        // Plain directories still work.
        let paths = SearchPaths {
            rpath: vec![(&l, Origin::Dir(None))],
            runpath: None,
        };
        assert_eq!(run(&c, "libs.so", &paths).0, Some(t.0.join("l/libs.so")));
    }
}
