//! A loaded object as every later stage sees it: the host's own objects (mapped by the system
//! loader, read in place) and the objects relink maps itself share this one type.

use crate::os::{Prot, Region};
use crate::parse::DynInfo;
use crate::raw::Span;
use crate::symbols::SymTab;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64};

/// Thread-local storage whose block the system loader set up: a host object's, or the static
/// TLS block of an object relink mapped (see `tls::reserve_static`).
#[derive(Clone, Copy, Debug)]
pub struct HostTls {
    pub modid: usize,
    /// Offset of the block from the thread pointer, for objects in static TLS.
    pub tp_offset: Option<isize>,
}

/// `tls_index` of the psABI: what GD/LD code passes to `__tls_get_addr` (two native words).
#[repr(C)]
#[derive(Debug)]
pub struct TlsIndex {
    pub module: usize,
    pub offset: usize,
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

/// A block in the system loader's static TLS area held for an object (`tls::StaticBlock`).
pub trait StaticTls: Send + Sync + std::fmt::Debug {
    /// Whether the block is initialized as template `t` describes (the image in memory now).
    fn initializes(&self, t: &Template) -> bool;
}

/// A handle's identity. [`Handle::GLOBAL`] stands for the global scope (`rl_open(NULL)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Handle(pub u64);

impl Handle {
    pub const GLOBAL: Handle = Handle(1);
}

/// Scopes of later opens that an object's lazy bindings search: (library opened, its scope).
pub type LaterScopes = Vec<(u64, Vec<std::sync::Weak<Module>>)>;

/// What relink keeps of an image it mapped itself.
#[derive(Debug)]
pub struct Image {
    /// The whole reserved span; unmapping it unmaps the object.
    pub region: Region,
    /// Ranges relocations may write to while the object is being relocated.
    pub writable: Vec<(usize, usize)>,
    /// Executable ranges: resolvers, initializers and finalizers must lie in one.
    pub exec: Vec<(usize, usize)>,
    /// Protections to restore after relocation (segments made writable for text relocations).
    pub restore: Vec<(usize, usize, Prot)>,
    /// The page-aligned RELRO range, made read-only after relocation.
    pub relro: Option<(usize, usize)>,
    /// A copy of the program headers: owns what `Module::phdr` points at.
    pub _phdrs: Box<[crate::raw::Phdr]>,
    /// Objects outside its own scope that lazy binding bound it to (kept loaded with it).
    pub lazy_pins: crate::sync::Mutex<Vec<std::sync::Arc<Module>>>,
    /// The scopes of later opens that pulled the object in, searched by lazy binding after its
    /// own (glibc extends the object's l_scope likewise), each with the id of the library opened.
    pub lazy_later: crate::sync::Mutex<LaterScopes>,
    /// .eh_frame_hdr (PT_GNU_EH_FRAME) and the start of the .eh_frame it points to, for the
    /// unwinder; `None` without them, or when .eh_frame is empty.
    pub eh_frame: Option<(usize, usize)>,
    /// How far its unwind tables were checked (`unwind::check` and what follows it).
    pub unwind_checked: std::sync::atomic::AtomicU8,
    /// .ARM.exidx (PT_ARM_EXIDX) and its number of entries, for Arm's unwinder (`None`
    /// elsewhere).
    pub exidx: Option<(usize, usize)>,
    /// The file it was mapped from, as it was when opened (`None` for images from memory).
    pub stamp: Option<crate::os::Stamp>,
    /// `__deregister_frame` of each unwinder the object's frames were registered with, and the
    /// object that defines it (held, so that it is still mapped when this one is unmapped).
    pub unwinders: crate::sync::Mutex<Vec<(usize, std::sync::Arc<Module>)>>,
    /// What the lazy-binding trampoline needs, for objects bound lazily.
    /// (A `relocate::LazyCtx`, which the trampoline finds through GOT[1]; held type-erased so
    /// that this module does not name the relocation stage.)
    pub lazy: crate::sync::Mutex<Option<Box<dyn std::any::Any + Send + Sync>>>,
    /// Arguments of dynamic TLS descriptors, which must live as long as the object.
    /// (Boxed: descriptors point at them, so they must not move when the list grows.)
    #[allow(clippy::vec_box)]
    pub tls_descs: crate::sync::Mutex<Vec<Box<TlsIndex>>>,
    /// The object's static TLS block (its `Module::host_tls` describes it) and the template
    /// the block was made from.
    pub static_tls: Option<(std::sync::Arc<dyn StaticTls>, Template)>,
}

/// One object in the process.
pub struct Module {
    /// Unique for the life of the process; also the handle's identity.
    pub id: u64,
    /// The path it was opened from, the name given to `rl_open_mem`, or the system loader's name,
    /// and that as a C string (for introspection calls that hand it out). The running
    /// program's is its file's path, read on first request (see [`Module::name`]).
    ident: once_cell::sync::OnceCell<(String, std::ffi::CString)>,
    /// Set for the running program.
    pub is_program: bool,
    /// Program headers in memory: (address, count).
    pub phdr: (usize, usize),
    /// Its DT_SONAME, and where the last component of its name starts (for `answers_to`;
    /// `usize::MAX` when it does not answer to its file's name).
    pub soname: Option<&'static [u8]>,
    pub basename_at: usize,
    /// The directory `$ORIGIN` expands to (see [`Module::origin`]); a host object's is taken
    /// from its name when first asked for.
    origin: once_cell::sync::OnceCell<Option<PathBuf>>,
    /// Device and inode of the file it came from: known when relink mapped it, found out on
    /// first request for a host object (see [`Module::file_id`]).
    file_id: once_cell::sync::OnceCell<Option<(u64, u64)>>,
    /// Runtime address minus link-time address.
    pub bias: usize,
    /// The readable ranges of the object's image.
    pub span: Span,
    pub dynamic: DynInfo,
    pub symtab: SymTab,
    /// Set for objects the system loader mapped, and for objects relink mapped whose TLS block
    /// is in static TLS.
    pub host_tls: Option<HostTls>,
    /// Module id of the object's own dynamic TLS block, for objects relink mapped.
    pub tls_id: Option<u64>,
    pub is_host: bool,
    /// Set for objects relink mapped (boxed: host objects, which have none, are most of the
    /// process's objects).
    pub image: Option<Box<Image>>,
    /// Whether its initializers have run (always true for host objects).
    pub initialized: AtomicBool,
    /// The thread running its initializers.
    pub init_owner: AtomicU64,
    /// Whether one of its STB_GNU_UNIQUE definitions was bound (see `note_bound`).
    pub unique_in_use: AtomicBool,
    /// C++ `thread_local` destructors it registered that have not run yet: while any is
    /// pending, the object stays loaded (as glibc does).
    pub pending_tls_dtors: std::sync::atomic::AtomicUsize,
    /// For host objects: the system loader's handle taken by `host::pin`, if any (0 when it
    /// took none: objects loaded at startup, which the system loader never unloads, and objects
    /// it could not find by name).
    pub glibc_ref: once_cell::sync::OnceCell<usize>,
    /// For host objects: whether they are in the system loader's global scope (not opened
    /// RTLD_LOCAL), once `host::classify` has found out; until then they count as global.
    pub host_local: once_cell::sync::OnceCell<bool>,
    /// For objects relink mapped: the `struct link_map` head handed out by the interposer's
    /// `dlinfo(RTLD_DI_LINKMAP)`, `dladdr1` and `_dl_find_object`, made on first request.
    pub link_map: once_cell::sync::OnceCell<Box<crate::raw::LinkMap>>,
    /// What its builder gives back when it goes (see [`Teardown`]).
    teardown: Teardown,
}

/// Run when a `Module` is dropped, by the stage that built it: what the layers above this one
/// registered for the object (unwind tables, the system loader's reference, TLS) is released
/// there, so that this type names none of them.
pub type Teardown = fn(&Module);

/// What the loader found out about an object, host or relink-mapped.
pub struct Parts<'a> {
    pub id: u64,
    /// Empty for the running program (see [`Module::name`]).
    pub name: &'a str,
    pub program: bool,
    /// For an object relink maps (a host object's comes from its name, when asked for).
    pub origin: Option<PathBuf>,
    pub file_id: Option<(u64, u64)>,
    pub bias: usize,
    pub span: Span,
    pub dynamic: DynInfo,
    pub symtab: SymTab,
    pub phdr: (usize, usize),
}

/// The directory part of `path` (the directory `$ORIGIN` stands for in an object loaded from
/// it), as `Path::parent` gives it; a clean absolute path (the usual case) needs no parsing of
/// its components: its directory is what precedes its last slash.
pub fn directory_of(path: &Path) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;
    let b = path.as_os_str().as_bytes();
    // Absolute, and no component empty (`//`, a trailing `/`) or `.`: `last` is its last slash.
    let component_ok = |c: &[u8]| !c.is_empty() && c != b".";
    let mut last = 0;
    let mut clean = b.first() == Some(&b'/');
    for (i, &c) in b.iter().enumerate().skip(1) {
        if c == b'/' {
            clean &= component_ok(&b[last + 1..i]);
            last = i;
        }
    }
    match clean && component_ok(&b[last + 1..]) {
        true => Some(PathBuf::from(std::ffi::OsStr::from_bytes(&b[..last.max(1)]))),
        false => path.parent().map(Path::to_path_buf),
    }
}

impl Module {
    /// A host object (`image` None, already initialized) or one relink mapped.
    pub fn new(p: Parts, host_tls: Option<HostTls>, tls_id: Option<u64>, image: Option<Image>, teardown: Teardown) -> Module {
        Module {
            id: p.id,
            ident: match p.program {
                true => Default::default(),
                false => once_cell::sync::OnceCell::with_value(ident(p.name)),
            },
            is_program: p.program,
            soname: p.dynamic.soname.and_then(|o| p.symtab.strtab.get(o)),
            // (From the end: the last component is short.) The program does not answer to its
            // file's name, as with glibc, whose link map for it is named "".
            basename_at: match p.program {
                true => usize::MAX,
                false => p.name.bytes().rposition(|c| c == b'/').map_or(0, |i| i + 1),
            },
            phdr: p.phdr,
            origin: match image.is_none() {
                true => Default::default(),
                false => once_cell::sync::OnceCell::with_value(p.origin),
            },
            file_id: match (p.file_id, image.is_none()) {
                (Some(id), _) => Some(id).into(),
                (None, true) => Default::default(),
                (None, false) => None.into(),
            },
            bias: p.bias,
            span: p.span,
            dynamic: p.dynamic,
            symtab: p.symtab,
            host_tls,
            tls_id,
            is_host: image.is_none(),
            initialized: image.is_none().into(),
            image: image.map(Box::new),
            init_owner: 0.into(),
            unique_in_use: false.into(),
            pending_tls_dtors: 0.into(),
            glibc_ref: Default::default(),
            host_local: Default::default(),
            link_map: Default::default(),
            teardown,
        }
    }
}

/// A name and the same as a C string (a NUL inside becomes `?`).
fn ident(name: &str) -> (String, std::ffi::CString) {
    let c = std::ffi::CString::new(name).unwrap_or_else(|_| std::ffi::CString::new(name.replace('\0', "?")).unwrap_or_default());
    (name.to_string(), c)
}

// SAFETY: a Module is immutable once built; its raw views point into mappings that live as long
// as the Module (its own image) or the process (host objects).
unsafe impl Send for Module {}
// SAFETY: as above; nothing in it is mutated through a shared reference.
unsafe impl Sync for Module {}

impl Module {
    /// The path it was opened from, the name given to `rl_open_mem`, or the system loader's
    /// name. The running program's is the path of its file: asked of the kernel on first request
    /// (a `readlink` of `/proc/self/exe`, dearer than a whole first open of a small library),
    /// empty if the kernel does not tell.
    pub fn name(&self) -> &str {
        &self.ident_now().0
    }

    /// [`Module::name`] as a C string, which lives as long as the object.
    pub fn c_name(&self) -> &std::ffi::CStr {
        &self.ident_now().1
    }

    fn ident_now(&self) -> &(String, std::ffi::CString) {
        self.ident.get_or_init(|| ident(crate::os::executable().and_then(Path::to_str).unwrap_or("")))
    }

    /// The directory `$ORIGIN` expands to in the object's names and search lists.
    pub fn origin(&self) -> crate::search::Origin<'_> {
        match self.is_program {
            true => crate::search::Origin::Program,
            false => crate::search::Origin::Dir(self.origin.get_or_init(|| directory_of(Path::new(self.name()))).as_deref()),
        }
    }

    /// A string of the object's dynamic string table.
    pub fn string(&self, off: u32) -> Option<&'static [u8]> {
        self.symtab.strtab.get(off)
    }

    /// Whether `addr` is code of this object: always for the host's objects (the system loader
    /// vouched for them), within an executable segment for relink's.
    pub fn is_code(&self, addr: usize) -> bool {
        self.image.as_ref().is_none_or(|i| crate::raw::within(&i.exec, addr, 1))
    }

    /// The lowest address of the object's mapping.
    pub fn base(&self) -> usize {
        self.image.as_ref().map_or(self.bias, |i| i.region.base)
    }

    /// Device and inode of the file the object came from. For a host object it is looked up by
    /// name the first time it is asked for: only comparing a file with the host's objects needs
    /// it, and only for objects whose program headers match that file's.
    pub fn file_id(&self) -> Option<(u64, u64)> {
        *self.file_id.get_or_init(|| match self.name() {
            "" => None,
            name => crate::os::file_id(std::path::Path::new(name)),
        })
    }

    /// Whether `addr` lies inside the object's mapping.
    pub fn contains(&self, addr: usize) -> bool {
        self.image.as_ref().is_some_and(|i| addr >= i.region.base && addr < i.region.base + i.region.len)
    }

    /// The exported symbol `addr` lies in (for a linked unit, its local functions and objects
    /// too), as glibc's dladdr picks it: its name and address. A
    /// symbol covers its `st_size` bytes (one of size 0 only its own address); of those covering
    /// `addr`, the one at the highest address wins (the first found among equals). Thread-local
    /// and absolute symbols name no address of the object.
    /// Symbols whose name is not a string of the string table are no candidates either: the name
    /// handed out is always a NUL-terminated string inside the object.
    pub fn symbol_at(&self, addr: usize) -> Option<(&'static std::ffi::CStr, usize, &'static crate::raw::Sym)> {
        let mut best: Option<(&'static crate::raw::Sym, usize)> = None;
        for s in self.symtab.addressable() {
            if s.kind() == elf::abi::STT_TLS || s.st_shndx == elf::abi::SHN_ABS || self.symtab.strtab.get_cstr(s.st_name).is_none() {
                continue;
            }
            let a = self.bias.wrapping_add(s.st_value as usize);
            let Some(off) = addr.checked_sub(a) else { continue };
            let covers = off < s.st_size as usize || (off == 0 && s.st_size == 0);
            if covers && best.is_none_or(|(_, ba)| ba < a) {
                best = Some((s, a));
            }
        }
        best.and_then(|(s, a)| Some((self.symtab.strtab.get_cstr(s.st_name)?, a, s)))
    }

    /// Its program headers.
    pub fn phdrs(&self) -> &[crate::raw::Phdr] {
        // SAFETY: `phdr` points at the program headers for as long as the object lives: the
        // system loader's for a host object, the copy in `Image` for one relink mapped.
        unsafe { std::slice::from_raw_parts(self.phdr.0 as *const crate::raw::Phdr, self.phdr.1) }
    }

    /// The runtime address of its first segment of type `kind`, with its program header.
    pub fn segment(&self, kind: u32) -> Option<(usize, &crate::raw::Phdr)> {
        self.phdrs().iter().find(|p| p.p_type == kind).map(|p| (self.bias.wrapping_add(p.p_vaddr as usize), p))
    }

    /// Whether a DT_NEEDED / rl_open name without a slash denotes this object: its SONAME, or
    /// the last component of the name it was loaded under.
    pub fn answers_to(&self, name: &[u8]) -> bool {
        self.soname == Some(name) || (self.basename_at != usize::MAX && self.name().as_bytes().get(self.basename_at..).is_some_and(|b| !b.is_empty() && b == name))
    }

    /// Note that a reference was bound to `sym`, one of this object's definitions: an
    /// STB_GNU_UNIQUE definition in use pins the object for good (as with glibc), since every
    /// later reference in the process must reach that same definition.
    pub fn note_bound(&self, sym: &crate::raw::Sym) {
        if sym.bind() == elf::abi::STB_GNU_UNIQUE {
            self.unique_in_use.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

impl Drop for Module {
    fn drop(&mut self) {
        (self.teardown)(self);
    }
}

impl std::fmt::Debug for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Module({} @ {:#x})", self.name(), self.bias)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_of_is_path_parent() {
        for p in ["/usr/lib/libz.so.1", "/libz.so", "/", "", "libz.so", "a/b", "/a//b", "/a/./b", "/a/b/", "/a/b/.", "/a/..", "./a", "/a/b/../c", "//a"] {
            assert_eq!(directory_of(Path::new(p)), Path::new(p).parent().map(Path::to_path_buf), "{p:?}");
        }
    }
}
