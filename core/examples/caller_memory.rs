//! Load a small x86-64 shared object into bytes the caller owns, through relink-core's
//! `Memory` and `Resolver` traits: the core maps, relocates and protects without a system
//! call, and the object is linked to run at an address the caller picks (`RUN_BASE`), which
//! is what a kernel copying a module into place, or a test checking relocated bytes, needs.
//!
//! ```text
//! cargo run -p relink-core --example caller_memory -- libplugin.so [name=0xADDRESS ...]
//! ```
//!
//! prints where each of the object's symbols would run and, for data, the word it holds after
//! relocation. Undefined symbols are bound through the `name=address` pairs.
//!
//! This is a skeleton of the loader the core will hold: the ELF64 headers are read with the
//! `elf` crate and the relocation types are the four an object without TLS or IFUNC needs,
//! until relink's parser and x86-64 table move into the core. Constructors are not run.

use elf::endian::LittleEndian;
use elf::file::Class;
use elf::relocation::RelaIterator;
use elf::{abi, ElfBytes};
use relink_core::load::{self, Placed, Segment};
use relink_core::mem::{Buffer, Memory, Request, Resolver};
use relink_core::reloc::{Calc, Check, Field, Howto, Inputs, Usage};

/// The address the buffer's first byte will run at.
const RUN_BASE: u64 = 0x7000_0000;
const PAGE: usize = 4096;

/// The x86-64 dynamic relocations an object without TLS or IFUNC has (psABI table 4.9).
fn howto(r_type: u32) -> Option<Howto> {
    let word = |name, calc| Howto { name, usage: Usage::Dynamic, calc, field: Field::Word64, check: Check::None, align: 1 };
    Some(match r_type {
        abi::R_X86_64_NONE => Howto { field: Field::None, ..word("R_X86_64_NONE", Calc::None) },
        abi::R_X86_64_64 => word("R_X86_64_64", Calc::Abs),
        abi::R_X86_64_GLOB_DAT => word("R_X86_64_GLOB_DAT", Calc::Slot),
        abi::R_X86_64_JUMP_SLOT => word("R_X86_64_JUMP_SLOT", Calc::Slot),
        abi::R_X86_64_RELATIVE => word("R_X86_64_RELATIVE", Calc::Base),
        _ => return None,
    })
}

/// Load `image` into `mem`, binding its undefined symbols through `resolver`. The object's
/// own definitions bind inside it.
fn load_into(image: &[u8], mem: &mut Buffer, resolver: &mut dyn Resolver) -> Result<Placed, String> {
    let file = ElfBytes::<LittleEndian>::minimal_parse(image).map_err(|e| format!("not an ELF file: {e}"))?;
    if file.ehdr.class != Class::ELF64 || file.ehdr.e_machine != abi::EM_X86_64 || file.ehdr.e_type != abi::ET_DYN {
        return Err("not an x86-64 shared object".into());
    }
    let phdrs: Vec<_> = file.segments().ok_or("no program headers")?.iter().collect();
    let loads: Vec<Segment> = phdrs
        .iter()
        .filter(|p| p.p_type == abi::PT_LOAD)
        .map(|p| Segment { vaddr: p.p_vaddr, memsz: p.p_memsz, offset: p.p_offset, filesz: p.p_filesz, flags: p.p_flags })
        .collect();
    let align = phdrs.iter().filter(|p| p.p_type == abi::PT_LOAD).map(|p| p.p_align).max().unwrap_or(1);
    let relro = phdrs.iter().find(|p| p.p_type == abi::PT_GNU_RELRO).map(|p| (p.p_vaddr, p.p_memsz));
    let placed = load::place::<[u8], _>(mem, image, &loads, align).map_err(|e| format!("placing the segments: {e:?}"))?;
    let relocated = relocate(&file, mem, &placed, resolver).and_then(|()| {
        load::protect::<[u8], _>(mem, &placed, &loads, relro).map_err(|e| format!("protecting the segments: {e:?}"))
    });
    if let Err(e) = relocated {
        Memory::<[u8]>::release(mem, placed.span);
        return Err(e);
    }
    Ok(placed)
}

/// Apply DT_RELA and DT_JMPREL, read from the placed image.
fn relocate(file: &ElfBytes<LittleEndian>, mem: &mut Buffer, placed: &Placed, resolver: &mut dyn Resolver) -> Result<(), String> {
    let dynamic = file.dynamic().map_err(|e| e.to_string())?.ok_or("no dynamic section")?;
    let tag = |t| dynamic.iter().find(|d| d.d_tag == t).map(|d| d.d_val());
    let (symtab, strtab) = file.dynamic_symbol_table().map_err(|e| e.to_string())?.ok_or("no dynamic symbol table")?;
    let tables = [(tag(abi::DT_RELA), tag(abi::DT_RELASZ)), (tag(abi::DT_JMPREL), tag(abi::DT_PLTRELSZ))];
    for (addr, size) in tables {
        let (Some(addr), Some(size)) = (addr, size) else { continue };
        let size = usize::try_from(size).map_err(|_| "relocation table too large")?;
        let at = placed.offset(addr, size).ok_or("relocation table outside the image")?;
        let bytes = Memory::<[u8]>::bytes(mem, &placed.span, at, size).ok_or("relocation table not readable")?.to_vec();
        for r in RelaIterator::new(LittleEndian, Class::ELF64, &bytes) {
            let h = howto(r.r_type).ok_or_else(|| format!("relocation type {} is not handled", r.r_type))?;
            let mut x = Inputs { a: r.r_addend, p: placed.bias.wrapping_add(r.r_offset), b: placed.bias, ..Inputs::default() };
            if r.r_sym != 0 {
                let sym = symtab.get(r.r_sym as usize).map_err(|e| e.to_string())?;
                let name = strtab.get(sym.st_name as usize).map_err(|e| e.to_string())?;
                let weak = sym.st_bind() == abi::STB_WEAK;
                x = if !sym.is_undefined() {
                    Inputs { s: placed.bias.wrapping_add(sym.st_value), ..x }
                } else {
                    let request = Request { name: name.as_bytes(), version: None, version_file: None, weak, tls: sym.st_symtype() == abi::STT_TLS };
                    match resolver.resolve(&request) {
                        Some(d) => d.inputs(x),
                        None if weak => x,
                        None => return Err(format!("undefined symbol {name}")),
                    }
                };
            }
            let at = placed.offset(r.r_offset, 8).ok_or("relocation outside the image")?;
            let place = Memory::<[u8]>::bytes_mut(mem, &placed.span, at, 8).ok_or("relocation in a page that is not writable")?;
            h.apply(place, &x, 64).map_err(|e| format!("{} at {:#x}: {e:?}", h.name, r.r_offset))?;
        }
    }
    Ok(())
}

/// The object's defined symbols: name, `st_value`, size and type.
fn definitions(image: &[u8]) -> Vec<(String, u64, u64, u8)> {
    let Ok(file) = ElfBytes::<LittleEndian>::minimal_parse(image) else { return Vec::new() };
    let Ok(Some((symtab, strtab))) = file.dynamic_symbol_table() else { return Vec::new() };
    symtab
        .iter()
        .filter(|s| !s.is_undefined())
        .filter_map(|s| Some((strtab.get(s.st_name as usize).ok()?.to_string(), s.st_value, s.st_size, s.st_symtype())))
        .collect()
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: caller_memory LIBRARY.so [name=0xADDRESS ...]");
        std::process::exit(2);
    };
    let defined: Vec<(String, u64)> = args
        .filter_map(|a| {
            let (name, value) = a.split_once('=')?;
            Some((name.to_string(), u64::from_str_radix(value.trim_start_matches("0x"), 16).ok()?))
        })
        .collect();
    let image = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("caller_memory: {path}: {e}");
        std::process::exit(1);
    });
    let mut storage = vec![0u8; 1 << 20];
    let mut mem = Buffer::new(&mut storage, RUN_BASE, PAGE);
    let mut resolver = |r: &Request<'_>| {
        let value = defined.iter().find(|(n, _)| n.as_bytes() == r.name)?.1;
        Some(relink_core::mem::Definition::Address { value, size: 0 })
    };
    let placed = load_into(&image, &mut mem, &mut resolver).unwrap_or_else(|e| {
        eprintln!("caller_memory: {path}: {e}");
        std::process::exit(1);
    });
    println!("{path}: {:#x} bytes at {:#x} (bias {:#x})", placed.span.len, placed.span.base, placed.bias);
    for (name, value, size, kind) in definitions(&image) {
        let run = placed.bias.wrapping_add(value);
        let word = (kind == abi::STT_OBJECT && size == 8)
            .then(|| placed.offset(value, 8).and_then(|at| Memory::<[u8]>::bytes(&mem, &placed.span, at, 8)))
            .flatten()
            .map(|b| format!(" = {:#x}", u64::from_le_bytes(b.try_into().unwrap())))
            .unwrap_or_default();
        println!("  {name} at {run:#x}{word}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use relink_core::mem::{Definition, Prot};

    /// A shared object with a pointer to its own data (R_X86_64_RELATIVE), a pointer and a
    /// GOT entry for a symbol of the caller's (R_X86_64_64, R_X86_64_GLOB_DAT), a pointer
    /// in RELRO, and code; built without the C runtime.
    const SOURCE: &str = r#"
        int counter = 5;
        int *counter_ptr = &counter;
        extern int host_value;
        int *host_ptr = &host_value;
        const char *const greeting = "hello";
        int get(void) { return *counter_ptr + host_value; }
    "#;

    fn build(dir: &str) -> Vec<u8> {
        let dir = std::env::temp_dir().join(format!("relink-core-{}-{dir}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let (src, lib) = (dir.join("plugin.c"), dir.join("libplugin.so"));
        std::fs::write(&src, SOURCE).unwrap();
        let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let status = std::process::Command::new(cc)
            .args(["-shared", "-fPIC", "-nostdlib", "-O1", "-Wl,-z,now", "-Wl,-z,relro", "-Wl,-Bsymbolic", "-o"])
            .arg(&lib)
            .arg(&src)
            .status()
            .expect("a C compiler");
        assert!(status.success());
        let image = std::fs::read(lib).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        image
    }

    fn symbol(image: &[u8], name: &str) -> u64 {
        definitions(image).into_iter().find(|d| d.0 == name).unwrap_or_else(|| panic!("{name} not defined")).1
    }

    #[test]
    fn loads_into_a_buffer() {
        let image = build("caller_memory_loads");
        let mut storage = vec![0u8; 1 << 20];
        let mut mem = Buffer::new(&mut storage, RUN_BASE, PAGE);
        let mut asked = Vec::new();
        let mut resolver = |r: &Request<'_>| {
            asked.push(String::from_utf8_lossy(r.name).into_owned());
            (r.name == b"host_value").then_some(Definition::Address { value: 0x5555_0000, size: 4 })
        };
        let placed = load_into(&image, &mut mem, &mut resolver).unwrap();
        assert_eq!(placed.span.base, RUN_BASE);
        assert!(asked.iter().all(|n| n == "host_value") && !asked.is_empty(), "only the import is asked for: {asked:?}");

        let word = |mem: &Buffer, name: &str| {
            let at = placed.offset(symbol(&image, name), 8).unwrap();
            u64::from_le_bytes(Memory::<[u8]>::bytes(mem, &placed.span, at, 8).unwrap().try_into().unwrap())
        };
        // Pointers to the object's own data hold their run addresses.
        assert_eq!(word(&mem, "counter_ptr"), RUN_BASE + symbol(&image, "counter"));
        // The caller's symbol.
        assert_eq!(word(&mem, "host_ptr"), 0x5555_0000);
        // The RELRO pointer reaches the string, in the buffer at its run address's offset.
        let greeting = word(&mem, "greeting");
        let at = placed.offset(greeting - placed.bias, 6).unwrap();
        assert_eq!(Memory::<[u8]>::bytes(&mem, &placed.span, at, 6), Some(&b"hello\0"[..]));
        // Protections: code executable, RELRO read-only, data writable.
        assert_eq!(mem.prot_at(RUN_BASE + symbol(&image, "get")), Some(Prot::RX));
        assert_eq!(mem.prot_at(RUN_BASE + symbol(&image, "greeting")), Some(Prot::R));
        assert_eq!(mem.prot_at(RUN_BASE + symbol(&image, "counter")), Some(Prot::RW));
    }

    #[test]
    fn undefined_symbol_named_and_span_given_back() {
        let image = build("caller_memory_undefined");
        let mut storage = vec![0u8; 1 << 20];
        let mut mem = Buffer::new(&mut storage, RUN_BASE, PAGE);
        let mut nothing = |_: &Request<'_>| None;
        assert_eq!(load_into(&image, &mut mem, &mut nothing), Err("undefined symbol host_value".to_string()));
        // The span was released: the next load starts at the buffer's start again.
        let mut resolver = |_: &Request<'_>| Some(Definition::Address { value: 1, size: 0 });
        assert_eq!(load_into(&image, &mut mem, &mut resolver).unwrap().span.base, RUN_BASE);
        assert!(load_into(b"\x7fELF", &mut mem, &mut resolver).unwrap_err().starts_with("not an ELF file"));
    }
}
