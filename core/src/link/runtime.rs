//! The runtime object: what a normal link takes from crtbeginS.o and libc_nonshared.a, built in
//! memory and linked into a unit that refers to any of it (as an archive member would be):
//!
//! - `__dso_handle`, the unit's identity for `__cxa_atexit` and `__cxa_thread_atexit_impl`;
//! - a finalizer that calls `__cxa_finalize(&__dso_handle)`, placed in `.fini_array` where
//!   crtbeginS.o's is: C++ static destructors and `atexit` handlers of the unit run when it is
//!   unloaded, after its other plain finalizers;
//! - `atexit`, `at_quick_exit` and `pthread_atfork`, which pass the unit's handle on.

use super::object::{Object, Reloc, Relocs, Section, Sym};
use super::arch;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use elf::abi;
use once_cell::race::OnceBox;

/// The names whose reference pulls the runtime object in.
pub const SYMBOLS: &[&str] = &["__dso_handle", "atexit", "at_quick_exit", "pthread_atfork"];

const FINI: &str = "__relink_unit_fini";

/// The functions' code, one after the other, 16-byte aligned.
static TEXT: OnceBox<(Vec<u8>, Vec<u64>)> = OnceBox::new();

fn text() -> (Vec<u8>, Vec<u64>) {
    let mut text = Vec::new();
    let mut at = Vec::new();
    for f in arch::RUNTIME_FNS {
        text.resize(text.len().next_multiple_of(16), 0xcc);
        at.push(text.len() as u64);
        text.extend_from_slice(f.code);
    }
    (text, at)
}

static ZERO: [u8; 8] = [0; 8];

fn section(name: &'static str, ty: u32, flags: u32, data: &'static [u8], align: u64) -> Section<'static> {
    Section { name: name.as_bytes(), ty, flags: flags as u64, size: data.len() as u64, align, data, relocs: Relocs::default(), live: true, addr: 0 }
}

/// A fresh copy of the runtime object.
pub fn object() -> Object<'static> {
    let (text, at) = TEXT.get_or_init(|| Box::new(text()));
    let sym = |name: &'static str, value: u64, shndx: u32, bind: u8, kind: u8, vis: u8| Sym {
        name: name.as_bytes(),
        value,
        size: 0,
        shndx,
        bind,
        kind,
        vis,
    };
    // Sections: 1 .text, 2 .data.rel.ro (__dso_handle), 3 .fini_array.
    let mut syms = vec![sym("", 0, 0, abi::STB_LOCAL, abi::STT_NOTYPE, 0)];
    let mut first_global = 1;
    for (f, &off) in arch::RUNTIME_FNS.iter().zip(at) {
        if f.name == FINI {
            syms.insert(1, sym(FINI, off, 1, abi::STB_LOCAL, abi::STT_FUNC, abi::STV_DEFAULT));
            first_global += 1;
        } else {
            // Weak: an object's own definition wins. Hidden: not exported from the unit.
            syms.push(sym(f.name, off, 1, abi::STB_WEAK, abi::STT_FUNC, abi::STV_HIDDEN));
        }
    }
    syms.push(sym("__dso_handle", 0, 2, abi::STB_GLOBAL, abi::STT_OBJECT, abi::STV_HIDDEN));
    let index_of = |name: &'static str, syms: &mut Vec<Sym<'static>>| -> u32 {
        if let Some(i) = syms.iter().position(|s| s.name == name.as_bytes()) {
            return i as u32;
        }
        // An external reference; only the finalizer's is weak (the C library may lack it).
        let bind = if name == "__cxa_finalize" { abi::STB_WEAK } else { abi::STB_GLOBAL };
        syms.push(sym(name, 0, 0, bind, abi::STT_NOTYPE, abi::STV_DEFAULT));
        (syms.len() - 1) as u32
    };
    let mut text_relocs = Vec::new();
    for (f, &off) in arch::RUNTIME_FNS.iter().zip(at) {
        for &(at, ty, target, addend) in f.relocs {
            let sym = index_of(target, &mut syms);
            text_relocs.push(Reloc { offset: off + at as u64, ty, sym, addend });
        }
    }
    let dso = index_of("__dso_handle", &mut syms);
    let fini = index_of(FINI, &mut syms);
    let mut sections = vec![
        section("", abi::SHT_NULL, 0, &[], 1),
        section(".text", abi::SHT_PROGBITS, abi::SHF_ALLOC | abi::SHF_EXECINSTR, text, 16),
        section(".data.rel.ro", abi::SHT_PROGBITS, abi::SHF_ALLOC | abi::SHF_WRITE, &ZERO, 8),
        section(".fini_array", abi::SHT_FINI_ARRAY, abi::SHF_ALLOC | abi::SHF_WRITE, &ZERO, 8),
    ];
    sections[0].live = false;
    sections[1].relocs = Relocs::from_list(&text_relocs);
    // __dso_handle holds its own address, as crtbeginS.o's does.
    sections[2].relocs = Relocs::from_list(&[Reloc { offset: 0, ty: arch::dynrel::ABS64, sym: dso, addend: 0 }]);
    sections[3].relocs = Relocs::from_list(&[Reloc { offset: 0, ty: arch::dynrel::ABS64, sym: fini, addend: 0 }]);
    Object {
        name: "<relink runtime>".into(),
        sections,
        syms,
        first_global,
        groups: Vec::new(),
        globals: Vec::new(),
        exec_stack: false,
    }
}
