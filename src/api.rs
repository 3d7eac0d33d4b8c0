//! The safe Rust API over the same engine, in the style of `libloading`.

use crate::error::{Error, Result};
use crate::registry::{self, Handle};
use std::ffi::OsStr;
use std::marker::PhantomData;
use std::os::unix::ffi::OsStrExt;

pub use crate::registry::{DEEPBIND, GLOBAL, LAZY, NODELETE, NOLOAD, NOW};

/// A loaded library. Dropping it releases its reference; the library (and the dependencies only
/// it held) is unloaded when no other reference is left. Dependencies are kept alive by the
/// library that needs them, as reference-counted (`Arc`) objects inside the registry.
#[derive(Debug)]
pub struct Library {
    handle: Handle,
}

impl Library {
    /// Open a library by path (with a `/`) or by name (searched like `dlopen`); a relocatable
    /// object or an archive is linked (an archive with all its members).
    /// `flags` are the `RL_*` values: [`NOW`], [`LAZY`], [`GLOBAL`], …
    ///
    /// # Safety
    /// Opening runs the library's initializers, which may do anything.
    pub unsafe fn open(path: impl AsRef<OsStr>, flags: i32) -> Result<Library> {
        let p = std::str::from_utf8(path.as_ref().as_bytes())
            .map_err(|_| Error::InvalidArgument("path is not valid UTF-8".into()))?;
        registry::open(registry::Input::Path(p), flags, &Default::default()).map(|handle| Library { handle })
    }

    /// Load a library from an ELF image in memory (copied; `bytes` may be dropped afterwards).
    ///
    /// # Safety
    /// As for [`Library::open`].
    pub unsafe fn from_bytes(bytes: &[u8], name: &str, flags: i32) -> Result<Library> {
        if bytes.is_empty() {
            return Err(Error::InvalidArgument(format!("{name}: image is empty")));
        }
        registry::open(registry::Input::Memory { image: bytes, name }, flags, &Default::default()).map(|handle| Library { handle })
    }

    /// Link relocatable objects, archives and shared objects into one unit (see [`Input`]),
    /// bound at once ([`NOW`]); [`OpenOptions::link`] takes flags and hooks.
    ///
    /// # Safety
    /// As for [`Library::open`].
    pub unsafe fn link(inputs: &[Input]) -> Result<Library> {
        // SAFETY: forwarded contract.
        unsafe { OpenOptions::new().link(inputs) }
    }

    /// The global scope: the program, its dependencies and libraries opened with [`GLOBAL`].
    pub fn global() -> Library {
        Library { handle: Handle::GLOBAL }
    }

    /// Look a symbol up in this library and its dependencies.
    ///
    /// # Safety
    /// `T` must match the symbol's real type (a function pointer or a pointer to data).
    pub unsafe fn get<T: Copy>(&self, name: &str) -> Result<Symbol<'_, T>> {
        self.lookup(name, None)
    }

    /// Look a specific version of a symbol up.
    ///
    /// # Safety
    /// As for [`Library::get`].
    pub unsafe fn get_version<T: Copy>(&self, name: &str, version: &str) -> Result<Symbol<'_, T>> {
        self.lookup(name, Some(version))
    }

    fn lookup<T: Copy>(&self, name: &str, version: Option<&str>) -> Result<Symbol<'_, T>> {
        assert_eq!(std::mem::size_of::<T>(), std::mem::size_of::<usize>(), "a symbol is pointer-sized");
        let addr = registry::sym(self.handle, name.as_bytes(), version.map(str::as_bytes))?;
        Ok(Symbol { addr, _lib: PhantomData })
    }

    /// The name the library was opened under.
    pub fn name(&self) -> String {
        registry::name(self.handle).unwrap_or_default()
    }

    /// Close the library now, reporting errors (dropping it closes it too).
    pub fn close(self) -> Result<()> {
        let h = self.handle;
        std::mem::forget(self);
        registry::close(h)
    }
}

impl Drop for Library {
    fn drop(&mut self) {
        let _ = registry::close(self.handle);
    }
}

/// A symbol borrowed from a [`Library`]: it cannot outlive the library it came from.
pub struct Symbol<'lib, T> {
    addr: usize,
    _lib: PhantomData<(&'lib Library, T)>,
}

impl<T: Copy> Symbol<'_, T> {
    /// The symbol's value as `T` (a function pointer, or a pointer to the data).
    pub fn get(&self) -> T {
        // SAFETY: `T` is pointer-sized (checked at lookup) and the caller of `Library::get`
        // vouched that it matches the symbol.
        unsafe { std::mem::transmute_copy::<usize, T>(&self.addr) }
    }

    /// The raw address.
    pub fn addr(&self) -> *const std::ffi::c_void {
        self.addr as *const _
    }
}

impl<T: Copy> std::ops::Deref for Symbol<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `T` is pointer-sized and layout-compatible with the stored address.
        unsafe { &*(&self.addr as *const usize as *const T) }
    }
}

impl<T> std::fmt::Debug for Symbol<'_, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Symbol({:#x})", self.addr)
    }
}

/// A symbol cannot outlive its library: this does not compile.
///
/// ```compile_fail
/// let lib = unsafe { relink::Library::open("libz.so.1", relink::NOW) }.unwrap();
/// let version = unsafe { lib.get::<extern "C" fn() -> *const std::ffi::c_char>("zlibVersion") }.unwrap();
/// drop(lib);
/// version();
/// ```
#[doc(hidden)]
pub struct _SymbolOutlivesLibrary;

/// A symbolic relocation shown to an [`OpenOptions::on_relocation`] callback.
pub struct Relocation<'a> {
    /// Path (or in-memory name) of the object being relocated.
    pub requester: &'a str,
    /// The relocation type (`R_X86_64_*`).
    pub r_type: u32,
    pub name: &'a str,
    pub version: Option<&'a str>,
    /// Where the relocation writes.
    pub place: *const std::ffi::c_void,
    /// The address the symbol resolved to (addend and PC applied afterwards); the callback may
    /// replace it.
    pub value: usize,
}

/// Opening with hooks, builder style:
///
/// ```no_run
/// use relink::{OpenOptions, NOW};
/// extern "C" fn fake_time(_: *mut i64) -> i64 { 1_000_000 }
/// let lib = unsafe {
///     OpenOptions::new()
///         .flags(NOW)
///         .before(|name, _version, _requester| (name == "time").then_some(fake_time as *const std::ffi::c_void))
///         .open("libplugin.so")
/// };
/// ```
#[derive(Clone, Default)]
pub struct OpenOptions {
    flags: i32,
    hooks: crate::hooks::OpenHooks,
}

fn lossy(c: &std::ffi::CStr) -> std::borrow::Cow<'_, str> {
    c.to_string_lossy()
}

/// A lookup closure over `&str`s as the engine's hook over C strings.
fn lookup_hook<F>(f: F) -> crate::hooks::LookupHook
where
    F: Fn(&str, Option<&str>, &str) -> Option<*const std::ffi::c_void> + Send + Sync + 'static,
{
    std::sync::Arc::new(move |n, v, r| f(&lossy(n), v.map(lossy).as_deref(), &lossy(r)).map(|p| p as usize))
}

impl OpenOptions {
    /// Options with `NOW` binding and no hooks.
    pub fn new() -> OpenOptions {
        OpenOptions { flags: NOW, hooks: Default::default() }
    }

    /// The `RL_*` flags.
    pub fn flags(mut self, flags: i32) -> Self {
        self.flags = flags;
        self
    }

    /// A lookup consulted before every scope: `(name, version, requester)` → the address to
    /// bind, or `None` to let the usual lookup go on.
    pub fn before<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, Option<&str>, &str) -> Option<*const std::ffi::c_void> + Send + Sync + 'static,
    {
        self.hooks.before = Some(lookup_hook(f));
        self
    }

    /// A lookup consulted only when no scope defines the symbol.
    pub fn after<F>(mut self, f: F) -> Self
    where
        F: Fn(&str, Option<&str>, &str) -> Option<*const std::ffi::c_void> + Send + Sync + 'static,
    {
        self.hooks.after = Some(lookup_hook(f));
        self
    }

    /// Also search `lib` (and its dependencies) after the global scope.
    pub fn search(mut self, lib: &Library) -> Self {
        self.hooks.search.push(lib.handle);
        self
    }

    /// See every symbolic relocation; change `value` to redirect it, or return `Err(message)`
    /// to refuse the whole load.
    pub fn on_relocation<F>(mut self, f: F) -> Self
    where
        F: Fn(&mut Relocation) -> std::result::Result<(), String> + Send + Sync + 'static,
    {
        self.hooks.on_relocation = Some(std::sync::Arc::new(move |ev: &mut crate::hooks::RelocEvent| {
            let (requester, name) = (lossy(ev.requester), lossy(ev.name));
            let version = ev.version.map(lossy);
            let mut r = Relocation {
                requester: &requester,
                r_type: ev.r_type,
                name: &name,
                version: version.as_deref(),
                place: ev.place as *const _,
                value: ev.value,
            };
            f(&mut r)?;
            ev.value = r.value;
            Ok(())
        }));
        self
    }

    /// Keep units linked from files (objects and archives) in `dir`, and map them from there
    /// when the same unchanged inputs are linked again (see `rl_open_opts.cache_dir` in the C
    /// API). The directory must belong to the effective user and be writable by no one else.
    pub fn cache_dir(mut self, dir: impl AsRef<std::path::Path>) -> Self {
        self.hooks.cache_dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// Open a library by path or name with these options.
    ///
    /// # Safety
    /// As for [`Library::open`]; the hooks run while the library is bound, possibly later
    /// (lazy binding) and on other threads.
    pub unsafe fn open(&self, path: impl AsRef<OsStr>) -> Result<Library> {
        let p = std::str::from_utf8(path.as_ref().as_bytes())
            .map_err(|_| Error::InvalidArgument("path is not valid UTF-8".into()))?;
        registry::open(registry::Input::Path(p), self.flags, &self.hooks).map(|handle| Library { handle })
    }

    /// Link objects, archives and shared objects into one unit with these options (see
    /// [`Library::link`]).
    ///
    /// # Safety
    /// As for [`OpenOptions::open`].
    pub unsafe fn link(&self, inputs: &[Input]) -> Result<Library> {
        let given: Vec<crate::registry::Given> = inputs.iter().map(Input::given).collect();
        crate::registry::link(&given, self.flags, &self.hooks).map(|handle| Library { handle })
    }

    /// Load from an ELF image in memory with these options.
    ///
    /// # Safety
    /// As for [`OpenOptions::open`].
    pub unsafe fn open_bytes(&self, bytes: &[u8], name: &str) -> Result<Library> {
        if bytes.is_empty() {
            return Err(Error::InvalidArgument(format!("{name}: image is empty")));
        }
        registry::open(registry::Input::Memory { image: bytes, name }, self.flags, &self.hooks).map(|handle| Library { handle })
    }
}

/// One input of [`Library::link`]: a relocatable object, an `ar` archive or a shared object
/// (recognized from its content), from a file or from memory.
///
/// ```no_run
/// use relink::{Input, Library};
/// let lib = unsafe { Library::link(&[Input::path("plugin.o"), Input::path("/usr/lib/x86_64-linux-gnu/libz.a")]) }.unwrap();
/// let version = unsafe { lib.get::<extern "C" fn() -> *const std::ffi::c_char>("zlibVersion") }.unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Input<'a> {
    source: InputSource<'a>,
    whole_archive: bool,
}

#[derive(Clone, Debug)]
enum InputSource<'a> {
    Path(&'a str),
    Bytes(&'a [u8], &'a str),
}

impl<'a> Input<'a> {
    /// A file.
    pub fn path(path: &'a str) -> Input<'a> {
        Input { source: InputSource::Path(path), whole_archive: false }
    }

    /// An image in memory (copied while linking), named `name` in messages and by `rl_addr`.
    pub fn bytes(bytes: &'a [u8], name: &'a str) -> Input<'a> {
        Input { source: InputSource::Bytes(bytes, name), whole_archive: false }
    }

    /// Link every member of this archive, not only those that define a symbol still needed.
    pub fn whole_archive(mut self) -> Input<'a> {
        self.whole_archive = true;
        self
    }

    fn given(&self) -> crate::registry::Given<'a> {
        let (path, image, name) = match self.source {
            InputSource::Path(p) => (Some(p), None, None),
            InputSource::Bytes(b, n) => (None, Some(b), Some(n)),
        };
        crate::registry::Given { path, image, name, whole_archive: self.whole_archive }
    }
}

/// Add `name` at `addr` to relink's global scope (see `rl_define`).
pub fn define(name: &str, addr: *const std::ffi::c_void) {
    crate::hooks::define(name.as_bytes(), addr as usize);
}

/// Remove a symbol added with [`define`]; whether it was defined.
pub fn undefine(name: &str) -> bool {
    crate::hooks::undefine(name.as_bytes())
}
