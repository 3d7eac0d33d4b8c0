//! Thread-local storage of the objects relink loads (Drepper, "ELF Handling For Thread-Local
//! Storage"). Objects that reach their own TLS initial-exec (DF_STATIC_TLS, or TPOFF relocations
//! against their own block) get a block in static TLS, which the system loader reserves and
//! initializes in every thread ([`reserve_static`], at the end of this file). All others get
//! dynamic TLS, below.
//!
//! Each relink-loaded module with dynamic TLS gets a module id from a range glibc never uses
//! ([`MODID_BASE`] and up). Code reaches its block through `__tls_get_addr` (general and local
//! dynamic), which relink binds to its own entry point for the objects it relocates: ids in
//! relink's range are served here, anything else is forwarded to glibc. TLS descriptors
//! (`-mtls-dialect=gnu2`) use the same blocks through an assembly trampoline in the arch file.
//!
//! A thread's block is allocated on its first access and initialized from the module's template
//! (.tdata copied, .tbss zeroed). It is freed when the thread exits (after its other thread-exit
//! destructors have run), or when the module is unloaded, whichever comes first. Module ids are never reused, so a stale entry in an exited
//! module's slot is never looked at again.

use crate::{host, os};
use crate::sync::{Mutex, RwLock};
use std::alloc::Layout;
use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The first module id relink hands out; glibc's ids are small counters. (It fits the
/// `tls_index` words of 32-bit machines.)
pub const MODID_BASE: u64 = if usize::BITS == 64 { 1 << 40 } else { 1 << 24 };

pub use crate::module::{Template, TlsIndex};
use crate::module::StaticTls;

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

fn check(t: &Template) -> Result<(), String> {
    if !t.align.is_power_of_two() || t.filesz > t.memsz || Layout::from_size_align(t.memsz.max(1), t.align.max(16)).is_err() {
        return Err("bad PT_TLS segment (size or alignment)".into());
    }
    Ok(())
}

/// Register a module's template and return its module id.
pub fn register(t: Template) -> Result<u64, String> {
    check(&t)?;
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

/// An object's TLS module id (0 without TLS), and the calling thread's block of it if the
/// thread has one (dl_iterate_phdr's `dlpi_tls_modid` and `dlpi_tls_data`).
pub fn now(m: &crate::module::Module) -> (u64, Option<usize>) {
    match (m.tls_id, m.host_tls) {
        (Some(id), _) => (id, existing_block(id)),
        (None, Some(t)) => {
            let block = t.tp_offset.map(|o| crate::arch::thread_pointer().wrapping_add_signed(o));
            (t.modid as u64, block)
        }
        (None, None) => (0, None),
    }
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
    // The offset is biased by the machine's DTV offset (0 but on riscv), as glibc's is.
    let offset = ti.offset.wrapping_add(crate::arch::DTV_OFFSET as usize);
    if ti.module as u64 >= MODID_BASE {
        block(ti.module as u64).wrapping_add(offset) as *mut u8
    } else if ti.module == 0 {
        // An undefined weak variable (see `relocate`): at address 0, as glibc's resolves it.
        offset as *mut u8
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

// The machine's entry points for relocated code that call the two functions above: the TLS
// descriptor functions, and `__tls_get_addr` where the machine needs an entry of its own.
crate::arch::tls_entries_asm!(get_addr = tls_get_addr, desc_offset = tlsdesc_offset);

// ---------------------------------------------------------------------------------------------
// Static TLS: blocks at a fixed offset from the thread pointer, for initial-exec code.

/// What a static TLS block must be: its size, alignment and initialization image.
#[derive(Debug)]
struct Wanted {
    image: Vec<u8>,
    memsz: usize,
    align: usize,
}

impl Wanted {
    fn of(t: &Template) -> Wanted {
        Wanted { image: image_of(t).to_vec(), memsz: t.memsz, align: t.align.max(1) }
    }

    fn template(&self) -> Template {
        Template { image: self.image.as_ptr() as usize, filesz: self.image.len(), memsz: self.memsz, align: self.align }
    }
}

fn image_of(t: &Template) -> &[u8] {
    if t.filesz == 0 {
        return &[];
    }
    // SAFETY: a template's image is `filesz` readable bytes (of a mapped object, or of the
    // buffer it was made from) for as long as the template is used.
    unsafe { std::slice::from_raw_parts(t.image as *const u8, t.filesz) }
}

/// A block of static TLS: it lies at the same offset from the thread pointer in every thread,
/// and every thread — those that exist when it is reserved and those created later — finds it
/// initialized from the template. Initial-exec and local-exec code reach it through that offset
/// (`R_X86_64_TPOFF64`, `%fs:offset`); general and local dynamic code, TLS descriptors and
/// `rl_sym` through its module id, which is the system loader's: `__tls_get_addr`, glibc's or
/// relink's, returns the same block for it.
///
/// glibc owns the static TLS area and gives out what is left of it only to the objects its own
/// `dlopen` loads. So relink has it load, from a memory file (`/proc/self/fd/N`), a small
/// object it writes for the purpose: no code and no symbols, a PT_TLS segment with the
/// template's size, alignment and initialization image, and one `R_X86_64_TPOFF64` relocation
/// against its own block, which is what makes glibc place the block in static TLS and
/// initialize it in every thread. The object is marked (a program header of its own type) so
/// that relink does not take it for one of the host's.
///
/// Dropping the value unloads that object. glibc then takes the space back only when it was the
/// last given out; static TLS is otherwise not reused (as with glibc's own `dlclose`).
#[derive(Debug)]
pub struct StaticBlock {
    /// The system loader's TLS module id of the block.
    pub modid: u64,
    /// Offset of the block from the thread pointer (negative on x86-64).
    pub tp_offset: isize,
    wanted: Wanted,
    /// Unloaded before its file is closed (field order).
    _stub: host::Private,
    _file: os::MemFile,
}

impl StaticTls for StaticBlock {
    fn initializes(&self, t: &Template) -> bool {
        self.wanted.memsz == t.memsz && self.wanted.align == t.align.max(1) && self.wanted.image == image_of(t)
    }
}

/// Reserve a block of static TLS for an object (named `name` in messages) with TLS template
/// `t`: every thread's copy starts as `t`'s image (read now: apply relocations into the image
/// first), followed by zeros up to `t.memsz`.
///
/// The space is scarce: glibc keeps a fixed surplus of static TLS for objects loaded after
/// startup (1,536 bytes fit with glibc 2.36 and its default tunables, 2,048 do not), and only
/// `GLIBC_TUNABLES=glibc.rtld.optional_static_tls=BYTES` in the environment at program start
/// enlarges it; the error says so.
///
/// Takes the system loader's lock: never call it with relink's registry lock held (a
/// constructor the system loader is running may be waiting for that lock). `registry::open`
/// reserves the blocks an open needs before it takes its lock (see [`Reservations`]).
pub fn reserve_static(t: Template, name: &str) -> Result<StaticBlock, String> {
    check(&t)?;
    let wanted = Wanted::of(&t);
    let page = os::page_size();
    let bytes = stub_object(&wanted, page);
    let label: String = format!("relink static TLS of {}", name.rsplit('/').next().unwrap_or(name))
        .chars()
        .map(|c| if c == '\0' { '?' } else { c })
        .take(200)
        .collect();
    let io = |e: std::io::Error| format!("static TLS: cannot make the object that holds its block: {e}");
    let mut file = os::MemFile::new(&label, &bytes).map_err(io)?;
    // The system loader hands out an object it has loaded under the same name, whatever the
    // file: a descriptor number an earlier block's object was loaded under (its descriptor
    // since closed behind relink's back) would give that object back. Use another number then.
    let mut tried = Vec::new();
    while host::is_loaded(&file.path()) {
        if tried.len() == 8 {
            return Err("static TLS: no free name for the object that holds its block".into());
        }
        let other = file.renamed().map_err(io)?;
        tried.push(std::mem::replace(&mut file, other));
    }
    drop(tried);
    let path = file.path();
    let stub = host::load_private(&path).map_err(|e| {
        let e = e.strip_prefix(&format!("{}: ", path.to_string_lossy())).unwrap_or(&e).to_string();
        if e.contains("static TLS") {
            format!(
                "static TLS block of {} bytes (initial-exec thread-local variables): {e} (the C library keeps \
                 little static TLS for objects loaded after startup; start the program with \
                 GLIBC_TUNABLES=glibc.rtld.optional_static_tls=BYTES in its environment to keep more)",
                t.memsz
            )
        } else {
            format!("static TLS: the system loader refused the object that holds its block: {e}")
        }
    })?;
    let modid = stub.tls_modid().ok_or("static TLS: the system loader gave its block no module id")?;
    // Offset 0 of the block: glibc adds the machine's DTV offset to what it is given.
    let start = TlsIndex { module: modid as usize, offset: 0usize.wrapping_sub(crate::arch::DTV_OFFSET as usize) };
    // SAFETY: a module id of a loaded object with a TLS segment; glibc returns the calling
    // thread's block of it.
    let block = unsafe { glibc_tls_get_addr(&start) } as usize;
    let tp_offset = block.wrapping_sub(crate::arch::thread_pointer()) as isize;
    Ok(StaticBlock { modid, tp_offset, wanted, _stub: stub, _file: file })
}

/// The bytes of the object that holds a static TLS block, of the machine's own ELF class: an
/// ELF header, program headers (one read-write PT_LOAD over the whole file, PT_DYNAMIC, PT_TLS,
/// the marker), the dynamic section, a symbol table with only the null symbol, its hash table,
/// an empty string table, one TPOFF relocation against the object's own block (RELA, or REL
/// with an in-place addend of 0 on machines whose loader takes REL) and the word it writes,
/// then the image.
fn stub_object(w: &Wanted, page: usize) -> Vec<u8> {
    use crate::raw::{self, WORD};
    const PHNUM: usize = 4;
    const DYN_TAGS: usize = 10;
    let ehdr = std::mem::size_of::<raw::Ehdr>();
    let phdr = std::mem::size_of::<raw::Phdr>();
    let sym = std::mem::size_of::<raw::Sym>();
    let dyn_size = std::mem::size_of::<raw::Dyn>();
    let rel = crate::arch::ACCEPTS_REL;
    let reloc = if rel { std::mem::size_of::<raw::Rel>() } else { std::mem::size_of::<raw::Rela>() };
    let dynamic = ehdr + PHNUM * phdr;
    let symtab = dynamic + DYN_TAGS * dyn_size;
    let hash = symtab + sym;
    let strtab = hash + 16;
    let rela = strtab + 8;
    let slot = rela + reloc;
    let image = (slot + WORD).next_multiple_of(w.align);
    let end = image + w.image.len();

    let mut b = Vec::with_capacity(end);
    let u16 = |b: &mut Vec<u8>, v: u16| b.extend_from_slice(&v.to_le_bytes());
    let u32 = |b: &mut Vec<u8>, v: u32| b.extend_from_slice(&v.to_le_bytes());
    let word = |b: &mut Vec<u8>, v: usize| b.extend_from_slice(&v.to_le_bytes());
    // ELF header.
    b.extend_from_slice(&[0x7f, b'E', b'L', b'F', raw::ELF_CLASS, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    u16(&mut b, elf::abi::ET_DYN);
    u16(&mut b, crate::arch::ELF_MACHINE);
    u32(&mut b, 1);
    word(&mut b, 0);
    word(&mut b, ehdr);
    word(&mut b, 0);
    u32(&mut b, crate::arch::ELF_FLAGS);
    let shdr = if WORD == 8 { 64 } else { 40 };
    for v in [ehdr, phdr, PHNUM, shdr, 0, 0] {
        u16(&mut b, v as u16);
    }
    // Program headers: type, flags, offset, vaddr, paddr, filesz, memsz, align (ELF32 puts the
    // flags after the sizes). File offsets are addresses.
    let ph = |b: &mut Vec<u8>, ty: u32, flags: u32, at: usize, filesz: usize, memsz: usize, align: usize| {
        u32(b, ty);
        if WORD == 8 {
            u32(b, flags);
        }
        for v in [at, at, at, filesz, memsz] {
            word(b, v);
        }
        if WORD == 4 {
            u32(b, flags);
        }
        word(b, align);
    };
    let (r, rw) = (elf::abi::PF_R, elf::abi::PF_R | elf::abi::PF_W);
    ph(&mut b, elf::abi::PT_LOAD, rw, 0, end, end, page);
    ph(&mut b, elf::abi::PT_DYNAMIC, rw, dynamic, DYN_TAGS * dyn_size, DYN_TAGS * dyn_size, WORD);
    ph(&mut b, elf::abi::PT_TLS, r, image, w.image.len(), w.memsz, w.align);
    ph(&mut b, host::PT_RELINK_STATIC_TLS, r, 0, 0, 0, 1);
    // Dynamic section.
    let (dt_rel, dt_relsz, dt_relent) = match rel {
        true => (elf::abi::DT_REL, elf::abi::DT_RELSZ, elf::abi::DT_RELENT),
        false => (elf::abi::DT_RELA, elf::abi::DT_RELASZ, elf::abi::DT_RELAENT),
    };
    let tags: [(i64, usize); DYN_TAGS] = [
        (elf::abi::DT_HASH, hash),
        (elf::abi::DT_STRTAB, strtab),
        (elf::abi::DT_SYMTAB, symtab),
        (elf::abi::DT_STRSZ, 1),
        (elf::abi::DT_SYMENT, sym),
        (dt_rel, rela),
        (dt_relsz, reloc),
        (dt_relent, reloc),
        (elf::abi::DT_FLAGS, elf::abi::DF_STATIC_TLS as usize),
        (elf::abi::DT_NULL, 0),
    ];
    for (tag, v) in tags {
        word(&mut b, tag as usize);
        word(&mut b, v);
    }
    // The null symbol; a hash table of one empty bucket; the string table ("" and padding).
    b.resize(hash, 0);
    for v in [1u32, 1, 0, 0] {
        u32(&mut b, v);
    }
    b.resize(rela, 0);
    // TPOFF against symbol 0 (the object's own block), addend 0, into `slot`.
    word(&mut b, slot);
    word(&mut b, crate::arch::TPOFF as usize);
    if !rel {
        word(&mut b, 0);
    }
    b.resize(image, 0);
    b.extend_from_slice(&w.image);
    b
}

/// Blocks reserved for the open running in this thread, and what its last attempt lacked.
#[derive(Default)]
struct Reserved {
    /// Each block; one that an object holds is taken (an object of a failed attempt is gone).
    blocks: Vec<Arc<StaticBlock>>,
    /// The block the last attempt lacked, and the object's name.
    wanted: Option<(Wanted, String)>,
}

thread_local! {
    static RESERVED: RefCell<Reserved> = RefCell::new(Reserved::default());
    /// Whether this thread ever reserved or wanted a block. Until it has, `RESERVED` is empty and
    /// left alone: its first use registers a thread-exit destructor with the C library (an
    /// allocation and, the first time in the process, lazy bindings of the C library's own),
    /// which an open of objects without static TLS does not need.
    static RESERVED_USED: Cell<bool> = const { Cell::new(false) };
}

/// The static TLS blocks of one open, reserved with no relink lock held.
///
/// An open maps its objects under the registry lock, where reserving is not allowed. An object
/// that needs a block takes one reserved for it (`reserved_for`); when there is none, the open
/// notes what it needs, fails, and starts over after [`Reservations::reserve_wanted`] has
/// reserved it. The open's objects hold the blocks they took; dropping this value (once the
/// lock is released) unloads those nothing holds, so that an open that fails after mapping an
/// object leaves no block behind.
pub struct Reservations {
    /// The reservations of an open this thread is inside of (a constructor's `rl_open`); `None`
    /// once given back.
    outer: Option<Reserved>,
}

impl Reservations {
    pub fn begin() -> Reservations {
        if !RESERVED_USED.get() {
            return Reservations { outer: Some(Reserved::default()) };
        }
        Reservations { outer: Some(RESERVED.with(RefCell::take)) }
    }

    /// Reserve the block the last attempt lacked. `None` if it lacked none: the open is over,
    /// and the outer open's reservations are given back in the same visit to the thread's
    /// state (the blocks no object took are released). Else the object's name, with the error
    /// if the block could not be reserved.
    pub fn reserve_wanted(&mut self) -> Option<(String, Result<(), String>)> {
        if !RESERVED_USED.get() {
            // Nothing was reserved or wanted: the thread's state and the outer open's are empty.
            self.outer = None;
            return None;
        }
        let wanted = RESERVED.with(|r| {
            let mut r = r.borrow_mut();
            match r.wanted.take() {
                Some(w) => Ok(w),
                None => Err(std::mem::replace(&mut *r, self.outer.take().unwrap_or_default())),
            }
        });
        let (w, name) = wanted.ok()?;
        let block = reserve_static(w.template(), &name);
        let r = block.map(|b| RESERVED.with(|r| r.borrow_mut().blocks.push(Arc::new(b))));
        Some((name, r))
    }
}

impl Drop for Reservations {
    fn drop(&mut self) {
        if let Some(outer) = self.outer.take().filter(|_| RESERVED_USED.get()) {
            let mine = RESERVED.with(|r| r.replace(outer));
            drop(mine);
        }
    }
}

/// The static TLS block reserved by the current open for an object with template `t`, or
/// `None` after noting that the open needs one (see [`Reservations`]).
pub fn reserved_for(t: &Template, name: &str) -> Option<Arc<StaticBlock>> {
    RESERVED_USED.set(true);
    RESERVED.with(|r| {
        let mut r = r.borrow_mut();
        if let Some(b) = r.blocks.iter().find(|b| Arc::strong_count(b) == 1 && b.initializes(t)) {
            return Some(b.clone());
        }
        r.wanted = Some((Wanted::of(t), name.to_string()));
        None
    })
}
