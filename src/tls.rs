//! Thread-local storage of the objects relink loads (Drepper, "ELF Handling For Thread-Local
//! Storage": the dynamic model).
//!
//! Each relink-loaded module with PT_TLS gets a module id from a range glibc never uses
//! ([`MODID_BASE`] and up). Code reaches its block through `__tls_get_addr` (general and local
//! dynamic), which relink binds to its own entry point for the objects it relocates: ids in
//! relink's range are served here, anything else is forwarded to glibc. TLS descriptors
//! (`-mtls-dialect=gnu2`) use the same blocks through an assembly trampoline in the arch file.
//!
//! A thread's block is allocated on its first access and initialized from the module's template
//! (.tdata copied, .tbss zeroed). It is freed when the thread exits (after its other thread-exit
//! destructors have run), or when the module is unloaded, whichever comes first. Module ids are never reused, so a stale entry in an exited
//! module's slot is never looked at again.

use crate::os;
use crate::sync::{Mutex, RwLock};
use std::alloc::Layout;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// The first module id relink hands out; glibc's ids are small counters.
pub const MODID_BASE: u64 = 1 << 40;

/// `tls_index` of the psABI: what GD/LD code passes to `__tls_get_addr`.
#[repr(C)]
#[derive(Debug)]
pub struct TlsIndex {
    pub module: u64,
    pub offset: u64,
}

/// A module's TLS initialization image.
#[derive(Clone, Copy, Debug)]
pub struct Template {
    /// Runtime address and length of .tdata.
    pub image: usize,
    pub filesz: usize,
    /// Size of the whole block (.tdata + .tbss).
    pub memsz: usize,
    pub align: usize,
}

impl Template {
    fn layout(&self) -> Layout {
        Layout::from_size_align(self.memsz.max(1), self.align.max(16)).expect("TLS layout checked at load")
    }
}

/// Templates by `id - MODID_BASE`; `None` once the module is unloaded.
static TEMPLATES: RwLock<Vec<Option<Template>>> = RwLock::new(Vec::new());
/// Every allocated block, by module slot and thread, so that unloading can free them.
static LIVE: Mutex<Option<HashMap<usize, HashMap<u64, usize>>>> = Mutex::new(None);
static NEXT_THREAD: AtomicU64 = AtomicU64::new(1);

/// One thread's blocks, by module slot. Reached through a pthread key rather than a Rust
/// thread-local: glibc runs C++ `thread_local` destructors first and pthread key destructors
/// after, and code in both may still use TLS of relink-loaded objects. The key's destructor
/// re-arms itself until the last destructor round, then frees the blocks.
struct ThreadBlocks {
    token: u64,
    blocks: Vec<usize>,
    /// Destructor rounds seen so far.
    rounds: u32,
}

impl ThreadBlocks {
    fn free_all(&mut self) {
        let mut live = LIVE.lock();
        let templates = TEMPLATES.read();
        for (slot, &b) in self.blocks.iter().enumerate() {
            if b == 0 {
                continue;
            }
            let owned = live.as_mut().and_then(|m| m.get_mut(&slot)).and_then(|t| t.remove(&self.token));
            if let (Some(p), Some(Some(t))) = (owned, templates.get(slot)) {
                // SAFETY: `p` was allocated with this layout and is removed from LIVE, so it is
                // freed exactly once.
                unsafe { std::alloc::dealloc(p as *mut u8, t.layout()) };
            }
        }
        self.blocks.clear();
    }
}

unsafe extern "C" fn thread_exit(p: *mut libc::c_void) {
    // SAFETY: the slot only ever holds a leaked Box<ThreadBlocks> of this thread.
    let t = unsafe { &mut *(p as *mut ThreadBlocks) };
    t.rounds += 1;
    if t.rounds < os::THREAD_SLOT_ROUNDS {
        // Later destructors (this round's and the next) may still use TLS: stay until the last.
        slot().set(p);
        return;
    }
    t.free_all();
    // SAFETY: reclaiming the box leaked by `table`; the slot no longer refers to it.
    drop(unsafe { Box::from_raw(p as *mut ThreadBlocks) });
}

fn slot() -> &'static os::ThreadSlot {
    static SLOT: once_cell::sync::OnceCell<os::ThreadSlot> = once_cell::sync::OnceCell::new();
    SLOT.get_or_init(|| os::ThreadSlot::new(thread_exit))
}

/// The calling thread's table, created on first use.
fn table() -> &'static mut ThreadBlocks {
    let p = slot().get() as *mut ThreadBlocks;
    if !p.is_null() {
        // SAFETY: the value is this thread's leaked table, used only by this thread.
        return unsafe { &mut *p };
    }
    let t = Box::into_raw(Box::new(ThreadBlocks {
        token: NEXT_THREAD.fetch_add(1, Ordering::Relaxed),
        blocks: Vec::new(),
        rounds: 0,
    }));
    // `thread_exit` reclaims it.
    slot().set(t as *mut libc::c_void);
    // SAFETY: freshly leaked, used only by this thread.
    unsafe { &mut *t }
}

/// Register a module's template and return its module id.
pub fn register(t: Template) -> Result<u64, String> {
    if !t.align.is_power_of_two() || t.filesz > t.memsz || Layout::from_size_align(t.memsz.max(1), t.align.max(16)).is_err() {
        return Err("bad PT_TLS segment (size or alignment)".into());
    }
    let mut v = TEMPLATES.write();
    v.push(Some(t));
    Ok(MODID_BASE + (v.len() - 1) as u64)
}

/// Forget a module's template and free every thread's block of it.
pub fn unregister(id: u64) {
    let slot = (id - MODID_BASE) as usize;
    let t = TEMPLATES.write().get_mut(slot).and_then(Option::take);
    let blocks = LIVE.lock().as_mut().and_then(|m| m.remove(&slot));
    if let (Some(t), Some(blocks)) = (t, blocks) {
        for (_, p) in blocks {
            // SAFETY: allocated with this layout; removed from LIVE, so freed exactly once.
            unsafe { std::alloc::dealloc(p as *mut u8, t.layout()) };
        }
    }
}

/// The TLS tables, held across `fork()` (see `fork.rs`).
pub struct ForkHold {
    templates: crate::sync::RwLockWriteGuard<'static, Vec<Option<Template>>>,
    live: crate::sync::MutexGuard<'static, Option<HashMap<usize, HashMap<u64, usize>>>>,
}

pub fn fork_prepare() -> ForkHold {
    // The key must exist before the fork: its creation must not be cut in half.
    slot();
    let live = LIVE.lock();
    ForkHold { templates: TEMPLATES.write(), live }
}

/// In the child: free the blocks of the threads that did not come along (only the forking
/// thread did), then release the tables.
pub fn fork_child(mut held: ForkHold) {
    let p = slot().get() as *const ThreadBlocks;
    // SAFETY: the slot holds this thread's own table (copied with it), or NULL.
    let mine = unsafe { p.as_ref() }.map(|t| t.token);
    let Some(live) = held.live.as_mut() else { return };
    for (slot, blocks) in live.iter_mut() {
        let Some(Some(t)) = held.templates.get(*slot) else { continue };
        blocks.retain(|&token, &mut b| {
            if Some(token) == mine {
                return true;
            }
            // SAFETY: allocated with this layout by a thread that does not exist in this
            // process; removed from LIVE, so freed exactly once and never used again.
            unsafe { std::alloc::dealloc(b as *mut u8, t.layout()) };
            false
        });
    }
}

fn allocate(slot: usize, token: u64) -> usize {
    let Some(Some(t)) = TEMPLATES.read().get(slot).copied() else {
        // A module that is not (or no longer) loaded: nothing valid to return.
        std::process::abort();
    };
    // SAFETY: the layout has a non-zero size.
    let p = unsafe { std::alloc::alloc(t.layout()) };
    if p.is_null() {
        std::alloc::handle_alloc_error(t.layout());
    }
    // SAFETY: `p` holds memsz bytes; the image holds filesz bytes of the loaded module.
    unsafe {
        std::ptr::copy_nonoverlapping(t.image as *const u8, p, t.filesz);
        std::ptr::write_bytes(p.add(t.filesz), 0, t.memsz - t.filesz);
    }
    LIVE.lock().get_or_insert_with(HashMap::new).entry(slot).or_default().insert(token, p as usize);
    p as usize
}

/// The calling thread's block of module `id` if it has one already (dl_iterate_phdr's
/// `dlpi_tls_data`: NULL until the thread first uses the module's TLS).
pub fn existing_block(id: u64) -> Option<usize> {
    let p = slot().get() as *const ThreadBlocks;
    // SAFETY: the slot holds this thread's own table, or NULL.
    let t = unsafe { p.as_ref() }?;
    t.blocks.get((id - MODID_BASE) as usize).copied().filter(|&b| b != 0)
}

/// The calling thread's block of module `id`, allocated on first use.
pub fn block(id: u64) -> usize {
    let slot = (id - MODID_BASE) as usize;
    let t = table();
    if let Some(&b) = t.blocks.get(slot) {
        if b != 0 {
            return b;
        }
    }
    let b = allocate(slot, t.token);
    if t.blocks.len() <= slot {
        t.blocks.resize(slot + 1, 0);
    }
    t.blocks[slot] = b;
    b
}

extern "C" {
    /// glibc's, for the host's modules.
    #[link_name = "__tls_get_addr"]
    fn glibc_tls_get_addr(ti: *const TlsIndex) -> *mut u8;
}

/// `__tls_get_addr` for code relink relocates (reached through the arch file's stack-aligning
/// entry point).
pub extern "C" fn tls_get_addr(ti: *const TlsIndex) -> *mut u8 {
    // SAFETY: GD/LD code passes a pointer to its GOT's tls_index pair.
    let ti = unsafe { &*ti };
    if ti.module >= MODID_BASE {
        (block(ti.module) + ti.offset as usize) as *mut u8
    } else {
        // SAFETY: forwarding the caller's own argument to the system loader.
        unsafe { glibc_tls_get_addr(ti) }
    }
}

/// The slow path of a dynamic TLS descriptor: the variable's offset from the thread pointer.
pub extern "C" fn tlsdesc_offset(ti: *const TlsIndex) -> isize {
    let addr = tls_get_addr(ti) as isize;
    addr - crate::arch::thread_pointer() as isize
}

/// A block in the C library's static TLS area: at a fixed offset from the thread pointer in
/// every thread, and reachable through its module id too.
#[derive(Debug)]
pub struct StaticBlock {
    pub modid: u64,
    pub tp_offset: isize,
}

/// Reserve a static TLS block for `t` (for initial-exec and local-exec accesses of `name`).
pub fn reserve_static(t: Template, name: &str) -> Result<StaticBlock, String> {
    let _ = (t, name);
    Err("static TLS is not available".into())
}
