//! Lookups through a handle without the registry's lock: a per-handle table of every name the
//! handle's scope answers, read through a lock-free table of handles.
//!
//! A handle that keeps being searched gets an [`Index`]: the answer of an explicit unversioned
//! lookup (what `rl_sym` searches) for every name its scope defines, first definition in the
//! scope's breadth-first order, taken from `SymTab::lookup` itself, so that it agrees with
//! the slow path name by name. It is an open-addressing table of 16-byte slots (a tag of the
//! name's hash, the object's position in the scope, the name's offset in that object's string
//! table, and the symbol's address), hashed with [`name_hash`], which reads the name 8 bytes at
//! a time: a hit reads one slot and the name it compares, never the symbol table. Names whose answer depends on more
//! than the symbol — STB_GNU_UNIQUE definitions (the unique-symbol table decides), IFUNCs (the
//! resolver runs, with no lock held) and TLS variables (the calling thread's address) — are
//! marked, and go the slow way. The table holds its scope's objects, so they stay mapped as
//! long as a reader can be inside it.
//!
//! Indexes are published in [`TABLES`], indexed by the low bits of the handle's object id, and
//! checked against the whole id: ids are never reused, so a stale handle (or a forged one)
//! never finds another library's table, and goes the slow way to be rejected. The registry
//! publishes an index only while its handle is open, and takes it out (`retire`) before the
//! handle stops being valid, under its write lock.
//!
//! Reclamation uses hazard pointers: a reader announces the index it is about to read in its
//! thread's [`Record`], then checks it is still published. A retired index is freed once no
//! record announces it. The reader's side of the protocol is a plain store and a compiler
//! barrier: the writer's side makes it a full one for every thread with `membarrier(2)`
//! (`os::barrier_all_threads`); where the kernel refuses that, readers use a full fence.
//!
//! Lazy bindings read the global scope the same way ([`with_global`]): the registry publishes
//! each scope it builds, and a replaced one is retired and reclaimed with the indexes.

use crate::module::Module;
use crate::raw::Sym;
use std::sync::atomic::{compiler_fence, fence, AtomicBool, AtomicPtr, Ordering};
use std::sync::Arc;

/// Number of handle slots (a power of two): a handle whose slot another open handle holds
/// keeps the slow path.
const SLOTS: usize = 1024;

static TABLES: [AtomicPtr<Index>; SLOTS] = [const { AtomicPtr::new(std::ptr::null_mut()) }; SLOTS];

/// Whether every thread's barrier comes from the writer's `membarrier(2)`.
static ASYMMETRIC: AtomicBool = AtomicBool::new(false);

/// A handle's lookup table.
pub struct Index {
    id: u64,
    /// Holds the objects `objects` reads.
    scope: Box<[Arc<Module>]>,
    objects: Box<[Object]>,
    /// Right shift taking a hash to a slot index (64 minus log2 of the slot count).
    shift: u32,
    slots: Box<[Slot]>,
}

/// What a lookup reads of an object of the scope: its string table.
struct Object {
    strtab: &'static [u8],
}

#[derive(Clone, Copy, Default)]
struct Slot {
    tag: u32,
    /// 0: empty. Else [`SLOW`], the object's position in the scope (7 bits) and the name's
    /// offset in its string table (24 bits, never 0: that is the empty name).
    entry: u32,
    /// The symbol's address (unused for a [`SLOW`] one).
    addr: usize,
}

const SLOW: u32 = 1 << 31;
const MAX_OBJECTS: usize = 1 << 7;
const MAX_NAME: u32 = 1 << 24;

/// What the table says of a name.
pub enum Answer<'a> {
    /// Its address.
    Found(usize),
    /// Nothing in the scope defines it; the file searched (for the message).
    Missing(&'a str),
    /// The slow path must answer.
    Slow,
}

/// A hash of a symbol name for [`Index`], reading the name 8 bytes at a time.
#[inline]
pub fn name_hash(name: &[u8]) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = (name.len() as u64).wrapping_mul(K);
    let mut words = name.chunks_exact(8);
    for w in &mut words {
        let w = u64::from_le_bytes(w.try_into().unwrap_or_default());
        h = (h ^ w).wrapping_mul(K).rotate_left(31);
    }
    let rest = words.remainder();
    if !rest.is_empty() {
        // The last 8 bytes of a longer name, shifted to keep the ones left over; of a shorter
        // one, two 4-byte words that may overlap (the length tells them apart).
        let tail = match name.len().checked_sub(8) {
            Some(at) => u64::from_le_bytes(name[at..].try_into().unwrap_or_default()) >> (64 - 8 * rest.len()),
            None => crate::raw::short_word(name),
        };
        h = (h ^ tail).wrapping_mul(K);
    }
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^ (h >> 32)
}

impl Index {
    /// Build the table of the handle on object `id` over `scope` (the object first). None when
    /// the scope is too large for the slot encoding.
    pub fn build(id: u64, scope: &[Arc<Module>]) -> Option<Box<Index>> {
        if scope.len() > MAX_OBJECTS {
            return None;
        }
        // Every name with its answer in the first object that answers it.
        let mut found: Vec<(u64, Slot)> = Vec::new();
        for (pos, m) in scope.iter().enumerate() {
            let t = &m.symtab;
            if t.strtab.0.len() > MAX_NAME as usize {
                return None;
            }
            for idx in 1..t.len() as u32 {
                let Some(def) = t.explicit_answer(idx) else { continue };
                let sym = t.sym(def)?;
                let slow = matches!(sym.kind(), elf::abi::STT_GNU_IFUNC | elf::abi::STT_TLS) || sym.bind() == elf::abi::STB_GNU_UNIQUE;
                let entry = (pos as u32) << 24 | sym.st_name | if slow { SLOW } else { 0 };
                found.push((name_hash(t.name(sym)), Slot { tag: 0, entry, addr: value(m, sym) }));
            }
        }
        // At most half full: a miss then probes about 2.5 slots on average (linear probing).
        let bits = (found.len() * 2).max(8).next_power_of_two().trailing_zeros();
        let objects = scope.iter().map(|m| Object { strtab: m.symtab.strtab.0 }).collect();
        let mut index = Index {
            id,
            scope: scope.into(),
            objects,
            shift: 64 - bits,
            slots: vec![Slot::default(); 1 << bits].into_boxed_slice(),
        };
        for (h, new) in found {
            let name = index.objects[(new.entry >> 24 & 0x7f) as usize].strtab.get((new.entry & (MAX_NAME - 1)) as usize..)?;
            let name = &name[..name.iter().position(|&c| c == 0)?];
            let mask = index.slots.len() - 1;
            let mut i = (h >> index.shift) as usize;
            loop {
                let s = index.slots[i];
                if s.entry == 0 {
                    index.slots[i] = Slot { tag: h as u32, ..new };
                    break;
                }
                // The same name answered earlier in the scope (or twice by one object): the
                // first answer stays.
                if s.tag == h as u32 && index.named(s.entry, name) {
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        Some(Box::new(index))
    }

    /// Whether the name of an entry is `name`.
    #[inline]
    fn named(&self, entry: u32, name: &[u8]) -> bool {
        self.objects.get((entry >> 24 & 0x7f) as usize).is_some_and(|o| crate::raw::StrTab(o.strtab).eq(entry & (MAX_NAME - 1), name))
    }

    /// What the scope answers for `name`.
    #[inline]
    fn answer(&self, name: &[u8]) -> Answer<'_> {
        let h = name_hash(name);
        let mask = self.slots.len() - 1;
        let mut i = (h >> self.shift) as usize;
        loop {
            let s = self.slots[i];
            if s.entry == 0 {
                return Answer::Missing(self.scope[0].name());
            }
            if s.tag == h as u32 && self.named(s.entry, name) {
                if s.entry & SLOW != 0 {
                    return Answer::Slow;
                }
                return Answer::Found(s.addr);
            }
            i = (i + 1) & mask;
        }
    }
}

/// The address of a definition `sym` of `m`, as `Binding::value` gives it.
fn value(m: &Module, sym: &'static Sym) -> usize {
    crate::resolve::Binding { module: m, sym }.value()
}

/// The global scope as lazy bindings read it, without taking a reference: published by the
/// registry each time it rebuilds the scope, and reclaimed like a handle's [`Index`].
pub struct GlobalScope(Arc<[Arc<Module>]>);

/// The global scope last published; null while bindings must ask the registry (see
/// [`publish_global`]).
static GLOBAL: AtomicPtr<GlobalScope> = AtomicPtr::new(std::ptr::null_mut());

/// A thread's announcement of the index and the global scope it reads. Records are never
/// freed: a thread that ends leaves its record for the next one.
struct Record {
    hazard: AtomicPtr<Index>,
    scope: AtomicPtr<GlobalScope>,
    free: AtomicBool,
    next: *const Record,
}

// SAFETY: `next` is written once, before the record is shared, and never changes.
unsafe impl Sync for Record {}

static RECORDS: AtomicPtr<Record> = AtomicPtr::new(std::ptr::null_mut());

fn claim_record() -> &'static Record {
    let mut p = RECORDS.load(Ordering::Acquire) as *const Record;
    while !p.is_null() {
        // SAFETY: records are leaked: every pointer on the list stays valid.
        let r = unsafe { &*p };
        if r.free.load(Ordering::Relaxed) && r.free.compare_exchange(true, false, Ordering::Acquire, Ordering::Relaxed).is_ok() {
            return r;
        }
        p = r.next;
    }
    let r: &'static mut Record =
        Box::leak(Box::new(Record {
            hazard: AtomicPtr::new(std::ptr::null_mut()),
            scope: AtomicPtr::new(std::ptr::null_mut()),
            free: AtomicBool::new(false),
            next: std::ptr::null(),
        }));
    let mut head = RECORDS.load(Ordering::Acquire);
    loop {
        r.next = head;
        match RECORDS.compare_exchange_weak(head, r, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => return r,
            Err(now) => head = now,
        }
    }
}

fn records() -> impl Iterator<Item = &'static Record> {
    let mut p = RECORDS.load(Ordering::Acquire) as *const Record;
    std::iter::from_fn(move || {
        // SAFETY: records are leaked: every pointer on the list stays valid.
        let r = unsafe { p.as_ref() }?;
        p = r.next;
        Some(r)
    })
}

/// The calling thread's record, given back when the thread ends.
struct Owner(&'static Record);

impl Drop for Owner {
    fn drop(&mut self) {
        crate::arch::hot_set(crate::arch::HOT_RECORD, 0);
        self.0.hazard.store(std::ptr::null_mut(), Ordering::Release);
        self.0.scope.store(std::ptr::null_mut(), Ordering::Release);
        self.0.free.store(true, Ordering::Release);
    }
}

thread_local! {
    static OWNER: std::cell::OnceCell<Owner> = const { std::cell::OnceCell::new() };
}

/// The calling thread's record once it has one (read on every lookup, from a word of
/// per-thread state that needs no `__tls_get_addr` call where the machine allows).
#[inline]
fn my_record() -> Option<&'static Record> {
    let p = crate::arch::hot_get(crate::arch::HOT_RECORD) as *const Record;
    if p.is_null() {
        return claim_mine();
    }
    // SAFETY: records are leaked: every pointer to one stays valid.
    Some(unsafe { &*p })
}

/// Claim a record for the calling thread; None once the thread is ending.
#[cold]
fn claim_mine() -> Option<&'static Record> {
    OWNER
        .try_with(|o| {
            let r = o.get_or_init(|| Owner(claim_record())).0;
            crate::arch::hot_set(crate::arch::HOT_RECORD, r as *const Record as usize);
            r
        })
        .ok()
}

/// Look `name` up through the handle on object `id` with its table, if it has one; `f` gets
/// the answer while the table is held. None: no table (the slow path answers).
#[inline]
pub fn with_answer<R>(id: u64, name: &[u8], f: impl FnOnce(Answer) -> R) -> Option<R> {
    let slot = &TABLES[id as usize & (SLOTS - 1)];
    if slot.load(Ordering::Relaxed).is_null() {
        return None;
    }
    let mine = my_record()?;
    {
        let p = slot.load(Ordering::Acquire);
        // A signal handler's lookup inside another one puts the outer announcement back.
        let outer = mine.hazard.load(Ordering::Relaxed);
        mine.hazard.store(p, Ordering::Relaxed);
        announced();
        let r = if p.is_null() || slot.load(Ordering::Acquire) != p {
            None
        } else {
            // SAFETY: announced in this thread's record and still published after that: a
            // writer that retires it from now on sees the announcement and keeps it.
            let index = unsafe { &*p };
            (index.id == id).then(|| f(index.answer(name)))
        };
        mine.hazard.store(outer, Ordering::Release);
        r
    }
}

/// The reader's barrier between announcing a pointer and checking it is still published.
#[inline]
fn announced() {
    if ASYMMETRIC.load(Ordering::Relaxed) {
        compiler_fence(Ordering::SeqCst);
    } else {
        fence(Ordering::SeqCst);
    }
}

/// Run `f` with the global scope as last published, held by the calling thread's announcement
/// instead of a reference (what `f` finds stays loaded until it returns). None, without calling
/// `f`, when the registry must answer: no scope published, no record, or the thread already
/// announces one (a binding inside another, from a resolver, a hook or a signal handler).
#[inline]
pub fn with_global<R>(f: impl FnOnce(&[Arc<Module>]) -> R) -> Option<R> {
    let mine = my_record()?;
    if !mine.scope.load(Ordering::Relaxed).is_null() {
        return None;
    }
    let p = GLOBAL.load(Ordering::Acquire);
    if p.is_null() {
        return None;
    }
    mine.scope.store(p, Ordering::Relaxed);
    announced();
    let r = (GLOBAL.load(Ordering::Acquire) == p).then(|| {
        // SAFETY: announced in this thread's record and still published after that: a writer
        // that retires it from now on sees the announcement and keeps it.
        f(&unsafe { &*p }.0)
    });
    mine.scope.store(std::ptr::null_mut(), Ordering::Release);
    r
}

/// Publish the global scope `view` for lazy bindings (none when `transient`: the registry must
/// then check the host's objects at each binding); the one published before goes to `retired`.
/// The registry calls this under its write lock each time it rebuilds the scope.
pub fn publish_global(view: &Arc<[Arc<Module>]>, transient: bool, retired: &mut Vec<Retired>) {
    register_barrier();
    let new = match transient {
        true => std::ptr::null_mut(),
        false => Box::into_raw(Box::new(GlobalScope(view.clone()))),
    };
    let old = GLOBAL.swap(new, Ordering::SeqCst);
    if !old.is_null() {
        retired.push(Retired(Held::Scope(old)));
    }
}

/// Make the readers' barrier a compiler barrier if the kernel lets writers use `membarrier(2)`.
fn register_barrier() {
    if !ASYMMETRIC.load(Ordering::Relaxed) && crate::os::barrier_all_threads_init() {
        ASYMMETRIC.store(true, Ordering::Release);
    }
}

/// Publish `index` for its handle: false when the slot is taken (by another open handle).
/// The registry calls this with the handle open, under its lock.
pub fn publish(index: Box<Index>) -> std::result::Result<(), Box<Index>> {
    register_barrier();
    let slot = &TABLES[index.id as usize & (SLOTS - 1)];
    let p = Box::into_raw(index);
    match slot.compare_exchange(std::ptr::null_mut(), p, Ordering::AcqRel, Ordering::Relaxed) {
        Ok(_) => Ok(()),
        // SAFETY: `p` came from `Box::into_raw` above and was not shared.
        Err(_) => Err(unsafe { Box::from_raw(p) }),
    }
}

/// Take the index of the handle on object `id` out of [`TABLES`], if it has one; it goes to
/// `retired` until no reader holds it. The registry calls this before the handle stops being
/// valid, under its write lock.
pub fn retire(id: u64, retired: &mut Vec<Retired>) {
    let slot = &TABLES[id as usize & (SLOTS - 1)];
    let p = slot.load(Ordering::Acquire);
    // SAFETY: a published index is freed only after it left its slot, which only the registry
    // does, under the lock the caller holds.
    if p.is_null() || unsafe { &*p }.id != id {
        return;
    }
    slot.store(std::ptr::null_mut(), Ordering::SeqCst);
    retired.push(Retired(Held::Index(p)));
}

/// An index taken out of [`TABLES`], or a global scope replaced, still perhaps read by other
/// threads.
pub struct Retired(Held);

enum Held {
    Index(*mut Index),
    Scope(*mut GlobalScope),
}

/// What [`reclaim`] frees, to be dropped with no lock held.
pub enum Reclaimed {
    Index { _index: Box<Index> },
    Scope { _scope: Box<GlobalScope> },
}

// SAFETY: the index is only read by readers, and dropped by whoever owns the `Retired`.
unsafe impl Send for Retired {}
// SAFETY: as above; a shared `Retired` gives no access to the index.
unsafe impl Sync for Retired {}

/// The retired indexes no reader holds any more, taken out of `retired`, to be dropped with no
/// lock held (dropping one may unmap its objects).
pub fn reclaim(retired: &mut Vec<Retired>) -> Vec<Reclaimed> {
    if retired.is_empty() {
        return Vec::new();
    }
    let barrier = if ASYMMETRIC.load(Ordering::Acquire) {
        crate::os::barrier_all_threads()
    } else {
        fence(Ordering::SeqCst);
        true
    };
    if !barrier {
        // Readers might still be inside: keep them (for a later attempt).
        return Vec::new();
    }
    let held: Vec<(*mut Index, *mut GlobalScope)> = records().map(|r| (r.hazard.load(Ordering::Acquire), r.scope.load(Ordering::Acquire))).collect();
    let mut free = Vec::new();
    retired.retain(|r| {
        match r.0 {
            Held::Index(p) if !held.iter().any(|h| h.0 == p) => {
                // SAFETY: out of its slot and announced by no reader after the barrier: no
                // thread can reach it any more. It came from `Box::into_raw` in `publish`.
                free.push(Reclaimed::Index { _index: unsafe { Box::from_raw(p) } });
            }
            Held::Scope(p) if !held.iter().any(|h| h.1 == p) => {
                // SAFETY: no longer the published scope and announced by no reader after the
                // barrier, as above. It came from `Box::into_raw` in `publish_global`.
                free.push(Reclaimed::Scope { _scope: unsafe { Box::from_raw(p) } });
            }
            _ => return true,
        }
        false
    });
    free
}

/// In a child process: the records of the parent's other threads announce nothing any more.
pub fn fork_child() {
    let me = crate::arch::hot_get(crate::arch::HOT_RECORD) as *const Record;
    for r in records().filter(|&r| !std::ptr::eq(r, me)) {
        r.hazard.store(std::ptr::null_mut(), Ordering::Relaxed);
        r.scope.store(std::ptr::null_mut(), Ordering::Relaxed);
        r.free.store(true, Ordering::Relaxed);
    }
}

/// How many lookups through the slow path a handle whose scope has `symbols` symbols gets
/// before its table is built. Building costs about as much per symbol as one slow lookup (more
/// for long C++ names), so waiting for as many lookups as the scope has symbols keeps a handle
/// that is searched a few times only from paying for a table it does not use (at most about
/// twice what its lookups would have cost), as renting until the price of buying does.
pub fn build_after(scope: &[Arc<Module>]) -> u32 {
    let symbols: usize = scope.iter().map(|m| m.symtab.len()).sum();
    (16 + symbols).min(u32::MAX as usize) as u32
}
