//! The unit cache: a unit linked from files is kept in a directory the caller names
//! (`rl_open_opts.cache_dir`), so that the next process that links the same inputs maps it as it
//! would map a shared library instead of linking it again.
//!
//! An entry is a file named after a 128-bit hash of its key: the unit's image, as the link wrote
//! it before relocation (position independent: see `Prepared::position_dependent`), padded to a
//! page, then a trailer: the whole key (compared, not only its hash), what the scope answered
//! about each name the unit imports (checked again against the scope of the new open: the
//! image's stubs and sizes depend on it), and which input needs each import (for messages).
//! The key: a format number and relink's version, the machine, the page size, the unit's name,
//! and each input in order, as named, with its whole-archive flag and, for the files relink
//! reads, device, inode, size, and modification and status change times.
//!
//! Only the effective user's files are trusted: the directory must be owned by the effective
//! user and writable by no one else (or nothing is cached), an entry likewise (or it is a miss);
//! entries are written to a new temporary file (mode 0600) renamed into place. Anything wrong
//! with an entry is a miss: the unit is linked and the entry replaced. Failing to write an entry
//! is no error of the open.

use super::{Needers, Outside, Scope};
use crate::debug::{report, FILES};
use crate::module::Module;
use crate::os::{self, Stamp};
use std::cell::RefCell;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// The layout of entries and of their keys: changed whenever either changes.
const FORMAT: u32 = 1;
/// The last 8 bytes of an entry.
const MAGIC: &[u8; 8] = b"RLUNIT\x00\x01";
/// The largest trailer read.
const MAX_TRAILER: u64 = 64 << 20;

/// How one input of a unit enters the cache key, in the order the inputs were given.
#[derive(Clone, Copy, Debug)]
pub enum KeyInput<'a> {
    /// An object or archive file relink reads: its name as given, whether it is linked whole,
    /// what `fstat` said of it when it was opened.
    File { name: &'a str, whole_archive: bool, stamp: Stamp },
    /// A shared object, by the name given (what it defines is checked by the scope answers).
    Shared(&'a str),
    /// An image in memory: such a unit is never cached.
    Memory,
}

/// What the scope answered about a name: absent, or a function or not, and its size.
type Answer = Option<(bool, u64)>;

/// The questions a link asked its scope, in order, with the answers (the names held, or read
/// in place from an entry).
type Answers<Name = Vec<u8>> = Vec<(Name, Answer)>;

/// A scope that remembers every question the link asked it, and the answer.
pub struct Recorder<'s> {
    scope: &'s dyn Scope,
    answers: RefCell<Answers>,
}

impl<'s> Recorder<'s> {
    pub fn new(scope: &'s dyn Scope) -> Recorder<'s> {
        Recorder { scope, answers: RefCell::new(Vec::new()) }
    }
}

impl Scope for Recorder<'_> {
    fn find(&self, name: &[u8]) -> Option<Outside> {
        let found = self.scope.find(name);
        self.answers.borrow_mut().push((name.to_vec(), found.map(|o| (o.func, o.size))));
        found
    }
}

/// The entry of one unit in a cache directory.
pub struct Entry {
    dir: PathBuf,
    key: Vec<u8>,
    /// The entry's path: `dir`, then the file name (32 hex digits).
    path: PathBuf,
    /// Whether every input file was unchanged for a while (see [`Stamp::settled`]): only then
    /// is an entry written, whose key then names one content of each.
    settled: bool,
}

/// Append a number to a key or trailer.
fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Append bytes with their length.
pub(super) fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    put_u64(out, b.len() as u64);
    out.extend_from_slice(b);
}

/// A reader of what [`put_u64`] and [`put_bytes`] wrote; `None` past the end.
pub(super) struct Reader<'b>(pub(super) &'b [u8]);

impl<'b> Reader<'b> {
    fn u64(&mut self) -> Option<u64> {
        let (head, rest) = self.0.split_first_chunk::<8>()?;
        self.0 = rest;
        Some(u64::from_le_bytes(*head))
    }

    pub(super) fn bytes(&mut self) -> Option<&'b [u8]> {
        let n = usize::try_from(self.u64()?).ok()?;
        let b = self.0.get(..n)?;
        self.0 = &self.0[n..];
        Some(b)
    }
}

impl Entry {
    /// The entry of the unit `name` made of `inputs` in `dir`; `None` when the unit is not
    /// cached (an input in memory, or a directory someone else could write into).
    pub fn new(dir: &Path, name: &str, inputs: &[KeyInput]) -> Option<Entry> {
        if inputs.iter().any(|i| matches!(i, KeyInput::Memory)) {
            return None;
        }
        if !os::is_private_dir(dir) {
            report!(FILES, "unit cache: {} is not a directory of this user that only it can write into: not used", dir.display());
            return None;
        }
        let mut key = Vec::with_capacity(256);
        key.extend_from_slice(b"relink unit\0");
        put_u64(&mut key, FORMAT as u64);
        put_bytes(&mut key, env!("CARGO_PKG_VERSION").as_bytes());
        put_bytes(&mut key, crate::arch::NAME.as_bytes());
        put_u64(&mut key, os::page_size() as u64);
        put_bytes(&mut key, name.as_bytes());
        let mut settled = true;
        for input in inputs {
            match *input {
                KeyInput::File { name, whole_archive, stamp } => {
                    key.push(1);
                    put_bytes(&mut key, name.as_bytes());
                    key.push(whole_archive as u8);
                    let Stamp { id, size, mtime, ctime } = stamp;
                    for v in [id.0, id.1, size, mtime.0 as u64, mtime.1 as u64, ctime.0 as u64, ctime.1 as u64] {
                        put_u64(&mut key, v);
                    }
                    settled &= stamp.settled();
                }
                KeyInput::Shared(name) => {
                    key.push(2);
                    put_bytes(&mut key, name.as_bytes());
                }
                KeyInput::Memory => unreachable!("refused above"),
            }
        }
        // Two 64-bit hashes of the key, seeded differently.
        let half = |seed: u8| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            seed.hash(&mut h);
            key.hash(&mut h);
            h.finish()
        };
        let mut path = dir.as_os_str().as_bytes().to_vec();
        if !path.ends_with(b"/") {
            path.push(b'/');
        }
        for h in [half(0), half(1)] {
            path.extend((0..16).rev().map(|i| b"0123456789abcdef"[(h >> (4 * i)) as usize & 15]));
        }
        let path = PathBuf::from(std::ffi::OsString::from_vec(path));
        Some(Entry { dir: dir.to_path_buf(), key, path, settled })
    }

    /// The entry's file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entry's file name (32 hex digits).
    fn file(&self) -> &str {
        // Made of ASCII hex digits in `new`.
        self.path.file_name().and_then(|f| f.to_str()).unwrap_or_default()
    }

    /// Map the unit from its entry, if there is a sound one whose scope answers `scope` still
    /// gives: the module (known by `file_id`), and which input needs each import. `None`: a miss.
    pub fn load(&self, scope: &dyn Scope, name: &str, origin: Option<PathBuf>, file_id: Option<(u64, u64)>, id: u64) -> Option<(Module, Needers)> {
        let path = self.path();
        let miss = |why: &str| report!(FILES, "unit cache: miss for {name} ({}): {why}", path.display());
        let file = match os::File::open_private(path) {
            Ok(f) => f,
            Err(e) => {
                miss(&crate::error::io_reason(&e));
                return None;
            }
        };
        let mut body = Vec::new();
        let Some((answers, needers)) = self.read_trailer(&file, &mut body) else {
            miss("not an entry of this unit");
            return None;
        };
        if let Some(n) = answers.iter().position(|(n, a)| scope.find(n).map(|o| (o.func, o.size)) != *a) {
            miss(&format!("{} is not defined as it was when the unit was linked", String::from_utf8_lossy(answers[n].0)));
            return None;
        }
        match crate::map::load_unit_file(file, name, origin, id, file_id) {
            Ok(m) => {
                report!(FILES, "unit cache: {name} mapped from {}", path.display());
                Some((m, needers))
            }
            Err(e) => {
                miss(&e.to_string());
                None
            }
        }
    }

    /// The scope answers and needers of the entry in `file`, if its trailer is sound and
    /// holds this entry's key. The trailer is read into `body`, which the answers' names are
    /// read from in place.
    fn read_trailer<'b>(&self, file: &os::File, body: &'b mut Vec<u8>) -> Option<(Answers<&'b [u8]>, Needers)> {
        let mut tail = [0u8; 16];
        file.read_at(&mut tail, file.size.checked_sub(16)?).ok()?;
        if tail[8..] != MAGIC[..] {
            return None;
        }
        let len = u64::from_le_bytes(tail[..8].try_into().ok()?);
        let start = (file.size - 16).checked_sub(len).filter(|_| len <= MAX_TRAILER)?;
        if start % os::page_size() as u64 != 0 {
            return None;
        }
        body.resize(len as usize, 0);
        file.read_at(body, start).ok()?;
        let mut r = Reader(body);
        if r.u64()? != FORMAT as u64 || r.u64()? > start || r.bytes()? != self.key {
            return None;
        }
        let mut answers = Vec::new();
        for _ in 0..r.u64()? {
            let name = r.bytes()?;
            let answer = match r.u64()? {
                0 => None,
                f @ (1 | 2) => Some((f == 2, r.u64()?)),
                _ => return None,
            };
            answers.push((name, answer));
        }
        let count = usize::try_from(r.u64()?).ok()?;
        Some((answers, Needers::from_encoded(r.0, count)?))
    }

    /// Write the entry: `image` (as linked, before relocation), what `recorder` heard, and the
    /// needers. Failures are only reported (with `RELINK_DEBUG=files`).
    pub fn store(&self, image: &[u8], recorder: Recorder, needers: &Needers) {
        if !self.settled {
            report!(FILES, "unit cache: an input of {} changed within the last seconds: not written", self.file());
            return;
        }
        let page = os::page_size();
        let padding = vec![0u8; image.len().next_multiple_of(page) - image.len()];
        let mut t = Vec::with_capacity(self.key.len() + 4096);
        put_u64(&mut t, FORMAT as u64);
        put_u64(&mut t, image.len() as u64);
        put_bytes(&mut t, &self.key);
        let answers = recorder.answers.into_inner();
        put_u64(&mut t, answers.len() as u64);
        for (name, answer) in &answers {
            put_bytes(&mut t, name);
            match *answer {
                None => put_u64(&mut t, 0),
                Some((func, size)) => {
                    put_u64(&mut t, 1 + func as u64);
                    put_u64(&mut t, size);
                }
            }
        }
        let (count, encoded) = needers.encoded();
        put_u64(&mut t, count as u64);
        t.extend_from_slice(encoded);
        let len = t.len() as u64;
        put_u64(&mut t, len);
        t.extend_from_slice(MAGIC);
        let [salt] = os::random_words::<1>();
        let temp = format!(".{}.{}.{salt:016x}", self.file(), std::process::id());
        match os::write_replacing(&self.dir, &temp, self.file(), &[image, &padding, &t]) {
            Ok(()) => report!(FILES, "unit cache: wrote {}", self.path().display()),
            Err(e) => report!(FILES, "unit cache: cannot write {}: {e}", self.path().display()),
        }
    }
}

/// Remove an entry the unit it held failed to load from (relocation, initialization checks,
/// unwind tables): the next link of the unit writes it again.
pub fn discard(entry: &Path) {
    report!(FILES, "unit cache: {} failed to load: removed", entry.display());
    if let Err(e) = os::remove_file(entry) {
        report!(FILES, "unit cache: cannot remove {}: {e}", entry.display());
    }
}
