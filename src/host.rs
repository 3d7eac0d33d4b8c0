//! The host's own objects — the program and everything the system loader mapped — found with
//! dl_iterate_phdr and read in place, so that relink resolves against them with its own hash
//! lookups rather than a dlsym call per symbol.

use crate::module::{HostTls, Module};
use crate::parse::DynInfo;
use crate::raw::Span;
use crate::symbols::SymTab;
use elf::abi;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::Arc;

type PhdrCallback = Option<unsafe extern "C" fn(*mut libc::dl_phdr_info, usize, *mut c_void) -> c_int>;

/// The system loader's own functions. relink never reaches them through a dynamic reference:
/// a preloaded interposer (relink's own `librelink_preload.so` among them) would capture it.
/// They are looked up once, by name and version, in the symbol tables of the objects on the
/// system loader's list, the C library first.
pub struct Real {
    pub dlopen: DlopenFn,
    pub dlclose: DlcloseFn,
    pub dlsym: DlsymFn,
    pub dlvsym: DlvsymFn,
    pub dlmopen: DlmopenFn,
    pub dlerror: DlerrorFn,
    pub dladdr1: Dladdr1Fn,
    pub dlinfo: DlinfoFn,
    pub dl_iterate_phdr: DlIteratePhdrFn,
    /// `_dl_find_object` (glibc 2.35 and later).
    pub find_object: Option<FindObjectFn>,
}

pub type DlopenFn = unsafe extern "C" fn(*const c_char, c_int) -> *mut c_void;
pub type DlcloseFn = unsafe extern "C" fn(*mut c_void) -> c_int;
pub type DlsymFn = unsafe extern "C" fn(*mut c_void, *const c_char) -> *mut c_void;
pub type DlvsymFn = unsafe extern "C" fn(*mut c_void, *const c_char, *const c_char) -> *mut c_void;
pub type DlmopenFn = unsafe extern "C" fn(libc::c_long, *const c_char, c_int) -> *mut c_void;
pub type DlerrorFn = unsafe extern "C" fn() -> *mut c_char;
pub type Dladdr1Fn = unsafe extern "C" fn(*const c_void, *mut libc::Dl_info, *mut *mut c_void, c_int) -> c_int;
pub type DlinfoFn = unsafe extern "C" fn(*mut c_void, c_int, *mut c_void) -> c_int;
pub type DlIteratePhdrFn = unsafe extern "C" fn(PhdrCallback, *mut c_void) -> c_int;
pub type FindObjectFn = unsafe extern "C" fn(*mut c_void, *mut c_void) -> c_int;

/// The system loader's functions (see [`Real`]).
pub fn real() -> &'static Real {
    static REAL: once_cell::sync::Lazy<Real> = once_cell::sync::Lazy::new(Real::find);
    &REAL
}

impl Real {
    fn find() -> Real {
        extern "C" {
            static _r_debug: crate::raw::RDebug;
        }
        // glibc 2.34 moved the functions into the C library under new versions; the older
        // ones name libdl's. Each name is taken from the first object on the list that defines
        // its most preferred version, else the first that defines the next one, and so on. On
        // machines glibc came to later, the older ones are all its first version
        // (`arch::GLIBC_BASE`), tried last. The queries are hashed at compile time.
        use crate::symbols::Query;
        macro_rules! versions {
            ($name:literal: $($v:literal),*) => {
                &[$(Query::of_const($name.as_bytes(), Some($v.as_bytes())),)* Query::of_const($name.as_bytes(), Some(crate::arch::GLIBC_BASE.as_bytes()))]
            };
        }
        const WANTED: [&[Query<'static>]; 10] = [
            versions!("dlopen": "GLIBC_2.34", "GLIBC_2.2.5"),
            versions!("dlclose": "GLIBC_2.34", "GLIBC_2.2.5"),
            versions!("dlsym": "GLIBC_2.34", "GLIBC_2.2.5"),
            versions!("dlvsym": "GLIBC_2.34", "GLIBC_2.2.5"),
            versions!("dlmopen": "GLIBC_2.34", "GLIBC_2.3.4"),
            versions!("dlerror": "GLIBC_2.34", "GLIBC_2.2.5"),
            versions!("dladdr1": "GLIBC_2.34", "GLIBC_2.3.3"),
            versions!("dlinfo": "GLIBC_2.34", "GLIBC_2.3.3"),
            versions!("dl_iterate_phdr": "GLIBC_2.2.5", "GLIBC_2.2.4"),
            versions!("_dl_find_object": "GLIBC_2.35"),
        ];
        // (version index, address) of the best definition found so far, per name.
        let mut best: [Option<(usize, usize)>; WANTED.len()] = [None; WANTED.len()];
        // The objects on the system loader's list that can be read, except the one holding
        // this code: its own definitions of these names may be interposers.
        let me = real as fn() -> &'static Real as usize;
        // Nor the vDSO, which defines none of these names.
        let vdso = crate::os::auxv(libc::AT_SYSINFO_EHDR) as usize;
        // SAFETY: the system loader's list of objects is complete once the program runs; its
        // records stay valid while their objects are loaded, and the C library (the one object
        // looked for) is never unloaded.
        let mut l = unsafe { _r_debug.r_map };
        // The tables of the objects read (the C library and the few after it), with their bases.
        let mut read: Vec<(usize, Tables)> = Vec::with_capacity(4);
        // Objects are read in list order until every name has its most preferred version (the
        // C library defines them all, early on the list).
        while !l.is_null() && best.iter().any(|b| b.is_none_or(|(v, _)| v > 0)) {
            // SAFETY: a record of the list (see above).
            let lm = unsafe { &*l };
            l = lm.l_next;
            // Not the program (first, named ""; l_addr is no base in a non-PIE one): it defines
            // none of these, and its canonical PLT entries for them lead to the interposer.
            // SAFETY: the system loader's names are C strings.
            if lm.l_name.is_null() || unsafe { *lm.l_name } == 0 || lm.l_addr == 0 {
                continue;
            }
            // SAFETY: a shared object's first segment maps its ELF header at its base.
            let Some((phdr, phnum)) = (unsafe { crate::raw::program_headers(lm.l_addr) }) else { continue };
            // SAFETY: the system loader's program headers stay mapped while the object is loaded.
            let phdrs = unsafe { std::slice::from_raw_parts(phdr as *const crate::raw::Phdr, phnum) };
            let holds = |addr: usize| {
                move |p: &crate::raw::Phdr| {
                    let lo = lm.l_addr.wrapping_add(p.p_vaddr as usize);
                    p.p_type == abi::PT_LOAD && addr >= lo && addr - lo < p.p_memsz as usize
                }
            };
            if phdrs.iter().any(holds(me)) || (vdso != 0 && phdrs.iter().any(holds(vdso))) {
                continue;
            }
            let Some(t) = tables(lm.l_addr, phdrs) else { continue };
            read.push((lm.l_addr, t));
            let symtab = &read[read.len() - 1].1 .2;
            for (queries, best) in WANTED.iter().zip(&mut best) {
                let limit = best.map_or(queries.len(), |(v, _)| v);
                for (vi, q) in queries.iter().enumerate().take(limit) {
                    let Some(sym) = symtab.lookup(q).and_then(|i| symtab.sym(i)) else { continue };
                    if sym.st_shndx != 0 && sym.st_value != 0 {
                        *best = Some((vi, lm.l_addr.wrapping_add(sym.st_value as usize)));
                        break;
                    }
                }
            }
        }
        if !read.is_empty() {
            let old = READ_FOR_REAL.swap(Box::into_raw(Box::new(read)), Ordering::AcqRel);
            if !old.is_null() {
                // SAFETY: every pointer stored there came from `Box::into_raw`; the swap took
                // this one out, so nothing else frees it.
                drop(unsafe { Box::from_raw(old) });
            }
        }
        let found = |i: usize| best[i].map(|(_, a)| a);
        let need = |i: usize| {
            found(i).unwrap_or_else(|| crate::os::die(&format!("relink: the system loader's {} was not found", String::from_utf8_lossy(WANTED[i][0].name))))
        };
        // SAFETY: each address is the C library's definition of the function of that name and
        // version, whose prototype is the field's type.
        unsafe {
            Real {
                dlopen: std::mem::transmute::<usize, DlopenFn>(need(0)),
                dlclose: std::mem::transmute::<usize, DlcloseFn>(need(1)),
                dlsym: std::mem::transmute::<usize, DlsymFn>(need(2)),
                dlvsym: std::mem::transmute::<usize, DlvsymFn>(need(3)),
                dlmopen: std::mem::transmute::<usize, DlmopenFn>(need(4)),
                dlerror: std::mem::transmute::<usize, DlerrorFn>(need(5)),
                dladdr1: std::mem::transmute::<usize, Dladdr1Fn>(need(6)),
                dlinfo: std::mem::transmute::<usize, DlinfoFn>(need(7)),
                dl_iterate_phdr: std::mem::transmute::<usize, DlIteratePhdrFn>(need(8)),
                find_object: found(9).map(|a| std::mem::transmute::<usize, FindObjectFn>(a)),
            }
        }
    }
}

/// An object's readable ranges, dynamic section and symbol table, as [`tables`] reads them.
type Tables = (Span, DynInfo, SymTab);

/// The tables [`Real::find`] read (the C library's and those of the objects after it it had to
/// read), each with its object's base, boxed, kept for the first view of the host to take rather
/// than read them again (the version definitions its lookups read among them); null once taken.
static READ_FOR_REAL: AtomicPtr<Vec<(usize, Tables)>> = AtomicPtr::new(std::ptr::null_mut());

/// Take the tables [`Real::find`] kept, if they are still there.
fn take_read_for_real() -> Vec<(usize, Tables)> {
    if READ_FOR_REAL.load(Ordering::Acquire).is_null() {
        return Vec::new();
    }
    let p = READ_FOR_REAL.swap(std::ptr::null_mut(), Ordering::AcqRel);
    if p.is_null() {
        return Vec::new();
    }
    // SAFETY: a non-null pointer stored there came from `Box::into_raw`; the swap took it out,
    // so this call alone owns it.
    *unsafe { Box::from_raw(p) }
}

/// What dl_iterate_phdr reported for one object.
pub struct Found {
    pub addr: usize,
    /// Where the system loader's name of the object ("" for the program) lies in
    /// [`Listed::names`].
    name: (usize, usize),
    pub phdr: usize,
    phnum: usize,
    tls_modid: usize,
    tls_data: usize,
}

/// The host's objects as [`list`] found them.
pub struct Listed {
    /// The system loader's (adds, subs) counters when it listed them.
    pub gen: (u64, u64),
    pub found: Vec<Found>,
    /// Their names, one after the other (one allocation for all).
    names: String,
}

impl Listed {
    /// The system loader's name of an object of the list ("" for the program).
    pub fn name(&self, f: &Found) -> &str {
        &self.names[f.name.0..f.name.1]
    }
}

/// The system loader's (adds, subs) counters: they change whenever it maps or unmaps an object.
pub fn generation() -> (u64, u64) {
    unsafe extern "C" fn cb(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut libc::c_void) -> libc::c_int {
        // SAFETY: the system loader passes a valid info record; `data` is our tuple.
        unsafe {
            let out = &mut *(data as *mut (u64, u64));
            *out = ((*info).dlpi_adds, (*info).dlpi_subs);
        }
        1
    }
    let mut g = (0u64, 0u64);
    // SAFETY: the callback only writes through `data`, which points to `g`.
    unsafe { (real().dl_iterate_phdr)(Some(cb), &mut g as *mut _ as *mut libc::c_void) };
    g
}

/// The host's objects in the system loader's order (program first, then what it loaded at
/// startup, then what it opened later), with its (adds, subs) counters at that moment.
pub fn list() -> Listed {
    unsafe extern "C" fn cb(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut libc::c_void) -> libc::c_int {
        // SAFETY: the system loader passes a valid info record; `data` is our `Listed`.
        unsafe {
            let out = &mut *(data as *mut Listed);
            let i = &*info;
            out.gen = (i.dlpi_adds, i.dlpi_subs);
            let at = out.names.len();
            if !i.dlpi_name.is_null() {
                let name = CStr::from_ptr(i.dlpi_name).to_bytes();
                match std::str::from_utf8(name) {
                    Ok(name) => out.names.push_str(name),
                    Err(_) => out.names.push_str(&String::from_utf8_lossy(name)),
                }
            }
            out.found.push(Found {
                addr: i.dlpi_addr as usize,
                name: (at, out.names.len()),
                phdr: i.dlpi_phdr as usize,
                phnum: i.dlpi_phnum as usize,
                tls_modid: i.dlpi_tls_modid,
                tls_data: i.dlpi_tls_data as usize,
            });
        }
        0
    }
    let mut listed = Listed { gen: (0, 0), found: Vec::with_capacity(16), names: String::with_capacity(512) };
    // SAFETY: the callback only writes into `listed`.
    unsafe { (real().dl_iterate_phdr)(Some(cb), &mut listed as *mut _ as *mut libc::c_void) };
    listed
}

/// relink's view of the host's objects `listed`: `reuse` gives the object relink has already
/// read for an entry (with its name), if any; the others are read in place and numbered by
/// `next_id`.
///
/// Objects the system loader loaded at startup are in its global scope: the program, its
/// DT_NEEDED closure and the preloaded objects, which precede anything opened later on its list
/// (the vDSO, which no lookup of the system loader's sees, excepted). Objects that come after
/// them are left for [`classify`]. Returns the objects and how many of them, first, the system
/// loader loaded at startup (it never unloads those).
pub fn modules(listed: &Listed, mut reuse: impl FnMut(&Found, &str) -> Option<Arc<Module>>, next_id: &mut impl FnMut() -> u64) -> (Vec<Arc<Module>>, usize) {
    let tp = crate::arch::thread_pointer();
    let mut kept = take_read_for_real();
    let mut program = None;
    let mut modules: Vec<Arc<Module>> = Vec::with_capacity(listed.found.len());
    // Objects read now whose TLS block may be in static TLS (see below).
    let mut static_tls = Vec::new();
    for (i, f) in listed.found.iter().enumerate() {
        let name = listed.name(f);
        match reuse(f, name) {
            Some(m) => modules.push(m),
            None => {
                let Some(m) = module_of(f, name, i == 0, tp, next_id(), &mut kept) else { continue };
                if m.host_tls.is_some_and(|t| t.tp_offset.is_some()) {
                    static_tls.push(modules.len());
                }
                modules.push(m);
            }
        }
        if i == 0 {
            program = Some(0);
        }
    }
    // A block is in static TLS only if it lies in the static TLS area, whose size the system
    // loader tells; anything else was allocated dynamically and has no fixed offset.
    if !static_tls.is_empty() {
        let size = static_tls_size(&modules);
        for i in static_tls {
            // Made just now: nothing else holds it yet.
            if let Some(t) = Arc::get_mut(&mut modules[i]).and_then(|m| m.host_tls.as_mut()) {
                t.tp_offset = t.tp_offset.filter(|&o| crate::arch::in_static_tls(o, size));
            }
        }
    }
    let mut startup = 0;
    if let Some(root) = program {
        let mut closure = Vec::with_capacity(modules.len());
        closure.push(root);
        let mut next = 0;
        while let Some(&cur) = closure.get(next) {
            next += 1;
            let m = &modules[cur];
            for name in m.dynamic.needed.iter().filter_map(|&off| m.string(off)) {
                if let Some(d) = modules.iter().position(|d| d.answers_to(name)) {
                    if !closure.contains(&d) {
                        closure.push(d);
                    }
                }
            }
        }
        let last = closure.iter().copied().max().unwrap_or(root);
        let vdso = crate::os::auxv(libc::AT_SYSINFO_EHDR) as usize;
        for m in &mut modules[..=last] {
            let local = vdso != 0 && m.span.ranges().iter().any(|&(lo, hi)| vdso >= lo && vdso < hi);
            // Never unloaded: no reference to take (see `pin`). (One made just now is set in
            // place: nothing else holds it yet.)
            match Arc::get_mut(m) {
                Some(m) => (m.host_local, m.glibc_ref) = (local.into(), 0.into()),
                None => {
                    let _ = m.host_local.set(local);
                    let _ = m.glibc_ref.set(0);
                }
            }
        }
        startup = last + 1;
    }
    (modules, startup)
}

/// The size of glibc's static TLS area (`_dl_get_tls_static_info`, in the dynamic loader), or
/// 0; fixed when the program starts, so asked once.
fn static_tls_size(modules: &[Arc<Module>]) -> usize {
    static SIZE: once_cell::sync::OnceCell<usize> = once_cell::sync::OnceCell::new();
    *SIZE.get_or_init(|| {
        const Q: crate::symbols::Query = crate::symbols::Query::of_const(b"_dl_get_tls_static_info", None);
        for m in modules {
            let Some(sym) = m.symtab.lookup(&Q).and_then(|i| m.symtab.sym(i)) else { continue };
            let f = m.bias.wrapping_add(sym.st_value as usize);
            let (mut size, mut align) = (0usize, 0usize);
            // SAFETY: glibc's `void _dl_get_tls_static_info(size_t *, size_t *)`, given two
            // valid out-pointers.
            unsafe { std::mem::transmute::<usize, extern "C" fn(*mut usize, *mut usize)>(f)(&mut size, &mut align) };
            return size;
        }
        0
    })
}

/// The readable ranges, dynamic section and symbol table of an object the system loader mapped
/// at `bias`, read in place.
fn tables(bias: usize, phdrs: &[crate::raw::Phdr]) -> Option<Tables> {
    let mut ranges = Vec::with_capacity(4);
    let mut dynamic = None;
    for ph in phdrs {
        match ph.p_type {
            abi::PT_LOAD if ph.p_flags & abi::PF_R != 0 => {
                ranges.push((bias + ph.p_vaddr as usize, bias + (ph.p_vaddr + ph.p_memsz) as usize))
            }
            abi::PT_DYNAMIC => dynamic = Some((bias + ph.p_vaddr as usize, ph.p_memsz as usize / std::mem::size_of::<crate::raw::Dyn>())),
            _ => {}
        }
    }
    let (dyn_addr, dyn_count) = dynamic?;
    // SAFETY: the ranges are the readable PT_LOAD segments of an object the system loader
    // lists as loaded; they stay readable while it keeps the object, and relink pins (`pin`)
    // every host object its objects depend on, bind to or get handles for.
    let span = unsafe { Span::new(ranges) };
    // The system loader rewrote most d_ptr entries to runtime addresses in place; read-only
    // dynamic sections (the vDSO's) keep link-time values.
    let fix = |v: u64| if (v as usize) < bias { bias.wrapping_add(v as usize) } else { v as usize };
    let dynamic = DynInfo::read(&span, dyn_addr, dyn_count, fix).ok()?;
    // Only lookups read a host object's symbols: its hash tables cover every one they can find.
    let symtab = SymTab::new_in_place(&dynamic, &span).ok()?;
    Some((span, dynamic, symtab))
}

/// Program header type that marks the objects `tls::reserve_static` has the system loader load (in
/// the OS-specific range, which loaders and unwinders pass over).
pub const PT_RELINK_STATIC_TLS: u32 = 0x6e6c_6572;

/// Whether program headers are those of an object `tls::reserve_static` made (relink hides them
/// from its view of the host and from `rl_iterate_phdr`).
pub fn is_stub(phdrs: &[crate::raw::Phdr]) -> bool {
    phdrs.iter().any(|p| p.p_type == PT_RELINK_STATIC_TLS)
}

/// `kept`: tables read earlier for some objects (by base), used instead of reading them again.
fn module_of(f: &Found, name: &str, is_program: bool, tp: usize, id: u64, kept: &mut Vec<(usize, Tables)>) -> Option<Arc<Module>> {
    // SAFETY: the system loader's program headers stay mapped while the object is loaded.
    let phdrs = unsafe { std::slice::from_raw_parts(f.phdr as *const crate::raw::Phdr, f.phnum) };
    if is_stub(phdrs) {
        // relink's own, holding another object's static TLS: not an object of the host.
        return None;
    }
    let read = match kept.iter().position(|(base, _)| *base == f.addr) {
        Some(i) => Some(kept.swap_remove(i).1),
        None => tables(f.addr, phdrs),
    };
    let (span, dynamic, mut symtab) = read?;
    symtab.canonical_plt = is_program;
    // Its origin is taken from its name when first asked for (`Module::origin`), the
    // program's name too (`Module::name`).
    let host_tls = (f.tls_modid != 0).then(|| HostTls {
        modid: f.tls_modid,
        // Checked against the static TLS area once every object is known.
        tp_offset: (f.tls_data != 0).then(|| f.tls_data.wrapping_sub(tp) as isize),
    });
    let parts = crate::module::Parts {
        id,
        name,
        program: is_program,
        origin: None,
        file_id: None,
        bias: f.addr,
        span,
        dynamic,
        symtab,
        phdr: (f.phdr, f.phnum),
    };
    Some(Arc::new(Module::new(parts, host_tls, None, None, unpin)))
}

/// The calling thread's TLS block of a host object, as the system loader reports it: None when
/// the object has no TLS, or its block is allocated on first use and the thread has not used it.
pub fn tls_block(m: &Module) -> Option<usize> {
    unsafe extern "C" fn cb(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut libc::c_void) -> libc::c_int {
        // SAFETY: the system loader passes a valid info record; `data` is our (modid, block) pair.
        unsafe {
            let (modid, block) = &mut *(data as *mut (usize, usize));
            if (*info).dlpi_tls_modid != *modid {
                return 0;
            }
            *block = (*info).dlpi_tls_data as usize;
        }
        1
    }
    let mut found = (m.host_tls?.modid, 0usize);
    // SAFETY: the callback only writes through `data`, which points to `found`.
    unsafe { (real().dl_iterate_phdr)(Some(cb), &mut found as *mut _ as *mut libc::c_void) };
    (found.1 != 0).then_some(found.1)
}

/// Take a reference on a host object from the system loader, once, so that it stays mapped
/// while relink's objects (or handles) use it; it is released when relink forgets the object.
/// Objects the system loader loaded at startup, which it never unloads, need none: [`modules`]
/// marks them as pinned already (a reference of 0).
pub fn pin(m: &Module) {
    if !m.is_host {
        return;
    }
    m.glibc_ref.get_or_init(|| {
        let outer = INSIDE.replace(true);
        // SAFETY: RTLD_NOLOAD only looks the object up and counts a reference; it maps nothing
        // and runs no initializer.
        let h = unsafe { (real().dlopen)(m.c_name().as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY) };
        INSIDE.set(outer);
        h as usize
    });
}

/// Give back the reference [`pin`] took.
pub fn unpin(m: &Module) {
    if let Some(&h) = m.glibc_ref.get() {
        if h != 0 {
            // SAFETY: `h` came from dlopen above and is released exactly once, as the Module goes.
            unsafe { (real().dlclose)(h as *mut libc::c_void) };
        }
    }
}

thread_local! {
    /// Set while this thread is inside the system loader on relink's behalf.
    static INSIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether this thread is inside the system loader on relink's behalf: the system loader may
/// call the program's `malloc`, and a `malloc` wrapper may look a symbol up through relink,
/// which then must not ask the system loader again (the question would wait for itself).
pub fn inside() -> bool {
    INSIDE.get()
}

/// Find out whether a host object is in the system loader's global scope, by asking it
/// (`dlsym(RTLD_DEFAULT)`) for a few of the object's own definitions: one that resolves into
/// the object means global; one the default scope does not know at all means the object was
/// opened RTLD_LOCAL; names defined by an earlier object too prove nothing, and if all tried are
/// such, the object counts as global. Never call this with relink's lock held: dlsym takes the
/// system loader's lock.
pub fn classify(m: &Module) {
    if INSIDE.replace(true) {
        return;
    }
    m.host_local.get_or_init(|| {
        let candidates = m
            .symtab
            .definitions()
            // Thread-local and IFUNC symbols do not resolve to an address inside the object, and
            // absolute ones (version names among them) to no address of it at all.
            .filter(|&(idx, sym)| {
                !matches!(sym.kind(), elf::abi::STT_TLS | elf::abi::STT_GNU_IFUNC)
                    && sym.st_shndx != elf::abi::SHN_ABS
                    && m.symtab.is_default_version(idx)
            })
            .take(16);
        for (_, sym) in candidates {
            // SAFETY: looking a NUL-terminated name up in the default scope has no side effect.
            let addr = unsafe { (real().dlsym)(libc::RTLD_DEFAULT, m.symtab.name_cstr(sym).as_ptr()) } as usize;
            if addr == 0 {
                return true;
            }
            if m.span.ranges().iter().any(|&(lo, hi)| addr >= lo && addr < hi) {
                return false;
            }
        }
        false
    });
    INSIDE.set(false);
}

/// The system loader's `struct link_map` of a host object (0 if it is not on its list).
pub fn link_map(m: &Module) -> usize {
    extern "C" {
        static _r_debug: crate::raw::RDebug;
    }
    // SAFETY: as in `Real::find`; the object is loaded, so its record is on the list.
    let mut l = unsafe { _r_debug.r_map };
    while !l.is_null() {
        // SAFETY: a record of the list.
        let lm = unsafe { &*l };
        if lm.l_addr == m.bias {
            return l as usize;
        }
        l = lm.l_next;
    }
    0
}

/// What `_dl_find_object` fills in: glibc's `struct dl_find_object` (2.35 and later).
#[repr(C)]
#[allow(non_camel_case_types)]
pub struct dl_find_object {
    pub dlfo_flags: u64,
    pub dlfo_map_start: *mut libc::c_void,
    pub dlfo_map_end: *mut libc::c_void,
    pub dlfo_link_map: *mut libc::c_void,
    pub dlfo_eh_frame: *mut libc::c_void,
    /// On Arm: the number of .ARM.exidx entries `dlfo_eh_frame` points at, and padding.
    /// On i386: the base of DW_EH_PE_datarel pointers, and padding.
    #[cfg(dlfo_eh_dbase)]
    pub dlfo_eh_dbase: [usize; 2],
    #[cfg(dlfo_eh_count)]
    pub dlfo_eh_count: [libc::c_int; 2],
    pub dlfo_reserved: [u64; 7],
}

/// The system loader's `_dl_find_object` (glibc 2.35 and later), or -1 without one.
///
/// # Safety
/// `result` must point to writable memory for a `struct dl_find_object`.
pub unsafe fn find_object(pc: *mut libc::c_void, result: *mut libc::c_void) -> libc::c_int {
    match real().find_object {
        // SAFETY: glibc's `int _dl_find_object(void *, struct dl_find_object *)`; `result` is as
        // the caller promised.
        Some(f) => unsafe { f(pc, result) },
        None => -1,
    }
}

/// The .ARM.exidx table (address, number of entries) of the host object whose segments hold
/// `pc`, as glibc's `__gnu_Unwind_Find_exidx` finds it: through `_dl_find_object` (glibc 2.35
/// and later), else by walking the objects with `dl_iterate_phdr` (as glibc did before).
#[cfg(dlfo_eh_count)]
pub fn find_exidx(pc: usize) -> Option<(usize, usize)> {
    if real().find_object.is_some() {
        // SAFETY: an all-zero `dl_find_object` is a valid value for glibc to overwrite.
        let mut data: dl_find_object = unsafe { std::mem::zeroed() };
        // SAFETY: `data` is writable and has glibc's layout.
        if unsafe { find_object(pc as *mut c_void, (&mut data as *mut dl_find_object).cast()) } != 0 {
            return None;
        }
        return Some((data.dlfo_eh_frame as usize, data.dlfo_eh_count[0] as usize));
    }
    unsafe extern "C" fn cb(info: *mut libc::dl_phdr_info, _size: libc::size_t, data: *mut c_void) -> c_int {
        // SAFETY: the system loader passes a valid info record with its program headers; `data`
        // is our (pc, table, entries) triple.
        unsafe {
            let (pc, table, n) = &mut *(data as *mut (usize, usize, usize));
            let i = &*info;
            let phdrs = std::slice::from_raw_parts(i.dlpi_phdr, i.dlpi_phnum as usize);
            let at = |p: &libc::Elf32_Phdr| (i.dlpi_addr as usize).wrapping_add(p.p_vaddr as usize);
            let holds = |p: &libc::Elf32_Phdr| p.p_type == abi::PT_LOAD && pc.wrapping_sub(at(p)) < p.p_memsz as usize;
            if !phdrs.iter().any(holds) {
                return 0;
            }
            if let Some(x) = phdrs.iter().find(|p| p.p_type == abi::PT_ARM_EXIDX) {
                (*table, *n) = (at(x), x.p_memsz as usize / 8);
            }
        }
        1
    }
    let mut found = (pc, 0usize, 0usize);
    // SAFETY: the callback only writes through `data`, which points to `found`.
    unsafe { (real().dl_iterate_phdr)(Some(cb), &mut found as *mut _ as *mut c_void) };
    (found.1 != 0).then_some((found.1, found.2))
}

/// An object relink had the system loader load for itself (`RTLD_LOCAL`); unloaded on drop.
#[derive(Debug)]
pub struct Private(usize);

/// The system loader's last error message.
fn dl_error() -> String {
    // SAFETY: dlerror returns NULL or a NUL-terminated message that stays valid until the next
    // dl* call of this thread.
    let e = unsafe { (real().dlerror)() };
    if e.is_null() {
        return "unknown error".into();
    }
    // SAFETY: as above.
    unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
}

/// Whether an object the system loader has loaded answers to `path` (the system loader
/// compares names before it looks at files). Never call this with relink's lock held.
pub fn is_loaded(path: &CStr) -> bool {
    // SAFETY: RTLD_NOLOAD maps nothing and runs no initializer.
    let h = unsafe { (real().dlopen)(path.as_ptr(), libc::RTLD_NOLOAD | libc::RTLD_LAZY) };
    if h.is_null() {
        // Clear the error the miss left.
        dl_error();
        return false;
    }
    // SAFETY: giving back the reference just taken.
    unsafe { (real().dlclose)(h) };
    true
}

/// Load `path` with the system loader, privately and with every relocation applied. Never call
/// this with relink's lock held: the system loader holds its own lock while it runs
/// constructors, which may be waiting for relink's.
pub fn load_private(path: &CStr) -> Result<Private, String> {
    // SAFETY: `path` is NUL-terminated; callers load only objects without initializers.
    let h = unsafe { (real().dlopen)(path.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if h.is_null() {
        return Err(dl_error());
    }
    Ok(Private(h as usize))
}

impl Private {
    /// The TLS module id the system loader gave the object, if it has a TLS segment.
    pub fn tls_modid(&self) -> Option<u64> {
        let mut id: libc::size_t = 0;
        // SAFETY: RTLD_DI_TLS_MODID writes one size_t through the pointer.
        let r = unsafe { (real().dlinfo)(self.0 as *mut libc::c_void, libc::RTLD_DI_TLS_MODID, &mut id as *mut _ as *mut libc::c_void) };
        (r == 0 && id != 0).then_some(id as u64)
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        // SAFETY: the handle came from dlopen in `load_private` and is released exactly once.
        unsafe { (real().dlclose)(self.0 as *mut libc::c_void) };
    }
}
