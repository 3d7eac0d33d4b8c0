//! Symbol resolution for a unit: one table of global names across its objects, archive
//! members pulled in as `ld` pulls them, COMDAT groups kept once, COMMON symbols merged, and the
//! few symbols a normal link gets from the linker itself or from crt files.

use super::archive::Archive;
use super::object::{self, Object, NONE, SHN_COMMON};
use super::{runtime, Input, InputKind, Linker};
use super::{Error, Result};
use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;
use elf::abi;

/// How a global name is defined in the unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Def {
    /// Not in the unit: bound at load (or 0, for a weak reference nothing defines).
    Undef,
    /// By symbol `sym` of object `obj`.
    Sym { obj: u32, sym: u32 },
    /// COMMON, allocated by the layout (the largest size and alignment of its declarations).
    Common { obj: u32, size: u64, align: u64 },
    /// By the linker: `_GLOBAL_OFFSET_TABLE_`, `__start_SEC` / `__stop_SEC`.
    Synthetic,
}

/// One global name.
#[derive(Debug)]
pub struct Global<'a> {
    pub name: &'a [u8],
    pub def: Def,
    /// Some reference to it is not weak.
    pub strong_ref: bool,
    /// Some reference to it names a thread-local variable (its import is then one too).
    pub tls_ref: bool,
    /// The first object that referenced it without defining it.
    pub first_ref: u32,
    /// The most constraining visibility of all its declarations.
    pub vis: u8,
    /// For COMMON and synthetic definitions: the offset from the unit's base (set by the layout).
    pub addr: u64,
}

impl Global<'_> {
    /// Defined in the unit and visible outside it.
    pub fn exported(&self) -> bool {
        self.def != Def::Undef && matches!(self.vis, abi::STV_DEFAULT | abi::STV_PROTECTED)
    }
}

fn merge_vis(a: u8, b: u8) -> u8 {
    match (a, b) {
        (abi::STV_DEFAULT, v) | (v, abi::STV_DEFAULT) => v,
        (a, b) => a.min(b),
    }
}

impl<'a> Linker<'a> {
    /// Take the inputs in order: objects are linked, archives are kept for member pulling (or
    /// linked whole). Shared objects were loaded by the caller.
    pub fn load_inputs(&mut self, inputs: &[Input<'a>]) -> Result<()> {
        for input in inputs {
            match super::input_kind(input.data) {
                InputKind::Object => self.add_object(Object::parse(input.name.to_string(), input.data)?)?,
                InputKind::Archive => {
                    let a = Archive::parse(input.name, input.data)?;
                    // Room for the names its members define (most of which a link pulls).
                    self.names.reserve(a.index.len());
                    self.globals.reserve(a.index.len());
                    let ai = self.archives.len();
                    self.archives.push(a);
                    if input.whole_archive {
                        for m in 0..self.archives[ai].members.len() {
                            // Members that are not objects (an index of another kind, notes) define nothing.
                            if Object::is_object(self.archives[ai].members[m].data) {
                                self.take_member(ai, m)?;
                            }
                        }
                    }
                }
                InputKind::Shared => {}
                InputKind::Other => {
                    return Err(super::bad(input.name, "not an ELF relocatable object, an archive or a shared library"))
                }
            }
        }
        Ok(())
    }

    fn take_member(&mut self, a: usize, m: usize) -> Result<()> {
        let archive = &mut self.archives[a];
        archive.members[m].taken = true;
        let (name, data) = (archive.member_name(m), archive.members[m].data);
        self.add_object(Object::parse(name, data)?)
    }

    fn intern(&mut self, name: &'a [u8]) -> u32 {
        let n = self.globals.len() as u32;
        let globals = &mut self.globals;
        *self.names.entry(name).or_insert_with(|| {
            globals.push(Global { name, def: Def::Undef, strong_ref: false, tls_ref: false, first_ref: NONE, vis: abi::STV_DEFAULT, addr: 0 });
            n
        })
    }

    /// Add an object: keep or drop its COMDAT groups, and enter its global symbols.
    pub fn add_object(&mut self, mut obj: Object<'a>) -> Result<()> {
        if obj.exec_stack {
            return Err(Error::Link {
                file: obj.name.clone(),
                reason: "asks for an executable stack (.note.GNU-stack with SHF_EXECINSTR), which relink refuses".into(),
            });
        }
        let oi = self.objs.len() as u32;
        for (sig, members) in &obj.groups {
            if self.comdats.contains_key(sig) {
                for &m in members {
                    obj.sections[m as usize].live = false;
                }
            } else {
                self.comdats.insert(sig, oi);
            }
        }
        let mut ids = Vec::with_capacity(obj.syms.len() - obj.first_global);
        for i in obj.first_global..obj.syms.len() {
            let s = obj.syms[i];
            if s.bind == abi::STB_LOCAL {
                // A local symbol among the globals is malformed; it is kept local.
                ids.push(NONE);
                continue;
            }
            let id = self.intern(strip_version(s.name));
            ids.push(id);
            let g = &mut self.globals[id as usize];
            g.vis = merge_vis(g.vis, s.vis);
            let in_dropped_section = s.shndx < SHN_COMMON && s.defined() && !obj.sections[s.shndx as usize].live && obj.sections[s.shndx as usize].alloc();
            if !s.defined() || in_dropped_section {
                // A reference (a definition in a dropped COMDAT group refers to the kept one).
                g.strong_ref |= s.bind != abi::STB_WEAK;
                g.tls_ref |= s.kind == abi::STT_TLS;
                if g.first_ref == NONE {
                    g.first_ref = oi;
                }
                continue;
            }
            let weak = s.bind == abi::STB_WEAK;
            if s.shndx == SHN_COMMON {
                match &mut g.def {
                    Def::Undef => g.def = Def::Common { obj: oi, size: s.size, align: s.value.max(1) },
                    Def::Common { size, align, .. } => {
                        *size = (*size).max(s.size);
                        *align = (*align).max(s.value);
                    }
                    // A definition beats COMMON declarations.
                    _ => {}
                }
                continue;
            }
            match g.def {
                Def::Undef => g.def = Def::Sym { obj: oi, sym: i as u32 },
                // A strong definition replaces COMMON (and a weak one); a weak one does not.
                Def::Common { .. } if !weak => g.def = Def::Sym { obj: oi, sym: i as u32 },
                Def::Common { .. } | Def::Synthetic => {}
                Def::Sym { obj: o, sym: j } => {
                    // (The earlier definition may be in this same object.)
                    let (old_obj, old_bind) = match self.objs.get(o as usize) {
                        Some(x) => (x.name.as_str(), x.syms[j as usize].bind),
                        None => (obj.name.as_str(), obj.syms[j as usize].bind),
                    };
                    if old_bind == abi::STB_WEAK && !weak {
                        g.def = Def::Sym { obj: oi, sym: i as u32 };
                    } else if old_bind != abi::STB_WEAK && !weak {
                        return Err(Error::Link {
                            file: obj.name.clone(),
                            reason: format!("duplicate symbol: {} is defined in {} and in {}", object::show(g.name), old_obj, obj.name),
                        });
                    }
                }
            }
        }
        obj.globals = ids;
        self.objs.push(obj);
        Ok(())
    }

    /// Pull archive members, as `ld` does, while one defines a name some linked object refers to
    /// (a strong reference: weak ones pull nothing) and the unit does not define; then the
    /// runtime object if the unit needs it.
    pub fn pull_members(&mut self) -> Result<()> {
        let mut runtime_added = false;
        loop {
            let mut i = 0;
            while i < self.globals.len() {
                let g = &self.globals[i];
                i += 1;
                if g.def != Def::Undef || !g.strong_ref {
                    continue;
                }
                let name = g.name;
                let found = self.archives.iter().enumerate().find_map(|(a, ar)| {
                    ar.index.get(name).filter(|&&m| !ar.members[m].taken).map(|&m| (a, m))
                });
                if let Some((a, m)) = found {
                    self.take_member(a, m)?;
                }
            }
            if runtime_added {
                return Ok(());
            }
            let wanted = runtime::SYMBOLS
                .iter()
                .any(|n| self.names.get(n.as_bytes()).is_some_and(|&g| self.globals[g as usize].def == Def::Undef && self.globals[g as usize].strong_ref));
            if !wanted {
                return Ok(());
            }
            // (Its finalizer goes first among the plain .fini_array entries: see `array_order`.)
            self.runtime_obj = self.objs.len() as u32;
            self.add_object(runtime::object())?;
            runtime_added = true;
        }
    }

    /// After pulling: allocate nothing yet, but give the linker's own symbols their definitions
    /// and check references the unit must satisfy itself.
    pub fn finish_symbols(&mut self) -> Result<()> {
        for g in self.globals.iter_mut() {
            if g.def != Def::Undef {
                continue;
            }
            if g.name == b"_GLOBAL_OFFSET_TABLE_" {
                g.def = Def::Synthetic;
            } else if let Some(sec) = g.name.strip_prefix(b"__start_").or_else(|| g.name.strip_prefix(b"__stop_")) {
                if self.objs.iter().any(|o| o.sections.iter().any(|s| s.live && s.name == sec)) {
                    g.def = Def::Synthetic;
                }
            }
        }
        for g in &self.globals {
            if g.def == Def::Undef && g.strong_ref && g.vis != abi::STV_DEFAULT {
                let file = self.objs.get(g.first_ref as usize).map_or_else(|| self.unit.to_string(), |o| o.name.clone());
                return Err(Error::Link {
                    file,
                    reason: format!("undefined hidden symbol {}: it must be defined in the unit", object::show(g.name)),
                });
            }
        }
        Ok(())
    }
}

/// `foo@VER` / `foo@@VER` (a `.symver` name) as the plain name: units carry no versions.
pub fn strip_version(name: &[u8]) -> &[u8] {
    match object::find_byte(name, b'@') {
        Some(i) if i > 0 => &name[..i],
        _ => name,
    }
}
