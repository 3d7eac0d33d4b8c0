//! Inspection: what relink would make of a file, found out without running any of its code.
//!
//! [`Tree::open`] resolves a library and its dependencies as `rl_open` would in this process:
//! it maps the objects it has to read, as an open maps them, but never relocates or initializes
//! one (no IFUNC resolver, constructor or other code of theirs runs), never enters one in
//! relink's table of loaded objects, and unmaps them all when the [`Tree`] is dropped. Objects
//! the process has loaded already (the system loader's, relink's) are reused, as an open reuses
//! them. [`check`] validates a file as relink validates what it is asked to load: shared
//! objects, and the ELF and `ar` structure of relocatable objects and archives.
//!
//! The `relink` command-line tool is built on this module.

use crate::error::{Error, Result};
use crate::hooks::Lookups;
use crate::map::{self, Source};
use crate::module::Module;
use crate::raw::Sym;
use crate::relocate::{self, Target};
use crate::resolve::{self, Binding, Found, Known, Unmet};
use crate::symbols::{Query, Version};
use crate::{os, parse};
use elf::abi;
use elf::endian::LittleEndian;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// Ids of the objects an inspection maps: far above the registry's, which they are compared with.
const FIRST_ID: u64 = 1 << 62;

/// Where an object comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The system loader has it loaded in this process (the program, a library loaded at
    /// start-up or with `dlopen`): relink reuses it.
    Host,
    /// relink has it loaded in this process already: it is reused.
    Loaded,
    /// relink would map it from its file.
    File,
}

/// One object of a dependency tree.
#[derive(Debug)]
pub struct Object {
    /// The path it is loaded from (for some host objects, the system loader's name for it).
    pub path: String,
    pub soname: Option<String>,
    pub origin: Origin,
    /// Its `DT_NEEDED` entries, in order, each with what it resolves to. Empty for objects
    /// loaded already, whose dependencies were loaded with them.
    pub needed: Vec<Needed>,
}

/// A `DT_NEEDED` entry.
#[derive(Debug)]
pub struct Needed {
    pub name: String,
    pub outcome: Outcome,
}

/// What a `DT_NEEDED` entry resolves to.
#[derive(Debug)]
pub enum Outcome {
    /// An object of the tree: an index into [`Tree::objects`].
    Found(usize),
    /// Nothing relink can load.
    Missing(Missing),
}

/// Why a library cannot be had.
#[derive(Debug)]
pub struct Missing {
    /// The error an open would report.
    pub error: Error,
    /// Files the library search found under the name and passed over, each with why (a 32-bit
    /// object, an executable stack, ...).
    pub skipped: Vec<Error>,
}

/// A library and its dependencies as an open in this process would resolve them, mapped but
/// neither relocated nor initialized.
pub struct Tree {
    objects: Vec<Object>,
    /// The object behind each entry of `objects`.
    modules: Vec<Arc<Module>>,
    /// The root's breadth-first dependency scope.
    scope: Vec<Arc<Module>>,
    /// The process's global scope when the tree was made.
    global: Vec<Arc<Module>>,
    /// Versions objects need that their dependencies do not define.
    versions: Vec<Error>,
}

impl std::fmt::Debug for Tree {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tree").field("objects", &self.objects).field("versions", &self.versions).finish()
    }
}

impl Tree {
    /// Resolve `file` as `rl_open(file, …)` called from the program would: a name with a slash is
    /// a path (its dynamic string tokens expanded), a bare name is searched for. Fails only when
    /// `file` itself cannot be had; what its dependencies lack is in the tree.
    pub fn open(file: &str) -> std::result::Result<Tree, Missing> {
        crate::registry::with_view(|known, global| Tree::build(file, known, global))
    }

    fn build(file: &str, known: &dyn Known, global: &[Arc<Module>]) -> std::result::Result<Tree, Missing> {
        let refused = |error| Missing { error, skipped: Vec::new() };
        let mut skipped = Vec::new();
        let found = if file.contains('/') {
            let program = known.program();
            let origin = program.as_ref().map_or(crate::search::Origin::Dir(None), |p| p.origin());
            let path = resolve::expand_path(file, origin).map_err(refused)?;
            resolve::open_given(file, &path, known).map_err(refused)?
        } else {
            resolve::find_noting(file, None, known, &mut skipped).ok_or_else(|| Missing {
                error: Error::Io {
                    file: file.to_string(),
                    reason: "No such file or directory (not found in the library search path)".into(),
                },
                skipped: std::mem::take(&mut skipped),
            })?
        };
        let mut next_id = FIRST_ID;
        let mut ids = || {
            next_id += 1;
            next_id - 1
        };
        let root = match found {
            Found::Existing(m) => return Ok(Tree::existing(m, known, global)),
            Found::File(path, f, layout) => {
                let name = path.to_string_lossy().into_owned();
                map::load(&Source::File(f), Some(*layout), &name, resolve::origin_of(&path), ids()).map_err(refused)?
            }
            Found::OtherClass => return Err(refused(Error::WrongClass { file: file.to_string() })),
            Found::Object(path, _) => {
                return Err(refused(Error::Unsupported {
                    file: path.to_string_lossy().into_owned(),
                    what: "a relocatable object or an archive: its dependencies are decided when it is linked (`relink check` validates it)".into(),
                }))
            }
        };
        let mut unmet: Vec<Unmet> = Vec::new();
        let group = resolve::map_group(root, known, &mut ids, &mut |u| {
            unmet.push(u);
            Ok(())
        })
        .map_err(refused)?;

        let mut tree = Tree { objects: Vec::new(), modules: Vec::new(), scope: Vec::new(), global: global.to_vec(), versions: Vec::new() };
        let mut index: HashMap<u64, usize> = HashMap::new();
        for m in group.modules.iter().chain(group.deps.iter().flatten()) {
            if let std::collections::hash_map::Entry::Vacant(e) = index.entry(m.id) {
                e.insert(tree.objects.len());
                tree.push(m.clone(), Vec::new());
            }
        }
        for (i, (m, deps)) in group.modules.iter().zip(&group.deps).enumerate() {
            let mut found = deps.iter();
            for (position, &off) in m.dynamic.needed.iter().enumerate() {
                let name = m.string(off).map_or_else(String::new, |s| String::from_utf8_lossy(s).into_owned());
                let outcome = match unmet.iter().position(|u| u.needed_by == i && u.position == position) {
                    Some(u) => {
                        let Unmet { error, skipped, .. } = unmet.swap_remove(u);
                        Outcome::Missing(Missing { error, skipped })
                    }
                    None => Outcome::Found(found.next().map_or(0, |d| index[&d.id])),
                };
                tree.objects[i].needed.push(Needed { name, outcome });
            }
            if let Err(e) = resolve::check_versions(m, deps) {
                tree.versions.push(e);
            }
        }
        let group_index: HashMap<u64, usize> = group.modules.iter().enumerate().map(|(i, m)| (m.id, i)).collect();
        let deps_of = |m: &Module| match group_index.get(&m.id) {
            Some(&i) => group.deps[i].clone(),
            None => known.deps_of(m),
        };
        tree.scope = resolve::local_scope(&group.modules[0], &deps_of);
        Ok(tree)
    }

    /// The tree of an object the process has loaded already.
    fn existing(m: Arc<Module>, known: &dyn Known, global: &[Arc<Module>]) -> Tree {
        let scope = resolve::local_scope(&m, &|o: &Module| known.deps_of(o));
        let mut tree = Tree { objects: Vec::new(), modules: Vec::new(), scope, global: global.to_vec(), versions: Vec::new() };
        tree.push(m, Vec::new());
        tree
    }

    fn push(&mut self, m: Arc<Module>, needed: Vec<Needed>) {
        let origin = match (m.is_host, m.id >= FIRST_ID) {
            (true, _) => Origin::Host,
            (false, true) => Origin::File,
            (false, false) => Origin::Loaded,
        };
        let soname = m.soname.map(|s| String::from_utf8_lossy(s).into_owned());
        self.objects.push(Object { path: m.name().to_string(), soname, origin, needed });
        self.modules.push(m);
    }

    /// The objects, the root first, then the ones it pulls in, breadth-first.
    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    /// Every `DT_NEEDED` entry that cannot be had: the object that needs it, the entry.
    pub fn missing(&self) -> impl Iterator<Item = (&Object, &Needed, &Missing)> {
        self.objects.iter().flat_map(|o| {
            o.needed.iter().filter_map(move |n| match &n.outcome {
                Outcome::Missing(m) => Some((o, n, m)),
                Outcome::Found(_) => None,
            })
        })
    }

    /// Versions objects of the tree need that the dependency named for them does not define
    /// (an open fails on the first one).
    pub fn version_errors(&self) -> &[Error] {
        &self.versions
    }

    /// Whether an open would get past loading the dependencies: nothing missing, every version
    /// needed defined. (Binding symbols comes after; see [`Tree::unresolved`].)
    pub fn loads(&self) -> bool {
        self.missing().next().is_none() && self.versions.is_empty()
    }

    /// The paths of the objects of the process's global scope, in lookup order.
    pub fn global_scope(&self) -> Vec<&str> {
        self.global.iter().map(|m| m.name()).collect()
    }

    /// The references of the objects relink would map that binding would refuse: undefined
    /// symbols and versions, looked up as the open's relocations look them up (the global scope,
    /// then the root's dependency scope), lookup hooks left out.
    pub fn unresolved(&self) -> Vec<Error> {
        let mut out = Vec::new();
        for (m, o) in self.modules.iter().zip(&self.objects) {
            if o.origin != Origin::File {
                continue;
            }
            for (idx, _) in m.symtab.references() {
                if let Err(e) = relocate::target(m, idx, self.binding_scope(m), &Lookups::default()) {
                    out.push(e);
                }
            }
        }
        out
    }

    /// The order a relocation of `m` looks symbols up in.
    fn binding_scope<'a>(&'a self, m: &'a Module) -> impl Iterator<Item = &'a Module> + Clone {
        resolve::binding_scope(m, &self.global, &[], &self.scope, false)
    }

    /// What `name` (in `version`, if given) resolves to for the root: through its own reference
    /// to it, `rl_sym`/`rl_vsym` on its handle, and `rl_sym(RL_DEFAULT, …)` from its code.
    pub fn symbol(&self, name: &str, version: Option<&str>) -> SymbolReport {
        let root = &self.modules[0];
        let reference = root.symtab.references().find(|(_, s)| root.symtab.name(s) == name.as_bytes()).map(|(idx, sym)| {
            let needed = root.symtab.needed_version(idx);
            let binds_to = relocate::target(root, idx, self.binding_scope(root), &Lookups::default()).map(|t| match t {
                Target::Runtime(_) => Resolution::Runtime,
                Target::Supplied(_) => Resolution::Supplied,
                Target::UndefinedWeak => Resolution::UndefinedWeak,
                Target::Definition(b) => Resolution::Definition(self.definition(b, true)),
            });
            Reference {
                version: needed.map(|v| lossy(v.name)),
                version_file: root.symtab.needed_from(idx).map(lossy),
                weak: sym.bind() == abi::STB_WEAK,
                binds_to,
            }
        });
        let mut q = Query::new(name.as_bytes(), version.map(|v| Version::new(v.as_bytes())));
        q.explicit = true;
        let handle = resolve::lookup(self.scope.iter().map(|m| &**m), &q).map(|b| self.definition(b, false));
        let default = resolve::lookup(self.global.iter().chain(&self.scope).map(|m| &**m), &q).map(|b| self.definition(b, true));
        SymbolReport { reference, handle, default }
    }

    /// Describe what a lookup found; `global` tells whether the lookup searched the global scope.
    fn definition(&self, b: Binding, global: bool) -> Definition {
        let m = b.module;
        let origin = match self.modules.iter().position(|o| o.id == m.id) {
            Some(i) => self.objects[i].origin,
            None if m.is_host => Origin::Host,
            None => Origin::Loaded,
        };
        let scope = if global && self.global.iter().any(|g| g.id == m.id) {
            Scope::Global
        } else if m.id == self.modules[0].id {
            Scope::Itself
        } else {
            Scope::Dependencies
        };
        let idx = m.symtab.index_of(b.sym);
        Definition {
            path: m.name().to_string(),
            origin,
            version: idx.and_then(|i| m.symtab.defined_version(i)).map(|v| lossy(v.name)),
            default_version: idx.is_none_or(|i| m.symtab.is_default_version(i)),
            kind: kind_name(b.sym),
            binding: binding_name(b.sym),
            scope,
        }
    }
}

fn lossy(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

fn kind_name(s: &Sym) -> &'static str {
    match s.kind() {
        abi::STT_FUNC => "FUNC",
        abi::STT_OBJECT => "OBJECT",
        abi::STT_TLS => "TLS",
        abi::STT_GNU_IFUNC => "IFUNC",
        abi::STT_COMMON => "COMMON",
        _ => "NOTYPE",
    }
}

fn binding_name(s: &Sym) -> &'static str {
    match s.bind() {
        abi::STB_WEAK => "WEAK",
        abi::STB_GNU_UNIQUE => "UNIQUE",
        abi::STB_LOCAL => "LOCAL",
        _ => "GLOBAL",
    }
}

/// What a name resolves to for the root of a [`Tree`].
#[derive(Debug)]
pub struct SymbolReport {
    /// The root's own reference to the name, if it has one, and what relocating it binds.
    pub reference: Option<Reference>,
    /// What `rl_sym` (`rl_vsym` with a version) on a handle of the root finds: the first
    /// definition in its breadth-first dependency scope.
    pub handle: Option<Definition>,
    /// What `rl_sym(RL_DEFAULT, …)` called from the root's code finds: the global scope first,
    /// then the root's group.
    pub default: Option<Definition>,
}

/// A reference of the root to a symbol.
#[derive(Debug)]
pub struct Reference {
    /// The version it asks for, and the file its version need names.
    pub version: Option<String>,
    pub version_file: Option<String>,
    pub weak: bool,
    /// What it binds to, or why binding fails (the open would fail with that error).
    pub binds_to: Result<Resolution>,
}

/// What a reference binds to.
#[derive(Debug)]
pub enum Resolution {
    Definition(Definition),
    /// One of relink's own runtime functions, which it binds in place of the C library's
    /// (`__tls_get_addr`, `__cxa_thread_atexit_impl`).
    Runtime,
    /// A value an `rl_define` symbol supplies.
    Supplied,
    /// Nothing defines it and the reference is weak: it gets 0.
    UndefinedWeak,
}

/// A definition a lookup found.
#[derive(Debug)]
pub struct Definition {
    /// The object defining it.
    pub path: String,
    pub origin: Origin,
    /// Its version, if it is versioned, and whether that is the default (`@@`) one.
    pub version: Option<String>,
    pub default_version: bool,
    /// `FUNC`, `OBJECT`, `TLS`, `IFUNC` (whose resolver an open would run), `COMMON`, `NOTYPE`.
    pub kind: &'static str,
    /// `GLOBAL`, `WEAK`, `UNIQUE` or `LOCAL`.
    pub binding: &'static str,
    /// The part of the lookup order it was found in.
    pub scope: Scope,
}

/// Where in a lookup order a definition was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// The process's global scope (the program, its start-up libraries, libraries opened
    /// `RL_GLOBAL`).
    Global,
    /// The root itself, outside the global scope.
    Itself,
    /// The root's dependencies (its group), outside the global scope.
    Dependencies,
}

// ---------------------------------------------------------------------------------------------
// Validating files.

/// What a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    SharedObject,
    Executable,
    Relocatable,
    Archive,
    /// Not a file relink knows how to read (or not one at all).
    Unknown,
}

/// What relink makes of a file given to [`check`].
#[derive(Debug)]
pub struct Verdict {
    pub kind: FileKind,
    /// Why relink refuses the file, if it does.
    pub refusal: Option<Error>,
    /// Facts about the file that are no reason to refuse it.
    pub notes: Vec<String>,
    /// For an archive, each member with its own verdict.
    pub members: Vec<(String, Verdict)>,
}

impl Verdict {
    /// Whether the file, and every member of an archive, passed.
    pub fn accepted(&self) -> bool {
        self.refusal.is_none() && self.members.iter().all(|(_, v)| v.accepted())
    }

    fn refused(kind: FileKind, e: Error) -> Verdict {
        Verdict { kind, refusal: Some(e), notes: Vec::new(), members: Vec::new() }
    }
}

const AR_MAGIC: &[u8] = b"!<arch>\n";
const AR_THIN_MAGIC: &[u8] = b"!<thin>\n";

/// Validate `path` as relink validates what it is asked to load, without running any of its
/// code. A shared object is checked as an open checks it (headers, then mapped and its dynamic
/// section, symbol tables and flags read), short of dependencies and relocation. Relocatable
/// objects and archives, which relink cannot load yet, get their ELF and `ar` structure checked.
pub fn check(path: &Path) -> Verdict {
    let name = path.to_string_lossy().into_owned();
    let bytes = match os::map_file(path) {
        Ok(b) => b,
        Err(e) => return Verdict::refused(FileKind::Unknown, Error::Io { file: name, reason: crate::error::io_reason(&e) }),
    };
    if bytes.starts_with(AR_MAGIC) {
        return check_archive(&bytes, &name);
    }
    if bytes.starts_with(AR_THIN_MAGIC) {
        let e = malformed(&name, "a thin archive, whose members are files of their own: check those".into());
        return Verdict::refused(FileKind::Archive, e);
    }
    let kind = match parse::file_header(&bytes[..bytes.len().min(parse::EHDR_SIZE)]) {
        Ok(h) if h.e_type == abi::ET_REL => return check_relocatable(&bytes, &name),
        Ok(h) if h.e_type == abi::ET_EXEC => FileKind::Executable,
        Ok(h) if h.e_type == abi::ET_DYN => FileKind::SharedObject,
        _ => FileKind::Unknown,
    };
    check_shared(path, &name, kind)
}

fn malformed(file: &str, reason: String) -> Error {
    Error::Malformed { file: file.to_string(), reason }
}

fn check_shared(path: &Path, name: &str, kind: FileKind) -> Verdict {
    let mapped = os::File::open(path)
        .map_err(|e| Error::Io { file: name.to_string(), reason: crate::error::io_reason(&e) })
        .and_then(|f| map::load(&Source::File(f), None, name, resolve::origin_of(path), FIRST_ID));
    let m = match mapped {
        Ok(m) => m,
        Err(e) => return Verdict::refused(kind, e),
    };
    let d = &m.dynamic;
    let mut notes = Vec::new();
    if let Some(s) = m.soname {
        notes.push(format!("SONAME {}", lossy(s)));
    }
    let needed: Vec<String> = d.needed.iter().filter_map(|&o| m.string(o)).map(lossy).collect();
    if !needed.is_empty() {
        notes.push(format!("needs {}", needed.join(", ")));
    }
    if m.tls_id.is_some() {
        notes.push("thread-local storage".into());
    }
    if d.textrel {
        notes.push("text relocations (its code is writable, not executable, while it is relocated)".into());
    }
    if d.bind_now() {
        notes.push("bound at load (BIND_NOW)".into());
    }
    if d.nodelete() {
        notes.push("never unloaded (NODELETE)".into());
    }
    Verdict { kind, refusal: None, notes, members: Vec::new() }
}

/// Check the structure of a relocatable object (`.o`): its headers, its sections' bounds and
/// links, its symbol and relocation tables.
fn check_relocatable(data: &[u8], name: &str) -> Verdict {
    match relocatable_notes(data, name) {
        Ok(notes) => Verdict { kind: FileKind::Relocatable, refusal: None, notes, members: Vec::new() },
        Err(e) => Verdict::refused(FileKind::Relocatable, e),
    }
}

fn relocatable_notes(data: &[u8], name: &str) -> Result<Vec<String>> {
    let bad = |reason: String| malformed(name, reason);
    parse::file_header(&data[..data.len().min(parse::EHDR_SIZE)]).map_err(|e| match e {
        parse::HeaderError::WrongClass => Error::WrongClass { file: name.to_string() },
        parse::HeaderError::Other(reason) => bad(reason),
    })?;
    let file = elf::ElfBytes::<LittleEndian>::minimal_parse(data).map_err(|e| bad(format!("bad file or section headers: {e}")))?;
    let (Some(shdrs), strtab) = file.section_headers_with_strtab().map_err(|e| bad(format!("bad section name table: {e}")))? else {
        return Err(bad("no section headers".into()));
    };
    let n = shdrs.len();
    let section_name = |i: usize, sh_name: u32| {
        let s = strtab.as_ref().and_then(|t| t.get_raw(sh_name as usize).ok()).unwrap_or(b"");
        format!("section {i} ({})", lossy(s))
    };
    let (mut symbols, mut relocations) = (0usize, 0usize);
    for (i, sh) in shdrs.iter().enumerate().skip(1) {
        let what = section_name(i, sh.sh_name);
        if let Some(t) = &strtab {
            t.get_raw(sh.sh_name as usize).map_err(|_| bad(format!("section {i}: name out of bounds")))?;
        }
        let (body, _) = file.section_data(&sh).map_err(|_| bad(format!("{what} lies past the end of the file")))?;
        if sh.sh_addralign > 1 && !sh.sh_addralign.is_power_of_two() {
            return Err(bad(format!("{what}: alignment {:#x} is not a power of two", sh.sh_addralign)));
        }
        let table = |size: u64| -> Result<usize> {
            if sh.sh_entsize != size || !(body.len() as u64).is_multiple_of(size) {
                return Err(bad(format!("{what}: entry size {} and size {:#x} do not fit {size}-byte entries", sh.sh_entsize, sh.sh_size)));
            }
            Ok(body.len() / size as usize)
        };
        let linked = |want: u32| -> Result<elf::section::SectionHeader> {
            shdrs
                .get(sh.sh_link as usize)
                .ok()
                .filter(|l| sh.sh_link != 0 && l.sh_type == want)
                .ok_or_else(|| bad(format!("{what}: sh_link {} is no section of type {want}", sh.sh_link)))
        };
        match sh.sh_type {
            abi::SHT_STRTAB if body.last().is_some_and(|&b| b != 0) => {
                return Err(bad(format!("{what}: string table does not end with a NUL")));
            }
            abi::SHT_SYMTAB => {
                let count = table(24)?;
                let names = file.section_data_as_strtab(&linked(abi::SHT_STRTAB)?).map_err(|e| bad(format!("{what}: {e}")))?;
                let syms: elf::symbol::SymbolTable<LittleEndian> = elf::parse::ParsingTable::new(LittleEndian, crate::parse::CLASS, body);
                for (k, s) in syms.iter().enumerate() {
                    if s.st_name != 0 {
                        names.get_raw(s.st_name as usize).map_err(|_| bad(format!("{what}: symbol {k}: name out of bounds")))?;
                    }
                    let special = s.st_shndx == abi::SHN_UNDEF || s.st_shndx >= abi::SHN_LORESERVE;
                    if !special && s.st_shndx as usize >= n {
                        return Err(bad(format!("{what}: symbol {k} is defined in section {}, which does not exist", s.st_shndx)));
                    }
                }
                symbols += count;
            }
            abi::SHT_RELA => {
                table(24)?;
                let symtab = linked(abi::SHT_SYMTAB)?;
                let nsyms = symtab.sh_size / 24;
                let target = shdrs.get(sh.sh_info as usize).ok().filter(|_| sh.sh_info != 0);
                let target = target.ok_or_else(|| bad(format!("{what}: relocates section {}, which does not exist", sh.sh_info)))?;
                let relas = file.section_data_as_relas(&sh).map_err(|e| bad(format!("{what}: {e}")))?;
                for (k, r) in relas.enumerate() {
                    if r.r_sym as u64 >= nsyms {
                        return Err(bad(format!("{what}: relocation {k} uses symbol {}, past the symbol table", r.r_sym)));
                    }
                    if target.sh_type != abi::SHT_NOBITS && r.r_offset >= target.sh_size {
                        return Err(bad(format!("{what}: relocation {k} at {:#x} lies past its section", r.r_offset)));
                    }
                    relocations += 1;
                }
            }
            abi::SHT_REL => return Err(bad(format!("{what}: REL relocations; this architecture uses RELA"))),
            abi::SHT_GROUP => {
                let count = table(4)?;
                linked(abi::SHT_SYMTAB)?;
                for k in 1..count {
                    let member = u32::from_le_bytes(body[k * 4..k * 4 + 4].try_into().unwrap_or_default());
                    if member == 0 || member as usize >= n {
                        return Err(bad(format!("{what}: group member {member} is no section")));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(vec![format!("{} sections, {symbols} symbols, {relocations} relocations", n)])
}

/// Check an `ar` archive: every member header, the symbol and long-name tables, and each
/// member as a relocatable object.
fn check_archive(data: &[u8], name: &str) -> Verdict {
    let mut verdict = Verdict { kind: FileKind::Archive, refusal: None, notes: Vec::new(), members: Vec::new() };
    match archive_members(data, name) {
        Ok((members, symbols)) => {
            verdict.notes.push(format!("{} members, {symbols} symbols in its index", members.len()));
            for (member, body) in members {
                let label = format!("{name}({member})");
                let v = if body.starts_with(b"\x7fELF") {
                    check_relocatable(body, &label)
                } else {
                    Verdict::refused(FileKind::Unknown, malformed(&label, "not an ELF object".into()))
                };
                verdict.members.push((member, v));
            }
        }
        Err(e) => verdict.refusal = Some(e),
    }
    verdict
}

/// An archive member: its name and bytes.
type Member<'a> = (String, &'a [u8]);

/// An archive's members, and the number of symbols its index lists.
fn archive_members<'a>(data: &'a [u8], name: &str) -> Result<(Vec<Member<'a>>, usize)> {
    const HEADER: usize = 60;
    let bad = |reason: String| malformed(name, reason);
    let mut at = AR_MAGIC.len();
    let mut members = Vec::new();
    let mut starts = Vec::new();
    let mut long_names: &[u8] = &[];
    let mut index: Option<(&[u8], usize)> = None;
    while at < data.len() {
        let h = data.get(at..at + HEADER).ok_or_else(|| bad(format!("truncated member header at offset {at:#x}")))?;
        if &h[58..60] != b"`\n" {
            return Err(bad(format!("bad member header at offset {at:#x}")));
        }
        let field = |r: std::ops::Range<usize>| std::str::from_utf8(&h[r]).map(str::trim_end).unwrap_or("\u{fffd}");
        let size: usize = field(48..58).parse().map_err(|_| bad(format!("bad member size {:?} at offset {at:#x}", field(48..58))))?;
        let body_at = at + HEADER;
        let body = body_at.checked_add(size).and_then(|end| data.get(body_at..end));
        let body = body.ok_or_else(|| bad(format!("member at offset {at:#x} ({size} bytes) runs past the end of the archive")))?;
        let raw_name = field(0..16);
        match raw_name {
            "/" => index = Some((body, 4)),
            "/SYM64/" => index = Some((body, 8)),
            "//" => long_names = body,
            _ => {
                let (member, body) = member_name(raw_name, body, long_names).ok_or_else(|| bad(format!("bad member name {raw_name:?} at offset {at:#x}")))?;
                starts.push(at);
                members.push((member, body));
            }
        }
        at = body_at + size + (size & 1);
    }
    let symbols = match index {
        Some((body, width)) => archive_index(body, width, &starts).map_err(|e| bad(format!("bad symbol index: {e}")))?,
        None => 0,
    };
    Ok((members, symbols))
}

/// A member's name (GNU `name/`, `/offset` into the long-name table, or BSD `#1/length` with the
/// name before the member's bytes) and its bytes.
fn member_name<'a>(raw: &str, body: &'a [u8], long_names: &[u8]) -> Option<(String, &'a [u8])> {
    if let Some(len) = raw.strip_prefix("#1/") {
        let len: usize = len.parse().ok()?;
        let name = body.get(..len)?;
        let name = name.split(|&b| b == 0).next().unwrap_or(name);
        return Some((lossy(name), &body[len..]));
    }
    if let Some(off) = raw.strip_prefix('/') {
        let rest = long_names.get(off.parse::<usize>().ok()?..)?;
        let end = rest.windows(2).position(|w| w == b"/\n")?;
        return Some((lossy(&rest[..end]), body));
    }
    Some((raw.strip_suffix('/').unwrap_or(raw).to_string(), body))
}

/// Check an archive's symbol index (big-endian count, that many member offsets, that many
/// names) against the member headers at `starts`; returns the number of symbols.
fn archive_index(body: &[u8], width: usize, starts: &[usize]) -> std::result::Result<usize, String> {
    let word = |at: usize| -> Option<u64> {
        let b = body.get(at..at.checked_add(width)?)?;
        Some(b.iter().fold(0u64, |v, &x| v << 8 | x as u64))
    };
    let count = word(0).ok_or("too short for its count")? as usize;
    let names_at = count.checked_add(1).and_then(|c| c.checked_mul(width)).filter(|&e| e <= body.len()).ok_or("more offsets than it holds")?;
    for k in 0..count {
        let off = word((k + 1) * width).ok_or("truncated")? as usize;
        if !starts.contains(&off) {
            return Err(format!("symbol {k} points at offset {off:#x}, where no member starts"));
        }
    }
    if body[names_at..].iter().filter(|&&b| b == 0).count() < count {
        return Err(format!("fewer names than its {count} symbols"));
    }
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic generator for the corruption tests.
    struct Lcg(u64);
    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0 >> 33
        }
    }

    /// An archive holding `members` (GNU format, with a long-name table and a symbol index
    /// pointing at the first member).
    fn archive(members: &[(&str, &[u8])]) -> Vec<u8> {
        fn header(out: &mut Vec<u8>, name: &str, size: usize) {
            out.extend_from_slice(format!("{name:<16}{:<12}{:<6}{:<6}{:<8}{size:<10}`\n", 0, 0, 0, 644).as_bytes());
        }
        let mut long = Vec::new();
        let mut names = Vec::new();
        for (n, _) in members {
            names.push(format!("/{}", long.len()));
            long.extend_from_slice(format!("{n}/\n").as_bytes());
        }
        let index_len = 4 + 4 + 4;
        let first = AR_MAGIC.len() + 60 + index_len + 60 + long.len() + (long.len() & 1);
        let mut out = AR_MAGIC.to_vec();
        header(&mut out, "/", index_len);
        out.extend_from_slice(&1u32.to_be_bytes());
        out.extend_from_slice(&(first as u32).to_be_bytes());
        out.extend_from_slice(b"sym\0");
        header(&mut out, "//", long.len());
        out.extend_from_slice(&long);
        if long.len() & 1 == 1 {
            out.push(b'\n');
        }
        for ((_, body), name) in members.iter().zip(&names) {
            header(&mut out, name, body.len());
            out.extend_from_slice(body);
            if body.len() & 1 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    #[test]
    fn archives_are_read() {
        let obj = std::fs::read("/usr/lib/x86_64-linux-gnu/crt1.o").expect("crt1.o");
        let a = archive(&[("a-rather-long-member-name.o", &obj), ("odd.txt", b"abc")]);
        let v = check_archive(&a, "t.a");
        assert!(v.refusal.is_none(), "{v:?}");
        assert_eq!(v.members.len(), 2);
        assert_eq!(v.members[0].0, "a-rather-long-member-name.o");
        assert!(v.members[0].1.accepted(), "{v:?}");
        assert!(v.members[1].1.refusal.as_ref().is_some_and(|e| e.to_string().contains("t.a(odd.txt)")), "{v:?}");
        // The index must point at member headers.
        let mut bad = a.clone();
        bad[AR_MAGIC.len() + 60 + 7] ^= 1;
        let v = check_archive(&bad, "t.a");
        assert!(v.refusal.as_ref().is_some_and(|e| e.to_string().contains("where no member starts")), "{v:?}");
    }

    #[test]
    fn corrupted_objects_and_archives_never_panic() {
        let obj = std::fs::read("/usr/lib/x86_64-linux-gnu/crt1.o").expect("crt1.o");
        let samples = [obj.clone(), archive(&[("x.o", &obj), ("y.o", &obj)])];
        let check = |d: &[u8]| {
            if d.starts_with(AR_MAGIC) {
                check_archive(d, "t.a")
            } else {
                check_relocatable(d, "t.o")
            }
        };
        let mut rng = Lcg(0x0b1ec7);
        for base in &samples {
            for len in (0..base.len()).step_by((base.len() / 300).max(1)) {
                let _ = check(&base[..len]);
            }
            for _ in 0..1500 {
                let mut d = base.clone();
                for _ in 0..1 + rng.next() % 8 {
                    let i = rng.next() as usize % d.len();
                    d[i] = rng.next() as u8;
                }
                let _ = check(&d);
            }
            for at in (0..base.len().saturating_sub(8)).step_by(8) {
                let mut d = base.clone();
                d[at..at + 8].copy_from_slice(&u64::MAX.to_le_bytes());
                let _ = check(&d);
            }
        }
    }
}
