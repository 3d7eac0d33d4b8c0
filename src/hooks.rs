//! Symbol interception and relocation hooks: lookup hooks consulted before every scope or only
//! when no scope defines a symbol (global ones and per-open ones), symbols the host defines with
//! `rl_define`, a relocation callback that may replace values or veto a load, and load/unload
//! event callbacks. Eager and lazy binding consult the same hooks.
//!
//! Internally every hook is a Rust closure; the C ABI wraps its function pointers and user data.

use crate::module::Module;
use crate::sync::RwLock;
use std::collections::HashMap;
use std::ffi::CStr;
use std::sync::Arc;

/// A lookup hook: `(name, version, requester)` → an address to bind, or `None` to pass.
pub type LookupHook = Arc<dyn Fn(&CStr, Option<&CStr>, &CStr) -> Option<usize> + Send + Sync>;

/// One symbolic relocation, as a relocation callback sees it.
pub struct RelocEvent<'a> {
    pub requester: &'a CStr,
    pub r_type: u32,
    pub name: &'a CStr,
    pub version: Option<&'a CStr>,
    /// Where the value will be written.
    pub place: usize,
    /// The resolved value; the callback may replace it.
    pub value: usize,
}

/// A relocation callback: `Err(message)` vetoes the whole load.
pub type RelocHook = Arc<dyn Fn(&mut RelocEvent) -> Result<(), String> + Send + Sync>;

/// Load and unload events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    Map,
    Unmap,
}

/// An event callback: `(event, path, base, handle id)`.
pub type EventHook = Arc<dyn Fn(Event, &CStr, usize, u64) + Send + Sync>;

/// When a global lookup hook is consulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Before,
    After,
}

/// Hooks given to one open; they apply to the objects that open maps.
#[derive(Clone, Default)]
pub struct OpenHooks {
    pub before: Option<LookupHook>,
    pub after: Option<LookupHook>,
    pub on_relocation: Option<RelocHook>,
    /// Handles whose scopes are searched after the global scope.
    pub search: Vec<crate::module::Handle>,
    /// Where units linked from files are kept once linked, to be mapped rather than linked
    /// again (see `link::cache`); none: no cache.
    pub cache_dir: Option<std::path::PathBuf>,
}

/// A registered global hook, with the identity it is removed by.
struct Global<T> {
    key: (usize, usize),
    hook: T,
}

struct Table {
    lookups: Vec<(Phase, Global<LookupHook>)>,
    events: Vec<Global<EventHook>>,
}

static TABLE: RwLock<Table> = RwLock::new(Table { lookups: Vec::new(), events: Vec::new() });
/// How many global lookup hooks `TABLE` holds (changed under its write lock): lazy binding
/// reads it without taking the lock when there are none.
static LOOKUPS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static DEFINED: RwLock<Option<HashMap<Vec<u8>, usize>>> = RwLock::new(None);

/// Add a global lookup hook identified by `key` (the C function and user pointer).
pub fn add_lookup(key: (usize, usize), phase: Phase, hook: LookupHook) {
    let mut t = TABLE.write();
    t.lookups.push((phase, Global { key, hook }));
    LOOKUPS.store(t.lookups.len(), std::sync::atomic::Ordering::Release);
}

/// Remove the global lookup hook(s) identified by `key`; whether there was one.
pub fn remove_lookup(key: (usize, usize)) -> bool {
    let mut t = TABLE.write();
    let removed = remove_keyed(&mut t.lookups, |(_, g)| g.key == key);
    LOOKUPS.store(t.lookups.len(), std::sync::atomic::Ordering::Release);
    removed
}

pub fn add_event(key: (usize, usize), hook: EventHook) {
    TABLE.write().events.push(Global { key, hook });
}

pub fn remove_event(key: (usize, usize)) -> bool {
    remove_keyed(&mut TABLE.write().events, |g| g.key == key)
}

/// Remove the registrations `matches` picks; whether there was any.
fn remove_keyed<T>(list: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> bool {
    let before = list.len();
    list.retain(|x| !matches(x));
    list.len() != before
}

/// Define (or redefine) a symbol of the host in relink's global scope.
pub fn define(name: &[u8], addr: usize) {
    DEFINED.write().get_or_insert_with(HashMap::new).insert(name.to_vec(), addr);
}

/// Remove a symbol added by [`define`]; whether it existed.
pub fn undefine(name: &[u8]) -> bool {
    DEFINED.write().as_mut().is_some_and(|m| m.remove(name).is_some())
}

/// A symbol added by [`define`].
pub fn defined(name: &[u8]) -> Option<usize> {
    DEFINED.read().as_ref().and_then(|m| m.get(name).copied())
}

/// The hook tables, held across `fork()` (see `fork.rs`).
pub struct ForkHold {
    _defined: crate::sync::RwLockWriteGuard<'static, Option<HashMap<Vec<u8>, usize>>>,
    _table: crate::sync::RwLockWriteGuard<'static, Table>,
}

pub fn fork_prepare() -> ForkHold {
    let table = TABLE.write();
    ForkHold { _defined: DEFINED.write(), _table: table }
}

/// Tell the event callbacks about `m`. Called with no relink lock held.
pub fn notify(event: Event, m: &Module) {
    let hooks: Vec<EventHook> = TABLE.read().events.iter().map(|g| g.hook.clone()).collect();
    for h in hooks {
        h(event, m.c_name(), m.base(), m.id);
    }
}

/// The lookup hooks in force for one binding pass: the open's own, then the global ones.
#[derive(Clone, Default)]
pub struct Lookups {
    before: Vec<LookupHook>,
    after: Vec<LookupHook>,
}

impl Lookups {
    /// Snapshot the hooks for objects loaded with `open`'s hooks.
    pub fn snapshot(open: &OpenHooks) -> Lookups {
        if Self::none_for(open) {
            return Lookups { before: Vec::new(), after: Vec::new() };
        }
        let t = TABLE.read();
        let global = |p: Phase| t.lookups.iter().filter(move |(ph, _)| *ph == p).map(|(_, g)| g.hook.clone());
        Lookups {
            before: open.before.iter().cloned().chain(global(Phase::Before)).collect(),
            after: open.after.iter().cloned().chain(global(Phase::After)).collect(),
        }
    }

    /// Run `f` with [`Lookups::snapshot`], or with a static empty set when there are no hooks
    /// (the usual case for a lazy binding: nothing to build or drop).
    #[inline]
    pub fn with_snapshot<R>(open: &OpenHooks, f: impl FnOnce(&Lookups) -> R) -> R {
        static NONE: Lookups = Lookups { before: Vec::new(), after: Vec::new() };
        // One call of `f`, which the compiler can then inline.
        let snapshot;
        let lookups = match Self::none_for(open) {
            true => &NONE,
            false => {
                snapshot = Self::snapshot(open);
                &snapshot
            }
        };
        f(lookups)
    }

    /// Whether no lookup hook is in force for objects loaded with `open`'s hooks.
    #[inline]
    fn none_for(open: &OpenHooks) -> bool {
        open.before.is_none() && open.after.is_none() && LOOKUPS.load(std::sync::atomic::Ordering::Acquire) == 0
    }

    /// Consult the hooks of one phase; the first that answers decides.
    pub fn ask(&self, phase: Phase, name: &CStr, version: Option<&CStr>, requester: &CStr) -> Option<usize> {
        let list = if phase == Phase::Before { &self.before } else { &self.after };
        list.iter().find_map(|h| h(name, version, requester))
    }

    pub fn is_empty(&self) -> bool {
        self.before.is_empty() && self.after.is_empty()
    }
}
