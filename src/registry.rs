//! Stage 6 — registry: the process-wide table of loaded objects and reference-counted handles.
//!
//! Locking: one `RwLock`. Symbol lookups (`sym`) take it shared, except those a handle's lookup
//! table answers (`symcache`), which take no lock. `open` and `close` take it
//! upgradable (so lookups go on while an object is mapped and relocated) and exclusive only to
//! commit. Initializers and finalizers run with no lock held, so they may call back into relink.
//!
//! Unloading is mark and sweep, as in glibc: objects reachable from an open handle (or pinned by
//! NODELETE / STB_GNU_UNIQUE) through their dependencies stay; the rest are finalized, dependents
//! first, and unmapped.

use crate::error::{Error, Result};
use crate::hooks::{self, Event, Lookups, OpenHooks};
use crate::map::{self, Source};
use crate::module::Module;
use crate::resolve::{self, Found, Known};
use crate::raw::Sym;
use crate::symbols::{Query, Version};
use crate::{init, relocate, symcache};
use once_cell::sync::Lazy;
use crate::sync::{Condvar, Mutex, RwLock, RwLockUpgradableReadGuard};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

/// Signalled whenever a group of objects finishes initializing, so that a thread opening a
/// library whose constructors another thread is still running waits for them (as with glibc).
static INIT_DONE: (Mutex<()>, Condvar) = (Mutex::new(()), Condvar::new());

/// Wait until every object in `scope` is initialized, unless this thread is the one running its
/// initializers (a constructor that opens its own library gets it as it is, as with glibc).
fn wait_initialized(scope: &[Arc<Module>]) {
    let me = crate::os::thread_id();
    let pending = || scope.iter().any(|m| !m.initialized.load(Ordering::Acquire) && m.init_owner.load(Ordering::Relaxed) != me);
    if !pending() {
        return;
    }
    let mut g = INIT_DONE.0.lock();
    while pending() {
        INIT_DONE.1.wait(&mut g);
    }
}

pub const LAZY: i32 = 0x1;
pub const NOW: i32 = 0x2;
pub const NOLOAD: i32 = 0x4;
pub const DEEPBIND: i32 = 0x8;
pub const GLOBAL: i32 = 0x100;
pub const NODELETE: i32 = 0x1000;

pub use crate::module::Handle;

struct Entry {
    module: Arc<Module>,
    /// Direct DT_NEEDED dependencies.
    needed: Vec<Arc<Module>>,
    /// Objects outside the dependency tree that relocations bound to (kept alive too).
    reldeps: Vec<Arc<Module>>,
    /// Breadth-first dependency scope, the object itself first.
    scope: Vec<Arc<Module>>,
    /// References held through handles.
    opens: usize,
    nodelete: bool,
    /// Position in initialization order; finalizers run in the reverse order.
    init_seq: u64,
    /// The library whose open loaded it (itself for a root): its scope is the object's group,
    /// which `RL_NEXT` and `RL_DEFAULT` lookups from the object's code search.
    root: u64,
    /// Lookups through the handle by the slow path since it was opened (its lookup table is
    /// built after a number of them: see `symcache::build_after`).
    lookups: AtomicU32,
}

impl Entry {
    /// Whether the object can never be unloaded: NODELETE, or one of its STB_GNU_UNIQUE
    /// definitions is in use (glibc marks such objects NODELETE too). As with glibc, its handle
    /// then stays valid for good and closing it does nothing.
    fn permanent(&self) -> bool {
        self.nodelete || self.module.unique_in_use.load(Ordering::Relaxed)
    }

    /// Whether a handle on the object may be used.
    fn is_open(&self) -> bool {
        self.opens > 0 || self.permanent()
    }
}

/// Module ids are small distinct integers: a multiplicative hash is all a map of them needs (the
/// default SipHash would dominate `rl_sym`).
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = v.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type IdMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<IdHasher>>;

struct Registry {
    host: Vec<Arc<Module>>,
    /// How many of `host`, first, the system loader loaded at startup (never unloaded).
    host_startup: usize,
    host_gen: (u64, u64),
    entries: IdMap<Entry>,
    /// Roots opened with RL_GLOBAL, in order; their scopes join the global scope.
    global: Vec<u64>,
    /// The global scope, rebuilt whenever it changes: cloning it is one reference count, so
    /// global lookups and lazy binding need no allocation.
    global_view: Arc<[Arc<Module>]>,
    /// Whether some host objects are not classified yet (see `prepare_host_view`).
    unclassified: bool,
    next_id: u64,
    next_seq: u64,
    /// Objects mapped and unmapped so far (dl_iterate_phdr's dlpi_adds / dlpi_subs).
    adds: u64,
    subs: u64,
    /// Opens that took a reference and have not returned it to their caller yet (their
    /// constructors, or those of an object they wait for, are running): (root id, thread).
    in_flight: Vec<(u64, u64)>,
    /// glibc's unique-symbol table: by name, the STB_GNU_UNIQUE definition every binding of the
    /// name gets once one was bound. Entries stay for good (their objects are pinned). Lazy
    /// binding and `rl_sym` add to it under a shared lock of the registry, hence its own mutex,
    /// only ever taken inside the registry lock and never held across another lock.
    /// (SipHash with fixed keys: the names come from loaded objects, and random keys would cost
    /// the first open of a process a `getrandom` call.)
    unique: Mutex<HashMap<Box<[u8]>, UniqueDef, std::hash::BuildHasherDefault<std::collections::hash_map::DefaultHasher>>>,
    /// Objects finalized at exit, kept (and mapped): code later in the exit sequence may still
    /// point into them.
    finalized_at_exit: Vec<Entry>,
    /// Lookup tables of handles no longer open that a thread may still be reading.
    retired: Vec<symcache::Retired>,
}

/// An STB_GNU_UNIQUE definition: its object and symbol.
type UniqueDef = (Arc<Module>, &'static Sym);

static REGISTRY: Lazy<RwLock<Registry>> = Lazy::new(|| {
    crate::arch::init();
    // What binding and relink's `__cxa_thread_atexit` ask of the registry.
    relocate::set_registry(relocate::Registry { definition, global_scope_now });
    crate::runtime::set_keeper(crate::runtime::Keeper { pin, collect });
    let mut r = Registry {
        host: Vec::new(),
        host_startup: 0,
        host_gen: (u64::MAX, u64::MAX),
        entries: IdMap::default(),
        global: Vec::new(),
        global_view: Arc::new([]),
        unclassified: false,
        next_id: 2,
        next_seq: 0,
        adds: 0,
        subs: 0,
        in_flight: Vec::new(),
        unique: Default::default(),
        finalized_at_exit: Vec::new(),
        retired: Vec::new(),
    };
    r.refresh_host_from(&crate::host::list());
    // Like the system loader, run the finalizers of libraries still loaded when the process exits.
    crate::os::at_exit(finalize_all_at_exit);
    RwLock::new(r)
});

extern "C" fn finalize_all_at_exit() {
    // exit() called from inside a load (a constructor, a hook) finds the lock taken: the objects
    // are left as they are then.
    let Some(mut w) = REGISTRY.try_write_for(std::time::Duration::from_millis(100)) else { return };
    let ids: Vec<u64> = w.entries.iter().filter(|(_, e)| !e.module.is_host).map(|(id, _)| *id).collect();
    // Their lookup tables stay retired for good: the objects stay mapped anyway.
    for &id in &ids {
        w.handle_closed(id);
    }
    w.global.clear();
    w.rebuild_global();
    let gone: Vec<Entry> = ids.iter().filter_map(|id| w.entries.remove(id)).collect();
    drop(w);
    // Finalized but left mapped: code later in the exit sequence may still point into them.
    let gone = finalize(gone);
    match REGISTRY.try_write_for(std::time::Duration::from_millis(100)) {
        Some(mut w) => w.finalized_at_exit.extend(gone),
        None => std::mem::forget(gone),
    }
}

/// Run the finalizers of objects removed from the table, dependents first, and tell the event
/// callbacks. Returns them, still mapped: dropping them unmaps what nothing else holds.
fn finalize(mut gone: Vec<Entry>) -> Vec<Entry> {
    gone.sort_by_key(|e| std::cmp::Reverse(e.init_seq));
    for e in gone.iter().filter(|e| !e.module.is_host) {
        // Finalizers only of objects whose initializers ran (a child of `fork()` drops objects
        // whose constructors another thread of the parent was running).
        if e.module.initialized.load(Ordering::Acquire) {
            init::run_fini(&e.module);
        }
        hooks::notify(Event::Unmap, &e.module);
    }
    // Break reference cycles between objects going together (lazy bindings into each other).
    for e in &gone {
        if let Some(image) = &e.module.image {
            image.lazy_pins.lock().clear();
        }
    }
    gone
}

/// Finalize objects removed from the table and unmap what nothing else holds. Their frames
/// leave the unwinders first: objects going together may provide each other's unwinder, and
/// must not keep each other mapped through it.
fn unload(gone: Vec<Entry>) {
    let gone = finalize(gone);
    for e in &gone {
        if let Some(image) = &e.module.image {
            crate::unwind::deregister(image);
        }
    }
    drop(gone);
}

impl Registry {
    /// Take the host's objects from the system loader's list `found`, made when its counters
    /// were `gen`. An object relink has read already is kept when it is still at its place
    /// under the same name, and either nothing was unmapped since, or it was loaded at startup
    /// (the system loader never unloads those), or relink holds a reference on it (so it cannot
    /// have been replaced by another at the same address).
    fn refresh_host_from(&mut self, listed: &crate::host::Listed) {
        let none_gone = listed.gen.1 == self.host_gen.1;
        self.host_gen = listed.gen;
        let old = std::mem::take(&mut self.host);
        let old_startup = self.host_startup;
        let mut next = self.next_id;
        let reuse = |f: &crate::host::Found, name: &str| {
            old.iter()
                .enumerate()
                .find(|(_, o)| o.bias == f.addr && o.phdr.0 == f.phdr && (name.is_empty() || o.name() == name))
                .filter(|&(i, o)| none_gone || i < old_startup || o.glibc_ref.get().is_some_and(|&h| h != 0))
                .map(|(_, o)| o.clone())
        };
        (self.host, self.host_startup) = crate::host::modules(listed, reuse, &mut || {
            next += 1;
            next - 1
        });
        self.next_id = next;
        self.unclassified = self.host.iter().any(|m| m.host_local.get().is_none());
        self.rebuild_global();
    }

    /// Rebuild [`Registry::global_view`]: the host's objects, then the scopes of the libraries
    /// opened RL_GLOBAL, in order, each object once.
    fn rebuild_global(&mut self) {
        // Host objects opened RTLD_LOCAL are not in the global scope (unclassified ones count).
        let mut v: Vec<Arc<Module>> = self.host.iter().filter(|m| m.host_local.get() != Some(&true)).cloned().collect();
        for id in &self.global {
            if let Some(e) = self.entries.get(id) {
                for m in &e.scope {
                    if !v.iter().any(|x| x.id == m.id) {
                        v.push(m.clone());
                    }
                }
            }
        }
        self.global_view = v.into();
        // Host objects the system loader opened later may be unloaded by the host at any time:
        // a binding that would search them looks at the system loader's list first.
        let transient = self.host[self.host_startup.min(self.host.len())..].iter().any(|m| m.host_local.get() != Some(&true));
        GLOBAL_HOST_TRANSIENT.store(transient, Ordering::Release);
        GLOBAL_GEN.fetch_add(1, Ordering::Release);
        symcache::publish_global(&self.global_view, transient, &mut self.retired);
    }
}

impl Registry {
    /// The object whose code is at `addr`: one relink loaded, or one of the host's (the program
    /// or a library the system loader mapped); None for code no loader knows.
    fn object_at(&self, addr: usize) -> Option<&Arc<Module>> {
        let loaded = self.entries.values().map(|e| &e.module).find(|m| m.contains(addr));
        loaded.or_else(|| self.host.iter().find(|m| m.span.ranges().iter().any(|&(lo, hi)| addr >= lo && addr < hi)))
    }

    /// The dependency scope of a host object (itself, then its DT_NEEDED dependencies among the
    /// host's objects, breadth-first): what a lookup through a handle on it searches, as with
    /// glibc.
    fn host_scope(&self, m: &Arc<Module>) -> Vec<Arc<Module>> {
        let mut scope = vec![m.clone()];
        let mut next = 0;
        while let Some(cur) = scope.get(next).cloned() {
            next += 1;
            for name in cur.dynamic.needed.iter().filter_map(|&off| cur.string(off)) {
                if let Some(d) = self.host.iter().find(|h| h.answers_to(name)) {
                    if !scope.iter().any(|s| s.id == d.id) {
                        scope.push(d.clone());
                    }
                }
            }
        }
        scope
    }

    /// The group of a relink-loaded object: the scope of the library whose open loaded it (its
    /// own scope once that library is gone).
    fn group_of(&self, id: u64) -> &[Arc<Module>] {
        let Some(e) = self.entries.get(&id) else { return &[] };
        self.entries.get(&e.root).map_or(&e.scope, |root| &root.scope)
    }
}

impl Known for Registry {
    fn by_name(&self, name: &[u8]) -> Option<Arc<Module>> {
        // The host's objects came first (as with glibc, where the libc loaded at startup
        // satisfies every later request for its name): a library relink loads cannot take their
        // names. Then the earliest loaded of relink's objects that answers to the name.
        let loaded = || self.entries.values().map(|e| &e.module).filter(|m| !m.is_host && m.answers_to(name)).min_by_key(|m| m.id);
        self.host.iter().find(|m| m.answers_to(name)).or_else(loaded).cloned()
    }

    fn by_file(&self, id: (u64, u64), dynamic: Option<(u64, u64)>) -> Option<Arc<Module>> {
        let loaded = self.entries.values().map(|e| &e.module).filter(|m| !m.is_host);
        // A host object's device and inode are looked up only if its program headers could be
        // the file's.
        let host = self.host.iter().filter(|m| {
            dynamic.is_some_and(|(vaddr, size)| m.segment(elf::abi::PT_DYNAMIC).is_some_and(|(_, p)| p.p_vaddr as usize == vaddr as usize && p.p_memsz as usize == size as usize))
        });
        loaded.chain(host).find(|m| m.file_id() == Some(id)).cloned()
    }

    fn deps_of(&self, m: &Module) -> Vec<Arc<Module>> {
        self.entries.get(&m.id).map(|e| e.needed.clone()).unwrap_or_default()
    }

    fn program(&self) -> Option<Arc<Module>> {
        self.host.first().cloned()
    }
}

/// What to open.
#[derive(Clone, Copy)]
pub enum Input<'a> {
    Path(&'a str),
    Memory { image: &'a [u8], name: &'a str },
    /// Objects and archives to link into one unit, with the handles of its shared-object inputs
    /// (see `link::open`).
    Link { name: &'a str, inputs: &'a dyn crate::link::Sources, shared: &'a [Handle], key: &'a [crate::link::cache::KeyInput<'a>] },
}

/// LD_BIND_NOW set to a non-empty value turns lazy binding off, as for the system loader.
fn bind_now_from_env() -> bool {
    static BIND_NOW: Lazy<bool> = Lazy::new(|| crate::os::env("LD_BIND_NOW").is_some_and(|v| !v.is_empty()));
    *BIND_NOW
}

/// Check `flags` as glibc's dlopen checks its mode (unknown bits first), with its wording.
fn check_flags(file: &str, flags: i32) -> Result<()> {
    if flags & !(LAZY | NOW | NOLOAD | DEEPBIND | GLOBAL | NODELETE) != 0 {
        return Err(Error::InvalidArgument(format!(
            "{file}: invalid mode parameter {flags:#x}: only RL_LAZY, RL_NOW, RL_NOLOAD, RL_DEEPBIND, RL_GLOBAL and RL_NODELETE are defined"
        )));
    }
    if flags & (LAZY | NOW) == 0 {
        return Err(Error::InvalidArgument(format!("{file}: invalid mode for dlopen(): flags must include RL_LAZY or RL_NOW")));
    }
    Ok(())
}

/// A handle on the global scope (`rl_open(NULL, flags)`), once `flags` are checked.
pub fn open_global(flags: i32) -> Result<Handle> {
    check_flags("global scope", flags).map(|()| Handle::GLOBAL)
}

/// An STB_GNU_UNIQUE definition a load bound first: (name, its object's id and address, the
/// symbol).
type PendingUnique = (Box<[u8]>, u64, *const Module, &'static Sym);

thread_local! {
    /// Set while this thread holds the registry lock for a load (hooks run then).
    static LOADING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    /// The STB_GNU_UNIQUE definitions the load in progress on this thread chose first: they
    /// enter the unique-symbol table when it commits, and are forgotten if it fails.
    static UNIQUE_PENDING: std::cell::RefCell<Vec<PendingUnique>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Whether this thread ever used [`UNIQUE_PENDING`] (empty until then, and left alone: its
    /// first use registers a thread-exit destructor, which loads that bind no STB_GNU_UNIQUE
    /// definition do not need).
    static UNIQUE_PENDING_USED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Take the STB_GNU_UNIQUE definitions the load in progress on this thread chose.
fn take_unique_pending() -> Vec<PendingUnique> {
    if !UNIQUE_PENDING_USED.get() {
        return Vec::new();
    }
    UNIQUE_PENDING.take()
}

/// Clears [`LOADING`] when the load ends, however it ends.
struct Loading;

impl Loading {
    fn start() -> Loading {
        LOADING.set(true);
        Loading
    }
}

impl Drop for Loading {
    fn drop(&mut self) {
        LOADING.set(false);
        if UNIQUE_PENDING_USED.get() {
            UNIQUE_PENDING.with_borrow_mut(Vec::clear);
        }
    }
}

/// Bring relink's view of the host's objects up to date, and find out which of them are in the
/// system loader's global scope. Called with no relink lock held: classifying asks the system
/// loader, whose lock a constructor waiting for relink's lock may hold.
fn prepare_host_view() {
    if LOADING.get() || crate::host::inside() {
        return;
    }
    let (stale, unclassified) = {
        let r = REGISTRY.read_recursive();
        (crate::host::generation() != r.host_gen, r.unclassified)
    };
    if !stale && !unclassified {
        return;
    }
    if stale {
        let listed = crate::host::list();
        REGISTRY.write().refresh_host_from(&listed);
    }
    let pending: Vec<Arc<Module>> = REGISTRY.read_recursive().host.iter().filter(|m| m.host_local.get().is_none()).cloned().collect();
    for m in &pending {
        crate::host::classify(m);
    }
    let mut w = REGISTRY.write();
    w.unclassified = w.host.iter().any(|m| m.host_local.get().is_none());
    if pending.iter().any(|m| m.host_local.get() == Some(&true)) {
        w.rebuild_global();
    }
}

/// Open a library (or find it already open) and return a handle holding one reference.
///
/// An object that needs a static TLS block gets one the system loader reserves, which takes the
/// system loader's lock: never under relink's (see `tls::reserve_static`). So an attempt that
/// maps such an object without a block reserved for it gives up; the block is reserved with no
/// lock held and the open starts again. Blocks no object kept are released on the way out.
pub fn open(input: Input, flags: i32, hooks: &OpenHooks) -> Result<Handle> {
    open_from(input, flags, hooks, 0)
}

/// [`open`] called from code at `caller`: a bare name is searched with the calling object's
/// DT_RPATH/DT_RUNPATH and `$ORIGIN` is its directory, as with dlopen (code no loader knows,
/// like `caller` 0, counts as the program's).
pub fn open_from(input: Input, flags: i32, hooks: &OpenHooks, caller: usize) -> Result<Handle> {
    let mut blocks = crate::tls::Reservations::begin();
    for attempt in 1.. {
        let mut hit = None;
        let r = open_once(input, flags, hooks, caller, &mut hit);
        // A unit mapped from the unit cache that then failed to load as a damaged entry would
        // (its image refused, not a symbol missing: linking again would not find it either):
        // the entry goes, and the unit is linked again.
        let damaged =
            matches!(r, Err(Error::Malformed { .. } | Error::Unsupported { .. } | Error::StaticTls { .. } | Error::Map { .. } | Error::Link { .. }));
        if let (true, Some(entry), true) = (damaged, hit, attempt < 32) {
            crate::link::cache::discard(&entry);
            continue;
        }
        let Some((file, reserved)) = blocks.reserve_wanted() else { return r };
        if let Err(reason) = reserved {
            return Err(Error::StaticTls { file, reason, no_block: true });
        }
        // An attempt stops at the first object it has no block for: one more attempt per such
        // object (a few at most: glibc's spare static TLS is small). The bound only stops an
        // open whose files keep changing under it.
        if r.is_ok() || attempt == 32 {
            return r;
        }
    }
    unreachable!("the loop returns")
}

/// One attempt of [`open_from`]; `hit` is set to the entry of the unit cache the unit was
/// mapped from, if it was.
fn open_once(input: Input, flags: i32, hooks: &OpenHooks, caller: usize, hit: &mut Option<PathBuf>) -> Result<Handle> {
    check_flags(match &input { Input::Path(p) => p, Input::Memory { name, .. } | Input::Link { name, .. } => name }, flags)?;
    let _search = crate::search::new_open();
    prepare_host_view();
    let guard = REGISTRY.upgradable_read();
    let loading = Loading::start();
    let requester = guard.object_at(caller).cloned();

    // Is it loaded already?
    let (display, found): (&str, Option<Found>) = match &input {
        Input::Path(p) => {
            let found = if p.contains('/') {
                let from = requester.clone().or_else(|| guard.program());
                let path = resolve::expand_path(p, from.as_ref().map_or(crate::search::Origin::Dir(None), |m| m.origin()))?;
                // A path a loaded object was opened under names it (as the system loader
                // assumes too): no need to open the file again to compare identities.
                match guard.entries.values().map(|e| &e.module).find(|m| !m.is_host && m.name() == &*path) {
                    Some(m) => Some(Found::Existing(m.clone())),
                    None => Some(resolve::open_given(p, &path, &*guard)?),
                }
            } else {
                resolve::find(p, requester.as_deref(), &*guard)
            };
            (*p, found)
        }
        Input::Memory { name, .. } | Input::Link { name, .. } => (*name, None),
    };
    if let Some(Found::Existing(m)) = &found {
        let id = m.id;
        let m = m.clone();
        let mut w = RwLockUpgradableReadGuard::upgrade(guard);
        let scope = if w.entries.contains_key(&id) { Vec::new() } else { w.host_scope(&m) };
        let e = w.entries.entry(id).or_insert_with(|| Entry {
            module: m.clone(),
            needed: Vec::new(),
            reldeps: Vec::new(),
            scope,
            opens: 0,
            nodelete: true,
            init_seq: 0,
            root: id,
            lookups: AtomicU32::new(0),
        });
        e.opens += 1;
        e.nodelete |= flags & NODELETE != 0;
        // Only a library still being initialized by another thread needs waiting for.
        let pending = e.scope.iter().any(|m| !m.initialized.load(Ordering::Acquire)).then(|| e.scope.clone());
        if pending.is_some() {
            w.in_flight.push((id, crate::os::thread_id()));
        }
        if flags & GLOBAL != 0 && !m.is_host && !w.global.contains(&id) {
            w.global.push(id);
            w.rebuild_global();
        }
        // The global scope this replaced, once no lazy binding reads it.
        let freed = symcache::reclaim(&mut w.retired);
        drop(w);
        drop(freed);
        // Asking the system loader for a reference takes its lock: never under relink's (a
        // constructor the system loader runs may be waiting for relink's lock).
        crate::host::pin(&m);
        if let Some(scope) = pending {
            wait_initialized(&scope);
            returned(id);
        }
        return Ok(Handle(id));
    }
    let not_found = |p: &str| Error::Io {
        file: p.to_string(),
        reason: "No such file or directory (not found in the library search path)".into(),
    };
    if flags & NOLOAD != 0 {
        // A library that is not loaded is no error (the C ABI returns NULL), but a name that
        // denotes no file is, as with glibc.
        return Err(match (&input, &found) {
            (Input::Path(p), None) => not_found(p),
            _ => Error::NotLoaded { file: display.to_string() },
        });
    }

    // Map the root and its new dependencies.
    let mut next_id = guard.next_id;
    let mut ids = || {
        next_id += 1;
        next_id - 1
    };
    // Handles the caller asked to search after the global scope.
    let mut extra: Vec<Arc<Module>> = Vec::new();
    for h in &hooks.search {
        match guard.entries.get(&h.0) {
            Some(e) if e.is_open() => extra.extend(e.scope.iter().cloned()),
            _ if *h == Handle::GLOBAL => {}
            _ => return Err(Error::InvalidHandle),
        }
    }
    // A unit (objects and archives linked here) depends on its shared-object inputs.
    let mut unit: Option<(Vec<Arc<Module>>, crate::link::Needers)> = None;
    let mut link = |name: &str,
                    inputs: &dyn crate::link::Sources,
                    shared: &[Handle],
                    file: Option<(Option<PathBuf>, (u64, u64))>,
                    key: &[crate::link::cache::KeyInput]| {
        let (mut deps, mut scope) = (Vec::new(), Vec::new());
        for h in shared {
            let e = guard.entries.get(&h.0).ok_or(Error::InvalidHandle)?;
            deps.push(e.module.clone());
            scope.extend(e.scope.iter().cloned());
        }
        let (origin, file_id) = file.map_or((None, None), |(o, id)| (o, Some(id)));
        let scope = ModuleScope(scope.iter().chain(guard.global_view.iter()).chain(&extra).map(|m| &**m).collect());
        let cache = hooks.cache_dir.as_deref().map(|dir| crate::link::CacheRequest { dir, inputs: key });
        let (m, needers, entry) = crate::link::load(name, inputs, &scope, origin, file_id, ids(), cache)?;
        *hit = entry;
        unit = Some((deps, needers));
        Ok::<Module, Error>(m)
    };
    let root = match (&input, found) {
        (Input::Memory { image, name }, _) if crate::link::is_linkable(image) => {
            link(name, &crate::link::Input { name, data: image, whole_archive: true }, &[], None, &[crate::link::cache::KeyInput::Memory])?
        }
        (Input::Link { name, inputs, shared, key }, _) => {
            // Named after all its inputs: no `rl_open` name or DT_NEEDED entry denotes it.
            let mut m = link(name, *inputs, shared, None, key)?;
            m.basename_at = usize::MAX;
            m
        }
        (_, Some(Found::Object(path, f))) => {
            let name = path.to_string_lossy();
            let origin = resolve::origin_of(&path);
            let (stamp, id) = (f.stamp, f.id);
            let key = [crate::link::cache::KeyInput::File { name: &name, whole_archive: true, stamp }];
            let source = LinkSource::File(f);
            let sources = LinkSources { inputs: vec![(&*name, &source, true)], maps: Default::default() };
            link(&name, &sources, &[], Some((origin, id)), &key)?
        }
        (Input::Memory { image, name }, _) => map::load(&Source::Memory(image), None, name, None, ids())?,
        (_, Some(Found::File(path, f, layout))) => {
            let origin = resolve::origin_of(&path);
            map::load(&Source::File(f), Some(*layout), &path.to_string_lossy(), origin, ids())?
        }
        (Input::Path(p), Some(Found::OtherClass)) => return Err(Error::WrongClass { file: p.to_string() }),
        (Input::Path(p), _) => return Err(not_found(p)),
    };
    let mut group = resolve::load_group(root, &*guard, &mut ids)?;
    if let Some((deps, _)) = &unit {
        group.deps[0].extend(deps.iter().cloned());
    }

    for (m, deps) in group.modules.iter().zip(&group.deps) {
        resolve::check_versions(m, deps)?;
    }

    // Scopes, then relocation, dependencies first.
    let n = group.modules.len();
    let index: IdMap<usize> = group.modules.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
    let deps_of = |m: &Module| match index.get(&m.id) {
        Some(&i) => group.deps[i].clone(),
        None => guard.deps_of(m),
    };
    let scopes: Vec<Vec<Arc<Module>>> = group.modules.iter().map(|m| resolve::local_scope(m, &deps_of)).collect();
    // Relocation and initialization order: dependencies first (depth-first post-order over the
    // new objects), so that IFUNC resolvers and constructors find their dependencies ready.
    let mut order = Vec::with_capacity(n);
    let mut seen = vec![false; n];
    fn visit(i: usize, g: &resolve::Group, index: &IdMap<usize>, seen: &mut [bool], out: &mut Vec<usize>) {
        if std::mem::replace(&mut seen[i], true) {
            return;
        }
        for d in &g.deps[i] {
            if let Some(&j) = index.get(&d.id) {
                visit(j, g, index, seen, out);
            }
        }
        out.push(i);
    }
    visit(0, &group, &index, &mut seen, &mut order);

    let global = guard.global_view.clone();
    let mut reldeps: Vec<Vec<Arc<Module>>> = vec![Vec::new(); n];
    let lazy = flags & LAZY != 0 && flags & NOW == 0 && !bind_now_from_env() && crate::arch::trampolines_supported();
    let bind_hooks = relocate::Hooks { open: hooks.clone(), lookups: Lookups::snapshot(hooks) };
    let mut stats = crate::debug::OpenStats::start();
    let relocation = stats.clock();
    for &i in &order {
        let m = &group.modules[i];
        // A unit binds what it imports in its own scope first (its shared-object inputs).
        let deepbind = flags & DEEPBIND != 0 || (unit.is_some() && i == 0);
        // Every object an open maps looks symbols up in the opened library's scope (as with
        // glibc), so an underlinked dependency still finds what its siblings define.
        let scope: Vec<&Module> = resolve::binding_scope(m, &global, &extra, &scopes[0], deepbind).collect();
        let weak = |v: &[Arc<Module>]| v.iter().map(Arc::downgrade).collect();
        let own = scopes[i].iter().map(|m| m.id).collect();
        let lazy_scope = (lazy && !m.dynamic.bind_now())
            .then(|| relocate::LazyScope { local: weak(&scopes[0]), extra: weak(&extra), deepbind, own });
        let mut bound = Vec::new();
        relocate::relocate(m, &scope, &bind_hooks, lazy_scope, &mut bound).map_err(|e| match (&unit, e) {
            (Some((_, needers)), e) if i == 0 => crate::link::blame(e, needers),
            (_, e) => e,
        })?;
        // A definition outside the object's own dependencies stays loaded as long as the object
        // (glibc's l_reldeps), whether this open mapped it or an earlier one did.
        for id in bound {
            if scopes[i].iter().any(|s| s.id == id) {
                continue;
            }
            let target = match index.get(&id) {
                Some(&j) => Some(&group.modules[j]),
                None => guard.entries.get(&id).map(|e| &e.module),
            };
            reldeps[i].extend(target.cloned());
        }
    }
    drop(global);
    stats.relocated(relocation);

    for m in &group.modules {
        init::check(m)?;
    }

    // Frames become visible to the unwinder before any constructor runs.
    for (m, scope) in group.modules.iter().zip(&scopes) {
        let providers: Vec<&Arc<Module>> = guard.host.iter().chain(scope.iter()).collect();
        crate::unwind::register(m, &providers)?;
    }

    // Commit.
    let mut w = RwLockUpgradableReadGuard::upgrade(guard);
    w.next_id = next_id;
    let root_id = group.modules[0].id;
    let mut seq = vec![0u64; n];
    for &i in &order {
        seq[i] = w.next_seq;
        w.next_seq += 1;
    }
    let resolve::Group { modules, deps } = group;
    let me = crate::os::thread_id();
    for m in &modules {
        m.init_owner.store(me, Ordering::Relaxed);
    }
    // Host objects relink's objects now depend on must not be unmapped by the system loader;
    // they are pinned once relink's lock is released (see above).
    let host_deps: Vec<Arc<Module>> = deps.iter().flatten().chain(reldeps.iter().flatten()).filter(|m| m.is_host).cloned().collect();
    let root_scope = scopes[0].clone();
    for (i, ((m, needed), (scope, reldeps))) in modules.iter().zip(deps).zip(scopes.into_iter().zip(reldeps)).enumerate() {
        let root = i == 0;
        let nodelete = m.dynamic.nodelete() || (root && flags & NODELETE != 0);
        w.entries.insert(
            m.id,
            Entry {
                module: m.clone(),
                needed,
                reldeps,
                scope,
                opens: root as usize,
                nodelete,
                init_seq: seq[i],
                root: root_id,
                lookups: AtomicU32::new(0),
            },
        );
    }
    for (name, id, _, sym) in take_unique_pending() {
        if let Some(m) = w.entries.get(&id).map(|e| e.module.clone()) {
            w.unique.get_mut().entry(name).or_insert((m, sym));
        }
    }
    if flags & GLOBAL != 0 {
        w.global.push(root_id);
        w.rebuild_global();
    }
    // Objects an earlier open mapped also bind lazily through this library's scope from now on.
    for m in root_scope.iter().filter(|m| !index.contains_key(&m.id)) {
        relocate::extend_lazy_scope(m, root_id, &root_scope);
    }
    w.adds += n as u64;
    w.in_flight.push((root_id, me));
    let freed = symcache::reclaim(&mut w.retired);
    drop(w);
    drop(loading);
    drop(freed);
    for m in &host_deps {
        crate::host::pin(m);
    }

    for m in &modules {
        hooks::notify(Event::Map, m);
    }
    report_open(&modules, &root_scope, &stats);

    // Dependencies loaded earlier may still be initializing in another thread.
    wait_initialized(&root_scope);
    for i in order {
        init::run_init(&modules[i]);
        modules[i].initialized.store(true, Ordering::Release);
    }
    {
        let _g = INIT_DONE.0.lock();
        INIT_DONE.1.notify_all();
    }
    returned(root_id);
    Ok(Handle(root_id))
}

/// What RELINK_DEBUG asks to be told of an open that mapped `modules` (the library opened
/// first) and gave it `scope`.
fn report_open(modules: &[Arc<Module>], scope: &[Arc<Module>], stats: &crate::debug::OpenStats) {
    use crate::debug::{report, FILES, SCOPES};
    for m in modules {
        let size = m.image.as_ref().map_or(0, |i| i.region.len);
        report!(FILES, "file={} [{}];  base: {:#x}   size: {:#x}", m.name(), m.id, m.base(), size);
    }
    if crate::debug::on(SCOPES) {
        let names = |v: &mut dyn Iterator<Item = &Arc<Module>>| v.map(|m| m.name()).collect::<Vec<_>>().join(" ");
        report!(SCOPES, "object={} [{}]", modules[0].name(), modules[0].id);
        report!(SCOPES, " scope 0: {}", names(&mut global_scope_now().iter()));
        report!(SCOPES, " scope 1: {}", names(&mut scope.iter()));
    }
    stats.finish(modules[0].name(), modules.len());
}

/// The open of `root` by this thread is returning its reference to the caller.
fn returned(root: u64) {
    let me = crate::os::thread_id();
    let mut w = REGISTRY.write();
    if let Some(i) = w.in_flight.iter().position(|&(r, t)| r == root && t == me) {
        w.in_flight.swap_remove(i);
    }
}

/// The registry, held by the forking thread across `fork()` (see `fork.rs`). Released in
/// field order, the reverse of the order taken.
pub struct ForkHold {
    pins: Vec<crate::sync::MutexGuard<'static, Vec<Arc<Module>>>>,
    later: Vec<crate::sync::MutexGuard<'static, crate::module::LaterScopes>>,
    init: crate::sync::MutexGuard<'static, ()>,
    registry: crate::sync::RwLockWriteGuard<'static, Registry>,
    /// The objects whose lazy-binding pins are held: dropped after their guards.
    modules: Vec<Arc<Module>>,
}

/// Take the registry, the initialization signal and every object's lazy-binding pins and later
/// scopes (lazy binding takes those without the registry). `None` when this thread holds the registry
/// already (it forks from inside an open).
pub fn fork_prepare() -> Option<ForkHold> {
    if LOADING.get() {
        return None;
    }
    let registry = REGISTRY.write();
    let init = INIT_DONE.0.lock();
    let modules: Vec<Arc<Module>> = registry.entries.values().filter(|e| e.module.image.is_some()).map(|e| e.module.clone()).collect();
    let pins = modules
        .iter()
        .filter_map(|m| m.image.as_ref())
        .map(|image| {
            let g = image.lazy_pins.lock();
            // SAFETY: only the lifetime changes. The guard borrows an object that `modules`
            // keeps alive, and ForkHold drops every guard before `modules`.
            unsafe { std::mem::transmute::<crate::sync::MutexGuard<'_, Vec<Arc<Module>>>, crate::sync::MutexGuard<'static, Vec<Arc<Module>>>>(g) }
        })
        .collect();
    let later = modules
        .iter()
        .filter_map(|m| m.image.as_ref())
        .map(|image| {
            let g = image.lazy_later.lock();
            // SAFETY: as above.
            unsafe { std::mem::transmute::<crate::sync::MutexGuard<'_, _>, crate::sync::MutexGuard<'static, _>>(g) }
        })
        .collect();
    Some(ForkHold { pins, later, init, registry, modules })
}

/// In the child: opens other threads had not returned from give their references back, what
/// nothing holds any more is unloaded, and objects whose constructors a thread of the parent
/// was running count as initialized (nobody is left to finish them). Then release everything.
pub fn fork_child(held: ForkHold) {
    let ForkHold { pins, later, init, mut registry, modules } = held;
    drop(later);
    drop(pins);
    let me = crate::os::thread_id();
    let r = &mut *registry;
    symcache::fork_child();
    let returned: Vec<u64> = r.in_flight.iter().filter(|&&(_, t)| t != me).map(|&(id, _)| id).collect();
    for id in returned {
        if let Some(e) = r.entries.get_mut(&id) {
            e.opens = e.opens.saturating_sub(1);
            if !e.is_open() {
                r.handle_closed(id);
            }
        }
    }
    r.in_flight.retain(|&(_, t)| t == me);
    let gone = r.sweep();
    let freed = symcache::reclaim(&mut r.retired);
    for e in r.entries.values() {
        let m = &e.module;
        if !m.initialized.load(Ordering::Acquire) && m.init_owner.load(Ordering::Relaxed) != me {
            m.initialized.store(true, Ordering::Release);
        }
    }
    drop(init);
    drop(registry);
    drop(modules);
    unload(gone);
    drop(freed);
}

/// Release one reference; unload what is no longer reachable.
pub fn close(h: Handle) -> Result<()> {
    if h == Handle::GLOBAL {
        return Ok(());
    }
    let guard = REGISTRY.upgradable_read();
    match guard.entries.get(&h.0) {
        Some(e) if e.permanent() => return Ok(()),
        Some(e) if e.opens > 0 => {}
        _ => return Err(Error::InvalidHandle),
    }
    let mut w = RwLockUpgradableReadGuard::upgrade(guard);
    let e = w.entries.get_mut(&h.0).expect("checked above");
    e.opens -= 1;
    if e.opens > 0 {
        return Ok(());
    }
    w.handle_closed(h.0);
    let gone = w.sweep();
    let freed = symcache::reclaim(&mut w.retired);
    drop(w);
    unload(gone);
    // The last references to unloaded objects may be their tables'.
    drop(freed);
    Ok(())
}

/// Unload what became unreachable for another reason than a close (a pending thread_local
/// destructor has run).
pub fn collect() {
    let mut w = REGISTRY.write();
    let gone = w.sweep();
    let freed = symcache::reclaim(&mut w.retired);
    drop(w);
    unload(gone);
    drop(freed);
}

impl Registry {
    /// Mark every object reachable from an open handle or a pin (NODELETE, STB_GNU_UNIQUE, a
    /// pending thread_local destructor) through dependencies and bindings; take the rest out.
    fn sweep(&mut self) -> Vec<Entry> {
        let mut live: HashSet<u64> = HashSet::new();
        let pinned = |e: &Entry| {
            e.is_open() || e.module.pending_tls_dtors.load(Ordering::Acquire) > 0
        };
        let mut stack: Vec<u64> = self.entries.iter().filter(|(_, e)| pinned(e)).map(|(id, _)| *id).collect();
        while let Some(id) = stack.pop() {
            if !live.insert(id) {
                continue;
            }
            if let Some(e) = self.entries.get(&id) {
                stack.extend(e.needed.iter().chain(&e.reldeps).map(|m| m.id));
                if let Some(image) = &e.module.image {
                    stack.extend(image.lazy_pins.lock().iter().map(|m| m.id));
                }
            }
        }
        let dead: Vec<u64> = self.entries.keys().filter(|id| !live.contains(id)).copied().collect();
        for &id in &dead {
            self.handle_closed(id);
        }
        let gone: Vec<Entry> = dead.iter().filter_map(|id| self.entries.remove(id)).collect();
        let before = self.global.len();
        self.global.retain(|id| !dead.contains(id));
        if self.global.len() != before {
            self.rebuild_global();
        }
        self.subs += gone.iter().filter(|e| !e.module.is_host).count() as u64;
        gone
    }

    /// The handle on object `id` stops being valid: its lookup table leaves the lock-free
    /// table of handles (freed once no reader holds it), and is built anew if it opens again.
    fn handle_closed(&mut self, id: u64) {
        symcache::retire(id, &mut self.retired);
        if let Some(e) = self.entries.get(&id) {
            e.lookups.store(0, Ordering::Relaxed);
        }
    }
}

/// The error of a lookup that found nothing, searching `file`.
pub fn symbol_not_found(file: &str, name: &[u8], version: Option<&[u8]>) -> Error {
    Error::SymbolNotFound {
        file: file.to_string(),
        symbol: String::from_utf8_lossy(name).into_owned(),
        version: version.map(|v| String::from_utf8_lossy(v).into_owned()),
    }
}

/// Look a symbol up through a handle: the library and its dependencies, or the global scope.
pub fn sym(h: Handle, name: &[u8], version: Option<&[u8]>) -> Result<usize> {
    sym_or(h, name, version, &|file| symbol_not_found(file, name, version))
}

/// [`sym`], with what a lookup that finds nothing returns made by `not_found` from the name of
/// what was searched (the C ABI keeps it for `rl_error` without building an [`Error`]).
pub fn sym_or<E: From<Error>>(h: Handle, name: &[u8], version: Option<&[u8]>, not_found: &dyn Fn(&str) -> E) -> std::result::Result<usize, E> {
    if version.is_none() {
        let mut missed = None;
        if let Some(found) = sym_fast(h, name, |file| missed = Some(not_found(file))) {
            return found.ok_or_else(|| missed.unwrap_or_else(|| not_found("")));
        }
    }
    let mut q = Query::new(name, version.map(Version::new));
    q.explicit = true;
    if h == Handle::GLOBAL {
        let r = fresh_view();
        let found = match resolve::lookup(r.global_view.iter().map(|m| &**m), &q) {
            Some(b) => r.address(b)?,
            None => return Err(not_found("global scope")),
        };
        drop(r);
        return Ok(found.finish()?);
    }
    let r = REGISTRY.read_recursive();
    let e = match r.entries.get(&h.0) {
        Some(e) if e.is_open() => e,
        _ => return Err(Error::InvalidHandle.into()),
    };
    let build = version.is_none() && e.lookups.fetch_add(1, Ordering::Relaxed) == symcache::build_after(&e.scope);
    let scope = build.then(|| e.scope.clone());
    let found = match resolve::lookup(e.scope.iter().map(|m| &**m), &q) {
        Some(b) => r.address(b).map_err(E::from),
        None => Err(not_found(e.module.name())),
    };
    drop(r);
    if let Some(scope) = scope {
        build_index(h.0, scope);
    }
    Ok(found?.finish()?)
}

/// Build the lookup table of the handle on object `id`, whose scope is `scope`, and publish it
/// if the handle is still open with that scope. Built and dropped with no lock held.
fn build_index(id: u64, scope: Vec<Arc<Module>>) {
    let Some(index) = symcache::Index::build(id, &scope) else { return };
    let r = REGISTRY.read_recursive();
    let same = |e: &Entry| e.is_open() && e.scope.len() == scope.len() && e.scope.iter().zip(&scope).all(|(a, b)| a.id == b.id);
    let unused = match r.entries.get(&id) {
        Some(e) if same(e) => symcache::publish(index).err(),
        _ => Some(index),
    };
    drop(r);
    drop(unused);
}

/// [`sym_or`] for an unversioned name from the handle's lookup table alone, with no lock: the
/// address, or None when nothing defines the name (`not_found` is told what was searched); None
/// outside when the table cannot answer (the handle has none, or the name needs the slow path).
#[inline]
pub fn sym_fast(h: Handle, name: &[u8], not_found: impl FnOnce(&str)) -> Option<Option<usize>> {
    symcache::with_answer(h.0, name, |a| match a {
        symcache::Answer::Found(addr) => Some(Some(addr)),
        symcache::Answer::Missing(file) => {
            not_found(file);
            Some(None)
        }
        symcache::Answer::Slow => None,
    })
    .flatten()
}

/// What `rl_sym` and `rl_vsym` search.
pub enum Target {
    /// A handle's library and its dependencies, or the global scope.
    Handle(Handle),
    /// `RL_DEFAULT`: the global scope, then the calling object's group.
    Default,
    /// `RL_NEXT`: the calling object's lookup order, after it.
    Next,
}

/// Look a symbol up as `rl_sym`/`rl_vsym` called from code at `caller` does; what a lookup that
/// finds nothing returns is made by `not_found` (see [`sym_or`]).
pub fn sym_from_or<E: From<Error>>(target: Target, name: &[u8], version: Option<&[u8]>, caller: usize, not_found: &dyn Fn(&str) -> E) -> std::result::Result<usize, E> {
    let next = match target {
        Target::Handle(h) => return sym_or(h, name, version, not_found),
        Target::Default => false,
        Target::Next => true,
    };
    let mut q = Query::new(name, version.map(Version::new));
    q.explicit = true;
    let r = fresh_view();
    let me = r.object_at(caller).cloned();
    let missing = |m: Option<&Arc<Module>>| {
        let file = m.cloned().or_else(|| r.program());
        not_found(file.as_ref().map_or("the program", |m| m.name()))
    };
    if next {
        // RL_NEXT: the objects after the caller in its lookup order, as glibc's RTLD_NEXT. For
        // the host's objects that is the host objects after it, then relink's global scope.
        let Some(me) = me.as_ref() else { return Err(Error::NextOutsideObjects.into()) };
        let found = if me.is_host {
            resolve::lookup(r.global_view.iter().filter(|m| !m.is_host || m.id > me.id).map(|m| &**m), &q)
        } else {
            resolve::lookup(r.group_of(me.id).iter().skip_while(|m| m.id != me.id).skip(1).map(|m| &**m), &q)
        };
        let found = match found {
            Some(b) => r.address(b)?,
            None => return Err(missing(Some(me))),
        };
        drop(r);
        return Ok(found.finish()?);
    }
    // RL_DEFAULT: the global scope, then (for relink's objects) the caller's own group.
    let group = me.as_ref().filter(|m| !m.is_host).map_or(&[][..], |m| r.group_of(m.id));
    let Some(b) = resolve::lookup(r.global_view.iter().chain(group).map(|m| &**m), &q) else {
        return Err(missing(me.as_ref()));
    };
    let found = r.address(b)?;
    let def = found.module_id();
    let keep = r.keep_for(me.as_ref(), def);
    drop(r);
    let addr = found.finish()?;
    match keep {
        // Inside a load (a hook looking names up) this thread holds relink's lock: no other
        // lock may be taken, and the definition is not kept.
        _ if LOADING.get() => Ok(addr),
        Keep::Nothing => Ok(addr),
        Keep::Host(m) => {
            crate::host::pin(&m);
            Ok(addr)
        }
        keep => {
            let mut w = REGISTRY.write();
            if !w.entries.contains_key(&def) {
                // Unloaded meanwhile by another thread: look again.
                drop(w);
                return sym_from_or(Target::Default, name, version, caller, not_found);
            }
            match keep {
                Keep::Reldep(user, m) => {
                    if let Some(e) = w.entries.get_mut(&user) {
                        if !e.reldeps.iter().any(|d| d.id == m.id) {
                            e.reldeps.push(m);
                        }
                    }
                }
                Keep::Nodelete => w.entries.get_mut(&def).expect("checked above").nodelete = true,
                Keep::Nothing | Keep::Host(_) => {}
            }
            Ok(addr)
        }
    }
}

/// What keeps a definition found through `RL_DEFAULT` loaded for the object that looked it up.
enum Keep {
    Nothing,
    /// A host object, for a relink-loaded caller: a reference from the system loader.
    Host(Arc<Module>),
    /// A relink-loaded definition outside the caller's dependencies: a dependency edge from
    /// the caller (glibc's reldeps).
    Reldep(u64, Arc<Module>),
    /// A relink-loaded definition looked up from the host's code (the program, never unloaded):
    /// never unloaded either, as glibc marks it NODELETE.
    Nodelete,
}

impl Registry {
    fn keep_for(&self, caller: Option<&Arc<Module>>, def: u64) -> Keep {
        let relink_caller = caller.filter(|m| !m.is_host);
        if caller.is_some_and(|m| m.id == def) {
            return Keep::Nothing;
        }
        let Some(d) = self.entries.get(&def).filter(|d| !d.module.is_host) else {
            // A host definition: only relink's own objects need it kept.
            let host = self.host.iter().find(|m| m.id == def);
            return match (relink_caller, host) {
                (Some(_), Some(m)) => Keep::Host(m.clone()),
                _ => Keep::Nothing,
            };
        };
        match relink_caller.and_then(|m| self.entries.get(&m.id)) {
            Some(e) if e.scope.iter().chain(&e.reldeps).any(|m| m.id == def) => Keep::Nothing,
            Some(e) => Keep::Reldep(e.module.id, d.module.clone()),
            None if d.nodelete => Keep::Nothing,
            None => Keep::Nodelete,
        }
    }
}

/// What an explicit lookup found, taken out of the registry so that the lock can be released
/// before the rest runs: an IFUNC resolver is the object's own code, which may call back into
/// relink (`rl_sym` again, while another thread waits to write, would deadlock).
enum Lookup {
    Address(usize, u64),
    Resolver(Arc<Module>, usize),
}

impl Lookup {
    fn module_id(&self) -> u64 {
        match self {
            Lookup::Address(_, id) => *id,
            Lookup::Resolver(m, _) => m.id,
        }
    }

    /// The address, once the registry is released.
    fn finish(self) -> Result<usize> {
        match self {
            Lookup::Address(a, _) => Ok(a),
            Lookup::Resolver(m, resolver) => resolve::call_resolver(&m, resolver),
        }
    }
}

impl Registry {
    /// The address `b` stands for (for a thread-local variable, in the calling thread), or its
    /// IFUNC resolver with the object that holds it.
    fn address(&self, b: resolve::Binding) -> Result<Lookup> {
        let b = if b.sym.bind() == elf::abi::STB_GNU_UNIQUE { self.unique_definition(b) } else { b };
        b.module.note_bound(b.sym);
        let id = b.module.id;
        match b.sym.kind() {
            elf::abi::STT_GNU_IFUNC => {
                let held = self.entries.get(&id).map(|e| &e.module).or_else(|| self.host.iter().find(|m| m.id == id));
                Ok(Lookup::Resolver(held.ok_or(Error::Internal)?.clone(), b.value()))
            }
            elf::abi::STT_TLS => tls_address(b).map(|a| Lookup::Address(a, id)),
            _ => Ok(Lookup::Address(b.value(), id)),
        }
    }
}

/// The address of thread-local variable `b` in the calling thread.
fn tls_address(b: resolve::Binding) -> Result<usize> {
    let value = b.sym.st_value as usize;
    if let Some(id) = b.module.tls_id {
        return Ok(crate::tls::block(id).wrapping_add(value));
    }
    match b.module.host_tls {
        Some(t) => {
            // `tls_index` offsets are biased by the machine's DTV offset (0 but on RISC-V).
            let ti = crate::tls::TlsIndex { module: t.modid, offset: (value as u64).wrapping_sub(crate::arch::DTV_OFFSET) as usize };
            Ok(crate::tls::tls_get_addr(&ti) as usize)
        }
        None => Err(Error::Malformed { file: b.module.name().to_string(), reason: "TLS symbol without a TLS segment".into() }),
    }
}

/// The definition a reference bound to `b` gets. For an STB_GNU_UNIQUE definition that is, as
/// with glibc's unique-symbol table, the one every binding of the name in the process gets: the
/// first one bound, or one of the host's objects' (the system loader's table would have it),
/// else `b` itself, entered for the next ones. The chosen object is pinned (`note_bound`).
pub fn definition(b: resolve::Binding) -> resolve::Binding {
    if b.sym.bind() != elf::abi::STB_GNU_UNIQUE {
        return b;
    }
    // Only binding calls this: inside a load, where this thread holds the registry's gate (no
    // writer can be queued), or lazily, with no lock held.
    let chosen = REGISTRY.read_recursive().unique_definition(b);
    chosen.module.note_bound(chosen.sym);
    chosen
}

impl Registry {
    fn unique_definition<'a>(&self, b: resolve::Binding<'a>) -> resolve::Binding<'a> {
        let name = b.module.symtab.name(b.sym);
        let mut table = self.unique.lock();
        let q = Query::new(name, None);
        let host = || {
            let unique = |m: &Arc<Module>| m.symtab.lookup(&q).and_then(|i| m.symtab.sym(i)).filter(|s| s.bind() == elf::abi::STB_GNU_UNIQUE);
            self.host.iter().find_map(|m| Some((m.clone(), unique(m)?)))
        };
        let entered = match table.get(name) {
            Some(e) => Some(e),
            None => host().map(|e| &*table.entry(name.into()).or_insert(e)),
        };
        if let Some((m, sym)) = entered {
            // SAFETY: entries of the table are never removed, and each holds its object.
            return resolve::Binding { module: unsafe { &*Arc::as_ptr(m) }, sym };
        }
        if LOADING.get() {
            // The load in progress decides for itself until it commits.
            UNIQUE_PENDING_USED.set(true);
            return UNIQUE_PENDING.with_borrow_mut(|pending| match pending.iter().find(|p| *p.0 == *name) {
                // SAFETY: the load holds every object its bindings reach until it commits, and
                // clears this list when it ends.
                Some(&(_, _, m, sym)) => resolve::Binding { module: unsafe { &*m }, sym },
                None => {
                    pending.push((name.into(), b.module.id, b.module, b.sym));
                    b
                }
            });
        }
        if let Some(e) = self.entries.get(&b.module.id) {
            table.insert(name.into(), (e.module.clone(), b.sym));
        }
        b
    }
}

/// The name a handle was opened under.
pub fn name(h: Handle) -> Result<String> {
    if h == Handle::GLOBAL {
        return Ok(String::new());
    }
    let r = REGISTRY.read_recursive();
    match r.entries.get(&h.0) {
        Some(e) if e.is_open() => Ok(e.module.name().to_string()),
        _ => Err(Error::InvalidHandle),
    }
}

/// The object behind an open handle.
fn object(h: Handle) -> Result<Arc<Module>> {
    let r = REGISTRY.read_recursive();
    match r.entries.get(&h.0) {
        Some(e) if e.is_open() => Ok(e.module.clone()),
        _ if h == Handle::GLOBAL => Err(Error::InvalidArgument("the global scope has no single object".into())),
        _ => Err(Error::InvalidHandle),
    }
}

/// The object behind an open handle; the program for the handle of `rl_open(NULL)` (as glibc's
/// `dlinfo` answers for the handle of `dlopen(NULL)`).
pub fn object_or_program(h: Handle) -> Result<Arc<Module>> {
    if h == Handle::GLOBAL {
        return REGISTRY.read_recursive().program().ok_or(Error::Internal);
    }
    object(h)
}

/// A handle's object: (its name as a C string, its base address, its TLS module id or 0). The
/// string lives as long as the object is loaded.
pub fn info(h: Handle) -> Result<(*const std::ffi::c_char, usize, u64)> {
    let m = object(h)?;
    Ok((m.c_name().as_ptr(), m.base(), m.tls_id.or(m.host_tls.map(|t| t.modid as u64)).unwrap_or(0)))
}

/// The calling thread's TLS block of a handle's object, or 0 when the object has no TLS or the
/// thread has not used it yet.
pub fn tls_block(h: Handle) -> Result<usize> {
    let m = object(h)?;
    let block = match m.tls_id {
        Some(id) => crate::tls::existing_block(id),
        None => crate::host::tls_block(&m),
    };
    Ok(block.unwrap_or(0))
}

/// The relink-loaded objects, in load order, kept alive while the caller holds them, with the
/// (adds, subs) counters.
pub fn loaded() -> (Vec<Arc<Module>>, (u64, u64)) {
    let r = REGISTRY.read_recursive();
    let mut v: Vec<Arc<Module>> = r.entries.values().filter(|e| !e.module.is_host).map(|e| e.module.clone()).collect();
    v.sort_by_key(|m| m.id);
    (v, (r.adds, r.subs))
}

/// The relink-loaded object containing `addr`.
pub fn containing(addr: usize) -> Option<Arc<Module>> {
    let r = REGISTRY.read_recursive();
    r.entries.values().find(|e| e.module.contains(addr)).map(|e| e.module.clone())
}

/// The relink-loaded object containing `addr` (first) together with its dependency scope and
/// reldeps: holding them keeps all of them mapped.
pub fn pin(addr: usize) -> Option<Vec<Arc<Module>>> {
    let r = REGISTRY.read_recursive();
    let e = r.entries.values().find(|e| e.module.contains(addr))?;
    Some(e.scope.iter().chain(&e.reldeps).cloned().collect())
}

/// Bumped whenever [`Registry::global_view`] is replaced (under the registry's write lock).
static GLOBAL_GEN: AtomicU64 = AtomicU64::new(0);

/// A global scope seen, with [`GLOBAL_GEN`] then.
type SeenScope = Option<(u64, std::sync::Weak<[Arc<Module>]>)>;

thread_local! {
    /// The global scope this thread last saw. Held weakly: the registry alone keeps a scope
    /// alive, so a thread holds no library that was closed since.
    static GLOBAL_SEEN: std::cell::RefCell<SeenScope> = const { std::cell::RefCell::new(None) };
}

/// Whether the global scope holds host objects the system loader did not load at startup.
static GLOBAL_HOST_TRANSIENT: AtomicBool = AtomicBool::new(false);

/// The global scope as it is now (for lazy binding, which sees libraries opened RL_GLOBAL after
/// the object, as with glibc). Without a lock while the scope is the one this thread saw last
/// and its host objects are all ones the system loader loaded at startup, which it never
/// unloads (objects it loaded since relink last looked are not seen before the next open or
/// lookup); otherwise with the host's objects brought up to date first, as an open does.
pub fn global_scope_now() -> Arc<[Arc<Module>]> {
    if GLOBAL_HOST_TRANSIENT.load(Ordering::Acquire) {
        return fresh_view().global_view.clone();
    }
    let gen = GLOBAL_GEN.load(Ordering::Acquire);
    let seen = GLOBAL_SEEN.try_with(|s| match &*s.borrow() {
        Some((g, view)) if *g == gen => view.upgrade(),
        _ => None,
    });
    if let Ok(Some(view)) = seen {
        return view;
    }
    let r = REGISTRY.read_recursive();
    let view = r.global_view.clone();
    let gen = GLOBAL_GEN.load(Ordering::Acquire);
    drop(r);
    let _ = GLOBAL_SEEN.try_with(|s| *s.borrow_mut() = Some((gen, Arc::downgrade(&view))));
    view
}

/// Run `f` with what an open would find loaded now (the host's objects and relink's) and the
/// global scope, without loading anything. For `inspect`, which maps objects to read them but
/// never relocates them nor enters them here.
pub fn with_view<R>(f: impl FnOnce(&dyn Known, &[Arc<Module>]) -> R) -> R {
    let _search = crate::search::new_open();
    let r = fresh_view();
    f(&*r, &r.global_view)
}

/// The registry for reading, with the host's objects as the system loader has them now (it may
/// have unmapped some since relink last looked). Inside a load this thread holds the lock
/// already and the view cannot change under it; the next open refreshes it.
fn fresh_view() -> crate::sync::RwLockReadGuard<'static, Registry> {
    prepare_host_view();
    REGISTRY.read_recursive()
}

/// The scope of the objects a unit will be bound against, in lookup order, then the symbols
/// added with `rl_define`.
struct ModuleScope<'m>(Vec<&'m Module>);

impl crate::link::Scope for ModuleScope<'_> {
    fn find(&self, name: &[u8]) -> Option<crate::link::Outside> {
        use crate::link::Outside;
        if let Some(addr) = crate::runtime::interposed(name) {
            return Some(Outside { addr: addr as u64, func: true, size: 0 });
        }
        let q = Query::new(name, None);
        if let Some(b) = resolve::lookup(self.0.iter().copied(), &q) {
            let base = if b.sym.st_shndx == elf::abi::SHN_ABS { 0 } else { b.module.bias };
            let func = matches!(b.sym.kind(), elf::abi::STT_FUNC | elf::abi::STT_GNU_IFUNC);
            return Some(Outside { addr: base.wrapping_add(b.sym.st_value as usize) as u64, func, size: b.sym.size() });
        }
        crate::hooks::defined(name).map(|a| Outside { addr: a as u64, func: false, size: 0 })
    }
}

/// One input of `rl_link` as the caller describes it: a file, or an image in memory.
pub struct Given<'a> {
    pub path: Option<&'a str>,
    pub image: Option<&'a [u8]>,
    pub name: Option<&'a str>,
    pub whole_archive: bool,
}

/// `rl_link`: load the shared-object inputs (as `rl_open` would), link the objects and archives
/// into one unit that depends on them, and return its handle.
pub fn link(given: &[Given], flags: i32, hooks: &OpenHooks) -> Result<Handle> {
    use crate::link::cache::KeyInput;
    use crate::link::{input_kind, InputKind};
    if given.is_empty() {
        return Err(Error::InvalidArgument("rl_link needs at least one input".into()));
    }
    let mut names = Vec::with_capacity(given.len());
    let mut sources = Vec::with_capacity(given.len());
    let mut kinds = Vec::with_capacity(given.len());
    for (i, g) in given.iter().enumerate() {
        let name = g.path.or(g.name).map_or_else(|| format!("<memory image {i}>"), str::to_string);
        let (source, kind) = match (g.path, g.image) {
            // A file is read through the descriptor opened here: its first bytes tell its kind
            // now, the rest is mapped if the unit is linked (see `LinkSources`).
            (Some(p), _) => match crate::os::File::open(std::path::Path::new(p)) {
                Ok(f) => {
                    let mut head = [0u8; 64];
                    let head = &mut head[..(f.size as usize).min(64)];
                    f.read_at(head, 0).map_err(|e| Error::Io { file: name.clone(), reason: e.to_string() })?;
                    let kind = input_kind(head);
                    (LinkSource::File(f), kind)
                }
                // Named like `rl_open` names (no slash, no such file): a shared object to search for.
                Err(e) if !p.contains('/') && e.kind() == std::io::ErrorKind::NotFound => (LinkSource::Searched, InputKind::Shared),
                Err(e) => return Err(Error::Io { file: name, reason: e.to_string() }),
            },
            (None, Some(image)) if !image.is_empty() => (LinkSource::Image(image), input_kind(image)),
            (None, _) => return Err(Error::InvalidArgument(format!("input {i} ({name}) has neither a path nor an image"))),
        };
        names.push(name);
        sources.push(source);
        kinds.push(kind);
    }
    let mut shared: Vec<Handle> = Vec::new();
    let result = (|| {
        for (i, g) in given.iter().enumerate() {
            if kinds[i] == InputKind::Shared {
                let input = match (g.path, &sources[i]) {
                    (Some(p), _) => Input::Path(p),
                    (None, LinkSource::Image(image)) => Input::Memory { image, name: &names[i] },
                    (None, _) => unreachable!("an input without a path has an image"),
                };
                let own = GLOBAL | NODELETE | NOLOAD;
                shared.push(open(input, flags & !own, hooks)?);
            }
        }
        let linked: Vec<usize> = (0..given.len()).filter(|&i| kinds[i] != InputKind::Shared).collect();
        if linked.is_empty() {
            return Err(Error::InvalidArgument("rl_link: no relocatable object or archive among the inputs".into()));
        }
        let unit_name = linked.iter().map(|&i| names[i].as_str()).collect::<Vec<_>>().join("+");
        // How each input enters the unit cache's key.
        let key: Vec<KeyInput> = (0..given.len())
            .map(|i| match (kinds[i], &sources[i]) {
                (InputKind::Shared, _) if given[i].path.is_some() => KeyInput::Shared(&names[i]),
                (InputKind::Object | InputKind::Archive, LinkSource::File(f)) => {
                    KeyInput::File { name: &names[i], whole_archive: given[i].whole_archive, stamp: f.stamp }
                }
                _ => KeyInput::Memory,
            })
            .collect();
        let inputs = LinkSources {
            inputs: linked.iter().map(|&i| (names[i].as_str(), &sources[i], given[i].whole_archive)).collect(),
            maps: Default::default(),
        };
        open(Input::Link { name: &unit_name, inputs: &inputs, shared: &shared, key: &key }, flags, hooks)
    })();
    // The unit holds its shared-object inputs now (or failed and needs them no more).
    for h in shared {
        let _ = close(h);
    }
    result
}

/// Where an input of `rl_link` comes from.
enum LinkSource<'a> {
    /// A file, open.
    File(crate::os::File),
    /// An image in memory.
    Image(&'a [u8]),
    /// A shared object to search for by name.
    Searched,
}

/// The objects and archives of an `rl_link` (name, source, whether linked whole): files are
/// mapped only when the unit is linked, not when it is mapped from the cache.
struct LinkSources<'a> {
    inputs: Vec<(&'a str, &'a LinkSource<'a>, bool)>,
    maps: once_cell::unsync::OnceCell<Vec<Option<crate::os::Bytes>>>,
}

impl<'a> crate::link::Sources for LinkSources<'a> {
    fn inputs<'s>(&'s self) -> Result<Vec<crate::link::Input<'s>>> {
        let maps = self.maps.get_or_try_init(|| {
            let map = |&(name, source, _): &(&str, &LinkSource, bool)| match source {
                LinkSource::File(f) => f.map_all().map(Some).map_err(|e| Error::Io { file: name.to_string(), reason: e.to_string() }),
                _ => Ok(None),
            };
            self.inputs.iter().map(map).collect::<Result<Vec<_>>>()
        })?;
        let input = |(&(name, source, whole_archive), map): (&(&'a str, &'a LinkSource<'a>, bool), &'s Option<crate::os::Bytes>)| {
            let data: &'s [u8] = match (source, map) {
                (_, Some(m)) => m,
                (LinkSource::Image(image), None) => image,
                _ => &[],
            };
            crate::link::Input { name, data, whole_archive }
        };
        Ok(self.inputs.iter().zip(maps).map(input).collect())
    }
}
