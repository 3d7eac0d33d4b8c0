//! Stage 3 — resolve: find and map an object's dependencies breadth-first (reusing what the host
//! or relink already has), build lookup scopes, and look symbols up through them.

use crate::error::{Error, Result};
use crate::map::{self, Source};
use crate::parse::Layout;
use crate::module::Module;
use crate::os;
use crate::raw::Sym;
use crate::search::{self, SearchPaths};
use crate::symbols::Query;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What already exists outside the group being loaded.
pub trait Known {
    /// A loaded object (relink's or the host's) that a slash-less name denotes.
    fn by_name(&self, name: &[u8]) -> Option<Arc<Module>>;
    /// A loaded object with this device and inode. `dynamic` is the file's PT_DYNAMIC
    /// (link-time address and size): a host object whose own differs is another file, without
    /// asking the file system (None for a file no loader maps, such as a relocatable object).
    fn by_file(&self, id: (u64, u64), dynamic: Option<(u64, u64)>) -> Option<Arc<Module>>;
    /// The direct dependencies of an object loaded earlier.
    fn deps_of(&self, m: &Module) -> Vec<Arc<Module>>;
    /// The host program, whose DT_RPATH applies to every search.
    fn program(&self) -> Option<Arc<Module>>;
}

/// Objects mapped by one open: the root (unless it existed) and the dependencies it pulled in,
/// in breadth-first order, with each one's direct dependencies. Dropping it unmaps them all.
pub struct Group {
    pub modules: Vec<Arc<Module>>,
    pub deps: Vec<Vec<Arc<Module>>>,
}

/// The absolute form of a path, for $ORIGIN (without resolving symbolic links, as glibc does).
pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        os::current_dir().map(|d| d.join(p)).unwrap_or_else(|| p.to_path_buf())
    }
}

/// The directory `$ORIGIN` stands for in an object loaded from `p`.
pub fn origin_of(p: &Path) -> Option<PathBuf> {
    match p.is_absolute() {
        true => crate::module::directory_of(p),
        false => absolute(p).parent().map(Path::to_path_buf),
    }
}

/// Open a candidate file and check it is an object for this machine (glibc moves on to the next
/// directory when it is not).
/// Where a needed name was found.
pub enum Found {
    Existing(Arc<Module>),
    /// A file to load, with its headers already checked.
    File(PathBuf, os::File, Box<Layout>),
    /// Nothing but 32-bit objects answer to the name (the system loader says so, rather than
    /// that nothing was found).
    OtherClass,
    /// A relocatable object or an archive, to link (see `link`).
    Object(PathBuf, os::File),
}

/// Open `path`, check its headers, and tell whether that file is loaded already.
pub fn open_path(path: &Path, known: &dyn Known) -> Result<Found> {
    let f = os::File::open(path)
        .map_err(|e| Error::Io { file: path.to_string_lossy().into_owned(), reason: crate::error::io_reason(&e) })?;
    checked(path, f, known)
}

/// A path given to `rl_open` (one with a slash) with its dynamic string tokens expanded, as
/// dlopen expands them: `$ORIGIN` is `origin`, the directory of the object that made the call.
/// A token without a value leaves no file to open.
pub fn expand_path<'a>(given: &'a str, origin: search::Origin<'_>) -> Result<Cow<'a, str>> {
    if !given.contains('$') {
        return Ok(Cow::Borrowed(given));
    }
    search::expand_dst(given, origin)
        .map(Cow::Owned)
        .ok_or_else(|| Error::Io { file: given.to_string(), reason: "No such file or directory".into() })
}

/// [`open_path`] for the expansion `path` of a path `given` to `rl_open`: a file that cannot be
/// opened is reported under the name given, as glibc reports it.
pub fn open_given(given: &str, path: &str, known: &dyn Known) -> Result<Found> {
    open_path(Path::new(path), known).map_err(|e| match e {
        Error::Io { reason, .. } if given != path => {
            Error::Io { file: given.to_string(), reason: format!("{reason} (expanded to {path})") }
        }
        e => e,
    })
}

/// A search candidate: like [`open_path`], but a file that cannot be opened is just skipped
/// (most candidates do not exist; their errors are never formatted). A file that exists but is
/// refused is skipped too, and why goes into `skipped`.
fn try_candidate(path: &Path, known: &dyn Known, skipped: &mut Vec<Error>) -> Option<Found> {
    match checked(path, os::File::open(path).ok()?, known) {
        Ok(found) => Some(found),
        Err(e) => {
            skipped.push(e);
            None
        }
    }
}

fn checked(path: &Path, f: os::File, known: &dyn Known) -> Result<Found> {
    let src = Source::File(f);
    let name = path.to_string_lossy();
    // One read serves both: telling objects and archives (to link) from shared objects, and
    // the headers of the latter.
    let head = map::read_head(&src, &name)?;
    let linkable = head.len() >= 18 && crate::link::is_linkable(&head);
    let layout = if linkable { None } else { Some(map::layout_from_head(&src, &head, &name)?) };
    let Source::File(f) = src else { unreachable!("made from a file above") };
    let Some(layout) = layout else {
        return Ok(match known.by_file(f.id, None) {
            Some(m) => Found::Existing(m),
            None => Found::Object(path.to_path_buf(), f),
        });
    };
    let dynamic = layout.dynamic.as_ref().map(|d| (d.p_vaddr, d.p_memsz));
    Ok(match known.by_file(f.id, dynamic) {
        Some(m) => Found::Existing(m),
        None => Found::File(path.to_path_buf(), f, Box::new(layout)),
    })
}

/// Find `name`, which has no slash (the caller checked), as object `requester` (None: the
/// program, as for `rl_open`) would: a loaded object that answers to it, else a file in the
/// search path.
pub fn find(name: &str, requester: Option<&Module>, known: &dyn Known) -> Option<Found> {
    debug_assert!(!name.contains('/'));
    known.by_name(name.as_bytes()).map(Found::Existing).or_else(|| search_for(name, requester, known, &mut Vec::new()))
}

/// [`find`], telling in `skipped` why each candidate file that exists was passed over.
pub fn find_noting(name: &str, requester: Option<&Module>, known: &dyn Known, skipped: &mut Vec<Error>) -> Option<Found> {
    if !name.contains('/') {
        if let Some(m) = known.by_name(name.as_bytes()) {
            return Some(Found::Existing(m));
        }
    }
    search_for(name, requester, known, skipped)
}

/// The search strings of `requester` (DT_RPATH, its and then the program's, when it has no
/// DT_RUNPATH; its DT_RUNPATH), each with the `$ORIGIN` of the object it comes from.
pub fn search_paths<'a>(requester: Option<&'a Module>, program: Option<&'a Module>) -> SearchPaths<'a> {
    let str_of = |m: &'a Module, off: Option<u32>| off.and_then(|o| m.string(o)).and_then(|s| std::str::from_utf8(s).ok());
    let mut paths = SearchPaths { rpath: Vec::new(), runpath: None };
    let mut chain: Vec<&Module> = requester.into_iter().collect();
    if let Some(p) = program {
        if !chain.iter().any(|m| m.id == p.id) {
            chain.push(p);
        }
    }
    let own_runpath = requester.and_then(|r| str_of(r, r.dynamic.runpath));
    if own_runpath.is_none() {
        for m in &chain {
            if str_of(m, m.dynamic.runpath).is_some() && m.id != chain[0].id {
                break;
            }
            if let Some(rp) = str_of(m, m.dynamic.rpath) {
                paths.rpath.push((rp, m.origin()));
            }
        }
    }
    if let (Some(r), Some(rp)) = (requester, own_runpath) {
        paths.runpath = Some((rp, r.origin()));
    }
    paths
}

/// Find `name` in the file system as object `requester` would, telling in `skipped` why each
/// candidate file that exists was passed over.
fn search_for(name: &str, requester: Option<&Module>, known: &dyn Known, skipped: &mut Vec<Error>) -> Option<Found> {
    // rl_open searches as dlopen called from the program does: with the program's paths.
    let program = known.program();
    let requester = requester.or(program.as_deref());
    let paths = search_paths(requester, program.as_deref());
    // A candidate that cannot be opened or is not for this machine is skipped, as glibc does.
    let first_skipped = skipped.len();
    search::search(name, requester.map_or(search::Origin::Dir(None), |r| r.origin()), &paths, |p| try_candidate(p, known, skipped)).or_else(
        || skipped[first_skipped..].iter().any(|e| matches!(e, Error::WrongClass { .. })).then_some(Found::OtherClass),
    )
}

/// Map `root` and, breadth-first, every dependency that is not loaded yet.
pub fn load_group(root: Module, known: &dyn Known, next_id: &mut dyn FnMut() -> u64) -> Result<Group> {
    map_group(root, known, next_id, &mut |u| Err(u.error))
}

/// A DT_NEEDED entry that could not be had.
pub struct Unmet {
    /// The object that needs it (an index into [`Group::modules`]).
    pub needed_by: usize,
    /// Its position among that object's DT_NEEDED entries.
    pub position: usize,
    pub error: Error,
    /// Candidate files the search found and passed over, each with why.
    pub skipped: Vec<Error>,
}

/// [`load_group`], handing each dependency that cannot be had to `unmet`: an error stops the
/// walk; `Ok` goes on without that dependency.
pub fn map_group(
    root: Module,
    known: &dyn Known,
    next_id: &mut dyn FnMut() -> u64,
    unmet: &mut dyn FnMut(Unmet) -> Result<()>,
) -> Result<Group> {
    let mut modules: Vec<Arc<Module>> = vec![Arc::new(root)];
    let mut deps: Vec<Vec<Arc<Module>>> = Vec::new();
    let mut i = 0;
    while i < modules.len() {
        let m = modules[i].clone();
        let mut mine = Vec::new();
        for (position, &off) in m.dynamic.needed.iter().enumerate() {
            let mut skipped = Vec::new();
            match needed_object(&m, off, &mut modules, known, next_id, &mut skipped) {
                Ok(dep) => mine.extend(dep),
                Err(error) => unmet(Unmet { needed_by: i, position, error, skipped })?,
            }
        }
        deps.push(mine);
        i += 1;
    }
    Ok(Group { modules, deps })
}

/// The object DT_NEEDED entry `off` of `m` denotes: one loaded already (the host's first), one
/// of `group` (mapped earlier in this walk), or a new one mapped and added to `group`. Never `m`
/// itself, whose SONAME may be the name it needs: when the search finds `m`'s own file, there
/// is no dependency (`None`).
fn needed_object(
    m: &Module,
    off: u32,
    group: &mut Vec<Arc<Module>>,
    known: &dyn Known,
    next_id: &mut dyn FnMut() -> u64,
    skipped: &mut Vec<Error>,
) -> Result<Option<Arc<Module>>> {
    let needed = m.string(off).ok_or_else(|| Error::Malformed { file: m.name().to_string(), reason: "DT_NEEDED name out of bounds".into() })?;
    let needed = String::from_utf8_lossy(needed).into_owned();
    if !needed.contains('/') {
        let other = || group.iter().find(|g| g.id != m.id && g.answers_to(needed.as_bytes())).cloned();
        if let Some(g) = known.by_name(needed.as_bytes()).or_else(other) {
            return Ok(Some(g));
        }
    }
    match search_for(&needed, Some(m), known, skipped) {
        Some(Found::Existing(e)) => Ok(Some(e)),
        Some(Found::File(path, f, layout)) => {
            if let Some(g) = group.iter().find(|g| g.file_id() == Some(f.id)) {
                // The object's own file: it depends on nothing new, and must not hold itself.
                return Ok((g.id != m.id).then(|| g.clone()));
            }
            let name = path.to_string_lossy().into_owned();
            let origin = origin_of(&path);
            let new = map::load(&Source::File(f), Some(*layout), &name, origin, next_id())
                .map_err(|e| Error::Dependency { file: m.name().to_string(), source: Box::new(e) })?;
            let new = Arc::new(new);
            group.push(new.clone());
            Ok(Some(new))
        }
        Some(Found::OtherClass) => {
            let source = Box::new(Error::WrongClass { file: needed });
            Err(Error::Dependency { file: m.name().to_string(), source })
        }
        Some(Found::Object(path, _)) => Err(Error::Unsupported {
            file: m.name().to_string(),
            what: format!("dependency {} is a relocatable object or an archive, not a shared library", path.display()),
        }),
        None => Err(Error::MissingDependency { file: m.name().to_string(), needed }),
    }
}

/// The breadth-first dependency scope of `root` (itself first), given each object's direct
/// dependencies.
pub fn local_scope(root: &Arc<Module>, deps_of: &dyn Fn(&Module) -> Vec<Arc<Module>>) -> Vec<Arc<Module>> {
    let mut out = vec![root.clone()];
    let mut i = 0;
    while i < out.len() {
        for d in deps_of(&out[i]) {
            if !out.iter().any(|o| o.id == d.id) {
                out.push(d);
            }
        }
        i += 1;
    }
    out
}

/// A definition found by a lookup.
#[derive(Clone, Copy)]
pub struct Binding<'a> {
    pub module: &'a Module,
    pub sym: &'static Sym,
}

impl Binding<'_> {
    /// The symbol's runtime address (calling the resolver of an IFUNC).
    #[inline]
    pub fn address(&self) -> Result<usize> {
        let a = self.value();
        if self.sym.kind() != elf::abi::STT_GNU_IFUNC {
            return Ok(a);
        }
        call_resolver(self.module, a)
    }

    /// The symbol's value as an address (for an IFUNC, its resolver's).
    #[inline]
    pub fn value(&self) -> usize {
        // An absolute symbol's value is not relative to the object (glibc 2.28 and later).
        let base = if self.sym.st_shndx == elf::abi::SHN_ABS { 0 } else { self.module.bias };
        base.wrapping_add(self.sym.st_value as usize)
    }
}

/// Call an IFUNC resolver of `m` at `addr`, once it is known to be code of `m`.
pub fn call_resolver(m: &Module, addr: usize) -> Result<usize> {
    if m.image.is_some() && m.dynamic.textrel {
        return Err(Error::Unsupported {
            file: m.name().to_string(),
            what: "an IFUNC in an object with text relocations (its code is not executable while it is relocated)".into(),
        });
    }
    if !m.is_code(addr) {
        return Err(Error::Malformed {
            file: m.name().to_string(),
            reason: format!("IFUNC resolver at {:#x} lies outside the object's code", addr.wrapping_sub(m.bias)),
        });
    }
    // SAFETY: `addr` is code of a relocated object (lookups only reach such objects, or objects
    // of the current group, relocated dependencies first).
    Ok(unsafe { crate::arch::call_ifunc(addr) })
}


/// Look `q` up through `scope`, in order. The scope is walked with `find_map`, which a chain of
/// parts (a lazy binding's scope) runs as one tight loop per part.
pub fn lookup<'a, I>(scope: I, q: &Query) -> Option<Binding<'a>>
where
    I: IntoIterator<Item = &'a Module>,
{
    let found = scope.into_iter().find_map(|m| Some((m, m.symtab.lookup(q)?)))?;
    Some(Binding { module: found.0, sym: found.0.symtab.sym(found.1)? })
}

/// Check that each dependency defines the versions `m` needs from it (glibc does this before
/// relocating, so that a missing version is reported as such rather than as a missing symbol).
pub fn check_versions(m: &Module, deps: &[Arc<Module>]) -> Result<()> {
    for (version, file, weak) in m.symtab.needed_versions() {
        let Some(dep) = deps.iter().find(|d| d.answers_to(file)) else { continue };
        if !weak && !dep.symtab.defines_version(&version) {
            return Err(Error::MissingVersion {
                file: m.name().to_string(),
                version: String::from_utf8_lossy(version.name).into_owned(),
                needed: dep.name().to_string(),
            });
        }
    }
    Ok(())
}

/// The order a relocation's symbol is looked up in, as glibc does: the object itself first under
/// DT_SYMBOLIC; then the global scope, the extra handles and the object's own dependency scope,
/// or with RL_DEEPBIND its own scope first.
pub fn binding_scope<'a, M: std::ops::Deref<Target = Module>>(
    m: &'a Module,
    global: &'a [M],
    extra: &'a [M],
    local: &'a [M],
    deepbind: bool,
) -> impl Iterator<Item = &'a Module> + Clone {
    let own = std::iter::once(m).filter(|m| m.dynamic.symbolic);
    let (first, second, third) = if deepbind { (local, global, extra) } else { (global, extra, local) };
    own.chain(first.iter().chain(second).chain(third).map(|m| &**m))
}
